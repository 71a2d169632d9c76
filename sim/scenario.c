/* scenario.c - load and check scenario files; see scenario.h, and
 * scenarios/README.md for the schema.
 *
 * The loader reads the whole YAML document first (yaml_doc.h), then walks
 * it section by section in a fixed order: name, seed, topology,
 * smartgroups, vectors, policies, crown_jewels, hops, output. SmartGroups
 * come before policies because rules refer to them. The first error stops
 * the walk, so a file with several errors reports the first one in that
 * order.
 */
#include "scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "selector.h"
#include "yaml_doc.h"

const char *const tc_vector_kind_names[TC_VECTOR_KIND_COUNT] = {
    "package", "cicd", "infra", "internet_facing", "workloads",
};

static const char *const policy_kind_names[] = { "legacy", "rules", "derived" };
static const char *const action_names[] = { "deny", "allow" };

#define HOP_BUDGET_DEFAULT 32u

typedef struct scenario_loader {
    tc_yaml_ctx ctx;
    tc_scenario *s;
    const tc_generator_desc *generators;
    size_t n_generators;
} scenario_loader;

/* ---- helpers ---- */

static int loader_out_of_memory(scenario_loader *ld)
{
    return tc_error_runtime(ld->ctx.err, "%s: out of memory while loading the scenario",
                            ld->ctx.file);
}

static int loader_strdup(scenario_loader *ld, const char *text, char **out)
{
    *out = strdup(text);
    return *out ? TC_OK : loader_out_of_memory(ld);
}

/* Append ", ITEM" (or ITEM first) to the list in BUF of SIZE bytes; a
 * list that no longer fits is cut. */
static void list_append(char *buf, size_t size, size_t *length, const char *item)
{
    if (*length >= size - 1)
        return;
    int n = snprintf(buf + *length, size - *length, "%s%s", *length ? ", " : "", item);
    if (n > 0)
        *length += (size_t)n;
    if (*length > size - 1)
        *length = size - 1;
}

/* Read the string under KEY of MAP into a new copy at *OUT; *OUT stays
 * NULL when the key is absent and not REQUIRED. */
static int read_string_key(scenario_loader *ld, const tc_yaml_node *map, const char *key,
                           bool required, char **out)
{
    const tc_yaml_node *node = tc_yaml_map_find(map, key);
    if (!node) {
        if (!required)
            return TC_OK;
        return tc_yaml_require(&ld->ctx, map, key, &node);
    }
    size_t saved = tc_yaml_path_key(&ld->ctx, key);
    const char *text;
    int rc = tc_yaml_read_string(&ld->ctx, node, &text);
    if (rc == TC_OK)
        rc = loader_strdup(ld, text, out);
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

static int read_enum_key(scenario_loader *ld, const tc_yaml_node *map, const char *key,
                         const char *const *names, int count, const char *what, int *out)
{
    const tc_yaml_node *node;
    int rc = tc_yaml_require(&ld->ctx, map, key, &node);
    if (rc != TC_OK)
        return rc;
    size_t saved = tc_yaml_path_key(&ld->ctx, key);
    rc = tc_yaml_read_enum(&ld->ctx, node, names, count, what, out);
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

/* Reject a key of MAP that is valid somewhere in the section but not for
 * this KIND; ALLOWED lists the keys that apply. */
static int check_keys_for_kind(scenario_loader *ld, const tc_yaml_node *map,
                               const char *kind, const char *const *allowed, size_t n)
{
    for (size_t i = 0; i < map->n; i++) {
        const tc_yaml_node *key = map->pairs[i].key;
        bool applies = false;
        for (size_t j = 0; j < n && !applies; j++)
            applies = strcmp(allowed[j], key->text) == 0;
        if (applies)
            continue;

        char list[256];
        size_t length = 0;
        list[0] = '\0';
        for (size_t j = 0; j < n; j++)
            list_append(list, sizeof list, &length, allowed[j]);
        size_t saved = tc_yaml_path_key(&ld->ctx, key->text);
        int rc = tc_yaml_fail(&ld->ctx, key, "does not apply to kind %s; keys for %s: %s",
                              kind, kind, list);
        tc_yaml_path_restore(&ld->ctx, saved);
        return rc;
    }
    return TC_OK;
}

/* Base name of PATH without a .yaml or .yml extension. */
static char *path_stem(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t length = strlen(base);
    if (length > 5 && strcmp(base + length - 5, ".yaml") == 0)
        length -= 5;
    else if (length > 4 && strcmp(base + length - 4, ".yml") == 0)
        length -= 4;
    return strndup(base, length);
}

/* FILE resolved against the folder of SCENARIO_PATH, unless absolute. */
static char *path_resolve(const char *scenario_path, const char *file)
{
    const char *slash = strrchr(scenario_path, '/');
    if (file[0] == '/' || !slash)
        return strdup(file);
    size_t folder = (size_t)(slash - scenario_path) + 1;
    char *resolved = malloc(folder + strlen(file) + 1);
    if (!resolved)
        return NULL;
    memcpy(resolved, scenario_path, folder);
    strcpy(resolved + folder, file);
    return resolved;
}

/* ---- topology ---- */

static int read_generator_param(scenario_loader *ld, const tc_param_desc *desc,
                                const tc_yaml_node *node, void *params)
{
    char *field = (char *)params + desc->offset;
    switch (desc->type) {
    case TC_PARAM_U64: {
        uint64_t min = desc->min > 0 ? (uint64_t)desc->min : 0;
        uint64_t max = desc->max >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)desc->max;
        uint64_t value;
        int rc = tc_yaml_read_u64(&ld->ctx, node, min, max, &value);
        if (rc == TC_OK)
            memcpy(field, &value, sizeof value);
        return rc;
    }
    case TC_PARAM_DOUBLE: {
        double value;
        int rc = tc_yaml_read_double(&ld->ctx, node, desc->min, desc->max, &value);
        if (rc == TC_OK)
            memcpy(field, &value, sizeof value);
        return rc;
    }
    case TC_PARAM_BOOL: {
        bool value;
        int rc = tc_yaml_read_bool(&ld->ctx, node, &value);
        if (rc == TC_OK)
            memcpy(field, &value, sizeof value);
        return rc;
    }
    }
    return tc_error_runtime(ld->ctx.err, "parameter %s has an unknown type", desc->name);
}

static void apply_param_defaults(const tc_generator_desc *gen, void *params)
{
    for (size_t i = 0; i < gen->n_params; i++) {
        const tc_param_desc *desc = &gen->params[i];
        char *field = (char *)params + desc->offset;
        if (desc->type == TC_PARAM_U64) {
            uint64_t value = (uint64_t)desc->default_value;
            memcpy(field, &value, sizeof value);
        } else if (desc->type == TC_PARAM_DOUBLE) {
            memcpy(field, &desc->default_value, sizeof desc->default_value);
        } else {
            bool value = desc->default_value != 0;
            memcpy(field, &value, sizeof value);
        }
    }
}

static int read_generator(scenario_loader *ld, const tc_yaml_node *topology)
{
    tc_scenario *s = ld->s;
    const tc_yaml_node *name_node = tc_yaml_map_find(topology, "generator");
    size_t saved = tc_yaml_path_key(&ld->ctx, "generator");
    const char *name;
    int rc = tc_yaml_read_string(&ld->ctx, name_node, &name);
    for (size_t i = 0; rc == TC_OK && i < ld->n_generators && !s->generator; i++)
        if (strcmp(ld->generators[i].name, name) == 0)
            s->generator = &ld->generators[i];
    if (rc == TC_OK && !s->generator) {
        char list[256];
        size_t length = 0;
        list[0] = '\0';
        for (size_t i = 0; i < ld->n_generators; i++)
            list_append(list, sizeof list, &length, ld->generators[i].name);
        rc = tc_yaml_fail(&ld->ctx, name_node, "unknown generator \"%s\"; available: %s",
                          name, ld->n_generators ? list : "none");
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    if (rc != TC_OK)
        return rc;

    const tc_generator_desc *gen = s->generator;
    s->generator_params = calloc(1, gen->params_size ? gen->params_size : 1);
    if (!s->generator_params)
        return loader_out_of_memory(ld);
    apply_param_defaults(gen, s->generator_params);

    const tc_yaml_node *params = tc_yaml_map_find(topology, "params");
    if (!params)
        return gen->check ? gen->check(s->generator_params, ld->ctx.file, ld->ctx.err) : TC_OK;

    saved = tc_yaml_path_key(&ld->ctx, "params");
    rc = tc_yaml_expect_mapping(&ld->ctx, params, "a mapping of generator parameters");
    for (size_t i = 0; rc == TC_OK && i < params->n; i++) {
        const tc_yaml_node *key = params->pairs[i].key;
        const tc_param_desc *desc = NULL;
        for (size_t j = 0; j < gen->n_params && !desc; j++)
            if (strcmp(gen->params[j].name, key->text) == 0)
                desc = &gen->params[j];
        if (!desc) {
            const char **names = malloc((gen->n_params ? gen->n_params : 1) * sizeof *names);
            if (!names) {
                rc = loader_out_of_memory(ld);
                break;
            }
            for (size_t j = 0; j < gen->n_params; j++)
                names[j] = gen->params[j].name;
            rc = tc_yaml_check_keys(&ld->ctx, params, names, gen->n_params);
            free(names);
            break;
        }
        size_t key_saved = tc_yaml_path_key(&ld->ctx, key->text);
        rc = read_generator_param(ld, desc, params->pairs[i].value, s->generator_params);
        tc_yaml_path_restore(&ld->ctx, key_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    if (rc != TC_OK)
        return rc;

    return gen->check ? gen->check(s->generator_params, ld->ctx.file, ld->ctx.err) : TC_OK;
}

static int read_explicit(scenario_loader *ld, const tc_yaml_node *topology)
{
    tc_scenario *s = ld->s;
    const tc_yaml_node *node = tc_yaml_map_find(topology, "explicit");
    size_t saved = tc_yaml_path_key(&ld->ctx, "explicit");
    const char *file;
    int rc = tc_yaml_read_string(&ld->ctx, node, &file);
    if (rc == TC_OK) {
        s->explicit_path = path_resolve(s->path, file);
        if (!s->explicit_path)
            rc = loader_out_of_memory(ld);
    }
    struct stat st;
    if (rc == TC_OK && stat(s->explicit_path, &st) != 0)
        rc = tc_yaml_fail(&ld->ctx, node, "cannot open the explicit topology %s: %s",
                          s->explicit_path, strerror(errno));
    else if (rc == TC_OK && !S_ISREG(st.st_mode))
        rc = tc_yaml_fail(&ld->ctx, node, "the explicit topology %s is not a regular file",
                          s->explicit_path);
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

static int read_topology(scenario_loader *ld, const tc_yaml_node *root)
{
    static const char *const keys[] = { "generator", "params", "explicit" };
    const tc_yaml_node *topology;
    int rc = tc_yaml_require(&ld->ctx, root, "topology", &topology);
    if (rc != TC_OK)
        return rc;

    size_t saved = tc_yaml_path_key(&ld->ctx, "topology");
    rc = tc_yaml_expect_mapping(&ld->ctx, topology, "a mapping with generator or explicit");
    if (rc == TC_OK)
        rc = tc_yaml_check_keys(&ld->ctx, topology, keys, 3);
    if (rc != TC_OK)
        goto restore;

    const tc_yaml_node *generator = tc_yaml_map_find(topology, "generator");
    const tc_yaml_node *explicit = tc_yaml_map_find(topology, "explicit");
    const tc_yaml_node *params = tc_yaml_map_find(topology, "params");
    if (generator && explicit) {
        tc_yaml_path_key(&ld->ctx, "explicit");
        rc = tc_yaml_fail(&ld->ctx, tc_yaml_map_find(topology, "explicit"),
                          "give either generator or explicit, not both");
    } else if (!generator && !explicit) {
        rc = tc_yaml_fail(&ld->ctx, topology, "missing key: give generator (a generator "
                          "name) or explicit (a topology file)");
    } else if (explicit && params) {
        tc_yaml_path_key(&ld->ctx, "params");
        rc = tc_yaml_fail(&ld->ctx, params, "params apply only to a generator, not to an "
                          "explicit topology");
    } else if (generator) {
        ld->s->source = TC_TOPOLOGY_GENERATED;
        rc = read_generator(ld, topology);
    } else {
        ld->s->source = TC_TOPOLOGY_EXPLICIT;
        rc = read_explicit(ld, topology);
    }

restore:
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

/* ---- SmartGroups ---- */

static int read_group(scenario_loader *ld, const tc_yaml_node *key, const tc_yaml_node *value,
                      tc_group_spec *group)
{
    group->line = key->line;
    group->column = key->column;

    const char *name;
    int rc = tc_yaml_read_string(&ld->ctx, key, &name);
    if (rc != TC_OK)
        return rc;
    if (strcmp(name, "any") == 0)
        return tc_yaml_fail(&ld->ctx, key, "\"any\" is reserved for rules that match every "
                            "workload; choose another SmartGroup name");
    rc = loader_strdup(ld, name, &group->name);
    if (rc != TC_OK)
        return rc;

    const char *text;
    rc = tc_yaml_read_string(&ld->ctx, value, &text);
    if (rc != TC_OK)
        return rc;
    rc = loader_strdup(ld, text, &group->text);
    if (rc != TC_OK)
        return rc;

    char message[512];
    int column = 0;
    if (tc_selector_parse(text, &group->selector, message, sizeof message, &column) == 0)
        return TC_OK;

    /* Point at the character in the file when the selector is written
     * verbatim on one line. Otherwise point at the scalar, and give the
     * selector's own column in the message. */
    if (value->text_column > 0)
        return tc_yaml_fail_at(&ld->ctx, value->line, value->text_column + column - 1,
                               "invalid selector: %s", message);
    return tc_yaml_fail(&ld->ctx, value, "invalid selector at column %d of the selector: %s",
                        column, message);
}

static int read_smartgroups(scenario_loader *ld, const tc_yaml_node *root)
{
    const tc_yaml_node *groups = tc_yaml_map_find(root, "smartgroups");
    if (!groups)
        return TC_OK;

    size_t saved = tc_yaml_path_key(&ld->ctx, "smartgroups");
    int rc = tc_yaml_expect_mapping(&ld->ctx, groups,
                                    "a mapping of SmartGroup names to selectors");
    if (rc == TC_OK && groups->n > 0) {
        ld->s->groups = calloc(groups->n, sizeof *ld->s->groups);
        if (!ld->s->groups)
            rc = loader_out_of_memory(ld);
    }
    for (size_t i = 0; rc == TC_OK && i < groups->n; i++) {
        const tc_yaml_pair *pair = &groups->pairs[i];
        size_t group_saved = tc_yaml_path_key(&ld->ctx, pair->key->text);
        ld->s->n_groups = i + 1;
        rc = read_group(ld, pair->key, pair->value, &ld->s->groups[i]);
        tc_yaml_path_restore(&ld->ctx, group_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

/* ---- vectors ---- */

static int read_vector_workloads(scenario_loader *ld, const tc_yaml_node *list,
                                 tc_vector_spec *v)
{
    int rc = tc_yaml_expect_sequence(&ld->ctx, list, "a list of workload names or ids");
    if (rc != TC_OK)
        return rc;
    if (list->n == 0)
        return tc_yaml_fail(&ld->ctx, list, "expected at least one workload, found an "
                            "empty list");
    v->workloads = calloc(list->n, sizeof *v->workloads);
    if (!v->workloads)
        return loader_out_of_memory(ld);

    for (size_t i = 0; rc == TC_OK && i < list->n; i++) {
        const tc_yaml_node *item = list->items[i];
        size_t saved = tc_yaml_path_index(&ld->ctx, i);

        /* A plain number is a global id, anything else a name. */
        char id_text[24];
        const char *text = NULL;
        if (item->kind == TC_YAML_SCALAR && item->plain && !item->tag &&
            (item->text[0] == '-' || item->text[0] == '+' ||
             (item->text[0] >= '0' && item->text[0] <= '9'))) {
            size_t digits = strspn(item->text, "0123456789");
            bool numeric = digits == item->length ||
                           (digits == 0 && item->length > 1 &&
                            item->text[1] >= '0' && item->text[1] <= '9');
            if (numeric) {
                uint64_t id = 0;
                rc = tc_yaml_read_u64(&ld->ctx, item, 0, UINT64_MAX, &id);
                snprintf(id_text, sizeof id_text, "%llu", (unsigned long long)id);
                text = id_text;
            }
        }
        if (rc == TC_OK && !text)
            rc = tc_yaml_read_string(&ld->ctx, item, &text);
        for (size_t j = 0; rc == TC_OK && j < v->n_workloads; j++)
            if (strcmp(v->workloads[j], text) == 0)
                rc = tc_yaml_fail(&ld->ctx, item, "workload %s is listed twice", text);
        if (rc == TC_OK)
            rc = loader_strdup(ld, text, &v->workloads[v->n_workloads]);
        if (rc == TC_OK)
            v->n_workloads++;
        tc_yaml_path_restore(&ld->ctx, saved);
    }
    return rc;
}

static int read_vector(scenario_loader *ld, const tc_yaml_node *node, size_t index,
                       tc_vector_spec *v)
{
    static const char *const keys[] = { "name", "kind", "package", "rank", "count", "workloads" };
    static const char *const package_keys[] = { "name", "kind", "package", "rank" };
    static const char *const sample_keys[] = { "name", "kind", "count" };
    static const char *const workload_keys[] = { "name", "kind", "workloads" };

    v->line = node->line;
    v->column = node->column;
    int rc = tc_yaml_expect_mapping(&ld->ctx, node, "a mapping with kind and its keys");
    if (rc == TC_OK)
        rc = tc_yaml_check_keys(&ld->ctx, node, keys, 6);
    int kind = 0;
    if (rc == TC_OK)
        rc = read_enum_key(ld, node, "kind", tc_vector_kind_names, TC_VECTOR_KIND_COUNT,
                           "vector kind", &kind);
    if (rc != TC_OK)
        return rc;
    v->kind = (enum tc_vector_kind)kind;
    const char *kind_name = tc_vector_kind_names[kind];

    rc = read_string_key(ld, node, "name", false, &v->name);
    if (rc == TC_OK && !v->name) {
        char name[64];
        snprintf(name, sizeof name, "%s-%zu", kind_name, index);
        rc = loader_strdup(ld, name, &v->name);
    }
    if (rc != TC_OK)
        return rc;

    if (v->kind == TC_VECTOR_PACKAGE || v->kind == TC_VECTOR_CICD || v->kind == TC_VECTOR_INFRA) {
        rc = check_keys_for_kind(ld, node, kind_name, package_keys, 4);
        const tc_yaml_node *package = tc_yaml_map_find(node, "package");
        const tc_yaml_node *rank = tc_yaml_map_find(node, "rank");
        if (rc == TC_OK && package && rank) {
            tc_yaml_path_key(&ld->ctx, "rank");
            return tc_yaml_fail(&ld->ctx, rank, "give either package (a name) or rank "
                                "(1 = most installed), not both");
        }
        if (rc == TC_OK && !package && !rank)
            return tc_yaml_fail(&ld->ctx, node, "missing key: give package (a package name) "
                                "or rank (1 = the most installed package of kind %s)",
                                kind_name);
        if (rc == TC_OK && package)
            return read_string_key(ld, node, "package", true, &v->package);
        if (rc == TC_OK) {
            uint64_t value;
            size_t saved = tc_yaml_path_key(&ld->ctx, "rank");
            rc = tc_yaml_read_u64(&ld->ctx, rank, 1, UINT32_MAX, &value);
            tc_yaml_path_restore(&ld->ctx, saved);
            v->rank = (uint32_t)value;
        }
        return rc;
    }

    if (v->kind == TC_VECTOR_INTERNET_FACING) {
        rc = check_keys_for_kind(ld, node, kind_name, sample_keys, 3);
        const tc_yaml_node *count;
        if (rc == TC_OK)
            rc = tc_yaml_require(&ld->ctx, node, "count", &count);
        if (rc != TC_OK)
            return rc;
        size_t saved = tc_yaml_path_key(&ld->ctx, "count");
        rc = tc_yaml_read_u64(&ld->ctx, count, 1, UINT64_MAX, &v->count);
        tc_yaml_path_restore(&ld->ctx, saved);
        return rc;
    }

    rc = check_keys_for_kind(ld, node, kind_name, workload_keys, 3);
    const tc_yaml_node *list;
    if (rc == TC_OK)
        rc = tc_yaml_require(&ld->ctx, node, "workloads", &list);
    if (rc != TC_OK)
        return rc;
    size_t saved = tc_yaml_path_key(&ld->ctx, "workloads");
    rc = read_vector_workloads(ld, list, v);
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

static int read_vectors(scenario_loader *ld, const tc_yaml_node *root)
{
    tc_scenario *s = ld->s;
    const tc_yaml_node *vectors;
    int rc = tc_yaml_require(&ld->ctx, root, "vectors", &vectors);
    if (rc != TC_OK)
        return rc;

    size_t saved = tc_yaml_path_key(&ld->ctx, "vectors");
    rc = tc_yaml_expect_sequence(&ld->ctx, vectors, "a list of foothold vectors");
    if (rc == TC_OK && vectors->n == 0)
        rc = tc_yaml_fail(&ld->ctx, vectors, "expected at least one foothold vector, found "
                          "an empty list");
    if (rc == TC_OK) {
        s->vectors = calloc(vectors->n, sizeof *s->vectors);
        if (!s->vectors)
            rc = loader_out_of_memory(ld);
    }
    for (size_t i = 0; rc == TC_OK && i < vectors->n; i++) {
        size_t item_saved = tc_yaml_path_index(&ld->ctx, i);
        s->n_vectors = i + 1;
        rc = read_vector(ld, vectors->items[i], i, &s->vectors[i]);
        for (size_t j = 0; rc == TC_OK && j < i; j++) {
            if (strcmp(s->vectors[j].name, s->vectors[i].name) != 0)
                continue;
            const tc_yaml_node *name = tc_yaml_map_find(vectors->items[i], "name");
            tc_yaml_path_key(&ld->ctx, "name");
            rc = tc_yaml_fail(&ld->ctx, name ? name : vectors->items[i],
                              "duplicate vector name \"%s\" (vectors[%zu] has it); "
                              "vector names label results and must be unique",
                              s->vectors[i].name, j);
        }
        tc_yaml_path_restore(&ld->ctx, item_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

/* ---- policies ---- */

/* Resolve a rule endpoint under KEY: a SmartGroup name or "any". */
static int read_rule_endpoint(scenario_loader *ld, const tc_yaml_node *rule, const char *key,
                              uint32_t *out)
{
    const tc_yaml_node *node;
    int rc = tc_yaml_require(&ld->ctx, rule, key, &node);
    if (rc != TC_OK)
        return rc;

    size_t saved = tc_yaml_path_key(&ld->ctx, key);
    const char *name;
    rc = tc_yaml_read_string(&ld->ctx, node, &name);
    if (rc == TC_OK) {
        *out = TC_GROUP_ANY;
        if (strcmp(name, "any") != 0) {
            const tc_scenario *s = ld->s;
            size_t i = 0;
            while (i < s->n_groups && strcmp(s->groups[i].name, name) != 0)
                i++;
            if (i < s->n_groups) {
                *out = (uint32_t)i;
            } else {
                char list[400];
                size_t length = 0;
                list[0] = '\0';
                for (size_t j = 0; j < s->n_groups; j++)
                    list_append(list, sizeof list, &length, s->groups[j].name);
                rc = tc_yaml_fail(&ld->ctx, node, "undefined SmartGroup \"%s\"; defined "
                                  "under smartgroups: %s (or use any)", name,
                                  s->n_groups ? list : "none");
            }
        }
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

static int read_rule(scenario_loader *ld, const tc_yaml_node *node, tc_rule_spec *rule)
{
    static const char *const keys[] = { "from", "to", "services", "action" };
    rule->line = node->line;
    rule->column = node->column;

    int rc = tc_yaml_expect_mapping(&ld->ctx, node, "a rule mapping with from, to, services "
                                    "and action");
    if (rc == TC_OK)
        rc = tc_yaml_check_keys(&ld->ctx, node, keys, 4);
    if (rc == TC_OK)
        rc = read_rule_endpoint(ld, node, "from", &rule->from);
    if (rc == TC_OK)
        rc = read_rule_endpoint(ld, node, "to", &rule->to);

    const tc_yaml_node *services;
    if (rc == TC_OK)
        rc = tc_yaml_require(&ld->ctx, node, "services", &services);
    if (rc == TC_OK) {
        size_t saved = tc_yaml_path_key(&ld->ctx, "services");
        rc = tc_yaml_read_name_mask(&ld->ctx, services, tc_service_names, TC_SERVICE_COUNT,
                                    "service", TC_SERVICE_ALL, &rule->services);
        tc_yaml_path_restore(&ld->ctx, saved);
    }

    int action = 0;
    if (rc == TC_OK)
        rc = read_enum_key(ld, node, "action", action_names, 2, "action", &action);
    rule->allow = action == 1;
    return rc;
}

static int read_rules(scenario_loader *ld, const tc_yaml_node *policy, tc_policy_spec *p)
{
    static const char *const keys[] = { "name", "kind", "default", "rules" };
    int rc = check_keys_for_kind(ld, policy, "rules", keys, 4);
    if (rc != TC_OK)
        return rc;

    p->default_allow = false;
    const tc_yaml_node *action = tc_yaml_map_find(policy, "default");
    if (action) {
        int value = 0;
        rc = read_enum_key(ld, policy, "default", action_names, 2, "default action", &value);
        p->default_allow = value == 1;
        if (rc != TC_OK)
            return rc;
    }

    const tc_yaml_node *rules;
    rc = tc_yaml_require(&ld->ctx, policy, "rules", &rules);
    if (rc != TC_OK)
        return rc;
    size_t saved = tc_yaml_path_key(&ld->ctx, "rules");
    rc = tc_yaml_expect_sequence(&ld->ctx, rules, "a list of rules ([] for the default "
                                 "action alone)");
    if (rc == TC_OK && rules->n > 0) {
        p->rules = calloc(rules->n, sizeof *p->rules);
        if (!p->rules)
            rc = loader_out_of_memory(ld);
    }
    for (size_t i = 0; rc == TC_OK && i < rules->n; i++) {
        size_t rule_saved = tc_yaml_path_index(&ld->ctx, i);
        p->n_rules = i + 1;
        rc = read_rule(ld, rules->items[i], &p->rules[i]);
        tc_yaml_path_restore(&ld->ctx, rule_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

static int read_derived(scenario_loader *ld, const tc_yaml_node *policy, tc_policy_spec *p)
{
    static const char *const keys[] = { "name", "kind", "granularity" };
    int rc = check_keys_for_kind(ld, policy, "derived", keys, 3);
    const tc_yaml_node *granularity;
    if (rc == TC_OK)
        rc = tc_yaml_require(&ld->ctx, policy, "granularity", &granularity);
    if (rc != TC_OK)
        return rc;

    p->default_allow = false;
    size_t saved = tc_yaml_path_key(&ld->ctx, "granularity");
    rc = tc_yaml_read_enum_list(&ld->ctx, granularity, tc_attr_names, TC_ATTR_COUNT,
                                "attribute", p->granularity, &p->n_granularity);
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

static int read_policy(scenario_loader *ld, const tc_yaml_node *node, tc_policy_spec *p)
{
    static const char *const keys[] = { "name", "kind", "default", "rules", "granularity" };
    static const char *const legacy_keys[] = { "name", "kind" };

    p->line = node->line;
    p->column = node->column;
    int rc = tc_yaml_expect_mapping(&ld->ctx, node, "a policy mapping with name and kind");
    if (rc == TC_OK)
        rc = tc_yaml_check_keys(&ld->ctx, node, keys, 5);
    if (rc == TC_OK)
        rc = read_string_key(ld, node, "name", true, &p->name);
    int kind = 0;
    if (rc == TC_OK)
        rc = read_enum_key(ld, node, "kind", policy_kind_names, 3, "policy kind", &kind);
    if (rc != TC_OK)
        return rc;
    p->kind = (enum tc_policy_kind)kind;

    switch (p->kind) {
    case TC_POLICY_LEGACY:
        p->default_allow = true;
        return check_keys_for_kind(ld, node, "legacy", legacy_keys, 2);
    case TC_POLICY_RULES:
        return read_rules(ld, node, p);
    case TC_POLICY_DERIVED:
        return read_derived(ld, node, p);
    }
    return TC_OK;
}

static int read_policies(scenario_loader *ld, const tc_yaml_node *root)
{
    tc_scenario *s = ld->s;
    const tc_yaml_node *policies;
    int rc = tc_yaml_require(&ld->ctx, root, "policies", &policies);
    if (rc != TC_OK)
        return rc;

    size_t saved = tc_yaml_path_key(&ld->ctx, "policies");
    rc = tc_yaml_expect_sequence(&ld->ctx, policies, "a list of policies");
    if (rc == TC_OK && policies->n == 0)
        rc = tc_yaml_fail(&ld->ctx, policies, "expected at least one policy, found an empty "
                          "list");
    if (rc == TC_OK) {
        s->policies = calloc(policies->n, sizeof *s->policies);
        if (!s->policies)
            rc = loader_out_of_memory(ld);
    }
    for (size_t i = 0; rc == TC_OK && i < policies->n; i++) {
        size_t item_saved = tc_yaml_path_index(&ld->ctx, i);
        s->n_policies = i + 1;
        rc = read_policy(ld, policies->items[i], &s->policies[i]);
        for (size_t j = 0; rc == TC_OK && j < i; j++) {
            if (strcmp(s->policies[j].name, s->policies[i].name) != 0)
                continue;
            tc_yaml_path_key(&ld->ctx, "name");
            rc = tc_yaml_fail(&ld->ctx, tc_yaml_map_find(policies->items[i], "name"),
                              "duplicate policy name \"%s\" (policies[%zu] has it)",
                              s->policies[i].name, j);
        }
        tc_yaml_path_restore(&ld->ctx, item_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

/* ---- small sections ---- */

static int read_crown_jewels(scenario_loader *ld, const tc_yaml_node *root)
{
    const tc_yaml_node *node = tc_yaml_map_find(root, "crown_jewels");
    if (!node) {
        for (int k = TC_CROWN_NONE + 1; k < TC_CROWN_COUNT; k++)
            ld->s->crown_kinds |= (uint8_t)(1u << k);
        return TC_OK;
    }

    /* "none" is not a crown-jewel kind, so the vocabulary starts after it. */
    uint8_t kinds[TC_CROWN_COUNT];
    size_t n = 0;
    size_t saved = tc_yaml_path_key(&ld->ctx, "crown_jewels");
    int rc = tc_yaml_read_enum_list(&ld->ctx, node, tc_crown_names + 1, TC_CROWN_COUNT - 1,
                                    "crown-jewel kind", kinds, &n);
    tc_yaml_path_restore(&ld->ctx, saved);
    for (size_t i = 0; rc == TC_OK && i < n; i++)
        ld->s->crown_kinds |= (uint8_t)(1u << (kinds[i] + 1));
    return rc;
}

static int read_hops(scenario_loader *ld, const tc_yaml_node *root)
{
    ld->s->hop_budget = HOP_BUDGET_DEFAULT;
    const tc_yaml_node *node = tc_yaml_map_find(root, "hops");
    if (!node)
        return TC_OK;
    uint64_t hops = HOP_BUDGET_DEFAULT;
    size_t saved = tc_yaml_path_key(&ld->ctx, "hops");
    int rc = tc_yaml_read_u64(&ld->ctx, node, 1, TC_HOP_BUDGET_MAX, &hops);
    tc_yaml_path_restore(&ld->ctx, saved);
    ld->s->hop_budget = (uint32_t)hops;
    return rc;
}

static int read_output(scenario_loader *ld, const tc_yaml_node *root)
{
    static const char *const keys[] = { "json", "per_tenant" };
    const tc_yaml_node *output = tc_yaml_map_find(root, "output");
    if (!output)
        return TC_OK;

    size_t saved = tc_yaml_path_key(&ld->ctx, "output");
    int rc = tc_yaml_expect_mapping(&ld->ctx, output, "a mapping with json and per_tenant");
    if (rc == TC_OK)
        rc = tc_yaml_check_keys(&ld->ctx, output, keys, 2);
    if (rc == TC_OK)
        rc = read_string_key(ld, output, "json", false, &ld->s->output_json);
    const tc_yaml_node *per_tenant = tc_yaml_map_find(output, "per_tenant");
    if (rc == TC_OK && per_tenant) {
        tc_yaml_path_key(&ld->ctx, "per_tenant");
        rc = tc_yaml_read_bool(&ld->ctx, per_tenant, &ld->s->output_per_tenant);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

static int read_scenario(scenario_loader *ld, const tc_yaml_node *root)
{
    static const char *const keys[] = {
        "name", "seed", "topology", "vectors", "smartgroups", "policies",
        "crown_jewels", "hops", "output",
    };
    tc_scenario *s = ld->s;

    if (!root)
        return tc_yaml_fail(&ld->ctx, NULL, "empty scenario: the file holds no YAML; "
                            "a scenario needs at least seed, topology, vectors and policies");
    int rc = tc_yaml_expect_mapping(&ld->ctx, root, "a mapping of scenario keys (seed, "
                                    "topology, vectors, policies ...)");
    if (rc == TC_OK)
        rc = tc_yaml_check_keys(&ld->ctx, root, keys, sizeof keys / sizeof *keys);
    if (rc == TC_OK)
        rc = read_string_key(ld, root, "name", false, &s->name);
    if (rc == TC_OK && !s->name) {
        s->name = path_stem(s->path);
        if (!s->name)
            rc = loader_out_of_memory(ld);
    }

    const tc_yaml_node *seed;
    if (rc == TC_OK)
        rc = tc_yaml_require(&ld->ctx, root, "seed", &seed);
    if (rc == TC_OK) {
        size_t saved = tc_yaml_path_key(&ld->ctx, "seed");
        rc = tc_yaml_read_u64(&ld->ctx, seed, 0, UINT64_MAX, &s->seed);
        tc_yaml_path_restore(&ld->ctx, saved);
    }

    if (rc == TC_OK)
        rc = read_topology(ld, root);
    if (rc == TC_OK)
        rc = read_smartgroups(ld, root);
    if (rc == TC_OK)
        rc = read_vectors(ld, root);
    if (rc == TC_OK)
        rc = read_policies(ld, root);
    if (rc == TC_OK)
        rc = read_crown_jewels(ld, root);
    if (rc == TC_OK)
        rc = read_hops(ld, root);
    if (rc == TC_OK)
        rc = read_output(ld, root);
    return rc;
}

/* ---- API ---- */

int tc_scenario_load(const char *path, const tc_generator_desc *generators,
                     size_t n_generators, tc_scenario **out, tc_error *err)
{
    *out = NULL;
    tc_yaml_doc *doc = NULL;
    int rc = tc_yaml_load(path, &doc, err);
    if (rc != TC_OK)
        return rc;

    scenario_loader ld;
    ld.generators = generators;
    ld.n_generators = n_generators;
    ld.s = calloc(1, sizeof *ld.s);
    if (!ld.s) {
        rc = tc_error_runtime(err, "%s: out of memory while loading the scenario", path);
        goto free_doc;
    }
    ld.s->path = strdup(path);
    if (!ld.s->path) {
        rc = tc_error_runtime(err, "%s: out of memory while loading the scenario", path);
        goto free_scenario;
    }
    tc_yaml_ctx_init(&ld.ctx, ld.s->path, err);

    rc = read_scenario(&ld, doc->root);
    if (rc == TC_OK) {
        *out = ld.s;
        goto free_doc;
    }

free_scenario:
    tc_scenario_free(ld.s);
free_doc:
    tc_yaml_free(doc);
    return rc;
}

void tc_scenario_free(tc_scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_vectors; i++) {
        tc_vector_spec *v = &s->vectors[i];
        free(v->name);
        free(v->package);
        for (size_t j = 0; j < v->n_workloads; j++)
            free(v->workloads[j]);
        free(v->workloads);
    }
    free(s->vectors);
    for (size_t i = 0; i < s->n_groups; i++) {
        free(s->groups[i].name);
        free(s->groups[i].text);
        tc_selector_free(s->groups[i].selector);
    }
    free(s->groups);
    for (size_t i = 0; i < s->n_policies; i++) {
        free(s->policies[i].name);
        free(s->policies[i].rules);
    }
    free(s->policies);
    free(s->generator_params);
    free(s->explicit_path);
    free(s->output_json);
    free(s->name);
    free(s->path);
    free(s);
}
