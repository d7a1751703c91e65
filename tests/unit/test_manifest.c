/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of src/lib/gramine on trees built with the constructors. */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "harness.h"
#include "ppml/manifest.h"

static const struct ppml_toml_value *at(const struct ppml_toml_value *t, size_t i, const char **key)
{
	if (!t || t->type != PPML_TOML_TABLE || i >= t->u.t.len)
		return NULL;
	*key = t->u.t.items[i].key;
	return t->u.t.items[i].value;
}

static int keys_are(const struct ppml_toml_value *t, const char *const *want, size_t n)
{
	if (!t || t->type != PPML_TOML_TABLE || t->u.t.len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(t->u.t.items[i].key, want[i]) != 0)
			return 0;
	return 1;
}

static const char *str_of(const struct ppml_toml_value *v)
{
	return v && v->type == PPML_TOML_STRING ? v->u.s.ptr : NULL;
}

TEST(defaults_order_on_empty_manifest)
{
	struct ppml_toml_value *root = ppml_toml_new_table();
	struct ppml_err err = {0};
	struct ppml_manifest_opts o = {.pkglibdir = "/opt/g", .flags = PPML_MANIFEST_DEFAULTS_ONLY};
	static const char *const sgx_keys[] = {
		"trusted_files", "max_threads", "isvprodid", "isvsvn", "remote_attestation", "debug",
		"enable_stats", "edmm_enable", "enclave_size", "use_exinfo", "cpu_features"};
	static const char *const cpu_keys[] = {"avx", "avx512", "amx", "mpx", "pkru"};
	static const char *const root_keys[] = {"sgx", "loader"};
	const struct ppml_toml_value *sgx, *ep;
	const char *k;
	REQUIRE(root);
	REQUIRE(ppml_manifest_normalize(root, &o, NULL, &err) == PPML_OK);
	CHECK(keys_are(root, root_keys, 2));
	sgx = ppml_toml_get(root, "sgx");
	CHECK(keys_are(sgx, sgx_keys, 11));
	CHECK_STREQ(str_of(ppml_toml_get(sgx, "enclave_size")), "256M");
	CHECK(keys_are(ppml_toml_get(sgx, "cpu_features"), cpu_keys, 5));
	CHECK_STREQ(str_of(ppml_toml_get(ppml_toml_get(sgx, "cpu_features"), "mpx")), "disabled");
	ep = ppml_toml_get(ppml_toml_get(root, "loader"), "entrypoint");
	CHECK_STREQ(str_of(ppml_toml_get(ep, "uri")), "file:/opt/g/libsysdb.so");
	CHECK(ppml_toml_get(ep, "sha256") == NULL);
	CHECK(at(root, 0, &k) && strcmp(k, "sgx") == 0);
	ppml_toml_free(root);
}

int main(void)
{
	RUN(defaults_order_on_empty_manifest);
	HARNESS_EXIT();
}
