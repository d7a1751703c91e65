/* SPDX-License-Identifier: Apache-2.0 */
/* The PostgreSQL backend of ppml/store.h (libpq), for several `ppml serve`
 * replicas sharing one database.
 *
 * A fixed pool of PPML_STORE_PG_POOL connections, each lent to one thread
 * at a time (libpq connections are not shared between threads); connected
 * on first use, replaced when broken.  Every session runs with
 * synchronous_commit on, and every write is its own committed transaction
 * before PPML_OK.  What must stay right across replicas is decided by the
 * server, not by this process: nonces by the primary key (INSERT ... ON
 * CONFLICT DO NOTHING, one row inserted = the one consumer), audit appends
 * and policy versions by transaction-scoped advisory locks, key rotations
 * by a compare-and-set UPDATE.
 *
 * The connection URI may hold a password: it is never put in a message;
 * messages name the database as postgresql://USER@HOST:PORT/DBNAME, built
 * from the parsed fields. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "internal.h"
#include "ppml/hex.h"
#include "ppml/limits.h"
#include "ppml/store.h"

/* pg_advisory_xact_lock(key1, key2) keys: key1 is "ppml" (0x70706d6c),
 * key2 what the lock serialises.  Transaction-scoped: released by COMMIT or
 * ROLLBACK, and by the server when the client dies. */
#define LOCK_MIGRATE "SELECT pg_advisory_xact_lock(1886416236, 1)"
#define LOCK_POLICY "SELECT pg_advisory_xact_lock(1886416236, 2)"
#define LOCK_AUDIT "SELECT pg_advisory_xact_lock(1886416236, 3)"

/* Version N's statements are MIGRATIONS[N]; the schema_version table
 * records every version applied. */
static const char *const MIGRATION_1[] = {
	"CREATE TABLE policies (name text NOT NULL, version bigint NOT NULL, body text NOT NULL, "
	"sha256 text NOT NULL, created_at bigint NOT NULL, deleted boolean NOT NULL DEFAULT "
	"false, PRIMARY KEY (name, version))",
	"CREATE TABLE credentials (id text PRIMARY KEY, sha256 bytea NOT NULL UNIQUE, role text "
	"NOT NULL, created_at bigint NOT NULL, revoked_at bigint)",
	"CREATE TABLE nonces (sha256 bytea PRIMARY KEY, expires_at bigint NOT NULL)",
	"CREATE INDEX nonces_expiry ON nonces (expires_at)",
	"CREATE TABLE audit (seq bigint PRIMARY KEY, time bigint NOT NULL, kind text NOT NULL, "
	"body text NOT NULL, prev_hash bytea NOT NULL, hash bytea NOT NULL)",
	"CREATE TABLE keys (name text PRIMARY KEY, type text NOT NULL, state text NOT NULL, "
	"release_policy text NOT NULL, version bigint NOT NULL, created_at bigint NOT NULL)",
	"CREATE TABLE key_versions (name text NOT NULL, version bigint NOT NULL, wrapped bytea "
	"NOT NULL, created_at bigint NOT NULL, PRIMARY KEY (name, version))",
	"CREATE TABLE checkpoints (id bigserial PRIMARY KEY, seq bigint NOT NULL, hash bytea NOT "
	"NULL, time bigint NOT NULL, kid text NOT NULL, signature text NOT NULL)",
	NULL,
};
static const char *const *const MIGRATIONS[] = {NULL, MIGRATION_1};
_Static_assert(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0]) == PPML_STORE_SCHEMA_VERSION + 1,
	       "one migration per schema version");

#define SQLSTATE_UNIQUE_VIOLATION "23505"

/* How long a consumed nonce's row outlives its expiry: the clock skew
 * between replicas that stays safe (see pg_nonce_consume). */
#define NONCE_PURGE_GRACE_S 600

struct pg_store {
	struct ppml_store base;
	char *url;                         /* may hold a password: never in a message */
	char where[400];                   /* postgresql://USER@HOST:PORT/DBNAME */
	pthread_mutex_t lock;
	pthread_cond_t freed;              /* a connection was given back */
	PGconn *conns[PPML_STORE_PG_POOL];
	bool busy[PPML_STORE_PG_POOL];
	_Atomic int64_t last_purge;        /* expired nonces: at most one purge a second */
};

/* One connection lent to one call. */
struct lease {
	struct pg_store *s;
	unsigned slot;
	PGconn *c;
};

static const struct ppml_store_ops PG_OPS;
static void withhold_password(const struct pg_store *s, struct ppml_err *err);

static struct pg_store *pg(struct ppml_store *b)
{
	return (struct pg_store *)b;
}

/* libpq prints server notices on stderr by default; the library never prints. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* The first line of libpq's message for r (or for the connection). */
static ppml_status dberr(struct lease *l, const PGresult *r, struct ppml_err *err,
			 const char *what)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!m || !*m)
		m = l->c ? PQerrorMessage(l->c) : "";
	if (!*m)
		m = r ? PQresStatus(PQresultStatus(r)) : "no connection";
	return ppml_err_set(err, PPML_E_IO, "database: %s: %.*s", what, (int)strcspn(m, "\n"), m);
}

static bool is_unique_violation(const PGresult *r)
{
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	return st && !strcmp(st, SQLSTATE_UNIQUE_VIOLATION);
}

/* Replaces the lease's connection with a new one.  The defaults below come
 * before the URI, which overrides them; synchronous_commit is set after
 * connecting, whatever the URI or the server says: an acknowledged write
 * must be flushed.  On failure l->c is the failed connection (for its
 * message) or NULL. */
static ppml_status reconnect(struct lease *l, struct ppml_err *err)
{
	static const char *const keys[] = {"connect_timeout", "application_name", "keepalives_idle",
					   "keepalives_interval", "keepalives_count", "dbname",
					   NULL};
	const char *vals[] = {"10", "ppml-serve", "30", "10", "3", l->s->url, NULL};
	PQfinish(l->c);
	if (!(l->c = PQconnectdbParams(keys, vals, 1)))
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	if (PQstatus(l->c) != CONNECTION_OK) {
		ppml_status rc = dberr(l, NULL, err, "connect");
		withhold_password(l->s, err);
		return rc;
	}
	PQsetNoticeProcessor(l->c, quiet, NULL);
	PGresult *r = PQexec(l->c, "SET synchronous_commit TO on");
	ppml_status rc = PQresultStatus(r) == PGRES_COMMAND_OK
				 ? PPML_OK
				 : dberr(l, r, err, "SET synchronous_commit");
	PQclear(r);
	if (rc != PPML_OK) {
		PQfinish(l->c);
		l->c = NULL;
	}
	return rc;
}

static void give_back(struct lease *l)
{
	struct pg_store *s = l->s;
	if (l->c && PQstatus(l->c) == CONNECTION_OK &&
	    PQtransactionStatus(l->c) != PQTRANS_IDLE) {
		PQclear(PQexec(l->c, "ROLLBACK"));
	}
	if (l->c &&
	    (PQstatus(l->c) != CONNECTION_OK || PQtransactionStatus(l->c) != PQTRANS_IDLE)) {
		PQfinish(l->c);
		l->c = NULL;
	}
	pthread_mutex_lock(&s->lock);
	s->conns[l->slot] = l->c;
	s->busy[l->slot] = false;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
	l->c = NULL;
}

/* An idle connection receives nothing unless the server is going away (a
 * restart sends an error, then closes): input waiting on one means it is
 * replaced before use, so that a write, which is not retried, does not fail
 * on it.  One poll, no round trip. */
static bool idle_and_quiet(PGconn *c)
{
	struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
	return p.fd >= 0 && poll(&p, 1, 0) == 0;
}

/* Lends a connection (waiting at most PPML_STORE_PG_WAIT_S for one), made
 * or remade when it has none or a broken one. */
static ppml_status lend(struct pg_store *s, struct lease *l, struct ppml_err *err)
{
	struct timespec until;
	unsigned i;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += PPML_STORE_PG_WAIT_S;
	l->s = s;
	l->c = NULL;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		for (i = 0; i < PPML_STORE_PG_POOL && s->busy[i]; i++)
			;
		if (i < PPML_STORE_PG_POOL)
			break;
		if (pthread_cond_timedwait(&s->freed, &s->lock, &until) == ETIMEDOUT) {
			pthread_mutex_unlock(&s->lock);
			return ppml_err_set(err, PPML_E_IO,
					    "database: all %u connections busy for %d s", PPML_STORE_PG_POOL,
					    PPML_STORE_PG_WAIT_S);
		}
	}
	s->busy[i] = true;
	l->slot = i;
	l->c = s->conns[i];
	pthread_mutex_unlock(&s->lock);
	if (l->c && PQstatus(l->c) == CONNECTION_OK && idle_and_quiet(l->c))
		return PPML_OK;
	ppml_status rc = reconnect(l, err);
	if (rc != PPML_OK)
		give_back(l);
	return rc;
}

/* One statement with text parameters, except those with fmts[i] = 1 (binary,
 * length lens[i]).  retry: the statement is safe to run twice (a read, or
 * BEGIN), so on a connection found dead (the server restarted since its last
 * use) it is run once more on a new one. */
static PGresult *run(struct lease *l, bool retry, const char *sql, int n, const char *const *vals,
		     const int *lens, const int *fmts)
{
	PGresult *r = PQexecParams(l->c, sql, n, NULL, vals, lens, fmts, 0);
	if (retry && PQstatus(l->c) == CONNECTION_BAD) {
		PQclear(r);
		if (reconnect(l, NULL) != PPML_OK)
			return NULL;
		r = PQexecParams(l->c, sql, n, NULL, vals, lens, fmts, 0);
	}
	return r;
}

static ppml_status cmd(struct lease *l, bool retry, const char *sql, struct ppml_err *err,
		       const char *what)
{
	PGresult *r = run(l, retry, sql, 0, NULL, NULL, NULL);
	ppml_status rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK
				 ? PPML_OK
				 : dberr(l, r, err, what);
	PQclear(r);
	return rc;
}

static ppml_status begin(struct lease *l, struct ppml_err *err)
{
	return cmd(l, true, "BEGIN", err, "begin");
}

static ppml_status commit(struct lease *l, struct ppml_err *err)
{
	return cmd(l, false, "COMMIT", err, "commit");
}

/* Lists are bounded: the queries ask for one row more than
 * PPML_STORE_MAX_ROWS, and getting it is an error, not a silent cut. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define LIST_LIMIT " LIMIT " STR(PPML_STORE_MAX_ROWS) " + 1"
static ppml_status rows_ok(const PGresult *r, struct ppml_err *err, const char *what)
{
	return PQntuples(r) > PPML_STORE_MAX_ROWS
		       ? ppml_err_set(err, PPML_E_LIMIT, "database: more than %d %s",
				      PPML_STORE_MAX_ROWS, what)
		       : PPML_OK;
}

/* A bounded list query (no parameters): its status and row cap checked, and
 * *out allocated for its rows (elem bytes each; none when empty).  Returns
 * the result for the caller to read and PQclear, with *rc set. */
static PGresult *list_query(struct lease *l, const char *sql, const char *what, size_t elem,
			    void **out, int *rows, ppml_status *rc, struct ppml_err *err)
{
	PGresult *r = run(l, true, sql, 0, NULL, NULL, NULL);
	*rows = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		*rc = dberr(l, r, err, what);
	else if ((*rc = rows_ok(r, err, what)) == PPML_OK && PQntuples(r) > 0 &&
		 !(*out = calloc((size_t)PQntuples(r), elem)))
		*rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	else if (*rc == PPML_OK)
		*rows = PQntuples(r);
	return r;
}

static int64_t i64(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* A bytea column selected as encode(col, 'hex') into exactly n bytes. */
static bool hex_col(const PGresult *r, int row, int col, uint8_t *out, size_t n)
{
	return (size_t)PQgetlength(r, row, col) == 2 * n &&
	       ppml_hex_decode(PQgetvalue(r, row, col), out, n, "hash", NULL) == PPML_OK;
}

static const char *bool_text(const PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col);
}

/* ---- open, migrate, close ---- */

static ppml_status migrate(struct lease *l, struct ppml_err *err)
{
	ppml_status rc;
	PGresult *r = NULL;
	int64_t v = 0;
	if ((rc = begin(l, err)) != PPML_OK)
		return rc;
	/* One replica migrates; the others wait here, then find nothing to do. */
	if ((rc = cmd(l, false, LOCK_MIGRATE, err, "migration lock")) != PPML_OK ||
	    (rc = cmd(l, false,
		      "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, "
		      "applied_at bigint NOT NULL)",
		      err, "schema_version")) != PPML_OK)
		goto out;
	r = run(l, false, "SELECT COALESCE(MAX(version), 0) FROM schema_version", 0, NULL, NULL,
		NULL);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		rc = dberr(l, r, err, "schema version");
		goto out;
	}
	v = i64(r, 0, 0);
	PQclear(r);
	r = NULL;
	if (v > PPML_STORE_SCHEMA_VERSION || v < 0) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "database: schema version %" PRId64 " is newer than this ppml (%d); "
				  "upgrade ppml",
				  v, PPML_STORE_SCHEMA_VERSION);
		goto out;
	}
	for (int64_t m = v + 1; m <= PPML_STORE_SCHEMA_VERSION; m++) {
		char what[64], ver[24];
		snprintf(what, sizeof(what), "migration to schema version %" PRId64, m);
		for (const char *const *q = MIGRATIONS[m]; *q; q++)
			if ((rc = cmd(l, false, *q, err, what)) != PPML_OK)
				goto out;
		snprintf(ver, sizeof(ver), "%" PRId64, m);
		const char *p[] = {ver};
		r = run(l, false,
			"INSERT INTO schema_version (version, applied_at) VALUES ($1, "
			"EXTRACT(EPOCH FROM now())::bigint)",
			1, p, NULL, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = dberr(l, r, err, what);
			goto out;
		}
		PQclear(r);
		r = NULL;
	}
	rc = commit(l, err);
out:
	PQclear(r);
	return rc;
}

static void pg_close(struct ppml_store *b)
{
	struct pg_store *s = pg(b);
	for (unsigned i = 0; i < PPML_STORE_PG_POOL; i++)
		PQfinish(s->conns[i]);
	if (s->url) {
		OPENSSL_cleanse(s->url, strlen(s->url));
		free(s->url);
	}
	pthread_cond_destroy(&s->freed);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* True when the URI as typed holds user:password@ (however malformed): a ':'
 * before the last '@' between the scheme and the query. */
static bool typed_password(const char *url)
{
	const char *a = strstr(url, "://");
	a = a ? a + 3 : url;
	size_t n = strcspn(a, "?");
	const char *at = memrchr(a, '@', n);
	return at && memchr(a, ':', (size_t)(at - a));
}

/* Whether libpq's parse errors, which quote the URI, may be shown. */
static bool has_password(const char *url)
{
	return typed_password(url) || strstr(url, "password") != NULL;
}

/* libpq's reading of the password, or NULL (free with PQconninfoFree). */
static const char *parsed_password(const char *url, PQconninfoOption **opts)
{
	*opts = PQconninfoParse(url, NULL);
	for (PQconninfoOption *p = *opts; p && p->keyword; p++)
		if (!strcmp(p->keyword, "password") && p->val && *p->val)
			return p->val;
	return NULL;
}

/* libpq's connection messages name the host, port, user and database, never
 * the password; should one ever quote it all the same, it is withheld. */
static void withhold_password(const struct pg_store *s, struct ppml_err *err)
{
	PQconninfoOption *o = NULL;
	const char *pw;
	if (err && (pw = parsed_password(s->url, &o)) && strstr(err->msg, pw))
		ppml_err_set(err, err->code,
			     "database: connect: failed (libpq's message quoted the password and "
			     "is withheld)");
	PQconninfoFree(o);
}

/* where = postgresql://USER@HOST:PORT/DBNAME from the parsed URI: never its
 * password.  Empty fields are libpq's defaults. */
static ppml_status describe(struct pg_store *s, struct ppml_err *err)
{
	char *perr = NULL;
	PQconninfoOption *o = PQconninfoParse(s->url, &perr);
	if (!o) {
		ppml_status rc;
		if (perr && !has_password(s->url))
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "--db: not a PostgreSQL connection URI: %.*s",
					  (int)strcspn(perr, "\n"), perr);
		else
			rc = ppml_err_set(err, perr ? PPML_E_INPUT : PPML_E_NOMEM,
					  "--db: not a PostgreSQL connection URI (postgresql://"
					  "USER@HOST:PORT/DBNAME)");
		PQfreemem(perr);
		return rc;
	}
	const char *user = "", *host = "", *port = "", *db = "";
	bool pw = false;
	for (PQconninfoOption *p = o; p->keyword; p++) {
		if (!p->val)
			continue;
		if (!strcmp(p->keyword, "password") && *p->val)
			pw = true;
		if (!strcmp(p->keyword, "user"))
			user = p->val;
		else if (!strcmp(p->keyword, "host") || (!*host && !strcmp(p->keyword, "hostaddr")))
			host = p->val;
		else if (!strcmp(p->keyword, "port"))
			port = p->val;
		else if (!strcmp(p->keyword, "dbname"))
			db = p->val;
	}
	/* "user:pa/ss@host": libpq reads host "user", port "pa", database
	 * "ss@host", and would name them in messages. */
	if (typed_password(s->url) && !pw) {
		PQconninfoFree(o);
		return ppml_err_set(err, PPML_E_INPUT,
				    "--db: the URI seems to hold a password that libpq does not read "
				    "as one: percent-encode '/', '?', '@', ':' and '#' in it");
	}
	snprintf(s->where, sizeof(s->where), "postgresql://%.64s%s%.128s%s%.16s/%.64s", user,
		 *user ? "@" : "", host, *port ? ":" : "", port, db);
	PQconninfoFree(o);
	return PPML_OK;
}

ppml_status store_pg_open(const char *url, struct ppml_store **out, struct ppml_err *err)
{
	struct pg_store *s;
	struct lease l;
	pthread_condattr_t ca;
	ppml_status rc;

	*out = NULL;
	if (!PQisthreadsafe())
		return ppml_err_set(err, PPML_E_INTERNAL, "--db: libpq was built without threads");
	if (!(s = calloc(1, sizeof(*s))))
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	s->base.ops = &PG_OPS;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->freed, &ca);
	pthread_condattr_destroy(&ca);
	if (!(s->url = strdup(url))) {
		pg_close(&s->base);
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}
	if ((rc = describe(s, err)) != PPML_OK) {
		pg_close(&s->base);
		return rc;
	}
	/* Connect now: a wrong URI or an unreachable server stops the start. */
	if ((rc = lend(s, &l, err)) == PPML_OK) {
		rc = migrate(&l, err);
		give_back(&l);
	}
	if (rc != PPML_OK) {
		ppml_err_prefix(err, "%s: ", s->where);
		pg_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return PPML_OK;
}

static bool pg_ping(struct ppml_store *b)
{
	struct lease l;
	if (lend(pg(b), &l, NULL) != PPML_OK)
		return false;
	PGresult *r = run(&l, true, "SELECT 1", 0, NULL, NULL, NULL);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	PQclear(r);
	give_back(&l);
	return ok;
}

/* ---- policies ---- */

static bool row_policy(const PGresult *r, int row, struct ppml_policy_rec *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", PQgetvalue(r, row, 0));
	p->version = (uint32_t)i64(r, row, 1);
	p->body = strdup(PQgetvalue(r, row, 2));
	snprintf(p->sha256, sizeof(p->sha256), "%s", PQgetvalue(r, row, 3));
	p->created_at = i64(r, row, 4);
	return p->body != NULL;
}

static ppml_status pg_policy_put(struct ppml_store *b, const char *name, const char *body,
				 const char *sha256, int64_t now, uint32_t *version,
				 struct ppml_err *err)
{
	struct lease l;
	PGresult *r = NULL;
	char t[24];
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	snprintf(t, sizeof(t), "%" PRId64, now);
	const char *p[] = {name, body, sha256, t};
	/* Serialised across replicas: two puts of one name get two versions. */
	if ((rc = begin(&l, err)) != PPML_OK ||
	    (rc = cmd(&l, false, LOCK_POLICY, err, "policy lock")) != PPML_OK)
		goto out;
	r = run(&l, false,
		"INSERT INTO policies (name, version, body, sha256, created_at) SELECT $1, "
		"COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM policies WHERE name = $1 "
		"RETURNING version",
		4, p, NULL, NULL);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		rc = dberr(&l, r, err, "policy insert");
		goto out;
	}
	uint32_t v = (uint32_t)i64(r, 0, 0);
	if ((rc = commit(&l, err)) == PPML_OK)
		*version = v;
out:
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_policy_get(struct ppml_store *b, const char *name, uint32_t version,
				 struct ppml_policy_rec *out, struct ppml_err *err)
{
	struct lease l;
	char v[16];
	memset(out, 0, sizeof(*out));
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	snprintf(v, sizeof(v), "%u", version);
	const char *p[] = {name, v};
	/* The latest version decides whether the name is live. */
	PGresult *r = run(&l, true,
			  "SELECT name, version, body, sha256, created_at, deleted, (SELECT deleted "
			  "FROM policies p2 WHERE p2.name = p.name ORDER BY version DESC LIMIT 1) "
			  "FROM policies p WHERE name = $1 AND ($2::bigint = 0 OR version = "
			  "$2::bigint) ORDER BY version DESC LIMIT 1",
			  2, p, NULL, NULL);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = dberr(&l, r, err, "policy get");
	else if (PQntuples(r) == 1 && !strcmp(bool_text(r, 0, 5), "f") &&
		 !strcmp(bool_text(r, 0, 6), "f"))
		rc = row_policy(r, 0, out) ? PPML_OK
					   : ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	else
		rc = ppml_err_set(err, PPML_E_NOTFOUND, "policy %s%s%.0u not found", name,
				  version ? " version " : "", version);
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_policy_delete(struct ppml_store *b, const char *name, int64_t now,
				    struct ppml_err *err)
{
	struct lease l;
	PGresult *r = NULL;
	char t[24];
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	snprintf(t, sizeof(t), "%" PRId64, now);
	const char *p[] = {name, t};
	if ((rc = begin(&l, err)) != PPML_OK ||
	    (rc = cmd(&l, false, LOCK_POLICY, err, "policy lock")) != PPML_OK)
		goto out;
	/* A tombstone version (the latest body, marked deleted): the history stays. */
	r = run(&l, false,
		"INSERT INTO policies (name, version, body, sha256, created_at, deleted) SELECT "
		"name, version + 1, body, sha256, $2, true FROM policies WHERE name = $1 AND "
		"version = (SELECT MAX(version) FROM policies WHERE name = $1) AND NOT deleted",
		2, p, NULL, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = dberr(&l, r, err, "policy delete");
		goto out;
	}
	if (strcmp(PQcmdTuples(r), "1") != 0) {
		rc = ppml_err_set(err, PPML_E_NOTFOUND, "policy %s not found", name);
		goto out;
	}
	rc = commit(&l, err);
out:
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_policy_list(struct ppml_store *b, struct ppml_policy_rec **out, size_t *n,
				  struct ppml_err *err)
{
	struct lease l;
	*out = NULL;
	*n = 0;
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	/* COLLATE "C": byte order, as SQLite sorts. */
	int rows;
	PGresult *r = list_query(&l,
				 "SELECT name, version, body, sha256, created_at FROM policies p "
				 "WHERE version = (SELECT MAX(version) FROM policies p2 WHERE p2.name "
				 "= p.name) AND NOT deleted ORDER BY name COLLATE \"C\"" LIST_LIMIT,
				 "policies", sizeof(**out), (void **)out, &rows, &rc, err);
	for (int i = 0; rc == PPML_OK && i < rows; i++) {
		if (!row_policy(r, i, &(*out)[i])) {
			rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
			goto out;
		}
		(*n)++;
	}
out:
	PQclear(r);
	give_back(&l);
	if (rc != PPML_OK) {
		for (size_t i = 0; i < *n; i++)
			ppml_policy_rec_cleanup(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- credentials ---- */

static ppml_status pg_cred_add(struct ppml_store *b, const char *id, const uint8_t sha256[32],
			       const char *role, int64_t now, struct ppml_err *err)
{
	struct lease l;
	char t[24];
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	snprintf(t, sizeof(t), "%" PRId64, now);
	const char *p[] = {id, (const char *)sha256, role, t};
	const int lens[] = {0, 32, 0, 0}, fmts[] = {0, 1, 0, 0};
	PGresult *r = run(&l, false,
			  "INSERT INTO credentials (id, sha256, role, created_at) VALUES ($1, $2, "
			  "$3, $4)",
			  4, p, lens, fmts);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = dberr(&l, r, err, "credential insert");
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_cred_get(struct ppml_store *b, const char *id, uint8_t sha256[32],
			       char role[160], struct ppml_err *err)
{
	struct lease l;
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	const char *p[] = {id};
	PGresult *r = run(&l, true,
			  "SELECT encode(sha256, 'hex'), role FROM credentials WHERE id = $1 AND "
			  "revoked_at IS NULL",
			  1, p, NULL, NULL);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = dberr(&l, r, err, "credential lookup");
	} else if (PQntuples(r) == 1 && hex_col(r, 0, 0, sha256, 32)) {
		snprintf(role, 160, "%s", PQgetvalue(r, 0, 1));
	} else {
		rc = ppml_err_set(err, PPML_E_NOTFOUND, "unknown credential");
	}
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_cred_revoke(struct ppml_store *b, const char *id, int64_t now,
				  struct ppml_err *err)
{
	struct lease l;
	char t[24];
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	snprintf(t, sizeof(t), "%" PRId64, now);
	const char *p[] = {t, id};
	PGresult *r = run(&l, false,
			  "UPDATE credentials SET revoked_at = $1 WHERE id = $2 AND revoked_at IS "
			  "NULL",
			  2, p, NULL, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = dberr(&l, r, err, "credential revoke");
	else if (!strcmp(PQcmdTuples(r), "0"))
		rc = ppml_err_set(err, PPML_E_NOTFOUND, "credential %s: unknown or already revoked",
				  id);
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_cred_count(struct ppml_store *b, const char *role, size_t *n,
				 struct ppml_err *err)
{
	struct lease l;
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	const char *p[] = {role};
	PGresult *r = run(&l, true,
			  "SELECT COUNT(*) FROM credentials WHERE role = $1 AND revoked_at IS NULL", 1,
			  p, NULL, NULL);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		rc = dberr(&l, r, err, "credential count");
	else
		*n = (size_t)i64(r, 0, 0);
	PQclear(r);
	give_back(&l);
	return rc;
}

/* ---- nonces ---- */

static ppml_status pg_nonce_consume(struct ppml_store *b, const uint8_t nonce_sha256[32],
				    int64_t expires_at, int64_t now, bool *first,
				    struct ppml_err *err)
{
	struct pg_store *s = pg(b);
	struct lease l;
	char t[24], e[24];
	ppml_status rc = lend(s, &l, err);
	if (rc != PPML_OK)
		return rc;
	snprintf(t, sizeof(t), "%" PRId64, now - NONCE_PURGE_GRACE_S);
	snprintf(e, sizeof(e), "%" PRId64, expires_at);
	/* Purging is housekeeping (an expired nonce is refused before it gets
	 * here): once a second is enough, and a failure is not the caller's.
	 * Each replica judges expiry by its own clock: a row is kept
	 * NONCE_PURGE_GRACE_S past its expiry, so a replica whose clock is that
	 * much behind the purging one still finds the nonce consumed. */
	int64_t last = atomic_load(&s->last_purge);
	if (last != now && atomic_compare_exchange_strong(&s->last_purge, &last, now)) {
		const char *pp[] = {t};
		PQclear(run(&l, false, "DELETE FROM nonces WHERE expires_at < $1", 1, pp, NULL,
			    NULL));
	}
	/* The primary key decides, across threads and replicas: exactly one
	 * INSERT of a given nonce inserts a row. */
	const char *p[] = {(const char *)nonce_sha256, e};
	const int lens[] = {32, 0}, fmts[] = {1, 0};
	PGresult *r = run(&l, false,
			  "INSERT INTO nonces (sha256, expires_at) VALUES ($1, $2) ON CONFLICT "
			  "(sha256) DO NOTHING",
			  2, p, lens, fmts);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = dberr(&l, r, err, "nonce");
	else
		*first = !strcmp(PQcmdTuples(r), "1");
	PQclear(r);
	give_back(&l);
	return rc;
}

/* ---- keys ---- */

static ppml_status pg_key_create(struct ppml_store *b, const struct ppml_key_rec *k,
				 const uint8_t *wrapped, size_t wrapped_len, int64_t now,
				 struct ppml_err *err)
{
	struct lease l;
	PGresult *r = NULL;
	char t[24];
	if (wrapped_len > INT32_MAX)
		return ppml_err_set(err, PPML_E_LIMIT, "key %s: wrapped key too large", k->name);
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	snprintf(t, sizeof(t), "%" PRId64, now);
	if ((rc = begin(&l, err)) != PPML_OK)
		goto out;
	const char *p1[] = {k->name, k->type, k->release_policy, t};
	r = run(&l, false,
		"INSERT INTO keys (name, type, state, release_policy, version, created_at) VALUES "
		"($1, $2, 'enabled', $3, 1, $4)",
		4, p1, NULL, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = is_unique_violation(r)
			     ? ppml_err_set(err, PPML_E_EXISTS, "key %s already exists", k->name)
			     : dberr(&l, r, err, "key create");
		goto out;
	}
	PQclear(r);
	const char *p2[] = {k->name, (const char *)wrapped, t};
	const int lens[] = {0, (int)wrapped_len, 0}, fmts[] = {0, 1, 0};
	r = run(&l, false,
		"INSERT INTO key_versions (name, version, wrapped, created_at) VALUES ($1, 1, $2, "
		"$3)",
		3, p2, lens, fmts);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = dberr(&l, r, err, "key version");
		goto out;
	}
	rc = commit(&l, err);
out:
	PQclear(r);
	give_back(&l);
	return rc;
}

static void row_key(const PGresult *r, int row, struct ppml_key_rec *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", PQgetvalue(r, row, 0));
	snprintf(k->type, sizeof(k->type), "%s", PQgetvalue(r, row, 1));
	snprintf(k->state, sizeof(k->state), "%s", PQgetvalue(r, row, 2));
	snprintf(k->release_policy, sizeof(k->release_policy), "%s", PQgetvalue(r, row, 3));
	k->version = (uint32_t)i64(r, row, 4);
	k->created_at = i64(r, row, 5);
}

static ppml_status pg_key_get(struct ppml_store *b, const char *name, struct ppml_key_rec *out,
			      struct ppml_err *err)
{
	struct lease l;
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	const char *p[] = {name};
	PGresult *r = run(&l, true,
			  "SELECT name, type, state, release_policy, version, created_at FROM keys "
			  "WHERE name = $1",
			  1, p, NULL, NULL);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = dberr(&l, r, err, "key get");
	else if (PQntuples(r) == 1)
		row_key(r, 0, out);
	else
		rc = ppml_err_set(err, PPML_E_NOTFOUND, "key %s does not exist", name);
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_key_version(struct ppml_store *b, const char *name, uint32_t version,
				  uint8_t **wrapped, size_t *wrapped_len, struct ppml_err *err)
{
	struct lease l;
	char v[16];
	*wrapped = NULL;
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	snprintf(v, sizeof(v), "%u", version);
	const char *p[] = {name, v};
	PGresult *r = run(&l, true,
			  "SELECT encode(wrapped, 'hex') FROM key_versions WHERE name = $1 AND "
			  "version = $2",
			  2, p, NULL, NULL);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = dberr(&l, r, err, "key version");
	} else if (PQntuples(r) != 1) {
		rc = ppml_err_set(err, PPML_E_NOTFOUND, "key %s has no version %u", name, version);
	} else {
		size_t n = (size_t)PQgetlength(r, 0, 0) / 2;
		if (!(*wrapped = malloc(n + 1)))
			rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		else if ((rc = ppml_hex_decode(PQgetvalue(r, 0, 0), *wrapped, n, "wrapped key",
					       err)) == PPML_OK)
			*wrapped_len = n;
		if (rc != PPML_OK) {
			free(*wrapped);
			*wrapped = NULL;
		}
	}
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_key_add_version(struct ppml_store *b, const char *name,
				      uint32_t expected_version, const uint8_t *wrapped,
				      size_t wrapped_len, int64_t now, uint32_t *version,
				      struct ppml_err *err)
{
	struct lease l;
	PGresult *r = NULL;
	char t[24], ev[16], nv[16];
	if (wrapped_len > INT32_MAX)
		return ppml_err_set(err, PPML_E_LIMIT, "key %s: wrapped key too large", name);
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	snprintf(t, sizeof(t), "%" PRId64, now);
	snprintf(ev, sizeof(ev), "%u", expected_version);
	snprintf(nv, sizeof(nv), "%u", expected_version + 1);
	if ((rc = begin(&l, err)) != PPML_OK)
		goto out;
	/* Compare-and-set: two concurrent rotations (any replicas) cannot both win. */
	const char *p1[] = {name, ev};
	r = run(&l, false, "UPDATE keys SET version = version + 1 WHERE name = $1 AND version = $2",
		2, p1, NULL, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = dberr(&l, r, err, "key rotate");
		goto out;
	}
	if (strcmp(PQcmdTuples(r), "1") != 0) {
		rc = ppml_err_set(err, PPML_E_EXISTS, "key %s changed meanwhile; retry", name);
		goto out;
	}
	PQclear(r);
	const char *p2[] = {name, nv, (const char *)wrapped, t};
	const int lens[] = {0, 0, (int)wrapped_len, 0}, fmts[] = {0, 0, 1, 0};
	r = run(&l, false,
		"INSERT INTO key_versions (name, version, wrapped, created_at) VALUES ($1, $2, $3, "
		"$4)",
		4, p2, lens, fmts);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = dberr(&l, r, err, "key version");
		goto out;
	}
	if ((rc = commit(&l, err)) == PPML_OK)
		*version = expected_version + 1;
out:
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_key_set_state(struct ppml_store *b, const char *name, const char *state,
				    struct ppml_err *err)
{
	struct lease l;
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	const char *p[] = {state, name};
	PGresult *r = run(&l, false, "UPDATE keys SET state = $1 WHERE name = $2", 2, p, NULL,
			  NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = dberr(&l, r, err, "key state");
	else if (!strcmp(PQcmdTuples(r), "0"))
		rc = ppml_err_set(err, PPML_E_NOTFOUND, "key %s does not exist", name);
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_key_destroy(struct ppml_store *b, const char *name, struct ppml_err *err)
{
	struct lease l;
	PGresult *r = NULL;
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	const char *p[] = {name};
	if ((rc = begin(&l, err)) != PPML_OK)
		goto out;
	r = run(&l, false,
		"UPDATE keys SET state = 'destroyed' WHERE name = $1 AND state <> 'destroyed'", 1, p,
		NULL, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = dberr(&l, r, err, "key destroy");
		goto out;
	}
	if (!strcmp(PQcmdTuples(r), "0")) {
		PQclear(r);
		r = run(&l, false, "SELECT 1 FROM keys WHERE name = $1", 1, p, NULL, NULL);
		bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
		rc = exists ? ppml_err_set(err, PPML_E_EXISTS, "key %s is already destroyed", name)
			    : ppml_err_set(err, PPML_E_NOTFOUND, "key %s does not exist", name);
		goto out;
	}
	PQclear(r);
	r = run(&l, false, "DELETE FROM key_versions WHERE name = $1", 1, p, NULL, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = dberr(&l, r, err, "key destroy");
		goto out;
	}
	rc = commit(&l, err);
out:
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_key_list(struct ppml_store *b, struct ppml_key_rec **out, size_t *n,
			       struct ppml_err *err)
{
	struct lease l;
	*out = NULL;
	*n = 0;
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	int rows;
	PGresult *r = list_query(&l,
				 "SELECT name, type, state, release_policy, version, created_at FROM "
				 "keys ORDER BY name COLLATE \"C\"" LIST_LIMIT,
				 "keys", sizeof(**out), (void **)out, &rows, &rc, err);
	for (int i = 0; i < rows; i++)
		row_key(r, i, &(*out)[(*n)++]);
	PQclear(r);
	give_back(&l);
	return rc;
}

/* ---- audit ---- */

/* The head inside the caller's transaction: last seq (0 when empty), its hash. */
static ppml_status head(struct lease *l, bool retry, uint64_t *seq, uint8_t hash[32],
			struct ppml_err *err)
{
	ppml_status rc = PPML_OK;
	PGresult *r = run(l, retry, "SELECT seq, encode(hash, 'hex') FROM audit ORDER BY seq DESC "
				    "LIMIT 1",
			  0, NULL, NULL, NULL);
	*seq = 0;
	memset(hash, 0, 32);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = dberr(l, r, err, "audit head");
	else if (PQntuples(r) == 1 && !hex_col(r, 0, 1, hash, 32))
		rc = ppml_err_set(err, PPML_E_INPUT, "database: audit head: stored hash is not 32 "
						     "bytes");
	else if (PQntuples(r) == 1)
		*seq = (uint64_t)i64(r, 0, 0);
	PQclear(r);
	return rc;
}

static ppml_status pg_audit_append(struct ppml_store *b, const char *kind, const json_t *body,
				   int64_t now, uint64_t *seq, uint8_t hash[32],
				   struct ppml_err *err)
{
	struct lease l;
	PGresult *r = NULL;
	uint8_t prev[32], h[32];
	uint64_t last = 0;
	char sq[24], t[24];
	char *bodys = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	if (!bodys)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK) {
		free(bodys);
		return rc;
	}
	/* One linear chain across replicas: the lock is held from reading the
	 * head to committing the next entry; READ COMMITTED gives the SELECT
	 * after it a snapshot holding the previous holder's entry. */
	if ((rc = begin(&l, err)) != PPML_OK ||
	    (rc = cmd(&l, false, LOCK_AUDIT, err, "audit lock")) != PPML_OK ||
	    (rc = head(&l, false, &last, prev, err)) != PPML_OK)
		goto out;
	if ((rc = store_audit_hash(prev, last + 1, now, kind, body, h, err)) != PPML_OK)
		goto out;
	snprintf(sq, sizeof(sq), "%" PRIu64, last + 1);
	snprintf(t, sizeof(t), "%" PRId64, now);
	const char *p[] = {sq, t, kind, bodys, (const char *)prev, (const char *)h};
	const int lens[] = {0, 0, 0, 0, 32, 32}, fmts[] = {0, 0, 0, 0, 1, 1};
	r = run(&l, false,
		"INSERT INTO audit (seq, time, kind, body, prev_hash, hash) VALUES ($1, $2, $3, $4, "
		"$5, $6)",
		6, p, lens, fmts);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = dberr(&l, r, err, "audit append");
		goto out;
	}
	if ((rc = commit(&l, err)) == PPML_OK) {
		*seq = last + 1;
		memcpy(hash, h, 32);
	}
out:
	PQclear(r);
	give_back(&l);
	free(bodys);
	return rc;
}

static ppml_status pg_audit_head(struct ppml_store *b, uint64_t *seq, uint8_t hash[32],
				 struct ppml_err *err)
{
	struct lease l;
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	rc = head(&l, true, seq, hash, err);
	give_back(&l);
	return rc;
}

static ppml_status pg_audit_read(struct ppml_store *b, uint64_t from, size_t max, json_t **out,
				 struct ppml_err *err)
{
	struct lease l;
	char f[24], m[24];
	json_t *a = json_array();
	*out = NULL;
	if (!a)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK) {
		json_decref(a);
		return rc;
	}
	snprintf(f, sizeof(f), "%" PRIu64, from > INT64_MAX ? (uint64_t)INT64_MAX : from);
	snprintf(m, sizeof(m), "%zu", max > INT64_MAX ? (size_t)INT64_MAX : max);
	const char *p[] = {f, m};
	PGresult *r = run(&l, true,
			  "SELECT seq, time, kind, body, encode(prev_hash, 'hex'), encode(hash, "
			  "'hex') FROM audit WHERE seq >= $1 ORDER BY seq LIMIT $2",
			  2, p, NULL, NULL);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = dberr(&l, r, err, "audit read");
	} else {
		for (int i = 0; i < PQntuples(r); i++) {
			uint8_t ph[32], h[32];
			bool okp = hex_col(r, i, 4, ph, 32), okh = hex_col(r, i, 5, h, 32);
			json_array_append_new(
				a, store_audit_entry_json((uint64_t)i64(r, i, 0), i64(r, i, 1),
							  PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
							  ph, okp ? 32 : 0, h, okh ? 32 : 0));
		}
	}
	PQclear(r);
	give_back(&l);
	if (rc == PPML_OK)
		*out = a;
	else
		json_decref(a);
	return rc;
}

static ppml_status pg_checkpoint_add(struct ppml_store *b, uint64_t seq, const uint8_t hash[32],
				     int64_t now, const char *kid, const char *signature,
				     struct ppml_err *err)
{
	struct lease l;
	char sq[24], t[24];
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK)
		return rc;
	snprintf(sq, sizeof(sq), "%" PRIu64, seq > INT64_MAX ? (uint64_t)INT64_MAX : seq);
	snprintf(t, sizeof(t), "%" PRId64, now);
	const char *p[] = {sq, (const char *)hash, t, kid, signature};
	const int lens[] = {0, 32, 0, 0, 0}, fmts[] = {0, 1, 0, 0, 0};
	PGresult *r = run(&l, false,
			  "INSERT INTO checkpoints (seq, hash, time, kid, signature) VALUES ($1, "
			  "$2, $3, $4, $5)",
			  5, p, lens, fmts);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = dberr(&l, r, err, "checkpoint");
	PQclear(r);
	give_back(&l);
	return rc;
}

static ppml_status pg_checkpoints(struct ppml_store *b, json_t **out, struct ppml_err *err)
{
	struct lease l;
	json_t *a = json_array();
	*out = NULL;
	if (!a)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	ppml_status rc = lend(pg(b), &l, err);
	if (rc != PPML_OK) {
		json_decref(a);
		return rc;
	}
	PGresult *r = run(&l, true,
			  "SELECT seq, encode(hash, 'hex'), time, kid, signature FROM checkpoints "
			  "ORDER BY id" LIST_LIMIT,
			  0, NULL, NULL, NULL);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = dberr(&l, r, err, "checkpoints");
	} else if ((rc = rows_ok(r, err, "checkpoints")) == PPML_OK) {
		for (int i = 0; i < PQntuples(r); i++) {
			uint8_t h[32];
			bool okh = hex_col(r, i, 1, h, 32);
			json_array_append_new(
				a, store_checkpoint_json((uint64_t)i64(r, i, 0), h, okh ? 32 : 0,
							 i64(r, i, 2), PQgetvalue(r, i, 3),
							 PQgetvalue(r, i, 4)));
		}
	}
	PQclear(r);
	give_back(&l);
	if (rc == PPML_OK)
		*out = a;
	else
		json_decref(a);
	return rc;
}

static const struct ppml_store_ops PG_OPS = {
	.close = pg_close,
	.ping = pg_ping,
	.policy_put = pg_policy_put,
	.policy_get = pg_policy_get,
	.policy_delete = pg_policy_delete,
	.policy_list = pg_policy_list,
	.cred_add = pg_cred_add,
	.cred_get = pg_cred_get,
	.cred_revoke = pg_cred_revoke,
	.cred_count = pg_cred_count,
	.nonce_consume = pg_nonce_consume,
	.key_create = pg_key_create,
	.key_get = pg_key_get,
	.key_version = pg_key_version,
	.key_add_version = pg_key_add_version,
	.key_set_state = pg_key_set_state,
	.key_destroy = pg_key_destroy,
	.key_list = pg_key_list,
	.audit_append = pg_audit_append,
	.audit_head = pg_audit_head,
	.audit_read = pg_audit_read,
	.checkpoint_add = pg_checkpoint_add,
	.checkpoints = pg_checkpoints,
};
