/* SPDX-License-Identifier: Apache-2.0 */
/* ppml keygen: SGX enclave signing keys (spec section 10). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cli.h"
#include "cli_util.h"
#include "cli_pkcs11.h"
#include "ppml/hex.h"
#include "ppml/key.h"

const char cmd_keygen_usage[] =
	"usage: ppml keygen [-o FILE] [--passphrase-file F] [--json]\n"
	"       ppml keygen --mrsigner KEYFILE [--passphrase-file F] [--json]\n"
	"       ppml keygen --pkcs11 URI [--module PATH] [--pin-file F] [--json]\n"
	"       ppml keygen --mrsigner URI [--module PATH] [--pin-file F] [--json]\n"
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
	"  --json                  print one JSON object\n"
	"\n"
	"PKCS#11 tokens (the private key never leaves the token):\n"
	"  --pkcs11 URI            generate the key inside the token named by the RFC 7512\n"
	"                          URI ('pkcs11:token=T;object=LABEL;id=%01'): RSA-3072, e=3,\n"
	"                          sensitive, not extractable\n"
	"  --mrsigner URI          the MRSIGNER of a key in a token\n"
	"  --module PATH           the PKCS#11 module (default " PPML_PKCS11_DEFAULT_MODULE ")\n"
	"  --pin-file F            the token's user PIN (first line of F); else the URI's\n"
	"                          ?pin-source=file:F, else $PKCS11_PIN. Never an argument.\n";

static int print_result(const char *path, const uint8_t mrsigner[32], int json, int in_token)
{
	char hex[65];
	ppml_hex_encode(mrsigner, 32, hex);
	if (json) {
		json_t *o = json_object();
		if (path)
			json_object_set_new(o, in_token ? "pkcs11" : "path", json_string(path));
		json_object_set_new(o, "mrsigner", json_string(hex));
		if (cli_print_json(stdout, o) != 0)
			return CLI_EXIT_FAILURE;
	} else {
		if (path && in_token)
			printf("generated %s (RSA-3072, e=3, not extractable)\n", path);
		else if (path)
			printf("wrote %s (RSA-3072, e=3, mode 0600)\n", path);
		printf("MRSIGNER: %s\n", hex);
	}
	return CLI_EXIT_OK;
}

int cmd_keygen(int argc, char **argv)
{
	const char *out = "enclave-key.pem", *pass = NULL, *mrsigner_of = NULL;
	const char *p11_uri = NULL, *module = NULL, *pin_file = NULL;
	struct ppml_pkcs11_key *p11 = NULL;
	int json = 0, rc;
	struct ppml_err err = {0};
	EVP_PKEY *key = NULL;
	uint8_t mr[32];

	if (cli_pkcs11_refuse_pin_arg("keygen", argc, argv))
		return CLI_EXIT_USAGE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(a, "--passphrase-file") == 0 && i + 1 < argc)
			pass = argv[++i];
		else if (strcmp(a, "--mrsigner") == 0 && i + 1 < argc)
			mrsigner_of = argv[++i];
		else if (strcmp(a, "--pkcs11") == 0 && i + 1 < argc)
			p11_uri = argv[++i];
		else if (strcmp(a, "--module") == 0 && i + 1 < argc)
			module = argv[++i];
		else if (strcmp(a, "--pin-file") == 0 && i + 1 < argc)
			pin_file = argv[++i];
		else if (strcmp(a, "--json") == 0)
			json = 1;
		else
			return cli_usage_error("keygen", "unexpected argument '%s'", a);
	}
	if (p11_uri && mrsigner_of)
		return cli_usage_error("keygen", "--pkcs11 and --mrsigner exclude each other");
	if ((module || pin_file) && !p11_uri && !ppml_pkcs11_is_uri(mrsigner_of))
		return cli_usage_error("keygen", "--module and --pin-file need a PKCS#11 URI");
	if (p11_uri) {
		if (!ppml_pkcs11_is_uri(p11_uri))
			return cli_usage_error("keygen", "--pkcs11 needs a URI 'pkcs11:token=...;object=...'");
		if (cli_pkcs11_generate(p11_uri, module, pin_file, &key, &err) != PPML_OK ||
		    ppml_key_mrsigner(key, mr, &err) != PPML_OK) {
			rc = cli_fail("keygen", &err);
			goto out;
		}
		rc = print_result(p11_uri, mr, json, 1);
		goto out;
	}
	if (mrsigner_of && ppml_pkcs11_is_uri(mrsigner_of)) {
		if (cli_pkcs11_open(mrsigner_of, module, pin_file, 0, &p11, &key, &err) != PPML_OK ||
		    ppml_key_mrsigner(key, mr, &err) != PPML_OK) {
			rc = cli_fail("keygen", &err);
			goto out;
		}
		rc = print_result(NULL, mr, json, 0);
		goto out;
	}
	if (mrsigner_of) {
		if (ppml_key_load_public(mrsigner_of, pass, &key, &err) != PPML_OK ||
		    ppml_key_check_sgx(key, 0, &err) != PPML_OK || ppml_key_mrsigner(key, mr, &err) != PPML_OK) {
			ppml_err_prefix(&err, "%s: ", mrsigner_of);
			rc = cli_fail("keygen", &err);
			goto out;
		}
		rc = print_result(NULL, mr, json, 0);
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
	rc = print_result(out, mr, json, 0);
out:
	EVP_PKEY_free(key);
	ppml_pkcs11_key_free(p11);
	return rc;
}
