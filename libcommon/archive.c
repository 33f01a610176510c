/*
 * archive.c: mongodump's archive format (see archive.h).
 */
#include <string.h>

#include "archive.h"
#include "exitcode.h"

static const uint8_t terminator[4] = {0xff, 0xff, 0xff, 0xff};

/* Slicing by eight: table k maps a byte to its effect k bytes later. */
static uint64_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_tables(void)
{
	const uint64_t poly = 0xc96c5795d7870f42ull; /* ECMA-182, reflected */

	for (int i = 0; i < 256; i++) {
		uint64_t c = (uint64_t)i;

		for (int b = 0; b < 8; b++)
			c = c & 1 ? (c >> 1) ^ poly : c >> 1;
		crc_table[0][i] = c;
	}
	for (int i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^ crc_table[0][crc_table[k - 1][i] & 0xff];
}

uint64_t
archive_crc64(uint64_t crc, const uint8_t *p, size_t n)
{
	pthread_once(&crc_once, crc_tables);
	crc = ~crc;
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		crc ^= BSON_UINT64_FROM_LE(v);
		crc = crc_table[7][crc & 0xff] ^ crc_table[6][(crc >> 8) & 0xff] ^ crc_table[5][(crc >> 16) & 0xff] ^
		      crc_table[4][(crc >> 24) & 0xff] ^ crc_table[3][(crc >> 32) & 0xff] ^
		      crc_table[2][(crc >> 40) & 0xff] ^ crc_table[1][(crc >> 48) & 0xff] ^ crc_table[0][crc >> 56];
	}
	while (n-- > 0)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The UTF-8 string `key` of doc, or NULL. */
static const char *
utf8_field(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL) : NULL;
}

bool
archive_parse_ns(const bson_t *doc, struct archive_ns *out, bson_error_t *err)
{
	bson_iter_t it;

	memset(out, 0, sizeof *out);
	out->db = utf8_field(doc, "db");
	out->coll = utf8_field(doc, "collection");
	if (out->db == NULL || out->coll == NULL || !out->db[0] || !out->coll[0]) {
		mp_error_set(err, MP_EX_DATAERR, "a namespace header without db and collection names");
		return false;
	}
	if (bson_iter_init_find(&it, doc, "EOF"))
		out->eof = bson_iter_as_bool(&it);
	if (bson_iter_init_find(&it, doc, "CRC") && BSON_ITER_HOLDS_NUMBER(&it))
		out->crc = bson_iter_as_int64(&it);
	return true;
}

bool
archive_parse_meta(const bson_t *doc, struct archive_meta *out, bson_error_t *err)
{
	out->db = utf8_field(doc, "db");
	out->coll = utf8_field(doc, "collection");
	out->metadata = utf8_field(doc, "metadata");
	out->type = utf8_field(doc, "type");
	if (out->metadata == NULL)
		out->metadata = "";
	if (out->type == NULL)
		out->type = "";
	if (out->db == NULL || out->coll == NULL) {
		mp_error_set(err, MP_EX_DATAERR, "a prelude entry without db and collection strings");
		return false;
	}
	return true;
}

void
archive_writer_init(struct archive_writer *aw, struct docstream_writer *w)
{
	memset(aw, 0, sizeof *aw);
	aw->w = w;
	pthread_mutex_init(&aw->lock, NULL);
}

void
archive_writer_clear(struct archive_writer *aw)
{
	pthread_mutex_destroy(&aw->lock);
}

bson_t *
archive_meta_doc(const char *db, const char *coll, const char *metadata, const char *type)
{
	bson_t *d = bson_new();

	BSON_APPEND_UTF8(d, "db", db);
	BSON_APPEND_UTF8(d, "collection", coll);
	BSON_APPEND_UTF8(d, "metadata", metadata);
	BSON_APPEND_INT32(d, "size", 0); /* mongodump leaves it 0 too */
	BSON_APPEND_UTF8(d, "type", type);
	return d;
}

/* Write under the lock; the first failure is kept and stops every writer. */
static bool
put(struct archive_writer *aw, const uint8_t *p, size_t n, bson_error_t *err)
{
	if (!aw->failed && !docstream_write_raw(aw->w, p, n, &aw->err))
		aw->failed = true;
	if (aw->failed && err)
		*err = aw->err;
	return !aw->failed;
}

static bool
put_doc(struct archive_writer *aw, const bson_t *d, bson_error_t *err)
{
	return put(aw, bson_get_data(d), d->len, err);
}

bool
archive_write_prelude(struct archive_writer *aw, int32_t concurrent, const char *server_version,
	bson_t *const *metas, int n, bson_error_t *err)
{
	uint8_t magic[4];
	uint32_t m = BSON_UINT32_TO_LE(ARCHIVE_MAGIC);
	bson_t *h = BCON_NEW("concurrent_collections", BCON_INT32(concurrent), "version",
		BCON_UTF8(ARCHIVE_FORMAT_VERSION), "server_version", BCON_UTF8(server_version ? server_version : ""),
		"tool_version", BCON_UTF8("mongo-pipes " MP_VERSION));
	bool ok;

	memcpy(magic, &m, 4);
	pthread_mutex_lock(&aw->lock);
	ok = put(aw, magic, 4, err) && put_doc(aw, h, err);
	for (int i = 0; ok && i < n; i++)
		ok = put_doc(aw, metas[i], err);
	ok = ok && put(aw, terminator, 4, err);
	pthread_mutex_unlock(&aw->lock);
	bson_destroy(h);
	return ok;
}

static bson_t *
ns_header(const char *db, const char *coll, bool eof, uint64_t crc)
{
	return BCON_NEW("db", BCON_UTF8(db), "collection", BCON_UTF8(coll), "EOF", BCON_BOOL(eof), "CRC",
		BCON_INT64((int64_t)crc));
}

bool
archive_write_segment(struct archive_writer *aw, const char *db, const char *coll, const uint8_t *docs,
	size_t len, bson_error_t *err)
{
	bson_t *h;
	bool ok;

	if (len == 0)
		return true;
	h = ns_header(db, coll, false, 0);
	pthread_mutex_lock(&aw->lock);
	ok = put_doc(aw, h, err) && put(aw, docs, len, err) && put(aw, terminator, 4, err);
	pthread_mutex_unlock(&aw->lock);
	bson_destroy(h);
	return ok;
}

bool
archive_write_eof(struct archive_writer *aw, const char *db, const char *coll, uint64_t crc, bson_error_t *err)
{
	bson_t *h = ns_header(db, coll, true, crc);
	bool ok;

	pthread_mutex_lock(&aw->lock);
	ok = put_doc(aw, h, err) && put(aw, terminator, 4, err);
	pthread_mutex_unlock(&aw->lock);
	bson_destroy(h);
	return ok;
}
