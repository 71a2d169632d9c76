/*
 * reference.c - the serial reference simulator; see reference.h for the
 * rules it implements.
 *
 * Plainness over speed: every mask is recomputed from its definition, every
 * level scans all pairs, and nothing is cached but the reach matrix. Each
 * helper below implements one numbered rule of reference.h.
 */
#include "reference.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "selector.h"

/* Group membership of every workload, for a rules policy:
 * member[g * n + w] is true when SmartGroup g contains workload w. */
typedef struct reference_groups {
    size_t n_groups;
    uint64_t n;
    bool *member;
} reference_groups;

static bool workload_in_group(const reference_groups *groups, uint32_t group, uint64_t w)
{
    if (group == TC_GROUP_ANY)
        return true;
    return groups->member[(size_t)group * groups->n + w];
}

/* Value of attribute ATTR (enum tc_attr) of workload W. */
static uint32_t workload_attribute(const tc_topology *t, uint64_t w, int attr)
{
    switch (attr) {
    case TC_ATTR_TENANT: return t->tenant[w];
    case TC_ATTR_ACCOUNT: return t->account[w];
    case TC_ATTR_VPC: return t->vpc[w];
    case TC_ATTR_SUBNET: return t->subnet[w];
    case TC_ATTR_SEGMENT: return t->segment[w];
    case TC_ATTR_APP: return t->app[w];
    case TC_ATTR_PRINCIPAL: return t->principal[w];
    case TC_ATTR_ENV: return t->env[w];
    case TC_ATTR_TIER: return t->tier[w];
    case TC_ATTR_CROWN: return t->crown[w];
    case TC_ATTR_INTERNET_FACING: return (t->flags[w] & TC_WORKLOAD_INTERNET_FACING) ? 1 : 0;
    default: return 0;
    }
}

static tc_svcmask base_mask(const tc_topology *t, uint64_t u, uint64_t v)
{
    tc_svcmask mask = 0;
    for (uint64_t r = 0; r < t->n_base_rules; r++) {
        const tc_base_rule *rule = &t->base_rules[r];
        if (rule->from_segment == t->segment[u] && rule->to_segment == t->segment[v])
            mask |= rule->services;
    }
    return mask;
}

/* Rule 1: decide each service by the first matching rule whose services
 * contain it. */
static tc_svcmask rules_policy_mask(const tc_policy_spec *spec, const reference_groups *groups,
                                    uint64_t u, uint64_t v)
{
    tc_svcmask allowed = 0;
    for (unsigned s = 0; s < TC_SERVICE_COUNT; s++) {
        tc_svcmask bit = (tc_svcmask)1 << s;
        bool allow = spec->default_allow;
        for (size_t r = 0; r < spec->n_rules; r++) {
            const tc_rule_spec *rule = &spec->rules[r];
            if ((rule->services & bit) && workload_in_group(groups, rule->from, u) &&
                workload_in_group(groups, rule->to, v)) {
                allow = rule->allow;
                break;
            }
        }
        if (allow)
            allowed |= bit;
    }
    return allowed;
}

/* Rule 2: the group of each workload is the lowest workload id with the same
 * granularity tuple. */
static void derived_groups(const tc_topology *t, const tc_policy_spec *spec, uint64_t *group_of)
{
    uint64_t n = t->n_workloads;
    for (uint64_t w = 0; w < n; w++) {
        group_of[w] = w;
        for (uint64_t x = 0; x < w; x++) {
            bool same = true;
            for (size_t a = 0; a < spec->n_granularity && same; a++)
                same = workload_attribute(t, w, spec->granularity[a]) ==
                       workload_attribute(t, x, spec->granularity[a]);
            if (same) {
                group_of[w] = x;
                break;
            }
        }
    }
}

/* Rule 2: allowed[g * n + h] collects the services of the legitimate flows
 * from group g to group h (rule 7 lists the flows). */
static void derived_allow(const tc_topology *t, const uint64_t *group_of, tc_svcmask *allowed)
{
    uint64_t n = t->n_workloads;

    for (uint64_t u = 0; u < n; u++)
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++) {
            uint64_t v = t->api_targets[e];
            allowed[group_of[u] * n + group_of[v]] |= (tc_svcmask)1 << t->api_service[e];
        }

    for (uint32_t p = 0; p < t->principals.count; p++)
        for (uint64_t g = t->grant_offsets[p]; g < t->grant_offsets[p + 1]; g++) {
            const tc_grant *grant = &t->grants[g];
            if (!grant->gated)
                continue;
            for (uint64_t w = 0; w < n; w++)
                if (t->principal[w] == p)
                    allowed[group_of[w] * n + group_of[grant->target_local]] |= grant->services;
        }
}

static int check_single_rank(const tc_topology *t, tc_error *err)
{
    if (t->nranks != 1 || t->first != 0 || t->n_local != t->n_workloads)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "the reference needs a topology built on one rank, "
                              "but this one spans %d ranks", t->nranks);
    return TC_OK;
}

static int groups_evaluate(const reference_input *in, reference_groups *groups, tc_error *err)
{
    const tc_topology *t = in->topology;
    groups->n_groups = in->n_groups;
    groups->n = t->n_workloads;
    groups->member = calloc(in->n_groups * t->n_workloads + 1, sizeof *groups->member);
    if (!groups->member)
        return tc_error_runtime(err, "out of memory evaluating %zu SmartGroups", in->n_groups);

    for (size_t g = 0; g < in->n_groups; g++) {
        if (tc_selector_bind(in->groups[g].selector, t, err) != TC_OK)
            return err->code;
        const tc_selector *selector = in->groups[g].selector;
        for (uint64_t w = 0; w < t->n_workloads; w++)
            groups->member[g * t->n_workloads + w] = tc_selector_match(selector, t, w);
    }
    return TC_OK;
}

static int check_rule_groups(const reference_input *in, tc_error *err)
{
    const tc_policy_spec *spec = in->policy;
    if (spec->kind != TC_POLICY_RULES)
        return TC_OK;
    for (size_t r = 0; r < spec->n_rules; r++) {
        const tc_rule_spec *rule = &spec->rules[r];
        if ((rule->from != TC_GROUP_ANY && rule->from >= in->n_groups) ||
            (rule->to != TC_GROUP_ANY && rule->to >= in->n_groups))
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "rule %zu of policy '%s' names group %u or %u, "
                                  "but the scenario has %zu groups",
                                  r, spec->name ? spec->name : "?", rule->from, rule->to,
                                  in->n_groups);
    }
    return TC_OK;
}

int reference_reach_matrix(const reference_input *in, tc_svcmask **base_out,
                           tc_svcmask **reach_out, tc_error *err)
{
    const tc_topology *t = in->topology;
    const tc_policy_spec *spec = in->policy;
    uint64_t n = t->n_workloads;
    reference_groups groups = { 0 };
    uint64_t *group_of = NULL;
    tc_svcmask *allowed = NULL;
    tc_svcmask *base = NULL, *reach = NULL;

    *base_out = NULL;
    *reach_out = NULL;
    if (check_single_rank(t, err) != TC_OK || check_rule_groups(in, err) != TC_OK)
        return err->code;

    base = calloc(n * n + 1, sizeof *base);
    reach = calloc(n * n + 1, sizeof *reach);
    if (!base || !reach) {
        tc_error_runtime(err, "out of memory for the %llu x %llu reach matrix",
                         (unsigned long long)n, (unsigned long long)n);
        goto fail_matrices;
    }

    if (spec->kind == TC_POLICY_RULES && groups_evaluate(in, &groups, err) != TC_OK)
        goto fail_groups;
    if (spec->kind == TC_POLICY_DERIVED) {
        group_of = malloc((n + 1) * sizeof *group_of);
        allowed = calloc(n * n + 1, sizeof *allowed);
        if (!group_of || !allowed) {
            tc_error_runtime(err, "out of memory deriving the policy '%s'",
                             spec->name ? spec->name : "?");
            goto fail_derived;
        }
        derived_groups(t, spec, group_of);
        derived_allow(t, group_of, allowed);
    }

    for (uint64_t u = 0; u < n; u++)
        for (uint64_t v = 0; v < n; v++) {
            tc_svcmask policy;
            if (spec->kind == TC_POLICY_RULES)
                policy = rules_policy_mask(spec, &groups, u, v);
            else if (spec->kind == TC_POLICY_DERIVED)
                policy = allowed[group_of[u] * n + group_of[v]];
            else
                policy = TC_SERVICE_ALL;
            base[u * n + v] = base_mask(t, u, v);
            reach[u * n + v] = base[u * n + v] & policy;
        }

    free(allowed);
    free(group_of);
    free(groups.member);
    *base_out = base;
    *reach_out = reach;
    return TC_OK;

fail_derived:
    free(allowed);
    free(group_of);
fail_groups:
    free(groups.member);
fail_matrices:
    free(reach);
    free(base);
    return err->code;
}

/* ---- the simulation ---- */

/* One run: the topology, its reach matrix and the result being filled. */
typedef struct reference_state {
    const tc_topology *t;
    const tc_svcmask *reach;
    reference_result *result;
} reference_state;

static bool compromised_by(const reference_state *st, uint64_t w, uint32_t h)
{
    return st->result->hop[w] != TC_HOP_NONE && st->result->hop[w] <= h;
}

static bool held_by(const reference_state *st, uint32_t p, uint32_t h)
{
    return st->result->principal_hop[p] != TC_HOP_NONE && st->result->principal_hop[p] <= h;
}

static bool network_step(const reference_state *st, uint64_t v, uint32_t h)
{
    const tc_topology *t = st->t;
    uint64_t n = t->n_workloads;
    tc_svcmask target = t->exposed[v] & t->exploitable[v];
    for (uint64_t u = 0; u < n; u++)
        if (compromised_by(st, u, h) && (st->reach[u * n + v] & target))
            return true;
    return false;
}

static bool api_step(const reference_state *st, uint64_t v, uint32_t h)
{
    const tc_topology *t = st->t;
    uint64_t n = t->n_workloads;
    for (uint64_t u = 0; u < n; u++) {
        if (!compromised_by(st, u, h))
            continue;
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++)
            if (t->api_targets[e] == v && t->api_trust[e] == TC_TRUST_IMPLICIT &&
                (st->reach[u * n + v] & ((tc_svcmask)1 << t->api_service[e])))
                return true;
    }
    return false;
}

static bool credential_step(const reference_state *st, uint64_t v, uint32_t h)
{
    const tc_topology *t = st->t;
    uint64_t n = t->n_workloads;
    for (uint32_t p = 0; p < t->principals.count; p++) {
        if (!held_by(st, p, h))
            continue;
        for (uint64_t g = t->grant_offsets[p]; g < t->grant_offsets[p + 1]; g++) {
            const tc_grant *grant = &t->grants[g];
            if (grant->target_local != v)
                continue;
            if (!grant->gated)
                return true;
            for (uint64_t w = 0; w < n; w++)
                if (compromised_by(st, w, h) && (st->reach[w * n + v] & grant->services))
                    return true;
        }
    }
    return false;
}

static bool supply_chain_step(const reference_state *st, uint64_t v, uint32_t h)
{
    const tc_topology *t = st->t;
    for (uint64_t i = t->install_offsets[v]; i < t->install_offsets[v + 1]; i++) {
        uint32_t package = t->install_packages[i];
        for (uint32_t p = 0; p < t->principals.count; p++) {
            if (!held_by(st, p, h))
                continue;
            for (uint64_t k = t->publish_offsets[p]; k < t->publish_offsets[p + 1]; k++)
                if (t->publishes[k] == package)
                    return true;
        }
    }
    return false;
}

/* Rule 5: the kind of step that compromises V at hop H + 1, or TC_STEP_COUNT
 * when none does. Tried in enum order, so the lowest kind wins. */
static uint8_t step_at_next_hop(const reference_state *st, uint64_t v, uint32_t h)
{
    if (network_step(st, v, h))
        return TC_STEP_NETWORK;
    if (api_step(st, v, h))
        return TC_STEP_API;
    if (credential_step(st, v, h))
        return TC_STEP_CREDENTIAL;
    if (supply_chain_step(st, v, h))
        return TC_STEP_SUPPLY_CHAIN;
    return TC_STEP_COUNT;
}

/* Rule 4: give every principal of a workload compromised at hop H, and every
 * principal assumable from a principal held at H, the hop H when it has
 * none. Repeats until nothing changes, so chains of any length are followed. */
static void hold_principals(reference_state *st, uint32_t h)
{
    const tc_topology *t = st->t;
    uint16_t *held = st->result->principal_hop;

    for (uint64_t w = 0; w < t->n_workloads; w++)
        if (st->result->hop[w] == h && held[t->principal[w]] == TC_HOP_NONE)
            held[t->principal[w]] = (uint16_t)h;

    bool changed = true;
    while (changed) {
        changed = false;
        for (uint32_t p = 0; p < t->principals.count; p++) {
            if (held[p] != h)
                continue;
            for (uint64_t k = t->assume_offsets[p]; k < t->assume_offsets[p + 1]; k++)
                if (held[t->assumes[k]] == TC_HOP_NONE) {
                    held[t->assumes[k]] = (uint16_t)h;
                    changed = true;
                }
        }
    }
}

/* Rule 6: packages published by a principal held at hop H - 1 or earlier
 * fall at hop H. */
static void compromise_packages(reference_state *st, uint32_t h)
{
    const tc_topology *t = st->t;
    for (uint32_t p = 0; p < t->principals.count; p++) {
        if (!held_by(st, p, h - 1))
            continue;
        for (uint64_t k = t->publish_offsets[p]; k < t->publish_offsets[p + 1]; k++)
            if (st->result->package_hop[t->publishes[k]] == TC_HOP_NONE)
                st->result->package_hop[t->publishes[k]] = (uint16_t)h;
    }
}

/* Rule 3. */
static int place_footholds(const reference_input *in, reference_state *st, tc_error *err)
{
    const tc_topology *t = in->topology;
    reference_result *r = st->result;

    for (size_t i = 0; i < in->n_foothold_packages; i++) {
        if (in->foothold_packages[i] >= t->packages.count)
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "foothold package %u is out of range (%u packages)",
                                  in->foothold_packages[i], t->packages.count);
        r->package_hop[in->foothold_packages[i]] = 0;
    }
    for (size_t i = 0; i < in->n_foothold_workloads; i++) {
        if (in->foothold_workloads[i] >= t->n_workloads)
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "foothold workload %llu is out of range (%llu workloads)",
                                  (unsigned long long)in->foothold_workloads[i],
                                  (unsigned long long)t->n_workloads);
        r->hop[in->foothold_workloads[i]] = 0;
        r->step[in->foothold_workloads[i]] = TC_STEP_FOOTHOLD;
    }
    for (uint64_t w = 0; w < t->n_workloads; w++)
        for (uint64_t i = t->install_offsets[w]; i < t->install_offsets[w + 1]; i++)
            if (r->package_hop[t->install_packages[i]] == 0) {
                r->hop[w] = 0;
                r->step[w] = TC_STEP_FOOTHOLD;
            }
    return TC_OK;
}

/* Rule 7. */
static void count_flows(const tc_topology *t, const tc_svcmask *base, const tc_svcmask *reach,
                        reference_result *r)
{
    uint64_t n = t->n_workloads;

    for (uint64_t u = 0; u < n; u++)
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++) {
            uint64_t v = t->api_targets[e];
            tc_svcmask bit = (tc_svcmask)1 << t->api_service[e];
            r->flows_total++;
            if (!(base[u * n + v] & bit))
                r->flows_base_denied++;
            else if (!(reach[u * n + v] & bit))
                r->flows_broken++;
        }

    for (uint32_t p = 0; p < t->principals.count; p++)
        for (uint64_t g = t->grant_offsets[p]; g < t->grant_offsets[p + 1]; g++) {
            const tc_grant *grant = &t->grants[g];
            if (!grant->gated)
                continue;
            uint64_t v = grant->target_local;
            for (uint64_t w = 0; w < n; w++) {
                if (t->principal[w] != p)
                    continue;
                r->flows_total++;
                if (!(base[w * n + v] & grant->services))
                    r->flows_base_denied++;
                else if (!(reach[w * n + v] & grant->services))
                    r->flows_broken++;
            }
        }
}

static reference_result *result_create(const tc_topology *t)
{
    reference_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->n_workloads = t->n_workloads;
    r->n_principals = t->principals.count;
    r->n_packages = t->packages.count;
    r->hop = malloc((t->n_workloads + 1) * sizeof *r->hop);
    r->step = malloc(t->n_workloads + 1);
    r->principal_hop = malloc((r->n_principals + 1) * sizeof *r->principal_hop);
    r->package_hop = malloc((r->n_packages + 1) * sizeof *r->package_hop);
    if (!r->hop || !r->step || !r->principal_hop || !r->package_hop) {
        reference_result_free(r);
        return NULL;
    }
    for (uint64_t w = 0; w < t->n_workloads; w++) {
        r->hop[w] = TC_HOP_NONE;
        r->step[w] = TC_STEP_COUNT;
    }
    for (uint32_t p = 0; p < r->n_principals; p++)
        r->principal_hop[p] = TC_HOP_NONE;
    for (uint32_t k = 0; k < r->n_packages; k++)
        r->package_hop[k] = TC_HOP_NONE;
    return r;
}

int reference_run(const reference_input *in, reference_result **out, tc_error *err)
{
    const tc_topology *t = in->topology;
    tc_svcmask *base = NULL, *reach = NULL;
    uint8_t *next_step = NULL;
    reference_result *r = NULL;
    reference_state st;

    *out = NULL;
    if (reference_reach_matrix(in, &base, &reach, err) != TC_OK)
        return err->code;

    r = result_create(t);
    next_step = malloc(t->n_workloads + 1);
    if (!r || !next_step) {
        tc_error_runtime(err, "out of memory for the reference result");
        goto fail;
    }
    st = (reference_state){ t, reach, r };

    if (place_footholds(in, &st, err) != TC_OK)
        goto fail;
    hold_principals(&st, 0);

    /* Level h + 1 reads only the state at hops <= h: the candidates are all
     * decided before any of them is marked. When a level compromises no
     * workload, no principal becomes held either, so no later level can
     * change anything and the loop stops. */
    uint32_t budget = in->hop_budget < TC_HOP_NONE ? in->hop_budget : TC_HOP_NONE - 1;
    for (uint32_t h = 0; h < budget; h++) {
        uint64_t fallen = 0;
        for (uint64_t v = 0; v < t->n_workloads; v++)
            next_step[v] = r->hop[v] == TC_HOP_NONE ? step_at_next_hop(&st, v, h) : TC_STEP_COUNT;

        compromise_packages(&st, h + 1);
        for (uint64_t v = 0; v < t->n_workloads; v++)
            if (next_step[v] != TC_STEP_COUNT) {
                r->hop[v] = (uint16_t)(h + 1);
                r->step[v] = next_step[v];
                fallen++;
            }
        if (fallen == 0)
            break;
        r->levels = h + 1;
        hold_principals(&st, h + 1);
    }

    count_flows(t, base, reach, r);
    free(next_step);
    free(reach);
    free(base);
    *out = r;
    return TC_OK;

fail:
    free(next_step);
    reference_result_free(r);
    free(reach);
    free(base);
    return err->code;
}

void reference_result_free(reference_result *r)
{
    if (!r)
        return;
    free(r->hop);
    free(r->step);
    free(r->principal_hop);
    free(r->package_hop);
    free(r);
}
