/*
 * collection.c: copy one namespace from the server, in the mode the
 * options choose: the _ids listed in a file (--ids-from), an aggregation
 * (--pipeline), ranges of _id at once (--parallel/--partition, ranges.c),
 * a find resuming after an _id (--resume-after-id), or a plain find.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "diag.h"
#include "ejson.h"
#include "exitcode.h"
#include "idrange.h"
#include "mongo-dump-bson.h"
#include "sig.h"

#define IDS_PER_QUERY 1000

int64_t
dump_expected(const struct opts *o, int64_t count)
{
	if (count >= 0)
		count = count > o->skip ? count - o->skip : 0;
	return o->limit > 0 && (count < 0 || o->limit < count) ? o->limit : count;
}

static bool
parse_value(const char *text, bson_value_t *out, bson_error_t *err)
{
	char *wrapped = bson_strdup_printf("{\"v\": %s}", text);
	bson_error_t jerr;
	bson_t *doc = ejson_to_bson_new(wrapped, -1, &jerr);
	bson_iter_t it;

	bson_free(wrapped);
	if (doc == NULL || !bson_iter_init_find(&it, doc, "v")) {
		mp_error_set(err, MP_EX_USAGE, "not an Extended JSON value: %s (%s)", text,
			doc ? "empty" : jerr.message);
		bson_destroy(doc);
		return false;
	}
	bson_value_copy(bson_iter_value(&it), out);
	bson_destroy(doc);
	return true;
}

/* ---- --ids-from ---- */

struct ids_file {
	const char *path;
	FILE *f;
	char *line;
	size_t cap;
	uint64_t lineno;
};

/* One line as an _id: an Extended JSON value, or a record with an "_id"
 * field such as a mongo-hashdiff diff line. */
static bool
id_from_line(struct ids_file *in, bson_value_t *v, bson_error_t *err)
{
	bson_error_t verr;
	bson_t rec;
	bson_iter_t it;

	if (!parse_value(in->line, v, &verr)) {
		mp_error_set(err, MP_EX_DATAERR, "%s: line %llu: %s", in->path, (unsigned long long)in->lineno,
			verr.message);
		return false;
	}
	if (v->value_type == BSON_TYPE_DOCUMENT &&
	    bson_init_static(&rec, v->value.v_doc.data, v->value.v_doc.data_len) &&
	    bson_iter_init_find(&it, &rec, "_id")) {
		bson_value_t id;

		bson_value_copy(bson_iter_value(&it), &id);
		bson_value_destroy(v);
		*v = id;
	}
	return true;
}

/* Read up to IDS_PER_QUERY ids into filter {_id: {$in: [...]}}; *n of them. */
static bool
read_ids(struct ids_file *in, bson_t *filter, uint32_t *n, bson_error_t *err)
{
	bson_t in_doc, in_arr;
	ssize_t len;
	bool ok = true;

	bson_append_document_begin(filter, "_id", 3, &in_doc);
	bson_append_array_begin(&in_doc, "$in", 3, &in_arr);
	while (ok && *n < IDS_PER_QUERY && (len = getline(&in->line, &in->cap, in->f)) > 0) {
		bson_value_t v;
		char key[16];
		const char *k;

		in->lineno++;
		while (len > 0 && (in->line[len - 1] == '\n' || in->line[len - 1] == '\r'))
			in->line[--len] = '\0';
		if (len == 0)
			continue;
		if ((ok = id_from_line(in, &v, err))) {
			bson_uint32_to_string((*n)++, &k, key, sizeof key);
			bson_append_value(&in_arr, k, -1, &v);
			bson_value_destroy(&v);
		}
	}
	bson_append_array_end(&in_doc, &in_arr);
	bson_append_document_end(filter, &in_doc);
	return ok;
}

/* The documents of one batch of ids that also match --query. */
static bool
find_ids(struct job *j, mongoc_collection_t *coll, const bson_t *filter)
{
	bson_t full = BSON_INITIALIZER;
	mongoc_cursor_t *cur;
	bool ok;

	if (!bson_empty(j->query))
		BCON_APPEND(&full, "$and", "[", BCON_DOCUMENT(j->query), BCON_DOCUMENT(filter), "]");
	else
		bson_concat(&full, filter);
	cur = mongoc_collection_find_with_opts(coll, &full, j->find_opts, NULL);
	ok = job_drain(j, cur, false);
	mongoc_cursor_destroy(cur);
	bson_destroy(&full);
	return ok;
}

/* --ids-from: one _id per line, queried in $in batches. */
static bool
dump_ids(struct job *j, mongoc_collection_t *coll, bson_error_t *err)
{
	struct ids_file in = {j->o->ids_from, NULL, NULL, 0, 0};
	bool ok = true;
	uint32_t n = IDS_PER_QUERY;

	in.f = strcmp(in.path, "-") == 0 ? stdin : fopen(in.path, "r");
	if (in.f == NULL) {
		mp_error_set(err, MP_EX_NOINPUT, "cannot open %s: %s", in.path, strerror(errno));
		return false;
	}
	while (ok && n == IDS_PER_QUERY) {
		bson_t filter = BSON_INITIALIZER;

		n = 0;
		ok = read_ids(&in, &filter, &n, err);
		if (ok && n > 0)
			ok = find_ids(j, coll, &filter);
		bson_destroy(&filter);
	}
	free(in.line);
	if (in.f != stdin)
		fclose(in.f);
	return ok;
}

/* ---- --pipeline ---- */

static bool
dump_pipeline(struct job *j, mongoc_collection_t *coll, bson_error_t *err)
{
	/* libbson reads a top-level JSON array as {"0": ..., "1": ...},
	 * which mongoc takes as the pipeline */
	bson_t *pipe = cli_parse_json_doc(j->o->pipeline, "--pipeline", err);
	bson_t *aopts = BCON_NEW("batchSize", BCON_INT64(j->o->batch_size));
	mongoc_cursor_t *cur;
	bool ok = false;

	if (pipe != NULL) {
		cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, pipe, aopts, NULL);
		ok = job_drain(j, cur, false);
		mongoc_cursor_destroy(cur);
	}
	bson_destroy(pipe);
	bson_destroy(aopts);
	return ok;
}

/* ---- a find, maybe after an _id ---- */

/* One find of the documents matching --query with an _id above `after`
 * (NULL: all). */
static bool
find_once(struct job *j, mongoc_collection_t *coll, const bson_value_t *after, bool track)
{
	bson_t filter = BSON_INITIALIZER;
	mongoc_cursor_t *cur;
	bson_error_t err;
	bool ok;

	if (after != NULL && !dump_probe_types(j, coll, &err)) {
		pthread_mutex_lock(&j->wlock);
		job_fail(j, &err);
		pthread_mutex_unlock(&j->wlock);
		return false;
	}
	idrange_filter(&filter, j->query, "_id", after, false, NULL, false, j->omit);
	cur = mongoc_collection_find_with_opts(coll, &filter, j->find_opts, NULL);
	ok = job_drain(j, cur, track);
	mongoc_cursor_destroy(cur);
	bson_destroy(&filter);
	return ok;
}

/* After a failed read: true (the failure forgotten, *after the last _id
 * written) when the read can go on from there: the output is in _id order
 * (--checkpoint or --resume-after-id, no --sort, --limit or --projection),
 * the failure was the network's, and --retries are left. */
static bool
may_resume(struct job *j, bool ordered, int *attempt, bson_value_t *after, bool *have_after)
{
	bool go;

	pthread_mutex_lock(&j->wlock);
	go = ordered && mp_error_transient(&j->err) && *attempt < j->o->retries && !sig_stop_requested();
	if (go) {
		diag_warn("reading %s: %s; reading on after the last _id written", j->ns, j->err.message);
		j->failed = false;
		if (j->have_last_id) { /* else nothing was written: from where it started */
			if (*have_after)
				bson_value_destroy(after);
			bson_value_copy(&j->last_id, after);
			*have_after = true;
		}
	} else if (!ordered && mp_error_transient(&j->err)) {
		size_t len = strlen(j->err.message);

		snprintf(j->err.message + len, sizeof j->err.message - len, " (with --checkpoint FILE a dump "
			"is read in _id order and goes on after a lost connection)");
	}
	pthread_mutex_unlock(&j->wlock);
	if (go)
		mp_backoff((*attempt)++);
	return go;
}

/* The documents matching --query with an _id above `start` (NULL: all),
 * read on after a lost connection when the order allows. */
static bool
dump_find(struct job *j, mongoc_collection_t *coll, const bson_value_t *start)
{
	bool track = j->o->checkpoint != NULL || j->o->resume_after_id != NULL;
	/* a --projection may drop or change _id: the last one written would not
	 * say where to go on from */
	bool ordered = track && j->o->sort == NULL && j->o->limit == 0 && j->o->skip == 0 && j->o->projection == NULL;
	bson_value_t after;
	bool have_after = start != NULL, ok;
	int attempt = 0;

	if (have_after)
		bson_value_copy(start, &after);
	while (!(ok = find_once(j, coll, have_after ? &after : NULL, track)) &&
	       may_resume(j, ordered, &attempt, &after, &have_after))
		;
	if (have_after)
		bson_value_destroy(&after);
	return ok;
}

/* --resume-after-id: VALUE, or @FILE holding a checkpoint {"_id": VALUE};
 * a missing FILE means "from the start" so one command line serves the first
 * run and every restart.  *have is false when there is nothing to resume. */
static bool
resume_point(const char *spec, bson_value_t *out, bool *have, bson_error_t *err)
{
	bson_t ck;
	bool found;
	bson_iter_t it;

	*have = false;
	if (spec[0] != '@') {
		*have = parse_value(spec, out, err);
		return *have;
	}
	if (!checkpoint_load(spec + 1, &ck, &found, err))
		return false;
	if (found && bson_iter_init_find(&it, &ck, "_id")) {
		bson_value_copy(bson_iter_value(&it), out);
		*have = true;
	} else if (found) {
		mp_error_set(err, MP_EX_DATAERR, "checkpoint %s has no _id", spec + 1);
		bson_destroy(&ck);
		return false;
	}
	bson_destroy(&ck);
	return true;
}

static bool
dump_resumed(struct job *j, mongoc_collection_t *coll, bson_error_t *err)
{
	bson_value_t after;
	bool have, ok;

	if (!resume_point(j->o->resume_after_id, &after, &have, err))
		return false;
	if (have)
		diag_info("%s: resuming after a checkpointed _id", j->ns);
	ok = dump_find(j, coll, have ? &after : NULL);
	if (have)
		bson_value_destroy(&after);
	return ok;
}

bool
dump_collection(struct job *j, mongoc_client_t *client, bson_error_t *err)
{
	const struct opts *o = j->o;
	mongoc_collection_t *coll = mongoc_client_get_collection(client, j->db, j->coll);
	int64_t total = -1;
	bool ok;

	if (bson_empty(j->query) && !o->ids_from && !o->pipeline && o->part.n == 0)
		total = mongoc_collection_estimated_document_count(coll, NULL, NULL, NULL, NULL);
	job_set_progress(j, dump_expected(o, total));
	if (o->ids_from)
		ok = dump_ids(j, coll, err);
	else if (o->pipeline)
		ok = dump_pipeline(j, coll, err);
	else if (o->parallel > 1 || o->part.n > 0)
		ok = dump_ranges(j, coll, total >= 0, err);
	else if (o->resume_after_id)
		ok = dump_resumed(j, coll, err);
	else
		ok = dump_find(j, coll, NULL);
	if (!ok && j->failed)
		*err = j->err;
	job_end_progress(j);
	mongoc_collection_destroy(coll);
	return ok && !j->failed;
}
