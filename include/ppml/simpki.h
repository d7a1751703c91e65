/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/simpki.h - a simulation PKI shaped like Intel's SGX provisioning PKI.
 *
 * Generates, with OpenSSL, everything a DCAP verifier consumes, under a root
 * that is NOT Intel's: a root CA ("... SGX Root CA"), a PCK CA ("... SGX PCK
 * Processor CA" or "... Platform CA"), a PCK certificate with the SGX
 * extension (FMSPC, PCE-ID, TCB SVNs, PCESVN, CPUSVN), a TCB signing
 * certificate, CRLs, signed TCB info (v2 or v3) and QE identity, and quotes
 * (v3, or v4 with certification data type 6) for any report body, signed by a
 * generated quoting-enclave attestation key.  All keys are ECDSA P-256.
 *
 * Quotes from this PKI verify only with its root passed as the verifier's
 * custom root (ppml_dcap_verifier_new), and every verdict on them then says
 * trust_anchor "custom": they are simulated everywhere downstream.  Tests use
 * it to cover every verification failure; `ppml sim` reuses it for stage 1.
 *
 * Thread safety: a struct ppml_simpki may be used by one thread at a time.
 */
#ifndef PPML_SIMPKI_H
#define PPML_SIMPKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/collateral.h"
#include "ppml/err.h"
#include "ppml/sgx.h"

/* The platform the PKI certifies.  Zero fields take the defaults noted. */
struct ppml_simpki_params {
	int64_t not_before;      /* certificates valid from (Unix s); 0: now - 1 day */
	int64_t not_after;       /* until; 0: not_before + 10 years */
	bool platform_ca;        /* PCK issued by a "Platform CA" (7-entry extension);
				  * false: a "Processor CA" (5 entries) */
	bool set_fmspc;          /* false: fmspc ff50504d4c00 ("ff" + "PPML", never Intel's) */
	uint8_t fmspc[6];
	uint8_t pceid[2];        /* 0000 is Intel's only PCE-ID */
	bool set_tcb;            /* false: comp_svn {13,13,2,4,1,128,0,...}, pcesvn 13 */
	uint8_t comp_svn[16];
	uint16_t pcesvn;
	uint16_t qe_isvsvn;      /* the QE report's ISVSVN; 0: 8 */
};

struct ppml_simpki;

/* Generates a fresh PKI (five P-256 keys, four certificates).  Free with
 * ppml_simpki_free. */
ppml_status ppml_simpki_new(const struct ppml_simpki_params *p, struct ppml_simpki **out,
			    struct ppml_err *err) PPML_WARN_UNUSED;
/* Wipes and frees every key.  Accepts NULL. */
void ppml_simpki_free(struct ppml_simpki *pki);

/* The root certificate as DER (*der malloc'ed; the caller frees) or as PEM
 * (NUL-terminated, *len excludes the NUL). */
ppml_status ppml_simpki_root_der(const struct ppml_simpki *pki, uint8_t **der, size_t *len,
				 struct ppml_err *err) PPML_WARN_UNUSED;
ppml_status ppml_simpki_root_pem(const struct ppml_simpki *pki, char **pem, size_t *len,
				 struct ppml_err *err) PPML_WARN_UNUSED;
/* The parameters in effect (defaults filled in). */
const struct ppml_simpki_params *ppml_simpki_get_params(const struct ppml_simpki *pki);
/* MRSIGNER of the simulated quoting enclave (what its QE identity names). */
void ppml_simpki_qe_mrsigner(const struct ppml_simpki *pki, uint8_t out[32]);

/* ---- persistence (`ppml sim init`) ---- */

/* Folder layout, format version 1:
 *   pki.json   {"format":"ppml-sim-pki","version":1,...}: parameters, PPID, QE
 *              identity, the root's SHA-256 (0644)
 *   keys.pem   the five private keys, PKCS#8 PEM, unencrypted (0600): simulation
 *              keys, worthless outside this PKI, but still private to the user
 *   certs.pem  root, PCK CA, PCK, TCB signing certificates (0644)
 *   root.pem   the root alone, for `--root-ca` / `ppml serve --sim-root-ca` (0644)
 * Save creates dir (0700) if needed and writes all-or-nothing; with
 * no_clobber an existing pki.json is PPML_E_EXISTS. */
#define PPML_SIMPKI_FORMAT_VERSION 1
ppml_status ppml_simpki_save(const struct ppml_simpki *pki, const char *dir, bool no_clobber,
			     struct ppml_err *err) PPML_WARN_UNUSED;
/* Loads a saved PKI, checking every certificate against its key.
 * PPML_E_NOTFOUND when dir holds no pki.json. */
ppml_status ppml_simpki_load(const char *dir, struct ppml_simpki **out,
			     struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- collateral ---- */

struct ppml_simpki_tcb_level {
	uint8_t comp_svn[16];
	uint16_t pcesvn;
	enum ppml_tcb_status status;
	int64_t tcb_date;
	const char *const *advisory_ids;
	size_t n_advisory_ids;
};

struct ppml_simpki_qe_level {
	uint16_t isvsvn;
	enum ppml_tcb_status status;   /* no SWHardening statuses (QE identity format) */
	int64_t tcb_date;
	const char *const *advisory_ids;
	size_t n_advisory_ids;
};

/* What ppml_simpki_collateral writes.  Zero fields take the defaults noted. */
struct ppml_simpki_collateral_params {
	int64_t issue_date;             /* TCB info / QE identity issueDate; 0: now */
	int64_t next_update;            /* their nextUpdate; 0: issue_date + 30 days */
	int64_t crl_this_update;        /* both CRLs; 0: issue_date */
	int64_t crl_next_update;        /* both CRLs; 0: next_update */
	unsigned tcb_info_version;      /* 2 or 3; 0: 3 */
	uint32_t tcb_evaluation_data_number; /* 0: 17 */
	const uint8_t *fmspc;           /* NULL: the PKI's (a mismatch test sets another) */
	const uint8_t *pceid;           /* NULL: the PKI's */
	const struct ppml_simpki_tcb_level *levels; /* NULL: one UpToDate level = the PKI's TCB */
	size_t n_levels;
	const struct ppml_simpki_qe_level *qe_levels; /* NULL: one UpToDate level = qe_isvsvn */
	size_t n_qe_levels;
	bool qe_other_mrsigner;         /* the QE identity names another MRSIGNER */
	bool revoke_pck;                /* the PCK CRL lists the PCK certificate */
	bool revoke_pck_ca;             /* the Root CA CRL lists the PCK CA */
	bool revoke_tcb_signer;         /* the Root CA CRL lists the TCB signing certificate */
};

/* A complete collateral set in the folder format (issue 6): TCB info and QE
 * identity JSON (signed, Intel's member order), their issuer chains (TCB
 * signing certificate, root; PEM), the PCK CRL (DER, issued by the PCK CA)
 * with its issuer chain (PCK CA, root) and the Root CA CRL (DER).  out must
 * be {0}; on failure it stays empty. */
ppml_status ppml_simpki_collateral(const struct ppml_simpki *pki,
				   const struct ppml_simpki_collateral_params *p,
				   struct ppml_collateral *out, struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- quotes ---- */

struct ppml_simpki_quote_params {
	unsigned version;               /* 3 or 4; 0: 3 */
	/* Replaces the certification data (normally the PEM chain PCK, PCK CA,
	 * root with a trailing NUL): tests splice in altered chains. */
	const uint8_t *cert_data;
	size_t cert_data_len;
};

/* A quote over `body` (the application enclave's report body): header, body,
 * the quote signature by the attestation key, the QE report (signed by the
 * PCK key, binding the attestation key and 32 bytes of QE authentication
 * data), and the certification data.  *quote is malloc'ed. */
ppml_status ppml_simpki_quote(const struct ppml_simpki *pki, const struct ppml_sgx_report_body *body,
			      const struct ppml_simpki_quote_params *p, uint8_t **quote,
			      size_t *quote_len, struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- the simulated attestation socket (`ppml run --sim`) ---- */

/* What the child of a simulated run finds in its environment:
 * PPML_SIM_ATTESTATION=unix:PATH.  Protocol version 1: the client connects,
 * writes exactly 64 bytes of report data, and reads one quote (v3, at most
 * PPML_QUOTE_MAX_SIZE bytes) until the server closes the connection. */
#define PPML_SIMATT_ENV "PPML_SIM_ATTESTATION"

struct ppml_simatt;
/* Listens on the Unix socket path (created 0600; its folder should be
 * private) and answers each request with a quote whose report body is
 * `body` with the request's report data, signed through pki.  pki and body
 * are copied by reference: pki must outlive the server. */
ppml_status ppml_simatt_start(const struct ppml_simpki *pki, const struct ppml_sgx_report_body *body,
			      const char *path, struct ppml_simatt **out,
			      struct ppml_err *err) PPML_WARN_UNUSED;
/* Stops serving, removes the socket file, frees.  Accepts NULL. */
void ppml_simatt_stop(struct ppml_simatt *s);
/* Number of quotes served. */
unsigned long ppml_simatt_count(const struct ppml_simatt *s);
/* The client side: one quote for report_data from the socket at path. */
ppml_status ppml_simatt_request(const char *path, const uint8_t report_data[64], uint8_t **quote,
				size_t *quote_len, struct ppml_err *err) PPML_WARN_UNUSED;

#endif
