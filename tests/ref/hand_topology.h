/*
 * hand_topology.h - tiny topologies written as tables in a test, built
 * through the topology builder on any communicator.
 *
 * Every workload gets tenant, account, VPC, subnet and app 0 (named
 * "tenant-0", "account-0", ...). Segments are named "seg-<i>", principals
 * "role-<i>" and packages "pkg-<i>" (all of kind library), so selectors in
 * tests can name them.
 */
#ifndef TC_HAND_TOPOLOGY_H
#define TC_HAND_TOPOLOGY_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "topology.h"

#define HAND_COUNT(array) (sizeof(array) / sizeof((array)[0]))

typedef struct hand_workload {
    uint32_t segment, principal;
    uint8_t tier;              /* enum tc_tier */
    uint8_t env;               /* enum tc_env */
    tc_svcmask exposed;
    tc_svcmask exploitable;    /* a subset of exposed */
} hand_workload;

typedef struct hand_api_edge {
    uint64_t caller, callee;
    unsigned service;
    enum tc_trust trust;
} hand_api_edge;

typedef struct hand_grant {
    uint32_t principal;
    uint64_t target;
    tc_svcmask services;
    bool gated;
} hand_grant;

/* (principal, assumable principal), (principal, package it publishes) or
 * (workload, package it installs). */
typedef struct hand_pair {
    uint64_t first;
    uint32_t second;
} hand_pair;

typedef struct hand_topology {
    uint32_t n_segments, n_principals, n_packages;
    const tc_base_rule *base_rules;
    size_t n_base_rules;
    const hand_workload *workloads;
    size_t n_workloads;
    const hand_api_edge *api_edges;
    size_t n_api_edges;
    const hand_grant *grants;
    size_t n_grants;
    const hand_pair *assumes;
    size_t n_assumes;
    const hand_pair *publishes;
    size_t n_publishes;
    const hand_pair *installs;
    size_t n_installs;
} hand_topology;

/* Build SPEC over COMM: hub calls on every rank, per-workload calls on the
 * owners, then tc_topology_finish. Collective. Returns TC_OK with *OUT set,
 * or the builder's error with *OUT NULL. */
int hand_topology_build(const hand_topology *spec, MPI_Comm comm, tc_topology **out,
                        tc_error *err);

#endif
