/*
 * opt.h: a tool's options as one declarative table, in the manner of git's
 * parse-options.  Each row names an option, its kind, where its value goes,
 * the name of its argument and a line of help; a mask says which of the
 * suite's shared options (cli.h) the tool honours.  The table drives
 * getopt_long, range and choice checks, misuse messages that name the
 * option as the user typed it, and the option lines of --help, so an option
 * cannot be accepted and ignored, nor shown and not accepted.
 */
#ifndef MP_OPT_H
#define MP_OPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <bson/bson.h>

#include "cli.h"

enum opt_kind {
	OPT_END = 0,
	OPT_SECTION, /* starts a line of --help: `name` is its title */
	OPT_FLAG,    /* bool *dest = true */
	OPT_STRING,  /* const char **dest = the argument */
	OPT_INT,     /* int64_t *dest, within [min, max] */
	OPT_CHOICE,  /* int *dest = the index of the argument in `choices` */
	OPT_CALL,    /* call(arg, dest, err): false with err (its message) to refuse */
	OPT_OPTIONAL, /* const char **dest = the argument given as --name=ARG, or "-" for none */
};

struct opt {
	enum opt_kind kind;
	const char *name;  /* long name without "--" */
	int short_name;    /* 0 for none */
	void *dest;
	const char *arg;   /* the argument as --help shows it ("N", "FILE"); NULL: no argument */
	const char *help;  /* one line for --help -v */
	int64_t min, max;
	const char *const *choices;
	bool (*call)(const char *arg, void *dest, bson_error_t *err);
	const char *alias; /* another spelling (mongo-tools' camelCase), or NULL */
};

#define OPT_SECTION(title) {OPT_SECTION, (title), 0, NULL, NULL, NULL, 0, 0, NULL, NULL}
#define OPT_FLAG(name, dest, help) {OPT_FLAG, (name), 0, (dest), NULL, (help), 0, 0, NULL, NULL}
#define OPT_STRING(name, dest, arg, help) {OPT_STRING, (name), 0, (dest), (arg), (help), 0, 0, NULL, NULL}
#define OPT_INT(name, dest, arg, lo, hi, help) {OPT_INT, (name), 0, (dest), (arg), (help), (lo), (hi), NULL, NULL}
#define OPT_CHOICE(name, dest, arg, choices, help) \
	{OPT_CHOICE, (name), 0, (dest), (arg), (help), 0, 0, (choices), NULL}
#define OPT_CALL(name, dest, arg, fn, help) {OPT_CALL, (name), 0, (dest), (arg), (help), 0, 0, NULL, (fn)}
#define OPT_OPTIONAL(name, dest, arg, help) {OPT_OPTIONAL, (name), 0, (dest), (arg), (help), 0, 0, NULL, NULL}
#define OPT_END_OF_TABLE {OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0, NULL, NULL}

/* The shared options (struct cli_common) a tool honours. */
enum opt_common {
	OPT_COMMON_URI = 1 << 0,      /* --uri, --uri-file */
	OPT_COMMON_NS = 1 << 1,       /* --ns */
	OPT_COMMON_DB = 1 << 2,       /* --db, --collection */
	OPT_COMMON_FORMAT = 1 << 3,   /* --format, --json */
	OPT_COMMON_GZIP = 1 << 4,     /* --gzip */
	OPT_COMMON_INPUT = 1 << 5,    /* --input-format, --max-doc-size */
	OPT_COMMON_STATS = 1 << 6,    /* --stats, --stats-fd */
	OPT_COMMON_PROGRESS = 1 << 7, /* --progress */
	OPT_COMMON_TIMEOUTS = 1 << 8, /* --socket-timeout, --connect-timeout */
	OPT_COMMON_NSSELECT = 1 << 9, /* --ns-include, --ns-exclude, --exclude-collection[s-with-prefix] */
	OPT_COMMON_NSRENAME = 1 << 10, /* --ns-from, --ns-to */
};

struct opt_tool {
	const char *synopsis; /* the usage lines after "usage: ", '\n' between them */
	const char *about;    /* what the tool does, one paragraph */
	const char *exits;    /* the exit statuses, last in --help */
	unsigned common;      /* enum opt_common bits */
	const struct opt *opts;
	bool operands;        /* arguments after the options are the tool's, from optind on */
};

/* --help: synopsis, about, one line per section (wrapped), the shared
 * options, the exit statuses.  With `verbose`, one line per option with its
 * help. */
void opt_usage(const struct opt_tool *t, FILE *f, bool verbose);

/*
 * Parse argv against t and the shared options.  Returns -1 when the tool
 * should go on, with *ns_out and *db_out set as cli_common_namespace() does;
 * otherwise the exit status: 0 after --help or --version (printed), 64 on
 * misuse (one line naming the option as typed, and the usage, on stderr).
 */
int opt_parse(const struct opt_tool *t, struct cli_common *c, int argc, char **argv, char **ns_out,
	char **db_out);

/* After parsing: -1 when `path` (a checkpoint or token file; NULL: none)
 * can be saved, else the reason printed and 73 (checkpoint_writable). */
int opt_check_writable(const char *path);

/*
 * A two-sided tool's --source-uri-file/--target-uri-file: the URI read from
 * `file` (NULL: none given) goes to *plain, the --source/--target it stands
 * for, and to *owned to bson_free() at the end.  Returns -1 when all is
 * well, 64 when both forms are given (`side` names them), 66 for a file
 * that cannot be read.
 */
int opt_uri_file(const struct opt_tool *t, const char *side, const char **plain, const char *file, char **owned);

/* Print "<prog>: <reason>" and the usage to stderr; return 64. */
int opt_misuse(const struct opt_tool *t, const char *fmt, ...) BSON_GNUC_PRINTF(2, 3);

#endif
