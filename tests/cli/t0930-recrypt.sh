#!/usr/bin/env bash
# mongo-recrypt: fields encrypted by the real `openssl enc -aes-256-cbc`
# re-encrypted to AES-256-GCM and decrypted back to their plaintext;
# Salsa20 (from a Python Salsa20 written here) as --from, refused as --to; GCM checked against python's cryptography package; a
# wrong key, a bad value or a bad key file fails naming what and where
# (65) and --reject sets the record aside; a key cannot be given on the
# command line; a document without the fields passes byte for byte; and
# examples/reencrypt-fields.sh loads nothing when a key is wrong.  A wrong
# CBC key is caught by the padding 255 times in 256, else by the UTF-8 check
# of the plaintext: the messages allow for either.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip_all "openssl is not installed"

# cbc KEYHEX TEXT: IV || openssl's ciphertext, base64 on one line
cbc() {
	local iv
	iv=$(openssl rand -hex 16)
	{ printf "%s" "$iv" | xxd -r -p; printf "%s" "$2" | openssl enc -aes-256-cbc -K "$1" -iv "$iv"; } | base64 -w0
}
# plain FILE...: the ssn and card.number of each document, a line each
plain() {
	cat "$@" | mongo-dump-bson --from - --format ndjson | jq -r '[.ssn, .card.number] | @tsv'
}
RC="--field ssn --field card.number"

test_expect_success 'setup: keys, and CBC fields made by openssl enc' '
	openssl rand -hex 32 >old.key && openssl rand -hex 32 >new.key && openssl rand -hex 32 >other.key &&
	chmod 600 old.key new.key other.key &&
	K=$(cat old.key) &&
	for i in 1 2 3; do
		printf "{\"_id\": %d, \"ssn\": \"%s\", \"card\": {\"number\": \"%s\", \"exp\": \"12/29\"}, \"n\": %d}\n" \
			$i "$(cbc $K "12$i-45-678$i")" "$(cbc $K "4111 1111 1111 111$i é")" $i
	done >cbc.ndjson &&
	printf "12%d-45-678%d\t4111 1111 1111 111%d é\n" 1 1 1 2 2 2 3 3 3 >expect.plain &&
	sed -e "s/\"ssn\": \"\([^\"]*\)\"/\"ssn\": {\"\$binary\": {\"base64\": \"\1\", \"subType\": \"00\"}}/" \
		cbc.ndjson | mongo-dump-bson --from - >cbc.bson &&
	test -s cbc.bson
'

test_expect_success 'openssl CBC (base64 strings) -> GCM -> plaintext' '
	mongo-recrypt $RC --from aes-256-cbc --from-key-file old.key --to aes-256-gcm --to-key-file new.key \
		<cbc.ndjson >gcm.ndjson &&
	test $(wc -l <gcm.ndjson) = 3 &&
	jq -e "(.ssn | type) == \"string\" and .ssn != \"\" and .card.exp == \"12/29\"" gcm.ndjson >/dev/null &&
	! grep -q "123-45" gcm.ndjson &&
	mongo-recrypt $RC --from aes-256-gcm --from-key-file new.key --to none <gcm.ndjson >back.ndjson &&
	jq -r "[.ssn, .card.number] | @tsv" back.ndjson >actual && test_cmp expect.plain actual
'

test_expect_success 'openssl CBC in BSON binary -> GCM keeps binary, and decrypts back' '
	mongo-recrypt $RC --from aes-256-cbc --from-key-file old.key --to aes-256-gcm --to-key-file new.key \
		<cbc.bson >gcm.bson &&
	mongo-dump-bson --from gcm.bson --format ndjson >gcm2.ndjson &&
	jq -e ".ssn[\"\$binary\"].subType == \"00\" and (.card.number | type) == \"string\"" gcm2.ndjson >/dev/null &&
	mongo-recrypt $RC --from aes-256-gcm --from-key-file new.key --to none <gcm.bson >back.bson &&
	plain back.bson >actual && test_cmp expect.plain actual
'

# Salsa20 is only ever a --from: its fixtures come from salsa20.py, a
# Salsa20/20 written here from Bernstein's specification, checked on two
# eSTREAM vectors: also an independent cross-check of libcommon/salsa20.c.
if command -v python3 >/dev/null; then
	test_expect_success 'salsa20 fixtures from an independent Python Salsa20 (eSTREAM vectors agree)' '
		cat >salsa20.py <<-\PY &&
		import base64, json, os, struct, sys

		def rotl(v, c):
		    return ((v << c) | (v >> (32 - c))) & 0xffffffff

		def quarterround(y, a, b, c, d):
		    y[b] ^= rotl((y[a] + y[d]) & 0xffffffff, 7)
		    y[c] ^= rotl((y[b] + y[a]) & 0xffffffff, 9)
		    y[d] ^= rotl((y[c] + y[b]) & 0xffffffff, 13)
		    y[a] ^= rotl((y[d] + y[c]) & 0xffffffff, 18)

		def salsa20_hash(block):
		    x = list(struct.unpack("<16I", block))
		    z = x[:]
		    for _ in range(10):
		        for q in ((0, 4, 8, 12), (5, 9, 13, 1), (10, 14, 2, 6), (15, 3, 7, 11)):
		            quarterround(z, *q)
		        for q in ((0, 1, 2, 3), (5, 6, 7, 4), (10, 11, 8, 9), (15, 12, 13, 14)):
		            quarterround(z, *q)
		    return struct.pack("<16I", *((a + b) & 0xffffffff for a, b in zip(z, x)))

		def keystream(key, nonce, n):
		    s = b"expand 32-byte k"
		    out = b""
		    for i in range((n + 63) // 64):
		        n16 = nonce + struct.pack("<Q", i)
		        out += salsa20_hash(s[0:4] + key[:16] + s[4:8] + n16 + s[8:12] + key[16:] + s[12:16])
		    return out[:n]

		def seal(key, text):
		    nonce = os.urandom(8)
		    data = text.encode()
		    return nonce + bytes(a ^ b for a, b in zip(data, keystream(key, nonce, len(data))))

		if sys.argv[1] == "vectors":
		    print(keystream(bytes([0x80]) + bytes(31), bytes(8), 256)[192:256].hex().upper())
		    print(keystream(bytes.fromhex("0053A6F94C9FF24598EB3E91E4378ADD3083D6297CCF2275C81B6EC11467BA0D"),
		                    bytes.fromhex("0D74DB42A91077DE"), 64).hex().upper())
		else:
		    key = bytes.fromhex(open(sys.argv[2]).read().strip())
		    for i, line in enumerate(open(sys.argv[3]), 1):
		        ssn, number = line.rstrip("\n").split("\t")
		        b64 = lambda v: base64.b64encode(v).decode()
		        print(json.dumps({"_id": i, "ssn": {"$binary": {"base64": b64(seal(key, ssn)), "subType": "00"}},
		                          "card": {"number": b64(seal(key, number)), "exp": "12/29"}}))
		PY
		python3 salsa20.py vectors >actual &&
		cat >expect <<-\EOF &&
		57BE81F47B17D9AE7C4FF15429A73E10ACF250ED3A90A93C711308A74C6216A9ED84CD126DA7F28E8ABF8BB63517E1CA98E712F4FB2E1A6AED9FDC73291FAA17
		F5FAD53F79F9DF58C4AEA0D0ED9A9601F278112CA7180D565B420A48019670EAF24CE493A86263F677B46ACE1924773D2BB25571E1AA8593758FC382B1280B71
		EOF
		test_cmp expect actual &&
		python3 salsa20.py seal other.key expect.plain >salsa.ndjson &&
		mongo-dump-bson --from - <salsa.ndjson >salsa.bson && test -s salsa.bson
	'

	test_expect_success 'salsa20 (Python, binary and base64) -> GCM (key from the environment) -> plaintext' '
		NEWKEY=$(cat new.key) mongo-recrypt $RC --from salsa20 --from-key-file other.key --to aes-256-gcm \
			--to-key-env NEWKEY <salsa.bson >gcm3.bson &&
		mongo-dump-bson --from gcm3.bson --format ndjson |
			jq -e ".ssn[\"\$binary\"].subType == \"00\" and (.card.number | type) == \"string\"" >/dev/null &&
		mongo-recrypt $RC --from aes-256-gcm --from-key-file new.key --to none <gcm3.bson >back3.bson &&
		plain back3.bson >actual && test_cmp expect.plain actual &&
		mongo-recrypt $RC --from salsa20 --from-key-file other.key --to none <salsa.ndjson >back4.ndjson &&
		jq -r "[.ssn, .card.number] | @tsv" back4.ndjson >actual && test_cmp expect.plain actual
	'
else
	test_skip 'salsa20 fixtures from an independent Python Salsa20' "python3 is not installed"
	test_skip 'salsa20 -> GCM -> plaintext' "python3 is not installed"
fi

test_expect_success '--to salsa20 is refused: 64 with one line why' '
	test_expect_code 64 mongo-recrypt $RC --from none --to salsa20 --to-key-file other.key </dev/null >out 2>err &&
	test_must_be_empty out &&
	test_grep "^mongo-recrypt: --to salsa20 is refused: .*nonces repeat.*no integrity" err
'

test_expect_success 'the same plaintext in three documents: three different values (fresh IVs and nonces)' '
	printf "{\"_id\": %d, \"ssn\": \"123-45-6789\"}\n" 1 2 3 >same3.ndjson &&
	for c in aes-256-gcm aes-256-cbc; do
		mongo-recrypt --field ssn --from none --to $c --to-key-file new.key --to-form base64 \
			<same3.ndjson >same3.$c &&
		jq -r .ssn same3.$c | sort -u | wc -l >n && echo 3 >expect && test_cmp expect n || exit 1
	done
'

test_expect_success '--to aes-256-cbc is what openssl enc -d -aes-256-cbc decrypts' '
	jq -r .ssn same3.aes-256-cbc >values &&
	while read -r v; do
		printf "%s" "$v" | base64 -d >value.bin &&
		iv=$(head -c 16 value.bin | xxd -p) &&
		tail -c +17 value.bin | openssl enc -d -aes-256-cbc -K "$(cat new.key)" -iv "$iv" &&
		echo || exit 1
	done <values >actual &&
	printf "123-45-6789\n123-45-6789\n123-45-6789\n" >expect && test_cmp expect actual
'

if python3 -c "import cryptography" 2>/dev/null; then
	test_expect_success 'GCM agrees with python cryptography, both ways' '
		cat >gcm.py <<-\PY &&
		import base64, json, os, sys
		from cryptography.hazmat.primitives.ciphers.aead import AESGCM
		key = bytes.fromhex(open("new.key").read().strip())
		if sys.argv[1] == "open":
		    for line in open("gcm.ndjson"):
		        v = base64.b64decode(json.loads(line)["ssn"])
		        print(AESGCM(key).decrypt(v[:12], v[12:], None).decode())
		else:
		    n = os.urandom(12)
		    v = n + AESGCM(key).encrypt(n, "python é".encode(), None)
		    print(json.dumps({"_id": 1, "ssn": base64.b64encode(v).decode()}))
		PY
		python3 gcm.py open >actual &&
		cut -f1 expect.plain >expect && test_cmp expect actual &&
		python3 gcm.py seal | mongo-recrypt --field ssn --from aes-256-gcm --from-key-file new.key --to none >out &&
		jq -r .ssn out >actual && echo "python é" >expect && test_cmp expect actual
	'
else
	test_skip 'GCM agrees with python cryptography, both ways' \
		"python3 cannot import cryptography ($(command -v python3 || echo no python3))"
fi

test_expect_success 'a wrong key: 65 naming record, offset and field; only the records before it written' '
	{ printf "{\"_id\": 0}\n"; cat cbc.ndjson; } | mongo-dump-bson --from - >mixed.bson &&
	test_expect_code 65 mongo-recrypt $RC --from aes-256-cbc --from-key-file other.key --to aes-256-gcm \
		--to-key-file new.key <mixed.bson >out.bson 2>err &&
	test_grep "record 2 at byte offset 14: field ssn: \(aes-256-cbc: bad padding\|the plaintext is not UTF-8\)" err &&
	test $(wc -l <err) = 1 &&
	mongo-dump-bson --from - --format ndjson <out.bson >out.ndjson && test $(wc -l <out.ndjson) = 1 &&
	test_expect_code 65 mongo-recrypt $RC --from aes-256-gcm --from-key-file old.key --to none \
		<gcm.ndjson >out 2>err &&
	test_grep "record 1 (line 1, byte offset 0): field ssn: aes-256-gcm: the tag does not match" err &&
	test_must_be_empty out &&
	test_expect_code 65 mongo-recrypt $RC --from aes-256-gcm --from-key-file old.key --to none \
		<gcm.ndjson -o staged.bson 2>err && test ! -e staged.bson
'

test_expect_success '--reject sets the bad record aside and keeps the good ones (exit 0)' '
	{ head -1 gcm.ndjson; jq -c ".ssn = \"not base64!\"" <(sed -n 2p gcm.ndjson); sed -n 3p gcm.ndjson; } >some-bad.ndjson &&
	mongo-recrypt $RC --from aes-256-gcm --from-key-file new.key --to none --reject rej.ndjson \
		<some-bad.ndjson >out 2>err &&
	test $(wc -l <out) = 2 && jq -r .ssn out >actual &&
	printf "121-45-6781\n123-45-6783\n" >expect && test_cmp expect actual &&
	test $(wc -l <rej.ndjson) = 1 &&
	jq -e ".record == 2 and .line == 2 and (.error | test(\"field ssn: bad base64\"))" rej.ndjson >/dev/null &&
	test_grep "1 record(s) set aside in rej.ndjson" err
'

test_expect_success 'a wrong key with --reject: the first 16 values all fail to decrypt, 65 (GCM and CBC)' '
	for i in $(seq 1 20); do printf "{\"_id\": %d, \"ssn\": \"ssn %d\"}\n" $i $i; done >twenty.ndjson &&
	for c in aes-256-gcm aes-256-cbc; do
		mongo-recrypt --field ssn --from none --to $c --to-key-file new.key <twenty.ndjson >twenty.$c &&
		test_expect_code 65 mongo-recrypt --field ssn --from $c --from-key-file other.key --to none \
			--reject rej-$c.ndjson <twenty.$c >out 2>err &&
		test_must_be_empty out &&
		test_grep "^mongo-recrypt: (stdin): record 16 (line 16, .*): the first 16 values all failed to decrypt (tag, padding or UTF-8): is the --from key wrong?" err ||
		exit 1
	done &&
	{ head -15 twenty.aes-256-cbc; mongo-recrypt --field ssn --from none --to aes-256-gcm --to-key-file other.key \
		<twenty.ndjson; } >mostly-bad.ndjson &&
	mongo-recrypt --field ssn --from aes-256-gcm --from-key-file other.key --to none --reject rej4.ndjson \
		<mostly-bad.ndjson >out 2>err &&
	test $(wc -l <out) = 20 && test $(wc -l <rej4.ndjson) = 15
'

test_expect_success 'bad values: too short, bad base64, wrong type are 65 naming the field' '
	printf "{\"_id\": 1, \"card\": {\"number\": \"AAAA\"}}\n" >short.ndjson &&
	test_expect_code 65 mongo-recrypt $RC --from aes-256-gcm --from-key-file new.key --to none <short.ndjson 2>err &&
	test_grep "field card.number: 3 bytes: too short for aes-256-gcm" err &&
	printf "{\"_id\": 1, \"ssn\": \"abc\"}\n" >b64.ndjson &&
	test_expect_code 65 mongo-recrypt $RC --from aes-256-cbc --from-key-file old.key --to none <b64.ndjson 2>err &&
	test_grep "field ssn: bad base64" err &&
	printf "{\"_id\": 1, \"ssn\": 123}\n" >num.ndjson &&
	test_expect_code 65 mongo-recrypt $RC --from aes-256-cbc --from-key-file old.key --to none <num.ndjson 2>err &&
	test_grep "field ssn: a value of BSON type 0x10" err &&
	test_expect_code 65 mongo-recrypt $RC --from none --to aes-256-gcm --to-key-file new.key <num.ndjson 2>err &&
	test_grep "a plaintext string is expected" err
'

test_expect_success 'a path that meets an array or a non-document is 65 naming record, offset and field' '
	printf "{\"_id\": 0, \"x\": 1}\n{\"_id\": 1, \"a\": [\"secret\"]}\n" >arr.ndjson &&
	test_expect_code 65 mongo-recrypt --field a.0 --from none --to aes-256-gcm --to-key-file new.key \
		<arr.ndjson >out 2>err &&
	test_grep "record 2 (line 2, byte offset 19): field a.0: a is an array (arrays are not entered)" err &&
	! grep -q secret out &&
	printf "{\"_id\": 1, \"a\": [{\"b\": \"secret\"}]}\n" >arr2.ndjson &&
	test_expect_code 65 mongo-recrypt --field a.b --from none --to aes-256-gcm --to-key-file new.key \
		<arr2.ndjson >out 2>err &&
	test_grep "record 1 (line 1, byte offset 0): field a.b: a is an array" err && test_must_be_empty out &&
	printf "{\"_id\": 1, \"a\": \"secret\"}\n" >str.ndjson &&
	test_expect_code 65 mongo-recrypt --field a.b --from none --to aes-256-gcm --to-key-file new.key \
		<str.ndjson >out 2>err &&
	test_grep "field a.b: a is of BSON type 0x02, not a document" err &&
	printf "{\"_id\": 1, \"a.b\": \"secret\"}\n{\"_id\": 2, \"a\": {\"b.c\": \"secret\"}}\n" >dots.ndjson &&
	test_expect_code 65 mongo-recrypt --field a.b --from none --to aes-256-gcm --to-key-file new.key \
		<dots.ndjson >out 2>err &&
	test_grep "record 1 .*: field a.b: a key \"a.b\" with a dot in it" err &&
	sed 1d dots.ndjson | test_expect_code 65 mongo-recrypt --field a.b.c --from none --to aes-256-gcm \
		--to-key-file new.key >out 2>err &&
	test_grep "record 1 .*: field a.b.c: a key \"b.c\" with a dot in it" err
'

test_expect_success '--reject sets a record with an array on the path aside; stats count what changed' '
	{ cat arr.ndjson; printf "{\"_id\": 2, \"a\": {\"0\": \"secret\"}}\n"; } >arr3.ndjson &&
	mongo-recrypt --field a.0 --from none --to aes-256-gcm --to-key-file new.key --reject rej3.ndjson \
		--stats st3.ndjson <arr3.ndjson >out 2>err &&
	test $(wc -l <out) = 2 && ! grep -q secret out &&
	jq -e ".record == 2 and (.error | test(\"field a.0: a is an array\"))" rej3.ndjson >/dev/null &&
	jq -e "select(.type == \"summary\") | .docs == 2 and .reencrypted == 1 and .rejected == 1" \
		st3.ndjson >/dev/null
'

test_expect_success 'a --field that matches no document is a warning naming it' '
	mongo-recrypt --field ssn --field nosuch.field --from aes-256-cbc --from-key-file old.key --to none \
		<cbc.ndjson >out 2>err &&
	test_grep "warning: --field nosuch.field matched no document" err &&
	! grep -q "field ssn matched" err &&
	mongo-recrypt --field ssn --field ssn --from aes-256-cbc --from-key-file old.key --to none \
		<cbc.ndjson >out 2>err && test_must_be_empty err &&
	mongo-recrypt --field ssn --from aes-256-cbc --from-key-file old.key --to none -q <cbc.ndjson >out 2>err &&
	test_must_be_empty err
'

test_expect_success 'a document over 16 MiB once re-encrypted is 65 naming record and field' '
	python3 -c "
import struct, sys
def doc(n):
    body = b\"\\x10_id\\x00\" + struct.pack(\"<i\", n) + b\"\\x02ssn\\x00\" + struct.pack(\"<i\", 12600001) + b\"x\" * 12600000 + b\"\\x00\"
    return struct.pack(\"<i\", len(body) + 5) + body + b\"\\x00\"
sys.stdout.buffer.write(doc(1) + doc(2))
" >big.bson &&
	mongo-recrypt --field ssn --from none --to aes-256-gcm --to-key-file new.key <big.bson >big.out &&
	test $(stat -c %s big.out) -gt 25200000 &&
	test_expect_code 65 mongo-recrypt --field ssn --from none --to aes-256-gcm --to-key-file new.key \
		--to-form base64 <big.bson >big.out 2>err &&
	test_grep "record 1 at byte offset 0: field ssn: re-encrypted, the document would be 168000[0-9]* bytes, more than the 16 MiB" err &&
	test_must_be_empty big.out
'

test_expect_success 'a key is never taken from the command line' '
	for opt in --key --from-key --to-key --from-key-hex; do
		test_expect_code 64 mongo-recrypt --field ssn --from aes-256-cbc $opt=$(cat old.key) --to none \
			</dev/null >out 2>err && test_must_be_empty out || exit 1
	done &&
	test_expect_code 64 mongo-recrypt --field ssn --from aes-256-cbc --to none </dev/null 2>err &&
	test_grep "needs its key: --from-key-file FILE or --from-key-env VAR" err &&
	! mongo-recrypt --help | grep -E -- "--[a-z-]*key[a-z-]* (KEY|HEX)"
'

test_expect_success 'a key from the environment is wiped once read; no core dumps' '
	mkfifo in.fifo &&
	{ NEWKEY=$(cat new.key) mongo-recrypt --field ssn --from none --to aes-256-gcm --to-key-env NEWKEY \
		<in.fifo >out & } && pid=$! &&
	exec 9>in.fifo &&
	for i in $(seq 50); do
		grep -q "^Max core file size *0 *0 " /proc/$pid/limits 2>/dev/null &&
			! tr "\0" "\n" </proc/$pid/environ | grep -q "$(cat new.key)" && break
		sleep 0.1
	done &&
	grep "^Max core file size" /proc/$pid/limits >limits &&
	tr "\0" "\n" </proc/$pid/environ >environ &&
	exec 9>&- && wait $pid &&
	test_grep "^Max core file size *0 *0 " limits &&
	! grep -q "$(cat new.key)" environ &&
	SAME=$(cat new.key) mongo-recrypt --field ssn --from aes-256-gcm --from-key-env SAME --to aes-256-gcm \
		--to-key-env SAME <gcm.ndjson >same-env.ndjson &&
	mongo-recrypt --field ssn --from aes-256-gcm --from-key-file new.key --to none <same-env.ndjson |
		jq -r .ssn >actual && cut -f1 expect.plain >expect && test_cmp expect actual
'

test_expect_success 'a key file of the wrong length, or readable by others, is refused clearly' '
	printf "%s" "$(cat old.key | cut -c1-62)" >short.key && chmod 600 short.key &&
	test_expect_code 65 mongo-recrypt --field ssn --from aes-256-cbc --from-key-file short.key --to none \
		<cbc.ndjson >out 2>err &&
	test_grep "key file short.key: not a key: .* 32 raw bytes or 64 hex digits (62 bytes given)" err &&
	test_must_be_empty out &&
	head -c 32 /dev/urandom >raw.key && chmod 600 raw.key &&
	mongo-recrypt --field ssn --from none --to aes-256-gcm --to-key-file raw.key <back.ndjson >/dev/null &&
	cp old.key open.key && chmod 644 open.key &&
	test_expect_code 66 mongo-recrypt --field ssn --from aes-256-cbc --from-key-file open.key --to none \
		<cbc.ndjson 2>err &&
	test_grep "group or others may read or write it" err &&
	test_expect_code 64 mongo-recrypt --field ssn --from aes-256-cbc --from-key-env MP_NO_SUCH_KEY --to none \
		<cbc.ndjson 2>err && test_grep "MP_NO_SUCH_KEY: not set" err
'

test_expect_success 'documents without the fields pass byte for byte' '
	mp-gen 50 >other.bson &&
	mongo-recrypt $RC --from aes-256-cbc --from-key-file old.key --to aes-256-gcm --to-key-file new.key \
		<other.bson >same.bson &&
	cmp other.bson same.bson
'

test_expect_success 'usage: no fields, no ciphers, none to none, a bad path are 64 with nothing written' '
	test_expect_code 64 mongo-recrypt --from none --to aes-256-gcm --to-key-file new.key </dev/null >out 2>err &&
	test_grep "say which fields" err &&
	test_expect_code 64 mongo-recrypt --field a --from none --to none </dev/null 2>err &&
	test_expect_code 64 mongo-recrypt --field a.. --from none --to aes-256-gcm --to-key-file new.key </dev/null 2>err &&
	test_expect_code 64 mongo-recrypt --field a --from rot13 --to none </dev/null 2>err &&
	test_must_be_empty out
'

test_expect_success '--stats: a summary with the documents, the re-encrypted and the rejected' '
	mongo-recrypt $RC --from aes-256-gcm --from-key-file new.key --to none --reject rej2.ndjson \
		--stats stats.ndjson <some-bad.ndjson >/dev/null 2>err &&
	jq -e "select(.type == \"summary\") | .tool == \"mongo-recrypt\" and .docs == 2 and .reencrypted == 2 and
		.rejected == 1" stats.ndjson >/dev/null &&
	test_expect_code 65 mongo-recrypt $RC --from aes-256-gcm --from-key-file old.key --to none \
		--stats stats2.ndjson <gcm.ndjson >/dev/null 2>err &&
	jq -e "select(.type == \"exit\") | .status == 65 and (.error | test(\"field ssn\"))" stats2.ndjson >/dev/null
'

test_expect_success 'output to /dev/full is 74' '
	test_expect_code 74 mongo-recrypt $RC --from aes-256-cbc --from-key-file old.key --to none \
		<cbc.bson >/dev/full 2>err
'

EX=$TEST_ROOT/examples/reencrypt-fields.sh
test_expect_success SERVERS 'reencrypt-fields.sh: copies, re-encrypts, counts equal, decrypts to the plaintext' '
	export SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI NS=$TEST_DB.customers FIELDS="ssn card.number" \
		FROM_KEY_FILE=old.key TO_KEY_FILE=new.key &&
	mongo-load-bson -q --uri "$SRC" --ns $NS <cbc.bson &&
	"$EX" work >log 2>&1 || { cat log; false; } &&
	test_grep "verified: $NS has 3 documents on both sides" log &&
	mongo-dump-bson --uri "$DST" --ns $NS --sort "{\"_id\": 1}" |
		mongo-recrypt $RC --from aes-256-gcm --from-key-file new.key --to none >back.bson &&
	plain back.bson >actual && test_cmp expect.plain actual
'

test_expect_success SERVERS 'reencrypt-fields.sh with a wrong key: 65 naming record and field, nothing loaded' '
	export SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI NS=$TEST_DB2.customers FIELDS="ssn card.number" \
		FROM_KEY_FILE=other.key TO_KEY_FILE=new.key &&
	mongo-load-bson -q --uri "$SRC" --ns $NS <cbc.bson &&
	test_expect_code 65 "$EX" work2 >log 2>&1 &&
	test_grep "record 1 at byte offset 0: field ssn: \(aes-256-cbc: bad padding\|the plaintext is not UTF-8\)" log &&
	test_grep "nothing loaded" log &&
	test ! -e work2/staged.bson &&
	mp-probe count "$DST" $NS >n && echo 0 >expect && test_cmp expect n
'

test_expect_success SERVERS 'reencrypt-fields.sh with a field that matches nothing: fails, nothing loaded' '
	export SRC=$MP_SOURCE_URI DST=$MP_TARGET_URI NS=$TEST_DB2.customers3 FIELDS="ssn card.numbr" \
		FROM_KEY_FILE=old.key TO_KEY_FILE=new.key &&
	mongo-load-bson -q --uri "$SRC" --ns $NS <cbc.bson &&
	test_expect_code 65 "$EX" work3 >log 2>&1 &&
	test_grep "field card.numbr matched no document" log &&
	test_grep "nothing loaded" log && ! grep -q verified log &&
	mp-probe count "$DST" $NS >n && echo 0 >expect && test_cmp expect n
'

test_done
