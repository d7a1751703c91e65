/* SPDX-License-Identifier: Apache-2.0 */
/* The strict parsers under the quote verifier: base64, PEM chain grammar,
 * the SGX extension DER, and UTC time helpers.  Needs no ../shared: the SGX
 * extensions come from the fuzz corpus (taken from real PCK certificates). */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "harness.h"
#include "ppml/buf.h"
#include "ppml/file.h"
#include "ppml/quote.h"
#include "ppml/timeutil.h"

TEST(base64_strict)
{
	uint8_t out[16];
	size_t n;
	CHECK(ppml_base64_decode_strict("AAAA", 4, out, &n) && n == 3);
	CHECK(ppml_base64_decode_strict("AA==", 4, out, &n) && n == 1 && out[0] == 0);
	CHECK(ppml_base64_decode_strict("QUI=", 4, out, &n) && n == 2 && out[1] == 'B');
	CHECK(!ppml_base64_decode_strict("AB==", 4, out, &n));  /* padding bits set */
	CHECK(!ppml_base64_decode_strict("QUJ=", 4, out, &n));  /* padding bits set */
	CHECK(!ppml_base64_decode_strict("A===", 4, out, &n));
	CHECK(!ppml_base64_decode_strict("AA=A", 4, out, &n));
	CHECK(!ppml_base64_decode_strict("AA==AAAA", 8, out, &n));
	CHECK(!ppml_base64_decode_strict("AAA", 3, out, &n));
	CHECK(!ppml_base64_decode_strict("AA-A", 4, out, &n));
	CHECK(!ppml_base64_decode_strict("", 0, out, &n));
}

/* A PEM certificate made here (P-256, self-signed). */
static char *make_pem(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *c = X509_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL, *p;
	long n;
	if (!k || !c || !b)
		goto done;
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), 7);
	X509_gmtime_adj(X509_getm_notBefore(c), 0);
	X509_gmtime_adj(X509_getm_notAfter(c), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
				   (const unsigned char *)"test", -1, -1, 0);
	X509_set_issuer_name(c, X509_get_subject_name(c));
	X509_set_pubkey(c, k);
	if (!X509_sign(c, k, EVP_sha256()) || !PEM_write_bio_X509(b, c))
		goto done;
	n = BIO_get_mem_data(b, &p);
	out = strndup(p, (size_t)n);
done:
	BIO_free(b);
	X509_free(c);
	EVP_PKEY_free(k);
	return out;
}

static ppml_status chain(const char *s, size_t len, size_t expected, size_t *count)
{
	struct ppml_pem_chain ch;
	ppml_status rc = ppml_pem_chain_parse((const uint8_t *)s, len, expected, &ch, NULL);
	*count = ch.count;
	ppml_pem_chain_free(&ch);
	return rc;
}

TEST(pem_chain_grammar)
{
	char *pem = make_pem(), buf[8192];
	size_t n, cnt;
	REQUIRE(pem);
	n = strlen(pem); /* ends in "-----END CERTIFICATE-----\n" */
	REQUIRE(n < 2000);
	CHECK(chain(pem, n, 1, &cnt) == PPML_OK && cnt == 1);
	CHECK(chain(pem, n - 1, 1, &cnt) == PPML_OK);        /* no final newline */
	memcpy(buf, pem, n);
	buf[n] = '\0';
	CHECK(chain(buf, n + 1, 1, &cnt) == PPML_OK);        /* one NUL */
	buf[n + 1] = '\0';
	CHECK(chain(buf, n + 2, 1, &cnt) == PPML_E_INPUT);   /* two NULs */
	buf[n] = '\n';
	CHECK(chain(buf, n + 1, 1, &cnt) == PPML_E_INPUT);   /* blank line at the end */
	snprintf(buf, sizeof(buf), "%s%s", pem, pem);
	CHECK(chain(buf, 2 * n, 2, &cnt) == PPML_OK && cnt == 2);
	CHECK(chain(buf, 2 * n, 1, &cnt) == PPML_E_INPUT);   /* exactly 1 expected */
	CHECK(chain(buf, 2 * n, 3, &cnt) == PPML_E_INPUT);
	CHECK(chain(buf, 2 * n, 0, &cnt) == PPML_OK && cnt == 2);
	snprintf(buf, sizeof(buf), "%s\n%s", pem, pem);      /* blank line between */
	CHECK(chain(buf, strlen(buf), 2, &cnt) == PPML_E_INPUT);
	snprintf(buf, sizeof(buf), " %s", pem);              /* leading space */
	CHECK(chain(buf, strlen(buf), 1, &cnt) == PPML_E_INPUT);
	snprintf(buf, sizeof(buf), "%sx", pem);              /* trailing garbage */
	CHECK(chain(buf, strlen(buf), 1, &cnt) == PPML_E_INPUT);
	/* CRLF line ends. */
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (pem[i] == '\n')
			buf[o++] = '\r';
		buf[o++] = pem[i];
	}
	CHECK(chain(buf, o, 1, &cnt) == PPML_E_INPUT);
	/* A line joined with the next (longer than 76) is refused. */
	memcpy(buf, pem, n + 1);
	char *nl = strchr(buf + 28, '\n');
	REQUIRE(nl);
	memmove(nl, nl + 1, strlen(nl + 1) + 1);
	CHECK(chain(buf, strlen(buf), 1, &cnt) == PPML_E_INPUT);
	/* A base64 character flipped into a non-alphabet one. */
	memcpy(buf, pem, n + 1);
	buf[40] = '*';
	CHECK(chain(buf, n, 1, &cnt) == PPML_E_INPUT);
	CHECK(chain("", 0, 1, &cnt) == PPML_E_INPUT);
	free(pem);
}

static int load_ext(const char *name, uint8_t **der, size_t *len)
{
	char p[256];
	snprintf(p, sizeof(p), "fuzz/corpus/pck_ext/%s", name);
	return ppml_file_read(p, 1 << 16, der, len, NULL) == PPML_OK;
}

TEST(pck_ext_real_and_strict)
{
	uint8_t *proc = NULL, *plat = NULL;
	size_t pl, ql;
	struct ppml_pck_ext e;
	struct ppml_err err;
	REQUIRE(load_ext("phala_sgx_v3_2023-11.der", &proc, &pl));
	REQUIRE(load_ext("automata_sgx_v3_f28d_2025-08.der", &plat, &ql));
	/* Processor PCK (meta.json of the phala case). */
	REQUIRE(ppml_pck_ext_parse(proc, pl, &e, &err) == PPML_OK);
	static const uint8_t comps[16] = {11, 11, 2, 2, 255, 1};
	CHECK(memcmp(e.comp_svn, comps, 16) == 0);
	CHECK(e.pcesvn == 13 && !e.platform && e.sgx_type == PPML_SGX_TYPE_STANDARD);
	CHECK(memcmp(e.fmspc, "\x00\xa0\x67\x11\x00\x00", 6) == 0);
	CHECK(memcmp(e.pceid, "\x00\x00", 2) == 0);
	/* Platform PCK: 7 entries with the configuration. */
	REQUIRE(ppml_pck_ext_parse(plat, ql, &e, &err) == PPML_OK);
	CHECK(e.platform && e.sgx_type == PPML_SGX_TYPE_SCALABLE && e.has_dynamic_platform);
	CHECK(e.comp_svn[0] == 14 && e.pcesvn == 13);
	/* Every truncation and one trailing byte are refused with an offset. */
	size_t bad = 0;
	for (size_t n = 0; n < pl; n++)
		if (ppml_pck_ext_parse(proc, n, &e, &err) == PPML_OK || !strstr(err.msg, "offset"))
			bad++;
	CHECK(bad == 0);
	uint8_t *longer = malloc(pl + 1);
	REQUIRE(longer);
	memcpy(longer, proc, pl);
	longer[pl] = 0;
	CHECK(ppml_pck_ext_parse(longer, pl + 1, &e, &err) == PPML_E_INPUT);
	free(longer);
	/* Any single bit flip either still parses to the same structure kind or
	 * is refused: never a crash, never a platform flag from nowhere. */
	for (size_t i = 0; i < pl; i++) {
		proc[i] ^= 0x01;
		if (ppml_pck_ext_parse(proc, pl, &e, &err) == PPML_OK)
			CHECK(!e.platform);
		proc[i] ^= 0x01;
	}
	/* The FMSPC entry's OID arc .4 rewritten to .9: an unknown entry. */
	uint8_t fm[] = {0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x04};
	uint8_t *p = memmem(proc, pl, fm, sizeof(fm));
	REQUIRE(p);
	p[sizeof(fm) - 1] = 0x09;
	CHECK(ppml_pck_ext_parse(proc, pl, &e, &err) == PPML_E_INPUT);
	CHECK(strstr(err.msg, "unknown entry") != NULL);
	/* ... or to .3: PCE-ID twice. */
	p[sizeof(fm) - 1] = 0x03;
	CHECK(ppml_pck_ext_parse(proc, pl, &e, &err) == PPML_E_INPUT);
	free(proc);
	free(plat);
}

TEST(time_helpers)
{
	int64_t t;
	char s[PPML_TIME_RFC3339_LEN];
	CHECK(ppml_time_parse_intel("2025-08-15T05:45:00Z", &t) && t == 1755236700);
	CHECK(!ppml_time_parse_intel("2025-08-15T05:45:00+00:00", &t));
	CHECK(!ppml_time_parse_intel("2025-02-29T00:00:00Z", &t)); /* not a leap year */
	CHECK(ppml_time_parse_intel("2024-02-29T00:00:00Z", &t));
	CHECK(ppml_time_parse_rfc3339("2025-08-15T07:45:00.5+02:00", &t) && t == 1755236700);
	CHECK(ppml_time_parse_arg("1755236700", &t) && t == 1755236700);
	CHECK(!ppml_time_parse_arg("17552367x0", &t));
	CHECK(ppml_time_format(1755236700, s) && strcmp(s, "2025-08-15T05:45:00Z") == 0);
	CHECK(ppml_time_format(0, s) && strcmp(s, "1970-01-01T00:00:00Z") == 0);
	CHECK(ppml_time_format(-1, s) && strcmp(s, "1969-12-31T23:59:59Z") == 0);
	/* Round trip over a range of days. */
	for (int64_t x = -86400LL * 400; x < 86400LL * 365 * 80; x += 86400LL * 37 + 3671) {
		CHECK(ppml_time_format(x, s) && ppml_time_parse_intel(s, &t) && t == x);
	}
}

int main(void)
{
	RUN(base64_strict);
	RUN(pem_chain_grammar);
	RUN(pck_ext_real_and_strict);
	RUN(time_helpers);
	HARNESS_EXIT();
}
