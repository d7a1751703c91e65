/* SPDX-License-Identifier: Apache-2.0 */
/* PKCS#11 keys for sign and keygen: URI, PIN, module, SGX checks in one place. */
#ifndef PPML_CLI_PKCS11_H
#define PPML_CLI_PKCS11_H

#include <openssl/evp.h>

#include "ppml/pkcs11.h"
#include "ppml/sgx.h"

/*
 * Opens the token key named by uri_text (need_private: for signing) and checks
 * it is an SGX key (ppml_key_check_sgx's messages).  The PIN comes from
 * pin_file, else the URI's pin-source, else $PKCS11_PIN; it is wiped once the
 * token has it.  Without any PIN, need_private fails with a hint.  On success
 * *key (free with ppml_pkcs11_key_free) and *pub (EVP_PKEY_free).
 */
ppml_status cli_pkcs11_open(const char *uri_text, const char *module, const char *pin_file,
			    int need_private, struct ppml_pkcs11_key **key, EVP_PKEY **pub,
			    struct ppml_err *err);

/* Refuses anything that getopt would take as an abbreviation of --pin-file
 * ("--pin 1234"): a PIN is never an argument.  Returns CLI_EXIT_USAGE after
 * printing why, or 0. */
int cli_pkcs11_refuse_pin_arg(const char *cmd, int argc, char **argv);

/* Generates an SGX key in the token named by uri_text; *pub is its public half. */
ppml_status cli_pkcs11_generate(const char *uri_text, const char *module, const char *pin_file,
				EVP_PKEY **pub, struct ppml_err *err);

/*
 * Signs *s (built by ppml_sigstruct_init) in the token: the section 10 payload
 * is signed with CKM_SHA256_RSA_PKCS and assembled with ppml_sigstruct_assemble,
 * which verifies the signature against pub before *s is touched.
 */
ppml_status cli_pkcs11_sign_sigstruct(struct ppml_pkcs11_key *key, const EVP_PKEY *pub,
				      struct ppml_sgx_sigstruct *s, struct ppml_err *err);

#endif
