/* SPDX-License-Identifier: Apache-2.0 */
/* ECDSA P-256 helpers (include/ppml/ec.h). */
#include "ppml/ec.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>

EVP_PKEY *ppml_ec_generate(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

bool ppml_ec_is_p256(EVP_PKEY *k)
{
	char name[64];
	size_t n = 0;
	return k && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	       EVP_PKEY_get_group_name(k, name, sizeof(name), &n) == 1 &&
	       (strcmp(name, "prime256v1") == 0 || strcmp(name, "P-256") == 0);
}

EVP_PKEY *ppml_ec_from_raw(const uint8_t xy[64])
{
	uint8_t pt[65];
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	char group[] = "prime256v1";
	OSSL_PARAM params[3];

	pt[0] = 0x04; /* SEC1 uncompressed */
	memcpy(pt + 1, xy, 64);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
	params[2] = OSSL_PARAM_construct_end();
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return pkey;
}

bool ppml_ec_to_raw(EVP_PKEY *k, uint8_t xy[64])
{
	uint8_t pt[65];
	size_t n = 0;
	if (!ppml_ec_is_p256(k) ||
	    EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
					    &n) != 1 ||
	    n != 65 || pt[0] != 0x04) {
		ERR_clear_error();
		return false;
	}
	memcpy(xy, pt + 1, 64);
	return true;
}

bool ppml_ec_sign_raw(EVP_PKEY *k, const uint8_t *msg, size_t len, uint8_t out[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t der[80];
	size_t dl = sizeof(der);
	ECDSA_SIG *sig = NULL;
	const uint8_t *p = der;
	bool ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
		  EVP_DigestSign(ctx, der, &dl, msg, len) == 1 &&
		  (sig = d2i_ECDSA_SIG(NULL, &p, (long)dl)) != NULL &&
		  BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32) == 32 &&
		  BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		ERR_clear_error();
	return ok;
}

size_t ppml_ec_sig_raw_to_der(const uint8_t raw[64], uint8_t out[72])
{
	size_t o = 2;
	for (int k = 0; k < 2; k++) {
		const uint8_t *v = raw + 32 * k;
		size_t skip = 0;
		while (skip < 31 && v[skip] == 0)
			skip++;
		size_t n = 32 - skip;
		bool pad = v[skip] & 0x80; /* INTEGER is signed: keep it positive */
		out[o++] = 0x02;
		out[o++] = (uint8_t)(n + pad);
		if (pad)
			out[o++] = 0;
		memcpy(out + o, v + skip, n);
		o += n;
	}
	out[0] = 0x30;
	out[1] = (uint8_t)(o - 2);
	return o;
}

bool ppml_ec_verify_raw(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t sig[64])
{
	uint8_t der[72];
	size_t dl = ppml_ec_sig_raw_to_der(sig, der);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
		  EVP_DigestVerify(ctx, der, dl, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}
