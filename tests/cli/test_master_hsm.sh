#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The key service's master key inside a real SoftHSM2 token (created here, in
# $TMP): `serve --init --master-key pkcs11:...` generates a sensitive,
# non-extractable AES-256 key in the token and keeps only its URI; keys,
# data keys, encryption, rotation and decryption work through it; the state
# directory and database without the token give nothing (the service does
# not start); a wrong PIN or a URI naming no AES key is refused before
# anything is written.
. "$(dirname "$0")/lib.sh"

MODULE=/usr/lib/softhsm/libsofthsm2.so
if ! command -v softhsm2-util >/dev/null 2>&1 || [ ! -e "$MODULE" ]; then
	if [ "${CI:-}" = true ]; then
		fail master_hsm "softhsm2 is not installed and CI=true (scripts/install-deps installs it)"
	else
		skip master_hsm "softhsm2 is not installed (scripts/install-deps installs it)"
	fi
	exit 0
fi
export SOFTHSM2_CONF="$TMP/softhsm2.conf"
mkdir -p "$TMP/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$TMP" >"$SOFTHSM2_CONF"
unset PKCS11_PIN
softhsm2-util --init-token --free --label ppml-master --pin 1234 --so-pin 5678 >/dev/null ||
	{ fail master_hsm_setup "softhsm2-util --init-token failed"; exit 0; }
echo 1234 >"$TMP/pin"
echo 9999 >"$TMP/badpin"
URI="pkcs11:token=ppml-master;object=kms-master?pin-source=file:$TMP/pin"
# The secret-key objects of the token, from SoftHSM2's own object files.
secret_objects() {
	for f in "$TMP"/tokens/*/*.object; do
		softhsm2-dump-file "$f" 2>/dev/null | grep -q 'CKO_SECRET_KEY$' && echo "$f"
	done
}
attr() { softhsm2-dump-file "$1" 2>/dev/null | grep -A2 "^.\{24\}$2\$" | tail -n 1; }

t=master_hsm_init
S=$TMP/state
"$PPML" sim init --dir "$TMP/pki" >/dev/null 2>&1 || fail master_hsm_setup "sim init"
COLL=(--collateral-dir "$TMP/pki/collateral")
"$PPML" serve --init --state-dir "$S" --master-key "$URI" >"$TMP/admin.cred" 2>"$TMP/err"; rc=$?
objs=$(secret_objects)
if [ $rc -ne 0 ]; then
	fail $t "rc=$rc: $(cat "$TMP/err")"
elif [ -e "$S/master.key" ] || [ "$(cat "$S/master.uri")" != "$URI" ] ||
	[ "$(stat -c %a "$S/master.uri")" != 600 ] || [ ! -s "$TMP/admin.cred" ]; then
	fail $t "state: $(ls -l "$S")"
elif [ "$(echo "$objs" | grep -c .)" -ne 1 ]; then
	fail $t "expected one secret key in the token, found: $objs"
elif attr "$objs" CKA_EXTRACTABLE | grep -q FALSE && attr "$objs" CKA_SENSITIVE | grep -q TRUE &&
	attr "$objs" CKA_NEVER_EXTRACTABLE | grep -q TRUE && attr "$objs" CKA_VALUE_LEN | grep -q 'CK_ULONG 32(' && attr "$objs" CKA_KEY_TYPE | grep -q CKK_AES; then
	pass $t
else
	fail $t "CKA_EXTRACTABLE/SENSITIVE/NEVER_EXTRACTABLE/VALUE_LEN not as required: $(softhsm2-dump-file "$objs" 2>&1 | grep -A2 'CKA_\(EXTRACTABLE\|SENSITIVE\|VALUE_LEN\)$' | tr '\n' ' ')"
fi

t=master_hsm_keys_work
serve main "${COLL[@]}" || fail $t "serve: $(cat "$TMP/main.log")"
C=(--service "$URL_main" --credential-file "$TMP/admin.cred")
printf 'identities = [{ mrenclave = "%s" }]\n' "$(printf 'ab%.0s' $(seq 1 32))" >"$TMP/p.toml"
head -c 3000000 /dev/urandom >"$TMP/data.bin"
bad=""
"$PPML" policy put rel "$TMP/p.toml" "${C[@]}" 2>>"$TMP/err" || bad="$bad policy"
"$PPML" key create data --type aes-256-gcm --release-policy rel "${C[@]}" 2>>"$TMP/err" >/dev/null || bad="$bad create"
"$PPML" encrypt --key data --in "$TMP/data.bin" --out "$TMP/v1.enc" "${C[@]}" 2>>"$TMP/err" || bad="$bad encrypt"
"$PPML" key rotate data "${C[@]}" >/dev/null 2>>"$TMP/err" || bad="$bad rotate"
"$PPML" encrypt --key data --in "$TMP/data.bin" --out "$TMP/v2.enc" "${C[@]}" 2>>"$TMP/err" || bad="$bad encrypt2"
"$PPML" decrypt --in "$TMP/v1.enc" --out "$TMP/d1" "${C[@]}" 2>>"$TMP/err" && cmp -s "$TMP/data.bin" "$TMP/d1" || bad="$bad decrypt-v1"
"$PPML" decrypt --in "$TMP/v2.enc" --out "$TMP/d2" "${C[@]}" 2>>"$TMP/err" && cmp -s "$TMP/data.bin" "$TMP/d2" || bad="$bad decrypt-v2"
"$PPML" key list "${C[@]}" --json 2>>"$TMP/err" | jq -e '.keys[] | select(.name == "data" and .version == 2)' >/dev/null || bad="$bad list"
[ -z "$bad" ] && pass $t || fail $t "$bad: $(tail -3 "$TMP/err")"
stop_services

# The state directory and its database without the token: nothing starts,
# nothing unwraps.  (The token directory is moved away, then back.)
t=master_hsm_no_token_no_keys
mv "$TMP/tokens" "$TMP/tokens.away" && mkdir "$TMP/tokens"
rm -f "$TMP/gone.port"
"$PPML" serve --state-dir "$S" "${COLL[@]}" --listen 127.0.0.1:0 --insecure-http --metrics-listen off \
	--port-file "$TMP/gone.port" >/dev/null 2>"$TMP/err" & pid=$!
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
if kill -0 $pid 2>/dev/null; then
	kill $pid; wait $pid 2>/dev/null
	fail $t "the service started without its master key"
else
	wait $pid; rc=$?
	[ $rc -eq 3 ] && [ ! -s "$TMP/gone.port" ] && grep -q "master key: .*token" "$TMP/err" &&
		pass $t || fail $t "rc=$rc: $(cat "$TMP/err")"
fi
rm -rf "$TMP/tokens" && mv "$TMP/tokens.away" "$TMP/tokens"

t=master_hsm_wrong_pin_refused
"$PPML" serve --state-dir "$S" "${COLL[@]}" --master-key "pkcs11:token=ppml-master;object=kms-master?pin-source=file:$TMP/badpin" \
	--listen 127.0.0.1:0 --insecure-http --metrics-listen off >/dev/null 2>"$TMP/err" & pid=$!
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
if kill -0 $pid 2>/dev/null; then
	kill $pid; wait $pid 2>/dev/null
	fail $t "the service started with a wrong PIN"
else
	wait $pid; rc=$?
	[ $rc -eq 1 ] && grep -q "master key: wrong PIN" "$TMP/err" && ! grep -q 9999 "$TMP/err" &&
		pass $t || fail $t "rc=$rc: $(cat "$TMP/err")"
fi

# A second service on the same token key: the key is reused, not duplicated;
# a URI naming no AES-256 key is refused before anything is written.
t=master_hsm_reuse_and_refusals
bad=""
"$PPML" serve --init --state-dir "$TMP/s2" --master-key "$URI" >/dev/null 2>"$TMP/err" || bad="$bad reuse($(cat "$TMP/err"))"
[ "$(secret_objects | grep -c .)" -eq 1 ] || bad="$bad second-key"
PKCS11_PIN=9999 "$PPML" serve --init --state-dir "$TMP/s3" --master-key "pkcs11:token=ppml-master;object=other" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q "wrong PIN" "$TMP/err" && [ ! -e "$TMP/s3/token.key" ] || bad="$bad badpin-init(rc=$rc)"
"$PPML" keygen --pkcs11 "pkcs11:token=ppml-master;object=rsa-key" --pin-file "$TMP/pin" >/dev/null 2>&1 || bad="$bad rsa-keygen"
"$PPML" serve --init --state-dir "$TMP/s4" --master-key "pkcs11:token=ppml-master;object=rsa-key;type=private?pin-source=file:$TMP/pin" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q "type=" "$TMP/err" && [ ! -e "$TMP/s4/token.key" ] || bad="$bad rsa-uri(rc=$rc: $(cat "$TMP/err"))"
"$PPML" serve --init --state-dir "$TMP/s5" --master-key "/etc/passwd" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q "pkcs11: URI" "$TMP/err" && [ ! -e "$TMP/s5/token.key" ] || bad="$bad not-uri(rc=$rc)"
[ -z "$bad" ] && pass $t || fail $t "$bad"
