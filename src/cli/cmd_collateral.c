/* SPDX-License-Identifier: Apache-2.0 */
/* ppml collateral fetch: a collateral folder from a PCCS
 * (shared/spec/dcap-quote-verification.md section 5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/collateral.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/limits.h"
#include "ppml/pccs.h"
#include "ppml/quote.h"
#include "ppml/timeutil.h"

const char cmd_collateral_usage[] =
	"usage: ppml collateral fetch --pccs-url URL (--quote QUOTE | --fmspc HEX --ca CA)\n"
	"                             --out DIR [--cacert FILE] [--timeout SECONDS] [--json]\n"
	"\n"
	"fetch    downloads the verification collateral of one platform from a PCCS\n"
	"         through the v4 API: TCB info and QE identity with their issuer\n"
	"         chains, the PCK CRL of the platform's CA with its chain, and the Root CA\n"
	"         CRL.  CRLs are stored as DER.  The seven files of DIR (see `ppml quote\n"
	"         verify --collateral-dir`) are replaced together or not at all.  Nothing\n"
	"         is verified here: `ppml quote verify` does that.\n"
	"\n"
	"  --pccs-url URL     e.g. https://pccs.example:8081 (the /sgx/certification/v4/\n"
	"                     paths are added); http:// only for local tests\n"
	"  --quote QUOTE      take the FMSPC and CA from the quote's PCK certificate\n"
	"  --fmspc HEX        the platform's FMSPC (12 hex digits)\n"
	"  --ca CA            processor or platform: the PCK CA that issued its certificate\n"
	"  --out DIR          the collateral folder (created if missing)\n"
	"  --cacert FILE      trust these CA certificates (PEM) for the PCCS's HTTPS\n"
	"                     instead of the system store\n"
	"  --timeout SECONDS  per request (default 30)\n"
	"  --json             print what was written as JSON\n"
	"\n"
	"Exit status: 0 written, 2 usage, 3 the PCCS failed or the folder could not be\n"
	"written (nothing is written then).\n";

struct fetch_args {
	const char *url, *quote, *fmspc_hex, *ca_name, *out, *cacert, *timeout;
	int json;
};

/* FMSPC and CA from the quote's PCK leaf (SGX extension, issuer CN). */
static ppml_status from_quote(const char *file, uint8_t fmspc[6], enum ppml_pck_ca *ca,
			      struct ppml_err *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	struct ppml_quote q;
	struct ppml_pck_ext ext;
	bool platform = false;
	ppml_status rc = ppml_file_read(file, PPML_QUOTE_MAX_SIZE, &data, &len, err);
	if (rc != PPML_OK)
		return rc;
	rc = ppml_quote_parse(data, len, &q, err);
	if (rc == PPML_OK)
		rc = ppml_quote_pck_info(&q, &ext, &platform, err);
	if (rc == PPML_OK) {
		memcpy(fmspc, ext.fmspc, 6);
		*ca = platform ? PPML_PCK_CA_PLATFORM : PPML_PCK_CA_PROCESSOR;
	} else {
		ppml_err_prefix(err, "%s: ", file);
	}
	free(data);
	return rc;
}

static json_t *file_json(const uint8_t *p, size_t n)
{
	uint8_t md[32];
	unsigned int ml = 0;
	char hex[65];
	if (!EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL))
		return NULL;
	ppml_hex_encode(md, 32, hex);
	return json_pack("{s:I,s:s}", "bytes", (json_int_t)n, "sha256", hex);
}

static int fetch(const struct fetch_args *a)
{
	struct ppml_pccs_options opt = {0};
	struct ppml_pccs_client *client = NULL;
	struct ppml_collateral c = {0};
	struct ppml_err err = {0};
	uint8_t fmspc[6];
	enum ppml_pck_ca ca = PPML_PCK_CA_PROCESSOR;
	char fmhex[13], when[PPML_TIME_RFC3339_LEN] = "";
	int64_t next = 0;
	int rc;

	if (a->quote) {
		if (from_quote(a->quote, fmspc, &ca, &err) != PPML_OK)
			return cli_fail("collateral", &err);
	} else {
		if (ppml_hex_decode(a->fmspc_hex, fmspc, 6, "--fmspc", &err) != PPML_OK)
			return cli_usage_error("collateral", "%s", err.msg);
		if (!ppml_pck_ca_from_name(a->ca_name, &ca))
			return cli_usage_error("collateral", "--ca %s: expected processor or platform",
					       a->ca_name);
	}
	if (a->timeout) {
		char *end;
		long s = strtol(a->timeout, &end, 10);
		if (*end || s < 1 || s > 3600)
			return cli_usage_error("collateral", "--timeout %s: 1..3600 seconds",
					       a->timeout);
		opt.timeout_ms = s * 1000;
	}
	opt.cacert = a->cacert;
	ppml_hex_encode(fmspc, 6, fmhex);
	if (ppml_pccs_client_new(a->url, &opt, &client, &err) != PPML_OK) {
		rc = err.code == PPML_E_INPUT ? cli_usage_error("collateral", "%s", err.msg)
					      : cli_fail("collateral", &err);
		goto out;
	}
	fprintf(stderr, "ppml collateral: fetching FMSPC %s, %s CA, from %s\n", fmhex,
		ppml_pck_ca_name(ca), a->url);
	if (ppml_pccs_fetch_collateral(client, fmspc, ca, &c, &err) != PPML_OK ||
	    ppml_collateral_save_dir(a->out, &c, &err) != PPML_OK) {
		rc = cli_fail("collateral", &err);
		goto out;
	}
	/* Informational: the verifier decides what an expired set means. */
	if (ppml_collateral_next_update(&c, &next, &err) == PPML_OK)
		ppml_time_format(next, when);
	fprintf(stderr, "ppml collateral: wrote %d files to %s%s%s\n", PPML_COLLATERAL_NFILES,
		a->out, when[0] ? "; earliest nextUpdate " : "", when);
	rc = CLI_EXIT_OK;
	if (a->json) {
		const uint8_t *p[PPML_COLLATERAL_NFILES] = {
			c.tcb_info, c.tcb_info_issuer_chain, c.qe_identity,
			c.qe_identity_issuer_chain, c.pck_crl, c.pck_crl_issuer_chain,
			c.root_ca_crl};
		const size_t n[PPML_COLLATERAL_NFILES] = {
			c.tcb_info_len, c.tcb_info_issuer_chain_len, c.qe_identity_len,
			c.qe_identity_issuer_chain_len, c.pck_crl_len, c.pck_crl_issuer_chain_len,
			c.root_ca_crl_len};
		json_t *files = json_object();
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o*}", "out", a->out, "pccs_url", a->url,
				      "fmspc", fmhex, "ca", ppml_pck_ca_name(ca), "files", files);
		for (int i = 0; o && i < PPML_COLLATERAL_NFILES; i++)
			json_object_set_new(files, ppml_collateral_files[i], file_json(p[i], n[i]));
		if (o)
			json_object_set_new(o, "next_update", when[0] ? json_string(when) : json_null());
		if (cli_print_json(stdout, o) != 0)
			rc = CLI_EXIT_FAILURE;
	}
out:
	ppml_collateral_cleanup(&c);
	ppml_pccs_client_free(client);
	return rc;
}

int cmd_collateral(int argc, char **argv)
{
	struct fetch_args a = {0};

	if (argc < 2)
		return cli_usage_error("collateral", "missing subcommand (fetch)");
	if (strcmp(argv[1], "fetch") != 0)
		return cli_usage_error("collateral", "unknown subcommand '%s' (fetch)", argv[1]);
	for (int i = 2; i < argc; i++) {
		const char **slot = NULL;
		if (strcmp(argv[i], "--json") == 0) {
			a.json = 1;
			continue;
		}
		if (strcmp(argv[i], "--pccs-url") == 0)
			slot = &a.url;
		else if (strcmp(argv[i], "--quote") == 0)
			slot = &a.quote;
		else if (strcmp(argv[i], "--fmspc") == 0)
			slot = &a.fmspc_hex;
		else if (strcmp(argv[i], "--ca") == 0)
			slot = &a.ca_name;
		else if (strcmp(argv[i], "--out") == 0)
			slot = &a.out;
		else if (strcmp(argv[i], "--cacert") == 0)
			slot = &a.cacert;
		else if (strcmp(argv[i], "--timeout") == 0)
			slot = &a.timeout;
		if (!slot)
			return cli_usage_error("collateral", "unexpected argument '%s'", argv[i]);
		if (i + 1 >= argc)
			return cli_usage_error("collateral", "%s needs a value", argv[i]);
		if (*slot)
			return cli_usage_error("collateral", "%s given twice", argv[i]);
		*slot = argv[++i];
	}
	if (!a.url)
		return cli_usage_error("collateral", "missing --pccs-url URL");
	if (!a.out)
		return cli_usage_error("collateral", "missing --out DIR");
	if (a.quote && (a.fmspc_hex || a.ca_name))
		return cli_usage_error("collateral", "--quote and --fmspc/--ca exclude each other");
	if (!a.quote && (!a.fmspc_hex || !a.ca_name))
		return cli_usage_error("collateral", "give --quote QUOTE, or both --fmspc HEX and "
						     "--ca processor|platform");
	return fetch(&a);
}
