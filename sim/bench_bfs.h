/*
 * bench_bfs.h - `trustchain bench bfs`: the Graph500 BFS benchmark run on
 * the same kernel (bfs.h) that the trust engine uses.
 *
 * The benchmark generates a Kronecker graph or imports an edge list, then
 * builds the graph (kernel 1, timed). It samples up to 64 search keys and
 * runs and validates one BFS per key (kernel 2, timed per search). Rank 0
 * prints the Graph500 output keys, then the kernel's own counters, as
 * "key: value" lines on stdout. Progress goes to rank 0's stderr unless
 * --quiet.
 */
#ifndef TC_BENCH_BFS_H
#define TC_BENCH_BFS_H

#include <mpi.h>

/* Run the benchmark with the options in ARGV[1 .. ARGC-1] (ARGV[0] is the
 * benchmark name, "bfs"); see --help. Collective over COMM. Returns the
 * exit status: 0 success, 1 runtime error or failed validation, 2 usage
 * error or invalid input. */
int tc_bench_bfs_main(int argc, char **argv, MPI_Comm comm);

#endif
