/*
 * checkpoint.c: positions saved as one line of canonical Extended JSON,
 * replaced atomically (atomicfile.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "checkpoint.h"
#include "ejson.h"
#include "exitcode.h"

#define CHECKPOINT_MAX (64 * 1024 * 1024)

bool
checkpoint_writable(const char *path, bson_error_t *err)
{
	char *probe = bson_strdup_printf("%s.probe.XXXXXX", path);
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		mp_error_set(err, MP_EX_CANTCREAT, "checkpoint %s is a directory", path);
		bson_free(probe);
		return false;
	}
	fd = mkostemp(probe, O_CLOEXEC);
	if (fd < 0) {
		mp_error_set(err, MP_EX_CANTCREAT, "cannot write checkpoint %s: %s", path, strerror(errno));
		bson_free(probe);
		return false;
	}
	close(fd);
	unlink(probe);
	bson_free(probe);
	return true;
}

bool
checkpoint_save(const char *path, const bson_t *doc, bson_error_t *err)
{
	size_t len;
	char *json = ejson_from_bson_new(doc, EJSON_CANONICAL, &len);
	bool ok;

	json[len] = '\n';
	ok = atomicfile_write(path, json, len + 1, true, err);
	bson_free(json);
	return ok;
}

bool
checkpoint_load(const char *path, bson_t *doc, bool *found, bson_error_t *err)
{
	char *text = NULL;
	bson_t *parsed;
	struct stat st;
	size_t len = 0;
	bson_error_t jerr;
	bool ok = false;
	int fd;

	bson_init(doc);
	*found = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return true;
		mp_error_set(err, MP_EX_NOINPUT, "cannot open checkpoint %s: %s", path, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0 || st.st_size > CHECKPOINT_MAX) {
		mp_error_set(err, MP_EX_DATAERR, "checkpoint %s: not a regular file of sane size", path);
		goto out;
	}
	text = bson_malloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t got = read(fd, text + len, (size_t)st.st_size - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			mp_error_set(err, MP_EX_IOERR, "reading checkpoint %s: %s", path,
				got < 0 ? strerror(errno) : "file shrank while read");
			goto out;
		}
		len += (size_t)got;
	}
	text[len] = '\0';
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (len == 0) {
		mp_error_set(err, MP_EX_DATAERR, "checkpoint %s is empty", path);
		goto out;
	}
	parsed = ejson_to_bson_new(text, (ssize_t)len, &jerr);
	if (parsed == NULL) {
		mp_error_set(err, MP_EX_DATAERR, "checkpoint %s: invalid Extended JSON: %s", path,
			jerr.message);
		goto out;
	}
	bson_destroy(doc);
	bson_copy_to(parsed, doc);
	bson_destroy(parsed);
	*found = true;
	ok = true;
out:
	close(fd);
	bson_free(text);
	return ok;
}
