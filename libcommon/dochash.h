/*
 * dochash.h: document digests for verification (mongo-hashdiff).
 *
 * A document is reduced to the form its comparison mode sees, then digested
 * with OpenSSL:
 *   binary     the BSON bytes as they are
 *   unordered  the fields of every embedded document sorted by name (arrays
 *              keep their order; types must match)
 *   semantic   as unordered, and numbers by value: int32, int64, double and
 *              decimal128 holding the same number digest alike
 * Fields named by --ignore-fields (dotted paths into embedded documents) are
 * left out first.  Two documents are equal under a mode when their digests
 * are.
 */
#ifndef MP_DOCHASH_H
#define MP_DOCHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bson/bson.h>

enum dochash_mode { DOCHASH_BINARY, DOCHASH_UNORDERED, DOCHASH_SEMANTIC };

#define DOCHASH_MAX 64 /* bytes of the largest digest (sha512 room) */

struct dochash;

/*
 * A hasher for `algo` ("sha256", "sha1" or "md5") and `mode`; `ignore` is a
 * comma-separated list of dotted paths or NULL.  NULL (64) for an unknown
 * algorithm.
 */
struct dochash *dochash_new(const char *algo, enum dochash_mode mode, const char *ignore, bson_error_t *err);
void dochash_destroy(struct dochash *h);

/* Digest length in bytes. */
size_t dochash_len(const struct dochash *h);

/* Digest `doc` into out[dochash_len()]. */
bool dochash_doc(struct dochash *h, const bson_t *doc, uint8_t *out, bson_error_t *err);

/*
 * The key a value is joined on: the value in its semantic form (numbers by
 * value), so _id 1 and NumberLong(1), which the server treats as one key,
 * join.  `out` receives a document {"": value}; free with bson_destroy.
 */
void dochash_id_key(const bson_value_t *id, bson_t *out);

/* Lowercase hex of a digest into `hex` (2 * len + 1 bytes). */
void dochash_hex(const uint8_t *d, size_t len, char *hex);

/* Parse "binary", "unordered", "semantic". */
bool dochash_mode_parse(const char *s, enum dochash_mode *out);

#endif
