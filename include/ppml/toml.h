/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/toml.h - TOML 1.0 documents as an ordered tree.
 *
 * Gramine measures the bytes of manifest.sgx, so the tree keeps every table's
 * keys in first-appearance order (a dotted key `a.b = 1` creates table `a`
 * where it is first mentioned), and the writer reproduces tomli-w 1.0 byte
 * for byte (spec/gramine-sgx-signing.md, section 3).
 *
 * Ownership: a value owns its children.  Functions that take a value to
 * insert take ownership of it, also on failure (it is freed then).
 * Nothing here is thread-safe on a shared tree; distinct trees are independent.
 */
#ifndef PPML_TOML_H
#define PPML_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/buf.h"
#include "ppml/err.h"

enum ppml_toml_type {
	PPML_TOML_STRING = 1,
	PPML_TOML_INTEGER,
	PPML_TOML_FLOAT,
	PPML_TOML_BOOLEAN,
	PPML_TOML_DATETIME,       /* offset date-time: 1979-05-27T07:32:00Z */
	PPML_TOML_DATETIME_LOCAL, /* 1979-05-27T07:32:00 */
	PPML_TOML_DATE_LOCAL,     /* 1979-05-27 */
	PPML_TOML_TIME_LOCAL,     /* 07:32:00 */
	PPML_TOML_ARRAY,
	PPML_TOML_TABLE,
};

struct ppml_toml_datetime {
	int year, month, day;        /* unused for TIME_LOCAL */
	int hour, minute, second;    /* unused for DATE_LOCAL */
	uint32_t nanosecond;         /* fraction, first 9 digits (further digits dropped) */
	uint8_t frac_digits;         /* digits given in the source, capped at 9; 0 = none */
	int offset_minutes;          /* DATETIME only; Z is 0 */
};

/* Parser bookkeeping in ppml_toml_value.flags (callers building trees leave 0). */
#define PPML_TOML_F_INLINE   0x1u /* inline table or array literal: sealed */
#define PPML_TOML_F_DEFINED  0x2u /* table defined by a [header] or by dotted keys' owner */
#define PPML_TOML_F_IMPLICIT 0x4u /* table created implicitly by a longer header */
#define PPML_TOML_F_AOT      0x8u /* array created by [[header]] */
#define PPML_TOML_F_DOTTED   0x10u /* table created by a dotted key */

struct ppml_toml_value;

struct ppml_toml_kv {
	char *key;          /* NUL-terminated UTF-8; may contain NUL from \u0000, so use key_len */
	size_t key_len;
	struct ppml_toml_value *value;
};

struct ppml_toml_value {
	enum ppml_toml_type type;
	uint32_t flags;
	union {
		struct {
			char *ptr;  /* NUL-terminated UTF-8; may contain NUL, use len */
			size_t len;
		} s;
		int64_t i;
		double f;
		bool b;
		struct ppml_toml_datetime dt;
		struct {
			struct ppml_toml_value **items;
			size_t len, cap;
		} a;
		struct {
			struct ppml_toml_kv *items;
			size_t len, cap;
		} t;
	} u;
};

/*
 * Parses TOML 1.0 text (len bytes, need not be NUL-terminated) into a tree
 * whose root is a TABLE.  Input over PPML_TOML_MAX_INPUT, more than
 * PPML_TOML_MAX_VALUES values or nesting over PPML_TOML_MAX_DEPTH is
 * PPML_E_LIMIT.
 * Every TOML error (syntax, invalid UTF-8, redefinition, overflow, bad
 * date...) is PPML_E_INPUT with a message "line L, column C: what was
 * expected" (1-based; column counts bytes).  *root is set only on success;
 * free it with ppml_toml_free.
 */
ppml_status ppml_toml_parse(const char *text, size_t len, struct ppml_toml_value **root,
			    struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Appends Python 3's repr() of a str (len bytes of UTF-8), quotes included:
 * ' unless the text holds ' and no "; \\ \n \r \t and the quote escaped;
 * other C0 controls, DEL and non-printable characters as \xNN, \uNNNN or
 * \UNNNNNNNN; printable text raw.  Printability above Latin-1 comes from a
 * table of the separator, format, surrogate and private-use ranges; unassigned
 * code points, which Python escapes, are written raw.
 */
ppml_status ppml_toml_pyrepr_str(struct ppml_buf *b, const char *s, size_t len) PPML_WARN_UNUSED;

/* ppml_toml_parse_ex flag: also refuse arrays whose elements are of
 * different kinds, as Python toml 0.10.2 (Gramine v1.3.1) does: PPML_E_INPUT
 * "Not a homogeneous array (line L column 1 char N)", L the line of the key
 * and N its offset in characters, as that library words it. */
#define PPML_TOML_PARSE_HOMOGENEOUS 0x1u

/* ppml_toml_parse with PPML_TOML_PARSE_* flags (0 = ppml_toml_parse). */
ppml_status ppml_toml_parse_ex(const char *text, size_t len, unsigned flags,
			       struct ppml_toml_value **root, struct ppml_err *err) PPML_WARN_UNUSED;

/* Frees a value and everything below it.  Accepts NULL. */
void ppml_toml_free(struct ppml_toml_value *v);

/* Constructors: return NULL on allocation failure. */
struct ppml_toml_value *ppml_toml_new_table(void);
struct ppml_toml_value *ppml_toml_new_array(void);
struct ppml_toml_value *ppml_toml_new_string(const char *s, size_t len);
struct ppml_toml_value *ppml_toml_new_integer(int64_t i);
struct ppml_toml_value *ppml_toml_new_float(double f);
struct ppml_toml_value *ppml_toml_new_bool(bool b);

/* Deep copy; NULL on allocation failure. */
struct ppml_toml_value *ppml_toml_clone(const struct ppml_toml_value *v);

/* The value stored under key (NUL-terminated) in table, or NULL when absent
 * or when table is not a TABLE. */
struct ppml_toml_value *ppml_toml_get(const struct ppml_toml_value *table, const char *key);

/* Appends key = val at the end of table.  PPML_E_EXISTS if key is present. */
ppml_status ppml_toml_append(struct ppml_toml_value *table, const char *key,
			     struct ppml_toml_value *val) PPML_WARN_UNUSED;

/* Replaces the value under key in place (the key keeps its position) or, if
 * absent, appends it. */
ppml_status ppml_toml_set(struct ppml_toml_value *table, const char *key,
			  struct ppml_toml_value *val) PPML_WARN_UNUSED;

/* Appends val to array. */
ppml_status ppml_toml_push(struct ppml_toml_value *array,
			   struct ppml_toml_value *val) PPML_WARN_UNUSED;

/*
 * Serialises root (a TABLE) exactly as tomli-w 1.0 `dumps` does
 * (spec section 3), appending to out.
 */
ppml_status ppml_toml_write_tomliw(const struct ppml_toml_value *root, struct ppml_buf *out,
				   struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Serialises root (a TABLE) exactly as Python toml 0.10.2 `dumps` does, the
 * writer of Gramine v1.3.1's manifest.sgx (spec section 12): breadth-first
 * [table] headers, [[array.of.tables]], `[ "a", "b",]` arrays, repr()-based
 * strings.  Inputs on which that library raises (IndexError on some control
 * characters in strings, RuntimeError for a table nested in a table inside an
 * array of tables, arrays mixing tables and other values) are PPML_E_INPUT
 * naming the key; nesting beyond 4*PPML_TOML_MAX_DEPTH is PPML_E_LIMIT.
 * Appends to out only on success.
 */
ppml_status ppml_toml_write_toml0102(const struct ppml_toml_value *root, struct ppml_buf *out,
				     struct ppml_err *err) PPML_WARN_UNUSED;

#endif
