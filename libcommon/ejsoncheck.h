/*
 * ejsoncheck.h: what the Extended JSON specification asks of a parser and
 * libbson 1.23's parser does not do, as one pass over the text of a document
 * libbson has already parsed (no second JSON parser).
 *
 * libbson turns an invalid "$numberDecimal" string ("Infi", "1e", "7e10000")
 * into NaN, takes {"$date": 42} for a date, and cuts a "$code" string at its
 * first \u0000.  ejson_check() refuses the first two and repairs the third.
 */
#ifndef MP_EJSONCHECK_H
#define MP_EJSONCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <bson/bson.h>

/*
 * `text` (len bytes) is one JSON object that libbson parsed into *doc.
 * Returns false with the reason in why (whylen bytes) when the text breaks
 * the specification.  A "$code" string holding a NUL character is put back
 * whole: *doc is then replaced by a new document (the old one destroyed).
 */
bool ejson_check(const char *text, size_t len, bson_t **doc, char *why, size_t whylen);

#endif
