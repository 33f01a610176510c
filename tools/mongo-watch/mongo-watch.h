/*
 * mongo-watch.h: what the files of mongo-watch share.
 *
 *   main.c    the options, and main: set up, run one mode, clean up
 *   stream.c  the change stream: its options and pipeline, opening it at a
 *             start point, its errors, --start-token
 *   reader.c  the reader thread: queue every event, resume after the last
 *             one queued on a transient error
 *   writer.c  the main thread's loop: write the queue, flush when caught
 *             up, save the position, progress and stats
 *   poll.c    --poll-field: servers without change streams
 */
#ifndef MONGO_WATCH_H
#define MONGO_WATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <mongoc/mongoc.h>

#include "cli.h"
#include "docstream.h"
#include "progress.h"
#include "stats.h"

#define TOOL "mongo-watch"
#define QUEUE_MAX 10000 /* events the reader may be ahead of the writer */
#define HISTORY_LOST 286

/* --start-at-operation-time */
struct start_at {
	bool has;
	uint32_t t, i;
};

struct opts {
	struct cli_common c;
	const char *resume_file, *token_file, *poll_field, *output;
	int full_doc, full_doc_before; /* indexes in the two lists of modes below, -1: not given */
	bson_t *pipeline, *resume_after, *start_after;
	struct start_at start_at;
	bool start_token, split, expanded, key;
	int64_t max_events, batch_size, max_await_ms, retries, idle_exit, poll_interval;
	char *ns, *db;
};

extern const char *const watch_full_doc_modes[];
extern const char *const watch_full_doc_before_modes[];

struct qitem {
	bson_t *event;
	struct qitem *next;
};

/* The reader thread and the writer share this; lock guards what follows it. */
struct watch {
	const struct opts *o;
	mongoc_client_t *client;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* queue changed, or the reader ended */
	pthread_cond_t room;
	struct qitem *head, *tail;
	int queued;
	bool reader_done, stop, retrying;
	int reader_rc;
	bson_error_t reader_err;
	uint64_t resumes;
};

/* writer.c */

/* Write one event; with --key, "key<TAB>" before it: `key`, or when NULL
 * its own (change_event_key(), "control" when it has no documentKey). */
bool watch_write(const struct opts *o, struct docstream_writer *out, const bson_t *ev, const char *key,
	bson_error_t *err);

/* stream.c */

/* Open the change stream of o->ns, o->db or the deployment: after `after`
 * (a resume token) when not NULL, else at the start point of the options.
 * Errors are reported by watch_stream_error(). */
mongoc_change_stream_t *watch_open_stream(struct watch *w, const bson_t *after);

/* True with err and the server's error code when the stream failed; false
 * when it merely has no event now. */
bool watch_stream_error(mongoc_change_stream_t *cs, bson_error_t *err, int64_t *code);

/* --start-token: print the current position and return the exit status. */
int watch_print_start_token(struct watch *w);

/* reader.c */

/* The reader thread (pthread_create argument w): queue events until w->stop,
 * then record its exit status in w->reader_rc / w->reader_err. */
void *watch_reader_main(void *w);

/* writer.c */

/* Run the reader and write its events to out until a stop (a signal,
 * --max-events, --idle-exit, the stream's end); returns the exit status. */
int watch_run(struct watch *w, struct docstream_writer *out, struct progress *p, struct stats *st);

/* poll.c */

/* --poll-field: query o->ns for documents past the last value written, as
 * replace events, every --poll-interval seconds; returns the exit status. */
int watch_poll(struct watch *w, struct docstream_writer *out, struct progress *p);

#endif
