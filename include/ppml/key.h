/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/key.h - SGX enclave signing keys (RSA-3072, e = 3), section 10 of
 * shared/spec/gramine-sgx-signing.md.  Keys are OpenSSL EVP_PKEYs owned by
 * the caller (EVP_PKEY_free).  Passphrases are read from files, used, and
 * wiped; key material is never put into messages.  Thread-safe.
 */
#ifndef PPML_KEY_H
#define PPML_KEY_H

#include <stdint.h>

#include <openssl/evp.h>

#include "ppml/err.h"

/*
 * Loads a PEM private key (PKCS#1 "RSA PRIVATE KEY", PKCS#8, or encrypted
 * PKCS#8/legacy) from path.  passphrase_file may be NULL; its content (one
 * trailing newline stripped) decrypts the key.  An encrypted key without a
 * passphrase fails (never prompts).  Does not check SGX requirements.
 */
ppml_status ppml_key_load_private(const char *path, const char *passphrase_file, EVP_PKEY **out,
				  struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Loads a public key from path: PEM SubjectPublicKeyInfo ("PUBLIC KEY"),
 * PKCS#1 ("RSA PUBLIC KEY"), or any private key PEM accepted above (the
 * public half is used).
 */
ppml_status ppml_key_load_public(const char *path, const char *passphrase_file, EVP_PKEY **out,
				 struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Gramine's key checks, in its order and with its text (PPML_E_INPUT):
 *   "Invalid key: expected RSA private key, found <Class> instance"  (any non-RSA key, or a
 *       public key when need_private; <Class> is python-cryptography's class name as Gramine
 *       prints it, e.g. EllipticCurvePrivateKey, Ed25519PrivateKey, RSAPublicKey)
 *   "Invalid RSA key: expected key size 3072, got 2048"
 *   "Invalid RSA key: expected exponent 3, got 65537"
 */
ppml_status ppml_key_check_sgx(const EVP_PKEY *key, int need_private, struct ppml_err *err)
	PPML_WARN_UNUSED;

/* Generates a fresh RSA-3072 key with e = 3. */
ppml_status ppml_key_generate_sgx(EVP_PKEY **out, struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Writes key as PKCS#8 PEM to path, mode 0600, atomically, refusing to
 * overwrite (PPML_E_EXISTS).  With passphrase_file the PEM is encrypted
 * (AES-256-CBC, PBES2).  The PEM text is wiped from memory afterwards.
 */
ppml_status ppml_key_write_private(const char *path, EVP_PKEY *key, const char *passphrase_file,
				   struct ppml_err *err) PPML_WARN_UNUSED;

/* The modulus as SIGSTRUCT stores it: 384 bytes little-endian (fails if it does not fit). */
ppml_status ppml_key_modulus_le(const EVP_PKEY *key, uint8_t out[384], struct ppml_err *err)
	PPML_WARN_UNUSED;

/* MRSIGNER of key: SHA-256 of ppml_key_modulus_le. */
ppml_status ppml_key_mrsigner(const EVP_PKEY *key, uint8_t out[32], struct ppml_err *err)
	PPML_WARN_UNUSED;

#endif
