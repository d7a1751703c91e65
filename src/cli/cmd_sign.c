/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml sign: gramine-sgx-sign v1.9, byte for byte (spec section 1).
 * Phases: options; key (checked first, as Gramine does); manifest
 * normalisation and hashing; measurement; SIGSTRUCT; all outputs committed
 * together, so a failure leaves no file behind.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cli.h"
#include "cli_pkcs11.h"
#include "cli_util.h"
#include "ppml/enclave.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/key.h"
#include "ppml/limits.h"
#include "ppml/manifest.h"

const char cmd_sign_usage[] =
	"usage: ppml sign --manifest app.manifest --output app.manifest.sgx --key KEY\n"
	"                 [--sigfile app.sig] [--passphrase-file F] [--libpal PATH]\n"
	"                 [--date YYYY-MM-DD|today] [--chroot DIR] [--depfile F]\n"
	"                 [--json] [--quiet]\n"
	"       ppml sign ... --key 'pkcs11:token=T;object=L' [--module PATH]\n"
	"                 [--pin-file F] [--allow-debug]\n"
	"\n"
	"Signs a Gramine enclave exactly as gramine-sgx-sign v1.9 does: adds the manifest\n"
	"defaults, expands and hashes the trusted files (in parallel), writes manifest.sgx\n"
	"as tomli-w does, measures it with the PAL into MRENCLAVE and writes the SIGSTRUCT.\n"
	"The key must be RSA-3072 with exponent 3 (what SGX accepts). Outputs appear only\n"
	"if everything succeeded. The manifest schema is not checked here: use\n"
	"'ppml manifest check'.\n"
	"\n"
	"Options:\n"
	"  -m, --manifest FILE      the rendered manifest\n"
	"  -o, --output FILE        where manifest.sgx is written\n"
	"  -k, --key FILE|URI       the enclave signing key: a PEM file, or an RFC 7512\n"
	"                           PKCS#11 URI ('pkcs11:token=T;object=L'): then the key\n"
	"                           stays in the token and signs there\n"
	"  -s, --sigfile FILE       SIGSTRUCT output (default: the manifest name without\n"
	"                           .manifest, plus .sig)\n"
	"      --passphrase-file F  passphrase of an encrypted key (first line of F)\n"
	"  -l, --libpal PATH        the PAL to measure (default: Gramine's sgx/libpal.so)\n"
	"  -d, --date D             SIGSTRUCT date, YYYY-MM-DD or 'today' (default today;\n"
	"                           from SOURCE_DATE_EPOCH when that is set)\n"
	"      --chroot DIR         look trusted files up under DIR\n"
	"      --depfile FILE       write the files the outputs depend on, for make\n"
	"      --json               print the result as one JSON object\n"
	"  -q, --quiet              do not print the memory layout\n"
	"\n"
	"PKCS#11 keys (production signing):\n"
	"      --module PATH        the PKCS#11 module (default " PPML_PKCS11_DEFAULT_MODULE ")\n"
	"      --pin-file F         the token's user PIN (first line of F); else the URI's\n"
	"                           ?pin-source=file:F, else $PKCS11_PIN. Never an argument.\n"
	"      --allow-debug        sign a debug enclave (sgx.debug = true) with a PKCS#11\n"
	"                           key; refused otherwise\n";

/* Gramine: output name = manifest name without ".manifest", plus ".sig". */
static char *default_sigfile(const char *manifest)
{
	size_t n = strlen(manifest), sfx = strlen(".manifest");
	char *s = malloc(n + 5);
	if (!s)
		return NULL;
	if (n > sfx && strcmp(manifest + n - sfx, ".manifest") == 0)
		n -= sfx;
	memcpy(s, manifest, n);
	memcpy(s + n, ".sig", 5);
	return s;
}

struct progress {
	int tty;
	int shown;
};

static void on_progress(void *ctx, size_t index, const char *path, size_t files_done,
			size_t files_total, uint64_t bytes_done, uint64_t bytes_total)
{
	struct progress *p = ctx;
	(void)index;
	(void)path;
	if (!p->tty || bytes_total < (64u << 20))
		return;
	fprintf(stderr, "\rhashing trusted files: %zu/%zu files, %llu/%llu MiB", files_done,
		files_total, (unsigned long long)(bytes_done >> 20),
		(unsigned long long)(bytes_total >> 20));
	p->shown = 1;
}

static ppml_status write_depfile(struct ppml_outputs *outs, const char *depfile,
				 const char *output, const char *sigfile, const char *manifest,
				 const char *libpal, const char *key,
				 const struct ppml_manifest_result *res, struct ppml_err *err)
{
	struct ppml_buf b = {0};
	ppml_status rc = PPML_E_NOMEM;

	if (cli_buf_make_escape(&b, output) || ppml_buf_putc(&b, ' ') ||
	    cli_buf_make_escape(&b, sigfile) || ppml_buf_puts(&b, ":"))
		goto out;
	const char *fixed[] = {manifest, libpal, key};
	for (size_t i = 0; i < 3; i++)
		if (fixed[i] && (ppml_buf_puts(&b, " \\\n\t") || cli_buf_make_escape(&b, fixed[i])))
			goto out;
	for (size_t i = 0; i < res->n_deps; i++)
		if (ppml_buf_puts(&b, " \\\n\t") || cli_buf_make_escape(&b, res->deps[i]))
			goto out;
	if (ppml_buf_putc(&b, '\n'))
		goto out;
	rc = ppml_outputs_stage(outs, depfile, b.data, b.len, 0644, err);
out:
	if (rc == PPML_E_NOMEM)
		ppml_err_set(err, rc, "out of memory");
	ppml_buf_free(&b);
	return rc;
}

int cmd_sign(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"manifest", required_argument, NULL, 'm'},
		{"output", required_argument, NULL, 'o'},
		{"key", required_argument, NULL, 'k'},
		{"sigfile", required_argument, NULL, 's'},
		{"passphrase-file", required_argument, NULL, 'P'},
		{"libpal", required_argument, NULL, 'l'},
		{"date", required_argument, NULL, 'd'},
		{"chroot", required_argument, NULL, 'C'},
		{"depfile", required_argument, NULL, 'D'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"module", required_argument, NULL, 'M'},
		{"pin-file", required_argument, NULL, 'N'},
		{"allow-debug", no_argument, NULL, 'A'},
		{NULL, 0, NULL, 0},
	};
	const char *manifest = NULL, *output = NULL, *keyfile = NULL, *sigfile = NULL;
	const char *pass = NULL, *libpal = NULL, *date = NULL, *chroot_dir = NULL;
	const char *depfile = NULL, *module = NULL, *pin_file = NULL;
	int json = 0, quiet = 0, allow_debug = 0, c, rc = CLI_EXIT_FAILURE;
	struct ppml_pkcs11_key *p11 = NULL;
	char *sigfile_alloc = NULL, date_buf[16];
	struct ppml_err err = {0};
	EVP_PKEY *key = NULL;
	uint8_t *text = NULL, *pal = NULL;
	size_t text_len = 0, pal_len = 0;
	struct ppml_buf sgx = {0};
	struct ppml_manifest_result *res = NULL;
	struct ppml_manifest_opts mopts = {0};
	struct ppml_enclave_identity id;
	struct ppml_sgx_layout layout = {0};
	struct ppml_sgx_sigstruct sig;
	struct ppml_outputs *outs = NULL;
	struct progress prog = {isatty(STDERR_FILENO), 0};
	uint8_t mrsigner[32];

	if (cli_pkcs11_refuse_pin_arg("sign", argc, argv))
		return CLI_EXIT_USAGE;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:o:k:s:l:d:q", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': manifest = optarg; break;
		case 'o': output = optarg; break;
		case 'k': keyfile = optarg; break;
		case 's': sigfile = optarg; break;
		case 'P': pass = optarg; break;
		case 'l': libpal = optarg; break;
		case 'd': date = optarg; break;
		case 'C': chroot_dir = optarg; break;
		case 'D': depfile = optarg; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'M': module = optarg; break;
		case 'N': pin_file = optarg; break;
		case 'A': allow_debug = 1; break;
		case ':':
			return cli_usage_error("sign", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("sign", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("sign", "unexpected argument '%s'", argv[optind]);
	if (!manifest || !output)
		return cli_usage_error("sign", "--manifest and --output are required");
	if (!keyfile)
		return cli_usage_error("sign", "--key is required (for signing without the key, "
					       "see two-step signing in docs/ppml-sign.md)");
	if (!libpal) {
		libpal = ppml_enclave_default_libpal();
		if (!libpal)
			return cli_usage_error("sign", "Gramine's sgx/libpal.so is not installed here; "
						       "pass the PAL to measure with --libpal PATH");
	}
	if (cli_resolve_date(date, date_buf, &err) != PPML_OK)
		return cli_usage_error("sign", "%s", err.msg);
	if (!sigfile) {
		sigfile = sigfile_alloc = default_sigfile(manifest);
		if (!sigfile)
			goto oom;
	}

	/* 1. The key, first: key errors show before any manifest work (spec 1). */
	if (ppml_pkcs11_is_uri(keyfile)) {
		if (pass) {
			rc = cli_usage_error("sign", "--passphrase-file is for PEM keys; a PKCS#11 "
						     "token takes its PIN from --pin-file or PKCS11_PIN");
			goto out;
		}
		if (cli_pkcs11_open(keyfile, module, pin_file, 1, &p11, &key, &err) != PPML_OK) {
			rc = cli_fail("sign", &err);
			goto out;
		}
	} else if (module || pin_file) {
		rc = cli_usage_error("sign", "--module and --pin-file need a PKCS#11 key "
					     "(--key 'pkcs11:token=...;object=...')");
		goto out;
	} else if (ppml_key_load_private(keyfile, pass, &key, &err) != PPML_OK ||
	    ppml_key_check_sgx(key, 1, &err) != PPML_OK) {
		ppml_err_prefix(&err, "%s: ", keyfile);
		rc = cli_fail("sign", &err);
		goto out;
	}

	/* 2. Normalise, expand and hash trusted files, serialise (spec 2-3). */
	if (ppml_file_read(manifest, PPML_TOML_MAX_INPUT, &text, &text_len, &err) != PPML_OK) {
		rc = cli_fail("sign", &err);
		goto out;
	}
	mopts.chroot = chroot_dir;
	mopts.progress = on_progress;
	mopts.progress_ctx = &prog;
	if (ppml_manifest_normalize_text((const char *)text, text_len, &mopts, &sgx, &res,
					 &err) != PPML_OK) {
		if (prog.shown)
			fputc('\n', stderr);
		ppml_err_prefix(&err, "%s: ", manifest);
		rc = cli_fail("sign", &err);
		goto out;
	}
	if (prog.shown)
		fputc('\n', stderr);

	/* 3. Measure the serialised bytes with the PAL (spec 5-8). */
	if (ppml_file_read(libpal, PPML_SGX_MAX_PAL_SIZE, &pal, &pal_len, &err) != PPML_OK) {
		rc = cli_fail("sign", &err);
		goto out;
	}
	if (ppml_enclave_measure(sgx.data, sgx.len, pal, pal_len, libpal, &id, &layout, &err) !=
	    PPML_OK) {
		ppml_err_prefix(&err, "%s: ", output);
		rc = cli_fail("sign", &err);
		goto out;
	}

	/* 4. SIGSTRUCT (spec 9-10). */
	if (ppml_sigstruct_parse_date(date_buf, &id.params.date, &err) != PPML_OK) {
		rc = cli_fail("sign", &err);
		goto out;
	}
	ppml_sigstruct_init(&sig, &id.params);
	/* A token key is a production key: no debug enclave unless asked for. */
	if (p11 && (id.params.attributes_flags & PPML_SGX_FLAGS_DEBUG) && !allow_debug) {
		ppml_err_set(&err, PPML_E_REFUSED,
			     "%s: refusing to sign a debug enclave (sgx.debug = true) with a PKCS#11 "
			     "production key; set sgx.debug = false, or pass --allow-debug if intended",
			     manifest);
		rc = cli_fail("sign", &err);
		goto out;
	}
	if ((p11 ? cli_pkcs11_sign_sigstruct(p11, key, &sig, &err)
		 : ppml_sigstruct_sign(&sig, key, &err)) != PPML_OK ||
	    ppml_sigstruct_mrsigner(&sig, mrsigner, &err) != PPML_OK) {
		rc = cli_fail("sign", &err);
		goto out;
	}

	/* 5. All outputs or none. */
	outs = ppml_outputs_new();
	if (!outs)
		goto oom;
	if (ppml_outputs_stage(outs, output, sgx.data, sgx.len, 0644, &err) != PPML_OK ||
	    ppml_outputs_stage(outs, sigfile, &sig, sizeof(sig), 0644, &err) != PPML_OK ||
	    (depfile && write_depfile(outs, depfile, output, sigfile, manifest, libpal,
				      p11 ? NULL : keyfile,
				      res, &err) != PPML_OK) ||
	    ppml_outputs_commit(outs, &err) != PPML_OK) {
		rc = cli_fail("sign", &err);
		goto out;
	}

	if (!quiet && !json)
		cli_print_layout(stdout, &id, &layout);
	rc = cli_print_identity(stdout, &id, mrsigner, date_buf, output, sigfile, json)
		     ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	goto out;
oom:
	fprintf(stderr, "ppml sign: out of memory\n");
	rc = CLI_EXIT_FAILURE;
out:
	ppml_outputs_free(outs);
	ppml_measure_layout_cleanup(&layout);
	ppml_manifest_result_free(res);
	ppml_buf_free(&sgx);
	free(text);
	free(pal);
	EVP_PKEY_free(key);
	ppml_pkcs11_key_free(p11);
	free(sigfile_alloc);
	return rc;
}
