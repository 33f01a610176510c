/*
 * checkpoint.c: atomic replacement of small state files.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "exitcode.h"

#define CHECKPOINT_MAX (64 * 1024 * 1024)

void
fsync_parent_dir(const char *path)
{
	char *dir = bson_strdup(path), *slash = strrchr(dir, '/');
	int fd;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	bson_free(dir);
}

/* All of data to fd; false with errno set. */
static bool
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t put = write(fd, p, len);

		if (put < 0 && errno == EINTR)
			continue;
		if (put < 0)
			return false;
		p += put;
		len -= (size_t)put;
	}
	return true;
}

/* A path that exists and is not a regular file: written in place. */
static bool
write_in_place(const char *path, const struct stat *st, const void *data, size_t len, bson_error_t *err)
{
	int fd;
	bool ok;

	if (S_ISDIR(st->st_mode)) {
		mp_error_set(err, MP_EX_CANTCREAT, "cannot write to %s: it is a directory", path);
		return false;
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
		mp_error_set(err, MP_EX_CANTCREAT, "cannot open %s: %s", path, strerror(errno));
		return false;
	}
	ok = write_all(fd, data, len);
	if (!ok)
		mp_error_set(err, MP_EX_IOERR, "writing %s: %s", path, strerror(errno));
	close(fd);
	return ok;
}

bool
atomicfile_write(const char *path, const void *data, size_t len, bool private_file, bson_error_t *err)
{
	char *tmp;
	bool ok = false;
	struct stat st;
	mode_t mask;
	int fd;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return write_in_place(path, &st, data, len, err);
	tmp = bson_strdup_printf("%s.tmp.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		mp_error_set(err, MP_EX_CANTCREAT, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	mask = umask(0);
	umask(mask);
	/* a position can name data: owner only, whatever the umask */
	fchmod(fd, private_file ? 0600 : 0666 & ~mask);
	if (!write_all(fd, data, len)) {
		mp_error_set(err, MP_EX_CANTCREAT, "writing %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fsync(fd) != 0) {
		mp_error_set(err, MP_EX_CANTCREAT, "fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		mp_error_set(err, MP_EX_CANTCREAT, "closing %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		mp_error_set(err, MP_EX_CANTCREAT, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	fsync_parent_dir(path);
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	if (!ok)
		unlink(tmp);
	bson_free(tmp);
	return ok;
}

bool
checkpoint_save(const char *path, const bson_t *doc, bson_error_t *err)
{
	size_t len;
	char *json = bson_as_canonical_extended_json(doc, &len);
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
	parsed = bson_new_from_json((const uint8_t *)text, (ssize_t)len, &jerr);
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
