/*
 * whatif.h - what-if closures evaluated 64 at a time, and the plain
 * re-simulation that they are checked against.
 *
 * A closure removes one trust relationship from a topology under a compiled
 * policy: services of a base rule, services of a policy rule, a shared
 * principal (split into one per app), a principal's grants on one app, the
 * implicit trust of the API calls between two apps, or a package. Every
 * closure only removes, so the simulation stays monotone and a closure can
 * never widen a blast radius.
 *
 * The lane engine (tc_whatif_run) runs one worst-case simulation in which
 * every workload, class, principal and package has a uint64_t mask of lanes
 * instead of one flag. Lane k is the simulation with the closures of lane k
 * applied, and one level-synchronous pass advances all 64 lanes. This is
 * the multi-source BFS idea (Then et al., "The More the Merrier: Efficient
 * Multi-Source Graph Traversal", VLDB 2015) applied to the trust model.
 * Each lane's result equals what tc_sim_run computes on a topology and
 * policy with those closures applied, which tc_whatif_run_plain builds and
 * tests/unit/test_whatif.c compares workload by workload.
 *
 * The policy is kept as compiled: its classes and, for a derived policy,
 * its allow table are not re-derived after a closure. Revoking a grant
 * therefore stops the credential step but leaves the network flow that the
 * governance policy derived from the grant open.
 *
 * Legitimate flows are those of tc_policy_compile: every API edge, and every
 * network-gated grant for each workload running as its principal. A flow is
 * open when its service (an API edge) or one of its services (a grant) is
 * in reach. A lane breaks a flow that is open under the policy and is
 * closed or gone once the lane's closures apply. Lowering trust and
 * removing a package break no flow by that definition, and a control-plane
 * grant is not a flow either.
 */
#ifndef TC_WHATIF_H
#define TC_WHATIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "error.h"
#include "model.h"
#include "policy.h"
#include "scenario.h"
#include "topology.h"

#define TC_WHATIF_LANES 64

enum tc_closure_kind {
    TC_CLOSE_BASE_RULE,   /* remove services from the base rules of a segment pair */
    TC_CLOSE_POLICY_RULE, /* remove services from an allow rule of a rules policy */
    TC_CLOSE_SPLIT,       /* give every app running as a principal its own principal */
    TC_CLOSE_REVOKE,      /* revoke a principal's grants on the workloads of an app */
    TC_CLOSE_TRUST,       /* lower the trust of every API edge from one app to another to none */
    TC_CLOSE_PACKAGE,     /* remove a package from every workload that installs it */
    TC_CLOSE_KIND_COUNT
};
extern const char *const tc_closure_kind_names[TC_CLOSE_KIND_COUNT];

/* One closure. FIRST, SECOND and SERVICES mean, by KIND:
 *
 *   kind         first         second      services
 *   BASE_RULE    from segment  to segment  removed from the union of the
 *                                          base rules between them
 *   POLICY_RULE  rule index    0           removed from the rule (all of
 *                                          its services remove the rule)
 *   SPLIT        principal     0           0
 *   REVOKE       principal     app         0 (the app's workloads lose
 *                                          the grants)
 *   TRUST        caller app    callee app  0
 *   PACKAGE      package       0           0
 *
 * A split principal P keeps its grants, assumes and publish rights, and
 * anyone who may assume P still gets P. The workloads of each app A that
 * ran as P run as a new principal "P#A" that may assume and publish what P
 * may. P#A has P's grants on the workloads of apps that A calls, and P's
 * grants on apps that no app of P calls. It loses P's grants on apps that
 * only other apps of P call. */
typedef struct tc_closure {
    enum tc_closure_kind kind;
    uint32_t first, second;
    tc_svcmask services;
} tc_closure;

/* What a what-if context is built from. Everything is borrowed and must
 * outlive the context. */
typedef struct tc_whatif_input {
    const tc_scenario *scenario;   /* SmartGroups named by a rules policy */
    const tc_policy_spec *spec;
    const tc_topology *topology;
    const tc_policy *policy;       /* SPEC compiled on TOPOLOGY */
    const tc_footholds *footholds; /* resolved on TOPOLOGY */
    uint32_t hop_budget;
    uint8_t crown_kinds;           /* bit k: crown kind k counts as a crown jewel */
    bool record_lanes;             /* keep the hop and step of every (workload, lane):
                                      128 + 64 bytes per owned workload, for tests */
} tc_whatif_input;

typedef struct tc_whatif tc_whatif;

/* Per-lane outcome of a batch: global counts, identical on every rank. */
typedef struct tc_whatif_lane {
    uint64_t compromised;   /* workloads compromised within the hop budget */
    uint64_t crown_jewels;  /* compromised workloads of a counted crown kind */
    uint64_t flows_broken;  /* legitimate flows open under the policy that the lane closes */
    uint32_t levels;        /* last hop at which a workload fell */
} tc_whatif_lane;

/* Build the context for IN: the classes and apps of remote API callees,
 * the members of each principal by app and class, the calls between apps,
 * and for a rules policy the SmartGroups of each class. Checks that its own
 * evaluation of the policy rules reproduces the compiled class graph.
 * Collective, and ranks agree on failure. Returns TC_OK, TC_ERR_INPUT (a
 * selector that does not bind) or TC_ERR_RUNTIME, with *OUT NULL on
 * failure. */
int tc_whatif_create(const tc_whatif_input *in, tc_whatif **out, tc_error *err);

/* Release a context. NULL is a no-op. Local. */
void tc_whatif_free(tc_whatif *w);

/* The input the context was built from (borrowed). Local. */
const tc_whatif_input *tc_whatif_get_input(const tc_whatif *w);

/* True when splitting principals would change the policy's classes, which
 * the lane engine keeps fixed: a rule names a SmartGroup that selects on
 * the principal attribute, or a derived policy's granularity includes it.
 * Split candidates are not enumerated then. Local. */
bool tc_whatif_classes_use_principal(const tc_whatif *w);

/* Check CLOSURE against the context's topology and policy: ids in range,
 * POLICY_RULE only on an allow rule of a rules policy, SERVICES nonzero for
 * BASE_RULE and POLICY_RULE. Returns TC_OK or TC_ERR_INPUT naming the
 * field. Local. */
int tc_whatif_check(const tc_whatif *w, const tc_closure *closure, tc_error *err);

/* Evaluate N_LANES lanes (1 .. 64) in one pass. Lane k applies every
 * closure CLOSURES[j] with bit k set in LANE_MASKS[j] (N closures), and a
 * lane without closures is the policy itself. OUT[k] receives lane k's result.
 * Collective: every rank passes the same closures and masks. Returns TC_OK,
 * TC_ERR_INPUT (an invalid closure) or TC_ERR_RUNTIME. */
int tc_whatif_run(tc_whatif *w, const tc_closure *closures, const uint64_t *lane_masks,
                  size_t n, unsigned n_lanes, tc_whatif_lane *out, tc_error *err);

/* After tc_whatif_run with record_lanes: hop (TC_HOP_NONE when never) and
 * step (enum tc_step, TC_STEP_COUNT when never) of owned workload LOCAL in
 * LANE. Without record_lanes the hop is 0 or TC_HOP_NONE (compromised or
 * not) and the step TC_STEP_COUNT. Local. */
uint16_t tc_whatif_lane_hop(const tc_whatif *w, uint64_t local, unsigned lane);
uint8_t tc_whatif_lane_step(const tc_whatif *w, uint64_t local, unsigned lane);

/* After tc_whatif_run: global count of workloads that fell at HOP in LANE
 * (0 past the hop budget). Local. */
uint64_t tc_whatif_new_at_hop(const tc_whatif *w, unsigned lane, uint32_t hop);

/* Bytes held by the context on this rank. Local. */
size_t tc_whatif_bytes(const tc_whatif *w);

/* Upper estimate of the bytes tc_whatif_create would allocate on this rank
 * for policy P on T, to check against the memory available before
 * creating a context. The replicated member and call tables are counted at
 * their worst case, one entry per workload and per API edge. Local. */
size_t tc_whatif_estimate_bytes(const tc_topology *t, const tc_policy *p, bool record_lanes);

/* ---- candidates ---- */

/* A candidate closure and the evidence that the attack used what it
 * closes. Evidence counts, by kind:
 *   base and policy rules  members of the target classes whose fall needed
 *                          network reach (network and API falls, credential
 *                          falls through network-gated grants only), summed
 *                          over the source classes that reach them
 *   revoke                 credential falls through the principal's grants
 *                          on the app
 *   split                  credential falls through any of its grants
 *   trust                  API calls that carried a fall
 *   package                installers that fell by the supply chain
 * Evidence only orders the candidates. The lane engine measures what they
 * cut. */
typedef struct tc_candidate {
    tc_closure closure;
    uint64_t evidence;
} tc_candidate;

/* Enumerate candidates from RESULT, the plain simulation of the context's
 * policy. Candidates are:
 *  - base rules and policy rules over which compromise crossed, each once
 *    narrowed to the services that legitimate flows use and once removed
 *    whole;
 *  - shared principals that the attacker held;
 *  - grants that compromised workloads;
 *  - app pairs whose implicit trust carried an API step;
 *  - packages compromised by a publish. Foothold packages are the
 *    scenario's premise and are left out.
 * Within a kind, candidates are sorted by evidence (largest first), then
 * by FIRST, SECOND and services. The list takes one candidate of each kind
 * in turn (enum order), because evidence of different kinds is not
 * comparable. The first MAX are kept (all when MAX is 0), and *N_FOUND
 * receives the count before the cut. *OUT is malloc'ed (free()).
 * Collective. The list is the same on every rank and on any rank count. */
int tc_whatif_candidates(tc_whatif *w, const tc_sim_result *result, size_t max,
                         tc_candidate **out, size_t *n_out, size_t *n_found, tc_error *err);

/* Write a one-line description of CLOSURE with the topology's names into
 * BUF (N bytes), e.g. "revoke t01/a002/v1/api-3/sa on t01/a002/v1/db-0".
 * Local. */
void tc_whatif_describe(const tc_whatif *w, const tc_closure *closure, char *buf, size_t n);

/* ---- the plain re-simulation ---- */

/* Result of applying closures and simulating the plain way. */
typedef struct tc_whatif_plain {
    tc_sim_result *sim;       /* per owned workload, on the same partition as the input */
    uint64_t compromised, crown_jewels;
    uint64_t flows_open;      /* legitimate flows open after the closures */
    uint64_t flows_broken;    /* open under the policy, not open after */
    double seconds;           /* copying, compiling and simulating */
} tc_whatif_plain;

/* Apply the N CLOSURES to copies of the topology and policy spec, compile
 * the policy where the closures change it (base rules, policy rules,
 * trust), keep the compiled policy otherwise, and run tc_sim_run from the
 * same footholds. A policy compiled for base rules or trust is compiled on
 * a copy with only those edits, so that a derived policy keeps the allow
 * table of the original flows. Fills *OUT, which tc_whatif_plain_free
 * releases. The first call also counts the flows open under the policy and
 * keeps the count in W. Collective. Returns TC_OK, TC_ERR_INPUT or
 * TC_ERR_RUNTIME. */
int tc_whatif_run_plain(tc_whatif *w, const tc_closure *closures, size_t n,
                        tc_whatif_plain *out, tc_error *err);
void tc_whatif_plain_free(tc_whatif_plain *plain);

/* Count the legitimate flows of T that policy P leaves open, P compiled on
 * a topology with T's workloads and API edges (classes and open edges are
 * looked up by position). Collective. */
int tc_whatif_flows_open(const tc_topology *t, const tc_policy *p, uint64_t *open,
                         tc_error *err);

#endif
