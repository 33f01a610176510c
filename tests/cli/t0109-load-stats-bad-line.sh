#!/usr/bin/env bash
# A bad NDJSON line whose error message would quote part of a multi-byte
# character: the --stats exit record and the --reject line are still written,
# as valid JSON, naming the line.  Under the sanitizer build this used to be a
# UBSan report (a NULL from the JSON serializer stored through) and exit 86.
# No server: --dry-run reads and counts only.
. "$(dirname "$0")/lib.sh"

# thirteen good lines, then $1 as line 14
stream() {
	for i in $(seq 13); do printf '{"_id": %d}\n' "$i"; done
	printf '%s\n' "$1"
}

for bad in '{é' '{"a": 1, é}' 'é'; do
	test_expect_success "line 14 '$bad': 65, stats end with an exit record naming it" '
		stream "$bad" >in.ndjson && rm -f s.ndjson &&
		test_expect_code 65 mongo-load-bson --dry-run --ns a.b --stats s.ndjson <in.ndjson 2>err &&
		test_grep "record 14 (line 14" err &&
		jq -c . s.ndjson >/dev/null &&
		jq -r "select(.type == \"exit\") | [.status, .error] | @tsv" s.ndjson >exit &&
		test_grep "^65	.*record 14 (line 14" exit &&
		jq -se "map(select(.type == \"summary\"))[0].read == 13" s.ndjson
	'
	test_expect_success "line 14 '$bad' with --reject: set aside as valid JSON, the rest read" '
		stream "$bad" >in.ndjson && rm -f s.ndjson rej.ndjson &&
		mongo-load-bson --dry-run --ns a.b --stats s.ndjson --reject rej.ndjson <in.ndjson 2>err &&
		test $(wc -l <rej.ndjson) = 1 &&
		jq -e ".line == 14 and .record == 14" rej.ndjson &&
		jq -r .raw rej.ndjson >raw && printf "%s\n" "$bad" >expect && test_cmp expect raw &&
		jq -se "map(select(.type == \"summary\"))[0] | .read == 13 and .rejected == 1" s.ndjson
	'
done

test_expect_success 'an input file name that is not UTF-8: the exit record is still written' '
	stream "{bad" >"$(printf "in\377.ndjson")" && rm -f s.ndjson &&
	test_expect_code 65 mongo-load-bson --dry-run --ns a.b --stats s.ndjson \
		--from "$(printf "in\377.ndjson")" 2>err &&
	jq -r "select(.type == \"exit\") | .status" s.ndjson >st && echo 65 >expect && test_cmp expect st
'

test_done
