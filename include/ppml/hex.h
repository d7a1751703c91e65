/* SPDX-License-Identifier: Apache-2.0 */
/* ppml/hex.h - lowercase hex encoding and strict decoding. */
#ifndef PPML_HEX_H
#define PPML_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"

/* Writes 2*len lowercase hex digits and a NUL into out (size >= 2*len+1). */
void ppml_hex_encode(const uint8_t *in, size_t len, char *out);

/* The value of one hex digit (either case), or -1. */
int ppml_hex_digit(int c);

/* Decodes exactly 2*out_len hex digits (either case) from the NUL-terminated
 * string hex; anything else (wrong length, non-hex) is PPML_E_INPUT naming
 * `what`. */
ppml_status ppml_hex_decode(const char *hex, uint8_t *out, size_t out_len, const char *what,
			    struct ppml_err *err) PPML_WARN_UNUSED;

#endif
