/* SPDX-License-Identifier: BSD-2-Clause */
/* Large random-access tables on transparent huge pages where the kernel has
 * them (the reasons are in hugemem.h). */
#include "hugemem.h"

#include "lfpat/common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

static size_t mapped_len(size_t bytes) { return round_up(bytes, (size_t)sysconf(_SC_PAGESIZE)); }

void *lfp_hugemem_alloc_with_(size_t bytes, lfp_hugemem_advise_fn_ advise)
{
    if (bytes == 0)
        return NULL;
    if (bytes < LFP_HUGEMEM_PAGE_) {
        void *p = aligned_alloc(LFP_CACHELINE, round_up(bytes, LFP_CACHELINE));
        return p ? memset(p, 0, bytes) : NULL;
    }
    size_t len = mapped_len(bytes);
    if (len > SIZE_MAX - LFP_HUGEMEM_PAGE_)
        return NULL;
    /* Map the slack for alignment too, then give back what lies outside the
     * aligned range (both cuts are on page boundaries). */
    size_t span = len + LFP_HUGEMEM_PAGE_;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    char *p = (char *)round_up((uintptr_t)raw, LFP_HUGEMEM_PAGE_);
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    if (raw + span > p + len)
        munmap(p + len, (size_t)(raw + span - (p + len)));
#ifdef MADV_HUGEPAGE
    (void)advise(p, len, MADV_HUGEPAGE);   /* a hint: small pages if it fails */
#else
    (void)advise;   /* no transparent huge pages on this system */
#endif
    return p;
}

void *lfp_hugemem_alloc_(size_t bytes) { return lfp_hugemem_alloc_with_(bytes, madvise); }

void lfp_hugemem_free_(void *p, size_t bytes)
{
    if (!p)
        return;
    if (bytes < LFP_HUGEMEM_PAGE_)
        free(p);
    else
        munmap(p, mapped_len(bytes));
}
