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
#include "docstream.h"
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

	bool gzip;
	z_stream zs;
	bool zs_ready;
	uint8_t *zbuf;

	uint8_t *buf;
	size_t len;

	const struct docstream_reader *source; /* names records in errors */
	uint64_t docs, bytes;
	bool broken_pipe;
	bool failed;
	bool closed;
};

/*
 * A decimal with k fraction digits, m / 10^k, reads back as d when the
 * division rounds to d: m and 10^k are exact doubles (m < 2^53, k <= 15), so
 * the division is the correctly rounded value of that decimal.  The first k
 * that works gives the shortest fixed form, printed without printf.
 */
static size_t
fixed_double(double d, char *buf, size_t size)
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
				       1e14, 1e15};
	double a = fabs(d);

	for (int k = 0; k <= 15 && a * pow10[k] < 9007199254740992.0; k++) {
		double m = nearbyint(a * pow10[k]);
		uint64_t ip, fp, mi;
		char tmp[48], *t = tmp + sizeof tmp;

		if (m / pow10[k] != a)
			continue;
		mi = (uint64_t)m;
		ip = mi / (uint64_t)pow10[k];
		fp = mi % (uint64_t)pow10[k];
		*--t = '\0';
		if (k == 0) {
			*--t = '0';
		} else {
			for (int i = 0; i < k; i++, fp /= 10)
				*--t = (char)('0' + fp % 10);
		}
		*--t = '.';
		do
			*--t = (char)('0' + ip % 10);
		while ((ip /= 10) > 0);
		if (signbit(d))
			*--t = '-';
		bson_strncpy(buf, t, size);
		return strlen(buf);
	}
	return 0;
}

/* The shortest text that reads back as d, with ".0" kept on integral
 * values so that it reads back as a double. */
static size_t
shortest_double(double d, char *buf, size_t size)
{
	size_t n = fixed_double(d, buf, size);

	if (n > 0)
		return n;
	/* a subnormal has fewer digits of precision than 15: search from 1 */
	for (int prec = fpclassify(d) == FP_SUBNORMAL ? 1 : 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* the exponent as the Extended JSON specification's examples spell it */
	for (char *e = strchr(buf, 'e'); e; e = strchr(e, 'e'))
		*e = 'E';
	if (strpbrk(buf, ".Eni") == NULL)
		bson_strncpy(buf + strlen(buf), ".0", size - strlen(buf));
	return strlen(buf);
}

/* The doubles and dates of a document in the order libbson prints them. */
struct doubles {
	double *v;
	size_t n, cap;
	bool ambiguous; /* a key "$numberDouble": leave the text alone */
	int64_t *dates;
	size_t ndates, capdates;
	size_t late_dates;    /* after year 9999 */
	bool dates_ambiguous; /* a key "$date" */
	char *types;          /* each "$type" holding a number: 'i', 'l' or 'd' */
	size_t ntypes, captypes;
};

/* 10000-01-01T00:00:00Z: relaxed Extended JSON spells later dates (and
 * dates before 1970, which libbson already does) as canonical ones. */
#define FIRST_MS_AFTER_9999 INT64_C(253402300800000)

/* libbson prints "{ ... }" for what is nested deeper than this: stop before */
#define DOUBLES_MAX_DEPTH 100

static void
collect_doubles(bson_iter_t *it, struct doubles *d, int depth)
{
	if (depth > DOUBLES_MAX_DEPTH) {
		d->ambiguous = true;
		return;
	}
	while (!d->ambiguous && bson_iter_next(it)) {
		bson_iter_t sub;

		if (bson_iter_key(it)[0] == '$') {
			if (strcmp(bson_iter_key(it), "$numberDouble") == 0)
				d->ambiguous = true;
			else if (strcmp(bson_iter_key(it), "$date") == 0)
				d->dates_ambiguous = true;
			else if (strcmp(bson_iter_key(it), "$type") == 0 &&
				 (BSON_ITER_HOLDS_INT32(it) || BSON_ITER_HOLDS_INT64(it) ||
				  (BSON_ITER_HOLDS_DOUBLE(it) && isfinite(bson_iter_double(it))))) {
				if (d->ntypes == d->captypes) {
					d->captypes = d->captypes ? d->captypes * 2 : 4;
					d->types = bson_realloc(d->types, d->captypes);
				}
				d->types[d->ntypes++] = BSON_ITER_HOLDS_INT32(it) ? 'i' : BSON_ITER_HOLDS_INT64(it) ? 'l' : 'd';
			}
		}
		if (BSON_ITER_HOLDS_DATE_TIME(it)) {
			if (d->ndates == d->capdates) {
				d->capdates = d->capdates ? d->capdates * 2 : 8;
				d->dates = bson_realloc(d->dates, sizeof(int64_t) * d->capdates);
			}
			d->dates[d->ndates] = bson_iter_date_time(it);
			if (d->dates[d->ndates++] >= FIRST_MS_AFTER_9999)
				d->late_dates++;
		} else if (BSON_ITER_HOLDS_DOUBLE(it)) {
			if (d->n == d->cap) {
				d->cap = d->cap ? d->cap * 2 : 16;
				d->v = bson_realloc(d->v, sizeof(double) * d->cap);
			}
			d->v[d->n++] = bson_iter_double(it);
		} else if ((BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) && bson_iter_recurse(it, &sub)) {
			collect_doubles(&sub, d, depth + 1);
		} else if (BSON_ITER_HOLDS_CODEWSCOPE(it)) {
			/* libbson prints the scope ("$scope") too */
			const uint8_t *data;
			uint32_t len, code_len;
			bson_t scope;

			bson_iter_codewscope(it, &code_len, &len, &data);
			if (bson_init_static(&scope, data, len) && bson_iter_init(&sub, &scope))
				collect_doubles(&sub, d, depth + 1);
			else
				d->ambiguous = true;
		}
	}
}

/* A growing output buffer for tidy_json. */
struct textbuf {
	char *p;
	size_t len, cap;
};

static void
textbuf_add(struct textbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap *= 2;
		b->p = bson_realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/*
 * libbson 1.23 prints doubles with 20 significant digits (0.1 as
 * 0.10000000000000000555).  Each double libbson printed, in document order
 * (the bare numbers with a fraction or an exponent in relaxed mode, the
 * string after each "$numberDouble" key otherwise), is rewritten from its
 * value in its shortest exact form, as bsondump prints it (fix_doubles).
 * In relaxed mode libbson also prints dates after year 9999 as ISO strings
 * ("10000-01-01T00:00:00Z") that no parser reads: each date string after a
 * "$date" key whose value is that late becomes {"$numberLong": "..."}
 * (fix_dates).  And libbson 1.23 cannot read its own relaxed {"$type": 2}
 * (a query operator, not legacy binary): a number after a "$type" key is
 * written in its canonical wrapper, which relaxed readers take too
 * (fix_types).  Everything else is copied as it is.  Returns a new string;
 * `json` is freed.
 */
/* The walk of tidy_json: where it is in the text and in the values. */
struct tidy {
	const struct doubles *dv;
	bool fix_doubles, fix_dates, fix_types;
	bool after_key_double; /* the last string was the key "$numberDouble" */
	bool after_key_date;   /* ... the key "$date" */
	bool after_key_type;   /* ... the key "$type" */
	size_t k, kd, kt;      /* doubles, dates, $type numbers met */
	const char *from, *to; /* a span of text to replace by num */
	char num[96];
	size_t numlen;
};

/* The closing quote of the string at p: one not escaped by an odd run of
 * backslashes; NULL if there is none. */
static const char *
string_end(const char *p, const char *end)
{
	const char *q = p, *b;

	for (;;) {
		q = memchr(q + 1, '"', (size_t)(end - q - 1));
		if (q == NULL)
			return NULL;
		for (b = q; b > p + 1 && b[-1] == '\\'; b--)
			;
		if ((q - b) % 2 == 0)
			return q;
	}
}

/* The string p..q (quotes included): a double's or a date's value to
 * rewrite, or a key that says what the next value is. */
static void
tidy_string(struct tidy *t, const char *p, const char *q)
{
	const struct doubles *dv = t->dv;

	if (t->after_key_double && t->fix_doubles) {
		if (t->k < dv->n && !isfinite(dv->v[t->k]))
			t->k++; /* "Infinity", "-Infinity", "NaN" */
		else if (t->k < dv->n)
			t->from = p + 1, t->to = q, t->numlen = shortest_double(dv->v[t->k++], t->num, sizeof t->num);
		else
			t->k++;
	} else if (t->after_key_date && t->fix_dates) {
		if (t->kd < dv->ndates && dv->dates[t->kd] >= FIRST_MS_AFTER_9999)
			t->from = p, t->to = q + 1,
			t->numlen = (size_t)bson_snprintf(t->num, sizeof t->num, "{ \"$numberLong\" : \"%" PRId64 "\" }",
				dv->dates[t->kd]);
		t->kd++;
	}
	t->after_key_double = (size_t)(q - p - 1) == 13 && memcmp(p + 1, "$numberDouble", 13) == 0;
	t->after_key_date = (size_t)(q - p - 1) == 5 && memcmp(p + 1, "$date", 5) == 0;
	t->after_key_type = (size_t)(q - p - 1) == 5 && memcmp(p + 1, "$type", 5) == 0;
}

/* The number at p; returns where it ends. */
static const char *
tidy_number(struct tidy *t, const char *p, const char *end)
{
	const struct doubles *dv = t->dv;
	const char *q = p;
	bool frac = false;

	while (q < end && ((*q >= '0' && *q <= '9') || *q == '-' || *q == '+' || *q == '.' || *q == 'e' || *q == 'E')) {
		frac = frac || *q == '.' || *q == 'e' || *q == 'E';
		q++;
	}
	if (frac && t->fix_doubles) {
		if (t->k < dv->n)
			t->from = p, t->to = q, t->numlen = shortest_double(dv->v[t->k], t->num, sizeof t->num);
		t->k++;
	}
	if (t->after_key_type && t->fix_types) {
		if (t->kt < dv->ntypes && dv->types[t->kt] == 'd' && t->from) {
			char d[48];

			memcpy(d, t->num, t->numlen);
			d[t->numlen] = '\0';
			t->numlen = (size_t)bson_snprintf(t->num, sizeof t->num, "{ \"$numberDouble\" : \"%s\" }", d);
		} else if (t->kt < dv->ntypes && dv->types[t->kt] != 'd' && !frac && q - p < 24) {
			t->from = p, t->to = q;
			t->numlen = (size_t)bson_snprintf(t->num, sizeof t->num, "{ \"%s\" : \"%.*s\" }",
				dv->types[t->kt] == 'i' ? "$numberInt" : "$numberLong", (int)(q - p), p);
		}
		t->kt++;
	}
	return q;
}

static char *
tidy_json(char *json, size_t *len, const struct doubles *dv, bool fix_doubles, bool fix_dates, bool fix_types)
{
	struct textbuf out = {bson_malloc(*len + 64), 0, *len + 64};
	const char *p = json, *end = json + *len, *copied = json, *q;
	struct tidy t = {.dv = dv, .fix_doubles = fix_doubles, .fix_dates = fix_dates, .fix_types = fix_types};

	while (p < end) {
		t.from = t.to = NULL;
		if (*p == '"') {
			if ((q = string_end(p, end)) == NULL)
				break;
			tidy_string(&t, p, q);
			p = q + 1;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			p = tidy_number(&t, p, end);
		} else {
			if (*p == '{' && t.after_key_date)
				t.kd++; /* {"$numberLong": ...}: a date libbson printed as canonical */
			if (*p != ' ' && *p != ':')
				t.after_key_double = t.after_key_date = t.after_key_type = false;
			p++;
		}
		if (t.from) {
			textbuf_add(&out, copied, (size_t)(t.from - copied));
			textbuf_add(&out, t.num, t.numlen);
			copied = t.to;
		}
	}
	if ((fix_doubles && t.k != dv->n) || (fix_dates && t.kd != dv->ndates) || (fix_types && t.kt != dv->ntypes)) {
		/* the text and the values disagree: keep libbson's text, which is exact */
		bson_free(out.p);
		return json;
	}
	textbuf_add(&out, copied, (size_t)(end - copied));
	out.p[out.len] = '\0';
	bson_free(json);
	*len = out.len;
	return out.p;
}

char *
docstream_to_json(const bson_t *doc, enum docstream_json mode, size_t *len)
{
	size_t n = 0;
	char *json = mode == DOCSTREAM_JSON_RELAXED ? bson_as_relaxed_extended_json(doc, &n)
						     : bson_as_canonical_extended_json(doc, &n);
	struct doubles dv = {0};
	bson_iter_t it;
	bool fix_doubles, fix_dates, fix_types;

	if (json && bson_iter_init(&it, doc))
		collect_doubles(&it, &dv, 0);
	fix_doubles = dv.n > 0 && !dv.ambiguous;
	fix_dates = mode == DOCSTREAM_JSON_RELAXED && dv.late_dates > 0 && !dv.dates_ambiguous && !dv.ambiguous;
	fix_types = mode == DOCSTREAM_JSON_RELAXED && dv.ntypes > 0 && !dv.ambiguous;
	if (fix_doubles || fix_dates || fix_types)
		json = tidy_json(json, &n, &dv, fix_doubles, fix_dates, fix_types);
	bson_free(dv.v);
	bson_free(dv.dates);
	bson_free(dv.types);
	if (len)
		*len = n;
	return json;
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
		char where[512], why[256];

		if (w->source)
			docstream_reader_where(w->source, where, sizeof where);
		else
			snprintf(where, sizeof where, "%s: output record %llu", w->name,
				(unsigned long long)w->docs + 1);
		if (docstream_check_bson(doc, why, sizeof why))
			bson_strncpy(why, "libbson cannot print it", sizeof why);
		mp_error_set(err, MP_EX_DATAERR, "%s: document cannot be represented as Extended JSON: %s", where,
			why);
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

void
docstream_writer_set_source(struct docstream_writer *w, const struct docstream_reader *r)
{
	w->source = r;
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
	bson_free(w->path);
	bson_free(w->name);
	bson_free(w->buf);
	bson_free(w->zbuf);
	bson_free(w);
}
