/* memory.c - memory estimates and checks; see memory.h. */
#include "memory.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static size_t read_meminfo_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return SIZE_MAX;
    char line[256];
    size_t kib = SIZE_MAX;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %zu kB", &kib) == 1)
            break;
    fclose(f);
    return kib == SIZE_MAX ? SIZE_MAX : kib * 1024;
}

static size_t read_cgroup_available(void)
{
    FILE *f = fopen("/sys/fs/cgroup/memory.max", "r");
    if (!f)
        return SIZE_MAX;
    char text[64] = "";
    size_t limit = SIZE_MAX, current = 0;
    if (fgets(text, sizeof text, f) && strncmp(text, "max", 3) != 0)
        limit = strtoull(text, NULL, 10);
    fclose(f);
    if (limit == SIZE_MAX)
        return SIZE_MAX;
    f = fopen("/sys/fs/cgroup/memory.current", "r");
    if (f) {
        if (fscanf(f, "%zu", &current) != 1)
            current = 0;
        fclose(f);
    }
    return current < limit ? limit - current : 0;
}

/* Parse "123", "64M", "2G"; SIZE_MAX when TEXT is not a size. */
static size_t parse_size(const char *text)
{
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text)
        return SIZE_MAX;
    switch (*end) {
    case 'K': case 'k': v <<= 10; end++; break;
    case 'M': case 'm': v <<= 20; end++; break;
    case 'G': case 'g': v <<= 30; end++; break;
    default: break;
    }
    return *end == '\0' ? (size_t)v : SIZE_MAX;
}

size_t tc_memory_available_per_rank(MPI_Comm comm)
{
    MPI_Comm node;
    int on_node = 1;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &on_node);
    MPI_Comm_free(&node);

    size_t available = read_meminfo_available();
    size_t cgroup = read_cgroup_available();
    if (cgroup < available)
        available = cgroup;
    const char *limit = getenv("TC_MEMORY_LIMIT");
    if (limit && parse_size(limit) != SIZE_MAX)
        available = parse_size(limit);
    return available == SIZE_MAX ? SIZE_MAX : available / (size_t)on_node;
}

int tc_memory_check(MPI_Comm comm, size_t need_per_rank, const char *what, tc_error *err)
{
    size_t available = tc_memory_available_per_rank(comm);

    /* Reduce as signed 64-bit: MPICH 4.0.2 computes MPI_MIN and MPI_MAX of
     * unsigned 64-bit types as if they were signed (pmodels/mpich#6083),
     * so "no limit" (SIZE_MAX) would win a minimum. */
    long long pair[2] = { need_per_rank > LLONG_MAX ? LLONG_MAX : (long long)need_per_rank,
                          available > LLONG_MAX ? LLONG_MAX : (long long)available };
    long long worst[2];
    MPI_Allreduce(&pair[0], &worst[0], 1, MPI_LONG_LONG, MPI_MAX, comm);
    MPI_Allreduce(&pair[1], &worst[1], 1, MPI_LONG_LONG, MPI_MIN, comm);
    int nranks;
    MPI_Comm_size(comm, &nranks);
    if (worst[0] <= worst[1])
        return TC_OK;
    return tc_error_input(err, NULL, 0, 0, NULL,
                          "%s needs an estimated %.2f GiB per rank (%.2f GiB over %d ranks), "
                          "but only %.2f GiB per rank is available; use fewer workloads or "
                          "more nodes", what, worst[0] / 1073741824.0,
                          worst[0] * (double)nranks / 1073741824.0, nranks,
                          worst[1] / 1073741824.0);
}

size_t tc_memory_peak_rss(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        return 0;
    return (size_t)usage.ru_maxrss * 1024;
}

size_t tc_memory_sim_estimate(size_t n_local, size_t n_edges_local, int nranks)
{
    (void)nranks;
    /* Per workload: class id, class member entry, hop, step, two frontier
     * slots, BFS visited/parent state (16 bytes). Per API edge: the open
     * flag, the remote class looked up, and the open graph's forward and
     * reverse CSR entries (8 bytes each) plus build buffers. */
    return n_local * (4 + 8 + 2 + 1 + 16 + 16) + n_edges_local * (1 + 4 + 16 + 32);
}
