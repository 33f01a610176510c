/*
 * bulkwrite.c: the outcome of a bulk write read from the server's reply, and
 * the acknowledgement window (bulkwrite.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "bulkwrite.h"
#include "ejson.h"
#include "exitcode.h"

static uint64_t
reply_count(const bson_t *reply, const char *key)
{
	bson_iter_t it;

	if (reply == NULL || !bson_iter_init_find(&it, reply, key) || !BSON_ITER_HOLDS_NUMBER(&it))
		return 0;
	return (uint64_t)bson_iter_as_int64(&it);
}

static bool
nonempty_array(const bson_t *reply, const char *key, bson_iter_t *arr)
{
	bson_iter_t it;

	return reply != NULL && bson_iter_init_find(&it, reply, key) && BSON_ITER_HOLDS_ARRAY(&it) &&
	       bson_iter_recurse(&it, arr) && bson_iter_next(arr);
}

/* keyPattern {_id: 1}: the duplicate is on _id itself */
static bool
key_is_id(const bson_iter_t *e)
{
	bson_iter_t k;

	return BSON_ITER_HOLDS_DOCUMENT(e) && bson_iter_recurse(e, &k) && bson_iter_next(&k) &&
	       strcmp(bson_iter_key(&k), "_id") == 0 && !bson_iter_next(&k);
}

static int
by_index(const void *a, const void *b)
{
	const struct bulk_write_error *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static void
read_write_errors(struct bulk_result *res, const bson_t *reply, uint32_t nwrites)
{
	bson_iter_t arr, e;
	uint32_t cap = 0;

	if (!nonempty_array(reply, "writeErrors", &arr))
		return;
	do {
		struct bulk_write_error we = {0};
		int64_t idx = -1;

		if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &e))
			continue;
		while (bson_iter_next(&e)) {
			const char *k = bson_iter_key(&e);

			if (strcmp(k, "index") == 0 && BSON_ITER_HOLDS_NUMBER(&e))
				idx = bson_iter_as_int64(&e);
			else if (strcmp(k, "code") == 0 && BSON_ITER_HOLDS_NUMBER(&e))
				we.code = (int32_t)bson_iter_as_int64(&e);
			else if (strcmp(k, "errmsg") == 0 && BSON_ITER_HOLDS_UTF8(&e))
				bson_strncpy(we.msg, bson_iter_utf8(&e, NULL), sizeof we.msg);
			else if (strcmp(k, "keyPattern") == 0)
				we.on_id = key_is_id(&e), we.key_named = true;
		}
		if (strstr(we.msg, "index: _id_ ") != NULL)
			we.on_id = true;
		if (strstr(we.msg, "index: ") != NULL)
			we.key_named = true;
		if (idx < 0 || idx >= (int64_t)nwrites)
			continue;
		we.index = (uint32_t)idx;
		if (res->nerrors == cap) {
			cap = cap ? cap * 2 : 8;
			res->errors = bson_realloc(res->errors, sizeof *res->errors * cap);
		}
		res->errors[res->nerrors++] = we;
	} while (bson_iter_next(&arr));
	qsort(res->errors, res->nerrors, sizeof *res->errors, by_index);
}

static bool
network_error(const bson_error_t *err)
{
	return err->domain == MONGOC_ERROR_STREAM || err->domain == MONGOC_ERROR_SERVER_SELECTION;
}

/* The writes the server says it applied, against those it should have. */
static bool
counts_short(struct bulk_result *res, enum bulk_kind kind, uint64_t expect)
{
	uint64_t got;

	switch (kind) {
	case BULK_KIND_INSERT:
		got = res->inserted;
		break;
	case BULK_KIND_UPSERT:
		got = res->matched + res->upserted;
		break;
	default:
		return false;
	}
	if (got >= expect)
		return false;
	res->outcome = BULK_UNKNOWN;
	mp_error_set(&res->err, MP_EX_TEMPFAIL, "the server acknowledged %llu of %llu writes and reported no error "
		"for the rest", (unsigned long long)got, (unsigned long long)expect);
	return true;
}

void
bulk_result_read(struct bulk_result *res, uint32_t nwrites, enum bulk_kind kind, bool ordered, bool exec_ok,
	const bson_t *reply, const bson_error_t *err)
{
	bson_iter_t arr;

	memset(res, 0, sizeof *res);
	res->inserted = reply_count(reply, "nInserted");
	res->upserted = reply_count(reply, "nUpserted");
	res->matched = reply_count(reply, "nMatched");
	res->modified = reply_count(reply, "nModified");
	res->removed = reply_count(reply, "nRemoved");
	read_write_errors(res, reply, nwrites);
	if (err != NULL)
		res->err = *err;

	if (nonempty_array(reply, "writeConcernErrors", &arr)) {
		/* applied, but not as durably as asked: writing again is harmless */
		res->outcome = BULK_UNKNOWN;
		if (exec_ok || err == NULL || err->message[0] == '\0')
			mp_error_set(&res->err, MP_EX_TEMPFAIL, "the write concern was not satisfied");
		return;
	}
	if (exec_ok) {
		res->outcome = BULK_DONE;
		res->attempted = nwrites;
		counts_short(res, kind, nwrites);
		return;
	}
	if (err != NULL && network_error(err) && mp_error_transient(err)) {
		/* the request may have been applied in part, in full or not at all
		 * (a TLS or authentication failure is not transient: nothing was
		 * sent, and sending again fails the same way) */
		res->outcome = BULK_UNKNOWN;
		return;
	}
	if (res->nerrors > 0) {
		res->outcome = BULK_WRITE_ERRORS;
		res->attempted = ordered ? res->errors[0].index + 1 : nwrites;
		counts_short(res, kind, ordered ? res->errors[0].index : nwrites - res->nerrors);
		return;
	}
	if (err != NULL && mp_error_transient(err)) {
		res->outcome = BULK_UNKNOWN;
		return;
	}
	res->outcome = BULK_FAILED;
	if (err == NULL || err->message[0] == '\0')
		mp_error_set(&res->err, MP_EX_UNAVAILABLE, "the bulk write failed without an error message");
}

void
bulk_result_cleanup(struct bulk_result *res)
{
	bson_free(res->errors);
	res->errors = NULL;
	res->nerrors = 0;
}

static bool
wc_from_document(mongoc_write_concern_t *wc, const bson_t *doc, bson_error_t *err)
{
	bson_iter_t it;

	if (!bson_iter_init(&it, doc))
		return false;
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (strcmp(k, "w") == 0 && BSON_ITER_HOLDS_NUMBER(&it) && bson_iter_as_int64(&it) >= 1 &&
		    bson_iter_as_int64(&it) <= 1000) {
			mongoc_write_concern_set_w(wc, (int32_t)bson_iter_as_int64(&it));
		} else if (strcmp(k, "w") == 0 && BSON_ITER_HOLDS_UTF8(&it)) {
			if (strcmp(bson_iter_utf8(&it, NULL), "majority") == 0)
				mongoc_write_concern_set_w(wc, MONGOC_WRITE_CONCERN_W_MAJORITY);
			else
				mongoc_write_concern_set_wtag(wc, bson_iter_utf8(&it, NULL));
		} else if (strcmp(k, "j") == 0 && BSON_ITER_HOLDS_BOOL(&it)) {
			mongoc_write_concern_set_journal(wc, bson_iter_bool(&it));
		} else if (strcmp(k, "wtimeout") == 0 && BSON_ITER_HOLDS_NUMBER(&it) && bson_iter_as_int64(&it) >= 0) {
			mongoc_write_concern_set_wtimeout_int64(wc, bson_iter_as_int64(&it));
		} else {
			mp_error_set(err, MP_EX_USAGE, "--write-concern: '%s' is not w (a number or a string), j (true or "
				"false) or wtimeout (milliseconds)", k);
			return false;
		}
	}
	return true;
}

static mongoc_write_concern_t *
write_concern_parse(const char *text, bson_error_t *err)
{
	mongoc_write_concern_t *wc = mongoc_write_concern_new();
	char *end;
	long long w;

	if (text == NULL || strcmp(text, "majority") == 0) {
		mongoc_write_concern_set_w(wc, MONGOC_WRITE_CONCERN_W_MAJORITY);
		return wc;
	}
	if (text[0] == '{') {
		bson_error_t jerr;
		bson_t *doc = ejson_to_bson_new(text, -1, &jerr);
		bool ok = doc != NULL && wc_from_document(wc, doc, err);

		if (doc == NULL)
			mp_error_set(err, MP_EX_USAGE, "--write-concern: invalid JSON: %s", jerr.message);
		bson_destroy(doc);
		if (ok)
			return wc;
		mongoc_write_concern_destroy(wc);
		return NULL;
	}
	errno = 0;
	w = strtoll(text, &end, 10);
	if (errno == 0 && *end == '\0' && end != text && w >= 1 && w <= 1000) {
		mongoc_write_concern_set_w(wc, (int32_t)w);
		return wc;
	}
	mongoc_write_concern_destroy(wc);
	mp_error_set(err, MP_EX_USAGE, "--write-concern takes majority, a number of members from 1 (0 would "
		"acknowledge nothing) or a document such as {\"w\": 1, \"j\": true}, not '%s'", text);
	return NULL;
}

mongoc_write_concern_t *
bulk_write_concern_parse(const char *text, bson_error_t *err)
{
	mongoc_write_concern_t *wc = write_concern_parse(text, err);

	if (wc != NULL) {
		/* libmongoc builds a write concern's document lazily, on its first
		 * append, writing into it: do that here, once, before writer
		 * threads share it (ThreadSanitizer saw two lanes race there) */
		bson_t scratch = BSON_INITIALIZER;

		mongoc_write_concern_append(wc, &scratch);
		bson_destroy(&scratch);
	}
	return wc;
}

bool
bulk_code_duplicate(int32_t code)
{
	return code == 11000 || code == 11001 || code == 12582;
}

/* ---- acknowledgement window ---- */

void
ackwin_init(struct ackwin *w, uint32_t size)
{
	memset(w, 0, sizeof *w);
	w->size = size ? size : 1;
	w->slot = bson_malloc0(sizeof(void *) * w->size);
}

bool
ackwin_full(const struct ackwin *w)
{
	return w->issued - w->next_retire >= w->size;
}

uint32_t
ackwin_pending(const struct ackwin *w)
{
	return (uint32_t)(w->issued - w->next_retire);
}

uint64_t
ackwin_issue(struct ackwin *w)
{
	return w->issued++;
}

bool
ackwin_complete(struct ackwin *w, uint64_t seq, void *item)
{
	void **s;

	if (item == NULL || seq < w->next_retire || seq >= w->issued || seq - w->next_retire >= w->size)
		return false;
	s = &w->slot[seq % w->size];
	if (*s != NULL)
		return false;
	*s = item;
	return true;
}

void *
ackwin_retire(struct ackwin *w)
{
	void **s;
	void *item;

	if (w->next_retire == w->issued)
		return NULL;
	s = &w->slot[w->next_retire % w->size];
	if (*s == NULL)
		return NULL;
	item = *s;
	*s = NULL;
	w->next_retire++;
	return item;
}

void
ackwin_destroy(struct ackwin *w, void (*free_item)(void *))
{
	if (w->slot == NULL)
		return;
	for (uint32_t i = 0; i < w->size; i++)
		if (w->slot[i] != NULL && free_item != NULL)
			free_item(w->slot[i]);
	bson_free(w->slot);
	w->slot = NULL;
}
