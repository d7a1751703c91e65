/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ppml/buf.h"

ppml_status ppml_buf_reserve(struct ppml_buf *b, size_t extra)
{
	size_t need, ncap;
	uint8_t *p;

	/* +1 keeps room for the terminating NUL. */
	if (extra > SIZE_MAX - b->len - 1)
		return PPML_E_NOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return PPML_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	p = realloc(b->data, ncap);
	if (!p)
		return PPML_E_NOMEM;
	b->data = p;
	b->cap = ncap;
	return PPML_OK;
}

ppml_status ppml_buf_append(struct ppml_buf *b, const void *p, size_t n)
{
	if (ppml_buf_reserve(b, n) != PPML_OK)
		return PPML_E_NOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return PPML_OK;
}

ppml_status ppml_buf_putc(struct ppml_buf *b, int c)
{
	uint8_t ch = (uint8_t)c;
	return ppml_buf_append(b, &ch, 1);
}

ppml_status ppml_buf_puts(struct ppml_buf *b, const char *s)
{
	return ppml_buf_append(b, s, strlen(s));
}

ppml_status ppml_buf_printf(struct ppml_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || ppml_buf_reserve(b, (size_t)n) != PPML_OK) {
		va_end(ap2);
		return PPML_E_NOMEM;
	}
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	b->len += (size_t)n;
	return PPML_OK;
}

uint8_t *ppml_buf_steal(struct ppml_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void ppml_buf_free(struct ppml_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void ppml_buf_wipe_free(struct ppml_buf *b)
{
	if (!b)
		return;
	if (b->data)
		OPENSSL_cleanse(b->data, b->cap);
	ppml_buf_free(b);
}
