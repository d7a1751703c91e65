#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The key service on loopback: keys, data keys, PPMLENC1 files, attested
# release from inside `ppml run --sim` (the released key decrypts the file),
# each refusal of a release (policy, binding, disabled key, replayed nonce,
# an attest-labelled REPORTDATA), tampered files, and what a stolen database
# gives.  Needs nothing from ../shared.
. "$(dirname "$0")/lib.sh"

S=$TMP/state
A=$TMP/app
mkdir -p "$A/app"
sim_pal "$A" || fail keys_setup cc
cat >"$A/app/main.sh" <<'SH'
#!/bin/sh
"$PPML" attest --service "$SERVICE" --release-key data --for "$OUT_DIR/data.enc" --out "$OUT_DIR/released.bin" &&
	"$PPML" decrypt --attested --service "$SERVICE" --in "$OUT_DIR/data.enc" --out "$OUT_DIR/decrypted.bin" &&
	"$PPML" encrypt --attested --key data --service "$SERVICE" --wrapped-key "$OUT_DIR/result.pwk" --in "$OUT_DIR/decrypted.bin" --out "$OUT_DIR/result.enc" &&
	"$PPML" attest --service "$SERVICE" --release-key data --for "$OUT_DIR/result.pwk" --out "$OUT_DIR/raw.key"
SH
chmod +x "$A/app/main.sh"
cat >"$A/app.manifest" <<'TOML'
[libos]
entrypoint = "/app/main.sh"
[loader]
entrypoint.uri = "file:libsysdb.so"
[loader.env]
PPML = { passthrough = true }
SERVICE = { passthrough = true }
OUT_DIR = { passthrough = true }
[fs]
mounts = [{ path = "/app", uri = "file:app" }]
[sgx]
debug = false
enclave_size = "256M"
max_threads = 4
isvprodid = 9
isvsvn = 1
remote_attestation = "dcap"
trusted_files = ["file:app/main.sh", "file:libpal.so"]
TOML
(cd "$A" && "$PPML" keygen -o "$TMP/key.pem" >/dev/null &&
	"$PPML" sign -m app.manifest -o app.manifest.sgx -s app.sig -k "$TMP/key.pem" -l libpal.so -q >/dev/null &&
	"$PPML" sim init --dir "$TMP/pki" >/dev/null && "$PPML" serve --init --state-dir "$S" $(db_args "$S") >"$TMP/admin.cred") 2>"$TMP/err" ||
	fail keys_setup "$(cat "$TMP/err")"
MRS=$("$PPML" sigstruct show "$A/app.sig" --json | jq -r .mrsigner)
serve main --collateral-dir "$TMP/pki/collateral" --sim-root-ca "$TMP/pki/root.pem" || fail keys_setup serve
U=$URL_main
C=(--service "$U" --credential-file "$TMP/admin.cred")
printf 'identities = [{ mrsigner = "%s", isvprodid = 9, min_isvsvn = 1 }]\nallow_simulation = true\n' "$MRS" >"$TMP/rel.toml"
printf 'identities = [{ mrenclave = "%s" }]\nallow_simulation = true\n' "$(printf '00%.0s' $(seq 1 32))" >"$TMP/other.toml"
"$PPML" policy put release-ok "$TMP/rel.toml" "${C[@]}" 2>/dev/null && "$PPML" policy put release-other "$TMP/other.toml" "${C[@]}" 2>/dev/null ||
	fail keys_setup policies
head -c 300000 /dev/urandom >"$TMP/data.bin"

t=keys_create_and_list
bad=""
"$PPML" key create data --type aes-256-gcm --release-policy release-ok "${C[@]}" 2>/dev/null || bad="$bad create"
"$PPML" key create strict --type aes-256-gcm --release-policy release-other "${C[@]}" 2>/dev/null || bad="$bad create2"
"$PPML" key create pf --type gramine-pf --release-policy release-ok "${C[@]}" 2>/dev/null || bad="$bad create-pf"
"$PPML" key create data --type aes-256-gcm --release-policy release-ok "${C[@]}" 2>/dev/null && bad="$bad duplicate"
"$PPML" key create x --type rsa --release-policy release-ok "${C[@]}" 2>/dev/null && bad="$bad bad-type"
"$PPML" key create y --type aes-256-gcm --release-policy nope "${C[@]}" 2>/dev/null && bad="$bad missing-policy"
"$PPML" key list "${C[@]}" >"$TMP/list" || bad="$bad list"
grep -q '^data .* v1 .*aes-256-gcm .*enabled .*release-ok' "$TMP/list" && grep -q '^pf .*gramine-pf' "$TMP/list" || bad="$bad list($(cat "$TMP/list"))"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=keys_encrypt_decrypt_with_credential
bad=""
"$PPML" encrypt --key data --in "$TMP/data.bin" --out "$TMP/data.enc" "${C[@]}" 2>/dev/null || bad="$bad encrypt"
[ "$(stat -c %a "$TMP/data.enc")" = 600 ] && [ "$(head -c 8 "$TMP/data.enc")" = PPMLENC1 ] || bad="$bad format"
"$PPML" decrypt --in "$TMP/data.enc" --out "$TMP/dec1.bin" "${C[@]}" 2>/dev/null && cmp -s "$TMP/data.bin" "$TMP/dec1.bin" || bad="$bad decrypt"
"$PPML" key create enc-role --type aes-256-gcm --release-policy release-ok "${C[@]}" 2>/dev/null
"$PPML" admin credential create --role encrypt:enc-role --out "$TMP/enc.cred" "${C[@]}" >/dev/null 2>&1 || bad="$bad cred"
"$PPML" encrypt --key enc-role --in "$TMP/data.bin" --out "$TMP/e2.enc" --service "$U" --credential-file "$TMP/enc.cred" 2>/dev/null || bad="$bad encrypt-role"
"$PPML" encrypt --key data --in "$TMP/data.bin" --out "$TMP/e3.enc" --service "$U" --credential-file "$TMP/enc.cred" 2>/dev/null; rc=$?
[ $rc = 1 ] && [ ! -e "$TMP/e3.enc" ] || bad="$bad role-other-key($rc)"
"$PPML" decrypt --in "$TMP/e2.enc" --out "$TMP/x" --service "$U" --credential-file "$TMP/enc.cred" 2>/dev/null; rc=$?
[ $rc = 1 ] && [ ! -e "$TMP/x" ] || bad="$bad role-unwrap($rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=keys_released_to_simulated_enclave_decrypts
"$PPML" key datakey data --out "$TMP/result.pwk" "${C[@]}" 2>/dev/null || fail keys_setup datakey
(cd "$A" && PPML="$PPML" SERVICE="$U" OUT_DIR="$TMP" "$PPML" run --sim --manifest app.manifest.sgx \
	--sigfile app.sig --libpal libpal.so --sim-dir "$TMP/pki" >/dev/null 2>"$TMP/run.err"); rc=$?
if [ $rc = 0 ] && cmp -s "$TMP/data.bin" "$TMP/released.bin" && cmp -s "$TMP/data.bin" "$TMP/decrypted.bin"; then pass $t
else fail $t "rc=$rc $(tail -3 "$TMP/run.err")"; fi

# The enclave's own output, under a data key it got by attestation from a
# wrapped-only key (`key datakey`): the owner opens it; outside an enclave
# the same command gets no key and writes nothing.
t=keys_enclave_encrypts_results_with_released_key
bad=""
[ "$(stat -c %a "$TMP/result.pwk" 2>/dev/null)" = 600 ] && [ "$(head -c 4 "$TMP/result.pwk")" = PWK1 ] || bad="$bad pwk"
"$PPML" decrypt --in "$TMP/result.enc" --out "$TMP/result.bin" "${C[@]}" 2>/dev/null && cmp -s "$TMP/result.bin" "$TMP/data.bin" || bad="$bad owner-decrypt"
PPML_SIM_ATTESTATION= "$PPML" encrypt --attested --service "$U" --wrapped-key "$TMP/result.pwk" --in "$TMP/data.bin" \
	--out "$TMP/outside.enc" --dev-attestation "$TMP/none" 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && [ ! -e "$TMP/outside.enc" ] || bad="$bad outside($rc $(cat "$TMP/err"))"
"$PPML" encrypt --attested --service "$U" --wrapped-key "$TMP/data.bin" --in "$TMP/data.bin" --out "$TMP/x.enc" 2>"$TMP/err"; rc=$?
[ $rc != 0 ] && [ ! -e "$TMP/x.enc" ] && grep -q "PWK1\|wrapped" "$TMP/err" || bad="$bad not-pwk($rc $(cat "$TMP/err"))"
# A wrapped key of another key than the one the enclave names: refused first.
"$PPML" encrypt --attested --key strict --service "$U" --wrapped-key "$TMP/result.pwk" --in "$TMP/data.bin" --out "$TMP/sub.enc" 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && [ ! -e "$TMP/sub.enc" ] && grep -q 'wrapped key of data, not of strict' "$TMP/err" || bad="$bad substituted($rc $(cat "$TMP/err"))"
# attest --release-key on a PWK1 key: the raw data key, the one admin unwrap gives.
UNW=$(curl -s -X POST -H "Authorization: Bearer $(cat "$TMP/admin.cred")" -d "{\"wrapped\":\"$(base64 -w0 "$TMP/result.pwk")\"}" "$U/v1/keys/data/unwrap" | jq -r .plaintext)
[ "$(stat -c %a "$TMP/raw.key" 2>/dev/null)" = 600 ] && [ "$(base64 -w0 "$TMP/raw.key")" = "$UNW" ] && [ "$(wc -c <"$TMP/raw.key")" = 32 ] || bad="$bad raw-key"
"$PPML" key datakey data --service "$U" --credential-file /dev/null --out "$TMP/y.pwk" 2>/dev/null; rc=$?
[ $rc != 0 ] && [ ! -e "$TMP/y.pwk" ] || bad="$bad no-cred($rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

# Crafted releases: an enclave key pair, a nonce, a quote with REPORTDATA of our choosing.
openssl ecparam -name prime256v1 -genkey -noout -out "$TMP/ek.pem" 2>/dev/null
EPK=$(openssl ec -in "$TMP/ek.pem" -pubout -outform DER 2>/dev/null | tail -c 65 | base64 -w0)
WDK=$(curl -s -X POST -H "Authorization: Bearer $(cat "$TMP/admin.cred")" -d '{"plaintext":false}' "$U/v1/keys/data/datakey" | jq -r .wrapped)
WDK_STRICT=$(curl -s -X POST -H "Authorization: Bearer $(cat "$TMP/admin.cred")" -d '{"plaintext":false}' "$U/v1/keys/strict/datakey" | jq -r .wrapped)
rd_for() { # LABEL NONCE_B64 DATA_B64
	{ printf '%s\0' "$1"; printf '\x00\x00\x00\x40'; printf '%s' "$2" | base64 -d; printf '\x00\x00\x00'; printf "\\x$(printf '%02x' "$(printf '%s' "$3" | base64 -d | wc -c)")"; printf '%s' "$3" | base64 -d; } | sha256sum | cut -c1-64
}
# release KEY WDK LABEL [NONCE]: POST /v1/keys/KEY/release; response in $TMP/rel.json, status in $TMP/st
release() {
	local key=$1 wdk=$2 label=$3 n=${4:-$(curl -s -X POST "$U/v1/attest/nonce" | jq -r .nonce)}
	echo "$n" >"$TMP/last_nonce"
	"$PPML" sim quote --dir "$TMP/pki" --mrenclave "$(printf 'ab%.0s' $(seq 1 32))" --mrsigner "$MRS" --isvprodid 9 --isvsvn 1 \
		--report-data "$(rd_for "$label" "$n" "$EPK")" --out "$TMP/rq.bin" 2>/dev/null
	printf '{"quote":"%s","nonce":"%s","enclave_public_key":"%s","wrapped_datakey":"%s"}' \
		"$(base64 -w0 "$TMP/rq.bin")" "$n" "$EPK" "$wdk" >"$TMP/rreq.json"
	curl -s -o "$TMP/rel.json" -w '%{http_code}' -X POST "$U/v1/keys/$key/release" --data-binary @"$TMP/rreq.json" >"$TMP/st"
}
rfailed() { jq -r '[.checks | to_entries[] | select(.value == "fail") | .key] | join(",")' "$TMP/rel.json"; }

# The client starts again with a fresh nonce (and key pair and quote) when a
# release gets no verdict (503: the replica behind the balancer went away) or
# is refused on its nonce alone (the transport re-sent a request the first
# replica had already processed).  Through tests/tools/flaky-proxy.py.
for mode in 503 resend; do
	t=keys_release_retried_after_$mode
	rm -f "$TMP/released.bin" "$TMP/decrypted.bin"
	flaky_proxy $mode "$U" || { fail $t "proxy did not start: $(cat "$TMP/flaky.err")"; continue; }
	(cd "$A" && PPML="$PPML" SERVICE="$FLAKY_URL" OUT_DIR="$TMP" "$PPML" run --sim --manifest app.manifest.sgx \
		--sigfile app.sig --libpal libpal.so --sim-dir "$TMP/pki" >/dev/null 2>"$TMP/run.err"); rc=$?
	first=$(grep -m1 '/release ' "$FLAKY_LOG" | cut -d' ' -f3)
	second=$(grep '/release ' "$FLAKY_LOG" | sed -n 2p | cut -d' ' -f3)
	nonces=$(grep -c '/v1/attest/nonce 200' "$FLAKY_LOG")
	want=$([ $mode = 503 ] && echo 503 || echo 403)
	if [ $rc = 0 ] && cmp -s "$TMP/data.bin" "$TMP/released.bin" && cmp -s "$TMP/data.bin" "$TMP/decrypted.bin" &&
		[ "$first" = "$want" ] && [ "$second" = 200 ] && [ "$nonces" -ge 5 ]; then
		pass "$t: first release $first, then 200 with a fresh nonce"
	else
		fail $t "rc=$rc first=$first second=$second nonces=$nonces $(tail -2 "$TMP/run.err")"
	fi
	kill "${SVC_PIDS##* }" 2>/dev/null
done

t=keys_release_good_quote_opens_with_enclave_key
release data "$WDK" ppml-release-v1
if [ "$(cat "$TMP/st")" = 200 ] && [ "$(jq -r .result "$TMP/rel.json")" = released ] &&
	[ "$(jq -r .enc "$TMP/rel.json" | base64 -d | wc -c)" = 65 ] && [ "$(jq -r .ciphertext "$TMP/rel.json" | base64 -d | wc -c)" = 48 ]; then
	pass $t; else fail $t "$(cat "$TMP/st") $(jq -c '{result,reasons}' "$TMP/rel.json")"; fi

# rrefused NAME CHECKS KEY WDK LABEL [NONCE]
rrefused() {
	local name=$1 want=$2; shift 2
	release "$@"
	if [ "$(cat "$TMP/st")" = 403 ] && [ "$(rfailed)" = "$want" ] && [ "$(jq -r .ciphertext "$TMP/rel.json")" = null ]; then pass "$name"
	else fail "$name" "$(cat "$TMP/st") failed '$(rfailed)' (want $want) $(jq -c .reasons "$TMP/rel.json")"; fi
}
rrefused keys_release_refused_policy_mismatch identity strict "$WDK_STRICT" ppml-release-v1
rrefused keys_release_refused_attest_labelled_report_data report_data data "$WDK" ppml-attest-v1
EPK_REAL=$EPK
EPK=$(openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl ec -pubout -outform DER 2>/dev/null | tail -c 65 | base64 -w0)
REAL_WRONG=$EPK; EPK=$EPK_REAL
# A quote bound to one enclave key, the request carrying another.
t=keys_release_refused_wrong_binding
n=$(curl -s -X POST "$U/v1/attest/nonce" | jq -r .nonce)
"$PPML" sim quote --dir "$TMP/pki" --mrenclave "$(printf 'ab%.0s' $(seq 1 32))" --mrsigner "$MRS" --isvprodid 9 --isvsvn 1 \
	--report-data "$(rd_for ppml-release-v1 "$n" "$EPK")" --out "$TMP/rq.bin" 2>/dev/null
printf '{"quote":"%s","nonce":"%s","enclave_public_key":"%s","wrapped_datakey":"%s"}' "$(base64 -w0 "$TMP/rq.bin")" "$n" "$REAL_WRONG" "$WDK" >"$TMP/rreq.json"
code=$(curl -s -o "$TMP/rel.json" -w '%{http_code}' -X POST "$U/v1/keys/data/release" --data-binary @"$TMP/rreq.json")
if [ "$code" = 403 ] && [ "$(rfailed)" = report_data ]; then pass $t; else fail $t "$code $(rfailed)"; fi
release data "$WDK" ppml-release-v1
rrefused keys_release_refused_replayed_nonce nonce data "$WDK" ppml-release-v1 "$(cat "$TMP/last_nonce")"
"$PPML" key disable data "${C[@]}" 2>/dev/null
rrefused keys_release_refused_disabled_key key data "$WDK" ppml-release-v1

t=keys_rotation_old_versions_still_unwrap
bad=""
"$PPML" key create rot --type aes-256-gcm --release-policy release-ok "${C[@]}" 2>/dev/null
"$PPML" encrypt --key rot --in "$TMP/data.bin" --out "$TMP/r1.enc" "${C[@]}" 2>/dev/null || bad="$bad enc1"
"$PPML" key rotate rot "${C[@]}" 2>"$TMP/err" && grep -q 'version 2' "$TMP/err" || bad="$bad rotate"
"$PPML" encrypt --key rot --in "$TMP/data.bin" --out "$TMP/r2.enc" "${C[@]}" 2>"$TMP/err" && grep -q 'rot v2' "$TMP/err" || bad="$bad enc2"
for f in r1 r2; do
	"$PPML" decrypt --in "$TMP/$f.enc" --out "$TMP/$f.out" "${C[@]}" 2>/dev/null && cmp -s "$TMP/data.bin" "$TMP/$f.out" || bad="$bad dec-$f"
done
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=keys_destroy_erases_every_version
bad=""
"$PPML" key create doomed --type aes-256-gcm --release-policy release-ok "${C[@]}" 2>/dev/null || bad="$bad create"
"$PPML" key rotate doomed "${C[@]}" 2>/dev/null || bad="$bad rotate"
"$PPML" encrypt --key doomed --in "$TMP/data.bin" --out "$TMP/doomed.enc" "${C[@]}" 2>/dev/null || bad="$bad encrypt"
# The wrapped versions as stored (SQLite), to look for them after.
wrapped=""
[ -z "${PPML_TEST_DB:-}" ] && wrapped=$(python3 -c 'import sqlite3,sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(" ".join(r[0].hex() for r in c.execute("SELECT wrapped FROM key_versions WHERE name = ?", ("doomed",))))' "$S/ppml.db")
[ -z "${PPML_TEST_DB:-}" ] && [ "$(echo $wrapped | wc -w)" != 2 ] && bad="$bad stored($wrapped)"
"$PPML" key destroy doomed "${C[@]}" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--yes" "$TMP/err" || bad="$bad no-yes(rc=$rc)"
"$PPML" key destroy doomed --yes "${C[@]}" 2>"$TMP/err" && grep -q destroyed "$TMP/err" || bad="$bad destroy($(cat "$TMP/err"))"
"$PPML" decrypt --in "$TMP/doomed.enc" --out "$TMP/doomed.out" "${C[@]}" 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && [ ! -e "$TMP/doomed.out" ] && grep -q "destroyed" "$TMP/err" || bad="$bad decrypt(rc=$rc $(cat "$TMP/err"))"
for op in rotate disable destroy; do
	code=$(curl -s -o "$TMP/d.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(cat "$TMP/admin.cred")" -d '{}' "$U/v1/keys/doomed/$op")
	[ "$code" = 410 ] && jq -e '.error.code == "destroyed"' "$TMP/d.json" >/dev/null || bad="$bad $op($code)"
done
code=$(curl -s -o "$TMP/d.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(cat "$TMP/admin.cred")" -d '{}' "$U/v1/keys/doomed/datakey")
[ "$code" = 410 ] || bad="$bad datakey($code)"
"$PPML" key list "${C[@]}" --json | jq -e '.keys[] | select(.name == "doomed" and .state == "destroyed")' >/dev/null || bad="$bad list"
"$PPML" audit verify "${C[@]}" --save "$TMP/audit-d.json" >/dev/null 2>&1 || bad="$bad audit"
jq -e '[.. | objects | select(.kind? == "key_destroy" and .body.name == "doomed")] | length == 1' "$TMP/audit-d.json" >/dev/null || bad="$bad audit-entry"
# SQLite: the erased versions are in neither the database file nor its WAL.
for f in "$S/ppml.db" "$S/ppml.db-wal"; do
	[ -n "$wrapped" ] && [ -e "$f" ] || continue
	h=$(od -An -tx1 -v "$f" | tr -d ' \n')
	for w in $wrapped; do case $h in *"$w"*) bad="$bad left-in-$(basename "$f")" ;; esac; done
done
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=keys_tampered_files_refused_no_output
bad=""
hl=$(( 8 + 1 + 2 + 4 + 4 + 2 + $(od -An -tu1 -j$((8 + 1 + 2 + 4 + 4)) -N2 "$TMP/data.enc" | awk '{print $1 * 256 + $2}') + 7 + 4 ))
try() { # NAME: decrypt $TMP/t.enc; must fail, no output
	rm -f "$TMP/t.out"
	"$PPML" decrypt --in "$TMP/t.enc" --out "$TMP/t.out" "${C[@]}" 2>"$TMP/err"; local rc=$?
	[ $rc = 1 ] || [ $rc = 3 ] && [ ! -e "$TMP/t.out" ] && [ -z "$(ls "$TMP" | grep t.out.tmp)" ] || bad="$bad $1(rc=$rc)"
}
"$PPML" key create data2 --type aes-256-gcm --release-policy release-ok "${C[@]}" 2>/dev/null
"$PPML" encrypt --key data2 --in "$TMP/data.bin" --out "$TMP/d2.enc" "${C[@]}" 2>/dev/null
cp "$TMP/d2.enc" "$TMP/t.enc"; printf '\x01' | dd of="$TMP/t.enc" bs=1 seek=$((hl + 70000)) conv=notrunc 2>/dev/null; try flipped
grep -q 'segment 1 does not verify' "$TMP/err" || bad="$bad msg($(cat "$TMP/err"))"
head -c $((hl + 2 * (65536 + 16))) "$TMP/d2.enc" >"$TMP/t.enc"; try truncated
{ head -c $hl "$TMP/d2.enc"; tail -c +$((hl + 65552 + 1)) "$TMP/d2.enc" | head -c 65552; head -c $((hl + 65552)) "$TMP/d2.enc" | tail -c 65552; tail -c +$((hl + 2 * 65552 + 1)) "$TMP/d2.enc"; } >"$TMP/t.enc"; try swapped
cp "$TMP/d2.enc" "$TMP/t.enc"; printf 'X' | dd of="$TMP/t.enc" bs=1 seek=$((hl - 3)) conv=notrunc 2>/dev/null; try header-edit
"$PPML" decrypt --in "$TMP/d2.enc" --out - "${C[@]}" 2>/dev/null; [ $? = 2 ] || bad="$bad stdout-allowed"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=keys_master_key_never_stored_and_stolen_db_useless
bad=""
mk=$(od -An -tx1 "$S/master.key" | tr -d ' \n')
dkb=$(curl -s -X POST -H "Authorization: Bearer $(cat "$TMP/admin.cred")" -d "{\"wrapped\":\"$WDK\"}" "$U/v1/keys/data/unwrap" | jq -r .plaintext)
dk=$(printf '%s' "$dkb" | base64 -d | od -An -tx1 | tr -d ' \n')
[ ${#dk} = 64 ] || bad="$bad unwrap"
# On PostgreSQL (PPML_TEST_DB), the whole database as pg_dump writes it (bytea in hex).
if [ -n "${PPML_TEST_DB:-}" ]; then
	db=$(db_args "$S") && "$(pg_find_bin)/pg_dump" "${db#--db }" >"$TMP/db.dump" 2>/dev/null || bad="$bad pg_dump"
fi
for f in "$S/ppml.db" "$S/ppml.db-wal" "$TMP/db.dump" "$TMP/main.log"; do
	[ -e "$f" ] || continue
	h=$( { od -An -tx1 -v "$f"; [ "$f" != "$TMP/db.dump" ] || cat "$f"; } | tr -d ' \n')
	case $h in *"$mk"*) bad="$bad master-in-$(basename "$f")" ;; esac
	case $h in *"$dk"*) bad="$bad datakey-in-$(basename "$f")" ;; esac
done
"$PPML" audit verify "${C[@]}" --save "$TMP/audit.json" >/dev/null 2>&1 || bad="$bad audit"
grep -q "$dkb" "$TMP/audit.json" && bad="$bad datakey-in-audit"
# The database alone, with another master key: no key opens.
kill -TERM "$PID_main"; wait "$PID_main" 2>/dev/null
mkdir -p "$TMP/thief" && "$PPML" serve --init --state-dir "$TMP/thief" $(db_args "$TMP/thief") >"$TMP/thief.cred" 2>/dev/null
if [ -z "${PPML_TEST_DB:-}" ]; then
	sqlite3 "$S/ppml.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null 2>&1
	cp "$S/ppml.db" "$TMP/thief/ppml.db"
fi
S_SAVE=$S; S=$TMP/thief
# On PostgreSQL the thief's service opens the stolen database itself.
DB_DIR=$S_SAVE serve thief --collateral-dir "$TMP/pki/collateral" || bad="$bad thief-start"
S=$S_SAVE
code=$(curl -s -o "$TMP/th.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(cat "$TMP/admin.cred")" -d "{\"wrapped\":\"$WDK\"}" "$URL_thief/v1/keys/data/unwrap")
[ "$code" = 500 ] && grep -q 'does not unwrap with this master key' "$TMP/th.json" || bad="$bad thief-unwrapped($code $(cat "$TMP/th.json"))"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
