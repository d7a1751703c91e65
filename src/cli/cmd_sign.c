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
	"                 [--json] [--quiet] [--gramine-version 1.9|1.3]\n"
	"       ppml sign ... --key 'pkcs11:token=T;object=L' [--module PATH]\n"
	"                 [--pin-file F] [--allow-debug]\n"
	"       ppml sign --manifest M --output M.sgx --gendata sigdata.bin [--libpal P]\n"
	"                 [--date D]\n"
	"       ppml sign --manifest M --output M.sgx --catsig --sigdata sigdata.bin\n"
	"                 --public-key pub.pem --signature sig.bin [--libpal P]\n"
	"                 [--sigfile app.sig] [--allow-debug]\n"
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
	"      --gramine-version V  the signer to reproduce: 1.9 (default), or 1.3, the\n"
	"                           v1.3.1 of BigDL's PPML images: its defaults (sgx.thread_num,\n"
	"                           sgx.require_*, sgx.nonpie_binary), PIE layout, binary\n"
	"                           DATE, trusted directories without dedup, manifest.sgx as\n"
	"                           Python toml 0.10.2 writes it. Unlike that signer, keys\n"
	"                           SGX rejects (not RSA-3072 with e = 3) are refused\n"
	"\n"
	"PKCS#11 keys (production signing):\n"
	"      --module PATH        the PKCS#11 module (default " PPML_PKCS11_DEFAULT_MODULE ")\n"
	"      --pin-file F         the token's user PIN (first line of F); else the URI's\n"
	"                           ?pin-source=file:F, else $PKCS11_PIN. Never an argument.\n"
	"\n"
	"Two-step signing (the key never comes to this machine):\n"
	"      --gendata FILE       no key: write manifest.sgx and the 256-byte signing\n"
	"                           payload (SIGSTRUCT header and body) to FILE; print\n"
	"                           MRENCLAVE and the payload's SHA-256 for the key holder\n"
	"      --catsig             combine: re-derive the payload from the manifest and\n"
	"                           PAL, require it to equal --sigdata, verify --signature\n"
	"                           (RSA PKCS#1 v1.5 SHA-256 over the payload, e.g. from\n"
	"                           'openssl dgst -sha256 -sign key.pem sigdata.bin') with\n"
	"                           --public-key, then write the .sig\n"
	"      --sigdata FILE       the payload written by --gendata (its date is used)\n"
	"      --public-key FILE    the signer's public key (PEM)\n"
	"      --signature FILE     the raw 384-byte signature\n"
	"\n"
	"      --allow-debug        let a production path (--catsig, a PKCS#11 key) sign a\n"
	"                           debug enclave (sgx.debug = true); refused otherwise\n";

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

/* Reads what the key holder sent back: the payload, the signature, the public key. */
static ppml_status load_catsig_inputs(const char *sigdata, const char *sigbin, const char *pubfile,
				      uint8_t **given, size_t *given_len, uint8_t **signature,
				      size_t *signature_len, EVP_PKEY **pub, struct ppml_err *err)
{
	ppml_status rc;

	rc = ppml_file_read(sigdata, 4096, given, given_len, err);
	if (rc != PPML_OK)
		return rc;
	if (*given_len != PPML_SGX_PAYLOAD_SIZE)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: %zu bytes, expected %u (the payload 'ppml sign --gendata' "
				    "wrote)", sigdata, *given_len, PPML_SGX_PAYLOAD_SIZE);
	rc = ppml_file_read(sigbin, 4096, signature, signature_len, err);
	if (rc != PPML_OK)
		return rc;
	if (*signature_len != 384)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: %zu bytes, expected 384 (a raw RSA-3072 signature, as "
				    "'openssl dgst -sha256 -sign' writes it); is the file truncated?",
				    sigbin, *signature_len);
	rc = ppml_key_load_public(pubfile, NULL, pub, err);
	if (rc == PPML_OK)
		rc = ppml_key_check_sgx(*pub, 0, err);
	if (rc != PPML_OK)
		ppml_err_prefix(err, "%s: ", pubfile);
	return rc;
}

/* Names the first payload field that differs (spec section 9 offsets, mapped into the
 * payload: [0,128) is the header block, [128,256) the body from offset 900). */
static ppml_status payload_mismatch(const uint8_t *mine, const uint8_t *given, const char *sigdata,
				    struct ppml_err *err)
{
	static const struct {
		size_t off, len;
		const char *what;
	} fields[] = {
		{0, 20, "the SIGSTRUCT header"},
		{24, 104, "the SIGSTRUCT header"},
		{128, 8, "MISCSELECT/MISCMASK"},
		{136, 20, "the CET attributes or ISVFAMILYID"},
		{156, 16, "ATTRIBUTES (debug flag or XFRM)"},
		{172, 16, "the ATTRIBUTEMASK"},
		{188, 32, "ENCLAVEHASH (MRENCLAVE): the manifest, a trusted file or the PAL changed"},
		{220, 32, "ISVEXTPRODID"},
		{252, 2, "ISVPRODID"},
		{254, 2, "ISVSVN"},
	};
	if (CRYPTO_memcmp(mine, given, PPML_SGX_PAYLOAD_SIZE) == 0)
		return PPML_OK;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (memcmp(mine + fields[i].off, given + fields[i].off, fields[i].len) != 0) {
			if (fields[i].off == 188) {
				char a[65], b[65];
				ppml_hex_encode(given + 188, 32, a);
				ppml_hex_encode(mine + 188, 32, b);
				return ppml_err_set(err, PPML_E_REFUSED,
						    "%s does not match this manifest and PAL: %s "
						    "(signed %s, now %s); run --gendata again and have it "
						    "signed", sigdata, fields[i].what, a, b);
			}
			return ppml_err_set(err, PPML_E_REFUSED,
					    "%s does not match this manifest and PAL: %s differs; "
					    "run --gendata again and have it signed", sigdata,
					    fields[i].what);
		}
	}
	return ppml_err_set(err, PPML_E_REFUSED, "%s does not match this manifest and PAL", sigdata);
}

static ppml_status assemble_with_key(const uint8_t *payload, const EVP_PKEY *pub,
				     const uint8_t *signature, size_t signature_len,
				     struct ppml_sgx_sigstruct *sig, struct ppml_err *err)
{
	uint8_t le[384], be[384];
	ppml_status rc = ppml_key_modulus_le(pub, le, err);
	if (rc != PPML_OK)
		return rc;
	for (size_t i = 0; i < 384; i++)
		be[i] = le[383 - i];
	rc = ppml_sigstruct_assemble(payload, be, sizeof(be), signature, signature_len, sig, err);
	if (rc == PPML_E_REFUSED)
		ppml_err_prefix(err, "the signature does not verify with --public-key (signed with "
				     "another key, or over other data?): ");
	return rc;
}

static int print_gendata(const struct ppml_enclave_identity *id, const uint8_t *payload,
			 const char *date, const char *output, const char *gendata, int json)
{
	uint8_t digest[32];
	char mre[65], dig[65];
	unsigned int dlen = 0;

	if (!EVP_Digest(payload, PPML_SGX_PAYLOAD_SIZE, digest, &dlen, EVP_sha256(), NULL))
		return CLI_EXIT_FAILURE;
	ppml_hex_encode(id->params.mrenclave, 32, mre);
	ppml_hex_encode(digest, 32, dig);
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "mrenclave", json_string(mre));
		json_object_set_new(o, "payload_sha256", json_string(dig));
		json_object_set_new(o, "isvprodid", json_integer(id->params.isv_prod_id));
		json_object_set_new(o, "isvsvn", json_integer(id->params.isv_svn));
		json_object_set_new(o, "debug", json_boolean(id->attrs.debug));
		json_object_set_new(o, "date", json_string(date));
		json_object_set_new(o, "manifest_sgx", json_string(output));
		json_object_set_new(o, "sigdata", json_string(gendata));
		return cli_print_json(stdout, o) ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	}
	printf("MRENCLAVE:      %s\nPAYLOAD SHA256: %s\nISVPRODID: %u  ISVSVN: %u  DEBUG: %s  "
	       "DATE: %s\nwrote %s and %s; have the key holder check it ('ppml sigstruct show "
	       "--payload %s') and sign it, e.g.\n  openssl dgst -sha256 -sign enclave-key.pem "
	       "-out sig.bin %s\n",
	       mre, dig, id->params.isv_prod_id, id->params.isv_svn, id->attrs.debug ? "true" : "false",
	       date, output, gendata, gendata, gendata);
	return CLI_EXIT_OK;
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
		{"gendata", required_argument, NULL, 'G'},
		{"catsig", no_argument, NULL, 'c'},
		{"sigdata", required_argument, NULL, 'S'},
		{"public-key", required_argument, NULL, 'p'},
		{"signature", required_argument, NULL, 'g'},
		{"allow-debug", no_argument, NULL, 'A'},
		{"gramine-version", required_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *manifest = NULL, *output = NULL, *keyfile = NULL, *sigfile = NULL;
	const char *pass = NULL, *libpal = NULL, *date = NULL, *chroot_dir = NULL;
	const char *depfile = NULL, *gendata = NULL, *sigdata = NULL, *pubfile = NULL;
	const char *sigbin = NULL, *module = NULL, *pin_file = NULL;
	int json = 0, quiet = 0, catsig = 0, allow_debug = 0, c, rc = CLI_EXIT_FAILURE;
	uint8_t payload[PPML_SGX_PAYLOAD_SIZE], *given = NULL, *signature = NULL;
	size_t given_len = 0, signature_len = 0;
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
	enum ppml_gramine_version ver = PPML_GRAMINE_1_9;

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
		case 'G': gendata = optarg; break;
		case 'c': catsig = 1; break;
		case 'S': sigdata = optarg; break;
		case 'p': pubfile = optarg; break;
		case 'g': sigbin = optarg; break;
		case 'A': allow_debug = 1; break;
		case 'V':
			if (cli_gramine_version("sign", optarg, &ver) != CLI_EXIT_OK)
				return CLI_EXIT_USAGE;
			break;
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
	if (gendata && (catsig || keyfile))
		return cli_usage_error("sign", "--gendata needs no key and cannot be combined with "
					       "--catsig or --key");
	if (catsig) {
		if (keyfile)
			return cli_usage_error("sign", "--catsig takes --public-key, not --key");
		if (!sigdata || !pubfile || !sigbin)
			return cli_usage_error("sign", "--catsig needs --sigdata (from --gendata), "
						       "--public-key and --signature");
		if (date)
			return cli_usage_error("sign", "--catsig takes the date from --sigdata; "
						       "drop --date");
	} else if (sigdata || pubfile || sigbin) {
		return cli_usage_error("sign", "--sigdata, --public-key and --signature go with "
					       "--catsig");
	}
	if (chroot_dir && ver == PPML_GRAMINE_1_3)
		return cli_usage_error("sign", "--chroot is a Gramine 1.6+ option; the v1.3 signer "
					       "resolves trusted files against the current directory");
	if (!keyfile && !gendata && !catsig)
		return cli_usage_error("sign", "--key is required (to sign without the key on this "
					       "machine, use --gendata and then --catsig)");
	if (!libpal) {
		libpal = ppml_enclave_default_libpal();
		if (!libpal)
			return cli_usage_error("sign", "Gramine's sgx/libpal.so is not installed here; "
						       "pass the PAL to measure with --libpal PATH");
	}
	if (cli_resolve_date(date, date_buf, &err) != PPML_OK)
		return cli_usage_error("sign", "%s", err.msg);
	if (!sigfile && !gendata) {
		sigfile = sigfile_alloc = default_sigfile(manifest);
		if (!sigfile)
			goto oom;
	}

	/* 1. The key, first: key errors show before any manifest work (spec 1). */
	if (keyfile && ppml_pkcs11_is_uri(keyfile)) {
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
	} else if (keyfile && (ppml_key_load_private(keyfile, pass, &key, &err) != PPML_OK ||
			       ppml_key_check_sgx(key, 1, &err) != PPML_OK)) {
		if (key && ver == PPML_GRAMINE_1_3)
			ppml_err_suffix(&err, " (Gramine v1.3's signer does not check the key and "
					      "would write a SIGSTRUCT that EINIT rejects; nothing was "
					      "written)");
		ppml_err_prefix(&err, "%s: ", keyfile);
		rc = cli_fail("sign", &err);
		goto out;
	}
	if (catsig && (load_catsig_inputs(sigdata, sigbin, pubfile, &given, &given_len,
					  &signature, &signature_len, &key, &err) != PPML_OK)) {
		rc = cli_fail("sign", &err);
		goto out;
	}

	/* 2. Normalise, expand and hash trusted files, serialise (spec 2-3). */
	if (ppml_file_read(manifest, PPML_TOML_MAX_INPUT, &text, &text_len, &err) != PPML_OK) {
		rc = cli_fail("sign", &err);
		goto out;
	}
	mopts.chroot = chroot_dir;
	mopts.version = ver;
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
	if (ppml_enclave_measure(sgx.data, sgx.len, pal, pal_len, libpal, ver, &id, &layout, &err) !=
	    PPML_OK) {
		ppml_err_prefix(&err, "%s: ", output);
		rc = cli_fail("sign", &err);
		goto out;
	}

	/* 4. SIGSTRUCT (spec 9-10). */
	if (catsig) {
		/* The date is the one the key holder approved (payload bytes 20..23). */
		memcpy(&id.params.date, given + 20, 4);
		if (id.attrs.debug && !allow_debug) {
			fprintf(stderr, "ppml sign: %s: sgx.debug = true: a debug enclave can be "
					"inspected by the host, so --catsig (a production path) refuses "
					"it; pass --allow-debug if this is intended\n", manifest);
			rc = CLI_EXIT_REFUSED;
			goto out;
		}
	} else if ((ver == PPML_GRAMINE_1_3
			    ? ppml_sigstruct_parse_date_binary(date_buf, &id.params.date, &err)
			    : ppml_sigstruct_parse_date(date_buf, &id.params.date, &err)) != PPML_OK) {
		rc = cli_fail("sign", &err);
		goto out;
	}
	ppml_sigstruct_init(&sig, &id.params);
	/* A token key is a production key: no debug enclave unless asked for. */
	if (p11 && id.attrs.debug && !allow_debug) {
		ppml_err_set(&err, PPML_E_REFUSED,
			     "%s: refusing to sign a debug enclave (sgx.debug = true) with a PKCS#11 "
			     "production key; set sgx.debug = false, or pass --allow-debug if intended",
			     manifest);
		rc = cli_fail("sign", &err);
		goto out;
	}
	ppml_sigstruct_payload(&sig, payload);
	if (catsig) {
		if (payload_mismatch(payload, given, sigdata, &err) != PPML_OK ||
		    assemble_with_key(payload, key, signature, signature_len, &sig, &err) != PPML_OK) {
			rc = cli_fail("sign", &err);
			goto out;
		}
	} else if (key && (p11 ? cli_pkcs11_sign_sigstruct(p11, key, &sig, &err)
			       : ppml_sigstruct_sign(&sig, key, &err)) != PPML_OK) {
		rc = cli_fail("sign", &err);
		goto out;
	}
	if (!gendata && ppml_sigstruct_mrsigner(&sig, mrsigner, &err) != PPML_OK) {
		rc = cli_fail("sign", &err);
		goto out;
	}

	/* 5. All outputs or none. */
	outs = ppml_outputs_new();
	if (!outs)
		goto oom;
	if (ppml_outputs_stage(outs, output, sgx.data, sgx.len, 0644, &err) != PPML_OK ||
	    (gendata && ppml_outputs_stage(outs, gendata, payload, sizeof(payload), 0644, &err) !=
				PPML_OK) ||
	    (!gendata && ppml_outputs_stage(outs, sigfile, &sig, sizeof(sig), 0644, &err) !=
				 PPML_OK) ||
	    (depfile && write_depfile(outs, depfile, output, gendata ? gendata : sigfile, manifest,
				      libpal, keyfile ? (p11 ? NULL : keyfile) : pubfile,
				      res, &err) != PPML_OK) ||
	    ppml_outputs_commit(outs, &err) != PPML_OK) {
		rc = cli_fail("sign", &err);
		goto out;
	}

	if (!quiet && !json)
		cli_print_layout(stdout, &id, &layout);
	if (gendata) {
		rc = print_gendata(&id, payload, date_buf, output, gendata, json);
		goto out;
	}
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
	free(given);
	free(signature);
	return rc;
}
