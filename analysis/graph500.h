/*
 * graph500.h - the Graph500 benchmark around the BFS kernel (bfs.h).
 *
 * This module builds the undirected graph from an edge list (kernel 1),
 * samples search keys, validates each BFS tree, counts the input edges a
 * search traverses and computes the output statistics. It also has a
 * serial reference BFS for the tests.
 *
 * Parent arrays here follow the Graph500 convention: one entry per owned
 * vertex, the key's parent is the key itself, and a vertex outside the
 * tree has TC_BFS_NO_PARENT.
 */
#ifndef TC_GRAPH500_H
#define TC_GRAPH500_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bfs.h"
#include "error.h"

#define TC_G500_MAX_KEYS 64

/* Block partition of N vertices over NRANKS: OFFSETS[r] = N * r / NRANKS
 * (NRANKS + 1 entries). */
void tc_g500_block_offsets(uint64_t n, int nranks, uint64_t *offsets);

/* Kernel 1: build the undirected graph of the COUNT input edges (U[i],
 * V[i]) that this rank holds, any rank holding any edge. Each edge becomes
 * the out-edges u->v and v->u at their owners under a block partition, a
 * self-loop one out-edge; duplicates are kept. The graph has reverse
 * edges (aliased, since it is symmetric). Ids must be below N_GLOBAL,
 * which must be below 2^32. Collective; ranks agree on failure. */
int tc_g500_graph_build(MPI_Comm comm, uint64_t n_global, uint64_t count, const uint64_t *u,
                        const uint64_t *v, tc_graph **out, tc_error *err);

/* Sample search keys among vertices with an out-edge to another vertex.
 * Eligible vertices are numbered in global id order, and the keys are
 * those whose numbers tc_rng draws without replacement (keyed by SEED), in
 * draw order. Keys therefore depend on the graph and the seed only, not on
 * the rank count. When at most MAX_KEYS vertices are eligible, all of them
 * are keys, ascending. KEYS has room for MAX_KEYS entries (at most
 * TC_G500_MAX_KEYS), and *N_KEYS gets the count. Collective; every rank
 * gets the same keys. */
int tc_g500_sample_keys(const tc_graph *g, uint64_t seed, uint32_t max_keys, uint64_t *keys,
                        uint32_t *n_keys, tc_error *err);

/* Result of a validation, identical on every rank. */
typedef struct tc_g500_check {
    bool valid;
    char message[256];  /* the first failed check (lowest rank), "" when valid */
    uint64_t reached;   /* vertices in the tree, the key included */
    uint32_t depth;     /* largest level */
} tc_g500_check;

/* Validate the BFS tree PARENTS (Graph500 convention, owned vertices)
 * rooted at KEY against G's out-edges:
 *  1. every parent is a vertex id or TC_BFS_NO_PARENT; the key is its own
 *     parent and no other vertex is;
 *  2. following parents from any tree vertex reaches the key without a
 *     cycle and without leaving the tree. The level of a vertex is its
 *     distance to the key along parents;
 *  3. each tree edge (parent, vertex) is an edge of the graph;
 *  4. for every edge u->v with u in the tree, v is in the tree and
 *     level(v) <= level(u) + 1. On a symmetric graph this makes the levels
 *     of every edge's ends differ by at most one, and the tree span the
 *     key's whole connected component.
 * Check 4 allgathers the levels of LEVEL_WINDOW vertices at a time (4
 * bytes each per rank); 0 selects 2^24 (64 MiB). Returns TC_OK when the
 * checks ran (CHECK records whether they passed), or TC_ERR_RUNTIME.
 * Collective. */
int tc_g500_validate(const tc_graph *g, uint64_t key, const uint64_t *parents,
                     uint64_t level_window, tc_g500_check *check, tc_error *err);

/* Number of input edges with both ends in the tree PARENTS, multiple edges
 * and self-loops included: the m of Graph500's TEPS = m / time. G must come
 * from tc_g500_graph_build. Collective; every rank gets the same count. */
int tc_g500_component_edges(const tc_graph *g, const uint64_t *parents, uint64_t *nedge,
                            tc_error *err);

/* Summary statistics of N > 0 samples. Quartiles interpolate piecewise
 * linearly between order statistics with p(k) = (k - 0.5) / n (method 5 of
 * Hyndman and Fan, the default of GNU Octave's quantile, which the Graph500
 * executable specification calls); stddev is the sample standard deviation
 * (n - 1), 0 for one sample. */
typedef struct tc_g500_stats {
    double min, firstquartile, median, thirdquartile, max, mean, stddev;
} tc_g500_stats;
void tc_g500_stats_compute(const double *x, size_t n, tc_g500_stats *out);

/* TEPS statistics of N searches: quartiles of NEDGE[i] / SECONDS[i], their
 * harmonic mean, and the harmonic standard deviation of Norris, "The
 * Standard Errors of the Geometric and Harmonic Means and Their
 * Application to Index Numbers" (1940), as the Graph500 output defines
 * it. The mean and stddev fields of *OUT are replaced by those two. */
void tc_g500_teps_stats(const double *nedge, const double *seconds, size_t n,
                        tc_g500_stats *out);

/* Serial reference BFS over N vertices and M edges SRC[i] -> DST[i] (with
 * UNDIRECTED, also DST[i] -> SRC[i]). The N_ROOTS roots are at level 0;
 * vertices with EXCLUDED[v] set (EXCLUDED may be NULL) are never
 * discovered. PARENT[v] (N entries) gets the smallest id among v's
 * in-neighbours one level up, TC_BFS_NO_PARENT for roots and unreached
 * vertices; LEVEL[v] (may be NULL) gets v's level, UINT32_MAX when
 * unreached. Returns TC_OK or TC_ERR_RUNTIME (out of memory). Local. */
int tc_g500_reference_bfs(uint64_t n, uint64_t m, const uint64_t *src, const uint64_t *dst,
                          bool undirected, const uint64_t *roots, uint64_t n_roots,
                          const bool *excluded, uint64_t *parent, uint32_t *level,
                          tc_error *err);

#endif
