/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the policy parser (TOML and JSON): a policy that parses has a
 * canonical form that parses to the same canonical form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ppml/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_policy *p = NULL, *q = NULL;
	struct ppml_err err;
	char *a = NULL, *b = NULL, ha[65], hb[65];
	if (ppml_policy_parse((const char *)data, size, &p, &err) != PPML_OK) {
		if (err.code != PPML_E_INPUT && err.code != PPML_E_LIMIT)
			__builtin_trap();
		return 0;
	}
	if (ppml_policy_canonical(p, &a, ha, &err) != PPML_OK ||
	    ppml_policy_parse(a, strlen(a), &q, &err) != PPML_OK ||
	    ppml_policy_canonical(q, &b, hb, &err) != PPML_OK || strcmp(a, b) || strcmp(ha, hb))
		__builtin_trap();
	free(a);
	free(b);
	ppml_policy_free(p);
	ppml_policy_free(q);
	return 0;
}
