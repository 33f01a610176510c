/*
 * exitcode.h: the exit statuses of every mongo-pipes tool (DESIGN.md,
 * "Exit status"), and how libcommon errors carry them.
 *
 * libcommon reports failures in a bson_error_t.  Errors it raises itself use
 * domain MP_ERROR_DOMAIN and put the exit status the failure deserves in
 * `code`; mp_error_exitcode() also classifies errors raised by libmongoc and
 * libbson, so a tool maps any error to its status in one call.
 */
#ifndef MP_EXITCODE_H
#define MP_EXITCODE_H

#include <stdarg.h>
#include <bson/bson.h>

enum mp_exit {
	MP_EX_OK = 0,            /* done */
	MP_EX_DIFFER = 1,        /* differences found (mongo-hashdiff) */
	MP_EX_STREAM_END = 3,    /* change stream cannot go on */
	MP_EX_USAGE = 64,        /* command line usage error */
	MP_EX_DATAERR = 65,      /* bad input data */
	MP_EX_NOINPUT = 66,      /* input file missing or unreadable */
	MP_EX_UNAVAILABLE = 69,  /* server unavailable or command failed */
	MP_EX_SOFTWARE = 70,     /* internal error */
	MP_EX_CANTCREAT = 73,    /* cannot create output */
	MP_EX_IOERR = 74,        /* I/O error */
	MP_EX_TEMPFAIL = 75,     /* temporary failure, safe to retry */
	MP_EX_PIPE = 141,        /* the reader of the output went away: 128 + SIGPIPE, as a
				  * tool killed by SIGPIPE ends, silently (`| head`) */
};

/* Domain of errors raised by libcommon; `code` is an enum mp_exit. */
#define MP_ERROR_DOMAIN 0x6d70u

/* Fill err (may be NULL) with a libcommon error carrying exit status `code`.
 * The message is valid UTF-8 (diag_make_utf8), whatever bytes it quotes, so
 * a tool can put it in a JSON record. */
void mp_error_set(bson_error_t *err, int code, const char *fmt, ...)
	BSON_GNUC_PRINTF(3, 4);

/*
 * Prefix err->message with "<context>: " (printf format), keeping domain and
 * code: the caller adds where the failure happened without losing its cause.
 * The result is valid UTF-8, as for mp_error_set.
 */
void mp_error_wrap(bson_error_t *err, const char *fmt, ...) BSON_GNUC_PRINTF(2, 3);

/*
 * The exit status an error deserves: MP_ERROR_DOMAIN errors carry it; network
 * and server-selection errors of libmongoc and server command errors are 69,
 * anything else 70.
 * libbson's error domains overlap libmongoc's, so libcommon never returns a
 * raw libbson error: it re-raises it in MP_ERROR_DOMAIN with its status.
 */
int mp_error_exitcode(const bson_error_t *err);

/* True if err is a network, timeout or "not primary" kind of failure that a
 * retry with backoff may cure. */
bool mp_error_transient(const bson_error_t *err);

/* Sleep before retry number `attempt` (0-based): 0.1 s doubling, 5 s at most. */
void mp_backoff(int attempt);

#endif
