/*
 * progress.c: the progress line.
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

double
mp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
mp_now_coarse(void)
{
	struct timespec ts;

#ifdef CLOCK_MONOTONIC_COARSE
	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0)
		return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
#endif
	return mp_now();
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
