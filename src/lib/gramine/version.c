/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-version choices of the manifest layer (spec section 12): which
 * TOML reader and writer the signer of that Gramine version used.
 */
#include <string.h>

#include "internal.h"

ppml_status ppml_gramine_version_parse(const char *s, enum ppml_gramine_version *out,
				       struct ppml_err *err)
{
	if (s && strcmp(s, "1.9") == 0) {
		*out = PPML_GRAMINE_1_9;
		return PPML_OK;
	}
	if (s && (strcmp(s, "1.3") == 0 || strcmp(s, "1.3.1") == 0)) {
		*out = PPML_GRAMINE_1_3;
		return PPML_OK;
	}
	return ppml_err_set(err, PPML_E_INPUT,
			    "Gramine version \"%s\": expected 1.9 (upstream Gramine 1.9) or 1.3 "
			    "(the v1.3.1 signer of BigDL's PPML images)", s ? s : "");
}

const char *ppml_gramine_version_name(enum ppml_gramine_version v)
{
	return v == PPML_GRAMINE_1_3 ? "1.3" : "1.9";
}

ppml_status ppml_manifest_parse(const char *text, size_t len, enum ppml_gramine_version version,
				struct ppml_toml_value **root, struct ppml_err *err)
{
	return ppml_toml_parse_ex(text, len,
				  version == PPML_GRAMINE_1_3 ? PPML_TOML_PARSE_HOMOGENEOUS : 0, root,
				  err);
}

ppml_status ppml_manifest_write(const struct ppml_toml_value *root,
				enum ppml_gramine_version version, struct ppml_buf *out,
				struct ppml_err *err)
{
	if (version == PPML_GRAMINE_1_3)
		return ppml_toml_write_toml0102(root, out, err);
	return ppml_toml_write_tomliw(root, out, err);
}
