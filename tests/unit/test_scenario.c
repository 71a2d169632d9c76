/* test_scenario.c - the scenario loader and the strict YAML layer under it.
 *
 * Every error case states its expected code, line, column and key path,
 * worked out by counting characters in the case text. The message is
 * checked by a fragment. The last test loads each tests/bad/NAME.yaml and
 * compares the printed error with tests/bad/NAME.expected.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenario.h"
#include "selector.h"

/* ---- a fake generator ---- */

typedef struct fake_params {
    uint64_t workloads;
    double ratio;
    bool flag;
} fake_params;

static int fake_check(const void *params, const char *file, tc_error *err)
{
    const fake_params *p = params;
    if (p->flag && p->workloads > 1000)
        return tc_error_input(err, file, 0, 0, "topology.params.flag",
                              "flag needs at most 1000 workloads");
    return TC_OK;
}

static const tc_param_desc fake_param_table[] = {
    { "workloads", TC_PARAM_U64, offsetof(fake_params, workloads), 10, 1e6, 100,
      "workloads", "assumption", "number of workloads" },
    { "ratio", TC_PARAM_DOUBLE, offsetof(fake_params, ratio), 0, 1, 0.5,
      "probability", "assumption", "a ratio" },
    { "flag", TC_PARAM_BOOL, offsetof(fake_params, flag), 0, 1, 0, "", "assumption", "a flag" },
};

static const tc_generator_desc fake_generators[] = {
    { "fake", sizeof(fake_params), fake_param_table, 3, fake_check },
};

/* ---- helpers ---- */

static char temp_dir[64];

static void temp_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", temp_dir, name);
}

static void write_file(const char *path, const char *text, size_t length)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, length, f), length);
    assert_int_equal(fclose(f), 0);
}

/* Load TEXT as the scenario file case.yaml in the temp folder. */
static int load_text(const char *text, size_t length, tc_scenario **out, tc_error *err)
{
    char path[128];
    temp_path("case.yaml", path, sizeof path);
    write_file(path, text, length);
    tc_error_clear(err);
    return tc_scenario_load(path, fake_generators, 1, out, err);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(temp_dir, sizeof temp_dir, "/tmp/tc-test-scenario-XXXXXX");
    return mkdtemp(temp_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    const char *names[] = { "case.yaml", "topo.yaml", "my-scenario.yml" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[128];
        temp_path(names[i], path, sizeof path);
        unlink(path);
    }
    return rmdir(temp_dir);
}

typedef struct error_case {
    const char *name;
    const char *text;
    size_t length;             /* 0: strlen(text) */
    long line, column;
    const char *key;
    const char *fragment;      /* must occur in the message */
} error_case;

/* Check one case; on a mismatch, fail naming the case and what differed. */
static void check_error_case(const error_case *c)
{
    tc_scenario *s = (tc_scenario *)1;
    tc_error err;
    int rc = load_text(c->text, c->length ? c->length : strlen(c->text), &s, &err);
    if (rc != TC_ERR_INPUT)
        fail_msg("case %s: code %d, expected TC_ERR_INPUT (message: %s)", c->name, rc,
                 err.message);
    if (s != NULL)
        fail_msg("case %s: *out not NULL on failure", c->name);
    if (err.line != c->line || err.column != c->column)
        fail_msg("case %s: position %ld:%ld, expected %ld:%ld (message: %s)", c->name,
                 err.line, err.column, c->line, c->column, err.message);
    if (strcmp(err.key, c->key) != 0)
        fail_msg("case %s: key \"%s\", expected \"%s\"", c->name, err.key, c->key);
    if (!strstr(err.message, c->fragment))
        fail_msg("case %s: message \"%s\" lacks \"%s\"", c->name, err.message, c->fragment);
    if (strstr(err.file, "case.yaml") == NULL)
        fail_msg("case %s: file \"%s\" does not name the scenario", c->name, err.file);
}

static void run_cases(const error_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_error_case(&cases[i]);
}

#define SEED "seed: 1\n"
#define TOPO "topology: {generator: fake}\n"
#define VEC "vectors: [{kind: internet_facing, count: 1}]\n"
#define POL "policies: [{name: p, kind: legacy}]\n"
#define BASE SEED TOPO VEC POL
#define N(cases) (sizeof cases / sizeof *cases)

/* ---- the YAML layer ---- */

static void yaml_errors(void **state)
{
    (void)state;
    static const char bomb[] =
        "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    char deep[256];
    snprintf(deep, sizeof deep, "x: %.*s%.*s\n", 70,
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 70,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");

    const error_case cases[] = {
        { "empty", "", 0, 0, 0, "", "empty scenario" },
        { "comment only", "# nothing here\n", 0, 0, 0, "", "empty scenario" },
        { "sequence root", "- seed\n- 1\n", 0, 1, 1, "", "expected a mapping of scenario keys" },
        { "scalar root", "just text\n", 0, 1, 1, "", "expected a mapping" },
        { "flow not closed", "seed: [1, 2\n", 0, 2, 1, "seed[2]",
          "invalid YAML: did not find expected ',' or ']' while parsing a flow sequence "
          "started at line 1, column 7" },
        { "quote cut off", "seed: 1\nname: \"abc\n", 0, 3, 1, "name",
          "found unexpected end of stream while scanning a quoted scalar started at "
          "line 2, column 7" },
        { "tab indentation", "seed: 1\ntopology:\n\tgenerator: fake\n", 0, 3, 1, "topology",
          "tab character used for indentation" },
        { "duplicate key", "seed: 1\nseed: 2\n", 0, 2, 1, "seed",
          "duplicate key (first written at line 1, column 1)" },
        { "duplicate nested key", "seed: 1\ntopology: {generator: fake, generator: fake}\n", 0,
          2, 29, "topology.generator", "duplicate key (first written at line 2, column 12)" },
        { "undefined alias", "seed: *nope\n", 0, 1, 7, "seed", "alias *nope has no anchor" },
        { "alias to itself", "x: &a [*a]\n", 0, 1, 8, "x[0]", "alias *a has no anchor" },
        { "alias bomb", bomb, 0, 7, 8, "g[0]", "aliases expand to more than 1000000 nodes" },
        { "second document", "seed: 1\n---\nseed: 2\n", 0, 2, 1, "",
          "a second YAML document starts here" },
        { "invalid utf-8", "seed: 1\nname: \"ab\xff\"\n", 0, 2, 10, "",
          "not valid UTF-8 text: invalid leading UTF-8 octet (0xFF)" },
        { "control character", "seed: 1\nname: a\x01\n", 0, 2, 8, "",
          "invalid character U+0001: control characters are not allowed" },
        { "mapping as key", "? [a]\n: 1\n", 0, 1, 3, "", "a mapping key must be a scalar" },
        { "bom then error", "\xEF\xBB\xBFseed: -1\n", 0, 1, 7, "seed", "negative number" },
        { "utf-16", "\xFF\xFEs\0e\0", 6, 1, 1, "", "the file is UTF-16; save it as UTF-8" },
        { "nul in string", "name: \"a\\0b\"\n" BASE, 0, 1, 7, "name",
          "the string contains a NUL character" },
    };
    run_cases(cases, N(cases));

    /* Nesting: "x: " then '[' number k at column 3 + k; the root mapping is
     * level 1, so bracket 64 would open level 65. */
    tc_scenario *s;
    tc_error err;
    assert_int_equal(load_text(deep, strlen(deep), &s, &err), TC_ERR_INPUT);
    assert_null(s);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 67);
    assert_non_null(strstr(err.message, "nesting deeper than 64 levels"));
    assert_int_equal(strncmp(err.key, "x[0][0][0]", 10), 0);
}

static void yaml_accepts_bom_and_aliases(void **state)
{
    (void)state;
    static const char with_bom[] = "\xEF\xBB\xBF" BASE;
    tc_scenario *s;
    tc_error err;
    assert_int_equal(load_text(with_bom, strlen(with_bom), &s, &err), TC_OK);
    assert_int_equal(s->seed, 1);
    assert_int_equal(s->n_policies, 1);
    tc_scenario_free(s);

    /* An anchored service list reused by two rules reads the same in both. */
    static const char aliased[] =
        SEED TOPO VEC
        "smartgroups: {web: \"tier == web\"}\n"
        "policies:\n"
        "  - name: p\n"
        "    kind: rules\n"
        "    rules:\n"
        "      - {from: web, to: any, services: &svc [http, https], action: allow}\n"
        "      - {from: any, to: web, services: *svc, action: deny}\n";
    assert_int_equal(load_text(aliased, strlen(aliased), &s, &err), TC_OK);
    tc_svcmask web = (1u << 2) | (1u << 3); /* http, https in model.c order */
    assert_int_equal(s->policies[0].rules[0].services, web);
    assert_int_equal(s->policies[0].rules[1].services, web);
    tc_scenario_free(s);
}

/* ---- scalars ---- */

static void scalar_errors(void **state)
{
    (void)state;
    const error_case cases[] = {
        { "seed negative", "seed: -1\n", 0, 1, 7, "seed",
          "expected an unsigned integer, found the negative number \"-1\"" },
        { "seed quoted", "seed: \"5\"\n", 0, 1, 7, "seed", "remove the quotes" },
        { "seed fraction", "seed: 1.5\n", 0, 1, 7, "seed", "a whole number in decimal digits" },
        { "seed exponent", "seed: 1e6\n", 0, 1, 7, "seed", "a whole number in decimal digits" },
        { "seed hex", "seed: 0x1F\n", 0, 1, 7, "seed", "in decimal digits, found \"0x1F\"" },
        { "seed plus", "seed: +5\n", 0, 1, 7, "seed", "in decimal digits, found \"+5\"" },
        { "seed leading zero", "seed: 007\n", 0, 1, 7, "seed", "without leading zeros" },
        { "seed overflow", "seed: 18446744073709551616\n", 0, 1, 7, "seed", "is too large" },
        { "seed sequence", "seed: [1]\n", 0, 1, 7, "seed",
          "expected an unsigned integer, found a sequence" },
        { "seed empty", "seed:\n" TOPO, 0, 1, 6, "seed", "found an empty value" },
        { "seed tagged str", "seed: !!str 5\n", 0, 1, 7, "seed",
          "found a value tagged tag:yaml.org,2002:str" },
        { "hops zero", BASE "hops: 0\n", 0, 5, 7, "hops", "must be between 1 and 65534, found 0" },
        { "hops too many", BASE "hops: 65535\n", 0, 5, 7, "hops",
          "must be between 1 and 65534, found 65535" },
        { "per_tenant yes", BASE "output: {json: r.json, per_tenant: yes}\n", 0, 5, 36,
          "output.per_tenant", "expected true or false, found \"yes\"" },
        { "per_tenant quoted", BASE "output: {per_tenant: \"true\"}\n", 0, 5, 22,
          "output.per_tenant", "remove the quotes" },
        { "name not string", "name: [x]\n" BASE, 0, 1, 7, "name",
          "expected a string, found a sequence" },
        { "name null", "name: ~\n" BASE, 0, 1, 7, "name", "found an empty value" },
        { "output json list", BASE "output: {json: [a]}\n", 0, 5, 16, "output.json",
          "expected a string, found a sequence" },
    };
    run_cases(cases, N(cases));
}

static void scalar_values(void **state)
{
    (void)state;
    static const char text[] =
        "seed: !!int 18446744073709551615\n"
        "topology: {generator: fake, params: {workloads: 1000000, ratio: 1e-1, flag: false}}\n"
        VEC POL;
    tc_scenario *s;
    tc_error err;
    assert_int_equal(load_text(text, strlen(text), &s, &err), TC_OK);
    assert_true(s->seed == UINT64_MAX);
    const fake_params *p = s->generator_params;
    assert_int_equal(p->workloads, 1000000);
    assert_true(p->ratio == 0.1);
    assert_false(p->flag);
    tc_scenario_free(s);
}

/* ---- generator parameters and the topology section ---- */

static void topology_errors(void **state)
{
    (void)state;
    /* "topology: {generator: fake, params: {" is 37 characters, so the
     * first parameter key is at column 38 and "ratio: " puts its value at 45. */
    const error_case cases[] = {
        { "ratio nan", SEED "topology: {generator: fake, params: {ratio: nan}}\n", 0, 2, 45,
          "topology.params.ratio", "expected a finite decimal number, found \"nan\"" },
        { "ratio inf", SEED "topology: {generator: fake, params: {ratio: .inf}}\n", 0, 2, 45,
          "topology.params.ratio", "expected a finite decimal number" },
        { "ratio overflow", SEED "topology: {generator: fake, params: {ratio: 1e400}}\n", 0, 2,
          45, "topology.params.ratio", "expected a finite decimal number" },
        { "ratio hex", SEED "topology: {generator: fake, params: {ratio: 0x1p-2}}\n", 0, 2, 45,
          "topology.params.ratio", "expected a finite decimal number" },
        { "ratio range", SEED "topology: {generator: fake, params: {ratio: 1.5}}\n", 0, 2, 45,
          "topology.params.ratio", "must be between 0 and 1, found \"1.5\"" },
        { "workloads range", SEED "topology: {generator: fake, params: {workloads: 5}}\n", 0, 2,
          49, "topology.params.workloads", "must be between 10 and 1000000, found 5" },
        { "param unknown", SEED "topology: {generator: fake, params: {wrkloads: 5}}\n", 0, 2,
          38, "topology.params.wrkloads",
          "unknown key; allowed keys here: workloads, ratio, flag" },
        { "param bool", SEED "topology: {generator: fake, params: {flag: 1}}\n", 0, 2, 44,
          "topology.params.flag", "expected true or false, found \"1\"" },
        { "params not mapping", SEED "topology: {generator: fake, params: [1]}\n", 0, 2, 37,
          "topology.params", "expected a mapping of generator parameters" },
        { "generator unknown", SEED "topology: {generator: clowd}\n", 0, 2, 23,
          "topology.generator", "unknown generator \"clowd\"; available: fake" },
        { "both sources", SEED "topology: {generator: fake, explicit: t.yaml}\n", 0, 2, 39,
          "topology.explicit", "give either generator or explicit, not both" },
        { "no source", SEED "topology: {}\n", 0, 2, 11, "topology",
          "missing key: give generator" },
        { "params with explicit", SEED "topology: {explicit: t.yaml, params: {}}\n", 0, 2, 38,
          "topology.params", "params apply only to a generator" },
        { "explicit missing", SEED "topology: {explicit: missing.yaml}\n", 0, 2, 22,
          "topology.explicit", "missing.yaml: No such file or directory" },
        { "topology scalar", SEED "topology: cloud\n", 0, 2, 11, "topology",
          "expected a mapping with generator or explicit, found \"cloud\"" },
        { "topology unknown key", SEED "topology: {generator: fake, parms: {}}\n", 0, 2, 29,
          "topology.parms", "unknown key; allowed keys here: generator, params, explicit" },
        { "topology missing", SEED VEC POL, 0, 1, 1, "topology", "missing required key" },
        { "explicit folder", SEED "topology: {explicit: .}\n" VEC POL, 0, 2, 22,
          "topology.explicit", "is not a regular file" },
    };
    run_cases(cases, N(cases));

    /* The generator's own check runs after defaults and overrides. */
    static const char check[] =
        SEED "topology: {generator: fake, params: {workloads: 5000, flag: true}}\n" VEC POL;
    tc_scenario *s;
    tc_error err;
    assert_int_equal(load_text(check, strlen(check), &s, &err), TC_ERR_INPUT);
    assert_null(s);
    assert_string_equal(err.key, "topology.params.flag");
    assert_string_equal(err.message, "flag needs at most 1000 workloads");
}

static void topology_defaults_and_explicit(void **state)
{
    (void)state;
    tc_scenario *s;
    tc_error err;
    assert_int_equal(load_text(BASE, strlen(BASE), &s, &err), TC_OK);
    assert_int_equal(s->source, TC_TOPOLOGY_GENERATED);
    assert_ptr_equal(s->generator, &fake_generators[0]);
    const fake_params *p = s->generator_params;
    assert_int_equal(p->workloads, 100);
    assert_true(p->ratio == 0.5);
    assert_false(p->flag);
    tc_scenario_free(s);

    /* An explicit path is resolved against the scenario's folder. */
    char topo[128], expected[160];
    temp_path("topo.yaml", topo, sizeof topo);
    write_file(topo, "segments: [a]\n", 14);
    static const char text[] = SEED "topology: {explicit: topo.yaml}\n" VEC POL;
    assert_int_equal(load_text(text, strlen(text), &s, &err), TC_OK);
    assert_int_equal(s->source, TC_TOPOLOGY_EXPLICIT);
    snprintf(expected, sizeof expected, "%s/topo.yaml", temp_dir);
    assert_string_equal(s->explicit_path, expected);
    assert_null(s->generator_params);
    tc_scenario_free(s);
}

/* ---- vectors ---- */

static void vector_errors(void **state)
{
    (void)state;
    const error_case cases[] = {
        { "vectors empty", SEED TOPO "vectors: []\n" POL, 0, 3, 10, "vectors",
          "expected at least one foothold vector" },
        { "vectors mapping", SEED TOPO "vectors: {kind: cicd}\n" POL, 0, 3, 10, "vectors",
          "expected a list of foothold vectors, found a mapping" },
        { "vectors missing", SEED TOPO POL, 0, 1, 1, "vectors", "missing required key" },
        { "vector scalar", SEED TOPO "vectors: [cicd]\n" POL, 0, 3, 11, "vectors[0]",
          "expected a mapping with kind and its keys, found \"cicd\"" },
        { "kind missing", SEED TOPO "vectors: [{rank: 1}]\n" POL, 0, 3, 11, "vectors[0].kind",
          "missing required key" },
        { "kind unknown", SEED TOPO "vectors: [{kind: npm}]\n" POL, 0, 3, 18, "vectors[0].kind",
          "unknown vector kind \"npm\"; expected one of: package, cicd, infra, "
          "internet_facing, workloads" },
        { "key unknown", SEED TOPO "vectors: [{kind: cicd, rnak: 1}]\n" POL, 0, 3, 24,
          "vectors[0].rnak", "unknown key; allowed keys here: name, kind, package, rank, "
          "count, workloads" },
        { "key of other kind", SEED TOPO "vectors: [{kind: package, rank: 1, count: 5}]\n" POL,
          0, 3, 36, "vectors[0].count",
          "does not apply to kind package; keys for package: name, kind, package, rank" },
        { "package and rank", SEED TOPO "vectors: [{kind: cicd, package: x, rank: 1}]\n" POL, 0,
          3, 42, "vectors[0].rank", "give either package (a name) or rank" },
        { "neither package nor rank", SEED TOPO "vectors: [{kind: infra}]\n" POL, 0, 3, 11,
          "vectors[0]", "missing key: give package (a package name) or rank" },
        { "rank zero", SEED TOPO "vectors: [{kind: cicd, rank: 0}]\n" POL, 0, 3, 30,
          "vectors[0].rank", "must be between 1 and 4294967295, found 0" },
        { "count zero", SEED TOPO "vectors: [{kind: internet_facing, count: 0}]\n" POL, 0, 3,
          42, "vectors[0].count", "must be at least 1, found 0" },
        { "count negative", SEED TOPO "vectors: [{kind: internet_facing, count: -5}]\n" POL, 0,
          3, 42, "vectors[0].count", "negative number \"-5\"" },
        { "count missing", SEED TOPO "vectors: [{kind: internet_facing}]\n" POL, 0, 3, 11,
          "vectors[0].count", "missing required key" },
        { "workloads empty", SEED TOPO "vectors: [{kind: workloads, workloads: []}]\n" POL, 0, 3,
          40, "vectors[0].workloads", "expected at least one workload" },
        { "workloads not list", SEED TOPO "vectors: [{kind: workloads, workloads: web-1}]\n" POL,
          0, 3, 40, "vectors[0].workloads", "expected a list of workload names or ids" },
        { "workload twice", SEED TOPO
          "vectors: [{kind: workloads, workloads: [web-1, 7, web-1]}]\n" POL, 0, 3, 51,
          "vectors[0].workloads[2]", "workload web-1 is listed twice" },
        { "workload id and quoted id", SEED TOPO
          "vectors: [{kind: workloads, workloads: [7, \"7\"]}]\n" POL, 0, 3, 44,
          "vectors[0].workloads[1]", "workload 7 is listed twice" },
        { "workload id negative", SEED TOPO
          "vectors: [{kind: workloads, workloads: [-3]}]\n" POL, 0, 3, 41,
          "vectors[0].workloads[0]", "negative number" },
        { "vector names clash", SEED TOPO
          "vectors: [{name: a, kind: cicd, rank: 1}, {name: a, kind: infra, rank: 1}]\n" POL,
          0, 3, 50, "vectors[1].name", "duplicate vector name \"a\" (vectors[0] has it)" },
        { "default name clash", SEED TOPO
          "vectors: [{kind: cicd, rank: 1}, {name: cicd-0, kind: cicd, rank: 2}]\n" POL, 0, 3,
          41, "vectors[1].name", "duplicate vector name \"cicd-0\"" },
        { "package not string", SEED TOPO "vectors: [{kind: package, package: [x]}]\n" POL, 0,
          3, 36, "vectors[0].package", "expected a string, found a sequence" },
        { "rank on internet_facing", SEED TOPO
          "vectors: [{kind: internet_facing, rank: 1}]\n" POL, 0, 3, 35, "vectors[0].rank",
          "does not apply to kind internet_facing; keys for internet_facing: name, kind, count" },
        { "count on workloads", SEED TOPO
          "vectors: [{kind: workloads, count: 1, workloads: [a]}]\n" POL, 0, 3, 29,
          "vectors[0].count", "does not apply to kind workloads; keys for workloads: name, "
          "kind, workloads" },
        { "workload mapping", SEED TOPO "vectors: [{kind: workloads, workloads: [{a: 1}]}]\n" POL,
          0, 3, 41, "vectors[0].workloads[0]", "expected a string, found a mapping" },
    };
    run_cases(cases, N(cases));
}

static void vector_values(void **state)
{
    (void)state;
    static const char text[] =
        SEED TOPO
        "vectors:\n"
        "  - { name: npm-worm, kind: package, rank: 1 }\n"
        "  - { kind: cicd, rank: 2 }\n"
        "  - { kind: infra, package: \"logcore\" }\n"
        "  - { kind: internet_facing, count: 50 }\n"
        "  - { kind: workloads, workloads: [web-1, 17, \"db 2\"] }\n"
        POL;
    tc_scenario *s;
    tc_error err;
    assert_int_equal(load_text(text, strlen(text), &s, &err), TC_OK);
    assert_int_equal(s->n_vectors, 5);

    const tc_vector_spec *v = s->vectors;
    assert_string_equal(v[0].name, "npm-worm");
    assert_int_equal(v[0].kind, TC_VECTOR_PACKAGE);
    assert_null(v[0].package);
    assert_int_equal(v[0].rank, 1);
    assert_int_equal(v[0].line, 4);
    assert_int_equal(v[0].column, 5);

    assert_string_equal(v[1].name, "cicd-1");
    assert_int_equal(v[1].kind, TC_VECTOR_CICD);
    assert_int_equal(v[1].rank, 2);

    assert_string_equal(v[2].name, "infra-2");
    assert_string_equal(v[2].package, "logcore");
    assert_int_equal(v[2].rank, 0);

    assert_string_equal(v[3].name, "internet_facing-3");
    assert_int_equal(v[3].count, 50);

    assert_int_equal(v[4].kind, TC_VECTOR_WORKLOADS);
    assert_int_equal(v[4].n_workloads, 3);
    assert_string_equal(v[4].workloads[0], "web-1");
    assert_string_equal(v[4].workloads[1], "17");
    assert_string_equal(v[4].workloads[2], "db 2");
    tc_scenario_free(s);
}

/* ---- SmartGroups ---- */

static void smartgroup_errors(void **state)
{
    (void)state;
    const error_case cases[] = {
        { "groups sequence", BASE "smartgroups: [a]\n", 0, 5, 14, "smartgroups",
          "expected a mapping of SmartGroup names to selectors" },
        { "group named any", BASE "smartgroups: {any: \"true\"}\n", 0, 5, 15, "smartgroups.any",
          "\"any\" is reserved" },
        { "selector not string", BASE "smartgroups: {web: [a]}\n", 0, 5, 20, "smartgroups.web",
          "expected a string, found a sequence" },
        { "selector empty", BASE "smartgroups: {web: \"\"}\n", 0, 5, 20, "smartgroups.web",
          "expected a non-empty string" },
        /* The quoted selector's text starts at column 21; "webb" is at
         * column 9 of the selector. */
        { "selector bad value", BASE "smartgroups: {web: \"tier == webb\"}\n", 0, 5, 29,
          "smartgroups.web", "invalid selector: unknown tier value \"webb\"" },
        { "selector bad attribute", BASE "smartgroups: {web: \"tire == web\"}\n", 0, 5, 21,
          "smartgroups.web", "invalid selector: unknown attribute \"tire\"" },
        { "selector plain", BASE "smartgroups:\n  web: tier == web &&\n", 0, 6, 22,
          "smartgroups.web", "expected an attribute comparison, '(', '!', true or false, "
          "found the end of the selector" },
        /* Escapes make the text differ from the source: the scalar's
         * position, with the selector's column in the message. */
        { "group name null", BASE "smartgroups: {~: \"true\"}\n", 0, 5, 15, "smartgroups.~",
          "expected a string, found an empty value" },
        { "selector escaped", BASE "smartgroups: {web: \"tier == \\\"webb\\\"\"}\n", 0, 5, 20,
          "smartgroups.web", "invalid selector at column 9 of the selector: unknown tier" },
    };
    run_cases(cases, N(cases));
}

static void smartgroup_values(void **state)
{
    (void)state;
    static const char text[] =
        BASE
        "smartgroups:\n"
        "  prod-data: \"env == prod && tier == data\"\n"
        "  edge: internet_facing\n";
    tc_scenario *s;
    tc_error err;
    assert_int_equal(load_text(text, strlen(text), &s, &err), TC_OK);
    assert_int_equal(s->n_groups, 2);
    assert_string_equal(s->groups[0].name, "prod-data");
    assert_string_equal(s->groups[0].text, "env == prod && tier == data");
    assert_int_equal(s->groups[0].line, 6);
    assert_int_equal(s->groups[0].column, 3);
    assert_true(tc_selector_uses(s->groups[0].selector, TC_ATTR_ENV));
    assert_true(tc_selector_uses(s->groups[0].selector, TC_ATTR_TIER));
    assert_false(tc_selector_uses(s->groups[0].selector, TC_ATTR_APP));
    assert_string_equal(s->groups[1].name, "edge");
    assert_true(tc_selector_uses(s->groups[1].selector, TC_ATTR_INTERNET_FACING));
    tc_scenario_free(s);
}

/* ---- policies ---- */

#define GROUPS "smartgroups: {web: \"tier == web\", db: \"tier == data\"}\n"

/* Line 10 of a rules policy, starting at column 9, contains the rule under test. */
#define RULES_HEAD SEED TOPO VEC GROUPS \
    "policies:\n" \
    "  - name: p\n" \
    "    kind: rules\n" \
    "    rules:\n" \
    "      - {from: web, to: db, services: [postgres], action: allow}\n" \
    "      - "

static void policy_errors(void **state)
{
    (void)state;
    const error_case cases[] = {
        { "policies empty", SEED TOPO VEC "policies: []\n", 0, 4, 11, "policies",
          "expected at least one policy" },
        { "policies missing", SEED TOPO VEC, 0, 1, 1, "policies", "missing required key" },
        { "policy scalar", SEED TOPO VEC "policies: [legacy]\n", 0, 4, 12, "policies[0]",
          "expected a policy mapping with name and kind" },
        { "policy without name", SEED TOPO VEC "policies: [{kind: legacy}]\n", 0, 4, 12,
          "policies[0].name", "missing required key" },
        { "policy kind unknown", SEED TOPO VEC "policies: [{name: p, kind: open}]\n", 0, 4, 28,
          "policies[0].kind", "unknown policy kind \"open\"; expected one of: legacy, rules, "
          "derived" },
        { "legacy with rules", SEED TOPO VEC "policies: [{name: p, kind: legacy, rules: []}]\n",
          0, 4, 36, "policies[0].rules", "does not apply to kind legacy; keys for legacy: "
          "name, kind" },
        { "policy names clash", SEED TOPO VEC
          "policies: [{name: p, kind: legacy}, {name: p, kind: legacy}]\n", 0, 4, 44,
          "policies[1].name", "duplicate policy name \"p\" (policies[0] has it)" },
        { "rules missing", SEED TOPO VEC "policies: [{name: p, kind: rules}]\n", 0, 4, 12,
          "policies[0].rules", "missing required key" },
        { "rules mapping", SEED TOPO VEC "policies: [{name: p, kind: rules, rules: {}}]\n", 0, 4,
          42, "policies[0].rules", "expected a list of rules" },
        { "default unknown", SEED TOPO VEC
          "policies: [{name: p, kind: rules, default: block, rules: []}]\n", 0, 4, 44,
          "policies[0].default", "unknown default action \"block\"; expected one of: deny, "
          "allow" },
        { "rule scalar", RULES_HEAD "web\n", 0, 10, 9, "policies[0].rules[1]",
          "expected a rule mapping" },
        { "rule group undefined", RULES_HEAD "{from: web, to: dbs, services: any, action: deny}\n",
          0, 10, 25, "policies[0].rules[1].to",
          "undefined SmartGroup \"dbs\"; defined under smartgroups: web, db (or use any)" },
        { "rule from missing", RULES_HEAD "{to: db, services: any, action: deny}\n", 0, 10, 9,
          "policies[0].rules[1].from", "missing required key" },
        { "rule service unknown", RULES_HEAD
          "{from: any, to: db, services: [postgres, mysq1], action: deny}\n", 0, 10, 50,
          "policies[0].rules[1].services[1]", "unknown service \"mysq1\"; expected one of: ssh, "
          "rdp, http" },
        { "rule services empty", RULES_HEAD "{from: any, to: db, services: [], action: deny}\n", 0,
          10, 39, "policies[0].rules[1].services",
          "expected at least one service, found an empty list" },
        { "rule service twice", RULES_HEAD
          "{from: any, to: db, services: [http, http], action: deny}\n", 0, 10, 46,
          "policies[0].rules[1].services[1]", "service \"http\" is listed twice" },
        { "rule services scalar", RULES_HEAD "{from: any, to: db, services: http, action: deny}\n",
          0, 10, 39, "policies[0].rules[1].services",
          "expected a list of service names or any, found \"http\"" },
        { "rule action unknown", RULES_HEAD
          "{from: any, to: db, services: any, action: permit}\n", 0, 10, 52,
          "policies[0].rules[1].action", "unknown action \"permit\"; expected one of: deny, "
          "allow" },
        { "rule key unknown", RULES_HEAD
          "{from: any, to: db, services: any, action: deny, log: true}\n", 0, 10, 58,
          "policies[0].rules[1].log", "unknown key; allowed keys here: from, to, services, "
          "action" },
        { "granularity unknown", SEED TOPO VEC
          "policies: [{name: g, kind: derived, granularity: [tenant, colour]}]\n", 0, 4, 59,
          "policies[0].granularity[1]", "unknown attribute \"colour\"; expected one of: tenant, "
          "account" },
        { "granularity empty", SEED TOPO VEC
          "policies: [{name: g, kind: derived, granularity: []}]\n", 0, 4, 50,
          "policies[0].granularity", "expected at least one attribute" },
        { "granularity missing", SEED TOPO VEC "policies: [{name: g, kind: derived}]\n", 0, 4, 12,
          "policies[0].granularity", "missing required key" },
        { "policy kind missing", SEED TOPO VEC "policies: [{name: p}]\n", 0, 4, 12,
          "policies[0].kind", "missing required key" },
        { "policy name empty", SEED TOPO VEC "policies: [{name: \"\", kind: legacy}]\n", 0, 4, 19,
          "policies[0].name", "expected a non-empty string" },
        { "rule from list", RULES_HEAD "{from: [web], to: db, services: any, action: deny}\n", 0,
          10, 16, "policies[0].rules[1].from", "expected a string, found a sequence" },
        { "granularity twice", SEED TOPO VEC
          "policies: [{name: g, kind: derived, granularity: [app, app]}]\n", 0, 4, 56,
          "policies[0].granularity[1]", "attribute \"app\" is listed twice" },
        { "derived with default", SEED TOPO VEC
          "policies: [{name: g, kind: derived, default: allow, granularity: [app]}]\n", 0, 4, 37,
          "policies[0].default", "does not apply to kind derived" },
    };
    run_cases(cases, N(cases));
}

static void policy_values(void **state)
{
    (void)state;
    static const char text[] =
        SEED TOPO VEC GROUPS
        "policies:\n"
        "  - { name: legacy, kind: legacy }\n"
        "  - name: tiers\n"
        "    kind: rules\n"
        "    default: allow\n"
        "    rules:\n"
        "      - { from: web, to: db, services: [postgres, redis], action: allow }\n"
        "      - { from: any, to: db, services: any, action: deny }\n"
        "  - { name: gov, kind: derived, granularity: [tenant, env, app] }\n"
        "  - { name: closed, kind: rules, rules: [] }\n";
    tc_scenario *s;
    tc_error err;
    assert_int_equal(load_text(text, strlen(text), &s, &err), TC_OK);
    assert_int_equal(s->n_policies, 4);

    const tc_policy_spec *p = s->policies;
    assert_string_equal(p[0].name, "legacy");
    assert_int_equal(p[0].kind, TC_POLICY_LEGACY);
    assert_true(p[0].default_allow);

    assert_int_equal(p[1].kind, TC_POLICY_RULES);
    assert_true(p[1].default_allow);
    assert_int_equal(p[1].n_rules, 2);
    assert_int_equal(p[1].rules[0].from, 0);
    assert_int_equal(p[1].rules[0].to, 1);
    assert_int_equal(p[1].rules[0].services, (1u << 5) | (1u << 8)); /* postgres, redis */
    assert_true(p[1].rules[0].allow);
    assert_int_equal(p[1].rules[0].line, 11);
    assert_int_equal(p[1].rules[1].from, TC_GROUP_ANY);
    assert_int_equal(p[1].rules[1].services, TC_SERVICE_ALL);
    assert_false(p[1].rules[1].allow);

    assert_int_equal(p[2].kind, TC_POLICY_DERIVED);
    assert_false(p[2].default_allow);
    assert_int_equal(p[2].n_granularity, 3);
    assert_int_equal(p[2].granularity[0], TC_ATTR_TENANT);
    assert_int_equal(p[2].granularity[1], TC_ATTR_ENV);
    assert_int_equal(p[2].granularity[2], TC_ATTR_APP);

    assert_false(p[3].default_allow);
    assert_int_equal(p[3].n_rules, 0);
    tc_scenario_free(s);
}

/* ---- the small sections ---- */

static void section_errors(void **state)
{
    (void)state;
    const error_case cases[] = {
        { "crown none", BASE "crown_jewels: [none]\n", 0, 5, 16, "crown_jewels[0]",
          "unknown crown-jewel kind \"none\"; expected one of: database, secrets, privileged, "
          "billing" },
        { "crown empty", BASE "crown_jewels: []\n", 0, 5, 15, "crown_jewels",
          "expected at least one crown-jewel kind" },
        { "crown twice", BASE "crown_jewels: [database, database]\n", 0, 5, 26,
          "crown_jewels[1]", "crown-jewel kind \"database\" is listed twice" },
        { "crown scalar", BASE "crown_jewels: database\n", 0, 5, 15, "crown_jewels",
          "expected a list of crown-jewel kind names, found \"database\"" },
        { "output key unknown", BASE "output: {jsn: x}\n", 0, 5, 10, "output.jsn",
          "unknown key; allowed keys here: json, per_tenant" },
        { "output sequence", BASE "output: [x]\n", 0, 5, 9, "output",
          "expected a mapping with json and per_tenant" },
        { "root key unknown", BASE "sed: 1\n", 0, 5, 1, "sed",
          "unknown key; allowed keys here: name, seed, topology, vectors, smartgroups, "
          "policies, crown_jewels, hops, output" },
        { "seed missing", TOPO VEC POL, 0, 1, 1, "seed", "missing required key" },
    };
    run_cases(cases, N(cases));
}

static void section_values(void **state)
{
    (void)state;
    char path[128];
    temp_path("my-scenario.yml", path, sizeof path);
    static const char text[] = BASE;
    write_file(path, text, strlen(text));

    tc_scenario *s;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_scenario_load(path, fake_generators, 1, &s, &err), TC_OK);
    assert_string_equal(s->name, "my-scenario");
    assert_string_equal(s->path, path);
    assert_int_equal(s->crown_kinds, 0x1E); /* database, secrets, privileged, billing */
    assert_int_equal(s->hop_budget, 32);
    assert_null(s->output_json);
    assert_false(s->output_per_tenant);
    tc_scenario_free(s);

    static const char more[] =
        "name: cascade\n" BASE
        "crown_jewels: [billing, secrets]\n"
        "hops: 65534\n"
        "output: {json: results/x.json, per_tenant: true}\n";
    assert_int_equal(load_text(more, strlen(more), &s, &err), TC_OK);
    assert_string_equal(s->name, "cascade");
    assert_int_equal(s->crown_kinds, (1u << TC_CROWN_BILLING) | (1u << TC_CROWN_SECRETS));
    assert_int_equal(s->hop_budget, 65534);
    assert_string_equal(s->output_json, "results/x.json");
    assert_true(s->output_per_tenant);
    tc_scenario_free(s);
}

static void missing_file(void **state)
{
    (void)state;
    tc_scenario *s;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_scenario_load("/nonexistent/x.yaml", NULL, 0, &s, &err), TC_ERR_INPUT);
    assert_null(s);
    assert_string_equal(err.file, "/nonexistent/x.yaml");
    assert_non_null(strstr(err.message, "No such file or directory"));
}

static void repository_scenario(void **state)
{
    (void)state;
    tc_scenario *s;
    tc_error err;
    tc_error_clear(&err);
    int rc = tc_scenario_load("scenarios/tiny-explicit.yaml", NULL, 0, &s, &err);
    if (rc != TC_OK)
        tc_error_print(&err, stderr);
    assert_int_equal(rc, TC_OK);
    assert_string_equal(s->explicit_path, "scenarios/topologies/tiny.yaml");
    assert_int_equal(s->n_vectors, 1);
    assert_int_equal(s->n_groups, 9);
    assert_int_equal(s->n_policies, 3);
    assert_int_equal(s->policies[1].n_rules, 6);
    assert_int_equal(s->hop_budget, 8);
    tc_scenario_free(s);
}

/* ---- the catalogue of invalid files ---- */

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    return n >= m && strcmp(name + n - m, suffix) == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Load every tests/bad/NAME.yaml and compare the printed error with the
 * single line of NAME.expected. A file whose name contains "valid-"
 * must load. */
static void bad_catalogue(void **state)
{
    (void)state;
    DIR *dir = opendir("tests/bad");
    assert_non_null(dir);
    char *names[512];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (has_suffix(e->d_name, ".yaml") && n < 512)
            names[n++] = strdup(e->d_name);
    closedir(dir);
    qsort(names, n, sizeof *names, compare_names);
    assert_true(n >= 30);

    size_t failures = 0;
    for (size_t i = 0; i < n; i++) {
        char path[512], expected_path[512], expected[2048] = "", printed[2048] = "";
        snprintf(path, sizeof path, "tests/bad/%s", names[i]);
        snprintf(expected_path, sizeof expected_path, "tests/bad/%.*s.expected",
                 (int)(strlen(names[i]) - 5), names[i]);

        FILE *f = fopen(expected_path, "r");
        if (!f) {
            fprintf(stderr, "%s: missing %s\n", path, expected_path);
            failures++;
            free(names[i]);
            continue;
        }
        if (!fgets(expected, sizeof expected, f))
            expected[0] = '\0';
        fclose(f);

        tc_scenario *s = NULL;
        tc_error err;
        tc_error_clear(&err);
        int rc = tc_scenario_load(path, NULL, 0, &s, &err);
        if (rc == TC_OK) {
            snprintf(printed, sizeof printed, "OK\n");
            tc_scenario_free(s);
        } else {
            FILE *out = fmemopen(printed, sizeof printed, "w");
            tc_error_print(&err, out);
            fclose(out);
        }
        if (strcmp(printed, expected) != 0) {
            fprintf(stderr, "%s:\n  expected: %s  printed:  %s", path, expected, printed);
            failures++;
        }
        free(names[i]);
    }
    assert_int_equal(failures, 0);
}

/* Run from the repository root, wherever the binary was started from. */
static void chdir_to_repository(void)
{
    for (int up = 0; up < 4; up++) {
        struct stat st;
        if (stat("tests/bad", &st) == 0 && S_ISDIR(st.st_mode))
            return;
        if (chdir("..") != 0)
            return;
    }
}

int main(void)
{
    chdir_to_repository();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(yaml_errors),
        cmocka_unit_test(yaml_accepts_bom_and_aliases),
        cmocka_unit_test(scalar_errors),
        cmocka_unit_test(scalar_values),
        cmocka_unit_test(topology_errors),
        cmocka_unit_test(topology_defaults_and_explicit),
        cmocka_unit_test(vector_errors),
        cmocka_unit_test(vector_values),
        cmocka_unit_test(smartgroup_errors),
        cmocka_unit_test(smartgroup_values),
        cmocka_unit_test(policy_errors),
        cmocka_unit_test(policy_values),
        cmocka_unit_test(section_errors),
        cmocka_unit_test(section_values),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(repository_scenario),
        cmocka_unit_test(bad_catalogue),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
