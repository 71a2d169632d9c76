/* kronecker.c - the Graph500 Kronecker edge generator; see kronecker.h. */
#include "kronecker.h"

#include <stdlib.h>

#include "rng.h"

/* tc_rng streams: quadrant draws ("KRON") and permutation round keys
 * ("PERM"). */
#define KRONECKER_STREAM_EDGES 0x4b524f4eu
#define KRONECKER_STREAM_PERMUTE 0x5045524du

/* Feistel rounds of the label permutation: four rounds of a good round
 * function give a pseudorandom permutation (Luby and Rackoff). */
#define KRONECKER_ROUNDS 4

/* Everything derived from the parameters once per call. */
typedef struct kronecker_plan {
    unsigned scale;
    uint64_t seed;
    uint64_t t_a, t_ab, t_abc;  /* cumulative quadrant thresholds, units of 2^-32 */
    unsigned half_bits;         /* Feistel half width: ceil(scale / 2) */
    uint64_t half_mask;
    uint64_t round_keys[KRONECKER_ROUNDS];
} kronecker_plan;

static uint64_t threshold(double p)
{
    double t = p * 4294967296.0;
    if (t <= 0)
        return 0;
    if (t >= 4294967296.0)
        return (uint64_t)1 << 32;
    return (uint64_t)(t + 0.5);
}

static void plan_init(kronecker_plan *plan, const tc_kronecker *k)
{
    plan->scale = k->scale;
    plan->seed = k->seed;
    plan->t_a = threshold(k->a);
    plan->t_ab = threshold(k->a + k->b);
    plan->t_abc = threshold(k->a + k->b + k->c);
    plan->half_bits = (k->scale + 1) / 2;
    plan->half_mask = ((uint64_t)1 << plan->half_bits) - 1;
    for (unsigned r = 0; r < KRONECKER_ROUNDS; r++)
        plan->round_keys[r] = tc_rng_u64(k->seed, KRONECKER_STREAM_PERMUTE, 0, r);
}

/* The 64-bit finalizer of MurmurHash3 (Appleby): a fast bijective mix in
 * which every input bit affects every output bit. */
static inline uint64_t mix64(uint64_t z)
{
    z ^= z >> 33;
    z *= 0xff51afd7ed558ccdULL;
    z ^= z >> 33;
    z *= 0xc4ceb9fe1a85ec53ULL;
    z ^= z >> 33;
    return z;
}

/* One pass of the balanced Feistel network over 2 * half_bits bits. */
static inline uint64_t feistel(const kronecker_plan *plan, uint64_t x)
{
    uint64_t left = x >> plan->half_bits, right = x & plan->half_mask;
    for (unsigned r = 0; r < KRONECKER_ROUNDS; r++) {
        uint64_t mixed = left ^ (mix64(right ^ plan->round_keys[r]) & plan->half_mask);
        left = right;
        right = mixed;
    }
    return (left << plan->half_bits) | right;
}

/* For odd scales the network covers one bit more than the labels. Cycle
 * walking (apply it again until the value is in range) restricts it to a
 * bijection of [0, 2^scale), in fewer than two passes on average. */
static inline uint64_t plan_permute(const kronecker_plan *plan, uint64_t x)
{
    uint64_t limit = (uint64_t)1 << plan->scale;
    do {
        x = feistel(plan, x);
    } while (x >= limit);
    return x;
}

static inline void plan_edge(const kronecker_plan *plan, uint64_t e, uint64_t *u, uint64_t *v)
{
    uint64_t a = 0, b = 0;
    uint32_t draws[4];
    for (unsigned level = 0; level < plan->scale; level++) {
        if (level % 4 == 0)
            tc_rng_u32x4(plan->seed, KRONECKER_STREAM_EDGES, e, level / 4, draws);
        uint64_t r = draws[level % 4];
        /* Quadrants a (0,0), b (0,1), c (1,0), d (1,1) of (row, column),
         * without branches: the draws are random, so a branch would be
         * mispredicted about half of the time. */
        uint64_t above_a = r >= plan->t_a, above_ab = r >= plan->t_ab;
        uint64_t above_abc = r >= plan->t_abc;
        uint64_t row = above_ab;
        uint64_t column = above_a ^ above_ab ^ above_abc;
        a |= row << level;
        b |= column << level;
    }
    *u = a;
    *v = b;
}

void tc_kronecker_init(tc_kronecker *k, unsigned scale, uint64_t edgefactor, uint64_t seed)
{
    k->scale = scale;
    k->edgefactor = edgefactor;
    k->seed = seed;
    k->a = TC_KRONECKER_A;
    k->b = TC_KRONECKER_B;
    k->c = TC_KRONECKER_C;
}

int tc_kronecker_check(const tc_kronecker *k, tc_error *err)
{
    if (k->scale < 1 || k->scale > TC_KRONECKER_MAX_SCALE)
        return tc_error_input(err, NULL, 0, 0, "scale",
                              "scale %u is out of range: expected 1 to %d", k->scale,
                              TC_KRONECKER_MAX_SCALE);
    if (k->edgefactor < 1 || k->edgefactor > (UINT64_MAX >> k->scale))
        return tc_error_input(err, NULL, 0, 0, "edgefactor",
                              "edge factor %llu is out of range at scale %u: expected 1 to "
                              "%llu so that the edge count fits in 64 bits",
                              (unsigned long long)k->edgefactor, k->scale,
                              (unsigned long long)(UINT64_MAX >> k->scale));
    if (!(k->a >= 0 && k->b >= 0 && k->c >= 0 && k->a + k->b + k->c <= 1 + 1e-12))
        return tc_error_input(err, NULL, 0, 0, "initiator",
                              "invalid initiator %g/%g/%g: expected probabilities in [0, 1] "
                              "summing to at most 1",
                              k->a, k->b, k->c);
    return TC_OK;
}

uint64_t tc_kronecker_permute(const tc_kronecker *k, uint64_t x)
{
    kronecker_plan plan;
    plan_init(&plan, k);
    return plan_permute(&plan, x);
}

void tc_kronecker_edge_unpermuted(const tc_kronecker *k, uint64_t e, uint64_t *u, uint64_t *v)
{
    kronecker_plan plan;
    plan_init(&plan, k);
    plan_edge(&plan, e, u, v);
}

void tc_kronecker_edges(const tc_kronecker *k, uint64_t first, uint64_t count, uint64_t *u,
                        uint64_t *v)
{
    kronecker_plan plan;
    plan_init(&plan, k);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t a, b;
        plan_edge(&plan, first + i, &a, &b);
        u[i] = plan_permute(&plan, a);
        v[i] = plan_permute(&plan, b);
    }
}

int tc_kronecker_generate(const tc_kronecker *k, MPI_Comm comm, tc_edgelist *out,
                          tc_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    tc_edgelist_init(out);

    uint64_t first = 0, end = 0;
    if (tc_kronecker_check(k, err) == TC_OK) {
        uint64_t m = tc_kronecker_edge_count(k);
        first = (uint64_t)((unsigned __int128)m * (unsigned)rank / (unsigned)nranks);
        end = (uint64_t)((unsigned __int128)m * (unsigned)(rank + 1) / (unsigned)nranks);
        out->src = malloc((size_t)(end - first + 1) * sizeof(uint64_t));
        out->dst = malloc((size_t)(end - first + 1) * sizeof(uint64_t));
        if (!out->src || !out->dst)
            tc_error_runtime(err, "out of memory for %llu Kronecker edges",
                             (unsigned long long)(end - first));
    }
    if (tc_error_agree(err, comm) != TC_OK) {
        tc_edgelist_free(out);
        return err->code;
    }

    tc_kronecker_edges(k, first, end - first, out->src, out->dst);
    out->count = end - first;
    out->n_edges = tc_kronecker_edge_count(k);
    out->n_vertices = tc_kronecker_vertex_count(k);
    out->symmetric = true;
    return TC_OK;
}
