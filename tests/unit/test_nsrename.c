/*
 * test_nsrename.c: --ns-from/--ns-to with mongorestore's rules (its
 * mongorestore/ns tests give the cases): `*` pairs in order, `$name$`
 * variables in any order, the shortest match first, the last pair first,
 * misuse refused.
 */
#include <string.h>

#include "nsmap.h"
#include "tap.h"

static bool
renames(const char *from_ns, const char *want)
{
	char *got = ns_rename(from_ns);
	bool ok = strcmp(got, want) == 0;

	if (!ok)
		printf("# %s -> %s, not %s\n", from_ns, got, want);
	bson_free(got);
	return ok;
}

int
main(void)
{
	bson_error_t err;

	ok(!ns_rename_given() && renames("a.b", "a.b"), "nothing given: names kept");
	ok(ns_rename_add(false, "shop.*", &err) && ns_rename_add(true, "shop2.*", &err) && ns_rename_check(&err),
		"a * pair");
	ok(renames("shop.orders", "shop2.orders") && renames("shop.a.b", "shop2.a.b"), "* spans dots");
	ok(renames("shopx.orders", "shopx.orders"), "no match: kept");
	ok(ns_rename_add(false, "$db$.logs_$year$", &err) && ns_rename_add(true, "old_$db$.$year$.logs", &err) &&
		   ns_rename_check(&err),
		"a $var$ pair, variables reordered");
	ok(renames("web.logs_2024", "old_web.2024.logs"), "variables carried");
	ok(ns_rename_add(false, "shop.orders", &err) && ns_rename_add(true, "archive.o", &err) &&
		   ns_rename_check(&err) && renames("shop.orders", "archive.o") && renames("shop.items", "shop2.items"),
		"the pair given last wins; the earlier one still renames the rest");
	ok(ns_rename_add(false, "x.\\*", &err) && ns_rename_add(true, "y.star", &err) && ns_rename_check(&err) &&
		   renames("x.*", "y.star") && renames("x.a", "x.a"),
		"\\* is a literal star");
	ok(ns_rename_add(false, "$a$_$b$", &err) && ns_rename_add(true, "$b$-$a$", &err) && ns_rename_check(&err) &&
		   renames("p.q_r_s", "r_s-p.q"),
		"the first variable takes the shortest run that lets the rest match");
	{
		/* twelve variables that cannot all match: tried naively, the ways
		 * of splitting 60 letters among them are beyond counting */
		char name[80];

		snprintf(name, sizeof name, "db.%060d", 0);
		for (char *c = name + 3; *c; c++)
			*c = 'a';
		ok(ns_rename_add(false, "*a*a*a*a*a*a*a*a*a*a*a*b", &err) &&
			   ns_rename_add(true, "x.*-*-*-*-*-*-*-*-*-*-*-*", &err) && ns_rename_check(&err) &&
			   renames(name, name) && renames("db.aaaaaaaaaaab", "x.db.-----------"),
			"many variables: no match found at once, and a match still found");
	}
	ok(ns_rename_add(false, "a.*", &err) && !ns_rename_check(&err) && strstr(err.message, "pairs"),
		"a --ns-from without its --ns-to: %s", err.message);
	return tap_done();
}
