/*
 * mongo-recrypt: a filter that re-encrypts fields of a document stream in
 * flight: each --field is decrypted with the --from cipher and key and
 * encrypted again with the --to cipher and key (cipher.c, fields.c).  A
 * document without the fields passes unchanged.  Keys come from files or
 * the environment, never from the command line, and are wiped before exit.
 *
 * This file holds the options and the stream loop: a record that cannot be
 * re-encrypted stops the run with the records before it written (65), or
 * with --reject goes there and the run goes on.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <openssl/crypto.h>

#include "diag.h"
#include "docstream.h"
#include "exitcode.h"
#include "mongo-recrypt.h"
#include "opt.h"
#include "reject.h"
#include "sig.h"
#include "stats.h"

static const char *const ciphers[] = {"none", "aes-256-cbc", "aes-256-gcm", "salsa20", NULL}; /* enum cipher */
static const char *const forms[] = {"keep", "binary", "base64", NULL};                         /* enum form */

static struct {
	struct cli_common c;
	int from, to, to_form;
	const char *from_key_file, *from_key_env, *to_key_file, *to_key_env, *reject, *input, *output;
	char **fields;
	size_t nfields;
	uint8_t from_key[RECRYPT_KEY_LEN], to_key[RECRYPT_KEY_LEN];
} o;

static bool
opt_field(const char *arg, void *dest, bson_error_t *err)
{
	(void)dest;
	if (arg[0] == '\0' || arg[0] == '.' || arg[strlen(arg) - 1] == '.' || strstr(arg, "..") ||
	    arg[0] == '$' || strlen(arg) >= 1024) {
		mp_error_set(err, MP_EX_USAGE, "takes a field path such as ssn or card.number, not '%s'", arg);
		return false;
	}
	o.fields = bson_realloc(o.fields, (o.nfields + 2) * sizeof *o.fields);
	o.fields[o.nfields++] = bson_strdup(arg);
	o.fields[o.nfields] = NULL;
	return true;
}

static const struct opt options[] = {
	OPT_SECTION("Fields"),
	OPT_CALL("field", NULL, "PATH", opt_field, "a field to re-encrypt, dotted into subdocuments (repeat)"),
	OPT_SECTION("Ciphers"),
	OPT_CHOICE("from", &o.from, "CIPHER", ciphers, "how the fields are encrypted now (none: plaintext)"),
	OPT_STRING("from-key-file", &o.from_key_file, "FILE", "the key of --from: 32 bytes, or 64 hex digits"),
	OPT_STRING("from-key-env", &o.from_key_env, "VAR", "the key of --from, from the environment"),
	OPT_CHOICE("to", &o.to, "CIPHER", ciphers, "how to encrypt them (none: decrypt); not salsa20"),
	OPT_STRING("to-key-file", &o.to_key_file, "FILE", "the key of --to"),
	OPT_STRING("to-key-env", &o.to_key_env, "VAR", "the key of --to, from the environment"),
	OPT_CHOICE("to-form", &o.to_form, "FORM", forms, "encrypted values as the input had them, binary or base64"),
	OPT_SECTION("Input and output"),
	OPT_STRING("input", &o.input, "FILE", "read FILE, not stdin"),
	{OPT_STRING, "output", 'o', &o.output, "FILE", "write FILE, whole or not at all, not stdout", 0, 0, NULL,
		NULL},
	OPT_STRING("reject", &o.reject, "FILE", "set records that cannot be re-encrypted aside, and go on"),
	OPT_END_OF_TABLE,
};

static const struct opt_tool tool = {
	"mongo-recrypt --field PATH... --from CIPHER [--from-key-file FILE | --from-key-env VAR]\n"
	"              --to CIPHER [--to-key-file FILE | --to-key-env VAR] [--to-form keep|binary|base64]\n"
	"              [--input FILE] [-o FILE] [--reject FILE]\n"
	"CIPHER: aes-256-gcm, aes-256-cbc (no integrity), salsa20 (--from only), or none (plaintext)",
	"Re-encrypt fields of a document stream (BSON or NDJSON, stdin to stdout, the\n"
	"output in the input's format): decrypt each --field with --from and its key,\n"
	"encrypt it with --to and its key.  Keys never come from the command line.",
	"Exit: 0 done, 64 usage, 65 bad input (a value that does not decrypt: the record,\n"
	"offset and field are named), 66 no input or key file, 70 internal, 73/74 output,\n"
	"75 interrupted.  See mongo-recrypt(1).",
	OPT_COMMON_INPUT | OPT_COMMON_STATS,
	options,
	false,
};

/* One side's key: required for a cipher, refused for none.  -1 to go on. */
static int
check_key(const char *side, int cipher, const char *file, const char *env)
{
	if (cipher == CIPHER_NONE && (file || env))
		return opt_misuse(&tool, "--%s none takes no key", side);
	if (cipher != CIPHER_NONE && !file == !env)
		return opt_misuse(&tool, "--%s %s needs its key: --%s-key-file FILE or --%s-key-env VAR", side,
			ciphers[cipher], side, side);
	return -1;
}

static int
check_options(void)
{
	int rc;

	if (o.nfields == 0)
		return opt_misuse(&tool, "say which fields to re-encrypt: --field PATH");
	if (o.from < 0 || o.to < 0)
		return opt_misuse(&tool, "say how the fields are encrypted and how to encrypt them: --from and --to");
	if (o.to == CIPHER_SALSA20)
		return opt_misuse(&tool, "--to salsa20 is refused: its random 64-bit nonces repeat under one key after "
			"about 10^9 values, and it has no integrity (it stays as --from, to move data off it)");
	if (o.from == CIPHER_NONE && o.to == CIPHER_NONE)
		return opt_misuse(&tool, "--from none --to none would change nothing");
	if (o.to == CIPHER_NONE && o.to_form != FORM_KEEP)
		return opt_misuse(&tool, "--to none writes plaintext strings: --to-form does not apply");
	if ((rc = check_key("from", o.from, o.from_key_file, o.from_key_env)) >= 0 ||
	    (rc = check_key("to", o.to, o.to_key_file, o.to_key_env)) >= 0)
		return rc;
	return -1;
}

/* No core dump and no ptrace by others of a process that holds keys. */
static void
no_core_dumps(void)
{
	struct rlimit none = {0, 0};

#ifdef __linux__
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		diag_warn("prctl(PR_SET_DUMPABLE, 0): %s", strerror(errno));
#endif
	if (setrlimit(RLIMIT_CORE, &none) != 0)
		diag_warn("setrlimit(RLIMIT_CORE, 0): %s", strerror(errno));
}

static int
load_keys(void)
{
	bson_error_t err;
	bool same_env = o.from_key_env && o.to_key_env && strcmp(o.from_key_env, o.to_key_env) == 0;

	no_core_dumps();
	if (o.from != CIPHER_NONE && !key_load(o.from_key_file, o.from_key_env, o.from_key, &err))
		return diag_exit(&err, "--from key");
	if (o.to != CIPHER_NONE && same_env)
		memcpy(o.to_key, o.from_key, sizeof o.to_key); /* the variable is wiped once read */
	else if (o.to != CIPHER_NONE && !key_load(o.to_key_file, o.to_key_env, o.to_key, &err))
		return diag_exit(&err, "--to key");
	return -1;
}

struct run {
	struct docstream_reader *r;
	struct docstream_writer *w;
	struct reject_file *rf;
	struct stats *stats;
	struct recrypt rc;
	uint64_t docs, changed, rejected;
};

/* A record that cannot be re-encrypted: set aside (0), or the end (its
 * status).  The message names the record, its offset and the field. */
static int
bad_record(struct run *x, bson_error_t *err, bool framing)
{
	char where[512], msg[1024];
	struct reject_why why;

	if (framing) {
		snprintf(msg, sizeof msg, "%s", err->message);
	} else {
		docstream_reader_where(x->r, where, sizeof where);
		snprintf(msg, sizeof msg, "%s: %s", where, err->message);
	}
	if (!x->rf || (framing && !docstream_reader_can_continue(x->r))) {
		diag_error("%s", msg);
		return mp_error_exitcode(err);
	}
	why = (struct reject_why){msg, 0, docstream_reader_record(x->r), docstream_reader_line(x->r),
		docstream_reader_offset(x->r)};
	if (!reject_write_read(x->rf, &why, "raw", x->r, err))
		return diag_exit(err, NULL);
	diag_warn("%s; set aside in %s", msg, o.reject);
	x->rejected++;
	return 0;
}

/* Did the first RECRYPT_KEY_PROBE decryptions of the run all fail?  Then the
 * --from key is wrong, most likely, and --reject would set everything aside
 * (or, for CBC and Salsa20, let garbage through): the run stops. */
static bool
wrong_key(const struct run *x)
{
	char where[512];

	if (x->rc.probe->tried < RECRYPT_KEY_PROBE || x->rc.probe->good > 0)
		return false;
	docstream_reader_where(x->r, where, sizeof where);
	diag_error("%s: the first %d values all failed to decrypt (tag, padding or UTF-8): is the --from key "
		"wrong?", where, RECRYPT_KEY_PROBE);
	return true;
}

/* One good record, written whole. */
static int
one_record(struct run *x, const bson_t *doc)
{
	bson_error_t err;
	bson_t out;
	bool ok, changed;

	if (!recrypt_doc(&x->rc, doc, &out, &changed, &err)) {
		bson_destroy(&out);
		return wrong_key(x) ? MP_EX_DATAERR : bad_record(x, &err, false);
	}
	ok = docstream_write(x->w, changed ? &out : doc, &err);
	bson_destroy(&out);
	x->changed += ok && changed;
	if (ok) {
		x->docs++;
		return 0;
	}
	if (docstream_writer_broken_pipe(x->w)) {
		diag_info("stopped: the reader of the output went away");
		return MP_EX_PIPE;
	}
	return diag_exit(&err, "writing %s", o.output ? o.output : "stdout");
}

static int
stream(struct run *x)
{
	const bson_t *doc;
	bson_error_t err;
	int got, rc = 0;

	while (rc == 0 && !sig_stop_requested() && (got = docstream_read(x->r, &doc, &err)) != 0) {
		rc = got < 0 ? bad_record(x, &err, true) : one_record(x, doc);
		if ((x->docs & 1023) == 0 && stats_due(x->stats))
			stats_emit(x->stats, "progress", NULL, x->docs, docstream_reader_bytes(x->r), x->rejected, NULL);
	}
	if (rc == 0 && sig_stop_requested()) {
		diag_error("interrupted by signal %d after %llu documents", sig_received(),
			(unsigned long long)x->docs);
		rc = MP_EX_TEMPFAIL;
	}
	return rc;
}

static int
finish(struct run *x, int rc)
{
	bson_error_t err;

	/* the records before a bad one are delivered to a pipe; a file (-o)
	 * is whole or not there */
	if (rc != 0 && !docstream_writer_replaces_file(x->w))
		docstream_writer_close(x->w, &err);
	if (rc == 0 && !docstream_writer_close(x->w, &err))
		rc = docstream_writer_broken_pipe(x->w) ? MP_EX_PIPE : diag_exit(&err, "writing output");
	if (x->rf && !reject_close(x->rf, &err) && rc == 0)
		rc = diag_exit(&err, "writing %s", o.reject);
	if (rc == 0) {
		bson_t extra = BSON_INITIALIZER;

		BSON_APPEND_INT64(&extra, "reencrypted", (int64_t)x->changed);
		BSON_APPEND_INT64(&extra, "rejected", (int64_t)x->rejected);
		stats_emit(x->stats, "summary", NULL, x->docs, docstream_reader_bytes(x->r), x->rejected, &extra);
		bson_destroy(&extra);
	}
	for (size_t i = 0; rc == 0 && i < x->rc.nfields; i++)
		if (x->rc.hits[i] == 0)
			diag_warn("--field %s matched no document", x->rc.fields[i]);
	if (rc == 0 && x->rejected > 0)
		diag_warn("%llu record(s) set aside in %s", (unsigned long long)x->rejected, o.reject);
	diag_info("%llu documents written, %llu of them re-encrypted, %llu set aside", (unsigned long long)x->docs,
		(unsigned long long)x->changed, (unsigned long long)x->rejected);
	return rc;
}

static int
run(struct stats *stats)
{
	struct docstream_reader_opts ro = {o.c.input_format, o.c.max_doc, false, NULL};
	struct docstream_writer_opts wo = {DOCSTREAM_BSON, DOCSTREAM_JSON_CANONICAL, false, 0};
	struct run x = {NULL, NULL, NULL, stats,
		{(enum cipher)o.from, (enum cipher)o.to, o.from_key, o.to_key, (enum form)o.to_form, o.fields,
			o.nfields, NULL}, 0, 0, 0};
	struct recrypt_probe probe = {0, 0};
	bson_error_t err;
	int rc;

	x.rc.hits = bson_malloc0(o.nfields * sizeof *x.rc.hits);
	x.rc.probe = &probe;

	if ((x.r = docstream_reader_open(o.input, &ro, &err)) == NULL) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	if (docstream_reader_format(x.r) == DOCSTREAM_NDJSON)
		wo.format = DOCSTREAM_NDJSON;
	if ((x.w = docstream_writer_open(o.output, &wo, &err)) == NULL ||
	    (o.reject && (x.rf = reject_open(o.reject, &err)) == NULL)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	docstream_writer_set_source(x.w, x.r);
	rc = finish(&x, stream(&x));
out:
	docstream_writer_destroy(x.w);
	docstream_reader_destroy(x.r);
	bson_free(x.rc.hits);
	return rc;
}

static int
run_with_stats(void)
{
	struct stats *stats;
	bson_error_t err;

	if ((stats = stats_open(o.c.stats_path, o.c.stats_fd, "mongo-recrypt", &err)) == NULL)
		return diag_exit(&err, NULL);
	return stats_finish(stats, NULL, run(stats));
}

int
main(int argc, char **argv)
{
	char *ns = NULL, *db = NULL;
	int rc;

	diag_init(argv[0]);
	cli_common_init(&o.c);
	o.from = o.to = -1;
	rc = opt_parse(&tool, &o.c, argc, argv, &ns, &db);
	if (rc < 0 && (rc = check_options()) < 0) {
		diag_set_verbosity(o.c.verbosity);
		cli_runtime_begin();
		if ((rc = load_keys()) < 0)
			rc = run_with_stats();
		cli_runtime_end();
	}
	OPENSSL_cleanse(o.from_key, sizeof o.from_key);
	OPENSSL_cleanse(o.to_key, sizeof o.to_key);
	for (size_t i = 0; i < o.nfields; i++)
		bson_free(o.fields[i]);
	bson_free(o.fields);
	bson_free(ns);
	bson_free(db);
	return rc;
}
