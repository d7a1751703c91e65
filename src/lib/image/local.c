/* SPDX-License-Identifier: Apache-2.0 */
/* Opening an image for reading: an OCI layout or a docker archive, with
 * every digest, size and diff_id checked before anything is trusted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "internal.h"
#include "ppml/file.h"
#include "ppml/limits.h"

static void rm_tree(const char *dir);

void img_local_free(struct img_local *im)
{
	if (!im)
		return;
	free(im->config);
	json_decref(im->config_json);
	free(im->layers);
	if (im->tmpdir[0])
		rm_tree(im->tmpdir);
	memset(im, 0, sizeof(*im));
}

/* Removes a folder tree made by this file (regular files and folders only). */
static void rm_tree(const char *dir)
{
	char cmd_path[4200];
	struct stat st;
	if (lstat(dir, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(dir);
		return;
	}
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(cmd_path, sizeof(cmd_path), "%s/%s", dir, de->d_name);
		rm_tree(cmd_path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static ppml_status read_json(const char *path, const char *what, uint8_t **data, size_t *len,
			     json_t **out, struct ppml_err *err)
{
	json_error_t je;
	ppml_status rc = ppml_file_read(path, PPML_IMAGE_MAX_JSON, data, len, err);
	if (rc != PPML_OK) {
		ppml_err_prefix(err, "%s: ", what);
		return rc;
	}
	*out = json_loadb((const char *)*data, *len, JSON_REJECT_DUPLICATES, &je);
	if (!*out || (!json_is_object(*out) && !json_is_array(*out))) {
		json_decref(*out);
		*out = NULL;
		free(*data);
		*data = NULL;
		return ppml_err_set(err, PPML_E_INPUT, "%s (%s): not JSON: line %d: %s", what, path,
				    je.line, je.text);
	}
	return PPML_OK;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A descriptor's blob: path, and digest + size checked. */
static ppml_status blob(const char *dir, json_t *desc, const char *what, char *path, size_t pl,
			char digest[72], int64_t *size, struct ppml_err *err)
{
	const char *d = jstr(desc, "digest");
	json_t *sz = json_object_get(desc, "size");
	char got[72];
	int64_t gs = 0;
	ppml_status rc;

	if (!d || !img_digest_ok(d) || !json_is_integer(sz) || json_integer_value(sz) < 0)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: descriptor needs digest \"sha256:<64 hex>\" and a size", what);
	snprintf(path, pl, "%s/blobs/sha256/%s", dir, d + 7);
	if ((rc = img_digest_file(path, got, &gs, err)) != PPML_OK) {
		ppml_err_prefix(err, "%s: missing blob: ", what);
		return rc;
	}
	if (strcmp(got, d) != 0)
		return ppml_err_set(err, PPML_E_INPUT, "%s: blob %s has digest %s: the image is "
				    "corrupt or was altered", what, d, got);
	if (gs != json_integer_value(sz))
		return ppml_err_set(err, PPML_E_INPUT, "%s: blob %s is %lld bytes, the descriptor "
				    "says %lld", what, d, (long long)gs,
				    (long long)json_integer_value(sz));
	memcpy(digest, d, 72);
	if (size)
		*size = gs;
	return PPML_OK;
}

/* Config and layers (shared by both formats once the files are local). */
static ppml_status check_layers(struct img_local *im, struct ppml_err *err)
{
	json_t *diff = json_object_get(json_object_get(im->config_json, "rootfs"), "diff_ids");
	if (!json_is_array(diff) || json_array_size(diff) != im->n_layers)
		return ppml_err_set(err, PPML_E_INPUT,
				    "image config: rootfs.diff_ids has %zu entries for %zu layers",
				    json_is_array(diff) ? json_array_size(diff) : 0, im->n_layers);
	for (size_t i = 0; i < im->n_layers; i++) {
		const char *want = json_string_value(json_array_get(diff, i));
		char got[72];
		ppml_status rc;
		if (!want || !img_digest_ok(want))
			return ppml_err_set(err, PPML_E_INPUT,
					    "image config: rootfs.diff_ids[%zu] is not a sha256 digest",
					    i);
		if ((rc = img_diff_id(im->layers[i].path, got, NULL, err)) != PPML_OK)
			return rc;
		if (strcmp(got, want) != 0)
			return ppml_err_set(err, PPML_E_INPUT,
					    "layer %zu: uncompressed digest %s, the config says %s",
					    i + 1, got, want);
		memcpy(im->layers[i].diff_id, want, 72);
	}
	return PPML_OK;
}

static ppml_status open_oci(const struct ppml_image_ref *ref, struct img_local *im,
			    struct ppml_err *err)
{
	char p[4400];
	uint8_t *idx_b = NULL, *man_b = NULL;
	size_t idx_l = 0, man_l = 0;
	json_t *idx = NULL, *man = NULL, *chosen = NULL;
	ppml_status rc;
	struct stat st;

	snprintf(p, sizeof(p), "%s/oci-layout", ref->path);
	if (stat(p, &st) != 0)
		return ppml_err_set(err, PPML_E_NOTFOUND,
				    "%s: not an OCI image layout (no oci-layout file)", ref->path);
	snprintf(p, sizeof(p), "%s/index.json", ref->path);
	if ((rc = read_json(p, "index.json", &idx_b, &idx_l, &idx, err)) != PPML_OK)
		return rc;
	json_t *ms = json_object_get(idx, "manifests");
	size_t n = json_array_size(ms);
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_array_get(ms, i);
		const char *name = jstr(json_object_get(m, "annotations"),
					"org.opencontainers.image.ref.name");
		if (ref->tag[0] ? (name && strcmp(name, ref->tag) == 0) : n == 1)
			chosen = m;
	}
	if (!chosen) {
		rc = ppml_err_set(err, PPML_E_NOTFOUND,
				  "%s: %s (index.json lists %zu manifests; name one with "
				  "oci:DIR:TAG)",
				  ref->path, ref->tag[0] ? "no manifest with this tag" :
							   "which manifest?", n);
		goto out;
	}
	const char *mt = jstr(chosen, "mediaType");
	if (mt && strcmp(mt, MT_OCI_MANIFEST) != 0 &&
	    strcmp(mt, "application/vnd.docker.distribution.manifest.v2+json") != 0) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "%s: manifest media type %s: expected an OCI image manifest "
				  "(multi-platform indexes: pick one platform first)",
				  ref->path, mt);
		goto out;
	}
	if ((rc = blob(ref->path, chosen, "index.json manifest", p, sizeof(p),
		       im->manifest_digest, NULL, err)) != PPML_OK ||
	    (rc = read_json(p, "image manifest", &man_b, &man_l, &man, err)) != PPML_OK)
		goto out;
	json_t *cd = json_object_get(man, "config"), *ls = json_object_get(man, "layers");
	if (!json_is_object(cd) || !json_is_array(ls) ||
	    json_array_size(ls) > PPML_IMAGE_MAX_LAYERS) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "image manifest: needs a config descriptor and at most %u layers",
				  PPML_IMAGE_MAX_LAYERS);
		goto out;
	}
	if ((rc = blob(ref->path, cd, "image config", p, sizeof(p), im->config_digest, NULL,
		       err)) != PPML_OK ||
	    (rc = read_json(p, "image config", &im->config, &im->config_len, &im->config_json,
			    err)) != PPML_OK)
		goto out;
	im->n_layers = json_array_size(ls);
	im->layers = calloc(im->n_layers ? im->n_layers : 1, sizeof(*im->layers));
	if (!im->layers) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < im->n_layers; i++) {
		json_t *ld = json_array_get(ls, i);
		struct img_layer *L = &im->layers[i];
		char what[32];
		snprintf(what, sizeof(what), "layer %zu", i + 1);
		if ((rc = blob(ref->path, ld, what, L->path, sizeof(L->path), L->digest, &L->size,
			       err)) != PPML_OK)
			goto out;
		snprintf(L->media_type, sizeof(L->media_type), "%s",
			 jstr(ld, "mediaType") ? jstr(ld, "mediaType") : MT_LAYER_GZIP);
	}
	rc = check_layers(im, err);
out:
	json_decref(idx);
	json_decref(man);
	free(idx_b);
	free(man_b);
	return rc;
}

/* Extracts the regular files of a docker archive into dir (names checked). */
struct extract_ctx {
	const char *dir;
	struct ppml_err *err;
	ppml_status rc;
	size_t files;
};

static bool make_parents(const char *path)
{
	char p[4400];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return false;
		*s = '/';
	}
	return true;
}

static bool extract_one(void *vctx, const struct img_entry *e, struct archive *a)
{
	struct extract_ctx *x = vctx;
	char p[4400];
	static __thread uint8_t buf[1 << 16];
	if (e->type != AE_IFREG)
		return true; /* folders are made as needed; links are not followed */
	if (++x->files > PPML_IMAGE_MAX_LAYERS * 4 + 16) {
		x->rc = ppml_err_set(x->err, PPML_E_LIMIT, "docker archive: too many members");
		return false;
	}
	snprintf(p, sizeof(p), "%s/%s", x->dir, e->path);
	int fd = -1;
	if (!make_parents(p) ||
	    (fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		x->rc = ppml_err_set(x->err, PPML_E_IO, "docker archive: member %s: %s", e->path,
				     strerror(errno));
		return false;
	}
	long n;
	while ((n = img_entry_read(a, buf, sizeof(buf))) > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			x->rc = ppml_err_set(x->err, PPML_E_IO, "%s: write: %s", p, strerror(errno));
			close(fd);
			return false;
		}
	}
	close(fd);
	if (n < 0) {
		x->rc = ppml_err_set(x->err, PPML_E_INPUT, "docker archive: member %s is truncated",
				     e->path);
		return false;
	}
	return true;
}

static ppml_status open_docker(const struct ppml_image_ref *ref, struct img_local *im,
			       struct ppml_err *err)
{
	char p[4400];
	uint8_t *mb = NULL;
	size_t ml = 0;
	json_t *m = NULL;
	ppml_status rc;

	snprintf(im->tmpdir, sizeof(im->tmpdir), "/tmp/ppml-image-XXXXXX");
	if (!mkdtemp(im->tmpdir)) {
		im->tmpdir[0] = 0;
		return ppml_err_set(err, PPML_E_IO, "cannot create a temporary folder: %s",
				    strerror(errno));
	}
	struct extract_ctx x = {.dir = im->tmpdir, .err = err, .rc = PPML_OK};
	if ((rc = img_layer_scan(ref->path, ref->path, extract_one, &x, err)) != PPML_OK)
		return rc;
	if (x.rc != PPML_OK)
		return x.rc;
	snprintf(p, sizeof(p), "%s/manifest.json", im->tmpdir);
	if ((rc = read_json(p, "docker archive manifest.json", &mb, &ml, &m, err)) != PPML_OK)
		goto out;
	json_t *e = json_array_get(m, 0);
	const char *cfg = jstr(e, "Config");
	json_t *ls = json_object_get(e, "Layers");
	char ncfg[PPML_IMAGE_MAX_PATH + 1];
	if (!json_is_array(m) || json_array_size(m) != 1 || !cfg || !json_is_array(ls) ||
	    json_array_size(ls) > PPML_IMAGE_MAX_LAYERS || !img_norm_path(cfg, ncfg, sizeof(ncfg))) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "%s: manifest.json: expected one image with Config and Layers",
				  ref->path);
		goto out;
	}
	snprintf(p, sizeof(p), "%s/%s", im->tmpdir, ncfg);
	if ((rc = read_json(p, "image config", &im->config, &im->config_len, &im->config_json,
			    err)) != PPML_OK)
		goto out;
	img_digest(im->config, im->config_len, im->config_digest);
	/* The config's name is its digest in both docker layouts. */
	const char *base = strrchr(ncfg, '/') ? strrchr(ncfg, '/') + 1 : ncfg;
	if (strncmp(base, im->config_digest + 7, 64) != 0) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "%s: config %s has digest %s: the archive is corrupt or was altered",
				  ref->path, cfg, im->config_digest);
		goto out;
	}
	im->n_layers = json_array_size(ls);
	im->layers = calloc(im->n_layers ? im->n_layers : 1, sizeof(*im->layers));
	if (!im->layers) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < im->n_layers; i++) {
		const char *ln = json_string_value(json_array_get(ls, i));
		char nl[PPML_IMAGE_MAX_PATH + 1];
		struct img_layer *L = &im->layers[i];
		if (!ln || !img_norm_path(ln, nl, sizeof(nl))) {
			rc = ppml_err_set(err, PPML_E_INPUT, "%s: manifest.json Layers[%zu]: bad path",
					  ref->path, i);
			goto out;
		}
		snprintf(L->path, sizeof(L->path), "%s/%s", im->tmpdir, nl);
		if ((rc = img_digest_file(L->path, L->digest, &L->size, err)) != PPML_OK) {
			ppml_err_prefix(err, "%s: layer %zu (%s): ", ref->path, i + 1, ln);
			goto out;
		}
		uint8_t magic[2] = {0};
		int fd = open(L->path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t r = read(fd, magic, 2);
			(void)r;
			close(fd);
		}
		snprintf(L->media_type, sizeof(L->media_type), "%s",
			 magic[0] == 0x1f && magic[1] == 0x8b ? MT_LAYER_GZIP : MT_LAYER_TAR);
	}
	rc = check_layers(im, err);
out:
	json_decref(m);
	free(mb);
	return rc;
}

ppml_status img_local_open(const struct ppml_image_ref *ref, struct img_local *out,
			   struct ppml_err *err)
{
	ppml_status rc;
	memset(out, 0, sizeof(*out));
	if (ref->kind == PPML_IMAGE_OCI)
		rc = open_oci(ref, out, err);
	else if (ref->kind == PPML_IMAGE_DOCKER_ARCHIVE)
		rc = open_docker(ref, out, err);
	else
		rc = ppml_err_set(err, PPML_E_INTERNAL, "image: nothing to open for scratch");
	if (rc == PPML_OK && !json_is_object(out->config_json))
		rc = ppml_err_set(err, PPML_E_INPUT, "image config: expected a JSON object");
	if (rc != PPML_OK)
		img_local_free(out);
	return rc;
}
