/*
 * ejsonint.h: what the Extended JSON writer (ejson.c) and reader
 * (ejsonparse.c) share; not for the tools.
 */
#ifndef MP_EJSONINT_H
#define MP_EJSONINT_H

#include <stddef.h>
#include <stdint.h>

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

#endif
