/*
 * plan.c - the greedy closure plans (see plan.h).
 *
 * Steps of tc_plan_compute, all collective:
 *  1. check the what-if context fits in memory, build it, enumerate the
 *     candidates of the plain run;
 *  2. evaluate every candidate alone (the ranking, and the first step of
 *     both plans);
 *  3. for each plan, repeat: evaluate the remaining candidates on top of
 *     the closures picked so far, pick the best, until the requested steps
 *     are taken or nothing cuts the blast radius.
 * Every rank runs the same passes and picks the same closures, because the
 * lane results are global counts.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "whatif.h"

typedef struct plan_ctx {
    tc_whatif *w;
    const tc_scenario *scenario;
    const tc_topology *t;
    tc_candidate *candidates;
    size_t n;
    tc_whatif_lane *alone;      /* per candidate: evaluated alone */
    uint64_t passes;
    tc_error *err;
} plan_ctx;

/* Compromised count, crown jewels and flows broken of a state. */
typedef struct plan_state {
    uint64_t compromised, crown_jewels, flows_broken;
} plan_state;

/* Evaluate candidates INDEX[0 .. M) each on top of the closures
 * APPLIED[0 .. N_APPLIED) (candidate indices), 64 lanes to a pass. */
static int plan_evaluate(plan_ctx *c, const size_t *applied, size_t n_applied,
                         const size_t *index, size_t m, tc_whatif_lane *results)
{
    tc_closure *closures = malloc((n_applied + TC_WHATIF_LANES) * sizeof *closures);
    uint64_t *masks = malloc((n_applied + TC_WHATIF_LANES) * sizeof *masks);
    if (!closures || !masks)
        tc_error_runtime(c->err, "out of memory evaluating closures");
    if (tc_error_agree(c->err, c->t->comm) != TC_OK)
        goto release;

    for (size_t first = 0; first < m; first += TC_WHATIF_LANES) {
        unsigned lanes = (unsigned)(m - first < TC_WHATIF_LANES ? m - first : TC_WHATIF_LANES);
        size_t n = 0;
        for (size_t k = 0; k < n_applied; k++) {
            closures[n] = c->candidates[applied[k]].closure;
            masks[n++] = ~0ULL;
        }
        for (unsigned k = 0; k < lanes; k++) {
            closures[n] = c->candidates[index[first + k]].closure;
            masks[n++] = 1ULL << k;
        }
        if (tc_whatif_run(c->w, closures, masks, n, lanes, results + first, c->err) != TC_OK)
            break;
        c->passes++;
    }

release:
    free(closures);
    free(masks);
    return c->err->code;
}

/* Is A a better pick than B? Fewer compromised, then fewer crown jewels,
 * then fewer flows broken, then the earlier candidate. */
static bool plan_better(const tc_whatif_lane *a, size_t ia, const tc_whatif_lane *b, size_t ib)
{
    if (a->compromised != b->compromised)
        return a->compromised < b->compromised;
    if (a->crown_jewels != b->crown_jewels)
        return a->crown_jewels < b->crown_jewels;
    if (a->flows_broken != b->flows_broken)
        return a->flows_broken < b->flows_broken;
    return ia < ib;
}

/* ---- JSON ---- */

static json_t *services_array(tc_svcmask mask)
{
    json_t *a = json_array();
    for (tc_svcmask m = mask; a && m; m &= m - 1)
        json_array_append_new(a, json_string(tc_service_names[__builtin_ctzll(m)]));
    return a;
}

/* The closed element by name, so that tools need no ids. */
static json_t *element_json(const plan_ctx *c, const tc_closure *cl)
{
    const tc_topology *t = c->t;
    const tc_policy_spec *spec = tc_whatif_get_input(c->w)->spec;
    switch (cl->kind) {
    case TC_CLOSE_BASE_RULE:
        return json_pack("{s:s, s:s, s:o}", "from_segment", tc_names_get(&t->segments, cl->first),
                         "to_segment", tc_names_get(&t->segments, cl->second), "services",
                         services_array(cl->services));
    case TC_CLOSE_POLICY_RULE: {
        const tc_rule_spec *rule = &spec->rules[cl->first];
        const char *from = rule->from == TC_GROUP_ANY ? "any" : c->scenario->groups[rule->from].name;
        const char *to = rule->to == TC_GROUP_ANY ? "any" : c->scenario->groups[rule->to].name;
        return json_pack("{s:i, s:s, s:s, s:o}", "rule", (int)cl->first, "from", from, "to", to,
                         "services", services_array(cl->services));
    }
    case TC_CLOSE_SPLIT:
        return json_pack("{s:s}", "principal", tc_names_get(&t->principals, cl->first));
    case TC_CLOSE_REVOKE:
        return json_pack("{s:s, s:s}", "principal", tc_names_get(&t->principals, cl->first),
                         "app", tc_names_get(&t->apps, cl->second));
    case TC_CLOSE_TRUST:
        return json_pack("{s:s, s:s}", "caller_app", tc_names_get(&t->apps, cl->first),
                         "callee_app", tc_names_get(&t->apps, cl->second));
    case TC_CLOSE_PACKAGE:
        return json_pack("{s:s}", "package", tc_names_get(&t->packages, cl->first));
    default:
        return json_object();
    }
}

/* Closure text, kind and element of candidate I into object O. */
static void closure_fields(const plan_ctx *c, size_t i, json_t *o)
{
    char text[512];
    const tc_closure *cl = &c->candidates[i].closure;
    tc_whatif_describe(c->w, cl, text, sizeof text);
    json_object_set_new(o, "closure", json_string(text));
    json_object_set_new(o, "kind", json_string(tc_closure_kind_names[cl->kind]));
    json_object_set_new(o, "element", element_json(c, cl));
}

static json_t *ranking_json(const plan_ctx *c, const plan_state *baseline, uint32_t size)
{
    size_t *order = malloc((c->n + 1) * sizeof *order);
    json_t *ranking = json_array();
    if (!order || !ranking) {
        free(order);
        json_decref(ranking);
        return NULL;
    }
    /* Selection of the best SIZE: the ranking is short and N moderate. */
    bool *picked = calloc(c->n + 1, sizeof *picked);
    size_t n_order = 0;
    for (uint32_t k = 0; picked && k < size && k < c->n; k++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < c->n; i++)
            if (!picked[i] && (best == SIZE_MAX ||
                               plan_better(&c->alone[i], i, &c->alone[best], best)))
                best = i;
        picked[best] = true;
        order[n_order++] = best;
    }
    for (size_t k = 0; k < n_order; k++) {
        size_t i = order[k];
        const tc_whatif_lane *r = &c->alone[i];
        json_t *o = json_object();
        closure_fields(c, i, o);
        json_object_set_new(o, "evidence", json_integer((json_int_t)c->candidates[i].evidence));
        json_object_set_new(o, "compromised", json_integer((json_int_t)r->compromised));
        json_object_set_new(o, "cut", json_integer((json_int_t)(baseline->compromised -
                                                                r->compromised)));
        json_object_set_new(o, "crown_jewels", json_integer((json_int_t)r->crown_jewels));
        json_object_set_new(o, "flows_broken", json_integer((json_int_t)r->flows_broken));
        json_array_append_new(ranking, o);
    }
    free(picked);
    free(order);
    return ranking;
}

/* ---- the greedy plans ---- */

/* Build one plan of at most STEPS closures. With ALLOW_BREAKING false,
 * only closures that keep every legitimate flow of the plan so far open are
 * taken. Closures only remove, so a candidate that breaks a flow alone
 * breaks it in any plan, and it is not evaluated again. */
static json_t *plan_greedy(plan_ctx *c, const plan_state *baseline, uint32_t steps,
                           bool allow_breaking)
{
    size_t *applied = malloc(((size_t)steps + 1) * sizeof *applied);
    size_t *remaining = malloc((c->n + 1) * sizeof *remaining);
    tc_whatif_lane *results = malloc((c->n + 1) * sizeof *results);
    bool *taken = calloc(c->n + 1, sizeof *taken);
    json_t *plan = json_object(), *list = json_array();
    size_t n_applied = 0;
    plan_state current = *baseline;
    if (!applied || !remaining || !results || !taken || !plan || !list)
        tc_error_runtime(c->err, "out of memory building a plan");
    if (tc_error_agree(c->err, c->t->comm) != TC_OK)
        goto fail;

    for (uint32_t step = 1; step <= steps; step++) {
        size_t m = 0;
        for (size_t i = 0; i < c->n; i++)
            if (!taken[i] && (allow_breaking || c->alone[i].flows_broken == 0))
                remaining[m++] = i;
        if (step == 1) {
            for (size_t k = 0; k < m; k++)
                results[k] = c->alone[remaining[k]];
        } else if (plan_evaluate(c, applied, n_applied, remaining, m, results) != TC_OK) {
            goto fail;
        }

        size_t best = SIZE_MAX;
        for (size_t k = 0; k < m; k++) {
            if (results[k].compromised >= current.compromised)
                continue;
            if (!allow_breaking && results[k].flows_broken > 0)
                continue;
            if (best == SIZE_MAX ||
                plan_better(&results[k], remaining[k], &results[best], remaining[best]))
                best = k;
        }
        if (best == SIZE_MAX)
            break;

        size_t i = remaining[best];
        const tc_whatif_lane *r = &results[best];
        json_t *o = json_object();
        json_object_set_new(o, "step", json_integer(step));
        closure_fields(c, i, o);
        json_object_set_new(o, "compromised_after", json_integer((json_int_t)r->compromised));
        json_object_set_new(o, "cut", json_integer((json_int_t)(current.compromised -
                                                                r->compromised)));
        json_object_set_new(o, "crown_jewels_after", json_integer((json_int_t)r->crown_jewels));
        json_object_set_new(o, "flows_broken",
                            json_integer((json_int_t)(r->flows_broken - current.flows_broken)));
        json_object_set_new(o, "flows_broken_total", json_integer((json_int_t)r->flows_broken));
        json_array_append_new(list, o);

        applied[n_applied++] = i;
        taken[i] = true;
        current = (plan_state){ r->compromised, r->crown_jewels, r->flows_broken };
    }
    json_object_set_new(plan, "flows_broken", json_integer((json_int_t)current.flows_broken));
    json_object_set_new(plan, "steps", list);
    free(applied);
    free(remaining);
    free(results);
    free(taken);
    return plan;

fail:
    json_decref(plan);
    json_decref(list);
    free(applied);
    free(remaining);
    free(results);
    free(taken);
    return NULL;
}

/* Compromised workloads and counted crown jewels of the plain run. */
static plan_state plan_baseline(const tc_scenario *s, const tc_topology *t, const tc_sim_result *r)
{
    uint64_t counts[2] = { 0, 0 };
    for (uint64_t i = 0; i < t->n_local; i++) {
        if (r->hop[i] == TC_HOP_NONE)
            continue;
        counts[0]++;
        counts[1] += t->crown[i] != TC_CROWN_NONE && (s->crown_kinds >> t->crown[i] & 1);
    }
    MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_UINT64_T, MPI_SUM, t->comm);
    return (plan_state){ counts[0], counts[1], 0 };
}

int tc_plan_compute(const tc_scenario *scenario, const tc_policy_spec *spec,
                    const tc_topology *t, const tc_policy *p, const tc_footholds *f,
                    const tc_sim_result *r, const tc_plan_options *options, json_t **out,
                    tc_plan_stats *stats, tc_error *err)
{
    double start = MPI_Wtime();
    tc_plan_stats local_stats;
    tc_plan_stats *st = stats ? stats : &local_stats;
    plan_ctx c = { .scenario = scenario, .t = t, .err = err };
    json_t *doc = NULL;
    memset(st, 0, sizeof *st);
    *out = NULL;

    if (options->steps == 0)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "a plan needs at least one step (got --plan 0)");
    size_t max = options->max_candidates ? options->max_candidates : TC_PLAN_DEFAULT_CANDIDATES;
    uint32_t ranking = options->ranking ? options->ranking : TC_PLAN_DEFAULT_RANKING;

    char what[256];
    snprintf(what, sizeof what, "the what-if lanes of policy '%s'", spec->name);
    if (tc_memory_check(t->comm, tc_whatif_estimate_bytes(t, p, false), what, err) != TC_OK)
        return err->code;
    tc_whatif_input in = {
        .scenario = scenario, .spec = spec, .topology = t, .policy = p, .footholds = f,
        .hop_budget = scenario->hop_budget, .crown_kinds = scenario->crown_kinds,
    };
    if (tc_whatif_create(&in, &c.w, err) != TC_OK)
        return err->code;
    st->bytes = tc_whatif_bytes(c.w);
    if (tc_whatif_candidates(c.w, r, max, &c.candidates, &c.n, &st->candidates_found, err) !=
        TC_OK)
        goto release;
    st->candidates = c.n;
    plan_state baseline = plan_baseline(scenario, t, r);
    st->seconds_setup = MPI_Wtime() - start;

    double t0 = MPI_Wtime();
    size_t *all = malloc((c.n + 1) * sizeof *all);
    c.alone = malloc((c.n + 1) * sizeof *c.alone);
    if (!all || !c.alone)
        tc_error_runtime(err, "out of memory ranking %zu candidates", c.n);
    if (tc_error_agree(err, t->comm) != TC_OK) {
        free(all);
        goto release;
    }
    for (size_t i = 0; i < c.n; i++)
        all[i] = i;
    plan_evaluate(&c, NULL, 0, all, c.n, c.alone);
    free(all);
    if (err->code != TC_OK)
        goto release;
    st->seconds_ranking = MPI_Wtime() - t0;

    t0 = MPI_Wtime();
    json_t *keep = plan_greedy(&c, &baseline, options->steps, false);
    json_t *accept = keep ? plan_greedy(&c, &baseline, options->steps, true) : NULL;
    if (!keep || !accept) {
        json_decref(keep);
        goto release;
    }
    st->seconds_plans = MPI_Wtime() - t0;

    doc = json_object();
    json_object_set_new(doc, "steps_requested", json_integer(options->steps));
    json_object_set_new(doc, "candidates", json_pack("{s:I, s:I}", "found",
                                                     (json_int_t)st->candidates_found,
                                                     "evaluated", (json_int_t)c.n));
    json_object_set_new(doc, "baseline", json_pack("{s:I, s:I}", "compromised",
                                                   (json_int_t)baseline.compromised,
                                                   "crown_jewels",
                                                   (json_int_t)baseline.crown_jewels));
    json_object_set_new(doc, "ranking", ranking_json(&c, &baseline, ranking));
    json_object_set_new(doc, "without_breaking_flows", keep);
    json_object_set_new(doc, "accepting_broken_flows", accept);
    *out = doc;

release:
    st->passes = c.passes;
    st->seconds = MPI_Wtime() - start;
    free(c.candidates);
    free(c.alone);
    tc_whatif_free(c.w);
    return err->code;
}

/* ---- text ---- */

static long long get_integer(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void print_plan(const json_t *plan, const char *title, FILE *out)
{
    const json_t *steps = json_object_get(plan, "steps");
    fprintf(out, "  %s (%zu step%s, %lld flows broken):\n", title, json_array_size(steps),
            json_array_size(steps) == 1 ? "" : "s", get_integer(plan, "flows_broken"));
    size_t k;
    const json_t *step;
    json_array_foreach(steps, k, step)
        fprintf(out, "    %lld. %s: %lld compromised (-%lld), %lld crown jewels, +%lld flows "
                "broken\n", get_integer(step, "step"),
                json_string_value(json_object_get(step, "closure")),
                get_integer(step, "compromised_after"), get_integer(step, "cut"),
                get_integer(step, "crown_jewels_after"), get_integer(step, "flows_broken"));
}

void tc_plan_print(const json_t *plan, const char *policy_name, FILE *out)
{
    const json_t *candidates = json_object_get(plan, "candidates");
    const json_t *baseline = json_object_get(plan, "baseline");
    fprintf(out, "\nplan for %s: %lld compromised, %lld crown jewels before; %lld of %lld "
            "candidates evaluated\n", policy_name, get_integer(baseline, "compromised"),
            get_integer(baseline, "crown_jewels"), get_integer(candidates, "evaluated"),
            get_integer(candidates, "found"));
    print_plan(json_object_get(plan, "without_breaking_flows"), "without breaking flows", out);
    print_plan(json_object_get(plan, "accepting_broken_flows"), "accepting broken flows", out);
}
