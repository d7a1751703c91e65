/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 7512 PKCS#11 URIs, strictly: section 2.3's grammar, percent-decoding,
 * each attribute once, caps from ppml/limits.h.  Attributes ppml cannot honour
 * are refused rather than ignored, so a URI never silently selects a key other
 * than the one it names.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "ppml/hex.h"
#include "ppml/file.h"
#include "ppml/limits.h"
#include "ppml/pkcs11.h"

#define SCHEME "pkcs11:"

int ppml_pkcs11_is_uri(const char *s)
{
	return s && strncasecmp(s, SCHEME, sizeof(SCHEME) - 1) == 0;
}

void ppml_pkcs11_uri_free(struct ppml_pkcs11_uri *u)
{
	if (!u)
		return;
	free(u->token);
	free(u->manufacturer);
	free(u->model);
	free(u->serial);
	free(u->object);
	free(u->id);
	free(u->pin_source);
	free(u->module_path);
	free(u);
}

/* RFC 3986 unreserved. */
static int is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 7512 p11-res-avail. */
static int is_res_avail(unsigned char c)
{
	return c != 0 && strchr(":[]@!$'()*+,=", c) != NULL;
}

/* pk11-pchar (path) adds "&"; pk11-qchar (query) adds "/", "?", "|". */
static int is_value_char(unsigned char c, int query)
{
	if (is_unreserved(c) || is_res_avail(c))
		return 1;
	return query ? (c == '/' || c == '?' || c == '|') : c == '&';
}


/* Percent-decodes v[0,n) into a new buffer of at most cap bytes (plus a NUL).
 * binary = 0 refuses embedded NULs.  name is for messages. */
static ppml_status decode_value(const char *name, const char *v, size_t n, int query, size_t cap,
				int binary, uint8_t **out, size_t *out_len, struct ppml_err *err)
{
	uint8_t *buf;
	size_t o = 0;

	*out = NULL;
	*out_len = 0;
	if (n == 0)
		return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: %s has an empty value", name);
	buf = malloc((n < cap ? n : cap) + 1);
	if (!buf)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '%') {
			int hi = i + 2 < n ? ppml_hex_digit((unsigned char)v[i + 1]) : -1;
			int lo = i + 2 < n ? ppml_hex_digit((unsigned char)v[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				free(buf);
				return ppml_err_set(err, PPML_E_INPUT,
						    "PKCS#11 URI: %s has a malformed percent-escape (expected %%XX)",
						    name);
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			if (c == 0 && !binary) {
				free(buf);
				return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: %s contains %%00", name);
			}
		} else if (!is_value_char(c, query)) {
			free(buf);
			return ppml_err_set(err, PPML_E_INPUT,
					    "PKCS#11 URI: %s contains a character RFC 7512 does not allow "
					    "(byte 0x%02x; write it as %%%02X)",
					    name, c, c);
		}
		if (o == cap) {
			free(buf);
			return ppml_err_set(err, PPML_E_LIMIT,
					    "PKCS#11 URI: %s is longer than %zu bytes", name, cap);
		}
		buf[o++] = c;
	}
	buf[o] = 0;
	*out = buf;
	*out_len = o;
	return PPML_OK;
}

static ppml_status set_string(char **field, const char *name, const char *v, size_t n, int query,
			      size_t cap, struct ppml_err *err)
{
	uint8_t *d;
	size_t dl;
	ppml_status st;

	if (*field)
		return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: %s appears twice", name);
	st = decode_value(name, v, n, query, cap, 0, &d, &dl, err);
	if (st == PPML_OK)
		*field = (char *)d;
	return st;
}

static ppml_status path_attr(struct ppml_pkcs11_uri *u, const char *name, size_t nl, const char *v,
			     size_t n, struct ppml_err *err)
{
	char nm[32];

	/* Names were checked to be short and printable by the caller. */
	memcpy(nm, name, nl);
	nm[nl] = 0;
	if (strcmp(nm, "token") == 0)
		return set_string(&u->token, nm, v, n, 0, 32, err);
	if (strcmp(nm, "manufacturer") == 0)
		return set_string(&u->manufacturer, nm, v, n, 0, 32, err);
	if (strcmp(nm, "model") == 0)
		return set_string(&u->model, nm, v, n, 0, 16, err);
	if (strcmp(nm, "serial") == 0)
		return set_string(&u->serial, nm, v, n, 0, 16, err);
	if (strcmp(nm, "object") == 0)
		return set_string(&u->object, nm, v, n, 0, PPML_PKCS11_MAX_LABEL, err);
	if (strcmp(nm, "id") == 0) {
		if (u->id)
			return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: id appears twice");
		return decode_value(nm, v, n, 0, PPML_PKCS11_MAX_ID, 1, &u->id, &u->id_len, err);
	}
	if (strcmp(nm, "type") == 0) {
		if (u->type != PPML_PKCS11_TYPE_ANY)
			return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: type appears twice");
		if (n == 7 && memcmp(v, "private", 7) == 0)
			u->type = PPML_PKCS11_TYPE_PRIVATE;
		else if (n == 6 && memcmp(v, "public", 6) == 0)
			u->type = PPML_PKCS11_TYPE_PUBLIC;
		else
			return ppml_err_set(err, PPML_E_INPUT,
					    "PKCS#11 URI: type must be private or public for an SGX key");
		return PPML_OK;
	}
	if (strcmp(nm, "slot-id") == 0) {
		unsigned long id = 0;
		if (u->has_slot_id)
			return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: slot-id appears twice");
		if (n == 0 || n > 19)
			return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: slot-id must be a decimal number");
		for (size_t i = 0; i < n; i++) {
			if (v[i] < '0' || v[i] > '9')
				return ppml_err_set(err, PPML_E_INPUT,
						    "PKCS#11 URI: slot-id must be a decimal number");
			id = id * 10 + (unsigned long)(v[i] - '0');
		}
		u->has_slot_id = 1;
		u->slot_id = id;
		return PPML_OK;
	}
	return ppml_err_set(err, PPML_E_INPUT,
			    "PKCS#11 URI: attribute '%s' is not supported (use token, manufacturer, model, "
			    "serial, slot-id, object, id, type)",
			    nm);
}

static ppml_status query_attr(struct ppml_pkcs11_uri *u, const char *name, size_t nl, const char *v,
			      size_t n, struct ppml_err *err)
{
	char nm[32];
	ppml_status st;

	memcpy(nm, name, nl);
	nm[nl] = 0;
	if (strcmp(nm, "pin-value") == 0)
		return ppml_err_set(err, PPML_E_INPUT,
				    "PKCS#11 URI: pin-value is refused: a PIN never comes from the command "
				    "line; use --pin-file F, PKCS11_PIN or ?pin-source=file:F");
	if (strcmp(nm, "pin-source") == 0) {
		st = set_string(&u->pin_source, nm, v, n, 1, PPML_MANIFEST_MAX_PATH, err);
		if (st != PPML_OK)
			return st;
		/* RFC 7512 section 2.3: a URI; only local files are supported. */
		if (strncmp(u->pin_source, "file:", 5) == 0) {
			size_t l = strlen(u->pin_source + 5);
			memmove(u->pin_source, u->pin_source + 5, l + 1);
		} else if (strchr(u->pin_source, ':')) {
			return ppml_err_set(err, PPML_E_INPUT,
					    "PKCS#11 URI: pin-source must be a file (file:PATH or PATH)");
		}
		if (u->pin_source[0] == 0)
			return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: pin-source has an empty path");
		return PPML_OK;
	}
	if (strcmp(nm, "module-path") == 0)
		return set_string(&u->module_path, nm, v, n, 1, PPML_MANIFEST_MAX_PATH, err);
	return ppml_err_set(err, PPML_E_INPUT,
			    "PKCS#11 URI: query attribute '%s' is not supported (use pin-source, module-path)",
			    nm);
}

/* Splits s[0,len) at sep and hands each "name=value" to fn. */
static ppml_status parse_attrs(struct ppml_pkcs11_uri *u, const char *s, size_t len, char sep,
			       int query, struct ppml_err *err)
{
	size_t start = 0;

	if (len == 0)
		return PPML_OK;
	while (start <= len) {
		const char *seg = s + start;
		const char *end = memchr(seg, sep, len - start);
		size_t sl = end ? (size_t)(end - seg) : len - start;
		const char *eq = memchr(seg, '=', sl);
		size_t nl;
		ppml_status st;

		if (sl == 0)
			return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: empty attribute (stray '%c')", sep);
		if (!eq)
			return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: attribute without '=' at byte %zu",
					    (size_t)(seg - s));
		nl = (size_t)(eq - seg);
		if (nl == 0 || nl >= 32)
			return ppml_err_set(err, PPML_E_INPUT,
					    "PKCS#11 URI: attribute name missing or too long at byte %zu",
					    (size_t)(seg - s));
		for (size_t i = 0; i < nl; i++) {
			unsigned char c = (unsigned char)seg[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
				return ppml_err_set(err, PPML_E_INPUT,
						    "PKCS#11 URI: bad character in an attribute name at byte %zu",
						    (size_t)(seg - s) + i);
		}
		st = query ? query_attr(u, seg, nl, eq + 1, sl - nl - 1, err)
			   : path_attr(u, seg, nl, eq + 1, sl - nl - 1, err);
		if (st != PPML_OK)
			return st;
		if (!end)
			break;
		start += sl + 1;
		if (start == len)
			return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: empty attribute (stray '%c')", sep);
	}
	return PPML_OK;
}

ppml_status ppml_pkcs11_uri_parse(const char *s, size_t len, struct ppml_pkcs11_uri **out,
				  struct ppml_err *err)
{
	struct ppml_pkcs11_uri *u = NULL;
	const char *body, *q;
	size_t blen, plen;
	ppml_status st;

	*out = NULL;
	if (len > PPML_PKCS11_MAX_URI)
		return ppml_err_set(err, PPML_E_LIMIT, "PKCS#11 URI is longer than %u bytes",
				    PPML_PKCS11_MAX_URI);
	if (len < sizeof(SCHEME) - 1 || strncasecmp(s, SCHEME, sizeof(SCHEME) - 1) != 0)
		return ppml_err_set(err, PPML_E_INPUT, "not a PKCS#11 URI (expected 'pkcs11:...')");
	if (memchr(s, 0, len))
		return ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI contains a NUL byte");
	u = calloc(1, sizeof(*u));
	if (!u)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	body = s + sizeof(SCHEME) - 1;
	blen = len - (sizeof(SCHEME) - 1);
	q = memchr(body, '?', blen);
	plen = q ? (size_t)(q - body) : blen;
	if (memchr(body, '#', blen)) {
		st = ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: a fragment ('#') is not allowed");
		goto fail;
	}
	st = parse_attrs(u, body, plen, ';', 0, err);
	if (st == PPML_OK && q) {
		if (plen + 1 == blen) {
			st = ppml_err_set(err, PPML_E_INPUT, "PKCS#11 URI: empty query after '?'");
			goto fail;
		}
		st = parse_attrs(u, q + 1, blen - plen - 1, '&', 1, err);
	}
	if (st != PPML_OK)
		goto fail;
	*out = u;
	return PPML_OK;
fail:
	ppml_pkcs11_uri_free(u);
	return st;
}

ppml_status ppml_pkcs11_pin_read(const char *path, char **pin, size_t *pin_len, struct ppml_err *err)
{
	return ppml_file_read_secret(path, PPML_PKCS11_MAX_PIN, "PIN", pin, pin_len, err);
}

void ppml_pkcs11_pin_free(char *pin, size_t pin_len)
{
	if (!pin)
		return;
	OPENSSL_cleanse(pin, pin_len + 1);
	free(pin);
}

ppml_status ppml_pkcs11_pin_resolve(const char *pin_file, const struct ppml_pkcs11_uri *uri,
				    char **pin, size_t *len, struct ppml_err *err)
{
	const char *env;

	*pin = NULL;
	*len = 0;
	if (pin_file)
		return ppml_pkcs11_pin_read(pin_file, pin, len, err);
	if (uri->pin_source)
		return ppml_pkcs11_pin_read(uri->pin_source, pin, len, err);
	env = getenv("PKCS11_PIN");
	if (!env || !*env)
		return PPML_OK;
	*len = strnlen(env, PPML_PKCS11_MAX_PIN + 1);
	if (*len > PPML_PKCS11_MAX_PIN)
		return ppml_err_set(err, PPML_E_LIMIT, "PKCS11_PIN is longer than %u bytes",
				    PPML_PKCS11_MAX_PIN);
	*pin = malloc(*len + 1);
	if (!*pin)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	memcpy(*pin, env, *len + 1);
	return PPML_OK;
}
