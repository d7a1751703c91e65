/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/measure.h - Gramine enclave layout and MRENCLAVE
 * (shared/spec/gramine-sgx-signing.md sections 5-7; the v1.3 PIE base of
 * section 12 through ppml_measure_input.base).
 *
 * The inputs are already extracted from the manifest by the caller: the exact
 * manifest.sgx bytes (measured as they are), the PAL ELF bytes, and the three
 * layout parameters.  Nothing here reads files, prints or exits.
 * All functions are thread-safe (no shared state).
 */
#ifndef PPML_MEASURE_H
#define PPML_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "ppml/buf.h"
#include "ppml/elf.h"
#include "ppml/err.h"

enum ppml_sgx_area_kind {
	PPML_SGX_AREA_MANIFEST,
	PPML_SGX_AREA_SSA,
	PPML_SGX_AREA_TCS,
	PPML_SGX_AREA_TLS,
	PPML_SGX_AREA_STACK,
	PPML_SGX_AREA_SIG_STACK,
	PPML_SGX_AREA_PAL,   /* one per PT_LOAD, named "code" (PF_X) or "data" like Gramine */
	PPML_SGX_AREA_FREE,  /* the heap: EADD only, absent with EDMM */
};

struct ppml_sgx_area {
	enum ppml_sgx_area_kind kind;
	const char *name;    /* static: "manifest", "ssa", "tcs", "tls", "stack", "sig_stack", "code", "data", "free" */
	uint64_t addr;       /* page-aligned offset from the enclave base (0 in v1.9) */
	uint64_t size;       /* bytes, a page multiple */
	uint64_t flags;      /* SECINFO.FLAGS */
	int measured;        /* EEXTENDed (everything but the free area) */
	unsigned index;      /* thread number (stack, sig_stack) or PT_LOAD index (pal) */
};

struct ppml_sgx_layout {
	uint64_t enclave_size;   /* E */
	uint64_t base;           /* enclave base: 0, or E for Gramine v1.3's PIE layout */
	uint64_t heap_min;       /* absolute: 0x10000 with base 0, else base */
	uint32_t max_threads;    /* N */
	int edmm;
	uint64_t manifest_size;  /* L + 1 (the NUL is counted) */
	uint64_t ssa_base, tcs_base, tls_base, stack_low, pal_base, pal_size, entry;
	size_t n_areas;
	struct ppml_sgx_area *areas;  /* in measurement order (spec section 5) */
	struct ppml_elf elf;          /* the parsed PAL */
};

struct ppml_measure_input {
	const uint8_t *manifest;   /* manifest.sgx, exactly the bytes written to disk */
	size_t manifest_len;
	const uint8_t *pal;        /* libpal.so */
	size_t pal_len;
	const char *pal_name;      /* for messages; NULL = "libpal.so" */
	uint64_t enclave_size;     /* parsed sgx.enclave_size (ppml_sgx_parse_size) */
	uint32_t max_threads;      /* sgx.max_threads */
	int edmm_enable;           /* sgx.edmm_enable truthy */
	/* Enclave base (spec 12): 0 (v1.9; v1.3 with sgx.nonpie_binary), or E for
	 * v1.3's PIE layout, where the areas stack down from 2E, heap_min = base
	 * and the TLS page holds absolute addresses.  Any other value is refused. */
	uint64_t base;
};

/*
 * Computes the layout (spec section 5).  Fails with PPML_E_INPUT and the
 * message "Enclave size is not large enough" when an area would start below
 * 0x10000, and on bad ELF input or parameters (zero threads, size not a page
 * multiple); PPML_E_LIMIT beyond the caps in ppml/limits.h.  A PAL whose
 * lowest PT_LOAD is not at vaddr 0 (non-PIE) is refused.  On success the
 * caller releases *out with ppml_measure_layout_cleanup.
 */
ppml_status ppml_measure_layout(const struct ppml_measure_input *in, struct ppml_sgx_layout *out,
				struct ppml_err *err) PPML_WARN_UNUSED;

/* Frees what a layout owns and zeroes it.  Accepts NULL. */
void ppml_measure_layout_cleanup(struct ppml_sgx_layout *layout);

/*
 * Builds the layout and hashes the measurement stream (spec section 7) into
 * mrenclave.  If layout_out is non-NULL it receives the layout (caller cleans
 * it up); otherwise it is released here.  The stream is fed to SHA-256 in
 * 1 MiB chunks; the free area is generated from a template.
 */
ppml_status ppml_measure_mrenclave(const struct ppml_measure_input *in, uint8_t mrenclave[32],
				   struct ppml_sgx_layout *layout_out, struct ppml_err *err)
	PPML_WARN_UNUSED;

/*
 * Appends the layout as gramine-sgx-sign's verbose "Memory:" lines, one area a
 * line: "    %016x-%016x [REG:RW-] (stack) measured\n".
 */
ppml_status ppml_measure_layout_format(const struct ppml_sgx_layout *layout, struct ppml_buf *out)
	PPML_WARN_UNUSED;

/*
 * Parses a Gramine size string (spec section 5, Python parse_size): an optional
 * uppercase K, M or G suffix, the rest as Python int(s, 0) (decimal without
 * leading zeros, 0x/0o/0b prefixes, single '_' between digits, surrounding
 * whitespace).  Negative or overflowing values are refused.  PPML_E_INPUT
 * names `what` (e.g. "sgx.enclave_size").
 */
ppml_status ppml_sgx_parse_size(const char *s, const char *what, uint64_t *out, struct ppml_err *err)
	PPML_WARN_UNUSED;

#endif
