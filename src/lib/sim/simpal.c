/* SPDX-License-Identifier: Apache-2.0 */
/* ppml-sim-pal.so (ppml/simpal.h): a fixed ELF image, built field by field
 * so that no compiler or linker version can change its bytes. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ppml/file.h"
#include "ppml/simpal.h"

#define PAGE      0x1000u
#define TEXT_OFF  0x200u
#define ENTRY_OFF 0x600u
#define DATA_SIZE 0x100u
#define FILE_SIZE (PAGE + DATA_SIZE)

static uint8_t image[FILE_SIZE];
static pthread_once_t built = PTHREAD_ONCE_INIT;

static void w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void w64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* One Elf64_Phdr of type PT_LOAD. */
static void phdr(uint8_t *p, uint32_t flags, uint64_t off, uint64_t filesz, uint64_t memsz)
{
	w32(p, 1);          /* PT_LOAD */
	w32(p + 4, flags);  /* PF_X 1, PF_W 2, PF_R 4 */
	w64(p + 8, off);    /* p_offset */
	w64(p + 16, off);   /* p_vaddr */
	w64(p + 24, off);   /* p_paddr */
	w64(p + 32, filesz);
	w64(p + 40, memsz);
	w64(p + 48, PAGE);  /* p_align */
}

static void build(void)
{
	static const char text[] =
		"ppml-sim-pal.so v1: a stand-in for Gramine's sgx/libpal.so, written by ppml "
		"for simulation signing (ppml run --sim) on machines without Gramine. It is "
		"never executed. An enclave measured with it has an MRENCLAVE that no real "
		"Gramine enclave has.";
	static const char data[] = "ppml-sim-pal data v1";
	uint8_t *e = image;
	memset(image, 0, sizeof(image));
	memcpy(e, "\x7f" "ELF", 4);
	e[4] = 2;               /* ELFCLASS64 */
	e[5] = 1;               /* little-endian */
	e[6] = 1;               /* EV_CURRENT */
	w16(e + 16, 3);         /* ET_DYN */
	w16(e + 18, 62);        /* EM_X86_64 */
	w32(e + 20, 1);         /* e_version */
	w64(e + 24, ENTRY_OFF); /* e_entry: a `ret` */
	w64(e + 32, 64);        /* e_phoff */
	w16(e + 52, 64);        /* e_ehsize */
	w16(e + 54, 56);        /* e_phentsize */
	w16(e + 56, 2);         /* e_phnum */
	w16(e + 58, 64);        /* e_shentsize; no section headers */
	phdr(e + 64, 4 | 1, 0, PAGE, PAGE);
	phdr(e + 64 + 56, 4 | 2, PAGE, DATA_SIZE, 3 * PAGE);
	_Static_assert(sizeof(text) < ENTRY_OFF - TEXT_OFF, "text fits before the entry");
	memcpy(e + TEXT_OFF, text, sizeof(text));
	e[ENTRY_OFF] = 0xc3;
	memcpy(e + PAGE, data, sizeof(data));
}

const uint8_t *ppml_simpal_image(size_t *len)
{
	pthread_once(&built, build);
	*len = sizeof(image);
	return image;
}

ppml_status ppml_simpal_write(const char *path, struct ppml_err *err)
{
	size_t n;
	const uint8_t *b = ppml_simpal_image(&n);
	return ppml_file_write_atomic(path, b, n, 0644, 0, err);
}

int ppml_simpal_is(const char *path)
{
	struct ppml_err err = {0};
	uint8_t *b = NULL;
	size_t n = 0, want;
	const uint8_t *img = ppml_simpal_image(&want);
	if (ppml_file_read(path, want + 1, &b, &n, &err) != PPML_OK)
		return 0;
	int same = n == want && memcmp(b, img, n) == 0;
	free(b);
	return same;
}
