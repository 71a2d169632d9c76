/*
 * test_graph500.c - Graph500 kernel 1, key sampling, validation, TEPS
 * edge counts and statistics (analysis/graph500.c).
 *
 * Validation must accept the kernel's trees and reject each kind of broken
 * tree; broken trees are made by hand from a correct one. Expected
 * statistics are worked out by hand in the comments. Collectives come
 * first in each test and asserts after.
 */
#include <math.h>
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

#define NONE UINT32_MAX

/* A Kronecker graph built by kernel 1, with its edge list replicated. */
typedef struct fixture {
    uint64_t n, m;
    uint64_t *u, *v;
    tc_graph *g;
} fixture;

static int fixture_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tc_kronecker k;
    tc_kronecker_init(&k, 9, 8, 42);
    f->n = tc_kronecker_vertex_count(&k);
    f->m = tc_kronecker_edge_count(&k);
    f->u = malloc(f->m * sizeof(uint64_t));
    f->v = malloc(f->m * sizeof(uint64_t));
    tc_kronecker_edges(&k, 0, f->m, f->u, f->v);

    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    uint64_t first = f->m * (uint64_t)rank / (uint64_t)nranks;
    uint64_t last = f->m * (uint64_t)(rank + 1) / (uint64_t)nranks;
    tc_error err;
    tc_error_clear(&err);
    int status = tc_g500_graph_build(MPI_COMM_WORLD, f->n, last - first, f->u + first,
                                     f->v + first, &f->g, &err);
    *state = f;
    return status;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    tc_graph_free(f->g);
    free(f->u);
    free(f->v);
    free(f);
    return 0;
}

/* Replicated Graph500 parent array of the reference BFS from KEY. */
static uint64_t *reference_parents(const fixture *f, uint64_t key, uint32_t *level)
{
    uint64_t *parent = malloc(f->n * sizeof(uint64_t));
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_g500_reference_bfs(f->n, f->m, f->u, f->v, true, &key, 1, NULL,
                                           parent, level, &err),
                     TC_OK);
    parent[key] = key;
    return parent;
}

/* Validate the replicated PARENTS, each rank passing its slice, with
 * levels allgathered WINDOW vertices at a time (0 for the default). */
static int validate_slice(const fixture *f, uint64_t key, const uint64_t *parents,
                          uint64_t window, tc_g500_check *check)
{
    tc_error err;
    tc_error_clear(&err);
    return tc_g500_validate(f->g, key, parents + f->g->first, window, check, &err);
}

/* A vertex at level DEPTH, a leaf of the tree PARENT when LEAF, or n when
 * there is none. */
static uint64_t find_vertex(const fixture *f, const uint64_t *parent, const uint32_t *level,
                            uint32_t depth, bool leaf)
{
    for (uint64_t x = 0; x < f->n; x++) {
        if (level[x] != depth)
            continue;
        bool has_child = false;
        for (uint64_t y = 0; y < f->n && leaf && !has_child; y++)
            has_child = parent[y] == x && y != x;
        if (!has_child)
            return x;
    }
    return f->n;
}

static bool has_edge(const fixture *f, uint64_t a, uint64_t b)
{
    for (uint64_t i = 0; i < f->m; i++)
        if ((f->u[i] == a && f->v[i] == b) || (f->u[i] == b && f->v[i] == a))
            return true;
    return false;
}

/* ---- tests ------------------------------------------------------------ */

static void validate_accepts_reference_trees(void **state)
{
    fixture *f = *state;
    uint64_t keys[8];
    uint32_t n_keys = 0;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_g500_sample_keys(f->g, 3, 8, keys, &n_keys, &err), TC_OK);
    assert_int_equal(n_keys, 8);
    for (uint32_t k = 0; k < n_keys; k++) {
        uint32_t *level = malloc(f->n * sizeof(uint32_t));
        uint64_t *parent = reference_parents(f, keys[k], level);
        uint64_t reached = 0, depth = 0;
        for (uint64_t x = 0; x < f->n; x++)
            if (level[x] != NONE) {
                reached++;
                depth = level[x] > depth ? level[x] : depth;
            }
        tc_g500_check check, windowed;
        int status = validate_slice(f, keys[k], parent, 0, &check);
        int status_windowed = validate_slice(f, keys[k], parent, 7 + k, &windowed);
        assert_int_equal(status, TC_OK);
        assert_true(check.valid);
        assert_string_equal(check.message, "");
        assert_int_equal(check.reached, reached);
        assert_int_equal(check.depth, depth);
        assert_int_equal(status_windowed, TC_OK);
        assert_true(windowed.valid);
        assert_int_equal(windowed.reached, reached);
        free(parent);
        free(level);
    }
}

/* Each corruption of a correct tree, with the check that must catch it. */
static void validate_rejects_broken_trees(void **state)
{
    fixture *f = *state;
    /* The key of highest degree, so that levels 1 and 2 are wide. */
    uint64_t *degree = calloc(f->n, sizeof(uint64_t)), key = 0;
    for (uint64_t i = 0; i < f->m; i++) {
        degree[f->u[i]]++;
        degree[f->v[i]]++;
    }
    for (uint64_t x = 0; x < f->n; x++)
        if (degree[x] > degree[key])
            key = x;
    free(degree);
    uint32_t *level = malloc(f->n * sizeof(uint32_t));
    uint64_t *good = reference_parents(f, key, level);
    uint64_t *bad = malloc(f->n * sizeof(uint64_t));
    uint64_t deep = find_vertex(f, good, level, 2, false);
    uint64_t leaf = find_vertex(f, good, level, 2, true);
    assert_true(deep < f->n);
    assert_true(leaf < f->n);

    /* A level-2 vertex whose parent becomes a level-1 vertex it has no
     * edge to. */
    uint64_t stranger = f->n;
    for (uint64_t x = 0; x < f->n && stranger == f->n; x++)
        if (level[x] == 1 && !has_edge(f, x, deep))
            stranger = x;
    assert_true(stranger < f->n);

    /* A level-1 vertex whose parent becomes a level-2 neighbour of it
     * whose own parent is another vertex: its level becomes 3 while its
     * edge to the key spans levels 0 and 3. */
    uint64_t near = f->n, far = f->n;
    for (uint64_t x = 0; x < f->n && near == f->n; x++) {
        if (level[x] != 1)
            continue;
        for (uint64_t y = 0; y < f->n; y++)
            if (level[y] == 2 && good[y] != x && has_edge(f, x, y)) {
                near = x;
                far = y;
                break;
            }
    }
    assert_true(near < f->n);

    struct {
        const char *expected;
        uint64_t vertex, parent;
    } cases[] = {
        { "expected itself", key, good[deep] },
        { "not a vertex id", deep, f->n + 5 },
        { "is not an edge of the graph", deep, stranger },
        { "its own parent", deep, deep },
        { "leaves the tree", leaf, TC_BFS_NO_PARENT },
        { "spans levels", near, far },
        { "which is not in the tree", deep, f->n },
    };
    size_t n_cases = sizeof cases / sizeof *cases;

    /* The last case points at a vertex outside the tree instead. */
    uint64_t outside = f->n;
    for (uint64_t x = 0; x < f->n && outside == f->n; x++)
        if (level[x] == NONE)
            outside = x;
    assert_true(outside < f->n);
    cases[n_cases - 1].parent = outside;

    for (size_t c = 0; c < n_cases; c++) {
        memcpy(bad, good, f->n * sizeof(uint64_t));
        bad[cases[c].vertex] = cases[c].parent;
        tc_g500_check check, windowed;
        int status = validate_slice(f, key, bad, 0, &check);
        int status_windowed = validate_slice(f, key, bad, 13, &windowed);
        assert_int_equal(status, TC_OK);
        assert_false(check.valid);
        if (!strstr(check.message, cases[c].expected))
            fail_msg("case %zu: expected '%s' in '%s'", c, cases[c].expected, check.message);
        assert_int_equal(status_windowed, TC_OK);
        assert_false(windowed.valid);
    }

    /* A cycle of two vertices away from the key. */
    memcpy(bad, good, f->n * sizeof(uint64_t));
    uint64_t a = deep, b = good[deep];
    bad[b] = a;
    tc_g500_check check;
    assert_int_equal(validate_slice(f, key, bad, 0, &check), TC_OK);
    assert_false(check.valid);
    assert_non_null(strstr(check.message, "cycle"));

    free(level);
    free(good);
    free(bad);
}

/* The TEPS edge count against a count over the input list: an edge is in
 * the component when its first end is reached (the graph is undirected). */
static void component_edges_counts_input_edges(void **state)
{
    fixture *f = *state;
    uint64_t keys[4];
    uint32_t n_keys = 0;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_g500_sample_keys(f->g, 4, 4, keys, &n_keys, &err), TC_OK);
    for (uint32_t k = 0; k < n_keys; k++) {
        uint32_t *level = malloc(f->n * sizeof(uint32_t));
        uint64_t *parent = reference_parents(f, keys[k], level);
        uint64_t expected = 0, got = 0;
        for (uint64_t i = 0; i < f->m; i++)
            expected += level[f->u[i]] != NONE;
        assert_int_equal(tc_g500_component_edges(f->g, parent + f->g->first, &got, &err),
                         TC_OK);
        assert_int_equal(got, expected);
        free(parent);
        free(level);
    }
}

/* Kernel 1 keeps duplicates and stores a self-loop once. */
static void graph_build_counts_entries(void **state)
{
    fixture *f = *state;
    uint64_t loops = 0;
    for (uint64_t i = 0; i < f->m; i++)
        loops += f->u[i] == f->v[i];
    assert_true(loops > 0);
    assert_int_equal(f->g->n_edges_global, 2 * f->m - loops);
    assert_ptr_equal(f->g->in_sources, f->g->out_targets);
}

/* Keys: distinct, eligible, in draw order, the same on one rank as on all;
 * all eligible vertices ascending when there are few. */
static void sample_keys_rank_independent(void **state)
{
    fixture *f = *state;
    tc_error err;
    tc_error_clear(&err);
    uint64_t keys[64], alone[64];
    uint32_t n_keys = 0, n_alone = 0;
    int status = tc_g500_sample_keys(f->g, 11, 64, keys, &n_keys, &err);

    tc_graph *self = NULL;
    int built = tc_g500_graph_build(MPI_COMM_SELF, f->n, f->m, f->u, f->v, &self, &err);
    int status_alone = built == TC_OK
                           ? tc_g500_sample_keys(self, 11, 64, alone, &n_alone, &err)
                           : built;
    tc_graph_free(self);

    assert_int_equal(status, TC_OK);
    assert_int_equal(status_alone, TC_OK);
    assert_int_equal(n_keys, 64);
    assert_int_equal(n_alone, 64);
    assert_memory_equal(keys, alone, sizeof keys);
    for (uint32_t i = 0; i < n_keys; i++) {
        bool eligible = false;
        for (uint64_t e = 0; e < f->m && !eligible; e++)
            eligible = (f->u[e] == keys[i] && f->v[e] != keys[i]) ||
                       (f->v[e] == keys[i] && f->u[e] != keys[i]);
        assert_true(eligible);
        for (uint32_t j = 0; j < i; j++)
            assert_true(keys[i] != keys[j]);
    }
}

/* Edges 0-1, 2-2 (a loop only), 3-4, 4-4 on 6 vertices: eligible are 0, 1,
 * 3 and 4, fewer than requested, so all of them come back ascending. */
static void sample_keys_takes_all_when_few(void **state)
{
    (void)state;
    uint64_t u[] = { 0, 2, 3, 4 }, v[] = { 1, 2, 4, 4 };
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    tc_graph *g = NULL;
    tc_error err;
    tc_error_clear(&err);
    int built = tc_g500_graph_build(MPI_COMM_WORLD, 6, rank == 0 ? 4 : 0, u, v, &g, &err);
    uint64_t keys[64];
    uint32_t n_keys = 0;
    int status = built == TC_OK ? tc_g500_sample_keys(g, 1, 64, keys, &n_keys, &err) : built;
    tc_graph_free(g);

    assert_int_equal(status, TC_OK);
    assert_int_equal(n_keys, 4);
    assert_int_equal(keys[0], 0);
    assert_int_equal(keys[1], 1);
    assert_int_equal(keys[2], 3);
    assert_int_equal(keys[3], 4);
}

static void graph_build_rejects_out_of_range_ids(void **state)
{
    (void)state;
    uint64_t u[] = { 0 }, v[] = { 6 };
    tc_graph *g = NULL;
    tc_error err;
    tc_error_clear(&err);
    int status = tc_g500_graph_build(MPI_COMM_WORLD, 6, 1, u, v, &g, &err);
    assert_int_equal(status, TC_ERR_INPUT);
    assert_null(g);
    assert_non_null(strstr(err.message, "not below the vertex count 6"));
}

/* Samples 4, 1, 3, 2: sorted 1 2 3 4. With p(k) = (k - 0.5) / 4 the first
 * quartile sits halfway between 1 and 2 (1.5), the median at 2.5, the third
 * quartile at 3.5. Mean 2.5; sample variance (2.25 + 0.25) * 2 / 3 = 5/3. */
static void stats_quartiles_by_hand(void **state)
{
    (void)state;
    double x[] = { 4, 1, 3, 2 };
    tc_g500_stats s;
    tc_g500_stats_compute(x, 4, &s);
    assert_float_equal(s.min, 1, 1e-12);
    assert_float_equal(s.firstquartile, 1.5, 1e-12);
    assert_float_equal(s.median, 2.5, 1e-12);
    assert_float_equal(s.thirdquartile, 3.5, 1e-12);
    assert_float_equal(s.max, 4, 1e-12);
    assert_float_equal(s.mean, 2.5, 1e-12);
    assert_float_equal(s.stddev, sqrt(5.0 / 3.0), 1e-12);

    double one[] = { 7 };
    tc_g500_stats_compute(one, 1, &s);
    assert_float_equal(s.median, 7, 1e-12);
    assert_float_equal(s.stddev, 0, 1e-12);
}

/* Rates 100 and 50 edges/s: harmonic mean 2 / (1/100 + 1/50) = 200/3.
 * Norris: sqrt((0.01 - 0.015)^2 + (0.02 - 0.015)^2) / (2 - 1) * (200/3)^2
 * = 0.0070711 * 4444.44 = 31.427. */
static void teps_harmonic_by_hand(void **state)
{
    (void)state;
    double nedge[] = { 100, 100 }, seconds[] = { 1, 2 };
    tc_g500_stats s;
    tc_g500_teps_stats(nedge, seconds, 2, &s);
    assert_float_equal(s.min, 50, 1e-9);
    assert_float_equal(s.max, 100, 1e-9);
    assert_float_equal(s.mean, 200.0 / 3.0, 1e-9);
    assert_float_equal(s.stddev, sqrt(5e-5) * (200.0 / 3.0) * (200.0 / 3.0), 1e-9);
}

/* Reference BFS by hand: edges 0->1, 1->2, 0->3, 3->2, 4->0 (directed),
 * root 0 with 3 excluded: 1 at level 1, 2 at level 2 (parent 1), 3 and 4
 * unreached. Undirected from roots {2, 4}: 1, 3 and 0 at level 1 with
 * parents 2, 2 and 4. */
static void reference_bfs_by_hand(void **state)
{
    (void)state;
    uint64_t src[] = { 0, 1, 0, 3, 4 }, dst[] = { 1, 2, 3, 2, 0 };
    bool excluded[5] = { false, false, false, true, false };
    uint64_t parent[5], root = 0, roots[] = { 4, 2 };
    uint32_t level[5];
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_g500_reference_bfs(5, 5, src, dst, false, &root, 1, excluded, parent,
                                           level, &err),
                     TC_OK);
    assert_int_equal(parent[1], 0);
    assert_int_equal(parent[2], 1);
    assert_int_equal(level[2], 2);
    assert_int_equal(parent[3], TC_BFS_NO_PARENT);
    assert_int_equal(level[3], NONE);
    assert_int_equal(level[4], NONE);
    assert_int_equal(parent[0], TC_BFS_NO_PARENT);

    assert_int_equal(tc_g500_reference_bfs(5, 5, src, dst, true, roots, 2, NULL, parent,
                                           level, &err),
                     TC_OK);
    assert_int_equal(parent[1], 2);
    assert_int_equal(parent[3], 2);
    assert_int_equal(parent[0], 4);
    assert_int_equal(level[0], 1);
    assert_int_equal(level[2], 0);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(validate_accepts_reference_trees, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(validate_rejects_broken_trees, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(component_edges_counts_input_edges, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(graph_build_counts_entries, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(sample_keys_rank_independent, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test(sample_keys_takes_all_when_few),
        cmocka_unit_test(graph_build_rejects_out_of_range_ids),
        cmocka_unit_test(stats_quartiles_by_hand),
        cmocka_unit_test(teps_harmonic_by_hand),
        cmocka_unit_test(reference_bfs_by_hand),
    };
    int failed = tc_test_run_mpi(tests);
    MPI_Finalize();
    return failed;
}
