#include "bench/comet_bench/stack.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "bench/common/clock.hpp"
#include "bench/common/die.hpp"
#include "bench/common/nginx_conf.hpp"
#include "bench/common/proc.hpp"
#include "bench/common/processes.hpp"
#include "bench/common/sockets.hpp"
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
  for (pid_t p : {redis_pid_, gw_pid_, nginx_pid_}) {
    if (p <= 0) continue;
    out.push_back(p);
    for (int c : children_of(p)) out.push_back(c);
  }
  return out;
}

std::string Stack::start_responder(const std::string& transport, bool bare,
                                   std::vector<std::string> extra) {
  stop_gateway();
  if (transport == "unix") {
    gw_sock_ = (dir_ / "gw.sock").string();
    gw_addr_ = "unix:" + gw_sock_;
  } else {
    gw_port_ = free_port();
    gw_sock_.clear();
    gw_addr_ = "127.0.0.1:" + std::to_string(gw_port_);
  }
  std::vector<std::string> argv{(o_.build / "comet-gateway").string(),
                                "--listen",
                                gw_addr_,
                                "--redis",
                                "redis://127.0.0.1:" + std::to_string(redis_port_),
                                "--log-level",
                                "warn"};
  if (std::find(extra.begin(), extra.end(), "--max-timeout") == extra.end()) {
    extra.push_back("--max-timeout");
    extra.push_back("120");
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  // Profiling hook: COMET_BENCH_WRAP_GATEWAY="valgrind --tool=callgrind ..."
  // runs the gateway under that command (same pid with valgrind).
  if (const char* wrap = std::getenv("COMET_BENCH_WRAP_GATEWAY"); wrap && !bare) {
    auto pre = split(wrap, ' ');
    argv.insert(argv.begin(), pre.begin(), pre.end());
  }
  if (bare) {
    bare_control_port_ = free_port();
    argv = {(o_.build / "bench" / "bare_responder").string(), "--listen", gw_addr_, "--control",
            std::to_string(bare_control_port_)};
  }
  const std::string what = bare ? "bare_responder" : "comet-gateway";
  gw_pid_ = spawn(argv, (dir_ / (what + ".log")).string());
  wait_for(what, [&] {
    if (!alive(gw_pid_)) die(what + " exited; see " + (dir_ / (what + ".log")).string());
    const int fd = gw_sock_.empty() ? tcp_connect(gw_port_, false) : unix_connect(gw_sock_);
    if (fd < 0) return false;
    ::close(fd);
    return true;
  });
  return gw_addr_;
}

void Stack::stop_gateway() {
  stop(gw_pid_);
  gw_pid_ = -1;
}

int Stack::start_nginx_comet(const std::string& gateway) {
  std::string conf = read_file(o_.root / "nginx.conf.example");
  (void)gateway;  // placed by start_nginx as @GATEWAY@
  conf = render_comet_example(conf, o_.workers);
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
  p.gateway = gw_addr_;
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
