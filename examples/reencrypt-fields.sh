#!/usr/bin/env bash
# examples/reencrypt-fields.sh: copy one collection to another deployment,
# re-encrypting sensitive fields on the way (by default AES-256-CBC under the
# old key to AES-256-GCM under the new one).
#
#   SRC=mongodb://old DST=mongodb://new NS=shop.customers FIELDS="ssn card.number" \
#   FROM_KEY_FILE=old.key TO_KEY_FILE=new.key examples/reencrypt-fields.sh [WORKDIR]
#
# 1. dump and re-encrypt into a staging file in WORKDIR; mongo-recrypt -o
#    renames it into place only when every document was re-encrypted, so a
#    wrong key (or any bad value) leaves no staging file and loads nothing
# 2. load the staging file (upsert: a rerun does no harm)
#    (nor when a field of FIELDS matched no document: misspelt, most likely)
# 3. verify that the target has as many documents as the source
# Keys are files (chmod 600) or, with FROM_KEY_ENV/TO_KEY_ENV, the names of
# environment variables that hold them; never command-line arguments.
set -euo pipefail
: "${SRC:?set SRC to the source URI}" "${DST:?set DST to the target URI}" "${NS:?set NS to db.coll}"
: "${FIELDS:?set FIELDS to the fields to re-encrypt, e.g. \"ssn card.number\"}"
FROM=${FROM:-aes-256-cbc}
TO=${TO:-aes-256-gcm}
WORK=${1:-./reencrypt-${NS}}
mkdir -p "$WORK"
STAGED=$WORK/staged.bson

key() { # key from|to: the option naming where that side's key is
	local f=${1^^}_KEY_FILE e=${1^^}_KEY_ENV
	local file=${!f:-} env=${!e:-}
	if [ -n "$file" ]; then
		echo "--$1-key-file=$file"
	elif [ -n "$env" ]; then
		echo "--$1-key-env=$env"
	else
		echo "set ${1^^}_KEY_FILE or ${1^^}_KEY_ENV" >&2
		exit 64
	fi
}
args=(--from "$FROM" --to "$TO")
[ "$FROM" = none ] || args+=("$(key from)")
[ "$TO" = none ] || args+=("$(key to)")
for f in $FIELDS; do
	args+=(--field "$f")
done

echo "== 1. dump and re-encrypt into $STAGED"
rm -f "$STAGED"
mongo-dump-bson --uri "$SRC" --ns "$NS" | mongo-recrypt "${args[@]}" -o "$STAGED" 2>"$WORK/recrypt.err" || {
	rc=$?
	cat "$WORK/recrypt.err" >&2
	echo "re-encryption failed (exit $rc): nothing loaded" >&2
	rm -f "$STAGED"
	exit $rc
}
cat "$WORK/recrypt.err" >&2
# a field spelt wrong would copy its plaintext or old ciphertext unchanged
if grep -q "matched no document" "$WORK/recrypt.err"; then
	echo "a field matched no document (misspelt?): nothing loaded" >&2
	rm -f "$STAGED"
	exit 65
fi

echo "== 2. load"
mongo-load-bson --uri "$DST" --ns "$NS" --from "$STAGED" --mode upsert -q

echo "== 3. verify"
count() {
	mongo-dump-bson --uri "$1" --ns "$NS" --projection '{"_id": 1}' --format ndjson | wc -l
}
src=$(count "$SRC") dst=$(count "$DST")
if [ "$src" != "$dst" ]; then
	echo "the target has $dst documents, the source $src" >&2
	exit 1
fi
echo "verified: $NS has $dst documents on both sides, fields re-encrypted: $FIELDS"
