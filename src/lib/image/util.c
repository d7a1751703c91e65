/* SPDX-License-Identifier: Apache-2.0 */
/* Image references, digests, paths and the layer reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "internal.h"
#include "ppml/hex.h"
#include "ppml/limits.h"

ppml_status ppml_image_ref_parse(const char *s, bool allow_scratch, struct ppml_image_ref *out,
				 struct ppml_err *err)
{
	memset(out, 0, sizeof(*out));
	if (allow_scratch && strcmp(s, "scratch") == 0) {
		out->kind = PPML_IMAGE_SCRATCH;
		return PPML_OK;
	}
	if (strncmp(s, "oci:", 4) == 0) {
		const char *p = s + 4, *colon = strchr(p, ':');
		size_t pl = colon ? (size_t)(colon - p) : strlen(p);
		if (pl == 0 || pl >= sizeof(out->path) || (colon && (!colon[1] ||
								    strlen(colon + 1) >= sizeof(out->tag))))
			return ppml_err_set(err, PPML_E_INPUT, "'%s': expected oci:DIR[:TAG]", s);
		out->kind = PPML_IMAGE_OCI;
		memcpy(out->path, p, pl);
		if (colon)
			snprintf(out->tag, sizeof(out->tag), "%s", colon + 1);
		return PPML_OK;
	}
	if (strncmp(s, "docker-archive:", 15) == 0 && s[15] &&
	    strlen(s + 15) < sizeof(out->path)) {
		out->kind = PPML_IMAGE_DOCKER_ARCHIVE;
		snprintf(out->path, sizeof(out->path), "%s", s + 15);
		return PPML_OK;
	}
	return ppml_err_set(err, PPML_E_INPUT, "'%s': expected oci:DIR[:TAG], docker-archive:FILE%s",
			    s, allow_scratch ? " or scratch" : "");
}

void img_digest(const void *p, size_t n, char out[72])
{
	uint8_t md[32];
	char hex[65];
	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	ppml_hex_encode(md, 32, hex);
	snprintf(out, 72, "sha256:%s", hex);
}

static void digest_final(EVP_MD_CTX *ctx, char out[72])
{
	uint8_t md[32];
	char hex[65];
	EVP_DigestFinal_ex(ctx, md, NULL);
	ppml_hex_encode(md, 32, hex);
	snprintf(out, 72, "sha256:%s", hex);
}

ppml_status img_digest_file(const char *path, char out[72], int64_t *size, struct ppml_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	static __thread uint8_t buf[1 << 16];
	int64_t total = 0;
	ssize_t n;

	if (fd < 0 || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		EVP_MD_CTX_free(ctx);
		return ppml_err_set(err, errno == ENOENT ? PPML_E_NOTFOUND : PPML_E_IO, "%s: %s",
				    path, strerror(e));
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += n;
	}
	int e = errno;
	close(fd);
	if (n < 0) {
		EVP_MD_CTX_free(ctx);
		return ppml_err_set(err, PPML_E_IO, "%s: read: %s", path, strerror(e));
	}
	digest_final(ctx, out);
	EVP_MD_CTX_free(ctx);
	if (size)
		*size = total;
	return PPML_OK;
}

bool img_digest_ok(const char *d)
{
	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
		return false;
	for (int i = 7; i < 71; i++)
		if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f')))
			return false;
	return true;
}

bool img_norm_path(const char *in, char *out, size_t out_len)
{
	size_t w = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0)
			break;
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		if (!(n == 1 && p[0] == '.')) {
			if (w + n + 2 > out_len || w + n + 1 > PPML_IMAGE_MAX_PATH)
				return false;
			if (w)
				out[w++] = '/';
			memcpy(out + w, p, n);
			w += n;
		}
		p += n;
	}
	if (out_len == 0)
		return false;
	out[w] = 0;
	return true;
}

long img_entry_read(struct archive *a, void *buf, size_t len)
{
	la_ssize_t n = archive_read_data(a, buf, len);
	return n < 0 ? -1 : (long)n;
}

static struct archive *open_layer(const char *path, struct ppml_err *err)
{
	struct archive *a = archive_read_new();
	if (!a) {
		ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		return NULL;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		ppml_err_set(err, PPML_E_INPUT, "%s: not a tar or tar.gz layer: %s", path,
			     archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

ppml_status img_layer_scan(const char *path, const char *what, img_entry_fn fn, void *ctx,
			   struct ppml_err *err)
{
	struct archive *a = open_layer(path, err);
	struct archive_entry *ae;
	char np[PPML_IMAGE_MAX_PATH + 1], nl[PPML_IMAGE_MAX_PATH + 1];
	ppml_status rc = PPML_OK;
	int r;

	if (!a)
		return PPML_E_INPUT;
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae);
		struct img_entry e = {0};
		if (!name || !img_norm_path(name, np, sizeof(np))) {
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "%s: entry '%.200s': the path escapes the root (\"..\") or "
					  "is too long",
					  what, name ? name : "(none)");
			break;
		}
		e.path = np;
		e.size = archive_entry_size(ae);
		e.mode = (unsigned)archive_entry_perm(ae);
		const char *hl = archive_entry_hardlink(ae);
		if (hl) {
			if (!img_norm_path(hl, nl, sizeof(nl))) {
				rc = ppml_err_set(err, PPML_E_INPUT,
						  "%s: hard link '%.200s' -> '%.200s' escapes the root",
						  what, name, hl);
				break;
			}
			e.type = 0;
			e.link = nl;
		} else {
			e.type = (int)archive_entry_filetype(ae);
			if (e.type == AE_IFLNK)
				e.link = archive_entry_symlink(ae);
		}
		if (!fn(ctx, &e, a))
			break;
	}
	if (rc == PPML_OK && r != ARCHIVE_OK && r != ARCHIVE_EOF)
		rc = ppml_err_set(err, PPML_E_INPUT, "%s: corrupt tar: %s", what,
				  archive_error_string(a));
	archive_read_free(a);
	return rc;
}

ppml_status img_diff_id(const char *path, char out[72], int64_t *size, struct ppml_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	static __thread uint8_t buf[1 << 16];
	int64_t total = 0;
	ppml_status rc = PPML_OK;

	if (!a || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	/* "raw" with the gzip filter: the decompressed byte stream (or the
	 * file itself when it is not compressed). */
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		rc = ppml_err_set(err, PPML_E_INPUT, "%s: unreadable layer: %s", path,
				  archive_error_string(a));
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0) {
			rc = ppml_err_set(err, PPML_E_INPUT, "%s: corrupt compressed layer: %s", path,
					  archive_error_string(a));
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += n;
	}
	digest_final(ctx, out);
	if (size)
		*size = total;
out:
	EVP_MD_CTX_free(ctx);
	if (a)
		archive_read_free(a);
	return rc;
}
