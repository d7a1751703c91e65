#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two `ppml serve` replicas on loopback sharing one PostgreSQL database and
# the service keys (replica B's state dir is a copy of A's), requests spread
# across both: a nonce issued by A and consumed on B is refused on A; then
# 2,000 concurrent attestations, key releases and policy writes
# (build/tests/serve-load: every job takes its nonce from one replica and
# submits to the other) with B killed by kill -9 midway, the clients
# retrying on the survivor.  Afterwards every acknowledged release,
# attestation and policy write is in the database and its audit log, and
# `ppml audit verify` passes on the one chain both replicas appended to.
. "$(dirname "$0")/lib.sh"

start_pg replicas || exit 0
export PPML_TEST_DB=$PG_URL
S=$TMP/state
PKI=$TMP/pki
MRE=$(printf 'ab%.0s' $(seq 1 32))
"$PPML" sim init --dir "$PKI" >/dev/null 2>&1 &&
	"$PPML" serve --init --state-dir "$S" $(db_args "$S") >"$TMP/admin.cred" 2>"$TMP/err" &&
	cp -a "$S" "$TMP/state-b" || { fail replicas_setup "$(cat "$TMP/err")"; exit 0; }
serve a --collateral-dir "$PKI/collateral" --sim-root-ca "$PKI/root.pem" &&
	DB_DIR=$S S=$TMP/state-b serve b --collateral-dir "$PKI/collateral" --sim-root-ca "$PKI/root.pem" ||
	{ fail replicas_setup start; exit 0; }
A=(--service "$URL_a" --credential-file "$TMP/admin.cred")
printf 'identities = [{ mrenclave = "%s" }]\nallow_simulation = true\n' "$MRE" >"$TMP/p.toml"
"$PPML" policy put train "$TMP/p.toml" "${A[@]}" >/dev/null 2>&1 &&
	"$PPML" key create data --type aes-256-gcm --release-policy train --service "$URL_b" \
		--credential-file "$TMP/admin.cred" >/dev/null 2>&1 || { fail replicas_setup "policy/key"; exit 0; }

# quote_for NONCE: a simulated quote bound to NONCE (attest label) as a request body in $TMP/req.json.
quote_for() {
	local rd
	rd=$( { printf 'ppml-attest-v1\0'; printf '\x00\x00\x00\x40'; printf '%s' "$1" | base64 -d; printf '\x00\x00\x00\x00'; } | sha256sum | cut -c1-64)
	"$PPML" sim quote --dir "$PKI" --report-data "$rd" --mrenclave "$MRE" --out "$TMP/q.bin" 2>/dev/null &&
		printf '{"quote":"%s","nonce":"%s","policy":"train"}' "$(base64 -w0 "$TMP/q.bin")" "$1" >"$TMP/req.json"
}
post() { curl -s -o "$TMP/resp.json" -w '%{http_code}' -X POST "$1/v1/attest" --data-binary @"$TMP/req.json"; }

t=replicas_nonce_from_a_consumed_on_b_refused_on_a
bad=""
n=$(curl -s -X POST "$URL_a/v1/attest/nonce" | jq -r .nonce)
quote_for "$n" || bad="$bad quote"
st=$(post "$URL_b"); [ "$st" = 200 ] || bad="$bad b($st $(jq -c .reasons "$TMP/resp.json"))"
st=$(post "$URL_a"); [ "$st" = 403 ] && [ "$(jq -r .checks.nonce "$TMP/resp.json")" = fail ] || bad="$bad a($st)"
st=$(post "$URL_b"); [ "$st" = 403 ] || bad="$bad b-again($st)"
# And the other way round.
n=$(curl -s -X POST "$URL_b/v1/attest/nonce" | jq -r .nonce)
quote_for "$n" && [ "$(post "$URL_a")" = 200 ] && [ "$(post "$URL_b")" = 403 ] || bad="$bad b-to-a"
# A policy written on one replica is read on the other.
"$PPML" policy get train --service "$URL_b" --credential-file "$TMP/admin.cred" >/dev/null 2>&1 || bad="$bad policy-on-b"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

# check_acked: everything acknowledged (in $TMP/acked) is in the audit log
# (by the SHA-256 of its quote) and, for policy writes, in the database; the
# audit log is one linear chain that verifies.  Appends to $bad; sets $entries.
check_acked() {
	"$PPML" audit verify "${A[@]}" --save "$TMP/audit.json" >"$TMP/verify.out" 2>"$TMP/err" || bad="$bad audit-verify($(cat "$TMP/err"))"
	jq -r '.entries[] | select(.kind == "verdict" and .body.result == "accepted") | "attest \(.body.quote_sha256)"' "$TMP/audit.json" >"$TMP/logged"
	jq -r '.entries[] | select(.kind == "release" and .body.result == "released") | "release \(.body.quote_sha256)"' "$TMP/audit.json" >>"$TMP/logged"
	jq -r '.entries[] | select(.kind == "policy_put") | "policy \(.body.name) \(.body.version)"' "$TMP/audit.json" >>"$TMP/logged"
	local missing lost
	missing=$(sort "$TMP/acked" | comm -23 - <(sort -u "$TMP/logged") | wc -l)
	[ "$missing" = 0 ] || bad="$bad not-in-audit=$missing($(sort "$TMP/acked" | comm -23 - <(sort -u "$TMP/logged") | head -2 | tr '\n' ' '))"
	"$PPML" policy list "${A[@]}" --json | jq -r '.policies[].name' | sort >"$TMP/have"
	lost=$(sed -n 's/^policy \([^ ]*\) .*/\1/p' "$TMP/acked" | sort | comm -23 - "$TMP/have" | wc -l)
	[ "$lost" = 0 ] || bad="$bad policies-lost=$lost"
	# One linear chain: seq 1..N with no gap or fork, verified above.
	entries=$(jq '.entries | length' "$TMP/audit.json")
	[ "$(jq '[.entries[].seq] == [range(1; (.entries | length) + 1)]' "$TMP/audit.json")" = true ] || bad="$bad seq-gaps"
}

t=replicas_kill9_one_under_2000_concurrent_requests
bad=""
WDK=$(curl -s -X POST -H "Authorization: Bearer $(cat "$TMP/admin.cred")" -d '{"plaintext":false}' "$URL_a/v1/keys/data/datakey" | jq -r .wrapped)
start=$(date +%s.%N)
"$PPML_BUILD/tests/serve-load" --pki "$PKI" --url "$URL_a" --url "$URL_b" --jobs 2000 --threads 16 \
	--policy train --release-key data --wrapped-datakey "$WDK" --policy-writes-every 10 \
	--credential-file "$TMP/admin.cred" --policy-body "$TMP/p.toml" --acked "$TMP/acked" \
	>"$TMP/load.out" 2>"$TMP/load.err" &
lp=$!
# Midway: once a third of the jobs are acknowledged.
for _ in $(seq 1 600); do
	[ -f "$TMP/acked" ] && [ "$(wc -l <"$TMP/acked")" -ge 660 ] && break
	kill -0 $lp 2>/dev/null || break
	sleep 0.05
done
at_kill=$(wc -l <"$TMP/acked")
kill -9 "$PID_b"
wait "$PID_b" 2>/dev/null
SVC_PIDS=$(echo "$SVC_PIDS" | sed "s/ $PID_b//")
wait $lp; rc=$?
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
[ $rc = 0 ] || bad="$bad load($rc: $(head -3 "$TMP/load.err" | tr '\n' ' '))"
summary=$(cat "$TMP/load.out")
[ "$at_kill" -gt 0 ] && [ "$at_kill" -lt 2000 ] || bad="$bad not-midway($at_kill)"
# Both replicas answered, and the survivor after the kill.
served=$(sed -n 's/.*served by \([0-9]*\)\/\([0-9]*\).*/\1 \2/p' "$TMP/load.out")
read -r sa sb <<<"$served"
[ "${sa:-0}" -gt "$at_kill" ] 2>/dev/null && [ "${sb:-0}" -gt 0 ] || bad="$bad served($served at-kill $at_kill)"
grep -q ' 0 failed' "$TMP/load.out" || bad="$bad failed-jobs"
acked=$(wc -l <"$TMP/acked")
[ "$acked" = 2000 ] || bad="$bad acked=$acked"
check_acked
if [ -z "$bad" ]; then
	pass "$t: ${secs} s, B killed after $at_kill acknowledged; ${summary#serve-load: }; $entries audit entries verify"
else
	fail $t "$bad [$summary]"
fi

# The same behind one address: a round-robin TCP load balancer
# (tests/tools/rr-proxy.py) in front of A and a restarted B; the clients
# know only the balancer.  B is killed midway again; the balancer skips it
# and the clients' retries land on A.
t=replicas_behind_one_address_kill9
bad=""
DB_DIR=$S S=$TMP/state-b serve b2 --collateral-dir "$PKI/collateral" --sim-root-ca "$PKI/root.pem" || bad="$bad b2-start"
python3 "$PPML_ROOT/tests/tools/rr-proxy.py" "$TMP/lb.port" "$TMP/lb.json" "${URL_a#http://}" "${URL_b2#http://}" 2>"$TMP/lb.err" &
lbp=$!
for _ in $(seq 1 100); do [ -s "$TMP/lb.port" ] && break; sleep 0.05; done
LB=http://127.0.0.1:$(cat "$TMP/lb.port" 2>/dev/null)
curl -sf "$LB/healthz" >/dev/null || bad="$bad lb-healthz"
: >"$TMP/acked"
"$PPML_BUILD/tests/serve-load" --pki "$PKI" --url "$LB" --lb yes --jobs 2000 --threads 16 \
	--policy train --release-key data --wrapped-datakey "$WDK" --policy-writes-every 10 \
	--credential-file "$TMP/admin.cred" --policy-body "$TMP/p.toml" --acked "$TMP/acked" \
	>"$TMP/load.out" 2>"$TMP/load.err" &
lp=$!
for _ in $(seq 1 600); do
	[ "$(wc -l <"$TMP/acked")" -ge 660 ] && break
	kill -0 $lp 2>/dev/null || break
	sleep 0.05
done
at_kill=$(wc -l <"$TMP/acked")
kill -9 "$PID_b2"
wait "$PID_b2" 2>/dev/null
SVC_PIDS=$(echo "$SVC_PIDS" | sed "s/ $PID_b2//")
wait $lp; rc=$?
kill -TERM $lbp; wait $lbp
[ $rc = 0 ] || bad="$bad load($rc: $(head -3 "$TMP/load.err" | tr '\n' ' '))"
[ "$at_kill" -gt 0 ] && [ "$at_kill" -lt 2000 ] || bad="$bad not-midway($at_kill)"
grep -q ' 0 failed' "$TMP/load.out" || bad="$bad failed-jobs"
[ "$(wc -l <"$TMP/acked")" = 2000 ] || bad="$bad acked=$(wc -l <"$TMP/acked")"
# Both replicas took connections through the balancer; B refused after its death.
ca=$(jq '.backends[0].connections' "$TMP/lb.json" 2>/dev/null)
cb=$(jq '.backends[1].connections' "$TMP/lb.json" 2>/dev/null)
rb=$(jq '.backends[1].refused' "$TMP/lb.json" 2>/dev/null)
[ "${ca:-0}" -gt 0 ] && [ "${cb:-0}" -gt 0 ] && [ "${rb:-0}" -gt 0 ] || bad="$bad lb-stats($(cat "$TMP/lb.json" 2>/dev/null))"
check_acked
summary=$(cat "$TMP/load.out")
if [ -z "$bad" ]; then
	pass "$t: B killed after $at_kill acknowledged; balancer connections A $ca, B $cb (B refused $rb after); ${summary#serve-load: }; $entries audit entries verify"
else
	fail $t "$bad [$summary]"
fi
