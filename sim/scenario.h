/*
 * scenario.h - a scenario file loaded into plain data.
 *
 * The loader (scenario.c) reads YAML through libyaml, checks every key
 * against the schema documented in scenarios/README.md, and rejects unknown
 * keys, wrong types and values out of range with the file, line, column and
 * key. It runs the same way on every rank and touches no MPI, so a scenario
 * is valid or invalid identically everywhere.
 *
 * Generator parameters are described by tables that the caller passes in
 * (tc_generator_desc), so this module knows no generator: the CLI hands it
 * the table of every generator it links.
 */
#ifndef TC_SCENARIO_H
#define TC_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model.h"

/* ---- generator parameter tables ---- */

enum tc_param_type { TC_PARAM_U64, TC_PARAM_DOUBLE, TC_PARAM_BOOL };

/* One scalar parameter of a generator, stored at OFFSET in its params
 * struct (uint64_t, double or bool by TYPE). Values outside [min, max] are
 * input errors. */
typedef struct tc_param_desc {
    const char *name;
    enum tc_param_type type;
    size_t offset;
    double min, max;
    double default_value;
    const char *unit;        /* "workloads", "probability", "" ... */
    const char *source;      /* where the default comes from, or "assumption" */
    const char *doc;         /* one line for --help-params and the reference */
} tc_param_desc;

typedef struct tc_generator_desc {
    const char *name;               /* value of topology.generator */
    size_t params_size;             /* sizeof the params struct */
    const tc_param_desc *params;
    size_t n_params;
    /* Optional cross-parameter check after defaults and overrides are in;
     * returns TC_OK or fills ERR (with the scenario file and key). */
    int (*check)(const void *params, const char *file, tc_error *err);
} tc_generator_desc;

/* ---- foothold vectors ---- */

enum tc_vector_kind {
    TC_VECTOR_PACKAGE,         /* a compromised library package */
    TC_VECTOR_CICD,            /* a compromised CI/CD tool (package of kind cicd) */
    TC_VECTOR_INFRA,           /* a compromised infrastructure library */
    TC_VECTOR_INTERNET_FACING, /* a sample of internet-facing workloads */
    TC_VECTOR_WORKLOADS,       /* explicit workloads */
    TC_VECTOR_KIND_COUNT
};
extern const char *const tc_vector_kind_names[TC_VECTOR_KIND_COUNT];

typedef struct tc_vector_spec {
    char *name;                /* label in results; defaults to "<kind>-<index>" */
    enum tc_vector_kind kind;
    char *package;             /* package name, or NULL when by rank */
    uint32_t rank;             /* popularity rank among packages of the kind, 1 = most installed; 0 when by name */
    uint64_t count;            /* internet_facing: workloads sampled */
    char **workloads;          /* workloads: names or decimal global ids */
    size_t n_workloads;
    long line, column;         /* where the vector is written */
} tc_vector_spec;

/* ---- SmartGroups and policies ---- */

struct tc_selector;            /* selector.h */

typedef struct tc_group_spec {
    char *name;
    char *text;                /* the selector as written */
    struct tc_selector *selector;
    long line, column;
} tc_group_spec;

#define TC_GROUP_ANY UINT32_MAX /* rule endpoint "any": every workload */

typedef struct tc_rule_spec {
    uint32_t from, to;         /* index into scenario groups, or TC_GROUP_ANY */
    tc_svcmask services;       /* "any" = TC_SERVICE_ALL */
    bool allow;
    long line, column;
} tc_rule_spec;

enum tc_policy_kind { TC_POLICY_LEGACY, TC_POLICY_RULES, TC_POLICY_DERIVED };

typedef struct tc_policy_spec {
    char *name;
    enum tc_policy_kind kind;
    bool default_allow;            /* rules: default action; legacy: true; derived: false */
    tc_rule_spec *rules;           /* rules policy, in order */
    size_t n_rules;
    uint8_t granularity[TC_ATTR_COUNT]; /* derived: enum tc_attr list */
    size_t n_granularity;
    long line, column;
} tc_policy_spec;

/* ---- the scenario ---- */

enum tc_topology_source { TC_TOPOLOGY_GENERATED, TC_TOPOLOGY_EXPLICIT };

typedef struct tc_scenario {
    char *path;                    /* as given on the command line */
    char *name;                    /* "name" key, defaults to the file's base name */
    uint64_t seed;

    enum tc_topology_source source;
    const tc_generator_desc *generator; /* generated: the matching table entry */
    void *generator_params;        /* generated: params struct, defaults applied */
    char *explicit_path;           /* explicit: file, resolved against the scenario's folder */

    tc_vector_spec *vectors;
    size_t n_vectors;
    tc_group_spec *groups;         /* "smartgroups" */
    size_t n_groups;
    tc_policy_spec *policies;
    size_t n_policies;

    uint8_t crown_kinds;           /* bit k set: crown kind k counts as a crown jewel */
    uint32_t hop_budget;           /* 1 .. TC_HOP_BUDGET_MAX */

    char *output_json;             /* NULL: none unless -o */
    bool output_per_tenant;        /* include the per-tenant breakdown */
} tc_scenario;

#define TC_HOP_BUDGET_MAX 65534u

/* Load and check the scenario at PATH against the generators in GENERATORS.
 * Returns TC_OK with *OUT set, or TC_ERR_INPUT / TC_ERR_RUNTIME with ERR
 * filled and *OUT NULL; nothing is left allocated on failure. Local (no MPI). */
int tc_scenario_load(const char *path, const tc_generator_desc *generators,
                     size_t n_generators, tc_scenario **out, tc_error *err);

/* Release a scenario; NULL is a no-op. */
void tc_scenario_free(tc_scenario *s);

#endif
