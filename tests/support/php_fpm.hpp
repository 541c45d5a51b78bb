// php-fpm for one test: a private master (Debian's php-fpm8.x, in the
// foreground) with one pool on a free loopback port, its config, pid and
// logs in the test's directory, stopped by pid.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace comet::test {

// The php-fpm binary (/usr/sbin/php-fpm*), "" when none is installed.
std::string php_fpm_binary();

class PhpFpm {
 public:
  // `env`: "NAME=value" entries given to the pool's workers (env[NAME]);
  // the workers' stderr goes to dir/php-fpm.log. Waits until the port
  // accepts; throws with the log when it does not start. `port` 0 picks a
  // free one.
  PhpFpm(const std::string& dir, std::vector<std::string> env, int port = 0);
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  Process& process() { return *process_; }
  std::string log() const;

 private:
  std::string dir_;
  int port_;
  std::unique_ptr<Process> process_;
};

}  // namespace comet::test
