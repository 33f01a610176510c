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
ns_map_apply(const struct ns_map *m, const char *db, const char *coll, bool keep_unmapped, char **db_out,
	char **coll_out)
{
	*db_out = *coll_out = NULL;
	for (int i = 0; m && i < m->n; i++) {
		const struct ns_rule *r = &m->rules[i];
		bool wild = strcmp(r->src_coll, "*") == 0;

		if (strcmp(r->src_db, db) != 0)
			continue;
		if (coll == NULL ? !wild : !(wild || strcmp(r->src_coll, coll) == 0))
			continue;
		*db_out = bson_strdup(r->dst_db);
		*coll_out = coll == NULL ? NULL : bson_strdup(wild ? coll : r->dst_coll);
		return true;
	}
	if (!keep_unmapped)
		return false;
	*db_out = bson_strdup(db);
	*coll_out = coll ? bson_strdup(coll) : NULL;
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
