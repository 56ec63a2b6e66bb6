/* SPDX-License-Identifier: BSD-2-Clause */
/* A user's program linking lfpat-redis: opening a server that is not there
 * fails with a code (no server is needed to check the link). */
#include <lfpat.h>
#include <lfpat/redis.h>
#include <stdio.h>

int main(void)
{
    lfp_redis *r = NULL;
    struct lfp_redis_opts opts = { 0 };
    opts.connect_timeout_ns = 100000000;
    int rc = lfp_redis_open(&r, "redis://127.0.0.1:1", &opts);
    if (rc == 0) lfp_redis_close(r);
    printf("lfpat-redis consumer: open of a closed port gave %d\n", rc);
    return 0;
}
