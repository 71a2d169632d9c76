/*
 * engine.c - the adversary simulation in worst-case mode; see engine.h.
 *
 * Invariants of tc_sim_run:
 *  1. hop[i] is final once set: a workload never falls again.
 *  2. Level h finishes on every rank before level h+1 starts; after the
 *     hub allreduce of level h, principal_hop, package_hop, class_active
 *     and class_reach are identical on every rank.
 *  3. class_reach[c] is the OR of reach(a, c) over every class a that holds
 *     a workload compromised at a hop <= the current level. It only grows,
 *     so a class's members are re-examined only when it grows.
 *  4. The BFS state's visited set equals { i : hop[i] != TC_HOP_NONE }
 *     between levels: workloads that fall by other steps are marked in it.
 *  5. With predecessor recording: after the hub allreduces of level h,
 *     class_level_min, class_min, principal_source, principal_via and
 *     package_publisher are identical on every rank, and every workload
 *     that fell at hop h+1 has a pred that fell at hop h.
 *
 * Within one level the steps are applied in the order of enum tc_step
 * (network, API chain, credential, supply chain), each only to workloads no
 * earlier step took, so the step recorded for a workload is the lowest kind
 * that compromises it at its hop, whatever the rank count.
 *
 * Predecessors are minima over candidates that every rank sees the same
 * way (replicated class and principal minima, grants stored with their
 * target), which is what makes them independent of the rank count. A
 * predecessor at hop h is always found among the workloads of level h:
 * one of an earlier level would have made the target fall earlier.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "bfs.h"
#include "exchange.h"
#include "fault.h"
#include "keymap.h"
#include "rng.h"

const char *const tc_step_names[TC_STEP_COUNT] = {
    "foothold", "network", "api", "credential", "supply_chain",
};

#define RNG_STREAM_INTERNET_SAMPLE 0x494e4554u

/* ---- bitsets ---- */

static inline void bit_set(uint64_t *bits, uint64_t i)
{
    bits[i / 64] |= 1ULL << (i % 64);
}

static inline bool bit_get(const uint64_t *bits, uint64_t i)
{
    return (bits[i / 64] >> (i % 64)) & 1;
}

/* ---- footholds ---- */

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Package of KIND at popularity RANK (1-based), or TC_NAME_NONE. */
static uint32_t package_by_rank(const tc_topology *t, int kind, uint32_t rank)
{
    for (uint32_t p = 0; p < t->packages.count; p++)
        if (t->package_kind[p] == kind && t->package_popularity[p] == rank)
            return p;
    return TC_NAME_NONE;
}

static int resolve_package(const tc_scenario *sc, const tc_vector_spec *v, const tc_topology *t,
                           size_t index, uint32_t *out, tc_error *err)
{
    int kind = v->kind == TC_VECTOR_CICD ? TC_PKG_CICD
               : v->kind == TC_VECTOR_INFRA ? TC_PKG_INFRA : TC_PKG_LIBRARY;
    char key[64];
    snprintf(key, sizeof key, "vectors[%zu]", index);
    if (v->package) {
        uint32_t p = tc_names_find(&t->packages, v->package);
        if (p == TC_NAME_NONE)
            return tc_error_input(err, sc->path, v->line, v->column, key,
                                  "package '%s' is not in the topology", v->package);
        if (t->package_kind[p] != kind)
            return tc_error_input(err, sc->path, v->line, v->column, key,
                                  "package '%s' is of kind %s, but a %s vector needs kind %s",
                                  v->package, tc_package_kind_names[t->package_kind[p]],
                                  tc_vector_kind_names[v->kind], tc_package_kind_names[kind]);
        *out = p;
        return TC_OK;
    }
    uint32_t p = package_by_rank(t, kind, v->rank);
    if (p == TC_NAME_NONE) {
        uint32_t n = 0;
        for (uint32_t q = 0; q < t->packages.count; q++)
            n += t->package_kind[q] == kind;
        return tc_error_input(err, sc->path, v->line, v->column, key,
                              "rank %u is past the %u packages of kind %s in the topology",
                              v->rank, n, tc_package_kind_names[kind]);
    }
    *out = p;
    return TC_OK;
}

static int compare_pair(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* Sample COUNT internet-facing workloads: those with the smallest keyed
 * hash of their global id, so the sample is the same on any rank count.
 * Appends the owned ones (local indices) to LIST. */
static int sample_internet_facing(const tc_scenario *sc, const tc_topology *t, uint64_t count,
                                  uint32_t vector, uint64_t *list, uint64_t *n_list,
                                  tc_error *err)
{
    uint64_t *pairs = malloc((t->n_local + 1) * 2 * sizeof(uint64_t));
    uint64_t *all = NULL, n_all = 0;
    if (!pairs)
        tc_error_runtime(err, "out of memory sampling internet-facing workloads");
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release;

    uint64_t n = 0;
    for (uint64_t i = 0; i < t->n_local; i++) {
        if (!(t->flags[i] & TC_WORKLOAD_INTERNET_FACING))
            continue;
        pairs[2 * n] = tc_rng_u64(sc->seed, RNG_STREAM_INTERNET_SAMPLE, t->first + i, vector);
        pairs[2 * n + 1] = t->first + i;
        n++;
    }

    /* A rank's COUNT smallest pairs are all it can add to the global
     * COUNT smallest. */
    qsort(pairs, n, 2 * sizeof(uint64_t), compare_pair);
    if (n > count)
        n = count;
    if (tc_exchange_allgather_u64(t->comm, pairs, 2 * n, &all, &n_all, err) != TC_OK)
        goto release;
    qsort(all, n_all / 2, 2 * sizeof(uint64_t), compare_pair);
    uint64_t take = n_all / 2 < count ? n_all / 2 : count;
    for (uint64_t j = 0; j < take; j++)
        if (tc_topology_owns(t, all[2 * j + 1]))
            list[(*n_list)++] = all[2 * j + 1] - t->first;

release:
    free(pairs);
    free(all);
    return err->code;
}

/* Global id or name of a workload in a workloads vector. */
static int resolve_workload(const tc_scenario *sc, const tc_vector_spec *v, size_t index,
                            size_t j, const tc_topology *t, uint64_t *gid, tc_error *err)
{
    const char *text = v->workloads[j];
    char key[64];
    snprintf(key, sizeof key, "vectors[%zu].workloads[%zu]", index, j);

    uint32_t named = tc_names_find(&t->workload_names, text);
    if (named != TC_NAME_NONE) {
        *gid = named;
        return TC_OK;
    }
    char *end = NULL;
    unsigned long long id = strtoull(text, &end, 10);
    if (text[0] >= '0' && text[0] <= '9' && end && *end == '\0' && id < t->n_workloads) {
        *gid = id;
        return TC_OK;
    }
    if (text[0] == 'w' && text[1] >= '0' && text[1] <= '9') {
        id = strtoull(text + 1, &end, 10);
        if (end && *end == '\0' && id < t->n_workloads && t->workload_names.count == 0) {
            *gid = id;
            return TC_OK;
        }
    }
    return tc_error_input(err, sc->path, v->line, v->column, key,
                          "workload '%s' is not in the topology (expected a workload name or "
                          "an id below %llu)", text, (unsigned long long)t->n_workloads);
}

static uint64_t count_local_hop0(const tc_topology *t, const uint64_t *wl, uint64_t n_wl,
                                 const uint32_t *pkgs, uint32_t n_pkgs, uint8_t *mark)
{
    memset(mark, 0, t->n_local ? t->n_local : 1);
    uint64_t n = 0;
    for (uint64_t k = 0; k < n_wl; k++)
        if (!mark[wl[k]]) {
            mark[wl[k]] = 1;
            n++;
        }
    for (uint32_t k = 0; k < n_pkgs; k++)
        for (uint64_t j = t->installer_offsets[pkgs[k]]; j < t->installer_offsets[pkgs[k] + 1]; j++)
            if (!mark[t->installers[j]]) {
                mark[t->installers[j]] = 1;
                n++;
            }
    return n;
}

int tc_footholds_resolve(const tc_scenario *sc, const tc_topology *t, tc_footholds *out,
                         tc_error *err)
{
    memset(out, 0, sizeof *out);
    uint64_t cap = t->n_local;
    for (size_t v = 0; v < sc->n_vectors; v++)
        if (sc->vectors[v].kind == TC_VECTOR_WORKLOADS)
            cap += sc->vectors[v].n_workloads;
    out->workloads = malloc((cap + 1) * sizeof(uint64_t));
    out->packages = malloc((sc->n_vectors + 1) * sizeof(uint32_t));
    out->vector_counts = calloc(sc->n_vectors + 1, sizeof(uint64_t));
    out->workload_vectors = malloc((cap + 1) * sizeof(uint32_t));
    out->vector_packages = malloc((sc->n_vectors + 1) * sizeof(uint32_t));
    uint8_t *mark = malloc(t->n_local ? t->n_local : 1);
    if (!out->workloads || !out->packages || !out->vector_counts || !out->workload_vectors ||
        !out->vector_packages || !mark)
        tc_error_runtime(err, "out of memory resolving footholds");
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto fail;
    for (size_t v = 0; v < sc->n_vectors; v++)
        out->vector_packages[v] = TC_NAME_NONE;

    /* Every rank walks the vectors in the same order and makes the same
     * collective calls, so an input error on one is an error on all. */
    for (size_t v = 0; v < sc->n_vectors; v++) {
        const tc_vector_spec *vec = &sc->vectors[v];
        uint64_t before = out->n_workloads;
        uint32_t pkg_before = out->n_packages;

        if (vec->kind == TC_VECTOR_INTERNET_FACING) {
            sample_internet_facing(sc, t, vec->count, (uint32_t)v, out->workloads,
                                   &out->n_workloads, err);
        } else if (vec->kind == TC_VECTOR_WORKLOADS) {
            for (size_t j = 0; j < vec->n_workloads && err->code == TC_OK; j++) {
                uint64_t gid = 0;
                if (resolve_workload(sc, vec, v, j, t, &gid, err) == TC_OK &&
                    tc_topology_owns(t, gid))
                    out->workloads[out->n_workloads++] = gid - t->first;
            }
        } else {
            uint32_t p = TC_NAME_NONE;
            if (resolve_package(sc, vec, t, v, &p, err) == TC_OK) {
                out->packages[out->n_packages++] = p;
                out->vector_packages[v] = p;
            }
        }
        for (uint64_t k = before; k < out->n_workloads; k++)
            out->workload_vectors[k] = (uint32_t)v;
        if (tc_error_agree(err, t->comm) != TC_OK)
            goto fail;

        uint64_t n = count_local_hop0(t, out->workloads + before, out->n_workloads - before,
                                      out->packages + pkg_before, out->n_packages - pkg_before,
                                      mark);
        MPI_Allreduce(&n, &out->vector_counts[v], 1, MPI_UINT64_T, MPI_SUM, t->comm);
    }

    /* Sort and deduplicate, keeping for each workload the lowest vector
     * that names or samples it. */
    uint64_t *pairs = malloc((out->n_workloads + 1) * 2 * sizeof(uint64_t));
    if (!pairs)
        tc_error_runtime(err, "out of memory resolving footholds");
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto fail;
    for (uint64_t k = 0; k < out->n_workloads; k++) {
        pairs[2 * k] = out->workloads[k];
        pairs[2 * k + 1] = out->workload_vectors[k];
    }
    qsort(pairs, out->n_workloads, 2 * sizeof(uint64_t), compare_pair);
    uint64_t n = 0;
    for (uint64_t k = 0; k < out->n_workloads; k++)
        if (n == 0 || out->workloads[n - 1] != pairs[2 * k]) {
            out->workloads[n] = pairs[2 * k];
            out->workload_vectors[n++] = (uint32_t)pairs[2 * k + 1];
        }
    out->n_workloads = n;
    free(pairs);
    qsort(out->packages, out->n_packages, sizeof(uint32_t), compare_u32);
    uint32_t np = 0;
    for (uint32_t k = 0; k < out->n_packages; k++)
        if (np == 0 || out->packages[np - 1] != out->packages[k])
            out->packages[np++] = out->packages[k];
    out->n_packages = np;

    uint64_t local = count_local_hop0(t, out->workloads, out->n_workloads, out->packages,
                                      out->n_packages, mark);
    MPI_Allreduce(&local, &out->total, 1, MPI_UINT64_T, MPI_SUM, t->comm);
    free(mark);
    return TC_OK;

fail:
    free(mark);
    tc_footholds_free(out);
    return err->code;
}

void tc_footholds_free(tc_footholds *f)
{
    free(f->workloads);
    free(f->packages);
    free(f->vector_counts);
    free(f->workload_vectors);
    free(f->vector_packages);
    memset(f, 0, sizeof *f);
}

/* ---- the simulation ---- */

/* Which class minimum a reach query reads (predecessor recording). */
enum { REACH_FROM_LEVEL, REACH_FROM_ANY };

typedef struct sim_ctx {
    const tc_topology *t;
    const tc_policy *p;
    tc_sim_result *r;
    tc_error *err;

    uint64_t class_words, principal_words;
    uint64_t *hub_bits;         /* class_new words, then principal_new words */
    uint64_t *class_active;     /* classes that held a compromised workload */
    tc_svcmask *class_reach;    /* invariant 3 */
    uint32_t *changed;          /* classes whose reach grew this level */
    uint32_t n_changed;
    uint64_t *changed_bits;
    uint32_t *held;             /* principals held, in the order they became held */
    uint32_t n_held;
    uint32_t first_new_held;    /* held[first_new_held ..] became held this level */
    uint32_t *new_packages;     /* packages compromised at the next level */
    uint32_t n_new_packages;
    uint64_t *frontier, *next;
    uint64_t n_frontier, n_next;

    tc_graph *api;
    tc_bfs_state *bfs;

    /* Predecessor recording; all NULL without it. Replicated unless marked
     * local. Minima are global ids, UINT64_MAX (TC_PRED_NONE) for none. */
    bool record;
    uint64_t *class_level_min;  /* per class: smallest id that fell at the current level */
    uint64_t *class_min;        /* per class: smallest id compromised at any level so far */
    uint32_t *level_classes;    /* classes with a workload of the current level */
    uint32_t n_level_classes;
    uint64_t *principal_level_min; /* per principal in direct: smallest id of the level running as it */
    uint32_t *direct;           /* principals first held at this level, run by a workload of it */
    uint32_t n_direct;
    int64_t *min_buffer;        /* MIN allreduce buffer: level classes, then direct principals */
    uint64_t *rev_offsets;      /* reverse class graph, CSR over target classes */
    uint32_t *rev_sources;
    tc_svcmask *rev_masks;
    tc_keymap reach_cache;      /* (class, mask, kind) -> sim_reach_min, this level */
    tc_keymap credential_from;  /* local: credential falls of this level -> w of their reason */
    bool maps_ready;
    uint64_t gated_capacity;    /* pairs that r->gated_from can hold */
} sim_ctx;

static int sim_alloc(sim_ctx *c, uint32_t hop_budget)
{
    const tc_topology *t = c->t;
    tc_sim_result *r = c->r;
    uint64_t n = t->n_local ? t->n_local : 1;
    uint32_t np = t->principals.count, nk = t->packages.count, nc = c->p->n_classes;

    c->class_words = (nc + 63) / 64;
    c->principal_words = (np + 63) / 64;
    r->hop = malloc(n * sizeof(uint16_t));
    r->step = calloc(n, 1);
    r->principal_hop = malloc(((size_t)np + 1) * sizeof(uint16_t));
    r->package_hop = malloc(((size_t)nk + 1) * sizeof(uint16_t));
    r->new_per_hop = calloc((size_t)hop_budget + 2, sizeof(uint64_t));
    c->hub_bits = calloc(c->class_words + c->principal_words + 1, sizeof(uint64_t));
    c->class_active = calloc(c->class_words + 1, sizeof(uint64_t));
    c->changed_bits = calloc(c->class_words + 1, sizeof(uint64_t));
    c->class_reach = calloc((size_t)nc + 1, sizeof(tc_svcmask));
    c->changed = malloc(((size_t)nc + 1) * sizeof(uint32_t));
    c->held = malloc(((size_t)np + 1) * sizeof(uint32_t));
    c->new_packages = malloc(((size_t)nk + 1) * sizeof(uint32_t));
    c->frontier = malloc(n * sizeof(uint64_t));
    c->next = malloc(n * sizeof(uint64_t));
    if (!r->hop || !r->step || !r->principal_hop || !r->package_hop || !r->new_per_hop ||
        !c->hub_bits || !c->class_active || !c->changed_bits || !c->class_reach ||
        !c->changed || !c->held || !c->new_packages || !c->frontier || !c->next)
        return tc_error_runtime(c->err, "out of memory for the simulation state");

    for (uint64_t i = 0; i < t->n_local; i++)
        r->hop[i] = TC_HOP_NONE;
    for (uint32_t q = 0; q < np; q++)
        r->principal_hop[q] = TC_HOP_NONE;
    for (uint32_t k = 0; k < nk; k++)
        r->package_hop[k] = TC_HOP_NONE;
    return TC_OK;
}

/* Build the reverse class graph: for each class, the classes that reach it
 * and on which services. Predecessors read it to find the compromised
 * classes that reach a class without scanning every class. */
static int sim_build_reverse_classes(sim_ctx *c)
{
    const tc_policy *p = c->p;
    uint32_t nc = p->n_classes;
    uint64_t pairs = p->reach_offsets[nc];

    c->rev_offsets = calloc((size_t)nc + 2, sizeof(uint64_t));
    c->rev_sources = malloc((pairs + 1) * sizeof(uint32_t));
    c->rev_masks = malloc((pairs + 1) * sizeof(tc_svcmask));
    if (!c->rev_offsets || !c->rev_sources || !c->rev_masks)
        return tc_error_runtime(c->err, "out of memory for the reverse class graph "
                                "(%llu class pairs)", (unsigned long long)pairs);

    for (uint64_t j = 0; j < pairs; j++)
        c->rev_offsets[p->reach_targets[j] + 2]++;
    for (uint32_t b = 0; b < nc; b++)
        c->rev_offsets[b + 2] += c->rev_offsets[b + 1];
    /* Filling through rev_offsets[b + 1] leaves it at the end of row b,
     * which is the start offset that CSR row b + 1 needs. */
    for (uint32_t a = 0; a < nc; a++)
        for (uint64_t j = p->reach_offsets[a]; j < p->reach_offsets[a + 1]; j++) {
            uint64_t slot = c->rev_offsets[p->reach_targets[j] + 1]++;
            c->rev_sources[slot] = a;
            c->rev_masks[slot] = p->reach_masks[j];
        }
    return TC_OK;
}

static int sim_reset_maps(sim_ctx *c)
{
    if (c->maps_ready) {
        tc_keymap_free(&c->reach_cache);
        tc_keymap_free(&c->credential_from);
        c->maps_ready = false;
    }
    if (tc_keymap_init(&c->reach_cache, 3) != 0)
        return tc_error_runtime(c->err, "out of memory for the predecessor state");
    if (tc_keymap_init(&c->credential_from, 1) != 0) {
        tc_keymap_free(&c->reach_cache);
        return tc_error_runtime(c->err, "out of memory for the predecessor state");
    }
    c->maps_ready = true;
    return TC_OK;
}

/* State of predecessor recording (local allocation; the replicated parts
 * start identical on every rank). */
static int sim_alloc_record(sim_ctx *c)
{
    const tc_topology *t = c->t;
    tc_sim_result *r = c->r;
    uint64_t n = t->n_local ? t->n_local : 1;
    uint32_t np = t->principals.count, nk = t->packages.count, nc = c->p->n_classes;

    if (np >= TC_VIA_GATED)
        return tc_error_input(c->err, NULL, 0, 0, NULL,
                              "attack paths support fewer than 2^31 principals, "
                              "but the topology has %u", np);
    r->pred = malloc(n * sizeof(uint64_t));
    r->via = malloc(n * sizeof(uint32_t));
    r->principal_source = malloc(((size_t)np + 1) * sizeof(uint64_t));
    r->principal_via = malloc(((size_t)np + 1) * sizeof(uint32_t));
    r->package_publisher = malloc(((size_t)nk + 1) * sizeof(uint32_t));
    c->class_level_min = malloc(((size_t)nc + 1) * sizeof(uint64_t));
    c->class_min = malloc(((size_t)nc + 1) * sizeof(uint64_t));
    c->level_classes = malloc(((size_t)nc + 1) * sizeof(uint32_t));
    c->principal_level_min = malloc(((size_t)np + 1) * sizeof(uint64_t));
    c->direct = malloc(((size_t)np + 1) * sizeof(uint32_t));
    c->min_buffer = malloc(((size_t)nc + np + 1) * sizeof(int64_t));
    if (!r->pred || !r->via || !r->principal_source || !r->principal_via ||
        !r->package_publisher || !c->class_level_min || !c->class_min || !c->level_classes ||
        !c->principal_level_min || !c->direct || !c->min_buffer)
        return tc_error_runtime(c->err, "out of memory for the predecessor state");

    for (uint64_t i = 0; i < t->n_local; i++) {
        r->pred[i] = TC_PRED_NONE;
        r->via[i] = TC_VIA_NONE;
    }
    for (uint32_t q = 0; q < np; q++) {
        r->principal_source[q] = TC_PRED_NONE;
        r->principal_via[q] = TC_VIA_NONE;
        c->principal_level_min[q] = TC_PRED_NONE;
    }
    for (uint32_t k = 0; k < nk; k++)
        r->package_publisher[k] = TC_VIA_NONE;
    for (uint32_t a = 0; a < nc; a++) {
        c->class_level_min[a] = TC_PRED_NONE;
        c->class_min[a] = TC_PRED_NONE;
    }
    if (sim_build_reverse_classes(c) != TC_OK)
        return c->err->code;
    return sim_reset_maps(c);
}

/* The sparse layer of this policy: API edges it leaves open. */
static int sim_build_api_graph(sim_ctx *c)
{
    const tc_topology *t = c->t;
    uint64_t n_edges = t->api_offsets[t->n_local], n_open = 0;
    for (uint64_t e = 0; e < n_edges; e++)
        n_open += c->p->api_open[e];

    uint64_t *src = malloc((n_open + 1) * sizeof(uint64_t));
    uint64_t *dst = malloc((n_open + 1) * sizeof(uint64_t));
    if (!src || !dst)
        tc_error_runtime(c->err, "out of memory for %llu open API edges",
                         (unsigned long long)n_open);
    if (tc_error_agree(c->err, t->comm) == TC_OK) {
        uint64_t k = 0;
        for (uint64_t u = 0; u < t->n_local; u++)
            for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++)
                if (c->p->api_open[e]) {
                    src[k] = u;
                    dst[k++] = t->api_targets[e];
                }
        /* The kernel's parents are the API-chain predecessors (bfs.h
         * invariant 4: the smallest frontier in-neighbour). */
        if (tc_graph_build(t->comm, t->n_workloads, t->owner_offsets, n_open, src, dst, true,
                           &c->api, c->err) == TC_OK)
            tc_bfs_state_create(c->api, c->record, &c->bfs, c->err);
    }
    free(src);
    free(dst);
    return tc_error_agree(c->err, t->comm);
}

static void sim_fall(sim_ctx *c, uint64_t v, uint16_t hop, enum tc_step step)
{
    c->r->hop[v] = hop;
    c->r->step[v] = (uint8_t)step;
    c->next[c->n_next++] = v;
    tc_bfs_mark_visited(c->bfs, v);
}

/* Hop 0: foothold workloads and the installers of foothold packages. An
 * installer records the smallest foothold package it installs. */
static void sim_footholds(sim_ctx *c, const tc_footholds *f)
{
    const tc_topology *t = c->t;
    c->n_next = 0;
    for (uint64_t k = 0; k < f->n_workloads; k++)
        if (c->r->hop[f->workloads[k]] == TC_HOP_NONE)
            sim_fall(c, f->workloads[k], 0, TC_STEP_FOOTHOLD);
    for (uint32_t k = 0; k < f->n_packages; k++) {
        uint32_t pkg = f->packages[k];
        c->r->package_hop[pkg] = 0;
        for (uint64_t j = t->installer_offsets[pkg]; j < t->installer_offsets[pkg + 1]; j++) {
            uint64_t v = t->installers[j];
            if (c->r->hop[v] != TC_HOP_NONE)
                continue;
            sim_fall(c, v, 0, TC_STEP_FOOTHOLD);
            if (c->record)
                c->r->via[v] = pkg;
        }
    }
}

static int64_t min_to_signed(uint64_t id)
{
    return id == TC_PRED_NONE ? INT64_MAX : (int64_t)id;
}

static uint64_t min_from_signed(int64_t value)
{
    return value == INT64_MAX ? TC_PRED_NONE : (uint64_t)value;
}

/* Smallest ids of the current level per class and per principal first
 * held through a workload of the level (record only, collective). The OR
 * allreduce has just made CLASS_NEW and PRINCIPAL_NEW global, so one MIN
 * allreduce over just those entries replicates the minima: its size
 * follows what changed, not the number of hubs. */
static void sim_level_minima(sim_ctx *c, const uint64_t *class_new,
                             const uint64_t *principal_new)
{
    const tc_topology *t = c->t;
    const tc_policy *p = c->p;
    tc_sim_result *r = c->r;

    for (uint32_t k = 0; k < c->n_level_classes; k++)
        c->class_level_min[c->level_classes[k]] = TC_PRED_NONE;
    c->n_level_classes = 0;
    for (uint64_t w = 0; w < c->class_words; w++)
        for (uint64_t bits = class_new[w]; bits; bits &= bits - 1)
            c->level_classes[c->n_level_classes++] =
                (uint32_t)(w * 64 + (uint64_t)__builtin_ctzll(bits));
    c->n_direct = 0;
    for (uint64_t w = 0; w < c->principal_words; w++)
        for (uint64_t bits = principal_new[w]; bits; bits &= bits - 1) {
            uint32_t q = (uint32_t)(w * 64 + (uint64_t)__builtin_ctzll(bits));
            if (r->principal_hop[q] != TC_HOP_NONE)
                continue;
            c->principal_level_min[q] = TC_PRED_NONE;
            c->direct[c->n_direct++] = q;
        }

    for (uint64_t k = 0; k < c->n_frontier; k++) {
        uint64_t u = c->frontier[k], gid = t->first + u;
        uint32_t a = p->class_of[u], q = t->principal[u];
        if (gid < c->class_level_min[a])
            c->class_level_min[a] = gid;
        if (r->principal_hop[q] == TC_HOP_NONE && gid < c->principal_level_min[q])
            c->principal_level_min[q] = gid;
    }

    /* The minima travel as signed 64-bit integers, because MPICH 4.0.2 (the
     * version Debian 12 ships) computes MPI_MIN of unsigned 64-bit types as
     * if they were signed: the minimum of 5 and UINT64_MAX over two ranks
     * comes out as UINT64_MAX. Ids are below 2^63, so nothing is lost. */
    int64_t *buffer = c->min_buffer;
    uint32_t n = c->n_level_classes;
    for (uint32_t k = 0; k < n; k++)
        buffer[k] = min_to_signed(c->class_level_min[c->level_classes[k]]);
    for (uint32_t k = 0; k < c->n_direct; k++)
        buffer[n + k] = min_to_signed(c->principal_level_min[c->direct[k]]);
    MPI_Allreduce(MPI_IN_PLACE, buffer, (int)(n + c->n_direct), MPI_INT64_T, MPI_MIN, t->comm);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t a = c->level_classes[k];
        c->class_level_min[a] = min_from_signed(buffer[k]);
        if (c->class_level_min[a] < c->class_min[a])
            c->class_min[a] = c->class_level_min[a];
    }
    for (uint32_t k = 0; k < c->n_direct; k++)
        c->principal_level_min[c->direct[k]] = min_from_signed(buffer[n + k]);
}

static int compare_by_level_min(const void *a, const void *b, void *ctx)
{
    const uint64_t *level_min = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (level_min[x] != level_min[y])
        return level_min[x] < level_min[y] ? -1 : 1;
    return (x > y) - (x < y);
}

/* Hold the principals first held at hop H, with their sources (record
 * only). The direct principals are taken in ascending order of their
 * smallest workload. Each labels the unheld part of its assume closure by
 * a breadth-first walk, so every principal gets the smallest source that
 * reaches it, and principal_via follows a shortest assume chain. */
static void sim_hold_principals_recorded(sim_ctx *c, uint16_t h)
{
    const tc_topology *t = c->t;
    tc_sim_result *r = c->r;

    qsort_r(c->direct, c->n_direct, sizeof(uint32_t), compare_by_level_min,
            c->principal_level_min);
    for (uint32_t k = 0; k < c->n_direct; k++) {
        uint32_t q = c->direct[k];
        if (r->principal_hop[q] != TC_HOP_NONE)
            continue; /* assumable from a smaller source of this level */
        r->principal_hop[q] = h;
        r->principal_source[q] = c->principal_level_min[q];
        c->held[c->n_held++] = q;
        for (uint32_t head = c->n_held - 1; head < c->n_held; head++) {
            uint32_t x = c->held[head];
            for (uint64_t j = t->assume_offsets[x]; j < t->assume_offsets[x + 1]; j++) {
                uint32_t a = t->assumes[j];
                if (r->principal_hop[a] != TC_HOP_NONE)
                    continue;
                r->principal_hop[a] = h;
                r->principal_source[a] = r->principal_source[q];
                r->principal_via[a] = x;
                c->held[c->n_held++] = a;
            }
        }
    }
}

/* Hub activations of level H (collective): classes that now hold a
 * compromised workload, principals now held (with everything assumable
 * from them), and the reach masks that grow as a result. */
static void sim_activate_hubs(sim_ctx *c, uint16_t h)
{
    const tc_topology *t = c->t;
    const tc_policy *p = c->p;
    tc_sim_result *r = c->r;
    uint64_t *class_new = c->hub_bits, *principal_new = c->hub_bits + c->class_words;

    memset(c->hub_bits, 0, (c->class_words + c->principal_words) * sizeof(uint64_t));
    for (uint64_t k = 0; k < c->n_frontier; k++) {
        uint64_t u = c->frontier[k];
        bit_set(class_new, p->class_of[u]);
        bit_set(principal_new, t->principal[u]);
    }
    MPI_Allreduce(MPI_IN_PLACE, c->hub_bits, (int)(c->class_words + c->principal_words),
                  MPI_UINT64_T, MPI_BOR, t->comm);

    /* Principals: the new ones, then the assume closure, all at hop H. */
    uint32_t first_new = c->n_held;
    if (c->record) {
        sim_level_minima(c, class_new, principal_new);
        sim_hold_principals_recorded(c, h);
    } else {
        for (uint32_t q = 0; q < t->principals.count; q++)
            if (bit_get(principal_new, q) && r->principal_hop[q] == TC_HOP_NONE) {
                r->principal_hop[q] = h;
                c->held[c->n_held++] = q;
            }
        for (uint32_t k = first_new; k < c->n_held; k++) {
            uint32_t q = c->held[k];
            for (uint64_t j = t->assume_offsets[q]; j < t->assume_offsets[q + 1]; j++) {
                uint32_t a = t->assumes[j];
                if (r->principal_hop[a] == TC_HOP_NONE) {
                    r->principal_hop[a] = h;
                    c->held[c->n_held++] = a;
                }
            }
        }
    }

    c->first_new_held = first_new;

    /* Reach from the classes that became active. */
    for (uint32_t k = 0; k < c->n_changed; k++)
        c->changed_bits[c->changed[k] / 64] &= ~(1ULL << (c->changed[k] % 64));
    c->n_changed = 0;
    for (uint64_t w = 0; w < c->class_words; w++) {
        uint64_t fresh = class_new[w] & ~c->class_active[w];
        c->class_active[w] |= fresh;
        while (fresh) {
            uint32_t a = (uint32_t)(w * 64 + (uint64_t)__builtin_ctzll(fresh));
            fresh &= fresh - 1;
            for (uint64_t j = p->reach_offsets[a]; j < p->reach_offsets[a + 1]; j++) {
                uint32_t b = p->reach_targets[j];
                tc_svcmask grown = c->class_reach[b] | p->reach_masks[j];
                if (grown == c->class_reach[b])
                    continue;
                c->class_reach[b] = grown;
                if (!bit_get(c->changed_bits, b)) {
                    bit_set(c->changed_bits, b);
                    c->changed[c->n_changed++] = b;
                }
            }
        }
    }
}

/* Smallest id among the compromised workloads whose class reaches class B
 * on a service of MASK (record only): those of the current level
 * (REACH_FROM_LEVEL) or of any level so far (REACH_FROM_ANY);
 * TC_PRED_NONE when there is none. Cached per level, because many
 * workloads of one class ask the same question. */
static uint64_t sim_reach_min(sim_ctx *c, uint32_t b, tc_svcmask mask, int kind)
{
    uint64_t key[3] = { b, mask, (uint64_t)kind };
    uint32_t known = c->reach_cache.count;
    uint32_t id = tc_keymap_intern(&c->reach_cache, key);
    if (id == UINT32_MAX) {
        tc_error_runtime(c->err, "out of memory for the predecessor state");
        return TC_PRED_NONE;
    }
    if (id < known)
        return c->reach_cache.values[id];

    const uint64_t *mins = kind == REACH_FROM_LEVEL ? c->class_level_min : c->class_min;
    uint64_t best = TC_PRED_NONE;
    for (uint64_t j = c->rev_offsets[b]; j < c->rev_offsets[b + 1]; j++)
        if ((c->rev_masks[j] & mask) && mins[c->rev_sources[j]] < best)
            best = mins[c->rev_sources[j]];
    c->reach_cache.values[id] = best;
    return best;
}

/* Is the reason (pred, via, from) of a credential step smaller than
 * (pred2, via2, from2)? Order: predecessor, then principal (control-plane
 * before network-gated for one principal), then a w that is the
 * predecessor itself, then the smaller w. */
static bool credential_reason_less(uint64_t pred, uint32_t via, uint64_t from, uint64_t pred2,
                                   uint32_t via2, uint64_t from2)
{
    if (pred != pred2)
        return pred < pred2;
    if (via != via2)
        return via < via2;
    bool apart = from != pred && from != TC_PRED_NONE;
    bool apart2 = from2 != pred2 && from2 != TC_PRED_NONE;
    if (apart != apart2)
        return !apart;
    return from < from2;
}

/* Offer grant G of principal Q as the reason of the credential fall of
 * owned workload V at hop H+1 (record only). The smallest reason wins.
 *
 * Every valid (principal, grant, w) has max(hop Q held, hop of w) = H,
 * because V did not fall earlier. The predecessor is therefore the source
 * of Q when Q became held at H, or a workload w of level H that reaches V.
 * When a network-gated grant's predecessor is Q's source, w is the
 * smallest compromised workload that reaches V on the grant's services. */
static void sim_credential_offer(sim_ctx *c, uint64_t v, uint32_t q, const tc_grant *g,
                                 uint16_t h)
{
    tc_sim_result *r = c->r;
    uint64_t source = r->principal_hop[q] == h ? r->principal_source[q] : TC_PRED_NONE;
    uint64_t pred = source, from = TC_PRED_NONE;
    uint32_t via = q;

    if (g->gated) {
        uint32_t cv = c->p->class_of[v];
        uint64_t level_w = sim_reach_min(c, cv, g->services, REACH_FROM_LEVEL);
        via |= TC_VIA_GATED;
        if (level_w <= source) {
            pred = level_w;
            from = level_w;
        } else {
            from = sim_reach_min(c, cv, g->services, REACH_FROM_ANY);
        }
    }
    if (pred == TC_PRED_NONE)
        return; /* not a reason of hop H+1, which the argument above excludes */

    uint64_t key = v;
    uint32_t known = c->credential_from.count;
    uint32_t id = tc_keymap_intern(&c->credential_from, &key);
    if (id == UINT32_MAX) {
        tc_error_runtime(c->err, "out of memory for the predecessor state");
        return;
    }
    if (id < known && !credential_reason_less(pred, via, from, r->pred[v], r->via[v],
                                              c->credential_from.values[id]))
        return;
    r->pred[v] = pred;
    r->via[v] = via;
    c->credential_from.values[id] = from;
}

/* Keep the w of this level's network-gated credential falls whose w is not
 * their predecessor (record only). */
static void sim_keep_gated_from(sim_ctx *c)
{
    tc_sim_result *r = c->r;
    for (uint32_t id = 0; id < c->credential_from.count; id++) {
        uint64_t v = tc_keymap_key(&c->credential_from, id)[0];
        uint64_t from = c->credential_from.values[id];
        if (!(r->via[v] & TC_VIA_GATED) || from == r->pred[v] || from == TC_PRED_NONE)
            continue;
        if (r->n_gated_from == c->gated_capacity) {
            uint64_t capacity = c->gated_capacity ? 2 * c->gated_capacity : 1024;
            uint64_t *grown = realloc(r->gated_from, capacity * 2 * sizeof(uint64_t));
            if (!grown) {
                tc_error_runtime(c->err, "out of memory for the predecessor state");
                return;
            }
            r->gated_from = grown;
            c->gated_capacity = capacity;
        }
        r->gated_from[2 * r->n_gated_from] = v;
        r->gated_from[2 * r->n_gated_from + 1] = from;
        r->n_gated_from++;
    }
}

/* Is the (publisher Q, package K) reason of a supply-chain step smaller
 * than the one recorded? Order: the publisher's source, then the
 * principal or package id. */
static bool source_less(const tc_sim_result *r, uint32_t q, uint32_t q2)
{
    uint64_t s = r->principal_source[q], s2 = r->principal_source[q2];
    return s != s2 ? s < s2 : q < q2;
}

/* Workloads falling at hop H+1 by each step kind, in enum tc_step order. */
static int sim_next_level(sim_ctx *c, uint16_t h)
{
    const tc_topology *t = c->t;
    const tc_policy *p = c->p;
    tc_sim_result *r = c->r;
    uint16_t next_hop = (uint16_t)(h + 1);
    c->n_next = 0;
    if (c->record && sim_reset_maps(c) != TC_OK)
        return c->err->code;

    /* Network exploit: a class whose reach grew meets a member's
     * exploitable services. */
    for (uint32_t k = 0; k < c->n_changed; k++) {
        uint32_t b = c->changed[k];
        tc_svcmask reach = c->class_reach[b];
        for (uint64_t j = p->member_offsets[b]; j < p->member_offsets[b + 1]; j++) {
            uint64_t v = p->members[j];
            if (r->hop[v] != TC_HOP_NONE || !(reach & t->exploitable[v]))
                continue;
            sim_fall(c, v, next_hop, TC_STEP_NETWORK);
            if (c->record)
                r->pred[v] = sim_reach_min(c, b, t->exploitable[v], REACH_FROM_LEVEL);
        }
    }

    /* API chain: the open edges from this level's frontier. */
    uint64_t *found = NULL, n_found = 0;
    if (tc_bfs_level(c->bfs, c->frontier, c->n_frontier, &found, &n_found, c->err) != TC_OK)
        return c->err->code;
    for (uint64_t k = 0; k < n_found; k++) {
        uint64_t v = found[k];
        r->hop[v] = next_hop;
        r->step[v] = TC_STEP_API;
        c->next[c->n_next++] = v;
        if (c->record)
            r->pred[v] = tc_bfs_parent(c->bfs, v);
    }
    free(found);

    /* Credentials: grants of held principals. With recording, a workload
     * that already fell by a credential at this level still hears the
     * other grants, to keep the smallest reason. */
    for (uint32_t k = 0; k < c->n_held; k++) {
        uint32_t q = c->held[k];
        for (uint64_t g = t->grant_offsets[q]; g < t->grant_offsets[q + 1]; g++) {
            const tc_grant *grant = &t->grants[g];
            uint64_t v = grant->target_local;
            bool fresh = r->hop[v] == TC_HOP_NONE;
            bool again = c->record && r->hop[v] == next_hop && r->step[v] == TC_STEP_CREDENTIAL;
            if (!fresh && !again)
                continue;
            if (grant->gated && !(c->class_reach[p->class_of[v]] & grant->services))
                continue;
            if (fresh)
                sim_fall(c, v, next_hop, TC_STEP_CREDENTIAL);
            if (c->record)
                sim_credential_offer(c, v, q, grant, h);
        }
    }
    if (c->record)
        sim_keep_gated_from(c);

    /* Supply chain: publishing with a principal held at H is using it, so
     * the package is compromised at H+1, and so are its installers. */
    c->n_new_packages = 0;
    for (uint32_t k = c->first_new_held; k < c->n_held; k++) {
        uint32_t q = c->held[k];
        for (uint64_t j = t->publish_offsets[q]; j < t->publish_offsets[q + 1]; j++) {
            uint32_t pkg = t->publishes[j];
            if (r->package_hop[pkg] == TC_HOP_NONE) {
                r->package_hop[pkg] = next_hop;
                c->new_packages[c->n_new_packages++] = pkg;
                if (c->record)
                    r->package_publisher[pkg] = q;
            } else if (c->record && r->package_hop[pkg] == next_hop &&
                       source_less(r, q, r->package_publisher[pkg])) {
                r->package_publisher[pkg] = q;
            }
        }
    }
    for (uint32_t k = 0; k < c->n_new_packages; k++) {
        uint32_t pkg = c->new_packages[k];
        for (uint64_t j = t->installer_offsets[pkg]; j < t->installer_offsets[pkg + 1]; j++) {
            uint64_t v = t->installers[j];
            bool fresh = r->hop[v] == TC_HOP_NONE;
            if (fresh)
                sim_fall(c, v, next_hop, TC_STEP_SUPPLY_CHAIN);
            if (!c->record)
                continue;
            uint64_t source = r->principal_source[r->package_publisher[pkg]];
            bool better = r->step[v] == TC_STEP_SUPPLY_CHAIN && r->hop[v] == next_hop &&
                          (source < r->pred[v] || (source == r->pred[v] && pkg < r->via[v]));
            if (fresh || better) {
                r->pred[v] = source;
                r->via[v] = pkg;
            }
        }
    }
    return c->err->code;
}

static void sim_swap_frontier(sim_ctx *c)
{
    qsort(c->next, c->n_next, sizeof(uint64_t), compare_u64);
    uint64_t *tmp = c->frontier;
    c->frontier = c->next;
    c->n_frontier = c->n_next;
    c->next = tmp;
    c->n_next = 0;
}

static void sim_ctx_free(sim_ctx *c)
{
    free(c->hub_bits);
    free(c->class_active);
    free(c->class_reach);
    free(c->changed);
    free(c->changed_bits);
    free(c->held);
    free(c->new_packages);
    free(c->frontier);
    free(c->next);
    tc_bfs_state_free(c->bfs);
    tc_graph_free(c->api);
    free(c->class_level_min);
    free(c->class_min);
    free(c->level_classes);
    free(c->principal_level_min);
    free(c->direct);
    free(c->min_buffer);
    free(c->rev_offsets);
    free(c->rev_sources);
    free(c->rev_masks);
    if (c->maps_ready) {
        tc_keymap_free(&c->reach_cache);
        tc_keymap_free(&c->credential_from);
    }
}

int tc_sim_run(const tc_topology *t, const tc_policy *p, const tc_footholds *f,
               uint32_t hop_budget, tc_sim_result **out, tc_error *err)
{
    return tc_sim_run_with(t, p, f, hop_budget, NULL, out, err);
}

int tc_sim_run_with(const tc_topology *t, const tc_policy *p, const tc_footholds *f,
                    uint32_t hop_budget, const tc_sim_options *options, tc_sim_result **out,
                    tc_error *err)
{
    double start = MPI_Wtime();
    *out = NULL;
    sim_ctx c = { .t = t, .p = p, .err = err };
    c.record = options && options->record_predecessors;
    if (hop_budget > TC_HOP_BUDGET_MAX)
        hop_budget = TC_HOP_BUDGET_MAX;

    c.r = calloc(1, sizeof *c.r);
    if (!c.r)
        tc_error_runtime(err, "out of memory for the simulation result");
    else if (sim_alloc(&c, hop_budget) == TC_OK && c.record)
        sim_alloc_record(&c);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto fail;
    if (sim_build_api_graph(&c) != TC_OK)
        goto fail;
    c.r->seconds_setup = MPI_Wtime() - start;

    sim_footholds(&c, f);
    sim_swap_frontier(&c);
    for (uint32_t h = 0;; h++) {
        uint64_t count = c.n_frontier;
        MPI_Allreduce(MPI_IN_PLACE, &count, 1, MPI_UINT64_T, MPI_SUM, t->comm);
        if (count == 0)
            break;
        c.r->new_per_hop[h] = count;
        c.r->levels = h;

        sim_activate_hubs(&c, (uint16_t)h);
        if (h == hop_budget)
            break;
        sim_next_level(&c, (uint16_t)h);
        tc_fault_point("simulate", err);
        if (tc_error_agree(err, t->comm) != TC_OK)
            goto fail;
        sim_swap_frontier(&c);
    }

    /* Each workload falls once, so gated_from has one pair per key. */
    if (c.r->n_gated_from > 0)
        qsort(c.r->gated_from, c.r->n_gated_from, 2 * sizeof(uint64_t), compare_pair);
    tc_bfs_get_stats(c.bfs, &c.r->bfs);
    sim_ctx_free(&c);
    c.r->seconds = MPI_Wtime() - start;
    *out = c.r;
    return TC_OK;

fail:
    sim_ctx_free(&c);
    tc_sim_result_free(c.r);
    return err->code;
}

void tc_sim_result_free(tc_sim_result *r)
{
    if (!r)
        return;
    free(r->hop);
    free(r->step);
    free(r->new_per_hop);
    free(r->principal_hop);
    free(r->package_hop);
    free(r->pred);
    free(r->via);
    free(r->gated_from);
    free(r->principal_source);
    free(r->principal_via);
    free(r->package_publisher);
    free(r);
}

uint64_t tc_sim_gated_from(const tc_sim_result *r, uint64_t local)
{
    if (!r->via || r->hop[local] == TC_HOP_NONE || r->step[local] != TC_STEP_CREDENTIAL ||
        !(r->via[local] & TC_VIA_GATED))
        return TC_PRED_NONE;
    uint64_t lo = 0, hi = r->n_gated_from;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (r->gated_from[2 * mid] < local)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < r->n_gated_from && r->gated_from[2 * lo] == local)
        return r->gated_from[2 * lo + 1];
    return r->pred[local];
}
