#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ppml-sim-pal.so, the deterministic stand-in PAL: the same bytes every time
# and on every machine (its SHA-256 is pinned here), a valid ELF that signing
# measures, found by `ppml sim pal` and `ppml run --sim` when Gramine is not
# installed; and `ppml run --sim --root` checking files inside an unpacked
# root filesystem.  Needs nothing from ../shared.
. "$(dirname "$0")/lib.sh"

# The stand-in's bytes are fixed by its version (ppml/simpal.h): a change
# here changes every simulated MRENCLAVE and needs PPML_SIMPAL_VERSION bumped.
PINNED=a91706451b5ec489adb8376bb3fc0aeb12296c9a219420e288817f9ed207c65b
gramine_installed() { for d in /usr/lib/x86_64-linux-gnu /usr/local/lib/x86_64-linux-gnu /usr/lib /usr/local/lib; do
	[ -e "$d/gramine/sgx/libpal.so" ] && return 0; done; return 1; }

t=sim_pal_deterministic_elf
bad=""
"$PPML" sim pal --stand-in --out "$TMP/a.so" >"$TMP/out" 2>"$TMP/err" || bad="$bad rc"
"$PPML" sim pal --stand-in --out "$TMP/b.so" >/dev/null 2>&1 || bad="$bad rc2"
[ "$(cat "$TMP/out")" = "$TMP/a.so" ] || bad="$bad stdout($(cat "$TMP/out"))"
grep -q "SIMULATION ONLY" "$TMP/err" || bad="$bad no-warning"
cmp -s "$TMP/a.so" "$TMP/b.so" || bad="$bad differs"
[ "$(sha256sum <"$TMP/a.so" | cut -c1-64)" = $PINNED ] || bad="$bad sha($(sha256sum <"$TMP/a.so"))"
[ -e "$PPML_BUILD/ppml-sim-pal.so" ] && ! cmp -s "$TMP/a.so" "$PPML_BUILD/ppml-sim-pal.so" && bad="$bad build-copy"
readelf -lh "$TMP/a.so" 2>/dev/null | grep -q 'DYN (Shared object file)' || bad="$bad readelf"
[ "$(readelf -l "$TMP/a.so" 2>/dev/null | grep -c LOAD)" = 2 ] || bad="$bad loads"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=sim_pal_found_in_sim_dir
if gramine_installed; then skip $t "Gramine is installed: ppml uses its PAL"; else
	bad=""
	p=$("$PPML" sim pal --dir "$TMP/sim" 2>/dev/null) || bad="$bad rc"
	[ "$p" = "$TMP/sim/ppml-sim-pal.so" ] && cmp -s "$p" "$TMP/a.so" || bad="$bad path($p)"
	printf 'x' >>"$TMP/sim/ppml-sim-pal.so"    # damaged: rewritten
	"$PPML" sim pal --dir "$TMP/sim" >/dev/null 2>&1 && cmp -s "$p" "$TMP/a.so" || bad="$bad not-repaired"
	if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
fi

# An application whose entrypoint and a library sit at absolute paths, as in
# an image's root filesystem.
R=$TMP/rootfs
mkdir -p "$R/app" "$R/opt/lib"
printf '#!/bin/sh\necho ran >"$OUT_DIR/ran"\n' >"$R/app/main.sh"
chmod +x "$R/app/main.sh"
printf 'library bytes\n' >"$R/opt/lib/libdemo.so"
printf 'LibOS stand-in\n' >"$R/app/libsysdb.so"
cat >"$TMP/app.manifest" <<'TOML'
[libos]
entrypoint = "/app/main.sh"
[loader]
entrypoint.uri = "file:libsysdb.so"
[loader.env]
OUT_DIR = { passthrough = true }
[fs]
mounts = [{ path = "/app", uri = "file:/app" }]
[sgx]
debug = false
enclave_size = "256M"
max_threads = 4
isvprodid = 1
isvsvn = 1
remote_attestation = "dcap"
trusted_files = ["file:/app/main.sh", "file:/opt/lib/libdemo.so"]
TOML
t=run_sim_root_and_default_pal
bad=""
"$PPML" keygen -o "$TMP/key.pem" >/dev/null 2>&1 && "$PPML" sim init --dir "$TMP/pki" >/dev/null 2>&1 || bad="$bad setup"
# Signed in the root (absolute URIs are measured where the image has them).
(cd "$R/app" && "$PPML" sign -m "$TMP/app.manifest" -o "$R/app/app.manifest.sgx" -s "$R/app/app.sig" \
	-k "$TMP/key.pem" -l "$TMP/a.so" -q --chroot "$R" >/dev/null 2>"$TMP/err") ||
	bad="$bad sign($(cat "$TMP/err"))"
if gramine_installed; then pal=(--libpal "$TMP/a.so"); else pal=(); fi
(cd "$R/app" && OUT_DIR="$TMP" "$PPML" run --sim --root "$R" --manifest app.manifest.sgx --sigfile app.sig \
	"${pal[@]}" --sim-dir "$TMP/pki" >"$TMP/out" 2>"$TMP/err") || bad="$bad run($(tail -2 "$TMP/err"))"
[ -e "$TMP/ran" ] || bad="$bad not-ran"
[ ${#pal[@]} -gt 0 ] || grep -q "stand-in" "$TMP/err" || bad="$bad no-stand-in-note"
# Without --root the absolute files are looked up on the host: refused.
rm -f "$TMP/ran"
(cd "$R/app" && OUT_DIR="$TMP" "$PPML" run --sim --manifest app.manifest.sgx --sigfile app.sig \
	--libpal "$TMP/a.so" --sim-dir "$TMP/pki" >/dev/null 2>"$TMP/err"); rc=$?
[ $rc = 1 ] && [ ! -e "$TMP/ran" ] && grep -q "file:/app/main.sh\|file:/opt/lib/libdemo.so" "$TMP/err" || bad="$bad host-lookup($rc $(cat "$TMP/err"))"
# A library changed inside the root: refused, naming it.
printf 'evil\n' >>"$R/opt/lib/libdemo.so"
(cd "$R/app" && OUT_DIR="$TMP" "$PPML" run --sim --root "$R" --manifest app.manifest.sgx --sigfile app.sig \
	--libpal "$TMP/a.so" --sim-dir "$TMP/pki" >/dev/null 2>"$TMP/err"); rc=$?
[ $rc = 1 ] && [ ! -e "$TMP/ran" ] && grep -q "file:/opt/lib/libdemo.so was modified" "$TMP/err" || bad="$bad tamper($rc $(cat "$TMP/err"))"
"$PPML" run --sim --root "$TMP/nope" --manifest x --sigfile y >/dev/null 2>&1; [ $? = 2 ] || bad="$bad bad-root"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
