#!/usr/bin/env bash
# examples/fan-out-copy.sh: a full copy of one collection in N shares, each
# an independent worker run by GNU parallel (here one per core; one per
# machine or pod elsewhere: k8s/copy-job.yaml runs the same shares as a
# Kubernetes Indexed Job), then the proof share by share, the shares'
# verdicts together deciding the exit status.
#
#   SRC=... DST=... NS=shop.orders examples/fan-out-copy.sh [-n SHARES] [-j JOBS] [STATE]
#
#   share K:  mongo-dump-bson --partition K/N | mongo-load-bson --mode upsert
#   proof K:  mongo-hashdiff --partition K/N
#
# SHARES (-n, or the variable; default 4): every tool splits the _id space of
# the source the same way (--partition K/N), so share K is the same range in
# the copy and in the proof.  JOBS (-j, default SHARES) run at once.  STATE
# (default ./fan-out-NS) keeps share-K.done for each share copied, the
# differences of share K in diff-K.ndjson and GNU parallel's job logs.
#
# Restartable: rerun the same line after a kill.  Shares already copied are
# skipped; a share cut short is copied again whole, and --mode upsert makes
# the second copy of a document harmless.  Not from its last _id:
# mongo-dump-bson refuses --partition with --checkpoint or --resume-after-id
# (64), and a share is not dumped in _id order, which mongo-load-bson
# --checkpoint demands.  The split is computed from the source at each run:
# copy a collection that takes no writes (a live one: migrate-collection.sh),
# or the bounds may move between a kill and the rerun (the proof then names
# what fell between as missing).
#
# Exit 0: every share copied and equal; 1: a share differs (its differences
# on stdout and in STATE/diff-K.ndjson); 64: bad parameters; 69: GNU parallel
# is missing; else the highest status of a failed share (69 a server, 75
# interrupted, 128 + N killed by signal N: rerun).
set -euo pipefail
me=${0##*/}
die() { echo "$me: $2" >&2; exit "$1"; }
: "${SRC:?set SRC to the source URI}" "${DST:?set DST to the target URI}" "${NS:?set NS to db.coll}"
SHARES=${SHARES:-4}
JOBS=
while getopts n:j: opt; do
	case $opt in
	n) SHARES=$OPTARG ;;
	j) JOBS=$OPTARG ;;
	*) die 64 "usage: $me [-n SHARES] [-j JOBS] [STATE]" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || die 64 "usage: $me [-n SHARES] [-j JOBS] [STATE]"
JOBS=${JOBS:-$SHARES}
[[ $SHARES =~ ^[1-9][0-9]*$ ]] || die 64 "SHARES must be a number from 1: $SHARES"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die 64 "JOBS must be a number from 1: $JOBS"
STATE=${1:-./fan-out-$NS}
# moreutils has a parallel(1) of its own, with other options
parallel --version 2>/dev/null | grep -q '^GNU parallel' || die 69 "needs GNU parallel (Debian: apt-get install parallel)"
mkdir -p "$STATE"

# One share each, in a bash of its own started by GNU parallel: the URIs go
# through the environment, never into a job log.
copy_share() {
	set -euo pipefail
	local k=$1
	if [ -e "$STATE/share-$k.done" ]; then
		echo "copied before"
		return 0
	fi
	mongo-dump-bson --uri "$SRC" --ns "$NS" --partition "$k/$SHARES" -q |
		mongo-load-bson --uri "$DST" --ns "$NS" --mode upsert -q
	touch "$STATE/share-$k.done"
	echo "copied"
}
verify_share() {
	set -euo pipefail
	local k=$1
	mongo-hashdiff --source "$SRC" --target "$DST" --ns "$NS" --partition "$k/$SHARES" >"$STATE/diff-$k.ndjson"
	echo "equal"
}
export -f copy_share verify_share
export SRC DST NS SHARES STATE PARALLEL_SHELL=bash

# fan_out NAME FUNCTION: FUNCTION for every share, JOBS at once, each line
# it prints tagged with its share; then the shares' statuses together: 0 if
# every share ended 0, else the highest (1 differences; above, trouble).
fan_out() {
	local log=$STATE/$1.joblog st=0 worst
	parallel --jobs "$JOBS" --tag --joblog "$log" "$2" ::: $(seq 1 "$SHARES") || st=$?
	# parallel's own status counts the failed shares (1-100); above, it failed itself
	[ $st -le 100 ] || die "$st" "GNU parallel failed ($1)"
	# the job log, a line per share: column 7 its exit status, 8 the signal that killed it
	worst=$(awk -F'\t' -v shares="$SHARES" 'NR > 1 { n++; s = $8 > 0 ? 128 + $8 : $7; if (s > w) w = s }
		END { print n == shares ? w + 0 : "incomplete" }' "$log") || die 70 "cannot read $log"
	[ "$worst" != incomplete ] || die 70 "$log does not hold every share"
	return "$worst"
}

echo "== copy $NS in $SHARES shares, $JOBS at a time"
rc=0
fan_out copy copy_share || rc=$?
[ $rc = 0 ] || die $rc "a share was not copied (exit $rc): rerun the same command to copy what is left"
echo "== verify $NS, share by share"
fan_out verify verify_share || rc=$?
case $rc in
0) echo "verified: $NS is equal on both sides" ;;
1)
	cat "$STATE"/diff-*.ndjson
	echo "$me: $(cat "$STATE"/diff-*.ndjson | wc -l) differences in $NS (STATE/diff-K.ndjson)" >&2
	;;
*) echo "$me: the verification of a share failed (exit $rc): no verdict" >&2 ;;
esac
exit $rc
