/*
 * reject.h: a --reject FILE, where the records a tool sets aside go, one
 * NDJSON line each: why (error, code), where it came from (record, line,
 * byte offset) as plain JSON numbers for people and jq, and the record itself
 * in canonical Extended JSON so that it can be fixed and loaded again
 * without loss.  Every write is checked: a record that could not be set
 * aside is an error, never a silent loss.  Thread-safe.
 */
#ifndef MP_REJECT_H
#define MP_REJECT_H

#include <stdbool.h>
#include <stdint.h>
#include <bson/bson.h>

struct reject_file;
struct docstream_reader;

/* Why and where; zero fields are left out of the line, but for the byte
 * offset of an input record (a record number, no code, and no_offset
 * false), 0 included. */
struct reject_why {
	const char *error;
	int32_t code;
	uint64_t record, line, offset;
	bool no_offset; /* the record has none (it came from a collection, or
			   its place in the input is not known here) */
};

/* Open `path` for appending (created 0666 & ~umask).  NULL with err (73). */
struct reject_file *reject_open(const char *path, bson_error_t *err);

/*
 * Append one line: the fields of `why`, then `key` with the record: a
 * document (`doc`, canonical Extended JSON), or text that is not a document
 * (`text`, `len` bytes of UTF-8, as a JSON string), or raw bytes (`bytes`,
 * as {"bytes": {"$binary": ...}}).  Exactly one of doc, text, bytes is not NULL.  Flushed
 * before returning.  False with err (74) when the line could not be written.
 */
bool reject_write(struct reject_file *rf, const struct reject_why *why, const char *key, const bson_t *doc,
	const char *text, const uint8_t *bytes, size_t len, bson_error_t *err);

/*
 * Append the record `r` has just read, as it was read, under `key`: as text
 * when the input is not BSON and its bytes are UTF-8, else as raw bytes; an
 * empty string when nothing was read.  As reject_write.
 */
bool reject_write_read(struct reject_file *rf, const struct reject_why *why, const char *key,
	const struct docstream_reader *r, bson_error_t *err);

/* Records written so far. */
uint64_t reject_count(struct reject_file *rf);

/* Close; false with err (74) if anything written was lost.  rf is freed. */
bool reject_close(struct reject_file *rf, bson_error_t *err);

#endif
