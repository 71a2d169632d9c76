/*
 * metrics.h - blast-radius metrics of one simulation, summed over ranks.
 *
 * Everything here is a count over workloads, principals or packages, so it
 * is identical on any rank count; timings live in tc_policy and
 * tc_sim_result, apart from these.
 */
#ifndef TC_METRICS_H
#define TC_METRICS_H

#include <stdint.h>

#include "engine.h"
#include "error.h"
#include "policy.h"
#include "scenario.h"
#include "topology.h"

typedef struct tc_metrics {
    uint64_t workloads;                 /* topology size */
    uint64_t compromised;
    uint64_t by_env[TC_ENV_COUNT], env_total[TC_ENV_COUNT];
    uint64_t by_tier[TC_TIER_COUNT], tier_total[TC_TIER_COUNT];
    uint64_t by_step[TC_STEP_COUNT];
    uint64_t crown_reached[TC_CROWN_COUNT], crown_total[TC_CROWN_COUNT];
    int32_t first_crown_hop;            /* -1 when no counted crown jewel fell */
    uint64_t *by_tenant, *tenant_total; /* tenants.count entries */
    uint32_t n_tenants;
    uint32_t levels;                    /* last hop at which a workload fell */
    uint64_t *growth;                   /* new workloads per hop, levels + 1 entries */
    uint64_t principals_held, packages_compromised;
} tc_metrics;

/* Sum the result R of policy P over all ranks; CROWN_KINDS (bit per enum
 * tc_crown) selects what counts for first_crown_hop. Collective. */
int tc_metrics_compute(const tc_topology *t, const tc_sim_result *r, uint8_t crown_kinds,
                       tc_metrics *out, tc_error *err);

void tc_metrics_free(tc_metrics *m);

#endif
