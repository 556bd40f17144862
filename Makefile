# oraclebus: the one entry point for build, test, bench, fuzz and demo.
#
# The layout is discovered by convention, so adding a file never needs an edit here:
#   <module>/*.c              library code of a shared module (schemas, store, bus, chain, payments)
#   <anything>/*_test.c       a cmocka unit test, one binary each, beside the code it tests
#   <anything>/*_fuzz.c       a libFuzzer target (clang), built by `make fuzz`
#   <anything>/*_bench.c      a benchmark binary, built and run by `make bench`
#   actors/<name>/*.c         one actor process: build/bin/<name> (main.c plus its own logic)
#   tools/<name>/*.c          one operator tool: build/bin/<name>
#   tests/integration/*.sh    multi-process tests, run by `make test` after the unit tests
#
# Module layering (a module may use the ones before it): base schemas store bus chain payments.
#   base      below everything: the actor runtime (rt_*: config, logs, metrics, HTTP, lifecycle), hex,
#             Keccak-256, exact 256-bit integers (u256), bounded tables
#   payments  the tokenizer's MT103 / ISO 20022 parsers and exact amounts (uses base and schemas)
# Every program links all the libraries; the linker keeps only what it uses.

BUILD   ?= build
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)
say      = $(if $(filter 1,$(V)),,@printf '  %-5s %s\n' $(1) $(2);)
CC      ?= cc
WERROR  ?= 1
OPT     ?= -O2

PKGS    := msgpack lmdb libsecp256k1 jansson libcurl libmicrohttpd libxml-2.0 libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Debian's libnng-dev ships no pkg-config file.
NNG_LIBS   := $(shell pkg-config --libs nng 2>/dev/null || echo -lnng)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter -fno-common \
           -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
LDLIBS  += $(PKG_LIBS) $(NNG_LIBS) -lpthread -lm

MODULES := base schemas store bus chain payments
lib_srcs = $(filter-out %_test.c %_fuzz.c %_bench.c,$(wildcard $(1)/*.c))
LIBS    := $(foreach m,$(MODULES),$(if $(call lib_srcs,$(m)),$(BUILD)/lib/lib$(m).a))
# Link order: dependents first.
LINK_LIBS := $(foreach m,payments chain bus store schemas base,$(filter $(BUILD)/lib/lib$(m).a,$(LIBS)))

ACTORS  := $(notdir $(patsubst %/,%,$(dir $(wildcard actors/*/main.c))))
TOOLS   := $(notdir $(patsubst %/,%,$(dir $(wildcard tools/*/main.c))))
BINS    := $(addprefix $(BUILD)/bin/,$(ACTORS) $(TOOLS))

TEST_SRCS  := $(shell find base schemas store bus chain payments actors tools tests -name '*_test.c' 2>/dev/null | sort)
TESTS      := $(patsubst %.c,$(BUILD)/test/%,$(TEST_SRCS))
FUZZ_SRCS  := $(shell find base schemas store bus chain payments actors tools tests -name '*_fuzz.c' 2>/dev/null | sort)
BENCH_SRCS := $(shell find base schemas store bus chain payments actors tools tests -name '*_bench.c' 2>/dev/null | sort)
BENCHES    := $(patsubst %.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: FORCE all deps test test-run test-loaded unit integration asan asan-run bench bench-run fuzz fuzz-long fuzz-run demo demo-run format format-check clean help
all: $(BINS)

# The entry points a newcomer runs (test, demo, bench, asan, fuzz) first install what is missing
# (once: the stamp), then re-run make so pkg-config sees the freshly installed libraries.
# `make demo` installs only what the demo needs (tools/deps.sh --demo: no test toolchain, no service).
DEPS_STAMP := build/.deps-ok
DEMO_DEPS_STAMP := build/.deps-demo-ok
$(DEPS_STAMP): tools/deps.sh $(wildcard tests/chain/package-lock.json)
	tools/deps.sh
	@mkdir -p $(@D) && touch $@ $(DEMO_DEPS_STAMP)
$(DEMO_DEPS_STAMP): tools/deps.sh $(wildcard tests/chain/package-lock.json)
	tools/deps.sh --demo
	@mkdir -p $(@D) && touch $@

help:
	@echo "make deps      install every Debian and npm package the project needs"
	@echo "make           build every binary into $(BUILD)/bin/"
	@echo "make test      unit tests, then multi-process integration tests"
	@echo "make test-loaded  make test while busy loops occupy every core (RUNS=3 for three in a row)"
	@echo "make asan      the same tests under AddressSanitizer + UBSan (build/asan)"
	@echo "make bench     benchmarks, reported as ratios against raw baselines"
	@echo "make fuzz      every libFuzzer target for FUZZ_SECONDS (default 10) each"
	@echo "make fuzz-long every libFuzzer target for FUZZ_RUNS (10 million) executions, with a report"
	@echo "make demo      the whole stack on a local chain, one line per event (Ctrl-C stops it)"
	@echo "make format   apply the one style (.clang-format) and the include-guard rule; format-check checks (CI)"

deps:
	tools/deps.sh
	@mkdir -p build && touch $(DEPS_STAMP) $(DEMO_DEPS_STAMP)

# ---- libraries -------------------------------------------------------------------------------
define module_rules
$(BUILD)/lib/lib$(1).a: $(patsubst %.c,$(BUILD)/obj/%.o,$(call lib_srcs,$(1)))
	@mkdir -p $$(@D)
	$$(call say,AR,$$@) rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<) $(CC) $(CFLAGS) -c $< -o $@

# ---- version: --version and oraclebus_build_info come from one generated header -------------
# tools/version.sh rewrites it only when the version (VERSION file, or make OB_VERSION=...) or the
# git revision (`git describe --always --dirty`; make OB_REVISION=... outside git) changed, so
# only base/rt_version.o recompiles and the programs relink.
OB_VERSION  ?=
OB_REVISION ?=
$(BUILD)/gen/ob_version.h: FORCE
	@OB_VERSION='$(OB_VERSION)' OB_REVISION='$(OB_REVISION)' tools/version.sh $@
$(BUILD)/obj/base/rt_version.o: $(BUILD)/gen/ob_version.h
$(BUILD)/obj/base/rt_version.o: CFLAGS += -I$(BUILD)/gen
FORCE:

# ---- programs --------------------------------------------------------------------------------
define prog_rules
$(BUILD)/bin/$(2): $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out %_test.c %_fuzz.c %_bench.c,$(wildcard $(1)/$(2)/*.c))) $(LIBS)
	@mkdir -p $$(@D)
	$$(call say,LD,$$@) $$(CC) $$(CFLAGS) -o $$@ $$(filter %.o,$$^) $(LINK_LIBS) $$(LDFLAGS) $$(LDLIBS)
endef
$(foreach a,$(ACTORS),$(eval $(call prog_rules,actors,$(a))))
$(foreach t,$(TOOLS),$(eval $(call prog_rules,tools,$(t))))

# ---- unit tests: each links every library, plus the non-main objects of its own actor/tool ----
$(BUILD)/test/%: %.c $(LIBS)
	@mkdir -p $(@D)
	$(call say,TEST,$@) $(CC) $(CFLAGS) -o $@ $< $(filter %.o,$^) $(LINK_LIBS) $(LDFLAGS) $(LDLIBS) $(CMOCKA_LIBS)

$(foreach t,$(filter actors/% tools/%,$(TEST_SRCS)),$(eval $(BUILD)/test/$(t:.c=): $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out %_test.c %_fuzz.c %_bench.c %/main.c,$(wildcard $(dir $(t))*.c)))))

unit: $(TESTS)
	@BUILD=$(BUILD) tools/run-tests.sh unit $(TESTS)

integration: all
	@BUILD=$(BUILD) tools/run-tests.sh integration $(sort $(wildcard tests/integration/*.sh))

test: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory test-run
test-run: all $(TESTS)
	@BUILD=$(BUILD) tools/run-tests.sh all $(TESTS) -- $(sort $(wildcard tests/integration/*.sh))
# make test with a busy loop on every core (LOADERS), RUNS times: the tests must not depend on an idle machine
test-loaded: $(DEPS_STAMP)
	@tools/test-loaded.sh

asan: $(DEPS_STAMP)
	$(MAKE) BUILD=build/asan OPT="-O1" \
	  CFLAGS_EXTRA="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test-run

ifdef CFLAGS_EXTRA
CFLAGS  += $(CFLAGS_EXTRA)
LDFLAGS += $(CFLAGS_EXTRA)
endif

# ---- one style (.clang-format, clang-format 14) and one include-guard rule; CI runs format-check
format:
	@tools/check-format.sh --fix
format-check:
	@tools/check-format.sh

# ---- bench: like unit tests, each links every library plus its own actor/tool's non-main objects
$(BUILD)/bench/%: %.c $(LIBS)
	@mkdir -p $(@D)
	$(call say,BENCH,$@) $(CC) $(CFLAGS) -o $@ $< $(filter %.o,$^) $(LINK_LIBS) $(LDFLAGS) $(LDLIBS)

$(foreach b,$(filter actors/% tools/%,$(BENCH_SRCS)),$(eval $(BUILD)/bench/$(b:.c=): $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out %_test.c %_fuzz.c %_bench.c %/main.c,$(wildcard $(dir $(b))*.c)))))

bench: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory bench-run
bench-run: all $(BENCHES)
	@BUILD=$(BUILD) tools/run-bench.sh $(BENCHES)

# ---- fuzz (clang + libFuzzer, its own build tree) -------------------------------------------
FUZZ_SECONDS ?= 10
fuzz: $(DEPS_STAMP)
	$(MAKE) BUILD=build/fuzz CC=clang OPT="-O1" \
	  CFLAGS_EXTRA="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" fuzz-build
	tools/run-fuzz.sh $(FUZZ_SECONDS) $(patsubst %.c,build/fuzz/fuzz/%,$(FUZZ_SRCS))

# every target for FUZZ_RUNS executions (10 million), with a report; hours, so not in CI
FUZZ_RUNS ?= 10000000
fuzz-long: $(DEPS_STAMP)
	$(MAKE) BUILD=build/fuzz CC=clang OPT="-O1" \
	  CFLAGS_EXTRA="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" fuzz-build
	FUZZ_RUNS=$(FUZZ_RUNS) tools/run-fuzz-long.sh $(patsubst %.c,build/fuzz/fuzz/%,$(FUZZ_SRCS))

fuzz-build: $(patsubst %.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
$(BUILD)/fuzz/%: %.c $(LIBS)
	@mkdir -p $(@D)
	$(call say,FUZZ,$@) $(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(filter %.o,$^) $(LINK_LIBS) $(LDFLAGS) $(LDLIBS)

# like unit tests, a fuzz target in actors/<x>/ or tools/<x>/ links that folder's non-main objects
$(foreach f,$(filter actors/% tools/%,$(FUZZ_SRCS)),$(eval $(BUILD)/fuzz/$(f:.c=): $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out %_test.c %_fuzz.c %_bench.c %/main.c,$(wildcard $(dir $(f))*.c)))))

demo: $(DEMO_DEPS_STAMP)
	@$(MAKE) --no-print-directory all
	@tools/demo.sh

clean:
	rm -rf build

# every object's, test's, bench's and fuzz target's header dependencies (-MMD): a header change rebuilds them
-include $(shell find $(BUILD)/obj $(BUILD)/test $(BUILD)/bench $(BUILD)/fuzz -name '*.d' 2>/dev/null)
