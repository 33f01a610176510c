/*
 * test_connflags.c: mongo-tools' connection flags become one URI (host forms,
 * credentials that need escaping, contradictions with --uri), and --config
 * files are read as mongo-tools writes them.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "conn.h"
#include "diag.h"
#include "exitcode.h"
#include "tap.h"

static void
hosts_ok(const char *host, const char *port, const char *want_list, const char *want_rs)
{
	char *list, *rs;
	bson_error_t err;

	if (!ok(conn_parse_hosts(host, port, &list, &rs, &err), "--host '%s' --port '%s' parses", host ? host : "(none)",
		    port ? port : "(none)")) {
		printf("#   %s\n", err.message);
		return;
	}
	is_str(list, want_list, "  hosts %s", want_list);
	ok(want_rs ? rs && strcmp(rs, want_rs) == 0 : rs == NULL, "  replica set %s", want_rs ? want_rs : "(none)");
	bson_free(list);
	bson_free(rs);
}

static void
hosts_bad(const char *host, const char *port, const char *want)
{
	char *list, *rs;
	bson_error_t err;

	ok(!conn_parse_hosts(host, port, &list, &rs, &err) && err.code == MP_EX_USAGE && strstr(err.message, want),
		"--host '%s' --port '%s' refused: %s", host ? host : "(none)", port ? port : "(none)", want);
}

static void
test_hosts(void)
{
	hosts_ok(NULL, NULL, "localhost", NULL);
	hosts_ok(NULL, "27018", "localhost:27018", NULL);
	hosts_ok("db1", NULL, "db1", NULL);
	hosts_ok("db1:27017", "27017", "db1:27017", NULL);
	hosts_ok("db1,db2:5", "5", "db1:5,db2:5", NULL);
	hosts_ok("db1,db2:2", NULL, "db1,db2:2", NULL);
	hosts_ok("rs0/db1,db2", NULL, "db1,db2", "rs0");
	hosts_ok("[::1]:9,[fe80::1]", "9", "[::1]:9,[fe80::1]:9", NULL);
	hosts_bad("db1:1", "2", "--port 2 contradicts --host db1:1");
	hosts_bad("user@db1", NULL, "not 'user@db1'");
	hosts_bad("db1/x?y", NULL, "not 'x?y'");
	hosts_bad("db1,", NULL, "not ''");
	hosts_bad("db1:0", NULL, "not 'db1:0'");
	hosts_bad("db1:99999", NULL, "not 'db1:99999'");
	hosts_bad("[::1", NULL, "not '[::1'");
	hosts_bad("a b/db1", NULL, "bad replica set name");
	hosts_bad("db1", "http", "--port takes 1 to 65535, not 'http'");
	hosts_bad("db1", "99999999999999999999999", "--port takes 1 to 65535");
}

static void
test_resolve(void)
{
	struct conn_flags f = {0};
	bson_error_t err;
	mongoc_uri_t *u;

	setenv("MP_TEST_URI", "mongodb://envhost:1", 1);
	u = conn_resolve(&f, "MP_TEST_URI", &err);
	is_str(u ? mongoc_uri_get_hosts(u)->host_and_port : "", "envhost:1", "nothing given: $MONGODB_URI, as before");
	mongoc_uri_destroy(u);
	unsetenv("MP_TEST_URI");
	u = conn_resolve(&f, "MP_TEST_URI", &err);
	is_str(u ? mongoc_uri_get_hosts(u)->host_and_port : "", "localhost:27017", "nothing at all: the default");
	mongoc_uri_destroy(u);

	setenv("MP_TEST_URI", "mongodb://envhost:1", 1);
	f.host = "rs0/a:1,b:2";
	f.username = "al@ce:/";
	f.password = "p@ss:w/rd %";
	f.auth_db = "ad min";
	f.auth_mech = "SCRAM-SHA-256";
	f.read_preference = "secondaryPreferred";
	f.tls = true;
	f.tls_ca_file = "/etc/ca file.pem";
	u = conn_resolve(&f, "MP_TEST_URI", &err);
	ok(u != NULL, "flags alone make a URI (--host replaces $MONGODB_URI)");
	if (u) {
		is_str(mongoc_uri_get_hosts(u)->host_and_port, "a:1", "  first host");
		is_str(mongoc_uri_get_replica_set(u), "rs0", "  replica set");
		is_str(mongoc_uri_get_username(u), "al@ce:/", "  user name, as given");
		is_str(mongoc_uri_get_password(u), "p@ss:w/rd %", "  password, as given");
		is_str(mongoc_uri_get_auth_source(u), "ad min", "  authSource");
		is_str(mongoc_uri_get_auth_mechanism(u), "SCRAM-SHA-256", "  mechanism");
		ok(mongoc_read_prefs_get_mode(mongoc_uri_get_read_prefs_t(u)) == MONGOC_READ_SECONDARY_PREFERRED,
			"  read preference");
		ok(mongoc_uri_get_tls(u), "  tls");
		is_str(mongoc_uri_get_option_as_utf8(u, MONGOC_URI_TLSCAFILE, NULL), "/etc/ca file.pem", "  tlsCAFile");
	}
	mongoc_uri_destroy(u);
	unsetenv("MP_TEST_URI");

	memset(&f, 0, sizeof f);
	f.uri = "mongodb://bob@h/?authSource=x&tls=false";
	f.username = "bob";
	f.password = "pw-for-bob";
	u = conn_resolve(&f, NULL, &err);
	ok(u && strcmp(mongoc_uri_get_password(u), "pw-for-bob") == 0, "a flag adds what the URI lacks (a password)");
	mongoc_uri_destroy(u);
	f.username = "alice";
	ok(!conn_resolve(&f, NULL, &err) && err.code == MP_EX_USAGE && strstr(err.message, "'alice' contradicts 'bob'"),
		"another user is a contradiction (64)");
	f.username = NULL;
	f.auth_db = "y";
	ok(!conn_resolve(&f, NULL, &err) && strstr(err.message, "'y' contradicts 'x'"), "another authSource too");
	f.auth_db = NULL;
	f.tls = true;
	ok(!conn_resolve(&f, NULL, &err) && strstr(err.message, "--tls contradicts tls=false"), "--tls with tls=false");
	f.tls = false;
	f.host = "h";
	ok(!conn_resolve(&f, NULL, &err) && strstr(err.message, "--host contradicts"), "--host with a URI");
	f.host = NULL;
	f.uri = "mongodb://bob:other@h/";
	ok(!conn_resolve(&f, NULL, &err) && strstr(err.message, "--password contradicts") &&
			!strstr(err.message, "pw-for-bob") && !strstr(err.message, "other"),
		"another password: a contradiction that shows neither");
	f.uri = "mongodb://h/";
	f.password = NULL;
	f.read_preference = "Nearest";
	ok(!conn_resolve(&f, NULL, &err) && strstr(err.message, "--read-preference takes"), "a read preference is "
		"spelled as mongo-tools spells it");
}

static void
config_ok(const char *text, const char *uri, const char *pw, const char *tlspw, const char *name)
{
	struct conn_config c;
	bson_error_t err;

	if (!ok(conn_config_parse(text, "c.yaml", &c, &err), "config: %s", name)) {
		printf("#   %s\n", err.message);
		return;
	}
	ok((uri ? c.uri && strcmp(c.uri, uri) == 0 : !c.uri) && (pw ? c.password && strcmp(c.password, pw) == 0 : !c.password) &&
			(tlspw ? c.tls_cert_key_password && strcmp(c.tls_cert_key_password, tlspw) == 0 : !c.tls_cert_key_password),
		"  its values");
	conn_config_clear(&c);
}

static void
config_bad(const char *text, const char *want, const char *name)
{
	struct conn_config c;
	bson_error_t err;

	ok(!conn_config_parse(text, "c.yaml", &c, &err) && err.code == MP_EX_DATAERR && strstr(err.message, want),
		"config refused: %s (%s)", name, want);
	if (strstr(err.message, want) == NULL)
		printf("#   %s\n", err.message);
}

static void
test_config(void)
{
	char path[] = "/tmp/mp-config-XXXXXX";
	struct conn_config c;
	bson_error_t err;
	int fd;

	config_ok("", NULL, NULL, NULL, "empty");
	config_ok("uri: mongodb://h:1/?tls=true\npassword: s3cret#x\n", "mongodb://h:1/?tls=true", "s3cret#x", NULL,
		"plain values; a # inside a value is the value");
	config_ok("# comment\n\n  password: 'it''s # here'   # comment\r\n", NULL, "it's # here", NULL,
		"single quotes, '' for a quote, a comment after, CRLF");
	config_ok("password: \"a \\\"b\\\" \\\\c\"\ntlsCertificateKeyFilePassword: k3y-pw\n", NULL, "a \"b\" \\c",
		"k3y-pw", "double quotes with \\\" and \\\\; the key file password");
	config_ok("sslPEMKeyPassword: old-name\npassword: x y # two words\n", NULL, "x y", "old-name",
		"sslPEMKeyPassword, its old name; a plain value ends at ' #'");
	config_bad("pasword: x\n", "line 1: unknown key 'pasword'", "a typo");
	config_bad("uri: a\nuri: b\n", "line 2: 'uri' again", "a key twice");
	config_bad("password 'x'\n", "line 1: not `key: value`", "no colon");
	config_bad("password:x\n", "line 1: not `key: value`", "no blank after the colon");
	config_bad("password: 'x\n", "line 1: unclosed quote", "an unclosed quote");
	config_bad("password: 'x' y\n", "text after the value", "text after a quoted value");
	config_bad("\npassword:\n", "line 2: empty value of 'password'", "an empty value");

	fd = mkstemp(path);
	ok(write(fd, "password: f1le-pw\n", 18) == 18, "a config file written");
	close(fd);
	chmod(path, 0600);
	ok(conn_config_read(path, &c, &err) && strcmp(c.password, "f1le-pw") == 0, "mode 0600 is read");
	conn_config_clear(&c);
	chmod(path, 0604);
	ok(!conn_config_read(path, &c, &err) && err.code == MP_EX_NOINPUT && strstr(err.message, "permissions 0604"),
		"mode 0604 is refused (66)");
	chmod(path, 0620);
	ok(!conn_config_read(path, &c, &err) && strstr(err.message, "permissions 0620"), "mode 0620 too");
	unlink(path);
	ok(!conn_config_read(path, &c, &err) && err.code == MP_EX_NOINPUT && strstr(err.message, path),
		"a missing file: 66 naming it");
}

int
main(void)
{
	mongoc_init();
	diag_init("test_connflags");
	test_hosts();
	test_resolve();
	test_config();
	mongoc_cleanup();
	return tap_done();
}
