/*
 * test_kronecker.c - the Graph500 Kronecker generator
 * (generators/kronecker.c): the same edge list whatever the split into
 * ranks, a bijective label permutation, the initiator's quadrant
 * frequencies, and the parameter limits.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kronecker.h"
#include "mpi_test.h"

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The edge list cut into PARTS virtual ranks at the generator's own block
 * boundaries is the whole list, for several part counts. */
static void edges_identical_for_any_split(void **state)
{
    (void)state;
    tc_kronecker k;
    tc_kronecker_init(&k, 11, 16, 7);
    uint64_t m = tc_kronecker_edge_count(&k);
    uint64_t *u = malloc(m * sizeof(uint64_t)), *v = malloc(m * sizeof(uint64_t));
    uint64_t *pu = malloc(m * sizeof(uint64_t)), *pv = malloc(m * sizeof(uint64_t));
    tc_kronecker_edges(&k, 0, m, u, v);

    for (uint64_t parts = 1; parts <= 7; parts++) {
        memset(pu, 0xff, m * sizeof(uint64_t));
        memset(pv, 0xff, m * sizeof(uint64_t));
        for (uint64_t p = 0; p < parts; p++) {
            uint64_t first = m * p / parts, last = m * (p + 1) / parts;
            tc_kronecker_edges(&k, first, last - first, pu + first, pv + first);
        }
        assert_memory_equal(u, pu, m * sizeof(uint64_t));
        assert_memory_equal(v, pv, m * sizeof(uint64_t));
    }
    free(u);
    free(v);
    free(pu);
    free(pv);
}

/* The collective generator on all ranks, gathered, is the list one rank
 * generates alone on MPI_COMM_SELF. */
static void generate_identical_on_any_rank_count(void **state)
{
    (void)state;
    tc_kronecker k;
    tc_kronecker_init(&k, 10, 16, 99);
    tc_error err;
    tc_error_clear(&err);
    tc_edgelist world, alone;
    int status_world = tc_kronecker_generate(&k, MPI_COMM_WORLD, &world, &err);
    int status_alone = tc_kronecker_generate(&k, MPI_COMM_SELF, &alone, &err);

    int nranks;
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int *counts = malloc((size_t)nranks * sizeof(int)), *displs = malloc((size_t)nranks * sizeof(int));
    int mine = (int)world.count;
    MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
    displs[0] = 0;
    for (int r = 1; r < nranks; r++)
        displs[r] = displs[r - 1] + counts[r - 1];
    uint64_t m = tc_kronecker_edge_count(&k);
    uint64_t *u = malloc(m * sizeof(uint64_t)), *v = malloc(m * sizeof(uint64_t));
    MPI_Allgatherv(world.src, mine, MPI_UINT64_T, u, counts, displs, MPI_UINT64_T,
                   MPI_COMM_WORLD);
    MPI_Allgatherv(world.dst, mine, MPI_UINT64_T, v, counts, displs, MPI_UINT64_T,
                   MPI_COMM_WORLD);

    assert_int_equal(status_world, TC_OK);
    assert_int_equal(status_alone, TC_OK);
    assert_int_equal(world.n_edges, m);
    assert_int_equal(world.n_vertices, 1024);
    assert_true(world.symmetric);
    assert_int_equal(alone.count, m);
    assert_memory_equal(u, alone.src, m * sizeof(uint64_t));
    assert_memory_equal(v, alone.dst, m * sizeof(uint64_t));
    free(counts);
    free(displs);
    free(u);
    free(v);
    tc_edgelist_free(&world);
    tc_edgelist_free(&alone);
}

/* The permutation is a bijection of [0, 2^scale) for odd and even scales,
 * moves almost every label, and depends on the seed. */
static void permutation_is_bijection(void **state)
{
    (void)state;
    for (unsigned scale = 1; scale <= 13; scale++) {
        tc_kronecker k, other;
        tc_kronecker_init(&k, scale, 16, 5);
        tc_kronecker_init(&other, scale, 16, 6);
        uint64_t n = tc_kronecker_vertex_count(&k), fixed = 0, same = 0;
        uint64_t *image = malloc(n * sizeof(uint64_t));
        for (uint64_t x = 0; x < n; x++) {
            image[x] = tc_kronecker_permute(&k, x);
            fixed += image[x] == x;
            same += image[x] == tc_kronecker_permute(&other, x);
        }
        qsort(image, n, sizeof(uint64_t), compare_u64);
        for (uint64_t x = 0; x < n; x++)
            assert_int_equal(image[x], x);
        if (scale >= 8) {
            assert_true(fixed < n / 16);
            assert_true(same < n / 16);
        }
        free(image);
    }
}

/* Before the permutation, each level picks quadrant a (0,0) with
 * probability 0.57, b (0,1) 0.19, c (1,0) 0.19, d (1,1) 0.05. Over 2^20
 * edges of 12 levels the standard error of each frequency is below 2e-4,
 * so 2e-3 leaves a margin of ten. */
static void quadrant_frequencies_match_initiator(void **state)
{
    (void)state;
    tc_kronecker k;
    tc_kronecker_init(&k, 12, 256, 3);
    uint64_t m = tc_kronecker_edge_count(&k), counts[4] = { 0 };
    for (uint64_t e = 0; e < m; e++) {
        uint64_t u, v;
        tc_kronecker_edge_unpermuted(&k, e, &u, &v);
        for (unsigned level = 0; level < k.scale; level++)
            counts[((u >> level) & 1) * 2 + ((v >> level) & 1)]++;
    }
    double total = (double)m * k.scale;
    assert_float_equal(counts[0] / total, 0.57, 2e-3);
    assert_float_equal(counts[1] / total, 0.19, 2e-3);
    assert_float_equal(counts[2] / total, 0.19, 2e-3);
    assert_float_equal(counts[3] / total, 0.05, 2e-3);
}

/* The edge list keeps self-loops and duplicates, which the Graph500
 * specification requires kernel 1 to receive, and every id is a vertex. */
static void edges_keep_loops_and_duplicates(void **state)
{
    (void)state;
    tc_kronecker k;
    tc_kronecker_init(&k, 8, 16, 1);
    uint64_t m = tc_kronecker_edge_count(&k), n = tc_kronecker_vertex_count(&k);
    uint64_t *u = malloc(m * sizeof(uint64_t)), *v = malloc(m * sizeof(uint64_t));
    uint64_t *pairs = malloc(m * sizeof(uint64_t));
    tc_kronecker_edges(&k, 0, m, u, v);
    uint64_t loops = 0, duplicates = 0;
    for (uint64_t e = 0; e < m; e++) {
        assert_true(u[e] < n);
        assert_true(v[e] < n);
        loops += u[e] == v[e];
        pairs[e] = u[e] * n + v[e];
    }
    qsort(pairs, m, sizeof(uint64_t), compare_u64);
    for (uint64_t e = 1; e < m; e++)
        duplicates += pairs[e] == pairs[e - 1];
    assert_true(loops > 0);
    assert_true(duplicates > 0);
    free(u);
    free(v);
    free(pairs);
}

static void check_rejects_out_of_range(void **state)
{
    (void)state;
    struct {
        unsigned scale;
        uint64_t edgefactor;
        double a;
        const char *expected;
    } cases[] = {
        { 0, 16, 0.57, "scale 0 is out of range" },
        { TC_KRONECKER_MAX_SCALE + 1, 1, 0.57, "out of range: expected 1 to 62" },
        { 60, 16, 0.57, "edge factor 16 is out of range at scale 60" },
        { 10, 0, 0.57, "edge factor 0 is out of range" },
        { 10, 16, 0.9, "invalid initiator" },
        { 10, 16, -0.1, "invalid initiator" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        tc_kronecker k;
        tc_kronecker_init(&k, cases[c].scale, cases[c].edgefactor, 1);
        k.a = cases[c].a;
        tc_error err;
        tc_error_clear(&err);
        assert_int_equal(tc_kronecker_check(&k, &err), TC_ERR_INPUT);
        if (!strstr(err.message, cases[c].expected))
            fail_msg("case %zu: expected '%s' in '%s'", c, cases[c].expected, err.message);
    }

    tc_kronecker k;
    tc_kronecker_init(&k, TC_KRONECKER_MAX_SCALE, 1, 1);
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_kronecker_check(&k, &err), TC_OK);
    uint64_t big = tc_kronecker_permute(&k, ((uint64_t)1 << TC_KRONECKER_MAX_SCALE) - 1);
    assert_true(big < ((uint64_t)1 << TC_KRONECKER_MAX_SCALE));
}

/* Invalid parameters fail on every rank before any allocation. */
static void generate_rejects_invalid_parameters(void **state)
{
    (void)state;
    tc_kronecker k;
    tc_kronecker_init(&k, 0, 16, 1);
    tc_error err;
    tc_error_clear(&err);
    tc_edgelist l;
    assert_int_equal(tc_kronecker_generate(&k, MPI_COMM_WORLD, &l, &err), TC_ERR_INPUT);
    assert_null(l.src);
    assert_int_equal(l.count, 0);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edges_identical_for_any_split),
        cmocka_unit_test(generate_identical_on_any_rank_count),
        cmocka_unit_test(permutation_is_bijection),
        cmocka_unit_test(quadrant_frequencies_match_initiator),
        cmocka_unit_test(edges_keep_loops_and_duplicates),
        cmocka_unit_test(check_rejects_out_of_range),
        cmocka_unit_test(generate_rejects_invalid_parameters),
    };
    int failed = tc_test_run_mpi(tests);
    MPI_Finalize();
    return failed;
}
