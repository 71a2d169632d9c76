/* test_explicit.c - explicit topologies: scenarios/topologies/tiny.yaml read
 * back through the built topology, and the catalogue of invalid files in
 * tests/bad/explicit/.
 *
 * The expected values are the table at the top of tiny.yaml, typed in
 * again here. Checks only look at the workloads, edges and grants this
 * rank owns, so the test passes on any number of ranks
 * (mpiexec -n 3 build/tests/test_explicit).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <mpi.h>

#include "explicit.h"

#define BIT(service) ((tc_svcmask)1 << (service))

enum { SSH = 0, HTTP = 2, HTTPS = 3, GRPC = 4, POSTGRES = 5, REDIS = 8, VAULT = 20,
       CI_RUNNER = 22, BILLING_API = 23 };

/* tiny.yaml, one row per workload, ids in listing order. Name ids are the
 * order of first use: subnets public 0, private 1, data 2, mgmt 3; apps
 * shop 0, billing 1, ci 2, admin 3; segments and principals as listed. */
typedef struct expected_workload {
    const char *name;
    uint32_t subnet, segment, app, principal;
    uint8_t tier, crown;
    bool internet_facing;
    tc_svcmask exposed, exploitable;
    int packages[2];           /* -1 = none */
} expected_workload;

static const expected_workload tiny[] = {
    { "lb-1", 0, 0, 0, 0, TC_TIER_EDGE, TC_CROWN_NONE, true, BIT(HTTPS), BIT(HTTPS), { -1, -1 } },
    { "web-1", 1, 1, 0, 1, TC_TIER_WEB, TC_CROWN_NONE, false, BIT(HTTP), 0, { 0, -1 } },
    { "api-1", 1, 1, 0, 2, TC_TIER_API, TC_CROWN_NONE, false, BIT(GRPC), BIT(GRPC), { 0, 1 } },
    { "worker-1", 1, 1, 0, 3, TC_TIER_WORKER, TC_CROWN_NONE, false, 0, 0, { 1, -1 } },
    { "db-1", 2, 2, 0, 4, TC_TIER_DATA, TC_CROWN_DATABASE, false, BIT(POSTGRES), 0, { -1, -1 } },
    { "cache-1", 2, 2, 0, 4, TC_TIER_CACHE, TC_CROWN_NONE, false, BIT(REDIS), BIT(REDIS),
      { -1, -1 } },
    { "vault-1", 2, 2, 0, 5, TC_TIER_SECRETS, TC_CROWN_SECRETS, false, BIT(VAULT), 0,
      { -1, -1 } },
    { "billing-1", 2, 2, 1, 6, TC_TIER_BILLING, TC_CROWN_BILLING, false, BIT(BILLING_API),
      BIT(BILLING_API), { -1, -1 } },
    { "ci-1", 3, 3, 2, 7, TC_TIER_CI, TC_CROWN_NONE, false, BIT(SSH) | BIT(CI_RUNNER), 0,
      { 2, -1 } },
    { "admin-1", 3, 3, 3, 9, TC_TIER_ADMIN, TC_CROWN_PRIVILEGED, false, BIT(SSH), 0, { -1, -1 } },
};

typedef struct expected_edge {
    uint64_t from, to;
    unsigned service;
    enum tc_trust trust;
} expected_edge;

static const expected_edge tiny_edges[] = {
    { 0, 1, HTTP, TC_TRUST_IMPLICIT }, { 1, 2, GRPC, TC_TRUST_IMPLICIT },
    { 2, 4, POSTGRES, TC_TRUST_NONE }, { 2, 7, BILLING_API, TC_TRUST_NONE },
    { 3, 5, REDIS, TC_TRUST_NONE }, { 8, 9, SSH, TC_TRUST_NONE },
};

typedef struct expected_grant {
    uint32_t principal;
    uint64_t target;
    tc_svcmask services;
    bool gated;
} expected_grant;

static const expected_grant tiny_grants[] = {
    { 2, 4, BIT(POSTGRES), true }, { 2, 7, BIT(BILLING_API), true },
    { 3, 5, BIT(REDIS), true }, { 3, 6, BIT(VAULT), false }, { 8, 9, BIT(SSH), true },
};

static tc_topology *load_or_fail(const char *path)
{
    tc_topology *t = NULL;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_explicit_load(path, MPI_COMM_WORLD, &t, &err);
    if (rc != TC_OK)
        tc_error_print(&err, stderr);
    assert_int_equal(rc, TC_OK);
    assert_non_null(t);
    return t;
}

static void assert_names(const tc_names *table, const char *const *names, uint32_t n)
{
    assert_int_equal(table->count, n);
    for (uint32_t i = 0; i < n; i++)
        assert_string_equal(tc_names_get(table, i), names[i]);
}

static void tiny_hub_layer(void **state)
{
    (void)state;
    tc_topology *t = load_or_fail("scenarios/topologies/tiny.yaml");
    assert_int_equal(t->n_workloads, 10);

    static const char *const segments[] = { "edge", "app", "data", "mgmt" };
    static const char *const principals[] = { "lb-sa", "web-sa", "api-sa", "worker-sa", "db-sa",
                                              "vault-sa", "billing-sa", "ci-sa", "deployer",
                                              "admin-sa" };
    static const char *const packages[] = { "left-pad", "logcore", "buildkit" };
    static const char *const tenants[] = { "acme" };
    static const char *const accounts[] = { "acme-prod" };
    static const char *const vpcs[] = { "acme-prod-vpc" };
    static const char *const subnets[] = { "public", "private", "data", "mgmt" };
    static const char *const apps[] = { "shop", "billing", "ci", "admin" };
    assert_names(&t->segments, segments, 4);
    assert_names(&t->principals, principals, 10);
    assert_names(&t->packages, packages, 3);
    assert_names(&t->tenants, tenants, 1);
    assert_names(&t->accounts, accounts, 1);
    assert_names(&t->vpcs, vpcs, 1);
    assert_names(&t->subnets, subnets, 4);
    assert_names(&t->apps, apps, 4);
    for (uint32_t i = 0; i < 10; i++)
        assert_string_equal(tc_names_get(&t->workload_names, i), tiny[i].name);

    assert_int_equal(t->package_kind[0], TC_PKG_LIBRARY);
    assert_int_equal(t->package_kind[1], TC_PKG_INFRA);
    assert_int_equal(t->package_kind[2], TC_PKG_CICD);

    /* edge->app, app->app (any), app->data, mgmt->mgmt, mgmt->app */
    assert_int_equal(t->n_base_rules, 5);
    assert_int_equal(t->base_rules[0].from_segment, 0);
    assert_int_equal(t->base_rules[0].to_segment, 1);
    assert_int_equal(t->base_rules[0].services, BIT(HTTP) | BIT(GRPC));
    assert_int_equal(t->base_rules[1].services, TC_SERVICE_ALL);
    assert_int_equal(t->base_rules[2].services, BIT(POSTGRES) | BIT(REDIS) | BIT(BILLING_API));
    assert_int_equal(t->base_rules[4].from_segment, 3);
    assert_int_equal(t->base_rules[4].to_segment, 1);
    assert_int_equal(t->base_rules[4].services, BIT(SSH));

    /* ci-sa (7) assumes deployer (8) and publishes left-pad (0). No other
     * principal assumes or publishes. */
    for (uint32_t p = 0; p < 10; p++) {
        uint64_t assumes = t->assume_offsets[p + 1] - t->assume_offsets[p];
        uint64_t publishes = t->publish_offsets[p + 1] - t->publish_offsets[p];
        assert_int_equal(assumes, p == 7 ? 1 : 0);
        assert_int_equal(publishes, p == 7 ? 1 : 0);
    }
    assert_int_equal(t->assumes[t->assume_offsets[7]], 8);
    assert_int_equal(t->publishes[t->publish_offsets[7]], 0);

    assert_int_equal(t->n_api_edges, 6);
    assert_int_equal(t->n_grants, 5);
    assert_int_equal(t->n_installs, 5);
    tc_topology_free(t);
}

static void tiny_owned_workloads(void **state)
{
    (void)state;
    tc_topology *t = load_or_fail("scenarios/topologies/tiny.yaml");

    for (uint64_t local = 0; local < t->n_local; local++) {
        uint64_t gid = t->first + local;
        const expected_workload *w = &tiny[gid];
        assert_int_equal(t->tenant[local], 0);
        assert_int_equal(t->account[local], 0);
        assert_int_equal(t->vpc[local], 0);
        assert_int_equal(t->subnet[local], w->subnet);
        assert_int_equal(t->segment[local], w->segment);
        assert_int_equal(t->app[local], w->app);
        assert_int_equal(t->principal[local], w->principal);
        assert_int_equal(t->env[local], TC_ENV_PROD);
        assert_int_equal(t->tier[local], w->tier);
        assert_int_equal(t->crown[local], w->crown);
        assert_int_equal((t->flags[local] & TC_WORKLOAD_INTERNET_FACING) != 0, w->internet_facing);
        assert_int_equal(t->exposed[local], w->exposed);
        assert_int_equal(t->exploitable[local], w->exploitable);

        uint64_t first = t->install_offsets[local], end = t->install_offsets[local + 1];
        uint64_t n = (w->packages[0] >= 0) + (w->packages[1] >= 0);
        assert_int_equal(end - first, n);
        for (uint64_t j = 0; j < n; j++)
            assert_int_equal(t->install_packages[first + j], w->packages[j]);

        /* API edges called by this workload, in file order. */
        uint64_t e = t->api_offsets[local];
        for (size_t k = 0; k < sizeof tiny_edges / sizeof *tiny_edges; k++) {
            if (tiny_edges[k].from != gid)
                continue;
            assert_true(e < t->api_offsets[local + 1]);
            assert_int_equal(t->api_targets[e], tiny_edges[k].to);
            assert_int_equal(t->api_service[e], tiny_edges[k].service);
            assert_int_equal(t->api_trust[e], tiny_edges[k].trust);
            e++;
        }
        assert_int_equal(e, t->api_offsets[local + 1]);
    }

    /* Grants stored here are exactly those whose target this rank owns. */
    uint64_t owned_grants = 0;
    for (size_t k = 0; k < sizeof tiny_grants / sizeof *tiny_grants; k++) {
        const expected_grant *g = &tiny_grants[k];
        if (!tc_topology_owns(t, g->target))
            continue;
        owned_grants++;
        bool found = false;
        for (uint64_t j = t->grant_offsets[g->principal]; j < t->grant_offsets[g->principal + 1];
             j++) {
            const tc_grant *s = &t->grants[j];
            if (s->target_local == g->target - t->first) {
                assert_int_equal(s->services, g->services);
                assert_int_equal(s->gated, g->gated);
                found = true;
            }
        }
        assert_true(found);
    }
    assert_int_equal(t->grant_offsets[t->principals.count], owned_grants);
    tc_topology_free(t);
}

static void two_tenants_loads(void **state)
{
    (void)state;
    tc_topology *t = load_or_fail("scenarios/topologies/two-tenants.yaml");
    static const char *const tenants[] = { "vendor", "acme", "globex" };
    assert_int_equal(t->n_workloads, 6);
    assert_names(&t->tenants, tenants, 3);
    assert_int_equal(t->n_installs, 4);
    assert_int_equal(t->n_grants, 3);
    assert_int_equal(t->n_api_edges, 2);
    assert_int_equal(t->publishes[t->publish_offsets[0]], 1); /* vendor-ci-sa: vendor-agent */
    tc_topology_free(t);
}

static void missing_file(void **state)
{
    (void)state;
    tc_topology *t = (tc_topology *)1;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_explicit_load("/nonexistent/topology.yaml", MPI_COMM_WORLD, &t, &err),
                     TC_ERR_INPUT);
    assert_null(t);
    assert_string_equal(err.file, "/nonexistent/topology.yaml");
}

/* ---- the catalogue of invalid topologies ---- */

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    return n >= m && strcmp(name + n - m, suffix) == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Load every tests/bad/explicit/NAME.yaml and compare the printed error
 * with the single line of NAME.expected. */
static void bad_catalogue(void **state)
{
    (void)state;
    DIR *dir = opendir("tests/bad/explicit");
    assert_non_null(dir);
    char *names[512];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (has_suffix(e->d_name, ".yaml") && n < 512)
            names[n++] = strdup(e->d_name);
    closedir(dir);
    qsort(names, n, sizeof *names, compare_names);
    assert_true(n >= 30);

    size_t failures = 0;
    for (size_t i = 0; i < n; i++) {
        char path[512], expected_path[512], expected[2048] = "", printed[2048] = "";
        snprintf(path, sizeof path, "tests/bad/explicit/%s", names[i]);
        snprintf(expected_path, sizeof expected_path, "tests/bad/explicit/%.*s.expected",
                 (int)(strlen(names[i]) - 5), names[i]);
        FILE *f = fopen(expected_path, "r");
        if (f) {
            if (!fgets(expected, sizeof expected, f))
                expected[0] = '\0';
            fclose(f);
        }

        tc_topology *t = NULL;
        tc_error err;
        tc_error_clear(&err);
        int rc = tc_explicit_load(path, MPI_COMM_WORLD, &t, &err);
        if (rc == TC_OK) {
            snprintf(printed, sizeof printed, "OK\n");
            tc_topology_free(t);
        } else {
            FILE *out = fmemopen(printed, sizeof printed, "w");
            tc_error_print(&err, out);
            fclose(out);
        }
        if (strcmp(printed, expected) != 0) {
            fprintf(stderr, "%s:\n  expected: %s  printed:  %s", path, expected, printed);
            failures++;
        }
        free(names[i]);
    }
    assert_int_equal(failures, 0);
}

static void chdir_to_repository(void)
{
    for (int up = 0; up < 4; up++) {
        struct stat st;
        if (stat("tests/bad/explicit", &st) == 0 && S_ISDIR(st.st_mode))
            return;
        if (chdir("..") != 0)
            return;
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    chdir_to_repository();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiny_hub_layer),
        cmocka_unit_test(tiny_owned_workloads),
        cmocka_unit_test(two_tenants_loads),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(bad_catalogue),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return failed;
}
