/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml measure: MRENCLAVE of a published manifest.sgx and PAL, without a key
 * (for verifiers who rebuild from the artefacts).  Phases: options; inputs;
 * one library call (ppml_enclave_measure); output.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/enclave.h"
#include "ppml/file.h"
#include "ppml/limits.h"

const char cmd_measure_usage[] =
	"usage: ppml measure --manifest app.manifest.sgx [--libpal PATH] [--json] [--layout]\n"
	"                    [--gramine-version 1.9|1.3]\n"
	"\n"
	"Computes MRENCLAVE from manifest.sgx (exactly as written by the signer) and the PAL,\n"
	"as the SGX CPU will, without any key. Prints MRENCLAVE, ISVPRODID, ISVSVN and\n"
	"whether the enclave is debuggable.\n"
	"\n"
	"Options:\n"
	"  -m, --manifest FILE   the signed manifest.sgx (not the rendered manifest)\n"
	"  -l, --libpal PATH     the PAL to measure (default: Gramine's sgx/libpal.so)\n"
	"      --json            print one JSON object\n"
	"      --layout          also print the attributes and the memory layout\n"
	"      --gramine-version V\n"
	"                        the signer that wrote manifest.sgx: 1.9 (default) or 1.3,\n"
	"                        the v1.3.1 of BigDL's PPML images (sgx.thread_num,\n"
	"                        sgx.require_*, PIE layout at base = enclave size)\n";

int cmd_measure(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"manifest", required_argument, NULL, 'm'},
		{"libpal", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		{"layout", no_argument, NULL, 'L'},
		{"gramine-version", required_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *manifest = NULL, *libpal = NULL;
	int json = 0, show_layout = 0, c, rc = CLI_EXIT_FAILURE;
	struct ppml_err err = {0};
	uint8_t *text = NULL, *pal = NULL;
	size_t text_len = 0, pal_len = 0;
	struct ppml_enclave_identity id;
	struct ppml_sgx_layout layout = {0};
	enum ppml_gramine_version ver = PPML_GRAMINE_1_9;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:l:", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': manifest = optarg; break;
		case 'l': libpal = optarg; break;
		case 'j': json = 1; break;
		case 'L': show_layout = 1; break;
		case 'V':
			if (cli_gramine_version("measure", optarg, &ver) != CLI_EXIT_OK)
				return CLI_EXIT_USAGE;
			break;
		case ':':
			return cli_usage_error("measure", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("measure", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("measure", "unexpected argument '%s'", argv[optind]);
	if (!manifest)
		return cli_usage_error("measure", "--manifest app.manifest.sgx is required");
	if (!libpal) {
		libpal = ppml_enclave_default_libpal();
		if (!libpal)
			return cli_usage_error("measure", "Gramine's sgx/libpal.so is not installed here; "
							  "pass the PAL to measure with --libpal PATH");
	}

	if (ppml_file_read(manifest, PPML_SGX_MAX_MANIFEST_SIZE, &text, &text_len, &err) != PPML_OK ||
	    ppml_file_read(libpal, PPML_SGX_MAX_PAL_SIZE, &pal, &pal_len, &err) != PPML_OK) {
		rc = cli_fail("measure", &err);
		goto out;
	}
	if (ppml_enclave_measure(text, text_len, pal, pal_len, libpal, ver, &id, &layout, &err) != PPML_OK) {
		ppml_err_prefix(&err, "%s: ", manifest);
		rc = cli_fail("measure", &err);
		goto out;
	}
	if (show_layout && !json)
		cli_print_layout(stdout, &id, &layout);
	rc = cli_print_identity(stdout, &id, NULL, NULL, manifest, NULL, json) ? CLI_EXIT_FAILURE
									       : CLI_EXIT_OK;
out:
	ppml_measure_layout_cleanup(&layout);
	free(text);
	free(pal);
	return rc;
}
