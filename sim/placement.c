/*
 * placement.c - NUMA-aware placement of ranks with hwloc; see placement.h
 * for the assignment rule.
 *
 * Invariants of tc_placement_init:
 *  1. Every rank of a node loads the same topology and, after the union
 *     over the node, has the same usable set. So every rank computes the
 *     same plan for the whole node and keeps only its own slot: no plan
 *     is sent in a message.
 *  2. The ranks of a node are ordered by their rank in COMM: a host's ranks
 *     by MPI_Comm_split_type with the rank as key, a virtual node's by
 *     MPI_Comm_split with the rank as key.
 *  3. Every collective is reached by every rank on every path: a local
 *     failure is agreed with tc_error_agree before the next collective.
 *  4. Binding happens last and never fails the call. A rejected binding
 *     becomes a warning, so the ranks need no agreement after it.
 *
 * States of a rank's binding:
 *   unbound --placement_bind--> cpu bound --placement_bind--> memory bound
 *   any state --tc_placement_free_all--> binding saved before init restored
 */
#include "placement.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

/* Private part of a placement: what free_all restores, and the warnings
 * of tc_placement_alloc, which may update it through a const placement. */
struct tc_placement_state {
    hwloc_bitmap_t saved_cpuset;         /* CPU binding before init */
    bool cpu_saved;
    hwloc_bitmap_t saved_nodeset;        /* memory binding before init */
    hwloc_membind_policy_t saved_policy;
    bool memory_saved;
    unsigned long unbound_allocs;        /* allocations whose memory binding failed */
    unsigned long plain_page_allocs;     /* allocations whose MADV_HUGEPAGE failed */
    char alloc_warning[256];             /* the first of those failures */
};

/* Settings after the options and the environment are combined. */
typedef struct placement_settings {
    const char *synthetic;
    const char *cpus;
    int virtual_nodes;            /* 0: real nodes */
    const char *virtual_source;   /* "TC_VIRTUAL_NODES" or "virtual_nodes" (the option) */
    bool no_bind;
} placement_settings;

/* One usable core in the plan's list. */
typedef struct placement_core {
    hwloc_obj_t obj;      /* a Core, or a PU when the topology has no cores */
    hwloc_obj_t numa;     /* its NUMA node */
} placement_core;

static const char *const placement_bind_names[] = {
    [TC_PLACEMENT_BIND_ATTEMPTED] = "attempted",
    [TC_PLACEMENT_BIND_DISABLED] = "disabled",
    [TC_PLACEMENT_BIND_SKIPPED] = "skipped",
};

/* ---- helpers ---------------------------------------------------------- */

/* Append a warning to PL's list, separated by "; ", truncating when full. */
static void placement_warn(tc_placement *pl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void placement_warn(tc_placement *pl, const char *fmt, ...)
{
    size_t used = strlen(pl->warning);
    if (used > 0 && used + 2 < sizeof pl->warning) {
        memcpy(pl->warning + used, "; ", 3);
        used += 2;
    }
    if (used + 1 >= sizeof pl->warning)
        return;

    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pl->warning + used, sizeof pl->warning - used, fmt, ap);
    va_end(ap);
}

/* Parse a positive int; false when TEXT is not one. */
static bool placement_parse_positive(const char *text, int *value)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v <= 0 || v > INT_MAX)
        return false;
    *value = (int)v;
    return true;
}

static int placement_read_settings(const tc_placement_options *opt, placement_settings *s,
                                   tc_error *err)
{
    memset(s, 0, sizeof *s);
    if (opt) {
        s->synthetic = opt->synthetic;
        s->cpus = opt->cpus;
        s->virtual_nodes = opt->virtual_nodes;
        s->virtual_source = "virtual_nodes";
        s->no_bind = opt->no_bind;
    }
    if (s->virtual_nodes < 0)
        return tc_error_input(err, NULL, 0, 0, NULL,
                              "invalid virtual_nodes option %d: expected a positive number of "
                              "nodes, or 0 for real nodes", s->virtual_nodes);

    const char *text = getenv("TC_VIRTUAL_NODES");
    if (s->virtual_nodes == 0 && text && text[0]) {
        if (!placement_parse_positive(text, &s->virtual_nodes))
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "invalid TC_VIRTUAL_NODES value '%s': expected a positive "
                                  "number of nodes", text);
        s->virtual_source = "TC_VIRTUAL_NODES";
    }

    text = getenv("TC_NO_BIND");
    if (text && text[0]) {
        if (strcmp(text, "1") == 0)
            s->no_bind = true;
        else if (strcmp(text, "0") != 0)
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "invalid TC_NO_BIND value '%s': expected 0 or 1", text);
    }
    return TC_OK;
}

/* Load the topology from SYNTHETIC, else from HWLOC_SYNTHETIC, else from
 * HWLOC_XMLFILE, else from this machine, which is the order hwloc 2.9
 * applies to its variables. The variables' values are passed to hwloc
 * explicitly because hwloc_topology_load, given an invalid value, silently
 * discovers this machine instead. HWLOC_COMPONENTS, HWLOC_FSROOT and
 * HWLOC_CPUID_PATH take precedence in hwloc, so they are left to it. */
static int placement_load_topology(tc_placement *pl, const char *synthetic, tc_error *err)
{
    if (hwloc_topology_init(&pl->topology) != 0) {
        pl->topology = NULL;
        return tc_error_runtime(err, "hwloc_topology_init failed: %s", strerror(errno));
    }

    bool hwloc_decides = getenv("HWLOC_COMPONENTS") || getenv("HWLOC_FSROOT") ||
                         getenv("HWLOC_CPUID_PATH");
    const char *env_synthetic = hwloc_decides ? NULL : getenv("HWLOC_SYNTHETIC");
    const char *env_xml = hwloc_decides ? NULL : getenv("HWLOC_XMLFILE");
    snprintf(pl->source, sizeof pl->source, "machine");

    if (synthetic) {
        if (hwloc_topology_set_synthetic(pl->topology, synthetic) != 0)
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "invalid synthetic topology '%s': expected an hwloc "
                                  "description such as \"package:2 numa:2 core:2 pu:1\"",
                                  synthetic);
        snprintf(pl->source, sizeof pl->source, "synthetic: %s", synthetic);
    } else if (env_synthetic && env_synthetic[0]) {
        if (hwloc_topology_set_synthetic(pl->topology, env_synthetic) != 0)
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "invalid HWLOC_SYNTHETIC value '%s': expected an hwloc "
                                  "description such as \"package:2 numa:2 core:2 pu:1\"",
                                  env_synthetic);
        snprintf(pl->source, sizeof pl->source, "synthetic: %s", env_synthetic);
    } else if (env_xml && env_xml[0]) {
        if (hwloc_topology_set_xml(pl->topology, env_xml) != 0)
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "HWLOC_XMLFILE '%s' is not a readable hwloc XML topology: %s",
                                  env_xml, strerror(errno));
        snprintf(pl->source, sizeof pl->source, "xml: %s", env_xml);
    }

    if (hwloc_topology_load(pl->topology) != 0)
        return tc_error_runtime(err, "loading the hardware topology (%s) failed: %s", pl->source,
                                strerror(errno));

    pl->this_system = hwloc_topology_is_thissystem(pl->topology);
    return TC_OK;
}

/* Return the virtual node of RANK when SIZE ranks are split into K blocks
 * of consecutive ranks, the first SIZE mod K blocks one rank larger. */
static int placement_virtual_node(int rank, int size, int k)
{
    int base = size / k;
    int extra = size % k;
    int large = extra * (base + 1);   /* ranks in the larger blocks */
    if (rank < large)
        return rank / (base + 1);
    return extra + (rank - large) / base;
}

/* Number the hosts of COMM from 0 by their lowest rank. *SHARED becomes
 * the communicator of this rank's host. Collective. */
static void placement_find_host(MPI_Comm comm, int rank, MPI_Comm *shared, int *host,
                                int *n_hosts)
{
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, shared);
    int shared_rank = 0;
    MPI_Comm_rank(*shared, &shared_rank);

    /* The lowest rank of each host leads it; leaders ordered by rank. */
    MPI_Comm leaders = MPI_COMM_NULL;
    MPI_Comm_split(comm, shared_rank == 0 ? 0 : MPI_UNDEFINED, rank, &leaders);
    int index_and_count[2] = { 0, 0 };
    if (leaders != MPI_COMM_NULL) {
        MPI_Comm_rank(leaders, &index_and_count[0]);
        MPI_Comm_size(leaders, &index_and_count[1]);
        MPI_Comm_free(&leaders);
    }
    MPI_Bcast(index_and_count, 2, MPI_INT, 0, *shared);
    *host = index_and_count[0];
    *n_hosts = index_and_count[1];
}

/* Fill PL's node fields and create *NODE_COMM, the communicator of the
 * node's ranks. Collective; returns the agreed status. */
static int placement_find_node(tc_placement *pl, MPI_Comm comm, const placement_settings *s,
                               MPI_Comm *node_comm, tc_error *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);

    MPI_Comm shared = MPI_COMM_NULL;
    int host = 0, n_hosts = 1;
    placement_find_host(comm, rank, &shared, &host, &n_hosts);

    if (s->virtual_nodes == 0) {
        *node_comm = shared;
        pl->node = host;
        pl->n_nodes = n_hosts;
    } else {
        MPI_Comm_free(&shared);
        if (s->virtual_nodes > size)
            tc_error_input(err, NULL, 0, 0, NULL,
                           "invalid %s=%d: more virtual nodes than the %d ranks",
                           s->virtual_source, s->virtual_nodes, size);
        if (tc_error_agree(err, comm) != TC_OK)
            return err->code;

        pl->virtual_nodes = true;
        pl->node = placement_virtual_node(rank, size, s->virtual_nodes);
        pl->n_nodes = s->virtual_nodes;
        MPI_Comm_split(comm, pl->node, rank, node_comm);

        /* Ranks of one virtual node must share memory, as ranks of a host do. */
        int span[2] = { host, -host };
        MPI_Allreduce(MPI_IN_PLACE, span, 2, MPI_INT, MPI_MIN, *node_comm);
        if (span[0] != -span[1])
            tc_error_input(err, NULL, 0, 0, NULL,
                           "%s=%d puts ranks of different hosts in virtual node %d: choose a "
                           "count whose blocks of consecutive ranks stay within one host",
                           s->virtual_source, s->virtual_nodes, pl->node);
        if (tc_error_agree(err, comm) != TC_OK)
            return err->code;
    }

    MPI_Comm_rank(*node_comm, &pl->node_rank);
    MPI_Comm_size(*node_comm, &pl->node_size);
    return TC_OK;
}

/* Set USABLE to the PUs this process may use: the topology's allowed set,
 * within the current binding when the topology is this machine, within
 * CPUS when given. Local. */
static int placement_usable_local(const tc_placement *pl, const char *cpus, hwloc_bitmap_t usable,
                                  tc_error *err)
{
    hwloc_bitmap_copy(usable, hwloc_topology_get_allowed_cpuset(pl->topology));

    if (pl->this_system) {
        hwloc_bitmap_t bound = hwloc_bitmap_alloc();
        if (!bound)
            return tc_error_runtime(err, "out of memory for a CPU set");
        /* An unreadable binding, or one outside the allowed set, is ignored. */
        if (hwloc_get_cpubind(pl->topology, bound, HWLOC_CPUBIND_PROCESS) == 0 &&
            hwloc_bitmap_intersects(bound, usable))
            hwloc_bitmap_and(usable, usable, bound);
        hwloc_bitmap_free(bound);
    }

    if (cpus) {
        hwloc_bitmap_t requested = hwloc_bitmap_alloc();
        if (!requested)
            return tc_error_runtime(err, "out of memory for a CPU set");
        bool valid = hwloc_bitmap_list_sscanf(requested, cpus) == 0 &&
                     !hwloc_bitmap_iszero(requested);
        if (valid)
            hwloc_bitmap_and(usable, usable, requested);
        hwloc_bitmap_free(requested);
        if (!valid)
            return tc_error_input(err, NULL, 0, 0, NULL,
                                  "invalid cpus list '%s': expected PU OS indexes such as "
                                  "\"0-3,6\"", cpus);
    }
    return TC_OK;
}

/* Replace USABLE by its union over NODE_COMM. Collective over NODE_COMM;
 * returns the status agreed over NODE_COMM. */
static int placement_usable_share(MPI_Comm node_comm, hwloc_bitmap_t usable, tc_error *err)
{
    int words = hwloc_bitmap_nr_ulongs(usable);
    if (words < 1)
        words = 1;
    MPI_Allreduce(MPI_IN_PLACE, &words, 1, MPI_INT, MPI_MAX, node_comm);

    unsigned long *mine = calloc((size_t)words, sizeof *mine);
    unsigned long *all = calloc((size_t)words, sizeof *all);
    int ok = mine && all;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, node_comm);
    if (ok) {
        hwloc_bitmap_to_ulongs(usable, (unsigned)words, mine);
        MPI_Allreduce(mine, all, words, MPI_UNSIGNED_LONG, MPI_BOR, node_comm);
        hwloc_bitmap_from_ulongs(usable, (unsigned)words, all);
    } else {
        tc_error_runtime(err, "out of memory for the node's CPU set (%d words)", words);
    }
    free(mine);
    free(all);
    return ok ? TC_OK : TC_ERR_RUNTIME;
}

/* The NUMA node local to OBJ: the first NUMA node below the memory
 * children of its nearest ancestor that has memory. */
static hwloc_obj_t placement_local_numa(hwloc_topology_t topology, hwloc_obj_t obj)
{
    for (hwloc_obj_t o = obj; o; o = o->parent) {
        if (o->memory_arity == 0)
            continue;
        /* Memory-side caches sit between an object and its NUMA nodes. */
        hwloc_obj_t m = o->memory_first_child;
        while (m && m->type != HWLOC_OBJ_NUMANODE)
            m = m->memory_first_child;
        if (m)
            return m;
    }
    return hwloc_get_obj_by_type(topology, HWLOC_OBJ_NUMANODE, 0);
}

static int placement_core_compare(const void *a, const void *b)
{
    const placement_core *x = a, *y = b;
    if (x->numa->logical_index != y->numa->logical_index)
        return x->numa->logical_index < y->numa->logical_index ? -1 : 1;
    if (x->obj->logical_index != y->obj->logical_index)
        return x->obj->logical_index < y->obj->logical_index ? -1 : 1;
    return 0;
}

/* List the cores that contain a PU of USABLE, ordered by NUMA node, then
 * by core (rule 1). *OUT is NULL when there are none. */
static int placement_list_cores(hwloc_topology_t topology, hwloc_const_cpuset_t usable,
                                placement_core **out, size_t *n_out, tc_error *err)
{
    hwloc_obj_type_t type = HWLOC_OBJ_CORE;
    if (hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_CORE) == 0)
        type = HWLOC_OBJ_PU;
    int n_objs = hwloc_get_nbobjs_by_type(topology, type);

    *out = NULL;
    *n_out = 0;
    placement_core *cores = calloc(n_objs > 0 ? (size_t)n_objs : 1, sizeof *cores);
    if (!cores)
        return tc_error_runtime(err, "out of memory for a list of %d cores", n_objs);

    size_t n = 0;
    for (int i = 0; i < n_objs; i++) {
        hwloc_obj_t obj = hwloc_get_obj_by_type(topology, type, (unsigned)i);
        if (!obj->cpuset || !hwloc_bitmap_intersects(obj->cpuset, usable))
            continue;
        hwloc_obj_t numa = placement_local_numa(topology, obj);
        if (!numa)
            continue;
        cores[n].obj = obj;
        cores[n].numa = numa;
        n++;
    }
    qsort(cores, n, sizeof *cores, placement_core_compare);

    if (n == 0) {
        free(cores);
        return TC_OK;
    }
    *out = cores;
    *n_out = n;
    return TC_OK;
}

/* First position of rank I's block of the C-long core list (rule 2). */
static size_t placement_block_first(size_t i, size_t c, size_t l)
{
    return (size_t)((unsigned __int128)i * c / l);
}

/* One past the last position of rank I's block; never empty. */
static size_t placement_block_end(size_t i, size_t c, size_t l)
{
    size_t first = placement_block_first(i, c, l);
    size_t end = placement_block_first(i + 1, c, l);
    return end > first ? end : first + 1;
}

/* Find the NUMA node with the most positions in [FIRST, END) of CORES,
 * the first one (lowest logical index) on a tie. */
static hwloc_obj_t placement_block_numa(const placement_core *cores, size_t first, size_t end)
{
    hwloc_obj_t best = cores[first].numa;
    size_t best_count = 0;
    size_t p = first;
    while (p < end) {
        hwloc_obj_t numa = cores[p].numa;
        size_t run = 0;
        while (p < end && cores[p].numa == numa) {
            run++;
            p++;
        }
        if (run > best_count) {
            best = numa;
            best_count = run;
        }
    }
    return best;
}

/* ---- API -------------------------------------------------------------- */

void tc_placement_slot_free(tc_placement_slot *slot)
{
    hwloc_bitmap_free(slot->cores);
    hwloc_bitmap_free(slot->cpuset);
    hwloc_bitmap_free(slot->nodeset);
    slot->cores = slot->cpuset = slot->nodeset = NULL;
}

int tc_placement_plan(hwloc_topology_t topology, hwloc_const_cpuset_t usable, int node_size,
                      int node_rank, tc_placement_slot *slot, tc_error *err)
{
    memset(slot, 0, sizeof *slot);
    if (node_size < 1 || node_rank < 0 || node_rank >= node_size)
        return tc_error_runtime(err, "node rank %d out of range for a node of %d ranks",
                                node_rank, node_size);

    slot->cores = hwloc_bitmap_alloc();
    slot->cpuset = hwloc_bitmap_alloc();
    slot->nodeset = hwloc_bitmap_alloc();
    if (!slot->cores || !slot->cpuset || !slot->nodeset)
        return tc_error_runtime(err, "out of memory for a placement slot");

    placement_core *cores = NULL;
    size_t c = 0;
    int rc = placement_list_cores(topology, usable, &cores, &c, err);
    if (rc != TC_OK)
        return rc;
    if (c == 0) {
        char *list = NULL;
        hwloc_bitmap_list_asprintf(&list, usable);
        rc = tc_error_input(err, NULL, 0, 0, NULL,
                            "the usable CPU set '%s' contains no PU of the topology: check the "
                            "cpus option and the process's CPU binding (taskset)",
                            list ? list : "?");
        free(list);
        return rc;
    }

    /* Rule 2: this rank's NUMA node, and the ranks before it that share it. */
    size_t l = (size_t)node_size;
    size_t me = (size_t)node_rank;
    hwloc_obj_t numa = placement_block_numa(cores, placement_block_first(me, c, l),
                                            placement_block_end(me, c, l));
    size_t k = 0, r_numa = 0;
    for (size_t i = 0; i < l; i++) {
        hwloc_obj_t other = placement_block_numa(cores, placement_block_first(i, c, l),
                                                 placement_block_end(i, c, l));
        if (other != numa)
            continue;
        if (i < me)
            k++;
        r_numa++;
    }

    /* Rule 3: this rank's share of the NUMA node's own list. */
    size_t numa_first = 0;
    while (cores[numa_first].numa != numa)
        numa_first++;
    size_t c_numa = 0;
    while (numa_first + c_numa < c && cores[numa_first + c_numa].numa == numa)
        c_numa++;
    size_t first = numa_first + placement_block_first(k, c_numa, r_numa);
    size_t end = numa_first + placement_block_end(k, c_numa, r_numa);

    /* Rule 4: bind to the usable PUs of those cores only. */
    for (size_t p = first; p < end; p++) {
        hwloc_bitmap_set(slot->cores, cores[p].obj->logical_index);
        hwloc_bitmap_or(slot->cpuset, slot->cpuset, cores[p].obj->cpuset);
    }
    hwloc_bitmap_and(slot->cpuset, slot->cpuset, usable);
    hwloc_bitmap_copy(slot->nodeset, numa->nodeset);
    slot->numa_logical = numa->logical_index;
    slot->numa_os = numa->os_index;

    free(cores);
    return TC_OK;
}

/* Save the current binding, then bind PL's process to its slot. Rejected
 * bindings become warnings. Memory is bound only when the CPU binding
 * succeeded, so that a rank never prefers a node it may not run on. Local. */
static void placement_bind(tc_placement *pl)
{
    struct tc_placement_state *st = pl->state;
    hwloc_topology_t topology = pl->topology;

    st->saved_cpuset = hwloc_bitmap_alloc();
    st->saved_nodeset = hwloc_bitmap_alloc();
    if (st->saved_cpuset && hwloc_get_cpubind(topology, st->saved_cpuset,
                                              HWLOC_CPUBIND_PROCESS) == 0)
        st->cpu_saved = true;
    /* Without PROCESS or THREAD, hwloc 2.9 on Linux reads and sets the
     * calling thread's policy, which threads created later inherit. */
    if (st->saved_nodeset && hwloc_get_membind(topology, st->saved_nodeset, &st->saved_policy,
                                               HWLOC_MEMBIND_BYNODESET) == 0)
        st->memory_saved = true;

    if (hwloc_set_cpubind(topology, pl->slot.cpuset, HWLOC_CPUBIND_PROCESS) == 0) {
        pl->cpu_bound = true;
    } else {
        int code = errno;
        char *list = NULL;
        hwloc_bitmap_list_asprintf(&list, pl->slot.cpuset);
        placement_warn(pl, "binding to PUs %s failed (%s), so memory is not bound either",
                       list ? list : "?", strerror(code));
        free(list);
        return;
    }

    if (hwloc_set_membind(topology, pl->slot.nodeset, HWLOC_MEMBIND_BIND,
                          HWLOC_MEMBIND_BYNODESET) == 0)
        pl->memory_bound = true;
    else
        placement_warn(pl, "binding memory to NUMA node %u failed (%s)", pl->slot.numa_os,
                       strerror(errno));
}

int tc_placement_init(MPI_Comm comm, const tc_placement_options *opt, tc_placement **out,
                      tc_error *err)
{
    *out = NULL;
    placement_settings settings = { 0 };
    MPI_Comm node_comm = MPI_COMM_NULL;

    /* Local setup: settings, topology, host name. */
    tc_placement *pl = calloc(1, sizeof *pl);
    if (!pl) {
        tc_error_runtime(err, "out of memory for a placement");
    } else {
        pl->state = calloc(1, sizeof *pl->state);
        pl->node_usable = hwloc_bitmap_alloc();
        int len = 0;
        MPI_Get_processor_name(pl->host, &len);
        if (!pl->state || !pl->node_usable)
            tc_error_runtime(err, "out of memory for a placement");
        else if (placement_read_settings(opt, &settings, err) == TC_OK)
            placement_load_topology(pl, settings.synthetic, err);
    }
    if (tc_error_agree(err, comm) != TC_OK)
        goto fail;

    if (placement_find_node(pl, comm, &settings, &node_comm, err) != TC_OK)
        goto fail;

    /* The usable set: this rank's view, then the union over the node. */
    placement_usable_local(pl, settings.cpus, pl->node_usable, err);
    if (tc_error_agree(err, comm) != TC_OK)
        goto fail;
    placement_usable_share(node_comm, pl->node_usable, err);
    if (tc_error_agree(err, comm) != TC_OK)
        goto fail;

    tc_placement_plan(pl->topology, pl->node_usable, pl->node_size, pl->node_rank, &pl->slot,
                      err);
    if (tc_error_agree(err, comm) != TC_OK)
        goto fail;

    if (settings.no_bind)
        pl->bind = TC_PLACEMENT_BIND_DISABLED;
    else if (!pl->this_system)
        pl->bind = TC_PLACEMENT_BIND_SKIPPED;
    else
        pl->bind = TC_PLACEMENT_BIND_ATTEMPTED;
    if (pl->bind == TC_PLACEMENT_BIND_ATTEMPTED)
        placement_bind(pl);

    MPI_Comm_free(&node_comm);
    *out = pl;
    return TC_OK;

fail:
    if (node_comm != MPI_COMM_NULL)
        MPI_Comm_free(&node_comm);
    tc_placement_free_all(pl);
    return err->code;
}

/* ---- memory ------------------------------------------------------------ */

static size_t placement_page_bytes(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096;
}

/* Record an allocation warning in a const placement's private state. */
static void placement_alloc_warn(const tc_placement *pl, unsigned long *counter, const char *what,
                                 int code)
{
    struct tc_placement_state *st = pl->state;
    (*counter)++;
    if (st->alloc_warning[0] == '\0')
        snprintf(st->alloc_warning, sizeof st->alloc_warning, "%s (%s)", what, strerror(code));
}

/* Map LEN bytes aligned to ALIGN (a multiple of the page size) by mapping
 * LEN + ALIGN and unmapping the unaligned head and tail. */
static void *placement_map_aligned(size_t len, size_t align)
{
    if (len > SIZE_MAX - align) {
        errno = ENOMEM;
        return NULL;
    }
    size_t span = len + align;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;

    uintptr_t start = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
    char *p = (char *)start;
    size_t head = (size_t)(p - raw);
    size_t tail = span - head - len;
    if (head > 0)
        munmap(raw, head);
    if (tail > 0)
        munmap(p + len, tail);
    return p;
}

void *tc_placement_alloc(const tc_placement *pl, size_t bytes)
{
    if (bytes == 0) {
        errno = EINVAL;
        return NULL;
    }
    size_t page = placement_page_bytes();
    if (bytes > SIZE_MAX - page) {
        errno = ENOMEM;
        return NULL;
    }
    size_t len = (bytes + page - 1) / page * page;

    bool huge = bytes >= TC_PLACEMENT_HUGE_PAGE_BYTES;
    void *p = huge ? placement_map_aligned(len, TC_PLACEMENT_HUGE_PAGE_BYTES)
                   : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || p == NULL)
        return NULL;

    /* Both calls come before the first touch, which is when the kernel
     * places pages, so no page has to move. */
    if (huge && madvise(p, len, MADV_HUGEPAGE) != 0 && pl)
        placement_alloc_warn(pl, &pl->state->plain_page_allocs, "madvise(MADV_HUGEPAGE) failed",
                             errno);
    if (pl && pl->memory_bound &&
        hwloc_set_area_membind(pl->topology, p, len, pl->slot.nodeset, HWLOC_MEMBIND_BIND,
                               HWLOC_MEMBIND_BYNODESET) != 0)
        placement_alloc_warn(pl, &pl->state->unbound_allocs,
                             "binding an array to its NUMA node failed", errno);
    return p;
}

void tc_placement_free(const tc_placement *pl, void *p, size_t bytes)
{
    (void)pl;
    if (!p)
        return;
    size_t page = placement_page_bytes();
    munmap(p, (bytes + page - 1) / page * page);
}

/* ---- report ------------------------------------------------------------ */

/* All warnings of PL in one text: binding, then allocations. */
static void placement_warning_text(const tc_placement *pl, char *text, size_t size)
{
    const struct tc_placement_state *st = pl->state;
    int used = snprintf(text, size, "%s", pl->warning);
    if (used < 0 || (size_t)used >= size)
        return;
    if (st->unbound_allocs == 0 && st->plain_page_allocs == 0)
        return;
    snprintf(text + used, size - (size_t)used,
             "%sarrays whose memory binding failed: %lu, whose huge-page advice failed: %lu, "
             "first failure: %s",
             used > 0 ? "; " : "", st->unbound_allocs, st->plain_page_allocs, st->alloc_warning);
}

/* Set KEY of OBJ to a hwloc list string of SET; false on failure. */
static bool placement_json_set_list(json_t *obj, const char *key, hwloc_const_bitmap_t set)
{
    char *list = NULL;
    if (hwloc_bitmap_list_asprintf(&list, set) < 0 || !list)
        return false;
    bool ok = json_object_set_new(obj, key, json_string(list)) == 0;
    free(list);
    return ok;
}

/* This rank's report object as compact JSON text, or NULL on failure. */
static char *placement_json_rank(const tc_placement *pl, int rank)
{
    char warning[1024];
    placement_warning_text(pl, warning, sizeof warning);

    json_t *obj = json_object();
    if (!obj)
        return NULL;
    bool ok = json_object_set_new(obj, "rank", json_integer(rank)) == 0 &&
              json_object_set_new(obj, "host", json_string(pl->host)) == 0 &&
              json_object_set_new(obj, "node", json_integer(pl->node)) == 0 &&
              json_object_set_new(obj, "virtual_node", json_boolean(pl->virtual_nodes)) == 0 &&
              json_object_set_new(obj, "node_rank", json_integer(pl->node_rank)) == 0 &&
              json_object_set_new(obj, "node_size", json_integer(pl->node_size)) == 0 &&
              json_object_set_new(obj, "topology", json_string(pl->source)) == 0 &&
              json_object_set_new(obj, "numa", json_integer(pl->slot.numa_os)) == 0 &&
              placement_json_set_list(obj, "cores", pl->slot.cores) &&
              placement_json_set_list(obj, "pus", pl->slot.cpuset) &&
              json_object_set_new(obj, "bind", json_string(placement_bind_names[pl->bind])) == 0 &&
              json_object_set_new(obj, "cpu_bound", json_boolean(pl->cpu_bound)) == 0 &&
              json_object_set_new(obj, "memory_bound", json_boolean(pl->memory_bound)) == 0 &&
              json_object_set_new(obj, "warning",
                                  warning[0] ? json_string(warning) : json_null()) == 0;
    char *text = ok ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(obj);
    return text;
}

/* On rank 0, parse the gathered objects (TEXTS, one after another at
 * OFFSETS) into one JSON array text. */
static char *placement_json_array(const char *texts, const int *lengths, const int *offsets,
                                  int size)
{
    json_t *array = json_array();
    if (!array)
        return NULL;
    for (int r = 0; r < size; r++) {
        json_t *obj = json_loadb(texts + offsets[r], (size_t)lengths[r], 0, NULL);
        if (!obj || json_array_append_new(array, obj) != 0) {
            json_decref(array);
            return NULL;
        }
    }
    char *text = json_dumps(array, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(array);
    return text;
}

int tc_placement_report(const tc_placement *pl, MPI_Comm comm, char **json_text, tc_error *err)
{
    *json_text = NULL;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);

    char *mine = placement_json_rank(pl, rank);
    if (!mine)
        tc_error_runtime(err, "building the placement report of rank %d failed", rank);
    if (tc_error_agree(err, comm) != TC_OK)
        return err->code;

    int length = (int)strlen(mine);
    int *lengths = NULL, *offsets = NULL;
    char *texts = NULL;
    if (rank == 0) {
        lengths = calloc((size_t)size, sizeof *lengths);
        offsets = calloc((size_t)size, sizeof *offsets);
    }
    MPI_Gather(&length, 1, MPI_INT, lengths, 1, MPI_INT, 0, comm);

    /* Only rank 0 can fail here, and it broadcasts whether it did. */
    int ok = 1;
    if (rank == 0) {
        long long total = 0;
        ok = lengths && offsets;
        for (int r = 0; ok && r < size; r++) {
            offsets[r] = (int)total;
            total += lengths[r];
            ok = total <= INT_MAX;
        }
        texts = ok ? malloc((size_t)total + 1) : NULL;
        ok = ok && texts;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
    if (ok) {
        MPI_Gatherv(mine, length, MPI_CHAR, texts, lengths, offsets, MPI_CHAR, 0, comm);
        if (rank == 0) {
            *json_text = placement_json_array(texts, lengths, offsets, size);
            if (!*json_text)
                tc_error_runtime(err, "building the placement report failed");
        }
    } else {
        tc_error_runtime(err, "out of memory gathering the placement report of %d ranks", size);
    }

    free(mine);
    free(texts);
    free(lengths);
    free(offsets);
    if (tc_error_agree(err, comm) != TC_OK) {
        free(*json_text);
        *json_text = NULL;
    }
    return err->code;
}

/* Append one formatted line for report object OBJ to *TEXT (LEN used,
 * CAP allocated); false on failure. */
static bool placement_text_line(json_t *obj, char **text, size_t *len, size_t *cap)
{
    json_int_t rank, node, numa;
    const char *host, *cores, *pus, *bind;
    int virtual_node, cpu_bound, memory_bound;
    json_t *warning = NULL;
    if (json_unpack(obj, "{s:I, s:s, s:I, s:b, s:I, s:s, s:s, s:s, s:b, s:b, s:o}", "rank", &rank,
                    "host", &host, "node", &node, "virtual_node", &virtual_node, "numa", &numa,
                    "cores", &cores, "pus", &pus, "bind", &bind, "cpu_bound", &cpu_bound,
                    "memory_bound", &memory_bound, "warning", &warning) != 0)
        return false;

    const char *state;
    if (cpu_bound && memory_bound)
        state = "bound";
    else if (cpu_bound)
        state = "CPU bound, memory not bound";
    else if (strcmp(bind, "disabled") == 0)
        state = "not bound (binding disabled)";
    else if (strcmp(bind, "skipped") == 0)
        state = "not bound (the topology is not this machine)";
    else
        state = "not bound";

    char line[1536];
    int n = snprintf(line, sizeof line, "rank %" JSON_INTEGER_FORMAT ": host %s, %snode %"
                     JSON_INTEGER_FORMAT ", NUMA node %" JSON_INTEGER_FORMAT
                     ", cores %s, PUs %s, %s%s%s\n",
                     rank, host, virtual_node ? "virtual " : "", node, numa, cores, pus, state,
                     json_is_string(warning) ? "; warning: " : "",
                     json_is_string(warning) ? json_string_value(warning) : "");
    if (n < 0)
        return false;
    size_t add = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;

    if (*len + add + 1 > *cap) {
        size_t grown = (*cap + add + 1) * 2;
        char *bigger = realloc(*text, grown);
        if (!bigger)
            return false;
        *text = bigger;
        *cap = grown;
    }
    memcpy(*text + *len, line, add + 1);
    *len += add;
    return true;
}

int tc_placement_report_text(const char *json_text, char **text, tc_error *err)
{
    *text = NULL;
    json_error_t parse_error;
    json_t *array = json_loads(json_text, 0, &parse_error);
    if (!array || !json_is_array(array)) {
        json_decref(array);
        return tc_error_runtime(err, "invalid placement report: expected a JSON array (%s)",
                                array ? "not an array" : parse_error.text);
    }

    size_t len = 0, cap = 0;
    char *out = NULL;
    size_t i;
    json_t *obj;
    json_array_foreach(array, i, obj) {
        if (!placement_text_line(obj, &out, &len, &cap)) {
            free(out);
            json_decref(array);
            return tc_error_runtime(err, "invalid placement report: entry %zu lacks a field "
                                    "or could not be formatted", i);
        }
    }
    json_decref(array);

    *text = out ? out : strdup("");
    if (!*text)
        return tc_error_runtime(err, "out of memory formatting the placement report");
    return TC_OK;
}

void tc_placement_free_all(tc_placement *pl)
{
    if (!pl)
        return;

    /* A failed binding may still have bound some threads, so the saved
     * binding is restored whenever binding was attempted. */
    struct tc_placement_state *st = pl->state;
    if (st && pl->topology) {
        if (st->cpu_saved)
            hwloc_set_cpubind(pl->topology, st->saved_cpuset, HWLOC_CPUBIND_PROCESS);
        if (st->memory_saved)
            hwloc_set_membind(pl->topology, st->saved_nodeset, st->saved_policy,
                              HWLOC_MEMBIND_BYNODESET);
    }
    if (st) {
        hwloc_bitmap_free(st->saved_cpuset);
        hwloc_bitmap_free(st->saved_nodeset);
        free(st);
    }

    tc_placement_slot_free(&pl->slot);
    hwloc_bitmap_free(pl->node_usable);
    if (pl->topology)
        hwloc_topology_destroy(pl->topology);
    free(pl);
}
