/*
 * mpi_test.h - run a cmocka group on every rank of MPI_COMM_WORLD.
 *
 * Only rank 0 prints cmocka's report (other ranks' stdout and stderr go to
 * /dev/null), so the summary lines are counted once.
 * A failure on another rank still reaches it: the failure counts are
 * reduced and rank 0 prints an extra FAILED line for failures it did not
 * see itself. Include after <cmocka.h>.
 */
#ifndef TC_MPI_TEST_H
#define TC_MPI_TEST_H

#include <mpi.h>
#include <stdio.h>

#define tc_test_run_mpi(tests) tc_test_run_mpi_n((tests), sizeof(tests) / sizeof((tests)[0]))

static inline int tc_test_run_mpi_n(const struct CMUnitTest *tests, size_t n)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != 0) {
        fflush(stdout);
        fflush(stderr);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            return 1;
    }
    int failed = _cmocka_run_group_tests("tests", tests, n, NULL, NULL);
    int worst = 0;
    MPI_Allreduce(&failed, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0 && worst > failed) {
        printf("[  FAILED  ] %d test(s) failed on another rank (run that rank alone to see)\n",
               worst - failed);
        failed = worst;
    }
    return failed;
}

#endif
