/*
 * graph500.c - Graph500 kernel 1, key sampling, validation, statistics and
 * the serial reference BFS; see graph500.h.
 *
 * Distributed invariants:
 *  1. Every collective here is reached by all ranks on every path. A rank
 *     that fails locally reports it in the next agreement (tc_error_agree
 *     or a flag in an allreduce) before any other collective.
 *  2. Vertex ids are below 2^32 (the BFS kernel's limit, checked by
 *     tc_graph_build), so a local index and a global id pack into one
 *     64-bit word for the exchanges.
 *  3. Validation reads only the public CSR of tc_graph, never the kernel's
 *     private adjacency, so it checks the kernel rather than trusting it.
 */
#include "graph500.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* tc_rng stream of search-key draws ("KEYS"). */
#define G500_STREAM_KEYS 0x4b455953u

/* Input edges per rank per round of the kernel 1 exchange. */
#define G500_EXCHANGE_ROUND ((uint64_t)1 << 23)

/* Default vertices per round of the level allgather in validation. */
#define G500_LEVEL_WINDOW ((uint64_t)1 << 24)

#define LEVEL_NONE UINT32_MAX         /* not in the tree */
#define LEVEL_UNKNOWN (UINT32_MAX - 1) /* in the tree, level not yet known */

/* ---- helpers ---------------------------------------------------------- */

static int owner_of(const uint64_t *offsets, int nranks, uint64_t gid)
{
    int lo = 0, hi = nranks - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (offsets[mid] <= gid)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Whether the sorted range [begin, end) of A contains X. */
static bool sorted_contains(const uint64_t *a, uint64_t begin, uint64_t end, uint64_t x)
{
    uint64_t lo = begin, hi = end;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < end && a[lo] == x;
}

/* Number of entries equal to X in the sorted range [begin, end) of A. */
static uint64_t sorted_count(const uint64_t *a, uint64_t begin, uint64_t end, uint64_t x)
{
    uint64_t lo = begin, hi = end;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t first = lo;
    hi = end;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - first;
}

void tc_g500_block_offsets(uint64_t n, int nranks, uint64_t *offsets)
{
    for (int r = 0; r <= nranks; r++)
        offsets[r] = (uint64_t)((unsigned __int128)n * (unsigned)r / (unsigned)nranks);
}

/* ---- kernel 1 --------------------------------------------------------- */

/* Out-edges of input edge (a, b) as packed (local source << 32 | target)
 * words, counted or written per owner. */
static void g500_bucket_edge(const uint64_t *offsets, int nranks, uint64_t a, uint64_t b,
                             uint64_t *count, uint64_t *fill, uint64_t *send)
{
    int ra = owner_of(offsets, nranks, a);
    if (send)
        send[fill[ra]++] = ((a - offsets[ra]) << 32) | b;
    else
        count[ra]++;
    if (a == b)
        return;
    int rb = owner_of(offsets, nranks, b);
    if (send)
        send[fill[rb]++] = ((b - offsets[rb]) << 32) | a;
    else
        count[rb]++;
}

int tc_g500_graph_build(MPI_Comm comm, uint64_t n_global, uint64_t count, const uint64_t *u,
                        const uint64_t *v, tc_graph **out, tc_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    *out = NULL;

    uint64_t *offsets = malloc(((size_t)nranks + 1) * sizeof(uint64_t));
    uint64_t *dest_total = calloc((size_t)nranks, sizeof(uint64_t));
    uint64_t *from_total = calloc((size_t)nranks, sizeof(uint64_t));
    uint64_t *fill = calloc((size_t)nranks, sizeof(uint64_t));
    int *counts = calloc((size_t)nranks * 4, sizeof(int));
    uint64_t round = G500_EXCHANGE_ROUND;
    if (2 * round > (uint64_t)INT_MAX / (uint64_t)nranks)
        round = (uint64_t)INT_MAX / (uint64_t)nranks / 2;
    uint64_t *send = malloc((size_t)(2 * (count < round ? count : round) + 1) * sizeof(uint64_t));
    uint64_t *received = NULL, total = 0;

    if (!offsets || !dest_total || !from_total || !fill || !counts || !send)
        tc_error_runtime(err, "out of memory for graph construction");
    else if (n_global > UINT32_MAX)
        tc_error_input(err, NULL, 0, 0, NULL,
                       "%llu vertices exceed the limit of 2^32 - 1 of graph construction",
                       (unsigned long long)n_global);
    for (uint64_t i = 0; i < count && err->code == TC_OK; i++)
        if (u[i] >= n_global || v[i] >= n_global)
            tc_error_input(err, NULL, 0, 0, NULL,
                           "edge (%llu, %llu) names a vertex not below the vertex count %llu",
                           (unsigned long long)u[i], (unsigned long long)v[i],
                           (unsigned long long)n_global);
    if (tc_error_agree(err, comm) != TC_OK)
        goto done;

    /* Totals first, so the receive array is allocated once. */
    tc_g500_block_offsets(n_global, nranks, offsets);
    for (uint64_t i = 0; i < count; i++)
        g500_bucket_edge(offsets, nranks, u[i], v[i], dest_total, NULL, NULL);
    MPI_Alltoall(dest_total, 1, MPI_UINT64_T, from_total, 1, MPI_UINT64_T, comm);
    for (int r = 0; r < nranks; r++)
        total += from_total[r];
    received = malloc((size_t)(total + 1) * sizeof(uint64_t));
    if (!received)
        tc_error_runtime(err, "out of memory for %llu out-edges", (unsigned long long)total);
    uint64_t rounds = (count + round - 1) / round, max_rounds = 0;
    MPI_Allreduce(&rounds, &max_rounds, 1, MPI_UINT64_T, MPI_MAX, comm);
    if (tc_error_agree(err, comm) != TC_OK)
        goto done;

    int *scount = counts, *sdispl = counts + nranks, *rcount = counts + 2 * nranks,
        *rdispl = counts + 3 * nranks;
    uint64_t filled = 0;
    for (uint64_t k = 0; k < max_rounds; k++) {
        uint64_t begin = k * round < count ? k * round : count;
        uint64_t end = count - begin < round ? count : begin + round;
        memset(dest_total, 0, (size_t)nranks * sizeof(uint64_t));
        for (uint64_t i = begin; i < end; i++)
            g500_bucket_edge(offsets, nranks, u[i], v[i], dest_total, NULL, NULL);
        uint64_t at = 0;
        for (int r = 0; r < nranks; r++) {
            scount[r] = (int)dest_total[r];
            sdispl[r] = (int)at;
            fill[r] = at;
            at += dest_total[r];
        }
        for (uint64_t i = begin; i < end; i++)
            g500_bucket_edge(offsets, nranks, u[i], v[i], NULL, fill, send);

        MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, comm);
        at = 0;
        for (int r = 0; r < nranks; r++) {
            rdispl[r] = (int)at;
            at += (uint64_t)rcount[r];
        }
        MPI_Alltoallv(send, scount, sdispl, MPI_UINT64_T, received + filled, rcount, rdispl,
                      MPI_UINT64_T, comm);
        filled += at;
    }
    free(send);
    send = NULL;
    tc_graph_build_undirected(comm, n_global, offsets, total, received, out, err);
    received = NULL;

done:
    free(offsets);
    free(dest_total);
    free(from_total);
    free(fill);
    free(counts);
    free(send);
    free(received);
    return err->code;
}

/* ---- search keys ------------------------------------------------------ */

static bool g500_eligible(const tc_graph *g, uint64_t local)
{
    uint64_t self = g->first + local;
    for (uint64_t e = g->out_offsets[local]; e < g->out_offsets[local + 1]; e++)
        if (g->out_targets[e] != self)
            return true;
    return false;
}

int tc_g500_sample_keys(const tc_graph *g, uint64_t seed, uint32_t max_keys, uint64_t *keys,
                        uint32_t *n_keys, tc_error *err)
{
    int nranks = g->nranks;
    *n_keys = 0;
    if (max_keys > TC_G500_MAX_KEYS)
        max_keys = TC_G500_MAX_KEYS;

    uint64_t mine = 0;
    for (uint64_t v = 0; v < g->n_local; v++)
        mine += g500_eligible(g, v);
    uint64_t *starts = malloc(((size_t)nranks + 1) * sizeof(uint64_t));
    if (!starts)
        tc_error_runtime(err, "out of memory for key sampling");
    if (tc_error_agree(err, g->comm) != TC_OK) {
        free(starts);
        return err->code;
    }
    MPI_Allgather(&mine, 1, MPI_UINT64_T, starts + 1, 1, MPI_UINT64_T, g->comm);
    starts[0] = 0;
    for (int r = 0; r < nranks; r++)
        starts[r + 1] += starts[r];
    uint64_t total = starts[nranks];

    /* Ordinals among eligible vertices (global id order), the same on
     * every rank. */
    uint64_t ordinals[TC_G500_MAX_KEYS];
    uint32_t n = 0;
    if (total <= max_keys) {
        for (uint64_t j = 0; j < total; j++)
            ordinals[n++] = j;
    } else {
        for (uint32_t draw = 0; n < max_keys; draw++) {
            uint64_t j = tc_rng_below(seed, G500_STREAM_KEYS, draw, 0, total);
            bool seen = false;
            for (uint32_t k = 0; k < n && !seen; k++)
                seen = ordinals[k] == j;
            if (!seen)
                ordinals[n++] = j;
        }
    }

    /* Owners resolve their ordinals in one ascending scan. */
    uint64_t found[TC_G500_MAX_KEYS] = { 0 };
    uint64_t mine_first = starts[g->rank], mine_end = starts[g->rank + 1];
    uint64_t order[TC_G500_MAX_KEYS];
    uint32_t n_mine = 0;
    for (uint32_t k = 0; k < n; k++)
        if (ordinals[k] >= mine_first && ordinals[k] < mine_end)
            order[n_mine++] = ((ordinals[k] - mine_first) << 8) | k;
    qsort(order, n_mine, sizeof(uint64_t), compare_u64);
    uint64_t seen_eligible = 0;
    uint32_t next = 0;
    for (uint64_t v = 0; v < g->n_local && next < n_mine; v++) {
        if (!g500_eligible(g, v))
            continue;
        while (next < n_mine && (order[next] >> 8) == seen_eligible)
            found[order[next++] & 0xff] = g->first + v;
        seen_eligible++;
    }
    MPI_Allreduce(found, keys, (int)n, MPI_UINT64_T, MPI_SUM, g->comm);
    *n_keys = n;
    free(starts);
    return TC_OK;
}

/* ---- validation ------------------------------------------------------- */

/* Record the first failed check of this rank. */
static void check_fail(tc_g500_check *check, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void check_fail(tc_g500_check *check, const char *fmt, ...)
{
    if (!check->valid)
        return;
    check->valid = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(check->message, sizeof check->message, fmt, ap);
    va_end(ap);
}

/* Make CHECK identical on every rank: the lowest failing rank's message
 * wins. Collective. */
static void check_agree(const tc_graph *g, tc_g500_check *check)
{
    int mine = check->valid ? INT_MAX : g->rank, first = INT_MAX;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, g->comm);
    if (first == INT_MAX)
        return;
    MPI_Bcast(check->message, (int)sizeof check->message, MPI_CHAR, first, g->comm);
    check->valid = false;
}

/* Route N queries to the owners of the vertices OWNER_GID[i]: PAYLOAD[i]
 * travels there, ANSWER computes a reply from it on the owner, and
 * REPLIES[i] gets it back. Collective; ranks agree on failure. */
typedef uint64_t (*g500_answer_fn)(const tc_graph *g, const void *ctx, uint64_t payload);

static int g500_ask_owners(const tc_graph *g, uint64_t n, const uint64_t *owner_gid,
                           const uint64_t *payload, g500_answer_fn answer, const void *ctx,
                           uint64_t *replies, tc_error *err)
{
    int nranks = g->nranks;
    int *counts = calloc((size_t)nranks * 4, sizeof(int));
    uint64_t *send = malloc((size_t)(n + 1) * sizeof(uint64_t));
    uint64_t *slot = malloc((size_t)(n + 1) * sizeof(uint64_t));
    uint64_t *recv = NULL;
    if (!counts || !send || !slot)
        tc_error_runtime(err, "out of memory for a validation exchange");
    else if (n > (uint64_t)INT_MAX)
        tc_error_runtime(err, "validation exchange of %llu queries exceeds MPI int counts",
                         (unsigned long long)n);
    if (tc_error_agree(err, g->comm) != TC_OK)
        goto done;

    int *scount = counts, *sdispl = counts + nranks, *rcount = counts + 2 * nranks,
        *rdispl = counts + 3 * nranks;
    for (uint64_t i = 0; i < n; i++)
        scount[owner_of(g->owner_offsets, nranks, owner_gid[i])]++;
    for (int r = 1; r < nranks; r++)
        sdispl[r] = sdispl[r - 1] + scount[r - 1];
    for (uint64_t i = 0; i < n; i++) {
        int r = owner_of(g->owner_offsets, nranks, owner_gid[i]);
        slot[i] = (uint64_t)sdispl[r]++;
        send[slot[i]] = payload[i];
    }
    for (int r = 0; r < nranks; r++)
        sdispl[r] -= scount[r];
    MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, g->comm);
    uint64_t n_recv = 0;
    for (int r = 0; r < nranks; r++) {
        rdispl[r] = (int)n_recv;
        n_recv += (uint64_t)rcount[r];
    }
    recv = malloc((size_t)(n_recv + 1) * sizeof(uint64_t));
    if (!recv)
        tc_error_runtime(err, "out of memory for a validation exchange");
    if (tc_error_agree(err, g->comm) != TC_OK)
        goto done;

    MPI_Alltoallv(send, scount, sdispl, MPI_UINT64_T, recv, rcount, rdispl, MPI_UINT64_T,
                  g->comm);
    for (uint64_t i = 0; i < n_recv; i++)
        recv[i] = answer(g, ctx, recv[i]);
    MPI_Alltoallv(recv, rcount, rdispl, MPI_UINT64_T, send, scount, sdispl, MPI_UINT64_T,
                  g->comm);
    for (uint64_t i = 0; i < n; i++)
        replies[i] = send[slot[i]];

done:
    free(counts);
    free(send);
    free(slot);
    free(recv);
    return err->code;
}

/* Payload: local index of a vertex; reply: its level. */
static uint64_t answer_level(const tc_graph *g, const void *ctx, uint64_t local)
{
    (void)g;
    return ((const uint32_t *)ctx)[local];
}

/* Payload: (local index of u << 32) | v; reply: whether u->v is an edge. */
static uint64_t answer_has_edge(const tc_graph *g, const void *ctx, uint64_t query)
{
    (void)ctx;
    uint64_t u = query >> 32, v = query & UINT32_MAX;
    return sorted_contains(g->out_targets, g->out_offsets[u], g->out_offsets[u + 1], v);
}

/* Checks 1 and 2: compute LEVEL (owned vertices) by asking the owner of
 * each parent for its level, one round per tree level. Collective. */
static int validate_levels(const tc_graph *g, uint64_t key, const uint64_t *parents,
                           uint32_t *level, tc_g500_check *check, tc_error *err)
{
    uint64_t n_local = g->n_local;
    for (uint64_t v = 0; v < n_local; v++) {
        uint64_t gid = g->first + v, p = parents[v];
        level[v] = LEVEL_UNKNOWN;
        if (p == TC_BFS_NO_PARENT) {
            level[v] = LEVEL_NONE;
            if (gid == key)
                check_fail(check, "key %llu has no parent, expected itself",
                           (unsigned long long)key);
        } else if (p >= g->n_global) {
            check_fail(check, "vertex %llu has parent %llu, not a vertex id",
                       (unsigned long long)gid, (unsigned long long)p);
        } else if (gid == key) {
            if (p != key)
                check_fail(check, "key %llu has parent %llu, expected itself",
                           (unsigned long long)key, (unsigned long long)p);
            level[v] = 0;
        } else if (p == gid) {
            check_fail(check, "vertex %llu is its own parent but is not the key %llu",
                       (unsigned long long)gid, (unsigned long long)key);
        }
    }
    check_agree(g, check);
    if (!check->valid)
        return TC_OK;

    uint64_t *ask = calloc(n_local + 1, sizeof(uint64_t));
    uint64_t *payload = calloc(n_local + 1, sizeof(uint64_t));
    uint64_t *reply = malloc((n_local + 1) * sizeof(uint64_t));
    uint64_t *asking_vertex = malloc((n_local + 1) * sizeof(uint64_t));
    if (!ask || !payload || !reply || !asking_vertex)
        tc_error_runtime(err, "out of memory for validation");
    if (tc_error_agree(err, g->comm) != TC_OK)
        goto done;

    for (;;) {
        uint64_t n = 0;
        for (uint64_t v = 0; v < n_local; v++)
            if (level[v] == LEVEL_UNKNOWN) {
                uint64_t p = parents[v];
                int r = owner_of(g->owner_offsets, g->nranks, p);
                ask[n] = p;
                payload[n] = p - g->owner_offsets[r];
                asking_vertex[n++] = v;
            }
        uint64_t unknown = n, unknown_global = 0;
        MPI_Allreduce(&unknown, &unknown_global, 1, MPI_UINT64_T, MPI_SUM, g->comm);
        if (unknown_global == 0)
            break;
        if (g500_ask_owners(g, n, ask, payload, answer_level, level, reply, err) != TC_OK)
            goto done;

        uint64_t progress = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t v = asking_vertex[i];
            if (reply[i] == LEVEL_NONE)
                check_fail(check, "vertex %llu has parent %llu, which is not in the tree",
                           (unsigned long long)(g->first + v), (unsigned long long)parents[v]);
            else if (reply[i] != LEVEL_UNKNOWN) {
                level[v] = (uint32_t)reply[i] + 1;
                progress++;
            }
        }
        uint64_t flags[2] = { progress, !check->valid }, flags_global[2];
        MPI_Allreduce(flags, flags_global, 2, MPI_UINT64_T, MPI_SUM, g->comm);
        if (flags_global[1] != 0)
            break;
        if (flags_global[0] == 0) {
            for (uint64_t i = 0; i < n; i++)
                check_fail(check, "vertex %llu does not reach the key along parents (a cycle)",
                           (unsigned long long)(g->first + asking_vertex[i]));
            break;
        }
    }
    check_agree(g, check);

done:
    free(ask);
    free(payload);
    free(reply);
    free(asking_vertex);
    return err->code;
}

/* Check 3: each tree edge is a graph edge, asked of the parent's owner. */
static int validate_tree_edges(const tc_graph *g, uint64_t key, const uint64_t *parents,
                               tc_g500_check *check, tc_error *err)
{
    uint64_t n_local = g->n_local, n = 0;
    uint64_t *ask = calloc(n_local + 1, sizeof(uint64_t));
    uint64_t *payload = calloc(n_local + 1, sizeof(uint64_t));
    uint64_t *reply = malloc((n_local + 1) * sizeof(uint64_t));
    if (!ask || !payload || !reply)
        tc_error_runtime(err, "out of memory for validation");
    if (tc_error_agree(err, g->comm) != TC_OK)
        goto done;

    for (uint64_t v = 0; v < n_local; v++) {
        uint64_t p = parents[v];
        if (p == TC_BFS_NO_PARENT || g->first + v == key)
            continue;
        int r = owner_of(g->owner_offsets, g->nranks, p);
        ask[n] = p;
        payload[n++] = ((p - g->owner_offsets[r]) << 32) | (g->first + v);
    }
    if (g500_ask_owners(g, n, ask, payload, answer_has_edge, NULL, reply, err) != TC_OK)
        goto done;
    for (uint64_t i = 0; i < n; i++)
        if (!reply[i])
            check_fail(check, "tree edge %llu -> %llu is not an edge of the graph",
                       (unsigned long long)ask[i], (unsigned long long)(payload[i] & UINT32_MAX));
    check_agree(g, check);

done:
    free(ask);
    free(payload);
    free(reply);
    return err->code;
}

/* Check 4 on the out-edges of owned vertices, with the levels of their
 * targets allgathered one window of global ids at a time. CURSOR (one per
 * owned vertex, NULL for a single window) remembers where each sorted
 * out-list left off. */
static int validate_edges(const tc_graph *g, const uint32_t *level, uint64_t level_window,
                          tc_g500_check *check, tc_error *err)
{
    int nranks = g->nranks;
    uint64_t window = level_window ? level_window : G500_LEVEL_WINDOW;
    if (window > g->n_global)
        window = g->n_global;
    if (window == 0)
        window = 1;
    bool several = window < g->n_global;
    uint32_t *levels = malloc((size_t)window * sizeof(uint32_t));
    uint64_t *cursor = several ? malloc((g->n_local + 1) * sizeof(uint64_t)) : NULL;
    int *counts = calloc((size_t)nranks * 2, sizeof(int));
    if (!levels || (several && !cursor) || !counts)
        tc_error_runtime(err, "out of memory for validation");
    if (tc_error_agree(err, g->comm) != TC_OK)
        goto done;
    if (cursor)
        memcpy(cursor, g->out_offsets, g->n_local * sizeof(uint64_t));

    int *rcount = counts, *rdispl = counts + nranks;
    for (uint64_t w0 = 0; w0 < g->n_global; w0 += window) {
        uint64_t w1 = g->n_global - w0 < window ? g->n_global : w0 + window;
        for (int r = 0; r < nranks; r++) {
            uint64_t a = g->owner_offsets[r] > w0 ? g->owner_offsets[r] : w0;
            uint64_t b = g->owner_offsets[r + 1] < w1 ? g->owner_offsets[r + 1] : w1;
            rcount[r] = b > a ? (int)(b - a) : 0;
            rdispl[r] = b > a ? (int)(a - w0) : 0;
        }
        uint64_t mine_from = g->first > w0 ? g->first : w0;
        const uint32_t *mine = rcount[g->rank] ? level + (mine_from - g->first) : level;
        MPI_Allgatherv(mine, rcount[g->rank], MPI_UINT32_T, levels, rcount, rdispl,
                       MPI_UINT32_T, g->comm);

        for (uint64_t u = 0; u < g->n_local; u++) {
            uint32_t lu = level[u];
            uint64_t e = cursor ? cursor[u] : g->out_offsets[u];
            uint64_t end = g->out_offsets[u + 1];
            for (; e < end && g->out_targets[e] < w1; e++) {
                if (lu == LEVEL_NONE)
                    continue;
                uint64_t v = g->out_targets[e];
                uint32_t lv = levels[v - w0];
                if (lv == LEVEL_NONE)
                    check_fail(check, "edge %llu -> %llu leaves the tree: %llu is at level %u, "
                               "%llu was not reached",
                               (unsigned long long)(g->first + u), (unsigned long long)v,
                               (unsigned long long)(g->first + u), lu, (unsigned long long)v);
                else if (lv > lu + 1)
                    check_fail(check, "edge %llu -> %llu spans levels %u and %u, more than one",
                               (unsigned long long)(g->first + u), (unsigned long long)v, lu,
                               lv);
            }
            if (cursor)
                cursor[u] = e;
        }
    }
    check_agree(g, check);

done:
    free(levels);
    free(cursor);
    free(counts);
    return err->code;
}

int tc_g500_validate(const tc_graph *g, uint64_t key, const uint64_t *parents,
                     uint64_t level_window, tc_g500_check *check, tc_error *err)
{
    memset(check, 0, sizeof *check);
    check->valid = true;
    uint32_t *level = malloc((g->n_local + 1) * sizeof(uint32_t));
    if (!level)
        tc_error_runtime(err, "out of memory for validation levels");
    else if (key >= g->n_global)
        check_fail(check, "key %llu is not a vertex", (unsigned long long)key);
    if (tc_error_agree(err, g->comm) != TC_OK)
        goto done;
    check_agree(g, check);
    if (!check->valid)
        goto done;

    if (validate_levels(g, key, parents, level, check, err) != TC_OK || !check->valid)
        goto done;
    if (validate_tree_edges(g, key, parents, check, err) != TC_OK || !check->valid)
        goto done;
    if (validate_edges(g, level, level_window, check, err) != TC_OK || !check->valid)
        goto done;

    uint64_t reached = 0, depth = 0;
    for (uint64_t v = 0; v < g->n_local; v++)
        if (level[v] != LEVEL_NONE) {
            reached++;
            if (level[v] > depth)
                depth = level[v];
        }
    MPI_Allreduce(&reached, &check->reached, 1, MPI_UINT64_T, MPI_SUM, g->comm);
    uint64_t depth_global = 0;
    MPI_Allreduce(&depth, &depth_global, 1, MPI_UINT64_T, MPI_MAX, g->comm);
    check->depth = (uint32_t)depth_global;

done:
    free(level);
    return err->code;
}

int tc_g500_component_edges(const tc_graph *g, const uint64_t *parents, uint64_t *nedge,
                            tc_error *err)
{
    (void)err;
    uint64_t twice = 0, twice_global = 0;
    for (uint64_t u = 0; u < g->n_local; u++) {
        if (parents[u] == TC_BFS_NO_PARENT)
            continue;
        uint64_t begin = g->out_offsets[u], end = g->out_offsets[u + 1];
        twice += end - begin + sorted_count(g->out_targets, begin, end, g->first + u);
    }
    MPI_Allreduce(&twice, &twice_global, 1, MPI_UINT64_T, MPI_SUM, g->comm);
    *nedge = twice_global / 2;
    return TC_OK;
}

/* ---- statistics ------------------------------------------------------- */

static double quantile_sorted(const double *x, size_t n, double p)
{
    double position = (double)n * p + 0.5;
    if (position <= 1)
        return x[0];
    if (position >= (double)n)
        return x[n - 1];
    size_t below = (size_t)position;
    double fraction = position - (double)below;
    return x[below - 1] + fraction * (x[below] - x[below - 1]);
}

void tc_g500_stats_compute(const double *x, size_t n, tc_g500_stats *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return;
    double *sorted = malloc(n * sizeof(double));
    if (!sorted)
        return;
    memcpy(sorted, x, n * sizeof(double));
    qsort(sorted, n, sizeof(double), compare_double);

    out->min = sorted[0];
    out->firstquartile = quantile_sorted(sorted, n, 0.25);
    out->median = quantile_sorted(sorted, n, 0.5);
    out->thirdquartile = quantile_sorted(sorted, n, 0.75);
    out->max = sorted[n - 1];
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    out->mean = sum / (double)n;
    double squares = 0;
    for (size_t i = 0; i < n; i++)
        squares += (x[i] - out->mean) * (x[i] - out->mean);
    out->stddev = n > 1 ? sqrt(squares / (double)(n - 1)) : 0;
    free(sorted);
}

void tc_g500_teps_stats(const double *nedge, const double *seconds, size_t n,
                        tc_g500_stats *out)
{
    memset(out, 0, sizeof *out);
    double *teps = malloc((n + 1) * sizeof(double));
    if (!teps || n == 0) {
        free(teps);
        return;
    }
    for (size_t i = 0; i < n; i++)
        teps[i] = seconds[i] > 0 ? nedge[i] / seconds[i] : 0;
    tc_g500_stats_compute(teps, n, out);

    /* Harmonic mean and Norris's standard error, over the positive rates. */
    double inverse_sum = 0;
    for (size_t i = 0; i < n; i++)
        if (teps[i] > 0)
            inverse_sum += 1 / teps[i];
    double harmonic = inverse_sum > 0 ? (double)n / inverse_sum : 0;
    double squares = 0;
    for (size_t i = 0; i < n && harmonic > 0; i++) {
        double d = (teps[i] > 0 ? 1 / teps[i] : 0) - 1 / harmonic;
        squares += d * d;
    }
    out->mean = harmonic;
    out->stddev = n > 1 ? sqrt(squares) / (double)(n - 1) * harmonic * harmonic : 0;
    free(teps);
}

/* ---- serial reference BFS --------------------------------------------- */

int tc_g500_reference_bfs(uint64_t n, uint64_t m, const uint64_t *src, const uint64_t *dst,
                          bool undirected, const uint64_t *roots, uint64_t n_roots,
                          const bool *excluded, uint64_t *parent, uint32_t *level,
                          tc_error *err)
{
    uint64_t entries = undirected ? 2 * m : m;
    uint64_t *offsets = calloc(n + 2, sizeof(uint64_t));
    uint64_t *adjacency = malloc((entries + 1) * sizeof(uint64_t));
    uint32_t *depth = malloc((n + 1) * sizeof(uint32_t));
    uint64_t *frontier = malloc((n + 1) * sizeof(uint64_t));
    uint64_t *next = malloc((n + 1) * sizeof(uint64_t));
    if (!offsets || !adjacency || !depth || !frontier || !next) {
        tc_error_runtime(err, "out of memory for the reference BFS of %llu vertices",
                         (unsigned long long)n);
        goto done;
    }

    for (uint64_t i = 0; i < m; i++) {
        offsets[src[i] + 1]++;
        if (undirected)
            offsets[dst[i] + 1]++;
    }
    for (uint64_t v = 0; v < n; v++)
        offsets[v + 1] += offsets[v];
    for (uint64_t i = 0; i < m; i++) {
        adjacency[offsets[src[i]]++] = dst[i];
        if (undirected)
            adjacency[offsets[dst[i]]++] = src[i];
    }
    for (uint64_t v = n; v > 0; v--)
        offsets[v] = offsets[v - 1];
    offsets[0] = 0;

    for (uint64_t v = 0; v < n; v++) {
        parent[v] = TC_BFS_NO_PARENT;
        depth[v] = LEVEL_NONE;
    }
    uint64_t n_frontier = 0;
    for (uint64_t k = 0; k < n_roots; k++)
        if (depth[roots[k]] == LEVEL_NONE) {
            depth[roots[k]] = 0;
            frontier[n_frontier++] = roots[k];
        }
    qsort(frontier, n_frontier, sizeof(uint64_t), compare_u64);

    /* Scanning each level's frontier in ascending order makes the first
     * discoverer of a vertex its smallest in-neighbour on that level. */
    for (uint32_t d = 0; n_frontier > 0; d++) {
        uint64_t n_next = 0;
        for (uint64_t k = 0; k < n_frontier; k++) {
            uint64_t u = frontier[k];
            for (uint64_t e = offsets[u]; e < offsets[u + 1]; e++) {
                uint64_t v = adjacency[e];
                if (depth[v] != LEVEL_NONE || (excluded && excluded[v]))
                    continue;
                depth[v] = d + 1;
                parent[v] = u;
                next[n_next++] = v;
            }
        }
        qsort(next, n_next, sizeof(uint64_t), compare_u64);
        uint64_t *swap = frontier;
        frontier = next;
        next = swap;
        n_frontier = n_next;
    }
    if (level)
        memcpy(level, depth, n * sizeof(uint32_t));

done:
    free(offsets);
    free(adjacency);
    free(depth);
    free(frontier);
    free(next);
    return err->code;
}
