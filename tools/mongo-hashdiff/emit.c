/*
 * emit.c: one difference as --emit says: a diff record (namespace, _id,
 * kind, both digests), a repair change event for mongo-replay (replace with
 * the source document, or delete), or the _id alone.  Under --recheck a
 * difference is held instead, to be re-read before it is reported.
 */
#include "mongo-hashdiff.h"

static const char *kind_name[] = {"missing", "extra", "changed"};

static void
append_hash(bson_t *rec, const char *key, const struct job *j, const uint8_t *h)
{
	char hex[2 * DOCHASH_MAX + 1];

	if (h == NULL) {
		bson_append_null(rec, key, -1);
		return;
	}
	dochash_hex(h, j->hlen, hex);
	bson_append_utf8(rec, key, -1, hex, -1);
}

static void
diff_record(const struct job *j, bson_t *rec, enum kind k, const bson_value_t *id, const uint8_t *sh,
	const uint8_t *th)
{
	BSON_APPEND_UTF8(rec, "ns", j->src.ns);
	bson_append_value(rec, "_id", 3, id);
	BSON_APPEND_UTF8(rec, "diff", kind_name[k]);
	append_hash(rec, "source_hash", j, sh);
	append_hash(rec, "target_hash", j, th);
}

/* A change event that makes the target document what the source's is. */
static void
repair_event(struct job *j, bson_t *rec, enum kind k, const bson_value_t *id, const bson_t *sdoc)
{
	char tok[24];
	bson_t sub;

	bson_snprintf(tok, sizeof tok, "%016llX", (unsigned long long)++j->seq);
	bson_append_document_begin(rec, "_id", 3, &sub);
	BSON_APPEND_UTF8(&sub, "_data", tok);
	bson_append_document_end(rec, &sub);
	BSON_APPEND_UTF8(rec, "operationType", k == EXTRA ? "delete" : "replace");
	bson_append_document_begin(rec, "ns", 2, &sub);
	BSON_APPEND_UTF8(&sub, "db", j->dst.db);
	BSON_APPEND_UTF8(&sub, "coll", j->dst.coll);
	bson_append_document_end(rec, &sub);
	bson_append_document_begin(rec, "documentKey", -1, &sub);
	bson_append_value(&sub, "_id", 3, id);
	bson_append_document_end(rec, &sub);
	if (k != EXTRA && sdoc)
		BSON_APPEND_DOCUMENT(rec, "fullDocument", sdoc);
}

static void
hold(struct job *j, const bson_value_t *id)
{
	if (j->nheld == j->capheld) {
		j->capheld = j->capheld ? j->capheld * 2 : 64;
		j->held = bson_realloc(j->held, sizeof(bson_value_t) * (size_t)j->capheld);
	}
	bson_value_copy(id, &j->held[j->nheld++]);
}

void
emit_difference(struct job *j, enum kind k, const bson_value_t *id, const uint8_t *sh, const uint8_t *th,
	const bson_t *sdoc)
{
	bson_t rec = BSON_INITIALIZER;
	bson_error_t err;

	if (k == MISSING)
		j->n.missing++;
	else if (k == EXTRA)
		j->n.extra++;
	else
		j->n.changed++;
	if (j->holding) {
		hold(j, id);
		goto out;
	}
	if (j->o->emit == EMIT_DIFF)
		diff_record(j, &rec, k, id, sh, th);
	else if (j->o->emit == EMIT_IDS)
		bson_append_value(&rec, "_id", 3, id);
	else
		repair_event(j, &rec, k, id, sdoc);
	if (!docstream_write(j->out, &rec, &err))
		job_fail_held(j, &err);
out:
	bson_destroy(&rec);
}
