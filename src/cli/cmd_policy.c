/* SPDX-License-Identifier: Apache-2.0 */
/* ppml policy put|get|list|delete|check: attestation policies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/file.h"
#include "ppml/policy.h"

const char cmd_policy_usage[] =
	"usage: ppml policy check FILE [--json]\n"
	"       ppml policy put NAME FILE   --service URL --credential-file F [--cacert F]\n"
	"       ppml policy get NAME [--version N] ...\n"
	"       ppml policy list ...\n"
	"       ppml policy delete NAME ...\n"
	"\n"
	"Attestation policies (TOML or JSON; see docs/http-api.md):\n"
	"  identities = [{ mrenclave = HEX }, { mrsigner = HEX, isvprodid = N, min_isvsvn = N }]\n"
	"  allow_debug, accepted_tcb_statuses, exceptions = [{ status, advisory_ids,\n"
	"  expires_at }], allow_expired_collateral, max_collateral_age_s,\n"
	"  min_tcb_evaluation_data_number, allow_simulation, audience.\n"
	"\n"
	"check   parses FILE locally and prints its canonical form and SHA-256\n"
	"put     stores FILE as the next version of NAME (every change is kept)\n"
	"get     the latest (or --version N) canonical policy with its version and hash\n"
	"list    every live policy\n"
	"delete  hides NAME (its versions stay in the database and the audit log)\n"
	"\n"
	"Exit status: 0 ok, 1 refused by the service (credential), 2 usage, 3 other.\n";

static int check(const char *file, int json)
{
	struct ppml_err err = {0};
	uint8_t *text = NULL;
	size_t len = 0;
	struct ppml_policy *p = NULL;
	char *canon = NULL, sha[65];
	int rc;
	if (ppml_file_read(file, PPML_POLICY_MAX_SIZE, &text, &len, &err) != PPML_OK ||
	    ppml_policy_parse((const char *)text, len, &p, &err) != PPML_OK ||
	    ppml_policy_canonical(p, &canon, sha, &err) != PPML_OK) {
		ppml_err_prefix(&err, "%s: ", file);
		rc = cli_fail("policy", &err);
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:o}", "file", file, "sha256", sha, "policy",
				      json_loads(canon, 0, NULL));
		rc = cli_print_json(stdout, o) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	} else {
		printf("%s\nsha256: %s\n", canon, sha);
		if (p->n_identities == 0)
			fprintf(stderr, "ppml policy: %s: no identities: this policy refuses every "
					"quote\n", file);
		rc = CLI_EXIT_OK;
	}
out:
	free(canon);
	ppml_policy_free(p);
	free(text);
	return rc;
}

int cmd_policy(int argc, char **argv)
{
	struct cli_service svc = {0};
	const char *pos[2] = {NULL, NULL}, *version = NULL;
	size_t npos = 0;
	int json = 0;
	if (argc < 2)
		return cli_usage_error("policy", "missing subcommand (check, put, get, list, delete)");
	const char *sub = argv[1];
	for (int i = 2; i < argc; i++) {
		if (cli_service_opt(&svc, argc, argv, &i))
			continue;
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--version") && i + 1 < argc)
			version = argv[++i];
		else if (argv[i][0] != '-' && npos < 2)
			pos[npos++] = argv[i];
		else
			return cli_usage_error("policy", "unexpected argument '%s'", argv[i]);
	}
	if (!strcmp(sub, "check")) {
		if (npos != 1)
			return cli_usage_error("policy", "check needs FILE");
		return check(pos[0], json);
	}
	char path[512];
	json_t *out = NULL;
	int rc;
	if (!strcmp(sub, "put")) {
		uint8_t *text = NULL;
		size_t len = 0;
		struct ppml_err err = {0};
		if (npos != 2 || !ppml_policy_name_ok(pos[0]))
			return cli_usage_error("policy", "put needs NAME ([A-Za-z0-9._-]) and FILE");
		if (ppml_file_read(pos[1], PPML_POLICY_MAX_SIZE, &text, &len, &err) != PPML_OK)
			return cli_fail("policy", &err);
		snprintf(path, sizeof(path), "/v1/policies/%s", pos[0]);
		rc = cli_service_call("policy", &svc, true, "PUT", path, "application/toml", text, len,
				      &out, NULL);
		free(text);
		if (rc == CLI_EXIT_OK && !json)
			fprintf(stderr, "ppml policy: %s is now version %lld (sha256 %s)\n", pos[0],
				(long long)json_integer_value(json_object_get(out, "version")),
				json_string_value(json_object_get(out, "sha256")));
	} else if (!strcmp(sub, "get") || !strcmp(sub, "delete")) {
		if (npos != 1 || !ppml_policy_name_ok(pos[0]))
			return cli_usage_error("policy", "%s needs NAME", sub);
		snprintf(path, sizeof(path), "/v1/policies/%s%s%s", pos[0],
			 version ? "?version=" : "", version ? version : "");
		rc = cli_service_call("policy", &svc, true, sub[0] == 'g' ? "GET" : "DELETE", path,
				      NULL, NULL, 0, &out, NULL);
		if (rc == CLI_EXIT_OK && sub[0] == 'g' && !json) {
			char *pj = json_dumps(json_object_get(out, "policy"), JSON_INDENT(2));
			printf("# %s version %lld, sha256 %s\n%s\n", pos[0],
			       (long long)json_integer_value(json_object_get(out, "version")),
			       json_string_value(json_object_get(out, "sha256")), pj ? pj : "");
			free(pj);
		}
	} else if (!strcmp(sub, "list")) {
		rc = cli_service_call("policy", &svc, true, "GET", "/v1/policies", NULL, NULL, 0, &out,
				      NULL);
		if (rc == CLI_EXIT_OK && !json) {
			json_t *a = json_object_get(out, "policies"), *e;
			size_t i;
			json_array_foreach(a, i, e)
			printf("%-32s v%-4lld %s %s\n", json_string_value(json_object_get(e, "name")),
			       (long long)json_integer_value(json_object_get(e, "version")),
			       json_string_value(json_object_get(e, "sha256")),
			       json_string_value(json_object_get(e, "created_at")));
		}
	} else {
		return cli_usage_error("policy", "unknown subcommand '%s'", sub);
	}
	if (rc == CLI_EXIT_OK && json && out)
		rc = cli_print_json(stdout, json_incref(out)) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	json_decref(out);
	return rc;
}
