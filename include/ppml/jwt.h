/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/jwt.h - ES256 JSON Web Tokens and key sets (RFC 7515/7517/7519/7638).
 *
 * Only ES256 exists here: tokens are signed with a P-256 key, the signature
 * is the raw r || s (RFC 7518 section 3.4), and the key id is the key's RFC
 * 7638 thumbprint (optionally prefixed, e.g. "sim-" for the key that signs
 * verdicts on simulated quotes).  Verification accepts alg "ES256" only,
 * requires a kid found in the key set, and checks exp, nbf, iat, aud and
 * (when asked) iss.  Thread-safe.
 */
#ifndef PPML_JWT_H
#define PPML_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ppml/err.h"
#include "ppml/limits.h"

struct json_t;


/* base64url without padding (RFC 7515 section 2).  encode writes a NUL-
 * terminated string into out (at least (len * 4 + 2) / 3 + 1 bytes).
 * decode is strict: only the URL alphabet, no padding, canonical final bits;
 * out must hold len * 3 / 4 + 1 bytes. */
void ppml_b64url_encode(const uint8_t *in, size_t len, char *out);
bool ppml_b64url_decode(const char *in, size_t len, uint8_t *out, size_t *out_len);

/* The RFC 7638 thumbprint (base64url SHA-256 of {"crv","kty","x","y"}) of a
 * P-256 key, after prefix (may be NULL). */
ppml_status ppml_jwk_thumbprint(EVP_PKEY *key, const char *prefix,
				char kid[PPML_JWT_KID_MAX + 1], struct ppml_err *err) PPML_WARN_UNUSED;

/* The public JWK of a P-256 key: {kty, crv, x, y, kid, alg: "ES256", use: "sig"}. */
struct json_t *ppml_jwk_public(EVP_PKEY *key, const char *kid);

/* Signs claims (a JSON object) into a compact JWS with header
 * {"alg":"ES256","typ":"JWT","kid":kid}.  *token is malloc'ed. */
ppml_status ppml_jwt_sign(EVP_PKEY *key, const char *kid, const struct json_t *claims,
			  char **token, struct ppml_err *err) PPML_WARN_UNUSED;

struct ppml_jwks;
/* Parses {"keys":[...]}: EC P-256 keys with a kid (others are skipped,
 * counted in *skipped when non-NULL); duplicate kids are refused. */
ppml_status ppml_jwks_parse(const char *json, size_t len, struct ppml_jwks **out,
			    size_t *skipped, struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_jwks_free(struct ppml_jwks *s);
size_t ppml_jwks_count(const struct ppml_jwks *s);
/* The key with this kid (borrowed), or NULL. */
EVP_PKEY *ppml_jwks_key(const struct ppml_jwks *s, const char *kid);

struct ppml_jwt_expect {
	const char *aud;                   /* required: the token's aud must be or contain it */
	const char *iss;                   /* NULL: any issuer */
	int64_t now;                       /* Unix seconds */
	int64_t leeway_s;                  /* clock skew allowed on exp/nbf/iat (e.g. 60) */
};

/* Verifies a compact JWS: ES256 only, kid in jwks, the signature, exp (required),
 * nbf and iat when present, aud, iss.  On success *claims (and *header when
 * non-NULL) are new JSON objects the caller decrefs.  PPML_E_REFUSED names
 * the failed check; PPML_E_INPUT for a malformed token. */
ppml_status ppml_jwt_verify(const char *token, const struct ppml_jwks *jwks,
			    const struct ppml_jwt_expect *e, struct json_t **claims,
			    struct json_t **header, struct ppml_err *err) PPML_WARN_UNUSED;

#endif
