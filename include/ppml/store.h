/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/store.h - the attestation service's durable state.
 *
 * One interface, several backends, chosen by the URL's scheme when the store
 * is opened (src/lib/store/store.c dispatches every call):
 *   sqlite:PATH     one process: WAL, synchronous = FULL, so a call that
 *                   returned PPML_OK is on disk.
 *   postgresql://... or postgres://... (a libpq connection URI): one database
 *                   shared by several replicas.  Schema migrations run at open
 *                   inside a transaction holding an advisory lock (one replica
 *                   migrates, the others wait); every write is committed, with
 *                   synchronous_commit on, before PPML_OK; the server decides
 *                   what must hold across replicas (one consumer per nonce, one
 *                   linear audit chain).  A password in the URI is never part
 *                   of a message.
 * Holds versioned policies, credentials (SHA-256 of the secret only), consumed
 * nonces (until they expire), the wrapped keys of the key service, and the
 * hash-chained audit log with its signed checkpoints.  Never holds a secret.
 *
 * Thread-safe: calls may come from any thread.
 */
#ifndef PPML_STORE_H
#define PPML_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"

struct json_t;
struct ppml_store;

#define PPML_STORE_SCHEMA_VERSION 1

/* Opens (creating and migrating) the store at url.  PPML_E_INPUT for an
 * unknown scheme, PPML_E_LIMIT for a url longer than PPML_STORE_MAX_URL.
 * Close with ppml_store_close (accepts NULL). */
ppml_status ppml_store_open(const char *url, struct ppml_store **out,
			    struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_store_close(struct ppml_store *s);
/* True when the store answers a trivial query (GET /healthz): for PostgreSQL
 * "SELECT 1" on a pooled connection, remade when the server went away. */
bool ppml_store_ping(struct ppml_store *s);

/* ---- policies: every put is a new version; delete hides the name ---- */

struct ppml_policy_rec {
	char name[129];
	uint32_t version;
	char *body;                    /* canonical JSON (malloc'ed) */
	char sha256[65];
	int64_t created_at;
};
void ppml_policy_rec_cleanup(struct ppml_policy_rec *r);

ppml_status ppml_store_policy_put(struct ppml_store *s, const char *name, const char *body,
				  const char *sha256, int64_t now, uint32_t *version,
				  struct ppml_err *err) PPML_WARN_UNUSED;
/* version 0: the latest.  PPML_E_NOTFOUND when absent or deleted. */
ppml_status ppml_store_policy_get(struct ppml_store *s, const char *name, uint32_t version,
				  struct ppml_policy_rec *out, struct ppml_err *err) PPML_WARN_UNUSED;
ppml_status ppml_store_policy_delete(struct ppml_store *s, const char *name, int64_t now,
				     struct ppml_err *err) PPML_WARN_UNUSED;
/* The latest version of every live policy, by name.  Free with
 * ppml_policy_rec_cleanup on each, then free(*out). */
ppml_status ppml_store_policy_list(struct ppml_store *s, struct ppml_policy_rec **out, size_t *n,
				   struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- credentials ---- */

ppml_status ppml_store_cred_add(struct ppml_store *s, const char *id, const uint8_t sha256[32],
				const char *role, int64_t now, struct ppml_err *err) PPML_WARN_UNUSED;
/* The live credential with this id: its stored hash and role (the caller
 * compares the hash in constant time).  PPML_E_NOTFOUND otherwise. */
ppml_status ppml_store_cred_get(struct ppml_store *s, const char *id, uint8_t sha256[32],
				char role[160], struct ppml_err *err) PPML_WARN_UNUSED;
/* PPML_E_NOTFOUND for an unknown or already revoked id. */
ppml_status ppml_store_cred_revoke(struct ppml_store *s, const char *id, int64_t now,
				   struct ppml_err *err) PPML_WARN_UNUSED;
/* How many live credentials have this role. */
ppml_status ppml_store_cred_count(struct ppml_store *s, const char *role, size_t *n,
				  struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- nonces: consumed once ---- */

/* Records the nonce as consumed; *first is false when it already was.
 * Atomic across threads (and, for shared backends, replicas).  Expired
 * records are purged on the way. */
ppml_status ppml_store_nonce_consume(struct ppml_store *s, const uint8_t nonce_sha256[32],
				     int64_t expires_at, int64_t now, bool *first,
				     struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- keys of the key service: primary keys, wrapped by the master key ---- */

struct ppml_key_rec {
	char name[129];
	char type[32];                 /* "aes-256-gcm" or "gramine-pf" */
	char state[16];                /* "enabled", "disabled", "destroyed" */
	char release_policy[129];
	uint32_t version;              /* the current (latest) version */
	int64_t created_at;
};

/* Creates NAME with version 1 (its wrapped primary key).  PPML_E_EXISTS when
 * the name is taken. */
ppml_status ppml_store_key_create(struct ppml_store *s, const struct ppml_key_rec *k,
				  const uint8_t *wrapped, size_t wrapped_len, int64_t now,
				  struct ppml_err *err) PPML_WARN_UNUSED;
ppml_status ppml_store_key_get(struct ppml_store *s, const char *name, struct ppml_key_rec *out,
			       struct ppml_err *err) PPML_WARN_UNUSED;
/* The wrapped primary key of one version (*wrapped malloc'ed). */
ppml_status ppml_store_key_version(struct ppml_store *s, const char *name, uint32_t version,
				   uint8_t **wrapped, size_t *wrapped_len,
				   struct ppml_err *err) PPML_WARN_UNUSED;
/* Adds the next version (rotation); *version receives it. */
ppml_status ppml_store_key_add_version(struct ppml_store *s, const char *name,
				       uint32_t expected_version, const uint8_t *wrapped,
				       size_t wrapped_len, int64_t now, uint32_t *version,
				       struct ppml_err *err) PPML_WARN_UNUSED;
ppml_status ppml_store_key_set_state(struct ppml_store *s, const char *name, const char *state,
				     struct ppml_err *err) PPML_WARN_UNUSED;
ppml_status ppml_store_key_list(struct ppml_store *s, struct ppml_key_rec **out, size_t *n,
				struct ppml_err *err) PPML_WARN_UNUSED;
/* Destroys NAME, in one transaction: its state becomes "destroyed" (for
 * good) and every wrapped version is deleted, so no data key made under it
 * unwraps again.  SQLite overwrites the deleted rows (secure_delete) and
 * checkpoints the WAL; PostgreSQL keeps dead rows until VACUUM reuses them,
 * still wrapped by the master key.  PPML_E_NOTFOUND when there is no such
 * key, PPML_E_EXISTS when it is already destroyed. */
ppml_status ppml_store_key_destroy(struct ppml_store *s, const char *name,
				   struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- the audit log ---- */

/* Appends {seq, time, kind, body} chained to the previous entry:
 * hash = SHA-256(prev_hash || canonical JSON of the entry), prev_hash of the
 * first entry 32 zero bytes.  body is borrowed. */
ppml_status ppml_store_audit_append(struct ppml_store *s, const char *kind,
				    const struct json_t *body, int64_t now, uint64_t *seq,
				    uint8_t hash[32], struct ppml_err *err) PPML_WARN_UNUSED;
/* The head: last seq (0 when empty) and its hash. */
ppml_status ppml_store_audit_head(struct ppml_store *s, uint64_t *seq, uint8_t hash[32],
				  struct ppml_err *err) PPML_WARN_UNUSED;
/* Entries with seq >= from, at most max, as a JSON array of
 * {seq, time, kind, body, prev_hash, hash}. */
ppml_status ppml_store_audit_read(struct ppml_store *s, uint64_t from, size_t max,
				  struct json_t **out, struct ppml_err *err) PPML_WARN_UNUSED;
/* A signed checkpoint of the head; and all checkpoints as a JSON array of
 * {seq, hash, time, kid, signature}. */
ppml_status ppml_store_checkpoint_add(struct ppml_store *s, uint64_t seq, const uint8_t hash[32],
				      int64_t now, const char *kid, const char *signature,
				      struct ppml_err *err) PPML_WARN_UNUSED;
ppml_status ppml_store_checkpoints(struct ppml_store *s, struct json_t **out,
				   struct ppml_err *err) PPML_WARN_UNUSED;

/* The canonical bytes an audit entry's hash covers. */
char *ppml_audit_canonical(uint64_t seq, int64_t time, const char *kind, const struct json_t *body);

#endif
