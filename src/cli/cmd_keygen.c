/* SPDX-License-Identifier: Apache-2.0 */
/* ppml keygen: SGX enclave signing keys (spec section 10). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cli.h"
#include "ppml/hex.h"
#include "ppml/key.h"

const char cmd_keygen_usage[] =
	"usage: ppml keygen [-o FILE] [--passphrase-file F] [--json]\n"
	"       ppml keygen --mrsigner KEYFILE [--passphrase-file F] [--json]\n"
	"\n"
	"Generates an SGX enclave signing key: RSA-3072 with public exponent 3, written as\n"
	"PKCS#8 PEM (AES-256-CBC encrypted with --passphrase-file), mode 0600. An existing\n"
	"file is never overwritten. Prints the key's MRSIGNER.\n"
	"\n"
	"With --mrsigner, prints the MRSIGNER of an existing private or public key (PEM\n"
	"PKCS#1, PKCS#8 or SubjectPublicKeyInfo); keys that SGX would reject are refused.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE       where to write the key (default enclave-key.pem)\n"
	"  --passphrase-file F     passphrase (first line of F) to encrypt/decrypt the key\n"
	"  --mrsigner KEYFILE      print the MRSIGNER of KEYFILE instead of generating\n"
	"  --json                  print one JSON object\n";

static int print_result(const char *path, const uint8_t mrsigner[32], int json)
{
	char hex[65];
	ppml_hex_encode(mrsigner, 32, hex);
	if (json) {
		json_t *o = json_object();
		char *s;
		if (path)
			json_object_set_new(o, "path", json_string(path));
		json_object_set_new(o, "mrsigner", json_string(hex));
		s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (!s)
			return CLI_EXIT_FAILURE;
		puts(s);
		free(s);
	} else {
		if (path)
			printf("wrote %s (RSA-3072, e=3, mode 0600)\n", path);
		printf("MRSIGNER: %s\n", hex);
	}
	return CLI_EXIT_OK;
}

int cmd_keygen(int argc, char **argv)
{
	const char *out = "enclave-key.pem", *pass = NULL, *mrsigner_of = NULL;
	int json = 0, rc;
	struct ppml_err err = {0};
	EVP_PKEY *key = NULL;
	uint8_t mr[32];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(a, "--passphrase-file") == 0 && i + 1 < argc)
			pass = argv[++i];
		else if (strcmp(a, "--mrsigner") == 0 && i + 1 < argc)
			mrsigner_of = argv[++i];
		else if (strcmp(a, "--json") == 0)
			json = 1;
		else
			return cli_usage_error("keygen", "unexpected argument '%s'", a);
	}
	if (mrsigner_of) {
		if (ppml_key_load_public(mrsigner_of, pass, &key, &err) != PPML_OK ||
		    ppml_key_check_sgx(key, 0, &err) != PPML_OK || ppml_key_mrsigner(key, mr, &err) != PPML_OK) {
			ppml_err_prefix(&err, "%s: ", mrsigner_of);
			rc = cli_fail("keygen", &err);
			goto out;
		}
		rc = print_result(NULL, mr, json);
		goto out;
	}
	/* Cheap early refusal before the slow key generation; the write itself is no-clobber too. */
	if (access(out, F_OK) == 0) {
		ppml_err_set(&err, PPML_E_EXISTS,
			     "%s already exists; refusing to overwrite a key (choose another -o path or remove it first)",
			     out);
		rc = cli_fail("keygen", &err);
		goto out;
	}
	if (ppml_key_generate_sgx(&key, &err) != PPML_OK || ppml_key_mrsigner(key, mr, &err) != PPML_OK ||
	    ppml_key_write_private(out, key, pass, &err) != PPML_OK) {
		rc = cli_fail("keygen", &err);
		goto out;
	}
	rc = print_result(out, mr, json);
out:
	EVP_PKEY_free(key);
	return rc;
}
