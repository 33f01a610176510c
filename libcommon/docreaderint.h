/*
 * docreaderint.h: the document stream reader's state, shared by its files:
 * docreader.c (framing, BSON and NDJSON) and csvread.c (CSV and TSV).
 * Not for the tools: they use docstream.h.
 */
#ifndef MP_DOCREADERINT_H
#define MP_DOCREADERINT_H

#include <zlib.h>

#include "docstream.h"
#include "ejson.h"

struct docstream_reader {
	int fd;
	bool own_fd;
	char *name;
	enum docstream_format format;
	size_t max_doc;
	bool validate;

	/* decompression */
	bool gzip;
	z_stream zs;
	bool zs_ready;
	uint8_t *zin;
	size_t zin_cap;
	bool zs_member_done;

	bool raw_eof; /* the fd reported end of file */
	uint8_t *buf;
	size_t cap, start, end;
	uint64_t consumed; /* stream bytes before buf[start] */

	uint64_t record;
	uint64_t rec_offset;
	uint64_t line; /* lines consumed so far */
	uint64_t line_start; /* stream offset where the current line starts */
	uint64_t rec_line_start; /* ... and where the record's first line does */
	bool in_array;       /* inside a top-level JSON array of objects */
	uint64_t rec_line;
	const uint8_t *raw;
	size_t raw_len;
	bool dead;
	bool can_continue;

	struct ejson_buf jbuf; /* the BSON of the last NDJSON line */
	bson_t json;
	bson_t stat;

	struct csvin *csv; /* DOCSTREAM_CSV/TSV (csvread.c) */
	bool row_skipped;
};

/* Ensure `need` bytes are buffered after start; false only on error.  Fewer
 * than `need` are available afterwards only at end of stream. */
bool docreader_fill(struct docstream_reader *r, size_t need, bson_error_t *err);

/* csvread.c: open the CSV/TSV state from opts (false with err, 64 for
 * bad columns), read one row as a document (docstream_read's contract),
 * free the state. */
bool docreader_csv_open(struct docstream_reader *r, const struct csv_spec *spec, bson_error_t *err);
int docreader_csv_read(struct docstream_reader *r, const bson_t **doc, bson_error_t *err);
void docreader_csv_free(struct docstream_reader *r);

#endif
