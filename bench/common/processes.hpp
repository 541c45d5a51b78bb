// Processes the bench starts: everything started is stopped by pid, never by
// name (other people's redis-server and nginx run on this machine too).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace bench {

// Starts argv (looked up in PATH) with stdout and stderr appended to `log`
// and stdin from /dev/null; remembers the pid for kill_children_on_signal.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log);

// SIGTERM, then SIGKILL after 15 s; reaps it. A pid <= 0 is ignored.
void stop(pid_t pid);

// A child that was reaped elsewhere (see PerfRecord) is no longer ours.
void forget(pid_t pid);

bool alive(pid_t pid);

// SIGINT/SIGTERM handler: SIGTERM to every child still running, then exit.
void kill_children_on_signal(int sig);

}  // namespace bench
