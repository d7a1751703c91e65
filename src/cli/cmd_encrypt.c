/* SPDX-License-Identifier: Apache-2.0 */
/* ppml encrypt / ppml decrypt: PPMLENC1 files under key-service data keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/client.h"
#include "ppml/envelope.h"
#include "ppml/file.h"
#include "ppml/keysvc.h"
#include "ppml/policy.h"

const char cmd_encrypt_usage[] =
	"usage: ppml encrypt --key NAME --in FILE --out FILE.enc\n"
	"                    --service URL --credential-file F [--cacert F]\n"
	"       ppml encrypt --attested --wrapped-key FILE.pwk [--key NAME] --in FILE\n"
	"                    --out FILE.enc --service URL [--cacert F]\n"
	"\n"
	"Encrypts FILE for key NAME of the key service: a fresh data key from\n"
	"POST /v1/keys/NAME/datakey (credential role admin or encrypt:NAME), then the\n"
	"PPMLENC1 format (64 KiB AES-256-GCM segments, STREAM construction; the wrapped\n"
	"data key in the header).  The data key is wiped after use; only an attested\n"
	"enclave (or an admin) gets it back.  Output mode 0600, written atomically.\n"
	"\n"
	"--attested is for an enclave writing its results: the data key of FILE.pwk\n"
	"(made by `ppml key datakey`) is released to this enclave by attestation, as\n"
	"for `ppml decrypt --attested`, and encrypts FILE; the owner of the key opens\n"
	"the result with `ppml decrypt`.  --key NAME refuses a FILE.pwk of any other\n"
	"key: pass it from the enclave's measured configuration, so that the host\n"
	"cannot substitute a key it can open.\n"
	"Exit status: 0 done, 1 refused (credential), 2 usage, 3 other.\n";

const char cmd_decrypt_usage[] =
	"usage: ppml decrypt --in FILE.enc --out FILE\n"
	"                    (--attested --service URL | --service URL --credential-file F)\n"
	"                    [--cacert F]\n"
	"\n"
	"Decrypts a PPMLENC1 file.  --attested obtains the data key by release: from\n"
	"inside a Gramine enclave (DCAP) or under `ppml run --sim`, with a fresh key pair\n"
	"bound into the quote.  Otherwise an admin credential uses the unwrap route.\n"
	"Every segment is authenticated; the output appears only after the last one\n"
	"verified (a temporary file is renamed), so a failure leaves nothing.\n"
	"`--out -` is refused: plaintext is never streamed before it is verified.\n"
	"Exit status: 0 done, 1 refused (tampered file, release refused), 2 usage, 3 other.\n";

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	static time_t last;
	(void)ctx;
	time_t t = time(NULL);
	if (total > (64u << 20) && (t != last || done == total)) {
		last = t;
		fprintf(stderr, "\rppml: %llu / %llu MiB", (unsigned long long)(done >> 20),
			(unsigned long long)(total >> 20));
		if (done == total)
			fprintf(stderr, "\n");
	}
}

static bool b64dec(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = s ? strlen(s) : 0;
	if (!s || n % 4 || n / 4 * 3 > max + 2)
		return false;
	uint8_t *tmp = malloc(n / 4 * 3 + 1);
	int d = tmp ? EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n) : -1;
	bool ok = d >= 0;
	if (ok) {
		*len = (size_t)d - (n && s[n - 1] == '=') - (n > 1 && s[n - 2] == '=');
		ok = *len <= max;
		if (ok)
			memcpy(out, tmp, *len);
		OPENSSL_cleanse(tmp, (size_t)d);
	}
	free(tmp);
	return ok;
}

/* encrypt --attested: the data key of a PWK1 file, released to this enclave. */
static int encrypt_attested(const struct cli_service *svc, const char *dev_root,
			    const char *wrapped, const char *want, const char *in, const char *outf)
{
	struct ppml_attest_opts ao = {0};
	struct ppml_enc_header h = {0};
	struct ppml_wdk wdk;
	struct ppml_err err = {0};
	uint8_t *blob = NULL, dk[40];
	size_t bl = 0, dkl = 0;
	int rc = CLI_EXIT_OK;
	if (!svc->url || svc->credential_file)
		return cli_usage_error("encrypt", "--attested needs --service URL (and no "
						  "credential)");
	ppml_status st = ppml_file_read(wrapped, PPML_ENC_MAX_WRAPPED, &blob, &bl, &err);
	if (st == PPML_E_LIMIT)
		ppml_err_set(&err, PPML_E_INPUT, "%s: too large for a PWK1 wrapped data key", wrapped);
	else if (st == PPML_OK && (st = ppml_wdk_parse(blob, bl, &wdk, &err)) != PPML_OK)
		ppml_err_prefix(&err, "%s: ", wrapped);
	if (st != PPML_OK) {
		fprintf(stderr, "ppml encrypt: %s (make one with `ppml key datakey NAME --out "
				"FILE.pwk`)\n", err.msg);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (want && strcmp(want, wdk.name) != 0) {
		/* The enclave names the key it means (in its measured command line):
		 * a host handing it a wrapped key of another key is refused. */
		fprintf(stderr, "ppml encrypt: %s is a wrapped key of %s, not of %s: refusing\n",
			wrapped, wdk.name, want);
		rc = CLI_EXIT_REFUSED;
		goto out;
	}
	if (wdk.type != PPML_WDK_AES256) {
		fprintf(stderr, "ppml encrypt: %s: key %s is a gramine-pf key; files need an "
				"aes-256-gcm key\n", wrapped, wdk.name);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	ao.service = svc->url;
	ao.cacert = svc->cacert;
	ao.dev_root = dev_root;
	if (ppml_client_release(&ao, wdk.name, blob, bl, dk, &dkl, NULL, &err) != PPML_OK) {
		rc = cli_fail("encrypt", &err);
		goto out;
	}
	snprintf(h.key_name, sizeof(h.key_name), "%s", wdk.name);
	h.key_version = wdk.version;
	memcpy(h.wrapped, blob, bl);
	h.wrapped_len = bl;
	if (dkl != 32 || ppml_enc_encrypt_file(in, outf, dk, &h, progress, NULL, &err) != PPML_OK) {
		if (dkl != 32)
			ppml_err_set(&err, PPML_E_INPUT, "key %s is not an aes-256-gcm key", wdk.name);
		rc = cli_fail("encrypt", &err);
		goto out;
	}
	fprintf(stderr, "ppml encrypt: %s -> %s (key %s v%u, released to this enclave)\n", in,
		outf, h.key_name, h.key_version);
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	free(blob);
	return rc;
}

int cmd_encrypt(int argc, char **argv)
{
	struct cli_service svc = {0};
	const char *key = NULL, *in = NULL, *outf = NULL, *wrapped = NULL, *dev_root = NULL;
	int attested = 0;
	for (int i = 1; i < argc; i++) {
		if (cli_service_opt(&svc, argc, argv, &i))
			continue;
		if (!strcmp(argv[i], "--attested"))
			attested = 1;
		else if (!strcmp(argv[i], "--wrapped-key") && i + 1 < argc)
			wrapped = argv[++i];
		else if (!strcmp(argv[i], "--dev-attestation") && i + 1 < argc)
			dev_root = argv[++i];
		else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!strcmp(argv[i], "--in") && i + 1 < argc)
			in = argv[++i];
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			outf = argv[++i];
		else
			return cli_usage_error("encrypt", "unexpected argument '%s'", argv[i]);
	}
	if (outf && !strcmp(outf, "-"))
		return cli_usage_error("encrypt", "--out -: write to a file");
	if (attested || wrapped) {
		if (!attested || !wrapped || !in || !outf || (key && !ppml_policy_name_ok(key)))
			return cli_usage_error("encrypt", "--attested needs --wrapped-key FILE.pwk, "
							  "--in FILE and --out FILE");
		return encrypt_attested(&svc, dev_root, wrapped, key, in, outf);
	}
	if (!key || !in || !outf || !ppml_policy_name_ok(key))
		return cli_usage_error("encrypt", "--key NAME, --in FILE and --out FILE are required");
	char path[300];
	json_t *ans = NULL;
	snprintf(path, sizeof(path), "/v1/keys/%s/datakey", key);
	int rc = cli_service_call("encrypt", &svc, true, "POST", path, "application/json",
				  "{\"plaintext\":true}", 18, &ans, NULL);
	if (rc != CLI_EXIT_OK)
		return rc;
	struct ppml_enc_header h = {0};
	uint8_t dk[40];
	size_t dkl = 0;
	struct ppml_err err = {0};
	const char *type = json_string_value(json_object_get(ans, "type"));
	if (!type || strcmp(type, "aes-256-gcm") != 0) {
		fprintf(stderr, "ppml encrypt: key %s is of type %s: files need an aes-256-gcm key "
				"(gramine-pf keys are for Gramine's protected files)\n",
			key, type ? type : "?");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	snprintf(h.key_name, sizeof(h.key_name), "%s", key);
	h.key_version = (uint32_t)json_integer_value(json_object_get(ans, "version"));
	if (!b64dec(json_string_value(json_object_get(ans, "wrapped")), h.wrapped,
		    PPML_ENC_MAX_WRAPPED, &h.wrapped_len) ||
	    !b64dec(json_string_value(json_object_get(ans, "plaintext")), dk, sizeof(dk), &dkl) ||
	    dkl != 32) {
		fprintf(stderr, "ppml encrypt: the service's answer has no usable data key\n");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (ppml_enc_encrypt_file(in, outf, dk, &h, progress, NULL, &err) != PPML_OK) {
		rc = cli_fail("encrypt", &err);
		goto out;
	}
	fprintf(stderr, "ppml encrypt: %s -> %s (key %s v%u)\n", in, outf, key, h.key_version);
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	json_t *p = json_object_get(ans, "plaintext");
	if (json_is_string(p))
		OPENSSL_cleanse((void *)json_string_value(p), strlen(json_string_value(p)));
	json_decref(ans);
	return rc;
}

int cmd_decrypt(int argc, char **argv)
{
	struct cli_service svc = {0};
	struct ppml_attest_opts ao = {0};
	const char *in = NULL, *outf = NULL;
	int attested = 0;
	for (int i = 1; i < argc; i++) {
		if (cli_service_opt(&svc, argc, argv, &i))
			continue;
		if (!strcmp(argv[i], "--attested"))
			attested = 1;
		else if (!strcmp(argv[i], "--in") && i + 1 < argc)
			in = argv[++i];
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			outf = argv[++i];
		else if (!strcmp(argv[i], "--dev-attestation") && i + 1 < argc)
			ao.dev_root = argv[++i];
		else
			return cli_usage_error("decrypt", "unexpected argument '%s'", argv[i]);
	}
	if (!in || !outf)
		return cli_usage_error("decrypt", "--in FILE.enc and --out FILE are required");
	if (!strcmp(outf, "-"))
		return cli_usage_error("decrypt", "--out -: plaintext is written only to a file, "
						  "after every segment verified");
	if (attested == !!svc.credential_file)
		return cli_usage_error("decrypt", "choose --attested or --credential-file");
	struct ppml_enc_header h;
	struct ppml_err err = {0};
	uint8_t dk[40];
	size_t dkl = 0;
	int rc = CLI_EXIT_OK;
	if (ppml_enc_read_header(in, &h, &err) != PPML_OK)
		return cli_fail("decrypt", &err);
	if (attested) {
		ao.service = svc.url;
		ao.cacert = svc.cacert;
		if (!svc.url)
			return cli_usage_error("decrypt", "--attested needs --service URL");
		if (ppml_client_release(&ao, h.key_name, h.wrapped, h.wrapped_len, dk, &dkl, NULL,
					&err) != PPML_OK)
			return cli_fail("decrypt", &err);
	} else {
		char path[300], *wb = malloc(4 * ((h.wrapped_len + 2) / 3) + 1);
		json_t *ans = NULL;
		EVP_EncodeBlock((unsigned char *)wb, h.wrapped, (int)h.wrapped_len);
		json_t *b = json_pack("{s:s}", "wrapped", wb);
		char *body = json_dumps(b, JSON_COMPACT);
		snprintf(path, sizeof(path), "/v1/keys/%s/unwrap", h.key_name);
		rc = cli_service_call("decrypt", &svc, true, "POST", path, "application/json", body,
				      strlen(body), &ans, NULL);
		free(body);
		free(wb);
		json_decref(b);
		if (rc == CLI_EXIT_OK &&
		    !b64dec(json_string_value(json_object_get(ans, "plaintext")), dk, sizeof(dk), &dkl)) {
			fprintf(stderr, "ppml decrypt: the service's answer has no key\n");
			rc = CLI_EXIT_FAILURE;
		}
		json_t *p = json_object_get(ans, "plaintext");
		if (json_is_string(p))
			OPENSSL_cleanse((void *)json_string_value(p), strlen(json_string_value(p)));
		json_decref(ans);
		if (rc != CLI_EXIT_OK)
			return rc;
	}
	if (dkl != 32) {
		OPENSSL_cleanse(dk, sizeof(dk));
		fprintf(stderr, "ppml decrypt: key %s is not an aes-256-gcm key\n", h.key_name);
		return CLI_EXIT_FAILURE;
	}
	if (ppml_enc_decrypt_file(in, outf, dk, progress, NULL, &err) != PPML_OK)
		rc = cli_fail("decrypt", &err);
	else
		fprintf(stderr, "ppml decrypt: %s -> %s (key %s v%u%s)\n", in, outf, h.key_name,
			h.key_version, attested ? ", released to this enclave" : "");
	OPENSSL_cleanse(dk, sizeof(dk));
	return rc;
}
