/*
 * whatif_state.h - the what-if context, shared by whatif.c (building it),
 * whatif_lanes.c (the 64-lane engine), whatif_candidates.c and
 * whatif_apply.c (the plain re-simulation). Not part of the contract: other
 * modules include whatif.h only.
 *
 * Layout of the lane state:
 *  - A lane mask is a uint64_t whose bit k is lane k.
 *  - Class reach per lane is kept per (class, service), only for the
 *    services that some class-graph edge into the class carries. Service s
 *    of class b is reach_lanes[reach_slot_offsets[b] + r], where r is the
 *    number of services of class_in_services[b] below s.
 *  - Principals 0 .. n_principals-1 are the topology's. Ids from
 *    n_principals on are the split principals "P#A" of the current batch.
 */
#ifndef TC_WHATIF_STATE_H
#define TC_WHATIF_STATE_H

#include <stdint.h>

#include "keymap.h"
#include "whatif.h"

#define WHATIF_NONE UINT32_MAX

/* Lanes in which each service is removed from a class pair. */
typedef struct whatif_removal {
    uint64_t lanes[TC_SERVICE_COUNT];
} whatif_removal;

/* Owned workloads running as a principal, by app and class (replicated). */
typedef struct whatif_member {
    uint32_t principal, app, class_id;
    uint64_t count;
} whatif_member;

/* Closures of the current batch, by what they touch. */
typedef struct whatif_batch {
    uint64_t used;                  /* lanes in use */
    size_t n_closures;

    /* Class-pair removals (base and policy rules), by class-graph edge. */
    tc_keymap base_pairs;           /* (from segment, to segment) -> removal slot */
    uint64_t *segment_modified;     /* bitset: segments with a base removal from them */
    whatif_removal *removals;       /* slots */
    uint32_t n_removals, cap_removals;
    uint32_t *sigpair_removal;      /* rules policies: per signature pair, slot or NONE */
    uint32_t *edge_removal;         /* per class-graph edge: slot or NONE */
    uint64_t *edges_removed;        /* class-graph edges with a slot, for the reset */
    uint64_t n_edges_removed;
    uint64_t *class_targeted;       /* bitset: targets of edges with a slot */

    uint64_t *api_closed;           /* per API edge of owned callers: lanes closing it */
    uint64_t *api_closed_list;      /* edges with nonzero lanes, for the reset */
    uint64_t n_api_closed;

    tc_keymap trust;                /* (caller app, callee app) -> lanes (value) */
    uint64_t *app_trust_modified;   /* bitset over apps: callers with a trust closure */
    tc_keymap revoke;               /* (principal, app) -> lanes (value) */
    uint64_t *principal_revoked;    /* per principal: lanes of any revoke of it */
    uint64_t *principal_split;      /* per principal: lanes in which it is split */
    tc_keymap split_ids;            /* (principal, app) -> index of P#A from 0 */
    uint32_t n_split;               /* split principals P#A in this batch */
    uint32_t *split_principal, *split_app;
    uint64_t *package_removed;      /* per package: lanes in which it is removed */
    int maps_ready;

    uint64_t flows_broken[TC_WHATIF_LANES];
} whatif_batch;

struct tc_whatif {
    tc_whatif_input in;
    const tc_topology *t;
    const tc_policy *p;

    uint32_t n_classes, n_principals, n_packages, n_apps, n_segments;
    uint64_t n_reach;               /* class-graph edges */
    uint64_t n_edges;               /* API edges of owned callers */

    /* Base rules merged per segment pair, sorted (replicated). */
    tc_base_rule *base;
    uint64_t n_base;

    /* Per API edge of owned callers. */
    uint32_t *edge_class;           /* class of the callee */
    uint32_t *edge_app;             /* app of the callee */
    uint32_t *edge_reach;           /* class-graph edge (caller class, callee class), or NONE */

    /* Members by (principal, app, class), sorted, CSR over principals (replicated). */
    whatif_member *members;
    uint64_t n_members;
    uint64_t *member_offsets;

    /* Apps running as each principal, ascending, CSR (replicated). */
    uint32_t *principal_apps;
    uint64_t *principal_app_offsets;

    /* (principal, caller app, callee app) of every API call made by an app
     * of a principal that several apps run as: sorted, unique, replicated. */
    uint32_t *calls;                /* 3 words per call */
    uint64_t n_calls;

    /* Rules policies: SmartGroup signature of each class, the signature
     * pairs joined by class-graph edges, and which rule decides each
     * service of each pair. */
    uint32_t n_used_groups;
    uint32_t *used_groups;          /* bit -> scenario group */
    uint32_t *group_bit;            /* scenario group -> bit, NONE when unused */
    uint32_t sig_words;
    uint32_t n_sigs;
    uint64_t *sig_bits;             /* n_sigs * sig_words */
    uint32_t *class_sig;            /* per class */
    tc_keymap sigpairs;             /* (signature, signature) -> id */
    int sigpairs_ready;
    uint32_t *edge_sigpair;         /* per class-graph edge */
    tc_svcmask *sigpair_allowed;    /* per signature pair: policy() with every rule */

    bool classes_use_principal;

    /* Class reach per lane, compact (see the layout above). */
    tc_svcmask *class_in_services;  /* per class: OR of the masks of edges into it */
    uint64_t *reach_slot_offsets;   /* n_classes + 1 */

    uint8_t *counted_crown;         /* per owned workload: 1 when a counted crown jewel */

    /* Lane state of the current run. */
    uint64_t *compromised;          /* per owned workload */
    uint64_t *next;                 /* per owned workload: lanes falling at the next hop */
    uint64_t *next_list, n_next;    /* workloads with nonzero next */
    uint64_t *frontier, *frontier_lanes, n_frontier;
    uint64_t *class_active;         /* per class */
    uint64_t *class_grown;          /* per class: lanes whose reach grew this level */
    uint32_t *changed, n_changed;   /* classes with nonzero class_grown */
    uint64_t *reach_lanes;          /* compact class reach */
    uint64_t *hub;                  /* allreduce buffer: classes, then principals */
    uint64_t *held;                 /* per principal (topology's and split) */
    uint64_t *held_new;             /* lanes in which each principal became held this level */
    uint64_t *pending;              /* assume closure work */
    uint32_t *held_list, n_held_list;
    uint64_t *pending_start;        /* per principal: its pending grants in grant_pool */
    uint64_t *pending_count;
    uint64_t *grant_pool;           /* grant indices, a run per held principal */
    uint64_t n_pool;
    size_t pool_capacity;
    uint32_t *new_list, n_new_list;
    uint32_t *work, n_work;
    uint64_t *package_lanes;        /* per package: lanes in which it is compromised */
    uint64_t *package_new;
    uint32_t *package_list, n_package_list;
    size_t hub_capacity;            /* principals the hub arrays hold */

    uint64_t *send, *recv;          /* (callee, lanes) pairs */
    size_t send_capacity, recv_capacity;
    int *send_counts, *recv_counts, *send_displs, *recv_displs;

    uint64_t *new_at_hop;           /* 64 per hop */
    uint32_t hops_recorded, hops_capacity;
    uint16_t *lane_hop;             /* record_lanes: n_local * 64 */
    uint8_t *lane_step;

    whatif_batch batch;

    uint64_t flows_open_before;     /* cached by the plain path */
    int flows_open_ready;
};

/* Index of the class-graph edge A -> B of P, or WHATIF_NONE. */
uint32_t whatif_reach_index(const tc_policy *p, uint32_t a, uint32_t b);

/* Union of the base rules from segment FROM to segment TO. */
tc_svcmask whatif_base_services(const tc_whatif *w, uint32_t from, uint32_t to);

/* Services the rules policy allows from signature A to signature B when
 * REMOVED[r] is taken out of rule r (REMOVED may be NULL). When DECIDER is
 * given, DECIDER[s] receives the rule deciding service s, or UINT16_MAX
 * for the default action. */
tc_svcmask whatif_rules_allowed(const tc_whatif *w, uint32_t a, uint32_t b,
                                const tc_svcmask *removed, uint16_t *decider);

/* Does the split principal P#A keep P's grants on the workloads of app
 * CALLEE? Yes when A calls CALLEE or when no app of P does. */
bool whatif_split_keeps(const tc_whatif *w, uint32_t principal, uint32_t app, uint32_t callee);

/* Sort N keys of KW words in place, merge equal keys (adding the word
 * after the key when ADD_LAST, else keeping one) and return the count
 * left. Rows are KW + ADD_LAST words long. */
uint64_t whatif_sort_merge(uint64_t *rows, uint64_t n, uint32_t kw, int add_last);

/* Principal that the principal id R (a split one included) acts as for
 * grants, assumes and publish rights. */
static inline uint32_t whatif_base_principal(const tc_whatif *w, uint32_t r)
{
    return r < w->n_principals ? r : w->batch.split_principal[r - w->n_principals];
}

static inline void whatif_bit_set(uint64_t *bits, uint64_t i)
{
    bits[i / 64] |= 1ULL << (i % 64);
}

static inline bool whatif_bit_get(const uint64_t *bits, uint64_t i)
{
    return (bits[i / 64] >> (i % 64)) & 1;
}

/* Allocate the batch maps and per-hub arrays (whatif_lanes.c), and
 * release them. */
int whatif_lanes_init(tc_whatif *w, tc_error *err);
void whatif_lanes_free(tc_whatif *w);

#endif
