#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Stage 1 end to end on loopback: sign an application with a fresh key, run it
# with `ppml run --sim`, and inside it `ppml attest` to a local `ppml serve`:
# the token carries the application's MRENCLAVE/MRSIGNER and simulated: true,
# and verifies against the service's JWKS.  Then the refusals a production
# service gives the same quote, and the /dev/attestation quote source.
. "$(dirname "$0")/lib.sh"

S=$TMP/state
A=$TMP/app
mkdir -p "$A/app"
sim_pal "$A" || fail attest_setup cc
cat >"$A/app/main.sh" <<'SH'
#!/bin/sh
"$PPML" attest --service "$SERVICE" --policy "$POLICY" --aud relying-party --token-out "$OUT_DIR/token" --json >"$OUT_DIR/attest.json"
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
POLICY = { passthrough = true }
OUT_DIR = { passthrough = true }
[fs]
mounts = [{ path = "/app", uri = "file:app" }]
[sgx]
debug = false
enclave_size = "256M"
max_threads = 4
isvprodid = 3
isvsvn = 1
remote_attestation = "dcap"
trusted_files = ["file:app/main.sh", "file:libpal.so"]
TOML
(cd "$A" && "$PPML" keygen -o "$TMP/key.pem" >/dev/null &&
	"$PPML" sign -m app.manifest -o app.manifest.sgx -s app.sig -k "$TMP/key.pem" -l libpal.so -q >/dev/null &&
	"$PPML" sim init --dir "$TMP/pki" >/dev/null &&
	"$PPML" serve --init --state-dir "$S" >"$TMP/admin.cred") 2>"$TMP/err" || fail attest_setup "$(cat "$TMP/err")"
MRE=$("$PPML" sigstruct show "$A/app.sig" --json | jq -r .mrenclave)
MRS=$("$PPML" sigstruct show "$A/app.sig" --json | jq -r .mrsigner)
serve sim --collateral-dir "$TMP/pki/collateral" --sim-root-ca "$TMP/pki/root.pem" || fail attest_setup serve
serve prod --collateral-dir "$TMP/pki/collateral" || fail attest_setup serve-prod
C=(--service "$URL_sim" --credential-file "$TMP/admin.cred")
printf 'identities = [{ mrsigner = "%s", isvprodid = 3, min_isvsvn = 1 }]\nallow_simulation = true\n' "$MRS" >"$TMP/dev.toml"
printf 'identities = [{ mrsigner = "%s", isvprodid = 3, min_isvsvn = 1 }]\n' "$MRS" >"$TMP/prod.toml"
"$PPML" policy put dev "$TMP/dev.toml" "${C[@]}" 2>/dev/null && "$PPML" policy put prod "$TMP/prod.toml" "${C[@]}" 2>/dev/null ||
	fail attest_setup "policy"

run_app() { # SERVICE POLICY
	rm -f "$TMP/token" "$TMP/attest.json"
	(cd "$A" && PPML="$PPML" SERVICE=$1 POLICY=$2 OUT_DIR="$TMP" "$PPML" run --sim --manifest app.manifest.sgx \
		--sigfile app.sig --libpal libpal.so --sim-dir "$TMP/pki" >/dev/null 2>"$TMP/run.err")
}

t=attest_sim_end_to_end_token
bad=""
run_app "$URL_sim" dev; rc=$?
[ $rc = 0 ] || bad="$bad rc=$rc($(tail -3 "$TMP/run.err"))"
[ "$(stat -c %a "$TMP/token" 2>/dev/null)" = 600 ] || bad="$bad token-file"
c=$("$PPML" token verify @"$TMP/token" --jwks "$URL_sim/.well-known/jwks.json" --aud relying-party --allow-simulated --json) || bad="$bad verify"
[ "$(jq -r '"\(.mrenclave)/\(.mrsigner)/\(.simulated)/\(.isvprodid)/\(.isvsvn)/\(.debug)"' <<<"$c")" = "$MRE/$MRS/true/3/1/false" ] || bad="$bad claims($c)"
[ "$(jq -r .source "$TMP/attest.json")" = simulated ] || bad="$bad source"
"$PPML" token verify @"$TMP/token" --jwks "$URL_sim/.well-known/jwks.json" --aud relying-party >/dev/null 2>&1 && bad="$bad sim-accepted-by-default"
if [ -z "$bad" ]; then pass "$t: MRENCLAVE ${MRE:0:16}..."; else fail $t "$bad"; fi

t=attest_sim_refused_by_policy_without_simulation
run_app "$URL_sim" prod; rc=$?
if [ $rc = 1 ] && [ "$(jq -r .checks.signature_chain "$TMP/attest.json")" = fail ] && [ ! -e "$TMP/token" ] &&
	grep -q SIMULATED "$TMP/attest.json"; then pass $t; else fail $t "rc=$rc $(jq -c .reasons "$TMP/attest.json" 2>/dev/null)"; fi

t=attest_sim_refused_without_sim_root
run_app "$URL_prod" dev; rc=$?
if [ $rc = 1 ] && [ "$(jq -r .checks.signature_chain "$TMP/attest.json")" = fail ] && grep -q untrusted_root "$TMP/attest.json"; then
	pass $t; else fail $t "rc=$rc $(jq -c .reasons "$TMP/attest.json" 2>/dev/null)"; fi

t=attest_gramine_dev_attestation_path
bad=""
D=$TMP/devatt
mkdir -p "$D" && echo dcap >"$D/attestation_type" && : >"$D/user_report_data"
"$PPML" sim quote --dir "$TMP/pki" --mrenclave "$MRE" --mrsigner "$MRS" --isvprodid 3 --isvsvn 1 --out "$D/quote" 2>/dev/null
# The stand-in's quote was not made for this nonce: the service refuses exactly report_data.
"$PPML" attest --service "$URL_sim" --policy dev --dev-attestation "$D" --json >"$TMP/da.json" 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && [ "$(jq -r .source "$TMP/da.json")" = gramine-dcap ] || bad="$bad rc=$rc"
[ "$(jq -r '[.checks | to_entries[] | select(.value == "fail") | .key] | join(",")' "$TMP/da.json")" = report_data ] || bad="$bad checks($(jq -c .checks "$TMP/da.json"))"
[ "$(stat -c %s "$D/user_report_data")" = 64 ] || bad="$bad report-data-not-written"
echo none >"$D/attestation_type"
"$PPML" attest --service "$URL_sim" --policy dev --dev-attestation "$D" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q 'not "dcap"' "$TMP/err" || bad="$bad not-dcap($rc)"
"$PPML" attest --service "$URL_sim" --policy dev --dev-attestation "$TMP/absent" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q 'no quote source' "$TMP/err" || bad="$bad no-source($rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

# A /dev/attestation stand-in that really answers: `quote` is a FIFO; a
# helper reads user_report_data when the client opens it, and writes a quote
# (simulated, with this app's identity) made for exactly that report data.
t=attest_gramine_path_end_to_end_and_gramine_key
bad=""
G=$TMP/gramine
mkdir -p "$G/keys" && echo dcap >"$G/attestation_type" && : >"$G/user_report_data" && mkfifo "$G/quote"
# one_quote: serves exactly one quote through the FIFO (in the background).
one_quote() {
	(
		exec 3>"$G/quote"
		rd=$(od -An -tx1 -v "$G/user_report_data" | tr -d ' \n')
		"$PPML" sim quote --dir "$TMP/pki" --mrenclave "$MRE" --mrsigner "$MRS" --isvprodid 3 --isvsvn 1 \
			--report-data "$rd" --out "$TMP/fq.bin" 2>/dev/null
		cat "$TMP/fq.bin" >&3
	) &
	QPID=$!
}
one_quote
"$PPML" attest --service "$URL_sim" --policy dev --dev-attestation "$G" --json >"$TMP/g.json" 2>"$TMP/err"; rc=$?
[ $rc = 0 ] && [ "$(jq -r .source "$TMP/g.json")" = gramine-dcap ] && [ "$(jq -r .result "$TMP/g.json")" = accepted ] || bad="$bad attest(rc=$rc $(jq -c .reasons "$TMP/g.json" 2>/dev/null))"
"$PPML" key create pf --type gramine-pf --release-policy dev "${C[@]}" 2>/dev/null || bad="$bad key"
curl -s -X POST -H "Authorization: Bearer $(cat "$TMP/admin.cred")" -d '{}' "$URL_sim/v1/keys/pf/datakey" >"$TMP/dk.json"
jq -r .wrapped "$TMP/dk.json" | base64 -d >"$TMP/pf.pwk"
wait $QPID 2>/dev/null
one_quote
"$PPML" attest --service "$URL_sim" --release-key pf --for "$TMP/pf.pwk" --gramine-key model --dev-attestation "$G" 2>"$TMP/err"; rc=$?
[ $rc = 0 ] && [ "$(od -An -tx1 "$G/keys/model" | tr -d ' \n')" = "$(jq -r .plaintext "$TMP/dk.json" | base64 -d | od -An -tx1 | tr -d ' \n')" ] &&
	[ "$(stat -c %s "$G/keys/model")" = 16 ] || bad="$bad gramine-key(rc=$rc $(cat "$TMP/err"))"
wait $QPID 2>/dev/null
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

# `ppml attest` starts again with a fresh nonce and quote when its attest
# gets no verdict (503) or is refused on its nonce alone (a request the
# transport re-sent after the first replica processed it); any other
# refusal is final.  Through tests/tools/flaky-proxy.py.
for mode in 503 resend; do
	t=attest_retried_after_$mode
	flaky_proxy $mode "$URL_sim" || { fail $t "proxy did not start: $(cat "$TMP/flaky.err")"; continue; }
	run_app "$FLAKY_URL" dev; rc=$?
	codes=$(grep ' /v1/attest ' "$FLAKY_LOG" | cut -d' ' -f3 | tr '\n' ' ')
	want=$([ $mode = 503 ] && echo "503 200 " || echo "403 200 ")
	if [ $rc = 0 ] && [ "$codes" = "$want" ] && [ "$(grep -c '/v1/attest/nonce 200' "$FLAKY_LOG")" = 2 ] &&
		"$PPML" token verify @"$TMP/token" --jwks "$URL_sim/.well-known/jwks.json" --aud relying-party --allow-simulated >/dev/null 2>&1; then
		pass "$t: attest answers $codes"
	else
		fail $t "rc=$rc codes=$codes $(tail -2 "$TMP/run.err")"
	fi
	kill "${SVC_PIDS##* }" 2>/dev/null
done
t=attest_policy_refusal_not_retried
flaky_proxy 503 "$URL_prod" || fail $t "proxy"
: >"$FLAKY_LOG"
curl -s -X POST "$FLAKY_URL/v1/attest" -d '{}' >/dev/null   # spends the one 503
: >"$FLAKY_LOG"
run_app "$FLAKY_URL" dev; rc=$?
codes=$(grep ' /v1/attest ' "$FLAKY_LOG" | cut -d' ' -f3 | tr '\n' ' ')
[ $rc = 1 ] && [ "$codes" = "403 " ] && pass $t || fail $t "rc=$rc codes=$codes"
