#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ppml collateral fetch against build/tests/pccs-server on loopback, serving the
# real collateral of ../shared/quotes: byte-identical folders, --quote, --json,
# failures (exit 3, a clear message, nothing written) and usage errors (exit 2).
. "$(dirname "$0")/lib.sh"

Q=$PPML_SHARED/quotes
# ca_of DIR: processor|platform from meta.json's PCK issuer; fmspc_of DIR: from tcb_info.json.
ca_of() { case $(jq -r .pck.ca "$1/meta.json") in *Platform*) echo platform ;; *) echo processor ;; esac; }
fmspc_of() { jq -r .tcbInfo.fmspc "$1/tcb_info.json" | tr 'A-F' 'a-f'; }

FILES="tcb_info.json tcb_info_issuer_chain.pem qe_identity.json qe_identity_issuer_chain.pem
pck_crl.der pck_crl_issuer_chain.pem root_ca_crl.der"

# same_files A B: every collateral file byte-identical, nothing else in B.
same_files() {
	for f in $FILES; do cmp -s "$1/$f" "$2/$f" || { echo "$f differs"; return 1; }; done
	[ "$(ls "$2" | wc -l)" = 7 ] || { echo "$(ls "$2" | wc -l) entries in $2"; return 1; }
}

t=collateral_help
if "$PPML" collateral fetch --help | grep -q 'ppml collateral fetch --pccs-url URL' &&
	"$PPML" help collateral | grep -q -- '--fmspc HEX'; then pass $t; else fail $t "no usage"; fi

t=collateral_usage_errors_exit2
bad=""
"$PPML" collateral fetch --out "$TMP/u" --fmspc 00a067110000 --ca processor 2>/dev/null; [ $? = 2 ] || bad="$bad no-url"
"$PPML" collateral fetch --pccs-url http://127.0.0.1:1 --fmspc 00a067110000 --ca processor 2>/dev/null; [ $? = 2 ] || bad="$bad no-out"
"$PPML" collateral fetch --pccs-url http://127.0.0.1:1 --fmspc 00a0671100 --ca processor --out "$TMP/u" 2>/dev/null; [ $? = 2 ] || bad="$bad short-fmspc"
"$PPML" collateral fetch --pccs-url http://127.0.0.1:1 --fmspc 00a067110000 --ca Platform --out "$TMP/u" 2>/dev/null; [ $? = 2 ] || bad="$bad bad-ca"
"$PPML" collateral fetch --pccs-url http://127.0.0.1:1 --quote q.bin --fmspc 00a067110000 --out "$TMP/u" 2>/dev/null; [ $? = 2 ] || bad="$bad quote+fmspc"
"$PPML" collateral fetch --pccs-url ftp://h --fmspc 00a067110000 --ca processor --out "$TMP/u" 2>/dev/null; [ $? = 2 ] || bad="$bad ftp"
"$PPML" collateral pull 2>/dev/null; [ $? = 2 ] || bad="$bad subcommand"
[ ! -e "$TMP/u" ] || bad="$bad wrote-output"
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=collateral_fetch_real_byte_identical
if need_shared $t; then
	bad=""
	for d in "$Q"/*/; do
		d=${d%/}
		n=$(basename "$d")
		fm=$(fmspc_of "$d") ca=$(ca_of "$d")
		start_server --collateral "$fm:$ca:$d" || { bad="$bad $n(server)"; stop_server; continue; }
		"$PPML" collateral fetch --pccs-url "http://127.0.0.1:$PORT" --fmspc "$fm" --ca "$ca" \
			--out "$TMP/out-$n" >"$TMP/stdout" 2>"$TMP/stderr" || bad="$bad $n(exit $?: $(cat "$TMP/stderr"))"
		why=$(same_files "$d" "$TMP/out-$n") || bad="$bad $n($why)"
		[ ! -s "$TMP/stdout" ] || bad="$bad $n(stdout without --json)"
		grep -q "wrote 7 files to $TMP/out-$n" "$TMP/stderr" || bad="$bad $n(no progress)"
		stop_server
		[ "$SRV_RC" = 0 ] || bad="$bad $n(server exit $SRV_RC)"
	done
	if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
fi

t=collateral_fetch_quote_json_and_verify
if need_shared $t; then
	d=$Q/automata_sgx_v3_f28d_2025-08
	start_server --collateral "$(fmspc_of "$d"):$(ca_of "$d"):$d" --stats-file "$TMP/stats"
	out=$("$PPML" collateral fetch --pccs-url "http://127.0.0.1:$PORT/" --quote "$d/quote.bin" \
		--out "$TMP/q" --json 2>"$TMP/stderr")
	rc=$?
	stop_server
	want_sha=$(sha256sum "$d/pck_crl.der" | cut -d' ' -f1)
	at=$(jq .verification_time_unix "$d/meta.json")
	if [ $rc = 0 ] && [ "$(jq -r .ca <<<"$out")" = platform ] &&
		[ "$(jq -r .fmspc <<<"$out")" = "$(fmspc_of "$d")" ] &&
		[ "$(jq -r '.files["pck_crl.der"].sha256' <<<"$out")" = "$want_sha" ] &&
		[ "$(jq '.files | length' <<<"$out")" = 7 ] &&
		same_files "$d" "$TMP/q" >/dev/null &&
		grep -qx 'tcb 1' "$TMP/stats" && grep -qx 'pckcrl 1' "$TMP/stats" &&
		"$PPML" quote verify "$d/quote.bin" --collateral-dir "$TMP/q" --at "$at" >/dev/null
	then pass $t; else fail $t "rc=$rc $out $(cat "$TMP/stderr" "$TMP/stats")"; fi
fi

t=collateral_fetch_failure_exit3_nothing_written
if need_shared $t; then
	d=$Q/phala_sgx_v3_2023-11
	fm=$(fmspc_of "$d")
	bad=""
	start_server --collateral "$fm:processor:$d" --fail-status 503
	"$PPML" collateral fetch --pccs-url "http://127.0.0.1:$PORT" --fmspc "$fm" --ca processor \
		--out "$TMP/f1" >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	stop_server
	[ $rc = 3 ] || bad="$bad 503:exit=$rc"
	grep -q "GET /sgx/certification/v4/tcb?fmspc=$fm: HTTP 503" "$TMP/stderr" || bad="$bad 503:msg=$(cat "$TMP/stderr")"
	[ ! -e "$TMP/f1" ] && [ ! -s "$TMP/stdout" ] || bad="$bad 503:wrote"

	# TCB info and QE identity succeed, the platform PCK CRL is unknown: still nothing written
	start_server --collateral "$fm:processor:$d"
	"$PPML" collateral fetch --pccs-url "http://127.0.0.1:$PORT" --fmspc "$fm" --ca platform \
		--out "$TMP/f2" 2>"$TMP/stderr"
	rc=$?
	[ $rc = 3 ] || bad="$bad 404:exit=$rc"
	grep -q 'pckcrl?ca=platform&encoding=der: HTTP 404' "$TMP/stderr" || bad="$bad 404:msg=$(cat "$TMP/stderr")"
	[ ! -e "$TMP/f2" ] || bad="$bad 404:wrote"

	# an existing folder keeps its old files when a fetch fails
	mkdir "$TMP/f3" && echo old >"$TMP/f3/tcb_info.json"
	"$PPML" collateral fetch --pccs-url "http://127.0.0.1:$PORT" --fmspc 112233445566 --ca processor \
		--out "$TMP/f3" 2>/dev/null
	rc=$?
	[ $rc = 3 ] && [ "$(cat "$TMP/f3/tcb_info.json")" = old ] && [ "$(ls "$TMP/f3" | wc -l)" = 1 ] || bad="$bad kept:exit=$rc"
	stop_server

	# nobody listens on the port any more
	"$PPML" collateral fetch --pccs-url "http://127.0.0.1:$PORT" --fmspc "$fm" --ca processor \
		--out "$TMP/f4" 2>"$TMP/stderr"
	rc=$?
	[ $rc = 3 ] && grep -q 'check the PCCS URL' "$TMP/stderr" && [ ! -e "$TMP/f4" ] || bad="$bad down:exit=$rc"
	if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
fi

t=collateral_fetch_timeout
if need_shared $t; then
	d=$Q/phala_sgx_v3_2023-11
	start_server --collateral "$(fmspc_of "$d"):processor:$d" --delay-ms 2500
	"$PPML" collateral fetch --pccs-url "http://127.0.0.1:$PORT" --fmspc "$(fmspc_of "$d")" --ca processor \
		--timeout 1 --out "$TMP/t" 2>"$TMP/stderr"
	rc=$?
	stop_server
	if [ $rc = 3 ] && grep -qi 'timed out' "$TMP/stderr" && [ ! -e "$TMP/t" ]; then pass $t
	else fail $t "rc=$rc $(cat "$TMP/stderr")"; fi
fi

t=collateral_fetch_https_verifies_server
if need_shared $t; then
	d=$Q/phala_sgx_v3_2023-11
	fm=$(fmspc_of "$d")
	bad=""
	for n in srv other; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-keyout "$TMP/$n.key" -out "$TMP/$n.pem" -subj /CN=127.0.0.1 \
			-addext subjectAltName=IP:127.0.0.1 2>/dev/null || bad="$bad openssl-$n"
	done
	start_server --collateral "$fm:processor:$d" --tls-cert "$TMP/srv.pem" --tls-key "$TMP/srv.key" || bad="$bad server"
	fetch_https() { # HOST OUT [ARGS]
		local host=$1 out=$2; shift 2
		"$PPML" collateral fetch --pccs-url "https://$host:$PORT" --fmspc "$fm" --ca processor \
			--out "$TMP/$out" "$@" 2>"$TMP/stderr"
	}
	fetch_https 127.0.0.1 h1 --cacert "$TMP/srv.pem" && same_files "$d" "$TMP/h1" >/dev/null || bad="$bad trusted($(cat "$TMP/stderr"))"
	fetch_https 127.0.0.1 h2; rc=$?
	[ $rc = 3 ] && grep -q 'certificate' "$TMP/stderr" && [ ! -e "$TMP/h2" ] || bad="$bad system-store:exit=$rc"
	fetch_https 127.0.0.1 h3 --cacert "$TMP/other.pem"; rc=$?
	[ $rc = 3 ] && [ ! -e "$TMP/h3" ] || bad="$bad other-ca:exit=$rc"
	fetch_https localhost h4 --cacert "$TMP/srv.pem"; rc=$?
	[ $rc = 3 ] && grep -q 'localhost' "$TMP/stderr" && [ ! -e "$TMP/h4" ] || bad="$bad wrong-host:exit=$rc"
	stop_server
	if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi
fi
