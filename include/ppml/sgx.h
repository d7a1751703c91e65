/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/sgx.h - Intel SGX wire structures and constants, as Gramine v1.9's
 * signer uses them.  Section numbers refer to shared/spec/gramine-sgx-signing.md.
 *
 * Every struct here is packed, little-endian, and size/offset-asserted, so it
 * can be hashed or written exactly as it sits in memory.  Only x86-64
 * (little-endian) hosts are supported.
 */
#ifndef PPML_SGX_H
#define PPML_SGX_H

#include <stddef.h>
#include <stdint.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ppml's SGX wire structs assume a little-endian host"
#endif

/* Section 4: layout constants (v1.9, x86-64). */
#define PPML_SGX_PAGE_SIZE        0x1000ull
#define PPML_SGX_SSA_FRAME_SIZE   0x4000ull /* 4 pages; ECREATE.SSAFRAMESIZE = 4 */
#define PPML_SGX_SSA_FRAME_PAGES  4u
#define PPML_SGX_SSA_NUM_FRAMES   2u
#define PPML_SGX_SSA_PER_THREAD   (PPML_SGX_SSA_FRAME_SIZE * PPML_SGX_SSA_NUM_FRAMES)
#define PPML_SGX_TCS_SIZE         0x1000ull
#define PPML_SGX_TLS_SIZE         0x1000ull
#define PPML_SGX_STACK_SIZE       0x40000ull
#define PPML_SGX_SIG_STACK_SIZE   0x10000ull
#define PPML_SGX_HEAP_MIN         0x10000ull /* MMAP_MIN_ADDR */
#define PPML_SGX_GPR_SIZE         0xb8ull    /* sizeof(sgx_pal_gpr_t) */
#define PPML_SGX_STACK_CANARY     0x0000badbadbadbadull
#define PPML_SGX_FS_LIMIT         0xfffu
#define PPML_SGX_GS_LIMIT         0xfffu

/* Section 4: SECINFO.FLAGS = page type << 8 | RWX. */
#define PPML_SGX_SECINFO_R        0x1ull
#define PPML_SGX_SECINFO_W        0x2ull
#define PPML_SGX_SECINFO_X        0x4ull
#define PPML_SGX_SECINFO_TCS      0x100ull
#define PPML_SGX_SECINFO_REG      0x200ull

/* Section 7: one page of measured content = EADD + 16 x (EEXTEND + 256 bytes). */
#define PPML_SGX_EEXTEND_CHUNK    256u
#define PPML_SGX_EEXTEND_PER_PAGE 16u
#define PPML_SGX_RECORD_SIZE      64u
#define PPML_SGX_MEASURED_PAGE_BYTES \
	(PPML_SGX_RECORD_SIZE + PPML_SGX_EEXTEND_PER_PAGE * (PPML_SGX_RECORD_SIZE + PPML_SGX_EEXTEND_CHUNK))

/* Section 7: measurement records (64 bytes each). */
struct ppml_sgx_ecreate_rec {
	char tag[8];              /* "ECREATE\0" */
	uint32_t ssa_frame_size;  /* in pages: 4 */
	uint64_t size;            /* enclave size E */
	uint8_t reserved[44];
} __attribute__((packed));

struct ppml_sgx_eadd_rec {
	char tag[8];              /* "EADD\0\0\0\0" */
	uint64_t offset;          /* page - base */
	uint64_t secinfo_flags;
	uint8_t reserved[40];
} __attribute__((packed));

struct ppml_sgx_eextend_rec {
	char tag[8];              /* "EEXTEND\0" */
	uint64_t offset;          /* page - base + 256*i */
	uint8_t reserved[48];
} __attribute__((packed));

_Static_assert(sizeof(struct ppml_sgx_ecreate_rec) == 64, "ECREATE record is 64 bytes");
_Static_assert(offsetof(struct ppml_sgx_ecreate_rec, size) == 12, "ECREATE.SIZE at 12 (packed)");
_Static_assert(sizeof(struct ppml_sgx_eadd_rec) == 64, "EADD record is 64 bytes");
_Static_assert(offsetof(struct ppml_sgx_eadd_rec, secinfo_flags) == 16, "EADD flags at 16");
_Static_assert(sizeof(struct ppml_sgx_eextend_rec) == 64, "EEXTEND record is 64 bytes");
_Static_assert(PPML_SGX_MEASURED_PAGE_BYTES == 5184, "a measured page feeds 5184 bytes");

/* Section 6.1: the TCS page (only the fields Gramine sets). */
struct ppml_sgx_tcs {
	uint64_t reserved0;
	uint64_t flags;           /* 0: DBGOPTIN is never set */
	uint64_t ossa;
	uint32_t cssa;
	uint32_t nssa;            /* 2 */
	uint64_t oentry;
	uint64_t reserved_aep;
	uint64_t ofsbase;         /* 0 */
	uint64_t ogsbase;
	uint32_t fslimit;         /* 0xfff */
	uint32_t gslimit;         /* 0xfff */
	uint8_t reserved[4024];
} __attribute__((packed));
_Static_assert(sizeof(struct ppml_sgx_tcs) == 4096, "TCS is one page");
_Static_assert(offsetof(struct ppml_sgx_tcs, ossa) == 0x10, "TCS.OSSA");
_Static_assert(offsetof(struct ppml_sgx_tcs, nssa) == 0x1c, "TCS.NSSA");
_Static_assert(offsetof(struct ppml_sgx_tcs, oentry) == 0x20, "TCS.OENTRY");
_Static_assert(offsetof(struct ppml_sgx_tcs, ofsbase) == 0x30, "TCS.OFSBASE");
_Static_assert(offsetof(struct ppml_sgx_tcs, ogsbase) == 0x38, "TCS.OGSBASE");
_Static_assert(offsetof(struct ppml_sgx_tcs, fslimit) == 0x40, "TCS.FSLIMIT");

/* Section 6.2: byte offsets of the build-time fields of struct pal_enclave_tcb. */
#define PPML_SGX_TLS_SELF             0x000u
#define PPML_SGX_TLS_CANARY           0x008u
#define PPML_SGX_TLS_ENCLAVE_SIZE     0x110u
#define PPML_SGX_TLS_TCS_OFFSET       0x118u
#define PPML_SGX_TLS_INITIAL_STACK    0x120u
#define PPML_SGX_TLS_SIG_STACK_LOW    0x130u
#define PPML_SGX_TLS_SIG_STACK_HIGH   0x138u
#define PPML_SGX_TLS_SSA              0x148u
#define PPML_SGX_TLS_GPR              0x150u
#define PPML_SGX_TLS_MANIFEST_SIZE    0x1a0u
#define PPML_SGX_TLS_HEAP_MIN         0x1a8u
#define PPML_SGX_TLS_HEAP_MAX         0x1b0u

/* Section 9: SIGSTRUCT. */
#define PPML_SGX_SIGSTRUCT_SIZE   1808u
#define PPML_SGX_KEY_BYTES        384u   /* RSA-3072 */
#define PPML_SGX_KEY_BITS         3072u
#define PPML_SGX_KEY_EXPONENT     3u
#define PPML_SGX_PAYLOAD_SIZE     256u   /* section 10: [0,128) || [900,1028) */
#define PPML_SGX_HEADER_BYTES \
	{0x06, 0x00, 0x00, 0x00, 0xE1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}
#define PPML_SGX_HEADER2_BYTES \
	{0x01, 0x01, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}

/* Section 8: ATTRIBUTES.FLAGS bits. */
#define PPML_SGX_FLAGS_INIT           0x01ull
#define PPML_SGX_FLAGS_DEBUG          0x02ull
#define PPML_SGX_FLAGS_MODE64BIT      0x04ull
#define PPML_SGX_FLAGS_PROVISIONKEY   0x10ull
#define PPML_SGX_FLAGS_EINITTOKENKEY  0x20ull
#define PPML_SGX_FLAGS_CET            0x40ull
#define PPML_SGX_FLAGS_KSS            0x80ull
#define PPML_SGX_FLAGS_AEXNOTIFY      0x400ull

/* Section 8: XFRM bits and Gramine's cpu_features groups. */
#define PPML_SGX_XFRM_X87             0x1ull
#define PPML_SGX_XFRM_SSE             0x2ull
#define PPML_SGX_XFRM_AVX             0x4ull
#define PPML_SGX_XFRM_MPX_BNDREGS     0x8ull
#define PPML_SGX_XFRM_MPX_BNDCSR      0x10ull
#define PPML_SGX_XFRM_AVX512_OPMASK   0x20ull
#define PPML_SGX_XFRM_AVX512_ZMM_HI256 0x40ull
#define PPML_SGX_XFRM_AVX512_HI16_ZMM 0x80ull
#define PPML_SGX_XFRM_PKRU            0x200ull
#define PPML_SGX_XFRM_AMX_TILECFG     0x20000ull
#define PPML_SGX_XFRM_AMX_TILEDATA    0x40000ull
#define PPML_SGX_XFRM_LEGACY          0x3ull
#define PPML_SGX_XFRM_MASK_DEFAULT    0xfffffffffff9ff1bull
#define PPML_SGX_FEAT_AVX             0x4ull
#define PPML_SGX_FEAT_AVX512          0xe4ull /* includes the AVX bit (section 8 pitfall) */
#define PPML_SGX_FEAT_AMX             0x60000ull
#define PPML_SGX_FEAT_MPX             0x18ull
#define PPML_SGX_FEAT_PKRU            0x200ull
#define PPML_SGX_MISC_EXINFO          0x1u

struct ppml_sgx_sigstruct {
	uint8_t header[16];
	uint32_t vendor;
	uint32_t date;                 /* BCD yyyymmdd */
	uint8_t header2[16];
	uint32_t swdefined;
	uint8_t reserved1[84];
	uint8_t modulus[384];          /* little-endian */
	uint32_t exponent;
	uint8_t signature[384];        /* little-endian */
	uint32_t misc_select;
	uint32_t misc_mask;
	uint8_t cet_attributes;
	uint8_t cet_attributes_mask;
	uint8_t reserved2[2];
	uint8_t isv_family_id[16];
	uint64_t attributes_flags;
	uint64_t attributes_xfrm;
	uint64_t attribute_mask_flags;
	uint64_t attribute_mask_xfrm;
	uint8_t enclave_hash[32];
	uint8_t reserved3[16];
	uint8_t isv_ext_prod_id[16];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint8_t reserved4[12];
	uint8_t q1[384];               /* little-endian */
	uint8_t q2[384];               /* little-endian */
} __attribute__((packed));

_Static_assert(sizeof(struct ppml_sgx_sigstruct) == PPML_SGX_SIGSTRUCT_SIZE, "SIGSTRUCT is 1808 bytes");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, vendor) == 16, "VENDOR");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, date) == 20, "DATE");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, header2) == 24, "HEADER2");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, swdefined) == 40, "SWDEFINED");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, modulus) == 128, "MODULUS");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, exponent) == 512, "EXPONENT");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, signature) == 516, "SIGNATURE");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, misc_select) == 900, "MISCSELECT");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, misc_mask) == 904, "MISCMASK");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, cet_attributes) == 908, "CET_ATTRIBUTES");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, isv_family_id) == 912, "ISVFAMILYID");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, attributes_flags) == 928, "ATTRIBUTES");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, attribute_mask_flags) == 944, "ATTRIBUTEMASK");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, enclave_hash) == 960, "ENCLAVEHASH");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, isv_ext_prod_id) == 1008, "ISVEXTPRODID");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, isv_prod_id) == 1024, "ISVPRODID");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, isv_svn) == 1026, "ISVSVN");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, q1) == 1040, "Q1");
_Static_assert(offsetof(struct ppml_sgx_sigstruct, q2) == 1424, "Q2");

/* ---- DCAP quotes (shared/spec/dcap-quote-verification.md section 1) ---- */

#define PPML_SGX_ATTR_INIT          0x01ull
#define PPML_SGX_ATTR_DEBUG         0x02ull
#define PPML_SGX_ATTR_MODE64BIT     0x04ull
#define PPML_SGX_ATTR_PROVISIONKEY  0x10ull
#define PPML_SGX_ATTR_EINITTOKENKEY 0x20ull
#define PPML_SGX_ATTR_KSS           0x80ull

/* Section 1.2: the SGX report body (enclave REPORT minus KEYID and MAC), as
 * it appears in a quote, both for the application enclave and the QE. */
struct ppml_sgx_report_body {
	uint8_t cpusvn[16];
	uint32_t miscselect;
	uint8_t reserved1[12];
	uint8_t isv_ext_prod_id[16];
	uint64_t attributes_flags;
	uint64_t attributes_xfrm;
	uint8_t mrenclave[32];
	uint8_t reserved2[32];
	uint8_t mrsigner[32];
	uint8_t reserved3[32];
	uint8_t config_id[64];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint16_t config_svn;
	uint8_t reserved4[42];
	uint8_t isv_family_id[16];
	uint8_t report_data[64];
} __attribute__((packed));

#define PPML_SGX_REPORT_BODY_SIZE 384u
_Static_assert(sizeof(struct ppml_sgx_report_body) == PPML_SGX_REPORT_BODY_SIZE,
	       "report body is 384 bytes");
_Static_assert(offsetof(struct ppml_sgx_report_body, miscselect) == 16, "MISCSELECT");
_Static_assert(offsetof(struct ppml_sgx_report_body, isv_ext_prod_id) == 32, "ISVEXTPRODID");
_Static_assert(offsetof(struct ppml_sgx_report_body, attributes_flags) == 48, "ATTRIBUTES");
_Static_assert(offsetof(struct ppml_sgx_report_body, mrenclave) == 64, "MRENCLAVE");
_Static_assert(offsetof(struct ppml_sgx_report_body, mrsigner) == 128, "MRSIGNER");
_Static_assert(offsetof(struct ppml_sgx_report_body, config_id) == 192, "CONFIGID");
_Static_assert(offsetof(struct ppml_sgx_report_body, isv_prod_id) == 256, "ISVPRODID");
_Static_assert(offsetof(struct ppml_sgx_report_body, isv_svn) == 258, "ISVSVN");
_Static_assert(offsetof(struct ppml_sgx_report_body, config_svn) == 260, "CONFIGSVN");
_Static_assert(offsetof(struct ppml_sgx_report_body, isv_family_id) == 304, "ISVFAMILYID");
_Static_assert(offsetof(struct ppml_sgx_report_body, report_data) == 320, "REPORTDATA");

/* Section 1.1: the 48-byte quote header. */
struct ppml_quote_header {
	uint16_t version;
	uint16_t att_key_type;
	uint32_t tee_type;       /* v3: reserved, must be 0 */
	uint16_t qe_svn;         /* informational, never used for TCB evaluation */
	uint16_t pce_svn;        /* informational */
	uint8_t qe_vendor_id[16];
	uint8_t user_data[20];
} __attribute__((packed));

#define PPML_QUOTE_HEADER_SIZE 48u
_Static_assert(sizeof(struct ppml_quote_header) == PPML_QUOTE_HEADER_SIZE, "header is 48 bytes");
_Static_assert(offsetof(struct ppml_quote_header, qe_vendor_id) == 12, "QE vendor ID");
_Static_assert(offsetof(struct ppml_quote_header, user_data) == 28, "user data");

#define PPML_QUOTE_ATT_KEY_ECDSA_P256 2u
#define PPML_QUOTE_TEE_SGX            0u
#define PPML_QUOTE_TEE_TDX            0x81u
/* Section 1.3: certification data types. */
#define PPML_QUOTE_CERT_PCK_CHAIN     5u
#define PPML_QUOTE_CERT_QE_REPORT     6u
/* Intel's QE vendor ID (section 1.1). */
#define PPML_QUOTE_INTEL_QE_VENDOR_ID \
	"\x93\x9a\x72\x33\xf7\x9c\x4c\xa9\x94\x0a\x0d\xb3\x95\x7f\x06\x07"
/* Header + body: the bytes the quote signature covers (v3 and v4 SGX). */
#define PPML_QUOTE_SIGNED_SIZE (PPML_QUOTE_HEADER_SIZE + PPML_SGX_REPORT_BODY_SIZE)
/* Fixed part of the v3 signature data before the QE auth data. */
#define PPML_QUOTE_MIN_V3_SIZE (PPML_QUOTE_SIGNED_SIZE + 4u + 64u + 64u + 384u + 64u + 2u + 2u + 4u)

#endif
