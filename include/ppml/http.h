/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/http.h - a small JSON-over-HTTP(S) server (libmicrohttpd, GnuTLS for TLS).
 *
 * The service layer describes its API as a route table; this layer does the
 * HTTP: binding, TLS >= 1.2, a thread pool, connection and time limits,
 * per-route body caps enforced before the body is read (tighter for routes
 * that need no credential), bearer-credential checks before the body is
 * read, and JSON error bodies `{"error":{"code":..., "message":...}}` for
 * every refusal.  Handlers run on pool threads, concurrently.
 *
 * libmicrohttpd is confined to src/lib/http/.  Nothing here prints; log
 * lines go to the caller's callback.
 */
#ifndef PPML_HTTP_H
#define PPML_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"

struct json_t;

#define PPML_HTTP_MAX_PARAMS    2
#define PPML_HTTP_MAX_PARAM_LEN 128

struct ppml_http_req {
	const char *method;
	const char *path;                  /* without the query */
	const uint8_t *body;               /* NUL-terminated copy; body_len excludes the NUL */
	size_t body_len;
	const char *bearer;                /* the Authorization: Bearer credential, or NULL */
	char params[PPML_HTTP_MAX_PARAMS][PPML_HTTP_MAX_PARAM_LEN + 1]; /* "{}" segments */
	size_t n_params;
	void *auth;                        /* what authorize() returned for this request */
	char peer[64];                     /* client address, for logs */
	void *conn;                        /* private */
};

/* A query-string value (decoded), or NULL. */
const char *ppml_http_query(const struct ppml_http_req *r, const char *key);
/* A request header, or NULL. */
const char *ppml_http_header(const struct ppml_http_req *r, const char *name);

struct ppml_http_resp {
	unsigned status;                   /* 0 is taken as 500 */
	struct json_t *json;               /* the body (owned: decref'ed after sending) */
	char *text;                        /* or a malloc'ed text body (owned) ... */
	size_t text_len;
	const char *content_type;          /* ... of this type (static string) */
	const char *error_code;            /* for logs/metrics: the error code sent, if any */
};

/* Sets resp to status and {"error":{"code":code,"message":...}}. */
void ppml_http_error(struct ppml_http_resp *resp, unsigned status, const char *code,
		     const char *fmt, ...) PPML_PRINTF(4, 5);

typedef void (*ppml_http_handler)(void *ctx, struct ppml_http_req *req,
				  struct ppml_http_resp *resp);

struct ppml_http_route {
	const char *method;                /* "GET", "POST", "PUT", "DELETE" */
	const char *pattern;               /* "/v1/policies/{}": {} is one segment of
					    * [A-Za-z0-9._:-], 1..128 bytes */
	size_t max_body;                   /* bytes; a larger body is 413 before it is read */
	const char *role;                  /* NULL: no credential; else authorize() decides */
	ppml_http_handler handler;
};

/* Decides a credential before the body is read: returns true to proceed
 * (storing anything in *auth for the handler), or false with a status
 * (401 no or unknown credential, 403 not allowed) and a message. */
typedef bool (*ppml_http_authorize)(void *ctx, const struct ppml_http_req *req, const char *role,
				    void **auth, unsigned *status, char *why, size_t why_len);
/* Frees what authorize() stored (may be NULL). */
typedef void (*ppml_http_auth_free)(void *ctx, void *auth);
/* One line per finished request: method, path, status, error code, time. */
typedef void (*ppml_http_log)(void *ctx, const struct ppml_http_req *req, unsigned status,
			      const char *error_code, double seconds);

struct ppml_http_options {
	const char *listen;                /* "127.0.0.1:8443", "[::1]:8443"; port 0: any */
	const char *tls_cert_pem;          /* PEM chain; NULL with tls_key_pem NULL: plain HTTP */
	const char *tls_key_pem;           /* PEM private key (wiped when the server stops) */
	unsigned threads;                  /* 0: 4 */
	unsigned max_connections;          /* 0: 256 */
	unsigned per_ip_connections;       /* 0: unlimited */
	unsigned timeout_s;                /* idle connection timeout; 0: 30 */
	const struct ppml_http_route *routes;
	size_t n_routes;
	ppml_http_authorize authorize;     /* required when a route has a role */
	ppml_http_auth_free auth_free;
	ppml_http_log log;                 /* may be NULL */
	void *ctx;                         /* passed to every callback */
};

struct ppml_http_server;

/* Binds and starts serving on the pool threads.  The route table and ctx
 * must outlive the server. */
ppml_status ppml_http_start(const struct ppml_http_options *o, struct ppml_http_server **out,
			    struct ppml_err *err) PPML_WARN_UNUSED;
/* The bound port (useful with port 0). */
uint16_t ppml_http_port(const struct ppml_http_server *s);
/* Stops accepting, finishes or drops open connections, frees.  Accepts NULL. */
void ppml_http_stop(struct ppml_http_server *s);

#endif
