/*
 * whatif.c - the what-if context (see whatif.h). It contains what the lane
 * engine, the candidate enumeration and the plain re-simulation need
 * beyond the topology and the compiled policy.
 *
 * Steps of tc_whatif_create, collective where they exchange data:
 *  1. base rules merged per segment pair (replicated, sorted);
 *  2. class and app of every remote API callee (one lookup each), and the
 *     class-graph edge that each API edge crosses;
 *  3. members of each principal by (app, class), gathered from every rank;
 *  4. calls between apps of principals that several apps run as, which
 *     decide what a split principal keeps;
 *  5. rules policies: the SmartGroups of each class (OR over its members on
 *     every rank), numbered into signatures, and every class-graph edge
 *     checked against this file's own evaluation of the rules;
 *  6. the services that can reach each class, which size the compact
 *     per-lane reach.
 */
#include "whatif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "selector.h"
#include "whatif_state.h"

const char *const tc_closure_kind_names[TC_CLOSE_KIND_COUNT] = {
    "base_rule", "policy_rule", "split_principal", "revoke_grant", "lower_trust",
    "remove_package",
};

/* ---- small helpers ---- */

static int compare_base(const void *a, const void *b)
{
    const tc_base_rule *x = a, *y = b;
    if (x->from_segment != y->from_segment)
        return x->from_segment < y->from_segment ? -1 : 1;
    return (x->to_segment > y->to_segment) - (x->to_segment < y->to_segment);
}

static int compare_words(const void *a, const void *b, void *words)
{
    const uint64_t *x = a, *y = b;
    uint32_t n = *(const uint32_t *)words;
    for (uint32_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

uint64_t whatif_sort_merge(uint64_t *rows, uint64_t n, uint32_t kw, int add_last)
{
    uint32_t row = kw + (add_last ? 1 : 0);
    qsort_r(rows, n, row * sizeof(uint64_t), compare_words, &kw);
    uint64_t kept = 0;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t *r = rows + k * row;
        if (kept > 0 && compare_words(rows + (kept - 1) * row, r, &kw) == 0) {
            if (add_last)
                rows[(kept - 1) * row + kw] += r[kw];
            continue;
        }
        memmove(rows + kept * row, r, row * sizeof(uint64_t));
        kept++;
    }
    return kept;
}

uint32_t whatif_reach_index(const tc_policy *p, uint32_t a, uint32_t b)
{
    uint64_t lo = p->reach_offsets[a], hi = p->reach_offsets[a + 1];
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (p->reach_targets[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < p->reach_offsets[a + 1] && p->reach_targets[lo] == b)
        return (uint32_t)lo;
    return WHATIF_NONE;
}

tc_svcmask whatif_base_services(const tc_whatif *w, uint32_t from, uint32_t to)
{
    tc_base_rule key = { from, to, 0 };
    const tc_base_rule *hit = bsearch(&key, w->base, w->n_base, sizeof key, compare_base);
    return hit ? hit->services : 0;
}

static bool sig_has_group(const tc_whatif *w, uint32_t sig, uint32_t group)
{
    if (group == TC_GROUP_ANY)
        return true;
    uint32_t bit = w->group_bit[group];
    return (w->sig_bits[(uint64_t)sig * w->sig_words + bit / 64] >> (bit % 64)) & 1;
}

tc_svcmask whatif_rules_allowed(const tc_whatif *w, uint32_t a, uint32_t b,
                                const tc_svcmask *removed, uint16_t *decider)
{
    const tc_policy_spec *spec = w->in.spec;
    tc_svcmask decided = 0, allowed = 0;
    if (decider)
        for (int s = 0; s < TC_SERVICE_COUNT; s++)
            decider[s] = UINT16_MAX;

    for (size_t r = 0; r < spec->n_rules && decided != TC_SERVICE_ALL; r++) {
        const tc_rule_spec *rule = &spec->rules[r];
        tc_svcmask services = rule->services & ~(removed ? removed[r] : 0);
        if (!services || !sig_has_group(w, a, rule->from) || !sig_has_group(w, b, rule->to))
            continue;
        tc_svcmask fresh = services & ~decided;
        if (rule->allow)
            allowed |= fresh;
        decided |= fresh;
        for (tc_svcmask m = fresh; decider && m; m &= m - 1)
            decider[__builtin_ctzll(m)] = (uint16_t)r;
    }
    if (spec->default_allow)
        allowed |= TC_SERVICE_ALL & ~decided;
    return allowed;
}

bool whatif_split_keeps(const tc_whatif *w, uint32_t principal, uint32_t app, uint32_t callee)
{
    /* Calls are sorted by (principal, caller app, callee app): find the
     * principal's rows, then look for any caller of CALLEE among them. */
    uint64_t lo = 0, hi = w->n_calls;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (w->calls[3 * mid] < principal)
            lo = mid + 1;
        else
            hi = mid;
    }
    bool called = false;
    for (uint64_t k = lo; k < w->n_calls && w->calls[3 * k] == principal; k++) {
        if (w->calls[3 * k + 2] != callee)
            continue;
        if (w->calls[3 * k + 1] == app)
            return true;
        called = true;
    }
    return !called;
}

/* ---- step 1: base rules ---- */

static int whatif_merge_base(tc_whatif *w, tc_error *err)
{
    const tc_topology *t = w->t;
    w->base = malloc((t->n_base_rules + 1) * sizeof *w->base);
    if (!w->base)
        return tc_error_runtime(err, "out of memory for the what-if base rules");
    if (t->n_base_rules)
        memcpy(w->base, t->base_rules, t->n_base_rules * sizeof *w->base);
    qsort(w->base, t->n_base_rules, sizeof *w->base, compare_base);
    uint64_t n = 0;
    for (uint64_t r = 0; r < t->n_base_rules; r++) {
        if (n > 0 && compare_base(&w->base[n - 1], &w->base[r]) == 0) {
            w->base[n - 1].services |= w->base[r].services;
            continue;
        }
        w->base[n++] = w->base[r];
    }
    w->n_base = n;
    return TC_OK;
}

/* ---- step 2: API edges ---- */

static int whatif_edges(tc_whatif *w, tc_error *err)
{
    const tc_topology *t = w->t;
    const tc_policy *p = w->p;
    uint64_t n = w->n_edges ? w->n_edges : 1;

    w->edge_class = malloc(n * sizeof(uint32_t));
    w->edge_app = malloc(n * sizeof(uint32_t));
    w->edge_reach = malloc(n * sizeof(uint32_t));
    if (!w->edge_class || !w->edge_app || !w->edge_reach)
        tc_error_runtime(err, "out of memory for %llu API edges",
                         (unsigned long long)w->n_edges);
    if (tc_error_agree(err, t->comm) != TC_OK)
        return err->code;

    tc_exchange_lookup_u32(t->comm, t->owner_offsets, t->api_targets, w->n_edges, p->class_of,
                           w->edge_class, err);
    if (tc_error_agree(err, t->comm) != TC_OK)
        return err->code;
    tc_exchange_lookup_u32(t->comm, t->owner_offsets, t->api_targets, w->n_edges, t->app,
                           w->edge_app, err);
    if (tc_error_agree(err, t->comm) != TC_OK)
        return err->code;

    for (uint64_t u = 0; u < t->n_local; u++)
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++)
            w->edge_reach[e] = whatif_reach_index(p, p->class_of[u], w->edge_class[e]);
    return TC_OK;
}

/* ---- step 3: members by principal, app and class ---- */

static int whatif_members(tc_whatif *w, tc_error *err)
{
    const tc_topology *t = w->t;
    tc_keymap local;
    uint64_t *flat = NULL, *all = NULL, n_all = 0;
    int ready = tc_keymap_init(&local, 3) == 0;
    if (!ready)
        tc_error_runtime(err, "out of memory counting principal members");

    for (uint64_t i = 0; ready && err->code == TC_OK && i < t->n_local; i++) {
        uint64_t key[3] = { t->principal[i], t->app[i], w->p->class_of[i] };
        uint32_t id = tc_keymap_intern(&local, key);
        if (id == UINT32_MAX)
            tc_error_runtime(err, "out of memory counting principal members");
        else
            local.values[id]++;
    }
    uint64_t n_flat = err->code == TC_OK ? (uint64_t)local.count * 4 : 0;
    if (err->code == TC_OK && !(flat = malloc((n_flat + 1) * sizeof(uint64_t))))
        tc_error_runtime(err, "out of memory counting principal members");
    for (uint32_t k = 0; flat && k < local.count; k++) {
        memcpy(flat + 4 * k, tc_keymap_key(&local, k), 3 * sizeof(uint64_t));
        flat[4 * k + 3] = local.values[k];
    }
    if (ready)
        tc_keymap_free(&local);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release;
    if (tc_exchange_allgather_u64(t->comm, flat, n_flat, &all, &n_all, err) != TC_OK)
        goto release;

    uint64_t n = whatif_sort_merge(all, n_all / 4, 3, 1);
    w->members = malloc((n + 1) * sizeof *w->members);
    w->member_offsets = calloc((size_t)w->n_principals + 1, sizeof(uint64_t));
    w->principal_app_offsets = calloc((size_t)w->n_principals + 1, sizeof(uint64_t));
    w->principal_apps = malloc((n + 1) * sizeof(uint32_t));
    if (!w->members || !w->member_offsets || !w->principal_app_offsets || !w->principal_apps) {
        tc_error_runtime(err, "out of memory counting principal members");
        goto release;
    }
    uint64_t n_apps = 0;
    for (uint64_t k = 0; k < n; k++) {
        const uint64_t *row = all + 4 * k;
        w->members[k] = (whatif_member){ (uint32_t)row[0], (uint32_t)row[1], (uint32_t)row[2],
                                         row[3] };
        w->member_offsets[row[0] + 1]++;
        /* Rows are sorted by principal then app, so distinct apps follow. */
        if (k == 0 || row[0] != all[4 * (k - 1)] || row[1] != all[4 * (k - 1) + 1]) {
            w->principal_apps[n_apps++] = (uint32_t)row[1];
            w->principal_app_offsets[row[0] + 1]++;
        }
    }
    for (uint32_t q = 0; q < w->n_principals; q++) {
        w->member_offsets[q + 1] += w->member_offsets[q];
        w->principal_app_offsets[q + 1] += w->principal_app_offsets[q];
    }
    w->n_members = n;

release:
    free(flat);
    free(all);
    return tc_error_agree(err, t->comm);
}

/* ---- step 4: calls between apps of shared principals ---- */

static int whatif_calls(tc_whatif *w, tc_error *err)
{
    const tc_topology *t = w->t;
    tc_keymap local;
    uint64_t *flat = NULL, *all = NULL, n_all = 0;
    int ready = tc_keymap_init(&local, 3) == 0;
    if (!ready)
        tc_error_runtime(err, "out of memory collecting calls between apps");

    for (uint64_t u = 0; ready && err->code == TC_OK && u < t->n_local; u++) {
        uint32_t q = t->principal[u];
        if (w->principal_app_offsets[q + 1] - w->principal_app_offsets[q] < 2)
            continue;
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++) {
            uint64_t key[3] = { q, t->app[u], w->edge_app[e] };
            if (tc_keymap_intern(&local, key) == UINT32_MAX)
                tc_error_runtime(err, "out of memory collecting calls between apps");
        }
    }
    uint64_t n_flat = err->code == TC_OK ? (uint64_t)local.count * 3 : 0;
    if (err->code == TC_OK && !(flat = malloc((n_flat + 1) * sizeof(uint64_t))))
        tc_error_runtime(err, "out of memory collecting calls between apps");
    if (flat && n_flat)
        memcpy(flat, local.keys, n_flat * sizeof(uint64_t));
    if (ready)
        tc_keymap_free(&local);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release;
    if (tc_exchange_allgather_u64(t->comm, flat, n_flat, &all, &n_all, err) != TC_OK)
        goto release;

    w->n_calls = whatif_sort_merge(all, n_all / 3, 3, 0);
    w->calls = malloc((w->n_calls * 3 + 1) * sizeof(uint32_t));
    if (!w->calls) {
        tc_error_runtime(err, "out of memory collecting calls between apps");
        goto release;
    }
    for (uint64_t k = 0; k < 3 * w->n_calls; k++)
        w->calls[k] = (uint32_t)all[k];

release:
    free(flat);
    free(all);
    return tc_error_agree(err, t->comm);
}

/* ---- step 5: SmartGroups of the classes of a rules policy ---- */

static int whatif_bind_groups(tc_whatif *w, tc_error *err)
{
    const tc_scenario *sc = w->in.scenario;
    const tc_policy_spec *spec = w->in.spec;
    w->group_bit = malloc((sc->n_groups + 1) * sizeof(uint32_t));
    w->used_groups = malloc((sc->n_groups + 1) * sizeof(uint32_t));
    if (!w->group_bit || !w->used_groups)
        return tc_error_runtime(err, "out of memory binding SmartGroups");
    for (size_t g = 0; g < sc->n_groups; g++)
        w->group_bit[g] = WHATIF_NONE;

    for (size_t r = 0; r < spec->n_rules; r++) {
        uint32_t ends[2] = { spec->rules[r].from, spec->rules[r].to };
        for (int e = 0; e < 2; e++) {
            uint32_t g = ends[e];
            if (g == TC_GROUP_ANY || w->group_bit[g] != WHATIF_NONE)
                continue;
            tc_group_spec *group = &sc->groups[g];
            tc_error local;
            tc_error_clear(&local);
            if (tc_selector_bind(group->selector, w->t, &local) != TC_OK) {
                char key[160];
                snprintf(key, sizeof key, "smartgroups.%s", group->name);
                return tc_error_input(err, sc->path, group->line, group->column, key, "%s",
                                      local.message);
            }
            if (tc_selector_uses(group->selector, TC_ATTR_PRINCIPAL))
                w->classes_use_principal = true;
            w->group_bit[g] = w->n_used_groups;
            w->used_groups[w->n_used_groups++] = g;
        }
    }
    return TC_OK;
}

static int whatif_signatures(tc_whatif *w, tc_error *err)
{
    const tc_topology *t = w->t;
    const tc_policy *p = w->p;
    uint64_t *bits = NULL;
    tc_keymap sigs;
    int sigs_ready = 0;

    whatif_bind_groups(w, err);
    if (tc_error_agree(err, t->comm) != TC_OK)
        return err->code;
    w->sig_words = w->n_used_groups ? (w->n_used_groups + 63) / 64 : 1;

    /* Members of one class share their groups; OR them over ranks. */
    uint64_t n_words = (uint64_t)w->n_classes * w->sig_words;
    bits = calloc(n_words + 1, sizeof(uint64_t));
    if (!bits)
        tc_error_runtime(err, "out of memory for the SmartGroups of %u classes", w->n_classes);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release;
    for (uint32_t c = 0; c < w->n_classes; c++) {
        if (p->member_offsets[c] == p->member_offsets[c + 1])
            continue;
        uint64_t i = p->members[p->member_offsets[c]];
        for (uint32_t b = 0; b < w->n_used_groups; b++)
            if (tc_selector_match(w->in.scenario->groups[w->used_groups[b]].selector, t, i))
                whatif_bit_set(bits + (uint64_t)c * w->sig_words, b);
    }
    MPI_Allreduce(MPI_IN_PLACE, bits, (int)n_words, MPI_UINT64_T, MPI_BOR, t->comm);

    /* Signatures numbered in class order: the same on every rank. */
    w->class_sig = malloc(((size_t)w->n_classes + 1) * sizeof(uint32_t));
    sigs_ready = tc_keymap_init(&sigs, w->sig_words) == 0;
    if (!w->class_sig || !sigs_ready) {
        tc_error_runtime(err, "out of memory numbering signatures");
        goto release;
    }
    for (uint32_t c = 0; c < w->n_classes; c++) {
        w->class_sig[c] = tc_keymap_intern(&sigs, bits + (uint64_t)c * w->sig_words);
        if (w->class_sig[c] == UINT32_MAX) {
            tc_error_runtime(err, "out of memory numbering signatures");
            goto release;
        }
    }
    w->n_sigs = sigs.count;
    w->sig_bits = sigs.keys;
    sigs.keys = NULL;

release:
    if (sigs_ready)
        tc_keymap_free(&sigs);
    free(bits);
    return tc_error_agree(err, t->comm);
}

/* Number the signature pairs that class-graph edges join, and check every
 * edge's compiled mask against base & rules: a difference means this
 * file's reading of the rules drifted from policy.c, and every rule
 * closure would be measured wrong. */
static int whatif_sigpairs(tc_whatif *w, tc_error *err)
{
    const tc_policy *p = w->p;
    w->sigpairs_ready = tc_keymap_init(&w->sigpairs, 2) == 0;
    w->edge_sigpair = malloc((w->n_reach + 1) * sizeof(uint32_t));
    if (!w->sigpairs_ready || !w->edge_sigpair)
        return tc_error_runtime(err, "out of memory numbering signature pairs");

    for (uint32_t a = 0; a < w->n_classes; a++) {
        for (uint64_t j = p->reach_offsets[a]; j < p->reach_offsets[a + 1]; j++) {
            uint64_t key[2] = { w->class_sig[a], w->class_sig[p->reach_targets[j]] };
            w->edge_sigpair[j] = tc_keymap_intern(&w->sigpairs, key);
            if (w->edge_sigpair[j] == UINT32_MAX)
                return tc_error_runtime(err, "out of memory numbering signature pairs");
        }
    }
    w->sigpair_allowed = malloc(((size_t)w->sigpairs.count + 1) * sizeof(tc_svcmask));
    if (!w->sigpair_allowed)
        return tc_error_runtime(err, "out of memory numbering signature pairs");
    for (uint32_t k = 0; k < w->sigpairs.count; k++) {
        const uint64_t *key = tc_keymap_key(&w->sigpairs, k);
        w->sigpair_allowed[k] = whatif_rules_allowed(w, (uint32_t)key[0], (uint32_t)key[1],
                                                     NULL, NULL);
    }

    for (uint32_t a = 0; a < w->n_classes; a++) {
        for (uint64_t j = p->reach_offsets[a]; j < p->reach_offsets[a + 1]; j++) {
            uint32_t b = p->reach_targets[j];
            tc_svcmask expected = whatif_base_services(w, p->class_segment[a],
                                                       p->class_segment[b]) &
                                  w->sigpair_allowed[w->edge_sigpair[j]];
            if (expected != p->reach_masks[j])
                return tc_error_runtime(err, "what-if: policy '%s' allows services 0x%llx from "
                                        "class %u to class %u by its rules, but the compiled "
                                        "policy stores 0x%llx", w->in.spec->name,
                                        (unsigned long long)expected, a, b,
                                        (unsigned long long)p->reach_masks[j]);
        }
    }
    return TC_OK;
}

/* ---- step 6: compact per-lane reach ---- */

static int whatif_reach_layout(tc_whatif *w, tc_error *err)
{
    const tc_policy *p = w->p;
    w->class_in_services = calloc((size_t)w->n_classes + 1, sizeof(tc_svcmask));
    w->reach_slot_offsets = calloc((size_t)w->n_classes + 1, sizeof(uint64_t));
    if (!w->class_in_services || !w->reach_slot_offsets)
        return tc_error_runtime(err, "out of memory for the per-lane class reach");

    for (uint64_t j = 0; j < w->n_reach; j++) {
        uint32_t b = p->reach_targets[j];
        /* Services outside base are never in reach; a nonzero mask outside
         * base would mean the class graph and the base rules disagree. */
        w->class_in_services[b] |= p->reach_masks[j];
    }
    for (uint32_t b = 0; b < w->n_classes; b++)
        w->reach_slot_offsets[b + 1] = w->reach_slot_offsets[b] +
                                       (uint64_t)__builtin_popcountll(w->class_in_services[b]);
    return TC_OK;
}

/* ---- entry points ---- */

int tc_whatif_create(const tc_whatif_input *in, tc_whatif **out, tc_error *err)
{
    const tc_topology *t = in->topology;
    *out = NULL;
    tc_whatif *w = calloc(1, sizeof *w);
    if (!w)
        tc_error_runtime(err, "out of memory for the what-if context");
    if (tc_error_agree(err, t->comm) != TC_OK)
        return err->code;

    w->in = *in;
    w->t = t;
    w->p = in->policy;
    w->n_classes = w->p->n_classes;
    w->n_principals = t->principals.count;
    w->n_packages = t->packages.count;
    w->n_apps = t->apps.count;
    w->n_segments = t->segments.count;
    w->n_reach = w->p->reach_offsets[w->n_classes];
    w->n_edges = t->api_offsets[t->n_local];
    if (in->spec->kind == TC_POLICY_DERIVED)
        for (size_t a = 0; a < in->spec->n_granularity; a++)
            w->classes_use_principal |= in->spec->granularity[a] == TC_ATTR_PRINCIPAL;

    whatif_merge_base(w, err);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto fail;
    if (whatif_edges(w, err) != TC_OK || whatif_members(w, err) != TC_OK ||
        whatif_calls(w, err) != TC_OK)
        goto fail;
    if (in->spec->kind == TC_POLICY_RULES) {
        if (whatif_signatures(w, err) != TC_OK)
            goto fail;
        whatif_sigpairs(w, err);
        if (tc_error_agree(err, t->comm) != TC_OK)
            goto fail;
    }

    whatif_reach_layout(w, err);
    w->counted_crown = malloc(t->n_local + 1);
    if (!w->counted_crown)
        tc_error_runtime(err, "out of memory for the what-if context");
    for (uint64_t i = 0; w->counted_crown && i < t->n_local; i++)
        w->counted_crown[i] = t->crown[i] != TC_CROWN_NONE && (in->crown_kinds >> t->crown[i] & 1);
    if (err->code == TC_OK)
        whatif_lanes_init(w, err);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto fail;
    *out = w;
    return TC_OK;

fail:
    tc_whatif_free(w);
    return err->code;
}

void tc_whatif_free(tc_whatif *w)
{
    if (!w)
        return;
    whatif_lanes_free(w);
    free(w->base);
    free(w->edge_class);
    free(w->edge_app);
    free(w->edge_reach);
    free(w->members);
    free(w->member_offsets);
    free(w->principal_apps);
    free(w->principal_app_offsets);
    free(w->calls);
    free(w->used_groups);
    free(w->group_bit);
    free(w->sig_bits);
    free(w->class_sig);
    if (w->sigpairs_ready)
        tc_keymap_free(&w->sigpairs);
    free(w->edge_sigpair);
    free(w->sigpair_allowed);
    free(w->class_in_services);
    free(w->reach_slot_offsets);
    free(w->counted_crown);
    free(w);
}

const tc_whatif_input *tc_whatif_get_input(const tc_whatif *w)
{
    return &w->in;
}

bool tc_whatif_classes_use_principal(const tc_whatif *w)
{
    return w->classes_use_principal;
}

int tc_whatif_check(const tc_whatif *w, const tc_closure *c, tc_error *err)
{
    const tc_policy_spec *spec = w->in.spec;
    const char *kind = c->kind < TC_CLOSE_KIND_COUNT ? tc_closure_kind_names[c->kind] : "?";
    uint32_t first_limit = 0, second_limit = 1;

    switch (c->kind) {
    case TC_CLOSE_BASE_RULE:
        first_limit = second_limit = w->n_segments;
        break;
    case TC_CLOSE_POLICY_RULE:
        if (spec->kind != TC_POLICY_RULES)
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "closure %s: policy '%s' is not a rules policy", kind,
                                  spec->name);
        first_limit = (uint32_t)spec->n_rules;
        if (c->first < first_limit && !spec->rules[c->first].allow)
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "closure %s: rule %u of policy '%s' is a deny rule; removing "
                                  "it would widen reach", kind, c->first, spec->name);
        break;
    case TC_CLOSE_SPLIT:
        first_limit = w->n_principals;
        break;
    case TC_CLOSE_REVOKE:
        first_limit = w->n_principals;
        second_limit = w->n_apps;
        break;
    case TC_CLOSE_TRUST:
        first_limit = second_limit = w->n_apps;
        break;
    case TC_CLOSE_PACKAGE:
        first_limit = w->n_packages;
        break;
    default:
        return tc_error_input(err, NULL, 0, 0, NULL, "closure kind %d is invalid", (int)c->kind);
    }
    bool two_ids = c->kind == TC_CLOSE_BASE_RULE || c->kind == TC_CLOSE_REVOKE ||
                   c->kind == TC_CLOSE_TRUST;
    if (c->first >= first_limit || (two_ids ? c->second >= second_limit : c->second != 0))
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "closure %s (%u, %u): an id is out of range (expected first < %u "
                              "and second %s %u)", kind, c->first, c->second, first_limit,
                              two_ids ? "<" : "==", two_ids ? second_limit : 0);
    bool takes_services = c->kind == TC_CLOSE_BASE_RULE || c->kind == TC_CLOSE_POLICY_RULE;
    if (takes_services ? (c->services == 0 || (c->services & ~TC_SERVICE_ALL))
                       : c->services != 0)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "closure %s: services 0x%llx are invalid (expected %s)", kind,
                              (unsigned long long)c->services,
                              takes_services ? "a nonzero mask of known services" : "0");
    return TC_OK;
}

/* Append the names of the services of MASK to BUF, comma-separated. */
static void describe_services(tc_svcmask mask, char *buf, size_t n)
{
    size_t used = strlen(buf);
    if (mask == TC_SERVICE_ALL) {
        snprintf(buf + used, n - used, "all services");
        return;
    }
    for (tc_svcmask m = mask; m && used + 1 < n; m &= m - 1) {
        int written = snprintf(buf + used, n - used, "%s%s", used && m != mask ? "," : "",
                               tc_service_names[__builtin_ctzll(m)]);
        if (written < 0)
            return;
        used += (size_t)written;
    }
}

static const char *group_name(const tc_whatif *w, uint32_t group)
{
    return group == TC_GROUP_ANY ? "any" : w->in.scenario->groups[group].name;
}

void tc_whatif_describe(const tc_whatif *w, const tc_closure *c, char *buf, size_t n)
{
    const tc_topology *t = w->t;
    buf[0] = '\0';
    switch (c->kind) {
    case TC_CLOSE_BASE_RULE: {
        tc_svcmask base = whatif_base_services(w, c->first, c->second);
        bool whole = (base & ~c->services) == 0;
        snprintf(buf, n, "%s base rule %s -> %s%s", whole ? "remove" : "narrow",
                 tc_names_get(&t->segments, c->first), tc_names_get(&t->segments, c->second),
                 whole ? "" : ": drop ");
        if (!whole)
            describe_services(c->services, buf, n);
        break;
    }
    case TC_CLOSE_POLICY_RULE: {
        const tc_rule_spec *rule = &w->in.spec->rules[c->first];
        bool whole = (rule->services & ~c->services) == 0;
        snprintf(buf, n, "%s rule %u (%s -> %s) of policy %s%s", whole ? "remove" : "narrow",
                 c->first, group_name(w, rule->from), group_name(w, rule->to), w->in.spec->name,
                 whole ? "" : ": drop ");
        if (!whole)
            describe_services(c->services, buf, n);
        break;
    }
    case TC_CLOSE_SPLIT:
        snprintf(buf, n, "split principal %s into one per app (%llu apps)",
                 tc_names_get(&t->principals, c->first),
                 (unsigned long long)(w->principal_app_offsets[c->first + 1] -
                                      w->principal_app_offsets[c->first]));
        break;
    case TC_CLOSE_REVOKE:
        snprintf(buf, n, "revoke the grants of %s on app %s",
                 tc_names_get(&t->principals, c->first), tc_names_get(&t->apps, c->second));
        break;
    case TC_CLOSE_TRUST:
        snprintf(buf, n, "lower the trust of API calls from app %s to app %s to none",
                 tc_names_get(&t->apps, c->first), tc_names_get(&t->apps, c->second));
        break;
    case TC_CLOSE_PACKAGE:
        snprintf(buf, n, "remove package %s from every workload that installs it",
                 tc_names_get(&t->packages, c->first));
        break;
    default:
        snprintf(buf, n, "closure of invalid kind %d", (int)c->kind);
    }
}
