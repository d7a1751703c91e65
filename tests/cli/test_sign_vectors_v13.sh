# SPDX-License-Identifier: Apache-2.0
# ppml --gramine-version 1.3 against the BigDL Gramine v1.3.1 signer's own outputs
# (../shared/vectors/gramine-v1.3.1-bigdl): every successful vector byte for byte from
# app.manifest and from the template; b06/b07 (keys SGX rejects, which that signer accepts)
# refused with no output while measure still gives their MRENCLAVE; e01 refused as toml
# 0.10.2 refuses it; sigstruct verify, identity and toml fmt with the same option, and
# must-fail twins (the v1.9 rules, a flipped byte) for each.
. "$(dirname "$0")/lib.sh"
need_shared sign_vectors_v13 || exit 0
SET=gramine-v1.3.1-bigdl
V="$PPML_SHARED/vectors/$SET"

field() { sed -n "s/.*\"$2\": \"\\([^\"]*\\)\".*/\\1/p" "$1/expected.json" | head -n 1; }
sign13() { sign_in "$@" --gramine-version 1.3; }

ok=0 total=0
for dir in "$V"/b*/; do
	n=$(basename "$dir")
	d="$TMP/$n"
	copy_vector "$n" "$d" "$SET" || { fail "sign13/$n" "cannot copy the vector"; continue; }
	mre=$(field "$dir" mrenclave)
	# Every vector, the bad-key ones too: measure needs no key.
	if "$PPML" measure --gramine-version 1.3 -m "$dir/app.manifest.sgx" -l "$dir/libpal.so" --json >"$TMP/m.json" &&
		grep -q "\"mrenclave\": \"$mre\"" "$TMP/m.json" && grep -q '"gramine_version": "1.3"' "$TMP/m.json"; then
		pass "measure13/$n"
	else
		fail "measure13/$n" "MRENCLAVE $mre not printed"
	fi
	# The verbose printout, attributes and memory layout line for line, as sign.log has it.
	"$PPML" measure --gramine-version 1.3 --layout -m "$dir/app.manifest.sgx" -l "$dir/libpal.so" >"$TMP/lay"
	if head -n "$(wc -l <"$dir/sign.log")" "$TMP/lay" | cmp -s - "$dir/sign.log"; then
		pass "layout13/$n"
	else
		fail "layout13/$n" "$(head -n "$(wc -l <"$dir/sign.log")" "$TMP/lay" | diff - "$dir/sign.log" | head -5)"
	fi
	case $n in
	b06_* | b07_*)
		sign13 "$d" app.manifest >/dev/null 2>"$TMP/err"; rc=$?
		if [ $rc -eq 0 ]; then
			fail "sign13_badkey/$n" "signed with a key SGX rejects"
		elif [ -e "$d/app.manifest.sgx" ] || [ -e "$d/app.sig" ]; then
			fail "sign13_badkey/$n" "left an output file behind"
		elif ! grep -q 'Invalid RSA key: expected \(key size 3072, got 2048\|exponent 3, got 65537\)' "$TMP/err" ||
			! grep -q 'EINIT rejects; nothing was written' "$TMP/err"; then
			fail "sign13_badkey/$n" "unclear message: $(cat "$TMP/err")"
		else
			pass "sign13_badkey/$n"
		fi
		continue
		;;
	esac
	total=$((total + 1))
	sign13 "$d" app.manifest >"$TMP/out" 2>"$TMP/err"
	signed_like "sign13/$n" "$d" "$dir" "$TMP/out" "$TMP/err" $? && ok=$((ok + 1))
	rm -f "$d/app.manifest.sgx" "$d/app.sig"
	sign13 "$d" app.manifest.template >"$TMP/out" 2>"$TMP/err"
	signed_like "sign13_template/$n" "$d" "$dir" "$TMP/out" "$TMP/err" $?
	# The written manifest.sgx is a fixed point of the toml 0.10.2 writer.
	if "$PPML" toml fmt --gramine-version 1.3 "$dir/app.manifest.sgx" | cmp -s - "$dir/app.manifest.sgx"; then
		pass "toml_fmt13/$n"
	else
		fail "toml_fmt13/$n" "toml fmt --gramine-version 1.3 does not reproduce app.manifest.sgx"
	fi
	# The published artefacts verify and match; with the 1.9 rules or one flipped byte they do not.
	if "$PPML" sigstruct verify "$dir/app.sig" --manifest "$dir/app.manifest.sgx" \
		--libpal "$dir/libpal.so" --gramine-version 1.3 >/dev/null 2>"$TMP/err"; then
		pass "verify13/$n"
	else
		fail "verify13/$n" "$(cat "$TMP/err")"
	fi
	"$PPML" sigstruct verify "$dir/app.sig" --manifest "$dir/app.manifest.sgx" \
		--libpal "$dir/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
	if [ $rc -ne 0 ] && grep -q 'sgx.max_threads is missing but sgx.thread_num is set.*--gramine-version 1.3' "$TMP/err"; then
		pass "verify13_as_19_refused/$n"
	else
		fail "verify13_as_19_refused/$n" "rc=$rc: $(cat "$TMP/err")"
	fi
	cp "$dir/app.manifest.sgx" "$TMP/flip.sgx" && chmod u+w "$TMP/flip.sgx"
	printf 'X' | dd of="$TMP/flip.sgx" bs=1 seek=3 conv=notrunc 2>/dev/null
	"$PPML" sigstruct verify "$dir/app.sig" --manifest "$TMP/flip.sgx" --libpal "$dir/libpal.so" \
		--gramine-version 1.3 >/dev/null 2>&1; rc=$?
	[ $rc -eq 1 ] && pass "verify13_flipped_refused/$n" || fail "verify13_flipped_refused/$n" "rc=$rc"
	rm -rf "$d"
done
[ "$ok" -eq "$total" ] && [ "$total" -ge 6 ] &&
	pass "sign_vectors_v13_summary: $ok/$total byte-identical" ||
	fail sign_vectors_v13_summary "$ok/$total byte-identical"

# e01: toml 0.10.2 refuses an array mixing strings and tables; so do we, with its words, and
# nothing is written.  With the 1.9 rules (TOML 1.0) the same template signs.
d="$TMP/e01"
copy_vector e01_mixed_array "$d" "$SET"
want=$(sed -n 's/.*"error": "toml.decoder.TomlDecodeError: \(.*\)".*/\1/p' "$V/e01_mixed_array/expected.json")
sign13 "$d" app.manifest.template >/dev/null 2>"$TMP/err"; rc=$?
if [ $rc -ne 0 ] && [ ! -e "$d/app.manifest.sgx" ] && [ ! -e "$d/app.sig" ] &&
	grep -qF "$want" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
	pass sign13_error/e01_mixed_array
else
	fail sign13_error/e01_mixed_array "rc=$rc: $(cat "$TMP/err") (wanted '$want')"
fi
(cd "$d" && "$PPML" toml fmt --gramine-version 1.3 app.manifest.template) >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 3 ] && grep -qF "$want" "$TMP/err" && pass toml_fmt13_mixed_array_refused ||
	fail toml_fmt13_mixed_array_refused "rc=$rc: $(cat "$TMP/err")"
(cd "$d" && "$PPML" toml fmt app.manifest.template) >/dev/null 2>&1 &&
	pass toml_fmt19_mixed_array_accepted || fail toml_fmt19_mixed_array_accepted "TOML 1.0 allows mixed arrays"

# identity: the v1.3 enclave audited without its key; asked with the 1.9 rules it is refused with
# the fix; a 1.9 key in a v1.3 manifest is flagged.
b=$V/b04_require_opts_isv
"$PPML" identity --gramine-version 1.3 -m "$b/app.manifest.sgx" -s "$b/app.sig" -l "$b/libpal.so" --json >"$TMP/id.json" 2>"$TMP/err"
if grep -q "\"mrenclave\": \"$(field "$b" mrenclave)\"" "$TMP/id.json" &&
	grep -q '"date": "2024-12-31"' "$TMP/id.json" && grep -q '"isvprodid": 4321' "$TMP/id.json" &&
	grep -q '"code": "test_signing_key"' "$TMP/id.json"; then
	pass identity13
else
	fail identity13 "$(cat "$TMP/err") $(head -c 400 "$TMP/id.json")"
fi
"$PPML" identity -m "$b/app.manifest.sgx" -s "$b/app.sig" -l "$b/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q 'thread_num is set: this is a Gramine v1.3 manifest' "$TMP/err" &&
	pass identity13_as_19_refused_with_fix || fail identity13_as_19_refused_with_fix "rc=$rc: $(cat "$TMP/err")"

v=$PPML_SHARED/vectors/gramine-v1.9/v02_256M_t1_debug
"$PPML" identity --gramine-version 1.3 -m "$v/app.manifest.sgx" -s "$v/app.sig" -l "$v/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q 'max_threads is set: this is a Gramine 1.4+ manifest; measure it with --gramine-version 1.9' "$TMP/err" &&
	pass identity19_as_13_refused_with_fix || fail identity19_as_13_refused_with_fix "rc=$rc: $(cat "$TMP/err")"

d="$TMP/mixed"
copy_vector b01_pie_defaults "$d" "$SET"
printf 'sgx.max_threads = 4\nsgx.cpu_features.avx = "required"\n' >>"$d/app.manifest.template"
sign13 "$d" app.manifest.template >/dev/null 2>"$TMP/err" &&
	"$PPML" identity --gramine-version 1.3 -m "$d/app.manifest.sgx" -s "$d/app.sig" -l "$d/libpal.so" >"$TMP/out" 2>&1
if grep -q 'sgx.max_threads is a Gramine 1.4+ key that the 1.3 signer ignores.*use sgx.thread_num' "$TMP/out" &&
	grep -q 'sgx.cpu_features is a Gramine 1.4+ key' "$TMP/out"; then
	pass identity13_flags_19_keys
else
	fail identity13_flags_19_keys "$(cat "$TMP/err" "$TMP/out")"
fi
d="$TMP/mixed19"
copy_vector v01_defaults "$d"
sed -i 's/^\[sgx\]$/[sgx]\nthread_num = 8\nrequire_avx = true/' "$d/app.manifest"
(cd "$d" && "$PPML" sign -m app.manifest -o app.manifest.sgx -s app.sig -k key.pem -l libpal.so -d 2024-12-31 -q >/dev/null 2>"$TMP/err") &&
	"$PPML" identity -m "$d/app.manifest.sgx" -s "$d/app.sig" -l "$d/libpal.so" >"$TMP/out" 2>&1
if grep -q 'sgx.thread_num is a Gramine v1.3 key that the 1.9 signer ignores.*use sgx.max_threads' "$TMP/out" &&
	grep -q 'sgx.require_avx is a Gramine v1.3 key.*sgx.cpu_features.avx = "required"' "$TMP/out"; then
	pass identity19_flags_13_keys
else
	fail identity19_flags_13_keys "$(cat "$TMP/err" "$TMP/out")"
fi

# v1.3 trusted-file errors (append_trusted_dir_or_file): nothing written, the entry named.
d="$TMP/tf"
for case in 'file:files/nope.bin|Cannot resolve files/nope.bin' 'file:files|Directory URI (file:files) does not end with "/"' \
	'file:files/fifo|AssertionError: files/fifo is neither a regular file'; do
	copy_vector b08_trusted_tables "$d" "$SET"
	mkfifo "$d/files/fifo"
	uri=${case%%|*} want=${case#*|}
	sed -i "s#{ uri = \"file:files/x.txt\" }#{ uri = \"$uri\" }#" "$d/app.manifest.template"
	# timeout: a regression would block on reading the FIFO
	(cd "$d" && timeout 60 "$PPML" sign --gramine-version 1.3 -m app.manifest.template \
		-o app.manifest.sgx -s app.sig -k key.pem -l libpal.so -d 2024-12-31 -q) >/dev/null 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 3 ] && [ ! -e "$d/app.manifest.sgx" ] && [ ! -e "$d/app.sig" ] && grep -qF "$want" "$TMP/err"; then
		pass "sign13_trusted_error/${uri#file:}"
	else
		fail "sign13_trusted_error/${uri#file:}" "rc=$rc: $(cat "$TMP/err")"
	fi
done

# Two-step signing with the v1.3 rules: the key holder's openssl signature over the payload
# gives Gramine v1.3.1's own .sig.
d="$TMP/two"
copy_vector b04_require_opts_isv "$d" "$SET"
if (cd "$d" && "$PPML" sign --gramine-version 1.3 -m app.manifest -o app.manifest.sgx \
	--gendata sigdata.bin -l libpal.so -d 2024-12-31 -q >/dev/null &&
	"$PPML" sigstruct show --gramine-version 1.3 --payload sigdata.bin | grep -q 'date: *2024-12-31' &&
	openssl dgst -sha256 -sign key.pem -out sig.bin sigdata.bin &&
	openssl pkey -in key.pem -pubout -out pub.pem &&
	"$PPML" sign --gramine-version 1.3 -m app.manifest -o app.manifest.sgx --catsig \
		--sigdata sigdata.bin --public-key pub.pem --signature sig.bin -l libpal.so -s app.sig -q \
		>/dev/null) 2>"$TMP/err" && cmp -s "$d/app.sig" "$V/b04_require_opts_isv/app.sig"; then
	pass sign13_two_step
else
	fail sign13_two_step "$(cat "$TMP/err")"
fi

# sigstruct show reads the binary DATE with the option, and points to it without.
s=$V/b01_pie_defaults/app.sig
"$PPML" sigstruct show --gramine-version 1.3 "$s" | grep -q 'date: *2024-12-31 (raw 0x1f0c07e8)$' &&
	"$PPML" sigstruct show "$s" | grep -q 'not BCD: Gramine v1.3 stores a binary date' &&
	pass sigstruct_show13_date || fail sigstruct_show13_date "$("$PPML" sigstruct show "$s" | grep date)"

# Usage: an unknown version, and --chroot (no such option in v1.3).
"$PPML" sign --gramine-version 1.4 -m x -o y -k z -l w >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'expected 1.9 .* or 1.3' "$TMP/err" && pass gramine_version_usage ||
	fail gramine_version_usage "rc=$rc: $(cat "$TMP/err")"
"$PPML" sign --gramine-version 1.3 --chroot / -m x -o y -k z -l w >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'chroot' "$TMP/err" && pass gramine_version_13_no_chroot ||
	fail gramine_version_13_no_chroot "rc=$rc: $(cat "$TMP/err")"

# An image of a BigDL enclave: built with --gramine-version 1.3 (labelled), verified
# by the label alone; the v1.9 rules (at build or by an override at verify) refuse it.
t=image13_build_and_verify
bad=""
d="$TMP/img13"
copy_vector b04_require_opts_isv "$d" "$SET"
sign13 "$d" app.manifest >/dev/null 2>&1 && cmp -s "$d/app.sig" "$V/b04_require_opts_isv/app.sig" || bad="$bad sign"
MRE=$(field "$V/b04_require_opts_isv" mrenclave)
img() { "$PPML" image build --base scratch --enclave "$d" --manifest app.manifest.sgx --sigfile app.sig \
	--libpal "$d/libpal.so:/usr/lib/gramine/libpal.so" --tag bigdl/app:1 "$@"; }
img --gramine-version 1.3 --output "oci:$TMP/i13" >/dev/null 2>"$TMP/err" || bad="$bad build($(cat "$TMP/err"))"
skopeo inspect --config "oci:$TMP/i13" 2>/dev/null | jq -e '.config.Labels["io.ppml.sgx.gramine_version"] == "1.3"' >/dev/null || bad="$bad label"
"$PPML" image verify "oci:$TMP/i13" --mrenclave "$MRE" >/dev/null 2>"$TMP/err" || bad="$bad verify($(cat "$TMP/err"))"
"$PPML" image verify "oci:$TMP/i13" --mrenclave "$MRE" --gramine-version 1.9 >/dev/null 2>"$TMP/err"; rc=$?
[ $rc != 0 ] && grep -q 'measure it with --gramine-version 1.3' "$TMP/err" || bad="$bad verify-as-19($rc $(cat "$TMP/err"))"
img --output "oci:$TMP/i19" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc != 0 ] && [ ! -e "$TMP/i19" ] || bad="$bad build-as-19($rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
