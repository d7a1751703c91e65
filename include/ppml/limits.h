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

#endif
