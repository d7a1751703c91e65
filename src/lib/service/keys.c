/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key service of `ppml serve`: a master key (master.key, 0600, or an
 * AES-256 key inside a PKCS#11 token named by master.uri) wraps
 * versioned primary keys kept in the database; primary keys wrap data keys;
 * data keys are released only to an attested enclave, HPKE-sealed to a
 * fresh key it put in its quote.  Key bytes never reach the database in
 * clear, the audit log, or the logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "internal.h"
#include "ppml/ec.h"
#include "ppml/file.h"
#include "ppml/hpke.h"
#include "ppml/keysvc.h"
#include "ppml/limits.h"

#define WRAP_LEN (12 + 32 + 16) /* a wrapped primary key: nonce | ct | tag */

/* A seal and an open of a test value: a master key that cannot do both is
 * refused at start, not at the first request. */
static ppml_status hsm_self_test(struct ppml_pkcs11_key *k, struct ppml_err *err)
{
	static const uint8_t aad[] = "ppml-master-self-test";
	uint8_t iv[12], pt[32] = {0}, ct[48], back[32];
	ppml_status rc;
	if (RAND_bytes(iv, sizeof(iv)) != 1 || RAND_bytes(pt, sizeof(pt)) != 1)
		return ppml_err_set(err, PPML_E_CRYPTO, "no randomness");
	if ((rc = ppml_pkcs11_aes_gcm_seal(k, iv, aad, sizeof(aad), pt, 32, ct, err)) != PPML_OK ||
	    (rc = ppml_pkcs11_aes_gcm_open(k, iv, aad, sizeof(aad), ct, 32, back, err)) != PPML_OK)
		return rc;
	rc = CRYPTO_memcmp(pt, back, 32) == 0
		     ? PPML_OK
		     : ppml_err_set(err, PPML_E_CRYPTO, "the master key in %s fails its self-test",
				    ppml_pkcs11_key_describe(k));
	OPENSSL_cleanse(back, sizeof(back));
	return rc;
}

ppml_status svc_master_open_hsm(const char *uri_text, bool create, struct ppml_pkcs11_key **out,
				struct ppml_err *err)
{
	struct ppml_pkcs11_uri *uri = NULL;
	char *pin = NULL;
	size_t pl = 0;
	ppml_status rc;
	*out = NULL;
	if ((rc = ppml_pkcs11_uri_parse(uri_text, strlen(uri_text), &uri, err)) != PPML_OK)
		return rc;
	if ((rc = ppml_pkcs11_pin_resolve(NULL, uri, &pin, &pl, err)) != PPML_OK)
		goto out;
	rc = ppml_pkcs11_aes_open(NULL, uri, pin, pl, out, err);
	if (rc == PPML_E_NOTFOUND && create && strstr(err->msg, "object not found")) {
		if ((rc = ppml_pkcs11_aes_generate(NULL, uri, pin, pl, err)) == PPML_OK)
			rc = ppml_pkcs11_aes_open(NULL, uri, pin, pl, out, err);
	}
	if (rc == PPML_OK && (rc = hsm_self_test(*out, err)) != PPML_OK) {
		ppml_pkcs11_key_free(*out);
		*out = NULL;
	}
out:
	ppml_pkcs11_pin_free(pin, pl);
	ppml_pkcs11_uri_free(uri);
	return rc;
}

/* STATE/master.uri: the URI of a master key in a token (one line, no secret). */
static ppml_status read_master_uri(const char *state_dir, char **out, struct ppml_err *err)
{
	char p[4200];
	uint8_t *b = NULL;
	size_t n = 0;
	*out = NULL;
	int k = snprintf(p, sizeof(p), "%s/master.uri", state_dir);
	if (k < 0 || (size_t)k >= sizeof(p))
		return ppml_err_set(err, PPML_E_INPUT, "state dir path too long");
	ppml_status rc = ppml_file_read(p, PPML_PKCS11_MAX_URI + 2, &b, &n, err);
	if (rc == PPML_E_NOTFOUND)
		return PPML_OK;
	if (rc != PPML_OK)
		return rc;
	while (n && (b[n - 1] == '\n' || b[n - 1] == '\r'))
		n--;
	if (!n || memchr(b, 0, n) || memchr(b, '\n', n)) {
		free(b);
		return ppml_err_set(err, PPML_E_INPUT, "%s: expected one pkcs11: URI line", p);
	}
	b[n] = 0;
	*out = (char *)b;
	return PPML_OK;
}

ppml_status svc_keys_init(struct ppml_service *s, struct ppml_err *err)
{
	char p[4200], *file_uri = NULL;
	uint8_t *k = NULL;
	size_t kl = 0;
	ppml_status rc;
	pthread_mutex_init(&s->master_lock, NULL);
	if ((rc = read_master_uri(s->c.state_dir, &file_uri, err)) != PPML_OK)
		return rc;
	const char *uri = s->c.master_key ? s->c.master_key : file_uri;
	if (uri) {
		if (!ppml_pkcs11_is_uri(uri)) {
			free(file_uri);
			return ppml_err_set(err, PPML_E_INPUT,
					    "--master-key: expected a pkcs11: URI naming an AES-256 key");
		}
		rc = svc_master_open_hsm(uri, false, &s->master_hsm, err);
		free(file_uri);
		if (rc != PPML_OK)
			ppml_err_prefix(err, "master key: ");
		return rc;
	}
	int n = snprintf(p, sizeof(p), "%s/master.key", s->c.state_dir);
	if (n < 0 || (size_t)n >= sizeof(p))
		return ppml_err_set(err, PPML_E_INPUT, "state dir path too long");
	rc = ppml_file_read(p, 64, &k, &kl, err);
	if (rc != PPML_OK) {
		if (rc == PPML_E_NOTFOUND)
			ppml_err_set(err, rc, "%s: missing: this state directory was made before the "
				     "key service; run `ppml serve --init` on a new one", p);
		return rc;
	}
	if (kl != 32) {
		OPENSSL_cleanse(k, kl);
		free(k);
		return ppml_err_set(err, PPML_E_INPUT, "%s: expected 32 bytes", p);
	}
	memcpy(s->master_key, k, 32);
	OPENSSL_cleanse(k, kl);
	free(k);
	return PPML_OK;
}

void svc_keys_cleanup(struct ppml_service *s)
{
	OPENSSL_cleanse(s->master_key, sizeof(s->master_key));
	ppml_pkcs11_key_free(s->master_hsm);
	s->master_hsm = NULL;
	pthread_mutex_destroy(&s->master_lock);
}

static void aad_of(const char *name, uint32_t version, uint8_t *aad, size_t *len)
{
	size_t n = strlen(name);
	memcpy(aad, name, n);
	aad[n] = (uint8_t)(version >> 24);
	aad[n + 1] = (uint8_t)(version >> 16);
	aad[n + 2] = (uint8_t)(version >> 8);
	aad[n + 3] = (uint8_t)version;
	*len = n + 4;
}

/* AES-256-GCM under kek with AAD = name || u32be version: nonce | ct | tag. */
static ppml_status wrap(const uint8_t kek[32], const char *name, uint32_t version,
			const uint8_t *key, size_t key_len, uint8_t *out, struct ppml_err *err)
{
	uint8_t aad[PPML_POLICY_MAX_NAME + 4];
	size_t al;
	if (RAND_bytes(out, 12) != 1)
		return ppml_err_set(err, PPML_E_CRYPTO, "no randomness");
	aad_of(name, version, aad, &al);
	return ppml_aead_seal(kek, 32, out, aad, al, key, key_len, out + 12, err);
}

static ppml_status unwrap(const uint8_t kek[32], const char *name, uint32_t version,
			  const uint8_t *in, size_t in_len, uint8_t *key, struct ppml_err *err)
{
	uint8_t aad[PPML_POLICY_MAX_NAME + 4];
	size_t al;
	if (in_len < 12 + 16)
		return ppml_err_set(err, PPML_E_INPUT, "wrapped key too short");
	aad_of(name, version, aad, &al);
	return ppml_aead_open(kek, 32, in, aad, al, in + 12, in_len - 12, key, err);
}

/* A primary key wrapped by the master key: in software, or inside the token. */
static ppml_status master_wrap(struct ppml_service *s, const char *name, uint32_t version,
			       const uint8_t key[32], uint8_t out[WRAP_LEN], struct ppml_err *err)
{
	if (!s->master_hsm)
		return wrap(s->master_key, name, version, key, 32, out, err);
	uint8_t aad[PPML_POLICY_MAX_NAME + 4];
	size_t al;
	if (RAND_bytes(out, 12) != 1)
		return ppml_err_set(err, PPML_E_CRYPTO, "no randomness");
	aad_of(name, version, aad, &al);
	pthread_mutex_lock(&s->master_lock);
	ppml_status rc = ppml_pkcs11_aes_gcm_seal(s->master_hsm, out, aad, al, key, 32, out + 12, err);
	pthread_mutex_unlock(&s->master_lock);
	return rc;
}

static ppml_status master_unwrap(struct ppml_service *s, const char *name, uint32_t version,
				 const uint8_t *in, size_t in_len, uint8_t key[32],
				 struct ppml_err *err)
{
	if (!s->master_hsm)
		return unwrap(s->master_key, name, version, in, in_len, key, err);
	uint8_t aad[PPML_POLICY_MAX_NAME + 4];
	size_t al;
	if (in_len != WRAP_LEN)
		return ppml_err_set(err, PPML_E_INPUT, "wrapped key has the wrong size");
	aad_of(name, version, aad, &al);
	pthread_mutex_lock(&s->master_lock);
	ppml_status rc = ppml_pkcs11_aes_gcm_open(s->master_hsm, in, aad, al, in + 12, 32, key, err);
	pthread_mutex_unlock(&s->master_lock);
	return rc;
}

/* The primary key of (name, version), unwrapped with the master key. */
static ppml_status primary(struct ppml_service *s, const char *name, uint32_t version,
			   uint8_t pk[32], struct ppml_err *err)
{
	uint8_t *w = NULL;
	size_t wl = 0;
	struct ppml_key_rec k;
	ppml_status rc = ppml_store_key_version(s->store, name, version, &w, &wl, err);
	/* Destroying a key deletes its versions: say so rather than "not found". */
	if (rc == PPML_E_NOTFOUND && ppml_store_key_get(s->store, name, &k, NULL) == PPML_OK &&
	    !strcmp(k.state, "destroyed"))
		return ppml_err_set(err, PPML_E_REFUSED,
				    "key %s is destroyed: its versions were erased and nothing "
				    "wrapped under it opens again", name);
	if (rc == PPML_OK && wl != WRAP_LEN)
		rc = ppml_err_set(err, PPML_E_INPUT, "key %s v%u: stored key has the wrong size", name,
				  version);
	if (rc == PPML_OK && master_unwrap(s, name, version, w, wl, pk, err) != PPML_OK)
		rc = ppml_err_set(err, PPML_E_INTERNAL,
				  "key %s v%u does not unwrap with this master key", name, version);
	free(w);
	return rc;
}

/* ---- the wrapped data key ("PWK1") ---- */

ppml_status ppml_wdk_parse(const uint8_t *b, size_t n, struct ppml_wdk *out, struct ppml_err *err)
{
	memset(out, 0, sizeof(*out));
	if (n < 4 + 1 + 4 + 1 || memcmp(b, PPML_WDK_MAGIC, 4) != 0)
		return ppml_err_set(err, PPML_E_INPUT, "wrapped data key: not a PWK1 blob");
	out->type = b[4];
	out->version = (uint32_t)b[5] << 24 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 8 | b[8];
	size_t nl = b[9];
	size_t kl = out->type == PPML_WDK_AES256 ? 32 : out->type == PPML_WDK_GRAMINE_PF ? 16 : 0;
	if (!kl || nl == 0 || nl > PPML_POLICY_MAX_NAME || n != 10 + nl + 12 + kl + 16)
		return ppml_err_set(err, PPML_E_INPUT,
				    "wrapped data key: bad type, name or length (%zu bytes)", n);
	memcpy(out->name, b + 10, nl);
	out->name[nl] = 0;
	if (strlen(out->name) != nl || !ppml_policy_name_ok(out->name))
		return ppml_err_set(err, PPML_E_INPUT, "wrapped data key: bad key name");
	out->key_len = kl;
	out->sealed = b + 10 + nl;
	out->sealed_len = 12 + kl + 16;
	return PPML_OK;
}

static uint8_t type_code(const char *type)
{
	return !strcmp(type, "gramine-pf") ? PPML_WDK_GRAMINE_PF : PPML_WDK_AES256;
}

/* ---- routes ---- */

static bool key_name(struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	if (ppml_policy_name_ok(r->params[0]))
		return true;
	ppml_http_error(resp, 400, "bad_request", "key names are [A-Za-z0-9._-], 1..128");
	return false;
}

static json_t *key_json(const struct ppml_key_rec *k)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:o}", "name", k->name, "type", k->type,
			 "state", k->state, "release_policy", k->release_policy, "version",
			 (int)k->version, "created_at", svc_timej(k->created_at));
}

static void audited(struct ppml_service *s, const char *kind, json_t *body,
		    struct ppml_http_resp *resp, unsigned status, json_t *answer)
{
	bool ok;
	svc_audit(s, kind, body, &ok);
	json_decref(body);
	if (!ok) {
		json_decref(answer);
		ppml_http_error(resp, 503, "unavailable", "the change could not be audited");
		return;
	}
	resp->status = status;
	resp->json = answer;
}

void svc_h_key_create(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	static const char *const keys[] = {"name", "type", "release_policy", NULL};
	struct ppml_service *s = ctx;
	json_t *o = svc_parse_body(r, resp);
	struct ppml_key_rec k = {0};
	struct ppml_policy_rec pr;
	struct ppml_err err = {0};
	uint8_t pk[32], w[WRAP_LEN];
	if (!o || !svc_only(o, keys, resp))
		goto out;
	const char *name = json_string_value(json_object_get(o, "name")),
		   *type = json_string_value(json_object_get(o, "type")),
		   *pol = json_string_value(json_object_get(o, "release_policy"));
	if (!name || !ppml_policy_name_ok(name) || !type ||
	    (strcmp(type, "aes-256-gcm") != 0 && strcmp(type, "gramine-pf") != 0) || !pol ||
	    !ppml_policy_name_ok(pol)) {
		ppml_http_error(resp, 400, "bad_request",
				"expected {name, type: aes-256-gcm | gramine-pf, release_policy}");
		goto out;
	}
	if (ppml_store_policy_get(s->store, pol, 0, &pr, &err) != PPML_OK) {
		ppml_http_error(resp, 400, "bad_request",
				"release_policy %s does not exist: put the policy first", pol);
		goto out;
	}
	ppml_policy_rec_cleanup(&pr);
	snprintf(k.name, sizeof(k.name), "%s", name);
	snprintf(k.type, sizeof(k.type), "%s", type);
	snprintf(k.release_policy, sizeof(k.release_policy), "%s", pol);
	if (RAND_bytes(pk, 32) != 1 || master_wrap(s, name, 1, pk, w, &err) != PPML_OK) {
		ppml_http_error(resp, 500, "internal", "key generation failed");
		goto out;
	}
	if (ppml_store_key_create(s->store, &k, w, sizeof(w), svc_now(), &err) != PPML_OK) {
		ppml_http_error(resp, err.code == PPML_E_EXISTS ? 409 : 503,
				err.code == PPML_E_EXISTS ? "exists" : "unavailable", "%s", err.msg);
		goto out;
	}
	k.version = 1;
	snprintf(k.state, sizeof(k.state), "enabled");
	k.created_at = svc_now();
	audited(s, "key_create",
		json_pack("{s:s, s:s, s:i, s:s, s:s}", "name", name, "type", type, "version", 1,
			  "release_policy", pol, "by", (const char *)r->auth),
		resp, 201, key_json(&k));
out:
	OPENSSL_cleanse(pk, sizeof(pk));
	json_decref(o);
}

void svc_h_key_list(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	struct ppml_key_rec *list = NULL;
	size_t n = 0;
	(void)r;
	if (ppml_store_key_list(s->store, &list, &n, NULL) != PPML_OK) {
		ppml_http_error(resp, 503, "unavailable", "the database is unavailable");
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, key_json(&list[i]));
	free(list);
	resp->status = 200;
	resp->json = json_pack("{s:o}", "keys", a);
}

void svc_h_key_rotate(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	struct ppml_key_rec k;
	struct ppml_err err = {0};
	uint8_t pk[32], w[WRAP_LEN];
	uint32_t v = 0;
	if (!key_name(r, resp))
		return;
	if (ppml_store_key_get(s->store, r->params[0], &k, &err) != PPML_OK) {
		ppml_http_error(resp, err.code == PPML_E_NOTFOUND ? 404 : 503,
				err.code == PPML_E_NOTFOUND ? "not_found" : "unavailable", "%s",
				err.msg);
		return;
	}
	if (!strcmp(k.state, "destroyed")) {
		ppml_http_error(resp, 410, "destroyed", "key %s is destroyed; create a new key",
				k.name);
		return;
	}
	if (RAND_bytes(pk, 32) != 1 ||
	    master_wrap(s, k.name, k.version + 1, pk, w, &err) != PPML_OK ||
	    ppml_store_key_add_version(s->store, k.name, k.version, w, sizeof(w), svc_now(), &v,
				       &err) != PPML_OK) {
		OPENSSL_cleanse(pk, sizeof(pk));
		ppml_http_error(resp, err.code == PPML_E_EXISTS ? 409 : 503,
				err.code == PPML_E_EXISTS ? "conflict" : "unavailable", "%s", err.msg);
		return;
	}
	OPENSSL_cleanse(pk, sizeof(pk));
	audited(s, "key_rotate",
		json_pack("{s:s, s:i, s:s}", "name", k.name, "version", (int)v, "by",
			  (const char *)r->auth),
		resp, 200, json_pack("{s:s, s:i}", "name", k.name, "version", (int)v));
}

void svc_h_key_disable(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	struct ppml_err err = {0};
	if (!key_name(r, resp))
		return;
	struct ppml_key_rec k;
	if (ppml_store_key_get(s->store, r->params[0], &k, &err) == PPML_OK &&
	    !strcmp(k.state, "destroyed")) {
		ppml_http_error(resp, 410, "destroyed", "key %s is destroyed", k.name);
		return;
	}
	if (ppml_store_key_set_state(s->store, r->params[0], "disabled", &err) != PPML_OK) {
		ppml_http_error(resp, err.code == PPML_E_NOTFOUND ? 404 : 503,
				err.code == PPML_E_NOTFOUND ? "not_found" : "unavailable", "%s",
				err.msg);
		return;
	}
	audited(s, "key_disable",
		json_pack("{s:s, s:s}", "name", r->params[0], "by", (const char *)r->auth), resp, 200,
		json_pack("{s:s, s:s}", "name", r->params[0], "state", "disabled"));
}

void svc_h_key_destroy(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	struct ppml_err err = {0};
	if (!key_name(r, resp))
		return;
	if (ppml_store_key_destroy(s->store, r->params[0], &err) != PPML_OK) {
		ppml_http_error(resp,
				err.code == PPML_E_NOTFOUND ? 404
				: err.code == PPML_E_EXISTS ? 410
							    : 503,
				err.code == PPML_E_NOTFOUND ? "not_found"
				: err.code == PPML_E_EXISTS ? "destroyed"
							    : "unavailable",
				"%s", err.msg);
		return;
	}
	audited(s, "key_destroy",
		json_pack("{s:s, s:s}", "name", r->params[0], "by", (const char *)r->auth), resp, 200,
		json_pack("{s:s, s:s}", "name", r->params[0], "state", "destroyed"));
}

/* Parses and unwraps a wrapped data key of route key `name`. */
static bool open_wdk(struct ppml_service *s, const char *name, json_t *o, struct ppml_wdk *w,
		     uint8_t dk[32], struct ppml_http_resp *resp)
{
	uint8_t *b = NULL, pk[32];
	size_t bl = 0;
	struct ppml_err err = {0};
	bool ok = false;
	if (!svc_b64_field(o, json_object_get(o, "wrapped") ? "wrapped" : "wrapped_datakey",
			   PPML_ENC_MAX_WRAPPED, &b, &bl) ||
	    ppml_wdk_parse(b, bl, w, &err) != PPML_OK) {
		ppml_http_error(resp, 400, "bad_request", "wrapped data key: %s",
				err.msg[0] ? err.msg : "expected base64");
		goto out;
	}
	if (strcmp(w->name, name) != 0) {
		ppml_http_error(resp, 400, "bad_request",
				"the wrapped data key belongs to key %s, not %s", w->name, name);
		goto out;
	}
	if (primary(s, name, w->version, pk, &err) != PPML_OK) {
		ppml_http_error(resp,
				err.code == PPML_E_NOTFOUND  ? 404
				: err.code == PPML_E_REFUSED ? 410
							     : 500,
				err.code == PPML_E_NOTFOUND  ? "not_found"
				: err.code == PPML_E_REFUSED ? "destroyed"
							     : "internal",
				"%s", err.msg);
		goto out;
	}
	ok = unwrap(pk, name, w->version, w->sealed, w->sealed_len, dk, &err) == PPML_OK;
	if (!ok)
		ppml_http_error(resp, 400, "bad_request",
				"the wrapped data key does not unwrap under %s v%u (altered, or from "
				"another service)",
				name, w->version);
out:
	OPENSSL_cleanse(pk, sizeof(pk));
	free(b);
	return ok;
}

void svc_h_key_unwrap(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	static const char *const keys[] = {"wrapped", NULL};
	struct ppml_service *s = ctx;
	json_t *o = svc_parse_body(r, resp);
	struct ppml_wdk w;
	uint8_t dk[32];
	if (!key_name(r, resp) || !o || !svc_only(o, keys, resp) ||
	    !open_wdk(s, r->params[0], o, &w, dk, resp))
		goto out;
	audited(s, "key_unwrap",
		json_pack("{s:s, s:i, s:s}", "name", w.name, "version", (int)w.version, "by",
			  (const char *)r->auth),
		resp, 200,
		json_pack("{s:s, s:i, s:o}", "name", w.name, "version", (int)w.version, "plaintext",
			  svc_b64j(dk, w.key_len)));
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	json_decref(o);
}

void svc_h_key_datakey(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	static const char *const keys[] = {"plaintext", NULL};
	struct ppml_service *s = ctx;
	json_t *o = r->body_len ? svc_parse_body(r, resp) : json_object();
	struct ppml_key_rec k;
	struct ppml_err err = {0};
	uint8_t pk[32], dk[32], blob[10 + PPML_POLICY_MAX_NAME + 12 + 32 + 16];
	if (!key_name(r, resp) || !o || !svc_only(o, keys, resp))
		goto out;
	json_t *pt = json_object_get(o, "plaintext");
	if (pt && !json_is_boolean(pt)) {
		ppml_http_error(resp, 400, "bad_request", "plaintext: expected true or false");
		goto out;
	}
	if (ppml_store_key_get(s->store, r->params[0], &k, &err) != PPML_OK) {
		ppml_http_error(resp, err.code == PPML_E_NOTFOUND ? 404 : 503,
				err.code == PPML_E_NOTFOUND ? "not_found" : "unavailable", "%s",
				err.msg);
		goto out;
	}
	if (strcmp(k.state, "enabled") != 0) {
		bool gone = !strcmp(k.state, "destroyed");
		ppml_http_error(resp, gone ? 410 : 409, gone ? "destroyed" : "disabled",
				"key %s is %s", k.name, k.state);
		goto out;
	}
	uint8_t tc = type_code(k.type);
	size_t kl = tc == PPML_WDK_AES256 ? 32 : 16, nl = strlen(k.name);
	memcpy(blob, PPML_WDK_MAGIC, 4);
	blob[4] = tc;
	blob[5] = (uint8_t)(k.version >> 24);
	blob[6] = (uint8_t)(k.version >> 16);
	blob[7] = (uint8_t)(k.version >> 8);
	blob[8] = (uint8_t)k.version;
	blob[9] = (uint8_t)nl;
	memcpy(blob + 10, k.name, nl);
	if (RAND_bytes(dk, (int)kl) != 1 || primary(s, k.name, k.version, pk, &err) != PPML_OK ||
	    wrap(pk, k.name, k.version, dk, kl, blob + 10 + nl, &err) != PPML_OK) {
		ppml_http_error(resp, 500, "internal", "data key generation failed");
		goto out;
	}
	json_t *ans = json_pack("{s:s, s:i, s:s, s:o}", "name", k.name, "version", (int)k.version,
				"type", k.type, "wrapped", svc_b64j(blob, 10 + nl + 12 + kl + 16));
	if (!pt || json_is_true(pt))
		json_object_set_new(ans, "plaintext", svc_b64j(dk, kl));
	audited(s, "datakey",
		json_pack("{s:s, s:i, s:s}", "name", k.name, "version", (int)k.version, "by",
			  (const char *)r->auth),
		resp, 200, ans);
out:
	OPENSSL_cleanse(pk, sizeof(pk));
	OPENSSL_cleanse(dk, sizeof(dk));
	json_decref(o);
}

void svc_h_key_release(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	static const char *const keys[] = {"quote", "nonce", "enclave_public_key",
					   "wrapped_datakey", NULL};
	struct ppml_service *s = ctx;
	json_t *o = svc_parse_body(r, resp);
	uint8_t *quote = NULL, *nonce = NULL, *epk = NULL, dk[32];
	size_t ql = 0, nl = 0, el = 0;
	struct ppml_key_rec k;
	struct ppml_err err = {0};
	struct svc_eval ev = {0};
	struct ppml_wdk w;
	EVP_PKEY *point = NULL;
	int64_t now = svc_now();

	if (!key_name(r, resp) || !o || !svc_only(o, keys, resp))
		goto out;
	if (!svc_b64_field(o, "quote", PPML_QUOTE_MAX_SIZE, &quote, &ql) || !ql ||
	    !svc_b64_field(o, "nonce", 64, &nonce, &nl) || !nl ||
	    !svc_b64_field(o, "enclave_public_key", 65, &epk, &el) || el != 65 || epk[0] != 4 ||
	    !(point = ppml_ec_from_raw(epk + 1))) {
		ppml_http_error(resp, 400, "bad_request",
				"expected base64 quote, nonce, and enclave_public_key (65-byte SEC1 "
				"uncompressed P-256 point)");
		goto out;
	}
	if (ppml_store_key_get(s->store, r->params[0], &k, &err) != PPML_OK) {
		ppml_http_error(resp, err.code == PPML_E_NOTFOUND ? 404 : 503,
				err.code == PPML_E_NOTFOUND ? "not_found" : "unavailable", "%s",
				err.msg);
		goto out;
	}
	if (!open_wdk(s, k.name, o, &w, dk, resp))
		goto out;
	/* The quote must pass the key's release policy and bind this request's
	 * enclave key under the release label. */
	if (!svc_evaluate(s, k.release_policy, quote, ql, nonce, nl, PPML_BIND_RELEASE, epk, 65, now,
			  &ev, resp))
		goto out;
	bool enabled = !strcmp(k.state, "enabled");
	if (!enabled)
		json_array_append_new(ev.reasons, json_sprintf("key: %s is %s", k.name, k.state));
	bool release = ev.accepted && enabled;
	json_t *ab = svc_eval_audit(&ev, k.release_policy);
	json_object_set_new(ab, "result", json_string(release ? "released" : "refused"));
	json_object_set_new(ab, "key", json_string(k.name));
	json_object_set_new(ab, "key_version", json_integer(w.version));
	json_object_set_new(ab, "key_state", json_string(k.state));
	uint8_t enc[PPML_HPKE_ENC_LEN], ct[32 + 16];
	if (release) {
		struct ppml_hpke_ctx hc;
		uint8_t info[16 + PPML_POLICY_MAX_NAME + 4];
		size_t il = strlen(PPML_BIND_RELEASE), kn = strlen(k.name);
		memcpy(info, PPML_BIND_RELEASE, il);
		memcpy(info + il, k.name, kn);
		il += kn;
		info[il++] = (uint8_t)(w.version >> 24);
		info[il++] = (uint8_t)(w.version >> 16);
		info[il++] = (uint8_t)(w.version >> 8);
		info[il++] = (uint8_t)w.version;
		ppml_status st = ppml_hpke_setup_sender(PPML_HPKE_AEAD_AES256GCM, epk, info, il, NULL,
							0, enc, NULL, &hc, &err);
		if (st == PPML_OK)
			st = ppml_hpke_seal(&hc, nonce, nl, dk, w.key_len, ct, &err);
		ppml_hpke_ctx_cleanup(&hc);
		if (st != PPML_OK) {
			json_decref(ab);
			ppml_http_error(resp, 500, "internal", "sealing the key failed");
			goto out;
		}
	}
	bool logged;
	svc_audit(s, "release", ab, &logged);
	json_decref(ab);
	if (!logged) {
		ppml_http_error(resp, 503, "unavailable",
				"the release could not be recorded in the audit log; retry");
		goto out;
	}
	svc_count_verdict(s, &ev);
	json_t *checks = svc_eval_checks(&ev);
	json_object_set_new(checks, "key", json_string(enabled ? "pass" : "fail"));
	json_t *vj = ppml_verdict_json(&ev.v);
	resp->status = release ? 200 : 403;
	resp->json = json_pack("{s:s, s:o, s:O, s:o, s:{s:s, s:i, s:s}}", "result",
			       release ? "released" : "refused", "checks", checks, "reasons",
			       ev.reasons, "verdict", vj ? vj : json_null(), "key", "name", k.name,
			       "version", (int)w.version, "type", k.type);
	if (release) {
		json_object_set_new(resp->json, "enc", svc_b64j(enc, sizeof(enc)));
		json_object_set_new(resp->json, "ciphertext", svc_b64j(ct, w.key_len + 16));
	} else {
		resp->error_code = "refused";
	}
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	svc_eval_cleanup(&ev);
	EVP_PKEY_free(point);
	json_decref(o);
	free(quote);
	free(nonce);
	free(epk);
}
