/*
 * test_bfs.c - the BFS kernel (sim/bfs.c) against two serial references:
 * tc_g500_reference_bfs and, independent of both, a brute-force BFS below
 * that scans the whole edge list on every level to find each vertex's
 * smallest parent.
 *
 * Every test builds the same graph on any rank count (edges come from
 * keyed draws, replicated), so parents must match the references exactly
 * (bfs.h invariant 4) at 1, 2 or 3 ranks. Collectives come first in each
 * test and asserts after, so a failed assert cannot leave a rank waiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bfs.h"
#include "graph500.h"
#include "kronecker.h"
#include "mpi_test.h"
#include "rng.h"

#define NONE UINT32_MAX
#define STREAM_TEST 0x54455354u /* "TEST" */

typedef struct edge_set {
    uint64_t n, m;
    uint64_t *src, *dst;
} edge_set;

/* Result of one search, replicated: parent and level of every vertex. */
typedef struct search {
    uint64_t *parent;
    uint32_t *level;
    tc_bfs_stats stats;
    int status;
} search;

/* Marks injected after level LEVEL: VERTEX becomes visited without a
 * parent and, with JOIN, enters the next frontier (as the trust engine
 * does with workloads that fall by other steps). */
typedef struct mark {
    uint32_t level;
    uint64_t vertex;
    bool join;
} mark;

static void edge_set_random(edge_set *e, uint64_t n, uint64_t m, uint64_t seed)
{
    e->n = n;
    e->m = m;
    e->src = malloc((m + 1) * sizeof(uint64_t));
    e->dst = malloc((m + 1) * sizeof(uint64_t));
    assert_non_null(e->src);
    assert_non_null(e->dst);
    for (uint64_t i = 0; i < m; i++) {
        e->src[i] = tc_rng_below(seed, STREAM_TEST, i, 0, n);
        e->dst[i] = tc_rng_below(seed, STREAM_TEST, i, 1, n);
    }
}

static void edge_set_free(edge_set *e)
{
    free(e->src);
    free(e->dst);
}

static void search_free(search *s)
{
    free(s->parent);
    free(s->level);
}

/* Build E on MPI_COMM_WORLD under a block partition; with UNDIRECTED each
 * edge is given in both directions. */
static int build_graph(const edge_set *e, bool undirected, bool with_reverse, tc_graph **g)
{
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    uint64_t *offsets = malloc(((size_t)nranks + 1) * sizeof(uint64_t));
    tc_g500_block_offsets(e->n, nranks, offsets);
    uint64_t *src = malloc((2 * e->m + 1) * sizeof(uint64_t));
    uint64_t *dst = malloc((2 * e->m + 1) * sizeof(uint64_t));
    uint64_t k = 0;
    for (uint64_t i = 0; i < e->m; i++) {
        if (e->src[i] >= offsets[rank] && e->src[i] < offsets[rank + 1]) {
            src[k] = e->src[i] - offsets[rank];
            dst[k++] = e->dst[i];
        }
        if (undirected && e->dst[i] >= offsets[rank] && e->dst[i] < offsets[rank + 1]) {
            src[k] = e->dst[i] - offsets[rank];
            dst[k++] = e->src[i];
        }
    }
    tc_error err;
    tc_error_clear(&err);
    int status = tc_graph_build(MPI_COMM_WORLD, e->n, offsets, k, src, dst, with_reverse, g,
                                &err);
    free(offsets);
    free(src);
    free(dst);
    return status;
}

/* Run a whole search from ROOTS (global ids) with MARKS; gather the result
 * on every rank. Collective. */
static void run_search(const tc_graph *g, tc_bfs_state *state, const uint64_t *roots,
                       size_t n_roots, const mark *marks, size_t n_marks, search *out)
{
    tc_error err;
    tc_error_clear(&err);
    uint64_t n_local = g->n_local;
    uint32_t *level = malloc((n_local + 1) * sizeof(uint32_t));
    uint64_t *frontier = malloc((n_local + 1) * sizeof(uint64_t)), n_frontier = 0;
    for (uint64_t v = 0; v < n_local; v++)
        level[v] = NONE;

    tc_bfs_state_reset(state);
    for (size_t k = 0; k < n_roots; k++) {
        uint64_t r = roots[k];
        if (r >= g->first && r < g->first + n_local && level[r - g->first] == NONE) {
            tc_bfs_mark_visited(state, r - g->first);
            level[r - g->first] = 0;
            frontier[n_frontier++] = r - g->first;
        }
    }
    out->status = TC_OK;
    for (uint32_t l = 0;; l++) {
        uint64_t *next = NULL, n_next = 0;
        out->status = tc_bfs_level(state, frontier, n_frontier, &next, &n_next, &err);
        if (out->status != TC_OK)
            break;
        if (tc_bfs_frontier_global(state) == 0) {
            free(next);
            break;
        }
        next = realloc(next, (n_local + 1) * sizeof(uint64_t));
        assert_non_null(next);
        for (uint64_t i = 0; i < n_next; i++)
            level[next[i]] = l + 1;
        for (size_t k = 0; k < n_marks; k++) {
            uint64_t v = marks[k].vertex;
            if (marks[k].level != l || v < g->first || v >= g->first + n_local)
                continue;
            uint64_t local = v - g->first;
            if (!tc_bfs_is_visited(state, local)) {
                tc_bfs_mark_visited(state, local);
                if (marks[k].join) {
                    level[local] = l + 1;
                    next[n_next++] = local;
                }
            }
        }
        free(frontier);
        frontier = next;
        n_frontier = n_next;
    }
    free(frontier);
    tc_bfs_get_stats(state, &out->stats);

    /* Replicate parents and levels. */
    int nranks;
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int *counts = malloc((size_t)nranks * sizeof(int)), *displs = malloc((size_t)nranks * sizeof(int));
    for (int r = 0; r < nranks; r++) {
        counts[r] = (int)(g->owner_offsets[r + 1] - g->owner_offsets[r]);
        displs[r] = (int)g->owner_offsets[r];
    }
    uint64_t *parent = malloc((n_local + 1) * sizeof(uint64_t));
    for (uint64_t v = 0; v < n_local; v++)
        parent[v] = tc_bfs_parent(state, v);
    out->parent = malloc((g->n_global + 1) * sizeof(uint64_t));
    out->level = malloc((g->n_global + 1) * sizeof(uint32_t));
    MPI_Allgatherv(parent, (int)n_local, MPI_UINT64_T, out->parent, counts, displs,
                   MPI_UINT64_T, MPI_COMM_WORLD);
    MPI_Allgatherv(level, (int)n_local, MPI_UINT32_T, out->level, counts, displs,
                   MPI_UINT32_T, MPI_COMM_WORLD);
    int worst = out->status;
    MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    out->status = worst;
    free(parent);
    free(level);
    free(counts);
    free(displs);
}

/* The independent reference. On each level, every unvisited vertex takes
 * the smallest frontier vertex with an edge to it, found by scanning all
 * edges. Then the marks of that level apply. */
static void brute_force(const edge_set *e, bool undirected, const uint64_t *roots,
                        size_t n_roots, const mark *marks, size_t n_marks, uint64_t *parent,
                        uint32_t *level)
{
    uint64_t n = e->n;
    bool *frontier = calloc(n + 1, 1), *next = calloc(n + 1, 1), *visited = calloc(n + 1, 1);
    for (uint64_t v = 0; v < n; v++) {
        parent[v] = TC_BFS_NO_PARENT;
        level[v] = NONE;
    }
    for (size_t k = 0; k < n_roots; k++) {
        frontier[roots[k]] = visited[roots[k]] = true;
        level[roots[k]] = 0;
    }
    for (uint32_t l = 0;; l++) {
        bool any = false;
        for (uint64_t v = 0; v < n; v++)
            any |= frontier[v];
        if (!any)
            break;
        memset(next, 0, n);
        for (uint64_t i = 0; i < e->m; i++) {
            for (int side = 0; side < (undirected ? 2 : 1); side++) {
                uint64_t u = side ? e->dst[i] : e->src[i], v = side ? e->src[i] : e->dst[i];
                if (!frontier[u] || visited[v])
                    continue;
                if (!next[v] || u < parent[v])
                    parent[v] = u;
                next[v] = true;
            }
        }
        for (uint64_t v = 0; v < n; v++)
            if (next[v]) {
                visited[v] = true;
                level[v] = l + 1;
            }
        for (size_t k = 0; k < n_marks; k++)
            if (marks[k].level == l && !visited[marks[k].vertex]) {
                visited[marks[k].vertex] = true;
                if (marks[k].join) {
                    next[marks[k].vertex] = true;
                    level[marks[k].vertex] = l + 1;
                }
            }
        bool *swap = frontier;
        frontier = next;
        next = swap;
    }
    free(frontier);
    free(next);
    free(visited);
}

/* Compare one search with both references; returns the number of
 * mismatching vertices (asserts come after all collectives). */
static uint64_t count_mismatches(const edge_set *e, bool undirected, const uint64_t *roots,
                                 size_t n_roots, const search *got)
{
    uint64_t n = e->n, bad = 0;
    uint64_t *parent = malloc((n + 1) * sizeof(uint64_t));
    uint32_t *level = malloc((n + 1) * sizeof(uint32_t));
    uint64_t *ref_parent = malloc((n + 1) * sizeof(uint64_t));
    uint32_t *ref_level = malloc((n + 1) * sizeof(uint32_t));
    brute_force(e, undirected, roots, n_roots, NULL, 0, parent, level);
    tc_error err;
    tc_error_clear(&err);
    if (tc_g500_reference_bfs(n, e->m, e->src, e->dst, undirected, roots, n_roots, NULL,
                              ref_parent, ref_level, &err) != TC_OK)
        bad++;
    for (uint64_t v = 0; v < n; v++) {
        bad += got->parent[v] != parent[v] || got->level[v] != level[v];
        bad += ref_parent[v] != parent[v] || ref_level[v] != level[v];
    }
    free(parent);
    free(level);
    free(ref_parent);
    free(ref_level);
    return bad;
}

/* ---- tests ------------------------------------------------------------ */

/* Many small random multigraphs (self-loops and duplicates included),
 * directed and undirected, with and without reverse edges, two roots each.
 * Both directions of the kernel must run somewhere in the set. */
static void bfs_matches_references_on_random_graphs(void **state)
{
    (void)state;
    static const uint64_t sizes[] = { 1, 2, 7, 64, 65, 257 };
    static const uint64_t degrees[] = { 0, 1, 3, 12 };
    uint64_t mismatches = 0, failures = 0, cases = 0;
    uint64_t top_down = 0, bottom_up = 0;

    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (size_t j = 0; j < sizeof degrees / sizeof *degrees; j++)
            for (int kind = 0; kind < 3; kind++) {
                bool undirected = kind == 2, with_reverse = kind != 0;
                uint64_t n = sizes[i], seed = 1000 * i + 10 * j + (uint64_t)kind;
                edge_set e;
                edge_set_random(&e, n, n * degrees[j], seed);
                tc_graph *g = NULL;
                tc_bfs_state *s = NULL;
                tc_error err;
                tc_error_clear(&err);
                if (build_graph(&e, undirected, with_reverse, &g) != TC_OK ||
                    tc_bfs_state_create(g, true, &s, &err) != TC_OK) {
                    failures++;
                    tc_graph_free(g);
                    edge_set_free(&e);
                    continue;
                }
                for (uint32_t k = 0; k < 2; k++) {
                    uint64_t root = tc_rng_below(seed, STREAM_TEST, n + k, 2, n);
                    search got;
                    run_search(g, s, &root, 1, NULL, 0, &got);
                    failures += got.status != TC_OK;
                    mismatches += count_mismatches(&e, undirected, &root, 1, &got);
                    top_down += got.stats.levels_top_down;
                    bottom_up += got.stats.levels_bottom_up;
                    search_free(&got);
                    cases++;
                }
                tc_bfs_state_free(s);
                tc_graph_free(g);
                edge_set_free(&e);
            }

    assert_int_equal(failures, 0);
    assert_int_equal(mismatches, 0);
    assert_true(cases >= 144);
    assert_true(top_down > 0);
    assert_true(bottom_up > 0);
}

/* Several roots at once, as the trust engine starts from its footholds. */
static void bfs_matches_references_multi_source(void **state)
{
    (void)state;
    edge_set e;
    edge_set_random(&e, 300, 900, 77);
    uint64_t roots[] = { 299, 3, 150, 3, 0 };
    tc_graph *g = NULL;
    tc_bfs_state *s = NULL;
    tc_error err;
    tc_error_clear(&err);
    int built = build_graph(&e, false, true, &g);
    int created = built == TC_OK ? tc_bfs_state_create(g, true, &s, &err) : built;
    search got = { 0 };
    if (created == TC_OK)
        run_search(g, s, roots, 5, NULL, 0, &got);

    assert_int_equal(built, TC_OK);
    assert_int_equal(created, TC_OK);
    assert_int_equal(got.status, TC_OK);
    assert_int_equal(count_mismatches(&e, false, roots, 5, &got), 0);
    search_free(&got);
    tc_bfs_state_free(s);
    tc_graph_free(g);
    edge_set_free(&e);
}

/* Graph500 graphs: Kronecker edges through kernel 1 (undirected). */
static void bfs_matches_reference_on_kronecker(void **state)
{
    (void)state;
    uint64_t mismatches = 0, failures = 0, bottom_up = 0, top_down = 0;
    for (unsigned scale = 4; scale <= 10; scale += 3) {
        tc_kronecker k;
        tc_kronecker_init(&k, scale, 8, scale);
        edge_set e = { tc_kronecker_vertex_count(&k), tc_kronecker_edge_count(&k), NULL, NULL };
        e.src = malloc(e.m * sizeof(uint64_t));
        e.dst = malloc(e.m * sizeof(uint64_t));
        tc_kronecker_edges(&k, 0, e.m, e.src, e.dst);

        /* Each rank contributes a different slice, as generation does. */
        int rank, nranks;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &nranks);
        uint64_t first = e.m * (uint64_t)rank / (uint64_t)nranks;
        uint64_t last = e.m * (uint64_t)(rank + 1) / (uint64_t)nranks;
        tc_graph *g = NULL;
        tc_bfs_state *s = NULL;
        tc_error err;
        tc_error_clear(&err);
        if (tc_g500_graph_build(MPI_COMM_WORLD, e.n, last - first, e.src + first, e.dst + first,
                                &g, &err) != TC_OK ||
            tc_bfs_state_create(g, true, &s, &err) != TC_OK) {
            failures++;
        } else {
            uint64_t keys[8];
            uint32_t n_keys = 0;
            failures += tc_g500_sample_keys(g, 5, 8, keys, &n_keys, &err) != TC_OK;
            for (uint32_t i = 0; i < n_keys; i++) {
                search got;
                run_search(g, s, &keys[i], 1, NULL, 0, &got);
                failures += got.status != TC_OK;
                mismatches += count_mismatches(&e, true, &keys[i], 1, &got);
                top_down += got.stats.levels_top_down;
                bottom_up += got.stats.levels_bottom_up;
                search_free(&got);
            }
        }
        tc_bfs_state_free(s);
        tc_graph_free(g);
        edge_set_free(&e);
    }
    assert_int_equal(failures, 0);
    assert_int_equal(mismatches, 0);
    assert_true(top_down > 0);
    assert_true(bottom_up > 0);
}

/* Hand-worked: edges 0->1, 0->2, 1->3, 2->3, 3->4, 2->5, 5->4, root 0.
 * Level 1 is {1, 2}. When 3 falls by other means after level 1 and joins
 * the frontier, level 2 finds 5 (parent 2) and 4 (parent 3), and 3 keeps
 * no parent. When 3 is only marked, 4 waits for level 3 (parent 5). */
static void bfs_external_mark_hand_worked(void **state)
{
    (void)state;
    uint64_t src[] = { 0, 0, 1, 2, 3, 2, 5 }, dst[] = { 1, 2, 3, 3, 4, 5, 4 };
    edge_set e = { 6, 7, src, dst };
    uint64_t root = 0;
    mark join = { 0, 3, true }, quiet = { 0, 3, false };
    search joined[2] = { { 0 } }, marked[2] = { { 0 } };
    int built[2];

    for (int with_reverse = 0; with_reverse < 2; with_reverse++) {
        tc_graph *g = NULL;
        tc_bfs_state *s = NULL;
        tc_error err;
        tc_error_clear(&err);
        built[with_reverse] = build_graph(&e, false, with_reverse, &g);
        if (built[with_reverse] == TC_OK &&
            tc_bfs_state_create(g, true, &s, &err) == TC_OK) {
            run_search(g, s, &root, 1, &join, 1, &joined[with_reverse]);
            run_search(g, s, &root, 1, &quiet, 1, &marked[with_reverse]);
        }
        tc_bfs_state_free(s);
        tc_graph_free(g);
    }

    for (int r = 0; r < 2; r++) {
        assert_int_equal(built[r], TC_OK);
        assert_non_null(joined[r].parent);
        assert_int_equal(joined[r].parent[3], TC_BFS_NO_PARENT);
        assert_int_equal(joined[r].parent[4], 3);
        assert_int_equal(joined[r].parent[5], 2);
        assert_int_equal(joined[r].level[4], 2);
        assert_int_equal(marked[r].parent[3], TC_BFS_NO_PARENT);
        assert_int_equal(marked[r].level[3], NONE);
        assert_int_equal(marked[r].parent[4], 5);
        assert_int_equal(marked[r].level[4], 3);
        search_free(&joined[r]);
        search_free(&marked[r]);
    }
}

/* Random marks between levels, against the brute force, where a vertex
 * that is marked before any frontier reaches it keeps no parent. */
static void bfs_external_marks_random(void **state)
{
    (void)state;
    uint64_t mismatches = 0, failures = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        uint64_t n = 40 + 17 * seed;
        edge_set e;
        edge_set_random(&e, n, 3 * n, seed);
        bool undirected = seed % 2 == 0;
        mark marks[24];
        size_t n_marks = 0;
        for (uint32_t k = 0; k < 24; k++) {
            uint64_t v = tc_rng_below(seed, STREAM_TEST, k, 7, n);
            if (v == 0)
                continue;
            marks[n_marks++] = (mark){ k % 4, v, k % 3 != 0 };
        }
        uint64_t root = 0;
        tc_graph *g = NULL;
        tc_bfs_state *s = NULL;
        tc_error err;
        tc_error_clear(&err);
        if (build_graph(&e, undirected, true, &g) != TC_OK ||
            tc_bfs_state_create(g, true, &s, &err) != TC_OK) {
            failures++;
        } else {
            search got;
            run_search(g, s, &root, 1, marks, n_marks, &got);
            failures += got.status != TC_OK;
            uint64_t *parent = malloc(n * sizeof(uint64_t));
            uint32_t *level = malloc(n * sizeof(uint32_t));
            brute_force(&e, undirected, &root, 1, marks, n_marks, parent, level);
            for (uint64_t v = 0; v < n; v++)
                mismatches += got.parent[v] != parent[v] || got.level[v] != level[v];
            free(parent);
            free(level);
            search_free(&got);
        }
        tc_bfs_state_free(s);
        tc_graph_free(g);
        edge_set_free(&e);
    }
    assert_int_equal(failures, 0);
    assert_int_equal(mismatches, 0);
}

/* Reset gives the same search again, with counters from zero. */
static void bfs_state_reset_repeats_search(void **state)
{
    (void)state;
    edge_set e;
    edge_set_random(&e, 500, 4000, 9);
    tc_graph *g = NULL;
    tc_bfs_state *s = NULL;
    tc_error err;
    tc_error_clear(&err);
    int built = build_graph(&e, true, true, &g);
    assert_int_equal(built, TC_OK);
    assert_int_equal(tc_bfs_state_create(g, true, &s, &err), TC_OK);
    uint64_t root = 17;
    search first, second;
    run_search(g, s, &root, 1, NULL, 0, &first);
    run_search(g, s, &root, 1, NULL, 0, &second);

    assert_memory_equal(first.parent, second.parent, e.n * sizeof(uint64_t));
    assert_memory_equal(first.level, second.level, e.n * sizeof(uint32_t));
    assert_int_equal(first.stats.edges_examined, second.stats.edges_examined);
    assert_int_equal(first.stats.levels_top_down, second.stats.levels_top_down);
    assert_int_equal(first.stats.levels_bottom_up, second.stats.levels_bottom_up);
    tc_bfs_state_reset(s);
    tc_bfs_stats zero;
    tc_bfs_get_stats(s, &zero);
    assert_int_equal(zero.edges_examined, 0);
    assert_int_equal(tc_bfs_frontier_global(s), 0);
    search_free(&first);
    search_free(&second);
    tc_bfs_state_free(s);
    tc_graph_free(g);
    edge_set_free(&e);
}

/* The public CSR: targets and sources sorted per vertex, in-edges equal to
 * the edge list reversed, and aliased to the out-edges when symmetric. */
static void graph_build_public_csr(void **state)
{
    (void)state;
    edge_set e;
    edge_set_random(&e, 90, 400, 31);
    tc_graph *directed = NULL, *undirected = NULL;
    int built_directed = build_graph(&e, false, true, &directed);
    int built_undirected = build_graph(&e, true, true, &undirected);
    assert_int_equal(built_directed, TC_OK);
    assert_int_equal(built_undirected, TC_OK);

    assert_ptr_equal(undirected->in_sources, undirected->out_targets);
    assert_ptr_equal(undirected->in_offsets, undirected->out_offsets);
    assert_ptr_not_equal(directed->in_sources, directed->out_targets);
    assert_int_equal(directed->n_edges_global, e.m);
    assert_int_equal(undirected->n_edges_global, 2 * e.m);

    const tc_graph *g = directed;
    for (uint64_t v = 0; v < g->n_local; v++) {
        uint64_t gid = g->first + v, expected_in = 0, expected_out = 0;
        for (uint64_t i = 0; i < e.m; i++) {
            expected_in += e.dst[i] == gid;
            expected_out += e.src[i] == gid;
        }
        assert_int_equal(g->in_offsets[v + 1] - g->in_offsets[v], expected_in);
        assert_int_equal(g->out_offsets[v + 1] - g->out_offsets[v], expected_out);
        for (uint64_t k = g->in_offsets[v] + 1; k < g->in_offsets[v + 1]; k++)
            assert_true(g->in_sources[k - 1] <= g->in_sources[k]);
        for (uint64_t k = g->out_offsets[v] + 1; k < g->out_offsets[v + 1]; k++)
            assert_true(g->out_targets[k - 1] <= g->out_targets[k]);
        for (uint64_t k = g->in_offsets[v]; k < g->in_offsets[v + 1]; k++) {
            uint64_t u = g->in_sources[k], listed = 0, stored = 0;
            for (uint64_t i = 0; i < e.m; i++)
                listed += e.src[i] == u && e.dst[i] == gid;
            for (uint64_t j = g->in_offsets[v]; j < g->in_offsets[v + 1]; j++)
                stored += g->in_sources[j] == u;
            assert_int_equal(listed, stored);
        }
    }

    /* Memory: the kernel's private copy adds at most half the CSR. */
    size_t csr = (g->n_local + 1) * 16 + g->n_edges_local * 8 +
                 (g->in_offsets[g->n_local]) * 8;
    assert_true(tc_graph_bytes(g) <= 2 * csr + 4096);
    tc_graph_free(directed);
    tc_graph_free(undirected);
    edge_set_free(&e);
}

/* Invalid input is TC_ERR_INPUT on every rank, never a crash or a hang. */
static void graph_build_rejects_invalid_edges(void **state)
{
    (void)state;
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    uint64_t offsets[64];
    tc_g500_block_offsets(10, nranks, offsets);
    uint64_t src[1] = { 0 }, dst[1] = { rank == nranks - 1 ? 10 : 0 };
    tc_graph *g = NULL;
    tc_error err;
    tc_error_clear(&err);
    int status = tc_graph_build(MPI_COMM_WORLD, 10, offsets, 1, src, dst, false, &g, &err);

    tc_error bad_partition;
    tc_error_clear(&bad_partition);
    uint64_t wrong[64];
    tc_g500_block_offsets(10, nranks, wrong);
    wrong[nranks] = 11;
    tc_graph *g2 = NULL;
    int status2 = tc_graph_build(MPI_COMM_WORLD, 10, wrong, 0, src, dst, false, &g2,
                                 &bad_partition);

    assert_int_equal(status, TC_ERR_INPUT);
    assert_int_equal(err.code, TC_ERR_INPUT);
    assert_non_null(strstr(err.message, "not below the vertex count 10"));
    assert_null(g);
    assert_int_equal(status2, TC_ERR_INPUT);
    assert_non_null(strstr(bad_partition.message, "invalid partition"));
    assert_null(g2);
}

/* A frontier vertex that is not visited, or a mark out of range, fails the
 * level on every rank. */
static void bfs_level_rejects_invalid_frontier(void **state)
{
    (void)state;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    edge_set e;
    edge_set_random(&e, 30, 60, 3);
    tc_graph *g = NULL;
    tc_bfs_state *s = NULL;
    tc_error err, err2;
    tc_error_clear(&err);
    tc_error_clear(&err2);
    int built = build_graph(&e, false, true, &g);
    assert_int_equal(built, TC_OK);
    assert_int_equal(tc_bfs_state_create(g, true, &s, &err), TC_OK);

    uint64_t unvisited = 0, *next = NULL, n_next = 0;
    int status = tc_bfs_level(s, &unvisited, rank == 0 ? 1 : 0, &next, &n_next, &err);
    free(next);

    tc_bfs_state_reset(s);
    if (rank == 0)
        tc_bfs_mark_visited(s, g->n_local + 5);
    next = NULL;
    int status2 = tc_bfs_level(s, NULL, 0, &next, &n_next, &err2);
    free(next);

    assert_int_equal(status, TC_ERR_INPUT);
    assert_non_null(strstr(err.message, "not a visited owned vertex"));
    assert_int_equal(status2, TC_ERR_INPUT);
    assert_non_null(strstr(err2.message, "marked visited is not owned"));
    tc_bfs_state_free(s);
    tc_graph_free(g);
    edge_set_free(&e);
}

/* Unsorted frontiers with repeats give the same result as sorted ones. */
static void bfs_level_accepts_unsorted_frontier(void **state)
{
    (void)state;
    edge_set e;
    edge_set_random(&e, 200, 800, 11);
    tc_graph *g = NULL;
    tc_bfs_state *a = NULL, *b = NULL;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(build_graph(&e, false, false, &g), TC_OK);
    assert_int_equal(tc_bfs_state_create(g, true, &a, &err), TC_OK);
    assert_int_equal(tc_bfs_state_create(g, true, &b, &err), TC_OK);

    uint64_t sorted[64], shuffled[128], n = 0;
    for (uint64_t v = 0; v < g->n_local && n < 64; v += 3)
        sorted[n++] = v;
    for (uint64_t i = 0; i < n; i++) {
        tc_bfs_mark_visited(a, sorted[i]);
        tc_bfs_mark_visited(b, sorted[i]);
        shuffled[i] = sorted[n - 1 - i];
        shuffled[n + i] = sorted[i];
    }
    uint64_t *next_a = NULL, *next_b = NULL, n_a = 0, n_b = 0;
    int status_a = tc_bfs_level(a, sorted, n, &next_a, &n_a, &err);
    int status_b = tc_bfs_level(b, shuffled, 2 * n, &next_b, &n_b, &err);

    assert_int_equal(status_a, TC_OK);
    assert_int_equal(status_b, TC_OK);
    assert_int_equal(n_a, n_b);
    assert_memory_equal(next_a, next_b, n_a * sizeof(uint64_t));
    for (uint64_t i = 0; i < n_a; i++)
        assert_int_equal(tc_bfs_parent(a, next_a[i]), tc_bfs_parent(b, next_b[i]));
    for (uint64_t i = 1; i < n_a; i++)
        assert_true(next_a[i - 1] < next_a[i]);
    free(next_a);
    free(next_b);
    tc_bfs_state_free(a);
    tc_bfs_state_free(b);
    tc_graph_free(g);
    edge_set_free(&e);
}

/* The undirected builder gives the CSR tc_graph_build gives for the same
 * edges (both directions of each, as build_graph passes them), and rejects
 * edges whose reverses are missing. */
static void graph_build_undirected_checks_symmetry(void **state)
{
    (void)state;
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    edge_set e;
    edge_set_random(&e, 120, 500, 21);
    uint64_t offsets[64];
    tc_g500_block_offsets(e.n, nranks, offsets);
    uint64_t *packed = malloc((2 * e.m + 1) * sizeof(uint64_t));
    uint64_t *broken = malloc((2 * e.m + 1) * sizeof(uint64_t));
    uint64_t k = 0;
    for (uint64_t i = 0; i < e.m; i++)
        for (int side = 0; side < 2; side++) {
            uint64_t a = side ? e.dst[i] : e.src[i], b = side ? e.src[i] : e.dst[i];
            if (a >= offsets[rank] && a < offsets[rank + 1])
                packed[k++] = ((a - offsets[rank]) << 32) | b;
        }
    memcpy(broken, packed, k * sizeof(uint64_t));
    uint64_t n_broken = rank == 0 && k > 0 ? k - 1 : k;

    tc_graph *g = NULL, *reference = NULL, *bad = NULL;
    tc_error err, bad_err;
    tc_error_clear(&err);
    tc_error_clear(&bad_err);
    int status = tc_graph_build_undirected(MPI_COMM_WORLD, e.n, offsets, k, packed, &g, &err);
    int status_bad = tc_graph_build_undirected(MPI_COMM_WORLD, e.n, offsets, n_broken, broken,
                                               &bad, &bad_err);
    int status_reference = build_graph(&e, true, true, &reference);

    assert_int_equal(status, TC_OK);
    assert_int_equal(status_reference, TC_OK);
    assert_int_equal(g->n_edges_local, reference->n_edges_local);
    assert_memory_equal(g->out_offsets, reference->out_offsets,
                        (g->n_local + 1) * sizeof(uint64_t));
    assert_memory_equal(g->out_targets, reference->out_targets,
                        g->n_edges_local * sizeof(uint64_t));
    assert_ptr_equal(g->in_sources, g->out_targets);
    assert_int_equal(status_bad, TC_ERR_INPUT);
    assert_null(bad);
    assert_non_null(strstr(bad_err.message, "not symmetric"));
    tc_graph_free(g);
    tc_graph_free(reference);
    edge_set_free(&e);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bfs_matches_references_on_random_graphs),
        cmocka_unit_test(bfs_matches_references_multi_source),
        cmocka_unit_test(bfs_matches_reference_on_kronecker),
        cmocka_unit_test(bfs_external_mark_hand_worked),
        cmocka_unit_test(bfs_external_marks_random),
        cmocka_unit_test(bfs_state_reset_repeats_search),
        cmocka_unit_test(graph_build_public_csr),
        cmocka_unit_test(graph_build_rejects_invalid_edges),
        cmocka_unit_test(graph_build_undirected_checks_symmetry),
        cmocka_unit_test(bfs_level_rejects_invalid_frontier),
        cmocka_unit_test(bfs_level_accepts_unsorted_frontier),
    };
    int failed = tc_test_run_mpi(tests);
    MPI_Finalize();
    return failed;
}
