/*
 * cloud_internal.h - builder state and helpers (cloud_draw.c) shared by
 * cloud_plan.c and cloud_links.c while a plan is built. Not used outside
 * the generator.
 */
#ifndef TC_CLOUD_INTERNAL_H
#define TC_CLOUD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloud_plan.h"

/* Services the generator uses, resolved to indices of tc_service_names
 * once per build so that the vocabulary's order is not assumed here. */
enum cloud_svc {
    SVC_SSH, SVC_RDP, SVC_HTTP, SVC_HTTPS, SVC_GRPC, SVC_POSTGRES, SVC_MYSQL, SVC_MONGODB,
    SVC_ELASTICSEARCH, SVC_OBJECT_STORAGE, SVC_REDIS, SVC_MEMCACHED, SVC_KAFKA, SVC_AMQP,
    SVC_VAULT, SVC_CI_RUNNER, SVC_ADMIN_API, SVC_K8S_API, SVC_BILLING_API, SVC_COUNT
};

/* Maximum entries of an app-level CSR (calls, installs, grants), whose
 * offsets are uint32_t. */
#define CLOUD_MAX_ENTRIES ((uint64_t)UINT32_MAX - 1)

/* Cumulative distribution over 0 .. n-1 with weight (i + 1)^-exponent:
 * Zipf popularity and the power law of call fan-out. */
typedef struct cloud_cdf {
    double *cumulative;
    uint32_t n;
} cloud_cdf;

typedef struct cloud_builder {
    cloud_plan *plan;
    uint64_t seed;
    uint8_t svc[SVC_COUNT];       /* enum cloud_svc -> service index */
    uint64_t next_workload;       /* first workload id of the next app */
    size_t cap_apps, cap_accounts, cap_vpcs, cap_principals, cap_assumes;
    cloud_app *scratch_apps;      /* one VPC's apps while they are sorted */
    size_t cap_scratch_apps;
    uint32_t *scratch_u32;        /* one app's packages or callees */
    size_t cap_scratch_u32;
} cloud_builder;

/* Grow *ARRAY_PTR (a pointer to an array of ELEM_SIZE-byte entries) to at
 * least NEED entries, doubling. Returns 0, or -1 with the array unchanged. */
int cloud_grow(void *array_ptr, size_t *capacity, size_t need, size_t elem_size);

/* Release the unused capacity of *ARRAY_PTR down to COUNT entries. Keeps
 * the array as it is when realloc fails, which is harmless. */
void cloud_shrink_to_fit(void *array_ptr, size_t count, size_t elem_size);

/* Key of the LOCAL-th draw of a kind inside TENANT. */
uint64_t cloud_key(uint32_t tenant, uint32_t local);

/* Standard normal draw from the key (SEED, STREAM, ENTITY, INDEX), by the
 * Box-Muller transform of two uniforms. */
double cloud_draw_normal(uint64_t seed, uint32_t stream, uint64_t entity, uint32_t index);

int cloud_cdf_build(cloud_cdf *cdf, uint32_t n, double exponent);
void cloud_cdf_free(cloud_cdf *cdf);
/* Index drawn by the uniform U in [0, 1). N must be at least 1. */
uint32_t cloud_cdf_sample(const cloud_cdf *cdf, double u);

int cloud_compare_u32(const void *a, const void *b);
/* Sort VALUES and drop duplicates. Returns the new count. */
uint32_t cloud_sort_unique_u32(uint32_t *values, uint32_t n);

/* Data, cache and queue apps: what principals hold grants on. */
static inline bool cloud_tier_is_stateful(uint8_t tier)
{
    return tier == TC_TIER_DATA || tier == TC_TIER_CACHE || tier == TC_TIER_QUEUE;
}

/* Steps of tc_cloud_plan_build in cloud_links.c. Each returns 0, or -1
 * when memory runs out. */
int cloud_build_calls(cloud_builder *b);
int cloud_build_grants(cloud_builder *b);
int cloud_build_base_rules(cloud_builder *b);

#endif
