/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/httpc.h - the HTTP(S) client of the CLI and of enclave clients
 * (libcurl): one request, a bounded response, verified TLS.
 */
#ifndef PPML_HTTPC_H
#define PPML_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"

struct ppml_httpc_opts {
	const char *cacert;          /* PEM CA file; NULL: the system store */
	long timeout_ms;             /* 0: 30 s */
	size_t max_response;         /* 0: 4 MiB */
	const char *bearer;          /* Authorization: Bearer ...; NULL: none */
};

struct ppml_httpc_resp {
	long status;
	uint8_t *body;               /* NUL-terminated; len excludes the NUL */
	size_t len;
};

/* method "GET", "POST", "PUT", "DELETE"; body may be NULL.  A transport
 * failure is PPML_E_IO naming the URL; any HTTP status is PPML_OK (the
 * caller reads out->status).  Free out with ppml_httpc_resp_free. */
ppml_status ppml_httpc_request(const char *method, const char *url, const char *content_type,
			       const void *body, size_t body_len, const struct ppml_httpc_opts *o,
			       struct ppml_httpc_resp *out, struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_httpc_resp_free(struct ppml_httpc_resp *r);

#endif
