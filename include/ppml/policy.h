/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/policy.h - attestation policies: which verified quotes are accepted.
 *
 * A policy is TOML or JSON (unknown keys rejected, with the key's path):
 *
 *   identities = [ { mrenclave = "<64 hex>" },
 *                  { mrsigner = "<64 hex>", isvprodid = 1, min_isvsvn = 2 } ]
 *   allow_debug = false                      # default
 *   accepted_tcb_statuses = ["UpToDate"]     # default
 *   exceptions = [ { status = "OutOfDate", advisory_ids = ["INTEL-SA-00828"],
 *                    expires_at = "2026-12-31T00:00:00Z" } ]
 *   allow_expired_collateral = false         # default
 *   max_collateral_age_s = 2592000           # optional, from the TCB info issueDate
 *   min_tcb_evaluation_data_number = 17      # optional
 *   allow_simulation = false                 # default
 *   audience = "my-relying-party"            # optional: the token's aud
 *
 * An identity entry is {mrenclave}, {mrsigner, isvprodid, min_isvsvn}, or
 * all four; every field of an entry must match, any entry may match.  No
 * entry matches nothing: an empty list refuses every quote.  An exception
 * accepts its status only while expires_at is in the future and only when
 * every advisory ID of the verdict is in its list.
 *
 * Evaluation fails closed: every check must pass.
 */
#ifndef PPML_POLICY_H
#define PPML_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/collateral.h"
#include "ppml/dcap.h"
#include "ppml/err.h"
#include "ppml/limits.h"


struct ppml_policy_identity {
	bool has_mrenclave;
	uint8_t mrenclave[32];
	bool has_mrsigner;                 /* then isvprodid and min_isvsvn are set too */
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	uint16_t min_isvsvn;
};

struct ppml_policy_exception {
	enum ppml_tcb_status status;
	char **advisory_ids;
	size_t n_advisory_ids;
	int64_t expires_at;
};

struct ppml_policy {
	struct ppml_policy_identity *identities;
	size_t n_identities;
	bool allow_debug;
	uint32_t accepted_statuses;        /* bit (1u << status) per accepted status */
	struct ppml_policy_exception *exceptions;
	size_t n_exceptions;
	bool allow_expired_collateral;
	bool has_max_collateral_age;
	int64_t max_collateral_age_s;
	bool has_min_tcb_evaluation_data_number;
	uint32_t min_tcb_evaluation_data_number;
	bool allow_simulation;
	char *audience;                    /* NULL when unset */
};

/* Parses a policy; format by content (a JSON document starts with "{").
 * PPML_E_INPUT names the key path and what was expected.  Free with
 * ppml_policy_free. */
ppml_status ppml_policy_parse(const char *text, size_t len, struct ppml_policy **out,
			      struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_policy_free(struct ppml_policy *p);

/* The canonical JSON of a policy: every field present (defaults written
 * out), keys sorted, compact, lowercase hex, RFC 3339 times.  Two policies
 * that mean the same have the same bytes; its SHA-256 (lowercase hex) is the
 * token's policy_sha256.  *out is malloc'ed. */
ppml_status ppml_policy_canonical(const struct ppml_policy *p, char **out, char sha256_hex[65],
				  struct ppml_err *err) PPML_WARN_UNUSED;

/* A policy name: 1..128 of [A-Za-z0-9._-], not starting with '.'. */
bool ppml_policy_name_ok(const char *name);

enum ppml_check {
	PPML_CHECK_SKIPPED = 0,
	PPML_CHECK_PASS,
	PPML_CHECK_FAIL,
};
/* "pass" / "fail" / "skipped". */
const char *ppml_check_name(enum ppml_check c);

#define PPML_POLICY_MAX_REASONS 16

struct ppml_policy_result {
	bool accepted;
	enum ppml_check signature_chain, collateral, tcb, debug, identity;
	bool under_exception;              /* the TCB status was accepted by an exception */
	char reasons[PPML_POLICY_MAX_REASONS][256];
	size_t n_reasons;
};

/*
 * Evaluates a verdict (from ppml_dcap_verify, successful or not) at time
 * now.  A verdict whose trust anchor is not Intel's is simulated: refused
 * (signature_chain) unless allow_simulation.  When verification failed, the
 * failing check is the one the failure belongs to and the later ones are
 * skipped.
 */
void ppml_policy_eval(const struct ppml_policy *p, const struct ppml_verdict *v, int64_t now,
		      struct ppml_policy_result *out);

#endif
