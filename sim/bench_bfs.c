/*
 * bench_bfs.c - `trustchain bench bfs`; see bench_bfs.h.
 *
 * Timing follows the Graph500 specification. Kernel 1 is timed from the
 * generated (or imported) edge list to the built graph. Each search is
 * timed from the reset of its state to the end of its last level, and the
 * slowest rank's time counts. Generation, key sampling and validation are
 * not timed.
 */
#include "bench_bfs.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bfs.h"
#include "edgelist.h"
#include "error.h"
#include "graph500.h"
#include "kronecker.h"
#include "memory.h"
#include "results.h"

#define BENCH_SCHEMA_VERSION 1
#define BENCH_DEFAULT_SEED 1

/* The kernel's 32-bit vertex positions bound the scale (bfs.h). */
#define BENCH_MAX_SCALE 31

typedef struct bench_options {
    unsigned scale;
    bool has_scale;
    uint64_t edgefactor;
    uint32_t roots;
    uint64_t seed;
    const char *file;
    int format;               /* enum tc_edgelist_format, -1 when not given */
    bool validate;
    bool quiet;
    const char *json;
} bench_options;

/* Counters of one level index, summed over searches. */
typedef struct level_totals {
    uint64_t searches, top_down, bottom_up;
    uint64_t frontier, examined;
    double compute, communicate; /* slowest rank per search, summed */
} level_totals;

typedef struct bench {
    MPI_Comm comm;
    int rank, nranks;
    bench_options opt;
    tc_error err;

    tc_edgelist edges;
    tc_graph *g;
    tc_bfs_state *state;
    uint64_t n_vertices, n_input_edges;
    double generation_seconds, construction_seconds;

    uint64_t keys[TC_G500_MAX_KEYS];
    uint32_t n_keys;
    double seconds[TC_G500_MAX_KEYS], nedge[TC_G500_MAX_KEYS];
    uint64_t examined[TC_G500_MAX_KEYS], reached[TC_G500_MAX_KEYS];
    uint32_t depth[TC_G500_MAX_KEYS];
    bool all_valid;
    char invalid_message[320];

    level_totals *levels;
    uint32_t n_levels, levels_capacity;
    uint64_t *parents;
} bench;

/* ---- options ---------------------------------------------------------- */

static void bench_usage(FILE *out)
{
    fputs("usage: trustchain bench bfs --scale S [OPTIONS]\n"
          "       trustchain bench bfs --file PATH [--format snap|mm] [OPTIONS]\n"
          "\n"
          "Graph500 BFS benchmark: build the graph (kernel 1), run and validate one\n"
          "breadth-first search per search key (kernel 2), print Graph500 output keys.\n"
          "\n"
          "options:\n"
          "  --scale S          Kronecker graph of 2^S vertices, 1 to 31\n"
          "  --edgefactor N     Kronecker edges per vertex (16)\n"
          "  --seed N           seed of the generator and of key sampling (1)\n"
          "  --roots N          number of search keys, 1 to 64 (64)\n"
          "  --file PATH        import an edge list instead of generating one; every\n"
          "                     edge is taken as undirected\n"
          "  --format F         format of --file: snap (text pairs) or mm (Matrix\n"
          "                     Market); default mm for a .mtx file, else snap\n"
          "  --no-validate      skip the validation of each BFS tree\n"
          "  --json PATH        also write the results as JSON to PATH\n"
          "  -q, --quiet        no progress on stderr\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit status: 0 success, 1 runtime error or failed validation, 2 usage error.\n",
          out);
}

static bool parse_u64(const char *text, uint64_t *out)
{
    if (!text || text[0] < '0' || text[0] > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* Parse ARGV into OPT. Returns TC_OK, TC_ERR_INPUT, or -1 after --help. */
static int bench_parse(bench *b, int argc, char **argv)
{
    bench_options *opt = &b->opt;
    memset(opt, 0, sizeof *opt);
    opt->edgefactor = TC_KRONECKER_EDGEFACTOR;
    opt->roots = TC_G500_MAX_KEYS;
    opt->seed = BENCH_DEFAULT_SEED;
    opt->format = -1;
    opt->validate = true;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x = 0;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            if (b->rank == 0)
                bench_usage(stdout);
            return -1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            opt->quiet = true;
        } else if (strcmp(a, "--no-validate") == 0) {
            opt->validate = false;
        } else if (strcmp(a, "--scale") == 0) {
            if (!parse_u64(value, &x) || x < 1 || x > BENCH_MAX_SCALE)
                return tc_error_input(&b->err, NULL, 0, 0, "--scale",
                                      "invalid scale '%s': expected an integer from 1 to %d "
                                      "(the BFS kernel stores vertex positions in 32 bits)",
                                      value ? value : "", BENCH_MAX_SCALE);
            opt->scale = (unsigned)x;
            opt->has_scale = true;
            i++;
        } else if (strcmp(a, "--edgefactor") == 0) {
            if (!parse_u64(value, &x) || x < 1 || x > 1024)
                return tc_error_input(&b->err, NULL, 0, 0, "--edgefactor",
                                      "invalid edge factor '%s': expected an integer from 1 "
                                      "to 1024",
                                      value ? value : "");
            opt->edgefactor = x;
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            if (!parse_u64(value, &x))
                return tc_error_input(&b->err, NULL, 0, 0, "--seed",
                                      "invalid seed '%s': expected a non-negative integer",
                                      value ? value : "");
            opt->seed = x;
            i++;
        } else if (strcmp(a, "--roots") == 0) {
            if (!parse_u64(value, &x) || x < 1 || x > TC_G500_MAX_KEYS)
                return tc_error_input(&b->err, NULL, 0, 0, "--roots",
                                      "invalid number of roots '%s': expected 1 to %d",
                                      value ? value : "", TC_G500_MAX_KEYS);
            opt->roots = (uint32_t)x;
            i++;
        } else if (strcmp(a, "--file") == 0) {
            if (!value)
                return tc_error_input(&b->err, NULL, 0, 0, "--file",
                                      "option --file expects a path");
            opt->file = value;
            i++;
        } else if (strcmp(a, "--format") == 0) {
            opt->format = value ? tc_edgelist_format_find(value) : -1;
            if (opt->format < 0)
                return tc_error_input(&b->err, NULL, 0, 0, "--format",
                                      "invalid format '%s': expected snap or mm",
                                      value ? value : "");
            i++;
        } else if (strcmp(a, "--json") == 0) {
            if (!value)
                return tc_error_input(&b->err, NULL, 0, 0, "--json",
                                      "option --json expects a path");
            opt->json = value;
            i++;
        } else {
            return tc_error_input(&b->err, NULL, 0, 0, NULL,
                                  "unknown option '%s' (see trustchain bench bfs --help)", a);
        }
    }

    if (opt->file && opt->has_scale)
        return tc_error_input(&b->err, NULL, 0, 0, NULL,
                              "--scale and --file exclude each other: generate a graph or "
                              "import one");
    if (!opt->file && !opt->has_scale)
        return tc_error_input(&b->err, NULL, 0, 0, NULL,
                              "missing --scale S or --file PATH (see trustchain bench bfs "
                              "--help)");
    if (!opt->file && opt->format >= 0)
        return tc_error_input(&b->err, NULL, 0, 0, "--format",
                              "--format applies to --file only");
    if (opt->file && opt->format < 0) {
        size_t n = strlen(opt->file);
        bool mtx = n >= 4 && strcmp(opt->file + n - 4, ".mtx") == 0;
        opt->format = mtx ? TC_EDGELIST_MATRIX_MARKET : TC_EDGELIST_SNAP;
    }
    return TC_OK;
}

/* ---- output helpers --------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
static void bench_progress(const bench *b, const char *fmt, ...)
{
    if (b->opt.quiet || b->rank != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("bench bfs: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void print_stats(const char *prefix, const char *suffix, const tc_g500_stats *s,
                        bool harmonic)
{
    printf("%s_min_%s: %.6g\n", prefix, suffix, s->min);
    printf("%s_firstquartile_%s: %.6g\n", prefix, suffix, s->firstquartile);
    printf("%s_median_%s: %.6g\n", prefix, suffix, s->median);
    printf("%s_thirdquartile_%s: %.6g\n", prefix, suffix, s->thirdquartile);
    printf("%s_max_%s: %.6g\n", prefix, suffix, s->max);
    printf("%s_%smean_%s: %.6g\n", prefix, harmonic ? "harmonic_" : "", suffix, s->mean);
    printf("%s_%sstddev_%s: %.6g\n", prefix, harmonic ? "harmonic_" : "", suffix, s->stddev);
}

static json_t *stats_json(const tc_g500_stats *s, bool harmonic)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "min", s->min, "firstquartile",
                     s->firstquartile, "median", s->median, "thirdquartile", s->thirdquartile,
                     "max", s->max, harmonic ? "harmonic_mean" : "mean", s->mean,
                     harmonic ? "harmonic_stddev" : "stddev", s->stddev);
}

/* ---- phases ----------------------------------------------------------- */

/* Generate or import the edge list (untimed). Collective. */
static int bench_load(bench *b)
{
    double t0 = MPI_Wtime();
    if (b->opt.file) {
        bench_progress(b, "reading %s", b->opt.file);
        if (tc_edgelist_read(b->comm, b->opt.file, (enum tc_edgelist_format)b->opt.format,
                             NULL, &b->edges, &b->err) != TC_OK)
            return b->err.code;
        if (b->edges.n_edges == 0)
            return tc_error_input(&b->err, b->opt.file, 0, 0, NULL,
                                  "the edge list has no edges");
        if (b->edges.n_vertices > UINT32_MAX)
            return tc_error_input(&b->err, b->opt.file, 0, 0, NULL,
                                  "%llu vertices (largest id + 1) exceed the BFS kernel's "
                                  "limit of 2^32 - 1; relabel the ids to 0 .. n-1 first",
                                  (unsigned long long)b->edges.n_vertices);
        uint64_t vertices = b->edges.n_vertices / (uint64_t)b->nranks + 1;
        tc_memory_check(b->comm,
                        (size_t)(b->edges.count * 32 + vertices * 64 + ((uint64_t)64 << 20)),
                        "building the imported graph", &b->err);
        if (tc_error_agree(&b->err, b->comm) != TC_OK)
            return b->err.code;
    } else {
        tc_kronecker k;
        tc_kronecker_init(&k, b->opt.scale, b->opt.edgefactor, b->opt.seed);
        if (tc_kronecker_check(&k, &b->err) != TC_OK)
            return b->err.code;

        /* Estimate per rank. The edge list (16 bytes per edge) stays until
         * the graph is built. Construction adds the received out-edges and
         * the CSR, each 16 bytes per input edge (two out-edges of 8 bytes).
         * Per vertex, the offsets, the search state, the parent array and
         * validation need about 64 bytes. */
        uint64_t per_rank = tc_kronecker_edge_count(&k) / (uint64_t)b->nranks + 1;
        uint64_t vertices = tc_kronecker_vertex_count(&k) / (uint64_t)b->nranks + 1;
        size_t need = (size_t)(per_rank * 48 + vertices * 64 + ((uint64_t)64 << 20));
        if (tc_memory_check(b->comm, need, "the Kronecker graph", &b->err) != TC_OK)
            return b->err.code;
        bench_progress(b, "generating scale %u, edge factor %llu", k.scale,
                       (unsigned long long)k.edgefactor);
        if (tc_kronecker_generate(&k, b->comm, &b->edges, &b->err) != TC_OK)
            return b->err.code;
    }
    b->n_vertices = b->edges.n_vertices;
    b->n_input_edges = b->edges.n_edges;
    double elapsed = MPI_Wtime() - t0;
    MPI_Allreduce(&elapsed, &b->generation_seconds, 1, MPI_DOUBLE, MPI_MAX, b->comm);
    return TC_OK;
}

/* Kernel 1, timed. The edge list is released as soon as the graph holds
 * it. Collective. */
static int bench_construct(bench *b)
{
    bench_progress(b, "constructing the graph of %llu vertices and %llu edges",
                   (unsigned long long)b->n_vertices, (unsigned long long)b->n_input_edges);
    MPI_Barrier(b->comm);
    double t0 = MPI_Wtime();
    int status = tc_g500_graph_build(b->comm, b->n_vertices, b->edges.count, b->edges.src,
                                     b->edges.dst, &b->g, &b->err);
    tc_edgelist_free(&b->edges);
    double elapsed = MPI_Wtime() - t0;
    MPI_Allreduce(&elapsed, &b->construction_seconds, 1, MPI_DOUBLE, MPI_MAX, b->comm);
    return status;
}

static int bench_level_slot(bench *b, uint32_t level)
{
    if (level < b->levels_capacity)
        return TC_OK;
    uint32_t capacity = b->levels_capacity ? 2 * b->levels_capacity : 64;
    while (capacity <= level)
        capacity *= 2;
    level_totals *grown = realloc(b->levels, capacity * sizeof *grown);
    if (!grown)
        return tc_error_runtime(&b->err, "out of memory for level statistics");
    memset(grown + b->levels_capacity, 0, (capacity - b->levels_capacity) * sizeof *grown);
    b->levels = grown;
    b->levels_capacity = capacity;
    return TC_OK;
}

/* Per-level counters of one search, local to this rank. */
typedef struct search_level {
    uint64_t frontier, examined;
    double compute, communicate;
    bool bottom_up;
} search_level;

/* One timed search from KEY; per-level counters go to *LEVELS (grown as
 * needed, *N_LEVELS entries). Collective. */
static int bench_search(bench *b, uint64_t key, double *seconds, search_level **levels,
                        uint32_t *n_levels, uint32_t *capacity)
{
    const tc_graph *g = b->g;
    uint64_t root_frontier[1];
    uint64_t *frontier = root_frontier, n_frontier = 0;
    tc_bfs_stats before, after;
    *n_levels = 0;

    MPI_Barrier(b->comm);
    double t0 = MPI_Wtime();
    tc_bfs_state_reset(b->state);
    if (key >= g->first && key < g->first + g->n_local) {
        root_frontier[0] = key - g->first;
        tc_bfs_mark_visited(b->state, root_frontier[0]);
        n_frontier = 1;
    }
    tc_bfs_get_stats(b->state, &before);
    for (;;) {
        uint64_t *next = NULL, n_next = 0;
        int status = tc_bfs_level(b->state, frontier, n_frontier, &next, &n_next, &b->err);
        if (frontier != root_frontier)
            free(frontier);
        if (status != TC_OK)
            return status;
        uint64_t global = tc_bfs_frontier_global(b->state);
        if (global == 0) {
            free(next);
            break;
        }

        tc_bfs_get_stats(b->state, &after);
        if (*n_levels == *capacity) {
            uint32_t grown_capacity = *capacity ? 2 * *capacity : 64;
            search_level *grown = realloc(*levels, grown_capacity * sizeof *grown);
            if (grown) {
                *levels = grown;
                *capacity = grown_capacity;
            }
        }
        if (*n_levels < *capacity) {
            search_level *l = &(*levels)[(*n_levels)++];
            l->frontier = global;
            l->examined = after.edges_examined - before.edges_examined;
            l->compute = after.seconds_compute - before.seconds_compute;
            l->communicate = after.seconds_communicate - before.seconds_communicate;
            l->bottom_up = after.levels_bottom_up > before.levels_bottom_up;
        }
        before = after;
        frontier = next;
        n_frontier = n_next;
    }
    double elapsed = MPI_Wtime() - t0;
    MPI_Allreduce(&elapsed, seconds, 1, MPI_DOUBLE, MPI_MAX, b->comm);
    return TC_OK;
}

/* Fold one search's per-level counters into the totals: slowest rank's
 * times, summed counts. Collective. */
static int bench_fold_levels(bench *b, const search_level *levels, uint32_t n_levels)
{
    uint32_t n_max = 0;
    MPI_Allreduce(&n_levels, &n_max, 1, MPI_UINT32_T, MPI_MAX, b->comm);
    double *times = calloc(2 * (size_t)n_max + 1, sizeof(double));
    uint64_t *counts = calloc((size_t)n_max + 1, sizeof(uint64_t));
    if (!times || !counts || bench_level_slot(b, n_max) != TC_OK)
        tc_error_runtime(&b->err, "out of memory for level statistics");
    if (tc_error_agree(&b->err, b->comm) != TC_OK) {
        free(times);
        free(counts);
        return b->err.code;
    }
    for (uint32_t l = 0; l < n_levels; l++) {
        times[2 * l] = levels[l].compute;
        times[2 * l + 1] = levels[l].communicate;
        counts[l] = levels[l].examined;
    }
    MPI_Allreduce(MPI_IN_PLACE, times, 2 * (int)n_max, MPI_DOUBLE, MPI_MAX, b->comm);
    MPI_Allreduce(MPI_IN_PLACE, counts, (int)n_max, MPI_UINT64_T, MPI_SUM, b->comm);
    for (uint32_t l = 0; l < n_max; l++) {
        level_totals *t = &b->levels[l];
        t->searches++;
        t->compute += times[2 * l];
        t->communicate += times[2 * l + 1];
        t->examined += counts[l];
        if (l < n_levels) {
            t->frontier += levels[l].frontier;
            if (levels[l].bottom_up)
                t->bottom_up++;
            else
                t->top_down++;
        }
    }
    if (n_max > b->n_levels)
        b->n_levels = n_max;
    free(times);
    free(counts);
    return TC_OK;
}

/* Kernel 2 over every key, each search validated (untimed). Collective. */
static int bench_searches(bench *b)
{
    const tc_graph *g = b->g;
    search_level *levels = NULL;
    uint32_t n_levels = 0, capacity = 0;
    int status = TC_OK;
    b->all_valid = true;

    b->parents = malloc((g->n_local + 1) * sizeof(uint64_t));
    if (!b->parents)
        tc_error_runtime(&b->err, "out of memory for the parent array");
    else
        tc_bfs_state_create(g, true, &b->state, &b->err);
    if (tc_error_agree(&b->err, b->comm) != TC_OK)
        return b->err.code;

    for (uint32_t k = 0; k < b->n_keys && status == TC_OK; k++) {
        uint64_t key = b->keys[k];
        status = bench_search(b, key, &b->seconds[k], &levels, &n_levels, &capacity);
        if (status != TC_OK)
            break;
        status = bench_fold_levels(b, levels, n_levels);
        if (status != TC_OK)
            break;

        tc_bfs_stats stats;
        tc_bfs_get_stats(b->state, &stats);
        MPI_Allreduce(&stats.edges_examined, &b->examined[k], 1, MPI_UINT64_T, MPI_SUM,
                      b->comm);
        for (uint64_t v = 0; v < g->n_local; v++)
            b->parents[v] = g->first + v == key ? key : tc_bfs_parent(b->state, v);
        uint64_t nedge = 0;
        status = tc_g500_component_edges(g, b->parents, &nedge, &b->err);
        b->nedge[k] = (double)nedge;
        if (status != TC_OK)
            break;

        if (b->opt.validate) {
            tc_g500_check check;
            status = tc_g500_validate(g, key, b->parents, 0, &check, &b->err);
            if (status == TC_OK && !check.valid && b->all_valid) {
                b->all_valid = false;
                snprintf(b->invalid_message, sizeof b->invalid_message, "search from %llu: %s",
                         (unsigned long long)key, check.message);
            }
            b->reached[k] = check.reached;
            b->depth[k] = check.depth;
        }
        bench_progress(b, "search %u of %u from %llu: %.6f s, %.0f edges", k + 1, b->n_keys,
                       (unsigned long long)key, b->seconds[k], b->nedge[k]);
    }
    free(levels);
    return status;
}

/* ---- report ----------------------------------------------------------- */

typedef struct bench_summary {
    tc_g500_stats time, nedge, teps;
    double examined_fraction;
    double graph_bytes, state_bytes, csr_bytes;
    double peak_rss_max, peak_rss_total;
} bench_summary;

static void bench_summarize(bench *b, bench_summary *s)
{
    const tc_graph *g = b->g;
    size_t n = b->n_keys;
    tc_g500_stats_compute(b->seconds, n, &s->time);
    tc_g500_stats_compute(b->nedge, n, &s->nedge);
    tc_g500_teps_stats(b->nedge, b->seconds, n, &s->teps);

    /* A top-down search scans both directions of every edge of the
     * component. The fraction is the part of that the kernel examined. */
    double examined = 0, scanned = 0;
    for (size_t k = 0; k < n; k++) {
        examined += (double)b->examined[k];
        scanned += 2 * b->nedge[k];
    }
    s->examined_fraction = scanned > 0 ? examined / scanned : 0;

    size_t offsets = (g->n_local + 1) * sizeof(uint64_t);
    double mine[3] = { (double)tc_graph_bytes(g), (double)tc_bfs_state_bytes(b->state),
                       (double)(offsets + g->n_edges_local * sizeof(uint64_t)) };
    double total[3];
    MPI_Allreduce(mine, total, 3, MPI_DOUBLE, MPI_SUM, b->comm);
    s->graph_bytes = total[0];
    s->state_bytes = total[1];
    s->csr_bytes = total[2];
    double rss = (double)tc_memory_peak_rss();
    MPI_Allreduce(&rss, &s->peak_rss_max, 1, MPI_DOUBLE, MPI_MAX, b->comm);
    MPI_Allreduce(&rss, &s->peak_rss_total, 1, MPI_DOUBLE, MPI_SUM, b->comm);
}

static const char *bench_validation(const bench *b)
{
    if (!b->opt.validate)
        return "skipped";
    return b->all_valid ? "passed" : "failed";
}

static void bench_print(const bench *b, const bench_summary *s)
{
    double m = (double)b->n_input_edges;
    if (b->opt.file) {
        printf("input_file: %s\n", b->opt.file);
        printf("SCALE: %.0f\n", ceil(log2((double)b->n_vertices)));
        printf("edgefactor: %.6g\n", m / (double)b->n_vertices);
    } else {
        printf("SCALE: %u\n", b->opt.scale);
        printf("edgefactor: %llu\n", (unsigned long long)b->opt.edgefactor);
    }
    printf("NBFS: %u\n", b->n_keys);
    printf("num_vertices: %llu\n", (unsigned long long)b->n_vertices);
    printf("num_edges: %llu\n", (unsigned long long)b->n_input_edges);
    printf("num_mpi_processes: %d\n", b->nranks);
    printf("graph_generation: %.6g\n", b->generation_seconds);
    printf("construction_time: %.6g\n", b->construction_seconds);
    print_stats("bfs", "time", &s->time, false);
    print_stats("bfs", "nedge", &s->nedge, false);
    print_stats("bfs", "TEPS", &s->teps, true);
    printf("bfs_validation: %s\n", bench_validation(b));
    if (!b->all_valid)
        printf("bfs_validation_error: %s\n", b->invalid_message);

    printf("bfs_edges_examined_fraction: %.6g\n", s->examined_fraction);
    printf("bytes_per_edge: %.6g\n", (s->graph_bytes + s->state_bytes) / m);
    printf("csr_bytes_per_edge: %.6g\n", s->csr_bytes / m);
    printf("peak_rss_max_rank_bytes: %.0f\n", s->peak_rss_max);
    printf("peak_rss_total_bytes: %.0f\n", s->peak_rss_total);

    /* Means per search of the slowest rank's split, by level. */
    printf("levels: level searches top_down bottom_up mean_frontier mean_edges_examined "
           "mean_compute_s mean_communicate_s\n");
    for (uint32_t l = 0; l < b->n_levels; l++) {
        const level_totals *t = &b->levels[l];
        double per = t->searches ? 1.0 / (double)t->searches : 0;
        printf("level_%u: %llu %llu %llu %.6g %.6g %.6g %.6g\n", l,
               (unsigned long long)t->searches, (unsigned long long)t->top_down,
               (unsigned long long)t->bottom_up, (double)t->frontier * per,
               (double)t->examined * per, t->compute * per, t->communicate * per);
    }
}

static json_t *bench_json(const bench *b, const bench_summary *s)
{
    json_t *keys = json_array(), *nedge = json_array(), *depth = json_array();
    json_t *seconds = json_array(), *levels = json_array();
    for (uint32_t k = 0; k < b->n_keys; k++) {
        json_array_append_new(keys, json_integer((json_int_t)b->keys[k]));
        json_array_append_new(nedge, json_integer((json_int_t)b->nedge[k]));
        json_array_append_new(depth, json_integer(b->depth[k]));
        json_array_append_new(seconds, json_real(b->seconds[k]));
    }
    for (uint32_t l = 0; l < b->n_levels; l++) {
        const level_totals *t = &b->levels[l];
        double per = t->searches ? 1.0 / (double)t->searches : 0;
        json_array_append_new(levels, json_pack("{s:i, s:I, s:I, s:I, s:f, s:f, s:f, s:f}",
                                                "level", (int)l, "searches",
                                                (json_int_t)t->searches, "top_down",
                                                (json_int_t)t->top_down, "bottom_up",
                                                (json_int_t)t->bottom_up, "mean_frontier",
                                                (double)t->frontier * per,
                                                "mean_edges_examined",
                                                (double)t->examined * per, "mean_compute_s",
                                                t->compute * per, "mean_communicate_s",
                                                t->communicate * per));
    }

    json_t *input = b->opt.file
                        ? json_pack("{s:s, s:s, s:s}", "kind", "file", "path", b->opt.file,
                                    "format",
                                    b->opt.format == TC_EDGELIST_MATRIX_MARKET ? "mm" : "snap")
                        : json_pack("{s:s, s:i, s:I, s:I}", "kind", "kronecker", "scale",
                                    (int)b->opt.scale, "edgefactor",
                                    (json_int_t)b->opt.edgefactor, "seed",
                                    (json_int_t)b->opt.seed);
    return json_pack(
        "{s:i, s:s, s:o, s:{s:I, s:I}, s:{s:i, s:o, s:o, s:o, s:s}, s:{s:i}, "
        "s:{s:f, s:f, s:o, s:o, s:o, s:o, s:f, s:f, s:f, s:f, s:f, s:o}}",
        "schema_version", BENCH_SCHEMA_VERSION, "benchmark", "bfs", "input", input, "graph",
        "vertices", (json_int_t)b->n_vertices, "input_edges", (json_int_t)b->n_input_edges,
        "results", "nbfs", (int)b->n_keys, "keys", keys, "nedge", nedge, "depth", depth,
        "validation", bench_validation(b), "run", "ranks", b->nranks, "timings",
        "graph_generation_s", b->generation_seconds, "construction_s",
        b->construction_seconds, "bfs_s", seconds, "bfs_time", stats_json(&s->time, false),
        "bfs_TEPS", stats_json(&s->teps, true), "bfs_nedge", stats_json(&s->nedge, false),
        "edges_examined_fraction", s->examined_fraction, "bytes_per_edge",
        (s->graph_bytes + s->state_bytes) / (double)b->n_input_edges, "csr_bytes_per_edge",
        s->csr_bytes / (double)b->n_input_edges, "peak_rss_max_rank_bytes", s->peak_rss_max,
        "peak_rss_total_bytes", s->peak_rss_total, "levels", levels);
}

/* ---- entry ------------------------------------------------------------ */

static void bench_free(bench *b)
{
    tc_edgelist_free(&b->edges);
    tc_bfs_state_free(b->state);
    tc_graph_free(b->g);
    free(b->levels);
    free(b->parents);
}

int tc_bench_bfs_main(int argc, char **argv, MPI_Comm comm)
{
    bench b;
    memset(&b, 0, sizeof b);
    b.comm = comm;
    MPI_Comm_rank(comm, &b.rank);
    MPI_Comm_size(comm, &b.nranks);
    tc_error_clear(&b.err);
    tc_edgelist_init(&b.edges);

    int parsed = bench_parse(&b, argc, argv);
    if (parsed == -1)
        return TC_OK;
    if (parsed == TC_OK && b.opt.json && b.rank == 0)
        tc_results_check_path(b.opt.json, &b.err);
    if (tc_error_agree(&b.err, comm) != TC_OK)
        goto fail;

    if (bench_load(&b) != TC_OK || tc_error_agree(&b.err, comm) != TC_OK)
        goto fail;
    if (bench_construct(&b) != TC_OK)
        goto fail;
    bench_progress(&b, "graph built in %.3f s", b.construction_seconds);

    if (tc_g500_sample_keys(b.g, b.opt.seed, b.opt.roots, b.keys, &b.n_keys, &b.err) != TC_OK)
        goto fail;
    if (b.n_keys == 0) {
        tc_error_input(&b.err, b.opt.file, 0, 0, NULL,
                       "no vertex has an edge to another vertex: nothing to search");
        goto fail;
    }
    if (bench_searches(&b) != TC_OK)
        goto fail;

    bench_summary summary;
    bench_summarize(&b, &summary);
    if (b.rank == 0) {
        bench_print(&b, &summary);
        fflush(stdout);
        if (b.opt.json) {
            json_t *doc = bench_json(&b, &summary);
            if (!doc)
                tc_error_runtime(&b.err, "out of memory for the JSON result");
            else
                tc_results_write(doc, b.opt.json, &b.err);
            json_decref(doc);
        }
    }
    if (tc_error_agree(&b.err, comm) != TC_OK)
        goto fail;
    if (!b.all_valid) {
        tc_error_runtime(&b.err, "BFS validation failed: %s", b.invalid_message);
        goto fail;
    }
    bench_free(&b);
    return TC_OK;

fail:
    if (b.rank == 0)
        tc_error_print(&b.err, stderr);
    bench_free(&b);
    return b.err.code != TC_OK ? b.err.code : TC_ERR_RUNTIME;
}
