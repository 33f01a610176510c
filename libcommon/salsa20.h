/*
 * salsa20.h: the Salsa20/20 stream cipher with a 256-bit key and a 64-bit
 * nonce, written from D. J. Bernstein's specification ("Salsa20
 * specification", 2005): the hash function, the expansion of a 32-byte key,
 * and the keystream XORed over a buffer.  Nothing is allocated; no errors.
 */
#ifndef MP_SALSA20_H
#define MP_SALSA20_H

#include <stddef.h>
#include <stdint.h>

/* The spec's Salsa20(x): 20 rounds over 64 bytes (little-endian words)
 * plus the input.  in and out may be the same buffer. */
void salsa20_hash(const uint8_t in[64], uint8_t out[64]);

/* The spec's Salsa20_k(n) for a 32-byte k: the keystream block for the
 * 16-byte n (8 bytes of nonce, then the little-endian block counter). */
void salsa20_expand(const uint8_t key[32], const uint8_t n[16], uint8_t out[64]);

/* out = in XOR the keystream of (key, nonce) from block 0; in and out may
 * be the same buffer.  Encryption and decryption are the same. */
void salsa20_xor(const uint8_t key[32], const uint8_t nonce[8], const uint8_t *in, uint8_t *out, size_t len);

#endif
