/* SPDX-License-Identifier: Apache-2.0 */
/* ppml audit verify: the service's hash-chained audit log and its signed
 * checkpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/file.h"
#include "ppml/jwt.h"
#include "ppml/service.h"

const char cmd_audit_usage[] =
	"usage: ppml audit verify --service URL --credential-file F [--cacert F]\n"
	"                         [--save FILE] [--json]\n"
	"       ppml audit verify --log FILE --jwks FILE [--json]\n"
	"\n"
	"Fetches the whole audit log (GET /v1/audit, admin) and the service's key set,\n"
	"then checks every entry's hash against its content and its predecessor (an\n"
	"altered, removed or reordered entry is named) and every signed checkpoint of\n"
	"the chain head against the key set.  --save keeps the fetched log for offline\n"
	"checks (--log, with a saved JWKS).\n"
	"Exit status: 0 the chain verifies, 1 it does not, 2 usage, 3 other.\n";

int cmd_audit(int argc, char **argv)
{
	struct cli_service svc = {0};
	const char *logf = NULL, *jwksf = NULL, *save = NULL;
	int json = 0;
	if (argc < 2 || strcmp(argv[1], "verify") != 0)
		return cli_usage_error("audit", "expected `audit verify`");
	for (int i = 2; i < argc; i++) {
		if (cli_service_opt(&svc, argc, argv, &i))
			continue;
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--log") && i + 1 < argc)
			logf = argv[++i];
		else if (!strcmp(argv[i], "--jwks") && i + 1 < argc)
			jwksf = argv[++i];
		else if (!strcmp(argv[i], "--save") && i + 1 < argc)
			save = argv[++i];
		else
			return cli_usage_error("audit", "unexpected argument '%s'", argv[i]);
	}
	json_t *log = NULL, *keys = NULL;
	struct ppml_jwks *jwks = NULL;
	struct ppml_err err = {0};
	int rc = CLI_EXIT_OK;
	char *kt = NULL;
	if (logf) {
		json_error_t je;
		if (!jwksf)
			return cli_usage_error("audit", "--log needs --jwks FILE");
		if (!(log = json_load_file(logf, JSON_REJECT_DUPLICATES, &je)) ||
		    !(keys = json_load_file(jwksf, JSON_REJECT_DUPLICATES, &je))) {
			fprintf(stderr, "ppml audit: %s: not JSON: %s\n", log ? jwksf : logf, je.text);
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
	} else {
		if ((rc = cli_service_call("audit", &svc, true, "GET", "/v1/audit?from=1&limit=100000",
					   NULL, NULL, 0, &log, NULL)) != CLI_EXIT_OK ||
		    (rc = cli_service_call("audit", &svc, false, "GET", "/.well-known/jwks.json", NULL,
					   NULL, 0, &keys, NULL)) != CLI_EXIT_OK)
			goto out;
		if (save && json_dump_file(log, save, JSON_COMPACT) != 0) {
			fprintf(stderr, "ppml audit: cannot write %s\n", save);
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
	}
	/* The service's keys, and the retired ones its log lists (same trust:
	 * both come from the service). */
	json_t *all = json_object_get(keys, "keys");
	json_t *lk = json_object_get(log, "keys"), *k;
	size_t ki;
	json_array_foreach(lk, ki, k)
	{
		const char *kid = json_string_value(json_object_get(k, "kid"));
		bool have = false;
		json_t *x;
		size_t xi;
		json_array_foreach(all, xi, x)
		have = have || (kid && json_string_value(json_object_get(x, "kid")) &&
				!strcmp(kid, json_string_value(json_object_get(x, "kid"))));
		if (!have && json_is_array(all))
			json_array_append(all, k);
	}
	kt = json_dumps(keys, JSON_COMPACT);
	if (!kt || ppml_jwks_parse(kt, strlen(kt), &jwks, NULL, &err) != PPML_OK) {
		rc = cli_fail("audit", &err);
		goto out;
	}
	uint64_t n = 0;
	size_t nc = 0;
	ppml_status st = ppml_audit_verify(json_object_get(log, "entries"),
					   json_object_get(log, "checkpoints"), jwks, &n, &nc, &err);
	if (json) {
		json_t *o = json_pack("{s:b, s:I, s:I, s:s?}", "ok", st == PPML_OK, "entries",
				      (json_int_t)n, "checkpoints", (json_int_t)nc, "error",
				      st == PPML_OK ? NULL : err.msg);
		if (cli_print_json(stdout, o) != 0)
			rc = CLI_EXIT_FAILURE;
	}
	if (st != PPML_OK) {
		rc = cli_fail("audit", &err);
		goto out;
	}
	if (!json)
		printf("audit chain verified: %llu entries, %zu signed checkpoints\n",
		       (unsigned long long)n, nc);
	if (nc == 0)
		fprintf(stderr, "ppml audit: no signed checkpoint yet: the chain is consistent, "
				"but nothing signed vouches for its head\n");
out:
	free(kt);
	ppml_jwks_free(jwks);
	json_decref(log);
	json_decref(keys);
	return rc;
}
