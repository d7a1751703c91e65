/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manifest attributes the SIGSTRUCT needs (spec 8), read from the
 * re-parsed manifest.sgx, plus what identity warnings need.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "ppml/measure.h"

const char *const ppml_cpu_feature_names[PPML_CPU_N] = {"avx", "avx512", "amx", "mpx", "pkru"};


static void copy_str(char *dst, const struct ppml_toml_value *v, const char *absent)
{
	if (!v)
		snprintf(dst, PPML_MANIFEST_STR_MAX, "%s", absent);
	else if (v->type != PPML_TOML_STRING || strlen(v->u.s.ptr) != v->u.s.len)
		snprintf(dst, PPML_MANIFEST_STR_MAX, "<non-string>");
	else
		snprintf(dst, PPML_MANIFEST_STR_MAX, "%s", v->u.s.ptr);
}

static bool is_true(const struct ppml_toml_value *v)
{
	return v && v->type == PPML_TOML_BOOLEAN && v->u.b;
}

/* Python `v == 1` (v1.3's collect_bits): True, 1 and 1.0 all compare equal. */
static bool equals_one(const struct ppml_toml_value *v)
{
	return v && ((v->type == PPML_TOML_BOOLEAN && v->u.b) ||
		     (v->type == PPML_TOML_INTEGER && v->u.i == 1) ||
		     (v->type == PPML_TOML_FLOAT && v->u.f == 1.0));
}

/* The threads key of each version, and the other version's name for it. */
static const char *threads_key(enum ppml_gramine_version ver)
{
	return ver == PPML_GRAMINE_1_3 ? "thread_num" : "max_threads";
}

static ppml_status get_int(const struct ppml_toml_value *sgx, const char *key, int64_t lo,
			   int64_t hi, int64_t *out, struct ppml_err *err)
{
	const struct ppml_toml_value *v = ppml_toml_get(sgx, key);
	if (!v && strcmp(key, "max_threads") == 0 && ppml_toml_get(sgx, "thread_num"))
		return ppml_err_set(err, PPML_E_INPUT,
				    "sgx.max_threads is missing but sgx.thread_num is set: this is a "
				    "Gramine v1.3 manifest; measure it with --gramine-version 1.3, or "
				    "rename sgx.thread_num to sgx.max_threads for Gramine 1.9");
	if (!v && strcmp(key, "thread_num") == 0 && ppml_toml_get(sgx, "max_threads"))
		return ppml_err_set(err, PPML_E_INPUT,
				    "sgx.thread_num is missing but sgx.max_threads is set: this is a "
				    "Gramine 1.4+ manifest; measure it with --gramine-version 1.9, or "
				    "rename sgx.max_threads to sgx.thread_num for Gramine v1.3");
	if (!v)
		return ppml_err_set(err, PPML_E_INPUT, "sgx.%s is missing (normalise the manifest first)",
				    key);
	/* Python's int() also takes a bool */
	if (v->type == PPML_TOML_BOOLEAN) {
		*out = v->u.b;
		return PPML_OK;
	}
	if (v->type != PPML_TOML_INTEGER)
		return ppml_err_set(err, PPML_E_INPUT, "sgx.%s must be an integer", key);
	if (v->u.i < lo || v->u.i > hi)
		return ppml_err_set(err, PPML_E_INPUT,
				    "sgx.%s = %lld is out of range (%lld..%lld)", key,
				    (long long)v->u.i, (long long)lo, (long long)hi);
	*out = v->u.i;
	return PPML_OK;
}

static void find_insecure(const struct ppml_toml_value *v, char *path, size_t plen, size_t cap,
			  struct ppml_manifest_attrs *a, int depth)
{
	if (!v || depth > 64)
		return;
	if (v->type == PPML_TOML_ARRAY) {
		for (size_t i = 0; i < v->u.a.len; i++)
			find_insecure(v->u.a.items[i], path, plen, cap, a, depth + 1);
		return;
	}
	if (v->type != PPML_TOML_TABLE)
		return;
	for (size_t i = 0; i < v->u.t.len; i++) {
		const struct ppml_toml_kv *kv = &v->u.t.items[i];
		int w = snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", kv->key);
		size_t nlen = w < 0 ? plen : plen + (size_t)w;
		if (nlen >= cap)
			nlen = cap - 1;
		if (strncmp(kv->key, "insecure__", 10) == 0) {
			if (a->n_insecure++ == 0)
				snprintf(a->first_insecure, sizeof(a->first_insecure), "%s", path);
		}
		find_insecure(kv->value, path, nlen, cap, a, depth + 1);
		path[plen] = 0;
	}
}

ppml_status ppml_manifest_attrs_get(const struct ppml_toml_value *root,
				    enum ppml_gramine_version ver,
				    struct ppml_manifest_attrs *a, struct ppml_err *err)
{
	ppml_status st;
	const struct ppml_toml_value *sgx = ppml_toml_get(root, "sgx"), *v, *cpu;
	int64_t iv;
	char path[512] = "";

	memset(a, 0, sizeof(*a));
	a->version = ver;
	if (!sgx || sgx->type != PPML_TOML_TABLE)
		return ppml_err_set(err, PPML_E_INPUT, "the manifest has no [sgx] table");
	v = ppml_toml_get(sgx, "enclave_size");
	if (!v || v->type != PPML_TOML_STRING || strlen(v->u.s.ptr) != v->u.s.len ||
	    v->u.s.len >= PPML_MANIFEST_STR_MAX)
		return ppml_err_set(err, PPML_E_INPUT,
				    "sgx.enclave_size must be a string such as \"256M\"");
	snprintf(a->enclave_size_str, sizeof(a->enclave_size_str), "%s", v->u.s.ptr);
	if ((st = ppml_sgx_parse_size(v->u.s.ptr, "sgx.enclave_size", &a->enclave_size, err)) != PPML_OK) {
		return st;
	}
	if ((st = get_int(sgx, threads_key(ver), 0, INT64_MAX, &iv, err)) != PPML_OK)
		return st;
	a->max_threads = (uint64_t)iv;
	if ((st = get_int(sgx, "isvprodid", 0, 65535, &iv, err)) != PPML_OK)
		return st;
	a->isvprodid = (uint16_t)iv;
	if ((st = get_int(sgx, "isvsvn", 0, 65535, &iv, err)) != PPML_OK)
		return st;
	a->isvsvn = (uint16_t)iv;
	if (ver == PPML_GRAMINE_1_3) {
		/* spec 12: no EDMM, no cpu_features; collect_bits compares == 1 */
		char key[32];
		a->debug = equals_one(ppml_toml_get(sgx, "debug"));
		a->use_exinfo = equals_one(ppml_toml_get(sgx, "support_exinfo"));
		a->nonpie_binary = gr_truthy(ppml_toml_get(sgx, "nonpie_binary"));
		for (int f = 0; f < PPML_CPU_N; f++) {
			snprintf(key, sizeof(key), "require_%s", ppml_cpu_feature_names[f]);
			a->require[f] = equals_one(ppml_toml_get(sgx, key));
		}
		goto common;
	}
	a->edmm_enable = gr_truthy(ppml_toml_get(sgx, "edmm_enable"));
	a->debug = is_true(ppml_toml_get(sgx, "debug"));
	a->use_exinfo = is_true(ppml_toml_get(sgx, "use_exinfo"));
	cpu = ppml_toml_get(sgx, "cpu_features");
	for (int f = 0; f < PPML_CPU_N; f++)
		copy_str(a->cpu_features[f],
			 cpu && cpu->type == PPML_TOML_TABLE ? ppml_toml_get(cpu, ppml_cpu_feature_names[f])
							     : NULL,
			 "");
common:
	copy_str(a->remote_attestation, ppml_toml_get(sgx, "remote_attestation"), "");
	a->has_allowed_files = ppml_toml_get(sgx, "allowed_files") != NULL;
	copy_str(a->file_check_policy, ppml_toml_get(sgx, "file_check_policy"), "");
	find_insecure(root, path, 0, sizeof(path), a, 0);
	return PPML_OK;
}

ppml_status ppml_manifest_attrs_from_text(const char *text, size_t len,
					  enum ppml_gramine_version ver,
					  struct ppml_manifest_attrs *attrs, struct ppml_err *err)
{
	ppml_status st;
	struct ppml_toml_value *root = NULL;

	memset(attrs, 0, sizeof(*attrs));
	st = ppml_manifest_parse(text, len, ver, &root, err);
	if (st == PPML_OK)
		st = ppml_manifest_attrs_get(root, ver, attrs, err);
	ppml_toml_free(root);
	return st;
}

ppml_status ppml_manifest_check_cpu_features(const struct ppml_manifest_attrs *a,
					     struct ppml_err *err)
{
	for (int f = 0; f < PPML_CPU_N; f++) {
		const char *v = a->cpu_features[f];
		bool ok = strcmp(v, "required") == 0 || strcmp(v, "disabled") == 0 ||
			  (f <= PPML_CPU_AMX && strcmp(v, "unspecified") == 0);
		if (!ok)
			return ppml_err_set(err, PPML_E_INPUT,
					    "Manifest option `sgx.cpu_features.%s` has a disallowed value "
					    "(\"%s\"; allowed: %s)",
					    ppml_cpu_feature_names[f], v,
					    f <= PPML_CPU_AMX ? "\"required\", \"disabled\", \"unspecified\""
							      : "\"required\", \"disabled\"");
	}
	return PPML_OK;
}
