/* report.c - `trustchain report`: options, the result file, the output
 * folder, and the order in which the parts are written; see report.h.
 *
 * Order: CSV tables, gnuplot files and PNGs, DOT files and SVGs, then
 * report.html (which embeds the images and names every file), then
 * report-files.txt, and last the removal of files that only the previous
 * report in the folder had. */
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_internal.h"

/* ---- output folder ---- */

/* mkdir -p DIR. Returns TC_OK or TC_ERR_INPUT naming DIR. */
static int make_folder(const char *dir, tc_error *err)
{
    char *copy = strdup(dir);
    if (!copy)
        return tc_error_runtime(err, "out of memory");
    int status = TC_OK;
    for (char *p = copy + 1; *p && status == TC_OK; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST)
            status = tc_error_input(err, dir, 0, 0, NULL, "cannot create the report folder: "
                                    "creating '%s' failed: %s", copy, strerror(errno));
        *p = '/';
    }
    if (status == TC_OK && mkdir(copy, 0777) != 0 && errno != EEXIST)
        status = tc_error_input(err, dir, 0, 0, NULL, "cannot create the report folder: %s",
                                strerror(errno));
    free(copy);
    if (status != TC_OK)
        return status;

    struct stat st;
    if (stat(dir, &st) != 0)
        return tc_error_input(err, dir, 0, 0, NULL, "cannot use the report folder: %s",
                              strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return tc_error_input(err, dir, 0, 0, NULL,
                              "the report folder exists and is not a folder");
    return TC_OK;
}

/* Create and remove a file in DIR: the one check that also holds for root
 * on a read-only file system. */
static int check_writable(const char *dir, tc_error *err)
{
    char probe[PATH_MAX];
    if (snprintf(probe, sizeof probe, "%s/.report-probe.%ld", dir, (long)getpid()) >=
        (int)sizeof probe)
        return tc_error_input(err, dir, 0, 0, NULL, "the report folder's name is too long");
    FILE *f = fopen(probe, "w");
    if (!f)
        return tc_error_input(err, dir, 0, 0, NULL, "the report folder is not writable: %s",
                              strerror(errno));
    fclose(f);
    unlink(probe);
    return TC_OK;
}

/* ---- the list of files a report wrote ---- */

/* Whether NAME may be removed from the folder as a file of an earlier
 * report: a plain file name, not hidden. */
static bool is_plain_name(const char *name)
{
    return name[0] && name[0] != '.' && !strchr(name, '/');
}

/* Names listed in an earlier report-files.txt, one per line; an empty
 * list when there is none. Malloc'd text and array. */
static int read_file_list(tc_report *r, char **text, char ***names, size_t *n, tc_error *err)
{
    *text = NULL;
    *names = NULL;
    *n = 0;
    char *path = tc_report_path(r, TC_REPORT_FILE_LIST);
    if (!path)
        return tc_error_runtime(err, "out of memory");
    size_t size;
    if (access(path, F_OK) != 0 || tc_report_read_file(path, text, &size, err) != TC_OK) {
        free(path);
        return err->code;
    }
    free(path);

    size_t cap = 1;
    for (size_t i = 0; i < size; i++)
        cap += (*text)[i] == '\n';
    if (!(*names = malloc(cap * sizeof **names)))
        return tc_error_runtime(err, "out of memory");
    for (char *line = strtok(*text, "\n"); line; line = strtok(NULL, "\n"))
        if (is_plain_name(line) && *n < cap)
            (*names)[(*n)++] = line;
    return TC_OK;
}

static int write_file_list(tc_report *r, tc_error *err)
{
    tc_report_file f;
    if (tc_report_file_open(r, TC_REPORT_FILE_LIST, &f, err) != TC_OK)
        return err->code;
    for (size_t i = 0; i < r->n_files; i++)
        fprintf(f.out, "%s\n", r->files[i]);
    fprintf(f.out, "%s\n", TC_REPORT_FILE_LIST);
    return tc_report_file_commit(r, &f, err);
}

/* Remove the files of the earlier report that this one did not write. */
static void remove_stale_files(tc_report *r, char **old_names, size_t n_old)
{
    for (size_t i = 0; i < n_old; i++) {
        if (tc_report_has_file(r, old_names[i]) ||
            strcmp(old_names[i], TC_REPORT_FILE_LIST) == 0)
            continue;
        char *path = tc_report_path(r, old_names[i]);
        if (path && unlink(path) != 0 && errno != ENOENT)
            tc_report_warn(r, "cannot remove '%s' of the earlier report: %s", path,
                           strerror(errno));
        free(path);
    }
}

/* ---- building ---- */

/* The result document of PATH. Returns TC_OK or TC_ERR_INPUT. */
static int load_results(const char *path, json_t **root, tc_error *err)
{
    *root = NULL;
    FILE *in = fopen(path, "rb");
    if (!in)
        return tc_error_input(err, path, 0, 0, NULL, "cannot open the results file: %s",
                              strerror(errno));
    json_error_t jerr;
    *root = json_loadf(in, JSON_REJECT_DUPLICATES, &jerr);
    fclose(in);
    if (!*root)
        return tc_error_input(err, path, jerr.line > 0 ? jerr.line : 0,
                              jerr.column > 0 ? jerr.column : 0, NULL,
                              "invalid JSON: %s (expected a result written by trustchain run)",
                              jerr.text);
    return tc_report_check_results(*root, path, err);
}

/* A program name from OPTION, else the environment variable VARIABLE,
 * else FALLBACK. A relative path is made absolute, because the programs
 * run inside the report folder. Malloc'd. */
static char *program(const char *option, const char *variable, const char *fallback)
{
    const char *name = option;
    if (!name || !name[0])
        name = getenv(variable);
    if (!name || !name[0])
        name = fallback;
    if (strchr(name, '/') && name[0] != '/') {
        char *absolute = realpath(name, NULL);
        if (absolute)
            return absolute;
    }
    return strdup(name);
}

static void report_release(tc_report *r)
{
    for (size_t i = 0; i < r->n_files; i++)
        free(r->files[i]);
    free(r->files);
    for (size_t i = 0; i < r->n_warnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
}

int tc_report_build(const char *results_path, const tc_report_options *options,
                    tc_report_outcome *outcome, tc_error *err)
{
    tc_report r = { 0 };
    json_t *root = NULL;
    char *gnuplot = NULL, *dot = NULL, *old_text = NULL;
    char **old_names = NULL;
    size_t n_old = 0;
    if (outcome)
        memset(outcome, 0, sizeof *outcome);

    if (!options->output_dir || !options->output_dir[0]) {
        tc_error_input(err, NULL, 0, 0, NULL, "no report folder given (-o DIR)");
        goto release;
    }
    if (load_results(results_path, &root, err) != TC_OK ||
        make_folder(options->output_dir, err) != TC_OK ||
        check_writable(options->output_dir, err) != TC_OK)
        goto release;

    gnuplot = program(options->gnuplot, "TC_GNUPLOT", "gnuplot");
    dot = program(options->dot, "TC_DOT", "dot");
    if (!gnuplot || !dot) {
        tc_error_runtime(err, "out of memory");
        goto release;
    }
    r.results_path = results_path;
    r.dir = options->output_dir;
    r.root = root;
    r.top_paths = options->top_paths > 0 ? options->top_paths : TC_REPORT_DEFAULT_TOP_PATHS;
    r.gnuplot = gnuplot;
    r.dot = dot;
    r.tool_timeout = TC_REPORT_TOOL_TIMEOUT;
    r.n_policies = json_array_size(json_object_get(root, "policies"));
    for (size_t i = 0; i < r.n_policies; i++) {
        json_int_t last = tc_report_int(tc_report_policy(&r, i), "last_hop");
        json_int_t growth_end =
            (json_int_t)json_array_size(json_object_get(tc_report_policy(&r, i), "growth")) - 1;
        r.max_hop = last > r.max_hop ? last : r.max_hop;
        r.max_hop = growth_end > r.max_hop ? growth_end : r.max_hop;
    }

    if (read_file_list(&r, &old_text, &old_names, &n_old, err) != TC_OK ||
        tc_report_write_csv(&r, err) != TC_OK || tc_report_write_plots(&r, err) != TC_OK ||
        tc_report_write_graphs(&r, err) != TC_OK || tc_report_write_html(&r, err) != TC_OK ||
        write_file_list(&r, err) != TC_OK)
        goto release;
    remove_stale_files(&r, old_names, n_old);

release:
    if (outcome) {
        outcome->n_files = r.n_files;
        outcome->warnings = r.warnings;
        outcome->n_warnings = r.n_warnings;
        r.warnings = NULL;
        r.n_warnings = 0;
    }
    report_release(&r);
    free(old_names);
    free(old_text);
    free(gnuplot);
    free(dot);
    json_decref(root);
    return err->code;
}

void tc_report_outcome_free(tc_report_outcome *outcome)
{
    for (size_t i = 0; i < outcome->n_warnings; i++)
        free(outcome->warnings[i]);
    free(outcome->warnings);
    memset(outcome, 0, sizeof *outcome);
}

/* ---- command line ---- */

static void usage(FILE *out)
{
    fputs("usage: trustchain report RESULTS.json -o DIR [--top N] [-q]\n"
          "\n"
          "Writes a report of a result file (from trustchain run) into DIR: CSV tables,\n"
          "gnuplot plots (PNG), Graphviz attack path graphs (SVG) and report.html, one\n"
          "self-contained page to open in a browser. See docs/report.md.\n"
          "\n"
          "options:\n"
          "  -o, --output DIR   report folder, created when missing; files of an earlier\n"
          "                     report there that this one does not write are removed\n"
          "      --top N        attack paths per policy to draw and list (default 10)\n"
          "  -q, --quiet        print warnings and errors only\n"
          "  -h, --help         this help\n"
          "\n"
          "environment: TC_GNUPLOT, TC_DOT   gnuplot and dot programs to run\n"
          "Without gnuplot or dot the report is written without plots or graphs, with a\n"
          "warning. Exit status: 0 success, 1 runtime error, 2 usage error or invalid input.\n",
          out);
}

typedef struct report_cli {
    const char *results;
    tc_report_options options;
    bool quiet;
    bool help;
} report_cli;

static int parse_top(const char *text, int *top, tc_error *err)
{
    char *end;
    errno = 0;
    long n = text ? strtol(text, &end, 10) : 0;
    if (!text || errno || end == text || *end || n < 1 || n > 100000)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "--top expects a number of paths from 1 to 100000, got '%s'",
                              text ? text : "");
    *top = (int)n;
    return TC_OK;
}

static int parse_arguments(report_cli *c, int argc, char **argv, tc_error *err)
{
    int n_operands = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            c->help = true;
            return TC_OK;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            c->quiet = true;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (!next)
                return tc_error_input(err, NULL, 0, 0, NULL, "option '%s' expects a folder", a);
            c->options.output_dir = next;
            i++;
        } else if (strncmp(a, "--output=", 9) == 0) {
            c->options.output_dir = a + 9;
        } else if (strcmp(a, "--top") == 0) {
            if (parse_top(next, &c->options.top_paths, err) != TC_OK)
                return err->code;
            i++;
        } else if (strncmp(a, "--top=", 6) == 0) {
            if (parse_top(a + 6, &c->options.top_paths, err) != TC_OK)
                return err->code;
        } else if (a[0] == '-' && a[1] != '\0') {
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "unknown option '%s' (see trustchain report --help)", a);
        } else {
            c->results = a;
            n_operands++;
        }
    }
    if (n_operands != 1)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "report expects exactly one result file, got %d (see trustchain "
                              "report --help)", n_operands);
    if (!c->options.output_dir || !c->options.output_dir[0])
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "report expects an output folder: -o DIR (see trustchain report "
                              "--help)");
    return TC_OK;
}

int tc_report_main(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank != 0)
        return TC_OK;

    tc_error err;
    tc_error_clear(&err);
    report_cli c = { 0 };
    if (parse_arguments(&c, argc, argv, &err) != TC_OK) {
        tc_error_print(&err, stderr);
        return err.code;
    }
    if (c.help) {
        usage(stdout);
        return TC_OK;
    }

    tc_report_outcome outcome;
    int status = tc_report_build(c.results, &c.options, &outcome, &err);
    for (size_t i = 0; i < outcome.n_warnings; i++)
        fprintf(stderr, "trustchain: report: warning: %s\n", outcome.warnings[i]);
    if (status != TC_OK)
        tc_error_print(&err, stderr);
    else if (!c.quiet)
        printf("report: %zu files in %s; open %s/%s\n", outcome.n_files, c.options.output_dir,
               c.options.output_dir, TC_REPORT_HTML);
    tc_report_outcome_free(&outcome);
    return status;
}
