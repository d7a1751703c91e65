/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/identity.h - what a signed Gramine enclave is, for verifiers.
 *
 * An identity document ties a manifest.sgx and its SIGSTRUCT together: the
 * values an attestation policy pins (MRENCLAVE, MRSIGNER, ISVPRODID, ISVSVN,
 * DEBUG, attributes), the files the enclave measures, the manifest keys that
 * produced MRENCLAVE, and warnings for what the measurement does NOT cover or
 * what weakens it (allowed_files, debug, insecure__ options, test keys...).
 *
 * It is built only from artefacts that match: ppml_identity_build refuses a
 * .sig whose signature does not verify or whose body is not what the
 * manifest derives (ENCLAVEHASH, attributes, masks, MISCSELECT, ISV values).
 *
 * The JSON form ("version": 1, snake_case, lowercase hex) is written by
 * ppml_identity_to_json and read back, bounded and strictly, by
 * ppml_identity_from_json; ppml_identity_diff explains two documents.
 *
 * Nothing here prints, exits or keeps state; all functions are reentrant.
 */
#ifndef PPML_IDENTITY_H
#define PPML_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/buf.h"
#include "ppml/enclave.h"
#include "ppml/err.h"
#include "ppml/sgx.h"

/* The identity JSON format version this library writes and reads. */
#define PPML_IDENTITY_VERSION 1

/* One measured file: loader.entrypoint or an sgx.trusted_files entry. */
struct ppml_identity_file {
	char *uri;
	char *sha256;   /* as written in manifest.sgx (64 hex digits when Gramine hashed it) */
};

/* One manifest key, flattened: "sgx.enclave_size" -> "\"256M\"".  value is
 * compact JSON with sorted object keys (arrays and inline tables stay whole). */
struct ppml_identity_key {
	char *key;
	char *value;
};

/* Something the measurement does not cover or that weakens the identity. */
struct ppml_identity_warning {
	char *code;     /* stable snake_case, e.g. "debug_enclave" */
	char *message;  /* one sentence for humans */
};

struct ppml_identity {
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
	uint16_t isvprodid, isvsvn;
	bool debug;                     /* ATTRIBUTES.FLAGS has DEBUG */
	uint64_t attributes_flags, attributes_xfrm;
	uint64_t attribute_mask_flags, attribute_mask_xfrm;
	uint32_t misc_select, misc_mask;
	char date[11];                  /* "YYYY-MM-DD" from the SIGSTRUCT DATE (BCD; binary
					 * for Gramine v1.3) */
	uint8_t manifest_sha256[32];    /* SHA-256 of the manifest.sgx bytes */
	struct ppml_identity_file *files;       /* loader.entrypoint first, then trusted files */
	size_t n_files;
	struct ppml_identity_key *keys;         /* in manifest order (sgx.trusted_files excluded:
						 * it is in files) */
	size_t n_keys;
	struct ppml_identity_warning *warnings;
	size_t n_warnings;
};

/* Frees an identity and everything in it.  Accepts NULL. */
void ppml_identity_free(struct ppml_identity *id);

/*
 * Checks that SIGSTRUCT s carries what the measured manifest derives:
 * ENCLAVEHASH (constant-time compare), ATTRIBUTES, ATTRIBUTEMASK, MISCSELECT,
 * MISCMASK, ISVPRODID, ISVSVN, and the fields Gramine leaves fixed.
 * manifest_name only labels the message.  PPML_OK, or PPML_E_REFUSED naming
 * the first field that differs with both values, e.g.
 * "ENCLAVEHASH 577e... does not match the measurement of app.manifest.sgx (dec9...)".
 * Does not check the RSA signature: see ppml_sigstruct_verify.
 */
ppml_status ppml_identity_match_sigstruct(const struct ppml_enclave_identity *measured,
					  const struct ppml_sgx_sigstruct *s,
					  const char *manifest_name,
					  struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Builds the identity of a signed enclave from the manifest.sgx bytes, the
 * PAL and the .sig bytes: parses and verifies the SIGSTRUCT (RSA signature,
 * Q1/Q2), measures manifest.sgx with the PAL, requires
 * ppml_identity_match_sigstruct, then reads the measured files, the
 * flattened keys and the warnings from the manifest.sgx tree (no file is
 * hashed).  Returns PPML_E_REFUSED when the .sig is malformed, does not
 * verify or does not match; PPML_E_INPUT for a manifest.sgx that is not a
 * normalised manifest.  *out (free with ppml_identity_free) is set only on
 * success.
 */
ppml_status ppml_identity_build(const uint8_t *manifest_sgx, size_t manifest_len,
				const uint8_t *pal, size_t pal_len, const char *pal_name,
				enum ppml_gramine_version version, const uint8_t *sig, size_t sig_len, const char *manifest_name,
				struct ppml_identity **out, struct ppml_err *err) PPML_WARN_UNUSED;

/* A description when mrsigner belongs to a publicly known test key (the
 * Gramine signing vectors' keys), else NULL.  Static storage. */
const char *ppml_identity_known_test_key(const uint8_t mrsigner[32]);

/* Appends the JSON document (two-space indented, trailing newline) to out. */
ppml_status ppml_identity_to_json(const struct ppml_identity *id, struct ppml_buf *out,
				  struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Reads an identity document: at most PPML_IDENTITY_MAX_JSON bytes, no
 * duplicate keys, "version" checked first (must be PPML_IDENTITY_VERSION),
 * every field present with its type and format (hex lengths, ranges).
 * Unknown fields are ignored (later minor additions).  PPML_E_INPUT naming
 * the field, PPML_E_LIMIT for the caps.  *out is set only on success.
 */
ppml_status ppml_identity_from_json(const char *text, size_t len, struct ppml_identity **out,
				    struct ppml_err *err) PPML_WARN_UNUSED;

enum ppml_identity_change_kind {
	PPML_IDENTITY_FIELD = 1,  /* mrenclave, mrsigner, isvprodid, isvsvn, debug, attributes.*,
				   * manifest_sha256 */
	PPML_IDENTITY_KEY,        /* a flattened manifest key */
	PPML_IDENTITY_FILE,       /* a measured file, by uri */
};

/* One difference: a or b is NULL when the file or key is absent on that side.
 * a and b are JSON text (strings quoted), e.g. "\"256M\"" and "\"1G\"". */
struct ppml_identity_change {
	enum ppml_identity_change_kind kind;
	char *name;
	char *a, *b;
};

struct ppml_identity_diff {
	struct ppml_identity_change *items;  /* fields, then keys, then files */
	size_t len, cap;
};

/* Frees the changes (not the struct itself).  Accepts NULL. */
void ppml_identity_diff_cleanup(struct ppml_identity_diff *d);

/* Lists every difference between a and b into *out (zeroed first).  Files
 * are matched by uri, keys by name.  PPML_E_NOMEM only. */
ppml_status ppml_identity_diff(const struct ppml_identity *a, const struct ppml_identity *b,
			       struct ppml_identity_diff *out, struct ppml_err *err)
	PPML_WARN_UNUSED;

#endif
