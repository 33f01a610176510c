/*
 * docwriter.c: the document stream writer (BSON or NDJSON, plain or gzip).
 *
 * Records are appended to a buffer that is compressed (gzip) and written
 * with write(2) loops that report every failure.  A path is written through
 * "<path>.tmp.XXXXXX" and renamed into place only by a successful close.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "atomicfile.h"
#include "csv.h"
#include "docstream.h"
#include "ejson.h"
#include "exitcode.h"
#include "sig.h"

#define WBUF_SIZE (1024 * 1024)

struct docstream_writer {
	int fd;
	bool own_fd;
	char *name;
	char *path;    /* final path, NULL for an fd */
	char *tmppath; /* temporary file until close */
	enum docstream_format format;
	enum docstream_json json;
	bool json_array;
	char **fields; /* CSV/TSV */
	size_t nfields;

	bool gzip;
	z_stream zs;
	bool zs_ready;
	uint8_t *zbuf;

	struct ejson_buf out; /* records not yet compressed or written */

	const struct docstream_reader *source; /* names records in errors */
	uint64_t docs, bytes;
	bool broken_pipe;
	bool failed;
	bool closed;
};

char *
docstream_to_json(const bson_t *doc, enum docstream_json mode, size_t *len)
{
	return ejson_from_bson_new(doc, mode == DOCSTREAM_JSON_RELAXED ? EJSON_RELAXED : EJSON_CANONICAL, len);
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
				mp_error_set(err, MP_EX_PIPE, "%s: the reader of the output went away", w->name);
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
		mp_error_set(err, w->broken_pipe ? MP_EX_PIPE : MP_EX_IOERR, "%s: output failed earlier", w->name);
		return false;
	}
	if (!w->gzip) {
		bool ok = write_all(w, w->out.p, w->out.len, err);

		w->out.len = 0;
		return ok;
	}
	w->zs.next_in = w->out.p;
	w->zs.avail_in = (uInt)w->out.len;
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
	w->out.len = 0;
	return true;
}

/* CSV/TSV: the fields, and the header line first (mongoexport writes it
 * for an empty collection too). */
static bool
tabular_init(struct docstream_writer *w, const struct docstream_writer_opts *opts, bson_error_t *err)
{
	size_t n = 0;

	while (opts->fields && opts->fields[n])
		n++;
	if (n == 0) {
		mp_error_set(err, MP_EX_USAGE, "%s: CSV and TSV need the fields to write (--fields or --field-file)",
			w->name);
		return false;
	}
	w->fields = bson_malloc0(sizeof(char *) * (n + 1));
	for (size_t i = 0; i < n; i++)
		w->fields[i] = bson_strdup(opts->fields[i]);
	w->nfields = n;
	if (!opts->no_header) {
		csv_write_header(w->fields, n, w->format == DOCSTREAM_CSV ? ',' : '\t', &w->out);
		w->bytes += w->out.len;
	}
	return true;
}

static struct docstream_writer *
writer_new(int fd, const char *name, const struct docstream_writer_opts *opts, bson_error_t *err)
{
	struct docstream_writer *w = bson_malloc0(sizeof *w);

	w->fd = fd;
	w->name = bson_strdup(name);
	w->format = opts && opts->format != DOCSTREAM_AUTO ? opts->format : DOCSTREAM_BSON;
	w->json = opts ? opts->json : DOCSTREAM_JSON_CANONICAL;
	w->json_array = w->format == DOCSTREAM_NDJSON && opts && opts->json_array;
	w->gzip = opts && opts->gzip;
	ejson_buf_reserve(&w->out, WBUF_SIZE);
	if (w->format == DOCSTREAM_CSV || w->format == DOCSTREAM_TSV) {
		if (!tabular_init(w, opts, err)) {
			docstream_writer_destroy(w);
			return NULL;
		}
	}
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
	struct stat st;
	char *tmp;
	int fd;

	if (path == NULL || strcmp(path, "-") == 0)
		return docstream_writer_open_fd(STDOUT_FILENO, "(stdout)", opts, err);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a FIFO or a device is written in place: only a regular file is
		 * replaced by renaming over it */
		if (S_ISDIR(st.st_mode)) {
			mp_error_set(err, MP_EX_CANTCREAT, "cannot write to %s: it is a directory", path);
			return NULL;
		}
		if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
			mp_error_set(err, MP_EX_CANTCREAT, "cannot open %s: %s", path, strerror(errno));
			return NULL;
		}
		if ((w = writer_new(fd, path, opts, err)) == NULL) {
			close(fd);
			return NULL;
		}
		w->own_fd = true;
		return w;
	}
	tmp = bson_strdup_printf("%s.tmp.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		mp_error_set(err, MP_EX_CANTCREAT, "cannot create %s: %s", path, strerror(errno));
		bson_free(tmp);
		return NULL;
	}
	{
		mode_t mask = umask(0); /* mkostemp made it 0600: give it what open(2) would */

		umask(mask);
		fchmod(fd, 0666 & ~mask);
	}
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
	sig_cleanup_add(tmp);
	return w;
}

/* A record is added to the buffer whole (a large one grows it), and the
 * buffer goes out once it holds WBUF_SIZE bytes. */
static bool
append(struct docstream_writer *w, const uint8_t *p, size_t n, bson_error_t *err)
{
	ejson_buf_reserve(&w->out, n);
	memcpy(w->out.p + w->out.len, p, n);
	w->out.len += n;
	return w->out.len < WBUF_SIZE || drain(w, Z_NO_FLUSH, err);
}

/* A document the writer cannot write as Extended JSON: named by the record
 * it was read from, or by its place in the output. */
static bool
unwritable(struct docstream_writer *w, const char *as, const char *why, bson_error_t *err)
{
	char where[512];

	if (w->source)
		docstream_reader_where(w->source, where, sizeof where);
	else
		snprintf(where, sizeof where, "%s: output record %llu", w->name, (unsigned long long)w->docs + 1);
	mp_error_set(err, MP_EX_DATAERR, "%s: document cannot be represented as %s: %s", where, as, why);
	return false;
}

bool
docstream_write_raw(struct docstream_writer *w, const uint8_t *data, size_t len, bson_error_t *err)
{
	size_t at = w->out.len;
	char why[256];

	if (w->format == DOCSTREAM_BSON) {
		if (!append(w, data, len, err))
			return false;
		w->docs++;
		w->bytes += len;
		return true;
	}
	if (w->format == DOCSTREAM_CSV || w->format == DOCSTREAM_TSV) {
		if (!csv_write_row(data, len, w->fields, w->nfields, w->format == DOCSTREAM_CSV ? ',' : '\t', &w->out,
			    why, sizeof why))
			return unwritable(w, w->format == DOCSTREAM_CSV ? "CSV" : "TSV", why, err);
		w->docs++;
		w->bytes += w->out.len - at;
		return w->out.len < WBUF_SIZE || drain(w, Z_NO_FLUSH, err);
	}
	if (w->json_array) {
		ejson_buf_reserve(&w->out, 2);
		memcpy(w->out.p + w->out.len, w->docs == 0 ? "[\n" : ",\n", 2);
		w->out.len += 2;
	}
	if (!ejson_write(data, len, w->json == DOCSTREAM_JSON_RELAXED ? EJSON_RELAXED : EJSON_CANONICAL, &w->out,
		    why, sizeof why)) {
		w->out.len = at;
		return unwritable(w, "Extended JSON", why, err);
	}
	if (!w->json_array)
		w->out.p[w->out.len++] = '\n'; /* ejson_write leaves room for its NUL */
	w->docs++;
	w->bytes += w->out.len - at;
	return w->out.len < WBUF_SIZE || drain(w, Z_NO_FLUSH, err);
}

bool
docstream_write(struct docstream_writer *w, const bson_t *doc, bson_error_t *err)
{
	return docstream_write_raw(w, bson_get_data(doc), doc->len, err);
}

void
docstream_writer_set_source(struct docstream_writer *w, const struct docstream_reader *r)
{
	w->source = r;
}

bool
docstream_write_keyed(struct docstream_writer *w, const char *key, const bson_t *doc, bson_error_t *err)
{
	size_t at = w->out.len, n = strlen(key);

	BSON_ASSERT(w->format == DOCSTREAM_NDJSON && !w->json_array);
	ejson_buf_reserve(&w->out, n + 1);
	memcpy(w->out.p + w->out.len, key, n);
	w->out.p[w->out.len + n] = '\t';
	w->out.len += n + 1;
	if (docstream_write(w, doc, err))
		return true;
	if (w->out.len == at + n + 1)
		w->out.len = at; /* the document was refused: no key without its line */
	return false;
}

bool
docstream_flush(struct docstream_writer *w, bson_error_t *err)
{
	/* after a close everything is out (and a finished gzip stream takes no
	 * further flush) */
	return w->closed || drain(w, w->gzip ? Z_SYNC_FLUSH : Z_NO_FLUSH, err);
}

bool
docstream_writer_broken_pipe(const struct docstream_writer *w)
{
	return w->broken_pipe;
}

bool
docstream_writer_reader_gone(struct docstream_writer *w)
{
	struct pollfd pfd = {w->fd, 0, 0};
	struct stat st;

	if (w->broken_pipe)
		return true;
	if (w->fd < 0 || fstat(w->fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return false;
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
		w->broken_pipe = true;
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
docstream_writer_replaces_file(const struct docstream_writer *w)
{
	return w->tmppath != NULL;
}

bool
docstream_writer_close(struct docstream_writer *w, bson_error_t *err)
{
	if (w->closed)
		return true;
	if (w->json_array) {
		const char *end = w->docs == 0 ? "[]\n" : "\n]\n";

		ejson_buf_reserve(&w->out, 4);
		memcpy(w->out.p + w->out.len, end, strlen(end));
		w->out.len += strlen(end);
		w->bytes += strlen(end);
		w->json_array = false; /* once, even if the close fails and is tried again */
	}
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
		sig_cleanup_remove(w->tmppath);
		bson_free(w->tmppath);
		w->tmppath = NULL;
		atomicfile_fsync_dir(w->path);
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
		sig_cleanup_remove(w->tmppath);
		bson_free(w->tmppath);
	}
	bson_strfreev(w->fields);
	bson_free(w->path);
	bson_free(w->name);
	ejson_buf_free(&w->out);
	bson_free(w->zbuf);
	bson_free(w);
}
