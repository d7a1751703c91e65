# SPDX-License-Identifier: Apache-2.0
# Two-step signing: ppml sign --gendata, the key holder signs with plain openssl,
# ppml sign --catsig.  Must reproduce every successful v1.9 vector byte for byte,
# and refuse (with no .sig written) a changed manifest, a wrong key, a truncated
# signature and, on this production path, a debug enclave without --allow-debug.
. "$(dirname "$0")/lib.sh"
need_shared two_step || exit 0
V="$PPML_SHARED/vectors/gramine-v1.9"

gendata() { # DIR
	local date
	date=$(sed -n 's/.*"sign_date": "\([0-9-]*\)".*/\1/p' "$1/expected.json")
	(cd "$1" && "$PPML" sign -m app.manifest -o app.manifest.sgx --gendata sigdata.bin \
		-l libpal.so -d "$date" -q >gendata.out &&
		openssl dgst -sha256 -sign key.pem -out sig.bin sigdata.bin &&
		openssl pkey -in key.pem -pubout -out pub.pem 2>/dev/null)
}
catsig() { # DIR [extra]
	local d=$1; shift
	(cd "$d" && "$PPML" sign -m app.manifest -o app.manifest.sgx --catsig --sigdata sigdata.bin \
		--public-key pub.pem --signature sig.bin -l libpal.so -s app.sig -q "$@")
}

ok=0 total=0
for dir in "$V"/v*/; do
	n=$(basename "$dir")
	d="$TMP/$n"
	total=$((total + 1))
	copy_vector "$n" "$d" || { fail "two_step/$n" "cannot copy"; continue; }
	debug=
	grep -q '"debug_enclave": true' "$dir/sigstruct.json" 2>/dev/null && debug=--allow-debug
	if ! gendata "$d" 2>"$TMP/err"; then
		fail "two_step/$n" "gendata: $(cat "$TMP/err")"
	elif [ -e "$d/app.sig" ]; then
		fail "two_step/$n" "--gendata wrote a .sig"
	elif ! grep -q "$(sed -n 's/.*"mrenclave": "\([0-9a-f]*\)".*/\1/p' "$dir/expected.json")" "$d/gendata.out"; then
		fail "two_step/$n" "--gendata printed another MRENCLAVE"
	elif ! catsig "$d" $debug >/dev/null 2>"$TMP/err"; then
		fail "two_step/$n" "catsig: $(cat "$TMP/err")"
	elif cmp -s "$d/app.sig" "$dir/app.sig" && cmp -s "$d/app.manifest.sgx" "$dir/app.manifest.sgx"; then
		ok=$((ok + 1))
		pass "two_step/$n"
	else
		fail "two_step/$n" "not byte-identical to Gramine's output"
	fi
	[ "$n" = v02_256M_t1_debug ] || [ "$n" = v03_1G_t4_isv ] || rm -rf "$d"
done
[ "$ok" -eq "$total" ] && [ "$total" -ge 20 ] && pass "two_step_summary: $ok/$total byte-identical" ||
	fail two_step_summary "$ok/$total byte-identical"

# expect_refusal NAME DIR RC PATTERN [catsig args]: catsig fails with RC and PATTERN, writes no .sig.
expect_refusal() {
	local name=$1 d=$2 want_rc=$3 pat=$4; shift 4
	rm -f "$d/app.sig"
	catsig "$d" "$@" >/dev/null 2>"$TMP/err"; local rc=$?
	if [ $rc -ne "$want_rc" ]; then fail "$name" "exit $rc, expected $want_rc: $(cat "$TMP/err")"
	elif [ -e "$d/app.sig" ]; then fail "$name" "a .sig was written"
	elif ! grep -q -- "$pat" "$TMP/err"; then fail "$name" "message: $(cat "$TMP/err")"
	elif [ "$(wc -l <"$TMP/err")" -ne 1 ]; then fail "$name" "not one line"
	else pass "$name"; fi
}
d="$TMP/v02_256M_t1_debug"
expect_refusal catsig_refuses_debug_without_allow_debug "$d" 1 'sgx.debug = true.*--allow-debug'
d="$TMP/v03_1G_t4_isv"
cp "$d/sig.bin" "$d/sig.good"
head -c 300 "$d/sig.good" >"$d/sig.bin"
expect_refusal catsig_truncated_signature "$d" 3 'sig.bin: 300 bytes, expected 384.*truncated'
openssl genrsa -3 -out "$d/other.pem" 3072 2>/dev/null
openssl dgst -sha256 -sign "$d/other.pem" -out "$d/sig.bin" "$d/sigdata.bin"
expect_refusal catsig_wrong_key "$d" 1 'signature does not verify with --public-key'
cp "$d/sig.good" "$d/sig.bin"
cp "$d/app.manifest" "$d/app.manifest.orig"
sed -i 's/^max_threads = 4/max_threads = 5/' "$d/app.manifest"
expect_refusal catsig_payload_mismatch "$d" 1 'sigdata.bin does not match this manifest and PAL: ENCLAVEHASH'
cp "$d/app.manifest.orig" "$d/app.manifest"
head -c 255 "$d/sigdata.bin" >"$d/short.bin"
expect_refusal catsig_truncated_sigdata "$d" 3 'short.bin: 255 bytes, expected 256' --sigdata short.bin
expect_refusal catsig_date_from_sigdata_only "$d" 2 'takes the date from --sigdata' -d 2024-12-31
# the untouched inputs still combine (the refusals above changed nothing)
catsig "$d" >/dev/null 2>&1 && cmp -s "$d/app.sig" "$V/v03_1G_t4_isv/app.sig" &&
	pass catsig_after_refusals || fail catsig_after_refusals "good inputs no longer combine"

# What the key holder checks before signing: sigstruct show --payload.
d="$TMP/v03_1G_t4_isv"
out=$("$PPML" sigstruct show --payload "$d/sigdata.bin") &&
	echo "$out" | grep -q 'mrenclave: *dec975a05e819f80d97698b092b1d5d009c41807bfff931ff9ee2124eb97700c' &&
	echo "$out" | grep -q "payload sha256: *$(sha256sum <"$d/sigdata.bin" | cut -c1-64)" &&
	echo "$out" | grep -q 'isv_prod_id: *1234' && echo "$out" | grep -q 'isv_svn: *7' &&
	echo "$out" | grep -q 'debug enclave: *no' && echo "$out" | grep -q 'date: *2024-12-31' &&
	pass payload_show || fail payload_show "$out"
j=$("$PPML" sigstruct show --payload "$d/sigdata.bin" --json) &&
	[ "$(echo "$j" | jq -r .isv_svn)" = 7 ] && [ "$(echo "$j" | jq -r .debug)" = false ] &&
	[ "$(echo "$j" | jq -r .mrsigner)" = null ] && [ "$(echo "$j" | jq -r .payload_sha256 | wc -c)" = 65 ] &&
	pass payload_show_json || fail payload_show_json "$j"
head -c 200 "$d/sigdata.bin" >"$TMP/p.bin"
"$PPML" sigstruct show --payload "$TMP/p.bin" 2>"$TMP/err"; rc=$?
[ $rc -eq 3 ] && grep -q 'exactly 256 bytes' "$TMP/err" && pass payload_show_truncated || fail payload_show_truncated "rc=$rc"
head -c 256 "$V/v03_1G_t4_isv/app.sig" >"$TMP/p.bin"; printf 'X' | dd of="$TMP/p.bin" bs=1 seek=2 conv=notrunc status=none
"$PPML" sigstruct show --payload "$TMP/p.bin" 2>"$TMP/err"; rc=$?
[ $rc -eq 3 ] && grep -q 'offset 0: the SIGSTRUCT HEADER' "$TMP/err" && pass payload_show_not_a_payload || fail payload_show_not_a_payload "rc=$rc $(cat "$TMP/err")"
