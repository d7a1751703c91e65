/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Python's bool() and repr() of manifest values, so our messages quote
 * values exactly as Gramine's ManifestError texts do (f'{x!r}').
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

bool gr_truthy(const struct ppml_toml_value *v)
{
	if (!v)
		return false;
	switch (v->type) {
	case PPML_TOML_BOOLEAN:
		return v->u.b;
	case PPML_TOML_INTEGER:
		return v->u.i != 0;
	case PPML_TOML_FLOAT:
		return v->u.f != 0.0;
	case PPML_TOML_STRING:
		return v->u.s.len != 0;
	case PPML_TOML_ARRAY:
		return v->u.a.len != 0;
	case PPML_TOML_TABLE:
		return v->u.t.len != 0;
	default:
		return true; /* datetime, date and time objects are always true */
	}
}

ppml_status gr_pyrepr_str(struct ppml_buf *b, const char *s, size_t len)
{
	return ppml_toml_pyrepr_str(b, s, len);
}

static ppml_status repr_depth(struct ppml_buf *b, const struct ppml_toml_value *v, int depth)
{
	ppml_status st = PPML_OK;
	if (depth > 32)
		return ppml_buf_puts(b, "...");
	switch (v->type) {
	case PPML_TOML_STRING:
		return gr_pyrepr_str(b, v->u.s.ptr, v->u.s.len);
	case PPML_TOML_INTEGER:
		return ppml_buf_printf(b, "%" PRId64, v->u.i);
	case PPML_TOML_FLOAT:
		return ppml_buf_printf(b, "%.17g", v->u.f);
	case PPML_TOML_BOOLEAN:
		return ppml_buf_puts(b, v->u.b ? "True" : "False");
	case PPML_TOML_ARRAY:
		if ((st = ppml_buf_putc(b, '[')) != PPML_OK)
			return st;
		for (size_t i = 0; i < v->u.a.len; i++) {
			if (i && (st = ppml_buf_puts(b, ", ")) != PPML_OK)
				return st;
			if ((st = repr_depth(b, v->u.a.items[i], depth + 1)) != PPML_OK)
				return st;
		}
		return ppml_buf_putc(b, ']');
	case PPML_TOML_TABLE:
		if ((st = ppml_buf_putc(b, '{')) != PPML_OK)
			return st;
		for (size_t i = 0; i < v->u.t.len; i++) {
			const struct ppml_toml_kv *kv = &v->u.t.items[i];
			if (i && (st = ppml_buf_puts(b, ", ")) != PPML_OK)
				return st;
			if ((st = gr_pyrepr_str(b, kv->key, kv->key_len)) != PPML_OK ||
			    (st = ppml_buf_puts(b, ": ")) != PPML_OK ||
			    (st = repr_depth(b, kv->value, depth + 1)) != PPML_OK)
				return st;
		}
		return ppml_buf_putc(b, '}');
	default:
		return ppml_buf_puts(b, "<datetime>");
	}
}

ppml_status gr_pyrepr(struct ppml_buf *b, const struct ppml_toml_value *v)
{
	return repr_depth(b, v, 0);
}
