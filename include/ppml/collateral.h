/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/collateral.h - DCAP verification collateral: the raw set a verifier
 * needs (TCB info, QE identity, CRLs and their issuer chains), the folder
 * format that holds it, and strict parsers for Intel's TCB info and QE
 * identity JSON (shared/spec/dcap-quote-verification.md sections 4.2, 4.3).
 *
 * Thread safety: none of these functions share state.
 */
#ifndef PPML_COLLATERAL_H
#define PPML_COLLATERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"

/* TCB statuses as Intel names them in JSON (section 4.2). */
enum ppml_tcb_status {
	PPML_TCB_UP_TO_DATE = 0,
	PPML_TCB_SW_HARDENING_NEEDED,
	PPML_TCB_CONFIGURATION_NEEDED,
	PPML_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	PPML_TCB_OUT_OF_DATE,
	PPML_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	PPML_TCB_REVOKED,
};
/* "UpToDate", "SWHardeningNeeded", ... ; never NULL. */
const char *ppml_tcb_status_name(enum ppml_tcb_status s);
/* Exact, case-sensitive match of the names above. */
bool ppml_tcb_status_from_name(const char *name, enum ppml_tcb_status *out);

/* One collateral set as fetched: every member is a malloc'ed copy of the
 * bytes as served (JSON bodies, PEM chains, CRLs as DER, PEM or hex of the
 * DER).  Start from {0}; ppml_collateral_cleanup frees. */
struct ppml_collateral {
	uint8_t *tcb_info;                 size_t tcb_info_len;
	uint8_t *tcb_info_issuer_chain;    size_t tcb_info_issuer_chain_len;
	uint8_t *qe_identity;              size_t qe_identity_len;
	uint8_t *qe_identity_issuer_chain; size_t qe_identity_issuer_chain_len;
	uint8_t *pck_crl;                  size_t pck_crl_len;
	uint8_t *pck_crl_issuer_chain;     size_t pck_crl_issuer_chain_len;
	uint8_t *root_ca_crl;              size_t root_ca_crl_len;
};

/* File names in a collateral folder (issue 6), in the member order above. */
#define PPML_COLLATERAL_NFILES 7
extern const char *const ppml_collateral_files[PPML_COLLATERAL_NFILES];

/* Reads the seven files of DIR (each bounded by PPML_COLLATERAL_MAX_FILE).
 * PPML_E_NOTFOUND names the first missing file. */
ppml_status ppml_collateral_load_dir(const char *dir, struct ppml_collateral *c,
				     struct ppml_err *err) PPML_WARN_UNUSED;
/* Writes the seven files into DIR (created 0755 if missing) all-or-nothing:
 * nothing is replaced unless every file was staged.  CRLs are written as
 * given (callers store DER). */
ppml_status ppml_collateral_save_dir(const char *dir, const struct ppml_collateral *c,
				     struct ppml_err *err) PPML_WARN_UNUSED;
/* Deep copy.  dst must be {0} or cleaned up. */
ppml_status ppml_collateral_copy(struct ppml_collateral *dst, const struct ppml_collateral *src,
				 struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_collateral_cleanup(struct ppml_collateral *c);

/* A CRL as DER: accepts DER, PEM ("-----BEGIN X509 CRL-----") or hex of
 * the DER (what a PCCS serves by default).  *der is malloc'ed. */
ppml_status ppml_crl_to_der(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len,
			    struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- TCB info (section 4.2) ---- */

struct ppml_tcb_level {
	uint8_t comp_svn[16];
	uint16_t pcesvn;
	enum ppml_tcb_status status;
	int64_t tcb_date;                  /* Unix seconds */
	char **advisory_ids;               /* may be NULL when n_advisory_ids == 0 */
	size_t n_advisory_ids;
};

struct ppml_tcb_info {
	uint32_t version;                  /* 2 or 3 */
	char id[4];                        /* "SGX" ("" in v2: implicitly SGX) */
	int64_t issue_date, next_update;
	uint8_t fmspc[6];
	uint8_t pceid[2];
	uint32_t tcb_type;
	uint32_t tcb_evaluation_data_number;
	struct ppml_tcb_level *levels;     /* sorted descending as QVL orders them */
	size_t n_levels;
	uint8_t signature[64];             /* r || s */
	uint8_t *signed_body;              /* the compact serialisation of "tcbInfo" */
	size_t signed_len;
};

/* Parses `{"tcbInfo":{...},"signature":"<128 hex>"}` strictly (unknown
 * statuses, bad dates, wrong hex lengths, duplicate levels, a TDX TCB info:
 * PPML_E_INPUT naming the field).  Fills out->signed_body with the bytes the
 * signature covers: the tcbInfo object re-serialised compactly in input key
 * order, as QVL does.  Call ppml_tcb_info_cleanup even on failure. */
ppml_status ppml_tcb_info_parse(const uint8_t *json, size_t len, struct ppml_tcb_info *out,
				struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_tcb_info_cleanup(struct ppml_tcb_info *t);

/* ---- QE identity (section 4.3) ---- */

struct ppml_qe_level {
	uint16_t isvsvn;
	enum ppml_tcb_status status;
	int64_t tcb_date;
	char **advisory_ids;
	size_t n_advisory_ids;
};

struct ppml_qe_identity {
	uint32_t version;                  /* 2 */
	char id[8];                        /* "QE", "QVE" or "TD_QE" */
	int64_t issue_date, next_update;
	uint32_t tcb_evaluation_data_number;
	uint8_t miscselect[4], miscselect_mask[4];
	uint8_t attributes[16], attributes_mask[16];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	struct ppml_qe_level *levels;      /* JSON order (QVL walks them in order) */
	size_t n_levels;
	uint8_t signature[64];
	uint8_t *signed_body;
	size_t signed_len;
};

ppml_status ppml_qe_identity_parse(const uint8_t *json, size_t len, struct ppml_qe_identity *out,
				   struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_qe_identity_cleanup(struct ppml_qe_identity *q);

#endif
