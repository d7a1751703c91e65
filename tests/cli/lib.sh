# SPDX-License-Identifier: Apache-2.0
# Helpers for CLI tests (sourced).  Each test prints PASS/FAIL/SKIP lines.
# Environment from tests/run-tests: PPML (the binary), PPML_ROOT, PPML_SHARED.
set -u
: "${PPML:?run through tests/run-tests}"
TMP=$(mktemp -d)
SRV_PID="" SRV_RC="" PORT=""
trap 'stop_services; stop_server; stop_pg; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT

# start_server ARGS...: starts build/tests/pccs-server (a loopback PCCS) with ARGS,
# sets SRV_PID and PORT; false when it did not come up.
start_server() {
	rm -f "$TMP/port"
	"$PPML_BUILD/tests/pccs-server" --port-file "$TMP/port" "$@" 2>"$TMP/server.err" &
	SRV_PID=$!
	for _ in $(seq 1 200); do
		[ -s "$TMP/port" ] && break
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.02
	done
	PORT=$(cat "$TMP/port" 2>/dev/null)
	[ -n "$PORT" ]
}

# stop_server: SIGTERM and wait; SRV_RC is its exit status.
stop_server() {
	if [ -n "$SRV_PID" ]; then
		kill -TERM "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
		SRV_RC=$?
		SRV_PID=""
	fi
}

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# need_shared NAME: true when ../shared is present; otherwise prints SKIP (or FAIL under CI).
need_shared() {
	if [ -d "$PPML_SHARED" ]; then return 0; fi
	if [ "${CI:-}" = true ]; then fail "$1" "$PPML_SHARED missing and CI=true"; else skip "$1" "../shared is absent"; fi
	return 1
}

# copy_vector NAME DIR [SET]: a writable copy of a vector of SET (default gramine-v1.9), with v11's
# symlinks restored (the shared copy stores them as text files holding the target) and v12's big file
# generated.
copy_vector() {
	rm -rf "$2" && cp -r "$PPML_SHARED/vectors/${3:-gramine-v1.9}/$1" "$2" && chmod -R u+w "$2" || return 1
	rm -f "$2/app.manifest.sgx" "$2/app.sig"
	if [ "$1" = v11_trusted_dir ]; then
		(cd "$2/files/model" && rm linked_dir link-to-config.json &&
			ln -s ../other linked_dir && ln -s ../other/config.json link-to-config.json)
	fi
	if [ -f "$2/GENERATE.txt" ]; then
		# Lines "PATH=p SIZE=n SHA256=h NAME=l": read as data, never evaluated.
		grep '^PATH=' "$2/GENERATE.txt" | while read -r f_path f_size f_sha f_name; do
			f_path=${f_path#PATH=} f_size=${f_size#SIZE=} f_sha=${f_sha#SHA256=} f_name=${f_name#NAME=}
			openssl enc -aes-128-ctr -K "$(printf %s "$f_name" | sha256sum | cut -c1-32)" \
				-iv 00000000000000000000000000000000 -nosalt -in /dev/zero 2>/dev/null |
				head -c "$f_size" >"$2/$f_path"
			echo "$f_sha  $2/$f_path" | sha256sum -c --quiet || return 1
		done
	fi
}


# A throwaway PostgreSQL for the store and service tests (Debian's
# postgresql package): start_pg NAME initialises a cluster in a temporary
# directory owned by the user postgres (initdb refuses root; as another user
# it runs as that user), listening on 127.0.0.1 only, on a free port, with its
# unix sockets in that directory, and creates the database ppmltest.  Sets
# PG_URL (postgresql://postgres@127.0.0.1:PORT/ppmltest), PG_PORT, PG_DIR and
# PG_BIN.  When the binaries are missing it prints SKIP NAME (FAIL under
# CI=true) and returns 1.  stop_pg stops it (pg_ctl stop -m fast) and removes
# the directory; the EXIT trap calls it.  pg_down / pg_up stop and restart the
# same cluster on the same port (a database outage).
PG_DIR="" PG_PORT="" PG_URL="" PG_BIN="" PG_AS=()
pg_find_bin() {
	local d
	for d in ${PPML_PG_BIN:-} /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ] && { echo "$d"; return 0; }
	done
	return 1
}
pg_ctl_() { "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" "$@"; }
pg_up() {
	pg_ctl_ -l "$PG_DIR/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=300" \
		start >>"$PG_DIR/ctl.log" 2>&1
}
pg_down() { pg_ctl_ -w -t 60 -m fast stop >>"$PG_DIR/ctl.log" 2>&1; }
start_pg() {
	local name=${1:-postgresql} try
	if ! PG_BIN=$(pg_find_bin); then
		if [ "${CI:-}" = true ]; then
			fail "$name" "PostgreSQL (initdb, pg_ctl, psql) is not installed and CI=true (scripts/install-deps installs it)"
		else
			skip "$name" "PostgreSQL is not installed (scripts/install-deps installs it)"
		fi
		return 1
	fi
	PG_AS=()
	if [ "$(id -u)" = 0 ]; then
		if ! id postgres >/dev/null 2>&1 || ! command -v runuser >/dev/null; then
			fail "$name" "running as root without a user postgres or runuser"
			return 1
		fi
		PG_AS=(runuser -u postgres --)
	fi
	PG_DIR=$(mktemp -d /tmp/ppml-pg.XXXXXX) || return 1
	[ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
	chmod 700 "$PG_DIR"
	if ! "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
		--no-locale --no-sync >"$PG_DIR/initdb.log" 2>&1; then
		fail "$name" "initdb: $(tail -3 "$PG_DIR/initdb.log" | tr '\n' ' ')"
		stop_pg
		return 1
	fi
	# A free port, asked of the kernel; another process may take it before
	# the server binds, hence three tries.
	for try in 1 2 3; do
		PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		pg_up && break
		PG_PORT=""
	done
	if [ -z "$PG_PORT" ]; then
		fail "$name" "pg_ctl start: $(tail -3 "$PG_DIR/server.log" 2>/dev/null | tr '\n' ' ')"
		stop_pg
		return 1
	fi
	PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/ppmltest"
	if ! pg_sql "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" "CREATE DATABASE ppmltest" >/dev/null; then
		fail "$name" "CREATE DATABASE"
		stop_pg
		return 1
	fi
	export PG_URL
}
stop_pg() {
	[ -n "$PG_DIR" ] || return 0
	[ -f "$PG_DIR/data/postmaster.pid" ] && pg_down
	rm -rf "$PG_DIR"
	PG_DIR="" PG_PORT="" PG_URL=""
}
# pg_sql URL SQL: runs SQL, prints the rows unaligned; false on an error.
pg_sql() { "$PG_BIN/psql" "$1" -X -q -A -t -v ON_ERROR_STOP=1 -c "$2" 2>>"$TMP/psql.err"; }

# With PPML_TEST_DB set to a PostgreSQL URL (test_serve_pg.sh sets it), the
# service tests run on PostgreSQL: db_args DIR prints "--db URL" of a database
# of its own for the state dir DIR (created on first use, so a restart finds
# its data, as with SQLite in DIR); without it, nothing (sqlite:DIR/ppml.db).
db_args() {
	[ -n "${PPML_TEST_DB:-}" ] || return 0
	local db
	db=ppml_$(printf '%s' "$1" | sha256sum | cut -c1-16)
	if ! grep -qx "$db" "$TMP/pg-dbs" 2>/dev/null; then
		PG_BIN=${PG_BIN:-$(pg_find_bin)}
		pg_sql "$PPML_TEST_DB" "CREATE DATABASE $db" >/dev/null || { echo "db_args: CREATE DATABASE $db failed" >&2; return 1; }
		echo "$db" >>"$TMP/pg-dbs"
	fi
	echo "--db ${PPML_TEST_DB%/*}/$db"
}

# ppml serve instances for service tests: serve NAME ARGS... starts one on a
# loopback port with state in $S (plain HTTP unless --tls-cert, no metrics
# unless --metrics-listen) and sets URL_NAME and PID_NAME; stop_services
# stops them all (also on exit).
SVC_PIDS=""
stop_services() { for p in $SVC_PIDS; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; SVC_PIDS=""; }

# serve NAME ARGS...: starts ppml serve in the background; sets URL_<NAME>.
# Its database is that of the state dir $S, or of $DB_DIR when set (db_args).
serve() {
	local name=$1; shift
	local extra=()
	rm -f "$TMP/$name.port"
	case " $* " in *" --metrics-listen "*) ;; *) extra+=(--metrics-listen off) ;; esac
	case " $* " in *" --tls-cert "*) ;; *) extra+=(--insecure-http) ;; esac
	# shellcheck disable=SC2046 # db_args prints "--db URL" or nothing
	"$PPML" serve --state-dir "$S" $(db_args "${DB_DIR:-$S}") --listen 127.0.0.1:0 --port-file "$TMP/$name.port" "${extra[@]}" "$@" \
		2>>"$TMP/$name.log" &
	local pid=$!
	SVC_PIDS="$SVC_PIDS $pid"
	eval "PID_$name=$pid"
	for _ in $(seq 1 250); do [ -s "$TMP/$name.port" ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.02; done
	[ -s "$TMP/$name.port" ] || { echo "serve $name did not start: $(cat "$TMP/$name.log")" >&2; return 1; }
	eval "URL_$name=http://127.0.0.1:$(cat "$TMP/$name.port")"
}

# flaky_proxy MODE UPSTREAM: tests/tools/flaky-proxy.py in front of UPSTREAM
# (MODE 503 or resend: the first attest or release POST fails that way);
# sets FLAKY_URL and FLAKY_LOG (one "METHOD PATH STATUS" line a request).
# stop_services stops it.
flaky_proxy() {
	FLAKY_LOG=$TMP/flaky-$1.log
	rm -f "$TMP/flaky.port" "$FLAKY_LOG"
	python3 "$PPML_ROOT/tests/tools/flaky-proxy.py" "$1" "$2" "$TMP/flaky.port" "$FLAKY_LOG" 2>>"$TMP/flaky.err" &
	SVC_PIDS="$SVC_PIDS $!"
	for _ in $(seq 1 100); do [ -s "$TMP/flaky.port" ] && break; sleep 0.05; done
	[ -s "$TMP/flaky.port" ] || return 1
	FLAKY_URL=http://127.0.0.1:$(cat "$TMP/flaky.port")
}

# sign_in DIR INPUT [extra args]: ppml sign in DIR (a vector copy) with the vector's pinned date.
sign_in() {
	local d=$1 in=$2 date; shift 2
	date=$(sed -n 's/.*"sign_date": "\([0-9-]*\)".*/\1/p' "$d/expected.json")
	(cd "$d" && "$PPML" sign --manifest "$in" --output app.manifest.sgx --sigfile app.sig \
		--key key.pem --libpal libpal.so --date "${date:-2024-12-31}" --quiet "$@")
}

# signed_like LABEL DIR VDIR OUT ERR RC: judges a sign_in run (its exit status RC, stdout in OUT,
# stderr in ERR): DIR's outputs must be VDIR's byte for byte and OUT must print its MRENCLAVE.
# Prints PASS or FAIL LABEL; true on PASS.
signed_like() {
	local label=$1 d=$2 v=$3 out=$4 errf=$5 rc=$6
	if [ "$rc" -ne 0 ]; then
		fail "$label" "exit $rc: $(head -c 300 "$errf")"
	elif ! cmp -s "$d/app.manifest.sgx" "$v/app.manifest.sgx"; then
		fail "$label" "app.manifest.sgx differs from Gramine's"
	elif ! cmp -s "$d/app.sig" "$v/app.sig"; then
		fail "$label" "app.sig differs from Gramine's"
	elif ! grep -q "^MRENCLAVE: $(sed -n 's/.*"mrenclave": "\([0-9a-f]*\)".*/\1/p' "$v/expected.json")\$" "$out"; then
		fail "$label" "printed MRENCLAVE is not the expected one"
	else
		pass "$label"
		return 0
	fi
	return 1
}

# sim_pal DIR: a stand-in PAL (libpal.so, built with cc) and LibOS
# (libsysdb.so) in DIR, for signing and `ppml run --sim` without Gramine.
sim_pal() {
	echo 'int ppml_test_pal[1024] = {1};' | ${CC:-cc} -shared -fPIC -O2 -x c -o "$1/libpal.so" - &&
		printf 'LibOS stand-in\n' >"$1/libsysdb.so"
}
