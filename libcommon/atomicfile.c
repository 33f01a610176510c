/*
 * atomicfile.c: replace a file atomically and durably (see atomicfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "exitcode.h"

void
atomicfile_fsync_dir(const char *path)
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
	atomicfile_fsync_dir(path);
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	if (!ok)
		unlink(tmp);
	bson_free(tmp);
	return ok;
}
