/* SPDX-License-Identifier: Apache-2.0 */
/* Attestation policies (include/ppml/policy.h): parse, canonicalise, evaluate. */
#include "ppml/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ppml/hex.h"
#include "ppml/limits.h"
#include "ppml/timeutil.h"
#include "ppml/toml.h"

#define POLICY_VERSION 1

/* ---- TOML -> JSON (the validation below reads JSON only) ---- */

static json_t *toml_to_json(const struct ppml_toml_value *v, const char *path,
			    struct ppml_err *err)
{
	switch (v->type) {
	case PPML_TOML_STRING:
		if (strlen(v->u.s.ptr) != v->u.s.len) {
			ppml_err_set(err, PPML_E_INPUT, "%s: NUL inside a string", path);
			return NULL;
		}
		return json_string(v->u.s.ptr);
	case PPML_TOML_INTEGER:
		return json_integer(v->u.i);
	case PPML_TOML_BOOLEAN:
		return json_boolean(v->u.b);
	case PPML_TOML_DATETIME: {
		const struct ppml_toml_datetime *d = &v->u.dt;
		int64_t t;
		char s[PPML_TIME_RFC3339_LEN];
		if (!ppml_time_from_civil(d->year, d->month, d->day, d->hour, d->minute, d->second,
					  &t) ||
		    !ppml_time_format(t - (int64_t)d->offset_minutes * 60, s)) {
			ppml_err_set(err, PPML_E_INPUT, "%s: date-time out of range", path);
			return NULL;
		}
		return json_string(s);
	}
	case PPML_TOML_ARRAY: {
		json_t *a = json_array();
		for (size_t i = 0; a && i < v->u.a.len; i++) {
			char p[256];
			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			json_t *x = toml_to_json(v->u.a.items[i], p, err);
			if (!x) {
				json_decref(a);
				return NULL;
			}
			json_array_append_new(a, x);
		}
		return a;
	}
	case PPML_TOML_TABLE: {
		json_t *o = json_object();
		for (size_t i = 0; o && i < v->u.t.len; i++) {
			char p[256];
			const struct ppml_toml_kv *kv = &v->u.t.items[i];
			snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", kv->key);
			json_t *x = strlen(kv->key) == kv->key_len ? toml_to_json(kv->value, p, err)
								   : NULL;
			if (!x) {
				if (strlen(kv->key) != kv->key_len)
					ppml_err_set(err, PPML_E_INPUT, "%s: NUL inside a key", p);
				json_decref(o);
				return NULL;
			}
			json_object_set_new(o, kv->key, x);
		}
		return o;
	}
	default:
		ppml_err_set(err, PPML_E_INPUT,
			     "%s: floats and local dates or times are not policy values", path);
		return NULL;
	}
}

/* ---- validation ---- */

void ppml_policy_free(struct ppml_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_exceptions; i++) {
		for (size_t j = 0; j < p->exceptions[i].n_advisory_ids; j++)
			free(p->exceptions[i].advisory_ids[j]);
		free(p->exceptions[i].advisory_ids);
	}
	free(p->exceptions);
	free(p->identities);
	free(p->audience);
	free(p);
}

static ppml_status only_keys(json_t *o, const char *path, const char *const *keys,
			     struct ppml_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		bool known = false;
		for (size_t i = 0; keys[i] && !known; i++)
			known = strcmp(keys[i], k) == 0;
		if (!known) {
			char list[512] = "";
			for (size_t i = 0; keys[i]; i++) {
				size_t l = strlen(list);
				snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", keys[i]);
			}
			return ppml_err_set(err, PPML_E_INPUT,
					    "%s%s%.64s: unknown key (expected one of: %s)", path,
					    *path ? "." : "", k, list);
		}
	}
	return PPML_OK;
}

static ppml_status get_bool(json_t *o, const char *k, bool def, bool *out, struct ppml_err *err)
{
	json_t *v = json_object_get(o, k);
	if (!v) {
		*out = def;
		return PPML_OK;
	}
	if (!json_is_boolean(v))
		return ppml_err_set(err, PPML_E_INPUT, "%s: expected true or false", k);
	*out = json_is_true(v);
	return PPML_OK;
}

static ppml_status get_hex32(json_t *o, const char *k, const char *path, uint8_t out[32],
			     struct ppml_err *err)
{
	const char *s = json_string_value(json_object_get(o, k));
	char what[96];
	snprintf(what, sizeof(what), "%s.%s", path, k);
	if (!s)
		return ppml_err_set(err, PPML_E_INPUT, "%s: expected a string of 64 hex digits", what);
	return ppml_hex_decode(s, out, 32, what, err);
}

static ppml_status get_u16(json_t *o, const char *k, const char *path, uint16_t *out,
			   struct ppml_err *err)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
		return ppml_err_set(err, PPML_E_INPUT, "%s.%s: expected an integer 0..65535", path,
				    k);
	*out = (uint16_t)json_integer_value(v);
	return PPML_OK;
}

static ppml_status parse_identity(json_t *e, size_t i, struct ppml_policy_identity *id,
				  struct ppml_err *err)
{
	static const char *const keys[] = {"mrenclave", "mrsigner", "isvprodid", "min_isvsvn",
					   NULL};
	char path[48];
	ppml_status rc;
	snprintf(path, sizeof(path), "identities[%zu]", i);
	if (!json_is_object(e))
		return ppml_err_set(err, PPML_E_INPUT, "%s: expected a table", path);
	if ((rc = only_keys(e, path, keys, err)) != PPML_OK)
		return rc;
	bool has_signer_part = json_object_get(e, "mrsigner") || json_object_get(e, "isvprodid") ||
			       json_object_get(e, "min_isvsvn");
	if (json_object_get(e, "mrenclave")) {
		if ((rc = get_hex32(e, "mrenclave", path, id->mrenclave, err)) != PPML_OK)
			return rc;
		id->has_mrenclave = true;
	}
	if (has_signer_part) {
		if (!json_object_get(e, "mrsigner") || !json_object_get(e, "isvprodid") ||
		    !json_object_get(e, "min_isvsvn"))
			return ppml_err_set(err, PPML_E_INPUT,
					    "%s: mrsigner, isvprodid and min_isvsvn go together (an "
					    "MRSIGNER alone would accept every enclave its key signs)",
					    path);
		if ((rc = get_hex32(e, "mrsigner", path, id->mrsigner, err)) != PPML_OK ||
		    (rc = get_u16(e, "isvprodid", path, &id->isvprodid, err)) != PPML_OK ||
		    (rc = get_u16(e, "min_isvsvn", path, &id->min_isvsvn, err)) != PPML_OK)
			return rc;
		id->has_mrsigner = true;
	}
	if (!id->has_mrenclave && !id->has_mrsigner)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: expected mrenclave, or mrsigner with isvprodid and min_isvsvn",
				    path);
	return PPML_OK;
}

static ppml_status parse_status(json_t *v, const char *what, enum ppml_tcb_status *out,
				struct ppml_err *err)
{
	const char *s = json_string_value(v);
	if (!s || !ppml_tcb_status_from_name(s, out) || *out == PPML_TCB_REVOKED)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: expected UpToDate, SWHardeningNeeded, ConfigurationNeeded, "
				    "ConfigurationAndSWHardeningNeeded, OutOfDate or "
				    "OutOfDateConfigurationNeeded",
				    what);
	return PPML_OK;
}

static ppml_status parse_exception(json_t *e, size_t i, struct ppml_policy_exception *x,
				   struct ppml_err *err)
{
	static const char *const keys[] = {"status", "advisory_ids", "expires_at", NULL};
	char path[48], what[80];
	ppml_status rc;
	snprintf(path, sizeof(path), "exceptions[%zu]", i);
	if (!json_is_object(e))
		return ppml_err_set(err, PPML_E_INPUT, "%s: expected a table", path);
	if ((rc = only_keys(e, path, keys, err)) != PPML_OK)
		return rc;
	snprintf(what, sizeof(what), "%s.status", path);
	if ((rc = parse_status(json_object_get(e, "status"), what, &x->status, err)) != PPML_OK)
		return rc;
	const char *t = json_string_value(json_object_get(e, "expires_at"));
	if (!t || !ppml_time_parse_rfc3339(t, &x->expires_at))
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s.expires_at: expected an RFC 3339 time such as "
				    "2026-12-31T00:00:00Z (exceptions must end)",
				    path);
	json_t *ids = json_object_get(e, "advisory_ids");
	if (!json_is_array(ids) || json_array_size(ids) > PPML_COLLATERAL_MAX_ADVISORIES)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s.advisory_ids: expected an array of advisory IDs (may be "
				    "empty)",
				    path);
	x->advisory_ids = calloc(json_array_size(ids) + 1, sizeof(char *));
	if (!x->advisory_ids)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	for (size_t j = 0; j < json_array_size(ids); j++) {
		const char *s = json_string_value(json_array_get(ids, j));
		if (!s || !*s || strlen(s) > PPML_COLLATERAL_MAX_ID_LEN)
			return ppml_err_set(err, PPML_E_INPUT,
					    "%s.advisory_ids[%zu]: expected a non-empty string", path,
					    j);
		if (!(x->advisory_ids[j] = strdup(s)))
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		x->n_advisory_ids = j + 1;
	}
	return PPML_OK;
}

static ppml_status from_json(json_t *o, struct ppml_policy *p, struct ppml_err *err)
{
	static const char *const keys[] = {"version", "identities", "allow_debug",
					   "accepted_tcb_statuses", "exceptions",
					   "allow_expired_collateral", "max_collateral_age_s",
					   "min_tcb_evaluation_data_number", "allow_simulation",
					   "audience", NULL};
	ppml_status rc;
	json_t *v;

	if (!json_is_object(o))
		return ppml_err_set(err, PPML_E_INPUT, "policy: expected a table / object");
	if ((rc = only_keys(o, "", keys, err)) != PPML_OK)
		return rc;
	v = json_object_get(o, "version");
	if (v && (!json_is_integer(v) || json_integer_value(v) != POLICY_VERSION))
		return ppml_err_set(err, PPML_E_INPUT, "version: expected 1");
	v = json_object_get(o, "identities");
	if (!json_is_array(v) || json_array_size(v) > PPML_POLICY_MAX_IDENTITIES)
		return ppml_err_set(err, PPML_E_INPUT,
				    "identities: expected an array of at most %u entries (required: "
				    "a policy names what it accepts)",
				    PPML_POLICY_MAX_IDENTITIES);
	p->n_identities = json_array_size(v);
	p->identities = calloc(p->n_identities + 1, sizeof(*p->identities));
	if (!p->identities)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	for (size_t i = 0; i < p->n_identities; i++)
		if ((rc = parse_identity(json_array_get(v, i), i, &p->identities[i], err)) != PPML_OK)
			return rc;
	if ((rc = get_bool(o, "allow_debug", false, &p->allow_debug, err)) != PPML_OK ||
	    (rc = get_bool(o, "allow_expired_collateral", false, &p->allow_expired_collateral,
			   err)) != PPML_OK ||
	    (rc = get_bool(o, "allow_simulation", false, &p->allow_simulation, err)) != PPML_OK)
		return rc;
	v = json_object_get(o, "accepted_tcb_statuses");
	if (!v) {
		p->accepted_statuses = 1u << PPML_TCB_UP_TO_DATE;
	} else {
		if (!json_is_array(v))
			return ppml_err_set(err, PPML_E_INPUT,
					    "accepted_tcb_statuses: expected an array of statuses");
		for (size_t i = 0; i < json_array_size(v); i++) {
			char what[48];
			enum ppml_tcb_status st;
			snprintf(what, sizeof(what), "accepted_tcb_statuses[%zu]", i);
			if ((rc = parse_status(json_array_get(v, i), what, &st, err)) != PPML_OK)
				return rc;
			p->accepted_statuses |= 1u << st;
		}
	}
	v = json_object_get(o, "exceptions");
	if (v) {
		if (!json_is_array(v) || json_array_size(v) > PPML_POLICY_MAX_EXCEPTIONS)
			return ppml_err_set(err, PPML_E_INPUT,
					    "exceptions: expected an array of at most %u entries",
					    PPML_POLICY_MAX_EXCEPTIONS);
		p->exceptions = calloc(json_array_size(v) + 1, sizeof(*p->exceptions));
		if (!p->exceptions)
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		for (size_t i = 0; i < json_array_size(v); i++) {
			p->n_exceptions = i + 1;
			if ((rc = parse_exception(json_array_get(v, i), i, &p->exceptions[i], err)) !=
			    PPML_OK)
				return rc;
		}
	}
	v = json_object_get(o, "max_collateral_age_s");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			return ppml_err_set(err, PPML_E_INPUT,
					    "max_collateral_age_s: expected a positive integer");
		p->has_max_collateral_age = true;
		p->max_collateral_age_s = json_integer_value(v);
	}
	v = json_object_get(o, "min_tcb_evaluation_data_number");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 0xffffffffll)
			return ppml_err_set(err, PPML_E_INPUT,
					    "min_tcb_evaluation_data_number: expected an integer "
					    ">= 0");
		p->has_min_tcb_evaluation_data_number = true;
		p->min_tcb_evaluation_data_number = (uint32_t)json_integer_value(v);
	}
	v = json_object_get(o, "audience");
	if (v) {
		const char *s = json_string_value(v);
		if (!s || !*s || strlen(s) > 256)
			return ppml_err_set(err, PPML_E_INPUT,
					    "audience: expected a non-empty string of at most 256 "
					    "bytes");
		if (!(p->audience = strdup(s)))
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}
	return PPML_OK;
}

ppml_status ppml_policy_parse(const char *text, size_t len, struct ppml_policy **out,
			      struct ppml_err *err)
{
	struct ppml_policy *p = calloc(1, sizeof(*p));
	json_t *o = NULL;
	ppml_status rc;
	size_t i = 0;

	*out = NULL;
	if (!p)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	if (len > PPML_POLICY_MAX_SIZE) {
		rc = ppml_err_set(err, PPML_E_LIMIT, "policy: %zu bytes, above the %u-byte limit",
				  len, PPML_POLICY_MAX_SIZE);
		goto out;
	}
	while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
		i++;
	if (i < len && text[i] == '{') {
		json_error_t je;
		o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
		if (!o) {
			rc = ppml_err_set(err, PPML_E_INPUT, "policy JSON: line %d, column %d: %s",
					  je.line, je.column, je.text);
			goto out;
		}
	} else {
		struct ppml_toml_value *t = NULL;
		if ((rc = ppml_toml_parse(text, len, &t, err)) != PPML_OK) {
			ppml_err_prefix(err, "policy TOML: ");
			goto out;
		}
		o = toml_to_json(t, "", err);
		ppml_toml_free(t);
		if (!o) {
			rc = PPML_E_INPUT;
			goto out;
		}
	}
	if ((rc = from_json(o, p, err)) != PPML_OK)
		goto out;
	*out = p;
	p = NULL;
out:
	json_decref(o);
	ppml_policy_free(p);
	return rc;
}

bool ppml_policy_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > PPML_POLICY_MAX_NAME || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static json_t *hexj(const uint8_t *b, size_t n)
{
	char h[65];
	ppml_hex_encode(b, n, h);
	return json_string(h);
}

ppml_status ppml_policy_canonical(const struct ppml_policy *p, char **out, char sha256_hex[65],
				  struct ppml_err *err)
{
	json_t *o = json_object(), *ids = json_array(), *st = json_array(), *ex = json_array();
	char ts[PPML_TIME_RFC3339_LEN];

	for (size_t i = 0; i < p->n_identities; i++) {
		const struct ppml_policy_identity *id = &p->identities[i];
		json_t *e = json_object();
		if (id->has_mrenclave)
			json_object_set_new(e, "mrenclave", hexj(id->mrenclave, 32));
		if (id->has_mrsigner) {
			json_object_set_new(e, "mrsigner", hexj(id->mrsigner, 32));
			json_object_set_new(e, "isvprodid", json_integer(id->isvprodid));
			json_object_set_new(e, "min_isvsvn", json_integer(id->min_isvsvn));
		}
		json_array_append_new(ids, e);
	}
	for (int s = PPML_TCB_UP_TO_DATE; s < PPML_TCB_REVOKED; s++)
		if (p->accepted_statuses & (1u << s))
			json_array_append_new(st, json_string(ppml_tcb_status_name(s)));
	for (size_t i = 0; i < p->n_exceptions; i++) {
		const struct ppml_policy_exception *x = &p->exceptions[i];
		json_t *a = json_array();
		for (size_t j = 0; j < x->n_advisory_ids; j++)
			json_array_append_new(a, json_string(x->advisory_ids[j]));
		ppml_time_format(x->expires_at, ts);
		json_array_append_new(ex, json_pack("{s:s, s:o, s:s}", "status",
						    ppml_tcb_status_name(x->status), "advisory_ids",
						    a, "expires_at", ts));
	}
	json_object_set_new(o, "version", json_integer(POLICY_VERSION));
	json_object_set_new(o, "identities", ids);
	json_object_set_new(o, "allow_debug", json_boolean(p->allow_debug));
	json_object_set_new(o, "accepted_tcb_statuses", st);
	json_object_set_new(o, "exceptions", ex);
	json_object_set_new(o, "allow_expired_collateral", json_boolean(p->allow_expired_collateral));
	/* Optional limits appear only when set (absent means "no limit"). */
	if (p->has_max_collateral_age)
		json_object_set_new(o, "max_collateral_age_s", json_integer(p->max_collateral_age_s));
	if (p->has_min_tcb_evaluation_data_number)
		json_object_set_new(o, "min_tcb_evaluation_data_number",
				    json_integer(p->min_tcb_evaluation_data_number));
	json_object_set_new(o, "allow_simulation", json_boolean(p->allow_simulation));
	if (p->audience)
		json_object_set_new(o, "audience", json_string(p->audience));
	*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!*out)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	uint8_t md[32];
	EVP_Digest(*out, strlen(*out), md, NULL, EVP_sha256(), NULL);
	ppml_hex_encode(md, 32, sha256_hex);
	return PPML_OK;
}

/* ---- evaluation ---- */

const char *ppml_check_name(enum ppml_check c)
{
	return c == PPML_CHECK_PASS ? "pass" : c == PPML_CHECK_FAIL ? "fail" : "skipped";
}

static void reason(struct ppml_policy_result *r, const char *fmt, ...) PPML_PRINTF(2, 3);
static void reason(struct ppml_policy_result *r, const char *fmt, ...)
{
	va_list ap;
	if (r->n_reasons == PPML_POLICY_MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(r->reasons[r->n_reasons++], sizeof(r->reasons[0]), fmt, ap);
	va_end(ap);
}

static bool ids_covered(const struct ppml_policy_exception *x, const struct ppml_verdict *v)
{
	for (size_t i = 0; i < v->n_advisory_ids; i++) {
		bool found = false;
		for (size_t j = 0; j < x->n_advisory_ids && !found; j++)
			found = strcmp(v->advisory_ids[i], x->advisory_ids[j]) == 0;
		if (!found)
			return false;
	}
	return true;
}

void ppml_policy_eval(const struct ppml_policy *p, const struct ppml_verdict *v, int64_t now,
		      struct ppml_policy_result *r)
{
	memset(r, 0, sizeof(*r));

	/* signature_chain (and, for a failed verification, the check it failed). */
	if (v->failure != PPML_QV_OK) {
		const char *check = ppml_qv_failure_check(v->failure);
		enum ppml_check *slot = strcmp(check, "collateral") == 0 ? &r->collateral
					: strcmp(check, "tcb") == 0	 ? &r->tcb
									 : &r->signature_chain;
		if (slot != &r->signature_chain)
			r->signature_chain = PPML_CHECK_PASS;
		if (slot == &r->tcb)
			r->collateral = PPML_CHECK_PASS;
		*slot = PPML_CHECK_FAIL;
		reason(r, "%s: the quote failed verification (%s)", check,
		       ppml_qv_failure_name(v->failure));
		return;
	}
	if (v->custom_anchor && !p->allow_simulation) {
		r->signature_chain = PPML_CHECK_FAIL;
		reason(r, "signature_chain: a SIMULATED quote (its root is not Intel's) and the "
			  "policy does not allow simulation");
		return;
	}
	r->signature_chain = PPML_CHECK_PASS;

	/* collateral */
	r->collateral = PPML_CHECK_PASS;
	if (v->collateral_expired && !p->allow_expired_collateral) {
		r->collateral = PPML_CHECK_FAIL;
		reason(r, "collateral: expired at the verification time (a CRL, TCB info or QE "
			  "identity past its nextUpdate)");
	}
	if (p->has_max_collateral_age && now - v->tcb_info_issue_date > p->max_collateral_age_s) {
		r->collateral = PPML_CHECK_FAIL;
		reason(r, "collateral: TCB info issued %lld s ago, more than max_collateral_age_s "
			  "%lld",
		       (long long)(now - v->tcb_info_issue_date), (long long)p->max_collateral_age_s);
	}

	/* tcb */
	r->tcb = PPML_CHECK_PASS;
	if (p->has_min_tcb_evaluation_data_number &&
	    v->tcb_evaluation_data_number < p->min_tcb_evaluation_data_number) {
		r->tcb = PPML_CHECK_FAIL;
		reason(r, "tcb: tcbEvaluationDataNumber %u < min_tcb_evaluation_data_number %u",
		       v->tcb_evaluation_data_number, p->min_tcb_evaluation_data_number);
	}
	if (!(p->accepted_statuses & (1u << v->tcb_status))) {
		bool excepted = false;
		for (size_t i = 0; i < p->n_exceptions && !excepted; i++) {
			const struct ppml_policy_exception *x = &p->exceptions[i];
			excepted = x->status == v->tcb_status && now < x->expires_at &&
				   ids_covered(x, v);
		}
		if (excepted) {
			r->under_exception = true;
		} else {
			char ids[160] = "";
			for (size_t i = 0; i < v->n_advisory_ids; i++) {
				size_t l = strlen(ids);
				snprintf(ids + l, sizeof(ids) - l, "%s%s", i ? "," : "",
					 v->advisory_ids[i]);
			}
			r->tcb = PPML_CHECK_FAIL;
			reason(r, "tcb: status %s%s%s%s is not accepted (no unexpired exception "
				  "covers it)",
			       ppml_tcb_status_name(v->tcb_status), *ids ? " (" : "", ids,
			       *ids ? ")" : "");
		}
	}

	/* debug */
	bool debug = (v->body.attributes_flags & PPML_SGX_ATTR_DEBUG) != 0;
	r->debug = PPML_CHECK_PASS;
	if (debug && !p->allow_debug) {
		r->debug = PPML_CHECK_FAIL;
		reason(r, "debug: a DEBUG enclave (the host can read its memory) and the policy "
			  "does not allow debug");
	}

	/* identity */
	r->identity = PPML_CHECK_FAIL;
	for (size_t i = 0; i < p->n_identities && r->identity == PPML_CHECK_FAIL; i++) {
		const struct ppml_policy_identity *id = &p->identities[i];
		bool ok = true;
		if (id->has_mrenclave && CRYPTO_memcmp(id->mrenclave, v->body.mrenclave, 32) != 0)
			ok = false;
		if (id->has_mrsigner &&
		    (CRYPTO_memcmp(id->mrsigner, v->body.mrsigner, 32) != 0 ||
		     v->body.isv_prod_id != id->isvprodid || v->body.isv_svn < id->min_isvsvn))
			ok = false;
		if (ok)
			r->identity = PPML_CHECK_PASS;
	}
	if (r->identity == PPML_CHECK_FAIL) {
		char mre[65], mrs[65];
		ppml_hex_encode(v->body.mrenclave, 32, mre);
		ppml_hex_encode(v->body.mrsigner, 32, mrs);
		reason(r, "identity: mrenclave %.16s..., mrsigner %.16s..., isvprodid %u, isvsvn %u "
			  "matches none of the policy's %zu identities",
		       mre, mrs, v->body.isv_prod_id, v->body.isv_svn, p->n_identities);
		/* Say why for the nearest entries: same MRSIGNER, too low an ISVSVN. */
		for (size_t i = 0; i < p->n_identities; i++) {
			const struct ppml_policy_identity *id = &p->identities[i];
			if (id->has_mrsigner && !CRYPTO_memcmp(id->mrsigner, v->body.mrsigner, 32) &&
			    v->body.isv_prod_id == id->isvprodid && v->body.isv_svn < id->min_isvsvn)
				reason(r, "identity: isvsvn %u < min_isvsvn %u (identities[%zu])",
				       v->body.isv_svn, id->min_isvsvn, i);
			else if (id->has_mrsigner &&
				 !CRYPTO_memcmp(id->mrsigner, v->body.mrsigner, 32) &&
				 v->body.isv_prod_id != id->isvprodid)
				reason(r, "identity: isvprodid %u != %u (identities[%zu])",
				       v->body.isv_prod_id, id->isvprodid, i);
		}
	}
	r->accepted = r->signature_chain == PPML_CHECK_PASS && r->collateral == PPML_CHECK_PASS &&
		      r->tcb == PPML_CHECK_PASS && r->debug == PPML_CHECK_PASS &&
		      r->identity == PPML_CHECK_PASS;
}
