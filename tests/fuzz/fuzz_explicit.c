/*
 * fuzz_explicit.c - libFuzzer target for the explicit topology loader
 * (generators/explicit.c), which also drives the topology builder of
 * sim/topology.c on a single rank.
 *
 * Contract checks (abort when broken): the status is TC_OK exactly when a
 * topology is returned, and a rejected file is an input error with a
 * message.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "explicit.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_mpi_init(argc, argv);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("topology.yaml", data, size);
    tc_topology *t = (tc_topology *)&t;   /* must come back NULL on failure */
    tc_error err;
    tc_error_clear(&err);

    int rc = tc_explicit_load(path, MPI_COMM_WORLD, &t, &err);

    if ((rc == TC_OK) != (t != NULL) ||
        (rc != TC_OK && (rc != TC_ERR_INPUT || err.code != rc || !err.message[0]))) {
        fprintf(stderr, "fuzz_explicit: status %d, topology %p, error code %d, \"%s\"\n", rc,
                (void *)t, err.code, err.message);
        abort();
    }
    tc_topology_free(t);
    return 0;
}
