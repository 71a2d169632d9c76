/*
 * test_edgelist.c - the SNAP and Matrix Market importers
 * (generators/edgelist.c) on small files written by the tests.
 *
 * Each case states the edges or the error (line, column, message) that a
 * reader of the file expects. The importer must give exactly that at any
 * rank count and read-buffer size, because ranks split the file at byte
 * boundaries that fall inside lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgelist.h"
#include "mpi_test.h"

static char folder[256];

/* Everything one read produced, replicated on every rank. */
typedef struct result {
    int status;
    tc_error err;
    uint64_t n_vertices, n_edges, count;
    uint64_t *src, *dst;
    bool symmetric;
} result;

static int folder_setup(void **state)
{
    (void)state;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        snprintf(folder, sizeof folder, "/tmp/test_edgelist.XXXXXX");
        if (!mkdtemp(folder))
            folder[0] = 0;
    }
    MPI_Bcast(folder, sizeof folder, MPI_CHAR, 0, MPI_COMM_WORLD);
    return folder[0] ? 0 : -1;
}

static int folder_teardown(void **state)
{
    (void)state;
    int rank;
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        char command[300];
        snprintf(command, sizeof command, "rm -rf '%s'", folder);
        if (system(command) != 0)
            return -1;
    }
    return 0;
}

/* Write TEXT (LENGTH bytes) to NAME in the test folder from rank 0; every
 * rank gets the path. */
static const char *write_file(const char *name, const char *text, size_t length)
{
    static char path[512];
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    snprintf(path, sizeof path, "%s/%s", folder, name);
    if (rank == 0) {
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(text, 1, length, f);
            fclose(f);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return path;
}

static void read_file(const char *path, enum tc_edgelist_format format, size_t buffer,
                      result *r)
{
    memset(r, 0, sizeof *r);
    tc_error_clear(&r->err);
    tc_edgelist l;
    tc_edgelist_options options = { buffer };
    r->status = tc_edgelist_read(MPI_COMM_WORLD, path, format, &options, &l, &r->err);

    int nranks;
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int *counts = malloc((size_t)nranks * sizeof(int)), *displs = malloc((size_t)nranks * sizeof(int));
    int mine = (int)l.count;
    MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
    displs[0] = 0;
    for (int k = 1; k < nranks; k++)
        displs[k] = displs[k - 1] + counts[k - 1];
    r->count = (uint64_t)displs[nranks - 1] + (uint64_t)counts[nranks - 1];
    r->src = malloc((r->count + 1) * sizeof(uint64_t));
    r->dst = malloc((r->count + 1) * sizeof(uint64_t));
    MPI_Allgatherv(l.src, mine, MPI_UINT64_T, r->src, counts, displs, MPI_UINT64_T,
                   MPI_COMM_WORLD);
    MPI_Allgatherv(l.dst, mine, MPI_UINT64_T, r->dst, counts, displs, MPI_UINT64_T,
                   MPI_COMM_WORLD);
    r->n_vertices = l.n_vertices;
    r->n_edges = l.n_edges;
    r->symmetric = l.symmetric;
    tc_edgelist_free(&l);
    free(counts);
    free(displs);
}

static void result_free(result *r)
{
    free(r->src);
    free(r->dst);
}

static void assert_edges(const result *r, const uint64_t *src, const uint64_t *dst, size_t n)
{
    assert_int_equal(r->status, TC_OK);
    assert_int_equal(r->count, n);
    assert_int_equal(r->n_edges, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(r->src[i], src[i]);
        assert_int_equal(r->dst[i], dst[i]);
    }
}

/* An input error at LINE:COLUMN whose message contains EXPECTED. */
static void assert_input_error(const result *r, const char *name, long line, long column,
                               const char *expected)
{
    if (r->status != TC_ERR_INPUT)
        fail_msg("%s: status %d, expected an input error (%s)", name, r->status,
                 r->err.message);
    if (r->err.line != line || r->err.column != column)
        fail_msg("%s: error at %ld:%ld, expected %ld:%ld (%s)", name, r->err.line,
                 r->err.column, line, column, r->err.message);
    if (!strstr(r->err.message, expected))
        fail_msg("%s: message '%s' lacks '%s'", name, r->err.message, expected);
    if (!strstr(r->err.file, name))
        fail_msg("%s: error names file '%s'", name, r->err.file);
}

/* ---- SNAP ------------------------------------------------------------- */

/* Comments, blank lines, tabs, runs of spaces, CRLF, trailing whitespace
 * and a last line without a newline. */
static void snap_reads_irregular_whitespace(void **state)
{
    (void)state;
    static const char text[] = "# Directed graph\n\n1\t2\n  3   4  \r\n5 6\t \n"
                               "# another comment\n\t\n7 8";
    const char *path = write_file("ws.txt", text, sizeof text - 1);
    uint64_t src[] = { 1, 3, 5, 7 }, dst[] = { 2, 4, 6, 8 };
    size_t buffers[] = { 0, 16, 17, 23 };
    for (size_t b = 0; b < sizeof buffers / sizeof *buffers; b++) {
        result r;
        read_file(path, TC_EDGELIST_SNAP, buffers[b], &r);
        assert_edges(&r, src, dst, 4);
        assert_int_equal(r.n_vertices, 9);
        assert_false(r.symmetric);
        result_free(&r);
    }
}

/* Ids are used as they are: the vertex count is the largest id + 1, and
 * unused ids are isolated vertices. */
static void snap_keeps_sparse_ids(void **state)
{
    (void)state;
    static const char text[] = "0 1000000\n42 7\n";
    const char *path = write_file("sparse.txt", text, sizeof text - 1);
    uint64_t src[] = { 0, 42 }, dst[] = { 1000000, 7 };
    result r;
    read_file(path, TC_EDGELIST_SNAP, 0, &r);
    assert_edges(&r, src, dst, 2);
    assert_int_equal(r.n_vertices, 1000001);
    result_free(&r);
}

static void snap_errors_name_line_and_column(void **state)
{
    (void)state;
    struct {
        const char *name, *text, *expected;
        long line, column;
    } cases[] = {
        { "three.txt", "1 2\n# c\n3 4 5\n", "3 fields, expected 2", 3, 5 },
        { "one.txt", "1 2\n  7\n", "1 field, expected 2", 2, 3 },
        { "letter.txt", "1 2\nx 3\n", "invalid vertex id 'x'", 2, 1 },
        { "negative.txt", "1 2\n3 -4\n", "invalid vertex id '-4'", 2, 3 },
        { "huge.txt", "1 99999999999999999999\n", "below 2^63", 1, 3 },
        { "crlf.txt", "1 2\r\n3 4\r\n5 6 7\r\n", "3 fields", 3, 5 },
        { "comment-after.txt", "1 2 # trailing note\n", "5 fields", 1, 5 },
        { "long-comment.txt",
          "1 2\n# a comment line long enough that a rank's whole byte range falls inside "
          "it when three or more ranks share this small file, padded further with words "
          "until it is past two hundred bytes\nx 1\n",
          "invalid vertex id 'x'", 3, 1 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const char *path = write_file(cases[c].name, cases[c].text, strlen(cases[c].text));
        result r;
        read_file(path, TC_EDGELIST_SNAP, 0, &r);
        assert_input_error(&r, cases[c].name, cases[c].line, cases[c].column,
                           cases[c].expected);
        result_free(&r);
    }
}

static void snap_missing_file_is_input_error(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/absent.txt", folder);
    result r;
    read_file(path, TC_EDGELIST_SNAP, 0, &r);
    assert_int_equal(r.status, TC_ERR_INPUT);
    assert_non_null(strstr(r.err.message, "cannot open"));
    assert_non_null(strstr(r.err.file, "absent.txt"));
    result_free(&r);
}

/* Thousands of lines of varying length, so that every rank boundary and
 * buffer refill falls inside some line: all edges come back in order, and
 * an error on line 2345 is reported there whatever the split. */
static void snap_long_file_lines_and_errors(void **state)
{
    (void)state;
    size_t n = 3000;
    char *text = malloc(n * 64 + 1);
    uint64_t *src = malloc(n * sizeof(uint64_t)), *dst = malloc(n * sizeof(uint64_t));
    size_t length = 0, edges = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 97 == 5) {
            length += (size_t)sprintf(text + length, "# comment line %zu with padding\n", i);
            continue;
        }
        src[edges] = i * 7919 % 100003;
        dst[edges] = i % 13;
        length += (size_t)sprintf(text + length, "%llu%*s%llu\n", (unsigned long long)src[edges],
                                  (int)(1 + i % 5), "", (unsigned long long)dst[edges]);
        edges++;
    }
    const char *path = write_file("long.txt", text, length);
    size_t buffers[] = { 0, 16, 100 };
    for (size_t b = 0; b < 3; b++) {
        result r;
        read_file(path, TC_EDGELIST_SNAP, buffers[b], &r);
        assert_edges(&r, src, dst, edges);
        result_free(&r);
    }

    /* Line 2345 (1-based) becomes "bad". */
    size_t line = 1, at = 0;
    while (line < 2345)
        line += text[at++] == '\n';
    memcpy(text + at, "bad", 3);
    path = write_file("long-bad.txt", text, length);
    result r;
    read_file(path, TC_EDGELIST_SNAP, 16, &r);
    assert_input_error(&r, "long-bad.txt", 2345, 1, "invalid vertex id");
    result_free(&r);
    free(text);
    free(src);
    free(dst);
}

/* ---- Matrix Market ---------------------------------------------------- */

static void mm_reads_pattern_general(void **state)
{
    (void)state;
    static const char text[] = "%%MatrixMarket matrix coordinate pattern general\n"
                               "% a comment\n%\n\n4 4 3\n1 2\n2 3\n% in the data\n4 1\n";
    const char *path = write_file("general.mtx", text, sizeof text - 1);
    uint64_t src[] = { 0, 1, 3 }, dst[] = { 1, 2, 0 };
    size_t buffers[] = { 0, 16 };
    for (size_t b = 0; b < 2; b++) {
        result r;
        read_file(path, TC_EDGELIST_MATRIX_MARKET, buffers[b], &r);
        assert_edges(&r, src, dst, 3);
        assert_int_equal(r.n_vertices, 4);
        assert_false(r.symmetric);
        result_free(&r);
    }
}

/* A symmetric file: each lower-triangle entry is one undirected edge, the
 * diagonal entry (1, 1) included once. Values are checked, then dropped;
 * the explicit zero (3, 3) is an entry like any other. */
static void mm_reads_symmetric_with_diagonal(void **state)
{
    (void)state;
    static const char text[] = "%%MatrixMarket matrix coordinate real symmetric\r\n"
                               "3 3 4\r\n1 1 1.5\r\n2 1 -2e3\r\n3 2 4\r\n3 3 0\r\n";
    const char *path = write_file("symmetric.mtx", text, sizeof text - 1);
    uint64_t src[] = { 0, 1, 2, 2 }, dst[] = { 0, 0, 1, 2 };
    result r;
    read_file(path, TC_EDGELIST_MATRIX_MARKET, 0, &r);
    assert_edges(&r, src, dst, 4);
    assert_int_equal(r.n_vertices, 3);
    assert_true(r.symmetric);
    result_free(&r);
}

static void mm_reads_integer_values(void **state)
{
    (void)state;
    static const char text[] = "%%MatrixMarket MATRIX Coordinate Integer General\n"
                               "2 2 2\n1 2 7\n2 1 -3\n";
    const char *path = write_file("integer.mtx", text, sizeof text - 1);
    uint64_t src[] = { 0, 1 }, dst[] = { 1, 0 };
    result r;
    read_file(path, TC_EDGELIST_MATRIX_MARKET, 0, &r);
    assert_edges(&r, src, dst, 2);
    result_free(&r);
}

#define BANNER "%%MatrixMarket matrix coordinate pattern general\n"

static void mm_errors_name_line_and_column(void **state)
{
    (void)state;
    struct {
        const char *name, *text, *expected;
        long line, column;
    } cases[] = {
        { "zero.mtx", BANNER "3 3 2\n1 2\n0 3\n", "index 0 is invalid", 4, 1 },
        { "zero-column.mtx", BANNER "3 3 1\n2 0\n", "column index 0 is invalid", 3, 3 },
        { "past.mtx", BANNER "3 3 1\n1 4\n", "exceeds the matrix size 3", 3, 3 },
        { "upper.mtx",
          "%%MatrixMarket matrix coordinate pattern symmetric\n3 3 1\n1 2\n",
          "above the diagonal", 3, 1 },
        { "fewer.mtx", BANNER "3 3 3\n1 2\n2 3\n", "declares 3 entries but the file has 2", 2,
          0 },
        { "more.mtx", BANNER "3 3 1\n1 2\n% c\n2 3\n3 1\n",
          "more entries than the 1 declared on line 2", 5, 0 },
        { "value-in-pattern.mtx", BANNER "3 3 1\n1 2 5\n", "3 fields, expected 2", 3, 5 },
        { "integer-real.mtx",
          "%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 2 7.5\n",
          "invalid integer value '7.5'", 3, 5 },
        { "real-word.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 x\n",
          "invalid real value 'x'", 3, 5 },
        { "no-banner.mtx", "3 3 1\n1 2\n", "missing banner", 1, 1 },
        { "array.mtx", "%%MatrixMarket matrix array real general\n2 2\n",
          "unsupported format 'array'", 1, 23 },
        { "complex.mtx", "%%MatrixMarket matrix coordinate complex general\n",
          "unsupported field 'complex'", 1, 34 },
        { "skew.mtx", "%%MatrixMarket matrix coordinate real skew-symmetric\n",
          "unsupported symmetry 'skew-symmetric'", 1, 39 },
        { "rectangular.mtx", BANNER "3 4 1\n1 1\n", "3 x 4", 2, 3 },
        { "no-size.mtx", BANNER "% only comments\n", "missing size line", 3, 0 },
        { "short-size.mtx", BANNER "3 3\n", "size line has 2 fields", 2, 1 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const char *path = write_file(cases[c].name, cases[c].text, strlen(cases[c].text));
        result r;
        read_file(path, TC_EDGELIST_MATRIX_MARKET, 0, &r);
        assert_input_error(&r, cases[c].name, cases[c].line, cases[c].column,
                           cases[c].expected);
        result_free(&r);
    }
}

/* An extra entry far into a long file, where a later rank finds it. */
static void mm_extra_entry_in_long_file(void **state)
{
    (void)state;
    size_t n = 2000;
    char *text = malloc(n * 32 + 128);
    size_t length = (size_t)sprintf(text, "%s%zu %zu %zu\n", BANNER, n, n, n - 1);
    for (size_t i = 1; i <= n; i++)
        length += (size_t)sprintf(text + length, "%zu %zu\n", i, n + 1 - i);
    const char *path = write_file("extra.mtx", text, length);
    result r;
    read_file(path, TC_EDGELIST_MATRIX_MARKET, 0, &r);
    assert_input_error(&r, "extra.mtx", (long)n + 2, 0, "more entries than the 1999");
    result_free(&r);
    free(text);
}

static void format_names(void **state)
{
    (void)state;
    assert_int_equal(tc_edgelist_format_find("snap"), TC_EDGELIST_SNAP);
    assert_int_equal(tc_edgelist_format_find("mm"), TC_EDGELIST_MATRIX_MARKET);
    assert_int_equal(tc_edgelist_format_find("csv"), -1);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(snap_reads_irregular_whitespace),
        cmocka_unit_test(snap_keeps_sparse_ids),
        cmocka_unit_test(snap_errors_name_line_and_column),
        cmocka_unit_test(snap_missing_file_is_input_error),
        cmocka_unit_test(snap_long_file_lines_and_errors),
        cmocka_unit_test(mm_reads_pattern_general),
        cmocka_unit_test(mm_reads_symmetric_with_diagonal),
        cmocka_unit_test(mm_reads_integer_values),
        cmocka_unit_test(mm_errors_name_line_and_column),
        cmocka_unit_test(mm_extra_entry_in_long_file),
        cmocka_unit_test(format_names),
    };
    int failed = 1;
    if (folder_setup(NULL) == 0) {
        failed = tc_test_run_mpi(tests);
        folder_teardown(NULL);
    }
    MPI_Finalize();
    return failed;
}
