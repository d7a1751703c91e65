/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PCS / PCCS v4 client (shared/spec/dcap-quote-verification.md
 * section 5).  libcurl is confined to this folder.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ppml/buf.h"
#include "ppml/hex.h"
#include "ppml/limits.h"
#include "ppml/pccs.h"

struct ppml_pccs_client {
	char *base;          /* without a trailing '/' */
	char *cacert;
	char *api_key_header; /* "Ocp-Apim-Subscription-Key: ..." or NULL */
	long timeout_ms;
	size_t max_response;
};

const char *ppml_pck_ca_name(enum ppml_pck_ca ca)
{
	return ca == PPML_PCK_CA_PLATFORM ? "platform" : "processor";
}

bool ppml_pck_ca_from_name(const char *name, enum ppml_pck_ca *out)
{
	if (strcmp(name, "processor") == 0)
		*out = PPML_PCK_CA_PROCESSOR;
	else if (strcmp(name, "platform") == 0)
		*out = PPML_PCK_CA_PLATFORM;
	else
		return false;
	return true;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	/* Not thread-safe in itself: run exactly once, before any handle. */
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

ppml_status ppml_pccs_client_new(const char *base_url, const struct ppml_pccs_options *opt,
				 struct ppml_pccs_client **out, struct ppml_err *err)
{
	struct ppml_pccs_client *c = NULL;
	size_t n = strlen(base_url);

	*out = NULL;
	if (strncmp(base_url, "https://", 8) != 0 && strncmp(base_url, "http://", 7) != 0)
		return ppml_err_set(err, PPML_E_INPUT,
				    "PCCS URL '%s': expected https://HOST[:PORT][/PREFIX] "
				    "(or http:// for a local test server)", base_url);
	if (strpbrk(base_url, "?#") || strpbrk(base_url, " \t\r\n"))
		return ppml_err_set(err, PPML_E_INPUT,
				    "PCCS URL '%s': must not hold a query, fragment or white space "
				    "(the /sgx/certification/v4/... paths are added)", base_url);
	if (n > 2048)
		return ppml_err_set(err, PPML_E_LIMIT, "PCCS URL: longer than 2048 bytes");
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return ppml_err_set(err, PPML_E_INTERNAL, "libcurl initialisation failed: %s",
				    curl_easy_strerror(curl_init_rc));
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	c->base = strndup(base_url, n);
	if (!c->base)
		goto nomem;
	c->timeout_ms = opt && opt->timeout_ms > 0 ? opt->timeout_ms : PPML_PCCS_DEFAULT_TIMEOUT_MS;
	c->max_response = opt && opt->max_response ? opt->max_response : PPML_COLLATERAL_MAX_FILE;
	if (opt && opt->cacert && !(c->cacert = strdup(opt->cacert)))
		goto nomem;
	if (opt && opt->api_key) {
		struct ppml_buf b = {0};
		if (strpbrk(opt->api_key, "\r\n")) {
			ppml_pccs_client_free(c);
			return ppml_err_set(err, PPML_E_INPUT, "PCCS API key: must be one line");
		}
		if (ppml_buf_printf(&b, "Ocp-Apim-Subscription-Key: %s", opt->api_key) != PPML_OK)
			goto nomem;
		c->api_key_header = (char *)ppml_buf_steal(&b, &n);
	}
	*out = c;
	return PPML_OK;
nomem:
	ppml_pccs_client_free(c);
	return ppml_err_set(err, PPML_E_NOMEM, "PCCS client: out of memory");
}

void ppml_pccs_client_free(struct ppml_pccs_client *c)
{
	if (!c)
		return;
	free(c->base);
	free(c->cacert);
	if (c->api_key_header) {
		memset(c->api_key_header, 0, strlen(c->api_key_header));
		free(c->api_key_header);
	}
	free(c);
}

ppml_status ppml_pccs_percent_decode(const char *in, size_t len, uint8_t **out, size_t *out_len,
				     struct ppml_err *err)
{
	uint8_t *o = malloc(len + 1);
	size_t n = 0;

	*out = NULL;
	*out_len = 0;
	if (!o)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '%') {
			o[n++] = (uint8_t)in[i];
			continue;
		}
		int hi = len - i >= 3 ? ppml_hex_digit(in[i + 1]) : -1;
		int lo = len - i >= 3 ? ppml_hex_digit(in[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			free(o);
			return ppml_err_set(err, PPML_E_INPUT,
					    "percent-encoding: '%%' at byte %zu is not followed by "
					    "two hex digits", i);
		}
		o[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	o[n] = 0;
	*out = o;
	*out_len = n;
	return PPML_OK;
}

/* ---- one GET ---- */

struct response {
	struct ppml_buf body;
	size_t max_body;
	bool body_over;
	const char *const *want;    /* header names, in order of preference */
	size_t n_want;
	char *hdr[2];               /* raw value per wanted name */
	bool hdr_over;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct response *r = ud;
	size_t n = size * nmemb;
	if (r->body.len + n > r->max_body) {
		r->body_over = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (ppml_buf_append(&r->body, p, n) != PPML_OK)
		return 0;
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct response *r = ud;
	size_t n = size * nmemb, k, vlen;
	const char *colon, *v;

	/* A new status line (after 100 Continue, say): forget earlier headers. */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		for (size_t i = 0; i < r->n_want; i++) {
			free(r->hdr[i]);
			r->hdr[i] = NULL;
		}
		return n;
	}
	colon = memchr(p, ':', n);
	if (!colon)
		return n;
	k = (size_t)(colon - p);
	for (size_t i = 0; i < r->n_want; i++) {
		if (strlen(r->want[i]) != k || strncasecmp(p, r->want[i], k) != 0)
			continue;
		v = colon + 1;
		vlen = n - k - 1;
		while (vlen && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ' ||
				v[vlen - 1] == '\t'))
			vlen--;
		/* Percent-encoding at most triples a chain. */
		if (vlen > 3 * PPML_PCCS_MAX_HEADER) {
			r->hdr_over = true;
			return n;
		}
		free(r->hdr[i]);
		r->hdr[i] = strndup(v, vlen);
		if (!r->hdr[i])
			return 0;
	}
	return n;
}

static void response_cleanup(struct response *r)
{
	ppml_buf_free(&r->body);
	for (size_t i = 0; i < 2; i++)
		free(r->hdr[i]);
}

/* A short printable excerpt of a body for error messages. */
static void excerpt(const struct ppml_buf *b, char out[121])
{
	size_t n = 0;
	for (size_t i = 0; i < b->len && n < 120; i++) {
		uint8_t ch = b->data[i];
		out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
	}
	out[n] = 0;
}

/* GET base+path; on PPML_OK r->body holds a 200 response's body. */
static ppml_status http_get(struct ppml_pccs_client *c, const char *path, struct response *r,
			    struct ppml_err *err)
{
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL;
	struct ppml_buf url = {0};
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;
	ppml_status rc;

	if (ppml_buf_printf(&url, "%s%s", c->base, path) != PPML_OK)
		return ppml_err_set(err, PPML_E_NOMEM, "GET %s: out of memory", path);
	h = curl_easy_init();
	if (!h) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "GET %s: libcurl could not make a handle", path);
		goto out;
	}
	if (c->api_key_header && !(hdrs = curl_slist_append(NULL, c->api_key_header))) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "GET %s: out of memory", path);
		goto out;
	}
	if (curl_easy_setopt(h, CURLOPT_URL, (char *)url.data) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    (c->cacert && curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert) != CURLE_OK) ||
	    (hdrs && curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK) ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, r) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HEADERDATA, r) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, "ppml/" PPML_VERSION) != CURLE_OK) {
		rc = ppml_err_set(err, PPML_E_INTERNAL, "GET %s: libcurl refused an option", path);
		goto out;
	}
	cc = curl_easy_perform(h);
	if (r->body_over) {
		rc = ppml_err_set(err, PPML_E_LIMIT,
				  "GET %s: the response is over the limit of %zu bytes; check that "
				  "the URL is a PCCS", path, r->max_body);
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = ppml_err_set(err, PPML_E_IO,
				  "GET %s from %s: %s; check the PCCS URL, that the service is up%s",
				  path, c->base, errbuf[0] ? errbuf : curl_easy_strerror(cc),
				  strncmp(c->base, "https", 5) == 0
					  ? " and that its certificate is trusted (--cacert)" : "");
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		char ex[121];
		excerpt(&r->body, ex);
		rc = ppml_err_set(err, status == 404 ? PPML_E_NOTFOUND : PPML_E_IO,
				  "GET %s: HTTP %ld from %s%s%s; %s", path, status, c->base,
				  ex[0] ? ": " : "", ex,
				  status == 404 ? "check the FMSPC / CA and that the PCCS caches "
						  "collateral for this platform"
				  : status == 401 || status == 403
					  ? "check the API key"
					  : "check the PCCS URL and the service's log");
		goto out;
	}
	if (r->hdr_over) {
		rc = ppml_err_set(err, PPML_E_LIMIT,
				  "GET %s: an issuer-chain header is over %u bytes", path,
				  PPML_PCCS_MAX_HEADER);
		goto out;
	}
	rc = PPML_OK;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	ppml_buf_free(&url);
	return rc;
}

/* The first wanted header present, percent-decoded, that looks like a PEM chain. */
static ppml_status take_chain(const char *path, struct response *r, uint8_t **chain,
			      size_t *chain_len, struct ppml_err *err)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	ppml_status rc;
	for (size_t i = 0; i < r->n_want; i++) {
		if (!r->hdr[i])
			continue;
		rc = ppml_pccs_percent_decode(r->hdr[i], strlen(r->hdr[i]), chain, chain_len, err);
		if (rc != PPML_OK) {
			ppml_err_prefix(err, "GET %s: header %s: ", path, r->want[i]);
			return rc;
		}
		if (*chain_len > PPML_PCCS_MAX_HEADER ||
		    *chain_len < sizeof(begin) - 1 || memcmp(*chain, begin, sizeof(begin) - 1) != 0) {
			free(*chain);
			*chain = NULL;
			*chain_len = 0;
			return ppml_err_set(err, PPML_E_INPUT,
					    "GET %s: header %s is not a PEM certificate chain; check "
					    "that the URL is a PCCS", path, r->want[i]);
		}
		return PPML_OK;
	}
	return ppml_err_set(err, PPML_E_INPUT,
			    "GET %s: the response has no %s header; check that the URL is a PCCS "
			    "speaking API v4", path, r->want[0]);
}

/* The body must be a JSON object holding object `key` (tcbInfo / enclaveIdentity). */
static ppml_status check_json(const char *path, const struct ppml_buf *b, const char *key,
			      struct ppml_err *err)
{
	json_error_t je;
	json_t *o;
	bool ok;
	if (b->len > PPML_COLLATERAL_MAX_JSON)
		return ppml_err_set(err, PPML_E_LIMIT, "GET %s: %zu bytes of JSON is over %u", path,
				    b->len, PPML_COLLATERAL_MAX_JSON);
	o = json_loadb((const char *)b->data, b->len, JSON_REJECT_DUPLICATES, &je);
	ok = o && json_is_object(json_object_get(o, key));
	json_decref(o);
	if (!ok)
		return ppml_err_set(err, PPML_E_INPUT,
				    "GET %s: the body is not a JSON object with \"%s\"%s%s; check "
				    "that the URL is a PCCS speaking API v4", path, key,
				    o ? "" : ": ", o ? "" : je.text);
	return PPML_OK;
}

static ppml_status fetch_json(struct ppml_pccs_client *c, const char *path, const char *key,
			      const char *const *want, size_t n_want, uint8_t **body,
			      size_t *body_len, uint8_t **chain, size_t *chain_len,
			      struct ppml_err *err)
{
	struct response r = {.max_body = c->max_response, .want = want, .n_want = n_want};
	ppml_status rc;

	*body = *chain = NULL;
	*body_len = *chain_len = 0;
	rc = http_get(c, path, &r, err);
	if (rc == PPML_OK)
		rc = check_json(path, &r.body, key, err);
	if (rc == PPML_OK)
		rc = take_chain(path, &r, chain, chain_len, err);
	if (rc == PPML_OK)
		*body = ppml_buf_steal(&r.body, body_len); /* non-empty: check_json parsed it */
	response_cleanup(&r);
	return rc;
}

ppml_status ppml_pccs_fetch_tcb_info(struct ppml_pccs_client *c, const uint8_t fmspc[6],
				     uint8_t **body, size_t *body_len, uint8_t **chain,
				     size_t *chain_len, struct ppml_err *err)
{
	static const char *const want[] = {"TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"};
	char hex[13], path[64];
	ppml_hex_encode(fmspc, 6, hex);
	snprintf(path, sizeof(path), "/sgx/certification/v4/tcb?fmspc=%s", hex);
	return fetch_json(c, path, "tcbInfo", want, 2, body, body_len, chain, chain_len, err);
}

ppml_status ppml_pccs_fetch_qe_identity(struct ppml_pccs_client *c, uint8_t **body,
					size_t *body_len, uint8_t **chain, size_t *chain_len,
					struct ppml_err *err)
{
	static const char *const want[] = {"SGX-Enclave-Identity-Issuer-Chain"};
	return fetch_json(c, "/sgx/certification/v4/qe/identity", "enclaveIdentity", want, 1,
			  body, body_len, chain, chain_len, err);
}

static ppml_status fetch_crl(struct ppml_pccs_client *c, const char *path, const char *want,
			     uint8_t **der, size_t *der_len, uint8_t **chain, size_t *chain_len,
			     struct ppml_err *err)
{
	const char *const w[] = {want};
	struct response r = {.max_body = c->max_response, .want = w, .n_want = want ? 1 : 0};
	ppml_status rc;

	*der = NULL;
	*der_len = 0;
	if (chain) {
		*chain = NULL;
		*chain_len = 0;
	}
	rc = http_get(c, path, &r, err);
	if (rc == PPML_OK) {
		rc = ppml_crl_to_der(r.body.data, r.body.len, der, der_len, err);
		if (rc != PPML_OK)
			ppml_err_prefix(err, "GET %s: ", path);
	}
	if (rc == PPML_OK && chain) {
		rc = take_chain(path, &r, chain, chain_len, err);
		if (rc != PPML_OK) {
			free(*der);
			*der = NULL;
			*der_len = 0;
		}
	}
	response_cleanup(&r);
	return rc;
}

ppml_status ppml_pccs_fetch_pck_crl(struct ppml_pccs_client *c, enum ppml_pck_ca ca,
				    uint8_t **der, size_t *der_len, uint8_t **chain,
				    size_t *chain_len, struct ppml_err *err)
{
	char path[80];
	snprintf(path, sizeof(path), "/sgx/certification/v4/pckcrl?ca=%s&encoding=der",
		 ppml_pck_ca_name(ca));
	return fetch_crl(c, path, "SGX-PCK-CRL-Issuer-Chain", der, der_len, chain, chain_len, err);
}

ppml_status ppml_pccs_fetch_root_ca_crl(struct ppml_pccs_client *c, uint8_t **der,
					size_t *der_len, struct ppml_err *err)
{
	return fetch_crl(c, "/sgx/certification/v4/rootcacrl", NULL, der, der_len, NULL, NULL,
			 err);
}

ppml_status ppml_pccs_fetch_collateral(struct ppml_pccs_client *c, const uint8_t fmspc[6],
				       enum ppml_pck_ca ca, struct ppml_collateral *out,
				       struct ppml_err *err)
{
	struct ppml_collateral t = {0};
	ppml_status rc;

	memset(out, 0, sizeof(*out));
	rc = ppml_pccs_fetch_tcb_info(c, fmspc, &t.tcb_info, &t.tcb_info_len,
				      &t.tcb_info_issuer_chain, &t.tcb_info_issuer_chain_len, err);
	if (rc == PPML_OK)
		rc = ppml_pccs_fetch_qe_identity(c, &t.qe_identity, &t.qe_identity_len,
						 &t.qe_identity_issuer_chain,
						 &t.qe_identity_issuer_chain_len, err);
	if (rc == PPML_OK)
		rc = ppml_pccs_fetch_pck_crl(c, ca, &t.pck_crl, &t.pck_crl_len,
					     &t.pck_crl_issuer_chain, &t.pck_crl_issuer_chain_len,
					     err);
	if (rc == PPML_OK)
		rc = ppml_pccs_fetch_root_ca_crl(c, &t.root_ca_crl, &t.root_ca_crl_len, err);
	if (rc != PPML_OK) {
		ppml_collateral_cleanup(&t);
		return rc;
	}
	*out = t;
	return PPML_OK;
}
