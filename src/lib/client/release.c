/* SPDX-License-Identifier: Apache-2.0 */
/* Key release from inside an enclave (include/ppml/client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ppml/client.h"
#include "ppml/ec.h"
#include "ppml/httpc.h"
#include "ppml/keysvc.h"
#include "ppml/limits.h"
#include "ppml/service.h"

#include "internal.h"

/* Strict-enough decode of a base64 field we asked for. */
static bool unb64(json_t *o, const char *k, uint8_t *out, size_t max, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, k));
	size_t n = s ? strlen(s) : 0;
	if (!s || n % 4 || n / 4 * 3 > max + 2)
		return false;
	uint8_t *tmp = malloc(n / 4 * 3 + 1);
	int d = tmp ? EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n) : -1;
	if (d < 0) {
		free(tmp);
		return false;
	}
	size_t l = (size_t)d - (n && s[n - 1] == '=') - (n > 1 && s[n - 2] == '=');
	if (l > max) {
		free(tmp);
		return false;
	}
	memcpy(out, tmp, l);
	*len = l;
	OPENSSL_cleanse(tmp, (size_t)d);
	free(tmp);
	return true;
}

static ppml_status release_once(const struct ppml_attest_opts *o, const char *key_name,
				const uint8_t *wrapped, size_t wrapped_len, uint8_t dk[32],
				size_t *dk_len, json_t **response, long *status,
				struct ppml_err *err)
{
	struct ppml_httpc_opts ho = {.cacert = o->cacert};
	struct ppml_httpc_resp r = {0};
	struct ppml_wdk w;
	char url[2400];
	uint8_t nonce[80], rd[64] = {0}, epk[65], *quote = NULL;
	size_t nl = 0, ql = 0;
	enum ppml_quote_source src;
	EVP_PKEY *eph = NULL;
	json_t *j = NULL, *req = NULL;
	char *body = NULL, *qb = NULL, *wb = NULL, *eb = NULL;
	ppml_status rc;

	if (response)
		*response = NULL;
	if ((rc = ppml_wdk_parse(wrapped, wrapped_len, &w, err)) != PPML_OK)
		return rc;
	if (strcmp(w.name, key_name) != 0)
		return ppml_err_set(err, PPML_E_INPUT, "release: the wrapped key belongs to %s, not %s",
				    w.name, key_name);
	char base[2049], ns[101];
	if ((rc = client_nonce(o, base, nonce, &nl, ns, status, err)) != PPML_OK)
		return rc;
	*status = 0;
	/* A key pair for this request alone. */
	if (!(eph = ppml_ec_generate()) || !ppml_ec_to_raw(eph, epk + 1)) {
		rc = ppml_err_set(err, PPML_E_CRYPTO, "release: key generation");
		goto out;
	}
	epk[0] = 0x04;
	ppml_report_data_binding(PPML_BIND_RELEASE, nonce, nl, epk, 65, rd);
	if ((rc = ppml_client_get_quote(o->dev_root, rd, &quote, &ql, &src, err)) != PPML_OK)
		goto out;
	qb = client_b64(quote, ql);
	wb = client_b64(wrapped, wrapped_len);
	eb = client_b64(epk, 65);
	req = json_pack("{s:s?, s:s, s:s?, s:s?}", "quote", qb, "nonce", ns, "enclave_public_key",
			eb, "wrapped_datakey", wb);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (!body) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(url, sizeof(url), "%s/v1/keys/%s/release", base, key_name);
	if ((rc = ppml_httpc_request("POST", url, "application/json", body, strlen(body), &ho, &r,
				     err)) != PPML_OK)
		goto out;
	*status = r.status;
	json_decref(j);
	j = json_loadb((const char *)r.body, r.len, 0, NULL);
	const char *result = json_string_value(json_object_get(j, "result"));
	if (r.status == 403 && result && !strcmp(result, "refused")) {
		json_t *reasons = json_object_get(j, "reasons");
		const char *first = json_string_value(json_array_get(reasons, 0));
		rc = ppml_err_set(err, PPML_E_REFUSED, "the key service refused the release of %s: %s",
				  key_name, first ? first : "no reason given");
		goto out;
	}
	if (r.status != 200 || !result || strcmp(result, "released") != 0) {
		const char *m = json_string_value(json_object_get(json_object_get(j, "error"),
								  "message"));
		rc = ppml_err_set(err, PPML_E_IO, "POST %s: HTTP %ld: %s", url, r.status,
				  m ? m : "no release in the answer");
		goto out;
	}
	uint8_t enc[80], ct[80];
	size_t encl = 0, ctl = 0;
	if (!unb64(j, "enc", enc, sizeof(enc), &encl) || encl != 65 ||
	    !unb64(j, "ciphertext", ct, sizeof(ct), &ctl) || ctl != w.key_len + 16) {
		rc = ppml_err_set(err, PPML_E_IO, "POST %s: malformed release answer", url);
		goto out;
	}
	if ((rc = ppml_release_open(eph, key_name, w.version, nonce, nl, enc, ct, ctl, dk, err)) !=
	    PPML_OK)
		goto out;
	*dk_len = w.key_len;
out:
	if (response && j) {
		*response = j;
		j = NULL;
	}
	EVP_PKEY_free(eph);
	ppml_httpc_resp_free(&r);
	json_decref(j);
	json_decref(req);
	free(body);
	free(qb);
	free(wb);
	free(eb);
	free(quote);
	return rc;
}

ppml_status ppml_client_release(const struct ppml_attest_opts *o, const char *key_name,
				const uint8_t *wrapped, size_t wrapped_len, uint8_t dk[32],
				size_t *dk_len, json_t **response, struct ppml_err *err)
{
	for (int tries = 1;; tries++) {
		long status = 0;
		json_t *answer = NULL;
		ppml_status rc = release_once(o, key_name, wrapped, wrapped_len, dk, dk_len, &answer,
					      &status, err);
		if (!client_retry(rc, status, rc == PPML_E_REFUSED ? answer : NULL, tries)) {
			if (response)
				*response = answer;
			else
				json_decref(answer);
			return rc;
		}
		json_decref(answer);
	}
}
