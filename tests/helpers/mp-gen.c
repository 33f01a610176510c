/*
 * mp-gen: write N deterministic test documents as BSON on stdout, about 270
 * bytes each, nested, of mixed types (for round trips and benchmarks).
 *
 *   mp-gen N [--start K] [--mixed-ids] [--all-types] [--no-decimal] [--events DB.COLL]
 *
 * _id is an int32 (K+i) by default; --mixed-ids cycles ObjectId, int32,
 * int64, double, string, document and binary _ids; --all-types adds regex,
 * JavaScript code, timestamp, MinKey and MaxKey fields; --events wraps each
 * document in an insert change event on DB.COLL (as MongoDB writes them:
 * resume token, clusterTime, wallTime, ns, documentKey, fullDocument).
 * --no-decimal (or MP_GEN_NO_DECIMAL=1 in the environment) writes "amount"
 * as a string, for a server without Decimal128 (FerretDB 1.x).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bson/bson.h>

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
word(char *buf, size_t len)
{
	static const char *alpha = "abcdefghijklmnopqrstuvwxyz ";

	for (size_t i = 0; i < len; i++)
		buf[i] = alpha[next() % 27];
	buf[len] = '\0';
}

static void
append_id(bson_t *d, int64_t i, bool mixed)
{
	char s[32];
	bson_oid_t oid;
	uint8_t bin[8];
	bson_t sub;

	if (!mixed) {
		BSON_APPEND_INT32(d, "_id", (int32_t)i);
		return;
	}
	switch (i % 7) {
	case 0:
		memset(oid.bytes, 0, 12);
		for (int k = 0; k < 8; k++)
			oid.bytes[4 + k] = (uint8_t)(i >> (8 * (7 - k)));
		oid.bytes[0] = 0x60;
		BSON_APPEND_OID(d, "_id", &oid);
		break;
	case 1:
		BSON_APPEND_INT32(d, "_id", (int32_t)i);
		break;
	case 2:
		BSON_APPEND_INT64(d, "_id", i * 1000003LL);
		break;
	case 3:
		BSON_APPEND_DOUBLE(d, "_id", (double)i + 0.5);
		break;
	case 4:
		snprintf(s, sizeof s, "id-%08lld", (long long)i);
		BSON_APPEND_UTF8(d, "_id", s);
		break;
	case 5:
		bson_append_document_begin(d, "_id", 3, &sub);
		BSON_APPEND_INT64(&sub, "k", i);
		BSON_APPEND_UTF8(&sub, "region", i % 2 ? "eu" : "us");
		bson_append_document_end(d, &sub);
		break;
	default:
		for (int k = 0; k < 8; k++)
			bin[k] = (uint8_t)(i >> (8 * (7 - k)));
		BSON_APPEND_BINARY(d, "_id", BSON_SUBTYPE_BINARY, bin, sizeof bin);
		break;
	}
}

int
main(int argc, char **argv)
{
	int64_t n, start = 0;
	bool mixed = false, all = false, no_decimal = getenv("MP_GEN_NO_DECIMAL") && *getenv("MP_GEN_NO_DECIMAL") == '1';
	const char *events = NULL;
	char evdb[256] = "", evcoll[256] = "";
	uint8_t *out;
	size_t len = 0, cap = 1 << 20;

	if (argc < 2) {
		fprintf(stderr, "usage: mp-gen N [--start K] [--mixed-ids] [--all-types]\n");
		return 2;
	}
	n = atoll(argv[1]);
	for (int a = 2; a < argc; a++) {
		if (strcmp(argv[a], "--mixed-ids") == 0)
			mixed = true;
		else if (strcmp(argv[a], "--all-types") == 0)
			all = true;
		else if (strcmp(argv[a], "--no-decimal") == 0)
			no_decimal = true;
		else if (strcmp(argv[a], "--start") == 0 && a + 1 < argc)
			start = atoll(argv[++a]);
		else if (strcmp(argv[a], "--events") == 0 && a + 1 < argc)
			events = argv[++a];
	}
	if (events) {
		const char *dot = strchr(events, '.');

		if (dot == NULL || dot - events >= (long)sizeof evdb) {
			fprintf(stderr, "mp-gen: --events takes DB.COLL\n");
			return 2;
		}
		snprintf(evdb, sizeof evdb, "%.*s", (int)(dot - events), events);
		snprintf(evcoll, sizeof evcoll, "%s", dot + 1);
	}
	out = malloc(cap);
	for (int64_t i = start; i < start + n; i++) {
		bson_t d = BSON_INITIALIZER, nested, tags, sub, arr;
		char s[64], t[16];
		bson_decimal128_t dec;
		uint8_t bin[8];

		append_id(&d, i, mixed);
		BSON_APPEND_INT32(&d, "i", (int32_t)(i % 100000));
		BSON_APPEND_INT64(&d, "l", (int64_t)(next() % 10000000000ULL));
		BSON_APPEND_DOUBLE(&d, "price", (double)(next() % 100000) / 100.0);
		word(s, 10 + next() % 10);
		BSON_APPEND_UTF8(&d, "name", s);
		BSON_APPEND_BOOL(&d, "active", next() % 2);
		BSON_APPEND_DATE_TIME(&d, "created", 1600000000000LL + (int64_t)(next() % 100000000000ULL));
		snprintf(t, sizeof t, "%llu.%02llu", (unsigned long long)(next() % 10000), (unsigned long long)(next() % 100));
		bson_decimal128_from_string(t, &dec);
		if (no_decimal)
			BSON_APPEND_UTF8(&d, "amount", t);
		else
			BSON_APPEND_DECIMAL128(&d, "amount", &dec);
		for (size_t k = 0; k < sizeof bin; k++)
			bin[k] = (uint8_t)next();
		BSON_APPEND_BINARY(&d, "blob", BSON_SUBTYPE_BINARY, bin, sizeof bin);
		BSON_APPEND_NULL(&d, "none");
		bson_append_document_begin(&d, "nested", -1, &nested);
		BSON_APPEND_INT32(&nested, "a", (int32_t)(next() % 1000));
		bson_append_array_begin(&nested, "tags", -1, &tags);
		for (int k = 0; k < 2; k++) {
			char key[4];

			snprintf(key, sizeof key, "%d", k);
			word(s, 6);
			BSON_APPEND_UTF8(&tags, key, s);
		}
		bson_append_array_end(&nested, &tags);
		bson_append_document_begin(&nested, "sub", -1, &sub);
		BSON_APPEND_DOUBLE(&sub, "x", (double)(next() % 1000) / 7.0);
		word(s, 6);
		BSON_APPEND_UTF8(&sub, "y", s);
		bson_append_document_end(&nested, &sub);
		bson_append_document_end(&d, &nested);
		bson_append_array_begin(&d, "arr", -1, &arr);
		BSON_APPEND_INT32(&arr, "0", (int32_t)(next() % 100));
		BSON_APPEND_DOUBLE(&arr, "1", 0.25);
		bson_append_array_end(&d, &arr);
		if (all) {
			BSON_APPEND_REGEX(&d, "re", "^ab+c$", "im");
			BSON_APPEND_CODE(&d, "js", "function () { return 1; }");
			BSON_APPEND_TIMESTAMP(&d, "ts", 1700000000u + (uint32_t)i, 7);
			BSON_APPEND_MINKEY(&d, "lo");
			BSON_APPEND_MAXKEY(&d, "hi");
			BSON_APPEND_DOUBLE(&d, "neg0", -0.0);
			BSON_APPEND_UTF8(&d, "uni", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
		}
		if (events) {
			bson_t e = BSON_INITIALIZER, tok, ns, key;
			bson_iter_t id;
			char data[40];

			snprintf(data, sizeof data, "8200000000%016llX", (unsigned long long)i);
			bson_append_document_begin(&e, "_id", 3, &tok);
			BSON_APPEND_UTF8(&tok, "_data", data);
			bson_append_document_end(&e, &tok);
			BSON_APPEND_UTF8(&e, "operationType", "insert");
			BSON_APPEND_TIMESTAMP(&e, "clusterTime", 1700000000u + (uint32_t)(i / 1000), (uint32_t)(i % 1000) + 1);
			BSON_APPEND_DATE_TIME(&e, "wallTime", (1700000000LL + i / 1000) * 1000);
			BSON_APPEND_DOCUMENT(&e, "fullDocument", &d);
			bson_append_document_begin(&e, "ns", 2, &ns);
			BSON_APPEND_UTF8(&ns, "db", evdb);
			BSON_APPEND_UTF8(&ns, "coll", evcoll);
			bson_append_document_end(&e, &ns);
			bson_append_document_begin(&e, "documentKey", -1, &key);
			bson_iter_init_find(&id, &d, "_id");
			bson_append_iter(&key, "_id", 3, &id);
			bson_append_document_end(&e, &key);
			bson_destroy(&d);
			d = e;
		}
		if (len + d.len > cap) {
			if (write(1, out, len) != (ssize_t)len)
				return 1;
			len = 0;
		}
		memcpy(out + len, bson_get_data(&d), d.len);
		len += d.len;
		bson_destroy(&d);
	}
	if (len && write(1, out, len) != (ssize_t)len)
		return 1;
	free(out);
	return 0;
}
