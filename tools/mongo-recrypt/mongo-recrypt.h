/*
 * mongo-recrypt.h: the rooms of mongo-recrypt: cipher.c (keys, the four
 * ciphers, base64), fields.c (a document with its fields re-encrypted),
 * main.c (options, the stream loop, rejects).
 */
#ifndef MONGO_RECRYPT_H
#define MONGO_RECRYPT_H

#include <stdbool.h>
#include <stdint.h>
#include <bson/bson.h>

enum cipher { CIPHER_NONE, CIPHER_AES_256_CBC, CIPHER_AES_256_GCM, CIPHER_SALSA20 };

/* How an encrypted value is written: as the input had it, binary subtype 0,
 * or a base64 string. */
enum form { FORM_KEEP, FORM_BINARY, FORM_BASE64 };

#define RECRYPT_KEY_LEN 32

/*
 * Read a key from `file` (NULL: none) or the environment variable `env`:
 * 32 raw bytes or 64 hex digits, one trailing newline ignored.  The
 * variable's value is overwritten in place once read (it reads as empty
 * after).  False with
 * err: 66 for a file that cannot be read or that group or others may read,
 * 64 for an unset variable, 65 for content that is not a key.
 */
bool key_load(const char *file, const char *env, uint8_t key[RECRYPT_KEY_LEN], bson_error_t *err);

/* Whether `len` bytes can be a value of cipher c (whole blocks, long enough
 * for the IV, nonce and tag); false with err (65) if not. */
bool cipher_length_ok(enum cipher c, size_t len, bson_error_t *err);

/* Decrypt `in` (the cipher's framing: IV or nonce first) into a new buffer
 * *out (bson_free it after OPENSSL_cleanse).  CIPHER_NONE copies.  False with
 * err (65) for a value too short, a bad padding or a failed tag. */
bool cipher_decrypt(enum cipher c, const uint8_t *key, const uint8_t *in, size_t len, uint8_t **out,
	size_t *outlen, bson_error_t *err);

/* Encrypt with a fresh random IV or nonce; *out as above.  False with err
 * (70) only when libcrypto fails. */
bool cipher_encrypt(enum cipher c, const uint8_t *key, const uint8_t *in, size_t len, uint8_t **out,
	size_t *outlen, bson_error_t *err);

/* Strict base64 (RFC 4648, padded, no line breaks) into *out (bson_free). */
bool base64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen, bson_error_t *err);
char *base64_encode(const uint8_t *in, size_t len);

/* A wrong --from key shows as decryptions that all fail: of the first
 * RECRYPT_KEY_PROBE values of a run that were decrypted (tag, padding and
 * UTF-8 checked), how many were, and how many came out good. */
#define RECRYPT_KEY_PROBE 16
struct recrypt_probe {
	unsigned tried, good;
};

struct recrypt {
	enum cipher from, to;
	const uint8_t *from_key, *to_key;
	enum form to_form;
	char **fields; /* NULL-terminated dotted paths */
	size_t nfields;
	uint64_t *hits; /* per field: the documents that had it */
	struct recrypt_probe *probe;
};

/*
 * Into out (initialised here, bson_destroy it whatever the result): doc with
 * each field of r decrypted and encrypted again; *changed says whether any
 * was (if not, write doc itself, byte for byte).  A path is matched key by
 * key; one that meets an array, or a value that is not a document before
 * its last key, is bad data.  False with err naming the field (65 bad data,
 * 70).
 */
bool recrypt_doc(const struct recrypt *r, const bson_t *doc, bson_t *out, bool *changed, bson_error_t *err);

#endif
