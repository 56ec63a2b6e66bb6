/* SPDX-License-Identifier: BSD-2-Clause */
/* nomembarrier.h — test helper: run a group of tests in a forked child
 * whose membarrier(2) a seccomp filter makes fail with ENOSYS, as on a
 * kernel without it. lfpat asks for membarrier once per process (the first
 * lfp_ec_init_asym, lfp_snap_init, ...), so call this before anything in
 * the parent does: the child then takes every fallback through the
 * library's own init paths, not through white-box switches. */
#ifndef LFP_TESTS_NOMEMBARRIER_H
#define LFP_TESTS_NOMEMBARRIER_H

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* membarrier(2) fails with ENOSYS from now on, in this process. */
static inline void deny_membarrier(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_membarrier, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("seccomp");
        exit(1);
    }
}

/* Run group() in a child without membarrier; its exit status (group's
 * result, 0 when every test passed), or 1 if the child did not exit. */
static inline int run_without_membarrier(int (*group)(void))
{
    fflush(NULL);   /* nothing buffered is printed twice */
    pid_t pid = fork();
    if (pid == 0) {
        deny_membarrier();
        exit(group());
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return 1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

#endif
