/*
 * whatif_lanes.c - the 64-lane what-if engine (see whatif.h).
 *
 * Invariants of tc_whatif_run. Lane by lane they are those of tc_sim_run
 * (engine.c), which is what makes a lane equal to a plain run:
 *  1. compromised[i] only gains lanes, and lane k of workload i is set at
 *     the first hop at which i falls in lane k.
 *  2. Level h finishes on every rank before level h+1 starts. After the
 *     hub allreduce of level h, class_active, held, package_lanes and
 *     reach_lanes are identical on every rank.
 *  3. reach_lanes has lane k for (class b, service s) exactly when some
 *     class active in lane k at a hop <= the current level reaches b on s
 *     and no closure of lane k removes s from that class pair. It only
 *     grows, so members of b are examined again only when it grows.
 *  4. next and compromised are disjoint, and next_list lists the workloads
 *     whose next is nonzero.
 *  5. Within a level the steps run in the order of enum tc_step, and each
 *     adds only lanes that no earlier step set, so the step recorded for a
 *     (workload, lane) is the lowest kind that applies at its hop.
 *  6. A lane whose frontier is empty stays empty, because none of its hub
 *     state grows any more. So the loop may run on for other lanes without
 *     changing it, where the plain engine stops.
 *
 * tc_whatif_run: prepare the batch (removals by class-graph edge, closed
 * API edges, revokes, splits, removed packages), count the flows each lane
 * breaks, then run the levels. Per level: count the frontier per lane
 * (allreduce), activate hubs (one allreduce of class and principal lane
 * masks), then network, API (one MPI_Alltoallv of (callee, lanes) pairs),
 * credential and supply-chain steps.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "whatif_state.h"

/* ---- per-lane counting ---- */

/* Bit-sliced counters: plane p is bit p of every lane's count, so adding
 * a lane mask costs a few word operations instead of one per lane. The
 * planes are flushed into totals before a count can reach 2^16. */
typedef struct lane_counter {
    uint64_t planes[16];
    uint32_t adds;
    uint64_t totals[TC_WHATIF_LANES];
} lane_counter;

static void lane_counter_flush(lane_counter *c)
{
    for (int p = 0; p < 16; p++) {
        for (uint64_t m = c->planes[p]; m; m &= m - 1)
            c->totals[__builtin_ctzll(m)] += 1ULL << p;
        c->planes[p] = 0;
    }
    c->adds = 0;
}

static inline void lane_counter_add(lane_counter *c, uint64_t lanes)
{
    uint64_t carry = lanes;
    for (int p = 0; carry; p++) {
        uint64_t next = c->planes[p] & carry;
        c->planes[p] ^= carry;
        carry = next;
    }
    if (++c->adds == 65535)
        lane_counter_flush(c);
}

static inline void add_to_lanes(uint64_t *totals, uint64_t lanes, uint64_t amount)
{
    for (uint64_t m = lanes; m; m &= m - 1)
        totals[__builtin_ctzll(m)] += amount;
}

/* ---- allocation ---- */

static int grow(void **array, size_t *capacity, size_t need, size_t element)
{
    if (need <= *capacity)
        return 0;
    size_t cap = *capacity ? *capacity : 16;
    while (cap < need)
        cap *= 2;
    void *p = realloc(*array, cap * element);
    if (!p)
        return -1;
    *array = p;
    *capacity = cap;
    return 0;
}

/* Make the hub arrays hold N_PRINCIPALS principals (topology's and split). */
static int ensure_hub(tc_whatif *w, size_t n_principals)
{
    if (n_principals <= w->hub_capacity)
        return 0;
    size_t cap = n_principals + n_principals / 4 + 16;
    uint64_t **lanes[] = { &w->held, &w->held_new, &w->pending, &w->pending_start,
                           &w->pending_count };
    for (size_t k = 0; k < 5; k++) {
        uint64_t *p = realloc(*lanes[k], cap * sizeof(uint64_t));
        if (!p)
            return -1;
        *lanes[k] = p;
    }
    uint32_t **lists[] = { &w->held_list, &w->new_list, &w->work };
    for (size_t k = 0; k < 3; k++) {
        uint32_t *p = realloc(*lists[k], cap * sizeof(uint32_t));
        if (!p)
            return -1;
        *lists[k] = p;
    }
    uint64_t *hub = realloc(w->hub, ((size_t)w->n_classes + cap) * sizeof(uint64_t));
    if (!hub)
        return -1;
    w->hub = hub;
    w->hub_capacity = cap;
    return 0;
}

int whatif_lanes_init(tc_whatif *w, tc_error *err)
{
    const tc_topology *t = w->t;
    whatif_batch *b = &w->batch;
    size_t n = t->n_local + 1, nc = (size_t)w->n_classes + 1, nk = (size_t)w->n_packages + 1;
    size_t np = (size_t)w->n_principals + 1;

    w->compromised = calloc(n, sizeof(uint64_t));
    w->next = calloc(n, sizeof(uint64_t));
    w->next_list = malloc(n * sizeof(uint64_t));
    w->frontier = malloc(n * sizeof(uint64_t));
    w->frontier_lanes = malloc(n * sizeof(uint64_t));
    w->class_active = calloc(nc, sizeof(uint64_t));
    w->class_grown = calloc(nc, sizeof(uint64_t));
    w->changed = malloc(nc * sizeof(uint32_t));
    w->reach_lanes = calloc(w->reach_slot_offsets[w->n_classes] + 1, sizeof(uint64_t));
    w->package_lanes = calloc(nk, sizeof(uint64_t));
    w->package_new = calloc(nk, sizeof(uint64_t));
    w->package_list = malloc(nk * sizeof(uint32_t));
    w->send_counts = calloc((size_t)t->nranks + 1, sizeof(int));
    w->recv_counts = calloc((size_t)t->nranks + 1, sizeof(int));
    w->send_displs = calloc((size_t)t->nranks + 1, sizeof(int));
    w->recv_displs = calloc((size_t)t->nranks + 1, sizeof(int));

    b->segment_modified = calloc((size_t)w->n_segments / 64 + 1, sizeof(uint64_t));
    b->app_trust_modified = calloc((size_t)w->n_apps / 64 + 1, sizeof(uint64_t));
    b->class_targeted = calloc(nc / 64 + 1, sizeof(uint64_t));
    b->edge_removal = malloc((w->n_reach + 1) * sizeof(uint32_t));
    b->edges_removed = malloc((w->n_reach + 1) * sizeof(uint64_t));
    b->api_closed = calloc(w->n_edges + 1, sizeof(uint64_t));
    b->api_closed_list = malloc((w->n_edges + 1) * sizeof(uint64_t));
    b->principal_revoked = calloc(np, sizeof(uint64_t));
    b->principal_split = calloc(np, sizeof(uint64_t));
    b->package_removed = calloc(nk, sizeof(uint64_t));
    uint32_t n_sigpairs = w->sigpairs_ready ? w->sigpairs.count : 0;
    b->sigpair_removal = malloc(((size_t)n_sigpairs + 1) * sizeof(uint32_t));

    if (w->in.record_lanes) {
        w->lane_hop = malloc(n * TC_WHATIF_LANES * sizeof(uint16_t));
        w->lane_step = malloc(n * TC_WHATIF_LANES);
    }

    if (!w->compromised || !w->next || !w->next_list || !w->frontier || !w->frontier_lanes ||
        !w->class_active || !w->class_grown || !w->changed || !w->reach_lanes ||
        !w->package_lanes || !w->package_new || !w->package_list || !w->send_counts ||
        !w->recv_counts || !w->send_displs || !w->recv_displs || !b->segment_modified ||
        !b->app_trust_modified || !b->class_targeted || !b->edge_removal || !b->edges_removed ||
        !b->api_closed || !b->api_closed_list || !b->principal_revoked ||
        !b->principal_split || !b->package_removed || !b->sigpair_removal ||
        (w->in.record_lanes && (!w->lane_hop || !w->lane_step)) ||
        ensure_hub(w, w->n_principals) != 0)
        return tc_error_runtime(err, "out of memory for the what-if lanes (%llu workloads, "
                                "%u classes)", (unsigned long long)t->n_local, w->n_classes);

    for (uint64_t j = 0; j < w->n_reach; j++)
        b->edge_removal[j] = WHATIF_NONE;
    for (uint32_t k = 0; k < n_sigpairs; k++)
        b->sigpair_removal[k] = WHATIF_NONE;
    return TC_OK;
}

static void batch_maps_free(whatif_batch *b)
{
    if (!b->maps_ready)
        return;
    tc_keymap_free(&b->base_pairs);
    tc_keymap_free(&b->trust);
    tc_keymap_free(&b->revoke);
    tc_keymap_free(&b->split_ids);
    b->maps_ready = 0;
}

void whatif_lanes_free(tc_whatif *w)
{
    whatif_batch *b = &w->batch;
    void *arrays[] = {
        w->compromised, w->next, w->next_list, w->frontier, w->frontier_lanes,
        w->class_active, w->class_grown, w->changed, w->reach_lanes, w->hub, w->held,
        w->held_new, w->pending, w->held_list, w->new_list, w->work, w->package_lanes,
        w->package_new, w->package_list, w->send, w->recv, w->send_counts, w->recv_counts,
        w->send_displs, w->recv_displs, w->new_at_hop, w->lane_hop, w->lane_step,
        w->pending_start, w->pending_count, w->grant_pool,
        b->segment_modified, b->removals, b->sigpair_removal, b->edge_removal,
        b->edges_removed, b->class_targeted, b->api_closed, b->api_closed_list,
        b->app_trust_modified, b->principal_revoked, b->principal_split, b->split_principal,
        b->split_app, b->package_removed,
    };
    for (size_t k = 0; k < sizeof arrays / sizeof *arrays; k++)
        free(arrays[k]);
    batch_maps_free(b);
}

size_t tc_whatif_bytes(const tc_whatif *w)
{
    const tc_topology *t = w->t;
    size_t per_workload = 5 * sizeof(uint64_t) + 1 +
                          (w->in.record_lanes ? TC_WHATIF_LANES * 3 : 0);
    size_t per_edge = 3 * sizeof(uint32_t) + 2 * sizeof(uint64_t);
    size_t per_class = 3 * sizeof(uint64_t) + 2 * sizeof(uint32_t) + sizeof(tc_svcmask);
    return t->n_local * per_workload + w->n_edges * per_edge + w->n_classes * per_class +
           w->reach_slot_offsets[w->n_classes] * sizeof(uint64_t) +
           w->n_reach * (sizeof(uint32_t) + sizeof(uint64_t)) +
           w->n_members * sizeof(whatif_member) + w->n_calls * 3 * sizeof(uint32_t) +
           w->hub_capacity * 6 * sizeof(uint64_t) + w->send_capacity * sizeof(uint64_t) +
           w->recv_capacity * sizeof(uint64_t);
}

size_t tc_whatif_estimate_bytes(const tc_topology *t, const tc_policy *p, bool record_lanes)
{
    size_t per_workload = 5 * sizeof(uint64_t) + 1 + (record_lanes ? TC_WHATIF_LANES * 3 : 0);
    size_t per_edge = 3 * sizeof(uint32_t) + 2 * sizeof(uint64_t);
    size_t per_class = 3 * sizeof(uint64_t) + 2 * sizeof(uint32_t) + sizeof(tc_svcmask) +
                       TC_SERVICE_COUNT * sizeof(uint64_t);
    uint64_t n_reach = p->reach_offsets[p->n_classes];
    return t->n_local * per_workload + t->api_offsets[t->n_local] * per_edge +
           (size_t)p->n_classes * per_class + n_reach * (2 * sizeof(uint32_t) + sizeof(uint64_t)) +
           t->n_workloads * sizeof(whatif_member) + t->n_api_edges * 3 * sizeof(uint32_t) +
           (size_t)t->principals.count * 8 * sizeof(uint64_t);
}

/* ---- batch preparation ---- */

/* Forget the previous batch: only what it touched is cleared. */
static int batch_clear(tc_whatif *w, tc_error *err)
{
    whatif_batch *b = &w->batch;
    for (uint64_t k = 0; k < b->n_edges_removed; k++)
        b->edge_removal[b->edges_removed[k]] = WHATIF_NONE;
    for (uint64_t k = 0; k < b->n_api_closed; k++)
        b->api_closed[b->api_closed_list[k]] = 0;
    if (w->sigpairs_ready)
        for (uint32_t k = 0; k < w->sigpairs.count; k++)
            b->sigpair_removal[k] = WHATIF_NONE;
    b->n_edges_removed = b->n_api_closed = 0;
    b->n_removals = 0;
    b->n_split = 0;
    memset(b->segment_modified, 0, ((size_t)w->n_segments / 64 + 1) * sizeof(uint64_t));
    memset(b->app_trust_modified, 0, ((size_t)w->n_apps / 64 + 1) * sizeof(uint64_t));
    memset(b->class_targeted, 0, (((size_t)w->n_classes + 1) / 64 + 1) * sizeof(uint64_t));
    memset(b->principal_revoked, 0, ((size_t)w->n_principals + 1) * sizeof(uint64_t));
    memset(b->principal_split, 0, ((size_t)w->n_principals + 1) * sizeof(uint64_t));
    memset(b->package_removed, 0, ((size_t)w->n_packages + 1) * sizeof(uint64_t));
    memset(b->flows_broken, 0, sizeof b->flows_broken);

    batch_maps_free(b);
    if (tc_keymap_init(&b->base_pairs, 2) != 0 || tc_keymap_init(&b->trust, 2) != 0 ||
        tc_keymap_init(&b->revoke, 2) != 0 || tc_keymap_init(&b->split_ids, 2) != 0)
        return tc_error_runtime(err, "out of memory preparing a what-if batch");
    b->maps_ready = 1;
    return TC_OK;
}

static uint32_t new_removal(whatif_batch *b)
{
    if (b->n_removals == b->cap_removals) {
        uint32_t cap = b->cap_removals ? 2 * b->cap_removals : 64;
        whatif_removal *p = realloc(b->removals, cap * sizeof *p);
        if (!p)
            return WHATIF_NONE;
        b->removals = p;
        b->cap_removals = cap;
    }
    memset(&b->removals[b->n_removals], 0, sizeof *b->removals);
    return b->n_removals++;
}

static uint64_t map_lanes(const tc_keymap *m, uint32_t first, uint32_t second)
{
    uint64_t key[2] = { first, second };
    uint32_t id = tc_keymap_find(m, key);
    return id == UINT32_MAX ? 0 : m->values[id];
}

/* Policy-rule closures: lanes with the same rule removals share one
 * evaluation of the rules over every signature pair. */
static int prepare_rules(tc_whatif *w, const tc_closure *cl, const uint64_t *masks, size_t n,
                         tc_error *err)
{
    whatif_batch *b = &w->batch;
    size_t n_rules = w->in.spec->n_rules;
    tc_svcmask *removed = calloc((size_t)TC_WHATIF_LANES * (n_rules + 1), sizeof(tc_svcmask));
    uint64_t config_lanes[TC_WHATIF_LANES];
    int lane_config[TC_WHATIF_LANES];
    int n_configs = 0;
    if (!removed)
        return tc_error_runtime(err, "out of memory preparing policy-rule closures");

    for (size_t j = 0; j < n; j++)
        if (cl[j].kind == TC_CLOSE_POLICY_RULE)
            for (uint64_t m = masks[j] & b->used; m; m &= m - 1)
                removed[(size_t)__builtin_ctzll(m) * n_rules + cl[j].first] |= cl[j].services;

    /* Group lanes by their removal vector; the first lane of a group keeps it. */
    for (int k = 0; k < TC_WHATIF_LANES; k++) {
        lane_config[k] = -1;
        const tc_svcmask *mine = removed + (size_t)k * n_rules;
        bool any = false;
        for (size_t r = 0; r < n_rules; r++)
            any |= mine[r] != 0;
        if (!any)
            continue;
        for (int c = 0; c < n_configs && lane_config[k] < 0; c++) {
            int first = __builtin_ctzll(config_lanes[c]);
            if (memcmp(removed + (size_t)first * n_rules, mine, n_rules * sizeof *mine) == 0)
                lane_config[k] = c;
        }
        if (lane_config[k] < 0) {
            lane_config[k] = n_configs;
            config_lanes[n_configs++] = 0;
        }
        config_lanes[lane_config[k]] |= 1ULL << k;
    }

    for (int c = 0; c < n_configs; c++) {
        const tc_svcmask *vector = removed + (size_t)__builtin_ctzll(config_lanes[c]) * n_rules;
        for (uint32_t id = 0; id < w->sigpairs.count; id++) {
            const uint64_t *key = tc_keymap_key(&w->sigpairs, id);
            tc_svcmask allowed = whatif_rules_allowed(w, (uint32_t)key[0], (uint32_t)key[1],
                                                      vector, NULL);
            tc_svcmask lost = w->sigpair_allowed[id] & ~allowed;
            if (!lost)
                continue;
            if (b->sigpair_removal[id] == WHATIF_NONE &&
                (b->sigpair_removal[id] = new_removal(b)) == WHATIF_NONE) {
                free(removed);
                return tc_error_runtime(err, "out of memory preparing policy-rule closures");
            }
            for (tc_svcmask m = lost; m; m &= m - 1)
                b->removals[b->sigpair_removal[id]].lanes[__builtin_ctzll(m)] |= config_lanes[c];
        }
    }
    free(removed);
    return TC_OK;
}

/* Give every class-graph edge the removal slot of its segment pair and its
 * signature pair (merged into a new slot when it has both). */
static int prepare_edges(tc_whatif *w, bool any_rule, tc_error *err)
{
    whatif_batch *b = &w->batch;
    const tc_policy *p = w->p;
    for (uint32_t a = 0; a < w->n_classes; a++) {
        uint32_t sa = p->class_segment[a];
        bool base_from = whatif_bit_get(b->segment_modified, sa);
        if (!base_from && !any_rule)
            continue;
        for (uint64_t j = p->reach_offsets[a]; j < p->reach_offsets[a + 1]; j++) {
            uint32_t target = p->reach_targets[j];
            uint32_t from_base = WHATIF_NONE, from_rules = WHATIF_NONE;
            if (base_from) {
                uint64_t key[2] = { sa, p->class_segment[target] };
                uint32_t id = tc_keymap_find(&b->base_pairs, key);
                if (id != UINT32_MAX)
                    from_base = (uint32_t)b->base_pairs.values[id];
            }
            if (any_rule)
                from_rules = b->sigpair_removal[w->edge_sigpair[j]];
            uint32_t slot = from_base != WHATIF_NONE ? from_base : from_rules;
            if (slot == WHATIF_NONE)
                continue;
            if (from_base != WHATIF_NONE && from_rules != WHATIF_NONE) {
                if ((slot = new_removal(b)) == WHATIF_NONE)
                    return tc_error_runtime(err, "out of memory preparing a what-if batch");
                for (int s = 0; s < TC_SERVICE_COUNT; s++)
                    b->removals[slot].lanes[s] = b->removals[from_base].lanes[s] |
                                                 b->removals[from_rules].lanes[s];
            }
            b->edge_removal[j] = slot;
            b->edges_removed[b->n_edges_removed++] = j;
            whatif_bit_set(b->class_targeted, target);
        }
    }
    return TC_OK;
}

/* Lanes closing each API edge of an owned caller: its service removed from
 * its class pair, or its app pair's trust lowered. */
static void prepare_api(tc_whatif *w)
{
    whatif_batch *b = &w->batch;
    const tc_topology *t = w->t;
    for (uint64_t u = 0; u < t->n_local; u++) {
        bool trust = whatif_bit_get(b->app_trust_modified, t->app[u]);
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++) {
            uint64_t lanes = 0;
            uint32_t j = w->edge_reach[e];
            if (j != WHATIF_NONE && b->edge_removal[j] != WHATIF_NONE)
                lanes |= b->removals[b->edge_removal[j]].lanes[t->api_service[e]];
            if (trust)
                lanes |= map_lanes(&b->trust, t->app[u], w->edge_app[e]);
            if (!lanes)
                continue;
            b->api_closed[e] = lanes;
            b->api_closed_list[b->n_api_closed++] = e;
        }
    }
}

/* Number the split principals P#A of the batch: principals in id order,
 * then their apps in ascending order, as the plain path adds them. */
static int prepare_splits(tc_whatif *w, tc_error *err)
{
    whatif_batch *b = &w->batch;
    size_t cap = 0;
    for (uint32_t q = 0; q < w->n_principals; q++) {
        if (!b->principal_split[q])
            continue;
        for (uint64_t k = w->principal_app_offsets[q]; k < w->principal_app_offsets[q + 1]; k++) {
            uint64_t key[2] = { q, w->principal_apps[k] };
            size_t cap_app = cap;
            if (tc_keymap_intern(&b->split_ids, key) == UINT32_MAX ||
                grow((void **)&b->split_principal, &cap, b->n_split + 1, sizeof(uint32_t)) != 0 ||
                grow((void **)&b->split_app, &cap_app, b->n_split + 1, sizeof(uint32_t)) != 0)
                return tc_error_runtime(err, "out of memory splitting principals");
            b->split_principal[b->n_split] = q;
            b->split_app[b->n_split++] = w->principal_apps[k];
        }
    }
    if (ensure_hub(w, (size_t)w->n_principals + b->n_split) != 0)
        return tc_error_runtime(err, "out of memory splitting principals");
    return TC_OK;
}

static int batch_prepare(tc_whatif *w, const tc_closure *cl, const uint64_t *masks, size_t n,
                         tc_error *err)
{
    whatif_batch *b = &w->batch;
    for (size_t j = 0; j < n; j++)
        if (tc_whatif_check(w, &cl[j], err) != TC_OK)
            return err->code;
    if (batch_clear(w, err) != TC_OK)
        return err->code;

    bool any_rule = false, any_trust = false;
    for (size_t j = 0; j < n; j++) {
        const tc_closure *c = &cl[j];
        uint64_t lanes = masks[j] & b->used;
        if (!lanes)
            continue;
        uint64_t key[2] = { c->first, c->second };
        uint32_t id = 0;
        switch (c->kind) {
        case TC_CLOSE_BASE_RULE:
            id = tc_keymap_intern(&b->base_pairs, key);
            if (id == UINT32_MAX)
                return tc_error_runtime(err, "out of memory preparing a what-if batch");
            if (b->base_pairs.values[id] == 0) {
                uint32_t slot = new_removal(b);
                if (slot == WHATIF_NONE)
                    return tc_error_runtime(err, "out of memory preparing a what-if batch");
                b->base_pairs.values[id] = slot + 1ULL;
            }
            for (tc_svcmask m = c->services; m; m &= m - 1)
                b->removals[b->base_pairs.values[id] - 1].lanes[__builtin_ctzll(m)] |= lanes;
            whatif_bit_set(b->segment_modified, c->first);
            break;
        case TC_CLOSE_POLICY_RULE:
            any_rule = true;
            break;
        case TC_CLOSE_SPLIT:
            b->principal_split[c->first] |= lanes;
            break;
        case TC_CLOSE_REVOKE:
        case TC_CLOSE_TRUST: {
            tc_keymap *m = c->kind == TC_CLOSE_REVOKE ? &b->revoke : &b->trust;
            if ((id = tc_keymap_intern(m, key)) == UINT32_MAX)
                return tc_error_runtime(err, "out of memory preparing a what-if batch");
            m->values[id] |= lanes;
            if (c->kind == TC_CLOSE_REVOKE) {
                b->principal_revoked[c->first] |= lanes;
            } else {
                whatif_bit_set(b->app_trust_modified, c->first);
                any_trust = true;
            }
            break;
        }
        case TC_CLOSE_PACKAGE:
            b->package_removed[c->first] |= lanes;
            break;
        default:
            break;
        }
    }
    /* Base-pair values were stored as slot + 1 so that 0 meant "no slot yet". */
    for (uint32_t id = 0; id < b->base_pairs.count; id++)
        b->base_pairs.values[id]--;

    if (any_rule && prepare_rules(w, cl, masks, n, err) != TC_OK)
        return err->code;
    if ((b->base_pairs.count > 0 || any_rule) && prepare_edges(w, any_rule, err) != TC_OK)
        return err->code;
    if (b->n_edges_removed > 0 || any_trust)
        prepare_api(w);
    return prepare_splits(w, err);
}

/* ---- flows each lane breaks ---- */

static void batch_flows(tc_whatif *w)
{
    whatif_batch *b = &w->batch;
    const tc_topology *t = w->t;
    const tc_policy *p = w->p;
    uint64_t *broken = b->flows_broken;

    /* API flows: closed when their class pair loses their service. Lowered
     * trust keeps the call working, so it breaks nothing. */
    for (uint64_t e = 0; b->n_edges_removed > 0 && e < w->n_edges; e++) {
        uint32_t j = w->edge_reach[e];
        if (j == WHATIF_NONE || b->edge_removal[j] == WHATIF_NONE)
            continue;
        unsigned s = t->api_service[e];
        if (p->reach_masks[j] >> s & 1)
            add_to_lanes(broken, b->removals[b->edge_removal[j]].lanes[s] & b->used, 1);
    }

    /* Grant flows: one per (network-gated grant, workload running as its
     * principal), counted by (app, class) of those workloads. */
    for (uint32_t q = 0; q < w->n_principals; q++) {
        uint64_t revoked_any = b->principal_revoked[q], split = b->principal_split[q];
        for (uint64_t g = t->grant_offsets[q]; g < t->grant_offsets[q + 1]; g++) {
            const tc_grant *grant = &t->grants[g];
            uint64_t v = grant->target_local;
            uint32_t cv = p->class_of[v];
            if (!grant->gated ||
                (!revoked_any && !split && !whatif_bit_get(b->class_targeted, cv)))
                continue;
            uint64_t revoked = revoked_any ? map_lanes(&b->revoke, q, t->app[v]) : 0;
            for (uint64_t k = w->member_offsets[q]; k < w->member_offsets[q + 1]; k++) {
                const whatif_member *m = &w->members[k];
                uint32_t j = whatif_reach_index(p, m->class_id, cv);
                tc_svcmask open = j == WHATIF_NONE ? 0 : grant->services & p->reach_masks[j];
                if (!open)
                    continue;
                uint64_t lanes = revoked;
                if (split && !whatif_split_keeps(w, q, m->app, t->app[v]))
                    lanes |= split;
                if (b->edge_removal[j] != WHATIF_NONE) {
                    uint64_t all_gone = ~0ULL;
                    for (tc_svcmask s = open; s; s &= s - 1)
                        all_gone &= b->removals[b->edge_removal[j]].lanes[__builtin_ctzll(s)];
                    lanes |= all_gone;
                }
                add_to_lanes(broken, lanes & b->used, m->count);
            }
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, broken, TC_WHATIF_LANES, MPI_UINT64_T, MPI_SUM, t->comm);
}

/* ---- the levels ---- */

static inline uint64_t reach_slot(const tc_whatif *w, uint32_t b, unsigned s)
{
    tc_svcmask below = w->class_in_services[b] & (((tc_svcmask)1 << s) - 1);
    return w->reach_slot_offsets[b] + (uint64_t)__builtin_popcountll(below);
}

/* Lanes in which class B's reach meets SERVICES. */
static inline uint64_t reach_meets(const tc_whatif *w, uint32_t b, tc_svcmask services)
{
    uint64_t lanes = 0;
    for (tc_svcmask m = services & w->class_in_services[b]; m; m &= m - 1)
        lanes |= w->reach_lanes[reach_slot(w, b, (unsigned)__builtin_ctzll(m))];
    return lanes;
}

/* Owned workload V falls at HOP in LANES, except where it already fell. */
static inline void lanes_fall(tc_whatif *w, uint64_t v, uint64_t lanes, uint16_t hop,
                              uint8_t step)
{
    uint64_t add = lanes & ~w->compromised[v] & ~w->next[v];
    if (!add)
        return;
    if (!w->next[v])
        w->next_list[w->n_next++] = v;
    w->next[v] |= add;
    if (!w->lane_hop)
        return;
    for (uint64_t m = add; m; m &= m - 1) {
        uint64_t slot = v * TC_WHATIF_LANES + (uint64_t)__builtin_ctzll(m);
        w->lane_hop[slot] = hop;
        w->lane_step[slot] = step;
    }
}

static void run_reset(tc_whatif *w)
{
    const tc_topology *t = w->t;
    size_t np = (size_t)w->n_principals + w->batch.n_split;
    memset(w->compromised, 0, (t->n_local + 1) * sizeof(uint64_t));
    memset(w->next, 0, (t->n_local + 1) * sizeof(uint64_t));
    memset(w->class_active, 0, ((size_t)w->n_classes + 1) * sizeof(uint64_t));
    memset(w->class_grown, 0, ((size_t)w->n_classes + 1) * sizeof(uint64_t));
    memset(w->reach_lanes, 0, (w->reach_slot_offsets[w->n_classes] + 1) * sizeof(uint64_t));
    memset(w->held, 0, np * sizeof(uint64_t));
    memset(w->held_new, 0, np * sizeof(uint64_t));
    memset(w->pending, 0, np * sizeof(uint64_t));
    memset(w->package_lanes, 0, ((size_t)w->n_packages + 1) * sizeof(uint64_t));
    memset(w->package_new, 0, ((size_t)w->n_packages + 1) * sizeof(uint64_t));
    w->n_next = w->n_frontier = w->n_pool = 0;
    w->n_changed = w->n_held_list = w->n_new_list = w->n_work = w->n_package_list = 0;
    w->hops_recorded = 0;
    if (w->lane_hop) {
        for (uint64_t k = 0; k < t->n_local * TC_WHATIF_LANES; k++)
            w->lane_hop[k] = TC_HOP_NONE;
        memset(w->lane_step, TC_STEP_COUNT, t->n_local * TC_WHATIF_LANES);
    }
}

/* Hop 0: foothold workloads, and installers of foothold packages in the
 * lanes that keep the package. */
static void run_footholds(tc_whatif *w)
{
    const tc_topology *t = w->t;
    const tc_footholds *f = w->in.footholds;
    uint64_t used = w->batch.used;
    for (uint64_t k = 0; k < f->n_workloads; k++)
        lanes_fall(w, f->workloads[k], used, 0, TC_STEP_FOOTHOLD);
    for (uint32_t k = 0; k < f->n_packages; k++) {
        uint32_t pkg = f->packages[k];
        w->package_lanes[pkg] = used;
        uint64_t lanes = used & ~w->batch.package_removed[pkg];
        for (uint64_t j = t->installer_offsets[pkg]; lanes && j < t->installer_offsets[pkg + 1]; j++)
            lanes_fall(w, t->installers[j], lanes, 0, TC_STEP_FOOTHOLD);
    }
}

/* Move next into the frontier, and count it per lane into COUNTS and, for
 * counted crown jewels, into CROWN. */
static void run_swap(tc_whatif *w, lane_counter *counts, lane_counter *crown)
{
    uint64_t *list = w->next_list;
    for (uint64_t k = 0; k < w->n_next; k++) {
        uint64_t v = list[k], lanes = w->next[v];
        w->frontier_lanes[k] = lanes;
        w->compromised[v] |= lanes;
        w->next[v] = 0;
        lane_counter_add(counts, lanes);
        if (w->counted_crown[v])
            lane_counter_add(crown, lanes);
    }
    w->next_list = w->frontier;
    w->frontier = list;
    w->n_frontier = w->n_next;
    w->n_next = 0;
}

/* Give principal R, held for the first time, its run of pending grants:
 * all grants of the principal it acts as, and for a split principal P#A
 * only those it keeps. */
static int pool_add(tc_whatif *w, uint32_t r)
{
    const tc_topology *t = w->t;
    uint32_t q = whatif_base_principal(w, r);
    uint64_t n = t->grant_offsets[q + 1] - t->grant_offsets[q];
    if (grow((void **)&w->grant_pool, &w->pool_capacity, w->n_pool + n + 1, sizeof(uint64_t)) != 0)
        return -1;
    w->pending_start[r] = w->n_pool;
    bool split = r >= w->n_principals;
    uint32_t app = split ? w->batch.split_app[r - w->n_principals] : 0;
    for (uint64_t g = t->grant_offsets[q]; g < t->grant_offsets[q + 1]; g++)
        if (!split || whatif_split_keeps(w, q, app, t->app[t->grants[g].target_local]))
            w->grant_pool[w->n_pool++] = g;
    w->pending_count[r] = w->n_pool - w->pending_start[r];
    return 0;
}

static void mark_held(tc_whatif *w, uint32_t r, uint64_t lanes, tc_error *err)
{
    if (!w->held[r]) {
        w->held_list[w->n_held_list++] = r;
        if (pool_add(w, r) != 0) {
            tc_error_runtime(err, "what-if: out of memory listing the grants of held principals");
            w->pending_count[r] = 0;
        }
    }
    w->held[r] |= lanes;
    if (!w->held_new[r])
        w->new_list[w->n_new_list++] = r;
    w->held_new[r] |= lanes;
    if (!w->pending[r])
        w->work[w->n_work++] = r;
    w->pending[r] |= lanes;
}

/* Hub activations of the level (collective): classes and principals of the
 * frontier, the assume closure, and the class reach that grows. */
static int run_hubs(tc_whatif *w, tc_error *err)
{
    const tc_topology *t = w->t;
    const tc_policy *p = w->p;
    whatif_batch *b = &w->batch;
    uint32_t nc = w->n_classes, np = w->n_principals;
    size_t n_hub = (size_t)nc + np + b->n_split;
    uint64_t *class_new = w->hub, *principal_new = w->hub + nc;

    memset(w->hub, 0, n_hub * sizeof(uint64_t));
    for (uint64_t k = 0; k < w->n_frontier; k++) {
        uint64_t v = w->frontier[k], lanes = w->frontier_lanes[k];
        class_new[p->class_of[v]] |= lanes;
        uint32_t q = t->principal[v];
        uint64_t split = lanes & b->principal_split[q];
        if (split) {
            uint64_t key[2] = { q, t->app[v] };
            principal_new[np + tc_keymap_find(&b->split_ids, key)] |= split;
        }
        if (lanes & ~split)
            principal_new[q] |= lanes & ~split;
    }
    if (n_hub > INT_MAX)
        return tc_error_runtime(err, "what-if: %zu hub lane masks do not fit one allreduce",
                                n_hub);
    MPI_Allreduce(MPI_IN_PLACE, w->hub, (int)n_hub, MPI_UINT64_T, MPI_BOR, t->comm);

    /* Principals: the new ones, then everything assumable from them. */
    for (uint32_t k = 0; k < w->n_new_list; k++)
        w->held_new[w->new_list[k]] = 0;
    w->n_new_list = 0;
    for (uint32_t r = 0; r < np + b->n_split; r++) {
        uint64_t fresh = principal_new[r] & ~w->held[r];
        if (fresh)
            mark_held(w, r, fresh, err);
    }
    while (w->n_work > 0) {
        uint32_t r = w->work[--w->n_work];
        uint64_t lanes = w->pending[r];
        w->pending[r] = 0;
        uint32_t q = whatif_base_principal(w, r);
        for (uint64_t j = t->assume_offsets[q]; j < t->assume_offsets[q + 1]; j++) {
            uint64_t fresh = lanes & ~w->held[t->assumes[j]];
            if (fresh)
                mark_held(w, t->assumes[j], fresh, err);
        }
    }

    /* Classes: reach from the lanes in which each became active. */
    for (uint32_t k = 0; k < w->n_changed; k++)
        w->class_grown[w->changed[k]] = 0;
    w->n_changed = 0;
    for (uint32_t a = 0; a < nc; a++) {
        uint64_t fresh = class_new[a] & ~w->class_active[a];
        if (!fresh)
            continue;
        w->class_active[a] |= fresh;
        for (uint64_t j = p->reach_offsets[a]; j < p->reach_offsets[a + 1]; j++) {
            uint32_t target = p->reach_targets[j];
            const whatif_removal *removal =
                b->edge_removal[j] == WHATIF_NONE ? NULL : &b->removals[b->edge_removal[j]];
            for (tc_svcmask m = p->reach_masks[j]; m; m &= m - 1) {
                unsigned s = (unsigned)__builtin_ctzll(m);
                uint64_t lanes = fresh & ~(removal ? removal->lanes[s] : 0);
                uint64_t slot = reach_slot(w, target, s);
                uint64_t grown = lanes & ~w->reach_lanes[slot];
                if (!grown)
                    continue;
                w->reach_lanes[slot] |= grown;
                if (!w->class_grown[target])
                    w->changed[w->n_changed++] = target;
                w->class_grown[target] |= grown;
            }
        }
    }
    return TC_OK;
}

/* API chain: open edges from the frontier, local callees directly and
 * remote ones through one MPI_Alltoallv of (callee, lanes) pairs. */
static int run_api(tc_whatif *w, uint16_t hop, tc_error *err)
{
    const tc_topology *t = w->t;
    const tc_policy *p = w->p;
    const whatif_batch *b = &w->batch;
    int nranks = t->nranks;

    memset(w->send_counts, 0, (size_t)nranks * sizeof(int));
    uint64_t n_send = 0;
    for (uint64_t k = 0; k < w->n_frontier; k++) {
        uint64_t u = w->frontier[k], lanes = w->frontier_lanes[k];
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++) {
            uint64_t open = p->api_open[e] ? lanes & ~b->api_closed[e] : 0;
            if (!open)
                continue;
            uint64_t callee = t->api_targets[e];
            if (tc_topology_owns(t, callee)) {
                lanes_fall(w, callee - t->first, open, hop, TC_STEP_API);
                continue;
            }
            w->send_counts[tc_topology_owner(t, callee)] += 2;
            n_send += 2;
        }
    }
    if (n_send > INT_MAX || grow((void **)&w->send, &w->send_capacity, n_send + 1,
                                 sizeof(uint64_t)) != 0) {
        tc_error_runtime(err, "what-if: out of memory sending %llu API steps",
                         (unsigned long long)n_send / 2);
        memset(w->send_counts, 0, (size_t)nranks * sizeof(int));
        n_send = 0;
    }
    for (int r = 0; r < nranks; r++)
        w->send_displs[r + 1] = w->send_displs[r] + w->send_counts[r];

    if (n_send > 0) {
        int *fill = w->recv_displs; /* borrowed as a cursor until the counts arrive */
        memcpy(fill, w->send_displs, (size_t)nranks * sizeof(int));
        for (uint64_t k = 0; k < w->n_frontier; k++) {
            uint64_t u = w->frontier[k], lanes = w->frontier_lanes[k];
            for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++) {
                uint64_t open = p->api_open[e] ? lanes & ~b->api_closed[e] : 0;
                uint64_t callee = t->api_targets[e];
                if (!open || tc_topology_owns(t, callee))
                    continue;
                int r = tc_topology_owner(t, callee);
                w->send[fill[r]++] = callee;
                w->send[fill[r]++] = open;
            }
        }
    }

    MPI_Alltoall(w->send_counts, 1, MPI_INT, w->recv_counts, 1, MPI_INT, t->comm);
    uint64_t n_recv = 0;
    w->recv_displs[0] = 0;
    for (int r = 0; r < nranks; r++) {
        n_recv += (uint64_t)w->recv_counts[r];
        w->recv_displs[r + 1] = w->recv_displs[r] + w->recv_counts[r];
    }
    if (n_recv > INT_MAX ||
        grow((void **)&w->recv, &w->recv_capacity, n_recv + 1, sizeof(uint64_t)) != 0)
        tc_error_runtime(err, "what-if: out of memory receiving %llu API steps",
                         (unsigned long long)n_recv / 2);

    /* A rank that cannot send or receive makes every rank skip the exchange. */
    if (tc_error_agree(err, t->comm) != TC_OK)
        return err->code;
    MPI_Alltoallv(w->send, w->send_counts, w->send_displs, MPI_UINT64_T, w->recv,
                  w->recv_counts, w->recv_displs, MPI_UINT64_T, t->comm);
    for (uint64_t k = 0; k + 1 < n_recv; k += 2)
        lanes_fall(w, w->recv[k] - t->first, w->recv[k + 1], hop, TC_STEP_API);
    return err->code;
}

/* Workloads falling at hop H + 1, step by step in enum tc_step order. */
static int run_next_level(tc_whatif *w, uint16_t h, tc_error *err)
{
    const tc_topology *t = w->t;
    const tc_policy *p = w->p;
    const whatif_batch *b = &w->batch;
    uint16_t hop = (uint16_t)(h + 1);

    /* Network exploit: members of classes whose reach grew. */
    for (uint32_t k = 0; k < w->n_changed; k++) {
        uint32_t c = w->changed[k];
        for (uint64_t j = p->member_offsets[c]; j < p->member_offsets[c + 1]; j++) {
            uint64_t v = p->members[j];
            if (t->exploitable[v] && w->compromised[v] != b->used)
                lanes_fall(w, v, reach_meets(w, c, t->exploitable[v]), hop, TC_STEP_NETWORK);
        }
    }

    if (run_api(w, hop, err) != TC_OK)
        return err->code;

    /* Credentials: a pending grant of a held principal compromises its
     * target in the lanes that hold the principal and keep the grant, and
     * for a network-gated grant only where the target's reach meets it. A
     * grant whose target has fallen in every lane can never act again and
     * leaves the pending run, so later levels scan less. */
    for (uint32_t k = 0; k < w->n_held_list; k++) {
        uint32_t r = w->held_list[k], q = whatif_base_principal(w, r);
        uint64_t *run = w->grant_pool + w->pending_start[r], kept = 0;
        for (uint64_t j = 0; j < w->pending_count[r]; j++) {
            uint64_t g = run[j];
            const tc_grant *grant = &t->grants[g];
            uint64_t v = grant->target_local;
            if (!(b->used & ~w->compromised[v]))
                continue;
            run[kept++] = g;
            uint64_t lanes = w->held[r] & ~w->compromised[v] & ~w->next[v];
            if (!lanes)
                continue;
            if (b->principal_revoked[q])
                lanes &= ~map_lanes(&b->revoke, q, t->app[v]);
            if (grant->gated)
                lanes &= reach_meets(w, p->class_of[v], grant->services);
            lanes_fall(w, v, lanes, hop, TC_STEP_CREDENTIAL);
        }
        w->pending_count[r] = kept;
    }

    /* Supply chain: packages that principals held at H may publish fall at
     * H + 1 with their installers, except in lanes that removed them. */
    w->n_package_list = 0;
    for (uint32_t k = 0; k < w->n_new_list; k++) {
        uint32_t r = w->new_list[k], q = whatif_base_principal(w, r);
        for (uint64_t j = t->publish_offsets[q]; j < t->publish_offsets[q + 1]; j++) {
            uint32_t pkg = t->publishes[j];
            uint64_t fresh = w->held_new[r] & ~w->package_lanes[pkg];
            if (!fresh)
                continue;
            w->package_lanes[pkg] |= fresh;
            if (!w->package_new[pkg])
                w->package_list[w->n_package_list++] = pkg;
            w->package_new[pkg] |= fresh;
        }
    }
    for (uint32_t k = 0; k < w->n_package_list; k++) {
        uint32_t pkg = w->package_list[k];
        uint64_t lanes = w->package_new[pkg] & ~b->package_removed[pkg];
        w->package_new[pkg] = 0;
        for (uint64_t j = t->installer_offsets[pkg]; lanes && j < t->installer_offsets[pkg + 1]; j++)
            lanes_fall(w, t->installers[j], lanes, hop, TC_STEP_SUPPLY_CHAIN);
    }
    return TC_OK;
}

static int record_level(tc_whatif *w, const uint64_t *counts, tc_error *err)
{
    size_t cap = w->hops_capacity;
    if (grow((void **)&w->new_at_hop, &cap, ((size_t)w->hops_recorded + 1) * TC_WHATIF_LANES,
             sizeof(uint64_t)) != 0)
        return tc_error_runtime(err, "out of memory recording what-if levels");
    w->hops_capacity = (uint32_t)cap;
    memcpy(w->new_at_hop + (size_t)w->hops_recorded * TC_WHATIF_LANES, counts,
           TC_WHATIF_LANES * sizeof(uint64_t));
    w->hops_recorded++;
    return TC_OK;
}

static int run_levels(tc_whatif *w, tc_whatif_lane *out, unsigned n_lanes, tc_error *err)
{
    const tc_topology *t = w->t;
    uint32_t budget = w->in.hop_budget > TC_HOP_BUDGET_MAX ? TC_HOP_BUDGET_MAX : w->in.hop_budget;
    lane_counter counts, crown;
    memset(&crown, 0, sizeof crown);

    run_reset(w);
    run_footholds(w);
    for (uint32_t h = 0;; h++) {
        memset(&counts, 0, sizeof counts);
        run_swap(w, &counts, &crown);
        lane_counter_flush(&counts);
        MPI_Allreduce(MPI_IN_PLACE, counts.totals, TC_WHATIF_LANES, MPI_UINT64_T, MPI_SUM,
                      t->comm);
        uint64_t any = 0;
        for (unsigned k = 0; k < n_lanes; k++)
            any |= counts.totals[k];
        if (!any)
            break;
        record_level(w, counts.totals, err);
        for (unsigned k = 0; k < n_lanes; k++) {
            out[k].compromised += counts.totals[k];
            if (counts.totals[k])
                out[k].levels = h;
        }

        run_hubs(w, err);
        if (tc_error_agree(err, t->comm) != TC_OK)
            return err->code;
        if (h == budget)
            break;
        run_next_level(w, (uint16_t)h, err);
        tc_fault_point("simulate", err);
        if (tc_error_agree(err, t->comm) != TC_OK)
            return err->code;
    }

    lane_counter_flush(&crown);
    MPI_Allreduce(MPI_IN_PLACE, crown.totals, TC_WHATIF_LANES, MPI_UINT64_T, MPI_SUM, t->comm);
    for (unsigned k = 0; k < n_lanes; k++)
        out[k].crown_jewels = crown.totals[k];
    return TC_OK;
}

/* ---- entry points ---- */

int tc_whatif_run(tc_whatif *w, const tc_closure *closures, const uint64_t *lane_masks,
                  size_t n, unsigned n_lanes, tc_whatif_lane *out, tc_error *err)
{
    const tc_topology *t = w->t;
    if (n_lanes < 1 || n_lanes > TC_WHATIF_LANES)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "what-if: %u lanes requested, expected 1 to %d", n_lanes,
                              TC_WHATIF_LANES);
    memset(out, 0, n_lanes * sizeof *out);
    w->batch.used = n_lanes == TC_WHATIF_LANES ? ~0ULL : (1ULL << n_lanes) - 1;
    w->batch.n_closures = n;

    batch_prepare(w, closures, lane_masks, n, err);
    if (tc_error_agree(err, t->comm) != TC_OK)
        return err->code;
    batch_flows(w);
    for (unsigned k = 0; k < n_lanes; k++)
        out[k].flows_broken = w->batch.flows_broken[k];
    return run_levels(w, out, n_lanes, err);
}

uint16_t tc_whatif_lane_hop(const tc_whatif *w, uint64_t local, unsigned lane)
{
    if (w->lane_hop)
        return w->lane_hop[local * TC_WHATIF_LANES + lane];
    return (w->compromised[local] >> lane & 1) ? 0 : TC_HOP_NONE;
}

uint8_t tc_whatif_lane_step(const tc_whatif *w, uint64_t local, unsigned lane)
{
    return w->lane_step ? w->lane_step[local * TC_WHATIF_LANES + lane] : TC_STEP_COUNT;
}

uint64_t tc_whatif_new_at_hop(const tc_whatif *w, unsigned lane, uint32_t hop)
{
    if (hop >= w->hops_recorded || lane >= TC_WHATIF_LANES)
        return 0;
    return w->new_at_hop[(size_t)hop * TC_WHATIF_LANES + lane];
}
