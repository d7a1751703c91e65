/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/serve.h - the attestation service (`ppml serve`).
 *
 * Verifies DCAP quotes (collateral from folders and/or a PCCS), checks the
 * nonce and the REPORTDATA binding, evaluates the named policy, records the
 * verdict in the hash-chained audit log, and answers with a signed ES256
 * token when every check passed.  Policies and credentials are managed over
 * the same API by admin credentials.  Fails closed: an error anywhere is a
 * refusal or a 5xx, never a token.  The HTTP API is in docs/http-api.md.
 *
 * State directory (created by ppml_serve_init):
 *   token.key      P-256 key signing verdict tokens (0600)
 *   token-sim.key  P-256 key signing verdicts on simulated quotes (0600)
 *   nonce.key      32-byte HMAC key of the stateless nonces (0600)
 *   ppml.db        the SQLite store (default --db)
 *   retired/KID.pem, KID.until  token keys replaced by a rotation: still in
 *                  the JWKS until their last token has expired
 */
#ifndef PPML_SERVE_H
#define PPML_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"
#include "ppml/service.h"

struct ppml_serve_config {
	const char *state_dir;             /* required */
	const char *listen;                /* NULL: 127.0.0.1:8443 */
	const char *tls_cert, *tls_key;    /* PEM files; both or neither */
	bool insecure_http;                /* plain HTTP: tests and loopback only */
	const char *db;                    /* NULL: sqlite:STATE/ppml.db */
	const char *master_key;            /* NULL: STATE/master.uri if present (a PKCS#11
					    * URI), else STATE/master.key; or a
					    * "pkcs11:..." URI naming an AES-256 key */
	const char *pccs_url, *pccs_cacert;
	const char *const *collateral_dirs;
	size_t n_collateral_dirs;
	const char *sim_root_ca;           /* the only way a non-Intel chain verifies */
	int64_t token_ttl_s;               /* 0: 300 */
	int64_t nonce_ttl_s;               /* 0: 300 */
	const char *metrics_listen;        /* NULL: no metrics listener */
	const char *issuer;                /* iss; NULL: "ppml-serve" */
	unsigned threads;                  /* 0: 8 */
	unsigned max_connections;          /* 0: 512 */
	unsigned timeout_s;                /* 0: 30 */
	int64_t checkpoint_interval_s;     /* 0: 60 */
	const char *dev_attestation;       /* tests: stands in for /dev/attestation */
	void (*log)(void *ctx, const char *line);  /* one line per request; may be NULL */
	void *log_ctx;
};

/* Creates the state directory's keys and database and the first admin
 * credential, whose secret is written to admin_secret (shown once, never
 * stored).  PPML_E_EXISTS when the directory already holds a service.
 * master_key NULL: a random master key in STATE/master.key (0600); else a
 * PKCS#11 URI ("pkcs11:token=T;object=L?pin-source=file:F", PIN from
 * pin-source or $PKCS11_PIN): the AES-256 key it names is used, or
 * generated inside the token (sensitive, not extractable) when absent, and
 * the URI (no secret in it) is kept in STATE/master.uri. */
ppml_status ppml_serve_init(const char *state_dir, const char *db, const char *master_key,
			    char admin_secret[PPML_CREDENTIAL_LEN + 1],
			    struct ppml_err *err) PPML_WARN_UNUSED;

/* Replaces token.key with a new key; the old one is kept (public part in the
 * JWKS) for keep_s seconds, the longest lifetime of a token it signed.  Takes
 * effect when the service (re)starts.  Audited.  new_kid/old_kid receive
 * the key ids. */
ppml_status ppml_serve_rotate_token_key(const char *state_dir, const char *db, int64_t keep_s,
					char old_kid[97], char new_kid[97],
					struct ppml_err *err) PPML_WARN_UNUSED;

struct ppml_service;
ppml_status ppml_serve_start(const struct ppml_serve_config *c, struct ppml_service **out,
			     struct ppml_err *err) PPML_WARN_UNUSED;
uint16_t ppml_serve_port(const struct ppml_service *s);
uint16_t ppml_serve_metrics_port(const struct ppml_service *s);
/* Periodic work (audit checkpoints); call about once a second. */
void ppml_serve_tick(struct ppml_service *s);
/* Stops listening, signs a final audit checkpoint, frees.  Accepts NULL. */
void ppml_serve_stop(struct ppml_service *s);

#endif
