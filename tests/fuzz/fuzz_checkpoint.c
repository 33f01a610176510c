/*
 * fuzz_checkpoint.c: the checkpoint reader on any file content, and what the
 * tools do with what it loads: mongo-replay orders the token against event
 * tokens, mongo-dump-bson --resume-after-id builds its _id range filter.
 */
#include <stdio.h>

#include "changeevent.h"
#include "checkpoint.h"
#include "fuzz.h"
#include "idrange.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	bson_t ck, token = BSON_INITIALIZER, filter = BSON_INITIALIZER;
	bson_error_t err;
	bson_iter_t it;
	bool found;
	int fd = fuzz_memfd(data, size);

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	BSON_APPEND_UTF8(&token, "_data", "8263A1B2C3000000012B022C0100296E5A1004");
	if (!checkpoint_load(path, &ck, &found, &err)) {
		fuzz_check_error(&err);
	} else if (found) {
		int c = change_token_cmp(&ck, &token), back = change_token_cmp(&token, &ck);

		if ((c < 0) != (back > 0) || (c == 0) != (back == 0))
			fuzz_fail("change_token_cmp is not antisymmetric");
		if (bson_iter_init_find(&it, &ck, "_id")) {
			idrange_filter(&filter, NULL, "_id", bson_iter_value(&it), false, NULL, false, 0);
			if (!bson_validate(&filter, BSON_VALIDATE_NONE, NULL))
				fuzz_fail("the resume filter is not a valid document");
		}
	} else {
		fuzz_fail("an existing checkpoint file read as missing");
	}
	bson_destroy(&ck);
	bson_destroy(&filter);
	bson_destroy(&token);
	close(fd);
	return 0;
}
