/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/keysvc.h - the key service's formats, shared by `ppml serve` and its
 * clients.
 *
 * A wrapped data key ("PWK1", version 1) is what the service hands out and
 * what encrypted files carry in their header:
 *   "PWK1" | u8 type (1 aes-256-gcm: 32-byte key, 2 gramine-pf: 16) |
 *   u32be primary key version | u8 name length | key name |
 *   12-byte nonce | AES-256-GCM(primary key, data key) | 16-byte tag
 * with AAD = key name || u32be version.  Only the service can open it.
 *
 * A release answer is HPKE base mode (DHKEM(P-256, HKDF-SHA256),
 * HKDF-SHA256, AES-256-GCM) to the enclave's per-request key, with
 * info = "ppml-release-v1" || key name || u32be version and aad = nonce.
 */
#ifndef PPML_KEYSVC_H
#define PPML_KEYSVC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ppml/envelope.h"
#include "ppml/err.h"
#include "ppml/hpke.h"

#define PPML_WDK_MAGIC      "PWK1"
#define PPML_WDK_AES256     1u
#define PPML_WDK_GRAMINE_PF 2u

struct ppml_wdk {
	uint8_t type;
	uint32_t version;
	char name[129];
	size_t key_len;                /* 32 or 16 */
	const uint8_t *sealed;         /* points into the parsed blob */
	size_t sealed_len;
};

/* Parses a PWK1 blob (nothing is decrypted). */
ppml_status ppml_wdk_parse(const uint8_t *b, size_t n, struct ppml_wdk *out,
			   struct ppml_err *err) PPML_WARN_UNUSED;

/* Opens a release answer with the enclave's private key: the data key
 * (key_len bytes) into dk.  PPML_E_REFUSED when it does not open. */
ppml_status ppml_release_open(EVP_PKEY *enclave_key, const char *key_name, uint32_t version,
			      const uint8_t *nonce, size_t nonce_len,
			      const uint8_t enc[PPML_HPKE_ENC_LEN], const uint8_t *ct, size_t ct_len,
			      uint8_t *dk, struct ppml_err *err) PPML_WARN_UNUSED;

#endif
