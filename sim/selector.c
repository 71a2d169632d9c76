/* selector.c - SmartGroup selectors; see selector.h for the grammar.
 *
 * A parsed selector is a flat array of nodes. "&&" and "||" chains are
 * n-ary nodes over a range of the child array, so a long chain costs no
 * recursion depth. Only parentheses and "!" nest. They are limited to
 * SELECTOR_MAX_DEPTH, which bounds the recursion of both the parser and
 * tc_selector_match.
 *
 * Every comparison becomes a membership test: `env == prod` is "env in
 * {prod}", `env != prod` its negation. Enumerated and boolean attributes
 * keep the allowed values as a bit mask. Named attributes keep the value
 * strings, and tc_selector_bind turns them into ids of the topology's name
 * tables.
 */
#include "selector.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define SELECTOR_MAX_DEPTH 64

/* ---- types ---- */

enum sel_op { SEL_TRUE, SEL_FALSE, SEL_NOT, SEL_AND, SEL_OR, SEL_MEMBER };

typedef struct sel_node {
    enum sel_op op;
    uint8_t attr;              /* SEL_MEMBER: enum tc_attr */
    bool negate;               /* SEL_MEMBER: "!=" */
    uint32_t first, count;     /* NOT/AND/OR: range of children; MEMBER: range of values */
    uint64_t mask;             /* MEMBER on enumerated/boolean attributes: bit per value */
} sel_node;

struct tc_selector {
    sel_node *nodes;
    uint32_t n_nodes, nodes_capacity;
    uint32_t *children;        /* node indices, ranges owned by NOT/AND/OR nodes */
    uint32_t n_children, children_capacity;
    char **values;             /* MEMBER on named attributes: value strings */
    int *value_columns;        /* 1-based column of each value in the text */
    uint32_t *value_ids;       /* bound ids, TC_NAME_NONE before binding */
    uint32_t n_values, values_capacity;
    uint32_t root;
    uint32_t attrs_used;       /* bit per enum tc_attr */
};

enum tok_kind {
    TOK_END, TOK_WORD, TOK_STRING, TOK_EQ, TOK_NE, TOK_AND, TOK_OR, TOK_NOT,
    TOK_LPAREN, TOK_RPAREN, TOK_LBRACKET, TOK_RBRACKET, TOK_COMMA
};

typedef struct sel_token {
    enum tok_kind kind;
    size_t start, length;      /* bytes of the token in the text */
    char *value;               /* WORD and STRING: owned copy (unescaped) */
} sel_token;

typedef struct sel_parser {
    const char *text;
    size_t pos;                /* byte offset after the current token */
    sel_token tok;
    tc_selector *sel;
    int depth;
    char *errbuf;
    size_t errlen;
    int errcol;
    bool failed;
} sel_parser;

/* ---- helpers ---- */

static int text_column(const char *text, size_t offset)
{
    int column = 1;
    for (size_t i = 0; i < offset; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            column++;
    return column;
}

static int parser_fail_at(sel_parser *p, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int parser_fail_at(sel_parser *p, size_t offset, const char *fmt, ...)
{
    if (p->failed)
        return -1;
    p->failed = true;
    p->errcol = text_column(p->text, offset);
    if (p->errbuf && p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->errbuf, p->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int parser_out_of_memory(sel_parser *p)
{
    return parser_fail_at(p, p->tok.start, "out of memory while parsing the selector");
}

static bool is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
}

/* Describe the current token for messages. */
static const char *token_describe(const sel_parser *p, char *buf, size_t size)
{
    switch (p->tok.kind) {
    case TOK_END:
        snprintf(buf, size, "the end of the selector");
        break;
    case TOK_STRING:
        snprintf(buf, size, "the string \"%.40s\"", p->tok.value);
        break;
    default:
        snprintf(buf, size, "'%.*s'", (int)(p->tok.length < 40 ? p->tok.length : 40),
                 p->text + p->tok.start);
        break;
    }
    return buf;
}

/* Write the COUNT names of NAMES into BUF (SIZE bytes) as "a, b, c",
 * cut when it does not fit. */
static void names_join(const char *const *names, int count, char *buf, size_t size)
{
    size_t length = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && length < size - 1; i++) {
        int n = snprintf(buf + length, size - length, "%s%s", i ? ", " : "", names[i]);
        if (n < 0)
            break;
        length += (size_t)n;
    }
}

/* ---- tokenizer ---- */

static int lex_string(sel_parser *p, size_t start)
{
    const char *t = p->text;
    size_t i = start + 1;
    size_t length = 0;
    for (size_t j = i; t[j] != '"'; j++) {
        if (t[j] == '\0')
            return parser_fail_at(p, start, "unterminated string: missing closing '\"'");
        if (t[j] == '\\') {
            j++;
            if (t[j] != '"' && t[j] != '\\')
                return parser_fail_at(p, j - 1, "invalid escape in string; only \\\" and "
                                      "\\\\ are allowed");
        }
        length++;
    }

    char *value = malloc(length + 1);
    if (!value)
        return parser_out_of_memory(p);
    size_t n = 0;
    for (; t[i] != '"'; i++) {
        if (t[i] == '\\')
            i++;
        value[n++] = t[i];
    }
    value[n] = '\0';
    p->tok.kind = TOK_STRING;
    p->tok.value = value;
    p->pos = i + 1;
    p->tok.length = p->pos - start;
    return 0;
}

/* Read the next token into p->tok. */
static int lex_next(sel_parser *p)
{
    free(p->tok.value);
    p->tok.value = NULL;

    const char *t = p->text;
    size_t i = p->pos;
    while (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')
        i++;
    p->tok.start = i;
    p->tok.length = 1;

    char c = t[i];
    char next = c ? t[i + 1] : '\0';
    enum tok_kind kind;
    switch (c) {
    case '\0':
        kind = TOK_END;
        p->tok.length = 0;
        break;
    case '(': kind = TOK_LPAREN; break;
    case ')': kind = TOK_RPAREN; break;
    case '[': kind = TOK_LBRACKET; break;
    case ']': kind = TOK_RBRACKET; break;
    case ',': kind = TOK_COMMA; break;
    case '"':
        return lex_string(p, i);
    case '!':
        kind = next == '=' ? TOK_NE : TOK_NOT;
        p->tok.length = next == '=' ? 2 : 1;
        break;
    case '=':
        if (next != '=')
            return parser_fail_at(p, i, "'=' is not an operator; write '==' to compare");
        kind = TOK_EQ;
        p->tok.length = 2;
        break;
    case '&':
        if (next != '&')
            return parser_fail_at(p, i, "'&' is not an operator; write '&&' for \"and\"");
        kind = TOK_AND;
        p->tok.length = 2;
        break;
    case '|':
        if (next != '|')
            return parser_fail_at(p, i, "'|' is not an operator; write '||' for \"or\"");
        kind = TOK_OR;
        p->tok.length = 2;
        break;
    default:
        if (!is_word_char((unsigned char)c)) {
            if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7F)
                return parser_fail_at(p, i, "unexpected character; values with characters "
                                      "other than letters, digits and _.:/- must be "
                                      "double-quoted");
            return parser_fail_at(p, i, "unexpected character '%c'", c);
        }
        size_t end = i;
        while (is_word_char((unsigned char)t[end]))
            end++;
        p->tok.kind = TOK_WORD;
        p->tok.length = end - i;
        p->tok.value = strndup(t + i, end - i);
        if (!p->tok.value)
            return parser_out_of_memory(p);
        p->pos = end;
        return 0;
    }
    p->tok.kind = kind;
    p->pos = i + p->tok.length;
    return 0;
}

static bool token_is_word(const sel_parser *p, const char *word)
{
    return p->tok.kind == TOK_WORD && strcmp(p->tok.value, word) == 0;
}

/* ---- building ---- */

static int64_t selector_add_node(sel_parser *p, const sel_node *node)
{
    tc_selector *s = p->sel;
    if (s->n_nodes == s->nodes_capacity) {
        uint32_t capacity = s->nodes_capacity ? s->nodes_capacity * 2 : 8;
        sel_node *nodes = realloc(s->nodes, capacity * sizeof *nodes);
        if (!nodes)
            return parser_out_of_memory(p);
        s->nodes = nodes;
        s->nodes_capacity = capacity;
    }
    s->nodes[s->n_nodes] = *node;
    return s->n_nodes++;
}

static int selector_add_child(sel_parser *p, uint32_t child)
{
    tc_selector *s = p->sel;
    if (s->n_children == s->children_capacity) {
        uint32_t capacity = s->children_capacity ? s->children_capacity * 2 : 8;
        uint32_t *children = realloc(s->children, capacity * sizeof *children);
        if (!children)
            return parser_out_of_memory(p);
        s->children = children;
        s->children_capacity = capacity;
    }
    s->children[s->n_children++] = child;
    return 0;
}

/* Take ownership of VALUE (a named attribute's value) written at OFFSET. */
static int selector_add_value(sel_parser *p, char *value, size_t offset)
{
    tc_selector *s = p->sel;
    if (s->n_values == s->values_capacity) {
        uint32_t capacity = s->values_capacity ? s->values_capacity * 2 : 8;
        char **values = realloc(s->values, capacity * sizeof *values);
        if (!values)
            goto fail;
        s->values = values;
        int *columns = realloc(s->value_columns, capacity * sizeof *columns);
        if (!columns)
            goto fail;
        s->value_columns = columns;
        uint32_t *ids = realloc(s->value_ids, capacity * sizeof *ids);
        if (!ids)
            goto fail;
        s->value_ids = ids;
        s->values_capacity = capacity;
    }
    s->values[s->n_values] = value;
    s->value_columns[s->n_values] = text_column(p->text, offset);
    s->value_ids[s->n_values] = TC_NAME_NONE;
    s->n_values++;
    return 0;

fail:
    free(value);
    return parser_out_of_memory(p);
}

/* ---- parser ---- */

static int64_t parse_or(sel_parser *p);

static bool attr_is_named(int attr)
{
    return attr < TC_ATTR_NAMED_COUNT;
}

/* Vocabulary of an enumerated or boolean attribute. */
static const char *const *attr_vocabulary(int attr, int *count)
{
    static const char *const booleans[] = { "false", "true" };
    switch (attr) {
    case TC_ATTR_ENV:
        *count = TC_ENV_COUNT;
        return tc_env_names;
    case TC_ATTR_TIER:
        *count = TC_TIER_COUNT;
        return tc_tier_names;
    case TC_ATTR_CROWN:
        *count = TC_CROWN_COUNT;
        return tc_crown_names;
    default:
        *count = 2;
        return booleans;
    }
}

/* Parse one VALUE of ATTR into NODE: a bit of the mask, or a value string. */
static int parse_value(sel_parser *p, sel_node *node)
{
    char found[64];
    if (p->tok.kind != TOK_WORD && p->tok.kind != TOK_STRING)
        return parser_fail_at(p, p->tok.start, "expected a value of %s, found %s",
                              tc_attr_names[node->attr], token_describe(p, found, sizeof found));
    size_t offset = p->tok.start;
    if (p->tok.value[0] == '\0')
        return parser_fail_at(p, offset, "empty value");

    if (attr_is_named(node->attr)) {
        /* Named values are compared against each other as strings here;
         * ids come at binding. */
        tc_selector *s = p->sel;
        for (uint32_t i = node->first; i < s->n_values; i++)
            if (strcmp(s->values[i], p->tok.value) == 0)
                return parser_fail_at(p, offset, "value \"%s\" is listed twice", p->tok.value);
        char *value = p->tok.value;
        p->tok.value = NULL;
        if (selector_add_value(p, value, offset) != 0)
            return -1;
        node->count++;
        return lex_next(p);
    }

    int count;
    const char *const *names = attr_vocabulary(node->attr, &count);
    int index = tc_name_find(names, count, p->tok.value);
    if (index < 0) {
        char list[256];
        names_join(names, count, list, sizeof list);
        return parser_fail_at(p, offset, "unknown %s value \"%s\"; expected one of: %s",
                              tc_attr_names[node->attr], p->tok.value, list);
    }
    if (node->mask & ((uint64_t)1 << index))
        return parser_fail_at(p, offset, "value \"%s\" is listed twice", p->tok.value);
    node->mask |= (uint64_t)1 << index;
    node->count++;
    return lex_next(p);
}

static int64_t parse_compare(sel_parser *p)
{
    char found[64];
    size_t attr_offset = p->tok.start;
    int attr = tc_name_find(tc_attr_names, TC_ATTR_COUNT, p->tok.value);
    if (attr < 0) {
        char list[256];
        names_join(tc_attr_names, TC_ATTR_COUNT, list, sizeof list);
        return parser_fail_at(p, attr_offset, "unknown attribute \"%s\"; attributes: %s",
                              p->tok.value, list);
    }
    p->sel->attrs_used |= 1u << attr;

    sel_node node = { .op = SEL_MEMBER, .attr = (uint8_t)attr, .first = p->sel->n_values };
    if (lex_next(p) != 0)
        return -1;

    if (p->tok.kind == TOK_EQ || p->tok.kind == TOK_NE) {
        node.negate = p->tok.kind == TOK_NE;
        if (lex_next(p) != 0 || parse_value(p, &node) != 0)
            return -1;
    } else if (token_is_word(p, "in")) {
        if (lex_next(p) != 0)
            return -1;
        if (p->tok.kind != TOK_LBRACKET)
            return parser_fail_at(p, p->tok.start, "expected '[' after 'in', found %s",
                                  token_describe(p, found, sizeof found));
        do {
            if (lex_next(p) != 0 || parse_value(p, &node) != 0)
                return -1;
        } while (p->tok.kind == TOK_COMMA);
        if (p->tok.kind != TOK_RBRACKET)
            return parser_fail_at(p, p->tok.start, "expected ',' or ']' in the list of "
                                  "values, found %s", token_describe(p, found, sizeof found));
        if (lex_next(p) != 0)
            return -1;
    } else if (attr == TC_ATTR_INTERNET_FACING) {
        node.mask = 1u << 1; /* a bare boolean: internet_facing == true */
        node.count = 1;
    } else {
        return parser_fail_at(p, p->tok.start, "expected '==', '!=' or 'in' after %s, "
                              "found %s", tc_attr_names[attr],
                              token_describe(p, found, sizeof found));
    }
    return selector_add_node(p, &node);
}

static int64_t parse_unary(sel_parser *p)
{
    char found[64];
    size_t offset = p->tok.start;

    if (p->tok.kind == TOK_NOT || p->tok.kind == TOK_LPAREN) {
        if (++p->depth > SELECTOR_MAX_DEPTH)
            return parser_fail_at(p, offset, "parentheses and '!' nest deeper than %d",
                                  SELECTOR_MAX_DEPTH);
        bool negation = p->tok.kind == TOK_NOT;
        if (lex_next(p) != 0)
            return -1;
        int64_t inner = negation ? parse_unary(p) : parse_or(p);
        if (inner < 0)
            return -1;
        p->depth--;
        if (!negation) {
            if (p->tok.kind != TOK_RPAREN)
                return parser_fail_at(p, p->tok.start, "expected ')' to close the '(' at "
                                      "column %d, found %s", text_column(p->text, offset),
                                      token_describe(p, found, sizeof found));
            if (lex_next(p) != 0)
                return -1;
            return inner;
        }
        sel_node node = { .op = SEL_NOT, .first = p->sel->n_children, .count = 1 };
        if (selector_add_child(p, (uint32_t)inner) != 0)
            return -1;
        return selector_add_node(p, &node);
    }

    if (token_is_word(p, "true") || token_is_word(p, "false")) {
        sel_node node = { .op = token_is_word(p, "true") ? SEL_TRUE : SEL_FALSE };
        if (lex_next(p) != 0)
            return -1;
        return selector_add_node(p, &node);
    }
    if (p->tok.kind == TOK_WORD)
        return parse_compare(p);
    return parser_fail_at(p, offset, "expected an attribute comparison, '(', '!', true or "
                          "false, found %s", token_describe(p, found, sizeof found));
}

/* Parse "OPERAND ( OP OPERAND )*" into one n-ary node of kind OP. The
 * operand indices are collected first because operands add nodes and
 * children of their own. */
static int64_t parse_chain(sel_parser *p, enum tok_kind op_token, enum sel_op op,
                           int64_t (*operand)(sel_parser *))
{
    int64_t first = operand(p);
    if (first < 0 || p->tok.kind != op_token)
        return first;

    uint32_t *items = NULL;
    size_t n = 0, capacity = 0;
    int64_t result = -1;
    int64_t item = first;
    for (;;) {
        if (n == capacity) {
            capacity = capacity ? capacity * 2 : 8;
            uint32_t *grown = realloc(items, capacity * sizeof *grown);
            if (!grown) {
                parser_out_of_memory(p);
                goto free_items;
            }
            items = grown;
        }
        items[n++] = (uint32_t)item;
        if (p->tok.kind != op_token)
            break;
        if (lex_next(p) != 0)
            goto free_items;
        item = operand(p);
        if (item < 0)
            goto free_items;
    }

    sel_node node = { .op = op, .first = p->sel->n_children, .count = (uint32_t)n };
    for (size_t i = 0; i < n; i++)
        if (selector_add_child(p, items[i]) != 0)
            goto free_items;
    result = selector_add_node(p, &node);

free_items:
    free(items);
    return result;
}

static int64_t parse_and(sel_parser *p)
{
    return parse_chain(p, TOK_AND, SEL_AND, parse_unary);
}

static int64_t parse_or(sel_parser *p)
{
    return parse_chain(p, TOK_OR, SEL_OR, parse_and);
}

/* ---- API ---- */

void tc_selector_free(tc_selector *sel)
{
    if (!sel)
        return;
    for (uint32_t i = 0; i < sel->n_values; i++)
        free(sel->values[i]);
    free(sel->values);
    free(sel->value_columns);
    free(sel->value_ids);
    free(sel->children);
    free(sel->nodes);
    free(sel);
}

int tc_selector_parse(const char *text, tc_selector **out, char *errbuf, size_t errlen,
                      int *errcol)
{
    *out = NULL;
    if (errcol)
        *errcol = 0;
    if (errbuf && errlen)
        errbuf[0] = '\0';

    sel_parser p;
    memset(&p, 0, sizeof p);
    p.text = text;
    p.errbuf = errbuf;
    p.errlen = errlen;
    p.sel = calloc(1, sizeof *p.sel);
    if (!p.sel) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "out of memory while parsing the selector");
        if (errcol)
            *errcol = 1;
        return -1;
    }

    int64_t root = -1;
    if (lex_next(&p) == 0) {
        if (p.tok.kind == TOK_END)
            parser_fail_at(&p, p.tok.start, "empty selector; write true to select every "
                           "workload");
        else
            root = parse_or(&p);
    }
    if (root >= 0 && p.tok.kind != TOK_END) {
        char found[64];
        if (p.tok.kind == TOK_RPAREN)
            parser_fail_at(&p, p.tok.start, "unmatched ')'");
        else
            parser_fail_at(&p, p.tok.start, "expected '&&', '||' or the end of the selector, "
                           "found %s", token_describe(&p, found, sizeof found));
        root = -1;
    }
    free(p.tok.value);

    if (root < 0) {
        if (errcol)
            *errcol = p.errcol;
        tc_selector_free(p.sel);
        return -1;
    }
    p.sel->root = (uint32_t)root;
    *out = p.sel;
    return 0;
}

/* The topology's name table for named attribute ATTR. */
static const tc_names *attr_table(const tc_topology *t, int attr)
{
    switch (attr) {
    case TC_ATTR_TENANT: return &t->tenants;
    case TC_ATTR_ACCOUNT: return &t->accounts;
    case TC_ATTR_VPC: return &t->vpcs;
    case TC_ATTR_SUBNET: return &t->subnets;
    case TC_ATTR_SEGMENT: return &t->segments;
    case TC_ATTR_APP: return &t->apps;
    default: return &t->principals;
    }
}

int tc_selector_bind(tc_selector *sel, const tc_topology *t, tc_error *err)
{
    for (uint32_t i = 0; i < sel->n_nodes; i++) {
        const sel_node *node = &sel->nodes[i];
        if (node->op != SEL_MEMBER || !attr_is_named(node->attr))
            continue;
        const tc_names *table = attr_table(t, node->attr);
        for (uint32_t v = node->first; v < node->first + node->count; v++) {
            uint32_t id = tc_names_find(table, sel->values[v]);
            if (id == TC_NAME_NONE)
                return tc_error_input(err, NULL, 0, 0, NULL,
                                      "%s \"%s\" (selector column %d) is not in the topology",
                                      tc_attr_names[node->attr], sel->values[v],
                                      sel->value_columns[v]);
            sel->value_ids[v] = id;
        }
    }
    return TC_OK;
}

/* Value of attribute ATTR of owned workload LOCAL: a name id, an enum
 * value, or 0/1 for internet_facing. */
static inline uint32_t workload_attr(const tc_topology *t, int attr, uint64_t local)
{
    switch (attr) {
    case TC_ATTR_TENANT: return t->tenant[local];
    case TC_ATTR_ACCOUNT: return t->account[local];
    case TC_ATTR_VPC: return t->vpc[local];
    case TC_ATTR_SUBNET: return t->subnet[local];
    case TC_ATTR_SEGMENT: return t->segment[local];
    case TC_ATTR_APP: return t->app[local];
    case TC_ATTR_PRINCIPAL: return t->principal[local];
    case TC_ATTR_ENV: return t->env[local];
    case TC_ATTR_TIER: return t->tier[local];
    case TC_ATTR_CROWN: return t->crown[local];
    default: return (t->flags[local] & TC_WORKLOAD_INTERNET_FACING) ? 1u : 0u;
    }
}

static bool selector_eval(const tc_selector *sel, uint32_t index, const tc_topology *t,
                          uint64_t local)
{
    const sel_node *node = &sel->nodes[index];
    const uint32_t *child = sel->children ? sel->children + node->first : NULL;
    switch (node->op) {
    case SEL_TRUE:
        return true;
    case SEL_FALSE:
        return false;
    case SEL_NOT:
        return !selector_eval(sel, child[0], t, local);
    case SEL_AND:
        for (uint32_t i = 0; i < node->count; i++)
            if (!selector_eval(sel, child[i], t, local))
                return false;
        return true;
    case SEL_OR:
        for (uint32_t i = 0; i < node->count; i++)
            if (selector_eval(sel, child[i], t, local))
                return true;
        return false;
    case SEL_MEMBER:
        break;
    }

    uint32_t value = workload_attr(t, node->attr, local);
    bool member = false;
    if (!attr_is_named(node->attr)) {
        member = value < 64 && (node->mask >> value) & 1u;
    } else {
        const uint32_t *ids = sel->value_ids + node->first;
        for (uint32_t i = 0; i < node->count && !member; i++)
            member = ids[i] == value;
    }
    return member != node->negate;
}

bool tc_selector_match(const tc_selector *sel, const tc_topology *t, uint64_t local)
{
    return selector_eval(sel, sel->root, t, local);
}

bool tc_selector_uses(const tc_selector *sel, int attr)
{
    return attr >= 0 && attr < TC_ATTR_COUNT && (sel->attrs_used >> attr) & 1u;
}
