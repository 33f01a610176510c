/*
 * base64.c: standard base64 both ways (see base64.h).
 */
#include "base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_encode_into(char *dst, const uint8_t *p, size_t n)
{
	char *t = dst;
	size_t i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		t[0] = alphabet[v >> 18];
		t[1] = alphabet[(v >> 12) & 63];
		t[2] = alphabet[(v >> 6) & 63];
		t[3] = alphabet[v & 63];
		t += 4;
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		t[0] = alphabet[v >> 18];
		t[1] = alphabet[(v >> 12) & 63];
		t[2] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		t[3] = '=';
		t += 4;
	}
	return (size_t)(t - dst);
}

static int
value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

ptrdiff_t
base64_decode_into(uint8_t *dst, const char *s, size_t n, bool zero_bits, size_t *bad)
{
	uint32_t acc = 0;
	size_t bits = 0, pad = 0, out = 0;

	if (n % 4 != 0) {
		*bad = n;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int v = value(s[i]);

		if (s[i] == '=' && i + 2 >= n) {
			pad++;
			continue;
		}
		if (v < 0 || pad > 0) {
			*bad = i;
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[out++] = (uint8_t)(acc >> bits);
		}
	}
	if (zero_bits && (acc & ((1u << bits) - 1)) != 0) {
		*bad = n - pad - 1;
		return -1;
	}
	return (ptrdiff_t)out;
}
