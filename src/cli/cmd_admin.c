/* SPDX-License-Identifier: Apache-2.0 */
/* ppml admin credential create|revoke. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/file.h"
#include "ppml/service.h"

const char cmd_admin_usage[] =
	"usage: ppml admin credential create --role ROLE [--out FILE]\n"
	"       ppml admin credential revoke ID\n"
	"                  --service URL --credential-file F [--cacert F] [--json]\n"
	"\n"
	"Credentials of `ppml serve`: 256-bit random secrets, stored by the service only\n"
	"as SHA-256.  Roles: admin, metrics, encrypt:<key name>.  create prints the id and\n"
	"writes the secret to --out (mode 0600; refused if it exists) or prints it once\n"
	"on stdout.  revoke takes the id.\n"
	"Exit status: 0 ok, 1 refused by the service, 2 usage, 3 other.\n";

int cmd_admin(int argc, char **argv)
{
	struct cli_service svc = {0};
	const char *role = NULL, *outf = NULL, *id = NULL;
	int json = 0;
	if (argc < 3 || strcmp(argv[1], "credential") != 0)
		return cli_usage_error("admin", "expected `admin credential create|revoke`");
	bool create = !strcmp(argv[2], "create");
	if (!create && strcmp(argv[2], "revoke") != 0)
		return cli_usage_error("admin", "unknown subcommand '%s'", argv[2]);
	for (int i = 3; i < argc; i++) {
		if (cli_service_opt(&svc, argc, argv, &i))
			continue;
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (create && !strcmp(argv[i], "--role") && i + 1 < argc)
			role = argv[++i];
		else if (create && !strcmp(argv[i], "--out") && i + 1 < argc)
			outf = argv[++i];
		else if (!create && !id && argv[i][0] != '-')
			id = argv[i];
		else
			return cli_usage_error("admin", "unexpected argument '%s'", argv[i]);
	}
	json_t *out = NULL;
	int rc;
	if (create) {
		if (!role || !ppml_role_ok(role))
			return cli_usage_error("admin", "--role: admin, metrics or encrypt:<key name>");
		json_t *b = json_pack("{s:s}", "role", role);
		char *body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
		rc = cli_service_call("admin", &svc, true, "POST", "/v1/credentials",
				      "application/json", body, strlen(body), &out, NULL);
		free(body);
		if (rc != CLI_EXIT_OK)
			goto out;
		const char *secret = json_string_value(json_object_get(out, "secret")),
			   *cid = json_string_value(json_object_get(out, "id"));
		if (!secret || !cid) {
			fprintf(stderr, "ppml admin: the service's answer has no secret\n");
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
		if (outf) {
			struct ppml_err err = {0};
			char line[PPML_CREDENTIAL_LEN + 2];
			int n = snprintf(line, sizeof(line), "%s\n", secret);
			if (ppml_file_write_atomic(outf, line, (size_t)n, 0600, 1, &err) != PPML_OK) {
				fprintf(stderr, "ppml admin: %s; the credential %s was created: "
						"revoke it with `ppml admin credential revoke %s`\n",
					err.msg, cid, cid);
				rc = CLI_EXIT_FAILURE;
				goto out;
			}
			memset(line, 0, sizeof(line));
		}
		if (json) {
			json_t *j = json_pack("{s:s, s:s}", "id", cid, "role", role);
			if (!outf)
				json_object_set(j, "secret", json_object_get(out, "secret"));
			rc = cli_print_json(stdout, j) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
		} else {
			printf("id: %s\nrole: %s\n", cid, role);
			if (!outf)
				printf("secret: %s\n", secret);
			fprintf(stderr, "ppml admin: %s\n",
				outf ? "the secret is in the --out file (0600)"
				     : "the secret above is shown once");
		}
		json_object_del(out, "secret");
	} else {
		char path[256];
		if (!id || strlen(id) > 64)
			return cli_usage_error("admin", "revoke needs the credential ID");
		snprintf(path, sizeof(path), "/v1/credentials/%s", id);
		rc = cli_service_call("admin", &svc, true, "DELETE", path, NULL, NULL, 0, &out, NULL);
		if (rc == CLI_EXIT_OK)
			fprintf(stderr, "ppml admin: credential %s revoked\n", id);
	}
out:
	json_decref(out);
	return rc;
}
