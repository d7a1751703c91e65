/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP(S) request with libcurl (include/ppml/httpc.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "ppml/buf.h"
#include "ppml/httpc.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static CURLcode init_rc = CURLE_FAILED_INIT;

static void init(void)
{
	init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
	struct ppml_buf b;
	size_t max;
	bool over;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	if (s->b.len + n > s->max) {
		s->over = true;
		return 0;
	}
	return ppml_buf_append(&s->b, p, n) == PPML_OK ? n : 0;
}

void ppml_httpc_resp_free(struct ppml_httpc_resp *r)
{
	if (!r)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

ppml_status ppml_httpc_request(const char *method, const char *url, const char *content_type,
			       const void *body, size_t body_len, const struct ppml_httpc_opts *o,
			       struct ppml_httpc_resp *out, struct ppml_err *err)
{
	struct sink s = {.max = o && o->max_response ? o->max_response : 4u << 20};
	struct curl_slist *h = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", hdr[600];
	CURL *c = NULL;
	ppml_status rc = PPML_OK;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return ppml_err_set(err, PPML_E_INPUT, "URL '%s': expected https:// (or http:// "
				    "for a local test service)", url);
	pthread_once(&once, init);
	if (init_rc != CURLE_OK || !(c = curl_easy_init()))
		return ppml_err_set(err, PPML_E_INTERNAL, "libcurl initialisation failed");
	if (content_type) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s", content_type);
		h = curl_slist_append(h, hdr);
	}
	if (o && o->bearer) {
		if (strpbrk(o->bearer, "\r\n")) {
			rc = ppml_err_set(err, PPML_E_INPUT, "credential: must be one line");
			goto out;
		}
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", o->bearer);
		h = curl_slist_append(h, hdr);
		OPENSSL_cleanse(hdr, sizeof(hdr));
	}
	h = curl_slist_append(h, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o && o->timeout_ms ? o->timeout_ms : 30000L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o && o->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ppml/" PPML_VERSION);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	CURLcode cc = curl_easy_perform(c);
	if (s.over) {
		rc = ppml_err_set(err, PPML_E_LIMIT, "%s %s: the response is over %zu bytes", method,
				  url, s.max);
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = ppml_err_set(err, PPML_E_IO, "%s %s: %s; check the URL, that the service is "
				  "up%s", method, url, errbuf[0] ? errbuf : curl_easy_strerror(cc),
				  strncmp(url, "https", 5) == 0
					  ? " and that its certificate is trusted (--cacert)" : "");
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	if (ppml_buf_append(&s.b, "", 1) != PPML_OK) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	size_t n = 0;
	out->body = ppml_buf_steal(&s.b, &n);
	out->len = n - 1;
out:
	ppml_buf_free(&s.b);
	/* The Authorization header holds the credential: wipe our copies
	 * (libcurl's internal request buffer is beyond our reach). */
	for (struct curl_slist *i = h; i; i = i->next)
		OPENSSL_cleanse(i->data, strlen(i->data));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}
