/* SPDX-License-Identifier: BSD-2-Clause */
/* Negative control: message passing through PLAIN variables (the MP litmus
 * shape of stress/litmus/litmus_mp.c without atomics):
 *     T0: data = 42 ; flag = 1        T1: while (!flag) ; r = data
 * Both accesses race. ThreadSanitizer MUST report a data race here; if it
 * does not, the race detector is not checking the litmus and stress
 * programs. flag is read through a volatile pointer only so that the
 * compiler keeps re-reading it; volatile is not synchronisation. */
#include <pthread.h>
#include <stdio.h>

static int data;
static int flag;   /* deliberately not atomic */

static void *producer(void *arg)
{
    (void)arg;
    data = 42;
    flag = 1;
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    while (!*(volatile int *)&flag)
        ;
    printf("mp plain race: data=%d (expected a TSan report)\n", data);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&b, NULL, consumer, NULL);
    pthread_create(&a, NULL, producer, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
