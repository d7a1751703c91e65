/* SPDX-License-Identifier: Apache-2.0 */
/* Collateral folders (load/save/copy) and ppml_crl_to_der. */
#include <dirent.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "harness.h"
#include "ppml/collateral.h"
#include "ppml/file.h"
#include "ppml/limits.h"

/* A synthetic DER SEQUENCE of n content bytes (long form above 127). */
static size_t make_seq(uint8_t *out, size_t n)
{
	size_t h;
	out[0] = 0x30;
	if (n < 0x80) {
		out[1] = (uint8_t)n;
		h = 2;
	} else if (n < 0x100) {
		out[1] = 0x81;
		out[2] = (uint8_t)n;
		h = 3;
	} else {
		out[1] = 0x82;
		out[2] = (uint8_t)(n >> 8);
		out[3] = (uint8_t)n;
		h = 4;
	}
	for (size_t i = 0; i < n; i++)
		out[h + i] = (uint8_t)(i * 7 + 1);
	return h + n;
}

/* PEM of der with line length ll (the text is NUL-terminated). */
static size_t make_pem(const uint8_t *der, size_t n, size_t ll, char *out)
{
	char b64[4096];
	int bn = EVP_EncodeBlock((unsigned char *)b64, der, (int)n);
	size_t o = (size_t)sprintf(out, "-----BEGIN X509 CRL-----\n");
	for (int i = 0; i < bn; i += (int)ll) {
		size_t k = (size_t)(bn - i) < ll ? (size_t)(bn - i) : ll;
		memcpy(out + o, b64 + i, k);
		o += k;
		out[o++] = '\n';
	}
	o += (size_t)sprintf(out + o, "-----END X509 CRL-----\n");
	return o;
}

static int to_der(const void *in, size_t len, uint8_t **der, size_t *dl, struct ppml_err *err)
{
	return ppml_crl_to_der(in, len, der, dl, err);
}

TEST(crl_der_as_is_and_structure_refusals)
{
	uint8_t seq[400], *der = NULL;
	size_t n, dl;
	struct ppml_err err = {0};

	n = make_seq(seq, 5);
	REQUIRE(to_der(seq, n, &der, &dl, &err) == PPML_OK);
	CHECK(dl == n && memcmp(der, seq, n) == 0);
	free(der);
	n = make_seq(seq, 300); /* long form 30 82 01 2c */
	CHECK(seq[1] == 0x82);
	REQUIRE(to_der(seq, n, &der, &dl, &err) == PPML_OK);
	CHECK(dl == n && memcmp(der, seq, n) == 0);
	free(der);

	CHECK(to_der(seq, n - 1, &der, &dl, &err) == PPML_E_INPUT); /* truncated */
	CHECK(der == NULL && strstr(err.msg, "DER") != NULL);
	seq[n] = 0;
	CHECK(to_der(seq, n + 1, &der, &dl, &err) == PPML_E_INPUT); /* trailing byte */
	{
		const uint8_t nonmin[] = {0x30, 0x81, 0x03, 1, 2, 3};  /* short form required */
		const uint8_t indef[] = {0x30, 0x80, 1, 2, 0, 0};
		const uint8_t lead0[] = {0x30, 0x82, 0x00, 0x81};
		const uint8_t notseq[] = {0x04, 0x01, 0x00}; /* OCTET STRING */
		CHECK(to_der(nonmin, sizeof(nonmin), &der, &dl, &err) == PPML_E_INPUT);
		CHECK(to_der(indef, sizeof(indef), &der, &dl, &err) == PPML_E_INPUT);
		CHECK(to_der(lead0, sizeof(lead0), &der, &dl, &err) == PPML_E_INPUT);
		CHECK(to_der(notseq, sizeof(notseq), &der, &dl, &err) == PPML_E_INPUT);
		CHECK(strstr(err.msg, "neither DER") != NULL);
	}
	CHECK(to_der("", 0, &der, &dl, &err) == PPML_E_INPUT);
	CHECK(der == NULL);
}

TEST(crl_hex_either_case)
{
	uint8_t seq[200], *der = NULL;
	char hex[512];
	size_t n, dl;
	struct ppml_err err = {0};

	n = make_seq(seq, 150);
	for (size_t i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", seq[i]);
	REQUIRE(to_der(hex, 2 * n, &der, &dl, &err) == PPML_OK);
	CHECK(dl == n && memcmp(der, seq, n) == 0);
	free(der);
	for (size_t i = 0; i < 2 * n; i++)
		if (hex[i] >= 'a')
			hex[i] = (char)(hex[i] - 32);
	REQUIRE(to_der(hex, 2 * n, &der, &dl, &err) == PPML_OK);
	CHECK(dl == n && memcmp(der, seq, n) == 0);
	free(der);
	hex[2 * n] = '\n';
	REQUIRE(to_der(hex, 2 * n + 1, &der, &dl, &err) == PPML_OK);
	free(der);

	CHECK(to_der(hex, 2 * n - 1, &der, &dl, &err) == PPML_E_INPUT); /* odd */
	CHECK(strstr(err.msg, "even") != NULL);
	CHECK(to_der(hex, 2 * n - 2, &der, &dl, &err) == PPML_E_INPUT); /* decodes to truncated DER */
	CHECK(strstr(err.msg, "not one DER SEQUENCE") != NULL);
	hex[10] = 'g';
	CHECK(to_der(hex, 2 * n, &der, &dl, &err) == PPML_E_INPUT);
	CHECK(strstr(err.msg, "character 11") != NULL);
	CHECK(der == NULL);
}

TEST(crl_pem_strict)
{
	uint8_t seq[400], *der = NULL;
	char pem[2048], bad[2048];
	size_t n, pl, dl;
	struct ppml_err err = {0};

	n = make_seq(seq, 300);
	pl = make_pem(seq, n, 64, pem);
	REQUIRE(to_der(pem, pl, &der, &dl, &err) == PPML_OK);
	CHECK(dl == n && memcmp(der, seq, n) == 0);
	free(der);
	REQUIRE(to_der(pem, pl - 1, &der, &dl, &err) == PPML_OK); /* no final newline */
	free(der);
	pl = make_pem(seq, n, 76, pem);
	REQUIRE(to_der(pem, pl, &der, &dl, &err) == PPML_OK);
	free(der);

	/* must-fail twins */
	pl = make_pem(seq, n, 77, bad); /* lines over 76 */
	CHECK(to_der(bad, pl, &der, &dl, &err) == PPML_E_INPUT);
	pl = make_pem(seq, n, 64, bad);
	bad[pl] = 'x';
	CHECK(to_der(bad, pl + 1, &der, &dl, &err) == PPML_E_INPUT); /* trailing bytes */
	CHECK(strstr(err.msg, "after") != NULL);
	memcpy(bad + 30, " ", 1); /* a space in the base64 */
	CHECK(to_der(bad, pl, &der, &dl, &err) == PPML_E_INPUT);
	pl = make_pem(seq, n - 1, 64, bad); /* valid base64 of a truncated SEQUENCE */
	CHECK(to_der(bad, pl, &der, &dl, &err) == PPML_E_INPUT);
	CHECK(strstr(err.msg, "not one DER SEQUENCE") != NULL);
	{
		/* 300+4 = 304 bytes: base64 ends "xx==" only for n%3==1; make non-zero pad bits. */
		uint8_t s2[8];
		size_t m = make_seq(s2, 2); /* 4 bytes -> "MAIB..==" */
		pl = make_pem(s2, m, 64, bad);
		char *eq = strstr(bad, "==");
		REQUIRE(eq != NULL);
		eq[-1] = eq[-1] == 'A' ? 'B' : (char)(eq[-1] + 1); /* non-zero padding bits */
		CHECK(to_der(bad, pl, &der, &dl, &err) == PPML_E_INPUT);
		CHECK(strstr(err.msg, "canonical") != NULL);
	}
	CHECK(to_der("-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n", 49, &der, &dl,
		     &err) == PPML_E_INPUT);
	CHECK(to_der("-----BEGIN X509 CRL-----\nMAMCAQA=\n", 34, &der, &dl, &err) ==
	      PPML_E_INPUT); /* no END line */
	CHECK(der == NULL);
}

TEST(crl_real_three_forms)
{
	REQUIRE_SHARED(shared);
	char path[512], *hex = NULL, *pem = NULL;
	uint8_t *raw = NULL, *der = NULL;
	size_t rl = 0, dl;
	struct ppml_err err = {0};
	snprintf(path, sizeof(path), "%s/quotes/phala_sgx_v3_2023-11/pck_crl.der", shared);
	REQUIRE(ppml_file_read(path, 1 << 20, &raw, &rl, &err) == PPML_OK);
	REQUIRE(to_der(raw, rl, &der, &dl, &err) == PPML_OK);
	CHECK(dl == rl && memcmp(der, raw, rl) == 0);
	free(der);
	hex = malloc(2 * rl + 1);
	pem = malloc(4 * rl + 200);
	REQUIRE(hex && pem);
	for (size_t i = 0; i < rl; i++)
		sprintf(hex + 2 * i, "%02X", raw[i]);
	REQUIRE(to_der(hex, 2 * rl, &der, &dl, &err) == PPML_OK);
	CHECK(dl == rl && memcmp(der, raw, rl) == 0);
	free(der);
	size_t pl = make_pem(raw, rl, 64, pem);
	REQUIRE(to_der(pem, pl, &der, &dl, &err) == PPML_OK);
	CHECK(dl == rl && memcmp(der, raw, rl) == 0);
	free(der);
	raw[rl - 1] ^= 1; /* content bytes are not checked here (the verifier's job) */
	raw[1] ^= 1;      /* but the length is */
	CHECK(to_der(raw, rl, &der, &dl, &err) == PPML_E_INPUT);
	free(raw);
	free(hex);
	free(pem);
}

static void fake_set(struct ppml_collateral *c)
{
	static const char *v[PPML_COLLATERAL_NFILES] = {"{\"tcbInfo\":{}}", "chain1\n", "{\"enclaveIdentity\":{}}",
						     "chain2\n", "\x30\x01\x00", "chain3\n", "\x30\x00"};
	struct ppml_collateral t = {
		(uint8_t *)v[0], strlen(v[0]), (uint8_t *)v[1], strlen(v[1]),
		(uint8_t *)v[2], strlen(v[2]), (uint8_t *)v[3], strlen(v[3]),
		(uint8_t *)v[4], 3, (uint8_t *)v[5], strlen(v[5]), (uint8_t *)v[6], 2,
	};
	*c = t;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int same(const struct ppml_collateral *a, const struct ppml_collateral *b)
{
	return a->tcb_info_len == b->tcb_info_len && !memcmp(a->tcb_info, b->tcb_info, a->tcb_info_len) &&
	       a->tcb_info_issuer_chain_len == b->tcb_info_issuer_chain_len &&
	       !memcmp(a->tcb_info_issuer_chain, b->tcb_info_issuer_chain, a->tcb_info_issuer_chain_len) &&
	       a->qe_identity_len == b->qe_identity_len &&
	       !memcmp(a->qe_identity, b->qe_identity, a->qe_identity_len) &&
	       a->qe_identity_issuer_chain_len == b->qe_identity_issuer_chain_len &&
	       !memcmp(a->qe_identity_issuer_chain, b->qe_identity_issuer_chain,
		       a->qe_identity_issuer_chain_len) &&
	       a->pck_crl_len == b->pck_crl_len && !memcmp(a->pck_crl, b->pck_crl, a->pck_crl_len) &&
	       a->pck_crl_issuer_chain_len == b->pck_crl_issuer_chain_len &&
	       !memcmp(a->pck_crl_issuer_chain, b->pck_crl_issuer_chain, a->pck_crl_issuer_chain_len) &&
	       a->root_ca_crl_len == b->root_ca_crl_len &&
	       !memcmp(a->root_ca_crl, b->root_ca_crl, a->root_ca_crl_len);
}

TEST(collateral_save_load_copy_roundtrip)
{
	char dir[] = "/tmp/ppml-coll-XXXXXX", out[300];
	struct ppml_collateral src, back = {0}, cp = {0};
	struct ppml_err err = {0};

	REQUIRE(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/new/", dir); /* created, trailing slash tolerated */
	fake_set(&src);
	REQUIRE(ppml_collateral_save_dir(out, &src, &err) == PPML_OK);
	CHECK(count_entries(out) == PPML_COLLATERAL_NFILES);
	REQUIRE(ppml_collateral_load_dir(out, &back, &err) == PPML_OK);
	CHECK(same(&src, &back));
	REQUIRE(ppml_collateral_copy(&cp, &back, &err) == PPML_OK);
	CHECK(same(&cp, &back) && cp.tcb_info != back.tcb_info);
	/* overwriting an existing set works */
	REQUIRE(ppml_collateral_save_dir(out, &cp, &err) == PPML_OK);
	CHECK(count_entries(out) == PPML_COLLATERAL_NFILES);

	snprintf(out, sizeof(out), "%s/new/qe_identity.json", dir);
	CHECK(unlink(out) == 0);
	snprintf(out, sizeof(out), "%s/new", dir);
	ppml_collateral_cleanup(&back);
	CHECK(ppml_collateral_load_dir(out, &back, &err) == PPML_E_NOTFOUND);
	CHECK(strstr(err.msg, "qe_identity.json is missing") != NULL);
	CHECK(back.tcb_info == NULL); /* nothing half-loaded */

	ppml_collateral_cleanup(&cp);
	ppml_collateral_cleanup(&cp);
	ppml_collateral_cleanup(NULL);
	for (int i = 0; i < PPML_COLLATERAL_NFILES; i++) {
		snprintf(out, sizeof(out), "%s/new/%s", dir, ppml_collateral_files[i]);
		unlink(out);
	}
	snprintf(out, sizeof(out), "%s/new", dir);
	rmdir(out);
	rmdir(dir);
}

TEST(collateral_save_all_or_nothing)
{
	char dir[] = "/tmp/ppml-coll-XXXXXX", out[300], blocker[350];
	struct ppml_collateral src;
	struct ppml_err err = {0};

	REQUIRE(mkdtemp(dir));
	fake_set(&src);
	/* an incomplete set: refused before the folder is created */
	snprintf(out, sizeof(out), "%s/a", dir);
	src.root_ca_crl_len = 0;
	CHECK(ppml_collateral_save_dir(out, &src, &err) == PPML_E_INPUT);
	CHECK(strstr(err.msg, "root_ca_crl.der is empty") != NULL);
	CHECK(access(out, F_OK) != 0);
	fake_set(&src);

	/* the 5th file cannot be placed (a folder is in the way): the 4 before it are taken back */
	snprintf(out, sizeof(out), "%s/b", dir);
	REQUIRE(mkdir(out, 0755) == 0);
	snprintf(blocker, sizeof(blocker), "%s/pck_crl.der", out);
	REQUIRE(mkdir(blocker, 0755) == 0);
	snprintf(blocker, sizeof(blocker), "%s/pck_crl.der/x", out);
	REQUIRE(ppml_file_write_atomic(blocker, "x", 1, 0644, 0, &err) == PPML_OK);
	CHECK(ppml_collateral_save_dir(out, &src, &err) == PPML_E_IO);
	CHECK(strstr(err.msg, "pck_crl.der") != NULL);
	CHECK(count_entries(out) == 1); /* only the blocker: no file, no temporary */

	/* a new folder whose staging fails is removed again */
	snprintf(out, sizeof(out), "%s/b/pck_crl.der/x/c", dir); /* parent is a file */
	CHECK(ppml_collateral_save_dir(out, &src, &err) == PPML_E_IO);

	unlink(blocker);
	snprintf(blocker, sizeof(blocker), "%s/b/pck_crl.der", dir);
	rmdir(blocker);
	snprintf(out, sizeof(out), "%s/b", dir);
	rmdir(out);
	CHECK(rmdir(dir) == 0); /* nothing else was left anywhere */
}

TEST(collateral_real_roundtrip)
{
	REQUIRE_SHARED(shared);
	char src[512], dir[] = "/tmp/ppml-coll-XXXXXX", out[300];
	struct ppml_collateral a = {0}, b = {0};
	struct ppml_err err = {0};
	snprintf(src, sizeof(src), "%s/quotes/automata_sgx_v3_f28d_2025-08", shared);
	REQUIRE(ppml_collateral_load_dir(src, &a, &err) == PPML_OK);
	REQUIRE(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/c", dir);
	REQUIRE(ppml_collateral_save_dir(out, &a, &err) == PPML_OK);
	REQUIRE(ppml_collateral_load_dir(out, &b, &err) == PPML_OK);
	CHECK(same(&a, &b));
	for (int i = 0; i < PPML_COLLATERAL_NFILES; i++) {
		char p[400];
		snprintf(p, sizeof(p), "%s/%s", out, ppml_collateral_files[i]);
		unlink(p);
	}
	rmdir(out);
	rmdir(dir);
	ppml_collateral_cleanup(&a);
	ppml_collateral_cleanup(&b);
}

int main(void)
{
	RUN(crl_der_as_is_and_structure_refusals);
	RUN(crl_hex_either_case);
	RUN(crl_pem_strict);
	RUN(crl_real_three_forms);
	RUN(collateral_save_load_copy_roundtrip);
	RUN(collateral_save_all_or_nothing);
	RUN(collateral_real_roundtrip);
	HARNESS_EXIT();
}
