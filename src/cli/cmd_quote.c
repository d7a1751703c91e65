/* SPDX-License-Identifier: Apache-2.0 */
/* ppml quote show|verify: SGX DCAP quotes (shared/spec/dcap-quote-verification.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/client.h"
#include "ppml/dcap.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/limits.h"
#include "ppml/pccs.h"
#include "ppml/quote.h"
#include "ppml/timeutil.h"

const char cmd_quote_usage[] =
	"usage: ppml quote show QUOTE [--json]\n"
	"       ppml quote verify QUOTE (--collateral-dir DIR | --pccs-url URL [--cacert FILE])\n"
	"                         [--at UNIX|RFC3339] [--root-ca FILE] [--json]\n"
	"       ppml quote get --report-data HEX --out FILE\n"
	"\n"
	"show     parses an SGX ECDSA quote (v3, or v4 with certification data type 6)\n"
	"         and prints its header, the enclave's report body (MRENCLAVE, MRSIGNER,\n"
	"         ISVPRODID, ISVSVN, attributes, DEBUG, REPORTDATA), the QE report and the\n"
	"         PCK certificate's SGX extension (FMSPC, PCE-ID, TCB SVNs).  Nothing is\n"
	"         verified.\n"
	"verify   verifies the quote as Intel's QVL/QvE does: PCK chain to the pinned Intel\n"
	"         SGX Root CA, Root CA and PCK CRLs, TCB info and QE identity with their\n"
	"         signing chain, the QE report and quote signatures, the QE identity and\n"
	"         the TCB level.  Prints the TCB status, advisory IDs, TCB date and whether\n"
	"         the collateral has expired at the verification time.\n"
	"get      (inside an enclave) obtains a quote over REPORTDATA from Gramine's\n"
	"         /dev/attestation (attestation_type \"dcap\"), or else from the\n"
	"         simulated attestation socket of `ppml run --sim`; never both.\n"
	"\n"
	"  --collateral-dir DIR  tcb_info.json, tcb_info_issuer_chain.pem, qe_identity.json,\n"
	"                        qe_identity_issuer_chain.pem, pck_crl.der,\n"
	"                        pck_crl_issuer_chain.pem, root_ca_crl.der (see\n"
	"                        `ppml collateral fetch`)\n"
	"  --pccs-url URL        fetch the collateral for the quote's FMSPC and PCK CA from a\n"
	"                        PCCS (v4 API) instead, e.g. https://pccs.example:8081\n"
	"  --cacert FILE         CA certificates (PEM) for the PCCS's HTTPS certificate\n"
	"                        (default: the system store)\n"
	"  --at T                verification time (default: now), Unix seconds or RFC 3339\n"
	"  --root-ca FILE        also trust this root (PEM or DER): test and simulation PKIs\n"
	"                        only; such quotes are reported trust_anchor \"custom\" and are\n"
	"                        simulated for every consumer\n"
	"  --json                one JSON object (the verdict) on stdout\n"
	"\n"
	"Exit status: 0 verified (whatever the TCB status: accepting it is policy's job),\n"
	"1 the quote failed verification (revoked, TCB not supported, a bad signature...),\n"
	"2 usage, 3 unreadable or malformed input.\n";

static int show(const char *file, int json)
{
	struct ppml_err err = {0};
	uint8_t *data = NULL;
	size_t len = 0;
	struct ppml_quote q;
	struct ppml_pck_ext ext;
	bool platform = false, have_pck;
	int rc;

	if (ppml_file_read(file, PPML_QUOTE_MAX_SIZE, &data, &len, &err) != PPML_OK)
		return cli_fail("quote", &err);
	if (ppml_quote_parse(data, len, &q, &err) != PPML_OK) {
		ppml_err_prefix(&err, "%s: ", file);
		rc = cli_fail("quote", &err);
		goto out;
	}
	have_pck = ppml_quote_pck_info(&q, &ext, &platform, &err) == PPML_OK;
	if (!have_pck)
		fprintf(stderr, "ppml quote: %s: %s\n", file, err.msg);
	if (json) {
		json_t *o = ppml_quote_json(&q, have_pck ? &ext : NULL);
		if (o && have_pck)
			json_object_set_new(json_object_get(o, "pck"), "ca",
					    json_string(platform ? "platform" : "processor"));
		rc = cli_print_json(stdout, o) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
		goto out;
	}
	char h[129];
	const struct ppml_sgx_report_body *b = &q.body;
	printf("quote:        v%u, %zu bytes, ECDSA P-256, certification data type %u\n",
	       q.header.version, q.len, q.cert_type);
	printf("qe_svn:       %u (header)\npce_svn:      %u (header)\n", q.header.qe_svn,
	       q.header.pce_svn);
	ppml_hex_encode(b->mrenclave, 32, h);
	printf("mrenclave:    %s\n", h);
	ppml_hex_encode(b->mrsigner, 32, h);
	printf("mrsigner:     %s\n", h);
	printf("isvprodid:    %u\nisvsvn:       %u\n", b->isv_prod_id, b->isv_svn);
	printf("attributes:   flags %016" PRIx64 " xfrm %016" PRIx64 "%s\n", b->attributes_flags,
	       b->attributes_xfrm,
	       (b->attributes_flags & PPML_SGX_ATTR_DEBUG) ? " (DEBUG enclave)" : "");
	ppml_hex_encode(b->report_data, 64, h);
	printf("report_data:  %s\n", h);
	printf("qe isvsvn:    %u\n", q.qe_report.isv_svn);
	if (have_pck) {
		ppml_hex_encode(ext.fmspc, 6, h);
		printf("fmspc:        %s (%s CA)\n", h, platform ? "platform" : "processor");
		ppml_hex_encode(ext.pceid, 2, h);
		printf("pceid:        %s\npcesvn:       %u (PCK certificate)\n", h, ext.pcesvn);
		printf("tcb svns:    ");
		for (int i = 0; i < 16; i++)
			printf(" %u", ext.comp_svn[i]);
		printf("\n");
	}
	rc = CLI_EXIT_OK;
out:
	free(data);
	return rc;
}

/* The collateral for the quote's FMSPC and PCK CA, fetched from a PCCS.  A quote
 * whose PCK certificate cannot be read is reported as a malformed input here;
 * the verifier would refuse it the same way. */
static ppml_status fetch_for_quote(const char *file, const uint8_t *data, size_t len,
				   const char *url, const char *cacert, struct ppml_collateral *out,
				   struct ppml_err *err)
{
	struct ppml_quote q;
	struct ppml_pck_ext ext;
	bool platform = false;
	struct ppml_pccs_options opt = {.cacert = cacert};
	struct ppml_pccs_client *client = NULL;
	ppml_status st;

	if ((st = ppml_quote_parse(data, len, &q, err)) != PPML_OK ||
	    (st = ppml_quote_pck_info(&q, &ext, &platform, err)) != PPML_OK) {
		ppml_err_prefix(err, "%s: ", file);
		return st;
	}
	if ((st = ppml_pccs_client_new(url, &opt, &client, err)) == PPML_OK)
		st = ppml_pccs_fetch_collateral(
			client, ext.fmspc, platform ? PPML_PCK_CA_PLATFORM : PPML_PCK_CA_PROCESSOR,
			out, err);
	ppml_pccs_client_free(client);
	return st;
}

static int verify(const char *file, const char *dir, const char *pccs, const char *cacert,
		  const char *at_s, const char *root_ca, int json)
{
	struct ppml_err err = {0};
	uint8_t *data = NULL, *root = NULL;
	size_t len = 0, root_len = 0;
	struct ppml_collateral c = {0};
	struct ppml_dcap_verifier *v = NULL;
	struct ppml_verdict vd = {0};
	int64_t at = (int64_t)time(NULL);
	int rc;
	ppml_status st;

	if (at_s && !ppml_time_parse_arg(at_s, &at))
		return cli_usage_error("quote", "--at '%s': expected Unix seconds or an RFC 3339 time "
						"such as 2025-08-15T05:45:00Z",
				       at_s);
	if (ppml_file_read(file, PPML_QUOTE_MAX_SIZE, &data, &len, &err) != PPML_OK ||
	    (dir ? ppml_collateral_load_dir(dir, &c, &err)
		 : fetch_for_quote(file, data, len, pccs, cacert, &c, &err)) != PPML_OK ||
	    (root_ca && ppml_file_read(root_ca, PPML_KEY_MAX_FILE, &root, &root_len, &err) != PPML_OK)) {
		rc = cli_fail("quote", &err);
		goto out;
	}
	if (ppml_dcap_verifier_new(root, root_len, &v, &err) != PPML_OK) {
		ppml_err_prefix(&err, "%s: ", root_ca ? root_ca : "verifier");
		rc = cli_fail("quote", &err);
		goto out;
	}
	st = ppml_dcap_verify(v, data, len, &c, at, &vd, &err);
	if (json) {
		json_t *o = ppml_verdict_json(&vd);
		if (o && st != PPML_OK)
			json_object_set_new(o, "error", json_string(err.msg));
		if (cli_print_json(stdout, o) != 0) {
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
		if (st != PPML_OK)
			fprintf(stderr, "ppml quote: %s: %s\n", file, err.msg);
		rc = cli_exit_for(st);
		goto out;
	}
	if (st != PPML_OK) {
		ppml_err_prefix(&err, "%s: %s: ", file,
				vd.failure != PPML_QV_OK ? ppml_qv_failure_name(vd.failure) : "error");
		rc = cli_fail("quote", &err);
		goto out;
	}
	char tb[PPML_TIME_RFC3339_LEN], h[65];
	printf("verified:     yes (%s root%s)\n", vd.custom_anchor ? "custom" : "Intel SGX",
	       vd.custom_anchor ? ": SIMULATED, not a genuine SGX platform" : "");
	printf("tcb_status:   %s\n", ppml_tcb_status_name(vd.tcb_status));
	printf("advisories:   ");
	for (size_t i = 0; i < vd.n_advisory_ids; i++)
		printf("%s%s", i ? ", " : "", vd.advisory_ids[i]);
	printf("%s\n", vd.n_advisory_ids ? "" : "none");
	if (ppml_time_format(vd.tcb_date, tb))
		printf("tcb_date:     %s (evaluation data number %u)\n", tb,
		       vd.tcb_evaluation_data_number);
	if (ppml_time_format(vd.collateral_expires_at, tb))
		printf("collateral:   %s (expires %s)\n",
		       vd.collateral_expired ? "EXPIRED at the verification time" : "valid", tb);
	ppml_hex_encode(vd.body.mrenclave, 32, h);
	printf("mrenclave:    %s\n", h);
	ppml_hex_encode(vd.body.mrsigner, 32, h);
	printf("mrsigner:     %s\n", h);
	printf("isvprodid:    %u\nisvsvn:       %u\ndebug:        %s\n", vd.body.isv_prod_id,
	       vd.body.isv_svn, (vd.body.attributes_flags & PPML_SGX_ATTR_DEBUG) ? "yes" : "no");
	rc = CLI_EXIT_OK;
out:
	ppml_verdict_cleanup(&vd);
	ppml_dcap_verifier_free(v);
	ppml_collateral_cleanup(&c);
	free(data);
	free(root);
	return rc;
}

/* ppml quote get: the quote source of include/ppml/client.h. */
static int get(int argc, char **argv)
{
	const char *rd_hex = NULL, *out = NULL, *dev = NULL;
	uint8_t rd[64] = {0}, *q = NULL;
	size_t ql = 0;
	enum ppml_quote_source src;
	struct ppml_err err = {0};

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--report-data") == 0 && i + 1 < argc)
			rd_hex = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--dev-attestation") == 0 && i + 1 < argc)
			dev = argv[++i]; /* tests: a folder standing in for /dev/attestation */
		else
			return cli_usage_error("quote", "unexpected argument '%s'", argv[i]);
	}
	if (!rd_hex || !out)
		return cli_usage_error("quote", "get needs --report-data HEX and --out FILE");
	size_t n = strlen(rd_hex);
	char padded[129];
	if (n > 128 || n % 2)
		return cli_usage_error("quote", "--report-data: expected an even number of hex "
						"digits, at most 128");
	memset(padded, '0', 128);
	memcpy(padded, rd_hex, n);
	padded[128] = 0;
	if (ppml_hex_decode(padded, rd, 64, "--report-data", &err) != PPML_OK)
		return cli_usage_error("quote", "%s", err.msg);
	if (ppml_client_get_quote(dev, rd, &q, &ql, &src, &err) != PPML_OK ||
	    ppml_file_write_atomic(out, q, ql, 0644, 0, &err) != PPML_OK) {
		free(q);
		return cli_fail("quote", &err);
	}
	fprintf(stderr, "ppml quote: wrote a %zu-byte quote from %s to %s\n", ql,
		ppml_quote_source_name(src), out);
	free(q);
	return CLI_EXIT_OK;
}

int cmd_quote(int argc, char **argv)
{
	const char *file = NULL, *dir = NULL, *at = NULL, *root_ca = NULL, *pccs = NULL,
		   *cacert = NULL;
	int json = 0, is_verify;

	if (argc < 2)
		return cli_usage_error("quote", "missing subcommand (show or verify)");
	if (strcmp(argv[1], "get") == 0)
		return get(argc, argv);
	is_verify = strcmp(argv[1], "verify") == 0;
	if (!is_verify && strcmp(argv[1], "show") != 0)
		return cli_usage_error("quote", "unknown subcommand '%s' (show, verify or get)", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (is_verify && strcmp(argv[i], "--collateral-dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (is_verify && strcmp(argv[i], "--pccs-url") == 0 && i + 1 < argc)
			pccs = argv[++i];
		else if (is_verify && strcmp(argv[i], "--cacert") == 0 && i + 1 < argc)
			cacert = argv[++i];
		else if (is_verify && strcmp(argv[i], "--at") == 0 && i + 1 < argc)
			at = argv[++i];
		else if (is_verify && strcmp(argv[i], "--root-ca") == 0 && i + 1 < argc)
			root_ca = argv[++i];
		else if (!file && argv[i][0] != '-')
			file = argv[i];
		else
			return cli_usage_error("quote", "unexpected argument '%s'", argv[i]);
	}
	if (!file)
		return cli_usage_error("quote", "missing QUOTE file");
	if (!is_verify)
		return show(file, json);
	if (!dir == !pccs)
		return cli_usage_error("quote", "verify needs exactly one of --collateral-dir DIR "
						"(fetch one with `ppml collateral fetch`) and "
						"--pccs-url URL");
	if (cacert && !pccs)
		return cli_usage_error("quote", "--cacert applies to --pccs-url only");
	return verify(file, dir, pccs, cacert, at, root_ca, json);
}
