/*
 * test_reference.c - the serial reference simulator and the random case
 * generator, checked on their own: reach masks, flow counts, footholds,
 * errors, and the determinism and variety of random cases. The expected
 * values are worked out by hand in the comment above each test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mpi.h>

#include "hand_topology.h"
#include "harness.h"
#include "random_topology.h"
#include "reference.h"

#define BIT(service) ((tc_svcmask)1 << (service))

/* Service indices of model.c. */
enum { SSH = 0, HTTP = 2, POSTGRES = 5 };

/* Four workloads over two segments. Base: seg0 -> seg0 ssh and, in a second
 * rule, http; seg0 -> seg1 postgres; nothing else, not even seg1 -> seg1.
 * w0 (seg0, web, role-0), w1 (seg0, data, role-0), w2 (seg1, data, role-1),
 * w3 (seg1, web, role-1). */
static const tc_base_rule two_segment_base[] = {
    { 0, 0, BIT(SSH) }, { 0, 0, BIT(HTTP) }, { 0, 1, BIT(POSTGRES) },
};
static const hand_workload two_segment_workloads[] = {
    { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
    { 0, 0, TC_TIER_DATA, TC_ENV_PROD, 0, 0 },
    { 1, 1, TC_TIER_DATA, TC_ENV_PROD, 0, 0 },
    { 1, 1, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
};

typedef struct reach_fixture {
    tc_topology *topology;
    tc_scenario scenario;
    tc_svcmask *base, *reach;
    uint64_t n;
} reach_fixture;

/* Build SPEC on MPI_COMM_SELF and compute the reach matrix of POLICY over the
 * groups of SELECTORS. */
static void reach_fixture_compute(reach_fixture *f, const hand_topology *spec,
                                  const char *const *selectors, size_t n_selectors,
                                  tc_policy_spec *policy)
{
    tc_error err;
    tc_error_clear(&err);
    memset(f, 0, sizeof *f);
    assert_int_equal(hand_topology_build(spec, MPI_COMM_SELF, &f->topology, &err), TC_OK);
    assert_int_equal(harness_scenario_init(&f->scenario, selectors, n_selectors, policy, 1, &err),
                     TC_OK);
    reference_input in = { .topology = f->topology, .groups = f->scenario.groups,
                           .n_groups = f->scenario.n_groups, .policy = policy };
    int status = reference_reach_matrix(&in, &f->base, &f->reach, &err);
    if (status != TC_OK)
        tc_error_print(&err, stderr);
    assert_int_equal(status, TC_OK);
    f->n = f->topology->n_workloads;
}

static void reach_fixture_release(reach_fixture *f)
{
    free(f->base);
    free(f->reach);
    harness_scenario_release(&f->scenario);
    tc_topology_free(f->topology);
}

static tc_svcmask reach_of(const reach_fixture *f, uint64_t u, uint64_t v)
{
    return f->reach[u * f->n + v];
}

/* Rules, default allow: deny ssh from web to data, then allow ssh from any
 * to any.
 *   w0 -> w1: base ssh|http; ssh denied by the first rule  -> http
 *   w1 -> w0: data is not web, the second rule allows ssh   -> ssh|http
 *   w0 -> w0: web to web, the second rule allows ssh        -> ssh|http
 *   w0 -> w2: base postgres, no rule on it                  -> postgres
 *   w2 -> w3: no base rule inside seg1                      -> nothing
 *   w2 -> w0: no base rule from seg1                        -> nothing */
static void reach_is_base_and_first_match(void **state)
{
    (void)state;
    static const hand_topology topo = { .n_segments = 2, .n_principals = 2,
        .base_rules = two_segment_base, .n_base_rules = HAND_COUNT(two_segment_base),
        .workloads = two_segment_workloads, .n_workloads = HAND_COUNT(two_segment_workloads) };
    static const char *const selectors[] = { "tier == web", "tier == data" };
    static tc_rule_spec rules[] = {
        { 0, 1, BIT(SSH), false, 0, 0 },
        { TC_GROUP_ANY, TC_GROUP_ANY, BIT(SSH), true, 0, 0 },
    };
    static tc_policy_spec policy = { .name = "p", .kind = TC_POLICY_RULES,
                                     .default_allow = true, .rules = rules, .n_rules = 2 };
    reach_fixture f;
    reach_fixture_compute(&f, &topo, selectors, 2, &policy);

    assert_int_equal(f.base[0 * f.n + 1], BIT(SSH) | BIT(HTTP));
    assert_int_equal(reach_of(&f, 0, 1), BIT(HTTP));
    assert_int_equal(reach_of(&f, 1, 0), BIT(SSH) | BIT(HTTP));
    assert_int_equal(reach_of(&f, 0, 0), BIT(SSH) | BIT(HTTP));
    assert_int_equal(reach_of(&f, 0, 2), BIT(POSTGRES));
    assert_int_equal(reach_of(&f, 2, 3), 0);
    assert_int_equal(reach_of(&f, 2, 0), 0);
    reach_fixture_release(&f);
}

/* The same rules under default deny: only what a rule allows remains.
 *   w0 -> w1: ssh denied, http decided by no rule           -> nothing
 *   w1 -> w0: ssh allowed by the second rule                -> ssh
 *   w0 -> w2: postgres decided by no rule                   -> nothing */
static void reach_under_default_deny(void **state)
{
    (void)state;
    static const hand_topology topo = { .n_segments = 2, .n_principals = 2,
        .base_rules = two_segment_base, .n_base_rules = HAND_COUNT(two_segment_base),
        .workloads = two_segment_workloads, .n_workloads = HAND_COUNT(two_segment_workloads) };
    static const char *const selectors[] = { "tier == web", "tier == data" };
    static tc_rule_spec rules[] = {
        { 0, 1, BIT(SSH), false, 0, 0 },
        { TC_GROUP_ANY, TC_GROUP_ANY, BIT(SSH), true, 0, 0 },
    };
    static tc_policy_spec policy = { .name = "p", .kind = TC_POLICY_RULES,
                                     .default_allow = false, .rules = rules, .n_rules = 2 };
    reach_fixture f;
    reach_fixture_compute(&f, &topo, selectors, 2, &policy);

    assert_int_equal(reach_of(&f, 0, 1), 0);
    assert_int_equal(reach_of(&f, 1, 0), BIT(SSH));
    assert_int_equal(reach_of(&f, 0, 2), 0);
    reach_fixture_release(&f);
}

/* A legacy policy allows everything, even when it carries a deny rule. */
static void legacy_reach_equals_base(void **state)
{
    (void)state;
    static const hand_topology topo = { .n_segments = 2, .n_principals = 2,
        .base_rules = two_segment_base, .n_base_rules = HAND_COUNT(two_segment_base),
        .workloads = two_segment_workloads, .n_workloads = HAND_COUNT(two_segment_workloads) };
    static tc_rule_spec rules[] = {
        { TC_GROUP_ANY, TC_GROUP_ANY, TC_SERVICE_ALL, false, 0, 0 },
    };
    static tc_policy_spec policy = { .name = "legacy", .kind = TC_POLICY_LEGACY,
                                     .default_allow = true, .rules = rules, .n_rules = 1 };
    reach_fixture f;
    reach_fixture_compute(&f, &topo, NULL, 0, &policy);

    for (uint64_t u = 0; u < f.n; u++)
        for (uint64_t v = 0; v < f.n; v++)
            assert_int_equal(reach_of(&f, u, v), f.base[u * f.n + v]);
    assert_int_equal(reach_of(&f, 0, 1), BIT(SSH) | BIT(HTTP));
    reach_fixture_release(&f);
}

/* Flows: the API call w0 -> w1 on http (web -> data) and the gated postgres
 * grant of role-1 to w2, in use by w3 (web -> data) and by w2 itself
 * (data -> data). The control-plane ssh grant of role-0 to w0 is no flow.
 * By tier, the derived policy allows web -> data http|postgres and
 * data -> data postgres:
 *   w0 -> w1: base ssh|http                   -> http
 *   w1 -> w0: data -> web allows nothing      -> nothing
 *   w0 -> w0: web -> web allows nothing (the control-plane grant would have
 *             allowed ssh)                    -> nothing
 *   w0 -> w2: base postgres                   -> postgres
 * With an empty granularity everyone is one group allowed http|postgres:
 *   w1 -> w0: ssh|http & http|postgres        -> http
 *   w0 -> w0                                  -> http */
static const hand_api_edge derived_edges[] = { { 0, 1, HTTP, TC_TRUST_NONE } };
static const hand_grant derived_grants[] = {
    { 1, 2, BIT(POSTGRES), true }, { 0, 0, BIT(SSH), false },
};
static const hand_topology derived_topology = { .n_segments = 2, .n_principals = 2,
    .base_rules = two_segment_base, .n_base_rules = HAND_COUNT(two_segment_base),
    .workloads = two_segment_workloads, .n_workloads = HAND_COUNT(two_segment_workloads),
    .api_edges = derived_edges, .n_api_edges = 1,
    .grants = derived_grants, .n_grants = HAND_COUNT(derived_grants) };

static void derived_reach_by_tier(void **state)
{
    (void)state;
    static tc_policy_spec policy = { .name = "by-tier", .kind = TC_POLICY_DERIVED,
                                     .granularity = { TC_ATTR_TIER }, .n_granularity = 1 };
    reach_fixture f;
    reach_fixture_compute(&f, &derived_topology, NULL, 0, &policy);

    assert_int_equal(reach_of(&f, 0, 1), BIT(HTTP));
    assert_int_equal(reach_of(&f, 1, 0), 0);
    assert_int_equal(reach_of(&f, 0, 0), 0);
    assert_int_equal(reach_of(&f, 0, 2), BIT(POSTGRES));
    reach_fixture_release(&f);
}

static void derived_reach_one_group(void **state)
{
    (void)state;
    static tc_policy_spec policy = { .name = "coarse", .kind = TC_POLICY_DERIVED,
                                     .n_granularity = 0 };
    reach_fixture f;
    reach_fixture_compute(&f, &derived_topology, NULL, 0, &policy);

    assert_int_equal(reach_of(&f, 1, 0), BIT(HTTP));
    assert_int_equal(reach_of(&f, 0, 0), BIT(HTTP));
    assert_int_equal(reach_of(&f, 0, 2), BIT(POSTGRES));
    reach_fixture_release(&f);
}

/* Run the reference on SPEC built on MPI_COMM_SELF. */
static int run_reference(const hand_topology *spec, const char *const *selectors,
                         size_t n_selectors, tc_policy_spec *policy, const uint64_t *footholds,
                         size_t n_footholds, const uint32_t *packages, size_t n_packages,
                         uint32_t budget, reference_result **out, tc_error *err)
{
    tc_topology *t = NULL;
    tc_scenario scenario;
    tc_error_clear(err);
    assert_int_equal(hand_topology_build(spec, MPI_COMM_SELF, &t, err), TC_OK);
    assert_int_equal(harness_scenario_init(&scenario, selectors, n_selectors, policy, 1, err),
                     TC_OK);
    reference_input in = { .topology = t, .groups = scenario.groups,
                           .n_groups = scenario.n_groups, .policy = policy,
                           .foothold_workloads = footholds, .n_foothold_workloads = n_footholds,
                           .foothold_packages = packages, .n_foothold_packages = n_packages,
                           .hop_budget = budget };
    int status = reference_run(&in, out, err);
    harness_scenario_release(&scenario);
    tc_topology_free(t);
    return status;
}

/* w0 and w1 run role-0, w2 runs role-1. Base seg0 -> seg0 http, seg0 -> seg1
 * postgres. The policy denies postgres from tier web (w0 only) to any.
 *   API w0 -> w1 http       flow, open
 *   API w1 -> w2 ssh        flow, base-denied (seg0 -> seg1 is postgres only)
 *   gated role-0 -> w2 pg   two flows: from w0 (broken), from w1 (open)
 *   control role-0 -> w2    no flow
 *   gated role-1 -> w2 http one flow from w2 to itself, base-denied (no seg1
 *                           -> seg1 rule)
 * Total 5, broken 1, base-denied 2. */
static void flows_count_members_of_principal(void **state)
{
    (void)state;
    static const tc_base_rule base[] = { { 0, 0, BIT(HTTP) }, { 0, 1, BIT(POSTGRES) } };
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 0, 0, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 1, 1, TC_TIER_DATA, TC_ENV_PROD, 0, 0 },
    };
    static const hand_api_edge edges[] = {
        { 0, 1, HTTP, TC_TRUST_IMPLICIT }, { 1, 2, SSH, TC_TRUST_NONE },
    };
    static const hand_grant grants[] = {
        { 0, 2, BIT(POSTGRES), true }, { 0, 2, BIT(SSH), false }, { 1, 2, BIT(HTTP), true },
    };
    static const hand_topology topo = { .n_segments = 2, .n_principals = 2,
        .base_rules = base, .n_base_rules = HAND_COUNT(base), .workloads = w,
        .n_workloads = HAND_COUNT(w), .api_edges = edges, .n_api_edges = HAND_COUNT(edges),
        .grants = grants, .n_grants = HAND_COUNT(grants) };
    static const char *const selectors[] = { "tier == web" };
    static tc_rule_spec rules[] = { { 0, TC_GROUP_ANY, BIT(POSTGRES), false, 0, 0 } };
    static tc_policy_spec policy = { .name = "p", .kind = TC_POLICY_RULES,
                                     .default_allow = true, .rules = rules, .n_rules = 1 };
    reference_result *r = NULL;
    tc_error err;
    assert_int_equal(run_reference(&topo, selectors, 1, &policy, NULL, 0, NULL, 0, 3, &r, &err),
                     TC_OK);

    assert_int_equal(r->flows_total, 5);
    assert_int_equal(r->flows_broken, 1);
    assert_int_equal(r->flows_base_denied, 2);
    reference_result_free(r);
}

/* Base seg0 -> seg0 http; implicit http calls w0 -> w1 -> w2. pkg-0 is
 * installed by w3. Budget 0 keeps only the hop-0 workloads: w0 (explicit)
 * and w3 (installs the foothold package); role-0 (w0) and role-1 (w3) are
 * held at 0. Budget 1 adds w1. */
static void budget_zero_keeps_footholds(void **state)
{
    (void)state;
    static const tc_base_rule base[] = { { 0, 0, BIT(HTTP) } };
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 0, 2, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 2, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_CI, TC_ENV_PROD, 0, 0 },
    };
    static const hand_api_edge edges[] = {
        { 0, 1, HTTP, TC_TRUST_IMPLICIT }, { 1, 2, HTTP, TC_TRUST_IMPLICIT },
    };
    static const hand_pair installs[] = { { 3, 0 } };
    static const hand_topology topo = { .n_segments = 1, .n_principals = 3, .n_packages = 1,
        .base_rules = base, .n_base_rules = 1, .workloads = w, .n_workloads = HAND_COUNT(w),
        .api_edges = edges, .n_api_edges = HAND_COUNT(edges), .installs = installs,
        .n_installs = 1 };
    static tc_policy_spec legacy = { .name = "legacy", .kind = TC_POLICY_LEGACY,
                                     .default_allow = true };
    static const uint64_t footholds[] = { 0 };
    static const uint32_t packages[] = { 0 };
    reference_result *r = NULL;
    tc_error err;

    assert_int_equal(run_reference(&topo, NULL, 0, &legacy, footholds, 1, packages, 1, 0, &r,
                                   &err), TC_OK);
    assert_int_equal(r->hop[0], 0);
    assert_int_equal(r->step[0], TC_STEP_FOOTHOLD);
    assert_int_equal(r->hop[1], TC_HOP_NONE);
    assert_int_equal(r->hop[2], TC_HOP_NONE);
    assert_int_equal(r->hop[3], 0);
    assert_int_equal(r->step[3], TC_STEP_FOOTHOLD);
    assert_int_equal(r->principal_hop[0], 0);
    assert_int_equal(r->principal_hop[1], 0);
    assert_int_equal(r->principal_hop[2], TC_HOP_NONE);
    assert_int_equal(r->package_hop[0], 0);
    assert_int_equal(r->levels, 0);
    reference_result_free(r);

    assert_int_equal(run_reference(&topo, NULL, 0, &legacy, footholds, 1, packages, 1, 1, &r,
                                   &err), TC_OK);
    assert_int_equal(r->hop[1], 1);
    assert_int_equal(r->step[1], TC_STEP_API);
    assert_int_equal(r->hop[2], TC_HOP_NONE);
    assert_int_equal(r->levels, 1);
    reference_result_free(r);
}

static const hand_workload single_workloads[] = { { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 } };
static const hand_topology single_topology = { .n_segments = 1, .n_principals = 1,
    .workloads = single_workloads, .n_workloads = 1 };

static void rule_with_unknown_group_is_invalid(void **state)
{
    (void)state;
    static tc_rule_spec rules[] = { { 0, 3, BIT(SSH), true, 0, 0 } };
    static tc_policy_spec policy = { .name = "p", .kind = TC_POLICY_RULES, .rules = rules,
                                     .n_rules = 1 };
    static const char *const selectors[] = { "true" };
    reference_result *r = NULL;
    tc_error err;
    assert_int_equal(run_reference(&single_topology, selectors, 1, &policy, NULL, 0, NULL, 0, 1,
                                   &r, &err), TC_ERR_INPUT);
    assert_null(r);
    assert_non_null(strstr(err.message, "group"));
}

static void foothold_out_of_range_is_invalid(void **state)
{
    (void)state;
    static tc_policy_spec legacy = { .name = "legacy", .kind = TC_POLICY_LEGACY,
                                     .default_allow = true };
    static const uint64_t footholds[] = { 1 };
    static const uint32_t packages[] = { 0 };
    reference_result *r = NULL;
    tc_error err;
    assert_int_equal(run_reference(&single_topology, NULL, 0, &legacy, footholds, 1, NULL, 0, 1,
                                   &r, &err), TC_ERR_INPUT);
    assert_null(r);
    assert_non_null(strstr(err.message, "foothold workload 1"));

    assert_int_equal(run_reference(&single_topology, NULL, 0, &legacy, NULL, 0, packages, 1, 1,
                                   &r, &err), TC_ERR_INPUT);
    assert_null(r);
    assert_non_null(strstr(err.message, "foothold package 0"));
}

/* Collective: on two or more ranks the topology is partitioned, and the
 * reference must reject it instead of reading workloads it does not hold. */
static void partitioned_topology_is_rejected(void **state)
{
    (void)state;
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size == 1)
        skip();

    tc_topology *t = NULL;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(hand_topology_build(&derived_topology, MPI_COMM_WORLD, &t, &err), TC_OK);
    static tc_policy_spec legacy = { .name = "legacy", .kind = TC_POLICY_LEGACY,
                                     .default_allow = true };
    reference_input in = { .topology = t, .policy = &legacy, .hop_budget = 1 };
    reference_result *r = NULL;
    assert_int_equal(reference_run(&in, &r, &err), TC_ERR_INPUT);
    assert_null(r);
    tc_topology_free(t);
}

/* ---- random cases ---- */

/* Build the case of SEED over COMM, printing the error when it fails. */
static random_topology *build_random(uint64_t seed, MPI_Comm comm)
{
    random_topology *rt = NULL;
    tc_error err;
    tc_error_clear(&err);
    if (random_topology_build(seed, comm, &rt, &err) != TC_OK) {
        fprintf(stderr, "random case %llu: ", (unsigned long long)seed);
        tc_error_print(&err, stderr);
    }
    assert_non_null(rt);
    return rt;
}

static bool same_u64(const uint64_t *a, const uint64_t *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

/* Two builds of one seed are the same graph, and so are the owned slices of
 * a build over MPI_COMM_WORLD (collective). */
static void random_case_is_deterministic(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        random_topology *a = build_random(seed, MPI_COMM_SELF);
        random_topology *b = build_random(seed, MPI_COMM_SELF);
        random_topology *world = build_random(seed, MPI_COMM_WORLD);

        const tc_topology *ta = a->topology, *tb = b->topology, *tw = world->topology;
        assert_int_equal(ta->n_workloads, tb->n_workloads);
        assert_int_equal(ta->n_workloads, tw->n_workloads);
        assert_int_equal(ta->n_api_edges, tw->n_api_edges);
        assert_int_equal(ta->n_grants, tw->n_grants);
        assert_int_equal(ta->n_installs, tw->n_installs);
        assert_int_equal(ta->n_base_rules, tw->n_base_rules);
        assert_true(same_u64(ta->exposed, tb->exposed, ta->n_workloads));
        assert_true(same_u64(ta->api_targets, tb->api_targets, ta->n_api_edges));
        assert_true(same_u64(ta->exposed + tw->first, tw->exposed, tw->n_local));
        assert_true(same_u64(ta->exploitable + tw->first, tw->exploitable, tw->n_local));
        assert_memory_equal(ta->principal + tw->first, tw->principal,
                            tw->n_local * sizeof *tw->principal);
        assert_memory_equal(ta->segment + tw->first, tw->segment,
                            tw->n_local * sizeof *tw->segment);
        for (uint64_t i = 0; i < tw->n_local; i++)
            assert_int_equal(ta->api_offsets[tw->first + i + 1] - ta->api_offsets[tw->first + i],
                             tw->api_offsets[i + 1] - tw->api_offsets[i]);
        assert_int_equal(a->n_foothold_workloads, world->n_foothold_workloads);
        assert_true(same_u64(a->foothold_workloads, world->foothold_workloads,
                             a->n_foothold_workloads));
        assert_int_equal(a->scenario.hop_budget, world->scenario.hop_budget);
        assert_string_equal(a->scenario.groups[0].text, world->scenario.groups[0].text);

        random_topology_free(a);
        random_topology_free(b);
        random_topology_free(world);
    }
}

/* Over 100 seeds, every feature the random cases promise shows up, and the
 * sizes stay in range. */
static void random_cases_cover_every_feature(void **state)
{
    (void)state;
    enum { IMPLICIT, NO_TRUST, GATED, CONTROL, ASSUME, PUBLISH, OPEN_RULE, PACKAGE_FOOTHOLD,
           ALLOW_RULE, DENY_RULE, ANY_GROUP, DEFAULT_ALLOW, DEFAULT_DENY, WIDE_GRANULARITY,
           SELF_GRANT, LONG_BUDGET, FEATURE_COUNT };
    unsigned seen[FEATURE_COUNT] = { 0 };

    for (uint64_t seed = 100; seed < 200; seed++) {
        random_topology *rt = build_random(seed, MPI_COMM_SELF);
        const tc_topology *t = rt->topology;
        const tc_policy_spec *rules = &rt->scenario.policies[RANDOM_POLICY_RULES];

        assert_in_range(t->n_workloads, 10, 200);
        assert_true(rt->n_foothold_workloads + rt->n_foothold_packages > 0);
        for (uint64_t e = 0; e < t->n_api_edges; e++)
            seen[t->api_trust[e] == TC_TRUST_IMPLICIT ? IMPLICIT : NO_TRUST]++;
        for (uint32_t p = 0; p < t->principals.count; p++)
            for (uint64_t g = t->grant_offsets[p]; g < t->grant_offsets[p + 1]; g++) {
                seen[t->grants[g].gated ? GATED : CONTROL]++;
                if (t->principal[t->grants[g].target_local] == p)
                    seen[SELF_GRANT]++;
            }
        seen[ASSUME] += t->assume_offsets[t->principals.count] > 0;
        seen[PUBLISH] += t->publish_offsets[t->principals.count] > 0;
        for (uint64_t r = 0; r < t->n_base_rules; r++)
            seen[OPEN_RULE] += t->base_rules[r].services == TC_SERVICE_ALL;
        seen[PACKAGE_FOOTHOLD] += rt->n_foothold_packages > 0;
        for (size_t r = 0; r < rules->n_rules; r++) {
            seen[rules->rules[r].allow ? ALLOW_RULE : DENY_RULE]++;
            seen[ANY_GROUP] += rules->rules[r].from == TC_GROUP_ANY;
        }
        seen[rules->default_allow ? DEFAULT_ALLOW : DEFAULT_DENY]++;
        size_t width = rt->scenario.policies[RANDOM_POLICY_DERIVED].n_granularity;
        assert_in_range(width, 1, 3);
        seen[WIDE_GRANULARITY] += width == 3;
        seen[LONG_BUDGET] += rt->scenario.hop_budget == 50;
        random_topology_free(rt);
    }
    for (int f = 0; f < FEATURE_COUNT; f++) {
        if (seen[f] == 0)
            fprintf(stderr, "feature %d never drawn in 100 random cases\n", f);
        assert_true(seen[f] > 0);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reach_is_base_and_first_match),
        cmocka_unit_test(reach_under_default_deny),
        cmocka_unit_test(legacy_reach_equals_base),
        cmocka_unit_test(derived_reach_by_tier),
        cmocka_unit_test(derived_reach_one_group),
        cmocka_unit_test(flows_count_members_of_principal),
        cmocka_unit_test(budget_zero_keeps_footholds),
        cmocka_unit_test(rule_with_unknown_group_is_invalid),
        cmocka_unit_test(foothold_out_of_range_is_invalid),
        cmocka_unit_test(partitioned_topology_is_rejected),
        cmocka_unit_test(random_case_is_deterministic),
        cmocka_unit_test(random_cases_cover_every_feature),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return failed ? 1 : 0;
}
