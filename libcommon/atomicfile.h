/*
 * atomicfile.h: replace a whole file so that a reader sees the old or the
 * new content, never a mix, whatever moment the writer dies: write a
 * temporary file beside it, fsync, rename over it, fsync the directory.
 * Used for checkpoints, token files and report outputs.
 */
#ifndef MP_ATOMICFILE_H
#define MP_ATOMICFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <bson/bson.h>

/* fsync the directory holding `path`, so a rename into it is durable. */
void atomicfile_fsync_dir(const char *path);

/*
 * Replace `path` with `len` bytes of `data`, atomically and durably: a
 * temporary file renamed over it.  A new file is 0666 less the umask, or 0600
 * with `private_file` (positions, tokens).  A FIFO or a device is written in
 * place, never replaced; a directory is refused.  Errors have exit status 73.
 */
bool atomicfile_write(const char *path, const void *data, size_t len, bool private_file, bson_error_t *err);

#endif
