#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ppml serve on loopback with a temporary SQLite database, driven with curl and
# the ppml CLI, with quotes from the simulation PKI: every check refusing alone,
# tokens against the JWKS, policies and credentials, restart, kill -9 under
# concurrent writes, audit verification.  Needs nothing from ../shared.
. "$(dirname "$0")/lib.sh"

S=$TMP/state
PKI=$TMP/pki
MRE=$(printf 'ab%.0s' $(seq 1 32))
MRS=$(printf 'cd%.0s' $(seq 1 32))
# attest URL POLICY [sim-quote args...]: a fresh nonce, REPORTDATA bound to it,
# a simulated quote of the identity given, POST /v1/attest; the response in
# $TMP/resp.json and the HTTP status in $TMP/status.
RD_OVERRIDE=""
NONCE_OVERRIDE=""
attest() {
	local url=$1 pol=$2; shift 2
	local n=${NONCE_OVERRIDE:-$(curl -s -X POST "$url/v1/attest/nonce" | jq -r .nonce)}
	local rd=${RD_OVERRIDE:-$( { printf 'ppml-attest-v1\0'; printf '\x00\x00\x00\x40'; printf '%s' "$n" | base64 -d; printf '\x00\x00\x00\x00'; } | sha256sum | cut -c1-64)}
	"$PPML" sim quote --dir "$PKI" --report-data "$rd" --out "$TMP/q.bin" "$@" 2>/dev/null || return 1
	printf '{"quote":"%s","nonce":"%s","policy":"%s","aud":"rp-1"}' "$(base64 -w0 "$TMP/q.bin")" "$n" "$pol" >"$TMP/req.json"
	echo "$n" >"$TMP/last_nonce"
	curl -s -o "$TMP/resp.json" -w '%{http_code}' -X POST "$url/v1/attest" --data-binary @"$TMP/req.json" >"$TMP/status"
}
check_of() { jq -r ".checks.$1" "$TMP/resp.json"; }
failed() { jq -r '[.checks | to_entries[] | select(.value == "fail") | .key] | join(",")' "$TMP/resp.json"; }

"$PPML" sim init --dir "$PKI" >/dev/null || fail serve_setup "sim init"
"$PPML" serve --init --state-dir "$S" $(db_args "$S") >"$TMP/admin.cred" 2>"$TMP/init.err" || fail serve_setup "init: $(cat "$TMP/init.err")"
chmod 600 "$TMP/admin.cred"
serve main --collateral-dir "$PKI/collateral" --sim-root-ca "$PKI/root.pem" --metrics-listen 127.0.0.1:0 || fail serve_setup start
U=$URL_main
A=(--service "$U" --credential-file "$TMP/admin.cred")
cat >"$TMP/p.toml" <<TOML
identities = [{ mrenclave = "$MRE" }, { mrsigner = "$MRS", isvprodid = 7, min_isvsvn = 3 }]
allow_simulation = true
TOML
"$PPML" policy put train "$TMP/p.toml" "${A[@]}" 2>/dev/null || fail serve_setup "policy put"

t=serve_init_files_and_once
bad=""
[ "$(stat -c %a "$S/token.key")" = 600 ] && [ "$(stat -c %a "$S/nonce.key")" = 600 ] && [ "$(stat -c %a "$S")" = 700 ] || bad="$bad modes"
grep -q '^ppml_' "$TMP/admin.cred" && [ "$(wc -l <"$TMP/admin.cred")" = 1 ] || bad="$bad credential"
"$PPML" serve --init --state-dir "$S" $(db_args "$S") >"$TMP/again" 2>/dev/null; rc=$?
[ $rc = 3 ] && [ ! -s "$TMP/again" ] || bad="$bad second-init($rc)"
! grep -rq "$(cat "$TMP/admin.cred")" "$S" || bad="$bad secret-stored"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=serve_accepts_good_quote_and_token_verifies
bad=""
attest "$U" train --mrenclave "$MRE" || bad="$bad attest"
[ "$(cat "$TMP/status")" = 200 ] && [ "$(jq -r .result "$TMP/resp.json")" = accepted ] || bad="$bad status($(cat "$TMP/status") $(jq -c .reasons "$TMP/resp.json"))"
jq -r .token "$TMP/resp.json" >"$TMP/token"
curl -s "$U/.well-known/jwks.json" >"$TMP/jwks.json"
c=$("$PPML" token verify @"$TMP/token" --jwks "$TMP/jwks.json" --aud rp-1 --allow-simulated --json) || bad="$bad verify"
[ "$(jq -r '"\(.mrenclave)/\(.simulated)/\(.policy)/\(.policy_version)/\(.tcb_status)"' <<<"$c")" = "$MRE/true/train/1/UpToDate" ] || bad="$bad claims($c)"
[ "$(jq -r .nonce <<<"$c")" = "$(cat "$TMP/last_nonce")" ] || bad="$bad nonce-claim"
[ "$(jq -r .policy_sha256 <<<"$c")" = "$("$PPML" policy check "$TMP/p.toml" --json | jq -r .sha256)" ] || bad="$bad policy-sha"
kid=$(cut -d. -f1 "$TMP/token" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .kid)
case $kid in sim-*) ;; *) bad="$bad kid($kid)" ;; esac
[ "$(jq -r .iss <<<"$c")" = ppml-serve/sim ] || bad="$bad iss"
# Without --allow-simulated a relying party refuses it.
"$PPML" token verify @"$TMP/token" --jwks "$U/.well-known/jwks.json" --aud rp-1 >/dev/null 2>&1; rc=$?
[ $rc = 1 ] || bad="$bad sim-not-refused($rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=serve_token_every_byte_altered_refused
# Every byte, two ways each (another base64url character, and '.'), verified
# in process by build/tests/token-alter; then a few through the CLI, and the
# token for another audience.
bad=""
out=$("$PPML_BUILD/tests/token-alter" "$TMP/token" "$TMP/jwks.json" rp-1 2>"$TMP/alter.err") || bad="$bad alter($(head -3 "$TMP/alter.err" | tr '\n' ' '))"
tok=$(cat "$TMP/token")
n=${#tok}
for i in 0 $((n / 3)) $((n / 2)) $((n - 1)); do
	ch=${tok:$i:1}
	[ "$ch" = A ] && r=B || r=A
	alt="${tok:0:$i}$r${tok:$((i + 1))}"
	"$PPML" token verify "$alt" --jwks "$TMP/jwks.json" --aud rp-1 --allow-simulated >/dev/null 2>&1 && bad="$bad cli-$i"
done
"$PPML" token verify "$tok" --jwks "$TMP/jwks.json" --aud rp-2 --allow-simulated >/dev/null 2>&1 && bad="$bad other-aud"
if [ -z "$bad" ]; then pass "$t: $out"; else fail $t "$bad"; fi

# refused NAME CHECK [attest args]: HTTP 403, result refused, exactly CHECK failed.
refused() {
	local name=$1 want=$2; shift 2
	attest "$@"
	local st got
	st=$(cat "$TMP/status"); got=$(failed)
	if [ "$st" = 403 ] && [ "$(jq -r .result "$TMP/resp.json")" = refused ] && [ "$got" = "$want" ] &&
		[ "$(jq -r .token "$TMP/resp.json")" = null ] && [ "$(jq '.reasons | length' "$TMP/resp.json")" -ge 1 ]; then
		pass "$name"
	else
		fail "$name" "status $st, failed '$got' (expected '$want'): $(jq -c .reasons "$TMP/resp.json")"
	fi
}

refused serve_refuses_debug_enclave debug "$U" train --mrenclave "$MRE" --debug
refused serve_refuses_wrong_mrenclave identity "$U" train --mrenclave "$(printf 'ef%.0s' $(seq 1 32))"
refused serve_refuses_low_isvsvn identity "$U" train --mrenclave "$(printf 'ee%.0s' $(seq 1 32))" --mrsigner "$MRS" --isvprodid 7 --isvsvn 2
t=serve_accepts_mrsigner_identity
attest "$U" train --mrenclave "$(printf 'ee%.0s' $(seq 1 32))" --mrsigner "$MRS" --isvprodid 7 --isvsvn 3
if [ "$(cat "$TMP/status")" = 200 ]; then pass $t; else fail $t "$(jq -c .reasons "$TMP/resp.json")"; fi

t=serve_refuses_replayed_nonce
attest "$U" train --mrenclave "$MRE"
NONCE_OVERRIDE=$(cat "$TMP/last_nonce") refused "$t" nonce "$U" train --mrenclave "$MRE"

RD_OVERRIDE=$(printf '11%.0s' $(seq 1 32)) refused serve_refuses_wrong_report_data report_data "$U" train --mrenclave "$MRE"
NONCE_OVERRIDE=$(head -c 64 /dev/urandom | base64 -w0) refused serve_refuses_forged_nonce nonce "$U" train --mrenclave "$MRE"

# Expired nonce: a second service with a 1-second nonce lifetime.
serve short --collateral-dir "$PKI/collateral" --sim-root-ca "$PKI/root.pem" --nonce-ttl 1 || fail serve_short start
t=serve_refuses_expired_nonce
n=$(curl -s -X POST "$URL_short/v1/attest/nonce" | jq -r .nonce)
sleep 2.1
NONCE_OVERRIDE=$n refused "$t" nonce "$URL_short" train --mrenclave "$MRE"
grep -q 'expired' "$TMP/resp.json" || fail "$t"_reason "$(jq -c .reasons "$TMP/resp.json")"

# Out-of-date TCB, then an exception (unexpired: accepted; expired: refused).
"$PPML" sim collateral --dir "$PKI" --out "$TMP/ood" --tcb-status OutOfDate --advisory-ids INTEL-SA-00828 2>/dev/null
serve ood --collateral-dir "$TMP/ood" --sim-root-ca "$PKI/root.pem" || fail serve_ood start
refused serve_refuses_out_of_date_tcb tcb "$URL_ood" train --mrenclave "$MRE"
t=serve_accepts_out_of_date_under_unexpired_exception
{ cat "$TMP/p.toml"; echo "exceptions = [{ status = \"OutOfDate\", advisory_ids = [\"INTEL-SA-00828\"], expires_at = \"$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)\" }]"; } >"$TMP/p2.toml"
"$PPML" policy put train "$TMP/p2.toml" "${A[@]}" 2>/dev/null
attest "$URL_ood" train --mrenclave "$MRE"
if [ "$(cat "$TMP/status")" = 200 ]; then pass $t; else fail $t "$(jq -c .reasons "$TMP/resp.json")"; fi
{ cat "$TMP/p.toml"; echo "exceptions = [{ status = \"OutOfDate\", advisory_ids = [\"INTEL-SA-00828\"], expires_at = \"$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)\" }]"; } >"$TMP/p3.toml"
"$PPML" policy put train "$TMP/p3.toml" "${A[@]}" 2>/dev/null
refused serve_refuses_after_exception_expiry tcb "$URL_ood" train --mrenclave "$MRE"
"$PPML" policy put train "$TMP/p.toml" "${A[@]}" 2>/dev/null

# Stale collateral (expired 10 days ago).
"$PPML" sim collateral --dir "$PKI" --out "$TMP/stale" --age-days 40 --valid-days 30 2>/dev/null
serve stale --collateral-dir "$TMP/stale" --sim-root-ca "$PKI/root.pem" || fail serve_stale start
refused serve_refuses_stale_collateral collateral "$URL_stale" train --mrenclave "$MRE"

# Simulated quotes: without --sim-root-ca, and under a policy without allow_simulation.
serve nosim --collateral-dir "$PKI/collateral" || fail serve_nosim start
refused serve_refuses_simulated_without_sim_root signature_chain "$URL_nosim" train --mrenclave "$MRE"
grep -q untrusted_root "$TMP/resp.json" || fail serve_nosim_reason "$(jq -c .reasons "$TMP/resp.json")"
printf 'identities = [{ mrenclave = "%s" }]\n' "$MRE" >"$TMP/strict.toml"
"$PPML" policy put strict "$TMP/strict.toml" "${A[@]}" 2>/dev/null
refused serve_refuses_simulated_without_allow_simulation signature_chain "$U" strict --mrenclave "$MRE"

t=serve_bad_requests
bad=""
code() { curl -s -o "$TMP/e.json" -w '%{http_code}' "$@"; }
[ "$(code -X POST "$U/v1/attest" -d '{')" = 400 ] && [ "$(jq -r .error.code "$TMP/e.json")" = bad_json ] || bad="$bad json"
[ "$(code -X POST "$U/v1/attest" -d '{"policy":"train","policy":"x"}')" = 400 ] || bad="$bad dup-keys"
[ "$(code -X POST "$U/v1/attest" -d '{"quote":"AAAA","nonce":"AAAA"}')" = 400 ] && grep -q policy "$TMP/e.json" || bad="$bad no-policy"
[ "$(code -X POST "$U/v1/attest" -d '{"quote":"AAAA","nonce":"AAAA","policy":"train","extra":1}')" = 400 ] || bad="$bad unknown-field"
[ "$(code -X POST "$U/v1/attest" -d '{"quote":"not base64!","nonce":"AAAA","policy":"train"}')" = 400 ] || bad="$bad b64"
[ "$(code -X POST "$U/v1/attest" -d '{"quote":"AAAA","nonce":"AAAA","policy":"nope"}')" = 404 ] || bad="$bad unknown-policy"
head -c 300000 /dev/zero >"$TMP/big"
[ "$(code -X POST "$U/v1/attest" --data-binary @"$TMP/big")" = 413 ] || bad="$bad too-big"
[ "$(code -X POST "$U/v1/attest/nonce" --data-binary @"$TMP/big")" = 413 ] || bad="$bad nonce-body"
[ "$(code "$U/v1/nothing")" = 404 ] && [ "$(code -X DELETE "$U/v1/attest")" = 405 ] || bad="$bad routes"
[ "$(code "$U/healthz")" = 200 ] && [ "$(jq -r .status "$TMP/e.json")" = ok ] || bad="$bad healthz"
[ "$(code "$U/v1/self/quote?nonce=x")" = 404 ] || bad="$bad self-quote"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=serve_credentials_and_roles
bad=""
[ "$(code "$U/v1/policies")" = 401 ] || bad="$bad no-cred"
[ "$(code -H 'Authorization: Bearer ppml_nope' "$U/v1/policies")" = 401 ] || bad="$bad bad-cred"
"$PPML" admin credential create --role metrics --out "$TMP/metrics.cred" "${A[@]}" >"$TMP/cc.out" 2>/dev/null || bad="$bad create"
mid=$(sed -n 's/^id: //p' "$TMP/cc.out")
[ "$(stat -c %a "$TMP/metrics.cred")" = 600 ] && ! grep -q "$(cat "$TMP/metrics.cred")" "$TMP/cc.out" || bad="$bad secret-leak"
[ "$(code -H "Authorization: Bearer $(cat "$TMP/metrics.cred")" "$U/v1/policies")" = 403 ] || bad="$bad role"
"$PPML" admin credential revoke "$mid" "${A[@]}" 2>/dev/null || bad="$bad revoke"
[ "$(code -H "Authorization: Bearer $(cat "$TMP/metrics.cred")" "$U/v1/policies")" = 401 ] || bad="$bad revoked-still-works"
"$PPML" policy list "${A[@]}" | grep -q '^train ' || bad="$bad list"
"$PPML" policy get train --version 1 "${A[@]}" | grep -q '"allow_simulation": true' || bad="$bad get"
! grep -q "$(cat "$TMP/admin.cred")" "$TMP/main.log" || bad="$bad secret-in-log"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=serve_metrics
m=$(curl -s "http://127.0.0.1:$(cat "$TMP/main.port.metrics")/metrics")
if grep -q '^ppml_verdicts_total{result="accepted"} [1-9]' <<<"$m" && grep -q '^ppml_refusals_total{check="debug"} 1$' <<<"$m" &&
	grep -q '^ppml_attest_seconds_count [1-9]' <<<"$m"; then pass $t; else fail $t "$(head -c 400 <<<"$m")"; fi

t=serve_restart_keeps_state
bad=""
before=$("$PPML" audit verify "${A[@]}" --json) || bad="$bad audit-before"
kill -TERM "$PID_main"; wait "$PID_main" 2>/dev/null
serve main --collateral-dir "$PKI/collateral" --sim-root-ca "$PKI/root.pem" || bad="$bad restart"
U=$URL_main; A=(--service "$U" --credential-file "$TMP/admin.cred")
after=$("$PPML" audit verify "${A[@]}" --json) || bad="$bad audit-after($after)"
[ "$(jq .entries <<<"$after")" -ge "$(jq .entries <<<"$before")" ] && [ "$(jq .checkpoints <<<"$after")" -ge 1 ] || bad="$bad chain($before/$after)"
"$PPML" policy get train "${A[@]}" >/dev/null 2>&1 || bad="$bad policy-lost"
attest "$U" train --mrenclave "$MRE"; [ "$(cat "$TMP/status")" = 200 ] || bad="$bad attest-after"
if [ -z "$bad" ]; then pass "$t: $(jq .entries <<<"$after") entries"; else fail $t "$bad"; fi

t=serve_token_key_rotation
bad=""
kids() { curl -s "$1/.well-known/jwks.json" | jq -r '[.keys[].kid] | sort | join(" ")'; }
before=$(kids "$U")
old=$(curl -s "$U/.well-known/jwks.json" | jq -r '.keys[] | select(.kid | startswith("sim-") | not) | .kid')
kill -TERM "$PID_main"; wait "$PID_main" 2>/dev/null
"$PPML" serve --rotate-token-key --state-dir "$S" $(db_args "$S") 2>"$TMP/rot.err" || bad="$bad rotate($(cat "$TMP/rot.err"))"
[ "$(stat -c %a "$S/token.key")" = 600 ] || bad="$bad mode"
serve main --collateral-dir "$PKI/collateral" --sim-root-ca "$PKI/root.pem" || bad="$bad restart"
U=$URL_main; A=(--service "$U" --credential-file "$TMP/admin.cred")
after=$(kids "$U")
[ "$(wc -w <<<"$after")" = 3 ] && grep -q -- "$old" <<<"$after" || bad="$bad jwks($before -> $after)"
"$PPML" audit verify "${A[@]}" >/dev/null 2>"$TMP/err" || bad="$bad audit($(cat "$TMP/err"))"
# A second rotation keeping the old key 1 s: it leaves the JWKS, the audit still verifies.
kill -TERM "$PID_main"; wait "$PID_main" 2>/dev/null
"$PPML" serve --rotate-token-key --keep 1 --state-dir "$S" $(db_args "$S") 2>/dev/null || bad="$bad rotate2"
sleep 1.2
serve main --collateral-dir "$PKI/collateral" --sim-root-ca "$PKI/root.pem" || bad="$bad restart2"
U=$URL_main; A=(--service "$U" --credential-file "$TMP/admin.cred")
[ "$(kids "$U" | wc -w)" = 3 ] || bad="$bad jwks2($(kids "$U"))"  # first retired key still within its day
"$PPML" audit verify "${A[@]}" --json >"$TMP/av.json" 2>/dev/null || bad="$bad audit2($(cat "$TMP/av.json"))"
attest "$U" train --mrenclave "$MRE"; [ "$(cat "$TMP/status")" = 200 ] || bad="$bad attest"
if [ -z "$bad" ]; then pass "$t: $(jq .checkpoints "$TMP/av.json") checkpoints verified across two rotations"; else fail $t "$bad"; fi

t=serve_kill9_during_concurrent_policy_writes
bad=""
printf 'identities = [{ mrenclave = "%s" }]\n' "$MRE" >"$TMP/w.toml"
export U TMP
seq 1 500 | xargs -P 16 -I{} sh -c 'c=$(curl -s -o /dev/null -w "%{http_code}" -X PUT -H "Authorization: Bearer $(cat "$TMP/admin.cred")" --data-binary @"$TMP/w.toml" "$U/v1/policies/w{}"); [ "$c" = 201 ] && echo w{}' >"$TMP/acked" 2>/dev/null &
xp=$!
sleep 0.4
kill -9 "$PID_main"
wait $xp 2>/dev/null
SVC_PIDS=$(echo "$SVC_PIDS" | sed "s/ $PID_main//")
serve main --collateral-dir "$PKI/collateral" --sim-root-ca "$PKI/root.pem" || bad="$bad restart"
U=$URL_main; A=(--service "$U" --credential-file "$TMP/admin.cred")
"$PPML" policy list "${A[@]}" --json | jq -r '.policies[].name' | sort >"$TMP/have"
lost=$(sort "$TMP/acked" | comm -23 - "$TMP/have" | wc -l)
acked=$(wc -l <"$TMP/acked")
[ "$lost" = 0 ] || bad="$bad lost=$lost"
[ "$acked" -gt 0 ] && [ "$acked" -lt 500 ] || bad="$bad acked=$acked(not-mid-run)"
"$PPML" audit verify "${A[@]}" >/dev/null 2>"$TMP/err" || bad="$bad audit($(cat "$TMP/err"))"
if [ -z "$bad" ]; then pass "$t: $acked acknowledged before kill -9, none lost"; else fail $t "$bad"; fi

t=serve_https
bad=""
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/tls.key" -out "$TMP/tls.crt" \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 2>/dev/null || bad="$bad cert"
chmod 600 "$TMP/tls.key"
serve tls --collateral-dir "$PKI/collateral" --tls-cert "$TMP/tls.crt" --tls-key "$TMP/tls.key" || bad="$bad start"
TU=https://127.0.0.1:$(cat "$TMP/tls.port")
[ "$(curl -s --cacert "$TMP/tls.crt" -o /dev/null -w '%{http_code}' "$TU/healthz")" = 200 ] || bad="$bad curl"
curl -s --tlsv1.1 --tls-max 1.1 --cacert "$TMP/tls.crt" "$TU/healthz" >/dev/null 2>&1 && bad="$bad tls1.1-accepted"
"$PPML" policy list --service "$TU" --credential-file "$TMP/admin.cred" --cacert "$TMP/tls.crt" | grep -q '^train ' || bad="$bad cli"
"$PPML" policy list --service "$TU" --credential-file "$TMP/admin.cred" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q -- '--cacert' "$TMP/err" || bad="$bad untrusted-accepted($rc)"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$TMP/tls.port")/healthz")" != 200 ] || bad="$bad plain-http"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=serve_usage
bad=""
"$PPML" serve --state-dir "$S" --listen 127.0.0.1:0 2>/dev/null; [ $? = 2 ] || bad="$bad no-tls"
"$PPML" serve 2>/dev/null; [ $? = 2 ] || bad="$bad no-state"
"$PPML" serve --state-dir "$TMP/none" --insecure-http --listen 127.0.0.1:0 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q -- '--init' "$TMP/err" || bad="$bad no-init($rc)"
printf 'listen = "127.0.0.1:0"\nlisten_port = 1\n' >"$TMP/bad.toml"
"$PPML" serve --config "$TMP/bad.toml" --state-dir "$S" 2>"$TMP/err"; rc=$?
[ $rc = 2 ] && grep -q 'listen_port: unknown setting' "$TMP/err" || bad="$bad config($rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
