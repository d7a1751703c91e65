/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_replicas: attestations per second through `ppml serve` on loopback
 * with its state in SQLite (one replica: the default), in PostgreSQL (one
 * replica) and in PostgreSQL shared by two replicas (two services, one
 * database, the same keys; each attestation takes its nonce from one
 * replica and is verified by the other).  Printed as ratios: PostgreSQL
 * against SQLite, two replicas against one.
 *
 * usage: bench_replicas CLIENTS POSTGRESQL_URL
 * (bench/run starts a throwaway PostgreSQL for it.)  Each replica is a
 * process of its own (forked before any thread starts), with its own HTTP
 * server, threads and connection pool, as replicas are deployed; clients,
 * replicas and PostgreSQL share this machine's cores, so on a small machine
 * a second replica adds little: the ratio says how much.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ppml/dcap.h"
#include "ppml/limits.h"
#include "ppml/policy.h"
#include "ppml/serve.h"
#include "ppml/service.h"
#include "ppml/simpki.h"
#include "ppml/store.h"

#define MAX_REPLICAS 2
#define SERVER_THREADS 4

static struct ppml_simpki *pki;
static char bases[MAX_REPLICAS][64];
static int n_bases;
static double run_s = 3.0;
static atomic_uint turn;
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

static long post(CURL *c, const char *base, const char *path, const char *body, struct buf *out)
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
	while (c && body && now() < end) {
		double t0 = now();
		unsigned k = atomic_fetch_add(&turn, 1);
		const char *issuer = bases[k % (unsigned)n_bases];
		const char *verifier = bases[(k + 1) % (unsigned)n_bases];
		if (post(c, issuer, "/v1/attest/nonce", "", &b) != 200) {
			w->bad++;
			continue;
		}
		json_t *j = json_loads(b.d, 0, NULL);
		const char *nb = json_string_value(json_object_get(j, "nonce"));
		uint8_t nonce[96];
		int nl = nb ? EVP_DecodeBlock(nonce, (const unsigned char *)nb, (int)strlen(nb)) : -1;
		struct ppml_sgx_report_body rb = {0};
		memset(rb.mrenclave, 0xab, 32);
		rb.attributes_flags = 0x05;
		if (nl >= 64)
			ppml_report_data_binding(PPML_BIND_ATTEST, nonce, 64, NULL, 0, rb.report_data);
		uint8_t *q = NULL;
		size_t ql = 0;
		pthread_mutex_lock(&pki_lock);
		ppml_status st = nl >= 64 ? ppml_simpki_quote(pki, &rb, NULL, &q, &ql, NULL)
					  : PPML_E_INPUT;
		pthread_mutex_unlock(&pki_lock);
		if (st != PPML_OK) {
			w->bad++;
			json_decref(j);
			continue;
		}
		char *qb = malloc(4 * ((ql + 2) / 3) + 1);
		EVP_EncodeBlock((unsigned char *)qb, q, (int)ql);
		snprintf(body, 256 * 1024, "{\"quote\":\"%s\",\"nonce\":\"%s\",\"policy\":\"bench\"}", qb,
			 nb);
		long code = post(c, verifier, "/v1/attest", body, &b);
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

struct result {
	double rate, p50, p99;
	unsigned long ok, bad;
};

/* A fresh schema of the database at base for one configuration; url gets
 * the URI that points into it. */
static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static bool pg_schema(const char *base, const char *name, char *url, size_t cap)
{
	char sql[256];
	PGconn *c = PQconnectdb(base);
	PQsetNoticeProcessor(c, quiet, NULL);
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", name, name);
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "bench_replicas: %s", PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	snprintf(url, cap, "%s%coptions=-c%%20search_path%%3D%s", base, strchr(base, '?') ? '&' : '?',
		 name);
	return ok;
}

/* Starts `replicas` services on db (state in dir/NAME), runs the clients,
 * stops them. */
static volatile sig_atomic_t stop_child;

static void on_term(int sig)
{
	(void)sig;
	stop_child = 1;
}

/* Forks a replica: the child starts the service, sends its port up the
 * pipe and serves until SIGTERM.  Returns the child's pid (0 on failure)
 * and its port. */
static pid_t start_replica(const struct ppml_serve_config *cfg, unsigned *port)
{
	int fd[2];
	if (pipe(fd) != 0)
		return 0;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct ppml_service *svc = NULL;
		struct ppml_err err = {0};
		unsigned p = 0;
		close(fd[0]);
		signal(SIGTERM, on_term);
		if (ppml_serve_start(cfg, &svc, &err) == PPML_OK)
			p = ppml_serve_port(svc);
		else
			fprintf(stderr, "bench_replicas: replica: %s\n", err.msg);
		if (write(fd[1], &p, sizeof(p)) != (ssize_t)sizeof(p) || !p)
			_exit(1);
		close(fd[1]);
		while (!stop_child) {
			ppml_serve_tick(svc);
			usleep(100000);
		}
		ppml_serve_stop(svc);
		_exit(0);
	}
	close(fd[1]);
	bool ok = pid > 0 && read(fd[0], port, sizeof(*port)) == (ssize_t)sizeof(*port) && *port;
	close(fd[0]);
	if (!ok && pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	return ok ? pid : 0;
}

static bool run(const char *dir, const char *name, const char *db, int replicas, int clients,
		const char *coll, const char *root, struct result *res)
{
	char state[192], admin[PPML_CREDENTIAL_LEN + 1], pol[256], *canon = NULL, sha[65];
	struct ppml_err err = {0};
	struct ppml_policy *p = NULL;
	struct ppml_store *s = NULL;
	pid_t kids[MAX_REPLICAS] = {0};
	uint32_t v;
	bool ok = false;
	snprintf(state, sizeof(state), "%s/%s", dir, name);
	snprintf(pol, sizeof(pol), "identities = [{ mrenclave = \"%s\" }]\nallow_simulation = true\n",
		 "abababababababababababababababababababababababababababababababab");
	if (ppml_serve_init(state, db, NULL, admin, &err) != PPML_OK ||
	    ppml_policy_parse(pol, strlen(pol), &p, &err) != PPML_OK ||
	    ppml_policy_canonical(p, &canon, sha, &err) != PPML_OK ||
	    ppml_store_open(db, &s, &err) != PPML_OK ||
	    ppml_store_policy_put(s, "bench", canon, sha, time(NULL), &v, &err) != PPML_OK) {
		fprintf(stderr, "bench_replicas: %s: setup: %s\n", name, err.msg);
		goto out;
	}
	OPENSSL_cleanse(admin, sizeof(admin));
	const char *dirs[] = {coll};
	struct ppml_serve_config cfg = {.state_dir = state, .db = db, .listen = "127.0.0.1:0",
					.insecure_http = true, .collateral_dirs = dirs,
					.n_collateral_dirs = 1, .sim_root_ca = root,
					.threads = SERVER_THREADS};
	n_bases = replicas;
	for (int i = 0; i < replicas; i++) {
		unsigned port = 0;
		if (!(kids[i] = start_replica(&cfg, &port))) {
			fprintf(stderr, "bench_replicas: %s: replica %d did not start\n", name, i + 1);
			goto out;
		}
		snprintf(bases[i], sizeof(bases[i]), "http://127.0.0.1:%u", port);
	}
	pthread_t th[64];
	struct worker w[64] = {0};
	double t0 = now();
	for (int i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, client, &w[i]);
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	double el = now() - t0;
	size_t total = 0, k = 0;
	memset(res, 0, sizeof(*res));
	for (int i = 0; i < clients; i++)
		total += w[i].n, res->ok += w[i].ok, res->bad += w[i].bad;
	double *all = malloc((total + 1) * sizeof(double));
	for (int i = 0; i < clients; i++) {
		if (all)
			memcpy(all + k, w[i].lat, w[i].n * sizeof(double));
		k += w[i].n;
		free(w[i].lat);
	}
	if (all && total) {
		qsort(all, total, sizeof(double), cmpd);
		res->p50 = all[total / 2];
		res->p99 = all[total * 99 / 100];
	}
	free(all);
	res->rate = (double)res->ok / el;
	ok = all != NULL;
out:
	for (int i = 0; i < MAX_REPLICAS; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGTERM);
			waitpid(kids[i], NULL, 0);
		}
	ppml_store_close(s);
	ppml_policy_free(p);
	free(canon);
	return ok;
}

static void line(const char *label, const struct result *r, const char *ratio_label, double ratio)
{
	printf("  %-24s %7.0f /s   p50 %6.2f ms   p99 %6.2f ms   (%lu accepted, %lu failed)", label,
	       r->rate, r->p50 * 1e3, r->p99 * 1e3, r->ok, r->bad);
	if (ratio_label)
		printf("   %s %.2f", ratio_label, ratio);
	printf("\n");
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/ppml-bench-replicas-XXXXXX", coll[128], root[128], sq[192],
	     pg1[PPML_STORE_MAX_URL], pg2[PPML_STORE_MAX_URL];
	int clients = argc > 1 ? atoi(argv[1]) : 8;
	const char *pg = argc > 2 ? argv[2] : NULL;
	struct ppml_err err = {0};
	struct ppml_collateral c = {0};
	struct result rs, r1, r2;
	char *rp = NULL;
	size_t rl = 0;
	FILE *f;
	if (!pg || clients < 1 || clients > 64) {
		fprintf(stderr, "usage: bench_replicas CLIENTS POSTGRESQL_URL\n");
		return 2;
	}
	if (!mkdtemp(dir))
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(coll, sizeof(coll), "%s/collateral", dir);
	snprintf(root, sizeof(root), "%s/root.pem", dir);
	snprintf(sq, sizeof(sq), "sqlite:%s/sqlite/ppml.db", dir);
	if (ppml_simpki_new(NULL, &pki, &err) != PPML_OK ||
	    ppml_simpki_collateral(pki, NULL, &c, &err) != PPML_OK ||
	    ppml_collateral_save_dir(coll, &c, &err) != PPML_OK ||
	    ppml_simpki_root_pem(pki, &rp, &rl, &err) != PPML_OK || !(f = fopen(root, "w")) ||
	    fwrite(rp, 1, rl, f) != rl || fclose(f) != 0) {
		fprintf(stderr, "bench_replicas: setup: %s\n", err.msg);
		return 1;
	}
	bool ok = pg_schema(pg, "bench_one", pg1, sizeof(pg1)) &&
		  pg_schema(pg, "bench_two", pg2, sizeof(pg2)) &&
		  run(dir, "sqlite", sq, 1, clients, coll, root, &rs) &&
		  run(dir, "pg1", pg1, 1, clients, coll, root, &r1) &&
		  run(dir, "pg2", pg2, 2, clients, coll, root, &r2);
	if (ok) {
		printf("\nattestation service replicas (%d clients, %d server threads per replica, "
		       "HTTP on loopback; clients, replicas and PostgreSQL share the %ld cores)\n",
		       clients, SERVER_THREADS, sysconf(_SC_NPROCESSORS_ONLN));
		line("SQLite, 1 replica", &rs, NULL, 0);
		line("PostgreSQL, 1 replica", &r1, "ratio to SQLite", rs.rate > 0 ? r1.rate / rs.rate : 0);
		line("PostgreSQL, 2 replicas", &r2, "ratio to 1 replica",
		     r1.rate > 0 ? r2.rate / r1.rate : 0);
	}
	ppml_collateral_cleanup(&c);
	ppml_simpki_free(pki);
	free(rp);
	curl_global_cleanup();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return ok && !rs.bad && !r1.bad && !r2.bad ? 0 : 1;
}
