# SPDX-License-Identifier: Apache-2.0
# PKCS#11 signing against a real SoftHSM2 token created here, in $TMP:
# keygen inside the token, signing vectors through the token (byte-identical
# to Gramine with the vector's key imported), and every refusal with its
# message and no output file.
. "$(dirname "$0")/lib.sh"

MODULE=${PPML_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
if ! command -v softhsm2-util >/dev/null 2>&1 || [ ! -e "$MODULE" ]; then
	if [ "${CI:-}" = true ]; then
		fail pkcs11 "softhsm2 is not installed and CI=true (scripts/install-deps installs it)"
	else
		skip pkcs11 "softhsm2 is not installed (scripts/install-deps installs it)"
	fi
	exit 0
fi

# Under SANITIZER=address the dlopen-ed SoftHSM2 (2.6.1) runs clean: no LSan
# suppression is needed (C_Finalize and dlclose run on every path).
export SOFTHSM2_CONF="$TMP/softhsm2.conf"
mkdir -p "$TMP/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$TMP" >"$SOFTHSM2_CONF"
unset PKCS11_PIN
if ! softhsm2-util --init-token --free --label ppml-test --pin 1234 --so-pin 5678 >/dev/null; then
	fail pkcs11_init_token "softhsm2-util --init-token failed"
	exit 0
fi
echo 1234 >"$TMP/pin"
echo 9999 >"$TMP/badpin"
T='pkcs11:token=ppml-test'

# 1. keygen inside the token; MRSIGNER readable again, with and without PIN.
"$PPML" keygen --pkcs11 "$T;object=sgx-prod;id=%01" --pin-file "$TMP/pin" >"$TMP/kg" 2>"$TMP/err"; rc=$?
mr=$(sed -n 's/^MRSIGNER: \([0-9a-f]\{64\}\)$/\1/p' "$TMP/kg")
[ $rc -eq 0 ] && [ -n "$mr" ] && pass pkcs11_keygen || fail pkcs11_keygen "rc=$rc: $(cat "$TMP/err")"
"$PPML" keygen --mrsigner "$T;object=sgx-prod" >"$TMP/m1" 2>&1 &&
	PKCS11_PIN=1234 "$PPML" keygen --mrsigner "$T;id=%01;type=private" --json >"$TMP/m2" 2>&1 &&
	grep -q "^MRSIGNER: $mr\$" "$TMP/m1" && grep -q "\"mrsigner\": \"$mr\"" "$TMP/m2" &&
	pass pkcs11_mrsigner || fail pkcs11_mrsigner "$(cat "$TMP/m1" "$TMP/m2")"
"$PPML" keygen --pkcs11 "$T;object=sgx-prod;id=%01" --pin-file "$TMP/pin" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q "already exists" "$TMP/err" && pass pkcs11_keygen_no_clobber ||
	fail pkcs11_keygen_no_clobber "rc=$rc: $(cat "$TMP/err")"
# The private half must not be extractable.  Checked from SoftHSM2's own object
# files (softhsm2-dump-file; labels are encrypted there, but this is the token's
# only private key so far).
attr() { softhsm2-dump-file "$1" 2>/dev/null | grep -A2 "^.\{24\}$2\$" | tail -n 1; }
privs=$(for f in "$TMP"/tokens/*/*.object; do
	softhsm2-dump-file "$f" 2>/dev/null | grep -q 'CKO_PRIVATE_KEY$' && echo "$f"; done)
if [ "$(echo "$privs" | grep -c .)" -ne 1 ]; then
	fail pkcs11_keygen_not_extractable "expected one private key object, found: $privs"
elif attr "$privs" CKA_EXTRACTABLE | grep -q FALSE && attr "$privs" CKA_SENSITIVE | grep -q TRUE &&
	attr "$privs" CKA_NEVER_EXTRACTABLE | grep -q TRUE && attr "$privs" CKA_SIGN | grep -q TRUE; then
	pass pkcs11_keygen_not_extractable
else
	fail pkcs11_keygen_not_extractable "CKA_EXTRACTABLE/SENSITIVE/NEVER_EXTRACTABLE/SIGN not as required"
fi

# 2. URI and PIN handling that needs no vectors.
"$PPML" keygen --mrsigner "$T;object=sgx-prod?pin-value=1234" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q "pin-value is refused" "$TMP/err" && pass pkcs11_pin_value_refused ||
	fail pkcs11_pin_value_refused "rc=$rc: $(cat "$TMP/err")"
"$PPML" keygen --pkcs11 "$T;object=x" --pin 1234 >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && pass pkcs11_no_pin_option || fail pkcs11_no_pin_option "rc=$rc: $(cat "$TMP/err")"
"$PPML" keygen --mrsigner "$T;object=sgx-prod;type=private?pin-source=file:$TMP/pin" >"$TMP/m3" 2>&1 &&
	grep -q "^MRSIGNER: $mr\$" "$TMP/m3" && pass pkcs11_pin_source || fail pkcs11_pin_source "$(cat "$TMP/m3")"

need_shared pkcs11_vectors || exit 0
V="$PPML_SHARED/vectors/gramine-v1.9"
import_key() { # VECTOR LABEL ID
	openssl pkcs8 -topk8 -nocrypt -in "$V/$1/key.pem" -out "$TMP/$2.p8" &&
		softhsm2-util --import "$TMP/$2.p8" --token ppml-test --label "$2" --id "$3" --pin 1234 >/dev/null
}
import_key v03_1G_t4_isv vec03 10 && import_key v02_256M_t1_debug vec02 11 &&
	import_key e01_key2048 k2048 12 && import_key e02_key_e65537 k65537 13 ||
	fail pkcs11_import "softhsm2-util --import failed"
copy() { rm -rf "$TMP/$2" && cp -r "$V/$1" "$TMP/$2" && chmod -R u+w "$TMP/$2" && rm -f "$TMP/$2/app.sig" "$TMP/$2/app.manifest.sgx"; }
sign_p11() { # DIR KEY-URI [args]: signs DIR/app.manifest into DIR/app.manifest.sgx + DIR/app.sig
	local d=$1 k=$2; shift 2
	(cd "$d" && "$PPML" sign --manifest app.manifest --output app.manifest.sgx --sigfile app.sig \
		--key "$k" --libpal libpal.so --date 2024-12-31 --quiet "$@")
}
# no_output NAME DIR WANT rc: a refusal with WANT in a one-line message and no file written
no_output() {
	if [ "$4" -eq 0 ]; then
		fail "$1" "signing succeeded"
	elif [ -e "$2/app.sig" ] || [ -e "$2/app.manifest.sgx" ]; then
		fail "$1" "an output file was written"
	elif ! grep -qF -- "$3" "$TMP/err"; then
		fail "$1" "message '$(cat "$TMP/err")' does not say '$3'"
	elif [ "$(wc -l <"$TMP/err")" -ne 1 ]; then
		fail "$1" "error is not one line: $(cat "$TMP/err")"
	else
		pass "$1"
	fi
}

# 3. Two vectors signed in the token with the generated key: verify, MRSIGNER of the token key.
copy v03_1G_t4_isv s03 && copy v02_256M_t1_debug s02
if sign_p11 "$TMP/s03" "$T;object=sgx-prod" --pin-file "$TMP/pin" >/dev/null 2>"$TMP/err" &&
	"$PPML" sigstruct verify "$TMP/s03/app.sig" >"$TMP/v" 2>&1 && grep -q "mrsigner: *$mr" "$TMP/v" &&
	cmp -s "$TMP/s03/app.manifest.sgx" "$V/v03_1G_t4_isv/app.manifest.sgx"; then
	pass pkcs11_sign_generated/v03
else
	fail pkcs11_sign_generated/v03 "$(cat "$TMP/err" "$TMP/v" 2>/dev/null)"
fi
if PKCS11_PIN=1234 sign_p11 "$TMP/s02" "$T;object=sgx-prod" --allow-debug >/dev/null 2>"$TMP/err" &&
	"$PPML" sigstruct verify "$TMP/s02/app.sig" >"$TMP/v" 2>&1 && grep -q "mrsigner: *$mr" "$TMP/v"; then
	pass pkcs11_sign_generated/v02_debug_allowed
else
	fail pkcs11_sign_generated/v02_debug_allowed "$(cat "$TMP/err" "$TMP/v" 2>/dev/null)"
fi

# 4. The vectors' own keys imported: the .sig equals Gramine's byte for byte.
for pair in v03_1G_t4_isv:vec03 v02_256M_t1_debug:vec02; do
	n=${pair%%:*} label=${pair#*:}
	copy "$n" "x$label"
	if sign_p11 "$TMP/x$label" "$T;object=$label;type=private" --pin-file "$TMP/pin" --allow-debug \
		>/dev/null 2>"$TMP/err" &&
		cmp -s "$TMP/x$label/app.sig" "$V/$n/app.sig" &&
		cmp -s "$TMP/x$label/app.manifest.sgx" "$V/$n/app.manifest.sgx"; then
		pass "pkcs11_sign_identical/$n"
	else
		fail "pkcs11_sign_identical/$n" "not byte-identical to Gramine: $(cat "$TMP/err")"
	fi
done

# 5. Refusals: message, non-zero exit, no output.
copy v03_1G_t4_isv r
sign_p11 "$TMP/r" "$T;object=sgx-prod" --pin-file "$TMP/badpin" >/dev/null 2>"$TMP/err"; rc=$?
no_output pkcs11_wrong_pin "$TMP/r" "wrong PIN for PKCS#11 token 'ppml-test' (CKR_PIN_INCORRECT)" $rc
sign_p11 "$TMP/r" "$T;object=no-such-key" --pin-file "$TMP/pin" >/dev/null 2>"$TMP/err"; rc=$?
no_output pkcs11_object_not_found "$TMP/r" "PKCS#11 object not found: no private key object='no-such-key'" $rc
sign_p11 "$TMP/r" "pkcs11:token=no-such-token;object=sgx-prod" --pin-file "$TMP/pin" >/dev/null 2>"$TMP/err"; rc=$?
no_output pkcs11_token_not_found "$TMP/r" "PKCS#11 token not found: no token matches token=no-such-token; tokens present: 'ppml-test'" $rc
sign_p11 "$TMP/r" "$T;object=k2048" --pin-file "$TMP/pin" >/dev/null 2>"$TMP/err"; rc=$?
no_output pkcs11_key_2048 "$TMP/r" "Invalid RSA key: expected key size 3072, got 2048" $rc
sign_p11 "$TMP/r" "$T;id=%13" --pin-file "$TMP/pin" >/dev/null 2>"$TMP/err"; rc=$?
no_output pkcs11_key_e65537 "$TMP/r" "Invalid RSA key: expected exponent 3, got 65537" $rc
if openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/ec.pem" 2>/dev/null &&
	softhsm2-util --import "$TMP/ec.pem" --token ppml-test --label ec --id 14 --pin 1234 >/dev/null; then
	sign_p11 "$TMP/r" "$T;object=ec" --pin-file "$TMP/pin" >/dev/null 2>"$TMP/err"; rc=$?
	no_output pkcs11_key_not_rsa "$TMP/r" "Invalid key: expected RSA private key, found EllipticCurvePrivateKey instance" $rc
else
	fail pkcs11_key_not_rsa "cannot import an EC key"
fi
copy v02_256M_t1_debug rd
sign_p11 "$TMP/rd" "$T;object=sgx-prod" --pin-file "$TMP/pin" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] || fail pkcs11_debug_refused "exit $rc, expected 1"
no_output pkcs11_debug_refused "$TMP/rd" "refusing to sign a debug enclave (sgx.debug = true) with a PKCS#11 production key" $rc
sign_p11 "$TMP/r" "$T;object=sgx-prod" >/dev/null 2>"$TMP/err"; rc=$?
no_output pkcs11_no_pin "$TMP/r" "needs the token's user PIN" $rc
sign_p11 "$TMP/r" "$T;object=sgx-prod" --pin 1234 >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "a PIN never comes from the command line" "$TMP/err" && [ ! -e "$TMP/r/app.sig" ] && pass pkcs11_sign_no_pin_option ||
	fail pkcs11_sign_no_pin_option "rc=$rc: $(cat "$TMP/err")"
sign_p11 "$TMP/r" "$T;object=sgx-prod" --pin-file "$TMP/pin" --module "$TMP/nope.so" >/dev/null 2>"$TMP/err"; rc=$?
no_output pkcs11_module_missing "$TMP/r" "cannot load the PKCS#11 module $TMP/nope.so" $rc

# A token key whose signature does not verify: a private key with v02's modulus
# but v03's CRT values (built with openssl asn1parse -genconf), so what the token
# signs is not a signature by the modulus it reports.  Refused before writing.
mix_key() {
	local i=0 name val
	openssl rsa -in "$V/v03_1G_t4_isv/key.pem" -traditional -out "$TMP/a.pem" 2>/dev/null &&
		openssl rsa -in "$V/v02_256M_t1_debug/key.pem" -traditional -out "$TMP/b.pem" 2>/dev/null || return 1
	openssl asn1parse -in "$TMP/a.pem" | awk -F: '/INTEGER/{print $NF}' >"$TMP/a.ints"
	openssl asn1parse -in "$TMP/b.pem" | awk -F: '/INTEGER/{print $NF}' >"$TMP/b.ints"
	{
		echo "asn1=SEQUENCE:k"
		echo "[k]"
		for name in v n e d p q dp dq qi; do
			i=$((i + 1))
			if [ $name = n ]; then val=$(sed -n 2p "$TMP/b.ints"); else val=$(sed -n ${i}p "$TMP/a.ints"); fi
			echo "$name=INTEGER:0x$val"
		done
	} >"$TMP/mix.cnf"
	openssl asn1parse -genconf "$TMP/mix.cnf" -out "$TMP/mix.der" >/dev/null &&
		openssl pkcs8 -topk8 -nocrypt -inform DER -in "$TMP/mix.der" -out "$TMP/mix.p8" &&
		softhsm2-util --import "$TMP/mix.p8" --token ppml-test --label mismatched --id 20 --pin 1234 >/dev/null
}
if mix_key; then
	sign_p11 "$TMP/r" "$T;object=mismatched" --pin-file "$TMP/pin" >/dev/null 2>"$TMP/err"; rc=$?
	[ $rc -eq 1 ] || fail pkcs11_signature_does_not_verify "exit $rc, expected 1"
	no_output pkcs11_signature_does_not_verify "$TMP/r" "object='mismatched' does not verify: SIGSTRUCT signature check failed" $rc
else
	fail pkcs11_signature_does_not_verify "cannot build the mismatched key"
fi
