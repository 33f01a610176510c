#!/usr/bin/env bash
# CSV and TSV both ways, against mongoexport and mongoimport 100.11: the
# same collection exported by both is the same bytes (header or not, fields
# from a list or a file); the same CSV/TSV files imported by both give the
# same documents (auto casts, nested names, quoting, typed columns and every
# --parse-grace); a bad row is set aside with its line and the rest loaded.
. "$(dirname "$0")/lib.sh"
require_servers
# the export fixture holds a Decimal128 cell
test_have_prereq DECIMAL128 || skip_all "$(prereq_why DECIMAL128)"
SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI MT=${MP_MONGO_TOOLS_BIN:-}
D=$TEST_DATA/csv
FIELDS=_id,s,i,l,d,b,n,dt,oid,arr,arr.0,arr.2.x,arr.9,sub,sub.a,sub.b.c,dec,bin,missing,s.x
TYPED='_id.int32(),name.string(),age.int32(),n.int64(),x.double(),ok.boolean(),when.date(2006-01-02 15:04:05),bin.binary(hex),d.decimal()'

# the documents of collection $1 on the target, by _id, canonical
coll() {
	mp-probe find "$DST" $TEST_DB.$1 "{}" "{\"_id\": 1}"
}

# has_line FILE FILTER: some line of the NDJSON FILE passes the jq FILTER
# (jq 1.6 -e answers for the last line only)
has_line() {
	command jq -c "select($2)" "$1" | grep -q . || { echo "no line of $1 passes $2:" >&2; cat "$1" >&2; false; }
}

test_expect_success 'seed a collection of every kind of cell' '
	mongo-load-bson --uri "$SRC" --ns $TEST_DB.c -q <"$D/export.ndjson" &&
	test $(mp-probe count "$SRC" $TEST_DB.c) = 7
'

test_expect_success 'CSV needs its fields; the CSV options need CSV (64, nothing written)' '
	test_expect_code 64 mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --format csv >out 2>err &&
	test_must_be_empty out && test_grep "need the fields" err &&
	test_expect_code 64 mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --fields a >out 2>err &&
	test_grep "go with --format csv or tsv" err &&
	test_expect_code 64 mongo-load-bson --uri "$DST" --ns $TEST_DB.x --type csv </dev/null 2>err &&
	test_grep "one of --fields, --field-file and --header-line" err &&
	test_expect_code 64 mongo-load-bson --uri "$DST" --ns $TEST_DB.x --type csv --fields "a,a.b" </dev/null 2>err &&
	test_grep "cannot both be set" err &&
	test_expect_code 64 mongo-watch --uri "$SRC" --ns $TEST_DB.c --format csv 2>err &&
	test_grep "takes bson or ndjson" err
'

test_expect_success MONGO_TOOLS 'CSV export is byte for byte mongoexport --type csv (with and without header)' '
	"$MT/mongoexport" --quiet --uri "$SRC" --db $TEST_DB --collection c --type csv --fields "$FIELDS" \
		--sort "{\"_id\": 1}" --out theirs.csv &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --sort "{\"_id\": 1}" --format csv --fields "$FIELDS" >ours.csv &&
	test_cmp theirs.csv ours.csv &&
	test $(wc -l <ours.csv) -gt 8 &&
	"$MT/mongoexport" --quiet --uri "$SRC" --db $TEST_DB --collection c --type=csv --fields "$FIELDS" \
		--noHeaderLine --sort "{\"_id\": 1}" --out theirs-nh.csv &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --sort "{\"_id\": 1}" --type csv --fields "$FIELDS" \
		--noHeaderLine >ours-nh.csv &&
	test_cmp theirs-nh.csv ours-nh.csv &&
	tail -n +2 ours.csv >body && test_cmp body ours-nh.csv
'

test_expect_success MONGO_TOOLS '--field-file as mongoexport --fieldFile; -o FILE and --gzip as for NDJSON' '
	echo "$FIELDS" | tr , "\n" >fields.txt &&
	"$MT/mongoexport" --quiet --uri "$SRC" --db $TEST_DB --collection c --type csv --fieldFile fields.txt \
		--sort "{\"_id\": 1}" --out theirs-ff.csv &&
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --sort "{\"_id\": 1}" --format csv --field-file fields.txt \
		-o ours-ff.csv --gzip &&
	gzip -dc ours-ff.csv >ours-ff.txt &&
	test_cmp theirs-ff.csv ours-ff.txt &&
	ls ours-ff.csv* >files && test $(wc -l <files) = 1
'

test_expect_success 'a few cells by hand: ObjectId, dates, doubles, quoting, missing' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --sort "{\"_id\": 1}" --format csv --fields _id,oid,dt,d,s \
		--limit 2 >few.csv &&
	cat >expect <<-\EOF &&
	_id,oid,dt,d,s
	1,ObjectId(5f0c1a2b3c4d5e6f70819203),2020-05-01T10:20:30.123Z,1,plain
	2,,1969-12-30T23:59:59.999Z,0.1,"comma, and ""quotes"""
	EOF
	test_cmp expect few.csv
'

test_expect_success 'TSV: cells joined by tabs; a cell with a tab or a line break is bad data (65)' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --sort "{\"_id\": 1}" --format tsv --fields _id,i,sub.a \
		--limit 3 >few.tsv &&
	printf "_id\ti\tsub.a\n1\t42\t2.5\n2\t-7\t\n3\t\t<tag>&amp;\n" >expect && test_cmp expect few.tsv &&
	test_expect_code 65 mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --sort "{\"_id\": 1}" --format tsv \
		--fields _id,s -o bad.tsv 2>err &&
	test_grep "record 3.*cannot be represented as TSV: field .s. holds a tab or a line break" err &&
	test ! -e bad.tsv
'

test_expect_success MONGO_TOOLS 'our TSV export is what mongoimport --type tsv reads as we do' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --sort "{\"_id\": 1}" --format tsv --fields _id,i,l,d,sub.a,dec \
		>export.tsv &&
	"$MT/mongoimport" --quiet --uri "$DST" --db $TEST_DB --collection tsv_theirs --type tsv --headerline \
		--file export.tsv &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.tsv_ours --type tsv --header-line -q <export.tsv &&
	coll tsv_theirs >theirs && coll tsv_ours >ours && test_cmp theirs ours && test $(wc -l <ours) = 7
'

test_expect_success MONGO_TOOLS 'CSV import: the same documents as mongoimport --type csv --headerline' '
	"$MT/mongoimport" --quiet --uri "$DST" --db $TEST_DB --collection csv_theirs --type csv --headerline \
		--file "$D/import.csv" &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.csv_ours --type csv --headerline -q --from "$D/import.csv" &&
	coll csv_theirs >theirs && coll csv_ours >ours && test_cmp theirs ours &&
	test $(wc -l <ours) = 5 &&
	grep -q "\"name\":\"Bob, Jr\"" ours && grep -q "two\\\\nlines" ours &&
	grep -q "\"addr\":{\"city\":\"Paris\",\"zip\":{\"\$numberInt\":\"75001\"}}" ours
'

test_expect_success MONGO_TOOLS 'CSV import with --ignore-blanks and --fields, as mongoimport' '
	tail -n +2 "$D/import.csv" >nohead.csv &&
	F=$(head -1 "$D/import.csv") &&
	"$MT/mongoimport" --quiet --uri "$DST" --db $TEST_DB --collection blank_theirs --type csv --fields "$F" \
		--ignoreBlanks --file nohead.csv &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.blank_ours --type csv --fields "$F" --ignore-blanks -q <nohead.csv &&
	coll blank_theirs >theirs && coll blank_ours >ours && test_cmp theirs ours &&
	! grep -q "\"big\":\"\"" ours
'

test_expect_success MONGO_TOOLS 'TSV import: the same documents as mongoimport --type tsv' '
	"$MT/mongoimport" --quiet --uri "$DST" --db $TEST_DB --collection tsvin_theirs --type tsv --headerline \
		--file "$D/import.tsv" &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.tsvin_ours --type tsv --headerline -q <"$D/import.tsv" &&
	coll tsvin_theirs >theirs && coll tsvin_ours >ours && test_cmp theirs ours && test $(wc -l <ours) = 3
'

for grace in autoCast skipField skipRow; do
	test_expect_success MONGO_TOOLS "typed columns, --parse-grace $grace: as mongoimport" '
		tail -n +2 "$D/typed.csv" >typed.csv &&
		"$MT/mongoimport" --quiet --uri "$DST" --db $TEST_DB --collection t_'$grace'_theirs --type csv \
			--columnsHaveTypes --fields "$TYPED" --parseGrace '$grace' --file typed.csv &&
		mongo-load-bson --uri "$DST" --ns $TEST_DB.t_'$grace'_ours --type csv --columns-have-types \
			--fields "$TYPED" --parse-grace '$grace' -q <typed.csv 2>err &&
		coll t_'$grace'_theirs >theirs && coll t_'$grace'_ours >ours && test_cmp theirs ours &&
		grep -q "\"when\":{\"\$date\":{\"\$numberLong\":\"1577934245000\"}}" ours &&
		grep -q "\"n\":{\"\$numberLong\":\"5000000000\"}" ours &&
		grep -q "\"bin\":{\"\$binary\":{\"base64\":\"AQL/\",\"subType\":\"00\"}}" ours &&
		grep -q "\"d\":{\"\$numberDecimal\":\"1.10\"}" ours
	'
done

test_expect_success 'typed columns, --parse-grace skipRow: the skipped rows go to --reject' '
	mongo-load-bson --uri "$DST" --ns $TEST_DB.skip_rej --type csv --columns-have-types --fields "$TYPED" \
		--parse-grace skipRow --reject rej.ndjson -q <typed.csv &&
	test $(mp-probe count "$DST" $TEST_DB.skip_rej) = 2 &&
	has_line rej.ndjson ".line == 2 and (.error | test(\"skipRow.*column .age.: .notanumber. is not a valid int32\"))" &&
	has_line rej.ndjson ".line == 3 and .raw == \"3,Cy,40,8,bad,FALSE,2021-13-01 00:00:00,zz,x\""
'

test_expect_success 'typed columns, --parse-grace stop (the default): 65 at the bad row, the rows before it loaded' '
	test_expect_code 65 mongo-load-bson --uri "$DST" --ns $TEST_DB.stop --type csv --columns-have-types \
		--fields "$TYPED" --workers 1 <typed.csv 2>err &&
	test_grep "record 2 (line 2, byte offset [0-9]*): column .age.: .notanumber. is not a valid int32" err &&
	test $(mp-probe count "$DST" $TEST_DB.stop) = 1 &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.stop_rej --type csv --columns-have-types --fields "$TYPED" \
		--reject rej2.ndjson -q <typed.csv &&
	test $(mp-probe count "$DST" $TEST_DB.stop_rej) = 2 && test $(wc -l <rej2.ndjson) = 2
'

test_expect_success 'date_ms and date_oracle formats, dates with zones' '
	printf "1,01/02/2020 15:04,02-JAN-20,2020-01-02T03:04:05.5+02:00\n" >dates.csv &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.dates --type csv --columns-have-types -q \
		--fields "_id.int32(),a.date_ms(MM/dd/yyyy HH:mm),b.date_oracle(DD-MON-YY),c.date(2006-01-02T15:04:05Z07:00)" \
		<dates.csv &&
	coll dates >got &&
	echo "{\"_id\":{\"\$numberInt\":\"1\"},\"a\":{\"\$date\":{\"\$numberLong\":\"1577977440000\"}},\"b\":{\"\$date\":{\"\$numberLong\":\"1577923200000\"}},\"c\":{\"\$date\":{\"\$numberLong\":\"1577927045500\"}}}" >expect &&
	test_cmp expect got
'

test_expect_success 'a malformed row is set aside with its line; the rows around it are loaded' '
	printf "_id,v\n1,a\n2,\"multi\nline\"\n3,bad\"quote\n4,\"open\" x\n5,e\n" >bad.csv &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.bad --type csv --headerline --reject rej3.ndjson -q <bad.csv &&
	test $(mp-probe count "$DST" $TEST_DB.bad) = 3 &&
	has_line rej3.ndjson ".record == 3 and .line == 5 and (.error | test(\"bare .*line 5, column 6\")) and .raw == \"3,bad\\\"quote\"" &&
	has_line rej3.ndjson ".record == 4 and .line == 6 and (.error | test(\"extraneous .*line 6, column 10\"))" &&
	coll bad | jq -r .v >vs && printf "a\nmulti\nline\ne\n" >expect && test_cmp expect vs
'

test_expect_success 'without --reject a malformed row stops the load with 65, the rows before it loaded' '
	test_expect_code 65 mongo-load-bson --uri "$DST" --ns $TEST_DB.bad2 --type csv --headerline --workers 1 \
		<bad.csv 2>err &&
	test_grep "record 3 (line 5, byte offset 25): bare" err &&
	test $(mp-probe count "$DST" $TEST_DB.bad2) = 2
'

test_expect_success 'CSV round trip: our export read back by our import gives the same cells' '
	mongo-dump-bson --uri "$SRC" --ns $TEST_DB.c --sort "{\"_id\": 1}" --format csv --fields _id,s,i,l,sub.a >rt.csv &&
	mongo-load-bson --uri "$DST" --ns $TEST_DB.rt --type csv --headerline -q <rt.csv &&
	mongo-dump-bson --uri "$DST" --ns $TEST_DB.rt --sort "{\"_id\": 1}" --format csv --fields _id,s,i,l,sub.a >rt2.csv &&
	test_cmp rt.csv rt2.csv
'

test_done
