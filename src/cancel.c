/* SPDX-License-Identifier: BSD-2-Clause */
#include "cancel_watch.h"
#include "fork.h"
#include "park.h"

#include <pthread.h>

/* One process-wide lock guards every token's links and watch list (see
 * cancel.h for why one lock). reason is atomic so readers need no lock. */
static pthread_mutex_t tree_lock = PTHREAD_MUTEX_INITIALIZER;

/* Every taker of tree_lock goes through here: the first registers the
 * atfork handlers that keep the lock usable in a child (fork.h). */
static void tree_lock_take(void)
{
    lfp_fork_register();
    pthread_mutex_lock(&tree_lock);
}

void lfp_cancel_fork_lock(void) { pthread_mutex_lock(&tree_lock); }
void lfp_cancel_fork_unlock(void) { pthread_mutex_unlock(&tree_lock); }

static void link_child(lfp_cancel *parent, lfp_cancel *c)
{
    c->parent = parent;
    c->prev_sibling = NULL;
    c->next_sibling = parent->first_child;
    if (parent->first_child)
        parent->first_child->prev_sibling = c;
    parent->first_child = c;
}

static void unlink_child(lfp_cancel *c)
{
    if (c->prev_sibling)
        c->prev_sibling->next_sibling = c->next_sibling;
    else if (c->parent)
        c->parent->first_child = c->next_sibling;
    if (c->next_sibling)
        c->next_sibling->prev_sibling = c->prev_sibling;
    c->parent = c->next_sibling = c->prev_sibling = NULL;
}

/* Fire one token: record the reason and wake its watchers. Tree lock held. */
static void fire_one(lfp_cancel *c, int reason)
{
    /* release: pairs with the acquire load in lfp_cancel_reason; publishes
     * the firer's prior writes to whoever observes the token fired. */
    atomic_store_explicit(&c->reason, reason, memory_order_release);
    for (struct lfp_cancel_watch *w = c->watches; w; w = w->next) {
        /* release: the watcher's futex compare sees the bump; its later
         * acquire of reason (above) carries the ordering. */
        atomic_fetch_add_explicit(w->word, 1, memory_order_release);
        lfp_park_wake(w->word, 0x7fffffff);
    }
}

/* Pre-order walk of the subtree under root, firing every node not yet fired.
 * A fired node's descendants are all fired already (a child created under a
 * fired parent is fired at init), so fired subtrees are skipped. Iterative, so
 * deep chains cannot overflow the stack. Tree lock held. */
static void fire_subtree(lfp_cancel *root, int reason)
{
    fire_one(root, reason);
    lfp_cancel *n = root->first_child;
    while (n) {
        bool descend = false;
        /* relaxed: reason is only written under the tree lock, which we hold. */
        if (atomic_load_explicit(&n->reason, memory_order_relaxed) == 0) {
            fire_one(n, reason);
            descend = n->first_child != NULL;
        }
        if (descend) {
            n = n->first_child;
            continue;
        }
        while (n != root && !n->next_sibling)
            n = n->parent;
        n = (n == root) ? NULL : n->next_sibling;
    }
}

int lfp_cancel_init(lfp_cancel *c, lfp_cancel *parent)
{
    if (!c || c == parent)
        return EINVAL;
    atomic_init(&c->reason, 0);
    c->parent = c->first_child = c->next_sibling = c->prev_sibling = NULL;
    c->watches = NULL;
    if (!parent)
        return 0;
    tree_lock_take();
    link_child(parent, c);
    /* relaxed: written only under the tree lock, which we hold. */
    int r = atomic_load_explicit(&parent->reason, memory_order_relaxed);
    if (r)
        fire_one(c, r);
    pthread_mutex_unlock(&tree_lock);
    return 0;
}

void lfp_cancel_destroy(lfp_cancel *c)
{
    if (!c)
        return;
    tree_lock_take();
    while (c->first_child)
        unlink_child(c->first_child);
    unlink_child(c);
    pthread_mutex_unlock(&tree_lock);
}

bool lfp_cancel_fire(lfp_cancel *c, int reason)
{
    if (!c)
        return false;
    if (reason == 0)
        reason = ECANCELED;
    tree_lock_take();
    /* relaxed: written only under the tree lock, which we hold. */
    bool first = atomic_load_explicit(&c->reason, memory_order_relaxed) == 0;
    if (first)
        fire_subtree(c, reason);
    pthread_mutex_unlock(&tree_lock);
    return first;
}

int lfp_cancel_watch(lfp_cancel *c, struct lfp_cancel_watch *w, _Atomic uint32_t *word)
{
    int rc = ECANCELED;
    tree_lock_take();
    /* relaxed: written only under the tree lock, which we hold. */
    if (atomic_load_explicit(&c->reason, memory_order_relaxed) == 0) {
        w->word = word;
        w->prev = NULL;
        w->next = c->watches;
        if (c->watches)
            c->watches->prev = w;
        c->watches = w;
        rc = 0;
    }
    pthread_mutex_unlock(&tree_lock);
    return rc;
}

void lfp_cancel_unwatch(lfp_cancel *c, struct lfp_cancel_watch *w)
{
    tree_lock_take();
    if (w->prev)
        w->prev->next = w->next;
    else
        c->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    pthread_mutex_unlock(&tree_lock);
}
