#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The service suite on PostgreSQL: starts a throwaway cluster (start_pg) and
# reruns test_serve.sh and test_keys.sh with PPML_TEST_DB set, so every
# `ppml serve` they start (and every --init and --rotate-token-key) uses
# --db with a database of its state dir's own; their PASS/FAIL lines are
# repeated here prefixed "pg:".  Then GET /healthz through a database
# outage: 200, 503 while PostgreSQL is stopped, 200 again once it is back
# (the pool reconnects), and an attestation (a nonce write on a pooled
# connection the restart closed) accepted at the first try.
. "$(dirname "$0")/lib.sh"

start_pg serve_pg || exit 0
for suite in test_serve test_keys; do
	PPML_TEST_DB=$PG_URL timeout 600 bash "$(dirname "$0")/$suite.sh" >"$TMP/$suite.out" 2>"$TMP/$suite.err"
	rc=$?
	grep -E '^(PASS|FAIL|SKIP) ' "$TMP/$suite.out" | sed -E 's/^(PASS|FAIL|SKIP) /\1 pg:/'
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$TMP/$suite.out"; then
		fail "pg:$suite" "exited with status $rc: $(tail -5 "$TMP/$suite.err" | tr '\n' ' ')"
	elif ! grep -q '^PASS ' "$TMP/$suite.out"; then
		fail "pg:$suite" "no case passed: $(tail -5 "$TMP/$suite.err" | tr '\n' ' ')"
	fi
done

# ---- /healthz through an outage ----
export PPML_TEST_DB=$PG_URL
S=$TMP/state
PKI=$TMP/pki
MRE=$(printf 'ab%.0s' $(seq 1 32))
"$PPML" sim init --dir "$PKI" >/dev/null 2>&1 &&
	"$PPML" serve --init --state-dir "$S" $(db_args "$S") >"$TMP/admin.cred" 2>"$TMP/err" ||
	{ fail serve_pg_setup "$(cat "$TMP/err")"; exit 0; }
serve main --collateral-dir "$PKI/collateral" --sim-root-ca "$PKI/root.pem" || { fail serve_pg_setup start; exit 0; }
U=$URL_main
printf 'identities = [{ mrenclave = "%s" }]\nallow_simulation = true\n' "$MRE" >"$TMP/p.toml"
"$PPML" policy put train "$TMP/p.toml" --service "$U" --credential-file "$TMP/admin.cred" >/dev/null 2>&1 ||
	fail serve_pg_setup "policy put"
# attest: a nonce, a simulated quote bound to it, POST /v1/attest; prints the HTTP status.
attest() {
	local n rd
	n=$(curl -s -X POST "$U/v1/attest/nonce" | jq -r .nonce) || return 1
	rd=$( { printf 'ppml-attest-v1\0'; printf '\x00\x00\x00\x40'; printf '%s' "$n" | base64 -d; printf '\x00\x00\x00\x00'; } | sha256sum | cut -c1-64)
	"$PPML" sim quote --dir "$PKI" --report-data "$rd" --mrenclave "$MRE" --out "$TMP/q.bin" 2>/dev/null || return 1
	printf '{"quote":"%s","nonce":"%s","policy":"train"}' "$(base64 -w0 "$TMP/q.bin")" "$n" >"$TMP/req.json"
	curl -s -o "$TMP/resp.json" -w '%{http_code}' -X POST "$U/v1/attest" --data-binary @"$TMP/req.json"
}
health() { curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$U/healthz"; }

t=serve_pg_healthz_through_outage
bad=""
[ "$(health)" = 200 ] || bad="$bad before($(health))"
[ "$(attest)" = 200 ] || bad="$bad attest-before"
# Restarted while the service idles: its pooled connections are dead; the
# next write (a nonce, never retried by the store) must not fail on one.
pg_down && pg_up || bad="$bad restart"
st=$(attest); [ "$st" = 200 ] || bad="$bad attest-after-restart($st $(head -c 200 "$TMP/resp.json"))"
pg_down || bad="$bad stop"
h=$(health); [ "$h" = 503 ] || bad="$bad during($h)"
st=$(attest); [ "$st" != 200 ] || bad="$bad attest-during-outage"
pg_up || bad="$bad start"
h=""
for _ in $(seq 1 50); do h=$(health); [ "$h" = 200 ] && break; sleep 0.2; done
[ "$h" = 200 ] || bad="$bad after($h)"
st=$(attest); [ "$st" = 200 ] || bad="$bad attest-after($st)"
"$PPML" audit verify --service "$U" --credential-file "$TMP/admin.cred" >/dev/null 2>"$TMP/err" || bad="$bad audit($(cat "$TMP/err"))"
if [ -z "$bad" ]; then pass "$t: 200, 503 while stopped, 200 after restart"; else fail $t "$bad"; fi

t=serve_pg_password_not_in_messages
bad=""
for db in "postgresql://ppml:pw-secret@127.0.0.1:1/x" "postgresql://ppml:pw/secret@127.0.0.1:$PG_PORT/x" \
	"postgresql://ppml:pw-secret@127.0.0.1:$PG_PORT/nosuchdb"; do
	"$PPML" serve --state-dir "$S" --db "$db" --insecure-http --listen 127.0.0.1:0 2>"$TMP/err" >/dev/null; rc=$?
	{ [ $rc = 3 ] || [ $rc = 2 ]; } && [ -s "$TMP/err" ] && ! grep -q 'secret' "$TMP/err" || bad="$bad serve($rc: $(head -c 200 "$TMP/err"))"
	"$PPML" serve --init --state-dir "$TMP/st-$RANDOM" --db "$db" 2>"$TMP/err" >/dev/null; rc=$?
	[ $rc != 0 ] && ! grep -q 'secret' "$TMP/err" || bad="$bad init($rc: $(head -c 200 "$TMP/err"))"
done
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
