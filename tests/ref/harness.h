/*
 * harness.h - run the distributed engine on a test case and bring its result
 * to rank 0 in the shape of a reference result, so that tests compare the two
 * field by field.
 *
 * Functions marked collective must be called by every rank of the
 * topology's communicator; results and verdicts live on rank 0 of it.
 */
#ifndef TC_HARNESS_H
#define TC_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "reference.h"
#include "scenario.h"

/* Fill SCENARIO with one SmartGroup per text of SELECTORS (named
 * "group-<i>", parsed) and the borrowed POLICIES; every other field is zero
 * and the path is "test". Local. Returns TC_OK, or TC_ERR_INPUT naming the
 * selector that does not parse, or TC_ERR_RUNTIME; release with
 * harness_scenario_release in both cases. */
int harness_scenario_init(tc_scenario *scenario, const char *const *selectors,
                          size_t n_selectors, tc_policy_spec *policies, size_t n_policies,
                          tc_error *err);

/* Release what harness_scenario_init allocated; the policies stay the
 * caller's. */
void harness_scenario_release(tc_scenario *scenario);

/* Fill *OUT with this rank's footholds on T: the owned workloads among
 * WORKLOADS (global ids) and all of PACKAGES, both sorted and unique, no
 * per-vector counts, and the global count of distinct hop-0 workloads
 * (foothold workloads and installers of foothold packages). Collective.
 * Returns TC_OK, or TC_ERR_RUNTIME when memory runs out (ranks agree).
 * Release with harness_footholds_free. */
int harness_footholds_make(const tc_topology *t, const uint64_t *workloads, size_t n_workloads,
                           const uint32_t *packages, size_t n_packages, tc_footholds *out,
                           tc_error *err);
void harness_footholds_free(tc_footholds *f);

/* Compile SPEC (groups from SCENARIO) against T, run the engine from the
 * given footholds for HOP_BUDGET hops and gather the result. On rank 0 *OUT
 * receives every workload's hop and step, the principal and package hops,
 * the levels and the policy's flow counts. On other ranks *OUT is NULL.
 * Also checks that the engine's new_per_hop matches its own hops. Collective.
 * Returns TC_OK or the engine's error code, the same on every rank. */
int harness_engine_run(const tc_scenario *scenario, const tc_policy_spec *spec,
                       const tc_topology *t, const uint64_t *workloads, size_t n_workloads,
                       const uint32_t *packages, size_t n_packages, uint32_t hop_budget,
                       reference_result **out, tc_error *err);

/* Parts of a result that harness_results_equal compares. */
enum harness_fields {
    HARNESS_WORKLOADS = 1 << 0,  /* every hop, and the step of compromised workloads */
    HARNESS_PRINCIPALS = 1 << 1, /* hop at which each principal became held */
    HARNESS_PACKAGES = 1 << 2,   /* hop at which each package became compromised */
    HARNESS_SUMMARY = 1 << 3,    /* levels and the three flow counts */
    HARNESS_ALL = (1 << 4) - 1
};

/* Compare the FIELDS (enum harness_fields bits) of ACTUAL against EXPECTED.
 * Returns true when they agree; otherwise appends the first few
 * differences, one per line, to MESSAGE (LEN bytes, NUL-terminated on
 * entry). Local. */
bool harness_results_equal(const reference_result *expected, const reference_result *actual,
                           unsigned fields, char *message, size_t len);

/* Append a formatted line to MESSAGE (LEN bytes, NUL-terminated on entry)
 * while room is left, cutting it short otherwise. */
void harness_append(char *message, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Broadcast rank 0's verdict OK over COMM, so every rank fails or passes an
 * assertion together and no rank is left waiting in a collective. */
bool harness_agree(bool ok, MPI_Comm comm);

/* Name of a step kind, or "none" for TC_STEP_COUNT. */
const char *harness_step_name(unsigned step);

#endif
