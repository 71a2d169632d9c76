/*
 * fuzz_scenario.c - libFuzzer target for the scenario loader
 * (sim/scenario.c over sim/yaml_doc.c).
 *
 * Each input is written to tests/bad/scenario.yaml inside a private folder
 * that links scenarios/ to the repository's scenarios/ and
 * tests/bad/topologies/ to scenarios/topologies/ (the fuzzer runs from the
 * repository root). Seeds that name an explicit topology by a relative path,
 * as tests/bad/ and scenarios/ do, therefore still pass the check that the
 * file exists and reach the later checks. The loader is called with the
 * cloud generator's parameter table, as the command line calls it.
 *
 * Besides memory errors, the target checks the loader's contract and
 * aborts when it breaks:
 *  1. the status is TC_OK exactly when a scenario is returned;
 *  2. a rejected file is an input error (TC_ERR_INPUT) with a message;
 *  3. an error about this file points at a line that exists in it, or at
 *     column 1 of the line after the last one, where libyaml puts the end
 *     of a stream that lacks a final line break.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud.h"
#include "fuzz_common.h"
#include "scenario.h"

/* Make the link LINK (relative to the private folder) to TARGET (relative
 * to the current folder); a failure only costs coverage, so it is printed. */
static void link_into_folder(const char *target, const char *link)
{
    char cwd[PATH_MAX], from[PATH_MAX + 64], to[PATH_MAX + 64];
    if (!getcwd(cwd, sizeof cwd))
        return;
    snprintf(from, sizeof from, "%s/%s", cwd, target);
    snprintf(to, sizeof to, "%s/%s", fuzz_folder(), link);
    if (access(from, F_OK) != 0 || symlink(from, to) != 0)
        fprintf(stderr, "fuzz_scenario: cannot link %s to %s\n", to, from);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/tests", fuzz_folder());
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/tests/bad", fuzz_folder());
    mkdir(path, 0755);
    link_into_folder("scenarios", "scenarios");
    link_into_folder("scenarios/topologies", "tests/bad/topologies");
    return 0;
}

/* Count the lines of DATA as libyaml does: CR LF, CR, LF, and the UTF-8
 * forms of NEL (U+0085), LS (U+2028) and PS (U+2029) each end a line. */
static long count_lines(const uint8_t *data, size_t size)
{
    long lines = 1;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '\r') {
            lines++;
            if (i + 1 < size && data[i + 1] == '\n')
                i++;
        } else if (data[i] == '\n') {
            lines++;
        } else if (data[i] == 0xC2 && i + 1 < size && data[i + 1] == 0x85) {
            lines++;
        } else if (data[i] == 0xE2 && i + 2 < size && data[i + 1] == 0x80 &&
                   (data[i + 2] == 0xA8 || data[i + 2] == 0xA9)) {
            lines++;
        }
    }
    return lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("tests/bad/scenario.yaml", data, size);
    tc_scenario *s = (tc_scenario *)&s;   /* must come back NULL on failure */
    tc_error err;
    tc_error_clear(&err);

    int rc = tc_scenario_load(path, &tc_cloud_generator, 1, &s, &err);

    if ((rc == TC_OK) != (s != NULL)) {
        fprintf(stderr, "fuzz_scenario: status %d with scenario %p\n", rc, (void *)s);
        abort();
    }
    if (rc != TC_OK && (rc != TC_ERR_INPUT || err.code != rc || !err.message[0])) {
        fprintf(stderr, "fuzz_scenario: status %d, error code %d, message \"%s\"\n", rc,
                err.code, err.message);
        abort();
    }
    long lines = count_lines(data, size);
    bool past_end = err.line > lines + 1 || (err.line == lines + 1 && err.column > 1);
    if (rc != TC_OK && strcmp(err.file, path) == 0 &&
        (past_end || err.line < 0 || err.column < 0)) {
        fprintf(stderr, "fuzz_scenario: error at %ld:%ld outside the input of %ld lines: %s\n",
                err.line, err.column, lines, err.message);
        abort();
    }
    tc_scenario_free(s);
    return 0;
}
