/* SPDX-License-Identifier: Apache-2.0 */
/* Intel's TCB info and QE identity JSON (shared/spec/dcap-quote-verification.md
 * sections 4.2 and 4.3), parsed strictly with jansson. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ppml/collateral.h"
#include "ppml/hex.h"
#include "ppml/limits.h"
#include "ppml/timeutil.h"

static const char *const STATUS_NAMES[] = {
	[PPML_TCB_UP_TO_DATE] = "UpToDate",
	[PPML_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
	[PPML_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
	[PPML_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
	[PPML_TCB_OUT_OF_DATE] = "OutOfDate",
	[PPML_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
	[PPML_TCB_REVOKED] = "Revoked",
};

const char *ppml_tcb_status_name(enum ppml_tcb_status s)
{
	if ((unsigned)s < sizeof(STATUS_NAMES) / sizeof(STATUS_NAMES[0]))
		return STATUS_NAMES[s];
	return "Unknown";
}

bool ppml_tcb_status_from_name(const char *name, enum ppml_tcb_status *out)
{
	for (size_t i = 0; i < sizeof(STATUS_NAMES) / sizeof(STATUS_NAMES[0]); i++)
		if (strcmp(name, STATUS_NAMES[i]) == 0) {
			*out = (enum ppml_tcb_status)i;
			return true;
		}
	return false;
}

/* ---- field helpers: each sets err naming `what` ---- */

static ppml_status get_obj(json_t *o, const char *key, const char *what, json_t **out,
			   struct ppml_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_object(v))
		return ppml_err_set(err, PPML_E_INPUT, "%s.%s: expected an object", what, key);
	*out = v;
	return PPML_OK;
}

static ppml_status get_uint(json_t *o, const char *key, const char *what, uint64_t max,
			    uint64_t *out, struct ppml_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s.%s: expected an integer 0..%llu", what, key,
				    (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return PPML_OK;
}

static ppml_status get_hex(json_t *o, const char *key, const char *what, uint8_t *out,
			   size_t n, struct ppml_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || json_string_length(v) != 2 * n ||
	    ppml_hex_decode(json_string_value(v), out, n, key, NULL) != PPML_OK)
		return ppml_err_set(err, PPML_E_INPUT, "%s.%s: expected %zu hex digits", what, key,
				    2 * n);
	return PPML_OK;
}

static ppml_status get_date(json_t *o, const char *key, const char *what, int64_t *out,
			    struct ppml_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || !ppml_time_parse_intel(json_string_value(v), out))
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s.%s: expected a date \"YYYY-MM-DDThh:mm:ssZ\"", what, key);
	return PPML_OK;
}

static ppml_status get_status(json_t *o, const char *what, bool qe, enum ppml_tcb_status *out,
			      struct ppml_err *err)
{
	json_t *v = json_object_get(o, "tcbStatus");
	if (!json_is_string(v) || !ppml_tcb_status_from_name(json_string_value(v), out) ||
	    /* Section 4.3: QVL's QE identity parser has no SWHardening statuses. */
	    (qe && (*out == PPML_TCB_SW_HARDENING_NEEDED ||
		    *out == PPML_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)))
		return ppml_err_set(err, PPML_E_INPUT, "%s.tcbStatus: expected one of %s", what,
				    qe ? "UpToDate, ConfigurationNeeded, OutOfDate, "
					 "OutOfDateConfigurationNeeded, Revoked"
				       : "UpToDate, SWHardeningNeeded, ConfigurationNeeded, "
					 "ConfigurationAndSWHardeningNeeded, OutOfDate, "
					 "OutOfDateConfigurationNeeded, Revoked");
	return PPML_OK;
}

static void free_ids(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static ppml_status get_advisories(json_t *o, const char *what, char ***out, size_t *n,
				  struct ppml_err *err)
{
	json_t *a = json_object_get(o, "advisoryIDs");
	*out = NULL;
	*n = 0;
	if (!a)
		return PPML_OK;
	if (!json_is_array(a))
		return ppml_err_set(err, PPML_E_INPUT, "%s.advisoryIDs: expected an array", what);
	size_t k = json_array_size(a);
	if (k > PPML_COLLATERAL_MAX_ADVISORIES)
		return ppml_err_set(err, PPML_E_LIMIT, "%s.advisoryIDs: more than %u entries",
				    what, PPML_COLLATERAL_MAX_ADVISORIES);
	if (k == 0)
		return PPML_OK;
	char **ids = calloc(k, sizeof(*ids));
	if (!ids)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	for (size_t i = 0; i < k; i++) {
		json_t *s = json_array_get(a, i);
		if (!json_is_string(s) || json_string_length(s) == 0 ||
		    json_string_length(s) > PPML_COLLATERAL_MAX_ID_LEN ||
		    strlen(json_string_value(s)) != json_string_length(s)) {
			free_ids(ids, i);
			return ppml_err_set(err, PPML_E_INPUT,
					    "%s.advisoryIDs[%zu]: expected a non-empty string of at "
					    "most %u bytes",
					    what, i, PPML_COLLATERAL_MAX_ID_LEN);
		}
		ids[i] = strdup(json_string_value(s));
		if (!ids[i]) {
			free_ids(ids, i);
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		}
	}
	*out = ids;
	*n = k;
	return PPML_OK;
}

/* The bytes QVL verifies are its compact re-serialisation of the body
 * object (section 4.2).  When the body's text has no escapes and no number
 * other than a plain non-negative integer, that re-serialisation is exactly
 * the text with the whitespace outside strings removed, which is much
 * cheaper than jansson's dump.  Returns true when it applied (*out is then
 * the copy, or NULL on allocation failure); false sends the caller to the
 * general path.  The document already parsed as JSON. */
static bool compact_span(const uint8_t *json, size_t len, const char *key, uint8_t **out,
			 size_t *out_len)
{
	size_t i = 0, kl = strlen(key), start, depth = 0;
	bool in_str = false;

	*out = NULL;
	while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
		i++;
	if (i >= len || json[i] != '{')
		return false;
	i++;
	while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
		i++;
	/* Only the common shape: the body is the first member. */
	if (len - i < kl + 2 || json[i] != '"' || memcmp(json + i + 1, key, kl) != 0 ||
	    json[i + 1 + kl] != '"')
		return false;
	i += kl + 2;
	while (i < len && json[i] != '{') {
		if (json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r' &&
		    json[i] != ':')
			return false;
		i++;
	}
	start = i;
	uint8_t *buf = malloc(len - start + 1);
	size_t n = 0;
	if (!buf)
		return true;
	for (; i < len; i++) {
		uint8_t ch = json[i];
		if (in_str) {
			if (ch == '\\') {
				free(buf);
				return false;
			}
			if (ch == '"')
				in_str = false;
			buf[n++] = ch;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
			continue;
		if (ch == '.' || ch == 'e' || ch == 'E' || ch == '-' || ch == '+') {
			free(buf);
			return false; /* a number jansson or rapidjson may re-format */
		}
		if (ch == '"')
			in_str = true;
		else if (ch == '{' || ch == '[')
			depth++;
		else if (ch == '}' || ch == ']')
			depth--;
		buf[n++] = ch;
		if (depth == 0)
			break;
	}
	if (depth != 0) {
		free(buf);
		return false;
	}
	buf[n] = 0;
	*out = buf;
	*out_len = n;
	return true;
}

/* Loads `{"<body_key>":{...},"signature":"<128 hex>"}`; returns the body
 * object (borrowed from *root) and the signature; *signed_body receives the
 * compact re-serialisation (section 4.2: what QVL verifies over). */
static ppml_status load_signed(const uint8_t *json, size_t len, const char *body_key,
			       const char *what, json_t **root, json_t **body, uint8_t sig[64],
			       uint8_t **signed_body, size_t *signed_len, struct ppml_err *err)
{
	json_error_t je;
	ppml_status rc;

	if (len > PPML_COLLATERAL_MAX_JSON)
		return ppml_err_set(err, PPML_E_LIMIT, "%s: %zu bytes, above the %u-byte limit",
				    what, len, PPML_COLLATERAL_MAX_JSON);
	*root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES,
			   &je);
	if (!*root)
		return ppml_err_set(err, PPML_E_INPUT, "%s: not JSON: line %d, column %d: %s", what,
				    je.line, je.column, je.text);
	if (!json_is_object(*root))
		return ppml_err_set(err, PPML_E_INPUT, "%s: expected a JSON object", what);
	if ((rc = get_obj(*root, body_key, what, body, err)) != PPML_OK)
		return rc;
	if ((rc = get_hex(*root, "signature", what, sig, 64, err)) != PPML_OK)
		return rc;
	if (compact_span(json, len, body_key, signed_body, signed_len))
		return *signed_body ? PPML_OK
				    : ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	char *s = json_dumps(*body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s)
		return ppml_err_set(err, PPML_E_NOMEM, "%s: cannot serialise %s", what, body_key);
	*signed_body = (uint8_t *)s;
	*signed_len = strlen(s);
	return PPML_OK;
}

/* ---- TCB info ---- */

void ppml_tcb_info_cleanup(struct ppml_tcb_info *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_levels; i++)
		free_ids(t->levels[i].advisory_ids, t->levels[i].n_advisory_ids);
	free(t->levels);
	free(t->signed_body);
	memset(t, 0, sizeof(*t));
}

/* Descending by (16 component SVNs lexicographically, then PCESVN). */
static int level_cmp(const void *a, const void *b)
{
	const struct ppml_tcb_level *x = a, *y = b;
	int c = memcmp(y->comp_svn, x->comp_svn, 16);
	if (c)
		return c;
	return (int)y->pcesvn - (int)x->pcesvn;
}

static ppml_status parse_tcb_level(json_t *lv, uint32_t version, size_t idx,
				   struct ppml_tcb_level *out, struct ppml_err *err)
{
	char what[64];
	json_t *tcb = NULL;
	uint64_t x;
	ppml_status rc;

	snprintf(what, sizeof(what), "tcbInfo.tcbLevels[%zu]", idx);
	if (!json_is_object(lv))
		return ppml_err_set(err, PPML_E_INPUT, "%s: expected an object", what);
	if ((rc = get_obj(lv, "tcb", what, &tcb, err)) != PPML_OK)
		return rc;
	char twhat[80];
	snprintf(twhat, sizeof(twhat), "%s.tcb", what);
	if (version == 2) {
		for (int i = 0; i < 16; i++) {
			char key[] = "sgxtcbcomp00svn";
			key[10] = (char)('0' + (i + 1) / 10);
			key[11] = (char)('0' + (i + 1) % 10);
			if ((rc = get_uint(tcb, key, twhat, 255, &x, err)) != PPML_OK)
				return rc;
			out->comp_svn[i] = (uint8_t)x;
		}
	} else {
		json_t *comps = json_object_get(tcb, "sgxtcbcomponents");
		if (!json_is_array(comps) || json_array_size(comps) != 16)
			return ppml_err_set(err, PPML_E_INPUT,
					    "%s.sgxtcbcomponents: expected an array of 16 objects",
					    twhat);
		for (size_t i = 0; i < 16; i++) {
			json_t *c = json_array_get(comps, i);
			json_t *svn = json_object_get(c, "svn");
			/* The message is formatted only on failure: this loop runs for
			 * every level of every cold verification. */
			if (!json_is_integer(svn) || json_integer_value(svn) < 0 ||
			    json_integer_value(svn) > 255)
				return ppml_err_set(err, PPML_E_INPUT,
						    "%s.sgxtcbcomponents[%zu].svn: expected an integer "
						    "0..255",
						    twhat, i);
			out->comp_svn[i] = (uint8_t)json_integer_value(svn);
		}
	}
	if ((rc = get_uint(tcb, "pcesvn", twhat, 65535, &x, err)) != PPML_OK)
		return rc;
	out->pcesvn = (uint16_t)x;
	if ((rc = get_date(lv, "tcbDate", what, &out->tcb_date, err)) != PPML_OK ||
	    (rc = get_status(lv, what, false, &out->status, err)) != PPML_OK)
		return rc;
	return get_advisories(lv, what, &out->advisory_ids, &out->n_advisory_ids, err);
}

ppml_status ppml_tcb_info_parse(const uint8_t *json, size_t len, struct ppml_tcb_info *t,
				struct ppml_err *err)
{
	json_t *root = NULL, *ti, *levels, *v;
	uint64_t x;
	ppml_status rc;
	const char *what = "tcbInfo";

	memset(t, 0, sizeof(*t));
	rc = load_signed(json, len, "tcbInfo", "TCB info", &root, &ti, t->signature,
			 &t->signed_body, &t->signed_len, err);
	if (rc != PPML_OK)
		goto out;
	if ((rc = get_uint(ti, "version", what, 3, &x, err)) != PPML_OK)
		goto out;
	if (x != 2 && x != 3) {
		rc = ppml_err_set(err, PPML_E_INPUT, "tcbInfo.version %llu: expected 2 or 3",
				  (unsigned long long)x);
		goto out;
	}
	t->version = (uint32_t)x;
	v = json_object_get(ti, "id");
	if (t->version == 3) {
		if (!json_is_string(v) || (strcmp(json_string_value(v), "SGX") != 0 &&
					   strcmp(json_string_value(v), "TDX") != 0)) {
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "tcbInfo.id: expected \"SGX\" or \"TDX\" (version 3)");
			goto out;
		}
		memcpy(t->id, json_string_value(v), 4);
		bool tdx_fields = json_object_get(ti, "tdxModule") ||
				  json_object_get(ti, "tdxModuleIdentities");
		if (strcmp(t->id, "SGX") == 0 && tdx_fields) {
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "tcbInfo: an SGX TCB info must not carry tdxModule");
			goto out;
		}
		if (strcmp(t->id, "TDX") == 0 && !json_object_get(ti, "tdxModule")) {
			rc = ppml_err_set(err, PPML_E_INPUT, "tcbInfo: a TDX TCB info needs tdxModule");
			goto out;
		}
	}
	if ((rc = get_date(ti, "issueDate", what, &t->issue_date, err)) != PPML_OK ||
	    (rc = get_date(ti, "nextUpdate", what, &t->next_update, err)) != PPML_OK ||
	    (rc = get_hex(ti, "fmspc", what, t->fmspc, 6, err)) != PPML_OK ||
	    (rc = get_hex(ti, "pceId", what, t->pceid, 2, err)) != PPML_OK ||
	    (rc = get_uint(ti, "tcbType", what, 0xffffffffu, &x, err)) != PPML_OK)
		goto out;
	if (x != 0) {
		rc = ppml_err_set(err, PPML_E_INPUT, "tcbInfo.tcbType %llu: expected 0",
				  (unsigned long long)x);
		goto out;
	}
	if ((rc = get_uint(ti, "tcbEvaluationDataNumber", what, 0xffffffffu, &x, err)) != PPML_OK)
		goto out;
	t->tcb_evaluation_data_number = (uint32_t)x;
	levels = json_object_get(ti, "tcbLevels");
	if (!json_is_array(levels) || json_array_size(levels) == 0) {
		rc = ppml_err_set(err, PPML_E_INPUT, "tcbInfo.tcbLevels: expected a non-empty array");
		goto out;
	}
	if (json_array_size(levels) > PPML_COLLATERAL_MAX_LEVELS) {
		rc = ppml_err_set(err, PPML_E_LIMIT, "tcbInfo.tcbLevels: more than %u levels",
				  PPML_COLLATERAL_MAX_LEVELS);
		goto out;
	}
	t->levels = calloc(json_array_size(levels), sizeof(*t->levels));
	if (!t->levels) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(levels); i++) {
		rc = parse_tcb_level(json_array_get(levels, i), t->version, i, &t->levels[i], err);
		t->n_levels = i + 1; /* so cleanup frees a partial level */
		if (rc != PPML_OK)
			goto out;
	}
	qsort(t->levels, t->n_levels, sizeof(*t->levels), level_cmp);
	for (size_t i = 1; i < t->n_levels; i++)
		if (level_cmp(&t->levels[i - 1], &t->levels[i]) == 0) {
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "tcbInfo.tcbLevels: two levels with the same components "
					  "and pcesvn");
			goto out;
		}
	rc = PPML_OK;
out:
	json_decref(root);
	return rc;
}

/* ---- QE identity ---- */

void ppml_qe_identity_cleanup(struct ppml_qe_identity *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n_levels; i++)
		free_ids(q->levels[i].advisory_ids, q->levels[i].n_advisory_ids);
	free(q->levels);
	free(q->signed_body);
	memset(q, 0, sizeof(*q));
}

ppml_status ppml_qe_identity_parse(const uint8_t *json, size_t len, struct ppml_qe_identity *q,
				   struct ppml_err *err)
{
	json_t *root = NULL, *ei, *levels, *v;
	uint64_t x;
	ppml_status rc;
	const char *what = "enclaveIdentity";

	memset(q, 0, sizeof(*q));
	rc = load_signed(json, len, "enclaveIdentity", "QE identity", &root, &ei, q->signature,
			 &q->signed_body, &q->signed_len, err);
	if (rc != PPML_OK)
		goto out;
	if ((rc = get_uint(ei, "version", what, 0xffffffffu, &x, err)) != PPML_OK)
		goto out;
	if (x != 2) {
		rc = ppml_err_set(err, PPML_E_INPUT, "enclaveIdentity.version %llu: expected 2",
				  (unsigned long long)x);
		goto out;
	}
	q->version = 2;
	v = json_object_get(ei, "id");
	if (!json_is_string(v) ||
	    (strcmp(json_string_value(v), "QE") != 0 && strcmp(json_string_value(v), "QVE") != 0 &&
	     strcmp(json_string_value(v), "TD_QE") != 0)) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "enclaveIdentity.id: expected \"QE\", \"QVE\" or \"TD_QE\"");
		goto out;
	}
	snprintf(q->id, sizeof(q->id), "%s", json_string_value(v));
	if ((rc = get_date(ei, "issueDate", what, &q->issue_date, err)) != PPML_OK ||
	    (rc = get_date(ei, "nextUpdate", what, &q->next_update, err)) != PPML_OK ||
	    (rc = get_uint(ei, "tcbEvaluationDataNumber", what, 0xffffffffu, &x, err)) != PPML_OK)
		goto out;
	q->tcb_evaluation_data_number = (uint32_t)x;
	if ((rc = get_hex(ei, "miscselect", what, q->miscselect, 4, err)) != PPML_OK ||
	    (rc = get_hex(ei, "miscselectMask", what, q->miscselect_mask, 4, err)) != PPML_OK ||
	    (rc = get_hex(ei, "attributes", what, q->attributes, 16, err)) != PPML_OK ||
	    (rc = get_hex(ei, "attributesMask", what, q->attributes_mask, 16, err)) != PPML_OK ||
	    (rc = get_hex(ei, "mrsigner", what, q->mrsigner, 32, err)) != PPML_OK ||
	    (rc = get_uint(ei, "isvprodid", what, 65535, &x, err)) != PPML_OK)
		goto out;
	q->isvprodid = (uint16_t)x;
	levels = json_object_get(ei, "tcbLevels");
	if (!json_is_array(levels) || json_array_size(levels) == 0) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "enclaveIdentity.tcbLevels: expected a non-empty array");
		goto out;
	}
	if (json_array_size(levels) > PPML_COLLATERAL_MAX_LEVELS) {
		rc = ppml_err_set(err, PPML_E_LIMIT, "enclaveIdentity.tcbLevels: more than %u levels",
				  PPML_COLLATERAL_MAX_LEVELS);
		goto out;
	}
	q->levels = calloc(json_array_size(levels), sizeof(*q->levels));
	if (!q->levels) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(levels); i++) {
		json_t *lv = json_array_get(levels, i), *tcb = NULL;
		char lwhat[64];
		struct ppml_qe_level *l = &q->levels[i];
		q->n_levels = i + 1;
		snprintf(lwhat, sizeof(lwhat), "enclaveIdentity.tcbLevels[%zu]", i);
		if (!json_is_object(lv)) {
			rc = ppml_err_set(err, PPML_E_INPUT, "%s: expected an object", lwhat);
			goto out;
		}
		if ((rc = get_obj(lv, "tcb", lwhat, &tcb, err)) != PPML_OK ||
		    (rc = get_uint(tcb, "isvsvn", lwhat, 65535, &x, err)) != PPML_OK)
			goto out;
		l->isvsvn = (uint16_t)x;
		if ((rc = get_date(lv, "tcbDate", lwhat, &l->tcb_date, err)) != PPML_OK ||
		    (rc = get_status(lv, lwhat, true, &l->status, err)) != PPML_OK ||
		    (rc = get_advisories(lv, lwhat, &l->advisory_ids, &l->n_advisory_ids, err)) !=
			    PPML_OK)
			goto out;
	}
	rc = PPML_OK;
out:
	json_decref(root);
	return rc;
}
