#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ppml serve on PostgreSQL as production runs it: TLS with the server's
# certificate verified (sslmode=verify-full against our own CA, IP SAN
# 127.0.0.1) and a password-authenticated role (scram-sha-256, password from
# PGPASSWORD, never in the URL).  The cluster refuses the role without TLS.
# Refused as they should be: another CA, TLS off, a wrong password (which no
# message quotes).
. "$(dirname "$0")/lib.sh"

start_pg pg_tls || exit 0
C=$PG_DIR/tls
mkdir -p "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ppml-test-ca \
	-keyout "$C/ca.key" -out "$C/ca.pem" 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
		-keyout "$C/server.key" -out "$C/server.csr" 2>/dev/null &&
	printf 'subjectAltName = IP:127.0.0.1\n' >"$C/ext" &&
	openssl x509 -req -in "$C/server.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
		-days 2 -extfile "$C/ext" -out "$C/server.pem" 2>/dev/null &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=other-ca \
		-keyout "$C/other.key" -out "$C/other.pem" 2>/dev/null ||
	{ fail pg_tls_setup "openssl"; exit 0; }
[ "$(id -u)" = 0 ] && chown -R postgres: "$C"
chmod 600 "$C/server.key"
PW=$(openssl rand -hex 16)
pg_sql "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" "CREATE ROLE ppml LOGIN PASSWORD '$PW'" >/dev/null &&
	pg_sql "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" "CREATE DATABASE ppmltls OWNER ppml" >/dev/null ||
	{ fail pg_tls_setup "role"; exit 0; }
# TLS on; the role only over TLS with its password; postgres (the test's own
# administration) as before.
cat >>"$PG_DIR/data/postgresql.conf" <<EOF
ssl = on
ssl_cert_file = '$C/server.pem'
ssl_key_file = '$C/server.key'
password_encryption = 'scram-sha-256'
EOF
cat >"$PG_DIR/data/pg_hba.conf" <<'EOF'
local     all  postgres                 trust
hostssl   all  ppml      127.0.0.1/32   scram-sha-256
host      all  ppml      127.0.0.1/32   reject
host      all  postgres  127.0.0.1/32   trust
EOF
pg_down && pg_up || { fail pg_tls_setup "restart: $(tail -3 "$PG_DIR/server.log")"; exit 0; }

DB="postgresql://ppml@127.0.0.1:$PG_PORT/ppmltls"
S=$TMP/state
"$PPML" sim init --dir "$TMP/pki" >/dev/null 2>&1 || fail pg_tls_setup "sim init"
COLL=(--collateral-dir "$TMP/pki/collateral" --sim-root-ca "$TMP/pki/root.pem")

t=pg_tls_verify_full_with_password
bad=""
export PGPASSWORD=$PW
"$PPML" serve --init --state-dir "$S" --db "$DB?sslmode=verify-full&sslrootcert=$C/ca.pem" >"$TMP/admin.cred" 2>"$TMP/err" ||
	bad="$bad init($(cat "$TMP/err"))"
serve main "${COLL[@]}" --db "$DB?sslmode=verify-full&sslrootcert=$C/ca.pem" || bad="$bad start"
if [ -z "$bad" ]; then
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL_main/healthz")" = 200 ] || bad="$bad healthz"
	printf 'identities = [{ mrenclave = "%s" }]\nallow_simulation = true\n' "$(printf 'cd%.0s' $(seq 1 32))" >"$TMP/p.toml"
	"$PPML" policy put tls "$TMP/p.toml" --service "$URL_main" --credential-file "$TMP/admin.cred" >/dev/null 2>&1 || bad="$bad policy"
	n=$(curl -s -X POST "$URL_main/v1/attest/nonce" | jq -r .nonce)
	rd=$( { printf 'ppml-attest-v1\0'; printf '\x00\x00\x00\x40'; printf '%s' "$n" | base64 -d; printf '\x00\x00\x00\x00'; } | sha256sum | cut -c1-64)
	"$PPML" sim quote --dir "$TMP/pki" --report-data "$rd" --mrenclave "$(printf 'cd%.0s' $(seq 1 32))" --out "$TMP/q.bin" 2>/dev/null || bad="$bad quote"
	code=$(curl -s -o "$TMP/a.json" -w '%{http_code}' -X POST "$URL_main/v1/attest" \
		-d "{\"quote\":\"$(base64 -w0 "$TMP/q.bin")\",\"nonce\":\"$n\",\"policy\":\"tls\"}")
	[ "$code" = 200 ] && jq -e '.result == "accepted"' "$TMP/a.json" >/dev/null || bad="$bad attest($code)"
	# The server saw TLS from the service's connections.
	ssl=$(pg_sql "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" \
		"SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'ppml' AND s.ssl")
	[ "${ssl:-0}" -gt 0 ] || bad="$bad no-tls-connections($ssl)"
fi
stop_services
grep -q "$PW" "$TMP"/*.log "$TMP/err" 2>/dev/null && bad="$bad password-in-log"
[ -z "$bad" ] && pass $t || fail $t "$bad"

# start_refused NAME DB-URL WANT: ppml serve must not start with DB-URL, its
# message matching WANT and never quoting the password.
start_refused() {
	local name=$1 url=$2 want=$3 pid rc
	"$PPML" serve --state-dir "$S" "${COLL[@]}" --db "$url" --listen 127.0.0.1:0 --insecure-http \
		--metrics-listen off >/dev/null 2>"$TMP/$name.err" &
	pid=$!
	for _ in $(seq 1 200); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
	if kill -0 $pid 2>/dev/null; then
		kill $pid; wait $pid 2>/dev/null
		fail "$name" "the service started"
		return
	fi
	wait $pid; rc=$?
	if [ $rc -ne 0 ] && grep -qi -- "$want" "$TMP/$name.err" && ! grep -q "$PW" "$TMP/$name.err"; then
		pass "$name"
	else
		fail "$name" "rc=$rc: $(cat "$TMP/$name.err")"
	fi
}
start_refused pg_tls_other_ca_refused "$DB?sslmode=verify-full&sslrootcert=$C/other.pem" "certificate verify failed"
start_refused pg_tls_off_refused "$DB?sslmode=disable" "no encryption\|rejects connection\|pg_hba.conf"
PGPASSWORD=wrong-$PW start_refused pg_tls_wrong_password_refused "$DB?sslmode=verify-full&sslrootcert=$C/ca.pem" "password authentication failed"
