/*
 * bench_whatif.c - `trustchain bench whatif` (see bench_whatif.h).
 *
 * Times are the slowest rank's (MPI_MAX over ranks) and wall-clock
 * (MPI_Wtime). The per-candidate time of the lanes is the time of the
 * ranking passes divided by the candidates evaluated. The plain time is
 * the mean over the sampled candidates, for the whole plain path (copy the
 * topology with the closure, recompile where needed, simulate) and for its
 * tc_sim_run alone, which no plain approach can avoid.
 */
#include "bench_whatif.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud.h"
#include "results.h"
#include "engine.h"
#include "error.h"
#include "explicit.h"
#include "memory.h"
#include "plan.h"
#include "policy.h"
#include "scenario.h"
#include "whatif.h"

#define BENCH_DEFAULT_CANDIDATES 256
#define BENCH_DEFAULT_PLAIN 8
#define BENCH_TOP 10

typedef struct bench_options {
    const char *scenario;
    const char *policy;        /* NULL: every policy */
    size_t candidates;
    size_t plain;
    uint32_t plan_steps;       /* 0: no plan */
    const char *json;          /* plan documents, NULL: none */
    bool quiet;
} bench_options;

typedef struct bench {
    MPI_Comm comm;
    int rank, nranks;
    bench_options opt;
    tc_error err;
    tc_scenario *scenario;
    tc_topology *t;
    tc_footholds f;
    json_t *plans;             /* rank 0, with --json: policy name -> plan document */
    bool disagreed;
} bench;

static void usage(FILE *out)
{
    fputs("usage: trustchain bench whatif SCENARIO [OPTIONS]\n"
          "\n"
          "Ranks candidate closures of each policy of SCENARIO with the 64-lane what-if\n"
          "engine, re-simulates a sample of them the plain way, and prints both times per\n"
          "candidate, their ratio and whether every sampled lane equals its plain run.\n"
          "\n"
          "options:\n"
          "  --policy NAME     only this policy (default: every policy)\n"
          "  --candidates N    candidates ranked, by evidence (default 256; 0: all)\n"
          "  --plain N         candidates re-simulated the plain way, spread over the\n"
          "                    ranked list (default 8)\n"
          "  --plan K          also compute the greedy plans of K steps\n"
          "  --json FILE       write the plan documents (with --plan) to FILE, an object\n"
          "                    keyed by policy name\n"
          "  -q, --quiet       no progress messages on stderr\n"
          "  -h, --help        this help\n",
          out);
}

__attribute__((format(printf, 2, 3)))
static void progress(const bench *b, const char *fmt, ...)
{
    if (b->opt.quiet || b->rank != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("trustchain: bench whatif: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static bool parse_count(const char *option, const char *text, uint64_t max, uint64_t *out,
                        tc_error *err)
{
    char *end = NULL;
    unsigned long long value = text ? strtoull(text, &end, 10) : 0;
    if (!text || end == text || *end != '\0' || text[0] == '-' || value > max) {
        tc_error_input(err, NULL, 0, 0, NULL, "%s expects a whole number from 0 to %llu, got '%s'",
                       option, (unsigned long long)max, text ? text : "");
        return false;
    }
    *out = value;
    return true;
}

/* Returns TC_OK, TC_ERR_INPUT, or -1 when --help was printed. */
static int parse_options(bench *b, int argc, char **argv)
{
    bench_options *o = &b->opt;
    *o = (bench_options){ .candidates = BENCH_DEFAULT_CANDIDATES, .plain = BENCH_DEFAULT_PLAIN };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n = 0;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            if (b->rank == 0)
                usage(stdout);
            return -1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (strcmp(a, "--json") == 0) {
            if (!value)
                return tc_error_input(&b->err, NULL, 0, 0, NULL, "--json expects a file name");
            o->json = argv[++i];
        } else if (strcmp(a, "--policy") == 0) {
            if (!value)
                return tc_error_input(&b->err, NULL, 0, 0, NULL, "--policy expects a name");
            o->policy = argv[++i];
        } else if (strcmp(a, "--candidates") == 0 || strcmp(a, "--plain") == 0 ||
                   strcmp(a, "--plan") == 0) {
            if (!parse_count(a, value, strcmp(a, "--plan") == 0 ? 1000 : 1000000, &n, &b->err))
                return TC_ERR_INPUT;
            i++;
            if (strcmp(a, "--candidates") == 0)
                o->candidates = n;
            else if (strcmp(a, "--plain") == 0)
                o->plain = n;
            else
                o->plan_steps = (uint32_t)n;
        } else if (a[0] == '-') {
            return tc_error_input(&b->err, NULL, 0, 0, NULL,
                                  "unknown option '%s' (see trustchain bench whatif --help)", a);
        } else if (!o->scenario) {
            o->scenario = a;
        } else {
            return tc_error_input(&b->err, NULL, 0, 0, NULL,
                                  "bench whatif expects one scenario file, got '%s' as well", a);
        }
    }
    if (!o->scenario)
        return tc_error_input(&b->err, NULL, 0, 0, NULL,
                              "bench whatif expects a scenario file (see --help)");
    return TC_OK;
}

static double slowest(const bench *b, double seconds)
{
    MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, b->comm);
    return seconds;
}

static int build_topology(bench *b)
{
    const tc_scenario *s = b->scenario;
    if (s->source == TC_TOPOLOGY_EXPLICIT)
        return tc_explicit_load(s->explicit_path, b->comm, &b->t, &b->err);
    const tc_cloud_params *params = s->generator_params;
    char what[128];
    snprintf(what, sizeof what, "scenario '%s' (%llu workloads)", s->name,
             (unsigned long long)params->workloads);
    if (tc_memory_check(b->comm, tc_cloud_estimate_bytes(params, b->nranks), what, &b->err) !=
        TC_OK)
        return b->err.code;
    return tc_cloud_generate_partitioned(params, s->seed, TC_PARTITION_LOCALITY, b->comm, &b->t,
                                         &b->err);
}

/* Evaluate every candidate alone, 64 lanes to a pass, into RESULTS. */
static int rank_candidates(bench *b, tc_whatif *w, const tc_candidate *candidates, size_t n,
                           tc_whatif_lane *results, uint64_t *passes)
{
    tc_closure closures[TC_WHATIF_LANES];
    uint64_t masks[TC_WHATIF_LANES];
    for (size_t first = 0; first < n; first += TC_WHATIF_LANES) {
        unsigned lanes = (unsigned)(n - first < TC_WHATIF_LANES ? n - first : TC_WHATIF_LANES);
        for (unsigned k = 0; k < lanes; k++) {
            closures[k] = candidates[first + k].closure;
            masks[k] = 1ULL << k;
        }
        if (tc_whatif_run(w, closures, masks, lanes, lanes, results + first, &b->err) != TC_OK)
            return b->err.code;
        (*passes)++;
    }
    return TC_OK;
}

static void print_top(const bench *b, tc_whatif *w, const tc_candidate *candidates, size_t n,
                      const tc_whatif_lane *results, uint64_t baseline)
{
    bool *shown = calloc(n + 1, sizeof *shown);
    if (!shown || b->rank != 0) {
        free(shown);
        return;
    }
    for (int k = 0; k < BENCH_TOP && (size_t)k < n; k++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < n; i++)
            if (!shown[i] && (best == SIZE_MAX || results[i].compromised < results[best].compromised))
                best = i;
        shown[best] = true;
        char text[512];
        tc_whatif_describe(w, &candidates[best].closure, text, sizeof text);
        printf("top_%d: %s: %llu compromised (-%llu), %llu crown jewels, %llu flows broken\n",
               k + 1, text, (unsigned long long)results[best].compromised,
               (unsigned long long)(baseline - results[best].compromised),
               (unsigned long long)results[best].crown_jewels,
               (unsigned long long)results[best].flows_broken);
    }
    free(shown);
}

/* Re-simulate OPT.plain candidates the plain way, spread over the list,
 * and compare each with its lane. */
static int sample_plain(bench *b, tc_whatif *w, const tc_candidate *candidates, size_t n,
                        const tc_whatif_lane *results, double *whole, double *simulate,
                        size_t *sampled, size_t *agreed)
{
    size_t m = b->opt.plain < n ? b->opt.plain : n;
    *whole = *simulate = 0;
    *sampled = *agreed = 0;
    for (size_t k = 0; k < m; k++) {
        size_t i = k * n / m;
        tc_whatif_plain plain;
        if (tc_whatif_run_plain(w, &candidates[i].closure, 1, &plain, &b->err) != TC_OK)
            return b->err.code;
        *whole += slowest(b, plain.seconds);
        *simulate += slowest(b, plain.sim->seconds);
        bool same = plain.compromised == results[i].compromised &&
                    plain.crown_jewels == results[i].crown_jewels &&
                    plain.flows_broken == results[i].flows_broken;
        *agreed += same;
        (*sampled)++;
        if (!same && b->rank == 0) {
            char text[512];
            tc_whatif_describe(w, &candidates[i].closure, text, sizeof text);
            fprintf(stderr, "trustchain: bench whatif: lane and plain run differ for '%s': "
                    "lane %llu compromised, %llu crown jewels, %llu flows broken; plain %llu, "
                    "%llu, %llu\n", text, (unsigned long long)results[i].compromised,
                    (unsigned long long)results[i].crown_jewels,
                    (unsigned long long)results[i].flows_broken,
                    (unsigned long long)plain.compromised,
                    (unsigned long long)plain.crown_jewels,
                    (unsigned long long)plain.flows_broken);
        }
        tc_whatif_plain_free(&plain);
    }
    if (*agreed != *sampled)
        b->disagreed = true;
    return TC_OK;
}

static int bench_policy(bench *b, const tc_policy_spec *spec)
{
    const tc_scenario *s = b->scenario;
    tc_policy *p = NULL;
    tc_sim_result *r = NULL;
    tc_whatif *w = NULL;
    tc_candidate *candidates = NULL;
    tc_whatif_lane *results = NULL;
    size_t n = 0, found = 0;
    uint64_t passes = 0;

    progress(b, "policy %s: compiling and simulating", spec->name);
    if (tc_policy_compile(s, spec, b->t, &p, &b->err) != TC_OK ||
        tc_sim_run(b->t, p, &b->f, s->hop_budget, &r, &b->err) != TC_OK)
        goto release;
    uint64_t baseline = 0;
    for (uint64_t i = 0; i < b->t->n_local; i++)
        baseline += r->hop[i] != TC_HOP_NONE;
    MPI_Allreduce(MPI_IN_PLACE, &baseline, 1, MPI_UINT64_T, MPI_SUM, b->comm);
    double compile_seconds = slowest(b, p->seconds), simulate_seconds = slowest(b, r->seconds);

    char what[256];
    snprintf(what, sizeof what, "the what-if lanes of policy '%s'", spec->name);
    if (tc_memory_check(b->comm, tc_whatif_estimate_bytes(b->t, p, false), what, &b->err) != TC_OK)
        goto release;
    double t0 = MPI_Wtime();
    tc_whatif_input in = {
        .scenario = s, .spec = spec, .topology = b->t, .policy = p, .footholds = &b->f,
        .hop_budget = s->hop_budget, .crown_kinds = s->crown_kinds,
    };
    if (tc_whatif_create(&in, &w, &b->err) != TC_OK)
        goto release;
    double create_seconds = slowest(b, MPI_Wtime() - t0);
    t0 = MPI_Wtime();
    if (tc_whatif_candidates(w, r, b->opt.candidates, &candidates, &n, &found, &b->err) != TC_OK)
        goto release;
    double candidate_seconds = slowest(b, MPI_Wtime() - t0);

    progress(b, "policy %s: ranking %zu of %zu candidates", spec->name, n, found);
    results = malloc((n + 1) * sizeof *results);
    if (!results)
        tc_error_runtime(&b->err, "out of memory for %zu lane results", n);
    if (tc_error_agree(&b->err, b->comm) != TC_OK)
        goto release;
    t0 = MPI_Wtime();
    if (rank_candidates(b, w, candidates, n, results, &passes) != TC_OK)
        goto release;
    double ranking_seconds = slowest(b, MPI_Wtime() - t0);

    progress(b, "policy %s: re-simulating %zu candidates the plain way", spec->name,
             b->opt.plain < n ? b->opt.plain : n);
    double plain_whole = 0, plain_simulate = 0;
    size_t sampled = 0, agreed = 0;
    if (sample_plain(b, w, candidates, n, results, &plain_whole, &plain_simulate, &sampled,
                     &agreed) != TC_OK)
        goto release;

    if (b->rank == 0) {
        double lane = n ? ranking_seconds / (double)n : 0;
        double whole = sampled ? plain_whole / (double)sampled : 0;
        double sim = sampled ? plain_simulate / (double)sampled : 0;
        printf("policy: %s\n", spec->name);
        printf("compile_seconds: %.3f\n", compile_seconds);
        printf("simulate_seconds: %.3f\n", simulate_seconds);
        printf("compromised: %llu\n", (unsigned long long)baseline);
        printf("whatif_setup_seconds: %.3f\n", create_seconds);
        printf("whatif_bytes_rank0: %zu\n", tc_whatif_bytes(w));
        printf("candidates_found: %zu\n", found);
        printf("candidates_seconds: %.3f\n", candidate_seconds);
        printf("candidates_ranked: %zu\n", n);
        printf("lane_passes: %llu\n", (unsigned long long)passes);
        printf("ranking_seconds: %.3f\n", ranking_seconds);
        printf("lane_seconds_per_candidate: %.5f\n", lane);
        printf("plain_candidates: %zu\n", sampled);
        printf("plain_seconds_per_candidate: %.4f\n", whole);
        printf("plain_simulate_seconds_per_candidate: %.4f\n", sim);
        if (lane > 0 && sampled) {
            printf("speedup_over_plain: %.1f\n", whole / lane);
            printf("speedup_over_simulate_only: %.1f\n", sim / lane);
        }
        printf("plain_agrees_with_lanes: %zu/%zu\n", agreed, sampled);
    }
    print_top(b, w, candidates, n, results, baseline);

    if (b->opt.plan_steps) {
        progress(b, "policy %s: greedy plans of %u steps", spec->name, b->opt.plan_steps);
        tc_plan_options options = { .steps = b->opt.plan_steps, .max_candidates = b->opt.candidates };
        tc_plan_stats stats;
        json_t *plan = NULL;
        if (tc_plan_compute(s, spec, b->t, p, &b->f, r, &options, &plan, &stats, &b->err) !=
            TC_OK)
            goto release;
        if (b->rank == 0) {
            printf("plan_seconds: %.3f\n", stats.seconds);
            printf("plan_lane_passes: %llu\n", (unsigned long long)stats.passes);
            tc_plan_print(plan, spec->name, stdout);
        }
        if (b->plans)
            json_object_set(b->plans, spec->name, plan);
        json_decref(plan);
    }
    if (b->rank == 0) {
        printf("\n");
        fflush(stdout);
    }

release:
    free(results);
    free(candidates);
    tc_whatif_free(w);
    tc_sim_result_free(r);
    tc_policy_free(p);
    return b->err.code;
}

int tc_bench_whatif_main(int argc, char **argv, MPI_Comm comm)
{
    bench b = { .comm = comm };
    MPI_Comm_rank(comm, &b.rank);
    MPI_Comm_size(comm, &b.nranks);
    tc_error_clear(&b.err);
    const tc_generator_desc generators[] = { tc_cloud_generator };

    int parsed = parse_options(&b, argc, argv);
    if (parsed == -1)
        return TC_OK;
    if (parsed != TC_OK)
        goto report;

    tc_scenario_load(b.opt.scenario, generators, 1, &b.scenario, &b.err);
    if (tc_error_agree(&b.err, comm) != TC_OK)
        goto report;
    bool found = !b.opt.policy;
    for (size_t k = 0; !found && k < b.scenario->n_policies; k++)
        found = strcmp(b.scenario->policies[k].name, b.opt.policy) == 0;
    if (!found) {
        tc_error_input(&b.err, b.scenario->path, 0, 0, "policies",
                       "no policy is named '%s'", b.opt.policy);
        goto report;
    }

    progress(&b, "scenario %s: building the topology on %d rank%s", b.scenario->name, b.nranks,
             b.nranks == 1 ? "" : "s");
    double t0 = MPI_Wtime();
    build_topology(&b);
    if (tc_error_agree(&b.err, comm) != TC_OK)
        goto report;
    double topology_seconds = slowest(&b, MPI_Wtime() - t0);
    if (tc_footholds_resolve(b.scenario, b.t, &b.f, &b.err) != TC_OK)
        goto report;
    if (b.opt.json && b.rank == 0 && tc_results_check_path(b.opt.json, &b.err) == TC_OK &&
        !(b.plans = json_object()))
        tc_error_runtime(&b.err, "out of memory for the plan documents");
    if (tc_error_agree(&b.err, comm) != TC_OK)
        goto report;
    if (b.rank == 0) {
        printf("scenario: %s\n", b.scenario->name);
        printf("ranks: %d\n", b.nranks);
        printf("workloads: %llu\n", (unsigned long long)b.t->n_workloads);
        printf("topology_seconds: %.3f\n", topology_seconds);
        printf("lanes_per_pass: %d\n\n", TC_WHATIF_LANES);
    }

    for (size_t k = 0; k < b.scenario->n_policies; k++) {
        const tc_policy_spec *spec = &b.scenario->policies[k];
        if (b.opt.policy && strcmp(spec->name, b.opt.policy) != 0)
            continue;
        if (bench_policy(&b, spec) != TC_OK)
            break;
    }

    if (b.plans && b.err.code == TC_OK)
        tc_results_write(b.plans, b.opt.json, &b.err);
    tc_error_agree(&b.err, comm);

report:
    if (b.err.code == TC_OK && b.disagreed)
        tc_error_runtime(&b.err, "a lane disagreed with its plain run (see above)");
    if (b.rank == 0 && b.err.code != TC_OK)
        tc_error_print(&b.err, stderr);
    json_decref(b.plans);
    tc_footholds_free(&b.f);
    tc_topology_free(b.t);
    tc_scenario_free(b.scenario);
    return b.err.code;
}
