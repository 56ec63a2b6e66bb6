/* SPDX-License-Identifier: BSD-2-Clause */
/* The one rule for bad pointers: every int-returning public call returns
 * EINVAL for a NULL object or out pointer, and never crashes. Each call of
 * every public header (the list is generated from the headers, so a new
 * call is probed without anyone remembering to) runs with NULL pointers (and numbers 1)
 * in a forked child, so a crash is reported as the call's, not the test's. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "null_probe.h"

int main(void)
{
    int checked = 0, failures = 0;
    for (size_t i = 0; null_probe_names[i] != NULL; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            alarm(10);   /* a call that blocks on NULL is a failure too */
            int rc = null_probe_call(i);
            _exit(rc == EINVAL ? 0 : 100 + (rc & 0x7f));
        }
        int st = 0;
        if (waitpid(pid, &st, 0) < 0) { perror("waitpid"); return 1; }
        checked++;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            continue;
        failures++;
        if (WIFSIGNALED(st))
            printf("%s(NULL...): killed by signal %s\n", null_probe_names[i],
                   strsignal(WTERMSIG(st)));
        else if (WEXITSTATUS(st) >= 100)
            printf("%s(NULL...): returned %d (%s), not EINVAL\n", null_probe_names[i],
                   WEXITSTATUS(st) - 100, strerror(WEXITSTATUS(st) - 100));
        else
            printf("%s(NULL...): child exited %d (sanitizer report?)\n",
                   null_probe_names[i], WEXITSTATUS(st));
    }
    printf("null_probe: %d checks, %d failures\n", checked, failures);
    return failures ? 1 : 0;
}
