#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ppml sim init|collateral|quote: the simulation PKI on disk, its quotes on the
# real verification path (ppml quote verify --root-ca), and the refusals.
. "$(dirname "$0")/lib.sh"

D=$TMP/pki
MRE=$(printf 'ab%.0s' $(seq 1 32))
MRS=$(printf 'cd%.0s' $(seq 1 32))

t=sim_help
if "$PPML" sim --help | grep -q 'ppml sim quote \[--dir DIR\] --mrenclave HEX' &&
	"$PPML" --help | grep -q '^ *sim '; then pass $t; else fail $t "no usage"; fi

t=sim_init_files_modes_and_fingerprint
bad=""
out=$("$PPML" sim init --dir "$D" --json) || bad="$bad exit"
[ "$(stat -c %a "$D/keys.pem")" = 600 ] || bad="$bad keys-mode"
[ "$(stat -c %a "$D")" = 700 ] || bad="$bad dir-mode"
fp=$(jq -r .root_ca_sha256 <<<"$out")
want=$(openssl x509 -in "$D/root.pem" -outform DER | sha256sum | cut -c1-64)
[ "$fp" = "$want" ] || bad="$bad fingerprint($fp/$want)"
[ "$(jq -r .root_ca <<<"$out")" = "$D/root.pem" ] || bad="$bad root-path"
openssl x509 -in "$D/root.pem" -noout -subject | grep -q 'Simulated SGX Root CA' || bad="$bad root-subject"
grep -q PRIVATE <<<"$out" && bad="$bad key-on-stdout"
[ "$(ls "$D/collateral" | wc -l)" = 7 ] || bad="$bad collateral"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=sim_init_refuses_to_replace
bad=""
before=$(sha256sum "$D/keys.pem")
"$PPML" sim init --dir "$D" 2>"$TMP/err"; rc=$?
[ $rc = 3 ] || bad="$bad rc=$rc"
grep -q -- '--force' "$TMP/err" || bad="$bad no-hint($(cat "$TMP/err"))"
[ "$before" = "$(sha256sum "$D/keys.pem")" ] || bad="$bad keys-changed"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=sim_quote_verifies_as_custom_anchor
bad=""
"$PPML" sim quote --dir "$D" --mrenclave "$MRE" --mrsigner "$MRS" --isvprodid 7 --isvsvn 3 \
	--report-data 00112233 --out "$TMP/q.bin" 2>/dev/null || bad="$bad quote-exit"
v=$("$PPML" quote verify "$TMP/q.bin" --collateral-dir "$D/collateral" --root-ca "$D/root.pem" --json) || bad="$bad verify-exit"
[ "$(jq -r .trust_anchor <<<"$v")" = custom ] || bad="$bad anchor"
[ "$(jq -r .trust_anchor_sha256 <<<"$v")" = "$fp" ] || bad="$bad anchor-sha"
[ "$(jq -r .tcb_status <<<"$v")" = UpToDate ] || bad="$bad status"
[ "$(jq -r .mrenclave <<<"$v")" = "$MRE" ] && [ "$(jq -r .mrsigner <<<"$v")" = "$MRS" ] || bad="$bad identity"
[ "$(jq -r '"\(.isvprodid)/\(.isvsvn)/\(.debug)"' <<<"$v")" = "7/3/false" ] || bad="$bad svn"
[ "$(jq -r .report_data <<<"$v")" = "00112233$(printf '0%.0s' $(seq 1 120))" ] || bad="$bad report-data"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=sim_quote_refused_without_its_root
bad=""
"$PPML" quote verify "$TMP/q.bin" --collateral-dir "$D/collateral" 2>"$TMP/err" >/dev/null; rc=$?
[ $rc = 1 ] && grep -q untrusted_root "$TMP/err" || bad="$bad intel-only(rc $rc)"
"$PPML" sim init --dir "$TMP/other" >/dev/null || bad="$bad other-init"
"$PPML" quote verify "$TMP/q.bin" --collateral-dir "$D/collateral" --root-ca "$TMP/other/root.pem" 2>/dev/null >/dev/null; rc=$?
[ $rc = 1 ] || bad="$bad other-root(rc $rc)"
"$PPML" quote verify "$TMP/q.bin" --collateral-dir "$TMP/other/collateral" --root-ca "$D/root.pem" 2>/dev/null >/dev/null; rc=$?
[ $rc = 1 ] || bad="$bad other-collateral(rc $rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=sim_debug_and_v4
bad=""
"$PPML" sim quote --dir "$D" --mrenclave "$MRE" --debug --quote-version 4 --out "$TMP/q4.bin" 2>/dev/null || bad="$bad exit"
v=$("$PPML" quote verify "$TMP/q4.bin" --collateral-dir "$D/collateral" --root-ca "$D/root.pem" --json) || bad="$bad verify"
[ "$(jq -r '"\(.quote_version)/\(.debug)"' <<<"$v")" = "4/true" ] || bad="$bad $(jq -c '[.quote_version,.debug]' <<<"$v")"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=sim_collateral_tcb_status
bad=""
"$PPML" sim collateral --dir "$D" --out "$TMP/ood" --tcb-status OutOfDate --advisory-ids INTEL-SA-00615,INTEL-SA-00828 2>/dev/null || bad="$bad exit"
v=$("$PPML" quote verify "$TMP/q.bin" --collateral-dir "$TMP/ood" --root-ca "$D/root.pem" --json) || bad="$bad verify"
[ "$(jq -c '[.tcb_status, .advisory_ids]' <<<"$v")" = '["OutOfDate",["INTEL-SA-00615","INTEL-SA-00828"]]' ] || bad="$bad $(jq -c '[.tcb_status,.advisory_ids]' <<<"$v")"
"$PPML" sim collateral --dir "$D" --out "$TMP/rev" --tcb-status Revoked 2>/dev/null || bad="$bad rev-exit"
"$PPML" quote verify "$TMP/q.bin" --collateral-dir "$TMP/rev" --root-ca "$D/root.pem" >/dev/null 2>&1; rc=$?
[ $rc = 1 ] || bad="$bad revoked(rc $rc)"
"$PPML" sim collateral --dir "$D" --out "$TMP/x" --tcb-status Stale 2>/dev/null; rc=$?
[ $rc = 2 ] && [ ! -e "$TMP/x" ] || bad="$bad bad-status(rc $rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=sim_quote_refreshes_expiring_collateral
bad=""
"$PPML" sim collateral --dir "$D" --valid-days 3 2>/dev/null || bad="$bad short"
next() { jq -r .tcbInfo.nextUpdate "$D/collateral/tcb_info.json" | xargs -I{} date -d {} +%s; }
[ $(( $(next) - $(date +%s) )) -lt $((4 * 86400)) ] || bad="$bad not-short"
"$PPML" sim quote --dir "$D" --mrenclave "$MRE" --out "$TMP/q5.bin" 2>"$TMP/err" || bad="$bad quote"
grep -q refreshing "$TMP/err" || bad="$bad no-progress"
[ $(( $(next) - $(date +%s) )) -gt $((29 * 86400)) ] || bad="$bad not-refreshed"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=sim_errors
bad=""
"$PPML" sim quote --dir "$D" --mrenclave abc --out "$TMP/e.bin" 2>/dev/null; rc=$?; [ $rc = 2 ] || bad="$bad short-mre($rc)"
"$PPML" sim quote --dir "$D" --mrenclave "$MRE" 2>/dev/null; rc=$?; [ $rc = 2 ] || bad="$bad no-out($rc)"
"$PPML" sim quote --dir "$D" --mrenclave "$MRE" --isvsvn 70000 --out "$TMP/e.bin" 2>/dev/null; rc=$?; [ $rc = 2 ] || bad="$bad svn($rc)"
"$PPML" sim quote --dir "$D" --mrenclave "$MRE" --report-data "$(printf 'a%.0s' $(seq 1 130))" --out "$TMP/e.bin" 2>/dev/null; rc=$?; [ $rc = 2 ] || bad="$bad rd($rc)"
"$PPML" sim quote --dir "$TMP/none" --mrenclave "$MRE" --out "$TMP/e.bin" 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q 'ppml sim init' "$TMP/err" || bad="$bad no-pki($rc)"
"$PPML" sim frob 2>/dev/null; rc=$?; [ $rc = 2 ] || bad="$bad sub($rc)"
[ ! -e "$TMP/e.bin" ] || bad="$bad wrote"
# A certificate that does not belong to its key: refused on load.
cp -r "$D" "$TMP/mixed" && cp "$TMP/other/certs.pem" "$TMP/mixed/certs.pem"
"$PPML" sim quote --dir "$TMP/mixed" --mrenclave "$MRE" --out "$TMP/e.bin" 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q 'does not match' "$TMP/err" || bad="$bad mixed($rc: $(cat "$TMP/err"))"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=sim_init_force_replaces
bad=""
out2=$("$PPML" sim init --dir "$D" --force --platform-ca --json) || bad="$bad exit"
[ "$(jq -r .root_ca_sha256 <<<"$out2")" != "$fp" ] || bad="$bad same-root"
"$PPML" quote verify "$TMP/q.bin" --collateral-dir "$D/collateral" --root-ca "$D/root.pem" >/dev/null 2>&1; rc=$?
[ $rc = 1 ] || bad="$bad old-quote-still-verifies($rc)"
"$PPML" sim quote --dir "$D" --mrenclave "$MRE" --out "$TMP/q6.bin" 2>/dev/null &&
	"$PPML" quote show "$TMP/q6.bin" --json | jq -e '.pck.ca == "platform"' >/dev/null || bad="$bad platform"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
