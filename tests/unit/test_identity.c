/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identity documents: SIGSTRUCT-vs-manifest matching names the field that
 * differs (each field flipped in turn), build/JSON round trip and diff on the
 * Gramine v1.9 vectors, the test-key list, and the reader's refusals.
 */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <stdint.h>

#include "harness.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/identity.h"
#include "ppml/limits.h"

struct artefacts {
	uint8_t *mf, *pal, *sig;
	size_t mf_len, pal_len, sig_len;
};

static int load_vector(const char *shared, const char *name, struct artefacts *a)
{
	char p[512];
	struct ppml_err err;
	memset(a, 0, sizeof(*a));
	snprintf(p, sizeof(p), "%s/vectors/gramine-v1.9/%s/app.manifest.sgx", shared, name);
	if (ppml_file_read(p, PPML_SGX_MAX_MANIFEST_SIZE, &a->mf, &a->mf_len, &err) != PPML_OK)
		return -1;
	snprintf(p, sizeof(p), "%s/vectors/gramine-v1.9/%s/libpal.so", shared, name);
	if (ppml_file_read(p, PPML_SGX_MAX_PAL_SIZE, &a->pal, &a->pal_len, &err) != PPML_OK)
		return -1;
	snprintf(p, sizeof(p), "%s/vectors/gramine-v1.9/%s/app.sig", shared, name);
	return ppml_file_read(p, 4096, &a->sig, &a->sig_len, &err) == PPML_OK ? 0 : -1;
}

static void free_vector(struct artefacts *a)
{
	free(a->mf);
	free(a->pal);
	free(a->sig);
}

TEST(match_names_each_field)
{
	REQUIRE_SHARED(shared);
	struct artefacts a;
	struct ppml_enclave_identity m;
	struct ppml_sgx_sigstruct s, t;
	struct ppml_err err;
	REQUIRE(load_vector(shared, "v03_1G_t4_isv", &a) == 0);
	REQUIRE(ppml_enclave_measure(a.mf, a.mf_len, a.pal, a.pal_len, "libpal.so", PPML_GRAMINE_1_9, &m, NULL, &err) ==
		PPML_OK);
	REQUIRE(ppml_sigstruct_parse(a.sig, a.sig_len, &s, &err) == PPML_OK);
	CHECK(ppml_identity_match_sigstruct(&m, &s, "app.manifest.sgx", &err) == PPML_OK);

	t = s;
	t.enclave_hash[31] ^= 1;
	CHECK(ppml_identity_match_sigstruct(&m, &t, "app.manifest.sgx", &err) == PPML_E_REFUSED);
	CHECK(strstr(err.msg, "does not match the measurement of app.manifest.sgx (dec975a0") != NULL);
	t = s;
	t.isv_svn = 8;
	CHECK(ppml_identity_match_sigstruct(&m, &t, "x", &err) == PPML_E_REFUSED);
	CHECK_STREQ(err.msg, "ISVSVN 8 in the SIGSTRUCT differs from 7 derived from x");
	t = s;
	t.isv_prod_id = 1;
	CHECK(ppml_identity_match_sigstruct(&m, &t, "x", &err) == PPML_E_REFUSED && strncmp(err.msg, "ISVPRODID 1 ", 12) == 0);
	t = s;
	t.attributes_flags |= PPML_SGX_FLAGS_DEBUG;
	CHECK(ppml_identity_match_sigstruct(&m, &t, "x", &err) == PPML_E_REFUSED && strncmp(err.msg, "ATTRIBUTES.FLAGS ", 17) == 0);
	t = s;
	t.attributes_xfrm |= PPML_SGX_XFRM_AVX;
	CHECK(ppml_identity_match_sigstruct(&m, &t, "x", &err) == PPML_E_REFUSED && strncmp(err.msg, "ATTRIBUTES.XFRM ", 16) == 0);
	t = s;
	t.attribute_mask_xfrm = 0;
	CHECK(ppml_identity_match_sigstruct(&m, &t, "x", &err) == PPML_E_REFUSED && strncmp(err.msg, "ATTRIBUTEMASK.XFRM ", 19) == 0);
	t = s;
	t.misc_select = 1;
	CHECK(ppml_identity_match_sigstruct(&m, &t, "x", &err) == PPML_E_REFUSED && strncmp(err.msg, "MISCSELECT ", 11) == 0);
	t = s;
	t.misc_mask = 0;
	CHECK(ppml_identity_match_sigstruct(&m, &t, "x", &err) == PPML_E_REFUSED && strncmp(err.msg, "MISCMASK ", 9) == 0);
	t = s;
	t.isv_family_id[0] = 1;
	CHECK(ppml_identity_match_sigstruct(&m, &t, "x", &err) == PPML_E_REFUSED && strstr(err.msg, "ISVFAMILYID") != NULL);
	/* the date is the signer's choice, not the manifest's */
	t = s;
	t.date = 0x20000101;
	CHECK(ppml_identity_match_sigstruct(&m, &t, "x", &err) == PPML_OK);
	free_vector(&a);
}

TEST(build_json_round_trip_and_diff)
{
	REQUIRE_SHARED(shared);
	struct artefacts a2, a3;
	struct ppml_identity *i2 = NULL, *i3 = NULL, *r = NULL;
	struct ppml_buf j = {0};
	struct ppml_identity_diff d = {0};
	struct ppml_err err;
	size_t keys = 0;
	REQUIRE(load_vector(shared, "v02_256M_t1_debug", &a2) == 0);
	REQUIRE(load_vector(shared, "v03_1G_t4_isv", &a3) == 0);
	CHECK(ppml_identity_build(a2.mf, a2.mf_len, a2.pal, a2.pal_len, "libpal.so", PPML_GRAMINE_1_9, a2.sig,
				  a2.sig_len, "v02", &i2, &err) == PPML_OK);
	CHECK(ppml_identity_build(a3.mf, a3.mf_len, a3.pal, a3.pal_len, "libpal.so", PPML_GRAMINE_1_9, a3.sig,
				  a3.sig_len, "v03", &i3, &err) == PPML_OK);
	/* v03's .sig with v02's manifest: refused, no document */
	CHECK(ppml_identity_build(a2.mf, a2.mf_len, a2.pal, a2.pal_len, "libpal.so", PPML_GRAMINE_1_9, a3.sig,
				  a3.sig_len, "v02", &r, &err) == PPML_E_REFUSED && r == NULL);
	/* a flipped signature bit: refused by the RSA check */
	a2.sig[200] ^= 1;
	CHECK(ppml_identity_build(a2.mf, a2.mf_len, a2.pal, a2.pal_len, "libpal.so", PPML_GRAMINE_1_9, a2.sig,
				  a2.sig_len, "v02", &r, &err) == PPML_E_REFUSED && r == NULL);
	REQUIRE(i2 && i3);
	CHECK(i2->debug && !i3->debug);
	CHECK(i3->isvprodid == 1234 && i3->isvsvn == 7);
	CHECK(i2->n_files == 1 && strcmp(i2->files[0].uri, "file:libsysdb.so") == 0);
	CHECK(ppml_identity_known_test_key(i2->mrsigner) != NULL);
	CHECK(ppml_identity_known_test_key(i2->mrenclave) == NULL);
	for (size_t i = 0; i < i2->n_keys; i++)
		if (strcmp(i2->keys[i].key, "sgx.enclave_size") == 0 &&
		    strcmp(i2->keys[i].value, "\"256M\"") == 0)
			keys++;
	CHECK(keys == 1);

	REQUIRE(ppml_identity_to_json(i2, &j, &err) == PPML_OK);
	REQUIRE(ppml_identity_from_json((const char *)j.data, j.len, &r, &err) == PPML_OK);
	REQUIRE(ppml_identity_diff(i2, r, &d, &err) == PPML_OK);
	CHECK(d.len == 0);
	CHECK(r->n_warnings == i2->n_warnings && r->n_keys == i2->n_keys);
	ppml_identity_diff_cleanup(&d);

	REQUIRE(ppml_identity_diff(i2, i3, &d, &err) == PPML_OK);
	{
		int seen = 0;
		for (size_t i = 0; i < d.len; i++) {
			const struct ppml_identity_change *c = &d.items[i];
			if (c->kind == PPML_IDENTITY_KEY && strcmp(c->name, "sgx.max_threads") == 0)
				seen += strcmp(c->a, "1") == 0 && strcmp(c->b, "4") == 0;
			if (c->kind == PPML_IDENTITY_FIELD && strcmp(c->name, "isvprodid") == 0)
				seen += strcmp(c->a, "0") == 0 && strcmp(c->b, "1234") == 0;
		}
		CHECK(seen == 2);
	}
	ppml_identity_diff_cleanup(&d);
	ppml_buf_free(&j);
	ppml_identity_free(i2);
	ppml_identity_free(i3);
	ppml_identity_free(r);
	free_vector(&a2);
	free_vector(&a3);
}

TEST(reader_refusals)
{
	struct ppml_identity *r = NULL;
	struct ppml_err err;
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{"{\"version\": 1", "not valid JSON"},
		{"[]", "expected a JSON object"},
		{"{}", "version: missing"},
		{"{\"version\": \"1\"}", "version: expected 1"},
		{"{\"version\": 1, \"version\": 1}", "duplicate"},
		{"{\"version\": 1}", "mrenclave: missing"},
		{"{\"version\": 1, \"mrenclave\": \"ABCD\"}", "mrenclave: expected 64 lowercase hex digits"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ppml_status st = ppml_identity_from_json(cases[i].json, strlen(cases[i].json), &r, &err);
		CHECKF(st == PPML_E_INPUT && r == NULL && strstr(err.msg, cases[i].msg),
		       "case %zu: status %d, message '%s'", i, (int)st, err.msg);
	}
	CHECK(ppml_identity_from_json("{}", PPML_IDENTITY_MAX_JSON + 1u, &r, &err) == PPML_E_LIMIT);
	ppml_identity_free(NULL);
	ppml_identity_diff_cleanup(NULL);
}

int main(void)
{
	RUN(match_names_each_field);
	RUN(build_json_round_trip_and_diff);
	RUN(reader_refusals);
	HARNESS_EXIT();
}
