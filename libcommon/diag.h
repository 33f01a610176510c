/*
 * diag.h: the one place mongo-pipes talks to a person.  Every line goes to
 * stderr as "<program>: <message>", with passwords scrubbed, filtered by the
 * verbosity chosen with -q/-v.  Nothing here exits: the tool's main decides.
 */
#ifndef MP_DIAG_H
#define MP_DIAG_H

#include <stdbool.h>
#include <stdio.h>
#include <bson/bson.h>

enum diag_level {
	DIAG_ERROR = -1, /* shown even with --quiet */
	DIAG_WARN = 0,   /* shown by default */
	DIAG_INFO = 1,   /* -v */
	DIAG_DEBUG = 2,  /* -vv */
};

/* Set the program name used as prefix (basename of argv0). */
void diag_init(const char *argv0);
const char *diag_progname(void);

/* -q sets DIAG_ERROR, the default is DIAG_WARN, each -v adds one. */
void diag_set_verbosity(int level);
int diag_verbosity(void);

/*
 * Remember a secret (a password) that must never be printed: every later
 * line has each occurrence replaced by "****".  The string is copied; secrets
 * shorter than 4 bytes are not scrubbed by text (URIs are still redacted).
 */
void diag_add_secret(const char *secret);

/*
 * Scrub secrets and the password part of any mongodb:// URI in `in`, writing
 * at most `size` bytes (NUL included) to `out`.
 */
void diag_scrub(const char *in, char *out, size_t size);

/*
 * Make the NUL-terminated `s` valid UTF-8 in place: every byte that does not
 * belong to a complete, valid sequence (as libbson judges it) becomes '?'.
 * Messages quote input bytes and file names; JSON records of them (stats,
 * rejects) can only be written when they are valid UTF-8.  Returns s.
 */
char *diag_make_utf8(char *s);

void diag_msg(enum diag_level level, const char *fmt, ...) BSON_GNUC_PRINTF(2, 3);
/* A line shown by default (hidden by -q) without the "warning: " tag: a
 * summary a person reads. */
void diag_note(const char *fmt, ...) BSON_GNUC_PRINTF(1, 2);
#define diag_error(...) diag_msg(DIAG_ERROR, __VA_ARGS__)
#define diag_warn(...) diag_msg(DIAG_WARN, __VA_ARGS__)
#define diag_info(...) diag_msg(DIAG_INFO, __VA_ARGS__)
#define diag_debug(...) diag_msg(DIAG_DEBUG, __VA_ARGS__)

/*
 * Print "<prog>: <context>: <err->message>" as an error and return false, so
 * a failing branch reads `return diag_fail(&err, "reading %s", path);`.
 * fmt may be NULL to print the message alone.
 */
bool diag_fail(const bson_error_t *err, const char *fmt, ...) BSON_GNUC_PRINTF(2, 3);

/*
 * The same line, returning the exit status err deserves (mp_error_exitcode),
 * so a work function's failing branch reads
 * `rc = diag_exit(&err, "reading %s", path); goto out;`.
 */
int diag_exit(const bson_error_t *err, const char *fmt, ...) BSON_GNUC_PRINTF(2, 3);

/* The last error line printed (scrubbed, without the program name), "" if
 * none, into buf: what a tool's --stats exit record carries. */
void diag_last_error(char *buf, size_t size);

/* Route libmongoc/libbson log output through diag (warnings stay warnings,
 * the driver's chatter becomes debug). Call after mongoc_init(). */
void diag_capture_driver_log(void);

/* Whether stderr is a terminal (for progress lines). */
bool diag_stderr_is_tty(void);

#endif
