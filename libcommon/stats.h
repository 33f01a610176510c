/*
 * stats.h: the NDJSON stats stream of --stats FILE / --stats-fd N, which
 * mongo-report and cron jobs read: periodic "progress" records, one final
 * "summary", and an "exit" record when a run fails.
 *
 * A record that cannot be written never stops the work, but it is not
 * ignored either: the first failure is kept and warned about once (on
 * stderr, through diag), later records are dropped, and stats_finish()
 * turns the run's success into a failure (74, or 70 for a record that
 * could not be encoded), since whoever reads the stream would miss the
 * summary.  Every tool handles a stats error this way, in this one place.
 */
#ifndef MP_STATS_H
#define MP_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <bson/bson.h>

struct stats;

/* Open the stats stream: `path` (appended to) or `fd` >= 0; NULL path and
 * fd < 0 give a stats object that writes nothing.  Errors: 73. */
struct stats *stats_open(const char *path, int fd, const char *tool, bson_error_t *err);

/*
 * Write one record {"tool", "type", "time", "ns", "docs", "bytes", "errors",
 * "elapsed_s", "rate_docs_s", ...extra} as one line.  `type` is "progress" or
 * "summary"; `extra` (may be NULL) adds tool-specific fields.  A failure is
 * kept (see above); false from the first one on.
 */
bool stats_emit(struct stats *s, const char *type, const char *ns, uint64_t docs, uint64_t bytes,
	uint64_t errors, const bson_t *extra);

/* True when a periodic record is due: every 10 s, or every
 * $MP_STATS_INTERVAL seconds when that is a positive number. */
bool stats_due(struct stats *s);

/* The first write failure, if any (false then, with err). */
bool stats_ok(const struct stats *s, bson_error_t *err);

/*
 * Close, after writing the exit record {"tool", "type": "exit", "time", "ns",
 * "status", "error"} (ns when not NULL; error, the last error line printed)
 * when the run failed: status above 1 (1 is "differences found").  A run
 * that went well keeps its summary as the last record.  Returns the run's
 * exit status: `status`, or, when it was 0 or 1 and a record was lost, the
 * stats failure's (printed).  A NULL s is fine.
 */
int stats_finish(struct stats *s, const char *ns, int status);

/* Close without a word (a stats object that was never used). */
void stats_close(struct stats *s);

#endif
