/* test_selector.c - SmartGroup selectors: parse errors with their columns,
 * binding of names to a topology, and matching.
 *
 * Matching runs on a hand-built topology of eight workloads (the table in
 * fill_topology). Each expected set is written as a bit mask over workload
 * indices, worked out from that table by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "selector.h"

/* ---- parse errors ---- */

typedef struct parse_case {
    const char *text;
    int column;
    const char *fragment;
} parse_case;

static void check_parse_error(const parse_case *c)
{
    tc_selector *sel = (tc_selector *)1;
    char message[256];
    int column = -1;
    int rc = tc_selector_parse(c->text, &sel, message, sizeof message, &column);
    if (rc != -1)
        fail_msg("selector \"%s\": parsed, expected an error", c->text);
    if (sel != NULL)
        fail_msg("selector \"%s\": *out not NULL on failure", c->text);
    if (column != c->column)
        fail_msg("selector \"%s\": column %d, expected %d (%s)", c->text, column, c->column,
                 message);
    if (!strstr(message, c->fragment))
        fail_msg("selector \"%s\": message \"%s\" lacks \"%s\"", c->text, message, c->fragment);
}

static void parse_errors(void **state)
{
    (void)state;
    static const parse_case cases[] = {
        { "", 1, "empty selector" },
        { "   ", 4, "empty selector" },
        { "tire == web", 1, "unknown attribute \"tire\"; attributes: tenant, account" },
        { "tier = web", 6, "'=' is not an operator; write '=='" },
        { "tier == webb", 9, "unknown tier value \"webb\"; expected one of: edge, web" },
        { "env == prod & tier == web", 13, "'&' is not an operator; write '&&'" },
        { "env == prod | tier == web", 13, "'|' is not an operator; write '||'" },
        { "env == prod &&", 15, "found the end of the selector" },
        { "(env == prod", 13, "expected ')' to close the '(' at column 1" },
        { "env == prod)", 12, "unmatched ')'" },
        { "env prod", 5, "expected '==', '!=' or 'in' after env, found 'prod'" },
        { "env in prod", 8, "expected '[' after 'in', found 'prod'" },
        { "env in [prod staging]", 14, "expected ',' or ']' in the list of values" },
        { "env in []", 9, "expected a value of env, found ']'" },
        { "env in [prod, prod]", 15, "value \"prod\" is listed twice" },
        { "app in [a, \"a\"]", 12, "value \"a\" is listed twice" },
        { "app == \"unterminated", 8, "unterminated string" },
        { "app == \"a\\n\"", 10, "invalid escape" },
        { "app == \"\"", 8, "empty value" },
        { "internet_facing == maybe", 20,
          "unknown internet_facing value \"maybe\"; expected one of: false, true" },
        { "env == prod tier == web", 13,
          "expected '&&', '||' or the end of the selector, found 'tier'" },
        { "!", 2, "found the end of the selector" },
        { "true &&", 8, "found the end of the selector" },
        { "app == a#b", 9, "unexpected character '#'" },
        { "app == caf\xc3\xa9", 11, "must be double-quoted" },
        /* Columns count characters, and the quoted value contains a two-byte one. */
        { "app == \"caf\xc3\xa9\" && tire == x", 18, "unknown attribute \"tire\"" },
        { "crown == high", 10, "unknown crown value \"high\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_parse_error(&cases[i]);
}

static void parse_nesting_limit(void **state)
{
    (void)state;
    char text[512];
    tc_selector *sel;
    char message[256];
    int column;

    /* 64 levels of parentheses parse; the 65th '(' is rejected. */
    int n = 0;
    for (int i = 0; i < 64; i++)
        text[n++] = '(';
    n += snprintf(text + n, sizeof text - (size_t)n, "true");
    for (int i = 0; i < 64; i++)
        text[n++] = ')';
    text[n] = '\0';
    assert_int_equal(tc_selector_parse(text, &sel, message, sizeof message, &column), 0);
    tc_selector_free(sel);

    memset(text, '(', 65);
    snprintf(text + 65, sizeof text - 65, "true");
    assert_int_equal(tc_selector_parse(text, &sel, message, sizeof message, &column), -1);
    assert_int_equal(column, 65);
    assert_non_null(strstr(message, "nest deeper than 64"));

    memset(text, '!', 65);
    snprintf(text + 65, sizeof text - 65, "true");
    assert_int_equal(tc_selector_parse(text, &sel, message, sizeof message, &column), -1);
    assert_int_equal(column, 65);
}

static void parse_long_chain(void **state)
{
    (void)state;
    /* A chain of 2000 terms is one n-ary node, not 2000 levels. */
    size_t size = 2000 * 24;
    char *text = malloc(size);
    assert_non_null(text);
    size_t n = 0;
    for (int i = 0; i < 2000; i++)
        n += (size_t)snprintf(text + n, size - n, "%senv == dev", i ? " || " : "");
    tc_selector *sel;
    char message[256];
    int column;
    assert_int_equal(tc_selector_parse(text, &sel, message, sizeof message, &column), 0);
    tc_selector_free(sel);
    free(text);
}

static void parse_uses(void **state)
{
    (void)state;
    tc_selector *sel;
    char message[256];
    int column;
    assert_int_equal(tc_selector_parse("tenant == acme && (internet_facing || crown != none)",
                                       &sel, message, sizeof message, &column), 0);
    assert_true(tc_selector_uses(sel, TC_ATTR_TENANT));
    assert_true(tc_selector_uses(sel, TC_ATTR_INTERNET_FACING));
    assert_true(tc_selector_uses(sel, TC_ATTR_CROWN));
    assert_false(tc_selector_uses(sel, TC_ATTR_ENV));
    assert_false(tc_selector_uses(sel, TC_ATTR_APP));
    assert_false(tc_selector_uses(sel, -1));
    assert_false(tc_selector_uses(sel, TC_ATTR_COUNT));
    tc_selector_free(sel);
}

/* ---- a hand-built topology ---- */

#define N_WORKLOADS 8

typedef struct fake_topology {
    tc_topology t;
    uint32_t tenant[N_WORKLOADS], account[N_WORKLOADS], vpc[N_WORKLOADS];
    uint32_t subnet[N_WORKLOADS], segment[N_WORKLOADS], app[N_WORKLOADS];
    uint32_t principal[N_WORKLOADS];
    uint8_t env[N_WORKLOADS], tier[N_WORKLOADS], crown[N_WORKLOADS], flags[N_WORKLOADS];
} fake_topology;

static uint32_t intern(tc_names *table, const char *name)
{
    uint32_t id = tc_names_intern(table, name, NULL);
    assert_true(id != TC_NAME_NONE);
    return id;
}

/*  i  tenant  account vpc subnet segment app      principal env      tier     crown       internet
 *  0  acme    a1      v1  s1     web     shop     sa-web    prod     web      none        yes
 *  1  acme    a1      v1  s2     db      shop     sa-db     prod     data     database    no
 *  2  acme    a2      v2  s3     web     billing  sa-web    staging  api      none        no
 *  3  acme    a2      v2  s3     db      billing  sa-db     staging  data     billing     no
 *  4  globex  a3      v3  s4     web     shop     sa-web    dev      web      none        yes
 *  5  globex  a3      v3  s4     db      shop     sa-db     prod     cache    none        no
 *  6  globex  a3      v3  s5     db      billing  sa-db     prod     secrets  secrets     no
 *  7  globex  a3      v3  s5     web     billing  sa-web    dev      admin    privileged  yes
 *
 * With REVERSED, every name table is filled in the opposite order, so the
 * same names get other ids. */
static void fill_topology(fake_topology *f, bool reversed)
{
    static const char *const tenant[] = { "acme", "acme", "acme", "acme", "globex", "globex",
                                          "globex", "globex" };
    static const char *const account[] = { "a1", "a1", "a2", "a2", "a3", "a3", "a3", "a3" };
    static const char *const vpc[] = { "v1", "v1", "v2", "v2", "v3", "v3", "v3", "v3" };
    static const char *const subnet[] = { "s1", "s2", "s3", "s3", "s4", "s4", "s5", "s5" };
    static const char *const segment[] = { "web", "db", "web", "db", "web", "db", "db", "web" };
    static const char *const app[] = { "shop", "shop", "billing", "billing", "shop", "shop",
                                       "billing", "billing" };
    static const char *const principal[] = { "sa-web", "sa-db", "sa-web", "sa-db", "sa-web",
                                             "sa-db", "sa-db", "sa-web" };
    static const uint8_t env[] = { TC_ENV_PROD, TC_ENV_PROD, TC_ENV_STAGING, TC_ENV_STAGING,
                                   TC_ENV_DEV, TC_ENV_PROD, TC_ENV_PROD, TC_ENV_DEV };
    static const uint8_t tier[] = { TC_TIER_WEB, TC_TIER_DATA, TC_TIER_API, TC_TIER_DATA,
                                    TC_TIER_WEB, TC_TIER_CACHE, TC_TIER_SECRETS, TC_TIER_ADMIN };
    static const uint8_t crown[] = { TC_CROWN_NONE, TC_CROWN_DATABASE, TC_CROWN_NONE,
                                     TC_CROWN_BILLING, TC_CROWN_NONE, TC_CROWN_NONE,
                                     TC_CROWN_SECRETS, TC_CROWN_PRIVILEGED };
    static const uint8_t internet[] = { 1, 0, 0, 0, 1, 0, 0, 1 };

    memset(f, 0, sizeof *f);
    tc_topology *t = &f->t;
    for (int k = 0; k < N_WORKLOADS; k++) {
        int i = reversed ? N_WORKLOADS - 1 - k : k;
        intern(&t->tenants, tenant[i]);
        intern(&t->accounts, account[i]);
        intern(&t->vpcs, vpc[i]);
        intern(&t->subnets, subnet[i]);
        intern(&t->segments, segment[i]);
        intern(&t->apps, app[i]);
        intern(&t->principals, principal[i]);
    }
    for (int i = 0; i < N_WORKLOADS; i++) {
        f->tenant[i] = tc_names_find(&t->tenants, tenant[i]);
        f->account[i] = tc_names_find(&t->accounts, account[i]);
        f->vpc[i] = tc_names_find(&t->vpcs, vpc[i]);
        f->subnet[i] = tc_names_find(&t->subnets, subnet[i]);
        f->segment[i] = tc_names_find(&t->segments, segment[i]);
        f->app[i] = tc_names_find(&t->apps, app[i]);
        f->principal[i] = tc_names_find(&t->principals, principal[i]);
        f->env[i] = env[i];
        f->tier[i] = tier[i];
        f->crown[i] = crown[i];
        f->flags[i] = internet[i] ? TC_WORKLOAD_INTERNET_FACING : 0;
    }
    t->n_workloads = t->n_local = N_WORKLOADS;
    t->tenant = f->tenant;
    t->account = f->account;
    t->vpc = f->vpc;
    t->subnet = f->subnet;
    t->segment = f->segment;
    t->app = f->app;
    t->principal = f->principal;
    t->env = f->env;
    t->tier = f->tier;
    t->crown = f->crown;
    t->flags = f->flags;
}

static void free_topology(fake_topology *f)
{
    tc_names *tables[] = { &f->t.tenants, &f->t.accounts, &f->t.vpcs, &f->t.subnets,
                           &f->t.segments, &f->t.apps, &f->t.principals };
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        tc_names_free(tables[i]);
}

/* Bit i set when workload i matches TEXT after binding to F. */
static unsigned match_mask(const char *text, const fake_topology *f)
{
    tc_selector *sel;
    char message[256];
    int column;
    if (tc_selector_parse(text, &sel, message, sizeof message, &column) != 0)
        fail_msg("selector \"%s\": %s at column %d", text, message, column);
    tc_error err;
    tc_error_clear(&err);
    if (tc_selector_bind(sel, &f->t, &err) != TC_OK)
        fail_msg("selector \"%s\": bind failed: %s", text, err.message);
    unsigned mask = 0;
    for (uint64_t i = 0; i < N_WORKLOADS; i++)
        if (tc_selector_match(sel, &f->t, i))
            mask |= 1u << i;
    tc_selector_free(sel);
    return mask;
}

typedef struct match_case {
    const char *text;
    unsigned expected;         /* bit per workload of the table above */
} match_case;

static const match_case match_cases[] = {
    { "true", 0xFF },
    { "false", 0x00 },
    { "env == prod", 0x63 },                       /* 0 1 5 6 */
    { "env != prod", 0x9C },                       /* 2 3 4 7 */
    { "tenant == acme", 0x0F },                    /* 0-3 */
    { "tenant == acme && env == prod", 0x03 },     /* 0 1 */
    { "tenant == globex || tier == web", 0xF1 },   /* 0 4-7 */
    { "tier == web || tier == api && env == prod", 0x11 },   /* && binds tighter: 0 4 */
    { "(tier == web || tier == api) && env == prod", 0x01 }, /* 0 */
    { "internet_facing", 0x91 },                   /* 0 4 7 */
    { "!internet_facing", 0x6E },                  /* 1 2 3 5 6 */
    { "internet_facing == false", 0x6E },
    { "internet_facing != false", 0x91 },
    { "internet_facing in [true, false]", 0xFF },
    { "crown in [database, billing, secrets]", 0x4A },       /* 1 3 6 */
    { "crown != none", 0xCA },                     /* 1 3 6 7 */
    { "app in [billing] && segment == db", 0x48 }, /* 3 6 */
    { "principal == sa-web", 0x95 },               /* 0 2 4 7 */
    { "subnet in [s3, s5]", 0xCC },                /* 2 3 6 7 */
    { "vpc == v2 || account == a3", 0xFC },        /* 2-7 */
    { "!(env == prod) && !(tenant == globex)", 0x0C },       /* 2 3 */
    { "!!env == prod", 0x63 },
    { "tier in [web, api, admin]", 0x95 },         /* 0 2 4 7 */
    { "app == \"shop\"", 0x33 },                   /* 0 1 4 5 */
    { "app != shop && app != billing", 0x00 },
    { "segment != web || (env == dev && tier == web)", 0x7A }, /* 1 3 4 5 6 */
};

static void match_table(void **state)
{
    (void)state;
    fake_topology f;
    fill_topology(&f, false);
    for (size_t i = 0; i < sizeof match_cases / sizeof *match_cases; i++) {
        unsigned got = match_mask(match_cases[i].text, &f);
        if (got != match_cases[i].expected)
            fail_msg("selector \"%s\": matched 0x%02X, expected 0x%02X", match_cases[i].text,
                     got, match_cases[i].expected);
    }
    free_topology(&f);
}

/* The same selectors on a topology whose name ids are all different give
 * the same sets: binding resolves names, not positions. */
static void match_after_rebinding(void **state)
{
    (void)state;
    fake_topology first, second;
    fill_topology(&first, false);
    fill_topology(&second, true);
    assert_int_not_equal(first.tenant[0], second.tenant[0]);

    tc_selector *sel;
    char message[256];
    int column;
    assert_int_equal(tc_selector_parse("tenant == acme && app in [billing, shop] && "
                                       "subnet != s1", &sel, message, sizeof message, &column), 0);
    tc_error err;
    tc_error_clear(&err);
    const fake_topology *tops[] = { &first, &second, &first };
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(tc_selector_bind(sel, &tops[k]->t, &err), TC_OK);
        unsigned mask = 0;
        for (uint64_t i = 0; i < N_WORKLOADS; i++)
            if (tc_selector_match(sel, &tops[k]->t, i))
                mask |= 1u << i;
        assert_int_equal(mask, 0x0E); /* 1 2 3 */
    }
    tc_selector_free(sel);
    free_topology(&first);
    free_topology(&second);
}

static void bind_unknown_name(void **state)
{
    (void)state;
    fake_topology f;
    fill_topology(&f, false);
    tc_selector *sel;
    char message[256];
    int column;
    assert_int_equal(tc_selector_parse("env == prod && app in [shop, payroll]", &sel, message,
                                       sizeof message, &column), 0);
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_selector_bind(sel, &f.t, &err), TC_ERR_INPUT);
    assert_int_equal(err.code, TC_ERR_INPUT);
    assert_string_equal(err.message,
                        "app \"payroll\" (selector column 30) is not in the topology");
    assert_string_equal(err.file, "");
    tc_selector_free(sel);
    free_topology(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_errors),
        cmocka_unit_test(parse_nesting_limit),
        cmocka_unit_test(parse_long_chain),
        cmocka_unit_test(parse_uses),
        cmocka_unit_test(match_table),
        cmocka_unit_test(match_after_rebinding),
        cmocka_unit_test(bind_unknown_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
