/*
 * mongo-report.h: what the parts of mongo-report share.  A `struct report`
 * is filled from the streams (records.c), given the servers' counts
 * (servers.c), reduced to the figures a row shows (derive.c) and rendered
 * (text.c, markdown.c, json.c, html.c; output.c chooses and writes); --live
 * redraws the same on a terminal (live.c), fed by a thread following a
 * change-event stream (follow.c) with --events.
 */
#ifndef MONGO_REPORT_H
#define MONGO_REPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <mongoc/mongoc.h>

#include "changeevent.h"
#include "cli.h"
#include "docstream.h"

#define TOOL "mongo-report"
#define MAX_DIFFS_SHOWN 50
#define MAX_POINTS 2000
#define MAX_TOOLS 8
#define MAX_FAILURES 64

enum fmt { FMT_TEXT, FMT_JSON, FMT_MARKDOWN, FMT_HTML };

/* ---- records.c: the streams, summed up per namespace ---- */

struct point {
	double t, v;
};

/* A figure over time; past MAX_POINTS every other point is dropped. */
struct series {
	struct point *p;
	int n, cap;
};

void series_add(struct series *s, double t, double v);

/* What one tool's stats records said about one namespace. */
struct tool_row {
	char tool[32];
	bool summary;
	int64_t docs, bytes, errors;
	double elapsed, rate;
	int64_t inserts, updates, replaces, deletes, ddl, rejected;
	double lag_s;
	int64_t lag_p50, lag_p99;
	char verdict[16];
	int64_t compared, equal, missing, extra, changed, cleared;
	int64_t metadata;   /* mongo-hashdiff --metadata: index, options and view differences */
	int64_t total;      /* documents expected (mongo-dump-bson), -1 unknown */
	double last_t;      /* time of its last record */
	double last_change; /* source time of the last change it applied */
	struct series docs_t, lag_t; /* docs and lag_s over time, for the charts */
};

/* Change events of one namespace, by operationType (libcommon's names). */
#define NEV (CHANGE_OTHER_DDL + 1)

enum diff_kind { DIFF_MISSING, DIFF_EXTRA, DIFF_CHANGED, NDIFF };

struct ns_row {
	char ns[256];
	struct tool_row tools[MAX_TOOLS];
	int ntools;
	int64_t ev[NEV]; /* change events seen, by enum change_op */
	int64_t events, last_wall_ms;
	uint32_t last_cluster;
	double arrival_lag; /* --live --events: age of the last event when it passed */
	int64_t src, dst;   /* counts on the servers, -1 unknown */
	int64_t diffs[NDIFF];
	int64_t metadata; /* diff records of indexes, options and views */
	char *shown[MAX_DIFFS_SHOWN]; /* the first differences, as relaxed JSON */
	int nshown;
};

/* A tool that ended badly: its --stats exit record. */
struct failure {
	char tool[32], ns[256];
	int status;
	char *error;
};

struct report {
	struct ns_row *rows;
	int n, cap;
	int64_t records, stats, diffs, events;
	double first_t, last_t;
	struct failure failures[MAX_FAILURES];
	int nfailures;
};

/* The row of `ns`, added (counts unknown) if there is none.  Adding may
 * move every row: pointers into r->rows do not survive it. */
struct ns_row *report_row(struct report *r, const char *ns);
/* Drop the rows of namespaces --ns-include and the like leave out. */
void report_select(struct report *r);

/*
 * Read every record of `path` ("-": stdin) into r, each recognised by its
 * shape; with only_events anything but a change event is refused.  False
 * with err: the reader's (66 missing, 65 malformed), or 65 naming the
 * record of no known shape.
 */
bool report_read(struct report *r, const char *path, const struct cli_common *c, bool only_events,
	bson_error_t *err);

/* Count one change event under its namespace's row; returns that row. */
struct ns_row *report_take_event(struct report *r, const bson_t *d);

/* err = 65 naming the record rd read last, and its line or byte offset. */
void report_record_error(const struct docstream_reader *rd, const char *path, const char *what,
	bson_error_t *err);

/* Rows in namespace order. */
void report_sort(struct report *r);

/* Free what r holds and empty it. */
void report_clear(struct report *r);

/* ---- derive.c: the figures a row shows beyond those it was given ---- */

struct derived {
	const struct tool_row *copy; /* the tool whose documents are shown; may be NULL */
	int64_t ins, upd, del;
	int64_t missing, extra, changed, metadata;
	double pct;         /* target against source, else verified or finished; -1 unknown */
	double eta;         /* seconds left of the copy; 0 done; -1 unknown */
	double last_change; /* seconds since the epoch; 0 unknown */
};

void row_derive(const struct ns_row *row, struct derived *d);

/* The verdict of the row's comparison, "different" for differences alone,
 * else "". */
const char *row_verdict(const struct ns_row *row);

/* The copy's tool (load, else dump), else the one with most documents;
 * NULL for a row without stats. */
const struct tool_row *row_main_tool(const struct ns_row *row);

/* "p50 Nms p99 Nms", or "Ns", or "" when no tool measured a lag. */
void row_format_lag(const struct ns_row *row, char *buf, size_t size);

/* A real collection's name, not a pseudo row ("replay", "(deployment)"). */
bool ns_is_collection(const char *ns);

/* Whether any row has a server's count (--source/--target). */
bool report_has_counts(const struct report *r);

/* "-" unknown, "done", or a duration. */
void format_eta(double eta, char *buf, size_t size);

/* UTC, "%Y-%m-%dT%H:%M:%SZ" (iso) or "%Y-%m-%d %H:%M:%S"; "-" when unknown. */
void format_time(double t, bool iso, char *buf, size_t size);

/* ---- the renderers: each writes the whole report to f ---- */

void text_write(FILE *f, const struct report *r);
void markdown_write(FILE *f, const struct report *r);
void json_write(FILE *f, const struct report *r);
void html_write(FILE *f, const struct report *r, const char *title);

/* table.c: the columns the text and markdown tables share. */
enum col { C_NS, C_TOOLS, C_DOCS, C_SRC, C_DST, C_DONE, C_RATE, C_INS, C_UPD, C_DEL, C_EVENTS, C_LAG, C_ETA,
	   C_VERDICT, C_MISSING, C_EXTRA, C_CHANGED, C_METADATA, NCOLS };

struct table_col {
	const char *head;
	bool num;      /* right-aligned in text */
	bool md_right; /* right-aligned in markdown */
	bool counts;   /* shown only with the servers' counts */
	bool metadata; /* shown only when a row has metadata differences */
};

extern const struct table_col table_cols[NCOLS];

/* Every row's cells, the width of each column, and the columns shown (those
 * of the servers' counts only when counts were taken). */
struct table {
	char (*cells)[NCOLS][96];
	int n;
	int width[NCOLS], show[NCOLS], ncols;
};

void table_build(struct table *t, const struct report *r);
void table_free(struct table *t);
/* The runs that failed, one line each after a blank one: "<lead>tool ns
 * exited N: error" (text and markdown differ only in the lead). */
void table_failures(FILE *f, const struct report *r, const char *lead);

/*
 * output.c: write the report in fmt to `output` (atomically: temp file,
 * fsync, rename) or, NULL, to stdout.  Errors: 73 cannot create, 74 write
 * failed.
 */
bool report_write(const struct report *r, enum fmt fmt, const char *title, const char *output,
	bson_error_t *err);

/* ---- servers.c: the collections' counts on the source and the target ---- */

struct servers {
	mongoc_client_t *src, *dst;
	char *src_uri, *dst_uri;
};

/* Connect to whichever of source and target are given (NULL: not that
 * one); false with err (69) if one is down.  servers_close() either way. */
bool servers_open(struct servers *s, const char *source, const char *target, bson_error_t *err);
void servers_close(struct servers *s);

/* The estimated count of ns on c; -1 when c is NULL or cannot say. */
int64_t servers_count_of(mongoc_client_t *c, const char *ns);

/* The namespaces --ns or --db name: that one, or the collections of --db,
 * or of every database on the server.  NULL-terminated, for bson_strfreev;
 * NULL with err when the server cannot list them. */
char **servers_list_namespaces(mongoc_client_t *c, const char *ns, const char *db, bson_error_t *err);

/* Rows for the namespaces --ns/--db name (listed on the source, else the
 * target), then every collection row's counts on both servers.  False with
 * err (69) when the collections cannot be listed. */
bool servers_count(const struct servers *s, struct report *r, const char *ns, const char *db, bson_error_t *err);

/* ---- live.c: --live, a terminal monitor ---- */

struct live_opts {
	const char *ns, *db, *snapshot;
	double refresh;
	int64_t iterations; /* 0: until stopped */
	bool events;
	char **files;
	int nfiles;
	const struct cli_common *cc;
};

/* Redraw until SIGINT/SIGTERM, --iterations, or the end of the --events
 * stream; returns the exit status (65 when the stream held records that
 * were not change events). */
int live_run(const struct live_opts *o, const struct servers *sv);

/* ---- follow.c: --live --events, the stream read as it flows ---- */

/* A thread reads the stream into a report the screen samples under the
 * lock. */
struct follower {
	pthread_t thread;
	pthread_mutex_t lock;
	struct report r;
	const char *path;
	const struct cli_common *cc;
	bool done, failed;
	int64_t bad;
	bson_error_t err;
};

/* Start the thread on `path` ("-": stdin), with SIGINT and SIGTERM blocked
 * in it; false if it cannot start. */
bool follower_start(struct follower *fo, const char *path, const struct cli_common *cc);

/* Whether the stream has ended (read under the lock). */
bool follower_done(struct follower *fo);

/* The exit status the stream's reading deserves, printing why: once it
 * has ended, the thread is joined and its report freed; while it runs, 0
 * (a reader still blocked on its input is left to the exit). */
int follower_finish(struct follower *fo);

/* Seconds since the epoch, from the wall clock. */
double wall_now(void);

#endif
