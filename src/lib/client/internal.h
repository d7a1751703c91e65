/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the files of src/lib/client; not a public interface. */
#ifndef PPML_CLIENT_INTERNAL_H
#define PPML_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ppml/client.h"

/* base: the service URL without trailing '/' (at most 2048 bytes).  A fresh
 * nonce from POST /v1/attest/nonce: its bytes (at most 64) and its base64
 * text (at most 100 characters) as the service sent it.  *status: the HTTP
 * status (0 when no answer came). */
ppml_status client_nonce(const struct ppml_attest_opts *o, char base[2049], uint8_t nonce[64],
			 size_t *nonce_len, char nonce_b64[101], long *status,
			 struct ppml_err *err);

/* Tries of an attestation or a release before giving up. */
#define CLIENT_TRIES 3
/* Whether a failed try is worth another, from the start (a fresh nonce and
 * quote): no answer came (status 0: the replica answering went away), the
 * service said 502, 503 or 504, or it refused with the nonce as the only
 * failed check (answer: the refusal) - the request was re-sent by the
 * transport after its replica died, and met its own nonce consumed.  Then
 * waits a little longer after each try. */
bool client_retry(ppml_status rc, long status, const json_t *answer, int tries_done);
/* Base64 (RFC 4648) of p, malloc'ed. */
char *client_b64(const uint8_t *p, size_t n);

#endif
