/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_envelope: `ppml encrypt` / `decrypt` throughput on a file in the
 * page cache (PPMLENC1: 64 KiB AES-256-GCM segments, one worker per CPU
 * from 2 MiB up, temp file, fsync, rename), next to raw AES-256-GCM with
 * OpenSSL on one core over the same bytes in memory, measured in the same
 * run (the floor).  Goal: encryption within 1.5x of raw AES-GCM.  A plain
 * copy of the file (read, write, fsync) is measured too, with its fsync
 * timed apart: on a VM, writing the output alone can cost more than the
 * cipher.
 *
 *   bench_envelope [MiB (256)] [DIR (/tmp)]      bench/run also uses /dev/shm
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ppml/envelope.h"
#include "ppml/file.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 256;
	size_t n = mib << 20;
	const char *base = argc > 2 ? argv[2] : "/tmp";
	char dir[256], in[300], enc[300], dec[300];
	snprintf(dir, sizeof(dir), "%s/ppml-bench-env-XXXXXX", base);
	uint8_t key[32], nonce[12] = {0}, tag[16];
	struct ppml_err err = {0};
	if (!mkdtemp(dir))
		return 1;
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(enc, sizeof(enc), "%s/in.enc", dir);
	snprintf(dec, sizeof(dec), "%s/out", dir);
	uint8_t *buf = malloc(n), *out = malloc(65536 + 16);
	RAND_bytes(key, 32);
	for (size_t i = 0; i < n; i += 4096)
		RAND_bytes(buf + i, 4096);
	if (ppml_file_write_atomic(in, buf, n, 0600, 0, &err) != PPML_OK)
		return 1;

	/* The floor: raw AES-256-GCM over the same bytes, in memory, 64 KiB at a time. */
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL);
	double best_raw = 1e9;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = now();
		for (size_t o = 0; o < n; o += 65536) {
			int k = 0;
			nonce[11]++;
			EVP_EncryptInit_ex(c, NULL, NULL, key, nonce);
			EVP_EncryptUpdate(c, out, &k, buf + o, 65536);
			EVP_EncryptFinal_ex(c, out + k, &k);
			EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
		}
		double t = now() - t0;
		if (t < best_raw)
			best_raw = t;
	}
	EVP_CIPHER_CTX_free(c);

	/* The I/O floor: the same file copied (read + write + fsync), no crypto. */
	double best_copy = 1e9, copy_fsync = 0;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = now();
		int i = open(in, O_RDONLY), o = open(dec, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ssize_t k;
		while ((k = read(i, out, 65536)) > 0)
			if (write(o, out, (size_t)k) != k)
				return 1;
		double tf = now();
		fsync(o);
		tf = now() - tf;
		close(o);
		close(i);
		double t = now() - t0;
		unlink(dec);
		if (t < best_copy) {
			best_copy = t;
			copy_fsync = tf;
		}
	}

	struct ppml_enc_header h = {.key_version = 1, .wrapped_len = 48};
	snprintf(h.key_name, sizeof(h.key_name), "bench");
	double best_enc = 1e9, best_dec = 1e9;
	for (int rep = 0; rep < 5; rep++) {
		/* Each run writes a new file, as a user does: dropping the last
		 * run's output (freeing its pages) is not part of the timing. */
		unlink(enc);
		unlink(dec);
		double t0 = now();
		if (ppml_enc_encrypt_file(in, enc, key, &h, NULL, NULL, &err) != PPML_OK) {
			fprintf(stderr, "bench_envelope: %s\n", err.msg);
			return 1;
		}
		double t1 = now();
		if (ppml_enc_decrypt_file(enc, dec, key, NULL, NULL, &err) != PPML_OK) {
			fprintf(stderr, "bench_envelope: %s\n", err.msg);
			return 1;
		}
		double t2 = now();
		if (t1 - t0 < best_enc)
			best_enc = t1 - t0;
		if (t2 - t1 < best_dec)
			best_dec = t2 - t1;
	}
	printf("\nencrypted files (PPMLENC1), %zu MiB in %s, best of 3 (copy) and 5 (ppml)\n", mib, base);
	printf("  raw AES-256-GCM  %7.0f MiB/s  (OpenSSL, one core, in memory: the floor)\n",
	       (double)mib / best_raw);
	printf("  plain copy       %7.0f MiB/s  (read + write + fsync, no crypto: the I/O floor)\n",
	       (double)mib / best_copy);
	printf("                   (of which fsync %.3f s = %.2fx the raw AES-GCM time, and "
	       "read + write %.2fx)\n",
	       copy_fsync, copy_fsync / best_raw, (best_copy - copy_fsync) / best_raw);
	printf("  ppml encrypt     %7.0f MiB/s  ratio %.2f to raw AES-GCM (goal <= 1.5), %.2f to "
	       "the copy\n",
	       (double)mib / best_enc, best_enc / best_raw, best_enc / best_copy);
	printf("  ppml decrypt     %7.0f MiB/s  ratio %.2f to raw AES-GCM, %.2f to the copy\n",
	       (double)mib / best_dec, best_dec / best_raw, best_dec / best_copy);
	unlink(in);
	unlink(enc);
	unlink(dec);
	rmdir(dir);
	free(buf);
	free(out);
	return 0;
}
