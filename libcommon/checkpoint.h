/*
 * checkpoint.h: positions that survive a crash.  A checkpoint file holds one
 * document (a resume token, or {"_id": <last id>}) as canonical Extended JSON
 * on one line, replaced atomically (atomicfile.h): a reader sees the old or
 * the new content, never a mix, whatever moment the writer dies.
 */
#ifndef MP_CHECKPOINT_H
#define MP_CHECKPOINT_H

#include <stdbool.h>
#include <bson/bson.h>

/* Whether a checkpoint can be saved at `path` (a temporary file made and
 * removed beside it): false (73) naming the cause, before any work is done,
 * rather than at the first save after thousands of documents. */
bool checkpoint_writable(const char *path, bson_error_t *err);

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
