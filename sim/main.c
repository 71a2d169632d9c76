/*
 * main.c - the trustchain command line: the only code that includes every
 * module and the only code that exits.
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error or invalid input.
 * Every rank runs the same commands; rank 0 alone prints progress (stderr,
 * unless --quiet) and results (stdout); errors are agreed on by all ranks
 * and printed once, by rank 0.
 */
#include <getopt.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_bfs.h"
#include "bench_whatif.h"
#include "cloud.h"
#include "engine.h"
#include "error.h"
#include "explicit.h"
#include "fault.h"
#include "memory.h"
#include "metrics.h"
#include "paths.h"
#include "plan.h"
#include "placement.h"
#include "policy.h"
#include "report.h"
#include "results.h"
#include "scenario.h"
#include "topology.h"

#ifndef TC_VERSION
#define TC_VERSION "0.1.0"
#endif

static const tc_generator_desc *const generators[] = { &tc_cloud_generator };
#define N_GENERATORS (sizeof generators / sizeof *generators)

/* The loader takes an array of descriptions; filled from GENERATORS at
 * start, it lives as long as the scenarios that point into it. */
static tc_generator_desc generator_table[N_GENERATORS];

typedef struct cli {
    MPI_Comm comm;
    int rank, nranks;
    bool quiet;
    bool no_bind;
    bool topology_only;        /* validate --topology: the operand is an explicit topology */
    enum tc_partition partition;
    const char *scenario_path;
    const char *output;
    uint32_t paths;            /* run --paths N: attack paths to up to N crown jewels per policy */
    uint32_t plan_steps;       /* run --plan K: greedy plans of K closures per policy */
    tc_placement *placement;
    char *placement_json;      /* rank 0 only */
} cli;

static void usage(FILE *out)
{
    fputs("usage: trustchain COMMAND [OPTIONS]\n"
          "\n"
          "Replays supply-chain footholds on a cloud topology partitioned across MPI ranks\n"
          "and measures how far attackers get under each candidate policy.\n"
          "\n"
          "commands:\n"
          "  run SCENARIO [-o FILE] [-q] [--paths N] [--plan K]\n"
          "                                run every policy of SCENARIO, print a summary and\n"
          "                                write the JSON result to FILE (or the scenario's\n"
          "                                output.json); --paths N also stores attack paths to\n"
          "                                up to N crown jewels per policy; --plan K greedy\n"
          "                                plans of K closures\n"
          "  validate SCENARIO             check SCENARIO without running it\n"
          "  validate --topology FILE      check an explicit topology file on its own\n"
          "  params [GENERATOR]            print a generator's parameters as a markdown table\n"
          "  bench bfs [OPTIONS]           Graph500-style BFS benchmark (bench bfs --help)\n"
          "  bench whatif SCENARIO [OPTIONS]\n"
          "                                batched what-if against one run per closure\n"
          "  report RESULT -o DIR          CSV, plots, attack path graphs and one HTML page\n"
          "                                from a result file (report --help)\n"
          "  paths RESULT --to WORKLOAD    the attack path to WORKLOAD under each policy of a\n"
          "                                result (paths --help)\n"
          "\n"
          "options:\n"
          "  -o, --output FILE   result file (JSON), written atomically\n"
          "  -q, --quiet         no progress messages on stderr\n"
          "      --paths N       with run: attack paths to up to N crown jewels per policy\n"
          "      --plan K        with run: greedy plans of K closures per policy (docs/plan.md)\n"
          "      --partition SCHEME\n"
          "                      block (equal id ranges) or locality (cuts at tenant,\n"
          "                      account or VPC boundaries, the default); results do\n"
          "                      not depend on it\n"
          "      --no-bind       do not bind ranks to cores and NUMA nodes (placement is\n"
          "                      still planned and reported; TC_NO_BIND=1 does the same)\n"
          "  -h, --help          this help\n"
          "  -V, --version       print the version\n"
          "\n"
          "Run on several ranks with: mpiexec -n RANKS trustchain run SCENARIO\n"
          "Exit status: 0 success, 1 runtime error, 2 usage error or invalid input.\n",
          out);
}

__attribute__((format(printf, 2, 3)))
static void progress(const cli *c, const char *fmt, ...)
{
    if (c->quiet || c->rank != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("trustchain: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int report(const cli *c, const tc_error *err)
{
    if (c->rank == 0 && err->code != TC_OK)
        tc_error_print(err, stderr);
    return err->code;
}

/* ---- run ---- */

/* Partition figures of T: per-rank workloads and API edges, and the edge
 * cut. Collective; the JSON object is returned on rank 0, NULL elsewhere. */
static json_t *partition_report(const cli *c, const tc_topology *t)
{
    uint64_t mine[3] = { t->n_local, t->api_offsets[t->n_local], 0 };
    for (uint64_t e = 0; e < mine[1]; e++)
        mine[2] += !tc_topology_owns(t, t->api_targets[e]);
    uint64_t *all = c->rank == 0 ? malloc((size_t)c->nranks * sizeof mine) : NULL;
    MPI_Gather(mine, 3, MPI_UINT64_T, all, 3, MPI_UINT64_T, 0, c->comm);
    if (c->rank != 0 || !all)
        return NULL;

    json_t *ranks = json_array();
    for (int r = 0; r < c->nranks; r++)
        json_array_append_new(ranks, json_pack("{s:i, s:I, s:I, s:I}", "rank", r,
                                               "workloads", (json_int_t)all[3 * r],
                                               "api_edges", (json_int_t)all[3 * r + 1],
                                               "remote_api_edges", (json_int_t)all[3 * r + 2]));
    free(all);
    double fraction = t->n_api_edges ? (double)t->n_api_edges_remote / (double)t->n_api_edges : 0;
    return json_pack("{s:s, s:I, s:f, s:o}", "scheme", t->partition,
                     "edge_cut", (json_int_t)t->n_api_edges_remote,
                     "remote_edge_fraction", fraction, "ranks", ranks);
}

/* Plan and apply the rank -> NUMA node and cores placement, and print it
 * (warnings even under --quiet). Collective. */
static int place_ranks(cli *c, tc_error *err)
{
    tc_placement_options options = { .no_bind = c->no_bind };
    if (tc_placement_init(c->comm, &options, &c->placement, err) != TC_OK)
        return err->code;
    if (tc_placement_report(c->placement, c->comm, &c->placement_json, err) != TC_OK)
        return err->code;
    if (c->rank != 0)
        return TC_OK;

    char *lines = NULL;
    tc_error local;
    tc_error_clear(&local);
    if (tc_placement_report_text(c->placement_json, &lines, &local) == TC_OK && lines) {
        for (char *line = strtok(lines, "\n"); line; line = strtok(NULL, "\n"))
            if (!c->quiet || strstr(line, "warning"))
                fprintf(stderr, "trustchain: placement: %s\n", line);
    }
    free(lines);
    return TC_OK;
}

static int build_topology(const cli *c, const tc_scenario *s, tc_topology **t, tc_error *err)
{
    if (s->source == TC_TOPOLOGY_EXPLICIT)
        return tc_explicit_load(s->explicit_path, c->comm, t, err);

    const tc_cloud_params *params = s->generator_params;
    size_t estimate = tc_cloud_estimate_bytes(params, c->nranks);
    char what[128];
    snprintf(what, sizeof what, "scenario '%s' (%llu workloads)", s->name,
             (unsigned long long)params->workloads);
    if (tc_memory_check(c->comm, estimate, what, err) != TC_OK) {
        snprintf(err->file, sizeof err->file, "%s", s->path);
        snprintf(err->key, sizeof err->key, "topology.params.workloads");
        return err->code;
    }
    return tc_cloud_generate_partitioned(params, s->seed, c->partition, c->comm, t, err);
}

static int run_policies(const cli *c, const tc_scenario *s, const tc_topology *t,
                        const tc_footholds *f, json_t *root, tc_error *err)
{
    for (size_t k = 0; k < s->n_policies; k++) {
        const tc_policy_spec *spec = &s->policies[k];
        tc_policy *p = NULL;
        tc_sim_result *r = NULL;
        tc_metrics m;
        tc_sim_options options = { .record_predecessors = c->paths > 0 };
        json_t *paths = NULL;

        if (tc_policy_compile(s, spec, t, &p, err) != TC_OK)
            return err->code;
        if (tc_sim_run_with(t, p, f, s->hop_budget, &options, &r, err) != TC_OK) {
            tc_policy_free(p);
            return err->code;
        }
        double paths_seconds = 0;
        if (c->paths > 0) {
            double paths_start = MPI_Wtime();
            tc_paths_input in = { s, t, p, f, r };
            if (tc_paths_run_json(&in, c->paths, &paths, err) != TC_OK) {
                tc_sim_result_free(r);
                tc_policy_free(p);
                return err->code;
            }
            paths_seconds = MPI_Wtime() - paths_start;
        }
        json_t *plan = NULL;
        tc_plan_stats plan_stats;
        if (c->plan_steps > 0) {
            tc_plan_options plan_options = { .steps = c->plan_steps };
            progress(c, "policy %s: planning %u closures", spec->name, c->plan_steps);
            if (tc_plan_compute(s, spec, t, p, f, r, &plan_options, &plan, &plan_stats, err) !=
                TC_OK) {
                json_decref(paths);
                tc_sim_result_free(r);
                tc_policy_free(p);
                return err->code;
            }
        }
        if (tc_metrics_compute(t, r, s->crown_kinds, &m, err) == TC_OK) {
            progress(c, "policy %s: %llu of %llu workloads compromised in %u hops "
                        "(compile %.2f s, simulate %.2f s)", spec->name,
                     (unsigned long long)m.compromised, (unsigned long long)m.workloads,
                     m.levels, p->seconds, r->seconds);
            if (c->rank == 0 && tc_results_add_policy(root, s, t, p, r, &m) != TC_OK)
                tc_error_runtime(err, "out of memory recording results");
            json_t *policies = json_object_get(root, "policies");
            if (c->rank == 0 && paths && err->code == TC_OK) {
                json_object_set(json_array_get(policies, json_array_size(policies) - 1),
                                "paths", paths);
                json_t *timings = json_object_get(json_object_get(root, "timings"), "policies");
                json_object_set_new(json_array_get(timings, json_array_size(timings) - 1),
                                    "paths_seconds", json_real(paths_seconds));
            }
            if (c->rank == 0 && plan && err->code == TC_OK) {
                json_object_set(json_array_get(policies, json_array_size(policies) - 1), "plan",
                                plan);
                json_t *timings = json_object_get(json_object_get(root, "timings"), "policies");
                json_t *timing = json_array_get(timings, json_array_size(timings) - 1);
                json_object_set_new(timing, "plan_seconds", json_real(plan_stats.seconds));
                json_object_set_new(timing, "plan_passes",
                                    json_integer((json_int_t)plan_stats.passes));
            }
            tc_metrics_free(&m);
        }
        json_decref(plan);
        json_decref(paths);
        tc_sim_result_free(r);
        tc_policy_free(p);
        if (tc_error_agree(err, c->comm) != TC_OK)
            return err->code;
    }
    return TC_OK;
}

static int command_run(cli *c, tc_error *err)
{
    double start = MPI_Wtime();
    tc_scenario *s = NULL;
    tc_topology *t = NULL;
    tc_footholds f = { 0 };
    json_t *root = NULL;
    json_t *partition = NULL; /* rank 0: run.partition until it is attached */

    tc_scenario_load(c->scenario_path, generator_table, N_GENERATORS,
                     &s, err);
    tc_fault_point("load", err);
    if (tc_error_agree(err, c->comm) != TC_OK)
        goto release;
    const char *output = c->output ? c->output : s->output_json;
    if (output && c->rank == 0)
        tc_results_check_path(output, err);
    if (tc_error_agree(err, c->comm) != TC_OK)
        goto release;

    if (place_ranks(c, err) != TC_OK)
        goto release;
    progress(c, "scenario %s: building the topology on %d rank%s", s->name, c->nranks,
             c->nranks == 1 ? "" : "s");
    double t0 = MPI_Wtime();
    build_topology(c, s, &t, err);
    if (tc_error_agree(err, c->comm) != TC_OK)
        goto release;
    double build_seconds = MPI_Wtime() - t0;
    progress(c, "topology: %llu workloads, %llu API edges, %llu grants in %.2f s; %s partition "
                "cuts %llu API edges (%.3f %%)",
             (unsigned long long)t->n_workloads, (unsigned long long)t->n_api_edges,
             (unsigned long long)t->n_grants, build_seconds, t->partition,
             (unsigned long long)t->n_api_edges_remote,
             t->n_api_edges ? 100.0 * (double)t->n_api_edges_remote / (double)t->n_api_edges : 0.0);
    partition = partition_report(c, t);

    /* The policies' state comes on top of the topology: check it with the
     * real edge counts now that they are known. */
    size_t sim_bytes = tc_memory_sim_estimate(t->n_local, t->api_offsets[t->n_local], c->nranks);
    if (c->paths > 0)
        sim_bytes += t->n_local * 16; /* predecessor and its reason per owned workload */
    if (tc_memory_check(c->comm, sim_bytes, "simulating the policies", err) != TC_OK)
        goto release;

    if (tc_footholds_resolve(s, t, &f, err) != TC_OK)
        goto release;
    if (c->rank == 0 && !(root = tc_results_new(s, t, &f)))
        tc_error_runtime(err, "out of memory recording results");
    if (c->rank == 0 && root) {
        /* `trustchain paths` reads the scenario from here; an absolute
         * path keeps working from another folder. */
        char *absolute = realpath(c->scenario_path, NULL);
        json_object_set_new(json_object_get(root, "run"), "scenario_path",
                            json_string(absolute ? absolute : c->scenario_path));
        free(absolute);
    }
    if (tc_error_agree(err, c->comm) != TC_OK)
        goto release;

    if (run_policies(c, s, t, &f, root, err) != TC_OK)
        goto release;

    size_t rss = tc_memory_peak_rss();
    unsigned long long rss_sum = rss, rss_max = rss;
    MPI_Allreduce(MPI_IN_PLACE, &rss_sum, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, c->comm);
    MPI_Allreduce(MPI_IN_PLACE, &rss_max, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, c->comm);
    if (c->rank == 0) {
        json_t *timings = json_object_get(root, "timings");
        json_object_set_new(timings, "topology_seconds", json_real(build_seconds));
        json_object_set_new(timings, "total_seconds", json_real(MPI_Wtime() - start));
        json_t *run = json_object_get(root, "run");
        json_object_set_new(run, "peak_rss_bytes_sum", json_integer((json_int_t)rss_sum));
        json_object_set_new(run, "peak_rss_bytes_max_rank", json_integer((json_int_t)rss_max));
        json_object_set_new(run, "topology_bytes_rank0",
                            json_integer((json_int_t)tc_topology_bytes(t)));
        if (partition)
            json_object_set_new(run, "partition", partition);
        partition = NULL;
        json_t *placement = json_loads(c->placement_json, 0, NULL);
        if (placement)
            json_object_set_new(run, "placement", placement);
    }

    /* Every rank must have finished cleanly before the result replaces an
     * older file; the write itself goes to a temporary name first. */
    tc_fault_point("output", err);
    if (tc_error_agree(err, c->comm) != TC_OK)
        goto release;
    if (c->rank == 0 && output)
        tc_results_write(root, output, err);
    if (tc_error_agree(err, c->comm) != TC_OK)
        goto release;
    if (c->rank == 0) {
        tc_results_print(root, stdout);
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(root, "policies"), k, v)
            if (json_object_get(v, "plan"))
                tc_plan_print(json_object_get(v, "plan"),
                              json_string_value(json_object_get(v, "name")), stdout);
        printf("\ntopology %.2f s, total %.2f s on %d rank%s, peak RSS %.1f MiB summed over "
               "ranks%s%s\n", build_seconds, MPI_Wtime() - start, c->nranks,
               c->nranks == 1 ? "" : "s", rss_sum / 1048576.0, output ? "; result: " : "",
               output ? output : "");
    }

release:
    json_decref(partition);
    json_decref(root);
    tc_footholds_free(&f);
    tc_topology_free(t);
    tc_scenario_free(s);
    return report(c, err);
}

/* ---- validate ---- */

static int command_validate(cli *c, tc_error *err)
{
    tc_scenario *s = NULL;
    tc_topology *t = NULL;
    if (c->topology_only) {
        if (tc_explicit_load(c->scenario_path, c->comm, &t, err) == TC_OK && c->rank == 0)
            printf("%s: valid topology: %llu workloads, %u segments, %u principals, "
                   "%u packages, %llu API edges, %llu grants\n", c->scenario_path,
                   (unsigned long long)t->n_workloads, t->segments.count, t->principals.count,
                   t->packages.count, (unsigned long long)t->n_api_edges,
                   (unsigned long long)t->n_grants);
        tc_topology_free(t);
        return report(c, err);
    }
    tc_scenario_load(c->scenario_path, generator_table, N_GENERATORS, &s, err);
    if (tc_error_agree(err, c->comm) != TC_OK)
        goto release;

    /* An explicit topology is small enough to load and check in full;
     * a generated one is checked through its parameters only. */
    if (s->source == TC_TOPOLOGY_EXPLICIT &&
        tc_explicit_load(s->explicit_path, c->comm, &t, err) != TC_OK)
        goto release;
    if (c->rank == 0)
        printf("%s: valid scenario '%s': %zu vector%s, %zu polic%s, hop budget %u\n",
               c->scenario_path, s->name, s->n_vectors, s->n_vectors == 1 ? "" : "s",
               s->n_policies, s->n_policies == 1 ? "y" : "ies", s->hop_budget);

release:
    tc_topology_free(t);
    tc_scenario_free(s);
    return report(c, err);
}

/* ---- params ---- */

static int command_params(cli *c, const char *name, tc_error *err)
{
    for (size_t g = 0; g < N_GENERATORS; g++) {
        const tc_generator_desc *d = generators[g];
        if (name && strcmp(name, d->name) != 0)
            continue;
        if (c->rank != 0)
            return TC_OK;
        printf("| key | type | unit | default | range | source |\n|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < d->n_params; i++) {
            const tc_param_desc *p = &d->params[i];
            const char *type = p->type == TC_PARAM_U64 ? "integer"
                               : p->type == TC_PARAM_BOOL ? "bool" : "number";
            if (p->type == TC_PARAM_U64)
                printf("| `%s` | %s | %s | %.0f | %.0f .. %.0f | %s |\n", p->name, type, p->unit,
                       p->default_value, p->min, p->max, p->source);
            else
                printf("| `%s` | %s | %s | %g | %g .. %g | %s |\n", p->name, type, p->unit,
                       p->default_value, p->min, p->max, p->source);
        }
        return TC_OK;
    }
    tc_error_input(err, NULL, 0, 0, NULL, "unknown generator '%s' (known: cloud)", name);
    return report(c, err);
}

/* ---- entry ---- */

/* Commands that take the rest of the command line as their own. */
static bool is_passthrough(const char *command)
{
    return strcmp(command, "bench") == 0 || strcmp(command, "report") == 0 ||
           strcmp(command, "paths") == 0;
}

/* Split ARGV into options and operands; options may stand before or after
 * the command. Everything after "bench" or "report" belongs to that
 * command, which parses it itself. Returns
 * TC_OK, TC_ERR_INPUT, or -1 when --help or --version was printed. */
static int parse_arguments(cli *c, int argc, char **argv, const char **operands,
                           int *n_operands, int *passthrough_index, tc_error *err)
{
    *n_operands = 0;
    *passthrough_index = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            if (*n_operands < 8)
                operands[*n_operands] = a;
            (*n_operands)++;
            if (*n_operands == 1 && is_passthrough(a)) {
                *passthrough_index = i + 1;
                return TC_OK;
            }
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            if (c->rank == 0)
                usage(stdout);
            return -1;
        }
        if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            if (c->rank == 0)
                printf("trustchain %s\n", TC_VERSION);
            return -1;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            c->quiet = true;
            continue;
        }
            if (strcmp(a, "--plan") == 0 || strncmp(a, "--plan=", 7) == 0) {
            const char *value = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : NULL);
            char *end = NULL;
            unsigned long steps = value ? strtoul(value, &end, 10) : 0;
            if (!value || end == value || *end != '\0' || steps < 1 || steps > 1000)
                return tc_error_input(err, NULL, 0, 0, NULL,
                                      "invalid --plan '%s' (expected steps from 1 to 1000)",
                                      value ? value : "");
            c->plan_steps = (uint32_t)steps;
            continue;
        }
    if (strcmp(a, "--paths") == 0) {
            char *end = NULL;
            const char *value = i + 1 < argc ? argv[++i] : "";
            unsigned long n = strtoul(value, &end, 10);
            if (value[0] < '0' || value[0] > '9' || *end != '\0' || n > 100000)
                return tc_error_input(err, NULL, 0, 0, NULL,
                                      "--paths expects a number of paths from 0 to 100000, "
                                      "got '%s'", value);
            c->paths = (uint32_t)n;
            continue;
        }
        if (strcmp(a, "--no-bind") == 0) {
            c->no_bind = true;
            continue;
        }
        if (strcmp(a, "--partition") == 0 || strncmp(a, "--partition=", 12) == 0) {
            const char *value = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : NULL);
            int scheme = value ? tc_name_find(tc_partition_names, TC_PARTITION_COUNT, value) : -1;
            if (scheme < 0)
                return tc_error_input(err, NULL, 0, 0, NULL,
                                      "invalid --partition '%s' (expected block or locality)",
                                      value ? value : "");
            c->partition = (enum tc_partition)scheme;
            continue;
        }
        if (strcmp(a, "--topology") == 0) {
            c->topology_only = true;
            continue;
        }
        if (strncmp(a, "--output=", 9) == 0) {
            c->output = a + 9;
            continue;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc)
                return tc_error_input(err, NULL, 0, 0, NULL,
                                      "option '%s' expects a file name", a);
            c->output = argv[++i];
            continue;
        }
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "unknown option '%s' (see trustchain --help)", a);
    }
    return TC_OK;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    cli c = { .comm = MPI_COMM_WORLD, .partition = TC_PARTITION_LOCALITY };
    MPI_Comm_rank(c.comm, &c.rank);
    MPI_Comm_size(c.comm, &c.nranks);
    tc_error err;
    tc_error_clear(&err);
    int status = TC_OK;
    for (size_t g = 0; g < N_GENERATORS; g++)
        generator_table[g] = *generators[g];

    const char *operands[8] = { NULL };
    int n_operands = 0, passthrough_index = 0;
    int parsed = parse_arguments(&c, argc, argv, operands, &n_operands, &passthrough_index, &err);
    const char *command = n_operands > 0 ? operands[0] : NULL;

    if (parsed == -1) {
        status = TC_OK;
    } else if (parsed != TC_OK) {
        status = report(&c, &err);
    } else if (!command) {
        if (c.rank == 0)
            usage(stderr);
        status = TC_ERR_INPUT;
    } else if (strcmp(command, "bench") == 0) {
        if (passthrough_index < argc && strcmp(argv[passthrough_index], "bfs") == 0) {
            status = tc_bench_bfs_main(argc - passthrough_index, argv + passthrough_index, c.comm);
        } else if (passthrough_index < argc && strcmp(argv[passthrough_index], "whatif") == 0) {
            status = tc_bench_whatif_main(argc - passthrough_index, argv + passthrough_index,
                                          c.comm);
        } else {
            tc_error_input(&err, NULL, 0, 0, NULL,
                           "bench expects a benchmark name: bfs or whatif (see trustchain "
                           "bench bfs --help)");
            status = report(&c, &err);
        }
    } else if (strcmp(command, "report") == 0) {
        /* argv[passthrough_index - 1] is "report"; the rest is the report's. */
        status = tc_report_main(argc - passthrough_index + 1, argv + passthrough_index - 1, c.comm);
    } else if (strcmp(command, "paths") == 0) {
        /* argv[passthrough_index - 1] is "paths"; the rest is the command's. */
        status = tc_paths_main(argc - passthrough_index + 1, argv + passthrough_index - 1, c.comm);
    } else if (strcmp(command, "run") == 0 || strcmp(command, "validate") == 0) {
        if (n_operands != 2) {
            tc_error_input(&err, NULL, 0, 0, NULL,
                           "%s expects exactly one scenario file, got %d (see trustchain --help)",
                           command, n_operands - 1);
            status = report(&c, &err);
        } else {
            c.scenario_path = operands[1];
            status = strcmp(command, "run") == 0 ? command_run(&c, &err)
                                                 : command_validate(&c, &err);
        }
    } else if (strcmp(command, "params") == 0) {
        status = command_params(&c, n_operands > 1 ? operands[1] : NULL, &err);
    } else {
        tc_error_input(&err, NULL, 0, 0, NULL,
                       "unknown command '%s' (expected run, validate, params, bench, report or "
                       "paths)",
                       command);
        status = report(&c, &err);
    }

    tc_placement_free_all(c.placement);
    free(c.placement_json);
    fflush(stdout);
    MPI_Finalize();
    return status;
}
