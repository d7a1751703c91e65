/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MRENCLAVE measurement speed against the SHA-256 floor: OpenSSL SHA-256 over
 * the same number of bytes, measured in the same run.  Self-contained (a
 * synthetic manifest and PAL), so it needs no reference vectors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/measure.h"
#include "ppml/sgx.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void w16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void w32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void w64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A PIE-like PAL: 1 MiB file, one R-X and one RW PT_LOAD. */
static uint8_t *make_pal(size_t *len)
{
	size_t n = 1u << 20;
	uint8_t *b = calloc(1, n);
	if (!b)
		return NULL;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 131u);
	memset(b, 0, 64 + 2 * 56);
	memcpy(b, "\x7f" "ELF", 4);
	b[4] = 2;
	b[5] = 1;
	b[6] = 1;
	w16(b + 16, 3);
	w16(b + 18, 62);
	w32(b + 20, 1);
	w64(b + 24, 0x1000);
	w64(b + 32, 64);
	w16(b + 52, 64);
	w16(b + 54, 56);
	w16(b + 56, 2);
	for (int i = 0; i < 2; i++) {
		uint8_t *ph = b + 64 + 56 * i;
		w32(ph, 1);
		w32(ph + 4, i ? 6 : 5);
		w64(ph + 8, i ? 0xc0000 : 0);
		w64(ph + 16, i ? 0xc0000 : 0);
		w64(ph + 32, i ? 0x40000 : 0xc0000);
		w64(ph + 40, i ? 0x80000 : 0xc0000);
	}
	*len = n;
	return b;
}

static uint64_t stream_bytes(const struct ppml_sgx_layout *l)
{
	uint64_t total = PPML_SGX_RECORD_SIZE;
	for (size_t i = 0; i < l->n_areas; i++) {
		uint64_t pages = l->areas[i].size / PPML_SGX_PAGE_SIZE;
		total += pages * (l->areas[i].measured ? PPML_SGX_MEASURED_PAGE_BYTES : PPML_SGX_RECORD_SIZE);
	}
	return total;
}

static double sha_floor(uint64_t bytes)
{
	const size_t chunk = 1u << 20;
	uint8_t *buf = calloc(1, chunk), md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	double t0, t;
	unsigned int mdlen;
	if (!buf || !ctx)
		exit(3);
	t0 = now();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while (bytes > 0) {
		size_t n = bytes < chunk ? (size_t)bytes : chunk;
		EVP_DigestUpdate(ctx, buf, n);
		bytes -= n;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	t = now() - t0;
	EVP_MD_CTX_free(ctx);
	free(buf);
	return t;
}

static int bench(const char *label, const char *size_str, uint32_t threads, int edmm,
		 const uint8_t *pal, size_t pal_len, int reps)
{
	char manifest[256];
	uint64_t size = 0;
	struct ppml_measure_input in = {0};
	struct ppml_sgx_layout l;
	struct ppml_err err = {0};
	uint8_t mr[32];
	double best = 1e30, floor_best = 1e30;
	uint64_t bytes;

	/* A generated manifest.sgx-like text carrying the benched parameters. */
	snprintf(manifest, sizeof(manifest),
		 "[libos]\nentrypoint = \"/usr/bin/python3\"\n\n[sgx]\ndebug = false\n"
		 "enclave_size = \"%s\"\nmax_threads = %u\nedmm_enable = %s\n",
		 size_str, threads, edmm ? "true" : "false");
	if (ppml_sgx_parse_size(size_str, "enclave_size", &size, &err) != PPML_OK) {
		fprintf(stderr, "bench: %s\n", err.msg);
		return 1;
	}
	in.manifest = (const uint8_t *)manifest;
	in.manifest_len = strlen(manifest);
	in.pal = pal;
	in.pal_len = pal_len;
	in.enclave_size = size;
	in.max_threads = threads;
	in.edmm_enable = edmm;
	if (ppml_measure_layout(&in, &l, &err) != PPML_OK) {
		fprintf(stderr, "bench: %s\n", err.msg);
		return 1;
	}
	bytes = stream_bytes(&l);
	ppml_measure_layout_cleanup(&l);
	for (int r = 0; r < reps; r++) {
		double t0 = now(), t, f;
		if (ppml_measure_mrenclave(&in, mr, NULL, &err) != PPML_OK) {
			fprintf(stderr, "bench: %s\n", err.msg);
			return 1;
		}
		t = now() - t0;
		f = sha_floor(bytes);
		if (t < best)
			best = t;
		if (f < floor_best)
			floor_best = f;
	}
	printf("%-26s %8.1f MiB hashed  measure %7.3f s  sha256-floor %7.3f s  ratio %.3f  (%.0f MiB/s)\n",
	       label, (double)bytes / (1 << 20), best, floor_best, best / floor_best,
	       (double)bytes / (1 << 20) / best);
	return 0;
}

static uint8_t *slurp(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	uint8_t *d = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (ppml_file_read(path, 64u << 20, &d, len, NULL) != PPML_OK)
		return NULL;
	return d;
}

/* Measures the v05 vector itself (64G, 64 threads) and checks its MRENCLAVE,
 * so the timed code is known to be the correct one.  Returns 0 if it matched. */
static int check_v05(const char *dir, const uint8_t *pal, size_t pal_len)
{
	size_t mlen = 0, elen = 0;
	uint8_t *manifest = slurp(dir, "app.manifest.sgx", &mlen), mr[32];
	char *expected = (char *)slurp(dir, "expected.json", &elen), hex[65];
	struct ppml_measure_input in = {0};
	struct ppml_err err = {0};
	double t0;
	int rc = 1;
	if (!manifest || !expected)
		goto out;
	in.manifest = manifest;
	in.manifest_len = mlen;
	in.pal = pal;
	in.pal_len = pal_len;
	in.enclave_size = 64ull << 30;
	in.max_threads = 64;
	t0 = now();
	if (ppml_measure_mrenclave(&in, mr, NULL, &err) != PPML_OK) {
		fprintf(stderr, "bench: v05: %s\n", err.msg);
		goto out;
	}
	ppml_hex_encode(mr, 32, hex);
	rc = strstr(expected, hex) ? 0 : 1;
	printf("v05_64G_t64 vector: MRENCLAVE %s %s (%.3f s)\n", hex,
	       rc ? "DIFFERS from expected.json" : "matches expected.json", now() - t0);
out:
	free(manifest);
	free(expected);
	return rc;
}

int main(int argc, char **argv)
{
	size_t pal_len = 0;
	const char *v05 = argc > 2 ? argv[2] : NULL;
	uint8_t *pal = v05 ? slurp(v05, "libpal.so", &pal_len) : NULL;
	int reps = argc > 1 ? atoi(argv[1]) : 2, rc = 0;
	if (pal) {
		printf("PAL: %s/libpal.so (%zu bytes) + generated manifests\n", v05, pal_len);
		rc |= check_v05(v05, pal, pal_len);
	} else {
		printf("note: ../shared/vectors not found; using a synthetic 1 MiB PAL + generated manifests\n");
		pal = make_pal(&pal_len);
	}
	if (!pal)
		return 3;
	printf("MRENCLAVE measurement vs OpenSSL SHA-256 over the same byte count (best of %d)\n", reps);
	rc |= bench("64G, 64 threads", "64G", 64, 0, pal, pal_len, reps);
	rc |= bench("256G, 64 threads", "256G", 64, 0, pal, pal_len, reps);
	rc |= bench("1024G EDMM, 64 threads", "1024G", 64, 1, pal, pal_len, reps);
	free(pal);
	return rc;
}
