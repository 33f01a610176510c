/*
 * ejson.h: our own codec between BSON and Extended JSON v2 (MongoDB's
 * Extended JSON specification), used wherever a tool reads or writes JSON.
 *
 * Writer: one pass over the raw bytes of a document into a growing buffer,
 * compact ({"a":1,"b":{"$numberInt":"2"}}, the spacing bsondump and
 * mongoexport use), canonical or relaxed.  Doubles in their shortest
 * round-trip form (dtoa.h), dates relaxed only within years 1970-9999.  The
 * bytes are checked as they are walked (framing, UTF-8 of strings, keys,
 * code, symbols, regexes and DBPointer names, booleans, nesting), so a
 * document is validated once, by the writer.
 *
 * Reader: a strict whole-text parser from one JSON object to BSON, with the
 * rules of the specification for type wrappers ($oid, $numberLong, $binary,
 * ...): wrong key sets, wrong value types and malformed strings are errors;
 * the legacy forms the specification lists as parseable are accepted
 * ({"$binary": "...", "$type": "00"}, {"$regex": "...", "$options": "..."},
 * {"$uuid": "..."}, ISO-8601 dates with an offset); a "$regex" or "$type"
 * that is a query operator stays a document.  Nesting is bounded
 * (EJSON_MAX_DEPTH), UTF-8 is checked.
 */
#ifndef MP_EJSON_H
#define MP_EJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bson/bson.h>

enum ejson_mode {
	EJSON_CANONICAL = 0,
	EJSON_RELAXED,
};

/* Documents and arrays nested deeper than this are refused both ways. */
#define EJSON_MAX_DEPTH 200

/* A growing byte buffer; {0} is an empty one; ejson_buf_free() frees it. */
struct ejson_buf {
	uint8_t *p;
	size_t len, cap;
};

void ejson_buf_reserve(struct ejson_buf *b, size_t more);
void ejson_buf_free(struct ejson_buf *b);

/*
 * Append the Extended JSON text of the BSON document data[0..len) to out (no
 * newline, no NUL counted in out->len, though one follows it).  False, with
 * out->len unchanged and the reason in why, when the bytes are not a valid
 * document.
 */
bool ejson_write(const uint8_t *data, size_t len, enum ejson_mode mode, struct ejson_buf *out, char *why,
	size_t whylen);

/* Where and why a text was refused. */
struct ejson_error {
	size_t offset;   /* byte offset in the text */
	bool extended;   /* valid JSON, but breaks an Extended JSON rule */
	char msg[200];
};

/*
 * Parse text[0..len), one JSON object with nothing but whitespace around
 * it, into the BSON document out (replacing what out held).  False with err
 * filled when the text is not valid (Extended) JSON.
 */
bool ejson_parse(const char *text, size_t len, struct ejson_buf *out, struct ejson_error *err);

/* The same as new objects, for the tools' small texts (options, files; a
 * JSON array is taken too, as a document with keys "0", "1", ...):
 * NULL with err set (domain BSON_ERROR_JSON, the message naming the byte
 * offset) / the text, bson_free() it, *len its length when len is given. */
bson_t *ejson_to_bson_new(const char *text, ssize_t len, bson_error_t *err);
char *ejson_from_bson_new(const bson_t *doc, enum ejson_mode mode, size_t *len);

#endif
