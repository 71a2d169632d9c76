/*
 * policy.h - compile a candidate policy against a topology into classes.
 *
 * A class is a set of workloads with the same segment and the same policy
 * signature (the SmartGroups they belong to for a rules policy, their
 * attribute tuple for a derived policy). Reach between two classes is
 * base(segment pair) & policy(signature pair), one service mask. The
 * compiled policy keeps, replicated on every rank:
 *   - the class of every owned workload,
 *   - a class graph: for each class, the classes it reaches with a nonzero
 *     mask (only pairs joined by a base rule are ever stored),
 * and on each rank, which API edges of owned callers the policy leaves open.
 *
 * Class ids are numbered in the sorted order of (segment, signature key),
 * so they are identical on any rank count.
 */
#ifndef TC_POLICY_H
#define TC_POLICY_H

#include <stdint.h>

#include "error.h"
#include "scenario.h"
#include "topology.h"

typedef struct tc_policy {
    const tc_policy_spec *spec;  /* borrowed */
    uint32_t n_classes;
    uint32_t *class_of;          /* per owned workload */
    uint32_t *class_segment;     /* per class */

    /* Class graph, CSR over source classes (replicated). */
    uint64_t *reach_offsets;     /* n_classes + 1 */
    uint32_t *reach_targets;
    tc_svcmask *reach_masks;

    /* Owned workloads of each class, CSR (local). */
    uint64_t *member_offsets;    /* n_classes + 1 */
    uint64_t *members;

    /* Per API edge of the topology (same order): open under the policy,
     * i.e. its service is in reach(caller, callee) and its trust lets the
     * caller drive the callee. */
    uint8_t *api_open;

    /* Legitimate flows, global totals. */
    uint64_t flows_total, flows_broken, flows_base_denied;

    double seconds;              /* compile time on this rank */
    size_t bytes;                /* bytes held on this rank */
} tc_policy;

/* Compile SPEC (groups from SCENARIO) against T. Selector values are bound
 * to T's names first: a name the topology lacks is TC_ERR_INPUT naming the
 * scenario file and the group. Collective; ranks agree on failure. */
int tc_policy_compile(const tc_scenario *scenario, const tc_policy_spec *spec,
                      const tc_topology *t, tc_policy **out, tc_error *err);

void tc_policy_free(tc_policy *p);

/* Reach mask from class A to class B (binary search in A's row). */
tc_svcmask tc_policy_reach(const tc_policy *p, uint32_t a, uint32_t b);

#endif
