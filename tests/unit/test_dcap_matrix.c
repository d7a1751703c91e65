/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The synthetic verification matrix (issue 6): quotes and collateral from
 * the simulation PKI (ppml/simpki.h), each case changing one thing, each
 * failure expected with its specific ppml_qv_failure.  Needs nothing from
 * ../shared.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "harness.h"
#include "ppml/dcap.h"
#include "ppml/quote.h"
#include "ppml/simpki.h"

#define DAY 86400
static const int64_t T0 = 1790000000; /* 2026-09-21: every case's "now" */

static struct ppml_simpki *pki;       /* processor CA */
static uint8_t *root_der;
static size_t root_der_len;
static struct ppml_dcap_verifier *ver; /* trusts pki's root */

static struct ppml_sgx_report_body app_body(void)
{
	struct ppml_sgx_report_body b = {0};
	for (int i = 0; i < 32; i++) {
		b.mrenclave[i] = (uint8_t)(0xa0 + i);
		b.mrsigner[i] = (uint8_t)(0x50 + i);
	}
	b.attributes_flags = 0x05; /* INIT | MODE64BIT... and not DEBUG (bit 1) */
	b.attributes_xfrm = 0x03;
	b.isv_prod_id = 7;
	b.isv_svn = 3;
	for (int i = 0; i < 64; i++)
		b.report_data[i] = (uint8_t)i;
	return b;
}

static struct ppml_simpki_collateral_params base_cp(void)
{
	struct ppml_simpki_collateral_params p = {.issue_date = T0 - DAY, .next_update = T0 + 29 * DAY};
	return p;
}

static uint8_t *make_quote(struct ppml_simpki *k, unsigned version, const uint8_t *cert,
			   size_t cert_len, size_t *len)
{
	struct ppml_sgx_report_body b = app_body();
	struct ppml_simpki_quote_params qp = {.version = version, .cert_data = cert,
					      .cert_data_len = cert_len};
	uint8_t *q = NULL;
	struct ppml_err err = {0};
	if (ppml_simpki_quote(k, &b, &qp, &q, len, &err) != PPML_OK) {
		fprintf(stderr, "quote: %s\n", err.msg);
		return NULL;
	}
	return q;
}

/* Verifies with v (NULL: the shared verifier); returns the failure (PPML_QV_OK on success). */
static enum ppml_qv_failure run(struct ppml_dcap_verifier *v, const uint8_t *q, size_t len,
				const struct ppml_collateral *c, int64_t at,
				struct ppml_verdict *vd, char *msg)
{
	struct ppml_err err = {0};
	ppml_status st = ppml_dcap_verify(v ? v : ver, q, len, c, at, vd, &err);
	if (msg)
		snprintf(msg, 256, "%.200s", err.msg);
	if (st == PPML_OK)
		return vd->failure == PPML_QV_OK ? PPML_QV_OK : (enum ppml_qv_failure)-1;
	return vd->failure == PPML_QV_OK ? (enum ppml_qv_failure)-1 : vd->failure;
}

/* One case: the default quote (v3) against collateral cp, at T0. */
static enum ppml_qv_failure run_cp(const struct ppml_simpki_collateral_params *cp,
				   struct ppml_verdict *vd)
{
	struct ppml_collateral c = {0};
	size_t len = 0;
	uint8_t *q = make_quote(pki, 3, NULL, 0, &len);
	enum ppml_qv_failure f = (enum ppml_qv_failure)-1;
	if (q && ppml_simpki_collateral(pki, cp, &c, NULL) == PPML_OK)
		f = run(NULL, q, len, &c, T0, vd, NULL);
	ppml_collateral_cleanup(&c);
	free(q);
	return f;
}

#define EXPECT_FAIL(f, want)                                                                \
	CHECKF((f) == (want), "%s: got %s, expected %s", #f,                               \
	       (int)(f) < 0 ? "(inconsistent status)" : ppml_qv_failure_name(f),            \
	       ppml_qv_failure_name(want))

/* ---- helpers that alter signed objects ---- */

/* PEM for DER certificates, as PEM_write_bio_X509 lays it out. */
static uint8_t *pem_encode(const struct ppml_pem_chain *ch, bool nul, size_t *len)
{
	size_t cap = 64;
	for (size_t i = 0; i < ch->count; i++)
		cap += ch->der_len[i] * 2 + 80;
	uint8_t *out = malloc(cap), *w = out;
	for (size_t i = 0; out && i < ch->count; i++) {
		w += sprintf((char *)w, "-----BEGIN CERTIFICATE-----\n");
		for (size_t o = 0; o < ch->der_len[i]; o += 48) {
			size_t n = ch->der_len[i] - o < 48 ? ch->der_len[i] - o : 48;
			w += EVP_EncodeBlock(w, ch->der[i] + o, (int)n);
			*w++ = '\n';
		}
		w += sprintf((char *)w, "-----END CERTIFICATE-----\n");
	}
	if (out && nul)
		*w++ = 0;
	*len = (size_t)(w - out);
	return out;
}

/* A copy of a PEM chain whose certificate idx has its signature's last byte
 * flipped (the DER stays well-formed: the last byte is inside the s INTEGER). */
static uint8_t *chain_with_bad_sig(const uint8_t *pem, size_t len, size_t idx, bool nul,
				   size_t *out_len)
{
	struct ppml_pem_chain ch;
	if (ppml_pem_chain_parse(pem, len, 0, &ch, NULL) != PPML_OK || idx >= ch.count)
		return NULL;
	ch.der[idx][ch.der_len[idx] - 1] ^= 0x01;
	uint8_t *out = pem_encode(&ch, nul, out_len);
	ppml_pem_chain_free(&ch);
	return out;
}

/* The quote's certification data (type 5 chain). */
static bool quote_chain(const uint8_t *q, size_t len, const uint8_t **cert, size_t *cert_len)
{
	struct ppml_quote pq;
	if (ppml_quote_parse(q, len, &pq, NULL) != PPML_OK)
		return false;
	*cert = pq.cert_data;
	*cert_len = pq.cert_len;
	return true;
}

/* ---- tests ---- */

TEST(simulated_quote_verifies_with_custom_anchor)
{
	struct ppml_collateral c = {0};
	struct ppml_simpki_collateral_params cp = base_cp();
	struct ppml_verdict vd = {0};
	char msg[256];
	size_t len = 0;
	uint8_t *q = make_quote(pki, 3, NULL, 0, &len);
	REQUIRE(q);
	REQUIRE(ppml_simpki_collateral(pki, &cp, &c, NULL) == PPML_OK);
	enum ppml_qv_failure f = run(NULL, q, len, &c, T0, &vd, msg);
	CHECKF(f == PPML_QV_OK, "verify: %s", msg);
	CHECK(vd.tcb_status == PPML_TCB_UP_TO_DATE);
	CHECK(vd.custom_anchor);
	uint8_t h[32];
	SHA256(root_der, root_der_len, h);
	CHECK(memcmp(vd.trust_anchor_sha256, h, 32) == 0);
	struct ppml_sgx_report_body b = app_body();
	CHECK(memcmp(&vd.body, &b, sizeof(b)) == 0);
	CHECK(!vd.collateral_expired);
	CHECK(vd.collateral_expires_at == T0 + 29 * DAY);
	CHECK(vd.tcb_evaluation_data_number == 17);
	CHECK(vd.tcb_date == T0 - 31 * DAY);
	CHECK(vd.n_advisory_ids == 0);
	CHECK(vd.qe_isvsvn == 8);
	CHECK(vd.has_pck && vd.pck.pcesvn == 13 && vd.pck.comp_svn[5] == 128);
	/* The JSON says so too. */
	json_t *o = ppml_verdict_json(&vd);
	CHECK(o && strcmp(json_string_value(json_object_get(o, "trust_anchor")), "custom") == 0);
	json_decref(o);
	ppml_verdict_cleanup(&vd);

	/* The same quote, Intel's root only: refused, whatever the collateral. */
	struct ppml_dcap_verifier *intel = NULL;
	REQUIRE(ppml_dcap_verifier_new(NULL, 0, &intel, NULL) == PPML_OK);
	EXPECT_FAIL(run(intel, q, len, &c, T0, &vd, NULL), PPML_QV_UNTRUSTED_ROOT);
	CHECK(!vd.custom_anchor);
	ppml_verdict_cleanup(&vd);
	ppml_dcap_verifier_free(intel);
	ppml_collateral_cleanup(&c);
	free(q);
}

TEST(v4_quote_and_platform_ca)
{
	struct ppml_simpki_params pp = {.platform_ca = true};
	struct ppml_simpki *plat = NULL;
	struct ppml_dcap_verifier *v = NULL;
	struct ppml_collateral c = {0};
	struct ppml_simpki_collateral_params cp = base_cp();
	struct ppml_verdict vd = {0};
	uint8_t *der = NULL;
	size_t dl = 0, len = 0;
	char msg[256];

	REQUIRE(ppml_simpki_new(&pp, &plat, NULL) == PPML_OK);
	REQUIRE(ppml_simpki_root_der(plat, &der, &dl, NULL) == PPML_OK);
	REQUIRE(ppml_dcap_verifier_new(der, dl, &v, NULL) == PPML_OK);
	REQUIRE(ppml_simpki_collateral(plat, &cp, &c, NULL) == PPML_OK);
	for (unsigned version = 3; version <= 4; version++) {
		uint8_t *q = make_quote(plat, version, NULL, 0, &len);
		REQUIRE(q);
		enum ppml_qv_failure f = run(v, q, len, &c, T0, &vd, msg);
		CHECKF(f == PPML_QV_OK, "v%u: %s", version, msg);
		CHECK(vd.header.version == version);
		CHECK(vd.has_pck && vd.pck.platform && vd.pck.has_smt_enabled && vd.pck.smt_enabled);
		ppml_verdict_cleanup(&vd);
		/* A Platform-CA quote against a Processor-CA PKI's collateral: refused. */
		struct ppml_collateral other = {0};
		REQUIRE(ppml_simpki_collateral(pki, &cp, &other, NULL) == PPML_OK);
		EXPECT_FAIL(run(v, q, len, &other, T0, &vd, NULL), PPML_QV_TCB_SIGNING_CHAIN);
		ppml_verdict_cleanup(&vd);
		ppml_collateral_cleanup(&other);
		free(q);
	}
	ppml_collateral_cleanup(&c);
	ppml_dcap_verifier_free(v);
	ppml_simpki_free(plat);
	free(der);
}

TEST(wrong_root)
{
	struct ppml_simpki *other = NULL;
	struct ppml_dcap_verifier *v = NULL;
	struct ppml_collateral c = {0}, oc = {0};
	struct ppml_simpki_collateral_params cp = base_cp();
	struct ppml_verdict vd = {0};
	uint8_t *der = NULL;
	size_t dl = 0, len = 0;

	REQUIRE(ppml_simpki_new(NULL, &other, NULL) == PPML_OK);
	REQUIRE(ppml_simpki_root_der(other, &der, &dl, NULL) == PPML_OK);
	REQUIRE(ppml_dcap_verifier_new(der, dl, &v, NULL) == PPML_OK);
	REQUIRE(ppml_simpki_collateral(pki, &cp, &c, NULL) == PPML_OK);
	REQUIRE(ppml_simpki_collateral(other, &cp, &oc, NULL) == PPML_OK);
	uint8_t *q = make_quote(pki, 3, NULL, 0, &len);
	REQUIRE(q);
	/* Trusting another root: the quote's chain is not anchored. */
	EXPECT_FAIL(run(v, q, len, &c, T0, &vd, NULL), PPML_QV_UNTRUSTED_ROOT);
	ppml_verdict_cleanup(&vd);
	/* Right root, collateral signed under another root. */
	EXPECT_FAIL(run(NULL, q, len, &oc, T0, &vd, NULL), PPML_QV_TCB_SIGNING_CHAIN);
	ppml_verdict_cleanup(&vd);
	/* A root with the same name and key but another signature (a re-issued
	 * root certificate) is not the custom root: pinned by certificate. */
	{
		const uint8_t *cert;
		size_t cl, nl;
		REQUIRE(quote_chain(q, len, &cert, &cl));
		uint8_t *bad = chain_with_bad_sig(cert, cl, 2, true, &nl);
		REQUIRE(bad);
		size_t ql2;
		uint8_t *q2 = make_quote(pki, 3, bad, nl, &ql2);
		REQUIRE(q2);
		enum ppml_qv_failure f = run(NULL, q2, ql2, &c, T0, &vd, NULL);
		CHECKF(f == PPML_QV_PCK_CHAIN || f == PPML_QV_UNTRUSTED_ROOT,
		       "altered root: got %s", ppml_qv_failure_name(f));
		ppml_verdict_cleanup(&vd);
		free(q2);
		free(bad);
	}
	free(q);
	ppml_collateral_cleanup(&c);
	ppml_collateral_cleanup(&oc);
	ppml_dcap_verifier_free(v);
	ppml_simpki_free(other);
	free(der);
}

/* Every signature in the quote and its chain, each altered alone. */
TEST(every_quote_signature)
{
	struct ppml_collateral c = {0};
	struct ppml_simpki_collateral_params cp = base_cp();
	struct ppml_verdict vd = {0};
	size_t len = 0;
	uint8_t *q = make_quote(pki, 3, NULL, 0, &len);
	REQUIRE(q);
	REQUIRE(ppml_simpki_collateral(pki, &cp, &c, NULL) == PPML_OK);
	const size_t sig = PPML_QUOTE_SIGNED_SIZE + 4, att = sig + 64, qe = att + 64,
		     qe_sig = qe + PPML_SGX_REPORT_BODY_SIZE, auth = qe_sig + 64 + 2;
	static const struct {
		const char *what;
		size_t off;
		enum ppml_qv_failure want;
	} flips[] = {
		{"quote signature r", 0, PPML_QV_QUOTE_SIGNATURE},
		{"quote signature s", 32, PPML_QV_QUOTE_SIGNATURE},
		{"report body (MRENCLAVE)", 0, PPML_QV_QUOTE_SIGNATURE},
		{"header user data", 0, PPML_QV_QUOTE_SIGNATURE},
		{"attestation key", 0, PPML_QV_QE_REPORT_DATA},
		{"QE report ISVSVN", 0, PPML_QV_QE_REPORT_SIGNATURE},
		{"QE report signature", 0, PPML_QV_QE_REPORT_SIGNATURE},
		{"QE authentication data", 0, PPML_QV_QE_REPORT_DATA},
	};
	const size_t base[] = {sig, sig, PPML_QUOTE_HEADER_SIZE + 64, 28, att,
			       qe + offsetof(struct ppml_sgx_report_body, isv_svn), qe_sig, auth};
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		size_t o = base[i] + flips[i].off;
		q[o] ^= 0x01;
		enum ppml_qv_failure f = run(NULL, q, len, &c, T0, &vd, NULL);
		CHECKF(f == flips[i].want, "%s (offset %zu): got %s, expected %s", flips[i].what, o,
		       (int)f < 0 ? "?" : ppml_qv_failure_name(f), ppml_qv_failure_name(flips[i].want));
		ppml_verdict_cleanup(&vd);
		q[o] ^= 0x01;
	}
	/* Certificate signatures in the quote's chain: PCK, PCK CA, root. */
	const uint8_t *cert;
	size_t cl;
	REQUIRE(quote_chain(q, len, &cert, &cl));
	for (size_t idx = 0; idx < 3; idx++) {
		size_t nl, ql2;
		uint8_t *bad = chain_with_bad_sig(cert, cl, idx, true, &nl);
		REQUIRE(bad);
		uint8_t *q2 = make_quote(pki, 3, bad, nl, &ql2);
		REQUIRE(q2);
		enum ppml_qv_failure f = run(NULL, q2, ql2, &c, T0, &vd, NULL);
		CHECKF(f == PPML_QV_PCK_CHAIN, "certificate %zu of the PCK chain: got %s", idx,
		       (int)f < 0 ? "?" : ppml_qv_failure_name(f));
		ppml_verdict_cleanup(&vd);
		free(q2);
		free(bad);
	}
	/* The unaltered re-encoding still verifies (the helper changes only the signature). */
	{
		struct ppml_pem_chain ch;
		size_t nl, ql2;
		REQUIRE(ppml_pem_chain_parse(cert, cl, 3, &ch, NULL) == PPML_OK);
		uint8_t *same = pem_encode(&ch, true, &nl);
		ppml_pem_chain_free(&ch);
		CHECK(same && nl == cl && memcmp(same, cert, cl) == 0);
		free(same);
		(void)ql2;
	}
	ppml_collateral_cleanup(&c);
	free(q);
}

/* Every signature of the collateral, each altered alone. */
TEST(every_collateral_signature)
{
	struct ppml_collateral c = {0};
	struct ppml_simpki_collateral_params cp = base_cp();
	struct ppml_verdict vd = {0};
	size_t len = 0;
	uint8_t *q = make_quote(pki, 3, NULL, 0, &len);
	REQUIRE(q);
	REQUIRE(ppml_simpki_collateral(pki, &cp, &c, NULL) == PPML_OK);

	/* The JSON signatures: first hex digit of "signature", and a body value. */
	struct {
		uint8_t *json;
		size_t len;
		const char *body_needle;
		enum ppml_qv_failure want;
	} js[] = {
		{c.tcb_info, c.tcb_info_len, "\"tcbEvaluationDataNumber\":17",
		 PPML_QV_TCB_INFO_SIGNATURE},
		{c.qe_identity, c.qe_identity_len, "\"isvsvn\":8", PPML_QV_QE_IDENTITY_SIGNATURE},
	};
	for (size_t i = 0; i < 2; i++) {
		char *s = strstr((char *)js[i].json, "\"signature\":\"");
		REQUIRE(s);
		s += 13;
		char old = *s;
		*s = old == '0' ? '1' : '0';
		EXPECT_FAIL(run(NULL, q, len, &c, T0, &vd, NULL), js[i].want);
		ppml_verdict_cleanup(&vd);
		*s = old;
		char *b = strstr((char *)js[i].json, js[i].body_needle);
		REQUIRE(b);
		char *digit = b + strlen(js[i].body_needle) - 1;
		old = *digit;
		*digit = '9';
		EXPECT_FAIL(run(NULL, q, len, &c, T0, &vd, NULL), js[i].want);
		ppml_verdict_cleanup(&vd);
		*digit = old;
	}
	/* The TCB signing certificate, in either issuer chain, and its root. */
	uint8_t **chains[] = {&c.tcb_info_issuer_chain, &c.qe_identity_issuer_chain};
	size_t *chain_lens[] = {&c.tcb_info_issuer_chain_len, &c.qe_identity_issuer_chain_len};
	for (size_t i = 0; i < 2; i++) {
		for (size_t idx = 0; idx < 2; idx++) {
			uint8_t *keep = *chains[i];
			size_t keep_len = *chain_lens[i], nl;
			uint8_t *bad = chain_with_bad_sig(keep, keep_len, idx, false, &nl);
			REQUIRE(bad);
			*chains[i] = bad;
			*chain_lens[i] = nl;
			EXPECT_FAIL(run(NULL, q, len, &c, T0, &vd, NULL), PPML_QV_TCB_SIGNING_CHAIN);
			ppml_verdict_cleanup(&vd);
			*chains[i] = keep;
			*chain_lens[i] = keep_len;
			free(bad);
		}
	}
	/* The CRLs: the last DER byte is inside the signature's s. */
	c.root_ca_crl[c.root_ca_crl_len - 1] ^= 1;
	EXPECT_FAIL(run(NULL, q, len, &c, T0, &vd, NULL), PPML_QV_CRL);
	ppml_verdict_cleanup(&vd);
	c.root_ca_crl[c.root_ca_crl_len - 1] ^= 1;
	c.pck_crl[c.pck_crl_len - 1] ^= 1;
	EXPECT_FAIL(run(NULL, q, len, &c, T0, &vd, NULL), PPML_QV_CRL);
	ppml_verdict_cleanup(&vd);
	c.pck_crl[c.pck_crl_len - 1] ^= 1;
	/* Restored: verifies again (the cases above changed nothing else). */
	EXPECT_FAIL(run(NULL, q, len, &c, T0, &vd, NULL), PPML_QV_OK);
	ppml_verdict_cleanup(&vd);
	ppml_collateral_cleanup(&c);
	free(q);
}

TEST(revocations)
{
	struct ppml_verdict vd = {0};
	struct ppml_simpki_collateral_params cp = base_cp();
	cp.revoke_pck = true;
	EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_PCK_REVOKED);
	ppml_verdict_cleanup(&vd);
	cp = base_cp();
	cp.revoke_pck_ca = true;
	EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_INTERMEDIATE_REVOKED);
	ppml_verdict_cleanup(&vd);
	cp = base_cp();
	cp.revoke_tcb_signer = true;
	EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_TCB_SIGNING_REVOKED);
	ppml_verdict_cleanup(&vd);
}

/* Section 4.6: expiry is reported (collateral_expired), never fatal. */
TEST(expired_collateral_is_reported)
{
	struct ppml_collateral c = {0};
	struct ppml_simpki_collateral_params cp = base_cp();
	struct ppml_verdict vd = {0};
	size_t len = 0;
	uint8_t *q = make_quote(pki, 3, NULL, 0, &len);
	REQUIRE(q);
	REQUIRE(ppml_simpki_collateral(pki, &cp, &c, NULL) == PPML_OK);
	const int64_t next = T0 + 29 * DAY;
	EXPECT_FAIL(run(NULL, q, len, &c, next - 1, &vd, NULL), PPML_QV_OK);
	CHECK(!vd.collateral_expired && vd.collateral_expires_at == next);
	ppml_verdict_cleanup(&vd);
	EXPECT_FAIL(run(NULL, q, len, &c, next + 1, &vd, NULL), PPML_QV_OK);
	CHECK(vd.collateral_expired);
	CHECK(vd.tcb_status == PPML_TCB_UP_TO_DATE);
	ppml_verdict_cleanup(&vd);
	ppml_collateral_cleanup(&c);

	/* Only the CRLs expired (TCB info and QE identity still current). */
	cp.crl_next_update = T0 - 1;
	cp.crl_this_update = T0 - 2 * DAY;
	REQUIRE(ppml_simpki_collateral(pki, &cp, &c, NULL) == PPML_OK);
	EXPECT_FAIL(run(NULL, q, len, &c, T0, &vd, NULL), PPML_QV_OK);
	CHECK(vd.collateral_expired && vd.collateral_expires_at == T0 - 1);
	ppml_verdict_cleanup(&vd);
	ppml_collateral_cleanup(&c);

	/* A CRL whose thisUpdate is in the future at the verification time. */
	cp = base_cp();
	cp.crl_this_update = T0 + DAY;
	REQUIRE(ppml_simpki_collateral(pki, &cp, &c, NULL) == PPML_OK);
	EXPECT_FAIL(run(NULL, q, len, &c, T0, &vd, NULL), PPML_QV_OK);
	CHECK(vd.collateral_expired);
	ppml_verdict_cleanup(&vd);
	EXPECT_FAIL(run(NULL, q, len, &c, T0 + 2 * DAY, &vd, NULL), PPML_QV_OK);
	CHECK(!vd.collateral_expired);
	ppml_verdict_cleanup(&vd);
	ppml_collateral_cleanup(&c);
	free(q);

	/* An expired PCK chain (certificates' notAfter before the time). */
	struct ppml_simpki_params pp = {.not_before = T0 - 400 * DAY, .not_after = T0 - DAY};
	struct ppml_simpki *old = NULL;
	struct ppml_dcap_verifier *v = NULL;
	uint8_t *der = NULL;
	size_t dl;
	REQUIRE(ppml_simpki_new(&pp, &old, NULL) == PPML_OK);
	REQUIRE(ppml_simpki_root_der(old, &der, &dl, NULL) == PPML_OK);
	REQUIRE(ppml_dcap_verifier_new(der, dl, &v, NULL) == PPML_OK);
	cp = base_cp();
	REQUIRE(ppml_simpki_collateral(old, &cp, &c, NULL) == PPML_OK);
	q = make_quote(old, 3, NULL, 0, &len);
	REQUIRE(q);
	EXPECT_FAIL(run(v, q, len, &c, T0, &vd, NULL), PPML_QV_OK);
	CHECK(vd.collateral_expired && vd.collateral_expires_at == T0 - DAY);
	ppml_verdict_cleanup(&vd);
	free(q);
	free(der);
	ppml_collateral_cleanup(&c);
	ppml_dcap_verifier_free(v);
	ppml_simpki_free(old);
}

TEST(fmspc_and_pceid_mismatch)
{
	struct ppml_verdict vd = {0};
	struct ppml_simpki_collateral_params cp = base_cp();
	const uint8_t fmspc[6] = {0xff, 0x50, 0x50, 0x4d, 0x4c, 0x01}, pceid[2] = {0x00, 0x01};
	cp.fmspc = fmspc;
	EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_TCB_INFO_MISMATCH);
	ppml_verdict_cleanup(&vd);
	cp = base_cp();
	cp.pceid = pceid;
	EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_TCB_INFO_MISMATCH);
	ppml_verdict_cleanup(&vd);
}

/* Each TCB status of the matched level, in TCB info v2 and v3, with its
 * advisory IDs and date; Revoked and no-match are terminal. */
TEST(each_tcb_status_v2_and_v3)
{
	const struct ppml_simpki_params *pp = ppml_simpki_get_params(pki);
	static const char *const ids[] = {"INTEL-SA-00615", "INTEL-SA-00828"};
	static const enum ppml_tcb_status st[] = {
		PPML_TCB_UP_TO_DATE,          PPML_TCB_SW_HARDENING_NEEDED,
		PPML_TCB_CONFIGURATION_NEEDED, PPML_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
		PPML_TCB_OUT_OF_DATE,         PPML_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	};
	for (unsigned version = 2; version <= 3; version++) {
		for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
			struct ppml_verdict vd = {0};
			struct ppml_simpki_collateral_params cp = base_cp();
			struct ppml_simpki_tcb_level lv[2] = {0};
			/* A higher level first (not matched), then the platform's own. */
			memcpy(lv[0].comp_svn, pp->comp_svn, 16);
			lv[0].comp_svn[1]++;
			lv[0].pcesvn = pp->pcesvn;
			lv[0].status = PPML_TCB_UP_TO_DATE;
			lv[0].tcb_date = T0 - 10 * DAY;
			memcpy(lv[1].comp_svn, pp->comp_svn, 16);
			lv[1].pcesvn = pp->pcesvn;
			lv[1].status = st[i];
			lv[1].tcb_date = T0 - 100 * DAY - (int64_t)i;
			lv[1].advisory_ids = ids;
			lv[1].n_advisory_ids = st[i] == PPML_TCB_UP_TO_DATE ? 0 : 2;
			cp.levels = lv;
			cp.n_levels = 2;
			cp.tcb_info_version = version;
			cp.tcb_evaluation_data_number = 18 + version;
			enum ppml_qv_failure f = run_cp(&cp, &vd);
			CHECKF(f == PPML_QV_OK && vd.tcb_status == st[i] &&
				       vd.platform_tcb_status == st[i] &&
				       vd.tcb_date == lv[1].tcb_date &&
				       vd.tcb_evaluation_data_number == 18 + version &&
				       vd.n_advisory_ids == lv[1].n_advisory_ids &&
				       (!vd.n_advisory_ids ||
					(strcmp(vd.advisory_ids[0], ids[0]) == 0 &&
					 strcmp(vd.advisory_ids[1], ids[1]) == 0)),
			       "v%u %s: got %s / %s", version, ppml_tcb_status_name(st[i]),
			       (int)f < 0 ? "?" : ppml_qv_failure_name(f),
			       ppml_tcb_status_name(vd.tcb_status));
			ppml_verdict_cleanup(&vd);
		}
		struct ppml_verdict vd = {0};
		struct ppml_simpki_collateral_params cp = base_cp();
		struct ppml_simpki_tcb_level lv = {0};
		memcpy(lv.comp_svn, pp->comp_svn, 16);
		lv.pcesvn = pp->pcesvn;
		lv.status = PPML_TCB_REVOKED;
		lv.tcb_date = T0 - DAY;
		cp.levels = &lv;
		cp.n_levels = 1;
		cp.tcb_info_version = version;
		EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_TCB_REVOKED);
		ppml_verdict_cleanup(&vd);
		/* Every level above the platform in one component or in PCESVN. */
		lv.status = PPML_TCB_UP_TO_DATE;
		lv.comp_svn[15]++;
		EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_TCB_NOT_SUPPORTED);
		ppml_verdict_cleanup(&vd);
		lv.comp_svn[15]--;
		lv.pcesvn++;
		EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_TCB_NOT_SUPPORTED);
		ppml_verdict_cleanup(&vd);
	}
}

/* The QE identity: out of date, revoked, unsupported, another QE. */
TEST(qe_identity_levels)
{
	const struct ppml_simpki_params *pp = ppml_simpki_get_params(pki);
	static const char *const qe_ids[] = {"INTEL-SA-00999"};
	struct ppml_verdict vd = {0};
	struct ppml_simpki_collateral_params cp = base_cp();
	struct ppml_simpki_qe_level ql[2] = {
		{.isvsvn = (uint16_t)(pp->qe_isvsvn + 1), .status = PPML_TCB_UP_TO_DATE,
		 .tcb_date = T0 - 5 * DAY},
		{.isvsvn = pp->qe_isvsvn, .status = PPML_TCB_OUT_OF_DATE, .tcb_date = T0 - 50 * DAY,
		 .advisory_ids = qe_ids, .n_advisory_ids = 1},
	};
	cp.qe_levels = ql;
	cp.n_qe_levels = 2;
	EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_OK);
	CHECK(vd.tcb_status == PPML_TCB_OUT_OF_DATE && vd.qe_tcb_status == PPML_TCB_OUT_OF_DATE &&
	      vd.platform_tcb_status == PPML_TCB_UP_TO_DATE);
	CHECK(vd.qe_tcb_date == T0 - 50 * DAY);
	CHECK(vd.n_advisory_ids == 0); /* QE advisories are not reported (spec 4.5) */
	ppml_verdict_cleanup(&vd);

	/* Platform ConfigurationNeeded + QE out of date. */
	struct ppml_simpki_tcb_level lv = {0};
	memcpy(lv.comp_svn, pp->comp_svn, 16);
	lv.pcesvn = pp->pcesvn;
	lv.status = PPML_TCB_CONFIGURATION_NEEDED;
	lv.tcb_date = T0 - DAY;
	cp.levels = &lv;
	cp.n_levels = 1;
	EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_OK);
	CHECK(vd.tcb_status == PPML_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	ppml_verdict_cleanup(&vd);
	cp.levels = NULL;
	cp.n_levels = 0;

	ql[1].status = PPML_TCB_REVOKED;
	EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_TCB_REVOKED);
	ppml_verdict_cleanup(&vd);
	cp.n_qe_levels = 1; /* only a level above the QE's ISVSVN */
	EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_TCB_NOT_SUPPORTED);
	ppml_verdict_cleanup(&vd);

	cp = base_cp();
	cp.qe_other_mrsigner = true;
	EXPECT_FAIL(run_cp(&cp, &vd), PPML_QV_QE_IDENTITY_MISMATCH);
	ppml_verdict_cleanup(&vd);
}

/* Every prefix of a v3 and a v4 quote, and one trailing byte: refused as a
 * malformed quote, with nothing reported as verified. */
TEST(truncation_at_every_offset)
{
	struct ppml_collateral c = {0};
	struct ppml_simpki_collateral_params cp = base_cp();
	size_t bad = 0, total = 0;
	REQUIRE(ppml_simpki_collateral(pki, &cp, &c, NULL) == PPML_OK);
	for (unsigned version = 3; version <= 4; version++) {
		size_t len = 0;
		uint8_t *q = make_quote(pki, version, NULL, 0, &len);
		REQUIRE(q);
		uint8_t *big = malloc(len + 1);
		REQUIRE(big);
		memcpy(big, q, len);
		big[len] = 0;
		for (size_t n = 0; n <= len + 1; n++) {
			struct ppml_verdict vd = {0};
			struct ppml_err err = {0};
			if (n == len)
				continue;
			ppml_status st = ppml_dcap_verify(ver, big, n, &c, T0, &vd, &err);
			total++;
			if (st != PPML_E_INPUT || vd.failure != PPML_QV_QUOTE_FORMAT)
				bad++;
			ppml_verdict_cleanup(&vd);
		}
		free(big);
		free(q);
	}
	CHECKF(bad == 0, "%zu of %zu truncated or extended quotes not refused as malformed", bad,
	       total);
	ppml_collateral_cleanup(&c);
}

/* One flipped bit per byte of a v4 quote: never verified. */
TEST(v4_bit_flips_refused)
{
	struct ppml_collateral c = {0};
	struct ppml_simpki_collateral_params cp = base_cp();
	size_t len = 0, accepted = 0;
	REQUIRE(ppml_simpki_collateral(pki, &cp, &c, NULL) == PPML_OK);
	uint8_t *q = make_quote(pki, 4, NULL, 0, &len);
	REQUIRE(q);
	for (size_t i = 0; i < len; i++) {
		struct ppml_verdict vd = {0};
		q[i] ^= (uint8_t)(1u << (i % 8));
		if (ppml_dcap_verify(ver, q, len, &c, T0, &vd, NULL) == PPML_OK)
			accepted++;
		ppml_verdict_cleanup(&vd);
		q[i] ^= (uint8_t)(1u << (i % 8));
	}
	CHECKF(accepted == 0, "%zu of %zu single-bit flips verified", accepted, len);
	ppml_collateral_cleanup(&c);
	free(q);
}

int main(void)
{
	struct ppml_err err = {0};
	struct ppml_simpki_params pp = {.not_before = T0 - 10 * DAY};
	if (ppml_simpki_new(&pp, &pki, &err) != PPML_OK ||
	    ppml_simpki_root_der(pki, &root_der, &root_der_len, &err) != PPML_OK ||
	    ppml_dcap_verifier_new(root_der, root_der_len, &ver, &err) != PPML_OK) {
		printf("FAIL simpki_setup: %s\n", err.msg);
		return 1;
	}
	RUN(simulated_quote_verifies_with_custom_anchor);
	RUN(v4_quote_and_platform_ca);
	RUN(wrong_root);
	RUN(every_quote_signature);
	RUN(every_collateral_signature);
	RUN(revocations);
	RUN(expired_collateral_is_reported);
	RUN(fmspc_and_pceid_mismatch);
	RUN(each_tcb_status_v2_and_v3);
	RUN(qe_identity_levels);
	RUN(truncation_at_every_offset);
	RUN(v4_bit_flips_refused);
	ppml_dcap_verifier_free(ver);
	ppml_simpki_free(pki);
	free(root_der);
	HARNESS_EXIT();
}
