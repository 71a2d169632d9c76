/* yaml_doc.c - strict YAML documents and typed accessors; see yaml_doc.h.
 *
 * The loader consumes libyaml events with an explicit stack of open
 * collections (one frame each, at most TC_YAML_MAX_DEPTH). Children of open
 * collections wait in one shared "pending" array; when a collection ends,
 * its children are copied into the arena and dropped from pending. Every
 * node and string lives in an arena that tc_yaml_free releases at once,
 * which is what lets an alias share its anchored node instead of copying it.
 */
#include "yaml_doc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "names.h"

#define YAML_TAG_STR "tag:yaml.org,2002:str"
#define YAML_TAG_INT "tag:yaml.org,2002:int"
#define YAML_TAG_FLOAT "tag:yaml.org,2002:float"
#define YAML_TAG_BOOL "tag:yaml.org,2002:bool"

/* ---- types ---- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, size;
    max_align_t data[];
} arena_block;

struct yaml_arena {
    arena_block *blocks;
};

/* An open sequence or mapping. For a mapping, pending contains key,
 * value, key, value ..., so COUNT is odd while a value is being parsed. */
typedef struct yaml_frame {
    tc_yaml_node *node;
    size_t first;              /* index in pending of the first child */
    size_t count;              /* children so far */
    char *anchor;              /* arena copy, registered when the node ends */
} yaml_frame;

typedef struct yaml_loader {
    tc_yaml_doc *doc;
    const char *file;
    const unsigned char *text; /* the whole input, for positions of errors */
    size_t length;
    tc_error *err;

    yaml_frame frames[TC_YAML_MAX_DEPTH];
    size_t depth;

    const tc_yaml_node **pending;
    size_t n_pending, pending_capacity;

    tc_names anchor_names;     /* anchor name -> id */
    const tc_yaml_node **anchor_nodes; /* id -> node */
    size_t anchor_capacity;

    int documents;
} yaml_loader;

/* ---- arena ---- */

static void *arena_alloc(struct yaml_arena *arena, size_t bytes)
{
    const size_t align = sizeof(max_align_t);
    bytes = (bytes + align - 1) / align * align;
    if (bytes == 0)
        bytes = align;

    arena_block *b = arena->blocks;
    if (b)
        b->used = (b->used + align - 1) / align * align;
    if (!b || b->used > b->size || b->size - b->used < bytes) {
        size_t size = bytes > 65536 ? bytes : 65536;
        b = malloc(sizeof *b + size);
        if (!b)
            return NULL;
        b->size = size;
        b->used = 0;
        b->next = arena->blocks;
        arena->blocks = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += bytes;
    return p;
}

/* Like arena_alloc, without alignment: strings are most of the arena. */
static char *arena_alloc_bytes(struct yaml_arena *arena, size_t bytes)
{
    arena_block *b = arena->blocks;
    if (b && b->size - b->used >= bytes) {
        char *p = (char *)b->data + b->used;
        b->used += bytes;
        return p;
    }
    return arena_alloc(arena, bytes);
}

static char *arena_strndup(struct yaml_arena *arena, const char *s, size_t n)
{
    char *copy = arena_alloc_bytes(arena, n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

static void arena_free(struct yaml_arena *arena)
{
    if (!arena)
        return;
    arena_block *b = arena->blocks;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(arena);
}

/* ---- positions ---- */

/* Number of UTF-8 characters in the N bytes at S. */
static size_t utf8_count(const unsigned char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            chars++;
    return chars;
}

static size_t text_bom_length(const yaml_loader *ld)
{
    if (ld->length >= 3 && ld->text[0] == 0xEF && ld->text[1] == 0xBB && ld->text[2] == 0xBF)
        return 3;
    return 0;
}

/* Line and column (1-based, characters) of byte OFFSET of the input. A
 * byte-order mark is not counted, as libyaml does not count it. */
static void text_position(const yaml_loader *ld, size_t offset, long *line, long *column)
{
    size_t start = text_bom_length(ld);
    size_t line_start = start;
    long l = 1;
    if (offset > ld->length)
        offset = ld->length;
    for (size_t i = start; i < offset; i++) {
        unsigned char c = ld->text[i];
        if (c == '\n' || (c == '\r' && (i + 1 >= ld->length || ld->text[i + 1] != '\n'))) {
            l++;
            line_start = i + 1;
        }
    }
    if (offset < line_start)
        offset = line_start;
    *line = l;
    *column = (long)utf8_count(ld->text + line_start, offset - line_start) + 1;
}

/* Byte offset of the character at libyaml mark (LINE0, COLUMN0), both
 * 0-based; the input length when past its end. */
static size_t text_offset(const yaml_loader *ld, size_t line0, size_t column0)
{
    size_t i = text_bom_length(ld);
    for (size_t l = 0; l < line0 && i < ld->length; i++) {
        unsigned char c = ld->text[i];
        if (c == '\n' || (c == '\r' && (i + 1 >= ld->length || ld->text[i + 1] != '\n')))
            l++;
    }
    for (size_t c = 0; i < ld->length; i++) {
        if ((ld->text[i] & 0xC0) != 0x80) {
            if (c == column0)
                break;
            c++;
        }
    }
    return i;
}

/* Is byte OFFSET a tab with only blanks before it on its line? */
static bool text_is_indent_tab(const yaml_loader *ld, size_t offset)
{
    if (offset >= ld->length || ld->text[offset] != '\t')
        return false;
    for (size_t i = offset; i > 0; i--) {
        unsigned char c = ld->text[i - 1];
        if (c == '\n' || c == '\r')
            return true;
        if (c != ' ' && c != '\t')
            return false;
    }
    return true;
}

/* ---- key paths ---- */

static void path_append(char *buf, size_t size, size_t *length, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void path_append(char *buf, size_t size, size_t *length, const char *fmt, ...)
{
    if (*length >= size - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *length, size - *length, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *length += (size_t)n;
    if (*length >= size - 1)
        *length = size - 1;
}

/* Write the key path of the node being parsed into BUF: the key of every
 * open mapping whose value is being parsed and the index in every open
 * sequence. */
static void loader_path(const yaml_loader *ld, char *buf, size_t size)
{
    size_t length = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ld->depth; i++) {
        const yaml_frame *f = &ld->frames[i];
        if (f->node->kind == TC_YAML_SEQUENCE) {
            path_append(buf, size, &length, "[%zu]", f->count);
        } else if (f->count % 2 == 1) {
            const tc_yaml_node *key = ld->pending[f->first + f->count - 1];
            path_append(buf, size, &length, "%s%s", length ? "." : "", key->text);
        }
    }
}

/* Fit PATH into an error record's key field. A longer path keeps its start
 * and its end, where the error is, joined by "..." at key boundaries. */
static const char *error_key(const char *path, char *buf, size_t size)
{
    size_t length = path ? strlen(path) : 0;
    if (length < size)
        return path;

    size_t head = size / 4;
    while (head > 1 && path[head] != '[' && path[head] != '.')
        head--;
    size_t tail = length - (size - 1 - head - 3);
    while (tail < length && path[tail] != '[' && path[tail] != '.')
        tail++;
    if (path[tail] == '.')
        tail++;
    snprintf(buf, size, "%.*s...%s", (int)head, path, path + tail);
    return buf;
}

static int loader_fail(yaml_loader *ld, long line, long column, const char *key,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int loader_fail(yaml_loader *ld, long line, long column, const char *key,
                       const char *fmt, ...)
{
    char message[sizeof ld->err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    char short_key[sizeof ld->err->key];
    return tc_error_input(ld->err, ld->file, line, column,
                          error_key(key, short_key, sizeof short_key), "%s", message);
}

static int loader_fail_here(yaml_loader *ld, const yaml_mark_t *mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int loader_fail_here(yaml_loader *ld, const yaml_mark_t *mark, const char *fmt, ...)
{
    char path[TC_YAML_PATH_MAX];
    char message[sizeof ld->err->message];
    loader_path(ld, path, sizeof path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return loader_fail(ld, (long)mark->line + 1, (long)mark->column + 1, path, "%s", message);
}

/* Translate a libyaml failure into ERR. */
static int loader_fail_libyaml(yaml_loader *ld, const yaml_parser_t *parser)
{
    if (parser->error == YAML_MEMORY_ERROR)
        return tc_error_runtime(ld->err, "%s: out of memory while parsing YAML", ld->file);

    /* The reader decodes ahead of the parser, so the parse stack does not
     * locate a reader error, and the error gets no key path. */
    if (parser->error == YAML_READER_ERROR) {
        long line, column;
        size_t offset = parser->problem_offset;

        /* libyaml reports the bad trailing byte. The author has to fix the
         * byte that started the sequence, such as 0xE9 for a Latin-1 "e
         * acute", so the error points there. */
        if (strcmp(parser->problem, "invalid trailing UTF-8 octet") == 0) {
            /* A sequence is at most 4 bytes, so its lead is 1 to 3 bytes back. */
            size_t lead = offset < ld->length ? offset : ld->length;
            bool found = false;
            while (!found && lead > 0 && offset - lead < 3) {
                lead--;
                found = (ld->text[lead] & 0xC0) == 0xC0;
            }
            if (found) {
                text_position(ld, lead, &line, &column);
                return loader_fail(ld, line, column, NULL, "not valid UTF-8 text: invalid "
                                   "UTF-8 sequence starting with byte 0x%02X; save the file "
                                   "as UTF-8", ld->text[lead]);
            }
        }
        text_position(ld, offset, &line, &column);
        if (strstr(parser->problem, "UTF-8") && parser->problem_value >= 0)
            return loader_fail(ld, line, column, NULL,
                               "not valid UTF-8 text: %s (0x%02X); save the file as UTF-8",
                               parser->problem, (unsigned)parser->problem_value);
        if (parser->problem_value >= 0)
            return loader_fail(ld, line, column, NULL, "invalid character U+%04X: %s",
                               (unsigned)parser->problem_value, parser->problem);
        return loader_fail(ld, line, column, NULL, "not valid UTF-8 text: %s; save the file "
                           "as UTF-8", parser->problem);
    }

    /* At the end of a file without a final line break, libyaml reports the
     * start of a line after the last one. The error points at the end of
     * the last line instead. */
    yaml_mark_t mark = parser->problem_mark;
    size_t offset = text_offset(ld, mark.line, mark.column);
    if (offset >= ld->length) {
        long line, column;
        text_position(ld, ld->length, &line, &column);
        mark.line = (size_t)line - 1;
        mark.column = (size_t)column - 1;
    }
    if (text_is_indent_tab(ld, offset))
        return loader_fail_here(ld, &mark, "tab character used for indentation; "
                                "YAML indents with spaces only");

    const char *problem = parser->problem ? parser->problem : "unknown libyaml error";
    if (parser->context)
        return loader_fail_here(ld, &mark, "invalid YAML: %s %s started at line %zu, column %zu",
                                problem, parser->context, parser->context_mark.line + 1,
                                parser->context_mark.column + 1);
    return loader_fail_here(ld, &mark, "invalid YAML: %s", problem);
}

/* ---- building the tree ---- */

static int loader_out_of_memory(yaml_loader *ld)
{
    return tc_error_runtime(ld->err, "%s: out of memory while loading YAML", ld->file);
}

static int loader_push_pending(yaml_loader *ld, const tc_yaml_node *node)
{
    if (ld->n_pending == ld->pending_capacity) {
        size_t capacity = ld->pending_capacity ? ld->pending_capacity * 2 : 256;
        const tc_yaml_node **p = realloc(ld->pending, capacity * sizeof *p);
        if (!p)
            return loader_out_of_memory(ld);
        ld->pending = p;
        ld->pending_capacity = capacity;
    }
    ld->pending[ld->n_pending++] = node;
    return TC_OK;
}

static int loader_register_anchor(yaml_loader *ld, const char *anchor, const tc_yaml_node *node)
{
    if (!anchor)
        return TC_OK;
    uint32_t id = tc_names_intern(&ld->anchor_names, anchor, NULL);
    if (id == TC_NAME_NONE)
        return loader_out_of_memory(ld);
    if (id >= ld->anchor_capacity) {
        size_t capacity = ld->anchor_capacity ? ld->anchor_capacity * 2 : 16;
        const tc_yaml_node **p = realloc(ld->anchor_nodes, capacity * sizeof *p);
        if (!p)
            return loader_out_of_memory(ld);
        ld->anchor_nodes = p;
        ld->anchor_capacity = capacity;
    }
    /* An alias refers to the most recent node with its anchor, so a later
     * anchor of the same name replaces the earlier one. */
    ld->anchor_nodes[id] = node;
    return TC_OK;
}

/* Attach a finished NODE (scalar, closed collection or alias target) to the
 * open collection, or make it the root. */
static int loader_attach(yaml_loader *ld, const tc_yaml_node *node)
{
    if (ld->depth == 0) {
        ld->doc->root = node;
        return TC_OK;
    }
    yaml_frame *f = &ld->frames[ld->depth - 1];
    if (f->node->kind == TC_YAML_MAPPING && f->count % 2 == 0 && node->kind != TC_YAML_SCALAR) {
        char path[TC_YAML_PATH_MAX];
        loader_path(ld, path, sizeof path);
        return loader_fail(ld, node->line, node->column, path,
                           "a mapping key must be a scalar, found a %s",
                           node->kind == TC_YAML_MAPPING ? "mapping" : "sequence");
    }
    int rc = loader_push_pending(ld, node);
    if (rc != TC_OK)
        return rc;
    f->count++;
    return TC_OK;
}

static tc_yaml_node *loader_new_node(yaml_loader *ld, tc_yaml_kind kind, const yaml_mark_t *mark)
{
    tc_yaml_node *node = arena_alloc(ld->doc->arena, sizeof *node);
    if (!node)
        return NULL;
    memset(node, 0, sizeof *node);
    node->kind = kind;
    node->line = (uint32_t)mark->line + 1;
    node->column = (uint32_t)mark->column + 1;
    node->expanded = 1;
    ld->doc->n_nodes++;
    return node;
}

static int loader_scalar(yaml_loader *ld, const yaml_event_t *ev)
{
    tc_yaml_node *node = loader_new_node(ld, TC_YAML_SCALAR, &ev->start_mark);
    if (!node)
        return loader_out_of_memory(ld);

    const char *value = (const char *)ev->data.scalar.value;
    size_t length = ev->data.scalar.length;
    char *text = arena_strndup(ld->doc->arena, value, length);
    if (!text)
        return loader_out_of_memory(ld);
    node->text = text;
    node->length = length;
    node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (ev->data.scalar.tag) {
        node->tag = arena_strndup(ld->doc->arena, (const char *)ev->data.scalar.tag,
                                  strlen((const char *)ev->data.scalar.tag));
        if (!node->tag)
            return loader_out_of_memory(ld);
    }

    /* The text is verbatim when the source span contains exactly the
     * value, plus the two quotes of a quoted scalar. Mark indices count
     * characters. Escapes, folding and block styles all change the count. */
    yaml_scalar_style_t style = ev->data.scalar.style;
    size_t quotes = style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                            style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ? 2 : 0;
    bool simple = style == YAML_PLAIN_SCALAR_STYLE || quotes == 2;
    if (simple && !node->tag && ev->start_mark.line == ev->end_mark.line &&
        ev->end_mark.index - ev->start_mark.index ==
            utf8_count((const unsigned char *)value, length) + quotes)
        node->text_column = node->column + (quotes ? 1 : 0);

    int rc = loader_register_anchor(ld, (const char *)ev->data.scalar.anchor, node);
    if (rc != TC_OK)
        return rc;
    return loader_attach(ld, node);
}

static int loader_collection_start(yaml_loader *ld, const yaml_event_t *ev, tc_yaml_kind kind)
{
    if (ld->depth == TC_YAML_MAX_DEPTH)
        return loader_fail_here(ld, &ev->start_mark,
                                "nesting deeper than %d levels; flatten the file",
                                TC_YAML_MAX_DEPTH);

    tc_yaml_node *node = loader_new_node(ld, kind, &ev->start_mark);
    if (!node)
        return loader_out_of_memory(ld);
    const yaml_char_t *anchor = kind == TC_YAML_MAPPING ? ev->data.mapping_start.anchor
                                                        : ev->data.sequence_start.anchor;
    char *anchor_copy = NULL;
    if (anchor) {
        anchor_copy = arena_strndup(ld->doc->arena, (const char *)anchor,
                                    strlen((const char *)anchor));
        if (!anchor_copy)
            return loader_out_of_memory(ld);
    }

    yaml_frame *f = &ld->frames[ld->depth++];
    f->node = node;
    f->first = ld->n_pending;
    f->count = 0;
    f->anchor = anchor_copy;
    return TC_OK;
}

static int pair_compare(const void *a, const void *b)
{
    const tc_yaml_pair *pa = *(const tc_yaml_pair *const *)a;
    const tc_yaml_pair *pb = *(const tc_yaml_pair *const *)b;
    size_t n = pa->key->length < pb->key->length ? pa->key->length : pb->key->length;
    int c = memcmp(pa->key->text, pb->key->text, n);
    if (c != 0)
        return c;
    if (pa->key->length != pb->key->length)
        return pa->key->length < pb->key->length ? -1 : 1;
    /* Equal keys sort in file order, so the second one is reported. */
    if (pa == pb)
        return 0;
    return pa < pb ? -1 : 1;
}

/* Reject a key written twice in the mapping just closed. Sorting keeps
 * this O(n log n) for the large mappings of explicit topologies. */
static int loader_check_duplicates(yaml_loader *ld, const tc_yaml_node *map)
{
    if (map->n < 2)
        return TC_OK;
    const tc_yaml_pair **sorted = malloc(map->n * sizeof *sorted);
    if (!sorted)
        return loader_out_of_memory(ld);
    for (size_t i = 0; i < map->n; i++)
        sorted[i] = &map->pairs[i];
    qsort(sorted, map->n, sizeof *sorted, pair_compare);

    int rc = TC_OK;
    for (size_t i = 1; i < map->n; i++) {
        if (sorted[i - 1]->key->length != sorted[i]->key->length ||
            memcmp(sorted[i - 1]->key->text, sorted[i]->key->text, sorted[i]->key->length) != 0)
            continue;
        const tc_yaml_node *first = sorted[i - 1]->key;
        const tc_yaml_node *again = sorted[i]->key;
        char path[TC_YAML_PATH_MAX];
        loader_path(ld, path, sizeof path);
        size_t length = strlen(path);
        path_append(path, sizeof path, &length, "%s%s", length ? "." : "", again->text);
        rc = loader_fail(ld, again->line, again->column, path,
                         "duplicate key (first written at line %ld, column %ld); "
                         "each key may appear once in a mapping",
                         (long)first->line, (long)first->column);
        break;
    }
    free(sorted);
    return rc;
}

static int loader_collection_end(yaml_loader *ld)
{
    yaml_frame f = ld->frames[--ld->depth];
    tc_yaml_node *node = f.node;
    /* An empty collection may have no pending array at all. */
    const tc_yaml_node **children = f.count ? ld->pending + f.first : NULL;

    for (size_t i = 0; i < f.count; i++)
        node->expanded += children[i]->expanded;

    if (node->kind == TC_YAML_SEQUENCE) {
        const tc_yaml_node **items = arena_alloc(ld->doc->arena, f.count * sizeof *items);
        if (!items)
            return loader_out_of_memory(ld);
        if (f.count)
            memcpy(items, children, f.count * sizeof *items);
        node->items = items;
        node->n = f.count;
    } else {
        size_t n = f.count / 2;
        tc_yaml_pair *pairs = arena_alloc(ld->doc->arena, n * sizeof *pairs);
        if (!pairs)
            return loader_out_of_memory(ld);
        for (size_t i = 0; i < n; i++) {
            pairs[i].key = children[2 * i];
            pairs[i].value = children[2 * i + 1];
        }
        node->pairs = pairs;
        node->n = n;
        int rc = loader_check_duplicates(ld, node);
        if (rc != TC_OK)
            return rc;
    }
    ld->n_pending = f.first;

    int rc = loader_register_anchor(ld, f.anchor, node);
    if (rc != TC_OK)
        return rc;
    return loader_attach(ld, node);
}

static int loader_alias(yaml_loader *ld, const yaml_event_t *ev)
{
    const char *anchor = (const char *)ev->data.alias.anchor;
    uint32_t id = tc_names_find(&ld->anchor_names, anchor);
    if (id == TC_NAME_NONE)
        return loader_fail_here(ld, &ev->start_mark,
                                "alias *%s has no anchor &%s before it (an alias must come "
                                "after the end of its anchored node)", anchor, anchor);

    const tc_yaml_node *node = ld->anchor_nodes[id];
    ld->doc->n_alias_nodes += node->expanded;
    if (ld->doc->n_alias_nodes > TC_YAML_MAX_ALIAS_NODES)
        return loader_fail_here(ld, &ev->start_mark,
                                "aliases expand to more than %u nodes; "
                                "write the content out instead of nesting aliases",
                                TC_YAML_MAX_ALIAS_NODES);
    return loader_attach(ld, node);
}

static int loader_event(yaml_loader *ld, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (ld->documents++ > 0)
            return loader_fail(ld, (long)ev->start_mark.line + 1,
                               (long)ev->start_mark.column + 1, NULL,
                               "a second YAML document starts here; the file must hold "
                               "exactly one");
        return TC_OK;
    case YAML_SCALAR_EVENT:
        return loader_scalar(ld, ev);
    case YAML_SEQUENCE_START_EVENT:
        return loader_collection_start(ld, ev, TC_YAML_SEQUENCE);
    case YAML_MAPPING_START_EVENT:
        return loader_collection_start(ld, ev, TC_YAML_MAPPING);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return loader_collection_end(ld);
    case YAML_ALIAS_EVENT:
        return loader_alias(ld, ev);
    default:
        return TC_OK;
    }
}

static int loader_run(yaml_loader *ld)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return loader_out_of_memory(ld);
    /* libyaml picks the encoding from a byte-order mark and skips a UTF-8
     * one. Positions of reader errors are computed on UTF-8 bytes, so the
     * UTF-16 marks that libyaml would also accept are rejected first. */
    if (ld->length >= 2 && ((ld->text[0] == 0xFE && ld->text[1] == 0xFF) ||
                            (ld->text[0] == 0xFF && ld->text[1] == 0xFE))) {
        yaml_parser_delete(&parser);
        return loader_fail(ld, 1, 1, NULL, "the file is UTF-16; save it as UTF-8");
    }
    yaml_parser_set_input_string(&parser, ld->text, ld->length);

    int rc = TC_OK;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = loader_fail_libyaml(ld, &parser);
            break;
        }
        rc = loader_event(ld, &ev);
        bool end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (rc != TC_OK || end)
            break;
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* ---- API: loading ---- */

int tc_yaml_load_text(const char *file_name, const char *text, size_t length,
                      tc_yaml_doc **out, tc_error *err)
{
    *out = NULL;
    tc_yaml_doc *doc = calloc(1, sizeof *doc);
    if (!doc)
        return tc_error_runtime(err, "%s: out of memory while loading YAML", file_name);
    doc->arena = calloc(1, sizeof *doc->arena);
    if (!doc->arena) {
        free(doc);
        return tc_error_runtime(err, "%s: out of memory while loading YAML", file_name);
    }

    yaml_loader ld;
    memset(&ld, 0, sizeof ld);
    ld.doc = doc;
    ld.file = file_name;
    ld.text = (const unsigned char *)text;
    ld.length = length;
    ld.err = err;
    tc_names_init(&ld.anchor_names);

    int rc = loader_run(&ld);

    tc_names_free(&ld.anchor_names);
    free(ld.anchor_nodes);
    free(ld.pending);
    if (rc != TC_OK) {
        tc_yaml_free(doc);
        return rc;
    }
    *out = doc;
    return TC_OK;
}

int tc_yaml_load(const char *path, tc_yaml_doc **out, tc_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tc_error_input(err, path, 0, 0, NULL, "cannot open: %s", strerror(errno));

    int rc = TC_OK;
    char *text = NULL;
    size_t length = 0, capacity = 0;
    for (;;) {
        if (length == capacity) {
            size_t grown = capacity ? capacity * 2 : 65536;
            char *p = realloc(text, grown);
            if (!p) {
                rc = tc_error_runtime(err, "%s: out of memory while reading", path);
                goto close_file;
            }
            text = p;
            capacity = grown;
        }
        size_t n = fread(text + length, 1, capacity - length, f);
        length += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        rc = tc_error_input(err, path, 0, 0, NULL, "read failed: %s", strerror(errno));
        goto close_file;
    }

    rc = tc_yaml_load_text(path, text, length, out, err);

close_file:
    fclose(f);
    free(text);
    return rc;
}

void tc_yaml_free(tc_yaml_doc *doc)
{
    if (!doc)
        return;
    arena_free(doc->arena);
    free(doc);
}

/* ---- API: context and errors ---- */

void tc_yaml_ctx_init(tc_yaml_ctx *ctx, const char *file, tc_error *err)
{
    ctx->file = file;
    ctx->err = err;
    ctx->path_length = 0;
    ctx->path[0] = '\0';
}

size_t tc_yaml_path_key(tc_yaml_ctx *ctx, const char *key)
{
    size_t previous = ctx->path_length;
    path_append(ctx->path, sizeof ctx->path, &ctx->path_length, "%s%s",
                ctx->path_length ? "." : "", key);
    return previous;
}

size_t tc_yaml_path_index(tc_yaml_ctx *ctx, size_t index)
{
    size_t previous = ctx->path_length;
    path_append(ctx->path, sizeof ctx->path, &ctx->path_length, "[%zu]", index);
    return previous;
}

void tc_yaml_path_restore(tc_yaml_ctx *ctx, size_t length)
{
    if (length < sizeof ctx->path) {
        ctx->path_length = length;
        ctx->path[length] = '\0';
    }
}

static int ctx_vfail(tc_yaml_ctx *ctx, long line, long column, const char *fmt, va_list ap)
{
    char message[sizeof ctx->err->message];
    vsnprintf(message, sizeof message, fmt, ap);
    char short_key[sizeof ctx->err->key];
    return tc_error_input(ctx->err, ctx->file, line, column,
                          error_key(ctx->path, short_key, sizeof short_key), "%s", message);
}

int tc_yaml_fail(tc_yaml_ctx *ctx, const tc_yaml_node *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ctx_vfail(ctx, node ? node->line : 0, node ? node->column : 0, fmt, ap);
    va_end(ap);
    return rc;
}

int tc_yaml_fail_at(tc_yaml_ctx *ctx, long line, long column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ctx_vfail(ctx, line, column, fmt, ap);
    va_end(ap);
    return rc;
}

static bool scalar_is_null(const tc_yaml_node *node)
{
    if (node->kind != TC_YAML_SCALAR || !node->plain || node->tag)
        return false;
    const char *t = node->text;
    return node->length == 0 || strcmp(t, "~") == 0 || strcmp(t, "null") == 0 ||
           strcmp(t, "Null") == 0 || strcmp(t, "NULL") == 0;
}

const char *tc_yaml_describe(const tc_yaml_node *node, char *buf, size_t size)
{
    if (node->kind == TC_YAML_SEQUENCE) {
        snprintf(buf, size, "a sequence");
        return buf;
    }
    if (node->kind == TC_YAML_MAPPING) {
        snprintf(buf, size, "a mapping");
        return buf;
    }
    if (scalar_is_null(node)) {
        snprintf(buf, size, "an empty value");
        return buf;
    }

    /* Quote at most 40 bytes, with control characters shown as '?', so a
     * message stays on one line. */
    char shown[48];
    size_t n = 0;
    for (size_t i = 0; i < node->length && n < 40; i++) {
        unsigned char c = (unsigned char)node->text[i];
        shown[n++] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    }
    shown[n] = '\0';
    snprintf(buf, size, "%s\"%s%s\"", node->plain ? "" : "the quoted string ", shown,
             node->length > n ? "..." : "");
    return buf;
}

/* ---- API: structure ---- */

static int expect_kind(tc_yaml_ctx *ctx, const tc_yaml_node *node, tc_yaml_kind kind,
                       const char *expected)
{
    if (node->kind == kind)
        return TC_OK;
    char found[80];
    return tc_yaml_fail(ctx, node, "expected %s, found %s", expected,
                        tc_yaml_describe(node, found, sizeof found));
}

int tc_yaml_expect_mapping(tc_yaml_ctx *ctx, const tc_yaml_node *node, const char *expected)
{
    return expect_kind(ctx, node, TC_YAML_MAPPING, expected);
}

int tc_yaml_expect_sequence(tc_yaml_ctx *ctx, const tc_yaml_node *node, const char *expected)
{
    return expect_kind(ctx, node, TC_YAML_SEQUENCE, expected);
}

const tc_yaml_node *tc_yaml_map_find(const tc_yaml_node *map, const char *key)
{
    if (map->kind != TC_YAML_MAPPING)
        return NULL;
    size_t length = strlen(key);
    for (size_t i = 0; i < map->n; i++) {
        const tc_yaml_node *k = map->pairs[i].key;
        if (k->length == length && memcmp(k->text, key, length) == 0)
            return map->pairs[i].value;
    }
    return NULL;
}

int tc_yaml_check_keys(tc_yaml_ctx *ctx, const tc_yaml_node *map,
                       const char *const *allowed, size_t n)
{
    for (size_t i = 0; i < map->n; i++) {
        const tc_yaml_node *key = map->pairs[i].key;
        bool known = false;
        for (size_t j = 0; j < n && !known; j++)
            known = strlen(allowed[j]) == key->length && strcmp(allowed[j], key->text) == 0;
        if (known)
            continue;

        char list[768];
        size_t length = 0;
        list[0] = '\0';
        for (size_t j = 0; j < n; j++)
            path_append(list, sizeof list, &length, "%s%s", j ? ", " : "", allowed[j]);
        size_t saved = tc_yaml_path_key(ctx, key->text);
        int rc = tc_yaml_fail(ctx, key, "unknown key; allowed keys here: %s", list);
        tc_yaml_path_restore(ctx, saved);
        return rc;
    }
    return TC_OK;
}

int tc_yaml_require(tc_yaml_ctx *ctx, const tc_yaml_node *map, const char *key,
                    const tc_yaml_node **out)
{
    *out = tc_yaml_map_find(map, key);
    if (*out)
        return TC_OK;
    size_t saved = tc_yaml_path_key(ctx, key);
    int rc = tc_yaml_fail(ctx, map, "missing required key");
    tc_yaml_path_restore(ctx, saved);
    return rc;
}

/* ---- API: scalars ---- */

/* Check that NODE is a scalar that may be read as TYPE_NAME (used in
 * messages): plain and untagged, or tagged with TAG. */
static int expect_typed_scalar(tc_yaml_ctx *ctx, const tc_yaml_node *node, const char *tag,
                               const char *type_name)
{
    char found[80];
    if (node->kind != TC_YAML_SCALAR)
        return tc_yaml_fail(ctx, node, "expected %s, found %s", type_name,
                            tc_yaml_describe(node, found, sizeof found));
    if (node->tag) {
        if (strcmp(node->tag, tag) == 0)
            return TC_OK;
        return tc_yaml_fail(ctx, node, "expected %s, found a value tagged %s", type_name,
                            node->tag);
    }
    if (!node->plain)
        return tc_yaml_fail(ctx, node, "expected %s, found %s; remove the quotes", type_name,
                            tc_yaml_describe(node, found, sizeof found));
    if (node->length == 0 || scalar_is_null(node))
        return tc_yaml_fail(ctx, node, "expected %s, found an empty value", type_name);
    return TC_OK;
}

int tc_yaml_read_u64(tc_yaml_ctx *ctx, const tc_yaml_node *node, uint64_t min,
                     uint64_t max, uint64_t *out)
{
    const char *expected = "an unsigned integer";
    int rc = expect_typed_scalar(ctx, node, YAML_TAG_INT, expected);
    if (rc != TC_OK)
        return rc;

    const char *t = node->text;
    char found[80];
    tc_yaml_describe(node, found, sizeof found);
    if (t[0] == '-')
        return tc_yaml_fail(ctx, node, "expected %s, found the negative number %s", expected, found);
    if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X' || t[1] == 'o' || t[1] == 'b'))
        return tc_yaml_fail(ctx, node, "expected %s in decimal digits, found %s", expected, found);

    uint64_t value = 0;
    for (size_t i = 0; i < node->length; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c < '0' || c > '9') {
            if (strpbrk(t, ".eE"))
                return tc_yaml_fail(ctx, node, "expected %s (a whole number in decimal "
                                    "digits), found %s", expected, found);
            return tc_yaml_fail(ctx, node, "expected %s in decimal digits, found %s", expected, found);
        }
        unsigned digit = c - '0';
        if (value > (UINT64_MAX - digit) / 10)
            return tc_yaml_fail(ctx, node, "%s is too large; the maximum is %" PRIu64,
                                found, max);
        value = value * 10 + digit;
    }
    if (t[0] == '0' && node->length > 1)
        return tc_yaml_fail(ctx, node, "expected %s without leading zeros, found %s "
                            "(YAML 1.1 reads it as octal)", expected, found);

    if (value < min || value > max) {
        if (max == UINT64_MAX)
            return tc_yaml_fail(ctx, node, "must be at least %" PRIu64 ", found %" PRIu64,
                                min, value);
        return tc_yaml_fail(ctx, node, "must be between %" PRIu64 " and %" PRIu64
                            ", found %" PRIu64, min, max, value);
    }
    *out = value;
    return TC_OK;
}

int tc_yaml_read_double(tc_yaml_ctx *ctx, const tc_yaml_node *node, double min,
                        double max, double *out)
{
    const char *expected = "a number";
    int rc = expect_typed_scalar(ctx, node, YAML_TAG_FLOAT, expected);
    if (rc != TC_OK)
        return rc;

    /* Accept [-+]digits[.digits][(e|E)[-+]digits] with at least one digit
     * in the mantissa; strtod alone would also take nan, inf and hex. */
    const char *t = node->text;
    size_t i = 0, digits = 0;
    if (t[i] == '-' || t[i] == '+')
        i++;
    for (; t[i] >= '0' && t[i] <= '9'; i++)
        digits++;
    if (t[i] == '.')
        for (i++; t[i] >= '0' && t[i] <= '9'; i++)
            digits++;
    bool valid = digits > 0;
    if (valid && (t[i] == 'e' || t[i] == 'E')) {
        size_t exponent_digits = 0;
        i++;
        if (t[i] == '-' || t[i] == '+')
            i++;
        for (; t[i] >= '0' && t[i] <= '9'; i++)
            exponent_digits++;
        valid = exponent_digits > 0;
    }
    char found[80];
    if (!valid || i != node->length)
        return tc_yaml_fail(ctx, node, "expected a finite decimal number, found %s",
                            tc_yaml_describe(node, found, sizeof found));

    errno = 0;
    double value = strtod(t, NULL);
    if (!isfinite(value))
        return tc_yaml_fail(ctx, node, "expected a finite decimal number, found %s",
                            tc_yaml_describe(node, found, sizeof found));
    if (value < min || value > max)
        return tc_yaml_fail(ctx, node, "must be between %g and %g, found %s", min, max,
                            tc_yaml_describe(node, found, sizeof found));
    *out = value;
    return TC_OK;
}

int tc_yaml_read_bool(tc_yaml_ctx *ctx, const tc_yaml_node *node, bool *out)
{
    int rc = expect_typed_scalar(ctx, node, YAML_TAG_BOOL, "true or false");
    if (rc != TC_OK)
        return rc;
    if (strcmp(node->text, "true") == 0) {
        *out = true;
        return TC_OK;
    }
    if (strcmp(node->text, "false") == 0) {
        *out = false;
        return TC_OK;
    }
    char found[80];
    return tc_yaml_fail(ctx, node, "expected true or false, found %s",
                        tc_yaml_describe(node, found, sizeof found));
}

int tc_yaml_read_string(tc_yaml_ctx *ctx, const tc_yaml_node *node, const char **out)
{
    char found[80];
    if (node->kind != TC_YAML_SCALAR)
        return tc_yaml_fail(ctx, node, "expected a string, found %s",
                            tc_yaml_describe(node, found, sizeof found));
    if (node->tag && strcmp(node->tag, YAML_TAG_STR) != 0 && strcmp(node->tag, "!") != 0)
        return tc_yaml_fail(ctx, node, "expected a string, found a value tagged %s", node->tag);
    if (scalar_is_null(node))
        return tc_yaml_fail(ctx, node, "expected a string, found an empty value");
    if (node->length == 0)
        return tc_yaml_fail(ctx, node, "expected a non-empty string");
    if (strlen(node->text) != node->length)
        return tc_yaml_fail(ctx, node, "the string contains a NUL character");
    *out = node->text;
    return TC_OK;
}

static void names_list(const char *const *names, int count, char *buf, size_t size)
{
    size_t length = 0;
    buf[0] = '\0';
    for (int i = 0; i < count; i++)
        path_append(buf, size, &length, "%s%s", i ? ", " : "", names[i]);
}

int tc_yaml_read_enum(tc_yaml_ctx *ctx, const tc_yaml_node *node,
                      const char *const *names, int count, const char *vocabulary, int *out)
{
    const char *value;
    int rc = tc_yaml_read_string(ctx, node, &value);
    if (rc != TC_OK)
        return rc;
    for (int i = 0; i < count; i++) {
        if (strcmp(names[i], value) == 0) {
            *out = i;
            return TC_OK;
        }
    }
    char list[512];
    names_list(names, count, list, sizeof list);
    return tc_yaml_fail(ctx, node, "unknown %s \"%s\"; expected one of: %s", vocabulary, value, list);
}

int tc_yaml_read_enum_list(tc_yaml_ctx *ctx, const tc_yaml_node *node,
                           const char *const *names, int count, const char *vocabulary,
                           uint8_t *out, size_t *n_out)
{
    char found[80];
    *n_out = 0;
    if (node->kind != TC_YAML_SEQUENCE)
        return tc_yaml_fail(ctx, node, "expected a list of %s names, found %s", vocabulary,
                            tc_yaml_describe(node, found, sizeof found));
    if (node->n == 0)
        return tc_yaml_fail(ctx, node, "expected at least one %s, found an empty list", vocabulary);

    for (size_t i = 0; i < node->n; i++) {
        size_t saved = tc_yaml_path_index(ctx, i);
        int index = 0;
        int rc = tc_yaml_read_enum(ctx, node->items[i], names, count, vocabulary, &index);
        for (size_t j = 0; rc == TC_OK && j < *n_out; j++)
            if (out[j] == index)
                rc = tc_yaml_fail(ctx, node->items[i], "%s \"%s\" is listed twice", vocabulary,
                                  names[index]);
        tc_yaml_path_restore(ctx, saved);
        if (rc != TC_OK)
            return rc;
        out[(*n_out)++] = (uint8_t)index;
    }
    return TC_OK;
}

int tc_yaml_read_name_mask(tc_yaml_ctx *ctx, const tc_yaml_node *node,
                           const char *const *names, int count, const char *vocabulary,
                           uint64_t any_mask, uint64_t *out)
{
    if (any_mask && node->kind == TC_YAML_SCALAR && node->plain && !node->tag &&
        strcmp(node->text, "any") == 0) {
        *out = any_mask;
        return TC_OK;
    }
    if (any_mask && node->kind != TC_YAML_SEQUENCE) {
        char found[80];
        return tc_yaml_fail(ctx, node, "expected a list of %s names or any, found %s", vocabulary,
                            tc_yaml_describe(node, found, sizeof found));
    }

    uint8_t indices[64];
    size_t n = 0;
    int rc = tc_yaml_read_enum_list(ctx, node, names, count < 64 ? count : 64, vocabulary,
                                    indices, &n);
    if (rc != TC_OK)
        return rc;
    uint64_t mask = 0;
    for (size_t i = 0; i < n; i++)
        mask |= (uint64_t)1 << indices[i];
    *out = mask;
    return TC_OK;
}
