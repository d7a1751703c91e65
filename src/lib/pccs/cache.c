/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fetch cache: collateral sets keyed by (FMSPC, CA), reused until the
 * earliest nextUpdate of the set (spec section 4.6; TCB info, QE identity
 * and PCK CRLs are re-issued with a 30-day nextUpdate, section 5).
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "ppml/limits.h"
#include "ppml/pccs.h"
#include "ppml/timeutil.h"

static ppml_status json_next_update(const uint8_t *json, size_t len, const char *key,
				    const char *what, int64_t *out, struct ppml_err *err)
{
	json_error_t je;
	json_t *o = NULL;
	const char *s;
	ppml_status rc = PPML_OK;

	if (!json || len > PPML_COLLATERAL_MAX_JSON)
		return ppml_err_set(err, PPML_E_INPUT, "%s: missing or over %u bytes", what,
				    PPML_COLLATERAL_MAX_JSON);
	o = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &je);
	s = json_string_value(json_object_get(json_object_get(o, key), "nextUpdate"));
	if (!s || !ppml_time_parse_intel(s, out))
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "%s: no %s.nextUpdate of the form YYYY-MM-DDThh:mm:ssZ", what, key);
	json_decref(o);
	return rc;
}

static ppml_status crl_next_update(const uint8_t *der, size_t len, const char *what, int64_t *out,
				   struct ppml_err *err)
{
	const unsigned char *p = der;
	X509_CRL *crl = NULL;
	const ASN1_TIME *t;
	struct tm tm;
	ppml_status rc = PPML_OK;

	if (!der || len > PPML_COLLATERAL_MAX_FILE || len > (size_t)LONG_MAX)
		return ppml_err_set(err, PPML_E_INPUT, "%s: missing or too large", what);
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (!crl || p != der + len)
		rc = ppml_err_openssl(err, PPML_E_INPUT, "%s: not one DER CRL", what);
	else if (!(t = X509_CRL_get0_nextUpdate(crl)) || !ASN1_TIME_to_tm(t, &tm) ||
		 !ppml_time_from_tm(&tm, out))
		rc = ppml_err_openssl(err, PPML_E_INPUT, "%s: no usable nextUpdate", what);
	X509_CRL_free(crl);
	return rc;
}

ppml_status ppml_collateral_next_update(const struct ppml_collateral *c, int64_t *out,
					struct ppml_err *err)
{
	int64_t t[4];
	ppml_status rc;

	rc = json_next_update(c->tcb_info, c->tcb_info_len, "tcbInfo", "TCB info", &t[0], err);
	if (rc == PPML_OK)
		rc = json_next_update(c->qe_identity, c->qe_identity_len, "enclaveIdentity",
				      "QE identity", &t[1], err);
	if (rc == PPML_OK)
		rc = crl_next_update(c->pck_crl, c->pck_crl_len, "PCK CRL", &t[2], err);
	if (rc == PPML_OK)
		rc = crl_next_update(c->root_ca_crl, c->root_ca_crl_len, "Root CA CRL", &t[3], err);
	if (rc != PPML_OK)
		return rc;
	*out = t[0];
	for (int i = 1; i < 4; i++)
		if (t[i] < *out)
			*out = t[i];
	return PPML_OK;
}

struct entry {
	bool used;
	uint8_t fmspc[6];
	enum ppml_pck_ca ca;
	int64_t expires;            /* earliest nextUpdate */
	struct ppml_collateral set;
};

struct ppml_pccs_cache {
	struct ppml_pccs_client *client;
	pthread_mutex_t lock;
	size_t cap;
	struct entry *e;
};

ppml_status ppml_pccs_cache_new(struct ppml_pccs_client *client, size_t max_entries,
				struct ppml_pccs_cache **out, struct ppml_err *err)
{
	struct ppml_pccs_cache *c;

	*out = NULL;
	if (!max_entries)
		max_entries = PPML_DCAP_CACHE_SETS;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->e = calloc(max_entries, sizeof(*c->e)))) {
		free(c);
		return ppml_err_set(err, PPML_E_NOMEM, "PCCS cache: out of memory");
	}
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->e);
		free(c);
		return ppml_err_set(err, PPML_E_INTERNAL, "PCCS cache: cannot create its mutex");
	}
	c->client = client;
	c->cap = max_entries;
	*out = c;
	return PPML_OK;
}

void ppml_pccs_cache_free(struct ppml_pccs_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		ppml_collateral_cleanup(&c->e[i].set);
	pthread_mutex_destroy(&c->lock);
	free(c->e);
	free(c);
}

static struct entry *find(struct ppml_pccs_cache *c, const uint8_t fmspc[6], enum ppml_pck_ca ca)
{
	for (size_t i = 0; i < c->cap; i++)
		if (c->e[i].used && c->e[i].ca == ca && memcmp(c->e[i].fmspc, fmspc, 6) == 0)
			return &c->e[i];
	return NULL;
}

ppml_status ppml_pccs_cache_get(struct ppml_pccs_cache *c, const uint8_t fmspc[6],
				enum ppml_pck_ca ca, int64_t at, struct ppml_collateral *out,
				bool *from_cache, struct ppml_err *err)
{
	struct ppml_collateral fresh = {0}, keep = {0};
	struct entry *e;
	int64_t expires;
	ppml_status rc;

	memset(out, 0, sizeof(*out));
	if (from_cache)
		*from_cache = false;
	pthread_mutex_lock(&c->lock);
	e = find(c, fmspc, ca);
	if (e && at < e->expires) {
		rc = ppml_collateral_copy(out, &e->set, err);
		pthread_mutex_unlock(&c->lock);
		if (rc == PPML_OK && from_cache)
			*from_cache = true;
		return rc;
	}
	pthread_mutex_unlock(&c->lock);

	/* Fetch without the lock: other keys stay served meanwhile. */
	rc = ppml_pccs_fetch_collateral(c->client, fmspc, ca, &fresh, err);
	if (rc == PPML_OK)
		rc = ppml_collateral_next_update(&fresh, &expires, err);
	if (rc == PPML_OK && at < expires)
		rc = ppml_collateral_copy(&keep, &fresh, err);
	if (rc != PPML_OK) {
		ppml_collateral_cleanup(&fresh);
		return rc;
	}
	if (keep.tcb_info) {
		pthread_mutex_lock(&c->lock);
		e = find(c, fmspc, ca);
		for (size_t i = 0; !e && i < c->cap; i++)
			if (!c->e[i].used)
				e = &c->e[i];
		if (!e) { /* full: drop the set that expires first */
			e = &c->e[0];
			for (size_t i = 1; i < c->cap; i++)
				if (c->e[i].expires < e->expires)
					e = &c->e[i];
		}
		ppml_collateral_cleanup(&e->set);
		e->set = keep;
		e->used = true;
		memcpy(e->fmspc, fmspc, 6);
		e->ca = ca;
		e->expires = expires;
		pthread_mutex_unlock(&c->lock);
	}
	*out = fresh;
	return PPML_OK;
}
