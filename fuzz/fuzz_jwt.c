/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the key-set parser and token verification: the input is split at
 * the first newline into a JWKS document and a token; nothing verifies
 * without a real signature, so any acceptance is checked to be one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ppml/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t jl = nl ? (size_t)(nl - data) : size;
	struct ppml_jwks *ks = NULL;
	struct ppml_err err;
	if (ppml_jwks_parse((const char *)data, jl, &ks, NULL, &err) != PPML_OK)
		return 0;
	if (!nl)
		goto out;
	char *tok = strndup((const char *)nl + 1, size - jl - 1);
	struct ppml_jwt_expect e = {.aud = "aud", .now = 1700000000, .leeway_s = 60};
	json_t *claims = NULL, *hdr = NULL;
	if (tok && ppml_jwt_verify(tok, ks, &e, &claims, &hdr, &err) == PPML_OK) {
		/* Verified: it must be ES256 with a kid from the set. */
		const char *alg = json_string_value(json_object_get(hdr, "alg"));
		if (!alg || strcmp(alg, "ES256") ||
		    !ppml_jwks_key(ks, json_string_value(json_object_get(hdr, "kid"))))
			__builtin_trap();
	}
	json_decref(claims);
	json_decref(hdr);
	free(tok);
out:
	ppml_jwks_free(ks);
	return 0;
}
