/* SPDX-License-Identifier: Apache-2.0 */
/* ppml key create|list|rotate|disable|destroy|datakey: keys of the key service. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/file.h"
#include "ppml/keysvc.h"
#include "ppml/policy.h"

const char cmd_key_usage[] =
	"usage: ppml key create NAME --type aes-256-gcm|gramine-pf --release-policy POLICY\n"
	"       ppml key list | rotate NAME | disable NAME | destroy NAME --yes\n"
	"       ppml key datakey NAME --out FILE.pwk\n"
	"                 --service URL --credential-file F [--cacert F] [--json]\n"
	"\n"
	"Keys of the key service in `ppml serve` (admin credential).  A key is a\n"
	"versioned primary key, wrapped by the service's master key; it wraps data\n"
	"keys (`ppml encrypt`), which the service releases only to an enclave whose\n"
	"quote passes the key's release policy.  gramine-pf keys are 16-byte keys for\n"
	"Gramine's protected files.  rotate adds a version (old versions still\n"
	"unwrap); disable stops data keys and releases.  destroy erases every version\n"
	"for good: no file encrypted under the key can be decrypted again (--yes says\n"
	"you mean it).  datakey writes a fresh data\n"
	"key in wrapped form only (PWK1, mode 0600; role admin or encrypt:NAME): an\n"
	"enclave given it gets the key by attestation (`ppml encrypt --attested`, `ppml\n"
	"attest --release-key`); nobody else can open it.\n"
	"Exit status: 0 ok, 1 refused (credential), 2 usage, 3 other.\n";

/* datakey: the PWK1 blob of the answer, checked, to outf (0600). */
static int write_wrapped(const char *name, json_t *ans, const char *outf)
{
	const char *w = json_string_value(json_object_get(ans, "wrapped"));
	size_t n = w ? strlen(w) : 0, len = 0;
	uint8_t *b = n && n % 4 == 0 ? malloc(n / 4 * 3 + 1) : NULL;
	struct ppml_wdk wdk;
	struct ppml_err err = {0};
	int d = b ? EVP_DecodeBlock(b, (const unsigned char *)w, (int)n) : -1;
	if (d >= 0)
		len = (size_t)d - (w[n - 1] == '=') - (n > 1 && w[n - 2] == '=');
	int rc = CLI_EXIT_OK;
	if (d < 0 || ppml_wdk_parse(b, len, &wdk, &err) != PPML_OK || strcmp(wdk.name, name) != 0) {
		fprintf(stderr, "ppml key: the service's answer has no wrapped data key for %s\n", name);
		rc = CLI_EXIT_FAILURE;
	} else if (ppml_file_write_atomic(outf, b, len, 0600, 0, &err) != PPML_OK) {
		rc = cli_fail("key", &err);
	} else {
		fprintf(stderr, "ppml key: %s: a wrapped data key (version %u) in %s\n", name,
			wdk.version, outf);
	}
	free(b);
	return rc;
}

int cmd_key(int argc, char **argv)
{
	struct cli_service svc = {0};
	const char *name = NULL, *type = NULL, *pol = NULL, *outf = NULL;
	int json = 0, yes = 0;
	if (argc < 2)
		return cli_usage_error("key", "missing subcommand (create, list, rotate, disable, "
					      "destroy, datakey)");
	const char *sub = argv[1];
	for (int i = 2; i < argc; i++) {
		if (cli_service_opt(&svc, argc, argv, &i))
			continue;
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--yes"))
			yes = 1;
		else if (!strcmp(argv[i], "--type") && i + 1 < argc)
			type = argv[++i];
		else if (!strcmp(argv[i], "--release-policy") && i + 1 < argc)
			pol = argv[++i];
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			outf = argv[++i];
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else
			return cli_usage_error("key", "unexpected argument '%s'", argv[i]);
	}
	json_t *out = NULL;
	char path[300];
	int rc;
	if (!strcmp(sub, "list")) {
		rc = cli_service_call("key", &svc, true, "GET", "/v1/keys", NULL, NULL, 0, &out, NULL);
		if (rc == CLI_EXIT_OK && !json) {
			json_t *e;
			size_t i;
			json_array_foreach(json_object_get(out, "keys"), i, e)
			printf("%-32s v%-4lld %-12s %-9s release policy %s\n",
			       json_string_value(json_object_get(e, "name")),
			       (long long)json_integer_value(json_object_get(e, "version")),
			       json_string_value(json_object_get(e, "type")),
			       json_string_value(json_object_get(e, "state")),
			       json_string_value(json_object_get(e, "release_policy")));
		}
	} else {
		if (!name || !ppml_policy_name_ok(name))
			return cli_usage_error("key", "%s needs NAME ([A-Za-z0-9._-], 1..128)", sub);
		if (!strcmp(sub, "create")) {
			if (!type || !pol)
				return cli_usage_error("key", "create needs --type and --release-policy");
			json_t *b = json_pack("{s:s, s:s, s:s}", "name", name, "type", type,
					      "release_policy", pol);
			char *body = json_dumps(b, JSON_COMPACT);
			json_decref(b);
			rc = cli_service_call("key", &svc, true, "POST", "/v1/keys", "application/json",
					      body, strlen(body), &out, NULL);
			free(body);
		} else if (!strcmp(sub, "rotate") || !strcmp(sub, "disable") ||
			   !strcmp(sub, "destroy")) {
			if (!strcmp(sub, "destroy") && !yes)
				return cli_usage_error("key", "destroy erases every version of %s: "
						       "files encrypted under it can never be "
						       "decrypted again; add --yes to go ahead", name);
			snprintf(path, sizeof(path), "/v1/keys/%s/%s", name, sub);
			rc = cli_service_call("key", &svc, true, "POST", path, "application/json", "{}", 2,
					      &out, NULL);
		} else if (!strcmp(sub, "datakey")) {
			if (!outf || !strcmp(outf, "-"))
				return cli_usage_error("key", "datakey needs --out FILE.pwk");
			snprintf(path, sizeof(path), "/v1/keys/%s/datakey", name);
			rc = cli_service_call("key", &svc, true, "POST", path, "application/json",
					      "{\"plaintext\":false}", 19, &out, NULL);
			if (rc == CLI_EXIT_OK)
				rc = write_wrapped(name, out, outf);
			json_decref(out);
			return rc;
		} else {
			return cli_usage_error("key", "unknown subcommand '%s'", sub);
		}
		if (rc == CLI_EXIT_OK && !json)
			fprintf(stderr, "ppml key: %s: version %lld%s%s\n", name,
				(long long)json_integer_value(json_object_get(out, "version")),
				json_object_get(out, "state") ? ", " : "",
				json_object_get(out, "state")
					? json_string_value(json_object_get(out, "state"))
					: "");
	}
	if (rc == CLI_EXIT_OK && json && out)
		rc = cli_print_json(stdout, json_incref(out)) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	json_decref(out);
	return rc;
}
