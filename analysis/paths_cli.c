/*
 * paths_cli.c - `trustchain paths`: attack paths to one workload, from a
 * run's result file; see paths.h.
 *
 * The result file names the scenario and the seed. The topology is rebuilt
 * from them (generated or explicit), and each policy is compiled and run
 * again with predecessors, which costs about as much as the run did. The
 * rerun must compromise as many workloads as the result records, or the
 * scenario changed since the run and the paths would describe another
 * topology: that is an input error.
 *
 * Like the run command, this is the command-line layer, so it calls the
 * generators. The extraction in paths.c does not include them.
 */
#include "paths.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloud.h"
#include "explicit.h"
#include "memory.h"
#include "results.h"

enum paths_format { PATHS_TEXT, PATHS_DOT, PATHS_JSON };

typedef struct paths_cli {
    MPI_Comm comm;
    int rank, nranks;
    const char *results_path;
    const char *to;
    const char *policy;
    const char *scenario_path;  /* --scenario, else from the result */
    const char *output;
    enum paths_format format;
    bool quiet;

    json_t *results;
    tc_scenario *scenario;
    tc_topology *topology;
    tc_footholds footholds;
    uint64_t target;
    FILE *out;                  /* rank 0 */
    char *tmp_path;             /* rank 0, with -o */
    json_t *json_paths;         /* rank 0, --json */
} paths_cli;

static void paths_usage(FILE *out)
{
    fputs("usage: trustchain paths RESULTS.json --to WORKLOAD [OPTIONS]\n"
          "\n"
          "Prints one shortest attack path from a foothold to WORKLOAD under each policy of\n"
          "the run that wrote RESULTS.json: every hop with the workload, the step kind and\n"
          "the reason (rules, API edge, principal and grant, or package). The topology is\n"
          "rebuilt from the scenario and seed recorded in RESULTS.json and each policy is\n"
          "run again, so this takes about as long as the run.\n"
          "\n"
          "options:\n"
          "  --to WORKLOAD       target: a workload name (explicit topologies), w<ID> or a\n"
          "                      decimal global id; required\n"
          "  --policy NAME       only this policy (default: every policy of the scenario)\n"
          "  --scenario FILE     scenario file, when RESULTS.json does not name one or it\n"
          "                      has moved; its seed is replaced by the recorded one\n"
          "  --dot               Graphviz DOT instead of text (render: dot -Tsvg)\n"
          "  --json              JSON instead of text\n"
          "  -o, --output FILE   write to FILE (atomically) instead of stdout\n"
          "  -q, --quiet         no progress messages on stderr\n"
          "  -h, --help          this help\n"
          "\n"
          "Exit status: 0 success, 1 runtime error, 2 usage error or invalid input.\n",
          out);
}

__attribute__((format(printf, 2, 3)))
static void paths_progress(const paths_cli *c, const char *fmt, ...)
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

/* Returns TC_OK, TC_ERR_INPUT, or -1 when --help was printed. */
static int paths_parse(paths_cli *c, int argc, char **argv, tc_error *err)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **value = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            if (c->rank == 0)
                paths_usage(stdout);
            return -1;
        } else if (strcmp(a, "--to") == 0) {
            value = &c->to;
        } else if (strcmp(a, "--policy") == 0) {
            value = &c->policy;
        } else if (strcmp(a, "--scenario") == 0) {
            value = &c->scenario_path;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            value = &c->output;
        } else if (strcmp(a, "--dot") == 0) {
            c->format = PATHS_DOT;
            continue;
        } else if (strcmp(a, "--json") == 0) {
            c->format = PATHS_JSON;
            continue;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            c->quiet = true;
            continue;
        } else if (a[0] == '-' && a[1] != '\0') {
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "unknown option '%s' (see trustchain paths --help)", a);
        } else if (c->results_path) {
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "paths expects one result file, got '%s' and '%s'",
                                  c->results_path, a);
        } else {
            c->results_path = a;
            continue;
        }
        if (i + 1 >= argc)
            return tc_error_input(err, NULL, 0, 0, NULL, "option '%s' expects a value", a);
        *value = argv[++i];
    }
    if (!c->results_path)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "paths expects a result file (see trustchain paths --help)");
    if (!c->to)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "paths expects --to WORKLOAD (see trustchain paths --help)");
    return TC_OK;
}

/* ---- the result file ---- */

/* Read the result file (every rank reads it, as every rank reads the
 * scenario) and find the scenario file and seed in it. */
static int paths_read_results(paths_cli *c, const char **scenario_path, uint64_t *seed,
                              tc_error *err)
{
    json_error_t jerr;
    c->results = json_load_file(c->results_path, JSON_REJECT_DUPLICATES, &jerr);
    if (!c->results)
        return tc_error_input(err, c->results_path, jerr.line > 0 ? jerr.line : 0,
                              jerr.column > 0 ? jerr.column : 0, NULL,
                              "cannot read the result: %s", jerr.text);

    json_t *version = json_object_get(c->results, "schema_version");
    if (!json_is_integer(version) || json_integer_value(version) != TC_RESULTS_SCHEMA_VERSION)
        return tc_error_input(err, c->results_path, 0, 0, "schema_version",
                              "expected a trustchain result of schema_version %d",
                              TC_RESULTS_SCHEMA_VERSION);
    json_t *scenario = json_object_get(c->results, "scenario");
    json_t *seed_value = json_object_get(scenario, "seed");
    if (!json_is_integer(seed_value))
        return tc_error_input(err, c->results_path, 0, 0, "scenario.seed",
                              "missing or not an integer");
    *seed = (uint64_t)json_integer_value(seed_value);

    *scenario_path = c->scenario_path;
    if (!*scenario_path)
        *scenario_path = json_string_value(json_object_get(json_object_get(c->results, "run"),
                                                           "scenario_path"));
    if (!*scenario_path)
        *scenario_path = json_string_value(json_object_get(scenario, "path"));
    if (!*scenario_path)
        return tc_error_input(err, c->results_path, 0, 0, "run.scenario_path",
                              "the result does not name its scenario file; pass it with "
                              "--scenario FILE");
    if (access(*scenario_path, R_OK) != 0)
        return tc_error_input(err, c->results_path, 0, 0, "run.scenario_path",
                              "the scenario file '%s' of this result cannot be read (%s); pass "
                              "its current location with --scenario FILE", *scenario_path,
                              strerror(errno));
    return TC_OK;
}

/* The policy object named NAME in the result, or NULL. */
static json_t *results_policy(const paths_cli *c, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(c->results, "policies"), i, p) {
        const char *n = json_string_value(json_object_get(p, "name"));
        if (n && strcmp(n, name) == 0)
            return p;
    }
    return NULL;
}

/* A count recorded in the result must equal the rerun's, else the
 * scenario or its topology changed since the run. */
static int check_count(const paths_cli *c, json_t *value, const char *key, uint64_t rerun,
                       tc_error *err)
{
    if (!json_is_integer(value) || (uint64_t)json_integer_value(value) == rerun)
        return TC_OK;
    return tc_error_input(err, c->results_path, 0, 0, key,
                          "the result records %lld, but rebuilding from scenario '%s' gives "
                          "%llu: the scenario or its topology changed since the run",
                          (long long)json_integer_value(value), c->scenario->path,
                          (unsigned long long)rerun);
}

/* ---- the topology and the target ---- */

static int paths_build(paths_cli *c, tc_error *err)
{
    const tc_scenario *s = c->scenario;
    if (s->source == TC_TOPOLOGY_EXPLICIT)
        return tc_explicit_load(s->explicit_path, c->comm, &c->topology, err);

    const tc_cloud_params *params = s->generator_params;
    char what[128];
    snprintf(what, sizeof what, "scenario '%s' (%llu workloads)", s->name,
             (unsigned long long)params->workloads);
    if (tc_memory_check(c->comm, tc_cloud_estimate_bytes(params, c->nranks), what, err) != TC_OK)
        return err->code;
    return tc_cloud_generate_partitioned(params, s->seed, TC_PARTITION_LOCALITY, c->comm,
                                         &c->topology, err);
}

static int paths_resolve_target(paths_cli *c, tc_error *err)
{
    const tc_topology *t = c->topology;
    const char *text = c->to;
    uint32_t named = tc_names_find(&t->workload_names, text);
    if (named != TC_NAME_NONE) {
        c->target = named;
        return TC_OK;
    }
    const char *digits = text[0] == 'w' && t->workload_names.count == 0 ? text + 1 : text;
    char *end = NULL;
    errno = 0;
    unsigned long long id = strtoull(digits, &end, 10);
    if (digits[0] >= '0' && digits[0] <= '9' && end && *end == '\0' && errno == 0 &&
        id < t->n_workloads) {
        c->target = id;
        return TC_OK;
    }
    return tc_error_input(err, NULL, 0, 0, "--to",
                          "workload '%s' is not in the topology (expected a workload name, "
                          "w<ID> for generated topologies, or an id below %llu)",
                          text, (unsigned long long)t->n_workloads);
}

/* ---- output ---- */

static int paths_open_output(paths_cli *c, tc_error *err)
{
    if (c->rank != 0)
        return TC_OK;
    if (c->format == PATHS_JSON && !(c->json_paths = json_array()))
        return tc_error_runtime(err, "out of memory for attack paths");
    if (!c->output) {
        c->out = stdout;
    } else {
        if (tc_results_check_path(c->output, err) != TC_OK)
            return err->code;
        size_t n = strlen(c->output) + 32;
        c->tmp_path = malloc(n);
        if (!c->tmp_path)
            return tc_error_runtime(err, "out of memory");
        snprintf(c->tmp_path, n, "%s.tmp.%ld", c->output, (long)getpid());
        c->out = fopen(c->tmp_path, "w");
        if (!c->out)
            return tc_error_runtime(err, "cannot create '%s': %s", c->tmp_path, strerror(errno));
    }
    if (c->format == PATHS_DOT)
        tc_paths_dot_begin(c->out);
    return TC_OK;
}

static int paths_close_output(paths_cli *c, bool keep, tc_error *err)
{
    if (c->rank != 0 || !c->out)
        return err->code;
    if (keep && c->format == PATHS_DOT)
        tc_paths_dot_end(c->out);
    if (keep && c->format == PATHS_JSON) {
        json_t *doc = json_pack("{s:s, s:s, s:O}", "results", c->results_path, "target", c->to,
                                "policies", c->json_paths);
        if (!doc || json_dumpf(doc, c->out, JSON_INDENT(2)) != 0 || fputc('\n', c->out) == EOF)
            tc_error_runtime(err, "writing the attack paths failed");
        json_decref(doc);
    }
    if (c->out == stdout) {
        fflush(stdout);
        c->out = NULL;
        return err->code;
    }

    int failed = fflush(c->out) != 0;
    failed |= fclose(c->out) != 0;
    c->out = NULL;
    if (keep && err->code == TC_OK) {
        if (failed)
            tc_error_runtime(err, "writing '%s' failed: %s", c->tmp_path, strerror(errno));
        else if (rename(c->tmp_path, c->output) != 0)
            tc_error_runtime(err, "cannot rename '%s' to '%s': %s", c->tmp_path, c->output,
                             strerror(errno));
    }
    if (err->code != TC_OK || !keep)
        unlink(c->tmp_path);
    return err->code;
}

/* ---- one policy ---- */

/* Path to the target under SPEC, printed as the CLUSTER-th of the output. */
static int paths_policy(paths_cli *c, const tc_policy_spec *spec, size_t cluster, tc_error *err)
{
    const tc_topology *t = c->topology;
    tc_policy *p = NULL;
    tc_sim_result *r = NULL;
    tc_path *path = NULL;
    tc_sim_options options = { .record_predecessors = true };

    if (tc_policy_compile(c->scenario, spec, t, &p, err) != TC_OK)
        return err->code;
    if (tc_sim_run_with(t, p, &c->footholds, c->scenario->hop_budget, &options, &r, err) != TC_OK)
        goto release;

    uint64_t compromised = 0;
    for (uint64_t i = 0; i < t->n_local; i++)
        compromised += r->hop[i] != TC_HOP_NONE;
    MPI_Allreduce(MPI_IN_PLACE, &compromised, 1, MPI_UINT64_T, MPI_SUM, c->comm);
    char key[160];
    snprintf(key, sizeof key, "policies[%s].compromised", spec->name);
    check_count(c, json_object_get(results_policy(c, spec->name), "compromised"), key,
                compromised, err);
    if (tc_error_agree(err, c->comm) != TC_OK)
        goto release;

    tc_paths_input in = { c->scenario, t, p, &c->footholds, r };
    if (tc_paths_extract(&in, &c->target, 1, &path, err) != TC_OK)
        goto release;
    paths_progress(c, "policy %s: %s", spec->name,
                   path->reached ? "path found" : "target not compromised");
    if (c->rank == 0) {
        if (c->format == PATHS_TEXT) {
            tc_path_print_text(c->out, &in, spec->name, path);
        } else if (c->format == PATHS_DOT) {
            tc_path_print_dot(c->out, &in, spec->name, path, cluster);
        } else {
            json_t *item = json_pack("{s:s, s:o}", "name", spec->name, "path",
                                     tc_path_to_json(&in, path));
            if (!item || json_array_append_new(c->json_paths, item) != 0)
                tc_error_runtime(err, "out of memory for attack paths");
        }
    }
    tc_error_agree(err, c->comm);

release:
    tc_paths_free(path, path ? 1 : 0);
    tc_sim_result_free(r);
    tc_policy_free(p);
    return err->code;
}

static int paths_run(paths_cli *c, tc_error *err)
{
    const char *scenario_path = NULL;
    uint64_t seed = 0;

    paths_read_results(c, &scenario_path, &seed, err);
    if (tc_error_agree(err, c->comm) != TC_OK)
        return err->code;
    tc_scenario_load(scenario_path, &tc_cloud_generator, 1, &c->scenario, err);
    if (tc_error_agree(err, c->comm) != TC_OK)
        return err->code;
    if (c->scenario->seed != seed)
        paths_progress(c, "using the result's seed %llu instead of the scenario's %llu",
                       (unsigned long long)seed, (unsigned long long)c->scenario->seed);
    c->scenario->seed = seed;

    const tc_policy_spec *only = NULL;
    for (size_t k = 0; c->policy && k < c->scenario->n_policies; k++)
        if (strcmp(c->scenario->policies[k].name, c->policy) == 0)
            only = &c->scenario->policies[k];
    if (c->policy && !only)
        return tc_error_input(err, scenario_path, 0, 0, "--policy",
                              "policy '%s' is not in the scenario", c->policy);

    paths_progress(c, "scenario %s: rebuilding the topology on %d rank%s", c->scenario->name,
                   c->nranks, c->nranks == 1 ? "" : "s");
    paths_build(c, err);
    if (tc_error_agree(err, c->comm) != TC_OK)
        return err->code;
    json_t *recorded = json_object_get(c->results, "topology");
    check_count(c, json_object_get(recorded, "workloads"), "topology.workloads",
                c->topology->n_workloads, err);
    if (err->code == TC_OK)
        paths_resolve_target(c, err);
    if (tc_error_agree(err, c->comm) != TC_OK)
        return err->code;

    size_t sim_bytes = tc_memory_sim_estimate(c->topology->n_local,
                                              c->topology->api_offsets[c->topology->n_local],
                                              c->nranks);
    if (tc_memory_check(c->comm, sim_bytes, "simulating the policies", err) != TC_OK)
        return err->code;
    if (tc_footholds_resolve(c->scenario, c->topology, &c->footholds, err) != TC_OK)
        return err->code;
    check_count(c, json_object_get(json_object_get(c->results, "footholds"), "total"),
                "footholds.total", c->footholds.total, err);
    paths_open_output(c, err);
    if (tc_error_agree(err, c->comm) != TC_OK) {
        paths_close_output(c, false, err);
        return err->code;
    }

    size_t printed = 0;
    for (size_t k = 0; k < c->scenario->n_policies && err->code == TC_OK; k++)
        if (!only || only == &c->scenario->policies[k])
            paths_policy(c, &c->scenario->policies[k], printed++, err);

    bool keep = err->code == TC_OK;
    paths_close_output(c, keep, err);
    return tc_error_agree(err, c->comm);
}

int tc_paths_main(int argc, char **argv, MPI_Comm comm)
{
    paths_cli c = { .comm = comm };
    tc_error err;
    tc_error_clear(&err);
    MPI_Comm_rank(comm, &c.rank);
    MPI_Comm_size(comm, &c.nranks);

    int parsed = paths_parse(&c, argc, argv, &err);
    if (parsed == -1)
        return TC_OK;
    if (parsed == TC_OK)
        paths_run(&c, &err);

    if (c.rank == 0 && err.code != TC_OK)
        tc_error_print(&err, stderr);
    free(c.tmp_path);
    json_decref(c.json_paths);
    json_decref(c.results);
    tc_footholds_free(&c.footholds);
    tc_topology_free(c.topology);
    tc_scenario_free(c.scenario);
    return err.code;
}
