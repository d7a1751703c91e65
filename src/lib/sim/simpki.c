/* SPDX-License-Identifier: Apache-2.0 */
/* The simulation PKI (include/ppml/simpki.h): Intel's SGX provisioning PKI
 * re-enacted under a generated root, following what the verifier checks in
 * shared/spec/dcap-quote-verification.md (1: quote layout, 2: certificates and
 * CRLs, 3: the SGX extension, 4.2/4.3: signed JSON collateral). */
#include "ppml/simpki.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ppml/ec.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/limits.h"
#include "ppml/quote.h"
#include "ppml/timeutil.h"

#define DAY 86400
#define ORG "ppml-deploy simulation (not Intel)"

struct ppml_simpki {
	struct ppml_simpki_params p;
	EVP_PKEY *root_key, *ca_key, *pck_key, *tcb_key, *att_key;
	X509 *root, *ca, *pck, *tcb;
	uint8_t att_raw[64];          /* X || Y of the attestation key */
	uint8_t qe_mrsigner[32];
	uint8_t qe_mrenclave[32];
	uint8_t ppid[16];
};

/* ---- certificates ---- */

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	bool ok = e && X509_add_ext(cert, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok;
}

static bool set_serial(ASN1_INTEGER *serial)
{
	BIGNUM *bn = BN_new();
	/* 127 random bits: positive, at most 16 content octets. */
	bool ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		  BN_to_ASN1_INTEGER(bn, serial) != NULL;
	BN_free(bn);
	return ok;
}

/* A certificate for key named CN under issuer (NULL: self-signed). ext_der,
 * when set, is the SGX extension's value. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
		       int64_t nb, int64_t na, int ca_pathlen, const uint8_t *ext_der,
		       size_t ext_len)
{
	X509 *c = X509_new();
	X509_NAME *name = X509_NAME_new();
	bool ok = c && name;

	ok = ok &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const uint8_t *)cn, -1, -1,
					0) == 1 &&
	     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const uint8_t *)ORG, -1, -1,
					0) == 1 &&
	     X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, (const uint8_t *)"US", -1, -1,
					0) == 1;
	ok = ok && X509_set_version(c, X509_VERSION_3) == 1 &&
	     set_serial(X509_get_serialNumber(c)) && X509_set_subject_name(c, name) == 1 &&
	     X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name) == 1 &&
	     ASN1_TIME_set(X509_getm_notBefore(c), (time_t)nb) &&
	     ASN1_TIME_set(X509_getm_notAfter(c), (time_t)na) && X509_set_pubkey(c, key) == 1;
	if (ok && ca_pathlen >= 0) {
		char bc[32];
		snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", ca_pathlen);
		ok = add_ext(c, issuer ? issuer : c, NID_basic_constraints, bc) &&
		     add_ext(c, issuer ? issuer : c, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else if (ok) {
		ok = add_ext(c, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
		     add_ext(c, issuer, NID_key_usage, "critical,digitalSignature,nonRepudiation");
	}
	ok = ok && add_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash");
	if (ok && issuer)
		ok = add_ext(c, issuer, NID_authority_key_identifier, "keyid:always");
	if (ok && ext_der) {
		ASN1_OBJECT *oid = OBJ_txt2obj(PPML_SGX_EXT_OID, 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e = NULL;
		ok = oid && os && ASN1_OCTET_STRING_set(os, ext_der, (int)ext_len) == 1 &&
		     (e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os)) != NULL &&
		     X509_add_ext(c, e, -1) == 1;
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(oid);
	}
	ok = ok && X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
	X509_NAME_free(name);
	if (!ok) {
		X509_free(c);
		return NULL;
	}
	return c;
}

/* ---- the SGX extension (section 3), DER by hand ---- */

struct dbuf {
	uint8_t b[1024];
	size_t n;
	bool overflow;
};

static void put(struct dbuf *d, const void *p, size_t n)
{
	if (n > sizeof(d->b) - d->n) {
		d->overflow = true;
		return;
	}
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

static void put_tlv(struct dbuf *d, uint8_t tag, const uint8_t *v, size_t n)
{
	uint8_t h[4] = {tag};
	size_t hl;
	if (n < 0x80) {
		h[1] = (uint8_t)n;
		hl = 2;
	} else if (n < 0x100) {
		h[1] = 0x81;
		h[2] = (uint8_t)n;
		hl = 3;
	} else {
		h[1] = 0x82;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	}
	put(d, h, hl);
	put(d, v, n);
}

/* The OID 1.2.840.113741.1.13.1[.a[.b]] (sub-identifiers below 128). */
static void put_sgx_oid(struct dbuf *d, int a, int b)
{
	uint8_t o[11] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
	size_t n = 9;
	if (a)
		o[n++] = (uint8_t)a;
	if (b)
		o[n++] = (uint8_t)b;
	put_tlv(d, 0x06, o, n);
}

/* Minimal DER INTEGER for a non-negative value. */
static void put_uint(struct dbuf *d, uint8_t tag, uint32_t v)
{
	uint8_t b[5] = {0, (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	int i = 1;
	while (i < 4 && b[i] == 0)
		i++;
	/* A leading 0x00 keeps values with the top bit set positive. */
	if (b[i] & 0x80)
		i--;
	put_tlv(d, tag, b + i, (size_t)(5 - i));
}

/* SEQUENCE { oid, value } where value is already DER in v. */
static void put_pair(struct dbuf *d, int a, int b, const struct dbuf *v)
{
	struct dbuf s = {0};
	put_sgx_oid(&s, a, b);
	put(&s, v->b, v->n);
	s.overflow |= v->overflow;
	put_tlv(d, 0x30, s.b, s.n);
	d->overflow |= s.overflow;
}

static bool sgx_extension(const struct ppml_simpki *k, struct dbuf *out)
{
	const struct ppml_simpki_params *p = &k->p;
	struct dbuf top = {0}, v = {0}, tcb = {0};

	v.n = 0;
	put_tlv(&v, 0x04, k->ppid, 16);
	put_pair(&top, 1, 0, &v);
	for (int i = 0; i < 16; i++) {
		v.n = 0;
		put_uint(&v, 0x02, p->comp_svn[i]);
		put_pair(&tcb, 2, i + 1, &v);
	}
	v.n = 0;
	put_uint(&v, 0x02, p->pcesvn);
	put_pair(&tcb, 2, 17, &v);
	v.n = 0;
	put_tlv(&v, 0x04, p->comp_svn, 16); /* CPUSVN: informational; the SVNs serve */
	put_pair(&tcb, 2, 18, &v);
	v.n = 0;
	put_tlv(&v, 0x30, tcb.b, tcb.n);
	v.overflow |= tcb.overflow;
	put_pair(&top, 2, 0, &v);
	v.n = 0;
	put_tlv(&v, 0x04, p->pceid, 2);
	put_pair(&top, 3, 0, &v);
	v.n = 0;
	put_tlv(&v, 0x04, p->fmspc, 6);
	put_pair(&top, 4, 0, &v);
	v.n = 0;
	put_uint(&v, 0x0a, 0); /* SGX Type: Standard */
	put_pair(&top, 5, 0, &v);
	if (p->platform_ca) {
		uint8_t seed[17 + 16], h[32];
		memcpy(seed, "platform instance", 17);
		memcpy(seed + 17, k->ppid, 16);
		SHA256(seed, sizeof(seed), h);
		v.n = 0;
		put_tlv(&v, 0x04, h, 16);
		put_pair(&top, 6, 0, &v);
		struct dbuf cfg = {0}, b = {0};
		const uint8_t f = 0x00, t = 0xff;
		for (int i = 1; i <= 3; i++) {
			b.n = 0;
			put_tlv(&b, 0x01, i == 3 ? &t : &f, 1); /* smtEnabled only */
			put_pair(&cfg, 7, i, &b);
		}
		v.n = 0;
		put_tlv(&v, 0x30, cfg.b, cfg.n);
		put_pair(&top, 7, 0, &v);
	}
	out->n = 0;
	put_tlv(out, 0x30, top.b, top.n);
	return !(top.overflow || out->overflow || v.overflow);
}

/* ---- lifecycle ---- */

void ppml_simpki_free(struct ppml_simpki *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->root_key);
	EVP_PKEY_free(k->ca_key);
	EVP_PKEY_free(k->pck_key);
	EVP_PKEY_free(k->tcb_key);
	EVP_PKEY_free(k->att_key);
	X509_free(k->root);
	X509_free(k->ca);
	X509_free(k->pck);
	X509_free(k->tcb);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

ppml_status ppml_simpki_new(const struct ppml_simpki_params *p, struct ppml_simpki **out,
			    struct ppml_err *err)
{
	/* "ff" + "PPML": no Intel FMSPC starts with ff, so a service holding real
	 * and simulated collateral never mixes them up. */
	static const uint8_t def_fmspc[6] = {0xff, 0x50, 0x50, 0x4d, 0x4c, 0x00};
	static const uint8_t def_svn[16] = {13, 13, 2, 4, 1, 128};
	struct ppml_simpki *k = calloc(1, sizeof(*k));
	struct dbuf ext = {0};

	*out = NULL;
	if (!k)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	if (p)
		k->p = *p;
	if (!k->p.not_before)
		k->p.not_before = (int64_t)time(NULL) - DAY;
	if (!k->p.not_after)
		k->p.not_after = k->p.not_before + 3653LL * DAY;
	if (k->p.not_after <= k->p.not_before) {
		ppml_simpki_free(k);
		return ppml_err_set(err, PPML_E_INPUT,
				    "simulation PKI: not_after must be later than not_before");
	}
	if (!k->p.set_fmspc)
		memcpy(k->p.fmspc, def_fmspc, 6);
	if (!k->p.set_tcb) {
		memcpy(k->p.comp_svn, def_svn, 16);
		k->p.pcesvn = 13;
	}
	k->p.set_fmspc = k->p.set_tcb = true;
	if (!k->p.qe_isvsvn)
		k->p.qe_isvsvn = 8;
	if (RAND_bytes(k->ppid, 16) != 1 || RAND_bytes(k->qe_mrenclave, 32) != 1)
		goto crypto;
	SHA256((const uint8_t *)"ppml simulated quoting enclave", 30, k->qe_mrsigner);
	if (!(k->root_key = ppml_ec_generate()) || !(k->ca_key = ppml_ec_generate()) ||
	    !(k->pck_key = ppml_ec_generate()) || !(k->tcb_key = ppml_ec_generate()) ||
	    !(k->att_key = ppml_ec_generate()) || !ppml_ec_to_raw(k->att_key, k->att_raw))
		goto crypto;
	if (!sgx_extension(k, &ext)) {
		ppml_simpki_free(k);
		return ppml_err_set(err, PPML_E_INTERNAL, "simulation PKI: SGX extension too large");
	}
	int64_t nb = k->p.not_before, na = k->p.not_after;
	k->root = make_cert(k->root_key, "ppml Simulated SGX Root CA", NULL, NULL, nb, na, 1, NULL,
			    0);
	k->ca = k->root ? make_cert(k->ca_key,
				    k->p.platform_ca ? "ppml Simulated SGX PCK Platform CA"
						     : "ppml Simulated SGX PCK Processor CA",
				    k->root, k->root_key, nb, na, 0, NULL, 0)
			: NULL;
	k->pck = k->ca ? make_cert(k->pck_key, "ppml Simulated SGX PCK Certificate", k->ca,
				   k->ca_key, nb, na, -1, ext.b, ext.n)
		       : NULL;
	k->tcb = k->root ? make_cert(k->tcb_key, "ppml Simulated SGX TCB Signing", k->root,
				     k->root_key, nb, na, -1, NULL, 0)
			 : NULL;
	if (!k->pck || !k->tcb)
		goto crypto;
	*out = k;
	return PPML_OK;
crypto:
	ppml_simpki_free(k);
	return ppml_err_openssl(err, PPML_E_CRYPTO, "simulation PKI: key or certificate generation");
}

const struct ppml_simpki_params *ppml_simpki_get_params(const struct ppml_simpki *k)
{
	return &k->p;
}

void ppml_simpki_qe_mrsigner(const struct ppml_simpki *k, uint8_t out[32])
{
	memcpy(out, k->qe_mrsigner, 32);
}

ppml_status ppml_simpki_root_der(const struct ppml_simpki *k, uint8_t **der, size_t *len,
				 struct ppml_err *err)
{
	uint8_t *d = NULL;
	int n = i2d_X509(k->root, &d);
	*der = NULL;
	if (n <= 0)
		return ppml_err_openssl(err, PPML_E_CRYPTO, "simulation PKI: root certificate DER");
	*der = malloc((size_t)n);
	if (*der)
		memcpy(*der, d, (size_t)n);
	OPENSSL_free(d);
	if (!*der)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	*len = (size_t)n;
	return PPML_OK;
}

/* PEM of the certificates, concatenated (what PCS serves in issuer-chain
 * headers, and what quotes carry). */
static bool pem_certs(X509 *const *certs, size_t n, bool trailing_nul, uint8_t **out,
		      size_t *out_len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long l;
	bool ok = b != NULL;
	for (size_t i = 0; ok && i < n; i++)
		ok = PEM_write_bio_X509(b, certs[i]) == 1;
	if (ok && (l = BIO_get_mem_data(b, &p)) > 0 && (*out = malloc((size_t)l + 1)) != NULL) {
		memcpy(*out, p, (size_t)l);
		(*out)[l] = 0;
		*out_len = (size_t)l + (trailing_nul ? 1 : 0);
	} else {
		ok = false;
	}
	BIO_free(b);
	return ok;
}

ppml_status ppml_simpki_root_pem(const struct ppml_simpki *k, char **pem, size_t *len,
				 struct ppml_err *err)
{
	uint8_t *p = NULL;
	*pem = NULL;
	if (!pem_certs(&k->root, 1, false, &p, len))
		return ppml_err_openssl(err, PPML_E_CRYPTO, "simulation PKI: root certificate PEM");
	*pem = (char *)p;
	return PPML_OK;
}

/* ---- collateral ---- */

static uint8_t *crl_der(X509 *issuer, EVP_PKEY *key, X509 *const *revoked, size_t n_revoked,
			int64_t this_u, int64_t next_u, size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *tu = ASN1_TIME_set(NULL, (time_t)this_u);
	ASN1_TIME *nu = ASN1_TIME_set(NULL, (time_t)next_u);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	uint8_t *der = NULL, *copy = NULL;
	int dl;
	bool ok = crl && tu && nu && num && X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1 &&
		  X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) == 1 &&
		  X509_CRL_set1_lastUpdate(crl, tu) == 1 &&
		  X509_CRL_set1_nextUpdate(crl, nu) == 1 && ASN1_INTEGER_set(num, 1) == 1 &&
		  X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
	for (size_t i = 0; ok && i < n_revoked; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ok = r && X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked[i])) == 1 &&
		     X509_REVOKED_set_revocationDate(r, tu) == 1 && X509_CRL_add0_revoked(crl, r) == 1;
		if (!ok)
			X509_REVOKED_free(r);
	}
	if (ok) {
		X509V3_CTX ctx;
		X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
							"keyid:always");
		ok = e && X509_CRL_add_ext(crl, e, -1) == 1;
		X509_EXTENSION_free(e);
	}
	ok = ok && X509_CRL_sort(crl) == 1 && X509_CRL_sign(crl, key, EVP_sha256()) > 0 &&
	     (dl = i2d_X509_CRL(crl, &der)) > 0 && (copy = malloc((size_t)dl)) != NULL;
	if (ok) {
		memcpy(copy, der, (size_t)dl);
		*len = (size_t)dl;
	}
	OPENSSL_free(der);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	X509_CRL_free(crl);
	return ok ? copy : NULL;
}

static json_t *jdate(int64_t t)
{
	char s[PPML_TIME_RFC3339_LEN];
	return ppml_time_format(t, s) ? json_string(s) : NULL;
}

static json_t *jhex(const uint8_t *b, size_t n, bool upper)
{
	char s[129];
	ppml_hex_encode(b, n, s);
	if (upper)
		for (size_t i = 0; s[i]; i++)
			if (s[i] >= 'a' && s[i] <= 'f')
				s[i] = (char)(s[i] - 'a' + 'A');
	return json_string(s);
}

static json_t *jids(const char *const *ids, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(ids[i]));
	return a;
}

static json_t *tcb_level_json(const struct ppml_simpki_tcb_level *l, unsigned version)
{
	json_t *lv = json_object(), *tcb = json_object();
	if (version == 2) {
		for (int i = 0; i < 16; i++) {
			char key[] = "sgxtcbcomp00svn";
			key[10] = (char)('0' + (i + 1) / 10);
			key[11] = (char)('0' + (i + 1) % 10);
			json_object_set_new(tcb, key, json_integer(l->comp_svn[i]));
		}
	} else {
		json_t *comps = json_array();
		for (int i = 0; i < 16; i++) {
			json_t *c = json_object();
			json_object_set_new(c, "svn", json_integer(l->comp_svn[i]));
			json_array_append_new(comps, c);
		}
		json_object_set_new(tcb, "sgxtcbcomponents", comps);
	}
	json_object_set_new(tcb, "pcesvn", json_integer(l->pcesvn));
	json_object_set_new(lv, "tcb", tcb);
	json_object_set_new(lv, "tcbDate", jdate(l->tcb_date));
	json_object_set_new(lv, "tcbStatus", json_string(ppml_tcb_status_name(l->status)));
	if (l->n_advisory_ids)
		json_object_set_new(lv, "advisoryIDs", jids(l->advisory_ids, l->n_advisory_ids));
	return lv;
}

/* `{"<key>":<body>,"signature":"<hex r||s>"}` with the signature over the
 * body's compact serialisation (section 4.2). */
static bool sign_json(EVP_PKEY *key, const char *member, json_t *body, uint8_t **out,
		      size_t *out_len)
{
	char *b = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	uint8_t sig[64];
	char hex[129];
	bool ok = b && ppml_ec_sign_raw(key, (const uint8_t *)b, strlen(b), sig);
	if (ok) {
		ppml_hex_encode(sig, 64, hex);
		size_t n = strlen(member) + strlen(b) + 160;
		*out = malloc(n);
		ok = *out != NULL;
		if (ok) {
			int w = snprintf((char *)*out, n, "{\"%s\":%s,\"signature\":\"%s\"}", member, b,
					 hex);
			*out_len = (size_t)w;
		}
	}
	free(b);
	return ok;
}

ppml_status ppml_simpki_collateral(const struct ppml_simpki *k,
				   const struct ppml_simpki_collateral_params *cp,
				   struct ppml_collateral *out, struct ppml_err *err)
{
	struct ppml_simpki_collateral_params p = {0};
	struct ppml_simpki_tcb_level def_level;
	struct ppml_simpki_qe_level def_qe;
	struct ppml_collateral c = {0};
	json_t *ti = NULL, *qe = NULL;
	ppml_status rc = PPML_E_CRYPTO;

	if (cp)
		p = *cp;
	if (!p.issue_date)
		p.issue_date = (int64_t)time(NULL);
	if (!p.next_update)
		p.next_update = p.issue_date + 30LL * DAY;
	if (!p.crl_this_update)
		p.crl_this_update = p.issue_date;
	if (!p.crl_next_update)
		p.crl_next_update = p.next_update;
	if (!p.tcb_info_version)
		p.tcb_info_version = 3;
	if (!p.tcb_evaluation_data_number)
		p.tcb_evaluation_data_number = 17;
	if (p.tcb_info_version != 2 && p.tcb_info_version != 3)
		return ppml_err_set(err, PPML_E_INPUT, "simulation collateral: TCB info version %u: "
						       "expected 2 or 3",
				    p.tcb_info_version);
	if (!p.levels) {
		memset(&def_level, 0, sizeof(def_level));
		memcpy(def_level.comp_svn, k->p.comp_svn, 16);
		def_level.pcesvn = k->p.pcesvn;
		def_level.status = PPML_TCB_UP_TO_DATE;
		def_level.tcb_date = p.issue_date - 30LL * DAY;
		p.levels = &def_level;
		p.n_levels = 1;
	}
	if (!p.qe_levels) {
		memset(&def_qe, 0, sizeof(def_qe));
		def_qe.isvsvn = k->p.qe_isvsvn;
		def_qe.status = PPML_TCB_UP_TO_DATE;
		def_qe.tcb_date = p.issue_date - 30LL * DAY;
		p.qe_levels = &def_qe;
		p.n_qe_levels = 1;
	}

	/* TCB info, in Intel's member order (v3 adds id first). */
	ti = json_object();
	if (p.tcb_info_version == 3)
		json_object_set_new(ti, "id", json_string("SGX"));
	json_object_set_new(ti, "version", json_integer(p.tcb_info_version));
	json_object_set_new(ti, "issueDate", jdate(p.issue_date));
	json_object_set_new(ti, "nextUpdate", jdate(p.next_update));
	json_object_set_new(ti, "fmspc", jhex(p.fmspc ? p.fmspc : k->p.fmspc, 6, false));
	json_object_set_new(ti, "pceId", jhex(p.pceid ? p.pceid : k->p.pceid, 2, false));
	json_object_set_new(ti, "tcbType", json_integer(0));
	json_object_set_new(ti, "tcbEvaluationDataNumber",
			    json_integer(p.tcb_evaluation_data_number));
	json_t *levels = json_array();
	for (size_t i = 0; i < p.n_levels; i++)
		json_array_append_new(levels, tcb_level_json(&p.levels[i], p.tcb_info_version));
	json_object_set_new(ti, "tcbLevels", levels);

	/* QE identity (version 2). */
	uint8_t other[32];
	static const uint8_t attrs[16] = {0x11}, attrs_mask[16] = {0xfb, 0xff, 0xff, 0xff, 0xff,
								   0xff, 0xff, 0xff};
	static const uint8_t misc[4] = {0}, misc_mask[4] = {0xff, 0xff, 0xff, 0xff};
	memcpy(other, k->qe_mrsigner, 32);
	other[0] ^= 1;
	qe = json_object();
	json_object_set_new(qe, "id", json_string("QE"));
	json_object_set_new(qe, "version", json_integer(2));
	json_object_set_new(qe, "issueDate", jdate(p.issue_date));
	json_object_set_new(qe, "nextUpdate", jdate(p.next_update));
	json_object_set_new(qe, "tcbEvaluationDataNumber",
			    json_integer(p.tcb_evaluation_data_number));
	json_object_set_new(qe, "miscselect", jhex(misc, 4, true));
	json_object_set_new(qe, "miscselectMask", jhex(misc_mask, 4, true));
	json_object_set_new(qe, "attributes", jhex(attrs, 16, true));
	json_object_set_new(qe, "attributesMask", jhex(attrs_mask, 16, true));
	json_object_set_new(qe, "mrsigner",
			    jhex(p.qe_other_mrsigner ? other : k->qe_mrsigner, 32, true));
	json_object_set_new(qe, "isvprodid", json_integer(1));
	json_t *ql = json_array();
	for (size_t i = 0; i < p.n_qe_levels; i++) {
		const struct ppml_simpki_qe_level *l = &p.qe_levels[i];
		json_t *lv = json_object(), *tcb = json_object();
		json_object_set_new(tcb, "isvsvn", json_integer(l->isvsvn));
		json_object_set_new(lv, "tcb", tcb);
		json_object_set_new(lv, "tcbDate", jdate(l->tcb_date));
		json_object_set_new(lv, "tcbStatus", json_string(ppml_tcb_status_name(l->status)));
		if (l->n_advisory_ids)
			json_object_set_new(lv, "advisoryIDs",
					    jids(l->advisory_ids, l->n_advisory_ids));
		json_array_append_new(ql, lv);
	}
	json_object_set_new(qe, "tcbLevels", ql);

	X509 *tcb_chain[2] = {k->tcb, k->root}, *crl_chain[2] = {k->ca, k->root};
	X509 *root_revoked[2];
	size_t n_root_revoked = 0;
	if (p.revoke_pck_ca)
		root_revoked[n_root_revoked++] = k->ca;
	if (p.revoke_tcb_signer)
		root_revoked[n_root_revoked++] = k->tcb;
	X509 *pck_revoked[1] = {k->pck};

	if (!sign_json(k->tcb_key, "tcbInfo", ti, &c.tcb_info, &c.tcb_info_len) ||
	    !sign_json(k->tcb_key, "enclaveIdentity", qe, &c.qe_identity, &c.qe_identity_len) ||
	    !pem_certs(tcb_chain, 2, false, &c.tcb_info_issuer_chain,
		       &c.tcb_info_issuer_chain_len) ||
	    !pem_certs(tcb_chain, 2, false, &c.qe_identity_issuer_chain,
		       &c.qe_identity_issuer_chain_len) ||
	    !pem_certs(crl_chain, 2, false, &c.pck_crl_issuer_chain,
		       &c.pck_crl_issuer_chain_len) ||
	    !(c.pck_crl = crl_der(k->ca, k->ca_key, pck_revoked, p.revoke_pck ? 1 : 0,
				  p.crl_this_update, p.crl_next_update, &c.pck_crl_len)) ||
	    !(c.root_ca_crl = crl_der(k->root, k->root_key, root_revoked, n_root_revoked,
				      p.crl_this_update, p.crl_next_update, &c.root_ca_crl_len))) {
		ppml_collateral_cleanup(&c);
		rc = ppml_err_openssl(err, PPML_E_CRYPTO, "simulation collateral: generation failed");
		goto out;
	}
	*out = c;
	rc = PPML_OK;
out:
	json_decref(ti);
	json_decref(qe);
	return rc;
}

/* ---- quotes ---- */

static void le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, v);
	le16(p + 2, v >> 16);
}

ppml_status ppml_simpki_quote(const struct ppml_simpki *k, const struct ppml_sgx_report_body *body,
			      const struct ppml_simpki_quote_params *qp, uint8_t **quote,
			      size_t *quote_len, struct ppml_err *err)
{
	unsigned version = qp && qp->version ? qp->version : 3;
	uint8_t *chain = NULL, *q = NULL;
	size_t chain_len = 0;
	const uint8_t *cert;
	size_t cert_len;
	struct ppml_quote_header h = {0};
	struct ppml_sgx_report_body qe = {0};
	uint8_t auth[32];
	ppml_status rc = PPML_OK;

	*quote = NULL;
	if (version != 3 && version != 4)
		return ppml_err_set(err, PPML_E_INPUT,
				    "simulated quote: version %u: expected 3 or 4", version);
	if (qp && qp->cert_data) {
		cert = qp->cert_data;
		cert_len = qp->cert_data_len;
	} else {
		X509 *certs[3] = {k->pck, k->ca, k->root};
		if (!pem_certs(certs, 3, true, &chain, &chain_len))
			return ppml_err_openssl(err, PPML_E_CRYPTO, "simulated quote: PCK chain PEM");
		cert = chain;
		cert_len = chain_len;
	}
	if (cert_len > PPML_QUOTE_MAX_SIZE) {
		free(chain);
		return ppml_err_set(err, PPML_E_LIMIT, "simulated quote: certification data too large");
	}

	h.version = (uint16_t)version;
	h.att_key_type = PPML_QUOTE_ATT_KEY_ECDSA_P256;
	h.tee_type = PPML_QUOTE_TEE_SGX;
	h.qe_svn = k->p.qe_isvsvn;
	h.pce_svn = k->p.pcesvn;
	memcpy(h.qe_vendor_id, PPML_QUOTE_INTEL_QE_VENDOR_ID, 16);
	memcpy(h.user_data, k->ppid, 16);

	/* The QE report: the quoting enclave's identity, and REPORTDATA binding
	 * the attestation key and the authentication data (section 4.4 step 10). */
	for (size_t i = 0; i < sizeof(auth); i++)
		auth[i] = (uint8_t)i;
	memcpy(qe.cpusvn, k->p.comp_svn, 16);
	qe.attributes_flags = 0x11; /* INIT | MODE64BIT, as the QE identity's mask wants */
	qe.attributes_xfrm = 0xe7;
	memcpy(qe.mrenclave, k->qe_mrenclave, 32);
	memcpy(qe.mrsigner, k->qe_mrsigner, 32);
	qe.isv_prod_id = 1;
	qe.isv_svn = k->p.qe_isvsvn;
	{
		uint8_t buf[96];
		memcpy(buf, k->att_raw, 64);
		memcpy(buf + 64, auth, 32);
		SHA256(buf, sizeof(buf), qe.report_data);
	}

	/* Section 1.3 (v3) / 1.4 (v4: type 6 wrapping the same QE part). */
	size_t qe_part = PPML_SGX_REPORT_BODY_SIZE + 64 + 2 + sizeof(auth) + 6 + cert_len;
	size_t sig_len = 64 + 64 + (version == 4 ? 6 : 0) + qe_part;
	size_t total = PPML_QUOTE_SIGNED_SIZE + 4 + sig_len;
	if (!(q = malloc(total))) {
		free(chain);
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}
	uint8_t *w = q;
	memcpy(w, &h, PPML_QUOTE_HEADER_SIZE);
	memcpy(w + PPML_QUOTE_HEADER_SIZE, body, PPML_SGX_REPORT_BODY_SIZE);
	w += PPML_QUOTE_SIGNED_SIZE;
	le32(w, (uint32_t)sig_len);
	w += 4;
	uint8_t *quote_sig = w;
	w += 64;
	memcpy(w, k->att_raw, 64);
	w += 64;
	if (version == 4) {
		le16(w, PPML_QUOTE_CERT_QE_REPORT);
		le32(w + 2, (uint32_t)qe_part);
		w += 6;
	}
	memcpy(w, &qe, PPML_SGX_REPORT_BODY_SIZE);
	if (!ppml_ec_sign_raw(k->pck_key, w, PPML_SGX_REPORT_BODY_SIZE, w + PPML_SGX_REPORT_BODY_SIZE) ||
	    !ppml_ec_sign_raw(k->att_key, q, PPML_QUOTE_SIGNED_SIZE, quote_sig)) {
		rc = ppml_err_openssl(err, PPML_E_CRYPTO, "simulated quote: signing");
		goto out;
	}
	w += PPML_SGX_REPORT_BODY_SIZE + 64;
	le16(w, sizeof(auth));
	memcpy(w + 2, auth, sizeof(auth));
	w += 2 + sizeof(auth);
	le16(w, PPML_QUOTE_CERT_PCK_CHAIN);
	le32(w + 2, (uint32_t)cert_len);
	memcpy(w + 6, cert, cert_len);
	*quote = q;
	*quote_len = total;
	q = NULL;
out:
	free(q);
	free(chain);
	return rc;
}

/* ---- persistence ---- */

static EVP_PKEY **key_slot(struct ppml_simpki *k, size_t i)
{
	EVP_PKEY **slots[] = {&k->root_key, &k->ca_key, &k->pck_key, &k->tcb_key, &k->att_key};
	return slots[i];
}

static X509 **cert_slot(struct ppml_simpki *k, size_t i)
{
	X509 **slots[] = {&k->root, &k->ca, &k->pck, &k->tcb};
	return slots[i];
}

static json_t *params_json(const struct ppml_simpki *k)
{
	const struct ppml_simpki_params *p = &k->p;
	json_t *o = json_object(), *svn = json_array();
	uint8_t *der = NULL, h[32];
	size_t dl = 0;
	for (int i = 0; i < 16; i++)
		json_array_append_new(svn, json_integer(p->comp_svn[i]));
	json_object_set_new(o, "format", json_string("ppml-sim-pki"));
	json_object_set_new(o, "version", json_integer(PPML_SIMPKI_FORMAT_VERSION));
	json_object_set_new(o, "not_before", jdate(p->not_before));
	json_object_set_new(o, "not_after", jdate(p->not_after));
	json_object_set_new(o, "pck_ca", json_string(p->platform_ca ? "platform" : "processor"));
	json_object_set_new(o, "fmspc", jhex(p->fmspc, 6, false));
	json_object_set_new(o, "pceid", jhex(p->pceid, 2, false));
	json_object_set_new(o, "tcb_components", svn);
	json_object_set_new(o, "pcesvn", json_integer(p->pcesvn));
	json_object_set_new(o, "qe_isvsvn", json_integer(p->qe_isvsvn));
	json_object_set_new(o, "ppid", jhex(k->ppid, 16, false));
	json_object_set_new(o, "qe_mrenclave", jhex(k->qe_mrenclave, 32, false));
	json_object_set_new(o, "qe_mrsigner", jhex(k->qe_mrsigner, 32, false));
	if (ppml_simpki_root_der(k, &der, &dl, NULL) == PPML_OK) {
		SHA256(der, dl, h);
		json_object_set_new(o, "root_sha256", jhex(h, 32, false));
	}
	free(der);
	return o;
}

ppml_status ppml_simpki_save(const struct ppml_simpki *k, const char *dir, bool no_clobber,
			     struct ppml_err *err)
{
	char path[4096];
	BIO *kb = BIO_new(BIO_s_mem());
	uint8_t *certs = NULL, *root = NULL;
	size_t certs_len = 0, root_len = 0;
	char *kp = NULL, *js = NULL;
	long kl = 0;
	struct ppml_outputs *o = NULL;
	json_t *meta = NULL;
	ppml_status rc;

	if (strlen(dir) > sizeof(path) - 16) {
		BIO_free(kb);
		return ppml_err_set(err, PPML_E_INPUT, "%s: path too long", dir);
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		BIO_free(kb);
		return ppml_err_set(err, PPML_E_IO, "%s: cannot create: %s", dir, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/pki.json", dir);
	if (no_clobber && access(path, F_OK) == 0) {
		BIO_free(kb);
		return ppml_err_set(err, PPML_E_EXISTS,
				    "%s already exists: a simulation PKI is there (--force replaces "
				    "it, and quotes under the old root stop verifying)",
				    path);
	}
	X509 *all[4] = {k->root, k->ca, k->pck, k->tcb};
	bool ok = kb != NULL;
	for (size_t i = 0; ok && i < 5; i++)
		ok = PEM_write_bio_PrivateKey(kb, *key_slot((struct ppml_simpki *)k, i), NULL, NULL,
					      0, NULL, NULL) == 1;
	ok = ok && (kl = BIO_get_mem_data(kb, &kp)) > 0 && pem_certs(all, 4, false, &certs,
								     &certs_len) &&
	     pem_certs(all, 1, false, &root, &root_len);
	meta = ok ? params_json(k) : NULL;
	js = meta ? json_dumps(meta, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (!ok || !js) {
		rc = ppml_err_openssl(err, PPML_E_CRYPTO, "simulation PKI: encoding for %s", dir);
		goto out;
	}
	size_t jl = strlen(js);
	js[jl] = '\n'; /* json_dumps leaves room for the NUL we overwrite; length + 1 below */
	if (!(o = ppml_outputs_new())) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
#define STAGE(name, data, len, mode)                                                       \
	snprintf(path, sizeof(path), "%s/%s", dir, name);                                  \
	if ((rc = ppml_outputs_stage(o, path, data, len, mode, err)) != PPML_OK)            \
		goto out;
	STAGE("keys.pem", kp, (size_t)kl, 0600);
	STAGE("certs.pem", certs, certs_len, 0644);
	STAGE("root.pem", root, root_len, 0644);
	STAGE("pki.json", js, jl + 1, 0644);
#undef STAGE
	rc = ppml_outputs_commit(o, err);
out:
	ppml_outputs_free(o);
	if (kp && kl > 0)
		OPENSSL_cleanse(kp, (size_t)kl);
	BIO_free(kb);
	free(certs);
	free(root);
	free(js);
	json_decref(meta);
	return rc;
}

static bool get_hexf(json_t *o, const char *key, uint8_t *out, size_t n)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && ppml_hex_decode(s, out, n, key, NULL) == PPML_OK;
}

static bool get_u16(json_t *o, const char *key, uint16_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
		return false;
	*out = (uint16_t)json_integer_value(v);
	return true;
}

static ppml_status parse_meta(struct ppml_simpki *k, const char *path, const uint8_t *data,
			      size_t len, struct ppml_err *err)
{
	json_error_t je;
	json_t *o = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je), *v;
	struct ppml_simpki_params *p = &k->p;
	const char *bad = NULL;

	if (!o || !json_is_object(o)) {
		json_decref(o);
		return ppml_err_set(err, PPML_E_INPUT, "%s: not a JSON object (line %d: %s)", path,
				    je.line, o ? "not an object" : je.text);
	}
	const char *fmt = json_string_value(json_object_get(o, "format"));
	v = json_object_get(o, "version");
	const char *ca = json_string_value(json_object_get(o, "pck_ca"));
	json_t *svn = json_object_get(o, "tcb_components");
	if (!fmt || strcmp(fmt, "ppml-sim-pki") != 0)
		bad = "format: expected \"ppml-sim-pki\"";
	else if (!json_is_integer(v) || json_integer_value(v) != PPML_SIMPKI_FORMAT_VERSION)
		bad = "version: expected 1 (made by another ppml version? run `ppml sim init --force`)";
	else if (!ppml_time_parse_intel(json_string_value(json_object_get(o, "not_before")) ?: "",
					&p->not_before) ||
		 !ppml_time_parse_intel(json_string_value(json_object_get(o, "not_after")) ?: "",
					&p->not_after))
		bad = "not_before / not_after: expected \"YYYY-MM-DDThh:mm:ssZ\"";
	else if (!ca || (strcmp(ca, "processor") != 0 && strcmp(ca, "platform") != 0))
		bad = "pck_ca: expected \"processor\" or \"platform\"";
	else if (!get_hexf(o, "fmspc", p->fmspc, 6) || !get_hexf(o, "pceid", p->pceid, 2))
		bad = "fmspc / pceid: expected 12 / 4 hex digits";
	else if (!json_is_array(svn) || json_array_size(svn) != 16)
		bad = "tcb_components: expected 16 integers 0..255";
	else if (!get_u16(o, "pcesvn", &p->pcesvn) || !get_u16(o, "qe_isvsvn", &p->qe_isvsvn))
		bad = "pcesvn / qe_isvsvn: expected integers 0..65535";
	else if (!get_hexf(o, "ppid", k->ppid, 16) || !get_hexf(o, "qe_mrenclave", k->qe_mrenclave, 32) ||
		 !get_hexf(o, "qe_mrsigner", k->qe_mrsigner, 32))
		bad = "ppid / qe_mrenclave / qe_mrsigner: expected 32 / 64 / 64 hex digits";
	for (size_t i = 0; !bad && i < 16; i++) {
		json_t *x = json_array_get(svn, i);
		if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 255)
			bad = "tcb_components: expected 16 integers 0..255";
		else
			p->comp_svn[i] = (uint8_t)json_integer_value(x);
	}
	if (!bad) {
		p->platform_ca = strcmp(ca, "platform") == 0;
		p->set_fmspc = p->set_tcb = true;
	}
	json_decref(o);
	return bad ? ppml_err_set(err, PPML_E_INPUT, "%s: %s", path, bad) : PPML_OK;
}

ppml_status ppml_simpki_load(const char *dir, struct ppml_simpki **out, struct ppml_err *err)
{
	char path[4096];
	struct ppml_simpki *k = calloc(1, sizeof(*k));
	uint8_t *meta = NULL, *certs = NULL;
	char *keys = NULL;
	size_t meta_len = 0, certs_len = 0, keys_len = 0;
	BIO *b = NULL;
	ppml_status rc;

	*out = NULL;
	if (!k)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	if (strlen(dir) > sizeof(path) - 16) {
		rc = ppml_err_set(err, PPML_E_INPUT, "%s: path too long", dir);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/pki.json", dir);
	if ((rc = ppml_file_read(path, PPML_SIMPKI_MAX_FILE, &meta, &meta_len, err)) != PPML_OK) {
		if (rc == PPML_E_NOTFOUND)
			ppml_err_set(err, PPML_E_NOTFOUND,
				     "%s: no simulation PKI here: run `ppml sim init` first", path);
		goto out;
	}
	if ((rc = parse_meta(k, path, meta, meta_len, err)) != PPML_OK)
		goto out;
	snprintf(path, sizeof(path), "%s/keys.pem", dir);
	if ((rc = ppml_file_read_secret(path, PPML_SIMPKI_MAX_FILE, "simulation keys", &keys,
					&keys_len, err)) != PPML_OK)
		goto out;
	b = BIO_new_mem_buf(keys, (int)keys_len);
	for (size_t i = 0; b && i < 5; i++) {
		EVP_PKEY *key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		if (!key || !EVP_PKEY_is_a(key, "EC")) {
			EVP_PKEY_free(key);
			rc = ppml_err_openssl(err, PPML_E_INPUT,
					      "%s: key %zu of 5: expected a PEM EC private key", path,
					      i + 1);
			goto out;
		}
		*key_slot(k, i) = key;
	}
	BIO_free(b);
	snprintf(path, sizeof(path), "%s/certs.pem", dir);
	if ((rc = ppml_file_read(path, PPML_SIMPKI_MAX_FILE, &certs, &certs_len, err)) != PPML_OK)
		goto out;
	b = BIO_new_mem_buf(certs, (int)certs_len);
	for (size_t i = 0; b && i < 4; i++) {
		X509 *c = PEM_read_bio_X509(b, NULL, NULL, NULL);
		if (!c || EVP_PKEY_eq(X509_get0_pubkey(c), *key_slot(k, i)) != 1) {
			X509_free(c);
			rc = ppml_err_openssl(err, PPML_E_INPUT,
					      "%s: certificate %zu of 4 is missing or does not match "
					      "key %zu of keys.pem",
					      path, i + 1, i + 1);
			goto out;
		}
		*cert_slot(k, i) = c;
	}
	if (!b || !ppml_ec_to_raw(k->att_key, k->att_raw)) {
		rc = ppml_err_openssl(err, PPML_E_INPUT, "%s: the attestation key is not P-256", dir);
		goto out;
	}
	*out = k;
	k = NULL;
	rc = PPML_OK;
out:
	BIO_free(b);
	if (keys) {
		OPENSSL_cleanse(keys, keys_len);
		free(keys);
	}
	free(meta);
	free(certs);
	ppml_simpki_free(k);
	return rc;
}
