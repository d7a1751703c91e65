/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/sigstruct.h - build, sign, parse and verify SGX SIGSTRUCTs exactly as
 * Gramine v1.9's gramine-sgx-sign writes them (shared/spec/gramine-sgx-signing.md
 * sections 8-10).  The wire struct is struct ppml_sgx_sigstruct in ppml/sgx.h.
 * No function prints or keeps state; all are thread-safe.
 */
#ifndef PPML_SIGSTRUCT_H
#define PPML_SIGSTRUCT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ppml/err.h"
#include "ppml/measure.h"
#include "ppml/sgx.h"

/* Manifest values that decide the attributes (section 8), already extracted.
 * The cpu_features strings are the manifest's values ("required", "disabled",
 * "unspecified"); NULL means the key is absent, which is refused like any
 * disallowed value (the manifest layer inserts Gramine's defaults first). */
struct ppml_sgx_manifest_attrs {
	int debug;            /* sgx.debug is the boolean true */
	int use_exinfo;       /* sgx.use_exinfo is the boolean true */
	const char *avx, *avx512, *amx, *mpx, *pkru;
	/* Gramine v1.3 (spec 12) instead: the cpu_features strings are ignored;
	 * each set require_* adds its bits to XFRM and the XFRM mask stays at
	 * its constant default. */
	int legacy_require;
	int require_avx, require_avx512, require_amx, require_mpx, require_pkru;
};

/* Everything in the signed body besides the key material. */
struct ppml_sigstruct_params {
	uint8_t mrenclave[32];
	uint32_t date;                  /* BCD (ppml_sigstruct_parse_date) or, for
					 * Gramine v1.3, binary (_parse_date_binary) */
	uint32_t misc_select, misc_mask;
	uint64_t attributes_flags, attributes_xfrm;
	uint64_t attribute_mask_flags, attribute_mask_xfrm;
	uint16_t isv_prod_id, isv_svn;
};

/*
 * Section 8: fills the attribute, XFRM, mask and MISCSELECT fields of *p
 * (other fields untouched).  A disallowed cpu_features value fails with
 * PPML_E_INPUT and Gramine's text:
 * "Manifest option `sgx.cpu_features.mpx` has a disallowed value".
 */
ppml_status ppml_sigstruct_attributes(const struct ppml_sgx_manifest_attrs *m,
				      struct ppml_sigstruct_params *p, struct ppml_err *err)
	PPML_WARN_UNUSED;

/* Section 9: "YYYY-MM-DD" (digits only, any values incl. 0000-00-00) to the
 * BCD u32 stored in DATE.  PPML_E_INPUT otherwise. */
ppml_status ppml_sigstruct_parse_date(const char *s, uint32_t *bcd, struct ppml_err *err)
	PPML_WARN_UNUSED;

/* Gramine v1.3 (spec 12): "YYYY-MM-DD" to the binary DATE, u16 year at
 * offset 20, u8 month at 22, u8 day at 23 (2024-12-31 is e8 07 0c 1f).  That
 * signer always wrote a real date, so month 1..12 and day 1..31 are required. */
ppml_status ppml_sigstruct_parse_date_binary(const char *s, uint32_t *out, struct ppml_err *err)
	PPML_WARN_UNUSED;

/* DATE as "YYYY-MM-DD" into out (at least 16 bytes): BCD, or the binary
 * layout of Gramine v1.3 when binary is non-zero.  Returns 1 when the value
 * is well-formed for that layout (BCD: every nibble a decimal digit), 0 when
 * not (out then holds the raw fields as they decode). */
int ppml_sigstruct_format_date(uint32_t date, int binary, char out[16]);

/* Writes the header constants and the body from p; key fields, signature and
 * Q1/Q2 are zero. */
void ppml_sigstruct_init(struct ppml_sgx_sigstruct *s, const struct ppml_sigstruct_params *p);

/* Section 10: the 256 signed bytes, [0,128) || [900,1028). */
void ppml_sigstruct_payload(const struct ppml_sgx_sigstruct *s, uint8_t out[PPML_SGX_PAYLOAD_SIZE]);

/*
 * Two-step signing entry: builds the full SIGSTRUCT from a 256-byte payload (as
 * ppml_sigstruct_payload produced it), the RSA-3072 modulus and the
 * RSASSA-PKCS1-v1_5/SHA-256 signature, both big-endian as OpenSSL and HSMs
 * produce them (leading zero bytes allowed).  Sets EXPONENT = 3, stores both
 * little-endian, computes Q1/Q2, and then verifies the result, so a wrong
 * signature or a non-3072-bit modulus is refused (PPML_E_REFUSED / PPML_E_INPUT).
 */
ppml_status ppml_sigstruct_assemble(const uint8_t payload[PPML_SGX_PAYLOAD_SIZE],
				    const uint8_t *modulus_be, size_t modulus_len,
				    const uint8_t *signature_be, size_t signature_len,
				    struct ppml_sgx_sigstruct *out, struct ppml_err *err)
	PPML_WARN_UNUSED;

/*
 * Signs *s in place with key (an SGX key: RSA-3072, e = 3, checked with
 * ppml_key_check_sgx's messages): payload, signature, modulus, Q1/Q2.
 * Deterministic (PKCS#1 v1.5).
 */
ppml_status ppml_sigstruct_sign(struct ppml_sgx_sigstruct *s, EVP_PKEY *key, struct ppml_err *err)
	PPML_WARN_UNUSED;

/*
 * The 256-byte signing payload of two-step signing (ppml_sigstruct_payload's
 * output), checked (exact length, HEADER/HEADER2 constants) and unpacked into
 * a SIGSTRUCT whose key fields (modulus, exponent, signature, Q1, Q2) are zero.
 */
ppml_status ppml_sigstruct_parse_payload(const uint8_t *data, size_t len,
					 struct ppml_sgx_sigstruct *out, struct ppml_err *err)
	PPML_WARN_UNUSED;

/*
 * Strict parse: exactly 1808 bytes, HEADER and HEADER2 constants, EXPONENT 3,
 * and zero reserved bytes at [1028,1040) (the only unsigned, unchecked range).
 * PPML_E_INPUT names the offending field.  Does NOT verify the signature.
 */
ppml_status ppml_sigstruct_parse(const uint8_t *data, size_t len, struct ppml_sgx_sigstruct *out,
				 struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Verifies the whole SIGSTRUCT: header constants, EXPONENT 3, a 3072-bit
 * modulus, signature < modulus, the RSA signature over the payload with the
 * embedded modulus, then Q1 and Q2 recomputed and compared in constant time.
 * PPML_OK only if every check passed; otherwise PPML_E_REFUSED with the check
 * that failed.
 */
ppml_status ppml_sigstruct_verify(const struct ppml_sgx_sigstruct *s, struct ppml_err *err)
	PPML_WARN_UNUSED;

/*
 * Re-measures the enclave from *in (ppml_measure_mrenclave: manifest.sgx bytes,
 * PAL, enclave_size, max_threads, edmm) and compares the result with
 * ENCLAVEHASH in constant time.  PPML_E_REFUSED with both values on a
 * mismatch; measurement errors pass through (e.g. PPML_E_INPUT "Enclave size
 * is not large enough").  Checks only MRENCLAVE: call ppml_sigstruct_verify
 * for the signature, and both must pass.
 */
ppml_status ppml_sigstruct_check_mrenclave(const struct ppml_sgx_sigstruct *s,
					   const struct ppml_measure_input *in, struct ppml_err *err)
	PPML_WARN_UNUSED;

/* Section 10: MRSIGNER = SHA-256 of the 384-byte little-endian MODULUS field. */
ppml_status ppml_sigstruct_mrsigner(const struct ppml_sgx_sigstruct *s, uint8_t out[32],
				    struct ppml_err *err) PPML_WARN_UNUSED;

#endif
