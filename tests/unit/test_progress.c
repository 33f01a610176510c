/*
 * test_progress.c: the progress line: durations format for people, a line
 * nobody sees draws nothing.  The stats stream: test_stats.c.
 */
#include "diag.h"
#include "progress.h"
#include "tap.h"

static void
test_durations(void)
{
	char buf[64];

	progress_format_duration(3723, buf, sizeof buf);
	is_str(buf, "1h02m03s", "hours");
	progress_format_duration(125, buf, sizeof buf);
	is_str(buf, "2m05s", "minutes");
	progress_format_duration(4.4, buf, sizeof buf);
	is_str(buf, "4s", "seconds");
}

/* Not a TTY and not forced: nothing is drawn, nothing breaks. */
static void
test_quiet_progress(void)
{
	struct progress *p = progress_new("x", 100, false);

	progress_update(p, 50, 500);
	progress_finish(p);
	progress_destroy(p);
	ok(mp_now() > 0, "monotonic clock runs");
}

int
main(void)
{
	diag_init("test_progress");
	test_durations();
	test_quiet_progress();
	return tap_done();
}
