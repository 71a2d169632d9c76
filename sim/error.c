/* error.c - error records; see error.h. */
#include "error.h"

#include <stdarg.h>
#include <string.h>

void tc_error_clear(tc_error *err)
{
    memset(err, 0, sizeof *err);
    err->rank = -1;
}

static void error_set_rank(tc_error *err)
{
    int initialized = 0;
    MPI_Initialized(&initialized);
    err->rank = -1;
    if (initialized)
        MPI_Comm_rank(MPI_COMM_WORLD, &err->rank);
}

int tc_error_runtime(tc_error *err, const char *fmt, ...)
{
    if (err->code != TC_OK)
        return err->code;

    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->code = TC_ERR_RUNTIME;
    error_set_rank(err);
    return err->code;
}

int tc_error_input(tc_error *err, const char *file, long line, long column,
                   const char *key, const char *fmt, ...)
{
    if (err->code != TC_OK)
        return err->code;

    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    snprintf(err->key, sizeof err->key, "%s", key ? key : "");
    err->line = line;
    err->column = column;
    err->code = TC_ERR_INPUT;
    error_set_rank(err);
    return err->code;
}

int tc_error_agree(tc_error *err, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);

    /* The lowest failing rank wins, so the message does not depend on
     * which rank happened to fail first in time. */
    int mine = err->code != TC_OK ? rank : 1 << 30;
    int first = 0;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == 1 << 30)
        return TC_OK;

    MPI_Bcast(err, (int)sizeof *err, MPI_BYTE, first, comm);
    return err->code;
}

void tc_error_print(const tc_error *err, FILE *out)
{
    fputs("trustchain: ", out);
    if (err->file[0]) {
        fputs(err->file, out);
        if (err->line > 0)
            fprintf(out, ":%ld", err->line);
        if (err->column > 0)
            fprintf(out, ":%ld", err->column);
        fputs(": ", out);
    }
    if (err->key[0])
        fprintf(out, "%s: ", err->key);
    if (err->rank > 0 && err->code == TC_ERR_RUNTIME)
        fprintf(out, "rank %d: ", err->rank);
    fprintf(out, "%s\n", err->message);
}
