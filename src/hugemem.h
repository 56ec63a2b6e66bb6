/* SPDX-License-Identifier: BSD-2-Clause */
/* hugemem.h — internal: memory for a large table that is read at random
 * (lfp_keyed's slots and its twin's).
 *
 * A random access into tens of MB misses the TLB as well as the cache: with
 * 4 KiB pages 32 MB is 8192 pages, beyond the second-level TLB, so nearly
 * every access also pays a page walk (two-dimensional under a hypervisor).
 * A table of at least LFP_HUGEMEM_PAGE_ bytes is therefore mapped on its own
 * at a LFP_HUGEMEM_PAGE_-aligned address and advised MADV_HUGEPAGE, so that
 * where transparent huge pages are enabled ("always" or "madvise" in
 * /sys/kernel/mm/transparent_hugepage/enabled) each aligned 2 MiB of it can
 * be one TLB entry. The advice is a hint: where it fails (THP off or not
 * built into the kernel) the same mapping is used with small pages. Only
 * what the table covers is mapped (the alignment slack is unmapped again),
 * so it costs no memory beyond the table's own size rounded up to 4 KiB.
 * Smaller tables come from aligned_alloc (cache-line aligned).
 * The memory is zero-filled in both cases (mmap's pages; aligned_alloc's
 * are cleared). */
#ifndef LFP_SRC_HUGEMEM_H
#define LFP_SRC_HUGEMEM_H

#include <stddef.h>

#define LFP_HUGEMEM_PAGE_ ((size_t)2 << 20)   /* x86-64 and arm64 (4 KiB granule) PMD size */

/* The advice call: madvise, or a test's stand-in (one that fails checks
 * the fallback). */
typedef int (*lfp_hugemem_advise_fn_)(void *addr, size_t len, int advice);

/* `bytes` of zeroed, cache-line-aligned memory as described above; NULL if
 * it cannot be had (or bytes is 0). lfp_hugemem_alloc_ advises with madvise. */
void *lfp_hugemem_alloc_(size_t bytes);
void *lfp_hugemem_alloc_with_(size_t bytes, lfp_hugemem_advise_fn_ advise);

/* Free what lfp_hugemem_alloc_(bytes) returned (the same bytes); NULL is
 * ignored. */
void lfp_hugemem_free_(void *p, size_t bytes);

#endif
