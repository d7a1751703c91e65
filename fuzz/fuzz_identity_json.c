/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the identity JSON reader (what `ppml identity diff` reads from
 * untrusted files), then round-trips what it accepted: writing and reading
 * back must succeed and give a document with no difference to the first.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ppml/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_identity *a = NULL, *b = NULL;
	struct ppml_identity_diff d = {0};
	struct ppml_buf out = {0};
	struct ppml_err err;

	if (ppml_identity_from_json((const char *)data, size, &a, &err) != PPML_OK) {
		if (a || (err.code != PPML_E_INPUT && err.code != PPML_E_LIMIT &&
			  err.code != PPML_E_NOMEM))
			__builtin_trap();
		return 0;
	}
	if (ppml_identity_to_json(a, &out, &err) != PPML_OK)
		goto done; /* strings jansson accepted but cannot re-encode: reported, not a crash */
	if (ppml_identity_from_json((const char *)out.data, out.len, &b, &err) != PPML_OK)
		__builtin_trap();
	if (ppml_identity_diff(a, b, &d, &err) != PPML_OK)
		goto done;
	if (d.len != 0)
		__builtin_trap();
done:
	ppml_identity_diff_cleanup(&d);
	ppml_buf_free(&out);
	ppml_identity_free(a);
	ppml_identity_free(b);
	return 0;
}
