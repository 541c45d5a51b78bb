#include "bench/comet_bench/stack.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <utility>

#include "bench/common/clock.hpp"
#include "bench/common/die.hpp"
#include "bench/common/fcgi_client.hpp"
#include "bench/common/nginx_conf.hpp"
#include "bench/common/proc.hpp"
#include "bench/common/processes.hpp"
#include "bench/common/sockets.hpp"
#include "bench/common/stats.hpp"
#include "bench/common/text.hpp"

namespace bench {

Stack::Stack(const Options& o) : o_(o) {
  char tmpl[] = "/tmp/comet-bench.XXXXXX";
  if (!::mkdtemp(tmpl)) die("mkdtemp failed");
  dir_ = tmpl;
}

Stack::~Stack() {
  stop_nginx();
  stop_gateway();
  stop(redis_pid_);
  if (!o_.keep) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  } else {
    std::fprintf(stderr, "logs kept in %s\n", dir_.c_str());
  }
}

int Stack::start_redis() {
  redis_port_ = free_port();
  redis_pid_ = spawn({"redis-server", "--port", std::to_string(redis_port_), "--bind", "127.0.0.1",
                      "--save", "", "--appendonly", "no", "--dir", dir_.string(),
                      "--client-output-buffer-limit", "pubsub 256mb 256mb 0"},
                     (dir_ / "redis.log").string());
  wait_for("redis", [&] {
    const int fd = tcp_connect(redis_port_, false);
    if (fd < 0) return false;
    ::close(fd);
    return true;
  });
  return redis_port_;
}

std::vector<int> Stack::own_pids() const {
  std::vector<int> out{static_cast<int>(::getpid())};
  std::vector<pid_t> ours{redis_pid_, nginx_pid_};
  for (const auto& g : gws_) ours.push_back(g.pid);
  for (pid_t p : ours) {
    if (p <= 0) continue;
    out.push_back(p);
    for (int c : children_of(p)) out.push_back(c);
  }
  return out;
}

std::string Stack::start_responders(const std::string& transport, bool bare, int count,
                                    std::vector<std::string> extra) {
  stop_gateway();
  // Every client of the bench comes from 127.0.0.1 and stands for many
  // browsers: the per-client shares (1,000 parked polls by default) are
  // raised to the gateway's totals.
  for (const auto& [flag, value] : {std::pair<std::string, std::string>{"--max-timeout", "120"},
                                    {"--max-parked-per-client", "1000000"},
                                    {"--max-channels-per-client", "1000000"}}) {
    if (std::find(extra.begin(), extra.end(), flag) != extra.end()) continue;
    extra.push_back(flag);
    extra.push_back(value);
  }
  for (int i = 0; i < count; ++i) {
    Responder g;
    if (transport == "unix") {
      g.sock = (dir_ / (i == 0 ? "gw.sock" : "gw-" + std::to_string(i + 1) + ".sock")).string();
      g.addr = "unix:" + g.sock;
    } else {
      g.port = free_port();
      g.addr = "127.0.0.1:" + std::to_string(g.port);
    }
    std::vector<std::string> argv{(o_.build / "comet-gateway").string(),
                                  "--listen",
                                  g.addr,
                                  "--redis",
                                  "redis://127.0.0.1:" + std::to_string(redis_port_),
                                  "--log-level",
                                  "warn"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    // Profiling hook: COMET_BENCH_WRAP_GATEWAY="valgrind --tool=callgrind ..."
    // runs the gateway under that command (same pid with valgrind).
    if (const char* wrap = std::getenv("COMET_BENCH_WRAP_GATEWAY"); wrap && !bare) {
      auto pre = split(wrap, ' ');
      argv.insert(argv.begin(), pre.begin(), pre.end());
    }
    if (bare) {
      bare_control_port_ = free_port();
      argv = {(o_.build / "bench" / "bare_responder").string(), "--listen", g.addr, "--control",
              std::to_string(bare_control_port_)};
    }
    const std::string what = (bare ? "bare_responder" : "comet-gateway") +
                             (i == 0 ? std::string() : "-" + std::to_string(i + 1));
    const std::string log = (dir_ / (what + ".log")).string();
    g.pid = spawn(argv, log);
    gws_.push_back(g);
    wait_for(what, [&] {
      if (!alive(g.pid)) die(what + " exited; see " + log);
      const int fd = g.sock.empty() ? tcp_connect(g.port, false) : unix_connect(g.sock);
      if (fd < 0) return false;
      ::close(fd);
      return true;
    });
  }
  return gws_.front().addr;
}

std::vector<pid_t> Stack::gateway_pids() const {
  std::vector<pid_t> out;
  for (const auto& g : gws_) out.push_back(g.pid);
  return out;
}

std::vector<long> Stack::gateway_metrics(const std::string& name) const {
  std::vector<long> out;
  for (const auto& g : gws_) {
    const std::string page = fcgi_get(g.addr, "/comet/stats");
    out.push_back(page.empty() ? -1 : metric(page, name));
  }
  return out;
}

long Stack::gateway_metric(const std::string& name) const {
  long sum = -1;
  for (long v : gateway_metrics(name))
    if (v >= 0) sum = std::max(0L, sum) + v;
  return sum;
}

void Stack::stop_gateway() {
  for (auto& g : gws_) stop(g.pid);
  gws_.clear();
}

int Stack::start_nginx_comet() {
  std::string conf = read_file(o_.root / "nginx.conf.example");
  conf = render_comet_example(conf, o_.workers);
  // The first responder is @GATEWAY@ (placed by start_nginx); the others
  // get their `server` lines right below it, as the example says.
  std::vector<std::string> more;
  for (std::size_t i = 1; i < gws_.size(); ++i) more.push_back(gws_[i].addr);
  conf = add_upstream_servers(conf, more);
  return start_nginx(conf, "comet");
}

int Stack::start_nginx_nchan() {
  std::string conf = read_file(o_.root / "bench" / "nginx-nchan.conf");
  return start_nginx(conf, "nchan");
}

void Stack::stop_nginx() {
  stop(nginx_pid_);
  nginx_pid_ = -1;
}

int Stack::start_nginx(std::string conf, const std::string& name) {
  stop_nginx();
  http_port_ = free_port();
  const fs::path ndir = dir_ / ("nginx-" + name);
  fs::create_directories(ndir / "logs");
  fs::create_directories(ndir / "temp");
  NginxPlaceholders p;
  p.user = "root";
  p.pid_file = (ndir / "nginx.pid").string();
  p.log_dir = (ndir / "logs").string();
  p.temp_dir = (ndir / "temp").string();
  p.listen = "127.0.0.1:" + std::to_string(http_port_);
  p.gateway = gws_.empty() ? std::string("127.0.0.1:9") : gws_.front().addr;
  p.share_dir = o_.root.string();
  p.demo_php = "127.0.0.1:9";
  p.workers = o_.workers;
  conf = fill_placeholders(std::move(conf), p);
  {
    std::ofstream out(ndir / "nginx.conf");
    out << conf;
  }
  nginx_pid_ = spawn(
      {"nginx", "-p", ndir.string(), "-c", (ndir / "nginx.conf").string(), "-g", "daemon off;"},
      (ndir / "logs" / "stderr").string());
  wait_for("nginx (" + name + ")", [&] {
    if (!alive(nginx_pid_)) die("nginx exited; see " + (ndir / "logs").string());
    const int fd = tcp_connect(http_port_, false);
    if (fd < 0) return false;
    ::close(fd);
    return true;
  });
  return http_port_;
}

}  // namespace bench
