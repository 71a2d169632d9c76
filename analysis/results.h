/*
 * results.h - the versioned JSON result of a run and its text summary.
 *
 * Layout (schema_version 1): "scenario", "topology", "footholds" and
 * "policies" hold results, which depend only on the scenario and seed;
 * "run" (ranks, placement) and "timings" hold what depends on the machine.
 * Two runs of one scenario differ only inside "run" and "timings", so
 * results diff cleanly across runs and rank counts.
 *
 * Local functions, meant for rank 0 after the collective work is done.
 */
#ifndef TC_RESULTS_H
#define TC_RESULTS_H

#include <jansson.h>
#include <stdio.h>

#include "engine.h"
#include "error.h"
#include "metrics.h"
#include "policy.h"
#include "scenario.h"
#include "topology.h"

#define TC_RESULTS_SCHEMA_VERSION 1

/* New result document with the scenario, topology and footholds sections,
 * and empty "policies", "run" and "timings". NULL when out of memory. */
json_t *tc_results_new(const tc_scenario *s, const tc_topology *t, const tc_footholds *f);

/* Append one policy's results, and its timings to "timings". */
int tc_results_add_policy(json_t *root, const tc_scenario *s, const tc_topology *t,
                          const tc_policy *p, const tc_sim_result *r, const tc_metrics *m);

/* Write ROOT to PATH atomically: into PATH.tmp.<pid>, then rename, so PATH
 * holds either its old content or the whole new document. */
int tc_results_write(const json_t *root, const char *path, tc_error *err);

/* Check before any heavy work that PATH's folder exists and is writable. */
int tc_results_check_path(const char *path, tc_error *err);

/* Print the per-policy summary tables. */
void tc_results_print(const json_t *root, FILE *out);

#endif
