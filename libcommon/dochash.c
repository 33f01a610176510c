/*
 * dochash.c: reduce a document to what its comparison mode sees, digest it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dochash.h"
#include "exitcode.h"

struct dochash {
	EVP_MD *md; /* fetched once: OpenSSL 3 fetches EVP_sha256() again on every init */
	EVP_MD_CTX *ctx;
	enum dochash_mode mode;
	char **ignore; /* NULL-terminated dotted paths */
	int nignore;
};

bool
dochash_mode_parse(const char *s, enum dochash_mode *out)
{
	if (strcmp(s, "binary") == 0)
		*out = DOCHASH_BINARY;
	else if (strcmp(s, "unordered") == 0)
		*out = DOCHASH_UNORDERED;
	else if (strcmp(s, "semantic") == 0)
		*out = DOCHASH_SEMANTIC;
	else
		return false;
	return true;
}

struct dochash *
dochash_new(const char *algo, enum dochash_mode mode, const char *ignore, bson_error_t *err)
{
	EVP_MD *md = NULL;
	struct dochash *h;

	if (strcmp(algo, "sha256") == 0)
		md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	else if (strcmp(algo, "sha1") == 0)
		md = EVP_MD_fetch(NULL, "SHA1", NULL);
	else if (strcmp(algo, "md5") == 0)
		md = EVP_MD_fetch(NULL, "MD5", NULL);
	if (md == NULL) {
		mp_error_set(err, MP_EX_USAGE, "--hash takes sha256, sha1 or md5, not '%s'", algo);
		return NULL;
	}
	h = bson_malloc0(sizeof *h);
	h->md = md;
	h->ctx = EVP_MD_CTX_new();
	h->mode = mode;
	if (ignore && *ignore) {
		char *copy = bson_strdup(ignore), *save = NULL;

		h->ignore = bson_malloc0(sizeof(char *) * (strlen(ignore) + 2));
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			h->ignore[h->nignore++] = bson_strdup(t);
		bson_free(copy);
	}
	return h;
}

void
dochash_destroy(struct dochash *h)
{
	if (h == NULL)
		return;
	for (int i = 0; i < h->nignore; i++)
		bson_free(h->ignore[i]);
	bson_free(h->ignore);
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	bson_free(h);
}

size_t
dochash_len(const struct dochash *h)
{
	return (size_t)EVP_MD_get_size(h->md);
}

/* ---- canonical forms ---- */

static bool
ignored(const struct dochash *h, const char *prefix, const char *key)
{
	size_t pl = strlen(prefix);

	for (int i = 0; i < h->nignore; i++) {
		const char *p = h->ignore[i];

		if (strncmp(p, prefix, pl) == 0 && strcmp(p + pl, key) == 0)
			return true;
	}
	return false;
}

static void
append_number(bson_t *out, const char *key, const bson_iter_t *it)
{
	double d;

	switch (bson_iter_type(it)) {
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
		bson_append_int64(out, key, -1, bson_iter_as_int64(it));
		return;
	case BSON_TYPE_DOUBLE:
		d = bson_iter_double(it);
		break;
	default: { /* decimal128 */
		bson_decimal128_t dec;
		char s[BSON_DECIMAL128_STRING];

		bson_iter_decimal128(it, &dec);
		bson_decimal128_to_string(&dec, s);
		if (strcmp(s, "NaN") == 0 || strcmp(s, "-NaN") == 0) {
			d = NAN;
		} else {
			char *end;

			d = strtod(s, &end);
		}
		break;
	}
	}
	if (isnan(d)) {
		bson_append_double(out, key, -1, NAN);
	} else if (d == trunc(d) && fabs(d) < 9.2e18) {
		bson_append_int64(out, key, -1, (int64_t)d);
	} else {
		bson_append_double(out, key, -1, d);
	}
}

struct field {
	const char *key;
	bson_iter_t it;
};

static int
field_cmp(const void *a, const void *b)
{
	return strcmp(((const struct field *)a)->key, ((const struct field *)b)->key);
}

static void canon_doc(const struct dochash *h, const bson_t *in, bson_t *out, const char *prefix, bool sort,
	bool numbers);

static void
canon_value(const struct dochash *h, bson_t *out, const char *key, const bson_iter_t *it, const char *path,
	bool sort, bool numbers)
{
	if (BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) {
		const uint8_t *data;
		uint32_t len;
		bson_t sub, child;
		bool arr = BSON_ITER_HOLDS_ARRAY(it);

		if (arr)
			bson_iter_array(it, &len, &data);
		else
			bson_iter_document(it, &len, &data);
		bson_init_static(&sub, data, len);
		if (arr) {
			bson_iter_t el;
			char k[16];
			int i = 0;

			bson_append_array_begin(out, key, -1, &child);
			bson_iter_init(&el, &sub);
			while (bson_iter_next(&el)) {
				bson_snprintf(k, sizeof k, "%d", i++);
				/* ignored paths reach into the documents of an array */
				canon_value(h, &child, k, &el, path, sort, numbers);
			}
			bson_append_array_end(out, &child);
		} else {
			bson_append_document_begin(out, key, -1, &child);
			canon_doc(h, &sub, &child, path, sort, numbers);
			bson_append_document_end(out, &child);
		}
		return;
	}
	if (numbers && BSON_ITER_HOLDS_NUMBER(it)) {
		append_number(out, key, it);
		return;
	}
	if (numbers && BSON_ITER_HOLDS_DECIMAL128(it)) {
		append_number(out, key, it);
		return;
	}
	bson_append_iter(out, key, -1, it);
}

static void
canon_doc(const struct dochash *h, const bson_t *in, bson_t *out, const char *prefix, bool sort, bool numbers)
{
	struct field stack[64], *f = stack;
	size_t n = 0, cap = 64;
	bson_iter_t it;

	bson_iter_init(&it, in);
	while (bson_iter_next(&it)) {
		if (h && ignored(h, prefix, bson_iter_key(&it)))
			continue;
		if (n == cap) {
			struct field *bigger = bson_malloc(sizeof *f * cap * 2);

			memcpy(bigger, f, sizeof *f * n);
			if (f != stack)
				bson_free(f);
			f = bigger;
			cap *= 2;
		}
		f[n].key = bson_iter_key(&it);
		f[n].it = it;
		n++;
	}
	if (sort)
		qsort(f, n, sizeof *f, field_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[512];

		bson_snprintf(path, sizeof path, "%s%s.", prefix, f[i].key);
		canon_value(h, out, f[i].key, &f[i].it, path, sort, numbers);
	}
	if (f != stack)
		bson_free(f);
}

bool
dochash_doc(struct dochash *h, const bson_t *doc, uint8_t *out, bson_error_t *err)
{
	bson_t canon;
	const bson_t *what = doc;
	bool ok;

	if (h->mode != DOCHASH_BINARY || h->nignore > 0) {
		bson_init(&canon);
		canon_doc(h, doc, &canon, "", h->mode != DOCHASH_BINARY, h->mode == DOCHASH_SEMANTIC);
		what = &canon;
	}
	ok = EVP_DigestInit_ex(h->ctx, h->md, NULL) == 1 &&
	     EVP_DigestUpdate(h->ctx, bson_get_data(what), what->len) == 1 &&
	     EVP_DigestFinal_ex(h->ctx, out, NULL) == 1;
	if (what != doc)
		bson_destroy(&canon);
	if (!ok)
		mp_error_set(err, MP_EX_SOFTWARE, "the digest failed (OpenSSL)");
	return ok;
}

void
dochash_id_key(const bson_value_t *id, bson_t *out)
{
	bson_t tmp = BSON_INITIALIZER;
	bson_iter_t it;

	bson_append_value(&tmp, "", 0, id);
	bson_init(out);
	bson_iter_init(&it, &tmp);
	bson_iter_next(&it);
	canon_value(NULL, out, "", &it, "", false, true);
	bson_destroy(&tmp);
}

void
dochash_hex(const uint8_t *d, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[2 * len] = '\0';
}
