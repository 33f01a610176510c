/*
 * run.c: one run of mongo-dump-bson: connect, choose the namespaces (one,
 * a database's, the deployment's; --list prints them), turn the selection
 * options into a filter and find options, and dump each namespace to its
 * output: the stream, or DIR/db/coll.bson and its metadata under --out.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "conn.h"
#include "diag.h"
#include "exitcode.h"
#include "mongo-dump-bson.h"
#include "sig.h"

/* What every namespace of the run is dumped with. */
struct run {
	const struct opts *o;
	mongoc_client_pool_t *pool;
	mongoc_client_t *client;
	struct stats *stats;
	bson_t *query;     /* --query, maybe empty */
	bson_t *find_opts; /* projection, sort, limit, batchSize */
	struct archive_writer *ar; /* --archive */

	/* the namespaces, taken in turn by --num-parallel-collections threads */
	char **names;
	int n;
	char **views; /* of --db or the deployment, for --archive and --out: metadata only */
	int nviews;
	atomic_int next, done;
	atomic_int rc; /* the first failure's status, 0 while none */
};

/* Open the output of j: the stream, or DIR/db/coll.bson under --out; *meta
 * is the metadata file to write after the documents, if any. */
static bool
open_output(struct job *j, char **meta, bson_error_t *err)
{
	const struct opts *o = j->o;
	struct docstream_writer_opts wo = {.format = o->c.format, .json = o->c.json, .gzip = o->c.gzip,
		.json_array = o->json_array, .fields = o->fields, .no_header = o->no_header};
	const char *gz = o->c.gzip ? ".gz" : "";
	char *dir = NULL, *path = NULL;
	bool ok = false;

	if (o->out_dir) {
		dir = bson_strdup_printf("%s/%s", o->out_dir, j->db);
		if (!layout_mkdir(dir, err))
			goto out;
		wo.format = DOCSTREAM_BSON;
		path = bson_strdup_printf("%s/%s.bson%s", dir, j->coll, gz);
		*meta = bson_strdup_printf("%s/%s.metadata.json%s", dir, j->coll, gz);
	} else if (o->metadata) {
		*meta = bson_strdup(o->metadata);
	}
	j->w = docstream_writer_open(path ? path : o->output, &wo, err);
	ok = j->w != NULL;
out:
	bson_free(dir);
	bson_free(path);
	return ok;
}

/* The run ends early (a failure or a signal): what reached a pipe is
 * delivered, so the checkpoint moves over it and a resume does not repeat
 * it; a file that is not complete is never renamed into place (nothing to
 * keep). */
static void
keep_delivered(struct job *j)
{
	bson_error_t err;

	/* an archive is one stream for every collection: its run flushes it */
	if (j->ar == NULL && !docstream_writer_replaces_file(j->w) &&
	    (!docstream_flush(j->w, &err) || !job_save_checkpoint(j, &err)))
		diag_fail(&err, NULL);
}

/* The copy failed: say why, and return the exit status. */
static int
dump_failed(struct job *j, const bson_error_t *err)
{
	unsigned long long docs = atomic_load(&j->docs);

	if (docstream_writer_broken_pipe(j->w) && sig_stop_requested()) {
		/* the pipeline was interrupted: its reader went first */
		diag_error("%s: interrupted after %llu documents", j->ns, docs);
		return MP_EX_TEMPFAIL;
	}
	if (docstream_writer_broken_pipe(j->w)) {
		diag_info("%s: stopped: the reader of the output went away after %llu documents", j->ns, docs);
		return mp_error_exitcode(err);
	}
	diag_fail(err, NULL);
	if (mp_error_exitcode(err) == MP_EX_UNAVAILABLE) /* the source failed, not the output */
		keep_delivered(j);
	return mp_error_exitcode(err);
}

/* Stopped by a signal: what reached a pipe stays delivered and
 * checkpointed; a file that is not complete is never renamed into place. */
static int
dump_interrupted(struct job *j)
{
	keep_delivered(j);
	diag_error("%s: interrupted after %llu documents%s", j->ns, (unsigned long long)atomic_load(&j->docs),
		docstream_writer_replaces_file(j->w) ? "; the output file was not written" : "");
	return MP_EX_TEMPFAIL;
}

static void
dump_summary(struct job *j, double t0)
{
	bson_t extra = BSON_INITIALIZER;

	BSON_APPEND_UTF8(&extra, "phase", "dump");
	if (j->total >= 0)
		BSON_APPEND_INT64(&extra, "total", j->total);
	stats_emit(j->stats, "summary", j->ns, atomic_load(&j->docs), atomic_load(&j->bytes), 0, &extra);
	bson_destroy(&extra);
	diag_info("%s: %llu documents in %.1f s", j->ns, (unsigned long long)atomic_load(&j->docs), mp_now() - t0);
}

/* The documents are all out: close the output and write the metadata (or,
 * in an archive, end the namespace). */
static bool
finish_output(const struct run *run, mongoc_client_t *client, struct job *j, const char *meta, bson_error_t *err)
{
	const struct opts *o = run->o;

	if (j->ar)
		return job_end_archive(j, err);
	return docstream_writer_close(j->w, err) && job_save_checkpoint(j, err) &&
	       (meta == NULL || layout_write_metadata(client, j->db, j->coll, meta, o->c.gzip && o->out_dir, err));
}

/* Dump one namespace with `client`; returns the exit status. */
static int
dump_one(const struct run *run, mongoc_client_t *client, const char *ns)
{
	const struct opts *o = run->o;
	struct job j;
	bson_error_t err;
	char *meta = NULL;
	int rc = MP_EX_SOFTWARE;
	double t0 = mp_now();

	if (!job_init(&j, o, run->pool, ns, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	j.ar = run->ar;
	if (j.ar)
		j.w = j.ar->w;
	else if (!open_output(&j, &meta, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	j.stats = run->stats;
	j.query = run->query;
	j.find_opts = run->find_opts;
	if (!dump_collection(&j, client, &err)) {
		rc = dump_failed(&j, &err);
		goto out;
	}
	if (sig_stop_requested()) {
		rc = dump_interrupted(&j);
		goto out;
	}
	if (!finish_output(run, client, &j, meta, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	dump_summary(&j, t0);
	rc = MP_EX_OK;
out:
	if (j.ar == NULL)
		docstream_writer_destroy(j.w);
	job_clear(&j);
	bson_free(meta);
	return rc;
}

/* Take namespaces in turn until none is left or one failed. */
static void
take_namespaces(struct run *run, mongoc_client_t *client)
{
	int i, rc;

	while (atomic_load(&run->rc) == MP_EX_OK && !sig_stop_requested() &&
	       (i = atomic_fetch_add(&run->next, 1)) < run->n) {
		rc = dump_one(run, client, run->names[i]);
		if (rc == MP_EX_OK)
			atomic_fetch_add(&run->done, 1);
		else {
			int none = MP_EX_OK;

			atomic_compare_exchange_strong(&run->rc, &none, rc);
		}
	}
}

static void *
namespace_thread(void *arg)
{
	struct run *run = arg;
	mongoc_client_t *client = mongoc_client_pool_pop(run->pool);

	take_namespaces(run, client);
	mongoc_client_pool_push(run->pool, client);
	return NULL;
}

/* Every namespace of run->names, --num-parallel-collections at once; the
 * exit status. */
static int
dump_all(struct run *run)
{
	int nthreads = (int)(run->o->collections < run->n ? run->o->collections : run->n);
	pthread_t *t = bson_malloc0(sizeof(pthread_t) * (size_t)(nthreads > 0 ? nthreads : 1));
	int started = 0;

	atomic_init(&run->next, 0);
	atomic_init(&run->done, 0);
	atomic_init(&run->rc, MP_EX_OK);
	while (started < nthreads - 1 && sig_thread_create(&t[started], namespace_thread, run) == 0)
		started++;
	take_namespaces(run, run->client); /* the main thread is one of them */
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	bson_free(t);
	if (atomic_load(&run->rc) != MP_EX_OK)
		return atomic_load(&run->rc);
	if (atomic_load(&run->done) == run->n)
		return MP_EX_OK;
	diag_error("interrupted: %d of %d collections dumped", atomic_load(&run->done), run->n);
	return MP_EX_TEMPFAIL;
}

/* A namespace or database that does not exist is a typo until
 * --allow-missing says otherwise (66), as mongodump reports it. */
static bool
check_exists(const struct run *run, const char *ns, const char *db, int ncolls, bson_error_t *err)
{
	char *d = NULL, *c = NULL;
	bool exists = true, ok;

	if (run->o->allow_missing)
		return true;
	if (ns == NULL) {
		if (ncolls > 0)
			return true;
		mp_error_set(err, MP_EX_NOINPUT, "%s%s%s has no collections (--allow-missing: nothing to dump is "
			"a success)", db ? "database " : "the deployment", db ? db : "", "");
		return false;
	}
	ok = conn_split_ns(ns, &d, &c, err) && conn_collection_exists(run->client, d, c, &exists, err);
	if (ok && !exists) {
		mp_error_set(err, MP_EX_NOINPUT, "no such collection: %s (--allow-missing: dump it as empty)", ns);
		ok = false;
	}
	bson_free(d);
	bson_free(c);
	return ok;
}

/* --query, --projection, --sort, --limit and --batch-size as the filter and
 * find options of the run; false with the misuse said (*rc is 64). */
static bool
parse_selection(struct run *run, int *rc)
{
	const struct opts *o = run->o;
	bson_t *tmp = NULL;
	bson_error_t err;
	bool ok = false;

	if (o->query_file) {
		char *at = bson_strdup_printf("@%s", o->query_file);

		run->query = cli_parse_json_doc(at, "--query-file", &err);
		bson_free(at);
	} else {
		run->query = o->query ? cli_parse_json_doc(o->query, "--query", &err) : bson_new();
	}
	if (run->query == NULL)
		goto out;
	run->find_opts = bson_new();
	BSON_APPEND_INT64(run->find_opts, "batchSize", o->batch_size);
	if (o->projection) {
		if ((tmp = cli_parse_json_doc(o->projection, "--projection", &err)) == NULL)
			goto out;
		BSON_APPEND_DOCUMENT(run->find_opts, "projection", tmp);
		bson_destroy(tmp);
	}
	if (o->sort) {
		if ((tmp = cli_parse_json_doc(o->sort, "--sort", &err)) == NULL)
			goto out;
		BSON_APPEND_DOCUMENT(run->find_opts, "sort", tmp);
		bson_destroy(tmp);
	} else if (o->checkpoint || o->resume_after_id) {
		BCON_APPEND(run->find_opts, "sort", "{", "_id", BCON_INT32(1), "}");
	}
	if (o->limit > 0)
		BSON_APPEND_INT64(run->find_opts, "limit", o->limit);
	if (o->skip > 0)
		BSON_APPEND_INT64(run->find_opts, "skip", o->skip);
	ok = true;
out:
	if (!ok)
		*rc = opt_misuse(&dump_tool, "%s", err.message);
	return ok;
}

/* A pool (a connection per --parallel range and one more) and a client of
 * it, after a ping. */
static bool
connect_pool(struct run *run, bson_error_t *err)
{
	const struct opts *o = run->o;
	mongoc_uri_t *uri = cli_common_uri(&o->c, err);

	run->pool = uri ? conn_pool_new_uri(uri, TOOL, err) : NULL;
	mongoc_uri_destroy(uri);
	if (run->pool == NULL)
		return false;
	/* each collection at once: a client, and one per --parallel range */
	mongoc_client_pool_max_size(run->pool, (uint32_t)(o->collections * (o->parallel > 1 ? o->parallel + 1 : 2)));
	run->client = mongoc_client_pool_pop(run->pool);
	return conn_ping(run->client, err);
}

/* --list: the namespaces, one a line. */
static int
print_list(char **names, int n)
{
	for (int i = 0; i < n; i++)
		printf("%s\n", names[i]);
	if (fflush(stdout) == 0 && !ferror(stdout))
		return MP_EX_OK;
	if (errno == EPIPE) { /* `--list | head`: a normal end, said with -v */
		diag_info("writing to standard output: %s", strerror(errno));
		return MP_EX_PIPE;
	}
	diag_error("writing to standard output: %s", strerror(errno));
	return MP_EX_IOERR;
}

/* The server's version, for the archive's header ("" if it will not say). */
static char *
server_version(mongoc_client_t *client)
{
	bson_t *cmd = BCON_NEW("buildInfo", BCON_INT32(1)), reply;
	bson_iter_t it;
	char *v = NULL;

	if (mongoc_client_command_simple(client, "admin", cmd, NULL, &reply, NULL) &&
	    bson_iter_init_find(&it, &reply, "version") && BSON_ITER_HOLDS_UTF8(&it))
		v = bson_strdup(bson_iter_utf8(&it, NULL));
	bson_destroy(&reply);
	bson_destroy(cmd);
	return v ? v : bson_strdup("");
}

/* The archive's prelude: its header and each collection's metadata. */
static bool
write_prelude(struct run *run, bson_error_t *err)
{
	int total = run->n + run->nviews;
	bson_t **metas = bson_malloc0(sizeof(bson_t *) * (size_t)(total + 1));
	char *version = server_version(run->client);
	bool ok = true;

	for (int i = 0; ok && i < total; i++) {
		bool view = i >= run->n;
		const char *ns = view ? run->views[i - run->n] : run->names[i];
		char *db = NULL, *coll = NULL, *json = NULL;

		ok = conn_split_ns(ns, &db, &coll, err) && (json = layout_metadata_json(run->client, db, coll, err)) != NULL;
		if (ok)
			metas[i] = archive_meta_doc(db, coll, json, view ? "view" : "");
		bson_free(json);
		bson_free(db);
		bson_free(coll);
	}
	ok = ok && archive_write_prelude(run->ar, (int32_t)run->o->collections, version, metas, total, err);
	for (int i = 0; i < total; i++)
		bson_destroy(metas[i]);
	bson_free(metas);
	bson_free(version);
	return ok;
}

/* The views: no documents, so in an archive only their EOF headers (as
 * mongodump writes them), and under --out only their metadata.json. */
static bool
end_views(const struct run *run, bson_error_t *err)
{
	const struct opts *o = run->o;
	bool ok = true;

	for (int i = 0; ok && i < run->nviews; i++) {
		char *db = NULL, *coll = NULL, *dir = NULL, *path = NULL;

		ok = conn_split_ns(run->views[i], &db, &coll, err);
		if (ok && run->ar) {
			ok = archive_write_eof(run->ar, db, coll, 0, err);
		} else if (ok) {
			dir = bson_strdup_printf("%s/%s", o->out_dir, db);
			path = bson_strdup_printf("%s/%s.metadata.json%s", dir, coll, o->c.gzip ? ".gz" : "");
			ok = layout_mkdir(dir, err) && layout_write_metadata(run->client, db, coll, path, o->c.gzip, err);
		}
		if (ok)
			diag_info("%s: a view: its definition written", run->views[i]);
		bson_free(db);
		bson_free(coll);
		bson_free(dir);
		bson_free(path);
	}
	return ok;
}

/* --archive: the prelude, every namespace into it, and the end; a file
 * that is not complete is never renamed into place. */
static int
dump_archive(struct run *run)
{
	const struct opts *o = run->o;
	struct docstream_writer_opts wo = {.format = DOCSTREAM_BSON, .gzip = o->c.gzip};
	struct archive_writer aw;
	bson_error_t err;
	int rc;

	struct docstream_writer *w = docstream_writer_open(strcmp(o->archive, "-") ? o->archive : NULL, &wo, &err);

	if (w == NULL)
		return diag_exit(&err, NULL);
	archive_writer_init(&aw, w);
	run->ar = &aw;
	if (!write_prelude(run, &err))
		rc = diag_exit(&err, NULL);
	else if ((rc = dump_all(run)) == MP_EX_OK && (!end_views(run, &err) || !docstream_writer_close(w, &err)))
		rc = diag_exit(&err, NULL);
	if (rc != MP_EX_OK && !docstream_writer_replaces_file(w))
		docstream_flush(w, &err); /* what a pipe's reader has is whole segments */
	run->ar = NULL;
	archive_writer_clear(&aw);
	docstream_writer_destroy(w);
	return rc;
}

int
dump_run(const struct opts *o, const char *ns, const char *db)
{
	struct run run = {.o = o};
	char **names = NULL;
	bson_error_t err;
	int rc = MP_EX_SOFTWARE, n = 0;

	if ((run.stats = stats_open(o->c.stats_path, o->c.stats_fd, TOOL, &err)) == NULL) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	if (o->from) {
		rc = transcode(o, ns, run.stats);
		goto out;
	}
	if (!connect_pool(&run, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	if ((o->list || ns == NULL) && !conn_list_namespaces(run.client, db, &names, &n, &err)) {
		rc = diag_exit(&err, "listing collections");
		goto out;
	}
	if (o->list) {
		rc = print_list(names, n);
		goto out;
	}
	if (!parse_selection(&run, &rc))
		goto out;
	if (!check_exists(&run, ns, db, n, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	if (ns != NULL) {
		bson_strfreev(names);
		names = bson_malloc0(2 * sizeof(char *));
		names[0] = bson_strdup(ns);
		n = 1;
	}
	run.names = names;
	run.n = n;
	if (ns == NULL && (o->archive || o->out_dir) &&
	    !conn_list_of_type(run.client, db, "view", &run.views, &run.nviews, &err)) {
		rc = diag_exit(&err, "listing views");
		goto out;
	}
	if (o->archive)
		rc = dump_archive(&run);
	else if ((rc = dump_all(&run)) == MP_EX_OK && o->out_dir && !end_views(&run, &err))
		rc = diag_exit(&err, NULL);
out:
	bson_strfreev(names);
	bson_strfreev(run.views);
	bson_destroy(run.query);
	bson_destroy(run.find_opts);
	if (run.client)
		mongoc_client_pool_push(run.pool, run.client);
	mongoc_client_pool_destroy(run.pool);
	rc = stats_finish(run.stats, ns ? ns : db, rc);
	return rc;
}
