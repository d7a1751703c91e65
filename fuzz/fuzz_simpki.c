/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the loader of a saved simulation PKI (ppml_simpki_load): the input
 * is pki.json, beside the keys.pem and certs.pem of a PKI made once.  A PKI
 * that loads has the FMSPC and PCK CA kind the input names, and saves again
 * to a pki.json that loads to the same parameters. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ppml/file.h"
#include "ppml/simpki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[128], dir2[80];

static void cleanup(void)
{
	static const char *const names[] = {"pki.json", "keys.pem", "certs.pem", "root.pem"};
	char p[160];
	for (int d = 0; d < 2; d++) {
		const char *base = d ? dir2 : dir;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", base, names[i]);
			unlink(p);
		}
		rmdir(base);
	}
}

static void setup(void)
{
	struct ppml_simpki_params p = {0};
	struct ppml_simpki *k = NULL;
	struct ppml_err err;
	snprintf(dir, sizeof(dir), "/tmp/ppml-fuzz-simpki-%d", (int)getpid());
	snprintf(dir2, sizeof(dir2), "%s-again", dir);
	snprintf(path, sizeof(path), "%s/pki.json", dir);
	if (ppml_simpki_new(&p, &k, &err) != PPML_OK || ppml_simpki_save(k, dir, false, &err) != PPML_OK)
		__builtin_trap();
	ppml_simpki_free(k);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppml_simpki *k = NULL, *k2 = NULL;
	struct ppml_err err;
	if (!dir[0])
		setup();
	if (ppml_file_write_atomic(path, data, size, 0644, 0, &err) != PPML_OK)
		return 0;
	if (ppml_simpki_load(dir, &k, &err) != PPML_OK) {
		if (err.code != PPML_E_INPUT && err.code != PPML_E_LIMIT)
			__builtin_trap();
		return 0;
	}
	const struct ppml_simpki_params *a = ppml_simpki_get_params(k);
	if (ppml_simpki_save(k, dir2, false, &err) != PPML_OK ||
	    ppml_simpki_load(dir2, &k2, &err) != PPML_OK)
		__builtin_trap();
	const struct ppml_simpki_params *b = ppml_simpki_get_params(k2);
	if (memcmp(a->fmspc, b->fmspc, sizeof(a->fmspc)) || a->platform_ca != b->platform_ca ||
	    a->pcesvn != b->pcesvn || memcmp(a->comp_svn, b->comp_svn, sizeof(a->comp_svn)))
		__builtin_trap();
	ppml_simpki_free(k);
	ppml_simpki_free(k2);
	return 0;
}
