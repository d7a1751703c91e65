/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the PAL ELF reader and, on success, the layout built from it. */
#include <stdint.h>
#include <string.h>

#include "ppml/elf.h"
#include "ppml/measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_elf elf;
	struct ppml_err err;
	if (ppml_elf_parse(data, size, "fuzz.so", &elf, &err) == PPML_OK) {
		struct ppml_measure_input in = {0};
		struct ppml_sgx_layout l;
		for (size_t i = 0; i < elf.n_loads; i++)
			if (elf.loads[i].offset + elf.loads[i].filesz > size)
				__builtin_trap();
		in.manifest = (const uint8_t *)"x";
		in.manifest_len = 1;
		in.pal = data;
		in.pal_len = size;
		in.enclave_size = 1ull << 30;
		in.max_threads = 1;
		in.edmm_enable = 1; /* no free area: keeps each run fast */
		if (ppml_measure_layout(&in, &l, &err) == PPML_OK) {
			uint8_t mr[32];
			uint64_t pal_size = l.pal_size;
			ppml_measure_layout_cleanup(&l);
			/* measuring hashes every PAL page: only for small images, to keep runs fast */
			if (pal_size <= (16u << 20) &&
			    ppml_measure_mrenclave(&in, mr, NULL, &err) != PPML_OK && err.code == PPML_OK)
				__builtin_trap();
		}
		ppml_elf_cleanup(&elf);
	}
	return 0;
}
