/* SPDX-License-Identifier: Apache-2.0 */
/* SGX signing keys: load, check, generate, write (spec section 10). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ppml/file.h"
#include "ppml/key.h"
#include "ppml/limits.h"
#include "ppml/sgx.h"

/* Reads a passphrase file (one trailing "\n" or "\r\n" dropped).  The caller
 * wipes and frees *pass with wipe_free(*pass, *len). */
static ppml_status read_passphrase(const char *path, char **pass, size_t *len, struct ppml_err *err)
{
	return ppml_file_read_secret(path, PPML_KEY_MAX_PASSPHRASE, "passphrase", pass, len, err);
}

static void wipe_free(void *p, size_t len)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

/* Decodes PEM key material with OpenSSL's decoders (PKCS#1, PKCS#8, SPKI, encrypted). */
static ppml_status decode_pem(const char *path, const uint8_t *pem, size_t pem_len, int selection,
			      const char *pass, size_t pass_len, EVP_PKEY **out, struct ppml_err *err)
{
	OSSL_DECODER_CTX *dctx = NULL;
	const unsigned char *p = pem;
	size_t left = pem_len;
	ppml_status st = PPML_OK;

	*out = NULL;
	dctx = OSSL_DECODER_CTX_new_for_pkey(out, "PEM", NULL, NULL, selection, NULL, NULL);
	if (!dctx)
		return ppml_err_openssl(err, PPML_E_CRYPTO, "%s: cannot set up the key decoder", path);
	if (pass && OSSL_DECODER_CTX_set_passphrase(dctx, (const unsigned char *)pass, pass_len) != 1) {
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "%s: cannot set the passphrase", path);
		goto out;
	}
	if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || !*out) {
		int encrypted = memmem(pem, pem_len, "ENCRYPTED", 9) != NULL;
		EVP_PKEY_free(*out);
		*out = NULL;
		ERR_clear_error();
		if (encrypted && !pass)
			st = ppml_err_set(err, PPML_E_INPUT,
					  "%s: the key is encrypted; pass its passphrase with --passphrase-file", path);
		else if (encrypted)
			st = ppml_err_set(err, PPML_E_INPUT,
					  "%s: cannot decrypt the key (wrong passphrase?)", path);
		else
			st = ppml_err_set(err, PPML_E_INPUT, "%s: not a PEM %s key OpenSSL can read", path,
					  selection == EVP_PKEY_KEYPAIR ? "private" : "public or private");
	}
out:
	OSSL_DECODER_CTX_free(dctx);
	return st;
}

static ppml_status load_key(const char *path, const char *passphrase_file, int selection,
			    EVP_PKEY **out, struct ppml_err *err)
{
	uint8_t *pem = NULL;
	size_t pem_len = 0, pass_len = 0;
	char *pass = NULL;
	ppml_status st;

	*out = NULL;
	st = ppml_file_read(path, PPML_KEY_MAX_FILE, &pem, &pem_len, err);
	if (st != PPML_OK)
		goto out;
	if (passphrase_file && (st = read_passphrase(passphrase_file, &pass, &pass_len, err)) != PPML_OK)
		goto out;
	st = decode_pem(path, pem, pem_len, selection, pass, pass_len, out, err);
out:
	wipe_free(pass, pass_len);
	wipe_free(pem, pem_len);
	return st;
}

ppml_status ppml_key_load_private(const char *path, const char *passphrase_file, EVP_PKEY **out,
				  struct ppml_err *err)
{
	return load_key(path, passphrase_file, EVP_PKEY_KEYPAIR, out, err);
}

ppml_status ppml_key_load_public(const char *path, const char *passphrase_file, EVP_PKEY **out,
				 struct ppml_err *err)
{
	/* selection 0: whatever the PEM holds; a private key carries its public half. */
	return load_key(path, passphrase_file, 0, out, err);
}

static int has_private(const EVP_PKEY *key)
{
	BIGNUM *d = NULL;
	size_t n = 0;
	int ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_D, &d) == 1 ||
		 EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 ||
		 EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0, &n) == 1;
	BN_clear_free(d);
	ERR_clear_error();
	return ok;
}

/* Gramine prints `type(key).__name__` of the python-cryptography object; map
 * OpenSSL's key type to that class name ("EllipticCurvePrivateKey"). */
static void python_key_class(const EVP_PKEY *key, char *out, size_t cap)
{
	static const struct { const char *ossl, *py; } map[] = {
		{"RSA", "RSA"}, {"RSA-PSS", "RSA"}, {"EC", "EllipticCurve"}, {"SM2", "EllipticCurve"},
		{"DSA", "DSA"}, {"DH", "DH"}, {"DHX", "DH"}, {"ED25519", "Ed25519"},
		{"ED448", "Ed448"}, {"X25519", "X25519"}, {"X448", "X448"},
	};
	const char *t = EVP_PKEY_get0_type_name(key), *py = NULL;
	for (size_t i = 0; t && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(t, map[i].ossl) == 0)
			py = map[i].py;
	snprintf(out, cap, "%s%s", py ? py : t ? t : "Unknown",
		 has_private(key) ? "PrivateKey" : "PublicKey");
}

ppml_status ppml_key_check_sgx(const EVP_PKEY *key, int need_private, struct ppml_err *err)
{
	BIGNUM *e = NULL;
	char *dec = NULL;
	ppml_status st = PPML_OK;
	int bits;

	if (!EVP_PKEY_is_a(key, "RSA") || (need_private && !has_private(key))) {
		char cls[64];
		python_key_class(key, cls, sizeof(cls));
		return ppml_err_set(err, PPML_E_INPUT,
				    "Invalid key: expected RSA private key, found %s instance", cls);
	}
	bits = EVP_PKEY_get_bits(key);
	if (bits != (int)PPML_SGX_KEY_BITS)
		return ppml_err_set(err, PPML_E_INPUT, "Invalid RSA key: expected key size 3072, got %d", bits);
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1 || !(dec = BN_bn2dec(e))) {
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "reading the RSA public exponent failed");
		goto out;
	}
	if (!BN_is_word(e, PPML_SGX_KEY_EXPONENT))
		st = ppml_err_set(err, PPML_E_INPUT, "Invalid RSA key: expected exponent 3, got %s", dec);
out:
	OPENSSL_free(dec);
	BN_free(e);
	return st;
}

ppml_status ppml_key_generate_sgx(EVP_PKEY **out, struct ppml_err *err)
{
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *e = BN_new();
	ppml_status st = PPML_OK;

	*out = NULL;
	if (!e || !BN_set_word(e, PPML_SGX_KEY_EXPONENT) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)PPML_SGX_KEY_BITS) != 1 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) != 1 || EVP_PKEY_generate(ctx, out) != 1) {
		EVP_PKEY_free(*out);
		*out = NULL;
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "generating an RSA-3072 (e = 3) key failed");
	}
	EVP_PKEY_CTX_free(ctx);
	BN_free(e);
	return st;
}

ppml_status ppml_key_write_private(const char *path, EVP_PKEY *key, const char *passphrase_file,
				   struct ppml_err *err)
{
	BIO *mem = NULL;
	BUF_MEM *bm = NULL;
	char *pass = NULL;
	size_t pass_len = 0;
	ppml_status st;

	if (passphrase_file && (st = read_passphrase(passphrase_file, &pass, &pass_len, err)) != PPML_OK)
		return st;
	if (pass_len > INT32_MAX) {
		st = ppml_err_set(err, PPML_E_LIMIT, "passphrase too long");
		goto out;
	}
	mem = BIO_new(BIO_s_secmem());
	if (!mem || PEM_write_bio_PKCS8PrivateKey(mem, key, pass ? EVP_aes_256_cbc() : NULL, pass,
						  (int)pass_len, NULL, NULL) != 1 ||
	    BIO_get_mem_ptr(mem, &bm) != 1 || !bm) {
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "encoding the private key as PKCS#8 PEM failed");
		goto out;
	}
	st = ppml_file_write_atomic(path, bm->data, bm->length, 0600, 1, err);
	if (st == PPML_E_EXISTS)
		st = ppml_err_set(err, PPML_E_EXISTS,
				  "%s already exists; refusing to overwrite a key (choose another -o path or remove it first)",
				  path);
	OPENSSL_cleanse(bm->data, bm->length);
out:
	BIO_free(mem);
	wipe_free(pass, pass_len);
	return st;
}

ppml_status ppml_key_modulus_le(const EVP_PKEY *key, uint8_t out[384], struct ppml_err *err)
{
	BIGNUM *n = NULL;
	ppml_status st = PPML_OK;

	if (!EVP_PKEY_is_a(key, "RSA"))
		return ppml_err_set(err, PPML_E_INPUT, "Invalid key: expected RSA private key, found %s",
				    EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown");
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1)
		return ppml_err_openssl(err, PPML_E_CRYPTO, "reading the RSA modulus failed");
	if (BN_bn2lebinpad(n, out, 384) != 384)
		st = ppml_err_set(err, PPML_E_INPUT, "RSA modulus is larger than 3072 bits");
	BN_free(n);
	return st;
}

ppml_status ppml_key_mrsigner(const EVP_PKEY *key, uint8_t out[32], struct ppml_err *err)
{
	uint8_t mod[384];
	unsigned int len = 0;
	ppml_status st = ppml_key_modulus_le(key, mod, err);
	if (st != PPML_OK)
		return st;
	if (EVP_Digest(mod, sizeof(mod), out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return ppml_err_openssl(err, PPML_E_CRYPTO, "SHA-256 of the modulus failed");
	return PPML_OK;
}
