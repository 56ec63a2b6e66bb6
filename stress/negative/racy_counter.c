/* SPDX-License-Identifier: BSD-2-Clause */
/* Negative control: a plain (non-atomic) counter incremented by two threads.
 * ThreadSanitizer MUST report this data race; scripts/test fails if it does
 * not, because then the race detector is not watching the other programs. */
#include <pthread.h>
#include <stdio.h>

static long counter;   /* deliberately not atomic */

static void *bump(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++)
        counter++;
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, bump, NULL);
    pthread_create(&b, NULL, bump, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("racy counter: %ld (expected a TSan report above)\n", counter);
    return 0;
}
