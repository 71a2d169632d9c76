/*
 * topology.h - the distributed cloud topology and the interface that
 * generators and importers build it through.
 *
 * Invariants once tc_topology_finish has returned TC_OK:
 *  1. Workload ids are global, 0 .. n_workloads-1. Each workload has exactly
 *     one owner rank; rank r owns the contiguous range
 *     [owner_offsets[r], owner_offsets[r+1]), and local index i on rank r is
 *     global id owner_offsets[r] + i.
 *  2. Per-workload arrays (tenant ... exploitable, packages, API edges) hold
 *     the owned workloads only, indexed by local index.
 *  3. The hub layer (name tables, segments and base rules, principals with
 *     their assume and publish lists, packages) is replicated: identical on
 *     every rank, ids dense from 0.
 *  4. A grant is stored on the rank that owns its target workload, grouped
 *     by principal (CSR grant_offsets over principals).
 *  5. API edges are stored on the rank that owns the caller, as a CSR over
 *     local callers with global callee ids.
 *  6. Nothing here depends on the number of ranks except which rank holds
 *     which slice, so a topology built from the same input is the same graph
 *     on any rank count.
 *
 * Building: tc_topology_create, then on every rank the same sequence of
 * hub calls (add_segment, add_base_rule, add_principal, ...), then per-owner
 * calls for owned workloads (set_workload, add_install, add_api_edge for
 * owned callers, add_grant for owned targets), then tc_topology_finish.
 * Calls for workloads the rank does not own are input errors.
 */
#ifndef TC_TOPOLOGY_H
#define TC_TOPOLOGY_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model.h"
#include "names.h"

#define TC_WORKLOAD_INTERNET_FACING 0x01u /* flags bit */

/* How workload ids are cut into per-rank ranges. Results never depend on
 * it; the edge cut and so the communication volume do. */
enum tc_partition {
    TC_PARTITION_BLOCK,    /* equal ranges of ids */
    TC_PARTITION_LOCALITY, /* ranges cut at VPC (else app) boundaries near the equal cut */
    TC_PARTITION_COUNT
};
extern const char *const tc_partition_names[TC_PARTITION_COUNT];

/* Attributes of one workload, as set by a builder. Named attributes are ids
 * into the topology's name tables. */
typedef struct tc_workload_spec {
    uint32_t tenant, account, vpc, subnet, segment, app, principal;
    uint8_t env;              /* enum tc_env */
    uint8_t tier;             /* enum tc_tier */
    uint8_t crown;            /* enum tc_crown */
    bool internet_facing;
    tc_svcmask exposed;       /* services listening */
    tc_svcmask exploitable;   /* exposed services with exploit probability > 0 */
} tc_workload_spec;

typedef struct tc_base_rule {
    uint32_t from_segment, to_segment;
    tc_svcmask services;
} tc_base_rule;

/* A grant as stored on the owner of its target. */
typedef struct tc_grant {
    uint64_t target_local;    /* local index of the target workload */
    tc_svcmask services;
    bool gated;               /* network-gated (true) or control-plane (false) */
} tc_grant;

typedef struct tc_topology {
    MPI_Comm comm;            /* borrowed, not freed */
    int rank, nranks;

    uint64_t n_workloads;     /* global */
    uint64_t *owner_offsets;  /* nranks + 1 entries */
    uint64_t first;           /* global id of local index 0 */
    uint64_t n_local;

    /* Name tables (replicated). Workload names are only kept for explicit
     * topologies (n_workloads entries); generated ones print "w<id>". */
    tc_names tenants, accounts, vpcs, subnets, segments, apps, principals, packages;
    tc_names workload_names; /* explicit topologies only: id = global id */

    /* Per owned workload, indexed by local index. */
    uint32_t *tenant, *account, *vpc, *subnet, *segment, *app, *principal;
    uint8_t *env, *tier, *crown, *flags;
    tc_svcmask *exposed, *exploitable;

    /* Installed packages of owned workloads: CSR. */
    uint64_t *install_offsets; /* n_local + 1 */
    uint32_t *install_packages;

    /* Package -> owned installers: CSR over packages (built by finish). */
    uint64_t *installer_offsets; /* packages.count + 1 */
    uint64_t *installers;        /* local indices */

    /* API call edges of owned callers: CSR. */
    uint64_t *api_offsets;    /* n_local + 1 */
    uint64_t *api_targets;    /* global callee ids */
    uint8_t *api_service;     /* service index */
    uint8_t *api_trust;       /* enum tc_trust */

    /* Grants to owned targets, grouped by principal: CSR. */
    uint64_t *grant_offsets;  /* principals.count + 1 */
    tc_grant *grants;

    /* Principal -> owned workloads running as it: CSR (built by finish). */
    uint64_t *member_offsets; /* principals.count + 1 */
    uint64_t *members;        /* local indices */

    /* Hub layer (replicated). */
    tc_base_rule *base_rules;
    uint64_t n_base_rules;
    uint8_t *package_kind;        /* enum tc_package_kind, per package */
    uint32_t *package_popularity; /* 1 = most installed of its kind */
    uint64_t *assume_offsets;     /* principals.count + 1 */
    uint32_t *assumes;            /* principals assumable from each */
    uint64_t *publish_offsets;    /* principals.count + 1 */
    uint32_t *publishes;          /* packages each principal may publish */

    /* Global totals, computed by finish. */
    uint64_t n_api_edges, n_grants, n_installs;
    uint64_t n_api_edges_remote;   /* edge cut: API edges whose callee another rank owns */
    const char *partition;         /* "block" or the scheme the builder chose (static string) */

    struct tc_topology_build *build; /* builder state, NULL once finished */
} tc_topology;

/* Create an empty topology of N_WORKLOADS workloads over COMM, block
 * partitioned. Collective. Returns TC_OK, or TC_ERR_RUNTIME with ERR filled
 * when memory runs out; on failure *OUT is NULL. */
int tc_topology_create(MPI_Comm comm, uint64_t n_workloads, tc_topology **out,
                       tc_error *err);

/* The same with the partition given: rank r owns [OFFSETS[r], OFFSETS[r+1]),
 * OFFSETS has nranks + 1 non-decreasing entries from 0 to N_WORKLOADS and
 * is the same on every rank. NULL means block. */
int tc_topology_create_ranges(MPI_Comm comm, uint64_t n_workloads, const uint64_t *offsets,
                              tc_topology **out, tc_error *err);

/* Release everything, also a topology whose build failed. NULL is a no-op. */
void tc_topology_free(tc_topology *t);

/* Owner rank of global id GID (binary search of owner_offsets). */
int tc_topology_owner(const tc_topology *t, uint64_t gid);

static inline bool tc_topology_owns(const tc_topology *t, uint64_t gid)
{
    return gid >= t->first && gid < t->first + t->n_local;
}

/* Hub layer: replicated, so every rank makes the same calls in the same
 * order. Each returns the new id, or TC_NAME_NONE when out of memory or the
 * name is taken (ERR says which). */
uint32_t tc_topology_add_segment(tc_topology *t, const char *name, tc_error *err);
uint32_t tc_topology_add_principal(tc_topology *t, const char *name, tc_error *err);
uint32_t tc_topology_add_package(tc_topology *t, const char *name,
                                 enum tc_package_kind kind, tc_error *err);
int tc_topology_add_base_rule(tc_topology *t, uint32_t from_segment,
                              uint32_t to_segment, tc_svcmask services, tc_error *err);
int tc_topology_add_assume(tc_topology *t, uint32_t principal, uint32_t assumable,
                           tc_error *err);
int tc_topology_add_publish(tc_topology *t, uint32_t principal, uint32_t package,
                            tc_error *err);

/* Intern a name in one of the attribute tables (tenants, accounts, vpcs,
 * subnets, apps); replicated like the hub calls. */
uint32_t tc_topology_intern(tc_topology *t, tc_names *table, const char *name,
                            tc_error *err);

/* Per-owner calls: GID must be owned by this rank. */
int tc_topology_set_workload(tc_topology *t, uint64_t gid,
                             const tc_workload_spec *spec, tc_error *err);
int tc_topology_add_install(tc_topology *t, uint64_t gid, uint32_t package,
                            tc_error *err);
int tc_topology_add_api_edge(tc_topology *t, uint64_t caller, uint64_t callee,
                             unsigned service, enum tc_trust trust, tc_error *err);
int tc_topology_add_grant(tc_topology *t, uint32_t principal, uint64_t target,
                          tc_svcmask services, bool gated, tc_error *err);

/* Finish building: sort edges into CSRs, build the inverted indices, check
 * every id is in range, compute package popularity and global totals.
 * Collective; ranks agree on failure. Returns TC_OK, TC_ERR_INPUT (a
 * reference out of range) or TC_ERR_RUNTIME. */
int tc_topology_finish(tc_topology *t, tc_error *err);

/* Bytes held by this rank's part of the topology. */
size_t tc_topology_bytes(const tc_topology *t);

/* Write the name of workload GID into BUF: its name in workload_names when
 * the topology has one, else "w<id>". */
void tc_topology_workload_name(const tc_topology *t, uint64_t gid, char *buf, size_t n);

#endif
