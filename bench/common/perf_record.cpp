#include "bench/common/perf_record.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "bench/common/processes.hpp"

namespace bench {

std::string g_perf_prefix;

PerfRecord::PerfRecord(const std::string& prefix, const std::string& label) {
  if (prefix.empty()) return;
  file_ = prefix + "." + label + ".data";
  pid_ = spawn({"perf", "record", "-a", "-g", "-F", "2999", "-o", file_}, file_ + ".log");
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // perf attaches
}

PerfRecord::~PerfRecord() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGINT);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  forget(pid_);
  std::fprintf(stderr, "perf data: %s\n", file_.c_str());
}

}  // namespace bench
