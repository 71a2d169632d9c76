/*
 * yaml_doc.h - strict YAML documents for input files, and typed accessors
 * whose errors name the file, line, column and key path.
 *
 * tc_yaml_load reads a file with libyaml's event API into a read-only tree
 * of scalars, sequences and mappings. It is stricter than YAML itself,
 * because people and tools both write these files:
 *  1. a duplicate key in one mapping is an error (no "last one wins");
 *  2. mapping keys are scalars;
 *  3. collections nest at most TC_YAML_MAX_DEPTH levels deep;
 *  4. aliases are accepted, but the nodes they stand for are counted as if
 *     copied, and a file whose aliases expand to more than
 *     TC_YAML_MAX_ALIAS_NODES nodes is rejected ("billion laughs");
 *     an alias must come after the end of its anchored node, so the tree
 *     has no cycles. Merge keys ("<<") are not supported;
 *  5. one document per file; a stream with no document loads with a NULL
 *     root, and the caller decides what an empty file means;
 *  6. invalid UTF-8, control characters, a file cut off inside a construct
 *     and tabs used for indentation are errors with a line and column.
 * A UTF-8 byte-order mark at the start is accepted and not counted in
 * columns.
 *
 * Aliased nodes are shared, not copied: a node reached through an alias
 * reports the line and column where its anchor was written.
 *
 * Line and column numbers are 1-based; columns count characters, not bytes,
 * as libyaml does. Nothing here touches MPI.
 */
#ifndef TC_YAML_DOC_H
#define TC_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TC_YAML_MAX_DEPTH 64
#define TC_YAML_MAX_ALIAS_NODES 1000000u

typedef enum tc_yaml_kind {
    TC_YAML_SCALAR,
    TC_YAML_SEQUENCE,
    TC_YAML_MAPPING
} tc_yaml_kind;

typedef struct tc_yaml_node tc_yaml_node;

/* One entry of a mapping. KEY is always a scalar. */
typedef struct tc_yaml_pair {
    const tc_yaml_node *key;
    const tc_yaml_node *value;
} tc_yaml_pair;

struct tc_yaml_node {
    uint8_t kind;               /* tc_yaml_kind */
    bool plain;                 /* scalar written without quotes and not as a block scalar */
    uint32_t line, column;      /* first character of the node, 1-based */
    uint32_t text_column;       /* scalar: column of text[0] when the scalar is written
                                 * verbatim on one line (plain, or quoted without
                                 * escapes), else 0 */
    uint64_t expanded;          /* nodes in the subtree with aliases expanded */
    union {
        struct {                /* TC_YAML_SCALAR */
            const char *text;   /* NUL-terminated; may contain a NUL (see length) */
            const char *tag;    /* explicit tag as resolved by libyaml
                                 * ("tag:yaml.org,2002:int" for !!int), NULL when none */
            size_t length;      /* bytes of text */
        };
        struct {                /* TC_YAML_SEQUENCE: items; TC_YAML_MAPPING: pairs in file order */
            size_t n;
            union {
                const tc_yaml_node *const *items;
                const tc_yaml_pair *pairs;
            };
        };
    };
};

typedef struct tc_yaml_doc {
    const tc_yaml_node *root;   /* NULL when the file contains no document */
    uint64_t n_nodes;           /* nodes written in the file */
    uint64_t n_alias_nodes;     /* nodes that aliases stand for */
    struct yaml_arena *arena;   /* owns every node and string */
} tc_yaml_doc;

/* Load the YAML file at PATH. Returns TC_OK with *OUT set, TC_ERR_INPUT
 * when the file is unreadable, is invalid YAML or breaks a rule above, or
 * TC_ERR_RUNTIME when memory runs out. On failure *OUT is NULL, and ERR
 * names PATH, the line, the column and the key path being parsed. */
int tc_yaml_load(const char *path, tc_yaml_doc **out, tc_error *err);

/* Same, from LENGTH bytes of TEXT; FILE_NAME is used in errors only. */
int tc_yaml_load_text(const char *file_name, const char *text, size_t length,
                      tc_yaml_doc **out, tc_error *err);

/* Release DOC and every node in it; NULL is a no-op. */
void tc_yaml_free(tc_yaml_doc *doc);

/* ---- typed access with located errors ---- */

#define TC_YAML_PATH_MAX 512

/* The file and key path that errors are reported against. The path grows
 * as the reader descends ("policies", "policies[2]", "policies[2].rules")
 * and is cut back with tc_yaml_path_restore. */
typedef struct tc_yaml_ctx {
    const char *file;           /* borrowed */
    tc_error *err;              /* borrowed */
    size_t path_length;
    char path[TC_YAML_PATH_MAX];
} tc_yaml_ctx;

void tc_yaml_ctx_init(tc_yaml_ctx *ctx, const char *file, tc_error *err);

/* Append ".KEY" (or "KEY" at the top) or "[INDEX]" to the key path. Each
 * returns the previous path length, to pass to tc_yaml_path_restore. */
size_t tc_yaml_path_key(tc_yaml_ctx *ctx, const char *key);
size_t tc_yaml_path_index(tc_yaml_ctx *ctx, size_t index);
void tc_yaml_path_restore(tc_yaml_ctx *ctx, size_t length);

/* Record an input error at NODE (its line and column; NULL for none) under
 * the current key path. Returns TC_ERR_INPUT. */
int tc_yaml_fail(tc_yaml_ctx *ctx, const tc_yaml_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same at an explicit LINE and COLUMN. */
int tc_yaml_fail_at(tc_yaml_ctx *ctx, long line, long column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Write a short description of NODE for messages, such as `a sequence` or
 * `"-5"`, into BUF (SIZE bytes). Returns BUF. */
const char *tc_yaml_describe(const tc_yaml_node *node, char *buf, size_t size);

/* Check that NODE is a mapping (or a sequence). EXPECTED describes it for
 * the message ("a mapping of policy keys"). Returns TC_OK or TC_ERR_INPUT. */
int tc_yaml_expect_mapping(tc_yaml_ctx *ctx, const tc_yaml_node *node, const char *expected);
int tc_yaml_expect_sequence(tc_yaml_ctx *ctx, const tc_yaml_node *node, const char *expected);

/* Value under KEY in mapping MAP, or NULL when absent. Borrowed. */
const tc_yaml_node *tc_yaml_map_find(const tc_yaml_node *map, const char *key);

/* Reject the first key of MAP that is not one of the N ALLOWED names, with
 * a message listing them. Returns TC_OK or TC_ERR_INPUT. */
int tc_yaml_check_keys(tc_yaml_ctx *ctx, const tc_yaml_node *map,
                       const char *const *allowed, size_t n);

/* Value under KEY in MAP into *OUT; a missing key is an error at MAP whose
 * key path ends in KEY. The current path is left unchanged. */
int tc_yaml_require(tc_yaml_ctx *ctx, const tc_yaml_node *map, const char *key,
                    const tc_yaml_node **out);

/* Scalars. Numbers and booleans must be plain (unquoted) unless tagged with
 * the matching core tag (!!int, !!float, !!bool), so that "123" in quotes
 * stays a string.
 *  - u64: decimal digits only. Negative numbers, signs, fractions,
 *    exponents, hexadecimal or octal prefixes, leading zeros (YAML 1.1 reads
 *    them as octal) and values past UINT64_MAX are rejected.
 *  - double: a decimal number with optional fraction and exponent, finite;
 *    nan, inf and hexadecimal floats are rejected.
 *  - bool: true or false, lower case.
 *  - string: any scalar except null (an empty plain value, ~ or null) and
 *    strings with a NUL character. Plain 123 or true read as "123", "true".
 * Values outside [MIN, MAX] are errors. Each returns TC_OK or TC_ERR_INPUT. */
int tc_yaml_read_u64(tc_yaml_ctx *ctx, const tc_yaml_node *node, uint64_t min,
                     uint64_t max, uint64_t *out);
int tc_yaml_read_double(tc_yaml_ctx *ctx, const tc_yaml_node *node, double min,
                        double max, double *out);
int tc_yaml_read_bool(tc_yaml_ctx *ctx, const tc_yaml_node *node, bool *out);
/* *OUT is borrowed from the document. */
int tc_yaml_read_string(tc_yaml_ctx *ctx, const tc_yaml_node *node, const char **out);

/* A string that must be one of the COUNT names in NAMES; *OUT is its index.
 * VOCABULARY names the set in messages ("service", "env"). */
int tc_yaml_read_enum(tc_yaml_ctx *ctx, const tc_yaml_node *node,
                      const char *const *names, int count, const char *vocabulary, int *out);

/* A non-empty sequence of distinct names from NAMES (COUNT <= 255), kept in
 * order: OUT (COUNT entries) receives their indices and *N_OUT how many. */
int tc_yaml_read_enum_list(tc_yaml_ctx *ctx, const tc_yaml_node *node,
                           const char *const *names, int count, const char *vocabulary,
                           uint8_t *out, size_t *n_out);

/* A set of names from NAMES (COUNT <= 64) as a bit mask: a non-empty
 * sequence of distinct names, or, when ANY_MASK is nonzero, the plain
 * scalar "any", which reads as ANY_MASK. */
int tc_yaml_read_name_mask(tc_yaml_ctx *ctx, const tc_yaml_node *node,
                           const char *const *names, int count, const char *vocabulary,
                           uint64_t any_mask, uint64_t *out);

#endif
