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
} tc_sim_result;

/* Run the simulation of policy P from footholds F for at most HOP_BUDGET
 * hops. Collective; ranks agree on failure. */
int tc_sim_run(const tc_topology *t, const tc_policy *p, const tc_footholds *f,
               uint32_t hop_budget, tc_sim_result **out, tc_error *err);
void tc_sim_result_free(tc_sim_result *r);

#endif
