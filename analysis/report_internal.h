/*
 * report_internal.h - what the parts of `trustchain report` share: the
 * report context, atomic file output, escaping for each output language,
 * external programs, and readers for the result JSON.
 *
 * The parts are report.c (entry, options, folder), report_data.c (schema
 * check and readers), report_io.c (files, escaping, programs),
 * report_csv.c, report_plot.c (gnuplot), report_graph.c (DOT) and
 * report_html.c. Not installed: only those files and the unit tests include
 * it.
 */
#ifndef TC_REPORT_INTERNAL_H
#define TC_REPORT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"

/* Why a group of images (plots, graphs) is missing from the report. */
typedef enum tc_report_images {
    TC_REPORT_IMAGES_DRAWN,   /* every image of the group was drawn */
    TC_REPORT_IMAGES_NONE,    /* nothing to draw (no paths, no plan) */
    TC_REPORT_IMAGES_MISSING, /* the program was not found */
    TC_REPORT_IMAGES_FAILED   /* the program ran and failed on at least one image */
} tc_report_images;

/* One report under construction. All json_t pointers are borrowed from
 * ROOT, which stays alive until the report is finished. */
typedef struct tc_report {
    const char *results_path;   /* borrowed */
    const char *dir;            /* output folder, borrowed */
    const json_t *root;         /* the checked result document, borrowed */
    int top_paths;              /* paths per policy drawn and listed, >= 1 */
    const char *gnuplot;        /* program name or path, borrowed */
    const char *dot;            /* program name or path, borrowed */
    int tool_timeout;           /* seconds */

    size_t n_policies;
    json_int_t max_hop;         /* the largest last_hop over the policies, 0 when none */

    tc_report_images plots;     /* gnuplot PNGs */
    char plots_note[1024];      /* why plots are missing, "" when drawn */
    tc_report_images graphs;    /* attack path SVGs */
    char graphs_note[1024];     /* why graphs are missing, "" when drawn */

    char **files;               /* names written into DIR, in order, owned */
    size_t n_files, cap_files;
    char **warnings;            /* one-line messages, owned */
    size_t n_warnings, cap_warnings;
} tc_report;

/* ---- report_io.c: files ---- */

/* Malloc'd "DIR/NAME"; NULL when out of memory. */
char *tc_report_path(const tc_report *r, const char *name);

/* Whether NAME was written by this report. */
bool tc_report_has_file(const tc_report *r, const char *name);

/* An output file being written under a temporary name. */
typedef struct tc_report_file {
    FILE *out;   /* write here */
    char *tmp;   /* "DIR/NAME.tmp.PID", owned */
    char *final; /* "DIR/NAME", owned */
    const char *name;
} tc_report_file;

/* Create the temporary file for output NAME (a plain file name, no '/').
 * Returns TC_OK or TC_ERR_RUNTIME with ERR naming the file. */
int tc_report_file_open(tc_report *r, const char *name, tc_report_file *file, tc_error *err);

/* Flush and close FILE, then rename it to its final name and record it in
 * the report's file list. On any failure the temporary file is removed.
 * Releases FILE in every case. Returns TC_OK or TC_ERR_RUNTIME. */
int tc_report_file_commit(tc_report *r, tc_report_file *file, tc_error *err);

/* Close and remove FILE's temporary file after an earlier failure. */
void tc_report_file_abandon(tc_report_file *file);

/* Rename the finished temporary file TMP (made by a program) to DIR/NAME
 * and record NAME. Returns TC_OK or TC_ERR_RUNTIME; TMP is removed on
 * failure. */
int tc_report_adopt(tc_report *r, const char *tmp, const char *name, tc_error *err);

/* Read the whole file PATH into a malloc'd buffer (NUL-terminated, SIZE
 * excludes the NUL). Returns TC_OK or TC_ERR_RUNTIME. */
int tc_report_read_file(const char *path, char **data, size_t *size, tc_error *err);

/* Record a one-line warning (printf format). Returns TC_OK, or
 * TC_ERR_RUNTIME when out of memory. */
int tc_report_warn(tc_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- report_io.c: escaping; each writes S (UTF-8) to OUT ---- */

/* HTML text or a quoted attribute value: & < > " ' become references and
 * control characters other than tab and newline become U+FFFD. */
void tc_report_put_html(FILE *out, const char *s);

/* One CSV field (RFC 4180): quoted when it contains a comma, a quote, CR
 * or LF, with quotes doubled. */
void tc_report_put_csv(FILE *out, const char *s);

/* The inside of a DOT double-quoted string: backslash and quote escaped,
 * newlines as \n, other control characters as spaces. */
void tc_report_put_dot(FILE *out, const char *s);

/* The inside of a gnuplot single-quoted string: quotes doubled, control
 * characters as spaces. (The terminal is noenhanced, so ^ _ @ { } are
 * plain characters.) */
void tc_report_put_gnuplot(FILE *out, const char *s);

/* Base64 (RFC 4648, with padding, no line breaks) of SIZE bytes. */
void tc_report_put_base64(FILE *out, const unsigned char *data, size_t size);

/* The shortest decimal text that reads back as the same double, so a CSV
 * value compares equal to the JSON's. */
void tc_report_put_double(FILE *out, double value);

/* N in decimal with commas between groups of three digits, into BUF;
 * returns BUF. */
const char *tc_report_format_count(json_int_t n, char *buf, size_t size);

/* ---- report_io.c: external programs ---- */

typedef enum tc_report_tool_status {
    TC_REPORT_TOOL_OK,
    TC_REPORT_TOOL_MISSING, /* the program could not be started (not found, not executable) */
    TC_REPORT_TOOL_FAILED   /* it started and exited non-zero, was killed, or timed out */
} tc_report_tool_status;

/* Run ARGV in the folder CWD and wait for it. ARGV[0] is looked up in PATH
 * unless it contains a '/'. The program reads /dev/null, its stdout and
 * stderr are captured, and it is killed after the report's tool_timeout
 * seconds. When the status is not OK, DETAIL (out) gets a one-line reason:
 * the start error, or the exit status and the first line the program
 * printed. Returns the status, which covers every failure. */
tc_report_tool_status tc_report_run_tool(const tc_report *r, char *const argv[], const char *cwd,
                                         char *detail, size_t detail_size);

/* ---- report_data.c: the result document ---- */

/* Check that ROOT is a schema-version-1 result with every member the
 * report reads, of the right type. Returns TC_OK or TC_ERR_INPUT with ERR
 * naming PATH and the key path of the first bad member. */
int tc_report_check_results(const json_t *root, const char *path, tc_error *err);

/* Member KEY of object O as an integer, a number or a string; 0, 0.0 or ""
 * when O or KEY is missing or of another type. */
json_int_t tc_report_int(const json_t *o, const char *key);
double tc_report_number(const json_t *o, const char *key);
const char *tc_report_string(const json_t *o, const char *key);

/* Policy I of the result. */
const json_t *tc_report_policy(const tc_report *r, size_t i);

/* Timings of policy I: the "timings.policies" entry of the same name
 * (the one at index I when names repeat); NULL when absent. */
const json_t *tc_report_policy_timing(const tc_report *r, size_t i);

/* Index of the policy with the smallest blast radius, ties to the one
 * that breaks fewer legitimate flows, then to the first. With
 * NO_BROKEN_FLOWS only policies that break no flow compete. Returns
 * (size_t)-1 when no policy qualifies. */
size_t tc_report_best_policy(const tc_report *r, bool no_broken_flows);

/* Index of the policy to compare against: the first of kind "legacy",
 * else the one with the largest blast radius. (size_t)-1 when none. */
size_t tc_report_baseline_policy(const tc_report *r);

/* Sum of the "compromised" counts of a crown_jewels object. */
json_int_t tc_report_crown_sum(const json_t *crown_jewels);

/* One hop of an attack path, read from policies[i].paths[j]. Strings are
 * borrowed from the document and never NULL ("" when absent). */
typedef struct tc_report_hop {
    json_int_t hop;           /* the "hop" member, else the index in the path */
    json_int_t id;            /* workload id, -1 when absent */
    const char *name, *tenant, *env, *app, *tier, *crown_jewel;
    const char *step;         /* step kind: foothold, network, api, credential, supply_chain */
    char *reason;             /* plain text, malloc'd; free it: the hop's "text", else its
                                 "reason" written out by tc_report_value_text */
} tc_report_hop;

/* The hops of PATH: PATH itself when it is an array, else its "hops" or
 * "steps" member; NULL when none of these is an array. */
const json_t *tc_report_path_hops(const json_t *path);

/* What a path shows. */
typedef enum tc_report_path_kind {
    TC_REPORT_PATH_CHAIN,     /* a foothold, then one or more attack steps */
    TC_REPORT_PATH_FOOTHOLD,  /* one hop: the target is itself a foothold */
    TC_REPORT_PATH_UNREACHED, /* "reached": false, the target never fell */
    TC_REPORT_PATH_INVALID    /* no hop list, or an empty one */
} tc_report_path_kind;

tc_report_path_kind tc_report_path_classify(const json_t *path);

/* Read hop INDEX of a path. Returns TC_OK or TC_ERR_RUNTIME (out of
 * memory for the reason text). */
int tc_report_hop_read(const json_t *hop, size_t index, tc_report_hop *out, tc_error *err);

/* Label of a hop's workload: its name, else "workload ID", else "?". */
const char *tc_report_hop_label(const tc_report_hop *hop, char *buf, size_t size);

/* One sequence of plan steps: the plan itself, or a variant of it such as
 * the plan that accepts breaking legitimate flows. */
typedef struct tc_report_plan_variant {
    const char *name;    /* "plan" for the main one, else the member name */
    const json_t *steps; /* an array of step objects */
} tc_report_plan_variant;

/* Find the variants of a policy's "plan" member. An array is one variant.
 * In an object, the "steps" array is the main plan, and each member that is
 * an array of objects or an object with a "steps" array is one more
 * variant. Fills at most MAX and returns how many it found. */
size_t tc_report_plan_variants(const json_t *plan, tc_report_plan_variant *out, size_t max);

/* One plan step. Counts are -1 when the step does not give them. */
typedef struct tc_report_plan_step {
    json_int_t step;               /* the "step" member, else index + 1 */
    char *closure;                 /* what the step closes, plain text, malloc'd */
    json_int_t compromised_after;  /* blast radius once the step is applied */
    json_int_t crown_jewels_after; /* crown jewels still reached, summed over kinds */
    json_int_t flows_broken;       /* legitimate flows broken, as the plan reports them */
} tc_report_plan_step;

/* Read step INDEX of a plan variant. Returns TC_OK or TC_ERR_RUNTIME. */
int tc_report_plan_step_read(const json_t *step, size_t index, tc_report_plan_step *out,
                             tc_error *err);

/* Plain text of a JSON value for a table cell: strings as they are,
 * numbers in decimal, arrays joined by ", ", objects as "key value" pairs
 * joined by ", ". Malloc'd; NULL when out of memory. */
char *tc_report_value_text(const json_t *value);

/* ---- the writers; each returns TC_OK or TC_ERR_RUNTIME ---- */

int tc_report_write_csv(tc_report *r, tc_error *err);
int tc_report_write_plots(tc_report *r, tc_error *err);   /* report_plot.c */
int tc_report_write_graphs(tc_report *r, tc_error *err);  /* report_graph.c */
int tc_report_write_html(tc_report *r, tc_error *err);

/* File names shared between the writers. */
#define TC_REPORT_HTML "report.html"
#define TC_REPORT_FILE_LIST "report-files.txt"

/* Name of policy I's attack path graph with extension EXT ("dot", "svg"):
 * "paths-<I+1>-<name>.<ext>", the name reduced to [A-Za-z0-9._-]. */
void tc_report_graph_name(const tc_report *r, size_t i, const char *ext, char *buf, size_t size);

/* Colour of series I in plots and tables, "#rrggbb". */
const char *tc_report_colour(size_t i);

#endif
