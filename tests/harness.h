/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/harness.h - the unit-test harness.
 *
 * A test program is a list of `TEST(name) { ... }` functions run from main()
 * with RUN(name).  Each prints one result line that tests/run-tests counts:
 *   PASS name
 *   FAIL name: file:line: what did not hold
 *   SKIP name: why
 * CHECK() records a failure and carries on; REQUIRE() stops the test.
 * harness_shared() finds ../shared (reference vectors): when it is absent the
 * test is skipped, unless CI=true, where that is a failure.
 */
#ifndef PPML_TEST_HARNESS_H
#define PPML_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int harness_failed_now;
static int harness_skipped_now;
static char harness_msg[2048];
static int harness_failures;

#define TEST(name) static void name(void)

#define HARNESS_FAIL_AT(...)                                                            \
	do {                                                                             \
		if (!harness_failed_now) {                                               \
			int n_ = snprintf(harness_msg, sizeof(harness_msg), "%s:%d: ",      \
					  __FILE__, __LINE__);                           \
			snprintf(harness_msg + n_, sizeof(harness_msg) - (size_t)n_,         \
				 __VA_ARGS__);                                           \
		}                                                                        \
		harness_failed_now = 1;                                                  \
	} while (0)

#define CHECK(cond)                                                                     \
	do {                                                                             \
		if (!(cond))                                                             \
			HARNESS_FAIL_AT("CHECK(%s)", #cond);                             \
	} while (0)

#define CHECKF(cond, ...)                                                               \
	do {                                                                             \
		if (!(cond))                                                             \
			HARNESS_FAIL_AT(__VA_ARGS__);                                    \
	} while (0)

#define REQUIRE(cond)                                                                   \
	do {                                                                             \
		if (!(cond)) {                                                           \
			HARNESS_FAIL_AT("REQUIRE(%s)", #cond);                           \
			return;                                                          \
		}                                                                        \
	} while (0)

#define CHECK_STREQ(a, b)                                                               \
	do {                                                                             \
		const char *a_ = (a), *b_ = (b);                                         \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                                   \
			HARNESS_FAIL_AT("%s == \"%s\", expected \"%s\"", #a,             \
					a_ ? a_ : "(null)", b_ ? b_ : "(null)");         \
	} while (0)

#define SKIP_TEST(...)                                                                  \
	do {                                                                             \
		snprintf(harness_msg, sizeof(harness_msg), __VA_ARGS__);                 \
		harness_skipped_now = 1;                                                 \
		return;                                                                  \
	} while (0)

#define RUN(name)                                                                       \
	do {                                                                             \
		harness_failed_now = harness_skipped_now = 0;                            \
		harness_msg[0] = 0;                                                      \
		name();                                                                  \
		if (harness_failed_now) {                                                \
			printf("FAIL %s: %s\n", #name, harness_msg);                     \
			harness_failures++;                                              \
		} else if (harness_skipped_now) {                                        \
			printf("SKIP %s: %s\n", #name, harness_msg);                     \
		} else {                                                                 \
			printf("PASS %s\n", #name);                                      \
		}                                                                        \
		fflush(stdout);                                                          \
	} while (0)

#define HARNESS_EXIT() return harness_failures ? 1 : 0

/* Path of the shared reference folder, or NULL (then skip, or fail under CI=true,
 * via REQUIRE_SHARED).  PPML_SHARED overrides; default ../shared from the project root,
 * which run-tests exports as PPML_SHARED. */
static inline const char *harness_shared(void)
{
	const char *p = getenv("PPML_SHARED");
	if (!p || !*p)
		p = "../shared";
	return access(p, R_OK | X_OK) == 0 ? p : NULL;
}

static inline int harness_ci(void)
{
	const char *ci = getenv("CI");
	return ci && strcmp(ci, "true") == 0;
}

#define REQUIRE_SHARED(var)                                                             \
	const char *var = harness_shared();                                              \
	do {                                                                             \
		if (!var) {                                                              \
			if (harness_ci()) {                                              \
				HARNESS_FAIL_AT("../shared is missing and CI=true");     \
				return;                                                  \
			}                                                                \
			SKIP_TEST("../shared (reference vectors) is not beside the project"); \
		}                                                                        \
	} while (0)

#endif
