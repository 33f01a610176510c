/*
 * test_base64.c: libcommon/base64.c against RFC 4648's test vectors (section
 * 10), its padding rules, and a round trip of every length up to 64 bytes.
 */
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "tap.h"

static void
rfc_vectors(void)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

	for (int i = 0; i < 7; i++) {
		char enc[16];
		uint8_t dec[16];
		size_t n = strlen(plain[i]), e = base64_encode_into(enc, (const uint8_t *)plain[i], n), bad;
		ptrdiff_t d = base64_decode_into(dec, coded[i], strlen(coded[i]), true, &bad);

		ok(e == strlen(coded[i]) && memcmp(enc, coded[i], e) == 0, "RFC 4648: \"%s\" encodes as \"%s\"",
			plain[i], coded[i]);
		ok(d == (ptrdiff_t)n && memcmp(dec, plain[i], n) == 0, "RFC 4648: \"%s\" decodes", coded[i]);
	}
}

static void
refusals(void)
{
	static const struct {
		const char *s;
		size_t bad;
	} cases[] = {
		{"Zg=", 3},      /* not a multiple of 4 */
		{"Z===", 1},     /* three pads */
		{"Zg=a", 3},     /* a character after a pad */
		{"Z=g=", 1},     /* a pad in the middle */
		{"Zm9v!A==", 4}, /* not of the alphabet */
		{"Zm9v\nA==", 4},
	};
	uint8_t out[16];
	size_t bad;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bad = 99;
		ok(base64_decode_into(out, cases[i].s, strlen(cases[i].s), false, &bad) < 0 && bad == cases[i].bad,
			"refused at offset %zu: case %zu", cases[i].bad, i);
	}
	ok(base64_decode_into(out, "Zh==", 4, true, &bad) < 0 && bad == 1,
		"with zero_bits, bits a padded group leaves over must be zero");
	ok(base64_decode_into(out, "Zh==", 4, false, &bad) == 1 && out[0] == 'f',
		"without, they are ignored (as Go's StdEncoding)");
}

static void
round_trips(void)
{
	uint8_t in[64], back[64];
	char enc[BASE64_ENCODED_LEN(64)];
	int good = 0;

	for (int i = 0; i < 64; i++)
		in[i] = (uint8_t)(i * 37 + 255);
	for (size_t n = 0; n <= 64; n++) {
		size_t e = base64_encode_into(enc, in, n), bad;

		good += e == BASE64_ENCODED_LEN(n) && base64_decode_into(back, enc, e, true, &bad) == (ptrdiff_t)n &&
			memcmp(in, back, n) == 0;
	}
	ok(good == 65, "every length from 0 to 64 bytes round-trips (%d of 65)", good);
}

int
main(void)
{
	rfc_vectors();
	refusals();
	round_trips();
	return tap_done();
}
