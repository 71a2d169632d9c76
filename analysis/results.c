/* results.c - JSON results and the text summary; see results.h. */
#include "results.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

#ifndef TC_VERSION
#define TC_VERSION "0.1.0"
#endif

static json_t *counts_object(const char *const *names, int n, const uint64_t *reached,
                             const uint64_t *total)
{
    json_t *o = json_object();
    for (int i = 0; o && i < n; i++) {
        json_t *entry = json_pack("{s:I, s:I}", "compromised", (json_int_t)reached[i],
                                  "total", (json_int_t)total[i]);
        json_object_set_new(o, names[i], entry);
    }
    return o;
}

json_t *tc_results_new(const tc_scenario *s, const tc_topology *t, const tc_footholds *f)
{
    json_t *root = json_object();
    if (!root)
        return NULL;
    json_object_set_new(root, "schema_version", json_integer(TC_RESULTS_SCHEMA_VERSION));
    json_object_set_new(root, "tool", json_pack("{s:s, s:s}", "name", "trustchain",
                                                "version", TC_VERSION));

    json_t *crown = json_array();
    for (int k = 1; k < TC_CROWN_COUNT; k++)
        if (s->crown_kinds >> k & 1)
            json_array_append_new(crown, json_string(tc_crown_names[k]));
    json_object_set_new(root, "scenario",
                        json_pack("{s:s, s:I, s:i, s:o}", "name", s->name,
                                  "seed", (json_int_t)s->seed, "hop_budget", (int)s->hop_budget,
                                  "crown_jewels", crown));

    json_object_set_new(root, "topology",
                        json_pack("{s:I, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:I}",
                                  "workloads", (json_int_t)t->n_workloads,
                                  "tenants", (int)t->tenants.count,
                                  "accounts", (int)t->accounts.count,
                                  "vpcs", (int)t->vpcs.count,
                                  "segments", (int)t->segments.count,
                                  "principals", (int)t->principals.count,
                                  "packages", (int)t->packages.count,
                                  "base_rules", (json_int_t)t->n_base_rules,
                                  "api_edges", (json_int_t)t->n_api_edges,
                                  "grants", (json_int_t)t->n_grants,
                                  "installs", (json_int_t)t->n_installs));

    json_t *vectors = json_array();
    for (size_t v = 0; v < s->n_vectors; v++) {
        const tc_vector_spec *vec = &s->vectors[v];
        json_t *o = json_pack("{s:s, s:s, s:I}", "name", vec->name,
                              "kind", tc_vector_kind_names[vec->kind],
                              "workloads", (json_int_t)f->vector_counts[v]);
        if (vec->package)
            json_object_set_new(o, "package", json_string(vec->package));
        else if (vec->rank)
            json_object_set_new(o, "rank", json_integer(vec->rank));
        json_array_append_new(vectors, o);
    }
    json_object_set_new(root, "footholds",
                        json_pack("{s:I, s:o}", "total", (json_int_t)f->total, "vectors", vectors));
    json_object_set_new(root, "policies", json_array());
    json_object_set_new(root, "run", json_pack("{s:i}", "ranks", t->nranks));
    json_object_set_new(root, "timings", json_pack("{s:[]}", "policies"));
    return root;
}

static const char *const policy_kind_names[] = { "legacy", "rules", "derived" };

int tc_results_add_policy(json_t *root, const tc_scenario *s, const tc_topology *t,
                          const tc_policy *p, const tc_sim_result *r, const tc_metrics *m)
{
    json_t *o = json_object();
    if (!o)
        return TC_ERR_RUNTIME;
    json_object_set_new(o, "name", json_string(p->spec->name));
    json_object_set_new(o, "kind", json_string(policy_kind_names[p->spec->kind]));
    json_object_set_new(o, "classes", json_integer(p->n_classes));
    json_object_set_new(o, "class_pairs",
                        json_integer((json_int_t)p->reach_offsets[p->n_classes]));
    json_object_set_new(o, "compromised", json_integer((json_int_t)m->compromised));
    json_object_set_new(o, "fraction",
                        json_real(m->workloads ? (double)m->compromised / (double)m->workloads : 0));
    json_object_set_new(o, "by_env", counts_object(tc_env_names, TC_ENV_COUNT, m->by_env,
                                                   m->env_total));
    json_object_set_new(o, "by_tier", counts_object(tc_tier_names, TC_TIER_COUNT, m->by_tier,
                                                    m->tier_total));
    json_object_set_new(o, "crown_jewels",
                        counts_object(tc_crown_names + 1, TC_CROWN_COUNT - 1,
                                      m->crown_reached + 1, m->crown_total + 1));
    json_object_set_new(o, "first_crown_jewel_hop",
                        m->first_crown_hop < 0 ? json_null() : json_integer(m->first_crown_hop));
    json_object_set_new(o, "last_hop", json_integer(m->levels));

    json_t *steps = json_object();
    for (int k = 0; k < TC_STEP_COUNT; k++)
        json_object_set_new(steps, tc_step_names[k], json_integer((json_int_t)m->by_step[k]));
    json_object_set_new(o, "by_step", steps);

    json_t *growth = json_array();
    for (uint32_t h = 0; h <= m->levels; h++)
        json_array_append_new(growth, json_integer((json_int_t)m->growth[h]));
    json_object_set_new(o, "growth", growth);
    json_object_set_new(o, "principals_held", json_integer((json_int_t)m->principals_held));
    json_object_set_new(o, "packages_compromised",
                        json_integer((json_int_t)m->packages_compromised));
    json_object_set_new(o, "legitimate_flows",
                        json_pack("{s:I, s:I, s:I}", "total", (json_int_t)p->flows_total,
                                  "broken", (json_int_t)p->flows_broken,
                                  "denied_by_base", (json_int_t)p->flows_base_denied));
    if (s->output_per_tenant) {
        json_t *tenants = json_object();
        for (uint32_t k = 0; k < m->n_tenants; k++)
            json_object_set_new(tenants, tc_names_get(&t->tenants, k),
                                json_pack("{s:I, s:I}", "compromised", (json_int_t)m->by_tenant[k],
                                          "total", (json_int_t)m->tenant_total[k]));
        json_object_set_new(o, "by_tenant", tenants);
    }
    json_array_append_new(json_object_get(root, "policies"), o);

    json_t *timing = json_pack("{s:s, s:f, s:f, s:f}", "name", p->spec->name,
                               "compile_seconds", p->seconds,
                               "setup_seconds", r->seconds_setup,
                               "simulate_seconds", r->seconds);
    json_array_append_new(json_object_get(json_object_get(root, "timings"), "policies"), timing);
    return TC_OK;
}

int tc_results_check_path(const char *path, tc_error *err)
{
    char *copy = strdup(path);
    if (!copy)
        return tc_error_runtime(err, "out of memory");
    const char *dir = dirname(copy);
    int status = TC_OK;
    if (access(dir, F_OK) != 0)
        status = tc_error_input(err, path, 0, 0, NULL,
                                "cannot write the result: folder '%s' does not exist", dir);
    else if (access(dir, W_OK | X_OK) != 0)
        status = tc_error_input(err, path, 0, 0, NULL,
                                "cannot write the result: folder '%s' is not writable", dir);
    free(copy);
    return status;
}

int tc_results_write(const json_t *root, const char *path, tc_error *err)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return tc_error_runtime(err, "out of memory writing '%s'", path);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());

    int status = TC_OK;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        status = tc_error_runtime(err, "cannot create '%s': %s", tmp, strerror(errno));
        goto release;
    }
    int failed = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) != 0;
    failed |= fputc('\n', f) == EOF;
    failed |= fflush(f) != 0;
    failed |= fsync(fileno(f)) != 0;
    failed |= fclose(f) != 0;
    if (failed) {
        status = tc_error_runtime(err, "writing '%s' failed: %s", tmp, strerror(errno));
        unlink(tmp);
        goto release;
    }
    if (rename(tmp, path) != 0) {
        status = tc_error_runtime(err, "cannot rename '%s' to '%s': %s", tmp, path,
                                  strerror(errno));
        unlink(tmp);
    }

release:
    free(tmp);
    return status;
}

/* ---- text summary ---- */

static json_int_t get_int(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static void print_breakdown(FILE *out, const char *title, const json_t *counts)
{
    const char *name;
    json_t *v;
    fprintf(out, "  %-14s", title);
    json_object_foreach((json_t *)counts, name, v) {
        json_int_t total = get_int(v, "total");
        if (total == 0)
            continue;
        fprintf(out, " %s %lld/%lld", name, (long long)get_int(v, "compromised"),
                (long long)total);
    }
    fputc('\n', out);
}

void tc_results_print(const json_t *root, FILE *out)
{
    const json_t *scenario = json_object_get(root, "scenario");
    const json_t *topo = json_object_get(root, "topology");
    const json_t *footholds = json_object_get(root, "footholds");
    const json_t *timings = json_object_get(json_object_get(root, "timings"), "policies");

    fprintf(out, "scenario %s, seed %lld: %lld workloads, %lld tenants, %lld segments, "
                 "%lld principals, %lld packages, %lld API edges, %lld grants\n",
            json_string_value(json_object_get(scenario, "name")),
            (long long)get_int(scenario, "seed"), (long long)get_int(topo, "workloads"),
            (long long)get_int(topo, "tenants"), (long long)get_int(topo, "segments"),
            (long long)get_int(topo, "principals"), (long long)get_int(topo, "packages"),
            (long long)get_int(topo, "api_edges"), (long long)get_int(topo, "grants"));
    fprintf(out, "footholds: %lld workloads at hop 0 from", (long long)get_int(footholds, "total"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(footholds, "vectors"), i, v)
        fprintf(out, "%s %s (%lld)", i ? "," : "", json_string_value(json_object_get(v, "name")),
                (long long)get_int(v, "workloads"));
    fprintf(out, "\n\n");

    int width = 6;
    json_array_foreach(json_object_get(root, "policies"), i, v) {
        int len = (int)strlen(json_string_value(json_object_get(v, "name")));
        width = len > width ? len : width;
    }
    fprintf(out, "%-*s %12s %8s %11s %-24s %18s %9s\n", width, "policy", "compromised",
            "fraction", "first jewel", "jewels db/sec/priv/bill", "flows broken", "time (s)");
    json_array_foreach(json_object_get(root, "policies"), i, v) {
        const json_t *jewels = json_object_get(v, "crown_jewels");
        char jewel_text[64];
        snprintf(jewel_text, sizeof jewel_text, "%lld/%lld/%lld/%lld",
                 (long long)get_int(json_object_get(jewels, "database"), "compromised"),
                 (long long)get_int(json_object_get(jewels, "secrets"), "compromised"),
                 (long long)get_int(json_object_get(jewels, "privileged"), "compromised"),
                 (long long)get_int(json_object_get(jewels, "billing"), "compromised"));
        const json_t *first = json_object_get(v, "first_crown_jewel_hop");
        char first_text[16];
        if (json_is_null(first))
            snprintf(first_text, sizeof first_text, "-");
        else
            snprintf(first_text, sizeof first_text, "%lld", (long long)json_integer_value(first));
        const json_t *flows = json_object_get(v, "legitimate_flows");
        char flow_text[48];
        snprintf(flow_text, sizeof flow_text, "%lld/%lld", (long long)get_int(flows, "broken"),
                 (long long)get_int(flows, "total"));
        const json_t *timing = json_array_get(timings, i);
        double seconds = json_real_value(json_object_get(timing, "compile_seconds")) +
                         json_real_value(json_object_get(timing, "simulate_seconds"));
        fprintf(out, "%-*s %12lld %7.2f%% %11s %-24s %18s %9.3f\n", width,
                json_string_value(json_object_get(v, "name")),
                (long long)get_int(v, "compromised"),
                100.0 * json_real_value(json_object_get(v, "fraction")), first_text, jewel_text,
                flow_text, seconds);
    }

    json_array_foreach(json_object_get(root, "policies"), i, v) {
        fprintf(out, "\n%s:\n", json_string_value(json_object_get(v, "name")));
        print_breakdown(out, "by env", json_object_get(v, "by_env"));
        print_breakdown(out, "by tier", json_object_get(v, "by_tier"));
        print_breakdown(out, "crown jewels", json_object_get(v, "crown_jewels"));
        fprintf(out, "  %-14s", "by step");
        const char *name;
        json_t *n;
        json_object_foreach(json_object_get(v, "by_step"), name, n)
            fprintf(out, " %s %lld", name, (long long)json_integer_value(n));
        fprintf(out, "\n  %-14s", "new per hop");
        size_t h;
        json_array_foreach(json_object_get(v, "growth"), h, n)
            fprintf(out, " %lld", (long long)json_integer_value(n));
        fputc('\n', out);
    }
}
