/* report_graph.c - Graphviz graphs of the top attack paths of each policy
 * for `trustchain report`: paths-<n>-<policy>.dot, rendered to .svg with
 * `dot -Tsvg`.
 *
 * A workload on several paths is one node, so chains that share a step
 * show as one. Footholds are filled orange and crown jewels have a red
 * border. The DOT file is written even when dot is missing. */
#include "report_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An edge shows at most EDGE_LABEL_LINES lines of its reason, each at
 * most EDGE_LABEL_WIDTH bytes, and "..." when the reason is longer. The
 * full reason is in the HTML table and in paths.csv. */
#define EDGE_LABEL_LINES 2
#define EDGE_LABEL_WIDTH 48

void tc_report_graph_name(const tc_report *r, size_t i, const char *ext, char *buf, size_t size)
{
    char safe[48];
    const char *name = tc_report_string(tc_report_policy(r, i), "name");
    size_t j = 0;
    for (const char *p = name; *p && j + 1 < sizeof safe; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
        safe[j++] = plain ? *p : '_';
    }
    safe[j] = '\0';
    snprintf(buf, size, "paths-%zu%s%s.%s", i + 1, j ? "-" : "", safe, ext);
}

/* A node of the graph, keyed by workload id, else by name. */
typedef struct graph_node {
    char *key;
    bool foothold, target, crown;
} graph_node;

typedef struct graph {
    graph_node *nodes;
    size_t n, cap;
    char **edges; /* "from to label" keys already written */
    size_t n_edges, cap_edges;
} graph;

static void graph_free(graph *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->nodes[i].key);
    for (size_t i = 0; i < g->n_edges; i++)
        free(g->edges[i]);
    free(g->nodes);
    free(g->edges);
    memset(g, 0, sizeof *g);
}

/* Index of the node of HOP, added when new, in which case *ADDED is set.
 * Returns (size_t)-1 when out of memory. */
static size_t graph_node_of(graph *g, const tc_report_hop *hop, bool *added)
{
    char *key = NULL;
    char label[64];
    int made = hop->id >= 0
                   ? asprintf(&key, "id %lld", (long long)hop->id)
                   : asprintf(&key, "name %s", tc_report_hop_label(hop, label, sizeof label));
    if (made < 0)
        return (size_t)-1;
    *added = false;
    for (size_t i = 0; i < g->n; i++) {
        if (strcmp(g->nodes[i].key, key) == 0) {
            free(key);
            return i;
        }
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 32;
        graph_node *nodes = realloc(g->nodes, cap * sizeof *nodes);
        if (!nodes) {
            free(key);
            return (size_t)-1;
        }
        g->nodes = nodes;
        g->cap = cap;
    }
    g->nodes[g->n] = (graph_node){ .key = key };
    *added = true;
    return g->n++;
}

/* Whether the edge FROM -> TO with LABEL is new; records it. -1 when out
 * of memory. */
static int graph_edge_is_new(graph *g, size_t from, size_t to, const char *label)
{
    char *key = NULL;
    if (asprintf(&key, "%zu %zu %s", from, to, label) < 0)
        return -1;
    for (size_t i = 0; i < g->n_edges; i++) {
        if (strcmp(g->edges[i], key) == 0) {
            free(key);
            return 0;
        }
    }
    if (g->n_edges == g->cap_edges) {
        size_t cap = g->cap_edges ? 2 * g->cap_edges : 32;
        char **edges = realloc(g->edges, cap * sizeof *edges);
        if (!edges) {
            free(key);
            return -1;
        }
        g->edges = edges;
        g->cap_edges = cap;
    }
    g->edges[g->n_edges++] = key;
    return 1;
}

/* "tier, env, tenant" from the non-empty parts. */
static void put_node_details(FILE *out, const tc_report_hop *hop)
{
    const char *parts[] = { hop->tier, hop->env, hop->app, hop->tenant };
    bool first = true;
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
        if (!parts[k][0])
            continue;
        fputs(first ? "\\n" : ", ", out);
        tc_report_put_dot(out, parts[k]);
        first = false;
    }
    if (hop->crown_jewel[0] && strcmp(hop->crown_jewel, "none") != 0) {
        fputs("\\ncrown jewel: ", out);
        tc_report_put_dot(out, hop->crown_jewel);
    }
}

/* Length of the first line of TEXT (at most WIDTH bytes), broken at the
 * last space before WIDTH when there is one, else at a UTF-8 character
 * boundary. */
static size_t line_length(const char *text, size_t width)
{
    size_t len = strlen(text);
    if (len <= width)
        return len;
    size_t cut = width;
    while (cut > 0 && text[cut] != ' ')
        cut--;
    if (cut > width / 2)
        return cut;
    cut = width;
    while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* Whether REASON starts with the step kind STEP as a word ("API chain: "
 * for "api", "supply chain: " for "supply_chain"), ignoring case and
 * reading '_' as a space. */
static bool reason_names_step(const char *reason, const char *step)
{
    size_t n = 0;
    for (; step[n]; n++) {
        char a = (char)tolower((unsigned char)reason[n]);
        char b = step[n] == '_' ? ' ' : (char)tolower((unsigned char)step[n]);
        if (a != b)
            return false;
    }
    return reason[n] == ' ' || reason[n] == ':';
}

/* The edge label: the step kind (unless the reason starts with it), then
 * the reason on at most EDGE_LABEL_LINES lines of EDGE_LABEL_WIDTH bytes,
 * "..." marking a cut. */
static char *edge_label(const tc_report_hop *hop)
{
    char *label = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&label, &size);
    if (!out)
        return NULL;

    const char *step = hop->step[0] ? hop->step : "step";
    if (!reason_names_step(hop->reason, step))
        fprintf(out, "%s%s", step, hop->reason[0] ? "\n" : "");

    const char *rest = hop->reason;
    for (int line = 0; *rest && line < EDGE_LABEL_LINES; line++) {
        size_t len = line_length(rest, EDGE_LABEL_WIDTH);
        fprintf(out, "%s%.*s", line ? "\n" : "", (int)len, rest);
        rest += len;
        while (*rest == ' ')
            rest++;
    }
    if (*rest)
        fputs("...", out);
    if (fclose(out) != 0) {
        free(label);
        return NULL;
    }
    return label;
}

/* Write the nodes and edges of one path into OUT. */
static int put_path(FILE *out, graph *g, const json_t *hops, tc_error *err)
{
    size_t previous = (size_t)-1;
    size_t n_hops = json_array_size(hops);
    for (size_t h = 0; h < n_hops; h++) {
        tc_report_hop hop;
        if (tc_report_hop_read(json_array_get(hops, h), h, &hop, err) != TC_OK)
            return err->code;
        bool added;
        size_t node = graph_node_of(g, &hop, &added);
        if (node == (size_t)-1) {
            free(hop.reason);
            return tc_error_runtime(err, "out of memory drawing attack paths");
        }

        bool foothold = h == 0 || strcmp(hop.step, "foothold") == 0;
        bool target = h + 1 == n_hops;
        bool crown = hop.crown_jewel[0] && strcmp(hop.crown_jewel, "none") != 0;
        graph_node *gn = &g->nodes[node];
        if (added || foothold != gn->foothold || target != gn->target || crown != gn->crown) {
            /* A later statement for the same node overrides its style. */
            gn->foothold |= foothold;
            gn->target |= target;
            gn->crown |= crown;
            char buf[64];
            fprintf(out, "  n%zu [label=\"", node);
            tc_report_put_dot(out, tc_report_hop_label(&hop, buf, sizeof buf));
            put_node_details(out, &hop);
            fputc('"', out);
            if (gn->foothold)
                fputs(", fillcolor=\"#fbd7b0\"", out);
            if (gn->crown || gn->target)
                fputs(", color=\"#b00020\", penwidth=2", out);
            fputs("];\n", out);
        }

        if (previous != (size_t)-1 && previous != node) {
            char *label = edge_label(&hop);
            int is_new = label ? graph_edge_is_new(g, previous, node, label) : -1;
            if (is_new < 0) {
                free(label);
                free(hop.reason);
                return tc_error_runtime(err, "out of memory drawing attack paths");
            }
            if (is_new) {
                fprintf(out, "  n%zu -> n%zu [label=\"", previous, node);
                tc_report_put_dot(out, label);
                fputs("\"];\n", out);
            }
            free(label);
        }
        previous = node;
        free(hop.reason);
    }
    return TC_OK;
}

static size_t count_chains(const json_t *paths)
{
    size_t chains = 0, k;
    json_t *path;
    json_array_foreach(paths, k, path)
        chains += tc_report_path_classify(path) == TC_REPORT_PATH_CHAIN;
    return chains;
}

/* The graph of the first top_paths chains of policy I. Paths of one hop
 * (a foothold that is itself the target) are left out: the HTML page
 * lists them, and as lone nodes they would crowd out the chains. */
static int write_dot(tc_report *r, size_t i, const char *dot_name, tc_error *err)
{
    const json_t *p = tc_report_policy(r, i);
    const json_t *paths = json_object_get(p, "paths");
    size_t chains = count_chains(paths);
    size_t shown = chains < (size_t)r->top_paths ? chains : (size_t)r->top_paths;

    tc_report_file f;
    if (tc_report_file_open(r, dot_name, &f, err) != TC_OK)
        return err->code;
    fputs("digraph attack_paths {\n  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, "
          "labelloc=t, label=\"Attack paths under ", f.out);
    tc_report_put_dot(f.out, tc_report_string(p, "name"));
    fprintf(f.out, ": %zu of %zu chain%s\"];\n", shown, chains, chains == 1 ? "" : "s");
    fputs("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", "
          "color=\"#555555\", fontname=\"Helvetica\", fontsize=10];\n"
          "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n", f.out);

    graph g = { 0 };
    size_t drawn = 0;
    for (size_t k = 0; k < json_array_size(paths) && drawn < shown; k++) {
        const json_t *path = json_array_get(paths, k);
        if (tc_report_path_classify(path) != TC_REPORT_PATH_CHAIN)
            continue;
        if (put_path(f.out, &g, tc_report_path_hops(path), err) != TC_OK)
            break;
        drawn++;
    }
    graph_free(&g);
    fputs("}\n", f.out);
    if (err->code != TC_OK) {
        tc_report_file_abandon(&f);
        return err->code;
    }
    return tc_report_file_commit(r, &f, err);
}

/* Render DOT_NAME to SVG_NAME. Returns dot's status; a failed rename is
 * left in ERR. */
static tc_report_tool_status render(tc_report *r, const char *dot_name, const char *svg_name,
                                    char *detail, size_t size, tc_error *err)
{
    char tmp_name[160];
    snprintf(tmp_name, sizeof tmp_name, "%s.tmp.%ld", svg_name, (long)getpid());
    char *tmp = tc_report_path(r, tmp_name);
    if (!tmp) {
        tc_error_runtime(err, "out of memory drawing '%s'", svg_name);
        return TC_REPORT_TOOL_FAILED;
    }
    char *argv[] = { (char *)r->dot, "-Tsvg", "-o", tmp_name, (char *)dot_name, NULL };
    tc_report_tool_status status = tc_report_run_tool(r, argv, r->dir, detail, size);
    if (status == TC_REPORT_TOOL_OK && access(tmp, R_OK) != 0) {
        snprintf(detail, size, "'%s' exited normally but wrote no SVG image", r->dot);
        status = TC_REPORT_TOOL_FAILED;
    }
    if (status == TC_REPORT_TOOL_OK)
        tc_report_adopt(r, tmp, svg_name, err);
    else
        unlink(tmp);
    free(tmp);
    return status;
}

int tc_report_write_graphs(tc_report *r, tc_error *err)
{
    r->graphs = TC_REPORT_IMAGES_NONE;
    r->graphs_note[0] = '\0';
    bool dot_missing = false;

    for (size_t i = 0; i < r->n_policies; i++) {
        if (count_chains(json_object_get(tc_report_policy(r, i), "paths")) == 0)
            continue;
        char dot_name[96], svg_name[96];
        tc_report_graph_name(r, i, "dot", dot_name, sizeof dot_name);
        tc_report_graph_name(r, i, "svg", svg_name, sizeof svg_name);
        if (write_dot(r, i, dot_name, err) != TC_OK)
            return err->code;
        if (r->graphs == TC_REPORT_IMAGES_NONE)
            r->graphs = TC_REPORT_IMAGES_DRAWN;
        if (dot_missing)
            continue;

        char detail[400];
        tc_report_tool_status status = render(r, dot_name, svg_name, detail, sizeof detail, err);
        if (err->code != TC_OK)
            return err->code;
        if (status == TC_REPORT_TOOL_MISSING) {
            dot_missing = true;
            r->graphs = TC_REPORT_IMAGES_MISSING;
            snprintf(r->graphs_note, sizeof r->graphs_note,
                     "dot was not found (%s), so the attack paths are not drawn; install the "
                     "Debian package graphviz or set TC_DOT, then rerun the report or run "
                     "dot -Tsvg on the .dot files in the report folder", detail);
            if (tc_report_warn(r, "%s", r->graphs_note) != TC_OK)
                return tc_error_runtime(err, "out of memory");
        } else if (status == TC_REPORT_TOOL_FAILED) {
            r->graphs = TC_REPORT_IMAGES_FAILED;
            snprintf(r->graphs_note, sizeof r->graphs_note, "dot failed on %s (%s)", dot_name,
                     detail);
            if (tc_report_warn(r, "%s", r->graphs_note) != TC_OK)
                return tc_error_runtime(err, "out of memory");
        }
    }
    return TC_OK;
}
