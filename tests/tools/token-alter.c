/* SPDX-License-Identifier: Apache-2.0 */
/*
 * token-alter: every byte of a token altered, each copy verified in
 * process, for tests/cli/test_serve.sh (a process per copy would take
 * seconds).
 *
 *   token-alter TOKEN_FILE JWKS_FILE AUD
 *
 * Each position gets two other characters: one from the base64url alphabet
 * (the neighbour of the byte, so also a change the decoder cannot refuse as
 * a bad character) and '.'.  Prints "N altered copies, A verified" and
 * exits 0 only when the original verifies and no altered copy does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ppml/file.h"
#include "ppml/jwt.h"

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static bool verifies(const char *tok, const struct ppml_jwks *k, const char *aud)
{
	struct ppml_jwt_expect e = {.aud = aud, .now = (int64_t)time(NULL), .leeway_s = 60};
	json_t *claims = NULL;
	bool ok = ppml_jwt_verify(tok, k, &e, &claims, NULL, NULL) == PPML_OK;
	json_decref(claims);
	return ok;
}

int main(int argc, char **argv)
{
	uint8_t *t = NULL, *kb = NULL;
	size_t tl = 0, kl = 0;
	struct ppml_jwks *k = NULL;
	struct ppml_err err = {0};
	if (argc != 4) {
		fprintf(stderr, "usage: token-alter TOKEN_FILE JWKS_FILE AUD\n");
		return 2;
	}
	if (ppml_file_read(argv[1], PPML_JWT_MAX_TOKEN, &t, &tl, &err) != PPML_OK ||
	    ppml_file_read(argv[2], PPML_JWKS_MAX_SIZE, &kb, &kl, &err) != PPML_OK ||
	    ppml_jwks_parse((const char *)kb, kl, &k, NULL, &err) != PPML_OK) {
		fprintf(stderr, "token-alter: %s\n", err.msg);
		return 2;
	}
	while (tl && (t[tl - 1] == '\n' || t[tl - 1] == '\r'))
		t[--tl] = 0;
	char *tok = (char *)t;
	if (!verifies(tok, k, argv[3])) {
		fprintf(stderr, "token-alter: the original token does not verify\n");
		return 1;
	}
	size_t copies = 0, accepted = 0;
	for (size_t i = 0; i < tl; i++) {
		char orig = tok[i];
		const char *p = strchr(B64URL, orig);
		char alts[2] = {p ? B64URL[(p - B64URL + 1) % 64] : 'A', orig == '.' ? 'A' : '.'};
		for (int a = 0; a < 2; a++) {
			tok[i] = alts[a];
			copies++;
			if (verifies(tok, k, argv[3])) {
				accepted++;
				fprintf(stderr, "token-alter: accepted with byte %zu '%c' -> '%c'\n", i,
					orig, alts[a]);
			}
		}
		tok[i] = orig;
	}
	printf("%zu altered copies of %zu bytes, %zu verified\n", copies, tl, accepted);
	ppml_jwks_free(k);
	free(t);
	free(kb);
	return accepted ? 1 : 0;
}
