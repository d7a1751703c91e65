/* SPDX-License-Identifier: Apache-2.0 */
/* ppml token verify: a verdict token, offline, against a JWKS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/file.h"
#include "ppml/httpc.h"
#include "ppml/jwt.h"

const char cmd_token_usage[] =
	"usage: ppml token verify (TOKEN | @FILE) --jwks (URL | FILE) --aud AUD\n"
	"                         [--iss ISS] [--cacert FILE] [--allow-simulated] [--json]\n"
	"\n"
	"Verifies an attestation token from `ppml serve` as a relying party would:\n"
	"alg ES256 only, the kid in the key set, the signature, exp/nbf/iat (60 s of\n"
	"clock skew), the audience, and the issuer when given.  A token about a\n"
	"SIMULATED quote (claim simulated: true) is refused unless --allow-simulated.\n"
	"Prints the claims.\n"
	"Exit status: 0 valid, 1 refused, 2 usage, 3 unreadable input.\n";

int cmd_token(int argc, char **argv)
{
	const char *tok = NULL, *jwks_src = NULL, *aud = NULL, *iss = NULL, *cacert = NULL;
	int json = 0, allow_sim = 0;
	if (argc < 2 || strcmp(argv[1], "verify") != 0)
		return cli_usage_error("token", "expected `token verify`");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--allow-simulated"))
			allow_sim = 1;
		else if (!strcmp(argv[i], "--jwks") && i + 1 < argc)
			jwks_src = argv[++i];
		else if (!strcmp(argv[i], "--aud") && i + 1 < argc)
			aud = argv[++i];
		else if (!strcmp(argv[i], "--iss") && i + 1 < argc)
			iss = argv[++i];
		else if (!strcmp(argv[i], "--cacert") && i + 1 < argc)
			cacert = argv[++i];
		else if (!tok && (argv[i][0] != '-' || argv[i][1] == 0))
			tok = argv[i];
		else
			return cli_usage_error("token", "unexpected argument '%s'", argv[i]);
	}
	if (!tok || !jwks_src || !aud)
		return cli_usage_error("token", "verify needs TOKEN, --jwks and --aud");
	struct ppml_err err = {0};
	uint8_t *tbuf = NULL, *kb = NULL;
	size_t tl = 0, kl = 0;
	struct ppml_jwks *jwks = NULL;
	json_t *claims = NULL;
	int rc;
	if (tok[0] == '@') {
		if (ppml_file_read(tok + 1, PPML_JWT_MAX_TOKEN, &tbuf, &tl, &err) != PPML_OK) {
			rc = cli_fail("token", &err);
			goto out;
		}
		while (tl && (tbuf[tl - 1] == '\n' || tbuf[tl - 1] == '\r'))
			tbuf[--tl] = 0;
		tok = (const char *)tbuf;
	}
	if (!strncmp(jwks_src, "https://", 8) || !strncmp(jwks_src, "http://", 7)) {
		struct ppml_httpc_resp r = {0};
		struct ppml_httpc_opts o = {.cacert = cacert, .max_response = PPML_JWKS_MAX_SIZE};
		if (ppml_httpc_request("GET", jwks_src, NULL, NULL, 0, &o, &r, &err) != PPML_OK) {
			rc = cli_fail("token", &err);
			goto out;
		}
		if (r.status != 200) {
			fprintf(stderr, "ppml token: GET %s: HTTP %ld\n", jwks_src, r.status);
			ppml_httpc_resp_free(&r);
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
		kb = r.body;
		kl = r.len;
	} else if (ppml_file_read(jwks_src, PPML_JWKS_MAX_SIZE, &kb, &kl, &err) != PPML_OK) {
		rc = cli_fail("token", &err);
		goto out;
	}
	if (ppml_jwks_parse((const char *)kb, kl, &jwks, NULL, &err) != PPML_OK) {
		ppml_err_prefix(&err, "%s: ", jwks_src);
		rc = cli_fail("token", &err);
		goto out;
	}
	struct ppml_jwt_expect e = {.aud = aud, .iss = iss, .now = (int64_t)time(NULL),
				    .leeway_s = 60};
	if (ppml_jwt_verify(tok, jwks, &e, &claims, NULL, &err) != PPML_OK) {
		rc = cli_fail("token", &err);
		goto out;
	}
	if (json_is_true(json_object_get(claims, "simulated")) && !allow_sim) {
		fprintf(stderr, "ppml token: the token is about a SIMULATED quote (claim simulated: "
				"true); pass --allow-simulated to accept it in stage 1\n");
		rc = CLI_EXIT_REFUSED;
		goto out;
	}
	if (json) {
		rc = cli_print_json(stdout, json_incref(claims)) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	} else {
		char *s = json_dumps(claims, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("valid token\n%s\n", s ? s : "");
		free(s);
		rc = CLI_EXIT_OK;
	}
out:
	json_decref(claims);
	ppml_jwks_free(jwks);
	free(kb);
	free(tbuf);
	return rc;
}
