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

#include "docstream.h"
#include "ejson.h"
#include "ejsonint.h"
#include "exitcode.h"
#include "sig.h"

/* The fuzz build (make fuzz) sets a tiny chunk so that small inputs cross
 * every refill and buffer move. */
#ifndef DOCSTREAM_READ_CHUNK
#define DOCSTREAM_READ_CHUNK (256 * 1024)
#endif
#define READ_CHUNK DOCSTREAM_READ_CHUNK

struct docstream_reader {
	int fd;
	bool own_fd;
	char *name;
	enum docstream_format format;
	size_t max_doc;
	bool validate;

	/* decompression */
	bool gzip;
	z_stream zs;
	bool zs_ready;
	uint8_t *zin;
	size_t zin_cap;
	bool zs_member_done;

	bool raw_eof; /* the fd reported end of file */
	uint8_t *buf;
	size_t cap, start, end;
	uint64_t consumed; /* stream bytes before buf[start] */

	uint64_t record;
	uint64_t rec_offset;
	uint64_t line; /* lines consumed so far */
	uint64_t rec_line;
	const uint8_t *raw;
	size_t raw_len;
	bool dead;
	bool can_continue;

	struct ejson_buf jbuf; /* the BSON of the last NDJSON line */
	bson_t json;
	bson_t stat;
};

bool
docstream_format_parse(const char *s, enum docstream_format *out)
{
	if (strcmp(s, "bson") == 0)
		*out = DOCSTREAM_BSON;
	else if (strcmp(s, "ndjson") == 0 || strcmp(s, "json") == 0)
		*out = DOCSTREAM_NDJSON;
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

/* Ensure `need` bytes are buffered after start; false only on error.  Fewer
 * than `need` are available afterwards only at end of stream. */
static bool
fill(struct docstream_reader *r, size_t need, bson_error_t *err)
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
	if (!fill(r, 4, err))
		return false;
	if (r->format == DOCSTREAM_AUTO && r->end > r->start) {
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
	if (!detect(r, err)) {
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

	if (!fill(r, 4, err))
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
	if (!fill(r, len, err))
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

/* Length of the character starting at p, in a line known to be valid UTF-8. */
static size_t
utf8_char_len(const uint8_t *p, size_t avail)
{
	size_t n = p[0] < 0x80 ? 1 : p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;

	return n < avail ? n : avail;
}

static int
read_ndjson(struct docstream_reader *r, const bson_t **doc, bson_error_t *err)
{
	size_t max_line = r->max_doc * 4;

	for (;;) {
		size_t scanned = 0, len, end_len;
		uint8_t *p, *nl = NULL;
		struct ejson_error jerr;
		bool eof_line = false;

		for (;;) {
			size_t avail = r->end - r->start;

			nl = memchr(r->buf + r->start + scanned, '\n', avail - scanned);
			if (nl != NULL)
				break;
			scanned = avail;
			if (avail > max_line) {
				r->record++;
				r->rec_line = r->line + 1;
				r->rec_offset = r->consumed + r->start;
				r->raw = r->buf + r->start;
				r->raw_len = avail;
				r->dead = true;
				return fail_line(r, err, "line longer than %zu bytes", max_line);
			}
			if (!fill(r, avail + 1, err))
				return -1;
			if (r->end - r->start == avail) {
				eof_line = true;
				break;
			}
		}
		p = r->buf + r->start;
		len = nl ? (size_t)(nl - p) : r->end - r->start;
		if (len == 0 && eof_line)
			return 0;
		r->line++;
		r->rec_offset = r->consumed + r->start;
		r->start += len + (nl ? 1 : 0);
		end_len = len;
		while (end_len > 0 && (p[end_len - 1] == '\r' || p[end_len - 1] == ' ' || p[end_len - 1] == '\t'))
			end_len--;
		size_t lead = 0;
		while (lead < end_len && (p[lead] == ' ' || p[lead] == '\t'))
			lead++;
		if (lead == end_len)
			continue; /* blank line */
		r->record++;
		r->rec_line = r->line;
		r->raw = p;
		r->raw_len = len;
		if (memchr(p, 0, end_len))
			return fail_line(r, err, "NUL byte in a JSON line (BSON mixed into an NDJSON stream?)");
		if (p[lead] != '{') {
			if (ejson_utf8_char(p + lead, end_len - lead) == 0)
				return fail_line(r, err, "invalid UTF-8");
			return fail_line(r, err, "expected a JSON object, found '%.*s'",
				(int)utf8_char_len(p + lead, end_len - lead), (const char *)p + lead);
		}
		/* UTF-8 is checked by the parser, in strings, the only place
		 * other than errors where it may stand */
		if (!ejson_parse((const char *)p + lead, end_len - lead, &r->jbuf, &jerr))
			return fail_line(r, err, "invalid %sJSON: %s (column %zu)", jerr.extended ? "Extended " : "",
				jerr.msg, lead + jerr.offset + 1);
		if (r->jbuf.len > r->max_doc)
			return fail_line(r, err, "document of %zu bytes exceeds the limit of %zu bytes",
				r->jbuf.len, r->max_doc);
		bson_init_static(&r->json, r->jbuf.p, r->jbuf.len);
		*doc = &r->json;
		return 1;
	}
}

int
docstream_read(struct docstream_reader *r, const bson_t **doc, bson_error_t *err)
{
	*doc = NULL;
	r->raw = NULL;
	r->raw_len = 0;
	if (r->dead) {
		r->can_continue = false;
		mp_error_set(err, MP_EX_DATAERR, "%s: stream cannot be read past record %llu", r->name,
			(unsigned long long)r->record);
		return -1;
	}
	/* only a skippable bad record sets it: an I/O error is never skipped */
	r->can_continue = false;
	if (r->format == DOCSTREAM_AUTO) {
		if (!fill(r, 4, err))
			return -1;
		if (r->end == r->start)
			return 0;
		size_t n = r->end - r->start < 4 ? r->end - r->start : 4;
		r->format = memchr(r->buf + r->start, 0, n) ? DOCSTREAM_BSON : DOCSTREAM_NDJSON;
	}
	return r->format == DOCSTREAM_BSON ? read_bson(r, doc, err) : read_ndjson(r, doc, err);
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
	if (r->format == DOCSTREAM_NDJSON)
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
	return r->format == DOCSTREAM_NDJSON ? r->rec_line : 0;
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

void
docstream_reader_destroy(struct docstream_reader *r)
{
	if (r == NULL)
		return;
	if (r->zs_ready)
		inflateEnd(&r->zs);
	if (r->own_fd)
		close(r->fd);
	ejson_buf_free(&r->jbuf);
	bson_free(r->zin);
	bson_free(r->buf);
	bson_free(r->name);
	free(r);
}
