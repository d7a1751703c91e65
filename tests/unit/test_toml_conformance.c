/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs the parser over every case that toml-test lists for TOML 1.0
 * (../shared/toml-test/tests/files-toml-1.0.0): valid cases must parse to
 * the expected tagged JSON, invalid ones must be refused.  The JSON is
 * compared semantically, because toml-test fixes values, not spellings:
 * object key order is free, floats compare as numbers (nan == nan), and
 * date-times compare after normalising 't'/'z'/space, trailing fraction
 * zeros and a zero offset.
 */
#include <math.h>
#include <stdbool.h>

#include "harness.h"
#include "ppml/file.h"
#include "ppml/limits.h"
#include "ppml/toml.h"
#include "toml_json.h"

#define SHOW_MAX 5

static char summary[1024];

static bool is_leaf(const json_t *j)
{
	return json_is_object(j) && json_object_size(j) == 2 &&
	       json_is_string(json_object_get(j, "type")) &&
	       json_is_string(json_object_get(j, "value"));
}

static void normalise_datetime(const char *in, char *out, size_t outlen)
{
	size_t n = 0, len = strlen(in);

	for (size_t i = 0; i < len && n + 1 < outlen; i++) {
		char c = in[i];
		if (c == 't')
			c = 'T';
		else if (c == 'z')
			c = 'Z';
		else if (c == ' ' && i == 10)
			c = 'T';
		if (c == '.') {
			size_t j = i + 1, last = i;
			while (j < len && in[j] >= '0' && in[j] <= '9') {
				if (in[j] != '0')
					last = j;
				j++;
			}
			for (size_t k = i; last > i && k <= last && n + 1 < outlen; k++)
				out[n++] = in[k];
			i = j - 1;
			continue;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	if (n >= 6 && (strcmp(out + n - 6, "+00:00") == 0 || strcmp(out + n - 6, "-00:00") == 0))
		strcpy(out + n - 6, "Z");
}

static bool leaf_equal(const json_t *a, const json_t *b)
{
	const char *ta = json_string_value(json_object_get(a, "type"));
	const char *tb = json_string_value(json_object_get(b, "type"));
	const json_t *va = json_object_get(a, "value"), *vb = json_object_get(b, "value");
	const char *sa = json_string_value(va), *sb = json_string_value(vb);

	if (strcmp(ta, tb) != 0)
		return false;
	if (strcmp(ta, "float") == 0) {
		char *ea, *eb;
		double da = strtod(sa, &ea), db = strtod(sb, &eb);
		if (*ea || *eb)
			return false;
		return (isnan(da) && isnan(db)) || da == db;
	}
	if (strstr(ta, "date") || strstr(ta, "time")) {
		char na[128], nb[128];
		normalise_datetime(sa, na, sizeof(na));
		normalise_datetime(sb, nb, sizeof(nb));
		return strcmp(na, nb) == 0;
	}
	return json_string_length(va) == json_string_length(vb) &&
	       memcmp(sa, sb, json_string_length(va)) == 0;
}

static bool json_equal_semantic(const json_t *a, const json_t *b)
{
	if (is_leaf(b))
		return is_leaf(a) && leaf_equal(a, b);
	if (json_is_object(b)) {
		const char *k;
		size_t klen;
		json_t *vb;
		if (!json_is_object(a) || is_leaf(a) || json_object_size(a) != json_object_size(b))
			return false;
		json_object_keylen_foreach((json_t *)b, k, klen, vb) {
			json_t *va = json_object_getn(a, k, klen);
			if (!va || !json_equal_semantic(va, vb))
				return false;
		}
		return true;
	}
	if (json_is_array(b)) {
		if (!json_is_array(a) || json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(b); i++)
			if (!json_equal_semantic(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	return false;
}

/*
 * jansson refuses NUL in object keys, and toml-test has a key "\u0000";
 * both sides get every \u0000 escape replaced by U+10FFFE (which no case
 * uses) before loading.  Returns a new reference or NULL.
 */
static json_t *load_json_nul_safe(const char *text)
{
	size_t len = strlen(text), n = 0;
	char *t = malloc(2 * len + 1);
	json_error_t jerr;
	json_t *j;

	if (!t)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\\' && i + 1 < len) {
			if (strncmp(text + i + 1, "u0000", 5) == 0) {
				memcpy(t + n, "\\udbff\\udffe", 12);
				n += 12;
				i += 5;
				continue;
			}
			t[n++] = text[i++];
		}
		t[n++] = text[i];
	}
	t[n] = '\0';
	j = json_loads(t, 0, &jerr);
	free(t);
	return j;
}

/* Appends a failing case to the summary shown on the FAIL line. */
static void note_failure(size_t *nfail, const char *name, const char *why)
{
	size_t used = strlen(summary);
	if (++*nfail <= SHOW_MAX && used < sizeof(summary) - 1)
		snprintf(summary + used, sizeof(summary) - used, " %s (%s);", name, why);
}

/* One case; returns NULL if it behaved, else a short reason. */
static const char *run_case(const char *tests, const char *name, bool valid)
{
	char path[4096];
	uint8_t *data = NULL;
	size_t len = 0;
	struct ppml_err err = {0};
	struct ppml_toml_value *root = NULL;
	json_t *got = NULL, *want = NULL, *tree = NULL;
	char *dump = NULL;
	const char *why = NULL;
	ppml_status rc;

	snprintf(path, sizeof(path), "%s/%s", tests, name);
	if (ppml_file_read(path, PPML_TOML_MAX_INPUT, &data, &len, &err) != PPML_OK) {
		why = "unreadable";
		goto out;
	}
	rc = ppml_toml_parse((const char *)data, len, &root, &err);
	if (!valid) {
		if (rc == PPML_OK)
			why = "accepted";
		else if (rc != PPML_E_INPUT || strncmp(err.msg, "line ", 5) != 0)
			why = "refused without a line/column message";
		goto out;
	}
	if (rc != PPML_OK) {
		why = "refused";
		goto out;
	}
	memcpy(path + strlen(path) - 5, ".json", 5);
	free(data);
	data = NULL;
	if (ppml_file_read(path, PPML_TOML_MAX_INPUT, &data, &len, &err) != PPML_OK) {
		why = "expected JSON unreadable";
		goto out;
	}
	want = load_json_nul_safe((const char *)data);
	tree = toml_to_tagged_json(root);
	dump = tree ? json_dumps(tree, 0) : NULL;
	got = dump ? load_json_nul_safe(dump) : NULL;
	if (!want || !got)
		why = "no JSON";
	else if (!json_equal_semantic(got, want))
		why = "JSON differs";
out:
	free(dump);
	json_decref(tree);
	json_decref(got);
	json_decref(want);
	ppml_toml_free(root);
	free(data);
	return why;
}

static void run_suite(bool valid)
{
	REQUIRE_SHARED(shared);
	char tests[2048], list[4096];
	uint8_t *data = NULL;
	size_t len = 0, total = 0, nfail = 0;
	struct ppml_err err = {0};
	const char *prefix = valid ? "valid/" : "invalid/";
	char *line, *save = NULL;

	summary[0] = '\0';
	snprintf(tests, sizeof(tests), "%s/toml-test/tests", shared);
	snprintf(list, sizeof(list), "%s/files-toml-1.0.0", tests);
	REQUIRE(ppml_file_read(list, 1u << 20, &data, &len, &err) == PPML_OK);
	for (line = strtok_r((char *)data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		const char *why;
		if (strncmp(line, prefix, strlen(prefix)) != 0 || l < 5 ||
		    strcmp(line + l - 5, ".toml") != 0)
			continue;
		total++;
		why = run_case(tests, line, valid);
		if (why)
			note_failure(&nfail, line, why);
	}
	free(data);
	CHECKF(total > 0, "no %scases listed", prefix);
	if (nfail) {
		char first[600];
		snprintf(first, sizeof(first), "%.599s", summary);
		HARNESS_FAIL_AT("%zu/%zu %s cases failed, first:%s", nfail, total,
				valid ? "valid" : "invalid", first);
	}
	snprintf(summary, sizeof(summary), "%zu/%zu %s", total - nfail, total,
		 valid ? "valid cases matched" : "invalid cases rejected");
}

TEST(toml_test_valid)
{
	run_suite(true);
}

TEST(toml_test_invalid)
{
	run_suite(false);
}

/* The comparison must not be so loose that everything "matches". */
TEST(semantic_json_comparison)
{
	static const char *const same[][2] = {
		{"{\"a\":{\"type\":\"float\",\"value\":\"nan\"}}",
		 "{\"a\":{\"type\":\"float\",\"value\":\"-nan\"}}"},
		{"{\"a\":{\"type\":\"float\",\"value\":\"0.1\"}}",
		 "{\"a\":{\"type\":\"float\",\"value\":\"1e-1\"}}"},
		{"{\"d\":{\"type\":\"datetime\",\"value\":\"1987-07-05 17:45:00.500z\"}}",
		 "{\"d\":{\"type\":\"datetime\",\"value\":\"1987-07-05T17:45:00.5+00:00\"}}"},
		{"{\"x\":[],\"y\":{}}", "{\"y\":{},\"x\":[]}"},
	};
	static const char *const differ[][2] = {
		{"{\"a\":{\"type\":\"integer\",\"value\":\"1\"}}",
		 "{\"a\":{\"type\":\"float\",\"value\":\"1\"}}"},
		{"{\"a\":{\"type\":\"string\",\"value\":\"x\"}}",
		 "{\"a\":{\"type\":\"string\",\"value\":\"x \"}}"},
		{"{\"d\":{\"type\":\"time-local\",\"value\":\"07:00:00.1\"}}",
		 "{\"d\":{\"type\":\"time-local\",\"value\":\"07:00:00.01\"}}"},
		{"{\"x\":[{}]}", "{\"x\":[]}"},
		{"{\"x\":{}}", "{\"x\":{},\"y\":{}}"},
		{"{\"x\":{\"type\":\"string\",\"value\":\"1\"}}", "{\"x\":{}}"},
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		json_t *a = load_json_nul_safe(same[i][0]), *b = load_json_nul_safe(same[i][1]);
		CHECKF(a && b && json_equal_semantic(a, b), "same[%zu] differs", i);
		json_decref(a);
		json_decref(b);
	}
	for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
		json_t *a = load_json_nul_safe(differ[i][0]), *b = load_json_nul_safe(differ[i][1]);
		CHECKF(a && b && !json_equal_semantic(a, b), "differ[%zu] matched", i);
		json_decref(a);
		json_decref(b);
	}
}

/* RUN, with the case counts on the PASS line. */
#define RUN_COUNTED(name)                                                               \
	do {                                                                             \
		harness_failed_now = harness_skipped_now = 0;                            \
		harness_msg[0] = summary[0] = 0;                                         \
		name();                                                                  \
		if (harness_failed_now) {                                                \
			printf("FAIL %s: %s\n", #name, harness_msg);                     \
			harness_failures++;                                              \
		} else if (harness_skipped_now) {                                        \
			printf("SKIP %s: %s\n", #name, harness_msg);                     \
		} else {                                                                 \
			printf("PASS %s: %s\n", #name, summary);                         \
		}                                                                        \
		fflush(stdout);                                                          \
	} while (0)

int main(void)
{
	RUN(semantic_json_comparison);
	RUN_COUNTED(toml_test_valid);
	RUN_COUNTED(toml_test_invalid);
	HARNESS_EXIT();
}
