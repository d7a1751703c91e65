#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ppml image build|verify: reproducible OCI images of a freshly signed enclave,
# checked by real tools (skopeo, umoci), and every refusal: a modified trusted
# file, a swapped .sig, a wrong identity, a debug enclave, corrupt blobs, path
# traversal, private keys.  Needs nothing from ../shared.
. "$(dirname "$0")/lib.sh"
export SOURCE_DATE_EPOCH=1700000000
E=$TMP/enc
mkdir -p "$E/app"
sim_pal "$E" || fail image_setup cc
printf '#!/bin/sh\necho trained\n' >"$E/app/train.sh"
chmod +x "$E/app/train.sh"
dd if=/dev/urandom of="$E/app/model.bin" bs=1k count=300 2>/dev/null
manifest() { # $1: debug true|false
	cat <<TOML
[libos]
entrypoint = "/app/train.sh"
[loader]
entrypoint.uri = "file:libsysdb.so"
[fs]
mounts = [{ path = "/app", uri = "file:app" }]
[sgx]
debug = $1
enclave_size = "256M"
max_threads = 4
isvprodid = 5
isvsvn = 2
remote_attestation = "dcap"
trusted_files = ["file:app/train.sh", "file:app/model.bin", "file:libpal.so"]
TOML
}
(
	cd "$E" && manifest false >app.manifest && "$PPML" keygen -o "$TMP/key.pem" >/dev/null &&
	"$PPML" sign -m app.manifest -o app.manifest.sgx -s app.sig -k "$TMP/key.pem" -l libpal.so -q >/dev/null &&
	manifest true >"$TMP/dbg.manifest" && mkdir -p "$TMP/dbg" && cp -r app libpal.so libsysdb.so "$TMP/dbg/" &&
	cd "$TMP/dbg" && "$PPML" sign -m "$TMP/dbg.manifest" -o app.manifest.sgx -s app.sig -k "$TMP/key.pem" -l libpal.so -q >/dev/null &&
	rm "$E/app.manifest"
) 2>"$TMP/err" || fail image_setup "$(cat "$TMP/err")"
MRE=$("$PPML" sigstruct show "$E/app.sig" --json | jq -r .mrenclave)
MRS=$("$PPML" sigstruct show "$E/app.sig" --json | jq -r .mrsigner)
build() { "$PPML" image build --base scratch --enclave "$E" --libpal "$E/libpal.so" --tag ppml/app:1.0 "$@"; }
digest() { jq -r '.manifests[0].digest' "$1/index.json"; }

t=image_build_reproducible
bad=""
build --output "oci:$TMP/a" >/dev/null 2>&1 || bad="$bad build-a"
build --output "oci:$TMP/b" >/dev/null 2>&1 || bad="$bad build-b"
[ "$(digest "$TMP/a")" = "$(digest "$TMP/b")" ] && diff -r "$TMP/a" "$TMP/b" >/dev/null || bad="$bad differ"
SOURCE_DATE_EPOCH=1700000001 build --output "oci:$TMP/c" >/dev/null 2>&1 || bad="$bad build-c"
[ "$(digest "$TMP/a")" != "$(digest "$TMP/c")" ] || bad="$bad time-ignored"
build --env MODE=prod --output "oci:$TMP/d" >/dev/null 2>&1 || bad="$bad build-d"
[ "$(digest "$TMP/a")" != "$(digest "$TMP/d")" ] || bad="$bad env-ignored"
if [ -z "$bad" ]; then pass "$t: $(digest "$TMP/a")"; else fail $t "$bad"; fi

t=image_labels_and_config_via_skopeo
bad=""
j=$(skopeo inspect "oci:$TMP/a:1.0" 2>"$TMP/err") || bad="$bad inspect($(cat "$TMP/err"))"
[ "$(jq -r '.Labels["io.ppml.sgx.mrenclave"]' <<<"$j")" = "$MRE" ] || bad="$bad mrenclave"
[ "$(jq -r '.Labels["io.ppml.sgx.mrsigner"]' <<<"$j")" = "$MRS" ] || bad="$bad mrsigner"
[ "$(jq -r '[.Labels["io.ppml.sgx.isvprodid"], .Labels["io.ppml.sgx.isvsvn"], .Labels["io.ppml.sgx.debug"]] | join("/")' <<<"$j")" = "5/2/false" ] || bad="$bad isv"
[ "$(jq -r .Digest <<<"$j")" = "$(digest "$TMP/a")" ] || bad="$bad digest"
c=$(skopeo inspect --config "oci:$TMP/a:1.0" 2>/dev/null)
[ "$(jq -c .config.Entrypoint <<<"$c")" = '["gramine-sgx","app"]' ] && [ "$(jq -r .config.WorkingDir <<<"$c")" = /app ] || bad="$bad entrypoint"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=image_umoci_unpack_matches
bad=""
if umoci unpack --rootless --image "$TMP/a:1.0" "$TMP/bundle" >/dev/null 2>"$TMP/err"; then
	R=$TMP/bundle/rootfs
	for f in app.manifest.sgx app.sig libsysdb.so libpal.so app/train.sh app/model.bin; do
		cmp -s "$E/$f" "$R/app/$f" || bad="$bad $f"
	done
	[ -x "$R/app/app/train.sh" ] && [ ! -x "$R/app/app/model.bin" ] || bad="$bad modes"
	[ "$(find "$R" -type f | wc -l)" = 6 ] || bad="$bad extra-files"
else
	bad="unpack: $(cat "$TMP/err")"
fi
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=image_docker_archive_both_ways
bad=""
build --output "docker-archive:$TMP/app.tar" >/dev/null 2>&1 || bad="$bad build"
skopeo copy -q "docker-archive:$TMP/app.tar" "oci:$TMP/from-docker:1.0" 2>"$TMP/err" || bad="$bad to-oci($(cat "$TMP/err"))"
skopeo copy -q "oci:$TMP/a:1.0" "docker-archive:$TMP/from-oci.tar:ppml/app:1.0" 2>"$TMP/err" || bad="$bad to-docker($(cat "$TMP/err"))"
for img in "docker-archive:$TMP/app.tar" "oci:$TMP/from-docker:1.0" "docker-archive:$TMP/from-oci.tar"; do
	"$PPML" image verify "$img" --mrenclave "$MRE" --libpal "$E/libpal.so" >/dev/null 2>"$TMP/err" || bad="$bad verify($img: $(cat "$TMP/err"))"
done
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=image_verify_accepts_good
bad=""
v=$("$PPML" image verify "oci:$TMP/a:1.0" --mrenclave "$MRE" --libpal "$E/libpal.so" --json) || bad="$bad exit"
[ "$(jq -r '"\(.ok)/\(.files_checked)/\(.reasons|length)"' <<<"$v")" = "true/4/0" ] || bad="$bad $(jq -c . <<<"$v")"
"$PPML" image verify "oci:$TMP/a" --mrsigner "$MRS" --isvprodid 5 --min-isvsvn 2 --libpal "$E/libpal.so" >/dev/null 2>&1 || bad="$bad mrsigner-form"
# The PAL from inside the image (--libpal PATH:DEST).
build --libpal "$E/libpal.so:/opt/gramine/libpal.so" --output "oci:$TMP/withpal" >/dev/null 2>&1 &&
	"$PPML" image verify "oci:$TMP/withpal" --mrenclave "$MRE" >/dev/null 2>&1 || bad="$bad pal-in-image"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

# add_layer DIR TREE: appends a layer made from TREE to the OCI layout DIR
# (what an attacker with write access to a registry could do).
add_layer() {
	tar --sort=name --owner=0 --group=0 --mtime=@0 -C "$2" -cf "$TMP/l.tar" . && add_tar "$1" "$TMP/l.tar"
}
# add_tar DIR TAR: appends TAR (gzipped) as a layer.
add_tar() {
	local d=$1 cfg man
	[ "$2" = "$TMP/l.tar" ] || cp "$2" "$TMP/l.tar"
	gzip -n -c "$TMP/l.tar" >"$TMP/l.tgz" || return 1
	local diff=sha256:$(sha256sum <"$TMP/l.tar" | cut -c1-64) dig=sha256:$(sha256sum <"$TMP/l.tgz" | cut -c1-64)
	cp "$TMP/l.tgz" "$d/blobs/sha256/${dig#sha256:}"
	man=$(cat "$d/blobs/sha256/$(jq -r '.manifests[0].digest' "$d/index.json" | cut -c8-)")
	cfg=$(cat "$d/blobs/sha256/$(jq -r .config.digest <<<"$man" | cut -c8-)")
	cfg=$(jq -c --arg x "$diff" '.rootfs.diff_ids += [$x]' <<<"$cfg")
	printf '%s' "$cfg" >"$TMP/cfg"
	local cd=sha256:$(sha256sum <"$TMP/cfg" | cut -c1-64)
	cp "$TMP/cfg" "$d/blobs/sha256/${cd#sha256:}"
	man=$(jq -c --arg x "$dig" --argjson s "$(stat -c %s "$TMP/l.tgz")" --arg c "$cd" --argjson cs "$(stat -c %s "$TMP/cfg")" \
		'.layers += [{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":$x,"size":$s}] | .config.digest = $c | .config.size = $cs' <<<"$man")
	printf '%s' "$man" >"$TMP/man"
	local md=sha256:$(sha256sum <"$TMP/man" | cut -c1-64)
	cp "$TMP/man" "$d/blobs/sha256/${md#sha256:}"
	jq -c --arg x "$md" --argjson s "$(stat -c %s "$TMP/man")" '.manifests[0].digest = $x | .manifests[0].size = $s' "$d/index.json" >"$TMP/idx" &&
		cp "$TMP/idx" "$d/index.json"
}

# refused NAME PATTERN IMG [verify args]: exit 1 with the reason.
refused() {
	local name=$1 pat=$2 img=$3; shift 3
	"$PPML" image verify "$img" --libpal "$E/libpal.so" "$@" >/dev/null 2>"$TMP/err"; local rc=$?
	if [ $rc = 1 ] && grep -q -- "$pat" "$TMP/err"; then pass "$name"; else fail "$name" "rc=$rc: $(cat "$TMP/err")"; fi
}

cp -r "$TMP/a" "$TMP/tampered"
mkdir -p "$TMP/t1/app/app" && echo 'echo evil' >"$TMP/t1/app/app/train.sh"
add_layer "$TMP/tampered" "$TMP/t1" || fail image_tamper_setup add_layer
refused image_verify_refuses_modified_trusted_file 'trusted file file:app/train.sh was modified' "oci:$TMP/tampered" --mrenclave "$MRE"

cp -r "$TMP/a" "$TMP/whiteout"
mkdir -p "$TMP/t2/app/app" && : >"$TMP/t2/app/app/.wh.model.bin"
add_layer "$TMP/whiteout" "$TMP/t2"
refused image_verify_honours_whiteouts 'file:app/model.bin: /app/app/model.bin is not in the image' "oci:$TMP/whiteout" --mrenclave "$MRE"

cp -r "$TMP/a" "$TMP/swapped"
mkdir -p "$TMP/t3/app" && cp "$TMP/dbg/app.sig" "$TMP/t3/app/app.sig"
add_layer "$TMP/swapped" "$TMP/t3"
refused image_verify_refuses_swapped_sig 'signature: ENCLAVEHASH' "oci:$TMP/swapped" --mrenclave "$MRE"

refused image_verify_refuses_other_mrenclave 'identity: MRENCLAVE' "oci:$TMP/a" --mrenclave "$(printf '0%.0s' $(seq 1 64))"
refused image_verify_refuses_other_isv 'ISVSVN 2, below the minimum 3' "oci:$TMP/a" --mrsigner "$MRS" --isvprodid 5 --min-isvsvn 3

t=image_verify_with_policy
bad=""
printf 'identities = [{ mrsigner = "%s", isvprodid = 5, min_isvsvn = 2 }]\n' "$MRS" >"$TMP/pol.toml"
"$PPML" image verify "oci:$TMP/a" --policy "$TMP/pol.toml" --libpal "$E/libpal.so" >/dev/null 2>"$TMP/err" || bad="$bad accept($(cat "$TMP/err"))"
printf 'identities = [{ mrsigner = "%s", isvprodid = 5, min_isvsvn = 3 }]\n' "$MRS" >"$TMP/pol2.toml"
"$PPML" image verify "oci:$TMP/a" --policy "$TMP/pol2.toml" --libpal "$E/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "matches none of the policy's 1 identities" "$TMP/err" || bad="$bad refuse($rc)"
printf 'identities = [{ mrenclave = "%s" }]\nallow_bogus = 1\n' "$MRE" >"$TMP/pol3.toml"
"$PPML" image verify "oci:$TMP/a" --policy "$TMP/pol3.toml" --libpal "$E/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q 'allow_bogus: unknown key' "$TMP/err" || bad="$bad bad-policy($rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=image_verify_debug_needs_allow_debug
bad=""
"$PPML" image build --base scratch --enclave "$TMP/dbg" --libpal "$TMP/dbg/libpal.so" --tag d:1 --output "oci:$TMP/dbgimg" >/dev/null 2>&1 || bad="$bad build"
DMRE=$("$PPML" sigstruct show "$TMP/dbg/app.sig" --json | jq -r .mrenclave)
"$PPML" image verify "oci:$TMP/dbgimg" --mrenclave "$DMRE" --libpal "$E/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q DEBUG "$TMP/err" || bad="$bad refused($rc)"
"$PPML" image verify "oci:$TMP/dbgimg" --mrenclave "$DMRE" --libpal "$E/libpal.so" --allow-debug >/dev/null 2>&1 || bad="$bad allowed"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=image_corrupt_blobs_refused
bad=""
cp -r "$TMP/a" "$TMP/corrupt"
L=$(jq -r '.layers[0].digest' "$TMP/corrupt/blobs/sha256/$(digest "$TMP/corrupt" | cut -c8-)" | cut -c8-)
printf 'X' | dd of="$TMP/corrupt/blobs/sha256/$L" bs=1 seek=100 conv=notrunc 2>/dev/null
"$PPML" image verify "oci:$TMP/corrupt" --mrenclave "$MRE" --libpal "$E/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q 'corrupt or was altered' "$TMP/err" || bad="$bad flipped($rc: $(cat "$TMP/err"))"
build --base "oci:$TMP/corrupt" --output "oci:$TMP/on-corrupt" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && [ ! -e "$TMP/on-corrupt" ] || bad="$bad base($rc)"
rm "$TMP/corrupt/blobs/sha256/$L"
"$PPML" image verify "oci:$TMP/corrupt" --mrenclave "$MRE" --libpal "$E/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q 'missing blob' "$TMP/err" || bad="$bad missing($rc: $(cat "$TMP/err"))"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=image_path_traversal_refused
bad=""
cp -r "$TMP/a" "$TMP/trav"
mkdir -p "$TMP/t4" && echo x >"$TMP/t4/a"
tar --transform 's,^\./a,../../escape,' -C "$TMP/t4" -cf "$TMP/trav.tar" ./a 2>/dev/null
tar -tf "$TMP/trav.tar" 2>/dev/null | grep -q '^\.\./\.\./escape$' || bad="$bad craft"
add_tar "$TMP/trav" "$TMP/trav.tar"
"$PPML" image verify "oci:$TMP/trav" --mrenclave "$MRE" --libpal "$E/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q "layer 2: entry '../../escape': the path escapes the root" "$TMP/err" || bad="$bad layer($rc: $(cat "$TMP/err"))"
build --base "oci:$TMP/trav" --output "oci:$TMP/on-trav" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q 'base: layer 2' "$TMP/err" && [ ! -e "$TMP/on-trav" ] || bad="$bad base($rc: $(cat "$TMP/err"))"
# A symlink that climbs out of the root on the way to a trusted file.
cp -r "$TMP/a" "$TMP/esc"
mkdir -p "$TMP/t6/app" && ln -s ../../../../../etc "$TMP/t6/app/app"
add_layer "$TMP/esc" "$TMP/t6"
"$PPML" image verify "oci:$TMP/esc" --mrenclave "$MRE" --libpal "$E/libpal.so" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q 'escapes the image root' "$TMP/err" || bad="$bad symlink($rc: $(cat "$TMP/err"))"
"$PPML" image build --base scratch --enclave "$E" --libpal "$E/libpal.so" --tag x:1 --add /etc/hostname:/../../x --output "oci:$TMP/bad-add" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc != 0 ] && grep -q 'escapes the image root' "$TMP/err" && [ ! -e "$TMP/bad-add" ] || bad="$bad add($rc: $(cat "$TMP/err"))"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=image_private_keys_refused
bad=""
"$PPML" image build --base scratch --enclave "$E" --libpal "$E/libpal.so" --tag x:1 --add "$TMP/key.pem:/app/key.pem" --output "oci:$TMP/k1" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "$TMP/key.pem holds a PEM private key" "$TMP/err" && [ ! -e "$TMP/k1" ] || bad="$bad pem($rc: $(cat "$TMP/err"))"
openssl pkey -in "$TMP/key.pem" -outform DER -out "$TMP/key.der" 2>/dev/null
"$PPML" image build --base scratch --enclave "$E" --libpal "$E/libpal.so" --tag x:1 --add "$TMP/key.der:/app/model.weights" --output "oci:$TMP/k2" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q 'is a DER private key' "$TMP/err" && [ ! -e "$TMP/k2" ] || bad="$bad der($rc: $(cat "$TMP/err"))"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | { printf 'config = 1\n'; cat; } >"$TMP/mixed.txt"
"$PPML" image build --base scratch --enclave "$E" --libpal "$E/libpal.so" --tag x:1 --add "$TMP/mixed.txt:/app/cfg" --output "oci:$TMP/k3" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q 'PEM private key' "$TMP/err" && [ ! -e "$TMP/k3" ] || bad="$bad embedded($rc)"
openssl x509 -in /dev/null 2>/dev/null; openssl req -x509 -key "$TMP/key.pem" -subj /CN=x -days 1 -out "$TMP/cert.pem" 2>/dev/null
"$PPML" image build --base scratch --enclave "$E" --libpal "$E/libpal.so" --tag x:1 --add "$TMP/cert.pem:/app/cert.pem" --output "oci:$TMP/k4" >/dev/null 2>&1 || bad="$bad cert-refused"
# A file carrying the BEGIN text as a constant (libcrypto, ppml itself) is
# not a key, nor is an ELF object embedding a whole key block (GnuTLS's
# self-test keys); a key whose block starts across a 64 KiB read is.
{ head -c 65530 /dev/zero; printf -- '-----BEGIN PRIVATE KEY-----\0x\0'; head -c 100 /dev/zero; } >"$TMP/constant.bin"
"$PPML" image build --base scratch --enclave "$E" --libpal "$E/libpal.so" --tag x:1 --add "$TMP/constant.bin:/app/c.bin" --output "oci:$TMP/k5" >/dev/null 2>"$TMP/err" || bad="$bad constant-refused($(cat "$TMP/err"))"
{ printf '\177ELF'; head -c 1000 /dev/zero; openssl pkey -in "$TMP/key.pem" 2>/dev/null; } >"$TMP/selftest.so"
"$PPML" image build --base scratch --enclave "$E" --libpal "$E/libpal.so" --tag x:1 --add "$TMP/selftest.so:/app/lib.so" --output "oci:$TMP/k7" >/dev/null 2>"$TMP/err" || bad="$bad elf-refused($(cat "$TMP/err"))"
{ head -c 65520 /dev/zero; openssl pkey -in "$TMP/key.pem" 2>/dev/null; } >"$TMP/split.bin"
"$PPML" image build --base scratch --enclave "$E" --libpal "$E/libpal.so" --tag x:1 --add "$TMP/split.bin:/app/blob" --output "oci:$TMP/k6" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q 'PEM private key' "$TMP/err" && [ ! -e "$TMP/k6" ] || bad="$bad split($rc)"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=image_build_refuses_changed_trusted_file
bad=""
cp "$E/app/model.bin" "$TMP/model.orig"
printf 'x' | dd of="$E/app/model.bin" bs=1 seek=5 conv=notrunc 2>/dev/null
build --output "oci:$TMP/changed" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q 'model.bin: SHA-256' "$TMP/err" && [ ! -e "$TMP/changed" ] || bad="$bad rc=$rc $(cat "$TMP/err")"
cp "$TMP/model.orig" "$E/app/model.bin"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=image_usage
bad=""
"$PPML" image build --base scratch --enclave "$E" --tag x:1 2>/dev/null; [ $? = 2 ] || bad="$bad no-output"
"$PPML" image build --base nope:x --enclave "$E" --tag x:1 --output oci:/tmp/x 2>/dev/null; [ $? = 2 ] || bad="$bad base"
"$PPML" image verify "oci:$TMP/a" 2>/dev/null; [ $? = 2 ] || bad="$bad no-identity"
"$PPML" image verify "oci:$TMP/a" --mrenclave abc 2>/dev/null; [ $? = 2 ] || bad="$bad short-hex"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=image_failed_builds_leave_nothing
left=$(ls -a "$TMP" | grep -E '\.tmp-|\.layer-|\.old-' || true)
if [ -z "$left" ]; then pass $t; else fail $t "left behind: $left"; fi
