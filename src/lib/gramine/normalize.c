/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gramine v1.9 manifest normalisation: Manifest.__init__ (spec 2.2) and
 * expand_all_trusted_files (spec 2.3), byte-compatible in what ends up in
 * the tree and in the wording of the errors.  The v1.3.1 rules (spec 12)
 * share the same walk: other defaults, no loader.entrypoint, no dedup.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "ppml/limits.h"

#define DEFAULT_PKGLIBDIR "/usr/lib/x86_64-linux-gnu/gramine"
static const char zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* One trusted file after expansion, before hashing. */
struct tf {
	char *uri;
	char *path;   /* host path to read (chroot applied, pathlib-normalised) */
	char *sha256; /* NULL until known */
	bool hashed;
	uint64_t size;
};

struct ctx {
	const struct ppml_manifest_opts *opts;
	const char *chroot;   /* pathlib-normalised, or NULL */
	struct tf *items;
	size_t len, cap;
	size_t *ht;           /* open addressing: index+1, 0 = empty */
	size_t ht_cap;
	struct ppml_err *err;
};

/* Gramine v1.3.1 rules (spec 12) rather than v1.9's. */
static bool is_v13(const struct ctx *c)
{
	return c->opts->version == PPML_GRAMINE_1_3;
}

/* ---- small helpers ---------------------------------------------------- */


static char *xasprintf(const char *fmt, ...) PPML_PRINTF(1, 2);
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

/* Our context goes after Gramine's wording (which stays first): ppml_err_suffix. */
#define err_suffix ppml_err_suffix

static ppml_status nomem(struct ppml_err *err)
{
	return ppml_err_set(err, PPML_E_NOMEM, "out of memory while normalising the manifest");
}

/* Python repr of a C string into a fixed buffer, for messages. */
static const char *repr(char *out, size_t outlen, const char *s)
{
	struct ppml_buf b = {0};
	if (gr_pyrepr_str(&b, s, strlen(s)) != PPML_OK) {
		snprintf(out, outlen, "'%s'", s);
	} else {
		snprintf(out, outlen, "%s", (const char *)b.data);
	}
	ppml_buf_free(&b);
	return out;
}

static bool is_string(const struct ppml_toml_value *v)
{
	return v && v->type == PPML_TOML_STRING;
}

static bool is_table(const struct ppml_toml_value *v)
{
	return v && v->type == PPML_TOML_TABLE;
}

/* Strings with an embedded NUL cannot be paths or keys we look up. */
static bool is_cstring(const struct ppml_toml_value *v)
{
	return is_string(v) && strlen(v->u.s.ptr) == v->u.s.len;
}

/*
 * pathlib.PurePosixPath normalisation: empty and "." components dropped,
 * duplicate slashes collapsed (exactly two leading slashes are kept, as
 * POSIX allows), ".." kept, no trailing slash; "" becomes ".".
 */
static char *pathnorm(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 2);
	size_t o = 0;
	const char *p = in;
	if (!out)
		return NULL;
	if (p[0] == '/') {
		if (p[1] == '/' && p[2] != '/') {
			out[o++] = '/';
			out[o++] = '/';
		} else {
			out[o++] = '/';
		}
	}
	while (*p) {
		const char *start, *end;
		while (*p == '/')
			p++;
		start = p;
		while (*p && *p != '/')
			p++;
		end = p;
		if (end == start || (end - start == 1 && start[0] == '.'))
			continue;
		if (o > 0 && out[o - 1] != '/')
			out[o++] = '/';
		memcpy(out + o, start, (size_t)(end - start));
		o += (size_t)(end - start);
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = 0;
	return out;
}

/* pathlib's dir / name for a normalised dir and a name without '/'. */
static char *pathjoin(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	if (strcmp(dir, ".") == 0)
		return strdup(name);
	if (dl && dir[dl - 1] == '/')
		return xasprintf("%s%s", dir, name);
	return xasprintf("%s/%s", dir, name);
}

/* chroot / inner.relative_to('/') */
static char *outer_of(const char *chroot, const char *inner)
{
	const char *rel = inner;
	while (*rel == '/')
		rel++;
	if (!*rel)
		return strdup(chroot);
	return pathjoin(chroot, rel);
}

static bool host_is_dir(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* inner (absolute, normalised) without its last component; "/" stays "/". */
static void inner_parent(char *inner)
{
	char *slash = strrchr(inner, '/');
	if (!slash)
		return;
	if (slash == inner)
		inner[1] = 0;
	else
		*slash = 0;
}

/*
 * resolve_symlinks(path, chroot): walks path component by component inside
 * the chroot, following symlinks as if DIR were "/".  Returns the resolved
 * absolute in-chroot path (malloc'ed).  Errors as Python's OSError texts.
 */
static ppml_status chroot_resolve(struct ctx *c, const char *path, unsigned *hops, char **out)
{
	ppml_status st = PPML_OK;
	char *cur = NULL, *outer = NULL, *next = NULL, *resolved = NULL;
	char target[PPML_MANIFEST_MAX_PATH];
	const char *p = path;
	size_t cap = strlen(path) + 2;

	*out = NULL;
	if (path[0] != '/') {
		st = ppml_err_set(c->err, PPML_E_INPUT,
				  "only absolute paths can be measured in chroot: '%s'", path);
		goto out;
	}
	cap = cap < PPML_MANIFEST_MAX_PATH ? PPML_MANIFEST_MAX_PATH : cap;
	cur = malloc(cap + PPML_MANIFEST_MAX_PATH + 2);
	if (!cur) {
		st = nomem(c->err);
		goto out;
	}
	strcpy(cur, "/");
	while (*p) {
		const char *start;
		size_t clen, curlen;
		struct stat sb;
		ssize_t tl;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != '/')
			p++;
		clen = (size_t)(p - start);

		free(outer);
		outer = outer_of(c->chroot, cur);
		if (!outer) {
			st = nomem(c->err);
			goto out;
		}
		if (!host_is_dir(outer)) {
			st = ppml_err_set(c->err, PPML_E_NOTFOUND, "[Errno %d] %s: '%s'", ENOTDIR,
					  strerror(ENOTDIR), cur);
			goto out;
		}
		if (clen == 1 && start[0] == '.')
			continue;
		if (clen == 2 && start[0] == '.' && start[1] == '.') {
			inner_parent(cur);
			continue;
		}
		curlen = strlen(cur);
		if (curlen + clen + 2 > cap + PPML_MANIFEST_MAX_PATH) {
			st = ppml_err_set(c->err, PPML_E_LIMIT, "path longer than %d bytes in chroot",
					  PPML_MANIFEST_MAX_PATH);
			goto out;
		}
		if (curlen > 1)
			cur[curlen++] = '/';
		memcpy(cur + curlen, start, clen);
		cur[curlen + clen] = 0;

		free(outer);
		outer = outer_of(c->chroot, cur);
		if (!outer) {
			st = nomem(c->err);
			goto out;
		}
		if (lstat(outer, &sb) != 0 || !S_ISLNK(sb.st_mode))
			continue;
		if (++*hops > PPML_MANIFEST_MAX_SYMLINKS) {
			st = ppml_err_set(c->err, PPML_E_NOTFOUND, "[Errno %d] %s: '%s'", ELOOP,
					  strerror(ELOOP), cur);
			goto out;
		}
		tl = readlink(outer, target, sizeof(target) - 1);
		if (tl < 0) {
			st = ppml_err_set(c->err, PPML_E_IO, "[Errno %d] %s: '%s'", errno,
					  strerror(errno), outer);
			goto out;
		}
		target[tl] = 0;
		free(next);
		if (target[0] == '/') {
			next = strdup(target);
		} else {
			inner_parent(cur);
			next = pathjoin(cur, target);
		}
		if (!next) {
			st = nomem(c->err);
			goto out;
		}
		st = chroot_resolve(c, next, hops, &resolved);
		if (st != PPML_OK)
			goto out;
		if (strlen(resolved) >= cap + PPML_MANIFEST_MAX_PATH) {
			st = ppml_err_set(c->err, PPML_E_LIMIT, "path longer than %d bytes in chroot",
					  PPML_MANIFEST_MAX_PATH);
			goto out;
		}
		strcpy(cur, resolved);
		free(resolved);
		resolved = NULL;
	}
	*out = cur;
	cur = NULL;
out:
	free(cur);
	free(outer);
	free(next);
	free(resolved);
	return st;
}

/* TrustedFile.realpath for a (normalised) URI path. */
static ppml_status realpath_of(struct ctx *c, const char *normpath, char **real, char **inner)
{
	ppml_status st;
	unsigned hops = 0;
	char *in = NULL;

	*real = NULL;
	if (inner)
		*inner = NULL;
	if (!c->chroot) {
		*real = strdup(normpath);
		return *real ? PPML_OK : nomem(c->err);
	}
	st = chroot_resolve(c, normpath, &hops, &in);
	if (st != PPML_OK)
		return st;
	*real = outer_of(c->chroot, in);
	if (!*real) {
		free(in);
		return nomem(c->err);
	}
	if (inner)
		*inner = in;
	else
		free(in);
	return PPML_OK;
}

/* ---- the insertion-ordered map of trusted files (dedup by exact URI) ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static ppml_status ht_grow(struct ctx *c)
{
	size_t ncap = c->ht_cap ? c->ht_cap * 2 : 64;
	size_t *nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return nomem(c->err);
	for (size_t i = 0; i < c->len; i++) {
		size_t h = (size_t)hash_str(c->items[i].uri) & (ncap - 1);
		while (nt[h])
			h = (h + 1) & (ncap - 1);
		nt[h] = i + 1;
	}
	free(c->ht);
	c->ht = nt;
	c->ht_cap = ncap;
	return PPML_OK;
}

static size_t *ht_slot(struct ctx *c, const char *uri)
{
	size_t h = (size_t)hash_str(uri) & (c->ht_cap - 1);
	while (c->ht[h] && strcmp(c->items[c->ht[h] - 1].uri, uri) != 0)
		h = (h + 1) & (c->ht_cap - 1);
	return &c->ht[h];
}

static void tf_cleanup(struct tf *t)
{
	free(t->uri);
	free(t->path);
	free(t->sha256);
	memset(t, 0, sizeof(*t));
}

/* Takes ownership of uri, path and sha256 (freed on every path). */
static ppml_status add_file(struct ctx *c, char *uri, char *path, char *sha256)
{
	ppml_status st = PPML_OK;
	size_t *slot;
	size_t no_slot = 0;
	struct tf t = {uri, path, sha256, false, 0};

	if (is_v13(c)) { /* no dedup: every expanded entry is kept, in order */
		slot = &no_slot;
		goto append;
	}
	if (c->ht_cap == 0 || (c->len + 1) * 2 > c->ht_cap) {
		if ((st = ht_grow(c)) != PPML_OK)
			goto out;
	}
	slot = ht_slot(c, uri);
	if (*slot) {
		struct tf *old = &c->items[*slot - 1];
		if (old->sha256) {
			if (sha256 && strcmp(sha256, old->sha256) != 0) {
				char r[PPML_MANIFEST_MAX_PATH + 64];
				st = ppml_err_set(c->err, PPML_E_INPUT,
						  "Two different sha256 values (%s and %s) for the same URI %s",
						  old->sha256, sha256, repr(r, sizeof(r), uri));
			}
			goto out; /* the measured entry wins: drop the new one */
		}
		/* The stored entry has no hash: the new one replaces it in place. */
		tf_cleanup(old);
		*old = t;
		memset(&t, 0, sizeof(t));
		goto out;
	}
append:
	if (c->len >= PPML_MANIFEST_MAX_TRUSTED_FILES) {
		st = ppml_err_set(c->err, PPML_E_LIMIT,
				  "more than %u trusted files after expansion (PPML_MANIFEST_MAX_TRUSTED_FILES)",
				  PPML_MANIFEST_MAX_TRUSTED_FILES);
		goto out;
	}
	if (c->len == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct tf *n = realloc(c->items, ncap * sizeof(*n));
		if (!n) {
			st = nomem(c->err);
			goto out;
		}
		c->items = n;
		c->cap = ncap;
	}
	c->items[c->len] = t;
	*slot = ++c->len;
	memset(&t, 0, sizeof(t));
out:
	tf_cleanup(&t);
	return st;
}

/* ---- directory expansion ------------------------------------------------ */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static ppml_status expand_entry(struct ctx *c, char *uri, char *real, char *inner, char *sha256,
				unsigned depth);

/* Lists dir's children (without . and ..) sorted as Python sorts str. */
static ppml_status list_dir(struct ctx *c, const char *dir, char ***names, size_t *n)
{
	ppml_status st = PPML_OK;
	DIR *d = NULL;
	struct dirent *e;
	char **v = NULL;
	size_t len = 0, cap = 0;

	*names = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d) {
		st = ppml_err_set(c->err, errno == ENOENT ? PPML_E_NOTFOUND : PPML_E_IO,
				  "[Errno %d] %s: '%s'", errno, strerror(errno), dir);
		goto out;
	}
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				st = nomem(c->err);
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		if (!(v[len] = strdup(e->d_name))) {
			st = nomem(c->err);
			goto out;
		}
		len++;
	}
	if (errno) {
		st = ppml_err_set(c->err, PPML_E_IO, "[Errno %d] %s: '%s'", errno, strerror(errno),
				  dir);
		goto out;
	}
	if (len)
		qsort(v, len, sizeof(*v), cmp_names);
	*names = v;
	*n = len;
	v = NULL;
	len = 0;
out:
	for (size_t i = 0; i < len; i++)
		free(v[i]);
	free(v);
	if (d)
		closedir(d);
	return st;
}

static ppml_status expand_dir(struct ctx *c, const char *uri, const char *real, const char *inner,
			      unsigned depth)
{
	ppml_status st = PPML_OK;
	char **names = NULL;
	size_t n = 0;
	char *child = NULL, *child_inner = NULL, *child_uri = NULL, *child_real = NULL,
	     *child_rinner = NULL;

	if (depth > PPML_MANIFEST_MAX_DIR_DEPTH) {
		st = ppml_err_set(c->err, PPML_E_LIMIT,
				  "directory %s nests deeper than %d levels (PPML_MANIFEST_MAX_DIR_DEPTH)",
				  uri, PPML_MANIFEST_MAX_DIR_DEPTH);
		goto out;
	}
	if ((st = list_dir(c, real, &names, &n)) != PPML_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct stat sb, lsb;
		bool isdir;

		free(child);
		child = pathjoin(real, names[i]);
		if (!child) {
			st = nomem(c->err);
			goto out;
		}
		/* skip_inaccessible: neither file nor directory, or not readable */
		if (stat(child, &sb) != 0 || (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)))
			continue;
		if (access(child, R_OK) != 0)
			continue;
		isdir = S_ISDIR(sb.st_mode);
		if (strlen(child) + 8 > PPML_MANIFEST_MAX_PATH) {
			st = ppml_err_set(c->err, PPML_E_LIMIT, "path longer than %d bytes: '%s'",
					  PPML_MANIFEST_MAX_PATH, child);
			goto out;
		}

		/* from_realpath: the URI is the path as listed (in-chroot path under --chroot) */
		if (c->chroot) {
			child_inner = pathjoin(inner, names[i]);
			if (!child_inner) {
				st = nomem(c->err);
				goto out;
			}
			child_uri = xasprintf("file:%s%s", child_inner, isdir ? "/" : "");
			if (!child_uri) {
				st = nomem(c->err);
				goto out;
			}
			st = realpath_of(c, child_inner, &child_real, &child_rinner);
			if (st != PPML_OK) {
				err_suffix(c->err, " (while expanding %s)", uri);
				goto out;
			}
		} else {
			child_uri = xasprintf("file:%s%s", child, isdir ? "/" : "");
			child_real = strdup(child);
			if (!child_uri || !child_real) {
				st = nomem(c->err);
				goto out;
			}
		}
		/* a symlink to a directory is not descended into */
		if (isdir && lstat(child, &lsb) == 0 && S_ISLNK(lsb.st_mode)) {
			free(child_uri);
			free(child_real);
			free(child_inner);
			free(child_rinner);
			child_uri = child_real = child_inner = child_rinner = NULL;
			continue;
		}
		st = expand_entry(c, child_uri, child_real, child_rinner, NULL, depth + 1);
		child_uri = child_real = child_rinner = NULL;
		free(child_inner);
		child_inner = NULL;
		if (st != PPML_OK)
			goto out;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(child);
	free(child_inner);
	free(child_uri);
	free(child_real);
	free(child_rinner);
	return st;
}

/*
 * TrustedFile.expand_directory for one entry.  Takes ownership of uri, real,
 * inner (in-chroot resolved path, NULL without chroot) and sha256.
 */
static ppml_status expand_entry(struct ctx *c, char *uri, char *real, char *inner, char *sha256,
				unsigned depth)
{
	ppml_status st = PPML_OK;
	size_t ulen = strlen(uri);
	bool no_fs = c->opts->flags & PPML_MANIFEST_NO_FS;
	char r[PPML_MANIFEST_MAX_PATH + 64];

	if (ulen && uri[ulen - 1] == '/') {
		if (!no_fs && !host_is_dir(real)) {
			st = ppml_err_set(c->err, PPML_E_INPUT,
					  "URI %s ends with \"/\" but is not a directory (looked for '%s')",
					  repr(r, sizeof(r), uri), real);
			goto out;
		}
		if (sha256) {
			st = ppml_err_set(c->err, PPML_E_INPUT, "Directory URI (%s) has sha256 specified",
					  repr(r, sizeof(r), uri));
			goto out;
		}
		if (!no_fs)
			st = expand_dir(c, uri, real, inner ? inner : "/", depth);
		goto out;
	}
	if (!no_fs && host_is_dir(real)) {
		st = ppml_err_set(c->err, PPML_E_INPUT,
				  "Directory URI (%s) does not end with \"/\" (add a trailing slash to "
				  "measure every file below it)",
				  repr(r, sizeof(r), uri));
		goto out;
	}
	st = add_file(c, uri, real, sha256);
	uri = real = sha256 = NULL;
out:
	free(uri);
	free(real);
	free(inner);
	free(sha256);
	return st;
}

/* One element of sgx.trusted_files (already a table with uri, spec 2.2 step 2). */
static ppml_status expand_item(struct ctx *c, size_t idx, const struct ppml_toml_value *item)
{
	ppml_status st = PPML_OK;
	const struct ppml_toml_value *uri_v = ppml_toml_get(item, "uri");
	const struct ppml_toml_value *sha_v = ppml_toml_get(item, "sha256");
	char *uri = NULL, *sha = NULL, *norm = NULL, *real = NULL, *inner = NULL;
	struct ppml_buf b = {0};

	/* TrustedFile.from_manifest: only uri and sha256 may be present */
	if (item->u.t.len > (size_t)1 + (sha_v != NULL)) {
		struct ppml_toml_value left;
		memset(&left, 0, sizeof(left));
		left.type = PPML_TOML_TABLE;
		struct ppml_toml_kv kvs[8];
		size_t k = 0;
		for (size_t i = 0; i < item->u.t.len && k < 8; i++) {
			const char *key = item->u.t.items[i].key;
			if (strcmp(key, "uri") != 0 && strcmp(key, "sha256") != 0)
				kvs[k++] = item->u.t.items[i];
		}
		left.u.t.items = kvs;
		left.u.t.len = k;
		if (gr_pyrepr(&b, &left) != PPML_OK) {
			st = nomem(c->err);
			goto out;
		}
		st = ppml_err_set(c->err, PPML_E_INPUT,
				  "Leftover trusted file items: %s (sgx.trusted_files[%zu] may only hold "
				  "uri and sha256)",
				  (const char *)b.data, idx);
		goto out;
	}
	if (!is_cstring(uri_v)) {
		if (gr_pyrepr(&b, uri_v) != PPML_OK) {
			st = nomem(c->err);
			goto out;
		}
		st = ppml_err_set(c->err, PPML_E_INPUT,
				  "Unsupported URI type: %s (sgx.trusted_files[%zu].uri must be a string)",
				  (const char *)b.data, idx);
		goto out;
	}
	if (sha_v && !is_cstring(sha_v)) {
		st = ppml_err_set(c->err, PPML_E_INPUT,
				  "sgx.trusted_files[%zu].sha256 must be a string (uri %s)", idx,
				  uri_v->u.s.ptr);
		goto out;
	}
	if (uri_v->u.s.len > PPML_MANIFEST_MAX_PATH) {
		st = ppml_err_set(c->err, PPML_E_LIMIT,
				  "sgx.trusted_files[%zu].uri is longer than %d bytes", idx,
				  PPML_MANIFEST_MAX_PATH);
		goto out;
	}
	if (strncmp(uri_v->u.s.ptr, "file:", 5) != 0) {
		st = ppml_err_set(c->err, PPML_E_INPUT,
				  "Unsupported URI type: %s (sgx.trusted_files[%zu]: only file: URIs can "
				  "be measured)",
				  uri_v->u.s.ptr, idx);
		goto out;
	}
	uri = strdup(uri_v->u.s.ptr);
	sha = sha_v ? strdup(sha_v->u.s.ptr) : NULL;
	norm = pathnorm(uri_v->u.s.ptr + 5);
	if (!uri || (sha_v && !sha) || !norm) {
		st = nomem(c->err);
		goto out;
	}
	if (c->opts->flags & PPML_MANIFEST_NO_FS) {
		real = norm;
		norm = NULL;
	} else {
		st = realpath_of(c, norm, &real, &inner);
		if (st != PPML_OK) {
			err_suffix(c->err, " (sgx.trusted_files[%zu] = \"%s\", --chroot %s)", idx, uri,
				   c->chroot);
			goto out;
		}
	}
	st = expand_entry(c, uri, real, inner, sha, 0);
	uri = real = inner = sha = NULL;
out:
	ppml_buf_free(&b);
	free(uri);
	free(sha);
	free(norm);
	free(real);
	free(inner);
	return st;
}

/*
 * v1.3.1 append_trusted_dir_or_file (spec 12): a truthy sha256 is taken
 * as-is without looking at the URI; otherwise the path must exist
 * ("Cannot resolve"), a directory needs the trailing slash and expands
 * (sorted, depth-first, like v1.9), a file keeps its URI as written.
 * Keys besides uri and sha256 are dropped without a word.
 */
static ppml_status expand_item_v13(struct ctx *c, size_t idx, const struct ppml_toml_value *item)
{
	ppml_status st = PPML_OK;
	const struct ppml_toml_value *uri_v = ppml_toml_get(item, "uri");
	const struct ppml_toml_value *sha_v = ppml_toml_get(item, "sha256");
	char *uri = NULL, *sha = NULL, *norm = NULL;
	size_t ulen;
	struct stat sb;

	if (!is_cstring(uri_v) || uri_v->u.s.len > PPML_MANIFEST_MAX_PATH)
		return ppml_err_set(c->err, PPML_E_INPUT,
				    "sgx.trusted_files[%zu].uri must be a string of at most %d bytes",
				    idx, PPML_MANIFEST_MAX_PATH);
	if (sha_v && gr_truthy(sha_v)) {
		if (!is_cstring(sha_v))
			return ppml_err_set(c->err, PPML_E_INPUT,
					    "sgx.trusted_files[%zu].sha256 must be a string (uri %s)",
					    idx, uri_v->u.s.ptr);
		uri = strdup(uri_v->u.s.ptr);
		norm = strdup(uri_v->u.s.ptr);
		sha = strdup(sha_v->u.s.ptr);
		if (!uri || !norm || !sha) {
			free(uri);
			free(norm);
			free(sha);
			return nomem(c->err);
		}
		return add_file(c, uri, norm, sha);
	}
	if (strncmp(uri_v->u.s.ptr, "file:", 5) != 0)
		return ppml_err_set(c->err, PPML_E_INPUT,
				    "Unsupported URI type: %s (sgx.trusted_files[%zu]: only file: URIs "
				    "can be measured)",
				    uri_v->u.s.ptr, idx);
	uri = strdup(uri_v->u.s.ptr);
	norm = pathnorm(uri_v->u.s.ptr + 5);
	if (!uri || !norm) {
		st = nomem(c->err);
		goto out;
	}
	ulen = strlen(uri);
	if (c->opts->flags & PPML_MANIFEST_NO_FS) {
		if (uri[ulen - 1] != '/') {
			st = add_file(c, uri, norm, NULL);
			uri = norm = NULL;
		}
		goto out;
	}
	if (stat(norm, &sb) != 0) {
		st = ppml_err_set(c->err, PPML_E_NOTFOUND,
				  "Cannot resolve %s (sgx.trusted_files[%zu] = \"%s\"; relative paths "
				  "resolve against the current directory)",
				  norm, idx, uri);
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		if (uri[ulen - 1] != '/') {
			st = ppml_err_set(c->err, PPML_E_INPUT,
					  "Directory URI (%s) does not end with \"/\" (add a trailing "
					  "slash to measure every file below it)",
					  uri);
			goto out;
		}
		st = expand_dir(c, uri, norm, "/", 0);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) { /* Python: assert path.is_file() */
		st = ppml_err_set(c->err, PPML_E_INPUT,
				  "AssertionError: %s is neither a regular file nor a directory "
				  "(sgx.trusted_files[%zu])",
				  norm, idx);
		goto out;
	}
	st = add_file(c, uri, norm, NULL);
	uri = norm = NULL;
out:
	free(uri);
	free(norm);
	return st;
}

/* ---- Manifest.__init__ -------------------------------------------------- */

static ppml_status set_default(struct ppml_toml_value *t, const char *key,
			       struct ppml_toml_value *v, struct ppml_err *err)
{
	if (ppml_toml_get(t, key)) {
		ppml_toml_free(v);
		return PPML_OK;
	}
	if (!v)
		return nomem(err);
	if (ppml_toml_append(t, key, v) != PPML_OK)
		return nomem(err);
	return PPML_OK;
}

static struct ppml_toml_value *new_str(const char *s)
{
	return ppml_toml_new_string(s, strlen(s));
}

/* table.setdefault(key, {}) that must give a table. */
static ppml_status table_default(struct ppml_toml_value *parent, const char *key,
				 const char *name, struct ppml_toml_value **out,
				 struct ppml_err *err)
{
	ppml_status st = set_default(parent, key, ppml_toml_new_table(), err);
	if (st != PPML_OK)
		return st;
	*out = ppml_toml_get(parent, key);
	if (!is_table(*out))
		return ppml_err_set(err, PPML_E_INPUT, "%s must be a TOML table", name);
	return PPML_OK;
}

static ppml_status apply_sgx_defaults(struct ppml_toml_value *root, struct ppml_err *err)
{
	ppml_status st;
	struct ppml_toml_value *sgx = NULL, *cpu = NULL;

	if ((st = table_default(root, "sgx", "sgx", &sgx, err)) != PPML_OK)
		return st;
	if ((st = set_default(sgx, "trusted_files", ppml_toml_new_array(), err)) ||
	    (st = set_default(sgx, "max_threads", ppml_toml_new_integer(4), err)) ||
	    (st = set_default(sgx, "isvprodid", ppml_toml_new_integer(0), err)) ||
	    (st = set_default(sgx, "isvsvn", ppml_toml_new_integer(0), err)) ||
	    (st = set_default(sgx, "remote_attestation", new_str("none"), err)) ||
	    (st = set_default(sgx, "debug", ppml_toml_new_bool(false), err)) ||
	    (st = set_default(sgx, "enable_stats", ppml_toml_new_bool(false), err)) ||
	    (st = set_default(sgx, "edmm_enable", ppml_toml_new_bool(false), err)))
		return st;
	st = set_default(sgx, "enclave_size",
			 new_str(gr_truthy(ppml_toml_get(sgx, "edmm_enable")) ? "1024G" : "256M"),
			 err);
	if (st != PPML_OK)
		return st;
	if ((st = set_default(sgx, "use_exinfo", ppml_toml_new_bool(false), err)) != PPML_OK)
		return st;
	if ((st = table_default(sgx, "cpu_features", "sgx.cpu_features", &cpu, err)) != PPML_OK)
		return st;
	if ((st = set_default(cpu, "avx", new_str("unspecified"), err)) ||
	    (st = set_default(cpu, "avx512", new_str("unspecified"), err)) ||
	    (st = set_default(cpu, "amx", new_str("unspecified"), err)) ||
	    (st = set_default(cpu, "mpx", new_str("disabled"), err)) ||
	    (st = set_default(cpu, "pkru", new_str("disabled"), err)))
		return st;
	return PPML_OK;
}

/* v1.3.1 Manifest.__init__ (spec 12): setdefault in this order. */
static ppml_status apply_sgx_defaults_v13(struct ppml_toml_value *root, struct ppml_err *err)
{
	static const char *const off[] = {
		"debug", "require_avx", "require_avx512", "require_mpx", "require_pkru",
		"require_amx", "support_exinfo", "nonpie_binary", "enable_stats",
	};
	ppml_status st;
	struct ppml_toml_value *sgx = NULL;

	if ((st = table_default(root, "sgx", "sgx", &sgx, err)) != PPML_OK)
		return st;
	if ((st = set_default(sgx, "trusted_files", ppml_toml_new_array(), err)) ||
	    (st = set_default(sgx, "enclave_size", new_str("256M"), err)) ||
	    (st = set_default(sgx, "thread_num", ppml_toml_new_integer(4), err)) ||
	    (st = set_default(sgx, "isvprodid", ppml_toml_new_integer(0), err)) ||
	    (st = set_default(sgx, "isvsvn", ppml_toml_new_integer(0), err)) ||
	    (st = set_default(sgx, "remote_attestation", new_str("none"), err)))
		return st;
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		if ((st = set_default(sgx, off[i], ppml_toml_new_bool(false), err)) != PPML_OK)
			return st;
	return PPML_OK;
}

/* Step 2: every element becomes a table holding uri. */
static ppml_status normalise_trusted_list(struct ppml_toml_value *sgx, struct ppml_err *err)
{
	ppml_status st = PPML_OK;
	struct ppml_toml_value *tfs = ppml_toml_get(sgx, "trusted_files");
	struct ppml_buf b = {0};

	if (!tfs || tfs->type != PPML_TOML_ARRAY) {
		st = ppml_err_set(err, PPML_E_INPUT,
				  "Unsupported trusted files syntax, more info: "
				  "https://gramine.readthedocs.io/en/latest/manifest-syntax.html#trusted-files "
				  "(sgx.trusted_files must be an array)");
		goto out;
	}
	for (size_t i = 0; i < tfs->u.a.len; i++) {
		struct ppml_toml_value *it = tfs->u.a.items[i];
		if (is_table(it) && ppml_toml_get(it, "uri"))
			continue;
		if (is_string(it)) {
			struct ppml_toml_value *t = ppml_toml_new_table();
			if (!t || ppml_toml_append(t, "uri", it) != PPML_OK) {
				/* append freed `it` on failure: put a placeholder back */
				ppml_toml_free(t);
				tfs->u.a.items[i] = ppml_toml_new_bool(false);
				if (!tfs->u.a.items[i]) {
					/* keep the array consistent for the caller's free */
					memmove(&tfs->u.a.items[i], &tfs->u.a.items[i + 1],
						(tfs->u.a.len - i - 1) * sizeof(*tfs->u.a.items));
					tfs->u.a.len--;
				}
				st = nomem(err);
				goto out;
			}
			tfs->u.a.items[i] = t;
			continue;
		}
		if (gr_pyrepr(&b, it) != PPML_OK) {
			st = nomem(err);
			goto out;
		}
		st = ppml_err_set(err, PPML_E_INPUT,
				  "Unknown trusted file format: %s (sgx.trusted_files[%zu] must be a "
				  "string or a table with uri)",
				  (const char *)b.data, i);
		goto out;
	}
out:
	ppml_buf_free(&b);
	return st;
}

static void result_file_cleanup(struct ppml_manifest_file *f)
{
	free(f->uri);
	free(f->path);
	free(f->sha256);
	memset(f, 0, sizeof(*f));
}

void ppml_manifest_result_free(struct ppml_manifest_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_files; i++)
		result_file_cleanup(&r->files[i]);
	free(r->files);
	result_file_cleanup(&r->entrypoint);
	for (size_t i = 0; i < r->n_deps; i++)
		free(r->deps[i]);
	free(r->deps);
	free(r);
}

static ppml_status add_dep(struct ppml_manifest_result *r, const char *path, struct ppml_err *err)
{
	char **n = realloc(r->deps, (r->n_deps + 1) * sizeof(*n));
	if (!n)
		return nomem(err);
	r->deps = n;
	if (!(r->deps[r->n_deps] = strdup(path)))
		return nomem(err);
	r->n_deps++;
	return PPML_OK;
}

static ppml_status hash_error(const struct gr_hash_job *job, ppml_status st, const char *what,
			      struct ppml_err *err)
{
	switch (st) {
	case PPML_E_NOTFOUND:
		return ppml_err_set(err, st, "Missing trusted file: '%s' (%s)", job->path, what);
	case PPML_E_NOMEM:
		return ppml_err_set(err, st, "out of memory while hashing '%s'", job->path);
	case PPML_E_CRYPTO:
		return ppml_err_openssl(err, st, "SHA-256 of '%s' failed", job->path);
	default:
		return ppml_err_set(err, PPML_E_IO, "cannot read trusted file '%s': [Errno %d] %s (%s)",
				    job->path, job->errnum, strerror(job->errnum), what);
	}
}

/* Step 3: loader.entrypoint (spec 2.2). */
static ppml_status loader_entrypoint(struct ppml_toml_value *root, const struct ppml_manifest_opts *o,
				     struct ppml_manifest_result *r, struct ppml_err *err)
{
	ppml_status st = PPML_OK;
	struct ppml_toml_value *loader = NULL, *ep, *uri, *sha;
	char *defuri = NULL, *path = NULL;
	struct gr_hash_job job = {0};
	size_t failed;

	if ((st = table_default(root, "loader", "loader", &loader, err)) != PPML_OK)
		goto out;
	if ((st = set_default(loader, "entrypoint", ppml_toml_new_table(), err)) != PPML_OK)
		goto out;
	ep = ppml_toml_get(loader, "entrypoint");
	if (!is_table(ep)) {
		st = ppml_err_set(err, PPML_E_INPUT,
				  "Unknown loader.entrypoint format (not a TOML table): write "
				  "loader.entrypoint.uri = \"file:...\" instead");
		goto out;
	}
	defuri = xasprintf("file:%s/libsysdb.so", o->pkglibdir ? o->pkglibdir : DEFAULT_PKGLIBDIR);
	if (!defuri) {
		st = nomem(err);
		goto out;
	}
	if ((st = set_default(ep, "uri", new_str(defuri), err)) != PPML_OK)
		goto out;
	uri = ppml_toml_get(ep, "uri");
	sha = ppml_toml_get(ep, "sha256");
	if (!is_cstring(uri)) {
		st = ppml_err_set(err, PPML_E_INPUT, "loader.entrypoint.uri must be a string");
		goto out;
	}
	if (o->flags & PPML_MANIFEST_DEFAULTS_ONLY)
		goto out;
	if (strncmp(uri->u.s.ptr, "file:", 5) != 0) {
		st = ppml_err_set(err, PPML_E_INPUT, "Unsupported URI type: %s (loader.entrypoint.uri)",
				  uri->u.s.ptr);
		goto out;
	}
	/* relative to the current directory; --chroot is not applied (spec 2.2) */
	path = pathnorm(uri->u.s.ptr + 5);
	if (!path || !(r->entrypoint.uri = strdup(uri->u.s.ptr))) {
		st = nomem(err);
		goto out;
	}
	if (sha) {
		if (!is_cstring(sha)) {
			st = ppml_err_set(err, PPML_E_INPUT, "loader.entrypoint.sha256 must be a string");
			goto out;
		}
		if (!(r->entrypoint.sha256 = strdup(sha->u.s.ptr))) {
			st = nomem(err);
			goto out;
		}
	} else {
		if (o->flags & PPML_MANIFEST_NO_FS) {
			memcpy(job.hex, zero_hash, sizeof(job.hex));
		} else {
			job.path = path;
			job.index = SIZE_MAX;
			st = gr_hash_files(&job, 1, 1, o->progress, o->progress_ctx, &failed, err);
			if (st != PPML_OK) {
				if (failed == 0) {
					if (st == PPML_E_NOTFOUND)
						st = ppml_err_set(err, st,
								  "[Errno 2] No such file or directory: '%s' "
								  "(loader.entrypoint.uri = \"%s\"; relative "
								  "paths resolve against the current directory)",
								  path, uri->u.s.ptr);
					else
						st = hash_error(&job, st, "loader.entrypoint", err);
				}
				goto out;
			}
			r->entrypoint.hashed = true;
			r->entrypoint.size = job.size;
			if ((st = add_dep(r, path, err)) != PPML_OK)
				goto out;
		}
		if (!(r->entrypoint.sha256 = strdup(job.hex))) {
			st = nomem(err);
			goto out;
		}
		if ((st = set_default(ep, "sha256", new_str(job.hex), err)) != PPML_OK)
			goto out;
	}
	r->entrypoint.path = path;
	path = NULL;
out:
	free(defuri);
	free(path);
	return st;
}

/* Steps 2.3: expansion, dedup, hashing, and the new sgx.trusted_files. */
static ppml_status expand_all(struct ppml_toml_value *sgx, struct ctx *c,
			      struct ppml_manifest_result *r)
{
	ppml_status st = PPML_OK;
	const struct ppml_toml_value *tfs = ppml_toml_get(sgx, "trusted_files");
	struct gr_hash_job *jobs = NULL;
	size_t *job_item = NULL, njobs = 0, failed;
	struct ppml_toml_value *arr = NULL;

	for (size_t i = 0; i < tfs->u.a.len; i++)
		if ((st = (is_v13(c) ? expand_item_v13 : expand_item)(c, i, tfs->u.a.items[i])) !=
		    PPML_OK)
			goto out;

	jobs = calloc(c->len ? c->len : 1, sizeof(*jobs));
	job_item = calloc(c->len ? c->len : 1, sizeof(*job_item));
	if (!jobs || !job_item) {
		st = nomem(c->err);
		goto out;
	}
	for (size_t i = 0; i < c->len; i++) {
		if (c->items[i].sha256)
			continue;
		if (c->opts->flags & PPML_MANIFEST_NO_FS) {
			if (!(c->items[i].sha256 = strdup(zero_hash))) {
				st = nomem(c->err);
				goto out;
			}
			continue;
		}
		jobs[njobs].path = c->items[i].path;
		jobs[njobs].index = i;
		job_item[njobs++] = i;
	}
	st = gr_hash_files(jobs, njobs, c->opts->threads, c->opts->progress, c->opts->progress_ctx,
			   &failed, c->err);
	if (st != PPML_OK) {
		if (failed < njobs) {
			char what[PPML_MANIFEST_MAX_PATH + 64];
			snprintf(what, sizeof(what), "sgx.trusted_files entry \"%s\"",
				 c->items[job_item[failed]].uri);
			st = hash_error(&jobs[failed], st, what, c->err);
		}
		goto out;
	}
	for (size_t j = 0; j < njobs; j++) {
		struct tf *t = &c->items[job_item[j]];
		if (!(t->sha256 = strdup(jobs[j].hex))) {
			st = nomem(c->err);
			goto out;
		}
		t->hashed = true;
		t->size = jobs[j].size;
		if ((st = add_dep(r, t->path, c->err)) != PPML_OK)
			goto out;
	}

	/* [{uri, sha256}, ...] in map order, at the key's original position */
	if (!(arr = ppml_toml_new_array())) {
		st = nomem(c->err);
		goto out;
	}
	for (size_t i = 0; i < c->len; i++) {
		struct ppml_toml_value *t = ppml_toml_new_table();
		if (!t) {
			st = nomem(c->err);
			goto out;
		}
		if (ppml_toml_push(arr, t) != PPML_OK ||
		    ppml_toml_append(t, "uri", new_str(c->items[i].uri)) != PPML_OK ||
		    ppml_toml_append(t, "sha256", new_str(c->items[i].sha256)) != PPML_OK) {
			st = nomem(c->err);
			goto out;
		}
	}
	st = ppml_toml_set(sgx, "trusted_files", arr);
	arr = NULL;
	if (st != PPML_OK) {
		st = nomem(c->err);
		goto out;
	}

	r->files = calloc(c->len ? c->len : 1, sizeof(*r->files));
	if (!r->files) {
		st = nomem(c->err);
		goto out;
	}
	for (size_t i = 0; i < c->len; i++) {
		struct ppml_manifest_file *f = &r->files[i];
		f->uri = c->items[i].uri;
		f->path = c->items[i].path;
		f->sha256 = c->items[i].sha256;
		f->hashed = c->items[i].hashed;
		f->size = c->items[i].size;
		c->items[i].uri = c->items[i].path = c->items[i].sha256 = NULL;
	}
	r->n_files = c->len;
out:
	ppml_toml_free(arr);
	free(jobs);
	free(job_item);
	return st;
}

ppml_status ppml_manifest_normalize(struct ppml_toml_value *root,
				    const struct ppml_manifest_opts *opts,
				    struct ppml_manifest_result **result, struct ppml_err *err)
{
	ppml_status st = PPML_OK;
	struct ppml_manifest_opts defopts = {0};
	struct ppml_manifest_result *r = NULL;
	struct ctx c = {0};
	struct ppml_toml_value *sgx;

	if (result)
		*result = NULL;
	if (!opts)
		opts = &defopts;
	c.opts = opts;
	c.err = err;
	if (!is_table(root)) {
		st = ppml_err_set(err, PPML_E_INPUT, "the manifest root is not a TOML table");
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		st = nomem(err);
		goto out;
	}
	if ((st = (is_v13(&c) ? apply_sgx_defaults_v13 : apply_sgx_defaults)(root, err)) != PPML_OK)
		goto out;
	sgx = ppml_toml_get(root, "sgx");
	if ((st = normalise_trusted_list(sgx, err)) != PPML_OK)
		goto out;
	/* v1.3 does not hash loader.entrypoint: the LibOS is a trusted file there */
	if (!is_v13(&c) && (st = loader_entrypoint(root, opts, r, err)) != PPML_OK)
		goto out;
	if (opts->flags & PPML_MANIFEST_DEFAULTS_ONLY)
		goto done;
	if (opts->chroot && is_v13(&c)) {
		st = ppml_err_set(err, PPML_E_INPUT,
				  "--chroot is a Gramine 1.6+ option: the v1.3 signer resolves trusted "
				  "files against the current directory only");
		goto out;
	}
	if (opts->chroot) {
		c.chroot = pathnorm(opts->chroot);
		if (!c.chroot) {
			st = nomem(err);
			goto out;
		}
		if (!(opts->flags & PPML_MANIFEST_NO_FS) && !host_is_dir(c.chroot)) {
			st = ppml_err_set(err, PPML_E_NOTFOUND, "--chroot '%s' is not a directory",
					  opts->chroot);
			goto out;
		}
	}
	if ((st = expand_all(sgx, &c, r)) != PPML_OK)
		goto out;
done:
	if (result) {
		*result = r;
		r = NULL;
	}
out:
	for (size_t i = 0; i < c.len; i++)
		tf_cleanup(&c.items[i]);
	free(c.items);
	free(c.ht);
	free((char *)c.chroot);
	ppml_manifest_result_free(r);
	return st;
}

ppml_status ppml_manifest_normalize_text(const char *text, size_t len,
					 const struct ppml_manifest_opts *opts, struct ppml_buf *out,
					 struct ppml_manifest_result **result, struct ppml_err *err)
{
	ppml_status st;
	struct ppml_toml_value *root = NULL;

	if (result)
		*result = NULL;
	st = ppml_manifest_parse(text, len, opts ? opts->version : PPML_GRAMINE_1_9, &root, err);
	if (st != PPML_OK)
		goto out;
	st = ppml_manifest_normalize(root, opts, result, err);
	if (st != PPML_OK)
		goto out;
	st = ppml_manifest_write(root, opts ? opts->version : PPML_GRAMINE_1_9, out, err);
	if (st != PPML_OK && result) {
		ppml_manifest_result_free(*result);
		*result = NULL;
	}
out:
	ppml_toml_free(root);
	return st;
}
