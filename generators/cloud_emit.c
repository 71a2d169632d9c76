/*
 * cloud_emit.c - emitting a cloud plan through the topology builder: the
 * replicated hub layer on every rank, then each rank's own workloads.
 *
 * Names (every part is a zero-padded index):
 *   tenant     t03
 *   account    t03/a012            (a000 is the tenant's core account)
 *   vpc        t03/a012/v1
 *   subnet     t03/a012/v1/private-b   (kind public, private or data, then the zone letter)
 *   segment    t03/a012/v1/web         (one per tier present in the VPC)
 *   app        t03/a012/v1/api-2       (tier and index among the VPC's apps of that tier)
 *   principal  t03/a012/v1/api-2/sa    (named after the app that created it)
 *              t03/admin-role
 *   package    lib-00001, cicd-001, infra-001 (1 = most popular by draw weight)
 */
#include "cloud_plan.h"

#include <stdio.h>
#include <string.h>

#include "rng.h"

/* Buffer sizes that hold the longest names with 32-bit indices. */
#define VPC_NAME_BYTES 48
#define APP_NAME_BYTES 96
#define NAME_MAX_BYTES 128

static const char *const subnet_kind_names[CLOUD_SUBNET_KIND_COUNT] = { "public", "private",
                                                                        "data" };

static enum cloud_subnet_kind subnet_kind_of(uint8_t tier)
{
    switch (tier) {
    case TC_TIER_EDGE:
    case TC_TIER_WEB:
        return CLOUD_SUBNET_PUBLIC;
    case TC_TIER_DATA:
    case TC_TIER_CACHE:
    case TC_TIER_QUEUE:
        return CLOUD_SUBNET_DATA;
    default:
        return CLOUD_SUBNET_PRIVATE;
    }
}

void tc_cloud_name_tenant(char *buf, size_t n, uint32_t tenant)
{
    snprintf(buf, n, "t%02u", tenant);
}

void tc_cloud_name_account(const cloud_plan *plan, char *buf, size_t n, uint32_t account)
{
    const cloud_account *a = &plan->accounts[account];
    snprintf(buf, n, "t%02u/a%03u", a->tenant, a->index);
}

void tc_cloud_name_vpc(const cloud_plan *plan, char *buf, size_t n, uint32_t vpc)
{
    const cloud_vpc *v = &plan->vpcs[vpc];
    const cloud_account *a = &plan->accounts[v->account];
    snprintf(buf, n, "t%02u/a%03u/v%u", a->tenant, a->index, v->index);
}

static void name_app(const cloud_plan *plan, char *buf, size_t n, uint32_t app)
{
    const cloud_app *a = &plan->apps[app];
    char vpc[VPC_NAME_BYTES];
    tc_cloud_name_vpc(plan, vpc, sizeof vpc, a->vpc);
    snprintf(buf, n, "%s/%s-%u", vpc, tc_tier_names[a->tier], a->index);
}

static void name_principal(const cloud_plan *plan, char *buf, size_t n, uint32_t principal)
{
    const cloud_principal *p = &plan->principals[principal];
    if (p->app == UINT32_MAX) {
        snprintf(buf, n, "t%02u/admin-role", p->tenant);
        return;
    }
    char app[APP_NAME_BYTES];
    name_app(plan, app, sizeof app, p->app);
    snprintf(buf, n, "%s/sa", app);
}

static void name_package(const cloud_plan *plan, char *buf, size_t n, uint32_t package)
{
    if (package < plan->first_cicd)
        snprintf(buf, n, "lib-%05u", package + 1);
    else if (package < plan->first_infra)
        snprintf(buf, n, "cicd-%03u", package - plan->first_cicd + 1);
    else
        snprintf(buf, n, "infra-%03u", package - plan->first_infra + 1);
}

/* Check that the builder gave NAME the id the plan expects (invariant 5
 * of cloud_plan.h); a mismatch is a bug here, not an input error. */
static int expect_id(uint32_t got, uint32_t expected, const char *what, const char *name,
                     tc_error *err)
{
    if (got == TC_NAME_NONE)
        return err->code != TC_OK ? err->code
                                  : tc_error_runtime(err, "cloud generator: adding %s '%s' failed",
                                                     what, name);
    if (got != expected)
        return tc_error_runtime(err, "cloud generator: %s '%s' got id %u instead of %u", what,
                                name, got, expected);
    return TC_OK;
}

/* Tenants, accounts, VPCs, subnets and apps: the attribute tables. */
static int emit_attribute_names(const cloud_plan *plan, tc_topology *t, tc_error *err)
{
    char name[NAME_MAX_BYTES];
    for (uint32_t i = 0; i < plan->n_tenants; i++) {
        tc_cloud_name_tenant(name, sizeof name, i);
        if (expect_id(tc_topology_intern(t, &t->tenants, name, err), i, "tenant", name, err))
            return err->code;
    }
    for (uint32_t i = 0; i < plan->n_accounts; i++) {
        tc_cloud_name_account(plan, name, sizeof name, i);
        if (expect_id(tc_topology_intern(t, &t->accounts, name, err), i, "account", name, err))
            return err->code;
    }
    uint32_t zones = (uint32_t)plan->params.zones;
    for (uint32_t v = 0; v < plan->n_vpcs; v++) {
        char vpc[VPC_NAME_BYTES];
        tc_cloud_name_vpc(plan, vpc, sizeof vpc, v);
        if (expect_id(tc_topology_intern(t, &t->vpcs, vpc, err), v, "vpc", vpc, err))
            return err->code;
        for (uint32_t k = 0; k < CLOUD_SUBNET_KIND_COUNT; k++)
            for (uint32_t z = 0; z < zones; z++) {
                snprintf(name, sizeof name, "%s/%s-%c", vpc, subnet_kind_names[k], 'a' + (int)z);
                uint32_t expected = plan->vpcs[v].first_subnet + k * zones + z;
                if (expect_id(tc_topology_intern(t, &t->subnets, name, err), expected, "subnet",
                              name, err))
                    return err->code;
            }
    }
    for (uint32_t i = 0; i < plan->n_apps; i++) {
        name_app(plan, name, sizeof name, i);
        if (expect_id(tc_topology_intern(t, &t->apps, name, err), i, "app", name, err))
            return err->code;
    }
    return TC_OK;
}

int tc_cloud_plan_emit_hubs(const cloud_plan *plan, tc_topology *t, tc_error *err)
{
    char name[NAME_MAX_BYTES];
    if (emit_attribute_names(plan, t, err) != TC_OK)
        return err->code;

    for (uint32_t s = 0; s < plan->n_segments; s++) {
        char vpc[VPC_NAME_BYTES];
        tc_cloud_name_vpc(plan, vpc, sizeof vpc, plan->segment_vpc[s]);
        snprintf(name, sizeof name, "%s/%s", vpc, tc_tier_names[plan->segment_tier[s]]);
        if (expect_id(tc_topology_add_segment(t, name, err), s, "segment", name, err))
            return err->code;
    }
    for (uint32_t i = 0; i < plan->n_principals; i++) {
        name_principal(plan, name, sizeof name, i);
        if (expect_id(tc_topology_add_principal(t, name, err), i, "principal", name, err))
            return err->code;
    }
    for (uint32_t i = 0; i < plan->n_packages; i++) {
        enum tc_package_kind kind = i < plan->first_cicd    ? TC_PKG_LIBRARY
                                    : i < plan->first_infra ? TC_PKG_CICD
                                                            : TC_PKG_INFRA;
        name_package(plan, name, sizeof name, i);
        if (expect_id(tc_topology_add_package(t, name, kind, err), i, "package", name, err))
            return err->code;
    }

    for (uint64_t r = 0; r < plan->n_base_rules; r++) {
        const tc_base_rule *rule = &plan->base_rules[r];
        if (tc_topology_add_base_rule(t, rule->from_segment, rule->to_segment, rule->services,
                                      err) != TC_OK)
            return err->code;
    }
    for (uint32_t i = 0; i < plan->n_assumes; i++)
        if (tc_topology_add_assume(t, plan->assumes[i].from, plan->assumes[i].to, err) != TC_OK)
            return err->code;
    for (uint32_t i = 0; i < plan->n_publishes; i++)
        if (tc_topology_add_publish(t, plan->publishes[i].from, plan->publishes[i].to, err) !=
            TC_OK)
            return err->code;
    return TC_OK;
}

/* Attributes shared by every instance of app A; the subnet is set per
 * instance. */
static tc_workload_spec spec_of_app(const cloud_plan *plan, uint32_t a)
{
    const cloud_app *app = &plan->apps[a];
    const cloud_vpc *vpc = &plan->vpcs[app->vpc];
    const cloud_account *account = &plan->accounts[vpc->account];
    return (tc_workload_spec){
        .tenant = account->tenant,
        .account = vpc->account,
        .vpc = app->vpc,
        .segment = vpc->segment[app->tier],
        .app = a,
        .principal = app->principal,
        .env = account->env,
        .tier = app->tier,
        .crown = app->crown,
        .internet_facing = (app->flags & CLOUD_APP_INTERNET_FACING) != 0,
        .exposed = app->exposed,
        .exploitable = app->exploitable,
    };
}

/* API edges of workload GID of app A: api_instances_per_callee instances
 * of each callee app (all of them when it has fewer), consecutive from an
 * offset hashed from (GID, callee), so they are distinct and spread. */
static int emit_api_edges(const cloud_plan *plan, uint32_t a, uint64_t gid, tc_topology *t,
                          tc_error *err)
{
    for (uint32_t j = plan->call_offsets[a]; j < plan->call_offsets[a + 1]; j++) {
        uint32_t c = plan->call_callees[j];
        const cloud_app *callee = &plan->apps[c];
        uint64_t m = plan->params.api_instances_per_callee;
        if (m > callee->size)
            m = callee->size;
        uint64_t start = tc_rng_below(plan->seed, CLOUD_STREAM_API_INSTANCE, gid, c, callee->size);
        for (uint64_t q = 0; q < m; q++) {
            uint64_t target = callee->first + (start + q) % callee->size;
            if (tc_topology_add_api_edge(t, gid, target, callee->service,
                                         (enum tc_trust)plan->call_trust[j], err) != TC_OK)
                return err->code;
        }
    }
    return TC_OK;
}

int tc_cloud_plan_emit_workloads(const cloud_plan *plan, uint64_t first, uint64_t count,
                                 tc_topology *t, tc_error *err)
{
    if (count == 0)
        return TC_OK;
    uint32_t zones = (uint32_t)plan->params.zones;
    uint32_t a = tc_cloud_plan_app_of(plan, first);
    tc_workload_spec spec = spec_of_app(plan, a);
    uint32_t subnet_base = plan->vpcs[plan->apps[a].vpc].first_subnet +
                           subnet_kind_of(plan->apps[a].tier) * zones;

    for (uint64_t gid = first; gid < first + count; gid++) {
        while (gid >= plan->apps[a].first + plan->apps[a].size) {
            a++;
            spec = spec_of_app(plan, a);
            subnet_base = plan->vpcs[plan->apps[a].vpc].first_subnet +
                          subnet_kind_of(plan->apps[a].tier) * zones;
        }

        /* Instances are spread over the zones in turn. */
        spec.subnet = subnet_base + (uint32_t)((gid - plan->apps[a].first) % zones);
        if (tc_topology_set_workload(t, gid, &spec, err) != TC_OK)
            return err->code;

        for (uint32_t j = plan->install_offsets[a]; j < plan->install_offsets[a + 1]; j++)
            if (tc_topology_add_install(t, gid, plan->install_packages[j], err) != TC_OK)
                return err->code;

        if (emit_api_edges(plan, a, gid, t, err) != TC_OK)
            return err->code;

        for (uint32_t j = plan->grant_offsets[a]; j < plan->grant_offsets[a + 1]; j++) {
            const cloud_grant *g = &plan->grants[j];
            if (tc_topology_add_grant(t, g->principal, gid, g->services, g->gated != 0, err) !=
                TC_OK)
                return err->code;
        }
    }
    return TC_OK;
}
