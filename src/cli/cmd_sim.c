/* SPDX-License-Identifier: Apache-2.0 */
/* ppml sim init|collateral|quote: the per-user simulation PKI (ppml/simpki.h)
 * for stage 1 without SGX: a root to hand to verifiers, collateral, and
 * quotes for any enclave identity, all on the real verification path. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/pccs.h"
#include "ppml/enclave.h"
#include "ppml/simpal.h"
#include "ppml/simpki.h"
#include "ppml/timeutil.h"

const char cmd_sim_usage[] =
	"usage: ppml sim init [--dir DIR] [--platform-ca] [--force] [--json]\n"
	"       ppml sim collateral [--dir DIR] [--out OUT] [--tcb-status STATUS]\n"
	"                           [--advisory-ids ID,...] [--valid-days N] [--age-days N]\n"
	"       ppml sim quote [--dir DIR] --mrenclave HEX [--mrsigner HEX] [--isvprodid N]\n"
	"                      [--isvsvn N] [--debug] [--report-data HEX] [--quote-version 3|4]\n"
	"                      --out FILE\n"
	"       ppml sim pal [--dir DIR] [--stand-in] [--out FILE]\n"
	"\n"
	"A simulation PKI shaped like Intel's SGX provisioning PKI, under a root that is\n"
	"NOT Intel's: quotes made here verify only where that root is configured\n"
	"(`ppml quote verify --root-ca`, `ppml serve --sim-root-ca`), and every verdict\n"
	"on them says trust_anchor \"custom\": they are SIMULATED, never evidence of a\n"
	"genuine SGX platform.\n"
	"\n"
	"init        creates the PKI (P-256 keys, root, PCK CA, PCK and TCB signing\n"
	"            certificates) and fresh collateral in DIR/collateral; prints the\n"
	"            root certificate's path and SHA-256 fingerprint.  Refuses to replace\n"
	"            an existing PKI without --force.\n"
	"collateral  rewrites the collateral (TCB info, QE identity, CRLs; valid 30 days\n"
	"            by default) into OUT (default DIR/collateral).  --tcb-status makes the\n"
	"            platform's TCB level UpToDate, SWHardeningNeeded, ConfigurationNeeded,\n"
	"            ConfigurationAndSWHardeningNeeded, OutOfDate,\n"
	"            OutOfDateConfigurationNeeded or Revoked, with --advisory-ids.\n"
	"            --age-days N issues it N days ago (with --valid-days, stale sets).\n"
	"quote       writes a v3 (or v4) quote whose report body carries the given\n"
	"            identity and report data, signed through the PKI.  Collateral that\n"
	"            is missing or expires within 7 days is refreshed first.\n"
	"pal         prints the path of the PAL to sign and run against: Gramine's\n"
	"            sgx/libpal.so when Gramine is installed, else ppml-sim-pal.so, a\n"
	"            deterministic stand-in that ppml writes to DIR (the same bytes on\n"
	"            every machine).  An enclave measured with the stand-in has an\n"
	"            MRENCLAVE that NO real Gramine enclave has.  --stand-in: the\n"
	"            stand-in even when Gramine is installed; --out FILE: write it there.\n"
	"\n"
	"  --dir DIR          the PKI folder (default $PPML_SIM_DIR, else\n"
	"                     $XDG_DATA_HOME/ppml/sim, else ~/.local/share/ppml/sim)\n"
	"  --platform-ca      certify the platform through a Platform CA (default: Processor)\n"
	"  --mrenclave HEX    64 hex digits; --mrsigner likewise (default: zeros)\n"
	"  --isvprodid N, --isvsvn N   0..65535 (default 0)\n"
	"  --debug            set the DEBUG attribute (verifiers refuse it by default)\n"
	"  --report-data HEX  up to 128 hex digits, zero-padded to 64 bytes\n"
	"  --json             init: print the PKI's paths and fingerprint as JSON\n"
	"\n"
	"Exit status: 0 done, 2 usage, 3 failure (nothing is written then).\n";

#define DAY 86400

/* mkdir -p for the parents of dir (the last component is made by the save). */
static void make_parents(const char *dir)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		(void)mkdir(p, 0700);
		*s = '/';
	}
}

static bool parse_u16(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 65535 || s[0] == '-' || s[0] == '+')
		return false;
	*out = (uint16_t)v;
	return true;
}

static ppml_status write_collateral(const struct ppml_simpki *pki, const char *out_dir,
				    const char *status, const char *ids, long days, long age_days,
				    struct ppml_err *err)
{
	struct ppml_simpki_collateral_params cp = {0};
	struct ppml_simpki_tcb_level lv = {0};
	struct ppml_collateral c = {0};
	const struct ppml_simpki_params *pp = ppml_simpki_get_params(pki);
	char *idbuf = NULL;
	const char *idv[16];
	size_t n_ids = 0;
	ppml_status rc;

	cp.issue_date = (int64_t)time(NULL) - age_days * DAY;
	cp.next_update = cp.issue_date + days * DAY;
	if (status) {
		if (!ppml_tcb_status_from_name(status, &lv.status))
			return ppml_err_set(err, PPML_E_INPUT, "--tcb-status %s: expected UpToDate, "
					    "SWHardeningNeeded, ConfigurationNeeded, "
					    "ConfigurationAndSWHardeningNeeded, OutOfDate, "
					    "OutOfDateConfigurationNeeded or Revoked", status);
		memcpy(lv.comp_svn, pp->comp_svn, 16);
		lv.pcesvn = pp->pcesvn;
		lv.tcb_date = cp.issue_date - 30 * DAY;
		if (ids && *ids) {
			if (!(idbuf = strdup(ids)))
				return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
			for (char *save = NULL, *t = strtok_r(idbuf, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				if (n_ids == 16) {
					free(idbuf);
					return ppml_err_set(err, PPML_E_INPUT,
							    "--advisory-ids: at most 16");
				}
				idv[n_ids++] = t;
			}
		}
		lv.advisory_ids = idv;
		lv.n_advisory_ids = n_ids;
		cp.levels = &lv;
		cp.n_levels = 1;
	}
	rc = ppml_simpki_collateral(pki, &cp, &c, err);
	if (rc == PPML_OK)
		rc = ppml_collateral_save_dir(out_dir, &c, err);
	ppml_collateral_cleanup(&c);
	free(idbuf);
	return rc;
}

static int sim_init(const char *dir, bool platform, bool force, int json)
{
	struct ppml_err err = {0};
	struct ppml_simpki_params p = {.platform_ca = platform};
	struct ppml_simpki *pki = NULL;
	char coll[PATH_MAX], root[PATH_MAX], hex[65];
	uint8_t *der = NULL, h[32];
	size_t dl = 0;
	int rc = CLI_EXIT_FAILURE;

	snprintf(coll, sizeof(coll), "%s/collateral", dir);
	snprintf(root, sizeof(root), "%s/root.pem", dir);
	make_parents(dir);
	if (ppml_simpki_new(&p, &pki, &err) != PPML_OK ||
	    ppml_simpki_save(pki, dir, !force, &err) != PPML_OK ||
	    write_collateral(pki, coll, NULL, NULL, 30, 0, &err) != PPML_OK ||
	    ppml_simpki_root_der(pki, &der, &dl, &err) != PPML_OK) {
		rc = cli_fail("sim", &err);
		goto out;
	}
	SHA256(der, dl, h);
	ppml_hex_encode(h, 32, hex);
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "dir", dir, "root_ca", root,
				      "root_ca_sha256", hex, "collateral_dir", coll, "pck_ca",
				      platform ? "platform" : "processor");
		rc = cli_print_json(stdout, o) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
		goto out;
	}
	printf("simulation PKI: %s (SIMULATION: not an Intel root)\n", dir);
	printf("root_ca:        %s\n", root);
	printf("root_ca_sha256: %s\n", hex);
	printf("collateral:     %s (valid 30 days; `ppml sim quote` refreshes it)\n", coll);
	rc = CLI_EXIT_OK;
out:
	free(der);
	ppml_simpki_free(pki);
	return rc;
}

/* Refreshes DIR/collateral when it is missing, unreadable or expires
 * within 7 days (a refreshed set keeps no custom TCB status). */
static ppml_status ensure_collateral(const struct ppml_simpki *pki, const char *dir,
				     struct ppml_err *err)
{
	char coll[PATH_MAX];
	struct ppml_collateral c = {0};
	int64_t next = 0;
	bool fresh;

	snprintf(coll, sizeof(coll), "%s/collateral", dir);
	fresh = ppml_collateral_load_dir(coll, &c, NULL) == PPML_OK &&
		ppml_collateral_next_update(&c, &next, NULL) == PPML_OK &&
		next > (int64_t)time(NULL) + 7 * DAY;
	ppml_collateral_cleanup(&c);
	if (fresh)
		return PPML_OK;
	fprintf(stderr, "ppml sim: refreshing %s\n", coll);
	return write_collateral(pki, coll, NULL, NULL, 30, 0, err);
}

struct quote_args {
	const char *mrenclave, *mrsigner, *isvprodid, *isvsvn, *report_data, *version, *out;
	bool debug;
};

static int sim_quote(const char *dir, const struct quote_args *a)
{
	struct ppml_err err = {0};
	struct ppml_simpki *pki = NULL;
	struct ppml_sgx_report_body b = {0};
	struct ppml_simpki_quote_params qp = {0};
	uint8_t *q = NULL;
	size_t ql = 0;
	int rc;

	if (ppml_hex_decode(a->mrenclave, b.mrenclave, 32, "--mrenclave", &err) != PPML_OK ||
	    (a->mrsigner && ppml_hex_decode(a->mrsigner, b.mrsigner, 32, "--mrsigner", &err) !=
				    PPML_OK))
		return cli_usage_error("sim", "%s", err.msg);
	uint16_t prodid = 0, svn = 0;
	if ((a->isvprodid && !parse_u16(a->isvprodid, &prodid)) ||
	    (a->isvsvn && !parse_u16(a->isvsvn, &svn)))
		return cli_usage_error("sim", "--isvprodid / --isvsvn: expected 0..65535");
	b.isv_prod_id = prodid;
	b.isv_svn = svn;
	if (a->report_data) {
		size_t n = strlen(a->report_data);
		char padded[129];
		if (n > 128 || n % 2)
			return cli_usage_error("sim", "--report-data: expected an even number of hex "
						      "digits, at most 128");
		memset(padded, '0', 128);
		memcpy(padded, a->report_data, n);
		padded[128] = 0;
		if (ppml_hex_decode(padded, b.report_data, 64, "--report-data", &err) != PPML_OK)
			return cli_usage_error("sim", "%s", err.msg);
	}
	if (a->version) {
		if (strcmp(a->version, "3") != 0 && strcmp(a->version, "4") != 0)
			return cli_usage_error("sim", "--quote-version %s: expected 3 or 4",
					       a->version);
		qp.version = (unsigned)(a->version[0] - '0');
	}
	/* Flags as an SGX CPU sets them for a launched 64-bit enclave. */
	b.attributes_flags = PPML_SGX_ATTR_INIT | PPML_SGX_ATTR_MODE64BIT |
			     (a->debug ? PPML_SGX_ATTR_DEBUG : 0);
	b.attributes_xfrm = 0x03;
	if (ppml_simpki_load(dir, &pki, &err) != PPML_OK ||
	    ensure_collateral(pki, dir, &err) != PPML_OK ||
	    ppml_simpki_quote(pki, &b, &qp, &q, &ql, &err) != PPML_OK ||
	    ppml_file_write_atomic(a->out, q, ql, 0644, 0, &err) != PPML_OK) {
		rc = cli_fail("sim", &err);
		goto out;
	}
	fprintf(stderr, "ppml sim: wrote a SIMULATED v%u quote (%zu bytes) to %s\n",
		qp.version ? qp.version : 3, ql, a->out);
	rc = CLI_EXIT_OK;
out:
	free(q);
	ppml_simpki_free(pki);
	return rc;
}

/* ppml sim pal: Gramine's PAL when installed, else the stand-in (written
 * to DIR, or to --out). */
static int sim_pal(const char *dir, const char *out, bool stand_in)
{
	struct ppml_err err = {0};
	char p[PATH_MAX];
	const char *real = ppml_enclave_default_libpal();
	if (real && !stand_in && !out) {
		fprintf(stderr, "ppml sim pal: Gramine is installed: its PAL, %s\n", real);
		printf("%s\n", real);
		return CLI_EXIT_OK;
	}
	if (!out) {
		if (cli_sim_pal_path(dir, p, sizeof(p), &err) != PPML_OK)
			return cli_fail("sim", &err);
		out = p;
	} else if (ppml_simpal_write(out, &err) != PPML_OK) {
		return cli_fail("sim", &err);
	}
	fprintf(stderr, "ppml sim pal: the stand-in %s (SIMULATION ONLY: enclaves measured with it "
			"have an MRENCLAVE no real Gramine enclave has)\n", PPML_SIMPAL_NAME);
	printf("%s\n", out);
	return CLI_EXIT_OK;
}

int cmd_sim(int argc, char **argv)
{
	const char *dir = NULL, *out = NULL, *status = NULL, *ids = NULL, *days = NULL,
		   *age = NULL;
	struct quote_args qa = {0};
	bool platform = false, force = false;
	int json = 0;
	char dbuf[PATH_MAX];

	if (argc < 2)
		return cli_usage_error("sim", "missing subcommand (init, collateral or quote)");
	const char *sub = argv[1];
	bool is_init = strcmp(sub, "init") == 0, is_coll = strcmp(sub, "collateral") == 0,
	     is_quote = strcmp(sub, "quote") == 0;
	bool is_pal = strcmp(sub, "pal") == 0, stand_in = false;
	if (!is_init && !is_coll && !is_quote && !is_pal)
		return cli_usage_error("sim", "unknown subcommand '%s' (init, collateral, quote or "
				       "pal)", sub);
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		bool has = i + 1 < argc;
#define OPT(name, cond, var)                                                                \
	if ((cond) && strcmp(o, name) == 0 && has) {                                        \
		var = argv[++i];                                                            \
		continue;                                                                   \
	}
		OPT("--dir", true, dir);
		OPT("--out", is_coll || is_quote || is_pal, out);
		OPT("--tcb-status", is_coll, status);
		OPT("--advisory-ids", is_coll, ids);
		OPT("--valid-days", is_coll, days);
		OPT("--age-days", is_coll, age);
		OPT("--mrenclave", is_quote, qa.mrenclave);
		OPT("--mrsigner", is_quote, qa.mrsigner);
		OPT("--isvprodid", is_quote, qa.isvprodid);
		OPT("--isvsvn", is_quote, qa.isvsvn);
		OPT("--report-data", is_quote, qa.report_data);
		OPT("--quote-version", is_quote, qa.version);
#undef OPT
		if (is_init && strcmp(o, "--platform-ca") == 0)
			platform = true;
		else if (is_init && strcmp(o, "--force") == 0)
			force = true;
		else if (is_init && strcmp(o, "--json") == 0)
			json = 1;
		else if (is_quote && strcmp(o, "--debug") == 0)
			qa.debug = true;
		else if (is_pal && strcmp(o, "--stand-in") == 0)
			stand_in = true;
		else
			return cli_usage_error("sim", "unexpected argument '%s' for `ppml sim %s`", o,
					       sub);
	}
	if (!dir && !(dir = cli_sim_dir_default(dbuf, sizeof(dbuf))))
		return cli_usage_error("sim", "no --dir, and neither PPML_SIM_DIR, XDG_DATA_HOME "
					      "nor HOME is set");
	if (strlen(dir) > PATH_MAX - 32)
		return cli_usage_error("sim", "--dir: path too long");
	if (is_init)
		return sim_init(dir, platform, force, json);
	if (is_pal)
		return sim_pal(dir, out, stand_in);
	if (is_quote) {
		if (!qa.mrenclave || !out)
			return cli_usage_error("sim", "quote needs --mrenclave HEX and --out FILE");
		qa.out = out;
		return sim_quote(dir, &qa);
	}
	/* collateral */
	long nd = 30;
	if (days) {
		char *end;
		nd = strtol(days, &end, 10);
		if (*end || end == days || nd < 1 || nd > 3650)
			return cli_usage_error("sim", "--valid-days %s: expected 1..3650", days);
	}
	long na = 0;
	if (age) {
		char *end;
		na = strtol(age, &end, 10);
		if (*end || end == age || na < 0 || na > 3650)
			return cli_usage_error("sim", "--age-days %s: expected 0..3650", age);
	}
	if (ids && !status)
		return cli_usage_error("sim", "--advisory-ids needs --tcb-status");
	struct ppml_err err = {0};
	struct ppml_simpki *pki = NULL;
	char coll[PATH_MAX];
	snprintf(coll, sizeof(coll), "%s/collateral", dir);
	int rc = CLI_EXIT_OK;
	if (ppml_simpki_load(dir, &pki, &err) != PPML_OK ||
	    write_collateral(pki, out ? out : coll, status, ids, nd, na, &err) != PPML_OK)
		rc = err.code == PPML_E_INPUT && status ? cli_usage_error("sim", "%s", err.msg)
							: cli_fail("sim", &err);
	else
		fprintf(stderr, "ppml sim: wrote simulated collateral to %s (valid %ld days)\n",
			out ? out : coll, nd);
	ppml_simpki_free(pki);
	return rc;
}
