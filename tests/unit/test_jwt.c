/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ES256 tokens: base64url strictness, the RFC 7638 thumbprint (computed
 * independently), sign/verify, every byte of a token altered, other
 * algorithms, every time claim, audience, issuer, and key-set parsing.
 */
#include <jansson.h>
#include <openssl/evp.h>

#include "harness.h"
#include "ppml/ec.h"
#include "ppml/jwt.h"

static const int64_t NOW = 1790000000;

TEST(b64url_strict)
{
	uint8_t in[5] = {0xfb, 0xff, 0xbf, 0x00, 0x01}, out[8];
	char enc[16];
	size_t n = 0;
	for (size_t l = 0; l <= 5; l++) {
		ppml_b64url_encode(in, l, enc);
		CHECK(!strchr(enc, '=') && !strchr(enc, '+') && !strchr(enc, '/'));
		CHECK(ppml_b64url_decode(enc, strlen(enc), out, &n) && n == l && !memcmp(in, out, l));
	}
	CHECK(strcmp((ppml_b64url_encode(in, 3, enc), enc), "-_-_") == 0);
	CHECK(!ppml_b64url_decode("QQ==", 4, out, &n));  /* padding */
	CHECK(!ppml_b64url_decode("+/8A", 4, out, &n));  /* standard alphabet */
	CHECK(ppml_b64url_decode("QQ", 2, out, &n) && n == 1 && out[0] == 'A');
	CHECK(!ppml_b64url_decode("QR", 2, out, &n));    /* non-zero trailing bits */
	CHECK(!ppml_b64url_decode("QUJDR", 5, out, &n)); /* impossible length */
}

TEST(thumbprint_rfc7638)
{
	EVP_PKEY *k = ppml_ec_generate();
	uint8_t xy[64], md[32];
	char x[64], y[64], kid[PPML_JWT_KID_MAX + 1], want[64], pref[PPML_JWT_KID_MAX + 1];
	REQUIRE(k && ppml_ec_to_raw(k, xy));
	ppml_b64url_encode(xy, 32, x);
	ppml_b64url_encode(xy + 32, 32, y);
	/* Independently: jansson's sorted compact dump of the required members. */
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "y", y, "x", x, "kty", "EC", "crv", "P-256");
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	EVP_Digest(s, strlen(s), md, NULL, EVP_sha256(), NULL);
	ppml_b64url_encode(md, 32, want);
	REQUIRE(ppml_jwk_thumbprint(k, NULL, kid, NULL) == PPML_OK);
	CHECK(strcmp(kid, want) == 0 && strlen(kid) == 43);
	REQUIRE(ppml_jwk_thumbprint(k, "sim-", pref, NULL) == PPML_OK);
	CHECK(strncmp(pref, "sim-", 4) == 0 && strcmp(pref + 4, want) == 0);
	free(s);
	json_decref(o);
	EVP_PKEY_free(k);
}

static EVP_PKEY *key;
static char kid[PPML_JWT_KID_MAX + 1];
static struct ppml_jwks *jwks;

static json_t *claims(int64_t iat, int64_t exp)
{
	return json_pack("{s:s, s:[s, s], s:I, s:I, s:I, s:s}", "iss", "https://ppml.test", "aud",
			 "other", "rp-1", "iat", (json_int_t)iat, "nbf", (json_int_t)iat, "exp",
			 (json_int_t)exp, "mrenclave", "ab");
}

static ppml_status verify(const char *t, const char *aud, const char *iss, int64_t now,
			  struct ppml_err *err)
{
	struct ppml_jwt_expect e = {.aud = aud, .iss = iss, .now = now, .leeway_s = 60};
	json_t *c = NULL;
	ppml_status st = ppml_jwt_verify(t, jwks, &e, &c, NULL, err);
	if (st == PPML_OK && !json_is_object(c))
		st = PPML_E_INTERNAL;
	json_decref(c);
	return st;
}

TEST(sign_verify_and_every_byte)
{
	json_t *c = claims(NOW, NOW + 300);
	char *t = NULL;
	struct ppml_err err = {0};
	REQUIRE(ppml_jwt_sign(key, kid, c, &t, NULL) == PPML_OK);
	CHECK(verify(t, "rp-1", "https://ppml.test", NOW, &err) == PPML_OK);
	struct ppml_jwt_expect e = {.aud = "rp-1", .now = NOW};
	json_t *got = NULL, *hdr = NULL;
	REQUIRE(ppml_jwt_verify(t, jwks, &e, &got, &hdr, NULL) == PPML_OK);
	CHECK(strcmp(json_string_value(json_object_get(got, "mrenclave")), "ab") == 0);
	CHECK(strcmp(json_string_value(json_object_get(hdr, "kid")), kid) == 0);
	json_decref(got);
	json_decref(hdr);
	size_t n = strlen(t), accepted = 0;
	for (size_t i = 0; i < n; i++) {
		char old = t[i];
		t[i] = old == 'A' ? 'B' : (old == '.' ? 'A' : 'A');
		if (verify(t, "rp-1", NULL, NOW, NULL) == PPML_OK)
			accepted++;
		t[i] = old;
	}
	CHECKF(accepted == 0, "%zu of %zu altered tokens verified", accepted, n);
	free(t);
	json_decref(c);
}

static char *forge(const char *alg, const char *sig)
{
	char h[128], hb[200], cb[600], *out = malloc(1024);
	json_t *c = claims(NOW, NOW + 300);
	char *cs = json_dumps(c, JSON_COMPACT);
	snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid);
	ppml_b64url_encode((const uint8_t *)h, strlen(h), hb);
	ppml_b64url_encode((const uint8_t *)cs, strlen(cs), cb);
	snprintf(out, 1024, "%s.%s.%s", hb, cb, sig);
	free(cs);
	json_decref(c);
	return out;
}

TEST(header_members_refused)
{
	/* A token naming its own key (jwk / jku) is refused before any key lookup. */
	const char *extra[] = {"jwk", "jku", "x5u", "crit"};
	for (size_t i = 0; i < 4; i++) {
		char h[200], hb[300], cb[600], *cs;
		json_t *c = claims(NOW, NOW + 300);
		cs = json_dumps(c, JSON_COMPACT);
		snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"%s\":\"x\"}", kid,
			 extra[i]);
		ppml_b64url_encode((const uint8_t *)h, strlen(h), hb);
		ppml_b64url_encode((const uint8_t *)cs, strlen(cs), cb);
		char t[1024];
		snprintf(t, sizeof(t), "%s.%s.AAAA", hb, cb);
		struct ppml_err err = {0};
		CHECKF(verify(t, "rp-1", NULL, NOW, &err) == PPML_E_REFUSED &&
			       strstr(err.msg, "header member"),
		       "%s: %.200s", extra[i], err.msg);
		free(cs);
		json_decref(c);
	}
}

TEST(other_algorithms_refused)
{
	const char *algs[] = {"none", "HS256", "RS256", "ES384", "es256"};
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		char *t = forge(algs[i], i == 0 ? "" : "c2lnbmF0dXJl");
		struct ppml_err err = {0};
		CHECKF(verify(t, "rp-1", NULL, NOW, &err) != PPML_OK && strstr(err.msg, "only ES256"),
		       "%s: %.300s", algs[i], err.msg);
		free(t);
	}
}

TEST(time_audience_issuer_kid)
{
	char *t = NULL;
	struct ppml_err err = {0};
	json_t *c = claims(NOW, NOW + 300);
	REQUIRE(ppml_jwt_sign(key, kid, c, &t, NULL) == PPML_OK);
	CHECK(verify(t, "rp-1", NULL, NOW + 359, NULL) == PPML_OK); /* within leeway */
	CHECK(verify(t, "rp-1", NULL, NOW + 360, &err) == PPML_E_REFUSED && strstr(err.msg, "exp"));
	CHECK(verify(t, "rp-1", NULL, NOW - 61, &err) == PPML_E_REFUSED && strstr(err.msg, "nbf"));
	CHECK(verify(t, "rp-2", NULL, NOW, &err) == PPML_E_REFUSED && strstr(err.msg, "audience"));
	CHECK(verify(t, "rp-1", "https://evil", NOW, &err) == PPML_E_REFUSED &&
	      strstr(err.msg, "issuer"));
	CHECK(verify(t, "", NULL, NOW, &err) == PPML_E_INPUT);
	free(t);
	json_decref(c);
	/* No exp at all. */
	c = json_pack("{s:s}", "aud", "rp-1");
	REQUIRE(ppml_jwt_sign(key, kid, c, &t, NULL) == PPML_OK);
	CHECK(verify(t, "rp-1", NULL, NOW, &err) == PPML_E_REFUSED && strstr(err.msg, "no exp"));
	free(t);
	json_decref(c);
	/* Another key with the same kid: the signature fails; an unknown kid is named. */
	EVP_PKEY *other = ppml_ec_generate();
	c = claims(NOW, NOW + 300);
	REQUIRE(ppml_jwt_sign(other, kid, c, &t, NULL) == PPML_OK);
	CHECK(verify(t, "rp-1", NULL, NOW, &err) == PPML_E_REFUSED && strstr(err.msg, "signature"));
	free(t);
	REQUIRE(ppml_jwt_sign(key, "nope", c, &t, NULL) == PPML_OK);
	CHECK(verify(t, "rp-1", NULL, NOW, &err) == PPML_E_REFUSED && strstr(err.msg, "kid nope"));
	free(t);
	CHECK(verify("a.b", "rp-1", NULL, NOW, &err) == PPML_E_INPUT);
	CHECK(verify("a.b.c.d", "rp-1", NULL, NOW, &err) == PPML_E_INPUT);
	json_decref(c);
	EVP_PKEY_free(other);
}

TEST(jwks_parsing)
{
	struct ppml_jwks *s = NULL;
	struct ppml_err err = {0};
	size_t skipped = 0;
	json_t *k = ppml_jwk_public(key, kid);
	REQUIRE(k);
	json_t *set = json_pack("{s:[O, {s:s, s:s, s:s}]}", "keys", k, "kty", "RSA", "kid", "r1", "n",
				"AQAB");
	char *txt = json_dumps(set, 0);
	CHECK(ppml_jwks_parse(txt, strlen(txt), &s, &skipped, &err) == PPML_OK &&
	      ppml_jwks_count(s) == 1 && skipped == 1);
	ppml_jwks_free(s);
	free(txt);
	json_array_append(json_object_get(set, "keys"), k); /* duplicate kid */
	txt = json_dumps(set, 0);
	CHECK(ppml_jwks_parse(txt, strlen(txt), &s, NULL, &err) == PPML_E_INPUT &&
	      strstr(err.msg, "twice"));
	free(txt);
	json_object_set_new(k, "x", json_string("AAAA"));
	json_t *bad = json_pack("{s:[O]}", "keys", k);
	txt = json_dumps(bad, 0);
	CHECK(ppml_jwks_parse(txt, strlen(txt), &s, NULL, &err) == PPML_E_INPUT);
	free(txt);
	CHECK(ppml_jwks_parse("[]", 2, &s, NULL, &err) == PPML_E_INPUT);
	/* A private key in a key set is refused. */
	json_t *pk = ppml_jwk_public(key, kid);
	json_object_set_new(pk, "d", json_string("AAAA"));
	json_t *priv = json_pack("{s:[o]}", "keys", pk);
	txt = json_dumps(priv, 0);
	CHECK(ppml_jwks_parse(txt, strlen(txt), &s, NULL, &err) == PPML_E_INPUT &&
	      strstr(err.msg, "private key"));
	free(txt);
	json_decref(priv);
	json_decref(bad);
	json_decref(set);
	json_decref(k);
}

int main(void)
{
	key = ppml_ec_generate();
	if (!key || ppml_jwk_thumbprint(key, NULL, kid, NULL) != PPML_OK)
		return 1;
	json_t *set = json_pack("{s:[o]}", "keys", ppml_jwk_public(key, kid));
	char *txt = json_dumps(set, 0);
	if (ppml_jwks_parse(txt, strlen(txt), &jwks, NULL, NULL) != PPML_OK)
		return 1;
	free(txt);
	json_decref(set);
	RUN(b64url_strict);
	RUN(thumbprint_rfc7638);
	RUN(sign_verify_and_every_byte);
	RUN(header_members_refused);
	RUN(other_algorithms_refused);
	RUN(time_audience_issuer_kid);
	RUN(jwks_parsing);
	ppml_jwks_free(jwks);
	EVP_PKEY_free(key);
	HARNESS_EXIT();
}
