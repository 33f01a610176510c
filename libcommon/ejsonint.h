/*
 * ejsonint.h: what the Extended JSON writer (ejson.c), reader (ejsonparse.c,
 * ejsonwrap.c) and the BSON check (bsoncheck.c) share; not for the tools.
 */
#ifndef MP_EJSONINT_H
#define MP_EJSONINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ejson.h"

/* 0: copied as it is in a JSON string; 1: escaped; 2: starts UTF-8 */
extern const uint8_t ejson_byte_class[256];

/* Length of the valid UTF-8 character at s (avail bytes), 0 if invalid
 * (overlong forms, surrogates and code points past U+10FFFF included). */
size_t ejson_utf8_char(const uint8_t *s, size_t avail);

/* v in decimal at t (20 bytes of room); returns the digit count. */
size_t ejson_u64_text(uint64_t v, char *t);

/* Valid UTF-8 (NUL allowed), eight bytes at a time while ASCII. */
bool ejson_utf8_valid(const uint8_t *s, size_t n);

/* A BSON string (int32 length, bytes, NUL) at p within avail bytes: its
 * characters (*n of them, the NUL excluded) and *size, the bytes it takes;
 * NULL when it is not framed as one. */
const uint8_t *ejson_bson_string(const uint8_t *p, size_t avail, size_t *n, size_t *size);

static inline uint32_t
ejson_rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return BSON_UINT32_FROM_LE(v);
}

static inline uint64_t
ejson_rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return BSON_UINT64_FROM_LE(v);
}

/* ---- the reader's own (ejsonparse.c, ejsonwrap.c) ---- */

/* a value from a bare JSON literal, or from a type wrapper */
enum kind { K_BARE, K_WRAPPED };

/* the first members of an object, enough to tell a wrapper */
#define MEMBERS 4
struct member {
	size_t key, val; /* offsets in the output */
	uint8_t type;
	enum kind kind;
};

struct pctx {
	const uint8_t *s, *p, *end;
	struct ejson_buf *o;
	struct ejson_error *err;
	int depth;  /* JSON nesting, bounded: the parser recurses */
	int height; /* the BSON depth of the last value: documents and arrays
		     * in it, the value itself included, wrappers not */
};

/* Record the first error: at is where in the text; ext for a rule of
 * Extended JSON (the text is valid JSON).  Returns false. */
bool ejson_perr(struct pctx *c, const uint8_t *at, bool ext, const char *fmt, ...) BSON_GNUC_PRINTF(4, 5);

/* The object just written at `at` (n members, the first ones in m), whose
 * first key starts with '$' and whose text starts at `text`: replaced by
 * the value of its type wrapper, if it is one (ejsonwrap.c). */
bool ejson_wrapper(struct pctx *c, const uint8_t *text, size_t at, const struct member *m, size_t n, bool top,
	uint8_t *type, enum kind *kind);

static inline void
need(struct ejson_buf *o, size_t n)
{
	if (o->len + n + 1 > o->cap)
		ejson_buf_reserve(o, n);
}

static inline void
put(struct ejson_buf *o, const void *s, size_t n)
{
	need(o, n);
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static inline void
put_u32(struct ejson_buf *o, uint32_t v)
{
	v = BSON_UINT32_TO_LE(v);
	put(o, &v, 4);
}

static inline void
patch_u32(struct ejson_buf *o, size_t at, uint32_t v)
{
	v = BSON_UINT32_TO_LE(v);
	memcpy(o->p + at, &v, 4);
}

static inline int
hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
		return (ch | 0x20) - 'a' + 10;
	return -1;
}

#endif
