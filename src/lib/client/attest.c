/* SPDX-License-Identifier: Apache-2.0 */
/* The attestation client (include/ppml/client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ppml/client.h"
#include "ppml/httpc.h"
#include "ppml/limits.h"
#include "ppml/service.h"

#include "internal.h"

void ppml_attest_result_cleanup(struct ppml_attest_result *r)
{
	if (!r)
		return;
	free(r->token);
	json_decref(r->response);
	memset(r, 0, sizeof(*r));
}

char *client_b64(const uint8_t *p, size_t n)
{
	char *s = malloc(4 * ((n + 2) / 3) + 1);
	if (s)
		EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

ppml_status client_nonce(const struct ppml_attest_opts *o, char base[2049], uint8_t nonce[64],
			 size_t *nonce_len, char nonce_b64[101], long *status,
			 struct ppml_err *err)
{
	struct ppml_httpc_opts ho = {.cacert = o->cacert};
	struct ppml_httpc_resp r = {0};
	char url[2200];
	uint8_t buf[80];
	ppml_status rc;
	if (!o->service || strlen(o->service) > 2048)
		return ppml_err_set(err, PPML_E_INPUT, "a service URL of at most 2048 bytes is needed");
	size_t ul = strlen(o->service);
	while (ul && o->service[ul - 1] == '/')
		ul--;
	snprintf(base, 2049, "%.*s", (int)ul, o->service);
	snprintf(url, sizeof(url), "%s/v1/attest/nonce", base);
	*status = 0;
	if ((rc = ppml_httpc_request("POST", url, "application/json", "{}", 2, &ho, &r, err)) !=
	    PPML_OK)
		return rc;
	*status = r.status;
	json_t *j = r.status == 200 ? json_loadb((const char *)r.body, r.len, 0, NULL) : NULL;
	const char *ns = json_string_value(json_object_get(j, "nonce"));
	size_t sl = ns ? strlen(ns) : 0;
	int n = ns && sl && sl <= 100 && sl % 4 == 0
			? EVP_DecodeBlock(buf, (const unsigned char *)ns, (int)sl)
			: -1;
	/* EVP_DecodeBlock counts padding as zero bytes. */
	size_t nl = n < 0 ? 0 : (size_t)n - (ns[sl - 1] == '=') - (sl > 1 && ns[sl - 2] == '=');
	if (n < 0 || nl == 0 || nl > 64) {
		rc = ppml_err_set(err, PPML_E_IO, "POST %s: HTTP %ld, no nonce in the answer", url,
				  r.status);
	} else {
		memcpy(nonce, buf, nl);
		*nonce_len = nl;
		memcpy(nonce_b64, ns, sl + 1);
		rc = PPML_OK;
	}
	json_decref(j);
	ppml_httpc_resp_free(&r);
	return rc;
}

bool client_retry(ppml_status rc, long status, const json_t *answer, int tries_done)
{
	bool again = false;
	if (tries_done >= CLIENT_TRIES)
		return false;
	if (rc != PPML_OK && (status == 0 || status == 502 || status == 503 || status == 504))
		again = true;
	if (answer && status == 403) {
		/* Refused on the nonce alone: every other check passed (or was skipped). */
		const char *k;
		json_t *v;
		bool nonce_failed = false, other_failed = false;
		json_object_foreach(json_object_get(answer, "checks"), k, v) {
			bool fail = !strcmp(json_string_value(v) ? json_string_value(v) : "", "fail");
			if (!strcmp(k, "nonce"))
				nonce_failed = fail;
			else
				other_failed |= fail;
		}
		again = nonce_failed && !other_failed;
	}
	if (again) {
		struct timespec t = {0, 250000000L * tries_done};
		nanosleep(&t, NULL);
	}
	return again;
}

static ppml_status attest_once(const struct ppml_attest_opts *o, struct ppml_attest_result *out,
			       long *status, struct ppml_err *err)
{
	struct ppml_httpc_opts ho = {.cacert = o->cacert};
	struct ppml_httpc_resp r = {0};
	char url[2200];
	uint8_t nonce[80], rd[64] = {0}, *quote = NULL;
	size_t nl = 0, ql = 0;
	json_t *j = NULL, *req = NULL;
	char *body = NULL, *qb = NULL, *rdb = NULL;
	ppml_status rc;

	memset(out, 0, sizeof(*out));
	if (!o->policy)
		return ppml_err_set(err, PPML_E_INPUT, "attest: a policy name is needed");
	char base[2049], ns[101];
	if ((rc = client_nonce(o, base, nonce, &nl, ns, status, err)) != PPML_OK)
		return rc;
	*status = 0;
	ppml_report_data_binding(PPML_BIND_ATTEST, nonce, nl, o->runtime_data, o->runtime_data_len,
				 rd);
	if ((rc = ppml_client_get_quote(o->dev_root, rd, &quote, &ql, &out->source, err)) != PPML_OK)
		goto out;
	qb = client_b64(quote, ql);
	rdb = o->runtime_data_len ? client_b64(o->runtime_data, o->runtime_data_len) : NULL;
	req = json_pack("{s:s, s:s, s:s}", "quote", qb ? qb : "", "nonce", ns, "policy", o->policy);
	if (o->aud)
		json_object_set_new(req, "aud", json_string(o->aud));
	if (rdb)
		json_object_set_new(req, "runtime_data", json_string(rdb));
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (!qb || !body) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(url, sizeof(url), "%s/v1/attest", base);
	if ((rc = ppml_httpc_request("POST", url, "application/json", body, strlen(body), &ho, &r,
				     err)) != PPML_OK)
		goto out;
	*status = r.status;
	json_decref(j);
	j = json_loadb((const char *)r.body, r.len, 0, NULL);
	const char *result = json_string_value(json_object_get(j, "result"));
	if ((r.status != 200 && r.status != 403) || !result) {
		const char *m = json_string_value(json_object_get(json_object_get(j, "error"),
								  "message"));
		rc = ppml_err_set(err, PPML_E_IO, "POST %s: HTTP %ld: %s", url, r.status,
				  m ? m : "no verdict in the answer");
		goto out;
	}
	out->accepted = r.status == 200 && !strcmp(result, "accepted");
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (out->accepted && (!tok || !(out->token = strdup(tok)))) {
		rc = ppml_err_set(err, PPML_E_IO, "POST %s: accepted without a token", url);
		out->accepted = false;
		goto out;
	}
	out->response = j;
	j = NULL;
	rc = PPML_OK;
out:
	ppml_httpc_resp_free(&r);
	json_decref(j);
	json_decref(req);
	free(body);
	free(qb);
	free(rdb);
	free(quote);
	return rc;
}

ppml_status ppml_client_attest(const struct ppml_attest_opts *o, struct ppml_attest_result *out,
			       struct ppml_err *err)
{
	for (int tries = 1;; tries++) {
		long status = 0;
		ppml_status rc = attest_once(o, out, &status, err);
		if (!client_retry(rc, status, rc == PPML_OK && !out->accepted ? out->response : NULL,
				  tries))
			return rc;
		ppml_attest_result_cleanup(out);
	}
}
