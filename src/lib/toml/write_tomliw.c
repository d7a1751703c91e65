/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tomli-w 1.0 serialiser (spec/gramine-sgx-signing.md, section 3).
 * Gramine measures the bytes of manifest.sgx, so every rule here is the
 * observable behaviour of tomli-w `dumps` on the dict tomli parsed, down to
 * Python's str() of floats and datetimes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppml/limits.h"
#include "internal.h"

/* Section 3: a table stays inline in an array when "    " + inline + ","
 * is at most this many characters (code points, as Python's len()). */
#define TOMLIW_MAX_LINE 100
/* Spaces per array nesting level (section 3). */
#define TOMLIW_INDENT 4
/*
 * Recursion bound for the writer: the parser caps arrays, inline tables and
 * dotted keys at PPML_TOML_MAX_DEPTH, and [a.b.c] headers add table levels,
 * so allow both.  tomli-w itself (Python's recursion limit, 1000) fails on
 * deeper trees anyway; the bound keeps the C stack safe on built trees.
 */
#define TOMLIW_MAX_DEPTH (4 * PPML_TOML_MAX_DEPTH)

enum item_kind {
	KIND_LITERAL = 0,
	KIND_TABLE,
	KIND_AOT,
};

static ppml_status put_value(struct ppml_buf *b, const struct ppml_toml_value *v, size_t level,
			     int depth, struct ppml_err *err);

static ppml_status too_deep(struct ppml_err *err)
{
	return ppml_err_set(err, PPML_E_LIMIT,
			    "TOML tree nested deeper than %d levels: refusing to serialise it",
			    TOMLIW_MAX_DEPTH);
}

static ppml_status nomem(struct ppml_err *err)
{
	return ppml_err_set(err, PPML_E_NOMEM, "out of memory while serialising TOML");
}

/* Basic string with tomli-w's escapes: \b \n \f \r \" \\ compact, TAB raw,
 * other C0 controls and DEL as \u00xx (lowercase), everything else raw. */
static ppml_status put_string(struct ppml_buf *b, const char *s, size_t len)
{
	size_t run = 0; /* start of the pending run of bytes copied verbatim */
	ppml_status st;

	if ((st = ppml_buf_putc(b, '"')) != PPML_OK)
		return st;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char ubuf[8];

		if (c == '\t' || (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f))
			continue;
		switch (c) {
		case '\b': esc = "\\b"; break;
		case '\n': esc = "\\n"; break;
		case '\f': esc = "\\f"; break;
		case '\r': esc = "\\r"; break;
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		default:
			snprintf(ubuf, sizeof(ubuf), "\\u%04x", (unsigned)c);
			esc = ubuf;
			break;
		}
		if ((st = ppml_buf_append(b, s + run, i - run)) != PPML_OK ||
		    (st = ppml_buf_puts(b, esc)) != PPML_OK)
			return st;
		run = i + 1;
	}
	if ((st = ppml_buf_append(b, s + run, len - run)) != PPML_OK)
		return st;
	return ppml_buf_putc(b, '"');
}

int ppml_toml_is_bare_key(const char *k, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)k[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static ppml_status put_key(struct ppml_buf *b, const char *k, size_t len)
{
	if (ppml_toml_is_bare_key(k, len))
		return ppml_buf_append(b, k, len);
	return put_string(b, k, len);
}

/* Appends `n` spaces. */
static ppml_status put_spaces(struct ppml_buf *b, size_t n)
{
	static const char sp[] = "                                ";
	ppml_status st = PPML_OK;

	while (n > 0 && st == PPML_OK) {
		size_t k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;
		st = ppml_buf_append(b, sp, k);
		n -= k;
	}
	return st;
}

/* Splits "%.*e" output into its digits as an integer and the power of ten
 * of the last digit: "1.25e+02" gives 125 and 0. */
static void split_sci(const char *s, unsigned long long *m, int *e10)
{
	int ndig = 0;
	*m = 0;
	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue; /* the decimal point, whatever the locale */
		*m = *m * 10 + (unsigned)(*s - '0');
		ndig++;
	}
	*e10 = (*s == 'e' ? (int)strtol(s + 1, NULL, 10) : 0) - (ndig - 1);
}

static int reads_back(unsigned long long m, int e10, double x)
{
	char tmp[48];
	snprintf(tmp, sizeof(tmp), "%llue%d", m, e10);
	return strtod(tmp, NULL) == x;
}

/*
 * The shortest decimal digits that read back as x (finite, > 0), as Python's
 * repr() chooses them: fewest digits, and among those the nearest to x.
 * Writes the digits without trailing zeros to digits and returns the
 * decimal point position: x = 0.DIGITS * 10^decpt.
 */
static int shortest_digits(double x, char digits[24])
{
	char tmp[48];
	unsigned long long m = 0;
	int e10 = 0, n;

	for (int prec = 1; prec <= 17; prec++) {
		/* glibc rounds correctly: this is the nearest prec-digit value. */
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, x);
		split_sci(tmp, &m, &e10);
		if (strtod(tmp, NULL) == x)
			break;
		/*
		 * Beside a power of two the interval that rounds to x is
		 * lopsided: the prec-digit neighbour on the far side of x may
		 * read back although the nearest does not.
		 */
		if (strtod(tmp, NULL) > x) {
			if (m > 1 && reads_back(m - 1, e10, x)) {
				m--;
				break;
			}
		} else if (reads_back(m + 1, e10, x)) {
			m++;
			break;
		}
	}
	n = snprintf(digits, 24, "%llu", m);
	e10 += n;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	return e10;
}

/* Python repr(float): fixed notation when -4 < decpt <= 16, else d.ddde±XX.
 * Shared with the toml 0.10.2 writer (internal.h). */
ppml_status ppml_toml_put_pyfloat(struct ppml_buf *b, double x)
{
	char digits[24];
	int decpt, n;
	ppml_status st;

	if (isnan(x))
		return ppml_buf_puts(b, "nan");
	if (isinf(x))
		return ppml_buf_puts(b, x < 0 ? "-inf" : "inf");
	if (x == 0)
		return ppml_buf_puts(b, signbit(x) ? "-0.0" : "0.0");
	if (x < 0 && (st = ppml_buf_putc(b, '-')) != PPML_OK)
		return st;
	decpt = shortest_digits(fabs(x), digits);
	n = (int)strlen(digits);
	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) {
			if ((st = ppml_buf_puts(b, "0.")) != PPML_OK)
				return st;
			for (int i = 0; i < -decpt; i++)
				if ((st = ppml_buf_putc(b, '0')) != PPML_OK)
					return st;
			return ppml_buf_append(b, digits, (size_t)n);
		}
		if (decpt >= n) {
			if ((st = ppml_buf_append(b, digits, (size_t)n)) != PPML_OK)
				return st;
			for (int i = n; i < decpt; i++)
				if ((st = ppml_buf_putc(b, '0')) != PPML_OK)
					return st;
			return ppml_buf_puts(b, ".0");
		}
		if ((st = ppml_buf_append(b, digits, (size_t)decpt)) != PPML_OK ||
		    (st = ppml_buf_putc(b, '.')) != PPML_OK)
			return st;
		return ppml_buf_append(b, digits + decpt, (size_t)(n - decpt));
	}
	if ((st = ppml_buf_putc(b, digits[0])) != PPML_OK)
		return st;
	if (n > 1 && ((st = ppml_buf_putc(b, '.')) != PPML_OK ||
		      (st = ppml_buf_append(b, digits + 1, (size_t)(n - 1))) != PPML_OK))
		return st;
	return ppml_buf_printf(b, "e%c%02d", decpt - 1 < 0 ? '-' : '+', abs(decpt - 1));
}

ppml_status ppml_toml_put_pydatetime(struct ppml_buf *b, const struct ppml_toml_value *v,
				     char sep, unsigned micro, int utc_z)
{
	const struct ppml_toml_datetime *d = &v->u.dt;
	ppml_status st = PPML_OK;

	if (v->type != PPML_TOML_TIME_LOCAL) {
		st = ppml_buf_printf(b, "%04d-%02d-%02d", d->year, d->month, d->day);
		if (st != PPML_OK || v->type == PPML_TOML_DATE_LOCAL)
			return st;
		if ((st = ppml_buf_putc(b, sep)) != PPML_OK)
			return st;
	}
	st = ppml_buf_printf(b, "%02d:%02d:%02d", d->hour, d->minute, d->second);
	if (st == PPML_OK && micro)
		st = ppml_buf_printf(b, ".%06u", micro);
	if (st == PPML_OK && v->type == PPML_TOML_DATETIME) {
		int off = d->offset_minutes;
		char sign = off < 0 ? '-' : '+';
		if (off == 0 && utc_z)
			return ppml_buf_putc(b, 'Z');
		if (off < 0)
			off = -off;
		st = ppml_buf_printf(b, "%c%02d:%02d", sign, off / 60, off % 60);
	}
	return st;
}

/* `{ k = v, k2 = v2 }` or `{}`; values restart at array level 0. */
static ppml_status put_inline_table(struct ppml_buf *b, const struct ppml_toml_value *t, int depth,
				    struct ppml_err *err)
{
	ppml_status st;

	if (t->u.t.len == 0)
		return ppml_buf_puts(b, "{}");
	if ((st = ppml_buf_puts(b, "{ ")) != PPML_OK)
		return st;
	for (size_t i = 0; i < t->u.t.len; i++) {
		const struct ppml_toml_kv *kv = &t->u.t.items[i];
		if ((i > 0 && (st = ppml_buf_puts(b, ", ")) != PPML_OK) ||
		    (st = put_key(b, kv->key, kv->key_len)) != PPML_OK ||
		    (st = ppml_buf_puts(b, " = ")) != PPML_OK ||
		    (st = put_value(b, kv->value, 0, depth + 1, err)) != PPML_OK)
			return st;
	}
	return ppml_buf_puts(b, " }");
}

/* Arrays: `[]`, or one item per line at 4*(level+1) spaces, each followed by
 * a comma, and the closing bracket at 4*level spaces. */
static ppml_status put_array(struct ppml_buf *b, const struct ppml_toml_value *a, size_t level,
			     int depth, struct ppml_err *err)
{
	ppml_status st;

	if (a->u.a.len == 0)
		return ppml_buf_puts(b, "[]");
	if ((st = ppml_buf_puts(b, "[\n")) != PPML_OK)
		return st;
	for (size_t i = 0; i < a->u.a.len; i++) {
		if ((st = put_spaces(b, TOMLIW_INDENT * (level + 1))) != PPML_OK ||
		    (st = put_value(b, a->u.a.items[i], level + 1, depth + 1, err)) != PPML_OK ||
		    (st = ppml_buf_puts(b, ",\n")) != PPML_OK)
			return st;
	}
	if ((st = put_spaces(b, TOMLIW_INDENT * level)) != PPML_OK)
		return st;
	return ppml_buf_putc(b, ']');
}

/*
 * Appends the inline form of v.  Memory failures come back as PPML_E_NOMEM
 * without touching err (the caller words them); structural failures set err.
 */
static ppml_status put_value(struct ppml_buf *b, const struct ppml_toml_value *v, size_t level,
			     int depth, struct ppml_err *err)
{
	if (depth > TOMLIW_MAX_DEPTH)
		return too_deep(err);
	switch (v->type) {
	case PPML_TOML_STRING:
		return put_string(b, v->u.s.ptr, v->u.s.len);
	case PPML_TOML_INTEGER:
		return ppml_buf_printf(b, "%lld", (long long)v->u.i);
	case PPML_TOML_FLOAT:
		return ppml_toml_put_pyfloat(b, v->u.f);
	case PPML_TOML_BOOLEAN:
		return ppml_buf_puts(b, v->u.b ? "true" : "false");
	case PPML_TOML_DATETIME:
	case PPML_TOML_DATETIME_LOCAL:
	case PPML_TOML_DATE_LOCAL:
	case PPML_TOML_TIME_LOCAL:
		/* Python str(): space separator, microseconds truncated */
		return ppml_toml_put_pydatetime(b, v, ' ', v->u.dt.nanosecond / 1000u, 0);
	case PPML_TOML_ARRAY:
		return put_array(b, v, level, depth, err);
	case PPML_TOML_TABLE:
		return put_inline_table(b, v, depth, err);
	}
	return ppml_err_set(err, PPML_E_INTERNAL, "TOML value of unknown type %d", (int)v->type);
}

/* Python len() of UTF-8 text: count the bytes that start a code point. */
static size_t count_code_points(const uint8_t *p, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += (p[i] & 0xc0) != 0x80;
	return n;
}

/* Section 3: inline is suitable when "    " + inline + "," has at most 100
 * code points and no newline. */
static ppml_status inline_suitable(const struct ppml_toml_value *t, int depth, int *suitable,
				   struct ppml_err *err)
{
	struct ppml_buf tmp = {0};
	ppml_status st;

	st = put_inline_table(&tmp, t, depth, err);
	if (st != PPML_OK)
		goto out;
	*suitable = TOMLIW_INDENT + count_code_points(tmp.data, tmp.len) + 1 <= TOMLIW_MAX_LINE &&
		    memchr(tmp.data, '\n', tmp.len) == NULL;
out:
	ppml_buf_free(&tmp);
	return st;
}

/* An array of tables takes the [[name]] form when it is non-empty, holds only
 * tables, and at least one of them is unsuitable inline. */
static ppml_status classify_array(const struct ppml_toml_value *a, int depth, enum item_kind *kind,
				  struct ppml_err *err)
{
	int all_suitable = 1;

	*kind = KIND_LITERAL;
	if (a->u.a.len == 0)
		return PPML_OK;
	for (size_t i = 0; i < a->u.a.len; i++)
		if (a->u.a.items[i]->type != PPML_TOML_TABLE)
			return PPML_OK;
	for (size_t i = 0; i < a->u.a.len && all_suitable; i++) {
		ppml_status st = inline_suitable(a->u.a.items[i], depth + 1, &all_suitable, err);
		if (st != PPML_OK)
			return st;
	}
	if (!all_suitable)
		*kind = KIND_AOT;
	return PPML_OK;
}

/*
 * Writes table t whose dotted header name is name->data[0..name->len) (empty
 * for the root).  Section 3 steps 1-4.
 */
static ppml_status put_table(struct ppml_buf *b, const struct ppml_toml_value *t,
			     struct ppml_buf *name, int in_aot, int depth, struct ppml_err *err)
{
	enum item_kind *kinds = NULL;
	size_t n = t->u.t.len, name_len = name->len;
	int has_literals = 0, has_tables = 0, written = 0;
	ppml_status st = PPML_OK;

	if (depth > TOMLIW_MAX_DEPTH) {
		st = too_deep(err);
		goto out;
	}
	if (n) {
		kinds = calloc(n, sizeof(*kinds));
		if (!kinds) {
			st = PPML_E_NOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct ppml_toml_value *v = t->u.t.items[i].value;
		if (v->type == PPML_TOML_TABLE)
			kinds[i] = KIND_TABLE;
		else if (v->type == PPML_TOML_ARRAY &&
			 (st = classify_array(v, depth, &kinds[i], err)) != PPML_OK)
			goto out;
		if (kinds[i] == KIND_LITERAL)
			has_literals = 1;
		else
			has_tables = 1;
	}

	if (in_aot || (name->len > 0 && (has_literals || !has_tables))) {
		if ((st = ppml_buf_puts(b, in_aot ? "[[" : "[")) != PPML_OK ||
		    (st = ppml_buf_append(b, name->data, name->len)) != PPML_OK ||
		    (st = ppml_buf_puts(b, in_aot ? "]]\n" : "]\n")) != PPML_OK)
			goto out;
		written = 1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ppml_toml_kv *kv = &t->u.t.items[i];
		if (kinds[i] != KIND_LITERAL)
			continue;
		if ((st = put_key(b, kv->key, kv->key_len)) != PPML_OK ||
		    (st = ppml_buf_puts(b, " = ")) != PPML_OK ||
		    (st = put_value(b, kv->value, 0, depth + 1, err)) != PPML_OK ||
		    (st = ppml_buf_putc(b, '\n')) != PPML_OK)
			goto out;
		written = 1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ppml_toml_kv *kv = &t->u.t.items[i];
		size_t count, j;

		if (kinds[i] == KIND_LITERAL)
			continue;
		name->len = name_len;
		if ((name_len > 0 && (st = ppml_buf_putc(name, '.')) != PPML_OK) ||
		    (st = put_key(name, kv->key, kv->key_len)) != PPML_OK)
			goto out;
		count = kinds[i] == KIND_AOT ? kv->value->u.a.len : 1;
		for (j = 0; j < count; j++) {
			const struct ppml_toml_value *sub =
				kinds[i] == KIND_AOT ? kv->value->u.a.items[j] : kv->value;
			if (written && (st = ppml_buf_putc(b, '\n')) != PPML_OK)
				goto out;
			written = 1;
			st = put_table(b, sub, name, kinds[i] == KIND_AOT, depth + 1, err);
			if (st != PPML_OK)
				goto out;
		}
	}
out:
	name->len = name_len;
	if (name->data)
		name->data[name_len] = '\0';
	free(kinds);
	return st;
}

ppml_status ppml_toml_write_tomliw(const struct ppml_toml_value *root, struct ppml_buf *out,
				   struct ppml_err *err)
{
	struct ppml_buf name = {0};
	size_t start;
	ppml_status st;

	if (!root || !out || root->type != PPML_TOML_TABLE) {
		st = ppml_err_set(err, PPML_E_INTERNAL, "tomli-w writer: the root must be a table");
		goto out;
	}
	start = out->len;
	st = put_table(out, root, &name, 0, 0, err);
	if (st != PPML_OK) {
		/* Leave out as it was: no half-written document. */
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		if (st == PPML_E_NOMEM)
			nomem(err);
	}
out:
	ppml_buf_free(&name);
	return st;
}
