/* SPDX-License-Identifier: Apache-2.0 */
/* ppml serve: the attestation service (include/ppml/serve.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ppml/file.h"
#include "ppml/serve.h"
#include "ppml/toml.h"

const char cmd_serve_usage[] =
	"usage: ppml serve --init --state-dir DIR [--db URL] [--master-key pkcs11:URI]\n"
	"       ppml serve --rotate-token-key --state-dir DIR [--keep SECONDS] [--db URL]\n"
	"       ppml serve [--config FILE] --state-dir DIR [--listen ADDR:PORT]\n"
	"                  (--tls-cert FILE --tls-key FILE | --insecure-http) [--db URL]\n"
	"                  [--pccs-url URL [--pccs-cacert FILE]] [--collateral-dir DIR]...\n"
	"                  [--sim-root-ca FILE] [--token-ttl SECONDS] [--nonce-ttl SECONDS]\n"
	"                  [--metrics-listen ADDR:PORT] [--issuer NAME] [--threads N]\n"
	"                  [--max-connections N] [--timeout SECONDS] [--port-file FILE]\n"
	"                  [--master-key pkcs11:URI]\n"
	"\n"
	"The attestation service.  An enclave asks for a nonce, puts its binding in\n"
	"REPORTDATA, and posts its quote with a policy name; the service verifies the\n"
	"quote to Intel's root (collateral from --collateral-dir folders and/or a\n"
	"PCCS), checks the nonce (single use) and REPORTDATA, evaluates the policy,\n"
	"records the verdict in a hash-chained audit log and, only when every check\n"
	"passed, answers with an ES256 token that relying parties verify offline\n"
	"against /.well-known/jwks.json.  Simulated quotes verify only with\n"
	"--sim-root-ca, under a policy with allow_simulation, and their tokens are\n"
	"signed with a separate key (kid sim-..., iss .../sim).  See docs/http-api.md.\n"
	"\n"
	"  --init             create DIR's keys and database and the first admin\n"
	"                     credential, print the credential once, and exit\n"
	"  --rotate-token-key replace the token signing key; the old one stays in the\n"
	"                     JWKS for --keep seconds (default 86400, the longest\n"
	"                     --token-ttl); restart the service to use the new key\n"
	"  --config FILE      settings as TOML (the long option names with '_' for '-';\n"
	"                     collateral_dir may be an array); flags override it\n"
	"  --listen A:P       default 127.0.0.1:8443\n"
	"  --tls-cert/--tls-key  HTTPS (TLS 1.2 and 1.3); --insecure-http for local tests\n"
	"  --db URL           default sqlite:DIR/ppml.db; postgresql://USER@HOST:PORT/DB\n"
	"                     for replicas sharing one database (password: PGPASSWORD\n"
	"                     or ~/.pgpass rather than the URL)\n"
	"  --master-key URI   the key service's master key as an AES-256 key inside a\n"
	"                     PKCS#11 token, e.g. \"pkcs11:token=T;object=master?pin-source=\n"
	"                     file:/run/secrets/pin\" (or PIN in PKCS11_PIN); with --init it\n"
	"                     is generated in the token when absent and the URI is kept\n"
	"                     in DIR/master.uri; without it, DIR/master.key (0600)\n"
	"  --metrics-listen A:P  Prometheus text at /metrics; default 127.0.0.1:9464 (keep\n"
	"                     it on loopback), \"off\" for none\n"
	"  --port-file FILE   write the bound port (and FILE.metrics) once listening\n"
	"\n"
	"Runs until SIGINT or SIGTERM, then signs a final audit checkpoint.  One log\n"
	"line per request on stderr (never bodies or credentials).\n"
	"Exit status: 0 stopped cleanly, 2 usage, 3 could not start.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "ppml serve: %s\n", line);
}

#define MAX_DIRS 64

struct settings {
	struct ppml_serve_config c;
	const char *dirs[MAX_DIRS];
	char *owned[64];
	size_t n_owned;
	const char *port_file;
	const char *config;
	bool init, rotate;
	const char *keep;
};

static const char *keep(struct settings *st, const char *s)
{
	if (st->n_owned == 64)
		return NULL;
	return st->owned[st->n_owned++] = strdup(s);
}

static bool num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* One setting by its option name (without "--"); false for an unknown name. */
static int set_opt(struct settings *st, const char *name, const char *val, bool from_file)
{
	struct ppml_serve_config *c = &st->c;
	long long n;
	const char *v = from_file ? keep(st, val) : val;
	if (!v)
		return -1;
	if (!strcmp(name, "state-dir"))
		c->state_dir = v;
	else if (!strcmp(name, "listen"))
		c->listen = v;
	else if (!strcmp(name, "tls-cert"))
		c->tls_cert = v;
	else if (!strcmp(name, "tls-key"))
		c->tls_key = v;
	else if (!strcmp(name, "db"))
		c->db = v;
	else if (!strcmp(name, "master-key"))
		c->master_key = v;
	else if (!strcmp(name, "pccs-url"))
		c->pccs_url = v;
	else if (!strcmp(name, "pccs-cacert"))
		c->pccs_cacert = v;
	else if (!strcmp(name, "sim-root-ca"))
		c->sim_root_ca = v;
	else if (!strcmp(name, "metrics-listen"))
		c->metrics_listen = v;
	else if (!strcmp(name, "issuer"))
		c->issuer = v;
	else if (!strcmp(name, "collateral-dir")) {
		if (c->n_collateral_dirs == MAX_DIRS)
			return -1;
		st->dirs[c->n_collateral_dirs++] = v;
	} else if (!strcmp(name, "token-ttl") || !strcmp(name, "nonce-ttl")) {
		if (!num(v, 1, 86400, &n))
			return -1;
		*(name[0] == 't' ? &c->token_ttl_s : &c->nonce_ttl_s) = n;
	} else if (!strcmp(name, "threads") || !strcmp(name, "max-connections") ||
		   !strcmp(name, "timeout")) {
		if (!num(v, 1, 100000, &n))
			return -1;
		*(name[0] == 't' && name[1] == 'h' ? &c->threads
		  : name[0] == 'm'		   ? &c->max_connections
						   : &c->timeout_s) = (unsigned)n;
	} else
		return 0;
	return 1;
}

static int load_config(struct settings *st)
{
	struct ppml_err err = {0};
	uint8_t *text = NULL;
	size_t len = 0;
	struct ppml_toml_value *root = NULL;
	int rc = CLI_EXIT_OK;

	if (ppml_file_read(st->config, 1 << 20, &text, &len, &err) != PPML_OK ||
	    ppml_toml_parse((const char *)text, len, &root, &err) != PPML_OK) {
		ppml_err_prefix(&err, "%s: ", st->config);
		rc = cli_fail("serve", &err);
		goto out;
	}
	for (size_t i = 0; i < root->u.t.len; i++) {
		const char *k = root->u.t.items[i].key;
		const struct ppml_toml_value *v = root->u.t.items[i].value;
		char name[64];
		snprintf(name, sizeof(name), "%s", k);
		for (char *p = name; *p; p++)
			if (*p == '_')
				*p = '-';
		int r = 1;
		if (!strcmp(name, "insecure-http") && v->type == PPML_TOML_BOOLEAN)
			st->c.insecure_http = v->u.b;
		else if (v->type == PPML_TOML_STRING)
			r = set_opt(st, name, v->u.s.ptr, true);
		else if (v->type == PPML_TOML_INTEGER) {
			char b[32];
			snprintf(b, sizeof(b), "%lld", (long long)v->u.i);
			r = set_opt(st, name, b, true);
		} else if (v->type == PPML_TOML_ARRAY && !strcmp(name, "collateral-dir")) {
			for (size_t j = 0; j < v->u.a.len && r == 1; j++)
				r = v->u.a.items[j]->type == PPML_TOML_STRING
					    ? set_opt(st, name, v->u.a.items[j]->u.s.ptr, true)
					    : -1;
		} else
			r = -1;
		if (r != 1) {
			rc = cli_usage_error("serve", "%s: %s: %s", st->config, k,
					     r == 0 ? "unknown setting" : "bad value");
			goto out;
		}
	}
out:
	ppml_toml_free(root);
	free(text);
	return rc;
}

static int write_port(const char *file, unsigned port)
{
	char b[16];
	struct ppml_err err = {0};
	int n = snprintf(b, sizeof(b), "%u\n", port);
	return ppml_file_write_atomic(file, b, (size_t)n, 0644, 0, &err) == PPML_OK ? 0 : -1;
}

int cmd_serve(int argc, char **argv)
{
	struct settings st = {0};
	int rc = CLI_EXIT_OK;
	struct ppml_err err = {0};

	/* --config first, so flags override it. */
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--config"))
			st.config = argv[i + 1];
	if (st.config && (rc = load_config(&st)) != CLI_EXIT_OK)
		goto out;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--init")) {
			st.init = true;
		} else if (!strcmp(a, "--rotate-token-key")) {
			st.rotate = true;
		} else if (!strcmp(a, "--keep") && i + 1 < argc) {
			st.keep = argv[++i];
		} else if (!strcmp(a, "--insecure-http")) {
			st.c.insecure_http = true;
		} else if (!strcmp(a, "--config") && i + 1 < argc) {
			i++;
		} else if (!strcmp(a, "--port-file") && i + 1 < argc) {
			st.port_file = argv[++i];
		} else if (!strncmp(a, "--", 2) && i + 1 < argc) {
			int r = set_opt(&st, a + 2, argv[i + 1], false);
			if (r != 1) {
				rc = cli_usage_error("serve", "%s %s: %s", a, argv[i + 1],
						     r == 0 ? "unknown option" : "bad value");
				goto out;
			}
			i++;
		} else {
			rc = cli_usage_error("serve", "unexpected argument '%s'", a);
			goto out;
		}
	}
	if (!st.c.state_dir) {
		rc = cli_usage_error("serve", "--state-dir DIR is required");
		goto out;
	}
	if (st.rotate) {
		long long keep = 86400;
		char oldk[97], newk[97];
		if (st.keep && !num(st.keep, 1, 30 * 86400, &keep)) {
			rc = cli_usage_error("serve", "--keep %s: expected 1..2592000 seconds", st.keep);
			goto out;
		}
		if (ppml_serve_rotate_token_key(st.c.state_dir, st.c.db, keep, oldk, newk, &err) !=
		    PPML_OK) {
			rc = cli_fail("serve", &err);
			goto out;
		}
		fprintf(stderr, "ppml serve: token key rotated: new kid %s; the old kid %s stays in "
				"the JWKS for %lld s; restart the service to sign with the new key\n",
			newk, oldk, keep);
		goto out;
	}
	if (st.init) {
		char secret[PPML_CREDENTIAL_LEN + 1];
		if (ppml_serve_init(st.c.state_dir, st.c.db, st.c.master_key, secret, &err) != PPML_OK) {
			rc = cli_fail("serve", &err);
			goto out;
		}
		printf("%s\n", secret);
		fflush(stdout);
		memset(secret, 0, sizeof(secret));
		fprintf(stderr,
			"ppml serve: created %s (keys 0600, database, first admin credential).\n"
			"The line above is the admin credential: it is shown once and stored only "
			"as a hash. Keep it in a 0600 file for --credential-file.\n",
			st.c.state_dir);
		goto out;
	}
	st.c.collateral_dirs = st.dirs;
	if (!st.c.metrics_listen)
		st.c.metrics_listen = "127.0.0.1:9464";
	else if (!strcmp(st.c.metrics_listen, "off"))
		st.c.metrics_listen = NULL;
	st.c.log = log_line;
	struct ppml_service *s = NULL;
	if (ppml_serve_start(&st.c, &s, &err) != PPML_OK) {
		rc = err.code == PPML_E_INPUT ? cli_usage_error("serve", "%s", err.msg)
					      : cli_fail("serve", &err);
		goto out;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "ppml serve: listening on %s (port %u, %s)%s%s\n",
		st.c.listen ? st.c.listen : "127.0.0.1:8443", ppml_serve_port(s),
		st.c.insecure_http && !st.c.tls_cert ? "plain HTTP: local tests only" : "HTTPS",
		st.c.sim_root_ca ? "; SIMULATION root configured: " : "",
		st.c.sim_root_ca ? st.c.sim_root_ca : "");
	if (st.port_file) {
		char mp[4200];
		snprintf(mp, sizeof(mp), "%s.metrics", st.port_file);
		if ((ppml_serve_metrics_port(s) && write_port(mp, ppml_serve_metrics_port(s)) != 0) ||
		    write_port(st.port_file, ppml_serve_port(s)) != 0)
			fprintf(stderr, "ppml serve: cannot write %s\n", st.port_file);
	}
	while (!stop) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
		ppml_serve_tick(s);
	}
	fprintf(stderr, "ppml serve: stopping\n");
	ppml_serve_stop(s);
out:
	for (size_t i = 0; i < st.n_owned; i++)
		free(st.owned[i]);
	return rc;
}
