/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the strict DER parser of the PCK certificate's SGX extension and
 * the strict PEM chain grammar (the two parsers between a quote and X.509). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ppml/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_pck_ext ext;
	struct ppml_pem_chain ch;
	struct ppml_err err;

	if (ppml_pck_ext_parse(data, size, &ext, &err) == PPML_OK) {
		/* Configuration entries exist only in a 7-entry (platform) extension. */
		if (!ext.platform &&
		    (ext.has_dynamic_platform || ext.has_cached_keys || ext.has_smt_enabled))
			__builtin_trap();
	} else if (err.code != PPML_E_INPUT) {
		__builtin_trap();
	}
	if (ppml_pem_chain_parse(data, size, 0, &ch, &err) == PPML_OK) {
		if (ch.count == 0 || ch.count > PPML_PEM_CHAIN_MAX)
			__builtin_trap();
		for (size_t i = 0; i < ch.count; i++)
			if (!ch.der[i] || ch.der_len[i] == 0 || ch.der_len[i] > size)
				__builtin_trap();
		ppml_pem_chain_free(&ch);
	}
	return 0;
}
