/* Where the threads of a parallel region run.
 *
 * A thread of OpenMP's team sleeps between regions, and the scheduler wakes it on the CPU of the
 * thread that woke it (the caller's) when no CPU is idle: with another busy process on the
 * machine, the caller and its worker then share one core while the other process has the other,
 * and two threads run no faster than one. So, while a region of conv1dt's kernels runs, each of
 * its threads t >= 1 that runs on another CPU than the t-th after the caller's (among those the
 * caller may run on) is held on that one (conv1dt_team_join, by the thread itself, at its first
 * work item: one system call where the scheduler put it wrong, none where it did not), and the
 * caller lets them go when the region is done (conv1dt_team_end: each held worker's CPUs back
 * to the caller's). The caller is never moved. Only on Linux (sched_setaffinity on a thread),
 * and only where conv1dt_team_place is set: at import, unless the user placed OpenMP's threads
 * (OMP_PROC_BIND, OMP_PLACES, GOMP_CPU_AFFINITY) or set CONV1DT_PLACE=0
 * (conv1dt/_runtime/threads.py).
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <string.h>

#include "kernels.h"

#if defined(__linux__)
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__linux__) && defined(CPU_ISSET) && defined(SYS_gettid)
#define CONV1DT_PLACE 1
_Static_assert(sizeof(cpu_set_t) <= sizeof(((struct conv1dt_team *)0)->mask),
               "conv1dt_team's mask holds a cpu_set_t");
#else
#define CONV1DT_PLACE 0
#endif

int conv1dt_team_place = 0;

void conv1dt_team_begin(struct conv1dt_team *team, int threads)
{
    team->on = 0;
#if CONV1DT_PLACE
    if (!conv1dt_team_place || threads < 2)
        return;
    cpu_set_t set;
    int cpu = sched_getcpu();
    if (cpu < 0 || sched_getaffinity(0, sizeof set, &set) != 0 || !CPU_ISSET(cpu, &set))
        return;
    int count = CPU_COUNT(&set);
    if (count < 2)
        return;
    int list[CONV1DT_TEAM_MAX], n = 0;    /* the CPUs after the caller's, cyclically */
    for (int c = cpu + 1; n < CONV1DT_TEAM_MAX - 1 && n < count - 1; ++c) {
        if (c == CPU_SETSIZE)
            c = 0;
        if (CPU_ISSET(c, &set))
            list[n++] = c;
    }
    for (int t = 0; t < CONV1DT_TEAM_MAX; ++t) {
        team->cpu[t] = t > 0 && t < threads && t <= n ? list[t - 1] : -1;
        team->tid[t] = 0;
    }
    memcpy(team->mask, &set, sizeof set);
    team->first = cpu;
    team->on = 1;
#else
    (void)threads;
#endif
}

void conv1dt_team_join(struct conv1dt_team *team, int t)
{
#if CONV1DT_PLACE
    if (team->on && t > 0 && t < CONV1DT_TEAM_MAX && team->cpu[t] >= 0 && team->tid[t] == 0) {
        if (sched_getcpu() == team->cpu[t]) {    /* where it should be (a quiet machine) */
            team->tid[t] = -1;
            return;
        }
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(team->cpu[t], &one);
        long tid = syscall(SYS_gettid);
        if (sched_setaffinity(0, sizeof one, &one) == 0)
            team->tid[t] = (int)tid;
        else
            team->tid[t] = -1;       /* not held: nothing to let go */
    }
#else
    (void)team;
    (void)t;
#endif
}

void conv1dt_team_end(struct conv1dt_team *team)
{
#if CONV1DT_PLACE
    if (!team->on)
        return;
    cpu_set_t set;
    memcpy(&set, team->mask, sizeof set);
    for (int t = 1; t < CONV1DT_TEAM_MAX; ++t)
        if (team->tid[t] > 0)
            sched_setaffinity(team->tid[t], sizeof set, &set);
    team->on = 0;
#else
    (void)team;
#endif
}

int conv1dt_current_cpu(void)
{
#if CONV1DT_PLACE
    return sched_getcpu();
#else
    return -1;
#endif
}
