/* fault.c - fault injection; see fault.h. */
#include "fault.h"

#include <stdbool.h>

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

int tc_fault_point(const char *phase, tc_error *err)
{
    const char *spec = getenv("TC_FAULT");
    if (!spec || !*spec)
        return err->code;

    int rank = 0, initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized)
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);

    /* Walk "RANK:PHASE" items separated by commas. */
    size_t phase_len = strlen(phase);
    for (const char *item = spec; *item;) {
        const char *colon = strchr(item, ':');
        const char *end = strchr(item, ',');
        if (!end)
            end = item + strlen(item);
        if (colon && colon < end) {
            bool any_rank = colon - item == 1 && item[0] == '*';
            char *rank_end = NULL;
            long named = strtol(item, &rank_end, 10);
            bool rank_matches = any_rank || (rank_end == colon && named == rank);
            bool phase_matches = (size_t)(end - colon - 1) == phase_len &&
                                 strncmp(colon + 1, phase, phase_len) == 0;
            if (rank_matches && phase_matches)
                return tc_error_runtime(err, "injected fault at %s (TC_FAULT=%s)", phase, spec);
        }
        item = *end ? end + 1 : end;
    }
    return err->code;
}
