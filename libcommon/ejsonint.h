/*
 * ejsonint.h: what the Extended JSON writer (ejson.c) and reader
 * (ejsonparse.c) share; not for the tools.
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

/* The text of a finite double at buf (32 bytes of room); returns its length. */
size_t ejson_double_text(double v, char *buf);

/* Days since 1970-01-01 to year, month (1-12) and day (1-31). */
void ejson_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

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

static inline uint32_t
get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return BSON_UINT32_FROM_LE(v);
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
