/* exchange.c - collective helpers; see exchange.h. */
#include "exchange.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int exchange_owner(const uint64_t *owner_offsets, int nranks, uint64_t gid)
{
    int lo = 0, hi = nranks - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (owner_offsets[mid] <= gid)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int tc_exchange_lookup_u32(MPI_Comm comm, const uint64_t *owner_offsets, const uint64_t *gids,
                           uint64_t n, const uint32_t *values, uint32_t *out, tc_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);

    int *send_counts = calloc((size_t)nranks, sizeof(int));
    int *recv_counts = calloc((size_t)nranks, sizeof(int));
    int *send_displs = calloc((size_t)nranks + 1, sizeof(int));
    int *recv_displs = calloc((size_t)nranks + 1, sizeof(int));
    uint64_t *requests = malloc((n ? n : 1) * sizeof(uint64_t));
    uint64_t *position = malloc((n ? n : 1) * sizeof(uint64_t));
    uint64_t *incoming = NULL;
    uint32_t *answers = NULL, *replies = NULL;
    int ok = send_counts && recv_counts && send_displs && recv_displs && requests && position &&
             n <= INT_MAX;

    /* Bucket the requests by owner, remembering where each answer goes. */
    if (ok) {
        for (uint64_t i = 0; i < n; i++)
            send_counts[exchange_owner(owner_offsets, nranks, gids[i])]++;
        for (int r = 0; r < nranks; r++)
            send_displs[r + 1] = send_displs[r] + send_counts[r];
        int *fill = calloc((size_t)nranks, sizeof(int));
        ok = fill != NULL;
        for (uint64_t i = 0; ok && i < n; i++) {
            int r = exchange_owner(owner_offsets, nranks, gids[i]);
            uint64_t slot = (uint64_t)send_displs[r] + (uint64_t)fill[r]++;
            requests[slot] = gids[i];
            position[slot] = i;
        }
        free(fill);
    }
    int ok_all = 0;
    int status;
    MPI_Allreduce(&ok, &ok_all, 1, MPI_INT, MPI_LAND, comm);
    if (!ok_all)
        goto fail;

    MPI_Alltoall(send_counts, 1, MPI_INT, recv_counts, 1, MPI_INT, comm);
    int64_t total = 0;
    for (int r = 0; r < nranks; r++) {
        recv_displs[r] = (int)total;
        total += recv_counts[r];
    }
    incoming = malloc((size_t)(total ? total : 1) * sizeof(uint64_t));
    answers = malloc((size_t)(total ? total : 1) * sizeof(uint32_t));
    replies = malloc((n ? n : 1) * sizeof(uint32_t));
    ok = incoming && answers && replies && total <= INT_MAX;
    MPI_Allreduce(&ok, &ok_all, 1, MPI_INT, MPI_LAND, comm);
    if (!ok_all)
        goto fail;

    MPI_Alltoallv(requests, send_counts, send_displs, MPI_UINT64_T, incoming, recv_counts,
                  recv_displs, MPI_UINT64_T, comm);
    uint64_t first = owner_offsets[rank];
    for (int64_t i = 0; i < total; i++)
        answers[i] = values[incoming[i] - first];
    MPI_Alltoallv(answers, recv_counts, recv_displs, MPI_UINT32_T, replies, send_counts,
                  send_displs, MPI_UINT32_T, comm);
    for (uint64_t i = 0; i < n; i++)
        out[position[i]] = replies[i];
    status = TC_OK;
    goto release;

fail:
    status = tc_error_runtime(err, "out of memory (or more than INT_MAX ids) looking up %llu "
                              "remote workloads", (unsigned long long)n);
release:
    free(send_counts);
    free(recv_counts);
    free(send_displs);
    free(recv_displs);
    free(requests);
    free(position);
    free(incoming);
    free(answers);
    free(replies);
    return status;
}

int tc_exchange_allgather_u64(MPI_Comm comm, const uint64_t *mine, uint64_t n_mine,
                              uint64_t **all, uint64_t *n_all, tc_error *err)
{
    int nranks;
    MPI_Comm_size(comm, &nranks);
    *all = NULL;
    *n_all = 0;

    long long mine_count = (long long)n_mine;
    long long *counts = malloc((size_t)nranks * sizeof *counts);
    int *icounts = malloc((size_t)nranks * sizeof *icounts);
    int *displs = malloc((size_t)nranks * sizeof *displs);
    int ok = counts && icounts && displs;
    int ok_all = 0;
    MPI_Allreduce(&ok, &ok_all, 1, MPI_INT, MPI_LAND, comm);
    if (!ok_all)
        goto fail;

    MPI_Allgather(&mine_count, 1, MPI_LONG_LONG, counts, 1, MPI_LONG_LONG, comm);
    long long total = 0;
    for (int r = 0; r < nranks; r++) {
        icounts[r] = (int)counts[r];
        displs[r] = (int)total;
        total += counts[r];
    }
    uint64_t *buffer = total <= INT_MAX ? malloc((size_t)(total ? total : 1) * sizeof *buffer)
                                        : NULL;
    ok = buffer != NULL;
    MPI_Allreduce(&ok, &ok_all, 1, MPI_INT, MPI_LAND, comm);
    if (!ok_all) {
        free(buffer);
        goto fail;
    }
    MPI_Allgatherv(mine, (int)n_mine, MPI_UINT64_T, buffer, icounts, displs, MPI_UINT64_T, comm);
    *all = buffer;
    *n_all = (uint64_t)total;
    free(counts);
    free(icounts);
    free(displs);
    return TC_OK;

fail:
    free(counts);
    free(icounts);
    free(displs);
    return tc_error_runtime(err, "out of memory (or more than INT_MAX words) gathering %llu words",
                            (unsigned long long)n_mine);
}
