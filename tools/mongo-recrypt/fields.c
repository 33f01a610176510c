/*
 * fields.c: a document with the fields of --field decrypted with the --from
 * cipher and encrypted again with the --to cipher.  The document is copied
 * element by element; only the subdocuments on the way to a field are
 * rebuilt, everything else is appended as it was.  A path is matched a key
 * at a time (a key with a dot in it is never one segment of a path); a path
 * that meets an array, or anything but a document before its last segment,
 * is bad data.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "exitcode.h"
#include "mongo-recrypt.h"

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
static bool
append_value(const struct recrypt *r, bson_t *out, const char *key, const uint8_t *data, size_t len,
	bool was_string, bson_error_t *err)
{
	bool base64 = r->to_form == FORM_BASE64 || (r->to_form == FORM_KEEP && was_string && r->from != CIPHER_NONE);
	bool ok = len <= INT32_MAX / 2;
	char *s;

	if (ok && r->to == CIPHER_NONE) {
		ok = bson_append_utf8(out, key, -1, (const char *)data, (int)len);
	} else if (ok && base64) {
		s = base64_encode(data, len);
		ok = bson_append_utf8(out, key, -1, s, -1);
		bson_free(s);
	} else if (ok) {
		ok = bson_append_binary(out, key, -1, BSON_SUBTYPE_BINARY, data, (uint32_t)len);
	}
	if (!ok)
		mp_error_set(err, MP_EX_SOFTWARE, "libbson: cannot append the new value (%zu bytes)", len);
	return ok;
}

static bool
recrypt_value(const struct recrypt *r, const bson_iter_t *it, bson_t *out, bson_error_t *err)
{
	const uint8_t *data;
	uint8_t *owned = NULL, *plain = NULL, *sealed = NULL;
	size_t len, plen = 0, slen = 0;
	bool was_string, ok, tried;

	ok = value_bytes(r, it, &data, &len, &owned, &was_string, err) && cipher_length_ok(r->from, len, err);
	tried = ok && r->from != CIPHER_NONE;
	ok = ok && cipher_decrypt(r->from, r->from_key, data, len, &plain, &plen, err);
	if (ok && !bson_utf8_validate((const char *)plain, plen, false)) {
		mp_error_set(err, MP_EX_DATAERR, "the plaintext is not UTF-8 without NUL (wrong key?)");
		ok = false;
	}
	if (tried && r->probe->tried < RECRYPT_KEY_PROBE) {
		r->probe->tried++;
		r->probe->good += ok;
	}
	ok = ok && cipher_encrypt(r->to, r->to_key, plain, plen, &sealed, &slen, err);
	ok = ok && append_value(r, out, bson_iter_key(it), sealed, slen, was_string, err);
	if (plain)
		OPENSSL_cleanse(plain, plen);
	if (sealed && r->to == CIPHER_NONE)
		OPENSSL_cleanse(sealed, slen);
	bson_free(plain);
	bson_free(sealed);
	bson_free(owned);
	return ok;
}

/* Does `key` match the segment of `field` that starts at `off`?  0 no; 1 it
 * is the last segment; 2 more follow, from *next; 3 a key with a dot in it
 * that reads as the rest of the path (which no path can name: bad data). */
static int
segment_match(const char *field, size_t off, const char *key, size_t *next)
{
	const char *seg = field + off, *dot = strchr(seg, '.');
	size_t n = dot ? (size_t)(dot - seg) : strlen(seg), klen = strlen(key);

	if (strchr(key, '.') && strncmp(seg, key, klen) == 0 && (seg[klen] == '\0' || seg[klen] == '.'))
		return 3;
	if (strncmp(seg, key, n) != 0 || key[n] != '\0')
		return 0;
	*next = dot ? off + n + 1 : 0;
	return dot ? 2 : 1;
}

/* A field whose path goes on through a value that is not a document. */
static bool
path_blocked(const char *field, size_t next, const bson_iter_t *it, bson_error_t *err)
{
	if (BSON_ITER_HOLDS_ARRAY(it))
		mp_error_set(err, MP_EX_DATAERR, "field %s: %.*s is an array (arrays are not entered)", field,
			(int)(next - 1), field);
	else
		mp_error_set(err, MP_EX_DATAERR, "field %s: %.*s is of BSON type 0x%02x, not a document", field,
			(int)(next - 1), field, (int)bson_iter_type(it));
	return false;
}

/*
 * Copy the elements of `it` into out; at[i] is where the next segment of
 * field i starts, or NO_FIELD when this level is not on its path.  A key
 * that ends a field is re-encrypted, a key on the way to one is entered.
 */
#define NO_FIELD SIZE_MAX

/* The 16 MiB that a server takes (libbson's BSON_MAX_SIZE is 2 GiB). */
#define RECRYPT_MAX_DOC (16 * 1024 * 1024)

/* Whether a field was re-encrypted, and the size of the document so far
 * (the input's, plus what each new value added or took away). */
struct growth {
	bool changed;
	int64_t size;
};

static bool
fail_append(const char *what, bson_error_t *err)
{
	mp_error_set(err, MP_EX_SOFTWARE, "libbson: cannot append %s", what);
	return false;
}

/* Re-encrypt the value at `it` (field `field`) into out, keeping count of
 * the size of the document. */
static bool
leaf(const struct recrypt *r, const bson_iter_t *it, const char *field, bson_t *out, struct growth *g,
	bson_error_t *err)
{
	uint32_t before = out->len;

	g->changed = true;
	if (!recrypt_value(r, it, out, err)) {
		mp_error_wrap(err, "field %s", field);
		return false;
	}
	g->size += (int64_t)(out->len - before) - (int64_t)(it->next_off - it->off);
	if (g->size > RECRYPT_MAX_DOC) {
		mp_error_set(err, MP_EX_DATAERR, "field %s: re-encrypted, the document would be %lld bytes, more "
			"than the 16 MiB a document may have", field, (long long)g->size);
		return false;
	}
	return true;
}

static bool rewrite(const struct recrypt *r, bson_iter_t *it, const size_t *at, bson_t *out, struct growth *g,
	bson_error_t *err);

/* Enter the subdocument at `it` on the way to `field` (one of those whose
 * next segments are at[]): anything but a document is bad data. */
static bool
descend(const struct recrypt *r, const bson_iter_t *it, const size_t *at, const char *field, size_t next,
	bson_t *out, struct growth *g, bson_error_t *err)
{
	bson_iter_t child;
	bson_t sub;
	bool ok;

	if (!BSON_ITER_HOLDS_DOCUMENT(it) || !bson_iter_recurse(it, &child))
		return path_blocked(field, next, it, err);
	if (!bson_append_document_begin(out, bson_iter_key(it), -1, &sub))
		return fail_append("a subdocument", err);
	ok = rewrite(r, &child, at, &sub, g, err);
	if (!bson_append_document_end(out, &sub) && ok)
		return fail_append("a subdocument", err);
	return ok;
}

static bool
rewrite(const struct recrypt *r, bson_iter_t *it, const size_t *at, bson_t *out, struct growth *g, bson_error_t *err)
{
	size_t *next = bson_malloc(r->nfields * sizeof *next);
	bool ok = true;

	while (ok && bson_iter_next(it)) {
		const char *key = bson_iter_key(it), *field = NULL, *inner = NULL;
		size_t inner_next = 0;

		for (size_t i = 0; i < r->nfields; i++) {
			int m = at[i] == NO_FIELD ? 0 : segment_match(r->fields[i], at[i], key, &next[i]);

			if (m != 2)
				next[i] = NO_FIELD;
			if (m == 3) {
				mp_error_set(err, MP_EX_DATAERR, "field %s: a key \"%s\" with a dot in it, which a "
					"path cannot name", r->fields[i], key);
				ok = false;
				break;
			}
			if (m == 1)
				r->hits[i]++;
			if (m == 1 && !field) {
				field = r->fields[i];
			} else if (m == 2 && !inner) {
				inner = r->fields[i];
				inner_next = next[i];
			}
		}
		if (!ok) {
			break;
		} else if (field) {
			ok = leaf(r, it, field, out, g, err);
		} else if (inner) {
			ok = descend(r, it, next, inner, inner_next, out, g, err);
		} else if (!bson_append_iter(out, NULL, 0, it)) {
			ok = fail_append("an element", err);
		}
	}
	bson_free(next);
	return ok;
}

bool
recrypt_doc(const struct recrypt *r, const bson_t *doc, bson_t *out, bool *changed, bson_error_t *err)
{
	size_t *at = bson_malloc(r->nfields * sizeof *at);
	struct growth g = {false, doc->len};
	bson_iter_t it;
	bool ok;

	bson_init(out);
	for (size_t i = 0; i < r->nfields; i++)
		at[i] = 0;
	if (!bson_iter_init(&it, doc)) {
		mp_error_set(err, MP_EX_DATAERR, "a document that cannot be read");
		ok = false;
	} else {
		ok = rewrite(r, &it, at, out, &g, err);
	}
	*changed = g.changed;
	bson_free(at);
	return ok;
}
