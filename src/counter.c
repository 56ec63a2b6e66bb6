/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/counter.h"

#include <stdlib.h>
#include <unistd.h>

static unsigned round_up_pow2(unsigned v)
{
    unsigned p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

int lfp_striped_init(lfp_striped *c, unsigned cells)
{
    if (!c || cells > LFP_STRIPED_MAX_CELLS)
        return EINVAL;
    if (cells == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        cells = cpus > 2 ? (unsigned)(cpus > 2048 ? 4096 : 2 * cpus) : 4;
    }
    cells = round_up_pow2(cells);
    /* cells exclusive cells, then as many shared overflow cells. */
    lfp_striped_cell *p = aligned_alloc(LFP_CACHELINE, 2 * (size_t)cells * sizeof *p);
    if (!p)
        return ENOMEM;
    for (unsigned i = 0; i < 2 * cells; i++)
        atomic_init(&p[i].value, 0);
    c->cells = p;
    c->mask = cells - 1;
    return 0;
}

void lfp_striped_destroy(lfp_striped *c)
{
    if (!c)
        return;
    free(c->cells);
    c->cells = NULL;
    c->mask = 0;
}

int64_t lfp_striped_sum(const lfp_striped *c)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < 2 * (c->mask + 1); i++)
        /* relaxed: a counter orders nothing; each cell's value is read
         * coherently, so per-cell values never go backwards. Pairs with
         * nothing. */
        sum += (uint64_t)atomic_load_explicit(&c->cells[i].value, memory_order_relaxed);
    return (int64_t)sum;
}
