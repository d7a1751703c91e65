/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the quote parser, the PCK chain grammar and extension extraction
 * behind `ppml quote show`, and the JSON rendering of what parsed. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "ppml/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_quote q;
	struct ppml_pck_ext ext;
	struct ppml_err err;
	bool platform;

	if (ppml_quote_parse(data, size, &q, &err) != PPML_OK) {
		if (err.code != PPML_E_INPUT && err.code != PPML_E_LIMIT)
			__builtin_trap();
		return 0;
	}
	/* Everything parsed lies inside the input. */
	if (q.cert_data < data || q.cert_data + q.cert_len > data + size ||
	    q.qe_auth < data || q.qe_auth + q.qe_auth_len > data + size ||
	    q.cert_offset + q.cert_len != size)
		__builtin_trap();
	bool have = ppml_quote_pck_info(&q, &ext, &platform, &err) == PPML_OK;
	json_t *o = ppml_quote_json(&q, have ? &ext : NULL);
	json_decref(o);
	return 0;
}
