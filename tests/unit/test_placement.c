/*
 * test_placement.c - rank placement on hwloc synthetic topologies, with
 * expected NUMA nodes and cores worked out by hand from the rule in
 * placement.h, and on this machine without assuming binding succeeds.
 *
 * Runs at any world size. Tests that initialise a placement on
 * MPI_COMM_WORLD have expected rows for world sizes 1, 2 and 3 and skip
 * the table check at other sizes. Collectives come first in each test and
 * assertions after, so a failed assertion on one rank cannot leave the
 * others waiting in a collective.
 *
 * Main topology ("two packages"): package:2 numa:2 core:2 pu:1, so NUMA
 * node j (OS index j) contains cores 2j and 2j+1, and core i is PU i.
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
#include <jansson.h>

#include "mpi_test.h"
#include "placement.h"
#include "rng.h"

#define TWO_PACKAGES "package:2 numa:2 core:2 pu:1"

/* Expected slot: NUMA OS index, cores (logical, list syntax), PUs (OS
 * indexes, list syntax; NULL when equal to the cores). */
typedef struct expected_slot {
    unsigned numa;
    const char *cores;
    const char *pus;
} expected_slot;

static int world_rank(void)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

static int world_size(void)
{
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

static hwloc_topology_t load_synthetic(const char *description)
{
    hwloc_topology_t topology;
    assert_int_equal(hwloc_topology_init(&topology), 0);
    assert_int_equal(hwloc_topology_set_synthetic(topology, description), 0);
    assert_int_equal(hwloc_topology_load(topology), 0);
    return topology;
}

static hwloc_bitmap_t parse_list(const char *list)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    assert_non_null(set);
    assert_int_equal(hwloc_bitmap_list_sscanf(set, list), 0);
    return set;
}

static void assert_list_equal(hwloc_const_bitmap_t set, const char *expected)
{
    char *list = NULL;
    assert_true(hwloc_bitmap_list_asprintf(&list, set) >= 0);
    assert_string_equal(list, expected);
    free(list);
}

static void assert_slot_equal(const tc_placement_slot *slot, const expected_slot *want)
{
    assert_int_equal(slot->numa_os, want->numa);
    assert_list_equal(slot->cores, want->cores);
    assert_list_equal(slot->cpuset, want->pus ? want->pus : want->cores);
}

/* Plan every rank of a NODE_SIZE-rank node on DESCRIPTION over USABLE
 * (NULL: all PUs) and compare with WANT[node_rank]. */
static void check_plan(const char *description, const char *usable, int node_size,
                       const expected_slot *want)
{
    hwloc_topology_t topology = load_synthetic(description);
    hwloc_bitmap_t set = usable ? parse_list(usable)
                                : hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(topology));
    for (int r = 0; r < node_size; r++) {
        tc_placement_slot slot;
        tc_error err;
        tc_error_clear(&err);
        assert_int_equal(tc_placement_plan(topology, set, node_size, r, &slot, &err), TC_OK);
        assert_slot_equal(&slot, &want[r]);
        tc_placement_slot_free(&slot);
    }
    hwloc_bitmap_free(set);
    hwloc_topology_destroy(topology);
}

/* ---- the assignment rule, local ----------------------------------------- */

static void plan_two_packages_by_rank_count(void **state)
{
    (void)state;
    /* One rank: its block is all 8 cores, every NUMA node has 2 of them,
     * and the tie goes to NUMA node 0. */
    check_plan(TWO_PACKAGES, NULL, 1, (expected_slot[]){ { 0, "0-1", NULL } });

    /* Two ranks: blocks [0,4) and [4,8) tie between two NUMA nodes each. */
    check_plan(TWO_PACKAGES, NULL, 2,
               (expected_slot[]){ { 0, "0-1", NULL }, { 2, "4-5", NULL } });

    /* Three ranks: blocks [0,2), [2,5) and [5,8). The middle one has two
     * positions in NUMA node 1, the last two in NUMA node 3. */
    check_plan(TWO_PACKAGES, NULL, 3,
               (expected_slot[]){ { 0, "0-1", NULL }, { 1, "2-3", NULL }, { 3, "6-7", NULL } });

    check_plan(TWO_PACKAGES, NULL, 4,
               (expected_slot[]){ { 0, "0-1", NULL }, { 1, "2-3", NULL }, { 2, "4-5", NULL },
                                  { 3, "6-7", NULL } });

    check_plan(TWO_PACKAGES, NULL, 8,
               (expected_slot[]){ { 0, "0", NULL }, { 0, "1", NULL }, { 1, "2", NULL },
                                  { 1, "3", NULL }, { 2, "4", NULL }, { 2, "5", NULL },
                                  { 3, "6", NULL }, { 3, "7", NULL } });
}

static void plan_more_ranks_than_cores(void **state)
{
    (void)state;
    /* 12 ranks on 8 cores: blocks start at floor(8i/12) = 0 0 1 2 2 3 4 4
     * 5 6 6 7, three ranks per NUMA node. Within a node of 2 cores, ranks
     * k = 0, 1, 2 start at floor(2k/3) = 0, 0, 1. */
    check_plan(TWO_PACKAGES, NULL, 12,
               (expected_slot[]){ { 0, "0", NULL }, { 0, "0", NULL }, { 0, "1", NULL },
                                  { 1, "2", NULL }, { 1, "2", NULL }, { 1, "3", NULL },
                                  { 2, "4", NULL }, { 2, "4", NULL }, { 2, "5", NULL },
                                  { 3, "6", NULL }, { 3, "6", NULL }, { 3, "7", NULL } });

    /* 6 ranks on 4 cores of one NUMA node start at floor(4k/6). */
    check_plan("numa:1 core:4 pu:1", NULL, 6,
               (expected_slot[]){ { 0, "0", NULL }, { 0, "0", NULL }, { 0, "1", NULL },
                                  { 0, "2", NULL }, { 0, "2", NULL }, { 0, "3", NULL } });
}

static void plan_one_numa_node(void **state)
{
    (void)state;
    check_plan("numa:1 core:4 pu:1", NULL, 1, (expected_slot[]){ { 0, "0-3", NULL } });
    check_plan("numa:1 core:4 pu:1", NULL, 2,
               (expected_slot[]){ { 0, "0-1", NULL }, { 0, "2-3", NULL } });
    /* Three ranks on 4 cores: [0,1), [1,2), [2,4). */
    check_plan("numa:1 core:4 pu:1", NULL, 3,
               (expected_slot[]){ { 0, "0", NULL }, { 0, "1", NULL }, { 0, "2-3", NULL } });
}

static void plan_restricted_usable_set(void **state)
{
    (void)state;
    /* PUs 0-2 and 6: NUMA node 0 keeps cores 0-1, node 1 keeps core 2,
     * node 2 none, node 3 core 6. The list is 0 1 2 6. */
    check_plan(TWO_PACKAGES, "0-2,6", 1, (expected_slot[]){ { 0, "0-1", NULL } });
    /* Block [2,4) has one position in node 1 and one in node 3, a tie. */
    check_plan(TWO_PACKAGES, "0-2,6", 2,
               (expected_slot[]){ { 0, "0-1", NULL }, { 1, "2", NULL } });
    check_plan(TWO_PACKAGES, "0-2,6", 3,
               (expected_slot[]){ { 0, "0", NULL }, { 0, "1", NULL }, { 1, "2", NULL } });
    check_plan(TWO_PACKAGES, "0-2,6", 4,
               (expected_slot[]){ { 0, "0", NULL }, { 0, "1", NULL }, { 1, "2", NULL },
                                  { 3, "6", NULL } });

    /* Uneven NUMA nodes: 4 usable cores in node 0, 2 in node 1. Two ranks
     * split them by majority, [0,3) and [3,6), not both on node 0. */
    check_plan("numa:2 core:4 pu:1", "0-5", 2,
               (expected_slot[]){ { 0, "0-3", NULL }, { 1, "4-5", NULL } });
    check_plan("numa:2 core:4 pu:1", "0-5", 3,
               (expected_slot[]){ { 0, "0-1", NULL }, { 0, "2-3", NULL }, { 1, "4-5", NULL } });
}

static void plan_partly_usable_core(void **state)
{
    (void)state;
    /* Two cores of two PUs each; PU 3 is not usable, so core 1 counts but
     * its rank is bound to PU 2 only. */
    check_plan("numa:1 core:2 pu:2", "0-2", 1, (expected_slot[]){ { 0, "0-1", "0-2" } });
    check_plan("numa:1 core:2 pu:2", "0-2", 2,
               (expected_slot[]){ { 0, "0", "0-1" }, { 0, "1", "2" } });
}

static void plan_topology_without_cores(void **state)
{
    (void)state;
    /* No Core objects: PUs stand in for cores. */
    check_plan("numa:2 pu:2", NULL, 2, (expected_slot[]){ { 0, "0-1", NULL }, { 1, "2-3", NULL } });
}

static void plan_rejects_usable_outside_topology(void **state)
{
    (void)state;
    hwloc_topology_t topology = load_synthetic(TWO_PACKAGES);
    hwloc_bitmap_t set = parse_list("100-101");
    tc_placement_slot slot;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_placement_plan(topology, set, 2, 0, &slot, &err), TC_ERR_INPUT);
    assert_non_null(strstr(err.message, "100-101"));
    tc_placement_slot_free(&slot);

    tc_error_clear(&err);
    assert_int_equal(tc_placement_plan(topology, hwloc_topology_get_allowed_cpuset(topology), 2, 2,
                                       &slot, &err),
                     TC_ERR_RUNTIME);
    tc_placement_slot_free(&slot);
    hwloc_bitmap_free(set);
    hwloc_topology_destroy(topology);
}

/* Check the rule's properties for NODE_SIZE ranks over USABLE, computing
 * each core's NUMA node by cpuset inclusion rather than as the plan does. */
static void check_plan_properties(hwloc_topology_t topology, hwloc_const_cpuset_t usable,
                                  int node_size)
{
    hwloc_obj_type_t type = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_CORE) > 0
                                ? HWLOC_OBJ_CORE
                                : HWLOC_OBJ_PU;
    int n_cores = hwloc_get_nbobjs_by_type(topology, type);
    hwloc_bitmap_t usable_cores = hwloc_bitmap_alloc();
    for (int i = 0; i < n_cores; i++)
        if (hwloc_bitmap_intersects(hwloc_get_obj_by_type(topology, type, i)->cpuset, usable))
            hwloc_bitmap_set(usable_cores, i);
    int c = hwloc_bitmap_weight(usable_cores);

    hwloc_bitmap_t seen = hwloc_bitmap_alloc();
    int previous_numa = -1;
    for (int r = 0; r < node_size; r++) {
        tc_placement_slot slot;
        tc_error err;
        tc_error_clear(&err);
        assert_int_equal(tc_placement_plan(topology, usable, node_size, r, &slot, &err), TC_OK);

        /* PUs inside the usable set, cores inside the slot's NUMA node. */
        assert_false(hwloc_bitmap_iszero(slot.cpuset));
        assert_true(hwloc_bitmap_isincluded(slot.cpuset, usable));
        hwloc_obj_t numa = hwloc_get_numanode_obj_by_os_index(topology, slot.numa_os);
        assert_non_null(numa);
        int core;
        hwloc_bitmap_foreach_begin(core, slot.cores)
            hwloc_obj_t obj = hwloc_get_obj_by_type(topology, type, (unsigned)core);
            assert_true(hwloc_bitmap_isincluded(obj->cpuset, numa->cpuset));
            assert_true(hwloc_bitmap_isset(usable_cores, (unsigned)core));
        hwloc_bitmap_foreach_end();

        /* Consecutive ranks: NUMA nodes never go back. */
        assert_true((int)slot.numa_logical >= previous_numa);
        previous_numa = (int)slot.numa_logical;

        /* With no more ranks than cores, no core is shared. */
        if (node_size <= c)
            assert_false(hwloc_bitmap_intersects(seen, slot.cores));
        hwloc_bitmap_or(seen, seen, slot.cores);
        tc_placement_slot_free(&slot);
    }

    /* With at least as many ranks as cores, every usable core is used. */
    if (node_size >= c)
        assert_true(hwloc_bitmap_isequal(seen, usable_cores));
    hwloc_bitmap_free(seen);
    hwloc_bitmap_free(usable_cores);
}

static void plan_properties_on_random_sets(void **state)
{
    (void)state;
    const char *descriptions[] = { TWO_PACKAGES, "numa:3 core:3 pu:2", "package:2 numa:1 core:5 pu:1",
                                   "numa:2 pu:3" };
    for (size_t d = 0; d < sizeof descriptions / sizeof descriptions[0]; d++) {
        hwloc_topology_t topology = load_synthetic(descriptions[d]);
        int n_pus = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_PU);
        for (uint32_t trial = 0; trial < 20; trial++) {
            /* A random non-empty usable set: each PU kept with probability 1/2. */
            hwloc_bitmap_t usable = hwloc_bitmap_alloc();
            for (int p = 0; p < n_pus; p++)
                if (tc_rng_u64(42, 7, d, trial * 64 + (uint32_t)p) & 1)
                    hwloc_bitmap_set(usable, (unsigned)p);
            if (hwloc_bitmap_iszero(usable))
                hwloc_bitmap_set(usable, trial % (unsigned)n_pus);
            for (int node_size = 1; node_size <= 2 * n_pus + 1; node_size++)
                check_plan_properties(topology, usable, node_size);
            hwloc_bitmap_free(usable);
        }
        hwloc_topology_destroy(topology);
    }
}

/* ---- tc_placement_init on MPI_COMM_WORLD --------------------------------- */

/* The rows of the two-packages table for world sizes 1, 2 and 3, or NULL. */
static const expected_slot *two_packages_row(int size)
{
    static const expected_slot one[] = { { 0, "0-1", NULL } };
    static const expected_slot two[] = { { 0, "0-1", NULL }, { 2, "4-5", NULL } };
    static const expected_slot three[] = { { 0, "0-1", NULL }, { 1, "2-3", NULL },
                                           { 3, "6-7", NULL } };
    switch (size) {
    case 1: return one;
    case 2: return two;
    case 3: return three;
    default: return NULL;
    }
}

static void init_synthetic_world(void **state)
{
    (void)state;
    tc_placement_options opt = { .synthetic = TWO_PACKAGES };
    tc_placement *pl = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_placement_init(MPI_COMM_WORLD, &opt, &pl, &err);

    assert_int_equal(rc, TC_OK);
    assert_non_null(pl);
    assert_false(pl->this_system);
    assert_false(pl->virtual_nodes);
    assert_int_equal(pl->node, 0);
    assert_int_equal(pl->n_nodes, 1);
    assert_int_equal(pl->node_rank, world_rank());
    assert_int_equal(pl->node_size, world_size());
    assert_int_equal(pl->bind, TC_PLACEMENT_BIND_SKIPPED);
    assert_false(pl->cpu_bound);
    assert_false(pl->memory_bound);
    assert_string_equal(pl->warning, "");
    assert_string_equal(pl->source, "synthetic: " TWO_PACKAGES);
    assert_true(pl->host[0] != '\0');
    const expected_slot *row = two_packages_row(world_size());
    if (row)
        assert_slot_equal(&pl->slot, &row[world_rank()]);
    tc_placement_free_all(pl);
}

static void init_cpus_option_restricts(void **state)
{
    (void)state;
    tc_placement_options opt = { .synthetic = TWO_PACKAGES, .cpus = "4-7" };
    tc_placement *pl = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_placement_init(MPI_COMM_WORLD, &opt, &pl, &err);

    assert_int_equal(rc, TC_OK);
    hwloc_bitmap_t allowed = parse_list("4-7");
    assert_true(hwloc_bitmap_isincluded(pl->slot.cpuset, allowed));
    assert_true(hwloc_bitmap_isequal(pl->node_usable, allowed));
    hwloc_bitmap_free(allowed);

    /* The list is cores 4 5 (node 2) and 6 7 (node 3). Three ranks take
     * blocks [0,1), [1,2), [2,4). */
    static const expected_slot one[] = { { 2, "4-5", NULL } };
    static const expected_slot two[] = { { 2, "4-5", NULL }, { 3, "6-7", NULL } };
    static const expected_slot three[] = { { 2, "4", NULL }, { 2, "5", NULL }, { 3, "6-7", NULL } };
    const expected_slot *rows[] = { NULL, one, two, three };
    if (world_size() <= 3)
        assert_slot_equal(&pl->slot, &rows[world_size()][world_rank()]);
    tc_placement_free_all(pl);
}

static void init_virtual_nodes_option(void **state)
{
    (void)state;
    int size = world_size(), rank = world_rank();

    /* One virtual node per rank: each plans alone and takes NUMA node 0. */
    tc_placement_options opt = { .synthetic = TWO_PACKAGES, .virtual_nodes = size };
    tc_placement *alone = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc_alone = tc_placement_init(MPI_COMM_WORLD, &opt, &alone, &err);

    /* Two virtual nodes: the first size mod 2 nodes get one rank more, so
     * at 3 ranks node 0 has ranks 0-1 and node 1 has rank 2. */
    opt.virtual_nodes = size >= 2 ? 2 : 1;
    tc_placement *pair = NULL;
    tc_error_clear(&err);
    int rc_pair = tc_placement_init(MPI_COMM_WORLD, &opt, &pair, &err);

    assert_int_equal(rc_alone, TC_OK);
    assert_true(alone->virtual_nodes);
    assert_int_equal(alone->node, rank);
    assert_int_equal(alone->n_nodes, size);
    assert_int_equal(alone->node_rank, 0);
    assert_int_equal(alone->node_size, 1);
    assert_slot_equal(&alone->slot, &(expected_slot){ 0, "0-1", NULL });

    assert_int_equal(rc_pair, TC_OK);
    if (size == 3) {
        static const int node[] = { 0, 0, 1 };
        static const int node_rank[] = { 0, 1, 0 };
        static const int node_size[] = { 2, 2, 1 };
        static const expected_slot slot[] = { { 0, "0-1", NULL }, { 2, "4-5", NULL },
                                              { 0, "0-1", NULL } };
        assert_int_equal(pair->node, node[rank]);
        assert_int_equal(pair->node_rank, node_rank[rank]);
        assert_int_equal(pair->node_size, node_size[rank]);
        assert_slot_equal(&pair->slot, &slot[rank]);
    }
    assert_int_equal(pair->n_nodes, size >= 2 ? 2 : 1);
    tc_placement_free_all(alone);
    tc_placement_free_all(pair);
}

static void init_virtual_nodes_env(void **state)
{
    (void)state;
    int size = world_size();

    setenv("TC_VIRTUAL_NODES", "1", 1);
    tc_placement_options opt = { .synthetic = TWO_PACKAGES };
    tc_placement *pl = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_placement_init(MPI_COMM_WORLD, &opt, &pl, &err);

    /* The option takes precedence over the variable. */
    opt.virtual_nodes = size;
    tc_placement *by_option = NULL;
    tc_error_clear(&err);
    int rc_option = tc_placement_init(MPI_COMM_WORLD, &opt, &by_option, &err);
    unsetenv("TC_VIRTUAL_NODES");

    assert_int_equal(rc, TC_OK);
    assert_true(pl->virtual_nodes);
    assert_int_equal(pl->node, 0);
    assert_int_equal(pl->node_size, size);
    assert_int_equal(rc_option, TC_OK);
    assert_int_equal(by_option->node_size, 1);
    tc_placement_free_all(pl);
    tc_placement_free_all(by_option);
}

/* Run init with OPT and the variable NAME set to VALUE (NULL: unset), and
 * check that every rank gets TC_ERR_INPUT with WORDS in the message. */
static void check_init_input_error(const tc_placement_options *opt, const char *name,
                                   const char *value, const char *words)
{
    if (name)
        setenv(name, value, 1);
    tc_placement sentinel;
    tc_placement *pl = &sentinel; /* not NULL, to see init reset it */
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_placement_init(MPI_COMM_WORLD, opt, &pl, &err);
    if (name)
        unsetenv(name);

    assert_int_equal(rc, TC_ERR_INPUT);
    assert_int_equal(err.code, TC_ERR_INPUT);
    assert_null(pl);
    assert_non_null(strstr(err.message, words));
}

static void init_rejects_invalid_inputs(void **state)
{
    (void)state;
    check_init_input_error(&(tc_placement_options){ .synthetic = "bogus:2" }, NULL, NULL,
                           "bogus:2");
    check_init_input_error(&(tc_placement_options){ .synthetic = TWO_PACKAGES, .cpus = "x" },
                           NULL, NULL, "invalid cpus list 'x'");
    check_init_input_error(&(tc_placement_options){ .synthetic = TWO_PACKAGES, .cpus = "100-101" },
                           NULL, NULL, "contains no PU");
    check_init_input_error(&(tc_placement_options){ .synthetic = TWO_PACKAGES,
                                                    .virtual_nodes = world_size() + 1 },
                           NULL, NULL, "more virtual nodes than");
    check_init_input_error(&(tc_placement_options){ .synthetic = TWO_PACKAGES,
                                                    .virtual_nodes = -1 },
                           NULL, NULL, "invalid virtual_nodes option -1");
    check_init_input_error(&(tc_placement_options){ .synthetic = TWO_PACKAGES },
                           "TC_VIRTUAL_NODES", "two", "invalid TC_VIRTUAL_NODES value 'two'");
    check_init_input_error(&(tc_placement_options){ .synthetic = TWO_PACKAGES }, "TC_NO_BIND",
                           "yes", "invalid TC_NO_BIND value 'yes'");
    check_init_input_error(NULL, "HWLOC_SYNTHETIC", "bogus:2",
                           "invalid HWLOC_SYNTHETIC value 'bogus:2'");
    check_init_input_error(NULL, "HWLOC_XMLFILE", "/nonexistent/topology.xml",
                           "/nonexistent/topology.xml");
}

static void init_honours_hwloc_synthetic(void **state)
{
    (void)state;
    setenv("HWLOC_SYNTHETIC", "numa:2 core:1 pu:1", 1);
    tc_placement *pl = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_placement_init(MPI_COMM_WORLD, NULL, &pl, &err);
    unsetenv("HWLOC_SYNTHETIC");

    assert_int_equal(rc, TC_OK);
    assert_string_equal(pl->source, "synthetic: numa:2 core:1 pu:1");
    assert_false(pl->this_system);
    /* Two cores in two NUMA nodes. Three ranks start at floor(2i/3) =
     * 0, 0, 1: ranks 0 and 1 share core 0. */
    static const expected_slot one[] = { { 0, "0", NULL } };
    static const expected_slot two[] = { { 0, "0", NULL }, { 1, "1", NULL } };
    static const expected_slot three[] = { { 0, "0", NULL }, { 0, "0", NULL }, { 1, "1", NULL } };
    const expected_slot *rows[] = { NULL, one, two, three };
    if (world_size() <= 3)
        assert_slot_equal(&pl->slot, &rows[world_size()][world_rank()]);
    tc_placement_free_all(pl);
}

static void init_honours_hwloc_xmlfile(void **state)
{
    (void)state;
    /* Each rank exports the two-packages topology to its own XML file. */
    char path[] = "/tmp/test_placement_XXXXXX";
    int fd = mkstemp(path);
    hwloc_topology_t topology = load_synthetic(TWO_PACKAGES);
    int exported = hwloc_topology_export_xml(topology, path, 0);
    hwloc_topology_destroy(topology);

    setenv("HWLOC_XMLFILE", path, 1);
    tc_placement *pl = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_placement_init(MPI_COMM_WORLD, NULL, &pl, &err);
    unsetenv("HWLOC_XMLFILE");
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }

    assert_true(fd >= 0);
    assert_int_equal(exported, 0);
    assert_int_equal(rc, TC_OK);
    assert_non_null(strstr(pl->source, "xml: /tmp/test_placement_"));
    assert_false(pl->this_system);
    assert_int_equal(pl->bind, TC_PLACEMENT_BIND_SKIPPED);
    const expected_slot *row = two_packages_row(world_size());
    if (row)
        assert_slot_equal(&pl->slot, &row[world_rank()]);
    tc_placement_free_all(pl);
}

static void init_this_machine(void **state)
{
    (void)state;
    hwloc_topology_t topology;
    assert_int_equal(hwloc_topology_init(&topology), 0);
    assert_int_equal(hwloc_topology_load(topology), 0);
    hwloc_bitmap_t before = hwloc_bitmap_alloc();
    int read_before = hwloc_get_cpubind(topology, before, HWLOC_CPUBIND_PROCESS);
    hwloc_bitmap_t nodes_before = hwloc_bitmap_alloc();
    hwloc_membind_policy_t policy_before;
    int read_nodes_before = hwloc_get_membind(topology, nodes_before, &policy_before,
                                              HWLOC_MEMBIND_BYNODESET);

    tc_placement *pl = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_placement_init(MPI_COMM_WORLD, NULL, &pl, &err);

    assert_int_equal(rc, TC_OK);
    assert_true(pl->this_system);
    assert_string_equal(pl->source, "machine");
    assert_int_equal(pl->bind, TC_PLACEMENT_BIND_ATTEMPTED);
    assert_false(hwloc_bitmap_iszero(pl->slot.cpuset));
    assert_true(hwloc_bitmap_isincluded(pl->slot.cpuset,
                                        hwloc_topology_get_allowed_cpuset(topology)));
    /* A failed binding must come with a warning. */
    if (!pl->cpu_bound || !pl->memory_bound)
        assert_true(pl->warning[0] != '\0');

    /* Bound to the slot while placed, back to the old binding after. */
    hwloc_bitmap_t now = hwloc_bitmap_alloc();
    if (pl->cpu_bound) {
        assert_int_equal(hwloc_get_cpubind(topology, now, HWLOC_CPUBIND_PROCESS), 0);
        assert_true(hwloc_bitmap_isequal(now, pl->slot.cpuset));
    }
    hwloc_membind_policy_t policy;
    if (pl->memory_bound) {
        assert_int_equal(hwloc_get_membind(topology, now, &policy, HWLOC_MEMBIND_BYNODESET), 0);
        assert_int_equal(policy, HWLOC_MEMBIND_BIND);
        assert_true(hwloc_bitmap_isequal(now, pl->slot.nodeset));
    }
    bool was_cpu_bound = pl->cpu_bound, was_memory_bound = pl->memory_bound;
    tc_placement_free_all(pl);
    if (was_cpu_bound && read_before == 0) {
        assert_int_equal(hwloc_get_cpubind(topology, now, HWLOC_CPUBIND_PROCESS), 0);
        assert_true(hwloc_bitmap_isequal(now, before));
    }
    if (was_memory_bound && read_nodes_before == 0) {
        assert_int_equal(hwloc_get_membind(topology, now, &policy, HWLOC_MEMBIND_BYNODESET), 0);
        assert_int_equal(policy, policy_before);
        assert_true(hwloc_bitmap_isequal(now, nodes_before));
    }
    hwloc_bitmap_free(now);
    hwloc_bitmap_free(nodes_before);
    hwloc_bitmap_free(before);
    hwloc_topology_destroy(topology);
}

static void init_within_process_binding(void **state)
{
    (void)state;
    /* Every rank binds itself to the last allowed PU, as taskset -c would,
     * so the node's usable set is that PU alone. */
    hwloc_topology_t topology;
    assert_int_equal(hwloc_topology_init(&topology), 0);
    assert_int_equal(hwloc_topology_load(topology), 0);
    hwloc_bitmap_t original = hwloc_bitmap_alloc();
    hwloc_bitmap_t last = hwloc_bitmap_alloc();
    int read_original = hwloc_get_cpubind(topology, original, HWLOC_CPUBIND_PROCESS);
    hwloc_bitmap_only(last, (unsigned)hwloc_bitmap_last(hwloc_topology_get_allowed_cpuset(topology)));
    int restricted = read_original == 0 &&
                     hwloc_set_cpubind(topology, last, HWLOC_CPUBIND_PROCESS) == 0;
    int all_restricted = 0;
    MPI_Allreduce(&restricted, &all_restricted, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);

    tc_placement *pl = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_placement_init(MPI_COMM_WORLD, NULL, &pl, &err);
    bool slot_is_last = rc == TC_OK && hwloc_bitmap_isequal(pl->slot.cpuset, last);
    tc_placement_free_all(pl);
    if (restricted)
        hwloc_set_cpubind(topology, original, HWLOC_CPUBIND_PROCESS);
    hwloc_bitmap_free(original);
    hwloc_bitmap_free(last);
    hwloc_topology_destroy(topology);

    assert_int_equal(rc, TC_OK);
    if (!all_restricted)
        skip(); /* the system rejected the test's own binding */
    assert_true(slot_is_last);
}

/* Return the allowed PU that rank R binds itself to in
 * init_unions_node_bindings, counted from the last so that rank 0 gets a
 * high PU. */
static unsigned chosen_pu(hwloc_const_cpuset_t allowed, int r)
{
    int n = hwloc_bitmap_weight(allowed);
    int skip_count = n - 1 - r % n;
    int pu = hwloc_bitmap_first(allowed);
    for (int i = 0; i < skip_count; i++)
        pu = hwloc_bitmap_next(allowed, pu);
    return (unsigned)pu;
}

static void init_unions_node_bindings(void **state)
{
    (void)state;
    /* Ranks bound to different PUs, as a launcher binds them: the plan
     * runs over the union of the node's bindings, not each rank's own. */
    int size = world_size(), rank = world_rank();
    hwloc_topology_t topology;
    assert_int_equal(hwloc_topology_init(&topology), 0);
    assert_int_equal(hwloc_topology_load(topology), 0);
    hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topology);
    hwloc_bitmap_t original = hwloc_bitmap_alloc();
    hwloc_bitmap_t mine = hwloc_bitmap_alloc();
    hwloc_bitmap_t node_union = hwloc_bitmap_alloc();
    for (int r = 0; r < size; r++)
        hwloc_bitmap_set(node_union, chosen_pu(allowed, r));
    hwloc_bitmap_only(mine, chosen_pu(allowed, rank));
    int read_original = hwloc_get_cpubind(topology, original, HWLOC_CPUBIND_PROCESS);
    int restricted = read_original == 0 &&
                     hwloc_set_cpubind(topology, mine, HWLOC_CPUBIND_PROCESS) == 0;
    int all_restricted = 0;
    MPI_Allreduce(&restricted, &all_restricted, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);

    tc_placement *pl = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_placement_init(MPI_COMM_WORLD, NULL, &pl, &err);
    bool one_host = rc == TC_OK && pl->n_nodes == 1;
    bool usable_is_union = rc == TC_OK && hwloc_bitmap_isequal(pl->node_usable, node_union);
    tc_placement_slot expected;
    tc_error_clear(&err);
    int rc_plan = tc_placement_plan(topology, node_union, size, rank, &expected, &err);
    bool slot_as_planned = rc == TC_OK && rc_plan == TC_OK &&
                           hwloc_bitmap_isequal(pl->slot.cpuset, expected.cpuset);
    tc_placement_slot_free(&expected);
    tc_placement_free_all(pl);
    if (restricted)
        hwloc_set_cpubind(topology, original, HWLOC_CPUBIND_PROCESS);
    hwloc_bitmap_free(original);
    hwloc_bitmap_free(mine);
    hwloc_bitmap_free(node_union);
    hwloc_topology_destroy(topology);

    assert_int_equal(rc, TC_OK);
    if (!all_restricted || !one_host)
        skip(); /* the system rejected the test's own binding, or ranks span hosts */
    assert_true(usable_is_union);
    assert_true(slot_as_planned);
}

static void init_no_bind(void **state)
{
    (void)state;
    setenv("TC_NO_BIND", "1", 1);
    tc_placement *by_env = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc_env = tc_placement_init(MPI_COMM_WORLD, NULL, &by_env, &err);
    unsetenv("TC_NO_BIND");

    tc_placement *by_option = NULL;
    tc_error_clear(&err);
    int rc_option = tc_placement_init(MPI_COMM_WORLD, &(tc_placement_options){ .no_bind = true },
                                      &by_option, &err);

    assert_int_equal(rc_env, TC_OK);
    assert_int_equal(by_env->bind, TC_PLACEMENT_BIND_DISABLED);
    assert_false(by_env->cpu_bound);
    assert_false(by_env->memory_bound);
    assert_string_equal(by_env->warning, "");
    assert_int_equal(rc_option, TC_OK);
    assert_int_equal(by_option->bind, TC_PLACEMENT_BIND_DISABLED);
    tc_placement_free_all(by_env);
    tc_placement_free_all(by_option);
}

/* ---- report ---------------------------------------------------------------- */

static void report_gathers_every_rank(void **state)
{
    (void)state;
    tc_placement_options opt = { .synthetic = TWO_PACKAGES };
    tc_placement *pl = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc_init = tc_placement_init(MPI_COMM_WORLD, &opt, &pl, &err);
    char *json_text = NULL;
    int rc_report = rc_init == TC_OK ? tc_placement_report(pl, MPI_COMM_WORLD, &json_text, &err)
                                     : rc_init;

    assert_int_equal(rc_init, TC_OK);
    assert_int_equal(rc_report, TC_OK);
    if (world_rank() != 0) {
        assert_null(json_text);
        tc_placement_free_all(pl);
        return;
    }

    assert_non_null(json_text);
    json_t *array = json_loads(json_text, 0, NULL);
    assert_non_null(array);
    assert_int_equal(json_array_size(array), (size_t)world_size());
    const expected_slot *row = two_packages_row(world_size());
    for (int r = 0; r < world_size(); r++) {
        json_t *obj = json_array_get(array, (size_t)r);
        assert_int_equal(json_integer_value(json_object_get(obj, "rank")), r);
        assert_int_equal(json_integer_value(json_object_get(obj, "node")), 0);
        assert_int_equal(json_integer_value(json_object_get(obj, "node_rank")), r);
        assert_true(json_is_false(json_object_get(obj, "virtual_node")));
        assert_string_equal(json_string_value(json_object_get(obj, "bind")), "skipped");
        assert_true(json_is_false(json_object_get(obj, "cpu_bound")));
        assert_true(json_is_false(json_object_get(obj, "memory_bound")));
        assert_true(json_is_null(json_object_get(obj, "warning")));
        assert_string_equal(json_string_value(json_object_get(obj, "topology")),
                            "synthetic: " TWO_PACKAGES);
        assert_true(json_string_length(json_object_get(obj, "host")) > 0);
        if (row) {
            assert_int_equal(json_integer_value(json_object_get(obj, "numa")), row[r].numa);
            assert_string_equal(json_string_value(json_object_get(obj, "cores")), row[r].cores);
            assert_string_equal(json_string_value(json_object_get(obj, "pus")), row[r].cores);
        }
    }
    json_decref(array);

    /* One line per rank, in rank order. */
    char *text = NULL;
    assert_int_equal(tc_placement_report_text(json_text, &text, &err), TC_OK);
    const char *line = text;
    for (int r = 0; r < world_size(); r++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "rank %d: host ", r);
        assert_memory_equal(line, prefix, strlen(prefix));
        assert_non_null(strstr(line, "not bound (the topology is not this machine)"));
        line = strchr(line, '\n');
        assert_non_null(line);
        line++;
    }
    assert_string_equal(line, "");
    if (row)
        assert_non_null(strstr(text, row[0].cores));

    free(text);
    free(json_text);
    tc_placement_free_all(pl);
}

static void report_text_formats_warning(void **state)
{
    (void)state;
    const char *json_text =
        "[{\"rank\":0,\"host\":\"n1\",\"node\":1,\"virtual_node\":true,\"node_rank\":0,"
        "\"node_size\":1,\"topology\":\"machine\",\"numa\":3,\"cores\":\"6-7\",\"pus\":\"12-15\","
        "\"bind\":\"attempted\",\"cpu_bound\":true,\"memory_bound\":false,"
        "\"warning\":\"binding memory to NUMA node 3 was refused (Operation not permitted)\"}]";
    char *text = NULL;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_placement_report_text(json_text, &text, &err), TC_OK);
    assert_string_equal(text, "rank 0: host n1, virtual node 1, NUMA node 3, cores 6-7, PUs 12-15, "
                              "CPU bound, memory not bound; warning: binding memory to NUMA node "
                              "3 was refused (Operation not permitted)\n");
    free(text);
}

static void report_text_rejects_invalid_json(void **state)
{
    (void)state;
    char *text = NULL;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_placement_report_text("{}", &text, &err), TC_ERR_RUNTIME);
    assert_null(text);
    tc_error_clear(&err);
    assert_int_equal(tc_placement_report_text("[{\"rank\":0}]", &text, &err), TC_ERR_RUNTIME);
    assert_null(text);
}

/* ---- allocation ---------------------------------------------------------- */

/* Allocate BYTES through PL, check that the memory is zero-filled and
 * keeps what is written, and free it. */
static void check_alloc(const tc_placement *pl, size_t bytes)
{
    unsigned char *p = tc_placement_alloc(pl, bytes);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
    if (bytes >= TC_PLACEMENT_HUGE_PAGE_BYTES)
        assert_int_equal((uintptr_t)p % TC_PLACEMENT_HUGE_PAGE_BYTES, 0);
    for (size_t i = 0; i < bytes; i += 4093)
        assert_int_equal(p[i], 0);
    assert_int_equal(p[bytes - 1], 0);
    for (size_t i = 0; i < bytes; i++)
        p[i] = (unsigned char)(i * 7 + 1);
    size_t wrong = 0;
    for (size_t i = 0; i < bytes; i++)
        wrong += p[i] != (unsigned char)(i * 7 + 1);
    assert_int_equal(wrong, 0);
    tc_placement_free(pl, p, bytes);
}

static void alloc_returns_usable_memory(void **state)
{
    (void)state;
    tc_placement *pl = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_placement_init(MPI_COMM_WORLD, NULL, &pl, &err);

    assert_int_equal(rc, TC_OK);
    const size_t sizes[] = { 1, 4096, 65536 + 3, TC_PLACEMENT_HUGE_PAGE_BYTES,
                             3 * TC_PLACEMENT_HUGE_PAGE_BYTES + 5 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        check_alloc(pl, sizes[i]);
        check_alloc(NULL, sizes[i]);
    }
    assert_null(tc_placement_alloc(pl, 0));
    assert_null(tc_placement_alloc(pl, SIZE_MAX));
    tc_placement_free(pl, NULL, 16);
    tc_placement_free_all(pl);
}

static void alloc_records_binding_failure(void **state)
{
    (void)state;
    tc_placement *pl = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_placement_init(MPI_COMM_WORLD, NULL, &pl, &err);

    /* A NUMA node that this machine lacks makes hwloc reject the array's
     * binding, which is what a system that rejects mbind does too. */
    bool tampered = rc == TC_OK && pl->memory_bound;
    unsigned char *p = NULL;
    if (tampered) {
        hwloc_bitmap_only(pl->slot.nodeset, 4000);
        p = tc_placement_alloc(pl, 8192);
    }
    char *json_text = NULL;
    int rc_report = rc == TC_OK ? tc_placement_report(pl, MPI_COMM_WORLD, &json_text, &err) : rc;

    assert_int_equal(rc, TC_OK);
    assert_int_equal(rc_report, TC_OK);
    if (tampered) {
        /* The memory is still usable, only unbound. */
        assert_non_null(p);
        p[0] = 1;
        p[8191] = 2;
        assert_int_equal(p[0] + p[8191], 3);
        tc_placement_free(pl, p, 8192);
    }
    if (world_rank() == 0) {
        json_t *array = json_loads(json_text, 0, NULL);
        assert_non_null(array);
        size_t i;
        json_t *obj;
        json_array_foreach(array, i, obj) {
            if (!json_is_true(json_object_get(obj, "memory_bound")))
                continue;
            const char *warning = json_string_value(json_object_get(obj, "warning"));
            assert_non_null(warning);
            assert_non_null(strstr(warning, "arrays whose memory binding failed: 1,"));
            assert_non_null(strstr(warning, "binding an array to its NUMA node failed"));
        }
        json_decref(array);
    }
    free(json_text);
    tc_placement_free_all(pl);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    /* Clear the variables that would change the expected values. */
    const char *variables[] = { "TC_VIRTUAL_NODES", "TC_NO_BIND", "HWLOC_SYNTHETIC",
                                "HWLOC_XMLFILE", "HWLOC_COMPONENTS", "HWLOC_FSROOT",
                                "HWLOC_CPUID_PATH", "HWLOC_THISSYSTEM" };
    for (size_t i = 0; i < sizeof variables / sizeof variables[0]; i++)
        unsetenv(variables[i]);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_two_packages_by_rank_count),
        cmocka_unit_test(plan_more_ranks_than_cores),
        cmocka_unit_test(plan_one_numa_node),
        cmocka_unit_test(plan_restricted_usable_set),
        cmocka_unit_test(plan_partly_usable_core),
        cmocka_unit_test(plan_topology_without_cores),
        cmocka_unit_test(plan_rejects_usable_outside_topology),
        cmocka_unit_test(plan_properties_on_random_sets),
        cmocka_unit_test(init_synthetic_world),
        cmocka_unit_test(init_cpus_option_restricts),
        cmocka_unit_test(init_virtual_nodes_option),
        cmocka_unit_test(init_virtual_nodes_env),
        cmocka_unit_test(init_rejects_invalid_inputs),
        cmocka_unit_test(init_honours_hwloc_synthetic),
        cmocka_unit_test(init_honours_hwloc_xmlfile),
        cmocka_unit_test(init_this_machine),
        cmocka_unit_test(init_within_process_binding),
        cmocka_unit_test(init_unions_node_bindings),
        cmocka_unit_test(init_no_bind),
        cmocka_unit_test(report_gathers_every_rank),
        cmocka_unit_test(report_text_formats_warning),
        cmocka_unit_test(report_text_rejects_invalid_json),
        cmocka_unit_test(alloc_returns_usable_memory),
        cmocka_unit_test(alloc_records_binding_failure),
    };
    int failed = tc_test_run_mpi(tests);
    MPI_Finalize();
    return failed;
}
