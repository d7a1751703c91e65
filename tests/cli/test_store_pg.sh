#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The store on a real PostgreSQL: starts a throwaway cluster (start_pg in
# lib.sh: Debian's postgresql, a non-root user, a temporary data directory, a
# loopback port) and runs the unit binary test_store with PPML_TEST_PG_URL
# set, so its pg_* cases run instead of skipping: every store case, two
# handles racing 8 threads for the same nonces (one consumer each),
# concurrent audit appends forming one linear chain, concurrent migrations.
# Its PASS/FAIL lines are this test's, prefixed "pg:".
. "$(dirname "$0")/lib.sh"

start_pg store_pg || exit 0
PPML_TEST_PG_URL=$PG_URL timeout 300 "$PPML_BUILD/tests/unit/test_store" >"$TMP/out" 2>"$TMP/err"
rc=$?
# Only the cases that need PostgreSQL: the others run in test_store itself.
grep -E '^(PASS|FAIL|SKIP) pg_' "$TMP/out" | sed -E 's/^(PASS|FAIL|SKIP) /\1 pg:/'
n=$(grep -cE '^PASS pg_' "$TMP/out")
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$TMP/out"; then
	fail store_pg "test_store exited with status $rc: $(tail -5 "$TMP/err" | tr '\n' ' ')"
elif grep -qE '^SKIP pg_' "$TMP/out"; then
	fail store_pg "pg_* cases skipped with PPML_TEST_PG_URL set"
elif [ "$n" -lt 7 ]; then
	fail store_pg "only $n pg_* cases passed"
fi
