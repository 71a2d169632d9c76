/* test_report.c - `trustchain report`, part by part.
 *
 * Covers escaping for HTML, CSV, DOT and gnuplot, base64 and number text.
 * Then the schema check with the key path of each error, the choice of
 * best and baseline policy, and the lenient readers of paths and plans.
 * Last, a whole report of a two-policy result, compared line by line.
 *
 * Every expected string is written by hand from the rule it checks (RFC
 * 4180 quoting, RFC 4648 test vectors, the growth arrays of the result in
 * build_report_tables); none is copied from the code's output. The report
 * runs with gnuplot and dot set to a missing program, so the test needs
 * neither and checks the warning instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "report.h"
#include "report_internal.h"

/* ---- helpers ---- */

typedef void (*put_fn)(FILE *, const char *);

/* What PUT writes for IN, malloc'd. */
static char *written(put_fn put, const char *in)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    put(out, in);
    fclose(out);
    return text;
}

static void expect_written(put_fn put, const char *in, const char *expected)
{
    char *got = written(put, in);
    if (strcmp(got, expected) != 0)
        fail_msg("input \"%s\": wrote \"%s\", expected \"%s\"", in, got, expected);
    free(got);
}

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!root)
        fail_msg("test JSON line %d: %s", jerr.line, jerr.text);
    return root;
}

static char *slurp(const char *path)
{
    char *data;
    size_t size;
    tc_error err;
    tc_error_clear(&err);
    if (tc_report_read_file(path, &data, &size, &err) != TC_OK)
        fail_msg("%s", err.message);
    return data;
}

/* ---- escaping ---- */

static void test_html_escape(void **state)
{
    (void)state;
    expect_written(tc_report_put_html, "plain text", "plain text");
    expect_written(tc_report_put_html, "<a href=\"x\">'&",
                   "&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
    expect_written(tc_report_put_html, "bell\x07 tab\tline\n", "bell&#xFFFD; tab\tline\n");
    expect_written(tc_report_put_html, "caf\xc3\xa9", "caf\xc3\xa9");
}

static void test_csv_quoting(void **state)
{
    (void)state;
    expect_written(tc_report_put_csv, "plain", "plain");
    expect_written(tc_report_put_csv, "", "");
    expect_written(tc_report_put_csv, "a,b", "\"a,b\"");
    expect_written(tc_report_put_csv, "say \"hi\"", "\"say \"\"hi\"\"\"");
    expect_written(tc_report_put_csv, "two\nlines", "\"two\nlines\"");
    expect_written(tc_report_put_csv, "cr\r", "\"cr\r\"");
}

static void test_dot_and_gnuplot_strings(void **state)
{
    (void)state;
    expect_written(tc_report_put_dot, "a\"b\\c\nd\x01", "a\\\"b\\\\c\\nd ");
    expect_written(tc_report_put_gnuplot, "it's {x}^2_y", "it''s {x}^2_y");
    expect_written(tc_report_put_gnuplot, "new\nline", "new line");
}

static void test_base64_vectors(void **state)
{
    (void)state;
    /* RFC 4648, section 10. */
    static const char *const cases[][2] = {
        { "", "" },         { "f", "Zg==" },        { "fo", "Zm8=" },     { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *text = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&text, &size);
        tc_report_put_base64(out, (const unsigned char *)cases[i][0], strlen(cases[i][0]));
        fclose(out);
        if (strcmp(text, cases[i][1]) != 0)
            fail_msg("base64(\"%s\") = \"%s\", expected \"%s\"", cases[i][0], text, cases[i][1]);
        free(text);
    }

    /* Every byte value survives: 0x00 0xff 0x80 encode as AP+A. */
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    tc_report_put_base64(out, (const unsigned char[]){ 0x00, 0xff, 0x80 }, 3);
    fclose(out);
    assert_string_equal(text, "AP+A");
    free(text);
}

static void test_double_text(void **state)
{
    (void)state;
    static const struct {
        double value;
        const char *text;
    } cases[] = {
        { 0.0, "0" }, { 0.1, "0.1" }, { 0.6, "0.6" }, { 0.513166666667, "0.513166666667" },
        { 1e-05, "1e-05" }, { 1.0 / 3.0, "0.3333333333333333" }, { 2806.0, "2806" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *text = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&text, &size);
        tc_report_put_double(out, cases[i].value);
        fclose(out);
        if (strcmp(text, cases[i].text) != 0)
            fail_msg("%.17g written as \"%s\", expected \"%s\"", cases[i].value, text,
                     cases[i].text);
        if (strtod(text, NULL) != cases[i].value)
            fail_msg("\"%s\" does not read back as %.17g", text, cases[i].value);
        free(text);
    }
}

static void test_count_text(void **state)
{
    (void)state;
    char buf[48];
    assert_string_equal(tc_report_format_count(0, buf, sizeof buf), "0");
    assert_string_equal(tc_report_format_count(999, buf, sizeof buf), "999");
    assert_string_equal(tc_report_format_count(1000, buf, sizeof buf), "1,000");
    assert_string_equal(tc_report_format_count(608953, buf, sizeof buf), "608,953");
    assert_string_equal(tc_report_format_count(1234567, buf, sizeof buf), "1,234,567");
    assert_string_equal(tc_report_format_count(-1234, buf, sizeof buf), "-1,234");
}

/* ---- schema check ---- */

/* A valid result with two policies. "open" (legacy) compromises 6 of 10
 * workloads over hops 0..2 and reaches the database. "tight, "segmented""
 * (a name that CSV must quote) compromises 2 over hops 0..1 and breaks 2
 * of 5 flows. */
static const char tiny_result[] =
    "{\"schema_version\": 1, \"tool\": {\"name\": \"trustchain\", \"version\": \"0.1.0\"},\n"
    " \"scenario\": {\"name\": \"tiny\", \"seed\": 1, \"hop_budget\": 4,\n"
    "              \"crown_jewels\": [\"database\"]},\n"
    " \"topology\": {\"workloads\": 10, \"tenants\": 1},\n"
    " \"footholds\": {\"total\": 1, \"vectors\": [{\"name\": \"v\", \"kind\": \"package\",\n"
    "                                           \"workloads\": 1}]},\n"
    " \"policies\": [\n"
    "  {\"name\": \"open\", \"kind\": \"legacy\", \"compromised\": 6, \"fraction\": 0.6,\n"
    "   \"crown_jewels\": {\"database\": {\"compromised\": 1, \"total\": 1}},\n"
    "   \"first_crown_jewel_hop\": 2, \"last_hop\": 2, \"growth\": [1, 2, 3],\n"
    "   \"legitimate_flows\": {\"total\": 5, \"broken\": 0}},\n"
    "  {\"name\": \"tight, \\\"segmented\\\"\", \"kind\": \"rules\", \"compromised\": 2,\n"
    "   \"fraction\": 0.2, \"crown_jewels\": {\"database\": {\"compromised\": 0, \"total\": 1}},\n"
    "   \"first_crown_jewel_hop\": null, \"last_hop\": 1, \"growth\": [1, 1],\n"
    "   \"legitimate_flows\": {\"total\": 5, \"broken\": 2}}]}\n";

typedef struct schema_case {
    const char *change; /* jansson path edit applied to tiny_result, see apply_change */
    const char *key;    /* expected error key; NULL: valid */
} schema_case;

/* Apply "PATH=JSON" or "PATH-" (delete) to ROOT, PATH being dot-separated
 * members with [i] for array elements. */
static void apply_change(json_t *root, const char *change)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", change);
    char *eq = strchr(buf, '=');
    bool remove = !eq && buf[strlen(buf) - 1] == '-';
    if (eq)
        *eq = '\0';
    else if (remove)
        buf[strlen(buf) - 1] = '\0';

    json_t *parent = root;
    char *key = buf;
    for (char *dot; (dot = strchr(key, '.')); key = dot + 1) {
        *dot = '\0';
        char *bracket = strchr(key, '[');
        if (bracket) {
            *bracket = '\0';
            parent = json_array_get(json_object_get(parent, key), strtoul(bracket + 1, NULL, 10));
        } else {
            parent = json_object_get(parent, key);
        }
        assert_non_null(parent);
    }
    if (remove)
        json_object_del(parent, key);
    else
        json_object_set_new(parent, key, parse(eq + 1));
}

static void test_schema_check(void **state)
{
    (void)state;
    static const schema_case cases[] = {
        { "tool.name=\"trustchain\"", NULL },
        { "schema_version=2", "schema_version" },
        { "schema_version=\"1\"", "schema_version" },
        { "schema_version-", "schema_version" },
        { "scenario.name=3", "scenario.name" },
        { "topology.workloads=-1", "topology.workloads" },
        { "topology.tenants=1.5", "topology.tenants" },
        { "policies[0].growth-", "policies[0].growth" },
        { "policies[1].growth=[1, -1]", "policies[1].growth[1]" },
        { "policies[0].fraction=\"60%\"", "policies[0].fraction" },
        { "policies[1].first_crown_jewel_hop=\"none\"", "policies[1].first_crown_jewel_hop" },
        { "policies[0].crown_jewels={\"database\": {\"total\": 1}}",
          "policies[0].crown_jewels.database.compromised" },
        { "policies[0].legitimate_flows={\"total\": 5}", "policies[0].legitimate_flows.broken" },
        { "policies[0].paths={}", "policies[0].paths" },
        { "policies[0].plan=3", "policies[0].plan" },
        { "policies[0].plan={\"steps\": []}", NULL },
        { "footholds.vectors=[{\"name\": \"v\", \"kind\": \"package\"}]",
          "footholds.vectors[0].workloads" },
        { "timings={\"policies\": [{\"name\": \"open\", \"compile_seconds\": \"fast\"}]}",
          "timings.policies[0].compile_seconds" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *root = parse(tiny_result);
        apply_change(root, cases[i].change);
        tc_error err;
        tc_error_clear(&err);
        int status = tc_report_check_results(root, "r.json", &err);
        if (!cases[i].key && status != TC_OK)
            fail_msg("%s: rejected (%s: %s), expected valid", cases[i].change, err.key,
                     err.message);
        if (cases[i].key && status != TC_ERR_INPUT)
            fail_msg("%s: status %d, expected an input error at %s", cases[i].change, status,
                     cases[i].key);
        if (cases[i].key && strcmp(err.key, cases[i].key) != 0)
            fail_msg("%s: error at \"%s\", expected \"%s\"", cases[i].change, err.key,
                     cases[i].key);
        if (cases[i].key && strcmp(err.file, "r.json") != 0)
            fail_msg("%s: error names file \"%s\"", cases[i].change, err.file);
        json_decref(root);
    }
}

/* ---- best and baseline policy ---- */

static tc_report report_of(json_t *root)
{
    tc_report r = { .root = root };
    r.n_policies = json_array_size(json_object_get(root, "policies"));
    return r;
}

static void test_best_and_baseline(void **state)
{
    (void)state;
    /* Compromised 5, 3, 3 and broken flows 0, 2, 1. The tie at 3 goes to
     * the policy that breaks fewer flows. Among policies that break no
     * flow, only the first qualifies. */
    json_t *root = parse("{\"policies\": ["
                         "{\"kind\": \"rules\", \"compromised\": 5, "
                         " \"legitimate_flows\": {\"broken\": 0}},"
                         "{\"kind\": \"legacy\", \"compromised\": 3, "
                         " \"legitimate_flows\": {\"broken\": 2}},"
                         "{\"kind\": \"rules\", \"compromised\": 3, "
                         " \"legitimate_flows\": {\"broken\": 1}}]}");
    tc_report r = report_of(root);
    assert_int_equal(tc_report_best_policy(&r, false), 2);
    assert_int_equal(tc_report_best_policy(&r, true), 0);
    assert_int_equal(tc_report_baseline_policy(&r), 1);

    /* No legacy policy: the baseline is the largest blast radius. */
    json_object_set_new(json_array_get(json_object_get(root, "policies"), 1), "kind",
                        json_string("derived"));
    assert_int_equal(tc_report_baseline_policy(&r), 0);

    /* Ties everywhere: the first policy wins. */
    json_t *ties = parse("{\"policies\": [{\"compromised\": 4}, {\"compromised\": 4}]}");
    tc_report t = report_of(ties);
    assert_int_equal(tc_report_best_policy(&t, false), 0);

    json_t *none = parse("{\"policies\": []}");
    tc_report n = report_of(none);
    assert_int_equal(tc_report_best_policy(&n, false), (size_t)-1);
    assert_int_equal(tc_report_baseline_policy(&n), (size_t)-1);
    json_decref(root);
    json_decref(ties);
    json_decref(none);
}

/* ---- paths and plans ---- */

static void test_hop_shapes(void **state)
{
    (void)state;
    tc_error err;
    tc_error_clear(&err);
    tc_report_hop hop;

    /* A nested workload and an object reason. */
    json_t *nested = parse("{\"hop\": 3, \"workload\": {\"id\": 42, \"name\": \"db-1\", "
                           "\"tenant\": \"t00\", \"tier\": \"data\", \"crown\": \"database\"}, "
                           "\"step\": \"network\", \"reason\": {\"service\": \"ssh\", "
                           "\"rule\": {\"from\": \"a\", \"to\": \"b\"}, \"policy_rule\": 2}}");
    assert_int_equal(tc_report_hop_read(nested, 0, &hop, &err), TC_OK);
    assert_int_equal(hop.hop, 3);
    assert_int_equal(hop.id, 42);
    assert_string_equal(hop.name, "db-1");
    assert_string_equal(hop.tenant, "t00");
    assert_string_equal(hop.tier, "data");
    assert_string_equal(hop.env, "");
    assert_string_equal(hop.crown_jewel, "database");
    assert_string_equal(hop.step, "network");
    assert_string_equal(hop.reason, "service ssh, rule (from a, to b), policy_rule 2");
    free(hop.reason);

    /* A readable "text" beside the reason object is shown in its place. */
    json_t *with_text = parse("{\"hop\": 1, \"workload\": {\"id\": 5}, \"step\": \"api\", "
                              "\"from\": 4, \"reason\": {\"trust\": \"full\"}, "
                              "\"text\": \"API call 4 -> 5 on http, full trust\"}");
    assert_int_equal(tc_report_hop_read(with_text, 1, &hop, &err), TC_OK);
    assert_string_equal(hop.reason, "API call 4 -> 5 on http, full trust");
    assert_string_equal(hop.crown_jewel, "");
    free(hop.reason);
    json_decref(with_text);

    /* Fields flat in the hop, no reason member: the other members are the
     * reason. */
    json_t *flat = parse("{\"workload_id\": 7, \"name\": \"web-1\", \"kind\": \"api\", "
                         "\"trust\": \"full\", \"services\": [\"http\", \"grpc\"]}");
    assert_int_equal(tc_report_hop_read(flat, 1, &hop, &err), TC_OK);
    assert_int_equal(hop.hop, 1);
    assert_int_equal(hop.id, 7);
    assert_string_equal(hop.name, "web-1");
    assert_string_equal(hop.step, "api");
    assert_string_equal(hop.reason, "trust full, services [http, grpc]");
    char buf[64];
    assert_string_equal(tc_report_hop_label(&hop, buf, sizeof buf), "web-1");
    free(hop.reason);

    /* A bare id. */
    json_t *bare = json_integer(99);
    assert_int_equal(tc_report_hop_read(bare, 4, &hop, &err), TC_OK);
    assert_int_equal(hop.id, 99);
    assert_int_equal(hop.hop, 4);
    assert_string_equal(tc_report_hop_label(&hop, buf, sizeof buf), "workload 99");
    free(hop.reason);

    /* The hop list of a path object, of an array, and of neither. */
    json_t *path = parse("{\"target\": 1, \"hops\": [1, 2]}");
    assert_int_equal(json_array_size(tc_report_path_hops(path)), 2);
    json_t *list = parse("[1, 2, 3]");
    assert_ptr_equal(tc_report_path_hops(list), list);
    json_t *bad = parse("{\"target\": 1}");
    assert_null(tc_report_path_hops(bad));

    json_decref(nested);
    json_decref(flat);
    json_decref(bare);
    json_decref(path);
    json_decref(list);
    json_decref(bad);
}

static void test_plan_shapes(void **state)
{
    (void)state;
    tc_report_plan_variant v[8];

    json_t *array = parse("[{\"closure\": \"a\"}]");
    assert_int_equal(tc_report_plan_variants(array, v, 8), 1);
    assert_string_equal(v[0].name, "plan");
    assert_ptr_equal(v[0].steps, array);

    /* "steps" is the main plan; an object with steps and an array of step
     * objects are variants; a number and an empty array are not. */
    json_t *object = parse("{\"k\": 2, \"steps\": [{\"closure\": \"a\"}], "
                           "\"accepting_broken_flows\": {\"steps\": [{\"closure\": \"b\"}]}, "
                           "\"cheapest\": [{\"closure\": \"c\"}], \"notes\": []}");
    assert_int_equal(tc_report_plan_variants(object, v, 8), 3);
    assert_string_equal(v[0].name, "plan");
    assert_string_equal(v[1].name, "accepting_broken_flows");
    assert_string_equal(v[2].name, "cheapest");
    assert_int_equal(tc_report_plan_variants(object, v, 2), 2);

    tc_error err;
    tc_error_clear(&err);
    tc_report_plan_step step;
    json_t *full = parse("{\"step\": 4, \"closure\": {\"kind\": \"split\", \"description\": "
                         "\"split principal p\"}, \"compromised_after\": 120, "
                         "\"crown_jewels_after\": {\"database\": 3, \"secrets\": "
                         "{\"compromised\": 2, \"total\": 5}}, \"flows_broken\": 7}");
    assert_int_equal(tc_report_plan_step_read(full, 0, &step, &err), TC_OK);
    assert_int_equal(step.step, 4);
    assert_string_equal(step.closure, "split principal p");
    assert_int_equal(step.compromised_after, 120);
    assert_int_equal(step.crown_jewels_after, 5);
    assert_int_equal(step.flows_broken, 7);
    free(step.closure);

    /* Missing counts stay -1; the closure object without a description is
     * written as its members. */
    json_t *sparse = parse("{\"closure\": {\"kind\": \"trust\", \"from\": \"web\"}}");
    assert_int_equal(tc_report_plan_step_read(sparse, 2, &step, &err), TC_OK);
    assert_int_equal(step.step, 3);
    assert_string_equal(step.closure, "kind trust, from web");
    assert_int_equal(step.compromised_after, -1);
    assert_int_equal(step.crown_jewels_after, -1);
    assert_int_equal(step.flows_broken, -1);
    free(step.closure);

    json_decref(array);
    json_decref(object);
    json_decref(full);
    json_decref(sparse);
}

/* ---- a whole report ---- */

typedef struct folder {
    char path[64];
} folder;

static void folder_make(folder *f)
{
    snprintf(f->path, sizeof f->path, "/tmp/test_report.XXXXXX");
    assert_non_null(mkdtemp(f->path));
}

static void folder_remove(folder *f)
{
    char command[256];
    snprintf(command, sizeof command, "rm -rf '%s'", f->path);
    assert_int_equal(system(command), 0);
}

static void expect_file(const char *dir, const char *name, const char *expected)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *got = slurp(path);
    if (strcmp(got, expected) != 0)
        fail_msg("%s:\n%s\nexpected:\n%s", name, got, expected);
    free(got);
}

static void test_report_tables(void **state)
{
    (void)state;
    folder f;
    folder_make(&f);
    char results[128], out[128];
    snprintf(results, sizeof results, "%s/r.json", f.path);
    snprintf(out, sizeof out, "%s/out/deeper", f.path);
    FILE *w = fopen(results, "w");
    fputs(tiny_result, w);
    fclose(w);

    tc_report_options options = { .output_dir = out, .gnuplot = "/nonexistent/gnuplot",
                                  .dot = "/nonexistent/dot" };
    tc_report_outcome outcome;
    tc_error err;
    tc_error_clear(&err);
    if (tc_report_build(results, &options, &outcome, &err) != TC_OK)
        fail_msg("report failed: %s", err.message);

    /* Only gnuplot runs (no paths, so no graph): one warning, about it. */
    assert_int_equal(outcome.n_warnings, 1);
    assert_non_null(strstr(outcome.warnings[0], "gnuplot was not found"));

    expect_file(out, "policies.csv",
                "policy,kind,workloads,compromised,fraction,first_crown_jewel_hop,last_hop,"
                "crown_database_compromised,crown_database_total,flows_total,flows_broken,"
                "flows_denied_by_base,principals_held,packages_compromised,compile_seconds,"
                "setup_seconds,simulate_seconds\n"
                "open,legacy,10,6,0.6,2,2,1,1,5,0,,,,,,\n"
                "\"tight, \"\"segmented\"\"\",rules,10,2,0.2,,1,0,1,5,2,,,,,,\n");
    /* "tight" stops after hop 1: 0 new workloads at hop 2, 2 in total. */
    expect_file(out, "growth.csv",
                "hop,open,\"tight, \"\"segmented\"\"\"\n0,1,1\n1,2,1\n2,3,0\n");
    expect_file(out, "growth-cumulative.csv",
                "hop,open,\"tight, \"\"segmented\"\"\"\n0,1,1\n1,3,2\n2,6,2\n");
    expect_file(out, "breakdown.csv",
                "policy,group,key,compromised,total\n"
                "open,crown_jewel,database,1,1\n"
                "\"tight, \"\"segmented\"\"\",crown_jewel,database,0,1\n");

    /* The HTML escapes the name and says why there are no plots. */
    char path[256];
    snprintf(path, sizeof path, "%s/report.html", out);
    char *html = slurp(path);
    assert_non_null(strstr(html, "tight, &quot;segmented&quot;"));
    assert_null(strstr(html, "tight, \"segmented\""));
    assert_non_null(strstr(html, "gnuplot was not found"));
    assert_non_null(strstr(html, "Not computed: run with --paths N"));
    assert_non_null(strstr(html, "Not computed: run with --plan K"));
    free(html);
    tc_report_outcome_free(&outcome);

    /* A file in place of the folder is an input error naming it. */
    snprintf(out, sizeof out, "%s/r.json/sub", f.path);
    tc_error_clear(&err);
    assert_int_equal(tc_report_build(results, &options, NULL, &err), TC_ERR_INPUT);
    assert_string_equal(err.file, out);
    folder_remove(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_dot_and_gnuplot_strings),
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_double_text),
        cmocka_unit_test(test_count_text),
        cmocka_unit_test(test_schema_check),
        cmocka_unit_test(test_best_and_baseline),
        cmocka_unit_test(test_hop_shapes),
        cmocka_unit_test(test_plan_shapes),
        cmocka_unit_test(test_report_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
