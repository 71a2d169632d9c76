/*
 * cloud.c - the cloud generator's parameter table, checks, memory estimate
 * and collective entry point; see cloud.h. The skeleton is built by
 * cloud_plan.c and cloud_links.c and emitted by cloud_emit.c.
 */
#include "cloud.h"
#include "cloud_plan.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFFSET(field) offsetof(tc_cloud_params, field)
#define ALIBABA "Alibaba 2022 trace, 67,760 microservices and 1,866,091 instances " \
                "(Winchester et al., arXiv 2504.13141, 2025)"

static const tc_param_desc cloud_params[] = {
    /* Scale and organisation. */
    { "workloads", TC_PARAM_U64, OFFSET(workloads), 1, 4e9, 1000000, "workloads",
      "assumption: the scale of the main job, about a million workloads",
      "exact number of workloads generated" },
    { "tenants", TC_PARAM_U64, OFFSET(tenants), 1, 1e6, 23, "tenants",
      "the Cascade of March 2026 reached 23 enterprise environments (public accounts of the event)",
      "separate organisations; each gets a core account and workload accounts" },
    { "accounts_per_tenant", TC_PARAM_U64, OFFSET(accounts_per_tenant), 1, 1e5, 160, "accounts",
      "about 160 accounts per organisation, derived from 210,000 accounts over 1,300 "
      "organisations of large customers (Palo Alto Unit 42, vol. 7)",
      "mean accounts per tenant, core account included; scales with the tenant's size" },
    { "vpcs_per_account", TC_PARAM_DOUBLE, OFFSET(vpcs_per_account), 1, 64, 2, "VPCs",
      "assumption: nothing published on VPCs per account",
      "mean VPCs per workload account, uniform over 1 .. 2*mean-1" },
    { "zones", TC_PARAM_U64, OFFSET(zones), 1, 26, 2, "zones",
      "assumption", "availability zones per VPC: one public, private and data subnet in each" },
    { "tenant_size_sigma", TC_PARAM_DOUBLE, OFFSET(tenant_size_sigma), 0, 3, 1, "",
      "assumption", "lognormal sigma of tenant sizes (0: equal tenants)" },
    { "prod_share", TC_PARAM_DOUBLE, OFFSET(prod_share), 0, 1, 0.4, "probability",
      "assumption: nothing published on the prod/staging/dev split",
      "share of workload accounts in prod" },
    { "staging_share", TC_PARAM_DOUBLE, OFFSET(staging_share), 0, 1, 0.2, "probability",
      "assumption: nothing published on the prod/staging/dev split",
      "share of workload accounts in staging; the rest are dev" },

    /* Apps. */
    { "role_entry_share", TC_PARAM_DOUBLE, OFFSET(role_entry_share), 0, 1, 0.13, "probability",
      "13% of services are entry services, " ALIBABA,
      "share of apps that are entry services (tier edge or web)" },
    { "role_middle_share", TC_PARAM_DOUBLE, OFFSET(role_middle_share), 0, 1, 0.48, "probability",
      "48% of services are middle services, " ALIBABA,
      "share of apps that are middle services (tier api or worker); the rest are leaves" },
    { "app_size_entry", TC_PARAM_DOUBLE, OFFSET(app_size_entry), 1, 1e6, 16, "instances",
      "mean 16 instances per entry service, " ALIBABA, "mean instances of an entry app" },
    { "app_size_middle", TC_PARAM_DOUBLE, OFFSET(app_size_middle), 1, 1e6, 41, "instances",
      "mean 41 instances per middle service, " ALIBABA, "mean instances of a middle app" },
    { "app_size_leaf", TC_PARAM_DOUBLE, OFFSET(app_size_leaf), 1, 1e6, 17, "instances",
      "mean 17 instances per leaf service, " ALIBABA,
      "mean instances of a leaf app (tier data, cache or queue)" },
    { "app_size_sigma", TC_PARAM_DOUBLE, OFFSET(app_size_sigma), 0, 3, 1.5, "",
      "assumption: the trace reports a heavy tail but no fit",
      "lognormal sigma of instances per app" },
    { "web_internet_facing", TC_PARAM_DOUBLE, OFFSET(web_internet_facing), 0, 1, 0.2,
      "probability", "assumption",
      "share of web apps that are internet-facing (edge apps all are)" },

    /* Per-tenant core apps. */
    { "secrets_instances", TC_PARAM_U64, OFFSET(secrets_instances), 1, 1000, 3, "instances",
      "assumption: a replicated secrets manager", "instances of each tenant's secrets manager" },
    { "ci_apps", TC_PARAM_U64, OFFSET(ci_apps), 1, 100, 2, "apps",
      "assumption", "CI apps per tenant, each with its own deploying principal" },
    { "ci_share", TC_PARAM_DOUBLE, OFFSET(ci_share), 0, 0.5, 0.01, "probability",
      "assumption", "share of a tenant's workloads that are CI runners" },
    { "admin_share", TC_PARAM_DOUBLE, OFFSET(admin_share), 0, 0.5, 0.002, "probability",
      "assumption", "share of a tenant's workloads that are admin hosts" },

    /* Identity. */
    { "principal_reuse", TC_PARAM_DOUBLE, OFFSET(principal_reuse), 0, 1, 0.2, "probability",
      "assumption: no published share of shared service accounts",
      "probability that an app runs as an existing principal of its account" },
    { "admin_assume_share", TC_PARAM_DOUBLE, OFFSET(admin_assume_share), 0, 1, 0.02,
      "probability", "assumption",
      "probability that an app's principal may assume its tenant's admin role" },
    { "unused_grant_share", TC_PARAM_DOUBLE, OFFSET(unused_grant_share), 0, 0.99, 0.9,
      "probability",
      "90-98% of granted permissions are never used (Sysdig 2023 and 2024 usage reports); "
      "the low end", "target share of a principal's grants that it never uses" },
    { "unused_grants_max", TC_PARAM_U64, OFFSET(unused_grants_max), 0, 1000, 8, "grants",
      "assumption: bounds memory, since each grant is stored once per target instance",
      "maximum unused grants drawn per app" },
    { "ci_deploy_share", TC_PARAM_DOUBLE, OFFSET(ci_deploy_share), 0, 1, 0.9, "probability",
      "assumption", "share of workload apps that a CI principal may deploy to (k8s-api)" },

    /* Network. */
    { "legacy_open_east_west", TC_PARAM_DOUBLE, OFFSET(legacy_open_east_west), 0, 1, 0.3,
      "probability", "assumption: no published share of broad-ingress rules",
      "probability that a VPC has a rule from every segment to every segment, any service" },

    /* API call graph. */
    { "call_fanout_exponent", TC_PARAM_DOUBLE, OFFSET(call_fanout_exponent), 1, 5, 2.23, "",
      "endpoints per service follow a power law of exponent 2.23 at Meta, 18,500 services "
      "(Huye et al., USENIX ATC 2023; secondary)",
      "exponent of the power law of callees per calling app" },
    { "call_fanout_max", TC_PARAM_U64, OFFSET(call_fanout_max), 0, 10000, 64, "apps",
      "assumption", "maximum callees drawn per app (0: no calls but the hubs)" },
    { "call_vpc_share", TC_PARAM_DOUBLE, OFFSET(call_vpc_share), 0, 1, 0.8, "probability",
      "assumption", "share of calls to an app of the caller's VPC" },
    { "call_account_share", TC_PARAM_DOUBLE, OFFSET(call_account_share), 0, 1, 0.15,
      "probability", "assumption",
      "share of calls to any VPC of the caller's account; the rest go to another account of "
      "the tenant in the same env" },
    { "secrets_call_share", TC_PARAM_DOUBLE, OFFSET(secrets_call_share), 0, 1, 0.5,
      "probability",
      "assumption: at Meta a credential vault had the highest fan-in (Huye et al., "
      "USENIX ATC 2023; secondary), no share published",
      "probability that a calling app calls (and holds a grant on) its tenant's secrets manager" },
    { "billing_call_share", TC_PARAM_DOUBLE, OFFSET(billing_call_share), 0, 1, 0.05,
      "probability", "assumption",
      "probability that a prod middle app calls its tenant's billing" },
    { "api_instances_per_callee", TC_PARAM_U64, OFFSET(api_instances_per_callee), 1, 1000, 2,
      "instances", "assumption",
      "instances of each callee app that each caller workload calls" },
    { "api_implicit_trust", TC_PARAM_DOUBLE, OFFSET(api_implicit_trust), 0, 1, 0.3,
      "probability", "assumption",
      "probability that an app-level call lets the caller drive the callee" },

    /* Packages. */
    { "libraries", TC_PARAM_U64, OFFSET(libraries), 1, 1e7, 20000, "packages",
      "assumption", "library packages in the catalogue" },
    { "package_zipf_exponent", TC_PARAM_DOUBLE, OFFSET(package_zipf_exponent), 0, 4, 1,
      "", "assumption", "Zipf exponent of package popularity, every kind" },
    { "libraries_per_app", TC_PARAM_U64, OFFSET(libraries_per_app), 0, 1000, 6, "packages",
      "assumption: bounds memory; OSSRA 2024 counts over 500 components per codebase "
      "(1,000+ commercial codebases), transitive ones included",
      "library draws per app, with replacement" },
    { "ci_published_libraries", TC_PARAM_U64, OFFSET(ci_published_libraries), 0, 1e6, 10,
      "packages",
      "assumption: the 2025 npm worm found up to 100 packages per maintainer (secondary)",
      "library draws, uniform, that each CI principal may publish" },
    { "cicd_tools", TC_PARAM_U64, OFFSET(cicd_tools), 1, 1e5, 40, "packages",
      "assumption", "CI/CD tools in the catalogue" },
    { "cicd_tools_per_ci", TC_PARAM_U64, OFFSET(cicd_tools_per_ci), 0, 1000, 5, "packages",
      "assumption", "CI/CD tool draws per CI app, with replacement" },
    { "infra_libraries", TC_PARAM_U64, OFFSET(infra_libraries), 1, 1e5, 20, "packages",
      "assumption", "infrastructure libraries in the catalogue" },
    { "infra_per_app", TC_PARAM_U64, OFFSET(infra_per_app), 0, 1000, 2, "packages",
      "assumption", "infrastructure library draws per app, with replacement" },

    /* Exposure. */
    { "ssh_exposed", TC_PARAM_DOUBLE, OFFSET(ssh_exposed), 0, 1, 0.26, "probability",
      "SSH open to the internet on about 26% of VMs (Zscaler customers, 2020)",
      "probability that an app's instances listen on ssh, reachable by whatever the rules allow" },
    { "rdp_exposed", TC_PARAM_DOUBLE, OFFSET(rdp_exposed), 0, 1, 0.20, "probability",
      "RDP open to the internet on about 20% of VMs (Zscaler customers, 2020)",
      "probability that an app's instances listen on rdp, reachable by whatever the rules allow" },
    { "exploitable_share", TC_PARAM_DOUBLE, OFFSET(exploitable_share), 0, 1, 0.13,
      "probability",
      "87% of production images carry a critical or high vulnerability and about 15% of those "
      "are in packages loaded at run time, 0.87 x 0.15 (Sysdig 2023 usage report)",
      "probability that each listening service of an app is exploitable" },
};

static int cloud_check(const void *params, const char *file, tc_error *err)
{
    return tc_cloud_params_check(params, file, err);
}

const tc_generator_desc tc_cloud_generator = {
    .name = "cloud",
    .params_size = sizeof(tc_cloud_params),
    .params = cloud_params,
    .n_params = sizeof cloud_params / sizeof *cloud_params,
    .check = cloud_check,
};

void tc_cloud_params_default(tc_cloud_params *p)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < tc_cloud_generator.n_params; i++) {
        const tc_param_desc *d = &cloud_params[i];
        char *field = (char *)p + d->offset;
        if (d->type == TC_PARAM_U64)
            *(uint64_t *)field = (uint64_t)d->default_value;
        else if (d->type == TC_PARAM_DOUBLE)
            *(double *)field = d->default_value;
        else
            *(bool *)field = d->default_value != 0;
    }
}

static int check_sum(double a, double b, const char *name_a, const char *name_b,
                     const char *file, tc_error *err)
{
    if (a + b <= 1.0 + 1e-12)
        return TC_OK;
    char key[128];
    snprintf(key, sizeof key, "topology.params.%s", name_b);
    return tc_error_input(err, file, 0, 0, key,
                          "%s (%g) and %s (%g) add up to more than 1; lower one of them",
                          name_a, a, name_b, b);
}

int tc_cloud_params_check(const tc_cloud_params *p, const char *file, tc_error *err)
{
    /* The table's ranges, for callers that did not come through the loader. */
    for (size_t i = 0; i < tc_cloud_generator.n_params; i++) {
        const tc_param_desc *d = &cloud_params[i];
        const char *field = (const char *)p + d->offset;
        double value = d->type == TC_PARAM_U64      ? (double)*(const uint64_t *)field
                       : d->type == TC_PARAM_DOUBLE ? *(const double *)field
                                                    : (double)*(const bool *)field;
        if (!(value >= d->min && value <= d->max)) {
            char key[128];
            snprintf(key, sizeof key, "topology.params.%s", d->name);
            return tc_error_input(err, file, 0, 0, key, "%g is out of range [%g, %g]", value,
                                  d->min, d->max);
        }
    }

    if (check_sum(p->prod_share, p->staging_share, "prod_share", "staging_share", file, err) ||
        check_sum(p->role_entry_share, p->role_middle_share, "role_entry_share",
                  "role_middle_share", file, err) ||
        check_sum(p->call_vpc_share, p->call_account_share, "call_vpc_share",
                  "call_account_share", file, err))
        return err->code;

    uint64_t minimum = tc_cloud_min_tenant_workloads(p);
    if (p->workloads / p->tenants < minimum)
        return tc_error_input(err, file, 0, 0, "topology.params.workloads",
                              "%llu workloads are too few for %llu tenants: each tenant needs at "
                              "least %llu (its core apps and one workload app), so raise "
                              "workloads to %llu or lower tenants",
                              (unsigned long long)p->workloads, (unsigned long long)p->tenants,
                              (unsigned long long)minimum,
                              (unsigned long long)(minimum * p->tenants));
    return TC_OK;
}

/* Mean of the truncated power law k^-exponent over 1 .. kmax. */
static double fanout_mean(const tc_cloud_params *p)
{
    double weight = 0.0, sum = 0.0;
    for (uint64_t k = 1; k <= p->call_fanout_max; k++) {
        double w = pow((double)k, -p->call_fanout_exponent);
        weight += w;
        sum += w * (double)k;
    }
    return weight > 0.0 ? sum / weight : 0.0;
}

/* Expected entries per workload of the generated topology. */
typedef struct cloud_expectation {
    double mean_size;       /* instances per workload app */
    double apps;            /* total, core apps included */
    double edges, installs, grants; /* per workload */
} cloud_expectation;

/* Expected counts from the parameters. Upper-leaning: draws with
 * replacement may collapse and call slots may stay empty, which the
 * expectation ignores. */
static cloud_expectation expect_counts(const tc_cloud_params *p)
{
    cloud_expectation x;
    double entry = p->role_entry_share, middle = p->role_middle_share;
    double leaf = 1.0 - entry - middle;
    x.mean_size = entry * p->app_size_entry + middle * p->app_size_middle + leaf * p->app_size_leaf;
    double workloads = (double)p->workloads, tenants = (double)p->tenants;
    double work_apps = workloads / x.mean_size;
    x.apps = work_apps + tenants * (3.0 + (double)p->ci_apps);

    /* API edges: callees per calling app times the instances called each. */
    double fanout = fanout_mean(p);
    double per_callee = (double)p->api_instances_per_callee;
    double entry_w = entry * p->app_size_entry / x.mean_size;
    double middle_w = middle * p->app_size_middle / x.mean_size;
    double secrets_m = fmin(per_callee, (double)p->secrets_instances);
    x.edges = (entry_w + middle_w) * (fanout * per_callee + p->secrets_call_share * secrets_m) +
              middle_w * p->prod_share * p->billing_call_share * per_callee;

    x.installs = (double)(p->libraries_per_app + p->infra_per_app);

    /* Grants are stored once per target instance. Used grants target the
     * data, cache and queue apps that middle apps call, and the secrets
     * manager. Unused ones target the account's data, cache and queue
     * apps. CI deploy grants target every app, admin-role grants every
     * data app. */
    double accounts = fmin((double)p->accounts_per_tenant,
                           fmax(1.0, workloads / tenants / (4.0 * x.mean_size)));
    double stateful = work_apps / (tenants * accounts) * leaf;
    double used = middle * fanout * 0.6 + (entry + middle) * p->secrets_call_share;
    double ratio = p->unused_grant_share / (1.0 - p->unused_grant_share);
    double unused = fmin(fmin((double)p->unused_grants_max, fmax(1.0, used) * ratio),
                         stateful + 1.0);
    double unused_size = (stateful * p->app_size_leaf + (double)p->secrets_instances) /
                         (stateful + 1.0);
    x.grants = (middle * fanout * 0.6 * p->app_size_leaf +
                (entry + middle) * p->secrets_call_share * (double)p->secrets_instances +
                (entry + middle + leaf) * unused * unused_size) / x.mean_size +
               p->ci_deploy_share + 0.5 * leaf * p->app_size_leaf / x.mean_size;
    return x;
}

size_t tc_cloud_estimate_bytes(const tc_cloud_params *p, int nranks)
{
    cloud_expectation x = expect_counts(p);
    double local = ceil((double)p->workloads / (nranks > 0 ? nranks : 1));
    double n = 1.0, e = x.edges, i = x.installs, g = x.grants;

    /* Bytes per workload in topology.c. While building: attributes (49),
     * and per edge, install and grant the builder's arrays (18, 12, 28).
     * tc_topology_finish then turns them into CSRs one kind at a time, so
     * its peak is the largest of its three phases (API edges, installs
     * with the package -> installer index, grants), each counting the
     * arrays still alive, the sort order and the new CSR. */
    double building = 49 * n + 18 * e + 12 * i + 28 * g;
    double finish_api = 65 * n + 36 * e + 12 * i + 28 * g;
    double finish_installs = 65 * n + 10 * e + 40 * i + 28 * g;
    double finish_grants = 65 * n + 10 * e + 20 * i + 60 * g;
    double finish = fmax(finish_api, fmax(finish_installs, finish_grants));

    /* Replicated on every rank while building: the plan, which per app
     * stores its record, offsets, callees, installs and grants. Kept for
     * good: the hub layer, with name tables at about 64 bytes a name
     * including hash slots, base rules, per-principal and per-package
     * arrays. */
    double accounts = (double)p->tenants * (double)p->accounts_per_tenant;
    double vpcs = accounts * p->vpcs_per_account;
    double principals = x.apps * (1.0 - 0.5 * p->principal_reuse) + (double)p->tenants;
    double packages = (double)(p->libraries + p->cicd_tools + p->infra_libraries);
    double plan = x.apps * (sizeof(cloud_app) + 16 + 5 * (fanout_mean(p) + 1) + 4 * x.installs +
                            sizeof(cloud_grant) * x.grants * x.mean_size / p->app_size_leaf) +
                  vpcs * (sizeof(cloud_vpc) + 20 * sizeof(tc_base_rule)) +
                  accounts * sizeof(cloud_account);
    double names = (x.apps + principals + vpcs * (2 + 3 * (double)p->zones + 5) + accounts) * 64 +
                   packages * 48;
    double hubs = names + vpcs * 20 * sizeof(tc_base_rule) + principals * 4 * sizeof(uint64_t) +
                  packages * (2 * sizeof(uint64_t) + 5);
    return (size_t)(fmax(local * building + plan, local * finish) + hubs);
}

static int compare_u64_cuts(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest value to TARGET in the sorted array CUTS of N entries. */
static uint64_t nearest_cut(const uint64_t *cuts, uint64_t n, uint64_t target)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (cuts[mid] < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t best = lo < n ? cuts[lo] : cuts[n - 1];
    if (lo > 0 && target - cuts[lo - 1] < (best > target ? best - target : target - best))
        best = cuts[lo - 1];
    return best;
}

/* Rank ranges cut near the equal cut at the coarsest boundary within 10 %
 * of a rank's share: a tenant's, else an account's, else a VPC's, else an
 * app's, so that most API edges stay on their caller's rank. Fills OFFSETS
 * (nranks + 1). Returns 0, or -1 when out of memory. */
static int locality_offsets(const cloud_plan *plan, uint64_t n, int nranks, uint64_t *offsets)
{
    enum { LEVELS = 4 };
    size_t caps[LEVELS] = { plan->n_tenants, plan->n_accounts, plan->n_vpcs, plan->n_apps };
    uint64_t *cuts[LEVELS] = { NULL };
    uint64_t counts[LEVELS] = { 0 };
    int status = 0;
    for (int l = 0; l < LEVELS; l++)
        if (!(cuts[l] = malloc((caps[l] + 1) * sizeof(uint64_t))))
            status = -1;
    if (status != 0)
        goto release;

    /* The first workload of each tenant, account, VPC and app. */
    for (uint32_t i = 0; i < plan->n_tenants; i++)
        if (plan->tenants[i].n_apps > 0)
            cuts[0][counts[0]++] = plan->apps[plan->tenants[i].first_app].first;
    for (uint32_t i = 0; i < plan->n_accounts; i++)
        if (plan->accounts[i].n_apps > 0)
            cuts[1][counts[1]++] = plan->apps[plan->accounts[i].first_app].first;
    for (uint32_t i = 0; i < plan->n_vpcs; i++) {
        const cloud_vpc *vpc = &plan->vpcs[i];
        if (vpc->tier_first[TC_TIER_COUNT] > vpc->tier_first[0])
            cuts[2][counts[2]++] = plan->apps[vpc->tier_first[0]].first;
    }
    for (uint32_t i = 0; i < plan->n_apps; i++)
        cuts[3][counts[3]++] = plan->apps[i].first;
    for (int l = 0; l < LEVELS; l++)
        qsort(cuts[l], counts[l], sizeof(uint64_t), compare_u64_cuts);

    uint64_t tolerance = n / (uint64_t)nranks / 10;
    offsets[0] = 0;
    offsets[nranks] = n;
    for (int r = 1; r < nranks; r++) {
        uint64_t ideal = (uint64_t)((unsigned __int128)n * r / nranks);
        uint64_t cut = ideal;
        for (int l = 0; l < LEVELS; l++) {
            if (counts[l] == 0)
                continue;
            uint64_t near = nearest_cut(cuts[l], counts[l], ideal);
            if ((near > ideal ? near - ideal : ideal - near) <= tolerance) {
                cut = near;
                break;
            }
        }
        offsets[r] = cut < offsets[r - 1] ? offsets[r - 1] : cut;
    }

release:
    for (int l = 0; l < LEVELS; l++)
        free(cuts[l]);
    return status;
}

int tc_cloud_generate(const tc_cloud_params *p, uint64_t seed, MPI_Comm comm,
                      tc_topology **out, tc_error *err)
{
    return tc_cloud_generate_partitioned(p, seed, TC_PARTITION_BLOCK, comm, out, err);
}

int tc_cloud_generate_partitioned(const tc_cloud_params *p, uint64_t seed,
                                  enum tc_partition scheme, MPI_Comm comm, tc_topology **out,
                                  tc_error *err)
{
    *out = NULL;
    uint64_t *offsets = NULL;
    if (tc_cloud_params_check(p, NULL, err) != TC_OK)
        return err->code; /* same parameters on every rank, same verdict */

    cloud_plan *plan = NULL;
    tc_topology *t = NULL;
    tc_cloud_plan_build(p, seed, &plan, err);
    if (tc_error_agree(err, comm) != TC_OK)
        goto free_plan;

    if (scheme == TC_PARTITION_LOCALITY) {
        int nranks;
        MPI_Comm_size(comm, &nranks);
        offsets = malloc(((size_t)nranks + 1) * sizeof *offsets);
        if (!offsets || locality_offsets(plan, p->workloads, nranks, offsets) != 0)
            tc_error_runtime(err, "out of memory planning the locality partition");
        if (tc_error_agree(err, comm) != TC_OK)
            goto free_plan;
    }
    if (tc_topology_create_ranges(comm, p->workloads, offsets, &t, err) != TC_OK)
        goto free_plan;
    t->partition = tc_partition_names[scheme];
    if (tc_cloud_plan_emit_hubs(plan, t, err) == TC_OK)
        tc_cloud_plan_emit_workloads(plan, t->first, t->n_local, t, err);
    if (tc_error_agree(err, comm) != TC_OK)
        goto free_topology;

    /* The plan is not needed by finish; release it before finish's peak. */
    tc_cloud_plan_free(plan);
    plan = NULL;
    if (tc_topology_finish(t, err) != TC_OK)
        goto free_topology;
    free(offsets);
    *out = t;
    return TC_OK;

free_topology:
    tc_topology_free(t);
free_plan:
    tc_cloud_plan_free(plan);
    free(offsets);
    return err->code;
}
