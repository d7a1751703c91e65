/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "ppml/hex.h"

void ppml_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int ppml_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ppml_status ppml_hex_decode(const char *hex, uint8_t *out, size_t out_len, const char *what,
			    struct ppml_err *err)
{
	size_t n = strlen(hex);
	if (n != 2 * out_len)
		return ppml_err_set(err, PPML_E_INPUT, "%s: expected %zu hex digits, got %zu", what,
				    2 * out_len, n);
	for (size_t i = 0; i < out_len; i++) {
		int hi = ppml_hex_digit(hex[2 * i]), lo = ppml_hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ppml_err_set(err, PPML_E_INPUT,
					    "%s: character %zu is not a hex digit", what,
					    hi < 0 ? 2 * i + 1 : 2 * i + 2);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return PPML_OK;
}
