/*
 * docstream.h: document streams (DESIGN.md, "Document stream").
 *
 * A reader takes BSON back to back (mongodump's .bson) or NDJSON of Extended
 * JSON, plain or gzip, from a path, an fd or stdin, detecting both the
 * compression and the format by itself.  Framing is strict: every error names
 * the record number and the byte offset (BSON) or line (NDJSON), and every
 * valid record before it has been delivered.  Memory is constant: one record
 * (plus read-ahead) at a time.
 *
 * A writer produces the same formats, optionally gzip-compressed, checks every
 * write, and never leaves a half-written file behind: output to a path goes to
 * a temporary file renamed into place by docstream_writer_close().
 */
#ifndef MP_DOCSTREAM_H
#define MP_DOCSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <bson/bson.h>

struct csv_spec;

enum docstream_format {
	DOCSTREAM_AUTO = 0, /* readers only: detect */
	DOCSTREAM_BSON,
	DOCSTREAM_NDJSON,
	DOCSTREAM_ARCHIVE, /* readers only: a mongodump archive, found by its
			    * magic number; read with docstream_read_archive() */
	DOCSTREAM_CSV, /* mongoexport/mongoimport --type csv (csv.h): chosen, never detected */
	DOCSTREAM_TSV, /* ... and --type tsv */
};

enum docstream_json {
	DOCSTREAM_JSON_CANONICAL = 0,
	DOCSTREAM_JSON_RELAXED,
};

/* Largest document accepted by default: 16 MiB plus the 16 KiB of headroom
 * the server allows for its own internal documents. */
#define DOCSTREAM_DEFAULT_MAX_DOC (16 * 1024 * 1024 + 16 * 1024)

/* Parse "bson"/"ndjson" (and "json" for ndjson), and "csv"/"tsv" when
 * tabular; false if none. */
bool docstream_format_parse(const char *s, bool tabular, enum docstream_format *out);
/* Parse "canonical"/"relaxed". */
bool docstream_json_parse(const char *s, enum docstream_json *out);
const char *docstream_format_name(enum docstream_format f);

/* ---- reader ---- */

struct docstream_reader;

struct docstream_reader_opts {
	enum docstream_format format; /* DOCSTREAM_AUTO to detect */
	size_t max_doc;               /* 0: DOCSTREAM_DEFAULT_MAX_DOC */
	bool no_validate;             /* skip the UTF-8/structure check of BSON */
	const struct csv_spec *csv;   /* the columns of DOCSTREAM_CSV/TSV (csv.h) */
};

/*
 * Open `path` ("-" or NULL: stdin) for reading.  opts may be NULL.  Returns
 * NULL with err set (exit status 66 when the file cannot be opened, 65 or 74
 * when its first bytes cannot be read).
 */
struct docstream_reader *docstream_reader_open(const char *path,
	const struct docstream_reader_opts *opts, bson_error_t *err);

/* Same on an open fd; `name` is used in messages; the fd is not closed. */
struct docstream_reader *docstream_reader_open_fd(int fd, const char *name,
	const struct docstream_reader_opts *opts, bson_error_t *err);

/*
 * Read the next record.  Returns 1 with *doc set (owned by the reader, valid
 * until the next call), 0 at a clean end of stream, -1 on error with err set
 * (exit status 65 for bad data, 74 for I/O).  After -1,
 * docstream_reader_can_continue() tells whether the bad record was skipped
 * (a bad NDJSON line, a well-framed BSON document with invalid content) so a
 * tool with --reject may go on, or the stream cannot be read further.
 */
int docstream_read(struct docstream_reader *r, const bson_t **doc, bson_error_t *err);

/* After -1: the record is a CSV/TSV row left out by --parse-grace skipRow
 * (err says why), not bad input. */
bool docstream_reader_row_skipped(const struct docstream_reader *r);

bool docstream_reader_can_continue(const struct docstream_reader *r);

/*
 * The next item of a mongodump archive (format DOCSTREAM_ARCHIVE; its magic
 * number was consumed when it was detected): 1 with *doc set (a header or a
 * document, as docstream_read gives it), 2 for the terminator that ends the
 * prelude and each segment, 0 at a clean end, -1 on error as
 * docstream_read.  Records are numbered and offsets counted over the whole
 * archive.
 */
int docstream_read_archive(struct docstream_reader *r, const bson_t **doc, bson_error_t *err);

/* The raw bytes of the record last returned or rejected (for --reject). */
const uint8_t *docstream_reader_raw(const struct docstream_reader *r, size_t *len);

/*
 * Where the record last returned or rejected is, as the reader's own errors
 * say it: "NAME: record N at byte offset O" (BSON) or "NAME: record N (line
 * L, byte offset O)" (NDJSON).  Writes at most len bytes (with the NUL).
 */
void docstream_reader_where(const struct docstream_reader *r, char *buf, size_t len);

/*
 * The check the reader applies to each BSON record (every element well
 * framed, strings, keys, regexes and DBPointer namespaces valid UTF-8,
 * nesting bounded).  False with the reason in why.
 */
bool docstream_check_bson(const bson_t *doc, char *why, size_t whylen);
/* The same on raw bytes (libcommon/bsoncheck.c). */
bool docstream_check_bytes(const uint8_t *data, size_t len, char *why, size_t whylen);

/* 1-based number of the record last returned or rejected. */
uint64_t docstream_reader_record(const struct docstream_reader *r);
/* Byte offset (in the decompressed stream) where that record starts. */
uint64_t docstream_reader_offset(const struct docstream_reader *r);
/* Line of that record (NDJSON, CSV, TSV), 0 for BSON. */
uint64_t docstream_reader_line(const struct docstream_reader *r);
/* Decompressed bytes consumed so far. */
uint64_t docstream_reader_bytes(const struct docstream_reader *r);
/* The detected (or forced) format; DOCSTREAM_AUTO before the first byte
 * of a stream that is empty. */
enum docstream_format docstream_reader_format(const struct docstream_reader *r);
bool docstream_reader_gzip(const struct docstream_reader *r);
/* The name messages give the input: its path, or "(stdin)". */
const char *docstream_reader_name(const struct docstream_reader *r);

void docstream_reader_destroy(struct docstream_reader *r);

/* ---- writer ---- */

struct docstream_writer;

struct docstream_writer_opts {
	enum docstream_format format; /* DOCSTREAM_AUTO means BSON */
	enum docstream_json json;
	bool gzip;
	int gzip_level; /* 0: zlib's default */
	bool json_array; /* NDJSON as one JSON array: "[", objects a line each
			  * with ',' between them, "]" at close */
	char *const *fields; /* CSV/TSV: the field paths of the cells, NULL-terminated */
	bool no_header;      /* CSV/TSV: no header line of the field names */
};

/*
 * Open `path` for writing ("-" or NULL: stdout).  A real path is written
 * through a temporary file in the same directory and renamed into place by
 * docstream_writer_close(); destroying an unclosed writer removes it.
 * Returns NULL with err set (exit status 73).
 */
struct docstream_writer *docstream_writer_open(const char *path,
	const struct docstream_writer_opts *opts, bson_error_t *err);

/* Same on an open fd (not closed by the writer). */
struct docstream_writer *docstream_writer_open_fd(int fd, const char *name,
	const struct docstream_writer_opts *opts, bson_error_t *err);

/*
 * Name `r`'s current record in the errors of documents this writer cannot
 * write (a document that has no Extended JSON form), as a transcoder that
 * copies from r wants.  Without a source (NULL, the default) those errors
 * name the writer's own output record.  r must outlive its use here.
 */
void docstream_writer_set_source(struct docstream_writer *w, const struct docstream_reader *r);

/* Append one document.  Errors (exit status 74) name the cause: a closed
 * pipe (EPIPE), a full disk (ENOSPC), ...; a document that cannot be
 * written as Extended JSON is 65, named as docstream_writer_set_source()
 * says. */
bool docstream_write(struct docstream_writer *w, const bson_t *doc, bson_error_t *err);

/* Append one document given as its raw bytes (len is the BSON length). */
bool docstream_write_raw(struct docstream_writer *w, const uint8_t *data, size_t len,
	bson_error_t *err);

/* Push everything buffered (and a gzip sync point) to the fd. */
/* NDJSON only: write `key` and a tab, then the document's line (the
 * "key<TAB>value" lines kcat -K '\t' and similar producers read).  The key
 * must hold no tab or newline. */
bool docstream_write_keyed(struct docstream_writer *w, const char *key, const bson_t *doc, bson_error_t *err);

bool docstream_flush(struct docstream_writer *w, bson_error_t *err);

/* True once a write failed because the reader of our pipe went away. */
bool docstream_writer_broken_pipe(const struct docstream_writer *w);
/* True when the output is a pipe or socket whose reader has gone (asked of
 * the kernel without writing: a tool with nothing to write notices too);
 * false for files and terminals. */
bool docstream_writer_reader_gone(struct docstream_writer *w);

uint64_t docstream_writer_docs(const struct docstream_writer *w);
/* Uncompressed bytes accepted so far. */
uint64_t docstream_writer_bytes(const struct docstream_writer *w);

/* True while the output is a temporary file that docstream_writer_close()
 * renames over a regular file: a run that stops short must not close it
 * (docstream_writer_destroy() removes it).  A FIFO or device given as the
 * path is written in place and never replaced; a directory is refused. */
bool docstream_writer_replaces_file(const struct docstream_writer *w);

/* Flush, finish gzip, fsync and rename a path into place.  The writer stays
 * to be destroyed. */
bool docstream_writer_close(struct docstream_writer *w, bson_error_t *err);

/* Free; a writer to a path that was not closed successfully is removed. */
void docstream_writer_destroy(struct docstream_writer *w);

/* Serialize one document as Extended JSON (no newline); bson_free() it. */
char *docstream_to_json(const bson_t *doc, enum docstream_json mode, size_t *len);

#endif
