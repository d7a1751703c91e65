/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCAP quote verification throughput on one core, cold (no cache: every
 * certificate, CRL, JSON and signature parsed and checked from scratch) and
 * warm (collateral set and PCK chain cached; times, CRL windows and
 * revocation still checked), each next to its floor measured in this run:
 * 15 ECDSA P-256 verifications per quote cold, 2 warm (the QE report and the
 * quote signatures), with OpenSSL's EVP_DigestVerify on a ready key.
 * usage: bench_quote DIR   (quote.bin + the collateral folder files +
 *                           meta.json's verification_time_unix, or AT)
 *        bench_quote DIR AT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "ppml/dcap.h"
#include "ppml/file.h"
#include "ppml/simpki.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds per ECDSA P-256 verification of a 432-byte message. */
static double ecdsa_floor(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	unsigned char msg[432], sig[80];
	size_t sl = sizeof(sig);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	memset(msg, 0x5a, sizeof(msg));
	if (!k || !c || EVP_DigestSignInit_ex(c, NULL, "SHA256", NULL, NULL, k, NULL) != 1 ||
	    EVP_DigestSign(c, sig, &sl, msg, sizeof(msg)) != 1)
		abort();
	EVP_MD_CTX_free(c);
	double best = 1e9;
	for (int r = 0; r < 3; r++) {
		int n = 2000;
		double t0 = now();
		for (int i = 0; i < n; i++) {
			c = EVP_MD_CTX_new();
			if (EVP_DigestVerifyInit_ex(c, NULL, "SHA256", NULL, NULL, k, NULL) != 1 ||
			    EVP_DigestVerify(c, sig, sl, msg, sizeof(msg)) != 1)
				abort();
			EVP_MD_CTX_free(c);
		}
		double t = (now() - t0) / n;
		if (t < best)
			best = t;
	}
	EVP_PKEY_free(k);
	return best;
}

static double per_quote(struct ppml_dcap_verifier *v, const uint8_t *q, size_t ql,
			const struct ppml_collateral *c, int64_t at, double seconds)
{
	struct ppml_verdict vd;
	struct ppml_err err;
	double best = 1e9;
	for (int r = 0; r < 3; r++) {
		int n = 0;
		double t0 = now(), t;
		do {
			if (ppml_dcap_verify(v, q, ql, c, at, &vd, &err) != PPML_OK) {
				fprintf(stderr, "bench_quote: %s\n", err.msg);
				exit(1);
			}
			ppml_verdict_cleanup(&vd);
			n++;
			t = now() - t0;
		} while (t < seconds / 3);
		if (t / n < best)
			best = t / n;
	}
	return best;
}

int main(int argc, char **argv)
{
	char p[4096];
	uint8_t *q = NULL;
	size_t ql = 0;
	struct ppml_collateral c = {0};
	struct ppml_dcap_verifier *v = NULL;
	struct ppml_err err;
	long long at;

	uint8_t *root = NULL;
	size_t root_len = 0;
	struct ppml_simpki *pki = NULL;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_quote (DIR [AT] | --sim)\n");
		return 2;
	}
	if (strcmp(argv[1], "--sim") == 0) {
		/* A simulated quote (same format, same checks; the custom root is
		 * the trust anchor): the figures need nothing from ../shared. */
		struct ppml_sgx_report_body b = {0};
		at = (long long)time(NULL);
		if (ppml_simpki_new(NULL, &pki, &err) != PPML_OK ||
		    ppml_simpki_root_der(pki, &root, &root_len, &err) != PPML_OK ||
		    ppml_simpki_collateral(pki, NULL, &c, &err) != PPML_OK ||
		    ppml_simpki_quote(pki, &b, NULL, &q, &ql, &err) != PPML_OK) {
			fprintf(stderr, "bench_quote: %s\n", err.msg);
			return 1;
		}
		ppml_simpki_free(pki);
		goto run;
	}
	snprintf(p, sizeof(p), "%s/quote.bin", argv[1]);
	if (ppml_file_read(p, 1 << 20, &q, &ql, &err) != PPML_OK ||
	    ppml_collateral_load_dir(argv[1], &c, &err) != PPML_OK) {
		fprintf(stderr, "bench_quote: %s\n", err.msg);
		return 1;
	}
	if (argc > 2) {
		at = atoll(argv[2]);
	} else {
		char buf[8192];
		snprintf(p, sizeof(p), "%s/meta.json", argv[1]);
		FILE *f = fopen(p, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = 0;
		char *t = strstr(buf, "\"verification_time_unix\":");
		if (!t)
			return 2;
		at = atoll(t + strlen("\"verification_time_unix\":"));
	}
run:
	if (ppml_dcap_verifier_new(root, root_len, &v, &err) != PPML_OK) {
		fprintf(stderr, "bench_quote: %s\n", err.msg);
		return 1;
	}
	double ec = ecdsa_floor();
	ppml_dcap_verifier_set_cache(v, false);
	double cold = per_quote(v, q, ql, &c, at, 1.5);
	ppml_dcap_verifier_set_cache(v, true);
	double warm = per_quote(v, q, ql, &c, at, 1.5);
	printf("\nquote verification, one core (ECDSA P-256 verify: %.1f us)\n", ec * 1e6);
	printf("  cold  %7.0f quotes/s  %6.3f ms   floor 15 ECDSA %6.3f ms   ratio %.2f (goal <= 2.1)\n",
	       1 / cold, cold * 1e3, 15 * ec * 1e3, cold / (15 * ec));
	printf("  warm  %7.0f quotes/s  %6.3f ms   floor  2 ECDSA %6.3f ms   ratio %.2f (goal <= 1.8)\n",
	       1 / warm, warm * 1e3, 2 * ec * 1e3, warm / (2 * ec));
	ppml_dcap_verifier_free(v);
	ppml_collateral_cleanup(&c);
	free(q);
	free(root);
	return 0;
}
