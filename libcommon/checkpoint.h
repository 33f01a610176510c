/*
 * checkpoint.h: positions that survive a crash.  A checkpoint file holds one
 * document (a resume token, or {"_id": <last id>}) as canonical Extended JSON
 * on one line.  It is replaced atomically: write a temporary file, fsync,
 * rename, fsync the directory; a reader sees the old or the new content,
 * never a mix, whatever moment the writer dies.
 */
#ifndef MP_CHECKPOINT_H
#define MP_CHECKPOINT_H

#include <stdbool.h>
#include <bson/bson.h>

/* fsync the directory holding `path`, so a rename into it is durable. */
void fsync_parent_dir(const char *path);

/*
 * Replace `path` with `len` bytes of `data`, atomically and durably: a
 * temporary file renamed over it.  A new file is 0666 less the umask, or 0600
 * with `private_file` (positions, tokens).  A FIFO or a device is written in
 * place, never replaced; a directory is refused.  Errors have exit status 73.
 */
bool atomicfile_write(const char *path, const void *data, size_t len, bool private_file, bson_error_t *err);

/* Save `doc` to `path` as canonical Extended JSON plus a newline. */
bool checkpoint_save(const char *path, const bson_t *doc, bson_error_t *err);

/*
 * Load the document saved in `path` into `doc` (uninitialized on entry;
 * initialized on every return, empty when nothing was loaded).  A missing
 * file is not an error: *found is set to false.  An unreadable or malformed
 * file is (exit status 66 or 65), naming the file.
 */
bool checkpoint_load(const char *path, bson_t *doc, bool *found, bson_error_t *err);

#endif
