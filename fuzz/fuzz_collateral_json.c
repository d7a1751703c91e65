/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the TCB info and QE identity parsers (bounded, strict JSON). */
#include <stdint.h>
#include <string.h>

#include "ppml/collateral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_tcb_info t;
	struct ppml_qe_identity q;
	struct ppml_err err;

	if (ppml_tcb_info_parse(data, size, &t, &err) == PPML_OK) {
		if (t.n_levels == 0 || !t.signed_body || (t.version != 2 && t.version != 3))
			__builtin_trap();
		/* Sorted strictly descending (duplicates refused). */
		for (size_t i = 1; i < t.n_levels; i++) {
			int c = memcmp(t.levels[i - 1].comp_svn, t.levels[i].comp_svn, 16);
			if (c < 0 || (c == 0 && t.levels[i - 1].pcesvn <= t.levels[i].pcesvn))
				__builtin_trap();
		}
	}
	ppml_tcb_info_cleanup(&t);
	if (ppml_qe_identity_parse(data, size, &q, &err) == PPML_OK) {
		if (q.n_levels == 0 || !q.signed_body)
			__builtin_trap();
	}
	ppml_qe_identity_cleanup(&q);
	return 0;
}
