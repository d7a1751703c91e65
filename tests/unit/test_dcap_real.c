/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Real SGX quotes from ../shared/quotes: every verdict must equal Intel
 * QVL's (meta.json), and tampering with any byte of a quote or of a
 * collateral signature must be refused.  PPML_CHECK_LONG=1 flips every bit
 * instead of one bit per byte (make check-long).
 */
#include <dirent.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "harness.h"
#include "ppml/dcap.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/timeutil.h"

struct rcase {
	char dir[1400];
	char name[256];
	uint8_t *quote;
	size_t quote_len;
	struct ppml_collateral c;
	json_t *meta;
	int64_t at;
};

static int n_cases;
static struct rcase cases[16];

static bool long_mode(void)
{
	const char *e = getenv("PPML_CHECK_LONG");
	return e && strcmp(e, "1") == 0;
}

static int load_cases(const char *shared)
{
	char qdir[1100];
	struct dirent *de;
	DIR *d;
	if (n_cases)
		return n_cases;
	snprintf(qdir, sizeof(qdir), "%s/quotes", shared);
	d = opendir(qdir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n_cases < 16) {
		struct rcase *c = &cases[n_cases];
		char p[1500];
		json_error_t je;
		if (de->d_name[0] == '.')
			continue;
		snprintf(c->dir, sizeof(c->dir), "%s/%s", qdir, de->d_name);
		snprintf(p, sizeof(p), "%s/meta.json", c->dir);
		c->meta = json_load_file(p, 0, &je);
		if (!c->meta)
			continue;
		snprintf(c->name, sizeof(c->name), "%s", de->d_name);
		snprintf(p, sizeof(p), "%s/quote.bin", c->dir);
		if (ppml_file_read(p, 1 << 20, &c->quote, &c->quote_len, NULL) != PPML_OK ||
		    ppml_collateral_load_dir(c->dir, &c->c, NULL) != PPML_OK) {
			json_decref(c->meta);
			continue;
		}
		c->at = json_integer_value(json_object_get(c->meta, "verification_time_unix"));
		n_cases++;
	}
	closedir(d);
	return n_cases;
}

static const char *jstr(json_t *o, const char *path)
{
	char buf[256], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return json_string_value(o);
}

static json_t *jget(json_t *o, const char *path)
{
	char buf[256], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return o;
}

static bool hex_eq(const uint8_t *b, size_t n, const char *hex)
{
	char h[257];
	if (!hex || n > 128)
		return false;
	ppml_hex_encode(b, n, h);
	return strcasecmp(h, hex) == 0;
}

TEST(intel_root_pinned)
{
	uint8_t h[32];
	char hex[65];
	SHA256(ppml_intel_sgx_root_ca_der, ppml_intel_sgx_root_ca_der_len, h);
	ppml_hex_encode(h, 32, hex);
	CHECK_STREQ(hex, PPML_INTEL_ROOT_SHA256);
}

TEST(real_quotes_match_qvl)
{
	struct ppml_dcap_verifier *v = NULL;
	REQUIRE_SHARED(shared);
	REQUIRE(load_cases(shared) >= 5);
	REQUIRE(ppml_dcap_verifier_new(NULL, 0, &v, NULL) == PPML_OK);
	for (int pass = 0; pass < 2; pass++) {
		/* Pass 0 cold (no cache), pass 1 through the cache. */
		ppml_dcap_verifier_set_cache(v, pass == 1);
		for (int i = 0; i < n_cases; i++) {
			struct rcase *c = &cases[i];
			struct ppml_verdict vd;
			struct ppml_err err = {0};
			ppml_status st = ppml_dcap_verify(v, c->quote, c->quote_len, &c->c, c->at, &vd, &err);
			json_t *ref = jget(c->meta, "reference_tcb_evaluation");
			CHECKF(st == PPML_OK, "%.100s: %.300s", c->name, err.msg);
			if (st != PPML_OK)
				continue;
			CHECK_STREQ(ppml_tcb_status_name(vd.tcb_status), jstr(ref, "converged_status"));
			json_t *ids = json_object_get(ref, "advisory_ids_supplemental_sa_list");
			CHECKF(json_array_size(ids) == vd.n_advisory_ids, "%s: %zu advisories", c->name,
			       vd.n_advisory_ids);
			for (size_t k = 0; k < vd.n_advisory_ids && k < json_array_size(ids); k++)
				CHECK_STREQ(vd.advisory_ids[k], json_string_value(json_array_get(ids, k)));
			int64_t td;
			REQUIRE(ppml_time_parse_intel(jstr(ref, "matched_tcb_level.tcbDate"), &td));
			CHECK(vd.tcb_date == td);
			CHECKF(vd.collateral_expired ==
				       (json_integer_value(jget(c->meta, "qvl_result.collateral_expired")) == 1),
			       "%s: collateral_expired %d", c->name, vd.collateral_expired);
			CHECK(!vd.custom_anchor);
			CHECK(vd.tcb_evaluation_data_number ==
			      json_integer_value(jget(c->meta, "collateral.tcb_info.tcbEvaluationDataNumber")));
			CHECK(hex_eq(vd.body.mrenclave, 32, jstr(c->meta, "report.mrenclave")));
			CHECK(hex_eq(vd.body.mrsigner, 32, jstr(c->meta, "report.mrsigner")));
			CHECK(hex_eq(vd.body.report_data, 64, jstr(c->meta, "report.report_data")));
			CHECK(vd.body.isv_prod_id == json_integer_value(jget(c->meta, "report.isvprodid")));
			CHECK(vd.body.isv_svn == json_integer_value(jget(c->meta, "report.isvsvn")));
			CHECK(!!(vd.body.attributes_flags & PPML_SGX_ATTR_DEBUG) ==
			      json_is_true(jget(c->meta, "report.debug_enclave")));
			CHECK(hex_eq(vd.pck.fmspc, 6, jstr(c->meta, "pck.sgx_extensions.FMSPC")));
			printf("# %s: %s, %zu advisories, collateral_expired %d (QVL: %s)\n", c->name,
			       ppml_tcb_status_name(vd.tcb_status), vd.n_advisory_ids,
			       vd.collateral_expired, jstr(c->meta, "qvl_result.final_result"));
			ppml_verdict_cleanup(&vd);
		}
	}
	ppml_dcap_verifier_free(v);
}

/* Verifies one tampered copy; true when refused (anything but PPML_OK). */
static bool refused(struct ppml_dcap_verifier *v, const uint8_t *q, size_t ql,
		    const struct ppml_collateral *c, int64_t at)
{
	struct ppml_verdict vd;
	ppml_status st = ppml_dcap_verify(v, q, ql, c, at, &vd, NULL);
	ppml_verdict_cleanup(&vd);
	return st != PPML_OK && vd.failure != PPML_QV_OK;
}

TEST(real_quote_bit_flips_refused)
{
	struct ppml_dcap_verifier *v = NULL;
	size_t tried = 0, bad = 0;
	REQUIRE_SHARED(shared);
	REQUIRE(load_cases(shared) >= 5);
	REQUIRE(ppml_dcap_verifier_new(NULL, 0, &v, NULL) == PPML_OK);
	for (int i = 0; i < n_cases; i++) {
		struct rcase *c = &cases[i];
		uint8_t *q = malloc(c->quote_len);
		REQUIRE(q);
		memcpy(q, c->quote, c->quote_len);
		for (size_t off = 0; off < c->quote_len; off++) {
			for (int bit = 0; bit < 8; bit++) {
				if (!long_mode() && bit != (int)(off % 8))
					continue;
				q[off] ^= (uint8_t)(1u << bit);
				tried++;
				if (!refused(v, q, c->quote_len, &c->c, c->at)) {
					if (bad++ < 5)
						printf("# %s: flip at byte %zu bit %d accepted\n", c->name,
						       off, bit);
				}
				q[off] ^= (uint8_t)(1u << bit);
			}
		}
		free(q);
	}
	printf("# %zu tampered quotes, %zu accepted\n", tried, bad);
	CHECK(bad == 0);
	ppml_dcap_verifier_free(v);
}

/* Flips bits of the hex "signature" of a TCB info / QE identity body. */
static size_t flip_json_sig(struct ppml_dcap_verifier *v, struct rcase *c, bool tcb, size_t *tried)
{
	uint8_t **doc = tcb ? &c->c.tcb_info : &c->c.qe_identity;
	size_t len = tcb ? c->c.tcb_info_len : c->c.qe_identity_len, bad = 0;
	uint8_t *orig = *doc, *copy = malloc(len + 1);
	char *p;
	if (!copy)
		return 1;
	memcpy(copy, orig, len);
	copy[len] = 0;
	/* "signature", optional blanks, ':', optional blanks, '"' (one real
	 * case is pretty-printed; QVL accepts that, and so do we). */
	p = strstr((char *)copy, "\"signature\"");
	if (p)
		p += strlen("\"signature\"");
	while (p && (*p == ' ' || *p == ':' || *p == '\n'))
		p++;
	if (!p || *p != '"') {
		free(copy);
		return 1;
	}
	p++;
	uint8_t sig[64];
	char hx[129];
	memcpy(hx, p, 128);
	hx[128] = 0;
	if (ppml_hex_decode(hx, sig, 64, "signature", NULL) != PPML_OK) {
		free(copy);
		return 1;
	}
	*doc = copy;
	for (size_t i = 0; i < 64; i++)
		for (int bit = 0; bit < 8; bit++) {
			if (!long_mode() && bit != (int)(i % 8))
				continue;
			uint8_t t[64];
			char h[129];
			memcpy(t, sig, 64);
			t[i] ^= (uint8_t)(1u << bit);
			ppml_hex_encode(t, 64, h);
			memcpy(p, h, 128);
			(*tried)++;
			if (!refused(v, c->quote, c->quote_len, &c->c, c->at) && ++bad <= 3)
				printf("# %s: %s signature flip at byte %zu bit %d accepted\n", c->name,
				       tcb ? "TCB info" : "QE identity", i, bit);
		}
	*doc = orig;
	free(copy);
	return bad;
}

/* Flips bits inside the signature value of a DER CRL. */
static size_t flip_crl_sig(struct ppml_dcap_verifier *v, struct rcase *c, bool root, size_t *tried)
{
	uint8_t **doc = root ? &c->c.root_ca_crl : &c->c.pck_crl;
	size_t len = root ? c->c.root_ca_crl_len : c->c.pck_crl_len, bad = 0;
	uint8_t *orig = *doc, *copy = malloc(len);
	const unsigned char *pp = orig;
	X509_CRL *crl = d2i_X509_CRL(NULL, &pp, (long)len);
	const ASN1_BIT_STRING *sig = NULL;
	if (!copy || !crl) {
		free(copy);
		X509_CRL_free(crl);
		return 1;
	}
	X509_CRL_get0_signature(crl, &sig, NULL);
	size_t sl = (size_t)ASN1_STRING_length(sig), start = len - sl;
	X509_CRL_free(crl);
	memcpy(copy, orig, len);
	*doc = copy;
	for (size_t i = start; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			if (!long_mode() && bit != (int)(i % 8))
				continue;
			copy[i] ^= (uint8_t)(1u << bit);
			(*tried)++;
			if (!refused(v, c->quote, c->quote_len, &c->c, c->at) && ++bad <= 3)
				printf("# %s: %s CRL signature flip at byte %zu bit %d accepted\n",
				       c->name, root ? "root CA" : "PCK", i, bit);
			copy[i] ^= (uint8_t)(1u << bit);
		}
	*doc = orig;
	free(copy);
	return bad;
}

TEST(real_collateral_signature_flips_refused)
{
	struct ppml_dcap_verifier *v = NULL;
	size_t tried = 0, bad = 0;
	REQUIRE_SHARED(shared);
	REQUIRE(load_cases(shared) >= 5);
	REQUIRE(ppml_dcap_verifier_new(NULL, 0, &v, NULL) == PPML_OK);
	for (int i = 0; i < n_cases; i++) {
		size_t b = flip_json_sig(v, &cases[i], true, &tried) +
			   flip_json_sig(v, &cases[i], false, &tried) +
			   flip_crl_sig(v, &cases[i], true, &tried) +
			   flip_crl_sig(v, &cases[i], false, &tried);
		CHECKF(b == 0, "%s: %zu tampered signatures accepted", cases[i].name, b);
		bad += b;
	}
	printf("# %zu tampered collateral signatures, %zu accepted\n", tried, bad);
	/* And the originals still verify through the same (cached) verifier. */
	for (int i = 0; i < n_cases; i++)
		CHECK(!refused(v, cases[i].quote, cases[i].quote_len, &cases[i].c, cases[i].at));
	ppml_dcap_verifier_free(v);
}

TEST(real_quote_truncations_refused)
{
	size_t bad = 0, tried = 0;
	REQUIRE_SHARED(shared);
	REQUIRE(load_cases(shared) >= 5);
	for (int i = 0; i < n_cases; i++) {
		struct rcase *c = &cases[i];
		struct ppml_quote q;
		struct ppml_err err;
		for (size_t n = 0; n < c->quote_len; n++) {
			tried++;
			if (ppml_quote_parse(c->quote, n, &q, &err) == PPML_OK)
				bad++;
			else if (!strstr(err.msg, "offset"))
				bad++; /* every refusal names an offset */
		}
		/* One trailing byte is refused too. */
		uint8_t *longer = malloc(c->quote_len + 1);
		REQUIRE(longer);
		memcpy(longer, c->quote, c->quote_len);
		longer[c->quote_len] = 0;
		CHECK(ppml_quote_parse(longer, c->quote_len + 1, &q, &err) == PPML_E_INPUT);
		CHECK(strstr(err.msg, "trailing") != NULL);
		free(longer);
		CHECK(ppml_quote_parse(c->quote, c->quote_len, &q, &err) == PPML_OK);
	}
	printf("# %zu truncations, %zu accepted or without an offset\n", tried, bad);
	CHECK(bad == 0);
}

TEST(wrong_time_and_wrong_collateral)
{
	struct ppml_dcap_verifier *v = NULL;
	struct ppml_verdict vd;
	struct ppml_err err;
	REQUIRE_SHARED(shared);
	REQUIRE(load_cases(shared) >= 5);
	REQUIRE(ppml_dcap_verifier_new(NULL, 0, &v, NULL) == PPML_OK);
	/* A year after its window, a quote still verifies but its collateral is expired. */
	struct rcase *c = &cases[0];
	CHECK(ppml_dcap_verify(v, c->quote, c->quote_len, &c->c, c->at + 365 * 86400, &vd, &err) ==
	      PPML_OK);
	CHECK(vd.collateral_expired);
	ppml_verdict_cleanup(&vd);
	/* Collateral of another FMSPC: TCB info mismatch. */
	int other = -1;
	for (int i = 1; i < n_cases && other < 0; i++)
		if (memcmp(cases[i].c.tcb_info, c->c.tcb_info, 60) != 0 &&
		    strstr(cases[i].name, "phala"))
			other = i;
	if (other >= 0 && !strstr(c->name, "phala")) {
		CHECK(ppml_dcap_verify(v, c->quote, c->quote_len, &cases[other].c, c->at, &vd, &err) ==
		      PPML_E_REFUSED);
		CHECKF(vd.failure == PPML_QV_TCB_INFO_MISMATCH || vd.failure == PPML_QV_CRL,
		       "failure %s: %.300s", ppml_qv_failure_name(vd.failure), err.msg);
		ppml_verdict_cleanup(&vd);
	}
	CHECK(ppml_dcap_verify(v, c->quote, c->quote_len, &c->c, 0, &vd, &err) == PPML_E_INPUT);
	ppml_verdict_cleanup(&vd);
	ppml_dcap_verifier_free(v);
}

/* The signed bytes are QVL's compact re-serialisation, whichever path
 * produced them (the fast whitespace strip or jansson's dump). */
TEST(signed_body_is_compact_reserialisation)
{
	REQUIRE_SHARED(shared);
	REQUIRE(load_cases(shared) >= 5);
	for (int i = 0; i < n_cases; i++) {
		struct ppml_tcb_info t;
		struct ppml_qe_identity q;
		json_error_t je;
		REQUIRE(ppml_tcb_info_parse(cases[i].c.tcb_info, cases[i].c.tcb_info_len, &t, NULL) ==
			PPML_OK);
		REQUIRE(ppml_qe_identity_parse(cases[i].c.qe_identity, cases[i].c.qe_identity_len, &q,
					       NULL) == PPML_OK);
		json_t *a = json_loadb((const char *)cases[i].c.tcb_info, cases[i].c.tcb_info_len, 0, &je);
		json_t *b = json_loadb((const char *)cases[i].c.qe_identity, cases[i].c.qe_identity_len,
				       0, &je);
		char *da = json_dumps(json_object_get(a, "tcbInfo"), JSON_COMPACT);
		char *db = json_dumps(json_object_get(b, "enclaveIdentity"), JSON_COMPACT);
		CHECK(da && t.signed_len == strlen(da) && memcmp(t.signed_body, da, t.signed_len) == 0);
		CHECK(db && q.signed_len == strlen(db) && memcmp(q.signed_body, db, q.signed_len) == 0);
		free(da);
		free(db);
		json_decref(a);
		json_decref(b);
		ppml_tcb_info_cleanup(&t);
		ppml_qe_identity_cleanup(&q);
	}
}

int main(void)
{
	RUN(intel_root_pinned);
	RUN(real_quotes_match_qvl);
	RUN(real_quote_bit_flips_refused);
	RUN(real_collateral_signature_flips_refused);
	RUN(real_quote_truncations_refused);
	RUN(wrong_time_and_wrong_collateral);
	RUN(signed_body_is_compact_reserialisation);
	for (int i = 0; i < n_cases; i++) {
		free(cases[i].quote);
		ppml_collateral_cleanup(&cases[i].c);
		json_decref(cases[i].meta);
	}
	HARNESS_EXIT();
}
