/*
 * connconfig.c: mongo-tools' --config FILE, the way to give a password
 * without putting it on a command line (conn.h, struct conn_config).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn.h"
#include "diag.h"
#include "exitcode.h"

#define CONFIG_MAX 65536

void
conn_config_clear(struct conn_config *c)
{
	bson_free(c->uri);
	bson_free(c->password);
	bson_free(c->tls_cert_key_password);
	memset(c, 0, sizeof *c);
}

/* Where the value of `key` goes; NULL for a key we do not know. */
static char **
config_slot(struct conn_config *c, const char *key, size_t n)
{
	if (n == 3 && strncmp(key, "uri", n) == 0)
		return &c->uri;
	if (n == 8 && strncmp(key, "password", n) == 0)
		return &c->password;
	if ((n == 29 && strncmp(key, "tlsCertificateKeyFilePassword", n) == 0) ||
	    (n == 17 && strncmp(key, "sslPEMKeyPassword", n) == 0))
		return &c->tls_cert_key_password;
	return NULL;
}

/* The value after "key:" up to `end`: quoted ('...' with '' for a quote,
 * "..." with \" and \\), or plain up to a " #" comment.  NULL when a
 * quote is not closed or text follows it. */
static char *
config_value(const char *v, const char *end)
{
	bson_string_t *s = bson_string_new(NULL);
	char q = *v;

	if (q != '\'' && q != '"') {
		const char *stop = v;

		while (stop < end && !(*stop == '#' && stop > v && (stop[-1] == ' ' || stop[-1] == '\t')))
			stop++;
		while (stop > v && (stop[-1] == ' ' || stop[-1] == '\t'))
			stop--;
		bson_string_append_printf(s, "%.*s", (int)(stop - v), v);
		return bson_string_free(s, false);
	}
	for (v++; v < end; v++) {
		if (*v == q && q == '\'' && v + 1 < end && v[1] == '\'')
			v++;
		else if (*v == '\\' && q == '"' && v + 1 < end && (v[1] == '"' || v[1] == '\\'))
			v++;
		else if (*v == q)
			break;
		bson_string_append_c(s, *v);
	}
	if (v < end)
		v++; /* the closing quote */
	else
		goto bad;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	if (v == end || *v == '#')
		return bson_string_free(s, false);
bad:
	bson_string_free(s, true);
	return NULL;
}

/* One line, [p, end): blank, a comment or `key: value`. */
static bool
config_line(struct conn_config *c, const char *p, const char *end, const char *path, int line, bson_error_t *err)
{
	const char *key;
	size_t klen;
	char **slot, *v;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	if (p == end || *p == '#')
		return true;
	key = p;
	klen = strcspn(p, ":");
	if (p + klen >= end || (p[klen + 1] != ' ' && p[klen + 1] != '\t' && p + klen + 1 != end)) {
		mp_error_set(err, MP_EX_DATAERR, "%s line %d: not `key: value`", path, line);
		return false;
	}
	if ((slot = config_slot(c, p, klen)) == NULL) {
		mp_error_set(err, MP_EX_DATAERR, "%s line %d: unknown key '%.*s' (uri, password, "
			"tlsCertificateKeyFilePassword)", path, line, (int)klen, p);
		return false;
	}
	if (*slot != NULL) {
		mp_error_set(err, MP_EX_DATAERR, "%s line %d: '%.*s' again", path, line, (int)klen, p);
		return false;
	}
	for (p += klen + 1; p < end && (*p == ' ' || *p == '\t');)
		p++;
	if ((v = config_value(p, end)) == NULL || *v == '\0') {
		mp_error_set(err, MP_EX_DATAERR, "%s line %d: %s value of '%.*s'", path, line,
			v ? "empty" : "unclosed quote or text after the", (int)klen, key);
		bson_free(v);
		return false;
	}
	*slot = v;
	return true;
}

bool
conn_config_parse(const char *text, const char *path, struct conn_config *out, bson_error_t *err)
{
	const char *p = text;

	memset(out, 0, sizeof *out);
	for (int line = 1; *p; line++) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);

		if (!config_line(out, p, end, path, line, err)) {
			diag_add_secret(out->password);
			diag_add_secret(out->tls_cert_key_password);
			conn_config_clear(out);
			return false;
		}
		p = nl ? nl + 1 : end;
	}
	diag_add_secret(out->password);
	diag_add_secret(out->tls_cert_key_password);
	return true;
}

bool
conn_config_read(const char *path, struct conn_config *out, bson_error_t *err)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n = 0, r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = false;

	memset(out, 0, sizeof *out);
	if (fd < 0 || fstat(fd, &st) != 0) {
		mp_error_set(err, MP_EX_NOINPUT, "cannot read config file %s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		mp_error_set(err, MP_EX_NOINPUT, "permissions %04o for config file %s are too open (chmod 600 it)",
			(unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	/* one byte more than is taken: a longer file is refused, never cut */
	buf = bson_malloc(CONFIG_MAX + 2);
	while (n <= CONFIG_MAX && (r = read(fd, buf + n, (size_t)(CONFIG_MAX + 1 - n))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			mp_error_set(err, MP_EX_NOINPUT, "cannot read config file %s: %s", path, strerror(errno));
			goto out;
		}
		n += r;
	}
	if (n > CONFIG_MAX) {
		mp_error_set(err, MP_EX_DATAERR, "config file %s is longer than %d bytes", path, CONFIG_MAX);
		goto out;
	}
	buf[n] = '\0';
	ok = conn_config_parse(buf, path, out, err);
out:
	if (buf)
		explicit_bzero(buf, CONFIG_MAX + 2);
	bson_free(buf);
	if (fd >= 0)
		close(fd);
	return ok;
}
