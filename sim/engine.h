/*
 * engine.h - the adversary simulation in worst-case mode.
 *
 * Footholds fall at hop 0. From a workload compromised at hop h, a workload
 * falls at hop h+1 by a network exploit, an API chain, a credential or a
 * supply-chain step (see docs/ARCHITECTURE.md for the exact rules). The
 * engine runs the level-synchronous fixed point up to the hop budget: each
 * level ends on every rank before the next starts, hub activations
 * (principals held, classes holding a compromised workload, packages
 * compromised) are replicated by one bitwise-OR allreduce per level, and the
 * API-chain step runs through the sparse BFS kernel (bfs.h).
 *
 * The hop of each owned workload is exact and does not depend on the rank
 * count or on processing order: all rules are monotone.
 */
#ifndef TC_ENGINE_H
#define TC_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "bfs.h"
#include "error.h"
#include "policy.h"
#include "scenario.h"
#include "topology.h"

#define TC_HOP_NONE UINT16_MAX /* not compromised */

/* Initial compromise. Workloads are owned ones (local indices); packages
 * are replicated: every installer of each falls at hop 0. */
typedef struct tc_footholds {
    uint64_t *workloads;       /* local indices, sorted, unique */
    uint64_t n_workloads;
    uint32_t *packages;        /* package ids, sorted, unique (replicated) */
    uint32_t n_packages;
    uint64_t *vector_counts;   /* per scenario vector: global workloads it compromises at hop 0 */
    uint64_t total;            /* global count of distinct hop-0 workloads */
    /* Provenance of each foothold, for attack paths. NULL when the
     * footholds were not resolved from a scenario's vectors. */
    uint32_t *workload_vectors; /* per entry of workloads: lowest vector index that names or samples it */
    uint32_t *vector_packages;  /* per scenario vector: package it compromises, TC_NAME_NONE for
                                   internet_facing and workloads vectors */
} tc_footholds;

/* Resolve the scenario's vectors against T. Package and CI/CD vectors pick
 * a package by name or by popularity rank among packages of their kind;
 * internet_facing samples COUNT internet-facing workloads by smallest
 * hash(seed, id); workloads vectors take names or ids. An unknown name or a
 * rank past the number of packages is TC_ERR_INPUT. Collective. */
int tc_footholds_resolve(const tc_scenario *scenario, const tc_topology *t,
                         tc_footholds *out, tc_error *err);
void tc_footholds_free(tc_footholds *f);

/* Kind of step that compromised a workload. */
enum tc_step {
    TC_STEP_FOOTHOLD, TC_STEP_NETWORK, TC_STEP_API, TC_STEP_CREDENTIAL,
    TC_STEP_SUPPLY_CHAIN, TC_STEP_COUNT
};
extern const char *const tc_step_names[TC_STEP_COUNT];

/* Predecessor sentinel: no workload (a foothold, or never compromised). */
#define TC_PRED_NONE UINT64_MAX

/* Sentinel of the via fields: no principal or package. */
#define TC_VIA_NONE UINT32_MAX

/* Flag bit in via of a credential step: the grant used is network-gated.
 * The other bits hold the principal id, so principal ids stay below 2^31. */
#define TC_VIA_GATED 0x80000000u

/* Options of one run; all-zero means the defaults. */
typedef struct tc_sim_options {
    /* Record, for every compromised workload, the workload it was attacked
     * from and through what (pred, via, gated_from, principal_source,
     * principal_via, package_publisher below). The result keeps 12 bytes
     * per owned workload, and 16 per entry of gated_from. During the run,
     * the API kernel keeps 4 more per workload for its parents, the
     * reverse class graph is built, and each level keeps a hash map of its
     * credential falls. Each level adds one MIN allreduce over the classes
     * and principals it touched. A run without it allocates none of this. */
    bool record_predecessors;
} tc_sim_options;

typedef struct tc_sim_result {
    uint16_t *hop;             /* per owned workload, TC_HOP_NONE if never */
    uint8_t *step;             /* per owned workload: enum tc_step of its fall */
    uint32_t levels;           /* last hop at which something fell */
    uint64_t *new_per_hop;     /* global, levels + 1 entries */
    uint16_t *principal_hop;   /* replicated: hop each principal became held */
    uint16_t *package_hop;     /* replicated: hop each package became compromised */
    double seconds_setup;      /* building the open API graph */
    double seconds;            /* the whole run, setup included */
    tc_bfs_stats bfs;          /* API-chain steps through the BFS kernel, this rank */

    /* Predecessors, recorded only with tc_sim_options.record_predecessors
     * (NULL otherwise). A workload that fell at hop h+1 has a predecessor
     * that fell at hop h, so following pred from any workload gives a
     * shortest attack path. Each choice below is the smallest candidate, so
     * it is the same on any rank count. */
    uint64_t *pred;            /* per owned workload: global id of its predecessor, TC_PRED_NONE
                                  for footholds and workloads never compromised. By step:
                                  network: smallest id among the workloads of hop h whose reach
                                  meets its exploitable services; API: smallest id among the
                                  hop-h callers with an open API edge to it (the BFS parent);
                                  credential: smallest among the principal_source of principals
                                  first held at hop h with a usable grant to it, and the
                                  workloads of hop h that reach it on the services of a
                                  network-gated grant of a held principal (ties: the smaller
                                  principal, control-plane first); supply chain: smallest
                                  principal_source of a package_publisher of a package it
                                  installs that fell at its hop (ties: the smaller package) */
    uint32_t *via;             /* per owned workload, by step: foothold: the foothold package it
                                  installs, TC_VIA_NONE when a vector names or samples it;
                                  network, API: TC_VIA_NONE; credential: the principal used,
                                  with TC_VIA_GATED for a network-gated grant; supply chain:
                                  the compromised package it installs */
    uint64_t *gated_from;      /* pairs (local index, global id of w) sorted by local index,
                                  for credential steps through a network-gated grant whose w
                                  (the workload whose reach makes the grant usable) is not
                                  pred: pred is then the principal's source, and w the
                                  smallest workload compromised by hop h that reaches the
                                  target on the grant's services */
    uint64_t n_gated_from;     /* pairs in gated_from */
    uint64_t *principal_source; /* replicated: per principal, the smallest id among workloads
                                   that fell at principal_hop and run as it or as a principal
                                   it is assumable from; TC_PRED_NONE if never held */
    uint32_t *principal_via;   /* replicated: per principal, the principal it was assumed from
                                  on a shortest assume chain from principal_source's principal,
                                  TC_VIA_NONE when principal_source runs as it or never held */
    uint32_t *package_publisher; /* replicated: per package, the principal whose publishing
                                    compromised it, TC_VIA_NONE for foothold packages and
                                    packages never compromised */
} tc_sim_result;

/* Run the simulation of policy P from footholds F for at most HOP_BUDGET
 * hops, with the default options. Collective; ranks agree on failure. */
int tc_sim_run(const tc_topology *t, const tc_policy *p, const tc_footholds *f,
               uint32_t hop_budget, tc_sim_result **out, tc_error *err);

/* tc_sim_run with OPTIONS (NULL: the defaults). The hops, steps and
 * counts do not depend on the options. Collective; ranks agree on failure.
 * Recording predecessors with 2^31 or more principals is TC_ERR_INPUT. */
int tc_sim_run_with(const tc_topology *t, const tc_policy *p, const tc_footholds *f,
                    uint32_t hop_budget, const tc_sim_options *options, tc_sim_result **out,
                    tc_error *err);

void tc_sim_result_free(tc_sim_result *r);

/* Return the workload w whose network reach made the network-gated grant
 * of a credential step usable, for owned workload LOCAL: pred itself
 * unless gated_from has another one. TC_PRED_NONE when LOCAL did not fall by a
 * credential step through a network-gated grant, or when predecessors were
 * not recorded. Local. */
uint64_t tc_sim_gated_from(const tc_sim_result *r, uint64_t local);

#endif
