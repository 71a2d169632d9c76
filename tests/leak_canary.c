/*
 * leak_canary.c - a program that leaks on purpose, so that tests/run.sh can
 * show that tests/lsan.supp hides MPICH's leak from MPI_Init and nothing of
 * the program's own.
 *
 * It leaks CANARY_BYTES from malloc in its own code and one hwloc topology
 * that it loads after MPI_Init and never destroys, as sim/placement.c
 * would if it forgot tc_placement_free_all. LeakSanitizer must report both.
 * Built at -O0 so the compiler keeps the allocation.
 */
#include <hwloc.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#define CANARY_BYTES 4242

/* Allocate and touch CANARY_BYTES, then drop the only pointer. */
static void canary_leak_block(void)
{
    char *block = malloc(CANARY_BYTES);
    if (block)
        memset(block, 0x5a, CANARY_BYTES);
}

/* Load the machine's topology and drop the handle without destroying it. */
static void canary_leak_topology(void)
{
    hwloc_topology_t topology;
    if (hwloc_topology_init(&topology) == 0)
        hwloc_topology_load(topology);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    canary_leak_block();
    canary_leak_topology();
    MPI_Finalize();
    return 0;
}
