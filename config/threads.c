/*
 * The default number of worker threads: from the CPUs this process may run
 * on, one left for everything that is not a worker (see
 * cfg_default_threads in config.h and README's `threads`).
 */
#define _GNU_SOURCE   /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <unistd.h>

#include "config.h"

unsigned cfg_default_threads(long ncpus)
{
    if (ncpus <= 2)
        return 1;
    if (ncpus > 256)   /* the setting's bound */
        return 256;
    return (unsigned)(ncpus - 1);
}

long cfg_usable_cpus(void)
{
    cpu_set_t set;
    /* taskset / cpuset (docker --cpuset-cpus) shrink the mask; a CPU quota
     * (docker --cpus) does not, as README says */
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    return sysconf(_SC_NPROCESSORS_ONLN);
}
