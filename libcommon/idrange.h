/*
 * idrange.h: ranges of _id in the server's order, as query filters, and
 * deterministic splits of a collection into such ranges; and the one
 * document under an _id.
 *
 * A plain {_id: {$gt: X}} matches only values of X's type bracket (the
 * server compares within a bracket), so a resume after an ObjectId would skip
 * every string _id.  These filters add the brackets above (or below) X by
 * $type, so [lo, hi) holds exactly the _ids that sort between lo and hi under
 * bsoncmp, mixed types included.
 *
 * Limitation: JavaScript code and the deprecated types symbol, DBPointer and
 * code with scope are not listed, so an _id of one of those types falls
 * outside any range that is bounded on its far side.
 *
 * Not every server takes every type code in $type: FerretDB 1.x answers
 * "Type code -1 not implemented" for MinKey, and the same for MaxKey (127)
 * and Decimal128 (19), and cannot store such values either.  The filter
 * leaves out the rare types in `omit` (IDRANGE_RARE_* bits);
 * idrange_probe() finds the ones a server refuses and whether a collection
 * holds an _id of one of them.
 */
#ifndef MP_IDRANGE_H
#define MP_IDRANGE_H

#include <stdbool.h>
#include <mongoc/mongoc.h>

/*
 * Append to `filter` (as "$and" clauses, so it composes with the caller's
 * query) the condition lo <(=) field <(=) hi.  Either bound may be NULL.
 * `base` (may be NULL) is the caller's query, kept as the first clause.
 */
void idrange_filter(bson_t *filter, const bson_t *base, const char *field, const bson_value_t *lo,
	bool lo_incl, const bson_value_t *hi, bool hi_incl, uint32_t omit);

#define IDRANGE_RARE_MINKEY  1u
#define IDRANGE_RARE_MAXKEY  2u
#define IDRANGE_RARE_DECIMAL 4u
#define IDRANGE_RARE_ALL     7u

struct idrange_caps {
	uint32_t unnamed; /* rare types the server refuses in $type (it holds none of them) */
	uint32_t present; /* rare types some _id of the collection has */
};

/*
 * Ask the server, for each rare type, whether an _id of `coll` has it (a
 * find with limit 1 each).  A refusal by the server is an answer (unnamed);
 * false with err only when the server could not be asked.
 */
bool idrange_probe(mongoc_collection_t *coll, struct idrange_caps *caps, bson_error_t *err);
/* Name a set of rare types ("MinKey, Decimal128") for messages. */
const char *idrange_rare_names(uint32_t rare, char *buf, size_t size);

/*
 * Split the documents of `coll` matching `query` (may be NULL) into `n`
 * ranges of about equal count: fills bounds[0..*nbounds-1] (ascending _ids,
 * copies to free with bson_value_destroy) such that range k is
 * [bounds[k-1], bounds[k]) with open ends.  Deterministic for unchanged
 * data, so --partition K/N on several machines agree.  *nbounds < n-1 when
 * the collection has fewer documents than ranges.
 */
bool idrange_split(mongoc_collection_t *coll, const bson_t *query, int n, bson_value_t *bounds,
	int *nbounds, int64_t *total, bson_error_t *err);

/*
 * The documents of `coll` under the _ids ids[0..n-1]: docs[i] a copy to
 * bson_destroy(), or NULL when there is none (docs[] need not be set on
 * entry).  Asked of the primary with {_id: {$in: [...]}}, up to 1000 _ids
 * and about 8 MB a query: one round trip where a find per _id would take a
 * thousand (and on FerretDB 1.24, which scans for each, minutes).  Each
 * document goes to every _id it equals in the server's order (1 and 1.0
 * are one key); a regular expression, which $in would take as a pattern,
 * is asked alone with $eq.  False with err when the server did not answer
 * (every docs[i] then NULL).
 */
bool idrange_find_ids(mongoc_collection_t *coll, const bson_value_t *ids, int n, bson_t **docs,
	bson_error_t *err);

#endif
