/*
 * sig.h: orderly stops.  SIGINT and SIGTERM set a flag that tools poll
 * between batches (finish the batch in flight, flush, checkpoint, exit); a
 * second one ends the process at once.  SIGPIPE is ignored so that a closed
 * downstream shows up as EPIPE from write(2), which the stream writer reports.
 *
 * A tool blocked on a server that does not answer (a stalled connection
 * waits for the socket timeout) cannot poll the flag: after a stop request
 * a watchdog thread gives it a grace period (MP_STOP_GRACE seconds, default
 * 10), then removes the registered temporary files and exits 75 at once.
 * That loses nothing: checkpoints cover acknowledged work only and are
 * replaced whole, as are output files (their temporaries are removed).
 */
#ifndef MP_SIG_H
#define MP_SIG_H

#include <pthread.h>
#include <stdbool.h>

/* Install the handlers.  Blocking reads are interrupted (no SA_RESTART) so a
 * tool waiting for input notices the stop. */
void sig_install(void);

/* True once SIGINT or SIGTERM arrived. */
bool sig_stop_requested(void);

/* The signal that asked for the stop, 0 if none. */
int sig_received(void);

/* Ask for a stop from inside the process (tests, --max-events and the like);
 * no grace period runs. */
void sig_request_stop(int signo);

/* The grace period after a stop request, in seconds. */
double sig_grace_seconds(void);

/* A temporary file to remove if the grace period runs out; removed from
 * the list once renamed or deleted. */
void sig_cleanup_add(const char *path);
void sig_cleanup_remove(const char *path);

/*
 * Called by the grace period's forced exit, after its message, with the
 * exit status (75): the --stats exit record (stats.c).  NULL to remove.
 * Set and called under the lock the forced exit holds, so a hook removed
 * is never called.
 */
void sig_set_exit_hook(void (*fn)(void *, int status), void *arg);

/* What to do, from the watchdog thread, before it ends the process: save
 * the checkpoint of what was acknowledged so far (fn takes its own locks;
 * the threads it waits on are blocked in the driver, not holding them).
 * NULL fn: nothing. */
void sig_set_last_words(void (*fn)(void *), void *arg);

/* pthread_create for a worker thread that must never take SIGINT or
 * SIGTERM: they go to the main thread, whose blocking reads they interrupt.
 * 0 or pthread_create's error. */
int sig_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);

/* For a last-words function: take `lock` within 2 s, or false. */
bool sig_lock_briefly(pthread_mutex_t *lock);

/* A tool whose orderly stop may take longer (a getMore that waits up to
 * --max-await-ms): the grace period is at least `seconds`. */
void sig_set_grace_min(double seconds);

#endif
