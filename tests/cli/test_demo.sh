#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make demo, end to end (scripts/demo in a temporary folder): both stages
# train from data released only by attestation, the tampered file and the
# debug build are refused, nothing is left running, no plaintext dataset and
# no private key remain where they must not be.  Needs nothing from ../shared.
. "$(dirname "$0")/lib.sh"

DD=$TMP/demo
PPML_DEMO_DIR=$DD "$PPML_ROOT/scripts/demo" "$PPML_BUILD" >"$TMP/demo.out" 2>&1; rc=$?
S=$DD/summary.json

t=demo_runs_both_stages
bad=""
[ $rc = 0 ] || bad="$bad rc=$rc($(tail -5 "$TMP/demo.out" | tr '\n' ' '))"
[ "$(jq -r '.format + " " + (.version|tostring)' "$S" 2>/dev/null)" = "ppml-demo-summary 1" ] || bad="$bad summary"
for st in stage1 stage2; do
	[ "$(jq -r ".$st.result" "$S" 2>/dev/null)" = trained ] || bad="$bad $st-result"
	jq -e ".$st.metrics.accuracy > 0.7 and .$st.metrics.auc > 0.75 and .$st.metrics.rows_train + .$st.metrics.rows_test == 300000" "$S" >/dev/null 2>&1 ||
		bad="$bad $st-metrics($(jq -c ".$st.metrics" "$S" 2>/dev/null))"
done
jq -e '.stage1.mrsigner != .stage2.mrsigner and .stage1.mrenclave != .stage2.mrenclave' "$S" >/dev/null 2>&1 || bad="$bad identities"
[ "$(head -c 8 "$DD/stage1/out/model.enc" 2>/dev/null)" = PPMLENC1 ] || bad="$bad model1-encrypted"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=demo_stage2_token_claims
c=$DD/stage2/token-claims.json
if jq -e --slurp '.[0] as $s | .[1] as $c | $c.debug == false and $c.simulated == true and $c.isvprodid == 7 and
	$c.isvsvn == 2 and $c.mrsigner == $s.stage2.mrsigner and $c.mrenclave == $s.stage2.mrenclave and $c.policy == "production"' \
	"$S" "$c" >/dev/null 2>&1; then pass $t; else fail $t "$(jq -c . "$c" 2>/dev/null | head -c 400)"; fi

t=demo_refusals
bad=""
[ "$(jq -r .refused.tampered_file.exit "$S" 2>/dev/null)" = 1 ] || bad="$bad tampered-exit"
jq -r .refused.tampered_file.message "$S" 2>/dev/null | grep -q 'ppml-train was modified after signing' || bad="$bad tampered-msg($(jq -r .refused.tampered_file.message "$S" 2>/dev/null))"
[ "$(jq -r .refused.debug_build.exit "$S" 2>/dev/null)" = 1 ] || bad="$bad debug-exit($(jq -r .refused.debug_build.exit "$S" 2>/dev/null))"
grep -q 'debug' "$DD/stage2/debug.err" 2>/dev/null || bad="$bad debug-reason"
[ ! -e "$DD/stage2/build/debug/out/model.enc" ] || bad="$bad debug-got-model"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=demo_leaves_no_secrets_or_processes
bad=""
pgrep -f "$DD" >/dev/null && bad="$bad processes($(pgrep -af "$DD" | head -3))"
[ ! -e "$DD/owner/train.csv" ] || bad="$bad plaintext-dataset"
find "$DD" -name '.enclave-tmp-*' | grep -q . && bad="$bad enclave-tmp-left"
# Nothing under stage2 (the unpacked image included) holds a private key:
# the HSM key never left the token; the stage-1 key is in stage1/ only.  A
# PEM key is a BEGIN line followed by base64 (binaries carry the BEGIN text
# as a constant; ELF libraries such as GnuTLS embed public self-test keys).
pem_key() { grep -a -A1 -E -- '-----BEGIN ([A-Z]+ )?PRIVATE KEY-----' | grep -a -q -E '^[A-Za-z0-9+/]{64}$'; }
pem_key <"$DD/stage1/dev-key.pem" || bad="$bad detector"
[ -d "$DD/stage2/bundle/rootfs/app" ] || bad="$bad no-rootfs"
while IFS= read -r f; do
	[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && continue
	pem_key <"$f" && bad="$bad key-in-stage2($f)"
	openssl pkey -inform DER -in "$f" -noout 2>/dev/null && bad="$bad der-key($f)"
done < <(find "$DD/stage2" -type f -size -2M)
[ "$(stat -c %a "$DD/owner/admin.cred")" = 600 ] || bad="$bad cred-mode"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
