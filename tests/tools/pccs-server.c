/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pccs-server: a loopback test server speaking the PCCS v4 collateral API
 * (shared/spec/dcap-quote-verification.md section 5) from collateral folders.
 * For tests only: it binds 127.0.0.1, serves files as they are, and counts
 * requests so a test can see what a client fetched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/evp.h>

#include "ppml/buf.h"
#include "ppml/collateral.h"
#include "ppml/file.h"
#include "ppml/hex.h"

static const char usage[] =
	"usage: pccs-server --port-file FILE --collateral FMSPC:CA:DIR [--collateral ...]\n"
	"                   [--stats-file FILE] [--fail-status N] [--delay-ms N]\n"
	"                   [--crl-form hex|pem] [--ignore-encoding] [--legacy-headers]\n"
	"                   [--tls-cert PEM --tls-key PEM]\n"
	"\n"
	"Serves on 127.0.0.1 (port chosen by the system, written to --port-file):\n"
	"  GET /sgx/certification/v4/tcb?fmspc=HEX    tcb_info.json of the FMSPC's folder,\n"
	"                                             header TCB-Info-Issuer-Chain\n"
	"  GET /sgx/certification/v4/qe/identity      qe_identity.json of the first folder\n"
	"  GET /sgx/certification/v4/pckcrl?ca=CA[&encoding=der]\n"
	"                                             pck_crl.der of the first folder of\n"
	"                                             that CA (hex unless encoding=der)\n"
	"  GET /sgx/certification/v4/rootcacrl        root_ca_crl.der of the first folder, hex\n"
	"  GET /stats                                 request counts as JSON\n"
	"Issuer chains are percent-encoded.  Unknown FMSPC/CA: 404; bad parameters: 400.\n"
	"  --fail-status N     answer every /sgx/ request with status N\n"
	"  --delay-ms N        wait N ms before answering\n"
	"  --crl-form F        CRL body when DER is not asked for: hex (PCCS) or pem (PCS)\n"
	"  --ignore-encoding   ignore encoding=der (as some PCCS versions do)\n"
	"  --legacy-headers    SGX-TCB-Info-Issuer-Chain and lower-case header names\n"
	"  --stats-file FILE   write the request counts there on SIGTERM/SIGINT\n"
	"  --tls-cert/--tls-key  serve HTTPS with this certificate and key (PEM)\n";

#define MAX_SETS 16

struct set {
	uint8_t fmspc[6];
	char ca[16];
	struct ppml_collateral c;
	char *tcb_chain, *qe_chain, *pck_chain; /* percent-encoded */
};

enum counter { C_TCB, C_QE, C_PCKCRL, C_ROOTCRL, C_STATS, C_OTHER, C_N };
static const char *const counter_names[C_N] = {"tcb", "qe_identity", "pckcrl", "rootcacrl",
					       "stats", "other"};

static struct {
	struct set sets[MAX_SETS];
	size_t n;
	int fail_status;
	long delay_ms;
	int crl_pem;
	int ignore_encoding;
	int legacy;
	atomic_ulong count[C_N];
} g;

/* Percent-encodes everything but RFC 3986 unreserved characters, as PCS does. */
static char *pct_encode(const uint8_t *p, size_t n)
{
	static const char hexd[] = "0123456789ABCDEF";
	char *o = malloc(3 * n + 1), *q = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*q++ = (char)c;
		} else {
			*q++ = '%';
			*q++ = hexd[c >> 4];
			*q++ = hexd[c & 15];
		}
	}
	*q = 0;
	return o;
}

static int load_set(const char *spec, struct set *s)
{
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char fm[13];
	struct ppml_err err = {0};

	if (!c1 || !c2 || c1 - spec != 12 || (size_t)(c2 - c1 - 1) >= sizeof(s->ca)) {
		fprintf(stderr, "pccs-server: --collateral %s: expected FMSPC:CA:DIR\n", spec);
		return -1;
	}
	memcpy(fm, spec, 12);
	fm[12] = 0;
	memcpy(s->ca, c1 + 1, (size_t)(c2 - c1 - 1));
	s->ca[c2 - c1 - 1] = 0;
	if (ppml_hex_decode(fm, s->fmspc, 6, "FMSPC", &err) != PPML_OK ||
	    ppml_collateral_load_dir(c2 + 1, &s->c, &err) != PPML_OK) {
		fprintf(stderr, "pccs-server: --collateral %s: %s\n", spec, err.msg);
		return -1;
	}
	s->tcb_chain = pct_encode(s->c.tcb_info_issuer_chain, s->c.tcb_info_issuer_chain_len);
	s->qe_chain = pct_encode(s->c.qe_identity_issuer_chain, s->c.qe_identity_issuer_chain_len);
	s->pck_chain = pct_encode(s->c.pck_crl_issuer_chain, s->c.pck_crl_issuer_chain_len);
	if (!s->tcb_chain || !s->qe_chain || !s->pck_chain) {
		fprintf(stderr, "pccs-server: out of memory\n");
		return -1;
	}
	return 0;
}

/* The CRL body in the form asked for: DER as stored, else hex or PEM. */
static int crl_body(const uint8_t *der, size_t n, int want_der, struct ppml_buf *b)
{
	if (want_der)
		return ppml_buf_append(b, der, n) == PPML_OK ? 0 : -1;
	if (!g.crl_pem) {
		if (ppml_buf_reserve(b, 2 * n + 1) != PPML_OK)
			return -1;
		ppml_hex_encode(der, n, (char *)b->data);
		b->len = 2 * n;
		return 0;
	}
	{
		char *b64 = malloc(4 * (n / 3 + 1) + 1);
		int bn;
		if (!b64)
			return -1;
		bn = EVP_EncodeBlock((unsigned char *)b64, der, (int)n);
		if (ppml_buf_puts(b, "-----BEGIN X509 CRL-----\n") != PPML_OK)
			goto fail;
		for (int i = 0; i < bn; i += 64) {
			if (ppml_buf_append(b, b64 + i, bn - i < 64 ? (size_t)(bn - i) : 64) != PPML_OK ||
			    ppml_buf_putc(b, '\n') != PPML_OK)
				goto fail;
		}
		if (ppml_buf_puts(b, "-----END X509 CRL-----\n") != PPML_OK)
			goto fail;
		free(b64);
		return 0;
fail:
		free(b64);
		return -1;
	}
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const void *body,
			     size_t len, const char *ctype, const char *hname, const char *hval)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, g.legacy ? "content-type" : "Content-Type", ctype);
	if (hname)
		MHD_add_response_header(r, hname, hval);
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", msg);
	return reply(conn, status, body, (size_t)n, "application/json", NULL, NULL);
}

static const char *hdr(const char *canonical, const char *lower)
{
	return g.legacy ? lower : canonical;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req_cls)
{
	static const char prefix[] = "/sgx/certification/v4/";
	const char *path;
	(void)cls, (void)version, (void)upload, (void)upload_size, (void)req_cls;

	if (strcmp(method, "GET") != 0)
		return reply_error(conn, 405, "only GET");
	if (strcmp(url, "/stats") == 0) {
		struct ppml_buf b = {0};
		enum MHD_Result rc;
		atomic_fetch_add(&g.count[C_STATS], 1);
		int ok = ppml_buf_putc(&b, '{') == PPML_OK;
		for (int i = 0; i < C_N && ok; i++)
			ok = ppml_buf_printf(&b, "%s\"%s\":%lu", i ? "," : "", counter_names[i],
					     atomic_load(&g.count[i])) == PPML_OK;
		ok = ok && ppml_buf_puts(&b, "}\n") == PPML_OK;
		rc = ok ? reply(conn, 200, b.data, b.len, "application/json", NULL, NULL) : MHD_NO;
		ppml_buf_free(&b);
		return rc;
	}
	if (strncmp(url, prefix, sizeof(prefix) - 1) != 0) {
		atomic_fetch_add(&g.count[C_OTHER], 1);
		return reply_error(conn, 404, "unknown path");
	}
	path = url + sizeof(prefix) - 1;
	if (strcmp(path, "tcb") == 0)
		atomic_fetch_add(&g.count[C_TCB], 1);
	else if (strcmp(path, "qe/identity") == 0)
		atomic_fetch_add(&g.count[C_QE], 1);
	else if (strcmp(path, "pckcrl") == 0)
		atomic_fetch_add(&g.count[C_PCKCRL], 1);
	else if (strcmp(path, "rootcacrl") == 0)
		atomic_fetch_add(&g.count[C_ROOTCRL], 1);
	else
		atomic_fetch_add(&g.count[C_OTHER], 1);
	if (g.delay_ms > 0) {
		struct timespec ts = {g.delay_ms / 1000, (g.delay_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (g.fail_status)
		return reply_error(conn, (unsigned)g.fail_status, "injected failure");

	if (strcmp(path, "tcb") == 0) {
		const char *fm = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "fmspc");
		uint8_t want[6];
		if (!fm || ppml_hex_decode(fm, want, 6, "fmspc", NULL) != PPML_OK)
			return reply_error(conn, 400, "fmspc must be 12 hex digits");
		for (size_t i = 0; i < g.n; i++)
			if (memcmp(g.sets[i].fmspc, want, 6) == 0)
				return reply(conn, 200, g.sets[i].c.tcb_info, g.sets[i].c.tcb_info_len,
					     "application/json",
					     g.legacy ? "sgx-tcb-info-issuer-chain"
						      : "TCB-Info-Issuer-Chain",
					     g.sets[i].tcb_chain);
		return reply_error(conn, 404, "no TCB info for this fmspc");
	}
	if (strcmp(path, "qe/identity") == 0)
		return reply(conn, 200, g.sets[0].c.qe_identity, g.sets[0].c.qe_identity_len,
			     "application/json",
			     hdr("SGX-Enclave-Identity-Issuer-Chain",
				 "sgx-enclave-identity-issuer-chain"),
			     g.sets[0].qe_chain);
	if (strcmp(path, "pckcrl") == 0 || strcmp(path, "rootcacrl") == 0) {
		int pck = path[0] == 'p';
		const char *ca = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "ca");
		const char *enc =
			MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "encoding");
		const struct set *s = pck ? NULL : &g.sets[0];
		struct ppml_buf b = {0};
		enum MHD_Result rc;
		if (pck && (!ca || (strcmp(ca, "processor") && strcmp(ca, "platform"))))
			return reply_error(conn, 400, "ca must be processor or platform");
		if (enc && strcmp(enc, "der") && strcmp(enc, "pem"))
			return reply_error(conn, 400, "encoding must be der or pem");
		for (size_t i = 0; pck && !s && i < g.n; i++)
			if (strcmp(g.sets[i].ca, ca) == 0)
				s = &g.sets[i];
		if (!s)
			return reply_error(conn, 404, "no PCK CRL for this ca");
		if (crl_body(pck ? s->c.pck_crl : s->c.root_ca_crl,
			     pck ? s->c.pck_crl_len : s->c.root_ca_crl_len,
			     enc && strcmp(enc, "der") == 0 && !g.ignore_encoding, &b) != 0) {
			ppml_buf_free(&b);
			return MHD_NO;
		}
		rc = reply(conn, 200, b.data, b.len, "application/pkix-crl",
			   pck ? hdr("SGX-PCK-CRL-Issuer-Chain", "sgx-pck-crl-issuer-chain") : NULL,
			   pck ? s->pck_chain : NULL);
		ppml_buf_free(&b);
		return rc;
	}
	return reply_error(conn, 404, "unknown path");
}

static int write_stats(const char *file)
{
	struct ppml_buf b = {0};
	struct ppml_err err = {0};
	int ok = 1;
	for (int i = 0; i < C_N && ok; i++)
		ok = ppml_buf_printf(&b, "%s %lu\n", counter_names[i], atomic_load(&g.count[i])) ==
		     PPML_OK;
	if (!ok || ppml_file_write_atomic(file, b.data, b.len, 0644, 0, &err) != PPML_OK) {
		fprintf(stderr, "pccs-server: %s: %s\n", file, err.msg[0] ? err.msg : "out of memory");
		ok = 0;
	}
	ppml_buf_free(&b);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *port_file = NULL, *stats_file = NULL, *tls_cert = NULL, *tls_key = NULL;
	uint8_t *cert_pem = NULL, *key_pem = NULL;
	size_t cert_len = 0, key_len = 0;
	struct MHD_Daemon *d = NULL;
	struct sockaddr_in sa = {0};
	const union MHD_DaemonInfo *info;
	struct ppml_err err = {0};
	sigset_t set;
	char portbuf[16];
	int sig = 0, rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(a, "--ignore-encoding") == 0) {
			g.ignore_encoding = 1;
		} else if (strcmp(a, "--legacy-headers") == 0) {
			g.legacy = 1;
		} else if (!v) {
			fprintf(stderr, "pccs-server: %s needs a value\n%s", a, usage);
			return 2;
		} else if (strcmp(a, "--port-file") == 0) {
			port_file = argv[++i];
		} else if (strcmp(a, "--tls-cert") == 0) {
			tls_cert = argv[++i];
		} else if (strcmp(a, "--tls-key") == 0) {
			tls_key = argv[++i];
		} else if (strcmp(a, "--stats-file") == 0) {
			stats_file = argv[++i];
		} else if (strcmp(a, "--fail-status") == 0) {
			g.fail_status = atoi(argv[++i]);
			if (g.fail_status < 100 || g.fail_status > 599) {
				fprintf(stderr, "pccs-server: --fail-status: 100..599\n");
				return 2;
			}
		} else if (strcmp(a, "--delay-ms") == 0) {
			g.delay_ms = atol(argv[++i]);
		} else if (strcmp(a, "--crl-form") == 0) {
			i++;
			if (strcmp(v, "pem") != 0 && strcmp(v, "hex") != 0) {
				fprintf(stderr, "pccs-server: --crl-form: hex or pem\n");
				return 2;
			}
			g.crl_pem = strcmp(v, "pem") == 0;
		} else if (strcmp(a, "--collateral") == 0) {
			i++;
			if (g.n == MAX_SETS) {
				fprintf(stderr, "pccs-server: at most %d --collateral\n", MAX_SETS);
				return 2;
			}
			if (load_set(v, &g.sets[g.n]) != 0)
				goto out;
			g.n++;
		} else {
			fprintf(stderr, "pccs-server: unexpected argument '%s'\n%s", a, usage);
			return 2;
		}
	}
	if (!port_file || g.n == 0) {
		fprintf(stderr, "pccs-server: --port-file and at least one --collateral are needed\n%s",
			usage);
		return 2;
	}
	if (!tls_cert != !tls_key) {
		fprintf(stderr, "pccs-server: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (tls_cert && (ppml_file_read(tls_cert, 1 << 20, &cert_pem, &cert_len, &err) != PPML_OK ||
			 ppml_file_read(tls_key, 1 << 20, &key_pem, &key_len, &err) != PPML_OK)) {
		fprintf(stderr, "pccs-server: %s\n", err.msg);
		goto out;
	}
	/* Block the stop signals in every thread; main collects them with sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (tls_cert)
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
					     MHD_USE_TLS,
				     0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &sa,
				     MHD_OPTION_HTTPS_MEM_CERT, (const char *)cert_pem,
				     MHD_OPTION_HTTPS_MEM_KEY, (const char *)key_pem, MHD_OPTION_END);
	else
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
				     0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &sa,
				     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "pccs-server: cannot start the HTTP server on 127.0.0.1\n");
		goto out;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || info->port == 0) {
		fprintf(stderr, "pccs-server: cannot learn the bound port\n");
		goto out;
	}
	snprintf(portbuf, sizeof(portbuf), "%u\n", (unsigned)info->port);
	if (ppml_file_write_atomic(port_file, portbuf, strlen(portbuf), 0644, 0, &err) != PPML_OK) {
		fprintf(stderr, "pccs-server: %s\n", err.msg);
		goto out;
	}
	while (sigwait(&set, &sig) != 0)
		;
	rc = 0;
out:
	if (d)
		MHD_stop_daemon(d);
	if (stats_file && rc == 0 && write_stats(stats_file) != 0)
		rc = 1;
	free(cert_pem);
	free(key_pem);
	for (size_t i = 0; i < MAX_SETS; i++) {
		ppml_collateral_cleanup(&g.sets[i].c);
		free(g.sets[i].tcb_chain);
		free(g.sets[i].qe_chain);
		free(g.sets[i].pck_chain);
	}
	return rc;
}
