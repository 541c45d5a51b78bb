#include "tests/support/php.hpp"

#include <atomic>
#include <stdexcept>

#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {

namespace {
std::atomic<int> g_payloads{0};
const std::string kPublishScript = std::string(COMET_SOURCE_DIR) + "/tests/support/publish.php";
}  // namespace

void php_publish(const std::string& dir, int redis_port, const std::string& channel,
                 const std::string& payload) {
  std::string file = dir + "/payload." + std::to_string(++g_payloads) + ".bin";
  write_file(file, payload);
  auto r = run({"php", kPublishScript, "--port", std::to_string(redis_port), "--channel", channel,
                "--file", file},
               dir, std::chrono::seconds(30));
  if (r.status != 0) {
    throw std::runtime_error("php publish failed (" + std::to_string(r.status) + "): " + r.err);
  }
}

std::string php_publish_durable(const std::string& dir, int redis_port, const std::string& channel,
                                const std::string& payload) {
  std::string file = dir + "/payload." + std::to_string(++g_payloads) + ".bin";
  write_file(file, payload);
  auto r = run({"php", kPublishScript, "--port", std::to_string(redis_port), "--channel", channel,
                "--file", file, "--durable"},
               dir, std::chrono::seconds(30));
  if (r.status != 0) {
    throw std::runtime_error("php publishDurable failed (" + std::to_string(r.status) +
                             "): " + r.err);
  }
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  return r.out;
}

std::string php_publish_cluster(const std::string& dir, const std::string& seeds,
                                const std::string& channel, const std::string& payload,
                                bool durable) {
  std::string file = dir + "/payload." + std::to_string(++g_payloads) + ".bin";
  write_file(file, payload);
  std::vector<std::string> args{"php",       kPublishScript, "--cluster", seeds,
                                "--channel", channel,        "--file",    file};
  if (durable) args.push_back("--durable");
  auto r = run(args, dir, std::chrono::seconds(30));
  if (r.status != 0) {
    throw std::runtime_error("php publish (cluster) failed (" + std::to_string(r.status) +
                             "): " + r.err);
  }
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  return r.out;
}

std::unique_ptr<Process> php_publish_load(const std::string& dir, int redis_port,
                                          const std::vector<std::string>& channels, int rate,
                                          double seconds, int sentinel_port,
                                          const std::string& cluster_seeds) {
  std::string list;
  for (const auto& c : channels) list += (list.empty() ? "" : ",") + c;
  ProcessOptions opt;
  opt.log_dir = dir;
  opt.name = "php-load";
  std::vector<std::string> args{
      "php",        std::string(COMET_SOURCE_DIR) + "/tests/support/load.php",
      "--port",     std::to_string(redis_port),
      "--channels", list,
      "--rate",     std::to_string(rate),
      "--seconds",  std::to_string(seconds)};
  if (sentinel_port != 0) {
    args.insert(args.end(), {"--sentinel", std::to_string(sentinel_port), "--master", "m"});
  }
  if (!cluster_seeds.empty()) args.insert(args.end(), {"--cluster", cluster_seeds});
  return std::make_unique<Process>(args, opt);
}

std::unique_ptr<Process> php_publish_burst(const std::string& dir, int redis_port,
                                           const std::string& channel, int n) {
  ProcessOptions opt;
  opt.log_dir = dir;
  opt.name = "php-burst";
  return std::make_unique<Process>(
      std::vector<std::string>{"php", kPublishScript, "--port", std::to_string(redis_port),
                               "--channel", channel, "--burst", std::to_string(n)},
      opt);
}

PhpDemoServer::PhpDemoServer(const std::string& dir, int redis_port,
                             const std::string& token_secret)
    : port_(free_tcp_port()) {
  ProcessOptions opt;
  opt.log_dir = dir;
  opt.name = "php-demo";
  opt.env = {"COMET_REDIS_HOST=127.0.0.1", "COMET_REDIS_PORT=" + std::to_string(redis_port)};
  if (!token_secret.empty()) opt.env.push_back("COMET_TOKEN_SECRET=" + token_secret);
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"php", "-S", address(), "-t",
                               std::string(COMET_SOURCE_DIR) + "/examples/demo"},
      opt);
  if (!wait_until([&] { return !process_->running() || tcp_accepts(port_); },
                  std::chrono::seconds(10)) ||
      !process_->running()) {
    throw std::runtime_error("php -S did not start\n" + process_->output());
  }
}

}  // namespace comet::test
