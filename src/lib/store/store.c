/* SPDX-License-Identifier: Apache-2.0 */
/* ppml/store.h: the URL scheme chooses the backend; every call is forwarded
 * through its ops table (internal.h).  Also what the backends share: the
 * audit hash and the JSON of entries and checkpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "internal.h"
#include "ppml/hex.h"
#include "ppml/limits.h"
#include "ppml/store.h"
#include "ppml/timeutil.h"

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

ppml_status ppml_store_open(const char *url, struct ppml_store **out, struct ppml_err *err)
{
	*out = NULL;
	if (!url || !*url)
		return ppml_err_set(err, PPML_E_INPUT,
				    "--db: expected sqlite:PATH or postgresql://...");
	if (strlen(url) > PPML_STORE_MAX_URL)
		return ppml_err_set(err, PPML_E_LIMIT, "--db: longer than %u bytes",
				    PPML_STORE_MAX_URL);
	if (has_prefix(url, "sqlite:")) {
		if (!url[7])
			return ppml_err_set(err, PPML_E_INPUT, "--db sqlite: expected sqlite:PATH");
		return store_sqlite_open(url + 7, out, err);
	}
	if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://"))
		return store_pg_open(url, out, err);
	/* Only the scheme is named: whatever follows may hold a password. */
	size_t n = strcspn(url, ":/@?");
	if (url[n] == ':' && n > 0 && n <= 32)
		return ppml_err_set(err, PPML_E_INPUT,
				    "--db: unknown scheme \"%.*s:\": expected sqlite:PATH or "
				    "postgresql://...",
				    (int)n, url);
	return ppml_err_set(err, PPML_E_INPUT, "--db: expected sqlite:PATH or postgresql://...");
}

void ppml_store_close(struct ppml_store *s)
{
	if (s)
		s->ops->close(s);
}

bool ppml_store_ping(struct ppml_store *s)
{
	return s && s->ops->ping(s);
}

void ppml_policy_rec_cleanup(struct ppml_policy_rec *r)
{
	if (!r)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

ppml_status ppml_store_policy_put(struct ppml_store *s, const char *name, const char *body,
				  const char *sha256, int64_t now, uint32_t *version,
				  struct ppml_err *err)
{
	return s->ops->policy_put(s, name, body, sha256, now, version, err);
}

ppml_status ppml_store_policy_get(struct ppml_store *s, const char *name, uint32_t version,
				  struct ppml_policy_rec *out, struct ppml_err *err)
{
	return s->ops->policy_get(s, name, version, out, err);
}

ppml_status ppml_store_policy_delete(struct ppml_store *s, const char *name, int64_t now,
				     struct ppml_err *err)
{
	return s->ops->policy_delete(s, name, now, err);
}

ppml_status ppml_store_policy_list(struct ppml_store *s, struct ppml_policy_rec **out, size_t *n,
				   struct ppml_err *err)
{
	return s->ops->policy_list(s, out, n, err);
}

ppml_status ppml_store_cred_add(struct ppml_store *s, const char *id, const uint8_t sha256[32],
				const char *role, int64_t now, struct ppml_err *err)
{
	return s->ops->cred_add(s, id, sha256, role, now, err);
}

ppml_status ppml_store_cred_get(struct ppml_store *s, const char *id, uint8_t sha256[32],
				char role[160], struct ppml_err *err)
{
	return s->ops->cred_get(s, id, sha256, role, err);
}

ppml_status ppml_store_cred_revoke(struct ppml_store *s, const char *id, int64_t now,
				   struct ppml_err *err)
{
	return s->ops->cred_revoke(s, id, now, err);
}

ppml_status ppml_store_cred_count(struct ppml_store *s, const char *role, size_t *n,
				  struct ppml_err *err)
{
	return s->ops->cred_count(s, role, n, err);
}

ppml_status ppml_store_nonce_consume(struct ppml_store *s, const uint8_t nonce_sha256[32],
				     int64_t expires_at, int64_t now, bool *first,
				     struct ppml_err *err)
{
	return s->ops->nonce_consume(s, nonce_sha256, expires_at, now, first, err);
}

ppml_status ppml_store_key_create(struct ppml_store *s, const struct ppml_key_rec *k,
				  const uint8_t *wrapped, size_t wrapped_len, int64_t now,
				  struct ppml_err *err)
{
	return s->ops->key_create(s, k, wrapped, wrapped_len, now, err);
}

ppml_status ppml_store_key_get(struct ppml_store *s, const char *name, struct ppml_key_rec *out,
			       struct ppml_err *err)
{
	return s->ops->key_get(s, name, out, err);
}

ppml_status ppml_store_key_version(struct ppml_store *s, const char *name, uint32_t version,
				   uint8_t **wrapped, size_t *wrapped_len, struct ppml_err *err)
{
	return s->ops->key_version(s, name, version, wrapped, wrapped_len, err);
}

ppml_status ppml_store_key_add_version(struct ppml_store *s, const char *name,
				       uint32_t expected_version, const uint8_t *wrapped,
				       size_t wrapped_len, int64_t now, uint32_t *version,
				       struct ppml_err *err)
{
	return s->ops->key_add_version(s, name, expected_version, wrapped, wrapped_len, now,
				       version, err);
}

ppml_status ppml_store_key_set_state(struct ppml_store *s, const char *name, const char *state,
				     struct ppml_err *err)
{
	return s->ops->key_set_state(s, name, state, err);
}

ppml_status ppml_store_key_destroy(struct ppml_store *s, const char *name, struct ppml_err *err)
{
	return s->ops->key_destroy(s, name, err);
}

ppml_status ppml_store_key_list(struct ppml_store *s, struct ppml_key_rec **out, size_t *n,
				struct ppml_err *err)
{
	return s->ops->key_list(s, out, n, err);
}

ppml_status ppml_store_audit_append(struct ppml_store *s, const char *kind, const json_t *body,
				    int64_t now, uint64_t *seq, uint8_t hash[32],
				    struct ppml_err *err)
{
	return s->ops->audit_append(s, kind, body, now, seq, hash, err);
}

ppml_status ppml_store_audit_head(struct ppml_store *s, uint64_t *seq, uint8_t hash[32],
				  struct ppml_err *err)
{
	return s->ops->audit_head(s, seq, hash, err);
}

ppml_status ppml_store_audit_read(struct ppml_store *s, uint64_t from, size_t max, json_t **out,
				  struct ppml_err *err)
{
	return s->ops->audit_read(s, from, max, out, err);
}

ppml_status ppml_store_checkpoint_add(struct ppml_store *s, uint64_t seq, const uint8_t hash[32],
				      int64_t now, const char *kid, const char *signature,
				      struct ppml_err *err)
{
	return s->ops->checkpoint_add(s, seq, hash, now, kid, signature, err);
}

ppml_status ppml_store_checkpoints(struct ppml_store *s, json_t **out, struct ppml_err *err)
{
	return s->ops->checkpoints(s, out, err);
}

/* ---- shared by the backends ---- */

char *ppml_audit_canonical(uint64_t seq, int64_t time, const char *kind, const json_t *body)
{
	char ts[PPML_TIME_RFC3339_LEN];
	ppml_time_format(time, ts);
	json_t *e = json_pack("{s:I, s:s, s:s, s:O}", "seq", (json_int_t)seq, "time", ts, "kind",
			      kind, "body", (json_t *)body);
	char *s = e ? json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(e);
	return s;
}

ppml_status store_audit_hash(const uint8_t prev[32], uint64_t seq, int64_t time, const char *kind,
			     const json_t *body, uint8_t hash[32], struct ppml_err *err)
{
	char *canon = ppml_audit_canonical(seq, time, kind, body);
	if (!canon)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(md, prev, 32) == 1 &&
		 EVP_DigestUpdate(md, canon, strlen(canon)) == 1 &&
		 EVP_DigestFinal_ex(md, hash, NULL) == 1;
	EVP_MD_CTX_free(md);
	free(canon);
	return ok ? PPML_OK : ppml_err_openssl(err, PPML_E_CRYPTO, "audit hash");
}

static json_t *hexj(const void *p, size_t n)
{
	char h[65];
	if (!p || n != 32)
		return json_null();
	ppml_hex_encode(p, 32, h);
	return json_string(h);
}

static json_t *timej(int64_t t)
{
	char ts[PPML_TIME_RFC3339_LEN];
	return ppml_time_format(t, ts) ? json_string(ts) : json_null();
}

json_t *store_audit_entry_json(uint64_t seq, int64_t time, const char *kind,
			       const char *body_text, const void *prev, size_t prev_len,
			       const void *hash, size_t hash_len)
{
	json_t *body = body_text ? json_loads(body_text, 0, NULL) : NULL;
	return json_pack("{s:I, s:o, s:s, s:o, s:o, s:o}", "seq", (json_int_t)seq, "time",
			 timej(time), "kind", kind, "body", body ? body : json_null(), "prev_hash",
			 hexj(prev, prev_len), "hash", hexj(hash, hash_len));
}

json_t *store_checkpoint_json(uint64_t seq, const void *hash, size_t hash_len, int64_t time,
			      const char *kid, const char *signature)
{
	return json_pack("{s:I, s:o, s:o, s:s, s:s}", "seq", (json_int_t)seq, "hash",
			 hexj(hash, hash_len), "time", timej(time), "kid", kid, "signature",
			 signature);
}
