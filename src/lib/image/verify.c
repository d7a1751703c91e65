/* SPDX-License-Identifier: Apache-2.0 */
/* ppml_image_verify: the layers applied to a virtual root (nothing is
 * extracted), then the enclave inside checked against its signature and the
 * expected identity. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "internal.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/identity.h"
#include "ppml/policy.h"

#define GRAMINE_PAL_IN_IMAGE "usr/lib/x86_64-linux-gnu/gramine/sgx/libpal.so"

/* ---- the virtual root: path -> (type, link, layer) ---- */

struct vnode {
	char *path;            /* NULL: empty slot */
	char *link;
	int type;              /* AE_IFREG, AE_IFDIR, AE_IFLNK, 0 = hardlink */
	uint32_t layer;
	bool dead;             /* deleted (tombstone) */
};

struct vroot {
	struct vnode *t;
	size_t cap, used, live;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

static struct vnode *slot(struct vroot *r, const char *path)
{
	size_t i = (size_t)hash(path) & (r->cap - 1);
	for (;;) {
		struct vnode *n = &r->t[i];
		if (!n->path || strcmp(n->path, path) == 0)
			return n;
		i = (i + 1) & (r->cap - 1);
	}
}

static bool grow(struct vroot *r)
{
	size_t cap = r->cap ? r->cap * 2 : 1024;
	struct vnode *old = r->t;
	size_t oc = r->cap;
	r->t = calloc(cap, sizeof(*r->t));
	if (!r->t) {
		r->t = old;
		return false;
	}
	r->cap = cap;
	r->used = r->live = 0;
	for (size_t i = 0; i < oc; i++) {
		if (!old[i].path)
			continue;
		if (old[i].dead) {
			free(old[i].path);
			free(old[i].link);
			continue;
		}
		*slot(r, old[i].path) = old[i];
		r->used++;
		r->live++;
	}
	free(old);
	return true;
}

static void vroot_free(struct vroot *r)
{
	for (size_t i = 0; i < r->cap; i++) {
		free(r->t[i].path);
		free(r->t[i].link);
	}
	free(r->t);
	memset(r, 0, sizeof(*r));
}

static struct vnode *lookup(struct vroot *r, const char *path)
{
	if (!r->cap)
		return NULL;
	struct vnode *n = slot(r, path);
	return n->path && !n->dead ? n : NULL;
}

/* Deletes path and (below) everything under it that lower layers made. */
static void delete_tree(struct vroot *r, const char *path, uint32_t below_layer, bool self)
{
	size_t pl = strlen(path);
	for (size_t i = 0; i < r->cap; i++) {
		struct vnode *n = &r->t[i];
		if (!n->path || n->dead || n->layer >= below_layer)
			continue;
		bool is_self = strcmp(n->path, path) == 0;
		bool under = pl == 0 || (strncmp(n->path, path, pl) == 0 && n->path[pl] == '/');
		if ((self && is_self) || under) {
			n->dead = true;
			r->live--;
		}
	}
}

static bool put(struct vroot *r, const struct img_entry *e, uint32_t layer)
{
	if ((r->used + 1) * 4 >= r->cap * 3 && !grow(r))
		return false;
	struct vnode *n = slot(r, e->path);
	if (n->path && !n->dead && n->type == AE_IFDIR && e->type != AE_IFDIR)
		delete_tree(r, e->path, layer + 1, false);
	char *link = e->link ? strdup(e->link) : NULL;
	if (e->link && !link)
		return false;
	if (!n->path) {
		if (!(n->path = strdup(e->path))) {
			free(link);
			return false;
		}
		r->used++;
		r->live++;
	} else if (n->dead) {
		r->live++;
	}
	free(n->link);
	n->link = link;
	n->type = e->type;
	n->layer = layer;
	n->dead = false;
	return true;
}

/* Entries of one layer are gathered first: whiteouts apply to the layers
 * below only (OCI image spec, "Whiteouts"). */
struct gather {
	struct img_entry *v;
	size_t n, cap;
	bool oom;
};

static bool gather_fn(void *c, const struct img_entry *e, struct archive *a)
{
	struct gather *g = c;
	(void)a;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 256;
		struct img_entry *nv = realloc(g->v, cap * sizeof(*nv));
		if (!nv) {
			g->oom = true;
			return false;
		}
		g->v = nv;
		g->cap = cap;
	}
	struct img_entry *x = &g->v[g->n];
	*x = *e;
	x->path = strdup(e->path);
	x->link = e->link ? strdup(e->link) : NULL;
	if (!x->path || (e->link && !x->link)) {
		g->oom = true;
		return false;
	}
	g->n++;
	return g->n <= PPML_IMAGE_MAX_ENTRIES;
}

static void gather_free(struct gather *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free((char *)g->v[i].path);
		free((char *)g->v[i].link);
	}
	free(g->v);
}

static ppml_status apply_layers(const struct img_local *im, struct vroot *r, struct ppml_err *err)
{
	for (uint32_t li = 0; li < im->n_layers; li++) {
		struct gather g = {0};
		char what[32];
		snprintf(what, sizeof(what), "layer %u", li + 1);
		ppml_status rc = img_layer_scan(im->layers[li].path, what, gather_fn, &g, err);
		if (rc == PPML_OK && g.oom)
			rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		if (rc == PPML_OK && g.n > PPML_IMAGE_MAX_ENTRIES)
			rc = ppml_err_set(err, PPML_E_LIMIT, "%s: more than %u entries", what,
					  PPML_IMAGE_MAX_ENTRIES);
		for (size_t i = 0; rc == PPML_OK && i < g.n; i++) {
			const char *p = g.v[i].path, *base = strrchr(p, '/');
			base = base ? base + 1 : p;
			if (strncmp(base, ".wh.", 4) != 0)
				continue;
			char parent[PPML_IMAGE_MAX_PATH + 1];
			snprintf(parent, sizeof(parent), "%.*s", base > p ? (int)(base - p - 1) : 0, p);
			if (strcmp(base, ".wh..wh..opq") == 0) {
				delete_tree(r, parent, li, false);
			} else {
				char target[PPML_IMAGE_MAX_PATH * 2 + 2];
				snprintf(target, sizeof(target), "%s%s%s", parent, parent[0] ? "/" : "",
					 base + 4);
				delete_tree(r, target, li, true);
			}
		}
		for (size_t i = 0; rc == PPML_OK && i < g.n; i++) {
			const char *p = g.v[i].path, *base = strrchr(p, '/');
			base = base ? base + 1 : p;
			if (strncmp(base, ".wh.", 4) == 0 || !p[0])
				continue;
			if (g.v[i].type != AE_IFREG && g.v[i].type != AE_IFDIR &&
			    g.v[i].type != AE_IFLNK && g.v[i].type != 0)
				continue; /* devices, fifos: nothing an enclave measures */
			if (!put(r, &g.v[i], li))
				rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
			else if (r->live > PPML_IMAGE_MAX_ENTRIES)
				rc = ppml_err_set(err, PPML_E_LIMIT, "image: more than %u paths",
						  PPML_IMAGE_MAX_ENTRIES);
		}
		gather_free(&g);
		if (rc != PPML_OK)
			return rc;
	}
	return PPML_OK;
}

/* snprintf that reports truncation (paths are capped, never cut). */
static bool fmt(char *buf, size_t n, const char *f, ...) PPML_PRINTF(3, 4);
static bool fmt(char *buf, size_t n, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int r = vsnprintf(buf, n, f, ap);
	va_end(ap);
	return r >= 0 && (size_t)r < n;
}

/* Joins and normalises with "..", refusing to climb above the root. */
static bool join_norm(const char *base, const char *rel, char *out, size_t n)
{
	char tmp[PPML_IMAGE_MAX_PATH * 3 + 3];
	size_t w = 0;
	if (!(rel[0] == '/' ? fmt(tmp, sizeof(tmp), "%s", rel)
			    : fmt(tmp, sizeof(tmp), "%s/%s", base, rel)))
		return false;
	const char *p = tmp;
	out[0] = 0;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (!l)
			break;
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (w == 0)
				return false; /* escapes the root */
			while (w > 0 && out[w - 1] != '/')
				w--;
			if (w > 0)
				w--;
			out[w] = 0;
		} else if (!(l == 1 && p[0] == '.')) {
			if (w + l + 2 > n)
				return false;
			if (w)
				out[w++] = '/';
			memcpy(out + w, p, l);
			w += l;
			out[w] = 0;
		}
		p += l;
	}
	return true;
}

/* The node holding a path's content, following symlinks in every component. */
static ppml_status resolve(struct vroot *r, const char *path, const struct vnode **out,
			   struct ppml_err *err)
{
	char cur[PPML_IMAGE_MAX_PATH + 1], rest[PPML_IMAGE_MAX_PATH * 2 + 2];
	unsigned hops = 0;

	if (!join_norm("", path, rest, sizeof(rest)))
		return ppml_err_set(err, PPML_E_INPUT, "/%s: escapes the image root", path);
	cur[0] = 0;
	while (rest[0]) {
		char *slash = strchr(rest, '/');
		size_t l = slash ? (size_t)(slash - rest) : strlen(rest);
		char next[PPML_IMAGE_MAX_PATH * 2 + 2], remain[PPML_IMAGE_MAX_PATH * 2 + 2];
		if (!fmt(next, sizeof(next), "%s%s%.*s", cur, cur[0] ? "/" : "", (int)l, rest) ||
		    strlen(next) > PPML_IMAGE_MAX_PATH ||
		    !fmt(remain, sizeof(remain), "%s", slash ? slash + 1 : ""))
			return ppml_err_set(err, PPML_E_LIMIT, "/%s: path too long", path);
		const struct vnode *n = lookup(r, next);
		if (!n)
			return ppml_err_set(err, PPML_E_NOTFOUND, "/%s is not in the image", path);
		if (n->type == AE_IFLNK) {
			if (++hops > PPML_IMAGE_MAX_SYMLINKS)
				return ppml_err_set(err, PPML_E_INPUT, "/%s: too many symlinks", path);
			char joined[PPML_IMAGE_MAX_PATH * 2 + 2], tgt[PPML_IMAGE_MAX_PATH * 2 + 2];
			if (!fmt(joined, sizeof(joined), "%s%s%s", n->link, remain[0] ? "/" : "",
				 remain))
				return ppml_err_set(err, PPML_E_LIMIT, "/%s: path too long", path);
			if (!join_norm(cur, joined, tgt, sizeof(tgt)))
				return ppml_err_set(err, PPML_E_INPUT,
						    "/%s: symlink /%s -> %s escapes the image root",
						    path, next, n->link);
			memcpy(rest, tgt, strlen(tgt) + 1);
			cur[0] = 0;
			continue;
		}
		if (!remain[0]) {
			if (n->type != AE_IFREG && n->type != 0)
				return ppml_err_set(err, PPML_E_INPUT, "/%s is not a regular file",
						    path);
			*out = n;
			return PPML_OK;
		}
		if (n->type != AE_IFDIR)
			return ppml_err_set(err, PPML_E_NOTFOUND, "/%s: /%s is not a folder", path,
					    next);
		memcpy(cur, next, strlen(next) + 1);
		memcpy(rest, remain, strlen(remain) + 1);
	}
	return ppml_err_set(err, PPML_E_INPUT, "/%s is a folder", path);
}

/* ---- reading files out of layers ---- */

struct want {
	char entry[PPML_IMAGE_MAX_PATH + 1]; /* path of the data entry in its layer */
	uint32_t layer;
	bool capture;          /* keep the bytes (up to PPML_IMAGE_MAX_READ) */
	uint8_t *data;
	size_t len;
	char hex[65];
	bool found, too_big;
};

struct read_ctx {
	struct want *w;
	size_t n;
	uint32_t layer;
};

static bool read_fn(void *c, const struct img_entry *e, struct archive *a)
{
	struct read_ctx *x = c;
	static __thread uint8_t buf[1 << 16];
	for (size_t i = 0; i < x->n; i++) {
		struct want *w = &x->w[i];
		if (w->layer != x->layer || w->found || e->type != AE_IFREG ||
		    strcmp(w->entry, e->path) != 0)
			continue;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		long n;
		while ((n = img_entry_read(a, buf, sizeof(buf))) > 0) {
			EVP_DigestUpdate(md, buf, (size_t)n);
			if (w->capture && !w->too_big) {
				if (w->len + (size_t)n > PPML_IMAGE_MAX_READ) {
					w->too_big = true;
				} else {
					uint8_t *nd = realloc(w->data, w->len + (size_t)n + 1);
					if (nd) {
						w->data = nd;
						memcpy(w->data + w->len, buf, (size_t)n);
						w->len += (size_t)n;
						w->data[w->len] = 0;
					} else {
						w->too_big = true;
					}
				}
			}
		}
		uint8_t d[32];
		EVP_DigestFinal_ex(md, d, NULL);
		EVP_MD_CTX_free(md);
		ppml_hex_encode(d, 32, w->hex);
		w->found = n == 0;
		/* Same entry wanted twice (two URIs, one file): copy. */
		for (size_t j = i + 1; j < x->n; j++)
			if (x->w[j].layer == x->layer && !strcmp(x->w[j].entry, w->entry) &&
			    !x->w[j].capture) {
				memcpy(x->w[j].hex, w->hex, 65);
				x->w[j].found = w->found;
			}
		break;
	}
	return true;
}

static ppml_status read_wants(const struct img_local *im, struct want *w, size_t n,
			      struct ppml_err *err)
{
	for (uint32_t li = 0; li < im->n_layers; li++) {
		bool any = false;
		for (size_t i = 0; i < n && !any; i++)
			any = w[i].layer == li;
		if (!any)
			continue;
		struct read_ctx x = {w, n, li};
		char what[32];
		snprintf(what, sizeof(what), "layer %u", li + 1);
		ppml_status rc = img_layer_scan(im->layers[li].path, what, read_fn, &x, err);
		if (rc != PPML_OK)
			return rc;
	}
	return PPML_OK;
}

/* Points a want at the content of an image path. */
static ppml_status want_path(struct vroot *r, const char *path, struct want *w,
			     struct ppml_err *err)
{
	const struct vnode *n = NULL;
	ppml_status rc = resolve(r, path, &n, err);
	if (rc != PPML_OK)
		return rc;
	snprintf(w->entry, sizeof(w->entry), "%s", n->type == 0 ? n->link : n->path);
	w->layer = n->layer;
	return PPML_OK;
}

static void reason(struct ppml_image_verdict *v, const char *fmt, ...) PPML_PRINTF(2, 3);
static void reason(struct ppml_image_verdict *v, const char *fmt, ...)
{
	va_list ap;
	v->ok = false;
	if (v->n_reasons == PPML_IMAGE_MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(v->reasons[v->n_reasons++], sizeof(v->reasons[0]), fmt, ap);
	va_end(ap);
}

static const char *label(const struct img_local *im, const char *k)
{
	return json_string_value(
		json_object_get(json_object_get(json_object_get(im->config_json, "config"), "Labels"),
				k));
}

ppml_status ppml_image_verify(const struct ppml_image_ref *img, const char *libpal,
			      const struct ppml_image_expect *e, struct ppml_image_verdict *v,
			      struct ppml_err *err)
{
	struct img_local im = {0};
	struct vroot r = {0};
	struct want *w = NULL;
	struct ppml_identity *id = NULL;
	uint8_t *pal = NULL;
	size_t pal_len = 0;
	ppml_status rc;

	memset(v, 0, sizeof(*v));
	v->ok = true;
	if (!e->has_mrenclave && !e->has_mrsigner && !e->policy)
		return ppml_err_set(err, PPML_E_INPUT,
				    "expected identity: give an MRENCLAVE, an MRSIGNER or a policy");
	if ((rc = img_local_open(img, &im, err)) != PPML_OK)
		return rc;
	snprintf(v->manifest_digest, sizeof(v->manifest_digest), "%s", im.manifest_digest);
	const char *mpath = label(&im, PPML_LABEL_MANIFEST), *spath = label(&im, PPML_LABEL_SIGFILE);
	if (!mpath || !spath) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "image config: no %s / %s labels: not an image made by `ppml image "
				  "build`",
				  PPML_LABEL_MANIFEST, PPML_LABEL_SIGFILE);
		goto out;
	}
	snprintf(v->manifest_path, sizeof(v->manifest_path), "%s", mpath);
	if ((rc = apply_layers(&im, &r, err)) != PPML_OK)
		goto out;

	/* manifest.sgx, .sig and (unless on the host) the PAL. */
	const char *pal_in = label(&im, PPML_LABEL_LIBPAL);
	struct want head[3] = {{.capture = true}, {.capture = true}, {.capture = true}};
	size_t nh = libpal ? 2 : 3;
	if ((rc = want_path(&r, mpath, &head[0], err)) != PPML_OK ||
	    (rc = want_path(&r, spath, &head[1], err)) != PPML_OK ||
	    (!libpal && (rc = want_path(&r, pal_in ? pal_in : GRAMINE_PAL_IN_IMAGE, &head[2],
					err)) != PPML_OK)) {
		if (!libpal && rc == PPML_E_NOTFOUND)
			ppml_err_prefix(err, "the PAL (pass --libpal): ");
		goto out_head;
	}
	if ((rc = read_wants(&im, head, nh, err)) != PPML_OK)
		goto out_head;
	for (size_t i = 0; i < nh; i++)
		if (!head[i].found || head[i].too_big) {
			rc = ppml_err_set(err, PPML_E_INPUT, "%s: unreadable or over %u bytes in the "
					  "image", head[i].entry, PPML_IMAGE_MAX_READ);
			goto out_head;
		}
	if (libpal) {
		if ((rc = ppml_file_read(libpal, PPML_SGX_MAX_PAL_SIZE, &pal, &pal_len, err)) !=
		    PPML_OK)
			goto out_head;
	} else {
		pal = head[2].data;
		pal_len = head[2].len;
		head[2].data = NULL;
	}
	struct ppml_err ierr = {0};
	enum ppml_gramine_version gv = PPML_GRAMINE_1_9;
	const char *lv = label(&im, PPML_LABEL_GRAMINE);
	if (e->has_gramine_version)
		gv = e->gramine_version;
	else if (lv && ppml_gramine_version_parse(lv, &gv, &ierr) != PPML_OK) {
		rc = ppml_err_set(err, PPML_E_INPUT, "image config: label %s: %s", PPML_LABEL_GRAMINE,
				  ierr.msg);
		goto out_head;
	}
	rc = ppml_identity_build(head[0].data, head[0].len, pal, pal_len,
				 libpal ? libpal : "the image's PAL", gv, head[1].data,
				 head[1].len,
				 mpath, &id, &ierr);
	if (rc == PPML_E_REFUSED) {
		reason(v, "signature: %s", ierr.msg);
		rc = PPML_OK;
		goto out_head;
	}
	if (rc != PPML_OK) {
		*err = ierr;
		goto out_head;
	}
	memcpy(v->mrenclave, id->mrenclave, 32);
	memcpy(v->mrsigner, id->mrsigner, 32);
	v->isvprodid = id->isvprodid;
	v->isvsvn = id->isvsvn;
	v->debug = id->debug;

	/* Every measured file, inside the image. */
	const char *wd = json_string_value(
		json_object_get(json_object_get(im.config_json, "config"), "WorkingDir"));
	w = calloc(id->n_files ? id->n_files : 1, sizeof(*w));
	if (!w) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out_head;
	}
	bool *missing = calloc(id->n_files ? id->n_files : 1, sizeof(bool));
	for (size_t i = 0; missing && i < id->n_files; i++) {
		const char *uri = id->files[i].uri;
		char path[PPML_IMAGE_MAX_PATH * 2 + 2];
		struct ppml_err e2 = {0};
		if (strncmp(uri, "file:", 5) != 0) {
			reason(v, "measured file %s: not a file: URI", uri);
			missing[i] = true;
			continue;
		}
		if (uri[5] == '/')
			snprintf(path, sizeof(path), "%s", uri + 5);
		else
			snprintf(path, sizeof(path), "%s/%s", wd ? wd : "", uri + 5);
		w[i].layer = UINT32_MAX;
		char np[PPML_IMAGE_MAX_PATH + 1];
		if (!img_norm_path(path, np, sizeof(np))) {
			reason(v, "trusted file %s: the path escapes the image root", uri);
			missing[i] = true;
			continue;
		}
		if (want_path(&r, np, &w[i], &e2) != PPML_OK) {
			reason(v, "trusted file %s: %s", uri, e2.msg);
			missing[i] = true;
		}
	}
	if (!missing || (rc = read_wants(&im, w, id->n_files, err)) != PPML_OK) {
		if (!missing)
			rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		free(missing);
		goto out_head;
	}
	for (size_t i = 0; i < id->n_files; i++) {
		if (missing[i])
			continue;
		if (!w[i].found)
			reason(v, "trusted file %s: unreadable in the image", id->files[i].uri);
		else if (strlen(id->files[i].sha256) != 64 ||
			 CRYPTO_memcmp(w[i].hex, id->files[i].sha256, 64) != 0)
			reason(v, "trusted file %s was modified: SHA-256 %s in the image, "
				  "manifest.sgx says %s",
			       id->files[i].uri, w[i].hex, id->files[i].sha256);
		else
			v->files_checked++;
	}
	free(missing);

	/* The expected identity, and labels that agree with the signature. */
	char a[65], b[65];
	if (e->has_mrenclave && CRYPTO_memcmp(e->mrenclave, id->mrenclave, 32) != 0) {
		ppml_hex_encode(id->mrenclave, 32, a);
		ppml_hex_encode(e->mrenclave, 32, b);
		reason(v, "identity: MRENCLAVE %s, expected %s", a, b);
	}
	if (e->has_mrsigner && CRYPTO_memcmp(e->mrsigner, id->mrsigner, 32) != 0) {
		ppml_hex_encode(id->mrsigner, 32, a);
		ppml_hex_encode(e->mrsigner, 32, b);
		reason(v, "identity: MRSIGNER %s, expected %s", a, b);
	}
	if (e->has_isvprodid && e->isvprodid != id->isvprodid)
		reason(v, "identity: ISVPRODID %u, expected %u", id->isvprodid, e->isvprodid);
	if (e->has_min_isvsvn && id->isvsvn < e->min_isvsvn)
		reason(v, "identity: ISVSVN %u, below the minimum %u", id->isvsvn, e->min_isvsvn);
	if (e->policy) {
		const struct ppml_policy *p = e->policy;
		bool any = false;
		for (size_t i = 0; i < p->n_identities && !any; i++) {
			const struct ppml_policy_identity *pi = &p->identities[i];
			any = (!pi->has_mrenclave || !CRYPTO_memcmp(pi->mrenclave, id->mrenclave, 32)) &&
			      (!pi->has_mrsigner ||
			       (!CRYPTO_memcmp(pi->mrsigner, id->mrsigner, 32) &&
				pi->isvprodid == id->isvprodid && id->isvsvn >= pi->min_isvsvn));
		}
		if (!any)
			reason(v, "identity: matches none of the policy's %zu identities",
			       p->n_identities);
	}
	if (id->debug && !e->allow_debug && !(e->policy && e->policy->allow_debug))
		reason(v, "identity: a DEBUG enclave (its memory is readable by the host)");
	const char *lm = label(&im, PPML_LABEL_MRENCLAVE), *ls = label(&im, PPML_LABEL_MRSIGNER);
	ppml_hex_encode(id->mrenclave, 32, a);
	ppml_hex_encode(id->mrsigner, 32, b);
	if (!lm || strcmp(lm, a) != 0 || !ls || strcmp(ls, b) != 0)
		reason(v, "labels: %s / %s do not match the signature (%s / %s)",
		       PPML_LABEL_MRENCLAVE, PPML_LABEL_MRSIGNER, a, b);
	rc = PPML_OK;
out_head:
	for (size_t i = 0; i < 3; i++)
		free(head[i].data);
out:
	free(w);
	free(pal);
	ppml_identity_free(id);
	vroot_free(&r);
	img_local_free(&im);
	return rc;
}
