/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "ppml/err.h"

ppml_status ppml_err_set(struct ppml_err *err, ppml_status code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

ppml_status ppml_err_openssl(struct ppml_err *err, ppml_status code, const char *fmt, ...)
{
	size_t used;
	unsigned long e;

	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	/* Drain the whole queue so a stale error never leaks into a later message. */
	while ((e = ERR_get_error()) != 0) {
		if (!err)
			continue;
		used = strlen(err->msg);
		if (used + 3 < sizeof(err->msg)) {
			char tmp[256];
			ERR_error_string_n(e, tmp, sizeof(tmp));
			snprintf(err->msg + used, sizeof(err->msg) - used, ": %s", tmp);
		}
	}
	return code;
}

void ppml_err_prefix(struct ppml_err *err, const char *fmt, ...)
{
	char head[PPML_ERR_MSG_MAX];
	char old[PPML_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: the head is the most useful part. */
	size_t hl = strnlen(head, sizeof(head) - 1);
	memcpy(err->msg, head, hl);
	size_t room = sizeof(err->msg) - 1 - hl;
	size_t ol = strnlen(old, room);
	memcpy(err->msg + hl, old, ol);
	err->msg[hl + ol] = '\0';
}

void ppml_err_suffix(struct ppml_err *err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err)
		return;
	n = strnlen(err->msg, sizeof(err->msg) - 1);
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - n, fmt, ap);
	va_end(ap);
}

void ppml_err_clear(struct ppml_err *err)
{
	if (!err)
		return;
	err->code = PPML_OK;
	err->msg[0] = '\0';
}

const char *ppml_status_name(ppml_status code)
{
	switch (code) {
	case PPML_OK: return "ok";
	case PPML_E_INPUT: return "input";
	case PPML_E_REFUSED: return "refused";
	case PPML_E_IO: return "io";
	case PPML_E_NOMEM: return "nomem";
	case PPML_E_CRYPTO: return "crypto";
	case PPML_E_EXISTS: return "exists";
	case PPML_E_NOTFOUND: return "notfound";
	case PPML_E_LIMIT: return "limit";
	case PPML_E_INTERNAL: return "internal";
	}
	return "unknown";
}
