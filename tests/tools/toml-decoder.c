/* SPDX-License-Identifier: Apache-2.0 */
/*
 * toml-test decoder: TOML on stdin, tagged JSON on stdout; invalid TOML
 * exits 1 with the parser's message on stderr.
 *   toml-test test -decoder build/tests/toml-decoder -toml 1.0
 */
#include <stdio.h>
#include <stdlib.h>

#include "../toml_json.h"
#include "ppml/buf.h"
#include "ppml/limits.h"
#include "ppml/toml.h"

int main(void)
{
	struct ppml_buf in = {0};
	struct ppml_toml_value *root = NULL;
	struct ppml_err err = {0};
	json_t *j = NULL;
	char chunk[65536];
	size_t n;
	int rc = 2;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (ppml_buf_append(&in, chunk, n) != PPML_OK) {
			fprintf(stderr, "toml-decoder: out of memory\n");
			goto out;
		}
		/* Past the cap the parser refuses anyway; stop reading. */
		if (in.len > PPML_TOML_MAX_INPUT)
			break;
	}
	if (ferror(stdin)) {
		fprintf(stderr, "toml-decoder: cannot read stdin\n");
		goto out;
	}
	if (ppml_toml_parse((const char *)in.data, in.len, &root, &err) != PPML_OK) {
		fprintf(stderr, "toml-decoder: %s\n", err.msg);
		rc = 1;
		goto out;
	}
	j = toml_to_tagged_json(root);
	if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0) {
		fprintf(stderr, "toml-decoder: cannot write JSON\n");
		goto out;
	}
	putchar('\n');
	rc = 0;
out:
	json_decref(j);
	ppml_toml_free(root);
	ppml_buf_free(&in);
	return rc;
}
