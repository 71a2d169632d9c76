/* metrics.c - blast-radius metrics; see metrics.h. */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

int tc_metrics_compute(const tc_topology *t, const tc_sim_result *r, uint8_t crown_kinds,
                       tc_metrics *out, tc_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t nt = t->tenants.count;
    out->n_tenants = nt;
    out->by_tenant = calloc((size_t)nt + 1, sizeof(uint64_t));
    out->tenant_total = calloc((size_t)nt + 1, sizeof(uint64_t));
    out->growth = calloc((size_t)r->levels + 1, sizeof(uint64_t));
    if (!out->by_tenant || !out->tenant_total || !out->growth)
        tc_error_runtime(err, "out of memory for metrics");
    if (tc_error_agree(err, t->comm) != TC_OK) {
        tc_metrics_free(out);
        return err->code;
    }

    int32_t first_crown = INT32_MAX;
    for (uint64_t i = 0; i < t->n_local; i++) {
        bool fell = r->hop[i] != TC_HOP_NONE;
        out->env_total[t->env[i]]++;
        out->tier_total[t->tier[i]]++;
        out->crown_total[t->crown[i]]++;
        out->tenant_total[t->tenant[i]]++;
        if (!fell)
            continue;
        out->compromised++;
        out->by_env[t->env[i]]++;
        out->by_tier[t->tier[i]]++;
        out->by_step[r->step[i]]++;
        out->crown_reached[t->crown[i]]++;
        out->by_tenant[t->tenant[i]]++;
        if (t->crown[i] != TC_CROWN_NONE && (crown_kinds >> t->crown[i] & 1) &&
            r->hop[i] < first_crown)
            first_crown = r->hop[i];
    }

    /* One reduction for the fixed-size counters, one for tenants. */
    uint64_t fixed[1 + 2 * TC_ENV_COUNT + 2 * TC_TIER_COUNT + TC_STEP_COUNT + 2 * TC_CROWN_COUNT];
    uint64_t *f = fixed;
    *f++ = out->compromised;
    memcpy(f, out->by_env, sizeof out->by_env), f += TC_ENV_COUNT;
    memcpy(f, out->env_total, sizeof out->env_total), f += TC_ENV_COUNT;
    memcpy(f, out->by_tier, sizeof out->by_tier), f += TC_TIER_COUNT;
    memcpy(f, out->tier_total, sizeof out->tier_total), f += TC_TIER_COUNT;
    memcpy(f, out->by_step, sizeof out->by_step), f += TC_STEP_COUNT;
    memcpy(f, out->crown_reached, sizeof out->crown_reached), f += TC_CROWN_COUNT;
    memcpy(f, out->crown_total, sizeof out->crown_total);
    MPI_Allreduce(MPI_IN_PLACE, fixed, (int)(sizeof fixed / sizeof *fixed), MPI_UINT64_T,
                  MPI_SUM, t->comm);
    f = fixed;
    out->compromised = *f++;
    memcpy(out->by_env, f, sizeof out->by_env), f += TC_ENV_COUNT;
    memcpy(out->env_total, f, sizeof out->env_total), f += TC_ENV_COUNT;
    memcpy(out->by_tier, f, sizeof out->by_tier), f += TC_TIER_COUNT;
    memcpy(out->tier_total, f, sizeof out->tier_total), f += TC_TIER_COUNT;
    memcpy(out->by_step, f, sizeof out->by_step), f += TC_STEP_COUNT;
    memcpy(out->crown_reached, f, sizeof out->crown_reached), f += TC_CROWN_COUNT;
    memcpy(out->crown_total, f, sizeof out->crown_total);

    MPI_Allreduce(MPI_IN_PLACE, out->by_tenant, (int)nt, MPI_UINT64_T, MPI_SUM, t->comm);
    MPI_Allreduce(MPI_IN_PLACE, out->tenant_total, (int)nt, MPI_UINT64_T, MPI_SUM, t->comm);
    MPI_Allreduce(MPI_IN_PLACE, &first_crown, 1, MPI_INT32_T, MPI_MIN, t->comm);
    out->first_crown_hop = first_crown == INT32_MAX ? -1 : first_crown;

    out->workloads = t->n_workloads;
    out->levels = r->levels;
    memcpy(out->growth, r->new_per_hop, ((size_t)r->levels + 1) * sizeof(uint64_t));
    for (uint32_t q = 0; q < t->principals.count; q++)
        out->principals_held += r->principal_hop[q] != TC_HOP_NONE;
    for (uint32_t k = 0; k < t->packages.count; k++)
        out->packages_compromised += r->package_hop[k] != TC_HOP_NONE;
    return TC_OK;
}

void tc_metrics_free(tc_metrics *m)
{
    free(m->by_tenant);
    free(m->tenant_total);
    free(m->growth);
    memset(m, 0, sizeof *m);
}
