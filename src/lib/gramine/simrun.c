/* SPDX-License-Identifier: Apache-2.0 */
/* Verify-then-plan for `ppml run --sim` (include/ppml/simrun.h). */
#include "ppml/simrun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "internal.h"
#include "ppml/file.h"
#include "ppml/limits.h"
#include "ppml/toml.h"

/* A growable NULL-terminated string vector. */
struct strv {
	char **v;
	size_t n, cap;
};

static bool strv_add(struct strv *s, char *item)
{
	if (!item)
		return false;
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **nv = realloc(s->v, cap * sizeof(char *));
		if (!nv) {
			free(item);
			return false;
		}
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = item;
	s->v[s->n] = NULL;
	return true;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void ppml_simrun_free(struct ppml_simrun *r)
{
	if (!r)
		return;
	ppml_identity_free(r->id);
	free(r->manifest_entrypoint);
	free(r->entrypoint);
	strv_free(r->argv);
	strv_free(r->envp);
	free(r);
}

/* "file:PATH" -> PATH without "./" segments and duplicate slashes; NULL for
 * other schemes or a path with "..".  An absolute PATH is taken under root
 * when root is not NULL (an unpacked image). */
static char *host_path_in(const char *uri);

static char *host_path(const char *uri, const char *root)
{
	char *p = host_path_in(uri);
	if (!p || !root || p[0] != '/')
		return p;
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	size_t n = rl + strlen(p) + 1;
	char *q = malloc(n);
	if (q)
		snprintf(q, n, "%.*s%s", (int)rl, root, p);
	free(p);
	return q;
}

static char *host_path_in(const char *uri)
{
	if (strncmp(uri, "file:", 5) != 0)
		return NULL;
	const char *p = uri + 5;
	size_t n = strlen(p);
	char *out = malloc(n + 1), *w = out;
	if (!out)
		return NULL;
	bool abs = p[0] == '/';
	if (abs)
		*w++ = '/';
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t sl = e ? (size_t)(e - p) : strlen(p);
		if (sl == 0)
			break;
		if (sl == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			return NULL;
		}
		if (!(sl == 1 && p[0] == '.')) {
			if (w > out && w[-1] != '/')
				*w++ = '/';
			memcpy(w, p, sl);
			w += sl;
		}
		p += sl;
	}
	if (w == out)
		*w++ = '.';
	*w = 0;
	return out;
}

static const struct ppml_toml_value *get_path(const struct ppml_toml_value *root, const char *a,
					      const char *b)
{
	const struct ppml_toml_value *t = ppml_toml_get(root, a);
	if (!t || t->type != PPML_TOML_TABLE)
		return NULL;
	return b ? ppml_toml_get(t, b) : t;
}

static bool get_bool(const struct ppml_toml_value *root, const char *a, const char *b)
{
	const struct ppml_toml_value *v = get_path(root, a, b);
	return v && v->type == PPML_TOML_BOOLEAN && v->u.b;
}

static bool str_ok(const struct ppml_toml_value *v)
{
	return v && v->type == PPML_TOML_STRING && strlen(v->u.s.ptr) == v->u.s.len;
}

/* libos.entrypoint through fs.mounts (longest path prefix on a component
 * boundary; chroot mounts only), else fs.root (default "file:/"). */
static ppml_status resolve_entrypoint(const struct ppml_toml_value *root, const char *ep,
				      const char *fsroot, char **out, struct ppml_err *err)
{
	const struct ppml_toml_value *mounts = get_path(root, "fs", "mounts");
	const char *best_uri = NULL;
	size_t best_len = 0;

	if (ep[0] != '/')
		return ppml_err_set(err, PPML_E_INPUT,
				    "libos.entrypoint \"%s\": expected an absolute path inside the "
				    "enclave",
				    ep);
	for (size_t i = 0; mounts && mounts->type == PPML_TOML_ARRAY && i < mounts->u.a.len; i++) {
		const struct ppml_toml_value *m = mounts->u.a.items[i];
		if (m->type != PPML_TOML_TABLE)
			continue;
		const struct ppml_toml_value *path = ppml_toml_get(m, "path"),
					     *uri = ppml_toml_get(m, "uri"),
					     *type = ppml_toml_get(m, "type");
		if (!str_ok(path) || !str_ok(uri))
			continue;
		if (type && (!str_ok(type) || strcmp(type->u.s.ptr, "chroot") != 0))
			continue; /* tmpfs, encrypted...: nothing to run from there */
		size_t pl = path->u.s.len;
		while (pl > 1 && path->u.s.ptr[pl - 1] == '/')
			pl--;
		bool prefix = strncmp(ep, path->u.s.ptr, pl) == 0 &&
			      (ep[pl] == '/' || ep[pl] == 0 || (pl == 1 && path->u.s.ptr[0] == '/'));
		if (prefix && pl >= best_len) {
			best_len = pl;
			best_uri = uri->u.s.ptr;
		}
	}
	const char *rest = ep;
	if (best_uri) {
		rest = ep + best_len;
	} else {
		const struct ppml_toml_value *r = get_path(root, "fs", "root");
		const struct ppml_toml_value *ru =
			r && r->type == PPML_TOML_TABLE ? ppml_toml_get(r, "uri") : NULL;
		best_uri = str_ok(ru) ? ru->u.s.ptr : "file:/";
	}
	size_t n = strlen(best_uri) + strlen(rest) + 2;
	char *uri = malloc(n);
	if (!uri)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	snprintf(uri, n, "%s/%s", best_uri, rest);
	*out = host_path(uri, fsroot);
	free(uri);
	if (!*out)
		return ppml_err_set(err, PPML_E_REFUSED,
				    "libos.entrypoint \"%s\" resolves through fs.mounts to a URI that "
				    "is not a plain file: path",
				    ep);
	return PPML_OK;
}

/* loader.env: "K" = "v" | {value = "v"} | {passthrough = true}. */
static ppml_status build_env(const struct ppml_toml_value *root, char *const *host_envp,
			     bool use_host, struct strv *env, struct ppml_err *err)
{
	const struct ppml_toml_value *t = get_path(root, "loader", "env");
	if (use_host)
		for (size_t i = 0; host_envp && host_envp[i]; i++)
			if (!strv_add(env, strdup(host_envp[i])))
				return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	if (!t)
		return PPML_OK;
	if (t->type != PPML_TOML_TABLE)
		return ppml_err_set(err, PPML_E_INPUT, "loader.env: expected a table");
	for (size_t i = 0; i < t->u.t.len; i++) {
		const char *k = t->u.t.items[i].key;
		const struct ppml_toml_value *v = t->u.t.items[i].value;
		const char *val = NULL;
		if (strlen(k) != t->u.t.items[i].key_len || !*k || strchr(k, '='))
			return ppml_err_set(err, PPML_E_INPUT, "loader.env: invalid variable name");
		if (str_ok(v)) {
			val = v->u.s.ptr;
		} else if (v->type == PPML_TOML_TABLE) {
			const struct ppml_toml_value *vv = ppml_toml_get(v, "value"),
						     *pt = ppml_toml_get(v, "passthrough");
			if (str_ok(vv)) {
				val = vv->u.s.ptr;
			} else if (pt && pt->type == PPML_TOML_BOOLEAN && pt->u.b) {
				size_t kl = strlen(k);
				for (size_t j = 0; host_envp && host_envp[j]; j++)
					if (strncmp(host_envp[j], k, kl) == 0 &&
					    host_envp[j][kl] == '=')
						val = host_envp[j] + kl + 1;
				if (!val)
					continue; /* not set on the host: not set inside */
			} else if (pt && pt->type == PPML_TOML_BOOLEAN) {
				continue;
			}
		}
		if (!val)
			return ppml_err_set(err, PPML_E_INPUT,
					    "loader.env.%s: expected a string, {value = \"...\"} or "
					    "{passthrough = true}",
					    k);
		/* The manifest's value replaces a host one of the same name. */
		size_t kl = strlen(k);
		for (size_t j = 0; j < env->n; j++) {
			if (strncmp(env->v[j], k, kl) == 0 && env->v[j][kl] == '=') {
				free(env->v[j]);
				memmove(env->v + j, env->v + j + 1, (env->n - j) * sizeof(char *));
				env->n--;
				break;
			}
		}
		size_t n = kl + strlen(val) + 2;
		char *kv = malloc(n);
		if (kv)
			snprintf(kv, n, "%s=%s", k, val);
		if (!strv_add(env, kv))
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}
	return PPML_OK;
}

/* Hashes every measured file and compares with manifest.sgx. */
static ppml_status check_files(struct ppml_simrun *r, const char *fsroot, struct ppml_err *err)
{
	const struct ppml_identity *id = r->id;
	struct gr_hash_job *jobs = calloc(id->n_files ? id->n_files : 1, sizeof(*jobs));
	char **paths = calloc(id->n_files ? id->n_files : 1, sizeof(char *));
	size_t first = 0;
	ppml_status rc = PPML_OK;

	if (!jobs || !paths) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < id->n_files; i++) {
		if (!(paths[i] = host_path(id->files[i].uri, fsroot))) {
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "measured file %s: only file: URIs without \"..\" can be "
					  "checked",
					  id->files[i].uri);
			goto out;
		}
		jobs[i].path = paths[i];
		jobs[i].index = i;
	}
	rc = gr_hash_files(jobs, id->n_files, 0, NULL, NULL, &first, err);
	if (rc != PPML_OK) {
		if (rc == PPML_E_NOMEM || rc == PPML_E_INTERNAL)
			goto out;
		rc = ppml_err_set(err, PPML_E_REFUSED,
				  "trusted file %s cannot be read (%s): the enclave would not start",
				  id->files[first].uri,
				  jobs[first].errnum ? strerror(jobs[first].errnum) : "error");
		goto out;
	}
	for (size_t i = 0; i < id->n_files; i++) {
		r->bytes_checked += jobs[i].size;
		if (strlen(id->files[i].sha256) != 64 ||
		    CRYPTO_memcmp(jobs[i].hex, id->files[i].sha256, 64) != 0) {
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "trusted file %s was modified after signing: SHA-256 %s, "
					  "manifest.sgx says %s",
					  id->files[i].uri, jobs[i].hex, id->files[i].sha256);
			goto out;
		}
	}
	r->files_checked = id->n_files;
out:
	for (size_t i = 0; paths && i < id->n_files; i++)
		free(paths[i]);
	free(paths);
	free(jobs);
	return rc;
}

ppml_status ppml_simrun_prepare(const char *manifest_sgx_path, const char *sig_path,
				const char *libpal_path, enum ppml_gramine_version version,
				const char *fsroot, char *const *extra_args, size_t n_extra,
				char *const *host_envp, struct ppml_simrun **out, struct ppml_err *err)
{
	uint8_t *text = NULL, *sig = NULL, *pal = NULL;
	size_t text_len = 0, sig_len = 0, pal_len = 0;
	struct ppml_toml_value *root = NULL;
	struct ppml_simrun *r = calloc(1, sizeof(*r));
	struct strv argv = {0}, env = {0};
	ppml_status rc;

	*out = NULL;
	if (!r)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	if ((rc = ppml_file_read(manifest_sgx_path, PPML_SGX_MAX_MANIFEST_SIZE, &text, &text_len,
				 err)) != PPML_OK ||
	    (rc = ppml_file_read(sig_path, 64 * 1024, &sig, &sig_len, err)) != PPML_OK ||
	    (rc = ppml_file_read(libpal_path, PPML_SGX_MAX_PAL_SIZE, &pal, &pal_len, err)) !=
		    PPML_OK)
		goto out;
	/* Signature, measurement and their match (PPML_E_REFUSED names what differs). */
	if ((rc = ppml_identity_build(text, text_len, pal, pal_len, libpal_path, version, sig, sig_len,
				      manifest_sgx_path, &r->id, err)) != PPML_OK)
		goto out;
	if ((rc = check_files(r, fsroot, err)) != PPML_OK)
		goto out;
	if ((rc = ppml_toml_parse((const char *)text, text_len, &root, err)) != PPML_OK) {
		ppml_err_prefix(err, "%s: ", manifest_sgx_path);
		goto out;
	}
	const struct ppml_toml_value *ep = get_path(root, "libos", "entrypoint");
	if (!str_ok(ep)) {
		rc = ppml_err_set(err, PPML_E_INPUT, "%s: libos.entrypoint: expected a string",
				  manifest_sgx_path);
		goto out;
	}
	if (!(r->manifest_entrypoint = strdup(ep->u.s.ptr))) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = resolve_entrypoint(root, ep->u.s.ptr, fsroot, &r->entrypoint, err)) != PPML_OK)
		goto out;
	/* The entrypoint must be measured: a trusted file (v1.9 measures the
	 * LibOS, loader.entrypoint, as files[0], which does not count; v1.3 lists
	 * only sgx.trusted_files). */
	bool trusted = false;
	for (size_t i = version == PPML_GRAMINE_1_9 ? 1 : 0; i < r->id->n_files && !trusted; i++) {
		char *p = host_path(r->id->files[i].uri, fsroot);
		trusted = p && strcmp(p, r->entrypoint) == 0;
		free(p);
	}
	if (!trusted) {
		rc = ppml_err_set(err, PPML_E_REFUSED,
				  "libos.entrypoint %s (host file %s) is not a trusted file: its "
				  "code would not be measured; add \"file:%s\" to sgx.trusted_files "
				  "and sign again",
				  r->manifest_entrypoint, r->entrypoint, r->entrypoint);
		goto out;
	}
	r->use_cmdline_argv = get_bool(root, "loader", "insecure__use_cmdline_argv");
	r->use_host_env = get_bool(root, "loader", "insecure__use_host_env");
	if (n_extra && !r->use_cmdline_argv) {
		rc = ppml_err_set(err, PPML_E_REFUSED,
				  "arguments after -- are ignored by Gramine unless the manifest "
				  "sets loader.insecure__use_cmdline_argv = true; put them in "
				  "loader.argv instead");
		goto out;
	}
	const struct ppml_toml_value *av = get_path(root, "loader", "argv");
	if (r->use_cmdline_argv || !av) {
		bool ok = strv_add(&argv, strdup(r->manifest_entrypoint));
		for (size_t i = 0; ok && i < n_extra; i++)
			ok = strv_add(&argv, strdup(extra_args[i]));
		if (!ok) {
			rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
			goto out;
		}
	} else {
		if (av->type != PPML_TOML_ARRAY || av->u.a.len == 0) {
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "loader.argv: expected a non-empty array of strings");
			goto out;
		}
		for (size_t i = 0; i < av->u.a.len; i++) {
			if (!str_ok(av->u.a.items[i])) {
				rc = ppml_err_set(err, PPML_E_INPUT,
						  "loader.argv[%zu]: expected a string", i);
				goto out;
			}
			if (!strv_add(&argv, strdup(av->u.a.items[i]->u.s.ptr))) {
				rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	if ((rc = build_env(root, host_envp, r->use_host_env, &env, err)) != PPML_OK)
		goto out;
	/* An empty environment is a vector holding only NULL. */
	if (!env.v && !(env.v = calloc(1, sizeof(char *)))) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	r->argv = argv.v;
	r->envp = env.v;
	argv.v = env.v = NULL;
	*out = r;
	r = NULL;
out:
	strv_free(argv.v);
	strv_free(env.v);
	ppml_toml_free(root);
	ppml_simrun_free(r);
	free(text);
	free(sig);
	free(pal);
	return rc;
}

void ppml_simrun_report_body(const struct ppml_simrun *r, struct ppml_sgx_report_body *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->mrenclave, r->id->mrenclave, 32);
	memcpy(out->mrsigner, r->id->mrsigner, 32);
	/* EINIT sets INIT; the rest is what the SIGSTRUCT asked for. */
	out->attributes_flags = r->id->attributes_flags | PPML_SGX_ATTR_INIT;
	out->attributes_xfrm = r->id->attributes_xfrm;
	out->miscselect = r->id->misc_select;
	out->isv_prod_id = r->id->isvprodid;
	out->isv_svn = r->id->isvsvn;
}
