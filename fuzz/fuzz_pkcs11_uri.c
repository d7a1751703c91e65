/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the RFC 7512 PKCS#11 URI parser (no module is loaded). */
#include <stdint.h>
#include <string.h>

#include "ppml/limits.h"
#include "ppml/pkcs11.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_pkcs11_uri *u = NULL;
	struct ppml_err err;

	if (ppml_pkcs11_uri_parse((const char *)data, size, &u, &err) != PPML_OK) {
		if (u || (err.code != PPML_E_INPUT && err.code != PPML_E_LIMIT && err.code != PPML_E_NOMEM))
			__builtin_trap();
		return 0;
	}
	/* Invariants of a parsed URI: the caps hold and strings have no NUL inside. */
	if (size > PPML_PKCS11_MAX_URI || u->id_len > PPML_PKCS11_MAX_ID || (u->id && !u->id_len) ||
	    (u->token && strlen(u->token) > 32) || (u->model && strlen(u->model) > 16) ||
	    (u->serial && strlen(u->serial) > 16) ||
	    (u->object && strlen(u->object) > PPML_PKCS11_MAX_LABEL))
		__builtin_trap();
	ppml_pkcs11_uri_free(u);
	return 0;
}
