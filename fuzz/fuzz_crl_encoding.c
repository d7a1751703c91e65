/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes what a PCCS response or a collateral file feeds the library before
 * any verification: ppml_crl_to_der (DER / PEM / hex) and the issuer-chain
 * header decoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ppml/collateral.h"
#include "ppml/pccs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_err err;
	uint8_t *der = NULL, *again = NULL, *dec = NULL;
	size_t dl = 0, al = 0, n = 0;

	if (ppml_crl_to_der(data, size, &der, &dl, &err) == PPML_OK) {
		/* What came out is DER, and DER is taken as is. */
		if (dl == 0 || der[0] != 0x30 ||
		    ppml_crl_to_der(der, dl, &again, &al, &err) != PPML_OK || al != dl ||
		    memcmp(der, again, dl) != 0)
			__builtin_trap();
	} else if (err.code != PPML_E_INPUT && err.code != PPML_E_LIMIT) {
		__builtin_trap();
	}
	free(der);
	free(again);
	if (ppml_pccs_percent_decode((const char *)data, size, &dec, &n, &err) == PPML_OK) {
		if (n > size || dec[n] != 0)
			__builtin_trap();
	} else if (err.code != PPML_E_INPUT) {
		__builtin_trap();
	}
	free(dec);
	return 0;
}
