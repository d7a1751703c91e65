/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the strict SIGSTRUCT parser, the verifier behind it, and the two-step
 * payload parser (which must give back the exact bytes it accepted). */
#include <stdint.h>
#include <string.h>

#include "ppml/sigstruct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_sgx_sigstruct s;
	struct ppml_err err;
	uint8_t mr[32], again[PPML_SGX_PAYLOAD_SIZE];
	if (ppml_sigstruct_parse_payload(data, size, &s, &err) == PPML_OK) {
		ppml_sigstruct_payload(&s, again);
		if (memcmp(again, data, sizeof(again)) != 0)
			__builtin_trap();
	}
	if (ppml_sigstruct_parse(data, size, &s, &err) != PPML_OK)
		return 0;
	if (size != PPML_SGX_SIGSTRUCT_SIZE)
		__builtin_trap();
	/* A verify result must be one of OK / refused; anything else is a bug. */
	if (ppml_sigstruct_verify(&s, &err) != PPML_OK && err.code != PPML_E_REFUSED &&
	    err.code != PPML_E_CRYPTO)
		__builtin_trap();
	if (ppml_sigstruct_mrsigner(&s, mr, &err) != PPML_OK)
		return 0;
	return 0;
}
