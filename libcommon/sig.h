/*
 * sig.h: orderly stops.  SIGINT and SIGTERM set a flag that tools poll
 * between batches (finish the batch in flight, flush, checkpoint, exit); a
 * second one ends the process at once.  SIGPIPE is ignored so that a closed
 * downstream shows up as EPIPE from write(2), which the stream writer reports.
 */
#ifndef MP_SIG_H
#define MP_SIG_H

#include <stdbool.h>

/* Install the handlers.  Blocking reads are interrupted (no SA_RESTART) so a
 * tool waiting for input notices the stop. */
void sig_install(void);

/* True once SIGINT or SIGTERM arrived. */
bool sig_stop_requested(void);

/* The signal that asked for the stop, 0 if none. */
int sig_received(void);

/* Ask for a stop from inside the process (tests, --max-events and the like). */
void sig_request_stop(int signo);

#endif
