/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY (branch manifest): stands in for src/lib/toml/parse.c until the
 * toml-parse branch is merged; deleted by that merge.  Tests that need the
 * parser skip when they see PPML_E_INTERNAL from here. */
#include "ppml/toml.h"

ppml_status ppml_toml_parse(const char *text, size_t len, struct ppml_toml_value **root,
			    struct ppml_err *err)
{
	(void)text;
	(void)len;
	*root = NULL;
	return ppml_err_set(err, PPML_E_INTERNAL, "TOML parser not merged into this branch yet");
}
