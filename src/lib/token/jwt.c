/* SPDX-License-Identifier: Apache-2.0 */
/* ES256 JWTs and JWK sets (include/ppml/jwt.h). */
#include "ppml/jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ppml/ec.h"

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void ppml_b64url_encode(const uint8_t *in, size_t len, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = B64URL[v >> 18];
		out[o++] = B64URL[(v >> 12) & 63];
		out[o++] = B64URL[(v >> 6) & 63];
		out[o++] = B64URL[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = B64URL[v >> 18];
		out[o++] = B64URL[(v >> 12) & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = B64URL[v >> 18];
		out[o++] = B64URL[(v >> 12) & 63];
		out[o++] = B64URL[(v >> 6) & 63];
	}
	out[o] = 0;
}

static int val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

bool ppml_b64url_decode(const char *in, size_t len, uint8_t *out, size_t *out_len)
{
	size_t o = 0, i = 0;
	if (len % 4 == 1)
		return false;
	for (; i + 4 <= len; i += 4) {
		int a = val(in[i]), b = val(in[i + 1]), c = val(in[i + 2]), d = val(in[i + 3]);
		if ((a | b | c | d) < 0)
			return false;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	size_t rest = len - i;
	if (rest) {
		int a = val(in[i]), b = val(in[i + 1]), c = rest == 3 ? val(in[i + 2]) : 0;
		if (a < 0 || b < 0 || c < 0)
			return false;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
		/* Canonical: the bits below the last full byte are zero. */
		if ((rest == 2 && (v & 0xffff)) || (rest == 3 && (v & 0xff)))
			return false;
		out[o++] = (uint8_t)(v >> 16);
		if (rest == 3)
			out[o++] = (uint8_t)(v >> 8);
	}
	*out_len = o;
	return true;
}

static bool xy_b64(EVP_PKEY *key, char x[64], char y[64])
{
	uint8_t xy[64];
	if (!ppml_ec_to_raw(key, xy))
		return false;
	ppml_b64url_encode(xy, 32, x);
	ppml_b64url_encode(xy + 32, 32, y);
	return true;
}

ppml_status ppml_jwk_thumbprint(EVP_PKEY *key, const char *prefix,
				char kid[PPML_JWT_KID_MAX + 1], struct ppml_err *err)
{
	char x[64], y[64], members[256], t[64];
	uint8_t md[32];
	if (!xy_b64(key, x, y))
		return ppml_err_set(err, PPML_E_INPUT, "JWK: not a P-256 key");
	/* RFC 7638 section 3.2: the required members, lexicographic, no whitespace. */
	snprintf(members, sizeof(members), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
		 x, y);
	EVP_Digest(members, strlen(members), md, NULL, EVP_sha256(), NULL);
	ppml_b64url_encode(md, 32, t);
	snprintf(kid, PPML_JWT_KID_MAX + 1, "%s%s", prefix ? prefix : "", t);
	return PPML_OK;
}

json_t *ppml_jwk_public(EVP_PKEY *key, const char *kid)
{
	char x[64], y[64];
	if (!xy_b64(key, x, y))
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", x,
			 "y", y, "kid", kid, "alg", "ES256", "use", "sig");
}

static char *b64_json(const json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *out = malloc(n * 4 / 3 + 4);
	if (out)
		ppml_b64url_encode((const uint8_t *)s, n, out);
	free(s);
	return out;
}

ppml_status ppml_jwt_sign(EVP_PKEY *key, const char *kid, const json_t *claims, char **token,
			  struct ppml_err *err)
{
	json_t *h = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "typ", "JWT", "kid", kid);
	char *hb = h ? b64_json(h) : NULL, *cb = b64_json(claims), *out = NULL;
	uint8_t sig[64];
	char sb[90];
	ppml_status rc = PPML_OK;

	*token = NULL;
	if (!hb || !cb) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	size_t n = strlen(hb) + 1 + strlen(cb);
	if (!(out = malloc(n + 1 + sizeof(sb)))) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(out, n + 1, "%s.%s", hb, cb);
	if (!ppml_ec_sign_raw(key, (const uint8_t *)out, n, sig)) {
		rc = ppml_err_set(err, PPML_E_CRYPTO, "JWT: ES256 signing failed");
		goto out;
	}
	ppml_b64url_encode(sig, 64, sb);
	out[n] = '.';
	memcpy(out + n + 1, sb, strlen(sb) + 1);
	*token = out;
	out = NULL;
out:
	free(out);
	free(hb);
	free(cb);
	json_decref(h);
	return rc;
}

/* ---- key sets ---- */

struct jwk {
	char kid[PPML_JWT_KID_MAX + 1];
	EVP_PKEY *key;
};

struct ppml_jwks {
	struct jwk k[PPML_JWKS_MAX_KEYS];
	size_t n;
};

void ppml_jwks_free(struct ppml_jwks *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		EVP_PKEY_free(s->k[i].key);
	free(s);
}

EVP_PKEY *ppml_jwks_key(const struct ppml_jwks *s, const char *kid)
{
	for (size_t i = 0; s && kid && i < s->n; i++)
		if (strcmp(s->k[i].kid, kid) == 0)
			return s->k[i].key;
	return NULL;
}

size_t ppml_jwks_count(const struct ppml_jwks *s)
{
	return s->n;
}

static bool coord(json_t *k, const char *name, uint8_t out[32])
{
	const char *s = json_string_value(json_object_get(k, name));
	uint8_t buf[48];
	size_t n = 0;
	if (!s || strlen(s) != 43 || !ppml_b64url_decode(s, 43, buf, &n) || n != 32)
		return false;
	memcpy(out, buf, 32);
	return true;
}

ppml_status ppml_jwks_parse(const char *json, size_t len, struct ppml_jwks **out, size_t *skipped,
			    struct ppml_err *err)
{
	json_error_t je;
	json_t *o = NULL, *keys;
	struct ppml_jwks *s = NULL;
	ppml_status rc = PPML_OK;
	size_t skip = 0;

	*out = NULL;
	if (len > PPML_JWKS_MAX_SIZE)
		return ppml_err_set(err, PPML_E_LIMIT, "JWKS: %zu bytes, above the %u-byte limit", len,
				    PPML_JWKS_MAX_SIZE);
	o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	keys = json_object_get(o, "keys");
	if (!json_is_array(keys)) {
		rc = ppml_err_set(err, PPML_E_INPUT, "JWKS: expected {\"keys\": [...]}%s%s",
				  o ? "" : ": ", o ? "" : je.text);
		goto out;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(keys); i++) {
		json_t *k = json_array_get(keys, i);
		const char *kty = json_string_value(json_object_get(k, "kty")),
			   *crv = json_string_value(json_object_get(k, "crv")),
			   *kid = json_string_value(json_object_get(k, "kid")),
			   *alg = json_string_value(json_object_get(k, "alg"));
		uint8_t xy[64];
		if (!kty || strcmp(kty, "EC") != 0 || !crv || strcmp(crv, "P-256") != 0 ||
		    (alg && strcmp(alg, "ES256") != 0)) {
			skip++;
			continue;
		}
		if (json_object_get(k, "d")) {
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "JWKS: keys[%zu] holds a private key (\"d\"): a key set "
					  "publishes public keys only",
					  i);
			goto out;
		}
		if (!kid || !*kid || strlen(kid) > PPML_JWT_KID_MAX || !coord(k, "x", xy) ||
		    !coord(k, "y", xy + 32)) {
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "JWKS: keys[%zu]: an EC P-256 key needs kid, and x and y of "
					  "32 bytes in base64url",
					  i);
			goto out;
		}
		for (size_t j = 0; j < s->n; j++)
			if (strcmp(s->k[j].kid, kid) == 0) {
				rc = ppml_err_set(err, PPML_E_INPUT, "JWKS: kid %s appears twice", kid);
				goto out;
			}
		if (s->n == PPML_JWKS_MAX_KEYS) {
			rc = ppml_err_set(err, PPML_E_LIMIT, "JWKS: more than %u keys",
					  PPML_JWKS_MAX_KEYS);
			goto out;
		}
		if (!(s->k[s->n].key = ppml_ec_from_raw(xy))) {
			rc = ppml_err_set(err, PPML_E_INPUT, "JWKS: keys[%zu] (%s): not a P-256 point",
					  i, kid);
			goto out;
		}
		snprintf(s->k[s->n].kid, sizeof(s->k[s->n].kid), "%s", kid);
		s->n++;
	}
	if (skipped)
		*skipped = skip;
	*out = s;
	s = NULL;
out:
	ppml_jwks_free(s);
	json_decref(o);
	return rc;
}

/* ---- verification ---- */

static json_t *part_json(const char *p, size_t n, const char *what, struct ppml_err *err)
{
	uint8_t *buf = malloc(n * 3 / 4 + 2);
	size_t bl = 0;
	json_error_t je;
	json_t *o = NULL;
	if (!buf) {
		ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		return NULL;
	}
	if (!ppml_b64url_decode(p, n, buf, &bl))
		ppml_err_set(err, PPML_E_INPUT, "token: the %s is not base64url", what);
	else if (!(o = json_loadb((const char *)buf, bl, JSON_REJECT_DUPLICATES, &je)) ||
		 !json_is_object(o)) {
		json_decref(o);
		o = NULL;
		ppml_err_set(err, PPML_E_INPUT, "token: the %s is not a JSON object", what);
	}
	free(buf);
	return o;
}

static bool aud_has(json_t *aud, const char *want)
{
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	for (size_t i = 0; json_is_array(aud) && i < json_array_size(aud); i++)
		if (json_is_string(json_array_get(aud, i)) &&
		    strcmp(json_string_value(json_array_get(aud, i)), want) == 0)
			return true;
	return false;
}

ppml_status ppml_jwt_verify(const char *token, const struct ppml_jwks *jwks,
			    const struct ppml_jwt_expect *e, json_t **claims, json_t **header,
			    struct ppml_err *err)
{
	size_t len = strlen(token);
	const char *d1, *d2;
	json_t *h = NULL, *c = NULL;
	ppml_status rc = PPML_E_INPUT;
	EVP_PKEY *key = NULL;

	*claims = NULL;
	if (header)
		*header = NULL;
	if (!e->aud || !*e->aud)
		return ppml_err_set(err, PPML_E_INPUT, "token: an audience to check is required");
	if (len > PPML_JWT_MAX_TOKEN)
		return ppml_err_set(err, PPML_E_LIMIT, "token: over %u bytes", PPML_JWT_MAX_TOKEN);
	if (!(d1 = strchr(token, '.')) || !(d2 = strchr(d1 + 1, '.')) || strchr(d2 + 1, '.'))
		return ppml_err_set(err, PPML_E_INPUT,
				    "token: expected three base64url parts separated by '.'");
	if (!(h = part_json(token, (size_t)(d1 - token), "header", err)) ||
	    !(c = part_json(d1 + 1, (size_t)(d2 - d1 - 1), "claims", err)))
		goto out;
	const char *alg = json_string_value(json_object_get(h, "alg")),
		   *kid = json_string_value(json_object_get(h, "kid"));
	rc = PPML_E_REFUSED;
	if (!alg || strcmp(alg, "ES256") != 0) {
		ppml_err_set(err, rc, "token: alg %s: only ES256 is accepted", alg ? alg : "(none)");
		goto out;
	}
	/* Only alg, typ and kid: no crit extensions, and no jku/jwk/x5u/x5c that
	 * would let a token name its own key. */
	{
		const char *hk;
		json_t *hv;
		json_object_foreach(h, hk, hv)
		{
			if (strcmp(hk, "alg") && strcmp(hk, "typ") && strcmp(hk, "kid")) {
				ppml_err_set(err, rc, "token: header member \"%.32s\" is not accepted "
						      "(only alg, typ, kid)",
					     hk);
				goto out;
			}
		}
	}
	for (size_t i = 0; kid && i < jwks->n && !key; i++)
		if (strcmp(jwks->k[i].kid, kid) == 0)
			key = jwks->k[i].key;
	if (!key) {
		ppml_err_set(err, rc, "token: kid %s is not in the key set", kid ? kid : "(none)");
		goto out;
	}
	uint8_t sig[66];
	size_t sl = 0;
	if (!ppml_b64url_decode(d2 + 1, strlen(d2 + 1), sig, &sl) || sl != 64 ||
	    !ppml_ec_verify_raw(key, (const uint8_t *)token, (size_t)(d2 - token), sig)) {
		ppml_err_set(err, rc, "token: the ES256 signature does not verify");
		goto out;
	}
	json_t *exp = json_object_get(c, "exp"), *nbf = json_object_get(c, "nbf"),
	       *iat = json_object_get(c, "iat");
	if (!json_is_integer(exp) || e->now >= json_integer_value(exp) + e->leeway_s) {
		ppml_err_set(err, rc, "token: %s", json_is_integer(exp) ? "expired (exp)" : "no exp");
		goto out;
	}
	if (nbf && (!json_is_integer(nbf) || e->now + e->leeway_s < json_integer_value(nbf))) {
		ppml_err_set(err, rc, "token: not valid yet (nbf)");
		goto out;
	}
	if (iat && (!json_is_integer(iat) || e->now + e->leeway_s < json_integer_value(iat))) {
		ppml_err_set(err, rc, "token: issued in the future (iat)");
		goto out;
	}
	if (!aud_has(json_object_get(c, "aud"), e->aud)) {
		ppml_err_set(err, rc, "token: audience is not %s", e->aud);
		goto out;
	}
	const char *iss = json_string_value(json_object_get(c, "iss"));
	if (e->iss && (!iss || strcmp(iss, e->iss) != 0)) {
		ppml_err_set(err, rc, "token: issuer %s, expected %s", iss ? iss : "(none)", e->iss);
		goto out;
	}
	*claims = c;
	c = NULL;
	if (header) {
		*header = h;
		h = NULL;
	}
	rc = PPML_OK;
out:
	json_decref(h);
	json_decref(c);
	return rc;
}
