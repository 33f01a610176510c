/*
 * archive.c: every collection of a mongodump archive (libcommon/archive.h),
 * as mongorestore --archive restores it.  The prelude gives each
 * collection's metadata; then segments of the collections dumped at once
 * interleave.  A collection's load (load.c) starts at its first segment or
 * its EOF header (an empty collection has only that), takes the documents
 * of its segments as they come, and finishes at its EOF header, where the
 * CRC of its documents is checked: so collections load at once as they were
 * dumped, each with its own writer threads.  Records are numbered, and bad
 * ones named, over the whole archive.
 */
#include <string.h>

#include "archive.h"
#include "conn.h"
#include "diag.h"
#include "ejson.h"
#include "exitcode.h"
#include "load.h"
#include "nsmap.h"
#include "sig.h"

/* A collection of the prelude, and its load once started. */
struct coll {
	char *db, *name, *ns, *type;
	char *target; /* where it loads: ns, unless --ns-from/--ns-to rename it */
	bson_t *meta; /* NULL: none */
	bool skip;    /* not selected, a system collection, or cannot be restored */
	bool started, ended;
	struct load l;
	struct input in;
	struct batch *b;
	uint64_t crc;
};

/* Collections loading at once: mongodump writes --numParallelCollections
 * (default 4) at a time; more is a hostile archive. */
#define MAX_OPEN 256

struct demux {
	const struct opts *o;
	mongoc_client_pool_t *pool;
	struct stats *stats;
	struct docstream_reader *r;
	struct reject_file *reject;
	struct coll **c;
	int n;
	int open; /* collections started and not ended: each holds its writers */
	int rc; /* the first failure's status: reading stops */
	bool damaged; /* a collection's CRC is wrong: 65 at the end, the others load on */
};

static void
fail(struct demux *d, int rc)
{
	if (d->rc == MP_EX_OK)
		d->rc = rc;
}

/* The collection named by a header; one the prelude did not list is added
 * (without metadata). */
static struct coll *
find_coll(struct demux *d, const char *db, const char *name)
{
	struct coll *c;

	for (int i = 0; i < d->n; i++)
		if (strcmp(d->c[i]->db, db) == 0 && strcmp(d->c[i]->name, name) == 0)
			return d->c[i];
	c = bson_malloc0(sizeof *c);
	c->db = bson_strdup(db);
	c->name = bson_strdup(name);
	c->ns = bson_strdup_printf("%s.%s", db, name);
	c->target = ns_rename(c->ns);
	c->type = bson_strdup("");
	c->skip = strncmp(name, "system.", 7) == 0 || !ns_selected(db, name);
	d->c = bson_realloc(d->c, sizeof *d->c * (size_t)(d->n + 1));
	d->c[d->n++] = c;
	return c;
}

/* One entry of the prelude. */
static bool
add_meta(struct demux *d, const bson_t *doc, bson_error_t *err)
{
	struct archive_meta m;
	struct coll *c;
	bson_error_t perr;

	if (!archive_parse_meta(doc, &m, err))
		return false;
	c = find_coll(d, m.db, m.coll);
	bson_free(c->type);
	c->type = bson_strdup(m.type);
	bson_destroy(c->meta); /* a collection listed twice: the last entry */
	c->meta = NULL;
	if (m.metadata[0] && (c->meta = ejson_to_bson_new(m.metadata, -1, &perr)) == NULL) {
		mp_error_set(err, MP_EX_DATAERR, "the metadata of %s in the archive is not JSON: %s", c->ns,
			perr.message);
		return false;
	}
	if (!c->skip && strcmp(c->type, "timeseries") == 0) {
		/* its data is system.buckets.NAME, which only the server may write */
		diag_error("%s: a time series collection: not restored (mongorestore restores it)", c->ns);
		c->skip = true;
		fail(d, MP_EX_DATAERR);
	}
	return true;
}

/* The header document, the prelude, its terminator. */
static bool
read_prelude(struct demux *d, bson_error_t *err)
{
	const bson_t *doc;
	bson_iter_t it;
	int got = docstream_read_archive(d->r, &doc, err);

	if (got == 1 && bson_iter_init_find(&it, doc, "version") && BSON_ITER_HOLDS_UTF8(&it) &&
	    strcmp(bson_iter_utf8(&it, NULL), ARCHIVE_FORMAT_VERSION) != 0)
		diag_warn("%s: archive format version %s (this reads %s): reading on", docstream_reader_name(d->r),
			bson_iter_utf8(&it, NULL), ARCHIVE_FORMAT_VERSION);
	while (got == 1 && (got = docstream_read_archive(d->r, &doc, err)) == 1)
		if (!add_meta(d, doc, err))
			return false;
	if (got == 0)
		mp_error_set(err, MP_EX_DATAERR, "%s: the archive ends inside its prelude", docstream_reader_name(d->r));
	return got == 2;
}

/* The first segment (or the EOF header) of a collection: its load starts. */
static bool
start_coll(struct demux *d, struct coll *c)
{
	int rc;

	char *db = NULL, *coll = NULL;
	bson_error_t err;

	c->started = true;
	if (c->skip)
		return true;
	if (!conn_split_ns(c->target, &db, &coll, &err)) {
		diag_error("--ns-to renames %s to '%s', which is not DB.COLL", c->ns, c->target);
		c->skip = true;
		fail(d, MP_EX_USAGE);
		return false;
	}
	bson_free(db);
	bson_free(coll);
	load_init(&c->l, d->o, d->pool, c->target);
	c->l.reject = d->reject;
	c->l.reject_borrowed = true;
	c->in.r = d->r;
	c->in.name = docstream_reader_name(d->r);
	c->in.stats = d->stats;
	if (d->open == MAX_OPEN) {
		/* each one open holds its writers' connections until its end */
		diag_error("%s: more than %d collections open at once before %s", c->in.name, MAX_OPEN, c->ns);
		rc = MP_EX_DATAERR;
	} else {
		mongoc_client_pool_max_size(d->pool, (uint32_t)((d->open + 1) * (d->o->workers + 1) + 1));
		if ((rc = load_prepare(&c->l, &c->in)) == MP_EX_OK)
			rc = load_connect(&c->l, c->meta);
	}
	if (rc != MP_EX_OK) {
		workers_stop(&c->l);
		input_clear(&c->in);
		load_clear(&c->l);
		c->ended = true; /* nothing of it to finish */
		fail(d, rc);
		return false;
	}
	d->open++;
	diag_info("loading %s from %s into %s", c->ns, c->in.name, c->target);
	c->in.p = progress_new(c->target, -1, d->o->c.progress);
	c->b = batch_new();
	return true;
}

/* The end of its documents: the last batch, the indexes, the summary. */
static void
end_coll(struct demux *d, struct coll *c)
{
	int rc;

	c->ended = true;
	if (c->skip)
		return;
	d->open--;
	if (c->b && c->b->n > 0)
		load_ship(&c->l, &c->b);
	batch_destroy(c->b);
	c->b = NULL;
	rc = load_finish(&c->l, &c->in, c->meta);
	load_summary(&c->l, &c->in);
	workers_stop(&c->l);
	input_clear(&c->in);
	load_clear(&c->l);
	if (rc != MP_EX_OK)
		fail(d, rc);
}

/* Its EOF header: the CRC mongodump computed must be that of the documents
 * read. */
static void
eof_coll(struct demux *d, struct coll *c, int64_t crc)
{
	if (!c->skip && (uint64_t)crc != c->crc) {
		diag_error("%s: %s: the CRC of its documents is %016llx, the archive says %016llx: damaged data "
			"was loaded", c->in.name, c->ns, (unsigned long long)c->crc, (unsigned long long)crc);
		d->damaged = true;
	}
	end_coll(d, c);
}

/* A view of the prelude (it has no documents): created as the metadata
 * says, its options kept even with --no-options-restore (without viewOn and
 * pipeline it would be an empty collection, not a view). */
static void
create_view(struct demux *d, struct coll *c)
{
	mongoc_client_t *client;
	bson_error_t err;
	char *db = NULL, *coll = NULL;

	if (d->o->dry_run || c->meta == NULL)
		return;
	if (!conn_split_ns(c->target, &db, &coll, &err)) {
		diag_error("--ns-to renames %s to '%s', which is not DB.COLL", c->ns, c->target);
		fail(d, MP_EX_USAGE);
		return;
	}
	client = mongoc_client_pool_pop(d->pool);
	if (!metadata_create(client, db, coll, c->meta, 0, &err)) {
		diag_fail(&err, "creating view %s", c->target);
		fail(d, mp_error_exitcode(&err) == MP_EX_SOFTWARE ? MP_EX_UNAVAILABLE : mp_error_exitcode(&err));
	} else {
		diag_info("%s: view created", c->target);
	}
	mongoc_client_pool_push(d->pool, client);
	bson_free(db);
	bson_free(coll);
}

/* A namespace header: the collection whose documents follow, or NULL after
 * an EOF header (only the terminator follows it). */
static bool
header(struct demux *d, const bson_t *doc, struct coll **cur, bson_error_t *err)
{
	struct archive_ns h;
	struct coll *c;

	if (!archive_parse_ns(doc, &h, err)) {
		mp_error_wrap(err, "%s: record %llu", docstream_reader_name(d->r),
			(unsigned long long)docstream_reader_record(d->r));
		return false;
	}
	c = find_coll(d, h.db, h.coll);
	*cur = NULL;
	if (c->ended) {
		mp_error_set(err, MP_EX_DATAERR, "%s: data for %s after its end", docstream_reader_name(d->r), c->ns);
		return false;
	}
	if (strcmp(c->type, "view") == 0 && !c->skip) {
		/* mongodump ends a view with an EOF header and no documents */
		if (!h.eof) {
			mp_error_set(err, MP_EX_DATAERR, "%s: documents for %s, a view", docstream_reader_name(d->r), c->ns);
			return false;
		}
		c->started = c->ended = true;
		create_view(d, c);
		return true;
	}
	if (!c->started && !start_coll(d, c))
		return true; /* said, and d->rc ends the reading */
	if (h.eof) {
		eof_coll(d, c, h.crc);
		return true;
	}
	*cur = c;
	return true;
}

/* A document of the current segment (or a bad record in it: got -1). */
static bool
document(struct demux *d, struct coll *c, int got, const bson_t *doc, bson_error_t *err)
{
	size_t len;
	const uint8_t *raw = docstream_reader_raw(d->r, &len);

	c->crc = archive_crc64(c->crc, raw, len);
	if (c->skip)
		return true;
	if (load_record(&c->l, &c->in, got, doc, err, &c->b)) {
		if ((c->l.n.read & 1023) == 0)
			progress_update(c->in.p, c->l.n.read, docstream_reader_bytes(d->r));
		return true;
	}
	fail(d, c->in.rc != MP_EX_OK ? c->in.rc : MP_EX_UNAVAILABLE);
	return false;
}

/* Segments until the end of the archive. */
static void
read_segments(struct demux *d)
{
	struct coll *cur = NULL;
	bool in_segment = false;
	const bson_t *doc;
	bson_error_t err;
	int got;

	while (d->rc == MP_EX_OK && !sig_stop_requested() && (got = docstream_read_archive(d->r, &doc, &err)) != 0) {
		if (got == 2) {
			in_segment = false;
			cur = NULL;
		} else if (!in_segment && got == 1) {
			in_segment = true;
			if (!header(d, doc, &cur, &err))
				fail(d, diag_exit(&err, NULL));
		} else if (cur != NULL && (got == 1 || docstream_reader_can_continue(d->r))) {
			document(d, cur, got, doc, &err);
		} else if (got == 1) {
			diag_error("%s: record %llu: a document after an EOF header, where the archive has its terminator",
				docstream_reader_name(d->r), (unsigned long long)docstream_reader_record(d->r));
			fail(d, MP_EX_DATAERR);
		} else {
			fail(d, diag_exit(&err, NULL));
		}
	}
}

/* The end of the input: collections whose EOF never came are finished
 * (what was read is written) and the archive called short; views are
 * created. */
static void
finish_all(struct demux *d)
{
	bool whole = d->rc == MP_EX_OK && !sig_stop_requested();

	for (int i = 0; i < d->n; i++) {
		struct coll *c = d->c[i];

		if (c->skip || c->ended)
			continue;
		if (!c->started && strcmp(c->type, "view") == 0) {
			if (whole)
				create_view(d, c);
			continue;
		}
		if (whole) {
			diag_error("%s: the archive ends before the end of %s", docstream_reader_name(d->r), c->ns);
			fail(d, MP_EX_DATAERR);
		}
		if (c->started)
			end_coll(d, c);
	}
}

static void
free_colls(struct demux *d)
{
	for (int i = 0; i < d->n; i++) {
		bson_free(d->c[i]->db);
		bson_free(d->c[i]->name);
		bson_free(d->c[i]->ns);
		bson_free(d->c[i]->target);
		bson_free(d->c[i]->type);
		bson_destroy(d->c[i]->meta);
		bson_free(d->c[i]);
	}
	bson_free(d->c);
}

int
load_archive(const struct opts *o, mongoc_client_pool_t *pool, struct docstream_reader *r, struct stats *stats)
{
	struct demux d = {.o = o, .pool = pool, .stats = stats, .r = r};
	bson_error_t err;

	if (o->reject && (d.reject = reject_open(o->reject, &err)) == NULL)
		return diag_exit(&err, NULL);
	if (!read_prelude(&d, &err))
		fail(&d, diag_exit(&err, NULL));
	else
		read_segments(&d);
	finish_all(&d);
	if (d.reject && !reject_close(d.reject, &err))
		fail(&d, diag_exit(&err, NULL));
	free_colls(&d);
	if (d.rc == MP_EX_OK && sig_stop_requested()) {
		/* a rerun goes past what was loaded, unless a duplicate stops it */
		diag_error("%s: interrupted; %s", docstream_reader_name(r),
			o->mode == MODE_INSERT && o->stop_on_error
				? "rerun with --drop to load it again"
				: "rerun the same command to load the rest");
		return MP_EX_TEMPFAIL;
	}
	return d.rc == MP_EX_OK && d.damaged ? MP_EX_DATAERR : d.rc;
}
