/* explicit.c - load explicit topologies; see explicit.h, and
 * docs/explicit-topology.md for the format.
 *
 * Loading has two phases, so that no rank enters a collective that another
 * rank skipped:
 *  1. Plan (local, identical on every rank): read the YAML, check every key
 *     and reference, and resolve names to ids in name tables of our own.
 *     Ids are given in the order the builder will give them, so the plan's
 *     ids are the topology's ids. The ranks agree on the outcome.
 *  2. Build (collective): tc_topology_create, the same hub calls on every
 *     rank, per-workload calls for owned workloads only, an agreement on
 *     failure, then tc_topology_finish.
 * The file is checked in this order: top-level keys, segments, packages,
 * principal names, workload names, defaults, workloads, the rest of each
 * principal (assumes, publishes, grants), base rules, API edges.
 */
#include "explicit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "yaml_doc.h"

/* ---- types ---- */

/* Workload attribute keys, also accepted under "defaults". */
enum field {
    F_TENANT, F_ACCOUNT, F_VPC, F_SUBNET, F_SEGMENT, F_ENV, F_APP, F_TIER,
    F_INTERNET_FACING, F_EXPOSED, F_EXPLOITABLE, F_CROWN, F_PRINCIPAL, F_PACKAGES,
    F_COUNT
};

static const char *const field_names[F_COUNT] = {
    "tenant", "account", "vpc", "subnet", "segment", "env", "app", "tier",
    "internet_facing", "exposed", "exploitable", "crown", "principal", "packages",
};

/* Fields without a built-in default, which must come from the workload or
 * from "defaults". The others default to false, [], [], none and []. */
static const bool field_required[F_COUNT] = {
    [F_TENANT] = true, [F_ACCOUNT] = true, [F_VPC] = true, [F_SUBNET] = true,
    [F_SEGMENT] = true, [F_ENV] = true, [F_APP] = true, [F_TIER] = true,
    [F_PRINCIPAL] = true,
};

static const char *const gating_names[] = { "control-plane", "network" };

typedef struct planned_grant {
    uint32_t principal;
    uint64_t target;
    tc_svcmask services;
    bool gated;
} planned_grant;

typedef struct planned_edge {
    uint64_t from, to;
    uint8_t service, trust;
    size_t index;              /* position in api_edges, for messages */
} planned_edge;

typedef struct planned_pair {
    uint32_t from, to;
} planned_pair;

/* Everything the builder needs, resolved to ids. */
typedef struct explicit_plan {
    tc_names segments, packages, principals, workloads;
    tc_names tenants, accounts, vpcs, subnets, apps;
    uint8_t *package_kind;     /* per package */

    /* Hierarchy checks: the tenant of each account and the vpc of each
     * subnet, with the workload that first placed it there. */
    uint32_t *account_tenant, *subnet_vpc;
    size_t *account_first, *subnet_first;

    tc_base_rule *base_rules;
    size_t n_base_rules;
    planned_pair *assumes, *publishes;
    size_t n_assumes, n_publishes;
    planned_grant *grants;
    size_t n_grants;
    planned_edge *edges;
    size_t n_edges;

    tc_workload_spec *specs;   /* per workload */
    uint64_t *install_offsets; /* per workload + 1 */
    uint32_t *installs;
    size_t n_installs;
} explicit_plan;

typedef struct explicit_loader {
    tc_yaml_ctx ctx;
    explicit_plan *plan;
    const tc_yaml_node *root;
    const tc_yaml_node *defaults; /* mapping, or NULL */
} explicit_loader;

/* ---- helpers ---- */

static int loader_out_of_memory(explicit_loader *ld)
{
    return tc_error_runtime(ld->ctx.err, "%s: out of memory while loading the topology",
                            ld->ctx.file);
}

/* Make room for NEED entries of SIZE bytes in *ARRAY (capacity *CAPACITY). */
static int grow(explicit_loader *ld, void **array, size_t *capacity, size_t need, size_t size)
{
    if (need <= *capacity)
        return TC_OK;
    size_t grown = *capacity ? *capacity * 2 : 16;
    while (grown < need)
        grown *= 2;
    void *p = realloc(*array, grown * size);
    if (!p)
        return loader_out_of_memory(ld);
    *array = p;
    *capacity = grown;
    return TC_OK;
}

/* The first item before UPTO in LIST whose name is NAME: the item itself
 * when it is a scalar, or its "name" when it is a mapping. NULL if none. */
static const tc_yaml_node *find_earlier(const tc_yaml_node *list, size_t upto, const char *name)
{
    for (size_t i = 0; i < upto; i++) {
        const tc_yaml_node *item = list->items[i];
        if (item->kind == TC_YAML_MAPPING)
            item = tc_yaml_map_find(item, "name");
        if (item && item->kind == TC_YAML_SCALAR && strcmp(item->text, name) == 0)
            return item;
    }
    return NULL;
}

/* Read the name at NODE (item INDEX of LIST) and add it to TABLE as id
 * INDEX's name; a name already present is a duplicate. */
static int read_new_name(explicit_loader *ld, const tc_yaml_node *node, const tc_yaml_node *list,
                         size_t index, tc_names *table, const char *what)
{
    const char *name;
    int rc = tc_yaml_read_string(&ld->ctx, node, &name);
    if (rc != TC_OK)
        return rc;
    int added = 0;
    if (tc_names_intern(table, name, &added) == TC_NAME_NONE)
        return loader_out_of_memory(ld);
    if (added)
        return TC_OK;
    const tc_yaml_node *first = find_earlier(list, index, name);
    return tc_yaml_fail(&ld->ctx, node, "duplicate %s name \"%s\" (first defined at line %ld, "
                        "column %ld)", what, name, first ? (long)first->line : 0L,
                        first ? (long)first->column : 0L);
}

/* Resolve the name at NODE in TABLE. SECTION is where such names are
 * defined, for the message. */
static int read_reference(tc_yaml_ctx *ctx, const tc_yaml_node *node,
                          const tc_names *table, const char *what, const char *section,
                          uint32_t *out)
{
    const char *name;
    int rc = tc_yaml_read_string(ctx, node, &name);
    if (rc != TC_OK)
        return rc;
    *out = tc_names_find(table, name);
    if (*out != TC_NAME_NONE)
        return TC_OK;
    return tc_yaml_fail(ctx, node, "undefined %s \"%s\"; define it under %s", what, name,
                        section);
}

/* Reference under KEY of MAP (required). */
static int read_reference_key(explicit_loader *ld, const tc_yaml_node *map, const char *key,
                              const tc_names *table, const char *what, const char *section,
                              uint32_t *out)
{
    const tc_yaml_node *node;
    int rc = tc_yaml_require(&ld->ctx, map, key, &node);
    if (rc != TC_OK)
        return rc;
    size_t saved = tc_yaml_path_key(&ld->ctx, key);
    rc = read_reference(&ld->ctx, node, table, what, section, out);
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

/* Append a list of distinct references from TABLE as (OWNER, id) pairs
 * to *PAIRS. SELF, when not TC_NAME_NONE, may not be listed, and VERB
 * ("assume") names the relation in that message. */
static int read_reference_list(explicit_loader *ld, const tc_yaml_node *list,
                               const tc_names *table, const char *what, const char *section,
                               uint32_t owner, uint32_t self, const char *verb,
                               planned_pair **pairs, size_t *n, size_t *capacity)
{
    int rc = tc_yaml_expect_sequence(&ld->ctx, list, "a list of names");
    size_t start = *n;
    for (size_t i = 0; rc == TC_OK && i < list->n; i++) {
        size_t saved = tc_yaml_path_index(&ld->ctx, i);
        uint32_t id;
        rc = read_reference(&ld->ctx, list->items[i], table, what, section, &id);
        if (rc == TC_OK && id == self)
            rc = tc_yaml_fail(&ld->ctx, list->items[i], "a %s cannot %s itself", what, verb);
        for (size_t j = start; rc == TC_OK && j < *n; j++)
            if ((*pairs)[j].to == id)
                rc = tc_yaml_fail(&ld->ctx, list->items[i], "%s \"%s\" is listed twice", what,
                                  list->items[i]->text);
        if (rc == TC_OK)
            rc = grow(ld, (void **)pairs, capacity, *n + 1, sizeof **pairs);
        if (rc == TC_OK)
            (*pairs)[(*n)++] = (planned_pair){ owner, id };
        tc_yaml_path_restore(&ld->ctx, saved);
    }
    return rc;
}

/* The list under KEY of the root: a sequence, non-empty when REQUIRED.
 * *OUT is NULL when the key is absent and optional. */
static int section_list(explicit_loader *ld, const char *key, bool required, const char *what,
                        const tc_yaml_node **out)
{
    *out = tc_yaml_map_find(ld->root, key);
    if (!*out) {
        if (!required)
            return TC_OK;
        return tc_yaml_require(&ld->ctx, ld->root, key, out);
    }
    size_t saved = tc_yaml_path_key(&ld->ctx, key);
    char expected[96];
    snprintf(expected, sizeof expected, "a list of %s", what);
    int rc = tc_yaml_expect_sequence(&ld->ctx, *out, expected);
    if (rc == TC_OK && required && (*out)->n == 0)
        rc = tc_yaml_fail(&ld->ctx, *out, "expected at least one entry in %s, found an empty "
                          "list", key);
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

/* ---- segments, packages, principal and workload names ---- */

static int plan_segments(explicit_loader *ld)
{
    const tc_yaml_node *list;
    int rc = section_list(ld, "segments", true, "segment names", &list);
    if (rc != TC_OK)
        return rc;
    size_t saved = tc_yaml_path_key(&ld->ctx, "segments");
    for (size_t i = 0; rc == TC_OK && i < list->n; i++) {
        size_t item_saved = tc_yaml_path_index(&ld->ctx, i);
        rc = read_new_name(ld, list->items[i], list, i, &ld->plan->segments, "segment");
        tc_yaml_path_restore(&ld->ctx, item_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

static int plan_packages(explicit_loader *ld)
{
    static const char *const keys[] = { "name", "kind" };
    explicit_plan *plan = ld->plan;
    const tc_yaml_node *list;
    int rc = section_list(ld, "packages", false, "packages", &list);
    if (rc != TC_OK || !list)
        return rc;

    plan->package_kind = malloc(list->n ? list->n : 1);
    if (!plan->package_kind)
        return loader_out_of_memory(ld);
    size_t saved = tc_yaml_path_key(&ld->ctx, "packages");
    for (size_t i = 0; rc == TC_OK && i < list->n; i++) {
        const tc_yaml_node *item = list->items[i];
        size_t item_saved = tc_yaml_path_index(&ld->ctx, i);
        rc = tc_yaml_expect_mapping(&ld->ctx, item, "a package mapping with name and kind");
        if (rc == TC_OK)
            rc = tc_yaml_check_keys(&ld->ctx, item, keys, 2);
        const tc_yaml_node *node;
        if (rc == TC_OK)
            rc = tc_yaml_require(&ld->ctx, item, "name", &node);
        if (rc == TC_OK) {
            size_t key_saved = tc_yaml_path_key(&ld->ctx, "name");
            rc = read_new_name(ld, node, list, i, &plan->packages, "package");
            tc_yaml_path_restore(&ld->ctx, key_saved);
        }
        if (rc == TC_OK)
            rc = tc_yaml_require(&ld->ctx, item, "kind", &node);
        if (rc == TC_OK) {
            int kind = 0;
            tc_yaml_path_key(&ld->ctx, "kind");
            rc = tc_yaml_read_enum(&ld->ctx, node, tc_package_kind_names, TC_PKG_KIND_COUNT,
                                   "package kind", &kind);
            plan->package_kind[i] = (uint8_t)kind;
        }
        tc_yaml_path_restore(&ld->ctx, item_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

static int plan_principal_names(explicit_loader *ld, const tc_yaml_node *list)
{
    static const char *const keys[] = { "name", "assumes", "publishes", "grants" };
    size_t saved = tc_yaml_path_key(&ld->ctx, "principals");
    int rc = TC_OK;
    for (size_t i = 0; rc == TC_OK && i < list->n; i++) {
        const tc_yaml_node *item = list->items[i];
        size_t item_saved = tc_yaml_path_index(&ld->ctx, i);
        rc = tc_yaml_expect_mapping(&ld->ctx, item, "a principal mapping with name");
        if (rc == TC_OK)
            rc = tc_yaml_check_keys(&ld->ctx, item, keys, 4);
        const tc_yaml_node *name;
        if (rc == TC_OK)
            rc = tc_yaml_require(&ld->ctx, item, "name", &name);
        if (rc == TC_OK) {
            tc_yaml_path_key(&ld->ctx, "name");
            rc = read_new_name(ld, name, list, i, &ld->plan->principals, "principal");
        }
        tc_yaml_path_restore(&ld->ctx, item_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

static int plan_workload_names(explicit_loader *ld, const tc_yaml_node *list)
{
    size_t saved = tc_yaml_path_key(&ld->ctx, "workloads");
    int rc = TC_OK;
    for (size_t i = 0; rc == TC_OK && i < list->n; i++) {
        const tc_yaml_node *item = list->items[i];
        size_t item_saved = tc_yaml_path_index(&ld->ctx, i);
        rc = tc_yaml_expect_mapping(&ld->ctx, item, "a workload mapping with name and "
                                    "attributes");
        const tc_yaml_node *name;
        if (rc == TC_OK)
            rc = tc_yaml_require(&ld->ctx, item, "name", &name);
        if (rc == TC_OK) {
            tc_yaml_path_key(&ld->ctx, "name");
            /* Scenario vectors read a plain number as a global id, so a
             * name made of digits alone would be ambiguous. */
            if (name->kind == TC_YAML_SCALAR && name->length > 0 &&
                strspn(name->text, "0123456789") == name->length)
                rc = tc_yaml_fail(&ld->ctx, name, "a workload name must not be a plain "
                                  "number, because scenarios read numbers as workload ids; "
                                  "add a letter");
            else
                rc = read_new_name(ld, name, list, i, &ld->plan->workloads, "workload");
        }
        tc_yaml_path_restore(&ld->ctx, item_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

/* ---- workloads ---- */

/* One workload's attributes as read, before they are stored. */
typedef struct workload_fields {
    const tc_yaml_node *node[F_COUNT];
    bool from_defaults[F_COUNT];
    tc_workload_spec spec;
    uint32_t *packages;        /* scratch of plan->packages.count entries */
    size_t n_packages;
} workload_fields;

/* Read field K of F from NODE under CTX. Named attributes are interned
 * only when INTERN, so that defaults no workload uses create no names. */
static int read_field(explicit_loader *ld, tc_yaml_ctx *ctx, int k, const tc_yaml_node *node,
                      bool intern, workload_fields *f)
{
    explicit_plan *plan = ld->plan;
    tc_workload_spec *spec = &f->spec;
    tc_names *tables[] = {
        [F_TENANT] = &plan->tenants, [F_ACCOUNT] = &plan->accounts, [F_VPC] = &plan->vpcs,
        [F_SUBNET] = &plan->subnets, [F_APP] = &plan->apps,
    };
    uint32_t *named[] = {
        [F_TENANT] = &spec->tenant, [F_ACCOUNT] = &spec->account, [F_VPC] = &spec->vpc,
        [F_SUBNET] = &spec->subnet, [F_APP] = &spec->app,
    };
    int value = 0;
    int rc = TC_OK;

    switch (k) {
    case F_TENANT:
    case F_ACCOUNT:
    case F_VPC:
    case F_SUBNET:
    case F_APP: {
        const char *name;
        rc = tc_yaml_read_string(ctx, node, &name);
        if (rc == TC_OK && intern) {
            *named[k] = tc_names_intern(tables[k], name, NULL);
            if (*named[k] == TC_NAME_NONE)
                rc = loader_out_of_memory(ld);
        }
        return rc;
    }
    case F_SEGMENT:
        return read_reference(ctx, node, &plan->segments, "segment", "segments",
                              &spec->segment);
    case F_PRINCIPAL:
        return read_reference(ctx, node, &plan->principals, "principal", "principals",
                              &spec->principal);
    case F_ENV:
        rc = tc_yaml_read_enum(ctx, node, tc_env_names, TC_ENV_COUNT, "env", &value);
        spec->env = (uint8_t)value;
        return rc;
    case F_TIER:
        rc = tc_yaml_read_enum(ctx, node, tc_tier_names, TC_TIER_COUNT, "tier", &value);
        spec->tier = (uint8_t)value;
        return rc;
    case F_CROWN:
        rc = tc_yaml_read_enum(ctx, node, tc_crown_names, TC_CROWN_COUNT, "crown kind", &value);
        spec->crown = (uint8_t)value;
        return rc;
    case F_INTERNET_FACING:
        return tc_yaml_read_bool(ctx, node, &spec->internet_facing);
    case F_EXPOSED:
    case F_EXPLOITABLE:
        /* An empty list is allowed here: a workload may expose nothing. */
        if (node->kind == TC_YAML_SEQUENCE && node->n == 0) {
            *(k == F_EXPOSED ? &spec->exposed : &spec->exploitable) = 0;
            return TC_OK;
        }
        return tc_yaml_read_name_mask(ctx, node, tc_service_names, TC_SERVICE_COUNT, "service",
                                      0, k == F_EXPOSED ? &spec->exposed : &spec->exploitable);
    case F_PACKAGES:
        rc = tc_yaml_expect_sequence(ctx, node, "a list of package names");
        f->n_packages = 0;
        for (size_t i = 0; rc == TC_OK && i < node->n; i++) {
            size_t saved = tc_yaml_path_index(ctx, i);
            uint32_t id;
            rc = read_reference(ctx, node->items[i], &plan->packages, "package",
                                "packages", &id);
            for (size_t j = 0; rc == TC_OK && j < f->n_packages; j++)
                if (f->packages[j] == id)
                    rc = tc_yaml_fail(ctx, node->items[i], "package \"%s\" is listed twice",
                                      node->items[i]->text);
            if (rc == TC_OK)
                f->packages[f->n_packages++] = id;
            tc_yaml_path_restore(ctx, saved);
        }
        return rc;
    }
    return TC_OK;
}

/* Read every field present in F->node, each under its own key path. */
static int read_fields(explicit_loader *ld, tc_yaml_ctx *defaults_ctx, bool intern,
                       workload_fields *f)
{
    for (int k = 0; k < F_COUNT; k++) {
        if (!f->node[k])
            continue;
        tc_yaml_ctx *ctx = f->from_defaults[k] ? defaults_ctx : &ld->ctx;
        size_t saved = tc_yaml_path_key(ctx, field_names[k]);
        int rc = read_field(ld, ctx, k, f->node[k], intern, f);
        tc_yaml_path_restore(ctx, saved);
        if (rc != TC_OK)
            return rc;
    }

    /* A service can only be exploited where it listens. */
    tc_svcmask extra = f->spec.exploitable & ~f->spec.exposed;
    if (extra && f->node[F_EXPLOITABLE]) {
        const tc_yaml_node *list = f->node[F_EXPLOITABLE];
        tc_yaml_ctx *ctx = f->from_defaults[F_EXPLOITABLE] ? defaults_ctx : &ld->ctx;
        for (size_t i = 0; i < list->n; i++) {
            int s = tc_service_find(list->items[i]->text);
            if (s < 0 || !(extra & ((tc_svcmask)1 << s)))
                continue;
            size_t saved = tc_yaml_path_key(ctx, field_names[F_EXPLOITABLE]);
            tc_yaml_path_index(ctx, i);
            int rc = tc_yaml_fail(ctx, list->items[i], "service \"%s\" is exploitable but not "
                                  "exposed; exploitable services must also be listed under "
                                  "exposed", list->items[i]->text);
            tc_yaml_path_restore(ctx, saved);
            return rc;
        }
    }
    return TC_OK;
}

static int plan_defaults(explicit_loader *ld, tc_yaml_ctx *defaults_ctx, workload_fields *f)
{
    ld->defaults = tc_yaml_map_find(ld->root, "defaults");
    if (!ld->defaults)
        return TC_OK;
    int rc = tc_yaml_expect_mapping(defaults_ctx, ld->defaults,
                                    "a mapping of workload attributes");
    if (rc == TC_OK)
        rc = tc_yaml_check_keys(defaults_ctx, ld->defaults, field_names, F_COUNT);
    if (rc != TC_OK)
        return rc;

    memset(f->node, 0, sizeof f->node);
    for (int k = 0; k < F_COUNT; k++) {
        f->node[k] = tc_yaml_map_find(ld->defaults, field_names[k]);
        f->from_defaults[k] = true;
    }
    return read_fields(ld, defaults_ctx, false, f);
}

/* Check that the account of workload I lies in one tenant and its subnet
 * in one vpc, across the whole file. */
static int check_hierarchy(explicit_loader *ld, size_t i, const workload_fields *f,
                           tc_yaml_ctx *defaults_ctx)
{
    explicit_plan *plan = ld->plan;
    struct {
        int child_field, parent_field;
        uint32_t child, parent;
        uint32_t *parent_of;
        size_t *first;
        const tc_names *children, *parents;
        const char *child_what, *parent_what;
    } checks[] = {
        { F_ACCOUNT, F_TENANT, f->spec.account, f->spec.tenant, plan->account_tenant,
          plan->account_first, &plan->accounts, &plan->tenants, "account", "tenant" },
        { F_SUBNET, F_VPC, f->spec.subnet, f->spec.vpc, plan->subnet_vpc, plan->subnet_first,
          &plan->subnets, &plan->vpcs, "subnet", "vpc" },
    };

    for (size_t c = 0; c < sizeof checks / sizeof *checks; c++) {
        uint32_t *parent = &checks[c].parent_of[checks[c].child];
        if (*parent == TC_NAME_NONE) {
            *parent = checks[c].parent;
            checks[c].first[checks[c].child] = i;
            continue;
        }
        if (*parent == checks[c].parent)
            continue;
        int k = checks[c].parent_field;
        tc_yaml_ctx *ctx = f->from_defaults[k] ? defaults_ctx : &ld->ctx;
        size_t saved = tc_yaml_path_key(ctx, field_names[k]);
        int rc = tc_yaml_fail(ctx, f->node[k], "%s \"%s\" is in %s \"%s\" (workloads[%zu]), so "
                              "it cannot also be in %s \"%s\"; give the %s a distinct name",
                              checks[c].child_what,
                              tc_names_get(checks[c].children, checks[c].child),
                              checks[c].parent_what, tc_names_get(checks[c].parents, *parent),
                              checks[c].first[checks[c].child], checks[c].parent_what,
                              tc_names_get(checks[c].parents, checks[c].parent),
                              checks[c].child_what);
        tc_yaml_path_restore(ctx, saved);
        return rc;
    }
    return TC_OK;
}

static int plan_workload(explicit_loader *ld, size_t i, const tc_yaml_node *item,
                         tc_yaml_ctx *defaults_ctx, workload_fields *f, size_t *installs_capacity)
{
    const char *keys[F_COUNT + 1];
    explicit_plan *plan = ld->plan;
    keys[0] = "name";
    for (int k = 0; k < F_COUNT; k++)
        keys[k + 1] = field_names[k];
    int rc = tc_yaml_check_keys(&ld->ctx, item, keys, F_COUNT + 1);
    if (rc != TC_OK)
        return rc;

    memset(f->node, 0, sizeof f->node);
    memset(&f->spec, 0, sizeof f->spec);
    f->n_packages = 0;
    for (int k = 0; k < F_COUNT; k++) {
        f->node[k] = tc_yaml_map_find(item, field_names[k]);
        f->from_defaults[k] = false;
        if (!f->node[k] && ld->defaults) {
            f->node[k] = tc_yaml_map_find(ld->defaults, field_names[k]);
            f->from_defaults[k] = f->node[k] != NULL;
        }
        if (!f->node[k] && field_required[k]) {
            size_t saved = tc_yaml_path_key(&ld->ctx, field_names[k]);
            rc = tc_yaml_fail(&ld->ctx, item, "missing required key (no value under defaults "
                              "either)");
            tc_yaml_path_restore(&ld->ctx, saved);
            return rc;
        }
    }

    rc = read_fields(ld, defaults_ctx, true, f);
    if (rc == TC_OK)
        rc = check_hierarchy(ld, i, f, defaults_ctx);
    if (rc != TC_OK)
        return rc;

    plan->specs[i] = f->spec;
    if (f->n_packages > 0) {
        rc = grow(ld, (void **)&plan->installs, installs_capacity,
                  plan->n_installs + f->n_packages, sizeof *plan->installs);
        if (rc != TC_OK)
            return rc;
        memcpy(plan->installs + plan->n_installs, f->packages,
               f->n_packages * sizeof *f->packages);
        plan->n_installs += f->n_packages;
    }
    plan->install_offsets[i + 1] = plan->n_installs;
    return TC_OK;
}

static int plan_workloads(explicit_loader *ld, const tc_yaml_node *list)
{
    explicit_plan *plan = ld->plan;
    size_t n = list->n;
    plan->specs = calloc(n, sizeof *plan->specs);
    plan->install_offsets = calloc(n + 1, sizeof *plan->install_offsets);
    plan->account_tenant = malloc(n * sizeof *plan->account_tenant);
    plan->subnet_vpc = malloc(n * sizeof *plan->subnet_vpc);
    plan->account_first = malloc(n * sizeof *plan->account_first);
    plan->subnet_first = malloc(n * sizeof *plan->subnet_first);
    workload_fields f;
    memset(&f, 0, sizeof f);
    f.packages = malloc((plan->packages.count ? plan->packages.count : 1) * sizeof *f.packages);
    if (!plan->specs || !plan->install_offsets || !plan->account_tenant || !plan->subnet_vpc ||
        !plan->account_first || !plan->subnet_first || !f.packages) {
        free(f.packages);
        return loader_out_of_memory(ld);
    }
    /* Each workload adds at most one account and one subnet. */
    for (size_t i = 0; i < n; i++)
        plan->account_tenant[i] = plan->subnet_vpc[i] = TC_NAME_NONE;

    tc_yaml_ctx defaults_ctx;
    tc_yaml_ctx_init(&defaults_ctx, ld->ctx.file, ld->ctx.err);
    tc_yaml_path_key(&defaults_ctx, "defaults");
    int rc = plan_defaults(ld, &defaults_ctx, &f);

    size_t installs_capacity = 0;
    size_t saved = tc_yaml_path_key(&ld->ctx, "workloads");
    for (size_t i = 0; rc == TC_OK && i < n; i++) {
        size_t item_saved = tc_yaml_path_index(&ld->ctx, i);
        rc = plan_workload(ld, i, list->items[i], &defaults_ctx, &f, &installs_capacity);
        tc_yaml_path_restore(&ld->ctx, item_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    free(f.packages);
    return rc;
}

/* ---- principals: assumes, publishes, grants ---- */

static int plan_grant(explicit_loader *ld, uint32_t principal, const tc_yaml_node *item,
                      size_t *capacity)
{
    static const char *const keys[] = { "target", "services", "gating" };
    explicit_plan *plan = ld->plan;
    planned_grant g = { .principal = principal };

    int rc = tc_yaml_expect_mapping(&ld->ctx, item, "a grant mapping with target, services "
                                    "and gating");
    if (rc == TC_OK)
        rc = tc_yaml_check_keys(&ld->ctx, item, keys, 3);
    uint32_t target = 0;
    if (rc == TC_OK)
        rc = read_reference_key(ld, item, "target", &plan->workloads, "workload", "workloads",
                                &target);
    g.target = target;

    const tc_yaml_node *node;
    if (rc == TC_OK)
        rc = tc_yaml_require(&ld->ctx, item, "services", &node);
    if (rc == TC_OK) {
        size_t saved = tc_yaml_path_key(&ld->ctx, "services");
        rc = tc_yaml_read_name_mask(&ld->ctx, node, tc_service_names, TC_SERVICE_COUNT,
                                    "service", TC_SERVICE_ALL, &g.services);
        tc_yaml_path_restore(&ld->ctx, saved);
    }
    if (rc == TC_OK)
        rc = tc_yaml_require(&ld->ctx, item, "gating", &node);
    if (rc == TC_OK) {
        int gating = 0;
        size_t saved = tc_yaml_path_key(&ld->ctx, "gating");
        rc = tc_yaml_read_enum(&ld->ctx, node, gating_names, 2, "gating", &gating);
        tc_yaml_path_restore(&ld->ctx, saved);
        g.gated = gating == 1;
    }
    if (rc == TC_OK)
        rc = grow(ld, (void **)&plan->grants, capacity, plan->n_grants + 1, sizeof g);
    if (rc == TC_OK)
        plan->grants[plan->n_grants++] = g;
    return rc;
}

static int plan_principal(explicit_loader *ld, uint32_t id, const tc_yaml_node *item,
                          size_t capacities[3])
{
    explicit_plan *plan = ld->plan;
    int rc = TC_OK;
    const tc_yaml_node *node = tc_yaml_map_find(item, "assumes");
    if (node) {
        size_t saved = tc_yaml_path_key(&ld->ctx, "assumes");
        rc = read_reference_list(ld, node, &plan->principals, "principal", "principals", id, id,
                                 "assume", &plan->assumes, &plan->n_assumes, &capacities[0]);
        tc_yaml_path_restore(&ld->ctx, saved);
    }
    node = tc_yaml_map_find(item, "publishes");
    if (rc == TC_OK && node) {
        size_t saved = tc_yaml_path_key(&ld->ctx, "publishes");
        rc = read_reference_list(ld, node, &plan->packages, "package", "packages", id,
                                 TC_NAME_NONE, "publish", &plan->publishes, &plan->n_publishes,
                                 &capacities[1]);
        tc_yaml_path_restore(&ld->ctx, saved);
    }
    node = tc_yaml_map_find(item, "grants");
    if (rc == TC_OK && node) {
        size_t saved = tc_yaml_path_key(&ld->ctx, "grants");
        rc = tc_yaml_expect_sequence(&ld->ctx, node, "a list of grants");
        for (size_t i = 0; rc == TC_OK && i < node->n; i++) {
            size_t item_saved = tc_yaml_path_index(&ld->ctx, i);
            rc = plan_grant(ld, id, node->items[i], &capacities[2]);
            tc_yaml_path_restore(&ld->ctx, item_saved);
        }
        tc_yaml_path_restore(&ld->ctx, saved);
    }
    return rc;
}

static int plan_principals(explicit_loader *ld, const tc_yaml_node *list)
{
    size_t capacities[3] = { 0, 0, 0 };
    size_t saved = tc_yaml_path_key(&ld->ctx, "principals");
    int rc = TC_OK;
    for (size_t i = 0; rc == TC_OK && i < list->n; i++) {
        size_t item_saved = tc_yaml_path_index(&ld->ctx, i);
        rc = plan_principal(ld, (uint32_t)i, list->items[i], capacities);
        tc_yaml_path_restore(&ld->ctx, item_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

/* ---- base rules and API edges ---- */

static int plan_base_rules(explicit_loader *ld)
{
    static const char *const keys[] = { "from", "to", "services" };
    explicit_plan *plan = ld->plan;
    const tc_yaml_node *list;
    int rc = section_list(ld, "base_rules", false, "base rules", &list);
    if (rc != TC_OK || !list)
        return rc;

    plan->base_rules = calloc(list->n ? list->n : 1, sizeof *plan->base_rules);
    if (!plan->base_rules)
        return loader_out_of_memory(ld);
    size_t saved = tc_yaml_path_key(&ld->ctx, "base_rules");
    for (size_t i = 0; rc == TC_OK && i < list->n; i++) {
        const tc_yaml_node *item = list->items[i];
        tc_base_rule *rule = &plan->base_rules[i];
        size_t item_saved = tc_yaml_path_index(&ld->ctx, i);
        rc = tc_yaml_expect_mapping(&ld->ctx, item, "a base rule mapping with from, to and "
                                    "services");
        if (rc == TC_OK)
            rc = tc_yaml_check_keys(&ld->ctx, item, keys, 3);
        if (rc == TC_OK)
            rc = read_reference_key(ld, item, "from", &plan->segments, "segment", "segments",
                                    &rule->from_segment);
        if (rc == TC_OK)
            rc = read_reference_key(ld, item, "to", &plan->segments, "segment", "segments",
                                    &rule->to_segment);
        const tc_yaml_node *services;
        if (rc == TC_OK)
            rc = tc_yaml_require(&ld->ctx, item, "services", &services);
        if (rc == TC_OK) {
            tc_yaml_path_key(&ld->ctx, "services");
            rc = tc_yaml_read_name_mask(&ld->ctx, services, tc_service_names, TC_SERVICE_COUNT,
                                        "service", TC_SERVICE_ALL, &rule->services);
        }
        if (rc == TC_OK)
            plan->n_base_rules = i + 1;
        tc_yaml_path_restore(&ld->ctx, item_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    return rc;
}

static int edge_compare(const void *a, const void *b)
{
    const planned_edge *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->to != y->to)
        return x->to < y->to ? -1 : 1;
    if (x->service != y->service)
        return x->service < y->service ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Reject an API edge listed twice (same caller, callee and service),
 * reporting the later one. */
static int check_duplicate_edges(explicit_loader *ld, const tc_yaml_node *list)
{
    explicit_plan *plan = ld->plan;
    if (plan->n_edges < 2)
        return TC_OK;
    planned_edge *sorted = malloc(plan->n_edges * sizeof *sorted);
    if (!sorted)
        return loader_out_of_memory(ld);
    memcpy(sorted, plan->edges, plan->n_edges * sizeof *sorted);
    qsort(sorted, plan->n_edges, sizeof *sorted, edge_compare);

    int rc = TC_OK;
    size_t later = SIZE_MAX, earlier = 0;
    for (size_t i = 1; i < plan->n_edges; i++) {
        const planned_edge *x = &sorted[i - 1], *y = &sorted[i];
        if (x->from == y->from && x->to == y->to && x->service == y->service &&
            (later == SIZE_MAX || y->index < later)) {
            later = y->index;
            earlier = x->index;
        }
    }
    if (later != SIZE_MAX) {
        size_t saved = tc_yaml_path_key(&ld->ctx, "api_edges");
        tc_yaml_path_index(&ld->ctx, later);
        rc = tc_yaml_fail(&ld->ctx, list->items[later], "duplicate API edge: api_edges[%zu] "
                          "has the same from, to and service", earlier);
        tc_yaml_path_restore(&ld->ctx, saved);
    }
    free(sorted);
    return rc;
}

static int plan_api_edges(explicit_loader *ld)
{
    static const char *const keys[] = { "from", "to", "service", "trust" };
    explicit_plan *plan = ld->plan;
    const tc_yaml_node *list;
    int rc = section_list(ld, "api_edges", false, "API edges", &list);
    if (rc != TC_OK || !list)
        return rc;

    plan->edges = calloc(list->n ? list->n : 1, sizeof *plan->edges);
    if (!plan->edges)
        return loader_out_of_memory(ld);
    size_t saved = tc_yaml_path_key(&ld->ctx, "api_edges");
    for (size_t i = 0; rc == TC_OK && i < list->n; i++) {
        const tc_yaml_node *item = list->items[i];
        size_t item_saved = tc_yaml_path_index(&ld->ctx, i);
        uint32_t from = 0, to = 0;
        int service = 0, trust = 0;
        rc = tc_yaml_expect_mapping(&ld->ctx, item, "an API edge mapping with from, to, "
                                    "service and trust");
        if (rc == TC_OK)
            rc = tc_yaml_check_keys(&ld->ctx, item, keys, 4);
        if (rc == TC_OK)
            rc = read_reference_key(ld, item, "from", &plan->workloads, "workload",
                                    "workloads", &from);
        if (rc == TC_OK)
            rc = read_reference_key(ld, item, "to", &plan->workloads, "workload", "workloads",
                                    &to);
        if (rc == TC_OK && from == to) {
            tc_yaml_path_key(&ld->ctx, "to");
            rc = tc_yaml_fail(&ld->ctx, tc_yaml_map_find(item, "to"), "an API edge must join "
                              "two different workloads");
        }
        const tc_yaml_node *node;
        if (rc == TC_OK)
            rc = tc_yaml_require(&ld->ctx, item, "service", &node);
        if (rc == TC_OK) {
            size_t key_saved = tc_yaml_path_key(&ld->ctx, "service");
            rc = tc_yaml_read_enum(&ld->ctx, node, tc_service_names, TC_SERVICE_COUNT,
                                   "service", &service);
            tc_yaml_path_restore(&ld->ctx, key_saved);
        }
        if (rc == TC_OK)
            rc = tc_yaml_require(&ld->ctx, item, "trust", &node);
        if (rc == TC_OK) {
            tc_yaml_path_key(&ld->ctx, "trust");
            rc = tc_yaml_read_enum(&ld->ctx, node, tc_trust_names, TC_TRUST_COUNT, "trust",
                                   &trust);
        }
        if (rc == TC_OK)
            plan->edges[plan->n_edges++] = (planned_edge){ from, to, (uint8_t)service,
                                                        (uint8_t)trust, i };
        tc_yaml_path_restore(&ld->ctx, item_saved);
    }
    tc_yaml_path_restore(&ld->ctx, saved);
    if (rc == TC_OK)
        rc = check_duplicate_edges(ld, list);
    return rc;
}

/* ---- planning ---- */

static void plan_free(explicit_plan *plan)
{
    tc_names *tables[] = { &plan->segments, &plan->packages, &plan->principals,
                           &plan->workloads, &plan->tenants, &plan->accounts, &plan->vpcs,
                           &plan->subnets, &plan->apps };
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        tc_names_free(tables[i]);
    free(plan->package_kind);
    free(plan->account_tenant);
    free(plan->subnet_vpc);
    free(plan->account_first);
    free(plan->subnet_first);
    free(plan->base_rules);
    free(plan->assumes);
    free(plan->publishes);
    free(plan->grants);
    free(plan->edges);
    free(plan->specs);
    free(plan->install_offsets);
    free(plan->installs);
    memset(plan, 0, sizeof *plan);
}

static int plan_read(const char *path, explicit_plan *plan, tc_error *err)
{
    static const char *const keys[] = {
        "segments", "base_rules", "packages", "principals", "defaults", "workloads", "api_edges",
    };
    tc_yaml_doc *doc = NULL;
    int rc = tc_yaml_load(path, &doc, err);
    if (rc != TC_OK)
        return rc;

    explicit_loader ld;
    memset(&ld, 0, sizeof ld);
    tc_yaml_ctx_init(&ld.ctx, path, err);
    ld.plan = plan;
    ld.root = doc->root;

    const tc_yaml_node *principals = NULL, *workloads = NULL;
    if (!ld.root)
        rc = tc_yaml_fail(&ld.ctx, NULL, "empty topology: the file holds no YAML; a topology "
                          "needs at least segments, principals and workloads");
    if (rc == TC_OK)
        rc = tc_yaml_expect_mapping(&ld.ctx, ld.root, "a mapping of topology sections "
                                    "(segments, principals, workloads ...)");
    if (rc == TC_OK)
        rc = tc_yaml_check_keys(&ld.ctx, ld.root, keys, sizeof keys / sizeof *keys);
    if (rc == TC_OK)
        rc = plan_segments(&ld);
    if (rc == TC_OK)
        rc = plan_packages(&ld);
    if (rc == TC_OK)
        rc = section_list(&ld, "principals", true, "principals", &principals);
    if (rc == TC_OK)
        rc = plan_principal_names(&ld, principals);
    if (rc == TC_OK)
        rc = section_list(&ld, "workloads", true, "workloads", &workloads);
    if (rc == TC_OK)
        rc = plan_workload_names(&ld, workloads);
    if (rc == TC_OK)
        rc = plan_workloads(&ld, workloads);
    if (rc == TC_OK)
        rc = plan_principals(&ld, principals);
    if (rc == TC_OK)
        rc = plan_base_rules(&ld);
    if (rc == TC_OK)
        rc = plan_api_edges(&ld);

    tc_yaml_free(doc);
    return rc;
}

/* ---- building ---- */

/* The hub calls, identical on every rank. The plan's tables were filled in
 * the order the builder assigns ids, so every id below is the same id in T. */
static int build_hubs(const explicit_plan *plan, tc_topology *t, tc_error *err)
{
    for (uint32_t i = 0; i < plan->segments.count; i++)
        if (tc_topology_add_segment(t, plan->segments.names[i], err) == TC_NAME_NONE)
            return err->code;
    for (size_t i = 0; i < plan->n_base_rules; i++) {
        const tc_base_rule *r = &plan->base_rules[i];
        if (tc_topology_add_base_rule(t, r->from_segment, r->to_segment, r->services, err) != TC_OK)
            return err->code;
    }
    for (uint32_t i = 0; i < plan->packages.count; i++)
        if (tc_topology_add_package(t, plan->packages.names[i],
                                    (enum tc_package_kind)plan->package_kind[i], err) == TC_NAME_NONE)
            return err->code;
    for (uint32_t i = 0; i < plan->principals.count; i++)
        if (tc_topology_add_principal(t, plan->principals.names[i], err) == TC_NAME_NONE)
            return err->code;
    for (size_t i = 0; i < plan->n_assumes; i++)
        if (tc_topology_add_assume(t, plan->assumes[i].from, plan->assumes[i].to, err) != TC_OK)
            return err->code;
    for (size_t i = 0; i < plan->n_publishes; i++)
        if (tc_topology_add_publish(t, plan->publishes[i].from, plan->publishes[i].to,
                                    err) != TC_OK)
            return err->code;

    struct { const tc_names *from; tc_names *to; } tables[] = {
        { &plan->tenants, &t->tenants }, { &plan->accounts, &t->accounts },
        { &plan->vpcs, &t->vpcs }, { &plan->subnets, &t->subnets }, { &plan->apps, &t->apps },
    };
    for (size_t k = 0; k < sizeof tables / sizeof *tables; k++)
        for (uint32_t i = 0; i < tables[k].from->count; i++)
            if (tc_topology_intern(t, tables[k].to, tables[k].from->names[i], err) == TC_NAME_NONE)
                return err->code;
    for (uint32_t i = 0; i < plan->workloads.count; i++)
        if (tc_names_intern(&t->workload_names, plan->workloads.names[i], NULL) == TC_NAME_NONE)
            return tc_error_runtime(err, "out of memory adding workload names");
    return TC_OK;
}

/* The per-owner calls: owned workloads, their installs, the API edges they
 * call and the grants that target them. */
static int build_owned(const explicit_plan *plan, tc_topology *t, tc_error *err)
{
    for (uint64_t gid = t->first; gid < t->first + t->n_local; gid++) {
        if (tc_topology_set_workload(t, gid, &plan->specs[gid], err) != TC_OK)
            return err->code;
        for (uint64_t j = plan->install_offsets[gid]; j < plan->install_offsets[gid + 1]; j++)
            if (tc_topology_add_install(t, gid, plan->installs[j], err) != TC_OK)
                return err->code;
    }
    for (size_t i = 0; i < plan->n_edges; i++) {
        const planned_edge *e = &plan->edges[i];
        if (tc_topology_owns(t, e->from) &&
            tc_topology_add_api_edge(t, e->from, e->to, e->service, (enum tc_trust)e->trust,
                                     err) != TC_OK)
            return err->code;
    }
    for (size_t i = 0; i < plan->n_grants; i++) {
        const planned_grant *g = &plan->grants[i];
        if (tc_topology_owns(t, g->target) &&
            tc_topology_add_grant(t, g->principal, g->target, g->services, g->gated,
                                  err) != TC_OK)
            return err->code;
    }
    return TC_OK;
}

int tc_explicit_load(const char *path, MPI_Comm comm, tc_topology **out, tc_error *err)
{
    *out = NULL;
    tc_topology *t = NULL;
    explicit_plan plan;
    memset(&plan, 0, sizeof plan);

    plan_read(path, &plan, err);
    int rc = tc_error_agree(err, comm);
    if (rc != TC_OK)
        goto free_plan;

    rc = tc_topology_create(comm, plan.workloads.count, &t, err);
    if (rc != TC_OK)
        goto free_plan;

    rc = build_hubs(&plan, t, err);
    if (rc == TC_OK)
        rc = build_owned(&plan, t, err);
    /* Builder errors carry no position; the plan already checked every
     * reference, so what remains is about this file as a whole. */
    if (rc != TC_OK && err->file[0] == '\0')
        snprintf(err->file, sizeof err->file, "%s", path);
    rc = tc_error_agree(err, comm);
    if (rc == TC_OK)
        rc = tc_topology_finish(t, err);
    if (rc != TC_OK) {
        tc_topology_free(t);
        goto free_plan;
    }
    *out = t;

free_plan:
    plan_free(&plan);
    return rc;
}
