/* report_io.c - output files, escaping and external programs of
 * `trustchain report`; see report_internal.h. */
#include "report_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- files ---- */

char *tc_report_path(const tc_report *r, const char *name)
{
    size_t n = strlen(r->dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/%s", r->dir, name);
    return path;
}

bool tc_report_has_file(const tc_report *r, const char *name)
{
    for (size_t i = 0; i < r->n_files; i++)
        if (strcmp(r->files[i], name) == 0)
            return true;
    return false;
}

static int record_file(tc_report *r, const char *name, tc_error *err)
{
    if (tc_report_has_file(r, name))
        return TC_OK;
    if (r->n_files == r->cap_files) {
        size_t cap = r->cap_files ? 2 * r->cap_files : 16;
        char **files = realloc(r->files, cap * sizeof *files);
        if (!files)
            return tc_error_runtime(err, "out of memory listing the report files");
        r->files = files;
        r->cap_files = cap;
    }
    if (!(r->files[r->n_files] = strdup(name)))
        return tc_error_runtime(err, "out of memory listing the report files");
    r->n_files++;
    return TC_OK;
}

int tc_report_file_open(tc_report *r, const char *name, tc_report_file *file, tc_error *err)
{
    memset(file, 0, sizeof *file);
    file->name = name;
    file->final = tc_report_path(r, name);
    size_t n = file->final ? strlen(file->final) + 32 : 0;
    file->tmp = file->final ? malloc(n) : NULL;
    if (!file->tmp) {
        free(file->final);
        file->final = NULL;
        return tc_error_runtime(err, "out of memory writing '%s'", name);
    }
    snprintf(file->tmp, n, "%s.tmp.%ld", file->final, (long)getpid());

    if (!(file->out = fopen(file->tmp, "w"))) {
        int code = tc_error_runtime(err, "cannot create '%s': %s", file->tmp, strerror(errno));
        free(file->tmp);
        free(file->final);
        file->tmp = file->final = NULL;
        return code;
    }
    return TC_OK;
}

static void file_release(tc_report_file *file)
{
    free(file->tmp);
    free(file->final);
    file->tmp = file->final = NULL;
    file->out = NULL;
}

void tc_report_file_abandon(tc_report_file *file)
{
    if (file->out)
        fclose(file->out);
    if (file->tmp)
        unlink(file->tmp);
    file_release(file);
}

int tc_report_file_commit(tc_report *r, tc_report_file *file, tc_error *err)
{
    int failed = ferror(file->out) != 0;
    failed |= fflush(file->out) != 0;
    failed |= fsync(fileno(file->out)) != 0;
    failed |= fclose(file->out) != 0;
    file->out = NULL;
    if (failed) {
        tc_error_runtime(err, "writing '%s' failed: %s", file->tmp, strerror(errno));
        goto remove_tmp;
    }
    if (rename(file->tmp, file->final) != 0) {
        tc_error_runtime(err, "cannot rename '%s' to '%s': %s", file->tmp, file->final,
                         strerror(errno));
        goto remove_tmp;
    }
    int status = record_file(r, file->name, err);
    file_release(file);
    return status;

remove_tmp:
    unlink(file->tmp);
    file_release(file);
    return err->code;
}

int tc_report_adopt(tc_report *r, const char *tmp, const char *name, tc_error *err)
{
    char *final = tc_report_path(r, name);
    if (!final) {
        unlink(tmp);
        return tc_error_runtime(err, "out of memory writing '%s'", name);
    }
    int status = TC_OK;
    if (rename(tmp, final) != 0) {
        status = tc_error_runtime(err, "cannot rename '%s' to '%s': %s", tmp, final,
                                  strerror(errno));
        unlink(tmp);
    } else {
        status = record_file(r, name, err);
    }
    free(final);
    return status;
}

int tc_report_read_file(const char *path, char **data, size_t *size, tc_error *err)
{
    *data = NULL;
    *size = 0;
    FILE *in = fopen(path, "rb");
    if (!in)
        return tc_error_runtime(err, "cannot open '%s': %s", path, strerror(errno));

    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, in);
        if (n < cap - 1)
            break;
        char *bigger = realloc(buf, 2 * cap);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int status = TC_OK;
    if (!buf)
        status = tc_error_runtime(err, "out of memory reading '%s'", path);
    else if (ferror(in))
        status = tc_error_runtime(err, "reading '%s' failed: %s", path, strerror(errno));
    fclose(in);
    if (status != TC_OK) {
        free(buf);
        return status;
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return TC_OK;
}

int tc_report_warn(tc_report *r, const char *fmt, ...)
{
    if (r->n_warnings == r->cap_warnings) {
        size_t cap = r->cap_warnings ? 2 * r->cap_warnings : 8;
        char **warnings = realloc(r->warnings, cap * sizeof *warnings);
        if (!warnings)
            return TC_ERR_RUNTIME;
        r->warnings = warnings;
        r->cap_warnings = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&r->warnings[r->n_warnings], fmt, ap);
    va_end(ap);
    if (n < 0)
        return TC_ERR_RUNTIME;
    r->n_warnings++;
    return TC_OK;
}

/* ---- escaping ---- */

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

void tc_report_put_html(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        case '\t':
        case '\n': fputc(*p, out); break;
        default:
            if (is_control(*p))
                fputs("&#xFFFD;", out);
            else
                fputc(*p, out);
        }
    }
}

void tc_report_put_csv(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

void tc_report_put_dot(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\' || *p == '"') {
            fputc('\\', out);
            fputc(*p, out);
        } else if (*p == '\n') {
            fputs("\\n", out);
        } else {
            fputc(is_control(*p) ? ' ' : *p, out);
        }
    }
}

void tc_report_put_gnuplot(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\'')
            fputc('\'', out);
        fputc(is_control(*p) ? ' ' : *p, out);
    }
}

void tc_report_put_base64(FILE *out, const unsigned char *data, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        fputc(alphabet[v >> 18 & 63], out);
        fputc(alphabet[v >> 12 & 63], out);
        fputc(alphabet[v >> 6 & 63], out);
        fputc(alphabet[v & 63], out);
    }

    /* One or two bytes left: pad the last group of four with '='. */
    if (i < size) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < size)
            v |= (uint32_t)data[i + 1] << 8;
        fputc(alphabet[v >> 18 & 63], out);
        fputc(alphabet[v >> 12 & 63], out);
        fputc(i + 1 < size ? alphabet[v >> 6 & 63] : '=', out);
        fputc('=', out);
    }
}

void tc_report_put_double(FILE *out, double value)
{
    char text[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, value);
        if (strtod(text, NULL) == value)
            break;
    }
    fputs(text, out);
}

const char *tc_report_format_count(json_int_t n, char *buf, size_t size)
{
    char digits[32], grouped[48];
    snprintf(digits, sizeof digits, "%llu",
             n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n);
    size_t len = strlen(digits), j = 0;
    if (n < 0)
        grouped[j++] = '-';
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            grouped[j++] = ',';
        grouped[j++] = digits[i];
    }
    grouped[j] = '\0';
    snprintf(buf, size, "%s", grouped);
    return buf;
}

const char *tc_report_colour(size_t i)
{
    /* Okabe and Ito's colour-blind-safe palette, without its yellow, which
     * is hard to see on white; black last. */
    static const char *const colours[] = { "#0072B2", "#D55E00", "#009E73", "#E69F00",
                                           "#CC79A7", "#56B4E9", "#7F7F7F", "#000000" };
    return colours[i % (sizeof colours / sizeof *colours)];
}

/* ---- external programs ---- */

/* The first non-empty line of LOG (read from its start) into BUF. */
static void first_line(FILE *log, char *buf, size_t size)
{
    buf[0] = '\0';
    rewind(log);
    char line[512];
    while (fgets(line, sizeof line, log)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[strspn(line, " \t")] != '\0') {
            size_t n = strlen(line) < size ? strlen(line) : size - 1;
            memcpy(buf, line, n);
            buf[n] = '\0';
            return;
        }
    }
}

/* Wait for PID, killing it after TIMEOUT seconds. Returns its wait status,
 * or -1 when it timed out (*TIMED_OUT set) or waiting failed. */
static int wait_with_timeout(pid_t pid, int timeout, bool *timed_out)
{
    const long step_ms = 20;
    struct timespec pause = { 0, step_ms * 1000000L };
    long waited_ms = 0;
    int status = 0;
    *timed_out = false;

    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return status;
        if (done < 0 && errno != EINTR)
            return -1;
        if (waited_ms >= (long)timeout * 1000) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            *timed_out = true;
            return -1;
        }
        nanosleep(&pause, NULL);
        waited_ms += step_ms;
    }
}

tc_report_tool_status tc_report_run_tool(const tc_report *r, char *const argv[], const char *cwd,
                                         char *detail, size_t detail_size)
{
    detail[0] = '\0';
    FILE *log = tmpfile();
    if (!log) {
        snprintf(detail, detail_size, "cannot create a temporary file for its output: %s",
                 strerror(errno));
        return TC_REPORT_TOOL_FAILED;
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fileno(log), 1);
    posix_spawn_file_actions_adddup2(&actions, fileno(log), 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* The MPI library's sockets stay with this process. */
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&actions, cwd);

    pid_t pid;
    int started = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (started != 0) {
        snprintf(detail, detail_size, "cannot start '%s': %s", argv[0], strerror(started));
        fclose(log);
        return TC_REPORT_TOOL_MISSING;
    }

    bool timed_out;
    int status = wait_with_timeout(pid, r->tool_timeout, &timed_out);
    char line[400];
    first_line(log, line, sizeof line);
    fclose(log);

    if (timed_out) {
        snprintf(detail, detail_size, "'%s' did not finish within %d s and was killed",
                 argv[0], r->tool_timeout);
        return TC_REPORT_TOOL_FAILED;
    }
    if (status == -1) {
        snprintf(detail, detail_size, "waiting for '%s' failed: %s", argv[0], strerror(errno));
        return TC_REPORT_TOOL_FAILED;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return TC_REPORT_TOOL_OK;

    /* Where posix_spawnp cannot report a failed exec (under valgrind, for
     * one), the child exits with 127, the shell's status for "not found". */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !line[0]) {
        snprintf(detail, detail_size, "cannot start '%s': exit status 127", argv[0]);
        return TC_REPORT_TOOL_MISSING;
    }
    if (WIFEXITED(status))
        snprintf(detail, detail_size, "'%s' exited with status %d%s%s", argv[0],
                 WEXITSTATUS(status), line[0] ? ": " : "", line);
    else
        snprintf(detail, detail_size, "'%s' was killed by signal %d%s%s", argv[0],
                 WTERMSIG(status), line[0] ? ": " : "", line);
    return TC_REPORT_TOOL_FAILED;
}
