/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite backend of ppml/store.h.  One connection, serialised by a
 * mutex; WAL with synchronous=FULL, so a returned write is durable. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sqlite3.h>

#include "internal.h"
#include "ppml/limits.h"
#include "ppml/store.h"

struct sq_store {
	struct ppml_store base;
	sqlite3 *db;
	pthread_mutex_t lock;
};

static const struct ppml_store_ops SQLITE_OPS;

static struct sq_store *sq(struct ppml_store *b)
{
	return (struct sq_store *)b;
}

static const char *const SCHEMA_V1[] = {
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS policies (name TEXT NOT NULL, version INTEGER NOT NULL, "
	"body TEXT NOT NULL, sha256 TEXT NOT NULL, created_at INTEGER NOT NULL, "
	"deleted INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (name, version))",
	"CREATE TABLE IF NOT EXISTS credentials (id TEXT PRIMARY KEY, sha256 BLOB NOT NULL UNIQUE, "
	"role TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER)",
	"CREATE TABLE IF NOT EXISTS nonces (sha256 BLOB PRIMARY KEY, expires_at INTEGER NOT NULL)",
	"CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at)",
	"CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, "
	"kind TEXT NOT NULL, body TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL)",
	"CREATE TABLE IF NOT EXISTS keys (name TEXT PRIMARY KEY, type TEXT NOT NULL, "
	"state TEXT NOT NULL, release_policy TEXT NOT NULL, version INTEGER NOT NULL, "
	"created_at INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS key_versions (name TEXT NOT NULL, version INTEGER NOT NULL, "
	"wrapped BLOB NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (name, version))",
	"CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER NOT NULL, hash BLOB NOT NULL, "
	"time INTEGER NOT NULL, kid TEXT NOT NULL, signature TEXT NOT NULL)",
	NULL,
};

static ppml_status dberr(struct sq_store *s, struct ppml_err *err, const char *what)
{
	return ppml_err_set(err, PPML_E_IO, "database: %s: %s", what, sqlite3_errmsg(s->db));
}

static ppml_status exec(struct sq_store *s, const char *sql, struct ppml_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ppml_status rc = ppml_err_set(err, PPML_E_IO, "database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return rc;
	}
	return PPML_OK;
}

static ppml_status migrate(struct sq_store *s, struct ppml_err *err)
{
	ppml_status rc = exec(s, "BEGIN IMMEDIATE", err);
	for (size_t i = 0; rc == PPML_OK && SCHEMA_V1[i]; i++)
		rc = exec(s, SCHEMA_V1[i], err);
	if (rc == PPML_OK) {
		sqlite3_stmt *st = NULL;
		int v = 0;
		if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='schema_version'", -1,
				       &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			v = atoi((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (v > PPML_STORE_SCHEMA_VERSION)
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "database: schema version %d is newer than this ppml (%d); "
					  "upgrade ppml",
					  v, PPML_STORE_SCHEMA_VERSION);
		else if (v == 0)
			rc = exec(s, "INSERT INTO meta (key, value) VALUES ('schema_version', '1')",
				  err);
	}
	if (rc == PPML_OK)
		return exec(s, "COMMIT", err);
	exec(s, "ROLLBACK", NULL);
	return rc;
}

static void sq_close(struct ppml_store *b)
{
	struct sq_store *s = sq(b);
	if (!s)
		return;
	if (s->db)
		sqlite3_close_v2(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static bool sq_ping(struct ppml_store *b)
{
	struct sq_store *s = sq(b);
	pthread_mutex_lock(&s->lock);
	bool ok = exec(s, "SELECT 1", NULL) == PPML_OK;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

ppml_status store_sqlite_open(const char *path, struct ppml_store **out, struct ppml_err *err)
{
	struct sq_store *s;
	ppml_status rc;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	s->base.ops = &SQLITE_OPS;
	pthread_mutex_init(&s->lock, NULL);
	/* The database holds hashes, not secrets; still, only its owner reads it. */
	mode_t old = umask(077);
	int r = sqlite3_open_v2(path, &s->db,
				SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
					SQLITE_OPEN_EXRESCODE,
				NULL);
	umask(old);
	if (r != SQLITE_OK) {
		rc = ppml_err_set(err, PPML_E_IO, "database %s: %s", path,
				  s->db ? sqlite3_errmsg(s->db) : "cannot open");
		sq_close(&s->base);
		return rc;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if ((rc = exec(s, "PRAGMA journal_mode=WAL", err)) != PPML_OK ||
	    (rc = exec(s, "PRAGMA synchronous=FULL", err)) != PPML_OK ||
	    (rc = exec(s, "PRAGMA foreign_keys=ON", err)) != PPML_OK ||
	    (rc = exec(s, "PRAGMA secure_delete=ON", err)) != PPML_OK ||
	    (rc = migrate(s, err)) != PPML_OK) {
		ppml_err_prefix(err, "%s: ", path);
		sq_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return PPML_OK;
}

/* Room for one more row of a list at (*arr)[n]: grows the array, and
 * refuses past PPML_STORE_MAX_ROWS (an error, not a silent cut), as the
 * PostgreSQL store does. */
static ppml_status grow(void **arr, size_t *cap, size_t n, size_t elem, const char *what,
			struct ppml_err *err)
{
	if (n >= PPML_STORE_MAX_ROWS)
		return ppml_err_set(err, PPML_E_LIMIT, "database: more than %d %s",
				    PPML_STORE_MAX_ROWS, what);
	if (n < *cap)
		return PPML_OK;
	size_t nc = *cap ? *cap * 2 : 16;
	void *nv = realloc(*arr, nc * elem);
	if (!nv)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	*arr = nv;
	*cap = nc;
	return PPML_OK;
}

/* Prepares under the lock (the caller holds it). */
static sqlite3_stmt *prep(struct sq_store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

/* ---- policies ---- */

static ppml_status sq_policy_put(struct ppml_store *b, const char *name, const char *body,
				 const char *sha256, int64_t now, uint32_t *version,
				 struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc;
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&s->lock);
	if ((rc = exec(s, "BEGIN IMMEDIATE", err)) != PPML_OK)
		goto out;
	st = prep(s, "SELECT COALESCE(MAX(version), 0) FROM policies WHERE name = ?");
	if (!st || sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = dberr(s, err, "policy version");
		goto rollback;
	}
	*version = (uint32_t)sqlite3_column_int64(st, 0) + 1;
	sqlite3_finalize(st);
	st = prep(s, "INSERT INTO policies (name, version, body, sha256, created_at) "
		     "VALUES (?, ?, ?, ?, ?)");
	if (!st || sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, *version) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, sha256, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, now) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		rc = dberr(s, err, "policy insert");
		goto rollback;
	}
	rc = exec(s, "COMMIT", err);
	if (rc == PPML_OK)
		goto out;
rollback:
	exec(s, "ROLLBACK", NULL);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void row_policy(sqlite3_stmt *st, struct ppml_policy_rec *r)
{
	snprintf(r->name, sizeof(r->name), "%s", (const char *)sqlite3_column_text(st, 0));
	r->version = (uint32_t)sqlite3_column_int64(st, 1);
	r->body = strdup((const char *)sqlite3_column_text(st, 2));
	snprintf(r->sha256, sizeof(r->sha256), "%s", (const char *)sqlite3_column_text(st, 3));
	r->created_at = sqlite3_column_int64(st, 4);
}

static ppml_status sq_policy_get(struct ppml_store *b, const char *name, uint32_t version,
				 struct ppml_policy_rec *out, struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc;
	sqlite3_stmt *st;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	/* The latest version decides whether the name is live. */
	st = prep(s, "SELECT name, version, body, sha256, created_at, deleted, "
		     "(SELECT deleted FROM policies p2 WHERE p2.name = p.name ORDER BY version DESC "
		     "LIMIT 1) FROM policies p WHERE name = ? AND (? = 0 OR version = ?) "
		     "ORDER BY version DESC LIMIT 1");
	if (!st || sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, version) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, version) != SQLITE_OK) {
		rc = dberr(s, err, "policy get");
		goto out;
	}
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW && !sqlite3_column_int(st, 6) && !sqlite3_column_int(st, 5)) {
		row_policy(st, out);
		rc = out->body ? PPML_OK : ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	} else if (r == SQLITE_ROW || r == SQLITE_DONE) {
		rc = ppml_err_set(err, PPML_E_NOTFOUND, "policy %s%s%.0u not found", name,
				  version ? " version " : "", version);
	} else {
		rc = dberr(s, err, "policy get");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_policy_delete(struct ppml_store *b, const char *name, int64_t now,
				    struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	struct ppml_policy_rec r;
	uint32_t v;
	ppml_status rc = sq_policy_get(b, name, 0, &r, err);
	if (rc != PPML_OK)
		return rc;
	/* A tombstone version: the history stays. */
	rc = sq_policy_put(b, name, r.body, r.sha256, now, &v, err);
	ppml_policy_rec_cleanup(&r);
	if (rc != PPML_OK)
		return rc;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "UPDATE policies SET deleted = 1 WHERE name = ? AND version = ?");
	if (!st || sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, v) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "policy delete");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_policy_list(struct ppml_store *b, struct ppml_policy_rec **out, size_t *n,
				  struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc = PPML_OK;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "SELECT name, version, body, sha256, created_at, deleted FROM "
				   "policies p WHERE version = (SELECT MAX(version) FROM policies "
				   "p2 WHERE p2.name = p.name) AND deleted = 0 ORDER BY name");
	if (!st) {
		rc = dberr(s, err, "policy list");
		goto out;
	}
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = grow((void **)out, &cap, *n, sizeof(**out), "policies", err)) != PPML_OK)
			goto out;
		memset(&(*out)[*n], 0, sizeof(**out));
		row_policy(st, &(*out)[(*n)++]);
	}
	if (r != SQLITE_DONE)
		rc = dberr(s, err, "policy list");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
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

static ppml_status sq_cred_add(struct ppml_store *b, const char *id, const uint8_t sha256[32],
			       const char *role, int64_t now, struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc = PPML_OK;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "INSERT INTO credentials (id, sha256, role, created_at) "
				   "VALUES (?, ?, ?, ?)");
	if (!st || sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 2, sha256, 32, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, now) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "credential insert");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_cred_get(struct ppml_store *b, const char *id, uint8_t sha256[32],
			       char role[160], struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "SELECT sha256, role FROM credentials WHERE id = ? AND "
				   "revoked_at IS NULL");
	if (!st || sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK) {
		rc = dberr(s, err, "credential lookup");
		goto out;
	}
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
		memcpy(sha256, sqlite3_column_blob(st, 0), 32);
		snprintf(role, 160, "%s", (const char *)sqlite3_column_text(st, 1));
		rc = PPML_OK;
	} else {
		rc = r == SQLITE_ROW || r == SQLITE_DONE
			     ? ppml_err_set(err, PPML_E_NOTFOUND, "unknown credential")
			     : dberr(s, err, "credential lookup");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_cred_revoke(struct ppml_store *b, const char *id, int64_t now,
				  struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc = PPML_OK;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "UPDATE credentials SET revoked_at = ? WHERE id = ? AND "
				   "revoked_at IS NULL");
	if (!st || sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "credential revoke");
	else if (sqlite3_changes(s->db) == 0)
		rc = ppml_err_set(err, PPML_E_NOTFOUND, "credential %s: unknown or already revoked",
				  id);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_cred_count(struct ppml_store *b, const char *role, size_t *n,
				 struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc = PPML_OK;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "SELECT COUNT(*) FROM credentials WHERE role = ? AND "
				   "revoked_at IS NULL");
	if (!st || sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		rc = dberr(s, err, "credential count");
	else
		*n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- nonces ---- */

static ppml_status sq_nonce_consume(struct ppml_store *b, const uint8_t nonce_sha256[32],
				    int64_t expires_at, int64_t now, bool *first,
				    struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc = PPML_OK;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *del = prep(s, "DELETE FROM nonces WHERE expires_at < ?");
	if (del) {
		sqlite3_bind_int64(del, 1, now);
		sqlite3_step(del);
		sqlite3_finalize(del);
	}
	sqlite3_stmt *st = prep(s, "INSERT OR IGNORE INTO nonces (sha256, expires_at) VALUES (?, ?)");
	if (!st || sqlite3_bind_blob(st, 1, nonce_sha256, 32, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, expires_at) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "nonce");
	else
		*first = sqlite3_changes(s->db) == 1;
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- keys ---- */

static ppml_status sq_key_create(struct ppml_store *b, const struct ppml_key_rec *k,
				 const uint8_t *wrapped, size_t wrapped_len, int64_t now,
				 struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc;
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&s->lock);
	if ((rc = exec(s, "BEGIN IMMEDIATE", err)) != PPML_OK)
		goto out;
	st = prep(s, "INSERT INTO keys (name, type, state, release_policy, version, created_at) "
		     "VALUES (?, ?, 'enabled', ?, 1, ?)");
	if (!st || sqlite3_bind_text(st, 1, k->name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, k->type, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, k->release_policy, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, now) != SQLITE_OK) {
		rc = dberr(s, err, "key create");
		goto rollback;
	}
	int r = sqlite3_step(st);
	if (r != SQLITE_DONE) {
		rc = (r & 0xff) == SQLITE_CONSTRAINT
			     ? ppml_err_set(err, PPML_E_EXISTS, "key %s already exists", k->name)
			     : dberr(s, err, "key create");
		goto rollback;
	}
	sqlite3_finalize(st);
	st = prep(s, "INSERT INTO key_versions (name, version, wrapped, created_at) VALUES (?, 1, "
		     "?, ?)");
	if (!st || sqlite3_bind_text(st, 1, k->name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 2, wrapped, (int)wrapped_len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, now) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		rc = dberr(s, err, "key version");
		goto rollback;
	}
	rc = exec(s, "COMMIT", err);
	if (rc == PPML_OK)
		goto out;
rollback:
	exec(s, "ROLLBACK", NULL);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void row_key(sqlite3_stmt *st, struct ppml_key_rec *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(k->type, sizeof(k->type), "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(k->state, sizeof(k->state), "%s", (const char *)sqlite3_column_text(st, 2));
	snprintf(k->release_policy, sizeof(k->release_policy), "%s",
		 (const char *)sqlite3_column_text(st, 3));
	k->version = (uint32_t)sqlite3_column_int64(st, 4);
	k->created_at = sqlite3_column_int64(st, 5);
}

static ppml_status sq_key_get(struct ppml_store *b, const char *name, struct ppml_key_rec *out,
			      struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "SELECT name, type, state, release_policy, version, created_at "
				   "FROM keys WHERE name = ?");
	int r = st && sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK
			? sqlite3_step(st)
			: SQLITE_ERROR;
	if (r == SQLITE_ROW) {
		row_key(st, out);
		rc = PPML_OK;
	} else {
		rc = r == SQLITE_DONE ? ppml_err_set(err, PPML_E_NOTFOUND, "key %s does not exist",
						     name)
				      : dberr(s, err, "key get");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_key_version(struct ppml_store *b, const char *name, uint32_t version,
				  uint8_t **wrapped, size_t *wrapped_len, struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc;
	*wrapped = NULL;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "SELECT wrapped FROM key_versions WHERE name = ? AND version = ?");
	int r = st && sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
			sqlite3_bind_int64(st, 2, version) == SQLITE_OK
			? sqlite3_step(st)
			: SQLITE_ERROR;
	if (r == SQLITE_ROW) {
		int n = sqlite3_column_bytes(st, 0);
		*wrapped = malloc((size_t)n + 1);
		if (*wrapped) {
			memcpy(*wrapped, sqlite3_column_blob(st, 0), (size_t)n);
			*wrapped_len = (size_t)n;
			rc = PPML_OK;
		} else {
			rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		}
	} else {
		rc = r == SQLITE_DONE ? ppml_err_set(err, PPML_E_NOTFOUND,
						     "key %s has no version %u", name, version)
				      : dberr(s, err, "key version");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_key_add_version(struct ppml_store *b, const char *name,
				      uint32_t expected_version, const uint8_t *wrapped,
				      size_t wrapped_len, int64_t now, uint32_t *version,
				      struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc;
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&s->lock);
	if ((rc = exec(s, "BEGIN IMMEDIATE", err)) != PPML_OK)
		goto out;
	/* Compare-and-set: two concurrent rotations cannot both win. */
	st = prep(s, "UPDATE keys SET version = version + 1 WHERE name = ? AND version = ?");
	if (!st || sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, expected_version) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		rc = dberr(s, err, "key rotate");
		goto rollback;
	}
	if (sqlite3_changes(s->db) != 1) {
		rc = ppml_err_set(err, PPML_E_EXISTS, "key %s changed meanwhile; retry", name);
		goto rollback;
	}
	sqlite3_finalize(st);
	*version = expected_version + 1;
	st = prep(s, "INSERT INTO key_versions (name, version, wrapped, created_at) VALUES (?, ?, "
		     "?, ?)");
	if (!st || sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, *version) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 3, wrapped, (int)wrapped_len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, now) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		rc = dberr(s, err, "key version");
		goto rollback;
	}
	rc = exec(s, "COMMIT", err);
	if (rc == PPML_OK)
		goto out;
rollback:
	exec(s, "ROLLBACK", NULL);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_key_set_state(struct ppml_store *b, const char *name, const char *state,
				    struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc = PPML_OK;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "UPDATE keys SET state = ? WHERE name = ?");
	if (!st || sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "key state");
	else if (sqlite3_changes(s->db) == 0)
		rc = ppml_err_set(err, PPML_E_NOTFOUND, "key %s does not exist", name);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_key_destroy(struct ppml_store *b, const char *name, struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	if ((rc = exec(s, "BEGIN IMMEDIATE", err)) != PPML_OK)
		goto out;
	st = prep(s, "UPDATE keys SET state = 'destroyed' WHERE name = ? AND state != 'destroyed'");
	if (!st || sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		rc = dberr(s, err, "key destroy");
		goto rollback;
	}
	if (sqlite3_changes(s->db) == 0) {
		sqlite3_finalize(st);
		st = prep(s, "SELECT 1 FROM keys WHERE name = ?");
		bool exists = st && sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
			      sqlite3_step(st) == SQLITE_ROW;
		rc = exists ? ppml_err_set(err, PPML_E_EXISTS, "key %s is already destroyed", name)
			    : ppml_err_set(err, PPML_E_NOTFOUND, "key %s does not exist", name);
		goto rollback;
	}
	sqlite3_finalize(st);
	st = prep(s, "DELETE FROM key_versions WHERE name = ?");
	if (!st || sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		rc = dberr(s, err, "key destroy");
		goto rollback;
	}
	if ((rc = exec(s, "COMMIT", err)) != PPML_OK)
		goto rollback;
	/* The WAL still holds earlier images of the erased pages: move the
	 * overwritten pages into the database and empty the WAL. */
	exec(s, "PRAGMA wal_checkpoint(TRUNCATE)", NULL);
	goto out;
rollback:
	exec(s, "ROLLBACK", NULL);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_key_list(struct ppml_store *b, struct ppml_key_rec **out, size_t *n,
			       struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc = PPML_OK;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "SELECT name, type, state, release_policy, version, created_at "
				   "FROM keys ORDER BY name");
	int r = SQLITE_ERROR;
	while (st && (r = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = grow((void **)out, &cap, *n, sizeof(**out), "keys", err)) != PPML_OK)
			goto out;
		row_key(st, &(*out)[(*n)++]);
	}
	if (r != SQLITE_DONE)
		rc = dberr(s, err, "key list");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (rc != PPML_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- audit ---- */

static bool head_locked(struct sq_store *s, uint64_t *seq, uint8_t hash[32])
{
	sqlite3_stmt *st = prep(s, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
	bool ok = st != NULL;
	*seq = 0;
	memset(hash, 0, 32);
	if (ok) {
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32) {
			*seq = (uint64_t)sqlite3_column_int64(st, 0);
			memcpy(hash, sqlite3_column_blob(st, 1), 32);
		} else if (r != SQLITE_DONE) {
			ok = false;
		}
	}
	sqlite3_finalize(st);
	return ok;
}

static ppml_status sq_audit_append(struct ppml_store *b, const char *kind, const json_t *body,
				   int64_t now, uint64_t *seq, uint8_t hash[32],
				   struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc;
	uint8_t prev[32];
	uint64_t last;
	char *bodys = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	sqlite3_stmt *st = NULL;

	if (!bodys)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	pthread_mutex_lock(&s->lock);
	if ((rc = exec(s, "BEGIN IMMEDIATE", err)) != PPML_OK)
		goto out;
	if (!head_locked(s, &last, prev)) {
		rc = dberr(s, err, "audit head");
		goto rollback;
	}
	*seq = last + 1;
	if ((rc = store_audit_hash(prev, *seq, now, kind, body, hash, err)) != PPML_OK)
		goto rollback;
	st = prep(s, "INSERT INTO audit (seq, time, kind, body, prev_hash, hash) VALUES "
		     "(?, ?, ?, ?, ?, ?)");
	if (!st || sqlite3_bind_int64(st, 1, (sqlite3_int64)*seq) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, bodys, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 5, prev, 32, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 6, hash, 32, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		rc = dberr(s, err, "audit append");
		goto rollback;
	}
	rc = exec(s, "COMMIT", err);
	if (rc == PPML_OK)
		goto out;
rollback:
	exec(s, "ROLLBACK", NULL);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	free(bodys);
	return rc;
}

static ppml_status sq_audit_head(struct ppml_store *b, uint64_t *seq, uint8_t hash[32],
				 struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	pthread_mutex_lock(&s->lock);
	bool ok = head_locked(s, seq, hash);
	ppml_status rc = ok ? PPML_OK : dberr(s, err, "audit head");
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_audit_read(struct ppml_store *b, uint64_t from, size_t max, json_t **out,
				 struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc = PPML_OK;
	json_t *a = json_array();
	*out = NULL;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "SELECT seq, time, kind, body, prev_hash, hash FROM audit "
				   "WHERE seq >= ? ORDER BY seq LIMIT ?");
	if (!a || !st || sqlite3_bind_int64(st, 1, (sqlite3_int64)from) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)max) != SQLITE_OK) {
		rc = dberr(s, err, "audit read");
		goto out;
	}
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *e = store_audit_entry_json(
			(uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
			(const char *)sqlite3_column_text(st, 2),
			(const char *)sqlite3_column_text(st, 3), sqlite3_column_blob(st, 4),
			(size_t)sqlite3_column_bytes(st, 4), sqlite3_column_blob(st, 5),
			(size_t)sqlite3_column_bytes(st, 5));
		json_array_append_new(a, e);
	}
	if (r != SQLITE_DONE)
		rc = dberr(s, err, "audit read");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (rc == PPML_OK)
		*out = a;
	else
		json_decref(a);
	return rc;
}

static ppml_status sq_checkpoint_add(struct ppml_store *b, uint64_t seq, const uint8_t hash[32],
				     int64_t now, const char *kid, const char *signature,
				     struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc = PPML_OK;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "INSERT INTO checkpoints (seq, hash, time, kid, signature) "
				   "VALUES (?, ?, ?, ?, ?)");
	if (!st || sqlite3_bind_int64(st, 1, (sqlite3_int64)seq) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, now) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, kid, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 5, signature, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "checkpoint");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static ppml_status sq_checkpoints(struct ppml_store *b, json_t **out, struct ppml_err *err)
{
	struct sq_store *s = sq(b);
	ppml_status rc = PPML_OK;
	json_t *a = json_array();
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = prep(s, "SELECT seq, hash, time, kid, signature FROM checkpoints ORDER "
				   "BY rowid");
	int r = SQLITE_ERROR;
	while (st && (r = sqlite3_step(st)) == SQLITE_ROW) {
		if (json_array_size(a) >= PPML_STORE_MAX_ROWS) {
			rc = ppml_err_set(err, PPML_E_LIMIT, "database: more than %d checkpoints",
					  PPML_STORE_MAX_ROWS);
			r = SQLITE_DONE;
			break;
		}
		json_array_append_new(
			a, store_checkpoint_json((uint64_t)sqlite3_column_int64(st, 0),
						 sqlite3_column_blob(st, 1),
						 (size_t)sqlite3_column_bytes(st, 1),
						 sqlite3_column_int64(st, 2),
						 (const char *)sqlite3_column_text(st, 3),
						 (const char *)sqlite3_column_text(st, 4)));
	}
	if (r != SQLITE_DONE)
		rc = dberr(s, err, "checkpoints");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (rc == PPML_OK)
		*out = a;
	else
		json_decref(a);
	return rc;
}

static const struct ppml_store_ops SQLITE_OPS = {
	.close = sq_close,
	.ping = sq_ping,
	.policy_put = sq_policy_put,
	.policy_get = sq_policy_get,
	.policy_delete = sq_policy_delete,
	.policy_list = sq_policy_list,
	.cred_add = sq_cred_add,
	.cred_get = sq_cred_get,
	.cred_revoke = sq_cred_revoke,
	.cred_count = sq_cred_count,
	.nonce_consume = sq_nonce_consume,
	.key_create = sq_key_create,
	.key_get = sq_key_get,
	.key_version = sq_key_version,
	.key_add_version = sq_key_add_version,
	.key_set_state = sq_key_set_state,
	.key_destroy = sq_key_destroy,
	.key_list = sq_key_list,
	.audit_append = sq_audit_append,
	.audit_head = sq_audit_head,
	.audit_read = sq_audit_read,
	.checkpoint_add = sq_checkpoint_add,
	.checkpoints = sq_checkpoints,
};
