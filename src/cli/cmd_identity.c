/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml identity: the identity document of a signed enclave (manifest.sgx +
 * .sig, checked against each other), the production gate, and `identity diff`
 * to explain why two MRENCLAVEs differ.  The library builds, reads and
 * compares documents (ppml/identity.h); this file only prints.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/enclave.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/identity.h"
#include "ppml/limits.h"

const char cmd_identity_usage[] =
	"usage: ppml identity --manifest app.manifest.sgx --sigfile app.sig [--libpal PATH]\n"
	"                     [--json] [--production] [--gramine-version 1.9|1.3]\n"
	"       ppml identity diff A.json B.json [--json]\n"
	"\n"
	"Prints what a signed enclave is: MRENCLAVE, MRSIGNER, ISVPRODID, ISVSVN, DEBUG, the\n"
	"attributes, the measured files (loader.entrypoint and sgx.trusted_files with their\n"
	"SHA-256), the manifest keys, and warnings for what is not measured or weakens the\n"
	"identity (sgx.allowed_files, allow_all_but_log, insecure__ options, debug, no DCAP\n"
	"attestation, a publicly known test key). The .sig must verify and match the\n"
	"manifest measured with the PAL (as 'ppml sigstruct verify --manifest'), else exit 1.\n"
	"\n"
	"diff compares two 'ppml identity --json' documents: identity fields, manifest keys\n"
	"and measured files that differ. Exit 0 when nothing differs, 1 when something does.\n"
	"\n"
	"Options:\n"
	"  -m, --manifest FILE   the signed manifest.sgx\n"
	"  -s, --sigfile FILE    its SIGSTRUCT (.sig)\n"
	"  -l, --libpal PATH     the PAL to measure (default: Gramine's sgx/libpal.so)\n"
	"      --json            print one JSON document (\"version\": 1)\n"
	"      --production      exit 1 when there is any warning (the gate before deploying)\n"
	"      --gramine-version V\n"
	"                        the signer that produced the artefacts: 1.9 (default) or 1.3\n"
	"                        (v1.3.1, BigDL's PPML images). Keys of the other version\n"
	"                        (sgx.thread_num or sgx.require_* under 1.9, sgx.max_threads\n"
	"                        or sgx.cpu_features under 1.3) are reported with the fix\n";

static void print_text(const struct ppml_identity *id, const char *manifest, const char *sigfile)
{
	char hex[65];
	printf("Identity of %s signed by %s\n", manifest, sigfile);
	ppml_hex_encode(id->mrenclave, 32, hex);
	printf("MRENCLAVE: %s\n", hex);
	ppml_hex_encode(id->mrsigner, 32, hex);
	printf("MRSIGNER:  %s\n", hex);
	printf("ISVPRODID: %u\nISVSVN:    %u\n", id->isvprodid, id->isvsvn);
	printf("DEBUG:     %s\n", id->debug ? "true (debuggable: not for production)" : "false");
	printf("ATTRIBUTES: flags 0x%016" PRIx64 " xfrm 0x%016" PRIx64 "\n", id->attributes_flags,
	       id->attributes_xfrm);
	printf("ATTRIBUTEMASK: flags 0x%016" PRIx64 " xfrm 0x%016" PRIx64 "\n",
	       id->attribute_mask_flags, id->attribute_mask_xfrm);
	printf("MISCSELECT: 0x%08" PRIx32 " (mask 0x%08" PRIx32 ")\n", id->misc_select, id->misc_mask);
	printf("DATE:      %s\n", id->date);
	ppml_hex_encode(id->manifest_sha256, 32, hex);
	printf("manifest.sgx SHA-256: %s\n", hex);
	printf("Measured files (%zu):\n", id->n_files);
	for (size_t i = 0; i < id->n_files; i++)
		printf("    %s  %s\n", id->files[i].sha256, id->files[i].uri);
	printf("Warnings (%zu):\n", id->n_warnings);
	for (size_t i = 0; i < id->n_warnings; i++)
		printf("    [%s] %s\n", id->warnings[i].code, id->warnings[i].message);
	if (!id->n_warnings)
		printf("    none\n");
}

static int show(const char *manifest, const char *sigfile, const char *libpal, int json,
		int production, enum ppml_gramine_version ver)
{
	struct ppml_err err = {0};
	uint8_t *text = NULL, *pal = NULL, *sig = NULL;
	size_t text_len = 0, pal_len = 0, sig_len = 0;
	struct ppml_identity *id = NULL;
	struct ppml_buf out = {0};
	int rc = CLI_EXIT_FAILURE;

	if (ppml_file_read(manifest, PPML_SGX_MAX_MANIFEST_SIZE, &text, &text_len, &err) != PPML_OK ||
	    ppml_file_read(sigfile, 64 * 1024, &sig, &sig_len, &err) != PPML_OK ||
	    ppml_file_read(libpal, PPML_SGX_MAX_PAL_SIZE, &pal, &pal_len, &err) != PPML_OK) {
		rc = cli_fail("identity", &err);
		goto out;
	}
	if (ppml_identity_build(text, text_len, pal, pal_len, libpal, ver, sig, sig_len, manifest,
				&id, &err) != PPML_OK) {
		ppml_err_prefix(&err, "%s: ", sigfile);
		rc = cli_fail("identity", &err);
		goto out;
	}
	if (json) {
		if (ppml_identity_to_json(id, &out, &err) != PPML_OK) {
			rc = cli_fail("identity", &err);
			goto out;
		}
		fwrite(out.data, 1, out.len, stdout);
	} else {
		print_text(id, manifest, sigfile);
	}
	rc = CLI_EXIT_OK;
	if (production && id->n_warnings) {
		for (size_t i = 0; i < id->n_warnings; i++)
			fprintf(stderr, "ppml identity: production: [%s] %s\n", id->warnings[i].code,
				id->warnings[i].message);
		fprintf(stderr, "ppml identity: refused for production: %zu warning%s (see above)\n",
			id->n_warnings, id->n_warnings == 1 ? "" : "s");
		rc = CLI_EXIT_REFUSED;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = CLI_EXIT_FAILURE;
out:
	ppml_buf_free(&out);
	ppml_identity_free(id);
	free(text);
	free(pal);
	free(sig);
	return rc;
}

static int load_doc(const char *path, struct ppml_identity **id)
{
	struct ppml_err err = {0};
	uint8_t *data = NULL;
	size_t len = 0;
	ppml_status st = ppml_file_read(path, PPML_IDENTITY_MAX_JSON, &data, &len, &err);
	if (st == PPML_OK)
		st = ppml_identity_from_json((const char *)data, len, id, &err);
	free(data);
	if (st == PPML_OK)
		return CLI_EXIT_OK;
	ppml_err_prefix(&err, "%s: ", path);
	fprintf(stderr, "ppml identity diff: %s\n", err.msg);
	return CLI_EXIT_FAILURE; /* unreadable or malformed input, never "refused" */
}

static const char *const kind_names[] = {"", "field", "key", "file"};

static int print_diff_json(const struct ppml_identity_diff *d, const char *pa, const char *pb)
{
	json_t *o = json_object(), *arr = json_array();
	char *s = NULL;
	int bad = !o || !arr;
	bad = bad || json_object_set_new(o, "version", json_integer(PPML_IDENTITY_VERSION));
	bad = bad || json_object_set_new(o, "a", json_string(pa));
	bad = bad || json_object_set_new(o, "b", json_string(pb));
	bad = bad || json_object_set_new(o, "identical", json_boolean(d->len == 0));
	for (size_t i = 0; !bad && i < d->len; i++) {
		const struct ppml_identity_change *c = &d->items[i];
		json_t *e = json_object();
		int r = 0;
		/* every *_new call takes its reference even when it fails: no early exit */
		r |= json_object_set_new(e, "kind", json_string(kind_names[c->kind]));
		r |= json_object_set_new(e, "name", json_string(c->name));
		r |= json_object_set_new(e, "a", c->a ? json_loads(c->a, JSON_DECODE_ANY, NULL) : json_null());
		r |= json_object_set_new(e, "b", c->b ? json_loads(c->b, JSON_DECODE_ANY, NULL) : json_null());
		r |= json_array_append_new(arr, e);
		bad = r != 0;
	}
	bad = bad || json_object_set(o, "changes", arr);
	if (!bad)
		s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	json_decref(arr);
	if (!s) {
		fprintf(stderr, "ppml identity diff: out of memory\n");
		return -1;
	}
	puts(s);
	free(s);
	return 0;
}

static void print_diff_text(const struct ppml_identity_diff *d, const char *pa, const char *pb)
{
	static const char *const titles[] = {"", "Identity fields", "Manifest keys", "Measured files"};
	if (!d->len) {
		printf("%s and %s describe the same enclave identity\n", pa, pb);
		return;
	}
	printf("%s -> %s: %zu difference%s\n", pa, pb, d->len, d->len == 1 ? "" : "s");
	for (int kind = PPML_IDENTITY_FIELD; kind <= PPML_IDENTITY_FILE; kind++) {
		int header = 0;
		for (size_t i = 0; i < d->len; i++) {
			const struct ppml_identity_change *c = &d->items[i];
			if ((int)c->kind != kind)
				continue;
			if (!header++)
				printf("%s:\n", titles[kind]);
			printf("    %s: %s -> %s\n", c->name, c->a ? c->a : "(absent)",
			       c->b ? c->b : "(absent)");
		}
	}
}

static int diff(int argc, char **argv)
{
	const char *pa = NULL, *pb = NULL;
	int json = 0, rc;
	struct ppml_identity *a = NULL, *b = NULL;
	struct ppml_identity_diff d = {0};
	struct ppml_err err = {0};

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("identity", "unknown option '%s' for diff", argv[i]);
		else if (!pa)
			pa = argv[i];
		else if (!pb)
			pb = argv[i];
		else
			return cli_usage_error("identity", "diff takes two documents; unexpected '%s'",
					       argv[i]);
	}
	if (!pb)
		return cli_usage_error("identity", "diff needs two documents: A.json B.json "
						   "(from 'ppml identity --json')");
	if ((rc = load_doc(pa, &a)) != CLI_EXIT_OK || (rc = load_doc(pb, &b)) != CLI_EXIT_OK)
		goto out;
	if (ppml_identity_diff(a, b, &d, &err) != PPML_OK) {
		rc = cli_fail("identity", &err);
		goto out;
	}
	if (json) {
		if (print_diff_json(&d, pa, pb)) {
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
	} else {
		print_diff_text(&d, pa, pb);
	}
	rc = d.len ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
out:
	ppml_identity_diff_cleanup(&d);
	ppml_identity_free(a);
	ppml_identity_free(b);
	return rc;
}

int cmd_identity(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"manifest", required_argument, NULL, 'm'},
		{"sigfile", required_argument, NULL, 's'},
		{"libpal", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		{"production", no_argument, NULL, 'P'},
		{"gramine-version", required_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *manifest = NULL, *sigfile = NULL, *libpal = NULL;
	int json = 0, production = 0, c;
	enum ppml_gramine_version ver = PPML_GRAMINE_1_9;

	if (argc > 1 && strcmp(argv[1], "diff") == 0)
		return diff(argc, argv);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:s:l:", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': manifest = optarg; break;
		case 's': sigfile = optarg; break;
		case 'l': libpal = optarg; break;
		case 'j': json = 1; break;
		case 'P': production = 1; break;
		case 'V':
			if (cli_gramine_version("identity", optarg, &ver) != CLI_EXIT_OK)
				return CLI_EXIT_USAGE;
			break;
		case ':':
			return cli_usage_error("identity", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("identity", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("identity", "unexpected argument '%s'", argv[optind]);
	if (!manifest || !sigfile)
		return cli_usage_error("identity", "--manifest app.manifest.sgx and --sigfile app.sig "
						   "are required");
	if (!libpal) {
		libpal = ppml_enclave_default_libpal();
		if (!libpal)
			return cli_usage_error("identity", "Gramine's sgx/libpal.so is not installed here; "
							   "pass the PAL to measure with --libpal PATH");
	}
	return show(manifest, sigfile, libpal, json, production, ver);
}
