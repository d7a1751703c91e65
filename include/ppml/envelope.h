/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/envelope.h - encrypted files (format PPMLENC1, version 1).
 *
 *   header  "PPMLENC1" | u8 version (1) | u16be len | key name |
 *           u32be key version | u16be len | wrapped data key |
 *           7-byte random nonce prefix | u32be segment size (65536)
 *   body    segments of `segment size` plaintext bytes (the last one
 *           shorter, possibly empty), each AES-256-GCM with
 *           nonce = prefix | u32be segment index | last-segment flag byte,
 *           AAD = the whole header, followed by its 16-byte tag.
 *
 * This is the STREAM construction: truncation (no final segment),
 * reordering (the index), splicing between files (the header, with its
 * random prefix and wrapped key, is the AAD of every segment) and header
 * edits are all detected.  Streaming with bounded memory; regular files
 * of 2 MiB or more are processed by one worker thread per CPU in 1 MiB
 * batches (same bytes, same errors as the serial path).  Decryption
 * writes to a temporary file and renames it over the output only after
 * the final tag verified: a failure leaves no output.
 */
#ifndef PPML_ENVELOPE_H
#define PPML_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"

#define PPML_ENC_MAGIC        "PPMLENC1"
#define PPML_ENC_VERSION      1
#define PPML_ENC_SEGMENT      65536u
#define PPML_ENC_MAX_NAME     128u
#define PPML_ENC_MAX_WRAPPED  1024u

struct ppml_enc_header {
	char key_name[PPML_ENC_MAX_NAME + 1];
	uint32_t key_version;
	uint8_t wrapped[PPML_ENC_MAX_WRAPPED];   /* the wrapped data key, as the service made it */
	size_t wrapped_len;
	uint8_t prefix[7];
	uint32_t segment;
};

/* Reads and checks the header of an encrypted file (nothing is decrypted). */
ppml_status ppml_enc_read_header(const char *path, struct ppml_enc_header *h,
				 struct ppml_err *err) PPML_WARN_UNUSED;

/* Encrypts in_path to out_path (written atomically, mode 0600) under the
 * 32-byte data key; h carries the key name, version and wrapped key (the
 * prefix is drawn here).  progress (may be NULL) gets the bytes done. */
ppml_status ppml_enc_encrypt_file(const char *in_path, const char *out_path,
				  const uint8_t key[32], struct ppml_enc_header *h,
				  void (*progress)(void *ctx, uint64_t done, uint64_t total),
				  void *progress_ctx, struct ppml_err *err) PPML_WARN_UNUSED;

/* Decrypts; PPML_E_REFUSED naming the segment (or "truncated") when
 * anything does not verify, and nothing is left at out_path. */
ppml_status ppml_enc_decrypt_file(const char *in_path, const char *out_path,
				  const uint8_t key[32],
				  void (*progress)(void *ctx, uint64_t done, uint64_t total),
				  void *progress_ctx, struct ppml_err *err) PPML_WARN_UNUSED;

#endif
