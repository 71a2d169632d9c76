/* fuzz_common.c - private input folder and MPI start for the fuzz targets;
 * see fuzz_common.h. */
#include "fuzz_common.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/lsan_interface.h>

static char folder[256];
static char path[512];

/* Remove the input files and the folder when the fuzzing process ends. */
static void folder_remove(void)
{
    char command[300];
    if (!folder[0])
        return;
    snprintf(command, sizeof command, "rm -rf '%s'", folder);
    if (system(command) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", folder);
}

const char *fuzz_folder(void)
{
    if (folder[0])
        return folder;
    const char *base = getenv("TMPDIR");
    snprintf(folder, sizeof folder, "%s/trustchain-fuzz.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(folder)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(folder_remove);
    return folder;
}

const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
    snprintf(path, sizeof path, "%s/%s", fuzz_folder(), name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

void fuzz_mpi_init(int *argc, char ***argv)
{
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized)
        return;
    __lsan_disable();
    int rc = MPI_Init(argc, argv);
    __lsan_enable();
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "fuzz: MPI_Init failed\n");
        abort();
    }
}
