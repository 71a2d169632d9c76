/*
 * reference.h - a serial, naive simulator of the trust model, used by the
 * tests to check the distributed engine (engine.h, policy.h) instead of
 * trusting it.
 *
 * It shares no code with the engine: it expands every hub into workload
 * pairs, computes reach(u, v) per pair straight from the base rules and the
 * policy, and runs the level-synchronous fixed point with an O(N^2) scan per
 * level. It is meant for topologies of a few hundred workloads built on one
 * rank, where every workload is local and local index = global id.
 *
 * The rules it implements, with the readings taken where the trust model
 * leaves room:
 *  1. reach(u, v) = base(seg(u), seg(v)) & policy(u, v). base is the union
 *     of the services of every base rule from seg(u) to seg(v). policy
 *     decides each service on its own: the first rule, in order, whose
 *     services contain it, whose from group contains u and whose to group
 *     contains v decides allow or deny, else the default action does.
 *     TC_GROUP_ANY contains every workload. A legacy policy allows every
 *     service and ignores any rules it carries.
 *  2. A derived policy has one group per distinct tuple of the granularity
 *     attributes, and one group of every workload when the granularity is
 *     empty. From group(u) to group(v) it allows exactly the services of the
 *     legitimate flows (rule 7) between members of the two groups. An API
 *     edge (u, v, s) contributes s, and a network-gated grant flow (w, v, S)
 *     every service of S. Flows that the base rules block count too. Every other
 *     service is denied. The internet-facing attribute takes the values 0
 *     and 1.
 *  3. Hop 0: the foothold workloads and every installer of a foothold
 *     package, with step TC_STEP_FOOTHOLD; foothold packages have hop 0.
 *  4. A principal is held at the smallest hop of a compromised workload that
 *     runs as it or as a principal from which it can be assumed, through
 *     any chain of assumes.
 *  5. Level h + 1 (h < hop budget) compromises every workload v that is not
 *     yet compromised and for which, with everything compromised or held at
 *     hop <= h:
 *       TC_STEP_NETWORK: some compromised u has
 *         reach(u, v) & exposed(v) & exploitable(v) != 0;
 *       TC_STEP_API: some compromised u has an API edge (u, v, s) of trust
 *         TC_TRUST_IMPLICIT with s in reach(u, v);
 *       TC_STEP_CREDENTIAL: some held principal P has a grant (v, S) that is
 *         control-plane, or network-gated with some compromised w such that
 *         S & reach(w, v) != 0; this gives hop 1 + max(hop P held, hop w)
 *         minimised over P and w, as the trust model states;
 *       TC_STEP_SUPPLY_CHAIN: v installs a package that some held principal
 *         may publish.
 *     When several kinds apply at the same hop, the one with the lowest
 *     enum tc_step value is recorded.
 *  6. A package that a principal held at hop h may publish is compromised at
 *     hop h + 1, so its installers fall at h + 1. A package whose earliest
 *     publisher is held at the hop budget stays uncompromised (TC_HOP_NONE),
 *     like its installers.
 *  7. Legitimate flows: one per API edge (u, v, s), and one per pair of a
 *     network-gated grant (v, S) of a principal P and a workload w that runs
 *     as P (principals that w could assume do not count), including w = v.
 *     Control-plane grants are not flows. An API flow is broken when s is in
 *     base(u, v) but not in reach(u, v). A grant flow is broken when
 *     S & base(w, v) != 0 and S & reach(w, v) == 0. A flow is base-denied
 *     when s is not in base (API) or S & base == 0 (grant).
 */
#ifndef TC_REFERENCE_H
#define TC_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "error.h"
#include "scenario.h"
#include "topology.h"

/* What the reference simulates. Everything is borrowed. */
typedef struct reference_input {
    const tc_topology *topology;      /* built on one rank and finished */
    const tc_group_spec *groups;      /* the scenario's SmartGroups; their
                                         selectors get bound to TOPOLOGY */
    size_t n_groups;
    const tc_policy_spec *policy;
    const uint64_t *foothold_workloads; /* global ids, duplicates allowed */
    size_t n_foothold_workloads;
    const uint32_t *foothold_packages;  /* package ids, duplicates allowed */
    size_t n_foothold_packages;
    uint32_t hop_budget;              /* 0 keeps only the footholds */
} reference_input;

typedef struct reference_result {
    uint64_t n_workloads;
    uint16_t *hop;            /* per workload, TC_HOP_NONE if never compromised */
    uint8_t *step;            /* per workload, enum tc_step; TC_STEP_COUNT if never */
    uint32_t n_principals, n_packages;
    uint16_t *principal_hop;  /* per principal, TC_HOP_NONE if never held */
    uint16_t *package_hop;    /* per package, TC_HOP_NONE if never compromised */
    uint32_t levels;          /* largest hop of a compromised workload, 0 if none */
    uint64_t flows_total, flows_broken, flows_base_denied;
} reference_result;

/* Compute the base and reach masks of every ordered pair of workloads under
 * IN->policy: (*BASE)[u * n + v] and (*REACH)[u * n + v], n = number of
 * workloads, both owned by the caller (free with free()). Binds the group
 * selectors to the topology first. Returns TC_OK; TC_ERR_INPUT when the
 * topology spans several ranks, a rule names a group that does not exist or
 * a selector names a value the topology lacks; TC_ERR_RUNTIME when memory
 * runs out. On failure *BASE and *REACH are NULL. Local. */
int reference_reach_matrix(const reference_input *in, tc_svcmask **base,
                           tc_svcmask **reach, tc_error *err);

/* Run the simulation described by IN. On TC_OK *OUT holds the result, to be
 * freed with reference_result_free. On failure *OUT is NULL and ERR
 * describes the failure: the codes of reference_reach_matrix, or
 * TC_ERR_INPUT for a foothold out of range. Local. */
int reference_run(const reference_input *in, reference_result **out, tc_error *err);

/* Release a result; NULL is a no-op. */
void reference_result_free(reference_result *r);

#endif
