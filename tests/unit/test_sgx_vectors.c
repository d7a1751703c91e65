/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gramine v1.9 signing vectors: MRENCLAVE, the whole .sig and MRSIGNER byte for
 * byte, plus the must-fail vectors of the SGX core (e01, e02, e03, e06).
 */
/* Test paths and messages are truncated harmlessly if ever too long. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <dirent.h>
#include <stdint.h>

#include <jansson.h>

#include "harness.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/key.h"
#include "ppml/measure.h"
#include "ppml/sigstruct.h"

/* ---- TEST SCAFFOLDING: to be replaced by the manifest layer --------------
 * Pulls `key = value` lines out of one `[table]` of a tomli-w written
 * manifest.sgx.  Good enough for the vectors; not a TOML parser. */
static int scan_value(const char *text, const char *table, const char *key, char *out, size_t cap)
{
	char hdr[64];
	const char *p, *end;
	size_t klen = strlen(key);

	snprintf(hdr, sizeof(hdr), "\n[%s]\n", table);
	if (strncmp(text, hdr + 1, strlen(hdr + 1)) == 0)
		p = text + strlen(hdr + 1);
	else if ((p = strstr(text, hdr)) != NULL)
		p += strlen(hdr);
	else
		return 0;
	end = strstr(p, "\n[");
	if (!end)
		end = p + strlen(p);
	while (p < end) {
		const char *eol = strchr(p, '\n');
		if (!eol || eol > end)
			eol = end;
		if ((size_t)(eol - p) > klen + 3 && strncmp(p, key, klen) == 0 &&
		    strncmp(p + klen, " = ", 3) == 0) {
			const char *v = p + klen + 3;
			size_t n = (size_t)(eol - v);
			if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
				v++;
				n -= 2;
			}
			if (n >= cap)
				return 0;
			memcpy(out, v, n);
			out[n] = 0;
			return 1;
		}
		p = eol + 1;
	}
	return 0;
}

struct vec_params {
	struct ppml_measure_input in;
	struct ppml_sgx_manifest_attrs attrs;
	char avx[32], avx512[32], amx[32], mpx[32], pkru[32];
	uint16_t isvprodid, isvsvn;
};

static int scan_params(const char *manifest, struct vec_params *v, char *why, size_t whylen)
{
	char buf[128];
	uint64_t size = 0;
	struct ppml_err err = {0};

	if (!scan_value(manifest, "sgx", "enclave_size", buf, sizeof(buf)) ||
	    ppml_sgx_parse_size(buf, "sgx.enclave_size", &size, &err) != PPML_OK) {
		snprintf(why, whylen, "enclave_size: %s", err.msg);
		return 0;
	}
	v->in.enclave_size = size;
	v->in.max_threads = scan_value(manifest, "sgx", "max_threads", buf, sizeof(buf)) ? (uint32_t)atoi(buf) : 4;
	v->in.edmm_enable = scan_value(manifest, "sgx", "edmm_enable", buf, sizeof(buf)) &&
			    (strcmp(buf, "true") == 0 || strcmp(buf, "1") == 0);
	v->attrs.debug = scan_value(manifest, "sgx", "debug", buf, sizeof(buf)) && strcmp(buf, "true") == 0;
	v->attrs.use_exinfo =
		scan_value(manifest, "sgx", "use_exinfo", buf, sizeof(buf)) && strcmp(buf, "true") == 0;
	v->isvprodid = scan_value(manifest, "sgx", "isvprodid", buf, sizeof(buf)) ? (uint16_t)atoi(buf) : 0;
	v->isvsvn = scan_value(manifest, "sgx", "isvsvn", buf, sizeof(buf)) ? (uint16_t)atoi(buf) : 0;
#define FEAT(f)                                                                            \
	v->attrs.f = scan_value(manifest, "sgx.cpu_features", #f, v->f, sizeof(v->f)) ? v->f : NULL
	FEAT(avx);
	FEAT(avx512);
	FEAT(amx);
	FEAT(mpx);
	FEAT(pkru);
#undef FEAT
	return 1;
}
/* ---- end of test scaffolding ---------------------------------------------- */

static char *read_text(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	uint8_t *d = NULL;
	size_t n = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (ppml_file_read(path, 64u << 20, &d, &n, NULL) != PPML_OK)
		return NULL;
	if (len)
		*len = n;
	return (char *)d;
}

static int list_vectors(const char *shared, char prefix, char names[][64], int max)
{
	char path[1024];
	DIR *d;
	struct dirent *e;
	int n = 0;
	snprintf(path, sizeof(path), "%s/vectors/gramine-v1.9", shared);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max)
		if (e->d_name[0] == prefix && strlen(e->d_name) < 64)
			strcpy(names[n++], e->d_name);
	closedir(d);
	/* sort for stable output */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char t[64];
				strcpy(t, names[i]);
				strcpy(names[i], names[j]);
				strcpy(names[j], t);
			}
	return n;
}

static int g_layout_ok, g_mrenclave_ok, g_sig_ok, g_mrsigner_ok, g_total;

/* Runs one successful vector; returns NULL or a failure description in why. */
static void run_vector(const char *dir, char *why, size_t whylen)
{
	char *manifest = NULL, *pal = NULL, *sig = NULL, *expected = NULL;
	size_t mlen = 0, plen = 0, slen = 0;
	struct vec_params v;
	struct ppml_sigstruct_params sp;
	struct ppml_sgx_sigstruct ss, parsed;
	struct ppml_err err = {0};
	json_t *ex = NULL;
	EVP_PKEY *key = NULL;
	char keypath[1024], hex[65];
	uint8_t mr[32], mrs[32], mrs2[32];
	const char *date, *mem, *end;
	char *log = NULL;
	struct ppml_sgx_layout layout = {0};
	struct ppml_buf lb = {0};

	memset(&v, 0, sizeof(v));
	memset(&sp, 0, sizeof(sp));
	why[0] = 0;
	manifest = read_text(dir, "app.manifest.sgx", &mlen);
	pal = read_text(dir, "libpal.so", &plen);
	sig = read_text(dir, "app.sig", &slen);
	expected = read_text(dir, "expected.json", NULL);
	if (!manifest || !pal || !sig || !expected) {
		snprintf(why, whylen, "missing vector file");
		goto out;
	}
	ex = json_loads(expected, 0, NULL);
	date = json_string_value(json_object_get(json_object_get(ex, "inputs"), "sign_date"));
	if (!ex || !date) {
		snprintf(why, whylen, "expected.json unreadable");
		goto out;
	}
	if (!scan_params(manifest, &v, why, whylen))
		goto out;
	v.in.manifest = (const uint8_t *)manifest;
	v.in.manifest_len = mlen;
	v.in.pal = (const uint8_t *)pal;
	v.in.pal_len = plen;
	g_total++;
	if (ppml_measure_mrenclave(&v.in, mr, &layout, &err) != PPML_OK) {
		snprintf(why, whylen, "measure: %s", err.msg);
		goto out;
	}
	/* The layout printout must equal sign.log's "Memory:" section. */
	log = read_text(dir, "sign.log", NULL);
	mem = log ? strstr(log, "Memory:\n") : NULL;
	end = mem ? strstr(mem, "Measurement:\n") : NULL;
	if (!end || ppml_measure_layout_format(&layout, &lb) != PPML_OK ||
	    (size_t)(end - mem) - strlen("Memory:\n") != lb.len ||
	    memcmp(mem + strlen("Memory:\n"), lb.data, lb.len) != 0) {
		snprintf(why, whylen, "layout differs from sign.log");
		goto out;
	}
	g_layout_ok++;
	ppml_hex_encode(mr, 32, hex);
	if (strcmp(hex, json_string_value(json_object_get(ex, "mrenclave"))) != 0) {
		snprintf(why, whylen, "MRENCLAVE %s != expected", hex);
		goto out;
	}
	g_mrenclave_ok++;
	memcpy(sp.mrenclave, mr, 32);
	sp.isv_prod_id = v.isvprodid;
	sp.isv_svn = v.isvsvn;
	if (ppml_sigstruct_attributes(&v.attrs, &sp, &err) != PPML_OK ||
	    ppml_sigstruct_parse_date(date, &sp.date, &err) != PPML_OK) {
		snprintf(why, whylen, "attributes/date: %s", err.msg);
		goto out;
	}
	snprintf(keypath, sizeof(keypath), "%s/key.pem", dir);
	if (ppml_key_load_private(keypath, NULL, &key, &err) != PPML_OK) {
		snprintf(why, whylen, "key: %s", err.msg);
		goto out;
	}
	ppml_sigstruct_init(&ss, &sp);
	if (ppml_sigstruct_sign(&ss, key, &err) != PPML_OK) {
		snprintf(why, whylen, "sign: %s", err.msg);
		goto out;
	}
	if (slen != sizeof(ss) || memcmp(&ss, sig, slen) != 0) {
		size_t i = 0;
		while (i < slen && i < sizeof(ss) && ((uint8_t *)&ss)[i] == (uint8_t)sig[i])
			i++;
		snprintf(why, whylen, ".sig differs from app.sig at offset %zu", i);
		goto out;
	}
	g_sig_ok++;
	if (ppml_sigstruct_parse((const uint8_t *)sig, slen, &parsed, &err) != PPML_OK ||
	    ppml_sigstruct_verify(&parsed, &err) != PPML_OK ||
	    ppml_sigstruct_mrsigner(&parsed, mrs, &err) != PPML_OK ||
	    ppml_key_mrsigner(key, mrs2, &err) != PPML_OK) {
		snprintf(why, whylen, "parse/verify/mrsigner: %s", err.msg);
		goto out;
	}
	ppml_hex_encode(mrs, 32, hex);
	if (strcmp(hex, json_string_value(json_object_get(ex, "mrsigner"))) != 0 ||
	    memcmp(mrs, mrs2, 32) != 0) {
		snprintf(why, whylen, "MRSIGNER %s != expected", hex);
		goto out;
	}
	g_mrsigner_ok++;
out:
	ppml_buf_free(&lb);
	ppml_measure_layout_cleanup(&layout);
	free(log);
	EVP_PKEY_free(key);
	json_decref(ex);
	free(manifest);
	free(pal);
	free(sig);
	free(expected);
}

TEST(all_v_vectors_byte_identical)
{
	char names[64][64], dir[1024], why[1024], fails[4096] = "";
	int n;
	REQUIRE_SHARED(shared);
	n = list_vectors(shared, 'v', names, 64);
	REQUIRE(n > 0);
	for (int i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%s/vectors/gramine-v1.9/%s", shared, names[i]);
		run_vector(dir, why, sizeof(why));
		printf("# %s: %s\n", names[i], why[0] ? why : "layout, MRENCLAVE, .sig, MRSIGNER identical");
		if (why[0])
			snprintf(fails + strlen(fails), sizeof(fails) - strlen(fails), " %s(%s)", names[i], why);
	}
	printf("# vectors: %d, layout = sign.log %d, MRENCLAVE identical %d, .sig identical %d, MRSIGNER identical %d\n",
	       g_total, g_layout_ok, g_mrenclave_ok, g_sig_ok, g_mrsigner_ok);
	CHECKF(fails[0] == 0, "failed:%s", fails);
	CHECK(g_total == n && g_sig_ok == n);
}

TEST(e06_enclave_too_small)
{
	char dir[1024], why[256];
	char *manifest, *pal;
	size_t mlen = 0, plen = 0;
	struct vec_params v;
	struct ppml_err err = {0};
	uint8_t mr[32];
	REQUIRE_SHARED(shared);
	snprintf(dir, sizeof(dir), "%s/vectors/gramine-v1.9/e06_enclave_too_small", shared);
	manifest = read_text(dir, "app.manifest.sgx", &mlen);
	pal = read_text(dir, "libpal.so", &plen);
	REQUIRE(manifest && pal);
	memset(&v, 0, sizeof(v));
	CHECK(scan_params(manifest, &v, why, sizeof(why)));
	v.in.manifest = (const uint8_t *)manifest;
	v.in.manifest_len = mlen;
	v.in.pal = (const uint8_t *)pal;
	v.in.pal_len = plen;
	CHECK(ppml_measure_mrenclave(&v.in, mr, NULL, &err) == PPML_E_INPUT);
	CHECK_STREQ(err.msg, "Enclave size is not large enough");
	/* spec 12: the base is 0 or the enclave size (v1.3 PIE), nothing else */
	v.in.base = 0x1000;
	CHECK(ppml_measure_mrenclave(&v.in, mr, NULL, &err) == PPML_E_INPUT);
	CHECK(strstr(err.msg, "expected 0 or the enclave size") != NULL);
	free(manifest);
	free(pal);
}

static void expect_key_refused(const char *vec, const char *msg)
{
	char path[1024];
	EVP_PKEY *key = NULL;
	struct ppml_err err = {0};
	struct ppml_sgx_sigstruct ss;
	struct ppml_sigstruct_params sp;
	const char *shared = harness_shared();
	snprintf(path, sizeof(path), "%s/vectors/gramine-v1.9/%s/key.pem", shared, vec);
	REQUIRE(ppml_key_load_private(path, NULL, &key, &err) == PPML_OK);
	CHECK(ppml_key_check_sgx(key, 1, &err) == PPML_E_INPUT);
	CHECK_STREQ(err.msg, msg);
	memset(&sp, 0, sizeof(sp));
	ppml_sigstruct_init(&ss, &sp);
	CHECK(ppml_sigstruct_sign(&ss, key, &err) == PPML_E_INPUT);
	CHECK_STREQ(err.msg, msg);
	EVP_PKEY_free(key);
}

TEST(e01_e02_keys_refused)
{
	REQUIRE_SHARED(shared);
	(void)shared;
	expect_key_refused("e01_key2048", "Invalid RSA key: expected key size 3072, got 2048");
	expect_key_refused("e02_key_e65537", "Invalid RSA key: expected exponent 3, got 65537");
}

TEST(e03_mpx_unspecified)
{
	struct ppml_sgx_manifest_attrs m = {0, 0, "unspecified", "unspecified", "unspecified",
					    "unspecified", "disabled"};
	struct ppml_sigstruct_params p;
	struct ppml_err err = {0};
	memset(&p, 0, sizeof(p));
	CHECK(ppml_sigstruct_attributes(&m, &p, &err) == PPML_E_INPUT);
	CHECK_STREQ(err.msg, "Manifest option `sgx.cpu_features.mpx` has a disallowed value");
	m.mpx = "disabled";
	m.pkru = "bogus";
	CHECK(ppml_sigstruct_attributes(&m, &p, &err) == PPML_E_INPUT);
	CHECK_STREQ(err.msg, "Manifest option `sgx.cpu_features.pkru` has a disallowed value");
	m.pkru = "disabled";
	m.amx = NULL;
	CHECK(ppml_sigstruct_attributes(&m, &p, &err) == PPML_E_INPUT);
	m.amx = "unspecified";
	CHECK(ppml_sigstruct_attributes(&m, &p, &err) == PPML_OK);
	CHECK(p.attributes_xfrm == 0x3 && p.attribute_mask_xfrm == 0xfffffffffff9ff1bull);
}

TEST(v20_xfrm_and_v18_date)
{
	struct ppml_sgx_manifest_attrs m = {0, 0, "required", "disabled", "required", "disabled",
					    "required"};
	struct ppml_sigstruct_params p;
	struct ppml_err err = {0};
	uint32_t d = 1;
	memset(&p, 0, sizeof(p));
	CHECK(ppml_sigstruct_attributes(&m, &p, &err) == PPML_OK);
	CHECKF(p.attributes_xfrm == 0x60203, "xfrm 0x%llx", (unsigned long long)p.attributes_xfrm);
	CHECK(ppml_sigstruct_parse_date("0000-00-00", &d, &err) == PPML_OK && d == 0);
	CHECK(ppml_sigstruct_parse_date("2024-12-31", &d, &err) == PPML_OK && d == 0x20241231);
	CHECK(ppml_sigstruct_parse_date("2024-1-31", &d, &err) == PPML_E_INPUT);
	CHECK(ppml_sigstruct_parse_date("2024-12-3a", &d, &err) == PPML_E_INPUT);
	CHECK(ppml_sigstruct_parse_date("2024/12/31", &d, &err) == PPML_E_INPUT);
	/* Gramine v1.3 (spec 12): binary u16 year, u8 month, u8 day: e8 07 0c 1f */
	CHECK(ppml_sigstruct_parse_date_binary("2024-12-31", &d, &err) == PPML_OK && d == 0x1f0c07e8);
	CHECK(ppml_sigstruct_parse_date_binary("0000-00-00", &d, &err) == PPML_E_INPUT);
	CHECK(ppml_sigstruct_parse_date_binary("2024-13-01", &d, &err) == PPML_E_INPUT);
	CHECK(ppml_sigstruct_parse_date_binary("2024-1-31", &d, &err) == PPML_E_INPUT);
}

TEST(parse_size_python_syntax)
{
	struct { const char *s; uint64_t v; } ok[] = {
		{"256M", 256ull << 20}, {"1G", 1ull << 30}, {"4K", 4096}, {"0x20000000", 0x20000000},
		{"0o20", 16}, {"0b101", 5}, {"1_024M", 1024ull << 20}, {"0x_10", 16}, {"0", 0},
		{"00", 0}, {" 64G", 64ull << 30}, {"+8", 8}, {"1024G", 1ull << 40}, {"0X10", 16},
		{"0x10K", 16ull << 10}, {"1_000", 1000},
	};
	const char *bad[] = {"", "M", "256m", "1T", "010", "1__0", "_1", "1_", "0x", "0x__1", "-1",
			     "12a", "0b2", "0o8", "1g", "01", "0x1gK", "99999999999999999999", "17179869184G", "1.5G", "0x_"};
	struct ppml_err err = {0};
	uint64_t v;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECKF(ppml_sgx_parse_size(ok[i].s, "x", &v, &err) == PPML_OK && v == ok[i].v,
		       "\"%s\" -> %llu (%s)", ok[i].s, (unsigned long long)v, err.msg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(ppml_sgx_parse_size(bad[i], "x", &v, &err) != PPML_OK, "\"%s\" accepted", bad[i]);
}

TEST(v03_layout_matches_sign_log)
{
	char dir[1024], *manifest, *pal, *log, *mem;
	size_t mlen = 0, plen = 0;
	struct ppml_measure_input in = {0};
	struct ppml_sgx_layout l;
	struct ppml_buf b = {0};
	struct ppml_err err = {0};
	REQUIRE_SHARED(shared);
	snprintf(dir, sizeof(dir), "%s/vectors/gramine-v1.9/v03_1G_t4_isv", shared);
	manifest = read_text(dir, "app.manifest.sgx", &mlen);
	pal = read_text(dir, "libpal.so", &plen);
	log = read_text(dir, "sign.log", NULL);
	REQUIRE(manifest && pal && log);
	in.manifest = (const uint8_t *)manifest;
	in.manifest_len = mlen;
	in.pal = (const uint8_t *)pal;
	in.pal_len = plen;
	in.enclave_size = 1ull << 30;
	in.max_threads = 4;
	REQUIRE(ppml_measure_layout(&in, &l, &err) == PPML_OK);
	REQUIRE(ppml_measure_layout_format(&l, &b) == PPML_OK);
	mem = strstr(log, "Memory:\n");
	REQUIRE(mem);
	mem += strlen("Memory:\n");
	CHECKF(strncmp(mem, (char *)b.data, b.len) == 0, "layout differs:\n%s", (char *)b.data);
	ppml_buf_free(&b);
	ppml_measure_layout_cleanup(&l);
	free(manifest);
	free(pal);
	free(log);
}

int main(void)
{
	RUN(all_v_vectors_byte_identical);
	RUN(e06_enclave_too_small);
	RUN(e01_e02_keys_refused);
	RUN(e03_mpx_unspecified);
	RUN(v20_xfrm_and_v18_date);
	RUN(parse_size_python_syntax);
	RUN(v03_layout_matches_sign_log);
	HARNESS_EXIT();
}
