/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trusted-file hashing (src/lib/gramine/hash.c): large files take the
 * pipelined path (a reader thread) when CPUs are idle and the plain path
 * otherwise; both must give OpenSSL's one-shot digest, in list order.
 */
#include <stdint.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "harness.h"
#include "ppml/hex.h"
#include "ppml/manifest.h"

#define BIG (20u << 20) /* above the pipelining threshold, not a multiple of any slice */

static char dir[64];

static int make_file(const char *path, size_t size, uint8_t seed, char hex[65])
{
	uint8_t chunk[65536], md[32];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = fopen(path, "wb");
	int ok = f && ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t off = 0; ok && off < size;) {
		size_t n = size - off < sizeof(chunk) ? size - off : sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = (uint8_t)((off + i) * 131u + seed + ((off + i) >> 13));
		ok = fwrite(chunk, 1, n, f) == n && EVP_DigestUpdate(ctx, chunk, n);
		off += n;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen);
	if (ok)
		ppml_hex_encode(md, sizeof(md), hex);
	if (f && fclose(f) != 0)
		ok = 0;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static ppml_status run(const char *const *uris, size_t n, unsigned threads,
		       struct ppml_manifest_result **r, struct ppml_err *err)
{
	struct ppml_toml_value *root = ppml_toml_new_table(), *sgx = ppml_toml_new_table(),
			       *arr = ppml_toml_new_array(), *loader = ppml_toml_new_table(),
			       *ep = ppml_toml_new_table();
	struct ppml_manifest_opts o = {.threads = threads};
	ppml_status st = PPML_E_NOMEM;
	if (!root || !sgx || !arr || !loader || !ep)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (ppml_toml_push(arr, ppml_toml_new_string(uris[i], strlen(uris[i]))) != PPML_OK)
			goto out;
	if (ppml_toml_append(ep, "uri", ppml_toml_new_string("file:x", 6)) != PPML_OK ||
	    ppml_toml_append(ep, "sha256", ppml_toml_new_string("00", 2)) != PPML_OK)
		goto out;
	if (ppml_toml_append(loader, "entrypoint", ep) != PPML_OK) {
		ep = NULL;
		goto out;
	}
	ep = NULL;
	if (ppml_toml_append(sgx, "trusted_files", arr) != PPML_OK) {
		arr = NULL;
		goto out;
	}
	arr = NULL;
	if (ppml_toml_append(root, "sgx", sgx) != PPML_OK) {
		sgx = NULL;
		goto out;
	}
	sgx = NULL;
	if (ppml_toml_append(root, "loader", loader) != PPML_OK) {
		loader = NULL;
		goto out;
	}
	loader = NULL;
	st = ppml_manifest_normalize(root, &o, r, err);
out:
	ppml_toml_free(root);
	ppml_toml_free(sgx);
	ppml_toml_free(arr);
	ppml_toml_free(loader);
	ppml_toml_free(ep);
	return st;
}

TEST(large_files_hash_like_openssl)
{
	char want[3][65], p[3][128], u[3][140];
	const char *uris[3];
	static const unsigned threads[] = {0, 1, 2, 3};
	snprintf(dir, sizeof(dir), "/tmp/ppml-hash-XXXXXX");
	REQUIRE(mkdtemp(dir));
	for (int i = 0; i < 3; i++) {
		snprintf(p[i], sizeof(p[i]), "%s/f%d.bin", dir, i);
		snprintf(u[i], sizeof(u[i]), "file:%s", p[i]);
		uris[i] = u[i];
		REQUIRE(make_file(p[i], BIG + (size_t)i * 4099u, (uint8_t)(7 * i + 1), want[i]));
	}
	/* one file alone (the pipelined path when a second CPU is allowed), then
	 * three files on various worker counts */
	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		for (size_t n = 1; n <= 3; n += 2) {
			struct ppml_manifest_result *r = NULL;
			struct ppml_err err = {0};
			CHECKF(run(uris, n, threads[t], &r, &err) == PPML_OK, "%s", err.msg);
			CHECK(r && r->n_files == n);
			for (size_t i = 0; r && i < r->n_files && i < n; i++) {
				CHECKF(strcmp(r->files[i].sha256, want[i]) == 0, "threads=%u file %zu",
				       threads[t], i);
				CHECK(r->files[i].size == BIG + i * 4099u);
			}
			ppml_manifest_result_free(r);
		}
	}
	for (int i = 0; i < 3; i++)
		unlink(p[i]);
	rmdir(dir);
}

TEST(unreadable_large_file_reports_io)
{
	struct ppml_manifest_result *r = NULL;
	struct ppml_err err = {0};
	const char *uris[1] = {"file:/proc/self/mem"};
	/* reading /proc/self/mem from offset 0 fails with EIO: the error names the file */
	CHECK(run(uris, 1, 0, &r, &err) == PPML_E_IO);
	CHECKF(strstr(err.msg, "/proc/self/mem") != NULL, "%s", err.msg);
	CHECK(r == NULL);
}

int main(void)
{
	RUN(large_files_hash_like_openssl);
	RUN(unreadable_large_file_reports_io);
	HARNESS_EXIT();
}
