/*
 * progress.h: what a long run tells a person and mongo-report.
 *
 * A progress line on stderr (redrawn in place on a TTY, or a plain line every
 * few seconds when --progress forces it elsewhere) with count, rate and ETA
 * when a total is known; and the NDJSON stats stream of --stats FILE /
 * --stats-fd N: periodic "progress" records and one final "summary".
 */
#ifndef MP_PROGRESS_H
#define MP_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <bson/bson.h>

/* Seconds on a monotonic clock. */
double mp_now(void);

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

struct stats;

/* Open the stats stream: `path` (appended to) or `fd` >= 0; NULL path and
 * fd < 0 give a stats object that writes nothing.  Errors: 73. */
struct stats *stats_open(const char *path, int fd, const char *tool, bson_error_t *err);

/*
 * Write one record {"tool", "type", "time", "ns", "docs", "bytes", "errors",
 * "elapsed_s", "rate_docs_s", ...extra} as one line.  `type` is "progress" or
 * "summary"; `extra` (may be NULL) adds tool-specific fields.
 */
bool stats_emit(struct stats *s, const char *type, const char *ns, uint64_t docs, uint64_t bytes,
	uint64_t errors, const bson_t *extra, bson_error_t *err);

/* True when a periodic record is due: every 10 s, or every
 * $MP_STATS_INTERVAL seconds when that is a positive number. */
bool stats_due(struct stats *s);

void stats_close(struct stats *s);

/*
 * Close, after writing the exit record {"tool", "type": "exit", "time", "ns",
 * "status", "error"} (ns when not NULL; error, the last error line printed)
 * when the run failed: status above 1 (1 is "differences found").  A run
 * that went well keeps its summary as the last record.  A NULL s is fine.
 */
void stats_finish(struct stats *s, const char *ns, int status);

#endif
