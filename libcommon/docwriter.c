/*
 * docwriter.c: the document stream writer (BSON or NDJSON, plain or gzip).
 *
 * Records are appended to a buffer that is compressed (gzip) and written
 * with write(2) loops that report every failure.  A path is written through
 * "<path>.tmp.XXXXXX" and renamed into place only by a successful close.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "checkpoint.h"
#include "docstream.h"
#include "exitcode.h"

#define WBUF_SIZE (1024 * 1024)

struct docstream_writer {
	int fd;
	bool own_fd;
	char *name;
	char *path;    /* final path, NULL for an fd */
	char *tmppath; /* temporary file until close */
	enum docstream_format format;
	enum docstream_json json;

	bool gzip;
	z_stream zs;
	bool zs_ready;
	uint8_t *zbuf;

	uint8_t *buf;
	size_t len;

	uint64_t docs, bytes;
	bool broken_pipe;
	bool failed;
	bool closed;
};

char *
docstream_to_json(const bson_t *doc, enum docstream_json mode, size_t *len)
{
	return mode == DOCSTREAM_JSON_RELAXED ? bson_as_relaxed_extended_json(doc, len)
					      : bson_as_canonical_extended_json(doc, len);
}

static bool
write_all(struct docstream_writer *w, const uint8_t *p, size_t n, bson_error_t *err)
{
	while (n > 0) {
		ssize_t put = write(w->fd, p, n > SSIZE_MAX ? SSIZE_MAX : n);

		if (put < 0) {
			if (errno == EINTR)
				continue;
			w->failed = true;
			if (errno == EPIPE) {
				w->broken_pipe = true;
				mp_error_set(err, MP_EX_IOERR, "%s: the reading end of the pipe was closed",
					w->name);
			} else {
				mp_error_set(err, MP_EX_IOERR, "%s: write error: %s", w->name, strerror(errno));
			}
			return false;
		}
		p += put;
		n -= (size_t)put;
	}
	return true;
}

/* Send buf through deflate (flush: Z_NO_FLUSH, Z_SYNC_FLUSH or Z_FINISH). */
static bool
drain(struct docstream_writer *w, int flush, bson_error_t *err)
{
	if (w->failed) {
		mp_error_set(err, MP_EX_IOERR, "%s: output failed earlier", w->name);
		return false;
	}
	if (!w->gzip) {
		bool ok = write_all(w, w->buf, w->len, err);

		w->len = 0;
		return ok;
	}
	w->zs.next_in = w->buf;
	w->zs.avail_in = (uInt)w->len;
	for (;;) {
		int zr;

		w->zs.next_out = w->zbuf;
		w->zs.avail_out = WBUF_SIZE;
		zr = deflate(&w->zs, flush);
		if (zr == Z_STREAM_ERROR) {
			mp_error_set(err, MP_EX_SOFTWARE, "%s: deflate failed", w->name);
			return false;
		}
		if (!write_all(w, w->zbuf, WBUF_SIZE - w->zs.avail_out, err))
			return false;
		if (w->zs.avail_out != 0 && w->zs.avail_in == 0 && (flush != Z_FINISH || zr == Z_STREAM_END))
			break;
	}
	w->len = 0;
	return true;
}

static struct docstream_writer *
writer_new(int fd, const char *name, const struct docstream_writer_opts *opts, bson_error_t *err)
{
	struct docstream_writer *w = bson_malloc0(sizeof *w);

	w->fd = fd;
	w->name = bson_strdup(name);
	w->format = opts && opts->format == DOCSTREAM_NDJSON ? DOCSTREAM_NDJSON : DOCSTREAM_BSON;
	w->json = opts ? opts->json : DOCSTREAM_JSON_CANONICAL;
	w->gzip = opts && opts->gzip;
	w->buf = bson_malloc(WBUF_SIZE);
	if (w->gzip) {
		int level = opts->gzip_level ? opts->gzip_level : Z_DEFAULT_COMPRESSION;

		w->zbuf = bson_malloc(WBUF_SIZE);
		if (deflateInit2(&w->zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			mp_error_set(err, MP_EX_SOFTWARE, "%s: deflateInit failed", name);
			docstream_writer_destroy(w);
			return NULL;
		}
		w->zs_ready = true;
	}
	return w;
}

struct docstream_writer *
docstream_writer_open_fd(int fd, const char *name, const struct docstream_writer_opts *opts,
	bson_error_t *err)
{
	return writer_new(fd, name ? name : "(stdout)", opts, err);
}

struct docstream_writer *
docstream_writer_open(const char *path, const struct docstream_writer_opts *opts, bson_error_t *err)
{
	struct docstream_writer *w;
	char *tmp;
	int fd;

	if (path == NULL || strcmp(path, "-") == 0)
		return docstream_writer_open_fd(STDOUT_FILENO, "(stdout)", opts, err);
	tmp = bson_strdup_printf("%s.tmp.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		mp_error_set(err, MP_EX_CANTCREAT, "cannot create %s: %s", path, strerror(errno));
		bson_free(tmp);
		return NULL;
	}
	fchmod(fd, 0666 & ~(mode_t)0022);
	w = writer_new(fd, path, opts, err);
	if (w == NULL) {
		close(fd);
		unlink(tmp);
		bson_free(tmp);
		return NULL;
	}
	w->own_fd = true;
	w->path = bson_strdup(path);
	w->tmppath = tmp;
	return w;
}

static bool
append(struct docstream_writer *w, const uint8_t *p, size_t n, bson_error_t *err)
{
	if (w->len + n > WBUF_SIZE && !drain(w, Z_NO_FLUSH, err))
		return false;
	if (n > WBUF_SIZE) {
		/* larger than the buffer: pass it straight through */
		if (!w->gzip)
			return write_all(w, p, n, err);
		while (n > 0) {
			size_t part = n > WBUF_SIZE ? WBUF_SIZE : n;

			memcpy(w->buf, p, part);
			w->len = part;
			if (!drain(w, Z_NO_FLUSH, err))
				return false;
			p += part;
			n -= part;
		}
		return true;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return true;
}

bool
docstream_write_raw(struct docstream_writer *w, const uint8_t *data, size_t len, bson_error_t *err)
{
	if (w->format == DOCSTREAM_NDJSON) {
		bson_t doc;

		if (!bson_init_static(&doc, data, len)) {
			mp_error_set(err, MP_EX_DATAERR, "corrupt BSON document of %zu bytes", len);
			return false;
		}
		return docstream_write(w, &doc, err);
	}
	if (!append(w, data, len, err))
		return false;
	w->docs++;
	w->bytes += len;
	return true;
}

bool
docstream_write(struct docstream_writer *w, const bson_t *doc, bson_error_t *err)
{
	char *json;
	size_t n;
	bool ok;

	if (w->format == DOCSTREAM_BSON)
		return docstream_write_raw(w, bson_get_data(doc), doc->len, err);
	json = docstream_to_json(doc, w->json, &n);
	if (json == NULL) {
		mp_error_set(err, MP_EX_DATAERR, "document cannot be represented as Extended JSON");
		return false;
	}
	json[n] = '\n'; /* replaces the NUL terminator, which we do not write */
	ok = append(w, (const uint8_t *)json, n + 1, err);
	bson_free(json);
	if (ok) {
		w->docs++;
		w->bytes += n + 1;
	}
	return ok;
}

bool
docstream_flush(struct docstream_writer *w, bson_error_t *err)
{
	return drain(w, w->gzip ? Z_SYNC_FLUSH : Z_NO_FLUSH, err);
}

bool
docstream_writer_broken_pipe(const struct docstream_writer *w)
{
	return w->broken_pipe;
}

uint64_t
docstream_writer_docs(const struct docstream_writer *w)
{
	return w->docs;
}

uint64_t
docstream_writer_bytes(const struct docstream_writer *w)
{
	return w->bytes;
}

bool
docstream_writer_close(struct docstream_writer *w, bson_error_t *err)
{
	if (w->closed)
		return true;
	if (!drain(w, w->gzip ? Z_FINISH : Z_NO_FLUSH, err))
		return false;
	if (w->path != NULL) {
		if (fsync(w->fd) != 0) {
			mp_error_set(err, MP_EX_IOERR, "%s: fsync: %s", w->name, strerror(errno));
			return false;
		}
		if (close(w->fd) != 0) {
			w->fd = -1;
			mp_error_set(err, MP_EX_IOERR, "%s: close: %s", w->name, strerror(errno));
			return false;
		}
		w->fd = -1;
		if (rename(w->tmppath, w->path) != 0) {
			mp_error_set(err, MP_EX_CANTCREAT, "cannot rename %s to %s: %s", w->tmppath, w->path,
				strerror(errno));
			return false;
		}
		bson_free(w->tmppath);
		w->tmppath = NULL;
		fsync_parent_dir(w->path);
	}
	w->closed = true;
	return true;
}

void
docstream_writer_destroy(struct docstream_writer *w)
{
	if (w == NULL)
		return;
	if (w->zs_ready)
		deflateEnd(&w->zs);
	if (w->own_fd && w->fd >= 0)
		close(w->fd);
	if (w->tmppath != NULL) {
		unlink(w->tmppath);
		bson_free(w->tmppath);
	}
	bson_free(w->path);
	bson_free(w->name);
	bson_free(w->buf);
	bson_free(w->zbuf);
	bson_free(w);
}
