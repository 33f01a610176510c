/*
 * test_diag.c: diagnostics never show a password; URIs resolve from --uri,
 * --uri-file and $MONGODB_URI in that order; errors map to exit statuses.
 */
#include <stdlib.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "conn.h"
#include "diag.h"
#include "exitcode.h"
#include "tap.h"

static char *
capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/mp-diag-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *buf = bson_malloc0(8192);
	FILE *f;

	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	fread(buf, 1, 8191, f);
	fclose(f);
	unlink(path);
	return buf;
}

static void
say_things(void)
{
	bson_error_t err;

	diag_error("connecting to mongodb://admin:s3cretPW@db1:27017,db2/?authSource=admin failed");
	diag_warn("password is s3cretPW");
	mp_error_set(&err, MP_EX_UNAVAILABLE, "mongodb+srv://u:s3cretPW@cluster0.example.net: timeout");
	diag_fail(&err, "connecting");
	diag_info("not shown at default verbosity");
}

int
main(void)
{
	char scrubbed[512], *out, *uri, *redacted, *db, *coll;
	char file[] = "/tmp/mp-uri-XXXXXX";
	bson_error_t err;
	int fd;

	mongoc_init();
	diag_init("/usr/bin/mongo-test");
	is_str(diag_progname(), "mongo-test", "program name is the basename");

	uri = conn_resolve_uri("mongodb://admin:s3cretPW@db1:27017/?authSource=admin", NULL, NULL, &err);
	ok(uri != NULL, "a URI with credentials resolves");
	redacted = conn_redact(uri);
	is_str(redacted, "mongodb://admin:****@db1:27017/?authSource=admin", "conn_redact hides the password");
	bson_free(redacted);
	bson_free(uri);

	out = capture_stderr(say_things);
	ok(strstr(out, "s3cretPW") == NULL, "no line printed contains the password");
	has_str(out, "mongo-test: connecting to mongodb://admin:****@db1", "URIs in messages are redacted");
	has_str(out, "mongo-test: warning: password is ****", "the password is scrubbed from free text");
	has_str(out, "mongo-test: connecting: mongodb+srv://u:****@cluster0", "diag_fail adds context, redacted");
	ok(strstr(out, "not shown") == NULL, "info lines are hidden at the default verbosity");
	bson_free(out);

	diag_scrub("mongodb://a:b@h/", scrubbed, sizeof scrubbed);
	is_str(scrubbed, "mongodb://a:****@h/", "a one-letter password is still redacted in a URI");

	setenv("MONGODB_URI", "mongodb://envhost:1", 1);
	uri = conn_resolve_uri(NULL, NULL, NULL, &err);
	is_str(uri, "mongodb://envhost:1", "$MONGODB_URI is used when no option is given");
	bson_free(uri);
	uri = conn_resolve_uri("mongodb://opthost:2", NULL, NULL, &err);
	is_str(uri, "mongodb://opthost:2", "--uri wins over $MONGODB_URI");
	bson_free(uri);
	fd = mkstemp(file);
	write(fd, "mongodb://filehost:3\n", 21);
	close(fd);
	uri = conn_resolve_uri(NULL, file, NULL, &err);
	is_str(uri, "mongodb://filehost:3", "--uri-file is read, its newline dropped");
	bson_free(uri);
	unsetenv("MONGODB_URI");
	uri = conn_resolve_uri(NULL, NULL, NULL, &err);
	is_str(uri, CONN_DEFAULT_URI, "the default is localhost");
	bson_free(uri);
	ok(conn_resolve_uri("mongodb://a", file, NULL, &err) == NULL && err.code == MP_EX_USAGE,
		"--uri with --uri-file is a usage error");
	ok(conn_resolve_uri("postgres://x:pw99pw99@h", NULL, NULL, &err) == NULL && err.code == MP_EX_USAGE,
		"a malformed URI is a usage error");
	ok(strstr(err.message, "pw99pw99") == NULL, "the malformed URI's password is not in the error");
	setenv("MONGODB_URI", "mongodb://envhost:1", 1);
	uri = conn_check_uri("mongodb://side:pw77pw77@sidehost:4", &err);
	is_str(uri, "mongodb://side:pw77pw77@sidehost:4", "conn_check_uri: the URI given, never $MONGODB_URI");
	bson_free(uri);
	unsetenv("MONGODB_URI");
	diag_scrub("password pw77pw77", scrubbed, sizeof scrubbed);
	is_str(scrubbed, "password ****", "conn_check_uri registers the password");
	ok(conn_check_uri("postgres://x:pw88pw88@h", &err) == NULL && err.code == MP_EX_USAGE,
		"conn_check_uri: a malformed URI is a usage error");
	ok(strstr(err.message, "pw88pw88") == NULL, "its password is not in the error");
	unlink(file);
	ok(conn_resolve_uri(NULL, file, NULL, &err) == NULL && err.code == MP_EX_NOINPUT,
		"a missing URI file is exit status 66");

	ok(conn_split_ns("shop.orders.2024", &db, &coll, &err), "db.coll splits");
	is_str(db, "shop", "database part");
	is_str(coll, "orders.2024", "collection part keeps its dots");
	bson_free(db);
	bson_free(coll);
	ok(!conn_split_ns("shop", &db, &coll, &err) && err.code == MP_EX_USAGE, "a namespace without a dot is refused");

	err.domain = MONGOC_ERROR_SERVER_SELECTION;
	err.code = MONGOC_ERROR_SERVER_SELECTION_FAILURE;
	is_int(mp_error_exitcode(&err), MP_EX_UNAVAILABLE, "server selection failure is 69");
	ok(mp_error_transient(&err), "server selection failure is transient");
	err.domain = MONGOC_ERROR_SERVER;
	err.code = 10107;
	ok(mp_error_transient(&err), "NotWritablePrimary is transient");
	err.code = 11000;
	ok(!mp_error_transient(&err), "a duplicate key is not transient");
	mp_error_set(&err, MP_EX_DATAERR, "x");
	is_int(mp_error_exitcode(&err), MP_EX_DATAERR, "libcommon errors carry their status");
	mp_error_wrap(&err, "record %d", 7);
	is_str(err.message, "record 7: x", "mp_error_wrap prefixes context");

	/* messages quote input bytes: they are made valid UTF-8 for JSON records */
	{
		char bad[] = "at \"\xc3\", caf\xc3\xa9, \xff\xfe, \xed\xa0\x80, \xf0\x9f\x98\x80, cut \xe2\x82";

		is_str(diag_make_utf8(bad), "at \"?\", caf\xc3\xa9, ??, ???, \xf0\x9f\x98\x80, cut ??",
			"diag_make_utf8 keeps valid characters and replaces each stray byte by '?'");
		ok(bson_utf8_validate(bad, strlen(bad), false), "and the result is valid UTF-8 for libbson");
		mp_error_set(&err, MP_EX_DATAERR, "parse error at \"%s\"", "\xc3");
		is_str(err.message, "parse error at \"?\"", "mp_error_set never holds invalid UTF-8");
		mp_error_wrap(&err, "%s", "in\xff.ndjson");
		ok(bson_utf8_validate(err.message, strlen(err.message), false), "nor does mp_error_wrap");
	}
	mongoc_cleanup();
	return tap_done();
}
