# SPDX-License-Identifier: Apache-2.0
# Helpers for CLI tests (sourced).  Each test prints PASS/FAIL/SKIP lines.
# Environment from tests/run-tests: PPML (the binary), PPML_ROOT, PPML_SHARED.
set -u
: "${PPML:?run through tests/run-tests}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# need_shared NAME: true when ../shared is present; otherwise prints SKIP (or FAIL under CI).
need_shared() {
	if [ -d "$PPML_SHARED" ]; then return 0; fi
	if [ "${CI:-}" = true ]; then fail "$1" "$PPML_SHARED missing and CI=true"; else skip "$1" "../shared is absent"; fi
	return 1
}
