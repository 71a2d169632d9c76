/*
 * reference_paths.c - brute-force checks of attack paths; see
 * reference_paths.h for the numbered checks.
 *
 * Plainness over speed, as in reference.c: candidates are found by
 * scanning every workload or every principal. Nothing reads the engine's
 * state, because the only inputs are the path under test and the
 * reference result.
 */
#include "reference_paths.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selector.h"

#define NONE UINT64_MAX

struct reference_path_checker {
    const reference_input *in;
    const reference_result *ref;
    const tc_topology *t;
    uint64_t n;
    tc_svcmask *base, *reach;   /* n * n */
    bool *member;               /* rules policy: member[g * n + w] */
};

int reference_path_checker_create(const reference_input *in, const reference_result *ref,
                                  reference_path_checker **out, tc_error *err)
{
    const tc_topology *t = in->topology;
    *out = NULL;
    reference_path_checker *c = calloc(1, sizeof *c);
    if (!c)
        return tc_error_runtime(err, "out of memory for the path checker");
    c->in = in;
    c->ref = ref;
    c->t = t;
    c->n = t->n_workloads;
    if (reference_reach_matrix(in, &c->base, &c->reach, err) != TC_OK) {
        free(c);
        return err->code;
    }

    /* reference_reach_matrix bound the selectors of a rules policy. */
    c->member = calloc(in->n_groups * c->n + 1, sizeof *c->member);
    if (!c->member) {
        reference_path_checker_free(c);
        return tc_error_runtime(err, "out of memory for the path checker");
    }
    for (size_t g = 0; in->policy->kind == TC_POLICY_RULES && g < in->n_groups; g++)
        for (uint64_t w = 0; w < c->n; w++)
            c->member[g * c->n + w] = tc_selector_match(in->groups[g].selector, t, w);
    *out = c;
    return TC_OK;
}

void reference_path_checker_free(reference_path_checker *c)
{
    if (!c)
        return;
    free(c->base);
    free(c->reach);
    free(c->member);
    free(c);
}

__attribute__((format(printf, 4, 5)))
static bool fail(char *message, size_t len, const tc_path *path, const char *fmt, ...)
{
    size_t used = strlen(message);
    if (used + 1 >= len)
        return false;
    int n = snprintf(message + used, len - used, "path to %llu: ",
                     (unsigned long long)path->target);
    if (n < 0 || (size_t)n >= len - used)
        return false;
    used += (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message + used, len - used, fmt, ap);
    va_end(ap);
    used = strlen(message);
    if (used + 1 < len) {
        message[used] = '\n';
        message[used + 1] = '\0';
    }
    return false;
}

static bool compromised_by(const reference_result *ref, uint64_t w, uint32_t h)
{
    return ref->hop[w] != TC_HOP_NONE && ref->hop[w] <= h;
}

/* ---- hub relations ---- */

static bool can_assume(const tc_topology *t, uint32_t a, uint32_t b)
{
    for (uint64_t j = t->assume_offsets[a]; j < t->assume_offsets[a + 1]; j++)
        if (t->assumes[j] == b)
            return true;
    return false;
}

/* Length of a shortest assume chain from principal A to B (0 when equal),
 * or -1 when B is not assumable from A. */
static int assume_distance(const tc_topology *t, uint32_t a, uint32_t b)
{
    uint32_t np = t->principals.count;
    int *dist = malloc((np + 1) * sizeof *dist);
    uint32_t *queue = malloc((np + 1) * sizeof *queue);
    int result = -1;
    if (!dist || !queue)
        goto release;
    for (uint32_t q = 0; q < np; q++)
        dist[q] = -1;
    uint32_t head = 0, tail = 0;
    dist[a] = 0;
    queue[tail++] = a;
    while (head < tail) {
        uint32_t x = queue[head++];
        for (uint32_t y = 0; y < np; y++)
            if (dist[y] < 0 && can_assume(t, x, y)) {
                dist[y] = dist[x] + 1;
                queue[tail++] = y;
            }
    }
    result = dist[b];
release:
    free(dist);
    free(queue);
    return result;
}

/* Smallest workload of the hop principal P became held at that runs as a
 * principal from which P is assumable (check 7), NONE when P is not held. */
static uint64_t principal_source(const reference_path_checker *c, uint32_t p)
{
    uint16_t hp = c->ref->principal_hop[p];
    if (hp == TC_HOP_NONE)
        return NONE;
    for (uint64_t x = 0; x < c->n; x++)
        if (c->ref->hop[x] == hp && assume_distance(c->t, c->t->principal[x], p) >= 0)
            return x;
    return NONE;
}

static bool publishes(const tc_topology *t, uint32_t q, uint32_t k)
{
    for (uint64_t j = t->publish_offsets[q]; j < t->publish_offsets[q + 1]; j++)
        if (t->publishes[j] == k)
            return true;
    return false;
}

static bool installs(const tc_topology *t, uint64_t w, uint32_t k)
{
    for (uint64_t j = t->install_offsets[w]; j < t->install_offsets[w + 1]; j++)
        if (t->install_packages[j] == k)
            return true;
    return false;
}

/* ---- rules ---- */

static bool in_group(const reference_path_checker *c, uint32_t g, uint64_t w)
{
    return g == TC_GROUP_ANY || c->member[(size_t)g * c->n + w];
}

/* The policy rule deciding service S from U to V, INT64_MIN when it is a
 * deny rule or a default deny. */
static int64_t deciding_rule(const reference_path_checker *c, uint64_t u, uint64_t v, unsigned s)
{
    const tc_policy_spec *spec = c->in->policy;
    if (spec->kind == TC_POLICY_LEGACY)
        return TC_PATH_RULE_LEGACY;
    if (spec->kind == TC_POLICY_DERIVED)
        return TC_PATH_RULE_DERIVED;
    for (size_t r = 0; r < spec->n_rules; r++) {
        const tc_rule_spec *rule = &spec->rules[r];
        if (((rule->services >> s) & 1) && in_group(c, rule->from, u) && in_group(c, rule->to, v))
            return rule->allow ? (int64_t)r : INT64_MIN;
    }
    return spec->default_allow ? TC_PATH_RULE_DEFAULT : INT64_MIN;
}

/* Check 5 for the reach reason R from U to V. */
static bool check_reach(const reference_path_checker *c, const tc_path *path, uint64_t u,
                        uint64_t v, const tc_path_reach *r, char *message, size_t len)
{
    const tc_topology *t = c->t;
    unsigned s = r->service;
    uint64_t first = NONE;
    for (uint64_t k = 0; k < t->n_base_rules && first == NONE; k++)
        if (t->base_rules[k].from_segment == t->segment[u] &&
            t->base_rules[k].to_segment == t->segment[v] && ((t->base_rules[k].services >> s) & 1))
            first = k;
    bool ok = true;
    if (r->base_rule != first)
        ok = fail(message, len, path, "check 5: %llu -> %llu on %s: base rule %llu, expected %llu",
                  (unsigned long long)u, (unsigned long long)v, tc_service_names[s],
                  (unsigned long long)r->base_rule, (unsigned long long)first);
    int64_t rule = deciding_rule(c, u, v, s);
    if (r->policy_rule != rule)
        ok = fail(message, len, path, "check 5: %llu -> %llu on %s: policy rule %lld, expected "
                  "%lld", (unsigned long long)u, (unsigned long long)v, tc_service_names[s],
                  (long long)r->policy_rule, (long long)rule);
    if (!((c->reach[u * c->n + v] >> s) & 1))
        ok = fail(message, len, path, "check 5: %llu does not reach %llu on %s",
                  (unsigned long long)u, (unsigned long long)v, tc_service_names[s]);
    return ok;
}

/* ---- steps ---- */

static bool check_network(const reference_path_checker *c, const tc_path *path, uint32_t h,
                          char *message, size_t len)
{
    const tc_topology *t = c->t;
    const tc_path_hop *e = &path->hops[h];
    uint64_t v = e->workload.id;
    tc_svcmask target = t->exposed[v] & t->exploitable[v];

    uint64_t expected = NONE;
    for (uint64_t u = 0; u < c->n && expected == NONE; u++)
        if (c->ref->hop[u] == h - 1 && (c->reach[u * c->n + v] & target))
            expected = u;
    if (e->from != expected)
        return fail(message, len, path, "check 3: hop %u: predecessor %llu, expected %llu", h,
                    (unsigned long long)e->from, (unsigned long long)expected);
    tc_svcmask mask = c->reach[e->from * c->n + v] & target;
    if (!mask || e->reach.service != (unsigned)__builtin_ctzll(mask))
        return fail(message, len, path, "check 3: hop %u: service %s is not the lowest "
                    "exploitable one in reach", h, tc_service_names[e->reach.service]);
    return check_reach(c, path, e->from, v, &e->reach, message, len);
}

/* Smallest service of an open API edge from U to V, or -1. */
static int open_edge_service(const reference_path_checker *c, uint64_t u, uint64_t v)
{
    const tc_topology *t = c->t;
    int best = -1;
    for (uint64_t k = t->api_offsets[u]; k < t->api_offsets[u + 1]; k++) {
        int s = t->api_service[k];
        if (t->api_targets[k] == v && t->api_trust[k] == TC_TRUST_IMPLICIT &&
            ((c->reach[u * c->n + v] >> s) & 1) && (best < 0 || s < best))
            best = s;
    }
    return best;
}

static bool check_api(const reference_path_checker *c, const tc_path *path, uint32_t h,
                      char *message, size_t len)
{
    const tc_path_hop *e = &path->hops[h];
    uint64_t v = e->workload.id;
    uint64_t expected = NONE;
    for (uint64_t u = 0; u < c->n && expected == NONE; u++)
        if (c->ref->hop[u] == h - 1 && open_edge_service(c, u, v) >= 0)
            expected = u;
    if (e->from != expected)
        return fail(message, len, path, "check 4: hop %u: predecessor %llu, expected %llu", h,
                    (unsigned long long)e->from, (unsigned long long)expected);
    int s = open_edge_service(c, e->from, v);
    if (s != e->reach.service || e->trust != TC_TRUST_IMPLICIT)
        return fail(message, len, path, "check 4: hop %u: edge on %s with trust %u, expected %s "
                    "with implicit trust", h, tc_service_names[e->reach.service], e->trust,
                    s >= 0 ? tc_service_names[s] : "none");
    return check_reach(c, path, e->from, v, &e->reach, message, len);
}

/* Check 7 for the principal of entry E. */
static bool check_principal(const reference_path_checker *c, const tc_path *path, uint32_t h,
                            const tc_path_hop *e, char *message, size_t len)
{
    const tc_topology *t = c->t;
    uint32_t p = e->principal;
    uint64_t source = principal_source(c, p);
    if (e->principal_source != source)
        return fail(message, len, path, "check 7: hop %u: source of principal %u is %llu, "
                    "expected %llu", h, p, (unsigned long long)e->principal_source,
                    (unsigned long long)source);
    if (e->n_assume_chain == 0 || e->assume_chain[0] != t->principal[source] ||
        e->assume_chain[e->n_assume_chain - 1] != p)
        return fail(message, len, path, "check 7: hop %u: the assume chain does not lead from "
                    "principal %u to %u", h, t->principal[source], p);
    for (uint32_t k = 0; k + 1 < e->n_assume_chain; k++)
        if (!can_assume(t, e->assume_chain[k], e->assume_chain[k + 1]))
            return fail(message, len, path, "check 7: hop %u: principal %u cannot assume %u", h,
                        e->assume_chain[k], e->assume_chain[k + 1]);
    int shortest = assume_distance(t, t->principal[source], p);
    if ((int)e->n_assume_chain - 1 != shortest)
        return fail(message, len, path, "check 7: hop %u: assume chain of %u steps, the "
                    "shortest has %d", h, e->n_assume_chain - 1, shortest);
    return true;
}

/* A credential reason in the order of engine.h. */
typedef struct credential_reason {
    uint64_t pred;
    uint32_t via;
    uint64_t from;
} credential_reason;

static bool reason_less(credential_reason a, credential_reason b)
{
    if (a.pred != b.pred)
        return a.pred < b.pred;
    if (a.via != b.via)
        return a.via < b.via;
    bool apart_a = a.from != a.pred && a.from != NONE;
    bool apart_b = b.from != b.pred && b.from != NONE;
    if (apart_a != apart_b)
        return !apart_a;
    return a.from < b.from;
}

/* Smallest workload compromised at hop H (EXACT) or by hop H that
 * reaches V on a service of S. */
static uint64_t smallest_reaching(const reference_path_checker *c, uint64_t v, tc_svcmask s,
                                  uint32_t h, bool exact)
{
    for (uint64_t w = 0; w < c->n; w++) {
        bool by_hop = exact ? c->ref->hop[w] == h : compromised_by(c->ref, w, h);
        if (by_hop && (c->reach[w * c->n + v] & s))
            return w;
    }
    return NONE;
}

static bool check_credential(const reference_path_checker *c, const tc_path *path, uint32_t h,
                             char *message, size_t len)
{
    const tc_topology *t = c->t;
    const tc_path_hop *e = &path->hops[h];
    uint64_t v = e->workload.id;
    uint32_t level = h - 1;

    /* Every valid (principal, grant) and its candidate, from the
     * definitions in engine.h. */
    credential_reason best = { NONE, TC_VIA_NONE, NONE };
    for (uint32_t p = 0; p < t->principals.count; p++) {
        uint16_t hp = c->ref->principal_hop[p];
        if (hp == TC_HOP_NONE || hp > level)
            continue;
        uint64_t source = hp == level ? principal_source(c, p) : NONE;
        for (uint64_t g = t->grant_offsets[p]; g < t->grant_offsets[p + 1]; g++) {
            const tc_grant *grant = &t->grants[g];
            if (grant->target_local != v)
                continue;
            credential_reason r = { source, p, NONE };
            if (grant->gated) {
                uint64_t any = smallest_reaching(c, v, grant->services, level, false);
                if (any == NONE)
                    continue;
                uint64_t at_level = smallest_reaching(c, v, grant->services, level, true);
                r.via = p | TC_VIA_GATED;
                if (at_level <= source)
                    r.pred = r.from = at_level;
                else
                    r.from = any;
            }
            if (r.pred != NONE && reason_less(r, best))
                best = r;
        }
    }

    uint32_t via = e->principal | (e->gated ? TC_VIA_GATED : 0);
    uint64_t from = e->gated ? e->used_from : NONE;
    if (e->from != best.pred || via != best.via || from != best.from)
        return fail(message, len, path, "check 6: hop %u: (predecessor %llu, principal %u, %s, "
                    "used from %lld), expected (%llu, %u, %s, %lld)", h,
                    (unsigned long long)e->from, e->principal, e->gated ? "gated" : "control-plane",
                    (long long)from, (unsigned long long)best.pred, best.via & ~TC_VIA_GATED,
                    (best.via & TC_VIA_GATED) ? "gated" : "control-plane", (long long)best.from);

    tc_svcmask services = 0;
    for (uint64_t g = t->grant_offsets[e->principal]; g < t->grant_offsets[e->principal + 1]; g++)
        if (t->grants[g].target_local == v && t->grants[g].gated == e->gated)
            services |= t->grants[g].services;
    if (services != e->grant_services)
        return fail(message, len, path, "check 6: hop %u: grant services %llx, expected %llx", h,
                    (unsigned long long)e->grant_services, (unsigned long long)services);
    if (!check_principal(c, path, h, e, message, len))
        return false;
    if (!e->gated)
        return true;
    tc_svcmask mask = c->reach[e->used_from * c->n + v] & services;
    if (!mask || e->reach.service != (unsigned)__builtin_ctzll(mask))
        return fail(message, len, path, "check 6: hop %u: service %s is not the lowest of the "
                    "grant in reach", h, tc_service_names[e->reach.service]);
    return check_reach(c, path, e->used_from, v, &e->reach, message, len);
}

/* Publisher of package K compromised at hop H + 1: smallest (source, id)
 * among the principals held at hop H that may publish it. */
static uint32_t package_publisher(const reference_path_checker *c, uint32_t k, uint32_t h,
                                  uint64_t *source)
{
    uint32_t best = TC_VIA_NONE;
    *source = NONE;
    for (uint32_t q = 0; q < c->t->principals.count; q++) {
        if (c->ref->principal_hop[q] != h || !publishes(c->t, q, k))
            continue;
        uint64_t s = principal_source(c, q);
        if (best == TC_VIA_NONE || s < *source) {
            best = q;
            *source = s;
        }
    }
    return best;
}

static bool check_supply_chain(const reference_path_checker *c, const tc_path *path, uint32_t h,
                               char *message, size_t len)
{
    const tc_topology *t = c->t;
    const tc_path_hop *e = &path->hops[h];
    uint64_t v = e->workload.id;

    uint64_t best_source = NONE;
    uint32_t best_package = TC_VIA_NONE, best_publisher = TC_VIA_NONE;
    for (uint32_t k = 0; k < t->packages.count; k++) {
        if (!installs(t, v, k) || c->ref->package_hop[k] != h)
            continue;
        uint64_t source;
        uint32_t q = package_publisher(c, k, h - 1, &source);
        if (q != TC_VIA_NONE && (best_package == TC_VIA_NONE || source < best_source)) {
            best_source = source;
            best_package = k;
            best_publisher = q;
        }
    }
    if (e->package != best_package || e->principal != best_publisher || e->from != best_source)
        return fail(message, len, path, "check 8: hop %u: (package %u, publisher %u, "
                    "predecessor %llu), expected (%u, %u, %llu)", h, e->package, e->principal,
                    (unsigned long long)e->from, best_package, best_publisher,
                    (unsigned long long)best_source);
    return check_principal(c, path, h, e, message, len);
}

static bool check_foothold(const reference_path_checker *c, const tc_path *path,
                           char *message, size_t len)
{
    const tc_path_hop *e = &path->hops[0];
    uint64_t v = e->workload.id;
    bool named = false;
    for (size_t i = 0; i < c->in->n_foothold_workloads; i++)
        named = named || c->in->foothold_workloads[i] == v;
    uint32_t expected = TC_VIA_NONE;
    for (uint32_t k = 0; !named && k < c->t->packages.count && expected == TC_VIA_NONE; k++)
        for (size_t i = 0; i < c->in->n_foothold_packages; i++)
            if (c->in->foothold_packages[i] == k && installs(c->t, v, k))
                expected = k;
    if (e->package != expected || e->from != NONE)
        return fail(message, len, path, "check 9: foothold package %u, expected %u", e->package,
                    expected);
    return true;
}

bool reference_path_check(const reference_path_checker *c, const tc_path *path, char *message,
                          size_t len)
{
    const tc_topology *t = c->t;
    const reference_result *ref = c->ref;
    uint64_t target = path->target;

    if (target >= c->n)
        return fail(message, len, path, "check 1: target out of range");
    bool reached = ref->hop[target] != TC_HOP_NONE;
    if (path->reached != reached)
        return fail(message, len, path, "check 1: reached is %d, the reference says %d",
                    path->reached, reached);
    if (!reached)
        return path->n_hops == 0 ||
               fail(message, len, path, "check 1: an unreached target has %u entries",
                    path->n_hops);
    if (path->n_hops != (uint32_t)ref->hop[target] + 1 ||
        path->hops[path->n_hops - 1].workload.id != target)
        return fail(message, len, path, "check 1: %u entries ending at %llu, expected %u ending "
                    "at the target", path->n_hops,
                    (unsigned long long)path->hops[path->n_hops - 1].workload.id,
                    ref->hop[target] + 1);

    for (uint32_t h = 0; h < path->n_hops; h++) {
        const tc_path_hop *e = &path->hops[h];
        const tc_path_workload *w = &e->workload;
        uint64_t v = w->id;
        if (v >= c->n || ref->hop[v] != h || ref->step[v] != w->step)
            return fail(message, len, path, "check 2: entry %u is workload %llu, which fell at "
                        "hop %d by %u, not by step %u", h, (unsigned long long)v,
                        v < c->n && ref->hop[v] != TC_HOP_NONE ? ref->hop[v] : -1,
                        v < c->n ? ref->step[v] : 0, w->step);
        if (w->hop != h || w->tenant != t->tenant[v] || w->app != t->app[v] ||
            w->segment != t->segment[v] || w->principal != t->principal[v] ||
            w->env != t->env[v] || w->tier != t->tier[v] || w->crown != t->crown[v])
            return fail(message, len, path, "check 2: entry %u: attributes of workload %llu "
                        "differ from the topology", h, (unsigned long long)v);
        if (h > 0 && e->from != path->hops[h - 1].workload.id)
            return fail(message, len, path, "check 2: entry %u: predecessor %llu is not the "
                        "previous entry", h, (unsigned long long)e->from);

        bool ok = true;
        switch (w->step) {
        case TC_STEP_FOOTHOLD: ok = check_foothold(c, path, message, len); break;
        case TC_STEP_NETWORK: ok = check_network(c, path, h, message, len); break;
        case TC_STEP_API: ok = check_api(c, path, h, message, len); break;
        case TC_STEP_CREDENTIAL: ok = check_credential(c, path, h, message, len); break;
        case TC_STEP_SUPPLY_CHAIN: ok = check_supply_chain(c, path, h, message, len); break;
        default: ok = fail(message, len, path, "check 2: entry %u has step %u", h, w->step);
        }
        if (!ok)
            return false;
    }
    return true;
}
