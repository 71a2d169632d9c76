/*
 * memory.h - memory estimates and the check made before large allocations.
 *
 * The available memory of a node is the smaller of /proc/meminfo's
 * MemAvailable and the cgroup v2 limit (memory.max minus memory.current),
 * shared evenly by the ranks on that node. TC_MEMORY_LIMIT (bytes, with an
 * optional K, M or G suffix) replaces it, for tests and for users who want
 * a margin.
 */
#ifndef TC_MEMORY_H
#define TC_MEMORY_H

#include <mpi.h>
#include <stddef.h>

#include "error.h"

/* Bytes available to each rank on this rank's node. Collective. */
size_t tc_memory_available_per_rank(MPI_Comm comm);

/* Compare NEED_PER_RANK (the largest estimate over ranks) with what each
 * node can give; on shortage returns TC_ERR_INPUT with a message naming
 * WHAT, the estimate and the available memory. Collective. */
int tc_memory_check(MPI_Comm comm, size_t need_per_rank, const char *what, tc_error *err);

/* Peak resident set of this process in bytes (getrusage). Local. */
size_t tc_memory_peak_rss(void);

/* Estimated bytes per rank that policy compilation and simulation add to a
 * topology with N_LOCAL owned workloads and N_EDGES_LOCAL API edges. */
size_t tc_memory_sim_estimate(size_t n_local, size_t n_edges_local, int nranks);

#endif
