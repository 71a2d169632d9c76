/*
 * bfs.c - the 1D-partitioned graph and the direction-optimizing BFS kernel
 * declared in bfs.h.
 *
 * The kernel follows Beamer, Asanovic and Patterson, "Direction-Optimizing
 * Breadth-First Search" (SC 2012). A level runs top-down (frontier vertices
 * push to their out-neighbours) while the frontier has few out-edges. It
 * runs bottom-up (unvisited vertices look for a parent among their
 * in-neighbours) when it has many, with the switching heuristics of that
 * paper.
 *
 * Invariants, in addition to those of bfs.h:
 *  1. A vertex position is (owner rank << shift) | local index, a 32-bit
 *     number. Positions increase with global ids, so "smallest global id"
 *     and "smallest position" pick the same vertex. Every rank's slice of a
 *     position-indexed bitmap starts on a 64-bit word. A graph that needs
 *     2^32 - 1 positions or more is rejected when it is built.
 *  2. The kernel reads only its private adjacency (td_* for out-edges,
 *     bu_* for in-edges): positions, sorted ascending per vertex, without
 *     self-loops and without duplicates. With 8-byte offsets and 4-byte
 *     entries it is at most as large as the public 64-bit CSR it comes
 *     from, and about half of it when edges outnumber vertices, so a graph
 *     takes at most twice its CSR bytes. Searches never read the public
 *     arrays, so changing them after tc_graph_build changes no search.
 *  3. Public out_targets and in_sources are sorted ascending per vertex.
 *     When the in-edges of every vertex equal its out-edges on every rank
 *     (an undirected graph), in_offsets/in_sources alias out_offsets/
 *     out_targets and bu_* alias td_*.
 *  4. In a state, visited has one bit per owned vertex, set once and never
 *     cleared until reset. Between levels, unvisited_edges is the number
 *     of private in-edges of unvisited owned vertices and unvisited_count
 *     their number. Owned vertices without private in-edges are clear in
 *     has_in_edges, so bottom-up steps skip them.
 *  5. Between levels, next_bits and sent_bits are all zero.
 *  6. In one top-down level, rank s sends rank r at most one pair per
 *     vertex of r with an in-neighbour on s (sent_bits), so at most
 *     send_limit[r] pairs, and r receives at most recv_bound in all. With
 *     these bounds the receive buffer is allocated once, with the state,
 *     and a sender that would exceed one reports it through the count
 *     exchange, so a level needs no extra agreement.
 *
 * A level is one state transition, the same on every rank:
 *
 *    frontier list --tc_bfs_level--> [stats allreduce, direction chosen]
 *        top-down:  scan frontier out-edges, exchange (target, parent)
 *                   pairs with MPI_Alltoallv, keep the smallest parent
 *        bottom-up: allgather the frontier bitmap, each unvisited vertex
 *                   takes its first in-neighbour found in it
 *    --> next list (sorted)
 */
#include "bfs.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Direction switching thresholds of Beamer et al., which the GAP Benchmark
 * Suite uses too. A search goes bottom-up when the frontier's out-edges
 * exceed 1/ALPHA of the in-edges of unvisited vertices, and comes back
 * top-down when the frontier shrinks below 1/BETA of the vertices. */
#define BFS_ALPHA 15
#define BFS_BETA 18

/* Parent sentinel of the 32-bit parent array. */
#define BFS_POSITION_NONE UINT32_MAX

/* Reverse edges travel to their owners in rounds of at most this many
 * edges per rank, which bounds the send buffer and keeps MPI counts in int. */
#define BFS_EXCHANGE_ROUND ((uint64_t)1 << 24)

/* Size of an x86-64 transparent huge page. */
#define BFS_HUGE_PAGE ((size_t)2 << 20)

/* Bottom-up steps prefetch the in-list of the vertex this many ids ahead.
 * They read the lists in ascending order but only their first entries,
 * and the hardware prefetcher does not follow that stride. */
#define BFS_PREFETCH_AHEAD 128

/* The graph as built: the public struct first, so a tc_graph pointer from
 * tc_graph_build is also a bfs_graph pointer. */
typedef struct bfs_graph {
    tc_graph pub;

    unsigned shift;          /* invariant 1 */
    uint64_t n_positions;    /* nranks << shift */
    uint64_t words_per_rank; /* (1 << shift) / 64 */
    bool symmetric;          /* invariant 3 */

    uint64_t *td_offsets;    /* n_local + 1 */
    uint32_t *td_targets;
    uint64_t *bu_offsets;    /* NULL without reverse edges */
    uint32_t *bu_sources;
    uint64_t td_edges, bu_edges;
    uint64_t *has_in_edges;  /* bit per owned vertex: nonempty bu list; NULL without bu */

    /* Top-down exchange bounds (invariant 6), NULL without bu or on one
     * rank: send_limit[r] is the maximum number of pairs this rank sends
     * rank r in one level, recv_bound the maximum number it receives. */
    uint64_t *send_limit;
    uint64_t recv_bound;
} bfs_graph;

struct tc_bfs_state {
    const bfs_graph *g;
    bool record_parents;

    uint64_t n_words;          /* words of the owned-vertex bitmaps */
    uint64_t *visited;         /* invariant 4 */
    uint64_t *next_bits;       /* discovered during the current top-down level */
    uint32_t *parent;          /* positions, BFS_POSITION_NONE; NULL unless recorded */
    uint64_t *frontier_bits;   /* n_positions bits; NULL without reverse edges */
    uint64_t *sent_bits;       /* n_positions bits; NULL on one rank */

    uint64_t unvisited_edges, unvisited_count;
    bool bottom_up;
    uint64_t frontier_global, previous_frontier_global;

    /* Top-down exchange buffers, kept between levels. With RECV_RESERVED
     * the receive buffer has room for the graph's recv_bound pairs
     * (invariant 6). */
    uint64_t *pairs, *send, *recv;
    uint64_t pairs_capacity, recv_capacity;
    bool recv_reserved;
    int *send_counts, *send_displs, *recv_counts, *recv_displs;

    /* An out-of-range tc_bfs_mark_visited, reported by the next level. */
    uint64_t bad_mark;
    bool has_bad_mark;

    tc_bfs_stats stats;
};

/* ---- helpers ---------------------------------------------------------- */

static size_t huge_length(size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (bytes >= BFS_HUGE_PAGE)
        return (bytes + BFS_HUGE_PAGE - 1) & ~(BFS_HUGE_PAGE - 1);
    if (bytes == 0)
        bytes = 1;
    return (bytes + page - 1) & ~(page - 1);
}

/* Allocate BYTES of zeroed memory for a big array. Arrays of 2 MiB and
 * more are aligned to 2 MiB and marked MADV_HUGEPAGE, because transparent
 * huge pages may be madvise-only and the kernel's random accesses into
 * these arrays are TLB-bound. Free with huge_free(p, BYTES). */
static void *huge_alloc(size_t bytes)
{
    size_t length = huge_length(bytes);
    if (length < BFS_HUGE_PAGE) {
        void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }

    size_t padded = length + BFS_HUGE_PAGE;
    char *raw = mmap(NULL, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t)raw + BFS_HUGE_PAGE - 1) & ~(uintptr_t)(BFS_HUGE_PAGE - 1);
    char *aligned = (char *)start;
    if (aligned > raw)
        munmap(raw, (size_t)(aligned - raw));
    size_t tail = (size_t)(raw + padded - (aligned + length));
    if (tail)
        munmap(aligned + length, tail);
    madvise(aligned, length, MADV_HUGEPAGE);
    return aligned;
}

static void huge_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, huge_length(bytes));
}

static inline bool bit_get(const uint64_t *bits, uint64_t i)
{
    return (bits[i >> 6] >> (i & 63)) & 1;
}

static inline void bit_set(uint64_t *bits, uint64_t i)
{
    bits[i >> 6] |= (uint64_t)1 << (i & 63);
}

static inline void bit_clear(uint64_t *bits, uint64_t i)
{
    bits[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

static unsigned ceil_log2(uint64_t x)
{
    unsigned k = 0;
    while (k < 64 && ((uint64_t)1 << k) < x)
        k++;
    return k;
}

/* Owner rank of global id GID: binary search of OFFSETS (NRANKS + 1). */
static int owner_of(const uint64_t *offsets, int nranks, uint64_t gid)
{
    int lo = 0, hi = nranks - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (offsets[mid] <= gid)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static inline uint32_t position_of(const bfs_graph *g, uint64_t gid)
{
    int r = owner_of(g->pub.owner_offsets, g->pub.nranks, gid);
    return (uint32_t)(((uint64_t)r << g->shift) | (gid - g->pub.owner_offsets[r]));
}

static inline uint64_t gid_of(const bfs_graph *g, uint32_t position)
{
    uint64_t r = position >> g->shift;
    return g->pub.owner_offsets[r] + (position & (((uint64_t)1 << g->shift) - 1));
}

/* Sort the N packed words of *KEYS stably by their low BITS bits: LSD
 * radix sort with 11-bit digits, ping-ponging between *KEYS and *SPARE (both
 * N words). On return *KEYS points at the sorted words and *SPARE at the
 * other buffer. */
static void radix_sort_low(uint64_t **keys, uint64_t **spare, uint64_t n, unsigned bits)
{
    enum { DIGIT = 11, BUCKETS = 1 << DIGIT };
    uint64_t count[BUCKETS];
    for (unsigned shift = 0; shift < bits; shift += DIGIT) {
        uint64_t *from = *keys, *to = *spare;
        memset(count, 0, sizeof count);
        for (uint64_t i = 0; i < n; i++)
            count[(from[i] >> shift) & (BUCKETS - 1)]++;
        uint64_t at = 0;
        for (unsigned b = 0; b < BUCKETS; b++) {
            uint64_t c = count[b];
            count[b] = at;
            at += c;
        }
        for (uint64_t i = 0; i < n; i++)
            to[count[(from[i] >> shift) & (BUCKETS - 1)]++] = from[i];
        *keys = to;
        *spare = from;
    }
}

/* ---- graph construction ----------------------------------------------- */

/* Check the partition; fill g's shift and position sizes. Local. */
static int graph_check_partition(bfs_graph *g, const uint64_t *owner_offsets, tc_error *err)
{
    tc_graph *p = &g->pub;
    if (owner_offsets[0] != 0 || owner_offsets[p->nranks] != p->n_global)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "invalid partition: owner offsets run from %llu to %llu, "
                              "expected 0 to the vertex count %llu",
                              (unsigned long long)owner_offsets[0],
                              (unsigned long long)owner_offsets[p->nranks],
                              (unsigned long long)p->n_global);
    uint64_t max_local = 0;
    for (int r = 0; r < p->nranks; r++) {
        if (owner_offsets[r + 1] < owner_offsets[r])
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "invalid partition: owner offsets decrease at rank %d", r + 1);
        if (owner_offsets[r + 1] - owner_offsets[r] > max_local)
            max_local = owner_offsets[r + 1] - owner_offsets[r];
    }

    /* Positions are 32-bit with UINT32_MAX reserved (invariant 1). */
    g->shift = ceil_log2(max_local);
    if (g->shift < 6)
        g->shift = 6;
    if (g->shift >= 32 || ((uint64_t)p->nranks << g->shift) > UINT32_MAX)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "graph too large for the BFS kernel: %llu vertices over %d "
                              "ranks need %d x 2^%u vertex positions, more than its 32-bit "
                              "limit of 2^32 - 1; use more ranks or a smaller graph",
                              (unsigned long long)p->n_global, p->nranks, p->nranks, g->shift);
    g->n_positions = (uint64_t)p->nranks << g->shift;
    g->words_per_rank = ((uint64_t)1 << g->shift) / 64;
    return TC_OK;
}

static int edge_invalid(const tc_graph *p, uint64_t i, uint64_t src_local, uint64_t dst,
                        tc_error *err)
{
    if (src_local >= p->n_local)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "edge %llu: source local index %llu is not owned (rank %d owns "
                              "%llu vertices)",
                              (unsigned long long)i, (unsigned long long)src_local, p->rank,
                              (unsigned long long)p->n_local);
    return tc_error_input(err, NULL, 0, 0, NULL,
                          "edge %llu: target %llu is not below the vertex count %llu",
                          (unsigned long long)i, (unsigned long long)dst,
                          (unsigned long long)p->n_global);
}

/* Allocate the graph and check the partition. On failure *OUT is NULL or
 * a graph for tc_graph_free. Local. */
static int graph_create(MPI_Comm comm, uint64_t n_global, const uint64_t *owner_offsets,
                        uint64_t n_edges_local, bfs_graph **out, tc_error *err)
{
    int nranks = 1;
    MPI_Comm_size(comm, &nranks);
    bfs_graph *g = calloc(1, sizeof *g);
    uint64_t *offsets_copy = malloc(((size_t)nranks + 1) * sizeof(uint64_t));
    *out = g;
    if (!g || !offsets_copy) {
        free(g);
        free(offsets_copy);
        *out = NULL;
        return tc_error_runtime(err, "out of memory for the graph");
    }

    tc_graph *p = &g->pub;
    p->comm = comm;
    p->nranks = nranks;
    MPI_Comm_rank(comm, &p->rank);
    memcpy(offsets_copy, owner_offsets, ((size_t)nranks + 1) * sizeof(uint64_t));
    p->owner_offsets = offsets_copy;
    p->n_global = n_global;
    p->first = owner_offsets[p->rank];
    p->n_local = owner_offsets[p->rank + 1] >= p->first ? owner_offsets[p->rank + 1] - p->first
                                                        : 0;
    p->n_edges_local = n_edges_local;
    return graph_check_partition(g, owner_offsets, err);
}

/* Send every out-edge (u, v) to the owner of v as the packed pair
 * (v's local index << 32 | u's position), in rounds. *RECEIVED (huge_alloc,
 * *N_RECEIVED entries) gets the pairs of this rank's in-edges. Collective;
 * ranks agree on failure. */
static int graph_exchange_reverse(bfs_graph *g, uint64_t **received, uint64_t *n_received,
                                  tc_error *err)
{
    tc_graph *p = &g->pub;
    int nranks = p->nranks;
    uint64_t m = p->n_edges_local;
    uint64_t *send = NULL, *got = NULL, total = 0;
    uint64_t *dest_total = calloc((size_t)nranks, sizeof(uint64_t));
    uint64_t *from_total = calloc((size_t)nranks, sizeof(uint64_t));
    int *scount = calloc((size_t)nranks * 4, sizeof(int));
    int *sdispl = scount + nranks, *rcount = scount + 2 * nranks, *rdispl = scount + 3 * nranks;
    uint64_t *fill = calloc((size_t)nranks + 1, sizeof(uint64_t));
    uint64_t round = BFS_EXCHANGE_ROUND;
    if (round > (uint64_t)INT_MAX / (uint64_t)nranks)
        round = (uint64_t)INT_MAX / (uint64_t)nranks;
    send = malloc((size_t)(m < round ? m + 1 : round) * sizeof(uint64_t));
    if (!dest_total || !from_total || !scount || !fill || !send)
        tc_error_runtime(err, "out of memory for the reverse-edge exchange");
    if (tc_error_agree(err, p->comm) != TC_OK)
        goto done;

    /* Totals first, so the receive array is allocated once. */
    for (uint64_t u = 0; u < p->n_local; u++)
        for (uint64_t e = p->out_offsets[u]; e < p->out_offsets[u + 1]; e++)
            dest_total[owner_of(p->owner_offsets, nranks, p->out_targets[e])]++;
    MPI_Alltoall(dest_total, 1, MPI_UINT64_T, from_total, 1, MPI_UINT64_T, p->comm);
    for (int r = 0; r < nranks; r++)
        total += from_total[r];
    got = huge_alloc(total * sizeof(uint64_t));
    if (!got)
        tc_error_runtime(err, "out of memory for %llu in-edges", (unsigned long long)total);
    uint64_t rounds = (m + round - 1) / round, max_rounds = 0;
    MPI_Allreduce(&rounds, &max_rounds, 1, MPI_UINT64_T, MPI_MAX, p->comm);
    if (tc_error_agree(err, p->comm) != TC_OK)
        goto done;

    /* Pairs from rank r land after those of ranks < r; within a rank,
     * in round order. Order does not matter: csr_from_packed sorts. */
    uint64_t filled = 0, u = 0, e = 0;
    for (uint64_t k = 0; k < max_rounds; k++) {
        uint64_t done_edges = k * round < m ? k * round : m;
        uint64_t chunk = m - done_edges < round ? m - done_edges : round;
        memset(scount, 0, (size_t)nranks * sizeof(int));
        uint64_t u0 = u, e0 = e;
        for (uint64_t i = 0; i < chunk; i++, e++) {
            while (e >= p->out_offsets[u + 1])
                u++;
            scount[owner_of(p->owner_offsets, nranks, p->out_targets[e])]++;
        }
        sdispl[0] = 0;
        for (int r = 1; r < nranks; r++)
            sdispl[r] = sdispl[r - 1] + scount[r - 1];
        for (int r = 0; r < nranks; r++)
            fill[r] = (uint64_t)sdispl[r];
        uint64_t my_base = (uint64_t)p->rank << g->shift;
        for (uint64_t i = 0, uu = u0, ee = e0; i < chunk; i++, ee++) {
            while (ee >= p->out_offsets[uu + 1])
                uu++;
            uint64_t v = p->out_targets[ee];
            int r = owner_of(p->owner_offsets, nranks, v);
            send[fill[r]++] = ((v - p->owner_offsets[r]) << 32) | (my_base | uu);
        }

        MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, p->comm);
        rdispl[0] = 0;
        for (int r = 1; r < nranks; r++)
            rdispl[r] = rdispl[r - 1] + rcount[r - 1];
        MPI_Alltoallv(send, scount, sdispl, MPI_UINT64_T, got + filled, rcount, rdispl,
                      MPI_UINT64_T, p->comm);
        filled += (uint64_t)rdispl[nranks - 1] + (uint64_t)rcount[nranks - 1];
    }
    *received = got;
    *n_received = total;
    got = NULL;

done:
    huge_free(got, total * sizeof(uint64_t));
    free(send);
    free(dest_total);
    free(from_total);
    free(scount);
    free(fill);
    return err->code;
}

/* Conversion of the low half of a packed pair into a CSR value. */
enum csr_value { CSR_VALUE_GID, CSR_VALUE_POSITION_TO_GID };

/* Build a CSR over the owned vertices from the N packed pairs PAIRS, each
 * (local vertex << 32 | other end in its low LOW_BITS bits). A radix sort
 * by the other end, then a stable counting sort by vertex, leaves every
 * row sorted ascending. PAIRS stays the caller's, its words reordered. */
static int csr_from_packed(const bfs_graph *g, uint64_t n, uint64_t *pairs, unsigned low_bits,
                           enum csr_value value, uint64_t **offsets_out, uint64_t **values_out,
                           tc_error *err)
{
    uint64_t n_keys = g->pub.n_local;
    uint64_t *offsets = huge_alloc((n_keys + 1) * sizeof(uint64_t));
    uint64_t *values = huge_alloc(n * sizeof(uint64_t));
    if (!offsets || !values) {
        huge_free(offsets, (n_keys + 1) * sizeof(uint64_t));
        huge_free(values, n * sizeof(uint64_t));
        return tc_error_runtime(err, "out of memory for a CSR of %llu edges",
                                (unsigned long long)n);
    }

    /* VALUES is the radix sort's second buffer, so the sorted pairs must
     * end in the other one before the final scatter into VALUES. */
    uint64_t *sorted = pairs, *spare = values;
    radix_sort_low(&sorted, &spare, n, low_bits);
    if (sorted == values) {
        memcpy(spare, sorted, n * sizeof(uint64_t));
        sorted = spare;
    }

    for (uint64_t i = 0; i < n; i++)
        offsets[(sorted[i] >> 32) + 1]++;
    for (uint64_t k = 0; k < n_keys; k++)
        offsets[k + 1] += offsets[k];
    for (uint64_t i = 0; i < n; i++) {
        uint64_t low = sorted[i] & UINT32_MAX;
        values[offsets[sorted[i] >> 32]++] =
            value == CSR_VALUE_GID ? low : gid_of(g, (uint32_t)low);
    }
    for (uint64_t k = n_keys; k > 0; k--)
        offsets[k] = offsets[k - 1];
    offsets[0] = 0;

    *offsets_out = offsets;
    *values_out = values;
    return TC_OK;
}

/* Build the in-edges from the exchanged pairs, and alias them to the
 * out-edges when the graph is symmetric on every rank (invariant 3).
 * Collective. */
static int graph_build_reverse(bfs_graph *g, tc_error *err)
{
    tc_graph *p = &g->pub;
    uint64_t *pairs = NULL, n_pairs = 0;

    if (graph_exchange_reverse(g, &pairs, &n_pairs, err) != TC_OK)
        return err->code;
    csr_from_packed(g, n_pairs, pairs, ceil_log2(g->n_positions), CSR_VALUE_POSITION_TO_GID,
                    &p->in_offsets, &p->in_sources, err);
    huge_free(pairs, n_pairs * sizeof(uint64_t));
    if (tc_error_agree(err, p->comm) != TC_OK)
        return err->code;

    int same = n_pairs == p->n_edges_local &&
               memcmp(p->in_offsets, p->out_offsets, (p->n_local + 1) * sizeof(uint64_t)) == 0 &&
               memcmp(p->in_sources, p->out_targets, n_pairs * sizeof(uint64_t)) == 0;
    int all_same = 0;
    MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_LAND, p->comm);
    if (all_same) {
        huge_free(p->in_offsets, (p->n_local + 1) * sizeof(uint64_t));
        huge_free(p->in_sources, n_pairs * sizeof(uint64_t));
        p->in_offsets = p->out_offsets;
        p->in_sources = p->out_targets;
        g->symmetric = true;
    }
    return TC_OK;
}

/* The kernel's adjacency from a public CSR (invariant 2): positions,
 * without self-loops and duplicates. */
static int graph_build_private(const bfs_graph *g, const uint64_t *offsets, const uint64_t *ids,
                               uint64_t **offsets_out, uint32_t **ids_out, uint64_t *n_out,
                               tc_error *err)
{
    const tc_graph *p = &g->pub;
    uint64_t n_local = p->n_local;
    uint64_t *off = huge_alloc((n_local + 1) * sizeof(uint64_t));
    if (!off)
        return tc_error_runtime(err, "out of memory for the BFS adjacency offsets");

    for (uint64_t u = 0; u < n_local; u++) {
        uint64_t self = p->first + u, kept = 0;
        for (uint64_t e = offsets[u]; e < offsets[u + 1]; e++)
            if (ids[e] != self && (e == offsets[u] || ids[e] != ids[e - 1]))
                kept++;
        off[u + 1] = off[u] + kept;
    }

    uint64_t total = off[n_local];
    uint32_t *out = huge_alloc(total * sizeof(uint32_t));
    if (!out) {
        huge_free(off, (n_local + 1) * sizeof(uint64_t));
        return tc_error_runtime(err, "out of memory for %llu BFS adjacency entries",
                                (unsigned long long)total);
    }
    uint64_t k = 0;
    for (uint64_t u = 0; u < n_local; u++) {
        uint64_t self = p->first + u;
        for (uint64_t e = offsets[u]; e < offsets[u + 1]; e++)
            if (ids[e] != self && (e == offsets[u] || ids[e] != ids[e - 1]))
                out[k++] = position_of(g, ids[e]);
    }
    *offsets_out = off;
    *ids_out = out;
    *n_out = total;
    return TC_OK;
}

/* Count, for every rank r, the owned vertices with an in-neighbour on r
 * (invariant 6), then tell each rank its limit. Collective; ranks agree on
 * failure. */
static int graph_exchange_bounds(bfs_graph *g, tc_error *err)
{
    tc_graph *p = &g->pub;
    uint64_t *from_rank = calloc((size_t)p->nranks, sizeof(uint64_t));
    g->send_limit = calloc((size_t)p->nranks, sizeof(uint64_t));
    if (!from_rank || !g->send_limit)
        tc_error_runtime(err, "out of memory for the exchange bounds");
    if (tc_error_agree(err, p->comm) != TC_OK) {
        free(from_rank);
        return err->code;
    }

    for (uint64_t v = 0; v < p->n_local; v++) {
        uint64_t previous = UINT64_MAX;
        for (uint64_t e = g->bu_offsets[v]; e < g->bu_offsets[v + 1]; e++) {
            uint64_t r = g->bu_sources[e] >> g->shift;
            if (r != (uint64_t)p->rank && r != previous)
                from_rank[r]++;
            previous = r;
        }
    }
    for (int r = 0; r < p->nranks; r++)
        g->recv_bound += from_rank[r];
    MPI_Alltoall(from_rank, 1, MPI_UINT64_T, g->send_limit, 1, MPI_UINT64_T, p->comm);
    free(from_rank);
    return TC_OK;
}

/* Build the kernel's adjacency, the vertex mask, the exchange bounds and
 * the global edge count once the public CSR exists. Collective; ranks
 * agree on failure. */
static int graph_finish(bfs_graph *g, bool with_reverse, tc_error *err)
{
    tc_graph *p = &g->pub;
    graph_build_private(g, p->out_offsets, p->out_targets, &g->td_offsets, &g->td_targets,
                        &g->td_edges, err);
    if (err->code == TC_OK && with_reverse) {
        if (g->symmetric) {
            g->bu_offsets = g->td_offsets;
            g->bu_sources = g->td_targets;
            g->bu_edges = g->td_edges;
        } else {
            graph_build_private(g, p->in_offsets, p->in_sources, &g->bu_offsets, &g->bu_sources,
                                &g->bu_edges, err);
        }
    }
    if (err->code == TC_OK && g->bu_offsets) {
        g->has_in_edges = huge_alloc((p->n_local + 63) / 64 * sizeof(uint64_t));
        if (!g->has_in_edges)
            tc_error_runtime(err, "out of memory for the BFS vertex mask");
        for (uint64_t v = 0; g->has_in_edges && v < p->n_local; v++)
            if (g->bu_offsets[v + 1] > g->bu_offsets[v])
                bit_set(g->has_in_edges, v);
    }
    if (tc_error_agree(err, p->comm) != TC_OK)
        return err->code;

    /* Every rank has bu lists here, or none has: WITH_REVERSE is the
     * same on every rank. */
    if (g->bu_offsets && p->nranks > 1 && graph_exchange_bounds(g, err) != TC_OK)
        return err->code;
    MPI_Allreduce(&p->n_edges_local, &p->n_edges_global, 1, MPI_UINT64_T, MPI_SUM, p->comm);
    return TC_OK;
}

int tc_graph_build(MPI_Comm comm, uint64_t n_global, const uint64_t *owner_offsets,
                   uint64_t n_edges_local, const uint64_t *src_local, const uint64_t *dst,
                   bool with_reverse, tc_graph **out, tc_error *err)
{
    *out = NULL;
    bfs_graph *g = NULL;
    uint64_t *packed = NULL;
    if (graph_create(comm, n_global, owner_offsets, n_edges_local, &g, err) == TC_OK) {
        for (uint64_t i = 0; i < n_edges_local; i++)
            if (src_local[i] >= g->pub.n_local || dst[i] >= n_global) {
                edge_invalid(&g->pub, i, src_local[i], dst[i], err);
                break;
            }
    }
    if (tc_error_agree(err, comm) != TC_OK)
        goto fail;

    /* Positions fit in 32 bits (graph_check_partition), so do ids. */
    tc_graph *p = &g->pub;
    packed = huge_alloc(n_edges_local * sizeof(uint64_t));
    if (!packed) {
        tc_error_runtime(err, "out of memory for %llu edges", (unsigned long long)n_edges_local);
    } else {
        for (uint64_t i = 0; i < n_edges_local; i++)
            packed[i] = (src_local[i] << 32) | dst[i];
        csr_from_packed(g, n_edges_local, packed, ceil_log2(n_global), CSR_VALUE_GID,
                        &p->out_offsets, &p->out_targets, err);
    }
    huge_free(packed, n_edges_local * sizeof(uint64_t));
    if (tc_error_agree(err, comm) != TC_OK)
        goto fail;
    if (with_reverse && graph_build_reverse(g, err) != TC_OK)
        goto fail;
    if (graph_finish(g, with_reverse, err) != TC_OK)
        goto fail;
    *out = p;
    return TC_OK;

fail:
    tc_graph_free(g ? &g->pub : NULL);
    return err->code;
}

/* The 64-bit finalizer of MurmurHash3 (Appleby), a bijective mix. */
static inline uint64_t mix64(uint64_t z)
{
    z ^= z >> 33;
    z *= 0xff51afd7ed558ccdULL;
    z ^= z >> 33;
    z *= 0xc4ceb9fe1a85ec53ULL;
    z ^= z >> 33;
    return z;
}

/* Whether the multiset of edges is symmetric, from sums of two keyed hashes
 * of every edge and of every reversed edge. The sums are equal for a
 * symmetric multiset, and equal by a chance near 2^-128 for any other.
 * PACKED contains (local source << 32 | target) words. Collective. */
static bool graph_edges_symmetric(const bfs_graph *g, const uint64_t *packed, uint64_t n)
{
    const uint64_t k1 = 0x243f6a8885a308d3ULL, k2 = 0x13198a2e03707344ULL;
    uint64_t sums[4] = { 0, 0, 0, 0 }, total[4];
    for (uint64_t i = 0; i < n; i++) {
        uint64_t u = g->pub.first + (packed[i] >> 32), v = packed[i] & UINT32_MAX;
        uint64_t forward = (u << 32) | v, backward = (v << 32) | u;
        sums[0] += mix64(forward ^ k1);
        sums[1] += mix64(forward ^ k2);
        sums[2] += mix64(backward ^ k1);
        sums[3] += mix64(backward ^ k2);
    }
    MPI_Allreduce(sums, total, 4, MPI_UINT64_T, MPI_SUM, g->pub.comm);
    return total[0] == total[2] && total[1] == total[3];
}

int tc_graph_build_undirected(MPI_Comm comm, uint64_t n_global, const uint64_t *owner_offsets,
                              uint64_t n_edges_local, uint64_t *packed, tc_graph **out,
                              tc_error *err)
{
    *out = NULL;
    bfs_graph *g = NULL;
    if (graph_create(comm, n_global, owner_offsets, n_edges_local, &g, err) == TC_OK) {
        for (uint64_t i = 0; i < n_edges_local; i++)
            if ((packed[i] >> 32) >= g->pub.n_local || (packed[i] & UINT32_MAX) >= n_global) {
                edge_invalid(&g->pub, i, packed[i] >> 32, packed[i] & UINT32_MAX, err);
                break;
            }
    }
    if (tc_error_agree(err, comm) != TC_OK)
        goto fail;
    if (!graph_edges_symmetric(g, packed, n_edges_local)) {
        tc_error_input(err, NULL, 0, 0, NULL,
                       "the edges are not symmetric: some edge u->v has no matching v->u");
        goto fail;
    }

    tc_graph *p = &g->pub;
    csr_from_packed(g, n_edges_local, packed, ceil_log2(n_global), CSR_VALUE_GID,
                    &p->out_offsets, &p->out_targets, err);
    free(packed);
    packed = NULL;
    if (tc_error_agree(err, comm) != TC_OK)
        goto fail;
    p->in_offsets = p->out_offsets;
    p->in_sources = p->out_targets;
    g->symmetric = true;
    if (graph_finish(g, true, err) != TC_OK)
        goto fail;
    *out = p;
    return TC_OK;

fail:
    free(packed);
    tc_graph_free(g ? &g->pub : NULL);
    return err->code;
}

void tc_graph_free(tc_graph *pub)
{
    if (!pub)
        return;
    bfs_graph *g = (bfs_graph *)pub;
    size_t offsets_bytes = (pub->n_local + 1) * sizeof(uint64_t);

    if (g->bu_offsets != g->td_offsets) {
        huge_free(g->bu_offsets, offsets_bytes);
        huge_free(g->bu_sources, g->bu_edges * sizeof(uint32_t));
    }
    huge_free(g->td_offsets, offsets_bytes);
    huge_free(g->td_targets, g->td_edges * sizeof(uint32_t));
    huge_free(g->has_in_edges, (pub->n_local + 63) / 64 * sizeof(uint64_t));
    free(g->send_limit);
    if (pub->in_offsets != pub->out_offsets) {
        uint64_t n_in = pub->in_offsets ? pub->in_offsets[pub->n_local] : 0;
        huge_free(pub->in_sources, n_in * sizeof(uint64_t));
        huge_free(pub->in_offsets, offsets_bytes);
    }
    huge_free(pub->out_targets, pub->n_edges_local * sizeof(uint64_t));
    huge_free(pub->out_offsets, offsets_bytes);
    free(pub->owner_offsets);
    free(g);
}

size_t tc_graph_bytes(const tc_graph *pub)
{
    const bfs_graph *g = (const bfs_graph *)pub;
    size_t offsets_bytes = (pub->n_local + 1) * sizeof(uint64_t);
    size_t bytes = sizeof *g + ((size_t)pub->nranks + 1) * sizeof(uint64_t);

    bytes += offsets_bytes + pub->n_edges_local * sizeof(uint64_t);
    if (pub->in_offsets && pub->in_offsets != pub->out_offsets)
        bytes += offsets_bytes + pub->in_offsets[pub->n_local] * sizeof(uint64_t);
    bytes += offsets_bytes + g->td_edges * sizeof(uint32_t);
    if (g->bu_offsets && g->bu_offsets != g->td_offsets)
        bytes += offsets_bytes + g->bu_edges * sizeof(uint32_t);
    if (g->has_in_edges)
        bytes += (pub->n_local + 63) / 64 * sizeof(uint64_t);
    if (g->send_limit)
        bytes += (size_t)pub->nranks * sizeof(uint64_t);
    return bytes;
}

/* ---- search state ----------------------------------------------------- */

static inline uint64_t bu_degree(const bfs_graph *g, uint64_t v)
{
    return g->bu_offsets ? g->bu_offsets[v + 1] - g->bu_offsets[v] : 0;
}

int tc_bfs_state_create(const tc_graph *pub, bool record_parents, tc_bfs_state **out,
                        tc_error *err)
{
    const bfs_graph *g = (const bfs_graph *)pub;
    *out = NULL;
    tc_bfs_state *s = calloc(1, sizeof *s);
    if (!s)
        return tc_error_runtime(err, "out of memory for the BFS state");

    s->g = g;
    s->record_parents = record_parents;
    s->n_words = (pub->n_local + 63) / 64;
    size_t position_words = g->n_positions / 64;
    s->visited = huge_alloc(s->n_words * sizeof(uint64_t));
    s->next_bits = huge_alloc(s->n_words * sizeof(uint64_t));
    if (record_parents)
        s->parent = huge_alloc(pub->n_local * sizeof(uint32_t));
    if (g->bu_offsets)
        s->frontier_bits = huge_alloc(position_words * sizeof(uint64_t));
    if (pub->nranks > 1)
        s->sent_bits = huge_alloc(position_words * sizeof(uint64_t));
    s->send_counts = calloc((size_t)pub->nranks * 4, sizeof(int));
    if (g->send_limit && g->recv_bound <= (uint64_t)INT_MAX) {
        s->recv = malloc((size_t)(g->recv_bound + 1) * sizeof(uint64_t));
        s->recv_capacity = g->recv_bound;
        s->recv_reserved = s->recv != NULL;
    }

    if (!s->visited || !s->next_bits || (record_parents && !s->parent) ||
        (g->bu_offsets && !s->frontier_bits) || (pub->nranks > 1 && !s->sent_bits) ||
        !s->send_counts || (g->send_limit && g->recv_bound <= (uint64_t)INT_MAX && !s->recv)) {
        tc_bfs_state_free(s);
        return tc_error_runtime(err, "out of memory for the BFS state of %llu vertices",
                                (unsigned long long)pub->n_local);
    }
    s->send_displs = s->send_counts + pub->nranks;
    s->recv_counts = s->send_counts + 2 * pub->nranks;
    s->recv_displs = s->send_counts + 3 * pub->nranks;
    tc_bfs_state_reset(s);
    *out = s;
    return TC_OK;
}

void tc_bfs_state_reset(tc_bfs_state *s)
{
    const bfs_graph *g = s->g;
    memset(s->visited, 0, s->n_words * sizeof(uint64_t));
    if (s->parent)
        memset(s->parent, 0xff, g->pub.n_local * sizeof(uint32_t));
    s->unvisited_edges = g->bu_edges;
    s->unvisited_count = g->pub.n_local;
    s->bottom_up = false;
    s->frontier_global = 0;
    s->previous_frontier_global = 0;
    s->has_bad_mark = false;
    memset(&s->stats, 0, sizeof s->stats);
}

void tc_bfs_state_free(tc_bfs_state *s)
{
    if (!s)
        return;
    const bfs_graph *g = s->g;
    size_t position_words = g->n_positions / 64;
    huge_free(s->visited, s->n_words * sizeof(uint64_t));
    huge_free(s->next_bits, s->n_words * sizeof(uint64_t));
    huge_free(s->parent, g->pub.n_local * sizeof(uint32_t));
    huge_free(s->frontier_bits, position_words * sizeof(uint64_t));
    huge_free(s->sent_bits, position_words * sizeof(uint64_t));
    free(s->pairs);
    free(s->send);
    free(s->recv);
    free(s->send_counts);
    free(s);
}

size_t tc_bfs_state_bytes(const tc_bfs_state *s)
{
    const bfs_graph *g = s->g;
    size_t position_bytes = g->n_positions / 8;
    size_t bytes = sizeof *s + 2 * s->n_words * sizeof(uint64_t);
    if (s->parent)
        bytes += g->pub.n_local * sizeof(uint32_t);
    if (s->frontier_bits)
        bytes += position_bytes;
    if (s->sent_bits)
        bytes += position_bytes;
    bytes += (2 * s->pairs_capacity + s->recv_capacity) * sizeof(uint64_t);
    return bytes + (size_t)g->pub.nranks * 4 * sizeof(int);
}

static inline void state_visit(tc_bfs_state *s, uint64_t v)
{
    bit_set(s->visited, v);
    s->unvisited_edges -= bu_degree(s->g, v);
    s->unvisited_count--;
}

void tc_bfs_mark_visited(tc_bfs_state *s, uint64_t local)
{
    if (local >= s->g->pub.n_local) {
        if (!s->has_bad_mark) {
            s->has_bad_mark = true;
            s->bad_mark = local;
        }
        return;
    }
    if (!bit_get(s->visited, local))
        state_visit(s, local);
}

bool tc_bfs_is_visited(const tc_bfs_state *s, uint64_t local)
{
    return local < s->g->pub.n_local && bit_get(s->visited, local);
}

uint64_t tc_bfs_parent(const tc_bfs_state *s, uint64_t local)
{
    if (!s->parent || local >= s->g->pub.n_local || s->parent[local] == BFS_POSITION_NONE)
        return TC_BFS_NO_PARENT;
    return gid_of(s->g, s->parent[local]);
}

void tc_bfs_get_stats(const tc_bfs_state *s, tc_bfs_stats *out)
{
    *out = s->stats;
}

uint64_t tc_bfs_frontier_global(const tc_bfs_state *s)
{
    return s->frontier_global;
}

/* ---- one level -------------------------------------------------------- */

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Discover owned vertex V from the vertex at position FROM. A vertex first
 * found earlier in this level keeps the smaller parent (bfs.h invariant 4);
 * one visited before this level is left alone. */
static inline void discover(tc_bfs_state *s, uint64_t v, uint32_t from, uint64_t *next,
                            uint64_t *n_next)
{
    if (!bit_get(s->visited, v)) {
        bit_set(s->visited, v);
        s->unvisited_count--;
        bit_set(s->next_bits, v);
        if (s->parent)
            s->parent[v] = from;
        next[(*n_next)++] = v;
    } else if (s->parent && from < s->parent[v] && bit_get(s->next_bits, v)) {
        s->parent[v] = from;
    }
}

/* Turn the discoveries of a top-down level into a sorted list, clear
 * next_bits (invariant 5) and take their in-edges off unvisited_edges
 * (invariant 4). Doing the last in ascending order, not in discovery
 * order, makes the degree look-ups walk the offsets forward. The list is
 * sorted when short, else rebuilt from the bitmap in one pass. */
static void top_down_finish(tc_bfs_state *s, uint64_t *next, uint64_t n_next)
{
    if (n_next * 16 < s->n_words) {
        qsort(next, n_next, sizeof(uint64_t), compare_u64);
        for (uint64_t k = 0; k < n_next; k++)
            bit_clear(s->next_bits, next[k]);
    } else {
        uint64_t k = 0;
        for (uint64_t w = 0; w < s->n_words; w++) {
            uint64_t word = s->next_bits[w];
            while (word) {
                next[k++] = w * 64 + (uint64_t)__builtin_ctzll(word);
                word &= word - 1;
            }
            s->next_bits[w] = 0;
        }
    }
    uint64_t edges = 0;
    for (uint64_t k = 0; k < n_next; k++)
        edges += bu_degree(s->g, next[k]);
    s->unvisited_edges -= edges;
}

/* Top-down step. Owned targets are discovered directly. Each remote target
 * is sent once per level to its owner, with the first local parent met,
 * which is the smallest because the frontier is scanned in ascending
 * order. Collective. */
static int top_down_step(tc_bfs_state *s, const uint64_t *frontier, uint64_t n_frontier,
                         uint64_t m_frontier, uint64_t *next, uint64_t *n_next, tc_error *err)
{
    const bfs_graph *g = s->g;
    const tc_graph *p = &g->pub;
    int nranks = p->nranks;
    uint64_t my_base = (uint64_t)p->rank << g->shift;
    unsigned shift = g->shift;
    uint64_t examined = 0, n_pairs = 0;
    double t0 = MPI_Wtime();
    int failed = 0;

    /* At most one pair per remote target and per frontier edge. */
    uint64_t need = m_frontier < g->n_positions ? m_frontier : g->n_positions;
    if (nranks > 1 && need > s->pairs_capacity) {
        uint64_t *pairs = malloc((size_t)need * sizeof(uint64_t));
        uint64_t *send = malloc((size_t)need * sizeof(uint64_t));
        if (pairs && send) {
            free(s->pairs);
            free(s->send);
            s->pairs = pairs;
            s->send = send;
            s->pairs_capacity = need;
        } else {
            free(pairs);
            free(send);
            failed = 1;
        }
    }

    for (uint64_t i = 0; i < n_frontier && !failed; i++) {
        uint64_t u = frontier[i];
        uint32_t from = (uint32_t)(my_base | u);
        uint64_t begin = g->td_offsets[u], end = g->td_offsets[u + 1];
        examined += end - begin;
        for (uint64_t e = begin; e < end; e++) {
            uint32_t t = g->td_targets[e];
            if ((t >> shift) == (uint32_t)p->rank) {
                discover(s, t & (((uint64_t)1 << shift) - 1), from, next, n_next);
            } else if (!bit_get(s->sent_bits, t)) {
                bit_set(s->sent_bits, t);
                s->pairs[n_pairs++] = ((uint64_t)t << 32) | from;
            }
        }
    }
    s->stats.edges_examined += examined;
    if (nranks == 1) {
        s->stats.seconds_compute += MPI_Wtime() - t0;
        return TC_OK;
    }

    /* Bucket the pairs by owner and clear sent_bits (invariant 5). */
    memset(s->send_counts, 0, (size_t)nranks * sizeof(int));
    for (uint64_t k = 0; k < n_pairs; k++)
        s->send_counts[s->pairs[k] >> (32 + shift)]++;
    s->send_displs[0] = 0;
    for (int r = 1; r < nranks; r++)
        s->send_displs[r] = s->send_displs[r - 1] + s->send_counts[r - 1];
    for (uint64_t k = 0; k < n_pairs; k++) {
        uint64_t pair = s->pairs[k];
        int r = (int)(pair >> (32 + shift));
        s->send[s->send_displs[r]++] = pair;
        bit_clear(s->sent_bits, pair >> 32);
    }
    for (int r = 0; r < nranks; r++) {
        s->send_displs[r] -= s->send_counts[r];
        if (g->send_limit && (uint64_t)s->send_counts[r] > g->send_limit[r])
            failed = 2;
    }

    /* A failed rank sends -1 counts, so every rank learns of it from the
     * count exchange itself (invariant 6). */
    if (failed)
        for (int r = 0; r < nranks; r++)
            s->send_counts[r] = -1;
    double t1 = MPI_Wtime();

    MPI_Alltoall(s->send_counts, 1, MPI_INT, s->recv_counts, 1, MPI_INT, p->comm);
    uint64_t n_recv = 0;
    bool any_failed = false;
    for (int r = 0; r < nranks; r++) {
        s->recv_displs[r] = (int)n_recv;
        if (s->recv_counts[r] < 0)
            any_failed = true;
        else
            n_recv += (uint64_t)s->recv_counts[r];
    }

    /* Without bounds the receive buffer grows on demand, which takes one
     * more agreement. */
    if (!s->recv_reserved) {
        int grow_failed = any_failed;
        if (!any_failed && n_recv > (uint64_t)INT_MAX) {
            grow_failed = failed = 3;
        } else if (!any_failed && n_recv > s->recv_capacity) {
            uint64_t *recv = malloc((size_t)n_recv * sizeof(uint64_t));
            if (recv) {
                free(s->recv);
                s->recv = recv;
                s->recv_capacity = n_recv;
            } else {
                grow_failed = failed = 1;
            }
        }
        int grow_any = 0;
        MPI_Allreduce(&grow_failed, &grow_any, 1, MPI_INT, MPI_MAX, p->comm);
        any_failed = grow_any != 0;
    }
    if (any_failed) {
        if (failed == 1)
            tc_error_runtime(err, "out of memory for the top-down exchange");
        else if (failed == 2)
            tc_error_runtime(err, "top-down exchange exceeds its bound to some rank: the "
                                  "graph's in-edges do not match its out-edges");
        else if (failed == 3)
            tc_error_runtime(err, "top-down exchange of %llu pairs exceeds MPI int counts",
                             (unsigned long long)n_recv);
        return tc_error_agree(err, p->comm);
    }
    MPI_Alltoallv(s->send, s->send_counts, s->send_displs, MPI_UINT64_T, s->recv,
                  s->recv_counts, s->recv_displs, MPI_UINT64_T, p->comm);
    double t4 = MPI_Wtime();

    for (uint64_t k = 0; k < n_recv; k++) {
        uint64_t pair = s->recv[k];
        uint64_t v = (pair >> 32) & (((uint64_t)1 << shift) - 1);
        discover(s, v, (uint32_t)pair, next, n_next);
    }
    double t5 = MPI_Wtime();
    s->stats.seconds_compute += (t1 - t0) + (t5 - t4);
    s->stats.seconds_communicate += t4 - t1;
    return TC_OK;
}

/* Bottom-up step. Every unvisited owned vertex scans its in-neighbours in
 * ascending order and takes the first one in the frontier, so the smallest.
 * Vertices come out in ascending order. Collective. */
static void bottom_up_step(tc_bfs_state *s, const uint64_t *frontier, uint64_t n_frontier,
                           uint64_t *next, uint64_t *n_next)
{
    const bfs_graph *g = s->g;
    const tc_graph *p = &g->pub;
    double t0 = MPI_Wtime();

    uint64_t *mine = s->frontier_bits + (uint64_t)p->rank * g->words_per_rank;
    memset(mine, 0, g->words_per_rank * sizeof(uint64_t));
    for (uint64_t i = 0; i < n_frontier; i++)
        bit_set(mine, frontier[i]);
    double t1 = MPI_Wtime();
    if (p->nranks > 1)
        MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, s->frontier_bits,
                      (int)g->words_per_rank, MPI_UINT64_T, p->comm);
    double t2 = MPI_Wtime();

    const uint64_t *front = s->frontier_bits;
    const uint64_t *offsets = g->bu_offsets;
    const uint32_t *sources = g->bu_sources;
    uint32_t *parent = s->parent;
    uint64_t examined = 0, found = 0, found_edges = 0, n = 0;
    uint64_t n_local = p->n_local;
    const uint64_t *candidates = g->has_in_edges;
    for (uint64_t w = 0; w < s->n_words; w++) {
        uint64_t unvisited = ~s->visited[w] & candidates[w];
        uint64_t hit = 0;
        while (unvisited) {
            uint64_t v = w * 64 + (uint64_t)__builtin_ctzll(unvisited);
            unvisited &= unvisited - 1;
            uint64_t begin = offsets[v], end = offsets[v + 1];
            if (v + BFS_PREFETCH_AHEAD < n_local)
                __builtin_prefetch(sources + offsets[v + BFS_PREFETCH_AHEAD]);
            for (uint64_t e = begin; e < end; e++) {
                uint32_t u = sources[e];
                if ((front[u >> 6] >> (u & 63)) & 1) {
                    hit |= (uint64_t)1 << (v & 63);
                    if (parent)
                        parent[v] = u;
                    next[n++] = v;
                    examined += e - begin + 1;
                    found_edges += end - begin;
                    goto next_vertex;
                }
            }
            examined += end - begin;
        next_vertex:;
        }
        if (hit) {
            s->visited[w] |= hit;
            found += (uint64_t)__builtin_popcountll(hit);
        }
    }
    s->unvisited_edges -= found_edges;
    s->unvisited_count -= found;
    s->stats.edges_examined += examined;
    *n_next = n;
    s->stats.seconds_compute += (t1 - t0) + (MPI_Wtime() - t2);
    s->stats.seconds_communicate += t2 - t1;
}

/* Copy of FRONTIER sorted and without repeats, or NULL when out of memory. */
static uint64_t *sorted_unique_copy(const uint64_t *frontier, uint64_t *n)
{
    uint64_t *copy = malloc((*n + 1) * sizeof(uint64_t));
    if (!copy)
        return NULL;
    memcpy(copy, frontier, *n * sizeof(uint64_t));
    qsort(copy, *n, sizeof(uint64_t), compare_u64);
    uint64_t k = 0;
    for (uint64_t i = 0; i < *n; i++)
        if (k == 0 || copy[k - 1] != copy[i])
            copy[k++] = copy[i];
    *n = k;
    return copy;
}

int tc_bfs_level(tc_bfs_state *s, const uint64_t *frontier, uint64_t n_frontier,
                 uint64_t **next, uint64_t *n_next, tc_error *err)
{
    const bfs_graph *g = s->g;
    const tc_graph *p = &g->pub;
    double t0 = MPI_Wtime();
    *next = NULL;
    *n_next = 0;

    /* Local checks, the frontier's out-edges, and the result list, whose
     * length is bounded by the unvisited owned vertices. */
    enum { BAD_NONE, BAD_VERTEX, BAD_MARK, BAD_MEMORY } bad = BAD_NONE;
    uint64_t bad_vertex = 0, m_frontier = 0;
    bool sorted = true;
    for (uint64_t i = 0; i < n_frontier; i++) {
        uint64_t u = frontier[i];
        if (u >= p->n_local || !bit_get(s->visited, u)) {
            bad = BAD_VERTEX;
            bad_vertex = u;
            break;
        }
        if (i > 0 && frontier[i - 1] >= u)
            sorted = false;
        m_frontier += g->td_offsets[u + 1] - g->td_offsets[u];
    }
    if (bad == BAD_NONE && s->has_bad_mark)
        bad = BAD_MARK;
    uint64_t *result = malloc((s->unvisited_count + 1) * sizeof(uint64_t));
    uint64_t *ordered = NULL;
    if (bad == BAD_NONE && !sorted) {
        ordered = sorted_unique_copy(frontier, &n_frontier);
        frontier = ordered;
    }
    if (bad == BAD_NONE && (!result || (!sorted && !ordered)))
        bad = BAD_MEMORY;

    uint64_t mine[4] = { n_frontier, m_frontier, s->unvisited_edges, bad != BAD_NONE };
    uint64_t total[4];
    double t1 = MPI_Wtime();
    MPI_Allreduce(mine, total, 4, MPI_UINT64_T, MPI_SUM, p->comm);
    double t2 = MPI_Wtime();
    s->stats.seconds_compute += t1 - t0;
    s->stats.seconds_communicate += t2 - t1;

    if (total[3] != 0) {
        if (bad == BAD_VERTEX)
            tc_error_input(err, NULL, 0, 0, NULL,
                           "BFS frontier entry %llu is not a visited owned vertex (rank %d "
                           "owns %llu vertices)",
                           (unsigned long long)bad_vertex, p->rank,
                           (unsigned long long)p->n_local);
        else if (bad == BAD_MARK)
            tc_error_input(err, NULL, 0, 0, NULL,
                           "vertex %llu marked visited is not owned (rank %d owns %llu "
                           "vertices)",
                           (unsigned long long)s->bad_mark, p->rank,
                           (unsigned long long)p->n_local);
        else if (bad == BAD_MEMORY)
            tc_error_runtime(err, "out of memory for a BFS level");
        free(result);
        free(ordered);
        return tc_error_agree(err, p->comm);
    }

    /* Direction, from replicated totals so every rank agrees. */
    s->previous_frontier_global = s->frontier_global;
    s->frontier_global = total[0];
    if (total[0] == 0) {
        free(ordered);
        *next = result;
        return TC_OK;
    }
    if (!g->bu_offsets) {
        s->bottom_up = false;
    } else if (!s->bottom_up) {
        s->bottom_up = total[1] > total[2] / BFS_ALPHA;
    } else {
        bool shrinking = total[0] < s->previous_frontier_global;
        s->bottom_up = !(shrinking && total[0] <= p->n_global / BFS_BETA);
    }

    uint64_t found = 0;
    int status = TC_OK;
    if (s->bottom_up) {
        bottom_up_step(s, frontier, n_frontier, result, &found);
        s->stats.levels_bottom_up++;
    } else {
        status = top_down_step(s, frontier, n_frontier, m_frontier, result, &found, err);
        double t3 = MPI_Wtime();
        if (status == TC_OK)
            top_down_finish(s, result, found);
        s->stats.seconds_compute += MPI_Wtime() - t3;
        s->stats.levels_top_down++;
    }
    free(ordered);
    if (status != TC_OK) {
        memset(s->next_bits, 0, s->n_words * sizeof(uint64_t));
        free(result);
        return status;
    }

    if (found + 1 < s->unvisited_count / 2) {
        uint64_t *shrunk = realloc(result, (found + 1) * sizeof(uint64_t));
        if (shrunk)
            result = shrunk;
    }
    *next = result;
    *n_next = found;
    return TC_OK;
}
