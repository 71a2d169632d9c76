/*
 * bench_whatif.h - `trustchain bench whatif`: the what-if ranking of
 * candidate closures on a scenario, timed against re-simulating candidates
 * the plain way.
 *
 * For each policy of the scenario (or the one named), the benchmark
 * compiles it, runs the plain simulation and enumerates candidates. It
 * evaluates every candidate in the 64-lane engine (timed). Then it applies
 * a sample of the candidates the plain way (copy, recompile where needed,
 * tc_sim_run, all timed) and checks that each plain result equals its
 * lane. Rank 0 prints
 * "key: value" lines on stdout: the times per candidate of both ways and
 * their ratio, the agreement count and the top of the ranking. Progress
 * goes to rank 0's stderr unless --quiet.
 */
#ifndef TC_BENCH_WHATIF_H
#define TC_BENCH_WHATIF_H

#include <mpi.h>

/* Run the benchmark with the options in ARGV[1 .. ARGC-1] (ARGV[0] is the
 * benchmark name, "whatif"), described by --help. Collective over COMM.
 * Returns the exit status: 0 success, 1 runtime error or a plain run that
 * disagrees with its lane, 2 usage error or invalid input. */
int tc_bench_whatif_main(int argc, char **argv, MPI_Comm comm);

#endif
