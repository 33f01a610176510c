/*
 * sig.c: stop flag set by SIGINT/SIGTERM; SIGPIPE ignored.
 */
#include <signal.h>
#include <string.h>

#include "sig.h"

static volatile sig_atomic_t stop_signal;

static void
on_stop(int signo)
{
	if (stop_signal != 0) {
		/* second request: the user means it */
		signal(signo, SIG_DFL);
		raise(signo);
		return;
	}
	stop_signal = signo;
}

void
sig_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
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
