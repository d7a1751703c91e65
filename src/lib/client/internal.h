/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the files of src/lib/client; not a public interface. */
#ifndef PPML_CLIENT_INTERNAL_H
#define PPML_CLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ppml/client.h"

/* base: the service URL without trailing '/' (at most 2048 bytes).  A fresh
 * nonce from POST /v1/attest/nonce: its bytes (at most 64) and its base64
 * text (at most 100 characters) as the service sent it. */
ppml_status client_nonce(const struct ppml_attest_opts *o, char base[2049], uint8_t nonce[64],
			 size_t *nonce_len, char nonce_b64[101], struct ppml_err *err);
/* Base64 (RFC 4648) of p, malloc'ed. */
char *client_b64(const uint8_t *p, size_t n);

#endif
