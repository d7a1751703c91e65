/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SHA-256 floor for `ppml sign`: OpenSSL SHA-256 over SERIAL bytes on one
 * core (the measurement stream is one hash, so it cannot be split), plus over
 * PARALLEL bytes spread across THREADS cores (independent trusted files).
 * usage: bench_floor SERIAL_BYTES PARALLEL_BYTES THREADS
 * prints: "<serial seconds> <parallel seconds>"
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#define CHUNK (4u << 20)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *hash_bytes(void *arg)
{
	uint64_t n = *(uint64_t *)arg;
	unsigned char *buf = malloc(CHUNK), md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!buf || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		abort();
	memset(buf, 0x5a, CHUNK);
	while (n) {
		size_t k = n < CHUNK ? (size_t)n : CHUNK;
		EVP_DigestUpdate(ctx, buf, k);
		n -= k;
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t serial, parallel, share[64];
	unsigned threads;
	pthread_t tid[64];
	double t0, t1, t2;

	if (argc != 4)
		return 2;
	serial = strtoull(argv[1], NULL, 10);
	parallel = strtoull(argv[2], NULL, 10);
	threads = (unsigned)strtoul(argv[3], NULL, 10);
	if (threads < 1 || threads > 64)
		return 2;
	t0 = now();
	hash_bytes(&serial);
	t1 = now();
	for (unsigned i = 0; i < threads; i++) {
		share[i] = parallel / threads + (i == 0 ? parallel % threads : 0);
		pthread_create(&tid[i], NULL, hash_bytes, &share[i]);
	}
	for (unsigned i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	t2 = now();
	printf("%.3f %.3f\n", t1 - t0, t2 - t1);
	return 0;
}
