/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tomli-w 1.0 writer on hand-built trees, one test per rule of
 * spec/gramine-sgx-signing.md section 3.  Expected texts were produced by
 * tomli-w 1.0.0 itself (python3-tomli-w) from the same Python data.
 */
#include <math.h>
#include <stdint.h>

#include "harness.h"
#include "ppml/toml.h"

/* Tree-building helpers: each returns NULL on allocation failure and every
 * insertion takes ownership, so a NULL anywhere ends as a failed REQUIRE. */
static struct ppml_toml_value *S(const char *s)
{
	return ppml_toml_new_string(s, strlen(s));
}

static struct ppml_toml_value *I(int64_t i)
{
	return ppml_toml_new_integer(i);
}

static int add(struct ppml_toml_value *t, const char *k, struct ppml_toml_value *v)
{
	return t && v && ppml_toml_append(t, k, v) == PPML_OK;
}

static int push(struct ppml_toml_value *a, struct ppml_toml_value *v)
{
	return a && v && ppml_toml_push(a, v) == PPML_OK;
}

/* Serialises root and compares with want; frees root. */
static int dumps_is(struct ppml_toml_value *root, const char *want, char *got_out, size_t got_cap)
{
	struct ppml_buf b = {0};
	struct ppml_err err = {0};
	int ok;

	if (!root)
		return 0;
	ok = ppml_toml_write_tomliw(root, &b, &err) == PPML_OK;
	if (ok)
		ok = b.len == strlen(want) && (b.len == 0 || memcmp(b.data, want, b.len) == 0);
	snprintf(got_out, got_cap, "%s", b.data ? (char *)b.data : err.msg);
	ppml_buf_free(&b);
	ppml_toml_free(root);
	return ok;
}

#define CHECK_DUMPS(root, want)                                                         \
	do {                                                                             \
		char got_[4096];                                                         \
		const char *want_ = (want);                                              \
		CHECKF(dumps_is((root), want_, got_, sizeof(got_)),                      \
		       "got:\n%.400s\nexpected:\n%.400s", got_, want_);                          \
	} while (0)

TEST(string_escapes)
{
	struct ppml_toml_value *t = ppml_toml_new_table();
	/* NUL inside the value: build with an explicit length. */
	static const char s[] = "a\tb\x1f\x7f\0\xc3\xa9\b\n\f\r\"\\\x1b\x01";
	REQUIRE(add(t, "s", ppml_toml_new_string(s, sizeof(s) - 1)));
	CHECK_DUMPS(t, "s = \"a\tb\\u001f\\u007f\\u0000\xc3\xa9\\b\\n\\f\\r\\\"\\\\\\u001b\\u0001\"\n");

	t = ppml_toml_new_table();
	REQUIRE(add(t, "empty", S("")));
	REQUIRE(add(t, "emoji", S("\xf0\x9f\x98\x80 \xe2\x82\xac")));
	CHECK_DUMPS(t, "empty = \"\"\nemoji = \"\xf0\x9f\x98\x80 \xe2\x82\xac\"\n");
}

TEST(bare_and_quoted_keys)
{
	struct ppml_toml_value *t = ppml_toml_new_table();
	REQUIRE(add(t, "", I(1)));
	REQUIRE(add(t, "a.b", I(2)));
	REQUIRE(add(t, "\xc3\xa9", I(3)));
	REQUIRE(add(t, "a\tb", I(4)));
	REQUIRE(add(t, "aXb", I(5)));
	REQUIRE(add(t, "A-z_09", I(6)));
	REQUIRE(add(t, "a b\"", I(7)));
	/* A key holding NUL (from "a\u0000b" in TOML): key_len counts it. */
	t->u.t.items[4].key[1] = '\0';
	CHECK_DUMPS(t, "\"\" = 1\n\"a.b\" = 2\n\"\xc3\xa9\" = 3\n\"a\tb\" = 4\n\"a\\u0000b\" = 5\n"
		       "A-z_09 = 6\n\"a b\\\"\" = 7\n");
}

TEST(header_names_quote_each_part)
{
	struct ppml_toml_value *t = ppml_toml_new_table(), *ab = ppml_toml_new_table(),
			       *cd = ppml_toml_new_table(), *e = ppml_toml_new_table();
	REQUIRE(add(cd, "x", I(1)));
	REQUIRE(add(ab, "c d", cd));
	REQUIRE(add(t, "a.b", ab));
	REQUIRE(add(e, "y", I(2)));
	REQUIRE(add(t, "", e));
	CHECK_DUMPS(t, "[\"a.b\".\"c d\"]\nx = 1\n\n[\"\"]\ny = 2\n");
}

TEST(headers_and_blank_lines)
{
	struct ppml_toml_value *t, *a, *b, *c;

	/* Empty root: nothing at all. */
	CHECK_DUMPS(ppml_toml_new_table(), "");

	/* An empty table gets a header; one with only subtables does not. */
	t = ppml_toml_new_table();
	a = ppml_toml_new_table();
	REQUIRE(add(t, "e", ppml_toml_new_table()));
	REQUIRE(add(a, "b", ppml_toml_new_table()));
	REQUIRE(add(t, "a", a));
	CHECK_DUMPS(t, "[e]\n\n[a.b]\n");

	/* Literals first (even when listed after a table), then a blank line
	 * before every subtable once anything was written. */
	t = ppml_toml_new_table();
	a = ppml_toml_new_table();
	b = ppml_toml_new_table();
	c = ppml_toml_new_table();
	REQUIRE(add(b, "x", I(1)));
	REQUIRE(add(a, "t", b));
	REQUIRE(add(a, "k", I(2)));
	REQUIRE(add(c, "z", I(3)));
	REQUIRE(add(t, "top", ppml_toml_new_bool(true)));
	REQUIRE(add(t, "a", a));
	REQUIRE(add(t, "c", c));
	REQUIRE(add(t, "last", ppml_toml_new_bool(false)));
	CHECK_DUMPS(t, "top = true\nlast = false\n\n[a]\nk = 2\n\n[a.t]\nx = 1\n\n[c]\nz = 3\n");

	/* Root with only tables: no leading blank line. */
	t = ppml_toml_new_table();
	a = ppml_toml_new_table();
	b = ppml_toml_new_table();
	c = ppml_toml_new_table();
	REQUIRE(add(b, "c", I(1)));
	REQUIRE(add(c, "e", I(2)));
	REQUIRE(add(a, "b", b));
	REQUIRE(add(a, "d", c));
	REQUIRE(add(t, "a", a));
	CHECK_DUMPS(t, "[a.b]\nc = 1\n\n[a.d]\ne = 2\n");
}

/* A one-key table {k = "<n x 'v'>"}: inline it is `{ k = "..." }`, n + 10
 * characters, so the AoT line "    " + inline + "," has n + 15. */
static struct ppml_toml_value *kv_table(const char *val)
{
	struct ppml_toml_value *t = ppml_toml_new_table();
	if (!add(t, "k", S(val)))
		return NULL;
	return t;
}

TEST(aot_versus_inline_at_100_characters)
{
	char v85[86], v86[87], e84[87];
	struct ppml_toml_value *t, *a;
	char want[512];

	memset(v85, 'v', 85);
	v85[85] = '\0';
	memset(v86, 'v', 86);
	v86[86] = '\0';
	/* 84 ASCII + "é": 85 code points, 86 bytes. */
	memset(e84, 'v', 84);
	memcpy(e84 + 84, "\xc3\xa9", 3);

	/* Exactly 100 characters: stays inline. */
	t = ppml_toml_new_table();
	a = ppml_toml_new_array();
	REQUIRE(push(a, kv_table(v85)));
	REQUIRE(add(t, "a", a));
	snprintf(want, sizeof(want), "a = [\n    { k = \"%s\" },\n]\n", v85);
	CHECK_DUMPS(t, want);

	/* 101 characters: [[a]]. */
	t = ppml_toml_new_table();
	a = ppml_toml_new_array();
	REQUIRE(push(a, kv_table(v86)));
	REQUIRE(add(t, "a", a));
	snprintf(want, sizeof(want), "[[a]]\nk = \"%s\"\n", v86);
	CHECK_DUMPS(t, want);

	/* 100 code points in 101 bytes: inline (code points are counted). */
	t = ppml_toml_new_table();
	a = ppml_toml_new_array();
	REQUIRE(push(a, kv_table(e84)));
	REQUIRE(add(t, "a", a));
	snprintf(want, sizeof(want), "a = [\n    { k = \"%s\" },\n]\n", e84);
	CHECK_DUMPS(t, want);

	/* One unsuitable element turns every element into [[a]]. */
	t = ppml_toml_new_table();
	a = ppml_toml_new_array();
	REQUIRE(push(a, kv_table("short")));
	REQUIRE(push(a, kv_table(v86)));
	REQUIRE(add(t, "x", I(1)));
	REQUIRE(add(t, "a", a));
	snprintf(want, sizeof(want), "x = 1\n\n[[a]]\nk = \"short\"\n\n[[a]]\nk = \"%s\"\n", v86);
	CHECK_DUMPS(t, want);
}

static struct ppml_toml_value *trusted(const char *uri)
{
	struct ppml_toml_value *t = ppml_toml_new_table();
	if (!add(t, "uri", S(uri)) ||
	    !add(t, "sha256", S("59e0a3cc7a0c45f96735bf1f06325db90b4bb742f257df12b6b18df3d2126499")))
		return NULL;
	return t;
}

TEST(trusted_files_uri_length)
{
	struct ppml_toml_value *t, *sgx, *a;

	/* "file:é" is 7 bytes but 6 characters: 94 + 6 = 100, inline. */
	t = ppml_toml_new_table();
	sgx = ppml_toml_new_table();
	a = ppml_toml_new_array();
	REQUIRE(push(a, trusted("file:\xc3\xa9")));
	REQUIRE(add(sgx, "trusted_files", a));
	REQUIRE(add(t, "sgx", sgx));
	CHECK_DUMPS(t, "[sgx]\ntrusted_files = [\n    { uri = \"file:\xc3\xa9\", sha256 = "
		       "\"59e0a3cc7a0c45f96735bf1f06325db90b4bb742f257df12b6b18df3d2126499\" },\n]\n");

	/* 7 characters: [[sgx.trusted_files]]; [sgx] itself has no literals. */
	t = ppml_toml_new_table();
	sgx = ppml_toml_new_table();
	a = ppml_toml_new_array();
	REQUIRE(push(a, trusted("file:ab")));
	REQUIRE(add(sgx, "trusted_files", a));
	REQUIRE(add(t, "sgx", sgx));
	CHECK_DUMPS(t, "[[sgx.trusted_files]]\nuri = \"file:ab\"\nsha256 = "
		       "\"59e0a3cc7a0c45f96735bf1f06325db90b4bb742f257df12b6b18df3d2126499\"\n");

	/* An empty array stays a literal. */
	t = ppml_toml_new_table();
	sgx = ppml_toml_new_table();
	REQUIRE(add(sgx, "debug", ppml_toml_new_bool(true)));
	REQUIRE(add(sgx, "trusted_files", ppml_toml_new_array()));
	REQUIRE(add(t, "sgx", sgx));
	CHECK_DUMPS(t, "[sgx]\ndebug = true\ntrusted_files = []\n");
}

TEST(aot_elements_with_subtables_and_arrays)
{
	struct ppml_toml_value *t, *a, *e1, *e2, *sub;

	/* An element holding a non-empty array renders with a newline: AoT.
	 * An element with only a subtable still gets its [[a]] header. */
	t = ppml_toml_new_table();
	a = ppml_toml_new_array();
	e1 = ppml_toml_new_table();
	sub = ppml_toml_new_table();
	REQUIRE(add(sub, "y", I(2)));
	REQUIRE(add(e1, "sub", sub));
	e2 = ppml_toml_new_table();
	sub = ppml_toml_new_array();
	REQUIRE(push(sub, I(1)));
	REQUIRE(add(e2, "l", sub));
	REQUIRE(push(a, e1));
	REQUIRE(push(a, e2));
	REQUIRE(add(t, "a", a));
	CHECK_DUMPS(t, "[[a]]\n\n[a.sub]\ny = 2\n\n[[a]]\nl = [\n    1,\n]\n");

	/* Nested tables alone do not force AoT; empty tables are `{}`. */
	t = ppml_toml_new_table();
	a = ppml_toml_new_array();
	e1 = ppml_toml_new_table();
	sub = ppml_toml_new_table();
	REQUIRE(add(sub, "c", I(1)));
	REQUIRE(add(e1, "b", sub));
	REQUIRE(push(a, e1));
	REQUIRE(push(a, ppml_toml_new_table()));
	REQUIRE(add(t, "a", a));
	CHECK_DUMPS(t, "a = [\n    { b = { c = 1 } },\n    {},\n]\n");

	/* Tables mixed with other values: a plain array, however long. */
	t = ppml_toml_new_table();
	a = ppml_toml_new_array();
	REQUIRE(push(a, I(1)));
	e1 = ppml_toml_new_table();
	sub = ppml_toml_new_array();
	REQUIRE(push(sub, I(2)));
	REQUIRE(add(e1, "a", sub));
	REQUIRE(push(a, e1));
	REQUIRE(add(t, "x", a));
	/* Values inside an inline table restart at level 0. */
	CHECK_DUMPS(t, "x = [\n    1,\n    { a = [\n    2,\n] },\n]\n");
}

TEST(nested_array_indentation)
{
	struct ppml_toml_value *t = ppml_toml_new_table(), *a = ppml_toml_new_array(),
			       *b = ppml_toml_new_array(), *c = ppml_toml_new_array();
	REQUIRE(push(c, I(3)));
	REQUIRE(push(b, I(2)));
	REQUIRE(push(b, c));
	REQUIRE(push(a, I(1)));
	REQUIRE(push(a, b));
	REQUIRE(push(a, ppml_toml_new_array()));
	REQUIRE(push(a, S("s")));
	REQUIRE(add(t, "x", a));
	CHECK_DUMPS(t, "x = [\n    1,\n    [\n        2,\n        [\n            3,\n        ],\n"
		       "    ],\n    [],\n    \"s\",\n]\n");
}

TEST(integers_and_booleans)
{
	struct ppml_toml_value *t = ppml_toml_new_table();
	REQUIRE(add(t, "a", I(0)));
	REQUIRE(add(t, "b", I(-17)));
	REQUIRE(add(t, "c", I(INT64_MAX)));
	REQUIRE(add(t, "d", I(INT64_MIN)));
	REQUIRE(add(t, "e", ppml_toml_new_bool(true)));
	REQUIRE(add(t, "f", ppml_toml_new_bool(false)));
	CHECK_DUMPS(t, "a = 0\nb = -17\nc = 9223372036854775807\nd = -9223372036854775808\n"
		       "e = true\nf = false\n");
}

/* Python repr(float) for each value (checked against CPython 3.11). */
TEST(floats_as_python_repr)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{0.0, "0.0"},
		{-0.0, "-0.0"},
		{1.0, "1.0"},
		{3.0, "3.0"},
		{-3.5, "-3.5"},
		{0.1, "0.1"},
		{0.3, "0.3"},
		{2.0 / 3.0, "0.6666666666666666"},
		{100.0, "100.0"},
		{123456.789, "123456.789"},
		{1e15, "1000000000000000.0"},
		{9999999999999998.0, "9999999999999998.0"},
		{1e16, "1e+16"},
		{1.5e16, "1.5e+16"},
		{1e22, "1e+22"},
		{1e23, "1e+23"},
		{1.5e300, "1.5e+300"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{123456789012345678.0, "1.2345678901234568e+17"},
		{0.0001, "0.0001"},
		{0.00012345, "0.00012345"},
		{1e-5, "1e-05"},
		{-2.5e-7, "-2.5e-07"},
		{1e-100, "1e-100"},
		{2.2250738585072014e-308, "2.2250738585072014e-308"},
		{5e-324, "5e-324"},
		{9007199254740993.0, "9007199254740992.0"},
		/* Halfway between two 17-digit decimals: even digit, as CPython. */
		{1125899906842624.25, "1125899906842624.2"},
		{1125899906842624.75, "1125899906842624.8"},
		{2251799813685248.25, "2251799813685248.0"},
		/* 2^-1017: the nearest 16-digit decimal does not read back, the
		 * one on the other side of x does (lopsided interval). */
		{0x1p-1017, "7.120236347223045e-307"},
		{0x1p-1007, "7.291122019556398e-304"},
		{INFINITY, "inf"},
		{-INFINITY, "-inf"},
		{NAN, "nan"},
		{-NAN, "nan"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ppml_toml_value *t = ppml_toml_new_table();
		char want[64];
		REQUIRE(add(t, "f", ppml_toml_new_float(cases[i].v)));
		snprintf(want, sizeof(want), "f = %s\n", cases[i].want);
		CHECK_DUMPS(t, want);
	}
}

static struct ppml_toml_value *dt(enum ppml_toml_type type, int y, int mo, int d, int h, int mi,
				  int s, uint32_t ns, int off)
{
	struct ppml_toml_value *v = ppml_toml_new_bool(false);
	if (!v)
		return NULL;
	v->type = type;
	v->u.dt = (struct ppml_toml_datetime){
		.year = y, .month = mo, .day = d, .hour = h, .minute = mi, .second = s,
		.nanosecond = ns, .frac_digits = ns ? 9 : 0, .offset_minutes = off,
	};
	return v;
}

TEST(datetimes_as_python_str)
{
	struct ppml_toml_value *t = ppml_toml_new_table();
	REQUIRE(add(t, "a", dt(PPML_TOML_DATETIME, 1979, 5, 27, 7, 32, 0, 0, 0)));
	REQUIRE(add(t, "b", dt(PPML_TOML_DATETIME, 1979, 5, 27, 7, 32, 0, 999999999, -7 * 60)));
	REQUIRE(add(t, "c", dt(PPML_TOML_DATETIME_LOCAL, 1979, 5, 27, 0, 32, 0, 0, 0)));
	REQUIRE(add(t, "d", dt(PPML_TOML_DATE_LOCAL, 1, 1, 1, 0, 0, 0, 0, 0)));
	REQUIRE(add(t, "e", dt(PPML_TOML_TIME_LOCAL, 0, 0, 0, 7, 32, 0, 500000000, 0)));
	REQUIRE(add(t, "f", dt(PPML_TOML_TIME_LOCAL, 0, 0, 0, 0, 0, 0, 0, 0)));
	REQUIRE(add(t, "g", dt(PPML_TOML_DATETIME, 2000, 1, 2, 3, 4, 5, 0, 5 * 60 + 30)));
	/* Under a microsecond: Python has nothing to print. */
	REQUIRE(add(t, "h", dt(PPML_TOML_DATETIME_LOCAL, 2000, 1, 2, 3, 4, 5, 999, 0)));
	REQUIRE(add(t, "i", dt(PPML_TOML_TIME_LOCAL, 0, 0, 0, 23, 59, 59, 1000, 0)));
	CHECK_DUMPS(t, "a = 1979-05-27 07:32:00+00:00\n"
		       "b = 1979-05-27 07:32:00.999999-07:00\n"
		       "c = 1979-05-27 00:32:00\n"
		       "d = 0001-01-01\n"
		       "e = 07:32:00.500000\n"
		       "f = 00:00:00\n"
		       "g = 2000-01-02 03:04:05+05:30\n"
		       "h = 2000-01-02 03:04:05\n"
		       "i = 23:59:59.000001\n");
}

TEST(inline_tables_in_literals)
{
	struct ppml_toml_value *t = ppml_toml_new_table(), *a = ppml_toml_new_array(),
			       *e = ppml_toml_new_table();
	REQUIRE(add(e, "a.b", I(1)));
	REQUIRE(add(e, "s", S("x\ty")));
	REQUIRE(push(a, S("first")));
	REQUIRE(push(a, e));
	REQUIRE(push(a, ppml_toml_new_table()));
	REQUIRE(add(t, "m", a));
	CHECK_DUMPS(t, "m = [\n    \"first\",\n    { \"a.b\" = 1, s = \"x\ty\" },\n    {},\n]\n");
}

TEST(refusals_leave_output_untouched)
{
	struct ppml_buf b = {0};
	struct ppml_err err = {0};
	struct ppml_toml_value *t = ppml_toml_new_table(), *a, *inner;

	REQUIRE(ppml_buf_puts(&b, "keep") == PPML_OK);
	REQUIRE(t);
	CHECK(ppml_toml_write_tomliw(NULL, &b, &err) == PPML_E_INTERNAL);
	a = ppml_toml_new_array();
	CHECK(ppml_toml_write_tomliw(a, &b, &err) == PPML_E_INTERNAL);
	ppml_toml_free(a);

	/* Arrays nested far deeper than any parser allows: a clean refusal. */
	REQUIRE(add(t, "before", I(1)));
	inner = ppml_toml_new_array();
	for (int i = 0; i < 5000 && inner; i++) {
		struct ppml_toml_value *outer = ppml_toml_new_array();
		if (!push(outer, inner)) {
			ppml_toml_free(outer);
			inner = NULL;
		} else {
			inner = outer;
		}
	}
	REQUIRE(add(t, "deep", inner));
	CHECK(ppml_toml_write_tomliw(t, &b, &err) == PPML_E_LIMIT);
	CHECK(strstr(err.msg, "deeper") != NULL);
	CHECK(b.len == 4 && strcmp((char *)b.data, "keep") == 0);
	ppml_toml_free(t);
	ppml_buf_free(&b);
}

TEST(appends_after_existing_output)
{
	struct ppml_buf b = {0};
	struct ppml_err err = {0};
	struct ppml_toml_value *t = ppml_toml_new_table();
	REQUIRE(add(t, "k", I(1)));
	REQUIRE(ppml_buf_puts(&b, "# head\n") == PPML_OK);
	CHECK(ppml_toml_write_tomliw(t, &b, &err) == PPML_OK);
	CHECK_STREQ((char *)b.data, "# head\nk = 1\n");
	ppml_toml_free(t);
	ppml_buf_free(&b);
}

int main(void)
{
	RUN(string_escapes);
	RUN(bare_and_quoted_keys);
	RUN(header_names_quote_each_part);
	RUN(headers_and_blank_lines);
	RUN(aot_versus_inline_at_100_characters);
	RUN(trusted_files_uri_length);
	RUN(aot_elements_with_subtables_and_arrays);
	RUN(nested_array_indentation);
	RUN(integers_and_booleans);
	RUN(floats_as_python_repr);
	RUN(datetimes_as_python_str);
	RUN(inline_tables_in_literals);
	RUN(refusals_leave_output_untouched);
	RUN(appends_after_existing_output);
	HARNESS_EXIT();
}
