/*
 * metadata.c: --metadata, what the servers say about a namespace besides its
 * documents: its indexes (matched by name), its collection options, and
 * whether it is a view and of what.  Each difference is a diff record of its
 * own kind ("index", "options", "view") and counts like a document
 * difference; a metadata read that fails fails the job (69), so an
 * unreadable side never passes for equal.
 *
 * Equal means what the server would do with it, as MongoDB's
 * migration-verifier judges: an index key in its order (the order is the
 * index), numbers by value; options with field order free and numbers by
 * value; a view's pipeline in its order.  What servers set by themselves is
 * left out: an index's `v`, `ns` and `background` (a build-time hint the
 * server ignores since 4.2), everything of the `_id_` index but its key,
 * `uuid`; a boolean option set to false is the same as one not set
 * (`unique: false`, as some servers spell it out).
 */
#include <stdlib.h>
#include <string.h>

#include "bsoncmp.h"
#include "diag.h"
#include "exitcode.h"
#include "mongo-hashdiff.h"
#include "nsmap.h"

/* What one end holds: its listCollections entry and its indexes by name. */
struct meta_end {
	bool found;
	bson_t info;    /* the listCollections entry, empty when not found */
	bson_t options; /* its "options" (a view's viewOn and pipeline too) */
	bson_t indexes; /* {name: spec, ...} in listIndexes order */
};

static const char *const index_skip[] = {"v", "ns", "background", "key", "name", NULL};
static const char *const option_skip[] = {"uuid", "viewOn", "pipeline", NULL};

static bool
listed(const char *const *list, const char *key)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(list[i], key) == 0)
			return true;
	return false;
}

static const char *
utf8_of(const bson_t *d, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, d, key) && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL) : NULL;
}

static bool
sub_doc(const bson_t *d, const char *key, bson_t *out)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;

	if (!bson_iter_init_find(&it, d, key) || !(BSON_ITER_HOLDS_DOCUMENT(&it) || BSON_ITER_HOLDS_ARRAY(&it)))
		return false;
	if (BSON_ITER_HOLDS_DOCUMENT(&it))
		bson_iter_document(&it, &len, &data);
	else
		bson_iter_array(&it, &len, &data);
	return bson_init_static(out, data, len);
}

/* The listCollections entry of e's namespace. */
static bool
read_info(const struct end *e, mongoc_client_t *c, struct meta_end *m, bson_error_t *err)
{
	mongoc_database_t *d = mongoc_client_get_database(c, e->db);
	bson_t *opts = BCON_NEW("filter", "{", "name", BCON_UTF8(e->coll), "}");
	mongoc_cursor_t *cur = mongoc_database_find_collections_with_opts(d, opts);
	const bson_t *doc;
	const char *name;
	bson_t sub;
	bool ok;

	while (mongoc_cursor_next(cur, &doc))
		if (!m->found && (name = utf8_of(doc, "name")) && strcmp(name, e->coll) == 0) {
			m->found = true;
			bson_destroy(&m->info);
			bson_copy_to(doc, &m->info);
		}
	ok = !mongoc_cursor_error(cur, err);
	if (ok && sub_doc(&m->info, "options", &sub))
		bson_concat(&m->options, &sub);
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	mongoc_database_destroy(d);
	return ok;
}

/* Its indexes by name (none when the collection is not there). */
static bool
read_indexes(const struct end *e, mongoc_client_t *c, struct meta_end *m, bson_error_t *err)
{
	mongoc_collection_t *coll = mongoc_client_get_collection(c, e->db, e->coll);
	mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(coll, NULL);
	const bson_t *spec;
	const char *name;
	bool ok;

	while (mongoc_cursor_next(cur, &spec))
		if ((name = utf8_of(spec, "name")) != NULL)
			bson_append_document(&m->indexes, name, -1, spec);
	ok = !mongoc_cursor_error(cur, err);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	return ok;
}

static bool
is_view(const struct meta_end *m)
{
	const char *type = utf8_of(&m->info, "type");

	return m->found && type && strcmp(type, "view") == 0;
}

/* Read one end; errors name the side and the namespace. */
static bool
meta_read(const struct end *e, struct meta_end *m, bson_error_t *err)
{
	mongoc_client_t *c = mongoc_client_pool_pop(e->side->pool);
	bool ok = read_info(e, c, m, err) && (!m->found || is_view(m) || read_indexes(e, c, m, err));

	mongoc_client_pool_push(e->side->pool, c);
	if (!ok) {
		mp_error_wrap(err, "reading the metadata of %s", e->ns);
		side_error(e->side, err);
	}
	return ok;
}

static void
meta_init(struct meta_end *m)
{
	m->found = false;
	bson_init(&m->info);
	bson_init(&m->options);
	bson_init(&m->indexes);
}

static void
meta_clear(struct meta_end *m)
{
	bson_destroy(&m->info);
	bson_destroy(&m->options);
	bson_destroy(&m->indexes);
}

/* Set: present and not false (servers differ in spelling out false). */
static bool
field_set(const bson_t *d, const char *key, bson_iter_t *it)
{
	return bson_iter_init_find(it, d, key) && !(BSON_ITER_HOLDS_BOOL(it) && !bson_iter_bool(it));
}

/* Field order free at every level, numbers by value: the semantic digest. */
static bool
values_equal(struct dochash *h, const bson_iter_t *a, const bson_iter_t *b)
{
	bson_t da = BSON_INITIALIZER, db = BSON_INITIALIZER;
	uint8_t ha[DOCHASH_MAX], hb[DOCHASH_MAX];
	bool eq;

	bson_append_iter(&da, "v", 1, a);
	bson_append_iter(&db, "v", 1, b);
	eq = dochash_doc(h, &da, ha, NULL) && dochash_doc(h, &db, hb, NULL) && memcmp(ha, hb, dochash_len(h)) == 0;
	bson_destroy(&da);
	bson_destroy(&db);
	return eq;
}

static void
add_field(bson_t *fields, int *n, const char *key)
{
	char buf[16];
	const char *k;

	bson_uint32_to_string((uint32_t)(*n)++, &k, buf, sizeof buf);
	bson_append_utf8(fields, k, -1, key, -1);
}

/* The top-level fields of a and b, but those in skip, that differ. */
static void
diff_fields(struct dochash *h, const bson_t *a, const bson_t *b, const char *const *skip, bson_t *fields, int *n)
{
	bson_iter_t it, ia, ib;

	if (bson_iter_init(&it, a))
		while (bson_iter_next(&it)) {
			const char *k = bson_iter_key(&it);
			bool sa = field_set(a, k, &ia), sb = field_set(b, k, &ib);

			if (!listed(skip, k) && (sa != sb || (sa && !values_equal(h, &ia, &ib))))
				add_field(fields, n, k);
		}
	if (bson_iter_init(&it, b))
		while (bson_iter_next(&it)) {
			const char *k = bson_iter_key(&it);

			if (!listed(skip, k) && !bson_has_field(a, k) && field_set(b, k, &ib))
				add_field(fields, n, k);
		}
}

/* One metadata difference: counted, a note on stderr, and a diff record
 * (only --emit diff: a repair event or an _id cannot carry it). */
static void
meta_record(struct job *j, const char *kind, const char *name, const bson_t *fields, const bson_t *src,
	const bson_t *dst, const char *what)
{
	bson_t rec = BSON_INITIALIZER;
	bson_error_t err;

	pthread_mutex_lock(&j->lock);
	j->n.metadata++;
	diag_note("%s: %s", j->src.ns, what);
	if (j->o->emit == EMIT_DIFF) {
		BSON_APPEND_UTF8(&rec, "ns", j->src.ns);
		BSON_APPEND_UTF8(&rec, "diff", kind);
		if (name)
			BSON_APPEND_UTF8(&rec, "name", name);
		if (fields)
			BSON_APPEND_ARRAY(&rec, "fields", fields);
		src ? BSON_APPEND_DOCUMENT(&rec, "source", src) : BSON_APPEND_NULL(&rec, "source");
		dst ? BSON_APPEND_DOCUMENT(&rec, "target", dst) : BSON_APPEND_NULL(&rec, "target");
		if (!docstream_write(j->out, &rec, &err))
			job_fail_held(j, &err);
	}
	pthread_mutex_unlock(&j->lock);
	bson_destroy(&rec);
}

/* The names of the fields, comma separated, for the note. */
static void
fields_text(const bson_t *fields, char *buf, size_t size)
{
	bson_iter_t it;

	buf[0] = '\0';
	if (bson_iter_init(&it, fields))
		while (bson_iter_next(&it))
			bson_snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? ", " : "",
				bson_iter_utf8(&it, NULL));
}

/* One index present on both ends: the key in its order (numbers by value),
 * the rest field by field; of the _id_ index, only the key. */
static void
compare_index(struct job *j, struct dochash *h, const char *name, const bson_t *s, const bson_t *t)
{
	bson_t fields = BSON_INITIALIZER, ks, kt;
	char what[512], list[256];
	int n = 0;

	if (!sub_doc(s, "key", &ks) || !sub_doc(t, "key", &kt) || bsoncmp_doc(&ks, &kt) != 0)
		add_field(&fields, &n, "key");
	if (strcmp(name, "_id_") != 0)
		diff_fields(h, s, t, index_skip, &fields, &n);
	if (n > 0) {
		fields_text(&fields, list, sizeof list);
		bson_snprintf(what, sizeof what, "index %s differs: %s", name, list);
		meta_record(j, "index", name, &fields, s, t, what);
	}
	bson_destroy(&fields);
}

static void
compare_indexes(struct job *j, struct dochash *h, const struct meta_end *s, const struct meta_end *t)
{
	bson_iter_t it, other;
	bson_t spec, tspec;
	char what[512];

	if (bson_iter_init(&it, &s->indexes))
		while (bson_iter_next(&it)) {
			const char *name = bson_iter_key(&it);

			sub_doc(&s->indexes, name, &spec);
			if (bson_iter_init_find(&other, &t->indexes, name) && sub_doc(&t->indexes, name, &tspec)) {
				compare_index(j, h, name, &spec, &tspec);
				continue;
			}
			bson_snprintf(what, sizeof what, "index %s missing on the target", name);
			meta_record(j, "index", name, NULL, &spec, NULL, what);
		}
	if (bson_iter_init(&it, &t->indexes))
		while (bson_iter_next(&it)) {
			const char *name = bson_iter_key(&it);

			if (bson_has_field(&s->indexes, name) || !sub_doc(&t->indexes, name, &tspec))
				continue;
			bson_snprintf(what, sizeof what, "index %s only on the target", name);
			meta_record(j, "index", name, NULL, NULL, &tspec, what);
		}
}

static void
compare_options(struct job *j, struct dochash *h, const struct meta_end *s, const struct meta_end *t)
{
	bson_t fields = BSON_INITIALIZER;
	char what[512], list[256];
	int n = 0;

	diff_fields(h, &s->options, &t->options, option_skip, &fields, &n);
	if (n > 0) {
		fields_text(&fields, list, sizeof list);
		bson_snprintf(what, sizeof what, "collection options differ: %s", list);
		meta_record(j, "options", NULL, &fields, s->found ? &s->options : NULL, t->found ? &t->options : NULL,
			what);
	}
	bson_destroy(&fields);
}

/* A view's definition: {viewOn, pipeline, collation}: the collation
 * changes what its $match and $sort do. */
static void
view_def(const struct meta_end *m, bson_t *def)
{
	static const char *const keys[] = {"viewOn", "pipeline", "collation"};
	bson_iter_t it;

	bson_init(def);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (bson_iter_init_find(&it, &m->options, keys[i]))
			bson_append_iter(def, keys[i], -1, &it);
}

/* A view on either end: the same viewOn and the same pipeline, in order
 * (a $sort's fields are ordered), and the same other options (collation),
 * compared as collection options are; or a difference. */
static void
compare_views(struct job *j, struct dochash *h, const struct meta_end *s, const struct meta_end *t)
{
	bool sv = is_view(s), tv = is_view(t);
	bson_t sd, td, fields = BSON_INITIALIZER;
	bson_iter_t a, b;
	int n = 0;
	char what[512], list[256];

	view_def(s, &sd);
	view_def(t, &td);
	if (sv && tv) {
		const char *so = utf8_of(&sd, "viewOn"), *to = utf8_of(&td, "viewOn");

		if (!so || !to || strcmp(so, to) != 0)
			add_field(&fields, &n, "viewOn");
		if (!bson_iter_init_find(&a, &sd, "pipeline") || !bson_iter_init_find(&b, &td, "pipeline") ||
		    bsoncmp_iter(&a, &b) != 0)
			add_field(&fields, &n, "pipeline");
		diff_fields(h, &s->options, &t->options, option_skip, &fields, &n);
		fields_text(&fields, list, sizeof list);
		bson_snprintf(what, sizeof what, "view differs: %s", list);
		if (n > 0)
			meta_record(j, "view", NULL, &fields, &sd, &td, what);
	} else {
		bson_snprintf(what, sizeof what, "a view on the %s only", sv ? "source" : "target");
		meta_record(j, "view", NULL, NULL, sv ? &sd : NULL, tv ? &td : NULL, what);
	}
	bson_destroy(&sd);
	bson_destroy(&td);
	bson_destroy(&fields);
}

bool
metadata_compare(struct job *j)
{
	struct meta_end s, t;
	struct dochash *h = NULL;
	bson_error_t err;
	bool ok = false;

	meta_init(&s);
	meta_init(&t);
	if (!meta_read(&j->src, &s, &err) || !meta_read(&j->dst, &t, &err)) {
		job_fail(j, &err);
		goto out;
	}
	if ((h = dochash_new("sha256", DOCHASH_SEMANTIC, NULL, &err)) == NULL) {
		job_fail(j, &err);
		goto out;
	}
	if (is_view(&s) || is_view(&t)) {
		compare_views(j, h, &s, &t);
	} else {
		compare_options(j, h, &s, &t);
		compare_indexes(j, h, &s, &t);
	}
	ok = !j->failed;
out:
	dochash_destroy(h);
	meta_clear(&s);
	meta_clear(&t);
	return ok;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compared by their metadata alone: a view has no documents of its own, and
 * time series are left out of the document comparison (their documents are
 * the server's buckets). */
static bool
metadata_only_type(const char *type)
{
	return type && (strcmp(type, "view") == 0 || strcmp(type, "timeseries") == 0);
}

bool
metadata_list_views(const struct side *s, const char *db, char ***views, bson_error_t *err)
{
	mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
	mongoc_database_t *d = mongoc_client_get_database(c, db);
	bson_t *opts = BCON_NEW("filter", "{", "type", "{", "$in", "[", BCON_UTF8("view"), BCON_UTF8("timeseries"), "]",
		"}", "}");
	mongoc_cursor_t *cur = mongoc_database_find_collections_with_opts(d, opts);
	const bson_t *info;
	const char *name, *type;
	int n = 0;
	bool ok;

	*views = bson_malloc0(sizeof(char *));
	while (mongoc_cursor_next(cur, &info)) {
		name = utf8_of(info, "name");
		type = utf8_of(info, "type");
		if (!name || !metadata_only_type(type) || strncmp(name, "system.", 7) == 0 ||
		    !ns_selected(db, name))
			continue; /* a server that ignores the filter lists collections too */
		*views = bson_realloc(*views, sizeof(char *) * (size_t)(n + 2));
		(*views)[n++] = bson_strdup(name);
		(*views)[n] = NULL;
	}
	ok = !mongoc_cursor_error(cur, err);
	qsort(*views, (size_t)n, sizeof(char *), name_cmp);
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	mongoc_database_destroy(d);
	mongoc_client_pool_push(s->pool, c);
	if (!ok) {
		mp_error_wrap(err, "listing the views and time series of %s", db);
		side_error(s, err);
	}
	return ok;
}
