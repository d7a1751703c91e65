# SPDX-License-Identifier: Apache-2.0
#
# ppml-deploy build.  `make` builds, `make check` runs every test, `make bench`,
# `make fuzz` (libFuzzer, clang-14), `make demo`.  `SANITIZER=address,undefined`
# builds everything instrumented into its own build folder.

VERSION := 0.1.0
.DEFAULT_GOAL := all
comma := ,

SANITIZER ?=
ifeq ($(strip $(SANITIZER)),)
BUILD ?= build
SANFLAGS :=
else
BUILD ?= build/san-$(subst $(comma),-,$(SANITIZER))
SANFLAGS := -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PKGS := libcrypto jansson libcurl libmicrohttpd libarchive sqlite3 libpq
# Header-only: pkcs11.h from p11-kit; the module is dlopen'ed, p11-kit is not linked.
HDR_PKGS := p11-kit-1
# Deferred: evaluated when a recipe runs, after scripts/install-deps.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(HDR_PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))

CPPFLAGS += -Iinclude -D_GNU_SOURCE -DPPML_VERSION=\"$(VERSION)\"
OPT ?= -O2
CFLAGS ?= $(OPT) -g
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers
ALL_CFLAGS = -std=c17 $(CFLAGS) $(WARN) -pthread -MMD -MP $(SANFLAGS) $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS) -pthread
LIBS = $(PKG_LIBS) -lm

LIB_SRCS := $(sort $(shell find src/lib -name '*.c'))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_SRCS := $(sort $(wildcard src/cli/*.c))
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRCS:fuzz/fuzz_%.c=%)
REPLAY_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz-replay/%)

DEPS_STAMP := $(BUILD)/.deps-installed

.PHONY: all check check-long bench fuzz fuzz-build demo clean deps print-pkgs
# Keep intermediate objects (unit tests, fuzz targets) so a rebuild is incremental.
.SECONDARY:
all: $(BUILD)/ppml $(UNIT_BINS) $(TOOL_BINS) $(REPLAY_BINS) $(BUILD)/ppml-sim-pal.so \
	$(BUILD)/examples/ppml-train

# The deterministic stand-in PAL (include/ppml/simpal.h), written by ppml itself.
$(BUILD)/ppml-sim-pal.so: $(BUILD)/ppml
	$(BUILD)/ppml sim pal --stand-in --out $@ >/dev/null 2>&1

# The example PPML application of `make demo` (libc and libm only).
$(BUILD)/examples/ppml-train: examples/ppml-train/ppml-train.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lm

# Installs missing Debian packages (idempotent; apt-get runs only when something is missing).
# Checked on every make (dpkg-query only; order-only, so it never forces a rebuild).
$(DEPS_STAMP): scripts/install-deps FORCE
	@mkdir -p $(@D)
	@scripts/install-deps
	@touch $@
deps: $(DEPS_STAMP)
# The pkg-config packages the library links (bench/run builds against the same).
print-pkgs:
	@echo $(PKGS)

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libppml.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/ppml: $(CLI_OBJS) $(BUILD)/libppml.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libppml.a $(LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libppml.a
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libppml.a $(LIBS)
$(BUILD)/tests/unit/%.o: CPPFLAGS += -Itests

$(BUILD)/tests/%: $(BUILD)/tests/tools/%.o $(BUILD)/libppml.a
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libppml.a $(LIBS)

# Each fuzz target is also linked with a plain main() that replays its corpus,
# so `make check` (and the sanitizer run) exercises every corpus file.
$(BUILD)/fuzz-replay/%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/replay_main.o $(BUILD)/libppml.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/fuzz/replay_main.o $(BUILD)/libppml.a $(LIBS)

check: all
	@tests/run-tests $(BUILD)

# Exhaustive variants (every bit of every real quote, ...): minutes, not seconds.
check-long: all
	@PPML_CHECK_LONG=1 tests/run-tests $(BUILD)

bench: all
	@bench/run $(BUILD)

# libFuzzer: everything rebuilt with clang-14 and coverage into build/libfuzzer.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang-14
FUZZ_BUILD := build/libfuzzer
fuzz-build: $(DEPS_STAMP)
	$(MAKE) --no-print-directory CC=$(FUZZ_CC) BUILD=$(FUZZ_BUILD) SANITIZER= \
		SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		$(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzzer/%)
$(FUZZ_BUILD)/fuzzer/%: $(FUZZ_BUILD)/fuzz/fuzz_%.o $(FUZZ_BUILD)/libppml.a
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $< $(FUZZ_BUILD)/libppml.a $(LIBS)
fuzz: fuzz-build
	@for n in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz-findings/$$n fuzz/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		$(FUZZ_BUILD)/fuzzer/$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=build/fuzz-findings/$$n/ build/fuzz-findings/$$n fuzz/corpus/$$n \
			|| exit 1; \
	done

demo: all
	@scripts/demo $(BUILD)

clean:
	rm -rf build

FORCE:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
