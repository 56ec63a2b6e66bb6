/* The benchmark program: every bench/bench_*.c registers its cases from a
 * constructor; this runs them with google benchmark's command line. */
#include <stdio.h>

#include "shim/shim.h"

int main(int argc, char **argv)
{
    fprintf(stderr,
            "note: Debian's libbenchmark is built in debug mode and says so below; the timed\n"
            "      loop is inline in its header and compiled with lfpat's release flags, so\n"
            "      the warning does not affect these timings.\n");
    return lfpb_main(argc, argv);
}
