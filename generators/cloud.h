/*
 * cloud.h - the synthetic multi-tenant cloud generator ("cloud").
 *
 * The generator builds tenants, their accounts (one core account per tenant
 * plus workload accounts, each with an env), VPCs, subnets and one segment
 * per (VPC, tier). It also builds microservice apps with heavy-tailed
 * instance counts, principals, base network rules, an app-level API call
 * graph, grants, and a package catalogue with Zipf popularity, and emits it
 * all through the builder of topology.h. docs/generator.md describes the
 * model and the source of every default.
 *
 * Distribution. Every rank computes the same skeleton (everything per app,
 * never per workload) from keyed draws of rng.h. Each rank then emits only
 * the workloads it owns, with their installs, the API edges they call and
 * the grants that target them. The resulting topology is the same graph on
 * any rank count.
 */
#ifndef TC_CLOUD_H
#define TC_CLOUD_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "scenario.h"
#include "topology.h"

/* Parameters of the generator. tc_cloud_generator.params documents each
 * field (unit, range, default and its source). Counts are uint64_t and
 * shares are probabilities in [0, 1]. */
typedef struct tc_cloud_params {
    /* Scale and organisation. */
    uint64_t workloads;            /* exact total */
    uint64_t tenants;
    uint64_t accounts_per_tenant;  /* mean, core account included */
    double vpcs_per_account;       /* mean */
    uint64_t zones;                /* availability zones, one subnet per zone and subnet kind */
    double tenant_size_sigma;      /* lognormal sigma of tenant sizes */
    double prod_share, staging_share; /* env of workload accounts, the rest are dev */

    /* Apps. */
    double role_entry_share, role_middle_share; /* the rest are leaves */
    double app_size_entry, app_size_middle, app_size_leaf; /* mean instances per app */
    double app_size_sigma;         /* lognormal sigma of instances per app */
    double web_internet_facing;    /* share of web apps that are internet-facing */

    /* Per-tenant core apps. */
    uint64_t secrets_instances;
    uint64_t ci_apps;
    double ci_share, admin_share;  /* share of the tenant's workloads */

    /* Identity. */
    double principal_reuse;
    double admin_assume_share;
    double unused_grant_share;
    uint64_t unused_grants_max;
    double ci_deploy_share;

    /* Network. */
    double legacy_open_east_west;

    /* API call graph. */
    double call_fanout_exponent;
    uint64_t call_fanout_max;
    double call_vpc_share, call_account_share;
    double secrets_call_share, billing_call_share;
    uint64_t api_instances_per_callee;
    double api_implicit_trust;

    /* Packages. */
    uint64_t libraries;
    double package_zipf_exponent;
    uint64_t libraries_per_app;
    uint64_t ci_published_libraries;
    uint64_t cicd_tools;
    uint64_t cicd_tools_per_ci;
    uint64_t infra_libraries;
    uint64_t infra_per_app;

    /* Exposure. */
    double ssh_exposed, rdp_exposed;
    double exploitable_share;
} tc_cloud_params;

/* The parameter table (name "cloud") that the scenario loader reads. */
extern const tc_generator_desc tc_cloud_generator;

/* Fill P with the defaults of the parameter table. Local. */
void tc_cloud_params_default(tc_cloud_params *p);

/* Check the constraints between parameters that the per-parameter ranges
 * cannot express (shares that must sum to at most 1, enough workloads for
 * the core apps of every tenant). FILE names the scenario in the error.
 * Returns TC_OK or TC_ERR_INPUT with ERR naming the key. Local. */
int tc_cloud_params_check(const tc_cloud_params *p, const char *file, tc_error *err);

/* Estimated peak bytes per rank for generating and holding the topology:
 * the replicated skeleton and hub layer plus the largest rank's share of
 * workloads, edges, installs and grants, including the builder's arrays
 * at their peak inside tc_topology_finish. An estimate from expected
 * counts, not a bound. Local. */
size_t tc_cloud_estimate_bytes(const tc_cloud_params *p, int nranks);

/* Generate on COMM: each rank builds only the workloads it owns. Collective;
 * ranks agree on failure. Returns TC_OK with *OUT finished, or
 * TC_ERR_INPUT (invalid parameters) / TC_ERR_RUNTIME (out of memory) with
 * ERR filled and *OUT NULL. The caller frees *OUT with tc_topology_free. */
int tc_cloud_generate(const tc_cloud_params *p, uint64_t seed, MPI_Comm comm,
                      tc_topology **out, tc_error *err);

/* The same with a partition scheme: TC_PARTITION_LOCALITY moves each cut
 * between ranks to the nearest VPC boundary within 10 % of a rank's equal
 * share (else the nearest app boundary), so a VPC's API edges stay on one
 * rank. The topology is the same graph under every scheme. Collective. */
int tc_cloud_generate_partitioned(const tc_cloud_params *p, uint64_t seed,
                                  enum tc_partition scheme, MPI_Comm comm, tc_topology **out,
                                  tc_error *err);

#endif
