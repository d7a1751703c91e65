/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HPKE against RFC 9180 appendix A.3.1 (DHKEM(P-256, HKDF-SHA256),
 * HKDF-SHA256, AES-128-GCM, base mode): DeriveKeyPair, the KEM's shared
 * secret, the key schedule, and the first three encryptions; then the
 * AES-256-GCM suite the key service uses, round trip and tampering.
 */
#include <openssl/bn.h>

#include "harness.h"
#include "ppml/ec.h"
#include "ppml/hex.h"
#include "ppml/hpke.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(ppml_hex_digit(h[2 * i]) << 4 | ppml_hex_digit(h[2 * i + 1]));
	return n;
}

static bool eqhex(const uint8_t *b, size_t n, const char *h)
{
	char s[513];
	ppml_hex_encode(b, n, s);
	return strcmp(s, h) == 0;
}

/* RFC 9180 A.3.1 */
#define INFO "4f6465206f6e2061204772656369616e2055726e"
#define IKME "4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e"
#define SKEM "4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb"
#define PKEM "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4"
#define IKMR "668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550"
#define SKRM "f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2"
#define PKRM "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0"
#define SHARED "c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8"
#define KEY "868c066ef58aae6dc589b6cfdd18f97e"
#define BASE_NONCE "4e0bc5018beba4bf004cca59"
#define EXPORTER "14ad94af484a7ad3ef40e9f3be99ecc6fa9036df9d4920548424df127ee0d99f"
#define PT "4265617574792069732074727574682c20747275746820626561757479"
static const char *const AAD[3] = {"436f756e742d30", "436f756e742d31", "436f756e742d32"};
static const char *const CT[3] = {
	"5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434",
	"fa6f037b47fc21826b610172ca9637e82d6e5801eb31cbd3748271affd4ecb06646e0329cbdf3c3cd655b28e82",
	"895cabfac50ce6c6eb02ffe6c048bf53b7f7be9a91fc559402cbc5b8dcaeb52b2ccc93e466c28fb55fed7a7fec",
};

static bool key_is(EVP_PKEY *k, const char *pk_hex)
{
	uint8_t xy[64], pt[65];
	if (!ppml_ec_to_raw(k, xy))
		return false;
	pt[0] = 4;
	memcpy(pt + 1, xy, 64);
	return eqhex(pt, 65, pk_hex);
}

TEST(rfc9180_a31_derive_keypair)
{
	uint8_t ikm[32];
	EVP_PKEY *e = NULL, *r = NULL;
	unhex(IKME, ikm);
	REQUIRE(ppml_hpke_derive_keypair(ikm, 32, &e, NULL) == PPML_OK);
	CHECK(key_is(e, PKEM));
	unhex(IKMR, ikm);
	REQUIRE(ppml_hpke_derive_keypair(ikm, 32, &r, NULL) == PPML_OK);
	CHECK(key_is(r, PKRM));
	/* The private scalars too. */
	BIGNUM *d = NULL;
	uint8_t sk[32];
	CHECK(EVP_PKEY_get_bn_param(r, "priv", &d) == 1 && BN_bn2binpad(d, sk, 32) == 32 &&
	      eqhex(sk, 32, SKRM));
	BN_free(d);
	d = NULL;
	CHECK(EVP_PKEY_get_bn_param(e, "priv", &d) == 1 && BN_bn2binpad(d, sk, 32) == 32 &&
	      eqhex(sk, 32, SKEM));
	BN_free(d);
	EVP_PKEY_free(e);
	EVP_PKEY_free(r);
}

TEST(rfc9180_a31_encap_schedule_seal_open)
{
	uint8_t info[64], ikm[32], pkr[65], ikmr[32], enc[65], ss[32], pt[64], aad[16], ct[128],
		out[128];
	size_t il = unhex(INFO, info), ptl = unhex(PT, pt);
	struct ppml_hpke_ctx s, r;
	EVP_PKEY *skr = NULL;
	unhex(IKME, ikm);
	unhex(PKRM, pkr);
	REQUIRE(ppml_hpke_setup_sender(PPML_HPKE_AEAD_AES128GCM, pkr, info, il, ikm, 32, enc, ss, &s,
				       NULL) == PPML_OK);
	CHECK(eqhex(enc, 65, PKEM));
	CHECK(eqhex(ss, 32, SHARED));
	CHECK(s.key_len == 16 && eqhex(s.key, 16, KEY));
	CHECK(eqhex(s.base_nonce, 12, BASE_NONCE));
	CHECK(eqhex(s.exporter_secret, 32, EXPORTER));
	unhex(IKMR, ikmr);
	REQUIRE(ppml_hpke_derive_keypair(ikmr, 32, &skr, NULL) == PPML_OK);
	REQUIRE(ppml_hpke_setup_receiver(PPML_HPKE_AEAD_AES128GCM, skr, enc, info, il, &r, NULL) ==
		PPML_OK);
	CHECK(!memcmp(r.key, s.key, 16) && !memcmp(r.base_nonce, s.base_nonce, 12));
	for (int i = 0; i < 3; i++) {
		size_t al = unhex(AAD[i], aad);
		REQUIRE(ppml_hpke_seal(&s, aad, al, pt, ptl, ct, NULL) == PPML_OK);
		CHECKF(eqhex(ct, ptl + 16, CT[i]), "sequence %d ciphertext", i);
		CHECK(ppml_hpke_open(&r, aad, al, ct, ptl + 16, out, NULL) == PPML_OK &&
		      !memcmp(out, pt, ptl));
	}
	ppml_hpke_ctx_cleanup(&s);
	ppml_hpke_ctx_cleanup(&r);
	EVP_PKEY_free(skr);
}

TEST(aes256_suite_round_trip_and_tamper)
{
	EVP_PKEY *skr = ppml_ec_generate(), *other = ppml_ec_generate();
	uint8_t pkr[65], enc[65], ct[64], out[64], key[32];
	struct ppml_hpke_ctx s, r;
	struct ppml_err err = {0};
	REQUIRE(skr && ppml_ec_to_raw(skr, pkr + 1));
	pkr[0] = 4;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	REQUIRE(ppml_hpke_setup_sender(PPML_HPKE_AEAD_AES256GCM, pkr, (const uint8_t *)"ctx", 3, NULL,
				       0, enc, NULL, &s, NULL) == PPML_OK);
	CHECK(s.key_len == 32);
	REQUIRE(ppml_hpke_seal(&s, (const uint8_t *)"nonce", 5, key, 32, ct, NULL) == PPML_OK);
	REQUIRE(ppml_hpke_setup_receiver(PPML_HPKE_AEAD_AES256GCM, skr, enc, (const uint8_t *)"ctx",
					 3, &r, NULL) == PPML_OK);
	struct ppml_hpke_ctx r0 = r;
	CHECK(ppml_hpke_open(&r, (const uint8_t *)"nonce", 5, ct, 48, out, NULL) == PPML_OK &&
	      !memcmp(out, key, 32));
	r = r0;
	CHECK(ppml_hpke_open(&r, (const uint8_t *)"other", 5, ct, 48, out, &err) == PPML_E_REFUSED);
	ct[3] ^= 1;
	r = r0;
	CHECK(ppml_hpke_open(&r, (const uint8_t *)"nonce", 5, ct, 48, out, NULL) == PPML_E_REFUSED);
	ct[3] ^= 1;
	/* Another recipient, or other info, opens nothing. */
	struct ppml_hpke_ctx o;
	REQUIRE(ppml_hpke_setup_receiver(PPML_HPKE_AEAD_AES256GCM, other, enc, (const uint8_t *)"ctx",
					 3, &o, NULL) == PPML_OK);
	CHECK(ppml_hpke_open(&o, (const uint8_t *)"nonce", 5, ct, 48, out, NULL) == PPML_E_REFUSED);
	REQUIRE(ppml_hpke_setup_receiver(PPML_HPKE_AEAD_AES256GCM, skr, enc, (const uint8_t *)"cty",
					 3, &o, NULL) == PPML_OK);
	CHECK(ppml_hpke_open(&o, (const uint8_t *)"nonce", 5, ct, 48, out, NULL) == PPML_E_REFUSED);
	/* A point not on the curve is refused. */
	enc[40] ^= 1;
	CHECK(ppml_hpke_setup_receiver(PPML_HPKE_AEAD_AES256GCM, skr, enc, NULL, 0, &o, &err) ==
	      PPML_E_INPUT);
	EVP_PKEY_free(skr);
	EVP_PKEY_free(other);
}

int main(void)
{
	RUN(rfc9180_a31_derive_keypair);
	RUN(rfc9180_a31_encap_schedule_seal_open);
	RUN(aes256_suite_round_trip_and_tamper);
	HARNESS_EXIT();
}
