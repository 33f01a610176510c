/*
 * sig.c: stop flag set by SIGINT/SIGTERM; SIGPIPE ignored; the grace period
 * after a stop request (see sig.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "sig.h"

#define GRACE_DEFAULT_S 10.0
#define MAX_CLEANUP 16

static volatile sig_atomic_t stop_signal;
static int wake_pipe[2] = {-1, -1};

/* Temporary files to remove when the grace period runs out. */
static pthread_mutex_t cleanup_lock = PTHREAD_MUTEX_INITIALIZER;
static char *cleanup_paths[MAX_CLEANUP];
static double grace_min;
static void (*last_words)(void *);
static void *last_words_arg;
static void (*exit_hook)(void *, int); /* under cleanup_lock */
static void *exit_hook_arg;

static void
on_stop(int signo)
{
	int saved = errno;

	if (stop_signal != 0) {
		/* second request: the user means it */
		signal(signo, SIG_DFL);
		raise(signo);
		return;
	}
	stop_signal = signo;
	if (wake_pipe[1] >= 0)
		(void)!write(wake_pipe[1], "s", 1);
	errno = saved;
}

double
sig_grace_seconds(void)
{
	const char *env = getenv("MP_STOP_GRACE");
	char *end;
	double v;

	if (env == NULL || *env == '\0')
		return GRACE_DEFAULT_S > grace_min ? GRACE_DEFAULT_S : grace_min;
	v = strtod(env, &end);
	return *end == '\0' && v > 0 ? v : GRACE_DEFAULT_S;
}

void
sig_set_grace_min(double seconds)
{
	grace_min = seconds;
}

bool
sig_lock_briefly(pthread_mutex_t *lock)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	return pthread_mutex_timedlock(lock, &until) == 0;
}

/* The grace period: wait for a stop request, give the tool that long to
 * end in order, then end it with 75.  Whatever it saved is consistent:
 * checkpoints and outputs are only ever replaced whole. */
static void *
watchdog(void *arg)
{
	char c;
	double grace;
	struct timespec ts;

	(void)arg;
	while (read(wake_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	grace = sig_grace_seconds();
	ts.tv_sec = (time_t)grace;
	ts.tv_nsec = (long)((grace - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	pthread_mutex_lock(&cleanup_lock);
	if (last_words != NULL)
		last_words(last_words_arg);
	for (int i = 0; i < MAX_CLEANUP; i++)
		if (cleanup_paths[i] != NULL)
			unlink(cleanup_paths[i]);
	diag_error("stopped by signal %d and not done after %.0f s (a server that does not answer?): exiting now; "
		"checkpoints and outputs on disk are consistent (MP_STOP_GRACE sets the wait)", (int)stop_signal,
		grace);
	if (exit_hook != NULL)
		exit_hook(exit_hook_arg, MP_EX_TEMPFAIL);
	_exit(MP_EX_TEMPFAIL);
	return NULL;
}

int
sig_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t block, old;
	int e;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	e = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}

void
sig_install(void)
{
	struct sigaction sa;
	pthread_t t;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	if (wake_pipe[0] < 0 && pipe2(wake_pipe, O_CLOEXEC) == 0 && sig_thread_create(&t, watchdog, NULL) == 0)
		pthread_detach(t);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool
sig_stop_requested(void)
{
	return stop_signal != 0;
}

int
sig_received(void)
{
	return stop_signal;
}

void
sig_request_stop(int signo)
{
	stop_signal = signo;
}

void
sig_cleanup_add(const char *path)
{
	pthread_mutex_lock(&cleanup_lock);
	for (int i = 0; i < MAX_CLEANUP; i++) {
		if (cleanup_paths[i] == NULL) {
			cleanup_paths[i] = strdup(path);
			break;
		}
	}
	pthread_mutex_unlock(&cleanup_lock);
}

void
sig_set_exit_hook(void (*fn)(void *, int), void *arg)
{
	pthread_mutex_lock(&cleanup_lock);
	exit_hook = fn;
	exit_hook_arg = arg;
	pthread_mutex_unlock(&cleanup_lock);
}

void
sig_set_last_words(void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&cleanup_lock);
	last_words = fn;
	last_words_arg = arg;
	pthread_mutex_unlock(&cleanup_lock);
}

void
sig_cleanup_remove(const char *path)
{
	pthread_mutex_lock(&cleanup_lock);
	for (int i = 0; i < MAX_CLEANUP; i++) {
		if (cleanup_paths[i] != NULL && strcmp(cleanup_paths[i], path) == 0) {
			free(cleanup_paths[i]);
			cleanup_paths[i] = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&cleanup_lock);
}
