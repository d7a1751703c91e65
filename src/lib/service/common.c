/* SPDX-License-Identifier: Apache-2.0 */
/* Nonces, REPORTDATA binding, credentials and audit checkpoints
 * (include/ppml/service.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ppml/ec.h"
#include "ppml/hex.h"
#include "ppml/jwt.h"
#include "ppml/service.h"
#include "ppml/store.h"
#include "ppml/timeutil.h"

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void mac(const uint8_t key[32], const uint8_t msg[40], uint8_t out[24])
{
	uint8_t full[32];
	unsigned int n = 0;
	HMAC(EVP_sha256(), key, 32, msg, 40, full, &n);
	memcpy(out, full, 24);
	OPENSSL_cleanse(full, sizeof(full));
}

ppml_status ppml_nonce_new(const uint8_t key[32], int64_t now, int64_t ttl_s,
			   uint8_t out[PPML_NONCE_LEN], int64_t *expires_at, struct ppml_err *err)
{
	if (RAND_bytes(out, 32) != 1)
		return ppml_err_set(err, PPML_E_CRYPTO, "nonce: no randomness");
	*expires_at = now + ttl_s;
	be64(out + 32, (uint64_t)*expires_at);
	mac(key, out, out + 40);
	return PPML_OK;
}

ppml_status ppml_nonce_check(const uint8_t key[32], const uint8_t *nonce, size_t len, int64_t now,
			     int64_t *expires_at, struct ppml_err *err)
{
	uint8_t m[24];
	if (len != PPML_NONCE_LEN)
		return ppml_err_set(err, PPML_E_REFUSED, "nonce: %zu bytes, not one this service "
				    "issued (%u bytes)", len, PPML_NONCE_LEN);
	mac(key, nonce, m);
	if (CRYPTO_memcmp(m, nonce + 40, 24) != 0)
		return ppml_err_set(err, PPML_E_REFUSED, "nonce: not issued by this service");
	uint64_t e = 0;
	for (int i = 0; i < 8; i++)
		e = e << 8 | nonce[32 + i];
	*expires_at = (int64_t)e;
	if (now >= *expires_at)
		return ppml_err_set(err, PPML_E_REFUSED, "nonce: expired (get a fresh one from "
				    "/v1/attest/nonce)");
	return PPML_OK;
}

void ppml_report_data_binding(const char *label, const uint8_t *nonce, size_t nonce_len,
			      const uint8_t *data, size_t data_len, uint8_t out[32])
{
	uint8_t l[4];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, label, strlen(label) + 1); /* with its NUL */
	be32(l, (uint32_t)nonce_len);
	EVP_DigestUpdate(md, l, 4);
	EVP_DigestUpdate(md, nonce, nonce_len);
	be32(l, (uint32_t)data_len);
	EVP_DigestUpdate(md, l, 4);
	if (data_len)
		EVP_DigestUpdate(md, data, data_len);
	EVP_DigestFinal_ex(md, out, NULL);
	EVP_MD_CTX_free(md);
}

void ppml_credential_hash(const char *secret, uint8_t out[32])
{
	EVP_Digest(secret, strlen(secret), out, NULL, EVP_sha256(), NULL);
}

ppml_status ppml_credential_new(char secret[PPML_CREDENTIAL_LEN + 1], uint8_t sha256[32],
				char id[17], struct ppml_err *err)
{
	uint8_t r[32];
	if (RAND_bytes(r, 32) != 1)
		return ppml_err_set(err, PPML_E_CRYPTO, "credential: no randomness");
	memcpy(secret, "ppml_", 5);
	ppml_b64url_encode(r, 32, secret + 5);
	OPENSSL_cleanse(r, sizeof(r));
	ppml_credential_hash(secret, sha256);
	ppml_hex_encode(sha256, 8, id);
	return PPML_OK;
}

bool ppml_role_ok(const char *role)
{
	if (strcmp(role, "admin") == 0 || strcmp(role, "metrics") == 0)
		return true;
	if (strncmp(role, "encrypt:", 8) != 0 || !role[8] || strlen(role + 8) > 128)
		return false;
	for (const char *p = role + 8; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

static void checkpoint_msg(uint64_t seq, const uint8_t hash[32], uint8_t msg[65])
{
	static const char label[] = "ppml-audit-checkpoint-v1"; /* 24 chars + NUL */
	memcpy(msg, label, sizeof(label));
	be64(msg + sizeof(label), seq);
	memcpy(msg + sizeof(label) + 8, hash, 32);
}

ppml_status ppml_audit_sign_checkpoint(EVP_PKEY *key, uint64_t seq, const uint8_t hash[32],
				       char sig[90], struct ppml_err *err)
{
	uint8_t msg[65], s[64];
	checkpoint_msg(seq, hash, msg);
	if (!ppml_ec_sign_raw(key, msg, sizeof(msg), s))
		return ppml_err_set(err, PPML_E_CRYPTO, "audit checkpoint: signing failed");
	ppml_b64url_encode(s, 64, sig);
	return PPML_OK;
}

ppml_status ppml_audit_verify(const json_t *entries, const json_t *checkpoints,
			      const struct ppml_jwks *jwks, uint64_t *n_entries,
			      size_t *n_checkpoints, struct ppml_err *err)
{
	uint8_t prev[32] = {0};
	size_t n = json_array_size(entries);
	uint8_t (*hashes)[32] = calloc(n + 1, 32);
	ppml_status rc = PPML_OK;

	if (!json_is_array(entries) || !json_is_array(checkpoints) || !hashes) {
		free(hashes);
		return ppml_err_set(err, PPML_E_INPUT, "audit: expected arrays of entries and "
				    "checkpoints");
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(entries, i);
		json_t *seqj = json_object_get(e, "seq");
		const char *time = json_string_value(json_object_get(e, "time")),
			   *kind = json_string_value(json_object_get(e, "kind")),
			   *ph = json_string_value(json_object_get(e, "prev_hash")),
			   *h = json_string_value(json_object_get(e, "hash"));
		json_t *body = json_object_get(e, "body");
		int64_t t;
		uint8_t want[32], got_prev[32], md[32];
		if (!json_is_integer(seqj) || (uint64_t)json_integer_value(seqj) != i + 1 || !time ||
		    !ppml_time_parse_rfc3339(time, &t) || !kind || !json_is_object(body) || !ph ||
		    !h || ppml_hex_decode(ph, got_prev, 32, "prev_hash", NULL) != PPML_OK ||
		    ppml_hex_decode(h, want, 32, "hash", NULL) != PPML_OK) {
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "audit: entry %zu is malformed or out of sequence (expected "
					  "seq %zu)",
					  i + 1, i + 1);
			goto out;
		}
		if (CRYPTO_memcmp(got_prev, prev, 32) != 0) {
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "audit: entry %zu does not follow entry %zu (prev_hash "
					  "differs): an entry was removed or reordered",
					  i + 1, i);
			goto out;
		}
		char *canon = ppml_audit_canonical(i + 1, t, kind, body);
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
		EVP_DigestUpdate(ctx, prev, 32);
		EVP_DigestUpdate(ctx, canon ? canon : "", canon ? strlen(canon) : 0);
		EVP_DigestFinal_ex(ctx, md, NULL);
		EVP_MD_CTX_free(ctx);
		free(canon);
		if (CRYPTO_memcmp(md, want, 32) != 0) {
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "audit: entry %zu was altered (its hash does not match its "
					  "content)",
					  i + 1);
			goto out;
		}
		memcpy(prev, md, 32);
		memcpy(hashes[i + 1], md, 32);
	}
	for (size_t i = 0; i < json_array_size(checkpoints); i++) {
		json_t *c = json_array_get(checkpoints, i);
		json_t *seqj = json_object_get(c, "seq");
		const char *h = json_string_value(json_object_get(c, "hash")),
			   *kid = json_string_value(json_object_get(c, "kid")),
			   *sig = json_string_value(json_object_get(c, "signature"));
		uint8_t hb[32], sb[66], msg[65];
		size_t sl = 0;
		if (!json_is_integer(seqj) || json_integer_value(seqj) < 0 || !h || !kid || !sig ||
		    ppml_hex_decode(h, hb, 32, "hash", NULL) != PPML_OK) {
			rc = ppml_err_set(err, PPML_E_REFUSED, "audit: checkpoint %zu is malformed",
					  i);
			goto out;
		}
		uint64_t seq = (uint64_t)json_integer_value(seqj);
		EVP_PKEY *key = ppml_jwks_key(jwks, kid);
		checkpoint_msg(seq, hb, msg);
		if (!key || strlen(sig) > 88 || !ppml_b64url_decode(sig, strlen(sig), sb, &sl) ||
		    sl != 64 || !ppml_ec_verify_raw(key, msg, sizeof(msg), sb)) {
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "audit: checkpoint %zu (seq %llu): the signature does not "
					  "verify with key %s",
					  i, (unsigned long long)seq, kid);
			goto out;
		}
		if (seq > n || (seq && CRYPTO_memcmp(hashes[seq], hb, 32) != 0)) {
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "audit: checkpoint %zu signs seq %llu with a hash the chain "
					  "does not have: entries were rewritten",
					  i, (unsigned long long)seq);
			goto out;
		}
	}
	if (n_entries)
		*n_entries = n;
	if (n_checkpoints)
		*n_checkpoints = json_array_size(checkpoints);
out:
	free(hashes);
	return rc;
}
