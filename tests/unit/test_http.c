/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP layer (ppml/http.h) on loopback, driven by libcurl: routing and
 * captures, 404/405, body caps before the body is read (Content-Length and
 * chunked), credential checks before the body, JSON errors, TLS 1.2/1.3
 * with a generated certificate, and concurrent clients.
 */
#include <pthread.h>
#include <stdatomic.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "harness.h"
#include "ppml/http.h"

static atomic_int handled, auth_freed;

static void h_echo(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	(void)ctx;
	atomic_fetch_add(&handled, 1);
	const char *q = ppml_http_query(r, "x");
	resp->status = 200;
	resp->json = json_pack("{s:s, s:s, s:s?, s:I, s:s%, s:s?}", "method", r->method, "name",
			       r->n_params ? r->params[0] : "", "x", q, "len",
			       (json_int_t)r->body_len, "body", (const char *)r->body, r->body_len,
			       "auth", (const char *)r->auth);
}

static void h_text(void *ctx, struct ppml_http_req *r, struct ppml_http_resp *resp)
{
	(void)ctx;
	(void)r;
	resp->status = 200;
	resp->text = strdup("metric_a 1\n");
	resp->text_len = strlen(resp->text);
	resp->content_type = "text/plain; version=0.0.4";
}

static bool authz(void *ctx, const struct ppml_http_req *r, const char *role, void **auth,
		  unsigned *status, char *why, size_t why_len)
{
	(void)ctx;
	if (!r->bearer) {
		*status = 401;
		snprintf(why, why_len, "no credential");
		return false;
	}
	if (strcmp(r->bearer, "good") != 0) {
		*status = 403;
		snprintf(why, why_len, "credential lacks role %s", role);
		return false;
	}
	*auth = strdup("admin-1");
	return true;
}

static void auth_free_cb(void *ctx, void *auth)
{
	(void)ctx;
	atomic_fetch_add(&auth_freed, 1);
	free(auth);
}

static const struct ppml_http_route routes[] = {
	{"GET", "/v1/echo/{}", 0, NULL, h_echo},
	{"POST", "/v1/echo/{}", 1024, NULL, h_echo},
	{"PUT", "/v1/admin/{}", 4096, "admin", h_echo},
	{"GET", "/metrics", 0, NULL, h_text},
};

struct reply {
	long status;
	char body[8192];
	size_t len;
	char type[128];
};

static size_t on_data(char *p, size_t sz, size_t n, void *u)
{
	struct reply *r = u;
	size_t k = sz * n;
	if (k > sizeof(r->body) - 1 - r->len)
		k = sizeof(r->body) - 1 - r->len;
	memcpy(r->body + r->len, p, k);
	r->len += k;
	r->body[r->len] = 0;
	return sz * n;
}

static char base_url[128];
static const char *ca_pem; /* for TLS requests */

/* One request; body NULL for none; chunked sends without Content-Length. */
static CURLcode req(const char *method, const char *path, const char *body, size_t body_len,
		    const char *bearer, bool chunked, long tls_max, struct reply *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[512], auth[256];
	CURLcode rc;
	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s%s", base_url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		h = curl_slist_append(h, auth);
	}
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
		if (chunked)
			h = curl_slist_append(h, "Transfer-Encoding: chunked");
	}
	if (ca_pem) {
		struct curl_blob blob = {(void *)ca_pem, strlen(ca_pem), CURL_BLOB_COPY};
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
		if (tls_max)
			curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2 | tls_max);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	char *ct = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if (ct)
		snprintf(out->type, sizeof(out->type), "%s", ct);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

static const char *err_code(const struct reply *r)
{
	static __thread char code[64];
	json_t *o = json_loads(r->body, 0, NULL);
	const char *s = json_string_value(json_object_get(json_object_get(o, "error"), "code"));
	snprintf(code, sizeof(code), "%s", s ? s : "(none)");
	json_decref(o);
	return code;
}

static struct ppml_http_server *start(const char *cert, const char *key)
{
	struct ppml_http_options o = {.listen = "127.0.0.1:0", .routes = routes,
				      .n_routes = sizeof(routes) / sizeof(routes[0]),
				      .authorize = authz, .auth_free = auth_free_cb,
				      .tls_cert_pem = cert, .tls_key_pem = key, .threads = 4};
	struct ppml_http_server *s = NULL;
	struct ppml_err err = {0};
	if (ppml_http_start(&o, &s, &err) != PPML_OK) {
		fprintf(stderr, "start: %s\n", err.msg);
		return NULL;
	}
	snprintf(base_url, sizeof(base_url), "%s://127.0.0.1:%u", cert ? "https" : "http",
		 ppml_http_port(s));
	return s;
}

TEST(routes_captures_and_errors)
{
	struct reply r;
	struct ppml_http_server *s = start(NULL, NULL);
	REQUIRE(s && ppml_http_port(s) > 0);
	CHECK(req("GET", "/v1/echo/model-1.v2?x=a%20b", NULL, 0, NULL, false, 0, &r) == CURLE_OK);
	CHECK(r.status == 200);
	json_t *o = json_loads(r.body, 0, NULL);
	CHECK(o && strcmp(json_string_value(json_object_get(o, "name")), "model-1.v2") == 0);
	CHECK(o && strcmp(json_string_value(json_object_get(o, "x")), "a b") == 0);
	CHECK(strcmp(r.type, "application/json") == 0);
	json_decref(o);
	CHECK(req("GET", "/v1/nothing", NULL, 0, NULL, false, 0, &r) == CURLE_OK);
	CHECK(r.status == 404 && strcmp(err_code(&r), "not_found") == 0);
	CHECK(req("DELETE", "/v1/echo/a", NULL, 0, NULL, false, 0, &r) == CURLE_OK);
	CHECK(r.status == 405 && strcmp(err_code(&r), "method_not_allowed") == 0);
	/* Segments outside [A-Za-z0-9._:-] or empty do not match. */
	CHECK(req("GET", "/v1/echo/a%2Fb", NULL, 0, NULL, false, 0, &r) == CURLE_OK);
	CHECK(r.status == 404);
	CHECK(req("GET", "/v1/echo/", NULL, 0, NULL, false, 0, &r) == CURLE_OK);
	CHECK(r.status == 404);
	CHECK(req("GET", "/metrics", NULL, 0, NULL, false, 0, &r) == CURLE_OK);
	CHECK(r.status == 200 && strcmp(r.body, "metric_a 1\n") == 0 &&
	      strncmp(r.type, "text/plain", 10) == 0);
	ppml_http_stop(s);
}

TEST(body_caps_before_reading)
{
	struct reply r;
	static char big[4096];
	memset(big, 'a', sizeof(big));
	struct ppml_http_server *s = start(NULL, NULL);
	REQUIRE(s);
	int before = atomic_load(&handled);
	CHECK(req("POST", "/v1/echo/x", big, 1024, NULL, false, 0, &r) == CURLE_OK);
	CHECK(r.status == 200);
	json_t *o = json_loads(r.body, 0, NULL);
	CHECK(json_integer_value(json_object_get(o, "len")) == 1024);
	json_decref(o);
	CHECK(req("POST", "/v1/echo/x", big, 1025, NULL, false, 0, &r) == CURLE_OK);
	CHECK(r.status == 413 && strcmp(err_code(&r), "body_too_large") == 0);
	CHECK(req("POST", "/v1/echo/x", big, 4096, NULL, true, 0, &r) == CURLE_OK);
	CHECK(r.status == 413);
	CHECK(req("POST", "/v1/echo/x", big, 10, NULL, true, 0, &r) == CURLE_OK);
	CHECK(r.status == 200);
	/* A body on a route that takes none. */
	CHECK(req("GET", "/v1/echo/x", big, 1, NULL, false, 0, &r) == CURLE_OK);
	CHECK(r.status == 413);
	CHECK(atomic_load(&handled) == before + 2);
	ppml_http_stop(s);
}

TEST(credentials_before_body)
{
	struct reply r;
	struct ppml_http_server *s = start(NULL, NULL);
	REQUIRE(s);
	int before = atomic_load(&handled), freed = atomic_load(&auth_freed);
	CHECK(req("PUT", "/v1/admin/p1", "{}", 2, NULL, false, 0, &r) == CURLE_OK);
	CHECK(r.status == 401 && strcmp(err_code(&r), "unauthorized") == 0);
	CHECK(req("PUT", "/v1/admin/p1", "{}", 2, "other", false, 0, &r) == CURLE_OK);
	CHECK(r.status == 403 && strcmp(err_code(&r), "forbidden") == 0);
	CHECK(atomic_load(&handled) == before);
	CHECK(req("PUT", "/v1/admin/p1", "{}", 2, "good", false, 0, &r) == CURLE_OK);
	CHECK(r.status == 200);
	json_t *o = json_loads(r.body, 0, NULL);
	CHECK(o && strcmp(json_string_value(json_object_get(o, "auth")), "admin-1") == 0);
	json_decref(o);
	ppml_http_stop(s);
	CHECK(atomic_load(&auth_freed) == freed + 1);
}

static void *client(void *arg)
{
	long bad = 0;
	(void)arg;
	for (int i = 0; i < 50; i++) {
		struct reply r;
		char path[64], body[32];
		snprintf(path, sizeof(path), "/v1/echo/t%d", i);
		snprintf(body, sizeof(body), "n=%d", i);
		if (req("POST", path, body, strlen(body), NULL, false, 0, &r) != CURLE_OK ||
		    r.status != 200 || !strstr(r.body, body))
			bad++;
	}
	return (void *)bad;
}

TEST(concurrent_clients)
{
	struct ppml_http_server *s = start(NULL, NULL);
	pthread_t t[8];
	long bad = 0;
	REQUIRE(s);
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, client, NULL);
	for (int i = 0; i < 8; i++) {
		void *b;
		pthread_join(t[i], &b);
		bad += (long)b;
	}
	CHECKF(bad == 0, "%ld of 400 concurrent requests failed", bad);
	ppml_http_stop(s);
}

static char *pem_of(EVP_PKEY *k, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out;
	if (x)
		PEM_write_bio_X509(b, x);
	else
		PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	long n = BIO_get_mem_data(b, &p);
	out = strndup(p, (size_t)n);
	BIO_free(b);
	return out;
}

TEST(tls_12_and_13)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	REQUIRE(k && x);
	X509_set_version(x, X509_VERSION_3);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1,
				   -1, 0);
	X509_set_issuer_name(x, n);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	REQUIRE(X509_sign(x, k, EVP_sha256()) > 0);
	char *cert = pem_of(NULL, x), *key = pem_of(k, NULL);
	struct ppml_http_server *s = start(cert, key);
	struct reply r;
	REQUIRE(s);
	ca_pem = cert;
	CHECK(req("GET", "/v1/echo/tls", NULL, 0, NULL, false, CURL_SSLVERSION_MAX_TLSv1_2, &r) ==
	      CURLE_OK);
	CHECK(r.status == 200);
	CHECK(req("GET", "/v1/echo/tls", NULL, 0, NULL, false, CURL_SSLVERSION_MAX_TLSv1_3, &r) ==
	      CURLE_OK);
	CHECK(r.status == 200);
	/* Without the CA, the client refuses the server. */
	ca_pem = NULL;
	CHECK(req("GET", "/v1/echo/tls", NULL, 0, NULL, false, 0, &r) != CURLE_OK);
	/* Plain HTTP to the TLS port gets no answer. */
	char url[128];
	snprintf(url, sizeof(url), "%s", base_url);
	snprintf(base_url, sizeof(base_url), "http://%s", url + 8);
	CHECK(req("GET", "/v1/echo/tls", NULL, 0, NULL, false, 0, &r) != CURLE_OK || r.status == 0 ||
	      r.status == 400);
	ppml_http_stop(s);
	/* A key that does not load: the start fails with a message. */
	struct ppml_http_options o = {.listen = "127.0.0.1:0", .routes = routes, .n_routes = 1,
				      .tls_cert_pem = cert, .tls_key_pem = "not a key"};
	struct ppml_err err = {0};
	CHECK(ppml_http_start(&o, &s, &err) == PPML_E_IO && strstr(err.msg, "TLS"));
	OPENSSL_cleanse(key, strlen(key));
	free(key);
	free(cert);
	X509_free(x);
	EVP_PKEY_free(k);
}

TEST(listen_addresses)
{
	struct ppml_http_options o = {.routes = routes, .n_routes = 1};
	struct ppml_http_server *s = NULL, *s2 = NULL;
	struct ppml_err err = {0};
	const char *bad[] = {"", "127.0.0.1", "localhost:80", "127.0.0.1:99999", "[::1]80",
			     "1.2.3:80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.listen = bad[i];
		CHECKF(ppml_http_start(&o, &s, &err) == PPML_E_INPUT, "'%s' accepted", bad[i]);
	}
	o.listen = "[::1]:0";
	if (ppml_http_start(&o, &s, &err) == PPML_OK) { /* IPv6 loopback may be absent */
		CHECK(ppml_http_port(s) > 0);
		ppml_http_stop(s);
	}
	o.listen = "127.0.0.1:0";
	REQUIRE(ppml_http_start(&o, &s, &err) == PPML_OK);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ppml_http_port(s));
	o.listen = addr;
	CHECK(ppml_http_start(&o, &s2, &err) == PPML_E_IO && strstr(err.msg, addr));
	ppml_http_stop(s2);
	ppml_http_stop(s);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	RUN(routes_captures_and_errors);
	RUN(body_caps_before_reading);
	RUN(credentials_before_body);
	RUN(concurrent_clients);
	RUN(tls_12_and_13);
	RUN(listen_addresses);
	curl_global_cleanup();
	HARNESS_EXIT();
}
