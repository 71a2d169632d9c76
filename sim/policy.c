/*
 * policy.c - policy compilation into classes; see policy.h.
 *
 * Steps (collective where marked):
 *  1. signature of every owned workload (local): legacy has one signature;
 *     a rules policy has the bitset of SmartGroups its rules name that the
 *     workload matches; a derived policy has the workload's attribute tuple
 *     at the policy's granularity.
 *  2. classes (collective): distinct (segment, signature) keys are gathered
 *     from every rank, sorted and numbered, so ids do not depend on the
 *     rank count; classes of one segment are contiguous.
 *  3. derived only (collective): the allow table, one service mask per
 *     (signature, signature) pair that carries a legitimate flow.
 *  4. class graph (replicated): for each base-rule segment pair, each class
 *     pair gets base & policy; nonzero masks are stored.
 *  5. API edges and legitimate flows (collective): whether each API edge of
 *     an owned caller is open, and how many flows the policy breaks.
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "keymap.h"
#include "selector.h"

/* Reject class graphs past this many class pairs: about 1.6 GiB per rank
 * of (target, mask) entries. */
#define POLICY_MAX_CLASS_PAIRS 100000000ULL

typedef struct policy_ctx {
    const tc_scenario *scenario;
    const tc_policy_spec *spec;
    const tc_topology *t;
    tc_policy *p;
    tc_error *err;

    uint32_t sig_words;        /* words per signature */
    uint32_t *group_bit_of;    /* rules: scenario group index -> bit, UINT32_MAX unused */
    uint32_t n_used_groups;
    uint32_t *used_groups;     /* rules: bit -> scenario group index */

    uint64_t *class_keys;      /* n_classes * (1 + sig_words), sorted */
    uint32_t *class_sig;       /* per class: signature id */
    uint32_t n_sigs;
    uint64_t *sig_keys;        /* n_sigs * sig_words */
    tc_svcmask *pol_matrix;    /* rules: n_sigs * n_sigs when small, else NULL */
    tc_keymap allow;           /* derived: (sig, sig) -> mask */
    int allow_ready;

    tc_base_rule *base;        /* aggregated per segment pair, sorted */
    uint64_t n_base;
    uint64_t *base_rows;       /* base pairs from segment s: [base_rows[s], base_rows[s+1]) */
    uint64_t *segment_classes; /* classes of each segment: [off[s], off[s+1]) */

    uint32_t *api_target_class; /* per API edge of owned callers */

    /* (principal, member class, count) over all ranks, sorted. */
    uint64_t *member_hist;
    uint64_t n_member_hist;
    uint64_t *member_hist_offsets; /* principals + 1 */
} policy_ctx;

static uint64_t attr_value(const tc_topology *t, uint64_t i, int attr)
{
    switch (attr) {
    case TC_ATTR_TENANT: return t->tenant[i];
    case TC_ATTR_ACCOUNT: return t->account[i];
    case TC_ATTR_VPC: return t->vpc[i];
    case TC_ATTR_SUBNET: return t->subnet[i];
    case TC_ATTR_SEGMENT: return t->segment[i];
    case TC_ATTR_APP: return t->app[i];
    case TC_ATTR_PRINCIPAL: return t->principal[i];
    case TC_ATTR_ENV: return t->env[i];
    case TC_ATTR_TIER: return t->tier[i];
    case TC_ATTR_CROWN: return t->crown[i];
    case TC_ATTR_INTERNET_FACING: return (t->flags[i] & TC_WORKLOAD_INTERNET_FACING) != 0;
    default: return 0;
    }
}

static int compare_words(const void *a, const void *b, void *words)
{
    const uint64_t *x = a, *y = b;
    uint32_t n = *(const uint32_t *)words;
    for (uint32_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

/* Index of KEY in the sorted array KEYS of N keys of KW words; the key
 * must be present. */
static uint64_t find_words(const uint64_t *key, const uint64_t *keys, uint64_t n, uint32_t kw)
{
    uint64_t lo = 0, hi = n;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (compare_words(keys + mid * kw, key, &kw) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* ---- step 1: signatures ---- */

static int policy_bind_groups(policy_ctx *c)
{
    const tc_scenario *sc = c->scenario;
    const tc_policy_spec *spec = c->spec;
    c->group_bit_of = malloc((sc->n_groups ? sc->n_groups : 1) * sizeof(uint32_t));
    c->used_groups = malloc((sc->n_groups ? sc->n_groups : 1) * sizeof(uint32_t));
    if (!c->group_bit_of || !c->used_groups)
        return tc_error_runtime(c->err, "out of memory compiling policy '%s'", spec->name);
    for (size_t g = 0; g < sc->n_groups; g++)
        c->group_bit_of[g] = UINT32_MAX;

    for (size_t r = 0; r < spec->n_rules; r++) {
        uint32_t ends[2] = { spec->rules[r].from, spec->rules[r].to };
        for (int e = 0; e < 2; e++) {
            uint32_t g = ends[e];
            if (g == TC_GROUP_ANY || c->group_bit_of[g] != UINT32_MAX)
                continue;
            tc_group_spec *group = &sc->groups[g];
            tc_error local;
            tc_error_clear(&local);
            if (tc_selector_bind(group->selector, c->t, &local) != TC_OK) {
                char key[160];
                snprintf(key, sizeof key, "smartgroups.%s", group->name);
                return tc_error_input(c->err, sc->path, group->line, group->column, key,
                                      "%s", local.message);
            }
            c->group_bit_of[g] = c->n_used_groups;
            c->used_groups[c->n_used_groups++] = (uint32_t)g;
        }
    }
    return TC_OK;
}

/* Fill SIG (n_local * sig_words) with each owned workload's signature. */
static int policy_signatures(policy_ctx *c, uint64_t **sig_out)
{
    const tc_topology *t = c->t;
    const tc_policy_spec *spec = c->spec;

    if (spec->kind == TC_POLICY_RULES) {
        if (policy_bind_groups(c) != TC_OK)
            return c->err->code;
        c->sig_words = c->n_used_groups ? (c->n_used_groups + 63) / 64 : 1;
    } else if (spec->kind == TC_POLICY_DERIVED) {
        /* No attribute: one group of every workload. */
        c->sig_words = spec->n_granularity ? (uint32_t)spec->n_granularity : 1;
    } else {
        c->sig_words = 1;
    }

    uint64_t *sig = calloc((t->n_local ? t->n_local : 1) * c->sig_words, sizeof *sig);
    if (!sig)
        return tc_error_runtime(c->err, "out of memory compiling policy '%s'", spec->name);

    for (uint64_t i = 0; i < t->n_local; i++) {
        uint64_t *s = sig + i * c->sig_words;
        if (spec->kind == TC_POLICY_RULES) {
            for (uint32_t b = 0; b < c->n_used_groups; b++) {
                const tc_group_spec *g = &c->scenario->groups[c->used_groups[b]];
                if (tc_selector_match(g->selector, t, i))
                    s[b / 64] |= 1ULL << (b % 64);
            }
        } else if (spec->kind == TC_POLICY_DERIVED) {
            for (uint32_t j = 0; j < spec->n_granularity; j++)
                s[j] = attr_value(t, i, spec->granularity[j]);
        }
    }
    *sig_out = sig;
    return TC_OK;
}

/* ---- step 2: classes ---- */

static int policy_classes(policy_ctx *c, const uint64_t *sig)
{
    const tc_topology *t = c->t;
    tc_policy *p = c->p;
    uint32_t kw = c->sig_words + 1;
    tc_keymap local;
    uint32_t *local_class = malloc((t->n_local ? t->n_local : 1) * sizeof(uint32_t));
    uint64_t *key = malloc(kw * sizeof(uint64_t));
    uint64_t *all = NULL, n_all = 0;
    int status = TC_OK;

    int local_ready = tc_keymap_init(&local, kw) == 0;
    if (!local_class || !key || !local_ready)
        status = tc_error_runtime(c->err, "out of memory finding classes");

    for (uint64_t i = 0; i < t->n_local && status == TC_OK; i++) {
        key[0] = t->segment[i];
        memcpy(key + 1, sig + i * c->sig_words, c->sig_words * sizeof(uint64_t));
        local_class[i] = tc_keymap_intern(&local, key);
        if (local_class[i] == UINT32_MAX)
            status = tc_error_runtime(c->err, "out of memory finding classes");
    }
    if (tc_error_agree(c->err, t->comm) != TC_OK)
        goto release;

    status = tc_exchange_allgather_u64(t->comm, local.keys, (uint64_t)local.count * kw, &all,
                                       &n_all, c->err);
    if (tc_error_agree(c->err, t->comm) != TC_OK)
        goto release;

    /* Sort and deduplicate the union: the same on every rank. */
    uint64_t n_keys = n_all / kw;
    qsort_r(all, n_keys, kw * sizeof(uint64_t), compare_words, &kw);
    uint64_t n_unique = 0;
    for (uint64_t k = 0; k < n_keys; k++) {
        if (n_unique > 0 && compare_words(all + (n_unique - 1) * kw, all + k * kw, &kw) == 0)
            continue;
        memmove(all + n_unique * kw, all + k * kw, kw * sizeof(uint64_t));
        n_unique++;
    }
    if (n_unique >= UINT32_MAX) {
        status = tc_error_runtime(c->err, "policy '%s' has %llu classes, more than 2^32-1",
                                  c->spec->name, (unsigned long long)n_unique);
        goto release;
    }
    p->n_classes = (uint32_t)n_unique;
    c->class_keys = all;
    all = NULL;

    /* Global id of each local class, then of each workload. */
    uint32_t *global_of_local = malloc((local.count ? local.count : 1) * sizeof(uint32_t));
    p->class_of = malloc((t->n_local ? t->n_local : 1) * sizeof(uint32_t));
    p->class_segment = malloc((p->n_classes ? p->n_classes : 1) * sizeof(uint32_t));
    c->class_sig = malloc((p->n_classes ? p->n_classes : 1) * sizeof(uint32_t));
    if (!global_of_local || !p->class_of || !p->class_segment || !c->class_sig) {
        free(global_of_local);
        status = tc_error_runtime(c->err, "out of memory numbering classes");
        goto release;
    }
    for (uint32_t lc = 0; lc < local.count; lc++) {
        const uint64_t *k = tc_keymap_key(&local, lc);
        global_of_local[lc] = (uint32_t)find_words(k, c->class_keys, p->n_classes, kw);
    }
    for (uint64_t i = 0; i < t->n_local; i++)
        p->class_of[i] = global_of_local[local_class[i]];
    free(global_of_local);

    /* Signature ids in class order, so they are rank-count independent. */
    tc_keymap sigs;
    if (tc_keymap_init(&sigs, c->sig_words) != 0) {
        status = tc_error_runtime(c->err, "out of memory numbering signatures");
        goto release;
    }
    for (uint32_t k = 0; k < p->n_classes; k++) {
        p->class_segment[k] = (uint32_t)c->class_keys[(uint64_t)k * kw];
        c->class_sig[k] = tc_keymap_intern(&sigs, c->class_keys + (uint64_t)k * kw + 1);
        if (c->class_sig[k] == UINT32_MAX)
            status = tc_error_runtime(c->err, "out of memory numbering signatures");
    }
    c->n_sigs = sigs.count;
    c->sig_keys = sigs.keys;
    sigs.keys = NULL;
    tc_keymap_free(&sigs);

release:
    if (local_ready)
        tc_keymap_free(&local);
    free(local_class);
    free(key);
    free(all);
    return tc_error_agree(c->err, t->comm);
}

/* ---- flows need the classes of remote API targets and of principals' members ---- */

/* Gather the (principal, class, members) histogram from every rank, merge
 * equal keys and index it by principal. */
static int policy_member_histogram(policy_ctx *c)
{
    const tc_topology *t = c->t;
    tc_keymap hist;
    uint64_t *flat = NULL, *all = NULL, n_all = 0;
    int status = TC_OK;

    if (tc_keymap_init(&hist, 2) != 0)
        status = tc_error_runtime(c->err, "out of memory for the member histogram");
    for (uint64_t i = 0; status == TC_OK && i < t->n_local; i++) {
        uint64_t key[2] = { t->principal[i], c->p->class_of[i] };
        uint32_t id = tc_keymap_intern(&hist, key);
        if (id == UINT32_MAX)
            status = tc_error_runtime(c->err, "out of memory for the member histogram");
        else
            hist.values[id]++;
    }
    uint64_t n_flat = status == TC_OK ? (uint64_t)hist.count * 3 : 0;
    if (status == TC_OK) {
        flat = malloc((n_flat + 1) * sizeof(uint64_t));
        if (!flat)
            status = tc_error_runtime(c->err, "out of memory for the member histogram");
    }
    for (uint32_t k = 0; flat && k < hist.count; k++) {
        flat[3 * k] = tc_keymap_key(&hist, k)[0];
        flat[3 * k + 1] = tc_keymap_key(&hist, k)[1];
        flat[3 * k + 2] = hist.values[k];
    }
    tc_keymap_free(&hist);
    if (tc_error_agree(c->err, t->comm) != TC_OK)
        goto release;

    if (tc_exchange_allgather_u64(t->comm, flat, n_flat, &all, &n_all, c->err) != TC_OK)
        goto release;

    /* Sort by (principal, class) and add up the counts of equal keys. */
    uint32_t two = 2;
    uint64_t n_entries = n_all / 3, n_unique = 0;
    qsort_r(all, n_entries, 3 * sizeof(uint64_t), compare_words, &two);
    for (uint64_t k = 0; k < n_entries; k++) {
        uint64_t *e = all + 3 * k;
        if (n_unique > 0 && compare_words(all + 3 * (n_unique - 1), e, &two) == 0) {
            all[3 * (n_unique - 1) + 2] += e[2];
            continue;
        }
        memmove(all + 3 * n_unique, e, 3 * sizeof(uint64_t));
        n_unique++;
    }
    c->member_hist = all;
    c->n_member_hist = n_unique;
    all = NULL;

    c->member_hist_offsets = calloc((size_t)t->principals.count + 1, sizeof(uint64_t));
    if (!c->member_hist_offsets) {
        status = tc_error_runtime(c->err, "out of memory for the member histogram");
        goto release;
    }
    for (uint64_t k = 0; k < n_unique; k++)
        c->member_hist_offsets[c->member_hist[3 * k] + 1]++;
    for (uint32_t q = 0; q < t->principals.count; q++)
        c->member_hist_offsets[q + 1] += c->member_hist_offsets[q];

release:
    free(flat);
    free(all);
    (void)status;
    return tc_error_agree(c->err, t->comm);
}

static int policy_flow_inputs(policy_ctx *c)
{
    const tc_topology *t = c->t;
    uint64_t n_edges = t->api_offsets[t->n_local];

    c->api_target_class = malloc((n_edges ? n_edges : 1) * sizeof(uint32_t));
    if (!c->api_target_class)
        tc_error_runtime(c->err, "out of memory for API edges");
    if (tc_error_agree(c->err, t->comm) != TC_OK)
        return c->err->code;
    tc_exchange_lookup_u32(t->comm, t->owner_offsets, t->api_targets, n_edges, c->p->class_of,
                           c->api_target_class, c->err);
    if (tc_error_agree(c->err, t->comm) != TC_OK)
        return c->err->code;
    return policy_member_histogram(c);
}

/* ---- step 3: the allow table of a derived policy ---- */

static int allow_add(tc_keymap *m, uint32_t sig_a, uint32_t sig_b, tc_svcmask mask)
{
    uint64_t key[2] = { sig_a, sig_b };
    uint32_t id = tc_keymap_intern(m, key);
    if (id == UINT32_MAX)
        return -1;
    m->values[id] |= mask;
    return 0;
}

static int policy_derive_allow(policy_ctx *c)
{
    const tc_topology *t = c->t;
    const tc_policy *p = c->p;
    tc_keymap local;
    uint64_t *flat = NULL, *all = NULL, n_all = 0;
    int status = TC_OK;

    if (tc_keymap_init(&local, 2) != 0 || tc_keymap_init(&c->allow, 2) != 0)
        status = tc_error_runtime(c->err, "out of memory deriving policy '%s'", c->spec->name);
    c->allow_ready = status == TC_OK;

    /* Every API call is a legitimate flow on its service. */
    for (uint64_t u = 0; status == TC_OK && u < t->n_local; u++) {
        uint32_t su = c->class_sig[p->class_of[u]];
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++) {
            uint32_t sv = c->class_sig[c->api_target_class[e]];
            if (allow_add(&local, su, sv, (tc_svcmask)1 << t->api_service[e]) != 0)
                status = tc_error_runtime(c->err, "out of memory deriving policy");
        }
    }

    /* Every network-gated grant in use: from each member class of the
     * principal to the target, on the grant's services. */
    for (uint32_t q = 0; status == TC_OK && q < t->principals.count; q++) {
        for (uint64_t g = t->grant_offsets[q]; g < t->grant_offsets[q + 1]; g++) {
            const tc_grant *grant = &t->grants[g];
            if (!grant->gated)
                continue;
            uint32_t sv = c->class_sig[p->class_of[grant->target_local]];
            for (uint64_t h = c->member_hist_offsets[q]; h < c->member_hist_offsets[q + 1]; h++) {
                uint32_t sw = c->class_sig[c->member_hist[3 * h + 1]];
                if (allow_add(&local, sw, sv, grant->services) != 0)
                    status = tc_error_runtime(c->err, "out of memory deriving policy");
            }
        }
    }

    uint64_t n_flat = status == TC_OK ? (uint64_t)local.count * 3 : 0;
    if (status == TC_OK && !(flat = malloc((n_flat + 1) * sizeof(uint64_t))))
        status = tc_error_runtime(c->err, "out of memory deriving policy");
    for (uint32_t k = 0; flat && k < local.count; k++) {
        flat[3 * k] = tc_keymap_key(&local, k)[0];
        flat[3 * k + 1] = tc_keymap_key(&local, k)[1];
        flat[3 * k + 2] = local.values[k];
    }
    if (tc_error_agree(c->err, t->comm) != TC_OK)
        goto release;
    if (tc_exchange_allgather_u64(t->comm, flat, n_flat, &all, &n_all, c->err) != TC_OK)
        goto release;

    /* OR-merging is commutative, so the table is the same on every rank. */
    for (uint64_t k = 0; status == TC_OK && k < n_all / 3; k++)
        if (allow_add(&c->allow, (uint32_t)all[3 * k], (uint32_t)all[3 * k + 1], all[3 * k + 2]) != 0)
            status = tc_error_runtime(c->err, "out of memory deriving policy");

release:
    tc_keymap_free(&local);
    free(flat);
    free(all);
    return tc_error_agree(c->err, t->comm);
}

/* ---- policy(signature, signature) ---- */

static bool sig_has_group(const policy_ctx *c, uint32_t sig, uint32_t group)
{
    if (group == TC_GROUP_ANY)
        return true;
    uint32_t bit = c->group_bit_of[group];
    return (c->sig_keys[(uint64_t)sig * c->sig_words + bit / 64] >> (bit % 64)) & 1;
}

/* Services the policy allows from signature A to signature B: rules in
 * order, the first rule that matches decides each service, the default
 * action decides the rest. */
static tc_svcmask policy_eval_rules(const policy_ctx *c, uint32_t a, uint32_t b)
{
    tc_svcmask decided = 0, allowed = 0;
    for (size_t r = 0; r < c->spec->n_rules && decided != TC_SERVICE_ALL; r++) {
        const tc_rule_spec *rule = &c->spec->rules[r];
        if (!sig_has_group(c, a, rule->from) || !sig_has_group(c, b, rule->to))
            continue;
        tc_svcmask fresh = rule->services & ~decided;
        if (rule->allow)
            allowed |= fresh;
        decided |= fresh;
    }
    if (c->spec->default_allow)
        allowed |= TC_SERVICE_ALL & ~decided;
    return allowed;
}

static tc_svcmask policy_eval(const policy_ctx *c, uint32_t a, uint32_t b)
{
    switch (c->spec->kind) {
    case TC_POLICY_LEGACY:
        return TC_SERVICE_ALL;
    case TC_POLICY_RULES:
        if (c->pol_matrix)
            return c->pol_matrix[(uint64_t)a * c->n_sigs + b];
        return policy_eval_rules(c, a, b);
    case TC_POLICY_DERIVED: {
        uint64_t key[2] = { a, b };
        uint32_t id = tc_keymap_find(&c->allow, key);
        return id == UINT32_MAX ? 0 : c->allow.values[id];
    }
    }
    return 0;
}

/* ---- step 4: the class graph ---- */

static int compare_base(const void *a, const void *b)
{
    const tc_base_rule *x = a, *y = b;
    if (x->from_segment != y->from_segment)
        return x->from_segment < y->from_segment ? -1 : 1;
    if (x->to_segment != y->to_segment)
        return x->to_segment < y->to_segment ? -1 : 1;
    return 0;
}

/* Union of the base rules of each segment pair, sorted by pair. */
static int policy_aggregate_base(policy_ctx *c)
{
    const tc_topology *t = c->t;
    c->base = malloc((t->n_base_rules ? t->n_base_rules : 1) * sizeof *c->base);
    if (!c->base)
        return tc_error_runtime(c->err, "out of memory for base rules");
    if (t->n_base_rules > 0)
        memcpy(c->base, t->base_rules, t->n_base_rules * sizeof *c->base);
    qsort(c->base, t->n_base_rules, sizeof *c->base, compare_base);
    uint64_t n = 0;
    for (uint64_t r = 0; r < t->n_base_rules; r++) {
        if (n > 0 && compare_base(&c->base[n - 1], &c->base[r]) == 0) {
            c->base[n - 1].services |= c->base[r].services;
            continue;
        }
        c->base[n++] = c->base[r];
    }
    c->n_base = n;

    /* Row offsets by source segment, so a look-up searches one row. */
    c->base_rows = calloc((size_t)t->segments.count + 1, sizeof(uint64_t));
    if (!c->base_rows)
        return tc_error_runtime(c->err, "out of memory for base rules");
    for (uint64_t r = 0; r < n; r++)
        c->base_rows[c->base[r].from_segment + 1]++;
    for (uint32_t s = 0; s < t->segments.count; s++)
        c->base_rows[s + 1] += c->base_rows[s];
    return TC_OK;
}

static tc_svcmask policy_base(const policy_ctx *c, uint32_t from, uint32_t to)
{
    uint64_t lo = c->base_rows[from], hi = c->base_rows[from + 1];
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (c->base[mid].to_segment < to)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->base_rows[from + 1] && c->base[lo].to_segment == to ? c->base[lo].services : 0;
}

static int policy_class_graph(policy_ctx *c)
{
    const tc_topology *t = c->t;
    tc_policy *p = c->p;
    uint32_t n_seg = t->segments.count;

    if (policy_aggregate_base(c) != TC_OK)
        return c->err->code;
    c->segment_classes = calloc((size_t)n_seg + 1, sizeof(uint64_t));
    if (!c->segment_classes)
        return tc_error_runtime(c->err, "out of memory for the class graph");
    for (uint32_t k = 0; k < p->n_classes; k++)
        c->segment_classes[p->class_segment[k] + 1]++;
    for (uint32_t s = 0; s < n_seg; s++)
        c->segment_classes[s + 1] += c->segment_classes[s];

    /* Rules policies with few signatures: tabulate policy() once. */
    if (c->spec->kind == TC_POLICY_RULES && (uint64_t)c->n_sigs * c->n_sigs <= (1u << 20)) {
        c->pol_matrix = malloc((uint64_t)c->n_sigs * c->n_sigs * sizeof(tc_svcmask));
        for (uint32_t a = 0; c->pol_matrix && a < c->n_sigs; a++)
            for (uint32_t b = 0; b < c->n_sigs; b++)
                c->pol_matrix[(uint64_t)a * c->n_sigs + b] = policy_eval_rules(c, a, b);
    }

    /* Count class pairs joined by a base rule before allocating. */
    uint64_t pairs = 0;
    for (uint64_t r = 0; r < c->n_base; r++) {
        uint32_t sa = c->base[r].from_segment, sb = c->base[r].to_segment;
        pairs += (c->segment_classes[sa + 1] - c->segment_classes[sa]) *
                 (c->segment_classes[sb + 1] - c->segment_classes[sb]);
    }
    if (pairs > POLICY_MAX_CLASS_PAIRS)
        return tc_error_runtime(c->err,
                                "policy '%s': %llu class pairs are joined by base rules, more "
                                "than the limit of %llu; use a coarser policy or fewer open rules",
                                c->spec->name, (unsigned long long)pairs,
                                POLICY_MAX_CLASS_PAIRS);

    p->reach_offsets = calloc((size_t)p->n_classes + 1, sizeof(uint64_t));
    p->reach_targets = malloc((pairs ? pairs : 1) * sizeof(uint32_t));
    p->reach_masks = malloc((pairs ? pairs : 1) * sizeof(tc_svcmask));
    if (!p->reach_offsets || !p->reach_targets || !p->reach_masks)
        return tc_error_runtime(c->err, "out of memory for %llu class pairs",
                                (unsigned long long)pairs);

    /* Rows in class order; within a row, target classes ascend because
     * base pairs are sorted by target segment and classes by segment. */
    uint64_t n = 0, r0 = 0;
    for (uint32_t sa = 0; sa < n_seg; sa++) {
        while (r0 < c->n_base && c->base[r0].from_segment < sa)
            r0++;
        uint64_t r1 = r0;
        while (r1 < c->n_base && c->base[r1].from_segment == sa)
            r1++;
        for (uint64_t ca = c->segment_classes[sa]; ca < c->segment_classes[sa + 1]; ca++) {
            for (uint64_t r = r0; r < r1; r++) {
                uint32_t sb = c->base[r].to_segment;
                for (uint64_t cb = c->segment_classes[sb]; cb < c->segment_classes[sb + 1]; cb++) {
                    tc_svcmask m = c->base[r].services &
                                   policy_eval(c, c->class_sig[ca], c->class_sig[cb]);
                    if (!m)
                        continue;
                    p->reach_targets[n] = (uint32_t)cb;
                    p->reach_masks[n++] = m;
                }
            }
            p->reach_offsets[ca + 1] = n;
        }
    }
    return TC_OK;
}

tc_svcmask tc_policy_reach(const tc_policy *p, uint32_t a, uint32_t b)
{
    uint64_t lo = p->reach_offsets[a], hi = p->reach_offsets[a + 1];
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (p->reach_targets[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->reach_offsets[a + 1] && p->reach_targets[lo] == b ? p->reach_masks[lo] : 0;
}

/* ---- step 5: open API edges, legitimate flows, class members ---- */

static int policy_edges_and_flows(policy_ctx *c)
{
    const tc_topology *t = c->t;
    tc_policy *p = c->p;
    uint64_t n_edges = t->api_offsets[t->n_local];
    uint64_t flows[3] = { 0, 0, 0 }; /* total, broken, denied by base */

    p->api_open = malloc(n_edges ? n_edges : 1);
    if (!p->api_open)
        return tc_error_runtime(c->err, "out of memory for API edges");

    for (uint64_t u = 0; u < t->n_local; u++) {
        uint32_t cu = p->class_of[u];
        for (uint64_t e = t->api_offsets[u]; e < t->api_offsets[u + 1]; e++) {
            uint32_t cv = c->api_target_class[e];
            tc_svcmask s = (tc_svcmask)1 << t->api_service[e];
            tc_svcmask base = policy_base(c, p->class_segment[cu], p->class_segment[cv]);
            tc_svcmask reach = tc_policy_reach(p, cu, cv);
            p->api_open[e] = t->api_trust[e] == TC_TRUST_IMPLICIT && (reach & s);
            flows[0]++;
            if (!(base & s))
                flows[2]++;
            else if (!(reach & s))
                flows[1]++;
        }
    }

    for (uint32_t q = 0; q < t->principals.count; q++) {
        for (uint64_t g = t->grant_offsets[q]; g < t->grant_offsets[q + 1]; g++) {
            const tc_grant *grant = &t->grants[g];
            if (!grant->gated)
                continue;
            uint32_t cv = p->class_of[grant->target_local];
            for (uint64_t h = c->member_hist_offsets[q]; h < c->member_hist_offsets[q + 1]; h++) {
                uint32_t cw = (uint32_t)c->member_hist[3 * h + 1];
                uint64_t members = c->member_hist[3 * h + 2];
                tc_svcmask base = policy_base(c, p->class_segment[cw], p->class_segment[cv]);
                flows[0] += members;
                if (!(base & grant->services))
                    flows[2] += members;
                else if (!(tc_policy_reach(p, cw, cv) & grant->services))
                    flows[1] += members;
            }
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, flows, 3, MPI_UINT64_T, MPI_SUM, t->comm);
    p->flows_total = flows[0];
    p->flows_broken = flows[1];
    p->flows_base_denied = flows[2];

    /* Owned members of each class, ascending local index. */
    p->member_offsets = calloc((size_t)p->n_classes + 1, sizeof(uint64_t));
    p->members = malloc((t->n_local ? t->n_local : 1) * sizeof(uint64_t));
    if (!p->member_offsets || !p->members)
        return tc_error_runtime(c->err, "out of memory for class members");
    for (uint64_t i = 0; i < t->n_local; i++)
        p->member_offsets[p->class_of[i] + 1]++;
    for (uint32_t k = 0; k < p->n_classes; k++)
        p->member_offsets[k + 1] += p->member_offsets[k];
    uint64_t *fill = malloc(((size_t)p->n_classes + 1) * sizeof(uint64_t));
    if (!fill)
        return tc_error_runtime(c->err, "out of memory for class members");
    memcpy(fill, p->member_offsets, ((size_t)p->n_classes + 1) * sizeof(uint64_t));
    for (uint64_t i = 0; i < t->n_local; i++)
        p->members[fill[p->class_of[i]]++] = i;
    free(fill);
    return TC_OK;
}

/* ---- entry points ---- */

static void policy_ctx_free(policy_ctx *c)
{
    free(c->group_bit_of);
    free(c->used_groups);
    free(c->class_keys);
    free(c->class_sig);
    free(c->sig_keys);
    free(c->pol_matrix);
    if (c->allow_ready)
        tc_keymap_free(&c->allow);
    free(c->base);
    free(c->base_rows);
    free(c->segment_classes);
    free(c->api_target_class);
    free(c->member_hist);
    free(c->member_hist_offsets);
}

int tc_policy_compile(const tc_scenario *scenario, const tc_policy_spec *spec,
                      const tc_topology *t, tc_policy **out, tc_error *err)
{
    double start = MPI_Wtime();
    *out = NULL;
    policy_ctx c = { .scenario = scenario, .spec = spec, .t = t, .err = err };
    uint64_t *sig = NULL;

    c.p = calloc(1, sizeof *c.p);
    if (!c.p)
        tc_error_runtime(err, "out of memory compiling policy '%s'", spec->name);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto fail;
    c.p->spec = spec;

    policy_signatures(&c, &sig);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto fail;
    if (policy_classes(&c, sig) != TC_OK)
        goto fail;
    free(sig);
    sig = NULL;
    if (policy_flow_inputs(&c) != TC_OK)
        goto fail;
    if (spec->kind == TC_POLICY_DERIVED && policy_derive_allow(&c) != TC_OK)
        goto fail;
    policy_class_graph(&c);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto fail;
    policy_edges_and_flows(&c);
    if (tc_error_agree(err, t->comm) != TC_OK)
        goto fail;

    tc_policy *p = c.p;
    p->bytes = t->n_local * (sizeof(uint32_t) + sizeof(uint64_t)) +
               t->api_offsets[t->n_local] +
               p->reach_offsets[p->n_classes] * (sizeof(uint32_t) + sizeof(tc_svcmask)) +
               (size_t)p->n_classes * (2 * sizeof(uint64_t) + sizeof(uint32_t));
    policy_ctx_free(&c);
    p->seconds = MPI_Wtime() - start;
    *out = p;
    return TC_OK;

fail:
    free(sig);
    policy_ctx_free(&c);
    tc_policy_free(c.p);
    return err->code;
}

void tc_policy_free(tc_policy *p)
{
    if (!p)
        return;
    free(p->class_of);
    free(p->class_segment);
    free(p->reach_offsets);
    free(p->reach_targets);
    free(p->reach_masks);
    free(p->member_offsets);
    free(p->members);
    free(p->api_open);
    free(p);
}
