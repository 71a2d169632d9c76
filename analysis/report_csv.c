/* report_csv.c - the CSV tables of `trustchain report`: one header row,
 * then one row per record, RFC 4180 quoting, "\n" line ends, and an empty
 * field where the result has no value. The columns are listed in
 * docs/report.md. */
#include "report_internal.h"

#include <stdlib.h>
#include <string.h>

/* Distinct member names of the object MEMBER over all policies, in order
 * of first appearance; borrowed from the document. */
typedef struct key_list {
    const char **keys;
    size_t n, cap;
} key_list;

static int key_list_collect(const tc_report *r, const char *member, key_list *list,
                            tc_error *err)
{
    for (size_t i = 0; i < r->n_policies; i++) {
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(tc_report_policy(r, i), member), key, v) {
            bool seen = false;
            for (size_t k = 0; k < list->n && !seen; k++)
                seen = strcmp(list->keys[k], key) == 0;
            if (seen)
                continue;
            if (list->n == list->cap) {
                size_t cap = list->cap ? 2 * list->cap : 8;
                const char **keys = realloc(list->keys, cap * sizeof *keys);
                if (!keys)
                    return tc_error_runtime(err, "out of memory writing the CSV tables");
                list->keys = keys;
                list->cap = cap;
            }
            list->keys[list->n++] = key;
        }
    }
    return TC_OK;
}

/* ",VALUE" when KEY is an integer member of O, else ",". */
static void put_int_field(FILE *out, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    fputc(',', out);
    if (json_is_integer(v))
        fprintf(out, "%lld", (long long)json_integer_value(v));
}

static void put_number_field(FILE *out, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    fputc(',', out);
    if (json_is_integer(v))
        fprintf(out, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        tc_report_put_double(out, json_real_value(v));
}

static int write_policies(tc_report *r, tc_error *err)
{
    key_list crown = { 0 };
    if (key_list_collect(r, "crown_jewels", &crown, err) != TC_OK)
        return err->code;
    tc_report_file f;
    if (tc_report_file_open(r, "policies.csv", &f, err) != TC_OK)
        goto release;

    fputs("policy,kind,workloads,compromised,fraction,first_crown_jewel_hop,last_hop", f.out);
    for (size_t k = 0; k < crown.n; k++) {
        char column[160];
        snprintf(column, sizeof column, "crown_%s_compromised", crown.keys[k]);
        fputc(',', f.out);
        tc_report_put_csv(f.out, column);
        snprintf(column, sizeof column, "crown_%s_total", crown.keys[k]);
        fputc(',', f.out);
        tc_report_put_csv(f.out, column);
    }
    fputs(",flows_total,flows_broken,flows_denied_by_base,principals_held,"
          "packages_compromised,compile_seconds,setup_seconds,simulate_seconds\n", f.out);

    const json_t *topology = json_object_get(r->root, "topology");
    for (size_t i = 0; i < r->n_policies; i++) {
        const json_t *p = tc_report_policy(r, i);
        tc_report_put_csv(f.out, tc_report_string(p, "name"));
        fputc(',', f.out);
        tc_report_put_csv(f.out, tc_report_string(p, "kind"));
        put_int_field(f.out, topology, "workloads");
        put_int_field(f.out, p, "compromised");
        put_number_field(f.out, p, "fraction");
        put_int_field(f.out, p, "first_crown_jewel_hop");
        put_int_field(f.out, p, "last_hop");
        const json_t *jewels = json_object_get(p, "crown_jewels");
        for (size_t k = 0; k < crown.n; k++) {
            const json_t *entry = json_object_get(jewels, crown.keys[k]);
            put_int_field(f.out, entry, "compromised");
            put_int_field(f.out, entry, "total");
        }
        const json_t *flows = json_object_get(p, "legitimate_flows");
        put_int_field(f.out, flows, "total");
        put_int_field(f.out, flows, "broken");
        put_int_field(f.out, flows, "denied_by_base");
        put_int_field(f.out, p, "principals_held");
        put_int_field(f.out, p, "packages_compromised");
        const json_t *timing = tc_report_policy_timing(r, i);
        put_number_field(f.out, timing, "compile_seconds");
        put_number_field(f.out, timing, "setup_seconds");
        put_number_field(f.out, timing, "simulate_seconds");
        fputc('\n', f.out);
    }
    tc_report_file_commit(r, &f, err);

release:
    free(crown.keys);
    return err->code;
}

/* growth.csv (new workloads per hop) or, with CUMULATIVE, growth-
 * cumulative.csv. A policy whose attack stopped before the last row has
 * 0 new workloads, and a constant cumulative count, on the rows after. */
static int write_growth(tc_report *r, bool cumulative, tc_error *err)
{
    tc_report_file f;
    if (tc_report_file_open(r, cumulative ? "growth-cumulative.csv" : "growth.csv", &f,
                            err) != TC_OK)
        return err->code;

    fputs("hop", f.out);
    for (size_t i = 0; i < r->n_policies; i++) {
        fputc(',', f.out);
        tc_report_put_csv(f.out, tc_report_string(tc_report_policy(r, i), "name"));
    }
    fputc('\n', f.out);

    json_int_t *sums = calloc(r->n_policies ? r->n_policies : 1, sizeof *sums);
    if (!sums) {
        tc_report_file_abandon(&f);
        return tc_error_runtime(err, "out of memory writing the growth table");
    }
    for (json_int_t h = 0; h <= r->max_hop; h++) {
        fprintf(f.out, "%lld", (long long)h);
        for (size_t i = 0; i < r->n_policies; i++) {
            const json_t *growth = json_object_get(tc_report_policy(r, i), "growth");
            json_int_t added = json_integer_value(json_array_get(growth, (size_t)h));
            sums[i] += added;
            fprintf(f.out, ",%lld", (long long)(cumulative ? sums[i] : added));
        }
        fputc('\n', f.out);
    }
    free(sums);
    return tc_report_file_commit(r, &f, err);
}

static void put_breakdown(FILE *out, const char *policy, const char *group, const json_t *counts)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)counts, key, v) {
        tc_report_put_csv(out, policy);
        fprintf(out, ",%s,", group);
        tc_report_put_csv(out, key);
        if (json_is_integer(v)) {
            fprintf(out, ",%lld,\n", (long long)json_integer_value(v));
        } else {
            put_int_field(out, v, "compromised");
            put_int_field(out, v, "total");
            fputc('\n', out);
        }
    }
}

/* One row per (policy, group, key): env, tier, crown_jewel, tenant counts
 * with their totals, and step counts (no total). */
static int write_breakdown(tc_report *r, tc_error *err)
{
    tc_report_file f;
    if (tc_report_file_open(r, "breakdown.csv", &f, err) != TC_OK)
        return err->code;
    fputs("policy,group,key,compromised,total\n", f.out);
    for (size_t i = 0; i < r->n_policies; i++) {
        const json_t *p = tc_report_policy(r, i);
        const char *name = tc_report_string(p, "name");
        put_breakdown(f.out, name, "env", json_object_get(p, "by_env"));
        put_breakdown(f.out, name, "tier", json_object_get(p, "by_tier"));
        put_breakdown(f.out, name, "crown_jewel", json_object_get(p, "crown_jewels"));
        put_breakdown(f.out, name, "tenant", json_object_get(p, "by_tenant"));
        put_breakdown(f.out, name, "step", json_object_get(p, "by_step"));
    }
    return tc_report_file_commit(r, &f, err);
}

static bool any_policy_has(const tc_report *r, const char *member)
{
    for (size_t i = 0; i < r->n_policies; i++)
        if (json_object_get(tc_report_policy(r, i), member))
            return true;
    return false;
}

static void put_count_field(FILE *out, json_int_t n)
{
    fputc(',', out);
    if (n >= 0)
        fprintf(out, "%lld", (long long)n);
}

static int write_plan(tc_report *r, tc_error *err)
{
    tc_report_file f;
    if (tc_report_file_open(r, "plan.csv", &f, err) != TC_OK)
        return err->code;
    fputs("policy,plan,step,closure,compromised_after,crown_jewels_after,flows_broken\n", f.out);
    for (size_t i = 0; i < r->n_policies && err->code == TC_OK; i++) {
        const json_t *p = tc_report_policy(r, i);
        tc_report_plan_variant variants[8];
        size_t n = tc_report_plan_variants(json_object_get(p, "plan"), variants, 8);
        for (size_t v = 0; v < n && err->code == TC_OK; v++) {
            size_t s;
            json_t *step;
            json_array_foreach(variants[v].steps, s, step) {
                tc_report_plan_step ps;
                if (tc_report_plan_step_read(step, s, &ps, err) != TC_OK)
                    break;
                tc_report_put_csv(f.out, tc_report_string(p, "name"));
                fputc(',', f.out);
                tc_report_put_csv(f.out, variants[v].name);
                fprintf(f.out, ",%lld,", (long long)ps.step);
                tc_report_put_csv(f.out, ps.closure);
                put_count_field(f.out, ps.compromised_after);
                put_count_field(f.out, ps.crown_jewels_after);
                put_count_field(f.out, ps.flows_broken);
                fputc('\n', f.out);
                free(ps.closure);
            }
        }
    }
    if (err->code != TC_OK) {
        tc_report_file_abandon(&f);
        return err->code;
    }
    return tc_report_file_commit(r, &f, err);
}

/* One row per hop of every path, all paths of every policy. */
static int write_paths(tc_report *r, tc_error *err)
{
    tc_report_file f;
    if (tc_report_file_open(r, "paths.csv", &f, err) != TC_OK)
        return err->code;
    fputs("policy,path,hop,workload_id,workload,tenant,env,app,tier,crown_jewel,step,reason\n",
          f.out);
    for (size_t i = 0; i < r->n_policies && err->code == TC_OK; i++) {
        const json_t *p = tc_report_policy(r, i);
        size_t k;
        json_t *path;
        json_array_foreach(json_object_get(p, "paths"), k, path) {
            size_t h;
            json_t *hop;
            json_array_foreach(tc_report_path_hops(path), h, hop) {
                tc_report_hop rh;
                if (tc_report_hop_read(hop, h, &rh, err) != TC_OK)
                    break;
                tc_report_put_csv(f.out, tc_report_string(p, "name"));
                fprintf(f.out, ",%zu,%lld,", k + 1, (long long)rh.hop);
                if (rh.id >= 0)
                    fprintf(f.out, "%lld", (long long)rh.id);
                const char *text[] = { rh.name, rh.tenant, rh.env, rh.app, rh.tier,
                                       rh.crown_jewel, rh.step, rh.reason };
                for (size_t t = 0; t < sizeof text / sizeof *text; t++) {
                    fputc(',', f.out);
                    tc_report_put_csv(f.out, text[t]);
                }
                fputc('\n', f.out);
                free(rh.reason);
            }
            if (err->code != TC_OK)
                break;
        }
    }
    if (err->code != TC_OK) {
        tc_report_file_abandon(&f);
        return err->code;
    }
    return tc_report_file_commit(r, &f, err);
}

int tc_report_write_csv(tc_report *r, tc_error *err)
{
    if (write_policies(r, err) != TC_OK || write_growth(r, false, err) != TC_OK ||
        write_growth(r, true, err) != TC_OK || write_breakdown(r, err) != TC_OK)
        return err->code;
    if (any_policy_has(r, "plan") && write_plan(r, err) != TC_OK)
        return err->code;
    if (any_policy_has(r, "paths") && write_paths(r, err) != TC_OK)
        return err->code;
    return TC_OK;
}
