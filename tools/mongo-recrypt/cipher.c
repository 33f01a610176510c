/*
 * cipher.c: the keys and the ciphers of mongo-recrypt.  AES comes from
 * libcrypto; Salsa20 from libcommon/salsa20.c.  Framing of a value:
 *   aes-256-cbc  IV(16) || ciphertext (PKCS#7 padding)
 *   aes-256-gcm  nonce(12) || ciphertext || tag(16)
 *   salsa20      nonce(8) || ciphertext
 * Every buffer that held a key or plaintext is cleansed before it is freed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base64.h"
#include "exitcode.h"
#include "mongo-recrypt.h"
#include "salsa20.h"

#define CBC_IV 16
#define GCM_NONCE 12
#define GCM_TAG 16
#define SALSA_NONCE 8

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 32 raw bytes or 64 hex digits, one trailing newline (or CRLF) ignored. */
static bool
key_parse(const uint8_t *buf, size_t n, const char *what, uint8_t key[RECRYPT_KEY_LEN], bson_error_t *err)
{
	if (n == RECRYPT_KEY_LEN) {
		memcpy(key, buf, RECRYPT_KEY_LEN);
		return true;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == RECRYPT_KEY_LEN) {
		memcpy(key, buf, RECRYPT_KEY_LEN);
		return true;
	}
	if (n == 2 * RECRYPT_KEY_LEN) {
		for (size_t i = 0; i < RECRYPT_KEY_LEN; i++) {
			int hi = hexval(buf[2 * i]), lo = hexval(buf[2 * i + 1]);

			if (hi < 0 || lo < 0)
				goto bad;
			key[i] = (uint8_t)(hi << 4 | lo);
		}
		return true;
	}
bad:
	mp_error_set(err, MP_EX_DATAERR, "%s: not a key: an AES-256 or Salsa20 key is 32 raw bytes or 64 hex "
		"digits (%zu bytes given)", what, n);
	return false;
}

static bool
key_read_file(const char *file, uint8_t *buf, size_t size, size_t *n, bson_error_t *err)
{
	struct stat st;
	ssize_t got;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		mp_error_set(err, MP_EX_NOINPUT, "key file %s: %s", file, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077)) {
		close(fd);
		mp_error_set(err, MP_EX_NOINPUT, "key file %s: group or others may read or write it (chmod 600 %s)",
			file, file);
		return false;
	}
	*n = 0;
	while (*n < size && (got = read(fd, buf + *n, size - *n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			mp_error_set(err, MP_EX_NOINPUT, "key file %s: %s", file, strerror(errno));
			close(fd);
			return false;
		}
		*n += (size_t)got;
	}
	close(fd);
	return true;
}

bool
key_load(const char *file, const char *env, uint8_t key[RECRYPT_KEY_LEN], bson_error_t *err)
{
	uint8_t buf[2 * RECRYPT_KEY_LEN + 8];
	size_t n = 0;
	char what[300];
	bool ok;

	if (file) {
		if (!key_read_file(file, buf, sizeof buf, &n, err))
			return false;
		snprintf(what, sizeof what, "key file %s", file);
	} else {
		char *v = getenv(env);

		if (v == NULL || *v == '\0') {
			mp_error_set(err, MP_EX_USAGE, "environment variable %s: not set", env);
			return false;
		}
		n = strlen(v) < sizeof buf ? strlen(v) : sizeof buf;
		memcpy(buf, v, n);
		OPENSSL_cleanse(v, strlen(v)); /* in place: gone from /proc/PID/environ too */
		snprintf(what, sizeof what, "environment variable %s", env);
	}
	if (n == sizeof buf) {
		mp_error_set(err, MP_EX_DATAERR, "%s: not a key: longer than 32 raw bytes or 64 hex digits", what);
		ok = false;
	} else {
		ok = key_parse(buf, n, what, key, err);
	}
	OPENSSL_cleanse(buf, sizeof buf);
	return ok;
}

static bool
too_short(size_t len, size_t min, const char *name, bson_error_t *err)
{
	if (len >= min)
		return false;
	mp_error_set(err, MP_EX_DATAERR, "%zu bytes: too short for %s (at least %zu)", len, name, min);
	return true;
}

bool
cipher_length_ok(enum cipher c, size_t len, bson_error_t *err)
{
	switch (c) {
	case CIPHER_AES_256_CBC:
		if (too_short(len, 2 * CBC_IV, "aes-256-cbc", err))
			return false;
		if (len % CBC_IV != 0) {
			mp_error_set(err, MP_EX_DATAERR, "%zu bytes: aes-256-cbc values are whole 16-byte blocks", len);
			return false;
		}
		return true;
	case CIPHER_AES_256_GCM:
		return !too_short(len, GCM_NONCE + GCM_TAG, "aes-256-gcm", err);
	case CIPHER_SALSA20:
		return !too_short(len, SALSA_NONCE, "salsa20", err);
	default:
		return true;
	}
}

/* AES-256 in CBC or GCM; GCM's tag is checked by the final call. */
static bool
aes_decrypt(bool gcm, const uint8_t *key, const uint8_t *in, size_t len, uint8_t *out, size_t *outlen,
	bson_error_t *err)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t ivlen = gcm ? GCM_NONCE : CBC_IV, clen = len - ivlen - (gcm ? GCM_TAG : 0);
	int n1 = 0, n2 = 0;
	bool ok = ctx && EVP_DecryptInit_ex(ctx, gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc(), NULL, key, in) == 1;

	ok = ok && EVP_DecryptUpdate(ctx, out, &n1, in + ivlen, (int)clen) == 1;
	if (ok && gcm)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, (void *)(in + len - GCM_TAG)) == 1;
	if (ok && EVP_DecryptFinal_ex(ctx, out + n1, &n2) != 1) {
		mp_error_set(err, MP_EX_DATAERR, gcm ? "aes-256-gcm: the tag does not match (wrong key, or the value "
			"was altered)" : "aes-256-cbc: bad padding (wrong key, or the value was altered)");
		EVP_CIPHER_CTX_free(ctx);
		return false;
	}
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		mp_error_set(err, MP_EX_SOFTWARE, "libcrypto: cannot decrypt");
	*outlen = (size_t)n1 + (size_t)n2;
	return ok;
}

bool
cipher_decrypt(enum cipher c, const uint8_t *key, const uint8_t *in, size_t len, uint8_t **out, size_t *outlen,
	bson_error_t *err)
{
	bool ok = true;

	*out = NULL;
	if (!cipher_length_ok(c, len, err))
		return false;
	*out = bson_malloc(len + 1);
	if (c == CIPHER_NONE) {
		memcpy(*out, in, len);
		*outlen = len;
	} else if (c == CIPHER_SALSA20) {
		salsa20_xor(key, in, in + SALSA_NONCE, *out, len - SALSA_NONCE);
		*outlen = len - SALSA_NONCE;
	} else {
		ok = aes_decrypt(c == CIPHER_AES_256_GCM, key, in, len, *out, outlen, err);
	}
	if (!ok) {
		OPENSSL_cleanse(*out, len + 1);
		bson_free(*out);
		*out = NULL;
	}
	return ok;
}

static bool
aes_encrypt(bool gcm, const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out,
	size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;
	bool ok = ctx && EVP_EncryptInit_ex(ctx, gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc(), NULL, key, iv) == 1 &&
		  EVP_EncryptUpdate(ctx, out, &n1, in, (int)len) == 1 && EVP_EncryptFinal_ex(ctx, out + n1, &n2) == 1;

	*outlen = (size_t)n1 + (size_t)n2;
	if (ok && gcm) {
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, out + *outlen) == 1;
		*outlen += GCM_TAG;
	}
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

bool
cipher_encrypt(enum cipher c, const uint8_t *key, const uint8_t *in, size_t len, uint8_t **out, size_t *outlen,
	bson_error_t *err)
{
	/* never Salsa20: main refuses --to salsa20 (random 64-bit nonces repeat) */
	size_t ivlen = c == CIPHER_AES_256_CBC ? CBC_IV : GCM_NONCE;
	size_t n = 0;
	bool ok = true;

	BSON_ASSERT(c != CIPHER_SALSA20);
	*out = bson_malloc(ivlen + len + 2 * CBC_IV + 1);
	if (c == CIPHER_NONE) {
		memcpy(*out, in, len);
		*outlen = len;
		return true;
	}
	ok = RAND_bytes(*out, (int)ivlen) == 1 &&
	     aes_encrypt(c == CIPHER_AES_256_GCM, key, *out, in, len, *out + ivlen, &n);
	*outlen = ivlen + n;
	if (!ok) {
		bson_free(*out);
		*out = NULL;
		mp_error_set(err, MP_EX_SOFTWARE, "libcrypto: cannot encrypt");
	}
	return ok;
}

bool
base64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen, bson_error_t *err)
{
	size_t bad;
	ptrdiff_t got;

	*out = bson_malloc(len / 4 * 3 + 1);
	got = base64_decode_into(*out, s, len, false, &bad);
	if (got < 0) {
		if (bad == len)
			mp_error_set(err, MP_EX_DATAERR, "bad base64: %zu characters, not a multiple of 4", len);
		else
			mp_error_set(err, MP_EX_DATAERR, "bad base64: character %zu is not in the alphabet", bad + 1);
		bson_free(*out);
		*out = NULL;
		return false;
	}
	*outlen = (size_t)got;
	return true;
}

char *
base64_encode(const uint8_t *in, size_t len)
{
	char *s = bson_malloc(BASE64_ENCODED_LEN(len) + 1);

	s[base64_encode_into(s, in, len)] = '\0';
	return s;
}
