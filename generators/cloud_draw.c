/*
 * cloud_draw.c - helpers of the cloud generator's plan: growable arrays,
 * keyed normal and lognormal draws, cumulative distributions for Zipf and
 * power-law draws, and sorting. See cloud_internal.h.
 */
#include "cloud_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

int cloud_grow(void *array_ptr, size_t *capacity, size_t need, size_t elem_size)
{
    void **array = array_ptr;
    if (need <= *capacity)
        return 0;
    size_t capacity_new = *capacity ? *capacity : 64;
    while (capacity_new < need)
        capacity_new *= 2;
    void *grown = realloc(*array, capacity_new * elem_size);
    if (!grown)
        return -1;
    *array = grown;
    *capacity = capacity_new;
    return 0;
}

void cloud_shrink_to_fit(void *array_ptr, size_t count, size_t elem_size)
{
    void **array = array_ptr;
    if (!*array || count == 0)
        return;
    void *shrunk = realloc(*array, count * elem_size);
    if (shrunk)
        *array = shrunk;
}

uint64_t cloud_key(uint32_t tenant, uint32_t local)
{
    return ((uint64_t)tenant << 32) | local;
}

double cloud_draw_normal(uint64_t seed, uint32_t stream, uint64_t entity, uint32_t index)
{
    double u1 = 1.0 - tc_rng_unit(seed, stream, entity, 2 * index); /* in (0, 1] */
    double u2 = tc_rng_unit(seed, stream, entity, 2 * index + 1);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

int cloud_cdf_build(cloud_cdf *cdf, uint32_t n, double exponent)
{
    cdf->n = n;
    cdf->cumulative = malloc((n ? n : 1) * sizeof *cdf->cumulative);
    if (!cdf->cumulative)
        return -1;
    double sum = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        sum += pow((double)(i + 1), -exponent);
        cdf->cumulative[i] = sum;
    }
    for (uint32_t i = 0; i < n; i++)
        cdf->cumulative[i] /= sum;
    if (n)
        cdf->cumulative[n - 1] = 1.0;
    return 0;
}

void cloud_cdf_free(cloud_cdf *cdf)
{
    free(cdf->cumulative);
    cdf->cumulative = NULL;
}

uint32_t cloud_cdf_sample(const cloud_cdf *cdf, double u)
{
    /* Smallest i with cumulative[i] > u. */
    uint32_t lo = 0, hi = cdf->n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cdf->cumulative[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int cloud_compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

uint32_t cloud_sort_unique_u32(uint32_t *values, uint32_t n)
{
    if (n == 0)
        return 0;
    qsort(values, n, sizeof *values, cloud_compare_u32);
    uint32_t n_unique = 1;
    for (uint32_t i = 1; i < n; i++)
        if (values[i] != values[n_unique - 1])
            values[n_unique++] = values[i];
    return n_unique;
}

uint64_t tc_cloud_min_tenant_workloads(const tc_cloud_params *p)
{
    return p->secrets_instances + p->ci_apps + 2 + 1;
}

uint32_t tc_cloud_draw_app_size(const tc_cloud_params *p, uint64_t seed, int role,
                                uint64_t entity)
{
    double mean = role == CLOUD_ROLE_ENTRY    ? p->app_size_entry
                  : role == CLOUD_ROLE_MIDDLE ? p->app_size_middle
                                              : p->app_size_leaf;

    /* ceil(Y) of a lognormal Y with mean `mean - 0.5` has a mean close to
     * `mean` (the tests compute the exact value), and is at least 1. */
    double target = mean - 0.5 < 0.5 ? 0.5 : mean - 0.5;
    double sigma = p->app_size_sigma;
    double mu = log(target) - 0.5 * sigma * sigma;
    double y = exp(mu + sigma * cloud_draw_normal(seed, CLOUD_STREAM_APP_SIZE, entity, 0));
    if (!(y < 1e9))
        y = 1e9;
    double size = ceil(y);
    return size < 1.0 ? 1u : (uint32_t)size;
}
