/* SPDX-License-Identifier: BSD-2-Clause */
/* Read-heavy cache as a copy-on-write lfp_snap — the Mutex article's Cache
 * (Get/Set/Delete/Keys under RLock/Lock), done with RCU-style versions.
 *
 * The map is an immutable sorted array of (key, value) pairs. Get and Keys
 * open a read section and binary-search / copy the current version: no lock,
 * no shared write. Set and Delete are lfp_snap_update: copy the current
 * array with the change, publish it unless another writer came first (then
 * retry on the newer one), and free the old array once no reader can see it.
 *
 * The seed's run: 3 writers x 50 sets of their own keys (150 keys in all),
 * 10 readers x 100 gets of random keys. Checked: every get returns absent or
 * a value that was set for that key; the final size is 150; Keys lists them
 * sorted; a Delete removes exactly one; every retired array was freed once
 * (freed == published) and every array allocated was freed (allocs ==
 * frees after destroy; ASan checks the reads). Exits non-zero if any of that does not hold. */
#define _POSIX_C_SOURCE 200809L   /* rand_r */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lfpat.h"

typedef struct entry { int key; int value; } entry;
typedef struct map { size_t n; entry e[]; } map;   /* sorted by key, immutable once published */

typedef struct cache { lfp_snap snap; } cache;

static atomic_int allocs, frees, failures;

static void map_free(void *m, void *arg)
{
    (void)arg;
    atomic_fetch_add(&frees, 1);
    free(m);
}

static map *map_new(size_t n)
{
    map *m = malloc(sizeof *m + n * sizeof m->e[0]);
    if (m) {
        m->n = n;
        atomic_fetch_add(&allocs, 1);
    }
    return m;
}

/* Index of key in m, or of where it would go (*found says which). */
static size_t map_find(const map *m, int key, bool *found)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->e[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < m->n && m->e[lo].key == key;
    return lo;
}

static int cache_init(cache *c)
{
    map *m = map_new(0);
    return m ? lfp_snap_init(&c->snap, m, map_free, NULL) : ENOMEM;
}

/* Get: 0 and *value, or ENOENT. */
static int cache_get(cache *c, int key, int *value)
{
    const map *m = lfp_snap_enter(&c->snap);
    bool found;
    size_t i = map_find(m, key, &found);
    if (found)
        *value = m->e[i].value;
    lfp_snap_leave(&c->snap);
    return found ? 0 : ENOENT;
}

struct change { int key, value; bool del; };

/* The copy step of Set and Delete (runs inside a read section). */
static int apply(const void *cur, void **next, void *arg)
{
    const map *m = cur;
    const struct change *ch = arg;
    bool found;
    size_t i = map_find(m, ch->key, &found);
    if (ch->del && !found)
        return ENOENT;   /* nothing to publish */
    size_t n = m->n + (ch->del ? -1 : !found);
    map *nm = map_new(n);
    if (!nm)
        return ENOMEM;
    memcpy(nm->e, m->e, i * sizeof m->e[0]);
    if (ch->del) {
        memcpy(nm->e + i, m->e + i + 1, (m->n - i - 1) * sizeof m->e[0]);
    } else {
        nm->e[i] = (entry){ ch->key, ch->value };
        size_t rest = m->n - i - found;
        memcpy(nm->e + i + 1, m->e + i + found, rest * sizeof m->e[0]);
    }
    *next = nm;
    return 0;
}

static int cache_set(cache *c, int key, int value)
{
    struct change ch = { key, value, false };
    return lfp_snap_update(&c->snap, apply, &ch, LFP_FOREVER, NULL);
}

static int cache_delete(cache *c, int key)
{
    struct change ch = { key, 0, true };
    return lfp_snap_update(&c->snap, apply, &ch, LFP_FOREVER, NULL);
}

/* Keys: a sorted copy (caller frees); *n gets the count. */
static int *cache_keys(cache *c, size_t *n)
{
    const map *m = lfp_snap_enter(&c->snap);
    int *keys = malloc((m->n ? m->n : 1) * sizeof *keys);
    *n = m->n;
    for (size_t i = 0; keys && i < m->n; i++)
        keys[i] = m->e[i].key;
    lfp_snap_leave(&c->snap);
    return keys;
}

/* ------------------------------------------------------------ the seed's run */

enum { WRITERS = 3, SETS = 50, READERS = 10, GETS = 100, KEYS = WRITERS * SETS };

static cache the_cache;
static atomic_int updates;

static int value_for(int key, int round) { return key * 1000 + round; }

static void *writer(void *arg)
{
    int w = (int)(intptr_t)arg;
    for (int i = 0; i < SETS; i++) {
        int key = w * SETS + i;
        if (cache_set(&the_cache, key, value_for(key, 1)) != 0)
            atomic_fetch_add(&failures, 1);
        else
            atomic_fetch_add(&updates, 1);
    }
    return NULL;
}

static void *reader(void *arg)
{
    unsigned seed = (unsigned)(intptr_t)arg * 2654435761u + 1;
    for (int i = 0; i < GETS; i++) {
        int key = (int)(rand_r(&seed) % KEYS), v;
        int rc = cache_get(&the_cache, key, &v);
        if (rc == 0 && v != value_for(key, 1)) {
            fprintf(stderr, "get(%d) = %d: never set for that key\n", key, v);
            atomic_fetch_add(&failures, 1);
        } else if (rc != 0 && rc != ENOENT) {
            atomic_fetch_add(&failures, 1);
        }
    }
    return NULL;
}

int main(void)
{
    if (cache_init(&the_cache) != 0)
        return 1;
    pthread_t t[WRITERS + READERS];
    for (int i = 0; i < WRITERS; i++)
        pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i);
    for (int i = 0; i < READERS; i++)
        pthread_create(&t[WRITERS + i], NULL, reader, (void *)(intptr_t)i);
    for (int i = 0; i < WRITERS + READERS; i++)
        pthread_join(t[i], NULL);

    size_t n;
    int *keys = cache_keys(&the_cache, &n);
    int ok = keys && n == KEYS;
    for (size_t i = 0; ok && i < n; i++)
        ok = keys[i] == (int)i;   /* sorted, each key once */
    free(keys);
    printf("cache: %zu keys after %d writers x %d sets (want %d): %s\n", n, WRITERS, SETS, KEYS,
           ok ? "ok" : "WRONG");

    struct lfp_snap_stats st;
    lfp_snap_stats(&the_cache.snap, &st);
    uint64_t before = st.published;
    ok &= cache_delete(&the_cache, 7) == 0 && cache_delete(&the_cache, 7) == ENOENT;
    int v;
    ok &= cache_get(&the_cache, 7, &v) == ENOENT && cache_get(&the_cache, 8, &v) == 0;
    keys = cache_keys(&the_cache, &n);
    free(keys);
    lfp_snap_stats(&the_cache.snap, &st);
    ok &= n == KEYS - 1 && st.published == before + 1;
    printf("cache: delete(7) removed one key (now %zu), a second delete(7) -> ENOENT\n", n);

    /* Every update retired one array, freed once its readers left (the
     * copies that lost a race were freed at once, never published). */
    uint64_t upd = (uint64_t)atomic_load(&updates) + 1;   /* + the delete */
    ok &= st.published == upd && st.freed == upd && st.pending == 0;
    printf("cache: %llu updates, %llu retired arrays freed, %d copies lost a race\n",
           (unsigned long long)upd, (unsigned long long)st.freed,
           atomic_load(&frees) - (int)st.freed);
    lfp_snap_destroy(&the_cache.snap);
    ok &= atomic_load(&failures) == 0 && atomic_load(&frees) == atomic_load(&allocs);
    printf("cache: %s\n", ok ? "all checks passed" : "FAILED");
    return ok ? 0 : 1;
}
