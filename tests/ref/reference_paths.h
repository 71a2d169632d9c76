/*
 * reference_paths.h - an independent check of attack paths (paths.h)
 * against the serial reference simulator (reference.h).
 *
 * The checker recomputes everything by brute force over workload pairs of
 * a topology built on one rank: the hop of every entry, the reach masks,
 * base and policy rules, grants, assume chains and installs. It also
 * recomputes, from their definitions in engine.h, the predecessor and the
 * reason the engine must have chosen, so a path that is valid but not the
 * canonical one fails too. The checks, numbered as in the messages:
 *  1. the path exists exactly when the reference compromises the target,
 *     and has one entry per hop, the target last;
 *  2. every entry's workload has the reference's hop and step kind and the
 *     topology's attributes, and its predecessor is the previous entry;
 *  3. network: the service is the lowest of reach & exposed & exploitable,
 *     and the predecessor is the smallest workload of the previous hop whose
 *     reach meets the target's exploitable services;
 *  4. API: an open API edge of implicit trust exists on the service, the
 *     service is the smallest such, and the predecessor is the smallest
 *     caller of the previous hop with one;
 *  5. the base rule is the first one between the segments that lists the
 *     service, and the policy rule is the one that decides the service;
 *  6. credential: (predecessor, principal, gating, used_from) is the
 *     smallest candidate in the order of engine.h, the grant services are
 *     the union of the principal's grants of that gating to the target,
 *     and for a network-gated grant the reach from used_from is checked as
 *     in 5;
 *  7. credential and supply chain: the principal's source is the smallest
 *     workload of the hop the principal became held that runs as a
 *     principal from which it is assumable, and the assume chain is a
 *     shortest chain of assume relations from the source's principal;
 *  8. supply chain: the package is installed by the target, compromised at
 *     its hop, and (source of its publisher, package) is the smallest
 *     candidate; the publisher is the smallest by (source, id) among the
 *     principals held at the previous hop that may publish it;
 *  9. foothold: a foothold workload has no package; an installer of
 *     foothold packages names the smallest one it installs.
 */
#ifndef TC_REFERENCE_PATHS_H
#define TC_REFERENCE_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#include "paths.h"
#include "reference.h"

typedef struct reference_path_checker reference_path_checker;

/* Prepare to check paths of the case IN (a topology built on one rank)
 * whose reference result is REF (from reference_run on IN); both are
 * borrowed and must outlive the checker. Returns TC_OK, or the error of
 * reference_reach_matrix. Local. */
int reference_path_checker_create(const reference_input *in, const reference_result *ref,
                                  reference_path_checker **out, tc_error *err);

void reference_path_checker_free(reference_path_checker *c);

/* Check PATH, extracted on any rank count from an engine run of the same
 * case. Returns true when every check passes; otherwise appends the
 * failures, one per line, to MESSAGE (LEN bytes, NUL-terminated on
 * entry). Local. */
bool reference_path_check(const reference_path_checker *c, const tc_path *path, char *message,
                          size_t len);

#endif
