# trustchain - build, test, run.
#
# Variables you may override:
#   CC        MPI C compiler wrapper           (mpicc)
#   OPT       optimisation flags               (-O2 -march=x86-64-v2)
#   SANITIZE  1: AddressSanitizer + UBSan build in build-san/
#   RANKS     ranks for `make run`             (2)
#   SCENARIO  scenario for `make run`          (scenarios/cascade.yaml)
#   BUILD     object folder                    (build, or build-san)

CC       ?= mpicc
ifeq ($(CC),cc)
CC := mpicc
endif
OPT      ?= -O2
RANKS    ?= 2
SCENARIO ?= scenarios/cascade.yaml
SANITIZE ?= 0

PKGS     := yaml-0.1 hwloc jansson
DEB_PKGS := make gcc mpich libmpich-dev libhwloc-dev hwloc libyaml-dev libjansson-dev jq bc \
            libcmocka-dev librandom123-dev pkg-config time gnuplot-nox graphviz \
            chromium nodejs valgrind gdb clang libclang-rt-14-dev

ifeq ($(SANITIZE),1)
BUILD    ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1
else
BUILD    ?= build
SANFLAGS :=
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Werror \
            -Isim -Igenerators -Ianalysis $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP
LDLIBS   += $(PKG_LIBS) -lm
LDFLAGS  += $(SANFLAGS)

LIB_SRC  := $(wildcard sim/*.c generators/*.c analysis/*.c)
LIB_SRC  := $(filter-out sim/main.c,$(LIB_SRC))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
BIN      := $(if $(filter 1,$(SANITIZE)),trustchain-san,trustchain)

.PHONY: all deps run test unit mpi-test bench clean

all: $(BIN)

$(BIN): $(BUILD)/sim/main.o $(BUILD)/libtrustchain.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libtrustchain.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# Install the Debian packages that are missing (needs root or sudo).
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

run: deps
	$(MAKE) all
	@mkdir -p results
	mpiexec -n $(RANKS) ./$(BIN) run $(SCENARIO) -o results/$(basename $(notdir $(SCENARIO))).json

include tests/tests.mk
include tests/fuzz.mk
include bench/bench.mk

clean:
	rm -rf build build-san build-fuzz trustchain trustchain-san

-include $(LIB_OBJ:.o=.d) $(BUILD)/sim/main.d
