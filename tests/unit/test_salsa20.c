/*
 * test_salsa20.c: our Salsa20/20 against the published test vectors: the
 * examples of Bernstein's specification (the hash function, the expansion of
 * a 32-byte key) and eSTREAM (ECRYPT) 256-bit keystream vectors (set 1
 * vector 0, bytes 0..63 and 192..255; set 6 vector 0).
 */
#include <stdint.h>
#include <string.h>

#include "salsa20.h"
#include "tap.h"

static int
same(const uint8_t *got, const uint8_t *want, size_t n)
{
	return memcmp(got, want, n) == 0;
}

static void
hash_vectors(void)
{
	static const uint8_t in1[64] = {211, 159, 13, 115, 76, 55, 82, 183, 3, 117, 222, 37, 191, 187, 234, 136, 49,
		237, 179, 48, 1, 106, 178, 219, 175, 199, 166, 48, 86, 16, 179, 207, 31, 240, 32, 63, 15, 83, 93, 161,
		116, 147, 48, 113, 238, 55, 204, 36, 79, 201, 235, 79, 3, 81, 156, 47, 203, 26, 244, 243, 88, 118, 104,
		54};
	static const uint8_t out1[64] = {109, 42, 178, 168, 156, 240, 248, 238, 168, 196, 190, 203, 26, 110, 170, 154,
		29, 29, 150, 26, 150, 30, 235, 249, 190, 163, 251, 48, 69, 144, 51, 57, 118, 40, 152, 157, 180, 57, 27,
		94, 107, 42, 236, 35, 27, 111, 114, 114, 219, 236, 232, 135, 111, 155, 110, 18, 24, 232, 95, 158, 179,
		19, 48, 202};
	static const uint8_t in2[64] = {88, 118, 104, 54, 79, 201, 235, 79, 3, 81, 156, 47, 203, 26, 244, 243, 191,
		187, 234, 136, 211, 159, 13, 115, 76, 55, 82, 183, 3, 117, 222, 37, 86, 16, 179, 207, 49, 237, 179, 48,
		1, 106, 178, 219, 175, 199, 166, 48, 238, 55, 204, 36, 31, 240, 32, 63, 15, 83, 93, 161, 116, 147, 48,
		113};
	static const uint8_t out2[64] = {179, 19, 48, 202, 219, 236, 232, 135, 111, 155, 110, 18, 24, 232, 95, 158, 26,
		110, 170, 154, 109, 42, 178, 168, 156, 240, 248, 238, 168, 196, 190, 203, 69, 144, 51, 57, 29, 29, 150,
		26, 150, 30, 235, 249, 190, 163, 251, 48, 27, 111, 114, 114, 118, 40, 152, 157, 180, 57, 27, 94, 107, 42,
		236, 35};
	static const uint8_t in3[64] = {6, 124, 83, 146, 38, 191, 9, 50, 4, 161, 47, 222, 122, 182, 223, 185, 75, 27,
		0, 216, 16, 122, 7, 89, 162, 104, 101, 147, 213, 21, 54, 95, 225, 253, 139, 176, 105, 132, 23, 116, 76,
		41, 176, 207, 221, 34, 157, 108, 94, 94, 99, 52, 90, 117, 91, 220, 146, 190, 239, 143, 196, 176, 130,
		186};
	static const uint8_t out3[64] = {8, 18, 38, 199, 119, 76, 215, 67, 173, 127, 144, 162, 103, 212, 176, 217, 192,
		19, 233, 33, 159, 197, 154, 160, 128, 243, 219, 65, 171, 136, 135, 225, 123, 11, 68, 86, 237, 82, 20,
		155, 133, 189, 9, 83, 167, 116, 194, 78, 122, 127, 195, 185, 185, 204, 188, 90, 245, 9, 183, 248, 226,
		85, 245, 104};
	uint8_t zero[64] = {0}, out[64];

	salsa20_hash(zero, out);
	ok(same(out, zero, 64), "spec 8: Salsa20(0) = 0");
	salsa20_hash(in1, out);
	ok(same(out, out1, 64), "spec 8: the first example");
	salsa20_hash(in2, out);
	ok(same(out, out2, 64), "spec 8: the second example");
	memcpy(out, in3, 64);
	for (int i = 0; i < 1000000; i++)
		salsa20_hash(out, out);
	ok(same(out, out3, 64), "spec 8: Salsa20 iterated 1000000 times");
}

static void
expansion_vector(void)
{
	static const uint8_t want[64] = {69, 37, 68, 39, 41, 15, 107, 193, 255, 139, 122, 6, 170, 233, 217, 98, 89,
		144, 182, 106, 21, 51, 200, 65, 239, 49, 222, 34, 215, 114, 40, 126, 104, 197, 7, 225, 197, 153, 31, 2,
		102, 78, 76, 176, 84, 245, 246, 184, 177, 160, 133, 130, 6, 72, 149, 119, 192, 195, 132, 236, 234, 103,
		246, 74};
	uint8_t key[32], n[16], out[64];

	for (int i = 0; i < 16; i++) {
		key[i] = (uint8_t)(1 + i);
		key[16 + i] = (uint8_t)(201 + i);
		n[i] = (uint8_t)(101 + i);
	}
	salsa20_expand(key, n, out);
	ok(same(out, want, 64), "spec 9: Salsa20_k0,k1(n) for the 32-byte key example");
}

/* eSTREAM Salsa20 256-bit key, Set 1, vector 0: key 80 00..00, IV 0 */
static void
keystream_vector(void)
{
	static const uint8_t want[64] = {0xE3, 0xBE, 0x8F, 0xDD, 0x8B, 0xEC, 0xA2, 0xE3, 0xEA, 0x8E, 0xF9, 0x47,
		0x5B, 0x29, 0xA6, 0xE7, 0x00, 0x39, 0x51, 0xE1, 0x09, 0x7A, 0x5C, 0x38, 0xD2, 0x3B, 0x7A, 0x5F,
		0xAD, 0x9F, 0x68, 0x44, 0xB2, 0x2C, 0x97, 0x55, 0x9E, 0x27, 0x23, 0xC7, 0xCB, 0xBD, 0x3F, 0xE4,
		0xFC, 0x8D, 0x9A, 0x07, 0x44, 0x65, 0x2A, 0x83, 0xE7, 0x2A, 0x9C, 0x46, 0x18, 0x76, 0xAF, 0x4D,
		0x7E, 0xF1, 0xA1, 0x17};
	static const uint8_t want192[64] = {0x57, 0xBE, 0x81, 0xF4, 0x7B, 0x17, 0xD9, 0xAE, 0x7C, 0x4F, 0xF1, 0x54,
		0x29, 0xA7, 0x3E, 0x10, 0xAC, 0xF2, 0x50, 0xED, 0x3A, 0x90, 0xA9, 0x3C, 0x71, 0x13, 0x08, 0xA7,
		0x4C, 0x62, 0x16, 0xA9, 0xED, 0x84, 0xCD, 0x12, 0x6D, 0xA7, 0xF2, 0x8E, 0x8A, 0xBF, 0x8B, 0xB6,
		0x35, 0x17, 0xE1, 0xCA, 0x98, 0xE7, 0x12, 0xF4, 0xFB, 0x2E, 0x1A, 0x6A, 0xED, 0x9F, 0xDC, 0x73,
		0x29, 0x1F, 0xAA, 0x17};
	uint8_t key[32] = {0x80}, nonce[8] = {0}, buf[256], back[256];

	memset(buf, 0, sizeof buf);
	salsa20_xor(key, nonce, buf, buf, sizeof buf);
	ok(same(buf, want, 64), "eSTREAM set 1 vector 0: the first 64 bytes of keystream");
	ok(same(buf + 192, want192, 64), "eSTREAM set 1 vector 0: keystream bytes 192..255 (block 3)");
	for (size_t i = 0; i < sizeof back; i++)
		back[i] = (uint8_t)i;
	memcpy(buf, back, sizeof buf);
	salsa20_xor(key, nonce, buf, buf, 131);
	salsa20_xor(key, nonce, buf, buf, 131);
	ok(same(buf, back, sizeof buf), "XOR twice over several blocks gives the plaintext back");
}

/* eSTREAM Salsa20 256-bit key, Set 6, vector 0: a key and an IV with all
 * their bytes in use */
static void
keystream_vector_set6(void)
{
	static const uint8_t key[32] = {0x00, 0x53, 0xA6, 0xF9, 0x4C, 0x9F, 0xF2, 0x45, 0x98, 0xEB, 0x3E, 0x91,
		0xE4, 0x37, 0x8A, 0xDD, 0x30, 0x83, 0xD6, 0x29, 0x7C, 0xCF, 0x22, 0x75, 0xC8, 0x1B, 0x6E, 0xC1,
		0x14, 0x67, 0xBA, 0x0D};
	static const uint8_t nonce[8] = {0x0D, 0x74, 0xDB, 0x42, 0xA9, 0x10, 0x77, 0xDE};
	static const uint8_t want[64] = {0xF5, 0xFA, 0xD5, 0x3F, 0x79, 0xF9, 0xDF, 0x58, 0xC4, 0xAE, 0xA0, 0xD0,
		0xED, 0x9A, 0x96, 0x01, 0xF2, 0x78, 0x11, 0x2C, 0xA7, 0x18, 0x0D, 0x56, 0x5B, 0x42, 0x0A, 0x48,
		0x01, 0x96, 0x70, 0xEA, 0xF2, 0x4C, 0xE4, 0x93, 0xA8, 0x62, 0x63, 0xF6, 0x77, 0xB4, 0x6A, 0xCE,
		0x19, 0x24, 0x77, 0x3D, 0x2B, 0xB2, 0x55, 0x71, 0xE1, 0xAA, 0x85, 0x93, 0x75, 0x8F, 0xC3, 0x82,
		0xB1, 0x28, 0x0B, 0x71};
	uint8_t buf[64] = {0};

	salsa20_xor(key, nonce, buf, buf, sizeof buf);
	ok(same(buf, want, 64), "eSTREAM set 6 vector 0: the first 64 bytes of keystream");
}

int
main(void)
{
	hash_vectors();
	expansion_vector();
	keystream_vector();
	keystream_vector_set6();
	return tap_done();
}
