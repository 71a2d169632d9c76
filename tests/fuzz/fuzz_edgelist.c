/*
 * fuzz_edgelist.c - libFuzzer target for the SNAP and Matrix Market
 * importers (generators/edgelist.c) on a single rank.
 *
 * The first input byte chooses the format (bit 0: 0 SNAP, 1 Matrix Market)
 * and the read-buffer size (bits 1-3, from buffer_sizes). The buffer size
 * matters because lines that straddle the buffer take their own path
 * through the reader. The rest of the input is the file, and the seeds in
 * corpus/edgelist/ start with that byte.
 *
 * Contract checks (abort when broken): a rejected file is an input error
 * with a message and leaves an empty list; an accepted one holds n_edges
 * entries, every id below n_vertices, and for a symmetric Matrix Market
 * file only the lower triangle.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "edgelist.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t buffer_sizes[8] = { 0, 16, 17, 23, 64, 100, 1024, 4096 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_mpi_init(argc, argv);
    return 0;
}

static void check_list(const tc_edgelist *l)
{
    if (l->count != l->n_edges || (l->count && (!l->src || !l->dst))) {
        fprintf(stderr, "fuzz_edgelist: %llu entries held of %llu\n",
                (unsigned long long)l->count, (unsigned long long)l->n_edges);
        abort();
    }
    for (uint64_t e = 0; e < l->count; e++) {
        if (l->src[e] >= l->n_vertices || l->dst[e] >= l->n_vertices ||
            (l->symmetric && l->src[e] < l->dst[e])) {
            fprintf(stderr, "fuzz_edgelist: entry %llu is %llu -> %llu with %llu vertices%s\n",
                    (unsigned long long)e, (unsigned long long)l->src[e],
                    (unsigned long long)l->dst[e], (unsigned long long)l->n_vertices,
                    l->symmetric ? " (symmetric)" : "");
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum tc_edgelist_format format = data[0] & 1 ? TC_EDGELIST_MATRIX_MARKET : TC_EDGELIST_SNAP;
    tc_edgelist_options options = { .buffer_bytes = buffer_sizes[data[0] >> 1 & 7] };
    const char *path = fuzz_write_file("edges.txt", data + 1, size - 1);

    tc_edgelist l;
    tc_edgelist_init(&l);
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_edgelist_read(MPI_COMM_WORLD, path, format, &options, &l, &err);

    if (rc == TC_OK) {
        check_list(&l);
    } else if (rc != TC_ERR_INPUT || err.code != rc || !err.message[0] || l.count || l.src ||
               l.dst) {
        fprintf(stderr, "fuzz_edgelist: status %d, error code %d, %llu entries left, \"%s\"\n",
                rc, err.code, (unsigned long long)l.count, err.message);
        abort();
    }
    tc_edgelist_free(&l);
    return 0;
}
