/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Python `toml` 0.10.2 serialiser (`toml.dumps` with the default
 * TomlEncoder), which Gramine v1.3.1 uses for manifest.sgx
 * (spec/gramine-sgx-signing.md section 12).  Byte compatibility means
 * reproducing its quirks too:
 *  - tables are emitted breadth-first: all top-level [a], [b] first, then
 *    [a.x], [b.y], ...; a table gets a header when it has literals or has no
 *    subtables at all; a blank line precedes a header unless the output
 *    already ends with one;
 *  - an array holding any table is an array of tables ([[name]]), written
 *    after the literals of its parent, each element followed by a blank line;
 *  - inline arrays are `[ a, b,]`, empty ones `[]`; a table inside an inline
 *    array comes out as the list of its keys;
 *  - strings go through Python repr() and then _dump_str's "\x" rewriting
 *    (which loses backslashes of control characters, and raises IndexError
 *    for some inputs: refused here with that name);
 *  - floats are str(float) with "e+0"/"e-0" shortened, datetimes isoformat().
 * What Python would raise on (RuntimeError for a table below a table inside
 * an array of tables, IndexError above) is PPML_E_INPUT naming the key.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ppml/limits.h"

#define T0102_MAX_DEPTH (4 * PPML_TOML_MAX_DEPTH)

struct section {
	char *name; /* dotted, each part already quoted as toml writes it */
	const struct ppml_toml_value *t;
};

struct sections {
	struct section *v;
	size_t len, cap;
};

static void sections_free(struct sections *s)
{
	for (size_t i = 0; i < s->len; i++)
		free(s->v[i].name);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static ppml_status nomem(struct ppml_err *err)
{
	return ppml_err_set(err, PPML_E_NOMEM, "out of memory while serialising TOML");
}

static ppml_status too_deep(struct ppml_err *err)
{
	return ppml_err_set(err, PPML_E_LIMIT,
			    "TOML tree nested deeper than %d levels: refusing to serialise it",
			    T0102_MAX_DEPTH);
}

/* Takes name (freed on failure). */
static ppml_status sections_add(struct sections *s, char *name, const struct ppml_toml_value *t)
{
	if (s->len == s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 8;
		struct section *n = realloc(s->v, ncap * sizeof(*n));
		if (!n) {
			free(name);
			return PPML_E_NOMEM;
		}
		s->v = n;
		s->cap = ncap;
	}
	s->v[s->len].name = name;
	s->v[s->len].t = t;
	s->len++;
	return PPML_OK;
}

/* ---- strings: Python repr(), then _dump_str ------------------------------ */

/* Python str.replace(from, to) on a buffer (non-overlapping, left to right). */
static ppml_status buf_replace(struct ppml_buf *b, const char *from, const char *to)
{
	struct ppml_buf o = {0};
	size_t fl = strlen(from), i = 0;
	ppml_status st = PPML_OK;

	if (!b->data || b->len < fl)
		return PPML_OK;
	while (i < b->len && st == PPML_OK) {
		if (b->len - i >= fl && memcmp(b->data + i, from, fl) == 0) {
			st = ppml_buf_puts(&o, to);
			i += fl;
		} else {
			st = ppml_buf_putc(&o, b->data[i]);
			i++;
		}
	}
	if (st != PPML_OK) {
		ppml_buf_free(&o);
		return st;
	}
	ppml_buf_free(b);
	*b = o;
	if (!b->data) /* an all-replaced-by-nothing result still needs a buffer */
		return ppml_buf_append(b, "", 0);
	return PPML_OK;
}

/* The next piece of v.split("\\x"), from *rest on (a NUL-terminated
 * string: repr() leaves no raw NUL); moves *rest past it and its "\x". */
static const char *next_part(const char **rest, size_t *n)
{
	const char *p = *rest, *e = strstr(p, "\\x");
	*n = e ? (size_t)(e - p) : strlen(p);
	*rest = e ? e + 2 : p + *n;
	return p;
}

/* toml.encoder._dump_str: repr(), quotes adjusted, then its "\x" loop. */
static ppml_status put_string(struct ppml_buf *out, const char *s, size_t len, struct ppml_err *err)
{
	struct ppml_buf r = {0}, cur = {0};
	ppml_status st;
	int single;
	size_t left = 1, n; /* left: len(v), the pieces not yet joined */
	const char *rest, *p;

	/* v = repr(v)[1:-1], remembering which quote repr chose */
	if (ppml_toml_pyrepr_str(&r, s, len) != PPML_OK)
		goto nomem;
	single = r.data[0] == '\'';
	memmove(r.data, r.data + 1, r.len - 2);
	r.len -= 2;
	r.data[r.len] = '\0';
	if (single && (buf_replace(&r, "\\'", "'") != PPML_OK ||
		       buf_replace(&r, "\"", "\\\"") != PPML_OK))
		goto nomem;
	for (size_t i = 0; i + 1 < r.len; i++)
		if (r.data[i] == '\\' && r.data[i + 1] == 'x') {
			left++;
			i++;
		}
	rest = (const char *)r.data;
	p = next_part(&rest, &n);
	if (ppml_buf_append(&cur, p, n) != PPML_OK)
		goto nomem;
	while (left > 1) {
		size_t i = 1;
		int joinx;
		if (cur.len == 0) { /* if not v[0]: v = v[1:] */
			p = next_part(&rest, &n);
			left--;
			cur.len = 0;
			if (ppml_buf_append(&cur, p, n) != PPML_OK)
				goto nomem;
		}
		if (buf_replace(&cur, "\\\\", "\\") != PPML_OK)
			goto nomem;
		if (cur.len == 0 || left < 2) { /* v[0][-1] or v[1] */
			st = ppml_err_set(err, PPML_E_INPUT,
					  "toml 0.10.2 cannot write this string (IndexError in "
					  "_dump_str: it mishandles control characters): %.60s",
					  s);
			goto out;
		}
		/* an odd run of backslashes before the "\x" was an escaped one */
		joinx = cur.data[cur.len - 1] != '\\';
		while (cur.len > i && cur.data[cur.len - i] == '\\') {
			joinx = !joinx;
			i++;
		}
		p = next_part(&rest, &n);
		left--;
		if (ppml_buf_puts(&cur, joinx ? "x" : "u00") != PPML_OK ||
		    ppml_buf_append(&cur, p, n) != PPML_OK)
			goto nomem;
	}
	if (ppml_buf_putc(out, '"') != PPML_OK || ppml_buf_append(out, cur.data, cur.len) != PPML_OK ||
	    ppml_buf_putc(out, '"') != PPML_OK)
		goto nomem;
	st = PPML_OK;
	goto out;
nomem:
	st = nomem(err);
out:
	ppml_buf_free(&r);
	ppml_buf_free(&cur);
	return st;
}

static ppml_status put_key(struct ppml_buf *b, const char *k, size_t len, struct ppml_err *err)
{
	/* re.match(r'^[A-Za-z0-9_-]+$', key): `$` also matches before a final "\n" */
	if (ppml_toml_is_bare_key(k, len >= 2 && k[len - 1] == '\n' ? len - 1 : len))
		return ppml_buf_append(b, k, len) == PPML_OK ? PPML_OK : nomem(err);
	return put_string(b, k, len, err);
}

/* ---- values --------------------------------------------------------------- */

/* _dump_float: str(float) with "e+0" and "e-0" shortened. */
static ppml_status put_float(struct ppml_buf *b, double x, struct ppml_err *err)
{
	struct ppml_buf t = {0};
	ppml_status st = ppml_toml_put_pyfloat(&t, x);
	if (st == PPML_OK && (st = buf_replace(&t, "e+0", "e+")) == PPML_OK &&
	    (st = buf_replace(&t, "e-0", "e-")) == PPML_OK)
		st = ppml_buf_append(b, t.data, t.len);
	ppml_buf_free(&t);
	return st == PPML_OK ? PPML_OK : nomem(err);
}

/* datetime.isoformat() (T separator, .ffffff only when non-zero), with
 * "+00:00" written as Z; a local time as toml 0.10.2 reads it: its fraction
 * (3 to 6 digits) is taken as a count of microseconds. */
static ppml_status put_datetime(struct ppml_buf *b, const struct ppml_toml_value *v,
				struct ppml_err *err)
{
	const struct ppml_toml_datetime *d = &v->u.dt;
	unsigned micro = d->nanosecond / 1000u;

	if (v->type == PPML_TOML_TIME_LOCAL) {
		if (d->frac_digits != 0 && (d->frac_digits < 3 || d->frac_digits > 6))
			return ppml_err_set(err, PPML_E_INPUT,
					    "toml 0.10.2 cannot read a local time with %u fractional "
					    "digits (it takes 3 to 6)", d->frac_digits);
		micro = d->nanosecond;
		for (unsigned i = d->frac_digits; i < 9; i++)
			micro /= 10;
	}
	return ppml_toml_put_pydatetime(b, v, 'T', micro, 1) == PPML_OK ? PPML_OK : nomem(err);
}

static ppml_status put_value(struct ppml_buf *b, const struct ppml_toml_value *v, int depth,
			     struct ppml_err *err);

/* dump_list: "[" + " v," per item + "]"; a table iterates as its keys. */
static ppml_status put_list(struct ppml_buf *b, const struct ppml_toml_value *v, int depth,
			    struct ppml_err *err)
{
	ppml_status st;
	size_t n = v->type == PPML_TOML_ARRAY ? v->u.a.len : v->u.t.len;

	if (ppml_buf_putc(b, '[') != PPML_OK)
		return nomem(err);
	for (size_t i = 0; i < n; i++) {
		if (ppml_buf_putc(b, ' ') != PPML_OK)
			return nomem(err);
		if (v->type == PPML_TOML_ARRAY)
			st = put_value(b, v->u.a.items[i], depth + 1, err);
		else
			st = put_string(b, v->u.t.items[i].key, v->u.t.items[i].key_len, err);
		if (st != PPML_OK)
			return st;
		if (ppml_buf_putc(b, ',') != PPML_OK)
			return nomem(err);
	}
	return ppml_buf_putc(b, ']') == PPML_OK ? PPML_OK : nomem(err);
}

static ppml_status put_value(struct ppml_buf *b, const struct ppml_toml_value *v, int depth,
			     struct ppml_err *err)
{
	if (depth > T0102_MAX_DEPTH)
		return too_deep(err);
	switch (v->type) {
	case PPML_TOML_STRING:
		return put_string(b, v->u.s.ptr, v->u.s.len, err);
	case PPML_TOML_INTEGER:
		return ppml_buf_printf(b, "%lld", (long long)v->u.i) == PPML_OK ? PPML_OK
										 : nomem(err);
	case PPML_TOML_FLOAT:
		return put_float(b, v->u.f, err);
	case PPML_TOML_BOOLEAN:
		return ppml_buf_puts(b, v->u.b ? "true" : "false") == PPML_OK ? PPML_OK : nomem(err);
	case PPML_TOML_DATETIME:
	case PPML_TOML_DATETIME_LOCAL:
	case PPML_TOML_DATE_LOCAL:
	case PPML_TOML_TIME_LOCAL:
		return put_datetime(b, v, err);
	case PPML_TOML_ARRAY:
	case PPML_TOML_TABLE:
		return put_list(b, v, depth, err);
	}
	return ppml_err_set(err, PPML_E_INTERNAL, "TOML value of unknown type %d", (int)v->type);
}

/* ---- tables --------------------------------------------------------------- */

static int is_aot(const struct ppml_toml_value *v)
{
	if (v->type != PPML_TOML_ARRAY)
		return 0;
	for (size_t i = 0; i < v->u.a.len; i++)
		if (v->u.a.items[i]->type == PPML_TOML_TABLE)
			return 1;
	return 0;
}

static char *join_name(const char *sup, const char *q, size_t qlen)
{
	size_t sl = strlen(sup);
	char *s = malloc(sl + qlen + 2);
	if (!s)
		return NULL;
	memcpy(s, sup, sl);
	if (sl)
		s[sl++] = '.';
	memcpy(s + sl, q, qlen);
	s[sl + qlen] = '\0';
	return s;
}

static ppml_status dump_sections(const struct ppml_toml_value *o, const char *sup,
				 struct ppml_buf *retstr, struct sections *retdict, int depth,
				 struct ppml_err *err);

/* One element of an array of tables named `name` (already qualified). */
static ppml_status dump_aot_element(const struct ppml_toml_value *a, const char *name,
				    struct ppml_buf *arraystr, int depth, struct ppml_err *err)
{
	struct ppml_buf s = {0}, arraytabstr = {0};
	struct sections d = {0};
	ppml_status st;

	if (a->type != PPML_TOML_TABLE) {
		st = ppml_err_set(err, PPML_E_INPUT,
				  "%s: toml 0.10.2 cannot write an array mixing tables and other "
				  "values", name);
		goto out;
	}
	if (ppml_buf_putc(&arraytabstr, '\n') != PPML_OK ||
	    ppml_buf_printf(arraystr, "[[%s]]\n", name) != PPML_OK) {
		st = nomem(err);
		goto out;
	}
	if ((st = dump_sections(a, name, &s, &d, depth + 1, err)) != PPML_OK)
		goto out;
	if (s.len && ppml_buf_append(s.data[0] == '[' ? &arraytabstr : arraystr, s.data, s.len) !=
			     PPML_OK) {
		st = nomem(err);
		goto out;
	}
	/* The `while d` loop runs once: a sub-table with its own sub-tables
	 * makes Python change the dict it iterates over (RuntimeError). */
	for (size_t i = 0; i < d.len; i++) {
		struct ppml_buf s1 = {0};
		struct sections d1 = {0};
		st = dump_sections(d.v[i].t, d.v[i].name, &s1, &d1, depth + 1, err);
		if (st == PPML_OK && d1.len)
			st = ppml_err_set(err, PPML_E_INPUT,
					  "%s: toml 0.10.2 cannot write a table inside a table inside "
					  "an array of tables (RuntimeError: dictionary changed size "
					  "during iteration)", d1.v[0].name);
		if (st == PPML_OK && s1.len &&
		    (ppml_buf_printf(&arraytabstr, "[%s]\n", d.v[i].name) != PPML_OK ||
		     ppml_buf_append(&arraytabstr, s1.data, s1.len) != PPML_OK))
			st = nomem(err);
		ppml_buf_free(&s1);
		sections_free(&d1);
		if (st != PPML_OK)
			goto out;
	}
	if (ppml_buf_append(arraystr, arraytabstr.data, arraytabstr.len) != PPML_OK)
		st = nomem(err);
out:
	ppml_buf_free(&s);
	ppml_buf_free(&arraytabstr);
	sections_free(&d);
	return st;
}

/* TomlEncoder.dump_sections(o, sup): literals (and arrays of tables) into
 * retstr, sub-tables into retdict with their qualified names. */
static ppml_status dump_sections(const struct ppml_toml_value *o, const char *sup,
				 struct ppml_buf *retstr, struct sections *retdict, int depth,
				 struct ppml_err *err)
{
	struct ppml_buf arraystr = {0}, q = {0};
	ppml_status st = PPML_OK;

	if (depth > T0102_MAX_DEPTH)
		return too_deep(err);
	for (size_t i = 0; i < o->u.t.len && st == PPML_OK; i++) {
		const struct ppml_toml_kv *kv = &o->u.t.items[i];
		const struct ppml_toml_value *v = kv->value;

		q.len = 0;
		if ((st = put_key(&q, kv->key, kv->key_len, err)) != PPML_OK ||
		    (st = ppml_buf_append(&q, "", 0)) != PPML_OK)
			break;
		if (v->type == PPML_TOML_TABLE) {
			char *name = join_name(sup, (const char *)q.data, q.len);
			if (!name || sections_add(retdict, name, v) != PPML_OK)
				st = nomem(err);
		} else if (is_aot(v)) {
			char *name = join_name(sup, (const char *)q.data, q.len);
			if (!name) {
				st = nomem(err);
				break;
			}
			for (size_t j = 0; j < v->u.a.len && st == PPML_OK; j++)
				st = dump_aot_element(v->u.a.items[j], name, &arraystr, depth, err);
			free(name);
		} else {
			if (ppml_buf_append(retstr, q.data, q.len) != PPML_OK ||
			    ppml_buf_puts(retstr, " = ") != PPML_OK) {
				st = nomem(err);
				break;
			}
			if ((st = put_value(retstr, v, depth + 1, err)) == PPML_OK &&
			    ppml_buf_putc(retstr, '\n') != PPML_OK)
				st = nomem(err);
		}
	}
	if (st == PPML_OK && arraystr.len && ppml_buf_append(retstr, arraystr.data, arraystr.len) !=
						     PPML_OK)
		st = nomem(err);
	ppml_buf_free(&arraystr);
	ppml_buf_free(&q);
	return st;
}

static int ends_with_blank_line(const struct ppml_buf *b)
{
	return b->len >= 2 && b->data[b->len - 2] == '\n' && b->data[b->len - 1] == '\n';
}

ppml_status ppml_toml_write_toml0102(const struct ppml_toml_value *root, struct ppml_buf *out,
				     struct ppml_err *err)
{
	struct ppml_buf ret = {0};
	struct sections sections = {0}, next = {0};
	ppml_status st;
	int level = 0;

	if (!root || root->type != PPML_TOML_TABLE)
		return ppml_err_set(err, PPML_E_INTERNAL, "the TOML root must be a table");
	if ((st = dump_sections(root, "", &ret, &sections, 0, err)) != PPML_OK)
		goto out;
	/* Breadth-first: every table of one level before the next level. */
	while (sections.len) {
		if (++level > T0102_MAX_DEPTH) {
			st = too_deep(err);
			goto out;
		}
		for (size_t i = 0; i < sections.len; i++) {
			struct ppml_buf add = {0};
			struct sections sub = {0};
			st = dump_sections(sections.v[i].t, sections.v[i].name, &add, &sub, level, err);
			if (st == PPML_OK && (add.len || !sub.len)) {
				if ((ret.len && !ends_with_blank_line(&ret) &&
				     ppml_buf_putc(&ret, '\n') != PPML_OK) ||
				    ppml_buf_printf(&ret, "[%s]\n", sections.v[i].name) != PPML_OK ||
				    ppml_buf_append(&ret, add.data, add.len) != PPML_OK)
					st = nomem(err);
			}
			for (size_t j = 0; j < sub.len && st == PPML_OK; j++) {
				if (sections_add(&next, sub.v[j].name, sub.v[j].t) != PPML_OK)
					st = nomem(err);
				sub.v[j].name = NULL;
			}
			ppml_buf_free(&add);
			sections_free(&sub);
			if (st != PPML_OK)
				goto out;
		}
		sections_free(&sections);
		sections = next;
		memset(&next, 0, sizeof(next));
	}
	if (ppml_buf_append(out, ret.data, ret.len) != PPML_OK)
		st = nomem(err);
out:
	ppml_buf_free(&ret);
	sections_free(&sections);
	sections_free(&next);
	return st;
}
