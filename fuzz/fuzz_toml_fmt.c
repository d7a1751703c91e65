/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Round trip through the tomli-w writer: whatever the parser accepts, the
 * writer must serialise, the parser must accept that output again, and a
 * second serialisation must give the same bytes (fmt is idempotent).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ppml/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_toml_value *t1 = NULL, *t2 = NULL;
	struct ppml_buf b1 = {0}, b2 = {0};
	ppml_status st;

	if (ppml_toml_parse((const char *)data, size, &t1, NULL) != PPML_OK)
		goto out;
	st = ppml_toml_write_tomliw(t1, &b1, NULL);
	if (st == PPML_E_NOMEM || st == PPML_E_LIMIT)
		goto out;
	if (st != PPML_OK)
		abort();
	/* The writer's output is TOML that reads back to the same tree. */
	if (ppml_toml_parse(b1.data ? (const char *)b1.data : "", b1.len, &t2, NULL) != PPML_OK)
		abort();
	if (ppml_toml_write_tomliw(t2, &b2, NULL) != PPML_OK)
		abort();
	if (b1.len != b2.len || (b1.len && memcmp(b1.data, b2.data, b1.len) != 0))
		abort();
out:
	ppml_toml_free(t1);
	ppml_toml_free(t2);
	ppml_buf_free(&b1);
	ppml_buf_free(&b2);
	return 0;
}
