/*
 * mongo-dump-bson: copy documents out of a server (or transcode a file) as a
 * document stream, or into a mongodump directory.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "bsoncmp.h"
#include "checkpoint.h"
#include "cli.h"
#include "conn.h"
#include "diag.h"
#include "docstream.h"
#include "exitcode.h"
#include "idrange.h"
#include "progress.h"
#include "sig.h"

#define TOOL "mongo-dump-bson"
#define IDS_PER_QUERY 1000

enum {
	OPT_QUERY = CLI_OPT_TOOL_BASE,
	OPT_PROJECTION,
	OPT_SORT,
	OPT_LIMIT,
	OPT_IDS_FROM,
	OPT_PIPELINE,
	OPT_FROM,
	OPT_OUT,
	OPT_OUTPUT,
	OPT_LIST,
	OPT_PARALLEL,
	OPT_PARTITION,
	OPT_RESUME_AFTER_ID,
	OPT_CHECKPOINT,
	OPT_METADATA,
	OPT_BATCH_SIZE,
	OPT_ALLOW_MISSING,
};

static const struct option longopts[] = {
	CLI_COMMON_OPTIONS,
	{"query", required_argument, NULL, OPT_QUERY},
	{"projection", required_argument, NULL, OPT_PROJECTION},
	{"sort", required_argument, NULL, OPT_SORT},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"ids-from", required_argument, NULL, OPT_IDS_FROM},
	{"pipeline", required_argument, NULL, OPT_PIPELINE},
	{"from", required_argument, NULL, OPT_FROM},
	{"out", required_argument, NULL, OPT_OUT},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"list", no_argument, NULL, OPT_LIST},
	{"parallel", required_argument, NULL, OPT_PARALLEL},
	{"partition", required_argument, NULL, OPT_PARTITION},
	{"resume-after-id", required_argument, NULL, OPT_RESUME_AFTER_ID},
	{"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
	{"metadata", required_argument, NULL, OPT_METADATA},
	{"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
	{"allow-missing", no_argument, NULL, OPT_ALLOW_MISSING},
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: mongo-dump-bson [--uri URI | --uri-file FILE] (--ns DB.COLL | --db DB) [options]\n"
		"       mongo-dump-bson --from PATH [--ns DB.COLL] [--format F] [--output FILE]\n"
		"       mongo-dump-bson --list [--db DB]\n"
		"\n"
		"Write the documents of a collection (or a file) as a BSON or NDJSON stream.\n"
		"\n"
		"Selection:  --query JSON  --projection JSON  --sort JSON  --limit N\n"
		"            --ids-from FILE  --pipeline JSON  --batch-size N\n"
		"Output:     --format bson|ndjson  --json canonical|relaxed  --gzip\n"
		"            --output FILE  --out DIR (mongodump layout)  --metadata FILE\n"
		"Speed:      --parallel N  --partition K/N\n"
		"Resume:     --resume-after-id VALUE|@FILE  --checkpoint FILE\n"
		"Missing:    --allow-missing (a namespace that does not exist is empty, not an error)\n"
		"Common:     --uri URI  --uri-file FILE  --db DB  --collection C  --input-format F\n"
		"            --stats FILE  --stats-fd N  --progress  --max-doc-size N\n"
		"            -q|--quiet  -v|--verbose  -h|--help  -V|--version\n"
		"\n"
		"Exit: 0 done, 64 usage, 65 bad input, 66 no such input or namespace, 69 server,\n"
		"73/74 output, 75 interrupted.\n"
		"See mongo-dump-bson(1).\n");
}

struct opts {
	struct cli_common c;
	const char *query, *projection, *sort, *ids_from, *pipeline, *from, *out_dir, *output;
	const char *resume_after_id, *checkpoint, *metadata;
	int64_t limit, batch_size;
	int parallel, part_k, part_n;
	bool list, allow_missing;
};

/* Everything one copy of one namespace needs. */
struct job {
	const struct opts *o;
	mongoc_client_pool_t *pool;
	char *db, *coll, *ns;
	bson_t *query;      /* user filter (maybe empty) */
	bson_t *find_opts;  /* projection, sort, limit, batchSize */
	struct docstream_writer *w;
	pthread_mutex_t wlock;
	atomic_uint_fast64_t docs, bytes;
	bson_value_t last_id; /* last _id written (single stream) */
	bool have_last_id;
	bson_error_t err;
	bool failed;
	struct progress *p;  /* drawn, and --stats written, under wlock */
	struct stats *stats;
	int64_t total;       /* documents expected, -1 unknown */
};

/* ---- output ---- */

/* Redraw the progress line and write a periodic stats record when due;
 * the caller holds wlock. */
static void
job_tick(struct job *j)
{
	uint64_t docs = atomic_load(&j->docs), bytes = atomic_load(&j->bytes);

	if (j->p)
		progress_update(j->p, docs, bytes);
	if (j->stats && stats_due(j->stats)) {
		bson_t extra = BSON_INITIALIZER;

		BSON_APPEND_UTF8(&extra, "phase", "dump");
		if (j->total >= 0)
			BSON_APPEND_INT64(&extra, "total", j->total);
		stats_emit(j->stats, "progress", j->ns, docs, bytes, 0, &extra, NULL);
		bson_destroy(&extra);
	}
}

/* Write a batch under the lock; remember the last _id for checkpoints. */
static bool
emit_doc(struct job *j, const bson_t *doc, bool track_id)
{
	bson_error_t err;
	bool ok;

	pthread_mutex_lock(&j->wlock);
	ok = docstream_write(j->w, doc, &err);
	if (!ok && !j->failed) {
		j->failed = true;
		j->err = err;
	}
	if (ok && track_id) {
		bson_iter_t it;

		if (bson_iter_init_find(&it, doc, "_id")) {
			if (j->have_last_id)
				bson_value_destroy(&j->last_id);
			bson_value_copy(bson_iter_value(&it), &j->last_id);
			j->have_last_id = true;
		}
	}
	atomic_fetch_add(&j->bytes, doc->len);
	if ((atomic_fetch_add(&j->docs, 1) & 255) == 255)
		job_tick(j);
	pthread_mutex_unlock(&j->wlock);
	return ok;
}

static bool
save_checkpoint(struct job *j, bson_error_t *err)
{
	bson_t ck = BSON_INITIALIZER;
	bool ok;

	/* documents in a temporary file are not yet output: only its rename
	 * into place may move the checkpoint past them */
	if (j->o->checkpoint == NULL || !j->have_last_id || docstream_writer_replaces_file(j->w))
		return true;
	if (!docstream_flush(j->w, err))
		return false;
	bson_append_value(&ck, "_id", 3, &j->last_id);
	ok = checkpoint_save(j->o->checkpoint, &ck, err);
	bson_destroy(&ck);
	return ok;
}

/* ---- reading ---- */

/* Drain a cursor into the output; false on a server or output error. */
static bool
drain_cursor(struct job *j, mongoc_cursor_t *cur, bool track_id, double *last_ck)
{
	const bson_t *doc;
	bson_error_t err;

	while (!j->failed && !sig_stop_requested() && mongoc_cursor_next(cur, &doc)) {
		if (!emit_doc(j, doc, track_id))
			return false;
		if (track_id && j->o->checkpoint && mongoc_cursor_more(cur) && mp_now() - *last_ck > 1.0) {
			pthread_mutex_lock(&j->wlock);
			if (!save_checkpoint(j, &err) && !j->failed) {
				j->failed = true;
				j->err = err;
			}
			pthread_mutex_unlock(&j->wlock);
			*last_ck = mp_now();
		}
	}
	if (mongoc_cursor_error(cur, &err)) {
		pthread_mutex_lock(&j->wlock);
		if (!j->failed) {
			j->failed = true;
			j->err = err;
			mp_error_wrap(&j->err, "reading %s", j->ns);
		}
		pthread_mutex_unlock(&j->wlock);
		return false;
	}
	return !j->failed;
}

struct range_task {
	struct job *j;
	bson_t *filter; /* bson_t wants 128-byte alignment: never embedded */
};

static void *
range_worker(void *arg)
{
	struct range_task *t = arg;
	struct job *j = t->j;
	mongoc_client_t *client = mongoc_client_pool_pop(j->pool);
	mongoc_collection_t *coll = mongoc_client_get_collection(client, j->db, j->coll);
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, t->filter, j->find_opts, NULL);
	double last_ck = 0;

	drain_cursor(j, cur, false, &last_ck);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(j->pool, client);
	return NULL;
}

static bool
parse_value(const char *text, bson_value_t *out, bson_error_t *err)
{
	char *wrapped = bson_strdup_printf("{\"v\": %s}", text);
	bson_error_t jerr;
	bson_t *doc = bson_new_from_json((const uint8_t *)wrapped, -1, &jerr);
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

/* --resume-after-id: VALUE, or @FILE holding a checkpoint {"_id": VALUE};
 * a missing FILE means "from the start" so one command line serves the first
 * run and every restart.  *have is false when there is nothing to resume. */
static bool
resume_point(const char *spec, bson_value_t *out, bool *have, bson_error_t *err)
{
	*have = false;
	if (spec[0] == '@') {
		bson_t ck;
		bool found;
		bson_iter_t it;

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
	if (!parse_value(spec, out, err))
		return false;
	*have = true;
	return true;
}

/* --ids-from: one _id per line (an Extended JSON value, or a record with an
 * "_id" field such as a mongo-hashdiff diff line); queried $in batches. */
static bool
dump_ids(struct job *j, mongoc_collection_t *coll, bson_error_t *err)
{
	FILE *f = strcmp(j->o->ids_from, "-") == 0 ? stdin : fopen(j->o->ids_from, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t lineno = 0;
	bool ok = true;
	double last_ck = 0;

	if (f == NULL) {
		mp_error_set(err, MP_EX_NOINPUT, "cannot open %s: %s", j->o->ids_from, strerror(errno));
		return false;
	}
	while (ok) {
		bson_t filter = BSON_INITIALIZER, in_doc, in_arr;
		uint32_t n = 0;

		bson_append_document_begin(&filter, "_id", 3, &in_doc);
		bson_append_array_begin(&in_doc, "$in", 3, &in_arr);
		while (n < IDS_PER_QUERY && (len = getline(&line, &cap, f)) > 0) {
			bson_value_t v;
			bson_error_t verr;
			char key[16];
			const char *k;

			lineno++;
			while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = '\0';
			if (len == 0)
				continue;
			if (!parse_value(line, &v, &verr)) {
				mp_error_set(err, MP_EX_DATAERR, "%s: line %llu: %s", j->o->ids_from,
					(unsigned long long)lineno, verr.message);
				ok = false;
				break;
			}
			if (v.value_type == BSON_TYPE_DOCUMENT) {
				bson_t rec;
				bson_iter_t it;

				if (bson_init_static(&rec, v.value.v_doc.data, v.value.v_doc.data_len) &&
					bson_iter_init_find(&it, &rec, "_id")) {
					bson_value_t id;

					bson_value_copy(bson_iter_value(&it), &id);
					bson_value_destroy(&v);
					v = id;
				}
			}
			bson_uint32_to_string(n++, &k, key, sizeof key);
			bson_append_value(&in_arr, k, -1, &v);
			bson_value_destroy(&v);
		}
		bson_append_array_end(&in_doc, &in_arr);
		bson_append_document_end(&filter, &in_doc);
		if (ok && n > 0) {
			bson_t full = BSON_INITIALIZER;
			mongoc_cursor_t *cur;

			if (!bson_empty(j->query)) {
				BCON_APPEND(&full, "$and", "[", BCON_DOCUMENT(j->query), BCON_DOCUMENT(&filter), "]");
			} else {
				bson_concat(&full, &filter);
			}
			cur = mongoc_collection_find_with_opts(coll, &full, j->find_opts, NULL);
			ok = drain_cursor(j, cur, false, &last_ck);
			mongoc_cursor_destroy(cur);
			bson_destroy(&full);
		}
		bson_destroy(&filter);
		if (n < IDS_PER_QUERY)
			break;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return ok;
}

static void
progress_loop(struct job *j, pthread_t *threads, int n)
{
	for (int i = 0; i < n; i++) {
		while (pthread_tryjoin_np(threads[i], NULL) == EBUSY) {
			pthread_mutex_lock(&j->wlock);
			job_tick(j);
			pthread_mutex_unlock(&j->wlock);
			usleep(100 * 1000);
		}
	}
}

/* The documents a dump of `count` matching ones writes (-1 unknown). */
static int64_t
expected(const struct opts *o, int64_t count)
{
	return o->limit > 0 && (count < 0 || o->limit < count) ? o->limit : count;
}

/* Copy one namespace from the server into j->w. */
static bool
dump_collection(struct job *j, mongoc_client_t *client, bson_error_t *err)
{
	const struct opts *o = j->o;
	mongoc_collection_t *coll = mongoc_client_get_collection(client, j->db, j->coll);
	struct progress *p;
	int64_t total = -1;
	bool ok = true;
	double last_ck = 0;

	if (bson_empty(j->query) && !o->ids_from && !o->pipeline && o->part_n == 0)
		total = mongoc_collection_estimated_document_count(coll, NULL, NULL, NULL, NULL);
	p = progress_new(j->ns, expected(o, total), o->c.progress);
	pthread_mutex_lock(&j->wlock);
	j->p = p;
	j->total = expected(o, total);
	pthread_mutex_unlock(&j->wlock);

	if (o->ids_from) {
		ok = dump_ids(j, coll, err);
	} else if (o->pipeline) {
		/* libbson reads a top-level JSON array as {"0": ..., "1": ...},
		 * which mongoc takes as the pipeline */
		bson_t *pipe = cli_parse_json_doc(o->pipeline, "--pipeline", err);
		bson_t *aopts = BCON_NEW("batchSize", BCON_INT64(o->batch_size));
		mongoc_cursor_t *cur;

		if (pipe == NULL) {
			ok = false;
		} else {
			cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, pipe, aopts, NULL);
			ok = drain_cursor(j, cur, false, &last_ck);
			mongoc_cursor_destroy(cur);
		}
		bson_destroy(pipe);
		bson_destroy(aopts);
	} else if (o->parallel > 1 || o->part_n > 0) {
		/* split into ranges; --partition keeps one share of an N-way split */
		bson_value_t *bounds = bson_malloc0(sizeof(bson_value_t) * (size_t)(o->part_n + o->parallel + 2));
		int nb = 0, nranges, first = 0, last;
		int64_t count;
		bson_t share = BSON_INITIALIZER;
		const bson_t *base = j->query;

		if (o->part_n > 0) {
			ok = idrange_split(coll, j->query, o->part_n, bounds, &nb, &count, err);
			if (ok) {
				int k = o->part_k - 1;

				if (k <= nb) {
					idrange_filter(&share, j->query, "_id", k > 0 ? &bounds[k - 1] : NULL, true,
						k < nb ? &bounds[k] : NULL, false);
				} else {
					/* fewer documents than shares: this share is empty */
					BCON_APPEND(&share, "_id", "{", "$in", "[", "]", "}");
				}
				base = &share;
			}
			for (int i = 0; i < nb; i++)
				bson_value_destroy(&bounds[i]);
			nb = 0;
		}
		if (ok && o->parallel > 1)
			ok = idrange_split(coll, base, o->parallel, bounds, &nb, &count, err);
		else if (ok)
			/* the split counted the whole collection: count this share */
			count = mongoc_collection_count_documents(coll, base, NULL, NULL, NULL, NULL);
		count = expected(o, count);
		if (ok) {
			pthread_t *threads;
			struct range_task *tasks;

			nranges = nb + 1;
			last = nranges;
			threads = bson_malloc0(sizeof *threads * (size_t)nranges);
			tasks = bson_malloc0(sizeof *tasks * (size_t)nranges);
			if (total < 0) {
				pthread_mutex_lock(&j->wlock);
				progress_destroy(p);
				j->p = p = progress_new(j->ns, count, o->c.progress);
				j->total = count;
				pthread_mutex_unlock(&j->wlock);
			}
			diag_info("%s: %d range(s)", j->ns, nranges);
			for (int r = first; r < last; r++) {
				tasks[r].j = j;
				tasks[r].filter = bson_new();
				idrange_filter(tasks[r].filter, base, "_id", r > 0 ? &bounds[r - 1] : NULL, true,
					r < nb ? &bounds[r] : NULL, false);
				pthread_create(&threads[r], NULL, range_worker, &tasks[r]);
			}
			progress_loop(j, threads, nranges);
			for (int r = 0; r < nranges; r++)
				bson_destroy(tasks[r].filter);
			bson_free(threads);
			bson_free(tasks);
			ok = !j->failed;
		}
		for (int i = 0; i < nb; i++)
			bson_value_destroy(&bounds[i]);
		bson_free(bounds);
		bson_destroy(&share);
	} else {
		bson_t filter = BSON_INITIALIZER;
		bson_value_t after;
		bool have = false, track = o->checkpoint != NULL || o->resume_after_id != NULL;
		mongoc_cursor_t *cur;

		if (o->resume_after_id && !resume_point(o->resume_after_id, &after, &have, err)) {
			ok = false;
		} else {
			if (have)
				diag_info("%s: resuming after a checkpointed _id", j->ns);
			idrange_filter(&filter, j->query, "_id", have ? &after : NULL, false, NULL, false);
			cur = mongoc_collection_find_with_opts(coll, &filter, j->find_opts, NULL);
			ok = drain_cursor(j, cur, track, &last_ck);
			mongoc_cursor_destroy(cur);
			if (have)
				bson_value_destroy(&after);
		}
		bson_destroy(&filter);
	}
	if (!ok && j->failed)
		*err = j->err;
	pthread_mutex_lock(&j->wlock);
	j->p = NULL;
	pthread_mutex_unlock(&j->wlock);
	progress_update(p, atomic_load(&j->docs), atomic_load(&j->bytes));
	progress_finish(p);
	progress_destroy(p);
	mongoc_collection_destroy(coll);
	return ok && !j->failed;
}

/* ---- mongodump metadata ---- */

/* Drop the whitespace libbson puts between JSON tokens, as mongodump's
 * output has none. */
static void
json_compact(char *s)
{
	char *out = s;
	bool in_str = false, esc = false;

	for (; *s; s++) {
		if (in_str) {
			*out++ = *s;
			if (esc)
				esc = false;
			else if (*s == '\\')
				esc = true;
			else if (*s == '"')
				in_str = false;
		} else if (*s == '"') {
			in_str = true;
			*out++ = *s;
		} else if (*s != ' ' && *s != '\n' && *s != '\t') {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* Build {options?, indexes, uuid?, collectionName, type?} as mongodump does. */
static bool
build_metadata(mongoc_client_t *client, const char *db, const char *coll, bson_t *meta, bson_error_t *err)
{
	mongoc_database_t *d = mongoc_client_get_database(client, db);
	mongoc_collection_t *c = mongoc_client_get_collection(client, db, coll);
	bson_t *filter = BCON_NEW("filter", "{", "name", BCON_UTF8(coll), "}");
	mongoc_cursor_t *cur = mongoc_database_find_collections_with_opts(d, filter);
	const bson_t *info, *ix;
	bson_t options = BSON_INITIALIZER, indexes;
	char uuid[33] = "", type[32] = "";
	bson_iter_t it, sub;
	bool ok = true;
	uint32_t n = 0;

	while (mongoc_cursor_next(cur, &info)) {
		if (bson_iter_init_find(&it, info, "options") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
			uint32_t len;
			const uint8_t *data;

			bson_iter_document(&it, &len, &data);
			bson_destroy(&options);
			bson_init_static(&options, data, len);
			bson_t copy;
			bson_copy_to(&options, &copy);
			options = copy;
		}
		if (bson_iter_init_find(&it, info, "type") && BSON_ITER_HOLDS_UTF8(&it))
			bson_strncpy(type, bson_iter_utf8(&it, NULL), sizeof type);
		if (bson_iter_init_find(&it, info, "info") && bson_iter_recurse(&it, &sub) &&
			bson_iter_find(&sub, "uuid") && BSON_ITER_HOLDS_BINARY(&sub)) {
			const uint8_t *bin;
			uint32_t len;
			bson_subtype_t st;

			bson_iter_binary(&sub, &st, &len, &bin);
			for (uint32_t i = 0; i < len && i < 16; i++)
				snprintf(uuid + 2 * i, 3, "%02x", bin[i]);
		}
	}
	if (mongoc_cursor_error(cur, err))
		ok = false;
	mongoc_cursor_destroy(cur);
	if (ok && !bson_empty(&options))
		BSON_APPEND_DOCUMENT(meta, "options", &options);
	bson_append_array_begin(meta, "indexes", -1, &indexes);
	if (ok) {
		cur = mongoc_collection_find_indexes_with_opts(c, NULL);
		while (mongoc_cursor_next(cur, &ix)) {
			char key[16];
			const char *k;

			bson_uint32_to_string(n++, &k, key, sizeof key);
			bson_append_document(&indexes, k, -1, ix);
		}
		if (mongoc_cursor_error(cur, err))
			ok = false;
		mongoc_cursor_destroy(cur);
	}
	bson_append_array_end(meta, &indexes);
	if (uuid[0])
		BSON_APPEND_UTF8(meta, "uuid", uuid);
	BSON_APPEND_UTF8(meta, "collectionName", coll);
	if (type[0])
		BSON_APPEND_UTF8(meta, "type", type);
	bson_destroy(&options);
	bson_destroy(filter);
	mongoc_collection_destroy(c);
	mongoc_database_destroy(d);
	if (!ok)
		mp_error_wrap(err, "reading metadata of %s.%s", db, coll);
	return ok;
}

static bool
write_metadata(mongoc_client_t *client, const char *db, const char *coll, const char *path, bool gzip,
	bson_error_t *err)
{
	bson_t meta = BSON_INITIALIZER;
	char *json;
	bool ok = false;

	if (!build_metadata(client, db, coll, &meta, err))
		goto out;
	json = bson_as_canonical_extended_json(&meta, NULL);
	json_compact(json);
	{
		/* written through a writer so that --gzip and atomic rename apply */
		struct docstream_writer_opts wo = {.format = DOCSTREAM_BSON, .gzip = gzip};
		struct docstream_writer *w = docstream_writer_open(path, &wo, err);

		if (w != NULL) {
			ok = docstream_write_raw(w, (const uint8_t *)json, strlen(json), err) &&
			     docstream_writer_close(w, err);
			docstream_writer_destroy(w);
		}
	}
	bson_free(json);
out:
	bson_destroy(&meta);
	return ok;
}


static bool
mkdir_p(const char *path, bson_error_t *err)
{
	char *p = bson_strdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST) {
		mp_error_set(err, MP_EX_CANTCREAT, "cannot create directory %s: %s", p, strerror(errno));
		bson_free(p);
		return false;
	}
	bson_free(p);
	return true;
}

/* ---- the modes ---- */

static void
job_init(struct job *j, const struct opts *o, mongoc_client_pool_t *pool, const char *ns)
{
	const char *dot = strchr(ns, '.');

	memset(j, 0, sizeof *j);
	j->o = o;
	j->pool = pool;
	j->ns = bson_strdup(ns);
	j->db = bson_strndup(ns, (size_t)(dot - ns));
	j->coll = bson_strdup(dot + 1);
	j->total = -1;
	pthread_mutex_init(&j->wlock, NULL);
}

static void
job_clear(struct job *j)
{
	if (j->have_last_id)
		bson_value_destroy(&j->last_id);
	pthread_mutex_destroy(&j->wlock);
	bson_free(j->ns);
	bson_free(j->db);
	bson_free(j->coll);
}

static int
transcode(const struct opts *o, const char *ns, struct stats *stats)
{
	struct docstream_reader_opts ro = {.format = o->c.input_format, .max_doc = o->c.max_doc};
	struct docstream_writer_opts wo = {.format = o->c.format, .json = o->c.json, .gzip = o->c.gzip};
	struct docstream_reader *r = NULL;
	struct docstream_writer *w = NULL;
	struct progress *p = NULL;
	const bson_t *doc;
	bson_error_t err;
	char *path = NULL;
	struct stat st;
	int rc = MP_EX_SOFTWARE, got;
	int64_t n = 0;

	if (stat(o->from, &st) == 0 && S_ISDIR(st.st_mode)) {
		const char *dot = ns ? strchr(ns, '.') : NULL;

		if (dot == NULL) {
			rc = cli_misuse(usage, "--from a mongodump directory needs --ns DB.COLL");
			goto out;
		}
		path = bson_strdup_printf("%s/%.*s/%s.bson", o->from, (int)(dot - ns), ns, dot + 1);
		if (access(path, F_OK) != 0) {
			char *gz = bson_strdup_printf("%s.gz", path);

			bson_free(path);
			path = gz;
		}
	}
	r = docstream_reader_open(path ? path : o->from, &ro, &err);
	if (r == NULL) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	w = docstream_writer_open(o->output, &wo, &err);
	if (w == NULL) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	docstream_writer_set_source(w, r);
	p = progress_new(path ? path : o->from, -1, o->c.progress);
	while (!sig_stop_requested() && (o->limit <= 0 || n < o->limit) && (got = docstream_read(r, &doc, &err)) != 0) {
		if (got < 0) {
			/* everything before the bad record is written */
			bson_error_t ferr;

			rc = mp_error_exitcode(&err); /* 65 bad data, 74 I/O, 75 a signal */
			if (rc != MP_EX_TEMPFAIL && !docstream_writer_close(w, &ferr))
				diag_fail(&ferr, NULL);
			diag_fail(&err, NULL);
			goto out;
		}
		if (!docstream_write(w, doc, &err)) {
			bson_error_t ferr;

			/* a record with no Extended JSON form: the ones before it are written */
			if (mp_error_exitcode(&err) == MP_EX_DATAERR && !docstream_writer_close(w, &ferr))
				diag_fail(&ferr, NULL);
			diag_fail(&err, NULL);
			rc = mp_error_exitcode(&err);
			goto out;
		}
		n++;
		if ((n & 1023) == 0)
			progress_update(p, (uint64_t)n, docstream_reader_bytes(r));
	}
	progress_update(p, (uint64_t)n, docstream_reader_bytes(r));
	progress_finish(p);
	if (sig_stop_requested()) {
		if (!docstream_writer_replaces_file(w) && !docstream_flush(w, &err))
			diag_fail(&err, NULL);
		diag_error("interrupted after %lld documents%s", (long long)n,
			docstream_writer_replaces_file(w) ? "; the output file was not written" : "");
		rc = MP_EX_TEMPFAIL;
		goto out;
	}
	if (!docstream_writer_close(w, &err)) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	stats_emit(stats, "summary", ns, (uint64_t)n, docstream_reader_bytes(r), 0, NULL, NULL);
	rc = MP_EX_OK;
out:
	progress_destroy(p);
	docstream_writer_destroy(w);
	docstream_reader_destroy(r);
	bson_free(path);
	return rc;
}

/* Dump one namespace into `w` (or into DIR/db/coll.bson when out_dir). */
static int
dump_one(const struct opts *o, mongoc_client_pool_t *pool, mongoc_client_t *client, const char *ns,
	bson_t *query, bson_t *find_opts, struct stats *stats)
{
	struct docstream_writer_opts wo = {.format = o->c.format, .json = o->c.json, .gzip = o->c.gzip};
	struct job j;
	bson_error_t err;
	char *path = NULL, *dir = NULL, *meta = NULL;
	int rc = MP_EX_SOFTWARE;
	double t0 = mp_now();

	job_init(&j, o, pool, ns);
	j.stats = stats;
	j.query = query;
	j.find_opts = find_opts;
	if (o->out_dir) {
		dir = bson_strdup_printf("%s/%s", o->out_dir, j.db);
		if (!mkdir_p(dir, &err)) {
			diag_fail(&err, NULL);
			rc = mp_error_exitcode(&err);
			goto out;
		}
		wo.format = DOCSTREAM_BSON;
		path = bson_strdup_printf("%s/%s.bson%s", dir, j.coll, o->c.gzip ? ".gz" : "");
		meta = bson_strdup_printf("%s/%s.metadata.json%s", dir, j.coll, o->c.gzip ? ".gz" : "");
	} else if (o->metadata) {
		meta = bson_strdup(o->metadata);
	}
	j.w = docstream_writer_open(path ? path : o->output, &wo, &err);
	if (j.w == NULL) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	if (!dump_collection(&j, client, &err)) {
		if (docstream_writer_broken_pipe(j.w) && sig_stop_requested()) {
			/* the pipeline was interrupted: its reader went first */
			diag_error("%s: interrupted after %llu documents", ns, (unsigned long long)atomic_load(&j.docs));
			rc = MP_EX_TEMPFAIL;
			goto out;
		}
		if (docstream_writer_broken_pipe(j.w))
			diag_error("%s: stopped: the reader of the output went away after %llu documents", ns,
				(unsigned long long)atomic_load(&j.docs));
		else
			diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	if (sig_stop_requested()) {
		/* what reached a pipe stays delivered and checkpointed; a file that
		 * is not complete is never renamed into place */
		if (!docstream_writer_replaces_file(j.w) && (!docstream_flush(j.w, &err) || !save_checkpoint(&j, &err)))
			diag_fail(&err, NULL);
		diag_error("%s: interrupted after %llu documents%s", ns, (unsigned long long)atomic_load(&j.docs),
			docstream_writer_replaces_file(j.w) ? "; the output file was not written" : "");
		rc = MP_EX_TEMPFAIL;
		goto out;
	}
	if (!docstream_writer_close(j.w, &err) || !save_checkpoint(&j, &err)) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	if (meta && !write_metadata(client, j.db, j.coll, meta, o->c.gzip && o->out_dir, &err)) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	{
		bson_t extra = BSON_INITIALIZER;

		BSON_APPEND_UTF8(&extra, "phase", "dump");
		if (j.total >= 0)
			BSON_APPEND_INT64(&extra, "total", j.total);
		stats_emit(stats, "summary", ns, atomic_load(&j.docs), atomic_load(&j.bytes), 0, &extra, NULL);
		bson_destroy(&extra);
	}
	diag_info("%s: %llu documents in %.1f s", ns, (unsigned long long)atomic_load(&j.docs), mp_now() - t0);
	rc = MP_EX_OK;
out:
	docstream_writer_destroy(j.w);
	job_clear(&j);
	bson_free(path);
	bson_free(dir);
	bson_free(meta);
	return rc;
}

/* A namespace or database that does not exist is a typo until
 * --allow-missing says otherwise (66), as mongodump reports it. */
static int
check_exists(const struct opts *o, mongoc_client_t *client, const char *ns, const char *db, int ncolls,
	bson_error_t *err)
{
	char *d = NULL, *c = NULL;
	bool exists = true;
	int rc = MP_EX_OK;

	if (o->allow_missing)
		return MP_EX_OK;
	if (ns == NULL) {
		if (ncolls > 0)
			return MP_EX_OK;
		mp_error_set(err, MP_EX_NOINPUT, "%s%s%s has no collections (--allow-missing: nothing to dump is "
			"a success)", db ? "database " : "the deployment", db ? db : "", "");
		return MP_EX_NOINPUT;
	}
	if (!conn_split_ns(ns, &d, &c, err) || !conn_collection_exists(client, d, c, &exists, err)) {
		rc = mp_error_exitcode(err);
	} else if (!exists) {
		mp_error_set(err, MP_EX_NOINPUT, "no such collection: %s (--allow-missing: dump it as empty)", ns);
		rc = MP_EX_NOINPUT;
	}
	bson_free(d);
	bson_free(c);
	return rc;
}

static int
run(const struct opts *o, const char *ns, const char *db)
{
	mongoc_client_pool_t *pool = NULL;
	mongoc_client_t *client = NULL;
	struct stats *stats = NULL;
	bson_t *query = NULL, *find_opts = NULL, *tmp = NULL;
	char *uri = NULL, **names = NULL;
	bson_error_t err;
	int rc = MP_EX_SOFTWARE, n = 0;

	stats = stats_open(o->c.stats_path, o->c.stats_fd, TOOL, &err);
	if (stats == NULL) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	if (o->from) {
		rc = transcode(o, ns, stats);
		goto out;
	}
	uri = conn_resolve_uri(o->c.uri, o->c.uri_file, NULL, &err);
	if (uri == NULL || (pool = conn_pool_new(uri, TOOL, &err)) == NULL) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	mongoc_client_pool_max_size(pool, (uint32_t)(o->parallel > 1 ? o->parallel + 1 : 2));
	client = mongoc_client_pool_pop(pool);
	if (!conn_ping(client, &err)) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	if (o->list || ns == NULL) {
		if (!conn_list_namespaces(client, db, &names, &n, &err)) {
			diag_fail(&err, "listing collections");
			rc = mp_error_exitcode(&err);
			goto out;
		}
		if (o->list) {
			for (int i = 0; i < n; i++)
				printf("%s\n", names[i]);
			rc = fflush(stdout) == 0 && !ferror(stdout) ? MP_EX_OK : MP_EX_IOERR;
			if (rc)
				diag_error("writing to standard output: %s", strerror(errno));
			goto out;
		}
	}
	query = o->query ? cli_parse_json_doc(o->query, "--query", &err) : bson_new();
	if (query == NULL) {
		rc = cli_misuse(usage, "%s", err.message);
		goto out;
	}
	find_opts = bson_new();
	BSON_APPEND_INT64(find_opts, "batchSize", o->batch_size);
	if (o->projection) {
		if ((tmp = cli_parse_json_doc(o->projection, "--projection", &err)) == NULL) {
			rc = cli_misuse(usage, "%s", err.message);
			goto out;
		}
		BSON_APPEND_DOCUMENT(find_opts, "projection", tmp);
		bson_destroy(tmp);
		tmp = NULL;
	}
	if (o->sort) {
		if ((tmp = cli_parse_json_doc(o->sort, "--sort", &err)) == NULL) {
			rc = cli_misuse(usage, "%s", err.message);
			goto out;
		}
		BSON_APPEND_DOCUMENT(find_opts, "sort", tmp);
	} else if (o->checkpoint || o->resume_after_id) {
		BCON_APPEND(find_opts, "sort", "{", "_id", BCON_INT32(1), "}");
	}
	if (o->limit > 0)
		BSON_APPEND_INT64(find_opts, "limit", o->limit);
	if ((rc = check_exists(o, client, ns, db, n, &err)) != MP_EX_OK) {
		diag_fail(&err, NULL);
		goto out;
	}
	if (ns != NULL) {
		rc = dump_one(o, pool, client, ns, query, find_opts, stats);
	} else {
		rc = MP_EX_OK;
		for (int i = 0; i < n && rc == MP_EX_OK && !sig_stop_requested(); i++)
			rc = dump_one(o, pool, client, names[i], query, find_opts, stats);
	}
out:
	bson_strfreev(names);
	bson_destroy(tmp);
	bson_destroy(query);
	bson_destroy(find_opts);
	if (client)
		mongoc_client_pool_push(pool, client);
	mongoc_client_pool_destroy(pool);
	stats_finish(stats, ns ? ns : db, rc);
	bson_free(uri);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	bson_error_t err;
	char *ns = NULL, *db = NULL;
	int ch, rc;
	int64_t v;

	diag_init(argv[0]);
	memset(&o, 0, sizeof o);
	cli_common_init(&o.c);
	o.batch_size = 10000;
	while ((ch = getopt_long(argc, argv, CLI_COMMON_SHORT "o:", longopts, NULL)) != -1) {
		switch (cli_common_option(&o.c, ch, optarg, &err)) {
		case 1:
			continue;
		case -1:
			return cli_misuse(usage, "%s", err.message);
		}
		switch (ch) {
		case OPT_QUERY: o.query = optarg; break;
		case OPT_PROJECTION: o.projection = optarg; break;
		case OPT_SORT: o.sort = optarg; break;
		case OPT_IDS_FROM: o.ids_from = optarg; break;
		case OPT_PIPELINE: o.pipeline = optarg; break;
		case OPT_FROM: o.from = optarg; break;
		case OPT_OUT: o.out_dir = optarg; break;
		case 'o':
		case OPT_OUTPUT: o.output = optarg; break;
		case OPT_LIST: o.list = true; break;
		case OPT_ALLOW_MISSING: o.allow_missing = true; break;
		case OPT_RESUME_AFTER_ID: o.resume_after_id = optarg; break;
		case OPT_CHECKPOINT: o.checkpoint = optarg; break;
		case OPT_METADATA: o.metadata = optarg; break;
		case OPT_LIMIT:
			if (!cli_parse_int64(optarg, 1, INT64_MAX, &o.limit))
				return cli_misuse(usage, "--limit takes a positive number, not '%s'", optarg);
			break;
		case OPT_BATCH_SIZE:
			if (!cli_parse_int64(optarg, 1, 1000000, &o.batch_size))
				return cli_misuse(usage, "--batch-size takes 1 to 1000000, not '%s'", optarg);
			break;
		case OPT_PARALLEL:
			if (!cli_parse_int64(optarg, 1, 64, &v))
				return cli_misuse(usage, "--parallel takes 1 to 64, not '%s'", optarg);
			o.parallel = (int)v;
			break;
		case OPT_PARTITION:
			if (!cli_parse_share(optarg, &o.part_k, &o.part_n))
				return cli_misuse(usage, "--partition takes K/N with 1 <= K <= N, not '%s'", optarg);
			break;
		default:
			return cli_misuse(usage, "unknown option");
		}
	}
	if ((rc = cli_common_finish(&o.c, usage, argc, argv, &ns, &db)) >= 0)
		return rc;
	if (!o.from && !o.list && !ns && !db && !o.out_dir)
		rc = cli_misuse(usage, "say what to dump: --ns DB.COLL, --db DB, or --out DIR for everything");
	else if (!o.from && !o.list && !ns && !o.out_dir)
		rc = cli_misuse(usage, "--db without --collection dumps many collections: give --out DIR");
	else if ((o.parallel > 1 || o.part_n) && (o.limit || o.sort || o.ids_from || o.pipeline || o.resume_after_id || o.checkpoint))
		rc = cli_misuse(usage, "--parallel/--partition cannot be combined with --limit, --sort, --ids-from, --pipeline or resuming");
	else if (o.out_dir && o.output)
		rc = cli_misuse(usage, "--out DIR and --output FILE are exclusive");
	else if (o.checkpoint && !ns)
		rc = cli_misuse(usage, "--checkpoint works on one collection (--ns)");
	else if (o.metadata && !ns)
		rc = cli_misuse(usage, "--metadata FILE needs --ns");
	else {
		mongoc_init();
		diag_capture_driver_log();
		sig_install();
		rc = run(&o, ns, db);
		mongoc_cleanup();
	}
	bson_free(ns);
	bson_free(db);
	return rc;
}
