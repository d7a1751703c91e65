/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/toml_json.h - a TOML tree as toml-test's tagged JSON
 * (https://github.com/toml-lang/toml-test, "JSON encoding"): tables become
 * objects, arrays JSON arrays, every scalar {"type": ..., "value": "..."}.
 * Header-only so that the toml-decoder tool and the conformance test share it.
 */
#ifndef PPML_TEST_TOML_JSON_H
#define PPML_TEST_TOML_JSON_H

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppml/toml.h"

static inline json_t *toml_json_tag(const char *type, const char *value, size_t len)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (json_object_set_new(o, "type", json_string(type)) != 0 ||
	    json_object_set_new(o, "value", json_stringn(value, len)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static inline void toml_json_format_datetime(const struct ppml_toml_value *v, char *out,
					     size_t outlen)
{
	const struct ppml_toml_datetime *dt = &v->u.dt;
	char date[32] = "", time[48] = "", frac[16] = "", off[16] = "";

	if (v->type != PPML_TOML_TIME_LOCAL)
		snprintf(date, sizeof(date), "%04d-%02d-%02d", dt->year, dt->month, dt->day);
	if (dt->frac_digits) {
		uint32_t ns = dt->nanosecond;
		for (int i = dt->frac_digits; i < 9; i++)
			ns /= 10;
		snprintf(frac, sizeof(frac), ".%0*" PRIu32, (int)dt->frac_digits, ns);
	}
	if (v->type != PPML_TOML_DATE_LOCAL)
		snprintf(time, sizeof(time), "%s%02d:%02d:%02d%s",
			 v->type == PPML_TOML_TIME_LOCAL ? "" : "T", dt->hour, dt->minute,
			 dt->second, frac);
	if (v->type == PPML_TOML_DATETIME) {
		int m = dt->offset_minutes < 0 ? -dt->offset_minutes : dt->offset_minutes;
		if (dt->offset_minutes == 0)
			snprintf(off, sizeof(off), "Z");
		else
			snprintf(off, sizeof(off), "%c%02d:%02d", dt->offset_minutes < 0 ? '-' : '+',
				 m / 60, m % 60);
	}
	snprintf(out, outlen, "%s%s%s", date, time, off);
}

/* New reference, or NULL on allocation failure.  Recursion depth is bounded
 * by the parser's PPML_TOML_MAX_DEPTH. */
static inline json_t *toml_to_tagged_json(const struct ppml_toml_value *v)
{
	char buf[128];
	json_t *j = NULL;

	switch (v->type) {
	case PPML_TOML_STRING:
		return toml_json_tag("string", v->u.s.ptr, v->u.s.len);
	case PPML_TOML_INTEGER:
		snprintf(buf, sizeof(buf), "%" PRId64, v->u.i);
		return toml_json_tag("integer", buf, strlen(buf));
	case PPML_TOML_FLOAT:
		if (isnan(v->u.f))
			snprintf(buf, sizeof(buf), "nan");
		else if (isinf(v->u.f))
			snprintf(buf, sizeof(buf), "%sinf", v->u.f < 0 ? "-" : "");
		else
			snprintf(buf, sizeof(buf), "%.17g", v->u.f);
		return toml_json_tag("float", buf, strlen(buf));
	case PPML_TOML_BOOLEAN:
		return toml_json_tag("bool", v->u.b ? "true" : "false", v->u.b ? 4 : 5);
	case PPML_TOML_DATETIME:
	case PPML_TOML_DATETIME_LOCAL:
	case PPML_TOML_DATE_LOCAL:
	case PPML_TOML_TIME_LOCAL:
		toml_json_format_datetime(v, buf, sizeof(buf));
		return toml_json_tag(v->type == PPML_TOML_DATETIME         ? "datetime"
				     : v->type == PPML_TOML_DATETIME_LOCAL ? "datetime-local"
				     : v->type == PPML_TOML_DATE_LOCAL     ? "date-local"
									   : "time-local",
				     buf, strlen(buf));
	case PPML_TOML_ARRAY:
		j = json_array();
		for (size_t i = 0; j && i < v->u.a.len; i++) {
			json_t *item = toml_to_tagged_json(v->u.a.items[i]);
			if (!item || json_array_append_new(j, item) != 0) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	case PPML_TOML_TABLE:
		j = json_object();
		for (size_t i = 0; j && i < v->u.t.len; i++) {
			const struct ppml_toml_kv *kv = &v->u.t.items[i];
			json_t *item = toml_to_tagged_json(kv->value);
			if (!item || json_object_setn_new(j, kv->key, kv->key_len, item) != 0) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	}
	return NULL;
}

#endif
