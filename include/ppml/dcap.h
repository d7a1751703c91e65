/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/dcap.h - DCAP quote verification, with the verdict Intel's QVL/QvE
 * would give (shared/spec/dcap-quote-verification.md section 4).
 *
 * A verifier holds the trust anchors (the pinned Intel SGX Root CA, plus at
 * most one custom root for test and simulation PKIs) and a cache of verified
 * collateral and PCK chains.  It is thread-safe: one verifier may serve every
 * thread of a service.
 */
#ifndef PPML_DCAP_H
#define PPML_DCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/collateral.h"
#include "ppml/err.h"
#include "ppml/quote.h"
#include "ppml/sgx.h"

/* Why a quote failed.  PPML_QV_OK: verified (whatever its TCB status). */
enum ppml_qv_failure {
	PPML_QV_OK = 0,
	PPML_QV_QUOTE_FORMAT,          /* quote does not parse / no PCK chain */
	PPML_QV_COLLATERAL_FORMAT,     /* collateral does not parse */
	PPML_QV_UNTRUSTED_ROOT,        /* chain root is not a trust anchor */
	PPML_QV_PCK_CHAIN,             /* PCK chain structure or a signature in it */
	PPML_QV_CRL,                   /* CRL issuer, extensions or signature */
	PPML_QV_INTERMEDIATE_REVOKED,  /* PCK CA listed in the Root CA CRL */
	PPML_QV_PCK_REVOKED,           /* PCK certificate listed in the PCK CRL */
	PPML_QV_TCB_SIGNING_CHAIN,     /* TCB info / QE identity issuer chain */
	PPML_QV_TCB_SIGNING_REVOKED,   /* TCB signing certificate revoked */
	PPML_QV_TCB_INFO_SIGNATURE,
	PPML_QV_QE_IDENTITY_SIGNATURE,
	PPML_QV_TCB_INFO_MISMATCH,     /* FMSPC / PCE-ID / TEE type vs the PCK certificate */
	PPML_QV_QE_REPORT_SIGNATURE,
	PPML_QV_QE_REPORT_DATA,        /* attestation key not bound to the QE report */
	PPML_QV_QE_IDENTITY_MISMATCH,
	PPML_QV_QUOTE_SIGNATURE,
	PPML_QV_TCB_NOT_SUPPORTED,     /* no TCB level (platform or QE) matches */
	PPML_QV_TCB_REVOKED,           /* platform TCB or QE ISVSVN revoked */
};
/* snake_case name ("quote_signature", ...); never NULL. */
const char *ppml_qv_failure_name(enum ppml_qv_failure f);
/* The attestation service's check category for a failure: "signature_chain"
 * (quote, chains, signatures, trust anchor), "collateral" (collateral format
 * or mismatch) or "tcb" (not supported / revoked); "" for PPML_QV_OK. */
const char *ppml_qv_failure_check(enum ppml_qv_failure f);

struct ppml_verdict {
	enum ppml_qv_failure failure;
	int64_t verified_at;                 /* the verification time used */

	/* Valid when failure == PPML_QV_OK. */
	enum ppml_tcb_status tcb_status;     /* combined platform + QE status (section 4.5) */
	enum ppml_tcb_status platform_tcb_status;
	enum ppml_tcb_status qe_tcb_status;
	char **advisory_ids;                 /* of the matched platform level */
	size_t n_advisory_ids;
	int64_t tcb_date;                    /* of the matched platform level */
	int64_t qe_tcb_date;
	uint32_t tcb_evaluation_data_number; /* of the TCB info */
	int64_t tcb_info_issue_date;         /* of the TCB info (policy: collateral age) */
	bool collateral_expired;             /* QvE's collateral_expiration_status */
	int64_t collateral_expires_at;       /* earliest expiry (section 4.6) */

	/* Trust anchor: valid once the PCK chain's root was identified. */
	bool custom_anchor;                  /* false: Intel's pinned root */
	uint8_t trust_anchor_sha256[32];     /* SHA-256 of the anchor certificate's DER */

	/* Valid when has_quote (the quote parsed). */
	bool has_quote;
	struct ppml_quote_header header;
	struct ppml_sgx_report_body body;
	uint16_t qe_isvsvn;

	/* Valid when has_pck (the PCK certificate parsed). */
	bool has_pck;
	struct ppml_pck_ext pck;
};

/* Frees the advisory IDs; the struct may be reused.  Accepts NULL. */
void ppml_verdict_cleanup(struct ppml_verdict *v);

/* The verdict as one JSON object (snake_case keys, lowercase hex, RFC 3339
 * UTC times): verified, failure, tcb_status, advisory_ids, tcb_date,
 * tcb_evaluation_data_number, collateral_expired, collateral_expires_at,
 * trust_anchor ("intel"|"custom"), trust_anchor_sha256, mrenclave, mrsigner,
 * isvprodid, isvsvn, attributes, debug, report_data, ... .  Returns a new
 * jansson reference (json_t *), NULL on allocation failure. */
struct json_t;
struct json_t *ppml_verdict_json(const struct ppml_verdict *v);

/* The pinned Intel SGX Root CA (DER) and its SHA-256 (section 2). */
extern const uint8_t ppml_intel_sgx_root_ca_der[];
extern const size_t ppml_intel_sgx_root_ca_der_len;
#define PPML_INTEL_ROOT_SHA256 "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"

struct ppml_dcap_verifier;

/* A verifier trusting Intel's pinned root and, when custom_root is non-NULL,
 * also that certificate (PEM or DER, self-signed P-256).  Quotes chained to
 * the custom root are reported with custom_anchor = true: they are
 * *simulated* for every consumer. */
ppml_status ppml_dcap_verifier_new(const uint8_t *custom_root, size_t custom_root_len,
				   struct ppml_dcap_verifier **out,
				   struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_dcap_verifier_free(struct ppml_dcap_verifier *v);

/* Enables (default) or disables the cache of verified collateral sets and
 * PCK chains.  With the cache, signatures already verified are not verified
 * again; times, CRL windows and revocation are still checked against each
 * verification time.  Not to be called concurrently with ppml_dcap_verify. */
void ppml_dcap_verifier_set_cache(struct ppml_dcap_verifier *v, bool enabled);

/* Verifies quote against collateral at Unix time `at` (> 0), following QvE:
 * PCK chain and CRLs, TCB info and QE identity with their signing chain,
 * QE report signature and binding, QE identity, quote signature, TCB level.
 * Expired collateral is not fatal: it sets collateral_expired.
 *
 * Returns PPML_OK when the quote verified (out->failure == PPML_QV_OK, any
 * TCB status); PPML_E_REFUSED when a check failed (out->failure says which,
 * err the detail); PPML_E_INPUT when the quote or the collateral does not
 * parse (out->failure QUOTE_FORMAT / COLLATERAL_FORMAT); other codes for
 * internal failures.  out is always initialised; ppml_verdict_cleanup it. */
ppml_status ppml_dcap_verify(struct ppml_dcap_verifier *v, const uint8_t *quote, size_t quote_len,
			     const struct ppml_collateral *c, int64_t at, struct ppml_verdict *out,
			     struct ppml_err *err) PPML_WARN_UNUSED;

#endif
