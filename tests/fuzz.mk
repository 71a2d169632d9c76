# Fuzzing fragment of the Makefile: libFuzzer targets in tests/fuzz/, built
# with clang against the library sources compiled by clang into build-fuzz/
# (the mpicc/gcc objects of build/ cannot carry libFuzzer's coverage).
#
#   make fuzz          build every target and run each for FUZZ_SECONDS
#   make fuzz-smoke    the same for FUZZ_SMOKE_SECONDS each (for CI)
#   make fuzz-build    build the targets only
#
# Variables you may override:
#   FUZZ_CC             C compiler with libFuzzer        (clang)
#   FUZZ_SECONDS        seconds per target for `fuzz`    (60)
#   FUZZ_SMOKE_SECONDS  seconds per target for `fuzz-smoke` (10)
#   FUZZ_TARGETS        targets to run                   (scenario selector explicit edgelist)
#   FUZZ_FLAGS          extra libFuzzer options, e.g. -jobs=2
#
# Each run reads the seeds of tests/fuzz/corpus/TARGET/ and keeps what it
# finds in build-fuzz/corpus/TARGET/; a crash stops make and leaves the
# input in build-fuzz/crashes/. tests/fuzz/README.md says how to triage.

FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_TARGETS       ?= scenario selector explicit edgelist
FUZZ_FLAGS         ?=
FUZZ_BUILD         := build-fuzz

FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra $(FUZZ_SAN) \
                -Isim -Igenerators -Ianalysis -Itests/fuzz \
                $(shell pkg-config --cflags mpich $(PKGS) 2>/dev/null)
FUZZ_LIBS    := $(shell pkg-config --libs mpich $(PKGS) 2>/dev/null) -lm
FUZZ_LIB_SRC := $(filter-out sim/main.c,$(wildcard sim/*.c generators/*.c analysis/*.c))
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

# Leaks are checked per input by libFuzzer; MPI_Init's own leak is kept out
# by the targets (fuzz_mpi_init), so no suppression file is needed here.
FUZZ_ENV := ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: fuzz fuzz-smoke fuzz-build
.SECONDARY: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%.o) $(FUZZ_BUILD)/tests/fuzz/fuzz_common.o

fuzz-build: $(FUZZ_BINS)

# The targets' own sources must build without a warning; the library's
# warnings under clang are shown but left to the gcc build to reject.
$(FUZZ_BUILD)/tests/fuzz/%.o: FUZZ_CFLAGS += -Werror

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/libtrustchain.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/tests/fuzz/fuzz_common.o \
                      $(FUZZ_BUILD)/libtrustchain.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

# fuzz_run SECONDS: run every target of FUZZ_TARGETS for SECONDS each.
define fuzz_run
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes; \
	  dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	  echo "fuzz_$$t: $(1) s"; \
	  $(FUZZ_ENV) $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(1) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t- $$dict $(FUZZ_FLAGS) \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t \
	    >$(FUZZ_BUILD)/fuzz_$$t.log 2>&1 || { tail -n 60 $(FUZZ_BUILD)/fuzz_$$t.log; exit 1; }; \
	  grep -E '^(Done|stat::number_of_executed_units)' $(FUZZ_BUILD)/fuzz_$$t.log; \
	done
endef

fuzz: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-smoke: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS))

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BINS:$(FUZZ_BUILD)/fuzz_%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%.d)
