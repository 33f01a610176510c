/*
 * fuzz_docstream_ndjson.c: the document stream reader told the stream is
 * NDJSON (--input-format ndjson): line cutting, blank lines, CR LF, the
 * Extended JSON parser's errors, and each document written back as JSON.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docstream_reader_opts opts = {.format = DOCSTREAM_NDJSON};
	int fd = fuzz_memfd(data, size);

	fuzz_read_stream(fd, &opts, true);
	close(fd);
	return 0;
}
