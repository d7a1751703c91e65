# SPDX-License-Identifier: Apache-2.0
# ppml toml fmt: tomli-w 1.0 output (spec section 3), byte for byte against
# what Gramine v1.9 wrote in the reference vectors, and its refusals.
. "$(dirname "$0")/lib.sh"

# --- usage and refusals (no reference vectors needed) ---------------------
"$PPML" toml >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass toml_without_subcommand_is_usage || fail toml_without_subcommand_is_usage "rc=$rc"
"$PPML" toml fmt >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass fmt_without_file_is_usage || fail fmt_without_file_is_usage "rc=$rc"
"$PPML" toml frobnicate x >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass unknown_subcommand_is_usage || fail unknown_subcommand_is_usage "rc=$rc"
"$PPML" toml fmt "$TMP/does-not-exist.toml" >"$TMP/out" 2>"$TMP/err"; rc=$?
[ $rc -eq 3 ] && [ ! -s "$TMP/out" ] && grep -q 'does-not-exist.toml' "$TMP/err" \
	&& pass missing_file_fails || fail missing_file_fails "rc=$rc"

# A small document: comments dropped, hex integer normalised, tables ordered
# literals first, AoT kept only where the inline form would not fit.
cat >"$TMP/in.toml" <<'EOF'
# comment
[sgx]
enclave_size = "256M"   # trailing comment
max_threads = 0x10
trusted_files = [ { uri = "file:a", sha256 = "0000000000000000000000000000000000000000000000000000000000000000" } ]
[loader]
"weird key" = 'lit\eral'
env.A = "x"
EOF
cat >"$TMP/want.toml" <<'EOF'
[sgx]
enclave_size = "256M"
max_threads = 16
trusted_files = [
    { uri = "file:a", sha256 = "0000000000000000000000000000000000000000000000000000000000000000" },
]

[loader]
"weird key" = "lit\\eral"

[loader.env]
A = "x"
EOF
if "$PPML" toml fmt "$TMP/in.toml" >"$TMP/got.toml" 2>"$TMP/err" && cmp -s "$TMP/got.toml" "$TMP/want.toml"; then
	pass fmt_small_document
else
	fail fmt_small_document "$(diff "$TMP/want.toml" "$TMP/got.toml" | head -5 | tr '\n' '|') $(head -c 200 "$TMP/err")"
fi
if "$PPML" toml fmt "$TMP/in.toml" -o "$TMP/o.toml" >"$TMP/out" 2>&1 && [ ! -s "$TMP/out" ] \
	&& cmp -s "$TMP/o.toml" "$TMP/want.toml"; then
	pass fmt_output_file
else
	fail fmt_output_file "-o did not write the expected bytes (or printed something)"
fi

# Invalid TOML: exit 3, exactly one line naming file, line and column, no
# output on stdout, and -o leaves no file (and an existing one untouched).
printf 'a = 1\nb = [1,\nc = 2\n' >"$TMP/bad.toml"
"$PPML" toml fmt "$TMP/bad.toml" -o "$TMP/bad-out.toml" >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 3 ] && [ ! -e "$TMP/bad-out.toml" ] && [ ! -s "$TMP/out" ] \
	&& [ "$(wc -l <"$TMP/err")" -eq 1 ] \
	&& grep -Eq "^ppml toml: $TMP/bad.toml: line [0-9]+, column [0-9]+: " "$TMP/err"; then
	pass invalid_toml_refused
else
	fail invalid_toml_refused "rc=$rc stderr=$(head -c 300 "$TMP/err")"
fi
printf 'keep\n' >"$TMP/existing.toml"
"$PPML" toml fmt "$TMP/bad.toml" -o "$TMP/existing.toml" >/dev/null 2>&1; rc=$?
if [ $rc -eq 3 ] && [ "$(cat "$TMP/existing.toml")" = keep ]; then
	pass invalid_toml_keeps_existing_output
else
	fail invalid_toml_keeps_existing_output "rc=$rc or OUT changed"
fi
"$PPML" toml --help | grep -q '^usage: ppml toml fmt FILE \[-o OUT\]' \
	&& pass toml_help || fail toml_help "usage line missing"

# --- reference vectors ------------------------------------------------------
need_shared toml_fmt_vectors || exit 0
V="$PPML_SHARED/vectors/gramine-v1.9"

# fmt FILE must give back FILE byte for byte.
same_bytes() { # label file
	if ! "$PPML" toml fmt "$2" >"$TMP/f1" 2>"$TMP/err"; then
		fail "$1" "fmt failed: $(head -c 300 "$TMP/err")"
	elif cmp -s "$2" "$TMP/f1"; then
		pass "$1"
	else
		fail "$1" "differs: $(diff "$2" "$TMP/f1" | head -6 | tr '\n' '|')"
	fi
}
# fmt(fmt(FILE)) == fmt(FILE); files that are not TOML (unrendered templates) are skipped.
idempotent() { # label file
	"$PPML" toml fmt "$2" >"$TMP/f1" 2>"$TMP/err"; rc=$?
	if [ $rc -ne 0 ]; then
		if [ $rc -eq 3 ] && grep -q 'line [0-9]*, column [0-9]*' "$TMP/err"; then
			skip "$1" "not valid TOML: $(head -c 160 "$TMP/err")"
		else
			fail "$1" "rc=$rc $(head -c 300 "$TMP/err")"
		fi
		return
	fi
	if "$PPML" toml fmt "$TMP/f1" >"$TMP/f2" 2>"$TMP/err" && cmp -s "$TMP/f1" "$TMP/f2"; then
		pass "$1"
	else
		fail "$1" "not idempotent: $(diff "$TMP/f1" "$TMP/f2" | head -6 | tr '\n' '|')"
	fi
}

found=0
for d in "$V"/*/; do
	n=$(basename "$d")
	[ -f "$d/app.manifest.sgx" ] && { same_bytes "roundtrip/$n/app.manifest.sgx" "$d/app.manifest.sgx"; found=1; }
	if [ -f "$d/app.manifest" ]; then
		if grep -q '"gramine_manifest_skipped": *false' "$d/expected.json"; then
			same_bytes "roundtrip/$n/app.manifest" "$d/app.manifest"
		else
			idempotent "idempotent/$n/app.manifest" "$d/app.manifest"
		fi
	fi
	[ -f "$d/app.manifest.template" ] && idempotent "idempotent/$n/app.manifest.template" "$d/app.manifest.template"
done
# The v1.3.1 outputs were written by another library (toml 0.10.2): tomli-w
# form differs, but fmt must still be stable on them.
for f in "$PPML_SHARED"/vectors/gramine-v1.3.1-bigdl/*/app.manifest*; do
	[ -f "$f" ] || continue
	idempotent "idempotent/v1.3.1/$(basename "$(dirname "$f")")/$(basename "$f")" "$f"
done
[ $found -eq 1 ] && pass toml_fmt_vectors_found || fail toml_fmt_vectors_found "no app.manifest.sgx under $V"
