/*
 * exchange.h - collective helpers over a 1D block partition: look up values
 * of remote workloads at their owners, and gather variable-length arrays of
 * words from every rank.
 *
 * All functions are collective over COMM. Counts travel as MPI ints: a rank
 * contribution past INT_MAX elements is a runtime error, not a wrap.
 */
#ifndef TC_EXCHANGE_H
#define TC_EXCHANGE_H

#include <mpi.h>
#include <stdint.h>

#include "error.h"

/* For each of the N global ids GIDS (any owner), fetch VALUES[gid - first]
 * from its owner into OUT[i]. OWNER_OFFSETS has nranks + 1 entries; VALUES
 * are this rank's values by local index. */
int tc_exchange_lookup_u32(MPI_Comm comm, const uint64_t *owner_offsets, const uint64_t *gids,
                           uint64_t n, const uint32_t *values, uint32_t *out, tc_error *err);

/* Gather N_MINE words from every rank into one array, rank order, on all
 * ranks. *ALL is malloc'ed (free it), *N_ALL its length. */
int tc_exchange_allgather_u64(MPI_Comm comm, const uint64_t *mine, uint64_t n_mine,
                              uint64_t **all, uint64_t *n_all, tc_error *err);

#endif
