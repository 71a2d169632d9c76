/*
 * test_plan.c - the greedy closure plans on hand-made cases whose best
 * plans are worked out below, at any rank count (the cases are built over
 * MPI_COMM_WORLD).
 *
 * Both cases use the legacy policy, so reach is exactly the base rules, and
 * the only legitimate flows are the API edges listed (no grant is
 * network-gated). Workload w0 is the only foothold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <mpi.h>

#include "harness.h"
#include "mpi_test.h"
#include "plan.h"

#define SVC(name) ((tc_svcmask)1 << tc_service_find(name))
#define CASE_COUNT(array) (sizeof(array) / sizeof((array)[0]))
#define ALL_CROWN_KINDS 0x1e

typedef struct case_workload {
    uint32_t segment;
    const char *app;
    uint32_t principal;
    tc_svcmask exposed, exploitable;
    uint8_t crown;
} case_workload;

typedef struct case_call {
    uint64_t caller, callee;
    const char *service;
    enum tc_trust trust;
} case_call;

typedef struct case_grant {
    uint32_t principal;
    uint64_t target;
    tc_svcmask services;
    bool gated;
} case_grant;

typedef struct plan_case {
    uint32_t n_segments, n_principals;
    const tc_base_rule *rules;
    size_t n_rules;
    const case_workload *workloads;
    size_t n_workloads;
    const case_call *calls;
    size_t n_calls;
    const case_grant *grants;
    size_t n_grants;
} plan_case;

/* Build CASE over MPI_COMM_WORLD: segments "seg-<i>", principals
 * "role-<i>", apps named by the table. */
static tc_topology *case_build(const plan_case *pc)
{
    tc_topology *t = NULL;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_topology_create(MPI_COMM_WORLD, pc->n_workloads, &t, &err), TC_OK);

    char name[32];
    tc_names *tables[] = { &t->tenants, &t->accounts, &t->vpcs, &t->subnets };
    for (size_t k = 0; k < 4; k++)
        assert_int_not_equal(tc_topology_intern(t, tables[k], "only", &err), TC_NAME_NONE);
    for (size_t i = 0; i < pc->n_workloads; i++)
        assert_int_not_equal(tc_topology_intern(t, &t->apps, pc->workloads[i].app, &err),
                             TC_NAME_NONE);
    for (uint32_t s = 0; s < pc->n_segments; s++) {
        snprintf(name, sizeof name, "seg-%u", s);
        assert_int_not_equal(tc_topology_add_segment(t, name, &err), TC_NAME_NONE);
    }
    for (uint32_t q = 0; q < pc->n_principals; q++) {
        snprintf(name, sizeof name, "role-%u", q);
        assert_int_not_equal(tc_topology_add_principal(t, name, &err), TC_NAME_NONE);
    }
    for (size_t r = 0; r < pc->n_rules; r++)
        assert_int_equal(tc_topology_add_base_rule(t, pc->rules[r].from_segment,
                                                   pc->rules[r].to_segment,
                                                   pc->rules[r].services, &err), TC_OK);

    for (uint64_t gid = 0; gid < pc->n_workloads; gid++) {
        if (!tc_topology_owns(t, gid))
            continue;
        const case_workload *w = &pc->workloads[gid];
        tc_workload_spec spec = {
            .segment = w->segment, .app = tc_names_find(&t->apps, w->app),
            .principal = w->principal, .env = TC_ENV_PROD, .tier = TC_TIER_API,
            .crown = w->crown, .exposed = w->exposed, .exploitable = w->exploitable,
        };
        assert_int_equal(tc_topology_set_workload(t, gid, &spec, &err), TC_OK);
    }
    for (size_t e = 0; e < pc->n_calls; e++)
        if (tc_topology_owns(t, pc->calls[e].caller))
            assert_int_equal(tc_topology_add_api_edge(t, pc->calls[e].caller, pc->calls[e].callee,
                                                      (unsigned)tc_service_find(pc->calls[e].service),
                                                      pc->calls[e].trust, &err), TC_OK);
    for (size_t g = 0; g < pc->n_grants; g++)
        if (tc_topology_owns(t, pc->grants[g].target))
            assert_int_equal(tc_topology_add_grant(t, pc->grants[g].principal,
                                                   pc->grants[g].target, pc->grants[g].services,
                                                   pc->grants[g].gated, &err), TC_OK);
    assert_int_equal(tc_topology_finish(t, &err), TC_OK);
    return t;
}

/* Run the legacy policy from w0 and compute a plan of STEPS steps. */
static json_t *case_plan(const plan_case *pc, uint32_t steps)
{
    tc_topology *t = case_build(pc);
    tc_policy_spec legacy = { .name = "legacy", .kind = TC_POLICY_LEGACY, .default_allow = true };
    tc_scenario scenario;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(harness_scenario_init(&scenario, NULL, 0, &legacy, 1, &err), TC_OK);
    scenario.hop_budget = 8;
    scenario.crown_kinds = ALL_CROWN_KINDS;

    tc_footholds f;
    uint64_t foothold = 0;
    tc_policy *p = NULL;
    tc_sim_result *r = NULL;
    json_t *plan = NULL;
    assert_int_equal(harness_footholds_make(t, &foothold, 1, NULL, 0, &f, &err), TC_OK);
    assert_int_equal(tc_policy_compile(&scenario, &legacy, t, &p, &err), TC_OK);
    assert_int_equal(tc_sim_run(t, p, &f, scenario.hop_budget, &r, &err), TC_OK);
    tc_plan_options options = { .steps = steps };
    tc_plan_stats stats;
    int status = tc_plan_compute(&scenario, &legacy, t, p, &f, r, &options, &plan, &stats, &err);
    if (status != TC_OK)
        fprintf(stderr, "tc_plan_compute: %s\n", err.message);
    assert_int_equal(status, TC_OK);

    tc_sim_result_free(r);
    tc_policy_free(p);
    harness_footholds_free(&f);
    harness_scenario_release(&scenario);
    tc_topology_free(t);
    return plan;
}

static const json_t *plan_step(const json_t *plan, const char *which, size_t k)
{
    return json_array_get(json_object_get(json_object_get(plan, which), "steps"), k);
}

static long long step_integer(const json_t *step, const char *key)
{
    return (long long)json_integer_value(json_object_get(step, key));
}

static const char *element_string(const json_t *step, const char *key)
{
    return json_string_value(json_object_get(json_object_get(step, "element"), key));
}

/* ---- four independent chains ----
 *
 * From w0 (seg-0, app entry, role-0) eleven workloads fall within two hops:
 *  (a) w1 by an ssh exploit over base seg-0 -> seg-1 {ssh, http}, then w2
 *      and w3 by ssh over seg-1 -> seg-2. The only flow on seg-0 -> seg-1
 *      is the API call w0 -> w1 on http, so narrowing that rule to drop ssh
 *      cuts 3 and breaks nothing; removing seg-1 -> seg-2 cuts only 2.
 *  (b) w4 by an implicit-trust call entry -> b1 (grpc), then w5 by a call
 *      b1 -> b2. Lowering entry -> b1 cuts 2, b1 -> b2 cuts 1, and no
 *      flow breaks (the calls still work). Removing the base rules that
 *      carry the calls breaks those calls.
 *  (c) w6, a secrets crown jewel, by role-0's control-plane grant on app
 *      vault. Revoking it cuts 1; a control-plane grant is not a flow.
 *  (d) w7 by an https exploit over seg-0 -> seg-3, which the flow
 *      w0 -> w7 (https) needs, then w8..w10 (w8 a database) by postgres
 *      exploits over seg-3 -> seg-6, which the flows w7 -> w8..w10 need.
 *      Every closure of (d) breaks flows: seg-0 -> seg-3 cuts 4 and breaks
 *      1, seg-3 -> seg-6 cuts 3 and breaks 3.
 * The chains share no workload, so cuts add up, and the best plans follow
 * by hand:
 *  - without breaking flows: (a) 3, (b) 2, (c) 1 in that order, 11 -> 5;
 *    a fourth step finds nothing (what is left of (a) and (b) now cuts 0,
 *    and (d) breaks flows), so the plan stops at 3 steps. At step 3 the
 *    trust b1 -> b2 can no longer cut (w4 is safe), so the revoke is next.
 *  - accepting broken flows, 3 steps: (d) 4 breaking 1 flow, then (a) 3 by
 *    the narrowing (ties with removing seg-0 -> seg-1, which breaks a
 *    flow), then (b) 2 by trust: 11 -> 2 with 1 flow broken. No three
 *    closures cut more (4 + 3 + 2 is the sum of the three largest chains),
 *    and (d) cannot be cut for fewer than 1 broken flow. */
static const tc_base_rule chains_rules[] = {
    { 0, 1, 0 }, { 1, 2, 0 }, { 0, 4, 0 }, { 4, 4, 0 }, { 0, 3, 0 }, { 3, 6, 0 },
};

static const case_workload chains_workloads[] = {
    { 0, "entry", 0, 0, 0, TC_CROWN_NONE },
    { 1, "a1", 1, 0, 0, TC_CROWN_NONE },            /* exposure filled in below */
    { 2, "a2", 2, 0, 0, TC_CROWN_NONE },
    { 2, "a2", 2, 0, 0, TC_CROWN_NONE },
    { 4, "b1", 3, 0, 0, TC_CROWN_NONE },
    { 4, "b2", 4, 0, 0, TC_CROWN_NONE },
    { 5, "vault", 5, 0, 0, TC_CROWN_SECRETS },
    { 3, "d1", 6, 0, 0, TC_CROWN_NONE },
    { 6, "d2", 7, 0, 0, TC_CROWN_DATABASE },
    { 6, "d2", 7, 0, 0, TC_CROWN_NONE },
    { 6, "d2", 7, 0, 0, TC_CROWN_NONE },
};

static const case_call chains_calls[] = {
    { 0, 1, "http", TC_TRUST_NONE },
    { 0, 4, "grpc", TC_TRUST_IMPLICIT },
    { 4, 5, "grpc", TC_TRUST_IMPLICIT },
    { 0, 7, "https", TC_TRUST_NONE },
    { 7, 8, "postgres", TC_TRUST_NONE },
    { 7, 9, "postgres", TC_TRUST_NONE },
    { 7, 10, "postgres", TC_TRUST_NONE },
};

static plan_case chains_case(tc_base_rule *rules, case_workload *workloads, case_grant *grant)
{
    memcpy(rules, chains_rules, sizeof chains_rules);
    rules[0].services = SVC("ssh") | SVC("http");
    rules[1].services = SVC("ssh");
    rules[2].services = SVC("grpc");
    rules[3].services = SVC("grpc");
    rules[4].services = SVC("https");
    rules[5].services = SVC("postgres");
    memcpy(workloads, chains_workloads, sizeof chains_workloads);
    workloads[1].exposed = SVC("ssh") | SVC("http");
    workloads[1].exploitable = SVC("ssh");
    for (int i = 2; i <= 3; i++)
        workloads[i].exposed = workloads[i].exploitable = SVC("ssh");
    workloads[7].exposed = workloads[7].exploitable = SVC("https");
    for (int i = 8; i <= 10; i++)
        workloads[i].exposed = workloads[i].exploitable = SVC("postgres");
    *grant = (case_grant){ 0, 6, SVC("vault"), false };
    return (plan_case){
        .n_segments = 7, .n_principals = 8,
        .rules = rules, .n_rules = CASE_COUNT(chains_rules),
        .workloads = workloads, .n_workloads = CASE_COUNT(chains_workloads),
        .calls = chains_calls, .n_calls = CASE_COUNT(chains_calls),
        .grants = grant, .n_grants = 1,
    };
}

static void plan_keeps_flows_on_chains(void **state)
{
    (void)state;
    tc_base_rule rules[CASE_COUNT(chains_rules)];
    case_workload workloads[CASE_COUNT(chains_workloads)];
    case_grant grant;
    plan_case pc = chains_case(rules, workloads, &grant);
    json_t *plan = case_plan(&pc, 4);

    const json_t *baseline = json_object_get(plan, "baseline");
    assert_int_equal(step_integer(baseline, "compromised"), 11);
    assert_int_equal(step_integer(baseline, "crown_jewels"), 2);

    const json_t *keep = json_object_get(plan, "without_breaking_flows");
    assert_int_equal(json_array_size(json_object_get(keep, "steps")), 3);
    assert_int_equal(step_integer(keep, "flows_broken"), 0);

    const json_t *s1 = plan_step(plan, "without_breaking_flows", 0);
    assert_string_equal(json_string_value(json_object_get(s1, "kind")), "base_rule");
    assert_string_equal(element_string(s1, "from_segment"), "seg-0");
    assert_string_equal(element_string(s1, "to_segment"), "seg-1");
    json_t *dropped = json_object_get(json_object_get(s1, "element"), "services");
    assert_int_equal(json_array_size(dropped), 1);
    assert_string_equal(json_string_value(json_array_get(dropped, 0)), "ssh");
    assert_int_equal(step_integer(s1, "compromised_after"), 8);
    assert_int_equal(step_integer(s1, "cut"), 3);

    const json_t *s2 = plan_step(plan, "without_breaking_flows", 1);
    assert_string_equal(json_string_value(json_object_get(s2, "kind")), "lower_trust");
    assert_string_equal(element_string(s2, "caller_app"), "entry");
    assert_string_equal(element_string(s2, "callee_app"), "b1");
    assert_int_equal(step_integer(s2, "compromised_after"), 6);

    const json_t *s3 = plan_step(plan, "without_breaking_flows", 2);
    assert_string_equal(json_string_value(json_object_get(s3, "kind")), "revoke_grant");
    assert_string_equal(element_string(s3, "principal"), "role-0");
    assert_string_equal(element_string(s3, "app"), "vault");
    assert_int_equal(step_integer(s3, "compromised_after"), 5);
    assert_int_equal(step_integer(s3, "crown_jewels_after"), 1);
    assert_int_equal(step_integer(s3, "flows_broken_total"), 0);
    json_decref(plan);
}

static void plan_accepting_breaks_on_chains(void **state)
{
    (void)state;
    tc_base_rule rules[CASE_COUNT(chains_rules)];
    case_workload workloads[CASE_COUNT(chains_workloads)];
    case_grant grant;
    plan_case pc = chains_case(rules, workloads, &grant);
    json_t *plan = case_plan(&pc, 3);

    const json_t *accept = json_object_get(plan, "accepting_broken_flows");
    assert_int_equal(json_array_size(json_object_get(accept, "steps")), 3);
    assert_int_equal(step_integer(accept, "flows_broken"), 1);

    const json_t *s1 = plan_step(plan, "accepting_broken_flows", 0);
    assert_string_equal(json_string_value(json_object_get(s1, "kind")), "base_rule");
    assert_string_equal(element_string(s1, "from_segment"), "seg-0");
    assert_string_equal(element_string(s1, "to_segment"), "seg-3");
    assert_int_equal(step_integer(s1, "cut"), 4);
    assert_int_equal(step_integer(s1, "flows_broken"), 1);

    const json_t *s2 = plan_step(plan, "accepting_broken_flows", 1);
    assert_string_equal(element_string(s2, "to_segment"), "seg-1");
    assert_int_equal(step_integer(s2, "cut"), 3);
    assert_int_equal(step_integer(s2, "flows_broken"), 0);

    const json_t *s3 = plan_step(plan, "accepting_broken_flows", 2);
    assert_string_equal(json_string_value(json_object_get(s3, "kind")), "lower_trust");
    assert_int_equal(step_integer(s3, "compromised_after"), 2);
    assert_int_equal(step_integer(s3, "flows_broken_total"), 1);

    /* The ranking lists single closures by what they leave: (d)'s base
     * rule first, with its cut and broken flow. */
    const json_t *first = json_array_get(json_object_get(plan, "ranking"), 0);
    assert_int_equal(step_integer(first, "cut"), 4);
    assert_int_equal(step_integer(first, "flows_broken"), 1);
    json_decref(plan);
}

/* ---- a closure that pays off only after another ----
 *
 * w1 falls by ssh over seg-0 -> seg-1 and w2 (app x) by an implicit-trust
 * call from w0. w1 also reaches w2 by ssh over seg-1 -> seg-2. Alone:
 * closing seg-0 -> seg-1 saves w1 (cut 1); lowering entry -> x saves
 * nothing, because w2 still falls from w1 at hop 2; closing seg-1 -> seg-2
 * saves nothing, because w2 falls by the call. Greedy takes seg-0 -> seg-1
 * first, and re-evaluating then finds that the trust closure now saves w2
 * (cut 1). A plan that reused the single-closure cuts would stop after one
 * step. */
static void plan_reevaluates_after_each_step(void **state)
{
    (void)state;
    tc_base_rule rules[] = {
        { 0, 1, SVC("ssh") }, { 1, 2, SVC("ssh") }, { 0, 2, SVC("grpc") },
    };
    case_workload workloads[] = {
        { 0, "entry", 0, 0, 0, TC_CROWN_NONE },
        { 1, "hop", 1, SVC("ssh"), SVC("ssh"), TC_CROWN_NONE },
        { 2, "x", 2, SVC("ssh") | SVC("grpc"), SVC("ssh"), TC_CROWN_NONE },
    };
    case_call calls[] = { { 0, 2, "grpc", TC_TRUST_IMPLICIT } };
    plan_case pc = {
        .n_segments = 3, .n_principals = 3, .rules = rules, .n_rules = CASE_COUNT(rules),
        .workloads = workloads, .n_workloads = CASE_COUNT(workloads),
        .calls = calls, .n_calls = CASE_COUNT(calls),
    };
    json_t *plan = case_plan(&pc, 3);

    assert_int_equal(json_array_size(json_object_get(json_object_get(
                         plan, "without_breaking_flows"), "steps")), 2);
    const json_t *s1 = plan_step(plan, "without_breaking_flows", 0);
    assert_string_equal(element_string(s1, "to_segment"), "seg-1");
    assert_int_equal(step_integer(s1, "cut"), 1);
    const json_t *s2 = plan_step(plan, "without_breaking_flows", 1);
    assert_string_equal(json_string_value(json_object_get(s2, "kind")), "lower_trust");
    assert_int_equal(step_integer(s2, "cut"), 1);
    assert_int_equal(step_integer(s2, "compromised_after"), 1);
    json_decref(plan);
}

static void plan_rejects_zero_steps(void **state)
{
    (void)state;
    tc_base_rule rules[] = { { 0, 0, SVC("ssh") } };
    case_workload workloads[] = { { 0, "entry", 0, 0, 0, TC_CROWN_NONE } };
    plan_case pc = { .n_segments = 1, .n_principals = 1, .rules = rules, .n_rules = 1,
                     .workloads = workloads, .n_workloads = 1 };
    tc_topology *t = case_build(&pc);
    tc_policy_spec legacy = { .name = "legacy", .kind = TC_POLICY_LEGACY, .default_allow = true };
    tc_scenario scenario;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(harness_scenario_init(&scenario, NULL, 0, &legacy, 1, &err), TC_OK);
    tc_plan_options options = { .steps = 0 };
    json_t *plan = NULL;
    assert_int_equal(tc_plan_compute(&scenario, &legacy, t, NULL, NULL, NULL, &options, &plan,
                                     NULL, &err), TC_ERR_INPUT);
    assert_null(plan);
    assert_non_null(strstr(err.message, "at least one step"));
    harness_scenario_release(&scenario);
    tc_topology_free(t);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_keeps_flows_on_chains),
        cmocka_unit_test(plan_accepting_breaks_on_chains),
        cmocka_unit_test(plan_reevaluates_after_each_step),
        cmocka_unit_test(plan_rejects_zero_steps),
    };
    int failed = tc_test_run_mpi(tests);
    MPI_Finalize();
    return failed ? 1 : 0;
}
