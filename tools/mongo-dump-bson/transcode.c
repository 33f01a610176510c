/*
 * transcode.c: --from, a file or a mongodump directory as the source
 * instead of a server, like bsondump: read a document stream (BSON or
 * NDJSON, maybe gzipped) and write it in the output format.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "conn.h"
#include "diag.h"
#include "exitcode.h"
#include "mongo-dump-bson.h"
#include "sig.h"

/* The file to read: --from itself, or DIR/db/coll.bson[.gz] of a mongodump
 * directory.  *path is NULL for --from itself; false with *rc (64). */
static bool
source_path(const struct opts *o, const char *ns, char **path, int *rc)
{
	struct stat st;
	char *db = NULL, *coll = NULL;
	bool ok = true;

	*path = NULL;
	if (stat(o->from, &st) != 0 || !S_ISDIR(st.st_mode))
		return true;
	if (ns == NULL || !conn_split_ns(ns, &db, &coll, NULL)) {
		*rc = opt_misuse(&dump_tool, "--from a mongodump directory needs --ns DB.COLL");
		ok = false;
	} else {
		*path = bson_strdup_printf("%s/%s/%s.bson", o->from, db, coll);
		if (access(*path, F_OK) != 0) {
			char *gz = bson_strdup_printf("%s.gz", *path);

			bson_free(*path);
			*path = gz;
		}
	}
	bson_free(db);
	bson_free(coll);
	return ok;
}

/* Copy documents until the end, --limit or a signal: MP_EX_OK, or the exit
 * status of a failure (said; the documents before a bad one are written). */
static int
copy_docs(const struct opts *o, struct docstream_reader *r, struct docstream_writer *w, struct progress *p,
	int64_t *n)
{
	const bson_t *doc;
	bson_error_t err, ferr;
	int got;

	while (!sig_stop_requested() && (o->limit <= 0 || *n < o->limit) && (got = docstream_read(r, &doc, &err)) != 0) {
		if (got < 0) {
			/* 65 bad data, 74 I/O, 75 a signal */
			if (mp_error_exitcode(&err) != MP_EX_TEMPFAIL && !docstream_writer_close(w, &ferr))
				diag_fail(&ferr, NULL);
			return diag_exit(&err, NULL);
		}
		if (!docstream_write(w, doc, &err)) {
			/* a record with no Extended JSON form: the ones before it are written */
			if (mp_error_exitcode(&err) == MP_EX_DATAERR && !docstream_writer_close(w, &ferr))
				diag_fail(&ferr, NULL);
			return diag_exit(&err, NULL);
		}
		(*n)++;
		if ((*n & 1023) == 0)
			progress_update(p, (uint64_t)*n, docstream_reader_bytes(r));
	}
	return MP_EX_OK;
}

/* Stopped by a signal: what reached a pipe stays; a file is not renamed
 * into place.  Returns 75. */
static int
interrupted(struct docstream_writer *w, int64_t n)
{
	bson_error_t err;

	if (!docstream_writer_replaces_file(w) && !docstream_flush(w, &err))
		diag_fail(&err, NULL);
	diag_error("interrupted after %lld documents%s", (long long)n,
		docstream_writer_replaces_file(w) ? "; the output file was not written" : "");
	return MP_EX_TEMPFAIL;
}

int
transcode(const struct opts *o, const char *ns, struct stats *stats)
{
	/* the NDJSON writer checks every document as it walks it (ejson.h):
	 * BSON is validated once, there */
	struct docstream_reader_opts ro = {.format = o->c.input_format, .max_doc = o->c.max_doc,
		.no_validate = o->c.format == DOCSTREAM_NDJSON};
	struct docstream_writer_opts wo = {.format = o->c.format, .json = o->c.json, .gzip = o->c.gzip,
		.fields = o->fields, .no_header = o->no_header,
		.json_array = o->json_array};
	struct docstream_reader *r = NULL;
	struct docstream_writer *w = NULL;
	struct progress *p = NULL;
	bson_error_t err;
	char *path = NULL;
	int rc = MP_EX_SOFTWARE;
	int64_t n = 0;

	if (!source_path(o, ns, &path, &rc))
		goto out;
	if ((r = docstream_reader_open(path ? path : o->from, &ro, &err)) == NULL ||
	    (w = docstream_writer_open(o->output, &wo, &err)) == NULL) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	docstream_writer_set_source(w, r);
	p = progress_new(path ? path : o->from, -1, o->c.progress);
	if ((rc = copy_docs(o, r, w, p, &n)) != MP_EX_OK)
		goto out;
	progress_update(p, (uint64_t)n, docstream_reader_bytes(r));
	progress_finish(p);
	if (sig_stop_requested()) {
		rc = interrupted(w, n);
		goto out;
	}
	if (!docstream_writer_close(w, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	stats_emit(stats, "summary", ns, (uint64_t)n, docstream_reader_bytes(r), 0, NULL);
	rc = MP_EX_OK;
out:
	progress_destroy(p);
	docstream_writer_destroy(w);
	docstream_reader_destroy(r);
	bson_free(path);
	return rc;
}
