/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the PPMLENC1 reader (header, then every segment under a fixed key)
 * and the PWK1 wrapped-key parser: nothing decrypts under the wrong key, and
 * a failure leaves no output. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ppml/envelope.h"
#include "ppml/keysvc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64], in[96], out[96];
	static const uint8_t key[32] = {7};
	struct ppml_err err;
	struct ppml_wdk w;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/ppml-fuzz-env-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(in, sizeof(in), "%s/in", dir);
		snprintf(out, sizeof(out), "%s/out", dir);
	}
	if (ppml_wdk_parse(data, size, &w, &err) == PPML_OK &&
	    (w.sealed + w.sealed_len != data + size || (w.key_len != 16 && w.key_len != 32)))
		__builtin_trap();
	FILE *f = fopen(in, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
	unlink(out);
	if (ppml_enc_decrypt_file(in, out, key, NULL, NULL, &err) == PPML_OK) {
		/* Only a file really encrypted under this key gets here. */
		unlink(out);
	} else if (access(out, F_OK) == 0) {
		__builtin_trap();
	}
	return 0;
}
