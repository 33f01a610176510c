/*
 * mongo-dump-bson.h: what the files of mongo-dump-bson share.
 *
 *   main.c        the options, and main
 *   run.c         a run: connect, choose the namespaces, dump each one to
 *                 its output (a stream, or a mongodump directory), --list
 *   collection.c  one namespace, by mode: a find (resuming after an _id),
 *                 --ids-from, --pipeline
 *   ranges.c      --parallel and --partition: _id ranges read at once
 *   job.c         the copy of one namespace: writing documents under a lock,
 *                 progress, --stats, --checkpoint
 *   layout.c      the mongodump directory: folders, metadata.json files
 *   transcode.c   --from: a file or a mongodump directory as the source
 */
#ifndef MONGO_DUMP_BSON_H
#define MONGO_DUMP_BSON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <mongoc/mongoc.h>

#include "archive.h"
#include "cli.h"
#include "docstream.h"
#include "opt.h"
#include "progress.h"
#include "stats.h"

#define TOOL "mongo-dump-bson"

/* --partition K/N */
struct share {
	int k, n;
};

struct opts {
	struct cli_common c;
	const char *query, *projection, *sort, *ids_from, *pipeline, *from, *out_dir, *output;
	const char *resume_after_id, *checkpoint, *metadata, *archive, *query_file;
	char **fields;          /* CSV/TSV: --fields, or the lines of --field-file */
	const char *field_file;
	int64_t limit, skip, batch_size, parallel, retries, collections;
	struct share part;
	bool list, allow_missing, json_array, no_header;
};

/* For a misuse found after the options are parsed. */
extern const struct opt_tool dump_tool;

/* Everything one copy of one namespace needs. */
struct job {
	const struct opts *o;
	mongoc_client_pool_t *pool;
	char *db, *coll, *ns;
	const bson_t *query;     /* user filter (maybe empty) */
	const bson_t *find_opts; /* projection, sort, limit, batchSize */
	struct docstream_writer *w;
	pthread_mutex_t wlock;
	struct archive_writer *ar; /* --archive: w is the archive's, documents go by segments */
	uint8_t *seg;              /* the segment being filled */
	size_t seg_len, seg_cap;
	uint64_t crc;              /* of every document so far, for the EOF header */
	atomic_uint_fast64_t docs, bytes;
	bson_value_t last_id; /* last _id written (single stream) */
	bool have_last_id;
	double last_ck;       /* when the checkpoint was last saved */
	bson_error_t err;
	bool failed;
	struct progress *p;  /* drawn, and --stats written, under wlock */
	struct stats *stats;
	int64_t total;       /* documents expected, -1 unknown */
	uint32_t omit;       /* rare _id types the server refuses in $type (idrange.h) */
};

/* job.c */

/* Set j up for namespace ns ("db.coll"); false (64) when it is not one.
 * job_clear() it either way. */
bool job_init(struct job *j, const struct opts *o, mongoc_client_pool_t *pool, const char *ns, bson_error_t *err);
void job_clear(struct job *j);

/* Draw progress towards `total` documents (-1 unknown) from now on. */
void job_set_progress(struct job *j, int64_t total);
/* Keep the first failure of the job; the caller holds wlock. */
void job_fail(struct job *j, const bson_error_t *err);
/* The last progress line, and no more. */
void job_end_progress(struct job *j);
/* Redraw progress and write a --stats record when due; the caller holds wlock. */
void job_tick(struct job *j);

/* Write the documents of cur (remembering the last _id when track_id, and
 * checkpointing now and then); false on a server or output error, which
 * is in j->err with j->failed. */
bool job_drain(struct job *j, mongoc_cursor_t *cur, bool track_id);

/* --archive: write the documents of the last segment, then the EOF header
 * of the namespace; false with err. */
bool job_end_archive(struct job *j, bson_error_t *err);

/* Save --checkpoint after flushing the output; true when there is nothing
 * to save.  The caller holds wlock or is alone. */
bool job_save_checkpoint(struct job *j, bson_error_t *err);

/* collection.c */

/* The documents a dump of `count` matching ones writes (-1 unknown). */
int64_t dump_expected(const struct opts *o, int64_t count);

/* Copy namespace j->ns from the server into j->w; false with err. */
bool dump_collection(struct job *j, mongoc_client_t *client, bson_error_t *err);

/* ranges.c */

/* --parallel/--partition: read the ranges of _id at once.  `known_total`:
 * the progress already has the right total. */
bool dump_ranges(struct job *j, mongoc_collection_t *coll, bool known_total, bson_error_t *err);
/* Before any _id filter: ask which rare types the server refuses. */
bool dump_probe_types(struct job *j, mongoc_collection_t *coll, bson_error_t *err);

/* layout.c */

/* mkdir -p */
bool layout_mkdir(const char *path, bson_error_t *err);

/* Write db.coll's {options, indexes, uuid, collectionName, type} to path
 * as mongodump's metadata.json (gzipped when asked). */
bool layout_write_metadata(mongoc_client_t *client, const char *db, const char *coll, const char *path, bool gzip,
	bson_error_t *err);
/* The same text, for an archive's prelude; bson_free() it. */
char *layout_metadata_json(mongoc_client_t *client, const char *db, const char *coll, bson_error_t *err);

/* transcode.c */

/* --from: copy a file (or DIR/db/coll.bson of a mongodump directory) to
 * the output; returns the exit status. */
int transcode(const struct opts *o, const char *ns, struct stats *stats);

/* run.c */

/* Dump what the options say; returns the exit status. */
int dump_run(const struct opts *o, const char *ns, const char *db);

#endif
