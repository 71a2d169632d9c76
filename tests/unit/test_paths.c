/*
 * test_paths.c - attack paths: predecessors recorded by the engine, the
 * distributed extraction (paths.h) and the `paths` command.
 *
 * Hand-built cases state their expected path in a comment worked out by
 * hand. Random cases (random_topology.h) check the path to every workload
 * with the brute-force checker of reference_paths.h. Every case is also
 * extracted on MPI_COMM_SELF on rank 0 and must give byte-identical JSON,
 * so running this binary at 1, 2 and 3 ranks checks that paths do not
 * depend on the rank count:
 *   mpiexec -n 3 build/tests/test_paths
 * TC_PATHS_CASES sets the number of random cases (default 40, or 6 when
 * the node runs more ranks than it has processors); TC_PATHS_SEED=N runs
 * case N alone.
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

#include "hand_topology.h"
#include "harness.h"
#include "mpi_test.h"
#include "paths.h"
#include "random_topology.h"
#include "reference.h"
#include "reference_paths.h"

#define BIT(service) ((tc_svcmask)1 << (service))
#define NONE UINT64_MAX
#define NO_VIA TC_VIA_NONE

/* Service indices of model.c. */
enum { SSH = 0, HTTP = 2, GRPC = 4, POSTGRES = 5, OBJECT_STORAGE = 21 };

enum { F = TC_STEP_FOOTHOLD, N = TC_STEP_NETWORK, A = TC_STEP_API, C = TC_STEP_CREDENTIAL,
       S = TC_STEP_SUPPLY_CHAIN };

#define DEFAULT_RANDOM_CASES 40
#define OVERSUBSCRIBED_RANDOM_CASES 6

/* ---- running the engine with predecessors ---- */

/* One policy run with predecessors on one communicator. */
typedef struct paths_run {
    tc_footholds footholds;
    tc_policy *policy;
    tc_sim_result *result;
    tc_paths_input in;
} paths_run;

/* Compile SPEC on T, run it from the footholds with predecessors and
 * prepare RUN->in. Collective over T's communicator. */
static int paths_run_start(paths_run *run, const tc_scenario *sc, const tc_policy_spec *spec,
                           const tc_topology *t, const uint64_t *workloads, size_t n_workloads,
                           const uint32_t *packages, size_t n_packages, uint32_t hop_budget,
                           tc_error *err)
{
    memset(run, 0, sizeof *run);
    tc_sim_options options = { .record_predecessors = true };
    if (harness_footholds_make(t, workloads, n_workloads, packages, n_packages, &run->footholds,
                               err) != TC_OK)
        return err->code;
    if (tc_policy_compile(sc, spec, t, &run->policy, err) != TC_OK)
        return err->code;
    if (tc_sim_run_with(t, run->policy, &run->footholds, hop_budget, &options, &run->result,
                        err) != TC_OK)
        return err->code;
    run->in = (tc_paths_input){ sc, t, run->policy, &run->footholds, run->result };
    return TC_OK;
}

static void paths_run_end(paths_run *run)
{
    tc_sim_result_free(run->result);
    tc_policy_free(run->policy);
    harness_footholds_free(&run->footholds);
    memset(run, 0, sizeof *run);
}

/* Paths as compact JSON with sorted keys, one line each, for comparing
 * two extractions byte by byte. Caller frees. */
static char *paths_dump(const tc_paths_input *in, const tc_path *paths, size_t n)
{
    json_t *array = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(array, tc_path_to_json(in, &paths[i]));
    char *text = json_dumps(array, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(array);
    return text;
}

/* ---- hand-built cases ---- */

/* Expected entry of a path. Fields that the step does not use are not
 * compared. */
typedef struct expected_hop {
    uint64_t id;
    uint8_t step;
    uint64_t from;
    int service;              /* network, API, gated credential */
    uint64_t base_rule;
    int64_t policy_rule;
    uint32_t principal;       /* credential, supply chain */
    uint64_t source;
    uint32_t chain[4];
    uint32_t n_chain;
    bool gated;
    uint64_t used_from;
    uint32_t package;         /* supply chain, foothold */
} expected_hop;

typedef struct hand_case {
    const hand_topology *topology;
    const char *const *selectors;
    size_t n_selectors;
    tc_policy_spec *policy;
    const uint64_t *footholds;
    size_t n_footholds;
    const uint32_t *foothold_packages;
    size_t n_foothold_packages;
    uint32_t hop_budget;
    uint64_t target;
    const expected_hop *hops; /* NULL: the target is not reached */
    size_t n_hops;
} hand_case;

__attribute__((format(printf, 3, 4)))
static bool differ(char *message, size_t len, const char *fmt, ...)
{
    size_t used = strlen(message);
    if (used + 1 < len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(message + used, len - used, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool matches_expected(const hand_case *hc, const tc_path *path, char *message,
                             size_t len)
{
    bool ok = true;
    if (path->reached != (hc->hops != NULL))
        return differ(message, len, "reached is %d, expected %d\n", path->reached,
                      hc->hops != NULL);
    if (path->n_hops != hc->n_hops)
        return differ(message, len, "%u entries, expected %zu\n", path->n_hops, hc->n_hops);

    for (uint32_t h = 0; h < path->n_hops; h++) {
        const tc_path_hop *e = &path->hops[h];
        const expected_hop *x = &hc->hops[h];
        if (e->workload.id != x->id || e->workload.step != x->step || e->from != x->from)
            ok = differ(message, len, "hop %u: workload %llu by %s from %lld, expected %llu by "
                        "%s from %lld\n", h, (unsigned long long)e->workload.id,
                        harness_step_name(e->workload.step), (long long)e->from,
                        (unsigned long long)x->id, harness_step_name(x->step),
                        (long long)x->from);
        bool has_reach = x->step == N || x->step == A || (x->step == C && x->gated);
        if (has_reach && (e->reach.service != x->service || e->reach.base_rule != x->base_rule ||
                          e->reach.policy_rule != x->policy_rule))
            ok = differ(message, len, "hop %u: service %d, base rule %llu, policy rule %lld; "
                        "expected %d, %llu, %lld\n", h, e->reach.service,
                        (unsigned long long)e->reach.base_rule, (long long)e->reach.policy_rule,
                        x->service, (unsigned long long)x->base_rule, (long long)x->policy_rule);
        if (x->step == C || x->step == S) {
            bool chain_ok = e->n_assume_chain == x->n_chain;
            for (uint32_t k = 0; chain_ok && k < x->n_chain; k++)
                chain_ok = e->assume_chain[k] == x->chain[k];
            if (e->principal != x->principal || e->principal_source != x->source || !chain_ok)
                ok = differ(message, len, "hop %u: principal %u from workload %llu (chain of "
                            "%u), expected %u from %llu (chain of %u)\n", h, e->principal,
                            (unsigned long long)e->principal_source, e->n_assume_chain,
                            x->principal, (unsigned long long)x->source, x->n_chain);
        }
        if (x->step == C && (e->gated != x->gated || (x->gated && e->used_from != x->used_from)))
            ok = differ(message, len, "hop %u: gated %d used from %lld, expected %d from %lld\n",
                        h, e->gated, (long long)e->used_from, x->gated, (long long)x->used_from);
        if ((x->step == S || x->step == F) && e->package != x->package)
            ok = differ(message, len, "hop %u: package %u, expected %u\n", h, e->package,
                        x->package);
    }
    return ok;
}

/* Run HC. The engine and the extraction on MPI_COMM_WORLD must give the
 * expected path. On rank 0, the same case on MPI_COMM_SELF must give the
 * same JSON and pass the reference checker. Collective. */
static void run_hand_case(const hand_case *hc)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char message[4096] = "";
    bool ok = true;
    tc_error err;
    tc_scenario scenario;

    tc_error_clear(&err);
    if (harness_scenario_init(&scenario, hc->selectors, hc->n_selectors, hc->policy, 1, &err) !=
        TC_OK) {
        tc_error_print(&err, stderr);
        harness_scenario_release(&scenario);
        fail_msg("the test scenario is invalid");
    }

    tc_topology *t = NULL;
    paths_run run = { 0 };
    tc_path *paths = NULL;
    char *world_json = NULL;
    if (hand_topology_build(hc->topology, MPI_COMM_WORLD, &t, &err) == TC_OK &&
        paths_run_start(&run, &scenario, hc->policy, t, hc->footholds, hc->n_footholds,
                        hc->foothold_packages, hc->n_foothold_packages, hc->hop_budget,
                        &err) == TC_OK &&
        tc_paths_extract(&run.in, &hc->target, 1, &paths, &err) == TC_OK) {
        ok = matches_expected(hc, &paths[0], message, sizeof message);
        world_json = paths_dump(&run.in, paths, 1);
    } else {
        ok = differ(message, sizeof message, "engine or extraction failed: %s\n", err.message);
    }

    if (rank == 0 && world_json) {
        tc_topology *serial = NULL;
        paths_run serial_run = { 0 };
        tc_path *serial_paths = NULL;
        reference_result *ref = NULL;
        reference_path_checker *checker = NULL;
        reference_input in = {
            .groups = scenario.groups, .n_groups = scenario.n_groups, .policy = hc->policy,
            .foothold_workloads = hc->footholds, .n_foothold_workloads = hc->n_footholds,
            .foothold_packages = hc->foothold_packages,
            .n_foothold_packages = hc->n_foothold_packages, .hop_budget = hc->hop_budget,
        };
        tc_error_clear(&err);
        if (hand_topology_build(hc->topology, MPI_COMM_SELF, &serial, &err) == TC_OK &&
            paths_run_start(&serial_run, &scenario, hc->policy, serial, hc->footholds,
                            hc->n_footholds, hc->foothold_packages, hc->n_foothold_packages,
                            hc->hop_budget, &err) == TC_OK &&
            tc_paths_extract(&serial_run.in, &hc->target, 1, &serial_paths, &err) == TC_OK) {
            char *serial_json = paths_dump(&serial_run.in, serial_paths, 1);
            if (!serial_json || strcmp(serial_json, world_json) != 0)
                ok = differ(message, sizeof message, "paths differ between 1 rank and all "
                            "ranks:\n  %s\n  %s\n", serial_json ? serial_json : "(none)",
                            world_json);
            free(serial_json);
            in.topology = serial;
            if (reference_run(&in, &ref, &err) == TC_OK &&
                reference_path_checker_create(&in, ref, &checker, &err) == TC_OK)
                ok = reference_path_check(checker, &serial_paths[0], message, sizeof message) &&
                     ok;
        }
        if (err.code != TC_OK)
            ok = differ(message, sizeof message, "serial run failed: %s\n", err.message);
        reference_path_checker_free(checker);
        reference_result_free(ref);
        tc_paths_free(serial_paths, 1);
        paths_run_end(&serial_run);
        tc_topology_free(serial);
    }

    free(world_json);
    tc_paths_free(paths, paths ? 1 : 0);
    paths_run_end(&run);
    tc_topology_free(t);
    harness_scenario_release(&scenario);

    ok = harness_agree(ok, MPI_COMM_WORLD);
    if (rank == 0 && !ok)
        fprintf(stderr, "%s", message);
    assert_true(ok);
}

/* ---- one path through every step kind ---- */

/* Segments 0 (edge), 1 (app), 2 (data); base rules #0 0->1 http, #1 1->1
 * grpc, #2 1->2 postgres. Principal 1 may assume 2, principal 2 has a
 * network-gated grant on w3 (postgres), principal 3 publishes pkg-0, which
 * w4 installs. w1 -> w2 is an implicit-trust API call on grpc.
 *   w0 edge, role-0, foothold                       hop 0
 *   w1 web, role-0, http exploitable                 hop 1: network, http from w0 (rule #0)
 *   w2 api, role-1, grpc exposed, not exploitable    hop 2: API chain from w1 on grpc (#1)
 *        role-1 is held at hop 2, role-2 with it (assumed, source w2)
 *   w3 data, role-3, postgres exposed only           hop 3: credential role-2, network-gated,
 *        used from w2, which reaches it on postgres (#2); role-3 held at hop 3
 *   w4 billing, role-3, installs pkg-0               hop 4: supply chain, pkg-0 published
 *        with role-3, which w3 gave. */
static const tc_base_rule chain_base[] = { { 0, 1, BIT(HTTP) }, { 1, 1, BIT(GRPC) },
                                           { 1, 2, BIT(POSTGRES) } };
static const hand_workload chain_workloads[] = {
    { 0, 0, TC_TIER_EDGE, TC_ENV_PROD, 0, 0 },
    { 1, 0, TC_TIER_WEB, TC_ENV_PROD, BIT(HTTP), BIT(HTTP) },
    { 1, 1, TC_TIER_API, TC_ENV_PROD, BIT(GRPC), 0 },
    { 2, 3, TC_TIER_DATA, TC_ENV_PROD, BIT(POSTGRES), 0 },
    { 2, 3, TC_TIER_BILLING, TC_ENV_PROD, 0, 0 },
};
static const hand_api_edge chain_api[] = { { 1, 2, GRPC, TC_TRUST_IMPLICIT } };
static const hand_grant chain_grants[] = { { 2, 3, BIT(POSTGRES), true } };
static const hand_pair chain_assumes[] = { { 1, 2 } };
static const hand_pair chain_publishes[] = { { 3, 0 } };
static const hand_pair chain_installs[] = { { 4, 0 } };
static const hand_topology chain_topology = {
    .n_segments = 3, .n_principals = 4, .n_packages = 1,
    .base_rules = chain_base, .n_base_rules = HAND_COUNT(chain_base),
    .workloads = chain_workloads, .n_workloads = HAND_COUNT(chain_workloads),
    .api_edges = chain_api, .n_api_edges = HAND_COUNT(chain_api),
    .grants = chain_grants, .n_grants = HAND_COUNT(chain_grants),
    .assumes = chain_assumes, .n_assumes = HAND_COUNT(chain_assumes),
    .publishes = chain_publishes, .n_publishes = HAND_COUNT(chain_publishes),
    .installs = chain_installs, .n_installs = HAND_COUNT(chain_installs),
};
static const uint64_t first_workload[] = { 0 };

static tc_policy_spec legacy = { .name = "legacy", .kind = TC_POLICY_LEGACY,
                                 .default_allow = true };

static void chain_path_under_legacy(void **state)
{
    (void)state;
    static const expected_hop hops[] = {
        { .id = 0, .step = F, .from = NONE, .package = NO_VIA },
        { .id = 1, .step = N, .from = 0, .service = HTTP, .base_rule = 0,
          .policy_rule = TC_PATH_RULE_LEGACY },
        { .id = 2, .step = A, .from = 1, .service = GRPC, .base_rule = 1,
          .policy_rule = TC_PATH_RULE_LEGACY },
        { .id = 3, .step = C, .from = 2, .service = POSTGRES, .base_rule = 2,
          .policy_rule = TC_PATH_RULE_LEGACY, .principal = 2, .source = 2, .chain = { 1, 2 },
          .n_chain = 2, .gated = true, .used_from = 2 },
        { .id = 4, .step = S, .from = 3, .principal = 3, .source = 3, .chain = { 3 },
          .n_chain = 1, .package = 0 },
    };
    hand_case hc = { &chain_topology, NULL, 0, &legacy, first_workload, 1, NULL, 0, 8, 4,
                     hops, HAND_COUNT(hops) };
    run_hand_case(&hc);
}

/* The same topology under rules over tier groups, default deny:
 *   #0 any -> web allow http, #1 web -> api deny ssh, #2 web -> api allow grpc,
 *   #3 api -> data allow postgres.
 * The path is the same; the rules that let each hop through are #0, #2
 * (#1 does not decide grpc) and #3. */
static void chain_path_names_policy_rules(void **state)
{
    (void)state;
    static const char *const selectors[] = { "tier == web", "tier == api", "tier == data" };
    static tc_rule_spec rules[] = {
        { TC_GROUP_ANY, 0, BIT(HTTP), true, 0, 0 },
        { 0, 1, BIT(SSH), false, 0, 0 },
        { 0, 1, BIT(GRPC), true, 0, 0 },
        { 1, 2, BIT(POSTGRES), true, 0, 0 },
    };
    static tc_policy_spec policy = { .name = "tiers", .kind = TC_POLICY_RULES,
                                     .default_allow = false, .rules = rules,
                                     .n_rules = HAND_COUNT(rules) };
    static const expected_hop hops[] = {
        { .id = 0, .step = F, .from = NONE, .package = NO_VIA },
        { .id = 1, .step = N, .from = 0, .service = HTTP, .base_rule = 0, .policy_rule = 0 },
        { .id = 2, .step = A, .from = 1, .service = GRPC, .base_rule = 1, .policy_rule = 2 },
        { .id = 3, .step = C, .from = 2, .service = POSTGRES, .base_rule = 2, .policy_rule = 3,
          .principal = 2, .source = 2, .chain = { 1, 2 }, .n_chain = 2, .gated = true,
          .used_from = 2 },
        { .id = 4, .step = S, .from = 3, .principal = 3, .source = 3, .chain = { 3 },
          .n_chain = 1, .package = 0 },
    };
    hand_case hc = { &chain_topology, selectors, HAND_COUNT(selectors), &policy, first_workload,
                     1, NULL, 0, 8, 4, hops, HAND_COUNT(hops) };
    run_hand_case(&hc);
}

/* A hop budget of 3 stops before the supply chain: w4 is not reached. */
static void target_beyond_budget_not_reached(void **state)
{
    (void)state;
    hand_case hc = { &chain_topology, NULL, 0, &legacy, first_workload, 1, NULL, 0, 3, 4,
                     NULL, 0 };
    run_hand_case(&hc);
}

/* A target at hop 0 is its own path: w4 installs the foothold package
 * pkg-0. */
static void foothold_package_path(void **state)
{
    (void)state;
    static const uint32_t packages[] = { 0 };
    static const expected_hop hops[] = { { .id = 4, .step = F, .from = NONE, .package = 0 } };
    hand_case hc = { &chain_topology, NULL, 0, &legacy, NULL, 0, packages, 1, 8, 4, hops, 1 };
    run_hand_case(&hc);
}

/* ---- credentials whose workload is off the path ---- */

/* Segments 0..3; base rules #0 1->2 postgres, #1 1->3 ssh. role-1 has a
 * network-gated grant on w2 (postgres) and a control-plane grant on w3.
 *   w0 seg 1, role-0, foothold                        hop 0
 *   w1 seg 3, role-1, ssh exploitable                 hop 1: network from w0 (#1); role-1
 *   w2 seg 2, role-0, postgres not exploitable        hop 2: credential role-1 (source w1);
 *        w1 cannot reach seg 2, so the grant is used from w0 (#0), off the previous hop
 *   w3 seg 2, role-0                                  hop 2: credential role-1, control-plane */
static const tc_base_rule gated_base[] = { { 1, 2, BIT(POSTGRES) }, { 1, 3, BIT(SSH) } };
static const hand_workload gated_workloads[] = {
    { 1, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
    { 3, 1, TC_TIER_API, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
    { 2, 0, TC_TIER_DATA, TC_ENV_PROD, BIT(POSTGRES), 0 },
    { 2, 0, TC_TIER_SECRETS, TC_ENV_PROD, 0, 0 },
};
static const hand_grant gated_grants[] = { { 1, 2, BIT(POSTGRES), true },
                                           { 1, 3, BIT(OBJECT_STORAGE), false } };
static const hand_topology gated_topology = {
    .n_segments = 4, .n_principals = 2,
    .base_rules = gated_base, .n_base_rules = HAND_COUNT(gated_base),
    .workloads = gated_workloads, .n_workloads = HAND_COUNT(gated_workloads),
    .grants = gated_grants, .n_grants = HAND_COUNT(gated_grants),
};

static void gated_grant_used_from_off_path(void **state)
{
    (void)state;
    static const expected_hop hops[] = {
        { .id = 0, .step = F, .from = NONE, .package = NO_VIA },
        { .id = 1, .step = N, .from = 0, .service = SSH, .base_rule = 1,
          .policy_rule = TC_PATH_RULE_LEGACY },
        { .id = 2, .step = C, .from = 1, .service = POSTGRES, .base_rule = 0,
          .policy_rule = TC_PATH_RULE_LEGACY, .principal = 1, .source = 1, .chain = { 1 },
          .n_chain = 1, .gated = true, .used_from = 0 },
    };
    hand_case hc = { &gated_topology, NULL, 0, &legacy, first_workload, 1, NULL, 0, 5, 2,
                     hops, HAND_COUNT(hops) };
    run_hand_case(&hc);
}

static void control_plane_grant_path(void **state)
{
    (void)state;
    static const expected_hop hops[] = {
        { .id = 0, .step = F, .from = NONE, .package = NO_VIA },
        { .id = 1, .step = N, .from = 0, .service = SSH, .base_rule = 1,
          .policy_rule = TC_PATH_RULE_LEGACY },
        { .id = 3, .step = C, .from = 1, .principal = 1, .source = 1, .chain = { 1 },
          .n_chain = 1, .gated = false },
    };
    hand_case hc = { &gated_topology, NULL, 0, &legacy, first_workload, 1, NULL, 0, 5, 3,
                     hops, HAND_COUNT(hops) };
    run_hand_case(&hc);
}

/* ---- ties: the smallest candidate wins ---- */

/* Footholds w3 and w1, both in seg 0 (role-0). Base rule #0 0->1 ssh|http.
 *   w5 seg 1, ssh exploitable: both footholds exploit it; w1 is smaller.
 *   w4 seg 1, nothing exploitable, called by w3 and w1 on http (implicit):
 *        the API predecessor is w1 too.
 *   w2 seg 1, role-2: control-plane grants from role-1 and role-0 (held by
 *        both footholds); role-0's source w1 is the smallest: (w1, role-0).
 * The footholds are spread over ranks at 2 and 3 ranks, so the minimum is
 * taken across ranks. */
static const tc_base_rule tie_base[] = { { 0, 1, BIT(SSH) | BIT(HTTP) } };
static const hand_workload tie_workloads[] = {
    { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
    { 0, 0, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
    { 1, 2, TC_TIER_DATA, TC_ENV_PROD, 0, 0 },
    { 0, 1, TC_TIER_WEB, TC_ENV_PROD, 0, 0 },
    { 1, 2, TC_TIER_API, TC_ENV_PROD, BIT(HTTP), 0 },
    { 1, 2, TC_TIER_API, TC_ENV_PROD, BIT(SSH), BIT(SSH) },
};
static const hand_api_edge tie_api[] = { { 3, 4, HTTP, TC_TRUST_IMPLICIT },
                                         { 1, 4, HTTP, TC_TRUST_IMPLICIT } };
static const hand_grant tie_grants[] = { { 1, 2, BIT(OBJECT_STORAGE), false },
                                         { 0, 2, BIT(OBJECT_STORAGE), false } };
static const hand_topology tie_topology = {
    .n_segments = 2, .n_principals = 3,
    .base_rules = tie_base, .n_base_rules = HAND_COUNT(tie_base),
    .workloads = tie_workloads, .n_workloads = HAND_COUNT(tie_workloads),
    .api_edges = tie_api, .n_api_edges = HAND_COUNT(tie_api),
    .grants = tie_grants, .n_grants = HAND_COUNT(tie_grants),
};
static const uint64_t tie_footholds[] = { 3, 1 };

static void network_tie_takes_smallest(void **state)
{
    (void)state;
    static const expected_hop hops[] = {
        { .id = 1, .step = F, .from = NONE, .package = NO_VIA },
        { .id = 5, .step = N, .from = 1, .service = SSH, .base_rule = 0,
          .policy_rule = TC_PATH_RULE_LEGACY },
    };
    hand_case hc = { &tie_topology, NULL, 0, &legacy, tie_footholds, 2, NULL, 0, 3, 5,
                     hops, HAND_COUNT(hops) };
    run_hand_case(&hc);
}

static void api_tie_takes_smallest(void **state)
{
    (void)state;
    static const expected_hop hops[] = {
        { .id = 1, .step = F, .from = NONE, .package = NO_VIA },
        { .id = 4, .step = A, .from = 1, .service = HTTP, .base_rule = 0,
          .policy_rule = TC_PATH_RULE_LEGACY },
    };
    hand_case hc = { &tie_topology, NULL, 0, &legacy, tie_footholds, 2, NULL, 0, 3, 4,
                     hops, HAND_COUNT(hops) };
    run_hand_case(&hc);
}

static void credential_tie_takes_smallest(void **state)
{
    (void)state;
    static const expected_hop hops[] = {
        { .id = 1, .step = F, .from = NONE, .package = NO_VIA },
        { .id = 2, .step = C, .from = 1, .principal = 0, .source = 1, .chain = { 0 },
          .n_chain = 1, .gated = false },
    };
    hand_case hc = { &tie_topology, NULL, 0, &legacy, tie_footholds, 2, NULL, 0, 3, 2,
                     hops, HAND_COUNT(hops) };
    run_hand_case(&hc);
}

/* ---- random cases against the reference ---- */

/* True when this node runs more ranks of MPI_COMM_WORLD than it has online
 * processors: MPICH ranks busy-poll, so every collective then waits for
 * the scheduler, and a path round costs milliseconds instead of
 * microseconds. */
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

static uint64_t random_case_count(void)
{
    const char *text = getenv("TC_PATHS_CASES");
    long fallback = node_oversubscribed() ? OVERSUBSCRIBED_RANDOM_CASES : DEFAULT_RANDOM_CASES;
    long n = text ? strtol(text, NULL, 10) : fallback;
    return n > 0 ? (uint64_t)n : (uint64_t)fallback;
}

/* Every workload as a target, under every policy kind of case SEED.
 * Appends failures to MESSAGE; returns the agreed verdict. Collective. */
static bool random_case_paths(uint64_t seed, char *message, size_t len)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    tc_error err;
    bool ok = true;
    random_topology *rt = NULL, *serial = NULL;

    tc_error_clear(&err);
    if (random_topology_build(seed, MPI_COMM_WORLD, &rt, &err) != TC_OK)
        ok = differ(message, len, "case %llu: build failed: %s\n", (unsigned long long)seed,
                    err.message);
    if (rank == 0 && random_topology_build(seed, MPI_COMM_SELF, &serial, &err) != TC_OK)
        ok = differ(message, len, "case %llu: serial build failed: %s\n",
                    (unsigned long long)seed, err.message);
    if (!harness_agree(ok, MPI_COMM_WORLD)) {
        random_topology_free(rt);
        random_topology_free(serial);
        return false;
    }

    uint64_t n = rt->topology->n_workloads;
    uint64_t *targets = malloc(n * sizeof *targets);
    for (uint64_t i = 0; i < n; i++)
        targets[i] = n - 1 - i; /* any order: descending ids */

    for (int kind = 0; kind < RANDOM_POLICY_COUNT; kind++) {
        const tc_policy_spec *spec = &rt->scenario.policies[kind];
        paths_run run;
        tc_path *paths = NULL;
        char *world_json = NULL;
        tc_error_clear(&err);
        if (paths_run_start(&run, &rt->scenario, spec, rt->topology, rt->foothold_workloads,
                            rt->n_foothold_workloads, rt->foothold_packages,
                            rt->n_foothold_packages, rt->scenario.hop_budget, &err) == TC_OK &&
            tc_paths_extract(&run.in, targets, n, &paths, &err) == TC_OK)
            world_json = paths_dump(&run.in, paths, n);
        else
            ok = differ(message, len, "case %llu, policy %d: %s\n", (unsigned long long)seed,
                        kind, err.message);

        /* Recording must not change what falls: compare with a plain run. */
        tc_sim_result *plain = NULL;
        tc_error_clear(&err);
        if (run.policy && tc_sim_run(rt->topology, run.policy, &run.footholds,
                                     rt->scenario.hop_budget, &plain, &err) == TC_OK) {
            for (uint64_t i = 0; i < rt->topology->n_local; i++)
                if (plain->hop[i] != run.result->hop[i] ||
                    (plain->hop[i] != TC_HOP_NONE && plain->step[i] != run.result->step[i]))
                    ok = differ(message, len, "case %llu, policy %d: workload %llu falls "
                                "differently with predecessors recorded\n",
                                (unsigned long long)seed, kind,
                                (unsigned long long)(rt->topology->first + i));
        }
        tc_sim_result_free(plain);

        if (rank == 0 && world_json) {
            const tc_policy_spec *serial_spec = &serial->scenario.policies[kind];
            paths_run serial_run;
            tc_path *serial_paths = NULL;
            reference_result *ref = NULL;
            reference_path_checker *checker = NULL;
            reference_input in = {
                .topology = serial->topology,
                .groups = serial->scenario.groups, .n_groups = serial->scenario.n_groups,
                .policy = serial_spec,
                .foothold_workloads = serial->foothold_workloads,
                .n_foothold_workloads = serial->n_foothold_workloads,
                .foothold_packages = serial->foothold_packages,
                .n_foothold_packages = serial->n_foothold_packages,
                .hop_budget = serial->scenario.hop_budget,
            };
            tc_error_clear(&err);
            if (paths_run_start(&serial_run, &serial->scenario, serial_spec, serial->topology,
                                serial->foothold_workloads, serial->n_foothold_workloads,
                                serial->foothold_packages, serial->n_foothold_packages,
                                serial->scenario.hop_budget, &err) == TC_OK &&
                tc_paths_extract(&serial_run.in, targets, n, &serial_paths, &err) == TC_OK) {
                char *serial_json = paths_dump(&serial_run.in, serial_paths, n);
                if (!serial_json || strcmp(serial_json, world_json) != 0)
                    ok = differ(message, len, "case %llu, policy %d: paths differ between 1 "
                                "rank and all ranks\n", (unsigned long long)seed, kind);
                free(serial_json);
                if (reference_run(&in, &ref, &err) == TC_OK &&
                    reference_path_checker_create(&in, ref, &checker, &err) == TC_OK)
                    for (uint64_t i = 0; i < n; i++)
                        if (!reference_path_check(checker, &serial_paths[i], message, len)) {
                            ok = differ(message, len, "case %llu, policy %d (replay with "
                                        "TC_PATHS_SEED=%llu)\n", (unsigned long long)seed, kind,
                                        (unsigned long long)seed);
                            break;
                        }
            }
            if (err.code != TC_OK)
                ok = differ(message, len, "case %llu, policy %d: serial run failed: %s\n",
                            (unsigned long long)seed, kind, err.message);
            reference_path_checker_free(checker);
            reference_result_free(ref);
            tc_paths_free(serial_paths, serial_paths ? n : 0);
            paths_run_end(&serial_run);
        }
        free(world_json);
        tc_paths_free(paths, paths ? n : 0);
        paths_run_end(&run);
    }
    free(targets);
    random_topology_free(rt);
    random_topology_free(serial);
    return harness_agree(ok, MPI_COMM_WORLD);
}

static void random_paths_match_reference(void **state)
{
    (void)state;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const char *one = getenv("TC_PATHS_SEED");
    uint64_t first = one ? strtoull(one, NULL, 10) : 1;
    uint64_t count = one ? 1 : random_case_count();
    unsigned failures = 0;

    for (uint64_t seed = first; seed < first + count; seed++) {
        char message[4096] = "";
        if (!random_case_paths(seed, message, sizeof message)) {
            failures++;
            if (rank == 0 && failures <= 3)
                fprintf(stderr, "%s", message);
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- crown jewels for run --paths ---- */

/* The crown jewels that tc_paths_crown_targets picks, against a brute-force
 * sort of the reference's compromised crown jewels by (hop, id) with
 * footholds last, and the
 * JSON of tc_paths_run_json naming the same targets in the same order. */
static void crown_targets_lowest_hop_first(void **state)
{
    (void)state;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const uint32_t max = 5;
    unsigned checked = 0, failures = 0;
    uint64_t cases = random_case_count() / 4 + 2;

    for (uint64_t seed = 1; seed <= cases; seed++) {
        tc_error err;
        tc_error_clear(&err);
        random_topology *rt = NULL;
        paths_run run;
        uint64_t *targets = NULL;
        size_t n = 0;
        json_t *array = NULL;
        bool ok = random_topology_build(seed, MPI_COMM_WORLD, &rt, &err) == TC_OK;
        if (ok) {
            rt->scenario.crown_kinds = 0x1e; /* every kind but none */
            ok = paths_run_start(&run, &rt->scenario, &rt->scenario.policies[0], rt->topology,
                                 rt->foothold_workloads, rt->n_foothold_workloads,
                                 rt->foothold_packages, rt->n_foothold_packages,
                                 rt->scenario.hop_budget, &err) == TC_OK &&
                 tc_paths_crown_targets(&run.in, 0x1e, max, &targets, &n, &err) == TC_OK &&
                 tc_paths_run_json(&run.in, max, &array, &err) == TC_OK;
        }

        /* Brute force on the gathered hops. */
        reference_result *gathered = NULL;
        if (ok)
            ok = harness_engine_run(&rt->scenario, &rt->scenario.policies[0], rt->topology,
                                    rt->foothold_workloads, rt->n_foothold_workloads,
                                    rt->foothold_packages, rt->n_foothold_packages,
                                    rt->scenario.hop_budget, &gathered, &err) == TC_OK;
        if (ok && rank == 0) {
            /* Crown kinds are gathered from each owner: the topology on
             * rank 0 owns only part of them, so ask the serial build. */
            random_topology *serial = NULL;
            tc_error local;
            tc_error_clear(&local);
            ok = random_topology_build(seed, MPI_COMM_SELF, &serial, &local) == TC_OK;
            size_t k = 0;
            /* Hops 1, 2, ... first, footholds (hop 0) last. */
            for (uint32_t step = 0; ok && step <= gathered->levels && k < max; step++)
                for (uint64_t w = 0; w < gathered->n_workloads && k < max; w++)
                    if (gathered->hop[w] == (step < gathered->levels ? step + 1 : 0) && serial->topology->crown[w] != TC_CROWN_NONE) {
                        ok = k < n && targets[k] == w;
                        if (ok) {
                            json_t *target = json_object_get(json_array_get(array, k), "target");
                            ok = (uint64_t)json_integer_value(json_object_get(target, "id")) == w;
                        }
                        k++;
                    }
            ok = ok && k == n && json_array_size(array) == n;
            checked += (unsigned)n;
            random_topology_free(serial);
        }
        if (!harness_agree(ok, MPI_COMM_WORLD)) {
            failures++;
            if (rank == 0)
                fprintf(stderr, "case %llu: crown jewel targets differ (%s)\n",
                        (unsigned long long)seed, err.message);
        }
        reference_result_free(gathered);
        json_decref(array);
        free(targets);
        if (rt)
            paths_run_end(&run);
        random_topology_free(rt);
    }
    assert_int_equal(failures, 0);
    if (rank == 0)
        assert_true(checked > 0);
}

/* ---- the paths command ---- */

#define TINY_SCENARIO "scenarios/tiny-explicit.yaml"

/* Write a result file that names the tiny scenario, with COMPROMISED as
 * the count of tier-segmentation. Rank 0 writes; returns its path. */
static void write_tiny_result(char *path, size_t len, long compromised)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long stamp = 0;
    if (rank == 0)
        stamp = (long)getpid();
    MPI_Bcast(&stamp, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    snprintf(path, len, "/tmp/test_paths_%ld_result.json", stamp);
    if (rank == 0) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "{\"schema_version\": 1, \"scenario\": {\"name\": \"tiny-explicit\", "
                "\"seed\": 20260311}, \"run\": {\"scenario_path\": \"%s\"}, "
                "\"topology\": {\"workloads\": 10}, \"footholds\": {\"total\": 1}, "
                "\"policies\": [{\"name\": \"tier-segmentation\", \"compromised\": %ld}]}\n",
                TINY_SCENARIO, compromised);
        fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

/* Read the whole of PATH on rank 0; NULL elsewhere or when missing. */
static char *read_text(const char *path)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != 0)
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = calloc(1 << 16, 1);
    if (text)
        fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    return text;
}

static int run_paths_command(const char *result, const char *output, const char *format,
                             const char *target)
{
    char *argv[] = { "paths", (char *)result, "--to", (char *)target, "--policy",
                     "tier-segmentation", "-q", "-o", (char *)output, (char *)format, NULL };
    int argc = format ? 10 : 9;
    return tc_paths_main(argc, argv, MPI_COMM_WORLD);
}

/* tiny.yaml works out, under tier-segmentation from lb-1: web-1 at hop 1
 * (lb-1 calls it over http), api-1 at hop 2 (grpc exploit from web-1,
 * rule #1 web -> api), db-1 at hop 3 (api-sa, held since api-1 fell, used
 * from api-1 on postgres under rule #2 api -> db). */
static void command_prints_tiny_path(void **state)
{
    (void)state;
    if (access(TINY_SCENARIO, R_OK) != 0)
        skip(); /* run from the repository root */
    char result[256], output[300];
    write_tiny_result(result, sizeof result, 5);
    snprintf(output, sizeof output, "%s.txt", result);

    int status = run_paths_command(result, output, NULL, "db-1");
    assert_int_equal(status, TC_OK);
    char *text = read_text(output);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        assert_non_null(text);
        const char *expected[] = {
            "policy tier-segmentation: attack path to db-1 (data, acme/prod/shop, crown jewel: "
            "database) in 3 hops",
            "   0. lb-1 (edge, acme/prod/shop)\n      foothold (vector internet)",
            "   1. web-1 (web, acme/prod/shop)\n      API chain: lb-1 calls it on http with "
            "implicit trust; base rule #0 (edge -> app: http, grpc); policy rule #0 (lb -> web "
            "allows http)",
            "   2. api-1 (api, acme/prod/shop)\n      network exploit of grpc from web-1; base "
            "rule #1 (app -> app: any service); policy rule #1 (web -> api allows grpc)",
            "   3. db-1 (data, acme/prod/shop, crown jewel: database)\n      credential: "
            "principal api-sa (held since hop 2: api-1 runs as api-sa), network-gated grant on "
            "postgres, used from api-1 on postgres; base rule #2 (app -> data: postgres, redis, "
            "billing-api); policy rule #2 (api -> db allows postgres)",
        };
        for (size_t i = 0; i < HAND_COUNT(expected); i++)
            if (!strstr(text, expected[i]))
                fail_msg("line %zu is missing from the output:\n%s\n--- output:\n%s", i,
                         expected[i], text);
    }
    free(text);
    if (rank == 0) {
        unlink(output);
        unlink(result);
    }
}

static void command_writes_dot(void **state)
{
    (void)state;
    if (access(TINY_SCENARIO, R_OK) != 0)
        skip();
    char result[256], output[300];
    write_tiny_result(result, sizeof result, 5);
    snprintf(output, sizeof output, "%s.dot", result);

    assert_int_equal(run_paths_command(result, output, "--dot", "4"), TC_OK);
    char *text = read_text(output);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        assert_non_null(text);
        assert_non_null(strstr(text, "digraph attack_paths {"));
        assert_non_null(strstr(text, "p0_w2 -> p0_w4 [label=\"hop 3\\ncredential: principal "
                                     "api-sa"));
        assert_non_null(strstr(text, "p0_w4 [label=\"db-1\\ndata, acme\\ncrown jewel: database\"]"));
        assert_string_equal(text + strlen(text) - 2, "}\n");
        unlink(output);
        unlink(result);
    }
    free(text);
}

/* A result whose count the rerun does not reproduce describes another
 * topology: input error, and no output file. */
static void command_rejects_changed_scenario(void **state)
{
    (void)state;
    if (access(TINY_SCENARIO, R_OK) != 0)
        skip();
    char result[256], output[300];
    write_tiny_result(result, sizeof result, 7);
    snprintf(output, sizeof output, "%s.txt", result);

    assert_int_equal(run_paths_command(result, output, NULL, "db-1"), TC_ERR_INPUT);
    assert_int_equal(access(output, F_OK), -1);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
        unlink(result);
}

static void command_rejects_unknown_target(void **state)
{
    (void)state;
    if (access(TINY_SCENARIO, R_OK) != 0)
        skip();
    char result[256], output[300];
    write_tiny_result(result, sizeof result, 5);
    snprintf(output, sizeof output, "%s.txt", result);

    assert_int_equal(run_paths_command(result, output, NULL, "db-9"), TC_ERR_INPUT);
    assert_int_equal(run_paths_command(result, output, NULL, "10"), TC_ERR_INPUT);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
        unlink(result);
}

static void command_requires_target(void **state)
{
    (void)state;
    char *argv[] = { "paths", "/tmp/none.json", "-q", NULL };
    assert_int_equal(tc_paths_main(3, argv, MPI_COMM_WORLD), TC_ERR_INPUT);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chain_path_under_legacy),
        cmocka_unit_test(chain_path_names_policy_rules),
        cmocka_unit_test(target_beyond_budget_not_reached),
        cmocka_unit_test(foothold_package_path),
        cmocka_unit_test(gated_grant_used_from_off_path),
        cmocka_unit_test(control_plane_grant_path),
        cmocka_unit_test(network_tie_takes_smallest),
        cmocka_unit_test(api_tie_takes_smallest),
        cmocka_unit_test(credential_tie_takes_smallest),
        cmocka_unit_test(random_paths_match_reference),
        cmocka_unit_test(crown_targets_lowest_hop_first),
        cmocka_unit_test(command_prints_tiny_path),
        cmocka_unit_test(command_writes_dot),
        cmocka_unit_test(command_rejects_changed_scenario),
        cmocka_unit_test(command_rejects_unknown_target),
        cmocka_unit_test(command_requires_target),
    };
    int failed = tc_test_run_mpi(tests);
    MPI_Finalize();
    return failed ? 1 : 0;
}
