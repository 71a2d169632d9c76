/*
 * fuzz_common.h - helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * The loaders under test read files, so each input is written to a file in
 * a folder private to the fuzzing process and the loader reads it back.
 * Targets that need MPI start it once, from LLVMFuzzerInitialize, through
 * fuzz_mpi_init; MPI_Finalize is never called because libFuzzer ends the
 * process itself.
 */
#ifndef TC_FUZZ_COMMON_H
#define TC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Create the private folder (once per process) and return its path. Aborts
 * the fuzzing process when the folder cannot be created, since no input
 * could be tried without it. */
const char *fuzz_folder(void);

/* Write DATA (SIZE bytes) to NAME inside the private folder and return the
 * full path, valid until the next call. Aborts on an I/O failure. */
const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size);

/* Start MPI on this single process. MPICH 4.0.2 leaks about 1 KB inside
 * MPI_Init, from hwloc plugins that it unloads again, so LeakSanitizer is
 * paused for that call alone: a leak made by the loaders under test is
 * still reported. */
void fuzz_mpi_init(int *argc, char ***argv);

#endif
