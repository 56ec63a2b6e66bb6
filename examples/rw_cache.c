/* SPDX-License-Identifier: BSD-2-Clause */
/* Example: the seed's read-heavy Cache (sync.RWMutex around a map), with
 * lfp_rwlock.
 *
 * Get, Keys and Size take the read lock, Set and Delete the write lock, as in
 * the seed. Readers of lfp_rwlock write no shared cache line while no writer
 * is active (the reader bias), so the ten readers here do not contend with
 * each other; a writer revokes the bias, waits for the readers inside, and
 * new readers wait for it (writer preference, as Go's RWMutex).
 *
 * The seed's run: 3 writers each set 50 keys "key-W-J" = "value-W-J", 10
 * readers each get 100 random keys of that set, and a size checker samples
 * Size() 20 times. The program checks itself (exit 1 otherwise): every Get
 * returns absent or exactly the value set for that key; Size() never goes
 * down (there are only sets) and never exceeds 150; Keys() at the end lists
 * the 150 keys, each once; the final size is 150. The seed's time.Sleep
 * pacing is kept short (pacing only: nothing here synchronises by time).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lfpat.h"

#define WRITERS 3
#define SETS 50
#define READERS 10
#define GETS 100
#define SLOTS 512          /* open addressing, linear probing; > 2 x 150 */
#define TEXT 24

typedef struct entry {
    char key[TEXT], value[TEXT];
    enum { FREE, USED, DELETED } state;
} entry;

typedef struct cache {
    lfp_rwlock lock;
    entry slots[SLOTS];
    int size;
} cache;

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* Under either lock: the slot holding key, or NULL. */
static entry *find(cache *c, const char *key)
{
    for (unsigned i = 0, h = hash(key); i < SLOTS; i++) {
        entry *e = &c->slots[(h + i) % SLOTS];
        if (e->state == FREE)
            return NULL;
        if (e->state == USED && strcmp(e->key, key) == 0)
            return e;
    }
    return NULL;
}

static int lock_read(cache *c) { return lfp_rwlock_rdlock(&c->lock, LFP_FOREVER, NULL); }
static int lock_write(cache *c) { return lfp_rwlock_wrlock(&c->lock, LFP_FOREVER, NULL); }

/* Get: copies the value into out (the lock is released on return). */
static bool cache_get(cache *c, const char *key, char out[TEXT])
{
    if (lock_read(c) != 0)
        abort();
    entry *e = find(c, key);
    if (e)
        memcpy(out, e->value, TEXT);
    lfp_rwlock_rdunlock(&c->lock);
    return e != NULL;
}

static void cache_set(cache *c, const char *key, const char *value)
{
    if (lock_write(c) != 0)
        abort();
    entry *e = find(c, key);
    for (unsigned i = 0, h = hash(key); !e && i < SLOTS; i++) {
        entry *s = &c->slots[(h + i) % SLOTS];
        if (s->state != USED) {
            snprintf(s->key, TEXT, "%s", key);
            s->state = USED;
            c->size++;
            e = s;
        }
    }
    if (!e)
        abort();   /* full: cannot happen with SLOTS > 150 */
    snprintf(e->value, TEXT, "%s", value);
    lfp_rwlock_wrunlock(&c->lock);
}

static void cache_delete(cache *c, const char *key)
{
    if (lock_write(c) != 0)
        abort();
    entry *e = find(c, key);
    if (e) {
        e->state = DELETED;
        c->size--;
    }
    lfp_rwlock_wrunlock(&c->lock);
}

static int cache_size(cache *c)
{
    if (lock_read(c) != 0)
        abort();
    int n = c->size;
    lfp_rwlock_rdunlock(&c->lock);
    return n;
}

/* Keys: copies up to max keys into keys; returns how many. */
static int cache_keys(cache *c, char (*keys)[TEXT], int max)
{
    if (lock_read(c) != 0)
        abort();
    int n = 0;
    for (int i = 0; i < SLOTS && n < max; i++)
        if (c->slots[i].state == USED)
            memcpy(keys[n++], c->slots[i].key, TEXT);
    lfp_rwlock_rdunlock(&c->lock);
    return n;
}

static cache the_cache;
static _Atomic int failures, found;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "rw_cache: FAILED: %s (%s)\n", what, detail);
    atomic_fetch_add(&failures, 1);
}

static void pace(long us)
{
    struct timespec ts = { 0, us * 1000 };
    nanosleep(&ts, NULL);
}

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char key[TEXT], value[TEXT];
    for (int j = 0; j < SETS; j++) {
        snprintf(key, TEXT, "key-%d-%d", id, j);
        snprintf(value, TEXT, "value-%d-%d", id, j);
        cache_set(&the_cache, key, value);
        pace(200);
    }
    return NULL;
}

static void *reader(void *arg)
{
    unsigned seed = (unsigned)(intptr_t)arg * 2654435761u + 1;
    char key[TEXT], want[TEXT], got[TEXT];
    for (int j = 0; j < GETS; j++) {
        int w = rand_r(&seed) % WRITERS, k = rand_r(&seed) % SETS;
        snprintf(key, TEXT, "key-%d-%d", w, k);
        snprintf(want, TEXT, "value-%d-%d", w, k);
        if (cache_get(&the_cache, key, got)) {
            atomic_fetch_add(&found, 1);
            if (strcmp(got, want) != 0)
                fail("a get returned another key's value", key);
        }
        pace(100);
    }
    return NULL;
}

static void *size_checker(void *arg)
{
    (void)arg;
    int last = 0;
    for (int i = 0; i < 20; i++) {
        int n = cache_size(&the_cache);
        if (n < last || n > WRITERS * SETS)
            fail("size went down or past 150", "size checker");
        last = n;
        pace(1000);
    }
    return NULL;
}

int main(void)
{
    if (lfp_rwlock_init(&the_cache.lock) != 0)
        return 1;
    pthread_t w[WRITERS], r[READERS], s;
    for (int i = 0; i < WRITERS; i++)
        pthread_create(&w[i], NULL, writer, (void *)(intptr_t)i);
    for (int i = 0; i < READERS; i++)
        pthread_create(&r[i], NULL, reader, (void *)(intptr_t)i);
    pthread_create(&s, NULL, size_checker, NULL);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    pthread_join(s, NULL);

    static char keys[WRITERS * SETS + 1][TEXT];
    int n = cache_keys(&the_cache, keys, WRITERS * SETS + 1);
    if (n != WRITERS * SETS)
        fail("Keys() does not list the 150 keys", "keys");
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(keys[i], keys[j]) == 0)
                fail("a key is listed twice", keys[i]);
    int size = cache_size(&the_cache);
    printf("rw_cache: %d gets found a value (all correct), final size %d\n",
           atomic_load(&found), size);
    if (size != WRITERS * SETS)
        fail("final size is not 150", "size");
    cache_delete(&the_cache, "key-0-0");   /* Delete, as the seed's API has */
    char got[TEXT];
    if (cache_get(&the_cache, "key-0-0", got) || cache_size(&the_cache) != size - 1)
        fail("delete", "key-0-0");
    if (lfp_rwlock_destroy(&the_cache.lock) != 0)
        fail("destroy: lock still held", "destroy");
    if (atomic_load(&failures)) {
        printf("rw_cache: %d failures\n", atomic_load(&failures));
        return 1;
    }
    printf("rw_cache: ok\n");
    return 0;
}
