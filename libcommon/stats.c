/*
 * stats.c: the NDJSON stats stream (see stats.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "docstream.h"
#include "exitcode.h"
#include "progress.h"
#include "sig.h"
#include "stats.h"

#define STATS_PERIOD_S 10.0

struct stats {
	int fd;
	bool own_fd;
	char *tool, *name; /* the tool; the file (or "fd N"), for messages */
	double start, last, period;
	bool failed;       /* a record was lost: the first failure is in err */
	bson_error_t err;
	uint64_t lost;
	pthread_mutex_t lock; /* collections dumped or loaded at once share the stream */
};

static void forced_exit(void *arg, int status);

struct stats *
stats_open(const char *path, int fd, const char *tool, bson_error_t *err)
{
	struct stats *s = bson_malloc0(sizeof *s);
	const char *env;
	char *end;

	s->fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->tool = bson_strdup(tool);
	s->start = s->last = mp_now();
	s->period = STATS_PERIOD_S;
	if ((env = getenv("MP_STATS_INTERVAL")) != NULL && *env) {
		double v = strtod(env, &end);

		if (*end == '\0' && v > 0)
			s->period = v;
	}
	if (path != NULL) {
		s->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (s->fd < 0) {
			mp_error_set(err, MP_EX_CANTCREAT, "cannot open stats file %s: %s", path,
				strerror(errno));
			stats_close(s);
			return NULL;
		}
		s->own_fd = true;
		s->name = bson_strdup(path);
	} else if (fd >= 0) {
		s->fd = fd;
		s->name = bson_strdup_printf("--stats-fd %d", fd);
	}
	if (s->fd >= 0)
		sig_set_exit_hook(forced_exit, s);
	return s;
}

bool
stats_due(struct stats *s)
{
	return s->fd >= 0 && mp_now() - s->last >= s->period;
}

/* Start a record: {"tool", "type", "time", "ns"}. */
static void
record_begin(const struct stats *s, bson_t *rec, const char *type, const char *ns)
{
	struct timespec wall;
	char stamp[64];

	clock_gettime(CLOCK_REALTIME, &wall);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", gmtime(&wall.tv_sec));
	snprintf(stamp + strlen(stamp), sizeof stamp - strlen(stamp), ".%03ldZ", wall.tv_nsec / 1000000);
	BSON_APPEND_UTF8(rec, "tool", s->tool);
	BSON_APPEND_UTF8(rec, "type", type);
	BSON_APPEND_UTF8(rec, "time", stamp);
	if (ns != NULL)
		BSON_APPEND_UTF8(rec, "ns", ns);
}

/* Write a record as one line, in one write(2) so that concurrent writers
 * never interleave lines. */
static bool
record_write(struct stats *s, const bson_t *rec, bson_error_t *err)
{
	size_t len;
	char *json = docstream_to_json(rec, DOCSTREAM_JSON_RELAXED, &len);
	ssize_t put;
	bool ok = true;

	if (json == NULL) {
		mp_error_set(err, MP_EX_SOFTWARE, "stats record cannot be written as JSON (invalid UTF-8?)");
		return false;
	}
	json[len] = '\n';
	do
		put = write(s->fd, json, len + 1);
	while (put < 0 && errno == EINTR);
	if (put != (ssize_t)(len + 1)) {
		mp_error_set(err, MP_EX_IOERR, "writing stats: %s", put < 0 ? strerror(errno) : "short write");
		ok = false;
	}
	bson_free(json);
	return ok;
}

/* Keep the first failure and warn about it; count the records lost. */
static void
lost(struct stats *s, const bson_error_t *err)
{
	s->lost++;
	if (s->failed)
		return;
	s->failed = true;
	s->err = *err;
	mp_error_wrap(&s->err, "%s", s->name);
	diag_warn("%s; later stats records are dropped and the run will fail (74)", s->err.message);
}

bool
stats_ok(const struct stats *s, bson_error_t *err)
{
	if (s != NULL && s->failed) {
		*err = s->err;
		return false;
	}
	return true;
}

bool
stats_emit(struct stats *s, const char *type, const char *ns, uint64_t docs, uint64_t bytes,
	uint64_t errors, const bson_t *extra)
{
	bson_error_t err;
	bson_t rec = BSON_INITIALIZER;
	double now = mp_now(), el = now - s->start;
	bool ok;

	if (s->fd < 0)
		return true;
	pthread_mutex_lock(&s->lock);
	if (s->failed) {
		s->lost++;
		pthread_mutex_unlock(&s->lock);
		return false;
	}
	record_begin(s, &rec, type, ns);
	BSON_APPEND_INT64(&rec, "docs", (int64_t)docs);
	BSON_APPEND_INT64(&rec, "bytes", (int64_t)bytes);
	BSON_APPEND_INT64(&rec, "errors", (int64_t)errors);
	BSON_APPEND_DOUBLE(&rec, "elapsed_s", el);
	BSON_APPEND_DOUBLE(&rec, "rate_docs_s", el > 0 ? (double)docs / el : 0.0);
	if (extra != NULL)
		bson_concat(&rec, extra);
	ok = record_write(s, &rec, &err);
	if (!ok)
		lost(s, &err);
	bson_destroy(&rec);
	s->last = now;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

/* {"type": "exit", "status", "elapsed_s", "error"}: the last diag error */
static void
exit_record(struct stats *s, const char *ns, int status)
{
	bson_t rec = BSON_INITIALIZER;
	bson_error_t err;
	char last[1024];

	record_begin(s, &rec, "exit", ns);
	BSON_APPEND_INT32(&rec, "status", status);
	BSON_APPEND_DOUBLE(&rec, "elapsed_s", mp_now() - s->start);
	diag_last_error(last, sizeof last);
	diag_make_utf8(last); /* the cut may split a character */
	if (last[0])
		BSON_APPEND_UTF8(&rec, "error", last);
	record_write(s, &rec, &err); /* the run has failed already: nothing more to say */
	bson_destroy(&rec);
}

/* The grace period ran out (sig.c): the run ends with 75 without passing
 * through stats_finish; its exit record is written from here. */
static void
forced_exit(void *arg, int status)
{
	exit_record(arg, NULL, status);
}

int
stats_finish(struct stats *s, const char *ns, int status)
{
	bson_error_t err;

	if (s != NULL && s->failed && status <= 1) {
		size_t len;

		err = s->err;
		len = strlen(err.message);
		snprintf(err.message + len, sizeof err.message - len, " (%llu stats record%s lost)",
			(unsigned long long)s->lost, s->lost == 1 ? "" : "s");
		status = diag_exit(&err, NULL);
	} else if (s != NULL && s->fd >= 0 && status > 1) {
		exit_record(s, ns, status);
	}
	stats_close(s);
	return status;
}

void
stats_close(struct stats *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		sig_set_exit_hook(NULL, NULL);
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	pthread_mutex_destroy(&s->lock);
	bson_free(s->tool);
	bson_free(s->name);
	bson_free(s);
}
