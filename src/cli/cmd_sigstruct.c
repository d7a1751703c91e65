/* SPDX-License-Identifier: Apache-2.0 */
/* ppml sigstruct show|verify: SGX SIGSTRUCT files (spec sections 8-10). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/buf.h"
#include "ppml/enclave.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/identity.h"
#include "ppml/limits.h"
#include "ppml/sigstruct.h"

const char cmd_sigstruct_usage[] =
	"usage: ppml sigstruct show FILE.sig [--json] [--gramine-version 1.9|1.3]\n"
	"       ppml sigstruct show --payload sigdata.bin [--json]\n"
	"       ppml sigstruct verify FILE.sig [--manifest app.manifest.sgx [--libpal PATH]\n"
	"                             [--gramine-version 1.9|1.3]]\n"
	"\n"
	"show     prints every SIGSTRUCT field with the attribute, XFRM and MISCSELECT bits\n"
	"         decoded, MRENCLAVE and MRSIGNER (SHA-256 of the little-endian modulus).\n"
	"verify   checks the RSA-3072 signature over header and body with the embedded\n"
	"         modulus (e=3) and the Q1/Q2 values; prints OK (exit 0) or the failed\n"
	"         check (exit 1).  With --manifest it also measures manifest.sgx with the\n"
	"         PAL (--libpal, default Gramine's sgx/libpal.so) and requires ENCLAVEHASH,\n"
	"         ATTRIBUTES, ATTRIBUTEMASK, MISCSELECT/MASK, ISVPRODID and ISVSVN to be what\n"
	"         the manifest derives: the .sig belongs to exactly these artefacts.\n"
	"         --gramine-version 1.3 measures with the rules of Gramine v1.3.1 (BigDL's\n"
	"         PPML images: sgx.thread_num, sgx.require_*, PIE layout); default 1.9.\n"
	"         With show it reads DATE as v1.3's binary date instead of BCD.\n";

struct bitname {
	uint64_t bit;
	const char *name;
};

static const struct bitname flag_names[] = {
	{PPML_SGX_FLAGS_INIT, "INIT"},
	{PPML_SGX_FLAGS_DEBUG, "DEBUG"},
	{PPML_SGX_FLAGS_MODE64BIT, "MODE64BIT"},
	{PPML_SGX_FLAGS_PROVISIONKEY, "PROVISIONKEY"},
	{PPML_SGX_FLAGS_EINITTOKENKEY, "EINITTOKENKEY"},
	{PPML_SGX_FLAGS_CET, "CET"},
	{PPML_SGX_FLAGS_KSS, "KSS"},
	{PPML_SGX_FLAGS_AEXNOTIFY, "AEXNOTIFY"},
	{0, NULL},
};

static const struct bitname xfrm_names[] = {
	{PPML_SGX_XFRM_X87, "X87"},
	{PPML_SGX_XFRM_SSE, "SSE"},
	{PPML_SGX_XFRM_AVX, "AVX"},
	{PPML_SGX_XFRM_MPX_BNDREGS, "MPX_BNDREGS"},
	{PPML_SGX_XFRM_MPX_BNDCSR, "MPX_BNDCSR"},
	{PPML_SGX_XFRM_AVX512_OPMASK, "AVX512_OPMASK"},
	{PPML_SGX_XFRM_AVX512_ZMM_HI256, "AVX512_ZMM_HI256"},
	{PPML_SGX_XFRM_AVX512_HI16_ZMM, "AVX512_HI16_ZMM"},
	{PPML_SGX_XFRM_PKRU, "PKRU"},
	{PPML_SGX_XFRM_AMX_TILECFG, "AMX_TILECFG"},
	{PPML_SGX_XFRM_AMX_TILEDATA, "AMX_TILEDATA"},
	{0, NULL},
};

static const struct bitname misc_names[] = {
	{PPML_SGX_MISC_EXINFO, "EXINFO"},
	{0, NULL},
};

/* "A|B|bit12" for the set bits of v (unnamed bits as bitN). */
static void decode_bits(uint64_t v, const struct bitname *names, char *out, size_t cap, json_t *arr)
{
	size_t n = 0;
	out[0] = 0;
	for (int b = 0; b < 64; b++) {
		const char *name = NULL;
		char tmp[16];
		if (!(v & (1ull << b)))
			continue;
		for (const struct bitname *x = names; x->name; x++)
			if (x->bit == (1ull << b))
				name = x->name;
		if (!name) {
			snprintf(tmp, sizeof(tmp), "bit%d", b);
			name = tmp;
		}
		if (arr)
			json_array_append_new(arr, json_string(name));
		n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? "|" : "", name);
	}
}

static void hexstr(const uint8_t *p, size_t n, char *out)
{
	ppml_hex_encode(p, n, out);
}

static int load(const char *path, struct ppml_sgx_sigstruct *s, struct ppml_err *err)
{
	uint8_t *d = NULL;
	size_t len = 0;
	ppml_status st = ppml_file_read(path, 64 * 1024, &d, &len, err);
	if (st == PPML_OK) {
		st = ppml_sigstruct_parse(d, len, s, err);
		free(d);
		if (st == PPML_E_INPUT)
			st = err->code = PPML_E_REFUSED; /* malformed .sig: not a SIGSTRUCT */
	}
	if (st != PPML_OK)
		ppml_err_prefix(err, "%s: ", path);
	return st;
}

/* A two-step signing payload: what the key holder checks before signing. */
static int load_payload(const char *path, struct ppml_sgx_sigstruct *s, uint8_t digest[32],
			struct ppml_err *err)
{
	uint8_t *d = NULL;
	size_t len = 0;
	unsigned int dlen = 0;
	ppml_status st = ppml_file_read(path, 64 * 1024, &d, &len, err);
	if (st == PPML_OK) {
		st = ppml_sigstruct_parse_payload(d, len, s, err);
		if (st == PPML_OK && !EVP_Digest(d, len, digest, &dlen, EVP_sha256(), NULL))
			st = ppml_err_openssl(err, PPML_E_CRYPTO, "SHA-256 failed");
		free(d);
	}
	if (st != PPML_OK)
		ppml_err_prefix(err, "%s: ", path);
	return st;
}

static int show(const char *path, int json, int payload, enum ppml_gramine_version ver)
{
	struct ppml_sgx_sigstruct s;
	struct ppml_err err = {0};
	char mrenclave[65], mrsigner[65], fam[33], ext[33], date[16], buf[512];
	char *modulus = NULL, *sig = NULL, *q1 = NULL, *q2 = NULL;
	uint8_t mrs[32], digest[32];
	int rc = CLI_EXIT_OK, date_ok;
	json_t *o = NULL;

	if (payload) {
		if (load_payload(path, &s, digest, &err) != PPML_OK)
			return cli_fail("sigstruct", &err);
		/* No key yet: MRSIGNER becomes known only once signed. */
		hexstr(digest, 32, mrsigner);
	} else {
		if (load(path, &s, &err) != PPML_OK ||
		    ppml_sigstruct_mrsigner(&s, mrs, &err) != PPML_OK)
			return cli_fail("sigstruct", &err);
		hexstr(mrs, 32, mrsigner);
	}
	hexstr(s.enclave_hash, 32, mrenclave);
	hexstr(s.isv_family_id, 16, fam);
	hexstr(s.isv_ext_prod_id, 16, ext);
	date_ok = ppml_sigstruct_format_date(s.date, ver == PPML_GRAMINE_1_3, date);
	modulus = malloc(769);
	sig = malloc(769);
	q1 = malloc(769);
	q2 = malloc(769);
	if (!modulus || !sig || !q1 || !q2) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	/* big numbers shown as stored: little-endian byte order */
	hexstr(s.modulus, 384, modulus);
	hexstr(s.signature, 384, sig);
	hexstr(s.q1, 384, q1);
	hexstr(s.q2, 384, q2);
	if (json) {
		json_t *a;
		o = json_object();
#define SETHEX(k, fmt, v)                                     \
	do {                                                  \
		snprintf(buf, sizeof(buf), fmt, v);           \
		json_object_set_new(o, k, json_string(buf)); \
	} while (0)
		SETHEX("vendor", "0x%" PRIx32, s.vendor);
		json_object_set_new(o, "date", json_string(date));
		SETHEX("date_raw", "0x%08" PRIx32, s.date);
		SETHEX("swdefined", "0x%" PRIx32, s.swdefined);
		if (payload) {
			json_object_set_new(o, "payload_sha256", json_string(mrsigner));
		} else {
			json_object_set_new(o, "modulus_le", json_string(modulus));
			json_object_set_new(o, "exponent", json_integer(s.exponent));
			json_object_set_new(o, "signature_le", json_string(sig));
		}
		SETHEX("misc_select", "0x%" PRIx32, s.misc_select);
		a = json_array();
		decode_bits(s.misc_select, misc_names, buf, sizeof(buf), a);
		json_object_set_new(o, "misc_select_decoded", a);
		SETHEX("misc_mask", "0x%" PRIx32, s.misc_mask);
		SETHEX("cet_attributes", "0x%x", s.cet_attributes);
		SETHEX("cet_attributes_mask", "0x%x", s.cet_attributes_mask);
		json_object_set_new(o, "isv_family_id", json_string(fam));
		SETHEX("attributes_flags", "0x%" PRIx64, s.attributes_flags);
		a = json_array();
		decode_bits(s.attributes_flags, flag_names, buf, sizeof(buf), a);
		json_object_set_new(o, "attributes_flags_decoded", a);
		SETHEX("attributes_xfrm", "0x%" PRIx64, s.attributes_xfrm);
		a = json_array();
		decode_bits(s.attributes_xfrm, xfrm_names, buf, sizeof(buf), a);
		json_object_set_new(o, "attributes_xfrm_decoded", a);
		SETHEX("attribute_mask_flags", "0x%" PRIx64, s.attribute_mask_flags);
		SETHEX("attribute_mask_xfrm", "0x%" PRIx64, s.attribute_mask_xfrm);
		json_object_set_new(o, "mrenclave", json_string(mrenclave));
		if (!payload)
			json_object_set_new(o, "mrsigner", json_string(mrsigner));
		json_object_set_new(o, "isv_ext_prod_id", json_string(ext));
		json_object_set_new(o, "isv_prod_id", json_integer(s.isv_prod_id));
		json_object_set_new(o, "isv_svn", json_integer(s.isv_svn));
		json_object_set_new(o, "debug", json_boolean(s.attributes_flags & PPML_SGX_FLAGS_DEBUG));
		if (!payload) {
			json_object_set_new(o, "q1_le", json_string(q1));
			json_object_set_new(o, "q2_le", json_string(q2));
		}
#undef SETHEX
		if (cli_print_json(stdout, o) != 0)
			rc = CLI_EXIT_FAILURE;
		o = NULL;
		goto out;
	}
	printf("%s %s\n", payload ? "SIGNING PAYLOAD (unsigned)" : "SIGSTRUCT", path);
	printf("  mrenclave:            %s\n", mrenclave);
	printf("  %s %s\n", payload ? "payload sha256:      " : "mrsigner:            ", mrsigner);
	printf("  isv_prod_id:          %u\n", s.isv_prod_id);
	printf("  isv_svn:              %u\n", s.isv_svn);
	printf("  date:                 %s (raw 0x%08" PRIx32 ")%s\n", date, s.date,
	       date_ok ? ""
	       : ver == PPML_GRAMINE_1_3 ? " (not a binary date)"
				       : " (not BCD: Gramine v1.3 stores a binary date, see "
					 "--gramine-version 1.3)");
	printf("  vendor:               0x%" PRIx32 "\n", s.vendor);
	printf("  swdefined:            0x%" PRIx32 "\n", s.swdefined);
	decode_bits(s.attributes_flags, flag_names, buf, sizeof(buf), NULL);
	printf("  attributes.flags:     0x%016" PRIx64 " [%s]\n", s.attributes_flags, buf);
	decode_bits(s.attributes_xfrm, xfrm_names, buf, sizeof(buf), NULL);
	printf("  attributes.xfrm:      0x%016" PRIx64 " [%s]\n", s.attributes_xfrm, buf);
	printf("  attribute_mask.flags: 0x%016" PRIx64 "\n", s.attribute_mask_flags);
	decode_bits(~s.attribute_mask_xfrm, xfrm_names, buf, sizeof(buf), NULL);
	printf("  attribute_mask.xfrm:  0x%016" PRIx64 " (not enforced: [%s])\n", s.attribute_mask_xfrm, buf);
	decode_bits(s.misc_select, misc_names, buf, sizeof(buf), NULL);
	printf("  misc_select:          0x%08" PRIx32 " [%s]\n", s.misc_select, buf);
	printf("  misc_mask:            0x%08" PRIx32 "\n", s.misc_mask);
	printf("  cet_attributes:       0x%02x (mask 0x%02x)\n", s.cet_attributes, s.cet_attributes_mask);
	printf("  isv_family_id:        %s\n", fam);
	printf("  isv_ext_prod_id:      %s\n", ext);
	printf("  debug enclave:        %s\n", (s.attributes_flags & PPML_SGX_FLAGS_DEBUG) ? "yes" : "no");
	if (payload)
		goto out;
	printf("  exponent:             %" PRIu32 "\n", s.exponent);
	printf("  modulus (LE):         %s\n", modulus);
	printf("  signature (LE):       %s\n", sig);
	printf("  q1 (LE):              %s\n", q1);
	printf("  q2 (LE):              %s\n", q2);
out:
	json_decref(o);
	free(modulus);
	free(sig);
	free(q1);
	free(q2);
	return rc;
}

/* The .sig must be what manifest + PAL derive (ppml_identity_match_sigstruct). */
static int match_manifest(const struct ppml_sgx_sigstruct *s, const char *manifest,
			  const char *libpal, enum ppml_gramine_version ver)
{
	struct ppml_err err = {0};
	uint8_t *text = NULL, *pal = NULL;
	size_t text_len = 0, pal_len = 0;
	struct ppml_enclave_identity id;
	int rc = CLI_EXIT_OK;

	if (ppml_file_read(manifest, PPML_SGX_MAX_MANIFEST_SIZE, &text, &text_len, &err) != PPML_OK ||
	    ppml_file_read(libpal, PPML_SGX_MAX_PAL_SIZE, &pal, &pal_len, &err) != PPML_OK) {
		rc = cli_fail("sigstruct", &err);
		goto out;
	}
	if (ppml_enclave_measure(text, text_len, pal, pal_len, libpal, ver, &id, NULL, &err) !=
	    PPML_OK) {
		ppml_err_prefix(&err, "%s: ", manifest);
		rc = cli_fail("sigstruct", &err);
		goto out;
	}
	if (ppml_identity_match_sigstruct(&id, s, manifest, &err) != PPML_OK)
		rc = cli_fail("sigstruct", &err);
out:
	free(text);
	free(pal);
	return rc;
}

static int verify(const char *path, const char *manifest, const char *libpal,
		  enum ppml_gramine_version ver)
{
	struct ppml_sgx_sigstruct s;
	struct ppml_err err = {0};
	char hex[65];
	uint8_t mrs[32];
	int rc;
	if (load(path, &s, &err) != PPML_OK)
		return cli_fail("sigstruct", &err);
	if (ppml_sigstruct_verify(&s, &err) != PPML_OK) {
		ppml_err_prefix(&err, "%s: ", path);
		return cli_fail("sigstruct", &err);
	}
	if (ppml_sigstruct_mrsigner(&s, mrs, &err) != PPML_OK)
		return cli_fail("sigstruct", &err);
	if (manifest && (rc = match_manifest(&s, manifest, libpal, ver)) != CLI_EXIT_OK)
		return rc;
	printf("OK\n");
	ppml_hex_encode(s.enclave_hash, 32, hex);
	printf("mrenclave: %s\n", hex);
	ppml_hex_encode(mrs, 32, hex);
	printf("mrsigner:  %s\n", hex);
	if (manifest)
		printf("matches:   %s (measured with %s)\n", manifest, libpal);
	return CLI_EXIT_OK;
}

int cmd_sigstruct(int argc, char **argv)
{
	const char *file = NULL, *manifest = NULL, *libpal = NULL;
	int json = 0, is_verify, payload = 0, ver_given = 0;
	enum ppml_gramine_version ver = PPML_GRAMINE_1_9;
	if (argc < 2)
		return cli_usage_error("sigstruct", "missing subcommand (show or verify)");
	is_verify = strcmp(argv[1], "verify") == 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && strcmp(argv[1], "show") == 0)
			json = 1;
		else if (strcmp(argv[i], "--gramine-version") == 0 && i + 1 < argc) {
			if (cli_gramine_version("sigstruct", argv[++i], &ver) != CLI_EXIT_OK)
				return CLI_EXIT_USAGE;
			ver_given = 1;
		}
		else if (strcmp(argv[i], "--payload") == 0 && strcmp(argv[1], "show") == 0 &&
			 i + 1 < argc && !file)
			file = argv[++i], payload = 1;
		else if (is_verify && strcmp(argv[i], "--manifest") == 0 && i + 1 < argc)
			manifest = argv[++i];
		else if (is_verify && strcmp(argv[i], "--libpal") == 0 && i + 1 < argc)
			libpal = argv[++i];

		else if (!file && argv[i][0] != '-')
			file = argv[i];
		else
			return cli_usage_error("sigstruct", "unexpected argument '%s'", argv[i]);
	}
	if (!file)
		return cli_usage_error("sigstruct", "missing FILE.sig");
	if (libpal && !manifest)
		return cli_usage_error("sigstruct", "--libpal only makes sense with --manifest");
	if (is_verify && ver_given && !manifest)
		return cli_usage_error("sigstruct", "verify: --gramine-version only makes sense with "
						    "--manifest");
	if (manifest && !libpal) {
		libpal = ppml_enclave_default_libpal();
		if (!libpal)
			return cli_usage_error("sigstruct", "Gramine's sgx/libpal.so is not installed "
							    "here; pass the PAL to measure with --libpal PATH");
	}
	if (strcmp(argv[1], "show") == 0)
		return show(file, json, payload, ver);
	if (is_verify)
		return verify(file, manifest, libpal, ver);
	return cli_usage_error("sigstruct", "unknown subcommand '%s' (show or verify)", argv[1]);
}
