/*
 * explicit.h - explicit topologies: a YAML file that lists every segment,
 * base rule, package, principal, workload and API edge by name.
 *
 * The format is documented in docs/explicit-topology.md; the example
 * scenarios/topologies/tiny.yaml uses every key. Explicit topologies are
 * for hand-checkable cases, tests and imports of small real estates: every
 * rank parses the whole file and keeps it in memory while building.
 */
#ifndef TC_EXPLICIT_H
#define TC_EXPLICIT_H

#include <mpi.h>

#include "error.h"
#include "topology.h"

/* Load the explicit topology at PATH and build it over COMM through the
 * builder of topology.h. Workload ids follow the order of the workloads
 * list and workload names are kept in t->workload_names; names of tenants,
 * accounts, vpcs, subnets and apps get ids in order of first use.
 *
 * Collective: every rank reads and checks the whole file, makes the same
 * hub calls, and sets only the workloads, installs, API edges (by caller)
 * and grants (by target) that it owns. Ranks agree on failure.
 *
 * Returns TC_OK with *OUT set (free with tc_topology_free), TC_ERR_INPUT
 * when the file is invalid (ERR names PATH, the line, column and key path,
 * such as "principals[1].grants[0].target"), or TC_ERR_RUNTIME; on failure
 * *OUT is NULL and nothing is left allocated. */
int tc_explicit_load(const char *path, MPI_Comm comm, tc_topology **out, tc_error *err);

#endif
