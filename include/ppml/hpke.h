/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/hpke.h - HPKE base mode (RFC 9180) with DHKEM(P-256, HKDF-SHA256)
 * and HKDF-SHA256, built from OpenSSL 3.0 primitives (Debian 12's OpenSSL
 * has no HPKE API).  The key service uses AES-256-GCM; AES-128-GCM exists
 * for the RFC's test vectors (appendix A.3).
 */
#ifndef PPML_HPKE_H
#define PPML_HPKE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ppml/err.h"

#define PPML_HPKE_KEM_P256_SHA256 0x0010u
#define PPML_HPKE_KDF_SHA256      0x0001u
#define PPML_HPKE_AEAD_AES128GCM  0x0001u
#define PPML_HPKE_AEAD_AES256GCM  0x0002u
#define PPML_HPKE_ENC_LEN         65u  /* an uncompressed P-256 point */
#define PPML_HPKE_TAG_LEN         16u

struct ppml_hpke_ctx {
	uint16_t aead;
	uint8_t key[32];
	size_t key_len;
	uint8_t base_nonce[12];
	uint8_t exporter_secret[32];
	uint64_t seq;
};
/* Wipes a context.  Accepts NULL. */
void ppml_hpke_ctx_cleanup(struct ppml_hpke_ctx *c);

/* DeriveKeyPair (RFC 9180 section 7.1.3) for P-256. */
ppml_status ppml_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, EVP_PKEY **out,
				     struct ppml_err *err) PPML_WARN_UNUSED;

/* SetupBaseS: encapsulates to pkR (65-byte SEC1 uncompressed) with an
 * ephemeral key (from ikm_e when non-NULL: test vectors only), writing enc.
 * shared_secret (optional) receives the KEM output. */
ppml_status ppml_hpke_setup_sender(uint16_t aead, const uint8_t pkR[PPML_HPKE_ENC_LEN],
				   const uint8_t *info, size_t info_len, const uint8_t *ikm_e,
				   size_t ikm_e_len, uint8_t enc[PPML_HPKE_ENC_LEN],
				   uint8_t shared_secret[32], struct ppml_hpke_ctx *ctx,
				   struct ppml_err *err) PPML_WARN_UNUSED;
/* SetupBaseR with the recipient's private key. */
ppml_status ppml_hpke_setup_receiver(uint16_t aead, EVP_PKEY *skR,
				     const uint8_t enc[PPML_HPKE_ENC_LEN], const uint8_t *info,
				     size_t info_len, struct ppml_hpke_ctx *ctx,
				     struct ppml_err *err) PPML_WARN_UNUSED;
/* Seal / Open with the context's next sequence number.  ct is pt_len + 16
 * bytes; Open fails (PPML_E_REFUSED) on any tag mismatch. */
ppml_status ppml_hpke_seal(struct ppml_hpke_ctx *c, const uint8_t *aad, size_t aad_len,
			   const uint8_t *pt, size_t pt_len, uint8_t *ct,
			   struct ppml_err *err) PPML_WARN_UNUSED;
ppml_status ppml_hpke_open(struct ppml_hpke_ctx *c, const uint8_t *aad, size_t aad_len,
			   const uint8_t *ct, size_t ct_len, uint8_t *pt,
			   struct ppml_err *err) PPML_WARN_UNUSED;

/* AES-GCM one-shot helpers (12-byte nonce, 16-byte tag after the ciphertext). */
ppml_status ppml_aead_seal(const uint8_t *key, size_t key_len, const uint8_t nonce[12],
			   const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
			   uint8_t *ct, struct ppml_err *err) PPML_WARN_UNUSED;
ppml_status ppml_aead_open(const uint8_t *key, size_t key_len, const uint8_t nonce[12],
			   const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
			   uint8_t *pt, struct ppml_err *err) PPML_WARN_UNUSED;

#endif
