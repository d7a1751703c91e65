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

static int bench(const char *label, uint64_t size, uint32_t threads, int edmm, const uint8_t *pal,
		 size_t pal_len, int reps)
{
	static const char manifest[] =
		"[libos]\nentrypoint = \"/usr/bin/python3\"\n\n[sgx]\ndebug = false\n"
		"enclave_size = \"64G\"\nmax_threads = 64\n";
	struct ppml_measure_input in = {0};
	struct ppml_sgx_layout l;
	struct ppml_err err = {0};
	uint8_t mr[32];
	double best = 1e30, floor_best = 1e30;
	uint64_t bytes;

	in.manifest = (const uint8_t *)manifest;
	in.manifest_len = sizeof(manifest) - 1;
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

int main(int argc, char **argv)
{
	size_t pal_len = 0;
	uint8_t *pal = make_pal(&pal_len);
	int reps = argc > 1 ? atoi(argv[1]) : 2, rc = 0;
	if (!pal)
		return 3;
	printf("MRENCLAVE measurement vs OpenSSL SHA-256 over the same byte count (best of %d)\n", reps);
	rc |= bench("64G, 64 threads", 64ull << 30, 64, 0, pal, pal_len, reps);
	rc |= bench("256G, 64 threads", 256ull << 30, 64, 0, pal, pal_len, reps);
	rc |= bench("1024G EDMM, 64 threads", 1024ull << 30, 64, 1, pal, pal_len, reps);
	free(pal);
	return rc;
}
