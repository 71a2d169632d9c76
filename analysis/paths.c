/*
 * paths.c - distributed attack-path extraction; see paths.h.
 *
 * Invariants of tc_paths_extract:
 *  1. Every rank builds the same query list in every round, because the
 *     list is made only from the targets and from records that every rank
 *     received in earlier rounds.
 *  2. A record has exactly one owner rank, which fills it; every other rank
 *     contributes zeros, so one MPI_SUM allreduce replicates it.
 *  3. Round k requests the entry of hop (target hop - k) of every path that
 *     is still open, plus the off-path workloads that entries of round k-1
 *     name. So a path of h hops takes h + 1 rounds, and all paths share the
 *     rounds: extracting many paths costs as many rounds as the longest.
 *  4. Reasons are computed only from replicated data (records, the hub
 *     layer, the class graph, the policy spec), so they are the same on
 *     every rank and no rank fails alone.
 *
 * The checks made on each entry of a path, numbered as in the messages:
 *  1. the entry's hop is one below the next entry's, and hop 0 has no
 *     predecessor while every other entry has one;
 *  2. network: the predecessor's class reaches the target on an exploitable
 *     service; API: the predecessor has an open API edge to the target;
 *  3. the service is in a base rule between the two segments and the policy
 *     allows it (the deciding rule is an allow, or the default is);
 *  4. credential: the principal was held before the target's hop, it has a
 *     grant of the recorded gating to the target, the workload it was used
 *     from fell before the target and reaches it on the grant's services;
 *  5. credential and supply chain: the principal's source fell at the hop
 *     the principal became held, and the assume chain from the source's
 *     principal follows assume relations of the topology;
 *  6. supply chain: the target installs the package, the package fell at
 *     the target's hop and its publisher may publish it;
 *  7. foothold: the package installed is a foothold package.
 */
#include "paths.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "selector.h"

/* Words of a record, the reply of a workload's owner (invariant 2). */
enum {
    REC_HEADER,        /* 1 (present) | hop << 8 | step << 24 | env << 32 | tier << 40
                          | crown << 48 | internet-facing << 56 */
    REC_TENANT_APP,    /* tenant | app << 32 */
    REC_SEGMENT_PRINCIPAL,
    REC_ACCOUNT_VPC,
    REC_SUBNET_CLASS,
    REC_PRED,
    REC_VIA_VECTOR,    /* via | foothold vector << 32 */
    REC_GATED_FROM,
    REC_EXPLOITABLE,
    REC_API,           /* open API edge to the child: service + 1 | trust << 8, 0 = none */
    REC_GRANT_CP,      /* services of the via principal's control-plane grants to it */
    REC_GRANT_GATED,   /* services of its network-gated grants to it */
    REC_INSTALLS_VIA,  /* 1 when it installs the package in via */
    REC_FIXED_WORDS    /* then one bit per scenario SmartGroup */
};

/* Rounds exchange at most this many words at once, so that MPI counts
 * stay ints. */
#define PATHS_CHUNK_WORDS ((uint64_t)1 << 24)

typedef struct paths_ctx {
    const tc_paths_input *in;
    const tc_topology *t;
    const tc_policy *p;
    const tc_sim_result *r;
    tc_error *err;
    uint32_t group_words;      /* words of SmartGroup bits per record */
    uint32_t words;            /* words per record */
    bool *group_used;          /* per scenario group: named by a rule of the policy */
} paths_ctx;

/* One query of a round: a workload, the next workload of its path (whose
 * API edge from it is wanted), and where the reply goes. */
typedef struct paths_query {
    uint64_t gid, child;
    size_t path;
    bool on_path;
} paths_query;

/* Growing state of one path during extraction. */
typedef struct paths_open {
    uint64_t current, child;   /* next workload to ask for, and its successor */
    uint32_t expect;           /* hop index the next reply fills */
    bool open;
    uint64_t *records;         /* n_hops records, by hop */
    uint64_t *other_records;   /* n_others records */
    uint32_t others_capacity;
} paths_open;

/* ---- records ---- */

static uint32_t foothold_vector(const tc_footholds *f, uint64_t local)
{
    if (!f || !f->workload_vectors)
        return TC_VIA_NONE;
    uint64_t lo = 0, hi = f->n_workloads;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (f->workloads[mid] < local)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < f->n_workloads && f->workloads[lo] == local ? f->workload_vectors[lo]
                                                            : TC_VIA_NONE;
}

static void record_fill(const paths_ctx *c, uint64_t local, uint64_t child, uint64_t *rec)
{
    const tc_topology *t = c->t;
    const tc_sim_result *r = c->r;
    uint8_t step = r->step[local];
    uint32_t via = r->via[local];

    rec[REC_HEADER] = 1 | (uint64_t)r->hop[local] << 8 | (uint64_t)step << 24 |
                      (uint64_t)t->env[local] << 32 | (uint64_t)t->tier[local] << 40 |
                      (uint64_t)t->crown[local] << 48 |
                      (uint64_t)((t->flags[local] & TC_WORKLOAD_INTERNET_FACING) != 0) << 56;
    rec[REC_TENANT_APP] = t->tenant[local] | (uint64_t)t->app[local] << 32;
    rec[REC_SEGMENT_PRINCIPAL] = t->segment[local] | (uint64_t)t->principal[local] << 32;
    rec[REC_ACCOUNT_VPC] = t->account[local] | (uint64_t)t->vpc[local] << 32;
    rec[REC_SUBNET_CLASS] = t->subnet[local] | (uint64_t)c->p->class_of[local] << 32;
    rec[REC_PRED] = r->pred[local];
    rec[REC_VIA_VECTOR] = via | (uint64_t)foothold_vector(c->in->footholds, local) << 32;
    rec[REC_GATED_FROM] = tc_sim_gated_from(r, local);
    rec[REC_EXPLOITABLE] = t->exploitable[local];

    /* The open API edge to the child with the smallest service. */
    rec[REC_API] = 0;
    for (uint64_t e = t->api_offsets[local]; child != TC_PRED_NONE && e < t->api_offsets[local + 1];
         e++) {
        if (t->api_targets[e] != child || !c->p->api_open[e])
            continue;
        uint64_t candidate = (uint64_t)(t->api_service[e] + 1) | (uint64_t)t->api_trust[e] << 8;
        if (rec[REC_API] == 0 || (candidate & 0xff) < (rec[REC_API] & 0xff))
            rec[REC_API] = candidate;
    }

    rec[REC_GRANT_CP] = 0;
    rec[REC_GRANT_GATED] = 0;
    if (r->hop[local] != TC_HOP_NONE && step == TC_STEP_CREDENTIAL) {
        uint32_t q = via & ~TC_VIA_GATED;
        uint64_t end = q < t->principals.count ? t->grant_offsets[q + 1] : 0;
        for (uint64_t g = end ? t->grant_offsets[q] : 0; g < end; g++) {
            if (t->grants[g].target_local != local)
                continue;
            if (t->grants[g].gated)
                rec[REC_GRANT_GATED] |= t->grants[g].services;
            else
                rec[REC_GRANT_CP] |= t->grants[g].services;
        }
    }

    rec[REC_INSTALLS_VIA] = 0;
    if (via != TC_VIA_NONE && (step == TC_STEP_SUPPLY_CHAIN || step == TC_STEP_FOOTHOLD))
        for (uint64_t k = t->install_offsets[local]; k < t->install_offsets[local + 1]; k++)
            if (t->install_packages[k] == via)
                rec[REC_INSTALLS_VIA] = 1;

    uint64_t *groups = rec + REC_FIXED_WORDS;
    memset(groups, 0, c->group_words * sizeof(uint64_t));
    for (size_t g = 0; c->group_used && g < c->in->scenario->n_groups; g++)
        if (c->group_used[g] && tc_selector_match(c->in->scenario->groups[g].selector, t, local))
            groups[g / 64] |= 1ULL << (g % 64);
}

static tc_path_workload record_workload(const uint64_t *rec, uint64_t gid)
{
    uint64_t h = rec[REC_HEADER];
    tc_path_workload w = {
        .id = gid,
        .hop = (uint16_t)(h >> 8),
        .step = (uint8_t)(h >> 24),
        .env = (uint8_t)(h >> 32),
        .tier = (uint8_t)(h >> 40),
        .crown = (uint8_t)(h >> 48),
        .internet_facing = (h >> 56) & 1,
        .tenant = (uint32_t)rec[REC_TENANT_APP],
        .app = (uint32_t)(rec[REC_TENANT_APP] >> 32),
        .segment = (uint32_t)rec[REC_SEGMENT_PRINCIPAL],
        .principal = (uint32_t)(rec[REC_SEGMENT_PRINCIPAL] >> 32),
        .account = (uint32_t)rec[REC_ACCOUNT_VPC],
        .vpc = (uint32_t)(rec[REC_ACCOUNT_VPC] >> 32),
        .subnet = (uint32_t)rec[REC_SUBNET_CLASS],
    };
    return w;
}

static uint32_t record_class(const uint64_t *rec)
{
    return (uint32_t)(rec[REC_SUBNET_CLASS] >> 32);
}

static uint32_t record_via(const uint64_t *rec)
{
    return (uint32_t)rec[REC_VIA_VECTOR];
}

/* Fill RECORDS (N * words) for the queries Q: each owner fills its own,
 * and one SUM allreduce per chunk replicates them (invariant 2).
 * Collective. */
static int paths_lookup(const paths_ctx *c, const paths_query *q, size_t n, uint64_t *records)
{
    const tc_topology *t = c->t;
    memset(records, 0, n * c->words * sizeof(uint64_t));
    for (size_t i = 0; i < n; i++)
        if (tc_topology_owns(t, q[i].gid))
            record_fill(c, q[i].gid - t->first, q[i].child, records + i * c->words);

    uint64_t total = (uint64_t)n * c->words;
    for (uint64_t done = 0; done < total; done += PATHS_CHUNK_WORDS) {
        uint64_t count = total - done < PATHS_CHUNK_WORDS ? total - done : PATHS_CHUNK_WORDS;
        MPI_Allreduce(MPI_IN_PLACE, records + done, (int)count, MPI_UINT64_T, MPI_SUM, t->comm);
    }
    for (size_t i = 0; i < n; i++)
        if (!(records[i * c->words + REC_HEADER] & 1))
            return tc_error_runtime(c->err, "no rank owns workload %llu",
                                    (unsigned long long)q[i].gid);
    return TC_OK;
}

/* ---- reasons ---- */

__attribute__((format(printf, 4, 5)))
static int path_fail(const paths_ctx *c, const tc_path *path, uint32_t hop, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    char name[128];
    tc_topology_workload_name(c->t, path->target, name, sizeof name);
    return tc_error_runtime(c->err, "attack path to %s under policy '%s' does not hold at hop "
                            "%u: %s", name, c->p->spec->name, hop, detail);
}

static bool record_in_group(const paths_ctx *c, const uint64_t *rec, uint32_t group)
{
    if (group == TC_GROUP_ANY)
        return true;
    const uint64_t *groups = rec + REC_FIXED_WORDS;
    return group / 64 < c->group_words && ((groups[group / 64] >> (group % 64)) & 1);
}

/* The policy rule that allows service S from the workload of record U to
 * that of record V, or INT64_MIN when the policy denies it. */
static int64_t policy_rule_for(const paths_ctx *c, const uint64_t *u, const uint64_t *v,
                               unsigned s)
{
    const tc_policy_spec *spec = c->p->spec;
    if (spec->kind == TC_POLICY_LEGACY)
        return TC_PATH_RULE_LEGACY;
    if (spec->kind == TC_POLICY_DERIVED)
        return TC_PATH_RULE_DERIVED;
    for (size_t k = 0; k < spec->n_rules; k++) {
        const tc_rule_spec *rule = &spec->rules[k];
        if (!((rule->services >> s) & 1) || !record_in_group(c, u, rule->from) ||
            !record_in_group(c, v, rule->to))
            continue;
        return rule->allow ? (int64_t)k : INT64_MIN;
    }
    return spec->default_allow ? TC_PATH_RULE_DEFAULT : INT64_MIN;
}

/* Reach reason from record U to record V on the lowest service of
 * reach(U, V) & MASK (checks 2 and 3). */
static int reach_reason(const paths_ctx *c, const tc_path *path, uint32_t hop, const uint64_t *u,
                        const uint64_t *v, tc_svcmask mask, tc_path_reach *out)
{
    const tc_topology *t = c->t;
    tc_svcmask reach = tc_policy_reach(c->p, record_class(u), record_class(v)) & mask;
    if (!reach)
        return path_fail(c, path, hop, "check 2: the class of the source does not reach the "
                         "target on a service of the step");
    unsigned s = (unsigned)__builtin_ctzll(reach);
    uint32_t seg_u = (uint32_t)u[REC_SEGMENT_PRINCIPAL], seg_v = (uint32_t)v[REC_SEGMENT_PRINCIPAL];

    out->service = (uint8_t)s;
    out->base_rule = UINT64_MAX;
    for (uint64_t k = 0; k < t->n_base_rules && out->base_rule == UINT64_MAX; k++)
        if (t->base_rules[k].from_segment == seg_u && t->base_rules[k].to_segment == seg_v &&
            ((t->base_rules[k].services >> s) & 1))
            out->base_rule = k;
    if (out->base_rule == UINT64_MAX)
        return path_fail(c, path, hop, "check 3: no base rule from segment %s to %s allows %s",
                         tc_names_get(&t->segments, seg_u), tc_names_get(&t->segments, seg_v),
                         tc_service_names[s]);
    out->policy_rule = policy_rule_for(c, u, v, s);
    if (out->policy_rule == INT64_MIN)
        return path_fail(c, path, hop, "check 3: the policy denies %s", tc_service_names[s]);
    return TC_OK;
}

/* Record of workload GID among the path's entries and off-path records. */
static const uint64_t *find_record(const paths_ctx *c, const tc_path *path,
                                   const paths_open *o, uint64_t gid)
{
    for (uint32_t k = 0; k < path->n_hops; k++)
        if (path->hops[k].workload.id == gid)
            return o->records + (size_t)k * c->words;
    for (uint32_t k = 0; k < path->n_others; k++)
        if (path->others[k].id == gid)
            return o->other_records + (size_t)k * c->words;
    return NULL;
}

/* The assume chain that gave principal Q, from its source's principal
 * (check 5). */
static int principal_reason(const paths_ctx *c, const tc_path *path, const paths_open *o,
                            uint32_t hop, uint32_t q, tc_path_hop *entry)
{
    const tc_topology *t = c->t;
    const tc_sim_result *r = c->r;
    uint32_t np = t->principals.count;

    entry->principal = q;
    entry->principal_source = r->principal_source[q];
    uint32_t n = 1;
    for (uint32_t x = q; r->principal_via[x] != TC_VIA_NONE && n <= np; x = r->principal_via[x])
        n++;
    if (n > np)
        return path_fail(c, path, hop, "check 5: the assume chain of principal %s loops",
                         tc_names_get(&t->principals, q));
    entry->assume_chain = malloc(n * sizeof(uint32_t));
    if (!entry->assume_chain)
        return tc_error_runtime(c->err, "out of memory for an attack path");
    entry->n_assume_chain = n;
    uint32_t x = q;
    for (uint32_t k = n; k-- > 0; x = r->principal_via[x])
        entry->assume_chain[k] = x;

    for (uint32_t k = 0; k + 1 < n; k++) {
        uint32_t a = entry->assume_chain[k], b = entry->assume_chain[k + 1];
        bool found = false;
        for (uint64_t j = t->assume_offsets[a]; j < t->assume_offsets[a + 1] && !found; j++)
            found = t->assumes[j] == b;
        if (!found)
            return path_fail(c, path, hop, "check 5: principal %s cannot assume %s",
                             tc_names_get(&t->principals, a), tc_names_get(&t->principals, b));
    }

    const uint64_t *source = find_record(c, path, o, entry->principal_source);
    if (!source)
        return path_fail(c, path, hop, "check 5: the source of principal %s is unknown",
                         tc_names_get(&t->principals, q));
    tc_path_workload w = record_workload(source, entry->principal_source);
    if (w.hop != r->principal_hop[q] || w.principal != entry->assume_chain[0])
        return path_fail(c, path, hop, "check 5: workload %llu, the source of principal %s, "
                         "fell at hop %d running as %s, but the principal was held at hop %d",
                         (unsigned long long)w.id, tc_names_get(&t->principals, q),
                         w.hop == TC_HOP_NONE ? -1 : w.hop,
                         tc_names_get(&t->principals, w.principal),
                         r->principal_hop[q] == TC_HOP_NONE ? -1 : r->principal_hop[q]);
    return TC_OK;
}

static int credential_reason(const paths_ctx *c, const tc_path *path, const paths_open *o,
                             uint32_t hop, const uint64_t *v, tc_path_hop *entry)
{
    const tc_topology *t = c->t;
    const tc_sim_result *r = c->r;
    uint32_t via = record_via(v), q = via & ~TC_VIA_GATED;

    if (q >= t->principals.count || r->principal_hop[q] == TC_HOP_NONE ||
        r->principal_hop[q] >= hop)
        return path_fail(c, path, hop, "check 4: principal %u was not held before hop %u", q,
                         hop);
    entry->gated = (via & TC_VIA_GATED) != 0;
    entry->grant_services = entry->gated ? v[REC_GRANT_GATED] : v[REC_GRANT_CP];
    if (!entry->grant_services)
        return path_fail(c, path, hop, "check 4: principal %s has no %s grant to the target",
                         tc_names_get(&t->principals, q),
                         entry->gated ? "network-gated" : "control-plane");
    if (principal_reason(c, path, o, hop, q, entry) != TC_OK)
        return c->err->code;

    uint64_t from = entry->from;
    bool from_source = from == entry->principal_source && r->principal_hop[q] == hop - 1;
    if (!entry->gated) {
        if (!from_source)
            return path_fail(c, path, hop, "check 4: the predecessor is not the source of "
                             "principal %s", tc_names_get(&t->principals, q));
        return TC_OK;
    }

    entry->used_from = v[REC_GATED_FROM];
    const uint64_t *w = find_record(c, path, o, entry->used_from);
    if (!w)
        return path_fail(c, path, hop, "check 4: the workload the grant was used from is "
                         "unknown");
    uint16_t w_hop = (uint16_t)(w[REC_HEADER] >> 8);
    if (w_hop == TC_HOP_NONE || w_hop >= hop)
        return path_fail(c, path, hop, "check 4: workload %llu, which the grant was used from, "
                         "did not fall before hop %u", (unsigned long long)entry->used_from, hop);
    if (!from_source && entry->used_from != from)
        return path_fail(c, path, hop, "check 4: the predecessor is neither the source of "
                         "principal %s nor the workload the grant was used from",
                         tc_names_get(&t->principals, q));
    return reach_reason(c, path, hop, w, v, entry->grant_services, &entry->reach);
}

static int supply_reason(const paths_ctx *c, const tc_path *path, const paths_open *o,
                         uint32_t hop, const uint64_t *v, tc_path_hop *entry)
{
    const tc_topology *t = c->t;
    const tc_sim_result *r = c->r;
    uint32_t k = record_via(v);

    if (k >= t->packages.count || !v[REC_INSTALLS_VIA])
        return path_fail(c, path, hop, "check 6: the target does not install package %u", k);
    if (r->package_hop[k] != hop)
        return path_fail(c, path, hop, "check 6: package %s was not compromised at hop %u",
                         tc_names_get(&t->packages, k), hop);
    entry->package = k;
    uint32_t q = r->package_publisher[k];
    bool publishes = false;
    for (uint64_t j = q < t->principals.count ? t->publish_offsets[q] : 0;
         q < t->principals.count && j < t->publish_offsets[q + 1] && !publishes; j++)
        publishes = t->publishes[j] == k;
    if (!publishes || r->principal_hop[q] != hop - 1)
        return path_fail(c, path, hop, "check 6: package %s has no publisher held at hop %u",
                         tc_names_get(&t->packages, k), hop - 1);
    if (principal_reason(c, path, o, hop, q, entry) != TC_OK)
        return c->err->code;
    if (entry->principal_source != entry->from)
        return path_fail(c, path, hop, "check 6: the predecessor is not the source of "
                         "publisher %s", tc_names_get(&t->principals, q));
    return TC_OK;
}

static int foothold_reason(const paths_ctx *c, const tc_path *path, const uint64_t *v,
                           tc_path_hop *entry)
{
    const tc_footholds *f = c->in->footholds;
    uint32_t k = record_via(v);
    entry->package = k;
    entry->vector = (uint32_t)(v[REC_VIA_VECTOR] >> 32);
    if (k == TC_VIA_NONE)
        return TC_OK;
    if (k >= c->t->packages.count || !v[REC_INSTALLS_VIA] || c->r->package_hop[k] != 0)
        return path_fail(c, path, 0, "check 7: package %u is not a foothold package it "
                         "installs", k);
    entry->vector = TC_VIA_NONE;
    for (size_t i = 0; f && f->vector_packages && i < c->in->scenario->n_vectors; i++)
        if (f->vector_packages[i] == k) {
            entry->vector = (uint32_t)i;
            break;
        }
    return TC_OK;
}

/* Reasons of every entry of PATH, from the records in O. */
static int path_reasons(const paths_ctx *c, tc_path *path, const paths_open *o)
{
    for (uint32_t h = 0; h < path->n_hops; h++) {
        tc_path_hop *entry = &path->hops[h];
        const uint64_t *v = o->records + (size_t)h * c->words;
        entry->principal = TC_VIA_NONE;
        entry->principal_source = TC_PRED_NONE;
        entry->used_from = TC_PRED_NONE;
        entry->package = TC_VIA_NONE;
        entry->vector = TC_VIA_NONE;

        if (h == 0) {
            if (entry->workload.step != TC_STEP_FOOTHOLD || entry->from != TC_PRED_NONE)
                return path_fail(c, path, h, "check 1: the first entry is not a foothold");
            if (foothold_reason(c, path, v, entry) != TC_OK)
                return c->err->code;
            continue;
        }
        if (entry->from != path->hops[h - 1].workload.id)
            return path_fail(c, path, h, "check 1: the predecessor is not the previous entry");

        const uint64_t *u = o->records + (size_t)(h - 1) * c->words;
        int status = TC_OK;
        switch (entry->workload.step) {
        case TC_STEP_NETWORK:
            status = reach_reason(c, path, h, u, v, v[REC_EXPLOITABLE], &entry->reach);
            break;
        case TC_STEP_API:
            if (u[REC_API] == 0)
                return path_fail(c, path, h, "check 2: the predecessor has no open API edge "
                                 "to the target");
            entry->trust = (uint8_t)(u[REC_API] >> 8);
            status = reach_reason(c, path, h, u, v,
                                  (tc_svcmask)1 << ((u[REC_API] & 0xff) - 1), &entry->reach);
            break;
        case TC_STEP_CREDENTIAL:
            status = credential_reason(c, path, o, h, v, entry);
            break;
        case TC_STEP_SUPPLY_CHAIN:
            status = supply_reason(c, path, o, h, v, entry);
            break;
        default:
            return path_fail(c, path, h, "check 1: a foothold after hop 0");
        }
        if (status != TC_OK)
            return status;
    }
    return TC_OK;
}

/* ---- extraction ---- */

static int paths_ctx_init(paths_ctx *c, const tc_paths_input *in, tc_error *err)
{
    memset(c, 0, sizeof *c);
    c->in = in;
    c->t = in->topology;
    c->p = in->policy;
    c->r = in->result;
    c->err = err;

    const tc_scenario *sc = in->scenario;
    const tc_policy_spec *spec = in->policy->spec;
    if (spec->kind == TC_POLICY_RULES && sc->n_groups > 0) {
        c->group_words = (uint32_t)((sc->n_groups + 63) / 64);
        c->group_used = calloc(sc->n_groups, sizeof(bool));
        if (!c->group_used)
            return tc_error_runtime(err, "out of memory for attack paths");
        /* Policy compilation bound the selectors of exactly these groups. */
        for (size_t k = 0; k < spec->n_rules; k++) {
            if (spec->rules[k].from != TC_GROUP_ANY)
                c->group_used[spec->rules[k].from] = true;
            if (spec->rules[k].to != TC_GROUP_ANY)
                c->group_used[spec->rules[k].to] = true;
        }
    }
    c->words = REC_FIXED_WORDS + c->group_words;
    return TC_OK;
}

static int path_add_other(const paths_ctx *c, tc_path *path, paths_open *o, uint64_t gid,
                          const uint64_t *rec)
{
    if (find_record(c, path, o, gid))
        return TC_OK;
    if (path->n_others == o->others_capacity) {
        uint32_t capacity = o->others_capacity ? 2 * o->others_capacity : 4;
        tc_path_workload *w = realloc(path->others, capacity * sizeof *w);
        if (w)
            path->others = w;
        uint64_t *records = realloc(o->other_records, (size_t)capacity * c->words * 8);
        if (records)
            o->other_records = records;
        if (!w || !records)
            return tc_error_runtime(c->err, "out of memory for an attack path");
        o->others_capacity = capacity;
    }
    path->others[path->n_others] = record_workload(rec, gid);
    memcpy(o->other_records + (size_t)path->n_others * c->words, rec, c->words * 8);
    path->n_others++;
    return TC_OK;
}

/* Take the reply REC for the open entry of PATH: store it, then either
 * close the path at its foothold or move one hop back, and queue the
 * off-path workloads the entry names into NEED (2 slots per path). */
static int path_take_reply(const paths_ctx *c, tc_path *path, paths_open *o, const uint64_t *rec,
                           uint64_t *need)
{
    const tc_sim_result *r = c->r;
    tc_path_workload w = record_workload(rec, o->current);
    uint64_t pred = rec[REC_PRED];

    if (o->child == TC_PRED_NONE) {
        path->target_workload = w;
        if (w.hop == TC_HOP_NONE) {
            o->open = false;
            return TC_OK;
        }
        path->reached = true;
        path->n_hops = (uint32_t)w.hop + 1;
        path->hops = calloc(path->n_hops, sizeof *path->hops);
        o->records = malloc((size_t)path->n_hops * c->words * 8);
        if (!path->hops || !o->records)
            return tc_error_runtime(c->err, "out of memory for an attack path");
        for (uint32_t k = 0; k < path->n_hops; k++)
            path->hops[k].workload.id = TC_PRED_NONE; /* not filled yet, for find_record */
        o->expect = w.hop;
    } else if (w.hop != o->expect) {
        return path_fail(c, path, o->expect + 1, "check 1: the predecessor fell at hop %d",
                         w.hop == TC_HOP_NONE ? -1 : w.hop);
    }

    tc_path_hop *entry = &path->hops[o->expect];
    entry->workload = w;
    entry->from = pred;
    memcpy(o->records + (size_t)o->expect * c->words, rec, c->words * 8);
    if (o->expect == 0) {
        if (pred != TC_PRED_NONE)
            return path_fail(c, path, 0, "check 1: hop 0 has a predecessor");
        o->open = false;
        return TC_OK;
    }
    if (pred == TC_PRED_NONE)
        return path_fail(c, path, o->expect, "check 1: no predecessor");

    uint32_t via = record_via(rec);
    if (w.step == TC_STEP_CREDENTIAL) {
        uint32_t q = via & ~TC_VIA_GATED;
        if (q < c->t->principals.count && r->principal_source[q] != pred)
            need[0] = r->principal_source[q];
        if (rec[REC_GATED_FROM] != pred)
            need[1] = rec[REC_GATED_FROM];
    } else if (w.step == TC_STEP_SUPPLY_CHAIN && via < c->t->packages.count) {
        uint32_t q = r->package_publisher[via];
        if (q < c->t->principals.count && r->principal_source[q] != pred)
            need[0] = r->principal_source[q];
    }
    o->child = o->current;
    o->current = pred;
    o->expect--;
    return TC_OK;
}

static int paths_rounds(const paths_ctx *c, tc_path *paths, paths_open *open, size_t n)
{
    int status = TC_OK;
    uint64_t *need = malloc((2 * n + 1) * sizeof(uint64_t));
    paths_query *queries = malloc((3 * n + 1) * sizeof *queries);
    uint64_t *records = malloc((3 * n + 1) * c->words * sizeof(uint64_t));
    if (!need || !queries || !records)
        tc_error_runtime(c->err, "out of memory for attack paths");
    status = tc_error_agree(c->err, c->t->comm);
    for (size_t i = 0; i < 2 * n && status == TC_OK; i++)
        need[i] = TC_PRED_NONE;

    /* Invariant 3: each round requests the open entries and the off-path
     * workloads named in the previous round. */
    while (status == TC_OK) {
        size_t nq = 0;
        for (size_t i = 0; i < n; i++) {
            if (open[i].open)
                queries[nq++] = (paths_query){ open[i].current, open[i].child, i, true };
            for (int k = 0; k < 2; k++)
                if (need[2 * i + k] != TC_PRED_NONE) {
                    queries[nq++] = (paths_query){ need[2 * i + k], TC_PRED_NONE, i, false };
                    need[2 * i + k] = TC_PRED_NONE;
                }
        }
        if (nq == 0)
            break;
        if (paths_lookup(c, queries, nq, records) != TC_OK) {
            status = c->err->code;
            break;
        }
        for (size_t k = 0; k < nq && status == TC_OK; k++) {
            const uint64_t *rec = records + k * c->words;
            size_t i = queries[k].path;
            if (queries[k].on_path)
                status = path_take_reply(c, &paths[i], &open[i], rec, need + 2 * i);
            else
                status = path_add_other(c, &paths[i], &open[i], queries[k].gid, rec);
        }
        /* Only running out of memory can differ between ranks. */
        status = tc_error_agree(c->err, c->t->comm);
    }
    for (size_t i = 0; i < n && status == TC_OK; i++)
        if (paths[i].reached)
            status = path_reasons(c, &paths[i], &open[i]);

    free(need);
    free(queries);
    free(records);
    return status;
}

int tc_paths_extract(const tc_paths_input *in, const uint64_t *targets, size_t n_targets,
                     tc_path **out, tc_error *err)
{
    *out = NULL;
    const tc_topology *t = in->topology;
    paths_ctx c;
    tc_path *paths = NULL;
    paths_open *open = NULL;

    if (!in->result->pred)
        return tc_error_input(err, NULL, 0, 0, NULL, "attack paths need a run that records "
                              "predecessors (tc_sim_options.record_predecessors)");
    for (size_t i = 0; i < n_targets; i++)
        if (targets[i] >= t->n_workloads)
            return tc_error_input(err, NULL, 0, 0, NULL, "workload %llu is out of range: the "
                                  "topology has %llu workloads",
                                  (unsigned long long)targets[i],
                                  (unsigned long long)t->n_workloads);

    if (paths_ctx_init(&c, in, err) == TC_OK) {
        paths = calloc(n_targets + 1, sizeof *paths);
        open = calloc(n_targets + 1, sizeof *open);
        if (!paths || !open)
            tc_error_runtime(err, "out of memory for attack paths");
    }
    if (tc_error_agree(err, t->comm) == TC_OK) {
        for (size_t i = 0; i < n_targets; i++) {
            paths[i].target = targets[i];
            open[i] = (paths_open){ .current = targets[i], .child = TC_PRED_NONE, .open = true };
        }
        paths_rounds(&c, paths, open, n_targets);
    }

    /* Every rank computed the same thing (invariant 4); agreeing costs one
     * allreduce and keeps a rank that ran out of memory from leaving. */
    tc_error_agree(err, t->comm);
    for (size_t i = 0; open && i < n_targets; i++) {
        free(open[i].records);
        free(open[i].other_records);
    }
    free(open);
    free(c.group_used);
    if (err->code != TC_OK) {
        tc_paths_free(paths, paths ? n_targets : 0);
        return err->code;
    }
    *out = paths;
    return TC_OK;
}

void tc_paths_free(tc_path *paths, size_t n)
{
    if (!paths)
        return;
    for (size_t i = 0; i < n; i++) {
        for (uint32_t h = 0; h < paths[i].n_hops; h++)
            free(paths[i].hops[h].assume_chain);
        free(paths[i].hops);
        free(paths[i].others);
    }
    free(paths);
}

/* ---- crown jewels ---- */

static int compare_hop_id(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

int tc_paths_crown_targets(const tc_paths_input *in, uint8_t crown_kinds, uint32_t max,
                           uint64_t **targets, size_t *n_targets, tc_error *err)
{
    const tc_topology *t = in->topology;
    const tc_sim_result *r = in->result;
    uint64_t *pairs = malloc((t->n_local + 1) * 2 * sizeof(uint64_t));
    uint64_t *all = NULL, n_all = 0, n = 0;
    *targets = NULL;
    *n_targets = 0;

    if (!pairs)
        tc_error_runtime(err, "out of memory choosing crown jewels");
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto release;
    for (uint64_t i = 0; i < t->n_local; i++) {
        uint8_t crown = t->crown[i];
        if (r->hop[i] == TC_HOP_NONE || crown == TC_CROWN_NONE || !((crown_kinds >> crown) & 1))
            continue;
        /* Footholds sort last: a path of length 0 explains nothing. */
        pairs[2 * n] = r->hop[i] == 0 ? UINT64_MAX : r->hop[i];
        pairs[2 * n + 1] = t->first + i;
        n++;
    }

    /* A rank's MAX first pairs are all it can add to the global MAX first. */
    qsort(pairs, n, 2 * sizeof(uint64_t), compare_hop_id);
    if (n > max)
        n = max;
    if (tc_exchange_allgather_u64(t->comm, pairs, 2 * n, &all, &n_all, err) != TC_OK)
        goto release;
    qsort(all, n_all / 2, 2 * sizeof(uint64_t), compare_hop_id);
    size_t take = n_all / 2 < max ? n_all / 2 : max;
    *targets = malloc((take + 1) * sizeof(uint64_t));
    if (!*targets)
        tc_error_runtime(err, "out of memory choosing crown jewels");
    for (size_t k = 0; *targets && k < take; k++)
        (*targets)[k] = all[2 * k + 1];
    *n_targets = *targets ? take : 0;

release:
    free(pairs);
    free(all);
    if (tc_error_agree(err, t->comm) != TC_OK) {
        free(*targets);
        *targets = NULL;
        *n_targets = 0;
    }
    return err->code;
}

int tc_paths_run_json(const tc_paths_input *in, uint32_t max_paths, json_t **out, tc_error *err)
{
    uint64_t *targets = NULL;
    size_t n = 0;
    tc_path *paths = NULL;
    *out = NULL;

    if (tc_paths_crown_targets(in, in->scenario->crown_kinds, max_paths, &targets, &n, err) !=
        TC_OK)
        return err->code;
    if (tc_paths_extract(in, targets, n, &paths, err) != TC_OK) {
        free(targets);
        return err->code;
    }

    if (in->topology->rank == 0) {
        json_t *array = json_array();
        for (size_t i = 0; array && i < n; i++)
            if (json_array_append_new(array, tc_path_to_json(in, &paths[i])) != 0) {
                json_decref(array);
                array = NULL;
            }
        if (!array)
            tc_error_runtime(err, "out of memory writing attack paths");
        *out = array;
    }
    tc_paths_free(paths, n);
    free(targets);
    if (tc_error_agree(err, in->topology->comm) != TC_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return err->code;
}
