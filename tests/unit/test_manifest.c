/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of src/lib/gramine on trees built with the constructors. */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#pragma GCC diagnostic ignored "-Wformat-truncation"
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


static char tmpdir[256];
static char oldcwd[4096];

static void wfile(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(content, f);
		fclose(f);
	}
}

/* A scratch tree, made the CWD (file: URIs are relative to it). */
static int enter_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ppml-manifest-XXXXXX");
	if (!getcwd(oldcwd, sizeof(oldcwd)) || !mkdtemp(tmpdir) || chdir(tmpdir) != 0)
		return 0;
	return 1;
}

static void leave_tmp(void)
{
	char cmd[512];
	if (chdir(oldcwd) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return;
}

/* { sgx = { trusted_files = [...] }, loader.entrypoint = {uri, sha256} } */
static struct ppml_toml_value *mk(const char *const *items, size_t n)
{
	struct ppml_toml_value *root = ppml_toml_new_table(), *sgx = ppml_toml_new_table(),
			       *arr = ppml_toml_new_array(), *loader = ppml_toml_new_table(),
			       *ep = ppml_toml_new_table();
	if (!root || !sgx || !arr || !loader || !ep)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const char *s = items[i];
		const char *bar = strchr(s, '|');
		struct ppml_toml_value *v;
		if (bar) { /* "uri|sha" -> table */
			v = ppml_toml_new_table();
			if (!v || ppml_toml_append(v, "uri", ppml_toml_new_string(s, (size_t)(bar - s))) ||
			    ppml_toml_append(v, "sha256", ppml_toml_new_string(bar + 1, strlen(bar + 1)))) {
				ppml_toml_free(v);
				goto fail;
			}
		} else {
			v = ppml_toml_new_string(s, strlen(s));
		}
		if (ppml_toml_push(arr, v) != PPML_OK)
			goto fail2;
	}
	if (ppml_toml_append(sgx, "trusted_files", arr) != PPML_OK) {
		arr = NULL;
		goto fail2;
	}
	arr = NULL;
	if (ppml_toml_append(root, "sgx", sgx) != PPML_OK) {
		sgx = NULL;
		goto fail2;
	}
	sgx = NULL;
	if (ppml_toml_append(ep, "uri", ppml_toml_new_string("file:x", 6)) ||
	    ppml_toml_append(ep, "sha256", ppml_toml_new_string("ab", 2)) ||
	    ppml_toml_append(loader, "entrypoint", ep)) {
		ep = NULL;
		goto fail2;
	}
	ep = NULL;
	if (ppml_toml_append(root, "loader", loader) != PPML_OK) {
		loader = NULL;
		goto fail2;
	}
	return root;
fail:
fail2:
	ppml_toml_free(root);
	ppml_toml_free(sgx);
	ppml_toml_free(arr);
	ppml_toml_free(loader);
	ppml_toml_free(ep);
	return NULL;
}

static ppml_status run(struct ppml_toml_value *root, const char *chroot,
		       struct ppml_manifest_result **r, struct ppml_err *err)
{
	struct ppml_manifest_opts o = {.pkglibdir = "/opt/g", .chroot = chroot};
	return ppml_manifest_normalize(root, &o, r, err);
}

#define SHA_A "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb" /* "a" */
#define SHA_B "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d" /* "b" */

TEST(dir_expansion_sort_symlinks)
{
	static const char *const items[] = {"file:./d//"};
	struct ppml_toml_value *root = NULL;
	struct ppml_manifest_result *r = NULL;
	struct ppml_err err = {0};
	static const char *const want[] = {"file:d/B.txt", "file:d/_u.txt", "file:d/a.txt",
					   "file:d/link-to-file", "file:d/sub/deeper/x",
					   "file:d/sub/y", "file:d/z.txt"};
	if (!enter_tmp())
		SKIP_TEST("no scratch directory");
	CHECK(mkdir("d", 0755) == 0 && mkdir("d/sub", 0755) == 0 && mkdir("d/sub/deeper", 0755) == 0 &&
	      mkdir("other", 0755) == 0);
	wfile("d/a.txt", "a");
	wfile("d/B.txt", "b");
	wfile("d/_u.txt", "a");
	wfile("d/z.txt", "b");
	wfile("d/sub/y", "a");
	wfile("d/sub/deeper/x", "b");
	wfile("other/f", "a");
	CHECK(symlink("../other", "d/linked_dir") == 0);
	CHECK(symlink("../other/f", "d/link-to-file") == 0);
	CHECK(symlink("nowhere", "d/broken") == 0);
	CHECK(mkfifo("d/fifo", 0644) == 0);
	root = mk(items, 1);
	REQUIRE(root);
	if (run(root, NULL, &r, &err) != PPML_OK) {
		CHECKF(0, "normalize: %s", err.msg);
		goto out;
	}
	CHECKF(r->n_files == 7, "n_files %zu", r->n_files);
	for (size_t i = 0; i < r->n_files && i < 7; i++)
		CHECK_STREQ(r->files[i].uri, want[i]);
	if (r->n_files >= 4) {
		CHECK_STREQ(r->files[0].sha256, SHA_B);
		CHECK_STREQ(r->files[2].sha256, SHA_A);
		CHECK_STREQ(r->files[3].sha256, SHA_A);
		CHECK(r->files[3].hashed);
	}
	CHECK(r->n_deps == 7);
	/* written back as [{uri, sha256}] */
	{
		const struct ppml_toml_value *tf = ppml_toml_get(ppml_toml_get(root, "sgx"), "trusted_files");
		CHECK(tf && tf->type == PPML_TOML_ARRAY && tf->u.a.len == 7);
		if (tf && tf->u.a.len == 7) {
			CHECK_STREQ(str_of(ppml_toml_get(tf->u.a.items[1], "uri")), "file:d/_u.txt");
			CHECK_STREQ(str_of(ppml_toml_get(tf->u.a.items[1], "sha256")), SHA_A);
		}
	}
out:
	ppml_manifest_result_free(r);
	ppml_toml_free(root);
	leave_tmp();
}

TEST(dedup_rules)
{
	/* v21: a later explicit hash replaces an unhashed entry in its first position;
	 * a later unhashed duplicate of a hashed entry is dropped */
	static const char *const items[] = {
		"file:two", "file:one",
		"file:two|2222222222222222222222222222222222222222222222222222222222222222",
		"file:one", "file:./one", "file:two|2222222222222222222222222222222222222222222222222222222222222222"};
	static const char *const bad[] = {"file:one|aa", "file:one|bb"};
	struct ppml_toml_value *root = NULL;
	struct ppml_manifest_result *r = NULL;
	struct ppml_err err = {0};
	if (!enter_tmp())
		SKIP_TEST("no scratch directory");
	wfile("one", "a");
	wfile("two", "b");
	root = mk(items, 6);
	REQUIRE(root);
	if (run(root, NULL, &r, &err) != PPML_OK) {
		CHECKF(0, "normalize: %s", err.msg);
		goto out;
	}
	CHECK(r->n_files == 3);
	if (r->n_files == 3) {
		CHECK_STREQ(r->files[0].uri, "file:two");
		CHECK_STREQ(r->files[0].sha256, "2222222222222222222222222222222222222222222222222222222222222222");
		CHECK(!r->files[0].hashed);
		CHECK_STREQ(r->files[1].uri, "file:one");
		CHECK_STREQ(r->files[1].sha256, SHA_A);
		CHECK_STREQ(r->files[2].uri, "file:./one"); /* exact string, not normalised */
	}
	ppml_toml_free(root);
	root = mk(bad, 2);
	REQUIRE(root);
	CHECK(run(root, NULL, NULL, &err) == PPML_E_INPUT);
	CHECK_STREQ(err.msg, "Two different sha256 values (aa and bb) for the same URI 'file:one'");
out:
	ppml_manifest_result_free(r);
	ppml_toml_free(root);
	leave_tmp();
}

static void expect_error(const char *const *items, size_t n, ppml_status code, const char *prefix)
{
	struct ppml_toml_value *root = mk(items, n);
	struct ppml_err err = {0};
	ppml_status st;
	if (!root) {
		HARNESS_FAIL_AT("mk failed");
		return;
	}
	st = run(root, NULL, NULL, &err);
	CHECKF(st == code, "status %d, expected %d (%s)", st, code, err.msg);
	CHECKF(strncmp(err.msg, prefix, strlen(prefix)) == 0, "message \"%s\", expected \"%s...\"",
	       err.msg, prefix);
	ppml_toml_free(root);
}

TEST(gramine_error_texts)
{
	static const char *const e1[] = {"file:d"};
	static const char *const e2[] = {"file:d/|aa"};
	static const char *const e3[] = {"http://x"};
	static const char *const e4[] = {"file:nope.bin"};
	static const char *const e5[] = {"file:f/"};
	if (!enter_tmp())
		SKIP_TEST("no scratch directory");
	CHECK(mkdir("d", 0755) == 0);
	wfile("f", "x");
	expect_error(e1, 1, PPML_E_INPUT, "Directory URI ('file:d') does not end with \"/\"");
	expect_error(e2, 1, PPML_E_INPUT, "Directory URI ('file:d/') has sha256 specified");
	expect_error(e3, 1, PPML_E_INPUT, "Unsupported URI type: http://x");
	expect_error(e4, 1, PPML_E_NOTFOUND, "Missing trusted file: 'nope.bin'");
	expect_error(e5, 1, PPML_E_INPUT, "URI 'file:f/' ends with \"/\" but is not a directory");
	leave_tmp();
}

TEST(trusted_file_formats)
{
	struct ppml_toml_value *root = mk(NULL, 0), *tf, *t;
	struct ppml_err err = {0};
	REQUIRE(root);
	tf = ppml_toml_get(ppml_toml_get(root, "sgx"), "trusted_files");
	REQUIRE(ppml_toml_push(tf, ppml_toml_new_integer(5)) == PPML_OK);
	CHECK(run(root, NULL, NULL, &err) == PPML_E_INPUT);
	CHECK(strncmp(err.msg, "Unknown trusted file format: 5", 30) == 0);
	ppml_toml_free(root);

	root = mk(NULL, 0);
	REQUIRE(root);
	tf = ppml_toml_get(ppml_toml_get(root, "sgx"), "trusted_files");
	t = ppml_toml_new_table();
	REQUIRE(t);
	REQUIRE(ppml_toml_append(t, "uri", ppml_toml_new_string("file:a", 6)) == PPML_OK);
	REQUIRE(ppml_toml_append(t, "mode", ppml_toml_new_string("ro", 2)) == PPML_OK);
	REQUIRE(ppml_toml_push(tf, t) == PPML_OK);
	CHECK(run(root, NULL, NULL, &err) == PPML_E_INPUT);
	CHECKF(strncmp(err.msg, "Leftover trusted file items: {'mode': 'ro'}", 43) == 0, "%s", err.msg);
	ppml_toml_free(root);

	root = mk(NULL, 0);
	REQUIRE(root);
	REQUIRE(ppml_toml_set(ppml_toml_get(root, "sgx"), "trusted_files",
			      ppml_toml_new_string("x", 1)) == PPML_OK);
	CHECK(run(root, NULL, NULL, &err) == PPML_E_INPUT);
	CHECK(strncmp(err.msg, "Unsupported trusted files syntax", 32) == 0);
	ppml_toml_free(root);

	/* loader.entrypoint as a string (v1.9 refuses it) */
	root = ppml_toml_new_table();
	REQUIRE(root);
	t = ppml_toml_new_table();
	REQUIRE(t);
	REQUIRE(ppml_toml_append(t, "entrypoint", ppml_toml_new_string("file:x", 6)) == PPML_OK);
	REQUIRE(ppml_toml_append(root, "loader", t) == PPML_OK);
	CHECK(run(root, NULL, NULL, &err) == PPML_E_INPUT);
	CHECK(strncmp(err.msg, "Unknown loader.entrypoint format (not a TOML table)", 51) == 0);
	ppml_toml_free(root);
}

TEST(edmm_default_size)
{
	struct ppml_toml_value *root = ppml_toml_new_table(), *sgx = ppml_toml_new_table();
	struct ppml_err err = {0};
	struct ppml_manifest_opts o = {.flags = PPML_MANIFEST_DEFAULTS_ONLY};
	struct ppml_manifest_attrs a;
	REQUIRE(root && sgx);
	REQUIRE(ppml_toml_append(sgx, "edmm_enable", ppml_toml_new_integer(1)) == PPML_OK);
	REQUIRE(ppml_toml_append(root, "sgx", sgx) == PPML_OK);
	REQUIRE(ppml_manifest_normalize(root, &o, NULL, &err) == PPML_OK);
	CHECK_STREQ(str_of(ppml_toml_get(sgx, "enclave_size")), "1024G");
	/* edmm_enable stays where it was, enclave_size comes after the defaults before it */
	CHECK_STREQ(sgx->u.t.items[0].key, "edmm_enable");
	CHECK_STREQ(sgx->u.t.items[8].key, "enclave_size");
	CHECK_STREQ(str_of(ppml_toml_get(ppml_toml_get(ppml_toml_get(root, "loader"), "entrypoint"), "uri")),
		    "file:/usr/lib/x86_64-linux-gnu/gramine/libsysdb.so");
	REQUIRE(ppml_manifest_attrs_get(root, PPML_GRAMINE_1_9, &a, &err) == PPML_OK);
	CHECK(a.edmm_enable);
	CHECK(a.enclave_size == 1024ull << 30);
	CHECK(!a.debug && !a.use_exinfo && a.max_threads == 4);
	CHECK(ppml_manifest_check_cpu_features(&a, &err) == PPML_OK);
	snprintf(a.cpu_features[PPML_CPU_MPX], sizeof(a.cpu_features[0]), "unspecified");
	CHECK(ppml_manifest_check_cpu_features(&a, &err) == PPML_E_INPUT);
	CHECK(strncmp(err.msg, "Manifest option `sgx.cpu_features.mpx` has a disallowed value", 61) == 0);
	ppml_toml_free(root);
}

TEST(attrs_integers_and_bools)
{
	struct ppml_toml_value *root = ppml_toml_new_table(), *sgx = ppml_toml_new_table();
	struct ppml_err err = {0};
	struct ppml_manifest_opts o = {.flags = PPML_MANIFEST_DEFAULTS_ONLY};
	struct ppml_manifest_attrs a;
	REQUIRE(root && sgx);
	REQUIRE(ppml_toml_append(sgx, "debug", ppml_toml_new_integer(1)) == PPML_OK);
	REQUIRE(ppml_toml_append(sgx, "use_exinfo", ppml_toml_new_bool(true)) == PPML_OK);
	REQUIRE(ppml_toml_append(sgx, "isvsvn", ppml_toml_new_integer(65536)) == PPML_OK);
	REQUIRE(ppml_toml_append(sgx, "insecure__rpc_thread_num", ppml_toml_new_integer(2)) == PPML_OK);
	REQUIRE(ppml_toml_append(root, "sgx", sgx) == PPML_OK);
	REQUIRE(ppml_manifest_normalize(root, &o, NULL, &err) == PPML_OK);
	CHECK(ppml_manifest_attrs_get(root, PPML_GRAMINE_1_9, &a, &err) == PPML_E_INPUT);
	CHECK(strstr(err.msg, "sgx.isvsvn") != NULL);
	REQUIRE(ppml_toml_set(sgx, "isvsvn", ppml_toml_new_integer(65535)) == PPML_OK);
	REQUIRE(ppml_manifest_attrs_get(root, PPML_GRAMINE_1_9, &a, &err) == PPML_OK);
	CHECK(!a.debug); /* the integer 1 does not count (spec 8) */
	CHECK(a.use_exinfo);
	CHECK(a.isvsvn == 65535);
	CHECK(a.n_insecure == 1);
	CHECK_STREQ(a.first_insecure, "sgx.insecure__rpc_thread_num");
	ppml_toml_free(root);
}

TEST(chroot_lookup)
{
	static const char *const items[] = {"file:/app/", "file:/lib/l.so"};
	struct ppml_toml_value *root = NULL;
	struct ppml_manifest_result *r = NULL;
	struct ppml_err err = {0};
	if (!enter_tmp())
		SKIP_TEST("no scratch directory");
	CHECK(mkdir("root", 0755) == 0 && mkdir("root/app", 0755) == 0 && mkdir("root/opt", 0755) == 0 &&
	      mkdir("root/lib", 0755) == 0);
	wfile("root/app/main.py", "a");
	wfile("root/opt/real.so", "b");
	/* an absolute link resolves inside the chroot, not on the host */
	CHECK(symlink("/opt/real.so", "root/lib/l.so") == 0);
	/* inside a listed directory, Gramine's is_file() follows links on the host:
	 * an absolute link is skipped there, a relative one is kept */
	CHECK(symlink("/opt/real.so", "root/app/abs.so") == 0);
	CHECK(symlink("../opt/real.so", "root/app/link.so") == 0);
	root = mk(items, 2);
	REQUIRE(root);
	if (run(root, "root", &r, &err) != PPML_OK) {
		CHECKF(0, "normalize: %s", err.msg);
		goto out;
	}
	CHECK(r->n_files == 3);
	if (r->n_files == 3) {
		CHECK_STREQ(r->files[0].uri, "file:/app/link.so");
		CHECK_STREQ(r->files[0].path, "root/opt/real.so");
		CHECK_STREQ(r->files[0].sha256, SHA_B);
		CHECK_STREQ(r->files[1].uri, "file:/app/main.py");
		CHECK_STREQ(r->files[1].path, "root/app/main.py");
		CHECK_STREQ(r->files[2].uri, "file:/lib/l.so");
		CHECK_STREQ(r->files[2].sha256, SHA_B);
	}
	ppml_toml_free(root);
	{
		static const char *const rel[] = {"file:app/main.py"};
		root = mk(rel, 1);
		REQUIRE(root);
		CHECK(run(root, "root", NULL, &err) == PPML_E_INPUT);
		CHECKF(strncmp(err.msg, "only absolute paths can be measured in chroot", 45) == 0, "%s", err.msg);
	}
out:
	ppml_manifest_result_free(r);
	ppml_toml_free(root);
	leave_tmp();
}

static size_t progress_calls;
static void on_progress(void *ctx, size_t index, const char *path, size_t done, size_t total,
			uint64_t bd, uint64_t bt)
{
	(void)ctx; (void)index; (void)path; (void)bd; (void)bt;
	if (done <= total)
		progress_calls++;
}

TEST(parallel_hash_order)
{
	enum { N = 40 };
	const char *items[N];
	char names[N][16];
	struct ppml_toml_value *root = NULL;
	struct ppml_manifest_result *r = NULL;
	struct ppml_err err = {0};
	struct ppml_manifest_opts o = {.threads = 4, .progress = on_progress};
	if (!enter_tmp())
		SKIP_TEST("no scratch directory");
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "file:f%02d", i);
		wfile(names[i] + 5, i % 2 ? "a" : "b");
		items[i] = names[i];
	}
	root = mk(items, N);
	REQUIRE(root);
	progress_calls = 0;
	if (ppml_manifest_normalize(root, &o, &r, &err) != PPML_OK) {
		CHECKF(0, "normalize: %s", err.msg);
		goto out;
	}
	CHECK(r->n_files == N && progress_calls == N);
	for (size_t i = 0; i < r->n_files; i++)
		CHECK_STREQ(r->files[i].sha256, i % 2 ? SHA_A : SHA_B);
	/* the first missing file in list order is the one reported */
	ppml_toml_free(root);
	items[7] = "file:missing-7";
	items[30] = "file:missing-30";
	root = mk(items, N);
	REQUIRE(root);
	CHECK(ppml_manifest_normalize(root, &o, NULL, &err) == PPML_E_NOTFOUND);
	CHECK(strncmp(err.msg, "Missing trusted file: 'missing-7'", 33) == 0);
out:
	ppml_manifest_result_free(r);
	ppml_toml_free(root);
	leave_tmp();
}

TEST(schema_check_tree)
{
	struct ppml_toml_value *root = mk(NULL, 0), *t;
	struct ppml_manifest_violations v = {0};
	struct ppml_err err = {0};
	struct ppml_manifest_opts o = {.flags = PPML_MANIFEST_DEFAULTS_ONLY};
	REQUIRE(root);
	REQUIRE(ppml_toml_append(ppml_toml_get(root, "sgx"), "require_avx", ppml_toml_new_bool(true)) == PPML_OK);
	REQUIRE(ppml_toml_set(ppml_toml_get(root, "sgx"), "debug", ppml_toml_new_integer(1)) == PPML_OK);
	t = ppml_toml_new_table();
	REQUIRE(t);
	REQUIRE(ppml_toml_append(t, "entrypoint", ppml_toml_new_string("/bin/sh", 7)) == PPML_OK);
	REQUIRE(ppml_toml_append(root, "libos", t) == PPML_OK);
	REQUIRE(ppml_manifest_normalize(root, &o, NULL, &err) == PPML_OK);
	CHECK(ppml_manifest_schema_check(root, &v, &err) == PPML_E_REFUSED);
	CHECK(v.len == 3);
	if (v.len == 3) {
		CHECK_STREQ(v.msgs[0], "extra keys not allowed @ data['sgx']['require_avx']");
		CHECK_STREQ(v.msgs[1], "expected bool for dictionary value @ data['sgx']['debug']");
		CHECK_STREQ(v.msgs[2], "required key not provided @ data['fs']");
	}
	CHECK_STREQ(err.msg, "manifest failed validation: extra keys not allowed @ data['sgx']['require_avx'] (and more violations)");
	ppml_manifest_violations_free(&v);
	ppml_toml_free(root);
}

int main(void)
{
	RUN(defaults_order_on_empty_manifest);
	RUN(dir_expansion_sort_symlinks);
	RUN(dedup_rules);
	RUN(gramine_error_texts);
	RUN(trusted_file_formats);
	RUN(edmm_default_size);
	RUN(attrs_integers_and_bools);
	RUN(chroot_lookup);
	RUN(parallel_hash_order);
	RUN(schema_check_tree);
	HARNESS_EXIT();
}
