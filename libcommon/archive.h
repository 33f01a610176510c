/*
 * archive.h: mongodump's archive format (mongodump --archive), the one stream
 * that holds many collections:
 *
 *   magic 0x8199e26d, a header document, one metadata document per
 *   collection (the prelude), -1; then segments: a namespace header
 *   {db, collection, EOF: false, CRC: 0}, documents, -1; and per collection
 *   an EOF header {..., EOF: true, CRC: the CRC-64 of all its documents}, -1.
 *
 * Segments of collections dumped at once interleave.  The reader side is
 * docstream_read_archive() (docstream.h); this file holds what both sides
 * share and the writer.  The format is mongo-tools' common/archive/spec.md.
 */
#ifndef MP_ARCHIVE_H
#define MP_ARCHIVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <bson/bson.h>

#include "docstream.h"

#define ARCHIVE_MAGIC 0x8199e26du
#define ARCHIVE_FORMAT_VERSION "0.1"

/* CRC-64 with the ECMA-182 polynomial, reflected, inverted in and out (Go's
 * crc64.ECMA, also called CRC-64/XZ): start with crc 0, feed the documents
 * of a namespace in order. */
uint64_t archive_crc64(uint64_t crc, const uint8_t *p, size_t n);

/* A namespace header or EOF header, read. */
struct archive_ns {
	const char *db, *coll; /* point into the document */
	bool eof;
	int64_t crc;
};

/* Parse a namespace header; false (65, naming what is wrong) if doc is not one. */
bool archive_parse_ns(const bson_t *doc, struct archive_ns *out, bson_error_t *err);

/* One collection's entry of the prelude, read: its metadata (the text of a
 * metadata.json, maybe empty) and its type ("", "view", "timeseries"). */
struct archive_meta {
	const char *db, *coll, *metadata, *type;
};
bool archive_parse_meta(const bson_t *doc, struct archive_meta *out, bson_error_t *err);

/* The writer: segments of several threads into one output, one at a time. */
struct archive_writer {
	struct docstream_writer *w;
	pthread_mutex_t lock;
	bool failed;
	bson_error_t err; /* the first failure */
};

void archive_writer_init(struct archive_writer *aw, struct docstream_writer *w);
void archive_writer_clear(struct archive_writer *aw);

/* Magic, header and prelude: `metas` holds n documents {db, collection,
 * metadata, size, type} (archive_meta_doc builds one). */
bool archive_write_prelude(struct archive_writer *aw, int32_t concurrent, const char *server_version,
	bson_t *const *metas, int n, bson_error_t *err);
bson_t *archive_meta_doc(const char *db, const char *coll, const char *metadata, const char *type);

/* One segment: the header of db.coll, `len` bytes of documents back to
 * back, the terminator; nothing when len is 0.  The EOF header ends the
 * collection with the CRC of all its documents.  Thread-safe. */
bool archive_write_segment(struct archive_writer *aw, const char *db, const char *coll, const uint8_t *docs,
	size_t len, bson_error_t *err);
bool archive_write_eof(struct archive_writer *aw, const char *db, const char *coll, uint64_t crc,
	bson_error_t *err);

#endif
