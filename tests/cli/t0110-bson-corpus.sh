#!/usr/bin/env bash
# MongoDB's BSON corpus (tests/corpus/setup fetches it): every case of every
# file through libcommon's reader and writer (mp-corpus check: valid cases
# both ways in canonical and relaxed Extended JSON, degenerate and lossy
# forms, decodeErrors refused by the BSON reader, parseErrors by the NDJSON
# reader, each with 65 and its record named), then a sample of each kind
# through the tools themselves.
. "$(dirname "$0")/lib.sh"

CORPUS=$("$TEST_ROOT/tests/corpus/setup" 2>"$SCRATCH/setup.err") ||
	skip_all "the BSON corpus cannot be fetched: $(tail -1 "$SCRATCH/setup.err")"
FILES=$(cd "$CORPUS" && ls *.json)
[ -n "$FILES" ] || skip_all "the BSON corpus in $CORPUS is empty"

for f in $FILES; do
	mp-corpus check "$CORPUS/$f" >"$SCRATCH/$f.out" 2>&1
	sed -n '1s/^[a-zA-Z]* \([^:]*\): \(.*\)/# \1: \2/p' "$SCRATCH/$f.out"
	test_expect_success "corpus $f: every case passes" '
		cat "$SCRATCH/$f.out" && head -1 "$SCRATCH/$f.out" | grep -q "^ok "
	'
done

test_expect_success 'the corpus has its 31 files and every kind of case' '
	test $(echo "$FILES" | wc -w) -ge 31 &&
	cat "$SCRATCH"/*.json.out | sed -n "s/^ok [^:]*: //p" >counts &&
	awk -F"[ /]" "{v += \$2; d += \$5; p += \$8} END {print v, d, p; exit !(v >= 700 && d >= 70 && p >= 170)}" counts
'

test_expect_success 'setup: the sample streams' '
	mkdir sample && (cd "$CORPUS" && mp-corpus export "$SCRATCH/sample" $FILES)
'

test_expect_success 'mongo-dump-bson --from: BSON of every valid case to canonical NDJSON' '
	mongo-dump-bson --from sample/valid.bson --format ndjson >canonical.ndjson &&
	(cd "$CORPUS" && mp-corpus compare canonical $FILES) <canonical.ndjson
'

test_expect_success 'mongo-dump-bson --from: ... and to relaxed NDJSON' '
	mongo-dump-bson --from sample/valid.bson --format ndjson --json relaxed >relaxed.ndjson &&
	(cd "$CORPUS" && mp-corpus compare relaxed $FILES) <relaxed.ndjson
'

test_expect_success 'mongo-dump-bson --from: canonical Extended JSON back to the exact BSON' '
	mongo-dump-bson --from sample/cej.ndjson --format bson >back.bson &&
	cmp back.bson sample/cej.bson
'

test_expect_success 'our relaxed output loads back (mongo-load-bson --dry-run)' '
	n=$(wc -l <relaxed.ndjson) &&
	mongo-load-bson --ns corpus.relaxed --dry-run <relaxed.ndjson 2>err &&
	test_grep "$n documents would be written" err
'

test_expect_success 'mongo-load-bson --dry-run: every decodeErrors case is 65, the good record before it read' '
	for b in sample/decode-*.bson; do
		test_expect_code 65 mongo-load-bson --ns corpus.decode --dry-run <$b 2>err &&
		grep -q "record [2-9][0-9]* at byte offset" err || { echo "$b:"; cat err; exit 1; }
	done
'

test_expect_success 'mongo-dump-bson --from: a decodeErrors case stops BSON passthrough with 65' '
	test_expect_code 65 mongo-dump-bson --from sample/decode-1.bson --format bson >out.bson 2>err &&
	test_grep "record 2 at byte offset 5" err &&
	test $(wc -c <out.bson) = 5
'

test_expect_success 'mongo-load-bson --dry-run --reject: every parseErrors line set aside, every good line kept' '
	bad=$(cat sample/parse.count) &&
	mongo-load-bson --ns corpus.parse --dry-run --reject rej.ndjson <sample/parse.ndjson 2>err &&
	test $(wc -l <rej.ndjson) = "$bad" &&
	test_grep "$bad documents would be written" err &&
	jq -c "select(.line % 2 == 1)" rej.ndjson >odd && test_must_be_empty odd
'

test_expect_success 'mongo-dump-bson --from: the first parseErrors line stops the copy with 65 at line 2' '
	test_expect_code 65 mongo-dump-bson --from sample/parse.ndjson --format bson >out.bson 2>err &&
	test_grep "record 2 (line 2, byte offset" err
'

test_expect_success 'a document with a field name twice keeps both, in order, NDJSON -> BSON -> NDJSON' '
	printf "%s\n" "{\"_id\": 1, \"a\": 1, \"a\": \"two\"}" >dup.ndjson &&
	mongo-dump-bson --from dup.ndjson --format bson -o dup.bson &&
	mongo-dump-bson --from dup.bson --format ndjson --json relaxed >back.ndjson &&
	printf "%s\n" "{\"_id\":1,\"a\":1,\"a\":\"two\"}" >expect &&
	test_cmp expect back.ndjson
'

test_done
