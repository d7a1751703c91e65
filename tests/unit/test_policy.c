/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attestation policies: parsing (TOML and JSON, unknown keys, every field's
 * errors), the canonical form and its hash, and evaluation against real
 * verdicts from the simulation PKI (each check failing alone).
 */
#include <jansson.h>

#include "harness.h"
#include "ppml/dcap.h"
#include "ppml/hex.h"
#include "ppml/policy.h"
#include "ppml/simpki.h"

#define DAY 86400
static const int64_t T0 = 1790000000;
static struct ppml_simpki *pki;
static struct ppml_dcap_verifier *ver;
static char MRE[65], MRS[65];

static struct ppml_sgx_report_body body(bool debug, uint16_t svn)
{
	struct ppml_sgx_report_body b = {0};
	memset(b.mrenclave, 0xaa, 32);
	memset(b.mrsigner, 0x55, 32);
	b.attributes_flags = PPML_SGX_ATTR_INIT | PPML_SGX_ATTR_MODE64BIT |
			     (debug ? PPML_SGX_ATTR_DEBUG : 0);
	b.isv_prod_id = 7;
	b.isv_svn = svn;
	return b;
}

/* A verdict for a quote of b under collateral cp (NULL: UpToDate). */
static bool verdict(const struct ppml_sgx_report_body *b,
		    const struct ppml_simpki_collateral_params *cp, int64_t at,
		    struct ppml_verdict *v)
{
	struct ppml_simpki_collateral_params def = {.issue_date = T0 - DAY};
	struct ppml_collateral c = {0};
	uint8_t *q = NULL;
	size_t ql = 0;
	bool ok = ppml_simpki_quote(pki, b, NULL, &q, &ql, NULL) == PPML_OK &&
		  ppml_simpki_collateral(pki, cp ? cp : &def, &c, NULL) == PPML_OK;
	/* A refusal is a verdict too (v->failure says which). */
	if (ok && ppml_dcap_verify(ver, q, ql, &c, at, v, NULL) != PPML_OK && v->failure == PPML_QV_OK)
		ok = false;
	ppml_collateral_cleanup(&c);
	free(q);
	return ok;
}

static struct ppml_policy *parse(const char *text)
{
	struct ppml_policy *p = NULL;
	struct ppml_err err = {0};
	if (ppml_policy_parse(text, strlen(text), &p, &err) != PPML_OK)
		fprintf(stderr, "parse: %s\n", err.msg);
	return p;
}

static char *fmt_policy(const char *extra)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf),
		 "identities = [{ mrenclave = \"%s\" }, { mrsigner = \"%s\", isvprodid = 7, "
		 "min_isvsvn = 3 }]\nallow_simulation = true\n%s",
		 MRE, MRS, extra);
	return buf;
}

TEST(toml_and_json_same_canonical)
{
	char json[2048];
	snprintf(json, sizeof(json),
		 "{\"identities\":[{\"mrenclave\":\"%s\"},{\"mrsigner\":\"%s\",\"isvprodid\":7,"
		 "\"min_isvsvn\":3}],\"allow_simulation\":true,\"accepted_tcb_statuses\":"
		 "[\"UpToDate\"]}",
		 MRE, MRS);
	struct ppml_policy *a = parse(fmt_policy("")), *b = parse(json);
	REQUIRE(a && b);
	char *ca = NULL, *cb = NULL, ha[65], hb[65];
	REQUIRE(ppml_policy_canonical(a, &ca, ha, NULL) == PPML_OK);
	REQUIRE(ppml_policy_canonical(b, &cb, hb, NULL) == PPML_OK);
	CHECK(strcmp(ca, cb) == 0 && strcmp(ha, hb) == 0);
	/* Canonical form parses back to itself. */
	struct ppml_policy *c = parse(ca);
	char *cc = NULL, hc[65];
	REQUIRE(c && ppml_policy_canonical(c, &cc, hc, NULL) == PPML_OK);
	CHECK(strcmp(ca, cc) == 0);
	CHECK(strstr(ca, "\"allow_debug\":false") && strstr(ca, "\"version\":1"));
	/* A change of meaning changes the hash. */
	struct ppml_policy *d = parse(fmt_policy("allow_debug = true\n"));
	char *cd = NULL, hd[65];
	REQUIRE(d && ppml_policy_canonical(d, &cd, hd, NULL) == PPML_OK);
	CHECK(strcmp(ha, hd) != 0);
	free(ca);
	free(cb);
	free(cc);
	free(cd);
	ppml_policy_free(a);
	ppml_policy_free(b);
	ppml_policy_free(c);
	ppml_policy_free(d);
}

TEST(parse_errors_name_the_key)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"identities = []\nallow_debugg = true\n", "allow_debugg: unknown key"},
		{"identities = [{ mrenclave = \"00\" }]\n", "identities[0].mrenclave"},
		{"identities = [{ mrsigner = "
		 "\"5555555555555555555555555555555555555555555555555555555555555555\" }]\n",
		 "mrsigner, isvprodid and min_isvsvn go together"},
		{"identities = [{ isvsvn = 1 }]\n", "identities[0].isvsvn: unknown key"},
		{"identities = [{}]\n", "identities[0]: expected mrenclave"},
		{"allow_debug = false\n", "identities: expected an array"},
		{"identities = []\naccepted_tcb_statuses = [\"Fine\"]\n", "accepted_tcb_statuses[0]"},
		{"identities = []\naccepted_tcb_statuses = [\"Revoked\"]\n",
		 "accepted_tcb_statuses[0]"},
		{"identities = []\nexceptions = [{ status = \"OutOfDate\", advisory_ids = [] }]\n",
		 "exceptions[0].expires_at"},
		{"identities = []\nexceptions = [{ status = \"OutOfDate\", advisory_ids = [], "
		 "expires_at = 2026-01-01T00:00:00Z, why = \"x\" }]\n",
		 "exceptions[0].why: unknown key"},
		{"identities = []\nmax_collateral_age_s = 0\n", "max_collateral_age_s"},
		{"identities = []\nallow_debug = 1\n", "allow_debug: expected true or false"},
		{"identities = []\nversion = 2\n", "version: expected 1"},
		{"identities = []\nratio = 0.5\n", "floats"},
		{"{\"identities\":[],\"identities\":[]}", "policy JSON"},
		{"identities = [", "policy TOML"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ppml_policy *p = NULL;
		struct ppml_err err = {0};
		ppml_status st = ppml_policy_parse(cases[i].text, strlen(cases[i].text), &p, &err);
		CHECKF(st == PPML_E_INPUT && !p && strstr(err.msg, cases[i].want),
		       "case %zu: status %d, '%.300s' (expected '%s')", i, st, err.msg,
		       cases[i].want);
		ppml_policy_free(p);
	}
	/* TOML dates with offsets are converted to UTC. */
	struct ppml_policy *p = parse("identities = []\nexceptions = [{ status = \"OutOfDate\", "
				      "advisory_ids = [], expires_at = 2026-01-01T02:00:00+02:00 }]\n");
	REQUIRE(p);
	CHECK(p->exceptions[0].expires_at == 1767225600);
	ppml_policy_free(p);
}

static void eval(const char *extra, const struct ppml_sgx_report_body *b,
		 const struct ppml_simpki_collateral_params *cp, int64_t at,
		 struct ppml_policy_result *r)
{
	struct ppml_verdict v = {0};
	struct ppml_policy *p = parse(fmt_policy(extra));
	memset(r, 0, sizeof(*r));
	if (p && verdict(b, cp, at, &v))
		ppml_policy_eval(p, &v, at, r);
	ppml_verdict_cleanup(&v);
	ppml_policy_free(p);
}

#define CHECKS(r, s, c, t, d, i)                                                           \
	CHECKF((r).signature_chain == (s) && (r).collateral == (c) && (r).tcb == (t) &&     \
		       (r).debug == (d) && (r).identity == (i),                             \
	       "checks %s/%s/%s/%s/%s, first reason: %s", ppml_check_name((r).signature_chain), \
	       ppml_check_name((r).collateral), ppml_check_name((r).tcb),                   \
	       ppml_check_name((r).debug), ppml_check_name((r).identity),                   \
	       (r).n_reasons ? (r).reasons[0] : "-")

#define P PPML_CHECK_PASS
#define F PPML_CHECK_FAIL
#define S PPML_CHECK_SKIPPED

TEST(eval_each_check)
{
	struct ppml_policy_result r;
	struct ppml_sgx_report_body good = body(false, 3), dbg = body(true, 3), low = body(false, 2);

	eval("", &good, NULL, T0, &r);
	CHECK(r.accepted);
	CHECKS(r, P, P, P, P, P);
	eval("", &dbg, NULL, T0, &r);
	CHECK(!r.accepted);
	CHECKS(r, P, P, P, F, P);
	eval("allow_debug = true\n", &dbg, NULL, T0, &r);
	CHECK(r.accepted);
	/* Below min_isvsvn with another MRENCLAVE: identity, with the reason. */
	low.mrenclave[0] ^= 1;
	eval("", &low, NULL, T0, &r);
	CHECKS(r, P, P, P, P, F);
	CHECK(r.n_reasons == 2 && strstr(r.reasons[1], "isvsvn 2 < min_isvsvn 3 (identities[1])"));
	/* Simulated, not allowed: signature_chain, the rest skipped. */
	struct ppml_policy *strict = NULL;
	char text[2048];
	snprintf(text, sizeof(text), "identities = [{ mrenclave = \"%s\" }]\n", MRE);
	struct ppml_verdict v = {0};
	REQUIRE((strict = parse(text)) && verdict(&good, NULL, T0, &v));
	ppml_policy_eval(strict, &v, T0, &r);
	CHECKS(r, F, S, S, S, S);
	CHECK(strstr(r.reasons[0], "SIMULATED"));
	ppml_verdict_cleanup(&v);
	ppml_policy_free(strict);
}

TEST(eval_tcb_status_and_exceptions)
{
	struct ppml_policy_result r;
	struct ppml_sgx_report_body good = body(false, 3);
	const struct ppml_simpki_params *pp = ppml_simpki_get_params(pki);
	static const char *const ids[] = {"INTEL-SA-00615", "INTEL-SA-00828"};
	struct ppml_simpki_tcb_level lv = {.status = PPML_TCB_OUT_OF_DATE, .tcb_date = T0 - 99 * DAY,
					   .advisory_ids = ids, .n_advisory_ids = 2};
	memcpy(lv.comp_svn, pp->comp_svn, 16);
	lv.pcesvn = pp->pcesvn;
	struct ppml_simpki_collateral_params cp = {.issue_date = T0 - DAY, .levels = &lv,
						   .n_levels = 1};
	eval("", &good, &cp, T0, &r);
	CHECKS(r, P, P, F, P, P);
	CHECK(strstr(r.reasons[0], "OutOfDate (INTEL-SA-00615,INTEL-SA-00828)"));
	const char *ex = "exceptions = [{ status = \"OutOfDate\", advisory_ids = [\"INTEL-SA-00615\", "
			 "\"INTEL-SA-00828\", \"INTEL-SA-00999\"], expires_at = "
			 "\"2026-09-22T00:00:00Z\" }]\n";
	eval(ex, &good, &cp, T0, &r); /* T0 is 2026-09-21 */
	CHECK(r.accepted && r.under_exception);
	eval(ex, &good, &cp, T0 + 2 * DAY, &r); /* expired exception */
	CHECKS(r, P, P, F, P, P);
	/* An advisory the exception does not list. */
	eval("exceptions = [{ status = \"OutOfDate\", advisory_ids = [\"INTEL-SA-00615\"], "
	     "expires_at = \"2027-01-01T00:00:00Z\" }]\n",
	     &good, &cp, T0, &r);
	CHECKS(r, P, P, F, P, P);
	/* Another status in the exception. */
	eval("exceptions = [{ status = \"SWHardeningNeeded\", advisory_ids = [\"INTEL-SA-00615\", "
	     "\"INTEL-SA-00828\"], expires_at = \"2027-01-01T00:00:00Z\" }]\n",
	     &good, &cp, T0, &r);
	CHECK(!r.accepted);
	eval("accepted_tcb_statuses = [\"UpToDate\", \"OutOfDate\"]\n", &good, &cp, T0, &r);
	CHECK(r.accepted && !r.under_exception);
	/* Revoked: the verification fails, in the tcb check. */
	lv.status = PPML_TCB_REVOKED;
	eval("accepted_tcb_statuses = [\"UpToDate\", \"OutOfDate\"]\n", &good, &cp, T0, &r);
	CHECKS(r, P, P, F, S, S);
	/* tcbEvaluationDataNumber below the minimum. */
	lv.status = PPML_TCB_UP_TO_DATE;
	cp.tcb_evaluation_data_number = 16;
	eval("min_tcb_evaluation_data_number = 17\n", &good, &cp, T0, &r);
	CHECKS(r, P, P, F, P, P);
}

TEST(eval_collateral)
{
	struct ppml_policy_result r;
	struct ppml_sgx_report_body good = body(false, 3);
	struct ppml_simpki_collateral_params cp = {.issue_date = T0 - 40 * DAY,
						   .next_update = T0 - 10 * DAY};
	eval("", &good, &cp, T0, &r);
	CHECKS(r, P, F, P, P, P);
	eval("allow_expired_collateral = true\n", &good, &cp, T0, &r);
	CHECK(r.accepted);
	cp.next_update = T0 + 10 * DAY;
	eval("max_collateral_age_s = 864000\n", &good, &cp, T0, &r); /* 10 days; it is 40 */
	CHECKS(r, P, F, P, P, P);
	eval("max_collateral_age_s = 4000000\n", &good, &cp, T0, &r);
	CHECK(r.accepted);
}

TEST(eval_failed_verification)
{
	struct ppml_policy_result r;
	struct ppml_sgx_report_body good = body(false, 3);
	struct ppml_simpki_collateral_params cp = {.issue_date = T0 - DAY, .revoke_pck = true};
	eval("", &good, &cp, T0, &r);
	CHECK(!r.accepted);
	CHECKS(r, F, S, S, S, S);
	CHECK(strstr(r.reasons[0], "pck_revoked"));
}

TEST(names)
{
	CHECK(ppml_policy_name_ok("prod-train.v2_1"));
	CHECK(!ppml_policy_name_ok(""));
	CHECK(!ppml_policy_name_ok(".hidden"));
	CHECK(!ppml_policy_name_ok("a/b"));
	CHECK(!ppml_policy_name_ok("a b"));
	char longname[200];
	memset(longname, 'a', 129);
	longname[129] = 0;
	CHECK(!ppml_policy_name_ok(longname));
}

int main(void)
{
	struct ppml_simpki_params pp = {.not_before = T0 - 100 * DAY};
	uint8_t *der = NULL;
	size_t dl = 0;
	if (ppml_simpki_new(&pp, &pki, NULL) != PPML_OK ||
	    ppml_simpki_root_der(pki, &der, &dl, NULL) != PPML_OK ||
	    ppml_dcap_verifier_new(der, dl, &ver, NULL) != PPML_OK)
		return 1;
	struct ppml_sgx_report_body b = body(false, 3);
	ppml_hex_encode(b.mrenclave, 32, MRE);
	ppml_hex_encode(b.mrsigner, 32, MRS);
	RUN(toml_and_json_same_canonical);
	RUN(parse_errors_name_the_key);
	RUN(eval_each_check);
	RUN(eval_tcb_status_and_exceptions);
	RUN(eval_collateral);
	RUN(eval_failed_verification);
	RUN(names);
	ppml_dcap_verifier_free(ver);
	ppml_simpki_free(pki);
	free(der);
	HARNESS_EXIT();
}
