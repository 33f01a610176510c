/*
 * follow.c: --live --events: a change-event stream read as it flows, by a
 * thread of its own, into a report the screen samples under the lock.
 * A record that is not a change event, or that cannot be read while the
 * stream can go on, is a warning and counted; the stream's end or a
 * reading error it cannot go on after ends the thread.
 */
#include <signal.h>
#include <time.h>

#include "diag.h"
#include "exitcode.h"
#include "mongo-report.h"
#include "sig.h"

double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One record read: counted as an event, with the age it arrived at. */
static void
follow_record(struct follower *fo, const struct docstream_reader *rd, const bson_t *d)
{
	bson_iter_t it;
	bson_error_t err;

	pthread_mutex_lock(&fo->lock);
	fo->r.records++;
	if (bson_iter_init_find(&it, d, "operationType")) {
		struct ns_row *row = report_take_event(&fo->r, d);

		if (bson_iter_init_find(&it, d, "wallTime") && BSON_ITER_HOLDS_DATE_TIME(&it))
			row->arrival_lag = wall_now() - (double)bson_iter_date_time(&it) / 1000.0;
	} else {
		report_record_error(rd, fo->path, "not a change event (--events)", &err);
		diag_warn("%s", err.message);
		fo->bad++;
	}
	pthread_mutex_unlock(&fo->lock);
}

static void *
follow(void *arg)
{
	struct follower *fo = arg;
	struct docstream_reader_opts ro = {fo->cc->input_format, fo->cc->max_doc, false};
	struct docstream_reader *rd;
	bson_error_t err;
	const bson_t *d;
	int got = -1;

	if ((rd = docstream_reader_open(fo->path, &ro, &err)) != NULL) {
		while ((got = docstream_read(rd, &d, &err)) != 0) {
			if (got > 0) {
				follow_record(fo, rd, d);
				continue;
			}
			if (!docstream_reader_can_continue(rd))
				break;
			diag_warn("%s", err.message);
			pthread_mutex_lock(&fo->lock);
			fo->bad++;
			pthread_mutex_unlock(&fo->lock);
		}
	}
	pthread_mutex_lock(&fo->lock);
	if (got < 0) {
		fo->failed = true;
		fo->err = err;
	}
	fo->done = true;
	pthread_mutex_unlock(&fo->lock);
	docstream_reader_destroy(rd);
	return NULL;
}

bool
follower_start(struct follower *fo, const char *path, const struct cli_common *cc)
{
	pthread_mutex_init(&fo->lock, NULL);
	fo->path = path;
	fo->cc = cc;
	/* signals are the screen's to take: the reader never sees EINTR */
	return sig_thread_create(&fo->thread, follow, fo) == 0;
}

bool
follower_done(struct follower *fo)
{
	bool done;

	pthread_mutex_lock(&fo->lock);
	done = fo->done;
	pthread_mutex_unlock(&fo->lock);
	return done;
}

int
follower_finish(struct follower *fo)
{
	int rc = MP_EX_OK;
	bool done;

	pthread_mutex_lock(&fo->lock);
	done = fo->done;
	if (done) {
		if (fo->failed) {
			rc = diag_exit(&fo->err, NULL);
		} else if (fo->bad > 0) {
			diag_error("%lld record(s) of the stream were not change events or could not be read",
				(long long)fo->bad);
			rc = MP_EX_DATAERR;
		}
	}
	pthread_mutex_unlock(&fo->lock);
	if (done) {
		pthread_join(fo->thread, NULL);
		report_clear(&fo->r);
	}
	return rc;
}
