/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the Gramine manifest layer without touching the filesystem:
 * parse -> normalise (PPML_MANIFEST_NO_FS) -> tomli-w -> attributes,
 * cpu_features check and schema check.  One property is checked too:
 * normalising the written manifest.sgx again reproduces it byte for byte
 * (re-signing is the identity, spec section 1), since after the first pass
 * every trusted file carries a sha256.  The same input then goes through the
 * Gramine v1.3 rules (toml 0.10.2 writer), without that property: toml
 * 0.10.2 is not idempotent (it writes "\\x41" as "\u0041").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ppml/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Manifests are a few KiB; larger inputs only slow the fuzzer down. */
#define FUZZ_MAX_INPUT (64u * 1024)

static void checks(const struct ppml_buf *sgx, enum ppml_gramine_version ver)
{
	struct ppml_err err = {0};
	struct ppml_manifest_attrs attrs;
	struct ppml_manifest_violations v = {0};

	ppml_status st;

	st = ppml_manifest_attrs_from_text((const char *)sgx->data, sgx->len, ver, &attrs, &err);
	if (st == PPML_OK)
		st = ppml_manifest_check_cpu_features(&attrs, &err);
	st = ppml_manifest_check_text((const char *)sgx->data, sgx->len, &v, &err);
	(void)st; /* every outcome is fine; crashes and leaks are what we look for */
	ppml_manifest_violations_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_err err = {0};
	struct ppml_manifest_opts o = {.pkglibdir = "/fuzz", .flags = PPML_MANIFEST_NO_FS,
				       .threads = 1};
	struct ppml_manifest_result *r = NULL;
	struct ppml_buf once = {0}, twice = {0};
	struct ppml_manifest_violations v = {0};
	ppml_status st;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	/* The schema check runs on the rendered input, as gramine-manifest --check does. */
	st = ppml_manifest_check_text((const char *)data, size, &v, &err);
	(void)st;
	ppml_manifest_violations_free(&v);

	if (ppml_manifest_normalize_text((const char *)data, size, &o, &once, &r, &err) != PPML_OK)
		goto v13;
	checks(&once, PPML_GRAMINE_1_9);
	if (ppml_manifest_normalize_text((const char *)once.data, once.len, &o, &twice, NULL,
					 &err) == PPML_OK &&
	    (once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0))
		abort(); /* normalising manifest.sgx again must be the identity */
v13:
	ppml_manifest_result_free(r);
	r = NULL;
	once.len = 0;
	o.version = PPML_GRAMINE_1_3;
	if (ppml_manifest_normalize_text((const char *)data, size, &o, &once, &r, &err) == PPML_OK)
		checks(&once, PPML_GRAMINE_1_3);
	ppml_manifest_result_free(r);
	ppml_buf_free(&once);
	ppml_buf_free(&twice);
	return 0;
}
