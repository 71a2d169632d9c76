# Test fragment of the Makefile: every tests/unit/test_*.c is one cmocka
# binary linked with the library and the serial reference (tests/ref/).

TEST_SRC  := $(wildcard tests/unit/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
REF_SRC   := $(wildcard tests/ref/*.c)
REF_OBJ   := $(REF_SRC:%.c=$(BUILD)/%.o)
TEST_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

.PHONY: test unit-test mpi-test

# Keep test objects between runs instead of deleting them as intermediates.
.SECONDARY: $(TEST_BIN:$(BUILD)/tests/%=$(BUILD)/tests/unit/%.o) $(REF_OBJ)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(REF_OBJ) $(BUILD)/libtrustchain.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LIBS)

$(BUILD)/tests/unit/%.o: CFLAGS += -Itests/ref -Itests/unit
$(BUILD)/tests/ref/%.o: CFLAGS += -Itests/ref

# The whole suite: unit tests, then the real binary under mpiexec at 1, 2
# and 3 ranks. tests/run.sh prints "N passed, N failed" last.
test: deps
	$(MAKE) $(BIN) $(TEST_BIN)
	BUILD=$(BUILD) BIN=./$(BIN) bash tests/run.sh

unit-test: $(TEST_BIN)
	BUILD=$(BUILD) BIN=./$(BIN) bash tests/run.sh unit

mpi-test: $(BIN)
	BUILD=$(BUILD) BIN=./$(BIN) bash tests/run.sh mpi

-include $(TEST_BIN:$(BUILD)/tests/%=$(BUILD)/tests/unit/%.d) $(REF_OBJ:.o=.d)
