/*
 * test_sig.c: SIGTERM/SIGINT set the stop flag instead of killing; SIGPIPE
 * is ignored so a closed pipe becomes EPIPE.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "sig.h"
#include "tap.h"

int
main(void)
{
	int fds[2];
	ssize_t put;

	sig_install();
	ok(!sig_stop_requested(), "no stop at start");
	raise(SIGTERM);
	ok(sig_stop_requested(), "SIGTERM requests a stop and the process lives on");
	is_int(sig_received(), SIGTERM, "the signal is remembered");
	pipe(fds);
	close(fds[0]);
	put = write(fds[1], "x", 1);
	ok(put == -1 && errno == EPIPE, "writing to a closed pipe gives EPIPE, not death by SIGPIPE");
	close(fds[1]);
	return tap_done();
}
