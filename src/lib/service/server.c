/* SPDX-License-Identifier: Apache-2.0 */
/* The attestation service (include/ppml/serve.h) on the HTTP layer. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "ppml/client.h"
#include "ppml/dcap.h"
#include "ppml/ec.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/http.h"
#include "ppml/jwt.h"
#include "ppml/limits.h"
#include "ppml/pccs.h"
#include "ppml/policy.h"
#include "ppml/quote.h"
#include "ppml/serve.h"
#include "ppml/store.h"
#include "ppml/timeutil.h"

#include "internal.h"

#define SMALL_BODY   1024u             /* unauthenticated routes without a quote */
#define ATTEST_BODY  (192u * 1024)     /* a 64 KiB quote in base64, and the rest */
#define ADMIN_BODY   PPML_POLICY_MAX_SIZE
#define MAX_RUNTIME_DATA 4096u

const double BUCKETS[NB] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

static const char *const CHECKS[] = {"signature_chain", "collateral", "tcb", "debug",
				     "identity", "nonce", "report_data"};

int64_t svc_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- keys in the state directory ---- */

static ppml_status path_of(const char *dir, const char *name, char *out, size_t n,
			   struct ppml_err *err)
{
	int w = snprintf(out, n, "%s/%s", dir, name);
	if (w < 0 || (size_t)w >= n)
		return ppml_err_set(err, PPML_E_INPUT, "%s: path too long", dir);
	return PPML_OK;
}

static ppml_status write_key(const char *dir, const char *name, struct ppml_err *err)
{
	char p[4200];
	EVP_PKEY *k = ppml_ec_generate();
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n = 0;
	ppml_status rc = path_of(dir, name, p, sizeof(p), err);
	if (rc == PPML_OK && (!k || !b || PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1 ||
			      (n = BIO_get_mem_data(b, &data)) <= 0))
		rc = ppml_err_openssl(err, PPML_E_CRYPTO, "%s: key generation", name);
	if (rc == PPML_OK)
		rc = ppml_file_write_atomic(p, data, (size_t)n, 0600, 1, err);
	if (data && n > 0)
		OPENSSL_cleanse(data, (size_t)n);
	BIO_free(b);
	EVP_PKEY_free(k);
	return rc;
}

static ppml_status load_key(const char *dir, const char *name, EVP_PKEY **out, struct ppml_err *err)
{
	char p[4200], *data = NULL;
	size_t n = 0;
	ppml_status rc = path_of(dir, name, p, sizeof(p), err);
	if (rc == PPML_OK)
		rc = ppml_file_read_secret(p, PPML_KEY_MAX_FILE, "service key", &data, &n, err);
	if (rc != PPML_OK) {
		if (rc == PPML_E_NOTFOUND)
			ppml_err_set(err, rc, "%s: missing: run `ppml serve --init --state-dir %s` "
				     "first", p, dir);
		return rc;
	}
	BIO *b = BIO_new_mem_buf(data, (int)n);
	*out = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	OPENSSL_cleanse(data, n);
	free(data);
	if (!*out || !ppml_ec_is_p256(*out)) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return ppml_err_openssl(err, PPML_E_INPUT, "%s: expected a PEM P-256 private key", p);
	}
	return PPML_OK;
}

ppml_status ppml_serve_init(const char *state_dir, const char *db, const char *master_key,
			    char admin_secret[PPML_CREDENTIAL_LEN + 1], struct ppml_err *err)
{
	char p[4200], dburl[4300], id[17];
	uint8_t nk[32], h[32];
	struct ppml_store *s = NULL;
	ppml_status rc;

	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST)
		return ppml_err_set(err, PPML_E_IO, "%s: %s", state_dir, strerror(errno));
	if ((rc = path_of(state_dir, "token.key", p, sizeof(p), err)) != PPML_OK)
		return rc;
	if (access(p, F_OK) == 0)
		return ppml_err_set(err, PPML_E_EXISTS,
				    "%s already holds a service (token.key exists); use it, or pick "
				    "another --state-dir",
				    state_dir);
	/* A master key in a token is opened (or made) before anything is
	 * written: a wrong PIN or URI leaves the directory as it was. */
	if (master_key) {
		struct ppml_pkcs11_key *k = NULL;
		if (!ppml_pkcs11_is_uri(master_key))
			return ppml_err_set(err, PPML_E_INPUT, "--master-key: expected a pkcs11: URI "
					    "naming an AES-256 key in a token");
		if ((rc = svc_master_open_hsm(master_key, true, &k, err)) != PPML_OK) {
			ppml_err_prefix(err, "master key: ");
			return rc;
		}
		ppml_pkcs11_key_free(k);
	}
	if ((rc = write_key(state_dir, "token.key", err)) != PPML_OK ||
	    (rc = write_key(state_dir, "token-sim.key", err)) != PPML_OK)
		return rc;
	if (RAND_bytes(nk, 32) != 1)
		return ppml_err_set(err, PPML_E_CRYPTO, "no randomness");
	if ((rc = path_of(state_dir, "nonce.key", p, sizeof(p), err)) != PPML_OK ||
	    (rc = ppml_file_write_atomic(p, nk, 32, 0600, 1, err)) != PPML_OK) {
		OPENSSL_cleanse(nk, 32);
		return rc;
	}
	/* The master key of the key service: wraps every primary key.  In a
	 * token, only its URI is kept here. */
	if (master_key) {
		if ((rc = path_of(state_dir, "master.uri", p, sizeof(p), err)) != PPML_OK ||
		    (rc = ppml_file_write_atomic(p, master_key, strlen(master_key), 0600, 1, err)) !=
			    PPML_OK) {
			OPENSSL_cleanse(nk, 32);
			return rc;
		}
	} else if (RAND_bytes(nk, 32) != 1) {
		OPENSSL_cleanse(nk, 32);
		return ppml_err_set(err, PPML_E_CRYPTO, "no randomness");
	} else if ((rc = path_of(state_dir, "master.key", p, sizeof(p), err)) != PPML_OK ||
		   (rc = ppml_file_write_atomic(p, nk, 32, 0600, 1, err)) != PPML_OK) {
		OPENSSL_cleanse(nk, 32);
		return rc;
	}
	OPENSSL_cleanse(nk, 32);
	if (!db) {
		snprintf(dburl, sizeof(dburl), "sqlite:%s/ppml.db", state_dir);
		db = dburl;
	}
	if ((rc = ppml_store_open(db, &s, err)) != PPML_OK)
		return rc;
	rc = ppml_credential_new(admin_secret, h, id, err);
	if (rc == PPML_OK)
		rc = ppml_store_cred_add(s, id, h, "admin", (int64_t)time(NULL), err);
	if (rc == PPML_OK) {
		json_t *b = json_pack("{s:s, s:s, s:s}", "id", id, "role", "admin", "by", "init");
		uint64_t seq;
		rc = ppml_store_audit_append(s, "credential_create", b, (int64_t)time(NULL), &seq, h,
					     err);
		json_decref(b);
	}
	ppml_store_close(s);
	return rc;
}

static ppml_status load_retired(struct ppml_service *s, struct ppml_err *err)
{
	char dir[4200];
	ppml_status rc = path_of(s->c.state_dir, "retired", dir, sizeof(dir), err);
	DIR *d = rc == PPML_OK ? opendir(dir) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d)) && s->n_retired < MAX_RETIRED) {
		size_t n = strlen(de->d_name);
		if (n < 7 || strcmp(de->d_name + n - 6, ".until") != 0)
			continue;
		char kid[PPML_JWT_KID_MAX + 1], up[4400], name[200];
		uint8_t *txt = NULL;
		size_t tl = 0;
		snprintf(kid, sizeof(kid), "%.*s", (int)(n - 6), de->d_name);
		snprintf(up, sizeof(up), "%s/%s", dir, de->d_name);
		if (ppml_file_read(up, 64, &txt, &tl, NULL) != PPML_OK)
			continue;
		long long until = atoll((const char *)txt);
		free(txt);
		EVP_PKEY *k = NULL;
		snprintf(name, sizeof(name), "retired/%s.pem", kid);
		if (load_key(s->c.state_dir, name, &k, err) != PPML_OK) {
			closedir(d);
			return err->code;
		}
		s->retired[s->n_retired] = k;
		/* Out of the JWKS once every token it signed has expired; kept for
		 * the audit checkpoints it signed. */
		s->retired_live[s->n_retired] = until > svc_now();
		snprintf(s->retired_kid[s->n_retired], sizeof(s->retired_kid[0]), "%s", kid);
		s->n_retired++;
	}
	if (d)
		closedir(d);
	return PPML_OK;
}

ppml_status ppml_serve_rotate_token_key(const char *state_dir, const char *db, int64_t keep_s,
					char old_kid[97], char new_kid[97], struct ppml_err *err)
{
	char cur[4200], rdir[4200], dst[4400], until[4400], dburl[4300], txt[32];
	EVP_PKEY *old = NULL, *nk = NULL;
	struct ppml_store *st = NULL;
	ppml_status rc;

	if ((rc = load_key(state_dir, "token.key", &old, err)) != PPML_OK ||
	    (rc = ppml_jwk_thumbprint(old, NULL, old_kid, err)) != PPML_OK ||
	    (rc = path_of(state_dir, "token.key", cur, sizeof(cur), err)) != PPML_OK ||
	    (rc = path_of(state_dir, "retired", rdir, sizeof(rdir), err)) != PPML_OK)
		goto out;
	if (mkdir(rdir, 0700) != 0 && errno != EEXIST) {
		rc = ppml_err_set(err, PPML_E_IO, "%s: %s", rdir, strerror(errno));
		goto out;
	}
	snprintf(dst, sizeof(dst), "%s/%s.pem", rdir, old_kid);
	snprintf(until, sizeof(until), "%s/%s.until", rdir, old_kid);
	int n = snprintf(txt, sizeof(txt), "%lld\n", (long long)(svc_now() + keep_s));
	if ((rc = ppml_file_write_atomic(until, txt, (size_t)n, 0600, 0, err)) != PPML_OK)
		goto out;
	/* The old key vouches for the chain up to the rotation. */
	if (!db) {
		snprintf(dburl, sizeof(dburl), "sqlite:%s/ppml.db", state_dir);
		db = dburl;
	}
	if ((rc = ppml_store_open(db, &st, err)) != PPML_OK)
		goto out;
	{
		json_t *b = json_pack("{s:s, s:I}", "old_kid", old_kid, "old_key_kept_s",
				      (json_int_t)keep_s);
		uint64_t seq;
		uint8_t h[32];
		char sig[90];
		rc = ppml_store_audit_append(st, "token_key_rotate", b, svc_now(), &seq, h, err);
		json_decref(b);
		if (rc == PPML_OK)
			rc = ppml_audit_sign_checkpoint(old, seq, h, sig, err);
		if (rc == PPML_OK)
			rc = ppml_store_checkpoint_add(st, seq, h, svc_now(), old_kid, sig, err);
		if (rc != PPML_OK)
			goto out;
	}
	if (rename(cur, dst) != 0) {
		rc = ppml_err_set(err, PPML_E_IO, "%s: %s", cur, strerror(errno));
		goto out;
	}
	if ((rc = write_key(state_dir, "token.key", err)) != PPML_OK ||
	    (rc = load_key(state_dir, "token.key", &nk, err)) != PPML_OK ||
	    (rc = ppml_jwk_thumbprint(nk, NULL, new_kid, err)) != PPML_OK)
		goto out;
out:
	ppml_store_close(st);
	EVP_PKEY_free(old);
	EVP_PKEY_free(nk);
	return rc;
}

/* ---- helpers ---- */

json_t *svc_b64j(const uint8_t *p, size_t n)
{
	char *s = malloc(4 * ((n + 2) / 3) + 1);
	if (!s)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	json_t *j = json_string(s);
	free(s);
	return j;
}

json_t *svc_hexj(const uint8_t *p, size_t n)
{
	char h[129];
	ppml_hex_encode(p, n, h);
	return json_string(h);
}

json_t *svc_timej(int64_t t)
{
	char s[PPML_TIME_RFC3339_LEN];
	return ppml_time_format(t, s) ? json_string(s) : json_null();
}

/* Strict RFC 4648 section 4 base64 into a fresh buffer of at most max bytes. */
bool svc_b64_field(json_t *o, const char *k, size_t max, uint8_t **out, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, k));
	size_t n = s ? strlen(s) : 0;
	*out = NULL;
	*len = 0;
	if (!s || n % 4 || n / 4 * 3 > max + 2)
		return false;
	if (!(*out = malloc(n / 4 * 3 + 1)))
		return false;
	if (!ppml_base64_decode_strict(s, n, *out, len) || *len > max) {
		free(*out);
		*out = NULL;
		return false;
	}
	return true;
}

json_t *svc_parse_body(struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	json_error_t je;
	json_t *o = json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		ppml_http_error(resp, 400, "bad_json", "the body must be one JSON object%s%s",
				o ? "" : ": ", o ? "" : je.text);
		return NULL;
	}
	return o;
}

bool svc_only(json_t *o, const char *const *keys, struct ppml_http_resp *resp)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		bool ok = false;
		for (size_t i = 0; keys[i] && !ok; i++)
			ok = strcmp(k, keys[i]) == 0;
		if (!ok) {
			ppml_http_error(resp, 400, "unknown_field", "unknown field '%.64s'", k);
			return false;
		}
	}
	return true;
}

void svc_audit(struct ppml_service *s, const char *kind, json_t *body, bool *ok)
{
	uint64_t seq;
	uint8_t h[32];
	struct ppml_err err = {0};
	*ok = ppml_store_audit_append(s->store, kind, body, svc_now(), &seq, h, &err) == PPML_OK;
	if (!*ok && s->c.log) {
		char line[1200];
		snprintf(line, sizeof(line), "audit append failed: %s", err.msg);
		s->c.log(s->c.log_ctx, line);
	}
}

/* ---- routes ---- */

static void h_nonce(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	uint8_t n[PPML_NONCE_LEN];
	int64_t exp;
	(void)r;
	if (ppml_nonce_new(s->nonce_key, svc_now(), s->c.nonce_ttl_s, n, &exp, NULL) != PPML_OK) {
		ppml_http_error(resp, 500, "internal", "no nonce");
		return;
	}
	resp->status = 200;
	resp->json = json_pack("{s:o, s:o}", "nonce", svc_b64j(n, sizeof(n)), "expires_at", svc_timej(exp));
}

static json_t *token_claims(struct ppml_service *s, const struct ppml_verdict *v,
			    const char *aud, const char *policy, const struct ppml_policy_rec *pr,
			    const uint8_t *nonce, size_t nonce_len, int64_t now)
{
	uint8_t jti[16], attrs[16];
	char iss[300];
	json_t *ids = json_array();
	for (size_t i = 0; i < v->n_advisory_ids; i++)
		json_array_append_new(ids, json_string(v->advisory_ids[i]));
	RAND_bytes(jti, sizeof(jti));
	memcpy(attrs, &v->body.attributes_flags, 8);
	memcpy(attrs + 8, &v->body.attributes_xfrm, 8);
	snprintf(iss, sizeof(iss), "%s%s", s->issuer, v->custom_anchor ? "/sim" : "");
	json_t *c = json_object();
	json_object_set_new(c, "iss", json_string(iss));
	json_object_set_new(c, "aud", json_string(aud));
	json_object_set_new(c, "iat", json_integer(now));
	json_object_set_new(c, "nbf", json_integer(now));
	json_object_set_new(c, "exp", json_integer(now + s->c.token_ttl_s));
	json_object_set_new(c, "jti", svc_hexj(jti, sizeof(jti)));
	json_object_set_new(c, "nonce", svc_b64j(nonce, nonce_len));
	json_object_set_new(c, "policy", json_string(policy));
	json_object_set_new(c, "policy_version", json_integer(pr->version));
	json_object_set_new(c, "policy_sha256", json_string(pr->sha256));
	json_object_set_new(c, "simulated", json_boolean(v->custom_anchor));
	json_object_set_new(c, "mrenclave", svc_hexj(v->body.mrenclave, 32));
	json_object_set_new(c, "mrsigner", svc_hexj(v->body.mrsigner, 32));
	json_object_set_new(c, "isvprodid", json_integer(v->body.isv_prod_id));
	json_object_set_new(c, "isvsvn", json_integer(v->body.isv_svn));
	json_object_set_new(c, "debug",
			    json_boolean((v->body.attributes_flags & PPML_SGX_ATTR_DEBUG) != 0));
	json_object_set_new(c, "attributes", svc_hexj(attrs, 16));
	json_object_set_new(c, "report_data", svc_hexj(v->body.report_data, 64));
	json_object_set_new(c, "tcb_status", json_string(ppml_tcb_status_name(v->tcb_status)));
	json_object_set_new(c, "advisory_ids", ids);
	json_object_set_new(c, "tcb_date", svc_timej(v->tcb_date));
	json_object_set_new(c, "collateral_expired", json_boolean(v->collateral_expired));
	return c;
}

/* Everything /v1/attest and /v1/keys/{name}/release share: the policy, the
 * nonce (consumed here), the quote with its collateral, the policy's checks
 * and the REPORTDATA binding under `label`.  False when an HTTP error was
 * set in resp (no verdict). */
bool svc_evaluate(struct ppml_service *s, const char *pname, const uint8_t *quote, size_t ql,
		  const uint8_t *nonce, size_t nl, const char *label, const uint8_t *bind,
		  size_t bind_len, int64_t now, struct svc_eval *ev, struct ppml_http_resp *resp)
{
	struct ppml_err err = {0};
	memset(ev, 0, sizeof(*ev));
	ev->reasons = json_array();
	if (ppml_store_policy_get(s->store, pname, 0, &ev->pr, &err) != PPML_OK) {
		if (err.code == PPML_E_NOTFOUND)
			ppml_http_error(resp, 404, "not_found", "policy %s does not exist", pname);
		else
			ppml_http_error(resp, 503, "unavailable", "the database is unavailable");
		return false;
	}
	if (ppml_policy_parse(ev->pr.body, strlen(ev->pr.body), &ev->pol, &err) != PPML_OK) {
		ppml_http_error(resp, 500, "internal", "stored policy %s does not parse", pname);
		return false;
	}

	/* The nonce: issued here, unexpired, and consumed now, whatever follows. */
	int64_t nexp = 0;
	struct ppml_err nerr = {0};
	if (ppml_nonce_check(s->nonce_key, nonce, nl, now, &nexp, &nerr) != PPML_OK) {
		ev->c[5] = PPML_CHECK_FAIL;
		json_array_append_new(ev->reasons, json_sprintf("nonce: %s", nerr.msg + 7));
	} else {
		uint8_t nh[32];
		bool first = false;
		EVP_Digest(nonce, nl, nh, NULL, EVP_sha256(), NULL);
		if (ppml_store_nonce_consume(s->store, nh, nexp, now, &first, &err) != PPML_OK) {
			ppml_http_error(resp, 503, "unavailable", "the database is unavailable");
			return false;
		}
		ev->c[5] = first ? PPML_CHECK_PASS : PPML_CHECK_FAIL;
		if (!first)
			json_array_append_new(ev->reasons,
					      json_string("nonce: already used (a replayed request)"));
	}

	/* The quote, with the collateral of its platform. */
	struct ppml_quote q;
	struct ppml_pck_ext ext;
	bool platform = false;
	struct ppml_collateral coll = {0};
	struct ppml_err qerr = {0};
	ppml_status vst;
	struct ppml_verdict *v = &ev->v;
	if (ppml_quote_parse(quote, ql, &q, &qerr) != PPML_OK ||
	    ppml_quote_pck_info(&q, &ext, &platform, &qerr) != PPML_OK) {
		v->failure = PPML_QV_QUOTE_FORMAT;
		vst = PPML_E_INPUT;
	} else if (ppml_collateral_source_get(s->coll, ext.fmspc,
					      platform ? PPML_PCK_CA_PLATFORM : PPML_PCK_CA_PROCESSOR,
					      now, &coll, &qerr) != PPML_OK) {
		v->failure = PPML_QV_COLLATERAL_FORMAT;
		vst = PPML_E_NOTFOUND;
	} else {
		vst = ppml_dcap_verify(s->verifier, quote, ql, &coll, now, v, &qerr);
		if (vst != PPML_OK && v->failure == PPML_QV_OK)
			v->failure = PPML_QV_QUOTE_FORMAT;
	}
	ppml_collateral_cleanup(&coll);
	struct ppml_policy_result pres;
	ppml_policy_eval(ev->pol, v, now, &pres);
	ev->c[0] = pres.signature_chain;
	ev->c[1] = pres.collateral;
	ev->c[2] = pres.tcb;
	ev->c[3] = pres.debug;
	ev->c[4] = pres.identity;
	for (size_t i = 0; i < pres.n_reasons; i++)
		json_array_append_new(ev->reasons, json_string(pres.reasons[i]));
	if (vst != PPML_OK && qerr.msg[0])
		json_array_append_new(ev->reasons, json_sprintf("%s: %.400s",
								ppml_qv_failure_check(v->failure),
								qerr.msg));

	/* REPORTDATA binds this nonce and the request's data, under the route's label. */
	if (v->has_quote) {
		uint8_t want[32];
		static const uint8_t zero[32];
		ppml_report_data_binding(label, nonce, nl, bind, bind_len, want);
		bool ok = CRYPTO_memcmp(want, v->body.report_data, 32) == 0 &&
			  CRYPTO_memcmp(zero, v->body.report_data + 32, 32) == 0;
		ev->c[6] = ok ? PPML_CHECK_PASS : PPML_CHECK_FAIL;
		if (!ok)
			json_array_append_new(
				ev->reasons,
				json_sprintf("report_data: REPORTDATA does not bind this request "
					     "(SHA-256 of \"%s\\0\" || u32be len || nonce || u32be "
					     "len || data, then 32 zero bytes)",
					     label));
	}
	ev->accepted = pres.accepted && ev->c[5] == PPML_CHECK_PASS && ev->c[6] == PPML_CHECK_PASS;
	EVP_Digest(quote, ql, ev->quote_sha256, NULL, EVP_sha256(), NULL);
	return true;
}

void svc_eval_cleanup(struct svc_eval *ev)
{
	ppml_verdict_cleanup(&ev->v);
	ppml_policy_free(ev->pol);
	ppml_policy_rec_cleanup(&ev->pr);
	json_decref(ev->reasons);
	memset(ev, 0, sizeof(*ev));
}

json_t *svc_eval_checks(const struct svc_eval *ev)
{
	json_t *checks = json_object();
	for (size_t i = 0; i < 7; i++)
		json_object_set_new(checks, CHECKS[i], json_string(ppml_check_name(ev->c[i])));
	return checks;
}

/* The audit body of a verdict: never the quote, nonce, token or key bytes. */
json_t *svc_eval_audit(const struct svc_eval *ev, const char *pname)
{
	const struct ppml_verdict *v = &ev->v;
	json_t *ab = json_pack("{s:s, s:s, s:i, s:o, s:o, s:O, s:b}", "result",
			       ev->accepted ? "accepted" : "refused", "policy", pname,
			       "policy_version", (int)ev->pr.version, "quote_sha256",
			       svc_hexj(ev->quote_sha256, 32), "checks", svc_eval_checks(ev),
			       "reasons", ev->reasons, "simulated", v->custom_anchor);
	if (v->has_quote) {
		json_object_set_new(ab, "mrenclave", svc_hexj(v->body.mrenclave, 32));
		json_object_set_new(ab, "mrsigner", svc_hexj(v->body.mrsigner, 32));
		json_object_set_new(ab, "isvprodid", json_integer(v->body.isv_prod_id));
		json_object_set_new(ab, "isvsvn", json_integer(v->body.isv_svn));
	}
	if (v->failure == PPML_QV_OK)
		json_object_set_new(ab, "tcb_status",
				    json_string(ppml_tcb_status_name(v->tcb_status)));
	return ab;
}

void svc_count_verdict(struct ppml_service *s, const struct svc_eval *ev)
{
	atomic_fetch_add(ev->accepted ? &s->accepted : &s->refused, 1);
	for (size_t i = 0; i < 7; i++)
		if (ev->c[i] == PPML_CHECK_FAIL)
			atomic_fetch_add(&s->by_check[i], 1);
}

static void h_attest(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	static const char *const keys[] = {"quote", "nonce", "runtime_data", "policy", "aud", NULL};
	struct ppml_service *s = ctx;
	json_t *o = svc_parse_body(r, resp);
	uint8_t *quote = NULL, *nonce = NULL, *rd = NULL;
	size_t ql = 0, nl = 0, rdl = 0;
	struct svc_eval ev = {0};
	struct ppml_err err = {0};
	int64_t now = svc_now();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	if (!o || !svc_only(o, keys, resp))
		goto out;
	const char *pname = json_string_value(json_object_get(o, "policy"));
	const char *aud = json_string_value(json_object_get(o, "aud"));
	if (!pname || !ppml_policy_name_ok(pname)) {
		ppml_http_error(resp, 400, "bad_request",
				"policy: the name of a policy is required ([A-Za-z0-9._-], 1..128)");
		goto out;
	}
	if (json_object_get(o, "aud") && (!aud || !*aud || strlen(aud) > 256)) {
		ppml_http_error(resp, 400, "bad_request", "aud: expected a string of 1..256 bytes");
		goto out;
	}
	if (!svc_b64_field(o, "quote", PPML_QUOTE_MAX_SIZE, &quote, &ql) || ql == 0) {
		ppml_http_error(resp, 400, "bad_request", "quote: expected base64 (RFC 4648) of at "
				"most %u bytes", PPML_QUOTE_MAX_SIZE);
		goto out;
	}
	if (!svc_b64_field(o, "nonce", 64, &nonce, &nl) || nl == 0) {
		ppml_http_error(resp, 400, "bad_request",
				"nonce: expected the base64 nonce from POST /v1/attest/nonce");
		goto out;
	}
	if (json_object_get(o, "runtime_data") &&
	    !svc_b64_field(o, "runtime_data", MAX_RUNTIME_DATA, &rd, &rdl)) {
		ppml_http_error(resp, 400, "bad_request",
				"runtime_data: expected base64 of at most %u bytes", MAX_RUNTIME_DATA);
		goto out;
	}
	if (!svc_evaluate(s, pname, quote, ql, nonce, nl, PPML_BIND_ATTEST, rd, rdl, now, &ev,
			  resp))
		goto out;

	/* The audit entry first: no token without a durable record. */
	json_t *ab = svc_eval_audit(&ev, pname);
	json_t *claims = NULL;
	char *token = NULL;
	const struct ppml_verdict *v = &ev.v;
	if (ev.accepted) {
		claims = token_claims(s, v, aud ? aud : ev.pol->audience ? ev.pol->audience : pname,
				      pname, &ev.pr, nonce, nl, now);
		if (!claims ||
		    ppml_jwt_sign(v->custom_anchor ? s->sim_key : s->tok_key,
				  v->custom_anchor ? s->sim_kid : s->tok_kid, claims, &token,
				  &err) != PPML_OK) {
			json_decref(ab);
			json_decref(claims);
			ppml_http_error(resp, 500, "internal", "token signing failed");
			goto out;
		}
		json_object_set_new(ab, "jti", json_copy(json_object_get(claims, "jti")));
	}
	bool logged;
	svc_audit(s, "verdict", ab, &logged);
	json_decref(ab);
	if (!logged) {
		json_decref(claims);
		free(token);
		ppml_http_error(resp, 503, "unavailable",
				"the verdict could not be recorded in the audit log; retry");
		goto out;
	}
	svc_count_verdict(s, &ev);
	json_t *vj = ppml_verdict_json(v);
	resp->status = ev.accepted ? 200 : 403;
	resp->json = json_pack("{s:s, s:o, s:O, s:o}", "result",
			       ev.accepted ? "accepted" : "refused", "checks", svc_eval_checks(&ev),
			       "reasons", ev.reasons, "verdict", vj ? vj : json_null());
	if (token)
		json_object_set_new(resp->json, "token", json_string(token));
	if (!ev.accepted)
		resp->error_code = "refused";
	json_decref(claims);
	free(token);
out:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	size_t b = 0;
	while (b < NB && sec > BUCKETS[b])
		b++;
	atomic_fetch_add(&s->hist[b], 1);
	atomic_fetch_add(&s->hist_sum_us, (unsigned long)(sec * 1e6));
	svc_eval_cleanup(&ev);
	json_decref(o);
	free(quote);
	free(nonce);
	free(rd);
}

static void h_jwks(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	(void)r;
	resp->status = 200;
	resp->json = json_pack("{s:[o, o]}", "keys", ppml_jwk_public(s->tok_key, s->tok_kid),
			       ppml_jwk_public(s->sim_key, s->sim_kid));
	/* Rotated-out keys verify the tokens they signed until those expire. */
	for (size_t i = 0; i < s->n_retired; i++)
		if (s->retired_live[i])
			json_array_append_new(json_object_get(resp->json, "keys"),
					      ppml_jwk_public(s->retired[i], s->retired_kid[i]));
}

static void h_healthz(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	(void)r;
	bool ok = ppml_store_ping(s->store);
	resp->status = ok ? 200 : 503;
	resp->json = json_pack("{s:s, s:b}", "status", ok ? "ok" : "unavailable", "database", ok);
}

static void policy_json(const struct ppml_policy_rec *pr, json_t *o)
{
	json_object_set_new(o, "name", json_string(pr->name));
	json_object_set_new(o, "version", json_integer(pr->version));
	json_object_set_new(o, "sha256", json_string(pr->sha256));
	json_object_set_new(o, "created_at", svc_timej(pr->created_at));
}

static void h_policy_put(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	const char *name = r->params[0];
	struct ppml_policy *p = NULL;
	struct ppml_err err = {0};
	char *canon = NULL, sha[65];
	uint32_t version = 0;
	if (!ppml_policy_name_ok(name)) {
		ppml_http_error(resp, 400, "bad_request", "policy names are [A-Za-z0-9._-], 1..128");
		return;
	}
	if (ppml_policy_parse((const char *)r->body, r->body_len, &p, &err) != PPML_OK) {
		ppml_http_error(resp, 400, "bad_policy", "%.400s", err.msg);
		return;
	}
	if (ppml_policy_canonical(p, &canon, sha, &err) != PPML_OK ||
	    ppml_store_policy_put(s->store, name, canon, sha, svc_now(), &version, &err) != PPML_OK) {
		ppml_http_error(resp, 503, "unavailable", "the policy could not be stored");
		goto out;
	}
	json_t *ab = json_pack("{s:s, s:i, s:s, s:s}", "name", name, "version", (int)version,
			       "sha256", sha, "by", (const char *)r->auth);
	bool logged;
	svc_audit(s, "policy_put", ab, &logged);
	json_decref(ab);
	if (!logged) {
		ppml_http_error(resp, 503, "unavailable", "the change could not be audited");
		goto out;
	}
	resp->status = 201;
	resp->json = json_pack("{s:s, s:i, s:s}", "name", name, "version", (int)version, "sha256",
			       sha);
out:
	free(canon);
	ppml_policy_free(p);
}

static void h_policy_get(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	struct ppml_policy_rec pr;
	struct ppml_err err = {0};
	const char *vs = ppml_http_query(r, "version");
	uint32_t version = 0;
	if (vs) {
		char *end;
		unsigned long x = strtoul(vs, &end, 10);
		if (*end || end == vs || x == 0 || x > 0xffffffffu) {
			ppml_http_error(resp, 400, "bad_request", "version: expected a positive integer");
			return;
		}
		version = (uint32_t)x;
	}
	if (ppml_store_policy_get(s->store, r->params[0], version, &pr, &err) != PPML_OK) {
		ppml_http_error(resp, err.code == PPML_E_NOTFOUND ? 404 : 503,
				err.code == PPML_E_NOTFOUND ? "not_found" : "unavailable", "%s",
				err.msg);
		return;
	}
	resp->status = 200;
	resp->json = json_object();
	policy_json(&pr, resp->json);
	json_t *body = json_loads(pr.body, 0, NULL);
	json_object_set_new(resp->json, "policy", body ? body : json_null());
	ppml_policy_rec_cleanup(&pr);
}

static void h_policy_delete(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	struct ppml_err err = {0};
	if (ppml_store_policy_delete(s->store, r->params[0], svc_now(), &err) != PPML_OK) {
		ppml_http_error(resp, err.code == PPML_E_NOTFOUND ? 404 : 503,
				err.code == PPML_E_NOTFOUND ? "not_found" : "unavailable", "%s",
				err.msg);
		return;
	}
	json_t *ab = json_pack("{s:s, s:s}", "name", r->params[0], "by", (const char *)r->auth);
	bool logged;
	svc_audit(s, "policy_delete", ab, &logged);
	json_decref(ab);
	resp->status = logged ? 200 : 503;
	resp->json = logged ? json_pack("{s:s, s:b}", "name", r->params[0], "deleted", 1)
			    : json_pack("{s:{s:s, s:s}}", "error", "code", "unavailable", "message",
					"the deletion could not be audited");
}

static void h_policy_list(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	struct ppml_policy_rec *list = NULL;
	size_t n = 0;
	(void)r;
	if (ppml_store_policy_list(s->store, &list, &n, NULL) != PPML_OK) {
		ppml_http_error(resp, 503, "unavailable", "the database is unavailable");
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		policy_json(&list[i], e);
		json_array_append_new(a, e);
		ppml_policy_rec_cleanup(&list[i]);
	}
	free(list);
	resp->status = 200;
	resp->json = json_pack("{s:o}", "policies", a);
}

static void h_cred_create(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	static const char *const keys[] = {"role", NULL};
	struct ppml_service *s = ctx;
	json_t *o = svc_parse_body(r, resp);
	char secret[PPML_CREDENTIAL_LEN + 1], id[17];
	uint8_t h[32];
	if (!o || !svc_only(o, keys, resp))
		goto out;
	const char *role = json_string_value(json_object_get(o, "role"));
	if (!role || !ppml_role_ok(role)) {
		ppml_http_error(resp, 400, "bad_request",
				"role: expected admin, metrics or encrypt:<key name>");
		goto out;
	}
	if (ppml_credential_new(secret, h, id, NULL) != PPML_OK ||
	    ppml_store_cred_add(s->store, id, h, role, svc_now(), NULL) != PPML_OK) {
		ppml_http_error(resp, 503, "unavailable", "the credential could not be stored");
		goto out;
	}
	json_t *ab = json_pack("{s:s, s:s, s:s}", "id", id, "role", role, "by", (const char *)r->auth);
	bool logged;
	svc_audit(s, "credential_create", ab, &logged);
	json_decref(ab);
	if (!logged) {
		/* Unaudited credentials must not stay usable. */
		if (ppml_store_cred_revoke(s->store, id, svc_now(), NULL) != PPML_OK && s->c.log)
			s->c.log(s->c.log_ctx, "credential created without audit could not be "
					       "revoked");
		ppml_http_error(resp, 503, "unavailable", "the change could not be audited");
		goto out;
	}
	resp->status = 201;
	resp->json = json_pack("{s:s, s:s, s:s}", "id", id, "role", role, "secret", secret);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	json_decref(o);
}

static void h_cred_revoke(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	struct ppml_err err = {0};
	if (ppml_store_cred_revoke(s->store, r->params[0], svc_now(), &err) != PPML_OK) {
		ppml_http_error(resp, err.code == PPML_E_NOTFOUND ? 404 : 503,
				err.code == PPML_E_NOTFOUND ? "not_found" : "unavailable", "%s",
				err.msg);
		return;
	}
	json_t *ab = json_pack("{s:s, s:s}", "id", r->params[0], "by", (const char *)r->auth);
	bool logged;
	svc_audit(s, "credential_revoke", ab, &logged);
	json_decref(ab);
	resp->status = 200;
	resp->json = json_pack("{s:s, s:b}", "id", r->params[0], "revoked", 1);
}

static void h_audit(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	const char *fs = ppml_http_query(r, "from"), *ls = ppml_http_query(r, "limit");
	unsigned long long from = fs ? strtoull(fs, NULL, 10) : 1, limit = ls ? strtoull(ls, NULL, 10)
									 : 10000;
	json_t *e = NULL, *c = NULL;
	uint64_t seq;
	uint8_t h[32];
	if (from == 0)
		from = 1;
	if (limit == 0 || limit > 100000)
		limit = 100000;
	if (ppml_store_audit_read(s->store, from, (size_t)limit, &e, NULL) != PPML_OK ||
	    ppml_store_checkpoints(s->store, &c, NULL) != PPML_OK ||
	    ppml_store_audit_head(s->store, &seq, h, NULL) != PPML_OK) {
		json_decref(e);
		ppml_http_error(resp, 503, "unavailable", "the database is unavailable");
		return;
	}
	/* Every key that ever signed a checkpoint, retired ones included. */
	json_t *keys = json_pack("[o]", ppml_jwk_public(s->tok_key, s->tok_kid));
	for (size_t i = 0; i < s->n_retired; i++)
		json_array_append_new(keys, ppml_jwk_public(s->retired[i], s->retired_kid[i]));
	resp->status = 200;
	resp->json = json_pack("{s:o, s:o, s:{s:I, s:o}, s:o}", "entries", e, "checkpoints", c,
			       "head", "seq", (json_int_t)seq, "hash", svc_hexj(h, 32), "keys", keys);
}

static void h_self_quote(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	const char *dev = s->c.dev_attestation ? s->c.dev_attestation : PPML_GRAMINE_ATTESTATION_DIR;
	const char *ns = ppml_http_query(r, "nonce");
	struct stat st;
	if (stat(dev, &st) != 0) {
		ppml_http_error(resp, 404, "not_found",
				"this service does not run inside an SGX enclave (no %s)", dev);
		return;
	}
	size_t nl = ns ? strlen(ns) : 0;
	if (!ns || nl == 0 || nl > 128) {
		ppml_http_error(resp, 400, "bad_request", "nonce: 1..128 characters of the client's "
				"choosing");
		return;
	}
	/* REPORTDATA = binding of the nonce and the SHA-256 of the TLS certificate. */
	uint8_t rd[64] = {0}, ch[32], *q = NULL;
	size_t ql = 0;
	enum ppml_quote_source src;
	const char *cert = s->tls_cert_pem ? s->tls_cert_pem : "";
	EVP_Digest(cert, strlen(cert), ch, NULL, EVP_sha256(), NULL);
	ppml_report_data_binding("ppml-self-v1", (const uint8_t *)ns, nl, ch, 32, rd);
	if (ppml_client_get_quote(s->c.dev_attestation, rd, &q, &ql, &src, NULL) != PPML_OK) {
		ppml_http_error(resp, 503, "unavailable", "no quote from %s", dev);
		return;
	}
	resp->status = 200;
	resp->json = json_pack("{s:o, s:o, s:s}", "quote", svc_b64j(q, ql), "tls_cert_sha256",
			       svc_hexj(ch, 32), "binding", "ppml-self-v1");
	free(q);
}

static void h_metrics(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	struct ppml_service *s = ctx;
	char *buf = malloc(8192);
	size_t o = 0;
	(void)r;
	if (!buf) {
		ppml_http_error(resp, 500, "internal", "out of memory");
		return;
	}
#define OUT(...) o += (size_t)snprintf(buf + o, 8192 - o, __VA_ARGS__)
	OUT("# HELP ppml_requests_total HTTP requests answered.\n# TYPE ppml_requests_total "
	    "counter\n");
	OUT("ppml_requests_total{class=\"all\"} %lu\n", atomic_load(&s->req_total));
	OUT("ppml_requests_total{class=\"4xx\"} %lu\n", atomic_load(&s->req_4xx));
	OUT("ppml_requests_total{class=\"5xx\"} %lu\n", atomic_load(&s->req_5xx));
	OUT("# HELP ppml_verdicts_total Attestation verdicts by outcome.\n# TYPE "
	    "ppml_verdicts_total counter\n");
	OUT("ppml_verdicts_total{result=\"accepted\"} %lu\n", atomic_load(&s->accepted));
	OUT("ppml_verdicts_total{result=\"refused\"} %lu\n", atomic_load(&s->refused));
	OUT("# HELP ppml_refusals_total Failed checks in refused verdicts.\n# TYPE "
	    "ppml_refusals_total counter\n");
	for (size_t i = 0; i < 7; i++)
		OUT("ppml_refusals_total{check=\"%s\"} %lu\n", CHECKS[i], atomic_load(&s->by_check[i]));
	OUT("# HELP ppml_attest_seconds Attestation request latency.\n# TYPE ppml_attest_seconds "
	    "histogram\n");
	unsigned long cum = 0;
	for (size_t i = 0; i < NB; i++) {
		cum += atomic_load(&s->hist[i]);
		OUT("ppml_attest_seconds_bucket{le=\"%g\"} %lu\n", BUCKETS[i], cum);
	}
	cum += atomic_load(&s->hist[NB]);
	OUT("ppml_attest_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
	OUT("ppml_attest_seconds_sum %.6f\nppml_attest_seconds_count %lu\n",
	    (double)atomic_load(&s->hist_sum_us) / 1e6, cum);
#undef OUT
	resp->status = 200;
	resp->text = buf;
	resp->text_len = o < 8192 ? o : 8191;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static const struct ppml_http_route ROUTES[] = {
	{"POST", "/v1/attest/nonce", SMALL_BODY, NULL, h_nonce},
	{"POST", "/v1/attest", ATTEST_BODY, NULL, h_attest},
	{"GET", "/.well-known/jwks.json", 0, NULL, h_jwks},
	{"GET", "/healthz", 0, NULL, h_healthz},
	{"GET", "/v1/self/quote", 0, NULL, h_self_quote},
	{"GET", "/v1/policies", 0, "admin", h_policy_list},
	{"PUT", "/v1/policies/{}", ADMIN_BODY, "admin", h_policy_put},
	{"GET", "/v1/policies/{}", 0, "admin", h_policy_get},
	{"DELETE", "/v1/policies/{}", 0, "admin", h_policy_delete},
	{"POST", "/v1/credentials", SMALL_BODY, "admin", h_cred_create},
	{"DELETE", "/v1/credentials/{}", 0, "admin", h_cred_revoke},
	{"GET", "/v1/audit", 0, "admin", h_audit},
	{"POST", "/v1/keys", SMALL_BODY, "admin", svc_h_key_create},
	{"GET", "/v1/keys", 0, "admin", svc_h_key_list},
	{"POST", "/v1/keys/{}/rotate", SMALL_BODY, "admin", svc_h_key_rotate},
	{"POST", "/v1/keys/{}/disable", SMALL_BODY, "admin", svc_h_key_disable},
	{"POST", "/v1/keys/{}/destroy", SMALL_BODY, "admin", svc_h_key_destroy},
	{"POST", "/v1/keys/{}/unwrap", 4096, "admin", svc_h_key_unwrap},
	{"POST", "/v1/keys/{}/datakey", SMALL_BODY, "encrypt:{}", svc_h_key_datakey},
	{"POST", "/v1/keys/{}/release", ATTEST_BODY, NULL, svc_h_key_release},
};

static const struct ppml_http_route METRICS_ROUTES[] = {
	{"GET", "/metrics", 0, NULL, h_metrics},
	{"GET", "/healthz", 0, NULL, h_healthz},
};

/* Bearer credentials, looked up by hash; the id is what handlers log. */
static bool authorize(void *ctx, const struct ppml_http_req *r, const char *role, void **auth,
		      unsigned *status, char *why, size_t why_len)
{
	struct ppml_service *s = ctx;
	uint8_t h[32];
	char id[65], have[160];
	if (!r->bearer || !*r->bearer || strlen(r->bearer) > 256) {
		*status = 401;
		snprintf(why, why_len, "this route needs a credential (Authorization: Bearer ...)");
		return false;
	}
	uint8_t stored[32];
	ppml_credential_hash(r->bearer, h);
	/* The id is derived from the hash; the full hash is then compared in
	 * constant time, never by the database. */
	ppml_hex_encode(h, 8, id);
	if (ppml_store_cred_get(s->store, id, stored, have, NULL) != PPML_OK ||
	    CRYPTO_memcmp(stored, h, 32) != 0) {
		*status = 401;
		snprintf(why, why_len, "unknown or revoked credential");
		return false;
	}
	/* "encrypt:{}" is the role for this route's key name. */
	char need[200];
	size_t rl = strlen(role);
	if (rl >= 2 && !strcmp(role + rl - 2, "{}"))
		snprintf(need, sizeof(need), "%.*s%s", (int)(rl - 2), role, r->params[0]);
	else
		snprintf(need, sizeof(need), "%s", role);
	role = need;
	if (strcmp(have, "admin") != 0 && strcmp(have, role) != 0) {
		*status = 403;
		snprintf(why, why_len, "credential %s has role %s; this route needs %s", id, have,
			 role);
		return false;
	}
	*auth = strdup(id);
	return *auth != NULL;
}

static void auth_free(void *ctx, void *auth)
{
	(void)ctx;
	free(auth);
}

static void log_req(void *ctx, const struct ppml_http_req *r, unsigned status, const char *code,
		    double sec)
{
	struct ppml_service *s = ctx;
	atomic_fetch_add(&s->req_total, 1);
	if (status >= 500)
		atomic_fetch_add(&s->req_5xx, 1);
	else if (status >= 400)
		atomic_fetch_add(&s->req_4xx, 1);
	if (!s->c.log)
		return;
	char line[600], ts[PPML_TIME_RFC3339_LEN];
	ppml_time_format(svc_now(), ts);
	/* Method, path, status and timing only: never bodies or credentials. */
	snprintf(line, sizeof(line), "%s %s %s %.200s %u%s%s %.1fms%s%s", ts, r->peer, r->method,
		 r->path, status, code ? " " : "", code ? code : "", sec * 1e3,
		 r->auth ? " by " : "", r->auth ? (const char *)r->auth : "");
	s->c.log(s->c.log_ctx, line);
}

/* ---- lifecycle ---- */

static void checkpoint(struct ppml_service *s, bool force)
{
	uint64_t seq;
	uint8_t h[32];
	char sig[90];
	pthread_mutex_lock(&s->ckpt_lock);
	time_t t = time(NULL);
	if ((force || t - s->last_ckpt >= s->c.checkpoint_interval_s) &&
	    ppml_store_audit_head(s->store, &seq, h, NULL) == PPML_OK && seq &&
	    seq != s->last_ckpt_seq &&
	    ppml_audit_sign_checkpoint(s->tok_key, seq, h, sig, NULL) == PPML_OK &&
	    ppml_store_checkpoint_add(s->store, seq, h, (int64_t)t, s->tok_kid, sig, NULL) ==
		    PPML_OK) {
		s->last_ckpt_seq = seq;
		s->last_ckpt = t;
	}
	pthread_mutex_unlock(&s->ckpt_lock);
}

void ppml_serve_tick(struct ppml_service *s)
{
	checkpoint(s, false);
}

void ppml_serve_stop(struct ppml_service *s)
{
	if (!s)
		return;
	ppml_http_stop(s->http);
	ppml_http_stop(s->metrics);
	if (s->store && s->tok_key)
		checkpoint(s, true);
	ppml_collateral_source_free(s->coll);
	ppml_pccs_cache_free(s->cache);
	ppml_pccs_client_free(s->pccs);
	ppml_dcap_verifier_free(s->verifier);
	ppml_store_close(s->store);
	EVP_PKEY_free(s->tok_key);
	EVP_PKEY_free(s->sim_key);
	for (size_t i = 0; i < s->n_retired; i++)
		EVP_PKEY_free(s->retired[i]);
	OPENSSL_cleanse(s->nonce_key, sizeof(s->nonce_key));
	svc_keys_cleanup(s);
	if (s->tls_key_pem) {
		OPENSSL_cleanse(s->tls_key_pem, s->tls_key_len);
		free(s->tls_key_pem);
	}
	free(s->tls_cert_pem);
	pthread_mutex_destroy(&s->ckpt_lock);
	free(s);
}

ppml_status ppml_serve_start(const struct ppml_serve_config *c, struct ppml_service **out,
			     struct ppml_err *err)
{
	struct ppml_service *s = calloc(1, sizeof(*s));
	char p[4200], dburl[4300];
	uint8_t *nk = NULL, *root = NULL;
	size_t nkl = 0, rootl = 0;
	ppml_status rc;

	*out = NULL;
	if (!s)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	pthread_mutex_init(&s->ckpt_lock, NULL);
	s->c = *c;
	if (!s->c.listen)
		s->c.listen = "127.0.0.1:8443";
	if (!s->c.token_ttl_s)
		s->c.token_ttl_s = 300;
	if (!s->c.nonce_ttl_s)
		s->c.nonce_ttl_s = 300;
	if (!s->c.checkpoint_interval_s)
		s->c.checkpoint_interval_s = 60;
	snprintf(s->issuer, sizeof(s->issuer), "%s", c->issuer ? c->issuer : "ppml-serve");
	if (!c->state_dir) {
		rc = ppml_err_set(err, PPML_E_INPUT, "--state-dir is required");
		goto fail;
	}
	if (!c->insecure_http && (!c->tls_cert || !c->tls_key)) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "HTTPS needs --tls-cert and --tls-key (plain HTTP only with "
				  "--insecure-http, for local tests)");
		goto fail;
	}
	if ((rc = load_key(c->state_dir, "token.key", &s->tok_key, err)) != PPML_OK ||
	    (rc = load_key(c->state_dir, "token-sim.key", &s->sim_key, err)) != PPML_OK ||
	    (rc = ppml_jwk_thumbprint(s->tok_key, NULL, s->tok_kid, err)) != PPML_OK ||
	    (rc = ppml_jwk_thumbprint(s->sim_key, "sim-", s->sim_kid, err)) != PPML_OK ||
	    (rc = load_retired(s, err)) != PPML_OK ||
	    (rc = path_of(c->state_dir, "nonce.key", p, sizeof(p), err)) != PPML_OK ||
	    (rc = ppml_file_read(p, 64, &nk, &nkl, err)) != PPML_OK)
		goto fail;
	if (nkl != 32) {
		rc = ppml_err_set(err, PPML_E_INPUT, "%s: expected 32 bytes", p);
		goto fail;
	}
	memcpy(s->nonce_key, nk, 32);
	OPENSSL_cleanse(nk, nkl);
	if ((rc = svc_keys_init(s, err)) != PPML_OK)
		goto fail;
	if (!c->db)
		snprintf(dburl, sizeof(dburl), "sqlite:%s/ppml.db", c->state_dir);
	if ((rc = ppml_store_open(c->db ? c->db : dburl, &s->store, err)) != PPML_OK)
		goto fail;
	if (c->sim_root_ca &&
	    (rc = ppml_file_read(c->sim_root_ca, PPML_KEY_MAX_FILE, &root, &rootl, err)) != PPML_OK)
		goto fail;
	if ((rc = ppml_dcap_verifier_new(root, rootl, &s->verifier, err)) != PPML_OK) {
		ppml_err_prefix(err, "--sim-root-ca %s: ", c->sim_root_ca);
		goto fail;
	}
	if (c->pccs_url) {
		struct ppml_pccs_options po = {.cacert = c->pccs_cacert};
		if ((rc = ppml_pccs_client_new(c->pccs_url, &po, &s->pccs, err)) != PPML_OK ||
		    (rc = ppml_pccs_cache_new(s->pccs, 256, &s->cache, err)) != PPML_OK)
			goto fail;
	}
	if ((rc = ppml_collateral_source_new(c->collateral_dirs, c->n_collateral_dirs, s->cache,
					     &s->coll, err)) != PPML_OK)
		goto fail;
	if (c->tls_cert) {
		uint8_t *cert = NULL;
		char *key = NULL;
		size_t cl = 0;
		if ((rc = ppml_file_read(c->tls_cert, 1 << 20, &cert, &cl, err)) != PPML_OK ||
		    (rc = ppml_file_read_secret(c->tls_key, PPML_KEY_MAX_FILE, "TLS key", &key,
						&s->tls_key_len, err)) != PPML_OK) {
			free(cert);
			goto fail;
		}
		s->tls_cert_pem = (char *)cert;
		s->tls_key_pem = key;
	}
	struct ppml_http_options ho = {
		.listen = s->c.listen, .tls_cert_pem = s->tls_cert_pem,
		.tls_key_pem = s->tls_key_pem, .threads = c->threads ? c->threads : 8,
		.max_connections = c->max_connections ? c->max_connections : 512,
		.timeout_s = c->timeout_s ? c->timeout_s : 30, .routes = ROUTES,
		.n_routes = sizeof(ROUTES) / sizeof(ROUTES[0]), .authorize = authorize,
		.auth_free = auth_free, .log = log_req, .ctx = s};
	if ((rc = ppml_http_start(&ho, &s->http, err)) != PPML_OK)
		goto fail;
	if (c->metrics_listen) {
		struct ppml_http_options mo = {.listen = c->metrics_listen, .threads = 1,
					       .max_connections = 16, .timeout_s = 10,
					       .routes = METRICS_ROUTES,
					       .n_routes = sizeof(METRICS_ROUTES) /
							   sizeof(METRICS_ROUTES[0]),
					       .ctx = s};
		if ((rc = ppml_http_start(&mo, &s->metrics, err)) != PPML_OK) {
			ppml_err_prefix(err, "--metrics-listen: ");
			goto fail;
		}
	}
	s->last_ckpt = time(NULL);
	free(nk);
	free(root);
	*out = s;
	return PPML_OK;
fail:
	free(nk);
	free(root);
	ppml_serve_stop(s);
	return rc;
}

uint16_t ppml_serve_port(const struct ppml_service *s)
{
	return ppml_http_port(s->http);
}

uint16_t ppml_serve_metrics_port(const struct ppml_service *s)
{
	return s->metrics ? ppml_http_port(s->metrics) : 0;
}
