/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/locked.h"

int lfp_locked_counter_init(lfp_locked_counter *c, int64_t v)
{
    if (!c)
        return EINVAL;
    c->value = v;
    return pthread_mutex_init(&c->lock, NULL);
}

void lfp_locked_counter_destroy(lfp_locked_counter *c)
{
    if (c)
        pthread_mutex_destroy(&c->lock);
}

int64_t lfp_locked_counter_add(lfp_locked_counter *c, int64_t d)
{
    pthread_mutex_lock(&c->lock);
    c->value = (int64_t)((uint64_t)c->value + (uint64_t)d);
    int64_t v = c->value;
    pthread_mutex_unlock(&c->lock);
    return v;
}

int64_t lfp_locked_counter_get(lfp_locked_counter *c)
{
    pthread_mutex_lock(&c->lock);
    int64_t v = c->value;
    pthread_mutex_unlock(&c->lock);
    return v;
}
