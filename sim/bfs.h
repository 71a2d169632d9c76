/*
 * bfs.h - the distributed sparse layer: a 1D-partitioned graph in CSR form
 * and a level-synchronous BFS kernel over it.
 *
 * The trust engine drives its API-chain steps through tc_bfs_level, and the
 * Graph500 benchmark drives whole searches through it, so both measure and
 * trust the same code.
 *
 * Invariants:
 *  1. Vertex ids are global 64-bit; rank r owns the contiguous range
 *     [owner_offsets[r], owner_offsets[r+1]).
 *  2. out_offsets/out_targets list the out-edges of owned vertices (targets
 *     global); in_offsets/in_sources list their in-edges (sources global,
 *     sorted ascending per vertex) when the graph was built with reverse
 *     edges.
 *  3. A level finishes on every rank before the next one starts; the
 *     frontier and the visited set are disjoint after each level.
 *  4. Parents are deterministic: the parent of a vertex discovered at level
 *     L+1 is the smallest global id among its in-neighbours in the level-L
 *     frontier, whatever the rank count and direction chosen.
 */
#ifndef TC_BFS_H
#define TC_BFS_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TC_BFS_NO_PARENT UINT64_MAX

typedef struct tc_graph {
    MPI_Comm comm;               /* borrowed */
    int rank, nranks;
    uint64_t n_global;
    uint64_t *owner_offsets;     /* nranks + 1, owned copy */
    uint64_t first, n_local;
    uint64_t n_edges_local;      /* out-edges of owned vertices */
    uint64_t n_edges_global;
    uint64_t *out_offsets, *out_targets;
    uint64_t *in_offsets, *in_sources; /* NULL when built without reverse */
} tc_graph;

/* Build a graph from the out-edges of owned vertices: edge i goes from local
 * vertex SRC_LOCAL[i] to global vertex DST[i]. The arrays are borrowed.
 * With WITH_REVERSE, in-edges are exchanged to their owners too (needed for
 * bottom-up steps). Collective; ranks agree on failure. */
int tc_graph_build(MPI_Comm comm, uint64_t n_global, const uint64_t *owner_offsets,
                   uint64_t n_edges_local, const uint64_t *src_local,
                   const uint64_t *dst, bool with_reverse, tc_graph **out,
                   tc_error *err);

void tc_graph_free(tc_graph *g);

typedef struct tc_bfs_state tc_bfs_state;

/* Per-search state: visited set and, when RECORD_PARENTS, parents of owned
 * vertices. Local. */
int tc_bfs_state_create(const tc_graph *g, bool record_parents,
                        tc_bfs_state **out, tc_error *err);
void tc_bfs_state_free(tc_bfs_state *s);

/* Mark owned vertex LOCAL visited without a parent (a root, or a vertex
 * reached by means outside this graph). Local. */
void tc_bfs_mark_visited(tc_bfs_state *s, uint64_t local);
bool tc_bfs_is_visited(const tc_bfs_state *s, uint64_t local);

/* Parent (global id) of owned vertex LOCAL, TC_BFS_NO_PARENT when none. */
uint64_t tc_bfs_parent(const tc_bfs_state *s, uint64_t local);

/* One level. FRONTIER holds the local indices of the owned vertices of the
 * current level (each already visited). Every unvisited vertex with an edge
 * from a frontier vertex on any rank is marked visited, gets its parent,
 * and its local index is written to *NEXT (sorted ascending, owned by the
 * caller, free with free()). Collective. */
int tc_bfs_level(tc_bfs_state *s, const uint64_t *frontier, uint64_t n_frontier,
                 uint64_t **next, uint64_t *n_next, tc_error *err);

/* Counters since the state was created: edges examined by this rank, and
 * levels run top-down and bottom-up. */
typedef struct tc_bfs_stats {
    uint64_t edges_examined;
    uint32_t levels_top_down, levels_bottom_up;
    double seconds_compute, seconds_communicate;
} tc_bfs_stats;
void tc_bfs_get_stats(const tc_bfs_state *s, tc_bfs_stats *out);

/* Reset S to the state tc_bfs_state_create returns: nothing visited, no
 * parents, counters zero. Reuses the memory, so repeated searches do not
 * pay for allocation. Local. */
void tc_bfs_state_reset(tc_bfs_state *s);

/* Global number of vertices in the frontier passed to the last
 * tc_bfs_level call on S (every rank returns the same value); 0 means that
 * call found the search finished. 0 before the first call. Local. */
uint64_t tc_bfs_frontier_global(const tc_bfs_state *s);

/* Bytes held by this rank's part of G: the arrays of the struct plus the
 * kernel's private 32-bit adjacency. Local. */
size_t tc_graph_bytes(const tc_graph *g);

/* Bytes held by S on this rank. Local. */
size_t tc_bfs_state_bytes(const tc_bfs_state *s);

/* Build an undirected graph from PACKED, the out-edges of owned vertices
 * as (local source << 32) | global target: each edge u-v given as u->v at
 * u's owner and v->u at v's owner, a self-loop once. Takes ownership of
 * PACKED (N_EDGES_LOCAL words from malloc) and frees it, also on failure.
 * The in-edges are the out-edges: in_offsets and in_sources alias
 * out_offsets and out_targets. Symmetry is checked with sums of 128 bits
 * of hashes over all edges and their reverses (an asymmetric input passes
 * with a chance near 2^-128) and an asymmetric input is TC_ERR_INPUT.
 * Saves tc_graph_build's exchange of reverse edges. Collective; ranks
 * agree on failure. */
int tc_graph_build_undirected(MPI_Comm comm, uint64_t n_global, const uint64_t *owner_offsets,
                              uint64_t n_edges_local, uint64_t *packed, tc_graph **out,
                              tc_error *err);

#endif
