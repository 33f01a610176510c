/*
 * load.h: what the rooms of mongo-load-bson share.
 *
 *   main.c      the options (one table) and main
 *   load.c      one collection: prepare, read records into batches, finish;
 *               a mongodump directory
 *   batch.c     a batch: documents back to back in one buffer
 *   write.c     writing a batch: bulk rounds, rejects, retries of unknown
 *               outcomes (libcommon/bulkwrite reads each reply)
 *   workers.c   the writer threads, their queue, and the acknowledgement
 *               window that moves the checkpoint
 *   metadata.c  a mongodump metadata.json: options before, indexes after
 *   archive.c   a mongodump archive: its collections loaded at once
 */
#ifndef MP_LOAD_H
#define MP_LOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <mongoc/mongoc.h>

#include "bulkwrite.h"
#include "docstream.h"
#include "cli.h"
#include "csv.h"
#include "progress.h"
#include "stats.h"
#include "reject.h"
#include "workpool.h"

#define TOOL "mongo-load-bson"
#define BATCH_BYTES_DEFAULT (8 * 1024 * 1024)

enum mode { MODE_INSERT, MODE_UPSERT, MODE_MERGE, MODE_DELETE };

struct opts {
	struct cli_common c;
	const char *from, *dir, *id_field, *reject, *checkpoint, *metadata, *write_concern, *archive;
	char **upsert_fields;
	int mode; /* enum mode */
	struct csv_spec csv;    /* CSV/TSV columns: --fields (or the lines of --field-file), --header-line, ... */
	const char *field_file;
	int grace;              /* enum csv_grace */
	bool skip_dups, drop, dry_run, ordered, allow_missing;
	/* mongorestore's restore options */
	bool stop_on_error, keep_order, no_index_restore, no_options_restore, bypass_validation, preserve_uuid;
	/* the input is a mongodump's output (--dir, an archive) restored in
	 * insert mode: a duplicate _id means the document is there, counted and
	 * gone past as mongorestore does (not with --stop-on-error) */
	bool restoring;
	int64_t batch_size, workers, retries;
};

struct batch {
	uint64_t seq;                 /* its number in the acknowledgement window */
	uint64_t first_rec, last_rec; /* input record numbers, for messages */
	uint8_t *buf;
	size_t len, cap;
	uint32_t *offs;
	uint32_t n, ncap;
	bson_value_t last_id;
	bool has_last_id;
	struct wp_node node;          /* its place in the workers' queue */
};

struct counts {
	uint64_t read, written, inserted, upserted, matched, modified, deleted, duplicates, rejected, retries,
		bytes;
};

/* One collection being loaded. */
struct load {
	const struct opts *o;
	mongoc_client_pool_t *pool;
	char *db, *coll, *ns;
	mongoc_write_concern_t *wc;
	bson_t *insert_opts; /* {validate: false} */
	struct reject_file *reject;
	bool reject_borrowed; /* an archive's namespaces share one, closed by it */

	/* the writer threads; wp.lock also guards the window and the counts,
	 * and wp.failed / wp.err hold the first failure of any thread */
	struct workpool wp;

	/* batches handed to the workers and not yet retired in order: the
	 * checkpoint is the last _id of the retired prefix */
	struct ackwin aw;
	bson_value_t ack_id;
	bool has_ack_id, ack_dirty;
	double last_save;

	struct counts n;
};

/* batch.c */
struct batch *batch_new(void);
void batch_add(struct batch *b, const bson_t *doc);
void batch_doc(const struct batch *b, uint32_t i, bson_t *out);
void batch_destroy(struct batch *b);
void batch_free(void *b);

/* write.c: false only for a fatal error (then in l->err) */
bool write_batch(struct load *l, mongoc_client_t *client, struct batch *b);
/* Set a refused document or a bad input record aside; false (74) if the
 * reject file cannot take it. */
bool reject_doc(struct load *l, const bson_t *doc, const char *msg, int32_t code, bson_error_t *err);

/* workers.c */
void workers_init(struct load *l);
void workers_start(struct load *l);
/* Hand a batch to the workers (blocks while the window is full); false
 * after a fatal error (the batch is freed). */
bool workers_enqueue(struct load *l, struct batch *b);
/* Let the workers finish what they were given, then join them. */
void workers_stop(struct load *l);
/* Save the checkpoint if it moved (the lock held, or no workers). */
bool checkpoint_save_ack(struct load *l, bson_error_t *err);

/* metadata.c */
bson_t *metadata_read(const char *path, bson_error_t *err);
/* How metadata_create creates: without the metadata's options
 * (--no-options-restore), with its uuid through applyOps (--preserve-uuid;
 * a server that refuses it is an error, never a create without the uuid). */
enum { META_NO_OPTIONS = 1, META_UUID = 2 };
bool metadata_create(mongoc_client_t *client, const char *db, const char *coll, const bson_t *meta, int how,
	bson_error_t *err);
/* The metadata (may be NULL) has a uuid; metadata_uuid reads it, false
 * (65) unless it is 32 hex digits as mongodump writes it. */
bool metadata_has_uuid(const bson_t *meta);
bool metadata_uuid(const bson_t *meta, uint8_t out[16], bson_error_t *err);
bool metadata_indexes(mongoc_client_t *client, const char *db, const char *coll, const bson_t *meta,
	bson_error_t *err);

/* load.c */

/* What one run over an input needs besides the load. */
struct input {
	struct docstream_reader *r;
	const char *name; /* the input, for messages; NULL: standard input */
	struct progress *p;
	struct stats *stats;
	bson_value_t resume_id; /* the checkpoint's _id: input up to it is in */
	bool have_resume;
	bson_value_t prev_id;   /* with --checkpoint: input must rise by _id */
	bool have_prev;
	uint64_t skipped;
	int rc; /* what stopped the reading: 0, or 65/74/75 */
};
void input_clear(struct input *in);

/* The steps of a load, in order: init, prepare (write concern, reject
 * file unless one is set, checkpoint), connect (drop, create with the
 * metadata's options, start the workers), a record at a time into batches
 * (load_record: got as docstream_read returns it; false to stop reading),
 * the last batch shipped, finish (drain, checkpoint, indexes: the exit
 * status), summary, clear. */
void load_init(struct load *l, const struct opts *o, mongoc_client_pool_t *pool, const char *ns);
int load_prepare(struct load *l, struct input *in);
int load_connect(struct load *l, const bson_t *meta);
bool load_record(struct load *l, struct input *in, int got, const bson_t *doc, bson_error_t *err,
	struct batch **b);
bool load_ship(struct load *l, struct batch **b);
int load_finish(struct load *l, struct input *in, const bson_t *meta);
void load_summary(struct load *l, struct input *in);
void load_clear(struct load *l);

/* All of it for one stream (not destroyed here). */
int load_one(const struct opts *o, mongoc_client_pool_t *pool, const char *ns, struct docstream_reader *r,
	const bson_t *meta, struct stats *stats);
int load_dir(const struct opts *o, mongoc_client_pool_t *pool, const char *only_db, struct stats *stats);

/* archive.c: every collection of a mongodump archive that r reads */
int load_archive(const struct opts *o, mongoc_client_pool_t *pool, struct docstream_reader *r,
	struct stats *stats);

#endif
