// What /proc tells about a process (memory, CPU, children) and the machine
// (steal time).
#pragma once

#include <vector>

namespace bench {

// VmRSS in KiB; -1 when the process is gone.
long rss_kib(int pid);

// utime + stime in clock ticks.
long cpu_ticks(int pid);

// CPU time of every thread of a process, in ns (the scheduler's own
// accounting: precise where utime/stime have 10 ms ticks).
double cpu_ns(int pid);

// Time the hypervisor ran something else on this VM's CPUs (steal), ms.
double steal_ms();

// Direct children (nginx's workers under its master).
std::vector<int> children_of(int pid);

}  // namespace bench
