#!/usr/bin/env bash
# examples/fan-out-copy.sh and examples/k8s/copy-job.yaml: a full copy in 4
# shares, one share killed mid-way and rerun, the target proved equal; the
# Kubernetes Job's command run here for every index.
. "$(dirname "$0")/lib.sh"
require_servers
EX=$TEST_ROOT/examples
export SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI
REAL_DUMP=$(command -v mongo-dump-bson)

# a static source: a few thousand documents, _ids of mixed types
N=$(scaled 3000 600) N2=$(scaled 2000 400)
test_expect_success "a source of $N documents" '
	mp-gen $N --mixed-ids | mongo-load-bson --uri "$SRC" --ns $TEST_DB.c -q &&
	test "$(mp-probe count "$SRC" $TEST_DB.c)" = $N
'

# wrap/mongo-dump-bson: while the file kill-share3 exists, the dump of share
# 3/4 writes the first half of its documents and is killed (SIGKILL), once
mkdir wrap
cat >wrap/mongo-dump-bson <<EOF
#!/bin/sh
case " \$* " in *" --partition 3/4 "*) ;; *) exec "$REAL_DUMP" "\$@" ;; esac
[ -e "$SCRATCH/kill-share3" ] || exec "$REAL_DUMP" "\$@"
rm "$SCRATCH/kill-share3"
"$REAL_DUMP" "\$@" --format ndjson >"$SCRATCH/share3.ndjson" || exit
head -n \$((\$(wc -l <"$SCRATCH/share3.ndjson") / 2)) "$SCRATCH/share3.ndjson"
kill -KILL \$\$
EOF
chmod +x wrap/mongo-dump-bson

test_expect_success GNU_PARALLEL 'fan-out-copy.sh: share 3 killed mid-way, the run fails naming it' '
	export NS=$TEST_DB.c &&
	touch kill-share3 &&
	test_expect_code 137 env PATH="$SCRATCH/wrap:$PATH" "$EX/fan-out-copy.sh" -n 4 state >out 2>err &&
	test ! -e kill-share3 &&
	test_grep "rerun the same command" err &&
	ls state/share-*.done >done && printf "state/share-%s.done\n" 1 2 4 >expect && test_cmp expect done &&
	n3=$(wc -l <share3.ndjson) && test $n3 -gt 100 &&
	test "$(mp-probe count "$DST" $NS)" = $((N - n3 + n3 / 2)) &&
	test_expect_code 1 mongo-hashdiff --source "$SRC" --target "$DST" --ns $NS >diff &&
	test "$(jq -r .diff diff | sort -u)" = missing && test "$(wc -l <diff)" = $((n3 - n3 / 2))
'

test_expect_success GNU_PARALLEL 'fan-out-copy.sh: the rerun copies share 3 alone, verifies every share, exit 0' '
	export NS=$TEST_DB.c &&
	"$EX/fan-out-copy.sh" -n 4 state >out 2>err &&
	grep -E "^[0-9]	copied" out | sort >got &&
	printf "1\tcopied before\n2\tcopied before\n3\tcopied\n4\tcopied before\n" >expect &&
	test_cmp expect got &&
	test "$(grep -c "	equal$" out)" = 4 && test_grep "verified: $NS is equal" out &&
	mongo-hashdiff --source "$SRC" --target "$DST" --ns $NS &&
	test "$(mp-probe count "$DST" $NS)" = $N
'

test_expect_success GNU_PARALLEL 'fan-out-copy.sh: a difference in one share is exit 1, the document named' '
	export NS=$TEST_DB.c &&
	id=$(mp-probe find "$DST" $NS "{}" "{\"_id\": 1}" | sed -n "$((N / 3))p" | jq -c ._id) &&
	test -n "$id" &&
	mp-probe update "$DST" $NS "{\"_id\": $id}" "{\"\$set\": {\"drift\": 1}}" &&
	test_expect_code 1 "$EX/fan-out-copy.sh" -n 4 state >out 2>err &&
	test "$(grep -c "	equal$" out)" = 3 &&
	jq -e "select(.diff == \"changed\") | ._id == $id" <(grep "^{" out) &&
	test_grep "1 differences" err
'

test_expect_success GNU_PARALLEL 'fan-out-copy.sh: bad parameters are 64' '
	export NS=$TEST_DB.c &&
	test_expect_code 64 "$EX/fan-out-copy.sh" -n 0 state 2>err && test_grep "SHARES" err &&
	test_expect_code 64 "$EX/fan-out-copy.sh" -x 2>err &&
	test_expect_code 64 "$EX/fan-out-copy.sh" a b 2>err
'

test_expect_success 'fan-out-copy.sh without GNU parallel: 69, saying so' '
	mkdir nopar && ln -s /bin/false nopar/parallel &&
	NS=$TEST_DB.c test_expect_code 69 env PATH="$SCRATCH/nopar:$PATH" "$EX/fan-out-copy.sh" state 2>err &&
	test_grep "needs GNU parallel" err
'

# The Job's container command, from the YAML: with python3-yaml the parsed
# Job (command, args, env), else the lines between "# BEGIN share" and
# "# END share" run by bash with the env the test sets.
JOB=$EX/k8s/copy-job.yaml
job_by_sed() {
	sed -n '/# BEGIN share$/,/# END share$/p' "$JOB" | sed 's/^ *//'
}
if test_have_prereq PYYAML; then
	test_expect_success PYYAML 'copy-job.yaml: an Indexed Job of 4, URIs from a Secret only' '
		/usr/bin/python3 - "$JOB" >job.env <<-\PY &&
		import shlex, sys, yaml
		job = yaml.safe_load(open(sys.argv[1]))
		assert job["kind"] == "Job" and job["apiVersion"] == "batch/v1"
		spec = job["spec"]
		assert spec["completionMode"] == "Indexed"
		assert spec["completions"] == spec["parallelism"]
		pod = spec["template"]["spec"]
		(c,) = pod["containers"]
		env = {e["name"]: e["value"] for e in c["env"]}
		assert int(env["SHARES"]) == spec["completions"]
		mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
		secrets = [v["name"] for v in pod["volumes"] if "secret" in v]
		assert [env["URI_DIR"]] == [mounts[s] for s in secrets]
		argv = c["command"] + c["args"]
		assert not any("mongodb" in str(v) for v in list(env.values()) + argv)
		assert "--uri " not in " ".join(argv) and "--uri-file" in " ".join(argv)
		for k, v in env.items():
		    print("export %s=%s" % (k, shlex.quote(v)))
		print("cmd=(%s)" % " ".join(shlex.quote(a) for a in argv))
		PY
		. ./job.env && test "$SHARES" = 4 && test "${cmd[0]}" = /bin/bash &&
		job_by_sed >sed.sh && printf "%s\n" "${cmd[2]}" | sed "s/^ *//" | sed "/^$/d" >yaml.sh &&
		test_cmp yaml.sh sed.sh
	'
else
	test_skip 'copy-job.yaml parsed' "$(prereq_why PYYAML)"
fi

test_expect_success 'copy-job.yaml: every index run here copies its share, the union equals the source' '
	mkdir secret && printf "%s\n" "$SRC" >secret/source-uri && printf "%s\n" "$DST" >secret/target-uri &&
	if test -s job.env; then . ./job.env; else export SHARES=4 && cmd=(/bin/bash -c "$(job_by_sed)"); fi &&
	export NS=$TEST_DB2.k URI_DIR=$SCRATCH/secret &&
	mp-gen $N2 --mixed-ids | mongo-load-bson --uri "$SRC" --ns $NS -q &&
	for i in $(seq 0 $((SHARES - 1))); do
		JOB_COMPLETION_INDEX=$i "${cmd[@]}" >job$i.out 2>job$i.err ||
			{ echo "index $i: exit $?"; cat job$i.err; exit 1; }
		test_grep "share $((i + 1))/$SHARES of $NS" job$i.out || exit 1
	done &&
	mongo-hashdiff --source "$SRC" --target "$DST" --ns $NS &&
	test "$(mp-probe count "$DST" $NS)" = $N2
'

test_expect_success 'copy-job.yaml: an index whose share differs exits 1' '
	test -s secret/source-uri &&
	if test -s job.env; then . ./job.env; else export SHARES=4 && cmd=(/bin/bash -c "$(job_by_sed)"); fi &&
	export NS=$TEST_DB2.k URI_DIR=$SCRATCH/secret &&
	mp-probe insert "$DST" $NS "{\"_id\": \"zzz-extra\"}" &&
	{ for i in $(seq 0 $((SHARES - 1))); do
		JOB_COMPLETION_INDEX=$i "${cmd[@]}" >>jobs.out 2>/dev/null; echo $?
	done; } | sort | uniq -c | awk "{print \$1, \$2}" >got &&
	printf "%s\n" "3 0" "1 1" >expect && test_cmp expect got &&
	jq -e "select(.diff == \"extra\") | ._id == \"zzz-extra\"" <(grep "^{" jobs.out)
'

test_done
