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

/* Gramine manifests (src/lib/gramine).  Gramine itself has no caps; these
 * are far above real deployments (a PyTorch image has ~30k files). */
#define PPML_MANIFEST_MAX_TRUSTED_FILES (1u << 20)  /* entries after expansion */
#define PPML_MANIFEST_MAX_PATH          4096        /* bytes of one path or URI (PATH_MAX) */
#define PPML_MANIFEST_MAX_DIR_DEPTH     64          /* nesting below a "dir/" URI */
#define PPML_MANIFEST_MAX_SYMLINKS      40          /* hops while resolving in --chroot (as Linux) */
#define PPML_MANIFEST_MAX_THREADS       64          /* hashing workers */
#define PPML_MANIFEST_HASH_BUF          (4u << 20)  /* read size per worker: memory is bounded
						       * by threads * this */

#endif
