/*
 * topology.c - building the distributed topology; see topology.h for the
 * invariants it establishes.
 *
 * The builder appends edges, installs, grants, assumes and publishes to
 * growable arrays in whatever order the generator or importer produces
 * them. tc_topology_finish turns each into a CSR with a stable counting
 * sort, so the order of entries within a row is the order they were added
 * and does not depend on the rank count.
 */
#include "topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

const char *const tc_partition_names[TC_PARTITION_COUNT] = { "block", "locality" };

typedef struct tc_topology_build {
    /* API edges, parallel arrays. */
    uint64_t *api_src;   /* local caller */
    uint64_t *api_dst;
    uint8_t *api_svc, *api_trust;
    size_t n_api, cap_api;

    uint64_t *inst_wl;   /* local installer */
    uint32_t *inst_pkg;
    size_t n_inst, cap_inst;

    uint32_t *grant_principal;
    tc_grant *grant;
    size_t n_grant, cap_grant;

    uint32_t *assume_from, *assume_to;
    size_t n_assume, cap_assume;

    uint32_t *publish_from, *publish_pkg;
    size_t n_publish, cap_publish;

    size_t cap_base;
    size_t cap_pkg;
    uint8_t *workload_set; /* per owned workload: set_workload was called */
} tc_topology_build;

/* ---- growable arrays ---- */

/* Grow each of the N arrays in PTRS (element sizes in SIZES) to hold NEED
 * entries. Returns 0, or -1 with the arrays unchanged but valid. */
static int grow_arrays(void **ptrs[], const size_t sizes[], int n, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t new_cap = *cap ? *cap : 256;
    while (new_cap < need)
        new_cap *= 2;
    for (int i = 0; i < n; i++) {
        void *p = realloc(*ptrs[i], new_cap * sizes[i]);
        if (!p)
            return -1;
        *ptrs[i] = p;
    }
    *cap = new_cap;
    return 0;
}

/* ---- creation and release ---- */

int tc_topology_create(MPI_Comm comm, uint64_t n_workloads, tc_topology **out,
                       tc_error *err)
{
    return tc_topology_create_ranges(comm, n_workloads, NULL, out, err);
}

int tc_topology_create_ranges(MPI_Comm comm, uint64_t n_workloads, const uint64_t *offsets,
                              tc_topology **out, tc_error *err)
{
    *out = NULL;
    tc_topology *t = calloc(1, sizeof *t);
    int ok = t != NULL;
    if (ok) {
        t->comm = comm;
        MPI_Comm_rank(comm, &t->rank);
        MPI_Comm_size(comm, &t->nranks);
        t->n_workloads = n_workloads;
        t->owner_offsets = malloc((size_t)(t->nranks + 1) * sizeof *t->owner_offsets);
        t->build = calloc(1, sizeof *t->build);
        ok = t->owner_offsets && t->build;
    }
    if (ok) {
        /* Block partition unless given: rank r owns [n*r/p, n*(r+1)/p). */
        t->partition = offsets ? "given" : "block";
        for (int r = 0; r <= t->nranks; r++)
            t->owner_offsets[r] = offsets ? offsets[r]
                                          : (uint64_t)((unsigned __int128)n_workloads * r /
                                                       t->nranks);
        t->first = t->owner_offsets[t->rank];
        t->n_local = t->owner_offsets[t->rank + 1] - t->first;

        size_t n = t->n_local ? t->n_local : 1;
        t->tenant = calloc(n, sizeof(uint32_t));
        t->account = calloc(n, sizeof(uint32_t));
        t->vpc = calloc(n, sizeof(uint32_t));
        t->subnet = calloc(n, sizeof(uint32_t));
        t->segment = calloc(n, sizeof(uint32_t));
        t->app = calloc(n, sizeof(uint32_t));
        t->principal = calloc(n, sizeof(uint32_t));
        t->env = calloc(n, 1);
        t->tier = calloc(n, 1);
        t->crown = calloc(n, 1);
        t->flags = calloc(n, 1);
        t->exposed = calloc(n, sizeof(tc_svcmask));
        t->exploitable = calloc(n, sizeof(tc_svcmask));
        t->build->workload_set = calloc(n, 1);
        ok = t->tenant && t->account && t->vpc && t->subnet && t->segment && t->app &&
             t->principal && t->env && t->tier && t->crown && t->flags && t->exposed &&
             t->exploitable && t->build->workload_set;
    }

    if (!ok)
        tc_error_runtime(err, "out of memory creating a topology of %llu workloads",
                         (unsigned long long)n_workloads);
    tc_fault_point("generate", err);
    if (tc_error_agree(err, comm) != TC_OK) {
        tc_topology_free(t);
        return err->code;
    }
    *out = t;
    return TC_OK;
}

static void build_free(tc_topology_build *b)
{
    if (!b)
        return;
    free(b->api_src);
    free(b->api_dst);
    free(b->api_svc);
    free(b->api_trust);
    free(b->inst_wl);
    free(b->inst_pkg);
    free(b->grant_principal);
    free(b->grant);
    free(b->assume_from);
    free(b->assume_to);
    free(b->publish_from);
    free(b->publish_pkg);
    free(b->workload_set);
    free(b);
}

void tc_topology_free(tc_topology *t)
{
    if (!t)
        return;
    build_free(t->build);
    tc_names *tables[] = { &t->tenants, &t->accounts, &t->vpcs, &t->subnets, &t->segments,
                           &t->apps, &t->principals, &t->packages, &t->workload_names };
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        tc_names_free(tables[i]);
    void *arrays[] = {
        t->owner_offsets, t->tenant, t->account, t->vpc, t->subnet, t->segment, t->app,
        t->principal, t->env, t->tier, t->crown, t->flags, t->exposed, t->exploitable,
        t->install_offsets, t->install_packages, t->installer_offsets, t->installers,
        t->api_offsets, t->api_targets, t->api_service, t->api_trust, t->grant_offsets,
        t->grants, t->member_offsets, t->members, t->base_rules, t->package_kind,
        t->package_popularity, t->assume_offsets, t->assumes, t->publish_offsets,
        t->publishes,
    };
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        free(arrays[i]);
    free(t);
}

int tc_topology_owner(const tc_topology *t, uint64_t gid)
{
    int lo = 0, hi = t->nranks - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (t->owner_offsets[mid] <= gid)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* ---- hub layer ---- */

static uint32_t add_unique_name(tc_names *table, const char *what, const char *name,
                                tc_error *err)
{
    int added = 0;
    uint32_t id = tc_names_intern(table, name, &added);
    if (id == TC_NAME_NONE) {
        tc_error_runtime(err, "out of memory adding %s '%s'", what, name);
        return TC_NAME_NONE;
    }
    if (!added) {
        tc_error_input(err, NULL, 0, 0, NULL, "duplicate %s name '%s'", what, name);
        return TC_NAME_NONE;
    }
    return id;
}

uint32_t tc_topology_add_segment(tc_topology *t, const char *name, tc_error *err)
{
    return add_unique_name(&t->segments, "segment", name, err);
}

uint32_t tc_topology_add_principal(tc_topology *t, const char *name, tc_error *err)
{
    return add_unique_name(&t->principals, "principal", name, err);
}

uint32_t tc_topology_add_package(tc_topology *t, const char *name, enum tc_package_kind kind,
                                 tc_error *err)
{
    uint32_t id = add_unique_name(&t->packages, "package", name, err);
    if (id == TC_NAME_NONE)
        return id;
    void **ptrs[] = { (void **)&t->package_kind };
    size_t sizes[] = { 1 };
    if (grow_arrays(ptrs, sizes, 1, &t->build->cap_pkg, (size_t)id + 1) != 0) {
        tc_error_runtime(err, "out of memory adding package '%s'", name);
        return TC_NAME_NONE;
    }
    t->package_kind[id] = (uint8_t)kind;
    return id;
}

uint32_t tc_topology_intern(tc_topology *t, tc_names *table, const char *name, tc_error *err)
{
    (void)t;
    uint32_t id = tc_names_intern(table, name, NULL);
    if (id == TC_NAME_NONE)
        tc_error_runtime(err, "out of memory adding name '%s'", name);
    return id;
}

int tc_topology_add_base_rule(tc_topology *t, uint32_t from_segment, uint32_t to_segment,
                              tc_svcmask services, tc_error *err)
{
    if (from_segment >= t->segments.count || to_segment >= t->segments.count)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "base rule refers to segment %u, but only %u segments exist",
                              from_segment >= t->segments.count ? from_segment : to_segment,
                              t->segments.count);
    void **ptrs[] = { (void **)&t->base_rules };
    size_t sizes[] = { sizeof(tc_base_rule) };
    if (grow_arrays(ptrs, sizes, 1, &t->build->cap_base, t->n_base_rules + 1) != 0)
        return tc_error_runtime(err, "out of memory adding a base rule");
    t->base_rules[t->n_base_rules++] = (tc_base_rule){ from_segment, to_segment, services };
    return TC_OK;
}

int tc_topology_add_assume(tc_topology *t, uint32_t principal, uint32_t assumable,
                           tc_error *err)
{
    tc_topology_build *b = t->build;
    if (principal >= t->principals.count || assumable >= t->principals.count)
        return tc_error_input(err, NULL, 0, 0, NULL, "assume refers to an unknown principal");
    void **ptrs[] = { (void **)&b->assume_from, (void **)&b->assume_to };
    size_t sizes[] = { sizeof(uint32_t), sizeof(uint32_t) };
    if (grow_arrays(ptrs, sizes, 2, &b->cap_assume, b->n_assume + 1) != 0)
        return tc_error_runtime(err, "out of memory adding an assume relation");
    b->assume_from[b->n_assume] = principal;
    b->assume_to[b->n_assume++] = assumable;
    return TC_OK;
}

int tc_topology_add_publish(tc_topology *t, uint32_t principal, uint32_t package,
                            tc_error *err)
{
    tc_topology_build *b = t->build;
    if (principal >= t->principals.count || package >= t->packages.count)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "publish refers to an unknown principal or package");
    void **ptrs[] = { (void **)&b->publish_from, (void **)&b->publish_pkg };
    size_t sizes[] = { sizeof(uint32_t), sizeof(uint32_t) };
    if (grow_arrays(ptrs, sizes, 2, &b->cap_publish, b->n_publish + 1) != 0)
        return tc_error_runtime(err, "out of memory adding a publish right");
    b->publish_from[b->n_publish] = principal;
    b->publish_pkg[b->n_publish++] = package;
    return TC_OK;
}

/* ---- per-owner calls ---- */

static int check_owned(const tc_topology *t, uint64_t gid, const char *what, tc_error *err)
{
    if (gid >= t->n_workloads)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "%s: workload id %llu is out of range (topology has %llu)",
                              what, (unsigned long long)gid,
                              (unsigned long long)t->n_workloads);
    if (!tc_topology_owns(t, gid))
        return tc_error_runtime(err, "%s: workload %llu is not owned by rank %d", what,
                                (unsigned long long)gid, t->rank);
    return TC_OK;
}

int tc_topology_set_workload(tc_topology *t, uint64_t gid, const tc_workload_spec *spec,
                             tc_error *err)
{
    if (check_owned(t, gid, "set_workload", err) != TC_OK)
        return err->code;
    if (spec->env >= TC_ENV_COUNT || spec->tier >= TC_TIER_COUNT || spec->crown >= TC_CROWN_COUNT)
        return tc_error_input(err, NULL, 0, 0, NULL, "workload %llu has an invalid env, tier or crown",
                              (unsigned long long)gid);
    if (spec->exploitable & ~spec->exposed)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "workload %llu: exploitable services must be exposed",
                              (unsigned long long)gid);
    uint64_t i = gid - t->first;
    t->tenant[i] = spec->tenant;
    t->account[i] = spec->account;
    t->vpc[i] = spec->vpc;
    t->subnet[i] = spec->subnet;
    t->segment[i] = spec->segment;
    t->app[i] = spec->app;
    t->principal[i] = spec->principal;
    t->env[i] = spec->env;
    t->tier[i] = spec->tier;
    t->crown[i] = spec->crown;
    t->flags[i] = spec->internet_facing ? TC_WORKLOAD_INTERNET_FACING : 0;
    t->exposed[i] = spec->exposed;
    t->exploitable[i] = spec->exploitable;
    t->build->workload_set[i] = 1;
    return TC_OK;
}

int tc_topology_add_install(tc_topology *t, uint64_t gid, uint32_t package, tc_error *err)
{
    tc_topology_build *b = t->build;
    if (check_owned(t, gid, "add_install", err) != TC_OK)
        return err->code;
    void **ptrs[] = { (void **)&b->inst_wl, (void **)&b->inst_pkg };
    size_t sizes[] = { sizeof(uint64_t), sizeof(uint32_t) };
    if (grow_arrays(ptrs, sizes, 2, &b->cap_inst, b->n_inst + 1) != 0)
        return tc_error_runtime(err, "out of memory adding package installs");
    b->inst_wl[b->n_inst] = gid - t->first;
    b->inst_pkg[b->n_inst++] = package;
    return TC_OK;
}

int tc_topology_add_api_edge(tc_topology *t, uint64_t caller, uint64_t callee,
                             unsigned service, enum tc_trust trust, tc_error *err)
{
    tc_topology_build *b = t->build;
    if (check_owned(t, caller, "add_api_edge", err) != TC_OK)
        return err->code;
    if (service >= TC_SERVICE_COUNT || trust >= TC_TRUST_COUNT)
        return tc_error_input(err, NULL, 0, 0, NULL, "API edge with an invalid service or trust");
    void **ptrs[] = { (void **)&b->api_src, (void **)&b->api_dst, (void **)&b->api_svc,
                      (void **)&b->api_trust };
    size_t sizes[] = { sizeof(uint64_t), sizeof(uint64_t), 1, 1 };
    if (grow_arrays(ptrs, sizes, 4, &b->cap_api, b->n_api + 1) != 0)
        return tc_error_runtime(err, "out of memory adding API edges");
    b->api_src[b->n_api] = caller - t->first;
    b->api_dst[b->n_api] = callee;
    b->api_svc[b->n_api] = (uint8_t)service;
    b->api_trust[b->n_api++] = (uint8_t)trust;
    return TC_OK;
}

int tc_topology_add_grant(tc_topology *t, uint32_t principal, uint64_t target,
                          tc_svcmask services, bool gated, tc_error *err)
{
    tc_topology_build *b = t->build;
    if (check_owned(t, target, "add_grant", err) != TC_OK)
        return err->code;
    if (principal >= t->principals.count)
        return tc_error_input(err, NULL, 0, 0, NULL, "grant of an unknown principal %u", principal);
    void **ptrs[] = { (void **)&b->grant_principal, (void **)&b->grant };
    size_t sizes[] = { sizeof(uint32_t), sizeof(tc_grant) };
    if (grow_arrays(ptrs, sizes, 2, &b->cap_grant, b->n_grant + 1) != 0)
        return tc_error_runtime(err, "out of memory adding grants");
    b->grant_principal[b->n_grant] = principal;
    b->grant[b->n_grant++] = (tc_grant){ target - t->first, services, gated };
    return TC_OK;
}

/* ---- finish ---- */

/* Stable counting sort of N keys in [0, NKEYS): fills OFFSETS (NKEYS + 1)
 * and ORDER (N), where ORDER lists entry indices row by row. */
static int csr_order(const void *keys, int key_is_u64, size_t n, size_t nkeys,
                     uint64_t **offsets, uint64_t **order)
{
    uint64_t *off = calloc(nkeys + 1, sizeof *off);
    uint64_t *ord = malloc((n ? n : 1) * sizeof *ord);
    if (!off || !ord) {
        free(off);
        free(ord);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key_is_u64 ? ((const uint64_t *)keys)[i] : ((const uint32_t *)keys)[i];
        off[k + 1]++;
    }
    for (size_t k = 0; k < nkeys; k++)
        off[k + 1] += off[k];
    uint64_t *next = malloc((nkeys ? nkeys : 1) * sizeof *next);
    if (!next) {
        free(off);
        free(ord);
        return -1;
    }
    memcpy(next, off, nkeys * sizeof *next);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key_is_u64 ? ((const uint64_t *)keys)[i] : ((const uint32_t *)keys)[i];
        ord[next[k]++] = i;
    }
    free(next);
    *offsets = off;
    *order = ord;
    return 0;
}

static int finish_api(tc_topology *t)
{
    tc_topology_build *b = t->build;
    size_t n = b->n_api;
    uint64_t *order = NULL;
    if (csr_order(b->api_src, 1, n, t->n_local, &t->api_offsets, &order) != 0)
        return -1;
    t->api_targets = malloc((n ? n : 1) * sizeof(uint64_t));
    t->api_service = malloc(n ? n : 1);
    t->api_trust = malloc(n ? n : 1);
    if (!t->api_targets || !t->api_service || !t->api_trust) {
        free(order);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        t->api_targets[i] = b->api_dst[order[i]];
        t->api_service[i] = b->api_svc[order[i]];
        t->api_trust[i] = b->api_trust[order[i]];
    }
    free(order);
    free(b->api_src);
    free(b->api_dst);
    free(b->api_svc);
    free(b->api_trust);
    b->api_src = b->api_dst = NULL;
    b->api_svc = b->api_trust = NULL;
    return 0;
}

static int finish_installs(tc_topology *t)
{
    tc_topology_build *b = t->build;
    size_t n = b->n_inst;
    uint64_t *order = NULL;
    if (csr_order(b->inst_wl, 1, n, t->n_local, &t->install_offsets, &order) != 0)
        return -1;
    t->install_packages = malloc((n ? n : 1) * sizeof(uint32_t));
    if (!t->install_packages) {
        free(order);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        t->install_packages[i] = b->inst_pkg[order[i]];
    free(order);

    /* Inverted index: package -> owned installers, ascending local index
     * because the entries were visited in installer order above. */
    if (csr_order(t->install_packages, 0, n, t->packages.count, &t->installer_offsets,
                  &order) != 0)
        return -1;
    t->installers = malloc((n ? n : 1) * sizeof(uint64_t));
    uint64_t *installer_of = malloc((n ? n : 1) * sizeof(uint64_t));
    if (!t->installers || !installer_of) {
        free(order);
        free(installer_of);
        return -1;
    }
    for (uint64_t w = 0; w < t->n_local; w++)
        for (uint64_t j = t->install_offsets[w]; j < t->install_offsets[w + 1]; j++)
            installer_of[j] = w;
    for (size_t i = 0; i < n; i++)
        t->installers[i] = installer_of[order[i]];
    free(installer_of);
    free(order);
    free(b->inst_wl);
    free(b->inst_pkg);
    b->inst_wl = NULL;
    b->inst_pkg = NULL;
    return 0;
}

static int finish_grants(tc_topology *t)
{
    tc_topology_build *b = t->build;
    size_t n = b->n_grant;
    uint64_t *order = NULL;
    if (csr_order(b->grant_principal, 0, n, t->principals.count, &t->grant_offsets, &order) != 0)
        return -1;
    t->grants = malloc((n ? n : 1) * sizeof(tc_grant));
    if (!t->grants) {
        free(order);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        t->grants[i] = b->grant[order[i]];
    free(order);
    free(b->grant_principal);
    free(b->grant);
    b->grant_principal = NULL;
    b->grant = NULL;
    return 0;
}

static int finish_members(tc_topology *t)
{
    uint64_t *order = NULL;
    if (csr_order(t->principal, 0, t->n_local, t->principals.count, &t->member_offsets,
                  &order) != 0)
        return -1;
    t->members = order; /* entry indices are the local workload indices */
    return 0;
}

static int finish_hub_lists(tc_topology *t)
{
    tc_topology_build *b = t->build;
    uint64_t *order = NULL;
    if (csr_order(b->assume_from, 0, b->n_assume, t->principals.count, &t->assume_offsets,
                  &order) != 0)
        return -1;
    t->assumes = malloc((b->n_assume ? b->n_assume : 1) * sizeof(uint32_t));
    if (!t->assumes) {
        free(order);
        return -1;
    }
    for (size_t i = 0; i < b->n_assume; i++)
        t->assumes[i] = b->assume_to[order[i]];
    free(order);

    if (csr_order(b->publish_from, 0, b->n_publish, t->principals.count, &t->publish_offsets,
                  &order) != 0)
        return -1;
    t->publishes = malloc((b->n_publish ? b->n_publish : 1) * sizeof(uint32_t));
    if (!t->publishes) {
        free(order);
        return -1;
    }
    for (size_t i = 0; i < b->n_publish; i++)
        t->publishes[i] = b->publish_pkg[order[i]];
    free(order);
    return 0;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Rank packages of each kind by global install count, most installed
 * first, ties broken by package id. */
static int finish_popularity(tc_topology *t)
{
    uint32_t np = t->packages.count;
    uint64_t *count = calloc(np ? np : 1, sizeof *count);
    uint32_t *ids = malloc((np ? np : 1) * sizeof *ids);
    t->package_popularity = calloc(np ? np : 1, sizeof(uint32_t));
    if (!count || !ids || !t->package_popularity) {
        free(count);
        free(ids);
        return -1;
    }
    for (uint32_t p = 0; p < np; p++)
        count[p] = t->installer_offsets[p + 1] - t->installer_offsets[p];
    MPI_Allreduce(MPI_IN_PLACE, count, (int)np, MPI_UINT64_T, MPI_SUM, t->comm);

    for (int kind = 0; kind < TC_PKG_KIND_COUNT; kind++) {
        uint32_t n = 0;
        for (uint32_t p = 0; p < np; p++)
            if (t->package_kind[p] == kind)
                ids[n++] = p;
        /* Insertion sort would be quadratic on large catalogues: sort by
         * (count desc, id asc) with qsort over packed keys. */
        uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
        if (!keys) {
            free(count);
            free(ids);
            return -1;
        }
        for (uint32_t i = 0; i < n; i++) {
            uint64_t c = count[ids[i]] > 0xFFFFFFFFu ? 0xFFFFFFFFu : count[ids[i]];
            keys[i] = ((0xFFFFFFFFu - c) << 32) | ids[i];
        }
        qsort(keys, n, sizeof *keys, compare_u64);
        for (uint32_t i = 0; i < n; i++)
            t->package_popularity[(uint32_t)keys[i]] = i + 1;
        free(keys);
    }
    free(count);
    free(ids);
    return 0;
}

/* Check that every owned workload was set and every id it carries is in
 * range of its table. */
static int finish_check(tc_topology *t, tc_error *err)
{
    for (uint64_t i = 0; i < t->n_local; i++) {
        unsigned long long gid = t->first + i;
        if (!t->build->workload_set[i])
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "workload %llu was never defined", gid);
        if (t->tenant[i] >= t->tenants.count || t->account[i] >= t->accounts.count ||
            t->vpc[i] >= t->vpcs.count || t->subnet[i] >= t->subnets.count ||
            t->segment[i] >= t->segments.count || t->app[i] >= t->apps.count ||
            t->principal[i] >= t->principals.count)
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "workload %llu refers to an undefined tenant, account, vpc, "
                                  "subnet, segment, app or principal", gid);
    }
    for (uint64_t e = 0; e < t->build->n_api; e++)
        if (t->build->api_dst[e] >= t->n_workloads)
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "API edge to workload %llu, but the topology has %llu",
                                  (unsigned long long)t->build->api_dst[e],
                                  (unsigned long long)t->n_workloads);
    for (uint64_t e = 0; e < t->build->n_inst; e++)
        if (t->build->inst_pkg[e] >= t->packages.count)
            return tc_error_input(err, NULL, 0, 0, NULL, "install of undefined package %u",
                                  t->build->inst_pkg[e]);
    return TC_OK;
}

int tc_topology_finish(tc_topology *t, tc_error *err)
{
    int status = finish_check(t, err);
    tc_fault_point("build", err);
    if (tc_error_agree(err, t->comm) != TC_OK)
        return err->code;

    if (finish_api(t) != 0 || finish_installs(t) != 0 || finish_grants(t) != 0 ||
        finish_members(t) != 0 || finish_hub_lists(t) != 0)
        status = tc_error_runtime(err, "out of memory finishing the topology");
    if (tc_error_agree(err, t->comm) != TC_OK)
        return err->code;

    if (finish_popularity(t) != 0)
        status = tc_error_runtime(err, "out of memory ranking packages");
    if (tc_error_agree(err, t->comm) != TC_OK)
        return err->code;
    (void)status;

    uint64_t local[4] = { t->api_offsets[t->n_local], t->grant_offsets[t->principals.count],
                          t->install_offsets[t->n_local], 0 };
    for (uint64_t e = 0; e < local[0]; e++)
        local[3] += !tc_topology_owns(t, t->api_targets[e]);
    uint64_t global[4];
    MPI_Allreduce(local, global, 4, MPI_UINT64_T, MPI_SUM, t->comm);
    t->n_api_edges = global[0];
    t->n_grants = global[1];
    t->n_installs = global[2];
    t->n_api_edges_remote = global[3];

    build_free(t->build);
    t->build = NULL;
    return TC_OK;
}

size_t tc_topology_bytes(const tc_topology *t)
{
    size_t n = t->n_local;
    size_t per_workload = 7 * sizeof(uint32_t) + 4 + 2 * sizeof(tc_svcmask) + 2 * sizeof(uint64_t);
    size_t bytes = n * per_workload;
    if (t->api_offsets)
        bytes += t->api_offsets[n] * (sizeof(uint64_t) + 2);
    if (t->install_offsets)
        bytes += t->install_offsets[n] * (sizeof(uint32_t) + sizeof(uint64_t));
    if (t->grant_offsets)
        bytes += t->grant_offsets[t->principals.count] * sizeof(tc_grant);
    bytes += n * sizeof(uint64_t); /* members */
    bytes += t->n_base_rules * sizeof(tc_base_rule);
    bytes += (size_t)t->principals.count * 4 * sizeof(uint64_t);
    bytes += (size_t)t->packages.count * (2 * sizeof(uint64_t) + 5);
    const tc_names *tables[] = { &t->tenants, &t->accounts, &t->vpcs, &t->subnets, &t->segments,
                                 &t->apps, &t->principals, &t->packages, &t->workload_names };
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        bytes += tables[i]->bytes;
    return bytes;
}

void tc_topology_workload_name(const tc_topology *t, uint64_t gid, char *buf, size_t n)
{
    if (gid < t->workload_names.count)
        snprintf(buf, n, "%s", t->workload_names.names[gid]);
    else
        snprintf(buf, n, "w%llu", (unsigned long long)gid);
}
