/* SPDX-License-Identifier: Apache-2.0 */
/* ppml attest: an enclave proves itself to `ppml serve` and gets a token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/client.h"
#include "ppml/file.h"
#include "ppml/hex.h"

const char cmd_attest_usage[] =
	"usage: ppml attest --service URL --policy NAME [--aud AUD] [--token-out FILE]\n"
	"                   [--runtime-data HEX] [--cacert FILE] [--json]\n"
	"\n"
	"Run inside the enclave (or under `ppml run --sim`): gets a nonce from the\n"
	"service, binds it into REPORTDATA, obtains a quote (Gramine's /dev/attestation\n"
	"with attestation_type dcap; else the simulated socket of `ppml run --sim`;\n"
	"never both), and posts it for the named policy.  On acceptance the token is\n"
	"written to --token-out (mode 0600) or printed.  Every check and reason is\n"
	"printed on refusal.\n"
	"\n"
	"Exit status: 0 accepted, 1 refused, 2 usage, 3 no verdict (service or quote\n"
	"source unavailable).\n";

int cmd_attest(int argc, char **argv)
{
	struct ppml_attest_opts o = {0};
	const char *token_out = NULL, *rd_hex = NULL;
	uint8_t rd[4096];
	int json = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;
		if (!strcmp(a, "--json"))
			json = 1;
		else if (!strcmp(a, "--service") && has)
			o.service = argv[++i];
		else if (!strcmp(a, "--policy") && has)
			o.policy = argv[++i];
		else if (!strcmp(a, "--aud") && has)
			o.aud = argv[++i];
		else if (!strcmp(a, "--cacert") && has)
			o.cacert = argv[++i];
		else if (!strcmp(a, "--token-out") && has)
			token_out = argv[++i];
		else if (!strcmp(a, "--runtime-data") && has)
			rd_hex = argv[++i];
		else if (!strcmp(a, "--dev-attestation") && has)
			o.dev_root = argv[++i]; /* tests: a folder standing in for /dev/attestation */
		else
			return cli_usage_error("attest", "unexpected argument '%s'", a);
	}
	if (!o.service || !o.policy)
		return cli_usage_error("attest", "--service URL and --policy NAME are required");
	if (rd_hex) {
		struct ppml_err e = {0};
		size_t n = strlen(rd_hex);
		if (n % 2 || n / 2 > sizeof(rd) ||
		    ppml_hex_decode(rd_hex, rd, n / 2, "--runtime-data", &e) != PPML_OK)
			return cli_usage_error("attest", "--runtime-data: expected hex, at most %zu "
							 "bytes", sizeof(rd));
		o.runtime_data = rd;
		o.runtime_data_len = n / 2;
	}
	struct ppml_attest_result r;
	struct ppml_err err = {0};
	if (ppml_client_attest(&o, &r, &err) != PPML_OK)
		return cli_fail("attest", &err);
	int rc = r.accepted ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
	fprintf(stderr, "ppml attest: %s by %s (policy %s, %s quote)\n",
		r.accepted ? "ACCEPTED" : "REFUSED", o.service, o.policy,
		ppml_quote_source_name(r.source));
	json_t *checks = json_object_get(r.response, "checks"), *reasons = json_object_get(r.response, "reasons"), *v;
	const char *k;
	size_t i;
	if (!r.accepted && !json) {
		json_object_foreach(checks, k, v)
		if (strcmp(json_string_value(v), "pass") != 0)
			fprintf(stderr, "  %-16s %s\n", k, json_string_value(v));
		json_array_foreach(reasons, i, v)
		fprintf(stderr, "  - %s\n", json_string_value(v));
	}
	if (r.accepted && token_out) {
		size_t tl = strlen(r.token);
		char *line = malloc(tl + 2);
		if (!line) {
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
		memcpy(line, r.token, tl);
		line[tl] = '\n';
		if (ppml_file_write_atomic(token_out, line, tl + 1, 0600, 0, &err) != PPML_OK) {
			free(line);
			rc = cli_fail("attest", &err);
			goto out;
		}
		free(line);
	}
	if (json) {
		json_t *o2 = json_deep_copy(r.response);
		json_object_set_new(o2, "source", json_string(ppml_quote_source_name(r.source)));
		if (token_out)
			json_object_del(o2, "token");
		if (cli_print_json(stdout, o2) != 0)
			rc = CLI_EXIT_FAILURE;
	} else if (r.accepted && !token_out) {
		printf("%s\n", r.token);
	}
out:
	ppml_attest_result_cleanup(&r);
	return rc;
}
