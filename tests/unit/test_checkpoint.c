/*
 * test_checkpoint.c: checkpoints are saved atomically and read back; a
 * missing file is "no checkpoint", a corrupt one an error naming it.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "exitcode.h"
#include "tap.h"

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

int
main(void)
{
	char dir[] = "/tmp/mp-ckpt-XXXXXX";
	char *path, *bad;
	bson_t tok = BSON_INITIALIZER, back;
	bson_t *want;
	bson_error_t err;
	bool found;
	FILE *f;

	mkdtemp(dir);
	path = bson_strdup_printf("%s/t0.tok", dir);
	bad = bson_strdup_printf("%s/bad.tok", dir);

	ok(checkpoint_load(path, &back, &found, &err) && !found, "a missing checkpoint is not an error");
	bson_destroy(&back);

	want = bson_new_from_json((const uint8_t *)"{\"_data\": \"8263A1B2C3000000012B022C0100296E5A1004\"}", -1, &err);
	ok(checkpoint_save(path, want, &err), "saved");
	ok(checkpoint_load(path, &back, &found, &err) && found && bson_equal(&back, want),
		"loaded back equal");
	bson_destroy(&back);
	is_int(count_entries(dir), 1, "no temporary file is left behind");

	BSON_APPEND_INT64(&tok, "_id", 42);
	ok(checkpoint_save(path, &tok, &err), "replaced");
	ok(checkpoint_load(path, &back, &found, &err) && bson_equal(&back, &tok),
		"the new content replaced the old (int64 kept by canonical JSON)");
	bson_destroy(&back);

	f = fopen(bad, "w");
	fputs("{\"_data\": ", f);
	fclose(f);
	ok(!checkpoint_load(bad, &back, &found, &err) && err.code == MP_EX_DATAERR, "a torn file is exit status 65");
	has_str(err.message, bad, "the error names the file");
	bson_destroy(&back);

	ok(!checkpoint_save("/nonexistent-dir/x.tok", &tok, &err) && err.code == MP_EX_CANTCREAT,
		"an uncreatable checkpoint is exit status 73");

	bson_destroy(&tok);
	bson_destroy(want);
	unlink(path);
	unlink(bad);
	rmdir(dir);
	bson_free(path);
	bson_free(bad);
	return tap_done();
}
