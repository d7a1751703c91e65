/* SPDX-License-Identifier: Apache-2.0 */
/* HPKE base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-GCM
 * (RFC 9180 sections 4, 5.1, 7.1.3), on OpenSSL 3.0 primitives. */
#include "ppml/hpke.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "ppml/ec.h"
#include "ppml/keysvc.h"

void ppml_hpke_ctx_cleanup(struct ppml_hpke_ctx *c)
{
	if (c)
		OPENSSL_cleanse(c, sizeof(*c));
}

/* ---- HKDF-SHA256 with the HPKE labels (section 4) ---- */

static void hkdf_extract(const uint8_t *salt, size_t sl, const uint8_t *ikm, size_t il,
			 uint8_t prk[32])
{
	static const uint8_t zero[32];
	unsigned int n = 0;
	HMAC(EVP_sha256(), sl ? salt : zero, sl ? (int)sl : 32, ikm, il, prk, &n);
}

static void hkdf_expand(const uint8_t prk[32], const uint8_t *info, size_t il, uint8_t *out,
			size_t len)
{
	uint8_t t[32], buf[32 + 512 + 1];
	size_t tl = 0, done = 0;
	for (uint8_t i = 1; done < len; i++) {
		if (tl)
			memcpy(buf, t, tl);
		if (il)
			memcpy(buf + tl, info, il);
		buf[tl + il] = i;
		unsigned int n = 0;
		HMAC(EVP_sha256(), prk, 32, buf, tl + il + 1, t, &n);
		tl = 32;
		size_t k = len - done < 32 ? len - done : 32;
		memcpy(out + done, t, k);
		done += k;
	}
	OPENSSL_cleanse(t, sizeof(t));
	OPENSSL_cleanse(buf, sizeof(buf));
}

/* LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite || label || ikm). */
static void labeled_extract(const uint8_t *suite, size_t sul, const uint8_t *salt, size_t sl,
			    const char *label, const uint8_t *ikm, size_t il, uint8_t prk[32])
{
	uint8_t buf[7 + 10 + 32 + 160];
	size_t n = 0, ll = strlen(label);
	memcpy(buf, "HPKE-v1", 7);
	n = 7;
	memcpy(buf + n, suite, sul);
	n += sul;
	memcpy(buf + n, label, ll);
	n += ll;
	if (il)
		memcpy(buf + n, ikm, il);
	n += il;
	hkdf_extract(salt, sl, buf, n, prk);
	OPENSSL_cleanse(buf, sizeof(buf));
}

/* LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite || label || info, L). */
static void labeled_expand(const uint8_t *suite, size_t sul, const uint8_t prk[32],
			   const char *label, const uint8_t *info, size_t il, uint8_t *out,
			   size_t len)
{
	uint8_t buf[2 + 7 + 10 + 32 + 200];
	size_t n = 0, ll = strlen(label);
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	memcpy(buf + 2, "HPKE-v1", 7);
	n = 9;
	memcpy(buf + n, suite, sul);
	n += sul;
	memcpy(buf + n, label, ll);
	n += ll;
	if (il)
		memcpy(buf + n, info, il);
	n += il;
	hkdf_expand(prk, buf, n, out, len);
}

static const uint8_t KEM_SUITE[5] = {'K', 'E', 'M', 0x00, 0x10};

/* ---- the KEM ---- */

static EVP_PKEY *key_from_scalar(const uint8_t sk[32])
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *pub = g ? EC_POINT_new(g) : NULL;
	BIGNUM *d = BN_bin2bn(sk, 32, NULL);
	uint8_t pt[65];
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *k = NULL;
	if (g && pub && d && b && ctx && EC_POINT_mul(g, pub, d, NULL, NULL, NULL) == 1 &&
	    EC_POINT_point2oct(g, pub, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt), NULL) == 65 &&
	    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)) == 1 &&
	    (params = OSSL_PARAM_BLD_to_param(b)) && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR, params) == 1) {
		/* k set */
	} else {
		k = NULL;
	}
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	BN_clear_free(d);
	EC_POINT_free(pub);
	EC_GROUP_free(g);
	ERR_clear_error();
	return k;
}

ppml_status ppml_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, EVP_PKEY **out,
				     struct ppml_err *err)
{
	/* P-256 order, big-endian. */
	static const uint8_t order[32] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
		0x25, 0x51};
	uint8_t prk[32], sk[32];
	*out = NULL;
	if (ikm_len < 32 || ikm_len > 128)
		return ppml_err_set(err, PPML_E_INPUT, "HPKE: DeriveKeyPair needs 32..128 bytes");
	labeled_extract(KEM_SUITE, sizeof(KEM_SUITE), NULL, 0, "dkp_prk", ikm, ikm_len, prk);
	for (unsigned counter = 0; counter < 256; counter++) {
		uint8_t c = (uint8_t)counter;
		static const uint8_t zero[32];
		labeled_expand(KEM_SUITE, sizeof(KEM_SUITE), prk, "candidate", &c, 1, sk, 32);
		sk[0] &= 0xff; /* the P-256 bitmask */
		if (memcmp(sk, zero, 32) != 0 && memcmp(sk, order, 32) < 0) {
			*out = key_from_scalar(sk);
			break;
		}
	}
	OPENSSL_cleanse(prk, sizeof(prk));
	OPENSSL_cleanse(sk, sizeof(sk));
	return *out ? PPML_OK : ppml_err_set(err, PPML_E_CRYPTO, "HPKE: DeriveKeyPair failed");
}

static bool dh(EVP_PKEY *sk, EVP_PKEY *pk, uint8_t out[32])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(sk, NULL);
	size_t n = 32;
	bool ok = c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, pk) == 1 &&
		  EVP_PKEY_derive(c, out, &n) == 1 && n == 32;
	EVP_PKEY_CTX_free(c);
	ERR_clear_error();
	return ok;
}

/* ExtractAndExpand(dh, enc || pkRm). */
static void kem_secret(const uint8_t dhv[32], const uint8_t enc[65], const uint8_t pkR[65],
		       uint8_t ss[32])
{
	uint8_t prk[32], ctx[130];
	labeled_extract(KEM_SUITE, sizeof(KEM_SUITE), NULL, 0, "eae_prk", dhv, 32, prk);
	memcpy(ctx, enc, 65);
	memcpy(ctx + 65, pkR, 65);
	labeled_expand(KEM_SUITE, sizeof(KEM_SUITE), prk, "shared_secret", ctx, sizeof(ctx), ss, 32);
	OPENSSL_cleanse(prk, sizeof(prk));
}

/* ---- the key schedule (section 5.1, mode_base) ---- */

static ppml_status key_schedule(uint16_t aead, const uint8_t ss[32], const uint8_t *info,
				size_t il, struct ppml_hpke_ctx *c, struct ppml_err *err)
{
	uint8_t suite[10] = {'H', 'P', 'K', 'E', 0x00, 0x10, 0x00, 0x01, (uint8_t)(aead >> 8),
			     (uint8_t)aead};
	uint8_t psk_id_hash[32], info_hash[32], ksc[65], secret[32];
	if (aead != PPML_HPKE_AEAD_AES128GCM && aead != PPML_HPKE_AEAD_AES256GCM)
		return ppml_err_set(err, PPML_E_INPUT, "HPKE: AEAD %u is not supported", aead);
	if (il > 128)
		return ppml_err_set(err, PPML_E_INPUT, "HPKE: info over 128 bytes");
	memset(c, 0, sizeof(*c));
	c->aead = aead;
	c->key_len = aead == PPML_HPKE_AEAD_AES128GCM ? 16 : 32;
	labeled_extract(suite, sizeof(suite), NULL, 0, "psk_id_hash", NULL, 0, psk_id_hash);
	labeled_extract(suite, sizeof(suite), NULL, 0, "info_hash", info, il, info_hash);
	ksc[0] = 0x00; /* mode_base */
	memcpy(ksc + 1, psk_id_hash, 32);
	memcpy(ksc + 33, info_hash, 32);
	labeled_extract(suite, sizeof(suite), ss, 32, "secret", NULL, 0, secret);
	labeled_expand(suite, sizeof(suite), secret, "key", ksc, sizeof(ksc), c->key, c->key_len);
	labeled_expand(suite, sizeof(suite), secret, "base_nonce", ksc, sizeof(ksc), c->base_nonce,
		       12);
	labeled_expand(suite, sizeof(suite), secret, "exp", ksc, sizeof(ksc), c->exporter_secret,
		       32);
	OPENSSL_cleanse(secret, sizeof(secret));
	return PPML_OK;
}

ppml_status ppml_hpke_setup_sender(uint16_t aead, const uint8_t pkR[PPML_HPKE_ENC_LEN],
				   const uint8_t *info, size_t info_len, const uint8_t *ikm_e,
				   size_t ikm_e_len, uint8_t enc[PPML_HPKE_ENC_LEN],
				   uint8_t shared_secret[32], struct ppml_hpke_ctx *ctx,
				   struct ppml_err *err)
{
	EVP_PKEY *e = NULL, *r = NULL;
	uint8_t dhv[32], ss[32];
	ppml_status rc;
	if (pkR[0] != 0x04 || !(r = ppml_ec_from_raw(pkR + 1)))
		return ppml_err_set(err, PPML_E_INPUT,
				    "HPKE: the recipient key is not an uncompressed P-256 point");
	if (ikm_e)
		rc = ppml_hpke_derive_keypair(ikm_e, ikm_e_len, &e, err);
	else
		rc = (e = ppml_ec_generate()) ? PPML_OK
					      : ppml_err_set(err, PPML_E_CRYPTO, "HPKE: key generation");
	if (rc == PPML_OK && (!ppml_ec_to_raw(e, enc + 1) || !dh(e, r, dhv)))
		rc = ppml_err_set(err, PPML_E_CRYPTO, "HPKE: Diffie-Hellman failed");
	if (rc == PPML_OK) {
		enc[0] = 0x04;
		kem_secret(dhv, enc, pkR, ss);
		if (shared_secret)
			memcpy(shared_secret, ss, 32);
		rc = key_schedule(aead, ss, info, info_len, ctx, err);
	}
	OPENSSL_cleanse(dhv, sizeof(dhv));
	OPENSSL_cleanse(ss, sizeof(ss));
	EVP_PKEY_free(e);
	EVP_PKEY_free(r);
	return rc;
}

ppml_status ppml_hpke_setup_receiver(uint16_t aead, EVP_PKEY *skR,
				     const uint8_t enc[PPML_HPKE_ENC_LEN], const uint8_t *info,
				     size_t info_len, struct ppml_hpke_ctx *ctx, struct ppml_err *err)
{
	EVP_PKEY *e = NULL;
	uint8_t dhv[32], ss[32], pkR[65];
	ppml_status rc = PPML_OK;
	pkR[0] = 0x04;
	if (enc[0] != 0x04 || !(e = ppml_ec_from_raw(enc + 1)))
		return ppml_err_set(err, PPML_E_INPUT, "HPKE: enc is not an uncompressed P-256 point");
	if (!ppml_ec_to_raw(skR, pkR + 1) || !dh(skR, e, dhv))
		rc = ppml_err_set(err, PPML_E_CRYPTO, "HPKE: Diffie-Hellman failed");
	if (rc == PPML_OK) {
		kem_secret(dhv, enc, pkR, ss);
		rc = key_schedule(aead, ss, info, info_len, ctx, err);
	}
	OPENSSL_cleanse(dhv, sizeof(dhv));
	OPENSSL_cleanse(ss, sizeof(ss));
	EVP_PKEY_free(e);
	return rc;
}

/* ---- AEAD ---- */

static const EVP_CIPHER *gcm(size_t key_len)
{
	return key_len == 16 ? EVP_aes_128_gcm() : key_len == 32 ? EVP_aes_256_gcm() : NULL;
}

ppml_status ppml_aead_seal(const uint8_t *key, size_t key_len, const uint8_t nonce[12],
			   const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
			   uint8_t *ct, struct ppml_err *err)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;
	bool ok = c && gcm(key_len) && pt_len <= (size_t)INT32_MAX &&
		  EVP_EncryptInit_ex(c, gcm(key_len), NULL, key, nonce) == 1 &&
		  (!aad_len || EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len) == 1) &&
		  EVP_EncryptUpdate(c, ct, &n, pt, (int)pt_len) == 1 &&
		  EVP_EncryptFinal_ex(c, ct + n, &f) == 1 &&
		  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, ct + pt_len) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? PPML_OK : ppml_err_openssl(err, PPML_E_CRYPTO, "AES-GCM encryption");
}

ppml_status ppml_aead_open(const uint8_t *key, size_t key_len, const uint8_t nonce[12],
			   const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
			   uint8_t *pt, struct ppml_err *err)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;
	if (ct_len < 16 || !c || !gcm(key_len)) {
		EVP_CIPHER_CTX_free(c);
		return ppml_err_set(err, PPML_E_INPUT, "AES-GCM: ciphertext shorter than its tag");
	}
	size_t pl = ct_len - 16;
	bool ok = pl <= (size_t)INT32_MAX &&
		  EVP_DecryptInit_ex(c, gcm(key_len), NULL, key, nonce) == 1 &&
		  (!aad_len || EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_len) == 1) &&
		  EVP_DecryptUpdate(c, pt, &n, ct, (int)pl) == 1 &&
		  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(ct + pl)) == 1 &&
		  EVP_DecryptFinal_ex(c, pt + n, &f) == 1;
	EVP_CIPHER_CTX_free(c);
	ERR_clear_error();
	if (!ok) {
		OPENSSL_cleanse(pt, pl);
		return ppml_err_set(err, PPML_E_REFUSED,
				    "AES-GCM: the authentication tag does not verify (wrong key, or "
				    "altered data)");
	}
	return PPML_OK;
}

static void seq_nonce(const struct ppml_hpke_ctx *c, uint8_t nonce[12])
{
	memcpy(nonce, c->base_nonce, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(c->seq >> (8 * i));
}

ppml_status ppml_hpke_seal(struct ppml_hpke_ctx *c, const uint8_t *aad, size_t aad_len,
			   const uint8_t *pt, size_t pt_len, uint8_t *ct, struct ppml_err *err)
{
	uint8_t nonce[12];
	if (c->seq == UINT64_MAX)
		return ppml_err_set(err, PPML_E_LIMIT, "HPKE: message limit reached");
	seq_nonce(c, nonce);
	ppml_status rc = ppml_aead_seal(c->key, c->key_len, nonce, aad, aad_len, pt, pt_len, ct, err);
	if (rc == PPML_OK)
		c->seq++;
	return rc;
}

ppml_status ppml_hpke_open(struct ppml_hpke_ctx *c, const uint8_t *aad, size_t aad_len,
			   const uint8_t *ct, size_t ct_len, uint8_t *pt, struct ppml_err *err)
{
	uint8_t nonce[12];
	seq_nonce(c, nonce);
	ppml_status rc = ppml_aead_open(c->key, c->key_len, nonce, aad, aad_len, ct, ct_len, pt, err);
	if (rc == PPML_OK)
		c->seq++;
	return rc;
}

/* ---- the key service's release answer (ppml/keysvc.h) ---- */

ppml_status ppml_release_open(EVP_PKEY *enclave_key, const char *key_name, uint32_t version,
			      const uint8_t *nonce, size_t nonce_len,
			      const uint8_t enc[PPML_HPKE_ENC_LEN], const uint8_t *ct, size_t ct_len,
			      uint8_t *dk, struct ppml_err *err)
{
	uint8_t info[16 + 129 + 4];
	size_t il = strlen("ppml-release-v1"), kn = strlen(key_name);
	struct ppml_hpke_ctx c;
	if (kn > 128)
		return ppml_err_set(err, PPML_E_INPUT, "release: key name too long");
	memcpy(info, "ppml-release-v1", il);
	memcpy(info + il, key_name, kn);
	il += kn;
	info[il++] = (uint8_t)(version >> 24);
	info[il++] = (uint8_t)(version >> 16);
	info[il++] = (uint8_t)(version >> 8);
	info[il++] = (uint8_t)version;
	ppml_status rc = ppml_hpke_setup_receiver(PPML_HPKE_AEAD_AES256GCM, enclave_key, enc, info,
						  il, &c, err);
	if (rc == PPML_OK)
		rc = ppml_hpke_open(&c, nonce, nonce_len, ct, ct_len, dk, err);
	ppml_hpke_ctx_cleanup(&c);
	return rc;
}
