/*
 * report.h - `trustchain report`: turns a result JSON (results.h, schema
 * version 1) into a folder of CSV tables, gnuplot plots, Graphviz attack
 * path graphs and one self-contained HTML page.
 *
 * The report reads only the result file: it never rebuilds the topology, so
 * it runs in seconds on one rank whatever the size of the scenario. The
 * files it writes are described in docs/report.md.
 *
 * Plots and graphs come from external programs: gnuplot (Debian package
 * gnuplot-nox) and dot (Debian package graphviz). When one is missing or
 * fails, the report is still written without those images. The HTML page
 * explains why they are missing and a warning is returned, but the status
 * is success.
 *
 * Local functions: they call no MPI collective.
 */
#ifndef TC_REPORT_H
#define TC_REPORT_H

#include <mpi.h>
#include <stddef.h>

#include "error.h"

/* Paths per policy drawn in the DOT graph and listed in the HTML page when
 * the caller does not choose. */
#define TC_REPORT_DEFAULT_TOP_PATHS 10

/* Seconds an external program (gnuplot, dot) may run before it is killed. */
#define TC_REPORT_TOOL_TIMEOUT 120

typedef struct tc_report_options {
    const char *output_dir; /* folder to write; created with its parents when missing */
    int top_paths;          /* paths per policy to draw and list; 0 means the default */
    const char *gnuplot;    /* program name or path; NULL: $TC_GNUPLOT, else "gnuplot" */
    const char *dot;        /* program name or path; NULL: $TC_DOT, else "dot" */
} tc_report_options;

/* What a finished report wrote and what it had to leave out. */
typedef struct tc_report_outcome {
    size_t n_files;    /* files written into the output folder */
    char **warnings;   /* n_warnings one-line messages (a missing program, a failed plot) */
    size_t n_warnings;
} tc_report_outcome;

/* Build the report of the result file RESULTS_PATH into OPTIONS->output_dir.
 *
 * Every file is written under a temporary name in the output folder, then
 * renamed, so a reader never sees a half-written file. Files that the
 * previous report in that folder listed in report-files.txt and that this
 * report does not write again are removed, so the folder never mixes two
 * reports.
 *
 * Returns TC_OK, TC_ERR_INPUT or TC_ERR_RUNTIME. Input errors are a
 * results file that is missing, not JSON, of another schema_version or
 * with a member missing or of the wrong type, and an output folder that
 * cannot be created or written. Runtime errors are out of memory and a
 * write that failed midway. ERR names the file and, for a bad member, its
 * key path such as "policies[1].growth". OUTCOME (out, may be NULL) is
 * filled even on failure. Release it with tc_report_outcome_free. */
int tc_report_build(const char *results_path, const tc_report_options *options,
                    tc_report_outcome *outcome, tc_error *err);

/* Release the warnings of OUTCOME and reset it. */
void tc_report_outcome_free(tc_report_outcome *outcome);

/* Run `trustchain report RESULTS.json -o DIR [--top N] [-q]`. ARGV[0] is
 * the command name, "report", and the options follow it.
 *
 * Only rank 0 of COMM works. Any other rank returns 0 at once, so the
 * function may be called on every rank or on rank 0 alone. Rank 0 prints
 * warnings and errors on stderr and, unless -q, a summary line on stdout.
 * Returns the exit status: 0 success (warnings included), 1 runtime error,
 * 2 usage error or invalid input. */
int tc_report_main(int argc, char **argv, MPI_Comm comm);

#endif
