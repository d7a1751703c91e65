/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_serve: attestations per second through `ppml serve` on loopback
 * (plain HTTP, SQLite in a temporary folder, simulated quotes), with p50/p99
 * latency, next to the in-process quote verification rate measured in the
 * same run (the ceiling: what the service could do with no HTTP, no nonce,
 * no policy and no database).  Clients and server share this machine's
 * cores; the client side (nonce request, quote signing) is counted as load.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "ppml/dcap.h"
#include "ppml/policy.h"
#include "ppml/serve.h"
#include "ppml/service.h"
#include "ppml/simpki.h"
#include "ppml/store.h"

static struct ppml_simpki *pki;
static char base[64];
static double run_s = 3.0;
static pthread_mutex_t pki_lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct buf {
	char d[16384];
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

static long post(CURL *c, const char *path, const char *body, struct buf *out)
{
	char url[128];
	long code = 0;
	out->n = 0;
	out->d[0] = 0;
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (curl_easy_perform(c) != CURLE_OK)
		return -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

struct worker {
	double *lat;
	size_t n, cap;
	unsigned long ok, bad;
};

static void *client(void *arg)
{
	struct worker *w = arg;
	CURL *c = curl_easy_init();
	struct buf b;
	char *body = malloc(256 * 1024);
	double end = now() + run_s;
	while (now() < end) {
		double t0 = now();
		if (post(c, "/v1/attest/nonce", "", &b) != 200) {
			w->bad++;
			continue;
		}
		json_t *j = json_loads(b.d, 0, NULL);
		const char *nb = json_string_value(json_object_get(j, "nonce"));
		uint8_t nonce[64];
		int nl = nb ? EVP_DecodeBlock(nonce, (const unsigned char *)nb, (int)strlen(nb)) : -1;
		struct ppml_sgx_report_body rb = {0};
		memset(rb.mrenclave, 0xab, 32);
		rb.attributes_flags = 0x05;
		if (nl >= 64)
			ppml_report_data_binding(PPML_BIND_ATTEST, nonce, 64, NULL, 0, rb.report_data);
		uint8_t *q = NULL;
		size_t ql = 0;
		pthread_mutex_lock(&pki_lock);
		ppml_status st = ppml_simpki_quote(pki, &rb, NULL, &q, &ql, NULL);
		pthread_mutex_unlock(&pki_lock);
		if (st != PPML_OK || nl < 64) {
			w->bad++;
			json_decref(j);
			free(q);
			continue;
		}
		char *qb = malloc(4 * ((ql + 2) / 3) + 1);
		EVP_EncodeBlock((unsigned char *)qb, q, (int)ql);
		snprintf(body, 256 * 1024, "{\"quote\":\"%s\",\"nonce\":\"%s\",\"policy\":\"bench\"}", qb,
			 nb);
		long code = post(c, "/v1/attest", body, &b);
		double dt = now() - t0;
		if (code == 200) {
			w->ok++;
			if (w->n == w->cap) {
				w->cap = w->cap ? w->cap * 2 : 4096;
				w->lat = realloc(w->lat, w->cap * sizeof(double));
			}
			w->lat[w->n++] = dt;
		} else {
			w->bad++;
		}
		free(qb);
		free(q);
		json_decref(j);
	}
	free(body);
	curl_easy_cleanup(c);
	return NULL;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/ppml-bench-serve-XXXXXX", admin[PPML_CREDENTIAL_LEN + 1], coll[128],
	     root[128], db[160];
	int clients = argc > 1 ? atoi(argv[1]) : 4;
	struct ppml_err err = {0};
	if (!mkdtemp(dir))
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(coll, sizeof(coll), "%s/collateral", dir);
	snprintf(root, sizeof(root), "%s/root.pem", dir);
	snprintf(db, sizeof(db), "sqlite:%s/state/ppml.db", dir);
	char state[128];
	snprintf(state, sizeof(state), "%s/state", dir);
	struct ppml_collateral c = {0};
	char *rp = NULL;
	size_t rl = 0;
	uint8_t *rder = NULL;
	size_t rdl = 0;
	FILE *f;
	if (ppml_simpki_new(NULL, &pki, &err) != PPML_OK ||
	    ppml_simpki_collateral(pki, NULL, &c, &err) != PPML_OK ||
	    ppml_collateral_save_dir(coll, &c, &err) != PPML_OK ||
	    ppml_simpki_root_pem(pki, &rp, &rl, &err) != PPML_OK || !(f = fopen(root, "w")) ||
	    fwrite(rp, 1, rl, f) != rl || fclose(f) != 0 ||
	    ppml_serve_init(state, NULL, NULL, admin, &err) != PPML_OK) {
		fprintf(stderr, "bench_serve: setup: %s\n", err.msg);
		return 1;
	}
	/* The policy, straight into the store. */
	char pol[256], *canon = NULL, sha[65];
	struct ppml_policy *p = NULL;
	struct ppml_store *s = NULL;
	uint32_t v;
	snprintf(pol, sizeof(pol), "identities = [{ mrenclave = \"%s\" }]\nallow_simulation = true\n",
		 "abababababababababababababababababababababababababababababababab");
	if (ppml_policy_parse(pol, strlen(pol), &p, &err) != PPML_OK ||
	    ppml_policy_canonical(p, &canon, sha, &err) != PPML_OK ||
	    ppml_store_open(db, &s, &err) != PPML_OK ||
	    ppml_store_policy_put(s, "bench", canon, sha, time(NULL), &v, &err) != PPML_OK) {
		fprintf(stderr, "bench_serve: policy: %s\n", err.msg);
		return 1;
	}
	ppml_store_close(s);
	const char *dirs[] = {coll};
	struct ppml_serve_config cfg = {.state_dir = state, .listen = "127.0.0.1:0",
					.insecure_http = true, .collateral_dirs = dirs,
					.n_collateral_dirs = 1, .sim_root_ca = root, .threads = 4};
	struct ppml_service *svc = NULL;
	if (ppml_serve_start(&cfg, &svc, &err) != PPML_OK) {
		fprintf(stderr, "bench_serve: start: %s\n", err.msg);
		return 1;
	}
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", ppml_serve_port(svc));

	/* The ceiling: in-process verification of one quote, warm cache. */
	struct ppml_dcap_verifier *ver = NULL;
	uint8_t *q = NULL;
	size_t ql = 0;
	struct ppml_sgx_report_body rb = {0};
	if (ppml_simpki_root_der(pki, &rder, &rdl, &err) != PPML_OK ||
	    ppml_dcap_verifier_new(rder, rdl, &ver, &err) != PPML_OK ||
	    ppml_simpki_quote(pki, &rb, NULL, &q, &ql, &err) != PPML_OK)
		return 1;
	unsigned long nv = 0;
	double t0 = now();
	while (now() - t0 < 1.0) {
		struct ppml_verdict vd = {0};
		if (ppml_dcap_verify(ver, q, ql, &c, time(NULL), &vd, NULL) != PPML_OK)
			return 1;
		ppml_verdict_cleanup(&vd);
		nv++;
	}
	double ceiling = (double)nv / (now() - t0);

	pthread_t th[64];
	struct worker w[64] = {0};
	if (clients < 1 || clients > 64)
		clients = 4;
	t0 = now();
	for (int i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, client, &w[i]);
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	double el = now() - t0;
	size_t total = 0;
	unsigned long ok = 0, bad = 0;
	for (int i = 0; i < clients; i++)
		total += w[i].n, ok += w[i].ok, bad += w[i].bad;
	double *all = malloc((total + 1) * sizeof(double));
	size_t k = 0;
	for (int i = 0; i < clients; i++) {
		memcpy(all + k, w[i].lat, w[i].n * sizeof(double));
		k += w[i].n;
		free(w[i].lat);
	}
	qsort(all, total, sizeof(double), cmpd);
	double rate = (double)ok / el;
	printf("\nattestation service on loopback (%d clients, %d server threads, SQLite, HTTP; "
	       "clients share the %ld cores)\n",
	       clients, 4, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  attest   %7.0f /s   p50 %6.2f ms   p99 %6.2f ms   (%lu accepted, %lu failed)\n",
	       rate, total ? all[total / 2] * 1e3 : 0, total ? all[total * 99 / 100] * 1e3 : 0, ok,
	       bad);
	printf("  ceiling  %7.0f /s   in-process quote verification (warm), one core\n", ceiling);
	printf("  ratio    %7.2f   of the one-core ceiling (each attestation also signs a token, "
	       "writes the nonce and the audit entry durably)\n",
	       rate / ceiling);
	free(all);
	ppml_serve_stop(svc);
	ppml_dcap_verifier_free(ver);
	ppml_collateral_cleanup(&c);
	ppml_simpki_free(pki);
	ppml_policy_free(p);
	free(canon);
	free(q);
	free(rp);
	free(rder);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return bad ? 1 : 0;
}
