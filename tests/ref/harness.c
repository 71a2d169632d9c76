/*
 * harness.c - engine runs gathered to rank 0 for comparison; see harness.h.
 */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selector.h"

const char *harness_step_name(unsigned step)
{
    static const char *const names[TC_STEP_COUNT] = {
        "foothold", "network", "api", "credential", "supply-chain",
    };
    return step < TC_STEP_COUNT ? names[step] : "none";
}

int harness_scenario_init(tc_scenario *scenario, const char *const *selectors,
                          size_t n_selectors, tc_policy_spec *policies, size_t n_policies,
                          tc_error *err)
{
    memset(scenario, 0, sizeof *scenario);
    scenario->path = strdup("test");
    scenario->name = strdup("test");
    scenario->groups = calloc(n_selectors + 1, sizeof *scenario->groups);
    if (!scenario->path || !scenario->name || !scenario->groups)
        return tc_error_runtime(err, "out of memory for a test scenario");
    scenario->policies = policies;
    scenario->n_policies = n_policies;
    scenario->hop_budget = 1;

    for (size_t g = 0; g < n_selectors; g++) {
        tc_group_spec *group = &scenario->groups[g];
        char name[32], message[256];
        int column = 0;
        scenario->n_groups = g + 1;
        snprintf(name, sizeof name, "group-%zu", g);
        group->name = strdup(name);
        group->text = strdup(selectors[g]);
        if (!group->name || !group->text)
            return tc_error_runtime(err, "out of memory for a test scenario");
        if (tc_selector_parse(selectors[g], &group->selector, message, sizeof message,
                              &column) != 0)
            return tc_error_input(err, "test", 1, column, name, "selector '%s': %s",
                                  selectors[g], message);
    }
    return TC_OK;
}

void harness_scenario_release(tc_scenario *scenario)
{
    for (size_t g = 0; g < scenario->n_groups; g++) {
        if (scenario->groups[g].selector)
            tc_selector_free(scenario->groups[g].selector);
        free(scenario->groups[g].name);
        free(scenario->groups[g].text);
    }
    free(scenario->groups);
    free(scenario->path);
    free(scenario->name);
    memset(scenario, 0, sizeof *scenario);
}

static bool contains_u32(const uint32_t *values, size_t n, uint32_t value)
{
    for (size_t i = 0; i < n; i++)
        if (values[i] == value)
            return true;
    return false;
}

static bool contains_u64(const uint64_t *values, size_t n, uint64_t value)
{
    for (size_t i = 0; i < n; i++)
        if (values[i] == value)
            return true;
    return false;
}

int harness_footholds_make(const tc_topology *t, const uint64_t *workloads, size_t n_workloads,
                           const uint32_t *packages, size_t n_packages, tc_footholds *out,
                           tc_error *err)
{
    memset(out, 0, sizeof *out);
    out->workloads = malloc((t->n_local + 1) * sizeof *out->workloads);
    out->packages = malloc((n_packages + 1) * sizeof *out->packages);
    if (!out->workloads || !out->packages)
        tc_error_runtime(err, "out of memory for the footholds");
    if (tc_error_agree(err, t->comm) != TC_OK) {
        harness_footholds_free(out);
        return err->code;
    }

    /* Walking the package ids and local indices in order gives sorted,
     * duplicate-free lists whatever order the caller used. */
    for (uint32_t k = 0; k < t->packages.count; k++)
        if (contains_u32(packages, n_packages, k))
            out->packages[out->n_packages++] = k;

    uint64_t hop0 = 0;
    for (uint64_t i = 0; i < t->n_local; i++) {
        bool explicit = contains_u64(workloads, n_workloads, t->first + i);
        bool installs = false;
        for (uint64_t k = t->install_offsets[i]; k < t->install_offsets[i + 1]; k++)
            installs = installs || contains_u32(out->packages, out->n_packages,
                                                t->install_packages[k]);
        if (explicit)
            out->workloads[out->n_workloads++] = i;
        if (explicit || installs)
            hop0++;
    }
    MPI_Allreduce(&hop0, &out->total, 1, MPI_UINT64_T, MPI_SUM, t->comm);
    return TC_OK;
}

void harness_footholds_free(tc_footholds *f)
{
    free(f->workloads);
    free(f->packages);
    free(f->vector_counts);
    memset(f, 0, sizeof *f);
}

/* Gather the per-rank hops and steps of R to rank 0 in global id order, into
 * OUT (NULL on the other ranks). Collective; ranks agree on failure. */
static int gather_workloads(const tc_topology *t, const tc_sim_result *r, reference_result *out,
                            tc_error *err)
{
    int *counts = malloc((size_t)t->nranks * sizeof *counts);
    int *displs = malloc((size_t)t->nranks * sizeof *displs);
    if (!counts || !displs)
        tc_error_runtime(err, "out of memory gathering the engine result");
    if (tc_error_agree(err, t->comm) != TC_OK) {
        free(counts);
        free(displs);
        return err->code;
    }

    for (int q = 0; q < t->nranks; q++) {
        counts[q] = (int)(t->owner_offsets[q + 1] - t->owner_offsets[q]);
        displs[q] = (int)t->owner_offsets[q];
    }
    MPI_Gatherv(r->hop, (int)t->n_local, MPI_UINT16_T, out ? out->hop : NULL, counts, displs,
                MPI_UINT16_T, 0, t->comm);
    MPI_Gatherv(r->step, (int)t->n_local, MPI_UINT8_T, out ? out->step : NULL, counts, displs,
                MPI_UINT8_T, 0, t->comm);
    free(counts);
    free(displs);
    return TC_OK;
}

static reference_result *gathered_create(const tc_topology *t)
{
    reference_result *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->n_workloads = t->n_workloads;
    g->n_principals = t->principals.count;
    g->n_packages = t->packages.count;
    g->hop = malloc((g->n_workloads + 1) * sizeof *g->hop);
    g->step = malloc(g->n_workloads + 1);
    g->principal_hop = malloc((g->n_principals + 1) * sizeof *g->principal_hop);
    g->package_hop = malloc((g->n_packages + 1) * sizeof *g->package_hop);
    if (!g->hop || !g->step || !g->principal_hop || !g->package_hop) {
        reference_result_free(g);
        return NULL;
    }
    return g;
}

/* The engine's per-hop counts must be the histogram of its own hops. */
static int check_new_per_hop(const reference_result *g, const tc_sim_result *r, tc_error *err)
{
    for (uint32_t h = 0; h <= r->levels; h++) {
        uint64_t count = 0;
        for (uint64_t w = 0; w < g->n_workloads; w++)
            count += g->hop[w] == h;
        if (count != r->new_per_hop[h])
            return tc_error_runtime(err, "engine new_per_hop[%u] = %llu, but %llu workloads "
                                    "have hop %u", h, (unsigned long long)r->new_per_hop[h],
                                    (unsigned long long)count, h);
    }
    return TC_OK;
}

int harness_engine_run(const tc_scenario *scenario, const tc_policy_spec *spec,
                       const tc_topology *t, const uint64_t *workloads, size_t n_workloads,
                       const uint32_t *packages, size_t n_packages, uint32_t hop_budget,
                       reference_result **out, tc_error *err)
{
    tc_footholds footholds;
    tc_policy *policy = NULL;
    tc_sim_result *sim = NULL;
    reference_result *gathered = NULL;

    *out = NULL;
    if (harness_footholds_make(t, workloads, n_workloads, packages, n_packages, &footholds,
                               err) != TC_OK)
        return err->code;
    if (tc_policy_compile(scenario, spec, t, &policy, err) != TC_OK)
        goto release_footholds;
    if (tc_sim_run(t, policy, &footholds, hop_budget, &sim, err) != TC_OK)
        goto release_policy;

    if (t->rank == 0 && !(gathered = gathered_create(t)))
        tc_error_runtime(err, "out of memory gathering the engine result");
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release_sim;
    if (gather_workloads(t, sim, gathered, err) != TC_OK)
        goto release_sim;

    if (t->rank == 0 && err->code == TC_OK) {
        memcpy(gathered->principal_hop, sim->principal_hop,
               gathered->n_principals * sizeof *gathered->principal_hop);
        memcpy(gathered->package_hop, sim->package_hop,
               gathered->n_packages * sizeof *gathered->package_hop);
        gathered->levels = sim->levels;
        gathered->flows_total = policy->flows_total;
        gathered->flows_broken = policy->flows_broken;
        gathered->flows_base_denied = policy->flows_base_denied;
        check_new_per_hop(gathered, sim, err);
    }
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release_sim;

    tc_sim_result_free(sim);
    tc_policy_free(policy);
    harness_footholds_free(&footholds);
    *out = gathered;
    return TC_OK;

release_sim:
    reference_result_free(gathered);
    tc_sim_result_free(sim);
release_policy:
    tc_policy_free(policy);
release_footholds:
    harness_footholds_free(&footholds);
    return err->code;
}

void harness_append(char *message, size_t len, const char *fmt, ...)
{
    size_t used = strlen(message);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message + used, len - used, fmt, ap);
    va_end(ap);
}

/* A hop as printed in messages: -1 for TC_HOP_NONE. */
static int printed_hop(uint16_t hop)
{
    return hop == TC_HOP_NONE ? -1 : hop;
}

bool harness_results_equal(const reference_result *expected, const reference_result *actual,
                           unsigned fields, char *message, size_t len)
{
    const int max_lines = 8;
    int lines = 0;

    if (expected->n_workloads != actual->n_workloads ||
        expected->n_principals != actual->n_principals ||
        expected->n_packages != actual->n_packages) {
        harness_append(message, len, "sizes differ: %llu workloads, %u principals, "
                       "%u packages expected; %llu, %u, %u actual\n",
                       (unsigned long long)expected->n_workloads, expected->n_principals,
                       expected->n_packages, (unsigned long long)actual->n_workloads,
                       actual->n_principals, actual->n_packages);
        return false;
    }

    for (uint64_t w = 0; (fields & HARNESS_WORKLOADS) && w < expected->n_workloads; w++) {
        bool compromised = expected->hop[w] != TC_HOP_NONE;
        bool differs = expected->hop[w] != actual->hop[w] ||
                       (compromised && expected->step[w] != actual->step[w]);
        unsigned actual_step = actual->hop[w] == TC_HOP_NONE ? TC_STEP_COUNT : actual->step[w];
        if (differs && lines++ < max_lines)
            harness_append(message, len,
                           "workload %llu: expected hop %d by %s, actual hop %d by %s\n",
                           (unsigned long long)w, printed_hop(expected->hop[w]),
                           harness_step_name(expected->step[w]), printed_hop(actual->hop[w]),
                           harness_step_name(actual_step));
    }
    for (uint32_t p = 0; (fields & HARNESS_PRINCIPALS) && p < expected->n_principals; p++)
        if (expected->principal_hop[p] != actual->principal_hop[p] && lines++ < max_lines)
            harness_append(message, len, "principal %u: expected held at hop %d, actual %d\n",
                           p, printed_hop(expected->principal_hop[p]),
                           printed_hop(actual->principal_hop[p]));
    for (uint32_t k = 0; (fields & HARNESS_PACKAGES) && k < expected->n_packages; k++)
        if (expected->package_hop[k] != actual->package_hop[k] && lines++ < max_lines)
            harness_append(message, len,
                           "package %u: expected compromised at hop %d, actual %d\n", k,
                           printed_hop(expected->package_hop[k]),
                           printed_hop(actual->package_hop[k]));

    if (fields & HARNESS_SUMMARY) {
        if (expected->levels != actual->levels && lines++ < max_lines)
            harness_append(message, len, "levels: expected %u, actual %u\n", expected->levels,
                           actual->levels);
        if (expected->flows_total != actual->flows_total && lines++ < max_lines)
            harness_append(message, len, "legitimate flows: expected %llu, actual %llu\n",
                           (unsigned long long)expected->flows_total,
                           (unsigned long long)actual->flows_total);
        if (expected->flows_broken != actual->flows_broken && lines++ < max_lines)
            harness_append(message, len, "broken flows: expected %llu, actual %llu\n",
                           (unsigned long long)expected->flows_broken,
                           (unsigned long long)actual->flows_broken);
        if (expected->flows_base_denied != actual->flows_base_denied && lines++ < max_lines)
            harness_append(message, len, "base-denied flows: expected %llu, actual %llu\n",
                           (unsigned long long)expected->flows_base_denied,
                           (unsigned long long)actual->flows_base_denied);
    }
    if (lines > max_lines)
        harness_append(message, len, "... and %d more differences\n", lines - max_lines);
    return lines == 0;
}

bool harness_agree(bool ok, MPI_Comm comm)
{
    int verdict = ok ? 1 : 0;
    MPI_Bcast(&verdict, 1, MPI_INT, 0, comm);
    return verdict != 0;
}
