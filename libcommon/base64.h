/*
 * base64.h: standard base64 (RFC 4648 section 4: padded, no line breaks),
 * both ways: Extended JSON's $binary, CSV's binary columns and
 * mongo-recrypt's encrypted strings.
 */
#ifndef BASE64_H
#define BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for n bytes encoded. */
#define BASE64_ENCODED_LEN(n) (((n) + 2) / 3 * 4)

/* Write the n bytes at p encoded to dst (BASE64_ENCODED_LEN(n) bytes, no
 * NUL); returns that length. */
size_t base64_encode_into(char *dst, const uint8_t *p, size_t n);

/*
 * Decode the n characters at s into dst (room for n / 4 * 3 bytes): n a
 * multiple of 4, every character of the alphabet but one or two '=' at the
 * end.  With zero_bits, the bits a padded group leaves over must be zero,
 * as Extended JSON wants ("AB==" is not "AA==" spelled another way).
 * Returns the bytes written, or -1 with *bad the offset of the first
 * character at fault (n when the length is not a multiple of 4).
 */
ptrdiff_t base64_decode_into(uint8_t *dst, const char *s, size_t n, bool zero_bits, size_t *bad);

#endif
