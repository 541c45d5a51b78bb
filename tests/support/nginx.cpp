#include "tests/support/nginx.hpp"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>
#include <stdexcept>

#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {

std::string render_template(const std::string& text,
                            const std::map<std::string, std::string>& values) {
  static const std::regex placeholder("@([A-Z_]+)@");
  std::string out;
  std::set<std::string> used;
  auto begin = std::sregex_iterator(text.begin(), text.end(), placeholder);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    auto pos = static_cast<std::size_t>(m.position(0));
    out.append(text, last, pos - last);
    std::string name = m[1].str();
    auto v = values.find(name);
    if (v == values.end()) throw std::runtime_error("no value for placeholder @" + name + "@");
    out += v->second;
    used.insert(name);
    last = pos + static_cast<std::size_t>(m.length(0));
  }
  out.append(text, last, std::string::npos);
  for (const auto& [name, value] : values) {
    if (!used.count(name)) throw std::runtime_error("placeholder @" + name + "@ not in template");
  }
  return out;
}

std::map<std::string, std::string> nginx_test_values(const NginxOptions& o, int port) {
  return {
      // The tests run as root in CI; the master then needs a `user`, and
      // root lets the workers reach sockets inside the 0700 temp dir.
      {"USER", ::geteuid() == 0 ? "root" : "nobody"},
      {"PID_FILE", o.dir + "/nginx.pid"},
      {"LOG_DIR", o.dir + "/logs"},
      {"TEMP_DIR", o.dir + "/temp"},
      {"LISTEN", "127.0.0.1:" + std::to_string(port)},
      {"GATEWAY", o.gateway},
      {"SHARE_DIR", COMET_SOURCE_DIR},
      {"DEMO_PHP", o.demo_php},
  };
}

Nginx::Nginx(NginxOptions options) : options_(std::move(options)) {
  if (options_.dir.empty()) throw std::invalid_argument("Nginx: dir required");
  if (options_.gateway.empty()) throw std::invalid_argument("Nginx: gateway address required");
  if (options_.demo_php.empty()) {
    options_.demo_php = "127.0.0.1:" + std::to_string(free_tcp_port());
  }
  port_ = options_.port ? options_.port : free_tcp_port();
  std::filesystem::create_directories(options_.dir + "/logs");
  std::filesystem::create_directories(options_.dir + "/temp");

  const std::string example = std::string(COMET_SOURCE_DIR) + "/nginx.conf.example";
  std::string text = read_file(example);
  if (text.empty()) throw std::runtime_error("cannot read " + example);
  conf_ = options_.dir + "/nginx.conf";
  std::string conf = render_template(text, nginx_test_values(options_, port_));
  if (!options_.more_gateways.empty()) {
    const std::string line = "server " + options_.gateway + ";";
    const auto at = conf.find(line);
    if (at == std::string::npos) throw std::runtime_error("no `" + line + "` in the config");
    std::string more;
    for (const auto& g : options_.more_gateways) more += "\n        server " + g + ";";
    conf.insert(at + line.size(), more);
  }
  if (!options_.extra_locations.empty()) {
    const std::string anchor = "        location /comet/ {";
    const auto at = conf.find(anchor);
    if (at == std::string::npos) throw std::runtime_error("no `location /comet/` in the config");
    conf.insert(at, options_.extra_locations + "\n");
  }
  if (!options_.extra_servers.empty()) {
    const auto at = conf.rfind('}');
    if (at == std::string::npos) throw std::runtime_error("no http block in the config");
    conf.insert(at, options_.extra_servers + "\n");
  }
  write_file(conf_, conf);

  const std::string prefix = options_.dir + "/";
  auto check = run({"nginx", "-t", "-q", "-p", prefix, "-c", conf_, "-g", "daemon off;"},
                   options_.dir, std::chrono::seconds(20));
  if (check.status != 0) {
    throw std::runtime_error("nginx -t rejected the rendered nginx.conf.example:\n" + check.err);
  }

  ProcessOptions opt;
  opt.log_dir = options_.dir;
  opt.name = "nginx";
  opt.stop_signal = SIGQUIT;
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"nginx", "-p", prefix, "-c", conf_, "-g", "daemon off;"}, opt);
  bool up = wait_until([&] { return !process_->running() || tcp_accepts(port_); },
                       std::chrono::seconds(10));
  if (!up || !process_->running()) {
    throw std::runtime_error("nginx did not start on port " + std::to_string(port_) + "\n" +
                             process_->output() + error_log());
  }
}

Nginx::~Nginx() {
  stop();
}

std::string Nginx::error_log() const {
  return read_file(options_.dir + "/logs/error.log");
}

namespace {
// The pids of the master's children (its workers), from /proc.
std::set<int> children_of(int pid) {
  std::set<int> out;
  const std::string tasks =
      read_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::size_t i = 0;
  while (i < tasks.size()) {
    std::size_t j = tasks.find(' ', i);
    if (j == std::string::npos) j = tasks.size();
    if (j > i) out.insert(std::stoi(tasks.substr(i, j - i)));
    i = j + 1;
  }
  return out;
}
}  // namespace

void Nginx::reload() {
  const auto before = children_of(process_->pid());
  process_->signal(SIGHUP);
  bool renewed = wait_until(
      [&] {
        for (int c : children_of(process_->pid())) {
          if (!before.count(c)) return true;
        }
        return false;
      },
      std::chrono::seconds(10));
  if (!renewed) throw std::runtime_error("nginx did not start new workers on SIGHUP");
}

void Nginx::stop() {
  if (process_) process_->stop();
}

}  // namespace comet::test
