/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/elf.h - a bounded ELF64 (little-endian, x86-64) reader for the PAL
 * (libpal.so), enough for the enclave layout (spec section 5, 6.3).
 */
#ifndef PPML_ELF_H
#define PPML_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"

#define PPML_ELF_PF_X 0x1u
#define PPML_ELF_PF_W 0x2u
#define PPML_ELF_PF_R 0x4u

struct ppml_elf_load {
	uint64_t offset;   /* p_offset */
	uint64_t vaddr;    /* p_vaddr */
	uint64_t filesz;   /* p_filesz */
	uint64_t memsz;    /* p_memsz */
	uint32_t flags;    /* p_flags (PF_R/W/X) */
	unsigned phdr_index;
};

struct ppml_elf {
	uint64_t entry;               /* e_entry */
	uint16_t type;                /* e_type (ET_EXEC 2, ET_DYN 3) */
	size_t n_loads;
	struct ppml_elf_load *loads;  /* PT_LOAD segments in program-header order */
};

/*
 * Parses data[0..len) (not retained).  Checks: ELF magic, ELFCLASS64,
 * ELFDATA2LSB, EV_CURRENT, EM_X86_64, ET_EXEC/ET_DYN, e_phentsize, the program
 * header table inside the file (overflow-safe), at most PPML_SGX_MAX_PHDRS
 * headers, and for each PT_LOAD p_offset+p_filesz within the file,
 * p_filesz <= p_memsz, p_align 0/1/a power of two with p_offset == p_vaddr
 * modulo p_align (gABI), p_vaddr+p_memsz within 2^47, and at least one
 * PT_LOAD.  `name` prefixes messages ("libpal.so: program header 2: ...").
 * On success *out owns loads; release with ppml_elf_cleanup.  Thread-safe.
 */
ppml_status ppml_elf_parse(const uint8_t *data, size_t len, const char *name, struct ppml_elf *out,
			   struct ppml_err *err) PPML_WARN_UNUSED;

/* Frees out->loads and zeroes *out.  Accepts NULL. */
void ppml_elf_cleanup(struct ppml_elf *elf);

#endif
