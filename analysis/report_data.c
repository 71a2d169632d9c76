/* report_data.c - checks and readers of the result JSON for `trustchain
 * report`; see report_internal.h.
 *
 * The schema check covers what results.c writes (schema version 1). The
 * "paths" and "plan" members of a policy are read leniently instead: they
 * are optional, their producers may add members, and a hop or a step that
 * lacks a field is shown with that field empty rather than rejected. */
#include "report_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- schema check ---- */

typedef enum want {
    WANT_INTEGER,
    WANT_COUNT,       /* integer >= 0 */
    WANT_NUMBER,      /* integer or real */
    WANT_STRING,
    WANT_OBJECT,
    WANT_ARRAY,
    WANT_COUNT_OR_NULL
} want;

static const char *const want_text[] = {
    [WANT_INTEGER] = "an integer",
    [WANT_COUNT] = "an integer >= 0",
    [WANT_NUMBER] = "a number",
    [WANT_STRING] = "a string",
    [WANT_OBJECT] = "an object",
    [WANT_ARRAY] = "an array",
    [WANT_COUNT_OR_NULL] = "an integer >= 0 or null",
};

typedef struct checker {
    const char *path; /* the results file, for messages */
    tc_error *err;
} checker;

static bool has_type(const json_t *v, want w)
{
    switch (w) {
    case WANT_INTEGER: return json_is_integer(v);
    case WANT_COUNT: return json_is_integer(v) && json_integer_value(v) >= 0;
    case WANT_NUMBER: return json_is_number(v);
    case WANT_STRING: return json_is_string(v);
    case WANT_OBJECT: return json_is_object(v);
    case WANT_ARRAY: return json_is_array(v);
    case WANT_COUNT_OR_NULL:
        return json_is_null(v) || (json_is_integer(v) && json_integer_value(v) >= 0);
    }
    return false;
}

/* Member KEY of PARENT (whose key path is AT, "" for the root). Returns it
 * when it has the wanted type; otherwise records an input error, unless it
 * is absent and optional, and returns NULL. */
static const json_t *member(checker *c, const json_t *parent, const char *at, const char *key,
                            want w, bool required)
{
    char where[128];
    snprintf(where, sizeof where, "%s%s%s", at, at[0] ? "." : "", key);
    const json_t *v = json_object_get(parent, key);
    if (!v) {
        if (required)
            tc_error_input(c->err, c->path, 0, 0, where, "missing; expected %s", want_text[w]);
        return NULL;
    }
    if (!has_type(v, w)) {
        tc_error_input(c->err, c->path, 0, 0, where, "expected %s", want_text[w]);
        return NULL;
    }
    return v;
}

/* An object whose every member is {"compromised": n, "total": n}. */
static void check_counts(checker *c, const json_t *parent, const char *at, const char *key,
                         bool required)
{
    const json_t *counts = member(c, parent, at, key, WANT_OBJECT, required);
    if (!counts)
        return;
    char where[128];
    snprintf(where, sizeof where, "%s.%s", at, key);
    const char *name;
    json_t *entry;
    json_object_foreach((json_t *)counts, name, entry) {
        char entry_at[192];
        snprintf(entry_at, sizeof entry_at, "%s.%s", where, name);
        if (!json_is_object(entry)) {
            tc_error_input(c->err, c->path, 0, 0, entry_at, "expected an object");
            return;
        }
        if (!member(c, entry, entry_at, "compromised", WANT_COUNT, true) ||
            !member(c, entry, entry_at, "total", WANT_COUNT, true))
            return;
    }
}

static void check_policy(checker *c, const json_t *p, size_t i)
{
    char at[64];
    snprintf(at, sizeof at, "policies[%zu]", i);
    if (!json_is_object(p)) {
        tc_error_input(c->err, c->path, 0, 0, at, "expected an object");
        return;
    }
    if (!member(c, p, at, "name", WANT_STRING, true) ||
        !member(c, p, at, "kind", WANT_STRING, true) ||
        !member(c, p, at, "compromised", WANT_COUNT, true) ||
        !member(c, p, at, "fraction", WANT_NUMBER, true) ||
        !member(c, p, at, "last_hop", WANT_COUNT, true) ||
        !member(c, p, at, "first_crown_jewel_hop", WANT_COUNT_OR_NULL, true))
        return;

    check_counts(c, p, at, "crown_jewels", true);
    check_counts(c, p, at, "by_env", false);
    check_counts(c, p, at, "by_tier", false);
    check_counts(c, p, at, "by_tenant", false);
    if (c->err->code != TC_OK)
        return;

    const json_t *growth = member(c, p, at, "growth", WANT_ARRAY, true);
    if (!growth)
        return;
    size_t h;
    json_t *n;
    json_array_foreach(growth, h, n) {
        if (!has_type(n, WANT_COUNT)) {
            char where[96];
            snprintf(where, sizeof where, "%s.growth[%zu]", at, h);
            tc_error_input(c->err, c->path, 0, 0, where, "expected an integer >= 0");
            return;
        }
    }

    const json_t *steps = member(c, p, at, "by_step", WANT_OBJECT, false);
    if (steps) {
        const char *name;
        json_t *count;
        json_object_foreach((json_t *)steps, name, count) {
            if (!has_type(count, WANT_COUNT)) {
                char where[160];
                snprintf(where, sizeof where, "%s.by_step.%s", at, name);
                tc_error_input(c->err, c->path, 0, 0, where, "expected an integer >= 0");
                return;
            }
        }
    }

    char flows_at[96];
    snprintf(flows_at, sizeof flows_at, "%s.legitimate_flows", at);
    const json_t *flows = member(c, p, at, "legitimate_flows", WANT_OBJECT, true);
    if (!flows || !member(c, flows, flows_at, "total", WANT_COUNT, true) ||
        !member(c, flows, flows_at, "broken", WANT_COUNT, true))
        return;
    member(c, flows, flows_at, "denied_by_base", WANT_COUNT, false);

    /* Written by other commands; the report reads them leniently. */
    member(c, p, at, "paths", WANT_ARRAY, false);
    const json_t *plan = json_object_get(p, "plan");
    if (plan && !json_is_array(plan) && !json_is_object(plan)) {
        char where[96];
        snprintf(where, sizeof where, "%s.plan", at);
        tc_error_input(c->err, c->path, 0, 0, where, "expected an array or an object");
    }
}

static void check_timings(checker *c, const json_t *root)
{
    const json_t *timings = member(c, root, "", "timings", WANT_OBJECT, false);
    if (!timings)
        return;
    const json_t *list = member(c, timings, "timings", "policies", WANT_ARRAY, false);
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t) {
        char at[64];
        snprintf(at, sizeof at, "timings.policies[%zu]", i);
        if (!json_is_object(t)) {
            tc_error_input(c->err, c->path, 0, 0, at, "expected an object");
            return;
        }
        if (!member(c, t, at, "name", WANT_STRING, true))
            return;
        static const char *const keys[] = { "compile_seconds", "setup_seconds",
                                             "simulate_seconds" };
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            if (json_object_get(t, keys[k]) && !member(c, t, at, keys[k], WANT_NUMBER, false))
                return;
    }
}

int tc_report_check_results(const json_t *root, const char *path, tc_error *err)
{
    checker c = { path, err };
    if (!json_is_object(root))
        return tc_error_input(err, path, 0, 0, NULL,
                              "not a trustchain result: expected a JSON object at the top");

    const json_t *version = json_object_get(root, "schema_version");
    if (!version)
        return tc_error_input(err, path, 0, 0, "schema_version",
                              "missing: not a trustchain result (write one with "
                              "trustchain run SCENARIO -o FILE)");
    if (!json_is_integer(version))
        return tc_error_input(err, path, 0, 0, "schema_version", "expected an integer");
    if (json_integer_value(version) != 1)
        return tc_error_input(err, path, 0, 0, "schema_version",
                              "unsupported schema version %lld; this trustchain reads "
                              "version 1 (rerun the scenario with this trustchain)",
                              (long long)json_integer_value(version));

    const json_t *scenario = member(&c, root, "", "scenario", WANT_OBJECT, true);
    if (!scenario || !member(&c, scenario, "scenario", "name", WANT_STRING, true) ||
        !member(&c, scenario, "scenario", "seed", WANT_INTEGER, true) ||
        !member(&c, scenario, "scenario", "hop_budget", WANT_COUNT, true))
        return err->code;

    /* The counts the report shows; other members are left to other readers. */
    const json_t *topology = member(&c, root, "", "topology", WANT_OBJECT, true);
    if (!topology || !member(&c, topology, "topology", "workloads", WANT_COUNT, true))
        return err->code;
    static const char *const topology_counts[] = { "tenants", "accounts", "vpcs", "segments",
                                                   "principals", "packages", "base_rules",
                                                   "api_edges", "grants", "installs" };
    for (size_t k = 0; k < sizeof topology_counts / sizeof *topology_counts; k++)
        if (json_object_get(topology, topology_counts[k]) &&
            !member(&c, topology, "topology", topology_counts[k], WANT_COUNT, false))
            return err->code;

    const json_t *footholds = member(&c, root, "", "footholds", WANT_OBJECT, true);
    if (!footholds || !member(&c, footholds, "footholds", "total", WANT_COUNT, true))
        return err->code;
    const json_t *vectors = member(&c, footholds, "footholds", "vectors", WANT_ARRAY, true);
    if (!vectors)
        return err->code;
    size_t i;
    json_t *v;
    json_array_foreach(vectors, i, v) {
        char at[64];
        snprintf(at, sizeof at, "footholds.vectors[%zu]", i);
        if (!json_is_object(v))
            return tc_error_input(err, path, 0, 0, at, "expected an object");
        if (!member(&c, v, at, "name", WANT_STRING, true) ||
            !member(&c, v, at, "kind", WANT_STRING, true) ||
            !member(&c, v, at, "workloads", WANT_COUNT, true))
            return err->code;
    }

    const json_t *policies = member(&c, root, "", "policies", WANT_ARRAY, true);
    if (!policies)
        return err->code;
    json_array_foreach(policies, i, v) {
        check_policy(&c, v, i);
        if (err->code != TC_OK)
            return err->code;
    }

    check_timings(&c, root);
    return err->code;
}

/* ---- readers ---- */

json_int_t tc_report_int(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

double tc_report_number(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

const char *tc_report_string(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

const json_t *tc_report_policy(const tc_report *r, size_t i)
{
    return json_array_get(json_object_get(r->root, "policies"), i);
}

const json_t *tc_report_policy_timing(const tc_report *r, size_t i)
{
    const json_t *list = json_object_get(json_object_get(r->root, "timings"), "policies");
    const char *name = tc_report_string(tc_report_policy(r, i), "name");
    const json_t *same_index = json_array_get(list, i);
    if (same_index && strcmp(tc_report_string(same_index, "name"), name) == 0)
        return same_index;

    size_t k;
    json_t *t;
    json_array_foreach(list, k, t)
        if (strcmp(tc_report_string(t, "name"), name) == 0)
            return t;
    return NULL;
}

static json_int_t flows_broken(const json_t *policy)
{
    return tc_report_int(json_object_get(policy, "legitimate_flows"), "broken");
}

size_t tc_report_best_policy(const tc_report *r, bool no_broken_flows)
{
    size_t best = (size_t)-1;
    for (size_t i = 0; i < r->n_policies; i++) {
        const json_t *p = tc_report_policy(r, i);
        if (no_broken_flows && flows_broken(p) != 0)
            continue;
        if (best == (size_t)-1) {
            best = i;
            continue;
        }
        const json_t *b = tc_report_policy(r, best);
        json_int_t pc = tc_report_int(p, "compromised"), bc = tc_report_int(b, "compromised");
        if (pc < bc || (pc == bc && flows_broken(p) < flows_broken(b)))
            best = i;
    }
    return best;
}

size_t tc_report_baseline_policy(const tc_report *r)
{
    for (size_t i = 0; i < r->n_policies; i++)
        if (strcmp(tc_report_string(tc_report_policy(r, i), "kind"), "legacy") == 0)
            return i;

    size_t worst = (size_t)-1;
    for (size_t i = 0; i < r->n_policies; i++)
        if (worst == (size_t)-1 || tc_report_int(tc_report_policy(r, i), "compromised") >
                                       tc_report_int(tc_report_policy(r, worst), "compromised"))
            worst = i;
    return worst;
}

json_int_t tc_report_crown_sum(const json_t *crown_jewels)
{
    json_int_t sum = 0;
    const char *kind;
    json_t *v;
    json_object_foreach((json_t *)crown_jewels, kind, v) {
        if (json_is_integer(v))
            sum += json_integer_value(v);
        else
            sum += tc_report_int(v, "compromised");
    }
    return sum;
}

/* ---- plain text of JSON values ---- */

static void put_value(FILE *out, const json_t *v, int depth)
{
    size_t i;
    const char *key;
    json_t *item;

    switch (json_typeof(v)) {
    case JSON_STRING:
        fputs(json_string_value(v), out);
        break;
    case JSON_INTEGER:
        fprintf(out, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        tc_report_put_double(out, json_real_value(v));
        break;
    case JSON_TRUE:
        fputs("yes", out);
        break;
    case JSON_FALSE:
        fputs("no", out);
        break;
    case JSON_NULL:
        fputs("none", out);
        break;
    case JSON_ARRAY:
        fputs(depth ? "[" : "", out);
        json_array_foreach((json_t *)v, i, item) {
            fputs(i ? ", " : "", out);
            put_value(out, item, depth + 1);
        }
        fputs(depth ? "]" : "", out);
        break;
    case JSON_OBJECT:
        fputs(depth ? "(" : "", out);
        i = 0;
        json_object_foreach((json_t *)v, key, item) {
            fprintf(out, "%s%s ", i++ ? ", " : "", key);
            put_value(out, item, depth + 1);
        }
        fputs(depth ? ")" : "", out);
        break;
    }
}

char *tc_report_value_text(const json_t *value)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out)
        return NULL;
    if (value)
        put_value(out, value, 0);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* The text of the members of O whose keys are not in KNOWN, as
 * tc_report_value_text writes an object. */
static char *other_members_text(const json_t *o, const char *const *known, size_t n_known)
{
    json_t *rest = json_object();
    if (!rest)
        return NULL;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        bool is_known = false;
        for (size_t k = 0; k < n_known && !is_known; k++)
            is_known = strcmp(key, known[k]) == 0;
        if (!is_known)
            json_object_set(rest, key, v);
    }
    char *text = tc_report_value_text(rest);
    json_decref(rest);
    return text;
}

/* ---- attack paths ---- */

const json_t *tc_report_path_hops(const json_t *path)
{
    if (json_is_array(path))
        return path;
    if (json_is_array(json_object_get(path, "hops")))
        return json_object_get(path, "hops");
    if (json_is_array(json_object_get(path, "steps")))
        return json_object_get(path, "steps");
    return NULL;
}

tc_report_path_kind tc_report_path_classify(const json_t *path)
{
    if (json_is_false(json_object_get(path, "reached")))
        return TC_REPORT_PATH_UNREACHED;
    size_t n = json_array_size(tc_report_path_hops(path));
    if (n >= 2)
        return TC_REPORT_PATH_CHAIN;
    return n == 1 ? TC_REPORT_PATH_FOOTHOLD : TC_REPORT_PATH_INVALID;
}

/* The first string member of O among KEYS, else "". */
static const char *first_string(const json_t *o, const char *const *keys, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (json_is_string(json_object_get(o, keys[k])))
            return json_string_value(json_object_get(o, keys[k]));
    return "";
}

int tc_report_hop_read(const json_t *hop, size_t index, tc_report_hop *out, tc_error *err)
{
    memset(out, 0, sizeof *out);
    out->hop = (json_int_t)index;
    out->id = -1;
    out->name = out->tenant = out->env = out->app = out->tier = out->crown_jewel = "";
    out->step = "";

    /* A hop may be a bare workload id or name. */
    if (!json_is_object(hop)) {
        if (json_is_integer(hop))
            out->id = json_integer_value(hop);
        else if (json_is_string(hop))
            out->name = json_string_value(hop);
        out->reason = strdup("");
        return out->reason ? TC_OK : tc_error_runtime(err, "out of memory reading a path");
    }

    if (json_is_integer(json_object_get(hop, "hop")))
        out->hop = json_integer_value(json_object_get(hop, "hop"));

    /* The workload: a nested object, a bare id or name, or fields of the hop. */
    const json_t *workload = json_object_get(hop, "workload");
    const json_t *fields = json_is_object(workload) ? workload : hop;
    if (json_is_integer(workload))
        out->id = json_integer_value(workload);
    else if (json_is_string(workload))
        out->name = json_string_value(workload);
    if (json_is_integer(json_object_get(fields, "id")))
        out->id = json_integer_value(json_object_get(fields, "id"));
    else if (json_is_integer(json_object_get(hop, "workload_id")))
        out->id = json_integer_value(json_object_get(hop, "workload_id"));
    if (!out->name[0])
        out->name = tc_report_string(fields, "name");
    out->tenant = tc_report_string(fields, "tenant");
    out->env = tc_report_string(fields, "env");
    out->app = tc_report_string(fields, "app");
    out->tier = tc_report_string(fields, "tier");
    static const char *const crown_keys[] = { "crown_jewel", "crown" };
    out->crown_jewel = first_string(fields, crown_keys, 2);
    if (!out->crown_jewel[0])
        out->crown_jewel = first_string(hop, crown_keys, 2);

    static const char *const step_keys[] = { "step", "kind", "step_kind" };
    out->step = first_string(hop, step_keys, 3);

    /* The reason: the readable "text" that `trustchain run --paths` writes
     * beside the structured "reason", else the "reason" written out, else
     * whatever else the hop carries. */
    const json_t *text = json_object_get(hop, "text");
    const json_t *reason = json_object_get(hop, "reason");
    if (json_is_string(text) && json_string_length(text) > 0) {
        out->reason = strdup(json_string_value(text));
    } else if (reason) {
        out->reason = tc_report_value_text(reason);
    } else {
        static const char *const known[] = { "hop", "workload", "workload_id", "id", "name",
                                             "tenant", "env", "app", "tier", "crown_jewel",
                                             "crown", "step", "kind", "step_kind", "account", "vpc",
                                             "segment", "from", "text" };
        out->reason = other_members_text(hop, known, sizeof known / sizeof *known);
    }
    return out->reason ? TC_OK : tc_error_runtime(err, "out of memory reading a path");
}

const char *tc_report_hop_label(const tc_report_hop *hop, char *buf, size_t size)
{
    if (hop->name[0])
        return hop->name;
    if (hop->id >= 0) {
        snprintf(buf, size, "workload %lld", (long long)hop->id);
        return buf;
    }
    return "?";
}

/* ---- plans ---- */

static bool is_step_list(const json_t *v)
{
    return json_is_array(v) && json_array_size(v) > 0 && json_is_object(json_array_get(v, 0));
}

size_t tc_report_plan_variants(const json_t *plan, tc_report_plan_variant *out, size_t max)
{
    size_t n = 0;
    if (json_is_array(plan)) {
        if (max > 0)
            out[n++] = (tc_report_plan_variant){ "plan", plan };
        return n;
    }
    if (!json_is_object(plan))
        return 0;

    const json_t *steps = json_object_get(plan, "steps");
    if (json_is_array(steps) && n < max)
        out[n++] = (tc_report_plan_variant){ "plan", steps };
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)plan, key, v) {
        if (n == max)
            break;
        /* "ranking" lists candidates each evaluated alone, not closures
         * applied one after another, so it is no plan. */
        if (strcmp(key, "steps") == 0 || strcmp(key, "ranking") == 0)
            continue;
        if (is_step_list(v))
            out[n++] = (tc_report_plan_variant){ key, v };
        else if (json_is_object(v) && json_is_array(json_object_get(v, "steps")))
            out[n++] = (tc_report_plan_variant){ key, json_object_get(v, "steps") };
    }
    return n;
}

/* The first integer member of O among KEYS, else -1. */
static json_int_t first_int(const json_t *o, const char *const *keys, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (json_is_integer(json_object_get(o, keys[k])))
            return json_integer_value(json_object_get(o, keys[k]));
    return -1;
}

int tc_report_plan_step_read(const json_t *step, size_t index, tc_report_plan_step *out,
                             tc_error *err)
{
    memset(out, 0, sizeof *out);
    out->step = (json_int_t)index + 1;
    if (json_is_integer(json_object_get(step, "step")))
        out->step = json_integer_value(json_object_get(step, "step"));

    static const char *const compromised_keys[] = { "compromised_after", "compromised",
                                                    "blast_radius" };
    out->compromised_after = first_int(step, compromised_keys, 3);

    out->crown_jewels_after = -1;
    static const char *const crown_keys[] = { "crown_jewels_after", "crown_jewels" };
    for (size_t k = 0; k < 2 && out->crown_jewels_after < 0; k++) {
        const json_t *crown = json_object_get(step, crown_keys[k]);
        if (json_is_integer(crown))
            out->crown_jewels_after = json_integer_value(crown);
        else if (json_is_object(crown))
            out->crown_jewels_after = tc_report_crown_sum(crown);
    }

    static const char *const flow_keys[] = { "flows_broken", "legitimate_flows_broken",
                                             "broken_flows" };
    out->flows_broken = first_int(step, flow_keys, 3);
    if (out->flows_broken < 0 && json_is_object(json_object_get(step, "legitimate_flows")))
        out->flows_broken = tc_report_int(json_object_get(step, "legitimate_flows"), "broken");

    /* The closure: a description string, an object with one, or its fields. */
    const json_t *closure = json_object_get(step, "closure");
    if (json_is_object(closure) && json_is_string(json_object_get(closure, "description")))
        closure = json_object_get(closure, "description");
    if (!closure)
        closure = json_object_get(step, "description");
    out->closure = closure ? tc_report_value_text(closure) : strdup("");
    return out->closure ? TC_OK : tc_error_runtime(err, "out of memory reading a plan");
}
