/*
 * mongo-hashdiff.h: what the files of mongo-hashdiff share.
 *
 *   main.c        the option table and main
 *   namespaces.c  what to compare: one namespace (--ns, files) or a database (--db)
 *   sides.c       the two sides: a server (pool, hosts, errors that name it) or a file
 *   job.c         one comparison: choose how, then the verdict, summary and stats record
 *   merge.c       merge join of two sides in _id order (servers, sorted files), --checkpoint
 *   ranges.c      --parallel/--partition: _id ranges summarised on both sides, merged if they differ
 *   hashjoin.c    a file side in any order: hash join through partitions in temporary files
 *   recheck.c     --recheck: re-read the differing _ids, report what stays different
 *   emit.c        one difference as a diff record, a repair event or an _id
 *   metadata.c    --metadata: indexes, collection options and views compared
 */
#ifndef MONGO_HASHDIFF_H
#define MONGO_HASHDIFF_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <mongoc/mongoc.h>

#include "cli.h"
#include "dochash.h"
#include "docstream.h"
#include "progress.h"
#include "stats.h"

#define TOOL "mongo-hashdiff"
#define MAX_RANGES 256

enum emit { EMIT_DIFF, EMIT_REPAIR, EMIT_IDS };
enum kind { MISSING, EXTRA, CHANGED };

struct share {
	int k, n; /* --partition K/N; n == 0: none */
};

struct opts {
	struct cli_common c;
	const char *source, *target, *target_ns, *source_file, *target_file, *ignore, *hash, *checkpoint,
		*output, *source_uri_file, *target_uri_file;
	char *source_text, *target_text; /* what the --*-uri-file held */
	int mode; /* enum dochash_mode */
	int emit; /* enum emit */
	int hash_algo; /* index into the --hash choices */
	bool count_only, resume, allow_missing;
	bool metadata, no_metadata; /* as given */
	bool meta;                  /* compare metadata: asked, or --db of servers by default */
	int64_t parallel, recheck, recheck_delay, batch_size;
	struct share part;
};

/* A side of the whole run: a server or a file. */
struct side {
	const char *name;           /* "source" or "target" */
	const char *file;           /* a file side ("-": standard input), else NULL */
	mongoc_client_pool_t *pool; /* a server side */
	char *host;                 /* the server's hosts, as errors name it */
};

/* One end of one comparison: a side and the collection on it. */
struct end {
	const struct side *side;
	const char *db, *coll;
	char ns[512];
};

struct counts {
	uint64_t compared, equal, missing, extra, changed, cleared, bytes;
	uint64_t metadata; /* metadata differences (indexes, options, views) */
};

/* One comparison of a source namespace with a target namespace. */
struct job {
	const struct opts *o;
	struct end src, dst;
	size_t hlen;

	pthread_mutex_t lock; /* guards what follows: range workers share a job */
	struct docstream_writer *out;
	uint64_t seq; /* repair event tokens */
	struct counts n;
	bool failed;
	bson_error_t err;

	bool holding; /* --recheck: differences are held, not written yet */
	bson_value_t *held;
	int nheld, capheld;

	struct progress *p;
	double last_save;

	uint32_t omit;  /* rare _id types a side refuses in $type (libcommon/idrange.h) */
	bool rangeable; /* one _id filter serves both sides (see job_probe_types) */
	bool metadata_only; /* a view or a time series (--db): its metadata alone compared */
};

/* What one run compares with what, and where it writes. */
struct run {
	const struct opts *o;
	struct side src, dst;
	struct docstream_writer *out;
	struct stats *stats;
	bool ran; /* the comparison ran (its output is closed and kept), not an error before it */
};

/* ---- namespaces.c ---- */

/* Compare namespace ns (with --target-ns on the target), or file with file
 * when ns is NULL.  A namespace on neither server is 66 (--allow-missing:
 * empty).  Returns the exit status; errors are printed. */
int namespaces_compare_one(struct run *r, const char *ns);

/* Compare every collection of db on either side (on the target, the
 * database --target-ns names).  A database with no collections on either
 * side is 66 (--allow-missing: equal).  Returns the worst exit status. */
int namespaces_compare_db(struct run *r, const char *db);

/* ---- sides.c ---- */

/* Open a side: a pool for `uri` (checked, no fallback), or the file `file`
 * (nothing to open).  False with err; side_close() in either case. */
bool side_open(struct side *s, const char *name, const char *uri, const char *file, bson_error_t *err);
void side_close(struct side *s);

/* Prefix err with the side that failed: "target (HOST): ...".  A file side's
 * errors name the file already and are left alone. */
void side_error(const struct side *s, bson_error_t *err);

/* Point e at collection db.coll of side s. */
void end_init(struct end *e, const struct side *s, const char *db, const char *coll);

/* The collections of db on a server side (no views, no system.*), sorted,
 * NULL-terminated: bson_strfreev() them.  Errors name the side. */
bool side_list_collections(const struct side *s, const char *db, char ***colls, bson_error_t *err);

/* Whether e's collection exists on its server.  Errors name the side. */
bool end_exists(const struct end *e, bool *exists, bson_error_t *err);

/* The documents of e: a count on a server, every one read from a file.
 * Errors name the side. */
bool end_count(const struct opts *o, const struct end *e, int64_t *n, bson_error_t *err);

/* A cursor over e's documents in `filter`, in _id order. */
mongoc_cursor_t *end_find_sorted(const struct opts *o, mongoc_client_t *client, const struct end *e,
	const bson_t *filter);

/* ---- job.c ---- */

/* Compare j (set up by the caller: o, src, dst, out) to its end: the
 * differences written, the summary line, the stats record.  Returns the exit
 * status: 0 equal, 1 different, 75 interrupted, or the error's. */
int job_run(struct job *j, struct stats *st);

/* Record the job's first failure: job_fail takes the lock, job_fail_held
 * is called with it held. */
void job_fail(struct job *j, const bson_error_t *err);
/* Before any _id range: probe both sides for the rare _id types they
 * refuse or hold; false (the job failed) when a side could not be asked. */
bool job_probe_types(struct job *j);
void job_fail_held(struct job *j, const bson_error_t *err);

/* The _id of doc into *id (a view into doc, not a copy); false when doc
 * has none. */
bool job_doc_id(const bson_t *doc, bson_value_t *id);

/* Add counts to the job's (lock held) and show progress. */
void job_add_held(struct job *j, struct counts *local);

/* ---- emit.c ---- */

/* Report one difference (lock held): held for --recheck, else written as
 * --emit says.  `sdoc` is the source document when there is one. */
void emit_difference(struct job *j, enum kind k, const bson_value_t *id, const uint8_t *sh, const uint8_t *th,
	const bson_t *sdoc);

/* ---- merge.c ---- */

/* The whole collection on both servers in one stream, from the checkpoint
 * with --resume, saving it with --checkpoint. */
bool merge_servers(struct job *j);

/* The documents of both servers whose _id is in `filter`'s range. */
bool merge_range(struct job *j, mongoc_client_t *sc, mongoc_client_t *tc, const bson_t *filter);

/* Whether a file's documents are in strictly ascending _id order (framing
 * checked only); standard input cannot be read twice: no. */
bool merge_file_sorted(const struct opts *o, const char *path);

/* Two files both in _id order, streamed. */
bool merge_files(struct job *j);

/* ---- ranges.c ---- */

/* --parallel N and --partition K/N: _id ranges of the source, each
 * summarised on both servers, merge-joined only when the summaries differ. */
bool ranges_compare(struct job *j);

/* ---- hashjoin.c ---- */

/* A side or two that are files in no known order: hash join through
 * partitions in temporary files. */
bool hashjoin_compare(struct job *j);

/* ---- recheck.c ---- */

/* Re-read the held differences --recheck times, --recheck-delay apart, and
 * report what stays different as it is now. */
bool recheck_run(struct job *j);

/* ---- metadata.c ---- */

/* Compare the metadata of j's two ends (lock not held): each difference
 * counted in j->n.metadata and, under --emit diff, written as an "index",
 * "options" or "view" record.  False when a side could not be read (the
 * job failed, 69). */
bool metadata_compare(struct job *j);

/* The views and time series of db on a server side (compared by their
 * metadata alone) that --ns-include and the like select, sorted,
 * NULL-terminated: bson_strfreev() them.  Errors name the side. */
bool metadata_list_views(const struct side *s, const char *db, char ***views, bson_error_t *err);

#endif
