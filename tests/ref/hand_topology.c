/* hand_topology.c - tables of a test built into a topology; see hand_topology.h. */
#include "hand_topology.h"

#include <stdio.h>

static int build_hubs(const hand_topology *spec, tc_topology *t, tc_error *err)
{
    char name[32];

    tc_names *tables[] = { &t->tenants, &t->accounts, &t->vpcs, &t->subnets, &t->apps };
    const char *names[] = { "tenant-0", "account-0", "vpc-0", "subnet-0", "app-0" };
    for (size_t i = 0; i < HAND_COUNT(tables); i++)
        if (tc_topology_intern(t, tables[i], names[i], err) == TC_NAME_NONE)
            return err->code ? err->code : tc_error_runtime(err, "cannot intern '%s'", names[i]);

    for (uint32_t s = 0; s < spec->n_segments; s++) {
        snprintf(name, sizeof name, "seg-%u", s);
        if (tc_topology_add_segment(t, name, err) == TC_NAME_NONE)
            return err->code;
    }
    for (uint32_t p = 0; p < spec->n_principals; p++) {
        snprintf(name, sizeof name, "role-%u", p);
        if (tc_topology_add_principal(t, name, err) == TC_NAME_NONE)
            return err->code;
    }
    for (uint32_t k = 0; k < spec->n_packages; k++) {
        snprintf(name, sizeof name, "pkg-%u", k);
        if (tc_topology_add_package(t, name, TC_PKG_LIBRARY, err) == TC_NAME_NONE)
            return err->code;
    }

    for (size_t r = 0; r < spec->n_base_rules; r++) {
        const tc_base_rule *rule = &spec->base_rules[r];
        if (tc_topology_add_base_rule(t, rule->from_segment, rule->to_segment, rule->services,
                                      err) != TC_OK)
            return err->code;
    }
    for (size_t a = 0; a < spec->n_assumes; a++)
        if (tc_topology_add_assume(t, (uint32_t)spec->assumes[a].first, spec->assumes[a].second,
                                   err) != TC_OK)
            return err->code;
    for (size_t k = 0; k < spec->n_publishes; k++)
        if (tc_topology_add_publish(t, (uint32_t)spec->publishes[k].first,
                                    spec->publishes[k].second, err) != TC_OK)
            return err->code;
    return TC_OK;
}

static int build_workloads(const hand_topology *spec, tc_topology *t, tc_error *err)
{
    for (uint64_t gid = 0; gid < spec->n_workloads; gid++) {
        if (!tc_topology_owns(t, gid))
            continue;
        const hand_workload *w = &spec->workloads[gid];
        tc_workload_spec ws = {
            .segment = w->segment, .principal = w->principal,
            .env = w->env, .tier = w->tier, .crown = TC_CROWN_NONE,
            .exposed = w->exposed, .exploitable = w->exploitable,
        };
        if (tc_topology_set_workload(t, gid, &ws, err) != TC_OK)
            return err->code;
    }
    for (size_t i = 0; i < spec->n_installs; i++)
        if (tc_topology_owns(t, spec->installs[i].first) &&
            tc_topology_add_install(t, spec->installs[i].first, spec->installs[i].second,
                                    err) != TC_OK)
            return err->code;
    for (size_t e = 0; e < spec->n_api_edges; e++) {
        const hand_api_edge *edge = &spec->api_edges[e];
        if (tc_topology_owns(t, edge->caller) &&
            tc_topology_add_api_edge(t, edge->caller, edge->callee, edge->service, edge->trust,
                                     err) != TC_OK)
            return err->code;
    }
    for (size_t g = 0; g < spec->n_grants; g++) {
        const hand_grant *grant = &spec->grants[g];
        if (tc_topology_owns(t, grant->target) &&
            tc_topology_add_grant(t, grant->principal, grant->target, grant->services,
                                  grant->gated, err) != TC_OK)
            return err->code;
    }
    return TC_OK;
}

int hand_topology_build(const hand_topology *spec, MPI_Comm comm, tc_topology **out,
                        tc_error *err)
{
    if (tc_topology_create(comm, spec->n_workloads, out, err) != TC_OK)
        return err->code;

    /* Finish runs even after a failed call: it is collective and makes the
     * ranks agree on the failure. */
    if (build_hubs(spec, *out, err) == TC_OK)
        build_workloads(spec, *out, err);
    if (tc_topology_finish(*out, err) != TC_OK) {
        tc_topology_free(*out);
        *out = NULL;
        return err->code;
    }
    return TC_OK;
}
