/*
 * output.c: the report written in the format asked for, to stdout or,
 * whole or not at all, to a file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "exitcode.h"
#include "mongo-report.h"

static void
render(FILE *f, const struct report *r, enum fmt fmt, const char *title)
{
	switch (fmt) {
	case FMT_TEXT: text_write(f, r); break;
	case FMT_MARKDOWN: markdown_write(f, r); break;
	case FMT_JSON: json_write(f, r); break;
	case FMT_HTML: html_write(f, r, title); break;
	}
}

static bool
write_stdout(const struct report *r, enum fmt fmt, const char *title, bson_error_t *err)
{
	render(stdout, r, fmt, title);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		mp_error_set(err, errno == EPIPE ? MP_EX_PIPE : MP_EX_IOERR, "writing stdout failed: %s",
			strerror(errno));
		return false;
	}
	return true;
}

/* The whole report in memory first, then the file replaced at once. */
static bool
write_file(const struct report *r, enum fmt fmt, const char *title, const char *output, bson_error_t *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool ok = false;

	if (f == NULL) {
		mp_error_set(err, MP_EX_SOFTWARE, "out of memory");
		goto out;
	}
	render(f, r, fmt, title);
	if (fclose(f) != 0) {
		mp_error_set(err, MP_EX_SOFTWARE, "out of memory");
		goto out;
	}
	ok = atomicfile_write(output, buf, len, false, err);
out:
	free(buf);
	return ok;
}

bool
report_write(const struct report *r, enum fmt fmt, const char *title, const char *output, bson_error_t *err)
{
	return output ? write_file(r, fmt, title, output, err) : write_stdout(r, fmt, title, err);
}
