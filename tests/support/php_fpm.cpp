#include "tests/support/php_fpm.hpp"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {

std::string php_fpm_binary() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/sbin", ec)) {
    const std::string name = entry.path().filename();
    if (name.rfind("php-fpm", 0) == 0) return entry.path();
  }
  return "";
}

PhpFpm::PhpFpm(const std::string& dir, std::vector<std::string> env, int port)
    : dir_(dir), port_(port ? port : free_tcp_port()) {
  const std::string binary = php_fpm_binary();
  if (binary.empty()) throw std::runtime_error("php-fpm is not installed");
  const bool root = ::geteuid() == 0;
  std::string conf =
      "[global]\n"
      "pid = " +
      dir +
      "/php-fpm.pid\n"
      "error_log = " +
      dir +
      "/php-fpm.log\n"
      "daemonize = no\n"
      "[app]\n"
      "listen = " +
      address() +
      "\n"
      "listen.allowed_clients = 127.0.0.1\n"
      "pm = static\n"
      "pm.max_children = 4\n"
      "catch_workers_output = yes\n"
      "decorate_workers_output = no\n"
      "clear_env = yes\n";
  // A master started as root must name the workers' user (root, allowed
  // with -R, so that they can read the test's 0700 directory).
  if (root) conf += "user = root\n";
  for (const auto& e : env) {
    const auto eq = e.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("PhpFpm: env entry without '=': " + e);
    conf += "env[" + e.substr(0, eq) + "] = \"" + e.substr(eq + 1) + "\"\n";
  }
  write_file(dir + "/php-fpm.conf", conf);
  // Debian's php.ini and modules (conf.d: redis, mbstring, ...) for FPM.
  std::vector<std::string> argv = {binary, "--nodaemonize", "--fpm-config", dir + "/php-fpm.conf"};
  ProcessOptions opt;
  opt.log_dir = dir;
  opt.name = "php-fpm";
  opt.stop_signal = 3;  // SIGQUIT: graceful
  if (root) argv.push_back("--allow-to-run-as-root");
  process_ = std::make_unique<Process>(argv, opt);
  if (!wait_until([&] { return !process_->running() || tcp_accepts(port_); },
                  std::chrono::seconds(10)) ||
      !process_->running()) {
    throw std::runtime_error("php-fpm did not start\n" + process_->output() + log());
  }
}

std::string PhpFpm::log() const {
  return read_file(dir_ + "/php-fpm.log");
}

}  // namespace comet::test
