/*
 * whatif_apply.c - closures applied the plain way: a copy of the topology
 * rebuilt through the builder with the closures' edits, the policy
 * recompiled where they change it, and tc_sim_run. This is what a lane of
 * the lane engine must equal, and what the benchmark times per candidate.
 *
 * The copy keeps every id: name tables, segments, principals and packages
 * are added in the same order, and the principals of split ones ("P#A")
 * come after them, principals in id order and apps ascending, as in the
 * lane engine. Workloads keep their ranks, so per-workload arrays of the
 * original footholds and policy line up with the copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "whatif_state.h"

/* The closures of one run, by what they edit. */
typedef struct apply_edits {
    tc_keymap base;            /* (from segment, to segment) -> services removed */
    tc_keymap revoke;          /* (principal, app) */
    tc_keymap trust;           /* (caller app, callee app) */
    tc_keymap split_ids;       /* (principal, app) -> index of P#A */
    uint8_t *split;            /* per principal */
    uint8_t *package;          /* per package: removed */
    tc_svcmask *rule_removed;  /* per policy rule */
    int maps_ready;
    bool any_base, any_rule, any_trust, any_split, any_revoke, any_package;
} apply_edits;

static void edits_free(apply_edits *ed)
{
    if (ed->maps_ready) {
        tc_keymap_free(&ed->base);
        tc_keymap_free(&ed->revoke);
        tc_keymap_free(&ed->trust);
        tc_keymap_free(&ed->split_ids);
    }
    free(ed->split);
    free(ed->package);
    free(ed->rule_removed);
    memset(ed, 0, sizeof *ed);
}

static int edits_collect(const tc_whatif *w, const tc_closure *cl, size_t n, apply_edits *ed,
                         tc_error *err)
{
    memset(ed, 0, sizeof *ed);
    ed->maps_ready = tc_keymap_init(&ed->base, 2) == 0 && tc_keymap_init(&ed->revoke, 2) == 0 &&
                     tc_keymap_init(&ed->trust, 2) == 0 && tc_keymap_init(&ed->split_ids, 2) == 0;
    ed->split = calloc((size_t)w->n_principals + 1, 1);
    ed->package = calloc((size_t)w->n_packages + 1, 1);
    ed->rule_removed = calloc(w->in.spec->n_rules + 1, sizeof(tc_svcmask));
    if (!ed->maps_ready || !ed->split || !ed->package || !ed->rule_removed)
        return tc_error_runtime(err, "out of memory applying closures");

    for (size_t j = 0; j < n; j++) {
        const tc_closure *c = &cl[j];
        if (tc_whatif_check(w, c, err) != TC_OK)
            return err->code;
        uint64_t key[2] = { c->first, c->second };
        tc_keymap *map = NULL;
        switch (c->kind) {
        case TC_CLOSE_BASE_RULE:
            map = &ed->base;
            ed->any_base = true;
            break;
        case TC_CLOSE_POLICY_RULE:
            ed->rule_removed[c->first] |= c->services;
            ed->any_rule = true;
            break;
        case TC_CLOSE_SPLIT:
            ed->split[c->first] = 1;
            ed->any_split = true;
            break;
        case TC_CLOSE_REVOKE:
            map = &ed->revoke;
            ed->any_revoke = true;
            break;
        case TC_CLOSE_TRUST:
            map = &ed->trust;
            ed->any_trust = true;
            break;
        case TC_CLOSE_PACKAGE:
            ed->package[c->first] = 1;
            ed->any_package = true;
            break;
        default:
            break;
        }
        uint32_t id = map ? tc_keymap_intern(map, key) : 0;
        if (id == UINT32_MAX)
            return tc_error_runtime(err, "out of memory applying closures");
        if (map)
            map->values[id] |= c->services;
    }

    /* Split principals numbered as the lane engine numbers them. */
    for (uint32_t q = 0; q < w->n_principals; q++)
        for (uint64_t k = w->principal_app_offsets[q]; ed->split[q] &&
                                                       k < w->principal_app_offsets[q + 1]; k++) {
            uint64_t key[2] = { q, w->principal_apps[k] };
            if (tc_keymap_intern(&ed->split_ids, key) == UINT32_MAX)
                return tc_error_runtime(err, "out of memory applying closures");
        }
    return TC_OK;
}

static bool map_has(const tc_keymap *m, uint32_t first, uint32_t second)
{
    uint64_t key[2] = { first, second };
    return tc_keymap_find(m, key) != UINT32_MAX;
}

/* ---- the copy ---- */

/* Hub layer: the same calls on every rank, in id order. */
static int copy_hubs(const tc_whatif *w, const apply_edits *ed, bool all_edits, tc_topology *c,
                     tc_error *err)
{
    const tc_topology *t = w->t;
    const tc_names *from[] = { &t->tenants, &t->accounts, &t->vpcs, &t->subnets, &t->apps };
    tc_names *to[] = { &c->tenants, &c->accounts, &c->vpcs, &c->subnets, &c->apps };
    for (size_t k = 0; k < sizeof from / sizeof *from; k++)
        for (uint32_t id = 0; id < from[k]->count; id++)
            if (tc_topology_intern(c, to[k], from[k]->names[id], err) == TC_NAME_NONE)
                return err->code ? err->code : tc_error_runtime(err, "cannot copy a name");
    for (uint32_t id = 0; id < t->workload_names.count; id++)
        if (tc_names_intern(&c->workload_names, t->workload_names.names[id], NULL) == TC_NAME_NONE)
            return tc_error_runtime(err, "out of memory copying workload names");

    for (uint32_t s = 0; s < t->segments.count; s++)
        if (tc_topology_add_segment(c, t->segments.names[s], err) == TC_NAME_NONE)
            return err->code;
    for (uint32_t q = 0; q < t->principals.count; q++)
        if (tc_topology_add_principal(c, t->principals.names[q], err) == TC_NAME_NONE)
            return err->code;
    for (uint32_t id = 0; all_edits && id < ed->split_ids.count; id++) {
        const uint64_t *key = tc_keymap_key(&ed->split_ids, id);
        char name[512];
        snprintf(name, sizeof name, "%s#%s", t->principals.names[key[0]], t->apps.names[key[1]]);
        if (tc_topology_add_principal(c, name, err) == TC_NAME_NONE)
            return err->code;
    }
    for (uint32_t k = 0; k < t->packages.count; k++)
        if (tc_topology_add_package(c, t->packages.names[k], t->package_kind[k], err) ==
            TC_NAME_NONE)
            return err->code;

    for (uint64_t r = 0; r < t->n_base_rules; r++) {
        tc_base_rule rule = t->base_rules[r];
        uint64_t key[2] = { rule.from_segment, rule.to_segment };
        uint32_t id = tc_keymap_find(&ed->base, key);
        if (id != UINT32_MAX)
            rule.services &= ~ed->base.values[id];
        if (rule.services &&
            tc_topology_add_base_rule(c, rule.from_segment, rule.to_segment, rule.services,
                                      err) != TC_OK)
            return err->code;
    }

    /* Assume and publish rights: P#A has those of P. */
    uint32_t n_copies = all_edits ? ed->split_ids.count : 0;
    for (uint32_t r = 0; r < t->principals.count + n_copies; r++) {
        uint32_t q = r < t->principals.count
                         ? r
                         : (uint32_t)tc_keymap_key(&ed->split_ids, r - t->principals.count)[0];
        for (uint64_t j = t->assume_offsets[q]; j < t->assume_offsets[q + 1]; j++)
            if (tc_topology_add_assume(c, r, t->assumes[j], err) != TC_OK)
                return err->code;
        for (uint64_t j = t->publish_offsets[q]; j < t->publish_offsets[q + 1]; j++)
            if (tc_topology_add_publish(c, r, t->publishes[j], err) != TC_OK)
                return err->code;
    }
    return TC_OK;
}

/* Owned workloads with their installs, calls and grants. */
static int copy_workloads(const tc_whatif *w, const apply_edits *ed, bool all_edits,
                          tc_topology *c, tc_error *err)
{
    const tc_topology *t = w->t;
    for (uint64_t i = 0; i < t->n_local; i++) {
        uint64_t gid = t->first + i;
        tc_workload_spec spec = {
            .tenant = t->tenant[i], .account = t->account[i], .vpc = t->vpc[i],
            .subnet = t->subnet[i], .segment = t->segment[i], .app = t->app[i],
            .principal = t->principal[i], .env = t->env[i], .tier = t->tier[i],
            .crown = t->crown[i],
            .internet_facing = (t->flags[i] & TC_WORKLOAD_INTERNET_FACING) != 0,
            .exposed = t->exposed[i], .exploitable = t->exploitable[i],
        };
        if (all_edits && ed->split[spec.principal]) {
            uint64_t key[2] = { spec.principal, spec.app };
            spec.principal = t->principals.count + tc_keymap_find(&ed->split_ids, key);
        }
        if (tc_topology_set_workload(c, gid, &spec, err) != TC_OK)
            return err->code;

        for (uint64_t k = t->install_offsets[i]; k < t->install_offsets[i + 1]; k++)
            if (!(all_edits && ed->package[t->install_packages[k]]) &&
                tc_topology_add_install(c, gid, t->install_packages[k], err) != TC_OK)
                return err->code;

        for (uint64_t e = t->api_offsets[i]; e < t->api_offsets[i + 1]; e++) {
            enum tc_trust trust = (enum tc_trust)t->api_trust[e];
            if (ed->any_trust && map_has(&ed->trust, t->app[i], w->edge_app[e]))
                trust = TC_TRUST_NONE;
            if (tc_topology_add_api_edge(c, gid, t->api_targets[e], t->api_service[e], trust,
                                         err) != TC_OK)
                return err->code;
        }
    }

    for (uint32_t q = 0; q < t->principals.count; q++) {
        for (uint64_t g = t->grant_offsets[q]; g < t->grant_offsets[q + 1]; g++) {
            const tc_grant *grant = &t->grants[g];
            uint64_t v = grant->target_local, gid = t->first + v;
            if (all_edits && ed->any_revoke && map_has(&ed->revoke, q, t->app[v]))
                continue;
            if (tc_topology_add_grant(c, q, gid, grant->services, grant->gated, err) != TC_OK)
                return err->code;
            for (uint64_t k = w->principal_app_offsets[q];
                 all_edits && ed->split[q] && k < w->principal_app_offsets[q + 1]; k++) {
                uint32_t app = w->principal_apps[k];
                if (!whatif_split_keeps(w, q, app, t->app[v]))
                    continue;
                uint64_t key[2] = { q, app };
                uint32_t copy = t->principals.count + tc_keymap_find(&ed->split_ids, key);
                if (tc_topology_add_grant(c, copy, gid, grant->services, grant->gated, err) !=
                    TC_OK)
                    return err->code;
            }
        }
    }
    return TC_OK;
}

/* Copy the context's topology with the edits of ED: all of them, or with
 * ALL_EDITS false only those that a policy compiles from (base rules and
 * trust). Collective. */
static int copy_topology(const tc_whatif *w, const apply_edits *ed, bool all_edits,
                         tc_topology **out, tc_error *err)
{
    const tc_topology *t = w->t;
    if (tc_topology_create_ranges(t->comm, t->n_workloads, t->owner_offsets, out, err) != TC_OK)
        return err->code;

    /* Finish runs even after a failed call: it is collective and makes the
     * ranks agree on the failure. */
    if (copy_hubs(w, ed, all_edits, *out, err) == TC_OK)
        copy_workloads(w, ed, all_edits, *out, err);
    if (tc_topology_finish(*out, err) != TC_OK) {
        tc_topology_free(*out);
        *out = NULL;
        return err->code;
    }
    return TC_OK;
}

/* ---- flows ---- */

static int compare_u64_pairs(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

int tc_whatif_flows_open(const tc_topology *t, const tc_policy *p, uint64_t *open,
                         tc_error *err)
{
    uint64_t n_edges = t->api_offsets[t->n_local], count = 0;
    uint32_t *callee_class = malloc((n_edges + 1) * sizeof(uint32_t));
    uint64_t *flat = malloc((2 * t->n_local + 1) * sizeof(uint64_t));
    uint64_t *all = NULL, n_all = 0;
    *open = 0;
    if (!callee_class || !flat)
        tc_error_runtime(err, "out of memory counting open flows");
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release;

    if (tc_exchange_lookup_u32(t->comm, t->owner_offsets, t->api_targets, n_edges, p->class_of,
                               callee_class, err) != TC_OK)
        goto release;
    for (uint64_t u = 0; u < t->n_local; u++)
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++)
            count += (tc_policy_reach(p, p->class_of[u], callee_class[e]) >> t->api_service[e]) & 1;

    /* (principal, class) of every workload, gathered and sorted, so that
     * the members of a principal are one run of the array. */
    for (uint64_t i = 0; i < t->n_local; i++) {
        flat[2 * i] = t->principal[i];
        flat[2 * i + 1] = p->class_of[i];
    }
    if (tc_exchange_allgather_u64(t->comm, flat, 2 * t->n_local, &all, &n_all, err) != TC_OK)
        goto release;
    uint64_t n_members = n_all / 2;
    qsort(all, n_members, 2 * sizeof(uint64_t), compare_u64_pairs);

    for (uint32_t q = 0; q < t->principals.count; q++) {
        uint64_t lo = 0, hi = n_members;
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (all[2 * mid] < q)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (uint64_t g = t->grant_offsets[q]; g < t->grant_offsets[q + 1]; g++) {
            const tc_grant *grant = &t->grants[g];
            if (!grant->gated)
                continue;
            uint32_t cv = p->class_of[grant->target_local];
            for (uint64_t k = lo; k < n_members && all[2 * k] == q; k++)
                count += (tc_policy_reach(p, (uint32_t)all[2 * k + 1], cv) & grant->services) != 0;
        }
    }
    MPI_Allreduce(&count, open, 1, MPI_UINT64_T, MPI_SUM, t->comm);

release:
    free(callee_class);
    free(flat);
    free(all);
    return tc_error_agree(err, t->comm);
}

/* ---- the plain run ---- */

static tc_policy_spec *spec_with_removals(const tc_policy_spec *spec, const tc_svcmask *removed)
{
    tc_policy_spec *copy = malloc(sizeof *copy);
    tc_rule_spec *rules = malloc((spec->n_rules + 1) * sizeof *rules);
    if (!copy || !rules) {
        free(copy);
        free(rules);
        return NULL;
    }
    *copy = *spec;
    if (spec->n_rules)
        memcpy(rules, spec->rules, spec->n_rules * sizeof *rules);
    for (size_t r = 0; r < spec->n_rules; r++)
        rules[r].services &= ~removed[r];
    copy->rules = rules;
    return copy;
}

static void spec_copy_free(tc_policy_spec *copy)
{
    if (!copy)
        return;
    free(copy->rules);
    free(copy);
}

int tc_whatif_run_plain(tc_whatif *w, const tc_closure *closures, size_t n,
                        tc_whatif_plain *out, tc_error *err)
{
    const tc_topology *t = w->t;
    apply_edits ed;
    tc_topology *all_copy = NULL, *policy_copy = NULL;
    tc_policy_spec *spec_copy = NULL;
    tc_policy *compiled = NULL;
    memset(out, 0, sizeof *out);

    if (!w->flows_open_ready) {
        if (tc_whatif_flows_open(t, w->p, &w->flows_open_before, err) != TC_OK)
            return err->code;
        w->flows_open_ready = 1;
    }
    /* The count under the policy is made once per context, not per run. */
    double start = MPI_Wtime();

    edits_collect(w, closures, n, &ed, err);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release;
    bool edits_policy_topology = ed.any_base || ed.any_trust;
    bool edits_only_topology = ed.any_split || ed.any_revoke || ed.any_package;

    /* The topology the simulation runs on, and the one the policy compiles on. */
    if ((edits_policy_topology || edits_only_topology) &&
        copy_topology(w, &ed, true, &all_copy, err) != TC_OK)
        goto release;
    const tc_topology *run_on = all_copy ? all_copy : t;
    const tc_topology *compile_on = t;
    if (edits_policy_topology && edits_only_topology) {
        if (copy_topology(w, &ed, false, &policy_copy, err) != TC_OK)
            goto release;
        compile_on = policy_copy;
    } else if (edits_policy_topology) {
        compile_on = all_copy;
    }

    const tc_policy *policy = w->p;
    if (edits_policy_topology || ed.any_rule) {
        const tc_policy_spec *spec = w->in.spec;
        if (ed.any_rule && !(spec = spec_copy = spec_with_removals(spec, ed.rule_removed)))
            tc_error_runtime(err, "out of memory copying policy '%s'", w->in.spec->name);
        if (tc_error_agree(err, t->comm) != TC_OK)
            goto release;
        if (tc_policy_compile(w->in.scenario, spec, compile_on, &compiled, err) != TC_OK)
            goto release;
        policy = compiled;
    }

    if (tc_sim_run(run_on, policy, w->in.footholds, w->in.hop_budget, &out->sim, err) != TC_OK)
        goto release;
    uint64_t counts[2] = { 0, 0 };
    for (uint64_t i = 0; i < t->n_local; i++) {
        if (out->sim->hop[i] == TC_HOP_NONE)
            continue;
        counts[0]++;
        counts[1] += w->counted_crown[i];
    }
    MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_UINT64_T, MPI_SUM, t->comm);
    out->compromised = counts[0];
    out->crown_jewels = counts[1];
    if (tc_whatif_flows_open(run_on, policy, &out->flows_open, err) != TC_OK)
        goto release;
    out->flows_broken = w->flows_open_before - out->flows_open;
    out->seconds = MPI_Wtime() - start;

release:
    tc_policy_free(compiled);
    spec_copy_free(spec_copy);
    tc_topology_free(policy_copy);
    tc_topology_free(all_copy);
    edits_free(&ed);
    if (err->code != TC_OK)
        tc_whatif_plain_free(out);
    return err->code;
}

void tc_whatif_plain_free(tc_whatif_plain *plain)
{
    tc_sim_result_free(plain->sim);
    memset(plain, 0, sizeof *plain);
}
