/*
 * mp-corpus: run MongoDB's BSON corpus (the BSON Corpus specification's test
 * files, fetched by tests/corpus/setup) through libcommon's document stream
 * reader and writer, as the tools use them.
 *
 *   mp-corpus check FILE...           every case of every file; exit 1 if any fails
 *   mp-corpus export DIR FILE...      sample streams for the tools (see export())
 *   mp-corpus compare canonical|relaxed FILE... <NDJSON
 *                                     the tool's NDJSON of DIR/valid.bson against
 *                                     the corpus' Extended JSON, line by line
 *
 * check prints one line per file, "ok FILE: ..." or "FAIL FILE: ...", with
 * the counts of valid, decodeErrors and parseErrors cases that passed, and
 * each failure below it.  The assertions are those of the specification for
 * a codec without an intermediate representation (BSON bytes are ours):
 *
 *   cB  read as BSON, written back byte for byte; as canonical Extended JSON
 *       it is cEJ, as relaxed rEJ (when given); both texts read back
 *   cEJ read as NDJSON is cB (unless lossy), written again it is cEJ
 *   dB  read as BSON, its canonical Extended JSON is cEJ (relaxed: rEJ)
 *   dEJ read as NDJSON is cB (unless lossy), its canonical text is cEJ
 *   rEJ read as NDJSON and written relaxed is rEJ
 *   decodeErrors: after a good document, the bytes end the read with exit
 *       status 65 and a message naming the record and its byte offset
 *   parseErrors: between two good lines, the line is refused with 65 naming
 *       record 2 and line 2, the reader can go on, and the third line reads
 *       (a decimal128 file's strings are wrapped in {"d": {"$numberDecimal"}})
 *
 * Extended JSON texts are compared after normalizing what JSON leaves free:
 * whitespace outside strings and the escaping of string characters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bson/bson.h>

#include "docstream.h"
#include "exitcode.h"

struct buf {
	char *p;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = bson_realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

/* ---- Extended JSON text normalization ---- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long
hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static void
put_codepoint(struct buf *b, unsigned long cp)
{
	char tmp[8];

	if (cp == '"' || cp == '\\') {
		buf_addc(b, '\\');
		buf_addc(b, (char)cp);
	} else if (cp < 0x20 || (cp >= 0xd800 && cp <= 0xdfff)) {
		snprintf(tmp, sizeof tmp, "\\u%04lx", cp);
		buf_add(b, tmp, 6);
	} else if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_addc(b, (char)(0xc0 | (cp >> 6)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addc(b, (char)(0xe0 | (cp >> 12)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_addc(b, (char)(0xf0 | (cp >> 18)));
		buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* The text without whitespace outside strings, every string character in
 * one spelling (escapes decoded, then only '"', '\' and controls escaped). */
static char *
normalize(const char *s)
{
	struct buf b = {0};
	const char *p = s;

	buf_add(&b, "", 0);
	while (*p) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			p++;
			continue;
		}
		if (*p != '"') {
			buf_addc(&b, *p++);
			continue;
		}
		buf_addc(&b, *p++);
		while (*p && *p != '"') {
			unsigned long cp;

			if (*p != '\\') {
				if ((unsigned char)*p < 0x20)
					put_codepoint(&b, (unsigned char)*p);
				else
					buf_addc(&b, *p);
				p++;
				continue;
			}
			p++;
			switch (*p) {
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u': {
				long v = hex4(p + 1);

				if (v < 0) {
					cp = 'u';
					break;
				}
				p += 4;
				cp = (unsigned long)v;
				if (cp >= 0xd800 && cp <= 0xdbff && p[1] == '\\' && p[2] == 'u') {
					long lo = hex4(p + 3);

					if (lo >= 0xdc00 && lo <= 0xdfff) {
						cp = 0x10000 + ((cp - 0xd800) << 10) + (unsigned long)(lo - 0xdc00);
						p += 6;
					}
				}
				break;
			}
			case '\0': cp = '\\'; p--; break;
			default: cp = (unsigned char)*p; break;
			}
			p++;
			put_codepoint(&b, cp);
		}
		if (*p == '"')
			buf_addc(&b, *p++);
	}
	return b.p;
}

/* ---- the reader and writer, on in-memory files ---- */

static int
memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("mp-corpus", MFD_CLOEXEC);
	const char *p = data;

	if (fd < 0) {
		perror("mp-corpus: memfd_create");
		exit(70);
	}
	while (len > 0) {
		ssize_t put = write(fd, p, len);

		if (put < 0) {
			perror("mp-corpus: write");
			exit(70);
		}
		p += put;
		len -= (size_t)put;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static char *
memfd_contents(int fd, size_t *len)
{
	struct buf b = {0};
	char chunk[4096];
	ssize_t got;

	buf_add(&b, "", 0);
	lseek(fd, 0, SEEK_SET);
	while ((got = read(fd, chunk, sizeof chunk)) > 0)
		buf_add(&b, chunk, (size_t)got);
	*len = b.len;
	return b.p;
}

/* Read one document from `data` as `format`; NULL with why set if the read
 * fails or does not give exactly one document. */
static bson_t *
read_one(const void *data, size_t len, enum docstream_format format, char *why, size_t whylen)
{
	struct docstream_reader_opts ro = {.format = format};
	struct docstream_reader *r;
	const bson_t *doc;
	bson_t *out = NULL;
	bson_error_t err;
	int fd = memfd_with(data, len), got;

	r = docstream_reader_open_fd(fd, "corpus", &ro, &err);
	if (r == NULL) {
		snprintf(why, whylen, "open: %s", err.message);
		goto out;
	}
	got = docstream_read(r, &doc, &err);
	if (got != 1) {
		snprintf(why, whylen, "%s", got < 0 ? err.message : "no document");
		goto out;
	}
	out = bson_copy(doc);
	got = docstream_read(r, &doc, &err);
	if (got != 0) {
		snprintf(why, whylen, "more than one document (%s)", got < 0 ? err.message : "a second one");
		bson_destroy(out);
		out = NULL;
	}
out:
	docstream_reader_destroy(r);
	close(fd);
	return out;
}

/* Write doc with a writer of `format` (and `json` mode); the bytes written,
 * NULL with why set on failure. */
static char *
write_one(const bson_t *doc, enum docstream_format format, enum docstream_json json, size_t *len, char *why,
	size_t whylen)
{
	struct docstream_writer_opts wo = {.format = format, .json = json};
	struct docstream_writer *w;
	bson_error_t err;
	char *out = NULL;
	int fd = memfd_with("", 0);

	w = docstream_writer_open_fd(fd, "corpus-out", &wo, &err);
	if (w == NULL || !docstream_write(w, doc, &err) || !docstream_writer_close(w, &err)) {
		snprintf(why, whylen, "%s", err.message);
		goto out;
	}
	out = memfd_contents(fd, len);
	if (format == DOCSTREAM_NDJSON) {
		if (*len == 0 || out[*len - 1] != '\n') {
			snprintf(why, whylen, "the NDJSON line does not end with a newline");
			bson_free(out);
			out = NULL;
			goto out;
		}
		out[--*len] = '\0';
	}
out:
	docstream_writer_destroy(w);
	close(fd);
	return out;
}

/* ---- the corpus files ---- */

static bson_t *
load_json_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = {0};
	char chunk[65536];
	size_t got;
	bson_error_t err;
	bson_t *doc;

	if (f == NULL) {
		fprintf(stderr, "mp-corpus: cannot open %s: %s\n", path, strerror(errno));
		exit(66);
	}
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, got);
	fclose(f);
	doc = bson_new_from_json((const uint8_t *)b.p, (ssize_t)b.len, &err);
	bson_free(b.p);
	if (doc == NULL) {
		fprintf(stderr, "mp-corpus: %s: %s\n", path, err.message);
		exit(65);
	}
	return doc;
}

static const char *
get_str(const bson_t *d, const char *key)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, d, key) && BSON_ITER_HOLDS_UTF8(&it))
		return bson_iter_utf8(&it, NULL);
	return NULL;
}

static bool
get_bool(const bson_t *d, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, d, key) && BSON_ITER_HOLDS_BOOL(&it) && bson_iter_bool(&it);
}

static uint8_t *
unhex(const char *s, size_t *len)
{
	size_t n = strlen(s) / 2;
	uint8_t *out = bson_malloc(n + 1);

	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(hexval(s[2 * i]) * 16 + hexval(s[2 * i + 1]));
	*len = n;
	return out;
}

/* Iterate the documents of the array `key` of the file. */
struct cases {
	bson_iter_t it;
	bool any;
	bson_t cur;
};

static bool
cases_init(struct cases *c, const bson_t *file, const char *key)
{
	bson_iter_t top;

	c->any = bson_iter_init_find(&top, file, key) && BSON_ITER_HOLDS_ARRAY(&top) && bson_iter_recurse(&top, &c->it);
	return c->any;
}

static bool
cases_next(struct cases *c)
{
	const uint8_t *data;
	uint32_t len;

	while (c->any && bson_iter_next(&c->it)) {
		if (!BSON_ITER_HOLDS_DOCUMENT(&c->it))
			continue;
		bson_iter_document(&c->it, &len, &data);
		if (bson_init_static(&c->cur, data, len))
			return true;
	}
	return false;
}

static bool
is_decimal_file(const bson_t *file)
{
	const char *t = get_str(file, "bson_type");

	return t && strcmp(t, "0x13") == 0;
}

/* The NDJSON line a parseErrors case stands for. */
static char *
parse_error_line(const bson_t *file, const char *s)
{
	struct buf b = {0};

	if (!is_decimal_file(file))
		return bson_strdup(s);
	buf_add(&b, "{\"d\": {\"$numberDecimal\": \"", 26);
	for (const char *p = s; *p; p++) {
		char tmp[8];

		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) {
			snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned char)*p);
			buf_add(&b, tmp, 6);
		} else {
			buf_addc(&b, *p);
		}
	}
	buf_add(&b, "\"}}", 3);
	return b.p;
}

/* ---- check ---- */

struct run {
	const char *file;
	int failures;
	struct buf report;
};

static void fail(struct run *r, const char *desc, const char *fmt, ...) BSON_GNUC_PRINTF(3, 4);

static void
fail(struct run *r, const char *desc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = bson_strdupv_printf(fmt, ap);
	va_end(ap);
	if (r->failures++ < 40) {
		char *line = bson_strdup_printf("  - '%s': %s\n", desc, msg);

		buf_add(&r->report, line, strlen(line));
		bson_free(line);
	}
	bson_free(msg);
}

static bool
same_bytes(struct run *r, const char *desc, const char *what, const bson_t *got, const uint8_t *want, size_t wlen)
{
	if (got->len == wlen && memcmp(bson_get_data(got), want, wlen) == 0)
		return true;
	{
		char *gh = bson_malloc(got->len * 2 + 1), *wh = bson_malloc(wlen * 2 + 1);

		for (uint32_t i = 0; i < got->len; i++)
			sprintf(gh + 2 * i, "%02X", bson_get_data(got)[i]);
		for (size_t i = 0; i < wlen; i++)
			sprintf(wh + 2 * i, "%02X", want[i]);
		gh[got->len * 2] = wh[wlen * 2] = '\0';
		fail(r, desc, "%s: got BSON %s, want %s", what, gh, wh);
		bson_free(gh);
		bson_free(wh);
	}
	return false;
}

/* doc written as `mode` NDJSON must be `want` (normalized). */
static bool
same_json(struct run *r, const char *desc, const char *what, const bson_t *doc, enum docstream_json mode,
	const char *want)
{
	char why[512], *got, *ng, *nw;
	size_t len;
	bool ok;

	got = write_one(doc, DOCSTREAM_NDJSON, mode, &len, why, sizeof why);
	if (got == NULL) {
		fail(r, desc, "%s: writing failed: %s", what, why);
		return false;
	}
	ng = normalize(got);
	nw = normalize(want);
	ok = strcmp(ng, nw) == 0;
	if (!ok)
		fail(r, desc, "%s: got %s, want %s", what, ng, nw);
	bson_free(ng);
	bson_free(nw);
	bson_free(got);
	return ok;
}

/* What the writer makes of doc in `mode`, the reader must take back. */
static void
reads_back(struct run *r, const char *desc, const bson_t *doc, enum docstream_json mode)
{
	char why[512], *text;
	size_t len;
	bson_t *back;

	text = write_one(doc, DOCSTREAM_NDJSON, mode, &len, why, sizeof why);
	if (text == NULL)
		return; /* same_json reported it */
	back = read_one(text, len, DOCSTREAM_NDJSON, why, sizeof why);
	if (back == NULL)
		fail(r, desc, "our %s output %s does not read back: %s",
			mode == DOCSTREAM_JSON_RELAXED ? "relaxed" : "canonical", text, why);
	bson_destroy(back);
	bson_free(text);
}

static bool
check_valid(struct run *r, const bson_t *c)
{
	const char *desc = get_str(c, "description"), *cbh = get_str(c, "canonical_bson");
	const char *cej = get_str(c, "canonical_extjson"), *rej = get_str(c, "relaxed_extjson");
	const char *dbh = get_str(c, "degenerate_bson"), *dej = get_str(c, "degenerate_extjson");
	bool lossy = get_bool(c, "lossy");
	int before = r->failures;
	uint8_t *cb;
	size_t cblen;
	char why[512];
	bson_t *d;

	if (desc == NULL)
		desc = "(no description)";
	if (cbh == NULL || cej == NULL) {
		fail(r, desc, "the case has no canonical_bson or canonical_extjson");
		return false;
	}
	cb = unhex(cbh, &cblen);

	/* cB */
	if ((d = read_one(cb, cblen, DOCSTREAM_BSON, why, sizeof why)) == NULL) {
		fail(r, desc, "cB: the BSON reader refused it: %s", why);
	} else {
		size_t len;
		char *bytes = write_one(d, DOCSTREAM_BSON, DOCSTREAM_JSON_CANONICAL, &len, why, sizeof why);

		same_bytes(r, desc, "cB read", d, cb, cblen);
		if (bytes == NULL)
			fail(r, desc, "cB: the BSON writer failed: %s", why);
		else if (len != cblen || memcmp(bytes, cb, len) != 0)
			fail(r, desc, "cB: the BSON writer changed the bytes");
		bson_free(bytes);
		same_json(r, desc, "cB -> canonical", d, DOCSTREAM_JSON_CANONICAL, cej);
		if (rej)
			same_json(r, desc, "cB -> relaxed", d, DOCSTREAM_JSON_RELAXED, rej);
		reads_back(r, desc, d, DOCSTREAM_JSON_CANONICAL);
		reads_back(r, desc, d, DOCSTREAM_JSON_RELAXED);
		bson_destroy(d);
	}

	/* cEJ */
	if ((d = read_one(cej, strlen(cej), DOCSTREAM_NDJSON, why, sizeof why)) == NULL) {
		fail(r, desc, "cEJ: the NDJSON reader refused it: %s", why);
	} else {
		if (!lossy)
			same_bytes(r, desc, "cEJ -> BSON", d, cb, cblen);
		same_json(r, desc, "cEJ -> canonical", d, DOCSTREAM_JSON_CANONICAL, cej);
		bson_destroy(d);
	}

	/* dB */
	if (dbh) {
		size_t dblen;
		uint8_t *db = unhex(dbh, &dblen);

		if ((d = read_one(db, dblen, DOCSTREAM_BSON, why, sizeof why)) == NULL) {
			fail(r, desc, "dB: the BSON reader refused it: %s", why);
		} else {
			same_json(r, desc, "dB -> canonical", d, DOCSTREAM_JSON_CANONICAL, cej);
			if (rej)
				same_json(r, desc, "dB -> relaxed", d, DOCSTREAM_JSON_RELAXED, rej);
			bson_destroy(d);
		}
		bson_free(db);
	}

	/* dEJ */
	if (dej) {
		if ((d = read_one(dej, strlen(dej), DOCSTREAM_NDJSON, why, sizeof why)) == NULL) {
			fail(r, desc, "dEJ: the NDJSON reader refused it: %s", why);
		} else {
			if (!lossy)
				same_bytes(r, desc, "dEJ -> BSON", d, cb, cblen);
			same_json(r, desc, "dEJ -> canonical", d, DOCSTREAM_JSON_CANONICAL, cej);
			bson_destroy(d);
		}
	}

	/* rEJ */
	if (rej) {
		if ((d = read_one(rej, strlen(rej), DOCSTREAM_NDJSON, why, sizeof why)) == NULL) {
			fail(r, desc, "rEJ: the NDJSON reader refused it: %s", why);
		} else {
			same_json(r, desc, "rEJ -> relaxed", d, DOCSTREAM_JSON_RELAXED, rej);
			bson_destroy(d);
		}
	}
	bson_free(cb);
	return r->failures == before;
}

/* A good document, then the bad bytes: the good one is delivered, then the
 * read fails with 65 naming a later record and its byte offset. */
static bool
check_decode_error(struct run *r, const bson_t *c)
{
	const char *desc = get_str(c, "description"), *h = get_str(c, "bson");
	static const uint8_t good[] = {0x05, 0, 0, 0, 0};
	struct docstream_reader_opts ro = {.format = DOCSTREAM_BSON};
	struct docstream_reader *rd = NULL;
	struct buf in = {0};
	const bson_t *doc;
	bson_error_t err;
	uint8_t *bad;
	size_t len;
	int fd, got, n = 0, before = r->failures;

	if (desc == NULL)
		desc = "(no description)";
	if (h == NULL) {
		fail(r, desc, "the case has no bson");
		return false;
	}
	bad = unhex(h, &len);
	buf_add(&in, good, sizeof good);
	buf_add(&in, bad, len);
	fd = memfd_with(in.p, in.len);
	rd = docstream_reader_open_fd(fd, "corpus", &ro, &err);
	if (rd == NULL) {
		fail(r, desc, "open: %s", err.message);
		goto out;
	}
	while ((got = docstream_read(rd, &doc, &err)) == 1)
		n++;
	if (got == 0) {
		fail(r, desc, "the BSON reader accepted it (%d documents)", n);
	} else if (n < 1) {
		fail(r, desc, "the good document before it was not delivered: %s", err.message);
	} else if (err.domain != MP_ERROR_DOMAIN || err.code != MP_EX_DATAERR) {
		fail(r, desc, "refused with status %u, want 65: %s", err.code, err.message);
	} else if (strstr(err.message, "record ") == NULL || strstr(err.message, "at byte offset ") == NULL ||
		   strstr(err.message, "record 1 ") != NULL) {
		fail(r, desc, "the message does not name the record and byte offset: %s", err.message);
	}
out:
	docstream_reader_destroy(rd);
	close(fd);
	bson_free(bad);
	bson_free(in.p);
	return r->failures == before;
}

/* A good line, the bad one, a good line: the bad one is refused with 65 as
 * record 2 on line 2, and the reader goes on to the third. */
static bool
check_parse_error(struct run *r, const bson_t *file, const bson_t *c)
{
	const char *desc = get_str(c, "description"), *s = get_str(c, "string");
	struct docstream_reader_opts ro = {.format = DOCSTREAM_NDJSON};
	struct docstream_reader *rd = NULL;
	struct buf in = {0};
	const bson_t *doc;
	bson_error_t err;
	char *line;
	int fd, got, before = r->failures;

	if (desc == NULL)
		desc = "(no description)";
	if (s == NULL) {
		fail(r, desc, "the case has no string");
		return false;
	}
	line = parse_error_line(file, s);
	if (strchr(line, '\n')) {
		fail(r, desc, "the case is not one line");
		bson_free(line);
		return false;
	}
	buf_add(&in, "{\"before\": 1}\n", 14);
	buf_add(&in, line, strlen(line));
	buf_add(&in, "\n{\"after\": 3}\n", 14);
	fd = memfd_with(in.p, in.len);
	rd = docstream_reader_open_fd(fd, "corpus", &ro, &err);
	if (rd == NULL) {
		fail(r, desc, "open: %s", err.message);
		goto out;
	}
	if (docstream_read(rd, &doc, &err) != 1) {
		fail(r, desc, "the good line before it was not read: %s", err.message);
		goto out;
	}
	got = docstream_read(rd, &doc, &err);
	if (got == 1) {
		char *j = bson_as_canonical_extended_json(doc, NULL);

		fail(r, desc, "the NDJSON reader accepted %s as %s", line, j ? j : "(not representable)");
		bson_free(j);
		goto out;
	}
	if (got != -1 || err.domain != MP_ERROR_DOMAIN || err.code != MP_EX_DATAERR) {
		fail(r, desc, "refused with status %u, want 65: %s", err.code, err.message);
		goto out;
	}
	if (strstr(err.message, "record 2 (line 2, byte offset 14)") == NULL)
		fail(r, desc, "the message does not name record 2, line 2: %s", err.message);
	if (!docstream_reader_can_continue(rd))
		fail(r, desc, "the reader cannot go on after it: %s", err.message);
	else if (docstream_read(rd, &doc, &err) != 1 || docstream_read(rd, &doc, &err) != 0)
		fail(r, desc, "the good line after it was not read");
out:
	docstream_reader_destroy(rd);
	close(fd);
	bson_free(line);
	bson_free(in.p);
	return r->failures == before;
}

static int
check(int argc, char **argv)
{
	int status = 0;

	for (int i = 0; i < argc; i++) {
		bson_t *file = load_json_file(argv[i]);
		const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
		struct run r = {.file = base};
		int vok = 0, vn = 0, dok = 0, dn = 0, pok = 0, pn = 0;
		struct cases c;

		cases_init(&c, file, "valid");
		while (cases_next(&c))
			vn++, vok += check_valid(&r, &c.cur);
		cases_init(&c, file, "decodeErrors");
		while (cases_next(&c))
			dn++, dok += check_decode_error(&r, &c.cur);
		cases_init(&c, file, "parseErrors");
		while (cases_next(&c))
			pn++, pok += check_parse_error(&r, file, &c.cur);
		printf("%s %s: %d/%d valid, %d/%d decodeErrors, %d/%d parseErrors\n", r.failures ? "FAIL" : "ok", base,
			vok, vn, dok, dn, pok, pn);
		if (r.report.p)
			fputs(r.report.p, stdout);
		if (r.failures > 40)
			printf("  ... and %d more failures\n", r.failures - 40);
		if (r.failures || vn + dn + pn == 0)
			status = 1;
		bson_free(r.report.p);
		bson_destroy(file);
	}
	return status;
}

/* ---- export and compare: samples for the tools ---- */

static void
save(const char *dir, const char *name, const void *p, size_t len)
{
	char *path = bson_strdup_printf("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "mp-corpus: cannot write %s\n", path);
		exit(73);
	}
	bson_free(path);
}

/*
 * DIR/valid.bson      every valid case's canonical BSON, in order
 * DIR/cej.ndjson      the canonical Extended JSON of every case that is not
 *                     lossy, and DIR/cej.bson its canonical BSON
 * DIR/decode-N.bson   each decodeErrors case after one good document
 * DIR/parse.ndjson    each parseErrors line after a good line {"n": k};
 *                     DIR/parse.count how many bad lines there are
 */
static int
export(const char *dir, int argc, char **argv)
{
	struct buf valid = {0}, cejn = {0}, cejb = {0}, parse = {0};
	static const uint8_t good[] = {0x05, 0, 0, 0, 0};
	int ndecode = 0, nparse = 0;
	char name[64];

	buf_add(&valid, "", 0);
	buf_add(&cejb, "", 0);
	buf_add(&cejn, "", 0);
	buf_add(&parse, "", 0);
	for (int i = 0; i < argc; i++) {
		bson_t *file = load_json_file(argv[i]);
		struct cases c;

		cases_init(&c, file, "valid");
		while (cases_next(&c)) {
			const char *cbh = get_str(&c.cur, "canonical_bson"), *cej = get_str(&c.cur, "canonical_extjson");
			size_t len;
			uint8_t *cb = unhex(cbh ? cbh : "", &len);

			buf_add(&valid, cb, len);
			if (!get_bool(&c.cur, "lossy") && cej) {
				buf_add(&cejb, cb, len);
				buf_add(&cejn, cej, strlen(cej));
				buf_addc(&cejn, '\n');
			}
			bson_free(cb);
		}
		cases_init(&c, file, "decodeErrors");
		while (cases_next(&c)) {
			struct buf one = {0};
			size_t len;
			uint8_t *bad = unhex(get_str(&c.cur, "bson") ? get_str(&c.cur, "bson") : "", &len);

			buf_add(&one, good, sizeof good);
			buf_add(&one, bad, len);
			snprintf(name, sizeof name, "decode-%d.bson", ++ndecode);
			save(dir, name, one.p, one.len);
			bson_free(one.p);
			bson_free(bad);
		}
		cases_init(&c, file, "parseErrors");
		while (cases_next(&c)) {
			char *line = parse_error_line(file, get_str(&c.cur, "string") ? get_str(&c.cur, "string") : "");

			snprintf(name, sizeof name, "{\"n\": %d}\n", ++nparse);
			buf_add(&parse, name, strlen(name));
			buf_add(&parse, line, strlen(line));
			buf_addc(&parse, '\n');
			bson_free(line);
		}
		bson_destroy(file);
	}
	save(dir, "valid.bson", valid.p, valid.len);
	save(dir, "cej.ndjson", cejn.p, cejn.len);
	save(dir, "cej.bson", cejb.p, cejb.len);
	save(dir, "parse.ndjson", parse.p, parse.len);
	snprintf(name, sizeof name, "%d\n", nparse);
	save(dir, "parse.count", name, strlen(name));
	bson_free(valid.p);
	bson_free(cejn.p);
	bson_free(cejb.p);
	bson_free(parse.p);
	return 0;
}

/* stdin has one line per valid case (a tool's NDJSON of DIR/valid.bson):
 * each must be the case's canonical (or relaxed, when the case gives it)
 * Extended JSON. */
static int
compare(const char *mode, int argc, char **argv)
{
	bool relaxed = strcmp(mode, "relaxed") == 0;
	char *line = NULL;
	size_t cap = 0;
	int n = 0, compared = 0, bad = 0;

	for (int i = 0; i < argc; i++) {
		bson_t *file = load_json_file(argv[i]);
		struct cases c;

		cases_init(&c, file, "valid");
		while (cases_next(&c)) {
			const char *want = relaxed ? get_str(&c.cur, "relaxed_extjson") : get_str(&c.cur, "canonical_extjson");
			ssize_t got = getline(&line, &cap, stdin);

			n++;
			if (got < 0) {
				printf("line %d: missing (%s: %s)\n", n, argv[i], get_str(&c.cur, "description"));
				bad++;
				break;
			}
			if (got > 0 && line[got - 1] == '\n')
				line[got - 1] = '\0';
			if (want) {
				char *ng = normalize(line), *nw = normalize(want);

				compared++;
				if (strcmp(ng, nw) != 0) {
					printf("line %d (%s: %s): got %s, want %s\n", n, argv[i],
						get_str(&c.cur, "description"), ng, nw);
					bad++;
				}
				bson_free(ng);
				bson_free(nw);
			}
		}
		bson_destroy(file);
	}
	if (getline(&line, &cap, stdin) > 0) {
		printf("more lines than valid cases\n");
		bad++;
	}
	free(line);
	printf("%d lines, %d compared, %d differ\n", n, compared, bad);
	return bad ? 1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "check") == 0)
		return check(argc - 2, argv + 2);
	if (argc >= 4 && strcmp(argv[1], "export") == 0)
		return export(argv[2], argc - 3, argv + 3);
	if (argc >= 4 && strcmp(argv[1], "compare") == 0 &&
	    (strcmp(argv[2], "canonical") == 0 || strcmp(argv[2], "relaxed") == 0))
		return compare(argv[2], argc - 3, argv + 3);
	fprintf(stderr, "usage: mp-corpus check FILE...\n"
			"       mp-corpus export DIR FILE...\n"
			"       mp-corpus compare canonical|relaxed FILE... <NDJSON\n");
	return 64;
}
