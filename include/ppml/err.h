/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/err.h - how the library reports failure.
 *
 * Every fallible library function takes a caller-owned `struct ppml_err *`
 * (may be NULL when the caller does not want the message) and returns a
 * ppml_status.  On failure the library fills `err` with the status and one
 * line that names the file, field or offset and what was expected.  The
 * library never prints and never exits; the CLI and the HTTP layer decide
 * what the user sees.  Messages never contain secret material.
 */
#ifndef PPML_ERR_H
#define PPML_ERR_H

#include <stdarg.h>
#include <stddef.h>

#define PPML_ERR_MSG_MAX 1024

typedef enum ppml_status {
	PPML_OK = 0,
	PPML_E_INPUT,       /* malformed or unsupported input (parse errors, bad fields) */
	PPML_E_REFUSED,     /* a verification or policy check did not pass */
	PPML_E_IO,          /* the operating system refused a file or socket operation */
	PPML_E_NOMEM,       /* allocation failed */
	PPML_E_CRYPTO,      /* OpenSSL failed unexpectedly */
	PPML_E_EXISTS,      /* refusing to overwrite */
	PPML_E_NOTFOUND,    /* a named file, key or record does not exist */
	PPML_E_LIMIT,       /* an input exceeds one of the caps in ppml/limits.h */
	PPML_E_INTERNAL,    /* a bug: an invariant did not hold */
} ppml_status;

struct ppml_err {
	ppml_status code;
	char msg[PPML_ERR_MSG_MAX];
};

#if defined(__GNUC__)
#define PPML_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PPML_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define PPML_PRINTF(f, a)
#define PPML_WARN_UNUSED
#endif

/* Sets err (if non-NULL) to code and the formatted message; returns code. */
ppml_status ppml_err_set(struct ppml_err *err, ppml_status code, const char *fmt, ...)
	PPML_PRINTF(3, 4);

/* Like ppml_err_set, then appends ": " and the drained OpenSSL error queue
 * (the queue is always emptied, even when err is NULL). */
ppml_status ppml_err_openssl(struct ppml_err *err, ppml_status code, const char *fmt, ...)
	PPML_PRINTF(3, 4);

/* Prepends a formatted context ("file.toml: ") to an existing message. */
void ppml_err_prefix(struct ppml_err *err, const char *fmt, ...) PPML_PRINTF(2, 3);
/* Appends context after the message (truncated to the buffer).  NULL-safe. */
void ppml_err_suffix(struct ppml_err *err, const char *fmt, ...) PPML_PRINTF(2, 3);

/* Resets err to PPML_OK with an empty message.  Accepts NULL. */
void ppml_err_clear(struct ppml_err *err);

/* A short stable name for a status ("input", "refused", ...). */
const char *ppml_status_name(ppml_status code);

#endif
