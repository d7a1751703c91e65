/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gramine v1.9 golden vectors through the manifest layer: app.manifest is
 * normalised in a temporary copy of its vector folder (file: URIs are
 * relative to it) and serialised with the tomli-w writer; the bytes must be
 * app.manifest.sgx.  Failing vectors must fail with Gramine's message.
 *
 * The shared copy of v11 stores its two symlinks as small text files holding
 * the link target; the copy turns them back into symlinks.  v12's 200 MiB
 * file is generated per GENERATE.txt in the copy.
 */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#pragma GCC diagnostic ignored "-Wformat-truncation"
#pragma GCC diagnostic ignored "-Wunused-variable"
#include "harness.h"
#include "ppml/file.h"
#include "ppml/manifest.h"

static int n_identical;

static void report(const char *name, int ok, int skip, const char *msg)
{
	if (skip)
		printf("SKIP %s: %s\n", name, msg);
	else if (ok)
		printf("PASS %s\n", name);
	else {
		printf("FAIL %s: %s\n", name, msg);
		harness_failures++;
	}
	fflush(stdout);
}

static int sh(const char *fmt, ...) PPML_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Gramine's message without the Python exception class. */
static const char *gramine_text(const char *e, char *buf, size_t n)
{
	static const char *const prefixes[] = {"graminelibos.manifest.ManifestError: ", "Error: ",
					       "ERROR: manifest failed validation: ", "KeyError: '"};
	for (size_t i = 0; i < 4; i++) {
		size_t pl = strlen(prefixes[i]);
		if (strncmp(e, prefixes[i], pl) == 0) {
			snprintf(buf, n, "%s", e + pl);
			if (i == 3 && strlen(buf) && buf[strlen(buf) - 1] == '\'')
				buf[strlen(buf) - 1] = 0;
			return buf;
		}
	}
	snprintf(buf, n, "%s", e);
	return buf;
}

static int read_text(const char *path, uint8_t **d, size_t *l)
{
	struct ppml_err err = {0};
	return ppml_file_read(path, 16u << 20, d, l, &err) == PPML_OK;
}

static int parser_missing;

static void one_vector(const char *vdir, const char *name, const char *tmp)
{
	char path[2048], copy[2048], msg[1024] = "", want[1024], tname[256];
	json_t *exp = NULL;
	json_error_t jerr;
	uint8_t *in = NULL, *sgx = NULL;
	size_t inlen = 0, sgxlen = 0;
	struct ppml_buf out = {0}, out2 = {0};
	struct ppml_err err = {0};
	struct ppml_manifest_result *r = NULL;
	struct ppml_manifest_opts o = {.pkglibdir = "/usr/lib/x86_64-linux-gnu/gramine"};
	const char *error = NULL;
	char cwd[2048];
	int ok = 0, skip = 0;
	ppml_status st;
	struct timespec t0, t1;

	snprintf(tname, sizeof(tname), "vector/%s", name);
	snprintf(path, sizeof(path), "%s/%s/expected.json", vdir, name);
	exp = json_load_file(path, 0, &jerr);
	if (!exp) {
		snprintf(msg, sizeof(msg), "cannot read %s", path);
		goto done;
	}
	error = json_string_value(json_object_get(exp, "error"));
	snprintf(copy, sizeof(copy), "%s/%s", tmp, name);
	if (sh("cp -a '%s/%s' '%s' && chmod -R u+w '%s'", vdir, name, copy, copy) != 0) {
		snprintf(msg, sizeof(msg), "copy failed");
		goto done;
	}
	if (strcmp(name, "v11_trusted_dir") == 0 &&
	    sh("cd '%s/files/model' && rm linked_dir link-to-config.json && ln -s ../other linked_dir && "
	       "ln -s ../other/config.json link-to-config.json", copy) != 0) {
		snprintf(msg, sizeof(msg), "cannot restore the v11 symlinks");
		goto done;
	}
	snprintf(path, sizeof(path), "%s/GENERATE.txt", copy);
	if (access(path, R_OK) == 0 &&
	    sh("cd '%s' && openssl enc -aes-128-ctr -K \"$(printf %%s large200 | sha256sum | cut -c1-32)\" "
	       "-iv 00000000000000000000000000000000 -nosalt -in /dev/zero 2>/dev/null | head -c 209715200 "
	       "> files/large-200M.bin", copy) != 0) {
		snprintf(msg, sizeof(msg), "cannot generate the large file");
		goto done;
	}
	if (!getcwd(cwd, sizeof(cwd)) || chdir(copy) != 0) {
		snprintf(msg, sizeof(msg), "chdir failed");
		goto done;
	}
	if (!read_text("app.manifest", &in, &inlen) && !read_text("app.manifest.template", &in, &inlen)) {
		snprintf(msg, sizeof(msg), "no input manifest");
		goto back;
	}

	if (strcmp(name, "e07_require_avx_schema") == 0) {
		struct ppml_manifest_violations v = {0};
		st = ppml_manifest_normalize_text((const char *)in, inlen, &o, &out, NULL, &err);
		if (st == PPML_E_INTERNAL) {
			skip = 1, parser_missing = 1;
			snprintf(msg, sizeof(msg), "%s", err.msg);
			goto back;
		}
		if (st != PPML_OK) {
			snprintf(msg, sizeof(msg), "normalisation alone must accept it: %s", err.msg);
			goto back;
		}
		st = ppml_manifest_check_text((const char *)in, inlen, &v, &err);
		gramine_text(error, want, sizeof(want));
		ok = st == PPML_E_REFUSED && v.len >= 1 && strcmp(v.msgs[0], want) == 0;
		snprintf(msg, sizeof(msg), "got \"%s\", expected \"%s\"", v.len ? v.msgs[0] : err.msg, want);
		ppml_manifest_violations_free(&v);
		goto back;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = ppml_manifest_normalize_text((const char *)in, inlen, &o, &out, &r, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (st == PPML_E_INTERNAL) {
		skip = 1, parser_missing = 1;
		snprintf(msg, sizeof(msg), "%s", err.msg);
		goto back;
	}
	if (error && strcmp(name, "e03_cpu_mpx_unspecified") == 0) {
		struct ppml_manifest_attrs a;
		if (st != PPML_OK) {
			snprintf(msg, sizeof(msg), "normalise: %s", err.msg);
			goto back;
		}
		st = ppml_manifest_attrs_from_text((const char *)out.data, out.len, PPML_GRAMINE_1_9, &a, &err);
		if (st == PPML_OK)
			st = ppml_manifest_check_cpu_features(&a, &err);
		gramine_text(error, want, sizeof(want));
		ok = st == PPML_E_INPUT && strncmp(err.msg, want, strlen(want)) == 0;
		snprintf(msg, sizeof(msg), "got \"%s\", expected \"%s\"", err.msg, want);
		goto back;
	}
	if (error && (strncmp(name, "e04", 3) == 0 || strncmp(name, "e05", 3) == 0 ||
		      strncmp(name, "e08", 3) == 0)) {
		gramine_text(error, want, sizeof(want));
		ok = st != PPML_OK && strncmp(err.msg, want, strlen(want)) == 0;
		snprintf(msg, sizeof(msg), "got \"%s\", expected \"%s...\"", st ? err.msg : "success", want);
		goto back;
	}
	if (st != PPML_OK) {
		snprintf(msg, sizeof(msg), "normalise: %s", err.msg);
		goto back;
	}
	if (!read_text("app.manifest.sgx", &sgx, &sgxlen)) {
		/* e01/e02/e06 fail later in the signer; nothing to compare */
		ok = 1;
		goto back;
	}
	if (out.len != sgxlen || memcmp(out.data, sgx, sgxlen) != 0) {
		snprintf(msg, sizeof(msg), "normalised app.manifest differs from app.manifest.sgx (%zu vs %zu bytes)",
			 out.len, sgxlen);
		goto back;
	}
	n_identical++;
	if (strncmp(name, "v12", 3) == 0) {
		double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		uint64_t bytes = 0;
		for (size_t i = 0; i < r->n_files; i++)
			bytes += r->files[i].size;
		printf("# v12: hashed %.1f MiB in %.3f s = %.0f MB/s\n", (double)bytes / 1048576.0, s,
		       (double)bytes / 1e6 / s);
	}
	/* normalising manifest.sgx again is the identity, and reads no file */
	ppml_manifest_result_free(r);
	r = NULL;
	st = ppml_manifest_normalize_text((const char *)sgx, sgxlen, &o, &out2, &r, &err);
	if (st != PPML_OK || out2.len != sgxlen || memcmp(out2.data, sgx, sgxlen) != 0 || r->n_deps != 0) {
		snprintf(msg, sizeof(msg), "re-normalising app.manifest.sgx is not the identity (%s)",
			 st ? err.msg : "bytes differ or files were read");
		goto back;
	}
	/* what gramine-manifest checked must pass our schema check too */
	if (json_is_true(json_object_get(json_object_get(exp, "inputs"), "gramine_manifest_schema_check"))) {
		struct ppml_manifest_violations v = {0};
		st = ppml_manifest_check_text((const char *)in, inlen, &v, &err);
		ppml_manifest_violations_free(&v);
		if (st != PPML_OK) {
			snprintf(msg, sizeof(msg), "schema check refused a manifest Gramine accepted: %s", err.msg);
			goto back;
		}
	}
	ok = 1;
back:
	if (chdir(cwd) != 0)
		ok = 0;
done:
	report(tname, ok, skip, msg);
	ppml_manifest_result_free(r);
	ppml_buf_free(&out);
	ppml_buf_free(&out2);
	free(in);
	free(sgx);
	json_decref(exp);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	const char *shared = harness_shared();
	char vdir[1024], tmp[] = "/tmp/ppml-mvec-XXXXXX";
	DIR *d;
	struct dirent *e;
	char *names[64];
	size_t n = 0;

	if (!shared) {
		report("vectors", harness_ci() ? 0 : 1, !harness_ci(), "../shared is absent");
		HARNESS_EXIT();
	}
	{
		/* until the toml-parse branch is merged the parser is a stub */
		struct ppml_toml_value *probe = NULL;
		struct ppml_err perr = {0};
		if (ppml_toml_parse("a = 1", 5, &probe, &perr) == PPML_E_INTERNAL) {
			report("vectors", 1, 1, perr.msg);
			HARNESS_EXIT();
		}
		ppml_toml_free(probe);
	}
	snprintf(vdir, sizeof(vdir), "%s/vectors/gramine-v1.9", shared);
	if (vdir[0] != '/') {
		char cwd[512], abs[1024];
		if (getcwd(cwd, sizeof(cwd))) {
			snprintf(abs, sizeof(abs), "%s/%s", cwd, vdir);
			snprintf(vdir, sizeof(vdir), "%s", abs);
		}
	}
	d = opendir(vdir);
	if (!d || !mkdtemp(tmp)) {
		report("vectors", 0, 0, "cannot list the vectors or make a scratch folder");
		if (d)
			closedir(d);
		HARNESS_EXIT();
	}
	while ((e = readdir(d)) && n < 64)
		if (e->d_name[0] != '.' && (names[n] = strdup(e->d_name)))
			n++;
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++) {
		one_vector(vdir, names[i], tmp);
		free(names[i]);
	}
	if (!parser_missing)
		printf("# %d vectors byte-identical to app.manifest.sgx\n", n_identical);
	sh("rm -rf '%s'", tmp);
	HARNESS_EXIT();
}
