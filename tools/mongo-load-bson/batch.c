/*
 * batch.c: a batch of documents, back to back in one buffer (one allocation
 * per batch, not per document), with the last _id it holds for the
 * checkpoint.
 */
#include <string.h>

#include "load.h"

struct batch *
batch_new(void)
{
	return bson_malloc0(sizeof(struct batch));
}

void
batch_add(struct batch *b, const bson_t *doc)
{
	bson_iter_t it;

	if (b->len + doc->len > b->cap) {
		b->cap = (b->len + doc->len) * 2;
		b->buf = bson_realloc(b->buf, b->cap);
	}
	if (b->n == b->ncap) {
		b->ncap = b->ncap ? b->ncap * 2 : 256;
		b->offs = bson_realloc(b->offs, sizeof(uint32_t) * b->ncap);
	}
	b->offs[b->n++] = (uint32_t)b->len;
	memcpy(b->buf + b->len, bson_get_data(doc), doc->len);
	b->len += doc->len;
	if (bson_iter_init_find(&it, doc, "_id")) {
		if (b->has_last_id)
			bson_value_destroy(&b->last_id);
		bson_value_copy(bson_iter_value(&it), &b->last_id);
		b->has_last_id = true;
	}
}

void
batch_doc(const struct batch *b, uint32_t i, bson_t *out)
{
	uint32_t len;

	memcpy(&len, b->buf + b->offs[i], 4);
	bson_init_static(out, b->buf + b->offs[i], BSON_UINT32_FROM_LE(len));
}

void
batch_destroy(struct batch *b)
{
	if (b == NULL)
		return;
	if (b->has_last_id)
		bson_value_destroy(&b->last_id);
	bson_free(b->buf);
	bson_free(b->offs);
	bson_free(b);
}

void
batch_free(void *b)
{
	batch_destroy(b);
}
