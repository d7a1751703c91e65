/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serve-load: concurrent attestations, key releases and policy writes
 * against one or more `ppml serve` replicas, for tests/cli/test_replicas.sh.
 *
 *   serve-load --pki DIR --url URL [--url URL2] --jobs N --threads T
 *              --policy NAME [--release-key KEY --wrapped-datakey B64]
 *              [--policy-writes-every K --credential-file F --policy-body F]
 *              --acked FILE [--lb yes]
 *
 * Job i: every K-th a PUT /v1/policies/load-i; otherwise, alternately when
 * a key is given, an attestation or a key release.  The nonce comes from
 * one replica and the quote (simulated, from the PKI in DIR, REPORTDATA
 * bound to it) goes to the next, so every job crosses replicas.  A
 * connection error marks that replica dead; the job is then retried from
 * the start (a new nonce) on the live ones, as is a 503.  Every
 * acknowledged job is one line in FILE: "attest SHA256-OF-QUOTE",
 * "release SHA256-OF-QUOTE" or "policy NAME VERSION".  Prints one summary
 * line; exits 1 when a job failed after its retries.  With --lb yes the
 * one URL is a load balancer in front of the replicas: a connection error
 * is retried on it (the balancer skips a dead replica), never marks it dead.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "ppml/ec.h"
#include "ppml/hex.h"
#include "ppml/service.h"
#include "ppml/simpki.h"

#define MAX_URLS 4
#define MAX_TRIES 8

static struct ppml_simpki *pki;
static pthread_mutex_t pki_lock = PTHREAD_MUTEX_INITIALIZER, out_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *urls[MAX_URLS], *policy, *release_key, *wdk;
static char *bearer, *policy_body;
static int n_urls, jobs, every, lb;
static atomic_int next_job, alive[MAX_URLS], served[MAX_URLS], retries, failed, acked[3];
static uint8_t epk[65];
static char epk_b64[89];
static FILE *out;

struct buf {
	char d[65536];
	size_t n;
};

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	struct buf *b = u;
	size_t k = s * n;
	if (k > sizeof(b->d) - 1 - b->n)
		k = sizeof(b->d) - 1 - b->n;
	memcpy(b->d + b->n, p, k);
	b->n += k;
	b->d[b->n] = 0;
	return s * n;
}

/* -1: no HTTP answer (connection refused or reset, timeout). */
static long call(CURL *c, const char *method, const char *url, const char *path,
		 const char *body, bool admin, struct buf *b)
{
	char u[512];
	long code = 0;
	struct curl_slist *h = NULL;
	b->n = 0;
	b->d[0] = 0;
	snprintf(u, sizeof(u), "%s%s", url, path);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* Behind a balancer, one connection per request: the balancer spreads
	 * requests, not connections, and libcurl never silently resends a
	 * request on a kept-alive connection that died with the replica (the
	 * resent request would meet its nonce already consumed). */
	if (lb)
		curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	if (admin && (h = curl_slist_append(NULL, bearer)))
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	CURLcode rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK)
		return -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* A connection error: that replica is gone (not a load balancer: it is
 * not the replica that failed). */
static void mark_dead(int u)
{
	if (!lb)
		atomic_store(&alive[u], 0);
}

/* The k-th live replica from `from` on; -1 when none is left. */
static int pick(int from)
{
	for (int i = 0; i < n_urls; i++) {
		int u = (from + i) % n_urls;
		if (atomic_load(&alive[u]))
			return u;
	}
	return -1;
}

static void ack(const char *line)
{
	pthread_mutex_lock(&out_lock);
	fprintf(out, "%s\n", line);
	fflush(out);
	pthread_mutex_unlock(&out_lock);
}

/* One try of a job: 1 acknowledged, 0 refused for good, -1 retry. */
static int attempt(CURL *c, int job, int t, struct buf *b)
{
	char path[160], line[160];
	int a = pick(job + t), z;
	if (a < 0)
		return 0;
	if (every > 0 && job % every == every - 1) {
		snprintf(path, sizeof(path), "/v1/policies/load-%d", job);
		long code = call(c, "PUT", urls[a], path, policy_body, true, b);
		if (code < 0)
			mark_dead(a);
		if (code < 0 || code == 503)
			return -1;
		if (code != 201)
			return 0;
		json_t *j = json_loads(b->d, 0, NULL);
		snprintf(line, sizeof(line), "policy load-%d %lld", job,
			 (long long)json_integer_value(json_object_get(j, "version")));
		json_decref(j);
		ack(line);
		atomic_fetch_add(&served[a], 1);
		atomic_fetch_add(&acked[2], 1);
		return 1;
	}
	bool rel = release_key && job % 2;
	long code = call(c, "POST", urls[a], "/v1/attest/nonce", "", false, b);
	if (code < 0)
		mark_dead(a);
	if (code != 200)
		return code < 0 || code == 503 ? -1 : 0;
	json_t *j = json_loads(b->d, 0, NULL);
	const char *nb = json_string_value(json_object_get(j, "nonce"));
	uint8_t nonce[96];
	int nl = nb ? EVP_DecodeBlock(nonce, (const unsigned char *)nb, (int)strlen(nb)) : -1;
	struct ppml_sgx_report_body rb = {0};
	memset(rb.mrenclave, 0xab, 32);
	rb.attributes_flags = 0x05; /* INIT | MODE64BIT, not DEBUG */
	/* EVP_DecodeBlock counts the padding: the service's nonces are 64 bytes. */
	if (nl >= 64)
		ppml_report_data_binding(rel ? PPML_BIND_RELEASE : PPML_BIND_ATTEST, nonce, 64,
					 rel ? epk : NULL, rel ? 65 : 0, rb.report_data);
	uint8_t *q = NULL, qh[32];
	size_t ql = 0;
	pthread_mutex_lock(&pki_lock);
	ppml_status st = nl >= 64 ? ppml_simpki_quote(pki, &rb, NULL, &q, &ql, NULL) : PPML_E_INPUT;
	pthread_mutex_unlock(&pki_lock);
	if (st != PPML_OK) {
		json_decref(j);
		return 0;
	}
	EVP_Digest(q, ql, qh, NULL, EVP_sha256(), NULL);
	size_t bl = 4 * ((ql + 2) / 3) + 1;
	char *qb = malloc(bl), *body = malloc(bl + 4096);
	EVP_EncodeBlock((unsigned char *)qb, q, (int)ql);
	if (rel) {
		snprintf(body, bl + 4096,
			 "{\"quote\":\"%s\",\"nonce\":\"%s\",\"enclave_public_key\":\"%s\","
			 "\"wrapped_datakey\":\"%s\"}",
			 qb, nb, epk_b64, wdk);
		snprintf(path, sizeof(path), "/v1/keys/%s/release", release_key);
	} else {
		snprintf(body, bl + 4096, "{\"quote\":\"%s\",\"nonce\":\"%s\",\"policy\":\"%s\"}", qb,
			 nb, policy);
		snprintf(path, sizeof(path), "/v1/attest");
	}
	json_decref(j);
	free(qb);
	free(q);
	z = pick(a + 1);
	code = z < 0 ? -1 : call(c, "POST", urls[z], path, body, false, b);
	free(body);
	if (z >= 0 && code < 0)
		mark_dead(z);
	if (code < 0 || code == 503)
		return -1;
	j = json_loads(b->d, 0, NULL);
	const char *res = json_string_value(json_object_get(j, "result"));
	bool ok = code == 200 && res && !strcmp(res, rel ? "released" : "accepted");
	json_decref(j);
	if (!ok)
		return 0;
	char hx[65];
	ppml_hex_encode(qh, 32, hx);
	snprintf(line, sizeof(line), "%s %s", rel ? "release" : "attest", hx);
	ack(line);
	atomic_fetch_add(&served[z], 1);
	atomic_fetch_add(&acked[rel ? 1 : 0], 1);
	return 1;
}

static void *worker(void *arg)
{
	CURL *c = curl_easy_init();
	struct buf *b = malloc(sizeof(*b));
	(void)arg;
	for (int job; c && b && (job = atomic_fetch_add(&next_job, 1)) < jobs;) {
		int r = -1;
		for (int t = 0; t < MAX_TRIES && r < 0; t++) {
			if (t)
				atomic_fetch_add(&retries, 1);
			r = attempt(c, job, t, b);
		}
		if (r != 1) {
			atomic_fetch_add(&failed, 1);
			fprintf(stderr, "serve-load: job %d failed: %.300s\n", job, b->d);
		}
	}
	free(b);
	curl_easy_cleanup(c);
	return NULL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *d = f ? calloc(1, 1 << 20) : NULL;
	size_t n = d ? fread(d, 1, (1 << 20) - 1, f) : 0;
	if (f)
		fclose(f);
	while (d && n && (d[n - 1] == '\n' || d[n - 1] == '\r'))
		d[--n] = 0;
	return d;
}

int main(int argc, char **argv)
{
	const char *pki_dir = NULL, *acked_path = NULL, *cred = NULL, *body_path = NULL;
	int threads = 8;
	struct ppml_err err = {0};
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--pki"))
			pki_dir = v;
		else if (!strcmp(k, "--url") && n_urls < MAX_URLS)
			urls[n_urls++] = v;
		else if (!strcmp(k, "--jobs"))
			jobs = atoi(v);
		else if (!strcmp(k, "--threads"))
			threads = atoi(v);
		else if (!strcmp(k, "--policy"))
			policy = v;
		else if (!strcmp(k, "--release-key"))
			release_key = v;
		else if (!strcmp(k, "--wrapped-datakey"))
			wdk = v;
		else if (!strcmp(k, "--policy-writes-every"))
			every = atoi(v);
		else if (!strcmp(k, "--credential-file"))
			cred = v;
		else if (!strcmp(k, "--policy-body"))
			body_path = v;
		else if (!strcmp(k, "--acked"))
			acked_path = v;
		else if (!strcmp(k, "--lb"))
			lb = !strcmp(v, "yes");
		else {
			fprintf(stderr, "serve-load: unknown option %s\n", k);
			return 2;
		}
	}
	if (!pki_dir || !n_urls || jobs <= 0 || threads <= 0 || threads > 256 || !policy ||
	    !acked_path || (release_key && !wdk) || (every > 0 && (!cred || !body_path))) {
		fprintf(stderr, "serve-load: see the usage at the top of tests/tools/serve-load.c\n");
		return 2;
	}
	if (every > 0) {
		char *secret = slurp(cred);
		policy_body = slurp(body_path);
		if (!secret || !policy_body || asprintf(&bearer, "Authorization: Bearer %s", secret) < 0) {
			fprintf(stderr, "serve-load: cannot read %s or %s\n", cred, body_path);
			return 2;
		}
		free(secret);
	}
	if (ppml_simpki_load(pki_dir, &pki, &err) != PPML_OK) {
		fprintf(stderr, "serve-load: %s\n", err.msg);
		return 2;
	}
	EVP_PKEY *ek = ppml_ec_generate();
	if (!ek || !ppml_ec_to_raw(ek, epk + 1))
		return 2;
	epk[0] = 4; /* SEC1 uncompressed */
	EVP_EncodeBlock((unsigned char *)epk_b64, epk, 65);
	EVP_PKEY_free(ek);
	if (!(out = fopen(acked_path, "w")))
		return 2;
	for (int i = 0; i < n_urls; i++)
		alive[i] = 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_t th[256];
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	fclose(out);
	printf("serve-load: %d jobs: %d acknowledged (%d attest, %d release, %d policy), %d "
	       "retries, %d failed; served by",
	       jobs, acked[0] + acked[1] + acked[2], acked[0], acked[1], acked[2], retries, failed);
	for (int i = 0; i < n_urls; i++)
		printf("%s%d", i ? "/" : " ", served[i]);
	printf("\n");
	ppml_simpki_free(pki);
	free(bearer);
	free(policy_body);
	curl_global_cleanup();
	return failed ? 1 : 0;
}
