/*
 * edgelist.c - parallel SNAP and Matrix Market importers; see edgelist.h.
 *
 * Invariants of a read:
 *  1. The data region [data_start, size) is cut into nranks byte ranges.
 *     Rank r returns exactly the lines that start in its range, so every
 *     line is parsed by one rank and the concatenation over ranks is the
 *     file order.
 *  2. Each rank counts the newline bytes inside its range. An exclusive
 *     prefix sum of those counts gives the line number of every line,
 *     whatever the rank count. Errors are recorded with a line number
 *     relative to the range and shifted once the prefix sum is known.
 *  3. A rank stops at its first error; the lowest failing rank has the
 *     first error of the file, and tc_error_agree reports that one.
 */
#include "edgelist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define EDGELIST_BUFFER_DEFAULT ((size_t)4 << 20)
#define EDGELIST_BUFFER_MIN ((size_t)16)

/* Largest accepted vertex id + 1, so that counts fit in signed 64-bit. */
#define EDGELIST_ID_LIMIT ((uint64_t)1 << 63)

enum mm_field { MM_PATTERN, MM_INTEGER, MM_REAL };

/* The Matrix Market header, parsed on rank 0 and broadcast. */
typedef struct mm_header {
    int field;                /* enum mm_field */
    int symmetric;
    uint64_t n;               /* rows = columns */
    uint64_t entries;         /* declared entry count */
    uint64_t data_start;      /* byte offset of the first line after the size line */
    uint64_t header_newlines; /* newlines before data_start */
    uint64_t size_line;       /* line number of the size line */
} mm_header;

/* Lines of one file from a byte offset, through a growing buffer. */
typedef struct line_reader {
    int fd;
    uint64_t file_size;
    uint64_t buffer_offset;   /* file offset of buffer[0] */
    char *buffer;
    size_t capacity, length, at;
    uint64_t stop;            /* lines starting at or after this offset are not returned */
} line_reader;

typedef struct text_line {
    const char *text;         /* valid until the next reader_next */
    size_t length;            /* without the newline */
    uint64_t start;           /* file offset of the first byte */
    bool has_newline;
} text_line;

typedef struct field {
    const char *text;
    size_t length;
    long column;              /* 1-based */
} field;

/* State of one rank's pass over its range. */
typedef struct range_parse {
    const char *path;
    enum tc_edgelist_format format;
    const mm_header *header;
    uint64_t range_start, range_end;
    uint64_t local_newlines;  /* newlines in [range_start, current line start) */
    uint64_t range_newlines;  /* newlines in [range_start, range_end) */
    uint64_t entries;
    uint64_t max_id;
    uint64_t *src, *dst;
    uint64_t capacity;
    uint64_t locate_entry;    /* in locate mode: stop at this entry index */
    bool locate;
    long located_line;        /* relative line of the located entry */
    tc_error *err;
} range_parse;

/* ---- reading lines ---------------------------------------------------- */

static int reader_open(line_reader *r, const char *path, size_t buffer_bytes, tc_error *err)
{
    memset(r, 0, sizeof *r);
    r->fd = open(path, O_RDONLY);
    if (r->fd < 0)
        return tc_error_input(err, path, 0, 0, NULL, "cannot open the edge list: %s",
                              strerror(errno));
    struct stat st;
    if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(r->fd);
        r->fd = -1;
        return tc_error_input(err, path, 0, 0, NULL,
                              "cannot read the edge list: not a regular file");
    }
    r->file_size = (uint64_t)st.st_size;
    r->capacity = buffer_bytes < EDGELIST_BUFFER_MIN ? EDGELIST_BUFFER_MIN : buffer_bytes;
    r->buffer = malloc(r->capacity);
    if (!r->buffer) {
        close(r->fd);
        r->fd = -1;
        return tc_error_runtime(err, "out of memory for a read buffer of %zu bytes",
                                r->capacity);
    }
    r->stop = r->file_size;
    return TC_OK;
}

static void reader_close(line_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    free(r->buffer);
    r->buffer = NULL;
}

/* Start returning lines at file offset OFFSET. */
static void reader_seek(line_reader *r, uint64_t offset)
{
    r->buffer_offset = offset;
    r->length = 0;
    r->at = 0;
}

/* Next line into *LINE: returns 1, 0 at the end (or at the stop offset),
 * or -1 on a read error (ERR filled). */
static int reader_next(line_reader *r, text_line *line, const char *path, tc_error *err)
{
    uint64_t start = r->buffer_offset + r->at;
    if (start >= r->stop || start >= r->file_size)
        return 0;

    for (;;) {
        char *newline = memchr(r->buffer + r->at, '\n', r->length - r->at);
        if (newline) {
            line->text = r->buffer + r->at;
            line->length = (size_t)(newline - line->text);
            line->start = start;
            line->has_newline = true;
            r->at = (size_t)(newline - r->buffer) + 1;
            return 1;
        }
        if (r->buffer_offset + r->length >= r->file_size) {
            line->text = r->buffer + r->at;
            line->length = r->length - r->at;
            line->start = start;
            line->has_newline = false;
            r->at = r->length;
            return 1;
        }

        /* Keep the partial line at the front and read more after it. */
        memmove(r->buffer, r->buffer + r->at, r->length - r->at);
        r->buffer_offset += r->at;
        r->length -= r->at;
        r->at = 0;
        if (r->length == r->capacity) {
            char *grown = realloc(r->buffer, 2 * r->capacity);
            if (!grown) {
                tc_error_runtime(err, "out of memory for a line longer than %zu bytes",
                                 r->capacity);
                return -1;
            }
            r->buffer = grown;
            r->capacity *= 2;
        }
        ssize_t got = pread(r->fd, r->buffer + r->length, r->capacity - r->length,
                            (off_t)(r->buffer_offset + r->length));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            tc_error_input(err, path, 0, 0, NULL, "cannot read the edge list: %s",
                           strerror(errno));
            return -1;
        }
        if (got == 0)
            r->file_size = r->buffer_offset + r->length;
        r->length += (size_t)got;
    }
}

/* ---- fields ----------------------------------------------------------- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Split LINE at runs of spaces, tabs and carriage returns. Stores up to MAX
 * fields and returns how many there are. */
static size_t split_fields(const text_line *line, field *fields, size_t max)
{
    size_t n = 0, i = 0;
    while (i < line->length) {
        while (i < line->length && is_blank(line->text[i]))
            i++;
        if (i == line->length)
            break;
        size_t begin = i;
        while (i < line->length && !is_blank(line->text[i]))
            i++;
        if (n < max) {
            fields[n].text = line->text + begin;
            fields[n].length = i - begin;
            fields[n].column = (long)begin + 1;
        }
        n++;
    }
    return n;
}

/* First character that is not a blank, or 0 for a blank line. */
static char first_visible(const text_line *line)
{
    for (size_t i = 0; i < line->length; i++)
        if (!is_blank(line->text[i]))
            return line->text[i];
    return 0;
}

static bool field_is(const field *f, const char *word)
{
    return f->length == strlen(word) && strncasecmp(f->text, word, f->length) == 0;
}

/* Copy of F as a C string for messages, shortened when long. */
static const char *field_quote(const field *f, char *buf, size_t size)
{
    size_t n = f->length < size - 4 ? f->length : size - 4;
    memcpy(buf, f->text, n);
    if (n < f->length) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] == 0x7f)
            buf[i] = '?';
    return buf;
}

/* Parse F as a decimal integer below EDGELIST_ID_LIMIT. Returns false when
 * it is not one. */
static bool field_u64(const field *f, uint64_t *out)
{
    uint64_t x = 0;
    if (f->length == 0)
        return false;
    for (size_t i = 0; i < f->length; i++) {
        char c = f->text[i];
        if (c < '0' || c > '9')
            return false;
        uint64_t digit = (uint64_t)(c - '0');
        if (x > (EDGELIST_ID_LIMIT - 1 - digit) / 10)
            return false;
        x = x * 10 + digit;
    }
    *out = x;
    return true;
}

static bool field_integer(const field *f)
{
    size_t i = f->length > 0 && (f->text[0] == '-' || f->text[0] == '+') ? 1 : 0;
    if (i == f->length)
        return false;
    for (; i < f->length; i++)
        if (f->text[i] < '0' || f->text[i] > '9')
            return false;
    return true;
}

static bool field_real(const field *f)
{
    char buf[128];
    if (f->length == 0 || f->length >= sizeof buf)
        return false;
    memcpy(buf, f->text, f->length);
    buf[f->length] = 0;
    char *end = NULL;
    errno = 0;
    strtod(buf, &end);
    return end == buf + f->length;
}

/* ---- one line --------------------------------------------------------- */

/* Record an input error at column COLUMN of the current line, numbered
 * relative to the range (invariant 2). */
static void parse_fail(range_parse *p, long column, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void parse_fail(range_parse *p, long column, const char *fmt, ...)
{
    char message[sizeof p->err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    tc_error_input(p->err, p->path, (long)p->local_newlines + 1, column, NULL, "%s", message);
}

static int append_entry(range_parse *p, uint64_t u, uint64_t v, tc_error *err)
{
    if (p->locate) {
        p->entries++;
        return TC_OK;
    }
    if (p->entries == p->capacity) {
        uint64_t capacity = p->capacity ? 2 * p->capacity : 1024;
        uint64_t *src = realloc(p->src, (size_t)capacity * sizeof(uint64_t));
        if (src)
            p->src = src;
        uint64_t *dst = realloc(p->dst, (size_t)capacity * sizeof(uint64_t));
        if (dst)
            p->dst = dst;
        if (!src || !dst)
            return tc_error_runtime(err, "out of memory for %llu edges",
                                    (unsigned long long)capacity);
        p->capacity = capacity;
    }
    p->src[p->entries] = u;
    p->dst[p->entries] = v;
    p->entries++;
    if (u > p->max_id)
        p->max_id = u;
    if (v > p->max_id)
        p->max_id = v;
    return TC_OK;
}

static int parse_snap_line(range_parse *p, const text_line *line, tc_error *err)
{
    char first = first_visible(line), quote[64];
    if (first == 0 || first == '#')
        return TC_OK;

    field f[3];
    size_t n = split_fields(line, f, 3);
    if (n != 2) {
        parse_fail(p, n > 2 ? f[2].column : f[0].column,
                   "line has %zu field%s, expected 2: a source id and a target id", n,
                   n == 1 ? "" : "s");
        return TC_ERR_INPUT;
    }
    uint64_t id[2];
    for (int k = 0; k < 2; k++)
        if (!field_u64(&f[k], &id[k])) {
            parse_fail(p, f[k].column,
                       "invalid vertex id '%s': expected a non-negative decimal integer "
                       "below 2^63",
                       field_quote(&f[k], quote, sizeof quote));
            return TC_ERR_INPUT;
        }
    return append_entry(p, id[0], id[1], err);
}

static int parse_mm_line(range_parse *p, const text_line *line, tc_error *err)
{
    const mm_header *h = p->header;
    char first = first_visible(line), quote[64];
    if (first == 0 || first == '%')
        return TC_OK;

    field f[4];
    size_t expected = h->field == MM_PATTERN ? 2 : 3;
    size_t n = split_fields(line, f, 4);
    if (n != expected) {
        parse_fail(p, n > expected ? f[expected].column : f[0].column,
                   "entry has %zu field%s, expected %zu: row, column%s", n, n == 1 ? "" : "s",
                   expected, h->field == MM_PATTERN ? " (pattern file)" : " and value");
        return TC_ERR_INPUT;
    }
    uint64_t index[2];
    for (int k = 0; k < 2; k++) {
        if (!field_u64(&f[k], &index[k])) {
            parse_fail(p, f[k].column, "invalid %s index '%s': expected a positive integer",
                       k == 0 ? "row" : "column", field_quote(&f[k], quote, sizeof quote));
            return TC_ERR_INPUT;
        }
        if (index[k] == 0) {
            parse_fail(p, f[k].column,
                       "%s index 0 is invalid: Matrix Market indices start at 1",
                       k == 0 ? "row" : "column");
            return TC_ERR_INPUT;
        }
        if (index[k] > h->n) {
            parse_fail(p, f[k].column, "%s index %llu exceeds the matrix size %llu",
                       k == 0 ? "row" : "column", (unsigned long long)index[k],
                       (unsigned long long)h->n);
            return TC_ERR_INPUT;
        }
    }
    if (h->field == MM_INTEGER && !field_integer(&f[2])) {
        parse_fail(p, f[2].column, "invalid integer value '%s'",
                   field_quote(&f[2], quote, sizeof quote));
        return TC_ERR_INPUT;
    }
    if (h->field == MM_REAL && !field_real(&f[2])) {
        parse_fail(p, f[2].column, "invalid real value '%s'",
                   field_quote(&f[2], quote, sizeof quote));
        return TC_ERR_INPUT;
    }
    if (h->symmetric && index[0] < index[1]) {
        parse_fail(p, f[0].column,
                   "entry (%llu, %llu) is above the diagonal: a symmetric file stores only "
                   "the lower triangle (row >= column); declare the file general to list "
                   "both directions",
                   (unsigned long long)index[0], (unsigned long long)index[1]);
        return TC_ERR_INPUT;
    }
    return append_entry(p, index[0] - 1, index[1] - 1, err);
}

/* Parse the lines that start in [range_start, range_end) (invariant 1). */
static int parse_range(range_parse *p, line_reader *r, tc_error *err)
{
    text_line line;
    int got;
    p->local_newlines = 0;
    p->range_newlines = 0;
    p->entries = 0;
    p->err = err;

    /* Skip the rest of the line that started before the range: reading
     * from range_start - 1 makes it the first line returned. */
    if (p->range_start > (p->header ? p->header->data_start : 0)) {
        reader_seek(r, p->range_start - 1);
        got = reader_next(r, &line, p->path, err);
        if (got < 0)
            return err->code;
        if (got > 0 && line.has_newline) {
            uint64_t at = line.start + line.length;
            if (at >= p->range_start && at < p->range_end) {
                p->local_newlines++;
                p->range_newlines++;
            }
        }
    } else {
        reader_seek(r, p->range_start);
    }
    r->stop = p->range_end;

    while ((got = reader_next(r, &line, p->path, err)) > 0) {
        uint64_t before = p->entries;
        int status = p->format == TC_EDGELIST_SNAP ? parse_snap_line(p, &line, err)
                                                   : parse_mm_line(p, &line, err);
        if (status != TC_OK)
            return status;
        if (p->locate && before == p->locate_entry && p->entries > before) {
            p->located_line = (long)p->local_newlines + 1;
            return TC_OK;
        }
        if (line.has_newline) {
            p->local_newlines++;
            if (line.start + line.length < p->range_end)
                p->range_newlines++;
        }
    }
    return got < 0 ? err->code : TC_OK;
}

/* ---- Matrix Market header --------------------------------------------- */

static int mm_read_header(line_reader *r, const char *path, mm_header *h, tc_error *err)
{
    text_line line;
    field f[6];
    char quote[64];
    long number = 1;
    memset(h, 0, sizeof *h);

    reader_seek(r, 0);
    int got = reader_next(r, &line, path, err);
    if (got < 0)
        return err->code;
    size_t n = got ? split_fields(&line, f, 6) : 0;
    if (n == 0 || !field_is(&f[0], "%%MatrixMarket"))
        return tc_error_input(err, path, 1, 1, NULL,
                              "missing banner: a Matrix Market file starts with "
                              "'%%%%MatrixMarket matrix coordinate <field> <symmetry>'");
    if (n != 5)
        return tc_error_input(err, path, 1, n > 5 ? f[5].column : 1, NULL,
                              "banner has %zu fields, expected 5: %%%%MatrixMarket matrix "
                              "coordinate <field> <symmetry>",
                              n);
    if (!field_is(&f[1], "matrix"))
        return tc_error_input(err, path, 1, f[1].column, NULL,
                              "unsupported object '%s': expected 'matrix'",
                              field_quote(&f[1], quote, sizeof quote));
    if (!field_is(&f[2], "coordinate"))
        return tc_error_input(err, path, 1, f[2].column, NULL,
                              "unsupported format '%s': only 'coordinate' (sparse) files "
                              "describe a graph; 'array' is dense",
                              field_quote(&f[2], quote, sizeof quote));
    if (field_is(&f[3], "pattern"))
        h->field = MM_PATTERN;
    else if (field_is(&f[3], "integer"))
        h->field = MM_INTEGER;
    else if (field_is(&f[3], "real"))
        h->field = MM_REAL;
    else
        return tc_error_input(err, path, 1, f[3].column, NULL,
                              "unsupported field '%s': expected pattern, integer or real",
                              field_quote(&f[3], quote, sizeof quote));
    if (field_is(&f[4], "general"))
        h->symmetric = 0;
    else if (field_is(&f[4], "symmetric"))
        h->symmetric = 1;
    else
        return tc_error_input(err, path, 1, f[4].column, NULL,
                              "unsupported symmetry '%s': expected general or symmetric",
                              field_quote(&f[4], quote, sizeof quote));

    /* Comments and blank lines, then the size line. */
    for (;;) {
        if (!line.has_newline)
            return tc_error_input(err, path, number, 0, NULL,
                                  "missing size line: expected 'rows columns entries' after "
                                  "the banner and comments");
        got = reader_next(r, &line, path, err);
        if (got < 0)
            return err->code;
        number++;
        if (got == 0)
            return tc_error_input(err, path, number, 0, NULL,
                                  "missing size line: expected 'rows columns entries' after "
                                  "the banner and comments");
        char first = first_visible(&line);
        if (first != 0 && first != '%')
            break;
    }
    n = split_fields(&line, f, 4);
    if (n != 3)
        return tc_error_input(err, path, number, n > 3 ? f[3].column : f[0].column, NULL,
                              "size line has %zu fields, expected 3: rows columns entries", n);
    uint64_t size[3];
    for (int k = 0; k < 3; k++)
        if (!field_u64(&f[k], &size[k]))
            return tc_error_input(err, path, number, f[k].column, NULL,
                                  "invalid size '%s': expected a non-negative integer",
                                  field_quote(&f[k], quote, sizeof quote));
    if (size[0] != size[1])
        return tc_error_input(err, path, number, f[1].column, NULL,
                              "matrix is %llu x %llu: a graph needs a square adjacency "
                              "matrix",
                              (unsigned long long)size[0], (unsigned long long)size[1]);
    h->n = size[0];
    h->entries = size[2];
    h->size_line = (uint64_t)number;
    h->header_newlines = line.has_newline ? (uint64_t)number : (uint64_t)number - 1;
    h->data_start = line.start + line.length + (line.has_newline ? 1 : 0);
    return TC_OK;
}

/* ---- the collective read ---------------------------------------------- */

int tc_edgelist_format_find(const char *name)
{
    if (strcmp(name, "snap") == 0)
        return TC_EDGELIST_SNAP;
    if (strcmp(name, "mm") == 0)
        return TC_EDGELIST_MATRIX_MARKET;
    return -1;
}

void tc_edgelist_init(tc_edgelist *l)
{
    memset(l, 0, sizeof *l);
}

void tc_edgelist_free(tc_edgelist *l)
{
    free(l->src);
    free(l->dst);
    tc_edgelist_init(l);
}

int tc_edgelist_read(MPI_Comm comm, const char *path, enum tc_edgelist_format format,
                     const tc_edgelist_options *options, tc_edgelist *out, tc_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    tc_edgelist_init(out);
    size_t buffer_bytes = options && options->buffer_bytes ? options->buffer_bytes
                                                           : EDGELIST_BUFFER_DEFAULT;
    line_reader reader;
    mm_header header;
    memset(&header, 0, sizeof header);
    range_parse p;
    memset(&p, 0, sizeof p);

    if (reader_open(&reader, path, buffer_bytes, err) == TC_OK && rank == 0 &&
        format == TC_EDGELIST_MATRIX_MARKET)
        mm_read_header(&reader, path, &header, err);
    if (tc_error_agree(err, comm) != TC_OK)
        goto done;
    MPI_Bcast(&header, (int)sizeof header, MPI_BYTE, 0, comm);

    /* This rank's byte range of the data region (invariant 1). */
    uint64_t data_start = format == TC_EDGELIST_MATRIX_MARKET ? header.data_start : 0;
    uint64_t data_bytes = reader.file_size - data_start;
    p.path = path;
    p.format = format;
    p.header = format == TC_EDGELIST_MATRIX_MARKET ? &header : NULL;
    p.range_start = data_start + (uint64_t)((unsigned __int128)data_bytes * (unsigned)rank /
                                            (unsigned)nranks);
    p.range_end = data_start + (uint64_t)((unsigned __int128)data_bytes *
                                          (unsigned)(rank + 1) / (unsigned)nranks);
    parse_range(&p, &reader, err);
    bool local_input_error = err->code == TC_ERR_INPUT && err->line > 0;

    /* Line numbers and entry indices before this rank (invariant 2). */
    uint64_t mine[2] = { p.range_newlines, p.entries }, before[2] = { 0, 0 };
    MPI_Exscan(mine, before, 2, MPI_UINT64_T, MPI_SUM, comm);
    if (rank == 0)
        before[0] = before[1] = 0;
    uint64_t line_base = header.header_newlines + before[0];
    if (local_input_error)
        err->line += (long)line_base;

    /* More entries than the header declares: the first extra one is an
     * error, and it precedes any parse error of this rank. */
    if (format == TC_EDGELIST_MATRIX_MARKET && err->code != TC_ERR_RUNTIME &&
        before[1] <= header.entries && before[1] + p.entries > header.entries) {
        range_parse locate = p;
        locate.locate = true;
        locate.locate_entry = header.entries - before[1];
        locate.src = locate.dst = NULL;
        tc_error scratch;
        tc_error_clear(&scratch);
        parse_range(&locate, &reader, &scratch);
        tc_error_clear(err);
        tc_error_input(err, path, (long)line_base + locate.located_line, 0, NULL,
                       "more entries than the %llu declared on line %llu",
                       (unsigned long long)header.entries,
                       (unsigned long long)header.size_line);
    }
    if (tc_error_agree(err, comm) != TC_OK)
        goto done;

    uint64_t total = 0, max_id = p.entries ? p.max_id : 0, max_global = 0;
    uint64_t any = p.entries > 0, any_global = 0;
    MPI_Allreduce(&p.entries, &total, 1, MPI_UINT64_T, MPI_SUM, comm);
    MPI_Allreduce(&max_id, &max_global, 1, MPI_UINT64_T, MPI_MAX, comm);
    MPI_Allreduce(&any, &any_global, 1, MPI_UINT64_T, MPI_MAX, comm);
    if (format == TC_EDGELIST_MATRIX_MARKET && total < header.entries) {
        tc_error_input(err, path, (long)header.size_line, 0, NULL,
                       "the size line declares %llu entries but the file has %llu",
                       (unsigned long long)header.entries, (unsigned long long)total);
        goto done;
    }

    out->src = p.src;
    out->dst = p.dst;
    p.src = p.dst = NULL;
    out->count = p.entries;
    out->n_edges = total;
    out->symmetric = format == TC_EDGELIST_MATRIX_MARKET && header.symmetric;
    out->n_vertices = format == TC_EDGELIST_MATRIX_MARKET ? header.n
                                                          : (any_global ? max_global + 1 : 0);

done:
    reader_close(&reader);
    free(p.src);
    free(p.dst);
    return err->code;
}
