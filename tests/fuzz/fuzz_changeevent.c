/*
 * fuzz_changeevent.c: change events as mongo-replay interprets them.  The
 * input is a change-event stream (BSON or NDJSON, read by the document stream
 * reader as replay reads it); each event is parsed, split fragments are
 * collected and joined, namespaces go through an --ns-map, document events
 * become their writes (with and without --prefer-full), and resume tokens are
 * ordered against the previous one, as the checkpoint comparison does.
 */
#include "changeevent.h"
#include "nsmap.h"
#include "fuzz.h"

#define MAX_FRAGS 8

static void
apply_one(const bson_t *doc, const struct ns_map *map, bson_t *prev_token)
{
	struct change_event ev;
	struct change_write w[CHANGE_MAX_WRITES];
	bson_error_t err;
	const char *db = NULL, *coll = NULL;

	if (!change_event_parse(doc, &ev, &err)) {
		fuzz_check_error(&err);
		return;
	}
	if (ev.op_name == NULL)
		fuzz_fail("a parsed event without operationType");
	if (ev.op != CHANGE_INVALIDATE && ev.db == NULL)
		fuzz_fail("a parsed %s event without ns.db", ev.op_name);
	if (ev.db != NULL && ns_map_apply(map, ev.db, ev.coll, true, &db, &coll)) {
		if (db == NULL)
			fuzz_fail("ns_map_apply matched without a database");
	}
	if (change_op_is_document(ev.op)) {
		for (int prefer_full = 0; prefer_full < 2; prefer_full++) {
			int n = change_event_writes(&ev, prefer_full, w, &err);

			if (n < 0) {
				fuzz_check_error(&err);
				continue;
			}
			if (n > CHANGE_MAX_WRITES)
				fuzz_fail("%d writes for one event", n);
			for (int i = 0; i < n; i++)
				if (!bson_validate(&w[i].filter, BSON_VALIDATE_NONE, NULL) ||
					!bson_validate(&w[i].doc, BSON_VALIDATE_NONE, NULL))
					fuzz_fail("a write of a %s event is not a valid document", ev.op_name);
			change_writes_destroy(w, n);
		}
	}
	if (ev.has_token) {
		bson_t tb;
		const bson_t *tok = change_doc_bson(&ev.token, &tb);
		int c = change_token_cmp(tok, prev_token), back = change_token_cmp(prev_token, tok);

		if ((c < 0) != (back > 0) || (c == 0) != (back == 0))
			fuzz_fail("change_token_cmp is not antisymmetric");
		if (change_token_cmp(tok, tok) != 0)
			fuzz_fail("a token does not equal itself");
		bson_destroy(prev_token);
		bson_copy_to(tok, prev_token);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docstream_reader *r;
	struct ns_map *map = ns_map_new();
	bson_t *frags[MAX_FRAGS], prev_token, joined;
	bson_error_t err;
	int nfrags = 0, fd = fuzz_memfd(data, size);

	bson_init(&prev_token);
	if (!ns_map_add(map, "shop.*=shop_v2.*,a.b=c.d", &err))
		fuzz_fail("ns_map_add: %s", err.message);
	r = docstream_reader_open_fd(fd, "fuzz", NULL, &err);
	for (int i = 0; r != NULL && i < 10000; i++) {
		const bson_t *doc;
		bson_iter_t sp;
		struct change_event fev;
		int rc = docstream_read(r, &doc, &err);

		if (rc == 0)
			break;
		if (rc < 0) {
			if (!docstream_reader_can_continue(r))
				break;
			continue;
		}
		if (!bson_iter_init_find(&sp, doc, "splitEvent")) {
			apply_one(doc, map, &prev_token);
			continue;
		}
		if (!change_event_parse(doc, &fev, &err)) {
			fuzz_check_error(&err);
			continue;
		}
		if (nfrags == MAX_FRAGS)
			break;
		frags[nfrags++] = bson_copy(doc);
		if (fev.split_fragment < fev.split_of)
			continue;
		if (change_event_join((const bson_t *const *)frags, nfrags, &joined, &err))
			apply_one(&joined, map, &prev_token);
		else
			fuzz_check_error(&err);
		bson_destroy(&joined);
		for (int k = 0; k < nfrags; k++)
			bson_destroy(frags[k]);
		nfrags = 0;
	}
	for (int k = 0; k < nfrags; k++)
		bson_destroy(frags[k]);
	docstream_reader_destroy(r);
	bson_destroy(&prev_token);
	ns_map_destroy(map);
	close(fd);
	return 0;
}
