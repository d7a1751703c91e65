/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON-over-HTTP(S) server (include/ppml/http.h) on libmicrohttpd. */
#include "ppml/http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

struct ppml_http_server {
	struct MHD_Daemon *d;
	struct ppml_http_options o;
	char *cert, *key;                  /* copies MHD reads while running */
	size_t key_len;
	uint16_t port;
};

/* Per-request state, from the headers to the completion callback. */
struct conn {
	const struct ppml_http_route *route;
	struct ppml_http_req req;
	uint8_t *buf;
	size_t len, cap;
	bool too_big;
	unsigned early_status;             /* a refusal decided from the headers */
	struct ppml_http_resp early;
	struct timespec t0;
	bool has_auth;
};

void ppml_http_error(struct ppml_http_resp *resp, unsigned status, const char *code,
		     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(resp->json);
	free(resp->text);
	resp->text = NULL;
	resp->status = status;
	resp->error_code = code;
	resp->json = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
}

const char *ppml_http_query(const struct ppml_http_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *ppml_http_header(const struct ppml_http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static bool seg_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '-';
}

/* Matches path against a pattern, capturing "{}" segments. */
static bool match(const char *pattern, const char *path, struct ppml_http_req *r)
{
	size_t np = 0;
	while (*pattern && *path) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t n = 0;
			while (path[n] && path[n] != '/') {
				if (!seg_char(path[n]))
					return false;
				n++;
			}
			if (n == 0 || n > PPML_HTTP_MAX_PARAM_LEN || np == PPML_HTTP_MAX_PARAMS)
				return false;
			memcpy(r->params[np], path, n);
			r->params[np][n] = 0;
			np++;
			path += n;
			pattern += 2;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	if (*pattern || *path)
		return false;
	r->n_params = np;
	return true;
}

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static enum MHD_Result respond(struct MHD_Connection *c, struct conn *st, struct ppml_http_resp *r,
			    const struct ppml_http_server *s)
{
	char *body = NULL;
	size_t len = 0;
	const char *type = "application/json";
	struct MHD_Response *mr;
	enum MHD_Result ok;

	if (!r->status)
		r->status = 500;
	if (r->json) {
		body = json_dumps(r->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
		len = body ? strlen(body) : 0;
		if (body) {
			/* One line per body: easier for clients and logs. */
			char *nl = realloc(body, len + 2);
			if (nl) {
				body = nl;
				body[len++] = '\n';
				body[len] = 0;
			}
		}
	} else if (r->text) {
		body = r->text;
		len = r->text_len;
		r->text = NULL;
		type = r->content_type ? r->content_type : "text/plain; charset=utf-8";
	}
	if (!body && (r->json || r->text_len)) {
		r->status = 500;
		r->error_code = "internal";
	}
	mr = MHD_create_response_from_buffer(len, body ? body : (char *)"",
					     body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!mr) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(mr, "Content-Type", type);
	MHD_add_response_header(mr, "Cache-Control", "no-store");
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	ok = MHD_queue_response(c, r->status, mr);
	MHD_destroy_response(mr);
	if (s->o.log && st)
		s->o.log(s->o.ctx, &st->req, r->status, r->error_code, since(&st->t0));
	json_decref(r->json);
	r->json = NULL;
	free(r->text);
	r->text = NULL;
	return ok;
}

/* The first call for a request: headers only.  Route, body cap and
 * credential are decided here, before any body byte is read. */
static void on_headers(struct ppml_http_server *s, struct MHD_Connection *c, const char *url,
		       const char *method, struct conn *st)
{
	const struct ppml_http_route *path_match = NULL;
	struct ppml_http_req *r = &st->req;

	r->conn = c;
	r->method = method;
	r->path = url;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				  r->peer, sizeof(r->peer));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, r->peer,
				  sizeof(r->peer));
	}
	for (size_t i = 0; i < s->o.n_routes && !st->route; i++) {
		const struct ppml_http_route *rt = &s->o.routes[i];
		struct ppml_http_req probe = {0};
		if (!match(rt->pattern, url, &probe))
			continue;
		path_match = rt;
		if (strcmp(rt->method, method) != 0)
			continue;
		st->route = rt;
		memcpy(r->params, probe.params, sizeof(r->params));
		r->n_params = probe.n_params;
	}
	if (!st->route) {
		if (path_match)
			ppml_http_error(&st->early, 405, "method_not_allowed",
					"%s is not allowed on %s", method, url);
		else
			ppml_http_error(&st->early, 404, "not_found", "no route %s %s", method, url);
		st->early_status = st->early.status;
		return;
	}
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	if (cl) {
		char *end;
		unsigned long long n = strtoull(cl, &end, 10);
		if (*end || end == cl || n > st->route->max_body) {
			ppml_http_error(&st->early, 413, "body_too_large",
					"the body of %s %s may have at most %zu bytes", method,
					st->route->pattern, st->route->max_body);
			st->early_status = 413;
			return;
		}
	}
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
		r->bearer = auth + 7;
	if (st->route->role) {
		unsigned status = 401;
		char why[256] = "a credential is required";
		if (!s->o.authorize ||
		    !s->o.authorize(s->o.ctx, r, st->route->role, &r->auth, &status, why,
				    sizeof(why))) {
			ppml_http_error(&st->early, status, status == 403 ? "forbidden"
									 : "unauthorized",
					"%s", why);
			st->early_status = st->early.status;
			return;
		}
		st->has_auth = true;
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct ppml_http_server *s = cls;
	struct conn *st = *con_cls;
	(void)version;

	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &st->t0);
		*con_cls = st;
		on_headers(s, c, url, method, st);
		/* A refusal is sent at once: the body is never read, and the
		 * connection is closed after the response. */
		if (st->early_status)
			return respond(c, st, &st->early, s);
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* Refused already, or over the cap (chunked bodies have no
		 * Content-Length): discard, answer at the end. */
		if (!st->early_status && !st->too_big) {
			size_t n = *upload_data_size;
			if (n > st->route->max_body - st->len) {
				st->too_big = true;
			} else {
				if (st->len + n + 1 > st->cap) {
					size_t cap = st->cap ? st->cap : 4096;
					while (cap < st->len + n + 1)
						cap *= 2;
					uint8_t *nb = realloc(st->buf, cap);
					if (!nb)
						return MHD_NO;
					st->buf = nb;
					st->cap = cap;
				}
				memcpy(st->buf + st->len, upload_data, n);
				st->len += n;
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (st->early_status)
		return respond(c, st, &st->early, s);
	if (st->too_big) {
		struct ppml_http_resp r = {0};
		ppml_http_error(&r, 413, "body_too_large",
				"the body of %s %s may have at most %zu bytes", method,
				st->route->pattern, st->route->max_body);
		return respond(c, st, &r, s);
	}
	static const uint8_t empty[1] = {0};
	if (st->buf)
		st->buf[st->len] = 0;
	st->req.body = st->buf ? st->buf : empty;
	st->req.body_len = st->len;
	struct ppml_http_resp r = {0};
	st->route->handler(s->o.ctx, &st->req, &r);
	return respond(c, st, &r, s);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct ppml_http_server *s = cls;
	struct conn *st = *con_cls;
	(void)c;
	(void)toe;
	if (!st)
		return;
	if (st->has_auth && s->o.auth_free)
		s->o.auth_free(s->o.ctx, st->req.auth);
	json_decref(st->early.json);
	free(st->early.text);
	if (st->buf) {
		OPENSSL_cleanse(st->buf, st->cap); /* bodies may hold data keys */
		free(st->buf);
	}
	free(st);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	/* libmicrohttpd's own diagnostics are dropped: they may echo request
	 * bytes, and the library never prints. */
	(void)cls;
	(void)fmt;
	(void)ap;
}

static ppml_status parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6,
				struct ppml_err *err)
{
	char host[128];
	const char *port;

	if (!listen || !*listen)
		return ppml_err_set(err, PPML_E_INPUT, "--listen: empty address");
	if (listen[0] == '[') {
		const char *e = strchr(listen, ']');
		if (!e || e[1] != ':' || (size_t)(e - listen - 1) >= sizeof(host))
			return ppml_err_set(err, PPML_E_INPUT,
					    "--listen %s: expected [IPv6]:PORT", listen);
		memcpy(host, listen + 1, (size_t)(e - listen - 1));
		host[e - listen - 1] = 0;
		port = e + 2;
	} else {
		const char *e = strrchr(listen, ':');
		if (!e || (size_t)(e - listen) >= sizeof(host))
			return ppml_err_set(err, PPML_E_INPUT,
					    "--listen %s: expected ADDRESS:PORT, e.g. 127.0.0.1:8443",
					    listen);
		memcpy(host, listen, (size_t)(e - listen));
		host[e - listen] = 0;
		port = e + 1;
	}
	char *end;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 0 || p > 65535)
		return ppml_err_set(err, PPML_E_INPUT, "--listen %s: port must be 0..65535", listen);
	memset(ss, 0, sizeof(*ss));
	/* inet_pton, not getaddrinfo: "1.2.3" or "127.1" are not addresses here. */
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*v6 = false;
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*v6 = true;
	} else {
		return ppml_err_set(err, PPML_E_INPUT,
				    "--listen %s: '%s' is not a numeric IPv4 or IPv6 address",
				    listen, host);
	}
	return PPML_OK;
}

ppml_status ppml_http_start(const struct ppml_http_options *o, struct ppml_http_server **out,
			    struct ppml_err *err)
{
	struct ppml_http_server *s;
	struct sockaddr_storage ss;
	bool v6 = false;
	ppml_status rc;

	*out = NULL;
	if (!o->tls_cert_pem != !o->tls_key_pem)
		return ppml_err_set(err, PPML_E_INPUT,
				    "TLS needs both a certificate and a key (--tls-cert and --tls-key)");
	if ((rc = parse_listen(o->listen, &ss, &v6, err)) != PPML_OK)
		return rc;
	if (!(s = calloc(1, sizeof(*s))))
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	s->o = *o;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 (v6 ? MHD_USE_IPv6 : 0);
	unsigned threads = o->threads ? o->threads : 4;
	if (o->tls_cert_pem) {
		s->cert = strdup(o->tls_cert_pem);
		s->key_len = strlen(o->tls_key_pem);
		s->key = OPENSSL_secure_malloc(s->key_len + 1);
		if (!s->cert || !s->key) {
			ppml_http_stop(s);
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		}
		memcpy(s->key, o->tls_key_pem, s->key_len + 1);
		flags |= MHD_USE_TLS;
	}
	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, s->key},
		/* TLS 1.2 and 1.3 only (issue 7). */
		{MHD_OPTION_HTTPS_PRIORITIES, 0,
		 (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"},
		{MHD_OPTION_END, 0, NULL},
	};
	struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
	s->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
		o->max_connections ? o->max_connections : 256u, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		o->per_ip_connections, MHD_OPTION_CONNECTION_TIMEOUT,
		o->timeout_s ? o->timeout_s : 30u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_STRICT_FOR_CLIENT, 1,
		MHD_OPTION_ARRAY, o->tls_cert_pem ? tls : none, MHD_OPTION_END);
	if (!s->d) {
		ppml_http_stop(s);
		return ppml_err_set(err, PPML_E_IO,
				    "cannot listen on %s%s (address in use, not local, or the TLS "
				    "certificate and key do not load)",
				    o->listen, o->tls_cert_pem ? " with TLS" : "");
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	*out = s;
	return PPML_OK;
}

uint16_t ppml_http_port(const struct ppml_http_server *s)
{
	return s->port;
}

void ppml_http_stop(struct ppml_http_server *s)
{
	if (!s)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->key) {
		OPENSSL_cleanse(s->key, s->key_len);
		OPENSSL_secure_free(s->key);
	}
	free(s->cert);
	free(s);
}
