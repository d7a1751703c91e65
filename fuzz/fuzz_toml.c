/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the TOML parser must refuse or accept any bytes cleanly,
 * and whatever it accepts must survive a deep copy and a free. */
#include <stdint.h>
#include <stdlib.h>

#include "ppml/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_toml_value *root = NULL, *copy;
	struct ppml_err err;

	if (ppml_toml_parse((const char *)data, size, &root, &err) != PPML_OK)
		return 0;
	copy = ppml_toml_clone(root);
	ppml_toml_free(copy);
	ppml_toml_free(root);
	return 0;
}
