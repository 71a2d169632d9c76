/*
 * test_cloud.c - the cloud generator: invariants of the generated topology,
 * determinism, equality across rank counts, and statistics against their
 * parameters.
 *
 * Every rank generates the same test cloud on MPI_COMM_SELF (the whole
 * topology on one rank) and checks it. cloud_world_equals_self also
 * generates it over MPI_COMM_WORLD and compares each rank's slice. Runs at
 * any rank count: mpiexec -n 3 build/tests/test_cloud.
 *
 * Statistical checks compare a share or mean with its expectation, worked
 * out here independently of the generator, within 4 standard errors. The
 * seed is fixed, so each check is deterministic; for a random seed a
 * correct generator would fail one with probability below 1e-4.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cloud.h"
#include "cloud_plan.h"
#include "mpi_test.h"

#define TEST_SEED 20260301u
#define TEST_WORKLOADS 150000u
#define TEST_TENANTS 4u
#define SIGMAS 4.0
#define SMALL_APP 5

/* The cloud every test reads, generated once on MPI_COMM_SELF. */
static tc_topology *cloud;

static void test_params(tc_cloud_params *p)
{
    tc_cloud_params_default(p);
    p->workloads = TEST_WORKLOADS;
    p->tenants = TEST_TENANTS;
}

static int generate_self(uint64_t seed, const tc_cloud_params *p, tc_topology **out)
{
    tc_error err;
    tc_error_clear(&err);
    int status = tc_cloud_generate(p, seed, MPI_COMM_SELF, out, &err);
    if (status != TC_OK)
        tc_error_print(&err, stderr);
    return status;
}

static bool tier_is_core(uint8_t tier)
{
    return tier == TC_TIER_SECRETS || tier == TC_TIER_CI || tier == TC_TIER_ADMIN ||
           tier == TC_TIER_BILLING;
}

/* Local index of the first workload of each app, UINT64_MAX when none. */
static uint64_t *first_workload_of_apps(const tc_topology *t)
{
    uint64_t *first = malloc(t->apps.count * sizeof *first);
    assert_non_null(first);
    for (uint32_t a = 0; a < t->apps.count; a++)
        first[a] = UINT64_MAX;
    for (uint64_t i = t->n_local; i-- > 0;)
        first[t->app[i]] = i;
    return first;
}

/* ---- digests ---- */

static uint64_t digest_bytes(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t digest_names(uint64_t h, const tc_names *table)
{
    for (uint32_t i = 0; i < table->count; i++)
        h = digest_bytes(h, table->names[i], strlen(table->names[i]) + 1);
    return h;
}

/* Digests of the parts of a topology, compared part by part so that a
 * failure names the part that differs. */
typedef struct topology_digest {
    uint64_t attributes, installs, api, grants, hubs;
} topology_digest;

static topology_digest digest_topology(const tc_topology *t)
{
    const uint64_t basis = 1469598103934665603ULL;
    topology_digest d = { basis, basis, basis, basis, basis };
    size_t n = t->n_local;
    const void *u32_arrays[] = { t->tenant, t->account, t->vpc, t->subnet, t->segment, t->app,
                                 t->principal };
    for (size_t k = 0; k < sizeof u32_arrays / sizeof *u32_arrays; k++)
        d.attributes = digest_bytes(d.attributes, u32_arrays[k], n * sizeof(uint32_t));
    d.attributes = digest_bytes(d.attributes, t->env, n);
    d.attributes = digest_bytes(d.attributes, t->tier, n);
    d.attributes = digest_bytes(d.attributes, t->crown, n);
    d.attributes = digest_bytes(d.attributes, t->flags, n);
    d.attributes = digest_bytes(d.attributes, t->exposed, n * sizeof(tc_svcmask));
    d.attributes = digest_bytes(d.attributes, t->exploitable, n * sizeof(tc_svcmask));

    d.installs = digest_bytes(d.installs, t->install_offsets, (n + 1) * sizeof(uint64_t));
    d.installs = digest_bytes(d.installs, t->install_packages,
                              t->install_offsets[n] * sizeof(uint32_t));

    uint64_t edges = t->api_offsets[n];
    d.api = digest_bytes(d.api, t->api_offsets, (n + 1) * sizeof(uint64_t));
    d.api = digest_bytes(d.api, t->api_targets, edges * sizeof(uint64_t));
    d.api = digest_bytes(d.api, t->api_service, edges);
    d.api = digest_bytes(d.api, t->api_trust, edges);

    uint32_t np = t->principals.count;
    d.grants = digest_bytes(d.grants, t->grant_offsets, (np + 1) * sizeof(uint64_t));
    for (uint64_t g = 0; g < t->grant_offsets[np]; g++) {
        const tc_grant *grant = &t->grants[g];
        uint64_t fields[3] = { grant->target_local, grant->services, grant->gated };
        d.grants = digest_bytes(d.grants, fields, sizeof fields);
    }

    const tc_names *tables[] = { &t->tenants, &t->accounts, &t->vpcs, &t->subnets,
                                 &t->segments, &t->apps, &t->principals, &t->packages };
    for (size_t k = 0; k < sizeof tables / sizeof *tables; k++)
        d.hubs = digest_names(d.hubs, tables[k]);
    d.hubs = digest_bytes(d.hubs, t->base_rules, t->n_base_rules * sizeof(tc_base_rule));
    d.hubs = digest_bytes(d.hubs, t->package_kind, t->packages.count);
    d.hubs = digest_bytes(d.hubs, t->package_popularity, t->packages.count * sizeof(uint32_t));
    d.hubs = digest_bytes(d.hubs, t->assume_offsets, (np + 1) * sizeof(uint64_t));
    d.hubs = digest_bytes(d.hubs, t->assumes, t->assume_offsets[np] * sizeof(uint32_t));
    d.hubs = digest_bytes(d.hubs, t->publish_offsets, (np + 1) * sizeof(uint64_t));
    d.hubs = digest_bytes(d.hubs, t->publishes, t->publish_offsets[np] * sizeof(uint32_t));
    return d;
}

static void assert_digests_equal(topology_digest a, topology_digest b)
{
    assert_true(a.attributes == b.attributes);
    assert_true(a.installs == b.installs);
    assert_true(a.api == b.api);
    assert_true(a.grants == b.grants);
    assert_true(a.hubs == b.hubs);
}

/* ---- base rule look-up ---- */

static int compare_rules(const void *a, const void *b)
{
    const tc_base_rule *x = a, *y = b;
    if (x->from_segment != y->from_segment)
        return x->from_segment < y->from_segment ? -1 : 1;
    return (x->to_segment > y->to_segment) - (x->to_segment < y->to_segment);
}

static tc_base_rule *sorted_rules(const tc_topology *t)
{
    tc_base_rule *rules = malloc((t->n_base_rules + 1) * sizeof *rules);
    assert_non_null(rules);
    memcpy(rules, t->base_rules, t->n_base_rules * sizeof *rules);
    qsort(rules, t->n_base_rules, sizeof *rules, compare_rules);
    return rules;
}

/* Union of the services of every rule FROM -> TO. */
static tc_svcmask base_services(const tc_base_rule *rules, uint64_t n, uint32_t from, uint32_t to)
{
    tc_svcmask services = 0;
    tc_base_rule key = { from, to, 0 };
    const tc_base_rule *hit = bsearch(&key, rules, n, sizeof *rules, compare_rules);
    if (!hit)
        return 0;
    while (hit > rules && compare_rules(hit - 1, &key) == 0)
        hit--;
    for (; hit < rules + n && compare_rules(hit, &key) == 0; hit++)
        services |= hit->services;
    return services;
}

/* ---- structure ---- */

static void cloud_workload_count_exact(void **state)
{
    (void)state;
    assert_non_null(cloud);
    assert_int_equal(cloud->n_workloads, TEST_WORKLOADS);
    assert_int_equal(cloud->n_local, TEST_WORKLOADS);

    /* Plans of other sizes, down to the minimum, cover 0 .. workloads-1
     * with contiguous apps. */
    tc_cloud_params p;
    test_params(&p);
    uint64_t minimum = tc_cloud_min_tenant_workloads(&p);
    const uint64_t cases[][2] = { { minimum, 1 }, { 3 * minimum, 3 }, { 3 * minimum + 2, 3 },
                                  { 12345, 2 }, { 99991, 7 } };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        p.workloads = cases[c][0];
        p.tenants = cases[c][1];
        tc_error err;
        tc_error_clear(&err);
        cloud_plan *plan = NULL;
        assert_int_equal(tc_cloud_plan_build(&p, TEST_SEED, &plan, &err), TC_OK);
        uint64_t next = 0;
        for (uint32_t a = 0; a < plan->n_apps; a++) {
            assert_int_equal(plan->apps[a].first, next);
            assert_true(plan->apps[a].size >= 1);
            next += plan->apps[a].size;
        }
        assert_int_equal(next, p.workloads);
        tc_cloud_plan_free(plan);
    }
}

static void cloud_ids_in_range(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    for (uint64_t i = 0; i < t->n_local; i++) {
        assert_true(t->tenant[i] < t->tenants.count);
        assert_true(t->account[i] < t->accounts.count);
        assert_true(t->vpc[i] < t->vpcs.count);
        assert_true(t->subnet[i] < t->subnets.count);
        assert_true(t->segment[i] < t->segments.count);
        assert_true(t->app[i] < t->apps.count);
        assert_true(t->principal[i] < t->principals.count);
        for (uint64_t j = t->install_offsets[i]; j < t->install_offsets[i + 1]; j++)
            assert_true(t->install_packages[j] < t->packages.count);
        for (uint64_t j = t->api_offsets[i]; j < t->api_offsets[i + 1]; j++) {
            assert_true(t->api_targets[j] < t->n_workloads);
            assert_true(t->api_service[j] < TC_SERVICE_COUNT);
        }
    }
    for (uint64_t g = 0; g < t->grant_offsets[t->principals.count]; g++) {
        assert_true(t->grants[g].target_local < t->n_local);
        assert_true(t->grants[g].services != 0);
        assert_true((t->grants[g].services & ~TC_SERVICE_ALL) == 0);
    }
    for (uint64_t r = 0; r < t->n_base_rules; r++) {
        assert_true(t->base_rules[r].from_segment < t->segments.count);
        assert_true(t->base_rules[r].to_segment < t->segments.count);
    }
    for (uint64_t j = 0; j < t->assume_offsets[t->principals.count]; j++)
        assert_true(t->assumes[j] < t->principals.count);
    for (uint64_t j = 0; j < t->publish_offsets[t->principals.count]; j++)
        assert_true(t->publishes[j] < t->packages.count);
}

static void cloud_app_instances_share_attributes(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    uint64_t *first = first_workload_of_apps(t);
    for (uint32_t a = 0; a < t->apps.count; a++)
        assert_true(first[a] != UINT64_MAX);

    for (uint64_t i = 0; i < t->n_local; i++) {
        uint64_t f = first[t->app[i]];
        assert_int_equal(t->tenant[i], t->tenant[f]);
        assert_int_equal(t->account[i], t->account[f]);
        assert_int_equal(t->vpc[i], t->vpc[f]);
        assert_int_equal(t->env[i], t->env[f]);
        assert_int_equal(t->tier[i], t->tier[f]);
        assert_int_equal(t->principal[i], t->principal[f]);
        assert_int_equal(t->segment[i], t->segment[f]);
        uint64_t n = t->install_offsets[i + 1] - t->install_offsets[i];
        assert_int_equal(n, t->install_offsets[f + 1] - t->install_offsets[f]);
        assert_memory_equal(t->install_packages + t->install_offsets[i],
                            t->install_packages + t->install_offsets[f], n * sizeof(uint32_t));
        /* Apps are contiguous: an app's instances follow its first one. */
        if (i > 0 && t->app[i] != t->app[i - 1])
            assert_int_equal(f, i);
    }
    free(first);
}

static void cloud_names_follow_scheme(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    char expected[256];
    for (uint64_t i = 0; i < t->n_local; i += 97) {
        const char *vpc = tc_names_get(&t->vpcs, t->vpc[i]);
        const char *account = tc_names_get(&t->accounts, t->account[i]);
        const char *tenant = tc_names_get(&t->tenants, t->tenant[i]);
        snprintf(expected, sizeof expected, "%s/%s", vpc, tc_tier_names[t->tier[i]]);
        assert_string_equal(tc_names_get(&t->segments, t->segment[i]), expected);
        assert_true(strncmp(vpc, account, strlen(account)) == 0);
        assert_true(strncmp(account, tenant, strlen(tenant)) == 0);
        assert_true(strncmp(tc_names_get(&t->apps, t->app[i]), expected, strlen(expected)) == 0);
        assert_true(strncmp(tc_names_get(&t->subnets, t->subnet[i]), vpc, strlen(vpc)) == 0);
        /* Core apps live in the tenant's core account a000. */
        snprintf(expected, sizeof expected, "%s/a000", tenant);
        assert_int_equal(tier_is_core(t->tier[i]), strcmp(account, expected) == 0);
    }
}

static void cloud_crown_jewels_on_right_tiers(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    uint64_t per_kind[TC_CROWN_COUNT] = { 0 };
    for (uint64_t i = 0; i < t->n_local; i++) {
        uint8_t tier = t->tier[i], crown = t->crown[i];
        per_kind[crown]++;
        assert_int_equal(crown == TC_CROWN_DATABASE,
                         tier == TC_TIER_DATA && t->env[i] == TC_ENV_PROD);
        assert_int_equal(crown == TC_CROWN_SECRETS, tier == TC_TIER_SECRETS);
        assert_int_equal(crown == TC_CROWN_PRIVILEGED, tier == TC_TIER_ADMIN);
        assert_int_equal(crown == TC_CROWN_BILLING, tier == TC_TIER_BILLING);
    }
    for (int k = 1; k < TC_CROWN_COUNT; k++)
        assert_true(per_kind[k] > 0);
}

static void cloud_exposure_invariants(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    uint64_t internet_facing = 0, exploitable = 0;
    for (uint64_t i = 0; i < t->n_local; i++) {
        assert_true((t->exploitable[i] & ~t->exposed[i]) == 0);
        assert_true(t->exposed[i] != 0);
        bool facing = (t->flags[i] & TC_WORKLOAD_INTERNET_FACING) != 0;
        if (t->tier[i] == TC_TIER_EDGE)
            assert_true(facing);
        if (facing)
            assert_true(t->tier[i] == TC_TIER_EDGE || t->tier[i] == TC_TIER_WEB);
        internet_facing += facing;
        exploitable += t->exploitable[i] != 0;
    }
    assert_true(internet_facing > 0);
    assert_true(exploitable > 0);
}

static void cloud_api_calls_allowed_by_base_rules(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    tc_base_rule *rules = sorted_rules(t);
    for (uint64_t i = 0; i < t->n_local; i++)
        for (uint64_t j = t->api_offsets[i]; j < t->api_offsets[i + 1]; j++) {
            uint64_t v = t->api_targets[j];
            tc_svcmask base = base_services(rules, t->n_base_rules, t->segment[i], t->segment[v]);
            assert_true(base >> t->api_service[j] & 1);
            assert_true((t->exposed[v] >> t->api_service[j]) & 1);
            assert_int_equal(t->tenant[i], t->tenant[v]);
            assert_int_not_equal(t->app[i], t->app[v]);
        }
    free(rules);
}

static void cloud_secrets_manager_is_hub(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    uint64_t *in_edges = calloc(t->apps.count, sizeof *in_edges);
    uint32_t *top = calloc(t->tenants.count, sizeof *top);
    assert_non_null(in_edges);
    assert_non_null(top);
    for (uint64_t e = 0; e < t->api_offsets[t->n_local]; e++)
        in_edges[t->app[t->api_targets[e]]]++;

    uint64_t *first = first_workload_of_apps(t);
    for (uint32_t a = 0; a < t->apps.count; a++) {
        uint32_t tenant = t->tenant[first[a]];
        if (in_edges[a] > in_edges[top[tenant]] || t->tenant[first[top[tenant]]] != tenant)
            top[tenant] = a;
    }
    for (uint32_t tenant = 0; tenant < t->tenants.count; tenant++)
        assert_int_equal(t->tier[first[top[tenant]]], TC_TIER_SECRETS);
    free(first);
    free(top);
    free(in_edges);
}

/* CI principals are the only publishers and the only holders of deploy
 * grants (control-plane k8s-api); admin hosts may assume the admin role. */
static void cloud_ci_and_admin_principals(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    unsigned k8s = (unsigned)tc_service_find("k8s-api");
    uint32_t publishers = 0;
    for (uint32_t p = 0; p < t->principals.count; p++) {
        const char *name = tc_names_get(&t->principals, p);
        bool ci = strstr(name, "/ci-") != NULL;
        bool admin_hosts = strstr(name, "/admin-0/sa") != NULL;
        uint64_t n_publishes = t->publish_offsets[p + 1] - t->publish_offsets[p];
        assert_true(n_publishes == 0 || ci);
        publishers += n_publishes > 0;
        for (uint64_t g = t->grant_offsets[p]; g < t->grant_offsets[p + 1]; g++)
            if (t->grants[g].services == ((tc_svcmask)1 << k8s))
                assert_true(ci && !t->grants[g].gated);
        if (admin_hosts) {
            assert_int_equal(t->assume_offsets[p + 1] - t->assume_offsets[p], 1);
            assert_non_null(strstr(tc_names_get(&t->principals, t->assumes[t->assume_offsets[p]]),
                                   "/admin-role"));
        }
    }
    assert_int_equal(publishers, TEST_TENANTS * 2); /* ci_apps = 2 per tenant */
}

/* ---- determinism and distribution ---- */

static void cloud_same_seed_same_topology(void **state)
{
    (void)state;
    assert_non_null(cloud);
    tc_cloud_params p;
    test_params(&p);
    tc_topology *again = NULL;
    assert_int_equal(generate_self(TEST_SEED, &p, &again), TC_OK);
    assert_digests_equal(digest_topology(cloud), digest_topology(again));
    tc_topology_free(again);
}

static void cloud_other_seed_differs(void **state)
{
    (void)state;
    assert_non_null(cloud);
    tc_cloud_params p;
    test_params(&p);
    tc_topology *other = NULL;
    assert_int_equal(generate_self(TEST_SEED + 1, &p, &other), TC_OK);
    topology_digest a = digest_topology(cloud), b = digest_topology(other);
    assert_true(a.attributes != b.attributes);
    assert_true(a.api != b.api);
    assert_true(a.hubs != b.hubs);
    tc_topology_free(other);
}

/* One workload past the start of the first app from FROM on with at least
 * two instances, so that a range boundary there splits the app. */
static uint64_t cut_inside_app(const cloud_plan *plan, uint32_t from)
{
    uint32_t a = from;
    while (a < plan->n_apps && plan->apps[a].size < 2)
        a++;
    assert_true(a < plan->n_apps);
    return plan->apps[a].first + 1;
}

/* Emitting the workloads as three "virtual ranks" (three ranges cut inside
 * apps) into one topology gives the same topology as one range. */
static void cloud_three_ranges_equal_one(void **state)
{
    (void)state;
    assert_non_null(cloud);
    tc_cloud_params p;
    test_params(&p);
    tc_error err;
    tc_error_clear(&err);
    cloud_plan *plan = NULL;
    assert_int_equal(tc_cloud_plan_build(&p, TEST_SEED, &plan, &err), TC_OK);

    uint64_t cut1 = cut_inside_app(plan, plan->n_apps / 3);
    uint64_t cut2 = cut_inside_app(plan, 2 * plan->n_apps / 3);

    tc_topology *t = NULL;
    assert_int_equal(tc_topology_create(MPI_COMM_SELF, p.workloads, &t, &err), TC_OK);
    assert_int_equal(tc_cloud_plan_emit_hubs(plan, t, &err), TC_OK);
    assert_int_equal(tc_cloud_plan_emit_workloads(plan, 0, cut1, t, &err), TC_OK);
    assert_int_equal(tc_cloud_plan_emit_workloads(plan, cut1, cut2 - cut1, t, &err), TC_OK);
    assert_int_equal(tc_cloud_plan_emit_workloads(plan, cut2, p.workloads - cut2, t, &err), TC_OK);
    assert_int_equal(tc_topology_finish(t, &err), TC_OK);
    assert_digests_equal(digest_topology(cloud), digest_topology(t));
    tc_topology_free(t);
    tc_cloud_plan_free(plan);
}

/* Each rank's slice of the cloud generated over MPI_COMM_WORLD equals the
 * same workloads of the cloud generated on one rank. */
static void cloud_world_equals_self(void **state)
{
    (void)state;
    const tc_topology *self = cloud;
    assert_non_null(self);
    tc_cloud_params p;
    test_params(&p);
    tc_error err;
    tc_error_clear(&err);
    tc_topology *t = NULL;
    assert_int_equal(tc_cloud_generate(&p, TEST_SEED, MPI_COMM_WORLD, &t, &err), TC_OK);

    uint64_t total = 0;
    MPI_Allreduce(&t->n_local, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    assert_int_equal(total, TEST_WORKLOADS);
    assert_int_equal(t->n_api_edges, self->n_api_edges);
    assert_int_equal(t->n_installs, self->n_installs);
    assert_int_equal(t->n_grants, self->n_grants);
    assert_true(digest_topology(t).hubs == digest_topology(self).hubs);

    for (uint64_t i = 0; i < t->n_local; i++) {
        uint64_t s = t->first + i;
        assert_int_equal(t->app[i], self->app[s]);
        assert_int_equal(t->segment[i], self->segment[s]);
        assert_int_equal(t->subnet[i], self->subnet[s]);
        assert_int_equal(t->principal[i], self->principal[s]);
        assert_int_equal(t->flags[i], self->flags[s]);
        assert_true(t->exploitable[i] == self->exploitable[s]);
        uint64_t n = t->api_offsets[i + 1] - t->api_offsets[i];
        assert_int_equal(n, self->api_offsets[s + 1] - self->api_offsets[s]);
        assert_memory_equal(t->api_targets + t->api_offsets[i],
                            self->api_targets + self->api_offsets[s], n * sizeof(uint64_t));
        n = t->install_offsets[i + 1] - t->install_offsets[i];
        assert_int_equal(n, self->install_offsets[s + 1] - self->install_offsets[s]);
    }

    /* Grants of each principal: this rank's are the ones of the whole
     * cloud whose target it owns, in the same order. */
    for (uint32_t p_id = 0; p_id < t->principals.count; p_id++) {
        uint64_t mine = t->grant_offsets[p_id];
        for (uint64_t g = self->grant_offsets[p_id]; g < self->grant_offsets[p_id + 1]; g++) {
            uint64_t target = self->grants[g].target_local;
            if (!tc_topology_owns(t, target))
                continue;
            assert_true(mine < t->grant_offsets[p_id + 1]);
            assert_int_equal(t->grants[mine].target_local, target - t->first);
            assert_true(t->grants[mine].services == self->grants[g].services);
            assert_int_equal(t->grants[mine].gated, self->grants[g].gated);
            mine++;
        }
        assert_int_equal(mine, t->grant_offsets[p_id + 1]);
    }

    size_t bytes = tc_topology_bytes(t), max_bytes = 0;
    MPI_Allreduce(&bytes, &max_bytes, 1, MPI_UNSIGNED_LONG, MPI_MAX, MPI_COMM_WORLD);
    int nranks = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    assert_true(tc_cloud_estimate_bytes(&p, nranks) >= max_bytes);
    tc_topology_free(t);
}

/* ---- statistics ---- */

static void assert_share_near(const char *label, uint64_t hits, uint64_t n, double p)
{
    assert_true(n > 100);
    double share = (double)hits / (double)n;
    double tolerance = SIGMAS * sqrt(p * (1.0 - p) / (double)n);
    if (fabs(share - p) > tolerance)
        fail_msg("%s: %.4f over %llu, expected %.4f +- %.4f", label, share,
                 (unsigned long long)n, p, tolerance);
}

/* P(Y > k) for a lognormal Y of log-mean MU and log-sigma SIGMA. */
static double lognormal_tail(double k, double mu, double sigma)
{
    if (k <= 0.0)
        return 1.0;
    return 0.5 * erfc((log(k) - mu) / (sigma * sqrt(2.0)));
}

/* Mean and variance of ceil(Y), with Y lognormal of mean MEAN - 0.5 as the
 * generator draws app sizes: E[X] = sum_k P(X > k) and
 * E[X^2] = sum_k (2k + 1) P(X > k) over k >= 0, with P(X > k) = P(Y > k). */
static void ceil_lognormal_moments(double mean, double sigma, double *m1, double *var)
{
    double mu = log(mean - 0.5) - 0.5 * sigma * sigma;
    double first = 0.0, second = 0.0;
    for (double k = 0.0;; k += 1.0) {
        double tail = lognormal_tail(k, mu, sigma);
        first += tail;
        second += (2.0 * k + 1.0) * tail;
        if (k > 1.0 && (log(k) - mu) / sigma > 8.0)
            break;
    }
    *m1 = first;
    *var = second - first * first;
}

static void cloud_app_size_sampler_mean(void **state)
{
    (void)state;
    tc_cloud_params p;
    test_params(&p);
    const double means[3] = { p.app_size_entry, p.app_size_middle, p.app_size_leaf };
    const uint32_t draws = 200000;
    for (int role = 0; role < 3; role++) {
        double m1, var;
        ceil_lognormal_moments(means[role], p.app_size_sigma, &m1, &var);
        /* The discretisation keeps the mean within 2% of the parameter. */
        assert_true(fabs(m1 - means[role]) < 0.02 * means[role]);

        double sum = 0.0;
        uint32_t small = 0;
        for (uint32_t i = 0; i < draws; i++) {
            uint32_t size = tc_cloud_draw_app_size(&p, TEST_SEED, role, i);
            sum += size;
            small += size <= SMALL_APP;
        }
        double sample = sum / draws;
        double tolerance = SIGMAS * sqrt(var / draws);
        if (fabs(sample - m1) > tolerance)
            fail_msg("role %d: mean size %.3f, expected %.3f +- %.3f", role, sample, m1, tolerance);

        /* The shape: P(ceil(Y) <= k) = P(Y <= k) depends on sigma, which
         * the mean does not show. */
        double mu = log(means[role] - 0.5) - 0.5 * p.app_size_sigma * p.app_size_sigma;
        assert_share_near("apps of at most 5 instances", small, draws,
                          1.0 - lognormal_tail(SMALL_APP, mu, p.app_size_sigma));
    }
}

static void cloud_mean_app_size_near_parameter(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    tc_cloud_params p;
    test_params(&p);

    /* Workload apps only; the one app per tenant cut at the tenant's end
     * is included, a bias below 0.5% at this size. */
    uint64_t *size = calloc(t->apps.count, sizeof *size);
    uint64_t *first = first_workload_of_apps(t);
    assert_non_null(size);
    for (uint64_t i = 0; i < t->n_local; i++)
        size[t->app[i]]++;
    double sum = 0.0;
    uint64_t n = 0;
    for (uint32_t a = 0; a < t->apps.count; a++)
        if (!tier_is_core(t->tier[first[a]])) {
            sum += (double)size[a];
            n++;
        }

    /* Mixture of the three roles: mean and variance from the exact
     * per-role moments. */
    const double shares[3] = { p.role_entry_share, p.role_middle_share,
                               1.0 - p.role_entry_share - p.role_middle_share };
    const double means[3] = { p.app_size_entry, p.app_size_middle, p.app_size_leaf };
    double mean = 0.0, second = 0.0;
    for (int r = 0; r < 3; r++) {
        double m1, var;
        ceil_lognormal_moments(means[r], p.app_size_sigma, &m1, &var);
        mean += shares[r] * m1;
        second += shares[r] * (var + m1 * m1);
    }
    double tolerance = SIGMAS * sqrt((second - mean * mean) / (double)n);
    double sample = sum / (double)n;
    if (fabs(sample - mean) > tolerance)
        fail_msg("mean app size %.2f over %llu apps, expected %.2f +- %.2f", sample,
                 (unsigned long long)n, mean, tolerance);
    free(first);
    free(size);
}

static void cloud_role_shares_near_parameters(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    tc_cloud_params p;
    test_params(&p);
    uint64_t *first = first_workload_of_apps(t);
    uint64_t entry = 0, middle = 0, n = 0;
    for (uint32_t a = 0; a < t->apps.count; a++) {
        uint8_t tier = t->tier[first[a]];
        if (tier_is_core(tier))
            continue;
        n++;
        entry += tier == TC_TIER_EDGE || tier == TC_TIER_WEB;
        middle += tier == TC_TIER_API || tier == TC_TIER_WORKER;
    }
    assert_share_near("entry apps", entry, n, p.role_entry_share);
    assert_share_near("middle apps", middle, n, p.role_middle_share);
    free(first);
}

/* Apps reuse a principal of their account with probability principal_reuse,
 * except the first app of each account, which has none to reuse. */
static void cloud_principal_reuse_share(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    tc_cloud_params p;
    test_params(&p);
    uint64_t *first = first_workload_of_apps(t);
    uint8_t *seen = calloc(t->principals.count, 1);
    assert_non_null(seen);

    uint64_t reused = 0, eligible = 0;
    uint32_t account = UINT32_MAX;
    for (uint32_t a = 0; a < t->apps.count; a++) {
        uint64_t w = first[a];
        if (tier_is_core(t->tier[w]))
            continue;
        if (t->account[w] != account) {
            account = t->account[w]; /* apps are contiguous per account */
            seen[t->principal[w]] = 1;
            continue;
        }
        eligible++;
        reused += seen[t->principal[w]];
        seen[t->principal[w]] = 1;
    }
    assert_share_near("reused principals", reused, eligible, p.principal_reuse);
    free(seen);
    free(first);
}

static void cloud_open_east_west_share(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    tc_cloud_params p;
    test_params(&p);

    uint32_t *segment_vpc = malloc(t->segments.count * sizeof *segment_vpc);
    uint8_t *open = calloc(t->vpcs.count, 1);
    assert_non_null(segment_vpc);
    assert_non_null(open);
    for (uint64_t i = 0; i < t->n_local; i++)
        segment_vpc[t->segment[i]] = t->vpc[i];

    tc_base_rule *rules = sorted_rules(t);
    for (uint32_t s = 0; s < t->segments.count; s++)
        if (base_services(rules, t->n_base_rules, s, s) == TC_SERVICE_ALL)
            open[segment_vpc[s]] = 1;

    /* An open VPC is open between every pair of its segments. */
    uint64_t n_open = 0;
    for (uint32_t a = 0; a < t->segments.count; a++)
        for (uint32_t b = 0; b < t->segments.count; b++)
            if (segment_vpc[a] == segment_vpc[b] && open[segment_vpc[a]])
                assert_true(base_services(rules, t->n_base_rules, a, b) == TC_SERVICE_ALL);
    for (uint32_t v = 0; v < t->vpcs.count; v++)
        n_open += open[v];
    assert_share_near("VPCs open east-west", n_open, t->vpcs.count, p.legacy_open_east_west);
    free(rules);
    free(open);
    free(segment_vpc);
}

/* Share of apps installing the most popular package of a kind, drawn K
 * times with replacement from a Zipf law over N packages:
 * 1 - (1 - 1/H(N, s))^K. */
static double zipf_head_share(uint64_t n, double s, uint64_t k)
{
    double h = 0.0;
    for (uint64_t i = 1; i <= n; i++)
        h += pow((double)i, -s);
    return 1.0 - pow(1.0 - 1.0 / h, (double)k);
}

static void cloud_zipf_head_install_share(void **state)
{
    (void)state;
    const tc_topology *t = cloud;
    assert_non_null(t);
    tc_cloud_params p;
    test_params(&p);
    uint32_t library = tc_names_find(&t->packages, "lib-00001");
    uint32_t infra = tc_names_find(&t->packages, "infra-001");
    assert_int_not_equal(library, TC_NAME_NONE);
    assert_int_not_equal(infra, TC_NAME_NONE);
    assert_int_equal(t->package_popularity[library], 1);
    assert_int_equal(t->package_popularity[infra], 1);

    uint64_t *first = first_workload_of_apps(t);
    uint64_t library_hits = 0, library_apps = 0, infra_hits = 0;
    for (uint32_t a = 0; a < t->apps.count; a++) {
        uint64_t w = first[a];
        bool has_library = false, has_infra = false;
        for (uint64_t j = t->install_offsets[w]; j < t->install_offsets[w + 1]; j++) {
            has_library |= t->install_packages[j] == library;
            has_infra |= t->install_packages[j] == infra;
        }
        if (t->tier[w] != TC_TIER_CI) {
            library_apps++;
            library_hits += has_library;
        }
        infra_hits += has_infra;
    }
    assert_share_near("apps installing lib-00001", library_hits, library_apps,
                      zipf_head_share(p.libraries, p.package_zipf_exponent, p.libraries_per_app));
    assert_share_near("apps installing infra-001", infra_hits, t->apps.count,
                      zipf_head_share(p.infra_libraries, p.package_zipf_exponent, p.infra_per_app));
    free(first);
}

/* ---- parameters ---- */

static void cloud_param_table_is_consistent(void **state)
{
    (void)state;
    const tc_generator_desc *g = &tc_cloud_generator;
    assert_string_equal(g->name, "cloud");
    assert_int_equal(g->params_size, sizeof(tc_cloud_params));
    tc_cloud_params defaults;
    tc_cloud_params_default(&defaults);
    for (size_t i = 0; i < g->n_params; i++) {
        const tc_param_desc *d = &g->params[i];
        assert_true(d->min <= d->default_value && d->default_value <= d->max);
        assert_true(d->offset < sizeof(tc_cloud_params));
        assert_non_null(d->unit);
        assert_true(d->source && d->source[0]);
        assert_true(d->doc && d->doc[0]);
        for (size_t j = 0; j < i; j++) {
            assert_true(d->offset != g->params[j].offset);
            assert_string_not_equal(d->name, g->params[j].name);
        }
    }
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_cloud_params_check(&defaults, "s.yaml", &err), TC_OK);
}

static void cloud_rejects_too_few_workloads(void **state)
{
    (void)state;
    tc_cloud_params p;
    test_params(&p);
    p.tenants = 4;
    p.workloads = 4 * tc_cloud_min_tenant_workloads(&p) - 1;
    tc_error err;
    tc_error_clear(&err);
    tc_topology *t = (tc_topology *)&p; /* must be reset to NULL */
    assert_int_equal(tc_cloud_generate(&p, TEST_SEED, MPI_COMM_WORLD, &t, &err), TC_ERR_INPUT);
    assert_null(t);
    assert_string_equal(err.key, "topology.params.workloads");
    assert_non_null(strstr(err.message, "too few"));
}

static void cloud_rejects_shares_above_one(void **state)
{
    (void)state;
    tc_cloud_params p;
    test_params(&p);
    p.prod_share = 0.7;
    p.staging_share = 0.4;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_cloud_params_check(&p, "s.yaml", &err), TC_ERR_INPUT);
    assert_string_equal(err.file, "s.yaml");
    assert_string_equal(err.key, "topology.params.staging_share");

    test_params(&p);
    p.api_instances_per_callee = 0;
    tc_error_clear(&err);
    assert_int_equal(tc_cloud_params_check(&p, "s.yaml", &err), TC_ERR_INPUT);
    assert_string_equal(err.key, "topology.params.api_instances_per_callee");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tc_cloud_params p;
    test_params(&p);
    if (generate_self(TEST_SEED, &p, &cloud) != TC_OK)
        cloud = NULL; /* every test that reads it fails on assert_non_null */

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cloud_workload_count_exact),
        cmocka_unit_test(cloud_ids_in_range),
        cmocka_unit_test(cloud_app_instances_share_attributes),
        cmocka_unit_test(cloud_names_follow_scheme),
        cmocka_unit_test(cloud_crown_jewels_on_right_tiers),
        cmocka_unit_test(cloud_exposure_invariants),
        cmocka_unit_test(cloud_api_calls_allowed_by_base_rules),
        cmocka_unit_test(cloud_secrets_manager_is_hub),
        cmocka_unit_test(cloud_ci_and_admin_principals),
        cmocka_unit_test(cloud_same_seed_same_topology),
        cmocka_unit_test(cloud_other_seed_differs),
        cmocka_unit_test(cloud_three_ranges_equal_one),
        cmocka_unit_test(cloud_world_equals_self),
        cmocka_unit_test(cloud_app_size_sampler_mean),
        cmocka_unit_test(cloud_mean_app_size_near_parameter),
        cmocka_unit_test(cloud_role_shares_near_parameters),
        cmocka_unit_test(cloud_principal_reuse_share),
        cmocka_unit_test(cloud_open_east_west_share),
        cmocka_unit_test(cloud_zipf_head_install_share),
        cmocka_unit_test(cloud_param_table_is_consistent),
        cmocka_unit_test(cloud_rejects_too_few_workloads),
        cmocka_unit_test(cloud_rejects_shares_above_one),
    };
    int failed = tc_test_run_mpi(tests);
    tc_topology_free(cloud);
    MPI_Finalize();
    return failed;
}
