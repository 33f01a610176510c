/*
 * test_bsoncmp.c: the comparator orders mixed-type values exactly as the
 * server sorts them: brackets, numbers across types, strings by bytes,
 * documents and arrays element by element, binData by length first.
 */
#include <stdlib.h>

#include "bsoncmp.h"
#include "tap.h"

/* Values in ascending order; entries with the same group compare equal. */
struct entry {
	int group;
	const char *json; /* {"v": <value>} in canonical Extended JSON */
};

static const struct entry order[] = {
	{1, "{\"v\": {\"$minKey\": 1}}"},
	{2, "{\"v\": {\"$undefined\": true}}"},
	{3, "{\"v\": null}"},
	{4, "{\"v\": {\"$numberDouble\": \"NaN\"}}"},
	{4, "{\"v\": {\"$numberDecimal\": \"NaN\"}}"},
	{5, "{\"v\": {\"$numberDouble\": \"-Infinity\"}}"},
	{5, "{\"v\": {\"$numberDecimal\": \"-Infinity\"}}"},
	{6, "{\"v\": {\"$numberLong\": \"-9223372036854775808\"}}"},
	{7, "{\"v\": {\"$numberDouble\": \"-1.5\"}}"},
	{8, "{\"v\": {\"$numberInt\": \"-1\"}}"},
	{8, "{\"v\": {\"$numberLong\": \"-1\"}}"},
	{8, "{\"v\": {\"$numberDouble\": \"-1.0\"}}"},
	{8, "{\"v\": {\"$numberDecimal\": \"-1.000\"}}"},
	{9, "{\"v\": {\"$numberInt\": \"0\"}}"},
	{9, "{\"v\": {\"$numberDouble\": \"-0.0\"}}"},
	{9, "{\"v\": {\"$numberDecimal\": \"0E+3\"}}"},
	{9, "{\"v\": {\"$numberDecimal\": \"-0\"}}"},
	{10, "{\"v\": {\"$numberDouble\": \"0.5\"}}"},
	{10, "{\"v\": {\"$numberDecimal\": \"0.50\"}}"},
	{11, "{\"v\": {\"$numberDecimal\": \"0.75\"}}"},
	{12, "{\"v\": {\"$numberInt\": \"1\"}}"},
	{12, "{\"v\": {\"$numberDecimal\": \"1.0\"}}"},
	{13, "{\"v\": {\"$numberDecimal\": \"1.000000000000000000000000000000001\"}}"},
	{14, "{\"v\": {\"$numberDouble\": \"9007199254740992.0\"}}"},
	{15, "{\"v\": {\"$numberLong\": \"9007199254740993\"}}"},
	{16, "{\"v\": {\"$numberDouble\": \"9007199254740994.0\"}}"},
	{17, "{\"v\": {\"$numberLong\": \"9223372036854775807\"}}"},
	{18, "{\"v\": {\"$numberDouble\": \"9223372036854775808.0\"}}"},
	{19, "{\"v\": {\"$numberDecimal\": \"1E+30\"}}"},
	{20, "{\"v\": {\"$numberDouble\": \"Infinity\"}}"},
	{20, "{\"v\": {\"$numberDecimal\": \"Infinity\"}}"},
	{21, "{\"v\": \"\"}"},
	{22, "{\"v\": \"A\"}"},
	{23, "{\"v\": \"a\"}"},
	{24, "{\"v\": \"ab\"}"},
	{24, "{\"v\": {\"$symbol\": \"ab\"}}"},
	{25, "{\"v\": \"b\"}"},
	{26, "{\"v\": \"\\u00e9\"}"},
	{27, "{\"v\": {}}"},
	{28, "{\"v\": {\"a\": {\"$numberInt\": \"1\"}}}"},
	{28, "{\"v\": {\"a\": {\"$numberDouble\": \"1.0\"}}}"},
	{29, "{\"v\": {\"a\": {\"$numberInt\": \"1\"}, \"b\": {\"$numberInt\": \"1\"}}}"},
	{30, "{\"v\": {\"a\": {\"$numberInt\": \"2\"}}}"},
	/* type bracket before field name: {b: 0} < {a: "x"} */
	{31, "{\"v\": {\"b\": {\"$numberInt\": \"0\"}}}"},
	{32, "{\"v\": {\"a\": \"x\"}}"},
	{33, "{\"v\": []}"},
	{34, "{\"v\": [{\"$numberInt\": \"1\"}]}"},
	{35, "{\"v\": [{\"$numberInt\": \"1\"}, {\"$numberInt\": \"2\"}]}"},
	{36, "{\"v\": [{\"$numberInt\": \"2\"}]}"},
	{37, "{\"v\": {\"$binary\": {\"base64\": \"BQ==\", \"subType\": \"00\"}}}"},
	{38, "{\"v\": {\"$binary\": {\"base64\": \"//8=\", \"subType\": \"00\"}}}"},
	{39, "{\"v\": {\"$binary\": {\"base64\": \"AAA=\", \"subType\": \"04\"}}}"},
	{40, "{\"v\": {\"$oid\": \"000000000000000000000001\"}}"},
	{41, "{\"v\": {\"$oid\": \"ffffffffffffffffffffffff\"}}"},
	{42, "{\"v\": false}"},
	{43, "{\"v\": true}"},
	{44, "{\"v\": {\"$date\": {\"$numberLong\": \"-1\"}}}"},
	{45, "{\"v\": {\"$date\": {\"$numberLong\": \"0\"}}}"},
	{46, "{\"v\": {\"$date\": {\"$numberLong\": \"1000000000000\"}}}"},
	{47, "{\"v\": {\"$timestamp\": {\"t\": 1, \"i\": 5}}}"},
	{48, "{\"v\": {\"$timestamp\": {\"t\": 2, \"i\": 0}}}"},
	{49, "{\"v\": {\"$regularExpression\": {\"pattern\": \"a\", \"options\": \"\"}}}"},
	{50, "{\"v\": {\"$regularExpression\": {\"pattern\": \"a\", \"options\": \"i\"}}}"},
	{51, "{\"v\": {\"$regularExpression\": {\"pattern\": \"b\", \"options\": \"\"}}}"},
	{52, "{\"v\": {\"$code\": \"x\"}}"},
	{53, "{\"v\": {\"$maxKey\": 1}}"},
};
#define N (sizeof order / sizeof order[0])

static bson_t *docs[N];

static int
cmp_at(size_t i, size_t j)
{
	bson_iter_t a, b;

	bson_iter_init_find(&a, docs[i], "v");
	bson_iter_init_find(&b, docs[j], "v");
	return bsoncmp_iter(&a, &b);
}

static int
qsort_cmp(const void *x, const void *y)
{
	return cmp_at(*(const size_t *)x, *(const size_t *)y);
}

int
main(void)
{
	size_t bad = 0, i, j, idx[N];
	bson_error_t err;

	for (i = 0; i < N; i++) {
		docs[i] = bson_new_from_json((const uint8_t *)order[i].json, -1, &err);
		if (!ok(docs[i] != NULL, "fixture %zu parses", i))
			printf("#   %s: %s\n", order[i].json, err.message);
	}
	for (i = 0; i < N; i++)
		for (j = 0; j < N; j++) {
			int want = order[i].group < order[j].group ? -1 : order[i].group > order[j].group;
			int got = cmp_at(i, j);

			got = got < 0 ? -1 : got > 0;
			if (got != want) {
				if (bad++ < 10)
					printf("# %s vs %s: got %d, want %d\n", order[i].json, order[j].json, got, want);
			}
		}
	is_int(bad, 0, "all %zu ordered pairs compare as MongoDB sorts them", N * N);

	/* a reversed list sorts back into order */
	for (i = 0; i < N; i++)
		idx[i] = N - 1 - i;
	qsort(idx, N, sizeof idx[0], qsort_cmp);
	for (i = 1, bad = 0; i < N; i++)
		if (order[idx[i - 1]].group > order[idx[i]].group)
			bad++;
	is_int(bad, 0, "sorting a reversed list restores the server's order");

	ok(bsoncmp_type_rank(BSON_TYPE_INT32) == bsoncmp_type_rank(BSON_TYPE_DECIMAL128),
		"all numbers share a bracket");
	ok(bsoncmp_type_rank(BSON_TYPE_UTF8) == bsoncmp_type_rank(BSON_TYPE_SYMBOL),
		"strings and symbols share a bracket");
	ok(bsoncmp_doc(docs[39], docs[40]) == 0, "bsoncmp_doc: {v:{a:1}} equals {v:{a:1.0}}");
	for (i = 0; i < N; i++)
		bson_destroy(docs[i]);
	return tap_done();
}
