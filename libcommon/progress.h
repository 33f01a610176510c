/*
 * progress.h: what a long run tells a person and mongo-report.
 *
 * A progress line on stderr (redrawn in place on a TTY, or a plain line every
 * few seconds when --progress forces it elsewhere) with count, rate and ETA
 * when a total is known.  The stats stream of --stats is in stats.h.
 */
#ifndef MP_PROGRESS_H
#define MP_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <bson/bson.h>

/* Seconds on a monotonic clock. */
double mp_now(void);
/* The same to within a few milliseconds, and cheaper: for "is it time
 * yet" checks made once per record. */
double mp_now_coarse(void);

struct progress;

/* `label` (e.g. the namespace) heads the line; total < 0 when unknown.  The
 * line is drawn when stderr is a TTY, or always when `force`; never with
 * quiet verbosity.  Returns an object even when nothing will be drawn. */
struct progress *progress_new(const char *label, int64_t total, bool force);
/* Record the counts; redraws at most twice a second. */
void progress_update(struct progress *p, uint64_t docs, uint64_t bytes);
/* Text appended to the line (e.g. "lag 1.2s"); NULL or "" for none. */
void progress_set_note(struct progress *p, const char *note);
/* Draw the final state and end the line. */
void progress_finish(struct progress *p);
void progress_destroy(struct progress *p);

/* Format "1h02m03s" / "2m03s" / "3s" into buf. */
void progress_format_duration(double seconds, char *buf, size_t size);

#endif
