/*
 * model.h - the fixed vocabularies of the trust model: services, tiers,
 * environments, crown-jewel kinds, package kinds and workload attributes.
 *
 * A set of services is one uint64_t mask: bit i is service i of
 * tc_service_names. The vocabularies are closed so that masks and enum
 * values mean the same thing in every scenario and result file.
 */
#ifndef TC_MODEL_H
#define TC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t tc_svcmask;

#define TC_SERVICE_COUNT 24
#define TC_SERVICE_ALL (((tc_svcmask)1 << TC_SERVICE_COUNT) - 1)

/* Service names, index = bit in tc_svcmask. */
extern const char *const tc_service_names[TC_SERVICE_COUNT];

enum tc_env { TC_ENV_PROD, TC_ENV_STAGING, TC_ENV_DEV, TC_ENV_COUNT };
extern const char *const tc_env_names[TC_ENV_COUNT];

enum tc_tier {
    TC_TIER_EDGE, TC_TIER_WEB, TC_TIER_API, TC_TIER_WORKER, TC_TIER_DATA,
    TC_TIER_CACHE, TC_TIER_QUEUE, TC_TIER_SECRETS, TC_TIER_CI,
    TC_TIER_ADMIN, TC_TIER_BILLING, TC_TIER_COUNT
};
extern const char *const tc_tier_names[TC_TIER_COUNT];

enum tc_crown {
    TC_CROWN_NONE, TC_CROWN_DATABASE, TC_CROWN_SECRETS, TC_CROWN_PRIVILEGED,
    TC_CROWN_BILLING, TC_CROWN_COUNT
};
extern const char *const tc_crown_names[TC_CROWN_COUNT];

enum tc_package_kind { TC_PKG_LIBRARY, TC_PKG_CICD, TC_PKG_INFRA, TC_PKG_KIND_COUNT };
extern const char *const tc_package_kind_names[TC_PKG_KIND_COUNT];

/* API edge trust: whether a caller can drive the callee. */
enum tc_trust { TC_TRUST_NONE, TC_TRUST_IMPLICIT, TC_TRUST_COUNT };
extern const char *const tc_trust_names[TC_TRUST_COUNT];

/* Workload attributes that selectors and derived-policy granularities
 * speak of. The named ones index the topology's name tables. */
enum tc_attr {
    TC_ATTR_TENANT, TC_ATTR_ACCOUNT, TC_ATTR_VPC, TC_ATTR_SUBNET,
    TC_ATTR_SEGMENT, TC_ATTR_APP, TC_ATTR_PRINCIPAL, /* named */
    TC_ATTR_ENV, TC_ATTR_TIER, TC_ATTR_CROWN,         /* enumerated */
    TC_ATTR_INTERNET_FACING,                          /* boolean */
    TC_ATTR_COUNT
};
#define TC_ATTR_NAMED_COUNT (TC_ATTR_PRINCIPAL + 1)
extern const char *const tc_attr_names[TC_ATTR_COUNT];

/* Index of NAME in the COUNT-long table NAMES, or -1. */
int tc_name_find(const char *const *names, int count, const char *name);

/* Parse a service name; returns its index or -1. */
int tc_service_find(const char *name);

#endif
