/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/service.h - the pieces of the attestation service that clients and
 * auditors share: nonces, the REPORTDATA binding, credentials, and the
 * audit chain's checkpoints and verification.
 */
#ifndef PPML_SERVICE_H
#define PPML_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ppml/err.h"

struct json_t;
struct ppml_jwks;

/* ---- nonces: stateless, 32 random bytes || u64be expiry || HMAC-SHA256[0:24] ---- */

#define PPML_NONCE_LEN 64

ppml_status ppml_nonce_new(const uint8_t key[32], int64_t now, int64_t ttl_s,
			   uint8_t out[PPML_NONCE_LEN], int64_t *expires_at,
			   struct ppml_err *err) PPML_WARN_UNUSED;
/* PPML_E_REFUSED ("not issued by this service" / "expired"); the MAC is
 * compared in constant time. */
ppml_status ppml_nonce_check(const uint8_t key[32], const uint8_t *nonce, size_t len, int64_t now,
			     int64_t *expires_at, struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- REPORTDATA[0:32] binding (REPORTDATA[32:64] must be zero) ---- */

#define PPML_BIND_ATTEST  "ppml-attest-v1"
#define PPML_BIND_RELEASE "ppml-release-v1"
/* SHA-256(label "\0" || u32be(len(nonce)) || nonce || u32be(len(data)) || data). */
void ppml_report_data_binding(const char *label, const uint8_t *nonce, size_t nonce_len,
			      const uint8_t *data, size_t data_len, uint8_t out[32]);

/* ---- credentials: "ppml_" + base64url of 32 random bytes ---- */

#define PPML_CREDENTIAL_LEN 48  /* strlen of a secret */
/* A new secret, its SHA-256 (what is stored) and its id (16 hex digits of
 * that hash: safe to log). */
ppml_status ppml_credential_new(char secret[PPML_CREDENTIAL_LEN + 1], uint8_t sha256[32],
				char id[17], struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_credential_hash(const char *secret, uint8_t out[32]);
/* A role: "admin", "metrics", or "encrypt:<key name>". */
bool ppml_role_ok(const char *role);

/* ---- the audit chain ---- */

/* ES256 over "ppml-audit-checkpoint-v1\0" || u64be(seq) || hash, base64url r||s. */
ppml_status ppml_audit_sign_checkpoint(EVP_PKEY *key, uint64_t seq, const uint8_t hash[32],
				       char sig[90], struct ppml_err *err) PPML_WARN_UNUSED;
/* Verifies entries (as GET /v1/audit returns them, from seq 1, contiguous)
 * hash by hash, and every checkpoint's signature (with the key set) and its
 * place in the chain.  PPML_E_REFUSED names the first entry or checkpoint
 * that does not hold. */
ppml_status ppml_audit_verify(const struct json_t *entries, const struct json_t *checkpoints,
			      const struct ppml_jwks *jwks, uint64_t *n_entries,
			      size_t *n_checkpoints, struct ppml_err *err) PPML_WARN_UNUSED;

#endif
