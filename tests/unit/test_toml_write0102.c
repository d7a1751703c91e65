/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Python toml 0.10.2 writer (Gramine v1.3.1's manifest.sgx, spec section
 * 12), one test per rule.  The library itself wrote the manifest.sgx files of
 * ../shared/vectors/gramine-v1.3.1-bigdl (checked byte for byte by
 * tests/cli/test_sign_vectors_v13.sh); the expected texts below were worked
 * out by following toml 0.10.2's encoder.py (dumps, dump_sections,
 * dump_list, _dump_str, _dump_float) step by step, quirks included.
 */
#include "harness.h"
#include "ppml/toml.h"

/* Parses text (TOML 1.0), writes it with the 0.10.2 writer, compares. */
static int fmt_is(const char *text, const char *want, char *got, size_t cap)
{
	struct ppml_toml_value *root = NULL;
	struct ppml_buf b = {0};
	struct ppml_err err = {0};
	int ok = ppml_toml_parse(text, strlen(text), &root, &err) == PPML_OK &&
		 ppml_toml_write_toml0102(root, &b, &err) == PPML_OK;
	if (ok)
		ok = b.len == strlen(want) && (b.len == 0 || memcmp(b.data, want, b.len) == 0);
	snprintf(got, cap, "%s", b.data ? (char *)b.data : err.msg);
	ppml_buf_free(&b);
	ppml_toml_free(root);
	return ok;
}

/* Writing fails with PPML_E_INPUT and a message holding `what`; out untouched. */
static int refused(const char *text, const char *what, char *got, size_t cap)
{
	struct ppml_toml_value *root = NULL;
	struct ppml_buf b = {0};
	struct ppml_err err = {0};
	int ok = ppml_toml_parse(text, strlen(text), &root, &err) == PPML_OK &&
		 ppml_toml_write_toml0102(root, &b, &err) == PPML_E_INPUT && b.len == 0 &&
		 strstr(err.msg, what) != NULL;
	snprintf(got, cap, "%s", err.msg);
	ppml_buf_free(&b);
	ppml_toml_free(root);
	return ok;
}

#define CHECK_FMT(text, want)                                                           \
	do {                                                                             \
		char got_[4096];                                                         \
		CHECKF(fmt_is((text), (want), got_, sizeof(got_)),                       \
		       "got:\n%.600s\nexpected:\n%.600s", got_, (want));                 \
	} while (0)

#define CHECK_REFUSED(text, what)                                                       \
	do {                                                                             \
		char got_[1024];                                                         \
		CHECKF(refused((text), (what), got_, sizeof(got_)), "got: %.400s", got_);  \
	} while (0)

TEST(tables_breadth_first)
{
	/* every [table] of one level before the next level */
	CHECK_FMT("x = 1\n[a]\ny = 2\n[a.b]\nz = 3\n[c]\nw = 4\n",
		  "x = 1\n\n[a]\ny = 2\n\n[c]\nw = 4\n\n[a.b]\nz = 3\n");
	/* only subtables: no header of its own; nothing before: no blank line */
	CHECK_FMT("[a.b]\nz = 1\n", "[a.b]\nz = 1\n");
	/* an empty table still gets its header */
	CHECK_FMT("[a]\n[b]\nk = true\n", "[a]\n\n[b]\nk = true\n");
}

TEST(arrays_inline)
{
	CHECK_FMT("v = [1, 2]\ne = []\nn = [[1], [\"a\"]]\nb = [true]\n",
		  "v = [ 1, 2,]\ne = []\nn = [ [ 1,], [ \"a\",],]\nb = [ true,]\n");
	/* a table inside an array of arrays is iterated: its keys come out */
	CHECK_FMT("m = [[{a = 1, b = 2}]]\n", "m = [ [ [ \"a\", \"b\",],],]\n");
}

TEST(arrays_of_tables)
{
	/* any table element makes [[...]]: after the literals, each element then a blank line */
	CHECK_FMT("z = 0\np = [{a = 1}, {b = \"x\"}]\nq = 2\n",
		  "z = 0\nq = 2\n[[p]]\na = 1\n\n[[p]]\nb = \"x\"\n\n");
	/* a subtable of an element: after the element's blank line */
	CHECK_FMT("[[p]]\na = 1\n[p.q]\nr = 2\n", "[[p]]\na = 1\n\n[p.q]\nr = 2\n");
	/* [fs] holding only an array of tables still gets its header (the vectors' [fs]) */
	CHECK_FMT("[x]\nk = 1\n[fs]\nmounts = [{path = \"/lib\"}, {path = \"/tmp\", type = \"tmpfs\"}]\n"
		  "[sgx]\nd = false\n",
		  "[x]\nk = 1\n\n[fs]\n[[fs.mounts]]\npath = \"/lib\"\n\n[[fs.mounts]]\npath = "
		  "\"/tmp\"\ntype = \"tmpfs\"\n\n[sgx]\nd = false\n");
}

TEST(strings_through_repr)
{
	CHECK_FMT("s = \"it's\"\n", "s = \"it's\"\n");
	CHECK_FMT("s = 'say \"hi\"'\n", "s = \"say \\\"hi\\\"\"\n");
	CHECK_FMT("s = \"a'b\\\"c\"\n", "s = \"a'b\\\"c\"\n");
	CHECK_FMT("s = \"a\\\\b\\tc\\nd\"\n", "s = \"a\\\\b\\tc\\nd\"\n");
	CHECK_FMT("s = \"\xc3\xa9\xe2\x82\xac\"\n", "s = \"\xc3\xa9\xe2\x82\xac\"\n");
	/* _dump_str's "\x" rewriting: the backslash of a control character is lost... */
	CHECK_FMT("s = \"a\\u0001b\"\n", "s = \"ax01b\"\n");
	/* ...and a literal backslash-x becomes \u00 */
	CHECK_FMT("s = \"\\\\x41\"\n", "s = \"\\u0041\"\n");
	/* NO-BREAK SPACE is not printable: repr gives \xa0 too */
	CHECK_FMT("s = \"x\\u00a0\"\n", "s = \"xxa0\"\n");
	/* keys go through the same function; `$` also matches before a final newline */
	CHECK_FMT("\"a b\" = 1\n\"k\\n\" = 2\n[\"x y\".z]\nw = 3\n",
		  "\"a b\" = 1\nk\n = 2\n\n[\"x y\".z]\nw = 3\n");
}

TEST(numbers_and_dates)
{
	CHECK_FMT("a = 0x10\nb = 1e-5\nc = 1e16\nd = 0.1\ne = 3.0\nf = inf\ng = -0.0\nh = 1e100\n",
		  "a = 16\nb = 1e-5\nc = 1e+16\nd = 0.1\ne = 3.0\nf = inf\ng = -0.0\nh = 1e+100\n");
	CHECK_FMT("a = 1979-05-27T07:32:00Z\nb = 1979-05-27T07:32:00.5-07:00\nc = 1979-05-27\n"
		  "d = 1979-05-27T00:00:01\ne = 07:32:00.500\n",
		  "a = 1979-05-27T07:32:00Z\nb = 1979-05-27T07:32:00.500000-07:00\nc = 1979-05-27\n"
		  "d = 1979-05-27T00:00:01\ne = 07:32:00.000500\n");
}

TEST(what_python_raises_is_refused)
{
	/* IndexError in _dump_str: a string that starts with an escaped control character */
	CHECK_REFUSED("s = \"\\u0001\"\n", "IndexError");
	/* RuntimeError: a table in a table in an array of tables */
	CHECK_REFUSED("[[p]]\n[p.q.r]\nx = 1\n", "RuntimeError");
	/* arrays mixing tables and other values (TOML 1.0 allows them, toml 0.10.2 does not) */
	CHECK_REFUSED("a = [1, {b = 2}]\n", "mixing tables");
}

TEST(parser_homogeneous_arrays)
{
	static const char text[] = "# \xc3\xa9\nx = 1\nsgx.trusted_files = [ \"f\", { uri = \"f\" } ]\n";
	static const char ok[] = "a = [[1], [\"b\"]]\nd = [1979-05-27, 1979-05-27T00:00:00]\n";
	struct ppml_toml_value *root = NULL;
	struct ppml_err err = {0};

	CHECK(ppml_toml_parse_ex(text, strlen(text), PPML_TOML_PARSE_HOMOGENEOUS, &root, &err) ==
	      PPML_E_INPUT);
	CHECK(root == NULL);
	/* the line of the key, column 1, and the offset in characters (é is one) */
	CHECKF(strstr(err.msg, "Not a homogeneous array (line 3 column 1 char 10)") != NULL, "%.400s",
	       err.msg);
	/* int and float differ; arrays of different arrays do not */
	CHECK(ppml_toml_parse_ex("a = [1, 2.0]", 12, PPML_TOML_PARSE_HOMOGENEOUS, &root, &err) ==
	      PPML_E_INPUT);
	REQUIRE(ppml_toml_parse_ex(ok, strlen(ok), PPML_TOML_PARSE_HOMOGENEOUS, &root, &err) ==
		PPML_OK);
	ppml_toml_free(root);
	/* without the flag, TOML 1.0 */
	REQUIRE(ppml_toml_parse(text, strlen(text), &root, &err) == PPML_OK);
	ppml_toml_free(root);
}

int main(void)
{
	RUN(tables_breadth_first);
	RUN(arrays_inline);
	RUN(arrays_of_tables);
	RUN(strings_through_repr);
	RUN(numbers_and_dates);
	RUN(what_python_raises_is_refused);
	RUN(parser_homogeneous_arrays);
	HARNESS_EXIT();
}
