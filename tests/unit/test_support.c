/*
 * test_support.c - the small modules under the engine: name tables, the
 * key map, owner look-ups and gathers, fault points, error agreement and
 * the atomic result write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "exchange.h"
#include "fault.h"
#include "keymap.h"
#include "mpi_test.h"
#include "names.h"
#include "results.h"

static void names_intern_and_find(void **state)
{
    (void)state;
    tc_names t;
    tc_names_init(&t);
    int added = 0;
    char name[32];
    /* Enough names to force several rehashes. */
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "name-%d", i);
        assert_int_equal(tc_names_intern(&t, name, &added), (uint32_t)i);
        assert_int_equal(added, 1);
    }
    assert_int_equal(tc_names_intern(&t, "name-17", &added), 17);
    assert_int_equal(added, 0);
    assert_int_equal(tc_names_find(&t, "name-999"), 999);
    assert_int_equal(tc_names_find(&t, "missing"), TC_NAME_NONE);
    assert_string_equal(tc_names_get(&t, 3), "name-3");
    assert_string_equal(tc_names_get(&t, 5000), "?");
    tc_names_free(&t);
}

static void keymap_interns_keys(void **state)
{
    (void)state;
    tc_keymap m;
    assert_int_equal(tc_keymap_init(&m, 3), 0);
    for (uint64_t i = 0; i < 500; i++) {
        uint64_t key[3] = { i, i * 7, i % 5 };
        assert_int_equal(tc_keymap_intern(&m, key), (uint32_t)i);
        m.values[i] = i + 1;
    }
    uint64_t again[3] = { 42, 294, 2 };
    assert_int_equal(tc_keymap_intern(&m, again), 42);
    assert_int_equal(m.values[42], 43);
    uint64_t missing[3] = { 42, 294, 3 };
    assert_int_equal(tc_keymap_find(&m, missing), UINT32_MAX);
    assert_int_equal(m.count, 500);
    tc_keymap_free(&m);
}

static void lookup_reaches_owners(void **state)
{
    (void)state;
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);

    /* 5 ids per rank; the value of id g is 1000 + g, known by its owner. */
    uint64_t *offsets = malloc(((size_t)nranks + 1) * sizeof *offsets);
    for (int r = 0; r <= nranks; r++)
        offsets[r] = 5 * (uint64_t)r;
    uint32_t values[5];
    for (int i = 0; i < 5; i++)
        values[i] = 1000 + 5 * (uint32_t)rank + (uint32_t)i;

    /* Every rank asks for every id, in reverse order. */
    uint64_t n = 5 * (uint64_t)nranks;
    uint64_t *ids = malloc(n * sizeof *ids);
    uint32_t *out = malloc(n * sizeof *out);
    for (uint64_t i = 0; i < n; i++)
        ids[i] = n - 1 - i;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_exchange_lookup_u32(MPI_COMM_WORLD, offsets, ids, n, values, out, &err),
                     TC_OK);
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(out[i], 1000 + ids[i]);
    free(offsets);
    free(ids);
    free(out);
}

static void allgather_keeps_rank_order(void **state)
{
    (void)state;
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    /* Rank r contributes r words, each equal to r. */
    uint64_t mine[16];
    for (int i = 0; i < rank; i++)
        mine[i] = (uint64_t)rank;
    uint64_t *all = NULL, n_all = 0;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_exchange_allgather_u64(MPI_COMM_WORLD, mine, (uint64_t)rank, &all,
                                               &n_all, &err), TC_OK);
    assert_int_equal(n_all, (uint64_t)nranks * (nranks - 1) / 2);
    uint64_t k = 0;
    for (int r = 0; r < nranks; r++)
        for (int i = 0; i < r; i++)
            assert_int_equal(all[k++], (uint64_t)r);
    free(all);
}

static void fault_points_match_spec(void **state)
{
    (void)state;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    tc_error err;
    char spec[64];

    tc_error_clear(&err);
    unsetenv("TC_FAULT");
    assert_int_equal(tc_fault_point("simulate", &err), TC_OK);

    snprintf(spec, sizeof spec, "7:load,%d:simulate", rank);
    setenv("TC_FAULT", spec, 1);
    assert_int_equal(tc_fault_point("load", &err), TC_OK);
    assert_int_equal(tc_fault_point("simulat", &err), TC_OK);
    assert_int_equal(tc_fault_point("simulate", &err), TC_ERR_RUNTIME);
    assert_non_null(strstr(err.message, "injected fault at simulate"));

    tc_error_clear(&err);
    setenv("TC_FAULT", "*:output", 1);
    assert_int_equal(tc_fault_point("output", &err), TC_ERR_RUNTIME);
    unsetenv("TC_FAULT");
}

static void agree_picks_lowest_rank(void **state)
{
    (void)state;
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    tc_error err;

    tc_error_clear(&err);
    assert_int_equal(tc_error_agree(&err, MPI_COMM_WORLD), TC_OK);

    /* Every rank but 0 fails, each with its own message: all get rank
     * 1's (or nothing fails on one rank). */
    tc_error_clear(&err);
    if (rank > 0)
        tc_error_runtime(&err, "failure on rank %d", rank);
    int code = tc_error_agree(&err, MPI_COMM_WORLD);
    if (nranks == 1) {
        assert_int_equal(code, TC_OK);
    } else {
        assert_int_equal(code, TC_ERR_RUNTIME);
        assert_string_equal(err.message, "failure on rank 1");
        assert_int_equal(err.rank, 1);
    }
}

static void error_keeps_first(void **state)
{
    (void)state;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_error_input(&err, "f.yaml", 3, 7, "seed", "expected %s", "a number"),
                     TC_ERR_INPUT);
    tc_error_runtime(&err, "later");
    assert_string_equal(err.message, "expected a number");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 7);

    char buf[256] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    tc_error_print(&err, f);
    fclose(f);
    assert_string_equal(buf, "trustchain: f.yaml:3:7: seed: expected a number\n");
}

static void results_write_is_atomic(void **state)
{
    (void)state;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char dir[] = "/tmp/tc-results-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/r%d.json", dir, rank);

    tc_error err;
    tc_error_clear(&err);
    json_t *doc = json_pack("{s:i}", "schema_version", 1);
    assert_int_equal(tc_results_check_path(path, &err), TC_OK);
    assert_int_equal(tc_results_write(doc, path, &err), TC_OK);
    json_t *back = json_load_file(path, 0, NULL);
    assert_non_null(back);
    assert_int_equal(json_integer_value(json_object_get(back, "schema_version")), 1);
    json_decref(back);
    json_decref(doc);

    /* Nothing but the result is left in the folder. */
    char cmd[200];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);

    /* A missing folder is an input error naming it. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nope/r.json", dir);
    assert_int_equal(tc_results_check_path(missing, &err), TC_ERR_INPUT);
    assert_non_null(strstr(err.message, "does not exist"));

    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_intern_and_find),
        cmocka_unit_test(keymap_interns_keys),
        cmocka_unit_test(lookup_reaches_owners),
        cmocka_unit_test(allgather_keeps_rank_order),
        cmocka_unit_test(fault_points_match_spec),
        cmocka_unit_test(agree_picks_lowest_rank),
        cmocka_unit_test(error_keeps_first),
        cmocka_unit_test(results_write_is_atomic),
    };
    int failed = tc_test_run_mpi(tests);
    MPI_Finalize();
    return failed;
}
