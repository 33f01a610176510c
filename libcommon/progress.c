/*
 * progress.c: the progress line and the NDJSON stats stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "docstream.h"
#include "exitcode.h"
#include "progress.h"

#define REDRAW_S 0.5
#define PLAIN_LINE_S 5.0
#define STATS_PERIOD_S 10.0

double
mp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct progress {
	char *label;
	int64_t total;
	bool tty, draw;
	double start, last_draw;
	uint64_t docs, bytes;
	bool drawn;
	char note[64];
};

struct progress *
progress_new(const char *label, int64_t total, bool force)
{
	struct progress *p = bson_malloc0(sizeof *p);

	p->label = bson_strdup(label ? label : "");
	p->total = total;
	p->tty = diag_stderr_is_tty();
	p->draw = (p->tty || force) && diag_verbosity() >= DIAG_WARN;
	p->start = mp_now();
	return p;
}

void
progress_format_duration(double s, char *buf, size_t size)
{
	long t = s < 0 ? 0 : (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, size, "%ldh%02ldm%02lds", t / 3600, (t / 60) % 60, t % 60);
	else if (t >= 60)
		snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, size, "%lds", t);
}

static void
draw(struct progress *p, bool final)
{
	double now = mp_now(), el = now - p->start;
	double rate = el > 0 ? (double)p->docs / el : 0, mbs = el > 0 ? (double)p->bytes / el / 1e6 : 0;
	char pct[32] = "", eta[48] = "", dur[32];

	if (p->total > 0) {
		snprintf(pct, sizeof pct, "/%lld (%.1f%%)", (long long)p->total,
			100.0 * (double)p->docs / (double)p->total);
		if (!final && rate > 0 && (int64_t)p->docs < p->total) {
			progress_format_duration((double)(p->total - (int64_t)p->docs) / rate, dur, sizeof dur);
			snprintf(eta, sizeof eta, " ETA %s", dur);
		}
	}
	progress_format_duration(el, dur, sizeof dur);
	fprintf(stderr, "%s%s: %s %llu%s docs, %.0f docs/s, %.1f MB/s, %s%s%s%s%s", p->tty ? "\r" : "",
		diag_progname(), p->label, (unsigned long long)p->docs, pct, rate, mbs, dur, eta,
		p->note[0] ? ", " : "", p->note, p->tty ? "\033[K" : "\n");
	if (final && p->tty)
		fputc('\n', stderr);
	fflush(stderr);
	p->last_draw = now;
	p->drawn = true;
}

void
progress_update(struct progress *p, uint64_t docs, uint64_t bytes)
{
	double now;

	p->docs = docs;
	p->bytes = bytes;
	if (!p->draw)
		return;
	now = mp_now();
	if (now - p->last_draw >= (p->tty ? REDRAW_S : PLAIN_LINE_S) && now - p->start >= REDRAW_S)
		draw(p, false);
}

void
progress_set_note(struct progress *p, const char *note)
{
	snprintf(p->note, sizeof p->note, "%s", note ? note : "");
}

void
progress_finish(struct progress *p)
{
	if (p->draw && p->drawn)
		draw(p, true);
}

void
progress_destroy(struct progress *p)
{
	if (p == NULL)
		return;
	bson_free(p->label);
	bson_free(p);
}

struct stats {
	int fd;
	bool own_fd;
	char *tool;
	double start, last, period;
};

struct stats *
stats_open(const char *path, int fd, const char *tool, bson_error_t *err)
{
	struct stats *s = bson_malloc0(sizeof *s);
	const char *env;
	char *end;

	s->fd = -1;
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
	} else if (fd >= 0) {
		s->fd = fd;
	}
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

bool
stats_emit(struct stats *s, const char *type, const char *ns, uint64_t docs, uint64_t bytes,
	uint64_t errors, const bson_t *extra, bson_error_t *err)
{
	bson_t rec = BSON_INITIALIZER;
	double now = mp_now(), el = now - s->start;
	bool ok;

	if (s->fd < 0)
		return true;
	record_begin(s, &rec, type, ns);
	BSON_APPEND_INT64(&rec, "docs", (int64_t)docs);
	BSON_APPEND_INT64(&rec, "bytes", (int64_t)bytes);
	BSON_APPEND_INT64(&rec, "errors", (int64_t)errors);
	BSON_APPEND_DOUBLE(&rec, "elapsed_s", el);
	BSON_APPEND_DOUBLE(&rec, "rate_docs_s", el > 0 ? (double)docs / el : 0.0);
	if (extra != NULL)
		bson_concat(&rec, extra);
	ok = record_write(s, &rec, err);
	bson_destroy(&rec);
	s->last = now;
	return ok;
}

void
stats_finish(struct stats *s, const char *ns, int status)
{
	bson_t rec = BSON_INITIALIZER;
	bson_error_t err;
	char last[1024];

	if (s != NULL && s->fd >= 0 && status > 1) {
		record_begin(s, &rec, "exit", ns);
		BSON_APPEND_INT32(&rec, "status", status);
		BSON_APPEND_DOUBLE(&rec, "elapsed_s", mp_now() - s->start);
		diag_last_error(last, sizeof last);
		diag_make_utf8(last); /* the cut may split a character */
		if (last[0])
			BSON_APPEND_UTF8(&rec, "error", last);
		record_write(s, &rec, &err); /* the run has failed already: nothing more to say */
	}
	bson_destroy(&rec);
	stats_close(s);
}

void
stats_close(struct stats *s)
{
	if (s == NULL)
		return;
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	bson_free(s->tool);
	bson_free(s);
}
