/*
 * mongo-load-bson: load a document stream (or a mongodump directory) into a
 * collection with bulk writes: insert, upsert, merge or delete.
 *
 * The main thread reads and cuts batches; --workers threads write them over a
 * client pool.  A batch is acknowledged when the server accepted it (rejected
 * documents went to --reject or were duplicates under --skip-duplicates);
 * the checkpoint is the last _id of the longest run of acknowledged batches
 * from the start, so it never passes unacknowledged work.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
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
#include "progress.h"
#include "sig.h"

#define TOOL "mongo-load-bson"
#define BATCH_BYTES_DEFAULT (8 * 1024 * 1024)
#define MAX_RETRIES 8

enum mode { MODE_INSERT, MODE_UPSERT, MODE_MERGE, MODE_DELETE };

enum {
	OPT_FROM = CLI_OPT_TOOL_BASE,
	OPT_DIR,
	OPT_MODE,
	OPT_UPSERT_FIELDS,
	OPT_SKIP_DUPLICATES,
	OPT_ID_FIELD,
	OPT_DROP,
	OPT_DRY_RUN,
	OPT_BATCH_SIZE,
	OPT_ORDERED,
	OPT_WORKERS,
	OPT_WRITE_CONCERN,
	OPT_REJECT,
	OPT_CHECKPOINT,
	OPT_METADATA,
};

static const struct option longopts[] = {
	CLI_COMMON_OPTIONS,
	{"from", required_argument, NULL, OPT_FROM},
	{"dir", required_argument, NULL, OPT_DIR},
	{"mode", required_argument, NULL, OPT_MODE},
	{"upsert-fields", required_argument, NULL, OPT_UPSERT_FIELDS},
	{"skip-duplicates", no_argument, NULL, OPT_SKIP_DUPLICATES},
	{"id-field", required_argument, NULL, OPT_ID_FIELD},
	{"drop", no_argument, NULL, OPT_DROP},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
	{"ordered", no_argument, NULL, OPT_ORDERED},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"write-concern", required_argument, NULL, OPT_WRITE_CONCERN},
	{"reject", required_argument, NULL, OPT_REJECT},
	{"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
	{"metadata", required_argument, NULL, OPT_METADATA},
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: mongo-load-bson [--uri URI | --uri-file FILE] --ns DB.COLL [--from FILE] [options]\n"
		"       mongo-load-bson [--uri URI] --dir DIR [--db DB] [options]\n"
		"\n"
		"Load a BSON or NDJSON document stream (stdin by default) into a collection.\n"
		"\n"
		"Writes:   --mode insert|upsert|merge|delete  --upsert-fields F1,F2  --skip-duplicates\n"
		"          --id-field NAME  --drop  --dry-run  --ordered  --write-concern W\n"
		"Speed:    --workers N  --batch-size N\n"
		"Safety:   --reject FILE  --checkpoint FILE  --metadata FILE\n"
		"Common:   --uri URI  --uri-file FILE  --db DB  --collection C  --input-format F\n"
		"          --stats FILE  --stats-fd N  --progress  --max-doc-size N\n"
		"          -q|--quiet  -v|--verbose  -h|--help  -V|--version\n"
		"\n"
		"Exit: 0 done, 64 usage, 65 bad input or rejected document, 66 no input,\n"
		"69 server, 73/74 output, 75 interrupted (rerun to resume).  See mongo-load-bson(1).\n");
}

struct opts {
	struct cli_common c;
	const char *from, *dir, *id_field, *reject, *checkpoint, *metadata, *write_concern;
	char **upsert_fields;
	enum mode mode;
	bool skip_dups, drop, dry_run, ordered;
	int64_t batch_size;
	int workers;
};

struct batch {
	uint64_t seq;
	uint8_t *buf;
	size_t len, cap;
	uint32_t *offs;
	uint32_t n, ncap;
	bson_value_t last_id;
	bool has_last_id;
	struct batch *next;
};

struct counts {
	uint64_t read, written, inserted, upserted, matched, modified, deleted, duplicates, rejected, retries,
		bytes;
};

struct load {
	const struct opts *o;
	mongoc_client_pool_t *pool;
	char *db, *coll, *ns;
	mongoc_write_concern_t *wc;
	bson_t *insert_opts; /* {validate: false} */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch *head, *tail;
	int queued, max_queued;
	bool closing;

	/* acknowledgement watermark */
	uint64_t next_ack;
	struct batch **done; /* completed batches waiting for earlier ones, by seq % ndone */
	int ndone;
	bson_value_t ack_id;
	bool has_ack_id, ack_dirty;
	double last_save;

	struct counts n;
	bool fatal;
	bson_error_t err;
	FILE *reject;
};

static bool
split_fields(const char *s, char ***out)
{
	*out = NULL;
	if (s == NULL || *s == '\0')
		return false;
	{
		char *copy = bson_strdup(s), *tok, *save = NULL;
		int n = 0, cap = 4;
		char **v = bson_malloc0(sizeof(char *) * (size_t)cap);

		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (n + 1 >= cap)
				v = bson_realloc(v, sizeof(char *) * (size_t)(cap *= 2));
			v[n++] = bson_strdup(tok);
		}
		v[n] = NULL;
		bson_free(copy);
		*out = v;
		return n > 0;
	}
}

/* ---- batches ---- */

static struct batch *
batch_new(uint64_t seq)
{
	struct batch *b = bson_malloc0(sizeof *b);

	b->seq = seq;
	return b;
}

static void
batch_add(struct batch *b, const bson_t *doc)
{
	bson_iter_t it;

	if (b->len + doc->len > b->cap) {
		b->cap = (b->len + doc->len) * 2;
		b->buf = bson_realloc(b->buf, b->cap);
	}
	if (b->n == b->ncap) {
		b->ncap = b->ncap ? b->ncap * 2 : 256;
		b->offs = bson_realloc(b->offs, sizeof(uint32_t) * b->ncap);
	}
	b->offs[b->n++] = (uint32_t)b->len;
	memcpy(b->buf + b->len, bson_get_data(doc), doc->len);
	b->len += doc->len;
	if (bson_iter_init_find(&it, doc, "_id")) {
		if (b->has_last_id)
			bson_value_destroy(&b->last_id);
		bson_value_copy(bson_iter_value(&it), &b->last_id);
		b->has_last_id = true;
	}
}

static void
batch_doc(const struct batch *b, uint32_t i, bson_t *out)
{
	uint32_t len;

	memcpy(&len, b->buf + b->offs[i], 4);
	bson_init_static(out, b->buf + b->offs[i], BSON_UINT32_FROM_LE(len));
}

static void
batch_destroy(struct batch *b)
{
	if (b == NULL)
		return;
	if (b->has_last_id)
		bson_value_destroy(&b->last_id);
	bson_free(b->buf);
	bson_free(b->offs);
	bson_free(b);
}

/* ---- rejects ---- */

/*
 * One line of the reject file: the envelope (error, code, record, line,
 * offset) in relaxed JSON for people and jq, the document or raw record in
 * canonical JSON so it can be fixed and loaded again without loss.
 */
static void
reject_write(struct load *l, const bson_t *envelope, const char *key, const bson_t *payload)
{
	char *head = bson_as_relaxed_extended_json(envelope, NULL);
	size_t hl;

	if (head == NULL) /* only invalid UTF-8 in the envelope's strings can do this */
		head = bson_strdup("{ \"error\" : \"(the error message is not valid UTF-8)\" }");
	hl = strlen(head);
	while (hl > 0 && (head[hl - 1] == '}' || head[hl - 1] == ' '))
		head[--hl] = '\0';
	if (payload != NULL) {
		char *body = bson_as_canonical_extended_json(payload, NULL);

		fprintf(l->reject, "%s, \"%s\" : %s }\n", head, key, body ? body : "null");
		bson_free(body);
	} else {
		fprintf(l->reject, "%s }\n", head);
	}
	fflush(l->reject);
	bson_free(head);
}

/* ---- writing one batch ---- */

static bool
selector_for(const struct load *l, const bson_t *doc, bson_t *sel)
{
	bson_iter_t it;

	bson_init(sel);
	if (l->o->upsert_fields == NULL) {
		if (!bson_iter_init_find(&it, doc, "_id"))
			return false;
		bson_append_value(sel, "_id", 3, bson_iter_value(&it));
		return true;
	}
	for (char **f = l->o->upsert_fields; *f; f++) {
		if (!bson_iter_init(&it, doc) || !bson_iter_find_descendant(&it, *f, &it))
			return false;
		bson_append_value(sel, *f, -1, bson_iter_value(&it));
	}
	return true;
}

/* Queue one document's write; false (with why) if it cannot be expressed. */
static bool
add_write(struct load *l, mongoc_bulk_operation_t *bulk, const bson_t *doc, bson_error_t *why)
{
	bson_t sel, upd, set, opts = BSON_INITIALIZER;
	bson_iter_t it;
	bool ok = true;

	if (l->o->mode == MODE_INSERT) {
		/* the reader has checked structure and UTF-8 already: mongoc's own
		 * validation of each document would be the same work again */
		ok = mongoc_bulk_operation_insert_with_opts(bulk, doc, l->insert_opts, why);
		bson_destroy(&opts);
		return ok;
	}
	if (!selector_for(l, doc, &sel)) {
		bson_destroy(&sel);
		mp_error_set(why, MP_EX_DATAERR, "document lacks the key field(s) %s",
			l->o->upsert_fields ? "given by --upsert-fields" : "_id");
		return false;
	}
	switch (l->o->mode) {
	case MODE_UPSERT:
		BSON_APPEND_BOOL(&opts, "upsert", true);
		BSON_APPEND_BOOL(&opts, "validate", false);
		ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &sel, doc, &opts, why);
		break;
	case MODE_MERGE:
		bson_init(&upd);
		bson_append_document_begin(&upd, "$set", 4, &set);
		bson_iter_init(&it, doc);
		while (bson_iter_next(&it))
			if (strcmp(bson_iter_key(&it), "_id") != 0)
				bson_append_iter(&set, NULL, 0, &it);
		bson_append_document_end(&upd, &set);
		BSON_APPEND_BOOL(&opts, "upsert", true);
		if (bson_count_keys(&set) == 0) {
			/* nothing but the key: make sure the document exists */
			bson_reinit(&upd);
			BSON_APPEND_DOCUMENT(&upd, "$setOnInsert", &sel);
		}
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, &sel, &upd, &opts, why);
		bson_destroy(&upd);
		break;
	case MODE_DELETE:
		ok = mongoc_bulk_operation_remove_one_with_opts(bulk, &sel, NULL, why);
		break;
	default:
		break;
	}
	bson_destroy(&sel);
	bson_destroy(&opts);
	return ok;
}

/*
 * Apply one batch with retries.  Per-document write errors are duplicates
 * (--skip-duplicates, or a retry finding its own earlier insert) or rejects;
 * transient errors retry the whole batch, which every mode makes harmless.
 * Returns false only for a fatal error (set in l->err).
 */
static bool
apply_batch(struct load *l, mongoc_client_t *client, struct batch *b)
{
	mongoc_collection_t *coll = mongoc_client_get_collection(client, l->db, l->coll);
	struct counts c = {0};
	bool ok = false;

	for (int attempt = 0;; attempt++) {
		bson_t bopts = BSON_INITIALIZER, reply;
		mongoc_bulk_operation_t *bulk;
		bson_error_t err;
		bson_iter_t it, arr;
		bool *skip = bson_malloc0(b->n);
		uint32_t queued = 0;
		uint32_t *map = bson_malloc(sizeof(uint32_t) * (b->n ? b->n : 1));
		bool exec_ok, fatal = false;

		BSON_APPEND_BOOL(&bopts, "ordered", l->o->ordered);
		mongoc_write_concern_append(l->wc, &bopts);
		bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &bopts);
		memset(&c, 0, sizeof c);
		for (uint32_t i = 0; i < b->n; i++) {
			bson_t doc;
			bson_error_t why;

			batch_doc(b, i, &doc);
			if (!add_write(l, bulk, &doc, &why)) {
				skip[i] = true;
				c.rejected++;
				if (attempt == 0 && l->reject) {
					bson_t rec = BSON_INITIALIZER;

					BSON_APPEND_UTF8(&rec, "error", why.message);
					pthread_mutex_lock(&l->lock);
					reject_write(l, &rec, "doc", &doc);
					pthread_mutex_unlock(&l->lock);
					bson_destroy(&rec);
				} else if (!l->reject) {
					mp_error_set(&err, MP_EX_DATAERR, "%s", why.message);
					fatal = true;
				}
				continue;
			}
			map[queued++] = i;
		}
		exec_ok = queued == 0 || fatal || mongoc_bulk_operation_execute(bulk, &reply, &err) != 0;
		if (queued == 0 || fatal)
			bson_init(&reply);
		if (bson_iter_init_find(&it, &reply, "nInserted"))
			c.inserted = (uint64_t)bson_iter_as_int64(&it);
		if (bson_iter_init_find(&it, &reply, "nUpserted"))
			c.upserted = (uint64_t)bson_iter_as_int64(&it);
		if (bson_iter_init_find(&it, &reply, "nMatched"))
			c.matched = (uint64_t)bson_iter_as_int64(&it);
		if (bson_iter_init_find(&it, &reply, "nModified"))
			c.modified = (uint64_t)bson_iter_as_int64(&it);
		if (bson_iter_init_find(&it, &reply, "nRemoved"))
			c.deleted = (uint64_t)bson_iter_as_int64(&it);
		if (!fatal && !exec_ok && bson_iter_init_find(&it, &reply, "writeErrors") &&
			bson_iter_recurse(&it, &arr)) {
			uint32_t nerr = 0;

			while (bson_iter_next(&arr)) {
				bson_iter_t e;
				int64_t idx = -1, code = 0;
				const char *msg = "";
				bson_t doc;

				if (!bson_iter_recurse(&arr, &e))
					continue;
				while (bson_iter_next(&e)) {
					if (strcmp(bson_iter_key(&e), "index") == 0)
						idx = bson_iter_as_int64(&e);
					else if (strcmp(bson_iter_key(&e), "code") == 0)
						code = bson_iter_as_int64(&e);
					else if (strcmp(bson_iter_key(&e), "errmsg") == 0)
						msg = bson_iter_utf8(&e, NULL);
				}
				if (idx < 0 || idx >= (int64_t)queued)
					continue;
				nerr++;
				if (code == 11000 && (l->o->skip_dups || (attempt > 0 && l->o->mode == MODE_INSERT))) {
					c.duplicates++;
					continue;
				}
				batch_doc(b, map[idx], &doc);
				if (l->reject) {
					bson_t rec = BSON_INITIALIZER;

					BSON_APPEND_UTF8(&rec, "error", msg);
					BSON_APPEND_INT32(&rec, "code", (int32_t)code);
					pthread_mutex_lock(&l->lock);
					reject_write(l, &rec, "doc", &doc);
					pthread_mutex_unlock(&l->lock);
					bson_destroy(&rec);
					c.rejected++;
				} else {
					bson_iter_t idit;
					char *id = NULL;

					if (bson_iter_init_find(&idit, &doc, "_id")) {
						bson_t tmp = BSON_INITIALIZER;

						bson_append_value(&tmp, "_id", 3, bson_iter_value(&idit));
						id = bson_as_canonical_extended_json(&tmp, NULL);
						bson_destroy(&tmp);
					}
					mp_error_set(&err, MP_EX_DATAERR, "the server rejected document %s: %s (code %lld); "
						"use --reject FILE to set such documents aside", id ? id : "(no _id)", msg,
						(long long)code);
					bson_free(id);
					fatal = true;
					break;
				}
			}
			/* mongo-java-server and old servers count every document sent as
			 * inserted; what went in is what did not fail */
			if (l->o->mode == MODE_INSERT)
				c.inserted = queued - nerr;
			bool wce = bson_iter_init_find(&it, &reply, "writeConcernErrors") && bson_iter_recurse(&it, &arr) &&
				   bson_iter_next(&arr);
			if (!fatal && !wce)
				exec_ok = true;
		}
		bson_destroy(&reply);
		mongoc_bulk_operation_destroy(bulk);
		bson_destroy(&bopts);
		bson_free(skip);
		bson_free(map);
		if (exec_ok && !fatal) {
			ok = true;
			break;
		}
		if (!fatal && mp_error_transient(&err) && attempt < MAX_RETRIES && !sig_stop_requested()) {
			diag_warn("%s: batch %llu: %s; retrying", l->ns, (unsigned long long)b->seq, err.message);
			pthread_mutex_lock(&l->lock);
			l->n.retries++;
			pthread_mutex_unlock(&l->lock);
			mp_backoff(attempt);
			continue;
		}
		pthread_mutex_lock(&l->lock);
		if (!l->fatal) {
			l->fatal = true;
			l->err = err;
		}
		pthread_mutex_unlock(&l->lock);
		break;
	}
	if (ok) {
		pthread_mutex_lock(&l->lock);
		l->n.written += b->n - c.rejected;
		l->n.inserted += c.inserted;
		l->n.upserted += c.upserted;
		l->n.matched += c.matched;
		l->n.modified += c.modified;
		l->n.deleted += c.deleted;
		l->n.duplicates += c.duplicates;
		l->n.rejected += c.rejected;
		l->n.bytes += b->len;
		pthread_mutex_unlock(&l->lock);
	}
	mongoc_collection_destroy(coll);
	return ok;
}

/* ---- acknowledgement watermark and checkpoint ---- */

static bool
save_ack(struct load *l, bson_error_t *err)
{
	bson_t ck = BSON_INITIALIZER;
	bool ok = true;

	if (l->o->checkpoint && l->has_ack_id && l->ack_dirty) {
		bson_append_value(&ck, "_id", 3, &l->ack_id);
		ok = checkpoint_save(l->o->checkpoint, &ck, err);
		l->ack_dirty = false;
		l->last_save = mp_now();
	}
	bson_destroy(&ck);
	return ok;
}

/* Called with the lock held when batch b was applied. */
static void
acknowledge(struct load *l, struct batch *b)
{
	l->done[b->seq % (uint64_t)l->ndone] = b;
	while (l->done[l->next_ack % (uint64_t)l->ndone] != NULL &&
	       l->done[l->next_ack % (uint64_t)l->ndone]->seq == l->next_ack) {
		struct batch *d = l->done[l->next_ack % (uint64_t)l->ndone];

		if (d->has_last_id) {
			if (l->has_ack_id)
				bson_value_destroy(&l->ack_id);
			bson_value_copy(&d->last_id, &l->ack_id);
			l->has_ack_id = true;
			l->ack_dirty = true;
		}
		l->done[l->next_ack % (uint64_t)l->ndone] = NULL;
		batch_destroy(d);
		l->next_ack++;
	}
	if (mp_now() - l->last_save >= 1.0) {
		bson_error_t err;

		if (!save_ack(l, &err) && !l->fatal) {
			l->fatal = true;
			l->err = err;
		}
	}
	l->queued--;
	pthread_cond_broadcast(&l->cond);
}

static void *
worker(void *arg)
{
	struct load *l = arg;
	mongoc_client_t *client = mongoc_client_pool_pop(l->pool);

	for (;;) {
		struct batch *b;

		pthread_mutex_lock(&l->lock);
		while (l->head == NULL && !l->closing && !l->fatal)
			pthread_cond_wait(&l->cond, &l->lock);
		if (l->head == NULL || l->fatal) {
			pthread_mutex_unlock(&l->lock);
			break;
		}
		b = l->head;
		l->head = b->next;
		if (l->head == NULL)
			l->tail = NULL;
		pthread_mutex_unlock(&l->lock);
		if (!apply_batch(l, client, b)) {
			pthread_mutex_lock(&l->lock);
			pthread_cond_broadcast(&l->cond);
			pthread_mutex_unlock(&l->lock);
			batch_destroy(b);
			break;
		}
		pthread_mutex_lock(&l->lock);
		acknowledge(l, b);
		pthread_mutex_unlock(&l->lock);
	}
	mongoc_client_pool_push(l->pool, client);
	return NULL;
}

/* Hand a batch to the workers; blocks while the queue is full. */
static bool
enqueue(struct load *l, struct batch *b)
{
	pthread_mutex_lock(&l->lock);
	while (l->queued >= l->max_queued && !l->fatal)
		pthread_cond_wait(&l->cond, &l->lock);
	if (l->fatal) {
		pthread_mutex_unlock(&l->lock);
		batch_destroy(b);
		return false;
	}
	b->next = NULL;
	if (l->tail)
		l->tail->next = b;
	else
		l->head = b;
	l->tail = b;
	l->queued++;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	return true;
}

/* ---- input records ---- */

/* --id-field NAME: a copy of doc with NAME moved to _id (first). */
static bool
move_id(const char *field, const bson_t *doc, bson_t *out)
{
	bson_iter_t it;

	bson_init(out);
	if (!bson_iter_init_find(&it, doc, field))
		return false;
	bson_append_value(out, "_id", 3, bson_iter_value(&it));
	bson_iter_init(&it, doc);
	while (bson_iter_next(&it))
		if (strcmp(bson_iter_key(&it), field) != 0 && strcmp(bson_iter_key(&it), "_id") != 0)
			bson_append_iter(out, NULL, 0, &it);
	return true;
}

static void
reject_record(struct load *l, struct docstream_reader *r, const char *why)
{
	bson_t rec = BSON_INITIALIZER, raw_doc = BSON_INITIALIZER;
	size_t len;
	const uint8_t *raw = docstream_reader_raw(r, &len);

	BSON_APPEND_UTF8(&rec, "error", why);
	BSON_APPEND_INT64(&rec, "record", (int64_t)docstream_reader_record(r));
	BSON_APPEND_INT64(&rec, "offset", (int64_t)docstream_reader_offset(r));
	if (docstream_reader_line(r))
		BSON_APPEND_INT64(&rec, "line", (int64_t)docstream_reader_line(r));
	if (raw && docstream_reader_format(r) == DOCSTREAM_NDJSON && bson_utf8_validate((const char *)raw, len, false))
		bson_append_utf8(&rec, "raw", 3, (const char *)raw, (int)len);
	else if (raw)
		bson_append_binary(&raw_doc, "bytes", 5, BSON_SUBTYPE_BINARY, raw, (uint32_t)len);
	pthread_mutex_lock(&l->lock);
	reject_write(l, &rec, "raw", bson_empty(&raw_doc) ? NULL : &raw_doc);
	bson_destroy(&raw_doc);
	l->n.rejected++;
	pthread_mutex_unlock(&l->lock);
	bson_destroy(&rec);
}

/* ---- one collection ---- */

static bool
run_command(mongoc_client_t *client, const char *db, const bson_t *cmd, bson_error_t *err)
{
	bson_t reply;
	bool ok = mongoc_client_write_command_with_opts(client, db, cmd, NULL, &reply, err);

	bson_destroy(&reply);
	return ok;
}

/* Create the collection with the options of a metadata file (before data). */
static bool
apply_options(mongoc_client_t *client, const char *db, const char *coll, const bson_t *meta, bson_error_t *err)
{
	bson_iter_t it;
	bson_t cmd = BSON_INITIALIZER, opts;
	bool ok = true;

	if (!bson_iter_init_find(&it, meta, "options") || !BSON_ITER_HOLDS_DOCUMENT(&it))
		return true;
	{
		uint32_t len;
		const uint8_t *data;

		bson_iter_document(&it, &len, &data);
		bson_init_static(&opts, data, len);
	}
	if (bson_empty(&opts))
		return true;
	BSON_APPEND_UTF8(&cmd, "create", coll);
	bson_concat(&cmd, &opts);
	if (!run_command(client, db, &cmd, err)) {
		/* an existing collection keeps its options */
		if (err->code == 48 || strstr(err->message, "already exists"))
			ok = true;
		else
			ok = false;
	}
	bson_destroy(&cmd);
	return ok;
}

/* Build the indexes of a metadata file (after the data), as mongorestore;
 * the _id index exists already, and "v"/"ns" are the server's to set. */
static bool
apply_indexes(mongoc_client_t *client, const char *db, const char *coll, const bson_t *meta, bson_error_t *err)
{
	bson_iter_t it, arr, f;
	bson_t cmd = BSON_INITIALIZER, list, spec;
	uint32_t n = 0;
	bool ok = true;

	if (!bson_iter_init_find(&it, meta, "indexes") || !bson_iter_recurse(&it, &arr))
		return true;
	BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
	bson_append_array_begin(&cmd, "indexes", -1, &list);
	while (bson_iter_next(&arr)) {
		char key[16];
		const char *k;

		if (!bson_iter_recurse(&arr, &f) || (bson_iter_find(&f, "name") && BSON_ITER_HOLDS_UTF8(&f) &&
							     strcmp(bson_iter_utf8(&f, NULL), "_id_") == 0))
			continue;
		bson_iter_recurse(&arr, &f);
		bson_uint32_to_string(n++, &k, key, sizeof key);
		bson_append_document_begin(&list, k, -1, &spec);
		while (bson_iter_next(&f))
			if (strcmp(bson_iter_key(&f), "v") != 0 && strcmp(bson_iter_key(&f), "ns") != 0)
				bson_append_iter(&spec, NULL, 0, &f);
		bson_append_document_end(&list, &spec);
	}
	bson_append_array_end(&cmd, &list);
	if (n > 0)
		ok = run_command(client, db, &cmd, err);
	bson_destroy(&cmd);
	if (!ok)
		mp_error_wrap(err, "building indexes of %s.%s", db, coll);
	return ok;
}

static bson_t *
read_metadata(const char *path, bson_error_t *err)
{
	struct docstream_reader_opts ro = {.format = DOCSTREAM_NDJSON};
	struct docstream_reader *r = docstream_reader_open(path, &ro, err);
	const bson_t *doc;
	bson_t *meta = NULL;

	if (r == NULL)
		return NULL;
	if (docstream_read(r, &doc, err) == 1)
		meta = bson_copy(doc);
	else if (err->domain != MP_ERROR_DOMAIN)
		mp_error_set(err, MP_EX_DATAERR, "%s: no metadata document", path);
	docstream_reader_destroy(r);
	return meta;
}

static int
load_one(const struct opts *o, mongoc_client_pool_t *pool, const char *ns, const char *input, const char *metapath,
	struct stats *stats)
{
	struct docstream_reader_opts ro = {.format = o->c.input_format, .max_doc = o->c.max_doc};
	struct docstream_reader *r = NULL;
	struct load l;
	struct progress *p = NULL;
	pthread_t *threads = NULL;
	mongoc_client_t *client = NULL;
	struct batch *b = NULL;
	bson_t *meta = NULL, resume_doc;
	bson_value_t resume_id;
	bool have_resume = false, found;
	const bson_t *doc;
	bson_error_t err;
	uint64_t seq = 0, skipped = 0;
	int rc = MP_EX_SOFTWARE, got, nthreads = 0;
	int input_rc = MP_EX_OK;
	const char *dot = strchr(ns, '.');

	memset(&l, 0, sizeof l);
	l.o = o;
	l.pool = pool;
	l.ns = bson_strdup(ns);
	l.db = bson_strndup(ns, (size_t)(dot - ns));
	l.coll = bson_strdup(dot + 1);
	l.ndone = o->workers * 2 + 2;
	l.max_queued = l.ndone - 1;
	l.done = bson_malloc0(sizeof(struct batch *) * (size_t)l.ndone);
	l.last_save = mp_now();
	pthread_mutex_init(&l.lock, NULL);
	pthread_cond_init(&l.cond, NULL);
	l.wc = mongoc_write_concern_new();
	l.insert_opts = BCON_NEW("validate", BCON_BOOL(false));
	if (o->write_concern == NULL || strcmp(o->write_concern, "majority") == 0) {
		mongoc_write_concern_set_w(l.wc, MONGOC_WRITE_CONCERN_W_MAJORITY);
	} else {
		int64_t w;

		if (!cli_parse_int64(o->write_concern, 0, 1000, &w)) {
			rc = cli_misuse(usage, "--write-concern takes majority or a number, not '%s'", o->write_concern);
			goto out;
		}
		mongoc_write_concern_set_w(l.wc, (int32_t)w);
	}
	if (o->reject && (l.reject = fopen(o->reject, "a")) == NULL) {
		diag_error("cannot open reject file %s: %s", o->reject, strerror(errno));
		rc = MP_EX_CANTCREAT;
		goto out;
	}
	if (metapath && (meta = read_metadata(metapath, &err)) == NULL) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	if (o->checkpoint) {
		bson_iter_t it;

		if (!checkpoint_load(o->checkpoint, &resume_doc, &found, &err)) {
			diag_fail(&err, NULL);
			rc = mp_error_exitcode(&err);
			goto out;
		}
		if (found && bson_iter_init_find(&it, &resume_doc, "_id")) {
			bson_value_copy(bson_iter_value(&it), &resume_id);
			have_resume = true;
			bson_value_copy(&resume_id, &l.ack_id);
			l.has_ack_id = true;
		}
		bson_destroy(&resume_doc);
	}
	r = docstream_reader_open(input, &ro, &err);
	if (r == NULL) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	if (!o->dry_run) {
		client = mongoc_client_pool_pop(pool);
		if (!conn_ping(client, &err)) {
			diag_fail(&err, NULL);
			rc = mp_error_exitcode(&err);
			goto out;
		}
		if (o->drop) {
			mongoc_collection_t *c = mongoc_client_get_collection(client, l.db, l.coll);

			if (!mongoc_collection_drop(c, &err) && err.code != 26 && !strstr(err.message, "not found")) {
				mongoc_collection_destroy(c);
				diag_fail(&err, "dropping %s", ns);
				rc = mp_error_exitcode(&err);
				goto out;
			}
			mongoc_collection_destroy(c);
		}
		if (meta && !apply_options(client, l.db, l.coll, meta, &err)) {
			diag_fail(&err, "creating %s", ns);
			rc = mp_error_exitcode(&err);
			goto out;
		}
		threads = bson_malloc0(sizeof(pthread_t) * (size_t)o->workers);
		for (nthreads = 0; nthreads < o->workers; nthreads++)
			pthread_create(&threads[nthreads], NULL, worker, &l);
	}
	p = progress_new(ns, -1, o->c.progress);
	b = batch_new(seq++);
	while (!sig_stop_requested() && (got = docstream_read(r, &doc, &err)) != 0) {
		bson_t moved;
		const bson_t *use = doc;
		bool fatal;

		if (got < 0) {
			if (o->reject && docstream_reader_can_continue(r)) {
				diag_warn("%s; set aside in %s", err.message, o->reject);
				reject_record(&l, r, err.message);
				continue;
			}
			diag_fail(&err, NULL);
			input_rc = MP_EX_DATAERR;
			break;
		}
		l.n.read++;
		if (o->id_field) {
			if (!move_id(o->id_field, doc, &moved)) {
				char why[128];

				snprintf(why, sizeof why, "no field '%s' for --id-field", o->id_field);
				bson_destroy(&moved);
				if (o->reject) {
					reject_record(&l, r, why);
					continue;
				}
				diag_error("%s: record %llu: %s", input ? input : "(stdin)",
					(unsigned long long)docstream_reader_record(r), why);
				input_rc = MP_EX_DATAERR;
				break;
			}
			use = &moved;
		}
		if (have_resume) {
			bson_iter_t it;

			/* sorted input: what the checkpoint covers is in the target */
			if (bson_iter_init_find(&it, use, "_id") && bsoncmp_value(bson_iter_value(&it), &resume_id) <= 0) {
				skipped++;
				if (use == &moved)
					bson_destroy(&moved);
				continue;
			}
			have_resume = false;
		}
		batch_add(b, use);
		if (use == &moved)
			bson_destroy(&moved);
		if (b->n >= (uint32_t)o->batch_size || b->len >= BATCH_BYTES_DEFAULT) {
			if (o->dry_run) {
				l.n.written += b->n;
				l.n.bytes += b->len;
				batch_destroy(b);
			} else if (!enqueue(&l, b)) {
				b = NULL;
				break;
			}
			b = batch_new(seq++);
		}
		pthread_mutex_lock(&l.lock);
		fatal = l.fatal;
		pthread_mutex_unlock(&l.lock);
		if (fatal)
			break;
		if ((l.n.read & 1023) == 0) {
			progress_update(p, l.n.read, docstream_reader_bytes(r));
			if (stats_due(stats))
				stats_emit(stats, "progress", ns, l.n.written, l.n.bytes, l.n.rejected, NULL, NULL);
		}
	}
	if (b != NULL && b->n > 0) {
		if (o->dry_run) {
			l.n.written += b->n;
			l.n.bytes += b->len;
			batch_destroy(b);
		} else {
			enqueue(&l, b);
		}
	} else {
		batch_destroy(b);
	}
	b = NULL;
	/* everything read before a bad record is acknowledged before we stop */
	pthread_mutex_lock(&l.lock);
	l.closing = true;
	pthread_cond_broadcast(&l.cond);
	pthread_mutex_unlock(&l.lock);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	progress_update(p, l.n.read, docstream_reader_bytes(r));
	progress_finish(p);
	if (!save_ack(&l, &err) && !l.fatal) {
		l.fatal = true;
		l.err = err;
	}
	if (l.fatal) {
		diag_fail(&l.err, "%s", ns);
		rc = mp_error_exitcode(&l.err);
		if (rc == MP_EX_SOFTWARE)
			rc = MP_EX_UNAVAILABLE;
		goto summary;
	}
	if (input_rc != MP_EX_OK) {
		rc = input_rc;
		goto summary;
	}
	if (meta && !o->dry_run && !sig_stop_requested() && !apply_indexes(client, l.db, l.coll, meta, &err)) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto summary;
	}
	rc = sig_stop_requested() ? MP_EX_TEMPFAIL : MP_EX_OK;
	if (rc == MP_EX_TEMPFAIL)
		diag_error("%s: interrupted; rerun the same command to go on", ns);
summary:
	{
		bson_t extra = BSON_INITIALIZER;

		BSON_APPEND_UTF8(&extra, "phase", "load");
		BSON_APPEND_INT64(&extra, "read", (int64_t)l.n.read);
		BSON_APPEND_INT64(&extra, "inserted", (int64_t)l.n.inserted);
		BSON_APPEND_INT64(&extra, "upserted", (int64_t)l.n.upserted);
		BSON_APPEND_INT64(&extra, "matched", (int64_t)l.n.matched);
		BSON_APPEND_INT64(&extra, "modified", (int64_t)l.n.modified);
		BSON_APPEND_INT64(&extra, "deleted", (int64_t)l.n.deleted);
		BSON_APPEND_INT64(&extra, "duplicates", (int64_t)l.n.duplicates);
		BSON_APPEND_INT64(&extra, "rejected", (int64_t)l.n.rejected);
		BSON_APPEND_INT64(&extra, "retries", (int64_t)l.n.retries);
		BSON_APPEND_INT64(&extra, "skipped_by_checkpoint", (int64_t)skipped);
		BSON_APPEND_BOOL(&extra, "dry_run", o->dry_run);
		stats_emit(stats, "summary", ns, l.n.written, l.n.bytes, l.n.rejected, &extra, NULL);
		bson_destroy(&extra);
	}
	if (o->dry_run)
		diag_warn("%s: dry run: %llu documents would be written (%s), nothing was", ns,
			(unsigned long long)l.n.written,
			o->mode == MODE_INSERT ? "insert" : o->mode == MODE_UPSERT ? "upsert" : o->mode == MODE_MERGE ? "merge" : "delete");
	else
		diag_info("%s: %llu read, %llu inserted, %llu upserted, %llu modified, %llu deleted, %llu duplicates, %llu rejected",
			ns, (unsigned long long)l.n.read, (unsigned long long)l.n.inserted, (unsigned long long)l.n.upserted,
			(unsigned long long)l.n.modified, (unsigned long long)l.n.deleted, (unsigned long long)l.n.duplicates,
			(unsigned long long)l.n.rejected);
	if (l.n.rejected > 0)
		diag_warn("%s: %llu record(s) set aside in %s", ns, (unsigned long long)l.n.rejected, o->reject);
out:
	if (have_resume)
		bson_value_destroy(&resume_id);
	if (l.has_ack_id)
		bson_value_destroy(&l.ack_id);
	for (int i = 0; i < l.ndone; i++)
		batch_destroy(l.done[i]);
	while (l.head) {
		struct batch *n = l.head->next;

		batch_destroy(l.head);
		l.head = n;
	}
	bson_free(l.done);
	bson_free(threads);
	if (client)
		mongoc_client_pool_push(pool, client);
	if (l.reject)
		fclose(l.reject);
	mongoc_write_concern_destroy(l.wc);
	bson_destroy(l.insert_opts);
	pthread_mutex_destroy(&l.lock);
	pthread_cond_destroy(&l.cond);
	progress_destroy(p);
	docstream_reader_destroy(r);
	bson_destroy(meta);
	bson_free(l.ns);
	bson_free(l.db);
	bson_free(l.coll);
	return rc;
}

/* --dir: every DB/COLL.bson[.gz] of a mongodump directory, with metadata. */
static int
load_dir(const struct opts *o, mongoc_client_pool_t *pool, const char *only_db, struct stats *stats)
{
	DIR *top = opendir(o->dir), *sub;
	struct dirent *d, *f;
	int rc = MP_EX_OK, n = 0;

	if (top == NULL) {
		diag_error("cannot open directory %s: %s", o->dir, strerror(errno));
		return MP_EX_NOINPUT;
	}
	while (rc == MP_EX_OK && (d = readdir(top)) != NULL) {
		char *dbdir;

		if (d->d_name[0] == '.' || (only_db && !o->c.db && strcmp(d->d_name, only_db) != 0))
			continue;
		dbdir = bson_strdup_printf("%s/%s", o->dir, d->d_name);
		sub = opendir(dbdir);
		while (sub && rc == MP_EX_OK && (f = readdir(sub)) != NULL) {
			size_t len = strlen(f->d_name);
			bool gz = len > 8 && strcmp(f->d_name + len - 8, ".bson.gz") == 0;
			bool plain = len > 5 && strcmp(f->d_name + len - 5, ".bson") == 0;
			char *coll, *ns, *input, *meta;

			if (!gz && !plain)
				continue;
			coll = bson_strndup(f->d_name, len - (gz ? 8 : 5));
			if (strncmp(coll, "system.", 7) == 0) {
				bson_free(coll);
				continue;
			}
			ns = bson_strdup_printf("%s.%s", o->c.db ? o->c.db : d->d_name, coll);
			input = bson_strdup_printf("%s/%s", dbdir, f->d_name);
			meta = bson_strdup_printf("%s/%s.metadata.json%s", dbdir, coll, gz ? ".gz" : "");
			if (access(meta, R_OK) != 0) {
				bson_free(meta);
				meta = NULL;
			}
			diag_info("loading %s into %s", input, ns);
			rc = load_one(o, pool, ns, input, meta, stats);
			n++;
			bson_free(coll);
			bson_free(ns);
			bson_free(input);
			bson_free(meta);
		}
		if (sub)
			closedir(sub);
		bson_free(dbdir);
	}
	closedir(top);
	if (rc == MP_EX_OK && n == 0)
		diag_warn("no .bson files found under %s", o->dir);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct stats *stats = NULL;
	mongoc_client_pool_t *pool = NULL;
	bson_error_t err;
	char *ns = NULL, *db = NULL, *uri = NULL;
	int ch, rc = MP_EX_SOFTWARE;
	int64_t v;

	diag_init(argv[0]);
	memset(&o, 0, sizeof o);
	cli_common_init(&o.c);
	o.batch_size = 1000;
	o.workers = 2;
	while ((ch = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (cli_common_option(&o.c, ch, optarg, &err)) {
		case 1:
			continue;
		case -1:
			return cli_misuse(usage, "%s", err.message);
		}
		switch (ch) {
		case OPT_FROM: o.from = optarg; break;
		case OPT_DIR: o.dir = optarg; break;
		case OPT_MODE:
			if (strcmp(optarg, "insert") == 0) o.mode = MODE_INSERT;
			else if (strcmp(optarg, "upsert") == 0) o.mode = MODE_UPSERT;
			else if (strcmp(optarg, "merge") == 0) o.mode = MODE_MERGE;
			else if (strcmp(optarg, "delete") == 0) o.mode = MODE_DELETE;
			else return cli_misuse(usage, "--mode takes insert, upsert, merge or delete, not '%s'", optarg);
			break;
		case OPT_UPSERT_FIELDS:
			if (!split_fields(optarg, &o.upsert_fields))
				return cli_misuse(usage, "--upsert-fields takes a comma-separated list of fields");
			break;
		case OPT_SKIP_DUPLICATES: o.skip_dups = true; break;
		case OPT_ID_FIELD: o.id_field = optarg; break;
		case OPT_DROP: o.drop = true; break;
		case OPT_DRY_RUN: o.dry_run = true; break;
		case OPT_ORDERED: o.ordered = true; break;
		case OPT_WRITE_CONCERN: o.write_concern = optarg; break;
		case OPT_REJECT: o.reject = optarg; break;
		case OPT_CHECKPOINT: o.checkpoint = optarg; break;
		case OPT_METADATA: o.metadata = optarg; break;
		case OPT_BATCH_SIZE:
			if (!cli_parse_int64(optarg, 1, 100000, &o.batch_size))
				return cli_misuse(usage, "--batch-size takes 1 to 100000, not '%s'", optarg);
			break;
		case OPT_WORKERS:
			if (!cli_parse_int64(optarg, 1, 64, &v))
				return cli_misuse(usage, "--workers takes 1 to 64, not '%s'", optarg);
			o.workers = (int)v;
			break;
		default:
			return cli_misuse(usage, "unknown option");
		}
	}
	if ((rc = cli_common_finish(&o.c, usage, argc, argv, &ns, &db)) >= 0)
		return rc;
	if (o.ordered)
		o.workers = 1;
	if (o.dir && (o.from || ns)) {
		rc = cli_misuse(usage, "--dir loads a whole mongodump directory: no --from or --ns with it");
		goto done;
	}
	if (!o.dir && ns == NULL) {
		rc = cli_misuse(usage, "say where to load: --ns DB.COLL (or --dir DIR)");
		goto done;
	}
	if (o.dir && o.checkpoint) {
		rc = cli_misuse(usage, "--checkpoint works on one collection, not with --dir");
		goto done;
	}
	if (o.upsert_fields && o.mode == MODE_INSERT) {
		rc = cli_misuse(usage, "--upsert-fields goes with --mode upsert, merge or delete");
		goto done;
	}
	mongoc_init();
	diag_capture_driver_log();
	sig_install();
	stats = stats_open(o.c.stats_path, o.c.stats_fd, TOOL, &err);
	if (stats == NULL) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto cleanup;
	}
	uri = conn_resolve_uri(o.c.uri, o.c.uri_file, NULL, &err);
	if (uri == NULL || (pool = conn_pool_new(uri, TOOL, &err)) == NULL) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto cleanup;
	}
	mongoc_client_pool_max_size(pool, (uint32_t)o.workers + 1);
	if (o.dir)
		rc = load_dir(&o, pool, db, stats);
	else
		rc = load_one(&o, pool, ns, o.from, o.metadata, stats);
cleanup:
	mongoc_client_pool_destroy(pool);
	stats_finish(stats, ns ? ns : db, rc);
	bson_free(uri);
	mongoc_cleanup();
done:
	bson_strfreev(o.upsert_fields);
	bson_free(ns);
	bson_free(db);
	return rc;
}
