/*
 * test_idrange.c: _id range filters.  Rare types a server refuses are left
 * out of the $type lists; a $type list that would be empty is not written
 * (the server refuses one), and a bound beyond which nothing lies matches
 * nothing instead of writing an empty $or.
 */
#include <string.h>

#include "idrange.h"
#include "tap.h"

static char *
filter_of(const bson_value_t *lo, bool lo_incl, uint32_t omit)
{
	bson_t f = BSON_INITIALIZER;
	char *s;

	idrange_filter(&f, NULL, "_id", lo, lo_incl, NULL, false, omit);
	s = bson_as_canonical_extended_json(&f, NULL);
	bson_destroy(&f);
	return s;
}

static void
test_rare_left_out(void)
{
	bson_value_t v = {.value_type = BSON_TYPE_INT32, .value.v_int32 = 5};
	char *all = filter_of(&v, false, 0), *some = filter_of(&v, false, IDRANGE_RARE_ALL);

	has_str(all, "\"$numberInt\" : \"127\"", "MaxKey is listed above an int by default");
	ok(strstr(some, "\"127\"") == NULL && strstr(some, "\"19\"") == NULL,
		"MaxKey and Decimal128 left out when the server refuses them");
	has_str(some, "\"$numberInt\" : \"2\"", "strings are still above ints");
	bson_free(all);
	bson_free(some);
}

static void
test_no_empty_type_list(void)
{
	bson_value_t ts = {.value_type = BSON_TYPE_TIMESTAMP};
	bson_value_t maxkey = {.value_type = BSON_TYPE_MAXKEY};
	char *f;

	ts.value.v_timestamp.timestamp = 100;
	f = filter_of(&ts, false, IDRANGE_RARE_MAXKEY);
	ok(strstr(f, "\"$type\" : [ ]") == NULL, "no empty $type list above a Timestamp without MaxKey: %s", f);
	has_str(f, "$gt", "the comparison is still there");
	bson_free(f);
	f = filter_of(&maxkey, false, 0);
	ok(strstr(f, "\"$or\" : [ ]") == NULL && strstr(f, "\"$in\" : [") != NULL,
		"above MaxKey nothing lies: the bound matches nothing: %s", f);
	bson_free(f);
}

static void
test_rare_names(void)
{
	char buf[64];

	is_str(idrange_rare_names(IDRANGE_RARE_MINKEY | IDRANGE_RARE_DECIMAL, buf, sizeof buf), "MinKey, Decimal128",
		"rare types named for messages");
	is_str(idrange_rare_names(0, buf, sizeof buf), "", "none: empty");
}

int
main(void)
{
	test_rare_left_out();
	test_no_empty_type_list();
	test_rare_names();
	return tap_done();
}
