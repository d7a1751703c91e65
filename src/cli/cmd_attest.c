/* SPDX-License-Identifier: Apache-2.0 */
/* ppml attest: an enclave proves itself to `ppml serve` and gets a token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/client.h"
#include "ppml/envelope.h"
#include "ppml/keysvc.h"
#include <openssl/crypto.h>
#include "ppml/file.h"
#include "ppml/hex.h"

const char cmd_attest_usage[] =
	"usage: ppml attest --service URL --policy NAME [--aud AUD] [--token-out FILE]\n"
	"                   [--runtime-data HEX] [--cacert FILE] [--json]\n"
	"       ppml attest --service URL --release-key NAME --for FILE\n"
	"                   (--out FILE | --gramine-key NAME) [--cacert FILE]\n"
	"\n"
	"Run inside the enclave (or under `ppml run --sim`): gets a nonce from the\n"
	"service, binds it into REPORTDATA, obtains a quote (Gramine's /dev/attestation\n"
	"with attestation_type dcap; else the simulated socket of `ppml run --sim`;\n"
	"never both), and posts it for the named policy.  On acceptance the token is\n"
	"written to --token-out (mode 0600) or printed.  Every check and reason is\n"
	"printed on refusal.\n"
	"\n"
	"--release-key asks the key service for the data key that FILE (a PPMLENC1\n"
	"file, or a PWK1 wrapped key) was made with: a fresh P-256 key pair is bound\n"
	"into the quote, the service checks the key's release policy and seals the key\n"
	"to it (HPKE).  --out decrypts a PPMLENC1 FILE, or for a PWK1 key writes the\n"
	"raw data key (mode 0600; keep it inside the enclave); --gramine-key writes a\n"
	"released gramine-pf key to /dev/attestation/keys/NAME for Gramine's\n"
	"protected files.\n"
	"\n"
	"Exit status: 0 accepted, 1 refused, 2 usage, 3 no verdict (service or quote\n"
	"source unavailable).\n";

/* --release-key: the wrapped key of FILE (PPMLENC1 header or a PWK1 blob). */
static int release(struct ppml_attest_opts *o, const char *name, const char *file,
		   const char *outf, const char *gkey)
{
	struct ppml_enc_header h;
	struct ppml_err err = {0};
	uint8_t *blob = NULL, dk[32];
	size_t bl = 0, dkl = 0;
	const uint8_t *w;
	size_t wl;
	int rc = CLI_EXIT_OK;
	if (ppml_enc_read_header(file, &h, &err) == PPML_OK) {
		w = h.wrapped;
		wl = h.wrapped_len;
	} else if (ppml_file_read(file, PPML_ENC_MAX_WRAPPED, &blob, &bl, &err) == PPML_OK &&
		   bl >= 4 && !memcmp(blob, PPML_WDK_MAGIC, 4)) {
		w = blob;
		wl = bl;
	} else {
		free(blob);
		fprintf(stderr, "ppml attest: %s: neither a PPMLENC1 file nor a PWK1 wrapped key\n",
			file);
		return CLI_EXIT_FAILURE;
	}
	if (ppml_client_release(o, name, w, wl, dk, &dkl, NULL, &err) != PPML_OK) {
		rc = cli_fail("attest", &err);
		goto out;
	}
	if (gkey) {
		char p[4300];
		const char *root = o->dev_root ? o->dev_root : PPML_GRAMINE_ATTESTATION_DIR;
		if (dkl != 16) {
			fprintf(stderr, "ppml attest: key %s is not a gramine-pf key (16 bytes)\n", name);
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
		snprintf(p, sizeof(p), "%s/keys/%s", root, gkey);
		FILE *f = fopen(p, "wb");
		if (!f || fwrite(dk, 1, 16, f) != 16 || fclose(f) != 0) {
			fprintf(stderr, "ppml attest: %s: cannot write the key (is this a Gramine "
					"enclave with the key declared in fs.insecure__keys?)\n", p);
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
		fprintf(stderr, "ppml attest: key %s released to this enclave and written to %s\n",
			name, p);
	} else if (blob) {
		/* A PWK1 key: the data key itself, for the application's own use. */
		if (ppml_file_write_atomic(outf, dk, dkl, 0600, 0, &err) != PPML_OK) {
			rc = cli_fail("attest", &err);
			goto out;
		}
		fprintf(stderr, "ppml attest: key %s released to this enclave; the %zu-byte data key "
				"is in %s (mode 0600)\n", name, dkl, outf);
	} else {
		if (dkl != 32 || ppml_enc_decrypt_file(file, outf, dk, NULL, NULL, &err) != PPML_OK) {
			if (dkl != 32)
				ppml_err_set(&err, PPML_E_INPUT, "key %s is not an aes-256-gcm key", name);
			rc = cli_fail("attest", &err);
			goto out;
		}
		fprintf(stderr, "ppml attest: key %s released to this enclave; %s decrypted to %s\n",
			name, file, outf);
	}
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	free(blob);
	return rc;
}

int cmd_attest(int argc, char **argv)
{
	struct ppml_attest_opts o = {0};
	const char *token_out = NULL, *rd_hex = NULL, *rkey = NULL, *forf = NULL, *outf = NULL,
		   *gkey = NULL;
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
		else if (!strcmp(a, "--release-key") && has)
			rkey = argv[++i];
		else if (!strcmp(a, "--for") && has)
			forf = argv[++i];
		else if (!strcmp(a, "--out") && has)
			outf = argv[++i];
		else if (!strcmp(a, "--gramine-key") && has)
			gkey = argv[++i];
		else if (!strcmp(a, "--runtime-data") && has)
			rd_hex = argv[++i];
		else if (!strcmp(a, "--dev-attestation") && has)
			o.dev_root = argv[++i]; /* tests: a folder standing in for /dev/attestation */
		else
			return cli_usage_error("attest", "unexpected argument '%s'", a);
	}
	if (rkey) {
		if (!o.service || !forf || !outf == !gkey || o.policy)
			return cli_usage_error("attest", "--release-key needs --service, --for FILE and "
							 "one of --out FILE or --gramine-key NAME");
		if (outf && !strcmp(outf, "-"))
			return cli_usage_error("attest", "--out -: write to a file");
		return release(&o, rkey, forf, outf, gkey);
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
