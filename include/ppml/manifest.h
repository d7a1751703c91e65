/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/manifest.h - Gramine manifests: normalisation, attributes, schema.
 * Gramine v1.9 by default; the v1.3.1 rules of BigDL's images (spec section
 * 12) where a function takes enum ppml_gramine_version or opts->version.
 *
 * The signer pipeline (spec/gramine-sgx-signing.md section 1) is:
 *
 *   text --ppml_manifest_parse--> tree --ppml_manifest_normalize--> tree
 *        --ppml_manifest_write (tomli-w; toml 0.10.2 for 1.3)--> manifest.sgx bytes
 *   manifest.sgx bytes --ppml_manifest_attrs_from_text--> struct ppml_manifest_attrs
 *        --ppml_manifest_check_cpu_features--> ok / Gramine's KeyError text
 *
 * ppml_manifest_normalize_text does the first line in one call.
 *
 * Errors carry Gramine's own wording first (so users can search for it) and
 * our context after it: PPML_E_INPUT for manifest mistakes, PPML_E_NOTFOUND
 * for missing trusted files, PPML_E_IO for unreadable ones, PPML_E_LIMIT
 * for the caps in ppml/limits.h.
 *
 * Thread safety: the functions are reentrant; hashing runs on an internal
 * worker pool that is joined before ppml_manifest_normalize returns.
 */
#ifndef PPML_MANIFEST_H
#define PPML_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/buf.h"
#include "ppml/err.h"
#include "ppml/toml.h"

/*
 * Which Gramine signer to reproduce.  1.9 is the default (0).  1.3 is the
 * v1.3.1 signer of BigDL's PPML images (spec section 12): toml 0.10.2 for
 * parsing and writing, sgx.thread_num, the sgx.require_* attribute keys,
 * sgx.nonpie_binary (PIE layout by default), no loader.entrypoint hashing,
 * trusted directories expanded without dedup.
 */
enum ppml_gramine_version {
	PPML_GRAMINE_1_9 = 0,
	PPML_GRAMINE_1_3 = 1,
};

/* "1.9" or "1.3" (also "1.3.1"): PPML_E_INPUT otherwise, naming the choices. */
ppml_status ppml_gramine_version_parse(const char *s, enum ppml_gramine_version *out,
				       struct ppml_err *err) PPML_WARN_UNUSED;
/* "1.9" or "1.3"; static storage. */
const char *ppml_gramine_version_name(enum ppml_gramine_version v);

/* Apply only Manifest.__init__'s defaults (spec 2.2) without touching the
 * filesystem: no loader.entrypoint hash, no trusted-file expansion.  This is
 * what the schema check runs on. */
#define PPML_MANIFEST_DEFAULTS_ONLY 0x1u
/* The whole pipeline without filesystem access (fuzzing, dry runs):
 * directories expand to nothing, non-slash URIs are taken as files, missing
 * hashes become 64 zeros.  Never use the result for signing. */
#define PPML_MANIFEST_NO_FS 0x2u

/*
 * Progress report, called on the calling thread (never from a worker) each
 * time a file finishes hashing.  index is the file's position in the final
 * trusted-file list (SIZE_MAX for loader.entrypoint).
 */
typedef void (*ppml_manifest_progress_fn)(void *ctx, size_t index, const char *path,
					  size_t files_done, size_t files_total,
					  uint64_t bytes_done, uint64_t bytes_total);

struct ppml_manifest_opts {
	const char *pkglibdir;  /* for the default loader.entrypoint.uri; NULL = "/usr/lib/x86_64-linux-gnu/gramine" */
	const char *chroot;     /* --chroot DIR, or NULL (v1.9 only: v1.3 has no chroot) */
	enum ppml_gramine_version version; /* 0 = PPML_GRAMINE_1_9 */
	unsigned flags;         /* PPML_MANIFEST_* */
	unsigned threads;       /* hashing workers; 0 = number of online CPUs */
	ppml_manifest_progress_fn progress; /* NULL for none */
	void *progress_ctx;
};

/* One entry of the final sgx.trusted_files list (or loader.entrypoint). */
struct ppml_manifest_file {
	char *uri;          /* exactly as written to manifest.sgx */
	char *path;         /* where it was (or would be) read on this host, chroot applied */
	char *sha256;       /* as written to manifest.sgx; explicit values are not
			     * validated (spec 2.3: "ABCDEF" passes) */
	bool hashed;        /* true when we read the file (no explicit sha256) */
	uint64_t size;      /* bytes hashed; 0 when not hashed */
};

struct ppml_manifest_result {
	struct ppml_manifest_file *files; /* final sgx.trusted_files, in manifest order */
	size_t n_files;
	struct ppml_manifest_file entrypoint; /* loader.entrypoint (uri NULL with DEFAULTS_ONLY) */
	char **deps;        /* every file opened for reading, in order (for --depfile) */
	size_t n_deps;
};

/* Frees a result and everything in it.  Accepts NULL. */
void ppml_manifest_result_free(struct ppml_manifest_result *r);

/*
 * Normalises root in place exactly as Gramine v1.9 Manifest.__init__ then
 * expand_all_trusted_files (spec 2.2, 2.3): defaults, loader.entrypoint,
 * trusted-file validation, directory expansion, dedup, parallel hashing.
 * Relative file: URIs resolve against the current directory.  On success
 * *result (if result is non-NULL) receives the measured files; free it with
 * ppml_manifest_result_free.  On failure root may be partly modified.
 */
ppml_status ppml_manifest_normalize(struct ppml_toml_value *root,
				    const struct ppml_manifest_opts *opts,
				    struct ppml_manifest_result **result,
				    struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Parses text, normalises it and appends the serialisation (the bytes of
 * app.manifest.sgx: tomli-w for 1.9, toml 0.10.2 for 1.3, per
 * opts->version) to out.  result as above (may be NULL).
 */
ppml_status ppml_manifest_normalize_text(const char *text, size_t len,
					 const struct ppml_manifest_opts *opts,
					 struct ppml_buf *out,
					 struct ppml_manifest_result **result,
					 struct ppml_err *err) PPML_WARN_UNUSED;

enum ppml_cpu_feature {
	PPML_CPU_AVX = 0,
	PPML_CPU_AVX512,
	PPML_CPU_AMX,
	PPML_CPU_MPX,
	PPML_CPU_PKRU,
	PPML_CPU_N
};

/* The feature names in SIGSTRUCT order (spec 8): "avx", "avx512", "amx", "mpx", "pkru". */
extern const char *const ppml_cpu_feature_names[PPML_CPU_N];

#define PPML_MANIFEST_STR_MAX 128

/* What the signer and `ppml identity` need from a normalised manifest. */
struct ppml_manifest_attrs {
	enum ppml_gramine_version version; /* the rules these values were read with */
	char enclave_size_str[PPML_MANIFEST_STR_MAX];
	uint64_t enclave_size;      /* parse_size(enclave_size_str) */
	uint64_t max_threads;       /* sgx.max_threads (1.9) or sgx.thread_num (1.3) */
	bool edmm_enable;           /* Python truthiness: true, or non-zero integer */
	bool debug;                 /* only the boolean true */
	bool use_exinfo;            /* only the boolean true */
	uint16_t isvprodid, isvsvn;
	/* sgx.cpu_features.* raw strings ("" when absent, "<non-string>" when
	 * not a string: both are disallowed values). */
	char cpu_features[PPML_CPU_N][PPML_MANIFEST_STR_MAX];
	char remote_attestation[PPML_MANIFEST_STR_MAX]; /* "" when absent */
	/* 1.3 only: sgx.require_<feature> == 1 (Python equality: true, 1 or
	 * 1.0), indexed by enum ppml_cpu_feature; sgx.support_exinfo == 1 is
	 * use_exinfo and sgx.debug == 1 is debug; nonpie_binary is truthiness. */
	bool require[PPML_CPU_N];
	bool nonpie_binary;
	/* For identity warnings. */
	bool has_allowed_files;     /* sgx.allowed_files present (even if empty) */
	char file_check_policy[PPML_MANIFEST_STR_MAX];  /* "" when absent */
	size_t n_insecure;          /* keys named insecure__* anywhere in the tree */
	char first_insecure[PPML_MANIFEST_STR_MAX];     /* dotted path of the first one */
};

/*
 * Extracts the attributes from a normalised tree (spec 8; for 1.3, spec 12):
 * sgx must be a table holding enclave_size (string), max_threads (1.9) or
 * thread_num (1.3), isvprodid, isvsvn (integers; ISV values 0..65535), else
 * PPML_E_INPUT naming the key.
 */
ppml_status ppml_manifest_attrs_get(const struct ppml_toml_value *root,
				    enum ppml_gramine_version version,
				    struct ppml_manifest_attrs *attrs,
				    struct ppml_err *err) PPML_WARN_UNUSED;

/* Parses manifest.sgx bytes (ppml_manifest_parse) and extracts the
 * attributes (the signer re-reads its own output, spec 1 step 5). */
ppml_status ppml_manifest_attrs_from_text(const char *text, size_t len,
					  enum ppml_gramine_version version,
					  struct ppml_manifest_attrs *attrs,
					  struct ppml_err *err) PPML_WARN_UNUSED;

/* Parses a manifest as that version's signer does: TOML 1.0 (tomli) for
 * 1.9; for 1.3 also toml 0.10.2's "Not a homogeneous array" refusal. */
ppml_status ppml_manifest_parse(const char *text, size_t len, enum ppml_gramine_version version,
				struct ppml_toml_value **root, struct ppml_err *err) PPML_WARN_UNUSED;

/* Serialises a tree as that version's signer writes manifest.sgx: tomli-w 1.0
 * for 1.9, toml 0.10.2 for 1.3. */
ppml_status ppml_manifest_write(const struct ppml_toml_value *root,
				enum ppml_gramine_version version, struct ppml_buf *out,
				struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Checks sgx.cpu_features values as the v1.9 signer does (spec 8): avx,
 * avx512, amx accept "required", "disabled", "unspecified"; mpx and pkru
 * only "required" and "disabled".  Anything else is PPML_E_INPUT with
 * "Manifest option `sgx.cpu_features.X` has a disallowed value".
 */
ppml_status ppml_manifest_check_cpu_features(const struct ppml_manifest_attrs *attrs,
					     struct ppml_err *err) PPML_WARN_UNUSED;

/* sgx.enclave_size is parsed with ppml_sgx_parse_size (ppml/measure.h). */

/* One schema violation: Gramine's voluptuous text, e.g.
 * "extra keys not allowed @ data['sgx']['require_avx']". */
struct ppml_manifest_violations {
	char **msgs;
	size_t len, cap;
};
void ppml_manifest_violations_free(struct ppml_manifest_violations *v);

/*
 * Validates a (defaults-applied) tree against Gramine v1.9's manifest schema
 * (python/graminelibos/manifest_check.py).  Every violation is appended to
 * out.  Returns PPML_OK when the tree is valid, PPML_E_REFUSED (err holds
 * the first violation prefixed with "manifest failed validation: ") when not,
 * PPML_E_NOMEM on allocation failure.
 */
ppml_status ppml_manifest_schema_check(const struct ppml_toml_value *root,
				       struct ppml_manifest_violations *out,
				       struct ppml_err *err) PPML_WARN_UNUSED;

/* Parses text, applies the defaults (PPML_MANIFEST_DEFAULTS_ONLY) and runs
 * the schema check: what `gramine-manifest --check` validates. */
ppml_status ppml_manifest_check_text(const char *text, size_t len,
				     struct ppml_manifest_violations *out,
				     struct ppml_err *err) PPML_WARN_UNUSED;

#endif
