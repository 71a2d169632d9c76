/*
 * edgelist.h - edge lists spread over ranks, and parallel importers for
 * SNAP-style text edge lists and Matrix Market coordinate files.
 *
 * Importers read one file on every rank at once. Rank r parses the lines
 * that start in its byte range of the file (with pread, no shared file
 * pointer), so a line cut by a range boundary belongs to the rank where it
 * starts. Every input error names the file, the 1-based line and column,
 * and nothing is returned from an invalid file. How each irregular case
 * (comments, blank lines, CRLF, sparse ids, header counts, symmetric
 * diagonals, index 0) is handled is listed in docs/edge-lists.md.
 */
#ifndef TC_EDGELIST_H
#define TC_EDGELIST_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The part of an edge list one rank holds. Ids are 0-based. */
typedef struct tc_edgelist {
    uint64_t n_vertices;  /* global: ids are below it */
    uint64_t n_edges;     /* global number of entries */
    uint64_t count;       /* entries held by this rank */
    uint64_t *src, *dst;  /* COUNT entries each, owned (malloc) */
    bool symmetric;       /* each entry stands for an undirected edge */
} tc_edgelist;

enum tc_edgelist_format { TC_EDGELIST_SNAP, TC_EDGELIST_MATRIX_MARKET };

/* Format named NAME ("snap" or "mm"), or -1 when unknown. */
int tc_edgelist_format_find(const char *name);

typedef struct tc_edgelist_options {
    size_t buffer_bytes;  /* read buffer per rank, 0 for the default (4 MiB) */
} tc_edgelist_options;

/* Set L to an empty list. */
void tc_edgelist_init(tc_edgelist *l);

/* Release L's arrays and empty it. */
void tc_edgelist_free(tc_edgelist *l);

/* Read PATH in FORMAT on every rank of COMM (OPTIONS may be NULL).
 *  - SNAP: one edge "source target" per line, ids non-negative integers
 *    used as they are, so n_vertices is the largest id + 1; lines starting
 *    with '#' are comments. Entries are directed (symmetric is false).
 *  - Matrix Market: "%%MatrixMarket matrix coordinate F S" with field F
 *    pattern, integer or real and symmetry S general or symmetric, '%'
 *    comments, a size line "N N entries" (square only), then one entry
 *    "row column [value]" per line with 1-based indices. Entry (i, j) is
 *    the edge i-1 -> j-1; values are checked for syntax and ignored. A
 *    symmetric file stores the lower triangle (i >= j) and symmetric is
 *    set: every entry, the diagonal included, is one undirected edge.
 * On success OUT contains this rank's entries in file order. Collective;
 * ranks agree on failure: TC_ERR_INPUT for an invalid or unreadable file
 * (ERR has its file, line and column), TC_ERR_RUNTIME when memory runs
 * out. */
int tc_edgelist_read(MPI_Comm comm, const char *path, enum tc_edgelist_format format,
                     const tc_edgelist_options *options, tc_edgelist *out, tc_error *err);

#endif
