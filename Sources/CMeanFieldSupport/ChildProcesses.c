// Process lifetime shims for sweeps (Sources/MeanField/Sweeps/SweepRunner.swift): a child run that
// ends with its parent, and a signal-safe list of child processes to forward a stop signal to.
#define _GNU_SOURCE
#include "CMeanFieldSupport.h"
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/types.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

int mf_set_parent_death_signal(int signal) {
#if defined(__linux__)
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL) == 0 ? 0 : -1;
#else
    (void)signal;
    errno = ENOSYS;
    return -1;
#endif
}

// Slots holding the pids of running children (0: free). Lock-free, so that a signal handler can
// walk them while the main thread adds and removes.
#define MF_CHILD_SLOTS 1024
static _Atomic int child_pids[MF_CHILD_SLOTS];

int mf_children_add(int pid) {
    if (pid <= 0) return -1;
    for (int slot = 0; slot < MF_CHILD_SLOTS; slot++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&child_pids[slot], &expected, pid)) return 0;
    }
    return -1;
}

void mf_children_remove(int pid) {
    for (int slot = 0; slot < MF_CHILD_SLOTS; slot++) {
        int expected = pid;
        atomic_compare_exchange_strong(&child_pids[slot], &expected, 0);
    }
}

int mf_children_signal(int signal) {
    int sent = 0;
    for (int slot = 0; slot < MF_CHILD_SLOTS; slot++) {
        int pid = atomic_load(&child_pids[slot]);
        if (pid > 0 && kill((pid_t)pid, signal) == 0) sent++;
    }
    return sent;
}
