/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the files of src/lib/service; not a public interface. */
#ifndef PPML_SERVICE_INTERNAL_H
#define PPML_SERVICE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ppml/dcap.h"
#include "ppml/http.h"
#include "ppml/jwt.h"
#include "ppml/pccs.h"
#include "ppml/pkcs11.h"
#include "ppml/policy.h"
#include "ppml/serve.h"
#include "ppml/store.h"

/* Latency buckets (seconds) of the attest histogram. */
#define NB 9
extern const double BUCKETS[NB];

#define MAX_RETIRED 16

struct ppml_service {
	struct ppml_serve_config c;
	EVP_PKEY *retired[MAX_RETIRED];
	char retired_kid[MAX_RETIRED][PPML_JWT_KID_MAX + 1];
	bool retired_live[MAX_RETIRED];    /* still in the JWKS (tokens may be valid) */
	size_t n_retired;
	char issuer[256];
	EVP_PKEY *tok_key, *sim_key;
	char tok_kid[PPML_JWT_KID_MAX + 1], sim_kid[PPML_JWT_KID_MAX + 1];
	uint8_t nonce_key[32];
	uint8_t master_key[32];            /* wraps primary keys (master.key, 0600) */
	struct ppml_pkcs11_key *master_hsm; /* or an AES-256 key in a token (master.uri) */
	pthread_mutex_t master_lock;       /* one PKCS#11 session: one operation at a time */
	struct ppml_store *store;
	struct ppml_dcap_verifier *verifier;
	struct ppml_pccs_client *pccs;
	struct ppml_pccs_cache *cache;
	struct ppml_collateral_source *coll;
	struct ppml_http_server *http, *metrics;
	char *tls_cert_pem, *tls_key_pem;
	size_t tls_key_len;
	pthread_mutex_t ckpt_lock;
	time_t last_ckpt;
	uint64_t last_ckpt_seq;
	/* metrics */
	atomic_ulong req_total, req_4xx, req_5xx;
	atomic_ulong accepted, refused, by_check[7];
	atomic_ulong hist[NB + 1];
	atomic_ulong hist_sum_us;
};


/* The master key in a token (keys.c): opened, or with create generated
 * when the URI names no key yet, then self-tested. */
ppml_status svc_master_open_hsm(const char *uri, bool create, struct ppml_pkcs11_key **out,
				struct ppml_err *err);

/* Helpers (server.c). */
int64_t svc_now(void);
json_t *svc_b64j(const uint8_t *p, size_t n);
json_t *svc_hexj(const uint8_t *p, size_t n);
json_t *svc_timej(int64_t t);
/* Strict base64 into a fresh buffer of at most max bytes. */
bool svc_b64_field(json_t *o, const char *k, size_t max, uint8_t **out, size_t *len);
/* The body as one strict JSON object, or NULL with a 400 set. */
json_t *svc_parse_body(struct ppml_http_req *r, struct ppml_http_resp *resp);
/* False (with a 400 set) when o has a key outside keys. */
bool svc_only(json_t *o, const char *const *keys, struct ppml_http_resp *resp);
/* Appends to the audit log; *ok false when it could not (logged). */
void svc_audit(struct ppml_service *s, const char *kind, json_t *body, bool *ok);

/* A quote evaluated against a policy, with nonce and REPORTDATA binding. */
struct svc_eval {
	struct ppml_policy_rec pr;
	struct ppml_policy *pol;
	struct ppml_verdict v;
	enum ppml_check c[7];      /* signature_chain..report_data */
	json_t *reasons;
	bool accepted;
	uint8_t quote_sha256[32];
};
bool svc_evaluate(struct ppml_service *s, const char *pname, const uint8_t *quote, size_t ql,
		  const uint8_t *nonce, size_t nl, const char *label, const uint8_t *bind,
		  size_t bind_len, int64_t now, struct svc_eval *ev, struct ppml_http_resp *resp);
void svc_eval_cleanup(struct svc_eval *ev);
json_t *svc_eval_checks(const struct svc_eval *ev);
json_t *svc_eval_audit(const struct svc_eval *ev, const char *pname);
void svc_count_verdict(struct ppml_service *s, const struct svc_eval *ev);

/* The key service (keys.c). */
ppml_status svc_keys_init(struct ppml_service *s, struct ppml_err *err);
void svc_keys_cleanup(struct ppml_service *s);
void svc_h_key_create(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp);
void svc_h_key_list(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp);
void svc_h_key_rotate(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp);
void svc_h_key_disable(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp);
void svc_h_key_destroy(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp);
void svc_h_key_unwrap(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp);
void svc_h_key_datakey(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp);
void svc_h_key_release(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp);

#endif
