/* SPDX-License-Identifier: Apache-2.0 */
/* Encrypted files (include/ppml/envelope.h): the STREAM construction with
 * AES-256-GCM over 64 KiB segments. */
#include "ppml/envelope.h"
#include "ppml/file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define HDR_MAX (8 + 1 + 2 + PPML_ENC_MAX_NAME + 4 + 2 + PPML_ENC_MAX_WRAPPED + 7 + 4)

static size_t header_bytes(const struct ppml_enc_header *h, uint8_t out[HDR_MAX])
{
	size_t n = 0, nl = strlen(h->key_name);
	memcpy(out, PPML_ENC_MAGIC, 8);
	n = 8;
	out[n++] = PPML_ENC_VERSION;
	out[n++] = (uint8_t)(nl >> 8);
	out[n++] = (uint8_t)nl;
	memcpy(out + n, h->key_name, nl);
	n += nl;
	for (int i = 3; i >= 0; i--)
		out[n++] = (uint8_t)(h->key_version >> (8 * i));
	out[n++] = (uint8_t)(h->wrapped_len >> 8);
	out[n++] = (uint8_t)h->wrapped_len;
	memcpy(out + n, h->wrapped, h->wrapped_len);
	n += h->wrapped_len;
	memcpy(out + n, h->prefix, 7);
	n += 7;
	for (int i = 3; i >= 0; i--)
		out[n++] = (uint8_t)(h->segment >> (8 * i));
	return n;
}

/* Parses the header from an open file; hb receives its bytes (the AAD). */
static ppml_status parse_header(int fd, const char *path, struct ppml_enc_header *h,
				uint8_t hb[HDR_MAX], size_t *hl, struct ppml_err *err)
{
	uint8_t b[4];
	size_t got, n = 0;
	memset(h, 0, sizeof(*h));
#define NEED(k, what)                                                                         \
	if (!ppml_fd_read_full(fd, hb + n, (k), &got) || got != (k))                                   \
		return ppml_err_set(err, PPML_E_INPUT, "%s: truncated header (%s at offset %zu)", \
				    path, what, n);                                            \
	n += (k);
	NEED(9, "magic and version");
	if (memcmp(hb, PPML_ENC_MAGIC, 8) != 0)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: not a ppml encrypted file (no PPMLENC1 magic)", path);
	if (hb[8] != PPML_ENC_VERSION)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: format version %u at offset 8: this ppml reads version %u",
				    path, hb[8], PPML_ENC_VERSION);
	NEED(2, "key name length");
	size_t nl = (size_t)hb[n - 2] << 8 | hb[n - 1];
	if (nl == 0 || nl > PPML_ENC_MAX_NAME)
		return ppml_err_set(err, PPML_E_INPUT, "%s: key name length %zu at offset 9", path,
				    nl);
	NEED(nl, "key name");
	memcpy(h->key_name, hb + n - nl, nl);
	if (memchr(h->key_name, 0, nl))
		return ppml_err_set(err, PPML_E_INPUT, "%s: NUL in the key name", path);
	NEED(4, "key version");
	memcpy(b, hb + n - 4, 4);
	h->key_version = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	NEED(2, "wrapped key length");
	h->wrapped_len = (size_t)hb[n - 2] << 8 | hb[n - 1];
	if (h->wrapped_len == 0 || h->wrapped_len > PPML_ENC_MAX_WRAPPED)
		return ppml_err_set(err, PPML_E_INPUT, "%s: wrapped key length %zu", path,
				    h->wrapped_len);
	NEED(h->wrapped_len, "wrapped key");
	memcpy(h->wrapped, hb + n - h->wrapped_len, h->wrapped_len);
	NEED(11, "nonce prefix and segment size");
	memcpy(h->prefix, hb + n - 11, 7);
	memcpy(b, hb + n - 4, 4);
	h->segment = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	if (h->segment != PPML_ENC_SEGMENT)
		return ppml_err_set(err, PPML_E_INPUT, "%s: segment size %u: expected %u", path,
				    h->segment, PPML_ENC_SEGMENT);
#undef NEED
	*hl = n;
	return PPML_OK;
}

ppml_status ppml_enc_read_header(const char *path, struct ppml_enc_header *h,
				 struct ppml_err *err)
{
	uint8_t hb[HDR_MAX];
	size_t hl;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ppml_err_set(err, errno == ENOENT ? PPML_E_NOTFOUND : PPML_E_IO, "%s: %s",
				    path, strerror(errno));
	ppml_status rc = parse_header(fd, path, h, hb, &hl, err);
	close(fd);
	return rc;
}

static void seg_nonce(const uint8_t prefix[7], uint32_t i, bool last, uint8_t nonce[12])
{
	memcpy(nonce, prefix, 7);
	nonce[7] = (uint8_t)(i >> 24);
	nonce[8] = (uint8_t)(i >> 16);
	nonce[9] = (uint8_t)(i >> 8);
	nonce[10] = (uint8_t)i;
	nonce[11] = last ? 1 : 0;
}

/* One AES-256-GCM operation on a segment with a reused context. */
static bool gcm(EVP_CIPHER_CTX *c, bool enc, const uint8_t key[32], const uint8_t nonce[12],
		const uint8_t *aad, size_t al, const uint8_t *in, size_t n, uint8_t *out,
		uint8_t tag[16])
{
	int k = 0, f = 0;
	if (enc) {
		return EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
		       EVP_EncryptUpdate(c, NULL, &k, aad, (int)al) == 1 &&
		       (!n || EVP_EncryptUpdate(c, out, &k, in, (int)n) == 1) &&
		       EVP_EncryptFinal_ex(c, out + (n ? k : 0), &f) == 1 &&
		       EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	}
	return EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
	       EVP_DecryptUpdate(c, NULL, &k, aad, (int)al) == 1 &&
	       (!n || EVP_DecryptUpdate(c, out, &k, in, (int)n) == 1) &&
	       EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
	       EVP_DecryptFinal_ex(c, out + (n ? k : 0), &f) == 1;
}

/* A temporary file beside out_path; renamed over it at the end. */
static int open_tmp(const char *out_path, char *tmp, size_t tl, struct ppml_err *err)
{
	snprintf(tmp, tl, "%s.tmp-XXXXXX", out_path);
	int fd = mkstemp(tmp);
	if (fd < 0)
		ppml_err_set(err, PPML_E_IO, "%s: cannot create a temporary file: %s", out_path,
			     strerror(errno));
	else
		fchmod(fd, 0600);
	return fd;
}

static ppml_status finish(int fd, const char *tmp, const char *out_path, struct ppml_err *err)
{
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(tmp);
		return ppml_err_set(err, PPML_E_IO, "%s: %s", out_path, strerror(errno));
	}
	if (rename(tmp, out_path) != 0) {
		unlink(tmp);
		return ppml_err_set(err, PPML_E_IO, "%s: %s", out_path, strerror(errno));
	}
	return PPML_OK;
}

/* ---- parallel encryption of a regular file ----
 *
 * Segments are independent (each has its own nonce), so a regular input of
 * known size is cut into batches of ENC_BATCH segments that worker threads
 * take in any order: pread the batch, encrypt each segment, pwrite the
 * batch at its place in the output (header + index x (segment + tag)), and
 * ask the kernel to start writing it back, so the final fsync finds most of
 * the file already on disk.  I/O and cipher overlap across the threads.
 * The bytes are exactly those of the serial path.  Memory stays bounded:
 * two batch buffers per thread. */

#define ENC_BATCH   16u                      /* segments: 1 MiB of plaintext */
#define ENC_THREADS 8

struct par {
	int ifd, ofd;
	const char *in_path, *out_path;
	const uint8_t *key, *hb, *prefix;
	size_t hl;
	uint64_t total;                      /* plaintext bytes */
	uint64_t nseg;                       /* segments, the last possibly short */
	atomic_uint_fast64_t next;           /* the next batch to take */
	atomic_bool failed;
	pthread_mutex_t mu;                  /* err, progress */
	ppml_status rc;
	struct ppml_err *err;
	uint64_t done;
	void (*progress)(void *, uint64_t, uint64_t);
	void *pctx;
	/* decryption only: the ciphertext body, and the lowest segment that
	 * failed (UINT64_MAX: none), so the error is the serial path's */
	uint64_t body, last_len, final_idx;
	uint64_t bad_seg;
	bool bad_truncated;
};

static bool pread_full(int fd, uint8_t *b, size_t n, uint64_t off)
{
	while (n) {
		ssize_t k = pread(fd, b, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = 0;
			return false;
		}
		b += k, n -= (size_t)k, off += (uint64_t)k;
	}
	return true;
}

static bool pwrite_full(int fd, const uint8_t *b, size_t n, uint64_t off)
{
	while (n) {
		ssize_t k = pwrite(fd, b, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		b += k, n -= (size_t)k, off += (uint64_t)k;
	}
	return true;
}

/* The first failure wins; the other workers stop at their next batch. */
static void par_fail(struct par *p, ppml_status rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void par_fail(struct par *p, ppml_status rc, const char *fmt, ...)
{
	pthread_mutex_lock(&p->mu);
	if (!atomic_load(&p->failed)) {
		char msg[512];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		p->rc = ppml_err_set(p->err, rc, "%s", msg);
		atomic_store(&p->failed, true);
	}
	pthread_mutex_unlock(&p->mu);
}

/* Reads one batch of the input at off; false (the failure recorded) when
 * the read fails or the file ends early: it shrank while being `done`
 * ("encrypted"), by `verb` ("encrypt"). */
static bool par_read(struct par *p, uint8_t *in, size_t len, uint64_t off, const char *done,
		     const char *verb)
{
	if (!len || pread_full(p->ifd, in, len, off))
		return true;
	if (errno)
		par_fail(p, PPML_E_IO, "%s: read at offset %llu: %s", p->in_path,
			 (unsigned long long)off, strerror(errno));
	else
		par_fail(p, PPML_E_IO, "%s: the file shrank while it was being %s (offset %llu); "
			 "%s a file nobody is writing", p->in_path, done, (unsigned long long)off,
			 verb);
	return false;
}

/* Writes one batch of output at off, starts its writeback (the fsync at the
 * end then waits only for what is left), and reports `done` more input
 * bytes of `total` to the progress callback. */
static bool par_write(struct par *p, const uint8_t *out, size_t olen, uint64_t off,
		      uint64_t done, uint64_t total)
{
	if (olen && !pwrite_full(p->ofd, out, olen, off)) {
		par_fail(p, PPML_E_IO, "%s: write: %s", p->out_path, strerror(errno));
		return false;
	}
	sync_file_range(p->ofd, (off_t)off, (off_t)olen, SYNC_FILE_RANGE_WRITE);
	if (p->progress) {
		pthread_mutex_lock(&p->mu);
		p->done += done;
		p->progress(p->pctx, p->done, total);
		pthread_mutex_unlock(&p->mu);
	}
	return true;
}

static void *par_worker(void *arg)
{
	struct par *p = arg;
	const size_t seg = PPML_ENC_SEGMENT, cseg = PPML_ENC_SEGMENT + 16;
	uint8_t *in = malloc(ENC_BATCH * seg), *out = malloc(ENC_BATCH * cseg);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (!in || !out || !c || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) {
		par_fail(p, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	while (!atomic_load(&p->failed)) {
		uint64_t b = atomic_fetch_add(&p->next, 1), first = b * ENC_BATCH;
		if (first >= p->nseg)
			break;
		uint64_t count = p->nseg - first < ENC_BATCH ? p->nseg - first : ENC_BATCH;
		uint64_t off = first * seg;
		size_t len = (size_t)(p->total - off < count * seg ? p->total - off : count * seg);
		if (!par_read(p, in, len, off, "encrypted", "encrypt"))
			break;
		size_t olen = 0;
		for (uint64_t i = 0; i < count; i++) {
			uint64_t idx = first + i;
			size_t n = (size_t)(len - i * seg < seg ? len - i * seg : seg);
			uint8_t nonce[12];
			seg_nonce(p->prefix, (uint32_t)idx, idx == p->nseg - 1, nonce);
			if (!gcm(c, true, p->key, nonce, p->hb, p->hl, in + i * seg, n, out + olen,
				 out + olen + n)) {
				par_fail(p, PPML_E_CRYPTO, "%s: segment %llu: AES-GCM failed",
					 p->out_path, (unsigned long long)idx);
				goto out;
			}
			olen += n + 16;
		}
		if (!par_write(p, out, olen, p->hl + first * cseg, len, p->total))
			break;
	}
out:
	EVP_CIPHER_CTX_free(c);
	if (in)
		OPENSSL_cleanse(in, ENC_BATCH * seg);
	free(in);
	free(out);
	return NULL;
}

/* Records a segment that does not verify; only the lowest one counts. */
static void par_bad(struct par *p, uint64_t idx, bool truncated)
{
	pthread_mutex_lock(&p->mu);
	if (idx < p->bad_seg) {
		p->bad_seg = idx;
		p->bad_truncated = truncated;
	}
	pthread_mutex_unlock(&p->mu);
}

static void *par_dec_worker(void *arg)
{
	struct par *p = arg;
	const size_t seg = PPML_ENC_SEGMENT, cseg = PPML_ENC_SEGMENT + 16;
	uint8_t *in = malloc(ENC_BATCH * cseg), *out = malloc(ENC_BATCH * seg);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (!in || !out || !c || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) {
		par_fail(p, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	while (!atomic_load(&p->failed)) {
		uint64_t b = atomic_fetch_add(&p->next, 1), first = b * ENC_BATCH;
		pthread_mutex_lock(&p->mu);
		uint64_t bad = p->bad_seg;
		pthread_mutex_unlock(&p->mu);
		if (first >= p->nseg || first > bad)
			break;
		uint64_t count = p->nseg - first < ENC_BATCH ? p->nseg - first : ENC_BATCH;
		uint64_t off = first * cseg;
		size_t len = (size_t)(p->body - off < count * cseg ? p->body - off : count * cseg);
		if (!par_read(p, in, len, p->hl + off, "decrypted", "decrypt"))
			break;
		size_t olen = 0;
		bool ok = true;
		for (uint64_t i = 0; i < count; i++) {
			uint64_t idx = first + i;
			bool last = idx == p->final_idx;
			size_t n = last ? (size_t)p->last_len : cseg;
			uint8_t nonce[12];
			seg_nonce(p->prefix, (uint32_t)idx, last, nonce);
			if (!gcm(c, false, p->key, nonce, p->hb, p->hl, in + i * cseg, n - 16,
				 out + olen, in + i * cseg + n - 16)) {
				ERR_clear_error();
				par_bad(p, idx, false);
				ok = false;
				break;
			}
			olen += n - 16;
		}
		if (!ok || !par_write(p, out, olen, first * seg, len, p->body))
			break;
	}
out:
	EVP_CIPHER_CTX_free(c);
	if (out)
		OPENSSL_cleanse(out, ENC_BATCH * seg);
	free(in);
	free(out);
	return NULL;
}

/* Runs nthreads copies of worker over p (inline when no thread starts). */
static ppml_status par_run(struct par *p, void *(*worker)(void *), int nthreads)
{
	pthread_t t[ENC_THREADS];
	int started = 0;
	atomic_init(&p->next, 0);
	atomic_init(&p->failed, false);
	p->rc = PPML_OK;
	pthread_mutex_init(&p->mu, NULL);
	for (; started < nthreads; started++)
		if (pthread_create(&t[started], NULL, worker, p) != 0)
			break;
	if (started == 0)
		worker(p);
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&p->mu);
	return p->rc;
}

/* After the workers: a regular file must still end where it did. */
static ppml_status par_same_size(struct par *p, uint64_t size, const char *what)
{
	uint8_t probe;
	ssize_t k;
	do
		k = pread(p->ifd, &probe, 1, (off_t)size);
	while (k < 0 && errno == EINTR);
	if (k != 0)
		return ppml_err_set(p->err, PPML_E_IO, "%s: the file grew while it was being "
				    "%s; %s a file nobody is writing", p->in_path, what, what);
	return PPML_OK;
}

/* Decrypts the body of a regular file (p->body bytes after the header)
 * with nthreads workers; the first failing segment in file order is the
 * one reported, as on the serial path. */
static ppml_status decrypt_parallel(struct par *p, int nthreads)
{
	const uint64_t cseg = PPML_ENC_SEGMENT + 16;
	uint64_t nfull = p->body / cseg, rem = p->body % cseg;
	p->bad_seg = UINT64_MAX;
	p->bad_truncated = false;
	if (rem == 0) {                    /* a full final segment */
		p->nseg = nfull;
		p->last_len = cseg;
		p->final_idx = nfull - 1;
	} else if (rem < 16) {             /* the final segment is cut short */
		p->nseg = nfull;           /* the full ones before it, none final */
		p->last_len = cseg;
		p->final_idx = UINT64_MAX;
		p->bad_seg = nfull;
		p->bad_truncated = true;
	} else {
		p->nseg = nfull + 1;
		p->last_len = rem;
		p->final_idx = nfull;
	}
	if (p->nseg > (uint64_t)UINT32_MAX + 1)
		return ppml_err_set(p->err, PPML_E_LIMIT, "%s: more than 2^32 segments", p->in_path);
	ppml_status rc = par_run(p, par_dec_worker, nthreads);
	if (rc != PPML_OK)
		return rc;
	if (p->bad_seg != UINT64_MAX) {
		if (p->bad_truncated)
			return ppml_err_set(p->err, PPML_E_REFUSED,
					    "%s: truncated: segment %llu is missing or cut short (the "
					    "file ends before its final segment)",
					    p->in_path, (unsigned long long)p->bad_seg);
		return ppml_err_set(p->err, PPML_E_REFUSED,
				    "%s: segment %llu does not verify: the file was altered, "
				    "truncated, reordered or spliced, or this is the wrong key",
				    p->in_path, (unsigned long long)p->bad_seg);
	}
	return par_same_size(p, p->hl + p->body, "decrypted");
}

/* Encrypts the whole of a regular file of `total` bytes with nthreads
 * workers.  A file that grows meanwhile is refused (a shrinking one fails
 * in the reads). */
static ppml_status encrypt_parallel(struct par *p, int nthreads)
{
	p->nseg = p->total ? (p->total + PPML_ENC_SEGMENT - 1) / PPML_ENC_SEGMENT : 1;
	if (p->nseg > (uint64_t)UINT32_MAX + 1)
		return ppml_err_set(p->err, PPML_E_LIMIT, "%s: more than 2^32 segments", p->in_path);
	ppml_status rc = par_run(p, par_worker, nthreads);
	return rc != PPML_OK ? rc : par_same_size(p, p->total, "encrypted");
}

static int enc_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > ENC_THREADS ? ENC_THREADS : (int)n;
}

ppml_status ppml_enc_encrypt_file(const char *in_path, const char *out_path,
				  const uint8_t key[32], struct ppml_enc_header *h,
				  void (*progress)(void *, uint64_t, uint64_t), void *pctx,
				  struct ppml_err *err)
{
	uint8_t hb[HDR_MAX], tag[16];
	uint8_t *in = malloc(PPML_ENC_SEGMENT), *out = malloc(PPML_ENC_SEGMENT);
	char tmp[4200];
	int ifd = -1, ofd = -1;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	struct stat st;
	ppml_status rc = PPML_OK;

	if (!in || !out || !c || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	if (strlen(h->key_name) == 0 || strlen(h->key_name) > PPML_ENC_MAX_NAME ||
	    h->wrapped_len == 0 || h->wrapped_len > PPML_ENC_MAX_WRAPPED) {
		rc = ppml_err_set(err, PPML_E_INPUT, "encrypt: a key name and a wrapped key are "
				  "needed");
		goto out;
	}
	h->segment = PPML_ENC_SEGMENT;
	if (RAND_bytes(h->prefix, 7) != 1) {
		rc = ppml_err_set(err, PPML_E_CRYPTO, "encrypt: no randomness");
		goto out;
	}
	size_t hl = header_bytes(h, hb);
	if ((ifd = open(in_path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(ifd, &st) != 0) {
		rc = ppml_err_set(err, errno == ENOENT ? PPML_E_NOTFOUND : PPML_E_IO, "%s: %s",
				  in_path, strerror(errno));
		goto out;
	}
	if ((ofd = open_tmp(out_path, tmp, sizeof(tmp), err)) < 0) {
		rc = PPML_E_IO;
		goto out;
	}
	if (!ppml_fd_write_full(ofd, hb, hl)) {
		rc = ppml_err_set(err, PPML_E_IO, "%s: write: %s", out_path, strerror(errno));
		goto out;
	}
	uint64_t done = 0, total = (uint64_t)st.st_size;
	int nthreads = enc_threads();
	if (S_ISREG(st.st_mode) && nthreads > 1 && total >= 2ull * ENC_BATCH * PPML_ENC_SEGMENT) {
		struct par p = {.ifd = ifd, .ofd = ofd, .in_path = in_path, .out_path = out_path,
				.key = key, .hb = hb, .hl = hl, .prefix = h->prefix, .total = total,
				.err = err, .progress = progress, .pctx = pctx};
		if ((rc = encrypt_parallel(&p, nthreads)) != PPML_OK)
			goto out;
		goto done;
	}
	size_t got = 0;
	if (!ppml_fd_read_full(ifd, in, PPML_ENC_SEGMENT, &got)) {
		rc = ppml_err_set(err, PPML_E_IO, "%s: read: %s", in_path, strerror(errno));
		goto out;
	}
	for (uint32_t i = 0;; i++) {
		/* Look one byte ahead: the last segment is the one before EOF. */
		uint8_t probe = 0;
		size_t ngot = 0;
		bool last = got < PPML_ENC_SEGMENT;
		if (!last) {
			ssize_t k;
			do
				k = read(ifd, &probe, 1);
			while (k < 0 && errno == EINTR);
			if (k < 0) {
				rc = ppml_err_set(err, PPML_E_IO, "%s: read: %s", in_path, strerror(errno));
				goto out;
			}
			last = k == 0;
			ngot = last ? 0 : 1;
		}
		uint8_t nonce[12];
		seg_nonce(h->prefix, i, last, nonce);
		if (!gcm(c, true, key, nonce, hb, hl, in, got, out, tag) ||
		    !ppml_fd_write_full(ofd, out, got) || !ppml_fd_write_full(ofd, tag, 16)) {
			rc = ppml_err_openssl(err, PPML_E_IO, "%s: segment %u", out_path, i);
			goto out;
		}
		done += got;
		if (progress)
			progress(pctx, done, total);
		if (last)
			break;
		if (i == UINT32_MAX) {
			rc = ppml_err_set(err, PPML_E_LIMIT, "%s: more than 2^32 segments", in_path);
			goto out;
		}
		/* The probed byte starts the next segment. */
		in[0] = probe;
		size_t more = 0;
		if (!ppml_fd_read_full(ifd, in + ngot, PPML_ENC_SEGMENT - ngot, &more)) {
			rc = ppml_err_set(err, PPML_E_IO, "%s: read: %s", in_path, strerror(errno));
			goto out;
		}
		got = ngot + more;
	}
done:
	rc = finish(ofd, tmp, out_path, err);
	ofd = -1;
out:
	if (ofd >= 0) {
		close(ofd);
		unlink(tmp);
	}
	if (ifd >= 0)
		close(ifd);
	EVP_CIPHER_CTX_free(c);
	if (in)
		OPENSSL_cleanse(in, PPML_ENC_SEGMENT);
	free(in);
	free(out);
	return rc;
}

ppml_status ppml_enc_decrypt_file(const char *in_path, const char *out_path,
				  const uint8_t key[32], void (*progress)(void *, uint64_t, uint64_t),
				  void *pctx, struct ppml_err *err)
{
	struct ppml_enc_header h;
	uint8_t hb[HDR_MAX], nonce[12];
	size_t cap = PPML_ENC_SEGMENT + 16;
	uint8_t *buf = malloc(cap + 1), *pt = malloc(PPML_ENC_SEGMENT);
	char tmp[4200];
	int ifd = -1, ofd = -1;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	struct stat st;
	size_t hl = 0;
	ppml_status rc;

	if (!buf || !pt || !c || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	if ((ifd = open(in_path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(ifd, &st) != 0) {
		rc = ppml_err_set(err, errno == ENOENT ? PPML_E_NOTFOUND : PPML_E_IO, "%s: %s",
				  in_path, strerror(errno));
		goto out;
	}
	if ((rc = parse_header(ifd, in_path, &h, hb, &hl, err)) != PPML_OK)
		goto out;
	if ((ofd = open_tmp(out_path, tmp, sizeof(tmp), err)) < 0) {
		rc = PPML_E_IO;
		goto out;
	}
	uint64_t done = 0, total = st.st_size > (off_t)hl ? (uint64_t)st.st_size - hl : 0;
	int nthreads = enc_threads();
	if (S_ISREG(st.st_mode) && nthreads > 1 && total >= 2ull * ENC_BATCH * cap) {
		struct par p = {.ifd = ifd, .ofd = ofd, .in_path = in_path, .out_path = out_path,
				.key = key, .hb = hb, .hl = hl, .prefix = h.prefix, .body = total,
				.err = err, .progress = progress, .pctx = pctx};
		if ((rc = decrypt_parallel(&p, nthreads)) != PPML_OK)
			goto out;
		goto done;
	}
	/* buf holds one segment plus one byte of look-ahead. */
	size_t have = 0, got = 0;
	if (!ppml_fd_read_full(ifd, buf, cap + 1, &got)) {
		rc = ppml_err_set(err, PPML_E_IO, "%s: read: %s", in_path, strerror(errno));
		goto out;
	}
	have = got;
	for (uint32_t i = 0;; i++) {
		bool last = have <= cap;
		size_t seg = last ? have : cap;
		if (seg < 16) {
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "%s: truncated: segment %u is missing or cut short (the "
					  "file ends before its final segment)",
					  in_path, i);
			goto out;
		}
		seg_nonce(h.prefix, i, last, nonce);
		if (!gcm(c, false, key, nonce, hb, hl, buf, seg - 16, pt, buf + seg - 16)) {
			ERR_clear_error();
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "%s: segment %u does not verify: the file was altered, "
					  "truncated, reordered or spliced, or this is the wrong key",
					  in_path, i);
			goto out;
		}
		if (!ppml_fd_write_full(ofd, pt, seg - 16)) {
			rc = ppml_err_set(err, PPML_E_IO, "%s: write: %s", out_path, strerror(errno));
			goto out;
		}
		done += seg;
		if (progress)
			progress(pctx, done, total);
		if (last)
			break;
		/* The look-ahead byte starts the next segment. */
		buf[0] = buf[cap];
		if (!ppml_fd_read_full(ifd, buf + 1, cap, &got)) {
			rc = ppml_err_set(err, PPML_E_IO, "%s: read: %s", in_path, strerror(errno));
			goto out;
		}
		have = 1 + got;
	}
done:
	rc = finish(ofd, tmp, out_path, err);
	ofd = -1;
out:
	if (ofd >= 0) {
		close(ofd);
		unlink(tmp);
	}
	if (ifd >= 0)
		close(ifd);
	EVP_CIPHER_CTX_free(c);
	if (pt)
		OPENSSL_cleanse(pt, PPML_ENC_SEGMENT);
	free(pt);
	free(buf);
	return rc;
}
