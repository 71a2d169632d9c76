/*
 * cloud_plan.c - the replicated skeleton of the cloud generator: tenants,
 * accounts, VPCs, apps, segments, app attributes, principals and packages.
 * The call graph, grants and base rules are in cloud_links.c, helpers in
 * cloud_draw.c. See cloud_plan.h for the invariants and docs/generator.md
 * for the model.
 *
 * Every draw is keyed by what it decides: a tenant's apps by (tenant, index
 * of the app in the tenant), an app's attributes by its id. So the plan is
 * the same on every rank without any communication.
 */
#include "cloud_plan.h"
#include "cloud_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* Lognormal sigma of account sizes within a tenant (assumption). */
#define ACCOUNT_SIZE_SIGMA 1.0
/* Minimum mean number of apps per workload account, so that small tenants
 * get fewer accounts than accounts_per_tenant rather than one-app accounts
 * (assumption). */
#define MIN_ACCOUNT_APPS 4.0

/* Tier of an app given its role: cumulative shares (assumption). */
static const struct {
    uint8_t tier;
    double cumulative;
} role_tiers[CLOUD_ROLE_LEAF + 1][3] = {
    [CLOUD_ROLE_ENTRY] = { { TC_TIER_EDGE, 0.3 }, { TC_TIER_WEB, 1.0 }, { TC_TIER_WEB, 1.0 } },
    [CLOUD_ROLE_MIDDLE] = { { TC_TIER_API, 0.7 }, { TC_TIER_WORKER, 1.0 },
                            { TC_TIER_WORKER, 1.0 } },
    [CLOUD_ROLE_LEAF] = { { TC_TIER_DATA, 0.5 }, { TC_TIER_CACHE, 0.75 }, { TC_TIER_QUEUE, 1.0 } },
};

/* Main service of data, cache, queue and api apps: cumulative shares
 * (assumption). */
typedef struct service_share {
    uint8_t service; /* enum cloud_svc */
    double cumulative;
} service_share;

static const service_share data_services[] = {
    { SVC_POSTGRES, 0.40 }, { SVC_MYSQL, 0.65 }, { SVC_MONGODB, 0.80 },
    { SVC_ELASTICSEARCH, 0.90 }, { SVC_OBJECT_STORAGE, 1.0 },
};
static const service_share cache_services[] = { { SVC_REDIS, 0.7 }, { SVC_MEMCACHED, 1.0 } };
static const service_share queue_services[] = { { SVC_KAFKA, 0.6 }, { SVC_AMQP, 1.0 } };
static const service_share api_services[] = { { SVC_GRPC, 0.5 }, { SVC_HTTP, 1.0 } };

static const char *const svc_names[SVC_COUNT] = {
    [SVC_SSH] = "ssh", [SVC_RDP] = "rdp", [SVC_HTTP] = "http", [SVC_HTTPS] = "https",
    [SVC_GRPC] = "grpc", [SVC_POSTGRES] = "postgres", [SVC_MYSQL] = "mysql",
    [SVC_MONGODB] = "mongodb", [SVC_ELASTICSEARCH] = "elasticsearch",
    [SVC_OBJECT_STORAGE] = "object-storage", [SVC_REDIS] = "redis",
    [SVC_MEMCACHED] = "memcached", [SVC_KAFKA] = "kafka", [SVC_AMQP] = "amqp",
    [SVC_VAULT] = "vault", [SVC_CI_RUNNER] = "ci-runner", [SVC_ADMIN_API] = "admin-api",
    [SVC_K8S_API] = "k8s-api", [SVC_BILLING_API] = "billing-api",
};

/* ---- helpers ---- */

static uint8_t pick_share(const service_share *table, size_t n, double u)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (u < table[i].cumulative)
            return table[i].service;
    return table[n - 1].service;
}

uint32_t tc_cloud_plan_app_of(const cloud_plan *plan, uint64_t gid)
{
    uint32_t lo = 0, hi = plan->n_apps - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (plan->apps[mid].first <= gid)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* ---- layout: tenants, accounts, VPCs, apps ---- */

static int builder_add_app(cloud_builder *b, uint8_t role, uint8_t tier, uint32_t size)
{
    cloud_plan *plan = b->plan;
    if (plan->n_apps == UINT32_MAX - 1 ||
        cloud_grow(&plan->apps, &b->cap_apps, (size_t)plan->n_apps + 1, sizeof *plan->apps) != 0)
        return -1;
    cloud_app *app = &plan->apps[plan->n_apps++];
    memset(app, 0, sizeof *app);
    app->role = role;
    app->tier = tier;
    app->size = size;
    return 0;
}

static int builder_add_vpc(cloud_builder *b, uint32_t account, uint32_t index, uint64_t key)
{
    cloud_plan *plan = b->plan;
    if (cloud_grow(&plan->vpcs, &b->cap_vpcs, (size_t)plan->n_vpcs + 1, sizeof *plan->vpcs) != 0)
        return -1;
    cloud_vpc *vpc = &plan->vpcs[plan->n_vpcs++];
    memset(vpc, 0, sizeof *vpc);
    vpc->account = account;
    vpc->index = index;
    vpc->legacy_open = tc_rng_unit(b->seed, CLOUD_STREAM_LEGACY, key, index) <
                       plan->params.legacy_open_east_west;
    return 0;
}

/* Sort the apps [FIRST, FIRST + N) of VPC by tier, keeping their drawn
 * order within a tier. Then give them their VPC, tier index and workload
 * ids, and record the VPC's tier ranges. */
static int builder_finish_vpc(cloud_builder *b, uint32_t vpc_id, uint32_t first, uint32_t n)
{
    cloud_plan *plan = b->plan;
    if (cloud_grow(&b->scratch_apps, &b->cap_scratch_apps, n, sizeof *b->scratch_apps) != 0)
        return -1;
    memcpy(b->scratch_apps, plan->apps + first, (size_t)n * sizeof *b->scratch_apps);

    cloud_vpc *vpc = &plan->vpcs[vpc_id];
    uint32_t count[TC_TIER_COUNT] = { 0 };
    for (uint32_t i = 0; i < n; i++)
        count[b->scratch_apps[i].tier]++;
    vpc->tier_first[0] = first;
    for (int k = 0; k < TC_TIER_COUNT; k++)
        vpc->tier_first[k + 1] = vpc->tier_first[k] + count[k];

    uint32_t next[TC_TIER_COUNT];
    memcpy(next, vpc->tier_first, sizeof next);
    for (uint32_t i = 0; i < n; i++) {
        cloud_app app = b->scratch_apps[i];
        uint32_t id = next[app.tier]++;
        app.vpc = vpc_id;
        app.index = id - vpc->tier_first[app.tier];
        plan->apps[id] = app;
    }

    /* Workload ids follow app ids. */
    for (uint32_t i = first; i < first + n; i++) {
        plan->apps[i].first = b->next_workload;
        b->next_workload += plan->apps[i].size;
    }
    return 0;
}

static int builder_add_account(cloud_builder *b, uint32_t tenant, uint32_t index, uint8_t env)
{
    cloud_plan *plan = b->plan;
    if (cloud_grow(&plan->accounts, &b->cap_accounts, (size_t)plan->n_accounts + 1,
                   sizeof *plan->accounts) != 0)
        return -1;
    cloud_account *account = &plan->accounts[plan->n_accounts++];
    memset(account, 0, sizeof *account);
    account->tenant = tenant;
    account->index = index;
    account->env = env;
    account->first_vpc = plan->n_vpcs;
    account->first_app = plan->n_apps;
    return 0;
}

/* Split the apps of the last account into VPCs and finish each. */
static int builder_split_account(cloud_builder *b, uint32_t tenant)
{
    cloud_plan *plan = b->plan;
    uint32_t account_id = plan->n_accounts - 1;
    cloud_account *account = &plan->accounts[account_id];
    account->n_apps = plan->n_apps - account->first_app;

    uint64_t key = cloud_key(tenant, account->index);
    double u = tc_rng_unit(b->seed, CLOUD_STREAM_VPC_COUNT, key, 0);
    uint32_t n_vpcs = 1 + (uint32_t)(u * (2.0 * plan->params.vpcs_per_account - 1.0));
    if (account->index == 0)
        n_vpcs = 1;
    if (n_vpcs > account->n_apps)
        n_vpcs = account->n_apps;

    for (uint32_t v = 0; v < n_vpcs; v++) {
        uint32_t lo = (uint32_t)((uint64_t)account->n_apps * v / n_vpcs);
        uint32_t hi = (uint32_t)((uint64_t)account->n_apps * (v + 1) / n_vpcs);
        if (builder_add_vpc(b, account_id, v, key) != 0)
            return -1;
        if (builder_finish_vpc(b, plan->n_vpcs - 1, account->first_app + lo, hi - lo) != 0)
            return -1;
    }
    account = &plan->accounts[account_id];
    account->n_vpcs = n_vpcs;
    return 0;
}

static uint8_t draw_role(const tc_cloud_params *p, double u)
{
    if (u < p->role_entry_share)
        return CLOUD_ROLE_ENTRY;
    if (u < p->role_entry_share + p->role_middle_share)
        return CLOUD_ROLE_MIDDLE;
    return CLOUD_ROLE_LEAF;
}

static uint8_t draw_tier(uint8_t role, double u)
{
    for (int i = 0; i < 2; i++)
        if (u < role_tiers[role][i].cumulative)
            return role_tiers[role][i].tier;
    return role_tiers[role][2].tier;
}

/* The core account: one prod VPC with the secrets manager, the CI apps,
 * the admin hosts and billing, at the sizes in CORE. */
static int builder_add_core(cloud_builder *b, uint32_t t, const uint32_t core[4])
{
    cloud_plan *plan = b->plan;
    cloud_tenant *tenant = &plan->tenants[t];
    const tc_cloud_params *p = &plan->params;

    if (builder_add_account(b, t, 0, TC_ENV_PROD) != 0)
        return -1;
    uint32_t first = plan->n_apps;
    if (builder_add_app(b, CLOUD_ROLE_CORE, TC_TIER_SECRETS, core[0]) != 0)
        return -1;
    for (uint64_t i = 0; i < p->ci_apps; i++)
        if (builder_add_app(b, CLOUD_ROLE_CORE, TC_TIER_CI, core[1]) != 0)
            return -1;
    if (builder_add_app(b, CLOUD_ROLE_CORE, TC_TIER_ADMIN, core[2]) != 0 ||
        builder_add_app(b, CLOUD_ROLE_CORE, TC_TIER_BILLING, core[3]) != 0)
        return -1;
    if (builder_split_account(b, t) != 0)
        return -1;

    /* Tier order puts secrets, ci, admin, billing in that order. */
    tenant->secrets_app = first;
    tenant->first_ci_app = first + 1;
    tenant->n_ci_apps = (uint32_t)p->ci_apps;
    tenant->admin_app = first + 1 + (uint32_t)p->ci_apps;
    tenant->billing_app = tenant->admin_app + 1;
    return 0;
}

/* Lognormal weight of workload account K (1-based) of tenant T. */
static double account_weight(const cloud_builder *b, uint32_t t, uint32_t k)
{
    return exp(ACCOUNT_SIZE_SIGMA *
               cloud_draw_normal(b->seed, CLOUD_STREAM_ACCOUNT_SIZE, cloud_key(t, k), 0));
}

/* Build tenant T with BUDGET workloads: its core account, then workload
 * accounts filled with apps in order. Account k takes apps until the
 * tenant's running total reaches the cumulative target of accounts 1..k,
 * and always takes at least one app. A tenant whose workloads run out
 * early ends up with fewer accounts than planned. */
static int builder_add_tenant(cloud_builder *b, uint32_t t, uint64_t budget)
{
    cloud_plan *plan = b->plan;
    const tc_cloud_params *p = &plan->params;
    cloud_tenant *tenant = &plan->tenants[t];
    tenant->first_workload = b->next_workload;
    tenant->n_workloads = budget;
    tenant->first_account = plan->n_accounts;
    tenant->first_app = plan->n_apps;

    /* Core apps; a small tenant gets the minimum sizes. */
    uint32_t ci_size =
        (uint32_t)fmax(1.0, llround(p->ci_share * (double)budget / (double)p->ci_apps));
    uint32_t admin_size = (uint32_t)fmax(1.0, llround(p->admin_share * (double)budget));
    uint32_t billing_size = tc_cloud_draw_app_size(p, b->seed, CLOUD_ROLE_MIDDLE,
                                                   cloud_key(t, UINT32_MAX));
    uint64_t core_total = p->secrets_instances + (uint64_t)ci_size * p->ci_apps + admin_size +
                          billing_size;
    if (core_total + 1 > budget) {
        ci_size = admin_size = billing_size = 1;
        core_total = p->secrets_instances + p->ci_apps + 2;
    }
    uint32_t core[4] = { (uint32_t)p->secrets_instances, ci_size, admin_size, billing_size };
    if (builder_add_core(b, t, core) != 0)
        return -1;

    /* Workload accounts: the planned count scales with the tenant's size
     * so that the mean over tenants is accounts_per_tenant. */
    uint64_t rest = budget - core_total;
    double planned = (double)p->accounts_per_tenant * (double)budget * (double)p->tenants /
                     (double)p->workloads;
    uint64_t n_work = planned < 2.0 ? 1 : (uint64_t)llround(planned) - 1;
    double mean_size = p->role_entry_share * p->app_size_entry +
                       p->role_middle_share * p->app_size_middle +
                       (1.0 - p->role_entry_share - p->role_middle_share) * p->app_size_leaf;
    double fitting = floor((double)rest / (MIN_ACCOUNT_APPS * mean_size));
    if ((double)n_work > fitting)
        n_work = fitting < 1.0 ? 1 : (uint64_t)fitting;
    double weight_total = 0.0;
    for (uint64_t k = 1; k <= n_work; k++)
        weight_total += account_weight(b, t, (uint32_t)k);

    uint64_t filled = 0;
    uint32_t app_local = 0;
    double weight_cumulative = 0.0;
    for (uint64_t k = 1; k <= n_work && filled < rest; k++) {
        weight_cumulative += account_weight(b, t, (uint32_t)k);
        /* Rounding may push the ratio past 1, so clamp to the budget. */
        uint64_t target = (uint64_t)((double)rest * (weight_cumulative / weight_total));
        if (k == n_work || target > rest)
            target = rest;
        double u_env = tc_rng_unit(b->seed, CLOUD_STREAM_ACCOUNT_ENV, cloud_key(t, (uint32_t)k), 0);
        uint8_t env = u_env < p->prod_share                      ? TC_ENV_PROD
                      : u_env < p->prod_share + p->staging_share ? TC_ENV_STAGING
                                                                 : TC_ENV_DEV;
        if (builder_add_account(b, t, (uint32_t)k, env) != 0)
            return -1;
        do {
            uint64_t key = cloud_key(t, app_local++);
            uint8_t role = draw_role(p, tc_rng_unit(b->seed, CLOUD_STREAM_APP_ROLE, key, 0));
            uint8_t tier = draw_tier(role, tc_rng_unit(b->seed, CLOUD_STREAM_APP_TIER, key, 0));
            uint64_t size = tc_cloud_draw_app_size(p, b->seed, role, key);
            if (size > rest - filled)
                size = rest - filled;
            if (builder_add_app(b, role, tier, (uint32_t)size) != 0)
                return -1;
            filled += size;
        } while (filled < target);
        if (builder_split_account(b, t) != 0)
            return -1;
    }

    tenant = &plan->tenants[t];
    tenant->n_accounts = plan->n_accounts - tenant->first_account;
    tenant->n_apps = plan->n_apps - tenant->first_app;
    return 0;
}

/* Split the workloads over tenants by lognormal weights. Each tenant gets
 * the minimum first, then its share of the rest, rounded by cumulative
 * floors so that the budgets add up exactly. */
static int builder_layout(cloud_builder *b)
{
    cloud_plan *plan = b->plan;
    const tc_cloud_params *p = &plan->params;
    uint32_t n_tenants = (uint32_t)p->tenants;
    plan->tenants = calloc(n_tenants, sizeof *plan->tenants);
    double *weight = malloc(n_tenants * sizeof *weight);
    if (!plan->tenants || !weight) {
        free(weight);
        return -1;
    }
    plan->n_tenants = n_tenants;

    double total = 0.0;
    for (uint32_t t = 0; t < n_tenants; t++) {
        double z = cloud_draw_normal(b->seed, CLOUD_STREAM_TENANT_SIZE, t, 0);
        weight[t] = exp(p->tenant_size_sigma * z);
        total += weight[t];
    }
    uint64_t minimum = tc_cloud_min_tenant_workloads(p);
    uint64_t extra = p->workloads - minimum * n_tenants;
    double cumulative = 0.0;
    uint64_t assigned = 0;
    int status = 0;
    for (uint32_t t = 0; t < n_tenants && status == 0; t++) {
        cumulative += weight[t];
        uint64_t upto = (uint64_t)((double)extra * (cumulative / total));
        if (t + 1 == n_tenants || upto > extra)
            upto = extra;
        if (upto < assigned)
            upto = assigned;
        status = builder_add_tenant(b, t, minimum + upto - assigned);
        assigned = upto;
    }
    free(weight);
    return status;
}

/* Segments (one per VPC and tier present), subnets and the data, cache and
 * queue apps of each account. */
static int builder_index(cloud_builder *b)
{
    cloud_plan *plan = b->plan;
    uint32_t zones = (uint32_t)plan->params.zones;

    uint32_t n_segments = 0;
    for (uint32_t v = 0; v < plan->n_vpcs; v++)
        for (int k = 0; k < TC_TIER_COUNT; k++)
            n_segments += plan->vpcs[v].tier_first[k + 1] > plan->vpcs[v].tier_first[k];
    plan->segment_vpc = malloc((n_segments ? n_segments : 1) * sizeof *plan->segment_vpc);
    plan->segment_tier = malloc(n_segments ? n_segments : 1);
    plan->stateful_apps = malloc((plan->n_apps ? plan->n_apps : 1) * sizeof *plan->stateful_apps);
    if (!plan->segment_vpc || !plan->segment_tier || !plan->stateful_apps)
        return -1;

    uint32_t s = 0;
    for (uint32_t v = 0; v < plan->n_vpcs; v++) {
        cloud_vpc *vpc = &plan->vpcs[v];
        vpc->first_subnet = v * CLOUD_SUBNET_KIND_COUNT * zones;
        for (int k = 0; k < TC_TIER_COUNT; k++) {
            vpc->segment[k] = TC_NAME_NONE;
            if (vpc->tier_first[k + 1] > vpc->tier_first[k]) {
                plan->segment_vpc[s] = v;
                plan->segment_tier[s] = (uint8_t)k;
                vpc->segment[k] = s++;
            }
        }
    }
    plan->n_segments = n_segments;
    plan->n_subnets = plan->n_vpcs * CLOUD_SUBNET_KIND_COUNT * zones;

    for (uint32_t a = 0; a < plan->n_accounts; a++) {
        cloud_account *account = &plan->accounts[a];
        account->first_stateful = plan->n_stateful;
        for (uint32_t i = account->first_app; i < account->first_app + account->n_apps; i++)
            if (cloud_tier_is_stateful(plan->apps[i].tier))
                plan->stateful_apps[plan->n_stateful++] = i;
        account->n_stateful = plan->n_stateful - account->first_stateful;
    }
    return 0;
}

/* ---- app attributes ---- */

static void builder_app_attributes(cloud_builder *b)
{
    cloud_plan *plan = b->plan;
    const tc_cloud_params *p = &plan->params;
    const uint8_t *svc = b->svc;

    for (uint32_t a = 0; a < plan->n_apps; a++) {
        cloud_app *app = &plan->apps[a];
        uint8_t env = plan->accounts[plan->vpcs[app->vpc].account].env;
        double u = tc_rng_unit(b->seed, CLOUD_STREAM_APP_SERVICE, a, 0);
        uint8_t main_service;
        switch (app->tier) {
        case TC_TIER_EDGE: main_service = SVC_HTTPS; break;
        case TC_TIER_WEB: main_service = SVC_HTTP; break;
        case TC_TIER_API: main_service = pick_share(api_services, 2, u); break;
        case TC_TIER_WORKER: main_service = SVC_GRPC; break;
        case TC_TIER_DATA: main_service = pick_share(data_services, 5, u); break;
        case TC_TIER_CACHE: main_service = pick_share(cache_services, 2, u); break;
        case TC_TIER_QUEUE: main_service = pick_share(queue_services, 2, u); break;
        case TC_TIER_SECRETS: main_service = SVC_VAULT; break;
        case TC_TIER_CI: main_service = SVC_CI_RUNNER; break;
        case TC_TIER_ADMIN: main_service = SVC_SSH; break;
        default: main_service = SVC_BILLING_API; break;
        }
        app->service = svc[main_service];

        /* Listening services: the tier's own, then SSH and RDP at the
         * shares of VMs that have them open to the internet. */
        tc_svcmask exposed = (tc_svcmask)1 << app->service;
        if (app->tier == TC_TIER_EDGE || app->tier == TC_TIER_WEB)
            exposed |= ((tc_svcmask)1 << svc[SVC_HTTP]) | ((tc_svcmask)1 << svc[SVC_HTTPS]);
        if (tc_rng_unit(b->seed, CLOUD_STREAM_APP_EXPOSURE, a, 0) < p->ssh_exposed)
            exposed |= (tc_svcmask)1 << svc[SVC_SSH];
        if (tc_rng_unit(b->seed, CLOUD_STREAM_APP_EXPOSURE, a, 1) < p->rdp_exposed)
            exposed |= (tc_svcmask)1 << svc[SVC_RDP];
        app->exposed = exposed;

        app->exploitable = 0;
        for (unsigned s = 0; s < TC_SERVICE_COUNT; s++)
            if ((exposed >> s & 1) &&
                tc_rng_unit(b->seed, CLOUD_STREAM_APP_EXPLOIT, a, s) < p->exploitable_share)
                app->exploitable |= (tc_svcmask)1 << s;

        if (app->tier == TC_TIER_EDGE ||
            (app->tier == TC_TIER_WEB &&
             tc_rng_unit(b->seed, CLOUD_STREAM_APP_EXPOSURE, a, 2) < p->web_internet_facing))
            app->flags |= CLOUD_APP_INTERNET_FACING;

        app->crown = app->tier == TC_TIER_DATA && env == TC_ENV_PROD ? TC_CROWN_DATABASE
                     : app->tier == TC_TIER_SECRETS                  ? TC_CROWN_SECRETS
                     : app->tier == TC_TIER_ADMIN                    ? TC_CROWN_PRIVILEGED
                     : app->tier == TC_TIER_BILLING                  ? TC_CROWN_BILLING
                                                                     : TC_CROWN_NONE;
    }
}

/* ---- principals ---- */

static int builder_add_principal(cloud_builder *b, uint32_t app, uint32_t tenant)
{
    cloud_plan *plan = b->plan;
    if (cloud_grow(&plan->principals, &b->cap_principals, (size_t)plan->n_principals + 1,
                   sizeof *plan->principals) != 0)
        return -1;
    plan->principals[plan->n_principals++] = (cloud_principal){ app, tenant };
    return 0;
}

static int builder_add_assume(cloud_builder *b, uint32_t from, uint32_t to)
{
    cloud_plan *plan = b->plan;
    if (cloud_grow(&plan->assumes, &b->cap_assumes, (size_t)plan->n_assumes + 1,
                   sizeof *plan->assumes) != 0)
        return -1;
    plan->assumes[plan->n_assumes++] = (cloud_pair){ from, to };
    return 0;
}

/* Per tenant: the admin role, then one principal per app in app order,
 * except that a workload app reuses an earlier principal of its account
 * with probability principal_reuse. Core apps never share. */
static int builder_principals(cloud_builder *b)
{
    cloud_plan *plan = b->plan;
    const tc_cloud_params *p = &plan->params;

    for (uint32_t t = 0; t < plan->n_tenants; t++) {
        cloud_tenant *tenant = &plan->tenants[t];
        tenant->admin_role = plan->n_principals;
        if (builder_add_principal(b, UINT32_MAX, t) != 0)
            return -1;

        for (uint32_t ac = tenant->first_account; ac < tenant->first_account + tenant->n_accounts;
             ac++) {
            const cloud_account *account = &plan->accounts[ac];
            uint32_t account_first = plan->n_principals;
            for (uint32_t a = account->first_app; a < account->first_app + account->n_apps; a++) {
                cloud_app *app = &plan->apps[a];
                uint32_t earlier = plan->n_principals - account_first;
                if (app->role != CLOUD_ROLE_CORE && earlier > 0 &&
                    tc_rng_unit(b->seed, CLOUD_STREAM_PRINCIPAL, a, 0) < p->principal_reuse) {
                    uint64_t pick = tc_rng_below(b->seed, CLOUD_STREAM_PRINCIPAL, a, 1, earlier);
                    app->principal = account_first + (uint32_t)pick;
                    app->flags |= CLOUD_APP_REUSED_PRINCIPAL;
                    continue;
                }
                app->principal = plan->n_principals;
                if (builder_add_principal(b, a, t) != 0)
                    return -1;
                bool assumes_admin =
                    app->tier == TC_TIER_ADMIN ||
                    (app->role != CLOUD_ROLE_CORE &&
                     tc_rng_unit(b->seed, CLOUD_STREAM_ASSUME, a, 0) < p->admin_assume_share);
                if (assumes_admin && builder_add_assume(b, app->principal, tenant->admin_role) != 0)
                    return -1;
            }
        }
    }
    /* Principals were created in ascending order, so the list is sorted. */
    return 0;
}

/* ---- packages ---- */

/* Append COUNT Zipf draws from CDF (offset by FIRST) to the scratch list. */
static int draw_packages(cloud_builder *b, const cloud_cdf *cdf, uint32_t first, uint64_t count,
                         uint32_t app, uint32_t index_base, uint32_t *n)
{
    if (cloud_grow(&b->scratch_u32, &b->cap_scratch_u32, *n + count, sizeof *b->scratch_u32) != 0)
        return -1;
    for (uint64_t j = 0; j < count; j++) {
        double u = tc_rng_unit(b->seed, CLOUD_STREAM_PACKAGE, app, index_base + (uint32_t)j);
        b->scratch_u32[(*n)++] = first + cloud_cdf_sample(cdf, u);
    }
    return 0;
}

/* Installs: every app draws libraries_per_app libraries (CI apps draw
 * cicd_tools_per_ci CI/CD tools instead) and infra_per_app infrastructure
 * libraries, each from its kind's Zipf popularity, with replacement, so
 * duplicates collapse. Publish rights: each CI principal may publish
 * ci_published_libraries libraries drawn uniformly. */
static int builder_packages(cloud_builder *b)
{
    cloud_plan *plan = b->plan;
    const tc_cloud_params *p = &plan->params;
    plan->first_cicd = (uint32_t)p->libraries;
    plan->first_infra = plan->first_cicd + (uint32_t)p->cicd_tools;
    plan->n_packages = plan->first_infra + (uint32_t)p->infra_libraries;

    cloud_cdf libraries = { 0 }, cicd = { 0 }, infra = { 0 };
    int status = -1;
    if (cloud_cdf_build(&libraries, (uint32_t)p->libraries, p->package_zipf_exponent) != 0 ||
        cloud_cdf_build(&cicd, (uint32_t)p->cicd_tools, p->package_zipf_exponent) != 0 ||
        cloud_cdf_build(&infra, (uint32_t)p->infra_libraries, p->package_zipf_exponent) != 0)
        goto free_cdfs;

    plan->install_offsets = malloc(((size_t)plan->n_apps + 1) * sizeof *plan->install_offsets);
    if (!plan->install_offsets)
        goto free_cdfs;
    size_t cap_installs = 0;
    uint32_t n_installs = 0;
    plan->install_offsets[0] = 0;
    for (uint32_t a = 0; a < plan->n_apps; a++) {
        uint32_t n = 0;
        int drawn = plan->apps[a].tier == TC_TIER_CI
                        ? draw_packages(b, &cicd, plan->first_cicd, p->cicd_tools_per_ci, a, 0, &n)
                        : draw_packages(b, &libraries, 0, p->libraries_per_app, a, 0, &n);
        if (drawn != 0 ||
            draw_packages(b, &infra, plan->first_infra, p->infra_per_app, a, 1u << 31, &n) != 0)
            goto free_cdfs;
        n = cloud_sort_unique_u32(b->scratch_u32, n);
        if ((uint64_t)n_installs + n > CLOUD_MAX_ENTRIES ||
            cloud_grow(&plan->install_packages, &cap_installs, (size_t)n_installs + n,
                       sizeof *plan->install_packages) != 0)
            goto free_cdfs;
        memcpy(plan->install_packages + n_installs, b->scratch_u32, (size_t)n * sizeof(uint32_t));
        n_installs += n;
        plan->install_offsets[a + 1] = n_installs;
    }
    cloud_shrink_to_fit(&plan->install_packages, n_installs, sizeof *plan->install_packages);

    size_t cap_publishes = 0;
    for (uint32_t t = 0; t < plan->n_tenants; t++) {
        const cloud_tenant *tenant = &plan->tenants[t];
        for (uint32_t c = tenant->first_ci_app; c < tenant->first_ci_app + tenant->n_ci_apps; c++) {
            uint32_t principal = plan->apps[c].principal;
            uint32_t n = 0;
            if (cloud_grow(&b->scratch_u32, &b->cap_scratch_u32, p->ci_published_libraries,
                           sizeof *b->scratch_u32) != 0)
                goto free_cdfs;
            for (uint64_t j = 0; j < p->ci_published_libraries; j++)
                b->scratch_u32[n++] = (uint32_t)tc_rng_below(
                    b->seed, CLOUD_STREAM_PUBLISH, principal, (uint32_t)j, p->libraries);
            n = cloud_sort_unique_u32(b->scratch_u32, n);
            if (cloud_grow(&plan->publishes, &cap_publishes, (size_t)plan->n_publishes + n,
                           sizeof *plan->publishes) != 0)
                goto free_cdfs;
            for (uint32_t j = 0; j < n; j++)
                plan->publishes[plan->n_publishes++] = (cloud_pair){ principal, b->scratch_u32[j] };
        }
    }
    status = 0;

free_cdfs:
    cloud_cdf_free(&libraries);
    cloud_cdf_free(&cicd);
    cloud_cdf_free(&infra);
    return status;
}

/* ---- the plan ---- */

static int resolve_services(uint8_t svc[SVC_COUNT], tc_error *err)
{
    for (int i = 0; i < SVC_COUNT; i++) {
        int s = tc_service_find(svc_names[i]);
        if (s < 0)
            return tc_error_runtime(err, "cloud generator: service '%s' is missing from the "
                                         "service vocabulary (model.c)", svc_names[i]);
        svc[i] = (uint8_t)s;
    }
    return TC_OK;
}

int tc_cloud_plan_build(const tc_cloud_params *p, uint64_t seed, cloud_plan **out,
                        tc_error *err)
{
    *out = NULL;
    cloud_builder b = { 0 };
    cloud_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        return tc_error_runtime(err, "out of memory building the cloud skeleton");
    plan->params = *p;
    plan->seed = seed;
    b.plan = plan;
    b.seed = seed;
    if (resolve_services(b.svc, err) != TC_OK)
        goto free_plan;

    if (builder_layout(&b) != 0 || builder_index(&b) != 0)
        goto out_of_memory;
    if (b.next_workload != p->workloads) {
        tc_error_runtime(err, "cloud generator: the layout covers %llu workloads instead of %llu",
                         (unsigned long long)b.next_workload, (unsigned long long)p->workloads);
        goto free_plan;
    }
    builder_app_attributes(&b);
    if (builder_principals(&b) != 0 || builder_packages(&b) != 0 || cloud_build_calls(&b) != 0 ||
        cloud_build_grants(&b) != 0 || cloud_build_base_rules(&b) != 0)
        goto out_of_memory;

    cloud_shrink_to_fit(&plan->apps, plan->n_apps, sizeof *plan->apps);
    cloud_shrink_to_fit(&plan->principals, plan->n_principals, sizeof *plan->principals);
    free(b.scratch_apps);
    free(b.scratch_u32);
    *out = plan;
    return TC_OK;

out_of_memory:
    tc_error_runtime(err, "building the cloud skeleton failed: out of memory, or more than "
                          "2^32 app-level installs, calls or grants (%u apps, %u principals). "
                          "Lower workloads or the per-app counts",
                     plan->n_apps, plan->n_principals);
free_plan:
    free(b.scratch_apps);
    free(b.scratch_u32);
    tc_cloud_plan_free(plan);
    return err->code;
}

void tc_cloud_plan_free(cloud_plan *plan)
{
    if (!plan)
        return;
    void *arrays[] = {
        plan->tenants, plan->accounts, plan->vpcs, plan->apps, plan->principals,
        plan->segment_vpc, plan->segment_tier, plan->stateful_apps, plan->call_offsets,
        plan->call_callees, plan->call_trust, plan->install_offsets, plan->install_packages,
        plan->grant_offsets, plan->grants, plan->base_rules, plan->assumes, plan->publishes,
    };
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        free(arrays[i]);
    free(plan);
}

size_t tc_cloud_plan_bytes(const cloud_plan *plan)
{
    size_t apps = plan->n_apps;
    size_t calls = plan->call_offsets ? plan->call_offsets[apps] : 0;
    size_t installs = plan->install_offsets ? plan->install_offsets[apps] : 0;
    size_t grants = plan->grant_offsets ? plan->grant_offsets[apps] : 0;
    return sizeof *plan + plan->n_tenants * sizeof(cloud_tenant) +
           plan->n_accounts * sizeof(cloud_account) + plan->n_vpcs * sizeof(cloud_vpc) +
           apps * (sizeof(cloud_app) + 3 * sizeof(uint32_t) + sizeof(uint32_t)) +
           plan->n_principals * sizeof(cloud_principal) + plan->n_segments * 5u +
           calls * (sizeof(uint32_t) + 1) + installs * sizeof(uint32_t) +
           grants * sizeof(cloud_grant) + plan->n_base_rules * sizeof(tc_base_rule) +
           (plan->n_assumes + plan->n_publishes) * sizeof(cloud_pair);
}
