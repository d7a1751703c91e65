# SPDX-License-Identifier: Apache-2.0
# ppml keygen and ppml sigstruct show|verify, against the Gramine v1.9 vectors.
. "$(dirname "$0")/lib.sh"

# keygen: new key, mode 0600, MRSIGNER agrees with --mrsigner, no overwrite
out=$("$PPML" keygen -o "$TMP/k.pem" --json) && mr=$(echo "$out" | jq -r .mrsigner) \
	&& [ "$(stat -c %a "$TMP/k.pem")" = 600 ] && grep -q 'BEGIN PRIVATE KEY' "$TMP/k.pem" \
	&& [ "$("$PPML" keygen --mrsigner "$TMP/k.pem" --json | jq -r .mrsigner)" = "$mr" ] \
	&& [ ${#mr} -eq 64 ] \
	&& pass keygen_writes_0600_and_mrsigner || fail keygen_writes_0600_and_mrsigner "$out"
cp "$TMP/k.pem" "$TMP/k.bak"
"$PPML" keygen -o "$TMP/k.pem" 2>"$TMP/err"; rc=$?
[ $rc -eq 3 ] && grep -q 'already exists; refusing to overwrite' "$TMP/err" && cmp -s "$TMP/k.pem" "$TMP/k.bak" \
	&& pass keygen_refuses_overwrite || fail keygen_refuses_overwrite "rc=$rc $(cat "$TMP/err")"
openssl pkey -in "$TMP/k.pem" -pubout -out "$TMP/k.pub" 2>/dev/null \
	&& [ "$("$PPML" keygen --mrsigner "$TMP/k.pub")" = "MRSIGNER: $mr" ] \
	&& pass keygen_mrsigner_of_public_key || fail keygen_mrsigner_of_public_key "public key"
printf 'pw\n' >"$TMP/pass"
"$PPML" keygen -o "$TMP/enc.pem" --passphrase-file "$TMP/pass" >/dev/null && grep -q 'ENCRYPTED' "$TMP/enc.pem" \
	&& "$PPML" keygen --mrsigner "$TMP/enc.pem" --passphrase-file "$TMP/pass" >/dev/null \
	&& ! "$PPML" keygen --mrsigner "$TMP/enc.pem" 2>/dev/null \
	&& pass keygen_passphrase || fail keygen_passphrase "encrypted key"
"$PPML" keygen --bogus 2>/dev/null; rc=$?
[ $rc -eq 2 ] && pass keygen_usage_error || fail keygen_usage_error "rc=$rc"

if need_shared sgx_vectors; then
	V="$PPML_SHARED/vectors/gramine-v1.9"
	bad=""
	for d in "$V"/v*/; do
		n=$(basename "$d")
		exp=$(jq -r .mrsigner "$d/expected.json")
		[ "$("$PPML" keygen --mrsigner "$d/key.pem")" = "MRSIGNER: $exp" ] || bad="$bad $n:mrsigner"
		"$PPML" sigstruct verify "$d/app.sig" >/dev/null || bad="$bad $n:verify"
		j=$("$PPML" sigstruct show --json "$d/app.sig") || bad="$bad $n:show"
		[ "$(echo "$j" | jq -r .mrenclave)" = "$(jq -r .mrenclave "$d/expected.json")" ] || bad="$bad $n:mrenclave"
		[ "$(echo "$j" | jq -r .attributes_xfrm)" = "$(jq -r .sigstruct.attributes_xfrm "$d/expected.json")" ] || bad="$bad $n:xfrm"
		[ "$(echo "$j" | jq -r .attribute_mask_xfrm)" = "$(jq -r .sigstruct.attribute_mask_xfrm "$d/expected.json")" ] || bad="$bad $n:xfrmmask"
		[ "$(echo "$j" | jq -r .isv_prod_id)" = "$(jq -r .sigstruct.isv_prod_id "$d/expected.json")" ] || bad="$bad $n:isvprodid"
	done
	[ -z "$bad" ] && pass sigstruct_show_verify_all_vectors || fail sigstruct_show_verify_all_vectors "$bad"

	out=$("$PPML" sigstruct show "$V/v20_cpu_avx_req_avx512_dis/app.sig")
	echo "$out" | grep -q 'attributes.xfrm: *0x0000000000060203 \[X87|SSE|PKRU|AMX_TILECFG|AMX_TILEDATA\]' \
		&& pass sigstruct_show_v20_xfrm || fail sigstruct_show_v20_xfrm "$out"
	[ "$("$PPML" sigstruct show --json "$V/v18_date_zero/app.sig" | jq -r .date)" = 0000-00-00 ] \
		&& pass sigstruct_show_v18_date || fail sigstruct_show_v18_date "date"
	"$PPML" sigstruct show --json "$V/v04_4G_t64_debug_isvmax/app.sig" | jq -e '.debug == true and .isv_svn == 65535 and (.attributes_flags_decoded | index("DEBUG"))' >/dev/null \
		&& pass sigstruct_show_v04_fields || fail sigstruct_show_v04_fields "fields"

	# one flipped bit anywhere that matters -> exit 1 naming the check
	bad=""
	for off in 20 100 130 600 899 905 936 970 1025 1040 1300 1424 1800; do
		cp "$V/v01_defaults/app.sig" "$TMP/f.sig"
		b=$(od -An -tu1 -j "$off" -N1 "$TMP/f.sig" | tr -d ' ')
		printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$TMP/f.sig" bs=1 seek="$off" conv=notrunc 2>/dev/null
		"$PPML" sigstruct verify "$TMP/f.sig" >/dev/null 2>"$TMP/err"; rc=$?
		[ $rc -eq 1 ] && grep -Eq 'check failed|MODULUS|SIGNATURE|HEADER|EXPONENT' "$TMP/err" || bad="$bad $off:rc=$rc"
	done
	[ -z "$bad" ] && pass sigstruct_verify_rejects_flips || fail sigstruct_verify_rejects_flips "$bad"
	cp "$V/v01_defaults/app.sig" "$TMP/q.sig"
	printf '\001' | dd of="$TMP/q.sig" bs=1 seek=1500 conv=notrunc 2>/dev/null
	"$PPML" sigstruct verify "$TMP/q.sig" 2>"$TMP/err" >/dev/null; rc=$?
	[ $rc -eq 1 ] && grep -q 'Q2 check failed' "$TMP/err" && pass sigstruct_verify_names_q2 \
		|| fail sigstruct_verify_names_q2 "rc=$rc $(cat "$TMP/err")"
	head -c 1000 "$V/v01_defaults/app.sig" >"$TMP/short.sig"
	"$PPML" sigstruct verify "$TMP/short.sig" 2>"$TMP/err"; rc=$?
	[ $rc -eq 1 ] && grep -q 'exactly 1808 bytes' "$TMP/err" && pass sigstruct_verify_truncated \
		|| fail sigstruct_verify_truncated "rc=$rc"
	"$PPML" sigstruct verify "$TMP/nonexistent.sig" 2>/dev/null; rc=$?
	[ $rc -eq 3 ] && pass sigstruct_missing_file_exit3 || fail sigstruct_missing_file_exit3 "rc=$rc"

	exp=$(jq -r .mrsigner "$V/v01_defaults/expected.json")
	openssl rsa -in "$V/v01_defaults/key.pem" -RSAPublicKey_out -out "$TMP/pk1.pem" 2>/dev/null
	openssl rsa -in "$V/v01_defaults/key.pem" -traditional -out "$TMP/trad.pem" 2>/dev/null
	[ "$("$PPML" keygen --mrsigner "$TMP/pk1.pem")" = "MRSIGNER: $exp" ] \
		&& [ "$("$PPML" keygen --mrsigner "$TMP/trad.pem")" = "MRSIGNER: $exp" ] \
		&& pass keygen_mrsigner_pkcs1_forms || fail keygen_mrsigner_pkcs1_forms "PKCS#1 public/private"
	"$PPML" keygen --mrsigner "$V/e01_key2048/key.pem" 2>"$TMP/err"; rc=$?
	[ $rc -ne 0 ] && grep -q 'Invalid RSA key: expected key size 3072, got 2048' "$TMP/err" \
		&& pass keygen_rejects_e01 || fail keygen_rejects_e01 "rc=$rc"
	"$PPML" keygen --mrsigner "$V/e02_key_e65537/key.pem" 2>"$TMP/err"; rc=$?
	[ $rc -ne 0 ] && grep -q 'Invalid RSA key: expected exponent 3, got 65537' "$TMP/err" \
		&& pass keygen_rejects_e02 || fail keygen_rejects_e02 "rc=$rc"
fi
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/ec.pem" 2>/dev/null
"$PPML" keygen --mrsigner "$TMP/ec.pem" 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q 'Invalid key: expected RSA private key, found EllipticCurvePrivateKey instance' "$TMP/err" \
	&& pass keygen_rejects_ec || fail keygen_rejects_ec "rc=$rc $(cat "$TMP/err")"
openssl genpkey -algorithm ED25519 -out "$TMP/ed.pem" 2>/dev/null
"$PPML" keygen --mrsigner "$TMP/ed.pem" 2>"$TMP/err"; rc=$?
[ $rc -eq 3 ] && grep -q 'found Ed25519PrivateKey instance' "$TMP/err" \
	&& pass keygen_rejects_ed25519 || fail keygen_rejects_ed25519 "rc=$rc $(cat "$TMP/err")"
