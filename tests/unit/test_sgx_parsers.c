/* SPDX-License-Identifier: Apache-2.0 */
/* ELF reader must-fail cases and SIGSTRUCT verify with flipped bits. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <stdint.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/pem.h>

#include "harness.h"
#include "ppml/elf.h"
#include "ppml/file.h"
#include "ppml/key.h"
#include "ppml/sigstruct.h"

static void w16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void w32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void w64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A minimal valid ELF: header + 2 program headers (PT_LOAD) + 0x2000 bytes. */
static size_t make_elf(uint8_t *b, size_t cap)
{
	size_t len = 0x3000;
	if (cap < len)
		return 0;
	memset(b, 0, len);
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
		w64(ph + 8, 0x1000ull * i);
		w64(ph + 16, 0x1000ull * i);
		w64(ph + 32, 0x1000);
		w64(ph + 40, i ? 0x3000 : 0x1000);
		w64(ph + 48, 0x1000);
	}
	return len;
}

static uint8_t elfbuf[0x3000];

TEST(elf_valid)
{
	struct ppml_elf e;
	struct ppml_err err = {0};
	size_t n = make_elf(elfbuf, sizeof(elfbuf));
	REQUIRE(ppml_elf_parse(elfbuf, n, "t.so", &e, &err) == PPML_OK);
	CHECK(e.entry == 0x1000 && e.n_loads == 2 && e.loads[1].memsz == 0x3000 && e.loads[1].flags == 6);
	ppml_elf_cleanup(&e);
	ppml_elf_cleanup(NULL);
}

static void expect_fail(size_t len, const char *needle)
{
	struct ppml_elf e;
	struct ppml_err err = {0};
	CHECKF(ppml_elf_parse(elfbuf, len, "libpal.so", &e, &err) != PPML_OK, "accepted (%s)", needle);
	CHECKF(strstr(err.msg, needle) != NULL, "message \"%s\" lacks \"%s\"", err.msg, needle);
	CHECK(e.loads == NULL);
}

TEST(elf_must_fail)
{
	size_t n = make_elf(elfbuf, sizeof(elfbuf));
	expect_fail(10, "truncated ELF header");
	expect_fail(63, "truncated ELF header");
	make_elf(elfbuf, n);
	elfbuf[0] = 'X';
	expect_fail(n, "bad magic");
	make_elf(elfbuf, n);
	elfbuf[4] = 1;
	expect_fail(n, "ELFCLASS64");
	make_elf(elfbuf, n);
	elfbuf[5] = 2;
	expect_fail(n, "little-endian");
	make_elf(elfbuf, n);
	w16(elfbuf + 18, 183);
	expect_fail(n, "e_machine (offset 0x12) is 183");
	make_elf(elfbuf, n);
	w16(elfbuf + 16, 1);
	expect_fail(n, "e_type");
	make_elf(elfbuf, n);
	w64(elfbuf + 32, n - 56);
	expect_fail(n, "program header table");
	make_elf(elfbuf, n);
	w64(elfbuf + 32, UINT64_MAX - 10);
	expect_fail(n, "program header table");
	make_elf(elfbuf, n);
	w16(elfbuf + 56, 0xfff0);
	expect_fail(n, "above the cap");
	make_elf(elfbuf, n);
	w16(elfbuf + 54, 32);
	expect_fail(n, "e_phentsize");
	make_elf(elfbuf, n);
	w64(elfbuf + 64 + 56 + 32, 0x2001);
	expect_fail(n, "program header 1: p_offset+p_filesz (0x1000+0x2001) beyond file size 0x3000");
	make_elf(elfbuf, n);
	w64(elfbuf + 64 + 56 + 8, UINT64_MAX);
	expect_fail(n, "program header 1: p_offset+p_filesz");
	make_elf(elfbuf, n);
	w64(elfbuf + 64 + 40, 0x800);
	expect_fail(n, "program header 0: p_filesz (0x1000) > p_memsz (0x800)");
	make_elf(elfbuf, n);
	w64(elfbuf + 64 + 16, UINT64_MAX - 0xfff);
	expect_fail(n, "p_vaddr+p_memsz");
	make_elf(elfbuf, n);
	w32(elfbuf + 64, 6);
	w32(elfbuf + 64 + 56, 6);
	expect_fail(n, "no PT_LOAD");
	make_elf(elfbuf, n);
	w64(elfbuf + 64 + 56 + 48, 0x1800);
	expect_fail(n, "program header 1: p_align (0x1800) is not a power of two");
	make_elf(elfbuf, n);
	w64(elfbuf + 64 + 56 + 16, 0x1010);
	expect_fail(n, "program header 1: p_offset (0x1000) and p_vaddr (0x1010) differ modulo p_align");
	make_elf(elfbuf, n);
	expect_fail(0, "truncated");
}

static uint8_t sig[1808];

TEST(sigstruct_flips_refused)
{
	char path[1024];
	uint8_t *d = NULL;
	size_t len = 0;
	struct ppml_sgx_sigstruct s;
	struct ppml_err err = {0};
	/* signature, modulus, header block, body, Q1, Q2, reserved body bytes */
	static const struct { size_t off; const char *what; } flips[] = {
		{516, "signature"}, {899, "signature"}, {600, "signature"},
		{128, "signature"}, {300, "signature"},
		{20, "signature"}, {44, "signature"}, {900, "signature"}, {960, "signature"},
		{1024, "signature"}, {1000, "signature"},
		{1040, "Q1"}, {1423, "Q1"}, {1424, "Q2"}, {1807, "Q2"},
	};
	REQUIRE_SHARED(shared);
	snprintf(path, sizeof(path), "%s/vectors/gramine-v1.9/v01_defaults/app.sig", shared);
	REQUIRE(ppml_file_read(path, 4096, &d, &len, &err) == PPML_OK && len == 1808);
	memcpy(sig, d, len);
	free(d);
	REQUIRE(ppml_sigstruct_parse(sig, len, &s, &err) == PPML_OK);
	REQUIRE(ppml_sigstruct_verify(&s, &err) == PPML_OK);
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			ppml_status st;
			sig[flips[i].off] ^= (uint8_t)(1u << bit);
			st = ppml_sigstruct_parse(sig, len, &s, &err);
			if (st == PPML_OK)
				st = ppml_sigstruct_verify(&s, &err);
			CHECKF(st != PPML_OK, "flip at %zu bit %d accepted", flips[i].off, bit);
			CHECKF(strstr(err.msg, flips[i].what) || strstr(err.msg, "MODULUS") ||
				       strstr(err.msg, "SIGNATURE"),
			       "flip at %zu: \"%s\"", flips[i].off, err.msg);
			sig[flips[i].off] ^= (uint8_t)(1u << bit);
		}
	}
	/* header constants and exponent fail the strict parse */
	sig[0] ^= 1;
	CHECK(ppml_sigstruct_parse(sig, len, &s, &err) == PPML_E_INPUT && strstr(err.msg, "HEADER"));
	sig[0] ^= 1;
	sig[30] ^= 1;
	CHECK(ppml_sigstruct_parse(sig, len, &s, &err) == PPML_E_INPUT && strstr(err.msg, "HEADER2"));
	sig[30] ^= 1;
	sig[512] ^= 4;
	CHECK(ppml_sigstruct_parse(sig, len, &s, &err) == PPML_E_INPUT && strstr(err.msg, "EXPONENT"));
	sig[512] ^= 4;
	sig[1030] ^= 0x10;
	CHECK(ppml_sigstruct_parse(sig, len, &s, &err) == PPML_E_INPUT &&
	      strstr(err.msg, "reserved bytes at offset 1030"));
	sig[1030] ^= 0x10;
	CHECK(ppml_sigstruct_parse(sig, len - 1, &s, &err) == PPML_E_INPUT);
	CHECK(ppml_sigstruct_parse(sig, len, &s, &err) == PPML_OK);
}

TEST(two_step_assemble_matches_sign)
{
	char path[1024];
	uint8_t *d = NULL, payload[256], nle[384], nbe[384], sbe[384];
	size_t len = 0;
	struct ppml_sgx_sigstruct s, out;
	struct ppml_err err = {0};
	EVP_PKEY *key = NULL;
	REQUIRE_SHARED(shared);
	snprintf(path, sizeof(path), "%s/vectors/gramine-v1.9/v03_1G_t4_isv/app.sig", shared);
	REQUIRE(ppml_file_read(path, 4096, &d, &len, &err) == PPML_OK);
	REQUIRE(ppml_sigstruct_parse(d, len, &s, &err) == PPML_OK);
	snprintf(path, sizeof(path), "%s/vectors/gramine-v1.9/v03_1G_t4_isv/key.pem", shared);
	REQUIRE(ppml_key_load_public(path, NULL, &key, &err) == PPML_OK);
	REQUIRE(ppml_key_modulus_le(key, nle, &err) == PPML_OK);
	for (int i = 0; i < 384; i++) {
		nbe[i] = nle[383 - i];
		sbe[i] = s.signature[383 - i];
	}
	ppml_sigstruct_payload(&s, payload);
	CHECK(ppml_sigstruct_assemble(payload, nbe, 384, sbe, 384, &out, &err) == PPML_OK);
	CHECK(memcmp(&out, d, 1808) == 0);
	sbe[100] ^= 1;
	CHECK(ppml_sigstruct_assemble(payload, nbe, 384, sbe, 384, &out, &err) == PPML_E_REFUSED);
	/* A signature value not below the modulus (as another key's signature can be)
	 * is refused like any bad signature, not reported as a crypto failure. */
	CHECK(ppml_sigstruct_assemble(payload, nbe, 384, nbe, 384, &out, &err) == PPML_E_REFUSED);
	CHECK(strstr(err.msg, "not smaller than MODULUS") != NULL);
	memset(sbe, 0xff, sizeof(sbe));
	CHECK(ppml_sigstruct_assemble(payload, nbe, 384, sbe, 384, &out, &err) == PPML_E_REFUSED);
	EVP_PKEY_free(key);
	free(d);
}

TEST(keygen_roundtrip_encrypted)
{
	char dir[] = "/tmp/ppml-key-XXXXXX", kp[256], pp[256];
	EVP_PKEY *k = NULL, *k2 = NULL;
	struct ppml_err err = {0};
	uint8_t a[32], b[32];
	REQUIRE(mkdtemp(dir));
	snprintf(kp, sizeof(kp), "%s/k.pem", dir);
	snprintf(pp, sizeof(pp), "%s/pass", dir);
	REQUIRE(ppml_file_write_atomic(pp, "s3cret\n", 7, 0600, 0, &err) == PPML_OK);
	REQUIRE(ppml_key_generate_sgx(&k, &err) == PPML_OK);
	CHECK(ppml_key_check_sgx(k, 1, &err) == PPML_OK);
	CHECK(ppml_key_write_private(kp, k, pp, &err) == PPML_OK);
	CHECK(ppml_key_write_private(kp, k, pp, &err) == PPML_E_EXISTS);
	CHECK(ppml_key_load_private(kp, NULL, &k2, &err) == PPML_E_INPUT && strstr(err.msg, "encrypted"));
	CHECK(ppml_key_load_private(kp, pp, &k2, &err) == PPML_OK);
	CHECK(k2 && ppml_key_mrsigner(k, a, &err) == PPML_OK && ppml_key_mrsigner(k2, b, &err) == PPML_OK &&
	      memcmp(a, b, 32) == 0);
	/* wrong passphrase; a public key where a private one is needed */
	REQUIRE(ppml_file_write_atomic(pp, "wrong", 5, 0600, 0, &err) == PPML_OK);
	EVP_PKEY_free(k2);
	k2 = NULL;
	CHECK(ppml_key_load_private(kp, pp, &k2, &err) == PPML_E_INPUT && strstr(err.msg, "wrong passphrase"));
	{
		char pub[256];
		BIO *bio = BIO_new(BIO_s_mem());
		BUF_MEM *bm = NULL;
		snprintf(pub, sizeof(pub), "%s/pub.pem", dir);
		REQUIRE(bio && PEM_write_bio_PUBKEY(bio, k) == 1 && BIO_get_mem_ptr(bio, &bm) == 1);
		REQUIRE(ppml_file_write_atomic(pub, bm->data, bm->length, 0644, 0, &err) == PPML_OK);
		BIO_free(bio);
		REQUIRE(ppml_key_load_public(pub, NULL, &k2, &err) == PPML_OK);
		CHECK(ppml_key_check_sgx(k2, 0, &err) == PPML_OK);
		CHECK(ppml_key_check_sgx(k2, 1, &err) == PPML_E_INPUT);
		CHECK_STREQ(err.msg, "Invalid key: expected RSA private key, found RSAPublicKey instance");
		CHECK(ppml_key_mrsigner(k2, b, &err) == PPML_OK && memcmp(a, b, 32) == 0);
		unlink(pub);
	}
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	unlink(kp);
	unlink(pp);
	rmdir(dir);
}

int main(void)
{
	RUN(elf_valid);
	RUN(elf_must_fail);
	RUN(sigstruct_flips_refused);
	RUN(two_step_assemble_matches_sign);
	RUN(keygen_roundtrip_encrypted);
	HARNESS_EXIT();
}
