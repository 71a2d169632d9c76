/*
 * placement.h - NUMA-aware placement of ranks with hwloc: which cores and
 * which NUMA node each rank uses, the binding, and memory bound to that node.
 *
 * Every rank loads the hardware topology with hwloc, finds the ranks that
 * share its node (the ranks of one host, or a virtual node of consecutive
 * ranks), and takes its own share of the node's CPUs by the rule below.
 *
 * Assignment rule, for the L ranks of one node (node-local ranks 0 .. L-1,
 * ordered by rank):
 *  1. The usable cores are the cores with at least one usable PU. A core's
 *     NUMA node is the first NUMA node attached to its nearest ancestor that
 *     has memory. The C usable cores are listed by NUMA node logical index,
 *     then by core logical index. Topologies without Core objects use PUs
 *     as cores.
 *  2. Node-local rank i takes the block of list positions
 *     [floor(i*C/L), max(floor((i+1)*C/L), floor(i*C/L)+1)). Its NUMA node is
 *     the one with the most positions in that block, the lowest logical
 *     index on a tie. Blocks advance with i, so consecutive ranks share a
 *     NUMA node, and each NUMA node receives a number of ranks roughly
 *     proportional to its usable cores.
 *  3. The usable cores of a NUMA node (Cn of them) are divided among the Rn
 *     ranks assigned to it: its k-th rank (0-based, in rank order) gets
 *     positions [floor(k*Cn/Rn), max(floor((k+1)*Cn/Rn), floor(k*Cn/Rn)+1))
 *     of the node's own list. With L <= C, no two ranks share a core. With
 *     more ranks than cores, ranks share cores as evenly as the floors allow.
 *  4. A rank is bound to the usable PUs of its cores, never to a PU outside
 *     the usable set.
 *
 * The usable PUs of a node are the union of each rank's usable PUs. A
 * rank's usable PUs start as the topology's allowed cpuset
 * (hwloc_topology_get_allowed_cpuset, which follows the cgroup cpuset).
 * When the topology is this machine, they are narrowed to the process's
 * current CPU binding (set by taskset or by the launcher). When the `cpus`
 * option is given, they are narrowed to it as well.
 *
 * A binding that the system rejects is never an error. The placement
 * records it (cpu_bound or memory_bound false, and a warning) for the
 * caller to print.
 */
#ifndef TC_PLACEMENT_H
#define TC_PLACEMENT_H

#include <hwloc.h>
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Arrays of at least this many bytes are aligned to it and advised with
 * madvise(MADV_HUGEPAGE) by tc_placement_alloc (the size of a transparent
 * huge page on x86-64). */
#define TC_PLACEMENT_HUGE_PAGE_BYTES ((size_t)2 << 20)

/* Settings of tc_placement_init. A zeroed struct (or a NULL pointer) means:
 * discover the machine, real nodes unless TC_VIRTUAL_NODES is set, bind
 * unless TC_NO_BIND=1. */
typedef struct tc_placement_options {
    /* hwloc synthetic description such as "package:2 numa:2 core:2 pu:1".
     * NULL: HWLOC_SYNTHETIC when set, else HWLOC_XMLFILE when set, else
     * this machine, in hwloc's order. An invalid value of either variable
     * is an input error, where hwloc alone would silently discover this
     * machine instead. Borrowed. */
    const char *synthetic;
    /* PUs to restrict the usable set to, by OS index in hwloc list syntax
     * ("0-3,6"), as taskset -c takes them. NULL: no restriction. Borrowed. */
    const char *cpus;
    /* > 0: split the communicator into this many virtual nodes of
     * consecutive ranks. 0: the value of TC_VIRTUAL_NODES when set, real
     * nodes otherwise. */
    int virtual_nodes;
    /* true: do not bind CPUs or memory. TC_NO_BIND=1 has the same effect. */
    bool no_bind;
} tc_placement_options;

/* Whether binding was attempted, and if not, why. */
enum tc_placement_bind {
    TC_PLACEMENT_BIND_ATTEMPTED, /* see cpu_bound and memory_bound for the outcome */
    TC_PLACEMENT_BIND_DISABLED,  /* no_bind option or TC_NO_BIND=1 */
    TC_PLACEMENT_BIND_SKIPPED    /* the topology is not this machine (synthetic or XML) */
};

/* One rank's share of a node. The bitmaps are owned by the slot. */
typedef struct tc_placement_slot {
    unsigned numa_logical;   /* NUMA node, hwloc logical index */
    unsigned numa_os;        /* NUMA node, OS index (node N of numactl and /sys) */
    hwloc_bitmap_t cores;    /* logical indexes of the assigned cores */
    hwloc_bitmap_t cpuset;   /* usable PUs of those cores, by OS index */
    hwloc_bitmap_t nodeset;  /* the NUMA node, for memory binding */
} tc_placement_slot;

struct tc_placement_state;

/* A rank's placement. Fields are read-only for callers. */
typedef struct tc_placement {
    hwloc_topology_t topology;       /* owned */
    char host[MPI_MAX_PROCESSOR_NAME]; /* MPI_Get_processor_name */
    char source[256];                /* where the topology came from: "machine",
                                      * "synthetic: DESCRIPTION" or "xml: FILE" */
    bool this_system;                /* the topology describes this machine */
    bool virtual_nodes;              /* nodes are virtual, not hosts */
    int node;                        /* 0-based node index: hosts numbered by their
                                      * lowest rank, or the virtual node */
    int n_nodes;
    int node_rank;                   /* rank among the node's ranks, in rank order */
    int node_size;                   /* ranks on the node */
    hwloc_bitmap_t node_usable;      /* usable PUs of the node (OS indexes), owned */
    tc_placement_slot slot;          /* this rank's NUMA node and cores */
    enum tc_placement_bind bind;
    bool cpu_bound;                  /* hwloc_set_cpubind to slot.cpuset succeeded */
    bool memory_bound;               /* hwloc_set_membind to slot.nodeset succeeded */
    char warning[512];               /* rejected bindings, "" when none */
    struct tc_placement_state *state; /* private: saved binding, allocation warnings */
} tc_placement;

/* Discover the topology, find the node's ranks, assign this rank's NUMA
 * node and cores, and bind unless binding is disabled or the topology is
 * not this machine. Binding sets the CPU binding of all the process's
 * threads to slot.cpuset and then, if that held, the memory policy of the
 * calling thread (inherited by threads it creates later) to slot.nodeset.
 * OPT may be NULL. On success *OUT is a new placement for the caller to
 * free with tc_placement_free_all. The ranks of one node can build their
 * communicator with MPI_Comm_split(COMM, node, node_rank, ...).
 *
 * Returns TC_ERR_INPUT for an invalid synthetic description, cpus list or
 * virtual_nodes option, and for an invalid value of TC_VIRTUAL_NODES,
 * TC_NO_BIND, HWLOC_SYNTHETIC or HWLOC_XMLFILE. Also TC_ERR_INPUT: more
 * virtual nodes than ranks, a virtual node whose ranks are on different
 * hosts, or a usable set without a PU of the topology. Returns
 * TC_ERR_RUNTIME when hwloc or an allocation fails. Collective over COMM.
 * The ranks agree on failure, and then *OUT is NULL on every rank. */
int tc_placement_init(MPI_Comm comm, const tc_placement_options *opt, tc_placement **out,
                      tc_error *err);

/* Compute node-local rank NODE_RANK's slot among NODE_SIZE ranks by the
 * assignment rule, over the PUs of USABLE (OS indexes). SLOT's bitmaps are
 * allocated here; free them with tc_placement_slot_free, also after a
 * failure. Returns TC_ERR_INPUT when USABLE contains no PU of TOPOLOGY,
 * and TC_ERR_RUNTIME on allocation failure or ranks out of range. Local. */
int tc_placement_plan(hwloc_topology_t topology, hwloc_const_cpuset_t usable, int node_size,
                      int node_rank, tc_placement_slot *slot, tc_error *err);

/* Free SLOT's bitmaps, not SLOT itself. Accepts a zeroed slot. */
void tc_placement_slot_free(tc_placement_slot *slot);

/* Allocate BYTES of zero-filled, page-aligned memory for a large array.
 * When PL's memory binding succeeded, the pages are bound to PL's NUMA node
 * with HWLOC_MEMBIND_BIND without STRICT. hwloc 2.9 implements that on
 * Linux as MPOL_PREFERRED_MANY (MPOL_PREFERRED on older kernels), so pages
 * spill to other nodes when the node is full instead of failing. A rejected
 * binding leaves the pages unbound and records a warning in PL, which
 * tc_placement_report shows. Arrays of TC_PLACEMENT_HUGE_PAGE_BYTES or more
 * are aligned to that size and advised with MADV_HUGEPAGE. PL may be NULL
 * (no binding). Returns NULL with errno set when the mapping fails or BYTES
 * is 0. Local. */
void *tc_placement_alloc(const tc_placement *pl, size_t bytes);

/* Release P from tc_placement_alloc; BYTES must be the size it was
 * allocated with. P and PL may be NULL (PL is not needed to unmap, so
 * memory may outlive its placement). Local. */
void tc_placement_free(const tc_placement *pl, void *p, size_t bytes);

/* Gather every rank's placement to rank 0 of COMM. Rank 0 gets a JSON
 * array text, one object per rank in rank order, with the keys rank, host,
 * node, virtual_node, node_rank, node_size, topology (the source field),
 * numa (OS index), cores
 * (logical indexes, list syntax "0-1"), pus (OS indexes), bind
 * ("attempted", "disabled" or "skipped"), cpu_bound, memory_bound and
 * warning (null when none). Other ranks get NULL. The caller frees the text
 * with free(). Collective; ranks agree on failure. */
int tc_placement_report(const tc_placement *pl, MPI_Comm comm, char **json_text, tc_error *err);

/* Format the JSON text of tc_placement_report as one line per rank for
 * stderr. *TEXT is a new string for free(). Returns TC_ERR_RUNTIME when
 * JSON_TEXT is not such a report. Local. */
int tc_placement_report_text(const char *json_text, char **text, tc_error *err);

/* Restore the CPU and memory binding the process had before
 * tc_placement_init, then free PL. Memory from tc_placement_alloc stays
 * valid. PL may be NULL. Local. */
void tc_placement_free_all(tc_placement *pl);

#endif
