/*
 * fuzz.h: what the libFuzzer targets in tests/fuzz/ share: the input as a
 * file descriptor (a memfd, so reads are deterministic), the invariants every
 * reader keeps whatever the input, and a reader driven to its end.
 *
 * An invariant that breaks calls fuzz_fail(), which aborts: libFuzzer saves
 * the input as a crash like any sanitizer report.
 */
#ifndef MP_FUZZ_H
#define MP_FUZZ_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bson/bson.h>

#include "docstream.h"
#include "ejson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_fail(...)                                                                       \
	do {                                                                                 \
		fprintf(stderr, "fuzz invariant broken at %s:%d: ", __FILE__, __LINE__);     \
		fprintf(stderr, __VA_ARGS__);                                                \
		fputc('\n', stderr);                                                         \
		abort();                                                                     \
	} while (0)

/* An fd positioned at the start of a memory file holding data[0..size). */
static inline int
fuzz_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	size_t put = 0;

	if (fd < 0)
		fuzz_fail("memfd_create failed");
	while (put < size) {
		ssize_t n = write(fd, data + put, size - put);

		if (n <= 0)
			fuzz_fail("writing the memfd failed");
		put += (size_t)n;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* An error message goes into JSON records (--stats, --reject): it must be
 * valid UTF-8, name what failed, and carry an exit status. */
static inline void
fuzz_check_error(const bson_error_t *err)
{
	size_t len = strnlen(err->message, sizeof err->message);

	if (len == 0 || len == sizeof err->message)
		fuzz_fail("error message empty or not terminated");
	if (!bson_utf8_validate(err->message, len, false))
		fuzz_fail("error message is not valid UTF-8: %s", err->message);
	if (err->code == 0)
		fuzz_fail("error without an exit status: %s", err->message);
}

/* Every double of a document, in order, depth first. */
static inline size_t
fuzz_doubles(bson_iter_t *it, double *out, size_t cap, size_t n, int depth)
{
	bson_iter_t sub;

	while (bson_iter_next(it)) {
		if (BSON_ITER_HOLDS_DOUBLE(it)) {
			if (n < cap)
				out[n] = bson_iter_double(it);
			n++;
		} else if ((BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) && depth < 100 &&
			   bson_iter_recurse(it, &sub)) {
			n = fuzz_doubles(&sub, out, cap, n, depth + 1);
		}
	}
	return n;
}

static inline bool
fuzz_has_dollar_key(bson_iter_t *it, int depth)
{
	bson_iter_t sub;

	while (bson_iter_next(it)) {
		if (bson_iter_key(it)[0] == '$')
			return true;
		if ((BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) && depth < 100 &&
			bson_iter_recurse(it, &sub) && fuzz_has_dollar_key(&sub, depth + 1))
			return true;
	}
	return false;
}

#define FUZZ_MAX_DOUBLES 256

/*
 * A document the reader delivered can be written as NDJSON (what
 * mongo-dump-bson --format ndjson does with it: the reader's check and the
 * writer's agree), and the doubles survive the trip through that text bit
 * for bit (shortest digits, libcommon/dtoa.c).  Documents with '$' keys are
 * left out of the round trip: a parser reads those as type wrappers.
 */
static inline void
fuzz_check_json(const bson_t *doc, enum docstream_json mode)
{
	double before[FUZZ_MAX_DOUBLES], after[FUZZ_MAX_DOUBLES];
	size_t n1, n2, len;
	char *json = docstream_to_json(doc, mode, &len);
	bson_t *back;
	bson_error_t jerr;
	bson_iter_t it;

	if (json == NULL)
		fuzz_fail("a document the reader accepted cannot be written as Extended JSON");
	if (strlen(json) != len)
		fuzz_fail("docstream_to_json: length %zu but the text has %zu bytes", len, strlen(json));
	if (!bson_iter_init(&it, doc) || fuzz_has_dollar_key(&it, 0)) {
		bson_free(json);
		return;
	}
	back = ejson_to_bson_new(json, (ssize_t)len, &jerr);
	if (back == NULL)
		fuzz_fail("our own text does not read back: %s: %s", jerr.message, json);
	{
		bson_iter_init(&it, doc);
		n1 = fuzz_doubles(&it, before, FUZZ_MAX_DOUBLES, 0, 0);
		bson_iter_init(&it, back);
		n2 = fuzz_doubles(&it, after, FUZZ_MAX_DOUBLES, 0, 0);
		if (n1 != n2)
			fuzz_fail("%zu doubles written, %zu read back: %s", n1, n2, json);
		for (size_t i = 0; i < n1 && i < FUZZ_MAX_DOUBLES; i++) {
			bool same = isnan(before[i]) ? isnan(after[i])
						     : memcmp(&before[i], &after[i], sizeof(double)) == 0;

			if (!same)
				fuzz_fail("double %zu is %.17g, read back as %.17g: %s", i, before[i], after[i], json);
		}
		bson_destroy(back);
	}
	bson_free(json);
}

/*
 * Read a whole stream as mongo-load-bson --reject does: every record, going
 * on after the errors the reader says are skippable, checking each error and
 * each document (which libbson must find valid too).
 */
static inline void
fuzz_read_stream(int fd, const struct docstream_reader_opts *opts, bool check_json)
{
	struct docstream_reader *r;
	bson_error_t err;
	uint64_t last_bytes = 0;

	r = docstream_reader_open_fd(fd, "fuzz", opts, &err);
	if (r == NULL) {
		fuzz_check_error(&err);
		return;
	}
	for (int i = 0; i < 100000; i++) {
		const bson_t *doc = NULL;
		const uint8_t *raw;
		size_t raw_len, bad_at;
		int rc = docstream_read(r, &doc, &err);

		if (rc == 0)
			break;
		raw = docstream_reader_raw(r, &raw_len);
		if (raw_len > 0 && raw == NULL)
			fuzz_fail("raw record of %zu bytes without a pointer", raw_len);
		if (raw_len > 0)
			(void)(volatile uint8_t)raw[raw_len - 1]; /* ASan checks the range is live */
		if (docstream_reader_bytes(r) < last_bytes)
			fuzz_fail("bytes consumed went backwards");
		last_bytes = docstream_reader_bytes(r);
		if (rc < 0) {
			fuzz_check_error(&err);
			if (!docstream_reader_can_continue(r))
				break;
			continue;
		}
		if (rc != 1 || doc == NULL)
			fuzz_fail("docstream_read returned %d with doc %p", rc, (const void *)doc);
		if (!bson_validate(doc, BSON_VALIDATE_UTF8 | BSON_VALIDATE_UTF8_ALLOW_NULL, &bad_at))
			fuzz_fail("a delivered document fails libbson's validation at byte %zu", bad_at);
		if (check_json)
			fuzz_check_json(doc, i % 2 ? DOCSTREAM_JSON_RELAXED : DOCSTREAM_JSON_CANONICAL);
	}
	docstream_reader_destroy(r);
}

#endif
