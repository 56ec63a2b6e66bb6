/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/common.h"
#include "lfpat/version.h"

#include <time.h>

int64_t lfp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t lfp_after(int64_t ns)
{
    return lfp_time_add(lfp_now(), ns);
}

const char *lfp_version(void)
{
    return LFP_VERSION_STRING;
}

int lfp_version_number(void)
{
    return LFP_VERSION_NUMBER;
}
