/*
 * random_topology.c - random test cases built through the topology builder;
 * see random_topology.h for what a case contains.
 *
 * Every rank draws the whole case, makes the same hub calls, and makes the
 * per-workload calls only for the workloads it owns. Each kind of decision
 * has its own rng stream. A draw is keyed by the entity it is about (a
 * workload id, a group index, or 0 for the shape of the case), so no draw
 * depends on the rank count or on the order of the calls.
 */
#include "random_topology.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "selector.h"

enum random_stream {
    STREAM_SHAPE = 1,      /* entity 0: counts of hubs and workloads */
    STREAM_PACKAGE,        /* entity package id: kind */
    STREAM_BASE_RULE,      /* entity rule index */
    STREAM_ASSUME,         /* entity assume index */
    STREAM_PUBLISH,        /* entity publish index */
    STREAM_WORKLOAD,       /* entity gid: attributes */
    STREAM_EXPOSED,        /* entity gid: exposed services */
    STREAM_EXPLOITABLE,    /* entity gid, index service */
    STREAM_INSTALL,        /* entity gid, index package */
    STREAM_API,            /* entity gid: API edges of the caller */
    STREAM_GRANT,          /* entity gid: grants to the target */
    STREAM_GROUP,          /* entity group index: selector */
    STREAM_RULE,           /* entity rule index: rules policy */
    STREAM_GRANULARITY,    /* entity 0: derived policy */
    STREAM_FOOTHOLD        /* entity 0 */
};

/* Services drawn most of the time: ssh, rdp, http, https, grpc, postgres. */
#define COMMON_SERVICES 6

typedef struct random_shape {
    uint64_t n_workloads;
    uint32_t tenants, accounts, vpcs, subnets, apps;
    uint32_t segments, principals, packages;
    uint32_t base_rules, assumes, publishes;
    uint32_t groups;
    bool sparse;          /* fewer calls, grants and exploits: longer chains */
} random_shape;

static uint64_t draw_below(uint64_t seed, enum random_stream stream, uint64_t entity,
                           uint32_t index, uint64_t n)
{
    return tc_rng_below(seed, stream, entity, index, n);
}

static bool draw_chance(uint64_t seed, enum random_stream stream, uint64_t entity,
                        uint32_t index, double p)
{
    return tc_rng_unit(seed, stream, entity, index) < p;
}

/* One service index; uses draws INDEX and INDEX + 1. */
static unsigned draw_service(uint64_t seed, enum random_stream stream, uint64_t entity,
                             uint32_t index)
{
    if (draw_chance(seed, stream, entity, index, 0.875))
        return (unsigned)draw_below(seed, stream, entity, index + 1, COMMON_SERVICES);
    return (unsigned)draw_below(seed, stream, entity, index + 1, TC_SERVICE_COUNT);
}

/* A mask of 1 to MAX_COUNT services; uses draws INDEX .. INDEX + 2 * MAX_COUNT. */
static tc_svcmask draw_services(uint64_t seed, enum random_stream stream, uint64_t entity,
                                uint32_t index, unsigned max_count)
{
    unsigned count = 1 + (unsigned)draw_below(seed, stream, entity, index, max_count);
    tc_svcmask mask = 0;
    for (unsigned i = 0; i < count; i++)
        mask |= (tc_svcmask)1 << draw_service(seed, stream, entity, index + 1 + 2 * i);
    return mask;
}

static random_shape draw_shape(uint64_t seed)
{
    random_shape s;
    s.sparse = draw_chance(seed, STREAM_SHAPE, 0, 13, 0.5);
    s.n_workloads = 10 + draw_below(seed, STREAM_SHAPE, 0, 0, 191);
    s.tenants = 1 + (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 1, 3);
    s.accounts = 1 + (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 2, 4);
    s.vpcs = 1 + (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 3, 3);
    s.subnets = 1 + (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 4, 4);
    s.apps = 1 + (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 5, 5);
    s.segments = 1 + (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 6, 5);
    s.principals = s.sparse ? 3 + (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 7, 10)
                            : 1 + (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 7, 6);
    s.packages = (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 8, 5);
    s.base_rules = 1 + (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 9, 2 * s.segments + 1);
    s.assumes = (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 10, s.principals + 1);
    s.publishes = s.packages ? (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 11, 4) : 0;
    s.groups = 1 + (uint32_t)draw_below(seed, STREAM_SHAPE, 0, 12, 4);
    return s;
}

/* ---- topology ---- */

static int intern_names(tc_topology *t, tc_names *table, const char *prefix, uint32_t count,
                        tc_error *err)
{
    char name[64];
    for (uint32_t i = 0; i < count; i++) {
        snprintf(name, sizeof name, "%s-%u", prefix, i);
        if (tc_topology_intern(t, table, name, err) == TC_NAME_NONE)
            return err->code ? err->code : tc_error_runtime(err, "cannot intern '%s'", name);
    }
    return TC_OK;
}

/* Hub layer: the same calls on every rank. */
static int build_hubs(tc_topology *t, uint64_t seed, const random_shape *s, tc_error *err)
{
    char name[64];

    if (intern_names(t, &t->tenants, "tenant", s->tenants, err) != TC_OK ||
        intern_names(t, &t->accounts, "account", s->accounts, err) != TC_OK ||
        intern_names(t, &t->vpcs, "vpc", s->vpcs, err) != TC_OK ||
        intern_names(t, &t->subnets, "subnet", s->subnets, err) != TC_OK ||
        intern_names(t, &t->apps, "app", s->apps, err) != TC_OK)
        return err->code;

    for (uint32_t i = 0; i < s->segments; i++) {
        snprintf(name, sizeof name, "seg-%u", i);
        if (tc_topology_add_segment(t, name, err) == TC_NAME_NONE)
            return err->code;
    }
    for (uint32_t i = 0; i < s->principals; i++) {
        snprintf(name, sizeof name, "role-%u", i);
        if (tc_topology_add_principal(t, name, err) == TC_NAME_NONE)
            return err->code;
    }
    for (uint32_t i = 0; i < s->packages; i++) {
        snprintf(name, sizeof name, "pkg-%u", i);
        enum tc_package_kind kind =
            (enum tc_package_kind)draw_below(seed, STREAM_PACKAGE, i, 0, TC_PKG_KIND_COUNT);
        if (tc_topology_add_package(t, name, kind, err) == TC_NAME_NONE)
            return err->code;
    }

    for (uint32_t r = 0; r < s->base_rules; r++) {
        uint32_t from = (uint32_t)draw_below(seed, STREAM_BASE_RULE, r, 0, s->segments);
        uint32_t to = (uint32_t)draw_below(seed, STREAM_BASE_RULE, r, 1, s->segments);
        if (s->sparse && draw_chance(seed, STREAM_BASE_RULE, r, 10, 0.5))
            to = (from + 1) % s->segments; /* segment chains make longer attacks */
        tc_svcmask services = draw_chance(seed, STREAM_BASE_RULE, r, 2, 0.25)
                                  ? TC_SERVICE_ALL
                                  : draw_services(seed, STREAM_BASE_RULE, r, 3, 3);
        if (tc_topology_add_base_rule(t, from, to, services, err) != TC_OK)
            return err->code;
    }

    /* Self-assumes are left out because they change nothing. */
    for (uint32_t a = 0; a < s->assumes; a++) {
        uint32_t from = (uint32_t)draw_below(seed, STREAM_ASSUME, a, 0, s->principals);
        uint32_t to = (uint32_t)draw_below(seed, STREAM_ASSUME, a, 1, s->principals);
        if (from != to && tc_topology_add_assume(t, from, to, err) != TC_OK)
            return err->code;
    }
    for (uint32_t k = 0; k < s->publishes; k++) {
        uint32_t principal = (uint32_t)draw_below(seed, STREAM_PUBLISH, k, 0, s->principals);
        uint32_t package = (uint32_t)draw_below(seed, STREAM_PUBLISH, k, 1, s->packages);
        if (tc_topology_add_publish(t, principal, package, err) != TC_OK)
            return err->code;
    }
    return TC_OK;
}

static tc_workload_spec draw_workload(uint64_t seed, const random_shape *s, uint64_t gid)
{
    tc_workload_spec w;
    memset(&w, 0, sizeof w);
    w.tenant = (uint32_t)draw_below(seed, STREAM_WORKLOAD, gid, 0, s->tenants);
    w.account = (uint32_t)draw_below(seed, STREAM_WORKLOAD, gid, 1, s->accounts);
    w.vpc = (uint32_t)draw_below(seed, STREAM_WORKLOAD, gid, 2, s->vpcs);
    w.subnet = (uint32_t)draw_below(seed, STREAM_WORKLOAD, gid, 3, s->subnets);
    w.segment = (uint32_t)draw_below(seed, STREAM_WORKLOAD, gid, 4, s->segments);
    w.app = (uint32_t)draw_below(seed, STREAM_WORKLOAD, gid, 5, s->apps);
    w.principal = (uint32_t)draw_below(seed, STREAM_WORKLOAD, gid, 6, s->principals);
    w.env = (uint8_t)draw_below(seed, STREAM_WORKLOAD, gid, 7, TC_ENV_COUNT);
    w.tier = (uint8_t)draw_below(seed, STREAM_WORKLOAD, gid, 8, TC_TIER_COUNT);
    w.crown = draw_chance(seed, STREAM_WORKLOAD, gid, 9, 0.7)
                  ? TC_CROWN_NONE
                  : (uint8_t)(1 + draw_below(seed, STREAM_WORKLOAD, gid, 10, TC_CROWN_COUNT - 1));
    w.internet_facing = draw_chance(seed, STREAM_WORKLOAD, gid, 11, 0.2);

    unsigned n_exposed = (unsigned)draw_below(seed, STREAM_WORKLOAD, gid, 12, 4);
    for (unsigned i = 0; i < n_exposed; i++)
        w.exposed |= (tc_svcmask)1 << draw_service(seed, STREAM_EXPOSED, gid, 2 * i);
    for (unsigned svc = 0; svc < TC_SERVICE_COUNT; svc++)
        if ((w.exposed & ((tc_svcmask)1 << svc)) &&
            draw_chance(seed, STREAM_EXPLOITABLE, gid, svc, s->sparse ? 0.15 : 0.35))
            w.exploitable |= (tc_svcmask)1 << svc;
    return w;
}

/* Per-owner calls for workload GID: its attributes, installs, the API edges
 * it makes and the grants that target it. */
static int build_workload(tc_topology *t, uint64_t seed, const random_shape *s, uint64_t gid,
                          tc_error *err)
{
    tc_workload_spec spec = draw_workload(seed, s, gid);
    if (tc_topology_set_workload(t, gid, &spec, err) != TC_OK)
        return err->code;

    for (uint32_t k = 0; k < s->packages; k++)
        if (draw_chance(seed, STREAM_INSTALL, gid, k, 0.15) &&
            tc_topology_add_install(t, gid, k, err) != TC_OK)
            return err->code;

    unsigned n_calls = (unsigned)draw_below(seed, STREAM_API, gid, 0, s->sparse ? 2 : 3);
    for (unsigned i = 0; i < n_calls; i++) {
        uint32_t base = 1 + 4 * i;
        uint64_t callee = draw_below(seed, STREAM_API, gid, base, s->n_workloads - 1);
        if (callee >= gid)
            callee++; /* skip the caller itself */
        unsigned service = draw_service(seed, STREAM_API, gid, base + 1);
        enum tc_trust trust = draw_chance(seed, STREAM_API, gid, base + 3, 0.4)
                                  ? TC_TRUST_IMPLICIT : TC_TRUST_NONE;
        if (tc_topology_add_api_edge(t, gid, callee, service, trust, err) != TC_OK)
            return err->code;
    }

    /* Dense: 0, 0, 0, 1 or 2 grants, 0.6 per workload on average. Sparse: one
     * grant in ten workloads. */
    uint64_t roll = draw_below(seed, STREAM_GRANT, gid, 0, s->sparse ? 10 : 5);
    unsigned n_grants = 0;
    if (s->sparse && roll == 0)
        n_grants = 1;
    else if (!s->sparse && roll >= 3)
        n_grants = (unsigned)(roll - 2);
    for (unsigned i = 0; i < n_grants; i++) {
        uint32_t base = 1 + 8 * i;
        uint32_t principal = (uint32_t)draw_below(seed, STREAM_GRANT, gid, base, s->principals);
        bool gated = draw_chance(seed, STREAM_GRANT, gid, base + 1, 0.6);
        tc_svcmask services = draw_services(seed, STREAM_GRANT, gid, base + 2, 2);
        if (tc_topology_add_grant(t, principal, gid, services, gated, err) != TC_OK)
            return err->code;
    }
    return TC_OK;
}

/* Build and finish the topology. tc_topology_finish runs even after a failed
 * call, because it is collective and makes the ranks agree on the failure. */
static int build_topology(random_topology *rt, const random_shape *s, MPI_Comm comm,
                          tc_error *err)
{
    if (tc_topology_create(comm, s->n_workloads, &rt->topology, err) != TC_OK)
        return err->code;
    tc_topology *t = rt->topology;

    int status = build_hubs(t, rt->seed, s, err);
    for (uint64_t gid = t->first; status == TC_OK && gid < t->first + t->n_local; gid++)
        status = build_workload(t, rt->seed, s, gid, err);
    return tc_topology_finish(t, err);
}

/* ---- SmartGroups and policies ---- */

/* One comparison of a selector; uses draws 4 * INDEX .. 4 * INDEX + 2. The
 * selector grammar rejects a value listed twice in "in [...]", so two equal
 * draws give "==". */
static void selector_atom(uint64_t seed, const random_shape *s, uint64_t group, uint32_t index,
                          char *buf, size_t len)
{
    uint32_t base = 4 * index;
    uint64_t kind = draw_below(seed, STREAM_GROUP, group, base, 12);
    uint64_t a = draw_below(seed, STREAM_GROUP, group, base + 1, 1u << 20);
    uint64_t b = draw_below(seed, STREAM_GROUP, group, base + 2, 1u << 20);

    switch (kind) {
    case 0: snprintf(buf, len, "env == %s", tc_env_names[a % TC_ENV_COUNT]); break;
    case 1: snprintf(buf, len, "env != %s", tc_env_names[a % TC_ENV_COUNT]); break;
    case 2:
        if (a % TC_TIER_COUNT == b % TC_TIER_COUNT)
            snprintf(buf, len, "tier == %s", tc_tier_names[a % TC_TIER_COUNT]);
        else
            snprintf(buf, len, "tier in [%s, %s]", tc_tier_names[a % TC_TIER_COUNT],
                     tc_tier_names[b % TC_TIER_COUNT]);
        break;
    case 3: snprintf(buf, len, "tenant == tenant-%u", (unsigned)(a % s->tenants)); break;
    case 4: snprintf(buf, len, "app == app-%u", (unsigned)(a % s->apps)); break;
    case 5: snprintf(buf, len, "segment == seg-%u", (unsigned)(a % s->segments)); break;
    case 6: snprintf(buf, len, "internet_facing"); break;
    case 7: snprintf(buf, len, "!internet_facing"); break;
    case 8: snprintf(buf, len, "crown != none"); break;
    case 9: snprintf(buf, len, "principal == role-%u", (unsigned)(a % s->principals)); break;
    case 10:
        if (a % s->vpcs == b % s->vpcs)
            snprintf(buf, len, "vpc == vpc-%u", (unsigned)(a % s->vpcs));
        else
            snprintf(buf, len, "vpc in [vpc-%u, vpc-%u]", (unsigned)(a % s->vpcs),
                     (unsigned)(b % s->vpcs));
        break;
    default: snprintf(buf, len, "true"); break;
    }
}

static int build_group(uint64_t seed, const random_shape *s, uint32_t g, tc_group_spec *group,
                       tc_error *err)
{
    char left[128], right[128], text[300], name[32], parse_error[256];
    int column = 0;

    selector_atom(seed, s, g, 0, left, sizeof left);
    selector_atom(seed, s, g, 1, right, sizeof right);
    switch (draw_below(seed, STREAM_GROUP, g, 100, 4)) {
    case 0: snprintf(text, sizeof text, "%s", left); break;
    case 1: snprintf(text, sizeof text, "%s && %s", left, right); break;
    case 2: snprintf(text, sizeof text, "%s || %s", left, right); break;
    default: snprintf(text, sizeof text, "!(%s)", left); break;
    }
    snprintf(name, sizeof name, "group-%u", g);

    group->name = strdup(name);
    group->text = strdup(text);
    if (!group->name || !group->text)
        return tc_error_runtime(err, "out of memory for SmartGroup %u", g);
    if (tc_selector_parse(text, &group->selector, parse_error, sizeof parse_error, &column) != 0)
        return tc_error_runtime(err, "generated selector '%s' is invalid at column %d: %s",
                                text, column, parse_error);
    return TC_OK;
}

static int build_rules_policy(uint64_t seed, const random_shape *s, tc_policy_spec *p,
                              tc_error *err)
{
    p->kind = TC_POLICY_RULES;
    p->default_allow = draw_chance(seed, STREAM_RULE, 0, 0, 0.5);
    p->n_rules = (size_t)draw_below(seed, STREAM_RULE, 0, 1, 7);
    p->rules = calloc(p->n_rules + 1, sizeof *p->rules);
    if (!p->rules)
        return tc_error_runtime(err, "out of memory for %zu policy rules", p->n_rules);

    for (size_t r = 0; r < p->n_rules; r++) {
        tc_rule_spec *rule = &p->rules[r];
        uint64_t entity = r + 1;
        rule->from = (uint32_t)draw_below(seed, STREAM_RULE, entity, 1, s->groups);
        if (draw_chance(seed, STREAM_RULE, entity, 0, 0.25))
            rule->from = TC_GROUP_ANY;
        rule->to = (uint32_t)draw_below(seed, STREAM_RULE, entity, 3, s->groups);
        if (draw_chance(seed, STREAM_RULE, entity, 2, 0.25))
            rule->to = TC_GROUP_ANY;
        rule->services = draw_chance(seed, STREAM_RULE, entity, 4, 0.25)
                             ? TC_SERVICE_ALL : draw_services(seed, STREAM_RULE, entity, 5, 3);
        rule->allow = draw_chance(seed, STREAM_RULE, entity, 20, 0.5);
    }
    return TC_OK;
}

/* A granularity of 1-3 distinct attributes, by a partial Fisher-Yates
 * shuffle. The scenario loader rejects an empty granularity, so none is
 * drawn. */
static void build_derived_policy(uint64_t seed, tc_policy_spec *p)
{
    uint8_t attrs[TC_ATTR_COUNT];
    for (int a = 0; a < TC_ATTR_COUNT; a++)
        attrs[a] = (uint8_t)a;

    p->kind = TC_POLICY_DERIVED;
    p->default_allow = false;
    p->n_granularity = 1 + (size_t)draw_below(seed, STREAM_GRANULARITY, 0, 0, 3);
    for (size_t i = 0; i < p->n_granularity; i++) {
        size_t j = i + (size_t)draw_below(seed, STREAM_GRANULARITY, 0, 1 + (uint32_t)i,
                                          TC_ATTR_COUNT - i);
        uint8_t swap = attrs[i];
        attrs[i] = attrs[j];
        attrs[j] = swap;
        p->granularity[i] = attrs[i];
    }
}

static int build_scenario(random_topology *rt, const random_shape *s, tc_error *err)
{
    tc_scenario *sc = &rt->scenario;
    char name[64];

    snprintf(name, sizeof name, "random-%llu", (unsigned long long)rt->seed);
    sc->path = strdup(name);
    sc->name = strdup(name);
    sc->groups = calloc(s->groups, sizeof *sc->groups);
    sc->policies = calloc(RANDOM_POLICY_COUNT, sizeof *sc->policies);
    if (!sc->path || !sc->name || !sc->groups || !sc->policies)
        return tc_error_runtime(err, "out of memory for the scenario of case %s", name);
    sc->seed = rt->seed;
    sc->source = TC_TOPOLOGY_GENERATED;
    sc->crown_kinds = (uint8_t)(((1u << TC_CROWN_COUNT) - 1) & ~1u);

    sc->n_groups = s->groups;
    for (uint32_t g = 0; g < s->groups; g++)
        if (build_group(rt->seed, s, g, &sc->groups[g], err) != TC_OK)
            return err->code;

    sc->n_policies = RANDOM_POLICY_COUNT;
    const char *policy_names[RANDOM_POLICY_COUNT] = { "legacy", "rules", "derived" };
    for (int i = 0; i < RANDOM_POLICY_COUNT; i++)
        if (!(sc->policies[i].name = strdup(policy_names[i])))
            return tc_error_runtime(err, "out of memory for the policy names");
    sc->policies[RANDOM_POLICY_LEGACY].kind = TC_POLICY_LEGACY;
    sc->policies[RANDOM_POLICY_LEGACY].default_allow = true;
    if (build_rules_policy(rt->seed, s, &sc->policies[RANDOM_POLICY_RULES], err) != TC_OK)
        return err->code;
    build_derived_policy(rt->seed, &sc->policies[RANDOM_POLICY_DERIVED]);

    sc->hop_budget = draw_chance(rt->seed, STREAM_FOOTHOLD, 0, 0, 0.2)
                         ? 50 : 1 + (uint32_t)draw_below(rt->seed, STREAM_FOOTHOLD, 0, 1, 6);
    return TC_OK;
}

/* ---- footholds ---- */

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int build_footholds(random_topology *rt, const random_shape *s, tc_error *err)
{
    uint64_t seed = rt->seed;
    size_t n = (size_t)draw_below(seed, STREAM_FOOTHOLD, 0, 2, 4);
    bool with_package = s->packages > 0 &&
                        (n == 0 || draw_chance(seed, STREAM_FOOTHOLD, 0, 3, 0.3));
    if (n == 0 && !with_package)
        n = 1;

    rt->foothold_workloads = calloc(n + 1, sizeof *rt->foothold_workloads);
    rt->foothold_packages = calloc(1, sizeof *rt->foothold_packages);
    if (!rt->foothold_workloads || !rt->foothold_packages)
        return tc_error_runtime(err, "out of memory for the footholds");

    for (size_t i = 0; i < n; i++)
        rt->foothold_workloads[i] = draw_below(seed, STREAM_FOOTHOLD, 0, 10 + (uint32_t)i,
                                               s->n_workloads);
    qsort(rt->foothold_workloads, n, sizeof *rt->foothold_workloads, compare_u64);
    size_t unique = 0;
    for (size_t i = 0; i < n; i++)
        if (unique == 0 || rt->foothold_workloads[unique - 1] != rt->foothold_workloads[i])
            rt->foothold_workloads[unique++] = rt->foothold_workloads[i];
    rt->n_foothold_workloads = unique;

    if (with_package) {
        rt->foothold_packages[0] = (uint32_t)draw_below(seed, STREAM_FOOTHOLD, 0, 4, s->packages);
        rt->n_foothold_packages = 1;
    }
    return TC_OK;
}

/* ---- API ---- */

int random_topology_build(uint64_t seed, MPI_Comm comm, random_topology **out, tc_error *err)
{
    *out = NULL;
    random_topology *rt = calloc(1, sizeof *rt);
    if (!rt)
        tc_error_runtime(err, "out of memory for random case %llu", (unsigned long long)seed);
    if (tc_error_agree(err, comm) != TC_OK) {
        free(rt);
        return err->code;
    }

    rt->seed = seed;
    random_shape shape = draw_shape(seed);
    if (build_topology(rt, &shape, comm, err) != TC_OK) {
        random_topology_free(rt);
        return err->code;
    }

    /* The rest is local and draws the same on every rank; agreeing keeps a
     * rank that ran out of memory from leaving the others behind. */
    int status = build_scenario(rt, &shape, err);
    if (status == TC_OK)
        status = build_footholds(rt, &shape, err);
    if (tc_error_agree(err, comm) != TC_OK) {
        random_topology_free(rt);
        return err->code;
    }
    *out = rt;
    return TC_OK;
}

void random_topology_free(random_topology *rt)
{
    if (!rt)
        return;
    tc_scenario *sc = &rt->scenario;
    if (sc->groups)
        for (size_t g = 0; g < sc->n_groups; g++) {
            if (sc->groups[g].selector)
                tc_selector_free(sc->groups[g].selector);
            free(sc->groups[g].name);
            free(sc->groups[g].text);
        }
    if (sc->policies)
        for (size_t p = 0; p < sc->n_policies; p++) {
            free(sc->policies[p].name);
            free(sc->policies[p].rules);
        }
    free(sc->groups);
    free(sc->policies);
    free(sc->path);
    free(sc->name);
    free(rt->foothold_workloads);
    free(rt->foothold_packages);
    tc_topology_free(rt->topology);
    free(rt);
}
