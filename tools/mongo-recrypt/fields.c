/*
 * fields.c: a document with the fields of --field decrypted with the --from
 * cipher and encrypted again with the --to cipher.  The document is copied
 * element by element; only the subdocuments on the way to a field are
 * rebuilt, everything else is appended as it was.  Arrays are not entered.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "exitcode.h"
#include "mongo-recrypt.h"

bool
recrypt_wanted(const struct recrypt *r, const bson_t *doc)
{
	bson_iter_t it, found;

	for (size_t i = 0; i < r->nfields; i++)
		if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, r->fields[i], &found))
			return true;
	return false;
}

/* The bytes of the value the input holds: a string under --from none; else
 * binary subtype 0, or a base64 string.  *owned is set when decoded. */
static bool
value_bytes(const struct recrypt *r, const bson_iter_t *it, const uint8_t **data, size_t *len, uint8_t **owned,
	bool *was_string, bson_error_t *err)
{
	bson_subtype_t sub;
	uint32_t n;
	const char *s;

	*owned = NULL;
	*was_string = BSON_ITER_HOLDS_UTF8(it);
	if (*was_string) {
		s = bson_iter_utf8(it, &n);
		if (r->from == CIPHER_NONE) {
			*data = (const uint8_t *)s;
			*len = n;
			return true;
		}
		if (!base64_decode(s, n, owned, len, err))
			return false;
		*data = *owned;
		return true;
	}
	if (r->from != CIPHER_NONE && BSON_ITER_HOLDS_BINARY(it)) {
		bson_iter_binary(it, &sub, &n, data);
		*len = n;
		if (sub == BSON_SUBTYPE_BINARY)
			return true;
		mp_error_set(err, MP_EX_DATAERR, "binary subtype %d, not 0", (int)sub);
		return false;
	}
	mp_error_set(err, MP_EX_DATAERR, "a value of BSON type 0x%02x, where %s is expected", (int)bson_iter_type(it),
		r->from == CIPHER_NONE ? "a plaintext string" : "binary (subtype 0) or a base64 string");
	return false;
}

/* Append the new value: a string (--to none), or as the input had it (or
 * as --to-form says). */
static void
append_value(const struct recrypt *r, bson_t *out, const char *key, const uint8_t *data, size_t len,
	bool was_string)
{
	bool base64 = r->to_form == FORM_BASE64 || (r->to_form == FORM_KEEP && was_string && r->from != CIPHER_NONE);
	char *s;

	if (r->to == CIPHER_NONE) {
		bson_append_utf8(out, key, -1, (const char *)data, (int)len);
	} else if (base64) {
		s = base64_encode(data, len);
		bson_append_utf8(out, key, -1, s, -1);
		bson_free(s);
	} else {
		bson_append_binary(out, key, -1, BSON_SUBTYPE_BINARY, data, (uint32_t)len);
	}
}

static bool
recrypt_value(const struct recrypt *r, const bson_iter_t *it, bson_t *out, bson_error_t *err)
{
	const uint8_t *data;
	uint8_t *owned = NULL, *plain = NULL, *sealed = NULL;
	size_t len, plen = 0, slen = 0;
	bool was_string, ok;

	ok = value_bytes(r, it, &data, &len, &owned, &was_string, err) &&
	     cipher_decrypt(r->from, r->from_key, data, len, &plain, &plen, err);
	if (ok && !bson_utf8_validate((const char *)plain, plen, false)) {
		mp_error_set(err, MP_EX_DATAERR, "the plaintext is not UTF-8 without NUL (wrong key?)");
		ok = false;
	}
	ok = ok && cipher_encrypt(r->to, r->to_key, plain, plen, &sealed, &slen, err);
	if (ok)
		append_value(r, out, bson_iter_key(it), sealed, slen, was_string);
	if (plain)
		OPENSSL_cleanse(plain, plen);
	if (sealed && r->to == CIPHER_NONE)
		OPENSSL_cleanse(sealed, slen);
	bson_free(plain);
	bson_free(sealed);
	bson_free(owned);
	return ok;
}

/* Is `path` one of the fields (1), on the way to one (2), or neither (0)? */
static int
path_kind(const struct recrypt *r, const char *path, size_t plen)
{
	int kind = 0;

	for (size_t i = 0; i < r->nfields; i++) {
		const char *f = r->fields[i];

		if (strncmp(f, path, plen) != 0)
			continue;
		if (f[plen] == '\0')
			return 1;
		if (f[plen] == '.')
			kind = 2;
	}
	return kind;
}

static bool
rewrite(const struct recrypt *r, bson_iter_t *it, char *path, size_t plen, bson_t *out, bson_error_t *err)
{
	while (bson_iter_next(it)) {
		const char *key = bson_iter_key(it);
		size_t klen = strlen(key), n = plen ? plen + 1 + klen : klen;
		bson_iter_t child;
		bson_t sub;
		int kind;
		bool ok;

		if (n >= 4096) {
			bson_append_iter(out, NULL, 0, it);
			continue;
		}
		if (plen)
			path[plen] = '.';
		memcpy(path + (plen ? plen + 1 : 0), key, klen + 1);
		kind = path_kind(r, path, n);
		if (kind == 1 && !recrypt_value(r, it, out, err)) {
			mp_error_wrap(err, "field %s", path);
			return false;
		} else if (kind == 2 && BSON_ITER_HOLDS_DOCUMENT(it) && bson_iter_recurse(it, &child)) {
			bson_append_document_begin(out, key, (int)klen, &sub);
			ok = rewrite(r, &child, path, n, &sub, err);
			bson_append_document_end(out, &sub);
			if (!ok)
				return false;
		} else if (kind != 1) {
			bson_append_iter(out, NULL, 0, it);
		}
		path[plen] = '\0';
	}
	return true;
}

bool
recrypt_doc(const struct recrypt *r, const bson_t *doc, bson_t *out, bson_error_t *err)
{
	char path[4096] = "";
	bson_iter_t it;

	bson_init(out);
	if (!bson_iter_init(&it, doc)) {
		mp_error_set(err, MP_EX_DATAERR, "a document that cannot be read");
		return false;
	}
	return rewrite(r, &it, path, 0, out, err);
}
