/* SPDX-License-Identifier: Apache-2.0 */
/* The verdict as JSON: snake_case keys, lowercase hex, RFC 3339 UTC times. */
#include <jansson.h>
#include <string.h>

#include "ppml/dcap.h"
#include "ppml/hex.h"
#include "ppml/timeutil.h"

static json_t *hexj(const void *p, size_t n)
{
	char buf[2 * 64 + 1];
	if (n > 64)
		return NULL;
	ppml_hex_encode(p, n, buf);
	return json_string(buf);
}

static json_t *timej(int64_t t)
{
	char buf[PPML_TIME_RFC3339_LEN];
	if (!ppml_time_format(t, buf))
		return json_null();
	return json_string(buf);
}

/* Sets key to val (stolen); false when val is NULL or the set fails. */
static bool put(json_t *o, const char *key, json_t *val)
{
	return val && json_object_set_new(o, key, val) == 0;
}

static const char *sgx_type_name(uint32_t t)
{
	switch (t) {
	case PPML_SGX_TYPE_STANDARD:
		return "standard";
	case PPML_SGX_TYPE_SCALABLE:
		return "scalable";
	case PPML_SGX_TYPE_SCALABLE_WITH_INTEGRITY:
		return "scalable_with_integrity";
	default:
		return "unknown";
	}
}

/* The report-body fields, shared by `quote show` and the verdict. */
static bool put_body(json_t *o, const struct ppml_sgx_report_body *b)
{
	uint8_t attrs[16];
	memcpy(attrs, &b->attributes_flags, 8);
	memcpy(attrs + 8, &b->attributes_xfrm, 8);
	return put(o, "mrenclave", hexj(b->mrenclave, 32)) &&
	       put(o, "mrsigner", hexj(b->mrsigner, 32)) &&
	       put(o, "isvprodid", json_integer(b->isv_prod_id)) &&
	       put(o, "isvsvn", json_integer(b->isv_svn)) &&
	       put(o, "config_svn", json_integer(b->config_svn)) &&
	       put(o, "attributes", hexj(attrs, 16)) &&
	       put(o, "debug", json_boolean(b->attributes_flags & PPML_SGX_ATTR_DEBUG)) &&
	       put(o, "miscselect", hexj(&b->miscselect, 4)) &&
	       put(o, "cpusvn", hexj(b->cpusvn, 16)) &&
	       put(o, "isv_ext_prod_id", hexj(b->isv_ext_prod_id, 16)) &&
	       put(o, "isv_family_id", hexj(b->isv_family_id, 16)) &&
	       put(o, "config_id", hexj(b->config_id, 64)) &&
	       put(o, "report_data", hexj(b->report_data, 64));
}

static json_t *pck_json(const struct ppml_pck_ext *e)
{
	json_t *o = json_object(), *comps = json_array();
	bool ok = o && comps;
	for (size_t i = 0; ok && i < 16; i++)
		ok = json_array_append_new(comps, json_integer(e->comp_svn[i])) == 0;
	if (!ok) {
		json_decref(o);
		json_decref(comps);
		return NULL;
	}
	ok = put(o, "fmspc", hexj(e->fmspc, 6)) && put(o, "pceid", hexj(e->pceid, 2)) &&
	     put(o, "tcb_components", comps) && put(o, "pcesvn", json_integer(e->pcesvn)) &&
	     put(o, "cpusvn", hexj(e->cpusvn, 16)) && put(o, "ppid", hexj(e->ppid, 16)) &&
	     put(o, "sgx_type", json_string(sgx_type_name(e->sgx_type))) &&
	     put(o, "platform", json_boolean(e->platform));
	if (ok && e->platform)
		ok = put(o, "platform_instance_id", hexj(e->platform_instance_id, 16));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

struct json_t *ppml_verdict_json(const struct ppml_verdict *v)
{
	json_t *o = json_object();
	bool ok = o != NULL;
	bool verified = v->failure == PPML_QV_OK;

	ok = ok && put(o, "version", json_integer(1)) &&
	     put(o, "verified", json_boolean(verified)) &&
	     put(o, "failure", verified ? json_null() : json_string(ppml_qv_failure_name(v->failure))) &&
	     put(o, "verified_at", timej(v->verified_at));
	if (ok && verified) {
		json_t *ids = json_array();
		ok = ids != NULL;
		for (size_t i = 0; ok && i < v->n_advisory_ids; i++)
			ok = json_array_append_new(ids, json_string(v->advisory_ids[i])) == 0;
		ok = ok && put(o, "tcb_status", json_string(ppml_tcb_status_name(v->tcb_status))) &&
		     put(o, "advisory_ids", ids) && put(o, "tcb_date", timej(v->tcb_date)) &&
		     put(o, "tcb_evaluation_data_number",
			 json_integer(v->tcb_evaluation_data_number)) &&
		     put(o, "tcb_info_issue_date", timej(v->tcb_info_issue_date)) &&
		     put(o, "platform_tcb_status",
			 json_string(ppml_tcb_status_name(v->platform_tcb_status))) &&
		     put(o, "qe_tcb_status", json_string(ppml_tcb_status_name(v->qe_tcb_status))) &&
		     put(o, "qe_tcb_date", timej(v->qe_tcb_date)) &&
		     put(o, "collateral_expired", json_boolean(v->collateral_expired)) &&
		     put(o, "collateral_expires_at", timej(v->collateral_expires_at));
		if (!ok && ids && !json_object_get(o, "advisory_ids"))
			json_decref(ids);
	}
	if (ok && (v->has_pck || verified || v->failure > PPML_QV_UNTRUSTED_ROOT))
		ok = put(o, "trust_anchor", json_string(v->custom_anchor ? "custom" : "intel")) &&
		     put(o, "trust_anchor_sha256", hexj(v->trust_anchor_sha256, 32)) &&
		     put(o, "simulated", json_boolean(v->custom_anchor));
	if (ok && v->has_quote)
		ok = put(o, "quote_version", json_integer(v->header.version)) && put_body(o, &v->body) &&
		     put(o, "qe_isvsvn", json_integer(v->qe_isvsvn));
	if (ok && v->has_pck)
		ok = put(o, "pck", pck_json(&v->pck));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* `ppml quote show`: every parsed field, nothing verified. */
struct json_t *ppml_quote_json(const struct ppml_quote *q, const struct ppml_pck_ext *pck)
{
	json_t *o = json_object(), *hdr = json_object(), *body = json_object(),
	       *qe = json_object();
	/* Attached first, so one decref of o frees everything. */
	bool ok = o && put(o, "version", json_integer(1)) && put(o, "header", hdr) &&
		  put(o, "report_body", body) && put(o, "qe_report", qe);

	if (!ok) {
		if (!o || !json_object_get(o, "header"))
			json_decref(hdr);
		if (!o || !json_object_get(o, "report_body"))
			json_decref(body);
		if (!o || !json_object_get(o, "qe_report"))
			json_decref(qe);
		json_decref(o);
		return NULL;
	}
	ok = put(hdr, "version", json_integer(q->header.version)) &&
	     put(hdr, "att_key_type", json_integer(q->header.att_key_type)) &&
	     put(hdr, "tee_type", json_integer(q->header.tee_type)) &&
	     put(hdr, "qe_svn", json_integer(q->header.qe_svn)) &&
	     put(hdr, "pce_svn", json_integer(q->header.pce_svn)) &&
	     put(hdr, "qe_vendor_id", hexj(q->header.qe_vendor_id, 16)) &&
	     put(hdr, "user_data", hexj(q->header.user_data, 20)) && put_body(body, &q->body) &&
	     put_body(qe, &q->qe_report) && put(o, "size", json_integer((json_int_t)q->len)) &&
	     put(o, "attestation_key", hexj(q->attest_key, 64)) &&
	     put(o, "qe_auth_data_size", json_integer((json_int_t)q->qe_auth_len)) &&
	     put(o, "certification_data_type", json_integer(q->cert_type)) &&
	     put(o, "certification_data_size", json_integer((json_int_t)q->cert_len));
	if (ok && pck)
		ok = put(o, "pck", pck_json(pck));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}
