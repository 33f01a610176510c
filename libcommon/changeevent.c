/*
 * changeevent.c: parse MongoDB change events and turn document events into
 * idempotent writes; resume token order; --ns-map rules.
 */
#include <string.h>

#include "bsoncmp.h"
#include "changeevent.h"
#include "ejson.h"
#include "exitcode.h"

static const struct {
	const char *name;
	enum change_op op;
} op_names[] = {
	{"insert", CHANGE_INSERT},
	{"replace", CHANGE_REPLACE},
	{"update", CHANGE_UPDATE},
	{"delete", CHANGE_DELETE},
	{"drop", CHANGE_DROP},
	{"rename", CHANGE_RENAME},
	{"dropDatabase", CHANGE_DROP_DATABASE},
	{"invalidate", CHANGE_INVALIDATE},
};

char *
change_token_text(const struct change_event *ev)
{
	bson_t t;

	return ev->has_token ? ejson_from_bson_new(change_doc_bson(&ev->token, &t), EJSON_CANONICAL, NULL)
			     : bson_strdup("(no _id)");
}

bool
change_op_is_document(enum change_op op)
{
	return op == CHANGE_INSERT || op == CHANGE_REPLACE || op == CHANGE_UPDATE || op == CHANGE_DELETE;
}

const char *
change_op_name(enum change_op op)
{
	for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
		if (op_names[i].op == op)
			return op_names[i].name;
	return "other";
}

enum change_op
change_op_from_name(const char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof op_names / sizeof op_names[0]; i++)
		if (strcmp(op_names[i].name, name) == 0)
			return op_names[i].op;
	return CHANGE_OTHER_DDL;
}

/*
 * A whole number as int64.  libbson's bson_iter_as_int64() casts any double,
 * which is undefined behaviour beyond the int64 range (NaN, 1e300): a double
 * is taken only when it is integral and in range.
 */
static bool
iter_whole(const bson_iter_t *it, int64_t *out)
{
	double d;

	switch (bson_iter_type(it)) {
	case BSON_TYPE_INT32:
		*out = bson_iter_int32(it);
		return true;
	case BSON_TYPE_INT64:
		*out = bson_iter_int64(it);
		return true;
	case BSON_TYPE_DOUBLE:
		d = bson_iter_double(it);
		if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
			return false;
		*out = (int64_t)d;
		return (double)*out == d;
	default:
		return false;
	}
}

/* A string that is also a C string: NULL for any other type or for a string
 * holding a NUL byte, which every strcmp and key built from it would cut. */
static const char *
iter_cstr(const bson_iter_t *it)
{
	uint32_t len;
	const char *s;

	if (!BSON_ITER_HOLDS_UTF8(it))
		return NULL;
	s = bson_iter_utf8(it, &len);
	return strlen(s) == len ? s : NULL;
}

/* A sub-document, viewed in place (the checks of bson_init_static). */
static bool
sub_doc(const bson_iter_t *it, struct change_doc *out)
{
	const uint8_t *data;
	uint32_t len;

	if (!BSON_ITER_HOLDS_DOCUMENT(it))
		return false;
	bson_iter_document(it, &len, &data);
	if (len < 5 || len > INT32_MAX || data[len - 1] != 0)
		return false;
	out->data = data, out->len = len;
	return true;
}

/* ns {db, coll} or to {db, coll} */
static bool
parse_ns(const bson_iter_t *it, const char **db, const char **coll)
{
	bson_iter_t sub;

	*db = *coll = NULL;
	if (!BSON_ITER_HOLDS_DOCUMENT(it) || !bson_iter_recurse(it, &sub))
		return false;
	while (bson_iter_next(&sub)) {
		if (strcmp(bson_iter_key(&sub), "db") == 0)
			*db = iter_cstr(&sub);
		else if (strcmp(bson_iter_key(&sub), "coll") == 0)
			*coll = iter_cstr(&sub);
	}
	return *db != NULL;
}

/* What the fields seen so far tell, beyond the event itself. */
struct seen {
	bool ns, op, to, txn_number, lsid;
};

static bool
refuse(bson_error_t *err, const char *what)
{
	mp_error_set(err, MP_EX_DATAERR, "%s", what);
	return false;
}

static bool
parse_split(const bson_iter_t *it, struct change_event *ev, bson_error_t *err)
{
	bson_iter_t sub;
	int64_t fragment = 0, of = 0;

	if (!BSON_ITER_HOLDS_DOCUMENT(it) || !bson_iter_recurse(it, &sub))
		return refuse(err, "splitEvent is not a document");
	while (bson_iter_next(&sub)) {
		if (strcmp(bson_iter_key(&sub), "fragment") == 0 && !iter_whole(&sub, &fragment))
			fragment = 0;
		else if (strcmp(bson_iter_key(&sub), "of") == 0 && !iter_whole(&sub, &of))
			of = 0;
	}
	if (fragment < 1 || of < fragment || of > INT32_MAX)
		return refuse(err, "splitEvent is not {fragment, of} with 1 <= fragment <= of");
	ev->split_fragment = (int32_t)fragment;
	ev->split_of = (int32_t)of;
	ev->has_split = true;
	return true;
}

static bool
parse_op(const bson_iter_t *it, struct change_event *ev, bson_error_t *err)
{
	if ((ev->op_name = iter_cstr(it)) == NULL)
		return refuse(err, "operationType is not a string");
	ev->op = change_op_from_name(ev->op_name);
	return true;
}

/* The fields parse_field knows, by name: one comparison per field instead
 * of a chain of them (the replay parses every event). */
enum field {
	F_OTHER, F_ID, F_OP, F_NS, F_TO, F_KEY, F_UPDATE, F_SPLIT, F_FULL, F_LSID, F_TXN, F_CLUSTER, F_WALL,
};

static enum field
field_of(const char *k, uint32_t len)
{
	/* by first letter, with the name's length: most keys are told apart
	 * without reading them, and the one candidate is compared by memcmp */
#define N(name) name, sizeof name - 1
	static const struct {
		const char *name;
		uint32_t len;
		enum field f;
	} by_letter[] = {
		['_'] = {N("_id"), F_ID}, ['o'] = {N("operationType"), F_OP}, ['n'] = {N("ns"), F_NS},
		['t'] = {N("to"), F_TO}, ['d'] = {N("documentKey"), F_KEY}, ['u'] = {N("updateDescription"), F_UPDATE},
		['s'] = {N("splitEvent"), F_SPLIT}, ['f'] = {N("fullDocument"), F_FULL}, ['l'] = {N("lsid"), F_LSID},
		['c'] = {N("clusterTime"), F_CLUSTER}, ['w'] = {N("wallTime"), F_WALL},
	};
#undef N
	unsigned char c = (unsigned char)k[0];

	if (c < sizeof by_letter / sizeof by_letter[0] && by_letter[c].name && by_letter[c].len == len &&
	    memcmp(k, by_letter[c].name, len) == 0)
		return by_letter[c].f;
	return len == sizeof "txnNumber" - 1 && memcmp(k, "txnNumber", len) == 0 ? F_TXN : F_OTHER;
}

/* One field of the event; false (65) when it is there but malformed. */
static bool
parse_field(bson_iter_t *it, struct change_event *ev, struct seen *seen, bson_error_t *err)
{
	switch (field_of(bson_iter_key(it), bson_iter_key_len(it))) {
	case F_ID:
		return (ev->has_token = sub_doc(it, &ev->token)) ||
		       refuse(err, "the event's _id (its resume token) is not a document");
	case F_OP:
		return (seen->op = parse_op(it, ev, err));
	case F_NS:
		return (seen->ns = parse_ns(it, &ev->db, &ev->coll)) || refuse(err, "ns is not {db, coll}");
	case F_TO:
		return (seen->to = parse_ns(it, &ev->to_db, &ev->to_coll) && ev->to_coll != NULL) ||
		       refuse(err, "to is not {db, coll}");
	case F_KEY:
		return (ev->has_key = sub_doc(it, &ev->key)) || refuse(err, "documentKey is not a document");
	case F_UPDATE:
		return (ev->has_update = sub_doc(it, &ev->update)) || refuse(err, "updateDescription is not a document");
	case F_SPLIT:
		return parse_split(it, ev, err);
	case F_FULL:
		ev->has_full = sub_doc(it, &ev->full);
		break;
	case F_LSID:
		seen->lsid = sub_doc(it, &ev->lsid);
		break;
	case F_TXN:
		seen->txn_number = iter_whole(it, &ev->txn_number);
		break;
	case F_CLUSTER:
		if (BSON_ITER_HOLDS_TIMESTAMP(it))
			bson_iter_timestamp(it, &ev->cluster_secs, &ev->cluster_inc);
		break;
	case F_WALL:
		if (BSON_ITER_HOLDS_DATE_TIME(it))
			ev->wall_ms = bson_iter_date_time(it);
		break;
	case F_OTHER:
		break;
	}
	return true;
}

static bool
key_has_id(const struct change_doc *key)
{
	bson_t b;
	bson_iter_t it;

	return bson_iter_init_find(&it, change_doc_bson(key, &b), "_id");
}

/* The fields an event of its type must have. */
static bool
check_event(const struct change_event *ev, const struct seen *seen, bson_error_t *err)
{
	if (ev->has_split)
		return true;
	if (!seen->op)
		return refuse(err, "the record has no operationType: not a change event");
	if (ev->op == CHANGE_INVALIDATE)
		return true;
	if (!seen->ns)
		mp_error_set(err, MP_EX_DATAERR, "%s event without ns", ev->op_name);
	else if (ev->op == CHANGE_RENAME && !seen->to)
		mp_error_set(err, MP_EX_DATAERR, "rename event without to");
	else if (!change_op_is_document(ev->op))
		return true;
	else if (ev->coll == NULL)
		mp_error_set(err, MP_EX_DATAERR, "%s event whose ns has no coll", ev->op_name);
	else if (!ev->has_key)
		mp_error_set(err, MP_EX_DATAERR, "%s event without documentKey", ev->op_name);
	else if (!key_has_id(&ev->key))
		/* the filter of its write: without _id it would match any document */
		mp_error_set(err, MP_EX_DATAERR, "%s event whose documentKey has no _id", ev->op_name);
	else if ((ev->op == CHANGE_INSERT || ev->op == CHANGE_REPLACE) && !ev->has_full)
		mp_error_set(err, MP_EX_DATAERR, "%s event without fullDocument", ev->op_name);
	else if (ev->op == CHANGE_UPDATE && !ev->has_update && !ev->has_full)
		mp_error_set(err, MP_EX_DATAERR, "update event with neither updateDescription nor fullDocument");
	else
		return true;
	return false;
}

bool
change_event_parse(const bson_t *doc, struct change_event *ev, bson_error_t *err)
{
	bson_iter_t it;
	struct seen seen = {0};

	memset(ev, 0, sizeof *ev);
	if (!bson_iter_init(&it, doc))
		return refuse(err, "the event is not a valid document");
	while (bson_iter_next(&it))
		if (!parse_field(&it, ev, &seen, err))
			return false;
	ev->has_txn = seen.lsid && seen.txn_number;
	return check_event(ev, &seen, err);
}

bool
change_event_join(const bson_t *const *frags, int n, bson_t *out, bson_error_t *err)
{
	bson_init(out);
	for (int i = 0; i < n; i++) {
		struct change_event ev;
		bson_iter_t it;

		if (!change_event_parse(frags[i], &ev, err))
			return false;
		if (!ev.has_split || ev.split_fragment != i + 1 || ev.split_of != n) {
			mp_error_set(err, MP_EX_DATAERR, "split event fragment %d of %d is missing or out of order",
				i + 1, n);
			return false;
		}
		bson_iter_init(&it, frags[i]);
		while (bson_iter_next(&it)) {
			const char *k = bson_iter_key(&it);

			if (strcmp(k, "splitEvent") == 0 || (strcmp(k, "_id") == 0 && i != n - 1))
				continue;
			if (strcmp(k, "_id") != 0) {
				bson_iter_t dup;

				if (bson_iter_init_find(&dup, out, k))
					continue; /* fields repeated in fragments (_id aside) are equal */
			}
			bson_append_iter(out, k, -1, &it);
		}
	}
	return true;
}

/* ---- writes ---- */

/* A path that $set/$unset cannot address: a component with a '.' or a
 * leading '$' (disambiguatedPaths lists the components of such paths). */
static bool
path_is_literal(const bson_t *update, const char *path)
{
	bson_iter_t it, comps;

	if (!bson_iter_init_find(&it, update, "disambiguatedPaths") || !BSON_ITER_HOLDS_DOCUMENT(&it) ||
	    !bson_iter_recurse(&it, &it) || !bson_iter_find(&it, path) || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, &comps))
		return path[0] == '$';
	while (bson_iter_next(&comps)) {
		if (BSON_ITER_HOLDS_UTF8(&comps)) {
			const char *c = bson_iter_utf8(&comps, NULL);

			if (strchr(c, '.') != NULL || c[0] == '$' || c[0] == '\0')
				return true;
		}
	}
	return false;
}

/* The filter is a view of the event's key, not a copy: a write lives only
 * while its event does (change_writes_destroy() frees what was built). */
static void
write_init(struct change_write *w, enum change_write_kind kind, const struct change_doc *filter, bool upsert)
{
	w->kind = kind;
	change_doc_bson(filter, &w->filter);
	bson_init(&w->doc);
	w->upsert = upsert;
}

/* A replacement by the event's full document, viewed in place. */
static void
write_replace(struct change_write *w, const struct change_event *ev)
{
	write_init(w, CHANGE_WRITE_REPLACE, &ev->key, true);
	change_doc_bson(&ev->full, &w->doc);
}

/* Whether a path of the update names a field literally (a '.' or '$' in a
 * field name): then no operator can express it.  -1 (65) on a NUL byte. */
static int
update_is_literal(const struct change_event *ev, bson_error_t *err)
{
	bson_iter_t it, sub;
	bson_t u;
	const bson_t *update = change_doc_bson(&ev->update, &u);
	bool literal = false;

	if (bson_iter_init_find(&it, update, "updatedFields") && bson_iter_recurse(&it, &sub))
		while (bson_iter_next(&sub))
			literal = literal || path_is_literal(update, bson_iter_key(&sub));
	if (bson_iter_init_find(&it, update, "removedFields") && bson_iter_recurse(&it, &sub)) {
		while (bson_iter_next(&sub)) {
			if (BSON_ITER_HOLDS_UTF8(&sub) && iter_cstr(&sub) == NULL) {
				mp_error_set(err, MP_EX_DATAERR, "removedFields holds a path with a NUL byte");
				return -1;
			}
			literal = literal || (iter_cstr(&sub) && path_is_literal(update, iter_cstr(&sub)));
		}
	}
	return literal;
}

/* {field: {$each: [], $slice: newSize}} for each truncated array; the
 * number of entries, or -1 (65) for a malformed one. */
static int
truncations(const struct change_event *ev, bson_t *push, bson_error_t *err)
{
	bson_iter_t it, sub, t;
	bson_t u;
	int npush = 0;

	if (!bson_iter_init_find(&it, change_doc_bson(&ev->update, &u), "truncatedArrays") ||
	    !bson_iter_recurse(&it, &sub))
		return 0;
	while (bson_iter_next(&sub)) {
		const char *field = NULL;
		int64_t size = -1;
		bson_t spec, each;

		if (!bson_iter_recurse(&sub, &t))
			continue;
		while (bson_iter_next(&t)) {
			if (strcmp(bson_iter_key(&t), "field") == 0)
				field = iter_cstr(&t);
			else if (strcmp(bson_iter_key(&t), "newSize") == 0 && !iter_whole(&t, &size))
				size = -1;
		}
		if (field == NULL || size < 0) {
			mp_error_set(err, MP_EX_DATAERR, "truncatedArrays entry is not {field, newSize}");
			return -1;
		}
		bson_append_document_begin(push, field, -1, &spec);
		bson_append_array_begin(&spec, "$each", 5, &each);
		bson_append_array_end(&spec, &each);
		BSON_APPEND_INT64(&spec, "$slice", size);
		bson_append_document_end(push, &spec);
		npush++;
	}
	return npush;
}

/* $set of updatedFields and $unset of removedFields, as one write. */
static int
set_and_unset(const struct change_event *ev, struct change_write *w)
{
	bson_iter_t it, sub;
	bson_t set = BSON_INITIALIZER, unset = BSON_INITIALIZER, u;
	const bson_t *update = change_doc_bson(&ev->update, &u);
	int nset = 0, nunset = 0;

	if (bson_iter_init_find(&it, update, "updatedFields") && bson_iter_recurse(&it, &sub))
		for (; bson_iter_next(&sub); nset++)
			bson_append_iter(&set, bson_iter_key(&sub), -1, &sub);
	if (bson_iter_init_find(&it, update, "removedFields") && bson_iter_recurse(&it, &sub))
		while (bson_iter_next(&sub))
			if (iter_cstr(&sub) != NULL && ++nunset)
				bson_append_utf8(&unset, iter_cstr(&sub), -1, "", 0);
	if (nset + nunset > 0) {
		write_init(w, CHANGE_WRITE_UPDATE, &ev->key, false);
		if (nset > 0)
			BSON_APPEND_DOCUMENT(&w->doc, "$set", &set);
		if (nunset > 0)
			BSON_APPEND_DOCUMENT(&w->doc, "$unset", &unset);
	}
	bson_destroy(&set);
	bson_destroy(&unset);
	return nset + nunset > 0;
}

static int
update_writes(const struct change_event *ev, struct change_write *w, bson_error_t *err)
{
	bson_t push = BSON_INITIALIZER;
	int n = 0, npush, literal = update_is_literal(ev, err);

	/* every path goes by operators, or the fullDocument replaces */
	if (literal < 0)
		return -1;
	if (literal) {
		if (ev->has_full) {
			write_replace(&w[0], ev);
			return 1;
		}
		mp_error_set(err, MP_EX_DATAERR, "update event with a field name holding '.' or '$' "
			"and no fullDocument: watch with --full-document updateLookup");
		return -1;
	}
	if ((npush = truncations(ev, &push, err)) < 0) {
		bson_destroy(&push);
		return -1;
	}
	if (npush > 0) {
		write_init(&w[n], CHANGE_WRITE_UPDATE, &ev->key, false);
		BSON_APPEND_DOCUMENT(&w[n].doc, "$push", &push);
		n++;
	}
	bson_destroy(&push);
	return n + set_and_unset(ev, &w[n]);
}

int
change_event_writes(const struct change_event *ev, bool prefer_full, struct change_write *w,
	bson_error_t *err)
{
	if (ev->has_split) {
		/* a fragment carries only some of the fields: never a write */
		mp_error_set(err, MP_EX_SOFTWARE, "a fragment of a split event: join it first");
		return -1;
	}
	switch (ev->op) {
	case CHANGE_INSERT:
	case CHANGE_REPLACE:
		write_replace(&w[0], ev);
		return 1;
	case CHANGE_UPDATE:
		if (ev->has_full && (prefer_full || !ev->has_update)) {
			write_replace(&w[0], ev);
			return 1;
		}
		return update_writes(ev, w, err);
	case CHANGE_DELETE:
		write_init(&w[0], CHANGE_WRITE_DELETE, &ev->key, false);
		return 1;
	default:
		mp_error_set(err, MP_EX_SOFTWARE, "%s is not a document event", ev->op_name);
		return -1;
	}
}

void
change_writes_destroy(struct change_write *w, int n)
{
	for (int i = 0; i < n; i++) {
		bson_destroy(&w[i].filter);
		bson_destroy(&w[i].doc);
	}
}

int
change_token_cmp(const bson_t *a, const bson_t *b)
{
	bson_iter_t ia, ib;

	if (bson_iter_init_find(&ia, a, "_data") && BSON_ITER_HOLDS_UTF8(&ia) &&
	    bson_iter_init_find(&ib, b, "_data") && BSON_ITER_HOLDS_UTF8(&ib)) {
		uint32_t la, lb;
		const char *sa = bson_iter_utf8(&ia, &la), *sb = bson_iter_utf8(&ib, &lb);
		int c = memcmp(sa, sb, la < lb ? la : lb);

		return c != 0 ? c : (la > lb) - (la < lb);
	}
	return bsoncmp_doc(a, b);
}

/* FNV-1a, 64 bits, over n bytes, continuing from h. */
static uint64_t
fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* The hash of one _id element: a number equal to an int64 as that int64. */
static uint64_t
id_hash(const bson_iter_t *it)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	bson_type_t t = bson_iter_type(it);
	int64_t i = 0;
	bool whole = t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64;

	if (whole) {
		i = t == BSON_TYPE_INT32 ? bson_iter_int32(it) : bson_iter_int64(it);
	} else if (t == BSON_TYPE_DOUBLE) {
		double d = bson_iter_double(it);

		/* -2^63 <= d < 2^63, and no fraction: the int64 it equals */
		if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == (double)(int64_t)d) {
			i = (int64_t)d;
			whole = true;
		}
	}
	if (whole) {
		uint8_t b[9] = {BSON_TYPE_INT64};
		uint64_t u = (uint64_t)i;

		for (int k = 0; k < 8; k++)
			b[1 + k] = (uint8_t)(u >> (8 * k));
		return fnv1a(h, b, sizeof b);
	}
	{
		uint8_t tb = (uint8_t)t;

		h = fnv1a(h, &tb, 1);
		return fnv1a(h, it->raw + it->d1, it->next_off - it->d1);
	}
}

uint64_t
change_key_hash(const bson_t *document_key)
{
	bson_iter_t id;

	if (bson_iter_init_find(&id, document_key, "_id"))
		return id_hash(&id);
	return fnv1a(UINT64_C(0xcbf29ce484222325), bson_get_data(document_key), document_key->len);
}

bool
change_event_key(const bson_t *event, char out[17])
{
	bson_iter_t it, id;
	uint64_t h;

	if (!bson_iter_init_find(&it, event, "documentKey") || !BSON_ITER_HOLDS_DOCUMENT(&it) ||
	    !bson_iter_recurse(&it, &id) || !bson_iter_find(&id, "_id"))
		return false;
	h = id_hash(&id);
	for (int k = 15; k >= 0; k--, h >>= 4)
		out[k] = "0123456789abcdef"[h & 15];
	out[16] = '\0';
	return true;
}
