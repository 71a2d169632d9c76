/* report_plot.c - gnuplot data files, scripts and PNG plots of `trustchain
 * report`.
 *
 * The data files and scripts are written whether or not gnuplot is
 * installed, so a user can draw or restyle the plots later with
 * `gnuplot NAME.gp` in the report folder. Each script writes to the file
 * named by the gnuplot variable `png`, which is NAME.png unless set with
 * -e. The report sets it to a temporary name and renames the finished
 * image. */
#include "report_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLOT_WIDTH 960
#define PLOT_HEIGHT 480

/* The lines every script starts with: what it draws, and a PNG terminal
 * (pngcairo when this gnuplot has it, else the libgd png terminal). */
static void put_script_head(FILE *out, const char *stem, const char *what, int height)
{
    fprintf(out,
            "# %s.gp - %s.\n"
            "# Written by trustchain report; redraw in this folder with: gnuplot %s.gp\n"
            "if (!exists(\"png\")) png = '%s.png'\n"
            "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
            "    set terminal pngcairo noenhanced size %d,%d font 'sans,11'\n"
            "} else {\n"
            "    set terminal png noenhanced size %d,%d\n"
            "}\n"
            "set output png\n",
            stem, what, stem, stem, PLOT_WIDTH, height, PLOT_WIDTH, height);
}

static void put_count(FILE *out, json_int_t n)
{
    char text[48];
    fputs(tc_report_format_count(n, text, sizeof text), out);
}

/* ---- blast radius per policy: horizontal bars, first policy on top ---- */

static int write_blast_radius(tc_report *r, tc_error *err)
{
    tc_report_file data, script;
    if (tc_report_file_open(r, "blast-radius.dat", &data, err) != TC_OK)
        return err->code;
    json_int_t workloads = tc_report_int(json_object_get(r->root, "topology"), "workloads");
    json_int_t max = 0;
    fputs("# policy index, workloads compromised, bar label, bar colour\n", data.out);
    for (size_t i = 0; i < r->n_policies; i++) {
        const json_t *p = tc_report_policy(r, i);
        json_int_t n = tc_report_int(p, "compromised");
        max = n > max ? n : max;
        fprintf(data.out, "%zu %lld \"", i, (long long)n);
        put_count(data.out, n);
        fprintf(data.out, " (%.1f%%)\" 0x%s\n", 100.0 * tc_report_number(p, "fraction"),
                tc_report_colour(i) + 1);
    }
    if (tc_report_file_commit(r, &data, err) != TC_OK)
        return err->code;

    if (tc_report_file_open(r, "blast-radius.gp", &script, err) != TC_OK)
        return err->code;
    int height = 140 + 48 * (int)r->n_policies;
    put_script_head(script.out, "blast-radius", "workloads compromised per policy", height);
    fputs("set title 'Blast radius: workloads compromised of ", script.out);
    put_count(script.out, workloads);
    fputs("'\nset xlabel 'workloads compromised'\n", script.out);
    fprintf(script.out, "set yrange [%g:-0.6]\n", (double)r->n_policies - 0.4);
    fputs("set ytics (", script.out);
    for (size_t i = 0; i < r->n_policies; i++) {
        fputs(i ? ", '" : "'", script.out);
        tc_report_put_gnuplot(script.out, tc_report_string(tc_report_policy(r, i), "name"));
        fprintf(script.out, "' %zu", i);
    }
    fputs(")\n", script.out);
    /* Room on the right for the value labels. */
    fprintf(script.out, "set xrange [0:%lld]\n", (long long)(max > 0 ? max + max / 3 + 1 : 1));
    fputs("set grid xtics\n"
          "set style fill solid 0.85 border -1\n"
          "unset key\n"
          "plot 'blast-radius.dat' using ($2/2):1:($2/2):(0.35):4 with boxxyerror "
          "lc rgb variable, \\\n"
          "     '' using 2:1:3 with labels left offset 0.6,0\n",
          script.out);
    return tc_report_file_commit(r, &script, err);
}

/* ---- growth per hop: one line per policy ---- */

static int write_growth_data(tc_report *r, tc_error *err)
{
    tc_report_file data;
    if (tc_report_file_open(r, "growth.dat", &data, err) != TC_OK)
        return err->code;
    fputs("# hop, then for each policy in order: new workloads, cumulative workloads\n",
          data.out);
    json_int_t *sums = calloc(r->n_policies ? r->n_policies : 1, sizeof *sums);
    if (!sums) {
        tc_report_file_abandon(&data);
        return tc_error_runtime(err, "out of memory writing growth.dat");
    }
    for (json_int_t h = 0; h <= r->max_hop; h++) {
        fprintf(data.out, "%lld", (long long)h);
        for (size_t i = 0; i < r->n_policies; i++) {
            const json_t *growth = json_object_get(tc_report_policy(r, i), "growth");
            json_int_t added = json_integer_value(json_array_get(growth, (size_t)h));
            sums[i] += added;
            fprintf(data.out, " %lld %lld", (long long)added, (long long)sums[i]);
        }
        fputc('\n', data.out);
    }
    free(sums);
    return tc_report_file_commit(r, &data, err);
}

static int write_growth_script(tc_report *r, bool cumulative, tc_error *err)
{
    const char *stem = cumulative ? "growth-cumulative" : "growth-new";
    char name[64];
    snprintf(name, sizeof name, "%s.gp", stem);
    tc_report_file script;
    if (tc_report_file_open(r, name, &script, err) != TC_OK)
        return err->code;

    put_script_head(script.out, stem,
                    cumulative ? "workloads compromised by each hop, per policy"
                               : "workloads newly compromised at each hop, per policy",
                    PLOT_HEIGHT);
    fprintf(script.out, "set title '%s'\n",
            cumulative ? "Workloads compromised by hop (cumulative)"
                       : "Workloads newly compromised at each hop");
    fputs("set xlabel 'hop'\n"
          "set ylabel 'workloads'\n"
          "set key below\n"
          "set grid\n"
          "set yrange [0:*]\n",
          script.out);
    if (r->max_hop == 0)
        fputs("set xrange [-0.5:0.5]\n", script.out);
    else
        fprintf(script.out, "set xrange [0:%lld]\n", (long long)r->max_hop);
    if (r->max_hop <= 24)
        fputs("set xtics 1\n", script.out);

    fputs("plot ", script.out);
    for (size_t i = 0; i < r->n_policies; i++) {
        fprintf(script.out, "%s'growth.dat' using 1:%zu with linespoints lw 2 pt 7 ps 0.8 "
                            "lc rgb '%s' title '",
                i ? ", \\\n     " : "", 2 + 2 * i + (cumulative ? 1 : 0), tc_report_colour(i));
        tc_report_put_gnuplot(script.out, tc_report_string(tc_report_policy(r, i), "name"));
        fputc('\'', script.out);
    }
    fputc('\n', script.out);
    return tc_report_file_commit(r, &script, err);
}

/* ---- blast radius after each plan step ---- */

static bool any_plan(const tc_report *r)
{
    for (size_t i = 0; i < r->n_policies; i++)
        if (json_object_get(tc_report_policy(r, i), "plan"))
            return true;
    return false;
}

/* plan.dat has one block per (policy, plan variant), separated by two
 * blank lines so that gnuplot's `index` selects it. Step 0 is the
 * policy's blast radius before any closure. */
static int write_plan(tc_report *r, tc_error *err)
{
    tc_report_file data, script;
    if (tc_report_file_open(r, "plan.dat", &data, err) != TC_OK)
        return err->code;
    if (tc_report_file_open(r, "plan.gp", &script, err) != TC_OK) {
        tc_report_file_abandon(&data);
        return err->code;
    }
    put_script_head(script.out, "plan", "blast radius after each step of each plan",
                    PLOT_HEIGHT);
    fputs("set title 'Blast radius after each closure of the plan'\n"
          "set xlabel 'closures applied'\n"
          "set ylabel 'workloads compromised'\n"
          "set key below\n"
          "set grid\n"
          "set yrange [0:*]\n"
          "set xtics 1\n"
          "plot ",
          script.out);

    size_t block = 0;
    for (size_t i = 0; i < r->n_policies && err->code == TC_OK; i++) {
        const json_t *p = tc_report_policy(r, i);
        tc_report_plan_variant variants[8];
        size_t n = tc_report_plan_variants(json_object_get(p, "plan"), variants, 8);
        for (size_t v = 0; v < n; v++) {
            fprintf(data.out, "%s# block %zu: policy %zu, %s\n0 %lld\n", block ? "\n\n" : "",
                    block, i + 1, variants[v].name, (long long)tc_report_int(p, "compromised"));
            size_t s;
            json_t *step;
            json_array_foreach(variants[v].steps, s, step) {
                tc_report_plan_step ps;
                if (tc_report_plan_step_read(step, s, &ps, err) != TC_OK)
                    break;
                if (ps.compromised_after >= 0)
                    fprintf(data.out, "%zu %lld\n", s + 1, (long long)ps.compromised_after);
                free(ps.closure);
            }
            fprintf(script.out, "%s'plan.dat' index %zu using 1:2 with linespoints lw 2 pt 7 "
                                "dt %zu lc rgb '%s' title '",
                    block ? ", \\\n     " : "", block, v % 5 + 1, tc_report_colour(i));
            tc_report_put_gnuplot(script.out, tc_report_string(p, "name"));
            if (strcmp(variants[v].name, "plan") != 0) {
                fputs(" (", script.out);
                tc_report_put_gnuplot(script.out, variants[v].name);
                fputc(')', script.out);
            }
            fputc('\'', script.out);
            block++;
        }
    }
    fputc('\n', script.out);
    if (err->code != TC_OK || block == 0) {
        tc_report_file_abandon(&data);
        tc_report_file_abandon(&script);
        return err->code;
    }
    if (tc_report_file_commit(r, &data, err) != TC_OK) {
        tc_report_file_abandon(&script);
        return err->code;
    }
    return tc_report_file_commit(r, &script, err);
}

/* ---- drawing ---- */

static bool is_png(const char *path)
{
    static const unsigned char signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    unsigned char head[8];
    FILE *in = fopen(path, "rb");
    if (!in)
        return false;
    bool ok = fread(head, 1, 8, in) == 8 && memcmp(head, signature, 8) == 0;
    fclose(in);
    return ok;
}

/* Run gnuplot on STEM.gp and adopt STEM.png. Returns the program's status;
 * a runtime error (rename failed) is left in ERR. */
static tc_report_tool_status draw(tc_report *r, const char *stem, char *detail, size_t size,
                                  tc_error *err)
{
    char script[64], png[64], tmp_name[96], assignment[128];
    snprintf(script, sizeof script, "%s.gp", stem);
    snprintf(png, sizeof png, "%s.png", stem);
    snprintf(tmp_name, sizeof tmp_name, "%s.tmp.%ld", png, (long)getpid());
    snprintf(assignment, sizeof assignment, "png='%s'", tmp_name);
    char *tmp = tc_report_path(r, tmp_name);
    if (!tmp) {
        tc_error_runtime(err, "out of memory drawing '%s'", png);
        return TC_REPORT_TOOL_FAILED;
    }

    char *argv[] = { (char *)r->gnuplot, "-e", assignment, script, NULL };
    tc_report_tool_status status = tc_report_run_tool(r, argv, r->dir, detail, size);
    if (status == TC_REPORT_TOOL_OK && !is_png(tmp)) {
        snprintf(detail, size, "'%s' exited normally but wrote no PNG image", r->gnuplot);
        status = TC_REPORT_TOOL_FAILED;
    }
    if (status == TC_REPORT_TOOL_OK)
        tc_report_adopt(r, tmp, png, err);
    else
        unlink(tmp);
    free(tmp);
    return status;
}

int tc_report_write_plots(tc_report *r, tc_error *err)
{
    if (write_blast_radius(r, err) != TC_OK || write_growth_data(r, err) != TC_OK ||
        write_growth_script(r, true, err) != TC_OK || write_growth_script(r, false, err) != TC_OK)
        return err->code;
    bool plan = any_plan(r);
    if (plan && write_plan(r, err) != TC_OK)
        return err->code;

    r->plots = TC_REPORT_IMAGES_DRAWN;
    r->plots_note[0] = '\0';
    if (r->n_policies == 0) {
        r->plots = TC_REPORT_IMAGES_NONE;
        snprintf(r->plots_note, sizeof r->plots_note, "the result has no policy to plot");
        return TC_OK;
    }

    const char *stems[] = { "blast-radius", "growth-cumulative", "growth-new", "plan" };
    size_t n_stems = tc_report_has_file(r, "plan.gp") ? 4 : 3;
    for (size_t k = 0; k < n_stems; k++) {
        char detail[400];
        tc_report_tool_status status = draw(r, stems[k], detail, sizeof detail, err);
        if (err->code != TC_OK)
            return err->code;
        if (status == TC_REPORT_TOOL_MISSING) {
            r->plots = TC_REPORT_IMAGES_MISSING;
            snprintf(r->plots_note, sizeof r->plots_note,
                     "gnuplot was not found (%s), so the report has no plots; install the "
                     "Debian package gnuplot-nox or set TC_GNUPLOT, then rerun the report or "
                     "run gnuplot on the .gp scripts in the report folder", detail);
            if (tc_report_warn(r, "%s", r->plots_note) != TC_OK)
                return tc_error_runtime(err, "out of memory");
            return TC_OK;
        }
        if (status == TC_REPORT_TOOL_FAILED) {
            r->plots = TC_REPORT_IMAGES_FAILED;
            snprintf(r->plots_note, sizeof r->plots_note,
                     "gnuplot failed on %s.gp (%s), so the report has no %s.png", stems[k],
                     detail, stems[k]);
            if (tc_report_warn(r, "%s", r->plots_note) != TC_OK)
                return tc_error_runtime(err, "out of memory");
        }
    }
    return TC_OK;
}
