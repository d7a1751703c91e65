/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded ELF64 reader for the PAL (spec sections 5 and 6.3). */
#include <stdlib.h>
#include <string.h>

#include "ppml/elf.h"
#include "ppml/limits.h"

/* ELF64 constants (System V gABI). */
#define EHDR_SIZE      64u
#define PHDR_SIZE      56u
#define EI_CLASS       4
#define EI_DATA        5
#define EI_VERSION     6
#define ELFCLASS64     2
#define ELFDATA2LSB    1
#define EV_CURRENT     1
#define ET_EXEC        2
#define ET_DYN         3
#define EM_X86_64      62
#define PT_LOAD        1

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

void ppml_elf_cleanup(struct ppml_elf *elf)
{
	if (!elf)
		return;
	free(elf->loads);
	memset(elf, 0, sizeof(*elf));
}

ppml_status ppml_elf_parse(const uint8_t *data, size_t len, const char *name, struct ppml_elf *out,
			   struct ppml_err *err)
{
	ppml_status st = PPML_OK;
	struct ppml_elf_load *loads = NULL;
	uint64_t phoff;
	uint64_t align;
	uint16_t phentsize, phnum, machine, type;
	size_t n_loads = 0;

	memset(out, 0, sizeof(*out));
	if (!name)
		name = "ELF";
	if (len > PPML_SGX_MAX_PAL_SIZE)
		return ppml_err_set(err, PPML_E_LIMIT, "%s: %zu bytes exceeds the PAL size cap of %u bytes",
				    name, len, PPML_SGX_MAX_PAL_SIZE);
	if (len < EHDR_SIZE)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: truncated ELF header (%zu bytes, need %u)", name, len, EHDR_SIZE);
	if (memcmp(data, "\x7f" "ELF", 4) != 0)
		return ppml_err_set(err, PPML_E_INPUT, "%s: not an ELF file (bad magic at offset 0)", name);
	if (data[EI_CLASS] != ELFCLASS64)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: e_ident[EI_CLASS] (offset 4) is %u, expected 2 (ELFCLASS64)", name,
				    data[EI_CLASS]);
	if (data[EI_DATA] != ELFDATA2LSB)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: e_ident[EI_DATA] (offset 5) is %u, expected 1 (little-endian)", name,
				    data[EI_DATA]);
	if (data[EI_VERSION] != EV_CURRENT)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: e_ident[EI_VERSION] (offset 6) is %u, expected 1", name,
				    data[EI_VERSION]);
	type = rd16(data + 16);
	machine = rd16(data + 18);
	if (type != ET_EXEC && type != ET_DYN)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: e_type (offset 0x10) is %u, expected 2 (EXEC) or 3 (DYN)", name, type);
	if (machine != EM_X86_64)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: e_machine (offset 0x12) is %u, expected 62 (x86-64)", name, machine);
	if (rd32(data + 20) != EV_CURRENT)
		return ppml_err_set(err, PPML_E_INPUT, "%s: e_version (offset 0x14) is %u, expected 1",
				    name, rd32(data + 20));
	out->entry = rd64(data + 24);
	out->type = type;
	phoff = rd64(data + 32);
	phentsize = rd16(data + 54);
	phnum = rd16(data + 56);
	if (phnum == 0xffff)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: e_phnum (offset 0x38) is PN_XNUM; extended numbering is not supported",
				    name);
	if (phnum == 0)
		return ppml_err_set(err, PPML_E_INPUT, "%s: e_phnum (offset 0x38) is 0: no program headers",
				    name);
	if (phnum > PPML_SGX_MAX_PHDRS)
		return ppml_err_set(err, PPML_E_LIMIT,
				    "%s: e_phnum (offset 0x38) is %u, above the cap of %u", name, phnum,
				    PPML_SGX_MAX_PHDRS);
	if (phentsize != PHDR_SIZE)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: e_phentsize (offset 0x36) is %u, expected %u", name, phentsize,
				    PHDR_SIZE);
	/* phnum <= 256 and phentsize == 56, so the product cannot overflow; phoff can be anything. */
	if (phoff > len || (uint64_t)phnum * PHDR_SIZE > len - phoff)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s: program header table (e_phoff 0x%llx, %u x %u bytes) beyond file size 0x%zx",
				    name, (unsigned long long)phoff, phnum, PHDR_SIZE, len);

	loads = calloc(phnum, sizeof(*loads));
	if (!loads)
		return ppml_err_set(err, PPML_E_NOMEM, "%s: out of memory", name);
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = data + phoff + (uint64_t)i * PHDR_SIZE;
		struct ppml_elf_load *l;
		if (rd32(ph) != PT_LOAD)
			continue;
		l = &loads[n_loads];
		l->flags = rd32(ph + 4);
		l->offset = rd64(ph + 8);
		l->vaddr = rd64(ph + 16);
		l->filesz = rd64(ph + 32);
		l->memsz = rd64(ph + 40);
		align = rd64(ph + 48);
		l->phdr_index = i;
		if (l->offset > len || l->filesz > len - l->offset) {
			st = ppml_err_set(err, PPML_E_INPUT,
					  "%s: program header %u: p_offset+p_filesz (0x%llx+0x%llx) beyond file size 0x%zx",
					  name, i, (unsigned long long)l->offset,
					  (unsigned long long)l->filesz, len);
			goto out;
		}
		if (l->filesz > l->memsz) {
			st = ppml_err_set(err, PPML_E_INPUT,
					  "%s: program header %u: p_filesz (0x%llx) > p_memsz (0x%llx)", name, i,
					  (unsigned long long)l->filesz, (unsigned long long)l->memsz);
			goto out;
		}
		/* gABI: p_align is 0, 1 or a power of two, and p_offset == p_vaddr modulo it. */
		if (align & (align - 1)) {
			st = ppml_err_set(err, PPML_E_INPUT,
					  "%s: program header %u: p_align (0x%llx) is not a power of two", name,
					  i, (unsigned long long)align);
			goto out;
		}
		if (align > 1 && (l->offset & (align - 1)) != (l->vaddr & (align - 1))) {
			st = ppml_err_set(err, PPML_E_INPUT,
					  "%s: program header %u: p_offset (0x%llx) and p_vaddr (0x%llx) differ modulo p_align (0x%llx)",
					  name, i, (unsigned long long)l->offset,
					  (unsigned long long)l->vaddr, (unsigned long long)align);
			goto out;
		}
		/* Bound vaddr+memsz so page arithmetic (roundup) cannot wrap. */
		if (l->vaddr > (1ull << 47) || l->memsz > (1ull << 47) - l->vaddr) {
			st = ppml_err_set(err, PPML_E_INPUT,
					  "%s: program header %u: p_vaddr+p_memsz (0x%llx+0x%llx) beyond 2^47",
					  name, i, (unsigned long long)l->vaddr,
					  (unsigned long long)l->memsz);
			goto out;
		}
		n_loads++;
	}
	if (n_loads == 0) {
		st = ppml_err_set(err, PPML_E_INPUT, "%s: no PT_LOAD program header", name);
		goto out;
	}
	out->loads = loads;
	out->n_loads = n_loads;
	loads = NULL;
out:
	free(loads);
	return st;
}
