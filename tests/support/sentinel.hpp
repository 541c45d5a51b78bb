// A private redis-sentinel for one test, on a free loopback port, watching
// one master under the name "m" (quorum 1, short timeouts so that a
// failover takes a second or two). Its config file lives in its directory
// (Sentinel rewrites it).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

namespace comet::test {

class Sentinel {
 public:
  static constexpr const char* kMaster = "m";
  // Starts redis-sentinel monitoring 127.0.0.1:master_port and waits until
  // it names the master. With a `password`, the sentinel requires it
  // (requirepass) from its clients.
  Sentinel(std::string dir, int master_port, std::string password = "");
  ~Sentinel();
  int port() const { return port_; }
  Process& process() { return *process_; }
  // The master's port as this sentinel names it now; nullopt when it
  // cannot say.
  std::optional<int> master_port();
  // Waits (bounded) until the sentinel knows `n` replicas of the master in
  // good standing (candidates for a failover).
  bool wait_replicas(int n, std::chrono::milliseconds timeout);
  // SENTINEL FAILOVER m; throws when refused.
  void failover();
  void stop();

 private:
  // A connection to the sentinel, authenticated when it needs it.
  std::unique_ptr<RespClient> client();
  std::string dir_;
  std::string password_;
  int port_;
  std::unique_ptr<Process> process_;
};

}  // namespace comet::test
