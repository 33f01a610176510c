/*
 * fuzz_docstream_auto.c: the document stream reader detecting the format and
 * gzip by itself, as every tool reads by default.  The first input byte picks
 * how the rest is fed: bit 0 set, gzip-compressed here (so the fuzzer explores
 * what is inside a valid gzip stream, bit 1 then splits it into two members
 * as concatenated .gz files are); clear, as it is (corrupt and truncated gzip
 * included).  Bit 2 sets a small document limit, to reach the limit checks.
 */
#include <zlib.h>

#include "fuzz.h"

/* gzip data[0..size) into a new buffer, as one member or two. */
static uint8_t *
gzip_members(const uint8_t *data, size_t size, bool two, size_t *out_len)
{
	size_t half = two ? size / 2 : size, cap = compressBound((uLong)size) + 64;
	uint8_t *out = malloc(cap);
	size_t len = 0;

	for (int m = 0; m < (two ? 2 : 1); m++) {
		const uint8_t *p = m == 0 ? data : data + half;
		size_t n = m == 0 ? half : size - half;
		z_stream zs;

		memset(&zs, 0, sizeof zs);
		if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			fuzz_fail("deflateInit2 failed");
		zs.next_in = (Bytef *)p;
		zs.avail_in = (uInt)n;
		zs.next_out = out + len;
		zs.avail_out = (uInt)(cap - len);
		if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
			fuzz_fail("deflate did not finish");
		len = cap - zs.avail_out;
		deflateEnd(&zs);
	}
	*out_len = len;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docstream_reader_opts opts = {.format = DOCSTREAM_AUTO};
	uint8_t *gz = NULL;
	size_t len;
	int fd;

	if (size < 1)
		return 0;
	if (data[0] & 4)
		opts.max_doc = 64;
	if (data[0] & 1) {
		gz = gzip_members(data + 1, size - 1, (data[0] & 2) != 0, &len);
		fd = fuzz_memfd(gz, len);
	} else {
		fd = fuzz_memfd(data + 1, size - 1);
	}
	fuzz_read_stream(fd, &opts, false);
	close(fd);
	free(gz);
	return 0;
}
