/*
 * nsmap.h: where a namespace goes on the target.
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
 * *db_out and *coll_out (bson_free them) when a rule matched, or when none did and
 * `keep_unmapped`; false when the namespace is not to be applied.
 */
bool ns_map_apply(const struct ns_map *m, const char *db, const char *coll, bool keep_unmapped,
	char **db_out, char **coll_out);
bool ns_map_empty(const struct ns_map *m);
void ns_map_destroy(struct ns_map *m);

#endif
