/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service's state and its shared pieces: persistence across reopen,
 * policy versions, credentials, one consumer per nonce under 8 threads, the
 * audit chain and its checkpoints (alterations, deletions and reorderings
 * detected), stateless nonces, the REPORTDATA binding.
 *
 * The store cases run on SQLite, then (pg_*) on PostgreSQL when
 * PPML_TEST_PG_URL names a database (tests/cli/test_store_pg.sh starts one);
 * each PostgreSQL case gets a schema of its own (through search_path), so
 * the database's other contents are left alone.  The pg_* cases add what
 * only a shared store has: two handles (two replicas) racing for nonces and
 * audit appends, concurrent migrations, a newer schema refused, and a
 * password in the URL kept out of every message.
 */
#include <pthread.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/evp.h>

#include "harness.h"
#include "ppml/ec.h"
#include "ppml/jwt.h"
#include "ppml/limits.h"
#include "ppml/service.h"
#include "ppml/store.h"

static char dir[64], sqlite_url[128];
static const char *url;                  /* the store under test */
static const char *pg_base;              /* PPML_TEST_PG_URL */
static char pg_url[PPML_STORE_MAX_URL], pg_schema[64];

TEST(policies_and_reopen)
{
	struct ppml_store *s = NULL;
	struct ppml_policy_rec r;
	struct ppml_err err = {0};
	uint32_t v = 0;
	REQUIRE(ppml_store_open(url, &s, &err) == PPML_OK);
	CHECK(ppml_store_policy_put(s, "train", "{\"a\":1}", "aa", 100, &v, &err) == PPML_OK && v == 1);
	CHECK(ppml_store_policy_put(s, "train", "{\"a\":2}", "bb", 101, &v, &err) == PPML_OK && v == 2);
	CHECK(ppml_store_policy_put(s, "infer", "{\"b\":1}", "cc", 102, &v, &err) == PPML_OK && v == 1);
	ppml_store_close(s);
	REQUIRE(ppml_store_open(url, &s, &err) == PPML_OK); /* restart */
	CHECK(ppml_store_policy_get(s, "train", 0, &r, &err) == PPML_OK && r.version == 2 &&
	      strcmp(r.body, "{\"a\":2}") == 0 && strcmp(r.sha256, "bb") == 0);
	ppml_policy_rec_cleanup(&r);
	CHECK(ppml_store_policy_get(s, "train", 1, &r, &err) == PPML_OK && !strcmp(r.body, "{\"a\":1}"));
	ppml_policy_rec_cleanup(&r);
	CHECK(ppml_store_policy_get(s, "nope", 0, &r, &err) == PPML_E_NOTFOUND);
	struct ppml_policy_rec *list = NULL;
	size_t n = 0;
	CHECK(ppml_store_policy_list(s, &list, &n, &err) == PPML_OK && n == 2 &&
	      !strcmp(list[0].name, "infer") && !strcmp(list[1].name, "train"));
	for (size_t i = 0; i < n; i++)
		ppml_policy_rec_cleanup(&list[i]);
	free(list);
	CHECK(ppml_store_policy_delete(s, "train", 103, &err) == PPML_OK);
	CHECK(ppml_store_policy_get(s, "train", 0, &r, &err) == PPML_E_NOTFOUND);
	CHECK(ppml_store_policy_get(s, "train", 1, &r, &err) == PPML_E_NOTFOUND);
	CHECK(ppml_store_policy_delete(s, "train", 104, &err) == PPML_E_NOTFOUND);
	/* Put again after delete: a new live version. */
	CHECK(ppml_store_policy_put(s, "train", "{\"a\":3}", "dd", 105, &v, &err) == PPML_OK && v == 4);
	CHECK(ppml_store_policy_get(s, "train", 0, &r, &err) == PPML_OK && r.version == 4);
	ppml_policy_rec_cleanup(&r);
	ppml_store_close(s);
	CHECK(ppml_store_open("mysql://u:pw-secret@x/db", &s, &err) == PPML_E_INPUT && !s &&
	      !strstr(err.msg, "pw-secret"));
	CHECK(ppml_store_open("sqlite:", &s, &err) == PPML_E_INPUT);
}

TEST(credentials)
{
	struct ppml_store *s = NULL;
	struct ppml_err err = {0};
	char secret[PPML_CREDENTIAL_LEN + 1], id[17], gid[65], role[160];
	uint8_t h[32], h2[32];
	REQUIRE(ppml_store_open(url, &s, &err) == PPML_OK);
	REQUIRE(ppml_credential_new(secret, h, id, &err) == PPML_OK);
	CHECK(strlen(secret) == PPML_CREDENTIAL_LEN && !strncmp(secret, "ppml_", 5));
	ppml_credential_hash(secret, h2);
	CHECK(!memcmp(h, h2, 32));
	CHECK(ppml_store_cred_add(s, id, h, "admin", 1, &err) == PPML_OK);
	uint8_t got[32];
	CHECK(ppml_store_cred_get(s, id, got, role, &err) == PPML_OK && !memcmp(got, h, 32) &&
	      !strcmp(role, "admin"));
	(void)gid;
	size_t n = 0;
	CHECK(ppml_store_cred_count(s, "admin", &n, &err) == PPML_OK && n == 1);
	CHECK(ppml_store_cred_revoke(s, id, 2, &err) == PPML_OK);
	CHECK(ppml_store_cred_get(s, id, got, role, &err) == PPML_E_NOTFOUND);
	CHECK(ppml_store_cred_revoke(s, id, 3, &err) == PPML_E_NOTFOUND);
	CHECK(ppml_role_ok("encrypt:model-key") && ppml_role_ok("metrics") &&
	      !ppml_role_ok("root") && !ppml_role_ok("encrypt:") && !ppml_role_ok("encrypt:a b"));
	ppml_store_close(s);
}

struct race {
	struct ppml_store *s;
	uint8_t nonce[32];
	int wins;
};

static void *consume(void *arg)
{
	struct race *r = arg;
	bool first = false;
	if (ppml_store_nonce_consume(r->s, r->nonce, 2000, 1000, &first, NULL) == PPML_OK && first)
		__atomic_fetch_add(&r->wins, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

TEST(nonces_once)
{
	struct ppml_store *s = NULL;
	REQUIRE(ppml_store_open(url, &s, NULL) == PPML_OK);
	for (int round = 0; round < 20; round++) {
		struct race r = {.s = s};
		pthread_t t[8];
		memset(r.nonce, round + 1, 32);
		for (int i = 0; i < 8; i++)
			pthread_create(&t[i], NULL, consume, &r);
		for (int i = 0; i < 8; i++)
			pthread_join(t[i], NULL);
		CHECKF(r.wins == 1, "round %d: %d consumers", round, r.wins);
	}
	/* Stateless nonces: issued, checked, forged, expired. */
	uint8_t key[32] = {1}, n[PPML_NONCE_LEN];
	int64_t exp = 0, got = 0;
	struct ppml_err err = {0};
	REQUIRE(ppml_nonce_new(key, 1000, 300, n, &exp, &err) == PPML_OK && exp == 1300);
	CHECK(ppml_nonce_check(key, n, sizeof(n), 1299, &got, &err) == PPML_OK && got == 1300);
	CHECK(ppml_nonce_check(key, n, sizeof(n), 1300, &got, &err) == PPML_E_REFUSED &&
	      strstr(err.msg, "expired"));
	n[35] ^= 1; /* a later expiry, forged */
	CHECK(ppml_nonce_check(key, n, sizeof(n), 1000, &got, &err) == PPML_E_REFUSED &&
	      strstr(err.msg, "not issued"));
	n[35] ^= 1;
	uint8_t other[32] = {2};
	CHECK(ppml_nonce_check(other, n, sizeof(n), 1000, &got, &err) == PPML_E_REFUSED);
	CHECK(ppml_nonce_check(key, n, 63, 1000, &got, &err) == PPML_E_REFUSED);
	ppml_store_close(s);
}

TEST(report_data_binding)
{
	/* Independently: the bytes laid out by hand. */
	const uint8_t nonce[3] = {1, 2, 3}, data[2] = {9, 8};
	uint8_t buf[64], want[32], got[32];
	size_t o = 0;
	memcpy(buf, "ppml-attest-v1", 15); /* with its NUL */
	o = 15;
	memcpy(buf + o, "\0\0\0\3\1\2\3\0\0\0\2\x09\x08", 13);
	o += 13;
	EVP_Digest(buf, o, want, NULL, EVP_sha256(), NULL);
	ppml_report_data_binding(PPML_BIND_ATTEST, nonce, 3, data, 2, got);
	CHECK(!memcmp(want, got, 32));
	ppml_report_data_binding(PPML_BIND_RELEASE, nonce, 3, data, 2, got);
	CHECK(memcmp(want, got, 32) != 0);
}

TEST(audit_chain)
{
	struct ppml_store *s = NULL;
	struct ppml_err err = {0};
	EVP_PKEY *k = ppml_ec_generate();
	char kid[PPML_JWT_KID_MAX + 1], sig[90];
	uint64_t seq = 0, n = 0;
	uint8_t h[32];
	size_t nc = 0;
	REQUIRE(k && ppml_jwk_thumbprint(k, NULL, kid, NULL) == PPML_OK);
	REQUIRE(ppml_store_open(url, &s, &err) == PPML_OK);
	for (int i = 0; i < 50; i++) {
		json_t *b = json_pack("{s:i, s:s}", "i", i, "policy", "train");
		CHECK(ppml_store_audit_append(s, "verdict", b, 1000 + i, &seq, h, &err) == PPML_OK);
		json_decref(b);
		if (i == 24 || i == 49) {
			REQUIRE(ppml_audit_sign_checkpoint(k, seq, h, sig, &err) == PPML_OK);
			CHECK(ppml_store_checkpoint_add(s, seq, h, 2000, kid, sig, &err) == PPML_OK);
		}
	}
	CHECK(seq == 50);
	json_t *entries = NULL, *cps = NULL;
	REQUIRE(ppml_store_audit_read(s, 1, 1000, &entries, &err) == PPML_OK);
	REQUIRE(ppml_store_checkpoints(s, &cps, &err) == PPML_OK);
	json_t *set = json_pack("{s:[o]}", "keys", ppml_jwk_public(k, kid));
	char *txt = json_dumps(set, 0);
	struct ppml_jwks *jwks = NULL;
	REQUIRE(ppml_jwks_parse(txt, strlen(txt), &jwks, NULL, NULL) == PPML_OK);
	CHECK(ppml_audit_verify(entries, cps, jwks, &n, &nc, &err) == PPML_OK && n == 50 && nc == 2);
	/* An altered body. */
	json_t *e7 = json_array_get(entries, 6);
	json_object_set_new(json_object_get(e7, "body"), "policy", json_string("other"));
	CHECK(ppml_audit_verify(entries, cps, jwks, &n, &nc, &err) == PPML_E_REFUSED &&
	      strstr(err.msg, "entry 7 was altered"));
	json_object_set_new(json_object_get(e7, "body"), "policy", json_string("train"));
	/* A deleted entry. */
	json_t *copy = json_deep_copy(entries);
	json_array_remove(copy, 10);
	CHECK(ppml_audit_verify(copy, cps, jwks, &n, &nc, &err) == PPML_E_REFUSED);
	json_decref(copy);
	/* Two entries swapped. */
	copy = json_deep_copy(entries);
	json_t *a = json_deep_copy(json_array_get(copy, 3));
	json_array_set(copy, 3, json_array_get(copy, 4));
	json_array_set_new(copy, 4, a);
	CHECK(ppml_audit_verify(copy, cps, jwks, &n, &nc, &err) == PPML_E_REFUSED);
	json_decref(copy);
	/* A rewritten tail (re-hashed by a forger without the key). */
	copy = json_deep_copy(cps);
	json_object_set_new(json_array_get(copy, 1), "signature", json_string("AAAA"));
	CHECK(ppml_audit_verify(entries, copy, jwks, &n, &nc, &err) == PPML_E_REFUSED);
	json_decref(copy);
	/* Entries truncated below a checkpoint: the checkpoint points past the end. */
	copy = json_deep_copy(entries);
	json_array_remove(copy, 49);
	CHECK(ppml_audit_verify(copy, cps, jwks, &n, &nc, &err) == PPML_E_REFUSED &&
	      strstr(err.msg, "rewritten"));
	json_decref(copy);
	CHECK(ppml_audit_verify(entries, cps, jwks, &n, &nc, &err) == PPML_OK);
	ppml_jwks_free(jwks);
	free(txt);
	json_decref(set);
	json_decref(entries);
	json_decref(cps);
	EVP_PKEY_free(k);
	ppml_store_close(s);
}

/* ---- PostgreSQL ---- */

static void pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static bool pg_exec_quiet(const char *sql)
{
	PGconn *c = PQconnectdb(pg_base);
	PQsetNoticeProcessor(c, pg_quiet, NULL);
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	PQfinish(c);
	return ok;
}

static bool pg_exec(const char *sql)
{
	PGconn *c = PQconnectdb(pg_base);
	PQsetNoticeProcessor(c, pg_quiet, NULL);
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok;
}

/* A fresh, empty schema for the next case, and url pointing into it. */
static bool pg_fresh(const char *name)
{
	char sql[256];
	snprintf(pg_schema, sizeof(pg_schema), "ppml_unit_%s_%d", name, (int)getpid());
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", pg_schema,
		 pg_schema);
	snprintf(pg_url, sizeof(pg_url), "%s%coptions=-c%%20search_path%%3D%s", pg_base,
		 strchr(pg_base, '?') ? '&' : '?', pg_schema);
	url = pg_url;
	return pg_exec(sql);
}

static void pg_drop(void)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", pg_schema);
	(void)pg_exec(sql);
	url = sqlite_url;
}

#define PG_CASE(name)                                                                          \
	TEST(pg_##name)                                                                        \
	{                                                                                      \
		if (!pg_base)                                                                  \
			SKIP_TEST("PPML_TEST_PG_URL is not set (tests/cli/test_store_pg.sh "   \
				  "starts a PostgreSQL)");                                     \
		REQUIRE(pg_fresh(#name));                                                      \
		name();                                                                        \
		pg_drop();                                                                     \
	}

PG_CASE(policies_and_reopen)
PG_CASE(credentials)
PG_CASE(nonces_once)
PG_CASE(audit_chain)

struct replica_race {
	struct ppml_store *s[2];
	uint8_t nonce[32];
	int wins, appended;
};

static void *replica_consume(void *arg)
{
	struct replica_race *r = arg;
	static _Atomic int turn;
	bool first = false;
	struct ppml_store *s = r->s[turn++ & 1];
	if (ppml_store_nonce_consume(s, r->nonce, 2000, 1000, &first, NULL) == PPML_OK && first)
		__atomic_fetch_add(&r->wins, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *replica_append(void *arg)
{
	struct replica_race *r = arg;
	static _Atomic int turn;
	struct ppml_store *s = r->s[turn++ & 1];
	for (int i = 0; i < 25; i++) {
		json_t *b = json_pack("{s:i}", "i", i);
		uint64_t seq;
		uint8_t h[32];
		if (ppml_store_audit_append(s, "verdict", b, 1000 + i, &seq, h, NULL) == PPML_OK)
			__atomic_fetch_add(&r->appended, 1, __ATOMIC_SEQ_CST);
		json_decref(b);
	}
	return NULL;
}

/* Two handles on one database stand for two replicas: 8 threads spread over
 * both race for each nonce (one wins), then append to the audit log at once
 * (one linear chain that verifies). */
TEST(pg_two_replicas)
{
	struct replica_race r = {0};
	struct ppml_err err = {0};
	pthread_t t[8];
	if (!pg_base)
		SKIP_TEST("PPML_TEST_PG_URL is not set");
	REQUIRE(pg_fresh("replicas"));
	REQUIRE(ppml_store_open(url, &r.s[0], &err) == PPML_OK);
	REQUIRE(ppml_store_open(url, &r.s[1], &err) == PPML_OK);
	for (int round = 0; round < 20; round++) {
		r.wins = 0;
		memset(r.nonce, round + 1, 32);
		for (int i = 0; i < 8; i++)
			pthread_create(&t[i], NULL, replica_consume, &r);
		for (int i = 0; i < 8; i++)
			pthread_join(t[i], NULL);
		CHECKF(r.wins == 1, "round %d: %d consumers", round, r.wins);
	}
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, replica_append, &r);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	CHECKF(r.appended == 200, "%d of 200 appends", r.appended);
	json_t *entries = NULL, *cps = json_array();
	uint64_t n = 0, head = 0;
	size_t nc = 0;
	uint8_t h[32];
	struct ppml_jwks *jwks = NULL;
	REQUIRE(ppml_jwks_parse("{\"keys\":[]}", 11, &jwks, NULL, NULL) == PPML_OK);
	REQUIRE(ppml_store_audit_read(r.s[1], 1, 1000, &entries, &err) == PPML_OK);
	CHECKF(ppml_audit_verify(entries, cps, jwks, &n, &nc, &err) == PPML_OK && n == 200,
	       "%s (%llu entries)", err.msg, (unsigned long long)n);
	CHECK(ppml_store_audit_head(r.s[0], &head, h, &err) == PPML_OK && head == 200);
	ppml_jwks_free(jwks);
	json_decref(entries);
	json_decref(cps);
	ppml_store_close(r.s[0]);
	ppml_store_close(r.s[1]);
	pg_drop();
}

/* Replica B's clock runs behind replica A's: A purges expired nonces by
 * its clock, and B, for which the nonce has not expired yet, must still
 * find it consumed. */
TEST(pg_nonce_purge_skew)
{
	struct ppml_store *a = NULL, *b = NULL;
	struct ppml_err err = {0};
	uint8_t n1[32] = {1}, n2[32] = {2};
	bool first = false;
	if (!pg_base)
		SKIP_TEST("PPML_TEST_PG_URL is not set");
	REQUIRE(pg_fresh("skew"));
	REQUIRE(ppml_store_open(url, &a, &err) == PPML_OK && ppml_store_open(url, &b, &err) == PPML_OK);
	CHECK(ppml_store_nonce_consume(b, n1, 1000, 990, &first, &err) == PPML_OK && first);
	/* A, 60 s ahead, purges what expired by its clock. */
	CHECK(ppml_store_nonce_consume(a, n2, 1400, 1060, &first, &err) == PPML_OK && first);
	CHECK(ppml_store_nonce_consume(b, n1, 1000, 999, &first, &err) == PPML_OK && !first);
	ppml_store_close(a);
	ppml_store_close(b);
	pg_drop();
}

static void *open_close(void *arg)
{
	struct ppml_store *s = NULL;
	if (ppml_store_open(url, &s, NULL) == PPML_OK)
		__atomic_fetch_add((int *)arg, 1, __ATOMIC_SEQ_CST);
	ppml_store_close(s);
	return NULL;
}

/* Replicas starting together on an empty database: one migrates under the
 * advisory lock, the others wait and find the schema there.  A schema newer
 * than this build is refused. */
TEST(pg_migrations)
{
	struct ppml_store *s = NULL;
	struct ppml_err err = {0};
	pthread_t t[6];
	int opened = 0;
	char sql[256];
	if (!pg_base)
		SKIP_TEST("PPML_TEST_PG_URL is not set");
	REQUIRE(pg_fresh("migrations"));
	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, open_close, &opened);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	CHECKF(opened == 6, "%d of 6 opened", opened);
	snprintf(sql, sizeof(sql),
		 "DO $$ BEGIN IF (SELECT count(*) FROM %s.schema_version) <> 1 THEN RAISE "
		 "'versions'; END IF; END $$",
		 pg_schema);
	CHECK(pg_exec(sql));
	REQUIRE(ppml_store_open(url, &s, &err) == PPML_OK && ppml_store_ping(s));
	ppml_store_close(s);
	snprintf(sql, sizeof(sql), "INSERT INTO %s.schema_version VALUES (%d, 0)", pg_schema,
		 PPML_STORE_SCHEMA_VERSION + 1);
	REQUIRE(pg_exec(sql));
	s = NULL;
	CHECKF(ppml_store_open(url, &s, &err) == PPML_E_INPUT && !s &&
		       strstr(err.msg, "newer than this ppml"),
	       "%s", err.msg);
	pg_drop();
}

/* The server restarted (here: every backend of this store terminated)
 * while the pool idled: the next calls, writes first (never retried), get
 * new connections instead of failing on the dead ones. */
TEST(pg_reconnect)
{
	struct ppml_store *s = NULL;
	struct ppml_err err = {0};
	uint8_t nonce[32] = {7}, h[32];
	uint64_t seq = 0;
	bool first = false;
	char sql[256];
	if (!pg_base)
		SKIP_TEST("PPML_TEST_PG_URL is not set");
	REQUIRE(pg_fresh("reconnect"));
	REQUIRE(ppml_store_open(url, &s, &err) == PPML_OK);
	CHECK(ppml_store_nonce_consume(s, nonce, 2000, 1000, &first, &err) == PPML_OK && first);
	snprintf(sql, sizeof(sql),
		 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
		 "'ppml-serve' AND datname = current_database()");
	REQUIRE(pg_exec(sql));
	/* pg_terminate_backend only signals: wait for the backends to be gone. */
	snprintf(sql, sizeof(sql),
		 "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = "
		 "'ppml-serve' AND datname = current_database()) THEN RAISE 'still there'; END "
		 "IF; END $$");
	bool gone = false;
	for (int i = 0; i < 100 && !(gone = pg_exec_quiet(sql)); i++)
		usleep(20000);
	REQUIRE(gone);
	nonce[0] = 8;
	CHECKF(ppml_store_nonce_consume(s, nonce, 2000, 1000, &first, &err) == PPML_OK && first,
	       "%s", err.msg);
	json_t *b = json_pack("{s:i}", "i", 1);
	CHECKF(ppml_store_audit_append(s, "verdict", b, 1000, &seq, h, &err) == PPML_OK && seq == 1,
	       "%s", err.msg);
	json_decref(b);
	CHECK(ppml_store_ping(s));
	ppml_store_close(s);
	pg_drop();
}

/* Without a server: a refused connection names the host, never the password;
 * so does a URI that does not parse. */
TEST(pg_errors_hide_password)
{
	struct ppml_store *s = NULL;
	struct ppml_err err = {0};
	CHECKF(ppml_store_open("postgresql://ppml:pw-secret@127.0.0.1:1/db", &s, &err) ==
			       PPML_E_IO &&
		       !s && !strstr(err.msg, "pw-secret") &&
		       strstr(err.msg, "postgresql://ppml@127.0.0.1:1/db") &&
		       strstr(err.msg, "connect"),
	       "%s", err.msg);
	CHECKF(ppml_store_open("postgres://ppml:pw-secret@127.0.0.1:1/db?password=pw-other", &s,
			       &err) == PPML_E_IO &&
		       !strstr(err.msg, "pw-"),
	       "%s", err.msg);
	CHECKF(ppml_store_open("postgresql://ppml:pw%zzsecret@127.0.0.1/db", &s, &err) ==
			       PPML_E_INPUT &&
		       !strstr(err.msg, "secret"),
	       "%s", err.msg);
	/* An unencoded '/' in the password: libpq would read "pw" as the port
	 * and "secret@127.0.0.1:1/db" as the database, and name both. */
	CHECKF(ppml_store_open("postgresql://ppml:pw/secret@127.0.0.1:1/db", &s, &err) ==
			       PPML_E_INPUT &&
		       !strstr(err.msg, "pw") && !strstr(err.msg, "secret"),
	       "%s", err.msg);
	CHECKF(ppml_store_open("postgresql://ppml:pw-secret@bad%20host:1/db", &s, &err) ==
			       PPML_E_IO &&
		       !strstr(err.msg, "pw-secret") && strstr(err.msg, "bad host"),
	       "%s", err.msg);
	CHECKF(ppml_store_open("postgresql://127.0.0.1/db?nosuch=1", &s, &err) == PPML_E_INPUT &&
		       strstr(err.msg, "nosuch"),
	       "%s", err.msg);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ppml-test-store-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(sqlite_url, sizeof(sqlite_url), "sqlite:%s/ppml.db", dir);
	url = sqlite_url;
	pg_base = getenv("PPML_TEST_PG_URL");
	if (pg_base && !*pg_base)
		pg_base = NULL;
	RUN(policies_and_reopen);
	RUN(credentials);
	RUN(nonces_once);
	RUN(report_data_binding);
	RUN(audit_chain);
	RUN(pg_errors_hide_password);
	RUN(pg_policies_and_reopen);
	RUN(pg_credentials);
	RUN(pg_nonces_once);
	RUN(pg_audit_chain);
	RUN(pg_two_replicas);
	RUN(pg_migrations);
	RUN(pg_reconnect);
	RUN(pg_nonce_purge_skew);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	HARNESS_EXIT();
}
