/*
 * plan.h - which chains to close first: a greedy plan of closures over the
 * what-if lanes (sim/whatif.h).
 *
 * From the plain run of a policy, the candidates that the attack used are
 * enumerated and each is evaluated alone, 64 to a pass. Then two greedy
 * plans are built. Each step picks the closure that, on top of the ones
 * already picked, leaves the fewest workloads compromised, and every step
 * re-evaluates all remaining candidates in passes of 64 lanes with the
 * picked closures applied to every lane. Ties go to fewer crown jewels
 * reached, then fewer flows broken, then the candidate order.
 *  - "without_breaking_flows" takes a closure only when the plan so far
 *    still breaks no legitimate flow.
 *  - "accepting_broken_flows" takes the best cut whatever it breaks, and
 *    counts the flows broken.
 * A plan stops after the requested number of steps or when no remaining
 * candidate cuts the blast radius.
 *
 * Greedy is not optimal in general: blast-radius cuts are not submodular
 * (two redundant paths to one target each cut nothing alone), so a pair of
 * closures can beat the greedy pick. Re-evaluating every remaining
 * candidate at every step at least finds the pairs whose second half pays
 * off once the first is in.
 */
#ifndef TC_PLAN_H
#define TC_PLAN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"
#include "error.h"
#include "policy.h"
#include "scenario.h"
#include "topology.h"

/* Candidates evaluated when the options leave it 0: four passes of 64
 * lanes per plan step. */
#define TC_PLAN_DEFAULT_CANDIDATES 256
/* Entries of the single-closure ranking kept in the result by default. */
#define TC_PLAN_DEFAULT_RANKING 20

typedef struct tc_plan_options {
    uint32_t steps;          /* closures per plan (the K of run --plan K), >= 1 */
    size_t max_candidates;   /* candidates evaluated, by evidence; 0: TC_PLAN_DEFAULT_CANDIDATES */
    uint32_t ranking;        /* single-closure ranking entries; 0: TC_PLAN_DEFAULT_RANKING */
} tc_plan_options;

/* What the computation cost: timings and counters, kept apart from the
 * result document so that results diff cleanly. */
typedef struct tc_plan_stats {
    size_t candidates_found;   /* before the cut to max_candidates */
    size_t candidates;         /* evaluated */
    uint64_t passes;           /* lane-engine passes (64 lanes each at most) */
    double seconds_setup;      /* what-if context and candidate enumeration */
    double seconds_ranking;    /* evaluating every candidate alone */
    double seconds_plans;      /* the greedy steps of both plans */
    double seconds;            /* everything */
    size_t bytes;              /* what-if context on this rank */
} tc_plan_stats;

/* Compute the ranking and both plans for policy SPEC (compiled as P on T)
 * from footholds F and its plain run R, with SCENARIO's hop budget and
 * crown-jewel kinds. *OUT receives, on every rank, a new JSON object:
 *   steps_requested, candidates {found, evaluated},
 *   baseline {compromised, crown_jewels},
 *   ranking [ {closure, kind, element, evidence, compromised, cut,
 *              crown_jewels, flows_broken} ... ],
 *   without_breaking_flows {flows_broken, steps [ ... ]},
 *   accepting_broken_flows {flows_broken, steps [ ... ]}
 * where a step is {step, closure, kind, element, compromised_after, cut,
 * crown_jewels_after, flows_broken (this step), flows_broken_total}. The
 * document depends only on the inputs, not on the rank count. STATS may be
 * NULL. Collective, and ranks agree on failure. Returns TC_OK,
 * TC_ERR_INPUT (steps 0, or the what-if context does not fit in memory) or
 * TC_ERR_RUNTIME, with *OUT NULL on failure. */
int tc_plan_compute(const tc_scenario *scenario, const tc_policy_spec *spec,
                    const tc_topology *t, const tc_policy *p, const tc_footholds *f,
                    const tc_sim_result *r, const tc_plan_options *options, json_t **out,
                    tc_plan_stats *stats, tc_error *err);

/* Print the plans of the document PLAN (from tc_plan_compute) as text, one
 * step per line, for the run summary. Local. */
void tc_plan_print(const json_t *plan, const char *policy_name, FILE *out);

#endif
