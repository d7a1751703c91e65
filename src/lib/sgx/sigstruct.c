/* SPDX-License-Identifier: Apache-2.0 */
/* SIGSTRUCT build, sign, parse, verify (spec sections 8-10). */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "ppml/hex.h"
#include "ppml/key.h"
#include "ppml/sigstruct.h"

static const uint8_t k_header[16] = PPML_SGX_HEADER_BYTES;
static const uint8_t k_header2[16] = PPML_SGX_HEADER2_BYTES;

/* Section 10: the signed ranges. */
#define HEADER_BLOCK_LEN 128u
#define BODY_OFFSET      900u
#define BODY_LEN         128u
_Static_assert(HEADER_BLOCK_LEN + BODY_LEN == PPML_SGX_PAYLOAD_SIZE, "payload is 256 bytes");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, reserved4) == BODY_OFFSET + BODY_LEN,
	       "body ends at ISVSVN");

/* ---------------------------------------------------------------- attributes */

enum feat_rule { FEAT_ALLOW_UNSPECIFIED, FEAT_STRICT };

static ppml_status apply_feature(const char *name, const char *value, uint64_t bits,
				 enum feat_rule rule, struct ppml_sigstruct_params *p,
				 struct ppml_err *err)
{
	if (value && strcmp(value, "required") == 0) {
		p->attributes_xfrm |= bits;
		p->attribute_mask_xfrm |= bits;
	} else if (value && strcmp(value, "disabled") == 0) {
		p->attributes_xfrm &= ~bits;
		p->attribute_mask_xfrm |= bits;
	} else if (value && rule == FEAT_ALLOW_UNSPECIFIED && strcmp(value, "unspecified") == 0) {
		/* left to the platform */
	} else {
		return ppml_err_set(err, PPML_E_INPUT,
				    "Manifest option `sgx.cpu_features.%s` has a disallowed value", name);
	}
	return PPML_OK;
}

ppml_status ppml_sigstruct_attributes(const struct ppml_sgx_manifest_attrs *m,
				      struct ppml_sigstruct_params *p, struct ppml_err *err)
{
	struct ppml_sigstruct_params t = *p;
	ppml_status st;

	t.attributes_flags = PPML_SGX_FLAGS_MODE64BIT | (m->debug ? PPML_SGX_FLAGS_DEBUG : 0);
	t.attribute_mask_flags = UINT64_MAX;
	t.misc_select = m->use_exinfo ? PPML_SGX_MISC_EXINFO : 0;
	t.misc_mask = UINT32_MAX;
	t.attributes_xfrm = PPML_SGX_XFRM_LEGACY;
	t.attribute_mask_xfrm = PPML_SGX_XFRM_MASK_DEFAULT;
	if (m->legacy_require) {
		/* v1.3 collect_bits: OR only, so the order does not matter */
		t.attributes_xfrm |= (m->require_avx ? PPML_SGX_FEAT_AVX : 0) |
				     (m->require_avx512 ? PPML_SGX_FEAT_AVX512 : 0) |
				     (m->require_amx ? PPML_SGX_FEAT_AMX : 0) |
				     (m->require_mpx ? PPML_SGX_FEAT_MPX : 0) |
				     (m->require_pkru ? PPML_SGX_FEAT_PKRU : 0);
		*p = t;
		return PPML_OK;
	}
	/* Order matters: avx512's bits include AVX (section 8). */
	if ((st = apply_feature("avx", m->avx, PPML_SGX_FEAT_AVX, FEAT_ALLOW_UNSPECIFIED, &t, err)) ||
	    (st = apply_feature("avx512", m->avx512, PPML_SGX_FEAT_AVX512, FEAT_ALLOW_UNSPECIFIED, &t,
				err)) ||
	    (st = apply_feature("amx", m->amx, PPML_SGX_FEAT_AMX, FEAT_ALLOW_UNSPECIFIED, &t, err)) ||
	    (st = apply_feature("mpx", m->mpx, PPML_SGX_FEAT_MPX, FEAT_STRICT, &t, err)) ||
	    (st = apply_feature("pkru", m->pkru, PPML_SGX_FEAT_PKRU, FEAT_STRICT, &t, err)))
		return st;
	*p = t;
	return PPML_OK;
}

/* "YYYY-MM-DD", digits only: the BCD value (decimal digits as hex nibbles)
 * and the three numbers. */
static ppml_status parse_ymd(const char *s, uint32_t *bcd, unsigned ymd[3], struct ppml_err *err)
{
	static const char shape[] = "dddd-dd-dd";
	uint32_t v = 0;
	unsigned part = 0;

	memset(ymd, 0, 3 * sizeof(*ymd));
	if (strlen(s) != sizeof(shape) - 1)
		goto bad;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == '-') {
			if (s[i] != '-')
				goto bad;
			part++;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = (v << 4) | (uint32_t)(s[i] - '0');
		ymd[part] = ymd[part] * 10 + (unsigned)(s[i] - '0');
	}
	*bcd = v;
	return PPML_OK;
bad:
	return ppml_err_set(err, PPML_E_INPUT, "date \"%s\": expected YYYY-MM-DD (digits only)", s);
}

ppml_status ppml_sigstruct_parse_date(const char *s, uint32_t *bcd, struct ppml_err *err)
{
	unsigned ymd[3];
	*bcd = 0;
	return parse_ymd(s, bcd, ymd, err);
}

ppml_status ppml_sigstruct_parse_date_binary(const char *s, uint32_t *out, struct ppml_err *err)
{
	unsigned ymd[3];
	uint32_t bcd;
	ppml_status st;

	*out = 0;
	if ((st = parse_ymd(s, &bcd, ymd, err)) != PPML_OK)
		return st;
	if (ymd[1] < 1 || ymd[1] > 12 || ymd[2] < 1 || ymd[2] > 31)
		return ppml_err_set(err, PPML_E_INPUT,
				    "date \"%s\": Gramine v1.3 stores a real date (month 1-12, day "
				    "1-31)", s);
	*out = ymd[0] | (uint32_t)ymd[1] << 16 | (uint32_t)ymd[2] << 24;
	return PPML_OK;
}

int ppml_sigstruct_format_date(uint32_t date, int binary, char out[16])
{
	if (binary) {
		snprintf(out, 16, "%04u-%02u-%02u", (unsigned)(date & 0xffff) % 10000,
			 (unsigned)((date >> 16) & 0xff) % 100, (unsigned)(date >> 24) % 100);
		return ((date >> 16) & 0xff) >= 1 && ((date >> 16) & 0xff) <= 12 &&
		       (date >> 24) >= 1 && (date >> 24) <= 31;
	}
	snprintf(out, 16, "%04x-%02x-%02x", (unsigned)(date >> 16), (unsigned)((date >> 8) & 0xff),
		 (unsigned)(date & 0xff));
	for (unsigned i = 0; i < 8; i++)
		if (((date >> (4 * i)) & 0xf) > 9)
			return 0;
	return 1;
}

/* ---------------------------------------------------------------- build */

void ppml_sigstruct_init(struct ppml_sgx_sigstruct *s, const struct ppml_sigstruct_params *p)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->header, k_header, sizeof(k_header));
	memcpy(s->header2, k_header2, sizeof(k_header2));
	s->date = p->date;
	s->misc_select = p->misc_select;
	s->misc_mask = p->misc_mask;
	s->attributes_flags = p->attributes_flags;
	s->attributes_xfrm = p->attributes_xfrm;
	s->attribute_mask_flags = p->attribute_mask_flags;
	s->attribute_mask_xfrm = p->attribute_mask_xfrm;
	memcpy(s->enclave_hash, p->mrenclave, 32);
	s->isv_prod_id = p->isv_prod_id;
	s->isv_svn = p->isv_svn;
}

void ppml_sigstruct_payload(const struct ppml_sgx_sigstruct *s, uint8_t out[PPML_SGX_PAYLOAD_SIZE])
{
	const uint8_t *b = (const uint8_t *)s;
	memcpy(out, b, HEADER_BLOCK_LEN);
	memcpy(out + HEADER_BLOCK_LEN, b + BODY_OFFSET, BODY_LEN);
}

static void reverse_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

/* Q1 = floor(s^2 / n), Q2 = floor(s * (s^2 mod n) / n), each 384 bytes LE (section 10). */
static ppml_status compute_q(const BIGNUM *sig, const BIGNUM *n, uint8_t q1[384], uint8_t q2[384],
			     struct ppml_err *err)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *s2 = BN_new(), *q = BN_new(), *r = BN_new(), *t = BN_new();
	ppml_status st = PPML_OK;

	/* A value not below n is no RSA signature under n (and its quotients would
	 * not fit 384 bytes): refused, like any signature that does not verify. */
	if (BN_cmp(sig, n) >= 0) {
		st = ppml_err_set(err, PPML_E_REFUSED,
				  "SIGSTRUCT signature check failed: SIGNATURE is not smaller than "
				  "MODULUS, so it is not a signature by this key");
		goto out;
	}
	if (!ctx || !s2 || !q || !r || !t || !BN_sqr(s2, sig, ctx) || !BN_div(q, r, s2, n, ctx) ||
	    BN_bn2lebinpad(q, q1, 384) != 384 || !BN_mul(t, sig, r, ctx) ||
	    !BN_div(q, NULL, t, n, ctx) || BN_bn2lebinpad(q, q2, 384) != 384)
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "computing SIGSTRUCT Q1/Q2 failed");
out:
	BN_free(s2);
	BN_free(q);
	BN_free(r);
	BN_free(t);
	BN_CTX_free(ctx);
	return st;
}

/* An RSA public key (n, e = 3) for verification. */
static ppml_status make_pubkey(const BIGNUM *n, EVP_PKEY **out, struct ppml_err *err)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *e = BN_new();
	ppml_status st = PPML_OK;

	*out = NULL;
	if (!bld || !e || !BN_set_word(e, PPML_SGX_KEY_EXPONENT) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "building the RSA public key from MODULUS failed");
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	return st;
}

ppml_status ppml_sigstruct_verify(const struct ppml_sgx_sigstruct *s, struct ppml_err *err)
{
	uint8_t be[384], payload[PPML_SGX_PAYLOAD_SIZE], q1[384], q2[384];
	BIGNUM *n = NULL, *sig = NULL;
	EVP_PKEY *pub = NULL;
	EVP_MD_CTX *md = NULL;
	ppml_status st;
	int rc;

	if (memcmp(s->header, k_header, 16) != 0)
		return ppml_err_set(err, PPML_E_REFUSED, "SIGSTRUCT HEADER (offset 0) is not the SGX constant");
	if (memcmp(s->header2, k_header2, 16) != 0)
		return ppml_err_set(err, PPML_E_REFUSED, "SIGSTRUCT HEADER2 (offset 24) is not the SGX constant");
	if (s->exponent != PPML_SGX_KEY_EXPONENT)
		return ppml_err_set(err, PPML_E_REFUSED, "SIGSTRUCT EXPONENT (offset 512) is %u, expected 3",
				    s->exponent);
	if (!(s->modulus[383] & 0x80))
		return ppml_err_set(err, PPML_E_REFUSED,
				    "SIGSTRUCT MODULUS (offset 128) is not a 3072-bit number");
	reverse_copy(be, s->modulus, 384);
	n = BN_bin2bn(be, 384, NULL);
	sig = BN_lebin2bn(s->signature, 384, NULL);
	if (!n || !sig) {
		st = ppml_err_openssl(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	if (BN_cmp(sig, n) >= 0) {
		st = ppml_err_set(err, PPML_E_REFUSED,
				  "SIGSTRUCT SIGNATURE (offset 516) is not smaller than MODULUS");
		goto out;
	}
	if ((st = make_pubkey(n, &pub, err)) != PPML_OK)
		goto out;
	ppml_sigstruct_payload(s, payload);
	reverse_copy(be, s->signature, 384);
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pub, NULL) != 1) {
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "RSA verify setup failed");
		goto out;
	}
	rc = EVP_DigestVerify(md, be, 384, payload, sizeof(payload));
	if (rc != 1) {
		ERR_clear_error();
		st = ppml_err_set(err, PPML_E_REFUSED,
				  "SIGSTRUCT signature check failed: SIGNATURE is not a valid RSA-3072 PKCS#1 v1.5 SHA-256 signature of the header and body by MODULUS");
		goto out;
	}
	if ((st = compute_q(sig, n, q1, q2, err)) != PPML_OK)
		goto out;
	if (CRYPTO_memcmp(q1, s->q1, 384) != 0) {
		st = ppml_err_set(err, PPML_E_REFUSED,
				  "SIGSTRUCT Q1 check failed: Q1 (offset 1040) does not equal floor(SIGNATURE^2 / MODULUS)");
		goto out;
	}
	if (CRYPTO_memcmp(q2, s->q2, 384) != 0) {
		st = ppml_err_set(err, PPML_E_REFUSED,
				  "SIGSTRUCT Q2 check failed: Q2 (offset 1424) does not equal floor(SIGNATURE^3 - Q1*SIGNATURE*MODULUS) / MODULUS)");
		goto out;
	}
	st = PPML_OK;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	BN_free(n);
	BN_free(sig);
	return st;
}

ppml_status ppml_sigstruct_assemble(const uint8_t payload[PPML_SGX_PAYLOAD_SIZE],
				    const uint8_t *modulus_be, size_t modulus_len,
				    const uint8_t *signature_be, size_t signature_len,
				    struct ppml_sgx_sigstruct *out, struct ppml_err *err)
{
	struct ppml_sgx_sigstruct s;
	uint8_t *b = (uint8_t *)&s;
	BIGNUM *n = NULL, *sig = NULL;
	ppml_status st;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	memcpy(b, payload, HEADER_BLOCK_LEN);
	memcpy(b + BODY_OFFSET, payload + HEADER_BLOCK_LEN, BODY_LEN);
	n = BN_bin2bn(modulus_be, (int)(modulus_len > 4096 ? 4096 : modulus_len), NULL);
	sig = BN_bin2bn(signature_be, (int)(signature_len > 4096 ? 4096 : signature_len), NULL);
	if (!n || !sig) {
		st = ppml_err_openssl(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	if (modulus_len > 4096 || BN_num_bits(n) != (int)PPML_SGX_KEY_BITS) {
		st = ppml_err_set(err, PPML_E_INPUT, "Invalid RSA key: expected key size 3072, got %d",
				  modulus_len > 4096 ? -1 : BN_num_bits(n));
		goto out;
	}
	if (signature_len > 4096 || BN_num_bytes(sig) > 384) {
		st = ppml_err_set(err, PPML_E_INPUT, "signature is longer than 384 bytes");
		goto out;
	}
	s.exponent = PPML_SGX_KEY_EXPONENT;
	if (BN_bn2lebinpad(n, s.modulus, 384) != 384 || BN_bn2lebinpad(sig, s.signature, 384) != 384) {
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "encoding modulus/signature failed");
		goto out;
	}
	if ((st = compute_q(sig, n, s.q1, s.q2, err)) != PPML_OK)
		goto out;
	if ((st = ppml_sigstruct_verify(&s, err)) != PPML_OK)
		goto out;
	*out = s;
out:
	BN_free(n);
	BN_free(sig);
	return st;
}

ppml_status ppml_sigstruct_sign(struct ppml_sgx_sigstruct *s, EVP_PKEY *key, struct ppml_err *err)
{
	uint8_t payload[PPML_SGX_PAYLOAD_SIZE], sig[512], nbe[384];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = NULL;
	BIGNUM *n = NULL;
	ppml_status st;

	if ((st = ppml_key_check_sgx(key, 1, err)) != PPML_OK)
		return st;
	memset(s->modulus, 0, sizeof(s->modulus));
	memset(s->signature, 0, sizeof(s->signature));
	memset(s->q1, 0, sizeof(s->q1));
	memset(s->q2, 0, sizeof(s->q2));
	s->exponent = 0;
	ppml_sigstruct_payload(s, payload);
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(EVP_MD_CTX_get_pkey_ctx(md), RSA_PKCS1_PADDING) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, payload, sizeof(payload)) != 1) {
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "RSA signing of the SIGSTRUCT failed");
		goto out;
	}
	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) || BN_bn2binpad(n, nbe, 384) != 384) {
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "reading the RSA modulus failed");
		goto out;
	}
	st = ppml_sigstruct_assemble(payload, nbe, sizeof(nbe), sig, siglen, s, err);
out:
	EVP_MD_CTX_free(md);
	BN_free(n);
	return st;
}

ppml_status ppml_sigstruct_parse(const uint8_t *data, size_t len, struct ppml_sgx_sigstruct *out,
				 struct ppml_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len != PPML_SGX_SIGSTRUCT_SIZE)
		return ppml_err_set(err, PPML_E_INPUT, "SIGSTRUCT must be exactly %u bytes, got %zu",
				    PPML_SGX_SIGSTRUCT_SIZE, len);
	if (memcmp(data, k_header, 16) != 0)
		return ppml_err_set(err, PPML_E_INPUT,
				    "SIGSTRUCT HEADER (offset 0, 16 bytes) is not the SGX constant 06000000E10000000000010000000000");
	if (memcmp(data + offsetof(struct ppml_sgx_sigstruct, header2), k_header2, 16) != 0)
		return ppml_err_set(err, PPML_E_INPUT,
				    "SIGSTRUCT HEADER2 (offset 24, 16 bytes) is not the SGX constant 01010000600000006000000001000000");
	/* [1028,1040) is the only range covered neither by the signature nor by
	 * the Q1/Q2 and key checks, so a strict reader requires Gramine's zeros. */
	for (size_t i = 0; i < sizeof(out->reserved4); i++)
		if (data[offsetof(struct ppml_sgx_sigstruct, reserved4) + i] != 0)
			return ppml_err_set(err, PPML_E_INPUT,
					    "SIGSTRUCT reserved bytes at offset %zu are not zero",
					    offsetof(struct ppml_sgx_sigstruct, reserved4) + i);
	memcpy(out, data, PPML_SGX_SIGSTRUCT_SIZE);
	if (out->exponent != PPML_SGX_KEY_EXPONENT) {
		uint32_t e = out->exponent;
		memset(out, 0, sizeof(*out));
		return ppml_err_set(err, PPML_E_INPUT, "SIGSTRUCT EXPONENT (offset 512) is %u, expected 3", e);
	}
	return PPML_OK;
}

ppml_status ppml_sigstruct_mrsigner(const struct ppml_sgx_sigstruct *s, uint8_t out[32],
				    struct ppml_err *err)
{
	unsigned int len = 0;
	if (EVP_Digest(s->modulus, sizeof(s->modulus), out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return ppml_err_openssl(err, PPML_E_CRYPTO, "SHA-256 of MODULUS failed");
	return PPML_OK;
}

ppml_status ppml_sigstruct_check_mrenclave(const struct ppml_sgx_sigstruct *s,
					   const struct ppml_measure_input *in, struct ppml_err *err)
{
	uint8_t mr[32];
	char want[65], got[65];
	ppml_status st = ppml_measure_mrenclave(in, mr, NULL, err);

	if (st != PPML_OK)
		return st;
	if (CRYPTO_memcmp(mr, s->enclave_hash, sizeof(mr)) == 0)
		return PPML_OK;
	ppml_hex_encode(s->enclave_hash, 32, want);
	ppml_hex_encode(mr, 32, got);
	return ppml_err_set(err, PPML_E_REFUSED,
			    "MRENCLAVE check failed: SIGSTRUCT ENCLAVEHASH is %s but the manifest and PAL measure to %s",
			    want, got);
}

ppml_status ppml_sigstruct_parse_payload(const uint8_t *data, size_t len,
					 struct ppml_sgx_sigstruct *out, struct ppml_err *err)
{
	uint8_t *b = (uint8_t *)out;

	memset(out, 0, sizeof(*out));
	if (len != PPML_SGX_PAYLOAD_SIZE)
		return ppml_err_set(err, PPML_E_INPUT,
				    "signing payload must be exactly %u bytes (SIGSTRUCT header and "
				    "body), got %zu", PPML_SGX_PAYLOAD_SIZE, len);
	if (memcmp(data, k_header, 16) != 0)
		return ppml_err_set(err, PPML_E_INPUT,
				    "payload offset 0: the SIGSTRUCT HEADER constant is missing; "
				    "this is not a file written by 'ppml sign --gendata'");
	if (memcmp(data + offsetof(struct ppml_sgx_sigstruct, header2), k_header2, 16) != 0)
		return ppml_err_set(err, PPML_E_INPUT,
				    "payload offset 24: the SIGSTRUCT HEADER2 constant is missing; "
				    "this is not a file written by 'ppml sign --gendata'");
	memcpy(b, data, HEADER_BLOCK_LEN);
	memcpy(b + BODY_OFFSET, data + HEADER_BLOCK_LEN, BODY_LEN);
	return PPML_OK;
}
