/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/ec.h - ECDSA P-256 in the raw encodings SGX and JOSE use.
 *
 * SGX quotes and JWS (ES256) both carry a P-256 public key as X || Y and a
 * signature as r || s (32 bytes each, big-endian); OpenSSL speaks SEC1
 * points and DER signatures.  These convert and sign/verify.  Thread-safe.
 */
#ifndef PPML_EC_H
#define PPML_EC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* A new P-256 key pair, or NULL. */
EVP_PKEY *ppml_ec_generate(void);
/* True for an EC key on P-256. */
bool ppml_ec_is_p256(EVP_PKEY *k);
/* A P-256 public key from X || Y, or NULL when the point is not on the curve. */
EVP_PKEY *ppml_ec_from_raw(const uint8_t xy[64]);
/* X || Y of a P-256 key (public or private). */
bool ppml_ec_to_raw(EVP_PKEY *k, uint8_t xy[64]);
/* ECDSA-SHA256 over msg as r || s. */
bool ppml_ec_sign_raw(EVP_PKEY *k, const uint8_t *msg, size_t len, uint8_t sig[64]);
/* Verifies an r || s ECDSA-SHA256 signature (the OpenSSL error queue is cleared). */
bool ppml_ec_verify_raw(EVP_PKEY *k, const uint8_t *msg, size_t len, const uint8_t sig[64]);
/* r || s to a DER ECDSA-Sig-Value (at most 72 bytes); returns its length. */
size_t ppml_ec_sig_raw_to_der(const uint8_t raw[64], uint8_t der[72]);

#endif
