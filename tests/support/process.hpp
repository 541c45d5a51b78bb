// A child process started by a test and stopped by it, by pid.
//
// stdout goes to <dir>/<name>.out and stderr to <dir>/<name>.err; stdin is
// /dev/null. The child gets its own process group (so a forced stop also
// reaches the workers it forked, e.g. nginx's) and dies with the test
// process (PR_SET_PDEATHSIG). The destructor stops it: SIGTERM, a bounded
// wait, then SIGKILL to its group.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace comet::test {

struct ProcessOptions {
  // Extra environment, "NAME=value"; overrides inherited variables.
  std::vector<std::string> env;
  // Directory for the .out/.err files (required).
  std::string log_dir;
  // Base name of the log files; defaults to the basename of argv[0].
  std::string name;
  // Working directory of the child; empty = inherit.
  std::string cwd;
  // Signal the destructor sends first.
  int stop_signal = 15;  // SIGTERM
  // How long the destructor waits after stop_signal before SIGKILL.
  std::chrono::milliseconds stop_timeout{5000};
};

class Process {
 public:
  // fork + execvp(args[0], args). Throws when fork fails; when exec fails
  // the child exits 127 and its .err says why.
  Process(std::vector<std::string> args, ProcessOptions options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();  // reaps if it exited
  void signal(int sig);

  // Waits (polling every 10 ms) up to timeout for the process to exit.
  // Returns the exit code when it exited normally, 128 + signal number when
  // a signal killed it, nullopt when it is still running at the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  // Stops the process now (stop_signal, bounded wait, SIGKILL to the group)
  // and returns its exit status as wait_exit does.
  std::optional<int> stop();

  // What the process wrote so far.
  std::string stdout_text() const;
  std::string stderr_text() const;
  // stdout then stderr, labelled; for failure messages.
  std::string output() const;
  const std::string& stdout_path() const { return out_path_; }
  const std::string& stderr_path() const { return err_path_; }
  const std::string& name() const { return name_; }

 private:
  bool reap(bool block);

  std::vector<std::string> args_;
  ProcessOptions options_;
  std::string name_;
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs a command to completion (bounded); returns {exit status, stdout}.
// Throws when it does not finish in time (after killing it).
struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};
RunResult run(std::vector<std::string> args, const std::string& log_dir,
              std::chrono::milliseconds timeout, std::vector<std::string> env = {});

}  // namespace comet::test
