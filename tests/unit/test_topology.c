/*
 * test_topology.c - the topology builder: partition, CSR order, inverted
 * indices, package popularity and the errors of bad references, on any
 * number of ranks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpi_test.h"
#include "topology.h"

#define N 10

static int world_rank(void)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

/* Ten workloads, two segments, three principals, two packages. Workload w
 * runs as principal w % 3, installs package 0 when w is even and package 1
 * when w % 3 == 0, and calls w+1 and w+2 (mod N), the second with implicit
 * trust. Principal 0 holds a gated grant to every workload divisible by 4. */
static tc_topology *build(void)
{
    tc_error err;
    tc_error_clear(&err);
    tc_topology *t = NULL;
    assert_int_equal(tc_topology_create(MPI_COMM_WORLD, N, &t, &err), TC_OK);
    tc_topology_intern(t, &t->tenants, "t", &err);
    tc_topology_intern(t, &t->accounts, "a", &err);
    tc_topology_intern(t, &t->vpcs, "v", &err);
    tc_topology_intern(t, &t->subnets, "s", &err);
    tc_topology_intern(t, &t->apps, "app", &err);
    assert_int_equal(tc_topology_add_segment(t, "front", &err), 0);
    assert_int_equal(tc_topology_add_segment(t, "back", &err), 1);
    for (int q = 0; q < 3; q++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", q);
        assert_int_equal(tc_topology_add_principal(t, name, &err), (uint32_t)q);
    }
    assert_int_equal(tc_topology_add_package(t, "even", TC_PKG_LIBRARY, &err), 0);
    assert_int_equal(tc_topology_add_package(t, "third", TC_PKG_LIBRARY, &err), 1);
    assert_int_equal(tc_topology_add_assume(t, 0, 2, &err), TC_OK);
    assert_int_equal(tc_topology_add_publish(t, 1, 0, &err), TC_OK);

    for (uint64_t w = 0; w < N; w++) {
        if (!tc_topology_owns(t, w))
            continue;
        tc_workload_spec spec = { .segment = w < 5 ? 0 : 1, .principal = (uint32_t)(w % 3) };
        assert_int_equal(tc_topology_set_workload(t, w, &spec, &err), TC_OK);
        if (w % 2 == 0)
            assert_int_equal(tc_topology_add_install(t, w, 0, &err), TC_OK);
        if (w % 3 == 0)
            assert_int_equal(tc_topology_add_install(t, w, 1, &err), TC_OK);
        assert_int_equal(tc_topology_add_api_edge(t, w, (w + 1) % N, 2, TC_TRUST_NONE, &err), TC_OK);
        assert_int_equal(tc_topology_add_api_edge(t, w, (w + 2) % N, 4, TC_TRUST_IMPLICIT, &err),
                         TC_OK);
        if (w % 4 == 0)
            assert_int_equal(tc_topology_add_grant(t, 0, w, 1, true, &err), TC_OK);
    }
    assert_int_equal(tc_topology_finish(t, &err), TC_OK);
    return t;
}

static void partition_covers_ids(void **state)
{
    (void)state;
    tc_topology *t = build();
    assert_int_equal(t->owner_offsets[0], 0);
    assert_int_equal(t->owner_offsets[t->nranks], N);
    for (int r = 0; r < t->nranks; r++)
        assert_true(t->owner_offsets[r] <= t->owner_offsets[r + 1]);
    for (uint64_t w = 0; w < N; w++) {
        int owner = tc_topology_owner(t, w);
        assert_true(w >= t->owner_offsets[owner] && w < t->owner_offsets[owner + 1]);
        assert_int_equal(tc_topology_owns(t, w), owner == t->rank);
    }
    tc_topology_free(t);
}

static void csr_keeps_insertion_order(void **state)
{
    (void)state;
    tc_topology *t = build();
    for (uint64_t i = 0; i < t->n_local; i++) {
        uint64_t w = t->first + i;
        assert_int_equal(t->api_offsets[i + 1] - t->api_offsets[i], 2);
        assert_int_equal(t->api_targets[t->api_offsets[i]], (w + 1) % N);
        assert_int_equal(t->api_targets[t->api_offsets[i] + 1], (w + 2) % N);
        assert_int_equal(t->api_trust[t->api_offsets[i] + 1], TC_TRUST_IMPLICIT);
        assert_int_equal(t->api_service[t->api_offsets[i]], 2);
    }
    assert_int_equal(t->n_api_edges, 2 * N);
    tc_topology_free(t);
}

static void inverted_indices_match(void **state)
{
    (void)state;
    tc_topology *t = build();

    /* Installers of package 0 are the owned even workloads, ascending. */
    uint64_t expected = 0;
    for (uint64_t i = 0; i < t->n_local; i++)
        expected += (t->first + i) % 2 == 0;
    assert_int_equal(t->installer_offsets[1] - t->installer_offsets[0], expected);
    for (uint64_t j = t->installer_offsets[0]; j + 1 < t->installer_offsets[1]; j++)
        assert_true(t->installers[j] < t->installers[j + 1]);

    /* Members of principal q are the owned workloads w with w % 3 == q. */
    for (uint32_t q = 0; q < 3; q++)
        for (uint64_t j = t->member_offsets[q]; j < t->member_offsets[q + 1]; j++)
            assert_int_equal((t->first + t->members[j]) % 3, q);

    /* Grants of principal 0 target the owned multiples of 4. */
    for (uint64_t g = t->grant_offsets[0]; g < t->grant_offsets[1]; g++) {
        assert_int_equal((t->first + t->grants[g].target_local) % 4, 0);
        assert_true(t->grants[g].gated);
    }
    assert_int_equal(t->n_grants, 3); /* 0, 4, 8 */
    assert_int_equal(t->n_installs, 5 + 4);

    /* Hub lists are replicated. */
    assert_int_equal(t->assume_offsets[1] - t->assume_offsets[0], 1);
    assert_int_equal(t->assumes[t->assume_offsets[0]], 2);
    assert_int_equal(t->publishes[t->publish_offsets[1]], 0);
    tc_topology_free(t);
}

static void popularity_ranks_by_installs(void **state)
{
    (void)state;
    tc_topology *t = build();
    /* Package 0 has 5 installers, package 1 has 4: ranks 1 and 2. */
    assert_int_equal(t->package_popularity[0], 1);
    assert_int_equal(t->package_popularity[1], 2);
    tc_topology_free(t);
}

static void bad_references_rejected(void **state)
{
    (void)state;
    tc_error err;
    tc_error_clear(&err);
    tc_topology *t = NULL;
    assert_int_equal(tc_topology_create(MPI_COMM_WORLD, 2, &t, &err), TC_OK);
    assert_int_equal(tc_topology_add_segment(t, "s", &err), 0);
    assert_int_equal(tc_topology_add_segment(t, "s", &err), TC_NAME_NONE);
    assert_int_equal(err.code, TC_ERR_INPUT);
    assert_non_null(strstr(err.message, "duplicate segment"));

    tc_error_clear(&err);
    assert_int_equal(tc_topology_add_base_rule(t, 0, 5, 1, &err), TC_ERR_INPUT);
    tc_error_clear(&err);
    assert_int_equal(tc_topology_add_assume(t, 0, 0, &err), TC_ERR_INPUT);

    /* A workload that is never set fails finish on every rank. */
    tc_error_clear(&err);
    tc_topology_intern(t, &t->tenants, "t", &err);
    tc_topology_add_principal(t, "p", &err);
    assert_int_equal(tc_topology_finish(t, &err), TC_ERR_INPUT);
    assert_non_null(strstr(err.message, "never defined"));
    tc_topology_free(t);
}

static void exploitable_must_be_exposed(void **state)
{
    (void)state;
    tc_error err;
    tc_error_clear(&err);
    tc_topology *t = NULL;
    assert_int_equal(tc_topology_create(MPI_COMM_WORLD, 1, &t, &err), TC_OK);
    if (tc_topology_owns(t, 0)) {
        tc_workload_spec spec = { .exposed = 1, .exploitable = 3 };
        assert_int_equal(tc_topology_set_workload(t, 0, &spec, &err), TC_ERR_INPUT);
    }
    tc_topology_free(t);
}

static void given_ranges_are_used(void **state)
{
    (void)state;
    tc_error err;
    tc_error_clear(&err);
    int nranks;
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    uint64_t *offsets = calloc((size_t)nranks + 1, sizeof *offsets);
    offsets[nranks] = 7; /* rank nranks-1 owns everything */
    for (int r = 1; r < nranks; r++)
        offsets[r] = 0;
    tc_topology *t = NULL;
    assert_int_equal(tc_topology_create_ranges(MPI_COMM_WORLD, 7, offsets, &t, &err), TC_OK);
    assert_int_equal(t->n_local, world_rank() == nranks - 1 ? 7 : 0);
    assert_int_equal(tc_topology_owner(t, 3), nranks - 1);
    tc_topology_free(t);
    free(offsets);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(partition_covers_ids),
        cmocka_unit_test(csr_keeps_insertion_order),
        cmocka_unit_test(inverted_indices_match),
        cmocka_unit_test(popularity_ranks_by_installs),
        cmocka_unit_test(bad_references_rejected),
        cmocka_unit_test(exploitable_must_be_exposed),
        cmocka_unit_test(given_ranges_are_used),
    };
    int failed = tc_test_run_mpi(tests);
    MPI_Finalize();
    return failed;
}
