/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TOML 1.0 parser (https://toml.io/en/v1.0.0) into the ordered tree.
 *
 * Gramine parses manifests with tomli 2.x, so where TOML 1.0 leaves room
 * (which tables dotted keys and headers may extend) we follow tomli, which
 * is also what toml-test's invalid cases pin:
 *  - a [header] may define a table only if it does not exist yet or was
 *    created implicitly as the parent of an earlier header (F_IMPLICIT);
 *  - dotted keys may pass through tables they created themselves
 *    (F_DOTTED) or implicit ones, never through tables defined by a
 *    header (F_DEFINED) and never into inline tables or array literals
 *    (F_INLINE, sealed);
 *  - a table reached by dotted keys can no longer be defined by a header,
 *    but a header may name a sub-table below it.
 *
 * The whole input is checked for strict UTF-8 and forbidden control
 * characters first, so the grammar code below only deals with ASCII
 * decisions.  Recursion (arrays, inline tables) is bounded by
 * PPML_TOML_MAX_DEPTH, counted in tree levels, so the tree can also be
 * freed or walked recursively without exhausting the stack; the number of
 * values is capped by PPML_TOML_MAX_VALUES to bound the tree's memory.
 */
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ppml/hex.h"
#include "ppml/buf.h"
#include "ppml/limits.h"
#include "ppml/toml.h"

struct index_slot;

struct parser {
	const char *s;
	size_t len;
	size_t pos;
	struct ppml_err *err;
	struct ppml_toml_value *root;
	struct ppml_toml_value *cur; /* table that key/value lines go into */
	size_t cur_depth;            /* tree levels from root down to cur */
	locale_t c_locale;           /* created on the first float: strtod must not follow LC_NUMERIC */
	struct index_slot *index;    /* see find() */
	size_t index_cap, index_used; /* cap: 0 or a power of two */
	uint64_t seed;
	size_t nvalues;              /* tree nodes created so far, see count_value() */
	unsigned flags;              /* PPML_TOML_PARSE_* */
	size_t stmt_start;           /* offset of the line holding the current key/value */
};

/* A dotted key: the parts' bytes concatenated, plus where each part ends. */
struct key {
	struct ppml_buf bytes;
	size_t *ends;
	size_t n, cap;
	size_t at; /* input offset of the key, for messages */
};

static void key_cleanup(struct key *k)
{
	ppml_buf_free(&k->bytes);
	free(k->ends);
	memset(k, 0, sizeof(*k));
}

static const char *key_part(const struct key *k, size_t i, size_t *len)
{
	size_t start = i ? k->ends[i - 1] : 0;
	*len = k->ends[i] - start;
	/* An empty buffer has no storage; "" is a valid (quoted) key. */
	return k->bytes.data ? (const char *)k->bytes.data + start : "";
}

static void where(const struct parser *p, size_t at, size_t *line, size_t *col)
{
	size_t l = 1, ls = 0;

	if (at > p->len)
		at = p->len;
	for (size_t i = 0; i < at; i++) {
		if (p->s[i] == '\n') {
			l++;
			ls = i + 1;
		}
	}
	*line = l;
	*col = at - ls + 1;
}

static ppml_status fail_code(struct parser *p, ppml_status code, size_t at, const char *fmt,
			     va_list ap)
{
	char what[512];
	size_t line, col;

	vsnprintf(what, sizeof(what), fmt, ap);
	where(p, at, &line, &col);
	return ppml_err_set(p->err, code, "line %zu, column %zu: %s", line, col, what);
}

static ppml_status fail(struct parser *p, size_t at, const char *fmt, ...) PPML_PRINTF(3, 4);
static ppml_status fail(struct parser *p, size_t at, const char *fmt, ...)
{
	va_list ap;
	ppml_status rc;

	va_start(ap, fmt);
	rc = fail_code(p, PPML_E_INPUT, at, fmt, ap);
	va_end(ap);
	return rc;
}

static ppml_status fail_limit(struct parser *p, size_t at, const char *fmt, ...) PPML_PRINTF(3, 4);
static ppml_status fail_limit(struct parser *p, size_t at, const char *fmt, ...)
{
	va_list ap;
	ppml_status rc;

	va_start(ap, fmt);
	rc = fail_code(p, PPML_E_LIMIT, at, fmt, ap);
	va_end(ap);
	return rc;
}

static ppml_status nomem(struct parser *p)
{
	return ppml_err_set(p->err, PPML_E_NOMEM, "out of memory while parsing TOML");
}

/*
 * A two-byte literal such as `1,` or `{}` costs about 75 bytes of tree, so
 * PPML_TOML_MAX_INPUT alone would let 16 MiB of input pin over 1 GiB.
 * Every node (scalars, arrays, tables, implicit ones too) is counted here.
 */
static ppml_status count_value(struct parser *p, size_t at)
{
	if (++p->nvalues > PPML_TOML_MAX_VALUES)
		return fail_limit(p, at, "more than PPML_TOML_MAX_VALUES (%u) values",
				  (unsigned)PPML_TOML_MAX_VALUES);
	return PPML_OK;
}

static int peek(const struct parser *p, size_t off)
{
	if (off >= p->len - p->pos || p->pos >= p->len)
		return -1;
	return (unsigned char)p->s[p->pos + off];
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_bare_key_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
	       c == '-';
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
		p->pos++;
}

static void skip_comment(struct parser *p)
{
	if (peek(p, 0) != '#')
		return;
	while (p->pos < p->len && p->s[p->pos] != '\n' && p->s[p->pos] != '\r')
		p->pos++;
}

/* Consumes one LF or CRLF; false if there is none here. */
static bool eat_newline(struct parser *p)
{
	if (peek(p, 0) == '\n') {
		p->pos++;
		return true;
	}
	if (peek(p, 0) == '\r' && peek(p, 1) == '\n') {
		p->pos += 2;
		return true;
	}
	return false;
}

/* Whitespace, comments and newlines, as allowed between array elements. */
static void skip_ws_comments_newlines(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		skip_comment(p);
		if (!eat_newline(p))
			return;
	}
}

static ppml_status expect_eol(struct parser *p, const char *after)
{
	skip_ws(p);
	skip_comment(p);
	if (p->pos >= p->len || eat_newline(p))
		return PPML_OK;
	return fail(p, p->pos, "expected a newline or end of input after %s", after);
}

/*
 * Strict UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF) and TOML's ban on control characters other than tab (CR only as
 * part of CRLF) apply everywhere, comments and strings included.
 */
static ppml_status check_text(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->s;
	size_t i = 0, n;
	uint32_t cp, min;

	while (i < p->len) {
		unsigned c = s[i];
		if (c < 0x80) {
			if (c == '\r') {
				if (i + 1 < p->len && s[i + 1] == '\n') {
					i += 2;
					continue;
				}
				return fail(p, i, "carriage return not followed by a line feed");
			}
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				return fail(p, i, "control character U+%04X is not allowed", c);
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return fail(p, i, "invalid UTF-8 lead byte 0x%02x", c);
		}
		if (n > p->len - i)
			return fail(p, i, "truncated UTF-8 sequence");
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return fail(p, i, "invalid UTF-8 continuation byte");
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return fail(p, i, "invalid UTF-8 (overlong, surrogate or above U+10FFFF)");
		i += n;
	}
	return PPML_OK;
}

static ppml_status put_utf8(struct parser *p, struct ppml_buf *out, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | (cp >> 6));
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | (cp >> 12));
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | (cp >> 18));
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return ppml_buf_append(out, b, n) == PPML_OK ? PPML_OK : nomem(p);
}


/* At a backslash in a basic string.  TOML 1.0 has exactly these escapes;
 * \e and \xHH are TOML 1.1 and rejected. */
static ppml_status parse_escape(struct parser *p, struct ppml_buf *out)
{
	size_t at = p->pos;
	int c = peek(p, 1);
	char ch;
	size_t ndig;
	uint32_t cp = 0;

	switch (c) {
	case 'b': ch = '\b'; break;
	case 't': ch = '\t'; break;
	case 'n': ch = '\n'; break;
	case 'f': ch = '\f'; break;
	case 'r': ch = '\r'; break;
	case '"': ch = '"'; break;
	case '\\': ch = '\\'; break;
	case 'u':
	case 'U':
		ndig = c == 'u' ? 4 : 8;
		for (size_t i = 0; i < ndig; i++) {
			int h = ppml_hex_digit(peek(p, 2 + i));
			if (h < 0)
				return fail(p, at, "\\%c needs %zu hex digits", c, ndig);
			cp = (cp << 4) | (uint32_t)h;
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return fail(p, at, "escape is not a Unicode scalar value");
		p->pos += 2 + ndig;
		return put_utf8(p, out, cp);
	default:
		return fail(p, at, "invalid escape sequence (TOML 1.0 allows \\b \\t \\n \\f \\r "
				   "\\\" \\\\ \\uXXXX \\UXXXXXXXX)");
	}
	p->pos += 2;
	return ppml_buf_putc(out, ch) == PPML_OK ? PPML_OK : nomem(p);
}

static ppml_status put_bytes(struct parser *p, struct ppml_buf *out, const char *b, size_t n)
{
	return ppml_buf_append(out, b, n) == PPML_OK ? PPML_OK : nomem(p);
}

/*
 * At the opening quote of any of the four string kinds; appends the decoded
 * value to out.  Keys pass allow_multi = false: `"""` is not a key.
 */
static ppml_status parse_string(struct parser *p, bool allow_multi, struct ppml_buf *out)
{
	size_t at = p->pos, run;
	char q = p->s[p->pos];
	bool basic = q == '"';
	bool multi = allow_multi && peek(p, 1) == q && peek(p, 2) == q;
	ppml_status rc;

	/* Makes an empty string's buffer non-NULL so callers can rely on data. */
	if (ppml_buf_reserve(out, 1) != PPML_OK)
		return nomem(p);
	if (!multi) {
		p->pos++;
		for (;;) {
			int c = peek(p, 0);
			if (c < 0)
				return fail(p, at, "unterminated string");
			if (c == q) {
				p->pos++;
				return PPML_OK;
			}
			if (c == '\n' || c == '\r')
				return fail(p, p->pos, "newline in a single-line string");
			if (basic && c == '\\') {
				rc = parse_escape(p, out);
				if (rc != PPML_OK)
					return rc;
				continue;
			}
			rc = put_bytes(p, out, p->s + p->pos, 1);
			if (rc != PPML_OK)
				return rc;
			p->pos++;
		}
	}
	p->pos += 3;
	/* A newline right after the opening delimiter is not part of the value. */
	eat_newline(p);
	for (;;) {
		int c = peek(p, 0);
		if (c < 0)
			return fail(p, at, "unterminated multi-line string");
		if (c == q) {
			for (run = 0; peek(p, run) == q; run++)
				;
			if (run >= 3) {
				/* Up to two quotes may sit just before the closing delimiter. */
				if (run > 5)
					return fail(p, p->pos, "too many quotes at the end of a multi-line string");
				rc = put_bytes(p, out, p->s + p->pos, run - 3);
				p->pos += run;
				return rc;
			}
			rc = put_bytes(p, out, p->s + p->pos, run);
			if (rc != PPML_OK)
				return rc;
			p->pos += run;
			continue;
		}
		if (basic && c == '\\') {
			/* Line-ending backslash: trims whitespace and newlines up to the next
			 * other character.  Whitespace after the backslash is allowed only if
			 * a newline follows. */
			size_t j = 1;
			while (peek(p, j) == ' ' || peek(p, j) == '\t')
				j++;
			if (peek(p, j) == '\n' || (peek(p, j) == '\r' && peek(p, j + 1) == '\n')) {
				p->pos += j;
				for (;;) {
					skip_ws(p);
					if (!eat_newline(p))
						break;
				}
				continue;
			}
			rc = parse_escape(p, out);
			if (rc != PPML_OK)
				return rc;
			continue;
		}
		if (c == '\r') {
			/* check_text guarantees CRLF; values carry LF, as with tomli. */
			rc = put_bytes(p, out, "\n", 1);
			p->pos += 2;
		} else {
			rc = put_bytes(p, out, p->s + p->pos, 1);
			p->pos++;
		}
		if (rc != PPML_OK)
			return rc;
	}
}

static ppml_status parse_key(struct parser *p, struct key *k)
{
	ppml_status rc;

	skip_ws(p);
	k->at = p->pos;
	for (;;) {
		int c;
		skip_ws(p);
		c = peek(p, 0);
		if (c == '"' || c == '\'') {
			rc = parse_string(p, false, &k->bytes);
			if (rc != PPML_OK)
				return rc;
		} else if (is_bare_key_char(c)) {
			size_t start = p->pos;
			while (is_bare_key_char(peek(p, 0)))
				p->pos++;
			rc = put_bytes(p, &k->bytes, p->s + start, p->pos - start);
			if (rc != PPML_OK)
				return rc;
		} else {
			return fail(p, p->pos, "expected a key");
		}
		if (k->n == PPML_TOML_MAX_DEPTH)
			return fail_limit(p, k->at, "dotted key has more than PPML_TOML_MAX_DEPTH (%d) parts",
					  PPML_TOML_MAX_DEPTH);
		if (k->n == k->cap) {
			size_t ncap = k->cap ? k->cap * 2 : 4;
			size_t *ne = realloc(k->ends, ncap * sizeof(*ne));
			if (!ne)
				return nomem(p);
			k->ends = ne;
			k->cap = ncap;
		}
		k->ends[k->n++] = k->bytes.len;
		skip_ws(p);
		if (peek(p, 0) != '.')
			return PPML_OK;
		p->pos++;
	}
}

/*
 * Key lookup goes through one hash index per parse (table pointer + key ->
 * position in that table), so a document with many keys in one table stays
 * linear; the trees' own lookup is a scan.  A slot is trusted only after the
 * key at that position compares equal.
 */
struct index_slot {
	const struct ppml_toml_value *table; /* NULL: empty slot */
	uint64_t hash;
	size_t pos;
};

static uint64_t key_hash(const struct parser *p, const struct ppml_toml_value *t, const char *key,
			 size_t klen)
{
	/* FNV-1a, seeded per parse so colliding keys cannot be precomputed as easily. */
	uint64_t h = 0xcbf29ce484222325u ^ p->seed ^ (uint64_t)(uintptr_t)t;

	for (size_t i = 0; i < klen; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3u;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 32;
	return h;
}

static struct ppml_toml_kv *find(struct parser *p, const struct ppml_toml_value *t, const char *key,
				 size_t klen)
{
	uint64_t h;

	if (p->index_cap == 0)
		return NULL;
	h = key_hash(p, t, key, klen);
	for (size_t i = h & (p->index_cap - 1);; i = (i + 1) & (p->index_cap - 1)) {
		const struct index_slot *sl = &p->index[i];
		struct ppml_toml_kv *kv;
		if (!sl->table)
			return NULL;
		if (sl->table != t || sl->hash != h || sl->pos >= t->u.t.len)
			continue;
		kv = &t->u.t.items[sl->pos];
		if (kv->key_len == klen && memcmp(kv->key, key, klen) == 0)
			return kv;
	}
}

static void index_put(struct index_slot *slots, size_t cap, const struct index_slot *in)
{
	size_t i = in->hash & (cap - 1);

	while (slots[i].table)
		i = (i + 1) & (cap - 1);
	slots[i] = *in;
}

/* Appends key = val (takes val) to t and indexes it; the caller checked
 * that the key is new. */
static ppml_status insert(struct parser *p, struct ppml_toml_value *t, const char *key,
			  size_t klen, struct ppml_toml_value *val)
{
	struct index_slot in;

	/* Keep the load factor at or below 1/2 so probes stay short. */
	if (2 * (p->index_used + 1) > p->index_cap) {
		size_t ncap = p->index_cap ? 2 * p->index_cap : 64;
		struct index_slot *ns = calloc(ncap, sizeof(*ns));
		if (!ns) {
			ppml_toml_free(val);
			return nomem(p);
		}
		for (size_t i = 0; i < p->index_cap; i++)
			if (p->index[i].table)
				index_put(ns, ncap, &p->index[i]);
		free(p->index);
		p->index = ns;
		p->index_cap = ncap;
	}
	if (ppml_toml_table_add(t, key, klen, val) != PPML_OK)
		return nomem(p);
	in.table = t;
	in.hash = key_hash(p, t, key, klen);
	in.pos = t->u.t.len - 1;
	index_put(p->index, p->index_cap, &in);
	p->index_used++;
	return PPML_OK;
}

/* Adds a new empty table under key and points *out at it (still owned by t). */
static ppml_status add_table(struct parser *p, size_t at, struct ppml_toml_value *t,
			     const char *key, size_t klen, uint32_t flags,
			     struct ppml_toml_value **out)
{
	struct ppml_toml_value *nt;
	ppml_status rc;

	rc = count_value(p, at);
	if (rc != PPML_OK)
		return rc;
	nt = ppml_toml_new_table();
	if (!nt)
		return nomem(p);
	nt->flags = flags;
	rc = insert(p, t, key, klen, nt);
	if (rc == PPML_OK)
		*out = nt;
	return rc;
}

static ppml_status parse_value(struct parser *p, size_t depth, struct ppml_toml_value **out);

static ppml_status parse_keyval(struct parser *p, struct ppml_toml_value *table, size_t depth);

/* The value kinds toml 0.10.2's load_value tells apart (its "Not a
 * homogeneous array" check): int and float differ, every date form is one
 * kind, a table is an inline object. */
static int kind_0102(const struct ppml_toml_value *v)
{
	switch (v->type) {
	case PPML_TOML_DATETIME:
	case PPML_TOML_DATETIME_LOCAL:
	case PPML_TOML_DATE_LOCAL:
		return PPML_TOML_DATETIME;
	default:
		return (int)v->type;
	}
}

/* toml 0.10.2 reports the error at the start of the line holding the key,
 * counting Python characters (code points) for `char`. */
static ppml_status fail_not_homogeneous(struct parser *p)
{
	size_t line, col, chars = 0;

	where(p, p->stmt_start, &line, &col);
	for (size_t i = 0; i < p->stmt_start; i++)
		if (((unsigned char)p->s[i] & 0xc0) != 0x80)
			chars++;
	return ppml_err_set(p->err, PPML_E_INPUT,
			    "Not a homogeneous array (line %zu column %zu char %zu): Gramine v1.3's "
			    "toml 0.10.2 cannot mix value types in one array, e.g. strings and "
			    "tables in sgx.trusted_files; write every entry as { uri = \"...\" }",
			    line, col, chars);
}

static ppml_status parse_array(struct parser *p, size_t depth, struct ppml_toml_value **out)
{
	struct ppml_toml_value *arr = ppml_toml_new_array(), *item = NULL;
	ppml_status rc = PPML_OK;

	if (!arr) {
		rc = nomem(p);
		goto out;
	}
	arr->flags = PPML_TOML_F_INLINE;
	p->pos++;
	for (;;) {
		skip_ws_comments_newlines(p);
		if (peek(p, 0) == ']') {
			p->pos++;
			break;
		}
		rc = parse_value(p, depth + 1, &item);
		if (rc != PPML_OK)
			goto out;
		if ((p->flags & PPML_TOML_PARSE_HOMOGENEOUS) && arr->u.a.len &&
		    kind_0102(arr->u.a.items[0]) != kind_0102(item)) {
			ppml_toml_free(item);
			rc = fail_not_homogeneous(p);
			goto out;
		}
		if (ppml_toml_push(arr, item) != PPML_OK) {
			rc = nomem(p);
			goto out;
		}
		skip_ws_comments_newlines(p);
		if (peek(p, 0) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p, 0) == ']') {
			p->pos++;
			break;
		}
		rc = fail(p, p->pos, "expected ',' or ']' in array");
		goto out;
	}
	*out = arr;
	arr = NULL;
out:
	ppml_toml_free(arr);
	return rc;
}

static ppml_status parse_inline_table(struct parser *p, size_t depth, struct ppml_toml_value **out)
{
	struct ppml_toml_value *t = ppml_toml_new_table();
	ppml_status rc = PPML_OK;

	if (!t) {
		rc = nomem(p);
		goto out;
	}
	/* Sealed: no header or dotted key outside the braces may add to it. */
	t->flags = PPML_TOML_F_INLINE;
	p->pos++;
	skip_ws(p);
	if (peek(p, 0) == '}') {
		p->pos++;
		goto done;
	}
	for (;;) {
		rc = parse_keyval(p, t, depth);
		if (rc != PPML_OK)
			goto out;
		skip_ws(p);
		if (peek(p, 0) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p, 0) == '}') {
			p->pos++;
			break;
		}
		rc = fail(p, p->pos, "expected ',' or '}' in inline table (TOML 1.0 allows no newline "
				     "or trailing comma there)");
		goto out;
	}
done:
	*out = t;
	t = NULL;
out:
	ppml_toml_free(t);
	return rc;
}

/* Digits of the given base with single underscores between digits; returns
 * how many characters were taken from t[*i..n). */
static size_t take_digits(const char *t, size_t n, size_t *i, int base)
{
	size_t start = *i;

	while (*i < n) {
		int c = (unsigned char)t[*i];
		int d = ppml_hex_digit(c);
		if (d >= 0 && d < base) {
			(*i)++;
			continue;
		}
		if (c == '_' && *i > start && *i + 1 < n) {
			int nd = ppml_hex_digit((unsigned char)t[*i + 1]);
			if (nd >= 0 && nd < base) {
				(*i)++;
				continue;
			}
		}
		break;
	}
	return *i - start;
}

static ppml_status parse_float(struct parser *p, const char *t, size_t n, size_t at,
			       struct ppml_toml_value **out)
{
	/* strtod needs a NUL-terminated copy without the underscores. */
	char *buf = malloc(n + 1), *end = NULL;
	size_t m = 0;
	double d;
	ppml_status rc = PPML_OK;

	if (!buf)
		return nomem(p);
	for (size_t i = 0; i < n; i++)
		if (t[i] != '_')
			buf[m++] = t[i];
	buf[m] = '\0';
	if (p->c_locale == (locale_t)0) {
		p->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
		if (p->c_locale == (locale_t)0) {
			rc = nomem(p);
			goto out;
		}
	}
	d = strtod_l(buf, &end, p->c_locale);
	if (end != buf + m) {
		rc = fail(p, at, "invalid float");
		goto out;
	}
	*out = ppml_toml_new_float(d);
	if (!*out)
		rc = nomem(p);
out:
	free(buf);
	return rc;
}

static ppml_status parse_number(struct parser *p, const char *t, size_t n, size_t at,
				struct ppml_toml_value **out)
{
	size_t i = 0, intlen;
	bool neg = false, is_float = false;
	int base = 10;
	uint64_t acc = 0, limit;

	if (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-';
		i = 1;
	}
	if (n - i == 3 && (memcmp(t + i, "inf", 3) == 0 || memcmp(t + i, "nan", 3) == 0)) {
		double d = t[i] == 'i' ? INFINITY : NAN;
		*out = ppml_toml_new_float(neg ? -d : d);
		return *out ? PPML_OK : nomem(p);
	}
	if (n - i >= 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b')) {
		if (i)
			return fail(p, at, "hexadecimal, octal and binary integers take no sign");
		base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
		i = 2;
		if (take_digits(t, n, &i, base) == 0 || i != n)
			return fail(p, at, "invalid base-%d integer", base);
		i = 2;
	} else {
		size_t start = i;
		intlen = take_digits(t, n, &i, 10);
		if (intlen == 0)
			return fail(p, at, "expected a value");
		if (t[start] == '0' && intlen > 1)
			return fail(p, at, "leading zeros are not allowed");
		if (i < n && t[i] == '.') {
			i++;
			if (take_digits(t, n, &i, 10) == 0)
				return fail(p, at, "expected digits after the decimal point");
			is_float = true;
		}
		if (i < n && (t[i] == 'e' || t[i] == 'E')) {
			i++;
			if (i < n && (t[i] == '+' || t[i] == '-'))
				i++;
			if (take_digits(t, n, &i, 10) == 0)
				return fail(p, at, "expected digits in the exponent");
			is_float = true;
		}
		if (i != n)
			return fail(p, at, "invalid number");
		if (is_float)
			return parse_float(p, t, n, at, out);
		i = start;
	}
	/* Two's complement: the magnitude of INT64_MIN is INT64_MAX + 1. */
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned d;
		if (t[i] == '_')
			continue;
		d = (unsigned)ppml_hex_digit((unsigned char)t[i]);
		if (acc > (limit - d) / (unsigned)base)
			return fail(p, at, "integer does not fit in 64 bits");
		acc = acc * (unsigned)base + d;
	}
	if (neg)
		*out = ppml_toml_new_integer(acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN
									  : -(int64_t)acc);
	else
		*out = ppml_toml_new_integer((int64_t)acc);
	return *out ? PPML_OK : nomem(p);
}

/* count decimal digits at t[i..]; -1 if any is missing or not a digit. */
static int fixed_digits(const char *t, size_t n, size_t i, size_t count)
{
	int v = 0;

	if (i > n || count > n - i)
		return -1;
	for (size_t k = 0; k < count; k++) {
		if (!is_digit((unsigned char)t[i + k]))
			return -1;
		v = v * 10 + (t[i + k] - '0');
	}
	return v;
}

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* RFC 3339 partial-time at t[i..]: HH:MM:SS[.frac]; returns the end or 0. */
static size_t parse_time(const char *t, size_t n, size_t i, struct ppml_toml_datetime *dt)
{
	int h = fixed_digits(t, n, i, 2), m = fixed_digits(t, n, i + 3, 2),
	    s = fixed_digits(t, n, i + 6, 2);

	/* TOML 1.0 requires seconds; RFC 3339 allows second 60 (leap second). */
	if (h < 0 || m < 0 || s < 0 || t[i + 2] != ':' || t[i + 5] != ':' || h > 23 || m > 59 ||
	    s > 60)
		return 0;
	dt->hour = h;
	dt->minute = m;
	dt->second = s;
	i += 8;
	if (i < n && t[i] == '.') {
		size_t k = 0;
		uint32_t ns = 0;
		i++;
		while (i < n && is_digit((unsigned char)t[i])) {
			if (k < 9)
				ns = ns * 10 + (uint32_t)(t[i] - '0');
			k++;
			i++;
		}
		if (k == 0)
			return 0;
		dt->frac_digits = (uint8_t)(k < 9 ? k : 9);
		for (size_t z = dt->frac_digits; z < 9; z++)
			ns *= 10;
		dt->nanosecond = ns;
	}
	return i;
}

static ppml_status parse_datetime(struct parser *p, const char *t, size_t n, size_t at,
				  struct ppml_toml_value **out)
{
	struct ppml_toml_datetime dt = {0};
	enum ppml_toml_type type;
	size_t i;
	int y, mo, d;

	if (n >= 3 && t[2] == ':') {
		if (parse_time(t, n, 0, &dt) != n)
			return fail(p, at, "invalid local time (expected HH:MM:SS[.fraction])");
		type = PPML_TOML_TIME_LOCAL;
		goto make;
	}
	y = fixed_digits(t, n, 0, 4);
	mo = fixed_digits(t, n, 5, 2);
	d = fixed_digits(t, n, 8, 2);
	if (y < 0 || mo < 0 || d < 0 || t[4] != '-' || t[7] != '-')
		return fail(p, at, "invalid date (expected YYYY-MM-DD)");
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return fail(p, at, "date %04d-%02d-%02d does not exist", y, mo, d);
	dt.year = y;
	dt.month = mo;
	dt.day = d;
	if (n == 10) {
		type = PPML_TOML_DATE_LOCAL;
		goto make;
	}
	if (t[10] != 'T' && t[10] != 't' && t[10] != ' ')
		return fail(p, at, "invalid date-time (expected 'T' or a space after the date)");
	i = parse_time(t, n, 11, &dt);
	if (i == 0)
		return fail(p, at, "invalid time (expected HH:MM:SS[.fraction])");
	if (i == n) {
		type = PPML_TOML_DATETIME_LOCAL;
		goto make;
	}
	type = PPML_TOML_DATETIME;
	if ((t[i] == 'Z' || t[i] == 'z') && i + 1 == n)
		goto make;
	if (t[i] == '+' || t[i] == '-') {
		int oh = fixed_digits(t, n, i + 1, 2), om = fixed_digits(t, n, i + 4, 2);
		if (oh >= 0 && om >= 0 && t[i + 3] == ':' && i + 6 == n && oh <= 23 && om <= 59) {
			dt.offset_minutes = (t[i] == '-' ? -1 : 1) * (oh * 60 + om);
			goto make;
		}
	}
	return fail(p, at, "invalid time offset (expected Z or +HH:MM / -HH:MM)");
make:
	/* The public API has no date-time constructor; any scalar allocation will do. */
	*out = ppml_toml_new_bool(false);
	if (!*out)
		return nomem(p);
	(*out)->type = type;
	(*out)->u.dt = dt;
	return PPML_OK;
}

static bool is_scalar_char(int c)
{
	return is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

static bool looks_like_date(const char *t, size_t n)
{
	return n >= 5 && is_digit((unsigned char)t[0]) && is_digit((unsigned char)t[1]) &&
	       is_digit((unsigned char)t[2]) && is_digit((unsigned char)t[3]) && t[4] == '-';
}

static ppml_status parse_value(struct parser *p, size_t depth, struct ppml_toml_value **out)
{
	size_t at = p->pos, n;
	int c = peek(p, 0);
	struct ppml_buf sb = {0};
	ppml_status rc = PPML_OK;

	*out = NULL;
	if (depth > PPML_TOML_MAX_DEPTH)
		return fail_limit(p, at, "nesting deeper than PPML_TOML_MAX_DEPTH (%d)",
				  PPML_TOML_MAX_DEPTH);
	rc = count_value(p, at);
	if (rc != PPML_OK)
		return rc;
	switch (c) {
	case '"':
	case '\'':
		rc = parse_string(p, true, &sb);
		if (rc != PPML_OK)
			goto out;
		*out = ppml_toml_new_string((const char *)sb.data, sb.len);
		if (!*out)
			rc = nomem(p);
		goto out;
	case '[':
		return parse_array(p, depth, out);
	case '{':
		return parse_inline_table(p, depth, out);
	case 't':
		if (p->len - p->pos >= 4 && memcmp(p->s + p->pos, "true", 4) == 0) {
			p->pos += 4;
			*out = ppml_toml_new_bool(true);
			return *out ? PPML_OK : nomem(p);
		}
		break;
	case 'f':
		if (p->len - p->pos >= 5 && memcmp(p->s + p->pos, "false", 5) == 0) {
			p->pos += 5;
			*out = ppml_toml_new_bool(false);
			return *out ? PPML_OK : nomem(p);
		}
		break;
	default:
		break;
	}
	for (n = 0; is_scalar_char(peek(p, n)); n++)
		;
	if (n == 0)
		return fail(p, at, "expected a value");
	/* A date followed by a space and a time is one value (RFC 3339 allows the space). */
	if (n == 10 && looks_like_date(p->s + at, n) && peek(p, 10) == ' ' &&
	    is_digit(peek(p, 11)) && is_digit(peek(p, 12)) && peek(p, 13) == ':') {
		for (n = 11; is_scalar_char(peek(p, n)); n++)
			;
	}
	p->pos += n;
	if (looks_like_date(p->s + at, n) || (n >= 3 && p->s[at + 2] == ':'))
		return parse_datetime(p, p->s + at, n, at, out);
	return parse_number(p, p->s + at, n, at, out);
out:
	ppml_buf_free(&sb);
	return rc;
}

/*
 * key = value into table (the current [header] table or an inline table);
 * depth is the tree level of table.  Dotted keys create their tables here,
 * at first mention, so the tree keeps source order.
 */
static ppml_status parse_keyval(struct parser *p, struct ppml_toml_value *table, size_t depth)
{
	struct key k = {0};
	struct ppml_toml_value *v = NULL, *t = table;
	const char *part;
	size_t plen;
	ppml_status rc;

	rc = parse_key(p, &k);
	if (rc != PPML_OK)
		goto out;
	if (peek(p, 0) != '=') {
		rc = fail(p, p->pos, "expected '=' after a key");
		goto out;
	}
	p->pos++;
	skip_ws(p);
	if (depth + k.n > PPML_TOML_MAX_DEPTH) {
		rc = fail_limit(p, k.at, "nesting deeper than PPML_TOML_MAX_DEPTH (%d)",
				PPML_TOML_MAX_DEPTH);
		goto out;
	}
	rc = parse_value(p, depth + k.n, &v);
	if (rc != PPML_OK)
		goto out;
	for (size_t i = 0; i + 1 < k.n; i++) {
		struct ppml_toml_kv *kv;
		part = key_part(&k, i, &plen);
		kv = find(p, t, part, plen);
		if (!kv) {
			rc = add_table(p, k.at, t, part, plen, PPML_TOML_F_DOTTED, &t);
			if (rc != PPML_OK)
				goto out;
			continue;
		}
		if (kv->value->type != PPML_TOML_TABLE ||
		    (kv->value->flags & (PPML_TOML_F_INLINE | PPML_TOML_F_DEFINED))) {
			rc = fail(p, k.at, "dotted key cannot add to '%.*s' (%s)", (int)plen, part,
				  kv->value->type != PPML_TOML_TABLE ? "not a table"
				  : kv->value->flags & PPML_TOML_F_INLINE
				      ? "inline tables are sealed"
				      : "defined by a [table] header");
			goto out;
		}
		/* From now on a [header] may not define this table. */
		kv->value->flags |= PPML_TOML_F_DOTTED;
		t = kv->value;
	}
	part = key_part(&k, k.n - 1, &plen);
	if (find(p, t, part, plen)) {
		rc = fail(p, k.at, "key '%.*s' is already defined", (int)plen, part);
		goto out;
	}
	rc = insert(p, t, part, plen, v);
	v = NULL;
out:
	ppml_toml_free(v);
	key_cleanup(&k);
	return rc;
}

static ppml_status parse_header(struct parser *p)
{
	struct key k = {0};
	struct ppml_toml_value *t = p->root, *arr;
	struct ppml_toml_kv *kv;
	size_t at = p->pos, depth = 0, plen;
	const char *part;
	bool aot = peek(p, 1) == '[';
	ppml_status rc;

	p->pos += aot ? 2 : 1;
	rc = parse_key(p, &k);
	if (rc != PPML_OK)
		goto out;
	if (peek(p, 0) != ']' || (aot && peek(p, 1) != ']')) {
		rc = fail(p, p->pos, "expected '%s' to close the table header", aot ? "]]" : "]");
		goto out;
	}
	p->pos += aot ? 2 : 1;
	for (size_t i = 0; i + 1 < k.n; i++) {
		part = key_part(&k, i, &plen);
		kv = find(p, t, part, plen);
		if (!kv) {
			rc = add_table(p, at, t, part, plen, PPML_TOML_F_IMPLICIT, &t);
			if (rc != PPML_OK)
				goto out;
			depth++;
			continue;
		}
		if (kv->value->type == PPML_TOML_TABLE && !(kv->value->flags & PPML_TOML_F_INLINE)) {
			t = kv->value;
			depth++;
			continue;
		}
		if (kv->value->type == PPML_TOML_ARRAY && (kv->value->flags & PPML_TOML_F_AOT)) {
			/* [[a]] ... [a.b]: b goes into the latest element of a. */
			t = kv->value->u.a.items[kv->value->u.a.len - 1];
			depth += 2;
			continue;
		}
		rc = fail(p, at, "cannot add a table under '%.*s' (%s)", (int)plen, part,
			  kv->value->type == PPML_TOML_TABLE ? "inline tables are sealed"
			  : kv->value->type == PPML_TOML_ARRAY ? "arrays are sealed"
							       : "not a table");
		goto out;
	}
	part = key_part(&k, k.n - 1, &plen);
	kv = find(p, t, part, plen);
	if (aot) {
		if (!kv) {
			rc = count_value(p, at);
			if (rc != PPML_OK)
				goto out;
			arr = ppml_toml_new_array();
			if (!arr) {
				rc = nomem(p);
				goto out;
			}
			arr->flags = PPML_TOML_F_AOT;
			rc = insert(p, t, part, plen, arr);
			if (rc != PPML_OK)
				goto out;
		} else if (kv->value->type == PPML_TOML_ARRAY && (kv->value->flags & PPML_TOML_F_AOT)) {
			arr = kv->value;
		} else {
			rc = fail(p, at, "'%.*s' is already defined and is not an array of tables",
				  (int)plen, part);
			goto out;
		}
		rc = count_value(p, at);
		if (rc != PPML_OK)
			goto out;
		t = ppml_toml_new_table();
		if (!t) {
			rc = nomem(p);
			goto out;
		}
		t->flags = PPML_TOML_F_DEFINED;
		if (ppml_toml_push(arr, t) != PPML_OK) {
			rc = nomem(p);
			goto out;
		}
		depth += 2;
	} else if (!kv) {
		rc = add_table(p, at, t, part, plen, PPML_TOML_F_DEFINED, &t);
		if (rc != PPML_OK)
			goto out;
		depth++;
	} else if (kv->value->type == PPML_TOML_TABLE &&
		   !(kv->value->flags &
		     (PPML_TOML_F_INLINE | PPML_TOML_F_DOTTED | PPML_TOML_F_DEFINED))) {
		/* Created implicitly by an earlier [a.b]; [a] may define it once. */
		t = kv->value;
		t->flags = (t->flags & ~PPML_TOML_F_IMPLICIT) | PPML_TOML_F_DEFINED;
		depth++;
	} else {
		rc = fail(p, at, "table '%.*s' is already defined", (int)plen, part);
		goto out;
	}
	if (depth > PPML_TOML_MAX_DEPTH) {
		rc = fail_limit(p, at, "tables nested deeper than PPML_TOML_MAX_DEPTH (%d)",
				PPML_TOML_MAX_DEPTH);
		goto out;
	}
	p->cur = t;
	p->cur_depth = depth;
out:
	key_cleanup(&k);
	return rc;
}

ppml_status ppml_toml_parse(const char *text, size_t len, struct ppml_toml_value **root,
			    struct ppml_err *err)
{
	return ppml_toml_parse_ex(text, len, 0, root, err);
}

ppml_status ppml_toml_parse_ex(const char *text, size_t len, unsigned flags,
			       struct ppml_toml_value **root, struct ppml_err *err)
{
	struct parser p = {0};
	ppml_status rc;

	if (!root || (!text && len))
		return ppml_err_set(err, PPML_E_INTERNAL, "ppml_toml_parse: NULL argument");
	if (len > PPML_TOML_MAX_INPUT)
		return ppml_err_set(err, PPML_E_LIMIT,
				    "TOML input is %zu bytes, over PPML_TOML_MAX_INPUT (%u)", len,
				    (unsigned)PPML_TOML_MAX_INPUT);
	p.s = text ? text : "";
	p.len = len;
	p.err = err;
	p.flags = flags;
	/* Address-space randomisation makes this differ between runs; no global state needed. */
	p.seed = (uint64_t)(uintptr_t)&p ^ ((uint64_t)(uintptr_t)text << 17);
	p.root = ppml_toml_new_table();
	if (!p.root) {
		rc = nomem(&p);
		goto out;
	}
	p.cur = p.root;
	rc = check_text(&p);
	if (rc != PPML_OK)
		goto out;
	/* A UTF-8 byte order mark is allowed at the very start only. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3;
	while (p.pos < p.len) {
		int c;
		skip_ws(&p);
		skip_comment(&p);
		if (eat_newline(&p))
			continue;
		c = peek(&p, 0);
		if (c < 0)
			break;
		if (c == '[') {
			rc = parse_header(&p);
			if (rc == PPML_OK)
				rc = expect_eol(&p, "a table header");
		} else {
			p.stmt_start = p.pos;
			while (p.stmt_start > 0 && p.s[p.stmt_start - 1] != '\n')
				p.stmt_start--;
			rc = parse_keyval(&p, p.cur, p.cur_depth);
			if (rc == PPML_OK)
				rc = expect_eol(&p, "a key/value pair");
		}
		if (rc != PPML_OK)
			goto out;
	}
	*root = p.root;
	p.root = NULL;
	rc = PPML_OK;
out:
	if (p.c_locale != (locale_t)0)
		freelocale(p.c_locale);
	free(p.index);
	ppml_toml_free(p.root);
	return rc;
}
