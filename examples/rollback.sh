#!/usr/bin/env bash
# examples/rollback.sh: migrate a database into an EXISTING target database,
# and put the target back exactly as it was if the result does not validate.
#
#   SRC=mongodb://old DST=mongodb://new DB=shop [VALIDATE='cmd'] examples/rollback.sh [WORKDIR]
#
# 1. backup: mongo-dump-bson --archive of DB on the target (documents,
#    collection options, indexes and views in one file), checked whole by
#    mongo-load-bson --dry-run (every record and every collection's CRC-64);
#    the names of its collections are kept in WORKDIR/before.list
# 2. proof of the backup: the archive is loaded into CHECK_DB (default
#    DB_rollback_check, on CHECK_URI, default DST) and mongo-hashdiff --db
#    (documents and metadata) proves CHECK_DB equal to DB.  Nothing is
#    written to DB before this holds.
# 3. migration: mongo-dump-bson --db | mongo-load-bson --mode upsert, SRC to
#    DST (the source's collections, options and indexes; target documents
#    the source lacks stay, and so fail step 4)
# 4. validation: mongo-hashdiff --db DB between SRC and DST (documents,
#    indexes, options, views), then VALIDATE if set (run by bash with SRC,
#    DST and DB in its environment).  A failure of either, or of step 3,
#    means rollback.
# 5. rollback: the collections that were not in the backup are dropped, the
#    backup restored with mongo-load-bson --archive --drop, and
#    mongo-hashdiff --db proves DB equal to CHECK_DB, which step 2 proved
#    equal to DB before the migration: so DB is back as it was, documents
#    and metadata.  A second dump could not prove it: an archive's bytes
#    change with the order of its segments and the collections' new uuids.
#
# Exit 0: migrated and validated.  1: rolled back, and the target proven
# equal to its state before the migration.  2: the rollback failed or could
# not be proven (rerun to finish it).  3: the backup did not load back equal
# to DB.  Any other status is the failing tool's, in step 1 or 2.  With 3 and
# those, nothing was written to DB.
#
# Point in time: nothing but this job may write to DB on the target from
# step 1 to the end, or a rollback takes those writes back too.
# Restartable: the state lives in WORKDIR.  A rerun after a crash takes the
# backup again only if the migration had not started, copies again
# (upserts are idempotent) if it had, and finishes a rollback once begun.
# A finished job (WORKDIR/done or WORKDIR/rolled-back) is not run again:
# remove WORKDIR for a new attempt.  There is no drop tool: a collection is
# dropped with mongo-load-bson --drop and no documents.
set -euo pipefail
: "${SRC:?set SRC to the source URI}" "${DST:?set DST to the target URI}" "${DB:?set DB to the database}"
WORK=${1:-./rollback-$DB}
CHECK_URI=${CHECK_URI:-$DST}
CHECK_DB=${CHECK_DB:-${DB}_rollback_check}
VALIDATE=${VALIDATE:-}
BACKUP=$WORK/backup.archive
if [ "$CHECK_DB" = "$DB" ] && [ "$CHECK_URI" = "$DST" ]; then
	echo "rollback.sh: CHECK_DB must not be DB on the target: it is emptied and loaded with the backup" >&2
	exit 64
fi
mkdir -p "$WORK"

say() { echo "rollback.sh: $*"; }
fail() { echo "rollback.sh: $*" >&2; }

# drop_collections URI DB [KEEP]: drop every collection of DB on URI whose
# namespace is not a line of the file KEEP
drop_collections() {
	local uri=$1 db=$2 keep=${3:-/dev/null} list ns
	list=$(mongo-dump-bson --uri "$uri" --db "$db" --list) || return
	for ns in $list; do
		grep -qxF -- "$ns" "$keep" && continue
		mongo-load-bson --uri "$uri" --ns "$ns" --drop -q </dev/null || return
	done
}

# the collections of DB on the target, its archive, checked, and its proof
backup() {
	local rc=0
	rm -f "$WORK/before.list"
	mongo-dump-bson --uri "$DST" --db "$DB" --list >"$WORK/before.list.tmp" || return
	mongo-dump-bson --uri "$DST" --db "$DB" --archive="$BACKUP" -q || return
	mongo-load-bson --uri "$DST" --archive="$BACKUP" --dry-run -q || return
	drop_collections "$CHECK_URI" "$CHECK_DB" || return
	mongo-load-bson --uri "$CHECK_URI" --archive="$BACKUP" --ns-from "$DB.*" --ns-to "$CHECK_DB.*" --drop -q || return
	mongo-hashdiff --source "$DST" --target "$CHECK_URI" --db "$DB" --target-ns "$CHECK_DB" \
		>"$WORK/backup-diff.ndjson" 2>"$WORK/backup-diff.log" || rc=$?
	if [ $rc != 0 ]; then
		fail "the backup does not load back equal to $DB (mongo-hashdiff exit $rc, $WORK/backup-diff.ndjson)"
		[ $rc != 1 ] || rc=3
		return $rc
	fi
	mv "$WORK/before.list.tmp" "$WORK/before.list"
}

rollback() {
	local rc=0
	touch "$WORK/rolling-back"
	say "rolling back $DB on the target to $BACKUP"
	drop_collections "$DST" "$DB" "$WORK/before.list" || rc=$?
	[ $rc != 0 ] || mongo-load-bson --uri "$DST" --archive="$BACKUP" --drop -q || rc=$?
	[ $rc != 0 ] || mongo-hashdiff --source "$CHECK_URI" --target "$DST" --db "$CHECK_DB" --target-ns "$DB" \
		>"$WORK/rollback-diff.ndjson" 2>"$WORK/rollback-diff.log" || rc=$?
	if [ $rc != 0 ]; then
		fail "ROLLBACK FAILED (exit $rc): $DB on the target is not proven as it was; rerun to finish the rollback"
		exit 2
	fi
	touch "$WORK/rolled-back"
	rm -f "$WORK/rolling-back"
	drop_collections "$CHECK_URI" "$CHECK_DB" || fail "could not drop $CHECK_DB (exit $?)"
	say "ROLLED BACK: $DB on the target equals its state before the migration (documents and metadata); the migration did not take"
	exit 1
}

if [ -e "$WORK/done" ]; then
	say "migrated earlier ($WORK/done); remove $WORK for a new migration"
	exit 0
fi
if [ -e "$WORK/rolled-back" ]; then
	say "ROLLED BACK earlier ($WORK/rolled-back); remove $WORK for a new attempt"
	exit 1
fi
[ ! -e "$WORK/rolling-back" ] || rollback

if [ -e "$WORK/migrating" ]; then
	say "1-2. backup taken before the migration began: $BACKUP"
else
	say "1-2. backup of $DB on the target to $BACKUP, checked and proven"
	rc=0
	backup || rc=$?
	if [ $rc != 0 ]; then
		fail "backup failed (exit $rc): nothing was written to $DB"
		exit $rc
	fi
	touch "$WORK/migrating"
fi

say "3. migration of $DB from the source"
rc=0
mongo-dump-bson --uri "$SRC" --db "$DB" --archive -q | mongo-load-bson --uri "$DST" --mode upsert -q || rc=$?
if [ $rc != 0 ]; then
	fail "migration failed (exit $rc)"
	rollback
fi

say "4. validation"
rc=0
mongo-hashdiff --source "$SRC" --target "$DST" --db "$DB" >"$WORK/diff.ndjson" 2>"$WORK/diff.log" || rc=$?
if [ $rc != 0 ]; then
	fail "mongo-hashdiff: the target differs from the source (exit $rc; $(wc -l <"$WORK/diff.ndjson") differences in $WORK/diff.ndjson)"
	rollback
fi
if [ -n "$VALIDATE" ]; then
	export SRC DST DB
	bash -c "$VALIDATE" || rc=$?
	if [ $rc != 0 ]; then
		fail "VALIDATE failed (exit $rc): $VALIDATE"
		rollback
	fi
fi

touch "$WORK/done"
rm -f "$WORK/migrating"
drop_collections "$CHECK_URI" "$CHECK_DB" || fail "could not drop $CHECK_DB (exit $?)"
say "migrated and validated: $DB on the target equals the source; the backup stays in $BACKUP"
