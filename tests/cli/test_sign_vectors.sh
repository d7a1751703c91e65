# SPDX-License-Identifier: Apache-2.0
# ppml sign against Gramine's own outputs (../shared/vectors/gramine-v1.9):
# every successful vector byte for byte, from app.manifest and from the template;
# every error vector refused with Gramine's message and no output file.
. "$(dirname "$0")/lib.sh"
need_shared sign_vectors || exit 0
V="$PPML_SHARED/vectors/gramine-v1.9"

ok=0 total=0
for dir in "$V"/v*/; do
	n=$(basename "$dir")
	total=$((total + 1))
	d="$TMP/$n"
	copy_vector "$n" "$d" || { fail "sign/$n" "cannot copy the vector"; continue; }
	sign_in "$d" app.manifest >"$TMP/out" 2>"$TMP/err"
	signed_like "sign/$n" "$d" "$dir" "$TMP/out" "$TMP/err" $? && ok=$((ok + 1))
	# From the template too (what gramine-manifest + gramine-sgx-sign do), where it is
	# plain TOML: directory expansion and hashing happen here, v12's 200 MiB included.
	if grep -q '"gramine_manifest_skipped": false' "$dir/expected.json" &&
		! grep -q '{{' "$dir/app.manifest.template"; then
		rm -f "$d/app.manifest.sgx" "$d/app.sig"
		sign_in "$d" app.manifest.template >"$TMP/out" 2>"$TMP/err"
		signed_like "sign_template/$n" "$d" "$dir" "$TMP/out" "$TMP/err" $?
	fi
	rm -rf "$d"
done
[ "$ok" -eq "$total" ] && [ "$total" -ge 20 ] &&
	pass "sign_vectors_summary: $ok/$total byte-identical" || fail sign_vectors_summary "$ok/$total byte-identical"

# Error vectors: Gramine's message (without Python's exception class), non-zero exit, no output.
for dir in "$V"/e*/; do
	n=$(basename "$dir")
	d="$TMP/$n"
	copy_vector "$n" "$d" || { fail "sign_error/$n" "cannot copy"; continue; }
	in=app.manifest
	[ -f "$d/$in" ] || in=app.manifest.template
	want=$(sed -n 's/.*"error": "\(.*\)".*/\1/p' "$dir/expected.json" |
		sed -e 's/^[A-Za-z_.]*Error: //' -e "s/^'\\(.*\\)'\$/\\1/" -e 's/^Error: //' -e 's/^Exception: //' -e 's/\\"/"/g')
	sign_in "$d" "$in" >/dev/null 2>"$TMP/err"; rc=$?
	if [ "$n" = e07_require_avx_schema ]; then
		# gramine-sgx-sign does not run the schema check; ppml manifest check does.
		(cd "$d" && "$PPML" manifest check app.manifest.template) >"$TMP/chk" 2>&1; crc=$?
		if [ $rc -eq 0 ] && [ $crc -eq 1 ] && grep -qF "extra keys not allowed @ data['sgx']['require_avx']" "$TMP/chk"; then
			pass "sign_error/$n"
		else
			fail "sign_error/$n" "sign rc=$rc, manifest check rc=$crc: $(cat "$TMP/chk")"
		fi
		continue
	fi
	if [ $rc -eq 0 ]; then
		fail "sign_error/$n" "signing succeeded"
	elif [ -e "$d/app.manifest.sgx" ] || [ -e "$d/app.sig" ]; then
		fail "sign_error/$n" "left an output file behind"
	elif ! grep -qF -- "$want" "$TMP/err"; then
		fail "sign_error/$n" "message '$(cat "$TMP/err")' does not say '$want'"
	elif [ "$(wc -l <"$TMP/err")" -ne 1 ]; then
		fail "sign_error/$n" "error is not one line"
	else
		pass "sign_error/$n"
	fi
done

# Defaults: sigfile name from the manifest name, SOURCE_DATE_EPOCH, refusing a missing --libpal.
d="$TMP/def"
copy_vector v02_256M_t1_debug "$d"
(cd "$d" && SOURCE_DATE_EPOCH=1735689599 "$PPML" sign -m app.manifest -o app.manifest.sgx -k key.pem -l libpal.so -q >/dev/null) &&
	cmp -s "$d/app.sig" "$V/v02_256M_t1_debug/app.sig" &&
	pass sign_default_sigfile_and_source_date_epoch || fail sign_default_sigfile_and_source_date_epoch "app.sig missing or differs"
(cd "$d" && "$PPML" sign -m app.manifest -o o.sgx -k key.pem -l libpal.so -d 2024-12-31 --json -q) >"$TMP/j" &&
	grep -q '"mrsigner": "846974f5b3be78b9b83071ee53a2c75a2b3d186c081a318fd6abc0fa74fff15b"' "$TMP/j" &&
	grep -q '"debug": true' "$TMP/j" && pass sign_json || fail sign_json "$(cat "$TMP/j")"
(cd "$d" && "$PPML" sign -m app.manifest -o o2.sgx -k key.pem -d 2024-12-31 2>"$TMP/err"); rc=$?
if [ -e /usr/lib/x86_64-linux-gnu/gramine/sgx/libpal.so ]; then
	skip sign_needs_libpal "Gramine is installed"
elif [ $rc -eq 2 ] && grep -q -- --libpal "$TMP/err" && [ ! -e "$d/o2.sgx" ]; then
	pass sign_needs_libpal
else
	fail sign_needs_libpal "rc=$rc: $(cat "$TMP/err")"
fi
(cd "$d" && "$PPML" sign -m app.manifest -o o3.sgx -k key.pem -l libpal.so -d 2024-12-31 --depfile app.d -q >/dev/null) &&
	grep -q '^o3.sgx app.sig:' "$d/app.d" && grep -q 'libsysdb.so\|libpal.so' "$d/app.d" &&
	pass sign_depfile || fail sign_depfile "$(cat "$d/app.d" 2>/dev/null)"
