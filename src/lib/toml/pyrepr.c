/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Python's repr() of a str: what toml 0.10.2's writer starts from
 * (spec section 12), and how Gramine's error messages quote values.
 */
#include <stdint.h>
#include <string.h>

#include "ppml/toml.h"

/* Decodes one UTF-8 sequence (the parser guarantees valid UTF-8). */
static size_t utf8_next(const unsigned char *p, size_t len, uint32_t *cp)
{
	if (p[0] < 0x80 || len < 2) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		*cp = ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
		return 2;
	}
	if ((p[0] & 0xf0) == 0xe0 && len >= 3) {
		*cp = ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
		return 3;
	}
	if (len >= 4) {
		*cp = ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
		      ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
		return 4;
	}
	*cp = p[0];
	return 1;
}

/*
 * str.isprintable() for non-ASCII code points.  Latin-1 is exact (C1
 * controls, NO-BREAK SPACE and SOFT HYPHEN are not printable); above it the
 * separator (Zs/Zl/Zp), format (Cf), surrogate and private-use ranges are
 * listed.  Unassigned code points (Cn) are not in the table: Python escapes
 * them, we write them raw (documented in docs/ppml-toml.md).
 */
static int py_printable(uint32_t cp)
{
	static const uint32_t ranges[][2] = {
		{0x80, 0xa0}, {0xad, 0xad}, {0x600, 0x605}, {0x61c, 0x61c}, {0x6dd, 0x6dd},
		{0x70f, 0x70f}, {0x1680, 0x1680}, {0x180e, 0x180e}, {0x2000, 0x200f},
		{0x2028, 0x202f}, {0x205f, 0x2064}, {0x2066, 0x206f}, {0x3000, 0x3000},
		{0xd800, 0xf8ff}, {0xfeff, 0xfeff}, {0xfff9, 0xfffb}, {0xe0001, 0xe0001},
		{0xe0020, 0xe007f}, {0xf0000, 0x10ffff},
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return 0;
	return 1;
}

ppml_status ppml_toml_pyrepr_str(struct ppml_buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	ppml_status st;
	/* Python picks ' unless the text holds ' and no ". */
	char q = memchr(s, '\'', len) && !memchr(s, '"', len) ? '"' : '\'';

	if ((st = ppml_buf_putc(b, q)) != PPML_OK)
		return st;
	for (size_t i = 0; i < len && st == PPML_OK;) {
		uint32_t cp;
		size_t n = utf8_next(p + i, len - i, &cp);
		if (cp == (uint32_t)q || cp == '\\')
			st = ppml_buf_printf(b, "\\%c", (int)cp);
		else if (cp == '\n')
			st = ppml_buf_puts(b, "\\n");
		else if (cp == '\r')
			st = ppml_buf_puts(b, "\\r");
		else if (cp == '\t')
			st = ppml_buf_puts(b, "\\t");
		else if (cp < 0x20 || cp == 0x7f)
			st = ppml_buf_printf(b, "\\x%02x", (unsigned)cp);
		else if (cp < 0x80 || py_printable(cp))
			st = ppml_buf_append(b, p + i, n);
		else if (cp < 0x100)
			st = ppml_buf_printf(b, "\\x%02x", (unsigned)cp);
		else if (cp < 0x10000)
			st = ppml_buf_printf(b, "\\u%04x", (unsigned)cp);
		else
			st = ppml_buf_printf(b, "\\U%08x", (unsigned)cp);
		i += n;
	}
	return st == PPML_OK ? ppml_buf_putc(b, q) : st;
}

