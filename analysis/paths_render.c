/*
 * paths_render.c - attack paths as JSON, as a numbered text list and as
 * Graphviz DOT; see paths.h.
 *
 * The three forms give the same facts, because the text and the DOT labels
 * are made by the same phrase builders. The JSON keeps every id next to
 * its name, so tools need not look names up.
 */
#include "paths.h"

#include <stdarg.h>
#include <string.h>

#include "model.h"

/* Append formatted text to BUF (LEN bytes, NUL-terminated on entry),
 * cutting it short when full. */
__attribute__((format(printf, 3, 4)))
static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

static void append_services(char *buf, size_t len, tc_svcmask mask)
{
    if (mask == TC_SERVICE_ALL) {
        append(buf, len, "any service");
        return;
    }
    const char *separator = "";
    for (unsigned s = 0; s < TC_SERVICE_COUNT; s++)
        if ((mask >> s) & 1) {
            append(buf, len, "%s%s", separator, tc_service_names[s]);
            separator = ", ";
        }
}

static const tc_path_workload *find_workload(const tc_path *path, uint64_t id)
{
    for (uint32_t k = 0; k < path->n_hops; k++)
        if (path->hops[k].workload.id == id)
            return &path->hops[k].workload;
    for (uint32_t k = 0; k < path->n_others; k++)
        if (path->others[k].id == id)
            return &path->others[k];
    return NULL;
}

/* Value of attribute ATTR (enum tc_attr) of W as text. */
static void append_attribute(char *buf, size_t len, const tc_topology *t,
                             const tc_path_workload *w, int attr)
{
    switch (attr) {
    case TC_ATTR_TENANT: append(buf, len, "%s", tc_names_get(&t->tenants, w->tenant)); break;
    case TC_ATTR_ACCOUNT: append(buf, len, "%s", tc_names_get(&t->accounts, w->account)); break;
    case TC_ATTR_VPC: append(buf, len, "%s", tc_names_get(&t->vpcs, w->vpc)); break;
    case TC_ATTR_SUBNET: append(buf, len, "%s", tc_names_get(&t->subnets, w->subnet)); break;
    case TC_ATTR_SEGMENT: append(buf, len, "%s", tc_names_get(&t->segments, w->segment)); break;
    case TC_ATTR_APP: append(buf, len, "%s", tc_names_get(&t->apps, w->app)); break;
    case TC_ATTR_PRINCIPAL:
        append(buf, len, "%s", tc_names_get(&t->principals, w->principal));
        break;
    case TC_ATTR_ENV: append(buf, len, "%s", tc_env_names[w->env]); break;
    case TC_ATTR_TIER: append(buf, len, "%s", tc_tier_names[w->tier]); break;
    case TC_ATTR_CROWN: append(buf, len, "%s", tc_crown_names[w->crown]); break;
    case TC_ATTR_INTERNET_FACING: append(buf, len, "%s", w->internet_facing ? "true" : "false");
        break;
    default: break;
    }
}

/* The workload that the reach of ENTRY starts from: the predecessor, or
 * for a network-gated credential the workload it was used from. */
static const tc_path_workload *reach_source(const tc_path *path, const tc_path_hop *entry)
{
    uint64_t id = entry->workload.step == TC_STEP_CREDENTIAL ? entry->used_from : entry->from;
    return find_workload(path, id);
}

/* ---- phrases ---- */

static void append_workload(char *buf, size_t len, const tc_topology *t, uint64_t id)
{
    char name[128];
    tc_topology_workload_name(t, id, name, sizeof name);
    append(buf, len, "%s", name);
}

static void append_base_rule(char *buf, size_t len, const tc_topology *t, uint64_t index)
{
    const tc_base_rule *rule = &t->base_rules[index];
    append(buf, len, "base rule #%llu (%s -> %s: ", (unsigned long long)index,
           tc_names_get(&t->segments, rule->from_segment),
           tc_names_get(&t->segments, rule->to_segment));
    append_services(buf, len, rule->services);
    append(buf, len, ")");
}

static void append_policy_rule(char *buf, size_t len, const tc_paths_input *in,
                               const tc_path *path, const tc_path_hop *entry)
{
    const tc_policy_spec *spec = in->policy->spec;
    const tc_scenario *sc = in->scenario;
    int64_t k = entry->reach.policy_rule;

    if (k == TC_PATH_RULE_LEGACY) {
        append(buf, len, "legacy policy (allows every service)");
    } else if (k == TC_PATH_RULE_DEFAULT) {
        append(buf, len, "policy default (allow)");
    } else if (k == TC_PATH_RULE_DERIVED) {
        const tc_path_workload *u = reach_source(path, entry);
        append(buf, len, "derived allow rule");
        for (int side = 0; side < 2 && u; side++) {
            const tc_path_workload *w = side == 0 ? u : &entry->workload;
            append(buf, len, side == 0 ? " (" : " -> (");
            for (size_t a = 0; a < spec->n_granularity; a++) {
                append(buf, len, "%s%s=", a ? ", " : "", tc_attr_names[spec->granularity[a]]);
                append_attribute(buf, len, in->topology, w, spec->granularity[a]);
            }
            append(buf, len, ")");
        }
    } else if (k >= 0 && (size_t)k < spec->n_rules) {
        const tc_rule_spec *rule = &spec->rules[k];
        const char *from = rule->from == TC_GROUP_ANY ? "any" : sc->groups[rule->from].name;
        const char *to = rule->to == TC_GROUP_ANY ? "any" : sc->groups[rule->to].name;
        append(buf, len, "policy rule #%lld (%s -> %s allows ", (long long)k, from, to);
        append_services(buf, len, rule->services);
        append(buf, len, ")");
    }
}

static void append_principal_origin(char *buf, size_t len, const tc_paths_input *in,
                                    const tc_path_hop *entry)
{
    const tc_topology *t = in->topology;
    append(buf, len, "held since hop %u: ", in->result->principal_hop[entry->principal]);
    append_workload(buf, len, t, entry->principal_source);
    append(buf, len, " runs as %s",
           tc_names_get(&t->principals, entry->assume_chain ? entry->assume_chain[0]
                                                            : entry->principal));
    for (uint32_t k = 1; k < entry->n_assume_chain; k++)
        append(buf, len, "%s%s", k == 1 ? ", which assumes " : " -> ",
               tc_names_get(&t->principals, entry->assume_chain[k]));
}

static const char *vector_name(const tc_paths_input *in, uint32_t vector)
{
    return vector < in->scenario->n_vectors ? in->scenario->vectors[vector].name : NULL;
}

/* The reason of ENTRY as one phrase; BRIEF leaves out the rules and how
 * principals were obtained. */
static void append_reason(char *buf, size_t len, const tc_paths_input *in, const tc_path *path,
                          const tc_path_hop *entry, bool brief)
{
    const tc_topology *t = in->topology;
    const char *vector = vector_name(in, entry->vector);

    switch (entry->workload.step) {
    case TC_STEP_FOOTHOLD:
        append(buf, len, "foothold");
        if (entry->package != TC_VIA_NONE)
            append(buf, len, ": installs compromised package %s",
                   tc_names_get(&t->packages, entry->package));
        if (vector)
            append(buf, len, " (vector %s)", vector);
        return;
    case TC_STEP_NETWORK:
        append(buf, len, "network exploit of %s from ", tc_service_names[entry->reach.service]);
        append_workload(buf, len, t, entry->from);
        break;
    case TC_STEP_API:
        append(buf, len, "API chain: ");
        append_workload(buf, len, t, entry->from);
        append(buf, len, " calls it on %s with %s trust", tc_service_names[entry->reach.service],
               tc_trust_names[entry->trust]);
        break;
    case TC_STEP_CREDENTIAL:
        append(buf, len, "credential: principal %s", tc_names_get(&t->principals, entry->principal));
        if (!brief) {
            append(buf, len, " (");
            append_principal_origin(buf, len, in, entry);
            append(buf, len, ")");
        }
        append(buf, len, ", %s grant on ", entry->gated ? "network-gated" : "control-plane");
        append_services(buf, len, entry->grant_services);
        if (entry->gated) {
            append(buf, len, ", used from ");
            append_workload(buf, len, t, entry->used_from);
            append(buf, len, " on %s", tc_service_names[entry->reach.service]);
        }
        break;
    case TC_STEP_SUPPLY_CHAIN:
        append(buf, len, "supply chain: installs package %s, published with principal %s",
               tc_names_get(&t->packages, entry->package),
               tc_names_get(&t->principals, entry->principal));
        if (!brief) {
            append(buf, len, " (");
            append_principal_origin(buf, len, in, entry);
            append(buf, len, ")");
        }
        return;
    default:
        return;
    }

    bool has_reach = entry->workload.step != TC_STEP_CREDENTIAL || entry->gated;
    if (has_reach && !brief) {
        append(buf, len, "; ");
        append_base_rule(buf, len, t, entry->reach.base_rule);
        append(buf, len, "; ");
        append_policy_rule(buf, len, in, path, entry);
    }
}

static void append_workload_label(char *buf, size_t len, const tc_topology *t,
                                  const tc_path_workload *w)
{
    append_workload(buf, len, t, w->id);
    append(buf, len, " (%s, %s/%s/%s", tc_tier_names[w->tier],
           tc_names_get(&t->tenants, w->tenant), tc_env_names[w->env],
           tc_names_get(&t->apps, w->app));
    if (w->crown != TC_CROWN_NONE)
        append(buf, len, ", crown jewel: %s", tc_crown_names[w->crown]);
    append(buf, len, ")");
}

/* ---- text ---- */

void tc_path_print_text(FILE *out, const tc_paths_input *in, const char *policy_name,
                        const tc_path *path)
{
    const tc_topology *t = in->topology;
    char line[2048] = "";

    append_workload_label(line, sizeof line, t, &path->target_workload);
    if (!path->reached) {
        fprintf(out, "policy %s: %s is not compromised within the hop budget\n", policy_name,
                line);
        return;
    }
    fprintf(out, "policy %s: attack path to %s in %u hop%s\n", policy_name, line,
            path->n_hops - 1, path->n_hops == 2 ? "" : "s");
    for (uint32_t h = 0; h < path->n_hops; h++) {
        const tc_path_hop *entry = &path->hops[h];
        line[0] = '\0';
        append_workload_label(line, sizeof line, t, &entry->workload);
        fprintf(out, "  %2u. %s\n      ", h, line);
        line[0] = '\0';
        append_reason(line, sizeof line, in, path, entry, false);
        fprintf(out, "%s\n", line);
    }
}

/* ---- DOT ---- */

/* Write TEXT as the inside of a DOT string: quotes and backslashes
 * escaped, newlines as \n. */
static void dot_string(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', out);
        if (*p == '\n')
            fputs("\\n", out);
        else
            fputc(*p, out);
    }
}

void tc_paths_dot_begin(FILE *out)
{
    fputs("digraph attack_paths {\n"
          "  rankdir=LR;\n"
          "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n"
          "  edge [fontname=\"Helvetica\", fontsize=9];\n", out);
}

void tc_paths_dot_end(FILE *out)
{
    fputs("}\n", out);
}

void tc_path_print_dot(FILE *out, const tc_paths_input *in, const char *policy_name,
                       const tc_path *path, size_t index)
{
    const tc_topology *t = in->topology;
    char text[1024];

    fprintf(out, "  subgraph cluster_%zu {\n    label=\"", index);
    text[0] = '\0';
    append(text, sizeof text, "policy %s: ", policy_name);
    append_workload(text, sizeof text, t, path->target);
    append(text, sizeof text, path->reached ? " at hop %u" : " not compromised",
           path->n_hops ? path->n_hops - 1 : 0);
    dot_string(out, text);
    fputs("\";\n", out);

    for (uint32_t h = 0; h < path->n_hops; h++) {
        const tc_path_workload *w = &path->hops[h].workload;
        text[0] = '\0';
        append_workload(text, sizeof text, t, w->id);
        append(text, sizeof text, "\n%s, %s", tc_tier_names[w->tier],
               tc_names_get(&t->tenants, w->tenant));
        if (w->crown != TC_CROWN_NONE)
            append(text, sizeof text, "\ncrown jewel: %s", tc_crown_names[w->crown]);
        fprintf(out, "    p%zu_w%llu [label=\"", index, (unsigned long long)w->id);
        dot_string(out, text);
        fprintf(out, "\"%s];\n", h == 0 ? ", color=red" : "");
    }
    for (uint32_t h = 1; h < path->n_hops; h++) {
        const tc_path_hop *entry = &path->hops[h];
        text[0] = '\0';
        append(text, sizeof text, "hop %u\n", h);
        append_reason(text, sizeof text, in, path, entry, true);
        fprintf(out, "    p%zu_w%llu -> p%zu_w%llu [label=\"", index,
                (unsigned long long)entry->from, index, (unsigned long long)entry->workload.id);
        dot_string(out, text);
        fputs("\"];\n", out);
    }
    if (path->n_hops > 0) {
        text[0] = '\0';
        append_reason(text, sizeof text, in, path, &path->hops[0], true);
        fprintf(out, "    p%zu_entry [shape=plaintext, label=\"", index);
        dot_string(out, text);
        fprintf(out, "\"];\n    p%zu_entry -> p%zu_w%llu [style=dashed];\n", index, index,
                (unsigned long long)path->hops[0].workload.id);
    }
    fputs("  }\n", out);
}

/* ---- JSON ---- */

static json_t *services_json(tc_svcmask mask)
{
    json_t *a = json_array();
    for (unsigned s = 0; a && s < TC_SERVICE_COUNT; s++)
        if ((mask >> s) & 1)
            json_array_append_new(a, json_string(tc_service_names[s]));
    return a;
}

static json_t *workload_json(const tc_topology *t, const tc_path_workload *w, uint64_t id)
{
    char name[128];
    tc_topology_workload_name(t, id, name, sizeof name);
    if (!w)
        return json_pack("{s:I, s:s}", "id", (json_int_t)id, "name", name);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)id,
                          "name", name, "tenant", tc_names_get(&t->tenants, w->tenant),
                          "env", tc_env_names[w->env], "app", tc_names_get(&t->apps, w->app),
                          "tier", tc_tier_names[w->tier], "crown", tc_crown_names[w->crown],
                          "segment", tc_names_get(&t->segments, w->segment));
    if (o && w->hop != TC_HOP_NONE)
        json_object_set_new(o, "hop", json_integer(w->hop));
    return o;
}

static json_t *reach_json(const tc_paths_input *in, const tc_path *path,
                          const tc_path_hop *entry)
{
    const tc_topology *t = in->topology;
    const tc_base_rule *rule = &t->base_rules[entry->reach.base_rule];
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "service", json_string(tc_service_names[entry->reach.service]));
    json_object_set_new(o, "base_rule",
                        json_pack("{s:I, s:s, s:s, s:o}", "index",
                                  (json_int_t)entry->reach.base_rule,
                                  "from", tc_names_get(&t->segments, rule->from_segment),
                                  "to", tc_names_get(&t->segments, rule->to_segment),
                                  "services", services_json(rule->services)));
    int64_t k = entry->reach.policy_rule;
    json_t *policy_rule;
    if (k >= 0)
        policy_rule = json_integer(k);
    else
        policy_rule = json_string(k == TC_PATH_RULE_LEGACY    ? "legacy"
                                  : k == TC_PATH_RULE_DEFAULT ? "default"
                                                              : "derived");
    json_object_set_new(o, "policy_rule", policy_rule);
    char text[512] = "";
    append_policy_rule(text, sizeof text, in, path, entry);
    json_object_set_new(o, "policy_rule_text", json_string(text));
    return o;
}

static json_t *principal_json(const tc_paths_input *in, const tc_path *path,
                              const tc_path_hop *entry)
{
    const tc_topology *t = in->topology;
    json_t *chain = json_array();
    for (uint32_t k = 0; chain && k < entry->n_assume_chain; k++)
        json_array_append_new(chain,
                              json_string(tc_names_get(&t->principals, entry->assume_chain[k])));
    return json_pack("{s:s, s:i, s:o, s:o}", "name",
                     tc_names_get(&t->principals, entry->principal), "held_at_hop",
                     (int)in->result->principal_hop[entry->principal], "obtained_from",
                     workload_json(t, find_workload(path, entry->principal_source),
                                   entry->principal_source),
                     "assume_chain", chain);
}

static json_t *reason_json(const tc_paths_input *in, const tc_path *path,
                           const tc_path_hop *entry)
{
    const tc_topology *t = in->topology;
    json_t *o;

    switch (entry->workload.step) {
    case TC_STEP_FOOTHOLD: {
        const char *vector = vector_name(in, entry->vector);
        o = json_object();
        json_object_set_new(o, "package", entry->package == TC_VIA_NONE
                                              ? json_null()
                                              : json_string(tc_names_get(&t->packages,
                                                                         entry->package)));
        json_object_set_new(o, "vector", vector ? json_string(vector) : json_null());
        return o;
    }
    case TC_STEP_NETWORK:
        return reach_json(in, path, entry);
    case TC_STEP_API:
        o = reach_json(in, path, entry);
        json_object_set_new(o, "caller", json_integer((json_int_t)entry->from));
        json_object_set_new(o, "callee", json_integer((json_int_t)entry->workload.id));
        json_object_set_new(o, "trust", json_string(tc_trust_names[entry->trust]));
        return o;
    case TC_STEP_CREDENTIAL:
        o = json_object();
        json_object_set_new(o, "principal", principal_json(in, path, entry));
        json_object_set_new(o, "grant",
                            json_pack("{s:s, s:o}", "gating",
                                      entry->gated ? "network" : "control-plane", "services",
                                      services_json(entry->grant_services)));
        if (entry->gated) {
            json_t *used = reach_json(in, path, entry);
            json_object_set_new(used, "workload",
                                workload_json(t, find_workload(path, entry->used_from),
                                              entry->used_from));
            json_object_set_new(o, "used_from", used);
        }
        return o;
    case TC_STEP_SUPPLY_CHAIN:
        return json_pack("{s:s, s:o}", "package", tc_names_get(&t->packages, entry->package),
                         "published_by", principal_json(in, path, entry));
    default:
        return json_null();
    }
}

json_t *tc_path_to_json(const tc_paths_input *in, const tc_path *path)
{
    const tc_topology *t = in->topology;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "target", workload_json(t, &path->target_workload, path->target));
    json_object_set_new(o, "reached", json_boolean(path->reached));
    if (!path->reached)
        return o;
    json_object_set_new(o, "hop", json_integer(path->n_hops - 1));

    json_t *hops = json_array();
    for (uint32_t h = 0; hops && h < path->n_hops; h++) {
        const tc_path_hop *entry = &path->hops[h];
        json_t *item = json_object();
        json_object_set_new(item, "hop", json_integer(h));
        json_object_set_new(item, "workload", workload_json(t, &entry->workload, entry->workload.id));
        json_object_set_new(item, "step", json_string(tc_step_names[entry->workload.step]));
        json_object_set_new(item, "from", entry->from == TC_PRED_NONE
                                              ? json_null()
                                              : json_integer((json_int_t)entry->from));
        json_object_set_new(item, "reason", reason_json(in, path, entry));
        char text[2048] = "";
        append_reason(text, sizeof text, in, path, entry, false);
        json_object_set_new(item, "text", json_string(text));
        json_array_append_new(hops, item);
    }
    json_object_set_new(o, "hops", hops);
    return o;
}
