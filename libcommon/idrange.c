/*
 * idrange.c: _id range filters across type brackets, and splits by count.
 */
#include <stdio.h>
#include <string.h>

#include "bsoncmp.h"
#include "exitcode.h"
#include "idrange.h"

/*
 * $type numbers of the types an _id can hold.  MongoDB forbids arrays,
 * regular expressions and undefined as _id, so they are left out; so are
 * JavaScript code and the deprecated symbol, DBPointer and code with scope,
 * which no application uses as a key (see idrange.h).
 */
static const struct {
	int number;
	bson_type_t type;
	uint32_t rare; /* IDRANGE_RARE_* bit: a type not every server takes */
} all_types[] = {
	{-1, BSON_TYPE_MINKEY, IDRANGE_RARE_MINKEY}, {10, BSON_TYPE_NULL, 0},
	{1, BSON_TYPE_DOUBLE, 0}, {16, BSON_TYPE_INT32, 0}, {18, BSON_TYPE_INT64, 0},
	{19, BSON_TYPE_DECIMAL128, IDRANGE_RARE_DECIMAL}, {2, BSON_TYPE_UTF8, 0},
	{3, BSON_TYPE_DOCUMENT, 0}, {5, BSON_TYPE_BINARY, 0},
	{7, BSON_TYPE_OID, 0}, {8, BSON_TYPE_BOOL, 0}, {9, BSON_TYPE_DATE_TIME, 0},
	{17, BSON_TYPE_TIMESTAMP, 0}, {127, BSON_TYPE_MAXKEY, IDRANGE_RARE_MAXKEY},
};

static const struct {
	uint32_t bit;
	int number;
	const char *name;
} rare_types[] = {
	{IDRANGE_RARE_MINKEY, -1, "MinKey"},
	{IDRANGE_RARE_MAXKEY, 127, "MaxKey"},
	{IDRANGE_RARE_DECIMAL, 19, "Decimal128"},
};

/* Brackets whose values compare with $gt/$lt; the others (MinKey, undefined,
 * null, MaxKey) hold one value each, matched by $type. */
static bool
orderable(bson_type_t t)
{
	return t != BSON_TYPE_MINKEY && t != BSON_TYPE_MAXKEY && t != BSON_TYPE_NULL && t != BSON_TYPE_UNDEFINED;
}

/* {field: {$type: [types ranked above (sign>0) / below (sign<0) / equal (0) to v]}},
 * appended only when there is such a type (an empty $type list is refused
 * by the server): false when none is left. */
static bool
append_types(bson_t *arr_parent, const char *field, const bson_value_t *v, int sign, uint32_t omit, uint32_t *idx)
{
	int r = bsoncmp_type_rank(v->value_type);
	bson_t list = BSON_INITIALIZER, clause, sub;
	char key[16];
	const char *k;
	uint32_t n = 0;

	for (size_t i = 0; i < sizeof all_types / sizeof all_types[0]; i++) {
		int ri = bsoncmp_type_rank(all_types[i].type);

		if (all_types[i].rare & omit)
			continue;
		if ((sign > 0 && ri > r) || (sign < 0 && ri < r) || (sign == 0 && ri == r)) {
			bson_uint32_to_string(n++, &k, key, sizeof key);
			bson_append_int32(&list, k, -1, all_types[i].number);
		}
	}
	if (n > 0) {
		bson_uint32_to_string((*idx)++, &k, key, sizeof key);
		bson_append_document_begin(arr_parent, k, -1, &clause);
		bson_append_document_begin(&clause, field, -1, &sub);
		bson_append_array(&sub, "$type", -1, &list);
		bson_append_document_end(&clause, &sub);
		bson_append_document_end(arr_parent, &clause);
	}
	bson_destroy(&list);
	return n > 0;
}

/* One bound as {$or: [{field: {op: v}}, {field: {$type: [beyond]}}]}. */
static void
append_bound(bson_t *and_arr, uint32_t *and_idx, const char *field, const bson_value_t *v, bool incl,
	int sign, uint32_t omit)
{
	bson_t clause, ors, cmp, op, none;
	char key[16];
	const char *k;
	uint32_t oi = 0;

	bson_uint32_to_string((*and_idx)++, &k, key, sizeof key);
	bson_append_document_begin(and_arr, k, -1, &clause);
	bson_append_array_begin(&clause, "$or", -1, &ors);
	if (orderable(v->value_type)) {
		bson_uint32_to_string(oi++, &k, key, sizeof key);
		bson_append_document_begin(&ors, k, -1, &cmp);
		bson_append_document_begin(&cmp, field, -1, &op);
		bson_append_value(&op, sign > 0 ? (incl ? "$gte" : "$gt") : (incl ? "$lte" : "$lt"), -1, v);
		bson_append_document_end(&cmp, &op);
		bson_append_document_end(&ors, &cmp);
	} else if (incl) {
		append_types(&ors, field, v, 0, 0, &oi);
	}
	append_types(&ors, field, v, sign, omit, &oi);
	if (oi == 0) {
		/* nothing lies beyond v (a MaxKey lower bound, say): match nothing,
		 * as $or of an empty list is refused */
		bson_uint32_to_string(oi++, &k, key, sizeof key);
		bson_append_document_begin(&ors, k, -1, &cmp);
		bson_append_document_begin(&cmp, field, -1, &op);
		bson_append_array_begin(&op, "$in", 3, &none);
		bson_append_array_end(&op, &none);
		bson_append_document_end(&cmp, &op);
		bson_append_document_end(&ors, &cmp);
	}
	bson_append_array_end(&clause, &ors);
	bson_append_document_end(and_arr, &clause);
}

void
idrange_filter(bson_t *filter, const bson_t *base, const char *field, const bson_value_t *lo,
	bool lo_incl, const bson_value_t *hi, bool hi_incl, uint32_t omit)
{
	bson_t and_arr;
	uint32_t idx = 0;

	if (lo == NULL && hi == NULL) {
		if (base != NULL)
			bson_concat(filter, base);
		return;
	}
	bson_append_array_begin(filter, "$and", -1, &and_arr);
	if (base != NULL && !bson_empty(base)) {
		bson_append_document(&and_arr, "0", -1, base);
		idx++;
	}
	if (lo != NULL)
		append_bound(&and_arr, &idx, field, lo, lo_incl, 1, omit);
	if (hi != NULL)
		append_bound(&and_arr, &idx, field, hi, hi_incl, -1, omit);
	bson_append_array_end(filter, &and_arr);
}

/* The server refused the type code itself: BadValue (2) or NotImplemented
 * (238), saying so; not a failure that happened to come then. */
static bool
type_refused(const bson_error_t *err)
{
	return (err->domain == MONGOC_ERROR_SERVER || err->domain == MONGOC_ERROR_QUERY) &&
	       (err->code == 2 || err->code == 238 || err->code == 14) &&
	       (strstr(err->message, "ype code") != NULL || strstr(err->message, "$type") != NULL);
}

/* One rare type: present / absent / unnamed into caps; false when the
 * server could not be asked. */
static bool
probe_type(mongoc_collection_t *coll, uint32_t bit, int number, struct idrange_caps *caps, bson_error_t *err)
{
	bson_t filter = BSON_INITIALIZER, id;
	bson_t *opts = BCON_NEW("projection", "{", "_id", BCON_INT32(1), "}", "limit", BCON_INT64(1));
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bool ok = true;

	bson_append_document_begin(&filter, "_id", 3, &id);
	bson_append_int32(&id, "$type", 5, number);
	bson_append_document_end(&filter, &id);
	cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	if (mongoc_cursor_next(cur, &doc))
		caps->present |= bit;
	else if (!mongoc_cursor_error(cur, err))
		; /* none */
	else if (type_refused(err))
		caps->unnamed |= bit;
	else
		ok = false; /* any other failure (a step-down, no permission): not an answer */
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(&filter);
	return ok;
}

bool
idrange_probe(mongoc_collection_t *coll, struct idrange_caps *caps, bson_error_t *err)
{
	caps->unnamed = caps->present = 0;
	for (size_t i = 0; i < sizeof rare_types / sizeof rare_types[0]; i++)
		if (!probe_type(coll, rare_types[i].bit, rare_types[i].number, caps, err))
			return false;
	return true;
}

const char *
idrange_rare_names(uint32_t rare, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof rare_types / sizeof rare_types[0]; i++)
		if ((rare & rare_types[i].bit) && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "", rare_types[i].name);
	return buf;
}

bool
idrange_split(mongoc_collection_t *coll, const bson_t *query, int n, bson_value_t *bounds, int *nbounds,
	int64_t *total, bson_error_t *err)
{
	bson_t empty = BSON_INITIALIZER;
	const bson_t *q = query ? query : &empty;
	int64_t count;
	bool ok = true;

	*nbounds = 0;
	count = mongoc_collection_count_documents(coll, q, NULL, NULL, NULL, err);
	if (count < 0)
		return false;
	*total = count;
	for (int k = 1; k < n && ok; k++) {
		int64_t skip = count * k / n;
		bson_t *opts;
		mongoc_cursor_t *cur;
		const bson_t *doc;
		bson_iter_t it;

		if (skip >= count || skip == 0)
			continue;
		opts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}", "projection", "{", "_id", BCON_INT32(1), "}",
			"skip", BCON_INT64(skip), "limit", BCON_INT64(1), "batchSize", BCON_INT32(1));
		cur = mongoc_collection_find_with_opts(coll, q, opts, NULL);
		if (mongoc_cursor_next(cur, &doc) && bson_iter_init_find(&it, doc, "_id")) {
			if (*nbounds == 0 || bsoncmp_value(&bounds[*nbounds - 1], bson_iter_value(&it)) < 0)
				bson_value_copy(bson_iter_value(&it), &bounds[(*nbounds)++]);
		} else if (mongoc_cursor_error(cur, err)) {
			ok = false;
		}
		mongoc_cursor_destroy(cur);
		bson_destroy(opts);
	}
	bson_destroy(&empty);
	return ok;
}

enum { FIND_IDS_MAX = 1000, FIND_IDS_BYTES = 8 * 1024 * 1024 };

/* Run `filter` on the primary and give each document found to every one
 * of ids[0..n-1] that it equals in the server's order. */
static bool
find_ids_run(mongoc_collection_t *coll, const bson_t *filter, const bson_value_t *ids, int n, bson_t **docs,
	bson_error_t *err)
{
	mongoc_read_prefs_t *primary = mongoc_read_prefs_new(MONGOC_READ_PRIMARY);
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, primary);
	const bson_t *d;
	bool ok;

	while (mongoc_cursor_next(cur, &d)) {
		bson_iter_t it;

		if (!bson_iter_init_find(&it, d, "_id"))
			continue;
		for (int i = 0; i < n; i++)
			if (docs[i] == NULL && bsoncmp_value(bson_iter_value(&it), &ids[i]) == 0)
				docs[i] = bson_copy(d);
	}
	ok = !mongoc_cursor_error(cur, err);
	mongoc_cursor_destroy(cur);
	mongoc_read_prefs_destroy(primary);
	return ok;
}

/* The query for ids[i..*end-1]: {_id: {$in: [...]}} of up to FIND_IDS_MAX
 * _ids and about FIND_IDS_BYTES, or {_id: {$eq: RE}} for a regular
 * expression, which $in would take as a pattern. */
static bool
find_ids_query(const bson_value_t *ids, int i, int n, int *end, bson_t *filter, bson_error_t *err)
{
	bson_t cond, list;
	bool ok = true;
	int j = i;

	bson_append_document_begin(filter, "_id", 3, &cond);
	if (ids[i].value_type == BSON_TYPE_REGEX) {
		ok = bson_append_value(&cond, "$eq", 3, &ids[i]);
		j = i + 1;
	} else {
		bson_append_array_begin(&cond, "$in", 3, &list);
		for (; ok && j < n && j - i < FIND_IDS_MAX && list.len < FIND_IDS_BYTES; j++) {
			char key[16];
			const char *k;

			if (ids[j].value_type == BSON_TYPE_REGEX)
				break;
			bson_uint32_to_string((uint32_t)(j - i), &k, key, sizeof key);
			ok = bson_append_value(&list, k, -1, &ids[j]);
		}
		bson_append_array_end(&cond, &list);
	}
	bson_append_document_end(filter, &cond);
	*end = j;
	if (!ok)
		mp_error_set(err, MP_EX_SOFTWARE, "an _id too large to ask the server for");
	return ok;
}

bool
idrange_find_ids(mongoc_collection_t *coll, const bson_value_t *ids, int n, bson_t **docs, bson_error_t *err)
{
	bool ok = true;

	for (int i = 0; i < n; i++)
		docs[i] = NULL;
	for (int i = 0, end; ok && i < n; i = end) {
		bson_t filter = BSON_INITIALIZER;

		ok = find_ids_query(ids, i, n, &end, &filter, err) &&
		     find_ids_run(coll, &filter, ids + i, end - i, docs + i, err);
		bson_destroy(&filter);
	}
	if (!ok)
		for (int i = 0; i < n; i++)
			if (docs[i] != NULL) {
				bson_destroy(docs[i]);
				docs[i] = NULL;
			}
	return ok;
}
