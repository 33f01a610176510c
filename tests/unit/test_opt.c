/*
 * test_opt.c: the declarative option table: values land where the table
 * says, ranges and choices are checked with the option named as typed, a
 * shared option a tool does not honour is refused, and --help shows every
 * option of the table and of the mask.
 */
#include <stdlib.h>
#include <unistd.h>

#include "diag.h"
#include "opt.h"
#include "tap.h"

static const char *const modes[] = {"insert", "upsert", "merge", NULL};

static struct {
	bool drop;
	const char *reject;
	int64_t batch;
	int mode;
	const char *named;
} v;

static bool
must_be_even(const char *arg, void *dest, bson_error_t *err)
{
	long n = strtol(arg, NULL, 10);

	if (n % 2) {
		bson_set_error(err, 1, 64, "wants an even number, not '%s'", arg);
		return false;
	}
	*(long *)dest = n;
	return true;
}

static long even;

static const struct opt opts[] = {
	OPT_SECTION("Writes"),
	OPT_FLAG("drop", &v.drop, "drop the collection first"),
	OPT_CHOICE("mode", &v.mode, NULL, modes, "how documents are written"),
	OPT_INT("batch-size", &v.batch, "N", 1, 1000, "documents per batch"),
	OPT_SECTION("Safety"),
	OPT_STRING("reject", &v.reject, "FILE", "set refused documents aside"),
	{OPT_STRING, "output", 'o', &v.named, "FILE", "where to write", 0, 0, NULL, NULL},
	OPT_CALL("even", &even, "N", must_be_even, "an even number"),
	OPT_END_OF_TABLE,
};

static const struct opt_tool tool = {
	"tool --ns DB.COLL [options]\ntool --dir DIR",
	"Does one thing.",
	"Exit: 0 done, 64 usage.",
	OPT_COMMON_URI | OPT_COMMON_NS | OPT_COMMON_STATS,
	opts,
	false,
};

/* Parse a NULL-terminated argument list; stderr goes to a scratch file so
 * a misuse message can be read back. */
static int
parse(char *msg, size_t msgsize, ...)
{
	char *argv[32];
	int argc = 0, rc, saved = dup(2);
	char path[] = "/tmp/mp-opt-XXXXXX";
	int fd = mkstemp(path);
	struct cli_common c;
	char *ns, *db;
	va_list ap;
	ssize_t n;

	memset(&v, 0, sizeof v);
	cli_common_init(&c);
	argv[argc++] = "tool";
	va_start(ap, msgsize);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	fflush(stderr);
	dup2(fd, 2);
	rc = opt_parse(&tool, &c, argc, argv, &ns, &db);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, msg, msgsize - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	bson_free(ns);
	bson_free(db);
	return rc;
}

static void
test_values(void)
{
	char msg[4096];

	is_int(parse(msg, sizeof msg, "--drop", "--mode", "merge", "--batch-size=7", "--reject", "r.ndjson",
		       "-o", "out", "--even", "4", "--ns", "a.b", NULL), -1, "a good command line: go on");
	ok(v.drop, "flag set");
	is_int(v.mode, 2, "choice index");
	is_int(v.batch, 7, "integer (--name=value)");
	is_str(v.reject, "r.ndjson", "string");
	is_str(v.named, "out", "short option");
	is_int(even, 4, "callback");
	is_int(parse(msg, sizeof msg, "--batch", "3", NULL), 64, "a prefix is refused: --ns must never become --ns-map");
	has_str(msg, "unknown option '--batch' (did you mean --batch-size?)", "with the option it would have been");
	is_int(parse(msg, sizeof msg, "--batch=3", NULL), 64, "also with =");
	is_int(parse(msg, sizeof msg, "--drop", "-o", "x", NULL), -1, "short options are unaffected");
}

static void
test_misuse(void)
{
	char msg[4096];

	is_int(parse(msg, sizeof msg, "--batch-size", "0", NULL), 64, "out of range: 64");
	has_str(msg, "--batch-size takes 1 to 1000, not '0'", "the range is named");
	is_int(parse(msg, sizeof msg, "--batch-size=x", NULL), 64, "out of range with =: 64");
	has_str(msg, "--batch-size takes 1 to 1000, not 'x'", "the option named as typed");
	is_int(parse(msg, sizeof msg, "--mode", "replace", NULL), 64, "not a choice: 64");
	has_str(msg, "--mode takes insert, upsert or merge, not 'replace'", "the choices are named");
	is_int(parse(msg, sizeof msg, "--even", "3", NULL), 64, "a callback refuses: 64");
	has_str(msg, "--even: wants an even number", "its message, with the option");
	is_int(parse(msg, sizeof msg, "--gzip", NULL), 64, "a shared option the tool does not honour is refused");
	has_str(msg, "unknown option '--gzip'", "as unknown");
	is_int(parse(msg, sizeof msg, "--reject", NULL), 64, "a missing argument: 64");
	has_str(msg, "option '--reject' needs an argument", "named");
	is_int(parse(msg, sizeof msg, "-x", NULL), 64, "an unknown short option: 64");
	has_str(msg, "unknown option '-x'", "named");
	is_int(parse(msg, sizeof msg, "stray", NULL), 64, "an operand the tool does not take: 64");
	has_str(msg, "unexpected argument 'stray'", "named");
	has_str(msg, "usage: tool --ns DB.COLL", "misuse prints the usage");
}

static void
test_help(void)
{
	char path[] = "/tmp/mp-opt-help-XXXXXX", text[4096];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w+");
	size_t n;

	opt_usage(&tool, f, false);
	rewind(f);
	n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	has_str(text, "usage: tool --ns DB.COLL [options]\n       tool --dir DIR\n", "the synopsis, two lines");
	has_str(text, "Writes:   --drop  --mode insert|upsert|merge  --batch-size N", "a section on one line");
	has_str(text, "Safety:   --reject FILE  -o|--output FILE  --even N", "the next section");
	has_str(text, "Connect:  --uri URI  --uri-file FILE  --host HOST[:PORT][,...]  --port PORT\n"
		"          -u|--username USER  -p|--password PASSWORD\n", "the connection options under their own heading");
	has_str(text, "Common:   --ns DB.COLL  --stats FILE  --stats-fd N", "the other shared options of the mask");
	ok(strstr(text, "--gzip") == NULL && strstr(text, "--db") == NULL, "and only those");
	has_str(text, "-h|--help", "help and version always");
	has_str(text, "Exit: 0 done, 64 usage.", "the exit statuses last");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (strlen(line) > 79)
			ok(0, "a line of --help is longer than 79 columns: %s", line);
}

int
main(void)
{
	diag_init("tool");
	test_values();
	test_misuse();
	test_help();
	return tap_done();
}
