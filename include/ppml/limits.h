/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/limits.h - every input cap in one place.  Parsers refuse input beyond
 * these with PPML_E_LIMIT and a message that names the cap.
 */
#ifndef PPML_LIMITS_H
#define PPML_LIMITS_H

/* TOML documents (manifests are a few KiB; generated ones with thousands of
 * trusted files stay well below this). */
#define PPML_TOML_MAX_INPUT   (16u * 1024 * 1024)
/* Nesting of arrays / inline tables / dotted keys. */
#define PPML_TOML_MAX_DEPTH   128
/* Values (tree nodes) in one TOML document: bounds the tree's memory at
 * about 80 MiB.  A real manifest spends well over 16 bytes of text per
 * value (a trusted file entry is ~40), so it hits PPML_TOML_MAX_INPUT first. */
#define PPML_TOML_MAX_VALUES  (1u << 20)

/* SGX core (shared/spec/gramine-sgx-signing.md).  The PAL ELF: Gramine's
 * libpal.so is about 1 MiB with a dozen program headers. */
#define PPML_SGX_MAX_PAL_SIZE      (64u * 1024 * 1024)
#define PPML_SGX_MAX_PHDRS         256u
/* Measured manifest.sgx text. */
#define PPML_SGX_MAX_MANIFEST_SIZE (16u * 1024 * 1024)
/* Enclave size: 2^47 (the x86-64 user half); max_threads as Gramine allows in practice. */
#define PPML_SGX_MAX_ENCLAVE_SIZE  (1ull << 47)
#define PPML_SGX_MAX_THREADS       65536u
/* Key and passphrase files. */
#define PPML_KEY_MAX_FILE          (64u * 1024)
#define PPML_KEY_MAX_PASSPHRASE    1024u

/* Gramine manifests (src/lib/gramine).  Gramine itself has no caps; these
 * are far above real deployments (a PyTorch image has ~30k files). */
#define PPML_MANIFEST_MAX_TRUSTED_FILES (1u << 20)  /* entries after expansion */
#define PPML_MANIFEST_MAX_PATH          4096        /* bytes of one path or URI (PATH_MAX) */
#define PPML_MANIFEST_MAX_DIR_DEPTH     64          /* nesting below a "dir/" URI */
#define PPML_MANIFEST_MAX_SYMLINKS      40          /* hops while resolving in --chroot (as Linux) */
#define PPML_MANIFEST_MAX_THREADS       64          /* hashing workers */
#define PPML_MANIFEST_HASH_BUF          (4u << 20)  /* read size per worker: memory is bounded
						       * by threads * this */

/* PKCS#11 (src/lib/keys/pkcs11*.c).  RFC 7512 URIs are short; CK_TOKEN_INFO
 * fixes label and manufacturer at 32 bytes, model and serial at 16 (PKCS#11
 * v2.40 section 3.2). */
#define PPML_PKCS11_MAX_URI    4096u
#define PPML_PKCS11_MAX_LABEL  256u   /* object= (CKA_LABEL) and module/pin paths: 4096 */
#define PPML_PKCS11_MAX_ID     128u   /* id= (CKA_ID), bytes after decoding */
#define PPML_PKCS11_MAX_PIN    256u   /* bytes in a PIN file */
#define PPML_PKCS11_MAX_GCM    1024u  /* bytes sealed in one token AES-GCM call (wrapped keys) */
#define PPML_PKCS11_MAX_SLOTS  1024u  /* slots with a token */

/* Identity documents (ppml identity --json, read by `ppml identity diff`).
 * A manifest at PPML_MANIFEST_MAX_TRUSTED_FILES costs about 150 bytes per
 * measured file in JSON, so real documents stay far below 64 MiB; the caps
 * bound memory for hostile input. */
#define PPML_IDENTITY_MAX_JSON      (64u * 1024 * 1024)
#define PPML_IDENTITY_MAX_FILES     (PPML_MANIFEST_MAX_TRUSTED_FILES + 1u) /* + entrypoint */
#define PPML_IDENTITY_MAX_KEYS      (1u << 16)   /* flattened manifest keys */
#define PPML_IDENTITY_MAX_WARNINGS  1024u
#define PPML_IDENTITY_MAX_STRING    (1u << 20)   /* one uri, key or value text */


/* DCAP quotes and collateral (src/lib/dcap).  A real SGX quote with its PCK
 * chain is about 4.7 KiB; TCB info for one FMSPC is tens of KiB; the largest
 * PCK CRLs hold tens of thousands of serials (a few MiB at most). */
#define PPML_QUOTE_MAX_SIZE            (64u * 1024)
#define PPML_COLLATERAL_MAX_FILE       (8u * 1024 * 1024)
#define PPML_COLLATERAL_MAX_JSON       (1u * 1024 * 1024)   /* TCB info / QE identity */
#define PPML_COLLATERAL_MAX_LEVELS     1024u   /* TCB levels in one TCB info / QE identity */
#define PPML_COLLATERAL_MAX_ADVISORIES 512u    /* advisory IDs of one level */
#define PPML_COLLATERAL_MAX_ID_LEN     64u     /* bytes of one advisory ID */
/* Verified collateral sets / PCK chains kept by one verifier's cache. */
#define PPML_DCAP_CACHE_SETS           64u
#define PPML_DCAP_CACHE_PCK            4096u
/* PCCS client (src/lib/pccs): one issuer-chain header after percent-decoding
 * (a real chain is about 2 KiB); response bodies are capped by
 * PPML_COLLATERAL_MAX_FILE unless the caller sets a lower cap. */
#define PPML_PCCS_MAX_HEADER           (64u * 1024)
/* The simulation PKI folder (ppml/simpki.h): pki.json, keys.pem, certs.pem. */
#define PPML_SIMPKI_MAX_FILE           (64u * 1024)

/* OCI images (src/lib/image).  Image JSON documents are small (a config with
 * its history is tens of KiB); layers are streamed, never held in memory. */
#define PPML_IMAGE_MAX_JSON            (4u * 1024 * 1024)
#define PPML_IMAGE_MAX_LAYERS          256u
#define PPML_IMAGE_MAX_ENTRIES         (1u << 20)   /* paths in the applied root */
#define PPML_IMAGE_MAX_PATH            4096u
#define PPML_IMAGE_MAX_SYMLINKS        40u          /* hops while resolving (as Linux) */
#define PPML_IMAGE_MAX_READ            (64u * 1024 * 1024) /* a file read into memory (PAL) */

/* Attestation policies (ppml/policy.h). */
#define PPML_POLICY_MAX_SIZE           (256u * 1024)
#define PPML_POLICY_MAX_IDENTITIES     1024u
#define PPML_POLICY_MAX_EXCEPTIONS     64u
#define PPML_POLICY_MAX_NAME           128u

/* Tokens and key sets (ppml/jwt.h). */
#define PPML_JWT_MAX_TOKEN             (64u * 1024)
#define PPML_JWKS_MAX_SIZE             (256u * 1024)
#define PPML_JWKS_MAX_KEYS             64u
#define PPML_JWT_KID_MAX               96u

/* The service's store (ppml/store.h). */
#define PPML_STORE_MAX_URL             8192u  /* --db: "sqlite:" and a path, or a libpq URI */
#define PPML_STORE_PG_POOL             8u     /* PostgreSQL connections per process */
#define PPML_STORE_PG_WAIT_S           30     /* longest wait for a free connection */
#define PPML_STORE_MAX_ROWS         100000 /* rows one list (policies, keys, checkpoints) returns */

#endif
