/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gramine v1.9's manifest schema (python/graminelibos/manifest_check.py, a
 * voluptuous Schema) as data, and a validator that words its violations as
 * voluptuous does: "<what> [for dictionary value] @ data['a'][0]['b']".
 * Semantics kept from voluptuous: `int` accepts booleans (Python bool is an
 * int), `str`/`bool` do not; Any() reports the alternative whose error is
 * deepest (the first on ties); every violation is collected.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum kind {
	K_STR,
	K_INT,
	K_BOOL,
	K_LIT,    /* one of lits (strings) */
	K_TRUE,   /* the literal True (1 == True in Python) */
	K_DICT,   /* fields; other keys are "extra keys not allowed" */
	K_LIST,   /* every element matches elem */
	K_MAP,    /* any string key, values match elem */
	K_ANY,    /* one of alts */
	K_OBJECT, /* anything */
};

struct field;
struct spec {
	enum kind kind;
	const char *const *lits;      /* K_LIT, NULL-terminated */
	const struct field *fields;   /* K_DICT, terminated by key == NULL && keys == NULL */
	const struct spec *elem;      /* K_LIST, K_MAP */
	const struct spec *const *alts; /* K_ANY, NULL-terminated */
};

struct field {
	const char *key;
	const char *const *keys; /* Any('a', 'b') as a key, NULL-terminated */
	bool required;
	const struct spec *spec;
};

#define END_FIELDS {NULL, NULL, false, NULL}

static const struct spec S_STR = {K_STR};
static const struct spec S_INT = {K_INT};
static const struct spec S_BOOL = {K_BOOL};
static const struct spec S_TRUE = {K_TRUE};
static const struct spec S_OBJECT = {K_OBJECT};
static const struct spec S_LIST_STR = {K_LIST, .elem = &S_STR};
static const struct spec S_MAP_STR = {K_MAP, .elem = &S_STR};
static const struct spec S_MAP_OBJECT = {K_MAP, .elem = &S_OBJECT};
#define S_SIZE S_STR
#define S_URI S_STR
#define S_MASK S_STR

static const char *const lit_chroot[] = {"chroot", NULL};
static const char *const lit_encrypted[] = {"encrypted", NULL};
static const char *const lit_tmpfs[] = {"tmpfs", NULL};
static const char *const lit_shm[] = {"untrusted_shm", NULL};
static const struct spec S_CHROOT = {K_LIT, .lits = lit_chroot};
static const struct spec S_ENCRYPTED = {K_LIT, .lits = lit_encrypted};
static const struct spec S_TMPFS = {K_LIT, .lits = lit_tmpfs};
static const struct spec S_SHM = {K_LIT, .lits = lit_shm};

/* fs.root and fs.mounts[] alternatives (mounts add Required('path')) */
#define FS_ALTS(P)                                                                           \
	static const struct field P##_chroot_f[] = {{"type", NULL, false, &S_CHROOT},          \
						    {"uri", NULL, true, &S_URI}, MOUNT_PATH END_FIELDS}; \
	static const struct field P##_enc_f[] = {{"type", NULL, true, &S_ENCRYPTED},           \
						 {"uri", NULL, true, &S_URI},                  \
						 {"key_name", NULL, false, &S_STR}, MOUNT_PATH END_FIELDS}; \
	static const struct field P##_tmpfs_f[] = {{"type", NULL, true, &S_TMPFS},             \
						   {"uri", NULL, false, &S_STR}, MOUNT_PATH END_FIELDS}; \
	static const struct field P##_shm_f[] = {{"type", NULL, true, &S_SHM},                 \
						 {"uri", NULL, true, &S_URI}, MOUNT_PATH END_FIELDS}; \
	static const struct spec P##_chroot = {K_DICT, .fields = P##_chroot_f};                \
	static const struct spec P##_enc = {K_DICT, .fields = P##_enc_f};                      \
	static const struct spec P##_tmpfs = {K_DICT, .fields = P##_tmpfs_f};                  \
	static const struct spec P##_shm = {K_DICT, .fields = P##_shm_f};                      \
	static const struct spec *const P##_alts[] = {&P##_chroot, &P##_enc, &P##_tmpfs,       \
						      &P##_shm, NULL};                         \
	static const struct spec P = {K_ANY, .alts = P##_alts};

#define MOUNT_PATH
FS_ALTS(S_FS_ROOT)
#undef MOUNT_PATH
#define MOUNT_PATH {"path", NULL, true, &S_STR},
FS_ALTS(S_FS_MOUNT)
#undef MOUNT_PATH

static const struct spec S_FS_MOUNTS = {K_LIST, .elem = &S_FS_MOUNT};
static const struct field fs_f[] = {
	{"mounts", NULL, true, &S_FS_MOUNTS},
	{"root", NULL, false, &S_FS_ROOT},
	{"start_dir", NULL, false, &S_STR},
	{"insecure__keys", NULL, false, &S_MAP_STR},
	END_FIELDS};

static const struct field libos_f[] = {
	{"entrypoint", NULL, true, &S_STR},
	{"check_invalid_pointers", NULL, false, &S_BOOL},
	END_FIELDS};

static const struct field entrypoint_f[] = {
	{"uri", NULL, true, &S_URI},
	{"sha256", NULL, false, &S_STR},
	END_FIELDS};
static const struct spec S_ENTRYPOINT = {K_DICT, .fields = entrypoint_f};
static const struct field env_value_f[] = {{"value", NULL, false, &S_STR}, END_FIELDS};
static const struct field env_pass_f[] = {{"passthrough", NULL, false, &S_TRUE}, END_FIELDS};
static const struct spec S_ENV_VALUE = {K_DICT, .fields = env_value_f};
static const struct spec S_ENV_PASS = {K_DICT, .fields = env_pass_f};
static const struct spec *const env_alts[] = {&S_STR, &S_ENV_VALUE, &S_ENV_PASS, NULL};
static const struct spec S_ENV_ITEM = {K_ANY, .alts = env_alts};
static const struct spec S_ENV = {K_MAP, .elem = &S_ENV_ITEM};
static const char *const lit_log_level[] = {"none", "error", "warning", "debug", "trace", "all",
					    NULL};
static const struct spec S_LOG_LEVEL = {K_LIT, .lits = lit_log_level};
static const struct field loader_f[] = {
	{"entrypoint", NULL, true, &S_ENTRYPOINT},
	{"argv", NULL, false, &S_LIST_STR},
	{"argv_src_file", NULL, false, &S_STR},
	{"env", NULL, false, &S_ENV},
	{"env_src_file", NULL, false, &S_STR},
	{"gid", NULL, false, &S_INT},
	{"insecure__use_cmdline_argv", NULL, false, &S_BOOL},
	{"insecure__use_host_env", NULL, false, &S_BOOL},
	{"insecure__disable_aslr", NULL, false, &S_BOOL},
	{"log_file", NULL, false, &S_STR},
	{"log_level", NULL, false, &S_LOG_LEVEL},
	{"uid", NULL, false, &S_INT},
	END_FIELDS};

static const char *const cpu3_keys[] = {"avx", "avx512", "amx", NULL};
static const char *const cpu2_keys[] = {"mpx", "pkru", NULL};
static const char *const lit_cpu3[] = {"unspecified", "disabled", "required", NULL};
static const char *const lit_cpu2[] = {"disabled", "required", NULL};
static const struct spec S_CPU3 = {K_LIT, .lits = lit_cpu3};
static const struct spec S_CPU2 = {K_LIT, .lits = lit_cpu2};
static const struct field cpu_f[] = {
	{NULL, cpu3_keys, false, &S_CPU3},
	{NULL, cpu2_keys, false, &S_CPU2},
	END_FIELDS};
static const struct spec S_CPU = {K_DICT, .fields = cpu_f};
static const char *const lit_policy[] = {"strict", "allow_all_but_log", NULL};
static const struct spec S_POLICY = {K_LIT, .lits = lit_policy};
static const char *const lit_prof_enable[] = {"none", "main", "all", NULL};
static const char *const lit_prof_mode[] = {"aex", "ocall_inner", "ocall_outer", NULL};
static const struct spec S_PROF_ENABLE = {K_LIT, .lits = lit_prof_enable};
static const struct spec S_PROF_MODE = {K_LIT, .lits = lit_prof_mode};
static const struct field profile_f[] = {
	{"enable", NULL, false, &S_PROF_ENABLE},
	{"mode", NULL, false, &S_PROF_MODE},
	{"with_stack", NULL, false, &S_BOOL},
	{"frequency", NULL, false, &S_INT},
	END_FIELDS};
static const struct spec S_PROFILE = {K_DICT, .fields = profile_f};
static const char *const lit_ra[] = {"none", "dcap", "epid", NULL};
static const struct spec S_RA = {K_LIT, .lits = lit_ra};
static const struct field seal_f[] = {
	{"flags_mask", NULL, false, &S_MASK},
	{"xfrm_mask", NULL, false, &S_MASK},
	{"misc_mask", NULL, false, &S_MASK},
	END_FIELDS};
static const struct spec S_SEAL = {K_DICT, .fields = seal_f};
static const struct field tf_f[] = {
	{"uri", NULL, false, &S_URI},
	{"sha256", NULL, false, &S_STR},
	END_FIELDS};
static const struct spec S_TF_DICT = {K_DICT, .fields = tf_f};
static const struct spec *const tf_alts[] = {&S_STR, &S_TF_DICT, NULL};
static const struct spec S_TF_ITEM = {K_ANY, .alts = tf_alts};
static const struct spec S_TF_LIST = {K_LIST, .elem = &S_TF_ITEM};
static const struct field sgx_f[] = {
	{"allowed_files", NULL, false, &S_LIST_STR},
	{"cpu_features", NULL, false, &S_CPU},
	{"debug", NULL, false, &S_BOOL},
	{"edmm_enable", NULL, false, &S_BOOL},
	{"enable_stats", NULL, false, &S_BOOL},
	{"enclave_size", NULL, false, &S_SIZE},
	{"file_check_policy", NULL, false, &S_POLICY},
	{"insecure__allow_memfaults_without_exinfo", NULL, false, &S_BOOL},
	{"insecure__rpc_thread_num", NULL, false, &S_INT},
	{"isvprodid", NULL, false, &S_INT},
	{"isvsvn", NULL, false, &S_INT},
	{"max_threads", NULL, false, &S_INT},
	{"preheat_enclave", NULL, false, &S_BOOL},
	{"profile", NULL, false, &S_PROFILE},
	{"ra_client_linkable", NULL, false, &S_BOOL},
	{"ra_client_spid", NULL, false, &S_STR},
	{"remote_attestation", NULL, false, &S_RA},
	{"seal_key", NULL, false, &S_SEAL},
	{"trusted_files", NULL, false, &S_TF_LIST},
	{"use_exinfo", NULL, false, &S_BOOL},
	{"vtune_profile", NULL, false, &S_BOOL},
	{"trusted_files_cache_size", NULL, false, &S_SIZE},
	END_FIELDS};

static const struct field ioctl_f[] = {
	{"request_code", NULL, true, &S_INT},
	{"struct", NULL, false, &S_STR},
	END_FIELDS};
static const struct spec S_IOCTL = {K_DICT, .fields = ioctl_f};
static const struct spec S_IOCTLS = {K_LIST, .elem = &S_IOCTL};
static const struct field brk_f[] = {{"max_size", NULL, false, &S_SIZE}, END_FIELDS};
static const struct spec S_BRK = {K_DICT, .fields = brk_f};
static const struct field mock_f[] = {
	{"name", NULL, true, &S_STR},
	{"return", NULL, false, &S_INT},
	END_FIELDS};
static const struct spec S_MOCK = {K_DICT, .fields = mock_f};
static const struct spec S_MOCKS = {K_LIST, .elem = &S_MOCK};
static const struct field stack_f[] = {{"size", NULL, false, &S_SIZE}, END_FIELDS};
static const struct spec S_STACK = {K_DICT, .fields = stack_f};
static const struct field fds_f[] = {{"limit", NULL, false, &S_INT}, END_FIELDS};
static const struct spec S_FDS = {K_DICT, .fields = fds_f};
static const struct field sys_f[] = {
	{"allowed_ioctls", NULL, false, &S_IOCTLS},
	{"brk", NULL, false, &S_BRK},
	{"disallow_subprocesses", NULL, false, &S_BOOL},
	{"enable_extra_runtime_domain_names_conf", NULL, false, &S_BOOL},
	{"enable_sigterm_injection", NULL, false, &S_BOOL},
	{"experimental__enable_flock", NULL, false, &S_BOOL},
	{"insecure__allow_eventfd", NULL, false, &S_BOOL},
	{"ioctl_structs", NULL, false, &S_MAP_OBJECT},
	{"debug__mock_syscalls", NULL, false, &S_MOCKS},
	{"stack", NULL, false, &S_STACK},
	{"fds", NULL, false, &S_FDS},
	END_FIELDS};

static const struct spec S_FS = {K_DICT, .fields = fs_f};
static const struct spec S_LIBOS = {K_DICT, .fields = libos_f};
static const struct spec S_LOADER = {K_DICT, .fields = loader_f};
static const struct spec S_SGX = {K_DICT, .fields = sgx_f};
static const struct spec S_SYS = {K_DICT, .fields = sys_f};
static const struct field root_f[] = {
	{"fs", NULL, true, &S_FS},
	{"libos", NULL, true, &S_LIBOS},
	{"loader", NULL, true, &S_LOADER},
	{"sgx", NULL, false, &S_SGX},
	{"sys", NULL, false, &S_SYS},
	END_FIELDS};
static const struct spec S_ROOT = {K_DICT, .fields = root_f};

/* ---- validator ---------------------------------------------------------- */

struct verr {
	char *msg;     /* "expected str" */
	char *path;    /* "['a'][0]" */
	size_t depth;
	bool dict_value;
};

struct verrs {
	struct verr *v;
	size_t len, cap;
	bool nomem;
};

struct vpath {
	struct ppml_buf b;
	size_t depth;
};

static void verrs_clear(struct verrs *e)
{
	for (size_t i = 0; i < e->len; i++) {
		free(e->v[i].msg);
		free(e->v[i].path);
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
}


static void add_err(struct verrs *e, const struct vpath *p, const char *msg)
{
	struct verr x;
	if (e->nomem)
		return;
	if (e->len == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 8;
		struct verr *n = realloc(e->v, ncap * sizeof(*n));
		if (!n) {
			e->nomem = true;
			return;
		}
		e->v = n;
		e->cap = ncap;
	}
	x.msg = strdup(msg);
	x.path = strdup(p->b.data ? (const char *)p->b.data : "");
	x.depth = p->depth;
	x.dict_value = false;
	if (!x.msg || !x.path) {
		free(x.msg);
		free(x.path);
		e->nomem = true;
		return;
	}
	e->v[e->len++] = x;
}

/* Appends x to e, taking ownership of its strings. */
static void push_err(struct verrs *e, struct verr x)
{
	if (!e->nomem && e->len == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 8;
		struct verr *n = realloc(e->v, ncap * sizeof(*n));
		if (n) {
			e->v = n;
			e->cap = ncap;
		} else {
			e->nomem = true;
		}
	}
	if (e->nomem) {
		free(x.msg);
		free(x.path);
		return;
	}
	e->v[e->len++] = x;
}

static bool path_push_key(struct vpath *p, const char *key, size_t klen)
{
	if (ppml_buf_putc(&p->b, '[') != PPML_OK || gr_pyrepr_str(&p->b, key, klen) != PPML_OK ||
	    ppml_buf_putc(&p->b, ']') != PPML_OK)
		return false;
	p->depth++;
	return true;
}

static bool path_push_index(struct vpath *p, size_t i)
{
	if (ppml_buf_printf(&p->b, "[%zu]", i) != PPML_OK)
		return false;
	p->depth++;
	return true;
}

static void path_pop(struct vpath *p, size_t len, size_t depth)
{
	p->b.len = len;
	if (p->b.data)
		p->b.data[len] = 0;
	p->depth = depth;
}

static void validate(const struct spec *s, const struct ppml_toml_value *v, struct vpath *p,
		     struct verrs *e);

static bool lit_match(const struct spec *s, const struct ppml_toml_value *v)
{
	if (v->type != PPML_TOML_STRING)
		return false;
	for (const char *const *l = s->lits; *l; l++)
		if (strlen(*l) == v->u.s.len && memcmp(*l, v->u.s.ptr, v->u.s.len) == 0)
			return true;
	return false;
}

static const struct field *find_field(const struct field *f, const char *key, size_t klen)
{
	for (; f->key || f->keys; f++) {
		if (f->key) {
			if (strlen(f->key) == klen && memcmp(f->key, key, klen) == 0)
				return f;
		} else {
			for (const char *const *k = f->keys; *k; k++)
				if (strlen(*k) == klen && memcmp(*k, key, klen) == 0)
					return f;
		}
	}
	return NULL;
}

static void validate_dict(const struct spec *s, const struct ppml_toml_value *v, struct vpath *p,
			  struct verrs *e)
{
	size_t plen = p->b.len, pdepth = p->depth;

	for (size_t i = 0; i < v->u.t.len; i++) {
		const struct ppml_toml_kv *kv = &v->u.t.items[i];
		const struct field *f = s->kind == K_MAP ? NULL : find_field(s->fields, kv->key,
									      kv->key_len);
		size_t before = e->len;
		if (!path_push_key(p, kv->key, kv->key_len)) {
			e->nomem = true;
			return;
		}
		if (s->kind == K_MAP)
			validate(s->elem, kv->value, p, e);
		else if (!f)
			add_err(e, p, "extra keys not allowed");
		else
			validate(f->spec, kv->value, p, e);
		if (s->kind == K_MAP || f) {
			for (size_t j = before; j < e->len; j++)
				if (e->v[j].depth <= p->depth)
					e->v[j].dict_value = true;
		}
		path_pop(p, plen, pdepth);
	}
	if (s->kind == K_MAP)
		return;
	for (const struct field *f = s->fields; f->key || f->keys; f++) {
		if (!f->required || ppml_toml_get(v, f->key))
			continue;
		if (!path_push_key(p, f->key, strlen(f->key))) {
			e->nomem = true;
			return;
		}
		add_err(e, p, "required key not provided");
		path_pop(p, plen, pdepth);
	}
}

static void validate(const struct spec *s, const struct ppml_toml_value *v, struct vpath *p,
		     struct verrs *e)
{
	switch (s->kind) {
	case K_OBJECT:
		return;
	case K_STR:
		if (v->type != PPML_TOML_STRING)
			add_err(e, p, "expected str");
		return;
	case K_INT:
		if (v->type != PPML_TOML_INTEGER && v->type != PPML_TOML_BOOLEAN)
			add_err(e, p, "expected int");
		return;
	case K_BOOL:
		if (v->type != PPML_TOML_BOOLEAN)
			add_err(e, p, "expected bool");
		return;
	case K_LIT:
		if (!lit_match(s, v))
			add_err(e, p, "not a valid value");
		return;
	case K_TRUE:
		if (!((v->type == PPML_TOML_BOOLEAN && v->u.b) ||
		      (v->type == PPML_TOML_INTEGER && v->u.i == 1)))
			add_err(e, p, "not a valid value");
		return;
	case K_DICT:
	case K_MAP:
		if (v->type != PPML_TOML_TABLE) {
			add_err(e, p, "expected a dictionary");
			return;
		}
		validate_dict(s, v, p, e);
		return;
	case K_LIST: {
		size_t plen = p->b.len, pdepth = p->depth;
		if (v->type != PPML_TOML_ARRAY) {
			add_err(e, p, "expected a list");
			return;
		}
		for (size_t i = 0; i < v->u.a.len; i++) {
			if (!path_push_index(p, i)) {
				e->nomem = true;
				return;
			}
			validate(s->elem, v->u.a.items[i], p, e);
			path_pop(p, plen, pdepth);
		}
		return;
	}
	case K_ANY: {
		/* keep the deepest first error among the alternatives */
		size_t best_depth = 0;
		struct verrs best = {0}, tmp = {0};
		bool have = false;
		for (const struct spec *const *a = s->alts; *a; a++) {
			validate(*a, v, p, &tmp);
			if (tmp.nomem) {
				e->nomem = true;
				break;
			}
			if (tmp.len == 0) {
				verrs_clear(&best);
				verrs_clear(&tmp);
				return;
			}
			if (!have || tmp.v[0].depth > best_depth) {
				verrs_clear(&best);
				best = tmp;
				memset(&tmp, 0, sizeof(tmp));
				best_depth = best.v[0].depth;
				have = true;
			}
			verrs_clear(&tmp);
		}
		if (have) {
			/* Any raises one error: the first one of the chosen alternative */
			struct verr x = best.v[0];
			x.dict_value = false;
			memmove(best.v, best.v + 1, (best.len - 1) * sizeof(*best.v));
			best.len--;
			push_err(e, x);
		}
		verrs_clear(&best);
		verrs_clear(&tmp);
		return;
	}
	}
}

void ppml_manifest_violations_free(struct ppml_manifest_violations *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->len; i++)
		free(v->msgs[i]);
	free(v->msgs);
	memset(v, 0, sizeof(*v));
}

ppml_status ppml_manifest_schema_check(const struct ppml_toml_value *root,
				       struct ppml_manifest_violations *out, struct ppml_err *err)
{
	ppml_status st = PPML_OK;
	struct vpath p = {{0}, 0};
	struct verrs e = {0};

	if (ppml_buf_puts(&p.b, "") != PPML_OK) {
		st = ppml_err_set(err, PPML_E_NOMEM, "out of memory in the schema check");
		goto out;
	}
	validate(&S_ROOT, root, &p, &e);
	if (e.nomem) {
		st = ppml_err_set(err, PPML_E_NOMEM, "out of memory in the schema check");
		goto out;
	}
	for (size_t i = 0; i < e.len; i++) {
		char *m = NULL;
		if (asprintf(&m, "%s%s @ data%s", e.v[i].msg,
			     e.v[i].dict_value ? " for dictionary value" : "", e.v[i].path) < 0) {
			st = ppml_err_set(err, PPML_E_NOMEM, "out of memory in the schema check");
			goto out;
		}
		if (out->len == out->cap) {
			size_t ncap = out->cap ? out->cap * 2 : 8;
			char **n = realloc(out->msgs, ncap * sizeof(*n));
			if (!n) {
				free(m);
				st = ppml_err_set(err, PPML_E_NOMEM, "out of memory in the schema check");
				goto out;
			}
			out->msgs = n;
			out->cap = ncap;
		}
		out->msgs[out->len++] = m;
	}
	if (e.len)
		st = ppml_err_set(err, PPML_E_REFUSED, "manifest failed validation: %s%s",
				  out->msgs[out->len - e.len],
				  e.len > 1 ? " (and more violations)" : "");
out:
	verrs_clear(&e);
	ppml_buf_free(&p.b);
	return st;
}

ppml_status ppml_manifest_check_text(const char *text, size_t len,
				     struct ppml_manifest_violations *out, struct ppml_err *err)
{
	ppml_status st;
	struct ppml_toml_value *root = NULL;
	struct ppml_manifest_opts o = {.flags = PPML_MANIFEST_DEFAULTS_ONLY};

	st = ppml_toml_parse(text, len, &root, err);
	if (st == PPML_OK)
		st = ppml_manifest_normalize(root, &o, NULL, err);
	if (st == PPML_OK)
		st = ppml_manifest_schema_check(root, out, err);
	ppml_toml_free(root);
	return st;
}
