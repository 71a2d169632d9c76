/*
 * test_whatif.c - the 64-lane what-if engine against the plain way of
 * closing a chain: copy the topology with the closure applied, recompile
 * the policy where it changes, and run tc_sim_run.
 *
 * The campaign runs once, before the tests that read its counts. For each
 * case seed, every rank builds the random case (random_topology.h) over
 * MPI_COMM_WORLD. Under each of the case's three policies, lanes are made
 * of the candidates of the plain run, of random closures of every kind and
 * of a few combinations of several closures. They are evaluated in batches
 * of 64. Each lane is compared with the plain run of the same closures:
 * workload by workload (hop and step), and by compromised count, crown
 * jewels, levels, per-hop counts and broken flows. Failures print the seed
 * that replays them.
 *
 * The other tests check a hand-made case whose results are worked out in
 * its comment (what each kind of closure cuts and breaks, what a split
 * principal keeps, which candidates the attack yields), that invalid
 * closures are rejected, and that the candidate list does not depend on
 * the rank count.
 *
 * Environment:
 *   TC_CASE_SEED=S   run the single case S, e.g. one printed by a failure;
 *   TC_CASE_COUNT=N  run N cases, seeds 1 .. N (default 30, or 2 when the
 *                    node runs more ranks than it has processors).
 * On an oversubscribed node every lane still runs, but only the lane
 * without closures, the first lane of each kind and the combined lanes are
 * compared with plain runs: a plain run there costs about a second, because
 * MPICH ranks busy-poll in every collective.
 * Runs at any rank count: mpiexec -n 3 build/tests/test_whatif.
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
#include "mpi_test.h"
#include "random_topology.h"
#include "rng.h"
#include "selector.h"
#include "whatif.h"

#define DEFAULT_CASE_COUNT 30
#define OVERSUBSCRIBED_CASE_COUNT 2
#define MAX_REPORTED_FAILURES 5
#define RANDOM_CLOSURES 14
#define COMBINED_LANES 6
#define ALL_CROWN_KINDS 0x1e

enum { STREAM_CLOSURE = 0x57480001u };

/* ---- the campaign ---- */

typedef struct campaign_result {
    uint64_t lanes;              /* lanes compared */
    uint64_t by_kind[TC_CLOSE_KIND_COUNT]; /* single-closure lanes of each kind */
    unsigned lane_failures;      /* lanes that differ from their plain run */
    unsigned flow_failures;      /* open-flow count differs from the compiled policy's */
    unsigned base_failures;      /* the lane without closures differs from tc_sim_run */
    unsigned run_failures;       /* a run returned an error */
} campaign_result;

static campaign_result campaign;

/* Compare only a sample of the lanes with plain runs (oversubscribed node). */
static bool sample_lanes;

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

/* True when this node runs more ranks than it has online processors: MPICH
 * ranks busy-poll, so every collective then waits for the scheduler. */
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

static uint64_t draw(uint64_t seed, uint64_t entity, uint32_t index, uint64_t n)
{
    return n ? tc_rng_below(seed, STREAM_CLOSURE, entity, index, n) : 0;
}

/* A nonempty subset of MASK drawn from the seed. */
static tc_svcmask draw_subset(uint64_t seed, uint64_t entity, uint32_t index, tc_svcmask mask)
{
    tc_svcmask subset = mask & tc_rng_u64(seed, STREAM_CLOSURE, entity, index);
    return subset ? subset : mask;
}

/* Random closures of every kind that the case allows, drawn from the hub
 * layer (replicated), so every rank draws the same ones. */
static size_t random_closures(const random_topology *rt, const tc_policy_spec *spec,
                              uint64_t seed, tc_closure *out)
{
    const tc_topology *t = rt->topology;
    size_t n = 0;
    for (uint32_t k = 0; k < RANDOM_CLOSURES; k++) {
        tc_closure c = { .kind = (enum tc_closure_kind)(k % TC_CLOSE_KIND_COUNT) };
        switch (c.kind) {
        case TC_CLOSE_BASE_RULE: {
            if (!t->n_base_rules)
                continue;
            const tc_base_rule *rule = &t->base_rules[draw(seed, k, 0, t->n_base_rules)];
            c.first = rule->from_segment;
            c.second = rule->to_segment;
            c.services = draw_subset(seed, k, 1, rule->services);
            break;
        }
        case TC_CLOSE_POLICY_RULE: {
            if (spec->kind != TC_POLICY_RULES || !spec->n_rules)
                continue;
            uint32_t r = (uint32_t)draw(seed, k, 0, spec->n_rules);
            if (!spec->rules[r].allow || !spec->rules[r].services)
                continue;
            c.first = r;
            c.services = draw_subset(seed, k, 1, spec->rules[r].services);
            break;
        }
        case TC_CLOSE_SPLIT:
            c.first = (uint32_t)draw(seed, k, 0, t->principals.count);
            break;
        case TC_CLOSE_REVOKE:
            c.first = (uint32_t)draw(seed, k, 0, t->principals.count);
            c.second = (uint32_t)draw(seed, k, 1, t->apps.count);
            break;
        case TC_CLOSE_TRUST:
            c.first = (uint32_t)draw(seed, k, 0, t->apps.count);
            c.second = (uint32_t)draw(seed, k, 1, t->apps.count);
            break;
        case TC_CLOSE_PACKAGE:
            if (!t->packages.count)
                continue;
            c.first = (uint32_t)draw(seed, k, 0, t->packages.count);
            break;
        default:
            continue;
        }
        out[n++] = c;
    }
    return n;
}

/* The lanes of one policy: each a list of closure indices. */
typedef struct lane_plan {
    size_t members[3];
    size_t n_members;
    bool compare;       /* compare with a plain run */
} lane_plan;

/* Compare lane LANE of W with the plain run of its closures; appends
 * differences seen on this rank to MESSAGE. Collective. */
static bool lane_matches_plain(tc_whatif *w, unsigned lane, const tc_whatif_lane *result,
                               const tc_closure *closures, size_t n, char *message, size_t len)
{
    const tc_topology *t = tc_whatif_get_input(w)->topology;
    tc_whatif_plain plain;
    tc_error err;
    tc_error_clear(&err);
    if (tc_whatif_run_plain(w, closures, n, &plain, &err) != TC_OK) {
        harness_append(message, len, "plain run failed: %s\n", err.message);
        campaign.run_failures++;
        return false;
    }

    uint64_t differences = 0;
    for (uint64_t i = 0; i < t->n_local; i++) {
        uint16_t hop = tc_whatif_lane_hop(w, i, lane);
        uint8_t step = tc_whatif_lane_step(w, i, lane);
        uint8_t expected_step = plain.sim->hop[i] == TC_HOP_NONE ? TC_STEP_COUNT : plain.sim->step[i];
        if (hop == plain.sim->hop[i] && step == expected_step)
            continue;
        if (differences++ < 3)
            harness_append(message, len, "  workload %llu: lane hop %d by %s, plain hop %d by %s\n",
                           (unsigned long long)(t->first + i), hop == TC_HOP_NONE ? -1 : hop,
                           harness_step_name(step),
                           plain.sim->hop[i] == TC_HOP_NONE ? -1 : plain.sim->hop[i],
                           harness_step_name(expected_step));
    }
    MPI_Allreduce(MPI_IN_PLACE, &differences, 1, MPI_UINT64_T, MPI_SUM, t->comm);

    bool same = differences == 0 && result->compromised == plain.compromised &&
                result->crown_jewels == plain.crown_jewels &&
                result->flows_broken == plain.flows_broken &&
                result->levels == plain.sim->levels;
    for (uint32_t h = 0; h <= plain.sim->levels; h++)
        same = same && tc_whatif_new_at_hop(w, lane, h) == plain.sim->new_per_hop[h];
    if (!same)
        harness_append(message, len,
                       "  %llu workloads differ; lane: %llu compromised, %llu crown jewels, "
                       "%llu flows broken, %u levels; plain: %llu, %llu, %llu, %u\n",
                       (unsigned long long)differences, (unsigned long long)result->compromised,
                       (unsigned long long)result->crown_jewels,
                       (unsigned long long)result->flows_broken, result->levels,
                       (unsigned long long)plain.compromised,
                       (unsigned long long)plain.crown_jewels,
                       (unsigned long long)plain.flows_broken, plain.sim->levels);
    tc_whatif_plain_free(&plain);
    return same;
}

static const char *const policy_kind_names[RANDOM_POLICY_COUNT] = { "legacy", "rules",
                                                                    "derived" };

static void report(unsigned *count, uint64_t seed, int kind, const char *what,
                   const char *message)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    (*count)++;
    if (rank != 0 || *count > MAX_REPORTED_FAILURES)
        return;
    fprintf(stderr, "case %llu, %s policy: %s; replay with TC_CASE_SEED=%llu\n%s",
            (unsigned long long)seed, policy_kind_names[kind], what, (unsigned long long)seed,
            message);
}

/* Evaluate every lane of the plan in batches of 64 and compare each with
 * its plain run. Collective. */
static void run_lanes(tc_whatif *w, uint64_t seed, int kind, const tc_closure *closures,
                      const lane_plan *lanes, size_t n_lanes)
{
    tc_error err;
    for (size_t first = 0; first < n_lanes; first += TC_WHATIF_LANES) {
        unsigned batch = (unsigned)(n_lanes - first < TC_WHATIF_LANES ? n_lanes - first
                                                                      : TC_WHATIF_LANES);
        tc_closure list[3 * TC_WHATIF_LANES];
        uint64_t masks[3 * TC_WHATIF_LANES];
        size_t n = 0;
        for (unsigned k = 0; k < batch; k++)
            for (size_t m = 0; m < lanes[first + k].n_members; m++) {
                list[n] = closures[lanes[first + k].members[m]];
                masks[n++] = 1ULL << k;
            }

        tc_whatif_lane results[TC_WHATIF_LANES];
        tc_error_clear(&err);
        if (tc_whatif_run(w, list, masks, n, batch, results, &err) != TC_OK) {
            char message[1200];
            snprintf(message, sizeof message, "  %s\n", err.message);
            report(&campaign.run_failures, seed, kind, "the lane engine failed", message);
            continue;
        }
        for (unsigned k = 0; k < batch; k++) {
            const lane_plan *plan = &lanes[first + k];
            if (!plan->compare)
                continue;
            tc_closure own[3];
            char message[2048] = "";
            for (size_t m = 0; m < plan->n_members; m++)
                own[m] = closures[plan->members[m]];
            for (size_t m = 0; m < plan->n_members; m++) {
                char text[256];
                tc_whatif_describe(w, &own[m], text, sizeof text);
                harness_append(message, sizeof message, "  closure: %s\n", text);
            }
            bool ok = lane_matches_plain(w, k, &results[k], own, plan->n_members, message,
                                         sizeof message);
            ok = harness_agree(ok, MPI_COMM_WORLD);
            campaign.lanes++;
            if (plan->n_members == 1)
                campaign.by_kind[own[0].kind]++;
            if (!ok)
                report(&campaign.lane_failures, seed, kind, "a lane differs from its plain run",
                       message);
        }
    }
}

/* One policy of one case: base run, candidates, random closures, lanes. */
static void run_policy(const random_topology *rt, uint64_t seed, int kind)
{
    const tc_topology *t = rt->topology;
    const tc_policy_spec *spec = &rt->scenario.policies[kind];
    tc_policy *p = NULL;
    tc_sim_result *base = NULL;
    tc_whatif *w = NULL;
    tc_candidate *candidates = NULL;
    tc_footholds f;
    size_t n_candidates = 0, n_found = 0;
    tc_error err;
    tc_error_clear(&err);

    if (harness_footholds_make(t, rt->foothold_workloads, rt->n_foothold_workloads,
                               rt->foothold_packages, rt->n_foothold_packages, &f, &err) != TC_OK)
        goto failed;
    if (tc_policy_compile(&rt->scenario, spec, t, &p, &err) != TC_OK ||
        tc_sim_run(t, p, &f, rt->scenario.hop_budget, &base, &err) != TC_OK)
        goto failed;
    tc_whatif_input in = {
        .scenario = &rt->scenario, .spec = spec, .topology = t, .policy = p, .footholds = &f,
        .hop_budget = rt->scenario.hop_budget, .crown_kinds = ALL_CROWN_KINDS,
        .record_lanes = true,
    };
    if (tc_whatif_create(&in, &w, &err) != TC_OK ||
        tc_whatif_candidates(w, base, 0, &candidates, &n_candidates, &n_found, &err) != TC_OK)
        goto failed;

    /* Open flows by the plain path's own count must match what the
     * compiler reports. */
    uint64_t open = 0;
    if (tc_whatif_flows_open(t, p, &open, &err) != TC_OK)
        goto failed;
    if (open != p->flows_total - p->flows_broken - p->flows_base_denied) {
        char message[256];
        snprintf(message, sizeof message, "  counted %llu open, compiler: %llu - %llu - %llu\n",
                 (unsigned long long)open, (unsigned long long)p->flows_total,
                 (unsigned long long)p->flows_broken, (unsigned long long)p->flows_base_denied);
        report(&campaign.flow_failures, seed, kind, "open flows differ", message);
    }

    /* Closures: the candidates, then random ones of every kind. */
    size_t n_closures = n_candidates;
    tc_closure *closures = malloc((n_candidates + RANDOM_CLOSURES + 1) * sizeof *closures);
    lane_plan *lanes = malloc((n_candidates + RANDOM_CLOSURES + COMBINED_LANES + 1) *
                              sizeof *lanes);
    if (!closures || !lanes) {
        free(closures);
        free(lanes);
        tc_error_runtime(&err, "out of memory planning lanes");
        goto failed;
    }
    for (size_t k = 0; k < n_candidates; k++)
        closures[k] = candidates[k].closure;
    n_closures += random_closures(rt, spec, seed, closures + n_candidates);

    /* Lane 0 has no closure, then one lane per closure, then lanes that
     * combine two or three of them. */
    size_t n_lanes = 0;
    bool kind_seen[TC_CLOSE_KIND_COUNT] = { false };
    lanes[n_lanes++] = (lane_plan){ .n_members = 0, .compare = true };
    for (size_t k = 0; k < n_closures; k++) {
        bool first_of_kind = !kind_seen[closures[k].kind];
        kind_seen[closures[k].kind] = true;
        lanes[n_lanes++] = (lane_plan){ .members = { k }, .n_members = 1,
                                        .compare = !sample_lanes || first_of_kind };
    }
    for (uint32_t k = 0; n_closures >= 2 && k < COMBINED_LANES; k++) {
        lane_plan plan = { .n_members = 2 + k % 2, .compare = true };
        for (size_t m = 0; m < plan.n_members; m++)
            plan.members[m] = draw(seed, 1000 + k, (uint32_t)m, n_closures);
        lanes[n_lanes++] = plan;
    }
    run_lanes(w, seed, kind, closures, lanes, n_lanes);

    /* The lane without closures is the policy itself: tc_sim_run's hops. */
    tc_whatif_lane none;
    uint64_t differences = 0;
    if (tc_whatif_run(w, NULL, NULL, 0, 1, &none, &err) != TC_OK) {
        free(closures);
        free(lanes);
        goto failed;
    }
    for (uint64_t i = 0; i < t->n_local; i++)
        differences += tc_whatif_lane_hop(w, i, 0) != base->hop[i];
    MPI_Allreduce(MPI_IN_PLACE, &differences, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (differences)
        report(&campaign.base_failures, seed, kind, "the lane without closures differs", "");
    free(closures);
    free(lanes);
    goto release;

failed:
    {
        char message[1200];
        snprintf(message, sizeof message, "  %s\n", err.message);
        report(&campaign.run_failures, seed, kind, "a run failed", message);
    }
release:
    free(candidates);
    tc_whatif_free(w);
    tc_sim_result_free(base);
    tc_policy_free(p);
    harness_footholds_free(&f);
}

static int run_campaign(void **state)
{
    (void)state;
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    memset(&campaign, 0, sizeof campaign);

    bool oversubscribed = node_oversubscribed();
    sample_lanes = oversubscribed;
    uint64_t first = 1, count = oversubscribed ? OVERSUBSCRIBED_CASE_COUNT : DEFAULT_CASE_COUNT;
    const char *seed = getenv("TC_CASE_SEED"), *count_text = getenv("TC_CASE_COUNT");
    if (seed && *seed && parse_u64("TC_CASE_SEED", seed, &first))
        count = 1;
    else if (count_text && *count_text)
        parse_u64("TC_CASE_COUNT", count_text, &count);

    double start = MPI_Wtime();
    for (uint64_t s = first; s < first + count; s++) {
        random_topology *rt = NULL;
        tc_error err;
        tc_error_clear(&err);
        if (random_topology_build(s, MPI_COMM_WORLD, &rt, &err) != TC_OK) {
            char message[1200];
            snprintf(message, sizeof message, "  %s\n", err.message);
            report(&campaign.run_failures, s, 0, "the case did not build", message);
            continue;
        }
        for (int kind = 0; kind < RANDOM_POLICY_COUNT; kind++)
            run_policy(rt, s, kind);
        random_topology_free(rt);
    }
    if (rank == 0) {
        fprintf(stderr, "cases %llu .. %llu on %d ranks: %llu lanes compared in %.1f s "
                "(single closures:", (unsigned long long)first,
                (unsigned long long)(first + count - 1), size, (unsigned long long)campaign.lanes,
                MPI_Wtime() - start);
        for (int k = 0; k < TC_CLOSE_KIND_COUNT; k++)
            fprintf(stderr, " %s %llu", tc_closure_kind_names[k],
                    (unsigned long long)campaign.by_kind[k]);
        fprintf(stderr, "); %u lanes differ%s\n", campaign.lane_failures,
                sample_lanes ? " (a sample of the lanes compared: oversubscribed node)" : "");
    }
    return 0;
}

static void lanes_match_plain_runs(void **state)
{
    (void)state;
    assert_int_equal(campaign.run_failures, 0);
    assert_int_equal(campaign.lane_failures, 0);
}

static void campaign_covers_every_kind(void **state)
{
    (void)state;
    for (int k = 0; k < TC_CLOSE_KIND_COUNT; k++)
        assert_true(campaign.by_kind[k] > 0);
}

static void open_flows_match_compiler(void **state)
{
    (void)state;
    assert_int_equal(campaign.flow_failures, 0);
}

static void empty_lane_matches_sim_run(void **state)
{
    (void)state;
    assert_int_equal(campaign.base_failures, 0);
}

/* ---- a hand-made case ----
 *
 * Principal role-0 is shared by app a (w0, the foothold, seg-0) and app b
 * (w1, seg-1). App a calls app x (w2), and app b calls app y (w3). Neither
 * call has implicit trust. role-0 has control-plane grants on x (w2) and
 * on z (w4, an app that no app calls), and a network-gated postgres grant
 * on y (w3, seg-3), which base rules seg-0 -> seg-3 and seg-1 -> seg-3
 * allow.
 *
 * Under legacy, role-0 is held at hop 0 and w2, w3, w4 fall at hop 1 by
 * credentials (w3 because w0 reaches seg-3 on postgres): 4 compromised.
 * Legitimate flows: the two calls (both open only if base allows them:
 * there is no rule for them, so they are base-denied) and the gated grant
 * for each workload running as role-0: (w0, w3) and (w1, w3), both open.
 *  - split role-0: w0 runs as role-0#a, which keeps x (a calls it) and z
 *    (no app calls it) but not y (only b calls it). w3 is safe: 3
 *    compromised, and the flow (w0, w3) is gone: 1 broken.
 *  - revoke role-0 on z: w4 is safe, no flow (control-plane): 3, 0.
 *  - revoke role-0 on y: w3 is safe, both grant flows gone: 3, 2.
 *  - remove base seg-0 -> seg-3: w3 is safe (no compromised workload
 *    reaches it), and (w0, w3) breaks: 3, 1.
 * The attack used the segment pair seg-0 -> seg-3 (for the gated grant),
 * role-0 and its grants on x, y and z; the flows on seg-0 -> seg-3 need
 * postgres, so the base candidate removes the rule whole. Candidates take
 * turns by kind: base, split, then the revokes by app id (x, y, z). */
static tc_topology *hand_case(void)
{
    tc_topology *t = NULL;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_topology_create(MPI_COMM_WORLD, 5, &t, &err), TC_OK);
    tc_names *tables[] = { &t->tenants, &t->accounts, &t->vpcs, &t->subnets };
    for (size_t k = 0; k < 4; k++)
        assert_int_not_equal(tc_topology_intern(t, tables[k], "only", &err), TC_NAME_NONE);
    const char *apps[] = { "a", "b", "x", "y", "z" };
    for (size_t k = 0; k < 5; k++)
        assert_int_not_equal(tc_topology_intern(t, &t->apps, apps[k], &err), TC_NAME_NONE);
    for (int k = 0; k < 5; k++) {
        char name[16];
        snprintf(name, sizeof name, "seg-%d", k);
        assert_int_not_equal(tc_topology_add_segment(t, name, &err), TC_NAME_NONE);
    }
    assert_int_not_equal(tc_topology_add_principal(t, "role-0", &err), TC_NAME_NONE);
    assert_int_not_equal(tc_topology_add_principal(t, "role-1", &err), TC_NAME_NONE);
    tc_svcmask postgres = (tc_svcmask)1 << tc_service_find("postgres");
    assert_int_equal(tc_topology_add_base_rule(t, 0, 3, postgres, &err), TC_OK);
    assert_int_equal(tc_topology_add_base_rule(t, 1, 3, postgres, &err), TC_OK);

    /* gid, segment (= app), principal */
    const uint32_t principal[5] = { 0, 0, 1, 1, 1 };
    for (uint64_t gid = 0; gid < 5; gid++) {
        if (!tc_topology_owns(t, gid))
            continue;
        tc_workload_spec spec = { .segment = (uint32_t)gid, .app = (uint32_t)gid,
                                  .principal = principal[gid], .env = TC_ENV_PROD,
                                  .tier = TC_TIER_API, .crown = TC_CROWN_NONE };
        assert_int_equal(tc_topology_set_workload(t, gid, &spec, &err), TC_OK);
    }
    unsigned grpc = (unsigned)tc_service_find("grpc");
    if (tc_topology_owns(t, 0))
        assert_int_equal(tc_topology_add_api_edge(t, 0, 2, grpc, TC_TRUST_NONE, &err), TC_OK);
    if (tc_topology_owns(t, 1))
        assert_int_equal(tc_topology_add_api_edge(t, 1, 3, grpc, TC_TRUST_NONE, &err), TC_OK);
    tc_svcmask vault = (tc_svcmask)1 << tc_service_find("vault");
    if (tc_topology_owns(t, 2))
        assert_int_equal(tc_topology_add_grant(t, 0, 2, vault, false, &err), TC_OK);
    if (tc_topology_owns(t, 3))
        assert_int_equal(tc_topology_add_grant(t, 0, 3, postgres, true, &err), TC_OK);
    if (tc_topology_owns(t, 4))
        assert_int_equal(tc_topology_add_grant(t, 0, 4, vault, false, &err), TC_OK);
    assert_int_equal(tc_topology_finish(t, &err), TC_OK);
    return t;
}

typedef struct hand_run {
    tc_topology *t;
    tc_scenario scenario;
    tc_policy_spec legacy;
    tc_policy *p;
    tc_footholds f;
    tc_sim_result *base;
    tc_whatif *w;
} hand_run;

static void hand_run_start(hand_run *h)
{
    tc_error err;
    tc_error_clear(&err);
    memset(h, 0, sizeof *h);
    h->t = hand_case();
    h->legacy = (tc_policy_spec){ .name = "legacy", .kind = TC_POLICY_LEGACY,
                                  .default_allow = true };
    assert_int_equal(harness_scenario_init(&h->scenario, NULL, 0, &h->legacy, 1, &err), TC_OK);
    h->scenario.hop_budget = 4;
    uint64_t foothold = 0;
    assert_int_equal(harness_footholds_make(h->t, &foothold, 1, NULL, 0, &h->f, &err), TC_OK);
    assert_int_equal(tc_policy_compile(&h->scenario, &h->legacy, h->t, &h->p, &err), TC_OK);
    assert_int_equal(tc_sim_run(h->t, h->p, &h->f, 4, &h->base, &err), TC_OK);
    tc_whatif_input in = { .scenario = &h->scenario, .spec = &h->legacy, .topology = h->t,
                           .policy = h->p, .footholds = &h->f, .hop_budget = 4,
                           .crown_kinds = ALL_CROWN_KINDS, .record_lanes = true };
    assert_int_equal(tc_whatif_create(&in, &h->w, &err), TC_OK);
}

static void hand_run_end(hand_run *h)
{
    tc_whatif_free(h->w);
    tc_sim_result_free(h->base);
    tc_policy_free(h->p);
    harness_footholds_free(&h->f);
    harness_scenario_release(&h->scenario);
    tc_topology_free(h->t);
}

/* Global hop of workload GID in LANE, -1 when safe, returned on every rank. */
static int lane_hop_of(const hand_run *h, uint64_t gid, unsigned lane)
{
    int hop = -2;
    if (tc_topology_owns(h->t, gid)) {
        uint16_t value = tc_whatif_lane_hop(h->w, gid - h->t->first, lane);
        hop = value == TC_HOP_NONE ? -1 : value;
    }
    MPI_Allreduce(MPI_IN_PLACE, &hop, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return hop;
}

static void hand_closures_cut_as_worked_out(void **state)
{
    (void)state;
    hand_run h;
    hand_run_start(&h);
    tc_error err;
    tc_error_clear(&err);
    tc_svcmask postgres = (tc_svcmask)1 << tc_service_find("postgres");
    const tc_closure closures[] = {
        { TC_CLOSE_SPLIT, 0, 0, 0 },
        { TC_CLOSE_REVOKE, 0, 4, 0 },       /* z */
        { TC_CLOSE_REVOKE, 0, 3, 0 },       /* y */
        { TC_CLOSE_BASE_RULE, 0, 3, postgres },
    };
    const uint64_t masks[] = { 1u << 1, 1u << 2, 1u << 3, 1u << 4 };
    tc_whatif_lane lanes[5];
    assert_int_equal(tc_whatif_run(h.w, closures, masks, 4, 5, lanes, &err), TC_OK);

    const uint64_t compromised[5] = { 4, 3, 3, 3, 3 };
    const uint64_t broken[5] = { 0, 1, 0, 2, 1 };
    for (unsigned k = 0; k < 5; k++) {
        assert_int_equal(lanes[k].compromised, compromised[k]);
        assert_int_equal(lanes[k].flows_broken, broken[k]);
    }
    assert_int_equal(lane_hop_of(&h, 3, 0), 1);
    assert_int_equal(lane_hop_of(&h, 3, 1), -1); /* the split keeps y from a */
    assert_int_equal(lane_hop_of(&h, 4, 1), 1);  /* and keeps z, which no app calls */
    assert_int_equal(lane_hop_of(&h, 4, 2), -1);
    assert_int_equal(lane_hop_of(&h, 3, 4), -1);

    /* The plain way agrees, through a copy of the topology. */
    for (unsigned k = 1; k < 5; k++) {
        tc_whatif_plain plain;
        assert_int_equal(tc_whatif_run_plain(h.w, &closures[k - 1], 1, &plain, &err), TC_OK);
        assert_int_equal(plain.compromised, compromised[k]);
        assert_int_equal(plain.flows_broken, broken[k]);
        tc_whatif_plain_free(&plain);
    }
    hand_run_end(&h);
}

static void hand_candidates_as_worked_out(void **state)
{
    (void)state;
    hand_run h;
    hand_run_start(&h);
    tc_error err;
    tc_error_clear(&err);
    tc_candidate *list = NULL;
    size_t n = 0, found = 0;
    assert_int_equal(tc_whatif_candidates(h.w, h.base, 0, &list, &n, &found, &err), TC_OK);
    assert_int_equal(n, 5);
    assert_int_equal(found, 5);

    tc_svcmask postgres = (tc_svcmask)1 << tc_service_find("postgres");
    const tc_closure expected[5] = {
        { TC_CLOSE_BASE_RULE, 0, 3, postgres },
        { TC_CLOSE_SPLIT, 0, 0, 0 },
        { TC_CLOSE_REVOKE, 0, 2, 0 },
        { TC_CLOSE_REVOKE, 0, 3, 0 },
        { TC_CLOSE_REVOKE, 0, 4, 0 },
    };
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(list[k].closure.kind, expected[k].kind);
        assert_int_equal(list[k].closure.first, expected[k].first);
        assert_int_equal(list[k].closure.second, expected[k].second);
        assert_int_equal(list[k].closure.services, expected[k].services);
    }
    assert_int_equal(list[1].evidence, 3); /* w2, w3, w4 through role-0 */

    char text[256];
    tc_whatif_describe(h.w, &list[0].closure, text, sizeof text);
    assert_string_equal(text, "remove base rule seg-0 -> seg-3");
    tc_whatif_describe(h.w, &list[1].closure, text, sizeof text);
    assert_string_equal(text, "split principal role-0 into one per app (2 apps)");
    free(list);
    hand_run_end(&h);
}

static void invalid_closures_rejected(void **state)
{
    (void)state;
    hand_run h;
    hand_run_start(&h);
    tc_error err;
    const tc_closure bad[] = {
        { TC_CLOSE_BASE_RULE, 0, 9, 1 },      /* segment out of range */
        { TC_CLOSE_BASE_RULE, 0, 3, 0 },      /* no services */
        { TC_CLOSE_POLICY_RULE, 0, 0, 1 },    /* legacy has no rules */
        { TC_CLOSE_SPLIT, 0, 1, 0 },          /* second must be 0 */
        { TC_CLOSE_PACKAGE, 0, 0, 0 },        /* no package */
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        uint64_t mask = 1;
        tc_whatif_lane lane;
        tc_error_clear(&err);
        assert_int_equal(tc_whatif_run(h.w, &bad[k], &mask, 1, 1, &lane, &err), TC_ERR_INPUT);
    }
    tc_whatif_lane lane;
    tc_error_clear(&err);
    assert_int_equal(tc_whatif_run(h.w, NULL, NULL, 0, 65, &lane, &err), TC_ERR_INPUT);
    hand_run_end(&h);
}

/* The candidate list of a case is the same whatever the rank count: rank 0
 * enumerates on a copy of the case built on MPI_COMM_SELF and compares. */
static void candidates_same_on_any_rank_count(void **state)
{
    (void)state;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    unsigned differing = 0;
    uint64_t seeds = sample_lanes ? 4 : 12; /* fewer on an oversubscribed node */
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        tc_candidate *lists[2] = { NULL, NULL };
        size_t counts[2] = { 0, 0 };
        MPI_Comm comms[2] = { MPI_COMM_WORLD, MPI_COMM_SELF };
        for (int c = 0; c < 2; c++) {
            if (c == 1 && rank != 0)
                continue;
            random_topology *rt = NULL;
            tc_policy *p = NULL;
            tc_sim_result *r = NULL;
            tc_whatif *w = NULL;
            tc_footholds f;
            size_t found = 0;
            tc_error err;
            tc_error_clear(&err);
            assert_int_equal(random_topology_build(seed, comms[c], &rt, &err), TC_OK);
            const tc_policy_spec *spec = &rt->scenario.policies[seed % RANDOM_POLICY_COUNT];
            assert_int_equal(harness_footholds_make(rt->topology, rt->foothold_workloads,
                                                    rt->n_foothold_workloads,
                                                    rt->foothold_packages,
                                                    rt->n_foothold_packages, &f, &err), TC_OK);
            assert_int_equal(tc_policy_compile(&rt->scenario, spec, rt->topology, &p, &err), TC_OK);
            assert_int_equal(tc_sim_run(rt->topology, p, &f, rt->scenario.hop_budget, &r, &err),
                             TC_OK);
            tc_whatif_input in = { .scenario = &rt->scenario, .spec = spec,
                                   .topology = rt->topology, .policy = p, .footholds = &f,
                                   .hop_budget = rt->scenario.hop_budget,
                                   .crown_kinds = ALL_CROWN_KINDS };
            assert_int_equal(tc_whatif_create(&in, &w, &err), TC_OK);
            assert_int_equal(tc_whatif_candidates(w, r, 0, &lists[c], &counts[c], &found, &err),
                             TC_OK);
            tc_whatif_free(w);
            tc_sim_result_free(r);
            tc_policy_free(p);
            harness_footholds_free(&f);
            random_topology_free(rt);
        }
        bool same = rank != 0 || counts[0] == counts[1];
        for (size_t k = 0; rank == 0 && same && k < counts[0]; k++) {
            const tc_candidate *a = &lists[0][k], *b = &lists[1][k];
            same = a->closure.kind == b->closure.kind && a->closure.first == b->closure.first &&
                   a->closure.second == b->closure.second &&
                   a->closure.services == b->closure.services && a->evidence == b->evidence;
        }
        if (rank == 0 && !same)
            fprintf(stderr, "case %llu: %zu candidates on every rank, %zu on one rank\n",
                    (unsigned long long)seed, counts[0], counts[1]);
        differing += !same;
        free(lists[0]);
        free(lists[1]);
    }
    MPI_Bcast(&differing, 1, MPI_UNSIGNED, 0, MPI_COMM_WORLD);
    assert_int_equal(differing, 0);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest campaign_tests[] = {
        cmocka_unit_test(lanes_match_plain_runs),
        cmocka_unit_test(campaign_covers_every_kind),
        cmocka_unit_test(open_flows_match_compiler),
        cmocka_unit_test(empty_lane_matches_sim_run),
    };
    const struct CMUnitTest hand_tests[] = {
        cmocka_unit_test(hand_closures_cut_as_worked_out),
        cmocka_unit_test(hand_candidates_as_worked_out),
        cmocka_unit_test(invalid_closures_rejected),
        cmocka_unit_test(candidates_same_on_any_rank_count),
    };
    int failed = 0;
    run_campaign(NULL);
    failed += tc_test_run_mpi(campaign_tests);
    failed += tc_test_run_mpi(hand_tests);
    MPI_Finalize();
    return failed ? 1 : 0;
}
