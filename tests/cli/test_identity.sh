# SPDX-License-Identifier: Apache-2.0
# ppml measure, ppml sigstruct verify --manifest, ppml identity (--production, diff)
# against Gramine's own signing vectors (../shared/vectors/gramine-v1.9), with
# must-fail twins: a changed manifest byte, a .sig from another vector, bad JSON.
. "$(dirname "$0")/lib.sh"
need_shared identity_vectors || exit 0
V="$PPML_SHARED/vectors/gramine-v1.9"
expected() { sed -n "s/.*\"$2\": \"\\([0-9a-f]*\\)\".*/\\1/p" "$V/$1/expected.json" | head -n 1; }
identity() { # VECTOR [args]: ppml identity on a vector's own artefacts
	local n=$1; shift
	"$PPML" identity -m "$V/$n/app.manifest.sgx" -s "$V/$n/app.sig" -l "$V/$n/libpal.so" "$@"
}

# measure and sigstruct verify --manifest on every successful vector.
m_ok=0 v_ok=0 total=0
for dir in "$V"/v*/; do
	n=$(basename "$dir")
	total=$((total + 1))
	want=$(expected "$n" mrenclave)
	"$PPML" measure --manifest "$dir/app.manifest.sgx" --libpal "$dir/libpal.so" >"$TMP/out" 2>"$TMP/err"
	if grep -q "^MRENCLAVE: $want\$" "$TMP/out" && [ -n "$want" ]; then
		m_ok=$((m_ok + 1))
	else
		fail "measure/$n" "expected $want: $(cat "$TMP/out" "$TMP/err" | head -c 300)"
	fi
	if "$PPML" sigstruct verify "$dir/app.sig" --manifest "$dir/app.manifest.sgx" \
		--libpal "$dir/libpal.so" >"$TMP/out" 2>"$TMP/err" && grep -q '^OK$' "$TMP/out"; then
		v_ok=$((v_ok + 1))
	else
		fail "sigstruct_verify_manifest/$n" "$(head -c 300 "$TMP/err")"
	fi
done
[ "$m_ok" -eq "$total" ] && [ "$total" -ge 20 ] && pass "measure_vectors: $m_ok/$total MRENCLAVEs" ||
	fail measure_vectors "$m_ok/$total"
[ "$v_ok" -eq "$total" ] && [ "$total" -ge 20 ] && pass "sigstruct_verify_manifest_vectors: $v_ok/$total" ||
	fail sigstruct_verify_manifest_vectors "$v_ok/$total"

"$PPML" measure --manifest "$V/v02_256M_t1_debug/app.manifest.sgx" --libpal "$V/v02_256M_t1_debug/libpal.so" --json >"$TMP/j" &&
	grep -q '"version": 1' "$TMP/j" && grep -q "\"mrenclave\": \"$(expected v02_256M_t1_debug mrenclave)\"" "$TMP/j" &&
	! grep -q mrsigner "$TMP/j" && pass measure_json || fail measure_json "$(cat "$TMP/j")"
if [ -e /usr/lib/x86_64-linux-gnu/gramine/sgx/libpal.so ]; then
	skip measure_needs_libpal "Gramine is installed"
else
	"$PPML" measure --manifest "$V/v02_256M_t1_debug/app.manifest.sgx" 2>"$TMP/err"; rc=$?
	[ $rc -eq 2 ] && grep -q -- --libpal "$TMP/err" && pass measure_needs_libpal ||
		fail measure_needs_libpal "rc=$rc: $(cat "$TMP/err")"
fi

# Must-fail: one changed byte in manifest.sgx; a .sig from another vector.
cp "$V/v02_256M_t1_debug/app.manifest.sgx" "$TMP/changed.sgx"
sed -i '0,/python3/s//python4/' "$TMP/changed.sgx"
"$PPML" sigstruct verify "$V/v02_256M_t1_debug/app.sig" --manifest "$TMP/changed.sgx" \
	--libpal "$V/v02_256M_t1_debug/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q "ENCLAVEHASH $(expected v02_256M_t1_debug mrenclave) does not match the measurement of $TMP/changed.sgx" "$TMP/err" &&
	[ "$(wc -l <"$TMP/err")" -eq 1 ] && pass sigstruct_verify_changed_byte ||
	fail sigstruct_verify_changed_byte "rc=$rc: $(cat "$TMP/err")"
"$PPML" sigstruct verify "$V/v03_1G_t4_isv/app.sig" --manifest "$V/v02_256M_t1_debug/app.manifest.sgx" \
	--libpal "$V/v02_256M_t1_debug/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q ENCLAVEHASH "$TMP/err" && pass sigstruct_verify_other_sig ||
	fail sigstruct_verify_other_sig "rc=$rc: $(cat "$TMP/err")"
"$PPML" identity -m "$TMP/changed.sgx" -s "$V/v02_256M_t1_debug/app.sig" -l "$V/v02_256M_t1_debug/libpal.so" \
	>"$TMP/out" 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q ENCLAVEHASH "$TMP/err" && [ ! -s "$TMP/out" ] && pass identity_refuses_mismatch ||
	fail identity_refuses_mismatch "rc=$rc: $(cat "$TMP/err")"
head -c 1000 "$V/v02_256M_t1_debug/app.sig" >"$TMP/short.sig"
"$PPML" identity -m "$V/v02_256M_t1_debug/app.manifest.sgx" -s "$TMP/short.sig" -l "$V/v02_256M_t1_debug/libpal.so" \
	>/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q "short.sig: not a SIGSTRUCT" "$TMP/err" && pass identity_refuses_truncated_sig ||
	fail identity_refuses_truncated_sig "rc=$rc: $(cat "$TMP/err")"

# v02 is a debug enclave: warned, and the production gate refuses it.
identity v02_256M_t1_debug --json >"$TMP/v02.json" 2>"$TMP/err"; rc=$?
[ $rc -eq 0 ] && grep -q '"code": "debug_enclave"' "$TMP/v02.json" && grep -q '"code": "test_signing_key"' "$TMP/v02.json" &&
	grep -q '"version": 1' "$TMP/v02.json" && grep -q '"uri": "file:libsysdb.so"' "$TMP/v02.json" &&
	grep -q '"sgx.enclave_size": "256M"' "$TMP/v02.json" && pass identity_v02_warnings ||
	fail identity_v02_warnings "rc=$rc: $(cat "$TMP/err")"
identity v02_256M_t1_debug --production >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'debug_enclave' "$TMP/err" && grep -q 'refused for production' "$TMP/err" &&
	pass identity_v02_production_refused || fail identity_v02_production_refused "rc=$rc: $(cat "$TMP/err")"

# v03 is not debuggable: no debug warning; its key is a published test key, and it
# has remote_attestation = "none" (not DCAP): both keep it out of production.
identity v03_1G_t4_isv --json >"$TMP/v03.json" 2>"$TMP/err"; rc=$?
codes=$(sed -n 's/.*"code": "\([a-z_]*\)".*/\1/p' "$TMP/v03.json" | sort | tr '\n' ' ')
[ $rc -eq 0 ] && [ "$codes" = "remote_attestation_not_dcap test_signing_key " ] && pass identity_v03_warnings ||
	fail identity_v03_warnings "rc=$rc codes='$codes': $(cat "$TMP/err")"
identity v03_1G_t4_isv --production >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q '\[test_signing_key\] the enclave is signed with a test key from the Gramine signing vectors' "$TMP/err" &&
	pass identity_v03_production_test_key || fail identity_v03_production_test_key "rc=$rc: $(cat "$TMP/err")"

# v03 signed again with a fresh key: with DCAP attestation it passes the gate; with
# the vector's remote_attestation = "none" only that warning is left.
d="$TMP/v03"
cp -r "$V/v03_1G_t4_isv" "$d" && chmod -R u+w "$d" && rm -f "$d/app.manifest.sgx" "$d/app.sig"
(cd "$d" && "$PPML" keygen -o fresh.pem >/dev/null &&
	"$PPML" sign -m app.manifest -o none.manifest.sgx -s none.sig -k fresh.pem -l libpal.so -d 2024-12-31 -q >/dev/null &&
	sed 's/^remote_attestation = "none"$/remote_attestation = "dcap"/' app.manifest >dcap.manifest &&
	grep -q '^remote_attestation = "dcap"$' dcap.manifest &&
	"$PPML" sign -m dcap.manifest -o dcap.manifest.sgx -s dcap.sig -k fresh.pem -l libpal.so -d 2024-12-31 -q >/dev/null) 2>"$TMP/err" ||
	fail identity_fresh_key_setup "$(cat "$TMP/err")"
"$PPML" identity -m "$d/dcap.manifest.sgx" -s "$d/dcap.sig" -l "$d/libpal.so" --production >"$TMP/out" 2>"$TMP/err"; rc=$?
[ $rc -eq 0 ] && grep -q '^Warnings (0):' "$TMP/out" && [ ! -s "$TMP/err" ] && pass identity_v03_fresh_key_production_ok ||
	fail identity_v03_fresh_key_production_ok "rc=$rc: $(cat "$TMP/err")"
"$PPML" identity -m "$d/none.manifest.sgx" -s "$d/none.sig" -l "$d/libpal.so" --production >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'remote_attestation_not_dcap' "$TMP/err" && ! grep -q 'test_signing_key' "$TMP/err" &&
	pass identity_v03_fresh_key_no_dcap_refused || fail identity_v03_fresh_key_no_dcap_refused "rc=$rc: $(cat "$TMP/err")"

# A manifest with allowed_files, allow_all_but_log and insecure__ options: each named.
cat >"$d/weak.manifest" <<'TOML'
[libos]
entrypoint = "/app"
[loader]
entrypoint.uri = "file:libsysdb.so"
insecure__use_cmdline_argv = true
insecure__use_host_env = true
[sgx]
debug = false
enclave_size = "256M"
max_threads = 4
remote_attestation = "dcap"
allowed_files = ["file:/tmp/"]
file_check_policy = "allow_all_but_log"
trusted_files = ["file:libpal.so"]
TOML
(cd "$d" && "$PPML" sign -m weak.manifest -o weak.manifest.sgx -s weak.sig -k fresh.pem -l libpal.so -d 2024-12-31 -q >/dev/null) 2>"$TMP/err"
"$PPML" identity -m "$d/weak.manifest.sgx" -s "$d/weak.sig" -l "$d/libpal.so" --production >"$TMP/out" 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q '\[allowed_files\]' "$TMP/err" && grep -q '\[file_check_policy_allow_all\]' "$TMP/err" &&
	grep -q 'loader.insecure__use_cmdline_argv' "$TMP/err" && grep -q 'loader.insecure__use_host_env' "$TMP/err" &&
	grep -q 'file:libpal.so' "$TMP/out" && pass identity_weak_manifest_warnings ||
	fail identity_weak_manifest_warnings "rc=$rc: $(cat "$TMP/err")"

# identity diff: v02 against v03 names the manifest keys and fields that moved MRENCLAVE.
"$PPML" identity diff "$TMP/v02.json" "$TMP/v03.json" >"$TMP/diff" 2>"$TMP/err"; rc=$?
ok=1
for want in 'sgx.enclave_size: "256M" -> "1G"' 'sgx.max_threads: 1 -> 4' 'sgx.debug: true -> false' \
	'isvprodid: 0 -> 1234' 'isvsvn: 0 -> 7' 'debug: true -> false' 'mrenclave: ' 'mrsigner: ' 'attributes.flags: '; do
	grep -qF -- "$want" "$TMP/diff" || { ok=0; fail identity_diff_v02_v03 "missing '$want' in: $(cat "$TMP/diff")"; }
done
[ $rc -eq 1 ] && [ $ok -eq 1 ] && pass identity_diff_v02_v03 || [ $ok -eq 0 ] || fail identity_diff_v02_v03 "rc=$rc"
"$PPML" identity diff "$TMP/v02.json" "$TMP/v03.json" --json >"$TMP/diff.json"; rc=$?
[ $rc -eq 1 ] && grep -q '"identical": false' "$TMP/diff.json" && grep -q '"name": "sgx.enclave_size"' "$TMP/diff.json" &&
	grep -q '"a": "256M"' "$TMP/diff.json" && pass identity_diff_json || fail identity_diff_json "rc=$rc"
"$PPML" identity diff "$TMP/v02.json" "$TMP/v02.json" >"$TMP/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q 'same enclave identity' "$TMP/out" && pass identity_diff_self || fail identity_diff_self "rc=$rc: $(cat "$TMP/out")"
# A changed measured file shows both hashes.
"$PPML" identity -m "$d/weak.manifest.sgx" -s "$d/weak.sig" -l "$d/libpal.so" --json >"$TMP/w1.json"
sed 's/"sha256": "\(..\)/"sha256": "00/' "$TMP/w1.json" >"$TMP/w2.json"
"$PPML" identity diff "$TMP/w1.json" "$TMP/w2.json" >"$TMP/out" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q '^Measured files:' "$TMP/out" && grep -q 'file:libpal.so: "[0-9a-f]*" -> "00' "$TMP/out" &&
	pass identity_diff_files || fail identity_diff_files "rc=$rc: $(cat "$TMP/out")"

# Unreadable or malformed documents: exit 3, one line naming the file and the problem.
check_bad() { # NAME FILE EXPECTED-TEXT
	"$PPML" identity diff "$TMP/v02.json" "$2" >/dev/null 2>"$TMP/err"; rc=$?
	[ $rc -eq 3 ] && grep -qF -- "$3" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ] && pass "$1" ||
		fail "$1" "rc=$rc: $(cat "$TMP/err")"
}
printf '{"version": 1, "mrenclave": ' >"$TMP/trunc.json"
check_bad identity_diff_malformed_json "$TMP/trunc.json" "trunc.json: not valid JSON: line 1"
sed 's/"version": 1/"version": 2/' "$TMP/v02.json" >"$TMP/v2.json"
check_bad identity_diff_wrong_version "$TMP/v2.json" "v2.json: version: expected 1"
grep -v '"mrsigner"' "$TMP/v02.json" >"$TMP/nomrs.json"
check_bad identity_diff_missing_field "$TMP/nomrs.json" "nomrs.json: mrsigner: missing"
sed 's/"isvsvn": 0/"isvsvn": 70000/' "$TMP/v02.json" >"$TMP/range.json"
check_bad identity_diff_out_of_range "$TMP/range.json" "isvsvn: 70000 is out of range"
check_bad identity_diff_missing_file "$TMP/does-not-exist.json" "does-not-exist.json"
"$PPML" identity diff "$TMP/v02.json" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && pass identity_diff_usage || fail identity_diff_usage "rc=$rc"
