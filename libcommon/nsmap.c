/*
 * nsmap.c: namespace mapping rules (see nsmap.h).
 */
#include <string.h>

#include "exitcode.h"
#include "nsmap.h"


struct ns_rule {
	char *src_db, *src_coll, *dst_db, *dst_coll; /* coll "*": any, kept */
};

struct ns_map {
	struct ns_rule *rules;
	int n, cap;
};

struct ns_map *
ns_map_new(void)
{
	return bson_malloc0(sizeof(struct ns_map));
}

static bool
split_ns(const char *s, size_t len, char **db, char **coll)
{
	const char *dot = memchr(s, '.', len);

	if (dot == NULL || dot == s || dot == s + len - 1)
		return false;
	*db = bson_strndup(s, (size_t)(dot - s));
	*coll = bson_strndup(dot + 1, len - (size_t)(dot - s) - 1);
	return true;
}

bool
ns_map_add(struct ns_map *m, const char *rules, bson_error_t *err)
{
	const char *p = rules;

	while (*p) {
		const char *end = strchr(p, ','), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct ns_rule r = {0};

		eq = memchr(p, '=', len);
		if (eq == NULL || !split_ns(p, (size_t)(eq - p), &r.src_db, &r.src_coll) ||
		    !split_ns(eq + 1, len - (size_t)(eq - p) - 1, &r.dst_db, &r.dst_coll) ||
		    (strcmp(r.src_coll, "*") == 0) != (strcmp(r.dst_coll, "*") == 0) ||
		    strchr(r.src_db, '*') || strchr(r.dst_db, '*')) {
			mp_error_set(err, MP_EX_USAGE, "--ns-map takes src.coll=dst.coll or db.*=db2.*, not '%.*s'",
				(int)len, p);
			bson_free(r.src_db);
			bson_free(r.src_coll);
			bson_free(r.dst_db);
			bson_free(r.dst_coll);
			return false;
		}
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 4;
			m->rules = bson_realloc(m->rules, sizeof(struct ns_rule) * (size_t)m->cap);
		}
		m->rules[m->n++] = r;
		p += len;
		if (*p == ',')
			p++;
	}
	return true;
}

bool
ns_map_apply(const struct ns_map *m, const char *db, const char *coll, bool keep_unmapped, const char **db_out,
	const char **coll_out)
{
	*db_out = *coll_out = NULL;
	for (int i = 0; m && i < m->n; i++) {
		const struct ns_rule *r = &m->rules[i];
		bool wild = strcmp(r->src_coll, "*") == 0;

		if (strcmp(r->src_db, db) != 0)
			continue;
		if (coll == NULL ? !wild : !(wild || strcmp(r->src_coll, coll) == 0))
			continue;
		*db_out = r->dst_db;
		*coll_out = coll == NULL ? NULL : wild ? coll : r->dst_coll;
		return true;
	}
	if (!keep_unmapped)
		return false;
	*db_out = db;
	*coll_out = coll;
	return true;
}

bool
ns_map_empty(const struct ns_map *m)
{
	return m == NULL || m->n == 0;
}

void
ns_map_destroy(struct ns_map *m)
{
	if (m == NULL)
		return;
	for (int i = 0; i < m->n; i++) {
		bson_free(m->rules[i].src_db);
		bson_free(m->rules[i].src_coll);
		bson_free(m->rules[i].dst_db);
		bson_free(m->rules[i].dst_coll);
	}
	bson_free(m->rules);
	bson_free(m);
}

/* ---- selection ---- */

#define MAX_SELECT 64

static struct {
	enum ns_select_kind kind;
	char *arg;
} selects[MAX_SELECT];
static int nselects;

bool
ns_select_add(enum ns_select_kind kind, const char *arg, bson_error_t *err)
{
	if (arg == NULL || *arg == '\0') {
		mp_error_set(err, MP_EX_USAGE, "a namespace pattern or collection name cannot be empty");
		return false;
	}
	if (nselects == MAX_SELECT) {
		mp_error_set(err, MP_EX_USAGE, "more than %d namespace selections", MAX_SELECT);
		return false;
	}
	selects[nselects].kind = kind;
	selects[nselects].arg = bson_strdup(arg);
	nselects++;
	return true;
}

bool
ns_select_given(void)
{
	return nselects > 0;
}

bool
ns_pattern_match(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '*') {
			star = ++p;
			resume = s;
		} else if (*p == '\\' && p[1] != '\0' && p[1] == *s) {
			p += 2;
			s++;
		} else if (*p != '\\' && *p != '\0' && *p == *s) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static bool
matches(enum ns_select_kind kind, const char *arg, const char *db, const char *coll, const char *ns)
{
	switch (kind) {
	case NS_INCLUDE:
	case NS_EXCLUDE:
		return ns_pattern_match(arg, ns);
	case NS_EXCLUDE_COLLECTION:
		return coll != NULL && strcmp(coll, arg) == 0;
	case NS_EXCLUDE_PREFIX:
		return coll != NULL && strncmp(coll, arg, strlen(arg)) == 0;
	}
	(void)db;
	return false;
}

/* A whole database: an include selects it when it could match one of its
 * collections (its part before the first dot matches, or it has a `*`
 * there); an exclude only when it is "db.*". */
static bool
db_selected(const char *db)
{
	char *all = bson_strdup_printf("%s.*", db);
	bool any_include = false, included = false, excluded = false;

	for (int i = 0; i < nselects; i++) {
		const char *a = selects[i].arg, *dot = strchr(a, '.');

		if (selects[i].kind == NS_INCLUDE) {
			char *head = dot ? bson_strndup(a, (size_t)(dot - a)) : bson_strdup(a);

			any_include = true;
			included = included || ns_pattern_match(head, db) || (dot == NULL && strchr(a, '*'));
			bson_free(head);
		} else if (selects[i].kind == NS_EXCLUDE && strcmp(a, all) == 0) {
			excluded = true;
		}
	}
	bson_free(all);
	return (!any_include || included) && !excluded;
}

bool
ns_selected(const char *db, const char *coll)
{
	bool any_include = false, included = false;
	char *ns;

	if (nselects == 0)
		return true;
	if (coll == NULL)
		return db_selected(db);
	ns = bson_strdup_printf("%s.%s", db, coll);
	for (int i = 0; i < nselects; i++) {
		if (selects[i].kind == NS_INCLUDE) {
			any_include = true;
			included = included || matches(NS_INCLUDE, selects[i].arg, db, coll, ns);
		} else if (matches(selects[i].kind, selects[i].arg, db, coll, ns)) {
			bson_free(ns);
			return false;
		}
	}
	bson_free(ns);
	return !any_include || included;
}
