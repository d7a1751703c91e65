#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ppml quote show|verify on the real quotes of ../shared/quotes: QVL's verdict,
# --json shape, exit codes, and must-fail twins.
. "$(dirname "$0")/lib.sh"

Q=$PPML_SHARED/quotes

t=quote_help
if "$PPML" quote --help | grep -q 'ppml quote verify QUOTE (--collateral-dir DIR | --pccs-url URL'; then pass $t; else fail $t "no usage"; fi

t=quote_verify_real_json
if need_shared $t; then
	bad=""
	for d in "$Q"/*/; do
		n=$(basename "$d")
		at=$(jq .verification_time_unix "$d/meta.json")
		want=$(jq -r .reference_tcb_evaluation.converged_status "$d/meta.json")
		want_exp=$(jq .qvl_result.collateral_expired "$d/meta.json")
		want_ids=$(jq -c .reference_tcb_evaluation.advisory_ids_supplemental_sa_list "$d/meta.json")
		out=$("$PPML" quote verify "$d/quote.bin" --collateral-dir "$d" --at "$at" --json) || { bad="$bad $n(exit $?)"; continue; }
		got=$(jq -r .tcb_status <<<"$out")
		got_exp=$(jq 'if .collateral_expired then 1 else 0 end' <<<"$out")
		got_ids=$(jq -c .advisory_ids <<<"$out")
		anchor=$(jq -r .trust_anchor <<<"$out")
		mre=$(jq -r .mrenclave <<<"$out")
		[ "$got" = "$want" ] && [ "$got_exp" = "$want_exp" ] && [ "$got_ids" = "$want_ids" ] &&
			[ "$anchor" = intel ] && [ "$mre" = "$(jq -r .report.mrenclave "$d/meta.json")" ] ||
			bad="$bad $n($got/$got_exp/$got_ids/$anchor)"
	done
	if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
fi

t=quote_verify_rfc3339_time_and_text
if need_shared $t; then
	d=$Q/phala_sgx_v3_2023-11
	out=$("$PPML" quote verify "$d/quote.bin" --collateral-dir "$d" --at 2023-12-06T00:22:47Z)
	if grep -q '^tcb_status:   ConfigurationAndSWHardeningNeeded' <<<"$out" &&
		grep -q 'INTEL-SA-00289, INTEL-SA-00615' <<<"$out"; then pass $t; else fail $t "$out"; fi
fi

t=quote_verify_tampered_exit1
if need_shared $t; then
	d=$Q/automata_sgx_v3_f28d_2025-08
	cp "$d/quote.bin" "$TMP/q.bin"
	# Flip one bit of REPORTDATA (offset 48 + 320): the quote signature breaks.
	printf '\x01' | dd of="$TMP/q.bin" bs=1 seek=368 conv=notrunc 2>/dev/null
	"$PPML" quote verify "$TMP/q.bin" --collateral-dir "$d" --at 1755236700 >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc = 1 ] && grep -q 'quote_signature' "$TMP/err" && [ ! -s "$TMP/out" ]; then pass $t
	else fail $t "exit $rc: $(cat "$TMP/err")"; fi
fi

t=quote_verify_truncated_exit3
if need_shared $t; then
	d=$Q/automata_sgx_v3_f28d_2025-08
	head -c 1000 "$d/quote.bin" >"$TMP/short.bin"
	"$PPML" quote verify "$TMP/short.bin" --collateral-dir "$d" --at 1755236700 2>"$TMP/err" >/dev/null
	rc=$?
	if [ $rc = 3 ] && grep -q 'quote_format: quote: .* at offset' "$TMP/err"; then pass $t; else fail $t "exit $rc: $(cat "$TMP/err")"; fi
fi

t=quote_verify_wrong_collateral_exit1
if need_shared $t; then
	"$PPML" quote verify "$Q/phala_sgx_v3_2023-11/quote.bin" --collateral-dir "$Q/automata_sgx_v3_f28d_2025-08" \
		--at 1755236700 2>"$TMP/err" >/dev/null
	rc=$?
	if [ $rc = 1 ] && grep -Eq 'crl|tcb_info_mismatch' "$TMP/err"; then pass $t; else fail $t "exit $rc: $(cat "$TMP/err")"; fi
fi

t=quote_verify_missing_collateral_file
if need_shared $t; then
	mkdir -p "$TMP/coll" && cp "$Q/phala_sgx_v3_2023-11"/* "$TMP/coll/" && rm "$TMP/coll/qe_identity.json"
	"$PPML" quote verify "$Q/phala_sgx_v3_2023-11/quote.bin" --collateral-dir "$TMP/coll" 2>"$TMP/err" >/dev/null
	rc=$?
	if [ $rc = 3 ] && grep -q 'qe_identity.json' "$TMP/err"; then pass $t; else fail $t "exit $rc: $(cat "$TMP/err")"; fi
fi

t=quote_show_json
if need_shared $t; then
	d=$Q/automata_sgx_v3_f28d_2025-08
	out=$("$PPML" quote show "$d/quote.bin" --json)
	if [ "$(jq -r .report_body.mrenclave <<<"$out")" = "$(jq -r .report.mrenclave "$d/meta.json")" ] &&
		[ "$(jq -r .pck.fmspc <<<"$out")" = 00606a000000 ] && [ "$(jq -r .pck.ca <<<"$out")" = platform ] &&
		[ "$(jq .header.version <<<"$out")" = 3 ]; then pass $t; else fail $t "$out"; fi
fi

t=quote_bad_at
"$PPML" quote verify x.bin --collateral-dir . --at yesterday 2>"$TMP/err" >/dev/null
rc=$?
if [ $rc = 2 ] && grep -q 'RFC 3339' "$TMP/err"; then pass $t; else fail $t "exit $rc"; fi

t=quote_verify_pccs_url_same_verdict
if need_shared $t; then
	bad=""
	for d in "$Q"/*/; do
		d=${d%/}
		n=$(basename "$d")
		at=$(jq .verification_time_unix "$d/meta.json")
		pck=$("$PPML" quote show "$d/quote.bin" --json | jq -r '.pck.fmspc + ":" + .pck.ca')
		start_server --collateral "$pck:$d" || { bad="$bad $n(server)"; stop_server; continue; }
		want=$("$PPML" quote verify "$d/quote.bin" --collateral-dir "$d" --at "$at" --json)
		got=$("$PPML" quote verify "$d/quote.bin" --pccs-url "http://127.0.0.1:$PORT" --at "$at" --json) ||
			bad="$bad $n(exit $?)"
		[ -n "$got" ] && [ "$got" = "$want" ] || bad="$bad $n(verdict differs)"
		stop_server
	done
	if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
fi

t=quote_verify_pccs_failures
if need_shared $t; then
	bad=""
	d=$Q/phala_sgx_v3_2023-11
	# FMSPC the server does not know: 404 from the server, exit 3 naming the request.
	start_server --collateral "00906ea10000:processor:$d" || bad="$bad server"
	err=$("$PPML" quote verify "$d/quote.bin" --pccs-url "http://127.0.0.1:$PORT" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 3 ] && grep -q 'tcb' <<<"$err" && grep -q '404' <<<"$err" || bad="$bad unknown-fmspc(rc $rc: $err)"
	stop_server
	# Nothing listening: exit 3.
	"$PPML" quote verify "$d/quote.bin" --pccs-url "http://127.0.0.1:$PORT" 2>/dev/null
	rc=$?; [ $rc = 3 ] || bad="$bad down(rc $rc)"
	# Exactly one collateral source; --cacert only with --pccs-url.
	"$PPML" quote verify "$d/quote.bin" --pccs-url http://127.0.0.1:1 --collateral-dir "$d" 2>/dev/null
	rc=$?; [ $rc = 2 ] || bad="$bad both(rc $rc)"
	"$PPML" quote verify "$d/quote.bin" --collateral-dir "$d" --cacert /etc/hostname 2>/dev/null
	rc=$?; [ $rc = 2 ] || bad="$bad cacert-without-url(rc $rc)"
	if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
fi
