#include "tests/support/sentinel.hpp"

#include <fstream>
#include <stdexcept>

#include "tests/support/redis_server.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {

Sentinel::Sentinel(std::string dir, int monitored_port, std::string password)
    : dir_(std::move(dir)), password_(std::move(password)), port_(free_tcp_port()) {
  const std::string conf = dir_ + "/sentinel.conf";
  {
    std::ofstream out(conf);
    out << "port " << port_ << "\n"
        << "bind 127.0.0.1\n"
        << "protected-mode no\n"
        << "daemonize no\n"
        << "logfile \"\"\n"
        << "dir " << dir_ << "\n"
        << "sentinel monitor " << kMaster << " 127.0.0.1 " << monitored_port << " 1\n"
        << "sentinel down-after-milliseconds " << kMaster << " 1000\n"
        << "sentinel failover-timeout " << kMaster << " 5000\n"
        << "sentinel parallel-syncs " << kMaster << " 1\n";
    if (!password_.empty()) out << "requirepass " << password_ << "\n";
  }
  ProcessOptions opt;
  opt.log_dir = dir_;
  opt.name = "redis-sentinel";
  opt.cwd = dir_;
  process_ = std::make_unique<Process>(std::vector<std::string>{"redis-sentinel", conf}, opt);
  bool ready = wait_until([&] { return !process_->running() || master_port().has_value(); },
                          std::chrono::seconds(10));
  if (!ready || !process_->running()) {
    throw std::runtime_error("redis-sentinel did not start on port " + std::to_string(port_) +
                             "\n" + process_->output());
  }
}

std::unique_ptr<RespClient> Sentinel::client() {
  auto c = std::make_unique<RespClient>(port_);
  if (!password_.empty()) c->command({"AUTH", password_}, std::chrono::seconds(1));
  return c;
}

Sentinel::~Sentinel() {
  stop();
}

void Sentinel::stop() {
  if (process_) process_->stop();
}

std::optional<int> Sentinel::master_port() {
  try {
    auto c = client();
    auto r = c->command({"SENTINEL", "get-master-addr-by-name", kMaster}, std::chrono::seconds(1));
    if (r.type != RespValue::Type::array || r.elements.size() != 2) return std::nullopt;
    return std::stoi(r.elements[1].str);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool Sentinel::wait_replicas(int n, std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        try {
          auto c = client();
          auto r = c->command({"SENTINEL", "replicas", kMaster}, std::chrono::seconds(1));
          int good = 0;
          for (const auto& replica : r.elements) {
            // A flat list of field, value, ...
            for (std::size_t i = 0; i + 1 < replica.elements.size(); i += 2) {
              if (replica.elements[i].str == "flags" && replica.elements[i + 1].str == "slave") {
                ++good;
              }
            }
          }
          return good >= n;
        } catch (const std::exception&) {
          return false;
        }
      },
      timeout);
}

void Sentinel::failover() {
  auto c = client();
  auto r = c->command({"SENTINEL", "FAILOVER", kMaster}, std::chrono::seconds(5));
  if (r.type == RespValue::Type::error) throw std::runtime_error("SENTINEL FAILOVER: " + r.str);
}

}  // namespace comet::test
