#!/usr/bin/env bash
# examples/nightly-verify.sh: cron verification that repairs what differs and
# logs (or mails) the report.
#
#   SRC=... DST=... NS=shop.orders LOG=/var/log/mongo-pipes examples/nightly-verify.sh
#   # crontab: 15 3 * * *  SRC=... DST=... NS=shop.orders /path/examples/nightly-verify.sh
#
# Exit 0: equal (or repaired and then equal); 1: still different after the
# repair; 64 and up: trouble.  MAILTO set: the report is mailed with mail(1).
set -euo pipefail
: "${SRC:?}" "${DST:?}" "${NS:?}"
LOG=${LOG:-./verify-logs}
mkdir -p "$LOG"
day=$(date +%Y%m%d-%H%M%S)
report=$LOG/$NS-$day.txt
rc=0
mongo-hashdiff --source "$SRC" --target "$DST" --ns "$NS" --recheck 2 --recheck-delay 5 \
	--stats "$LOG/$NS-$day.stats" >"$LOG/$NS-$day.diff" 2>>"$report" || rc=$?
if [ $rc = 1 ]; then
	echo "$(wc -l <"$LOG/$NS-$day.diff") differences; repairing" >>"$report"
	# exit 1 (differences) is what this pipe is for
	{ mongo-hashdiff --source "$SRC" --target "$DST" --ns "$NS" --emit repair 2>>"$report" || [ $? = 1 ]; } |
		mongo-replay --uri "$DST" 2>>"$report"
	rc=0
	mongo-hashdiff --source "$SRC" --target "$DST" --ns "$NS" >>"$report" 2>&1 || rc=$?
	[ $rc = 0 ] && echo "repaired: equal" >>"$report"
fi
[ $rc = 0 ] && [ ! -s "$LOG/$NS-$day.diff" ] && echo "equal" >>"$report"
if [ -n "${MAILTO:-}" ] && command -v mail >/dev/null; then
	mail -s "mongo-pipes verify $NS: exit $rc" "$MAILTO" <"$report"
fi
cat "$report"
exit $rc
