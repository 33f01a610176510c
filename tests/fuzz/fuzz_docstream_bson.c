/*
 * fuzz_docstream_bson.c: the document stream reader told the stream is BSON
 * (mongo-load-bson --input-format bson): framing, validation, --reject.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docstream_reader_opts opts = {.format = DOCSTREAM_BSON};
	int fd = fuzz_memfd(data, size);

	fuzz_read_stream(fd, &opts, true);
	close(fd);
	return 0;
}
