/*
 * test_policy.c - policy compilation on a hand-built topology whose class
 * reach masks and broken flows are worked out by hand below.
 *
 * Topology (4 workloads, one tenant):
 *   w0 web  in segment front      w1 web  in segment front
 *   w2 data in segment back       w3 data in segment back (crown database)
 * Base rules: front -> back {http, ssh, postgres}; back -> back {postgres}.
 * API edges: w0 -> w2 http (implicit), w1 -> w3 ssh (none).
 * Principal svc-web (w0, w1) holds a network-gated grant to w3 on postgres.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpi_test.h"
#include "policy.h"
#include "selector.h"

#define BIT(name) ((tc_svcmask)1 << tc_service_find(name))

typedef struct fixture {
    tc_topology *t;
    tc_scenario s;
    tc_group_spec groups[2];
    tc_rule_spec rules[2];
    tc_policy_spec policy;
} fixture;

static void build_topology(fixture *f)
{
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_topology_create(MPI_COMM_WORLD, 4, &f->t, &err), TC_OK);
    tc_topology *t = f->t;
    tc_topology_intern(t, &t->tenants, "acme", &err);
    tc_topology_intern(t, &t->accounts, "acme-prod", &err);
    tc_topology_intern(t, &t->vpcs, "vpc", &err);
    tc_topology_intern(t, &t->subnets, "subnet", &err);
    tc_topology_intern(t, &t->apps, "shop", &err);
    uint32_t front = tc_topology_add_segment(t, "front", &err);
    uint32_t back = tc_topology_add_segment(t, "back", &err);
    uint32_t svc = tc_topology_add_principal(t, "svc-web", &err);
    uint32_t db = tc_topology_add_principal(t, "svc-db", &err);
    tc_topology_add_base_rule(t, front, back, BIT("http") | BIT("ssh") | BIT("postgres"), &err);
    tc_topology_add_base_rule(t, back, back, BIT("postgres"), &err);

    for (uint64_t w = 0; w < 4; w++) {
        if (!tc_topology_owns(t, w))
            continue;
        tc_workload_spec spec = { .segment = w < 2 ? front : back,
                                  .principal = w < 2 ? svc : db,
                                  .env = TC_ENV_PROD,
                                  .tier = w < 2 ? TC_TIER_WEB : TC_TIER_DATA,
                                  .crown = w == 3 ? TC_CROWN_DATABASE : TC_CROWN_NONE };
        assert_int_equal(tc_topology_set_workload(t, w, &spec, &err), TC_OK);
        if (w == 0)
            tc_topology_add_api_edge(t, 0, 2, tc_service_find("http"), TC_TRUST_IMPLICIT, &err);
        if (w == 1)
            tc_topology_add_api_edge(t, 1, 3, tc_service_find("ssh"), TC_TRUST_NONE, &err);
        if (w == 3)
            tc_topology_add_grant(t, svc, 3, BIT("postgres"), true, &err);
    }
    assert_int_equal(tc_topology_finish(t, &err), TC_OK);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    build_topology(f);
    char msg[128];
    int col;
    const char *texts[2] = { "tier == web", "tier == data" };
    const char *names[2] = { "web", "data" };
    for (int g = 0; g < 2; g++) {
        f->groups[g].name = (char *)names[g];
        f->groups[g].text = (char *)texts[g];
        assert_int_equal(tc_selector_parse(texts[g], &f->groups[g].selector, msg, sizeof msg, &col), 0);
    }
    f->s.path = "test.yaml";
    f->s.groups = f->groups;
    f->s.n_groups = 2;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int g = 0; g < 2; g++)
        tc_selector_free(f->groups[g].selector);
    tc_topology_free(f->t);
    free(f);
    return 0;
}

/* Class of global workload GID, looked up on whichever rank owns it. */
static uint32_t class_of(const fixture *f, const tc_policy *p, uint64_t gid)
{
    uint32_t c = tc_topology_owns(f->t, gid) ? p->class_of[gid - f->t->first] : 0;
    MPI_Allreduce(MPI_IN_PLACE, &c, 1, MPI_UINT32_T, MPI_MAX, MPI_COMM_WORLD);
    return c;
}

static void legacy_reach_equals_base(void **state)
{
    fixture *f = *state;
    tc_policy_spec spec = { .name = "legacy", .kind = TC_POLICY_LEGACY, .default_allow = true };
    tc_policy *p = NULL;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_policy_compile(&f->s, &spec, f->t, &p, &err), TC_OK);

    /* One signature: classes are the two segments. */
    assert_int_equal(p->n_classes, 2);
    uint32_t cf = class_of(f, p, 0), cb = class_of(f, p, 2);
    assert_int_equal(tc_policy_reach(p, cf, cb), BIT("http") | BIT("ssh") | BIT("postgres"));
    assert_int_equal(tc_policy_reach(p, cb, cb), BIT("postgres"));
    assert_int_equal(tc_policy_reach(p, cb, cf), 0);
    assert_int_equal(tc_policy_reach(p, cf, cf), 0);

    /* Flows: two API edges and the grant used by w0 and w1; none broken. */
    assert_int_equal(p->flows_total, 4);
    assert_int_equal(p->flows_broken, 0);
    tc_policy_free(p);
}

static void rules_first_match_per_service(void **state)
{
    fixture *f = *state;
    /* web -> data: deny ssh, then allow ssh+http: ssh stays denied because
     * the first matching rule decides it; postgres falls to the default. */
    f->rules[0] = (tc_rule_spec){ .from = 0, .to = 1, .services = BIT("ssh"), .allow = false };
    f->rules[1] = (tc_rule_spec){ .from = 0, .to = 1, .services = BIT("ssh") | BIT("http"),
                                  .allow = true };
    tc_policy_spec spec = { .name = "tiers", .kind = TC_POLICY_RULES, .default_allow = false,
                            .rules = f->rules, .n_rules = 2 };
    tc_policy *p = NULL;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_policy_compile(&f->s, &spec, f->t, &p, &err), TC_OK);

    uint32_t c0 = class_of(f, p, 0), c2 = class_of(f, p, 2);
    assert_int_equal(tc_policy_reach(p, c0, c2), BIT("http"));
    assert_int_equal(tc_policy_reach(p, c2, c2), 0);

    /* Broken: the ssh API edge (base allows ssh, policy denies) and the
     * postgres grant used by w0 and w1 (default deny): 1 + 2. */
    assert_int_equal(p->flows_total, 4);
    assert_int_equal(p->flows_broken, 3);
    tc_policy_free(p);
}

static void rules_default_allow(void **state)
{
    fixture *f = *state;
    f->rules[0] = (tc_rule_spec){ .from = TC_GROUP_ANY, .to = 1, .services = BIT("ssh"),
                                  .allow = false };
    tc_policy_spec spec = { .name = "deny-ssh", .kind = TC_POLICY_RULES, .default_allow = true,
                            .rules = f->rules, .n_rules = 1 };
    tc_policy *p = NULL;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_policy_compile(&f->s, &spec, f->t, &p, &err), TC_OK);
    uint32_t c0 = class_of(f, p, 0), c2 = class_of(f, p, 2);
    assert_int_equal(tc_policy_reach(p, c0, c2), BIT("http") | BIT("postgres"));
    assert_int_equal(p->flows_broken, 1);
    tc_policy_free(p);
}

static void derived_keeps_flows_only(void **state)
{
    fixture *f = *state;
    /* Granularity [tier]: groups web and data. Flows: web->data http (API),
     * web->data ssh (API), web->data postgres (grant). Reach web->data is
     * exactly those; data->data gets nothing (no flow), although base
     * allows postgres there. */
    tc_policy_spec spec = { .name = "gov", .kind = TC_POLICY_DERIVED,
                            .granularity = { TC_ATTR_TIER }, .n_granularity = 1 };
    tc_policy *p = NULL;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_policy_compile(&f->s, &spec, f->t, &p, &err), TC_OK);
    uint32_t c0 = class_of(f, p, 0), c2 = class_of(f, p, 2);
    assert_int_equal(tc_policy_reach(p, c0, c2), BIT("http") | BIT("ssh") | BIT("postgres"));
    assert_int_equal(tc_policy_reach(p, c2, c2), 0);
    assert_int_equal(p->flows_broken, 0);

    /* The API edge w0 -> w2 is open (implicit trust, http reached); the
     * ssh edge w1 -> w3 is not (trust none). */
    if (tc_topology_owns(f->t, 0))
        assert_int_equal(p->api_open[f->t->api_offsets[0 - f->t->first]], 1);
    if (tc_topology_owns(f->t, 1))
        assert_int_equal(p->api_open[f->t->api_offsets[1 - f->t->first]], 0);
    tc_policy_free(p);
}

static void unknown_selector_value_is_input_error(void **state)
{
    fixture *f = *state;
    char msg[128];
    int col;
    tc_selector *sel = NULL;
    assert_int_equal(tc_selector_parse("app == nosuchapp", &sel, msg, sizeof msg, &col), 0);
    tc_selector *saved = f->groups[0].selector;
    f->groups[0].selector = sel;
    f->groups[0].line = 7;
    f->rules[0] = (tc_rule_spec){ .from = 0, .to = TC_GROUP_ANY, .services = TC_SERVICE_ALL,
                                  .allow = true };
    tc_policy_spec spec = { .name = "bad", .kind = TC_POLICY_RULES, .rules = f->rules,
                            .n_rules = 1 };
    tc_policy *p = NULL;
    tc_error err;
    tc_error_clear(&err);
    assert_int_equal(tc_policy_compile(&f->s, &spec, f->t, &p, &err), TC_ERR_INPUT);
    assert_null(p);
    assert_string_equal(err.file, "test.yaml");
    assert_int_equal(err.line, 7);
    assert_non_null(strstr(err.message, "nosuchapp"));
    f->groups[0].selector = saved;
    tc_selector_free(sel);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(legacy_reach_equals_base, setup, teardown),
        cmocka_unit_test_setup_teardown(rules_first_match_per_service, setup, teardown),
        cmocka_unit_test_setup_teardown(rules_default_allow, setup, teardown),
        cmocka_unit_test_setup_teardown(derived_keeps_flows_only, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_selector_value_is_input_error, setup, teardown),
    };
    int failed = tc_test_run_mpi(tests);
    MPI_Finalize();
    return failed;
}
