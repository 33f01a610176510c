/*
 * docreader.c: the document stream reader (BSON or NDJSON, plain or gzip).
 *
 * Bytes flow fd -> [inflate] -> buf; records are cut from buf.  A BSON
 * record is handed out in place (bson_init_static on buf), an NDJSON line is
 * parsed (ejson.h) into r->jbuf, handed out as r->json.  Framing errors (a bad length, a missing terminator, a
 * truncated document) end the stream; content errors skip one record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "docreaderint.h"
#include "ejsonint.h"
#include "exitcode.h"
#include "sig.h"

/* The fuzz build (make fuzz) sets a tiny chunk so that small inputs cross
 * every refill and buffer move. */
#ifndef DOCSTREAM_READ_CHUNK
#define DOCSTREAM_READ_CHUNK (256 * 1024)
#endif
#define READ_CHUNK DOCSTREAM_READ_CHUNK

/* mongodump's archive starts with 0x8199e26d, little-endian; its prelude
 * and segments end with -1 as a document length. */
#define ARCHIVE_MAGIC_BYTES "\x6d\xe2\x99\x81"
#define ARCHIVE_TERMINATOR "\xff\xff\xff\xff"

bool
docstream_format_parse(const char *s, bool tabular, enum docstream_format *out)
{
	if (strcmp(s, "bson") == 0)
		*out = DOCSTREAM_BSON;
	else if (strcmp(s, "ndjson") == 0 || strcmp(s, "json") == 0)
		*out = DOCSTREAM_NDJSON;
	else if (tabular && strcmp(s, "csv") == 0)
		*out = DOCSTREAM_CSV;
	else if (tabular && strcmp(s, "tsv") == 0)
		*out = DOCSTREAM_TSV;
	else
		return false;
	return true;
}

bool
docstream_json_parse(const char *s, enum docstream_json *out)
{
	if (strcmp(s, "canonical") == 0)
		*out = DOCSTREAM_JSON_CANONICAL;
	else if (strcmp(s, "relaxed") == 0)
		*out = DOCSTREAM_JSON_RELAXED;
	else
		return false;
	return true;
}

const char *
docstream_format_name(enum docstream_format f)
{
	switch (f) {
	case DOCSTREAM_BSON:
		return "bson";
	case DOCSTREAM_NDJSON:
		return "ndjson";
	case DOCSTREAM_ARCHIVE:
		return "archive";
	case DOCSTREAM_CSV:
		return "csv";
	case DOCSTREAM_TSV:
		return "tsv";
	default:
		return "auto";
	}
}

static ssize_t
read_fd(struct docstream_reader *r, uint8_t *dst, size_t n, bson_error_t *err)
{
	for (;;) {
		ssize_t got = read(r->fd, dst, n);

		if (got >= 0) {
			if (got == 0)
				r->raw_eof = true;
			return got;
		}
		if (errno == EINTR && !sig_stop_requested())
			continue;
		if (errno == EINTR) {
			mp_error_set(err, MP_EX_TEMPFAIL, "%s: interrupted by a signal", r->name);
			return -1;
		}
		mp_error_set(err, MP_EX_IOERR, "%s: read error: %s", r->name, strerror(errno));
		return -1;
	}
}

/* Make room for at least `need` bytes after r->start. */
static void
make_room(struct docstream_reader *r, size_t need)
{
	if (r->start > 0 && (r->cap - r->start < need || r->start == r->end)) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->consumed += r->start;
		r->start = 0;
	}
	if (r->cap < need) {
		size_t cap = r->cap;

		while (cap < need)
			cap *= 2;
		r->buf = bson_realloc(r->buf, cap);
		r->cap = cap;
	}
}

/* Inflate into buf[end..cap); returns bytes produced, 0 at end, -1 error. */
static ssize_t
fill_gzip(struct docstream_reader *r, bson_error_t *err)
{
	for (;;) {
		int zr;
		size_t before;

		if (r->zs.avail_in == 0 && !r->raw_eof) {
			ssize_t got = read_fd(r, r->zin, r->zin_cap, err);

			if (got < 0)
				return -1;
			r->zs.next_in = r->zin;
			r->zs.avail_in = (uInt)got;
		}
		if (r->zs.avail_in == 0 && r->raw_eof) {
			if (!r->zs_member_done) {
				mp_error_set(err, MP_EX_DATAERR,
					"%s: truncated gzip stream at byte offset %llu of the decompressed data",
					r->name, (unsigned long long)(r->consumed + r->end));
				return -1;
			}
			return 0;
		}
		if (r->zs_member_done) {
			/* another gzip member follows (concatenated .gz files) */
			if (inflateReset(&r->zs) != Z_OK) {
				mp_error_set(err, MP_EX_SOFTWARE, "%s: inflateReset failed", r->name);
				return -1;
			}
			r->zs_member_done = false;
		}
		before = r->end;
		r->zs.next_out = r->buf + r->end;
		r->zs.avail_out = (uInt)(r->cap - r->end);
		zr = inflate(&r->zs, Z_NO_FLUSH);
		r->end = r->cap - r->zs.avail_out;
		if (zr == Z_STREAM_END) {
			r->zs_member_done = true;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			mp_error_set(err, MP_EX_DATAERR, "%s: corrupt gzip data: %s", r->name,
				r->zs.msg ? r->zs.msg : "inflate failed");
			return -1;
		}
		if (r->end > before)
			return (ssize_t)(r->end - before);
	}
}

bool
docreader_fill(struct docstream_reader *r, size_t need, bson_error_t *err)
{
	while (r->end - r->start < need) {
		ssize_t got;

		make_room(r, need < READ_CHUNK ? READ_CHUNK : need);
		if (r->gzip) {
			got = fill_gzip(r, err);
		} else {
			if (r->raw_eof)
				return true;
			got = read_fd(r, r->buf + r->end, r->cap - r->end, err);
			if (got > 0)
				r->end += (size_t)got;
		}
		if (got < 0)
			return false;
		if (got == 0)
			return true;
	}
	return true;
}

static bool
detect(struct docstream_reader *r, bson_error_t *err)
{
	uint8_t head[2];
	ssize_t got = 0;
	size_t have = 0;

	/* Peek at the raw bytes for the gzip magic. */
	while (have < 2) {
		got = read_fd(r, r->zin + have, r->zin_cap - have, err);
		if (got < 0)
			return false;
		if (got == 0)
			break;
		have += (size_t)got;
	}
	memcpy(head, r->zin, have < 2 ? have : 2);
	if (have >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
		r->gzip = true;
		memset(&r->zs, 0, sizeof r->zs);
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK) {
			mp_error_set(err, MP_EX_SOFTWARE, "%s: inflateInit failed", r->name);
			return false;
		}
		r->zs_ready = true;
		r->zs.next_in = r->zin;
		r->zs.avail_in = (uInt)have;
	} else {
		make_room(r, have);
		memcpy(r->buf, r->zin, have);
		r->end = have;
	}
	if (!docreader_fill(r, 4, err))
		return false;
	if (r->format == DOCSTREAM_AUTO && r->end - r->start >= 4 &&
	    memcmp(r->buf + r->start, ARCHIVE_MAGIC_BYTES, 4) == 0) {
		r->format = DOCSTREAM_ARCHIVE;
		r->start += 4;
	} else if (r->format == DOCSTREAM_AUTO && r->end > r->start) {
		size_t n = r->end - r->start < 4 ? r->end - r->start : 4;

		r->format = memchr(r->buf + r->start, 0, n) ? DOCSTREAM_BSON : DOCSTREAM_NDJSON;
	}
	return true;
}

struct docstream_reader *
docstream_reader_open_fd(int fd, const char *name, const struct docstream_reader_opts *opts,
	bson_error_t *err)
{
	/* bson_t (r->stat) wants 128-byte alignment, more than malloc gives */
	size_t size = (sizeof(struct docstream_reader) + 127) / 128 * 128;
	struct docstream_reader *r = aligned_alloc(128, size);

	memset(r, 0, size);
	r->fd = fd;
	r->name = bson_strdup(name ? name : "(stdin)");
	r->format = opts ? opts->format : DOCSTREAM_AUTO;
	r->max_doc = opts && opts->max_doc ? opts->max_doc : DOCSTREAM_DEFAULT_MAX_DOC;
	r->validate = !(opts && opts->no_validate);
	r->cap = READ_CHUNK;
	r->buf = bson_malloc(r->cap);
	r->zin_cap = READ_CHUNK;
	r->zin = bson_malloc(r->zin_cap);
	r->can_continue = true;
	if (!detect(r, err) ||
	    ((r->format == DOCSTREAM_CSV || r->format == DOCSTREAM_TSV) && !docreader_csv_open(r, opts->csv, err))) {
		docstream_reader_destroy(r);
		return NULL;
	}
	return r;
}

struct docstream_reader *
docstream_reader_open(const char *path, const struct docstream_reader_opts *opts,
	bson_error_t *err)
{
	struct docstream_reader *r;
	int fd;

	if (path == NULL || strcmp(path, "-") == 0)
		return docstream_reader_open_fd(STDIN_FILENO, "(stdin)", opts, err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		mp_error_set(err, MP_EX_NOINPUT, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	r = docstream_reader_open_fd(fd, path, opts, err);
	if (r == NULL) {
		close(fd);
		return NULL;
	}
	r->own_fd = true;
	return r;
}

static int
fail_framing(struct docstream_reader *r, bson_error_t *err, const char *fmt, ...)
	BSON_GNUC_PRINTF(3, 4);

static int
fail_framing(struct docstream_reader *r, bson_error_t *err, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	mp_error_set(err, MP_EX_DATAERR, "%s: record %llu at byte offset %llu: %s", r->name,
		(unsigned long long)r->record, (unsigned long long)r->rec_offset, what);
	r->dead = true;
	r->can_continue = false;
	return -1;
}

static bool
looks_like_text(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x09 || (p[i] > 0x0d && p[i] < 0x20) || p[i] > 0x7e)
			return false;
	return true;
}

static int
read_bson(struct docstream_reader *r, const bson_t **doc, bson_error_t *err)
{
	const uint8_t *p;
	size_t avail;
	uint32_t len;
	char why[256];

	if (!docreader_fill(r, 4, err))
		return -1;
	avail = r->end - r->start;
	if (avail == 0)
		return 0;
	r->record++;
	r->rec_offset = r->consumed + r->start;
	p = r->buf + r->start;
	r->raw = p;
	r->raw_len = avail < 4 ? avail : 4;
	if (avail < 4)
		return fail_framing(r, err, "truncated length prefix (%zu of 4 bytes before end of stream)",
			avail);
	memcpy(&len, p, 4);
	len = BSON_UINT32_FROM_LE(len);
	if (len < 5)
		return fail_framing(r, err, "invalid document length %u (a BSON document has at least 5 bytes)",
			len);
	if (len > r->max_doc)
		return fail_framing(r, err, "document length %u exceeds the limit of %zu bytes%s", len,
			r->max_doc,
			looks_like_text(p, 4) ? " (the bytes look like text: NDJSON mixed into a BSON stream?)" : "");
	if (!docreader_fill(r, len, err))
		return -1;
	avail = r->end - r->start;
	p = r->buf + r->start;
	r->raw = p;
	r->raw_len = avail < len ? avail : len;
	if (avail < len)
		return fail_framing(r, err, "truncated document: length %u but only %zu bytes before end of stream",
			len, avail);
	if (p[len - 1] != 0)
		return fail_framing(r, err, "document of length %u does not end with a NUL terminator byte", len);
	r->start += len;
	if (!bson_init_static(&r->stat, p, len)) {
		r->can_continue = true;
		mp_error_set(err, MP_EX_DATAERR, "%s: record %llu at byte offset %llu: corrupt BSON document",
			r->name, (unsigned long long)r->record, (unsigned long long)r->rec_offset);
		return -1;
	}
	if (r->validate && !docstream_check_bytes(p, len, why, sizeof why)) {
		r->can_continue = true;
		mp_error_set(err, MP_EX_DATAERR, "%s: record %llu at byte offset %llu: invalid BSON: %s",
			r->name, (unsigned long long)r->record, (unsigned long long)r->rec_offset, why);
		return -1;
	}
	*doc = &r->stat;
	return 1;
}

static int
fail_line(struct docstream_reader *r, bson_error_t *err, const char *fmt, ...)
	BSON_GNUC_PRINTF(3, 4);

static int
fail_line(struct docstream_reader *r, bson_error_t *err, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	mp_error_set(err, MP_EX_DATAERR, "%s: record %llu (line %llu, byte offset %llu): %s", r->name,
		(unsigned long long)r->record, (unsigned long long)r->rec_line,
		(unsigned long long)r->rec_offset, what);
	r->can_continue = !r->dead;
	return -1;
}

/*
 * NDJSON, and JSON as people write it.  One object per line is the fast
 * path; an object over several lines (jq's pretty output), several objects
 * on one line, and a top-level array of objects (jq -s, mongoexport
 * --jsonArray) are read too.  A record is one object, named by the line
 * where it starts; a bad one is skipped and the reader goes on.
 */

/* Skip whitespace, counting lines, and in an array the ',' between its
 * objects and the ']' that ends it.  0 at the end of the stream, -1 on an
 * I/O error, 1 at the next record. */
static int
ndjson_skip_space(struct docstream_reader *r, bson_error_t *err)
{
	for (;;) {
		uint8_t c;

		if (r->start == r->end) {
			if (!docreader_fill(r, 1, err))
				return -1;
			if (r->start == r->end)
				return 0;
		}
		c = r->buf[r->start];
		if (c == '\n') {
			r->line++;
			r->line_start = r->consumed + r->start + 1;
		} else if (c == ']' && r->in_array) {
			r->in_array = false;
		} else if (!(c == ' ' || c == '\t' || c == '\r' || (c == ',' && r->in_array))) {
			return 1;
		}
		r->start++;
	}
}

/* Move past n bytes at buf[start] that are the record's, counting lines. */
static void
ndjson_consume(struct docstream_reader *r, size_t n)
{
	const uint8_t *p = r->buf + r->start, *q = p;

	while ((q = memchr(q, '\n', n - (size_t)(q - p))) != NULL) {
		r->line++;
		r->line_start = r->consumed + r->start + (size_t)(q - p) + 1;
		q++;
	}
	r->raw = p;
	r->raw_len = n;
	r->start += n;
}

/* The rest of the line at buf[start] (without its newline), filling the
 * buffer up to max bytes; NULL-free: *len may be short of the line's end
 * when the line is longer than max. */
static bool
ndjson_line(struct docstream_reader *r, size_t max, size_t *len, bson_error_t *err)
{
	size_t scanned = 0;

	for (;;) {
		size_t avail = r->end - r->start;
		const uint8_t *nl = memchr(r->buf + r->start + scanned, '\n', avail - scanned);

		if (nl != NULL || avail > max) {
			*len = nl ? (size_t)(nl - r->buf - r->start) : avail;
			return true;
		}
		scanned = avail;
		if (!docreader_fill(r, avail + 1, err))
			return false;
		if (r->end - r->start == avail) {
			*len = avail;
			return true;
		}
	}
}

/* A record that is not an object: the rest of its line is skipped. */
static int
ndjson_not_object(struct docstream_reader *r, bson_error_t *err)
{
	size_t len, k, max = r->max_doc * 4;
	const uint8_t *p;

	if (!ndjson_line(r, max, &len, err))
		return -1;
	ndjson_consume(r, len);
	p = r->raw;
	if (len > max) {
		r->dead = true;
		return fail_line(r, err, "line longer than %zu bytes", max);
	}
	if (memchr(p, 0, len))
		return fail_line(r, err, "NUL byte in a JSON line (BSON mixed into an NDJSON stream?)");
	if ((k = ejson_utf8_char(p, len)) == 0)
		return fail_line(r, err, "invalid UTF-8");
	return fail_line(r, err, "expected a JSON object, found '%.*s'", (int)k, (const char *)p);
}

/* The document parsed into r->jbuf, handed out (within --max-doc). */
static int
ndjson_deliver(struct docstream_reader *r, const bson_t **doc, bson_error_t *err)
{
	if (r->jbuf.len > r->max_doc)
		return fail_line(r, err, "document of %zu bytes exceeds the limit of %zu bytes", r->jbuf.len,
			r->max_doc);
	bson_init_static(&r->json, r->jbuf.p, r->jbuf.len);
	*doc = &r->json;
	return 1;
}

/* Parse p[0..len), the record; an error names its column, and its line
 * too when the object spans several. */
static int
ndjson_parse(struct docstream_reader *r, const uint8_t *p, size_t len, const bson_t **doc, bson_error_t *err)
{
	struct ejson_error jerr;

	if (!ejson_parse((const char *)p, len, &r->jbuf, &jerr)) {
		const char *ext = jerr.extended ? "Extended " : "";
		const uint8_t *nl = NULL, *q = p;
		uint64_t line = r->rec_line;

		while ((q = memchr(q, '\n', jerr.offset - (size_t)(q - p))) != NULL)
			line++, nl = ++q;
		if (nl != NULL)
			return fail_line(r, err, "invalid %sJSON: %s (line %llu, column %zu)", ext, jerr.msg,
				(unsigned long long)line, jerr.offset - (size_t)(nl - p) + 1);
		return fail_line(r, err, "invalid %sJSON: %s (column %llu)", ext, jerr.msg,
			(unsigned long long)(r->rec_offset - r->rec_line_start + jerr.offset + 1));
	}
	return ndjson_deliver(r, doc, err);
}

/*
 * The end of the object at buf[start], strings and escapes followed so that
 * braces in them do not count: *span is the offset after its closing brace.
 * A line that starts with '{' while it is still open ends it there (*open
 * stays true), so that a broken record does not swallow those after it; so
 * does a NUL byte.  False on an I/O error; at the end of the stream *span
 * is what there is, *open true.
 */
static bool
ndjson_scan(struct docstream_reader *r, size_t max, size_t *span, bool *open, bson_error_t *err)
{
	size_t i = 0, depth = 0;
	bool in_str = false;

	*open = true;
	for (;;) {
		const uint8_t *b = r->buf + r->start;
		size_t avail = r->end - r->start;

		for (; i < avail; i++) {
			uint8_t c = b[i];

			if (c == 0 || (c == '{' && depth > 0 && b[i - 1] == '\n')) {
				*span = i;
				return true;
			}
			if (in_str) {
				i += c == '\\' && i + 1 < avail && b[i + 1] != '\n';
				in_str = c != '"' && c != '\n'; /* a raw newline: the parser says why */
			} else if (c == '"') {
				in_str = true;
			} else if (c == '{' || c == '[') {
				depth++;
			} else if ((c == '}' || c == ']') && --depth == 0) {
				*span = i + 1;
				*open = false;
				return true;
			}
		}
		*span = avail;
		if (avail > max)
			return true;
		if (!docreader_fill(r, avail * 2 > READ_CHUNK ? avail * 2 : READ_CHUNK, err))
			return false; /* an I/O error is never the end of the stream */
		if (r->end - r->start == avail)
			return true;
	}
}

/* The general path: an object found by its braces, over as many lines as
 * it takes. */
static int
ndjson_object(struct docstream_reader *r, const bson_t **doc, bson_error_t *err)
{
	size_t max = r->max_doc * 4, span;
	bool open;
	int rc;

	if (!ndjson_scan(r, max, &span, &open, err))
		return -1;
	ndjson_consume(r, span);
	if (span > max) {
		r->dead = true;
		return fail_line(r, err, "line longer than %zu bytes", max);
	}
	if (r->start < r->end && r->buf[r->start] == 0) {
		size_t len;

		/* the rest of the line goes with it */
		if (!ndjson_line(r, max, &len, err))
			return -1;
		r->start += len;
		r->raw_len += len;
		return fail_line(r, err, "NUL byte in a JSON line (BSON mixed into an NDJSON stream?)");
	}
	/* an object left open fails to parse: the parser names where (the
	 * end of its last line, not the start of the next) */
	while (span > 0 && (r->raw[span - 1] == '\n' || r->raw[span - 1] == '\r'))
		span--;
	r->raw_len = span; /* a rejected record is its lines, without the last newline */
	while (span > 0 && (r->raw[span - 1] == ' ' || r->raw[span - 1] == '\t'))
		span--;
	if ((rc = ndjson_parse(r, r->raw, span, doc, err)) == 1 && open)
		return fail_line(r, err, "unterminated JSON object");
	return rc;
}

/* The fast path: a line that holds one object and nothing else.  0 when
 * the line is something else (the general path reads it). */
static int
ndjson_fast(struct docstream_reader *r, const bson_t **doc, bson_error_t *err)
{
	const uint8_t *p = r->buf + r->start, *nl = memchr(p, '\n', r->end - r->start);
	size_t len;
	struct ejson_error jerr;

	if (nl == NULL || r->in_array)
		return 0;
	len = (size_t)(nl - p);
	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	/* a line that does not parse (a NUL byte never does) goes to the
	 * general path, which says why */
	if (len == 0 || p[len - 1] != '}' || !ejson_parse((const char *)p, len, &r->jbuf, &jerr))
		return 0;
	ndjson_consume(r, (size_t)(nl - p));
	return ndjson_deliver(r, doc, err);
}

static int
read_ndjson(struct docstream_reader *r, const bson_t **doc, bson_error_t *err)
{
	for (;;) {
		int rc = ndjson_skip_space(r, err);

		if (rc <= 0)
			return rc;
		r->record++;
		r->rec_line = r->line + 1;
		r->rec_offset = r->consumed + r->start;
		r->rec_line_start = r->line_start;
		if (r->buf[r->start] == '[' && !r->in_array) {
			/* an array of objects: its objects are the records */
			r->in_array = true;
			r->record--;
			r->start++;
			continue;
		}
		if (r->buf[r->start] != '{')
			return ndjson_not_object(r, err);
		if ((rc = ndjson_fast(r, doc, err)) != 0)
			return rc;
		return ndjson_object(r, doc, err);
	}
}

/* Before each read: forget the last record; false (with err) on a stream
 * that cannot be read further. */
static bool
read_begin(struct docstream_reader *r, const bson_t **doc, bson_error_t *err)
{
	*doc = NULL;
	r->raw = NULL;
	r->raw_len = 0;
	/* only a skippable bad record sets it: an I/O error is never skipped */
	r->can_continue = false;
	if (r->dead)
		mp_error_set(err, MP_EX_DATAERR, "%s: stream cannot be read past record %llu", r->name,
			(unsigned long long)r->record);
	return !r->dead;
}

int
docstream_read_archive(struct docstream_reader *r, const bson_t **doc, bson_error_t *err)
{
	if (!read_begin(r, doc, err) || !docreader_fill(r, 4, err))
		return -1;
	if (r->end - r->start >= 4 && memcmp(r->buf + r->start, ARCHIVE_TERMINATOR, 4) == 0) {
		r->start += 4;
		return 2;
	}
	return read_bson(r, doc, err);
}

int
docstream_read(struct docstream_reader *r, const bson_t **doc, bson_error_t *err)
{
	if (!read_begin(r, doc, err))
		return -1;
	if (r->format == DOCSTREAM_ARCHIVE) {
		mp_error_set(err, MP_EX_DATAERR, "%s is a mongodump archive, not a document stream "
			"(mongo-load-bson reads it)", r->name);
		r->dead = true;
		return -1;
	}
	if (r->format == DOCSTREAM_AUTO) {
		if (!docreader_fill(r, 4, err))
			return -1;
		if (r->end == r->start)
			return 0;
		size_t n = r->end - r->start < 4 ? r->end - r->start : 4;
		r->format = memchr(r->buf + r->start, 0, n) ? DOCSTREAM_BSON : DOCSTREAM_NDJSON;
	}
	r->row_skipped = false;
	if (r->csv != NULL)
		return docreader_csv_read(r, doc, err);
	return r->format == DOCSTREAM_BSON ? read_bson(r, doc, err) : read_ndjson(r, doc, err);
}

bool
docstream_reader_row_skipped(const struct docstream_reader *r)
{
	return r->row_skipped;
}

bool
docstream_reader_can_continue(const struct docstream_reader *r)
{
	return r->can_continue && !r->dead;
}

const uint8_t *
docstream_reader_raw(const struct docstream_reader *r, size_t *len)
{
	*len = r->raw_len;
	return r->raw;
}

void
docstream_reader_where(const struct docstream_reader *r, char *buf, size_t len)
{
	if (r->format == DOCSTREAM_NDJSON || r->csv != NULL)
		snprintf(buf, len, "%s: record %llu (line %llu, byte offset %llu)", r->name,
			(unsigned long long)r->record, (unsigned long long)r->rec_line,
			(unsigned long long)r->rec_offset);
	else
		snprintf(buf, len, "%s: record %llu at byte offset %llu", r->name, (unsigned long long)r->record,
			(unsigned long long)r->rec_offset);
}

uint64_t
docstream_reader_record(const struct docstream_reader *r)
{
	return r->record;
}

uint64_t
docstream_reader_offset(const struct docstream_reader *r)
{
	return r->rec_offset;
}

uint64_t
docstream_reader_line(const struct docstream_reader *r)
{
	return r->format == DOCSTREAM_NDJSON || r->csv != NULL ? r->rec_line : 0;
}

uint64_t
docstream_reader_bytes(const struct docstream_reader *r)
{
	return r->consumed + r->start;
}

enum docstream_format
docstream_reader_format(const struct docstream_reader *r)
{
	return r->format;
}

bool
docstream_reader_gzip(const struct docstream_reader *r)
{
	return r->gzip;
}

const char *
docstream_reader_name(const struct docstream_reader *r)
{
	return r->name;
}

void
docstream_reader_destroy(struct docstream_reader *r)
{
	if (r == NULL)
		return;
	if (r->zs_ready)
		inflateEnd(&r->zs);
	docreader_csv_free(r);
	if (r->own_fd)
		close(r->fd);
	ejson_buf_free(&r->jbuf);
	bson_free(r->zin);
	bson_free(r->buf);
	bson_free(r->name);
	free(r);
}
