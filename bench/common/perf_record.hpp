// System-wide perf record (all CPUs, call graphs) around one measurement, when
// --perf PREFIX is given: PREFIX.LABEL.data, one per measurement.
#pragma once

#include <sys/types.h>

#include <string>

namespace bench {

// The --perf prefix; empty: no profiling.
extern std::string g_perf_prefix;

class PerfRecord {
 public:
  // Does nothing when `prefix` is empty.
  PerfRecord(const std::string& prefix, const std::string& label);
  // Stops perf with SIGINT (it writes its data then) and waits for it.
  ~PerfRecord();
  PerfRecord(const PerfRecord&) = delete;
  PerfRecord& operator=(const PerfRecord&) = delete;

 private:
  std::string file_;
  pid_t pid_ = -1;
};

}  // namespace bench
