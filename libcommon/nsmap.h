/*
 * nsmap.h: which namespaces a run takes (--ns-include and the like), and
 * where a namespace goes on the target (--ns-map).
 */
#ifndef MP_NSMAP_H
#define MP_NSMAP_H

#include <stdbool.h>

#include <bson/bson.h>

/*
 * Namespace mapping (--ns-map): rules "src.coll=dst.coll" or with wildcards
 * "db.*=db2.*" (the collection kept), tried in order.
 */
struct ns_map;
struct ns_map *ns_map_new(void);
/* Add one rule or several separated by commas; false (64) when malformed. */
bool ns_map_add(struct ns_map *m, const char *rules, bson_error_t *err);
/*
 * Map db.coll (coll may be NULL for a database) to the target: true with
 * *db_out and *coll_out when a rule matched, or when none did and
 * `keep_unmapped`; false when the namespace is not to be applied.  The
 * names are views (no allocation: the replay maps every event), valid while
 * m, db and coll are.
 */
bool ns_map_apply(const struct ns_map *m, const char *db, const char *coll, bool keep_unmapped,
	const char **db_out, const char **coll_out);
bool ns_map_empty(const struct ns_map *m);
void ns_map_destroy(struct ns_map *m);

/*
 * Namespace selection, with mongo-tools' rules and spellings: --ns-include
 * and --ns-exclude PATTERN (--nsInclude, --nsExclude), where `*` matches any
 * run of characters, dots included ("shop.*", "dept*.bar", "logs_*") and
 * `\` makes the next character literal; --exclude-collection NAME and
 * --exclude-collections-with-prefix PREFIX (mongodump's).  Each may be
 * given several times.  A namespace is selected when no include is given
 * or one matches, and no exclude matches.  One selection per process, set
 * while options are parsed; listing namespaces (conn_list_namespaces)
 * applies it, as do the tools that meet namespaces otherwise (a mongodump
 * directory, change events).
 */
enum ns_select_kind { NS_INCLUDE, NS_EXCLUDE, NS_EXCLUDE_COLLECTION, NS_EXCLUDE_PREFIX };
/* False (64) for an empty pattern or name. */
bool ns_select_add(enum ns_select_kind kind, const char *arg, bson_error_t *err);
/* Whether db.coll is selected; coll NULL asks about a whole database (its
 * events: selected unless an exclude names all of it, "db.*"). */
bool ns_selected(const char *db, const char *coll);
/* True when any selection was given. */
bool ns_select_given(void);
/* `*` and `\` as above, against the whole of `s`. */
bool ns_pattern_match(const char *pattern, const char *s);

/*
 * Namespace renaming (nsrename.c), mongorestore's: --ns-from and --ns-to
 * PATTERN (--nsFrom, --nsTo) in pairs, `*` or `$name$` variables ("db.*"
 * to "db2.*", "$db$.logs_$y$" to "old_$db$.logs.$y$").  One set per
 * process, given while options are parsed and checked once after.
 */
bool ns_rename_add(bool to, const char *arg, bson_error_t *err);
/* After parsing: pairs complete and each well formed; false (64). */
bool ns_rename_check(bson_error_t *err);
bool ns_rename_given(void);
/* The new name of "db.coll" (the same when no pair matches); bson_free it. */
char *ns_rename(const char *ns);

#endif
