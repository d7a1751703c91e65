/* SPDX-License-Identifier: Apache-2.0 */
/* The deterministic layer writer and the private-key guard. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "internal.h"
#include "ppml/hex.h"

/* ---- private keys ---- */

static const char *const PEM_KEYS[] = {
	"-----BEGIN PRIVATE KEY-----",     "-----BEGIN RSA PRIVATE KEY-----",
	"-----BEGIN EC PRIVATE KEY-----",  "-----BEGIN ENCRYPTED PRIVATE KEY-----",
	"-----BEGIN DSA PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----",
};

static bool b64c(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* A PEM private key block: a BEGIN line, then a header ("Proc-Type:" of
 * traditional encrypted keys) or base64 (16 characters at least).  The BEGIN
 * text alone, as a constant inside a binary (libcrypto, ppml itself), is not
 * a key.  Needs 18 bytes after the marker to decide. */
static const char *pem_key_in(const uint8_t *p, size_t n)
{
	for (size_t k = 0; k < sizeof(PEM_KEYS) / sizeof(PEM_KEYS[0]); k++) {
		size_t ml = strlen(PEM_KEYS[k]);
		const uint8_t *q = p, *end = p + n;
		while ((q = memmem(q, (size_t)(end - q), PEM_KEYS[k], ml)) != NULL) {
			const uint8_t *b = q + ml;
			q += 1;
			if (b < end && *b == '\r')
				b++;
			if (b >= end || *b != '\n')
				continue;
			b++;
			if ((size_t)(end - b) >= 10 && !memcmp(b, "Proc-Type:", 10))
				return "holds a PEM private key block";
			size_t run = 0;
			while (b + run < end && run < 16 && b64c(b[run]))
				run++;
			if (run >= 16)
				return "holds a PEM private key block";
		}
	}
	return NULL;
}

bool img_private_key_in(const uint8_t *p, size_t n, const char **why)
{
	const char *w = pem_key_in(p, n);
	if (!w && n && n <= 16384 && p[0] == 0x30) {
		/* DER: PKCS#8, or traditional RSA / EC private keys. */
		const unsigned char *q = p;
		EVP_PKEY *k = d2i_AutoPrivateKey(NULL, &q, (long)n);
		if (k && q == p + n)
			w = "is a DER private key";
		EVP_PKEY_free(k);
		ERR_clear_error();
	}
	if (why)
		*why = w;
	return w != NULL;
}

/* ---- writing ---- */

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct img_file *)a)->dest, ((const struct img_file *)b)->dest);
}

struct wctx {
	int fd;
	EVP_MD_CTX *md;
	int64_t size;
};

static la_ssize_t w_write(struct archive *a, void *c, const void *buf, size_t n)
{
	struct wctx *w = c;
	const uint8_t *p = buf;
	size_t left = n;
	(void)a;
	while (left) {
		ssize_t k = write(w->fd, p, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		left -= (size_t)k;
	}
	EVP_DigestUpdate(w->md, buf, n);
	w->size += (int64_t)n;
	return (la_ssize_t)n;
}

static void hex_final(EVP_MD_CTX *md, char out[72])
{
	uint8_t d[32];
	char h[65];
	EVP_DigestFinal_ex(md, d, NULL);
	ppml_hex_encode(d, 32, h);
	snprintf(out, 72, "sha256:%s", h);
}

static void set_common(struct archive_entry *e, const char *path, int64_t mtime)
{
	archive_entry_set_pathname(e, path);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
}

/* One regular file: streamed, hashed, scanned for key material. */
static ppml_status add_file(struct archive *a, struct archive_entry *e, const struct img_file *f,
			    int64_t mtime, struct ppml_err *err)
{
	struct stat st;
	int fd = open(f->src, O_RDONLY | O_CLOEXEC);
	static __thread uint8_t buf[1 << 16];
	/* The tail of the previous block, so a PEM marker split across two
	 * reads is still seen with its context (a marker and the 18
	 * bytes after it fit in the 128 kept). */
	uint8_t window[(1 << 16) + 128];
	size_t carry = 0;
	bool elf = false;
	EVP_MD_CTX *md = NULL;
	ppml_status rc = PPML_OK;

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ppml_err_set(err, errno == ENOENT ? PPML_E_NOTFOUND : PPML_E_IO,
				  "%s %s: %s", f->what, f->src,
				  fd < 0 ? strerror(errno) : "not a regular file");
		goto out;
	}
	archive_entry_clear(e);
	set_common(e, f->dest, mtime);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, (st.st_mode & 0111) ? 0755 : 0644);
	archive_entry_set_size(e, st.st_size);
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		rc = ppml_err_set(err, PPML_E_IO, "layer: %s: %s", f->dest, archive_error_string(a));
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	int64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ppml_err_set(err, PPML_E_IO, "%s: read: %s", f->src, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (total + n > st.st_size) {
			rc = ppml_err_set(err, PPML_E_IO, "%s changed while being read", f->src);
			goto out;
		}
		/* ELF objects are not scanned for PEM blocks: libraries such as
		 * GnuTLS embed their self-test keys, which are public. */
		if (total == 0)
			elf = n >= 4 && !memcmp(buf, "\x7f" "ELF", 4);
		memcpy(window + carry, buf, (size_t)n);
		const char *why = elf ? NULL : pem_key_in(window, carry + (size_t)n);
		if (why || (total == 0 && n == st.st_size && !elf &&
			    img_private_key_in(buf, (size_t)n, &why))) {
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "%s %s %s: refusing to put a private key in an image (keep "
					  "signing keys out of the enclave folder)",
					  f->what, f->src, why);
			goto out;
		}
		/* Keep enough for a marker (at most 38 bytes) and its context. */
		size_t keep = carry + (size_t)n < 128 ? carry + (size_t)n : 128;
		memmove(window, window + carry + (size_t)n - keep, keep);
		carry = keep;
		EVP_DigestUpdate(md, buf, (size_t)n);
		if (archive_write_data(a, buf, (size_t)n) != n) {
			rc = ppml_err_set(err, PPML_E_IO, "layer: %s: %s", f->dest,
					  archive_error_string(a));
			goto out;
		}
		total += n;
	}
	if (total != st.st_size) {
		rc = ppml_err_set(err, PPML_E_IO, "%s changed while being read", f->src);
		goto out;
	}
	if (f->has_sha256) {
		uint8_t d[32];
		char h[65];
		EVP_DigestFinal_ex(md, d, NULL);
		ppml_hex_encode(d, 32, h);
		if (CRYPTO_memcmp(h, f->sha256, 64) != 0)
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "%s %s: SHA-256 %s, but manifest.sgx says %s: the file "
					  "changed after signing",
					  f->what, f->src, h, f->sha256);
	}
out:
	EVP_MD_CTX_free(md);
	if (fd >= 0)
		close(fd);
	return rc;
}

ppml_status img_layer_write(struct img_file *files, size_t n, int64_t mtime, const char *out_path,
			    char digest[72], int64_t *size, char diff_id[72], int64_t *tar_size,
			    struct ppml_err *err)
{
	struct archive *a = NULL;
	struct archive_entry *e = archive_entry_new();
	struct wctx w = {.fd = -1};
	char **dirs = NULL;
	size_t n_dirs = 0;
	ppml_status rc = PPML_OK;

	qsort(files, n, sizeof(*files), cmp_files);
	for (size_t i = 0; i + 1 < n; i++)
		if (strcmp(files[i].dest, files[i + 1].dest) == 0)
			return ppml_err_set(err, PPML_E_INPUT,
					    "two files for /%s in the layer (%s and %s)",
					    files[i].dest, files[i].src, files[i + 1].src);
	/* Every parent folder, once, in the sorted order of the files. */
	dirs = calloc(n * 8 + 1, sizeof(char *));
	for (size_t i = 0; dirs && i < n; i++) {
		char p[PPML_IMAGE_MAX_PATH + 1];
		snprintf(p, sizeof(p), "%s", files[i].dest);
		for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
			*s = 0;
			bool seen = false;
			for (size_t j = n_dirs; j-- > 0 && !seen;)
				seen = strcmp(dirs[j], p) == 0;
			if (!seen) {
				if (n_dirs == n * 8) {
					rc = ppml_err_set(err, PPML_E_LIMIT, "layer: paths too deep");
					goto out;
				}
				dirs[n_dirs++] = strdup(p);
			}
			*s = '/';
		}
	}
	w.md = EVP_MD_CTX_new();
	if (!dirs || !e || !w.md || EVP_DigestInit_ex(w.md, EVP_sha256(), NULL) != 1) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	if ((w.fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		rc = ppml_err_set(err, PPML_E_IO, "%s: %s", out_path, strerror(errno));
		goto out;
	}
	a = archive_write_new();
	if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    /* No time and no name in the gzip header: reproducible bytes. */
	    archive_write_set_options(a, "gzip:!timestamp") != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, &w, NULL, w_write, NULL) != ARCHIVE_OK) {
		rc = ppml_err_set(err, PPML_E_INTERNAL, "layer: libarchive: %s",
				  a ? archive_error_string(a) : "no memory");
		goto out;
	}
	/* Folders and files interleaved in one sorted order: a parent always
	 * sorts before its children. */
	size_t di = 0, fi = 0;
	for (size_t j = 0; j < n_dirs; j++)
		for (size_t k = j + 1; k < n_dirs; k++)
			if (strcmp(dirs[k], dirs[j]) < 0) {
				char *t = dirs[j];
				dirs[j] = dirs[k];
				dirs[k] = t;
			}
	while (di < n_dirs || fi < n) {
		if (di < n_dirs && (fi == n || strcmp(dirs[di], files[fi].dest) < 0)) {
			archive_entry_clear(e);
			set_common(e, dirs[di], mtime);
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
			if (archive_write_header(a, e) != ARCHIVE_OK) {
				rc = ppml_err_set(err, PPML_E_IO, "layer: %s",
						  archive_error_string(a));
				goto out;
			}
			di++;
		} else {
			if ((rc = add_file(a, e, &files[fi], mtime, err)) != PPML_OK)
				goto out;
			fi++;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		rc = ppml_err_set(err, PPML_E_IO, "layer: %s", archive_error_string(a));
		goto out;
	}
	hex_final(w.md, digest);
	*size = w.size;
	close(w.fd);
	w.fd = -1;
	rc = img_diff_id(out_path, diff_id, tar_size, err);
out:
	if (a)
		archive_write_free(a);
	if (w.fd >= 0)
		close(w.fd);
	if (rc != PPML_OK)
		unlink(out_path);
	EVP_MD_CTX_free(w.md);
	archive_entry_free(e);
	for (size_t i = 0; i < n_dirs; i++)
		free(dirs[i]);
	free(dirs);
	return rc;
}

ppml_status img_layer_uncompress(const char *path, img_sink sink, void *ctx, struct ppml_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	static __thread uint8_t buf[1 << 16];
	ppml_status rc = PPML_OK;

	if (!a)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		rc = ppml_err_set(err, PPML_E_INPUT, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0) {
			rc = ppml_err_set(err, PPML_E_INPUT, "%s: %s", path, archive_error_string(a));
			break;
		}
		if (n == 0)
			break;
		if (!sink(ctx, buf, (size_t)n)) {
			rc = ppml_err_set(err, PPML_E_IO, "%s: write failed", path);
			break;
		}
	}
out:
	archive_read_free(a);
	return rc;
}
