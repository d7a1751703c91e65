/* SPDX-License-Identifier: Apache-2.0 */
/* ppml image build|verify: reproducible OCI images of signed enclaves. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/hex.h"
#include "ppml/file.h"
#include "ppml/image.h"
#include "ppml/policy.h"

const char cmd_image_usage[] =
	"usage: ppml image build --base (oci:DIR[:TAG] | docker-archive:FILE | scratch)\n"
	"                        --enclave DIR [--manifest NAME] [--sigfile NAME] [--chroot]\n"
	"                        [--workdir PATH] [--libpal PATH[:DEST]] [--add SRC:DEST]...\n"
	"                        [--entrypoint ARG]... [--env K=V]... [--label K=V]...\n"
	"                        --tag NAME:TAG --output (oci:DIR[:TAG] | docker-archive:FILE)\n"
	"                        [--gramine-version 1.9|1.3] [--json]\n"
	"       ppml image verify (oci:DIR[:TAG] | docker-archive:FILE)\n"
	"                        (--policy FILE | --mrenclave HEX | --mrsigner HEX\n"
	"                        [--isvprodid N] [--min-isvsvn N]) [--allow-debug]\n"
	"                        [--libpal PATH] [--gramine-version 1.9|1.3] [--json]\n"
	"\n"
	"build   packages a signed Gramine enclave into an OCI image without a Docker\n"
	"        daemon and without the signing key: the base's layers plus one layer\n"
	"        with manifest.sgx, the .sig and every measured file at the path the\n"
	"        manifest names (relative URIs under --workdir, default /app; absolute\n"
	"        ones at their path, taken from the host, or from the enclave folder\n"
	"        with --chroot), and the --add files.  The signature is verified and\n"
	"        every file checked against manifest.sgx first; a private key (PEM or\n"
	"        DER) anywhere in the layer is refused.  Reproducible: same inputs,\n"
	"        same digest (mtime from SOURCE_DATE_EPOCH, else 0).  The config\n"
	"        carries labels io.ppml.sgx.mrenclave, .mrsigner, .isvprodid, .isvsvn,\n"
	"        .debug, .manifest, .sigfile (and .libpal with --libpal PATH:DEST,\n"
	"        .gramine_version \"1.3\" with --gramine-version 1.3: an enclave signed by\n"
	"        BigDL's Gramine v1.3.1).\n"
	"verify  applies the image's layers (whiteouts honoured) without extracting\n"
	"        them, checks every measured file inside against manifest.sgx,\n"
	"        recomputes MRENCLAVE (with --libpal, else the PAL inside the image),\n"
	"        verifies the signature and compares the identity with the expected\n"
	"        one.  A debug enclave is refused unless --allow-debug.  The Gramine\n"
	"        version to measure as is the image's label, unless --gramine-version.\n"
	"\n"
	"Exit status: 0 built / verified; 1 verification refused (the reasons are\n"
	"printed); 2 usage; 3 a malformed or unreadable image or input (nothing is\n"
	"written then).\n";

static void progress(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "ppml image: %s\n", msg);
}

#define MAX_LIST 256

static int build(int argc, char **argv)
{
	struct ppml_image_build_opts o = {.source_date_epoch = -1, .progress = progress};
	struct ppml_image_add adds[MAX_LIST];
	const char *entry[MAX_LIST], *env[MAX_LIST], *labels[MAX_LIST];
	char *libpal_copy = NULL;
	const char *base = NULL, *output = NULL;
	int json = 0;
	struct ppml_err err = {0};

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;
		if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--chroot") == 0) {
			o.chroot = true;
		} else if (!has) {
			return cli_usage_error("image", "unexpected argument '%s'", a);
		} else if (strcmp(a, "--base") == 0) {
			base = argv[++i];
		} else if (strcmp(a, "--output") == 0) {
			output = argv[++i];
		} else if (strcmp(a, "--enclave") == 0) {
			o.enclave_dir = argv[++i];
		} else if (strcmp(a, "--manifest") == 0) {
			o.manifest = argv[++i];
		} else if (strcmp(a, "--sigfile") == 0) {
			o.sigfile = argv[++i];
		} else if (strcmp(a, "--workdir") == 0) {
			o.workdir = argv[++i];
		} else if (strcmp(a, "--tag") == 0) {
			o.tag = argv[++i];
		} else if (strcmp(a, "--gramine-version") == 0) {
			int r = cli_gramine_version("image", argv[++i], &o.gramine_version);
			if (r != CLI_EXIT_OK) {
				free(libpal_copy);
				return r;
			}
		} else if (strcmp(a, "--libpal") == 0) {
			free(libpal_copy);
			libpal_copy = strdup(argv[++i]);
			char *c = libpal_copy ? strchr(libpal_copy, ':') : NULL;
			if (c) {
				*c = 0;
				o.libpal_dest = c + 1;
			}
			o.libpal = libpal_copy;
		} else if (strcmp(a, "--add") == 0 || strcmp(a, "--entrypoint") == 0 ||
			   strcmp(a, "--env") == 0 || strcmp(a, "--label") == 0) {
			const char *v = argv[++i];
			size_t *n = a[2] == 'a' ? &o.n_adds : a[2] == 'e' && a[3] == 'n' && a[4] == 't'
								      ? &o.n_entrypoint
							  : a[2] == 'e' ? &o.n_env : &o.n_labels;
			if (*n == MAX_LIST) {
				free(libpal_copy);
				return cli_usage_error("image", "%s: at most %d", a, MAX_LIST);
			}
			if (a[2] == 'a') {
				const char *c = strchr(v, ':');
				if (!c || c == v || !c[1]) {
					free(libpal_copy);
					return cli_usage_error("image", "--add %s: expected SRC:DEST", v);
				}
				char *src = strndup(v, (size_t)(c - v));
				adds[*n] = (struct ppml_image_add){src, c + 1};
			} else if (n == &o.n_entrypoint) {
				entry[*n] = v;
			} else if (n == &o.n_env) {
				env[*n] = v;
			} else {
				labels[*n] = v;
			}
			(*n)++;
		} else {
			free(libpal_copy);
			return cli_usage_error("image", "unexpected argument '%s'", a);
		}
	}
	o.adds = adds;
	o.entrypoint = entry;
	o.env = env;
	o.labels = labels;
	int rc = CLI_EXIT_USAGE;
	if (!base || !output || !o.enclave_dir || !o.tag) {
		rc = cli_usage_error("image", "build needs --base, --enclave, --tag and --output");
		goto out;
	}
	if (ppml_image_ref_parse(base, true, &o.base, &err) != PPML_OK ||
	    ppml_image_ref_parse(output, false, &o.output, &err) != PPML_OK) {
		rc = cli_usage_error("image", "%s", err.msg);
		goto out;
	}
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		errno = 0;
		long long t = strtoll(sde, &end, 10);
		if (errno || *end || t < 0) {
			rc = cli_usage_error("image", "SOURCE_DATE_EPOCH=%s: expected Unix seconds", sde);
			goto out;
		}
		o.source_date_epoch = t;
	}
	struct ppml_image_result res;
	if (ppml_image_build(&o, &res, &err) != PPML_OK) {
		rc = cli_fail("image", &err);
		goto out;
	}
	char mre[65], mrs[65];
	ppml_hex_encode(res.mrenclave, 32, mre);
	ppml_hex_encode(res.mrsigner, 32, mrs);
	if (json) {
		json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "version", 1,
				      "output", output, "manifest_digest", res.manifest_digest,
				      "config_digest", res.config_digest, "layer_digest",
				      res.layer_digest, "layers", (json_int_t)res.n_layers, "files",
				      (json_int_t)res.n_files, "mrenclave", mre, "mrsigner", mrs);
		rc = cli_print_json(stdout, j) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	} else {
		printf("image:     %s (%s)\n", output, o.tag);
		if (res.manifest_digest[0])
			printf("manifest:  %s\n", res.manifest_digest);
		printf("config:    %s\nlayer:     %s (%zu files; %zu layers in all)\n",
		       res.config_digest, res.layer_digest, res.n_files, res.n_layers);
		printf("mrenclave: %s\nmrsigner:  %s\n", mre, mrs);
		rc = CLI_EXIT_OK;
	}
out:
	for (size_t i = 0; i < o.n_adds; i++)
		free((char *)adds[i].src);
	free(libpal_copy);
	return rc;
}

static bool u16(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 65535 || s[0] == '-')
		return false;
	*out = (uint16_t)v;
	return true;
}

static int verify(int argc, char **argv)
{
	struct ppml_image_expect e = {0};
	struct ppml_image_ref ref;
	struct ppml_image_verdict v;
	struct ppml_err err = {0};
	const char *img = NULL, *libpal = NULL, *policy_file = NULL;
	struct ppml_policy *pol = NULL;
	int json = 0;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;
		if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--allow-debug") == 0) {
			e.allow_debug = true;
		} else if (strcmp(a, "--mrenclave") == 0 && has) {
			if (ppml_hex_decode(argv[++i], e.mrenclave, 32, "--mrenclave", &err) != PPML_OK)
				return cli_usage_error("image", "%s", err.msg);
			e.has_mrenclave = true;
		} else if (strcmp(a, "--mrsigner") == 0 && has) {
			if (ppml_hex_decode(argv[++i], e.mrsigner, 32, "--mrsigner", &err) != PPML_OK)
				return cli_usage_error("image", "%s", err.msg);
			e.has_mrsigner = true;
		} else if (strcmp(a, "--isvprodid") == 0 && has) {
			if (!u16(argv[++i], &e.isvprodid))
				return cli_usage_error("image", "--isvprodid: expected 0..65535");
			e.has_isvprodid = true;
		} else if (strcmp(a, "--min-isvsvn") == 0 && has) {
			if (!u16(argv[++i], &e.min_isvsvn))
				return cli_usage_error("image", "--min-isvsvn: expected 0..65535");
			e.has_min_isvsvn = true;
		} else if (strcmp(a, "--libpal") == 0 && has) {
			libpal = argv[++i];
		} else if (strcmp(a, "--gramine-version") == 0 && has) {
			if (cli_gramine_version("image", argv[++i], &e.gramine_version) != CLI_EXIT_OK)
				return CLI_EXIT_USAGE;
			e.has_gramine_version = true;
		} else if (strcmp(a, "--policy") == 0 && has) {
			policy_file = argv[++i];
		} else if (!img && a[0] != '-') {
			img = a;
		} else {
			return cli_usage_error("image", "unexpected argument '%s'", a);
		}
	}
	if (!img)
		return cli_usage_error("image", "verify needs an image (oci:DIR[:TAG] or "
						"docker-archive:FILE)");
	if (policy_file) {
		uint8_t *text = NULL;
		size_t len = 0;
		if (ppml_file_read(policy_file, PPML_POLICY_MAX_SIZE, &text, &len, &err) != PPML_OK ||
		    ppml_policy_parse((const char *)text, len, &pol, &err) != PPML_OK) {
			free(text);
			ppml_err_prefix(&err, "%s: ", policy_file);
			return cli_fail("image", &err);
		}
		free(text);
		e.policy = pol;
	}
	if (!e.has_mrenclave && !e.has_mrsigner && !pol)
		return cli_usage_error("image", "verify needs --policy FILE, --mrenclave HEX or "
						"--mrsigner HEX");
	if ((e.has_isvprodid || e.has_min_isvsvn) && !e.has_mrsigner)
		return cli_usage_error("image", "--isvprodid / --min-isvsvn go with --mrsigner");
	if (ppml_image_ref_parse(img, false, &ref, &err) != PPML_OK) {
		ppml_policy_free(pol);
		return cli_usage_error("image", "%s", err.msg);
	}
	ppml_status vst = ppml_image_verify(&ref, libpal, &e, &v, &err);
	ppml_policy_free(pol);
	if (vst != PPML_OK)
		return cli_fail("image", &err);
	char mre[65], mrs[65];
	ppml_hex_encode(v.mrenclave, 32, mre);
	ppml_hex_encode(v.mrsigner, 32, mrs);
	if (json) {
		json_t *r = json_array();
		for (size_t i = 0; i < v.n_reasons; i++)
			json_array_append_new(r, json_string(v.reasons[i]));
		json_t *j = json_pack("{s:i, s:s, s:b, s:o, s:s, s:s, s:i, s:i, s:b, s:I, s:s}",
				      "version", 1, "image", img, "ok", v.ok, "reasons", r,
				      "mrenclave", mre, "mrsigner", mrs, "isvprodid", v.isvprodid,
				      "isvsvn", v.isvsvn, "debug", v.debug, "files_checked",
				      (json_int_t)v.files_checked, "manifest", v.manifest_path);
		if (cli_print_json(stdout, j) != 0)
			return CLI_EXIT_FAILURE;
	} else {
		printf("image:     %s\n", img);
		printf("verified:  %s\n", v.ok ? "yes" : "NO");
		printf("mrenclave: %s\nmrsigner:  %s\nisvprodid: %u  isvsvn: %u  debug: %s\n", mre,
		       mrs, v.isvprodid, v.isvsvn, v.debug ? "yes" : "no");
		printf("files:     %zu measured files checked inside the image\n", v.files_checked);
	}
	for (size_t i = 0; i < v.n_reasons; i++)
		fprintf(stderr, "ppml image: %s\n", v.reasons[i]);
	return v.ok ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
}

int cmd_image(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("image", "missing subcommand (build or verify)");
	if (strcmp(argv[1], "build") == 0)
		return build(argc, argv);
	if (strcmp(argv[1], "verify") == 0)
		return verify(argc, argv);
	return cli_usage_error("image", "unknown subcommand '%s' (build or verify)", argv[1]);
}
