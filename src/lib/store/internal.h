/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the files of src/lib/store; not a public interface.
 *
 * Each backend embeds struct ppml_store as its first member and fills in
 * an ops table; store.c chooses the backend from the URL scheme and
 * forwards every public call through the table.  The contracts are those
 * of ppml/store.h, function by function. */
#ifndef PPML_STORE_INTERNAL_H
#define PPML_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ppml/store.h"

struct ppml_store_ops {
	void (*close)(struct ppml_store *s);
	bool (*ping)(struct ppml_store *s);

	ppml_status (*policy_put)(struct ppml_store *s, const char *name, const char *body,
				  const char *sha256, int64_t now, uint32_t *version,
				  struct ppml_err *err);
	ppml_status (*policy_get)(struct ppml_store *s, const char *name, uint32_t version,
				  struct ppml_policy_rec *out, struct ppml_err *err);
	ppml_status (*policy_delete)(struct ppml_store *s, const char *name, int64_t now,
				     struct ppml_err *err);
	ppml_status (*policy_list)(struct ppml_store *s, struct ppml_policy_rec **out, size_t *n,
				   struct ppml_err *err);

	ppml_status (*cred_add)(struct ppml_store *s, const char *id, const uint8_t sha256[32],
				const char *role, int64_t now, struct ppml_err *err);
	ppml_status (*cred_get)(struct ppml_store *s, const char *id, uint8_t sha256[32],
				char role[160], struct ppml_err *err);
	ppml_status (*cred_revoke)(struct ppml_store *s, const char *id, int64_t now,
				   struct ppml_err *err);
	ppml_status (*cred_count)(struct ppml_store *s, const char *role, size_t *n,
				  struct ppml_err *err);

	ppml_status (*nonce_consume)(struct ppml_store *s, const uint8_t nonce_sha256[32],
				     int64_t expires_at, int64_t now, bool *first,
				     struct ppml_err *err);

	ppml_status (*key_create)(struct ppml_store *s, const struct ppml_key_rec *k,
				  const uint8_t *wrapped, size_t wrapped_len, int64_t now,
				  struct ppml_err *err);
	ppml_status (*key_get)(struct ppml_store *s, const char *name, struct ppml_key_rec *out,
			       struct ppml_err *err);
	ppml_status (*key_version)(struct ppml_store *s, const char *name, uint32_t version,
				   uint8_t **wrapped, size_t *wrapped_len, struct ppml_err *err);
	ppml_status (*key_add_version)(struct ppml_store *s, const char *name,
				       uint32_t expected_version, const uint8_t *wrapped,
				       size_t wrapped_len, int64_t now, uint32_t *version,
				       struct ppml_err *err);
	ppml_status (*key_set_state)(struct ppml_store *s, const char *name, const char *state,
				     struct ppml_err *err);
	ppml_status (*key_list)(struct ppml_store *s, struct ppml_key_rec **out, size_t *n,
				struct ppml_err *err);
	ppml_status (*key_destroy)(struct ppml_store *s, const char *name, struct ppml_err *err);

	ppml_status (*audit_append)(struct ppml_store *s, const char *kind, const json_t *body,
				    int64_t now, uint64_t *seq, uint8_t hash[32],
				    struct ppml_err *err);
	ppml_status (*audit_head)(struct ppml_store *s, uint64_t *seq, uint8_t hash[32],
				  struct ppml_err *err);
	ppml_status (*audit_read)(struct ppml_store *s, uint64_t from, size_t max, json_t **out,
				  struct ppml_err *err);
	ppml_status (*checkpoint_add)(struct ppml_store *s, uint64_t seq, const uint8_t hash[32],
				      int64_t now, const char *kid, const char *signature,
				      struct ppml_err *err);
	ppml_status (*checkpoints)(struct ppml_store *s, json_t **out, struct ppml_err *err);
};

struct ppml_store {
	const struct ppml_store_ops *ops;
};

/* The backends' constructors.  path: what follows "sqlite:"; url: the whole
 * libpq connection URI. */
ppml_status store_sqlite_open(const char *path, struct ppml_store **out, struct ppml_err *err);
ppml_status store_pg_open(const char *url, struct ppml_store **out, struct ppml_err *err);

/* The next audit hash: SHA-256(prev || ppml_audit_canonical(seq, time, kind,
 * body)), the same bytes in every backend (ppml audit verify recomputes it). */
ppml_status store_audit_hash(const uint8_t prev[32], uint64_t seq, int64_t time, const char *kind,
			     const json_t *body, uint8_t hash[32], struct ppml_err *err);

/* The JSON of one audit entry and one checkpoint as ppml_store_audit_read and
 * ppml_store_checkpoints return them (body_text: the stored JSON text; a
 * hash of another length than 32 becomes null). */
json_t *store_audit_entry_json(uint64_t seq, int64_t time, const char *kind,
			       const char *body_text, const void *prev, size_t prev_len,
			       const void *hash, size_t hash_len);
json_t *store_checkpoint_json(uint64_t seq, const void *hash, size_t hash_len, int64_t time,
			      const char *kid, const char *signature);

#endif
