# Benchmark fragment of the Makefile. Figures are printed, never asserted
# by the unit tests: machines are shared and noisy.

.PHONY: bench bench-check bench-baseline

# Every benchmark; writes bench/results/ (see bench/README.md).
bench: $(BIN)
	bash bench/cascade.sh scenarios/cascade.yaml 2
	bash bench/scaling.sh 1 2 4
	@if [ -x bench/bfs.sh ]; then bash bench/bfs.sh; fi
	@if [ -x bench/whatif.sh ]; then bash bench/whatif.sh; fi

# Compare with bench/baseline/: exact results, time and memory within a
# tolerance (TOLERANCE, MEMORY_TOLERANCE). For CI.
bench-check: $(BIN)
	BIN=./$(BIN) bash bench/check.sh

bench-baseline: $(BIN)
	BIN=./$(BIN) bash bench/check.sh --update
