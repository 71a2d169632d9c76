/*
 * random_topology.h - small random test cases for the engine-versus-reference
 * tests: a topology, SmartGroups, three policies and footholds, all drawn
 * from one seed.
 *
 * Every draw is a pure function of (seed, stream, entity, index) through
 * rng.h. The topology goes through the builder of topology.h on the
 * communicator given. So the same seed gives the same case on one rank, for
 * the reference, and on any number of ranks, for the engine.
 *
 * What a case contains:
 *  - 10 to 200 workloads over 1-3 tenants, 1-4 accounts, 1-3 VPCs,
 *    1-4 subnets, 1-5 apps and 1-5 segments, with random env, tier, crown
 *    kind, internet-facing flag, 0-3 exposed services and an exploitable
 *    subset of them;
 *  - half of the cases dense (1-6 principals, 35% of exposed services
 *    exploitable, 0-2 API calls per caller, 0.6 grants per workload) and
 *    half sparse (3-12 principals, 15%, 0-1 call, 0.1 grant), so that some
 *    attacks run over several hops;
 *  - random base rules, a quarter of them open to every service, intra- and
 *    cross-segment, in sparse cases half of them from segment i to i + 1;
 *  - API edges without self-calls, about 40% of implicit trust;
 *  - grants, about 60% network-gated; a principal may grant access to a
 *    workload running as itself;
 *  - 0-4 packages of random kinds with random installs, random publishers
 *    and random assumes between principals (cycles allowed);
 *  - 1-4 SmartGroups with random selectors over named, enumerated and
 *    boolean attributes, "&&", "||" and "!";
 *  - policies[RANDOM_POLICY_LEGACY], [RANDOM_POLICY_RULES] (0-6 allow and
 *    deny rules over the groups or "any", random default) and
 *    [RANDOM_POLICY_DERIVED] (a granularity of 1-3 distinct attributes);
 *  - 0-3 foothold workloads and sometimes a foothold package (at least one
 *    of the two), and a hop budget of 1-6, or 50 in one case of five.
 * Services are drawn mostly from six of them (ssh to postgres) so that
 * masks meet often.
 */
#ifndef TC_RANDOM_TOPOLOGY_H
#define TC_RANDOM_TOPOLOGY_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "scenario.h"
#include "topology.h"

enum {
    RANDOM_POLICY_LEGACY,
    RANDOM_POLICY_RULES,
    RANDOM_POLICY_DERIVED,
    RANDOM_POLICY_COUNT
};

typedef struct random_topology {
    uint64_t seed;
    tc_topology *topology;        /* finished, over the communicator given */
    tc_scenario scenario;         /* groups, policies, seed and hop budget;
                                     no generator, vectors or output */
    uint64_t *foothold_workloads; /* global ids, sorted, unique */
    size_t n_foothold_workloads;
    uint32_t *foothold_packages;  /* sorted, unique */
    size_t n_foothold_packages;
} random_topology;

/* Build the case of SEED over COMM. Collective. Returns TC_OK with *OUT set
 * (free with random_topology_free), or the builder's TC_ERR_INPUT or
 * TC_ERR_RUNTIME with ERR filled and *OUT NULL. */
int random_topology_build(uint64_t seed, MPI_Comm comm, random_topology **out, tc_error *err);

/* Release a case and everything it owns; NULL is a no-op. Local. */
void random_topology_free(random_topology *rt);

#endif
