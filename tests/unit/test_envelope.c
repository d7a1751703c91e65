/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encrypted files (PPMLENC1): round trips at every segment boundary, and
 * each attack on the STREAM construction refused with no output left: a
 * flipped bit anywhere, truncation (at a segment boundary and inside one),
 * swapped segments, a segment spliced from another file, an edited header,
 * the wrong key.
 */
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/rand.h>

#include "harness.h"
#include "ppml/envelope.h"
#include "ppml/file.h"

static char dir[64];
static uint8_t key[32];

static char *p(const char *name)
{
	static char buf[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static bool make_file(const char *path, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	RAND_bytes(b, (int)(n ? n : 1));
	struct ppml_err err;
	bool ok = ppml_file_write_atomic(path, b, n, 0600, 0, &err) == PPML_OK;
	free(b);
	return ok;
}

static struct ppml_enc_header hdr(void)
{
	struct ppml_enc_header h = {.key_version = 3, .wrapped_len = 40};
	snprintf(h.key_name, sizeof(h.key_name), "model-key");
	memset(h.wrapped, 0x5a, 40);
	return h;
}

static bool same(const char *a, const char *b)
{
	uint8_t *x = NULL, *y = NULL;
	size_t xl = 0, yl = 0;
	bool ok = ppml_file_read(a, 1 << 24, &x, &xl, NULL) == PPML_OK &&
		  ppml_file_read(b, 1 << 24, &y, &yl, NULL) == PPML_OK && xl == yl &&
		  (!xl || !memcmp(x, y, xl));
	free(x);
	free(y);
	return ok;
}

static size_t leftovers(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;
	while (d && (de = readdir(d)))
		n += strstr(de->d_name, ".tmp-") != NULL;
	if (d)
		closedir(d);
	return n;
}

TEST(round_trips)
{
	/* From 2 MiB up, a regular file is encrypted by parallel workers
	 * (1 MiB batches): the threshold, a full last segment, and a batch
	 * cut short must give the same format as the serial path. */
	const size_t sizes[] = {0,	     1,		  65535,	 65536,		65537,
				131072,	     3 * 65536 + 17, (2u << 20) - 1, 2u << 20,	(2u << 20) + 1,
				5u << 20,    (5u << 20) + 65536 + 17};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct ppml_enc_header h = hdr(), r;
		struct ppml_err err = {0};
		REQUIRE(make_file(p("plain"), sizes[i]));
		CHECKF(ppml_enc_encrypt_file(p("plain"), p("enc"), key, &h, NULL, NULL, &err) == PPML_OK,
		       "encrypt %zu: %s", sizes[i], err.msg);
		struct stat st;
		stat(p("enc"), &st);
		size_t segs = sizes[i] ? (sizes[i] + 65535) / 65536 : 1; /* the last one may be full */
		CHECKF((size_t)st.st_size == 8 + 1 + 2 + 9 + 4 + 2 + 40 + 7 + 4 + sizes[i] + 16 * segs,
		       "size %zu: %lld bytes", sizes[i], (long long)st.st_size);
		CHECK((st.st_mode & 0777) == 0600);
		CHECK(ppml_enc_read_header(p("enc"), &r, NULL) == PPML_OK && r.key_version == 3 &&
		      !strcmp(r.key_name, "model-key") && r.wrapped_len == 40);
		CHECKF(ppml_enc_decrypt_file(p("enc"), p("dec"), key, NULL, NULL, &err) == PPML_OK,
		       "decrypt %zu: %s", sizes[i], err.msg);
		CHECKF(same(p("plain"), p("dec")), "size %zu differs", sizes[i]);
	}
	CHECK(leftovers() == 0);
}

/* Decrypting `variant` must fail with PPML_E_REFUSED or PPML_E_INPUT and leave no output. */
static bool refused(const char *variant, const char *want)
{
	struct ppml_err err = {0};
	unlink(p("out"));
	ppml_status st = ppml_enc_decrypt_file(variant, p("out"), key, NULL, NULL, &err);
	bool ok = (st == PPML_E_REFUSED || st == PPML_E_INPUT) && access(p("out"), F_OK) != 0 &&
		  leftovers() == 0 && (!want || strstr(err.msg, want));
	if (!ok)
		fprintf(stderr, "refused(%s): status %d: %s\n", want ? want : "-", st, err.msg);
	return ok;
}

static uint8_t *enc;
static size_t enc_len, hlen = 8 + 1 + 2 + 9 + 4 + 2 + 40 + 7 + 4;

static void put(const uint8_t *b, size_t n)
{
	REQUIRE(ppml_file_write_atomic(p("variant"), b, n, 0600, 0, NULL) == PPML_OK);
}

TEST(every_attack_refused)
{
	struct ppml_enc_header h = hdr();
	REQUIRE(make_file(p("plain"), 3 * 65536 + 100));
	REQUIRE(ppml_enc_encrypt_file(p("plain"), p("enc"), key, &h, NULL, NULL, NULL) == PPML_OK);
	REQUIRE(ppml_file_read(p("enc"), 1 << 24, &enc, &enc_len, NULL) == PPML_OK);
	uint8_t *v = malloc(enc_len);
	size_t seg = 65536 + 16;
	/* A flipped bit in every 997th byte: header, bodies, tags. */
	size_t bad = 0, tried = 0;
	for (size_t i = 0; i < enc_len; i += 997) {
		memcpy(v, enc, enc_len);
		v[i] ^= 1;
		put(v, enc_len);
		tried++;
		bad += !refused(p("variant"), NULL);
	}
	CHECKF(bad == 0, "%zu of %zu flipped files not refused", bad, tried);
	/* Truncation: the final segment dropped; a cut inside a segment; the header only. */
	put(enc, hlen + 3 * seg);
	CHECK(refused(p("variant"), "segment 2"));
	put(enc, enc_len - 1);
	CHECK(refused(p("variant"), "segment 3"));
	put(enc, hlen);
	CHECK(refused(p("variant"), "truncated"));
	put(enc, hlen - 3);
	CHECK(refused(p("variant"), "truncated header"));
	/* Segments 0 and 1 swapped. */
	memcpy(v, enc, enc_len);
	memcpy(v + hlen, enc + hlen + seg, seg);
	memcpy(v + hlen + seg, enc + hlen, seg);
	put(v, enc_len);
	CHECK(refused(p("variant"), "segment 0"));
	/* A segment from another file under the same key. */
	struct ppml_enc_header h2 = hdr();
	uint8_t *other = NULL;
	size_t ol = 0;
	REQUIRE(ppml_enc_encrypt_file(p("plain"), p("enc2"), key, &h2, NULL, NULL, NULL) == PPML_OK);
	REQUIRE(ppml_file_read(p("enc2"), 1 << 24, &other, &ol, NULL) == PPML_OK && ol == enc_len);
	memcpy(v, enc, enc_len);
	memcpy(v + hlen + seg, other + hlen + seg, seg);
	put(v, enc_len);
	CHECK(refused(p("variant"), "segment 1"));
	/* An edited header (key version), and the wrong key. */
	memcpy(v, enc, enc_len);
	v[8 + 1 + 2 + 9 + 3] ^= 1;
	put(v, enc_len);
	CHECK(refused(p("variant"), "segment 0"));
	uint8_t k2[32];
	memcpy(k2, key, 32);
	k2[0] ^= 1;
	struct ppml_err err = {0};
	CHECK(ppml_enc_decrypt_file(p("enc"), p("out"), k2, NULL, NULL, &err) == PPML_E_REFUSED &&
	      access(p("out"), F_OK) != 0);
	/* A bad magic is named; an existing output is kept on failure. */
	memcpy(v, enc, enc_len);
	v[0] = 'X';
	put(v, enc_len);
	CHECK(refused(p("variant"), "PPMLENC1"));
	REQUIRE(make_file(p("keep"), 10));
	CHECK(ppml_enc_decrypt_file(p("variant"), p("keep"), key, NULL, NULL, &err) != PPML_OK);
	struct stat st;
	CHECK(stat(p("keep"), &st) == 0 && st.st_size == 10);
	free(v);
	free(other);
	free(enc);
}

static uint64_t last_done, last_total, calls;

static void note_progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	CHECK(done >= last_done || calls == 0);
	last_done = done;
	last_total = total;
	calls++;
}

/* Files of 2 MiB and more go through the parallel workers in both
 * directions: every attack must still be refused, naming the first bad
 * segment in file order as the serial path does, with nothing left. */
TEST(parallel_attacks_refused)
{
	struct ppml_enc_header h = hdr();
	const size_t n = (5u << 20) + 17, seg = 65536 + 16, segs = 81;
	REQUIRE(make_file(p("plain"), n));
	calls = last_done = 0;
	REQUIRE(ppml_enc_encrypt_file(p("plain"), p("enc"), key, &h, note_progress, NULL, NULL) ==
		PPML_OK);
	CHECKF(calls >= 5 && last_done == n && last_total == n, "encrypt progress %llu/%llu",
	       (unsigned long long)last_done, (unsigned long long)last_total);
	uint8_t *e = NULL;
	size_t el = 0;
	REQUIRE(ppml_file_read(p("enc"), 1 << 24, &e, &el, NULL) == PPML_OK);
	CHECK(el == hlen + n + 16 * segs);
	calls = last_done = 0;
	CHECK(ppml_enc_decrypt_file(p("enc"), p("dec"), key, note_progress, NULL, NULL) == PPML_OK &&
	      same(p("plain"), p("dec")));
	CHECKF(calls >= 5 && last_done == el - hlen && last_total == el - hlen,
	       "decrypt progress %llu/%llu", (unsigned long long)last_done,
	       (unsigned long long)last_total);
	uint8_t *v = malloc(el + 1);
	/* One flipped bit in segment 50; flips in 70 and 20 (20 is named). */
	memcpy(v, e, el);
	v[hlen + 50 * seg + 1000] ^= 1;
	put(v, el);
	CHECK(refused(p("variant"), "segment 50 does not verify"));
	memcpy(v, e, el);
	v[hlen + 70 * seg + 7] ^= 1;
	v[hlen + 20 * seg + seg - 1] ^= 1; /* its tag */
	put(v, el);
	CHECK(refused(p("variant"), "segment 20 does not verify"));
	/* Cut at a segment boundary: segment 39 is not a final one. */
	put(e, hlen + 40 * seg);
	CHECK(refused(p("variant"), "segment 39 does not verify"));
	/* Cut inside the final segment; cut to fewer than a tag's bytes. */
	put(e, el - 1);
	CHECK(refused(p("variant"), "segment 80 does not verify"));
	put(e, hlen + 80 * seg + 5);
	CHECK(refused(p("variant"), "truncated: segment 80"));
	/* The same cut with a flip in segment 10: segment 10 comes first. */
	memcpy(v, e, el);
	v[hlen + 10 * seg + 3] ^= 1;
	put(v, hlen + 80 * seg + 5);
	CHECK(refused(p("variant"), "segment 10 does not verify"));
	/* Segments 30 and 31 swapped; one byte appended. */
	memcpy(v, e, el);
	memcpy(v + hlen + 30 * seg, e + hlen + 31 * seg, seg);
	memcpy(v + hlen + 31 * seg, e + hlen + 30 * seg, seg);
	put(v, el);
	CHECK(refused(p("variant"), "segment 30 does not verify"));
	memcpy(v, e, el);
	v[el] = 0;
	put(v, el + 1);
	CHECK(refused(p("variant"), "segment 80 does not verify"));
	CHECK(leftovers() == 0);
	free(v);
	free(e);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ppml-test-env-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RAND_bytes(key, 32);
	RUN(round_trips);
	RUN(every_attack_refused);
	RUN(parallel_attacks_refused);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	HARNESS_EXIT();
}
