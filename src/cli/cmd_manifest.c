/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml manifest check FILE [--json]: what `gramine-manifest --check` (v1.9)
 * validates, on a rendered manifest (defaults applied first, no file I/O).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/file.h"
#include "ppml/limits.h"
#include "ppml/manifest.h"

const char cmd_manifest_usage[] =
	"usage: ppml manifest check FILE [--json]\n"
	"\n"
	"Checks a Gramine manifest (TOML, already rendered from its template) against\n"
	"Gramine v1.9's manifest schema, as `gramine-manifest --check` does: unknown\n"
	"keys and wrong types are refused.  Defaults are applied first; no trusted\n"
	"file is read.\n"
	"\n"
	"  --json   print {\"ok\": BOOL, \"violations\": [...]} instead of text\n"
	"\n"
	"Prints OK (exit 0) or every violation, one per line (exit 1), e.g.\n"
	"  extra keys not allowed @ data['sgx']['require_avx']\n";

static int do_check(const char *path, int json)
{
	int rc = CLI_EXIT_FAILURE;
	uint8_t *data = NULL;
	size_t len = 0;
	struct ppml_err err = {0};
	struct ppml_manifest_violations v = {0};
	ppml_status st;

	st = ppml_file_read(path, PPML_TOML_MAX_INPUT, &data, &len, &err);
	if (st != PPML_OK) {
		rc = cli_fail("manifest", &err);
		goto out;
	}
	st = ppml_manifest_check_text((const char *)data, len, &v, &err);
	if (st != PPML_OK && st != PPML_E_REFUSED) {
		ppml_err_prefix(&err, "%s: ", path);
		rc = cli_fail("manifest", &err);
		goto out;
	}
	if (json) {
		json_t *o = json_object(), *a = json_array();
		if (!o || !a) {
			json_decref(o);
			json_decref(a);
			fprintf(stderr, "ppml manifest: out of memory\n");
			goto out;
		}
		for (size_t i = 0; i < v.len; i++)
			json_array_append_new(a, json_string(v.msgs[i]));
		json_object_set_new(o, "ok", json_boolean(v.len == 0));
		json_object_set_new(o, "violations", a);
		if (cli_print_json(stdout, o) != 0) {
			fprintf(stderr, "ppml manifest: out of memory\n");
			goto out;
		}
	} else if (v.len == 0) {
		printf("OK\n");
	} else {
		for (size_t i = 0; i < v.len; i++)
			printf("%s\n", v.msgs[i]);
	}
	rc = v.len == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
out:
	ppml_manifest_violations_free(&v);
	free(data);
	return rc;
}

int cmd_manifest(int argc, char **argv)
{
	const char *file = NULL;
	int json = 0;

	if (argc < 2)
		return cli_usage_error("manifest", "missing subcommand (check)");
	if (strcmp(argv[1], "check") != 0)
		return cli_usage_error("manifest", "unknown subcommand '%s'", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("manifest", "unknown option '%s'", argv[i]);
		else if (file)
			return cli_usage_error("manifest", "more than one FILE");
		else
			file = argv[i];
	}
	if (!file)
		return cli_usage_error("manifest", "missing FILE");
	return do_check(file, json);
}
