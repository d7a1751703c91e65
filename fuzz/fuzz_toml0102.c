/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Gramine v1.3 TOML path: parsing with toml 0.10.2's homogeneous-array
 * rule, then its writer.  Whatever the parser accepts, the writer either
 * serialises or refuses with PPML_E_INPUT (where Python raises) or a cap;
 * a refusal leaves the output empty, and writing twice gives the same bytes.
 * (Its output is not always TOML 1.0: toml 0.10.2 writes `k\n = 1` for such
 * a key, so no re-parse round trip here.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ppml/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_toml_value *t = NULL;
	struct ppml_buf b1 = {0}, b2 = {0};
	ppml_status st;

	if (ppml_toml_parse_ex((const char *)data, size, PPML_TOML_PARSE_HOMOGENEOUS, &t, NULL) !=
	    PPML_OK)
		goto out;
	st = ppml_toml_write_toml0102(t, &b1, NULL);
	if (st != PPML_OK) {
		if ((st != PPML_E_INPUT && st != PPML_E_LIMIT && st != PPML_E_NOMEM) || b1.len)
			abort();
		goto out;
	}
	if (ppml_toml_write_toml0102(t, &b2, NULL) != PPML_OK || b1.len != b2.len ||
	    (b1.len && memcmp(b1.data, b2.data, b1.len) != 0))
		abort();
out:
	ppml_toml_free(t);
	ppml_buf_free(&b1);
	ppml_buf_free(&b2);
	return 0;
}
