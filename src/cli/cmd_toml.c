/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml toml fmt FILE [-o OUT]: rewrites a TOML file exactly as Gramine's
 * tomli-w 1.0 writes manifest.sgx (spec/gramine-sgx-signing.md, section 3).
 * Nothing is added or expanded: this is the serialisation step alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/manifest.h"
#include "ppml/buf.h"
#include "ppml/file.h"
#include "ppml/limits.h"
#include "ppml/toml.h"

const char cmd_toml_usage[] =
	"usage: ppml toml fmt FILE [-o OUT] [--gramine-version 1.9|1.3]\n"
	"\n"
	"TOML tools.\n"
	"\n"
	"  fmt FILE     parse FILE (TOML 1.0) and write it back exactly as Gramine's\n"
	"               signer writes manifest.sgx (tomli-w 1.0): key order kept,\n"
	"               comments and original layout dropped, integers in decimal,\n"
	"               [[array.of.tables]] only when an entry does not fit on one\n"
	"               100-character line.  No defaults are added and no trusted\n"
	"               files are expanded.\n"
	"  -o, --output OUT\n"
	"               write to OUT atomically instead of standard output; on any\n"
	"               error OUT is left untouched.\n"
	"  --gramine-version V\n"
	"               1.9 (default): tomli-w 1.0, as above.  1.3: as Gramine v1.3.1\n"
	"               (BigDL's PPML images) writes it with Python toml 0.10.2:\n"
	"               [table] headers breadth-first, [[array.of.tables]] for any\n"
	"               array holding a table, inline arrays as [ \"a\", \"b\",]; arrays\n"
	"               mixing value types are refused, as that library does.\n"
	"\n"
	"Exit codes: 0 ok, 2 usage error, 3 FILE unreadable or not valid TOML\n"
	"(one line on stderr: \"ppml toml: FILE: line L, column C: ...\").\n";

static int toml_fmt(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	uint8_t *text = NULL;
	size_t len = 0;
	struct ppml_toml_value *root = NULL;
	struct ppml_buf doc = {0};
	struct ppml_err err = {0};
	int rc = CLI_EXIT_OK, opts_done = 0;
	enum ppml_gramine_version ver = PPML_GRAMINE_1_9;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!opts_done && strcmp(a, "--") == 0) {
			opts_done = 1;
		} else if (!opts_done && (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)) {
			if (i + 1 >= argc) {
				rc = cli_usage_error("toml", "%s needs a file name", a);
				goto out;
			}
			if (out) {
				rc = cli_usage_error("toml", "-o given twice");
				goto out;
			}
			out = argv[++i];
		} else if (!opts_done && strcmp(a, "--gramine-version") == 0) {
			if (i + 1 >= argc) {
				rc = cli_usage_error("toml", "%s needs a value", a);
				goto out;
			}
			if ((rc = cli_gramine_version("toml", argv[++i], &ver)) != CLI_EXIT_OK)
				goto out;
		} else if (!opts_done && a[0] == '-' && a[1] != '\0') {
			rc = cli_usage_error("toml", "unknown option '%s'", a);
			goto out;
		} else if (!in) {
			in = a;
		} else {
			rc = cli_usage_error("toml", "fmt takes one FILE (got '%s' too)", a);
			goto out;
		}
	}
	if (!in) {
		rc = cli_usage_error("toml", "fmt needs a FILE");
		goto out;
	}

	if (ppml_file_read(in, PPML_TOML_MAX_INPUT, &text, &len, &err) != PPML_OK) {
		/* The message already starts with the file name. */
		rc = cli_fail("toml", &err);
		goto out;
	}
	if (ppml_manifest_parse((const char *)text, len, ver, &root, &err) != PPML_OK ||
	    ppml_manifest_write(root, ver, &doc, &err) != PPML_OK) {
		ppml_err_prefix(&err, "%s: ", in);
		rc = cli_fail("toml", &err);
		goto out;
	}

	if (out) {
		if (ppml_file_write_atomic(out, doc.data ? (const void *)doc.data : "", doc.len, 0644,
					   0, &err) != PPML_OK) {
			rc = cli_fail("toml", &err);
			goto out;
		}
	} else if ((doc.len && fwrite(doc.data, 1, doc.len, stdout) != doc.len) ||
		   fflush(stdout) != 0) {
		ppml_err_set(&err, PPML_E_IO, "writing to standard output failed");
		rc = cli_fail("toml", &err);
		goto out;
	}
out:
	ppml_toml_free(root);
	ppml_buf_free(&doc);
	free(text);
	return rc;
}

int cmd_toml(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("toml", "missing subcommand (fmt)");
	if (strcmp(argv[1], "fmt") == 0)
		return toml_fmt(argc - 1, argv + 1);
	return cli_usage_error("toml", "unknown subcommand '%s'", argv[1]);
}
