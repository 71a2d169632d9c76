/*
 * cloud_links.c - the relations of the cloud skeleton: the app-level API
 * call graph, app-level grants and base network rules. See cloud_plan.h
 * for the invariants and docs/generator.md for the model.
 */
#include "cloud_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* Tries to find a callee for one call slot before the slot stays empty. */
#define CALLEE_ATTEMPTS 4
/* Share of a middle app's callees that are middle apps too; the rest are
 * leaves (assumption: call trees are a few levels deep). */
#define MIDDLE_TO_MIDDLE_SHARE 0.4
/* Uniform draws that one callee pick uses. */
#define CALLEE_DRAWS 5

/* Workload accounts of each (tenant, env): CSR over tenant * TC_ENV_COUNT + env. */
typedef struct env_index {
    uint32_t *offsets;
    uint32_t *accounts;
} env_index;

static int env_index_build(const cloud_plan *plan, env_index *ix)
{
    size_t slots = (size_t)plan->n_tenants * TC_ENV_COUNT;
    ix->offsets = calloc(slots + 1, sizeof *ix->offsets);
    ix->accounts = malloc((plan->n_accounts ? plan->n_accounts : 1) * sizeof *ix->accounts);
    if (!ix->offsets || !ix->accounts)
        return -1;
    for (uint32_t a = 0; a < plan->n_accounts; a++) {
        const cloud_account *account = &plan->accounts[a];
        if (account->index > 0)
            ix->offsets[(size_t)account->tenant * TC_ENV_COUNT + account->env + 1]++;
    }
    for (size_t s = 0; s < slots; s++)
        ix->offsets[s + 1] += ix->offsets[s];
    uint32_t *next = malloc((slots ? slots : 1) * sizeof *next);
    if (!next)
        return -1;
    memcpy(next, ix->offsets, slots * sizeof *next);
    for (uint32_t a = 0; a < plan->n_accounts; a++) {
        const cloud_account *account = &plan->accounts[a];
        if (account->index > 0)
            ix->accounts[next[(size_t)account->tenant * TC_ENV_COUNT + account->env]++] = a;
    }
    free(next);
    return 0;
}

static void env_index_free(env_index *ix)
{
    free(ix->offsets);
    free(ix->accounts);
}

/* Pick one callee for CALLER with the DRAW-th set of draws, or return
 * UINT32_MAX when the chosen VPC has no app of the wanted role. An entry
 * app calls middle apps; a middle app calls middle apps or leaves. The
 * callee's VPC is the caller's (call_vpc_share), another VPC of its
 * account (call_account_share), or a VPC of another workload account of
 * the tenant in the same env. */
static uint32_t pick_callee(const cloud_builder *b, const env_index *ix, uint32_t caller,
                            uint32_t draw)
{
    const cloud_plan *plan = b->plan;
    const tc_cloud_params *p = &plan->params;
    const cloud_app *app = &plan->apps[caller];
    const cloud_account *account = &plan->accounts[plan->vpcs[app->vpc].account];
    uint32_t base = draw * CALLEE_DRAWS;

    int lo = TC_TIER_API, hi = TC_TIER_WORKER;
    if (app->role == CLOUD_ROLE_MIDDLE &&
        tc_rng_unit(b->seed, CLOUD_STREAM_CALLEE, caller, base) >= MIDDLE_TO_MIDDLE_SHARE) {
        lo = TC_TIER_DATA;
        hi = TC_TIER_QUEUE;
    }

    double u_scope = tc_rng_unit(b->seed, CLOUD_STREAM_CALLEE, caller, base + 1);
    uint32_t vpc = app->vpc;
    if (u_scope >= p->call_vpc_share && u_scope < p->call_vpc_share + p->call_account_share) {
        vpc = account->first_vpc + (uint32_t)tc_rng_below(b->seed, CLOUD_STREAM_CALLEE, caller,
                                                          base + 2, account->n_vpcs);
    } else if (u_scope >= p->call_vpc_share + p->call_account_share) {
        uint32_t slot = account->tenant * TC_ENV_COUNT + account->env;
        uint32_t n = ix->offsets[slot + 1] - ix->offsets[slot];
        if (n == 0)
            return UINT32_MAX;
        uint32_t pick = (uint32_t)tc_rng_below(b->seed, CLOUD_STREAM_CALLEE, caller, base + 2, n);
        const cloud_account *other = &plan->accounts[ix->accounts[ix->offsets[slot] + pick]];
        vpc = other->first_vpc +
              (uint32_t)tc_rng_below(b->seed, CLOUD_STREAM_CALLEE, caller, base + 3, other->n_vpcs);
    }

    const cloud_vpc *target = &plan->vpcs[vpc];
    uint32_t first = target->tier_first[lo], end = target->tier_first[hi + 1];
    if (end == first)
        return UINT32_MAX;
    return first +
           (uint32_t)tc_rng_below(b->seed, CLOUD_STREAM_CALLEE, caller, base + 4, end - first);
}

/* Callees of CALLER into the builder's scratch list; returns their count,
 * sorted and distinct. */
static int draw_callees(cloud_builder *b, const env_index *ix, const cloud_cdf *fanout,
                        uint32_t caller, uint32_t *count)
{
    const cloud_plan *plan = b->plan;
    const tc_cloud_params *p = &plan->params;
    const cloud_app *app = &plan->apps[caller];
    const cloud_account *account = &plan->accounts[plan->vpcs[app->vpc].account];
    const cloud_tenant *tenant = &plan->tenants[account->tenant];
    *count = 0;
    if (app->role != CLOUD_ROLE_ENTRY && app->role != CLOUD_ROLE_MIDDLE)
        return 0;

    uint32_t k = 0;
    if (fanout->n > 0)
        k = 1 + cloud_cdf_sample(fanout, tc_rng_unit(b->seed, CLOUD_STREAM_FANOUT, caller, 0));
    if (cloud_grow(&b->scratch_u32, &b->cap_scratch_u32, (size_t)k + 2,
                   sizeof *b->scratch_u32) != 0)
        return -1;

    uint32_t n = 0;
    for (uint32_t j = 0; j < k; j++) {
        for (uint32_t attempt = 0; attempt < CALLEE_ATTEMPTS; attempt++) {
            uint32_t callee = pick_callee(b, ix, caller, j * CALLEE_ATTEMPTS + attempt);
            if (callee != UINT32_MAX && callee != caller) {
                b->scratch_u32[n++] = callee;
                break;
            }
        }
    }

    /* The hubs: the tenant's secrets manager, and billing for prod
     * middle apps. */
    if (tc_rng_unit(b->seed, CLOUD_STREAM_HUB_CALL, caller, 0) < p->secrets_call_share)
        b->scratch_u32[n++] = tenant->secrets_app;
    if (app->role == CLOUD_ROLE_MIDDLE && account->env == TC_ENV_PROD &&
        tc_rng_unit(b->seed, CLOUD_STREAM_HUB_CALL, caller, 1) < p->billing_call_share)
        b->scratch_u32[n++] = tenant->billing_app;

    *count = cloud_sort_unique_u32(b->scratch_u32, n);
    return 0;
}

int cloud_build_calls(cloud_builder *b)
{
    cloud_plan *plan = b->plan;
    const tc_cloud_params *p = &plan->params;
    env_index ix = { 0 };
    cloud_cdf fanout = { 0 };
    int status = -1;

    if (env_index_build(plan, &ix) != 0 ||
        cloud_cdf_build(&fanout, (uint32_t)p->call_fanout_max, p->call_fanout_exponent) != 0)
        goto free_index;
    plan->call_offsets = malloc(((size_t)plan->n_apps + 1) * sizeof *plan->call_offsets);
    if (!plan->call_offsets)
        goto free_index;

    size_t cap_callees = 0, cap_trust = 0;
    uint32_t n_calls = 0;
    plan->call_offsets[0] = 0;
    for (uint32_t a = 0; a < plan->n_apps; a++) {
        uint32_t n = 0;
        if (draw_callees(b, &ix, &fanout, a, &n) != 0 ||
            (uint64_t)n_calls + n > CLOUD_MAX_ENTRIES ||
            cloud_grow(&plan->call_callees, &cap_callees, (size_t)n_calls + n,
                       sizeof *plan->call_callees) != 0 ||
            cloud_grow(&plan->call_trust, &cap_trust, (size_t)n_calls + n, 1) != 0)
            goto free_index;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t callee = b->scratch_u32[j];
            plan->call_callees[n_calls] = callee;
            plan->call_trust[n_calls++] =
                tc_rng_unit(b->seed, CLOUD_STREAM_TRUST, a, callee) < p->api_implicit_trust
                    ? TC_TRUST_IMPLICIT
                    : TC_TRUST_NONE;
        }
        plan->call_offsets[a + 1] = n_calls;
    }
    status = 0;

free_index:
    env_index_free(&ix);
    cloud_cdf_free(&fanout);
    return status;
}

/* ---- grants ---- */

typedef struct grant_list {
    cloud_grant *items;
    size_t n, capacity;
} grant_list;

static int grant_push(grant_list *list, uint32_t principal, uint32_t app, unsigned service,
                      bool gated)
{
    if (cloud_grow(&list->items, &list->capacity, list->n + 1, sizeof *list->items) != 0)
        return -1;
    list->items[list->n++] = (cloud_grant){ principal, app, 1u << service, gated };
    return 0;
}

static bool grant_list_targets(const grant_list *list, size_t from, uint32_t app)
{
    for (size_t i = from; i < list->n; i++)
        if (list->items[i].app == app)
            return true;
    return false;
}

static int compare_grants(const void *a, const void *b)
{
    const cloud_grant *x = a, *y = b;
    if (x->app != y->app)
        return x->app < y->app ? -1 : 1;
    if (x->principal != y->principal)
        return x->principal < y->principal ? -1 : 1;
    return (x->gated > y->gated) - (x->gated < y->gated);
}

/* Whether a grant on an app whose main service is SERVICE needs a network
 * path: object storage and the secrets manager are reached through the
 * provider's control plane, the rest inside the VPC. */
static bool service_is_gated(const cloud_builder *b, unsigned service)
{
    return service != b->svc[SVC_OBJECT_STORAGE] && service != b->svc[SVC_VAULT];
}

/* Add the grants that one workload app brings. Its principal gets used
 * grants on the data, cache, queue and secrets-manager apps it calls, and
 * unused (over-privileged) grants on the account's data, cache and queue
 * apps and the secrets manager. One of the tenant's CI principals may get
 * a deploy grant on the app. */
static int grants_of_app(cloud_builder *b, uint32_t a, grant_list *list)
{
    const cloud_plan *plan = b->plan;
    const tc_cloud_params *p = &plan->params;
    const cloud_app *app = &plan->apps[a];
    const cloud_account *account = &plan->accounts[plan->vpcs[app->vpc].account];
    const cloud_tenant *tenant = &plan->tenants[account->tenant];
    size_t first = list->n;

    uint32_t used = 0;
    for (uint32_t j = plan->call_offsets[a]; j < plan->call_offsets[a + 1]; j++) {
        const cloud_app *callee = &plan->apps[plan->call_callees[j]];
        if (!cloud_tier_is_stateful(callee->tier) && callee->tier != TC_TIER_SECRETS)
            continue;
        if (grant_push(list, app->principal, plan->call_callees[j], callee->service,
                       service_is_gated(b, callee->service)) != 0)
            return -1;
        used++;
    }

    /* Unused grants make up unused_grant_share of all grants, so there are
     * share / (1 - share) unused ones per used one, counting at least one
     * used grant. */
    double ratio = p->unused_grant_share / (1.0 - p->unused_grant_share);
    uint64_t n_unused = (uint64_t)llround((used > 0 ? used : 1) * ratio);
    if (n_unused > p->unused_grants_max)
        n_unused = p->unused_grants_max;
    uint32_t candidates = account->n_stateful + 1;
    uint64_t got = 0;
    for (uint32_t attempt = 0; attempt < 4 * n_unused && got < n_unused && got < candidates;
         attempt++) {
        uint32_t pick =
            (uint32_t)tc_rng_below(b->seed, CLOUD_STREAM_UNUSED, a, attempt, candidates);
        uint32_t target = pick < account->n_stateful
                              ? plan->stateful_apps[account->first_stateful + pick]
                              : tenant->secrets_app;
        if (grant_list_targets(list, first, target))
            continue;
        unsigned service = plan->apps[target].service;
        if (grant_push(list, app->principal, target, service, service_is_gated(b, service)) != 0)
            return -1;
        got++;
    }

    if (tc_rng_unit(b->seed, CLOUD_STREAM_DEPLOY, a, 0) < p->ci_deploy_share) {
        uint32_t ci = tenant->first_ci_app +
                      (uint32_t)tc_rng_below(b->seed, CLOUD_STREAM_DEPLOY, a, 1, tenant->n_ci_apps);
        if (grant_push(list, plan->apps[ci].principal, a, b->svc[SVC_K8S_API], false) != 0)
            return -1;
    }
    return 0;
}

/* The admin role of each tenant administers its secrets manager, billing
 * and every data app through the control plane. */
static int grants_of_admin_roles(cloud_builder *b, grant_list *list)
{
    const cloud_plan *plan = b->plan;
    unsigned admin_api = b->svc[SVC_ADMIN_API];
    for (uint32_t t = 0; t < plan->n_tenants; t++) {
        const cloud_tenant *tenant = &plan->tenants[t];
        if (grant_push(list, tenant->admin_role, tenant->secrets_app, admin_api, false) != 0 ||
            grant_push(list, tenant->admin_role, tenant->billing_app, admin_api, false) != 0)
            return -1;
        for (uint32_t a = tenant->first_app; a < tenant->first_app + tenant->n_apps; a++)
            if (plan->apps[a].tier == TC_TIER_DATA &&
                grant_push(list, tenant->admin_role, a, admin_api, false) != 0)
                return -1;
    }
    return 0;
}

int cloud_build_grants(cloud_builder *b)
{
    cloud_plan *plan = b->plan;
    grant_list list = { 0 };

    for (uint32_t a = 0; a < plan->n_apps; a++)
        if (plan->apps[a].role != CLOUD_ROLE_CORE && grants_of_app(b, a, &list) != 0)
            goto free_list;
    if (grants_of_admin_roles(b, &list) != 0)
        goto free_list;

    /* Group by target app; one entry per (app, principal, gated). */
    if (list.n > 0)
        qsort(list.items, list.n, sizeof *list.items, compare_grants);
    size_t n_merged = 0;
    for (size_t i = 0; i < list.n; i++) {
        if (n_merged > 0 && compare_grants(&list.items[n_merged - 1], &list.items[i]) == 0)
            list.items[n_merged - 1].services |= list.items[i].services;
        else
            list.items[n_merged++] = list.items[i];
    }

    if (n_merged > CLOUD_MAX_ENTRIES)
        goto free_list;
    plan->grant_offsets = calloc((size_t)plan->n_apps + 1, sizeof *plan->grant_offsets);
    if (!plan->grant_offsets)
        goto free_list;
    for (size_t i = 0; i < n_merged; i++)
        plan->grant_offsets[list.items[i].app + 1]++;
    for (uint32_t a = 0; a < plan->n_apps; a++)
        plan->grant_offsets[a + 1] += plan->grant_offsets[a];
    plan->grants = n_merged ? realloc(list.items, n_merged * sizeof *list.items) : list.items;
    if (!plan->grants)
        plan->grants = list.items;
    return 0;

free_list:
    free(list.items);
    return -1;
}

/* ---- base rules ---- */

/* Rules between the tier segments of one VPC. A row's services end at
 * SVC_COUNT. */
static const struct tier_rule {
    uint8_t from, to;
    uint8_t services[6];
} tier_rules[] = {
    { TC_TIER_EDGE, TC_TIER_WEB, { SVC_HTTP, SVC_HTTPS, SVC_COUNT } },
    { TC_TIER_EDGE, TC_TIER_API, { SVC_HTTP, SVC_HTTPS, SVC_GRPC, SVC_COUNT } },
    { TC_TIER_EDGE, TC_TIER_WORKER, { SVC_HTTP, SVC_GRPC, SVC_COUNT } },
    { TC_TIER_WEB, TC_TIER_API, { SVC_HTTP, SVC_HTTPS, SVC_GRPC, SVC_COUNT } },
    { TC_TIER_WEB, TC_TIER_WORKER, { SVC_HTTP, SVC_GRPC, SVC_COUNT } },
    { TC_TIER_API, TC_TIER_API, { SVC_HTTP, SVC_GRPC, SVC_COUNT } },
    { TC_TIER_API, TC_TIER_WORKER, { SVC_HTTP, SVC_GRPC, SVC_COUNT } },
    { TC_TIER_WORKER, TC_TIER_API, { SVC_HTTP, SVC_GRPC, SVC_COUNT } },
    { TC_TIER_WORKER, TC_TIER_WORKER, { SVC_HTTP, SVC_GRPC, SVC_COUNT } },
    { TC_TIER_API, TC_TIER_DATA,
      { SVC_POSTGRES, SVC_MYSQL, SVC_MONGODB, SVC_ELASTICSEARCH, SVC_OBJECT_STORAGE, SVC_COUNT } },
    { TC_TIER_WORKER, TC_TIER_DATA,
      { SVC_POSTGRES, SVC_MYSQL, SVC_MONGODB, SVC_ELASTICSEARCH, SVC_OBJECT_STORAGE, SVC_COUNT } },
    { TC_TIER_API, TC_TIER_CACHE, { SVC_REDIS, SVC_MEMCACHED, SVC_COUNT } },
    { TC_TIER_WORKER, TC_TIER_CACHE, { SVC_REDIS, SVC_MEMCACHED, SVC_COUNT } },
    { TC_TIER_API, TC_TIER_QUEUE, { SVC_KAFKA, SVC_AMQP, SVC_COUNT } },
    { TC_TIER_WORKER, TC_TIER_QUEUE, { SVC_KAFKA, SVC_AMQP, SVC_COUNT } },
};
#define N_TIER_RULES (sizeof tier_rules / sizeof *tier_rules)

typedef struct rule_list {
    tc_base_rule *items;
    size_t n, capacity;
} rule_list;

static int rule_push(rule_list *list, uint32_t from, uint32_t to, tc_svcmask services)
{
    if (cloud_grow(&list->items, &list->capacity, list->n + 1, sizeof *list->items) != 0)
        return -1;
    list->items[list->n++] = (tc_base_rule){ from, to, services };
    return 0;
}

static int compare_rules(const void *a, const void *b)
{
    const tc_base_rule *x = a, *y = b;
    if (x->from_segment != y->from_segment)
        return x->from_segment < y->from_segment ? -1 : 1;
    return (x->to_segment > y->to_segment) - (x->to_segment < y->to_segment);
}

static tc_svcmask mask_of(const cloud_builder *b, const uint8_t *services)
{
    tc_svcmask mask = 0;
    for (int i = 0; services[i] != SVC_COUNT; i++)
        mask |= (tc_svcmask)1 << b->svc[services[i]];
    return mask;
}

/* Tier rules and the legacy open rule of each VPC. */
static int rules_of_vpcs(const cloud_builder *b, rule_list *list)
{
    const cloud_plan *plan = b->plan;
    for (uint32_t v = 0; v < plan->n_vpcs; v++) {
        const cloud_vpc *vpc = &plan->vpcs[v];
        for (size_t r = 0; r < N_TIER_RULES; r++) {
            uint32_t from = vpc->segment[tier_rules[r].from];
            uint32_t to = vpc->segment[tier_rules[r].to];
            if (from != TC_NAME_NONE && to != TC_NAME_NONE &&
                rule_push(list, from, to, mask_of(b, tier_rules[r].services)) != 0)
                return -1;
        }
        if (!vpc->legacy_open)
            continue;
        for (int i = 0; i < TC_TIER_COUNT; i++)
            for (int j = 0; j < TC_TIER_COUNT; j++)
                if (vpc->segment[i] != TC_NAME_NONE && vpc->segment[j] != TC_NAME_NONE &&
                    rule_push(list, vpc->segment[i], vpc->segment[j], TC_SERVICE_ALL) != 0)
                    return -1;
    }
    return 0;
}

/* One rule per app-level call, so that every API call is allowed by the
 * base rules, across VPCs and accounts too (peering, private endpoints). */
static int rules_of_calls(const cloud_builder *b, rule_list *list)
{
    const cloud_plan *plan = b->plan;
    for (uint32_t a = 0; a < plan->n_apps; a++) {
        const cloud_app *caller = &plan->apps[a];
        uint32_t from = plan->vpcs[caller->vpc].segment[caller->tier];
        for (uint32_t j = plan->call_offsets[a]; j < plan->call_offsets[a + 1]; j++) {
            const cloud_app *callee = &plan->apps[plan->call_callees[j]];
            uint32_t to = plan->vpcs[callee->vpc].segment[callee->tier];
            if (rule_push(list, from, to, (tc_svcmask)1 << callee->service) != 0)
                return -1;
        }
    }
    return 0;
}

/* The CI and admin segments of each tenant's core VPC reach every segment
 * of the tenant on SSH, the Kubernetes API and admin APIs. */
static int rules_of_operators(const cloud_builder *b, rule_list *list)
{
    const cloud_plan *plan = b->plan;
    static const uint8_t operator_services[] = { SVC_SSH, SVC_K8S_API, SVC_ADMIN_API, SVC_COUNT };
    tc_svcmask mask = mask_of(b, operator_services);
    for (uint32_t t = 0; t < plan->n_tenants; t++) {
        const cloud_tenant *tenant = &plan->tenants[t];
        const cloud_account *core = &plan->accounts[tenant->first_account];
        const cloud_account *last = &plan->accounts[tenant->first_account + tenant->n_accounts - 1];
        uint32_t ci = plan->vpcs[core->first_vpc].segment[TC_TIER_CI];
        uint32_t admin = plan->vpcs[core->first_vpc].segment[TC_TIER_ADMIN];
        for (uint32_t v = core->first_vpc; v < last->first_vpc + last->n_vpcs; v++)
            for (int k = 0; k < TC_TIER_COUNT; k++) {
                uint32_t to = plan->vpcs[v].segment[k];
                if (to == TC_NAME_NONE)
                    continue;
                if (rule_push(list, ci, to, mask) != 0 || rule_push(list, admin, to, mask) != 0)
                    return -1;
            }
    }
    return 0;
}

int cloud_build_base_rules(cloud_builder *b)
{
    cloud_plan *plan = b->plan;
    rule_list list = { 0 };
    if (rules_of_vpcs(b, &list) != 0 || rules_of_calls(b, &list) != 0 ||
        rules_of_operators(b, &list) != 0) {
        free(list.items);
        return -1;
    }

    /* One rule per segment pair, services merged. */
    if (list.n > 0)
        qsort(list.items, list.n, sizeof *list.items, compare_rules);
    size_t n_merged = 0;
    for (size_t i = 0; i < list.n; i++) {
        if (n_merged > 0 && compare_rules(&list.items[n_merged - 1], &list.items[i]) == 0)
            list.items[n_merged - 1].services |= list.items[i].services;
        else
            list.items[n_merged++] = list.items[i];
    }
    plan->base_rules = n_merged ? realloc(list.items, n_merged * sizeof *list.items) : list.items;
    if (!plan->base_rules)
        plan->base_rules = list.items;
    plan->n_base_rules = n_merged;
    return 0;
}
