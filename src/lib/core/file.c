/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ppml/file.h"

ppml_status ppml_file_read(const char *path, size_t max_len, uint8_t **data, size_t *len,
			   struct ppml_err *err)
{
	int fd = -1;
	struct stat st;
	uint8_t *buf = NULL;
	size_t cap, used = 0;
	ppml_status rc;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? PPML_E_NOTFOUND : PPML_E_IO;
		return ppml_err_set(err, rc, "%s: cannot open: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = ppml_err_set(err, PPML_E_IO, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = ppml_err_set(err, PPML_E_INPUT, "%s: is a directory, expected a file", path);
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_len) {
		rc = ppml_err_set(err, PPML_E_LIMIT, "%s: %lld bytes is over the limit of %zu bytes",
				  path, (long long)st.st_size, max_len);
		goto out;
	}
	/* Read until EOF even for regular files: the size may change under us. */
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
	buf = malloc(cap + 1);
	if (!buf) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t n;
		if (used == cap) {
			uint8_t *nb;
			if (cap > max_len) {
				rc = ppml_err_set(err, PPML_E_LIMIT,
						  "%s: over the limit of %zu bytes", path, max_len);
				goto out;
			}
			cap = cap * 2 > max_len + 1 ? max_len + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				rc = ppml_err_set(err, PPML_E_NOMEM, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = ppml_err_set(err, PPML_E_IO, "%s: read failed: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max_len) {
		rc = ppml_err_set(err, PPML_E_LIMIT, "%s: over the limit of %zu bytes", path, max_len);
		goto out;
	}
	buf[used] = 0;
	*data = buf;
	*len = used;
	buf = NULL;
	rc = PPML_OK;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

ppml_status ppml_file_read_secret(const char *path, size_t max_len, const char *what,
				  char **data, size_t *len, struct ppml_err *err)
{
	int fd;
	char *buf = NULL;
	size_t used = 0;
	ppml_status rc;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ppml_err_set(err, errno == ENOENT ? PPML_E_NOTFOUND : PPML_E_IO,
				    "%s file %s: cannot open: %s", what, path, strerror(errno));
	buf = malloc(max_len + 2);
	if (!buf) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "%s file %s: out of memory", what, path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, max_len + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ppml_err_set(err, PPML_E_IO, "%s file %s: read failed: %s", what, path,
					  strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max_len) {
			rc = ppml_err_set(err, PPML_E_LIMIT, "%s file %s: longer than %zu bytes", what,
					  path, max_len);
			goto out;
		}
	}
	if (used > 0 && buf[used - 1] == '\n')
		used--;
	if (used > 0 && buf[used - 1] == '\r')
		used--;
	buf[used] = 0;
	if (used == 0) {
		rc = ppml_err_set(err, PPML_E_INPUT, "%s file %s is empty", what, path);
		goto out;
	}
	*data = buf;
	*len = used;
	buf = NULL;
	rc = PPML_OK;
out:
	if (buf) {
		OPENSSL_cleanse(buf, max_len + 2);
		free(buf);
	}
	close(fd);
	return rc;
}

static ppml_status write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return PPML_E_IO;
		}
		p += n;
		len -= (size_t)n;
	}
	return PPML_OK;
}

static void fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd;
	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* Writes data to a fresh temporary beside path; *tmp_out is malloc'ed. */
static ppml_status stage_tmp(const char *path, const void *data, size_t len, mode_t mode,
			     char **tmp_out, struct ppml_err *err)
{
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	int fd;

	*tmp_out = NULL;
	if (!tmp)
		return ppml_err_set(err, PPML_E_NOMEM, "%s: out of memory", path);
	snprintf(tmp, n, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		ppml_err_set(err, PPML_E_IO, "%s: cannot create a temporary file beside it: %s",
			     path, strerror(errno));
		free(tmp);
		return PPML_E_IO;
	}
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != PPML_OK || fsync(fd) != 0) {
		ppml_err_set(err, PPML_E_IO, "%s: write failed: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return PPML_E_IO;
	}
	if (close(fd) != 0) {
		ppml_err_set(err, PPML_E_IO, "%s: write failed: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return PPML_E_IO;
	}
	*tmp_out = tmp;
	return PPML_OK;
}

static ppml_status place(const char *tmp, const char *path, int no_clobber, struct ppml_err *err)
{
	if (no_clobber) {
		/* link(2) fails if path exists: no window between check and create. */
		if (link(tmp, path) != 0) {
			if (errno == EEXIST)
				return ppml_err_set(err, PPML_E_EXISTS,
						    "%s: already exists; refusing to overwrite it "
						    "(remove it or choose another path)", path);
			return ppml_err_set(err, PPML_E_IO, "%s: cannot create: %s", path,
					    strerror(errno));
		}
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		return ppml_err_set(err, PPML_E_IO, "%s: cannot replace: %s", path, strerror(errno));
	}
	fsync_parent(path);
	return PPML_OK;
}

ppml_status ppml_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
				   int no_clobber, struct ppml_err *err)
{
	char *tmp = NULL;
	ppml_status rc = stage_tmp(path, data, len, mode, &tmp, err);
	if (rc != PPML_OK)
		return rc;
	rc = place(tmp, path, no_clobber, err);
	if (rc != PPML_OK)
		unlink(tmp);
	free(tmp);
	return rc;
}

struct staged {
	char *path;
	char *tmp;
};

struct ppml_outputs {
	struct staged *items;
	size_t len;
	int committed;
};

struct ppml_outputs *ppml_outputs_new(void)
{
	return calloc(1, sizeof(struct ppml_outputs));
}

ppml_status ppml_outputs_stage(struct ppml_outputs *o, const char *path, const void *data,
			       size_t len, mode_t mode, struct ppml_err *err)
{
	struct staged *ni;
	char *tmp = NULL, *pcopy;
	ppml_status rc;

	ni = realloc(o->items, (o->len + 1) * sizeof(*ni));
	if (!ni)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	o->items = ni;
	pcopy = strdup(path);
	if (!pcopy)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	rc = stage_tmp(path, data, len, mode, &tmp, err);
	if (rc != PPML_OK) {
		free(pcopy);
		return rc;
	}
	o->items[o->len].path = pcopy;
	o->items[o->len].tmp = tmp;
	o->len++;
	return PPML_OK;
}

ppml_status ppml_outputs_commit(struct ppml_outputs *o, struct ppml_err *err)
{
	for (size_t i = 0; i < o->len; i++) {
		if (rename(o->items[i].tmp, o->items[i].path) != 0) {
			ppml_status rc = ppml_err_set(err, PPML_E_IO, "%s: cannot write: %s",
						      o->items[i].path, strerror(errno));
			/* Take back what was already placed: all or nothing. */
			for (size_t j = 0; j < i; j++)
				unlink(o->items[j].path);
			return rc;
		}
		free(o->items[i].tmp);
		o->items[i].tmp = NULL;
		fsync_parent(o->items[i].path);
	}
	o->committed = 1;
	return PPML_OK;
}

void ppml_outputs_free(struct ppml_outputs *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->len; i++) {
		if (o->items[i].tmp) {
			unlink(o->items[i].tmp);
			free(o->items[i].tmp);
		}
		free(o->items[i].path);
	}
	free(o->items);
	free(o);
}

bool ppml_fd_read_full(int fd, uint8_t *p, size_t n, size_t *got)
{
	*got = 0;
	while (*got < n) {
		ssize_t k = read(fd, p + *got, n - *got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return false;
		if (k == 0)
			break;
		*got += (size_t)k;
	}
	return true;
}

bool ppml_fd_write_full(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}
