/*
 * hashjoin.c: a file side need not be sorted, so it is joined by hash.
 * Both sides are spilled into PARTITIONS temporary files by a hash of the
 * _id's join key, as records {k: key, i: _id, h: digest[, d: document]};
 * each pair of partitions is then joined in memory (sorted by key, searched
 * by binary search), so memory stays bounded by the largest partition.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "mongo-hashdiff.h"

#define PARTITIONS 64

struct spill {
	FILE *f[PARTITIONS];
};

/* A spilled record read back. */
struct rec {
	uint8_t *raw; /* the record (a bson_t must not be copied, so none is kept) */
	uint32_t len;
	const uint8_t *key;
	uint32_t klen;
	bool matched;
};

/* Its parts. */
struct rec_parts {
	bson_value_t id;
	const uint8_t *h;
	bson_t doc;
	bool has_doc;
};

static uint32_t
key_hash(const bson_t *key)
{
	const uint8_t *p = bson_get_data(key);
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < key->len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool
spill_open(struct spill *s, bson_error_t *err)
{
	for (int i = 0; i < PARTITIONS; i++) {
		s->f[i] = tmpfile();
		if (s->f[i] == NULL) {
			mp_error_set(err, MP_EX_CANTCREAT, "a temporary file: %s", strerror(errno));
			return false;
		}
	}
	return true;
}

static void
spill_close(struct spill *s)
{
	for (int i = 0; i < PARTITIONS; i++)
		if (s->f[i])
			fclose(s->f[i]);
}

/* Write one record {k: key, i: _id, h: digest[, d: doc]} into the partition
 * of its key. */
static bool
spill_write(struct job *j, struct spill *s, const bson_value_t *id, const uint8_t *d, const bson_t *doc,
	bson_error_t *err)
{
	bson_t key, rec = BSON_INITIALIZER;
	bool ok = true;

	dochash_id_key(id, &key);
	BSON_APPEND_DOCUMENT(&rec, "k", &key);
	bson_append_value(&rec, "i", 1, id);
	BSON_APPEND_BINARY(&rec, "h", BSON_SUBTYPE_BINARY, d, (uint32_t)j->hlen);
	if (doc)
		BSON_APPEND_DOCUMENT(&rec, "d", doc);
	if (fwrite(bson_get_data(&rec), 1, rec.len, s->f[key_hash(&key) % PARTITIONS]) != rec.len) {
		mp_error_set(err, MP_EX_IOERR, "writing a temporary file: %s", strerror(errno));
		ok = false;
	}
	bson_destroy(&rec);
	bson_destroy(&key);
	return ok;
}

/* Spill one document, itself too with keep_doc (a repair needs it). */
static bool
spill_doc(struct job *j, struct spill *s, struct dochash *h, const bson_t *doc, bool keep_doc, bson_error_t *err)
{
	bson_value_t id;
	uint8_t d[DOCHASH_MAX];

	if (!job_doc_id(doc, &id)) {
		mp_error_set(err, MP_EX_DATAERR, "a document without _id");
		return false;
	}
	return dochash_doc(h, doc, d, err) && spill_write(j, s, &id, d, keep_doc ? doc : NULL, err);
}

static bool
spill_file(struct job *j, struct spill *s, struct dochash *h, const char *file, bool keep_doc, bson_error_t *err)
{
	struct docstream_reader_opts ro = {j->o->c.input_format, j->o->c.max_doc, false};
	struct docstream_reader *r = docstream_reader_open(file, &ro, err);
	const bson_t *doc;
	bool ok = r != NULL;
	int got;

	while (ok && (got = docstream_read(r, &doc, err)) != 0) {
		ok = got == 1 && spill_doc(j, s, h, doc, keep_doc, err);
		j->n.bytes += got == 1 ? doc->len : 0;
	}
	docstream_reader_destroy(r);
	return ok;
}

static bool
spill_server(struct job *j, struct spill *s, struct dochash *h, const struct end *e, bool keep_doc,
	bson_error_t *err)
{
	mongoc_client_t *client = mongoc_client_pool_pop(e->side->pool);
	mongoc_collection_t *c = mongoc_client_get_collection(client, e->db, e->coll);
	bson_t *fopts = BCON_NEW("batchSize", BCON_INT64(j->o->batch_size)), all = BSON_INITIALIZER;
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &all, fopts, NULL);
	const bson_t *doc;
	bool ok = true;

	while (ok && mongoc_cursor_next(cur, &doc)) {
		ok = spill_doc(j, s, h, doc, keep_doc, err);
		j->n.bytes += doc->len;
	}
	if (ok && mongoc_cursor_error(cur, err)) {
		side_error(e->side, err);
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(fopts);
	bson_destroy(&all);
	mongoc_collection_destroy(c);
	mongoc_client_pool_push(e->side->pool, client);
	return ok;
}

/* Read every document of one end (file or server) into its partitions, and
 * rewind them for reading. */
static bool
spill_end(struct job *j, struct spill *s, const struct end *e, bool keep_doc, bson_error_t *err)
{
	struct dochash *h = dochash_new(j->o->hash, j->o->mode, j->o->ignore, err);
	bool ok = e->side->file ? spill_file(j, s, h, e->side->file, keep_doc, err)
				: spill_server(j, s, h, e, keep_doc, err);

	dochash_destroy(h);
	for (int i = 0; ok && i < PARTITIONS; i++) {
		if (fflush(s->f[i]) != 0 || fseek(s->f[i], 0, SEEK_SET) != 0) {
			mp_error_set(err, MP_EX_IOERR, "a temporary file: %s", strerror(errno));
			ok = false;
		}
	}
	return ok;
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);

	return c != 0 ? c : (int)x->klen - (int)y->klen;
}

/* Read one partition back; false (74) for a short record. */
static bool
read_partition(FILE *f, struct rec **out, size_t *n, bson_error_t *err)
{
	size_t cap = 0;
	uint8_t lenbuf[4];
	uint32_t len;
	bson_iter_t it;
	bson_t b;

	*out = NULL;
	*n = 0;
	while (fread(lenbuf, 1, 4, f) == 4) {
		struct rec r = {0};

		memcpy(&len, lenbuf, 4);
		len = BSON_UINT32_FROM_LE(len);
		r.raw = bson_malloc(len);
		memcpy(r.raw, lenbuf, 4);
		if (len < 5 || fread(r.raw + 4, 1, len - 4, f) != len - 4) {
			bson_free(r.raw);
			mp_error_set(err, MP_EX_IOERR, "reading a temporary file");
			return false;
		}
		r.len = len;
		bson_init_static(&b, r.raw, len);
		bson_iter_init_find(&it, &b, "k");
		bson_iter_document(&it, &r.klen, &r.key);
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			*out = bson_realloc(*out, sizeof(struct rec) * cap);
		}
		(*out)[(*n)++] = r;
	}
	return true;
}

static void
rec_parts(const struct rec *r, struct rec_parts *p)
{
	bson_iter_t it;
	uint32_t len;
	bson_subtype_t st;
	const uint8_t *data;
	bson_t b;

	bson_init_static(&b, r->raw, r->len);
	bson_iter_init_find(&it, &b, "i");
	p->id = *bson_iter_value(&it);
	bson_iter_init_find(&it, &b, "h");
	bson_iter_binary(&it, &st, &len, &p->h);
	p->has_doc = bson_iter_init_find(&it, &b, "d");
	if (p->has_doc) {
		bson_iter_document(&it, &len, &data);
		bson_init_static(&p->doc, data, len);
	}
}

/* Join one target record with its source record (if any). */
static bool
join_target(struct job *j, struct rec *ra, size_t nra, const struct rec *rb, bson_error_t *err)
{
	struct rec *m = nra > 0 ? bsearch(rb, ra, nra, sizeof *ra, rec_cmp) : NULL;
	struct rec_parts pa, pb;

	rec_parts(rb, &pb);
	j->n.compared++;
	if (m == NULL) {
		emit_difference(j, EXTRA, &pb.id, NULL, pb.h, NULL);
		return true;
	}
	if (m->matched) {
		mp_error_set(err, MP_EX_DATAERR, "%s: the target holds one _id twice", j->dst.ns);
		return false;
	}
	m->matched = true;
	rec_parts(m, &pa);
	if (memcmp(pa.h, pb.h, j->hlen) == 0)
		j->n.equal++;
	else
		emit_difference(j, CHANGED, &pa.id, pa.h, pb.h, pa.has_doc ? &pa.doc : NULL);
	return true;
}

/* Join one pair of partitions: a source record no target record matched is
 * missing. */
static bool
join_partition(struct job *j, FILE *fa, FILE *fb, bson_error_t *err)
{
	struct rec *ra = NULL, *rb = NULL;
	size_t nra = 0, nrb = 0;
	struct rec_parts pa;
	bool ok = read_partition(fa, &ra, &nra, err) && read_partition(fb, &rb, &nrb, err);

	if (ok && nra > 0)
		qsort(ra, nra, sizeof *ra, rec_cmp);
	for (size_t i = 0; ok && i < nrb; i++)
		ok = join_target(j, ra, nra, &rb[i], err);
	for (size_t i = 0; ok && i < nra; i++) {
		if (ra[i].matched)
			continue;
		rec_parts(&ra[i], &pa);
		j->n.compared++;
		emit_difference(j, MISSING, &pa.id, pa.h, NULL, pa.has_doc ? &pa.doc : NULL);
	}
	for (size_t i = 0; i < nra; i++)
		bson_free(ra[i].raw);
	for (size_t i = 0; i < nrb; i++)
		bson_free(rb[i].raw);
	bson_free(ra);
	bson_free(rb);
	progress_update(j->p, j->n.compared, j->n.bytes);
	return ok;
}

bool
hashjoin_compare(struct job *j)
{
	struct spill a = {{0}}, b = {{0}};
	bson_error_t err;
	bool ok;

	ok = spill_open(&a, &err) && spill_open(&b, &err) &&
	     spill_end(j, &a, &j->src, j->o->emit == EMIT_REPAIR, &err) && spill_end(j, &b, &j->dst, false, &err);
	for (int p = 0; ok && p < PARTITIONS; p++)
		ok = join_partition(j, a.f[p], b.f[p], &err);
	spill_close(&a);
	spill_close(&b);
	if (!ok)
		job_fail(j, &err);
	return ok && !j->failed;
}
