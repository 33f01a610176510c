/*
 * diag.c: program-name prefixed, password-scrubbed lines on stderr.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "diag.h"
#include "exitcode.h"

#define MAX_SECRETS 8
#define LINE_MAX_LEN 4096

static char progname[64] = "mongo-pipes";
static int verbosity = DIAG_WARN;
static char *secrets[MAX_SECRETS];
static int nsecrets;

void
diag_init(const char *argv0)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;

	base = base ? base + 1 : argv0;
	if (base && *base)
		bson_strncpy(progname, base, sizeof progname);
}

const char *
diag_progname(void)
{
	return progname;
}

void
diag_set_verbosity(int level)
{
	verbosity = level;
}

int
diag_verbosity(void)
{
	return verbosity;
}

void
diag_add_secret(const char *secret)
{
	if (secret == NULL || strlen(secret) < 4 || nsecrets == MAX_SECRETS)
		return;
	for (int i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], secret) == 0)
			return;
	secrets[nsecrets++] = bson_strdup(secret);
}

/* Replace the password of every "mongodb[+srv]://user:pass@" in place. */
static void
redact_uris(char *s)
{
	char *p = s;

	while ((p = strstr(p, "://")) != NULL) {
		char *auth = p + 3, *end = auth, *at = NULL, *colon = NULL;

		while (*end && *end != '/' && *end != '?' && *end != ' ' && *end != '"' && *end != '\'') {
			if (*end == '@')
				at = end;
			end++;
		}
		if (at != NULL)
			colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon != NULL && at - colon - 1 > 0) {
			memmove(colon + 5, at, strlen(at) + 1);
			memcpy(colon + 1, "****", 4);
			p = colon + 5;
		} else {
			p = auth;
		}
	}
}

void
diag_scrub(const char *in, char *out, size_t size)
{
	char tmp[LINE_MAX_LEN * 2];

	if (size == 0)
		return;
	bson_strncpy(tmp, in, sizeof tmp);
	for (int i = 0; i < nsecrets; i++) {
		size_t n = strlen(secrets[i]);
		char *hit;

		while ((hit = strstr(tmp, secrets[i])) != NULL) {
			memmove(hit + 4, hit + n, strlen(hit + n) + 1);
			memcpy(hit, "****", 4);
		}
	}
	/* A redaction grows a line by at most 3 bytes per URI (a 1-byte
	 * password becomes "****"), and each URI takes at least 8: tmp is
	 * twice the longest input, so it has room. */
	redact_uris(tmp);
	bson_strncpy(out, tmp, size);
}

char *
diag_make_utf8(char *s)
{
	size_t len = strlen(s), i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
			: c >= 0xf0 && c <= 0xf4 ? 4 : 0;

		if (n == 0 || n > len - i || !bson_utf8_validate(s + i, n, false)) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
	return s;
}

static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_error[LINE_MAX_LEN];

void
diag_last_error(char *buf, size_t size)
{
	pthread_mutex_lock(&last_lock);
	bson_strncpy(buf, last_error, size);
	pthread_mutex_unlock(&last_lock);
}

static void
emit(enum diag_level level, const char *msg)
{
	char line[LINE_MAX_LEN];
	const char *tag = level == DIAG_WARN ? "warning: " : "";

	diag_scrub(msg, line, sizeof line);
	diag_make_utf8(line);
	if (level == DIAG_ERROR) {
		pthread_mutex_lock(&last_lock);
		bson_strncpy(last_error, line, sizeof last_error);
		pthread_mutex_unlock(&last_lock);
	}
	fprintf(stderr, "%s: %s%s\n", progname, tag, line);
	fflush(stderr);
}

void
diag_msg(enum diag_level level, const char *fmt, ...)
{
	char msg[LINE_MAX_LEN];
	va_list ap;

	if (level > verbosity)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit(level, msg);
}

void
diag_note(const char *fmt, ...)
{
	char msg[LINE_MAX_LEN];
	va_list ap;

	if (verbosity < DIAG_WARN)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit(DIAG_INFO, msg);
}

/* What to do about an error, where the driver's message does not say. */
static const char *
error_hint(const bson_error_t *err)
{
	if (err->domain == MONGOC_ERROR_PROTOCOL && strstr(err->message, "not within expected range") != NULL)
		return " (a reply larger than the server said it would send: lower --batch-size)";
	return "";
}

static void
vfail(const bson_error_t *err, const char *fmt, va_list ap)
{
	char ctx[LINE_MAX_LEN / 2], msg[LINE_MAX_LEN];
	/* a reader that stops (`| head`) is a normal end of a pipeline, said
	 * only with -v, as tools killed by SIGPIPE say nothing */
	enum diag_level level = err->domain == MP_ERROR_DOMAIN && err->code == MP_EX_PIPE ? DIAG_INFO : DIAG_ERROR;

	if (level > verbosity)
		return;
	if (fmt == NULL) {
		snprintf(msg, sizeof msg, "%s%s", err->message, error_hint(err));
		emit(level, msg);
		return;
	}
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	snprintf(msg, sizeof msg, "%s: %s%s", ctx, err->message, error_hint(err));
	emit(level, msg);
}

bool
diag_fail(const bson_error_t *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, fmt, ap);
	va_end(ap);
	return false;
}

int
diag_exit(const bson_error_t *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, fmt, ap);
	va_end(ap);
	return mp_error_exitcode(err);
}

/* Driver warnings that say nothing the tool does not say itself: a failed
 * read on a connection ("stream": the operation that failed is reported
 * with its own error, or retried), and endSessions refused at exit by a
 * server without sessions (the driver's cleanup, nothing of the user's). */
static bool
driver_noise(const char *domain, const char *message)
{
	return strcmp(domain, "stream") == 0 || strstr(message, "\"endSessions\"") != NULL;
}

static void
driver_log(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
	(void)data;
	if (level <= MONGOC_LOG_LEVEL_WARNING && driver_noise(domain, message))
		diag_msg(DIAG_DEBUG, "%s: %s", domain, message);
	else if (level <= MONGOC_LOG_LEVEL_WARNING)
		diag_msg(DIAG_WARN, "%s: %s", domain, message);
	else if (level <= MONGOC_LOG_LEVEL_INFO)
		diag_msg(DIAG_DEBUG, "%s: %s", domain, message);
}

void
diag_capture_driver_log(void)
{
	mongoc_log_trace_disable();
	mongoc_log_set_handler(driver_log, NULL);
}

bool
diag_stderr_is_tty(void)
{
	return isatty(STDERR_FILENO) == 1;
}
