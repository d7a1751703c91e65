#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ppml run --sim: a freshly signed application runs only when everything it
# measures is what was signed; inside, `ppml quote get` gets a simulated quote
# of its own identity.  Also the /dev/attestation quote source (a folder
# standing in for it).  Needs nothing from ../shared.
. "$(dirname "$0")/lib.sh"

A=$TMP/app
mkdir -p "$A/app"
sim_pal "$A" || fail run_setup cc
cat >"$A/app/main.sh" <<'SH'
#!/bin/sh
echo "args: $*"
echo "GREETING=$GREETING"
echo "HOST_ONLY=${HOST_ONLY-unset}"
touch "$OUT_DIR/started"
"$PPML" quote get --report-data 00112233 --out "$OUT_DIR/q.bin" || exit 9
exit "${EXIT_CODE:-0}"
SH
chmod +x "$A/app/main.sh"
manifest() { # $1 trusted_files, $2 extra [loader] lines
	cat <<TOML
[libos]
entrypoint = "/app/main.sh"
[loader]
entrypoint.uri = "file:libsysdb.so"
argv = ["/app/main.sh", "first", "second"]
${2:-}
[loader.env]
GREETING = "hello"
PPML = { passthrough = true }
OUT_DIR = { passthrough = true }
EXIT_CODE = { passthrough = true }
[fs]
mounts = [{ path = "/app", uri = "file:app" }]
[sgx]
debug = false
enclave_size = "256M"
max_threads = 4
isvprodid = 5
isvsvn = 2
remote_attestation = "dcap"
trusted_files = [$1]
TOML
}
(
	cd "$A" &&
	manifest '"file:app/main.sh", "file:libpal.so"' >app.manifest &&
	manifest '"file:libpal.so"' >untrusted.manifest &&
	manifest '"file:app/main.sh", "file:libpal.so"' 'insecure__use_cmdline_argv = true' >cmdline.manifest &&
	sed 's/^isvsvn = 2$/isvsvn = 3/' app.manifest >other.manifest &&
	"$PPML" keygen -o key.pem >/dev/null &&
	for m in app untrusted cmdline other; do
		"$PPML" sign -m $m.manifest -o $m.manifest.sgx -s $m.sig -k key.pem -l libpal.so -q >/dev/null || exit 1
	done &&
	"$PPML" sim init --dir "$TMP/pki" >/dev/null
) 2>"$TMP/setup.err" || fail run_setup "$(cat "$TMP/setup.err")"

run() { # MANIFEST SIG [ppml args...]: runs in $A with a clean marker
	local m=$1 s=$2; shift 2
	rm -f "$TMP/started" "$TMP/q.bin"
	(cd "$A" && PPML="$PPML" OUT_DIR="$TMP" HOST_ONLY=x "$PPML" run --sim --manifest "$m" \
		--sigfile "$s" --libpal libpal.so --sim-dir "$TMP/pki" "$@" >"$TMP/out" 2>"$TMP/err")
}

t=run_sim_runs_and_attests
bad=""
run app.manifest.sgx app.sig; rc=$?
[ $rc = 0 ] || bad="$bad rc=$rc($(tail -3 "$TMP/err"))"
grep -q '^args: first second$' "$TMP/out" || bad="$bad argv"
grep -q '^GREETING=hello$' "$TMP/out" || bad="$bad env"
grep -q '^HOST_ONLY=unset$' "$TMP/out" || bad="$bad host-env-leaked"
grep -q 'SIMULATION: NOT AN SGX ENCLAVE' "$TMP/err" || bad="$bad banner"
mre=$("$PPML" measure --manifest "$A/app.manifest.sgx" --libpal "$A/libpal.so" --json | jq -r .mrenclave)
mrs=$("$PPML" sigstruct show "$A/app.sig" --json | jq -r .mrsigner)
v=$("$PPML" quote verify "$TMP/q.bin" --collateral-dir "$TMP/pki/collateral" --root-ca "$TMP/pki/root.pem" --json) || bad="$bad verify"
[ "$(jq -r .mrenclave <<<"$v")" = "$mre" ] && [ -n "$mre" ] || bad="$bad mrenclave"
[ "$(jq -r .mrsigner <<<"$v")" = "$mrs" ] && [ -n "$mrs" ] || bad="$bad mrsigner($mrs)"
[ "$(jq -r '"\(.isvprodid)/\(.isvsvn)/\(.debug)/\(.trust_anchor)"' <<<"$v")" = "5/2/false/custom" ] || bad="$bad fields"
[ "$(jq -r .report_data <<<"$v" | cut -c1-8)" = 00112233 ] || bad="$bad report-data"
grep -q '1 simulated quotes served' "$TMP/err" || bad="$bad count"
[ -z "$(ls /tmp | grep '^ppml-run-' | while read -r d; do [ -S "/tmp/$d/attestation.sock" ] && echo "$d"; done)" ] || bad="$bad socket-left"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=run_sim_exit_code_passes_through
EXIT_CODE=7 run app.manifest.sgx app.sig; rc=$?
if [ $rc = 7 ]; then pass $t; else fail $t "rc=$rc"; fi

# refused NAME PATTERN MANIFEST SIG [args]: exit 1, the reason named, nothing started.
refused() {
	local name=$1 pat=$2; shift 2
	run "$@"; local rc=$?
	if [ $rc = 1 ] && grep -q -- "$pat" "$TMP/err" && [ ! -e "$TMP/started" ]; then pass "$name"
	else fail "$name" "rc=$rc started=$([ -e "$TMP/started" ] && echo yes || echo no): $(tail -2 "$TMP/err")"; fi
}

cp "$A/app/main.sh" "$TMP/main.sh.orig"
echo '# tampered' >>"$A/app/main.sh"
refused run_sim_refuses_modified_trusted_file 'app/main.sh was modified after signing' app.manifest.sgx app.sig
cp "$TMP/main.sh.orig" "$A/app/main.sh"

sed 's/^isvsvn = 2$/isvsvn = 4/' "$A/app.manifest.sgx" >"$A/edited.manifest.sgx"
refused run_sim_refuses_manifest_edited_after_signing 'does not match' edited.manifest.sgx app.sig
refused run_sim_refuses_sig_of_another_manifest 'does not match' app.manifest.sgx other.sig
refused run_sim_refuses_untrusted_entrypoint 'is not a trusted file' untrusted.manifest.sgx untrusted.sig
refused run_sim_refuses_args_without_cmdline_argv 'insecure__use_cmdline_argv' app.manifest.sgx app.sig -- extra

t=run_sim_cmdline_argv_when_allowed
run cmdline.manifest.sgx cmdline.sig -- one two; rc=$?
if [ $rc = 0 ] && grep -q '^args: one two$' "$TMP/out"; then pass $t; else fail $t "rc=$rc $(cat "$TMP/out")"; fi

t=run_sim_needs_pki_and_sim
bad=""
(cd "$A" && "$PPML" run --sim --manifest app.manifest.sgx --sigfile app.sig --libpal libpal.so --sim-dir "$TMP/nopki" >/dev/null 2>"$TMP/err"); rc=$?
[ $rc = 3 ] && grep -q 'ppml sim init' "$TMP/err" || bad="$bad no-pki($rc)"
"$PPML" run --manifest x --sigfile y 2>/dev/null; rc=$?; [ $rc = 2 ] || bad="$bad no-sim($rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=quote_get_dev_attestation_folder
bad=""
D=$TMP/devatt
mkdir -p "$D"
echo dcap >"$D/attestation_type"
: >"$D/user_report_data"
cp "$TMP/q.bin" "$D/quote"
"$PPML" quote get --dev-attestation "$D" --report-data aabb --out "$TMP/g.bin" 2>"$TMP/err" || bad="$bad exit($(cat "$TMP/err"))"
cmp -s "$D/quote" "$TMP/g.bin" || bad="$bad quote-differs"
[ "$(od -An -tx1 -N2 "$D/user_report_data" | tr -d ' ')" = aabb ] && [ "$(stat -c %s "$D/user_report_data")" = 64 ] || bad="$bad report-data"
grep -q gramine-dcap "$TMP/err" || bad="$bad source-name"
# Gramine present without DCAP: an error, no fallback to the simulation socket.
echo none >"$D/attestation_type"
PPML_SIM_ATTESTATION=unix:/nonexistent "$PPML" quote get --dev-attestation "$D" --report-data aa --out "$TMP/h.bin" 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q 'not "dcap"' "$TMP/err" && [ ! -e "$TMP/h.bin" ] || bad="$bad not-dcap($rc)"
"$PPML" quote get --dev-attestation "$TMP/none" --report-data aa --out "$TMP/h.bin" 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q 'no quote source' "$TMP/err" || bad="$bad no-source($rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

# An application signed by BigDL's Gramine v1.3.1 rules runs with
# --gramine-version 1.3; measured as v1.9 it is refused before it starts.
t=run_sim_gramine_13
bad=""
(cd "$A" && sed -e 's/^max_threads = 4$/thread_num = 4/' -e 's/^entrypoint.uri = /entrypoint = /' app.manifest >v13.manifest &&
	"$PPML" sign --gramine-version 1.3 -m v13.manifest -o v13.manifest.sgx -s v13.sig -k key.pem -l libpal.so -q >/dev/null) 2>"$TMP/err" ||
	bad="$bad sign($(cat "$TMP/err"))"
run v13.manifest.sgx v13.sig --gramine-version 1.3 || bad="$bad run13($(tail -2 "$TMP/err"))"
[ -e "$TMP/started" ] || bad="$bad not-started"
run v13.manifest.sgx v13.sig; rc=$?
[ $rc != 0 ] && [ ! -e "$TMP/started" ] && grep -q 'gramine-version 1.3' "$TMP/err" || bad="$bad as-19($rc $(cat "$TMP/err"))"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
