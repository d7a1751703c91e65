/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCAP quote verification in QvE's order (shared/spec/dcap-quote-verification.md
 * section 4).  Two cacheable units:
 *   - a PCK chain (keyed by SHA-256 of the quote's certification data):
 *     parsed certificates, their signatures, the SGX extension;
 *   - a collateral set (keyed by SHA-256 of the seven items): parsed JSON and
 *     CRLs, the TCB signing chains, the JSON signatures, the Root CA CRL
 *     signature.
 * Everything that depends on the verification time (expiry, CRL windows) or
 * pairs a chain with a set (revocation, issuer names, FMSPC) is checked on
 * every call.  Without the cache both units are built and dropped per call.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppml/dcap.h"
#include "ppml/ec.h"
#include "ppml/limits.h"
#include "ppml/timeutil.h"

/* Does some CN of name contain s? */
static bool cn_contains(const X509_NAME *name, const char *s)
{
	int i = -1;
	while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0) {
		const ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
		int n = ASN1_STRING_length(d);
		const unsigned char *p = ASN1_STRING_get0_data(d);
		size_t sl = strlen(s);
		for (int j = 0; n >= 0 && (size_t)n >= sl && j + sl <= (size_t)n; j++)
			if (memcmp(p + j, s, sl) == 0)
				return true;
	}
	return false;
}

/* Raw DER equality of two names. */
static bool name_eq(const X509_NAME *a, const X509_NAME *b)
{
	const unsigned char *da, *db;
	size_t la, lb;
	if (X509_NAME_get0_der(a, &da, &la) != 1 || X509_NAME_get0_der(b, &db, &lb) != 1)
		return false;
	return la == lb && memcmp(da, db, la) == 0;
}

static bool self_issued(X509 *c)
{
	return name_eq(X509_get_subject_name(c), X509_get_issuer_name(c));
}

static bool asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	return t && ASN1_TIME_to_tm(t, &tm) == 1 && ppml_time_from_tm(&tm, out);
}

static bool same_signature(X509 *a, X509 *b)
{
	const ASN1_BIT_STRING *sa, *sb;
	X509_get0_signature(&sa, NULL, a);
	X509_get0_signature(&sb, NULL, b);
	return ASN1_STRING_length(sa) == ASN1_STRING_length(sb) &&
	       memcmp(ASN1_STRING_get0_data(sa), ASN1_STRING_get0_data(sb),
		      (size_t)ASN1_STRING_length(sa)) == 0;
}

static bool crl_revokes(X509_CRL *crl, X509 *cert)
{
	X509_REVOKED *r = NULL;
	return X509_CRL_get0_by_serial(crl, &r, X509_get0_serialNumber(cert)) == 1;
}

/* ---- trust anchors ---- */

struct anchor {
	X509 *cert;
	EVP_PKEY *key; /* borrowed from cert */
	uint8_t sha256[32];
	bool custom;
};

/* ---- the PCK chain unit ---- */

struct pck_unit {
	uint8_t id[32];           /* SHA-256 of the certification data */
	unsigned refs;
	X509 *root, *ca, *pck;
	const struct anchor *anchor;
	struct ppml_pck_ext ext;
	int64_t not_after_min;    /* of the three certificates */
	int64_t root_na, ca_na, pck_na;
	/* Failure found while building (reported in QvE order by the caller). */
	enum ppml_qv_failure fail;
	char msg[PPML_ERR_MSG_MAX + 256];
	/* The PCK CRL whose signature this chain's CA verified (cache). */
	bool crl_ok_valid;
	uint8_t crl_ok_id[32];
	/* The last attestation key seen with this chain (a platform's QE key
	 * changes rarely). */
	uint8_t att_raw[64];
	EVP_PKEY *att_key;
};

static void pck_unit_free(struct pck_unit *u)
{
	if (!u)
		return;
	X509_free(u->root);
	X509_free(u->ca);
	X509_free(u->pck);
	EVP_PKEY_free(u->att_key);
	free(u);
}

/* ---- the collateral unit ---- */

struct coll_unit {
	uint8_t id[32];
	unsigned refs;
	X509_CRL *root_crl, *pck_crl;
	uint8_t pck_crl_id[32];
	X509 *tcb_root, *tcb_signer, *qe_root, *qe_signer;
	X509 *crl_chain[2];
	struct ppml_tcb_info tcb;
	struct ppml_qe_identity qe;
	int64_t root_crl_this, root_crl_next, pck_crl_this, pck_crl_next;
	int64_t not_after_min;    /* signing chains, PCK CRL chain, CRLs, JSON nextUpdate */
	/* Results of the quote-independent checks (PPML_QV_OK when passed). */
	enum ppml_qv_failure root_crl_fail, tcb_fail, qe_fail;
	char root_crl_msg[256], tcb_msg[256], qe_msg[256];
};

static void coll_unit_free(struct coll_unit *u)
{
	if (!u)
		return;
	X509_CRL_free(u->root_crl);
	X509_CRL_free(u->pck_crl);
	X509_free(u->tcb_root);
	X509_free(u->tcb_signer);
	X509_free(u->qe_root);
	X509_free(u->qe_signer);
	X509_free(u->crl_chain[0]);
	X509_free(u->crl_chain[1]);
	ppml_tcb_info_cleanup(&u->tcb);
	ppml_qe_identity_cleanup(&u->qe);
	free(u);
}

/* ---- the verifier ---- */

struct ppml_dcap_verifier {
	struct anchor anchors[2];
	size_t n_anchors;
	bool cache;
	pthread_mutex_t lock;
	struct pck_unit *pcks[PPML_DCAP_CACHE_PCK]; /* open addressing by id */
	size_t n_pcks;
	struct coll_unit *colls[PPML_DCAP_CACHE_SETS]; /* most recent first */
	size_t n_colls;
};

static ppml_status anchor_init(struct anchor *a, const uint8_t *data, size_t len, bool custom,
			       struct ppml_err *err)
{
	const unsigned char *p = data;
	X509 *c = NULL;

	if (len > 11 && memcmp(data, "-----BEGIN ", 11) == 0) {
		struct ppml_pem_chain ch;
		ppml_status rc = ppml_pem_chain_parse(data, len, 1, &ch, err);
		if (rc != PPML_OK) {
			ppml_err_prefix(err, "root CA: ");
			return rc;
		}
		p = ch.der[0];
		c = d2i_X509(NULL, &p, (long)ch.der_len[0]);
		if (c && p != ch.der[0] + ch.der_len[0]) {
			X509_free(c);
			c = NULL;
		}
		if (c)
			SHA256(ch.der[0], ch.der_len[0], a->sha256);
		ppml_pem_chain_free(&ch);
	} else {
		c = d2i_X509(NULL, &p, (long)len);
		if (c && p != data + len) {
			X509_free(c);
			c = NULL;
		}
		if (c)
			SHA256(data, len, a->sha256);
	}
	if (!c)
		return ppml_err_openssl(err, PPML_E_INPUT,
					"root CA: not one X.509 certificate (PEM or DER)");
	a->cert = c;
	a->key = X509_get0_pubkey(c);
	a->custom = custom;
	if (!ppml_ec_is_p256(a->key))
		return ppml_err_set(err, PPML_E_INPUT, "root CA: expected a P-256 ECDSA key");
	if (!self_issued(c) || X509_verify(c, a->key) != 1) {
		ERR_clear_error();
		return ppml_err_set(err, PPML_E_INPUT,
				    "root CA: not a self-signed certificate (its signature does not "
				    "verify with its own key)");
	}
	return PPML_OK;
}

ppml_status ppml_dcap_verifier_new(const uint8_t *custom_root, size_t custom_root_len,
				   struct ppml_dcap_verifier **out, struct ppml_err *err)
{
	struct ppml_dcap_verifier *v = calloc(1, sizeof(*v));
	ppml_status rc;

	*out = NULL;
	if (!v)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	pthread_mutex_init(&v->lock, NULL);
	v->cache = true;
	rc = anchor_init(&v->anchors[0], ppml_intel_sgx_root_ca_der,
			 ppml_intel_sgx_root_ca_der_len, false, err);
	if (rc != PPML_OK) {
		ppml_err_prefix(err, "pinned Intel root: ");
		goto fail;
	}
	v->n_anchors = 1;
	if (custom_root) {
		rc = anchor_init(&v->anchors[1], custom_root, custom_root_len, true, err);
		v->n_anchors = 2;
		if (rc != PPML_OK)
			goto fail;
		if (EVP_PKEY_eq(v->anchors[0].key, v->anchors[1].key) == 1) {
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "root CA: this is Intel's SGX Root CA key, which is always "
					  "trusted; --root-ca is for test and simulation roots");
			goto fail;
		}
	}
	*out = v;
	return PPML_OK;
fail:
	ppml_dcap_verifier_free(v);
	return rc;
}

static void pck_release(struct ppml_dcap_verifier *v, struct pck_unit *u)
{
	bool last;
	if (!u)
		return;
	pthread_mutex_lock(&v->lock);
	last = --u->refs == 0;
	pthread_mutex_unlock(&v->lock);
	if (last)
		pck_unit_free(u);
}

static void coll_release(struct ppml_dcap_verifier *v, struct coll_unit *u)
{
	bool last;
	if (!u)
		return;
	pthread_mutex_lock(&v->lock);
	last = --u->refs == 0;
	pthread_mutex_unlock(&v->lock);
	if (last)
		coll_unit_free(u);
}

static void cache_clear(struct ppml_dcap_verifier *v)
{
	for (size_t i = 0; i < PPML_DCAP_CACHE_PCK; i++)
		if (v->pcks[i]) {
			pck_release(v, v->pcks[i]);
			v->pcks[i] = NULL;
		}
	v->n_pcks = 0;
	for (size_t i = 0; i < v->n_colls; i++)
		coll_release(v, v->colls[i]);
	v->n_colls = 0;
}

void ppml_dcap_verifier_free(struct ppml_dcap_verifier *v)
{
	if (!v)
		return;
	cache_clear(v);
	for (size_t i = 0; i < 2; i++)
		X509_free(v->anchors[i].cert);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

void ppml_dcap_verifier_set_cache(struct ppml_dcap_verifier *v, bool enabled)
{
	v->cache = enabled;
	if (!enabled)
		cache_clear(v);
}

/* ---- building the PCK chain unit (section 4.1 steps 1-4) ---- */

/* Index of the SGX extension in c, or -1. */
static int sgx_ext_index(X509 *c)
{
	ASN1_OBJECT *o = OBJ_txt2obj(PPML_SGX_EXT_OID, 1);
	int idx = o ? X509_get_ext_by_OBJ(c, o, -1) : -1;
	ASN1_OBJECT_free(o);
	ERR_clear_error();
	return idx;
}

/* Certificates parsed during one verification, by DER bytes: the roots,
 * the TCB signing certificate and the PCK CA recur across the four chains,
 * and parsing X.509 (its public key) is the costliest step after ECDSA. */
#define POOL_MAX 16
struct cert_pool {
	size_t n;
	uint8_t *der[POOL_MAX];
	size_t len[POOL_MAX];
	X509 *cert[POOL_MAX];
	/* Signature checks done in this call: the root's self-signature and
	 * the Root CA CRL recur in the PCK chain and both signing chains
	 * (section 4.1-4.3); the same bytes and key are verified once. */
	size_t n_sigs;
	const void *sig_obj[POOL_MAX];
	const EVP_PKEY *sig_key[POOL_MAX];
	bool sig_ok[POOL_MAX];
};

static void pool_free(struct cert_pool *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->der[i]);
		X509_free(p->cert[i]);
	}
	p->n = 0;
	p->n_sigs = 0;
}

/* X509_verify / X509_CRL_verify, each (object, key) pair at most once per call. */
static bool pool_verify(struct cert_pool *p, X509 *cert, X509_CRL *crl, EVP_PKEY *key)
{
	const void *obj = cert ? (const void *)cert : (const void *)crl;
	bool ok;
	for (size_t i = 0; p && i < p->n_sigs; i++)
		if (p->sig_obj[i] == obj && p->sig_key[i] == key)
			return p->sig_ok[i];
	ok = cert ? X509_verify(cert, key) == 1 : X509_CRL_verify(crl, key) == 1;
	ERR_clear_error();
	if (p && p->n_sigs < POOL_MAX) {
		p->sig_obj[p->n_sigs] = obj;
		p->sig_key[p->n_sigs] = key;
		p->sig_ok[p->n_sigs++] = ok;
	}
	return ok;
}

static X509 *der_cert(const uint8_t *der, size_t len);

/* A new reference to the certificate with these DER bytes, or NULL. */
static X509 *pool_cert(struct cert_pool *p, const uint8_t *der, size_t len)
{
	X509 *c;
	for (size_t i = 0; p && i < p->n; i++)
		if (p->len[i] == len && memcmp(p->der[i], der, len) == 0)
			return X509_up_ref(p->cert[i]) == 1 ? p->cert[i] : NULL;
	c = der_cert(der, len);
	if (c && p && p->n < POOL_MAX) {
		uint8_t *copy = malloc(len);
		if (copy && X509_up_ref(c) == 1) {
			memcpy(copy, der, len);
			p->der[p->n] = copy;
			p->len[p->n] = len;
			p->cert[p->n++] = c;
		} else {
			free(copy);
		}
	}
	return c;
}

static X509 *der_cert(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *c = d2i_X509(NULL, &p, (long)len);
	if (c && p != der + len) {
		X509_free(c);
		c = NULL;
	}
	return c;
}

#define UFAIL(u, f, ...)                                              \
	do {                                                          \
		(u)->fail = (f);                                      \
		snprintf((u)->msg, sizeof((u)->msg), __VA_ARGS__);    \
		return PPML_OK;                                       \
	} while (0)

static const struct anchor *find_anchor(const struct ppml_dcap_verifier *v, X509 *root)
{
	EVP_PKEY *k = X509_get0_pubkey(root);
	for (size_t i = 0; i < v->n_anchors; i++)
		if (k && EVP_PKEY_eq(k, v->anchors[i].key) == 1)
			return &v->anchors[i];
	ERR_clear_error();
	return NULL;
}

/* Returns PPML_OK with u->fail set for verification failures; an error
 * status only for allocation failures. */
static ppml_status pck_unit_build(const struct ppml_dcap_verifier *v, const struct ppml_quote *q,
				  struct cert_pool *pool, struct pck_unit *u, struct ppml_err *err)
{
	struct ppml_pem_chain ch;
	struct ppml_err e2 = {0};
	X509 *certs[3] = {NULL, NULL, NULL};

	if (q->cert_type != PPML_QUOTE_CERT_PCK_CHAIN)
		UFAIL(u, PPML_QV_QUOTE_FORMAT,
		      "quote: certification data type %u: expected 5 (PCK certificate chain)",
		      q->cert_type);
	if (ppml_pem_chain_parse(q->cert_data, q->cert_len, 3, &ch, &e2) != PPML_OK)
		UFAIL(u, PPML_QV_QUOTE_FORMAT, "quote: PCK chain at offset %zu: %s", q->cert_offset,
		      e2.msg);
	for (size_t i = 0; i < 3; i++)
		certs[i] = pool_cert(pool, ch.der[i], ch.der_len[i]);
	ppml_pem_chain_free(&ch);
	ERR_clear_error();
	if (!certs[0] || !certs[1] || !certs[2]) {
		for (size_t i = 0; i < 3; i++)
			X509_free(certs[i]);
		UFAIL(u, PPML_QV_QUOTE_FORMAT,
		      "quote: PCK chain: a certificate is not DER X.509");
	}
	/* Classify by content (section 4.1), not position. */
	for (size_t i = 0; i < 3; i++) {
		X509 *c = certs[i];
		X509_NAME *sn = X509_get_subject_name(c);
		X509 **slot = NULL;
		if (self_issued(c) && cn_contains(sn, "SGX Root CA"))
			slot = &u->root;
		else if (cn_contains(sn, "SGX PCK Certificate"))
			slot = &u->pck;
		else if (!self_issued(c) && cn_contains(sn, "CA"))
			slot = &u->ca;
		if (!slot || *slot) {
			for (size_t j = i; j < 3; j++)
				X509_free(certs[j]);
			UFAIL(u, PPML_QV_PCK_CHAIN,
			      "PCK chain: certificate %zu is not the one root (self-issued, CN "
			      "\"SGX Root CA\"), CA or PCK certificate (CN \"SGX PCK Certificate\") "
			      "the chain needs",
			      i + 1);
		}
		*slot = c;
	}
	/* The QvE pin: the chain's root key is a trust anchor. */
	u->anchor = find_anchor(v, u->root);
	if (!u->anchor)
		UFAIL(u, PPML_QV_UNTRUSTED_ROOT,
		      "PCK chain: the root certificate's key is not Intel's SGX Root CA key%s",
		      v->n_anchors > 1 ? " nor the custom root's"
				       : " (a simulated quote verifies only with its simulation "
					 "root configured as the custom root)");
	EVP_PKEY *rk = X509_get0_pubkey(u->root), *ck = X509_get0_pubkey(u->ca);
	EVP_PKEY *pk = X509_get0_pubkey(u->pck);
	if (!ppml_ec_is_p256(rk) || !ppml_ec_is_p256(ck) || !ppml_ec_is_p256(pk))
		UFAIL(u, PPML_QV_PCK_CHAIN, "PCK chain: every key must be ECDSA P-256");
	if (!pool_verify(pool, u->root, NULL, rk))
		UFAIL(u, PPML_QV_PCK_CHAIN, "PCK chain: the root's self-signature does not verify");
	if (!name_eq(X509_get_issuer_name(u->ca), X509_get_subject_name(u->root)) ||
	    !pool_verify(pool, u->ca, NULL, rk))
		UFAIL(u, PPML_QV_PCK_CHAIN,
		      "PCK chain: the PCK CA certificate is not issued and signed by the root");
	if (!name_eq(X509_get_issuer_name(u->pck), X509_get_subject_name(u->ca)) ||
	    !pool_verify(pool, u->pck, NULL, ck))
		UFAIL(u, PPML_QV_PCK_CHAIN,
		      "PCK chain: the PCK certificate is not issued and signed by the PCK CA");
	/* Section 4.1 step 4: the chain's root has the anchor's signature bytes
	 * (QvE hands QVL the chain's own root, so for Intel the key pin above
	 * is the binding check; for a custom root we require the very cert). */
	if (u->anchor->custom && !same_signature(u->root, u->anchor->cert))
		UFAIL(u, PPML_QV_UNTRUSTED_ROOT,
		      "PCK chain: the root is not the custom root certificate");
	/* The SGX extension (section 3). */
	int idx = sgx_ext_index(u->pck);
	if (idx < 0)
		UFAIL(u, PPML_QV_PCK_CHAIN, "PCK certificate: no SGX extension (%s)",
		      PPML_SGX_EXT_OID);
	ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(u->pck, idx));
	if (ppml_pck_ext_parse(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os), &u->ext,
			       &e2) != PPML_OK)
		UFAIL(u, PPML_QV_PCK_CHAIN, "PCK certificate: %s", e2.msg);
	if (!asn1_time_unix(X509_get0_notAfter(u->root), &u->root_na) ||
	    !asn1_time_unix(X509_get0_notAfter(u->ca), &u->ca_na) ||
	    !asn1_time_unix(X509_get0_notAfter(u->pck), &u->pck_na))
		UFAIL(u, PPML_QV_PCK_CHAIN, "PCK chain: unreadable notAfter");
	u->not_after_min = u->root_na < u->ca_na ? u->root_na : u->ca_na;
	if (u->pck_na < u->not_after_min)
		u->not_after_min = u->pck_na;
	(void)err;
	return PPML_OK;
}

ppml_status ppml_quote_pck_info(const struct ppml_quote *q, struct ppml_pck_ext *ext,
				bool *platform_ca, struct ppml_err *err)
{
	struct ppml_pem_chain ch;
	ppml_status rc;
	X509 *pck = NULL;

	if (q->cert_type != PPML_QUOTE_CERT_PCK_CHAIN)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: certification data type %u: expected 5 (PCK chain)",
				    q->cert_type);
	if ((rc = ppml_pem_chain_parse(q->cert_data, q->cert_len, 0, &ch, err)) != PPML_OK) {
		ppml_err_prefix(err, "quote: PCK chain at offset %zu: ", q->cert_offset);
		return rc;
	}
	for (size_t i = 0; i < ch.count && !pck; i++) {
		X509 *c = der_cert(ch.der[i], ch.der_len[i]);
		if (c && cn_contains(X509_get_subject_name(c), "SGX PCK Certificate"))
			pck = c;
		else
			X509_free(c);
	}
	ppml_pem_chain_free(&ch);
	ERR_clear_error();
	if (!pck)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: no certificate with CN \"SGX PCK Certificate\" in the chain");
	const X509_NAME *iss = X509_get_issuer_name(pck);
	bool plat = cn_contains(iss, "Platform"), proc = cn_contains(iss, "Processor");
	int idx = sgx_ext_index(pck);
	if (idx < 0) {
		rc = ppml_err_set(err, PPML_E_INPUT, "PCK certificate: no SGX extension (%s)",
				  PPML_SGX_EXT_OID);
	} else if (plat == proc) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "PCK certificate: issuer CN names neither a Platform nor a "
				  "Processor CA");
	} else {
		ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(pck, idx));
		rc = ppml_pck_ext_parse(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os),
					ext, err);
		*platform_ca = plat;
	}
	X509_free(pck);
	return rc;
}

/* ---- building the collateral unit ---- */

static X509_CRL *load_crl(const uint8_t *data, size_t len, struct ppml_err *err)
{
	uint8_t *der = NULL;
	size_t dl;
	X509_CRL *crl = NULL;

	if (ppml_crl_to_der(data, len, &der, &dl, err) != PPML_OK)
		return NULL;
	const unsigned char *p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)dl);
	if (crl && p != der + dl) {
		X509_CRL_free(crl);
		crl = NULL;
	}
	if (!crl)
		ppml_err_openssl(err, PPML_E_INPUT, "not a DER X.509 CRL");
	free(der);
	return crl;
}

static bool crl_window(X509_CRL *crl, int64_t *this_u, int64_t *next_u)
{
	return asn1_time_unix(X509_CRL_get0_lastUpdate(crl), this_u) &&
	       asn1_time_unix(X509_CRL_get0_nextUpdate(crl), next_u);
}

/* Section 4.1 step 5: issuer name, CRL Number and AKI, signature. */
static const char *crl_check(struct cert_pool *pool, X509_CRL *crl, X509 *issuer)
{
	if (!name_eq(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)))
		return "its issuer is not the expected CA";
	if (X509_CRL_get_ext_by_NID(crl, NID_crl_number, -1) < 0 ||
	    X509_CRL_get_ext_by_NID(crl, NID_authority_key_identifier, -1) < 0)
		return "it lacks the CRL Number or Authority Key Identifier extension";
	if (!pool_verify(pool, NULL, crl, X509_get0_pubkey(issuer)))
		return "its signature does not verify";
	return NULL;
}

/* A 2-certificate TCB signing chain (section 4.2): [0] signer, [1] root. */
static ppml_status load_chain2(const uint8_t *pem, size_t len, struct cert_pool *pool,
			       X509 **signer, X509 **root, struct ppml_err *err)
{
	struct ppml_pem_chain ch;
	ppml_status rc = ppml_pem_chain_parse(pem, len, 2, &ch, err);
	if (rc != PPML_OK)
		return rc;
	X509 *a = pool_cert(pool, ch.der[0], ch.der_len[0]);
	X509 *b = pool_cert(pool, ch.der[1], ch.der_len[1]);
	ppml_pem_chain_free(&ch);
	if (!a || !b) {
		X509_free(a);
		X509_free(b);
		return ppml_err_openssl(err, PPML_E_INPUT, "a certificate is not DER X.509");
	}
	/* Classified by content: the root is the self-issued one. */
	if (self_issued(a) && !self_issued(b)) {
		X509 *t = a;
		a = b;
		b = t;
	}
	*signer = a;
	*root = b;
	return PPML_OK;
}

/* The signing-chain checks of 4.2/4.3 that do not depend on the quote. */
static void signing_chain_check(struct cert_pool *pool, X509 *signer, X509 *root,
				X509_CRL *root_crl, const uint8_t *body,
				size_t body_len, const uint8_t sig[64], bool is_tcb,
				enum ppml_qv_failure *fail, char *msg, size_t msg_len)
{
	const char *what = is_tcb ? "TCB info" : "QE identity";
	EVP_PKEY *rk = X509_get0_pubkey(root), *sk = X509_get0_pubkey(signer);
	const char *why;

	*fail = PPML_QV_TCB_SIGNING_CHAIN;
	if (!self_issued(root) || !cn_contains(X509_get_subject_name(root), "SGX Root CA") ||
	    !ppml_ec_is_p256(rk) || !pool_verify(pool, root, NULL, rk)) {
		snprintf(msg, msg_len, "%s issuer chain: no self-signed \"SGX Root CA\" root", what);
		goto out;
	}
	if (!cn_contains(X509_get_subject_name(signer), "SGX TCB Signing") ||
	    !name_eq(X509_get_issuer_name(signer), X509_get_subject_name(root)) || !ppml_ec_is_p256(sk) ||
	    !pool_verify(pool, signer, NULL, rk)) {
		snprintf(msg, msg_len,
			 "%s issuer chain: the signing certificate is not an \"SGX TCB Signing\" "
			 "certificate issued and signed by the root",
			 what);
		goto out;
	}
	if ((why = crl_check(pool, root_crl, root)) != NULL) {
		*fail = PPML_QV_CRL;
		snprintf(msg, msg_len, "Root CA CRL (for the %s chain): %s", what, why);
		goto out;
	}
	if (crl_revokes(root_crl, signer)) {
		*fail = PPML_QV_TCB_SIGNING_REVOKED;
		snprintf(msg, msg_len, "%s signing certificate is revoked by the Root CA CRL", what);
		goto out;
	}
	uint8_t dummy = 0;
	if (!ppml_ec_verify_raw(sk, body ? body : &dummy, body_len, sig)) {
		*fail = is_tcb ? PPML_QV_TCB_INFO_SIGNATURE : PPML_QV_QE_IDENTITY_SIGNATURE;
		snprintf(msg, msg_len, "%s: the signature does not verify with the TCB signing key",
			 what);
		goto out;
	}
	*fail = PPML_QV_OK;
out:
	ERR_clear_error();
}

static bool sha256_items(const struct ppml_collateral *c, uint8_t out[32])
{
	const uint8_t *items[] = {c->tcb_info, c->tcb_info_issuer_chain, c->qe_identity,
				  c->qe_identity_issuer_chain, c->pck_crl, c->pck_crl_issuer_chain,
				  c->root_ca_crl};
	const size_t lens[] = {c->tcb_info_len, c->tcb_info_issuer_chain_len, c->qe_identity_len,
			       c->qe_identity_issuer_chain_len, c->pck_crl_len,
			       c->pck_crl_issuer_chain_len, c->root_ca_crl_len};
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	for (size_t i = 0; ok && i < 7; i++) {
		uint64_t l = lens[i];
		ok = EVP_DigestUpdate(ctx, &l, sizeof(l)) == 1 &&
		     (!l || EVP_DigestUpdate(ctx, items[i], l) == 1);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Parses (format errors: PPML_E_INPUT in err) and runs the quote-independent
 * checks (recorded in the unit). */
static ppml_status coll_unit_build(const struct ppml_collateral *c, struct cert_pool *pool,
				   struct coll_unit *u, struct ppml_err *err)
{
	ppml_status rc;
	int64_t na;

#define NEED(field, name)                                                                   \
	if (!c->field || !c->field##_len)                                                  \
		return ppml_err_set(err, PPML_E_INPUT, "collateral: %s is missing or empty", \
				    name);
	NEED(tcb_info, "tcb_info.json");
	NEED(tcb_info_issuer_chain, "tcb_info_issuer_chain.pem");
	NEED(qe_identity, "qe_identity.json");
	NEED(qe_identity_issuer_chain, "qe_identity_issuer_chain.pem");
	NEED(pck_crl, "pck_crl.der");
	NEED(pck_crl_issuer_chain, "pck_crl_issuer_chain.pem");
	NEED(root_ca_crl, "root_ca_crl.der");
#undef NEED
	if (!(u->root_crl = load_crl(c->root_ca_crl, c->root_ca_crl_len, err))) {
		ppml_err_prefix(err, "root_ca_crl.der: ");
		return PPML_E_INPUT;
	}
	if (!(u->pck_crl = load_crl(c->pck_crl, c->pck_crl_len, err))) {
		ppml_err_prefix(err, "pck_crl.der: ");
		return PPML_E_INPUT;
	}
	SHA256(c->pck_crl, c->pck_crl_len, u->pck_crl_id);
	if (!crl_window(u->root_crl, &u->root_crl_this, &u->root_crl_next))
		return ppml_err_set(err, PPML_E_INPUT,
				    "root_ca_crl.der: missing or unreadable thisUpdate/nextUpdate");
	if (!crl_window(u->pck_crl, &u->pck_crl_this, &u->pck_crl_next))
		return ppml_err_set(err, PPML_E_INPUT,
				    "pck_crl.der: missing or unreadable thisUpdate/nextUpdate");
	if ((rc = load_chain2(c->tcb_info_issuer_chain, c->tcb_info_issuer_chain_len, pool,
			      &u->tcb_signer, &u->tcb_root, err)) != PPML_OK) {
		ppml_err_prefix(err, "tcb_info_issuer_chain.pem: ");
		return rc;
	}
	if ((rc = load_chain2(c->qe_identity_issuer_chain, c->qe_identity_issuer_chain_len, pool,
			      &u->qe_signer, &u->qe_root, err)) != PPML_OK) {
		ppml_err_prefix(err, "qe_identity_issuer_chain.pem: ");
		return rc;
	}
	/* Used only for the expiry date (section 4.6), as in QvE. */
	if ((rc = load_chain2(c->pck_crl_issuer_chain, c->pck_crl_issuer_chain_len, pool,
			      &u->crl_chain[0], &u->crl_chain[1], err)) != PPML_OK) {
		ppml_err_prefix(err, "pck_crl_issuer_chain.pem: ");
		return rc;
	}
	if ((rc = ppml_tcb_info_parse(c->tcb_info, c->tcb_info_len, &u->tcb, err)) != PPML_OK) {
		ppml_err_prefix(err, "tcb_info.json: ");
		return rc;
	}
	if ((rc = ppml_qe_identity_parse(c->qe_identity, c->qe_identity_len, &u->qe, err)) !=
	    PPML_OK) {
		ppml_err_prefix(err, "qe_identity.json: ");
		return rc;
	}
	/* Earliest expiry of the collateral's own items (section 4.6). */
	u->not_after_min = min64(u->root_crl_next, u->pck_crl_next);
	u->not_after_min = min64(u->not_after_min, min64(u->tcb.next_update, u->qe.next_update));
	X509 *all[] = {u->tcb_root, u->tcb_signer, u->qe_root, u->qe_signer, u->crl_chain[0],
		       u->crl_chain[1]};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!asn1_time_unix(X509_get0_notAfter(all[i]), &na))
			return ppml_err_set(err, PPML_E_INPUT,
					    "collateral: a certificate has an unreadable notAfter");
		u->not_after_min = min64(u->not_after_min, na);
	}

	/* Quote-independent checks, recorded for the caller to report in order. */
	const char *why = crl_check(pool, u->root_crl, u->tcb_root);
	if (why) {
		u->root_crl_fail = PPML_QV_CRL;
		snprintf(u->root_crl_msg, sizeof(u->root_crl_msg), "Root CA CRL: %s", why);
	}
	signing_chain_check(pool, u->tcb_signer, u->tcb_root, u->root_crl, u->tcb.signed_body,
			    u->tcb.signed_len, u->tcb.signature, true, &u->tcb_fail, u->tcb_msg,
			    sizeof(u->tcb_msg));
	signing_chain_check(pool, u->qe_signer, u->qe_root, u->root_crl, u->qe.signed_body,
			    u->qe.signed_len, u->qe.signature, false, &u->qe_fail, u->qe_msg,
			    sizeof(u->qe_msg));
	return PPML_OK;
}

/* ---- cache ---- */

static size_t pck_slot(const uint8_t id[32])
{
	uint64_t h;
	memcpy(&h, id, sizeof(h));
	return (size_t)(h % PPML_DCAP_CACHE_PCK);
}

/* Looks up (refs++) or returns NULL.  Lock held by the caller. */
static struct pck_unit *pck_lookup(struct ppml_dcap_verifier *v, const uint8_t id[32])
{
	size_t s = pck_slot(id);
	for (size_t i = 0; i < PPML_DCAP_CACHE_PCK; i++) {
		struct pck_unit *u = v->pcks[(s + i) % PPML_DCAP_CACHE_PCK];
		if (!u)
			return NULL;
		if (memcmp(u->id, id, 32) == 0) {
			u->refs++;
			return u;
		}
	}
	return NULL;
}

/* Inserts u (refs++ for the cache).  When full, the table is emptied: a
 * simple bound that keeps lookups O(1). Lock held by the caller. */
static void pck_insert(struct ppml_dcap_verifier *v, struct pck_unit *u,
		       struct pck_unit **evicted, size_t *n_evicted)
{
	*n_evicted = 0;
	if (v->n_pcks >= PPML_DCAP_CACHE_PCK * 3 / 4) {
		for (size_t i = 0; i < PPML_DCAP_CACHE_PCK; i++)
			if (v->pcks[i]) {
				if (--v->pcks[i]->refs == 0)
					evicted[(*n_evicted)++] = v->pcks[i];
				v->pcks[i] = NULL;
			}
		v->n_pcks = 0;
	}
	size_t s = pck_slot(u->id);
	for (size_t i = 0; i < PPML_DCAP_CACHE_PCK; i++) {
		size_t k = (s + i) % PPML_DCAP_CACHE_PCK;
		if (!v->pcks[k]) {
			v->pcks[k] = u;
			u->refs++;
			v->n_pcks++;
			return;
		}
		if (memcmp(v->pcks[k]->id, u->id, 32) == 0)
			return; /* another thread inserted it first */
	}
}

static struct coll_unit *coll_lookup(struct ppml_dcap_verifier *v, const uint8_t id[32])
{
	for (size_t i = 0; i < v->n_colls; i++)
		if (memcmp(v->colls[i]->id, id, 32) == 0) {
			struct coll_unit *u = v->colls[i];
			/* Move to front. */
			memmove(&v->colls[1], &v->colls[0], i * sizeof(v->colls[0]));
			v->colls[0] = u;
			u->refs++;
			return u;
		}
	return NULL;
}

static struct coll_unit *coll_insert(struct ppml_dcap_verifier *v, struct coll_unit *u)
{
	struct coll_unit *evicted = NULL;
	for (size_t i = 0; i < v->n_colls; i++)
		if (memcmp(v->colls[i]->id, u->id, 32) == 0)
			return NULL;
	if (v->n_colls == PPML_DCAP_CACHE_SETS) {
		evicted = v->colls[--v->n_colls];
		if (--evicted->refs != 0)
			evicted = NULL;
	}
	memmove(&v->colls[1], &v->colls[0], v->n_colls * sizeof(v->colls[0]));
	v->colls[0] = u;
	v->n_colls++;
	u->refs++;
	return evicted;
}

static ppml_status get_pck(struct ppml_dcap_verifier *v, const struct ppml_quote *q,
			   struct cert_pool *pool, struct pck_unit **out, struct ppml_err *err)
{
	uint8_t id[32];
	struct pck_unit *u;
	ppml_status rc;

	SHA256(q->cert_data, q->cert_len, id);
	if (v->cache) {
		pthread_mutex_lock(&v->lock);
		u = pck_lookup(v, id);
		pthread_mutex_unlock(&v->lock);
		if (u) {
			*out = u;
			return PPML_OK;
		}
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	memcpy(u->id, id, 32);
	u->refs = 1;
	rc = pck_unit_build(v, q, pool, u, err);
	if (rc != PPML_OK) {
		pck_unit_free(u);
		return rc;
	}
	/* Only chains that passed are cached. */
	if (v->cache && u->fail == PPML_QV_OK) {
		struct pck_unit *ev[PPML_DCAP_CACHE_PCK];
		size_t nev;
		pthread_mutex_lock(&v->lock);
		pck_insert(v, u, ev, &nev);
		pthread_mutex_unlock(&v->lock);
		for (size_t i = 0; i < nev; i++)
			pck_unit_free(ev[i]);
	}
	*out = u;
	return PPML_OK;
}

static ppml_status get_coll(struct ppml_dcap_verifier *v, const struct ppml_collateral *c,
			    struct cert_pool *pool, struct coll_unit **out, struct ppml_err *err)
{
	uint8_t id[32];
	struct coll_unit *u;
	ppml_status rc;

	*out = NULL;
	if (!sha256_items(c, id))
		return ppml_err_openssl(err, PPML_E_CRYPTO, "SHA-256 of the collateral failed");
	if (v->cache) {
		pthread_mutex_lock(&v->lock);
		u = coll_lookup(v, id);
		pthread_mutex_unlock(&v->lock);
		if (u) {
			*out = u;
			return PPML_OK;
		}
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	memcpy(u->id, id, 32);
	u->refs = 1;
	rc = coll_unit_build(c, pool, u, err);
	if (rc != PPML_OK) {
		coll_unit_free(u);
		return rc;
	}
	if (v->cache && u->root_crl_fail == PPML_QV_OK && u->tcb_fail == PPML_QV_OK &&
	    u->qe_fail == PPML_QV_OK) {
		pthread_mutex_lock(&v->lock);
		struct coll_unit *ev = coll_insert(v, u);
		pthread_mutex_unlock(&v->lock);
		coll_unit_free(ev);
	}
	*out = u;
	return PPML_OK;
}

/* ---- verdict ---- */

static const struct {
	const char *name, *check;
} FAILURES[] = {
	[PPML_QV_OK] = {"none", ""},
	[PPML_QV_QUOTE_FORMAT] = {"quote_format", "signature_chain"},
	[PPML_QV_COLLATERAL_FORMAT] = {"collateral_format", "collateral"},
	[PPML_QV_UNTRUSTED_ROOT] = {"untrusted_root", "signature_chain"},
	[PPML_QV_PCK_CHAIN] = {"pck_chain", "signature_chain"},
	[PPML_QV_CRL] = {"crl", "signature_chain"},
	[PPML_QV_INTERMEDIATE_REVOKED] = {"intermediate_revoked", "signature_chain"},
	[PPML_QV_PCK_REVOKED] = {"pck_revoked", "signature_chain"},
	[PPML_QV_TCB_SIGNING_CHAIN] = {"tcb_signing_chain", "collateral"},
	[PPML_QV_TCB_SIGNING_REVOKED] = {"tcb_signing_revoked", "collateral"},
	[PPML_QV_TCB_INFO_SIGNATURE] = {"tcb_info_signature", "collateral"},
	[PPML_QV_QE_IDENTITY_SIGNATURE] = {"qe_identity_signature", "collateral"},
	[PPML_QV_TCB_INFO_MISMATCH] = {"tcb_info_mismatch", "collateral"},
	[PPML_QV_QE_REPORT_SIGNATURE] = {"qe_report_signature", "signature_chain"},
	[PPML_QV_QE_REPORT_DATA] = {"qe_report_data", "signature_chain"},
	[PPML_QV_QE_IDENTITY_MISMATCH] = {"qe_identity_mismatch", "signature_chain"},
	[PPML_QV_QUOTE_SIGNATURE] = {"quote_signature", "signature_chain"},
	[PPML_QV_TCB_NOT_SUPPORTED] = {"tcb_not_supported", "tcb"},
	[PPML_QV_TCB_REVOKED] = {"tcb_revoked", "tcb"},
};

const char *ppml_qv_failure_name(enum ppml_qv_failure f)
{
	if ((unsigned)f < sizeof(FAILURES) / sizeof(FAILURES[0]))
		return FAILURES[f].name;
	return "unknown";
}

const char *ppml_qv_failure_check(enum ppml_qv_failure f)
{
	if ((unsigned)f < sizeof(FAILURES) / sizeof(FAILURES[0]))
		return FAILURES[f].check;
	return "signature_chain";
}

void ppml_verdict_cleanup(struct ppml_verdict *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_advisory_ids; i++)
		free(v->advisory_ids[i]);
	free(v->advisory_ids);
	v->advisory_ids = NULL;
	v->n_advisory_ids = 0;
}

static ppml_status refuse(struct ppml_verdict *out, enum ppml_qv_failure f, struct ppml_err *err,
			  const char *msg)
{
	out->failure = f;
	return ppml_err_set(err, PPML_E_REFUSED, "%s", msg);
}

/* Section 4.4 step 11: the QE's TCB level, walked in JSON order. */
static enum ppml_qv_failure qe_level(const struct ppml_qe_identity *qe, uint16_t isvsvn,
				     const struct ppml_qe_level **out)
{
	for (size_t i = 0; i < qe->n_levels; i++)
		if (qe->levels[i].isvsvn <= isvsvn) {
			*out = &qe->levels[i];
			return PPML_QV_OK;
		}
	return PPML_QV_TCB_NOT_SUPPORTED;
}

/* Section 4.5: combine the platform status with the QE identity's. */
static enum ppml_tcb_status converge(enum ppml_tcb_status platform, enum ppml_tcb_status qe)
{
	if (qe == PPML_TCB_UP_TO_DATE)
		return platform;
	if (qe == PPML_TCB_REVOKED)
		return PPML_TCB_REVOKED;
	/* QE out of date (any non-UpToDate, non-Revoked level counts as out of date). */
	switch (platform) {
	case PPML_TCB_UP_TO_DATE:
	case PPML_TCB_SW_HARDENING_NEEDED:
		return PPML_TCB_OUT_OF_DATE;
	case PPML_TCB_CONFIGURATION_NEEDED:
	case PPML_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
		return PPML_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	default:
		return platform;
	}
}

ppml_status ppml_dcap_verify(struct ppml_dcap_verifier *v, const uint8_t *quote, size_t quote_len,
			     const struct ppml_collateral *c, int64_t at, struct ppml_verdict *out,
			     struct ppml_err *err)
{
	struct ppml_quote q;
	struct pck_unit *pu = NULL;
	struct coll_unit *cu = NULL;
	ppml_status rc;
	char msg[512];
	bool expired = false;
	EVP_PKEY *att = NULL;
	bool att_owned = false;
	struct cert_pool pool = {0};

	memset(out, 0, sizeof(*out));
	out->verified_at = at;
	out->failure = PPML_QV_QUOTE_FORMAT;
	if (at <= 0)
		return ppml_err_set(err, PPML_E_INPUT,
				    "verification time %lld: expected a positive Unix time",
				    (long long)at);
	/* 4.0: parse the quote and its PCK chain, and all the collateral. */
	if ((rc = ppml_quote_parse(quote, quote_len, &q, err)) != PPML_OK)
		return rc;
	out->has_quote = true;
	out->header = q.header;
	out->body = q.body;
	out->qe_isvsvn = q.qe_report.isv_svn;
	if ((rc = get_pck(v, &q, &pool, &pu, err)) != PPML_OK)
		goto done;
	if (pu->fail == PPML_QV_QUOTE_FORMAT) {
		rc = ppml_err_set(err, PPML_E_INPUT, "%s", pu->msg);
		goto done;
	}
	if (pu->anchor) {
		out->custom_anchor = pu->anchor->custom;
		memcpy(out->trust_anchor_sha256, pu->anchor->sha256, 32);
	}
	if (pu->fail == PPML_QV_OK) {
		out->has_pck = true;
		out->pck = pu->ext;
	}
	rc = get_coll(v, c, &pool, &cu, err);
	pool_free(&pool);
	if (rc != PPML_OK) {
		out->failure = PPML_QV_COLLATERAL_FORMAT;
		goto done;
	}
	out->failure = PPML_QV_OK;

	/* 4.1: PCK chain, CRLs, revocation, times. */
	if (pu->fail != PPML_QV_OK) {
		rc = refuse(out, pu->fail, err, pu->msg);
		goto done;
	}
	/* Every root in the set must be the PCK chain's root (section 4.1 step 4,
	 * 4.2: signature bytes equal to the trusted root's). */
	if (!same_signature(cu->tcb_root, pu->root) || !same_signature(cu->qe_root, pu->root)) {
		rc = refuse(out, PPML_QV_TCB_SIGNING_CHAIN, err,
			    "collateral: the TCB info / QE identity issuer chain ends in a root "
			    "other than the PCK chain's");
		goto done;
	}
	if (cu->root_crl_fail != PPML_QV_OK) {
		rc = refuse(out, cu->root_crl_fail, err, cu->root_crl_msg);
		goto done;
	}
	/* PCK CRL against the chain's CA (step 6), cached per chain. */
	{
		bool known;
		pthread_mutex_lock(&v->lock);
		known = pu->crl_ok_valid && memcmp(pu->crl_ok_id, cu->pck_crl_id, 32) == 0;
		pthread_mutex_unlock(&v->lock);
		if (!known) {
			const char *why = crl_check(NULL, cu->pck_crl, pu->ca);
			if (why) {
				snprintf(msg, sizeof(msg), "PCK CRL: %s", why);
				rc = refuse(out, PPML_QV_CRL, err, msg);
				goto done;
			}
			if (v->cache) {
				pthread_mutex_lock(&v->lock);
				memcpy(pu->crl_ok_id, cu->pck_crl_id, 32);
				pu->crl_ok_valid = true;
				pthread_mutex_unlock(&v->lock);
			}
		}
	}
	if (crl_revokes(cu->root_crl, pu->ca)) {
		rc = refuse(out, PPML_QV_INTERMEDIATE_REVOKED, err,
			    "PCK chain: the PCK CA certificate is revoked by the Root CA CRL");
		goto done;
	}
	if (crl_revokes(cu->pck_crl, pu->pck)) {
		rc = refuse(out, PPML_QV_PCK_REVOKED, err,
			    "PCK chain: the PCK certificate is revoked by the PCK CRL");
		goto done;
	}
	bool root_crl_live = at >= cu->root_crl_this && at <= cu->root_crl_next;
	if (at > pu->not_after_min || !root_crl_live ||
	    !(at >= cu->pck_crl_this && at <= cu->pck_crl_next))
		expired = true;

	/* 4.2 TCB info and 4.3 QE identity. */
	if (cu->tcb_fail != PPML_QV_OK) {
		rc = refuse(out, cu->tcb_fail, err, cu->tcb_msg);
		goto done;
	}
	int64_t tna, rna;
	if (asn1_time_unix(X509_get0_notAfter(cu->tcb_signer), &tna) &&
	    asn1_time_unix(X509_get0_notAfter(cu->tcb_root), &rna) &&
	    (at > tna || at > rna || !root_crl_live || at > cu->tcb.next_update))
		expired = true;
	if (cu->qe_fail != PPML_QV_OK) {
		rc = refuse(out, cu->qe_fail, err, cu->qe_msg);
		goto done;
	}
	if (asn1_time_unix(X509_get0_notAfter(cu->qe_signer), &tna) &&
	    asn1_time_unix(X509_get0_notAfter(cu->qe_root), &rna) &&
	    (at > tna || at > rna || !root_crl_live || at > cu->qe.next_update))
		expired = true;

	/* 4.4: the quote against PCK certificate, CRL, TCB info, QE identity. */
	if (!cn_contains(X509_CRL_get_issuer(cu->pck_crl), "CA") ||
	    !name_eq(X509_CRL_get_issuer(cu->pck_crl), X509_get_issuer_name(pu->pck))) {
		rc = refuse(out, PPML_QV_CRL, err,
			    "PCK CRL: issued by another CA than the PCK certificate (a Platform CA "
			    "CRL for a Processor CA certificate, or the reverse)");
		goto done;
	}
	if (cu->tcb.version == 3 && strcmp(cu->tcb.id, "SGX") != 0) {
		rc = refuse(out, PPML_QV_TCB_INFO_MISMATCH, err,
			    "TCB info: id is not \"SGX\" but the quote is an SGX quote");
		goto done;
	}
	if (memcmp(cu->tcb.fmspc, pu->ext.fmspc, 6) != 0 ||
	    memcmp(cu->tcb.pceid, pu->ext.pceid, 2) != 0) {
		char a[13], b[13];
		snprintf(a, sizeof(a), "%02x%02x%02x%02x%02x%02x", cu->tcb.fmspc[0], cu->tcb.fmspc[1],
			 cu->tcb.fmspc[2], cu->tcb.fmspc[3], cu->tcb.fmspc[4], cu->tcb.fmspc[5]);
		snprintf(b, sizeof(b), "%02x%02x%02x%02x%02x%02x", pu->ext.fmspc[0], pu->ext.fmspc[1],
			 pu->ext.fmspc[2], pu->ext.fmspc[3], pu->ext.fmspc[4], pu->ext.fmspc[5]);
		snprintf(msg, sizeof(msg),
			 "TCB info is for FMSPC %s / PCE-ID %02x%02x, the PCK certificate says "
			 "FMSPC %s / PCE-ID %02x%02x: fetch the collateral for this platform",
			 a, cu->tcb.pceid[0], cu->tcb.pceid[1], b, pu->ext.pceid[0],
			 pu->ext.pceid[1]);
		rc = refuse(out, PPML_QV_TCB_INFO_MISMATCH, err, msg);
		goto done;
	}
	/* Step 9: QE report signed by the PCK key. */
	if (!ppml_ec_verify_raw(X509_get0_pubkey(pu->pck), q.qe_report_raw, PPML_SGX_REPORT_BODY_SIZE,
			      q.qe_report_signature)) {
		rc = refuse(out, PPML_QV_QE_REPORT_SIGNATURE, err,
			    "quote: the QE report signature does not verify with the PCK key");
		goto done;
	}
	/* Step 10: SHA-256(attestation key || QE auth data) = REPORTDATA[0:32]. */
	{
		uint8_t h[32], buf[64 + 65535];
		memcpy(buf, q.attest_key, 64);
		memcpy(buf + 64, q.qe_auth, q.qe_auth_len);
		SHA256(buf, 64 + q.qe_auth_len, h);
		if (CRYPTO_memcmp(h, q.qe_report.report_data, 32) != 0) {
			rc = refuse(out, PPML_QV_QE_REPORT_DATA, err,
				    "quote: the QE report data does not bind the attestation key "
				    "and QE authentication data");
			goto done;
		}
	}
	/* Step 11: QE identity. */
	{
		const struct ppml_qe_identity *qe = &cu->qe;
		const struct ppml_sgx_report_body *r = &q.qe_report;
		uint8_t misc[4], attrs[16];
		bool ok = strcmp(qe->id, "QE") == 0;
		memcpy(misc, &r->miscselect, 4);
		memcpy(attrs, &r->attributes_flags, 8);
		memcpy(attrs + 8, &r->attributes_xfrm, 8);
		for (size_t i = 0; i < 4; i++)
			ok = ok && (misc[i] & qe->miscselect_mask[i]) == qe->miscselect[i];
		for (size_t i = 0; i < 16; i++)
			ok = ok && (attrs[i] & qe->attributes_mask[i]) == qe->attributes[i];
		ok = ok && memcmp(r->mrsigner, qe->mrsigner, 32) == 0 &&
		     r->isv_prod_id == qe->isvprodid;
		if (!ok) {
			rc = refuse(out, PPML_QV_QE_IDENTITY_MISMATCH, err,
				    "quote: the QE report does not match the QE identity (id, "
				    "MISCSELECT, ATTRIBUTES, MRSIGNER or ISVPRODID)");
			goto done;
		}
	}
	const struct ppml_qe_level *ql = NULL;
	enum ppml_qv_failure qf = qe_level(&cu->qe, q.qe_report.isv_svn, &ql);
	/* Step 12: the quote signature by the attestation key. */
	pthread_mutex_lock(&v->lock);
	if (pu->att_key && memcmp(pu->att_raw, q.attest_key, 64) == 0) {
		att = pu->att_key;
		EVP_PKEY_up_ref(att);
	}
	pthread_mutex_unlock(&v->lock);
	if (!att) {
		att = ppml_ec_from_raw(q.attest_key);
		if (!att) {
			rc = refuse(out, PPML_QV_QUOTE_SIGNATURE, err,
				    "quote: the attestation key is not a P-256 point");
			goto done;
		}
		att_owned = true;
	}
	if (!ppml_ec_verify_raw(att, quote, q.signed_len, q.signature)) {
		rc = refuse(out, PPML_QV_QUOTE_SIGNATURE, err,
			    "quote: the quote signature does not verify with the attestation key");
		goto done;
	}
	if (att_owned && v->cache) {
		pthread_mutex_lock(&v->lock);
		EVP_PKEY *old = pu->att_key;
		EVP_PKEY_up_ref(att);
		pu->att_key = att;
		memcpy(pu->att_raw, q.attest_key, 64);
		pthread_mutex_unlock(&v->lock);
		EVP_PKEY_free(old);
	}
	/* Step 13: the platform TCB level (levels sorted as QVL orders them). */
	const struct ppml_tcb_level *pl = NULL;
	for (size_t i = 0; i < cu->tcb.n_levels && !pl; i++) {
		const struct ppml_tcb_level *l = &cu->tcb.levels[i];
		bool ge = pu->ext.pcesvn >= l->pcesvn;
		for (size_t k = 0; k < 16 && ge; k++)
			ge = pu->ext.comp_svn[k] >= l->comp_svn[k];
		if (ge)
			pl = l;
	}
	if (!pl) {
		rc = refuse(out, PPML_QV_TCB_NOT_SUPPORTED, err,
			    "TCB: no TCB level of the TCB info matches the PCK certificate's SVNs "
			    "(TCB not supported)");
		goto done;
	}
	if (pl->status == PPML_TCB_REVOKED) {
		rc = refuse(out, PPML_QV_TCB_REVOKED, err, "TCB: the platform's TCB level is Revoked");
		goto done;
	}
	/* 4.5: combine with the QE's level. */
	if (qf != PPML_QV_OK) {
		rc = refuse(out, PPML_QV_TCB_NOT_SUPPORTED, err,
			    "TCB: the QE's ISVSVN is below every QE identity level (not supported)");
		goto done;
	}
	if (ql->status == PPML_TCB_REVOKED) {
		rc = refuse(out, PPML_QV_TCB_REVOKED, err, "TCB: the QE's ISVSVN is Revoked");
		goto done;
	}
	out->platform_tcb_status = pl->status;
	out->qe_tcb_status = ql->status;
	out->tcb_status = converge(pl->status, ql->status);
	out->tcb_date = pl->tcb_date;
	out->qe_tcb_date = ql->tcb_date;
	out->tcb_evaluation_data_number = cu->tcb.tcb_evaluation_data_number;
	out->tcb_info_issue_date = cu->tcb.issue_date;
	if (pl->n_advisory_ids) {
		out->advisory_ids = calloc(pl->n_advisory_ids, sizeof(char *));
		if (!out->advisory_ids) {
			rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
			goto done;
		}
		for (size_t i = 0; i < pl->n_advisory_ids; i++) {
			out->advisory_ids[i] = strdup(pl->advisory_ids[i]);
			if (!out->advisory_ids[i]) {
				rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
				goto done;
			}
			out->n_advisory_ids = i + 1;
		}
	}
	/* 4.6: the earliest expiry over every item. */
	out->collateral_expires_at = min64(pu->not_after_min, cu->not_after_min);
	out->collateral_expired = expired || out->collateral_expires_at <= at;
	rc = PPML_OK;
done:
	pool_free(&pool);
	if (att)
		EVP_PKEY_free(att);
	pck_release(v, pu);
	coll_release(v, cu);
	if (rc != PPML_OK && out->failure == PPML_QV_OK)
		out->failure = PPML_QV_QUOTE_FORMAT; /* internal errors never read as verified */
	return rc;
}
