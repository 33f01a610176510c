/*
 * changeapply.c: applying change events to a target (changeapply.h).
 */
#include <string.h>

#include "bsoncmp.h"
#include "changeapply.h"
#include "conn.h"
#include "ejson.h"
#include "exitcode.h"
#include "nsmap.h"

static bool
set_aside(const struct change_apply *a, const struct change_item *it, const char *why, int32_t code,
	bson_error_t *err)
{
	struct reject_why w = {why, code, it->record, 0, 0, true}; /* its place in the input is not kept */

	return reject_write(a->reject, &w, "event", it->event, NULL, NULL, 0, err);
}

bool
change_same_ns(const struct change_item *a, const struct change_item *b)
{
	if (a->ns_key && b->ns_key)
		return a->ns_key == b->ns_key;
	return strcmp(a->db, b->db) == 0 &&
	       (a->coll == b->coll || (a->coll && b->coll && strcmp(a->coll, b->coll) == 0));
}

int
change_segment_end(struct change_item *const *items, int from, int n)
{
	int j = from + 1;

	while (j < n && change_same_ns(items[j], items[from]))
		j++;
	return j;
}

/* ---- document events: ordered bulk writes ---- */

/* The state of one segment: items[start..n) are still to be applied. */
struct segment {
	const struct change_apply *a;
	mongoc_collection_t *coll;
	struct change_item *const *items;
	int n, start, attempt;
	int *map;	 /* the item of each write of the bulk */
	bool *as_insert; /* each write of the bulk: sent as an insert */
	bool upsert_all; /* a document was there already: no more inserts */
};

/*
 * A run of at least this many insert events is sent as inserts, the way the
 * load sends documents: the server's cheapest write, and the driver's (no
 * upsert to parse, no upserted _id to merge).  An insert is an upsert of a
 * document that is not there yet; when one is there (a resumed replay, the
 * overlap of a copy and its change stream), the server says duplicate key
 * and the rest of the segment goes again as upserts.  A shorter run upserts:
 * in one ordered bulk, the driver sends each run of one kind of write as a
 * command of its own.
 */
#define INSERT_RUN_MIN 16

/* The end of the run of insert events from items[i], at most end. */
static int
insert_run_end(const struct segment *s, int i, int end)
{
	while (i < end && s->items[i]->ev.op == CHANGE_INSERT)
		i++;
	return i;
}

/*
 * An insert of the replacement does what the upsert does when nothing is
 * there, and fails where it fails: the replacement holds the _id the filter
 * looks for (else the upsert is refused, or the driver would make one up),
 * and no top-level field starting with '$' (which an insert takes and a
 * replacement does not).
 */
static bool
insertable(const struct change_write *w)
{
	bson_iter_t it, id;
	bool has_id = false;

	if (w->kind != CHANGE_WRITE_REPLACE || !w->upsert || !bson_iter_init_find(&id, &w->filter, "_id") ||
	    !bson_iter_init(&it, &w->doc))
		return false;
	while (bson_iter_next(&it)) {
		const char *key = bson_iter_key(&it);

		if (key[0] == '$')
			return false;
		if (key[0] == '_' && strcmp(key, "_id") == 0) {
			if (bsoncmp_iter(&it, &id) != 0)
				return false;
			has_id = true;
		}
	}
	return has_id;
}

static bool
add_insert(mongoc_bulk_operation_t *bulk, const struct change_write *w, bson_error_t *err)
{
	/* {validate: false}: the bytes of the event were checked as they were read */
	static const uint8_t insert_opts[16] = {16, 0, 0, 0, BSON_TYPE_BOOL, 'v', 'a', 'l', 'i', 'd', 'a', 't', 'e',
		0, 0, 0};
	bson_t opts;

	bson_init_static(&opts, insert_opts, sizeof insert_opts);
	return mongoc_bulk_operation_insert_with_opts(bulk, &w->doc, &opts, err);
}

static bool
add_write(mongoc_bulk_operation_t *bulk, const struct change_write *w, bson_error_t *err)
{
	/* {upsert: true|false, validate: false}, built once: the bytes of the
	 * event were checked as they were read */
	static const uint8_t replace_opts[2][25] = {
		{25, 0, 0, 0, BSON_TYPE_BOOL, 'u', 'p', 's', 'e', 'r', 't', 0, 0, BSON_TYPE_BOOL, 'v', 'a', 'l', 'i', 'd',
			'a', 't', 'e', 0, 0, 0},
		{25, 0, 0, 0, BSON_TYPE_BOOL, 'u', 'p', 's', 'e', 'r', 't', 0, 1, BSON_TYPE_BOOL, 'v', 'a', 'l', 'i', 'd',
			'a', 't', 'e', 0, 0, 0},
	};
	bson_t opts;

	switch (w->kind) {
	case CHANGE_WRITE_REPLACE:
		bson_init_static(&opts, replace_opts[w->upsert], sizeof replace_opts[0]);
		return mongoc_bulk_operation_replace_one_with_opts(bulk, &w->filter, &w->doc, &opts, err);
	case CHANGE_WRITE_UPDATE:
		return mongoc_bulk_operation_update_one_with_opts(bulk, &w->filter, &w->doc, NULL, err);
	default:
		return mongoc_bulk_operation_remove_one_with_opts(bulk, &w->filter, NULL, err);
	}
}

/* Ask for the next event's first bytes while this one is written: they
 * were read on another thread, so each of their cache lines is a miss here
 * that otherwise stalls the lane in turn (past the first KiB, the
 * hardware's own prefetch follows the copy). */
static inline void
prefetch_event(const struct change_item *it)
{
	const uint8_t *p = bson_get_data(it->event);

	for (uint32_t off = 0; off < it->event->len && off < 1024; off += 64)
		__builtin_prefetch(p + off);
}

/*
 * Queue the writes of items[s->start..end) into bulk, up to the first event
 * that cannot be written.  Returns the index of that event (its reason in
 * why), or end when every one went in; *nops is the number of writes queued.
 */
static int
segment_fill(struct segment *s, mongoc_bulk_operation_t *bulk, int end, int *nops, bson_error_t *why)
{
	int run_end = s->start;
	bool run_inserts = false;

	*nops = 0;
	for (int i = s->start; i < end; i++) {
		struct change_write w[CHANGE_MAX_WRITES];

		if (i + 1 < end)
			prefetch_event(s->items[i + 1]);
		int nw = change_event_writes(&s->items[i]->ev, s->a->prefer_full, w, why);
		bool ok = nw >= 0, ins;

		if (i >= run_end && s->items[i]->ev.op == CHANGE_INSERT) {
			run_end = insert_run_end(s, i, end);
			run_inserts = !s->upsert_all && run_end - i >= INSERT_RUN_MIN;
		}
		ins = i < run_end && run_inserts && nw == 1 && insertable(&w[0]);
		for (int k = 0; ok && k < nw; k++) {
			ok = ins ? add_insert(bulk, &w[k], why) : add_write(bulk, &w[k], why);
			if (ok) {
				s->as_insert[*nops] = ins;
				s->map[(*nops)++] = i;
			}
		}
		if (nw > 0)
			change_writes_destroy(w, nw);
		if (!ok)
			return i;
	}
	return end;
}

static mongoc_bulk_operation_t *
segment_bulk(struct segment *s)
{
	bson_t bopts = BSON_INITIALIZER;
	mongoc_bulk_operation_t *bulk;

	BSON_APPEND_BOOL(&bopts, "ordered", true);
	mongoc_write_concern_append(s->a->wc, &bopts);
	bulk = mongoc_collection_create_bulk_operation_with_opts(s->coll, &bopts);
	bson_destroy(&bopts);
	return bulk;
}

static void
segment_applied(struct segment *s, int from, int to, const struct bulk_result *res)
{
	if (s->a->hooks.applied)
		s->a->hooks.applied(s->a->hooks.ctx, s->items + from, to - from, res);
	s->start = to;
}

/* items[bad] cannot be written: set it aside, or fail naming it. */
static bool
segment_unwritable(struct segment *s, int bad, bson_error_t *why, bson_error_t *err)
{
	const struct change_item *it = s->items[bad];
	char *tok;

	if (s->a->reject != NULL) {
		s->start = bad + 1;
		return set_aside(s->a, it, why->message, 0, err);
	}
	*err = *why;
	tok = change_token_text(&it->ev);
	mp_error_wrap(err, "event %llu (token %s)", (unsigned long long)it->record, tok);
	bson_free(tok);
	return false;
}

/* The target refused the write of res->attempted - 1: the events before it
 * are applied; it is set aside, or the segment fails naming it. */
static bool
segment_refused(struct segment *s, const struct bulk_result *res, bson_error_t *err)
{
	int i = s->map[res->attempted - 1];
	const struct change_item *it = s->items[i];
	const struct bulk_write_error *we = &res->errors[0];
	char *tok = change_token_text(&it->ev);

	segment_applied(s, s->start, i, res);
	mp_error_set(err, MP_EX_DATAERR, "event %llu (token %s, %s of %s.%s): the target refused the write: %s "
		"(code %d)", (unsigned long long)it->record, tok, it->ev.op_name, it->db, it->coll, we->msg,
		we->code);
	bson_free(tok);
	if (s->a->reject == NULL)
		return false;
	s->start = i + 1;
	s->attempt = 0;
	return set_aside(s->a, it, err->message, we->code, err);
}

/* Was the refused write an insert of a document already there?  Then the
 * events before it are applied, and it and the rest go again as upserts. */
static bool
segment_was_there(struct segment *s, const struct bulk_result *res)
{
	int32_t code = res->errors[0].code;
	uint32_t op = res->attempted - 1;

	if (!s->as_insert[op] || (code != 11000 && code != 11001 && code != 12582))
		return false;
	segment_applied(s, s->start, s->map[op], res);
	s->upsert_all = true;
	s->attempt = 0; /* progress: a retry before it does not count against the next */
	return true;
}

/* Nobody knows what the bulk did: send it again from s->start, or give up (69). */
static bool
segment_unknown(struct segment *s, const struct bulk_result *res, bson_error_t *err)
{
	const struct change_apply_hooks *h = &s->a->hooks;
	const struct change_item *first = s->items[s->start];

	if (s->attempt < s->a->retries && (h->retrying == NULL || h->retrying(h->ctx, first, &res->err))) {
		mp_backoff(s->attempt++);
		return true;
	}
	*err = res->err;
	mp_error_wrap(err, "%s.%s: %d events from event %llu not acknowledged after %d attempts", first->db,
		first->coll, s->n - s->start, (unsigned long long)first->record, s->attempt + 1);
	err->domain = MP_ERROR_DOMAIN;
	err->code = MP_EX_UNAVAILABLE;
	return false;
}

/*
 * Execute the bulk of items[s->start..stop) and act on what the server said:
 * 1 all applied, 0 go round again (an event set aside, or a retry), -1 fatal.
 */
static int
segment_execute(struct segment *s, mongoc_bulk_operation_t *bulk, int nops, int stop, bson_error_t *err)
{
	bson_t reply;
	bson_error_t xerr = {0};
	struct bulk_result res;
	bool exec_ok = true;
	int rc = -1;

	if (nops > 0)
		exec_ok = mongoc_bulk_operation_execute(bulk, &reply, &xerr) != 0;
	else
		bson_init(&reply);
	bulk_result_read(&res, (uint32_t)nops, BULK_KIND_OTHER, true, exec_ok, &reply, &xerr);
	switch (res.outcome) {
	case BULK_DONE:
		segment_applied(s, s->start, stop, &res);
		s->attempt = 0;
		rc = 1;
		break;
	case BULK_WRITE_ERRORS:
		if (segment_was_there(s, &res)) {
			rc = 0;
			break;
		}
		rc = segment_refused(s, &res, err) ? 0 : -1;
		break;
	case BULK_UNKNOWN:
		rc = segment_unknown(s, &res, err) ? 0 : -1;
		break;
	default:
		*err = res.err;
		break;
	}
	bulk_result_cleanup(&res);
	bson_destroy(&reply);
	return rc;
}

/* One ordered bulk from s->start to the first event that cannot be written,
 * then that event; false: fatal. */
static bool
segment_round(struct segment *s, bson_error_t *err)
{
	mongoc_bulk_operation_t *bulk = segment_bulk(s);
	bson_error_t why, again;
	int nops, stop = segment_fill(s, bulk, s->n, &nops, &why), rc;

	if (stop < s->n && nops > 0 && s->map[nops - 1] == stop) {
		/* part of the unwritable event went in: send only those before it */
		mongoc_bulk_operation_destroy(bulk);
		bulk = segment_bulk(s);
		segment_fill(s, bulk, stop, &nops, &again);
	}
	rc = segment_execute(s, bulk, nops, stop, err);
	mongoc_bulk_operation_destroy(bulk);
	if (rc == 1 && stop < s->n)
		return segment_unwritable(s, stop, &why, err);
	return rc >= 0;
}

bool
change_apply_segment(const struct change_apply *a, mongoc_client_t *client, struct change_item *const *items,
	int n, int *done, bson_error_t *err)
{
	struct segment s = {a, NULL, items, n, 0, 0, NULL, NULL, false};
	bool ok = true;

	s.coll = mongoc_client_get_collection(client, items[0]->db, items[0]->coll);
	s.map = bson_malloc(sizeof(int) * ((size_t)n * CHANGE_MAX_WRITES + 1));
	s.as_insert = bson_malloc(sizeof(bool) * ((size_t)n * CHANGE_MAX_WRITES + 1));
	while (ok && s.start < n)
		ok = segment_round(&s, err);
	*done = s.start;
	bson_free(s.as_insert);
	bson_free(s.map);
	mongoc_collection_destroy(s.coll);
	return ok;
}

/* ---- the dry run ---- */

bool
change_dry_print(struct docstream_writer *w, const char *db, const char *coll, const char *op,
	const bson_t *extra, bson_error_t *err)
{
	bson_t rec = BSON_INITIALIZER;
	char ns[512];
	bool ok;

	bson_snprintf(ns, sizeof ns, "%s%s%s", db, coll ? "." : "", coll ? coll : "");
	BSON_APPEND_UTF8(&rec, "ns", ns);
	BSON_APPEND_UTF8(&rec, "op", op);
	if (extra)
		bson_concat(&rec, extra);
	ok = docstream_write(w, &rec, err);
	bson_destroy(&rec);
	return ok;
}

static const char *
write_op_name(enum change_write_kind kind)
{
	switch (kind) {
	case CHANGE_WRITE_REPLACE: return "replaceOne";
	case CHANGE_WRITE_UPDATE: return "updateOne";
	default: return "deleteOne";
	}
}

bool
change_dry_writes(struct docstream_writer *w, const struct change_item *it, bool prefer_full, bson_error_t *err)
{
	struct change_write cw[CHANGE_MAX_WRITES];
	int nw = change_event_writes(&it->ev, prefer_full, cw, err);
	bool ok = nw >= 0;

	for (int k = 0; ok && k < nw; k++) {
		bson_t x = BSON_INITIALIZER;

		BSON_APPEND_DOCUMENT(&x, "filter", &cw[k].filter);
		if (cw[k].kind == CHANGE_WRITE_REPLACE)
			BSON_APPEND_DOCUMENT(&x, "replacement", &cw[k].doc);
		else if (cw[k].kind == CHANGE_WRITE_UPDATE)
			BSON_APPEND_DOCUMENT(&x, "update", &cw[k].doc);
		if (cw[k].upsert)
			BSON_APPEND_BOOL(&x, "upsert", true);
		ok = change_dry_print(w, it->db, it->coll, write_op_name(cw[k].kind), &x, err);
		bson_destroy(&x);
	}
	if (nw > 0)
		change_writes_destroy(cw, nw);
	return ok;
}

/* ---- control events ---- */

enum change_ddl_policy
change_ddl_decide(enum change_ddl_policy policy, enum change_op op)
{
	if (policy == CHANGE_DDL_STOP || (op == CHANGE_INVALIDATE && policy != CHANGE_DDL_SKIP))
		return CHANGE_DDL_STOP;
	return policy;
}

/* The operationDescription.indexes array of an index event, if any. */
static bool
op_indexes(const bson_t *event, bson_iter_t *arr)
{
	bson_iter_t it;

	return bson_iter_init(&it, event) && bson_iter_find_descendant(&it, "operationDescription.indexes", &it) &&
	       BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, arr);
}

/* createIndexes: {indexes: [the specs]}; dropIndexes: {index: [their names]}. */
static void
index_list(bson_t *cmd, bool create, bson_iter_t *arr)
{
	bson_t list;

	bson_append_array_begin(cmd, create ? "indexes" : "index", -1, &list);
	for (int i = 0; bson_iter_next(arr); i++) {
		bson_iter_t name;
		char key[16];

		bson_snprintf(key, sizeof key, "%d", i);
		if (create)
			bson_append_iter(&list, key, -1, arr);
		else if (bson_iter_recurse(arr, &name) && bson_iter_find(&name, "name"))
			bson_append_iter(&list, key, -1, &name);
	}
	bson_append_array_end(cmd, &list);
}

static void
rename_command(const struct change_item *it, const struct ns_map *map, bson_t *cmd, bson_t *shown)
{
	const char *to_db = NULL, *to_coll = NULL;
	char from[512], to[512];

	/* keeping what no rule maps, this always names a target; renamed as
	 * the event's own namespace was (--ns-from/--ns-to) */
	ns_map_apply(map, it->ev.to_db, it->ev.to_coll, true, &to_db, &to_coll);
	bson_snprintf(from, sizeof from, "%s.%s", it->db, it->coll);
	bson_snprintf(to, sizeof to, "%s.%s", to_db, to_coll);
	if (ns_rename_given()) {
		char *renamed = ns_rename(to);

		bson_strncpy(to, renamed, sizeof to);
		bson_free(renamed);
	}
	BSON_APPEND_UTF8(cmd, "renameCollection", from);
	BSON_APPEND_UTF8(cmd, "to", to);
	BSON_APPEND_BOOL(cmd, "dropTarget", true);
	BSON_APPEND_UTF8(shown, "to", to);
}

/* The command that applies `it` (APPLIED), or why there is none. */
static enum change_ddl_result
ddl_command(const struct change_item *it, const struct ns_map *map, bson_t *cmd, bson_t *shown, bson_error_t *err)
{
	const char *op = it->ev.op_name;
	bson_iter_t arr;

	switch (it->ev.op) {
	case CHANGE_DROP:
		BSON_APPEND_UTF8(cmd, "drop", it->coll);
		return CHANGE_DDL_APPLIED;
	case CHANGE_DROP_DATABASE:
		BSON_APPEND_INT32(cmd, "dropDatabase", 1);
		return CHANGE_DDL_APPLIED;
	case CHANGE_RENAME:
		rename_command(it, map, cmd, shown);
		return CHANGE_DDL_APPLIED;
	default:
		break;
	}
	if (strcmp(op, "create") == 0) {
		BSON_APPEND_UTF8(cmd, "create", it->coll);
		return CHANGE_DDL_APPLIED;
	}
	if (strcmp(op, "createIndexes") != 0 && strcmp(op, "dropIndexes") != 0)
		return CHANGE_DDL_UNSUPPORTED;
	if (it->coll == NULL || !op_indexes(it->event, &arr)) {
		mp_error_set(err, MP_EX_DATAERR, "%s event without operationDescription.indexes (watch with "
			"showExpandedEvents)", op);
		return CHANGE_DDL_FAILED;
	}
	BSON_APPEND_UTF8(cmd, op, it->coll);
	index_list(cmd, op[0] == 'c', &arr);
	return CHANGE_DDL_APPLIED;
}

/* Server errors that mean the target is already as the event leaves it:
 * NamespaceNotFound, NamespaceExists, IndexNotFound, IndexOptionsConflict,
 * IndexKeySpecsConflict. */
static bool
ddl_already(const bson_error_t *e)
{
	return e->code == 26 || e->code == 48 || e->code == 27 || e->code == 85 || e->code == 86 ||
	       strstr(e->message, "ns not found") || strstr(e->message, "already exists");
}

/* A server without renameCollection's dropTarget (it answers
 * NotImplemented, 238, naming the option; so FerretDB 1.24): the rename
 * without it, and only where the new name is taken (NamespaceExists, 48)
 * the collection under it dropped and the rename sent again.  So a rename
 * replayed after its source is gone keeps the target (26: already done),
 * as with dropTarget. */
static bool
rename_without_drop_target(mongoc_client_t *client, const bson_t *cmd, bson_error_t *err)
{
	bson_iter_t it;
	bson_t drop = BSON_INITIALIZER, plain = BSON_INITIALIZER;
	const char *to, *dot;
	char db[256];
	bool ok;

	bson_copy_to_excluding_noinit(cmd, &plain, "dropTarget", NULL);
	ok = conn_write_command(client, "admin", &plain, err);
	to = !ok && err->code == 48 && bson_iter_init_find(&it, cmd, "to") && BSON_ITER_HOLDS_UTF8(&it) ?
		bson_iter_utf8(&it, NULL) : NULL;
	dot = to != NULL ? strchr(to, '.') : NULL;
	if (dot != NULL && (size_t)(dot - to) < sizeof db) {
		bson_strncpy(db, to, (size_t)(dot - to) + 1);
		BSON_APPEND_UTF8(&drop, "drop", dot + 1);
		if (!conn_write_command(client, db, &drop, err) && err->code != 26)
			mp_error_wrap(err, "dropping %s before the rename", to);
		else
			ok = conn_write_command(client, "admin", &plain, err);
	}
	bson_destroy(&drop);
	bson_destroy(&plain);
	return ok;
}

static enum change_ddl_result
ddl_run(mongoc_client_t *client, const struct change_item *it, const bson_t *cmd, bson_error_t *err)
{
	/* renameCollection is an admin command; the others run on the database */
	const char *db = it->ev.op == CHANGE_RENAME ? "admin" : it->db;
	bool ok = conn_write_command(client, db, cmd, err);

	if (!ok && it->ev.op == CHANGE_RENAME && err->code == 238 && strstr(err->message, "dropTarget"))
		ok = rename_without_drop_target(client, cmd, err);
	if (ok)
		return CHANGE_DDL_APPLIED;
	/* a rename is done when its source is gone; a name taken is no proof */
	if (it->ev.op == CHANGE_RENAME ? err->code == 26 || strstr(err->message, "ns not found") != NULL :
	    ddl_already(err))
		return CHANGE_DDL_ALREADY;
	mp_error_wrap(err, "event %llu: applying %s", (unsigned long long)it->record, it->ev.op_name);
	return CHANGE_DDL_FAILED;
}

enum change_ddl_result
change_apply_ddl(const struct change_apply *a, mongoc_client_t *client, const struct change_item *it,
	bson_error_t *err)
{
	bson_t cmd = BSON_INITIALIZER, shown = BSON_INITIALIZER;
	enum change_ddl_result res = ddl_command(it, a->map, &cmd, &shown, err);

	if (res == CHANGE_DDL_APPLIED && a->dry != NULL) {
		BSON_APPEND_DOCUMENT(&shown, "command", &cmd);
		if (!change_dry_print(a->dry, it->db, it->coll, it->ev.op_name, &shown, err))
			res = CHANGE_DDL_FAILED;
	} else if (res == CHANGE_DDL_APPLIED) {
		res = ddl_run(client, it, &cmd, err);
	}
	bson_destroy(&cmd);
	bson_destroy(&shown);
	return res;
}

/* ---- transactions ---- */

struct txn_ctx {
	const struct change_apply *a;
	mongoc_client_t *client;
	struct change_item *const *items;
	int n;
};

static bool
txn_write(mongoc_client_session_t *session, mongoc_collection_t *coll, const struct change_write *w,
	bson_error_t *err)
{
	bson_t opts = BSON_INITIALIZER;
	bool ok = mongoc_client_session_append(session, &opts, err);

	if (ok && w->upsert)
		BSON_APPEND_BOOL(&opts, "upsert", true);
	if (!ok)
		;
	else if (w->kind == CHANGE_WRITE_REPLACE)
		ok = mongoc_collection_replace_one(coll, &w->filter, &w->doc, &opts, NULL, err);
	else if (w->kind == CHANGE_WRITE_UPDATE)
		ok = mongoc_collection_update_one(coll, &w->filter, &w->doc, &opts, NULL, err);
	else
		ok = mongoc_collection_delete_one(coll, &w->filter, &opts, NULL, err);
	bson_destroy(&opts);
	return ok;
}

static bool
txn_body(mongoc_client_session_t *session, void *ctx_, bson_t **reply, bson_error_t *err)
{
	struct txn_ctx *ctx = ctx_;
	bool ok = true;

	(void)reply;
	for (int i = 0; ok && i < ctx->n; i++) {
		const struct change_item *it = ctx->items[i];
		mongoc_collection_t *coll = mongoc_client_get_collection(ctx->client, it->db, it->coll);
		struct change_write w[CHANGE_MAX_WRITES];
		int nw = change_event_writes(&it->ev, ctx->a->prefer_full, w, err);

		ok = nw >= 0;
		for (int k = 0; ok && k < nw; k++)
			ok = txn_write(session, coll, &w[k], err);
		if (nw > 0)
			change_writes_destroy(w, nw);
		mongoc_collection_destroy(coll);
	}
	return ok;
}

static bool
txn_dry(const struct change_apply *a, struct change_item *const *items, int n, bson_error_t *err)
{
	bson_t x = BSON_INITIALIZER, lsid;
	bool ok;

	BSON_APPEND_DOCUMENT(&x, "lsid", change_doc_bson(&items[0]->ev.lsid, &lsid));
	BSON_APPEND_INT64(&x, "txnNumber", items[0]->ev.txn_number);
	BSON_APPEND_INT32(&x, "events", n);
	ok = change_dry_print(a->dry, items[0]->db, items[0]->coll, "startTransaction", &x, err);
	for (int i = 0; ok && i < n; i++)
		ok = change_dry_writes(a->dry, items[i], a->prefer_full, err);
	ok = ok && change_dry_print(a->dry, items[0]->db, items[0]->coll, "commitTransaction", NULL, err);
	bson_destroy(&x);
	return ok;
}

bool
change_apply_txn(const struct change_apply *a, mongoc_client_t *client, struct change_item *const *items, int n,
	bson_error_t *err)
{
	mongoc_client_session_t *s = NULL;
	mongoc_transaction_opt_t *topts = NULL;
	struct txn_ctx ctx = {a, client, items, n};
	bool ok;

	if (a->dry != NULL) {
		ok = txn_dry(a, items, n, err);
	} else {
		s = mongoc_client_start_session(client, NULL, err);
		topts = mongoc_transaction_opts_new();
		mongoc_transaction_opts_set_write_concern(topts, a->wc);
		ok = s != NULL && mongoc_client_session_with_transaction(s, txn_body, topts, &ctx, NULL, err);
		if (!ok)
			mp_error_wrap(err, "event %llu: the transaction of %d events", (unsigned long long)items[0]->record,
				n);
	}
	if (ok && a->hooks.applied)
		a->hooks.applied(a->hooks.ctx, items, n, NULL);
	if (topts)
		mongoc_transaction_opts_destroy(topts);
	if (s)
		mongoc_client_session_destroy(s);
	return ok;
}
