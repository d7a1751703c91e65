/* SPDX-License-Identifier: Apache-2.0 */
/* What toml-test does not pin: key order, messages, limits, exact values. */
#include <math.h>
#include <stdint.h>

#include "harness.h"
#include "ppml/limits.h"
#include "ppml/toml.h"

static struct ppml_toml_value *parse_ok(const char *text)
{
	struct ppml_toml_value *root = NULL;
	struct ppml_err err = {0};
	if (ppml_toml_parse(text, strlen(text), &root, &err) != PPML_OK) {
		fprintf(stderr, "unexpected parse error: %s\n", err.msg);
		return NULL;
	}
	return root;
}

static ppml_status parse_status(const char *text, size_t len, struct ppml_err *err)
{
	struct ppml_toml_value *root = NULL;
	ppml_status rc = ppml_toml_parse(text, len, &root, err);
	if (rc != PPML_OK && root != NULL)
		rc = PPML_E_INTERNAL; /* *root must stay untouched on failure */
	ppml_toml_free(root);
	return rc;
}

static int key_is(const struct ppml_toml_value *t, size_t i, const char *key)
{
	return t && t->type == PPML_TOML_TABLE && i < t->u.t.len &&
	       t->u.t.items[i].key_len == strlen(key) && strcmp(t->u.t.items[i].key, key) == 0;
}

TEST(dotted_keys_create_tables_at_first_mention)
{
	struct ppml_toml_value *root = parse_ok("a.b=1\nc=2\na.d=3\n");
	struct ppml_toml_value *a;
	REQUIRE(root);
	CHECK(root->u.t.len == 2);
	CHECK(key_is(root, 0, "a"));
	CHECK(key_is(root, 1, "c"));
	a = ppml_toml_get(root, "a");
	REQUIRE(a && a->type == PPML_TOML_TABLE);
	CHECK(a->u.t.len == 2 && key_is(a, 0, "b") && key_is(a, 1, "d"));
	ppml_toml_free(root);
}

TEST(header_order_and_implicit_tables)
{
	/* [x.y] creates x where first mentioned; [x] later defines it in place. */
	struct ppml_toml_value *root =
		parse_ok("z = 0\n[x.y]\nq = 1\n[sgx]\ndebug = true\n[x]\nr = 2\n"
			 "[[sgx.trusted_files]]\nuri = \"file:a\"\n[[sgx.trusted_files]]\nuri = \"file:b\"\n");
	struct ppml_toml_value *x, *sgx, *tf;
	REQUIRE(root);
	CHECK(root->u.t.len == 3 && key_is(root, 0, "z") && key_is(root, 1, "x") &&
	      key_is(root, 2, "sgx"));
	x = ppml_toml_get(root, "x");
	CHECK(x && x->u.t.len == 2 && key_is(x, 0, "y") && key_is(x, 1, "r"));
	sgx = ppml_toml_get(root, "sgx");
	CHECK(sgx && key_is(sgx, 0, "debug") && key_is(sgx, 1, "trusted_files"));
	tf = ppml_toml_get(sgx, "trusted_files");
	REQUIRE(tf && tf->type == PPML_TOML_ARRAY && tf->u.a.len == 2);
	CHECK_STREQ(ppml_toml_get(tf->u.a.items[1], "uri")->u.s.ptr, "file:b");
	ppml_toml_free(root);
}

TEST(errors_carry_line_and_column)
{
	struct ppml_err err = {0};
	const char *t1 = "a = 1\nb = \n";
	const char *t2 = "a = 1\n\n  a = 2\n";
	const char *t3 = "[t]\nx = 1\n[t]\n";
	const char *t4 = "s = \"ok\"\r\nu = \"\\e\"\r\n";

	CHECK(parse_status(t1, strlen(t1), &err) == PPML_E_INPUT);
	CHECKF(strcmp(err.msg, "line 2, column 5: expected a value") == 0, "message: %.200s", err.msg);
	CHECK(parse_status(t2, strlen(t2), &err) == PPML_E_INPUT);
	CHECK(strncmp(err.msg, "line 3, column 3: ", 18) == 0 && strstr(err.msg, "already defined"));
	CHECK(parse_status(t3, strlen(t3), &err) == PPML_E_INPUT);
	CHECK(strncmp(err.msg, "line 3, column 1: ", 18) == 0);
	CHECK(parse_status(t4, strlen(t4), &err) == PPML_E_INPUT);
	CHECK(strncmp(err.msg, "line 2, column 6: ", 18) == 0 && strstr(err.msg, "escape"));
	/* err may be NULL. */
	CHECK(parse_status(t1, strlen(t1), NULL) == PPML_E_INPUT);
}

static char *repeat(const char *open, const char *close, size_t depth, const char *prefix)
{
	size_t lo = strlen(open), lc = strlen(close), lp = strlen(prefix);
	/* Room for a short tail that callers put over the final newline. */
	char *s = malloc(lp + depth * (lo + lc) + 16);
	char *w = s;
	if (!s)
		return NULL;
	memcpy(w, prefix, lp);
	w += lp;
	for (size_t i = 0; i < depth; i++, w += lo)
		memcpy(w, open, lo);
	for (size_t i = 0; i < depth; i++, w += lc)
		memcpy(w, close, lc);
	*w++ = '\n';
	*w = '\0';
	return s;
}

TEST(nesting_is_bounded)
{
	struct ppml_err err = {0};
	char *s;
	struct ppml_toml_value *root;

	s = repeat("[", "]", 200, "a = ");
	REQUIRE(s);
	CHECK(parse_status(s, strlen(s), &err) == PPML_E_LIMIT);
	CHECK(strstr(err.msg, "PPML_TOML_MAX_DEPTH") && strncmp(err.msg, "line 1, column ", 15) == 0);
	free(s);

	s = repeat("{b=", "}", 200, "a = ");
	REQUIRE(s);
	CHECK(parse_status(s, strlen(s), &err) == PPML_E_LIMIT);
	free(s);

	s = repeat("k.", "", 200, "");
	REQUIRE(s);
	strcpy(s + strlen(s) - 1, "k = 1\n");
	CHECK(parse_status(s, strlen(s), &err) == PPML_E_LIMIT);
	free(s);

	s = repeat("k.", "", 200, "[");
	REQUIRE(s);
	strcpy(s + strlen(s) - 1, "k]\n");
	CHECK(parse_status(s, strlen(s), &err) == PPML_E_LIMIT);
	free(s);

	/* Nesting up to the cap is fine. */
	s = repeat("[", "]", PPML_TOML_MAX_DEPTH - 1, "a = ");
	REQUIRE(s);
	root = parse_ok(s);
	CHECK(root != NULL);
	ppml_toml_free(root);
	free(s);
}

TEST(oversized_input_is_a_limit)
{
	struct ppml_err err = {0};
	size_t n = (size_t)PPML_TOML_MAX_INPUT + 1;
	char *s = malloc(n);
	REQUIRE(s);
	memset(s, '#', n);
	CHECK(parse_status(s, n, &err) == PPML_E_LIMIT);
	CHECK(strstr(err.msg, "PPML_TOML_MAX_INPUT") != NULL);
	/* At the cap, a long comment is still fine. */
	CHECK(parse_status(s, n - 1, &err) == PPML_OK);
	free(s);
}

TEST(integers_are_exact_64_bit)
{
	struct ppml_err err = {0};
	struct ppml_toml_value *root =
		parse_ok("min = -9223372036854775808\nmax = 9223372036854775807\n"
			 "hex = 0x7FFF_ffff_ffff_ffff\nbin = 0b1010\noct = 0o777\nneg0 = -0\n");
	REQUIRE(root);
	CHECK(ppml_toml_get(root, "min")->u.i == INT64_MIN);
	CHECK(ppml_toml_get(root, "max")->u.i == INT64_MAX);
	CHECK(ppml_toml_get(root, "hex")->u.i == INT64_MAX);
	CHECK(ppml_toml_get(root, "bin")->u.i == 10);
	CHECK(ppml_toml_get(root, "oct")->u.i == 511);
	CHECK(ppml_toml_get(root, "neg0")->u.i == 0);
	ppml_toml_free(root);
	CHECK(parse_status("a = 9223372036854775808", 23, &err) == PPML_E_INPUT);
	CHECK(parse_status("a = -9223372036854775809", 24, &err) == PPML_E_INPUT);
	CHECK(parse_status("a = 0x8000000000000000", 22, &err) == PPML_E_INPUT);
	CHECK(parse_status("a = 1__0", 8, &err) == PPML_E_INPUT);
	CHECK(parse_status("a = 012", 7, &err) == PPML_E_INPUT);
	CHECK(parse_status("a = +0x1", 8, &err) == PPML_E_INPUT);
}

TEST(floats)
{
	struct ppml_toml_value *root = parse_ok("a = 1_000.5e-1_0\nb = -inf\nc = -nan\nd = -0.0\n");
	REQUIRE(root);
	CHECK(ppml_toml_get(root, "a")->u.f == 1000.5e-10);
	CHECK(isinf(ppml_toml_get(root, "b")->u.f) && ppml_toml_get(root, "b")->u.f < 0);
	CHECK(isnan(ppml_toml_get(root, "c")->u.f));
	CHECK(ppml_toml_get(root, "d")->u.f == 0.0 && signbit(ppml_toml_get(root, "d")->u.f));
	ppml_toml_free(root);
	/* Float literals have no length cap short of the input's. */
	char long_float[600] = "f = 1";
	memset(long_float + 5, '0', 500);
	strcpy(long_float + 505, ".0e-500\n");
	root = parse_ok(long_float);
	CHECK(root && ppml_toml_get(root, "f")->u.f == 1.0);
	ppml_toml_free(root);
}

TEST(datetimes_keep_fraction_and_kind)
{
	struct ppml_err err = {0};
	struct ppml_toml_value *root =
		parse_ok("t = 07:32:00.1234567891234\nu = 07:32:00.5\nleap = 1990-12-31T23:59:60Z\n"
			 "feb = 2000-02-29\noff = 1979-05-27 00:32:00-07:30\nloc = 1979-05-27t07:32:00\n");
	const struct ppml_toml_value *v;
	REQUIRE(root);
	v = ppml_toml_get(root, "t");
	CHECK(v->type == PPML_TOML_TIME_LOCAL && v->u.dt.nanosecond == 123456789 &&
	      v->u.dt.frac_digits == 9);
	v = ppml_toml_get(root, "u");
	CHECK(v->u.dt.nanosecond == 500000000 && v->u.dt.frac_digits == 1);
	v = ppml_toml_get(root, "leap");
	CHECK(v->type == PPML_TOML_DATETIME && v->u.dt.second == 60 && v->u.dt.offset_minutes == 0);
	CHECK(ppml_toml_get(root, "feb")->type == PPML_TOML_DATE_LOCAL);
	v = ppml_toml_get(root, "off");
	CHECK(v->type == PPML_TOML_DATETIME && v->u.dt.offset_minutes == -450 && v->u.dt.hour == 0);
	CHECK(ppml_toml_get(root, "loc")->type == PPML_TOML_DATETIME_LOCAL);
	ppml_toml_free(root);
	CHECK(parse_status("d = 1900-02-29", 14, &err) == PPML_E_INPUT);
	CHECK(parse_status("d = 2001-04-31", 14, &err) == PPML_E_INPUT);
	CHECK(parse_status("d = 12:00", 9, &err) == PPML_E_INPUT);
}

TEST(strings_and_keys)
{
	struct ppml_toml_value *root =
		parse_ok("\"a\\u0000b\" = 1\n"
			 "m = \"\"\"\r\none\r\ntwo \\\r\n    three\"\"\"\"\"\n"
			 "l = '''\nraw \\n'''\n"
			 "e = \"\\U0001F600\\t\"\n");
	const struct ppml_toml_value *v;
	REQUIRE(root);
	CHECK(root->u.t.items[0].key_len == 3 && memcmp(root->u.t.items[0].key, "a\0b", 3) == 0);
	v = ppml_toml_get(root, "m");
	REQUIRE(v && v->type == PPML_TOML_STRING);
	CHECK_STREQ(v->u.s.ptr, "one\ntwo three\"\"");
	CHECK_STREQ(ppml_toml_get(root, "l")->u.s.ptr, "raw \\n");
	CHECK_STREQ(ppml_toml_get(root, "e")->u.s.ptr, "\xf0\x9f\x98\x80\t");
	ppml_toml_free(root);
}

TEST(sealed_and_redefined_tables_are_refused)
{
	static const char *const bad[] = {
		"a = {b = 1}\na.c = 2\n",
		"a = {b = 1}\n[a]\n",
		"a = {b = 1}\n[a.c]\n",
		"a = [1]\n[[a]]\n",
		"[a]\nb.c = 1\n[a.b]\n",
		"[a.b]\n[a]\n[a]\n",
		"[[a]]\n[a]\n",
		"[a.b.c]\n[a]\nb.c.d = 1\n",
		"a = {x = 1,}\n",
		"a = {\nx = 1}\n",
		"a = \"\\x41\"\n",
		"a = 1\r\nb = 2\r",
		"a = \"\xed\xa0\x80\"\n",
		"a = \"\xc0\xaf\"\n",
	};
	struct ppml_err err = {0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(parse_status(bad[i], strlen(bad[i]), &err) == PPML_E_INPUT,
		       "case %zu was not refused as input", i);
	/* ...while these are fine. */
	struct ppml_toml_value *root = parse_ok("[a]\nb.c = 1\n[a.b.d]\n[x.y]\n[x]\n[[t]]\n[t.u]\n");
	CHECK(root != NULL);
	ppml_toml_free(root);
}

TEST(empty_and_bom)
{
	struct ppml_toml_value *root = NULL;
	struct ppml_err err = {0};
	CHECK(ppml_toml_parse(NULL, 0, &root, &err) == PPML_OK && root &&
	      root->type == PPML_TOML_TABLE && root->u.t.len == 0);
	ppml_toml_free(root);
	root = parse_ok("\xef\xbb\xbfk = 1");
	CHECK(root && ppml_toml_get(root, "k"));
	ppml_toml_free(root);
}

int main(void)
{
	RUN(dotted_keys_create_tables_at_first_mention);
	RUN(header_order_and_implicit_tables);
	RUN(errors_carry_line_and_column);
	RUN(nesting_is_bounded);
	RUN(oversized_input_is_a_limit);
	RUN(integers_are_exact_64_bit);
	RUN(floats);
	RUN(datetimes_keep_fraction_and_kind);
	RUN(strings_and_keys);
	RUN(sealed_and_redefined_tables_are_refused);
	RUN(empty_and_bom);
	HARNESS_EXIT();
}
