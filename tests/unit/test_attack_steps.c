/*
 * test_attack_steps.c - each kind of attack step on tiny hand-built
 * topologies, with hops worked out by hand in the comment of each case.
 *
 * Every case runs twice: through the serial reference (topology built on
 * MPI_COMM_SELF on rank 0) and through the engine (tc_policy_compile and
 * tc_sim_run on MPI_COMM_WORLD). Both must give the hand-checked hops and
 * steps. Runs at any rank count: mpiexec -n 3 build/tests/test_attack_steps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <mpi.h>

#include "hand_topology.h"
#include "harness.h"
#include "reference.h"

#define BIT(service) ((tc_svcmask)1 << (service))
#define NEVER (-1)

/* Service indices of model.c. */
enum { SSH = 0, HTTP = 2, GRPC = 4, POSTGRES = 5, OBJECT_STORAGE = 21 };

enum { F = TC_STEP_FOOTHOLD, N = TC_STEP_NETWORK, A = TC_STEP_API, C = TC_STEP_CREDENTIAL,
       S = TC_STEP_SUPPLY_CHAIN, X = TC_STEP_COUNT };

#define ANY_GROUP TC_GROUP_ANY

typedef struct attack_case {
    const hand_topology *topology;
    const char *const *selectors;
    size_t n_selectors;
    tc_policy_spec *policy;
    const uint64_t *footholds;
    size_t n_footholds;
    const uint32_t *foothold_packages;
    size_t n_foothold_packages;
    uint32_t hop_budget;
    const int *hops;           /* per workload, NEVER when not compromised */
    const uint8_t *steps;      /* per workload, X when not compromised */
    const int *package_hops;   /* per package or NULL when not checked */
    const int *principal_hops; /* per principal or NULL when not checked */
    long flows_total, flows_broken; /* -1 when not checked */
} attack_case;

static tc_policy_spec legacy = { .name = "legacy", .kind = TC_POLICY_LEGACY,
                                 .default_allow = true };

/* Compare RESULT from WHO against the hand-checked values of C. */
static bool matches_hand_values(const attack_case *c, const reference_result *result,
                                const char *who, char *message, size_t len)
{
    bool ok = true;

    for (size_t w = 0; w < c->topology->n_workloads; w++) {
        int hop = result->hop[w] == TC_HOP_NONE ? NEVER : result->hop[w];
        unsigned step = hop == NEVER ? X : result->step[w];
        if (hop != c->hops[w] || step != c->steps[w]) {
            harness_append(message, len, "%s: workload %zu fell at hop %d by %s, "
                           "expected hop %d by %s\n", who, w, hop, harness_step_name(step),
                           c->hops[w], harness_step_name(c->steps[w]));
            ok = false;
        }
    }
    for (uint32_t k = 0; c->package_hops && k < c->topology->n_packages; k++) {
        int hop = result->package_hop[k] == TC_HOP_NONE ? NEVER : result->package_hop[k];
        if (hop != c->package_hops[k]) {
            harness_append(message, len, "%s: package %u compromised at hop %d, expected %d\n",
                           who, k, hop, c->package_hops[k]);
            ok = false;
        }
    }
    for (uint32_t p = 0; c->principal_hops && p < c->topology->n_principals; p++) {
        int hop = result->principal_hop[p] == TC_HOP_NONE ? NEVER : result->principal_hop[p];
        if (hop != c->principal_hops[p]) {
            harness_append(message, len, "%s: principal %u held at hop %d, expected %d\n",
                           who, p, hop, c->principal_hops[p]);
            ok = false;
        }
    }
    if (c->flows_total >= 0 && (long)result->flows_total != c->flows_total) {
        harness_append(message, len, "%s: %llu legitimate flows, expected %ld\n", who,
                       (unsigned long long)result->flows_total, c->flows_total);
        ok = false;
    }
    if (c->flows_broken >= 0 && (long)result->flows_broken != c->flows_broken) {
        harness_append(message, len, "%s: %llu broken flows, expected %ld\n", who,
                       (unsigned long long)result->flows_broken, c->flows_broken);
        ok = false;
    }
    return ok;
}

/* Run C through the reference (rank 0) and the engine (every rank) and
 * assert on every rank that both match the hand-checked values. */
static void run_case(const attack_case *c)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char message[4096] = "";
    bool ok = true;
    tc_error err;
    tc_scenario scenario;

    tc_error_clear(&err);
    if (harness_scenario_init(&scenario, c->selectors, c->n_selectors, c->policy, 1, &err) !=
        TC_OK) {
        tc_error_print(&err, stderr);
        harness_scenario_release(&scenario);
        fail_msg("the test scenario is invalid");
    }
    scenario.hop_budget = c->hop_budget;

    if (rank == 0) {
        tc_topology *t = NULL;
        reference_result *expected = NULL;
        reference_input in = {
            .groups = scenario.groups, .n_groups = scenario.n_groups, .policy = c->policy,
            .foothold_workloads = c->footholds, .n_foothold_workloads = c->n_footholds,
            .foothold_packages = c->foothold_packages,
            .n_foothold_packages = c->n_foothold_packages, .hop_budget = c->hop_budget,
        };
        if (hand_topology_build(c->topology, MPI_COMM_SELF, &t, &err) == TC_OK) {
            in.topology = t;
            reference_run(&in, &expected, &err);
        }
        if (err.code != TC_OK) {
            snprintf(message, sizeof message, "reference failed: %s\n", err.message);
            ok = false;
        } else {
            ok = matches_hand_values(c, expected, "reference", message, sizeof message);
        }
        reference_result_free(expected);
        tc_topology_free(t);
    }

    tc_topology *t = NULL;
    reference_result *actual = NULL;
    tc_error_clear(&err);
    if (hand_topology_build(c->topology, MPI_COMM_WORLD, &t, &err) == TC_OK)
        harness_engine_run(&scenario, c->policy, t, c->footholds, c->n_footholds,
                           c->foothold_packages, c->n_foothold_packages, c->hop_budget,
                           &actual, &err);
    if (rank == 0) {
        if (err.code != TC_OK) {
            harness_append(message, sizeof message, "engine failed: %s\n", err.message);
            ok = false;
        } else if (!matches_hand_values(c, actual, "engine", message, sizeof message)) {
            ok = false;
        }
    }
    reference_result_free(actual);
    tc_topology_free(t);
    harness_scenario_release(&scenario);

    ok = harness_agree(ok, MPI_COMM_WORLD);
    if (rank == 0 && !ok)
        fprintf(stderr, "%s", message);
    assert_true(ok);
}

static const uint64_t first_workload[] = { 0 };

/* ---- network exploit ---- */

/* Base: seg0 -> seg0 ssh|http, seg0 -> seg1 postgres. The policy denies ssh
 * to tier data and allows the rest. From w0:
 *   w1 (seg0, ssh exploitable)              hop 1: base, policy and exploit agree
 *   w2 (seg0, http exposed, not exploitable) never
 *   w3 (seg1, ssh exploitable)              never: no base rule for ssh
 *   w4 (seg1, postgres exploitable)         hop 1
 *   w5 (seg0, tier data, ssh exploitable)   never: the policy denies ssh */
static void network_exploit_needs_base_policy_exploit(void **state)
{
    (void)state;
    static const tc_base_rule base[] = { { 0, 0, BIT(SSH) | BIT(HTTP) }, { 0, 1, BIT(POSTGRES) } };
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, BIT(HTTP), 0 },
        { 1, 0, TC_TIER_WEB, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
        { 1, 0, TC_TIER_WEB, TC_ENV_PROD, BIT(POSTGRES), BIT(POSTGRES) },
        { 0, 0, TC_TIER_DATA, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
    };
    static const hand_topology topo = { .n_segments = 2, .n_principals = 1,
        .base_rules = base, .n_base_rules = HAND_COUNT(base),
        .workloads = w, .n_workloads = HAND_COUNT(w) };
    static const char *const selectors[] = { "tier == data" };
    static tc_rule_spec rules[] = { { ANY_GROUP, 0, BIT(SSH), false, 0, 0 } };
    static tc_policy_spec policy = { .name = "no-ssh-to-data", .kind = TC_POLICY_RULES,
                                     .default_allow = true, .rules = rules, .n_rules = 1 };
    static const int hops[] = { 0, 1, NEVER, NEVER, 1, NEVER };
    static const uint8_t steps[] = { F, N, X, X, N, X };
    attack_case c = { &topo, selectors, 1, &policy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, NULL, 0, 0 };
    run_case(&c);
}

/* ---- API chain ---- */

/* Base seg0 -> seg0 http|grpc; the policy denies http to tier data. Edges:
 *   w0 -> w1 http implicit      hop 1
 *   w1 -> w2 grpc implicit      hop 2
 *   w0 -> w3 http, trust none   never: the caller cannot drive the callee
 *   w2 -> w4 postgres implicit  never: postgres is not in base (base-denied flow)
 *   w1 -> w5 http implicit      never: the policy denies http to w5 (broken flow)
 * 5 legitimate flows, 1 broken. */
static void api_chain_needs_implicit_trust(void **state)
{
    (void)state;
    static const tc_base_rule base[] = { { 0, 0, BIT(HTTP) | BIT(GRPC) } };
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 0, 0, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 0, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 0, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 0, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 0, TC_TIER_DATA, TC_ENV_PROD, 0, 0 },
    };
    static const hand_api_edge edges[] = {
        { 0, 1, HTTP, TC_TRUST_IMPLICIT }, { 1, 2, GRPC, TC_TRUST_IMPLICIT },
        { 0, 3, HTTP, TC_TRUST_NONE }, { 2, 4, POSTGRES, TC_TRUST_IMPLICIT },
        { 1, 5, HTTP, TC_TRUST_IMPLICIT },
    };
    static const hand_topology topo = { .n_segments = 1, .n_principals = 1,
        .base_rules = base, .n_base_rules = 1, .workloads = w, .n_workloads = HAND_COUNT(w),
        .api_edges = edges, .n_api_edges = HAND_COUNT(edges) };
    static const char *const selectors[] = { "tier == data" };
    static tc_rule_spec rules[] = { { ANY_GROUP, 0, BIT(HTTP), false, 0, 0 } };
    static tc_policy_spec policy = { .name = "no-http-to-data", .kind = TC_POLICY_RULES,
                                     .default_allow = true, .rules = rules, .n_rules = 1 };
    static const int hops[] = { 0, 1, 2, NEVER, NEVER, NEVER };
    static const uint8_t steps[] = { F, A, A, X, X, X };
    attack_case c = { &topo, selectors, 1, &policy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, NULL, 5, 1 };
    run_case(&c);
}

/* ---- credentials ---- */

/* No base rules at all. w0 runs role-0, which has a control-plane grant to
 * w1 (hop 1: no network path needed) and a network-gated grant to w2 on
 * postgres (never: nothing reaches w2). The gated grant is one flow from w0,
 * base-denied, so not broken. */
static void control_plane_grant_needs_no_network(void **state)
{
    (void)state;
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_CI, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_DATA, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_DATA, TC_ENV_PROD, BIT(POSTGRES), 0 },
    };
    static const hand_grant grants[] = {
        { 0, 1, BIT(OBJECT_STORAGE), false }, { 0, 2, BIT(POSTGRES), true },
    };
    static const hand_topology topo = { .n_segments = 1, .n_principals = 2,
        .workloads = w, .n_workloads = HAND_COUNT(w),
        .grants = grants, .n_grants = HAND_COUNT(grants) };
    static const int hops[] = { 0, 1, NEVER };
    static const uint8_t steps[] = { F, C, X };
    static const int principal_hops[] = { 0, 1 };
    attack_case c = { &topo, NULL, 0, &legacy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, principal_hops, 1, 0 };
    run_case(&c);
}

/* The principal is held late. Base seg0 -> seg0 ssh|http, seg0 -> seg1
 * postgres.
 *   w0 (seg0, role-0)  foothold
 *   w1 (seg0, role-1)  hop 1 by an ssh exploit from w0
 *   w2 (seg0, role-2)  hop 2 by an implicit http call from w1: role-2 held at 2
 *   w3 (seg1)          gated postgres grant of role-2; w0 reaches it at hop 0,
 *                      so hop 1 + max(2, 0) = 3 */
static void gated_grant_waits_for_principal(void **state)
{
    (void)state;
    static const tc_base_rule base[] = { { 0, 0, BIT(SSH) | BIT(HTTP) }, { 0, 1, BIT(POSTGRES) } };
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_WEB, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
        { 0, 2, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 1, 3, TC_TIER_DATA, TC_ENV_PROD, BIT(POSTGRES), 0 },
    };
    static const hand_api_edge edges[] = { { 1, 2, HTTP, TC_TRUST_IMPLICIT } };
    static const hand_grant grants[] = { { 2, 3, BIT(POSTGRES), true } };
    static const hand_topology topo = { .n_segments = 2, .n_principals = 4,
        .base_rules = base, .n_base_rules = HAND_COUNT(base),
        .workloads = w, .n_workloads = HAND_COUNT(w), .api_edges = edges, .n_api_edges = 1,
        .grants = grants, .n_grants = 1 };
    static const int hops[] = { 0, 1, 2, 3 };
    static const uint8_t steps[] = { F, N, A, C };
    static const int principal_hops[] = { 0, 1, 2, 3 };
    attack_case c = { &topo, NULL, 0, &legacy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, principal_hops, 2, 0 };
    run_case(&c);
}

/* The network path comes late. Base seg0 -> seg1 ssh, seg1 -> seg2 postgres.
 *   w0 (seg0, role-0)  foothold: role-0 held at 0
 *   w1 (seg1, role-1)  hop 1 by an ssh exploit from w0
 *   w2 (seg2)          gated postgres grant of role-0; only w1 reaches seg2 on
 *                      postgres, so hop 1 + max(0, 1) = 2
 *   w3 (seg2)          gated ssh grant of role-0; nothing reaches seg2 on ssh
 * Both grants are flows from w0 (the member of role-0), base-denied because
 * seg0 has no rule to seg2: 2 flows, 0 broken. */
static void gated_grant_waits_for_network(void **state)
{
    (void)state;
    static const tc_base_rule base[] = { { 0, 1, BIT(SSH) }, { 1, 2, BIT(POSTGRES) } };
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 1, 1, TC_TIER_API, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
        { 2, 1, TC_TIER_DATA, TC_ENV_PROD, BIT(POSTGRES), 0 },
        { 2, 1, TC_TIER_DATA, TC_ENV_PROD, BIT(SSH), 0 },
    };
    static const hand_grant grants[] = {
        { 0, 2, BIT(POSTGRES), true }, { 0, 3, BIT(SSH), true },
    };
    static const hand_topology topo = { .n_segments = 3, .n_principals = 2,
        .base_rules = base, .n_base_rules = HAND_COUNT(base),
        .workloads = w, .n_workloads = HAND_COUNT(w), .grants = grants,
        .n_grants = HAND_COUNT(grants) };
    static const int hops[] = { 0, 1, 2, NEVER };
    static const uint8_t steps[] = { F, N, C, X };
    attack_case c = { &topo, NULL, 0, &legacy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, NULL, 2, 0 };
    run_case(&c);
}

/* ---- assumes ---- */

/* w0 runs role-2; role-2 assumes role-1 and role-1 assumes role-0, so roles
 * 0-2 are held at hop 0 (the chain runs against the id order, so a single
 * pass over the principals in id order would miss role-0). role-3 assumes
 * role-2, the wrong way round for the attacker. The other workloads run
 * role-4.
 *   w1: control-plane grant of role-0           hop 1
 *   w2: control-plane grant of role-3           never
 *   w3: installs pkg-0, which role-0 publishes   hop 1 */
static void assume_chain_gives_principals(void **state)
{
    (void)state;
    static const hand_workload w[] = {
        { 0, 2, TC_TIER_CI, TC_ENV_PROD, 0, 0 },
        { 0, 4, TC_TIER_SECRETS, TC_ENV_PROD, 0, 0 },
        { 0, 4, TC_TIER_SECRETS, TC_ENV_PROD, 0, 0 },
        { 0, 4, TC_TIER_WORKER, TC_ENV_PROD, 0, 0 },
    };
    static const hand_pair assumes[] = { { 2, 1 }, { 1, 0 }, { 3, 2 } };
    static const hand_pair publishes[] = { { 0, 0 } };
    static const hand_pair installs[] = { { 3, 0 } };
    static const hand_grant grants[] = {
        { 0, 1, BIT(OBJECT_STORAGE), false }, { 3, 2, BIT(OBJECT_STORAGE), false },
    };
    static const hand_topology topo = { .n_segments = 1, .n_principals = 5, .n_packages = 1,
        .workloads = w, .n_workloads = HAND_COUNT(w), .grants = grants,
        .n_grants = HAND_COUNT(grants), .assumes = assumes, .n_assumes = HAND_COUNT(assumes),
        .publishes = publishes, .n_publishes = 1, .installs = installs, .n_installs = 1 };
    static const int hops[] = { 0, 1, NEVER, 1 };
    static const uint8_t steps[] = { F, C, X, S };
    static const int principal_hops[] = { 0, 0, 0, NEVER, 1 };
    attack_case c = { &topo, NULL, 0, &legacy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, principal_hops, 0, 0 };
    run_case(&c);
}

/* An assume chain starts at the hop of the workload that gives its first
 * principal. Base seg0 -> seg0 ssh. w1 (role-1) falls at hop 1 by ssh;
 * role-1 assumes role-2, held at 1; role-2's control-plane grant gives w2
 * at hop 2. */
static void assume_chain_starts_late(void **state)
{
    (void)state;
    static const tc_base_rule base[] = { { 0, 0, BIT(SSH) } };
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_API, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
        { 0, 0, TC_TIER_DATA, TC_ENV_PROD, 0, 0 },
    };
    static const hand_pair assumes[] = { { 1, 2 } };
    static const hand_grant grants[] = { { 2, 2, BIT(OBJECT_STORAGE), false } };
    static const hand_topology topo = { .n_segments = 1, .n_principals = 3,
        .base_rules = base, .n_base_rules = 1, .workloads = w, .n_workloads = HAND_COUNT(w),
        .grants = grants, .n_grants = 1, .assumes = assumes, .n_assumes = 1 };
    static const int hops[] = { 0, 1, 2 };
    static const uint8_t steps[] = { F, N, C };
    static const int principal_hops[] = { 0, 1, 1 };
    attack_case c = { &topo, NULL, 0, &legacy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, principal_hops, 0, 0 };
    run_case(&c);
}

/* ---- supply chain ---- */

/* No foothold workload; pkg-0 is the foothold package. Its installers w1 and
 * w2 fall at hop 0 as footholds; w1 runs role-0, whose control-plane grant
 * gives w3 at hop 1. w0 installs nothing and is never reached. */
static void supply_chain_from_foothold_package(void **state)
{
    (void)state;
    static const hand_workload w[] = {
        { 0, 1, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 0, 0, TC_TIER_CI, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_DATA, TC_ENV_PROD, 0, 0 },
    };
    static const hand_pair installs[] = { { 1, 0 }, { 2, 0 } };
    static const hand_grant grants[] = { { 0, 3, BIT(OBJECT_STORAGE), false } };
    static const hand_topology topo = { .n_segments = 1, .n_principals = 2, .n_packages = 1,
        .workloads = w, .n_workloads = HAND_COUNT(w), .grants = grants, .n_grants = 1,
        .installs = installs, .n_installs = HAND_COUNT(installs) };
    static const uint32_t packages[] = { 0 };
    static const int hops[] = { NEVER, 0, 0, 1 };
    static const uint8_t steps[] = { X, F, F, C };
    static const int package_hops[] = { 0 };
    attack_case c = { &topo, NULL, 0, &legacy, NULL, 0, packages, 1, 5,
                      hops, steps, package_hops, NULL, 0, 0 };
    run_case(&c);
}

/* w0 runs role-0, which publishes pkg-1 (installed by w4) and has a
 * control-plane grant to w1. w1 runs role-1, which publishes pkg-0 (installed
 * by w2 and w3). So pkg-1 falls at hop 1 with w4, w1 at hop 1, role-1 is held
 * at 1, pkg-0 falls at hop 2 with w2 and w3. w5 installs nothing. w2 to w5
 * run role-2, held at 1 through w4. */
static void supply_chain_from_held_publisher(void **state)
{
    (void)state;
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_CI, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_CI, TC_ENV_PROD, 0, 0 },
        { 0, 2, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 2, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 2, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 0, 2, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
    };
    static const hand_pair publishes[] = { { 1, 0 }, { 0, 1 } };
    static const hand_pair installs[] = { { 2, 0 }, { 3, 0 }, { 4, 1 } };
    static const hand_grant grants[] = { { 0, 1, BIT(OBJECT_STORAGE), false } };
    static const hand_topology topo = { .n_segments = 1, .n_principals = 3, .n_packages = 2,
        .workloads = w, .n_workloads = HAND_COUNT(w), .grants = grants, .n_grants = 1,
        .publishes = publishes, .n_publishes = HAND_COUNT(publishes),
        .installs = installs, .n_installs = HAND_COUNT(installs) };
    static const int hops[] = { 0, 1, 2, 2, 1, NEVER };
    static const uint8_t steps[] = { F, C, S, S, S, X };
    static const int principal_hops[] = { 0, 1, 1 };
    attack_case c = { &topo, NULL, 0, &legacy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, principal_hops, 0, 0 };
    run_case(&c);
}

/* A package counts as compromised at the hop its installers fall: the hop
 * after its publisher became held. A foothold package is at hop 0. Budget 2.
 *   w0 runs role-0, which publishes pkg-0                -> pkg-0 at hop 1
 *   role-0's control-plane grant gives w1 (role-1) at 1;
 *   role-1 publishes pkg-1                                -> pkg-1 at hop 2
 *   pkg-1 gives w2 (role-2) at 2; role-2 publishes pkg-2  -> past the budget
 *   pkg-3 is the foothold package, installed by w3       -> pkg-3 at hop 0 */
static void package_falls_after_publisher(void **state)
{
    (void)state;
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_CI, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_CI, TC_ENV_PROD, 0, 0 },
        { 0, 2, TC_TIER_CI, TC_ENV_PROD, 0, 0 },
        { 0, 3, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 0, 3, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
    };
    static const hand_pair publishes[] = { { 0, 0 }, { 1, 1 }, { 2, 2 } };
    static const hand_pair installs[] = { { 4, 0 }, { 2, 1 }, { 4, 2 }, { 3, 3 } };
    static const hand_grant grants[] = { { 0, 1, BIT(OBJECT_STORAGE), false } };
    static const hand_topology topo = { .n_segments = 1, .n_principals = 4, .n_packages = 4,
        .workloads = w, .n_workloads = HAND_COUNT(w), .grants = grants, .n_grants = 1,
        .publishes = publishes, .n_publishes = HAND_COUNT(publishes),
        .installs = installs, .n_installs = HAND_COUNT(installs) };
    static const int hops[] = { 0, 1, 2, 0, 1 };
    static const uint8_t steps[] = { F, C, S, F, S };
    static const uint32_t packages[] = { 3 };
    static const int package_hops[] = { 1, 2, NEVER, 0 };
    static const int principal_hops[] = { 0, 1, 2, 0 };
    attack_case c = { &topo, NULL, 0, &legacy, first_workload, 1, packages, 1, 2,
                      hops, steps, package_hops, principal_hops, 0, 0 };
    run_case(&c);
}

/* ---- hop budget ---- */

/* A chain of implicit http calls w0 -> w1 -> w2 -> w3 -> w4 under a budget
 * of 2 stops at w2. w2 runs role-2, held at hop 2, which publishes pkg-0
 * (installed by w5): w5 would fall at hop 3, past the budget. */
static void hop_budget_cuts_chain(void **state)
{
    (void)state;
    static const tc_base_rule base[] = { { 0, 0, BIT(HTTP) } };
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 2, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_DATA, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_DATA, TC_ENV_PROD, 0, 0 },
    };
    static const hand_api_edge edges[] = {
        { 0, 1, HTTP, TC_TRUST_IMPLICIT }, { 1, 2, HTTP, TC_TRUST_IMPLICIT },
        { 2, 3, HTTP, TC_TRUST_IMPLICIT }, { 3, 4, HTTP, TC_TRUST_IMPLICIT },
    };
    static const hand_pair publishes[] = { { 2, 0 } };
    static const hand_pair installs[] = { { 5, 0 } };
    static const hand_topology topo = { .n_segments = 1, .n_principals = 3, .n_packages = 1,
        .base_rules = base, .n_base_rules = 1, .workloads = w, .n_workloads = HAND_COUNT(w),
        .api_edges = edges, .n_api_edges = HAND_COUNT(edges), .publishes = publishes,
        .n_publishes = 1, .installs = installs, .n_installs = 1 };
    static const int hops[] = { 0, 1, 2, NEVER, NEVER, NEVER };
    static const uint8_t steps[] = { F, A, A, X, X, X };
    static const int principal_hops[] = { 0, 1, 2 };
    attack_case c = { &topo, NULL, 0, &legacy, first_workload, 1, NULL, 0, 2,
                      hops, steps, NULL, principal_hops, 4, 0 };
    run_case(&c);
}

/* ---- policies ---- */

/* Base seg0 -> seg0 on every service. w0 runs role-0; w1 is ssh exploitable;
 * w0 calls w2 on http with implicit trust; role-0 has a control-plane grant
 * to w3 and a gated postgres grant to w4. Legacy: all fall at hop 1. Default
 * deny with no rules: only the control-plane grant works, and both flows
 * (the API call and the gated grant from w0) are broken. */
static const tc_base_rule open_base[] = { { 0, 0, TC_SERVICE_ALL } };
static const hand_workload deny_workloads[] = {
    { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
    { 0, 1, TC_TIER_API, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
    { 0, 1, TC_TIER_API, TC_ENV_PROD, 0, 0 },
    { 0, 1, TC_TIER_DATA, TC_ENV_PROD, 0, 0 },
    { 0, 1, TC_TIER_DATA, TC_ENV_PROD, BIT(POSTGRES), 0 },
};
static const hand_api_edge deny_edges[] = { { 0, 2, HTTP, TC_TRUST_IMPLICIT } };
static const hand_grant deny_grants[] = {
    { 0, 3, BIT(OBJECT_STORAGE), false }, { 0, 4, BIT(POSTGRES), true },
};
static const hand_topology deny_topology = { .n_segments = 1, .n_principals = 2,
    .base_rules = open_base, .n_base_rules = 1, .workloads = deny_workloads,
    .n_workloads = HAND_COUNT(deny_workloads), .api_edges = deny_edges, .n_api_edges = 1,
    .grants = deny_grants, .n_grants = HAND_COUNT(deny_grants) };

static void default_deny_blocks_network_paths(void **state)
{
    (void)state;
    static tc_policy_spec deny_all = { .name = "deny-all", .kind = TC_POLICY_RULES,
                                       .default_allow = false };
    static const int hops[] = { 0, NEVER, NEVER, 1, NEVER };
    static const uint8_t steps[] = { F, X, X, C, X };
    attack_case c = { &deny_topology, NULL, 0, &deny_all, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, NULL, 2, 2 };
    run_case(&c);
}

static void legacy_allows_base(void **state)
{
    (void)state;
    static const int hops[] = { 0, 1, 1, 1, 1 };
    static const uint8_t steps[] = { F, N, A, C, C };
    attack_case c = { &deny_topology, NULL, 0, &legacy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, NULL, 2, 0 };
    run_case(&c);
}

/* Base seg0 -> seg0 on every service. Groups: 0 = tier web, 1 = tier data.
 * w0 (web) foothold; w1 (data, ssh exploitable); w2 (data, postgres
 * exploitable); w3 (data, http exploitable). Rules, first match per service:
 *   deny   ssh              web -> data
 *   allow  ssh|postgres     any -> any
 *   deny   postgres         web -> data
 * From w0: ssh is denied by the first rule, postgres allowed by the second
 * (the third never decides), http by no rule. So w2 falls at 1; w1 falls at
 * 2 from w2, which is not in the web group. w3 falls at 1 under default
 * allow and never under default deny. */
static tc_rule_spec order_rules[] = {
    { 0, 1, BIT(SSH), false, 0, 0 },
    { ANY_GROUP, ANY_GROUP, BIT(SSH) | BIT(POSTGRES), true, 0, 0 },
    { 0, 1, BIT(POSTGRES), false, 0, 0 },
};
static tc_rule_spec swapped_rules[] = {
    { ANY_GROUP, ANY_GROUP, BIT(SSH) | BIT(POSTGRES), true, 0, 0 },
    { 0, 1, BIT(SSH), false, 0, 0 },
    { 0, 1, BIT(POSTGRES), false, 0, 0 },
};
static const char *const order_selectors[] = { "tier == web", "tier == data" };
static const hand_workload order_workloads[] = {
    { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
    { 0, 0, TC_TIER_DATA, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
    { 0, 0, TC_TIER_DATA, TC_ENV_PROD, BIT(POSTGRES), BIT(POSTGRES) },
    { 0, 0, TC_TIER_DATA, TC_ENV_PROD, BIT(HTTP), BIT(HTTP) },
};
static const hand_topology order_topology = { .n_segments = 1, .n_principals = 1,
    .base_rules = open_base, .n_base_rules = 1, .workloads = order_workloads,
    .n_workloads = HAND_COUNT(order_workloads) };

static void first_match_decides_each_service(void **state)
{
    (void)state;
    static tc_policy_spec policy = { .name = "ordered", .kind = TC_POLICY_RULES,
                                     .default_allow = true, .rules = order_rules, .n_rules = 3 };
    static const int hops[] = { 0, 2, 1, 1 };
    static const uint8_t steps[] = { F, N, N, N };
    attack_case c = { &order_topology, order_selectors, 2, &policy, first_workload, 1, NULL, 0,
                      5, hops, steps, NULL, NULL, 0, 0 };
    run_case(&c);
}

static void first_match_under_default_deny(void **state)
{
    (void)state;
    static tc_policy_spec policy = { .name = "ordered-deny", .kind = TC_POLICY_RULES,
                                     .default_allow = false, .rules = order_rules, .n_rules = 3 };
    static const int hops[] = { 0, 2, 1, NEVER };
    static const uint8_t steps[] = { F, N, N, X };
    attack_case c = { &order_topology, order_selectors, 2, &policy, first_workload, 1, NULL, 0,
                      5, hops, steps, NULL, NULL, 0, 0 };
    run_case(&c);
}

/* With the allow rule first, ssh from w0 to w1 is allowed: w1 falls at 1. */
static void rule_order_changes_outcome(void **state)
{
    (void)state;
    static tc_policy_spec policy = { .name = "swapped", .kind = TC_POLICY_RULES,
                                     .default_allow = false, .rules = swapped_rules,
                                     .n_rules = 3 };
    static const int hops[] = { 0, 1, 1, NEVER };
    static const uint8_t steps[] = { F, N, N, X };
    attack_case c = { &order_topology, order_selectors, 2, &policy, first_workload, 1, NULL, 0,
                      5, hops, steps, NULL, NULL, 0, 0 };
    run_case(&c);
}

/* Derived by tier, base seg0 -> seg0 on every service. Flows: w0 (web)
 * calls w1 (api) on http with trust none, and w1 runs role-1 with a gated
 * postgres grant to w2 (data). The policy allows web -> api http and
 * api -> data postgres only:
 *   w1 (api, http exploitable)      hop 1 by network
 *   w2 (data, postgres exploitable) hop 2: network and credential both apply,
 *                                   network is the lower step kind
 *   w3 (web, http exploitable)      never: no flow from web to web
 * 2 flows, none broken. */
static void derived_policy_allows_flows_only(void **state)
{
    (void)state;
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_API, TC_ENV_PROD, BIT(HTTP), BIT(HTTP) },
        { 0, 0, TC_TIER_DATA, TC_ENV_PROD, BIT(POSTGRES), BIT(POSTGRES) },
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, BIT(HTTP), BIT(HTTP) },
    };
    static const hand_api_edge edges[] = { { 0, 1, HTTP, TC_TRUST_NONE } };
    static const hand_grant grants[] = { { 1, 2, BIT(POSTGRES), true } };
    static const hand_topology topo = { .n_segments = 1, .n_principals = 2,
        .base_rules = open_base, .n_base_rules = 1, .workloads = w,
        .n_workloads = HAND_COUNT(w), .api_edges = edges, .n_api_edges = 1,
        .grants = grants, .n_grants = 1 };
    static tc_policy_spec policy = { .name = "by-tier", .kind = TC_POLICY_DERIVED,
                                     .default_allow = false, .granularity = { TC_ATTR_TIER },
                                     .n_granularity = 1 };
    static const int hops[] = { 0, 1, 2, NEVER };
    static const uint8_t steps[] = { F, N, N, X };
    attack_case c = { &topo, NULL, 0, &policy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, NULL, 2, 0 };
    run_case(&c);
}

/* A derived policy allows the services of every legitimate flow, also of a
 * flow that the base rules block. Base: seg1 -> seg1 on every service only.
 * w2 (seg0, web) calls w0 (seg1, web) on ssh with trust none: a flow, base-
 * denied. By tier, the policy allows web -> web ssh, which opens ssh from w0
 * to w1 (seg1, web, ssh exploitable): hop 1. One flow, not broken. */
static void derived_policy_allows_base_denied_flows(void **state)
{
    (void)state;
    static const tc_base_rule base[] = { { 1, 1, TC_SERVICE_ALL } };
    static const hand_workload w[] = {
        { 1, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
        { 1, 0, TC_TIER_WEB, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
        { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
    };
    static const hand_api_edge edges[] = { { 2, 0, SSH, TC_TRUST_NONE } };
    static const hand_topology topo = { .n_segments = 2, .n_principals = 1,
        .base_rules = base, .n_base_rules = 1, .workloads = w, .n_workloads = HAND_COUNT(w),
        .api_edges = edges, .n_api_edges = 1 };
    static tc_policy_spec policy = { .name = "by-tier", .kind = TC_POLICY_DERIVED,
                                     .default_allow = false, .granularity = { TC_ATTR_TIER },
                                     .n_granularity = 1 };
    static const int hops[] = { 0, 1, NEVER };
    static const uint8_t steps[] = { F, N, X };
    attack_case c = { &topo, NULL, 0, &policy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, NULL, 1, 0 };
    run_case(&c);
}

/* ---- step kinds ---- */

/* Base seg0 -> seg0 on every service; w0 runs role-0, which publishes pkg-0
 * and has control-plane grants to w1, w2 and w3. At hop 1:
 *   w1: ssh exploit, implicit call, grant, install  -> network
 *   w2: implicit call and grant                     -> api
 *   w3: grant and install                           -> credential
 *   w4: install only                                -> supply chain */
static void lowest_step_kind_wins(void **state)
{
    (void)state;
    static const hand_workload w[] = {
        { 0, 0, TC_TIER_CI, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_API, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
        { 0, 1, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_API, TC_ENV_PROD, 0, 0 },
        { 0, 1, TC_TIER_API, TC_ENV_PROD, 0, 0 },
    };
    static const hand_api_edge edges[] = {
        { 0, 1, HTTP, TC_TRUST_IMPLICIT }, { 0, 2, HTTP, TC_TRUST_IMPLICIT },
    };
    static const hand_grant grants[] = {
        { 0, 1, BIT(OBJECT_STORAGE), false }, { 0, 2, BIT(OBJECT_STORAGE), false },
        { 0, 3, BIT(OBJECT_STORAGE), false },
    };
    static const hand_pair publishes[] = { { 0, 0 } };
    static const hand_pair installs[] = { { 1, 0 }, { 3, 0 }, { 4, 0 } };
    static const hand_topology topo = { .n_segments = 1, .n_principals = 2, .n_packages = 1,
        .base_rules = open_base, .n_base_rules = 1, .workloads = w,
        .n_workloads = HAND_COUNT(w), .api_edges = edges, .n_api_edges = HAND_COUNT(edges),
        .grants = grants, .n_grants = HAND_COUNT(grants), .publishes = publishes,
        .n_publishes = 1, .installs = installs, .n_installs = HAND_COUNT(installs) };
    static const int hops[] = { 0, 1, 1, 1, 1 };
    static const uint8_t steps[] = { F, N, A, C, S };
    attack_case c = { &topo, NULL, 0, &legacy, first_workload, 1, NULL, 0, 5,
                      hops, steps, NULL, NULL, 2, 0 };
    run_case(&c);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(network_exploit_needs_base_policy_exploit),
        cmocka_unit_test(api_chain_needs_implicit_trust),
        cmocka_unit_test(control_plane_grant_needs_no_network),
        cmocka_unit_test(gated_grant_waits_for_principal),
        cmocka_unit_test(gated_grant_waits_for_network),
        cmocka_unit_test(assume_chain_gives_principals),
        cmocka_unit_test(assume_chain_starts_late),
        cmocka_unit_test(supply_chain_from_foothold_package),
        cmocka_unit_test(supply_chain_from_held_publisher),
        cmocka_unit_test(package_falls_after_publisher),
        cmocka_unit_test(hop_budget_cuts_chain),
        cmocka_unit_test(default_deny_blocks_network_paths),
        cmocka_unit_test(legacy_allows_base),
        cmocka_unit_test(first_match_decides_each_service),
        cmocka_unit_test(first_match_under_default_deny),
        cmocka_unit_test(rule_order_changes_outcome),
        cmocka_unit_test(derived_policy_allows_flows_only),
        cmocka_unit_test(derived_policy_allows_base_denied_flows),
        cmocka_unit_test(lowest_step_kind_wins),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return failed ? 1 : 0;
}
