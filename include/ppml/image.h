/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/image.h - reproducible OCI images of signed enclaves, without a
 * Docker daemon and without the signing key.
 *
 * build: a base image (an OCI layout, a `docker save` archive, or nothing)
 * plus one deterministic layer holding the signed enclave (manifest.sgx,
 * .sig, every measured file at the path the manifest names) and any added
 * files; a config whose labels carry the enclave's identity; manifest and
 * index; every digest SHA-256.  The same inputs give the same bytes: entries
 * sorted, owner 0:0, mtime SOURCE_DATE_EPOCH (else 0), gzip without name or
 * time.  A file that is a private key (PEM or DER, RSA or EC) is refused.
 *
 * verify: applies the layers in order (whiteouts honoured) to a virtual
 * root, finds the manifest and signature through the labels, checks every
 * measured file inside the image against its hash, recomputes MRENCLAVE
 * with the PAL, verifies the SIGSTRUCT, and compares the identity with the
 * expected one.  Nothing is extracted to disk.
 *
 * libarchive is confined to src/lib/image/.  Bounded: entries, path
 * lengths, JSON sizes and symlink hops are capped (ppml/limits.h).
 */
#ifndef PPML_IMAGE_H
#define PPML_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"
#include "ppml/manifest.h"

/* Config labels written by build and read by verify. */
#define PPML_LABEL_MRENCLAVE "io.ppml.sgx.mrenclave"
#define PPML_LABEL_MRSIGNER  "io.ppml.sgx.mrsigner"
#define PPML_LABEL_ISVPRODID "io.ppml.sgx.isvprodid"
#define PPML_LABEL_ISVSVN    "io.ppml.sgx.isvsvn"
#define PPML_LABEL_DEBUG     "io.ppml.sgx.debug"
#define PPML_LABEL_MANIFEST  "io.ppml.sgx.manifest"   /* path of manifest.sgx in the image */
#define PPML_LABEL_SIGFILE   "io.ppml.sgx.sigfile"    /* path of the .sig */
#define PPML_LABEL_LIBPAL    "io.ppml.sgx.libpal"     /* path of the PAL, when added */
/* "1.3" for enclaves signed by Gramine v1.3.1 (BigDL); absent: v1.9. */
#define PPML_LABEL_GRAMINE   "io.ppml.sgx.gramine_version"

enum ppml_image_kind {
	PPML_IMAGE_SCRATCH = 1,
	PPML_IMAGE_OCI,            /* oci:DIR[:TAG] */
	PPML_IMAGE_DOCKER_ARCHIVE, /* docker-archive:FILE */
};

struct ppml_image_ref {
	enum ppml_image_kind kind;
	char path[4096];
	char tag[256];             /* OCI ref name; "" when none given */
};

/* Parses "oci:DIR[:TAG]", "docker-archive:FILE" or (allow_scratch) "scratch". */
ppml_status ppml_image_ref_parse(const char *s, bool allow_scratch, struct ppml_image_ref *out,
				 struct ppml_err *err) PPML_WARN_UNUSED;

struct ppml_image_add {
	const char *src;           /* host file */
	const char *dest;          /* absolute path in the image */
};

struct ppml_image_build_opts {
	struct ppml_image_ref base;
	struct ppml_image_ref output;      /* OCI or docker-archive */
	const char *enclave_dir;           /* holds manifest.sgx, .sig, relative measured files */
	const char *manifest;              /* NULL: the only *.manifest.sgx in enclave_dir */
	const char *sigfile;               /* NULL: the manifest's stem + ".sig" */
	bool chroot;                       /* absolute URIs from enclave_dir/PATH, not the host */
	const char *workdir;               /* where relative URIs live in the image; NULL: /app */
	const char *libpal;                /* host PAL to measure with; NULL: Gramine's */
	const char *libpal_dest;           /* also add the PAL at this image path; NULL: don't */
	enum ppml_gramine_version gramine_version; /* the signer of manifest.sgx (default 1.9) */
	const struct ppml_image_add *adds;
	size_t n_adds;
	const char *const *entrypoint;     /* NULL: gramine-sgx STEM */
	size_t n_entrypoint;
	const char *const *env;            /* "K=V" */
	size_t n_env;
	const char *const *labels;         /* "K=V" */
	size_t n_labels;
	const char *tag;                   /* NAME:TAG (ref name, RepoTags) */
	int64_t source_date_epoch;         /* < 0: 0 (the Unix epoch) */
	void (*progress)(void *ctx, const char *msg);  /* may be NULL */
	void *progress_ctx;
};

struct ppml_image_result {
	char manifest_digest[72];          /* "sha256:<64 hex>" */
	char config_digest[72];
	char layer_digest[72];             /* the enclave layer (compressed) */
	size_t n_layers;
	size_t n_files;                    /* entries in the enclave layer */
	uint8_t mrenclave[32], mrsigner[32];
};

/* Builds the image.  Nothing is written at the output unless everything
 * succeeded (an OCI folder is written beside and renamed; an archive is
 * written atomically).  An existing output is replaced. */
ppml_status ppml_image_build(const struct ppml_image_build_opts *o, struct ppml_image_result *res,
			     struct ppml_err *err) PPML_WARN_UNUSED;

struct ppml_policy;

/* What `verify` expects.  Unset fields are not checked; at least one of
 * mrenclave, mrsigner or policy must be set.  A policy (ppml/policy.h)
 * contributes its identities (any entry may match) and allow_debug. */
struct ppml_image_expect {
	const struct ppml_policy *policy;
	bool has_mrenclave;
	uint8_t mrenclave[32];
	bool has_mrsigner;
	uint8_t mrsigner[32];
	bool has_isvprodid;
	uint16_t isvprodid;
	bool has_min_isvsvn;
	uint16_t min_isvsvn;
	bool allow_debug;                  /* default false: a debug enclave is refused */
	bool has_gramine_version;          /* else the image's label (absent: 1.9) */
	enum ppml_gramine_version gramine_version;
};

#define PPML_IMAGE_MAX_REASONS 16

struct ppml_image_verdict {
	bool ok;                           /* every check passed */
	char reasons[PPML_IMAGE_MAX_REASONS][512]; /* why not, in check order */
	size_t n_reasons;
	uint8_t mrenclave[32], mrsigner[32];
	uint16_t isvprodid, isvsvn;
	bool debug;
	size_t files_checked;
	char manifest_path[512];
	char manifest_digest[72];
};

/* Verifies the image against e.  libpal: a host PAL; NULL: the PAL the
 * labels name inside the image, else Gramine's default path inside it.
 * PPML_OK with v->ok false when the image is well-formed but a check failed
 * (v->reasons say which); an error status for a malformed or unreadable
 * image (digest mismatch, missing blob, path traversal...). */
ppml_status ppml_image_verify(const struct ppml_image_ref *img, const char *libpal,
			      const struct ppml_image_expect *e, struct ppml_image_verdict *v,
			      struct ppml_err *err) PPML_WARN_UNUSED;

#endif
