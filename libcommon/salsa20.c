/*
 * salsa20.c: Salsa20/20 from Bernstein's specification (salsa20.h).  The
 * names follow the spec: quarterround, rowround, columnround, doubleround.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "salsa20.h"

#define ROTL32(v, c) (((v) << (c)) | ((v) >> (32 - (c))))

static uint32_t
load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
store32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
quarterround(uint32_t *y0, uint32_t *y1, uint32_t *y2, uint32_t *y3)
{
	*y1 ^= ROTL32(*y0 + *y3, 7);
	*y2 ^= ROTL32(*y1 + *y0, 9);
	*y3 ^= ROTL32(*y2 + *y1, 13);
	*y0 ^= ROTL32(*y3 + *y2, 18);
}

static void
rowround(uint32_t y[16])
{
	quarterround(&y[0], &y[1], &y[2], &y[3]);
	quarterround(&y[5], &y[6], &y[7], &y[4]);
	quarterround(&y[10], &y[11], &y[8], &y[9]);
	quarterround(&y[15], &y[12], &y[13], &y[14]);
}

static void
columnround(uint32_t x[16])
{
	quarterround(&x[0], &x[4], &x[8], &x[12]);
	quarterround(&x[5], &x[9], &x[13], &x[1]);
	quarterround(&x[10], &x[14], &x[2], &x[6]);
	quarterround(&x[15], &x[3], &x[7], &x[11]);
}

void
salsa20_hash(const uint8_t in[64], uint8_t out[64])
{
	uint32_t x[16], z[16];

	for (int i = 0; i < 16; i++)
		x[i] = z[i] = load32(in + 4 * i);
	for (int i = 0; i < 10; i++) { /* 10 doublerounds: 20 rounds */
		columnround(z);
		rowround(z);
	}
	for (int i = 0; i < 16; i++)
		store32(out + 4 * i, z[i] + x[i]);
	OPENSSL_cleanse(x, sizeof x);
	OPENSSL_cleanse(z, sizeof z);
}

void
salsa20_expand(const uint8_t key[32], const uint8_t n[16], uint8_t out[64])
{
	static const uint8_t sigma[16] = "expand 32-byte k";
	uint8_t b[64];

	memcpy(b, sigma, 4);
	memcpy(b + 4, key, 16);
	memcpy(b + 20, sigma + 4, 4);
	memcpy(b + 24, n, 16);
	memcpy(b + 40, sigma + 8, 4);
	memcpy(b + 44, key + 16, 16);
	memcpy(b + 60, sigma + 12, 4);
	salsa20_hash(b, out);
	OPENSSL_cleanse(b, sizeof b); /* it holds the key */
}

void
salsa20_xor(const uint8_t key[32], const uint8_t nonce[8], const uint8_t *in, uint8_t *out, size_t len)
{
	uint8_t n[16], block[64];
	uint64_t counter = 0;

	memcpy(n, nonce, 8);
	for (size_t off = 0; off < len; off += 64, counter++) {
		size_t take = len - off < 64 ? len - off : 64;

		for (int i = 0; i < 8; i++)
			n[8 + i] = (uint8_t)(counter >> (8 * i));
		salsa20_expand(key, n, block);
		for (size_t i = 0; i < take; i++)
			out[off + i] = in[off + i] ^ block[i];
	}
	OPENSSL_cleanse(block, sizeof block);
}
