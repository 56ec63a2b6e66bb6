/* SPDX-License-Identifier: BSD-2-Clause */
/* The benchmark program: every bench/bench_*.c registers its cases from a
 * constructor; this runs them with google benchmark's command line. */
#include <pthread.h>
#include <stdio.h>

#include "shim/shim.h"

/* lfpat's primitives and their twins are used by multi-threaded programs.
 * glibc (2.34+) lets pthread_mutex_lock skip its atomic instruction while the
 * process has never had a second thread, so without this a twin's
 * single-threaded numbers would depend on whether an earlier case (or the
 * filter) happened to create threads. Start and join one thread before any
 * case runs; glibc never goes back to single-threaded mode. */
static void *nothing(void *arg) { return arg; }
static void make_process_multithreaded(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) == 0)
        pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
    fprintf(stderr,
            "note: Debian's libbenchmark is built in debug mode and says so below; the timed\n"
            "      loop is inline in its header and compiled with lfpat's release flags, so\n"
            "      the warning does not affect these timings.\n");
    make_process_multithreaded();
    return lfpb_main(argc, argv);
}
