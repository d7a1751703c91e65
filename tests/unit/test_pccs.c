/* SPDX-License-Identifier: Apache-2.0 */
/* The PCCS client and fetch cache, against build/tests/pccs-server on loopback
 * serving the real collateral of ../shared/quotes. */
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"
#include "ppml/collateral.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/pccs.h"
#include "ppml/timeutil.h"

extern char **environ;

TEST(percent_decode)
{
	uint8_t *o = NULL;
	size_t n = 0;
	struct ppml_err err = {0};
	const char *in = "-----BEGIN%20CERTIFICATE-----%0aAB+c%2Fd%2bx";
	REQUIRE(ppml_pccs_percent_decode(in, strlen(in), &o, &n, &err) == PPML_OK);
	CHECK_STREQ((char *)o, "-----BEGIN CERTIFICATE-----\nAB+c/d+x"); /* '+' kept */
	CHECK(n == strlen((char *)o));
	free(o);
	REQUIRE(ppml_pccs_percent_decode("", 0, &o, &n, &err) == PPML_OK);
	CHECK(n == 0 && o[0] == 0);
	free(o);
	REQUIRE(ppml_pccs_percent_decode("%00", 3, &o, &n, &err) == PPML_OK);
	CHECK(n == 1 && o[0] == 0);
	free(o);
	CHECK(ppml_pccs_percent_decode("ab%2", 4, &o, &n, &err) == PPML_E_INPUT);
	CHECK(strstr(err.msg, "byte 2") != NULL);
	CHECK(ppml_pccs_percent_decode("%", 1, &o, &n, &err) == PPML_E_INPUT);
	CHECK(ppml_pccs_percent_decode("%g0", 3, &o, &n, &err) == PPML_E_INPUT);
	CHECK(ppml_pccs_percent_decode("%0g", 3, &o, &n, &err) == PPML_E_INPUT);
	/* the length bounds the input, not a NUL */
	REQUIRE(ppml_pccs_percent_decode("%41%42", 3, &o, &n, &err) == PPML_OK);
	CHECK(n == 1 && o[0] == 'A');
	free(o);
	CHECK(ppml_pccs_percent_decode("%41%42", 4, &o, &n, &err) == PPML_E_INPUT);
	CHECK(o == NULL);
}

TEST(ca_names_and_bad_urls)
{
	enum ppml_pck_ca ca;
	struct ppml_pccs_client *c = NULL;
	struct ppml_err err = {0};
	CHECK(ppml_pck_ca_from_name("platform", &ca) && ca == PPML_PCK_CA_PLATFORM);
	CHECK(ppml_pck_ca_from_name("processor", &ca) && ca == PPML_PCK_CA_PROCESSOR);
	CHECK(!ppml_pck_ca_from_name("Platform", &ca));
	CHECK_STREQ(ppml_pck_ca_name(PPML_PCK_CA_PLATFORM), "platform");
	CHECK(ppml_pccs_client_new("ftp://x", NULL, &c, &err) == PPML_E_INPUT && !c);
	CHECK(ppml_pccs_client_new("https://x/?a=b", NULL, &c, &err) == PPML_E_INPUT);
	CHECK(ppml_pccs_client_new("https://x/a b", NULL, &c, &err) == PPML_E_INPUT);
	REQUIRE(ppml_pccs_client_new("https://pccs.example:8081/", NULL, &c, &err) == PPML_OK);
	ppml_pccs_client_free(c);
	ppml_pccs_client_free(NULL);
}

/* ---- with a server ---- */

struct server {
	pid_t pid;
	char url[64];
	char dir[32];
};

/* Starts pccs-server with extra arguments (NULL-terminated); 0 on success. */
static int server_start(struct server *s, const char *collateral, const char *const *extra)
{
	const char *build = getenv("PPML_BUILD");
	char bin[512], portfile[64], *argv[32];
	int n = 0;
	uint8_t *port = NULL;
	size_t pl = 0;

	snprintf(bin, sizeof(bin), "%s/tests/pccs-server", build && *build ? build : "build");
	strcpy(s->dir, "/tmp/ppml-pccs-XXXXXX");
	if (access(bin, X_OK) != 0 || !mkdtemp(s->dir))
		return -1;
	snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
	argv[n++] = bin;
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	argv[n++] = "--collateral";
	argv[n++] = (char *)collateral;
	for (; extra && *extra && n < 30; extra++)
		argv[n++] = (char *)*extra;
	argv[n] = NULL;
	if (posix_spawn(&s->pid, bin, NULL, NULL, argv, environ) != 0)
		return -1;
	for (int i = 0; i < 500; i++) { /* up to 5 s */
		if (ppml_file_read(portfile, 16, &port, &pl, NULL) == PPML_OK)
			break;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	unlink(portfile);
	if (!port) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		rmdir(s->dir);
		return -1;
	}
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", atoi((char *)port));
	free(port);
	return 0;
}

/* Stops the server; returns its exit status (0 when it stopped cleanly). */
static int server_stop(struct server *s)
{
	int st = -1;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &st, 0);
	rmdir(s->dir);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static const char *case_dir(const char *shared, const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/quotes/%s", shared, name);
	return buf;
}

/* FMSPC of a collateral folder's TCB info ("fmspc":"..."). */
static int folder_fmspc(const struct ppml_collateral *c, uint8_t fm[6], char hex[13])
{
	const char *p = strstr((const char *)c->tcb_info, "\"fmspc\":\"");
	if (!p)
		return -1;
	memcpy(hex, p + 9, 12);
	hex[12] = 0;
	for (int i = 0; i < 12; i++)
		if (hex[i] >= 'A' && hex[i] <= 'F')
			hex[i] = (char)(hex[i] + 32);
	return ppml_hex_decode(hex, fm, 6, "fmspc", NULL) == PPML_OK ? 0 : -1;
}

static int same_set(const struct ppml_collateral *a, const struct ppml_collateral *b)
{
#define SAME(m) (a->m##_len == b->m##_len && memcmp(a->m, b->m, a->m##_len) == 0)
	return SAME(tcb_info) && SAME(tcb_info_issuer_chain) && SAME(qe_identity) &&
	       SAME(qe_identity_issuer_chain) && SAME(pck_crl) && SAME(pck_crl_issuer_chain) &&
	       SAME(root_ca_crl);
#undef SAME
}

/* Fetches the set of `name` with the server started with `extra` and
 * compares it with the folder; 1 when byte-identical. */
static int fetch_matches(const char *shared, const char *name, const char *ca,
			 const char *const *extra, char *why, size_t whyn)
{
	char dir[512], spec[600], hex[13];
	struct ppml_collateral want = {0}, got = {0};
	struct ppml_pccs_client *c = NULL;
	struct ppml_err err = {0};
	struct server s;
	uint8_t fm[6];
	enum ppml_pck_ca cat;
	int ok = 0;

	if (ppml_collateral_load_dir(case_dir(shared, name, dir, sizeof(dir)), &want, &err) ||
	    folder_fmspc(&want, fm, hex) || !ppml_pck_ca_from_name(ca, &cat)) {
		snprintf(why, whyn, "%s: %s", name, err.msg);
		goto out;
	}
	snprintf(spec, sizeof(spec), "%s:%s:%s", hex, ca, dir);
	if (server_start(&s, spec, extra) != 0) {
		snprintf(why, whyn, "pccs-server did not start");
		goto out;
	}
	if (ppml_pccs_client_new(s.url, NULL, &c, &err) == PPML_OK &&
	    ppml_pccs_fetch_collateral(c, fm, cat, &got, &err) == PPML_OK)
		ok = same_set(&want, &got);
	if (!ok)
		snprintf(why, whyn, "%s: %s", name, err.msg[0] ? err.msg : "bytes differ");
	if (server_stop(&s) != 0) {
		snprintf(why, whyn, "pccs-server did not stop cleanly");
		ok = 0;
	}
out:
	ppml_pccs_client_free(c);
	ppml_collateral_cleanup(&want);
	ppml_collateral_cleanup(&got);
	return ok;
}

TEST(fetch_real_sets_byte_identical)
{
	REQUIRE_SHARED(shared);
	static const char *const pem_noenc[] = {"--crl-form", "pem", "--ignore-encoding", NULL};
	static const char *const hex_noenc[] = {"--ignore-encoding", NULL};
	static const char *const legacy[] = {"--legacy-headers", NULL};
	char why[1200] = "";
	/* plain, PCS-style PEM CRLs, PCCS-style hex CRLs, v3 header name and lower case */
	CHECKF(fetch_matches(shared, "phala_sgx_v3_2023-11", "processor", NULL, why, sizeof(why)),
	       "%s", why);
	CHECKF(fetch_matches(shared, "automata_sgx_v3_f28d_2025-08", "platform", pem_noenc, why,
			     sizeof(why)), "pem: %s", why);
	CHECKF(fetch_matches(shared, "fortanix_sgx_v3_2020-05_tcbv2", "processor", hex_noenc, why,
			     sizeof(why)), "hex: %s", why);
	CHECKF(fetch_matches(shared, "oasis_quote_with_2025-08_collateral", "platform", legacy, why,
			     sizeof(why)), "legacy: %s", why);
}

TEST(fetch_errors_name_path_and_status)
{
	REQUIRE_SHARED(shared);
	static const char *const fail500[] = {"--fail-status", "500", NULL};
	static const char *const slow[] = {"--delay-ms", "1500", NULL};
	char dir[512], spec[600];
	struct ppml_pccs_options opt = {0};
	struct ppml_pccs_client *c = NULL;
	struct ppml_collateral got = {0};
	struct ppml_err err = {0};
	struct server s;
	const uint8_t fm[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00}, other[6] = {1, 2, 3, 4, 5, 6};

	snprintf(spec, sizeof(spec), "00a067110000:processor:%s",
		 case_dir(shared, "phala_sgx_v3_2023-11", dir, sizeof(dir)));
	REQUIRE(server_start(&s, spec, NULL) == 0);
	REQUIRE(ppml_pccs_client_new(s.url, NULL, &c, &err) == PPML_OK);
	CHECK(ppml_pccs_fetch_collateral(c, other, PPML_PCK_CA_PROCESSOR, &got, &err) ==
	      PPML_E_NOTFOUND);
	CHECK(strstr(err.msg, "/sgx/certification/v4/tcb?fmspc=010203040506: HTTP 404") != NULL);
	CHECK(got.tcb_info == NULL);
	/* the TCB info exists, but no PCK CRL of the platform CA: nothing is returned */
	CHECK(ppml_pccs_fetch_collateral(c, fm, PPML_PCK_CA_PLATFORM, &got, &err) ==
	      PPML_E_NOTFOUND);
	CHECK(strstr(err.msg, "pckcrl?ca=platform&encoding=der: HTTP 404") != NULL);
	CHECK(got.tcb_info == NULL && got.qe_identity == NULL);
	ppml_pccs_client_free(c);
	opt.max_response = 1000; /* below the TCB info's size */
	REQUIRE(ppml_pccs_client_new(s.url, &opt, &c, &err) == PPML_OK);
	CHECK(ppml_pccs_fetch_collateral(c, fm, PPML_PCK_CA_PROCESSOR, &got, &err) == PPML_E_LIMIT);
	CHECK(strstr(err.msg, "over the limit of 1000 bytes") != NULL);
	ppml_pccs_client_free(c);
	c = NULL;
	CHECK(server_stop(&s) == 0);

	REQUIRE(server_start(&s, spec, fail500) == 0);
	REQUIRE(ppml_pccs_client_new(s.url, NULL, &c, &err) == PPML_OK);
	CHECK(ppml_pccs_fetch_collateral(c, fm, PPML_PCK_CA_PROCESSOR, &got, &err) == PPML_E_IO);
	CHECK(strstr(err.msg, "HTTP 500") != NULL && strstr(err.msg, "injected failure") != NULL);
	ppml_pccs_client_free(c);
	c = NULL;
	CHECK(server_stop(&s) == 0);

	REQUIRE(server_start(&s, spec, slow) == 0);
	opt.max_response = 0;
	opt.timeout_ms = 300;
	REQUIRE(ppml_pccs_client_new(s.url, &opt, &c, &err) == PPML_OK);
	CHECK(ppml_pccs_fetch_collateral(c, fm, PPML_PCK_CA_PROCESSOR, &got, &err) == PPML_E_IO);
	CHECK(strstr(err.msg, "imed out") != NULL);
	ppml_pccs_client_free(c);
	CHECK(server_stop(&s) == 0);

	/* nobody listens any more */
	REQUIRE(ppml_pccs_client_new(s.url, NULL, &c, &err) == PPML_OK);
	CHECK(ppml_pccs_fetch_collateral(c, fm, PPML_PCK_CA_PROCESSOR, &got, &err) == PPML_E_IO);
	CHECK(strstr(err.msg, "check the PCCS URL") != NULL);
	ppml_pccs_client_free(c);
}

/* Requests the server counted for TCB info (GET /stats). */
static long tcb_count(struct ppml_pccs_client *unused, const char *url)
{
	char cmd[128];
	FILE *p;
	long n = -1;
	(void)unused;
	snprintf(cmd, sizeof(cmd), "curl -fsS %s/stats", url);
	p = popen(cmd, "r");
	if (p) {
		char line[256] = "";
		if (fgets(line, sizeof(line), p)) {
			char *t = strstr(line, "\"tcb\":");
			if (t)
				n = atol(t + 6);
		}
		pclose(p);
	}
	return n;
}

struct worker {
	struct ppml_pccs_cache *cache;
	const uint8_t *fm;
	int64_t at;
	struct ppml_collateral got;
	ppml_status rc;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 20 && w->rc == PPML_OK; i++) {
		ppml_collateral_cleanup(&w->got);
		w->rc = ppml_pccs_cache_get(w->cache, w->fm, PPML_PCK_CA_PROCESSOR, w->at, &w->got,
					    NULL, NULL);
	}
	return NULL;
}

TEST(cache_reuses_until_earliest_next_update)
{
	REQUIRE_SHARED(shared);
	char dir[512], spec[600];
	struct ppml_pccs_client *c = NULL;
	struct ppml_pccs_cache *cache = NULL;
	struct ppml_collateral want = {0}, got = {0};
	struct ppml_err err = {0};
	struct server s;
	struct worker w[8];
	pthread_t th[8];
	const uint8_t fm[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00};
	int64_t next = 0, tcb_next = 0;
	bool hit = true;

	if (system("curl --version >/dev/null 2>&1") != 0)
		SKIP_TEST("the curl command is not installed");
	case_dir(shared, "phala_sgx_v3_2023-11", dir, sizeof(dir));
	REQUIRE(ppml_collateral_load_dir(dir, &want, &err) == PPML_OK);
	/* phala: TCB info and QE identity expire 2023-12-21T00:06:09Z, before either CRL */
	REQUIRE(ppml_collateral_next_update(&want, &next, &err) == PPML_OK);
	REQUIRE(ppml_time_parse_intel("2023-12-21T00:06:09Z", &tcb_next));
	CHECK(next == tcb_next);
	snprintf(spec, sizeof(spec), "00a067110000:processor:%s", dir);
	REQUIRE(server_start(&s, spec, NULL) == 0);
	REQUIRE(ppml_pccs_client_new(s.url, NULL, &c, &err) == PPML_OK);
	REQUIRE(ppml_pccs_cache_new(c, 2, &cache, &err) == PPML_OK);

	CHECK(ppml_pccs_cache_get(cache, fm, PPML_PCK_CA_PROCESSOR, next - 86400, &got, &hit,
				  &err) == PPML_OK);
	CHECK(!hit && same_set(&want, &got) && tcb_count(c, s.url) == 1);
	ppml_collateral_cleanup(&got);
	CHECK(ppml_pccs_cache_get(cache, fm, PPML_PCK_CA_PROCESSOR, next - 1, &got, &hit, &err) ==
	      PPML_OK);
	CHECK(hit && same_set(&want, &got) && tcb_count(c, s.url) == 1);
	ppml_collateral_cleanup(&got);
	/* at nextUpdate the set is stale: fetched again (and, being expired, not kept) */
	CHECK(ppml_pccs_cache_get(cache, fm, PPML_PCK_CA_PROCESSOR, next, &got, &hit, &err) ==
	      PPML_OK);
	CHECK(!hit && same_set(&want, &got) && tcb_count(c, s.url) == 2);
	ppml_collateral_cleanup(&got);
	CHECK(ppml_pccs_cache_get(cache, fm, PPML_PCK_CA_PROCESSOR, next - 1, &got, &hit, &err) ==
	      PPML_OK);
	CHECK(hit && tcb_count(c, s.url) == 2);
	ppml_collateral_cleanup(&got);
	/* another CA is another key (and this server has no platform CRL) */
	CHECK(ppml_pccs_cache_get(cache, fm, PPML_PCK_CA_PLATFORM, next - 1, &got, &hit, &err) ==
	      PPML_E_NOTFOUND);
	CHECK(got.tcb_info == NULL);

	/* 8 threads x 20 gets, all served from the cache */
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){cache, fm, next - 10, {0}, PPML_OK};
		REQUIRE(pthread_create(&th[i], NULL, work, &w[i]) == 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		CHECK(w[i].rc == PPML_OK && same_set(&want, &w[i].got));
		ppml_collateral_cleanup(&w[i].got);
	}
	CHECK(tcb_count(c, s.url) == 3); /* the PLATFORM miss fetched TCB info once more */

	ppml_pccs_cache_free(cache);
	ppml_pccs_cache_free(NULL);
	ppml_pccs_client_free(c);
	ppml_collateral_cleanup(&want);
	CHECK(server_stop(&s) == 0);
}

int main(void)
{
	RUN(percent_decode);
	RUN(ca_names_and_bad_urls);
	RUN(fetch_real_sets_byte_identical);
	RUN(fetch_errors_name_path_and_status);
	RUN(cache_reuses_until_earliest_next_update);
	HARNESS_EXIT();
}
