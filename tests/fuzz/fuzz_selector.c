/*
 * fuzz_selector.c - libFuzzer target for the SmartGroup selector parser
 * (sim/selector.c).
 *
 * The input is taken as selector text up to its first NUL byte. A selector
 * that parses is also bound to the topology of
 * scenarios/topologies/tiny.yaml, loaded once at start (the fuzzer runs
 * from the repository root), and matched against each of its workloads, so
 * that evaluation of deep or odd expressions runs too.
 *
 * Contract checks (abort when broken): a parse failure returns -1 with a
 * message, a NULL selector and a column inside the text or just past its
 * end. Binding fails only with an input error that has a message.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explicit.h"
#include "fuzz_common.h"
#include "selector.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tc_topology *topology;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_mpi_init(argc, argv);
    tc_error err;
    tc_error_clear(&err);
    if (tc_explicit_load("scenarios/topologies/tiny.yaml", MPI_COMM_WORLD, &topology, &err) !=
        TC_OK) {
        fprintf(stderr, "fuzz_selector: binding and matching are not fuzzed: ");
        tc_error_print(&err, stderr);
        topology = NULL;
    }
    return 0;
}

static void check_matches(tc_selector *sel)
{
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_selector_bind(sel, topology, &err);
    if (rc != TC_OK) {
        if (rc != TC_ERR_INPUT || !err.message[0]) {
            fprintf(stderr, "fuzz_selector: bind status %d, message \"%s\"\n", rc, err.message);
            abort();
        }
        return;
    }
    unsigned matched = 0;
    for (uint64_t w = 0; w < topology->n_local; w++)
        matched += tc_selector_match(sel, topology, w);
    if (matched > topology->n_local)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t length = strlen(text);

    tc_selector *sel = (tc_selector *)&sel;   /* must come back NULL on failure */
    char message[256] = "";
    int column = -2;
    int rc = tc_selector_parse(text, &sel, message, sizeof message, &column);

    if (rc == 0) {
        if (!sel)
            abort();
        for (int attr = 0; attr < TC_ATTR_COUNT; attr++)
            (void)tc_selector_uses(sel, attr);
        if (topology)
            check_matches(sel);
        tc_selector_free(sel);
    } else if (rc != -1 || sel != NULL || !message[0] || column < 1 ||
               (size_t)column > length + 1) {
        fprintf(stderr, "fuzz_selector: status %d, selector %p, column %d of %zu, \"%s\"\n", rc,
                (void *)sel, column, length, message);
        abort();
    }
    free(text);
    return 0;
}
