/*
 * selector.h - SmartGroup selectors: boolean expressions over workload
 * attributes.
 *
 * Grammar (whitespace between tokens is free):
 *   expr    := or
 *   or      := and ( "||" and )*
 *   and     := unary ( "&&" unary )*
 *   unary   := "!" unary | "(" expr ")" | compare | "true" | "false"
 *   compare := ATTR ( "==" | "!=" ) VALUE
 *            | ATTR "in" "[" VALUE ( "," VALUE )* "]"
 *            | "internet_facing"                (a bare boolean attribute)
 *   ATTR    := one of tc_attr_names
 *   VALUE   := [A-Za-z0-9_.:/-]+ or a double-quoted string
 * Values of enumerated attributes (env, tier, crown) and booleans are
 * checked when parsing; values of named attributes (tenant, app, ...) are
 * resolved against a topology by tc_selector_bind.
 */
#ifndef TC_SELECTOR_H
#define TC_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology.h"

typedef struct tc_selector tc_selector;

/* Parse TEXT. On success returns 0 and sets *OUT. On failure returns -1,
 * writes a message to ERRBUF (ERRLEN bytes) and the 1-based column in TEXT
 * of the problem to *ERRCOL; *OUT is NULL. */
int tc_selector_parse(const char *text, tc_selector **out, char *errbuf,
                      size_t errlen, int *errcol);

void tc_selector_free(tc_selector *sel);

/* Resolve named values against T's name tables. A name the topology does
 * not have is an input error (TC_ERR_INPUT, ERR names the value and the
 * attribute); the caller adds the file and key. Must be called before
 * tc_selector_match; may be called again for another topology. */
int tc_selector_bind(tc_selector *sel, const tc_topology *t, tc_error *err);

/* Does the owned workload at LOCAL index match? Local, O(size of SEL). */
bool tc_selector_match(const tc_selector *sel, const tc_topology *t, uint64_t local);

/* True when SEL mentions attribute ATTR (enum tc_attr). */
bool tc_selector_uses(const tc_selector *sel, int attr);

#endif
