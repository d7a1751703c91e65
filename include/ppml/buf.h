/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/buf.h - growable byte buffer.
 *
 * Start from `struct ppml_buf b = {0};`.  data is always NUL-terminated after
 * any successful append (the NUL is not counted in len), so text built here
 * can be used as a C string.  Not thread-safe.
 */
#ifndef PPML_BUF_H
#define PPML_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"

struct ppml_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* Each returns PPML_OK or PPML_E_NOMEM (the buffer is unchanged then). */
ppml_status ppml_buf_reserve(struct ppml_buf *b, size_t extra) PPML_WARN_UNUSED;
ppml_status ppml_buf_append(struct ppml_buf *b, const void *p, size_t n) PPML_WARN_UNUSED;
ppml_status ppml_buf_putc(struct ppml_buf *b, int c) PPML_WARN_UNUSED;
ppml_status ppml_buf_puts(struct ppml_buf *b, const char *s) PPML_WARN_UNUSED;
ppml_status ppml_buf_printf(struct ppml_buf *b, const char *fmt, ...)
	PPML_PRINTF(2, 3) PPML_WARN_UNUSED;

/* Transfers ownership of the data to the caller (NUL-terminated, may be NULL
 * when nothing was appended) and resets the buffer. */
uint8_t *ppml_buf_steal(struct ppml_buf *b, size_t *len);

/* Frees the storage.  Accepts NULL. */
void ppml_buf_free(struct ppml_buf *b);
/* Wipes (OPENSSL_cleanse) then frees: for buffers that held secrets. */
void ppml_buf_wipe_free(struct ppml_buf *b);

#endif
