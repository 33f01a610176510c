/*
 * load.c: loading one collection (prepare, read records into batches and
 * hand them to the workers, finish with the checkpoint, the indexes and the
 * summary), and every collection of a mongodump directory.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bsoncmp.h"
#include "checkpoint.h"
#include "conn.h"
#include "diag.h"
#include "docstream.h"
#include "exitcode.h"
#include "load.h"
#include "nsmap.h"
#include "sig.h"

void
load_init(struct load *l, const struct opts *o, mongoc_client_pool_t *pool, const char *ns)
{
	memset(l, 0, sizeof *l);
	l->o = o;
	l->pool = pool;
	l->ns = bson_strdup(ns);
	conn_split_ns(ns, &l->db, &l->coll, NULL); /* checked by opt_parse */
	ackwin_init(&l->aw, (uint32_t)o->workers * 2 + 1);
	l->last_save = mp_now();
	workers_init(l);
	l->insert_opts = BCON_NEW("validate", BCON_BOOL(false));
}

void
load_clear(struct load *l)
{
	bson_error_t err;

	if (l->has_ack_id)
		bson_value_destroy(&l->ack_id);
	ackwin_destroy(&l->aw, batch_free);
	if (l->reject && !l->reject_borrowed && !reject_close(l->reject, &err))
		diag_fail(&err, NULL);
	mongoc_write_concern_destroy(l->wc);
	bson_destroy(l->insert_opts);
	workpool_destroy(&l->wp);
	bson_free(l->ns);
	bson_free(l->db);
	bson_free(l->coll);
}

/* The write concern, the reject file, the checkpoint to resume from. */
int
load_prepare(struct load *l, struct input *in)
{
	bson_error_t err;
	bson_t ck;
	bson_iter_t it;
	bool found;
	int rc = MP_EX_OK;

	if ((l->wc = bulk_write_concern_parse(l->o->write_concern, &err)) == NULL ||
	    (l->o->reject && !l->reject && (l->reject = reject_open(l->o->reject, &err)) == NULL))
		return diag_exit(&err, NULL);
	if (l->o->checkpoint == NULL)
		return MP_EX_OK;
	if (!checkpoint_load(l->o->checkpoint, &ck, &found, &err))
		rc = diag_exit(&err, NULL);
	else if (found && bson_iter_init_find(&it, &ck, "_id")) {
		bson_value_copy(bson_iter_value(&it), &in->resume_id);
		in->have_resume = true;
		bson_value_copy(&in->resume_id, &l->ack_id);
		l->has_ack_id = true;
	}
	bson_destroy(&ck);
	return rc;
}

static int
create_how(const struct opts *o)
{
	return (o->no_options_restore ? META_NO_OPTIONS : 0) | (o->preserve_uuid ? META_UUID : 0);
}

/* --preserve-uuid: the uuid read before the collection is dropped, so that
 * a bad one leaves the target as it was. */
static int
check_uuid(const struct load *l, const bson_t *meta)
{
	uint8_t uuid[16];
	bson_error_t err;

	if (!l->o->preserve_uuid)
		return MP_EX_OK;
	if (!metadata_has_uuid(meta)) {
		diag_warn("%s: %s: --preserve-uuid has no uuid to keep; the server gives it a new one", l->ns,
			meta ? "its metadata has no uuid" : "no metadata");
		return MP_EX_OK;
	}
	return metadata_uuid(meta, uuid, &err) ? MP_EX_OK : diag_exit(&err, "%s", l->ns);
}

/* Reach the server, drop, create with the metadata's options, start the
 * workers.  Nothing of it for --dry-run. */
int
load_connect(struct load *l, const bson_t *meta)
{
	mongoc_client_t *client;
	bson_error_t err;
	int rc = MP_EX_OK;

	if (l->o->dry_run)
		return MP_EX_OK;
	if ((rc = check_uuid(l, meta)) != MP_EX_OK)
		return rc;
	client = mongoc_client_pool_pop(l->pool);
	if (!conn_ping(client, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	if (l->o->drop) {
		mongoc_collection_t *c = mongoc_client_get_collection(client, l->db, l->coll);
		bool ok = mongoc_collection_drop(c, &err) || err.code == 26 || strstr(err.message, "not found");

		mongoc_collection_destroy(c);
		if (!ok) {
			rc = diag_exit(&err, "dropping %s", l->ns);
			goto out;
		}
	}
	if (meta && !metadata_create(client, l->db, l->coll, meta, create_how(l->o), &err)) {
		rc = diag_exit(&err, "creating %s", l->ns);
		goto out;
	}
	workers_start(l);
out:
	mongoc_client_pool_push(l->pool, client);
	return rc;
}

/* A bad input record: set aside with where it was, or the end (-1). */
static int
reject_record(struct load *l, struct input *in, const char *why)
{
	struct reject_why w = {why, 0, docstream_reader_record(in->r), docstream_reader_line(in->r),
		docstream_reader_offset(in->r)};
	bson_error_t err;

	if (!reject_write_read(l->reject, &w, "raw", in->r, &err)) {
		workpool_fail(&l->wp, &err);
		return -1;
	}
	pthread_mutex_lock(&l->wp.lock);
	l->n.rejected++;
	pthread_mutex_unlock(&l->wp.lock);
	return 0;
}

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

/* Hand a full batch over (or count it, --dry-run); false after a failure. */
bool
load_ship(struct load *l, struct batch **b)
{
	bool ok = true;

	if (l->o->dry_run) {
		l->n.written += (*b)->n;
		l->n.bytes += (*b)->len;
		batch_destroy(*b);
	} else {
		ok = workers_enqueue(l, *b);
	}
	*b = ok ? batch_new() : NULL;
	return ok && !workpool_failed(&l->wp);
}

/* With --checkpoint the input must be sorted by _id, strictly: a resume
 * skips everything up to the checkpoint, so a smaller _id after a larger one
 * would be skipped without a word. */
static bool
check_sorted(struct load *l, struct input *in, const bson_t *doc)
{
	bson_iter_t it;

	if (l->o->checkpoint == NULL)
		return true;
	if (!bson_iter_init_find(&it, doc, "_id") ||
	    (in->have_prev && bsoncmp_value(&in->prev_id, bson_iter_value(&it)) >= 0)) {
		diag_error("%s: record %llu: --checkpoint needs input sorted by _id, each greater than the one before "
			"(mongo-dump-bson --sort '{\"_id\": 1}' writes it so)", in->name ? in->name : "(stdin)",
			(unsigned long long)docstream_reader_record(in->r));
		in->rc = MP_EX_DATAERR;
		return false;
	}
	if (in->have_prev)
		bson_value_destroy(&in->prev_id);
	bson_value_copy(bson_iter_value(&it), &in->prev_id);
	in->have_prev = true;
	return true;
}

/* One good record: into the batch, unless the checkpoint covers it
 * (sorted input: what the checkpoint covers is in the target). */
static bool
take(struct load *l, struct input *in, const bson_t *doc, struct batch **b)
{
	bson_iter_t it;

	if (!check_sorted(l, in, doc))
		return false;
	if (in->have_resume) {
		if (bson_iter_init_find(&it, doc, "_id") && bsoncmp_value(bson_iter_value(&it), &in->resume_id) <= 0) {
			in->skipped++;
			return true;
		}
		in->have_resume = false;
	}
	if ((*b)->n == 0)
		(*b)->first_rec = docstream_reader_record(in->r);
	(*b)->last_rec = docstream_reader_record(in->r);
	batch_add(*b, doc);
	if ((*b)->n >= (uint32_t)l->o->batch_size || (*b)->len >= BATCH_BYTES_DEFAULT)
		return load_ship(l, b);
	return true;
}

bool
load_record(struct load *l, struct input *in, int got, const bson_t *doc, bson_error_t *err, struct batch **b)
{
	bson_t moved;
	bool ok;

	if (got < 0 && docstream_reader_row_skipped(in->r) && !l->reject) {
		diag_warn("%s", err->message);
		return true;
	}
	if (got < 0) {
		if (l->reject && docstream_reader_can_continue(in->r)) {
			diag_warn("%s; set aside in %s", err->message, l->o->reject);
			return reject_record(l, in, err->message) == 0;
		}
		in->rc = diag_exit(err, NULL); /* 65 bad data, 74 I/O, 75 a signal */
		return false;
	}
	l->n.read++;
	if (l->o->id_field == NULL)
		return take(l, in, doc, b);
	if (!move_id(l->o->id_field, doc, &moved)) {
		char why[160];

		bson_destroy(&moved);
		snprintf(why, sizeof why, "no field '%s' for --id-field", l->o->id_field);
		if (l->reject)
			return reject_record(l, in, why) == 0;
		diag_error("%s: record %llu: %s", in->name ? in->name : "(stdin)",
			(unsigned long long)docstream_reader_record(in->r), why);
		in->rc = MP_EX_DATAERR;
		return false;
	}
	ok = take(l, in, &moved, b);
	bson_destroy(&moved);
	return ok;
}

/* Read the whole input into batches; the last one is shipped too. */
static void
read_input(struct load *l, struct input *in)
{
	struct batch *b = batch_new();
	const bson_t *doc;
	bson_error_t err;
	int got;

	while (b != NULL && !sig_stop_requested() && (got = docstream_read(in->r, &doc, &err)) != 0) {
		if (!load_record(l, in, got, doc, &err, &b))
			break;
		if ((l->n.read & 1023) == 0) {
			progress_update(in->p, l->n.read, docstream_reader_bytes(in->r));
			if (stats_due(in->stats))
				stats_emit(in->stats, "progress", l->ns, l->n.written, l->n.bytes, l->n.rejected, NULL);
		}
	}
	/* everything read before a bad record is written before we stop */
	if (b != NULL && b->n > 0)
		load_ship(l, &b);
	batch_destroy(b);
}

void
load_summary(struct load *l, struct input *in)
{
	bson_t x = BSON_INITIALIZER;
	const struct counts *n = &l->n;
	static const char *const mode[] = {"insert", "upsert", "merge", "delete"};

	BSON_APPEND_UTF8(&x, "phase", "load");
	BSON_APPEND_INT64(&x, "read", (int64_t)n->read);
	BSON_APPEND_INT64(&x, "inserted", (int64_t)n->inserted);
	BSON_APPEND_INT64(&x, "upserted", (int64_t)n->upserted);
	BSON_APPEND_INT64(&x, "matched", (int64_t)n->matched);
	BSON_APPEND_INT64(&x, "modified", (int64_t)n->modified);
	BSON_APPEND_INT64(&x, "deleted", (int64_t)n->deleted);
	BSON_APPEND_INT64(&x, "duplicates", (int64_t)n->duplicates);
	BSON_APPEND_INT64(&x, "rejected", (int64_t)n->rejected);
	BSON_APPEND_INT64(&x, "retries", (int64_t)n->retries);
	BSON_APPEND_INT64(&x, "skipped_by_checkpoint", (int64_t)in->skipped);
	BSON_APPEND_BOOL(&x, "dry_run", l->o->dry_run);
	stats_emit(in->stats, "summary", l->ns, n->written, n->bytes, n->rejected, &x);
	bson_destroy(&x);
	if (l->o->dry_run)
		diag_warn("%s: dry run: %llu documents would be written (%s), nothing was", l->ns,
			(unsigned long long)n->written, mode[l->o->mode]);
	else
		diag_info("%s: %llu read, %llu inserted, %llu upserted, %llu modified, %llu deleted, %llu duplicates, "
			"%llu rejected", l->ns, (unsigned long long)n->read, (unsigned long long)n->inserted,
			(unsigned long long)n->upserted, (unsigned long long)n->modified, (unsigned long long)n->deleted,
			(unsigned long long)n->duplicates, (unsigned long long)n->rejected);
	if (n->rejected > 0)
		diag_warn("%s: %llu record(s) set aside in %s", l->ns, (unsigned long long)n->rejected, l->o->reject);
	/* gone past as mongorestore goes past them, but never in silence: the
	 * document there has the same _id, not necessarily the same content */
	if (n->duplicates > 0 && l->o->restoring && !l->o->skip_dups)
		diag_warn("%s: %llu document(s) not written: one with the same _id was there already, maybe with "
			"other content (--mode upsert replaces them, mongo-hashdiff shows what differs, "
			"--stop-on-error stops at the first)", l->ns, (unsigned long long)n->duplicates);
}

/* After the input: the workers drained, the checkpoint saved, the indexes
 * built; the exit status of the whole. */
int
load_finish(struct load *l, struct input *in, const bson_t *meta)
{
	mongoc_client_t *client;
	bson_error_t err;
	int rc;

	workers_stop(l);
	progress_update(in->p, l->n.read, docstream_reader_bytes(in->r));
	progress_finish(in->p);
	if (!checkpoint_save_ack(l, &err))
		workpool_fail(&l->wp, &err);
	if (l->wp.failed) {
		rc = diag_exit(&l->wp.err, "%s", l->ns);
		return rc == MP_EX_SOFTWARE && l->wp.err.domain != MP_ERROR_DOMAIN ? MP_EX_UNAVAILABLE : rc;
	}
	if (in->rc != MP_EX_OK)
		return in->rc;
	if (meta && !l->o->dry_run && !l->o->no_index_restore && !sig_stop_requested()) {
		client = mongoc_client_pool_pop(l->pool);
		rc = metadata_indexes(client, l->db, l->coll, meta, &err) ? MP_EX_OK : diag_exit(&err, NULL);
		mongoc_client_pool_push(l->pool, client);
		if (rc != MP_EX_OK)
			return rc;
	}
	if (!sig_stop_requested())
		return MP_EX_OK;
	diag_error("%s: interrupted; rerun the same command to go on", l->ns);
	return MP_EX_TEMPFAIL;
}

int
load_one(const struct opts *o, mongoc_client_pool_t *pool, const char *ns, struct docstream_reader *r,
	const bson_t *meta, struct stats *stats)
{
	struct input in = {.stats = stats, .r = r};
	struct load l;
	int rc;

	in.name = strcmp(docstream_reader_name(r), "(stdin)") ? docstream_reader_name(r) : NULL;
	if (strchr(ns, '.') == NULL || ns[0] == '.' || ns[strlen(ns) - 1] == '.') {
		diag_error("'%s' is not DB.COLL (check --ns-from/--ns-to)", ns);
		return MP_EX_USAGE;
	}
	load_init(&l, o, pool, ns);
	if ((rc = load_prepare(&l, &in)) != MP_EX_OK)
		goto out;
	if ((rc = load_connect(&l, meta)) != MP_EX_OK)
		goto out;
	in.p = progress_new(ns, -1, o->c.progress);
	read_input(&l, &in);
	rc = load_finish(&l, &in, meta);
	load_summary(&l, &in);
out:
	workers_stop(&l);
	input_clear(&in);
	load_clear(&l);
	return rc;
}

void
input_clear(struct input *in)
{
	if (in->have_resume)
		bson_value_destroy(&in->resume_id);
	if (in->have_prev)
		bson_value_destroy(&in->prev_id);
	progress_destroy(in->p);
}

/* One file of a mongodump directory, with its metadata file if there is one. */
static int
load_file(const struct opts *o, mongoc_client_pool_t *pool, const char *ns, const char *input,
	const char *metapath, struct stats *stats)
{
	struct docstream_reader_opts ro = {.format = o->c.input_format, .max_doc = o->c.max_doc, .csv = &o->csv};
	struct docstream_reader *r = NULL;
	bson_t *meta = NULL;
	bson_error_t err;
	int rc;

	if ((metapath && (meta = metadata_read(metapath, &err)) == NULL) ||
	    (r = docstream_reader_open(input, &ro, &err)) == NULL)
		rc = diag_exit(&err, NULL);
	else
		rc = load_one(o, pool, ns, r, meta, stats);
	docstream_reader_destroy(r);
	bson_destroy(meta);
	return rc;
}

/* The target of db.coll of a dump: --db renames the database, else
 * --ns-from/--ns-to may; bson_free() it. */
static char *
target_ns(const struct opts *o, const char *db, const char *coll)
{
	char *ns = bson_strdup_printf("%s.%s", db, coll), *to;

	if (o->c.db) {
		to = bson_strdup_printf("%s.%s", o->c.db, coll);
	} else {
		to = ns_rename(ns);
	}
	bson_free(ns);
	return to;
}

/* A view of the dump (a metadata.json with type "view" and no .bson):
 * created as its metadata says, as mongorestore does. */
static int
load_view(const struct opts *o, mongoc_client_pool_t *pool, const char *path, const char *db, const char *coll)
{
	bson_t *meta;
	bson_iter_t it;
	bson_error_t err;
	char *ns = NULL, *tdb = NULL, *tcoll = NULL;
	mongoc_client_t *client;
	int rc = MP_EX_OK;

	if ((meta = metadata_read(path, &err)) == NULL)
		return diag_exit(&err, NULL);
	if (!bson_iter_init_find(&it, meta, "type") || !BSON_ITER_HOLDS_UTF8(&it) ||
	    strcmp(bson_iter_utf8(&it, NULL), "view") != 0 || o->dry_run)
		goto out; /* a collection without data: its .bson is what counts */
	ns = target_ns(o, db, coll);
	if (!conn_split_ns(ns, &tdb, &tcoll, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	client = mongoc_client_pool_pop(pool);
	if (!metadata_create(client, tdb, tcoll, meta, 0, &err))
		rc = diag_exit(&err, "creating view %s", ns);
	else
		diag_info("%s: view created", ns);
	mongoc_client_pool_push(pool, client);
out:
	bson_free(ns);
	bson_free(tdb);
	bson_free(tcoll);
	bson_destroy(meta);
	return rc;
}

/* Every COLL.metadata.json[.gz] of a folder without its COLL.bson[.gz]. */
static int
load_db_views(const struct opts *o, mongoc_client_pool_t *pool, const char *dbdir, const char *db)
{
	DIR *sub = opendir(dbdir);
	struct dirent *f;
	int rc = MP_EX_OK;

	while (sub && rc == MP_EX_OK && (f = readdir(sub)) != NULL) {
		size_t len = strlen(f->d_name);
		bool gz = len > 17 && strcmp(f->d_name + len - 17, ".metadata.json.gz") == 0;
		bool plain = len > 14 && strcmp(f->d_name + len - 14, ".metadata.json") == 0;
		char *coll, *data, *path;

		if (!gz && !plain)
			continue;
		coll = bson_strndup(f->d_name, len - (gz ? 17 : 14));
		data = bson_strdup_printf("%s/%s.bson%s", dbdir, coll, gz ? ".gz" : "");
		path = bson_strdup_printf("%s/%s", dbdir, f->d_name);
		if (access(data, F_OK) != 0 && strncmp(coll, "system.", 7) != 0 && ns_selected(db, coll))
			rc = load_view(o, pool, path, db, coll);
		bson_free(coll);
		bson_free(data);
		bson_free(path);
	}
	if (sub)
		closedir(sub);
	return rc;
}

/* Every COLL.bson[.gz] of one database folder (no system.* collections). */
static int
load_db_folder(const struct opts *o, mongoc_client_pool_t *pool, const char *dbdir, const char *db,
	struct stats *stats, int *n)
{
	DIR *sub = opendir(dbdir);
	struct dirent *f;
	int rc = MP_EX_OK;

	while (sub && rc == MP_EX_OK && (f = readdir(sub)) != NULL) {
		size_t len = strlen(f->d_name);
		bool gz = len > 8 && strcmp(f->d_name + len - 8, ".bson.gz") == 0;
		bool plain = len > 5 && strcmp(f->d_name + len - 5, ".bson") == 0;
		char *coll, *ns, *input, *meta;

		if (!gz && !plain)
			continue;
		coll = bson_strndup(f->d_name, len - (gz ? 8 : 5));
		/* the source namespace, as the dump named it, is what --ns-include
		 * and the like select */
		if (strncmp(coll, "system.", 7) != 0 && ns_selected(db, coll)) {
			ns = target_ns(o, db, coll);
			input = bson_strdup_printf("%s/%s", dbdir, f->d_name);
			meta = bson_strdup_printf("%s/%s.metadata.json%s", dbdir, coll, gz ? ".gz" : "");
			diag_info("loading %s into %s", input, ns);
			rc = load_file(o, pool, ns, input, access(meta, R_OK) == 0 ? meta : NULL, stats);
			(*n)++;
			bson_free(ns);
			bson_free(input);
			bson_free(meta);
		}
		bson_free(coll);
	}
	if (sub)
		closedir(sub);
	/* views after the collections they are views on */
	return rc == MP_EX_OK ? load_db_views(o, pool, dbdir, db) : rc;
}

int
load_dir(const struct opts *o, mongoc_client_pool_t *pool, const char *only_db, struct stats *stats)
{
	DIR *top = opendir(o->dir);
	struct dirent *d;
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
		rc = load_db_folder(o, pool, dbdir, d->d_name, stats, &n);
		bson_free(dbdir);
	}
	closedir(top);
	if (rc == MP_EX_OK && n == 0 && !o->allow_missing) {
		diag_error("no .bson files under %s%s%s: --dir wants the top of a mongodump output, the folder that "
			"holds DB/COLL.bson (not a database folder); --allow-missing if nothing to load is right",
			o->dir, only_db ? " for database " : "", only_db ? only_db : "");
		rc = MP_EX_NOINPUT;
	}
	return rc;
}
