/*
 * error.h - error records that travel up to the command-line entry.
 *
 * Engine code never exits. A function that can fail returns an int status
 * (TC_OK, TC_ERR_RUNTIME or TC_ERR_INPUT, which double as exit statuses) and
 * fills a tc_error. Input errors carry the file, line, column and key that
 * the message is about; line and column are 1-based, 0 when unknown.
 */
#ifndef TC_ERROR_H
#define TC_ERROR_H

#include <mpi.h>
#include <stdio.h>

enum {
    TC_OK = 0,
    TC_ERR_RUNTIME = 1, /* allocation, I/O, MPI failure: exit status 1 */
    TC_ERR_INPUT = 2    /* invalid input or usage: exit status 2 */
};

typedef struct tc_error {
    int code;          /* TC_OK when no error was recorded */
    int rank;          /* rank that recorded it, -1 outside MPI */
    char file[512];    /* input file, "" when not about a file */
    long line;         /* 1-based, 0 when unknown */
    long column;       /* 1-based, 0 when unknown */
    char key[128];     /* scenario key path such as "policies[2].rules[0].from" */
    char message[1024];
} tc_error;

/* Reset an error record to "no error". */
void tc_error_clear(tc_error *err);

/* Record a runtime error (code TC_ERR_RUNTIME). Keeps the first error:
 * a record that already holds one is left unchanged. Returns the code. */
int tc_error_runtime(tc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record an input error about FILE at LINE:COLUMN under KEY (any may be
 * NULL or 0). Keeps the first error. Returns TC_ERR_INPUT. */
int tc_error_input(tc_error *err, const char *file, long line, long column,
                   const char *key, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Collective over COMM: every rank learns whether any rank failed. When one
 * did, the record of the lowest failing rank is copied to every rank, so all
 * ranks print or return the same error. Returns the agreed code. */
int tc_error_agree(tc_error *err, MPI_Comm comm);

/* Print ERR as one line, "trustchain: FILE:LINE:COLUMN: KEY: MESSAGE",
 * leaving out the parts that are unknown. */
void tc_error_print(const tc_error *err, FILE *out);

#endif
