/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gramine v1.3.1 (BigDL) vectors through the manifest layer alone, the step
 * before signing: gramine-manifest parses the template with toml 0.10.2,
 * applies Manifest.__init__'s defaults (nothing is hashed in v1.3) and writes
 * app.manifest with toml 0.10.2.  PPML_MANIFEST_DEFAULTS_ONLY with the 1.3
 * rules and the 0.10.2 writer must give app.manifest byte for byte, and the
 * attributes read back from app.manifest.sgx must be expected.json's.
 * (Signing, the layout and the .sig: tests/cli/test_sign_vectors_v13.sh.)
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "ppml/file.h"
#include "ppml/manifest.h"

static uint8_t *slurp(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	uint8_t *data = NULL;
	struct ppml_err err = {0};
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (ppml_file_read(path, 1u << 20, &data, len, &err) != PPML_OK)
		return NULL;
	return data;
}

TEST(template_to_app_manifest)
{
	char dir[1024];
	DIR *d;
	struct dirent *e;
	int n = 0;
	REQUIRE_SHARED(shared);

	snprintf(dir, sizeof(dir), "%s/vectors/gramine-v1.3.1-bigdl", shared);
	d = opendir(dir);
	REQUIRE(d != NULL);
	while ((e = readdir(d)) != NULL) {
		char vdir[1400];
		uint8_t *tmpl, *want;
		size_t tlen = 0, wlen = 0;
		struct ppml_buf out = {0};
		struct ppml_err err = {0};
		struct ppml_manifest_opts o = {.flags = PPML_MANIFEST_DEFAULTS_ONLY,
					       .version = PPML_GRAMINE_1_3};

		if (e->d_name[0] != 'b')
			continue;
		snprintf(vdir, sizeof(vdir), "%s/%s", dir, e->d_name);
		tmpl = slurp(vdir, "app.manifest.template", &tlen);
		want = slurp(vdir, "app.manifest", &wlen);
		CHECKF(tmpl && want, "%s: unreadable", e->d_name);
		if (tmpl && want) {
			CHECKF(ppml_manifest_normalize_text((const char *)tmpl, tlen, &o, &out, NULL,
							    &err) == PPML_OK,
			       "%s: %.300s", e->d_name, err.msg);
			CHECKF(out.len == wlen && memcmp(out.data, want, wlen) == 0,
			       "%s: not app.manifest:\n%.300s", e->d_name,
			       out.data ? (char *)out.data : "");
			n++;
		}
		ppml_buf_free(&out);
		free(tmpl);
		free(want);
	}
	closedir(d);
	CHECKF(n >= 8, "only %d vectors", n);
	printf("# %d templates rendered to app.manifest byte for byte\n", n);
}

TEST(attributes_from_manifest_sgx)
{
	static const struct {
		const char *name;
		uint64_t size, threads;
		bool debug, exinfo, nonpie;
		bool require[PPML_CPU_N];
		uint16_t prod, svn;
	} want[] = {
		{"b01_pie_defaults", 256u << 20, 4, false, false, false, {0}, 0, 0},
		{"b02_nonpie_1G_t8_debug", 1u << 30, 8, true, false, true, {0}, 0, 0},
		{"b04_require_opts_isv", 256u << 20, 4, false, true, false, {1, 1, 1, 1, 1}, 4321, 9},
		{"b05_pie_64G_t64", 64ull << 30, 64, false, false, false, {0}, 0, 0},
	};
	REQUIRE_SHARED(shared);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char vdir[1400];
		size_t len = 0;
		uint8_t *sgx;
		struct ppml_manifest_attrs a;
		struct ppml_err err = {0};

		snprintf(vdir, sizeof(vdir), "%s/vectors/gramine-v1.3.1-bigdl/%s", shared,
			 want[i].name);
		sgx = slurp(vdir, "app.manifest.sgx", &len);
		REQUIRE(sgx != NULL);
		CHECKF(ppml_manifest_attrs_from_text((const char *)sgx, len, PPML_GRAMINE_1_3, &a,
						     &err) == PPML_OK,
		       "%s: %.300s", want[i].name, err.msg);
		CHECK(a.enclave_size == want[i].size && a.max_threads == want[i].threads);
		CHECK(a.debug == want[i].debug && a.use_exinfo == want[i].exinfo);
		CHECK(a.nonpie_binary == want[i].nonpie && !a.edmm_enable);
		CHECK(a.isvprodid == want[i].prod && a.isvsvn == want[i].svn);
		for (int f = 0; f < PPML_CPU_N; f++)
			CHECK(a.require[f] == want[i].require[f]);
		/* the 1.9 rules refuse it and say which version it is */
		CHECK(ppml_manifest_attrs_from_text((const char *)sgx, len, PPML_GRAMINE_1_9, &a,
						    &err) == PPML_E_INPUT);
		CHECK(strstr(err.msg, "--gramine-version 1.3") != NULL);
		free(sgx);
	}
}

int main(void)
{
	RUN(template_to_app_manifest);
	RUN(attributes_from_manifest_sgx);
	HARNESS_EXIT();
}
