/*
 * test_engine_vs_reference.c - the distributed engine against the serial
 * reference on hundreds of random cases (random_topology.h).
 *
 * A group setup runs the campaign once. For each case seed, every rank
 * builds the case over MPI_COMM_WORLD and runs the engine under the legacy,
 * rules and derived policies of the case. Rank 0 also builds it over
 * MPI_COMM_SELF and runs the reference. Rank 0 compares every workload's hop
 * and step, the principal hops, the levels and the flow counts, with one test
 * per policy kind. The package hops have a test of their own. The first
 * differences of each kind are printed with the seed that replays them.
 *
 * Environment:
 *   TC_CASE_SEED=S   run the single case S (decimal), e.g. one printed by a
 *                    failure;
 *   TC_CASE_COUNT=N  run N cases, seeds 1 .. N (default 1000, or 20 when the
 *                    node runs more ranks than it has processors).
 * Runs at any rank count: mpiexec -n 3 build/tests/test_engine_vs_reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <mpi.h>

#include "harness.h"
#include "random_topology.h"
#include "reference.h"

#define DEFAULT_CASE_COUNT 1000
#define OVERSUBSCRIBED_CASE_COUNT 20
#define MAX_REPORTED_FAILURES 5

/* Seeds to run: FIRST .. FIRST + COUNT - 1. */
typedef struct case_range {
    uint64_t first, count;
} case_range;

/* Parse the decimal TEXT of variable NAME into *VALUE; an invalid value is
 * reported and leaves *VALUE unchanged. */
static bool parse_u64(const char *name, const char *text, uint64_t *value)
{
    char *end = NULL;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (end == text || *end != '\0') {
        fprintf(stderr, "%s='%s' is invalid: expected a decimal number, using the default\n",
                name, text);
        return false;
    }
    *value = parsed;
    return true;
}

static case_range cases_from_environment(bool oversubscribed)
{
    case_range range = { 1, oversubscribed ? OVERSUBSCRIBED_CASE_COUNT : DEFAULT_CASE_COUNT };
    const char *seed = getenv("TC_CASE_SEED");
    const char *count = getenv("TC_CASE_COUNT");
    if (seed && *seed && parse_u64("TC_CASE_SEED", seed, &range.first))
        range.count = 1;
    else if (count && *count)
        parse_u64("TC_CASE_COUNT", count, &range.count);
    return range;
}

static const char *const policy_kind_names[RANDOM_POLICY_COUNT] = { "legacy", "rules",
                                                                    "derived" };

/* Print what a case looks like, so a failure can be read without a debugger. */
static void describe_case(const random_topology *rt, int kind)
{
    const tc_topology *t = rt->topology;
    const tc_policy_spec *p = &rt->scenario.policies[kind];
    fprintf(stderr, "  %llu workloads, %u segments, %u principals, %u packages, "
            "%llu base rules, %llu API edges, %llu grants, hop budget %u\n",
            (unsigned long long)t->n_workloads, t->segments.count, t->principals.count,
            t->packages.count, (unsigned long long)t->n_base_rules,
            (unsigned long long)t->n_api_edges, (unsigned long long)t->n_grants,
            rt->scenario.hop_budget);
    for (size_t g = 0; kind == RANDOM_POLICY_RULES && g < rt->scenario.n_groups; g++)
        fprintf(stderr, "  group %zu: %s\n", g, rt->scenario.groups[g].text);
    if (kind == RANDOM_POLICY_RULES)
        fprintf(stderr, "  %zu rules, default %s\n", p->n_rules,
                p->default_allow ? "allow" : "deny");
    if (kind == RANDOM_POLICY_DERIVED) {
        fprintf(stderr, "  granularity:");
        for (size_t a = 0; a < p->n_granularity; a++)
            fprintf(stderr, " %s", tc_attr_names[p->granularity[a]]);
        fprintf(stderr, "%s\n", p->n_granularity ? "" : " (none)");
    }
}

/* Differences found by the campaign, per kind of comparison. */
typedef struct campaign_result {
    unsigned reach_failures[RANDOM_POLICY_COUNT]; /* REACHABILITY_FIELDS differ */
    unsigned package_failures;                    /* package hops differ */
    uint64_t runs;                                /* (case, policy) pairs run */
} campaign_result;

static campaign_result campaign;

/* Package hops are compared apart: they are a definition (the hop at which a
 * package counts as compromised) more than a reachability result, and a
 * disagreement there must not hide the workload hops. */
#define REACHABILITY_FIELDS (HARNESS_ALL & ~HARNESS_PACKAGES)

/* Print the first MAX_REPORTED_FAILURES differences of one kind on rank 0. */
static void report_failure(unsigned count, uint64_t seed, int kind, const char *what,
                           const char *message, const random_topology *rt)
{
    if (count > MAX_REPORTED_FAILURES)
        return;
    fprintf(stderr, "case %llu, %s policy: %s differ; replay with TC_CASE_SEED=%llu\n%s",
            (unsigned long long)seed, policy_kind_names[kind], what,
            (unsigned long long)seed, message);
    if (rt)
        describe_case(rt, kind);
    if (count == MAX_REPORTED_FAILURES)
        fprintf(stderr, "(further differences of %s are counted, not printed)\n", what);
}

/* Run the case SEED under every policy kind and add its differences to
 * CAMPAIGN. The topology is built once per rank count and shared by the
 * three policies, as the engine is meant to be used. Collective. */
static void run_case(uint64_t seed)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    tc_error err;

    random_topology *serial = NULL, *rt = NULL;
    char setup_error[1200] = "";
    tc_error_clear(&err);
    if (rank == 0 && random_topology_build(seed, MPI_COMM_SELF, &serial, &err) != TC_OK)
        snprintf(setup_error, sizeof setup_error, "serial build failed: %s\n", err.message);
    tc_error_clear(&err);
    if (random_topology_build(seed, MPI_COMM_WORLD, &rt, &err) != TC_OK && rank == 0)
        snprintf(setup_error, sizeof setup_error, "distributed build failed: %s\n",
                 err.message);

    for (int kind = 0; kind < RANDOM_POLICY_COUNT; kind++) {
        char reach_message[2048] = "", package_message[2048] = "";
        /* A failed run counts once, as a reachability difference. */
        bool reach_ok = setup_error[0] == '\0', package_ok = true;
        reference_result *expected = NULL, *actual = NULL;

        if (rank == 0 && serial) {
            reference_input in = {
                .topology = serial->topology,
                .groups = serial->scenario.groups,
                .n_groups = serial->scenario.n_groups,
                .policy = &serial->scenario.policies[kind],
                .foothold_workloads = serial->foothold_workloads,
                .n_foothold_workloads = serial->n_foothold_workloads,
                .foothold_packages = serial->foothold_packages,
                .n_foothold_packages = serial->n_foothold_packages,
                .hop_budget = serial->scenario.hop_budget,
            };
            tc_error_clear(&err);
            if (reference_run(&in, &expected, &err) != TC_OK) {
                snprintf(reach_message, sizeof reach_message, "reference failed: %s\n",
                         err.message);
                reach_ok = false;
            }
        }
        if (rt) {
            tc_error_clear(&err);
            if (harness_engine_run(&rt->scenario, &rt->scenario.policies[kind], rt->topology,
                                   rt->foothold_workloads, rt->n_foothold_workloads,
                                   rt->foothold_packages, rt->n_foothold_packages,
                                   rt->scenario.hop_budget, &actual, &err) != TC_OK &&
                rank == 0) {
                size_t used = strlen(reach_message);
                snprintf(reach_message + used, sizeof reach_message - used,
                         "engine failed: %s\n", err.message);
                reach_ok = false;
            }
        }

        if (rank == 0 && expected && actual) {
            reach_ok = harness_results_equal(expected, actual, REACHABILITY_FIELDS,
                                             reach_message, sizeof reach_message);
            package_ok = harness_results_equal(expected, actual, HARNESS_PACKAGES,
                                               package_message, sizeof package_message);
        }
        if (rank == 0 && setup_error[0])
            snprintf(reach_message, sizeof reach_message, "%s", setup_error);

        reach_ok = harness_agree(reach_ok, MPI_COMM_WORLD);
        package_ok = harness_agree(package_ok, MPI_COMM_WORLD);
        if (!reach_ok && rank == 0)
            report_failure(campaign.reach_failures[kind] + 1, seed, kind,
                           "workload hops, principal hops, levels or flows", reach_message, rt);
        if (!package_ok && rank == 0)
            report_failure(campaign.package_failures + 1, seed, kind, "package hops",
                           package_message, rt);
        campaign.reach_failures[kind] += !reach_ok;
        campaign.package_failures += !package_ok;
        campaign.runs++;

        reference_result_free(expected);
        reference_result_free(actual);
    }
    random_topology_free(serial);
    random_topology_free(rt);
}

/* True when this node runs more ranks of MPI_COMM_WORLD than it has online
 * processors. MPICH ranks busy-poll, so every collective then waits for the
 * scheduler: with 3 ranks on a busy 2-processor machine one case took about
 * 3 s, against a few milliseconds at 1 rank. */
static bool node_oversubscribed(void)
{
    MPI_Comm node;
    int ranks_on_node = 1;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &ranks_on_node);
    MPI_Comm_free(&node);
    long processors = sysconf(_SC_NPROCESSORS_ONLN);
    return processors > 0 && ranks_on_node > processors;
}

/* Group setup: run every case once, before the tests read the counts. */
static int run_campaign(void **state)
{
    (void)state;
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    bool oversubscribed = node_oversubscribed();
    case_range range = cases_from_environment(oversubscribed);
    if (rank == 0 && oversubscribed && !getenv("TC_CASE_COUNT") && !getenv("TC_CASE_SEED"))
        fprintf(stderr, "%d ranks on %ld processors: running %llu cases instead of %d "
                "(TC_CASE_COUNT overrides)\n", size, sysconf(_SC_NPROCESSORS_ONLN),
                (unsigned long long)range.count, DEFAULT_CASE_COUNT);

    memset(&campaign, 0, sizeof campaign);
    for (uint64_t i = 0; i < range.count; i++)
        run_case(range.first + i);

    if (rank == 0) {
        fprintf(stderr, "%llu case-policy runs on %d ranks: reachability differs in "
                "%u legacy, %u rules, %u derived; package hops differ in %u\n",
                (unsigned long long)campaign.runs, size,
                campaign.reach_failures[RANDOM_POLICY_LEGACY],
                campaign.reach_failures[RANDOM_POLICY_RULES],
                campaign.reach_failures[RANDOM_POLICY_DERIVED], campaign.package_failures);
    }
    return 0;
}

static void engine_matches_reference_legacy(void **state)
{
    (void)state;
    assert_int_equal(campaign.reach_failures[RANDOM_POLICY_LEGACY], 0);
}

static void engine_matches_reference_rules(void **state)
{
    (void)state;
    assert_int_equal(campaign.reach_failures[RANDOM_POLICY_RULES], 0);
}

static void engine_matches_reference_derived(void **state)
{
    (void)state;
    assert_int_equal(campaign.reach_failures[RANDOM_POLICY_DERIVED], 0);
}

static void package_hops_match_reference(void **state)
{
    (void)state;
    assert_int_equal(campaign.package_failures, 0);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(engine_matches_reference_legacy),
        cmocka_unit_test(engine_matches_reference_rules),
        cmocka_unit_test(engine_matches_reference_derived),
        cmocka_unit_test(package_hops_match_reference),
    };
    int failed = cmocka_run_group_tests(tests, run_campaign, NULL);
    MPI_Finalize();
    return failed ? 1 : 0;
}
