/*
 * cloud_plan.h - the skeleton of a generated cloud, shared by the cloud
 * generator's files and its tests. Not part of the public interface.
 *
 * Invariants of a plan built by tc_cloud_plan_build:
 *  1. The plan is a pure function of (params, seed): every rank builds the
 *     same plan, byte for byte, without communicating.
 *     NOTE: sizes and weights go through log, exp, cos and pow, so ranks
 *     whose C libraries round these differently could build different
 *     plans. Ranks of one build on one kind of machine agree.
 *  2. Nothing in it is per workload. Its size grows with the number of apps
 *     (about workloads / 28 with the defaults), never with the rank count.
 *  3. Apps cover the workload ids 0 .. workloads-1 in order, without gaps:
 *     app a covers [apps[a].first, apps[a].first + apps[a].size) and
 *     apps[a + 1].first == apps[a].first + apps[a].size.
 *  4. Apps are contiguous per VPC, VPCs per account and accounts per
 *     tenant, so a block partition keeps a tenant's workloads together.
 *     Inside a VPC, apps are sorted by tier (enum tc_tier order).
 *  5. Every id stored in the plan (tenant, account, VPC, subnet, segment,
 *     app, principal, package) is the id that the topology's table gives
 *     when the hub layer is emitted in order by tc_cloud_plan_emit_hubs.
 */
#ifndef TC_CLOUD_PLAN_H
#define TC_CLOUD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloud.h"

/* Subnet kinds of a VPC. Each kind has one subnet per zone. */
enum cloud_subnet_kind { CLOUD_SUBNET_PUBLIC, CLOUD_SUBNET_PRIVATE, CLOUD_SUBNET_DATA,
                         CLOUD_SUBNET_KIND_COUNT };

/* Call-graph roles of the Alibaba trace, plus the per-tenant core apps. */
enum cloud_role { CLOUD_ROLE_ENTRY, CLOUD_ROLE_MIDDLE, CLOUD_ROLE_LEAF, CLOUD_ROLE_CORE,
                  CLOUD_ROLE_COUNT };

#define CLOUD_APP_INTERNET_FACING 0x01u /* cloud_app.flags */
#define CLOUD_APP_REUSED_PRINCIPAL 0x02u /* runs as an earlier app's principal */

typedef struct cloud_tenant {
    uint64_t first_workload, n_workloads;
    uint32_t first_account, n_accounts; /* account first_account is the core one */
    uint32_t first_app, n_apps;
    uint32_t secrets_app, admin_app, billing_app; /* app ids */
    uint32_t first_ci_app, n_ci_apps;
    uint32_t admin_role;                /* principal id of the tenant's admin role */
} cloud_tenant;

typedef struct cloud_account {
    uint32_t tenant;
    uint32_t index;                     /* within the tenant, 0 = core */
    uint8_t env;                        /* enum tc_env */
    uint32_t first_vpc, n_vpcs;
    uint32_t first_app, n_apps;
    uint32_t first_stateful, n_stateful; /* into plan.stateful_apps */
} cloud_account;

typedef struct cloud_vpc {
    uint32_t account;
    uint32_t index;                     /* within the account */
    uint32_t first_subnet;              /* subnet kind k, zone z: first_subnet + k * zones + z */
    uint32_t segment[TC_TIER_COUNT];    /* TC_NAME_NONE where the VPC has no app of the tier */
    uint32_t tier_first[TC_TIER_COUNT + 1]; /* apps of tier k: [tier_first[k], tier_first[k+1]) */
    bool legacy_open;
} cloud_vpc;

typedef struct cloud_app {
    uint64_t first;                     /* global id of its first workload */
    uint32_t size;                      /* instances, >= 1 */
    uint32_t vpc;
    uint32_t principal;
    uint32_t index;                     /* among the VPC's apps of its tier, for its name */
    uint8_t tier;                       /* enum tc_tier */
    uint8_t role;                       /* enum cloud_role */
    uint8_t service;                    /* main service: what callers call it on */
    uint8_t crown;                      /* enum tc_crown */
    uint8_t flags;                      /* CLOUD_APP_* */
    tc_svcmask exposed, exploitable;
} cloud_app;

/* An app-level grant, expanded to one tc_grant per instance of APP. */
typedef struct cloud_grant {
    uint32_t principal;
    uint32_t app;
    uint32_t services;                  /* tc_svcmask of TC_SERVICE_COUNT <= 31 bits */
    uint32_t gated;                     /* 1: network-gated, 0: control-plane */
} cloud_grant;

/* A principal is either the service account of the app that created it or
 * a tenant's admin role. */
typedef struct cloud_principal {
    uint32_t app;                       /* creating app, UINT32_MAX for an admin role */
    uint32_t tenant;
} cloud_principal;

typedef struct cloud_pair {
    uint32_t from, to;
} cloud_pair;

typedef struct cloud_plan {
    tc_cloud_params params;
    uint64_t seed;

    cloud_tenant *tenants;
    uint32_t n_tenants;
    cloud_account *accounts;
    uint32_t n_accounts;
    cloud_vpc *vpcs;
    uint32_t n_vpcs;
    cloud_app *apps;
    uint32_t n_apps;
    cloud_principal *principals;
    uint32_t n_principals;

    uint32_t n_subnets, n_segments;
    uint32_t *segment_vpc;              /* per segment */
    uint8_t *segment_tier;              /* per segment */

    /* Data, cache and queue apps of each account (cloud_account.first_stateful). */
    uint32_t *stateful_apps;
    uint32_t n_stateful;

    /* Packages: libraries, then CI/CD tools, then infrastructure libraries. */
    uint32_t n_packages;
    uint32_t first_cicd, first_infra;

    /* App-level CSRs over apps. */
    uint32_t *call_offsets;             /* n_apps + 1 */
    uint32_t *call_callees;             /* callee app ids, ascending per caller */
    uint8_t *call_trust;                /* enum tc_trust per call */
    uint32_t *install_offsets;          /* n_apps + 1 */
    uint32_t *install_packages;         /* ascending per app */
    uint32_t *grant_offsets;            /* n_apps + 1, grants grouped by target app */
    cloud_grant *grants;

    /* Hub relations, sorted by (from, to). */
    tc_base_rule *base_rules;
    uint64_t n_base_rules;
    cloud_pair *assumes;                /* principal -> assumable principal */
    uint32_t n_assumes;
    cloud_pair *publishes;              /* principal -> package it may publish */
    uint32_t n_publishes;
} cloud_plan;

/* Random streams of the generator (rng.h). The base, "CL" in ASCII, keeps
 * them apart from the small stream numbers that other modules use with the
 * same seed. */
enum cloud_stream {
    CLOUD_STREAM_TENANT_SIZE = 0x434c0000,
    CLOUD_STREAM_CORE_SIZE,
    CLOUD_STREAM_ACCOUNT_SIZE,
    CLOUD_STREAM_ACCOUNT_ENV,
    CLOUD_STREAM_VPC_COUNT,
    CLOUD_STREAM_LEGACY,
    CLOUD_STREAM_APP_ROLE,
    CLOUD_STREAM_APP_SIZE,
    CLOUD_STREAM_APP_TIER,
    CLOUD_STREAM_APP_SERVICE,
    CLOUD_STREAM_APP_EXPOSURE,
    CLOUD_STREAM_APP_EXPLOIT,
    CLOUD_STREAM_PRINCIPAL,
    CLOUD_STREAM_ASSUME,
    CLOUD_STREAM_PACKAGE,
    CLOUD_STREAM_PUBLISH,
    CLOUD_STREAM_FANOUT,
    CLOUD_STREAM_CALLEE,
    CLOUD_STREAM_HUB_CALL,
    CLOUD_STREAM_TRUST,
    CLOUD_STREAM_UNUSED,
    CLOUD_STREAM_DEPLOY,
    CLOUD_STREAM_API_INSTANCE
};

/* Smallest tenant the generator can build: the core apps at one instance
 * each (the secrets manager at secrets_instances) plus one workload app. */
uint64_t tc_cloud_min_tenant_workloads(const tc_cloud_params *p);

/* Build the plan of P under SEED. P must have passed the table's ranges and
 * tc_cloud_params_check. Returns TC_OK with *OUT set, or TC_ERR_RUNTIME
 * when memory runs out (*OUT NULL, nothing left allocated). Local. */
int tc_cloud_plan_build(const tc_cloud_params *p, uint64_t seed, cloud_plan **out,
                        tc_error *err);

void tc_cloud_plan_free(cloud_plan *plan);

/* Bytes held by PLAN. */
size_t tc_cloud_plan_bytes(const cloud_plan *plan);

/* Index of the app that contains workload GID (binary search). */
uint32_t tc_cloud_plan_app_of(const cloud_plan *plan, uint64_t gid);

/* Emit the replicated layer of PLAN into T: name tables, segments,
 * principals, packages, base rules, assume and publish relations, in a
 * fixed order. Every rank makes the same calls. Returns TC_OK or the
 * builder's error. Local. */
int tc_cloud_plan_emit_hubs(const cloud_plan *plan, tc_topology *t, tc_error *err);

/* Emit workloads FIRST .. FIRST+COUNT-1 into T, which must own them: their
 * attributes, installs, API edges they call, and grants that target them.
 * The calls for a workload do not depend on the range it is emitted in,
 * so emitting [0, n) in pieces makes the same topology as in one piece.
 * Local. */
int tc_cloud_plan_emit_workloads(const cloud_plan *plan, uint64_t first, uint64_t count,
                                 tc_topology *t, tc_error *err);

/* Draw the instance count of an app of ROLE (entry, middle or leaf) as the
 * generator does, from the key (SEED, ENTITY). Exposed for the tests of
 * the size distribution. */
uint32_t tc_cloud_draw_app_size(const tc_cloud_params *p, uint64_t seed, int role,
                                uint64_t entity);

/* Write the canonical names used in the topology's tables. */
void tc_cloud_name_tenant(char *buf, size_t n, uint32_t tenant);
void tc_cloud_name_account(const cloud_plan *plan, char *buf, size_t n, uint32_t account);
void tc_cloud_name_vpc(const cloud_plan *plan, char *buf, size_t n, uint32_t vpc);

#endif
