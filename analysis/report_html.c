/* report_html.c - report.html, the self-contained page of `trustchain
 * report`.
 *
 * The page loads nothing: the CSS is inline, PNG plots are base64 data
 * URIs, SVG graphs are inlined, and it has no script. A Content-Security-
 * Policy meta element forbids every fetch except data: images, so a
 * string that escaped its escaping still could not load or run anything.
 * Every string from the result goes through tc_report_put_html.
 *
 * Sections, top to bottom: summary (the verdict first), policy comparison,
 * plots, where the compromise lands (tier, env, step), attack paths, plan,
 * run details. */
#include "report_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char style_sheet[] =
    ":root{--ink:#1d2330;--muted:#5b6473;--line:#d9dee7;--bg:#f4f5f7;--good:#1a7f37;"
    "--warn:#b35c00;--bad:#b00020}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}\n"
    "header{background:#1d2330;color:#fff;padding:18px 0}\n"
    "header .wrap,main,footer .wrap{max-width:1240px;margin:0 auto;padding:0 24px}\n"
    "header h1{margin:0;font-size:24px;font-weight:600}\n"
    "header p{margin:4px 0 0;color:#c9d1de}\n"
    "nav{margin-top:10px;font-size:14px}\n"
    "nav a{color:#9cc7ff;margin-right:16px;text-decoration:none}\n"
    "section{background:#fff;border:1px solid var(--line);border-radius:8px;"
    "padding:8px 24px 18px;margin:20px 0}\n"
    "h2{font-size:20px;margin:14px 0 10px}\n"
    "h3{font-size:16px;margin:18px 0 8px}\n"
    ".verdict{border-left:6px solid var(--good);background:#f1f9f3;padding:10px 16px;"
    "margin:8px 0 16px}\n"
    ".verdict p{margin:4px 0}\n"
    ".verdict .headline{font-size:18px}\n"
    ".notice{border-left:6px solid var(--warn);background:#fff6e5;padding:8px 14px;margin:10px 0}\n"
    ".not-computed{color:var(--muted);font-style:italic}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:16px}\n"
    ".card{flex:1 1 320px;border:1px solid var(--line);border-radius:6px;padding:4px 16px 12px}\n"
    ".card td:first-child{white-space:nowrap}\n"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}\n"
    ".scroll{overflow-x:auto}\n"
    "table.compare{font-size:14px}\n"
    "table.compare th,table.compare td{padding:5px 7px}\n"
    "table.compare td:first-child{white-space:nowrap}\n"
    "dl.facts{display:grid;grid-template-columns:1fr auto 1fr auto;gap:2px 14px;margin:0}\n"
    "dl.facts dt{color:var(--muted)}\n"
    "dl.facts dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}\n"
    "th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:top}\n"
    "th{font-size:13px;color:var(--muted);font-weight:600;vertical-align:bottom}\n"
    "th.group{text-align:center;border-bottom:1px solid var(--muted)}\n"
    ".num{text-align:right}\n"
    "td.num{white-space:nowrap}\n"
    "tr.best td{background:#eef7f0}\n"
    ".badge{display:inline-block;font-size:11px;font-weight:600;color:#fff;"
    "background:var(--good);border-radius:10px;padding:0 8px;margin-left:6px}\n"
    ".swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}\n"
    ".bar{height:6px;background:#e6e9ef;border-radius:3px;margin-top:3px;min-width:80px}\n"
    ".bar span{display:block;height:100%;border-radius:3px}\n"
    ".bad{color:var(--bad);font-weight:600}\n"
    ".muted,.hint{color:var(--muted)}\n"
    ".hint{font-size:13px}\n"
    "figure{margin:14px 0}\n"
    "figure img{max-width:100%;height:auto;border:1px solid var(--line)}\n"
    "figcaption{font-size:13px;color:var(--muted)}\n"
    ".graph{overflow:auto;border:1px solid var(--line);margin:8px 0}\n"
    ".graph svg{max-width:100%;height:auto}\n"
    "details{margin:6px 0}\n"
    "summary{cursor:pointer;font-weight:600}\n"
    "code{font-size:13px}\n"
    "footer{color:var(--muted);font-size:13px;padding:0 0 32px}\n"
    "@media print{body{background:#fff}section{border:none}header{color:#000;"
    "background:#fff}nav{display:none}}\n";

/* ---- small writers ---- */

static void text(FILE *out, const char *s)
{
    tc_report_put_html(out, s);
}

static void count(FILE *out, json_int_t n)
{
    char buf[48];
    fputs(tc_report_format_count(n, buf, sizeof buf), out);
}

static void percent(FILE *out, double fraction)
{
    fprintf(out, "%.1f%%", 100.0 * fraction);
}

static double ratio(json_int_t part, json_int_t whole)
{
    return whole > 0 ? (double)part / (double)whole : 0.0;
}

static const char *policy_name(const tc_report *r, size_t i)
{
    return tc_report_string(tc_report_policy(r, i), "name");
}

/* The policy's name after a swatch of its plot colour. */
static void policy_label(FILE *out, const tc_report *r, size_t i)
{
    fprintf(out, "<span class=\"swatch\" style=\"background:%s\"></span><span class=\"name\">",
            tc_report_colour(i));
    text(out, policy_name(r, i));
    fputs("</span>", out);
}

static json_int_t flows(const json_t *policy, const char *key)
{
    return tc_report_int(json_object_get(policy, "legitimate_flows"), key);
}

/* Crown jewel kinds to show: the scenario's counted kinds, else every kind
 * of the first policy. Borrowed strings; returns how many (at most MAX). */
static size_t crown_kinds(const tc_report *r, const char **kinds, size_t max)
{
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(json_object_get(json_object_get(r->root, "scenario"), "crown_jewels"), i,
                       v) {
        if (json_is_string(v) && n < max)
            kinds[n++] = json_string_value(v);
    }
    if (n > 0 || r->n_policies == 0)
        return n;
    const char *key;
    json_object_foreach(json_object_get(tc_report_policy(r, 0), "crown_jewels"), key, v)
        if (n < max)
            kinds[n++] = key;
    return n;
}

/* "database 101 of 288, secrets 12 of 12" for the counted kinds with
 * a non-zero total; "none" when no kind has one. */
static void crown_list(FILE *out, const tc_report *r, const json_t *crown_jewels)
{
    const char *kinds[16];
    size_t n = crown_kinds(r, kinds, 16);
    bool any = false;
    for (size_t k = 0; k < n; k++) {
        const json_t *entry = json_object_get(crown_jewels, kinds[k]);
        if (tc_report_int(entry, "total") == 0)
            continue;
        fputs(any ? ", " : "", out);
        text(out, kinds[k]);
        fputc(' ', out);
        count(out, tc_report_int(entry, "compromised"));
        fputs(" of ", out);
        count(out, tc_report_int(entry, "total"));
        any = true;
    }
    if (!any)
        fputs("none", out);
}

/* ---- head and summary ---- */

static void write_head(FILE *out, const tc_report *r)
{
    const json_t *scenario = json_object_get(r->root, "scenario");
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "img-src data:; style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>trustchain report: ", out);
    text(out, tc_report_string(scenario, "name"));
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header><div class=\"wrap\">\n"
                 "<h1>Blast radius report: ", style_sheet);
    text(out, tc_report_string(scenario, "name"));
    /* The seed is a uint64_t that the result stores as a JSON integer. */
    fprintf(out, "</h1>\n<p>seed %llu",
            (unsigned long long)tc_report_int(scenario, "seed"));
    fprintf(out, " &middot; hop budget %lld &middot; ", (long long)tc_report_int(scenario,
                                                                                 "hop_budget"));
    const json_t *tool = json_object_get(r->root, "tool");
    text(out, tc_report_string(tool, "name")[0] ? tc_report_string(tool, "name") : "trustchain");
    fputc(' ', out);
    text(out, tc_report_string(tool, "version"));
    fputs(" &middot; result ", out);
    text(out, r->results_path);
    fputs("</p>\n<nav><a href=\"#summary\">Summary</a><a href=\"#policies\">Policies</a>"
          "<a href=\"#plots\">Plots</a><a href=\"#breakdown\">Where it lands</a>"
          "<a href=\"#paths\">Attack paths</a><a href=\"#plan\">Plan</a>"
          "<a href=\"#run\">Run</a></nav>\n</div></header>\n<main>\n", out);
}

/* The verdict: the smallest blast radius, how it compares with the
 * baseline, what it breaks and which crown jewels it leaves reachable. */
static void write_verdict(FILE *out, const tc_report *r)
{
    json_int_t workloads = tc_report_int(json_object_get(r->root, "topology"), "workloads");
    size_t best = tc_report_best_policy(r, false);
    if (best == (size_t)-1) {
        fputs("<div class=\"verdict\"><p class=\"headline\">The result has no policy.</p>"
              "</div>\n", out);
        return;
    }
    const json_t *p = tc_report_policy(r, best);
    json_int_t compromised = tc_report_int(p, "compromised");

    fputs("<div class=\"verdict\" id=\"verdict\">\n<p class=\"headline\">Smallest blast radius: "
          "<strong>", out);
    text(out, policy_name(r, best));
    fputs("</strong>, ", out);
    count(out, compromised);
    fputs(" of ", out);
    count(out, workloads);
    fputs(" workloads compromised (", out);
    percent(out, tc_report_number(p, "fraction"));
    fputs(").</p>\n", out);

    size_t base = tc_report_baseline_policy(r);
    json_int_t base_count = base == (size_t)-1
                                ? 0
                                : tc_report_int(tc_report_policy(r, base), "compromised");
    if (base != (size_t)-1 && base != best && base_count == compromised) {
        fputs("<p>That is the same blast radius as under ", out);
        text(out, policy_name(r, base));
        fputs(".</p>\n", out);
    } else if (base != (size_t)-1 && base != best) {
        fputs("<p>That is ", out);
        count(out, base_count - compromised);
        fputs(" fewer workloads (", out);
        percent(out, ratio(base_count - compromised, base_count));
        fputs(" less) than under ", out);
        text(out, policy_name(r, base));
        fputs(" (", out);
        count(out, base_count);
        fputs(").</p>\n", out);
    } else if (r->n_policies > 1) {
        fputs("<p>No candidate policy does better than the baseline.</p>\n", out);
    }

    json_int_t broken = flows(p, "broken"), total = flows(p, "total");
    if (broken == 0) {
        fputs("<p>It breaks no legitimate flow.</p>\n", out);
    } else {
        fputs("<p>It breaks <span class=\"bad\">", out);
        count(out, broken);
        fputs(" of ", out);
        count(out, total);
        fputs(" legitimate flows (", out);
        percent(out, ratio(broken, total));
        fputs(")</span>: the applications need these flows, so applying the policy as it is "
              "would break them.</p>\n", out);
    }

    fputs("<p>Crown jewels still reached under it: ", out);
    crown_list(out, r, json_object_get(p, "crown_jewels"));
    const json_t *first = json_object_get(p, "first_crown_jewel_hop");
    if (json_is_integer(first))
        fprintf(out, "; the first falls at hop %lld%s", (long long)json_integer_value(first),
                json_integer_value(first) == 0 ? " (a foothold is a crown jewel)" : "");
    fputs(".</p>\n", out);

    size_t safe = tc_report_best_policy(r, true);
    if (broken > 0 && safe != (size_t)-1) {
        const json_t *s = tc_report_policy(r, safe);
        fputs("<p>Smallest blast radius that breaks no legitimate flow: <strong>", out);
        text(out, policy_name(r, safe));
        fputs("</strong>, ", out);
        count(out, tc_report_int(s, "compromised"));
        fputs(" workloads (", out);
        percent(out, tc_report_number(s, "fraction"));
        fputs(").</p>\n", out);
    }
    fputs("</div>\n", out);
}

static void write_summary(FILE *out, const tc_report *r)
{
    fputs("<section id=\"summary\">\n<h2>Summary</h2>\n", out);
    write_verdict(out, r);
    for (size_t w = 0; w < r->n_warnings; w++) {
        fputs("<p class=\"notice\">", out);
        text(out, r->warnings[w]);
        fputs("</p>\n", out);
    }

    const json_t *topology = json_object_get(r->root, "topology");
    static const char *const topology_rows[][2] = {
        { "workloads", "workloads" },   { "tenants", "tenants" },
        { "accounts", "accounts" },     { "vpcs", "VPCs" },
        { "segments", "segments" },     { "principals", "principals" },
        { "packages", "packages" },     { "base_rules", "base network rules" },
        { "api_edges", "API call edges" }, { "grants", "grants" },
        { "installs", "package installs" },
    };
    fputs("<div class=\"cards\">\n<div class=\"card\" id=\"topology\">\n<h3>Topology</h3>\n"
          "<dl class=\"facts\">\n", out);
    for (size_t k = 0; k < sizeof topology_rows / sizeof *topology_rows; k++) {
        if (!json_object_get(topology, topology_rows[k][0]))
            continue;
        fprintf(out, "<dt>%s</dt><dd>", topology_rows[k][1]);
        count(out, tc_report_int(topology, topology_rows[k][0]));
        fputs("</dd>\n", out);
    }
    fputs("</dl>\n</div>\n", out);

    const json_t *footholds = json_object_get(r->root, "footholds");
    fputs("<div class=\"card\" id=\"footholds\">\n<h3>Footholds: ", out);
    count(out, tc_report_int(footholds, "total"));
    fputs(" workloads compromised at hop 0</h3>\n<table>\n<tr><th>vector</th><th>kind</th>"
          "<th>source</th><th class=\"num\">workloads</th></tr>\n", out);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(footholds, "vectors"), i, v) {
        fputs("<tr><td>", out);
        text(out, tc_report_string(v, "name"));
        fputs("</td><td>", out);
        text(out, tc_report_string(v, "kind"));
        fputs("</td><td>", out);
        if (json_is_string(json_object_get(v, "package"))) {
            fputs("package ", out);
            text(out, tc_report_string(v, "package"));
        } else if (json_is_integer(json_object_get(v, "rank"))) {
            fprintf(out, "popularity rank %lld", (long long)tc_report_int(v, "rank"));
        }
        fputs("</td><td class=\"num\">", out);
        count(out, tc_report_int(v, "workloads"));
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n<p class=\"hint\">A workload that several vectors reach counts once in "
          "the total.</p>\n</div>\n</div>\n</section>\n", out);
}

/* ---- policy comparison ---- */

static void write_policies(FILE *out, const tc_report *r)
{
    const char *kinds[16];
    size_t n_kinds = crown_kinds(r, kinds, 16);
    size_t best = tc_report_best_policy(r, false);

    fputs("<section id=\"policies\">\n<h2>Policy comparison</h2>\n<div class=\"scroll\">\n"
          "<table class=\"compare\">\n<thead>\n<tr><th rowspan=\"2\">policy</th>"
          "<th rowspan=\"2\">kind</th><th rowspan=\"2\" class=\"num\">compromised</th>"
          "<th rowspan=\"2\">fraction</th>", out);
    if (n_kinds > 0)
        fprintf(out, "<th colspan=\"%zu\" class=\"group\">crown jewels reached / total</th>",
                n_kinds);
    fputs("<th rowspan=\"2\" class=\"num\">first jewel hop</th>"
          "<th rowspan=\"2\" class=\"num\">last hop</th>"
          "<th rowspan=\"2\" class=\"num\">flows broken</th>"
          "<th rowspan=\"2\" class=\"num\">time (s)</th></tr>\n<tr>", out);
    for (size_t k = 0; k < n_kinds; k++) {
        fputs("<th class=\"num\">", out);
        text(out, kinds[k]);
        fputs("</th>", out);
    }
    fputs("</tr>\n</thead>\n<tbody>\n", out);

    for (size_t i = 0; i < r->n_policies; i++) {
        const json_t *p = tc_report_policy(r, i);
        fprintf(out, "<tr%s data-policy=\"%zu\"><td>", i == best ? " class=\"best\"" : "", i);
        policy_label(out, r, i);
        if (i == best)
            fputs("<span class=\"badge\">smallest</span>", out);
        fputs("</td><td>", out);
        text(out, tc_report_string(p, "kind"));
        fputs("</td><td class=\"num\" data-key=\"compromised\">", out);
        count(out, tc_report_int(p, "compromised"));
        double fraction = tc_report_number(p, "fraction");
        fputs("</td><td data-key=\"fraction\">", out);
        percent(out, fraction);
        double bar = fraction;
        if (bar < 0)
            bar = 0;
        if (bar > 1)
            bar = 1;
        fprintf(out, "<div class=\"bar\"><span style=\"width:%.1f%%;background:%s\"></span>"
                     "</div></td>", 100.0 * bar, tc_report_colour(i));

        const json_t *jewels = json_object_get(p, "crown_jewels");
        for (size_t k = 0; k < n_kinds; k++) {
            const json_t *entry = json_object_get(jewels, kinds[k]);
            fputs("<td class=\"num\">", out);
            count(out, tc_report_int(entry, "compromised"));
            fputs("<span class=\"muted\"> / ", out);
            count(out, tc_report_int(entry, "total"));
            fputs("</span></td>", out);
        }

        const json_t *first = json_object_get(p, "first_crown_jewel_hop");
        if (json_is_integer(first))
            fprintf(out, "<td class=\"num\">%lld</td>", (long long)json_integer_value(first));
        else
            fputs("<td class=\"num\">none reached</td>", out);
        fprintf(out, "<td class=\"num\">%lld</td>", (long long)tc_report_int(p, "last_hop"));

        json_int_t broken = flows(p, "broken"), total = flows(p, "total");
        fprintf(out, "<td class=\"num%s\">", broken ? " bad" : "");
        count(out, broken);
        fputs("<span class=\"muted\"> / ", out);
        count(out, total);
        fputs("</span></td>", out);

        const json_t *timing = tc_report_policy_timing(r, i);
        if (timing)
            fprintf(out, "<td class=\"num\">%.3f</td>",
                    tc_report_number(timing, "compile_seconds") +
                        tc_report_number(timing, "simulate_seconds"));
        else
            fputs("<td class=\"num\"></td>", out);
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n</div>\n<p class=\"hint\">compromised: workloads the attacker holds "
          "within the hop budget, footholds included. Crown jewel columns: reached / total. "
          "flows broken: legitimate flows (API calls and network-gated grants in use) that the "
          "base rules allow and the policy denies. time: policy compilation plus simulation. "
          "The same table is in policies.csv.</p>\n</section>\n", out);
}

/* ---- plots ---- */

/* An <img> with the PNG NAME as a data URI, or nothing when the file is
 * absent. */
static int write_png(FILE *out, const tc_report *r, const char *name, const char *alt,
                     const char *caption, tc_error *err)
{
    if (!tc_report_has_file(r, name))
        return TC_OK;
    char *path = tc_report_path(r, name);
    if (!path)
        return tc_error_runtime(err, "out of memory embedding '%s'", name);
    char *data;
    size_t size;
    int status = tc_report_read_file(path, &data, &size, err);
    free(path);
    if (status != TC_OK)
        return status;
    fprintf(out, "<figure><img alt=\"%s\" data-file=\"%s\" src=\"data:image/png;base64,", alt,
            name);
    tc_report_put_base64(out, (const unsigned char *)data, size);
    fprintf(out, "\"><figcaption>%s (%s)</figcaption></figure>\n", caption, name);
    free(data);
    return TC_OK;
}

static void write_images_note(FILE *out, tc_report_images state, const char *note)
{
    if (state == TC_REPORT_IMAGES_MISSING || state == TC_REPORT_IMAGES_FAILED) {
        fputs("<p class=\"notice\">", out);
        text(out, note);
        fputs(".</p>\n", out);
    }
}

static int write_plots(FILE *out, const tc_report *r, tc_error *err)
{
    fputs("<section id=\"plots\">\n<h2>Plots</h2>\n", out);
    write_images_note(out, r->plots, r->plots_note);
    if (write_png(out, r, "blast-radius.png", "Blast radius per policy",
                  "Workloads compromised under each policy", err) != TC_OK ||
        write_png(out, r, "growth-cumulative.png", "Cumulative compromise by hop",
                  "Workloads compromised by each hop: how fast the attack spreads", err) != TC_OK ||
        write_png(out, r, "growth-new.png", "New compromise per hop",
                  "Workloads newly compromised at each hop", err) != TC_OK)
        return err->code;
    fputs("<p class=\"hint\">Data: growth.csv, growth-cumulative.csv; gnuplot scripts: *.gp "
          "with their *.dat files.</p>\n</section>\n", out);
    return TC_OK;
}

/* ---- where the compromise lands ---- */

/* Rows are the members of MEMBER in the first policy that has them;
 * columns are policies, "compromised / total" with totals when present.
 * Rows whose total is 0 everywhere are left out. */
static void write_breakdown_table(FILE *out, const tc_report *r, const char *member,
                                  const char *title, const char *row_header)
{
    const json_t *rows = NULL;
    for (size_t i = 0; i < r->n_policies && !rows; i++)
        rows = json_object_get(tc_report_policy(r, i), member);
    if (!rows)
        return;

    fprintf(out, "<h3>%s</h3>\n<div class=\"scroll\">\n<table>\n<tr><th>%s</th>", title,
            row_header);
    for (size_t i = 0; i < r->n_policies; i++) {
        fputs("<th class=\"num\">", out);
        policy_label(out, r, i);
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);

    const char *key;
    json_t *first;
    json_object_foreach((json_t *)rows, key, first) {
        if (json_is_object(first) && tc_report_int(first, "total") == 0)
            continue;
        fputs("<tr><td>", out);
        text(out, key);
        fputs("</td>", out);
        for (size_t i = 0; i < r->n_policies; i++) {
            const json_t *cell = json_object_get(json_object_get(tc_report_policy(r, i), member),
                                                 key);
            fputs("<td class=\"num\">", out);
            if (json_is_integer(cell)) {
                count(out, json_integer_value(cell));
            } else if (json_is_object(cell)) {
                count(out, tc_report_int(cell, "compromised"));
                fputs("<span class=\"muted\"> / ", out);
                count(out, tc_report_int(cell, "total"));
                fputs("</span>", out);
            }
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n</div>\n", out);
}

static void write_breakdown(FILE *out, const tc_report *r)
{
    fputs("<section id=\"breakdown\">\n<h2>Where the compromise lands</h2>\n", out);
    write_breakdown_table(out, r, "by_tier", "By tier (compromised / workloads)", "tier");
    write_breakdown_table(out, r, "by_env", "By environment (compromised / workloads)", "env");
    write_breakdown_table(out, r, "by_step", "How workloads fell (by attack step)", "step");
    fputs("<p class=\"hint\">Steps: foothold (hop 0), network (an exploitable service the "
          "policy lets through), api (a call edge whose trust lets the caller drive the "
          "callee), credential (a held principal's grant), supply_chain (a compromised "
          "package). Per-tenant counts, when the run recorded them, are in breakdown.csv."
          "</p>\n</section>\n", out);
}

/* ---- attack paths ---- */

/* Inline the SVG file NAME, from its <svg> element on. */
static int write_svg(FILE *out, tc_report *r, const char *name, tc_error *err)
{
    char *path = tc_report_path(r, name);
    if (!path)
        return tc_error_runtime(err, "out of memory embedding '%s'", name);
    char *data;
    size_t size;
    int status = tc_report_read_file(path, &data, &size, err);
    free(path);
    if (status != TC_OK)
        return status;

    /* dot escapes labels as XML, so its SVG contains no markup from the
     * result. An SVG that contains a script anyway is not inlined. */
    const char *start = strstr(data, "<svg");
    if (!start || strcasestr(start, "<script") || strcasestr(start, "<foreignobject")) {
        fprintf(out, "<p class=\"notice\">%s is not inlined: it is not a plain SVG "
                     "drawing.</p>\n", name);
        tc_report_warn(r, "%s is not inlined in %s: it is not a plain SVG drawing", name,
                       TC_REPORT_HTML);
    } else {
        fprintf(out, "<div class=\"graph\" data-file=\"%s\">\n", name);
        fputs(start, out);
        fputs("</div>\n", out);
    }
    free(data);
    return TC_OK;
}

static int write_path_table(FILE *out, const json_t *path, size_t k, bool open, tc_error *err)
{
    const json_t *hops = tc_report_path_hops(path);
    size_t n = json_array_size(hops);

    tc_report_hop last;
    char buf[64];
    if (tc_report_hop_read(json_array_get(hops, n - 1), n - 1, &last, err) != TC_OK)
        return err->code;
    fprintf(out, "<details%s><summary>Path %zu to ", open ? " open" : "", k + 1);
    text(out, tc_report_hop_label(&last, buf, sizeof buf));
    if (last.crown_jewel[0] && strcmp(last.crown_jewel, "none") != 0) {
        fputs(" (crown jewel: ", out);
        text(out, last.crown_jewel);
        fputc(')', out);
    }
    fprintf(out, ", %lld hop%s", (long long)last.hop, last.hop == 1 ? "" : "s");
    free(last.reason);
    fputs("</summary>\n<table>\n<tr><th class=\"num\">hop</th><th>workload</th><th>tier</th>"
          "<th>env</th><th>app</th><th>tenant</th><th>step</th><th>reason</th></tr>\n", out);
    for (size_t h = 0; h < n; h++) {
        tc_report_hop hop;
        if (tc_report_hop_read(json_array_get(hops, h), h, &hop, err) != TC_OK)
            return err->code;
        fprintf(out, "<tr><td class=\"num\">%lld</td><td>", (long long)hop.hop);
        text(out, tc_report_hop_label(&hop, buf, sizeof buf));
        const char *cells[] = { hop.tier, hop.env, hop.app, hop.tenant, hop.step, hop.reason };
        for (size_t c = 0; c < sizeof cells / sizeof *cells; c++) {
            fputs("</td><td>", out);
            text(out, cells[c]);
        }
        fputs("</td></tr>\n", out);
        free(hop.reason);
    }
    fputs("</table>\n</details>\n", out);
    return TC_OK;
}

/* One line on the paths that are not chains: targets that are footholds
 * themselves (named, up to 20) and targets never reached. */
static void write_path_counts(FILE *out, const json_t *paths, size_t counts[4])
{
    fprintf(out, "<p>%zu crown jewel%s traced: %zu through a chain of attack steps",
            json_array_size(paths), json_array_size(paths) == 1 ? "" : "s",
            counts[TC_REPORT_PATH_CHAIN]);
    size_t footholds = counts[TC_REPORT_PATH_FOOTHOLD];
    if (footholds)
        fprintf(out, ", %zu %s a foothold itself (compromised at hop 0)", footholds,
                footholds == 1 ? "is" : "are");
    if (counts[TC_REPORT_PATH_UNREACHED])
        fprintf(out, ", %zu not reached within the hop budget", counts[TC_REPORT_PATH_UNREACHED]);
    if (counts[TC_REPORT_PATH_INVALID])
        fprintf(out, ", %zu without a hop list", counts[TC_REPORT_PATH_INVALID]);
    fputs(".</p>\n", out);
    if (!counts[TC_REPORT_PATH_FOOTHOLD])
        return;

    const size_t max_names = 20;
    size_t listed = 0, k;
    json_t *path;
    fputs("<p class=\"muted\">Footholds that are crown jewels: ", out);
    json_array_foreach(paths, k, path) {
        if (tc_report_path_classify(path) != TC_REPORT_PATH_FOOTHOLD || listed == max_names)
            continue;
        tc_report_hop hop;
        tc_error ignored;
        tc_error_clear(&ignored);
        if (tc_report_hop_read(json_array_get(tc_report_path_hops(path), 0), 0, &hop,
                               &ignored) != TC_OK)
            break;
        char buf[64];
        fputs(listed ? ", " : "", out);
        text(out, tc_report_hop_label(&hop, buf, sizeof buf));
        if (hop.crown_jewel[0] && strcmp(hop.crown_jewel, "none") != 0) {
            fputs(" (", out);
            text(out, hop.crown_jewel);
            fputc(')', out);
        }
        free(hop.reason);
        listed++;
    }
    if (counts[TC_REPORT_PATH_FOOTHOLD] > listed)
        fprintf(out, " and %zu more (paths.csv lists them all)",
                counts[TC_REPORT_PATH_FOOTHOLD] - listed);
    fputs(".</p>\n", out);
}

static int write_paths(FILE *out, tc_report *r, tc_error *err)
{
    fputs("<section id=\"paths\">\n<h2>Attack paths</h2>\n", out);
    bool any = false;
    for (size_t i = 0; i < r->n_policies; i++)
        any |= json_object_get(tc_report_policy(r, i), "paths") != NULL;
    if (!any) {
        fputs("<p class=\"not-computed\">Not computed: run with --paths N to record the attack "
              "paths to up to N crown jewels per policy.</p>\n</section>\n", out);
        return TC_OK;
    }

    fputs("<p class=\"hint\">One shortest path from a foothold to each crown jewel the run "
          "traced. In the graphs, footholds are orange and crown jewels have a red border, "
          "and a workload on several paths is drawn once. Every hop is in paths.csv.</p>\n",
          out);
    write_images_note(out, r->graphs, r->graphs_note);
    for (size_t i = 0; i < r->n_policies; i++) {
        const json_t *paths = json_object_get(tc_report_policy(r, i), "paths");
        fputs("<h3>", out);
        policy_label(out, r, i);
        fputs("</h3>\n", out);
        if (!paths) {
            fputs("<p class=\"not-computed\">Not computed for this policy.</p>\n", out);
            continue;
        }
        if (json_array_size(paths) == 0) {
            fputs("<p class=\"muted\">No path: the run traced none under this policy.</p>\n",
                  out);
            continue;
        }

        size_t counts[4] = { 0 }, k;
        json_t *path;
        json_array_foreach(paths, k, path)
            counts[tc_report_path_classify(path)]++;
        write_path_counts(out, paths, counts);

        char svg_name[96];
        tc_report_graph_name(r, i, "svg", svg_name, sizeof svg_name);
        if (tc_report_has_file(r, svg_name) && write_svg(out, r, svg_name, err) != TC_OK)
            return err->code;
        size_t chains = counts[TC_REPORT_PATH_CHAIN];
        size_t shown = chains < (size_t)r->top_paths ? chains : (size_t)r->top_paths;
        if (shown < chains)
            fprintf(out, "<p class=\"hint\">Showing the first %zu of %zu chains (--top sets how "
                         "many).</p>\n", shown, chains);

        /* Paths keep their number in the result, as in paths.csv. */
        size_t listed = 0;
        json_array_foreach(paths, k, path) {
            if (listed == shown)
                break;
            if (tc_report_path_classify(path) != TC_REPORT_PATH_CHAIN)
                continue;
            if (write_path_table(out, path, k, listed == 0, err) != TC_OK)
                return err->code;
            listed++;
        }
    }
    fputs("</section>\n", out);
    return TC_OK;
}

/* ---- plan ---- */

static void count_cell(FILE *out, json_int_t n)
{
    fputs("<td class=\"num\">", out);
    if (n >= 0)
        count(out, n);
    fputs("</td>", out);
}

static int write_plan_variant(FILE *out, const json_t *policy,
                              const tc_report_plan_variant *variant, tc_error *err)
{
    if (strcmp(variant->name, "plan") != 0) {
        fputs("<p><strong>", out);
        text(out, variant->name);
        fputs("</strong></p>\n", out);
    }
    if (json_array_size(variant->steps) == 0) {
        fputs("<p class=\"muted\">No step: no closure reduces the blast radius.</p>\n", out);
        return TC_OK;
    }
    fputs("<table>\n<tr><th class=\"num\">step</th><th>closure</th>"
          "<th class=\"num\">compromised after</th><th class=\"num\">change</th>"
          "<th class=\"num\">crown jewels after</th><th class=\"num\">flows broken</th></tr>\n",
          out);
    json_int_t previous = tc_report_int(policy, "compromised");
    size_t s;
    json_t *step;
    json_array_foreach(variant->steps, s, step) {
        tc_report_plan_step ps;
        if (tc_report_plan_step_read(step, s, &ps, err) != TC_OK)
            return err->code;
        fprintf(out, "<tr><td class=\"num\">%lld</td><td>", (long long)ps.step);
        text(out, ps.closure);
        fputs("</td>", out);
        count_cell(out, ps.compromised_after);
        fputs("<td class=\"num\">", out);
        if (ps.compromised_after >= 0 && previous >= 0) {
            fputs(ps.compromised_after <= previous ? "&minus;" : "+", out);
            json_int_t change = ps.compromised_after - previous;
            count(out, change < 0 ? -change : change);
        }
        fputs("</td>", out);
        count_cell(out, ps.crown_jewels_after);
        fprintf(out, "<td class=\"num%s\">", ps.flows_broken > 0 ? " bad" : "");
        if (ps.flows_broken >= 0)
            count(out, ps.flows_broken);
        fputs("</td></tr>\n", out);
        previous = ps.compromised_after;
        free(ps.closure);
    }
    fputs("</table>\n", out);
    return TC_OK;
}

static int write_plan(FILE *out, const tc_report *r, tc_error *err)
{
    fputs("<section id=\"plan\">\n<h2>Closure plan</h2>\n", out);
    bool any = false;
    for (size_t i = 0; i < r->n_policies; i++)
        any |= json_object_get(tc_report_policy(r, i), "plan") != NULL;
    if (!any) {
        fputs("<p class=\"not-computed\">Not computed: run with --plan K to rank the K trust "
              "chains to close first.</p>\n</section>\n", out);
        return TC_OK;
    }

    fputs("<p class=\"hint\">Each step closes the one chain (a rule, a grant, a shared "
          "principal, an API edge's trust, a package) that cuts the blast radius most, given "
          "the steps before it. The same table is in plan.csv.</p>\n", out);
    write_images_note(out, r->plots, r->plots_note);
    if (write_png(out, r, "plan.png", "Blast radius after each plan step",
                  "Workloads compromised after each closure (step 0: the policy as it is)",
                  err) != TC_OK)
        return err->code;
    for (size_t i = 0; i < r->n_policies; i++) {
        const json_t *p = tc_report_policy(r, i);
        const json_t *plan = json_object_get(p, "plan");
        fputs("<h3>", out);
        policy_label(out, r, i);
        fputs("</h3>\n", out);
        if (!plan) {
            fputs("<p class=\"not-computed\">Not computed for this policy.</p>\n", out);
            continue;
        }
        tc_report_plan_variant variants[8];
        size_t n = tc_report_plan_variants(plan, variants, 8);
        if (n == 0)
            fputs("<p class=\"notice\">The plan of this policy has no step list.</p>\n", out);
        for (size_t v = 0; v < n; v++)
            if (write_plan_variant(out, p, &variants[v], err) != TC_OK)
                return err->code;
    }
    fputs("</section>\n", out);
    return TC_OK;
}

/* ---- run details and footer ---- */

static void write_run(FILE *out, const tc_report *r)
{
    const json_t *run = json_object_get(r->root, "run");
    const json_t *timings = json_object_get(r->root, "timings");
    fputs("<section id=\"run\">\n<h2>Run</h2>\n<table>\n", out);
    if (json_is_integer(json_object_get(run, "ranks")))
        fprintf(out, "<tr><td>MPI ranks</td><td class=\"num\">%lld</td></tr>\n",
                (long long)tc_report_int(run, "ranks"));
    if (json_is_number(json_object_get(timings, "topology_seconds")))
        fprintf(out, "<tr><td>topology build (s)</td><td class=\"num\">%.3f</td></tr>\n",
                tc_report_number(timings, "topology_seconds"));
    if (json_is_number(json_object_get(timings, "total_seconds")))
        fprintf(out, "<tr><td>total run time (s)</td><td class=\"num\">%.3f</td></tr>\n",
                tc_report_number(timings, "total_seconds"));
    if (json_is_integer(json_object_get(run, "peak_rss_bytes_sum")))
        fprintf(out, "<tr><td>peak memory, summed over ranks (MiB)</td>"
                     "<td class=\"num\">%.1f</td></tr>\n",
                (double)tc_report_int(run, "peak_rss_bytes_sum") / 1048576.0);
    fputs("</table>\n", out);

    fputs("<h3>Time per policy (s)</h3>\n<table>\n<tr><th>policy</th><th class=\"num\">"
          "compile</th><th class=\"num\">setup</th><th class=\"num\">simulate</th></tr>\n", out);
    for (size_t i = 0; i < r->n_policies; i++) {
        const json_t *t = tc_report_policy_timing(r, i);
        fputs("<tr><td>", out);
        policy_label(out, r, i);
        fputs("</td>", out);
        static const char *const keys[] = { "compile_seconds", "setup_seconds",
                                            "simulate_seconds" };
        for (size_t k = 0; k < 3; k++) {
            if (json_is_number(json_object_get(t, keys[k])))
                fprintf(out, "<td class=\"num\">%.4f</td>", tc_report_number(t, keys[k]));
            else
                fputs("<td class=\"num\"></td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n<p class=\"hint\">Times depend on the machine and the rank count; every "
          "other number in this report depends only on the scenario and its seed.</p>\n"
          "</section>\n", out);
}

static void write_footer(FILE *out, const tc_report *r)
{
    fputs("</main>\n<footer><div class=\"wrap\">Written by trustchain report from ", out);
    text(out, r->results_path);
    fputs(". Files in this folder: ", out);
    for (size_t i = 0; i < r->n_files; i++) {
        text(out, r->files[i]);
        fputs(", ", out);
    }
    fputs(TC_REPORT_HTML ", " TC_REPORT_FILE_LIST ".</div></footer>\n</body>\n</html>\n", out);
}

int tc_report_write_html(tc_report *r, tc_error *err)
{
    tc_report_file f;
    if (tc_report_file_open(r, TC_REPORT_HTML, &f, err) != TC_OK)
        return err->code;
    write_head(f.out, r);
    write_summary(f.out, r);
    write_policies(f.out, r);
    if (write_plots(f.out, r, err) != TC_OK)
        goto abandon;
    write_breakdown(f.out, r);
    if (write_paths(f.out, r, err) != TC_OK || write_plan(f.out, r, err) != TC_OK)
        goto abandon;
    write_run(f.out, r);
    write_footer(f.out, r);
    return tc_report_file_commit(r, &f, err);

abandon:
    tc_report_file_abandon(&f);
    return err->code;
}
