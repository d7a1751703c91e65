/* SPDX-License-Identifier: Apache-2.0 */
/* ppml_image_build: base + one enclave layer -> OCI layout or docker archive. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "internal.h"
#include "ppml/enclave.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/identity.h"
#include "ppml/timeutil.h"

static void say(const struct ppml_image_build_opts *o, const char *fmt, ...) PPML_PRINTF(2, 3);
static void say(const struct ppml_image_build_opts *o, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!o->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->progress(o->progress_ctx, msg);
}

/* The only *.manifest.sgx in dir. */
static ppml_status find_manifest(const char *dir, char *out, size_t n, struct ppml_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t found = 0;
	if (!d)
		return ppml_err_set(err, PPML_E_NOTFOUND, "--enclave %s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 13 && strcmp(de->d_name + l - 13, ".manifest.sgx") == 0) {
			if (found++ == 0)
				snprintf(out, n, "%s", de->d_name);
		}
	}
	closedir(d);
	if (found != 1)
		return ppml_err_set(err, PPML_E_INPUT,
				    "--enclave %s: %s *.manifest.sgx; name one with --manifest", dir,
				    found ? "more than one" : "no");
	return PPML_OK;
}

struct files {
	struct img_file *v;
	size_t n, cap;
};

static ppml_status add(struct files *f, const char *dest, const char *src, const char *sha,
		       const char *what, struct ppml_err *err)
{
	char nd[PPML_IMAGE_MAX_PATH + 1];
	if (!img_norm_path(dest, nd, sizeof(nd)) || !nd[0])
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s %s: destination /%s escapes the image root or is empty", what,
				    src, dest);
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct img_file *nv = realloc(f->v, cap * sizeof(*nv));
		if (!nv)
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		f->v = nv;
		f->cap = cap;
	}
	struct img_file *x = &f->v[f->n];
	memset(x, 0, sizeof(*x));
	snprintf(x->dest, sizeof(x->dest), "%s", nd);
	if (!(x->src = strdup(src)))
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	if (sha) {
		x->has_sha256 = true;
		snprintf(x->sha256, sizeof(x->sha256), "%s", sha);
	}
	x->what = what;
	f->n++;
	return PPML_OK;
}

static void files_free(struct files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].src);
	free(f->v);
}

/* The measured files: "file:rel" -> workdir/rel from the enclave folder,
 * "file:/abs" -> /abs from the host (or the enclave folder with chroot). */
static ppml_status measured_files(const struct ppml_image_build_opts *o,
				  const struct ppml_identity *id, const char *workdir,
				  struct files *f, struct ppml_err *err)
{
	for (size_t i = 0; i < id->n_files; i++) {
		const char *uri = id->files[i].uri;
		char src[8400], dest[8400];
		if (strncmp(uri, "file:", 5) != 0 || !uri[5])
			return ppml_err_set(err, PPML_E_INPUT,
					    "measured file %s: only file: URIs can be packaged", uri);
		const char *p = uri + 5;
		if (p[0] == '/') {
			snprintf(src, sizeof(src), "%s%s", o->chroot ? o->enclave_dir : "", p);
			snprintf(dest, sizeof(dest), "%s", p);
		} else {
			snprintf(src, sizeof(src), "%s/%s", o->enclave_dir, p);
			snprintf(dest, sizeof(dest), "%s/%s", workdir, p);
		}
		ppml_status rc = add(f, dest, src, id->files[i].sha256,
				     i == 0 ? "loader.entrypoint" : "trusted file", err);
		if (rc != PPML_OK)
			return rc;
	}
	return PPML_OK;
}

/* "K=V" lists: env replaces same keys; labels merge into an object. */
static ppml_status kv_check(const char *kv, const char *what, struct ppml_err *err)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return ppml_err_set(err, PPML_E_INPUT, "%s '%s': expected KEY=VALUE", what, kv);
	return PPML_OK;
}

static ppml_status make_config(const struct ppml_image_build_opts *o, const struct img_local *base,
			       const struct ppml_identity *id, const char *workdir,
			       const char *stem, const char *manifest_dest, const char *sig_dest,
			       const char *diff_id, int64_t epoch, char **out,
			       struct ppml_err *err)
{
	json_t *cfg = base ? json_deep_copy(base->config_json) : json_object();
	json_t *c, *env, *labels, *rootfs, *diffs, *hist, *ep;
	char ts[PPML_TIME_RFC3339_LEN], hex[65];
	ppml_status rc = PPML_OK;

	if (!cfg)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	ppml_time_format(epoch, ts);
	json_object_set_new(cfg, "created", json_string(ts));
	if (!json_object_get(cfg, "architecture"))
		json_object_set_new(cfg, "architecture", json_string("amd64"));
	json_object_set_new(cfg, "os", json_string("linux"));
	c = json_object_get(cfg, "config");
	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(cfg, "config", c);
	}
	/* Env: the base's, then ours replacing the same names. */
	env = json_object_get(c, "Env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(c, "Env", env);
	}
	for (size_t i = 0; i < o->n_env; i++) {
		if ((rc = kv_check(o->env[i], "--env", err)) != PPML_OK)
			goto out;
		size_t kl = (size_t)(strchr(o->env[i], '=') - o->env[i]) + 1;
		for (size_t j = json_array_size(env); j-- > 0;) {
			const char *s = json_string_value(json_array_get(env, j));
			if (s && strncmp(s, o->env[i], kl) == 0)
				json_array_remove(env, j);
		}
		json_array_append_new(env, json_string(o->env[i]));
	}
	ep = json_array();
	if (o->n_entrypoint) {
		for (size_t i = 0; i < o->n_entrypoint; i++)
			json_array_append_new(ep, json_string(o->entrypoint[i]));
	} else {
		json_array_append_new(ep, json_string("gramine-sgx"));
		json_array_append_new(ep, json_string(stem));
	}
	json_object_set_new(c, "Entrypoint", ep);
	json_object_del(c, "Cmd"); /* a base Cmd would become arguments of ours */
	json_object_set_new(c, "WorkingDir", json_string(workdir));
	labels = json_object_get(c, "Labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(c, "Labels", labels);
	}
	for (size_t i = 0; i < o->n_labels; i++) {
		if ((rc = kv_check(o->labels[i], "--label", err)) != PPML_OK)
			goto out;
		const char *eq = strchr(o->labels[i], '=');
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)(eq - o->labels[i]), o->labels[i]);
		if (strncmp(key, "io.ppml.", 8) == 0) {
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "--label %s: io.ppml.* labels are written by ppml from the "
					  "signature and cannot be set",
					  key);
			goto out;
		}
		json_object_set_new(labels, key, json_string(eq + 1));
	}
	ppml_hex_encode(id->mrenclave, 32, hex);
	json_object_set_new(labels, PPML_LABEL_MRENCLAVE, json_string(hex));
	ppml_hex_encode(id->mrsigner, 32, hex);
	json_object_set_new(labels, PPML_LABEL_MRSIGNER, json_string(hex));
	char num[16];
	snprintf(num, sizeof(num), "%u", id->isvprodid);
	json_object_set_new(labels, PPML_LABEL_ISVPRODID, json_string(num));
	snprintf(num, sizeof(num), "%u", id->isvsvn);
	json_object_set_new(labels, PPML_LABEL_ISVSVN, json_string(num));
	json_object_set_new(labels, PPML_LABEL_DEBUG, json_string(id->debug ? "true" : "false"));
	json_object_set_new(labels, PPML_LABEL_MANIFEST, json_string(manifest_dest));
	json_object_set_new(labels, PPML_LABEL_SIGFILE, json_string(sig_dest));
	if (o->gramine_version == PPML_GRAMINE_1_3)
		json_object_set_new(labels, PPML_LABEL_GRAMINE, json_string("1.3"));
	if (o->libpal_dest) {
		char nd[PPML_IMAGE_MAX_PATH + 2];
		nd[0] = '/';
		if (img_norm_path(o->libpal_dest, nd + 1, sizeof(nd) - 1))
			json_object_set_new(labels, PPML_LABEL_LIBPAL, json_string(nd));
	}
	json_object_set_new(labels, "org.opencontainers.image.created", json_string(ts));
	if (o->tag)
		json_object_set_new(labels, "org.opencontainers.image.ref.name", json_string(o->tag));
	rootfs = json_object_get(cfg, "rootfs");
	if (!json_is_object(rootfs)) {
		rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
		json_object_set_new(cfg, "rootfs", rootfs);
	}
	diffs = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(diffs)) {
		diffs = json_array();
		json_object_set_new(rootfs, "diff_ids", diffs);
	}
	json_array_append_new(diffs, json_string(diff_id));
	hist = json_object_get(cfg, "history");
	if (!json_is_array(hist)) {
		hist = json_array();
		json_object_set_new(cfg, "history", hist);
	}
	ppml_hex_encode(id->mrenclave, 32, hex);
	char comment[128];
	snprintf(comment, sizeof(comment), "signed enclave, MRENCLAVE %s", hex);
	json_array_append_new(hist, json_pack("{s:s, s:s, s:s}", "created", ts, "created_by",
					      "ppml image build", "comment", comment));
	*out = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	if (!*out)
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
out:
	json_decref(cfg);
	return rc;
}

/* ---- outputs ---- */

static ppml_status write_blob(const char *dir, const char *digest, const void *p, size_t n,
			      struct ppml_err *err)
{
	char path[8800];
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, digest + 7);
	return ppml_file_write_atomic(path, p, n, 0644, 0, err);
}

static ppml_status copy_file(const char *from, const char *to, struct ppml_err *err)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1;
	static __thread uint8_t buf[1 << 16];
	ppml_status rc = PPML_OK;
	ssize_t n;
	if (in < 0 || (out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		rc = ppml_err_set(err, PPML_E_IO, "copy %s -> %s: %s", from, to, strerror(errno));
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = ppml_err_set(err, PPML_E_IO, "%s: write: %s", to, strerror(errno));
			goto out;
		}
	if (n < 0 || fsync(out) != 0)
		rc = ppml_err_set(err, PPML_E_IO, "copy %s -> %s: %s", from, to, strerror(errno));
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

struct layer_ref {
	const char *path, *digest, *diff_id, *media_type;
	int64_t size;
};

static void rm_rf(const char *dir)
{
	char p[8800];
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_rf(p);
		else
			unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static ppml_status write_oci(const char *dir, const struct layer_ref *layers, size_t n,
			     const char *config, const char *config_digest, const char *ref_name,
			     char manifest_digest[72], struct ppml_err *err)
{
	char tmp[4400], p[8800], old[8800];
	ppml_status rc = PPML_OK;
	json_t *man = NULL, *idx = NULL;
	char *ms = NULL, *is = NULL;

	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", dir, (int)getpid());
	rm_rf(tmp);
	snprintf(p, sizeof(p), "%s/blobs/sha256", tmp);
	if (mkdir(tmp, 0755) != 0 || (snprintf(old, sizeof(old), "%s/blobs", tmp),
				      mkdir(old, 0755) != 0) || mkdir(p, 0755) != 0) {
		rc = ppml_err_set(err, PPML_E_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	snprintf(p, sizeof(p), "%s/oci-layout", tmp);
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	if ((rc = ppml_file_write_atomic(p, layout, sizeof(layout) - 1, 0644, 0, err)) != PPML_OK)
		goto out;
	json_t *ls = json_array();
	man = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
			MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "digest",
			config_digest, "size", (json_int_t)strlen(config), "layers", ls);
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/blobs/sha256/%s", tmp, layers[i].digest + 7);
		if (access(p, F_OK) != 0 && (rc = copy_file(layers[i].path, p, err)) != PPML_OK)
			goto out;
		json_array_append_new(ls, json_pack("{s:s, s:s, s:I}", "mediaType",
						    layers[i].media_type, "digest", layers[i].digest,
						    "size", (json_int_t)layers[i].size));
	}
	if ((rc = write_blob(tmp, config_digest, config, strlen(config), err)) != PPML_OK)
		goto out;
	ms = json_dumps(man, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!ms) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	img_digest(ms, strlen(ms), manifest_digest);
	if ((rc = write_blob(tmp, manifest_digest, ms, strlen(ms), err)) != PPML_OK)
		goto out;
	idx = json_pack("{s:i, s:[{s:s, s:s, s:I, s:{s:s}}]}", "schemaVersion", 2, "manifests",
			"mediaType", MT_OCI_MANIFEST, "digest", manifest_digest, "size",
			(json_int_t)strlen(ms), "annotations", "org.opencontainers.image.ref.name",
			ref_name);
	is = idx ? json_dumps(idx, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	snprintf(p, sizeof(p), "%s/index.json", tmp);
	if (!is || (rc = ppml_file_write_atomic(p, is, strlen(is), 0644, 0, err)) != PPML_OK) {
		if (!is)
			rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	/* Swap in: the old folder (if any) moves aside, then goes. */
	snprintf(old, sizeof(old), "%s.old-%d", dir, (int)getpid());
	bool had = access(dir, F_OK) == 0;
	if (had && rename(dir, old) != 0) {
		rc = ppml_err_set(err, PPML_E_IO, "%s: cannot replace: %s", dir, strerror(errno));
		goto out;
	}
	if (rename(tmp, dir) != 0) {
		rc = ppml_err_set(err, PPML_E_IO, "%s: %s", dir, strerror(errno));
		if (had)
			rename(old, dir);
		goto out;
	}
	if (had)
		rm_rf(old);
out:
	if (rc != PPML_OK)
		rm_rf(tmp);
	json_decref(man);
	json_decref(idx);
	free(ms);
	free(is);
	return rc;
}

struct sink_ctx {
	struct archive *a;
};

static bool to_archive(void *c, const void *p, size_t n)
{
	struct sink_ctx *s = c;
	return archive_write_data(s->a, p, n) == (la_ssize_t)n;
}

static ppml_status docker_entry(struct archive *a, const char *name, int64_t size, int64_t mtime,
				struct ppml_err *err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	int r = archive_write_header(a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? PPML_OK
			       : ppml_err_set(err, PPML_E_IO, "docker archive: %s",
					      archive_error_string(a));
}

static ppml_status write_docker(const char *file, const struct layer_ref *layers,
				const int64_t *tar_sizes, size_t n, const char *config,
				const char *config_digest, const char *repo_tag, int64_t mtime,
				struct ppml_err *err)
{
	char tmp[4400], name[160];
	struct archive *a = archive_write_new();
	json_t *m = NULL, *ls = json_array();
	char *ms = NULL;
	ppml_status rc = PPML_OK;

	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", file, (int)getpid());
	if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
		rc = ppml_err_set(err, PPML_E_IO, "%s: %s", tmp, a ? archive_error_string(a) : "");
		goto out;
	}
	snprintf(name, sizeof(name), "%s.json", config_digest + 7);
	if ((rc = docker_entry(a, name, (int64_t)strlen(config), mtime, err)) != PPML_OK)
		goto out;
	if (archive_write_data(a, config, strlen(config)) != (la_ssize_t)strlen(config)) {
		rc = ppml_err_set(err, PPML_E_IO, "docker archive: %s", archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s/layer.tar", layers[i].diff_id + 7);
		json_array_append_new(ls, json_string(name));
		if ((rc = docker_entry(a, name, tar_sizes[i], mtime, err)) != PPML_OK)
			goto out;
		struct sink_ctx s = {a};
		if ((rc = img_layer_uncompress(layers[i].path, to_archive, &s, err)) != PPML_OK)
			goto out;
	}
	snprintf(name, sizeof(name), "%s.json", config_digest + 7);
	m = json_pack("[{s:s, s:[s], s:O}]", "Config", name, "RepoTags", repo_tag, "Layers", ls);
	ms = m ? json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (!ms) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = docker_entry(a, "manifest.json", (int64_t)strlen(ms), mtime, err)) != PPML_OK)
		goto out;
	if (archive_write_data(a, ms, strlen(ms)) != (la_ssize_t)strlen(ms) ||
	    archive_write_close(a) != ARCHIVE_OK) {
		rc = ppml_err_set(err, PPML_E_IO, "docker archive: %s", archive_error_string(a));
		goto out;
	}
	if (rename(tmp, file) != 0)
		rc = ppml_err_set(err, PPML_E_IO, "%s: %s", file, strerror(errno));
out:
	if (a)
		archive_write_free(a);
	if (rc != PPML_OK)
		unlink(tmp);
	json_decref(m);
	json_decref(ls);
	free(ms);
	return rc;
}

static bool entry_ok(void *ctx, const struct img_entry *e, struct archive *a)
{
	(void)ctx;
	(void)e;
	(void)a;
	return true;
}

ppml_status ppml_image_build(const struct ppml_image_build_opts *o, struct ppml_image_result *res,
			     struct ppml_err *err)
{
	char mname[1024], sname[1100], mpath[8400], spath[8400], stem[1024], workdir[PPML_IMAGE_MAX_PATH + 2];
	char layer_tmp[4400], mdest[8400], sdest[8400];
	uint8_t *text = NULL, *sig = NULL, *pal = NULL;
	size_t text_len = 0, sig_len = 0, pal_len = 0;
	struct ppml_identity *id = NULL;
	struct img_local base = {0};
	bool have_base = false;
	struct files f = {0};
	struct layer_ref *refs = NULL;
	int64_t *tar_sizes = NULL;
	char *config = NULL;
	ppml_status rc;

	memset(res, 0, sizeof(*res));
	layer_tmp[0] = 0;
	int64_t epoch = o->source_date_epoch >= 0 ? o->source_date_epoch : 0;
	const char *libpal = o->libpal ? o->libpal : ppml_enclave_default_libpal();
	if (!libpal)
		return ppml_err_set(err, PPML_E_INPUT,
				    "no --libpal, and Gramine is not installed: pass the PAL the "
				    "enclave was signed against");
	if (o->output.kind != PPML_IMAGE_OCI && o->output.kind != PPML_IMAGE_DOCKER_ARCHIVE)
		return ppml_err_set(err, PPML_E_INPUT, "--output: expected oci:DIR or "
				    "docker-archive:FILE");
	if (!o->tag || !strchr(o->tag, ':') || o->tag[0] == ':' || strlen(o->tag) > 255)
		return ppml_err_set(err, PPML_E_INPUT, "--tag: expected NAME:TAG");
	if (!img_norm_path(o->workdir ? o->workdir : "/app", workdir + 1, sizeof(workdir) - 1) ||
	    !workdir[1])
		return ppml_err_set(err, PPML_E_INPUT, "--workdir: expected an absolute path below /");
	workdir[0] = '/';

	/* 1. The signed enclave, verified as `ppml identity` does. */
	if (o->manifest)
		snprintf(mname, sizeof(mname), "%s", o->manifest);
	else if ((rc = find_manifest(o->enclave_dir, mname, sizeof(mname), err)) != PPML_OK)
		return rc;
	size_t ml = strlen(mname);
	snprintf(stem, sizeof(stem), "%.*s", (int)(ml > 13 && !strcmp(mname + ml - 13, ".manifest.sgx")
						     ? ml - 13 : ml), mname);
	const char *sb = strrchr(stem, '/') ? strrchr(stem, '/') + 1 : stem;
	if (o->sigfile)
		snprintf(sname, sizeof(sname), "%s", o->sigfile);
	else
		snprintf(sname, sizeof(sname), "%s.sig", stem);
	snprintf(mpath, sizeof(mpath), "%s/%s", o->enclave_dir, mname);
	snprintf(spath, sizeof(spath), "%s/%s", o->enclave_dir, sname);
	say(o, "verifying %s and %s", mpath, spath);
	if ((rc = ppml_file_read(mpath, PPML_SGX_MAX_MANIFEST_SIZE, &text, &text_len, err)) !=
		    PPML_OK ||
	    (rc = ppml_file_read(spath, 64 * 1024, &sig, &sig_len, err)) != PPML_OK ||
	    (rc = ppml_file_read(libpal, PPML_SGX_MAX_PAL_SIZE, &pal, &pal_len, err)) != PPML_OK ||
	    (rc = ppml_identity_build(text, text_len, pal, pal_len, libpal, o->gramine_version, sig, sig_len, mpath, &id,
				      err)) != PPML_OK)
		goto out;
	memcpy(res->mrenclave, id->mrenclave, 32);
	memcpy(res->mrsigner, id->mrsigner, 32);

	/* 2. The layer's files. */
	snprintf(mdest, sizeof(mdest), "%s/%s", workdir, mname);
	snprintf(sdest, sizeof(sdest), "%s/%s", workdir, sname);
	if ((rc = add(&f, mdest, mpath, NULL, "manifest", err)) != PPML_OK ||
	    (rc = add(&f, sdest, spath, NULL, "signature", err)) != PPML_OK ||
	    (rc = measured_files(o, id, workdir + 1, &f, err)) != PPML_OK)
		goto out;
	if (o->libpal_dest && (rc = add(&f, o->libpal_dest, libpal, NULL, "--libpal", err)) !=
				      PPML_OK)
		goto out;
	for (size_t i = 0; i < o->n_adds; i++) {
		if (o->adds[i].dest[0] != '/') {
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "--add %s:%s: the destination must be absolute",
					  o->adds[i].src, o->adds[i].dest);
			goto out;
		}
		if ((rc = add(&f, o->adds[i].dest, o->adds[i].src, NULL, "--add", err)) != PPML_OK)
			goto out;
	}

	/* 3. The base. */
	if (o->base.kind != PPML_IMAGE_SCRATCH) {
		say(o, "checking the base image %s", o->base.path);
		if ((rc = img_local_open(&o->base, &base, err)) != PPML_OK) {
			ppml_err_prefix(err, "--base: ");
			goto out;
		}
		have_base = true;
		/* Its entries are checked for paths that climb out of the root
		 * before anything is written on top of them. */
		for (size_t i = 0; i < base.n_layers; i++) {
			char what[48];
			snprintf(what, sizeof(what), "--base: layer %zu", i + 1);
			if ((rc = img_layer_scan(base.layers[i].path, what, entry_ok, NULL, err)) !=
			    PPML_OK)
				goto out;
		}
	}

	/* 4. The layer, beside the output. */
	snprintf(layer_tmp, sizeof(layer_tmp), "%s.layer-%d.tmp", o->output.path, (int)getpid());
	say(o, "writing the enclave layer (%zu files)", f.n);
	char ldig[72], ldiff[72];
	int64_t lsize = 0, ltar = 0;
	if ((rc = img_layer_write(f.v, f.n, epoch, layer_tmp, ldig, &lsize, ldiff, &ltar, err)) !=
	    PPML_OK)
		goto out;
	res->n_files = f.n;
	memcpy(res->layer_digest, ldig, 72);

	/* 5. Config, then the layout. */
	char mdest_abs[8400], sdest_abs[8400];
	snprintf(mdest_abs, sizeof(mdest_abs), "%s", mdest);
	snprintf(sdest_abs, sizeof(sdest_abs), "%s", sdest);
	if ((rc = make_config(o, have_base ? &base : NULL, id, workdir, sb, mdest_abs, sdest_abs,
			      ldiff, epoch, &config, err)) != PPML_OK)
		goto out;
	img_digest(config, strlen(config), res->config_digest);
	size_t nl = (have_base ? base.n_layers : 0) + 1;
	refs = calloc(nl, sizeof(*refs));
	tar_sizes = calloc(nl, sizeof(*tar_sizes));
	if (!refs || !tar_sizes) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; have_base && i < base.n_layers; i++) {
		struct img_layer *L = &base.layers[i];
		refs[i] = (struct layer_ref){L->path, L->digest, L->diff_id, L->media_type, L->size};
		char d[72];
		if (o->output.kind == PPML_IMAGE_DOCKER_ARCHIVE &&
		    (rc = img_diff_id(L->path, d, &tar_sizes[i], err)) != PPML_OK)
			goto out;
	}
	refs[nl - 1] = (struct layer_ref){layer_tmp, ldig, ldiff, MT_LAYER_GZIP, lsize};
	tar_sizes[nl - 1] = ltar;
	res->n_layers = nl;
	const char *tagpart = strrchr(o->tag, ':') + 1;
	say(o, "writing %s", o->output.path);
	if (o->output.kind == PPML_IMAGE_OCI)
		rc = write_oci(o->output.path, refs, nl, config, res->config_digest,
			       o->output.tag[0] ? o->output.tag : tagpart, res->manifest_digest,
			       err);
	else
		rc = write_docker(o->output.path, refs, tar_sizes, nl, config, res->config_digest,
				  o->tag, epoch, err);
out:
	if (layer_tmp[0])
		unlink(layer_tmp);
	free(refs);
	free(tar_sizes);
	free(config);
	files_free(&f);
	if (have_base)
		img_local_free(&base);
	ppml_identity_free(id);
	free(text);
	free(sig);
	free(pal);
	return rc;
}
