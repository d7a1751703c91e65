/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "cli.h"
#include "cli_pkcs11.h"
#include "ppml/key.h"
#include "ppml/limits.h"
#include "ppml/sigstruct.h"

int cli_pkcs11_refuse_pin_arg(const char *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--pi", 4) != 0 || strcmp(a, "--pin-file") == 0 ||
		    strncmp(a, "--pin-file=", 11) == 0)
			continue;
		return cli_usage_error(cmd, "there is no %.*s option: a PIN never comes from the command "
					    "line; use --pin-file F or the PKCS11_PIN environment variable",
				       (int)strcspn(a, "="), a);
	}
	return 0;
}

static ppml_status parse_uri(const char *uri_text, struct ppml_pkcs11_uri **uri, struct ppml_err *err)
{
	ppml_status st = ppml_pkcs11_uri_parse(uri_text, strlen(uri_text), uri, err);
	return st;
}

ppml_status cli_pkcs11_open(const char *uri_text, const char *module, const char *pin_file,
			    int need_private, struct ppml_pkcs11_key **key, EVP_PKEY **pub,
			    struct ppml_err *err)
{
	struct ppml_pkcs11_uri *uri = NULL;
	char *pin = NULL;
	size_t pin_len = 0;
	ppml_status st;

	*key = NULL;
	*pub = NULL;
	if ((st = parse_uri(uri_text, &uri, err)) != PPML_OK ||
	    (st = ppml_pkcs11_pin_resolve(pin_file, uri, &pin, &pin_len, err)) != PPML_OK)
		goto out;
	if (need_private && !pin) {
		st = ppml_err_set(err, PPML_E_INPUT,
				  "signing with a PKCS#11 key needs the token's user PIN: --pin-file F "
				  "or the PKCS11_PIN environment variable");
		goto out;
	}
	st = ppml_pkcs11_key_open(module, uri, pin, pin_len, need_private, key, err);
	/* The token has the PIN now; nothing below needs it. */
	ppml_pkcs11_pin_free(pin, pin_len);
	pin = NULL;
	if (st != PPML_OK)
		goto out;
	if ((st = ppml_pkcs11_key_public(*key, pub, err)) != PPML_OK ||
	    (st = ppml_key_check_sgx(*pub, 0, err)) != PPML_OK) {
		ppml_err_prefix(err, "%s: ", ppml_pkcs11_key_describe(*key));
		EVP_PKEY_free(*pub);
		*pub = NULL;
		ppml_pkcs11_key_free(*key);
		*key = NULL;
	}
out:
	ppml_pkcs11_pin_free(pin, pin_len);
	ppml_pkcs11_uri_free(uri);
	return st;
}

ppml_status cli_pkcs11_generate(const char *uri_text, const char *module, const char *pin_file,
				EVP_PKEY **pub, struct ppml_err *err)
{
	struct ppml_pkcs11_uri *uri = NULL;
	char *pin = NULL;
	size_t pin_len = 0;
	ppml_status st;

	*pub = NULL;
	if ((st = parse_uri(uri_text, &uri, err)) == PPML_OK &&
	    (st = ppml_pkcs11_pin_resolve(pin_file, uri, &pin, &pin_len, err)) == PPML_OK)
		st = ppml_pkcs11_generate(module, uri, pin, pin_len, pub, err);
	if (st == PPML_OK && (st = ppml_key_check_sgx(*pub, 0, err)) != PPML_OK) {
		EVP_PKEY_free(*pub);
		*pub = NULL;
	}
	ppml_pkcs11_pin_free(pin, pin_len);
	ppml_pkcs11_uri_free(uri);
	return st;
}

ppml_status cli_pkcs11_sign_sigstruct(struct ppml_pkcs11_key *key, const EVP_PKEY *pub,
				      struct ppml_sgx_sigstruct *s, struct ppml_err *err)
{
	uint8_t payload[PPML_SGX_PAYLOAD_SIZE], mod[PPML_SGX_KEY_BITS / 8], sig[1024];
	size_t sig_len = 0;
	BIGNUM *n = NULL;
	ppml_status st;

	if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    BN_bn2binpad(n, mod, sizeof(mod)) != (int)sizeof(mod)) {
		BN_free(n);
		return ppml_err_openssl(err, PPML_E_CRYPTO, "reading the token key's modulus failed");
	}
	BN_free(n);
	ppml_sigstruct_payload(s, payload);
	st = ppml_pkcs11_key_sign(key, payload, sizeof(payload), sig, sizeof(sig), &sig_len, err);
	if (st == PPML_OK) {
		st = ppml_sigstruct_assemble(payload, mod, sizeof(mod), sig, sig_len, s, err);
		if (st != PPML_OK)
			ppml_err_prefix(err, "the signature made by %s does not verify: ",
					ppml_pkcs11_key_describe(key));
	}
	return st;
}
