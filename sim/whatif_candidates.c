/*
 * whatif_candidates.c - candidate closures from a plain run (see
 * tc_whatif_candidates in whatif.h).
 *
 * The attack of the plain run shows which elements carried compromise, so
 * only those are worth a lane:
 *  1. per class, the services by which members fell (exploitable services
 *     of network falls, services of gated grants used by credential falls,
 *     services of API calls that carried an API fall) and how many fell;
 *  2. every class-graph edge from a class that held a compromised workload
 *     whose mask meets those services names a segment pair (a base rule)
 *     and, in a rules policy, the rules that allowed the services;
 *  3. the services that legitimate flows use over each such segment pair
 *     and rule, so that a narrowed rule keeps them and breaks no flow;
 *  4. grants whose targets fell by a credential step after the principal
 *     was held, app pairs whose API call carried an API fall, principals
 *     held by the attacker, packages compromised by a publish.
 * Everything is summed or OR-ed over ranks before candidates are made, so
 * the list is the same on every rank and on any rank count.
 */
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "whatif_state.h"

typedef struct candidate_list {
    tc_candidate *items;
    size_t n, capacity;
} candidate_list;

static int candidate_add(candidate_list *list, enum tc_closure_kind kind, uint32_t first,
                         uint32_t second, tc_svcmask services, uint64_t evidence)
{
    if (list->n == list->capacity) {
        size_t cap = list->capacity ? 2 * list->capacity : 256;
        tc_candidate *p = realloc(list->items, cap * sizeof *p);
        if (!p)
            return -1;
        list->items = p;
        list->capacity = cap;
    }
    list->items[list->n++] = (tc_candidate){ { kind, first, second, services }, evidence };
    return 0;
}

/* Kind first, then evidence (largest first), then ids. */
static int compare_candidates(const void *a, const void *b)
{
    const tc_candidate *x = a, *y = b;
    if (x->closure.kind != y->closure.kind)
        return x->closure.kind < y->closure.kind ? -1 : 1;
    if (x->evidence != y->evidence)
        return x->evidence > y->evidence ? -1 : 1;
    if (x->closure.first != y->closure.first)
        return x->closure.first < y->closure.first ? -1 : 1;
    if (x->closure.second != y->closure.second)
        return x->closure.second < y->closure.second ? -1 : 1;
    return (x->closure.services > y->closure.services) -
           (x->closure.services < y->closure.services);
}

/* Scratch state of one enumeration. */
typedef struct candidate_ctx {
    tc_whatif *w;
    const tc_sim_result *r;
    tc_error *err;
    candidate_list list;

    tc_svcmask *need;          /* per class: services by which members fell */
    uint64_t *fell;            /* per class: members that fell by those steps */
    uint64_t *active;          /* bitset over classes: held a compromised workload */
    tc_keymap revoke;          /* (principal, app) -> falls */
    tc_keymap trust;           /* (caller app, callee app) -> falls */
    uint64_t *principal_falls; /* per principal: credential falls through its grants */
    int maps_ready;

    tc_keymap pairs;           /* (from segment, to segment) -> index */
    tc_svcmask *pair_used, *pair_flows;
    uint64_t *pair_evidence;
    int pairs_ready;

    uint16_t *decider;         /* rules: per signature pair, the rule of each service */
    tc_svcmask *rule_used, *rule_flows;
    uint64_t *rule_evidence;
} candidate_ctx;

/* Rule deciding each service of signature pair ID (computed once). */
static const uint16_t *sigpair_decider(candidate_ctx *c, uint32_t id)
{
    uint16_t *row = c->decider + (size_t)id * TC_SERVICE_COUNT;
    if (row[0] == UINT16_MAX - 1) {
        const uint64_t *key = tc_keymap_key(&c->w->sigpairs, id);
        whatif_rules_allowed(c->w, (uint32_t)key[0], (uint32_t)key[1], NULL, row);
    }
    return row;
}

static int map_add(tc_keymap *m, uint32_t first, uint32_t second, uint64_t amount)
{
    uint64_t key[2] = { first, second };
    uint32_t id = tc_keymap_intern(m, key);
    if (id == UINT32_MAX)
        return -1;
    m->values[id] += amount;
    return 0;
}

/* ---- step 1: how members of each class fell ---- */

/* Counts only the falls that network reach decided, once per workload:
 * network and API falls, and credential falls that no control-plane grant
 * explains (a control-plane grant needs no reach, so no base or policy
 * rule carried that fall). */
static int evidence_local(candidate_ctx *c)
{
    tc_whatif *w = c->w;
    const tc_topology *t = w->t;
    const tc_policy *p = w->p;
    const tc_sim_result *r = c->r;
    uint32_t *state = malloc((t->n_local + 1) * sizeof(uint32_t));
    uint32_t *callee = malloc((w->n_edges + 1) * sizeof(uint32_t));
    uint8_t *control_plane = calloc(t->n_local + 1, 1);
    tc_svcmask *gated = calloc(t->n_local + 1, sizeof(tc_svcmask));
    if (!state || !callee || !control_plane || !gated)
        tc_error_runtime(c->err, "out of memory enumerating candidates");
    if (tc_error_agree(c->err, t->comm) != TC_OK)
        goto release;

    /* Credential falls: grants of principals held before the target fell. */
    for (uint32_t q = 0; q < w->n_principals && c->err->code == TC_OK; q++) {
        uint16_t held = r->principal_hop[q];
        for (uint64_t g = t->grant_offsets[q]; held != TC_HOP_NONE && g < t->grant_offsets[q + 1];
             g++) {
            const tc_grant *grant = &t->grants[g];
            uint64_t v = grant->target_local;
            if (r->hop[v] == TC_HOP_NONE || r->step[v] != TC_STEP_CREDENTIAL || held >= r->hop[v])
                continue;
            if (map_add(&c->revoke, q, t->app[v], 1) != 0) {
                tc_error_runtime(c->err, "out of memory enumerating candidates");
                break;
            }
            c->principal_falls[q]++;
            if (grant->gated)
                gated[v] |= grant->services;
            else
                control_plane[v] = 1;
        }
    }

    for (uint64_t v = 0; v < t->n_local; v++) {
        state[v] = (uint32_t)r->hop[v] | (uint32_t)r->step[v] << 16;
        if (r->hop[v] == TC_HOP_NONE)
            continue;
        uint32_t k = p->class_of[v];
        whatif_bit_set(c->active, k);
        if (r->step[v] == TC_STEP_NETWORK) {
            c->need[k] |= t->exploitable[v];
            c->fell[k]++;
        } else if (r->step[v] == TC_STEP_API) {
            c->fell[k]++; /* the callers add the services below */
        } else if (r->step[v] == TC_STEP_CREDENTIAL && !control_plane[v]) {
            c->need[k] |= gated[v];
            c->fell[k]++;
        }
    }

    /* API falls: an open call from a workload of hop h to one that fell by
     * an API step at h + 1. */
    if (tc_error_agree(c->err, t->comm) != TC_OK)
        goto release;
    tc_exchange_lookup_u32(t->comm, t->owner_offsets, t->api_targets, w->n_edges, state, callee,
                           c->err);
    if (tc_error_agree(c->err, t->comm) != TC_OK)
        goto release;
    for (uint64_t u = 0; u < t->n_local && c->err->code == TC_OK; u++) {
        if (r->hop[u] == TC_HOP_NONE)
            continue;
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++) {
            uint32_t hop = callee[e] & 0xffff, step = callee[e] >> 16;
            if (!p->api_open[e] || step != TC_STEP_API || hop != (uint32_t)r->hop[u] + 1)
                continue;
            if (map_add(&c->trust, t->app[u], w->edge_app[e], 1) != 0) {
                tc_error_runtime(c->err, "out of memory enumerating candidates");
                break;
            }
            c->need[w->edge_class[e]] |= (tc_svcmask)1 << t->api_service[e];
        }
    }

release:
    free(state);
    free(callee);
    free(control_plane);
    free(gated);
    return tc_error_agree(c->err, t->comm);
}

/* ---- step 2: segment pairs and rules the compromise crossed ---- */

static int evidence_class_graph(candidate_ctx *c)
{
    tc_whatif *w = c->w;
    const tc_policy *p = w->p;
    const tc_policy_spec *spec = w->in.spec;
    bool rules = spec->kind == TC_POLICY_RULES;
    uint64_t *last_edge = rules ? malloc((spec->n_rules + 1) * sizeof(uint64_t)) : NULL;
    if (rules && !last_edge)
        return tc_error_runtime(c->err, "out of memory enumerating candidates");
    for (size_t k = 0; rules && k < spec->n_rules; k++)
        last_edge[k] = UINT64_MAX;

    for (uint32_t a = 0; a < w->n_classes; a++) {
        if (!whatif_bit_get(c->active, a))
            continue;
        for (uint64_t j = p->reach_offsets[a]; j < p->reach_offsets[a + 1]; j++) {
            uint32_t b = p->reach_targets[j];
            tc_svcmask used = p->reach_masks[j] & c->need[b];
            if (!used)
                continue;
            uint64_t key[2] = { p->class_segment[a], p->class_segment[b] };
            uint32_t id = tc_keymap_intern(&c->pairs, key);
            if (id == UINT32_MAX) {
                free(last_edge);
                return tc_error_runtime(c->err, "out of memory enumerating candidates");
            }
            if (!rules)
                continue;
            const uint16_t *decider = sigpair_decider(c, w->edge_sigpair[j]);
            for (tc_svcmask m = used; m; m &= m - 1) {
                uint16_t rule = decider[__builtin_ctzll(m)];
                if (rule == UINT16_MAX)
                    continue;
                c->rule_used[rule] |= m & -m;
                if (last_edge[rule] != j) {
                    last_edge[rule] = j;
                    c->rule_evidence[rule] += c->fell[b];
                }
            }
        }
    }
    free(last_edge);

    /* Second pass with the pairs numbered: their services and evidence. */
    uint32_t n_pairs = c->pairs.count;
    c->pair_used = calloc((size_t)n_pairs + 1, sizeof(tc_svcmask));
    c->pair_flows = calloc((size_t)n_pairs + 1, sizeof(tc_svcmask));
    c->pair_evidence = calloc((size_t)n_pairs + 1, sizeof(uint64_t));
    if (!c->pair_used || !c->pair_flows || !c->pair_evidence)
        return tc_error_runtime(c->err, "out of memory enumerating candidates");
    for (uint32_t a = 0; a < w->n_classes; a++) {
        if (!whatif_bit_get(c->active, a))
            continue;
        for (uint64_t j = p->reach_offsets[a]; j < p->reach_offsets[a + 1]; j++) {
            uint32_t b = p->reach_targets[j];
            tc_svcmask used = p->reach_masks[j] & c->need[b];
            if (!used)
                continue;
            uint64_t key[2] = { p->class_segment[a], p->class_segment[b] };
            uint32_t id = tc_keymap_find(&c->pairs, key);
            c->pair_used[id] |= used;
            c->pair_evidence[id] += c->fell[b];
        }
    }
    return TC_OK;
}

/* ---- step 3: services that legitimate flows use ---- */

static void flows_used(candidate_ctx *c)
{
    tc_whatif *w = c->w;
    const tc_topology *t = w->t;
    const tc_policy *p = w->p;
    bool rules = w->in.spec->kind == TC_POLICY_RULES;

    for (uint64_t u = 0; u < t->n_local; u++) {
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++) {
            tc_svcmask s = (tc_svcmask)1 << t->api_service[e];
            uint64_t key[2] = { t->segment[u], p->class_segment[w->edge_class[e]] };
            uint32_t id = tc_keymap_find(&c->pairs, key);
            if (id != UINT32_MAX)
                c->pair_flows[id] |= s;
            uint32_t j = w->edge_reach[e];
            if (rules && j != WHATIF_NONE && (p->reach_masks[j] & s)) {
                uint16_t rule = sigpair_decider(c, w->edge_sigpair[j])[t->api_service[e]];
                if (rule != UINT16_MAX)
                    c->rule_flows[rule] |= s;
            }
        }
    }

    for (uint32_t q = 0; q < w->n_principals; q++) {
        for (uint64_t g = t->grant_offsets[q]; g < t->grant_offsets[q + 1]; g++) {
            const tc_grant *grant = &t->grants[g];
            if (!grant->gated)
                continue;
            uint64_t v = grant->target_local;
            for (uint64_t k = w->member_offsets[q]; k < w->member_offsets[q + 1]; k++) {
                uint32_t cw = w->members[k].class_id;
                uint64_t key[2] = { p->class_segment[cw], t->segment[v] };
                uint32_t id = tc_keymap_find(&c->pairs, key);
                if (id != UINT32_MAX)
                    c->pair_flows[id] |= grant->services;
                if (!rules)
                    continue;
                uint32_t j = whatif_reach_index(p, cw, p->class_of[v]);
                tc_svcmask open = j == WHATIF_NONE ? 0 : grant->services & p->reach_masks[j];
                const uint16_t *decider = open ? sigpair_decider(c, w->edge_sigpair[j]) : NULL;
                for (tc_svcmask m = open; m; m &= m - 1) {
                    uint16_t rule = decider[__builtin_ctzll(m)];
                    if (rule != UINT16_MAX)
                        c->rule_flows[rule] |= m & -m;
                }
            }
        }
    }
}

/* ---- step 4: the candidates ---- */

/* Gather the (first, second) -> count map M of every rank, add up equal
 * keys and add one candidate of KIND per key. */
static int candidates_from_map(candidate_ctx *c, tc_keymap *m, enum tc_closure_kind kind)
{
    const tc_topology *t = c->w->t;
    uint64_t *flat = malloc(((size_t)m->count * 3 + 1) * sizeof(uint64_t));
    uint64_t *all = NULL, n_all = 0;
    if (!flat)
        tc_error_runtime(c->err, "out of memory enumerating candidates");
    for (uint32_t id = 0; flat && id < m->count; id++) {
        memcpy(flat + 3 * id, tc_keymap_key(m, id), 2 * sizeof(uint64_t));
        flat[3 * id + 2] = m->values[id];
    }
    if (tc_error_agree(c->err, t->comm) != TC_OK)
        goto release;
    if (tc_exchange_allgather_u64(t->comm, flat, flat ? (uint64_t)m->count * 3 : 0, &all, &n_all,
                                  c->err) != TC_OK)
        goto release;
    uint64_t n = whatif_sort_merge(all, n_all / 3, 2, 1);
    for (uint64_t k = 0; k < n; k++)
        if (candidate_add(&c->list, kind, (uint32_t)all[3 * k], (uint32_t)all[3 * k + 1], 0,
                          all[3 * k + 2]) != 0) {
            tc_error_runtime(c->err, "out of memory enumerating candidates");
            break;
        }

release:
    free(flat);
    free(all);
    return tc_error_agree(c->err, t->comm);
}

static int candidates_rules(candidate_ctx *c)
{
    tc_whatif *w = c->w;
    int failed = 0;

    for (uint32_t id = 0; id < c->pairs.count; id++) {
        const uint64_t *key = tc_keymap_key(&c->pairs, id);
        uint32_t from = (uint32_t)key[0], to = (uint32_t)key[1];
        tc_svcmask base = whatif_base_services(w, from, to);
        tc_svcmask narrowed = base & ~c->pair_flows[id];
        if (narrowed & c->pair_used[id])
            failed |= candidate_add(&c->list, TC_CLOSE_BASE_RULE, from, to, narrowed,
                                    c->pair_evidence[id]);
        if ((base & c->pair_flows[id]) && narrowed != base)
            failed |= candidate_add(&c->list, TC_CLOSE_BASE_RULE, from, to, base,
                                    c->pair_evidence[id]);
    }

    const tc_policy_spec *spec = w->in.spec;
    for (size_t r = 0; spec->kind == TC_POLICY_RULES && r < spec->n_rules; r++) {
        const tc_rule_spec *rule = &spec->rules[r];
        if (!rule->allow || !c->rule_used[r])
            continue;
        tc_svcmask narrowed = rule->services & ~c->rule_flows[r];
        if (narrowed & c->rule_used[r])
            failed |= candidate_add(&c->list, TC_CLOSE_POLICY_RULE, (uint32_t)r, 0, narrowed,
                                    c->rule_evidence[r]);
        if ((rule->services & c->rule_flows[r]) && narrowed != rule->services)
            failed |= candidate_add(&c->list, TC_CLOSE_POLICY_RULE, (uint32_t)r, 0,
                                    rule->services, c->rule_evidence[r]);
    }
    if (failed)
        return tc_error_runtime(c->err, "out of memory enumerating candidates");
    return TC_OK;
}

/* Principals the attacker held whose split would take a grant from at
 * least one of their apps. */
static int candidates_splits(candidate_ctx *c)
{
    tc_whatif *w = c->w;
    const tc_topology *t = w->t;
    uint32_t np = w->n_principals;
    uint64_t *effective = calloc((size_t)np / 64 + 1, sizeof(uint64_t));
    if (!effective)
        tc_error_runtime(c->err, "out of memory enumerating candidates");
    if (tc_error_agree(c->err, t->comm) != TC_OK) {
        free(effective);
        return c->err->code;
    }
    for (uint32_t q = 0; q < np; q++) {
        if (!c->principal_falls[q] ||
            w->principal_app_offsets[q + 1] - w->principal_app_offsets[q] < 2)
            continue;
        for (uint64_t g = t->grant_offsets[q]; g < t->grant_offsets[q + 1]; g++) {
            uint32_t callee = t->app[t->grants[g].target_local];
            for (uint64_t k = w->principal_app_offsets[q]; k < w->principal_app_offsets[q + 1]; k++)
                if (!whatif_split_keeps(w, q, w->principal_apps[k], callee))
                    whatif_bit_set(effective, q);
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, effective, (int)(np / 64 + 1), MPI_UINT64_T, MPI_BOR, t->comm);
    int failed = 0;
    for (uint32_t q = 0; q < np; q++)
        if (whatif_bit_get(effective, q))
            failed |= candidate_add(&c->list, TC_CLOSE_SPLIT, q, 0, 0, c->principal_falls[q]);
    free(effective);
    if (failed)
        return tc_error_runtime(c->err, "out of memory enumerating candidates");
    return TC_OK;
}

static int candidates_packages(candidate_ctx *c)
{
    tc_whatif *w = c->w;
    const tc_topology *t = w->t;
    const tc_sim_result *r = c->r;
    uint64_t *falls = calloc((size_t)w->n_packages + 1, sizeof(uint64_t));
    if (!falls)
        tc_error_runtime(c->err, "out of memory enumerating candidates");
    if (tc_error_agree(c->err, t->comm) != TC_OK) {
        free(falls);
        return c->err->code;
    }
    for (uint32_t k = 0; k < w->n_packages; k++) {
        uint16_t hop = r->package_hop[k];
        if (hop == TC_HOP_NONE || hop == 0)
            continue;
        for (uint64_t j = t->installer_offsets[k]; j < t->installer_offsets[k + 1]; j++) {
            uint64_t v = t->installers[j];
            falls[k] += r->hop[v] == hop && r->step[v] == TC_STEP_SUPPLY_CHAIN;
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, falls, (int)w->n_packages + 1, MPI_UINT64_T, MPI_SUM, t->comm);
    int failed = 0;
    for (uint32_t k = 0; k < w->n_packages; k++)
        if (falls[k])
            failed |= candidate_add(&c->list, TC_CLOSE_PACKAGE, k, 0, 0, falls[k]);
    free(falls);
    if (failed)
        return tc_error_runtime(c->err, "out of memory enumerating candidates");
    return TC_OK;
}

/* Order the list by taking candidates from each kind in turn, each kind in
 * order of evidence. Evidence counts different things for different kinds,
 * so a plain sort by evidence would let one kind fill any cut of the list.
 * Taking turns keeps every kind that the attack used among the first. */
static int interleave_kinds(candidate_list *list, tc_error *err)
{
    if (list->n > 0)
        qsort(list->items, list->n, sizeof *list->items, compare_candidates);

    /* The sort groups the kinds in enum order: [next[k], end[k]) is kind k. */
    size_t next[TC_CLOSE_KIND_COUNT], end[TC_CLOSE_KIND_COUNT], i = 0;
    for (int k = 0; k < TC_CLOSE_KIND_COUNT; k++) {
        next[k] = i;
        while (i < list->n && list->items[i].closure.kind == (enum tc_closure_kind)k)
            i++;
        end[k] = i;
    }

    tc_candidate *order = malloc((list->n + 1) * sizeof *order);
    if (!order)
        return tc_error_runtime(err, "out of memory ordering candidates");
    size_t n = 0;
    while (n < list->n)
        for (int k = 0; k < TC_CLOSE_KIND_COUNT; k++)
            if (next[k] < end[k])
                order[n++] = list->items[next[k]++];
    free(list->items);
    list->items = order;
    list->capacity = list->n + 1;
    return TC_OK;
}

static void candidate_ctx_free(candidate_ctx *c)
{
    free(c->need);
    free(c->fell);
    free(c->active);
    free(c->principal_falls);
    if (c->maps_ready) {
        tc_keymap_free(&c->revoke);
        tc_keymap_free(&c->trust);
    }
    if (c->pairs_ready)
        tc_keymap_free(&c->pairs);
    free(c->pair_used);
    free(c->pair_flows);
    free(c->pair_evidence);
    free(c->decider);
    free(c->rule_used);
    free(c->rule_flows);
    free(c->rule_evidence);
    free(c->list.items);
}

int tc_whatif_candidates(tc_whatif *w, const tc_sim_result *result, size_t max,
                         tc_candidate **out, size_t *n_out, size_t *n_found, tc_error *err)
{
    const tc_topology *t = w->t;
    size_t nc = (size_t)w->n_classes + 1, n_rules = w->in.spec->n_rules + 1;
    uint32_t n_sigpairs = w->sigpairs_ready ? w->sigpairs.count : 0;
    candidate_ctx c = { .w = w, .r = result, .err = err };
    *out = NULL;
    *n_out = *n_found = 0;

    c.need = calloc(nc, sizeof(tc_svcmask));
    c.fell = calloc(nc, sizeof(uint64_t));
    c.active = calloc(nc / 64 + 1, sizeof(uint64_t));
    c.principal_falls = calloc((size_t)w->n_principals + 1, sizeof(uint64_t));
    c.decider = malloc(((size_t)n_sigpairs + 1) * TC_SERVICE_COUNT * sizeof(uint16_t));
    c.rule_used = calloc(n_rules, sizeof(tc_svcmask));
    c.rule_flows = calloc(n_rules, sizeof(tc_svcmask));
    c.rule_evidence = calloc(n_rules, sizeof(uint64_t));
    c.maps_ready = tc_keymap_init(&c.revoke, 2) == 0 && tc_keymap_init(&c.trust, 2) == 0;
    c.pairs_ready = tc_keymap_init(&c.pairs, 2) == 0;
    if (!c.need || !c.fell || !c.active || !c.principal_falls || !c.decider || !c.rule_used ||
        !c.rule_flows || !c.rule_evidence || !c.maps_ready || !c.pairs_ready)
        tc_error_runtime(err, "out of memory enumerating candidates");
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release;
    /* UINT16_MAX - 1 in the first entry marks a row not computed yet. */
    for (uint32_t k = 0; k < n_sigpairs; k++)
        c.decider[(size_t)k * TC_SERVICE_COUNT] = UINT16_MAX - 1;

    if (evidence_local(&c) != TC_OK)
        goto release;
    MPI_Allreduce(MPI_IN_PLACE, c.need, (int)nc, MPI_UINT64_T, MPI_BOR, t->comm);
    MPI_Allreduce(MPI_IN_PLACE, c.fell, (int)nc, MPI_UINT64_T, MPI_SUM, t->comm);
    MPI_Allreduce(MPI_IN_PLACE, c.active, (int)(nc / 64 + 1), MPI_UINT64_T, MPI_BOR, t->comm);
    MPI_Allreduce(MPI_IN_PLACE, c.principal_falls, (int)w->n_principals + 1, MPI_UINT64_T,
                  MPI_SUM, t->comm);

    /* The class graph and the sums are replicated, so every rank finds the
     * same pairs and rules without communicating. */
    evidence_class_graph(&c);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release;
    flows_used(&c);
    MPI_Allreduce(MPI_IN_PLACE, c.pair_flows, (int)c.pairs.count + 1, MPI_UINT64_T, MPI_BOR,
                  t->comm);
    MPI_Allreduce(MPI_IN_PLACE, c.rule_flows, (int)n_rules, MPI_UINT64_T, MPI_BOR, t->comm);

    candidates_rules(&c);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release;
    if (!w->classes_use_principal && candidates_splits(&c) != TC_OK)
        goto release;
    if (candidates_from_map(&c, &c.revoke, TC_CLOSE_REVOKE) != TC_OK ||
        candidates_from_map(&c, &c.trust, TC_CLOSE_TRUST) != TC_OK ||
        candidates_packages(&c) != TC_OK)
        goto release;

    if (interleave_kinds(&c.list, c.err) != TC_OK)
        goto release;
    *n_found = c.list.n;
    *n_out = max && max < c.list.n ? max : c.list.n;
    *out = c.list.items;
    c.list.items = NULL;

release:
    candidate_ctx_free(&c);
    return err->code;
}
