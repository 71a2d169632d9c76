/*
 * kronecker.h - the Graph500 Kronecker (R-MAT) edge generator.
 *
 * Edge e of a graph of 2^scale vertices and edgefactor * 2^scale edges is a
 * pure function of (seed, e): at each of the scale levels, one 32-bit draw
 * of tc_rng (sim/rng.h) picks a quadrant of the adjacency matrix with the
 * initiator probabilities a, b, c and d = 1 - a - b - c, which sets one bit
 * of each endpoint. Both endpoints then go through a keyed bijective
 * permutation of [0, 2^scale) (a Feistel network with cycle walking), so
 * vertex labels carry no locality and no global array is needed. The edge
 * list is therefore identical on any rank count, keeps self-loops and
 * duplicate edges as the Graph500 specification requires, and needs no
 * shuffle: its edges are already independent draws.
 */
#ifndef TC_KRONECKER_H
#define TC_KRONECKER_H

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>

#include "edgelist.h"
#include "error.h"

/* Largest scale: vertex labels stay below 2^62, which the permutation's
 * Feistel network (scale + 1 bits for odd scales) needs to fit in 64 bits.
 * The edge count edgefactor * 2^scale must also stay below 2^64. */
#define TC_KRONECKER_MAX_SCALE 62

/* Graph500 initiator and edge factor. */
#define TC_KRONECKER_A 0.57
#define TC_KRONECKER_B 0.19
#define TC_KRONECKER_C 0.19
#define TC_KRONECKER_EDGEFACTOR 16

typedef struct tc_kronecker {
    unsigned scale;       /* log2 of the vertex count, 1 .. TC_KRONECKER_MAX_SCALE */
    uint64_t edgefactor;  /* edges per vertex */
    uint64_t seed;
    double a, b, c;       /* initiator; d = 1 - a - b - c */
} tc_kronecker;

/* Set K to the Graph500 parameters (initiator 0.57/0.19/0.19/0.05) with
 * the given scale, edge factor and seed. */
void tc_kronecker_init(tc_kronecker *k, unsigned scale, uint64_t edgefactor, uint64_t seed);

/* Check K: scale in range, edge count below 2^64, initiator probabilities
 * in [0, 1] summing to at most 1. Returns TC_OK or TC_ERR_INPUT naming the
 * value and its limit. Local. */
int tc_kronecker_check(const tc_kronecker *k, tc_error *err);

static inline uint64_t tc_kronecker_vertex_count(const tc_kronecker *k)
{
    return (uint64_t)1 << k->scale;
}

static inline uint64_t tc_kronecker_edge_count(const tc_kronecker *k)
{
    return k->edgefactor << k->scale;
}

/* The permuted label of vertex X < 2^scale (a bijection keyed by seed). */
uint64_t tc_kronecker_permute(const tc_kronecker *k, uint64_t x);

/* Edge E before the label permutation: the bits chosen by the quadrant
 * draws alone. For tests of the initiator's statistics. */
void tc_kronecker_edge_unpermuted(const tc_kronecker *k, uint64_t e, uint64_t *u, uint64_t *v);

/* Edges FIRST .. FIRST + COUNT - 1 into U and V (COUNT entries each). K
 * must pass tc_kronecker_check. Local. */
void tc_kronecker_edges(const tc_kronecker *k, uint64_t first, uint64_t count, uint64_t *u,
                        uint64_t *v);

/* Generate this rank's block of the edge list: edges
 * [M * rank / nranks, M * (rank + 1) / nranks) of the M edges. OUT is
 * filled as an undirected edge list (symmetric); free with
 * tc_edgelist_free. Collective; ranks agree on failure (TC_ERR_INPUT for
 * invalid parameters, TC_ERR_RUNTIME when memory runs out). */
int tc_kronecker_generate(const tc_kronecker *k, MPI_Comm comm, tc_edgelist *out,
                          tc_error *err);

#endif
