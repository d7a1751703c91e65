/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/quote.h - SGX DCAP ECDSA quotes: the bounded parser, the SGX
 * extensions of PCK certificates and the strict PEM chain reader
 * (shared/spec/dcap-quote-verification.md sections 1 and 3).
 *
 * Parsing never verifies anything; ppml/dcap.h does.  All functions are
 * thread-safe (no shared state).
 */
#ifndef PPML_QUOTE_H
#define PPML_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"
#include "ppml/sgx.h"

/* A parsed quote.  Pointer members point into the caller's buffer, which
 * must outlive the struct; fixed-size members are copies. */
struct ppml_quote {
	const uint8_t *data;               /* the whole quote */
	size_t len;
	struct ppml_quote_header header;
	struct ppml_sgx_report_body body;  /* the application enclave */
	size_t signed_len;                 /* bytes [0, signed_len) are signed: 432 for SGX */
	uint8_t signature[64];             /* r || s, big-endian */
	uint8_t attest_key[64];            /* X || Y of the P-256 attestation key */
	const uint8_t *qe_report_raw;      /* 384 bytes as signed by the PCK key */
	struct ppml_sgx_report_body qe_report;
	uint8_t qe_report_signature[64];   /* r || s */
	const uint8_t *qe_auth;            /* QE authentication data */
	size_t qe_auth_len;
	uint16_t cert_type;                /* innermost certification data type (5 for a chain) */
	const uint8_t *cert_data;          /* innermost certification data */
	size_t cert_len;
	size_t cert_offset;                /* offset of cert_data in the quote */
};

/* Parses an SGX quote v3, or v4 with certification data type 6 wrapping the
 * QE report and a type-5 chain.  Refuses: wrong version, key type, TEE type
 * (TDX is not supported), QE vendor ID; truncation; nested lengths that do
 * not fit exactly; trailing bytes after the signature data (QVL ignores
 * them; we refuse them, see docs/ppml-quote.md).  Errors are PPML_E_INPUT
 * and name the field and its byte offset.  PPML_E_LIMIT above
 * PPML_QUOTE_MAX_SIZE. */
ppml_status ppml_quote_parse(const uint8_t *data, size_t len, struct ppml_quote *q,
			     struct ppml_err *err) PPML_WARN_UNUSED;

/* SGX Type of a PCK certificate (section 3, sub-OID .5). */
enum ppml_sgx_type {
	PPML_SGX_TYPE_STANDARD = 0,
	PPML_SGX_TYPE_SCALABLE = 1,
	PPML_SGX_TYPE_SCALABLE_WITH_INTEGRITY = 2,
};

/* The SGX extension (OID 1.2.840.113741.1.13.1) of a PCK certificate. */
struct ppml_pck_ext {
	uint8_t ppid[16];
	uint8_t comp_svn[16];     /* SGX TCB components 1..16 */
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	uint8_t pceid[2];
	uint8_t fmspc[6];
	uint32_t sgx_type;        /* enum ppml_sgx_type, or an unknown value as found */
	bool platform;            /* 7 entries: Platform Instance ID and Configuration present */
	uint8_t platform_instance_id[16];
	bool dynamic_platform, cached_keys, smt_enabled;
	bool has_dynamic_platform, has_cached_keys, has_smt_enabled;
};

/* Parses the DER value of the SGX extension (the contents of the extension's
 * OCTET STRING: a SEQUENCE of (OID, value) pairs) strictly as QVL does:
 * exactly 5 or 7 entries, exactly 18 TCB entries, each of the right type and
 * size, definite minimal DER lengths, nothing trailing.  PPML_E_INPUT names
 * the entry and offset. */
ppml_status ppml_pck_ext_parse(const uint8_t *der, size_t len, struct ppml_pck_ext *out,
			       struct ppml_err *err) PPML_WARN_UNUSED;

/* The OID of the SGX extension, dotted. */
#define PPML_SGX_EXT_OID "1.2.840.113741.1.13.1"

/* Strict PEM certificate chain grammar (issue 6): exactly `expected`
 * certificates ("-----BEGIN CERTIFICATE-----\n", base64 lines of 4..76
 * characters each ending in "\n", "-----END CERTIFICATE-----"), separated by
 * "\n", optionally one final "\n", then at most one NUL; canonical base64
 * with zero padding bits; nothing else.  expected == 0 accepts 1..8.
 * On success der[i] / der_len[i] (i < *count) are malloc'ed DER copies the
 * caller frees with ppml_pem_chain_free. */
#define PPML_PEM_CHAIN_MAX 8
struct ppml_pem_chain {
	size_t count;
	uint8_t *der[PPML_PEM_CHAIN_MAX];
	size_t der_len[PPML_PEM_CHAIN_MAX];
};
ppml_status ppml_pem_chain_parse(const uint8_t *pem, size_t len, size_t expected,
				 struct ppml_pem_chain *out, struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_pem_chain_free(struct ppml_pem_chain *c);

/* Strict base64 (RFC 4648 alphabet, padded, canonical: non-zero padding bits
 * are refused).  *out_len receives the decoded size; out must hold
 * len / 4 * 3 bytes.  Returns false on any deviation. */
bool ppml_base64_decode_strict(const char *in, size_t len, uint8_t *out, size_t *out_len);

/* The PCK certificate of a quote's type-5 chain, without verifying
 * anything: its SGX extension, and whether its issuer is a Platform CA
 * (issuer CN contains "Platform") or a Processor CA ("Processor").  What
 * `ppml quote show` prints and what `ppml collateral fetch --quote` needs. */
ppml_status ppml_quote_pck_info(const struct ppml_quote *q, struct ppml_pck_ext *ext,
				bool *platform_ca, struct ppml_err *err) PPML_WARN_UNUSED;

/* The parsed quote as a JSON object (header, report_body, qe_report, sizes,
 * and pck when pck_or_null is given): a new jansson reference (json_t *),
 * NULL on allocation failure. */
struct json_t;
struct json_t *ppml_quote_json(const struct ppml_quote *q, const struct ppml_pck_ext *pck_or_null);

#endif
