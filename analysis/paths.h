/*
 * paths.h - attack paths: for a compromised workload, one shortest chain of
 * attack steps from a foothold, with the reason of every step.
 *
 * A path is read from the predecessors that the engine records when a run
 * sets tc_sim_options.record_predecessors (engine.h). No rank gathers the
 * graph: a path is followed backwards one hop per round, each round asking
 * the owners of the current workloads of every requested path for their
 * predecessor, attributes and step details in one collective. A path to a
 * workload of hop h therefore takes h + 1 rounds and has h + 1 entries,
 * the foothold first, and it is shortest because hops are exact.
 *
 * The reason of each step, by kind:
 *  - network exploit: the service exploited, the base rule and the policy
 *    rule that let the predecessor reach the target on it;
 *  - API chain: the API edge (caller = predecessor, callee, service, trust)
 *    and the base and policy rules that leave it open;
 *  - credential: the principal used, the workload whose compromise gave it
 *    and the assume chain from that workload's principal, and the grant's
 *    services and gating. A network-gated grant also names the workload it
 *    was used from, with the rules that let that workload reach the target;
 *  - supply chain: the compromised package, the principal that published it
 *    and how that principal was obtained;
 *  - foothold: the foothold package installed, or the vector that names or
 *    samples the workload.
 * The choices are those of the engine (smallest candidate ids), so a path is
 * the same on any rank count.
 *
 * Extraction checks every step against the model as it goes (hops one apart,
 * base and policy allow the service, the grant and the assume chain exist)
 * and fails with TC_ERR_RUNTIME on a step that does not hold.
 */
#ifndef TC_PATHS_H
#define TC_PATHS_H

#include <jansson.h>
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"
#include "error.h"
#include "policy.h"
#include "scenario.h"
#include "topology.h"

/* What a path is read from; everything is borrowed and must outlive the
 * paths. RESULT must come from a run with record_predecessors. */
typedef struct tc_paths_input {
    const tc_scenario *scenario;   /* groups, vectors; names in the reasons */
    const tc_topology *topology;
    const tc_policy *policy;
    const tc_footholds *footholds; /* names the foothold vectors; may be NULL */
    const tc_sim_result *result;
} tc_paths_input;

/* A workload as shown in a path. Named attributes are ids into the
 * topology's name tables. */
typedef struct tc_path_workload {
    uint64_t id;               /* global id */
    uint32_t tenant, account, vpc, subnet, segment, app, principal;
    uint8_t env, tier, crown;  /* enum tc_env, tc_tier, tc_crown */
    bool internet_facing;
    uint16_t hop;              /* TC_HOP_NONE when never compromised */
    uint8_t step;              /* enum tc_step of its fall */
} tc_path_workload;

/* Policy rule values that are not an index into the policy's rules. */
#define TC_PATH_RULE_DEFAULT (-1) /* a rules policy's default action, allow */
#define TC_PATH_RULE_LEGACY (-2)  /* a legacy policy: every service allowed */
#define TC_PATH_RULE_DERIVED (-3) /* a derived policy: the allow rule between the
                                     groups of the two workloads */

/* Why a workload may connect to another one on a service. */
typedef struct tc_path_reach {
    uint8_t service;           /* service index (model.h) */
    uint64_t base_rule;        /* index in topology->base_rules: the first rule from
                                  the source's segment to the target's listing it */
    int64_t policy_rule;       /* index in the policy's rules of the rule that allows
                                  it, or one of TC_PATH_RULE_* */
} tc_path_reach;

/* One entry of a path: the workload and how it fell. Fields that do not
 * apply to the step hold TC_PRED_NONE, TC_VIA_NONE or zero. */
typedef struct tc_path_hop {
    tc_path_workload workload;
    uint64_t from;             /* predecessor (the previous entry), TC_PRED_NONE at hop 0 */

    /* network and API: from -> workload; credential with a network-gated
     * grant: used_from -> workload. */
    tc_path_reach reach;
    uint8_t trust;             /* API: enum tc_trust of the edge */

    /* credential: principal used; supply chain: principal that published
     * the package. */
    uint32_t principal;
    uint64_t principal_source; /* workload whose compromise gave the principal */
    uint32_t *assume_chain;    /* principals from principal_source's principal to
                                  principal, both included (one entry: no assume) */
    uint32_t n_assume_chain;
    bool gated;                /* credential: the grant is network-gated */
    tc_svcmask grant_services; /* credential: services of the principal's grants to the
                                  workload with that gating */
    uint64_t used_from;        /* credential, network-gated: the workload that reaches
                                  the target */

    uint32_t package;          /* supply chain: package installed; foothold: foothold
                                  package installed, TC_VIA_NONE when a vector names or
                                  samples the workload */
    uint32_t vector;           /* foothold: scenario vector index, TC_VIA_NONE when unknown */
} tc_path_hop;

typedef struct tc_path {
    uint64_t target;           /* global id */
    bool reached;              /* false: never compromised within the hop budget */
    tc_path_workload target_workload;
    uint32_t n_hops;           /* target hop + 1 when reached, else 0 */
    tc_path_hop *hops;         /* hops[0] is a foothold, hops[n_hops - 1] the target */
    tc_path_workload *others;  /* workloads named by reasons but not on the path
                                  (principal sources, used_from) */
    uint32_t n_others;
} tc_path;

/* Extract one path to each of the N_TARGETS global ids TARGETS (the same
 * list on every rank, each below the number of workloads). On TC_OK every
 * rank has the same array of N_TARGETS paths in *OUT (free with
 * tc_paths_free). Returns TC_ERR_INPUT for a target out of range or a
 * result recorded without predecessors, TC_ERR_RUNTIME for memory or a step
 * that does not hold. Collective; ranks agree on failure. */
int tc_paths_extract(const tc_paths_input *in, const uint64_t *targets, size_t n_targets,
                     tc_path **out, tc_error *err);

void tc_paths_free(tc_path *paths, size_t n);

/* Up to MAX compromised crown jewels whose kind is in CROWN_KINDS (bit k:
 * enum tc_crown k), the lowest hop first, then the lowest id, footholds
 * (hop 0) after all others. *TARGETS is
 * the same malloc'ed list on every rank (free with free()). Collective. */
int tc_paths_crown_targets(const tc_paths_input *in, uint8_t crown_kinds, uint32_t max,
                           uint64_t **targets, size_t *n_targets, tc_error *err);

/* Paths to up to MAX_PATHS crown jewels of the scenario's crown kinds, as
 * tc_paths_crown_targets picks them, as a JSON array for
 * policies[i].paths of the run result: on rank 0 *OUT is a new reference,
 * on other ranks NULL. Collective. */
int tc_paths_run_json(const tc_paths_input *in, uint32_t max_paths, json_t **out,
                      tc_error *err);

/* ---- rendering (local) ---- */

/* PATH as a JSON object: "target", "reached", "hop" and "hops", each hop
 * with its workload, step and reason. NULL when out of memory. */
json_t *tc_path_to_json(const tc_paths_input *in, const tc_path *path);

/* PATH as a numbered hop list with reasons, headed by POLICY_NAME. */
void tc_path_print_text(FILE *out, const tc_paths_input *in, const char *policy_name,
                        const tc_path *path);

/* Graphviz DOT: tc_paths_dot_begin writes the graph header, each
 * tc_path_print_dot one cluster for one path (nodes labelled with the
 * workload's name and tier, edges with the step kind and reason; INDEX
 * keeps the node ids of clusters apart), tc_paths_dot_end the closing
 * brace. Renders with `dot -Tsvg`. */
void tc_paths_dot_begin(FILE *out);
void tc_path_print_dot(FILE *out, const tc_paths_input *in, const char *policy_name,
                       const tc_path *path, size_t index);
void tc_paths_dot_end(FILE *out);

/* ---- command line ---- */

/* `trustchain paths RESULTS.json --to ID|NAME [--policy NAME] [--scenario FILE]
 * [--dot | --json] [-o FILE] [-q]`, with the options in ARGV[1 .. ARGC-1]
 * (ARGV[0] is "paths"); see --help. Reads the result, rebuilds its topology
 * from the scenario and seed, reruns the named policy (or every policy)
 * with predecessors and prints the path to the target. Collective over
 * COMM. Returns the exit status: 0 success, 1 runtime error, 2 usage error
 * or invalid input (errors printed by rank 0). */
int tc_paths_main(int argc, char **argv, MPI_Comm comm);

#endif
