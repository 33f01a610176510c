/*
 * reject.c: the --reject file (reject.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "docstream.h"
#include "ejson.h"
#include "exitcode.h"
#include "reject.h"

struct reject_file {
	FILE *f;
	char *path;
	pthread_mutex_t lock;
	uint64_t n;
	bool failed;
};

struct reject_file *
reject_open(const char *path, bson_error_t *err)
{
	struct reject_file *rf;
	FILE *f = fopen(path, "a");

	if (f == NULL) {
		mp_error_set(err, MP_EX_CANTCREAT, "cannot open reject file %s: %s", path, strerror(errno));
		return NULL;
	}
	rf = bson_malloc0(sizeof *rf);
	rf->f = f;
	rf->path = bson_strdup(path);
	pthread_mutex_init(&rf->lock, NULL);
	return rf;
}

/* A JSON string: libbson's escaping, in quotes. */
static void
put_string(bson_string_t *s, const char *text, ssize_t len)
{
	char *esc = bson_utf8_escape_for_json(text, len);

	bson_string_append_printf(s, "\"%s\"", esc ? esc : "");
	bson_free(esc);
}

static void
put_number(bson_string_t *s, const char *key, uint64_t v)
{
	if (v > 0)
		bson_string_append_printf(s, ", \"%s\": %llu", key, (unsigned long long)v);
}

bool
reject_write(struct reject_file *rf, const struct reject_why *why, const char *key, const bson_t *doc,
	const char *text, const uint8_t *bytes, size_t len, bson_error_t *err)
{
	bson_string_t *s = bson_string_new("{\"error\": ");
	char *json;
	size_t jl;
	bool ok;

	put_string(s, why->error ? why->error : "", -1);
	if (why->code)
		bson_string_append_printf(s, ", \"code\": %d", why->code);
	put_number(s, "record", why->record);
	put_number(s, "line", why->line);
	if (why->record > 0 && why->code == 0 && !why->no_offset) /* an input record: its offset, 0 included */
		bson_string_append_printf(s, ", \"offset\": %llu", (unsigned long long)why->offset);
	bson_string_append_printf(s, ", \"%s\": ", key);
	json = doc != NULL ? docstream_to_json(doc, DOCSTREAM_JSON_CANONICAL, &jl) : NULL;
	if (doc != NULL && json == NULL) { /* not valid BSON after all: its bytes, never null */
		bytes = bson_get_data(doc);
		len = doc->len;
	}
	if (json != NULL) {
		bson_string_append(s, json);
		bson_free(json);
	} else if (text != NULL) {
		put_string(s, text, (ssize_t)len);
	} else {
		bson_t wrap = BSON_INITIALIZER;

		bson_append_binary(&wrap, "bytes", 5, BSON_SUBTYPE_BINARY, bytes, (uint32_t)len);
		json = ejson_from_bson_new(&wrap, EJSON_CANONICAL, NULL);
		bson_string_append(s, json ? json : "null");
		bson_free(json);
		bson_destroy(&wrap);
	}
	bson_string_append(s, "}\n");
	pthread_mutex_lock(&rf->lock);
	ok = !rf->failed && fwrite(s->str, 1, s->len, rf->f) == s->len && fflush(rf->f) == 0;
	if (ok)
		rf->n++;
	else
		rf->failed = true;
	pthread_mutex_unlock(&rf->lock);
	bson_string_free(s, true);
	if (!ok)
		mp_error_set(err, MP_EX_IOERR, "cannot write to reject file %s: %s", rf->path, strerror(errno));
	return ok;
}

bool
reject_write_read(struct reject_file *rf, const struct reject_why *why, const char *key,
	const struct docstream_reader *r, bson_error_t *err)
{
	size_t len = 0;
	const uint8_t *raw = r ? docstream_reader_raw(r, &len) : NULL;

	if (raw == NULL)
		return reject_write(rf, why, key, NULL, "", NULL, 0, err);
	if (docstream_reader_format(r) != DOCSTREAM_BSON && bson_utf8_validate((const char *)raw, len, false))
		return reject_write(rf, why, key, NULL, (const char *)raw, NULL, len, err);
	return reject_write(rf, why, key, NULL, NULL, raw, len, err);
}

uint64_t
reject_count(struct reject_file *rf)
{
	uint64_t n;

	pthread_mutex_lock(&rf->lock);
	n = rf->n;
	pthread_mutex_unlock(&rf->lock);
	return n;
}

bool
reject_close(struct reject_file *rf, bson_error_t *err)
{
	bool ok;

	if (rf == NULL)
		return true;
	ok = !rf->failed && !ferror(rf->f);
	ok = fclose(rf->f) == 0 && ok;
	if (!ok)
		mp_error_set(err, MP_EX_IOERR, "reject file %s: a record could not be written", rf->path);
	pthread_mutex_destroy(&rf->lock);
	bson_free(rf->path);
	bson_free(rf);
	return ok;
}
