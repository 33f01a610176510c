/*
 * test_nsselect.c: namespace patterns and selection with mongo-tools'
 * rules: `*` matches any run of characters, dots included; `\` makes the
 * next character literal; no include selects all; an exclude always wins.
 */
#include "nsmap.h"
#include "tap.h"

static void
test_patterns(void)
{
	ok(ns_pattern_match("shop.*", "shop.orders"), "db.* matches a collection");
	ok(ns_pattern_match("shop.*", "shop.a.b"), "* spans dots");
	ok(!ns_pattern_match("shop.*", "shopx.orders"), "the database must match");
	ok(ns_pattern_match("dept*.bar", "dept12.bar") && ns_pattern_match("dept*.bar", "dept.bar"),
		"a star inside the database name, empty or not");
	ok(ns_pattern_match("module-*", "module-a.coll"), "mongorestore's \"module-*\" takes whole databases");
	ok(ns_pattern_match("a.\\*", "a.*") && !ns_pattern_match("a.\\*", "a.b"), "\\* is a literal star");
	ok(ns_pattern_match("*", "x.y") && ns_pattern_match("a.b", "a.b") && !ns_pattern_match("a.b", "a.bc"),
		"whole strings only");
	ok(ns_pattern_match("*.*_dev", "transactions.x_dev") && !ns_pattern_match("*.*_dev", "transactions.dev"),
		"stars at both ends");
}

static void
test_selection(void)
{
	bson_error_t err;

	ok(ns_selected("a", "b") && !ns_select_given(), "nothing given: everything is selected");
	ok(!ns_select_add(NS_INCLUDE, "", &err), "an empty pattern is refused");
	ok(ns_select_add(NS_INCLUDE, "shop.*", &err) && ns_select_add(NS_INCLUDE, "logs.app", &err),
		"two includes");
	ok(ns_select_add(NS_EXCLUDE, "shop.*_dev", &err), "an exclude");
	ok(ns_select_add(NS_EXCLUDE_COLLECTION, "audit", &err) && ns_select_add(NS_EXCLUDE_PREFIX, "tmp_", &err),
		"mongodump's collection excludes");
	ok(ns_selected("shop", "orders") && ns_selected("logs", "app"), "included");
	ok(!ns_selected("logs", "web") && !ns_selected("other", "x"), "not included: left out");
	ok(!ns_selected("shop", "orders_dev"), "an exclude wins over an include");
	ok(!ns_selected("shop", "audit") && !ns_selected("shop", "tmp_1"), "excluded by name and by prefix");
	ok(ns_selected("shop", NULL) && ns_selected("logs", NULL) && !ns_selected("other", NULL),
		"a whole database: selected when an include can match one of its collections");
}

int
main(void)
{
	test_patterns();
	test_selection();
	return tap_done();
}
