// comet_bench: one command that runs a scenario against comet-gateway and
// nchan in the same run (same nginx binary, same worker count) and prints a
// table with the ratio. It starts redis-server, comet-gateway and nginx (one
// config per system) on free loopback ports and stops them, by pid, when done.
//
//   comet_bench fanout   [--count 8000] [--rounds 5] [--workers 1] [--transports unix,tcp]
//                        [--systems nchan,bare,comet]
//   comet_bench rate     [--rates 1000,5000,20000] [--seconds 10] [--channels 100]
//                        [--subscribers 10] [--workers 1]
//   comet_bench gateway  [--parked 100000,1000000] [--idle-seconds 10] [--per-connection 50000]
//   comet_bench all      (the three above with their defaults)
//
// Common options: --build DIR (where comet-gateway is; default: next to this
// binary's parent), --out DIR (result files for docs/plot; default
// BUILD/bench-results), --keep (keep the temporary directory with the logs).
//
// The load generator is its own epoll loop (no framework): HTTP/1.1 keep-alive
// clients for nginx (comet-gateway behind fastcgi_pass, nchan long-poll), a
// multiplexing FastCGI client for the gateway alone, RESP for Redis PUBLISH and
// HTTP POST for nchan's publisher.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

[[noreturn]] void die(const std::string& what) {
  throw std::runtime_error(what);
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

double since_ms(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return NAN;
  const auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::min(sorted.size() - 1, i == 0 ? 0 : i - 1)];
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// ---------------------------------------------------------------------------
// Sockets

int tcp_connect(int port, bool nonblocking) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Blocking connect: keeps the listen backlog from overflowing when
  // thousands connect at once.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  if (nonblocking) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

int unix_connect(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) die("bind: free port");
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

void write_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 1000);
      continue;
    }
    if (n <= 0) die(std::string("write: ") + std::strerror(errno));
    off += static_cast<std::size_t>(n);
  }
}

// One GET with Connection: close; returns the body ("" on failure).
std::string http_get(int port, const std::string& path) {
  const int fd = tcp_connect(port, false);
  if (fd < 0) return {};
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  write_all(fd, "GET " + path + " HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  const auto p = out.find("\r\n\r\n");
  return p == std::string::npos ? std::string() : out.substr(p + 4);
}

long metric(const std::string& text, const std::string& name) {
  std::size_t pos = text.rfind(name + " ", 0) == 0 ? 0 : text.find("\n" + name + " ");
  if (pos == std::string::npos) return -1;
  if (pos != 0) ++pos;
  return std::atol(text.c_str() + pos + name.size() + 1);
}

// ---------------------------------------------------------------------------
// /proc

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// utime + stime in clock ticks.
long cpu_ticks(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream rest(s.substr(rp + 2));
  std::string f;
  long utime = 0, stime = 0;
  // Fields after the command: state(3) ... utime(14) stime(15).
  for (int field = 3; field <= 15 && rest >> f; ++field) {
    if (field == 14) utime = std::atol(f.c_str());
    if (field == 15) stime = std::atol(f.c_str());
  }
  return utime + stime;
}

// CPU time of every thread of a process, in ns (the scheduler's own
// accounting: precise where utime/stime have 10 ms ticks).
double cpu_ns(int pid) {
  double sum = 0;
  std::error_code ec;
  for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "schedstat");
    double on_cpu = 0;
    if (in >> on_cpu) sum += on_cpu;
  }
  return sum;
}

// Time the hypervisor ran something else on this VM's CPUs (steal), ms.
double steal_ms() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  long long v[8] = {};
  in >> cpu;
  for (auto& x : v) in >> x;
  return static_cast<double>(v[7]) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::vector<int> children_of(int pid) {
  std::vector<int> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  for (int c; in >> c;) out.push_back(c);
  return out;
}

// ---------------------------------------------------------------------------
// Processes: everything started is stopped by pid.

std::vector<pid_t> g_children;

void kill_children_on_signal(int sig) {
  for (pid_t p : g_children) ::kill(p, SIGTERM);
  ::_exit(128 + sig);
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int nul = ::open("/dev/null", O_RDONLY);
    ::dup2(nul, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  g_children.push_back(pid);
  return pid;
}

void stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  const auto deadline = Clock::now() + 15s;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  g_children.erase(std::remove(g_children.begin(), g_children.end(), pid), g_children.end());
}

bool alive(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

// System-wide perf record (all CPUs, call graphs) around one measurement, when
// --perf PREFIX is given: PREFIX.N.data, one per measurement.
std::string g_perf_prefix;

// Fraction of all CPUs busy over `ms` (from /proc/stat).
double busy_fraction(int ms) {
  auto sample = [] {
    std::ifstream in("/proc/stat");
    std::string cpu;
    long long v[8] = {};
    in >> cpu;
    for (auto& x : v) in >> x;
    long long total = 0;
    for (auto x : v) total += x;
    return std::pair<long long, long long>(total, v[3] + v[4]);
  };
  const auto a = sample();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  const auto b = sample();
  const double total = static_cast<double>(b.first - a.first);
  return total > 0 ? 1.0 - static_cast<double>(b.second - a.second) / total : 0;
}

// CPU used by processes other than ours during a measurement, in percent
// of one CPU: other engineers' builds and tests share this machine.
class OtherCpu {
 public:
  explicit OtherCpu(std::vector<int> own) : own_(std::move(own)) {
    busy0_ = total_busy();
    own0_ = own_ticks();
    t0_ = Clock::now();
  }
  double percent() const {
    const double secs = std::chrono::duration<double>(Clock::now() - t0_).count();
    const double other = static_cast<double>((total_busy() - busy0_) - (own_ticks() - own0_));
    return std::max(0.0, 100.0 * other / (static_cast<double>(sysconf(_SC_CLK_TCK)) * secs));
  }

 private:
  static long long total_busy() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    long long v[8] = {};
    in >> cpu;
    for (auto& x : v) in >> x;
    return v[0] + v[1] + v[2];  // user, nice, system (irq time is not charged to processes)
  }
  long long own_ticks() const {
    long long sum = 0;
    for (int p : own_) sum += std::max(0L, cpu_ticks(p));
    return sum;
  }
  std::vector<int> own_;
  long long busy0_ = 0, own0_ = 0;
  Clock::time_point t0_;
};

// Measurements on a shared 2-core machine are only worth taking when nothing
// else runs: wait (up to `limit`) until the CPUs are idle but for us.
void wait_quiet(std::chrono::seconds limit = 300s) {
  const auto deadline = Clock::now() + limit;
  bool told = false;
  for (;;) {
    const double busy = busy_fraction(500);
    if (busy < 0.10) return;
    if (Clock::now() > deadline) {
      std::printf(
          "  WARNING: the machine stayed busy (%.0f%% CPU used by other processes); figures are "
          "disturbed\n",
          busy * 100);
      return;
    }
    if (!told) {
      std::printf("  (waiting for other processes to leave the CPUs: %.0f%% busy)\n", busy * 100);
      std::fflush(stdout);
      told = true;
    }
  }
}

class PerfRecord {
 public:
  PerfRecord(const std::string& prefix, const std::string& label) {
    if (prefix.empty()) return;
    file_ = prefix + "." + label + ".data";
    pid_ = spawn({"perf", "record", "-a", "-g", "-F", "2999", "-o", file_}, file_ + ".log");
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // perf attaches
  }
  ~PerfRecord() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGINT);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    g_children.erase(std::remove(g_children.begin(), g_children.end(), pid_), g_children.end());
    std::fprintf(stderr, "perf data: %s\n", file_.c_str());
  }

 private:
  std::string file_;
  pid_t pid_ = -1;
};

template <class F>
void wait_for(const std::string& what, F ready, std::chrono::milliseconds limit = 10s) {
  const auto deadline = Clock::now() + limit;
  while (!ready()) {
    if (Clock::now() > deadline) die("timed out waiting for " + what);
    std::this_thread::sleep_for(10ms);
  }
}

struct Options {
  std::string mode;
  fs::path build, root, out;
  int count = 8000, rounds = 5, workers = 1;
  std::vector<std::string> transports{"unix", "tcp"};
  std::vector<std::string> systems{"nchan", "bare", "comet"};  // fanout
  std::vector<int> rates{1000, 5000, 20000};
  double seconds = 10;
  int channels = 100, subscribers = 10;
  std::vector<long> parked{100000, 1000000};
  double idle_seconds = 10;
  int per_connection = 50000;
  bool keep = false;
  std::string perf;  // perf record -a around each fan-out, to this file prefix
};

// The processes of one run, in a temporary directory.
class Stack {
 public:
  explicit Stack(const Options& o) : o_(o) {
    char tmpl[] = "/tmp/comet-bench.XXXXXX";
    if (!::mkdtemp(tmpl)) die("mkdtemp failed");
    dir_ = tmpl;
  }
  ~Stack() {
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
  const fs::path& dir() const { return dir_; }

  int start_redis() {
    redis_port_ = free_port();
    redis_pid_ = spawn({"redis-server", "--port", std::to_string(redis_port_), "--bind",
                        "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir_.string(),
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
  int redis_port() const { return redis_port_; }
  // Every process of ours (this one, its threads, and what it started,
  // nginx workers included).
  std::vector<int> own_pids() const {
    std::vector<int> out{static_cast<int>(::getpid())};
    for (pid_t p : {redis_pid_, gw_pid_, nginx_pid_}) {
      if (p <= 0) continue;
      out.push_back(p);
      for (int c : children_of(p)) out.push_back(c);
    }
    return out;
  }

  // Returns the address nginx is to use (unix:PATH or 127.0.0.1:PORT).
  std::string start_gateway(const std::string& transport, std::vector<std::string> extra = {}) {
    return start_responder(transport, false, std::move(extra));
  }
  // bench/bare_responder in the gateway's place (the fan-out's floor): the
  // same socket, nginx config and stats names; it takes the publishes on its
  // own control port instead of Redis.
  std::string start_bare(const std::string& transport) { return start_responder(transport, true); }
  int bare_control_port() const { return bare_control_port_; }

  std::string start_responder(const std::string& transport, bool bare,
                              std::vector<std::string> extra = {}) {
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
  pid_t gateway_pid() const { return gw_pid_; }
  const std::string& gateway_socket() const { return gw_sock_; }
  void stop_gateway() {
    stop(gw_pid_);
    gw_pid_ = -1;
  }

  // nginx.conf.example rendered as bench/fanout.sh does, with the
  // benchmark's changes (see render_comet_conf).
  int start_nginx_comet(const std::string& gateway) {
    std::string conf = read(o_.root / "nginx.conf.example");
    (void)gateway;  // placed by start_nginx as @GATEWAY@
    conf = render_comet_conf(conf);
    return start_nginx(conf, "comet");
  }
  int start_nginx_nchan() {
    std::string conf = read(o_.root / "bench" / "nginx-nchan.conf");
    return start_nginx(conf, "nchan");
  }
  pid_t nginx_pid() const { return nginx_pid_; }
  int nginx_port() const { return http_port_; }
  void stop_nginx() {
    stop(nginx_pid_);
    nginx_pid_ = -1;
  }

 private:
  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    if (!in) die("cannot read " + p.string());
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  static void replace_all(std::string& s, const std::string& from, const std::string& to) {
    for (std::size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size())
      s.replace(p, from.size(), to);
  }
  static void replace_line(std::string& s, const std::string& from, const std::string& to) {
    const auto p = s.find(from);
    if (p == std::string::npos) die("nginx.conf.example no longer has '" + from + "'");
    s.replace(p, from.size(), to);
  }
  std::string render_comet_conf(std::string conf) {
    // The benchmark's only changes to the example, the same as in
    // bench/nginx-nchan.conf: the worker count of the run, the fd limit this
    // machine allows (the hard limit is 20,000), no access log (both systems
    // alike) and client keep-alive for the whole run.
    replace_line(conf, "worker_processes auto;",
                 "worker_processes " + std::to_string(o_.workers) + ";");
    replace_line(conf, "worker_rlimit_nofile 32768;", "worker_rlimit_nofile 20000;");
    replace_line(conf, "worker_connections 16384;", "worker_connections 19000;");
    replace_line(conf, "access_log @LOG_DIR@/access.log;",
                 "access_log off;\n    keepalive_requests 1000000;");
    return conf;
  }
  int start_nginx(std::string conf, const std::string& name) {
    stop_nginx();
    http_port_ = free_port();
    const fs::path ndir = dir_ / ("nginx-" + name);
    fs::create_directories(ndir / "logs");
    fs::create_directories(ndir / "temp");
    replace_all(conf, "@USER@", "root");
    replace_all(conf, "@PID_FILE@", (ndir / "nginx.pid").string());
    replace_all(conf, "@LOG_DIR@", (ndir / "logs").string());
    replace_all(conf, "@TEMP_DIR@", (ndir / "temp").string());
    replace_all(conf, "@LISTEN@", "127.0.0.1:" + std::to_string(http_port_));
    replace_all(conf, "@GATEWAY@", gw_addr_);
    replace_all(conf, "@SHARE_DIR@", o_.root.string());
    replace_all(conf, "@DEMO_PHP@", "127.0.0.1:9");
    replace_all(conf, "@WORKERS@", std::to_string(o_.workers));
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

  const Options& o_;
  fs::path dir_;
  int redis_port_ = 0, gw_port_ = 0, http_port_ = 0, bare_control_port_ = 0;
  pid_t redis_pid_ = -1, gw_pid_ = -1, nginx_pid_ = -1;
  std::string gw_sock_, gw_addr_;
};

// ---------------------------------------------------------------------------
// HTTP/1.1 responses, parsed incrementally (Content-Length bodies: both
// nginx configurations produce them for these responses).

struct HttpResponse {
  int status = 0;
  bool close = false;
  std::string_view body;
  std::string last_modified, etag;
};

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

// Parses one response at in[pos..]; on success advances pos past it.
bool parse_response(const std::string& in, std::size_t& pos, HttpResponse& r,
                    bool want_validators) {
  const auto hend = in.find("\r\n\r\n", pos);
  if (hend == std::string::npos) return false;
  const std::string_view head(in.data() + pos, hend - pos);
  r = HttpResponse{};
  if (head.size() < 12) die("bad HTTP response");
  r.status = std::atoi(head.data() + 9);
  long length = -1;
  std::size_t ls = head.find("\r\n");
  while (ls != std::string_view::npos && ls < head.size()) {
    const std::size_t le = std::min(head.find("\r\n", ls + 2), head.size());
    const std::string_view line = head.substr(ls + 2, le - ls - 2);
    const auto value = [&](std::size_t n) {
      std::string_view v = line.substr(n);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return v;
    };
    if (iequals_prefix(line, "content-length:")) {
      length = std::atol(std::string(value(15)).c_str());
    } else if (iequals_prefix(line, "connection:")) {
      r.close = iequals_prefix(value(11), "close");
    } else if (iequals_prefix(line, "transfer-encoding:")) {
      die("chunked response: the bench expects Content-Length");
    } else if (want_validators && iequals_prefix(line, "last-modified:")) {
      r.last_modified = value(14);
    } else if (want_validators && iequals_prefix(line, "etag:")) {
      r.etag = value(5);
    }
    ls = le;
    if (le == head.size()) break;
  }
  if (length < 0) length = 0;
  const std::size_t body = hend + 4;
  if (in.size() < body + static_cast<std::size_t>(length)) return false;
  r.body = std::string_view(in.data() + body, static_cast<std::size_t>(length));
  pos = body + static_cast<std::size_t>(length);
  return true;
}

// Many keep-alive HTTP connections on one epoll loop. Each carries requests
// one at a time (subscribers) or pipelined (publishers).
class HttpLoop {
 public:
  struct Conn {
    int fd = -1;
    std::string out;
    std::size_t out_off = 0;
    std::string in;
    std::size_t in_off = 0;
    int pending = 0;       // requests without a response yet
    std::string last_req;  // resent after a reconnect when pending == 1
    bool want_out = false;
  };

  HttpLoop(int port, bool validators) : port_(port), validators_(validators) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
  }
  ~HttpLoop() {
    for (auto& c : conns_)
      if (c.fd >= 0) ::close(c.fd);
    ::close(ep_);
  }
  int add() {
    conns_.emplace_back();
    open(static_cast<int>(conns_.size() - 1));
    return static_cast<int>(conns_.size() - 1);
  }
  std::size_t size() const { return conns_.size(); }
  Conn& conn(int i) { return conns_[static_cast<std::size_t>(i)]; }
  long reconnects() const { return reconnects_; }

  void send(int i, std::string req) {
    Conn& c = conn(i);
    ++c.pending;
    c.last_req = req;
    c.out.append(req);
    flush(i);
  }

  // Calls on_response(i, response) for each complete response until done()
  // or the deadline; returns false on the deadline.
  template <class OnResponse, class Done>
  bool run(OnResponse&& on_response, Done&& done, Clock::time_point deadline, int tick_ms = 50) {
    std::vector<epoll_event> events(1024);
    char buf[65536];
    while (!done()) {
      if (Clock::now() > deadline) return false;
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), tick_ms);
      for (int e = 0; e < n; ++e) {
        const int i = static_cast<int>(events[static_cast<std::size_t>(e)].data.u32);
        Conn& c = conn(i);
        if (events[static_cast<std::size_t>(e)].events & EPOLLOUT) flush(i);
        if (!(events[static_cast<std::size_t>(e)].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
          continue;
        bool eof = false;
        for (;;) {
          const ssize_t r = ::read(c.fd, buf, sizeof buf);
          if (r > 0) {
            c.in.append(buf, static_cast<std::size_t>(r));
            if (static_cast<std::size_t>(r) < sizeof buf) break;
            continue;
          }
          if (r < 0 && errno == EINTR) continue;
          if (r < 0 && errno == EAGAIN) break;
          eof = true;
          break;
        }
        HttpResponse resp;
        bool reopen = false;
        while (parse_response(c.in, c.in_off, resp, validators_)) {
          --c.pending;
          reopen = reopen || resp.close;
          on_response(i, resp);
        }
        if (c.in_off == c.in.size()) {
          c.in.clear();
          c.in_off = 0;
        } else if (c.in_off > 65536) {
          c.in.erase(0, c.in_off);
          c.in_off = 0;
        }
        if (eof || reopen) reconnect(i);
      }
    }
    return true;
  }

 private:
  void open(int i) {
    Conn& c = conn(i);
    c.fd = tcp_connect(port_, true);
    if (c.fd < 0) die(std::string("connect to nginx: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    c.want_out = false;
  }
  // The server closed (keepalive_requests, an error): reopen, and resend a
  // lone request still unanswered.
  void reconnect(int i) {
    Conn& c = conn(i);
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    ++reconnects_;
    c.in.clear();
    c.in_off = 0;
    c.out.clear();
    c.out_off = 0;
    open(i);
    if (c.pending == 1) {
      c.out = c.last_req;
      flush(i);
    } else {
      c.pending = 0;
    }
  }
  void flush(int i) {
    Conn& c = conn(i);
    while (c.out_off < c.out.size()) {
      const ssize_t n = ::write(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off);
      if (n > 0) {
        c.out_off += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;  // EAGAIN, or an error that the read side will report
    }
    if (c.out_off == c.out.size()) {
      c.out.clear();
      c.out_off = 0;
    }
    const bool want = !c.out.empty();
    if (want != c.want_out) {
      c.want_out = want;
      epoll_event ev{};
      ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
      ev.data.u32 = static_cast<std::uint32_t>(i);
      epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }
  }

  int port_;
  bool validators_;
  int ep_;
  std::vector<Conn> conns_;
  long reconnects_ = 0;
};

// ---------------------------------------------------------------------------
// The two systems as the client sees them.

// bare: bench/bare_responder behind the same nginx config as comet-gateway,
// answering with the same bytes; the client side is the same as comet's.
enum class System { nchan, comet, bare };

struct SubState {
  int channel = 0;
  std::string cursor;               // comet
  std::string last_modified, etag;  // nchan
  std::int64_t next_seq = 0;        // rate: the next message expected
};

std::string poll_request(System sys, const std::string& channel, const SubState& s) {
  std::string r;
  if (sys != System::nchan) {
    r = "GET /comet/poll?channel=" + channel + "&timeout=60";
    if (!s.cursor.empty()) r += "&since=" + s.cursor;
    r += " HTTP/1.1\r\nHost: bench\r\n\r\n";
  } else {
    r = "GET /sub?channel=" + channel + " HTTP/1.1\r\nHost: bench\r\n";
    if (!s.last_modified.empty()) r += "If-Modified-Since: " + s.last_modified + "\r\n";
    if (!s.etag.empty()) r += "If-None-Match: " + s.etag + "\r\n";
    r += "\r\n";
  }
  return r;
}

// Takes the payloads out of a response and advances the subscriber's
// position. comet: the JSON body's cursor and every message's data (the
// bench's payloads need no JSON escaping); nchan: the body is the payload,
// the position is in Last-Modified/Etag.
void take_payloads(System sys, const HttpResponse& r, SubState& s,
                   std::vector<std::string_view>& payloads, long& gaps) {
  payloads.clear();
  if (r.status != 200) return;
  if (sys == System::nchan) {
    s.last_modified = r.last_modified;
    s.etag = r.etag;
    payloads.push_back(r.body);
    return;
  }
  const std::string_view b = r.body;
  const auto c = b.find("\"cursor\":\"");
  if (c != std::string_view::npos) {
    const auto e = b.find('"', c + 10);
    s.cursor.assign(b.substr(c + 10, e - c - 10));
  }
  for (std::size_t p = 0; (p = b.find("\"data\":\"", p)) != std::string_view::npos;) {
    p += 8;
    auto e = b.find('"', p);
    while (e != std::string_view::npos && b[e - 1] == '\\') e = b.find('"', e + 1);
    if (e == std::string_view::npos) break;
    payloads.push_back(b.substr(p, e - p));
    p = e;
  }
  if (b.find("\"gaps\":") != std::string_view::npos) ++gaps;
}

// Parked polls as the server reports them.
long parked_now(System sys, int http_port) {
  if (sys != System::nchan)
    return metric(http_get(http_port, "/comet/stats"), "comet_parked_requests");
  const std::string s = http_get(http_port, "/nchan_status");
  const auto p = s.find("subscribers: ");
  return p == std::string::npos ? -1 : std::atol(s.c_str() + p + 13);
}

std::string resp_publish(const std::string& channel, const std::string& payload) {
  return "*3\r\n$7\r\nPUBLISH\r\n$" + std::to_string(channel.size()) + "\r\n" + channel + "\r\n$" +
         std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
}

std::string nchan_publish(const std::string& channel, const std::string& payload) {
  return "POST /pub?channel=" + channel +
         " HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\n"
         "Content-Length: " +
         std::to_string(payload.size()) + "\r\n\r\n" + payload;
}

// Reads and discards replies (RESP integers or HTTP responses), counting them.
struct ReplyCounter {
  explicit ReplyCounter(bool h) : http(h) {}
  bool http;
  std::string in;
  std::size_t off = 0;
  long count = 0, failed = 0;
  void feed(const char* d, std::size_t n) {
    in.append(d, n);
    if (http) {
      HttpResponse r;
      while (parse_response(in, off, r, false)) {
        ++count;
        if (r.status >= 300) ++failed;
      }
    } else {
      for (std::size_t e; (e = in.find("\r\n", off)) != std::string::npos; off = e + 2) {
        ++count;
        if (in[off] == '-') ++failed;
      }
    }
    if (off == in.size()) {
      in.clear();
      off = 0;
    } else if (off > 65536) {
      in.erase(0, off);
      off = 0;
    }
  }
};

// A publisher on one or more connections: RESP PUBLISH to Redis (comet) or
// HTTP POST to nchan's publisher location, pipelined.
class Publisher {
 public:
  Publisher(System sys, int port, int connections) : sys_(sys), counter_(sys == System::nchan) {
    for (int i = 0; i < connections; ++i) {
      const int fd = tcp_connect(port, true);
      if (fd < 0) die("publisher connect failed");
      fds_.push_back(fd);
      out_.emplace_back();
    }
  }
  ~Publisher() {
    for (int fd : fds_) ::close(fd);
  }
  static std::string channel_name(System sys, const std::string& ch) {
    return sys != System::nchan ? "comet:" + ch : ch;
  }
  // Queues one message; spread over the connections round-robin.
  void add(const std::string& channel, const std::string& payload) {
    auto& out = out_[next_++ % out_.size()];
    out += sys_ != System::nchan ? resp_publish("comet:" + channel, payload)
                                 : nchan_publish(channel, payload);
    ++queued_;
  }
  // Writes everything queued, reading replies meanwhile (so neither side
  // stalls the other).
  void send() {
    std::vector<std::size_t> off(out_.size(), 0);
    std::vector<pollfd> pfds(fds_.size());
    char buf[65536];
    for (;;) {
      bool left = false;
      for (std::size_t i = 0; i < fds_.size(); ++i) {
        while (off[i] < out_[i].size()) {
          const ssize_t n = ::write(fds_[i], out_[i].data() + off[i], out_[i].size() - off[i]);
          if (n <= 0) break;
          off[i] += static_cast<std::size_t>(n);
        }
        if (off[i] < out_[i].size()) left = true;
      }
      drain();
      if (!left) break;
      for (std::size_t i = 0; i < fds_.size(); ++i)
        pfds[i] = {fds_[i], static_cast<short>(POLLIN | (off[i] < out_[i].size() ? POLLOUT : 0)),
                   0};
      ::poll(pfds.data(), pfds.size(), 100);
      (void)buf;
    }
    for (auto& o : out_) o.clear();
  }
  // Reads whatever replies are there, without waiting.
  void drain() {
    char buf[65536];
    for (int fd : fds_) {
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        counter_.feed(buf, static_cast<std::size_t>(n));
    }
  }
  // Waits until every queued message has its reply (or the limit).
  bool wait_replies(std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (counter_.count < queued_ && Clock::now() < deadline) {
      std::vector<pollfd> pfds;
      for (int fd : fds_) pfds.push_back({fd, POLLIN, 0});
      ::poll(pfds.data(), pfds.size(), 50);
      drain();
    }
    return counter_.count >= queued_;
  }
  long failed() const { return counter_.failed; }

 private:
  System sys_;
  std::vector<int> fds_;
  std::vector<std::string> out_;
  std::size_t next_ = 0;
  long queued_ = 0;
  ReplyCounter counter_;
};

const char* name_of(System s) {
  return s == System::comet ? "comet-gateway" : s == System::bare ? "bare" : "nchan";
}

// ---------------------------------------------------------------------------
// Fan-out through nginx: `count` polls on `channels` channels, one message
// per channel, time until every poll has it; `rounds` rounds on the same
// keep-alive connections, each poll following its cursor.

struct FanoutResult {
  std::vector<double> ms;              // per round: publish -> all delivered
  std::vector<double> p50_ms;          // per round: median poll's delivery
  std::vector<long> fcgi_connections;  // comet: after each round
  long reconnects = 0, wrong = 0;
  double rss_per_parked_b = NAN;         // comet: gateway RSS per parked poll
  double nginx_rss_per_parked_b = NAN;   // nginx worker(s) RSS per parked poll
  double other_cpu = 0;                  // max over rounds, % of one CPU
  std::vector<double> nginx_cpu_ms;      // per round: nginx workers' CPU during the fan-out
  std::vector<double> responder_cpu_ms;  // per round: the FastCGI responder's
  double steal_ms = 0;                   // max over rounds: CPU the hypervisor took
};

long nginx_workers_rss(pid_t master) {
  long sum = 0;
  for (int w : children_of(master)) sum += std::max(0L, rss_kib(w));
  return sum;
}

FanoutResult run_fanout(System sys, Stack& st, int count, int channels, int rounds,
                        int round_base) {
  const int port = st.nginx_port();
  FanoutResult res;
  HttpLoop loop(port, sys == System::nchan);
  std::vector<SubState> subs(static_cast<std::size_t>(count));
  std::vector<std::string> names;
  const std::string tag = "f" + std::to_string(round_base) + "c" + std::to_string(channels);
  for (int c = 0; c < channels; ++c) names.push_back(tag + "-" + std::to_string(c));
  const int publish_port = sys == System::comet  ? st.redis_port()
                           : sys == System::bare ? st.bare_control_port()
                                                 : port;
  Publisher pub(sys, publish_port, 1);
  const long parked0 = std::max(0L, parked_now(sys, port));
  const long gw_rss0 = sys != System::nchan ? rss_kib(st.gateway_pid()) : 0;
  const long ngx_rss0 = nginx_workers_rss(st.nginx_pid());
  // The long wait for a quiet machine comes before the clients connect:
  // nginx closes a connection that sends no request within 60 s
  // (client_header_timeout) and an idle keep-alive one after 75 s.
  wait_quiet();
  for (int i = 0; i < count; ++i) {
    subs[static_cast<std::size_t>(i)].channel = i % channels;
    loop.add();
  }
  std::vector<std::string_view> payloads;
  long gaps = 0;
  for (int round = 0; round < rounds; ++round) {
    if (round > 0) wait_quiet(50s);
    for (int i = 0; i < count; ++i) {
      const auto& s = subs[static_cast<std::size_t>(i)];
      loop.send(i, poll_request(sys, names[static_cast<std::size_t>(s.channel)], s));
    }
    const auto park_deadline = Clock::now() + 60s;
    while (parked_now(sys, port) < parked0 + count) {
      if (Clock::now() > park_deadline)
        die(std::string(name_of(sys)) + ": round " + std::to_string(round) + ": only " +
            std::to_string(parked_now(sys, port) - parked0) + " of " + std::to_string(count) +
            " polls parked");
      // Serve the clients meanwhile: a connection that nginx closed while
      // the bench waited for a quiet machine (keepalive_timeout) is reopened
      // here and its poll sent again. A response now is not the message (an
      // error): it is counted and the poll sent again.
      int turns = 0;
      loop.run(
          [&](int i, const HttpResponse&) {
            ++res.wrong;
            const auto& s = subs[static_cast<std::size_t>(i)];
            loop.send(i, poll_request(sys, names[static_cast<std::size_t>(s.channel)], s));
          },
          [&] { return turns++ > 0; }, Clock::now() + 1s, 20);
    }
    std::this_thread::sleep_for(100ms);  // let the servers settle
    if (round == 0) {
      if (sys != System::nchan)
        res.rss_per_parked_b = (rss_kib(st.gateway_pid()) - gw_rss0) * 1024.0 / count;
      res.nginx_rss_per_parked_b = (nginx_workers_rss(st.nginx_pid()) - ngx_rss0) * 1024.0 / count;
    }
    const std::string marker = "round-" + std::to_string(round);
    for (const auto& n : names) pub.add(n, "bench " + marker);
    int done = 0;
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(count));
    // The last round is profiled when --perf is given.
    std::optional<PerfRecord> perf;
    if (round == rounds - 1 && !g_perf_prefix.empty())
      perf.emplace(g_perf_prefix, std::string(name_of(sys)) + "-fanout-" +
                                      std::to_string(channels) + "ch-" +
                                      std::to_string(round_base));
    const OtherCpu other(st.own_pids());
    const auto workers = children_of(st.nginx_pid());
    const auto nginx_cpu = [&] {
      double sum = 0;
      for (int w : workers) sum += cpu_ns(w);
      return sum;
    };
    const double ngx0 = nginx_cpu();
    const double resp0 = sys != System::nchan ? cpu_ns(st.gateway_pid()) : 0;
    const double steal0 = steal_ms();
    const auto t0 = Clock::now();
    pub.send();
    const bool ok = loop.run(
        [&](int i, const HttpResponse& r) {
          auto& s = subs[static_cast<std::size_t>(i)];
          take_payloads(sys, r, s, payloads, gaps);
          bool found = false;
          for (auto p : payloads) found = found || p.find(marker) != std::string_view::npos;
          if (!found) {
            if (std::getenv("BENCH_DEBUG"))
              std::fprintf(stderr, "unexpected response %d: %.*s\n", r.status,
                           static_cast<int>(r.body.size()), r.body.data());
            ++res.wrong;  // a timeout or an error: poll again
            loop.send(i, poll_request(sys, names[static_cast<std::size_t>(s.channel)], s));
            return;
          }
          ++done;
          lat.push_back(since_ms(t0));
        },
        [&] { return done >= count; }, t0 + 30s);
    const double ms = since_ms(t0);
    res.nginx_cpu_ms.push_back((nginx_cpu() - ngx0) / 1e6);
    if (sys != System::nchan)
      res.responder_cpu_ms.push_back((cpu_ns(st.gateway_pid()) - resp0) / 1e6);
    res.steal_ms = std::max(res.steal_ms, steal_ms() - steal0);
    res.other_cpu = std::max(res.other_cpu, other.percent());
    perf.reset();
    if (!ok)
      die(std::string(name_of(sys)) + ": only " + std::to_string(done) + " of " +
          std::to_string(count) + " polls got the message");
    res.ms.push_back(lat.empty() ? ms : *std::max_element(lat.begin(), lat.end()));
    res.p50_ms.push_back(median(lat));
    pub.wait_replies(5s);
    if (sys != System::nchan)
      res.fcgi_connections.push_back(
          metric(http_get(port, "/comet/stats"), "comet_fcgi_connections"));
  }
  res.reconnects = loop.reconnects();
  return res;
}

void print_row(const std::vector<std::string>& cells, const std::vector<int>& widths) {
  std::string line = "|";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    char b[256];
    std::snprintf(b, sizeof b, " %-*s |", widths[i], cells[i].c_str());
    line += b;
  }
  std::printf("%s\n", line.c_str());
}

void print_table(const std::vector<std::string>& head,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<int> w(head.size(), 3);
  for (std::size_t i = 0; i < head.size(); ++i)
    w[i] = std::max(w[i], static_cast<int>(head[i].size()));
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], static_cast<int>(r[i].size()));
  print_row(head, w);
  std::string sep = "|";
  for (int x : w) sep += std::string(static_cast<std::size_t>(x) + 2, '-') + "|";
  std::printf("%s\n", sep.c_str());
  for (const auto& r : rows) print_row(r, w);
  std::fflush(stdout);
}

std::string join_ms(const std::vector<double>& v) {
  std::string s;
  for (double x : v) s += (s.empty() ? "" : " ") + fmt("%.0f", x);
  return s;
}

int scenario_fanout(const Options& o) {
  Stack st(o);
  st.start_redis();
  const auto wanted = [&](const std::string& s) {
    return std::find(o.systems.begin(), o.systems.end(), s) != o.systems.end();
  };
  struct Row {
    int channels;
    // "nchan", "bare-unix", "comet-unix", "bare-tcp", "comet-tcp"
    std::map<std::string, FanoutResult> by;
  };
  std::vector<Row> rows{{1, {}}, {100, {}}};
  int base = 0;
  std::printf("fan-out: %d parked polls, %d rounds, nginx worker_processes %d\n", o.count, o.rounds,
              o.workers);
  const auto report = [](const std::string& what, int channels, const FanoutResult& r) {
    std::printf("  %-12s %3d ch: %s ms (other processes' CPU <= %.0f%%, steal <= %.0f ms)",
                what.c_str(), channels, join_ms(r.ms).c_str(), r.other_cpu, r.steal_ms);
    std::printf("; nginx CPU %s ms", join_ms(r.nginx_cpu_ms).c_str());
    if (!r.responder_cpu_ms.empty())
      std::printf("; responder CPU %s ms", join_ms(r.responder_cpu_ms).c_str());
    if (!r.fcgi_connections.empty()) {
      std::printf("; fcgi connections after each round:");
      for (long c : r.fcgi_connections) std::printf(" %ld", c);
    }
    std::printf("\n");
    std::fflush(stdout);
  };
  // nchan first, then per transport the bare responder (the floor of the
  // FastCGI hop) and comet-gateway behind the same nginx config; each system
  // has the machine to itself while it runs.
  if (wanted("nchan")) {
    st.start_nginx_nchan();
    for (auto& r : rows) {
      r.by["nchan"] = run_fanout(System::nchan, st, o.count, r.channels, o.rounds, ++base);
      report("nchan", r.channels, r.by["nchan"]);
    }
    st.stop_nginx();
  }
  for (const auto& t : o.transports) {
    for (const System sys : {System::bare, System::comet}) {
      const std::string name = sys == System::bare ? "bare" : "comet";
      if (!wanted(name)) continue;
      st.start_nginx_comet(sys == System::bare ? st.start_bare(t) : st.start_gateway(t));
      wait_for("responder health", [&] {
        return http_get(st.nginx_port(), "/comet/health").find("up") != std::string::npos;
      });
      for (auto& r : rows) {
        auto res = run_fanout(sys, st, o.count, r.channels, o.rounds, ++base);
        report(name + " (" + t + ")", r.channels, res);
        r.by[name + "-" + t] = std::move(res);
      }
      st.stop_nginx();
      st.stop_gateway();
    }
  }
  const auto med = [](Row& r, const std::string& k) {
    auto it = r.by.find(k);
    return it == r.by.end() ? NAN : median(it->second.ms);
  };
  const auto ratio = [](double a, double b) {
    return std::isnan(a) || std::isnan(b) ? std::string("-") : fmt("%.2f", a / b);
  };
  const auto ms = [](double v) { return std::isnan(v) ? std::string("-") : fmt("%.0f", v); };
  std::vector<std::string> head{"scenario",
                                "transport",
                                "nchan ms",
                                "bare ms",
                                "comet ms",
                                "comet/nchan",
                                "bare/nchan",
                                "comet/bare",
                                "nginx CPU ms (nchan/bare/comet)",
                                "other CPU %",
                                "fcgi conns after each round (bare; comet)"};
  std::vector<std::vector<std::string>> table;
  fs::create_directories(o.out);
  std::ofstream csv(o.out / "fanout.csv");
  csv << "channels,system,median_ms,rounds_ms,p50_ms,reconnects,rss_per_parked_b,nginx_rss_per_"
         "parked_b,other_cpu,nginx_cpu_ms,responder_cpu_ms\n";
  for (auto& r : rows) {
    const double n = med(r, "nchan");
    for (const auto& t : o.transports) {
      const double b = med(r, "bare-" + t), c = med(r, "comet-" + t);
      double other = 0;
      std::string conns;
      for (const std::string k : {"nchan", "bare-", "comet-"}) {
        const std::string key = k == "nchan" ? k : k + t;
        auto it = r.by.find(key);
        if (it == r.by.end()) continue;
        other = std::max(other, it->second.other_cpu);
        if (k == "nchan") continue;
        std::string cs;
        for (long x : it->second.fcgi_connections)
          cs += (cs.empty() ? "" : "/") + std::to_string(x);
        conns += (conns.empty() ? "" : "; ") + cs;
      }
      // nginx's CPU time during the fan-out (median of the rounds): the
      // worker is the bottleneck, so this is where the systems differ.
      std::string ngx_cpu;
      for (const std::string k : {"nchan", "bare-", "comet-"}) {
        auto it = r.by.find(k == "nchan" ? k : k + t);
        ngx_cpu += (ngx_cpu.empty() ? "" : "/") +
                   (it == r.by.end() ? std::string("-") : ms(median(it->second.nginx_cpu_ms)));
      }
      table.push_back({std::to_string(o.count) + " polls, " + std::to_string(r.channels) +
                           " ch (median of " + std::to_string(o.rounds) + ")",
                       t, ms(n), ms(b), ms(c), ratio(c, n), ratio(b, n), ratio(c, b), ngx_cpu,
                       fmt("%.0f", other), conns});
    }
    for (auto& [sys, f] : r.by) {
      csv << r.channels << "," << sys << "," << median(f.ms) << ",\"" << join_ms(f.ms) << "\","
          << median(f.p50_ms) << "," << f.reconnects << "," << f.rss_per_parked_b << ","
          << f.nginx_rss_per_parked_b << "," << f.other_cpu << ",\"" << join_ms(f.nginx_cpu_ms)
          << "\",\"" << join_ms(f.responder_cpu_ms) << "\"\n";
    }
  }
  std::printf("\n");
  print_table(head, table);
  std::printf("\nrounds (ms):\n");
  for (auto& r : rows)
    for (auto& [sys, f] : r.by)
      std::printf("  %3d ch %-10s %s\n", r.channels, sys.c_str(), join_ms(f.ms).c_str());
  const auto rss = [&](const std::string& k, bool nginx) {
    auto it = rows[0].by.find(k);
    if (it == rows[0].by.end()) return std::string("-");
    return fmt("%.0f", nginx ? it->second.nginx_rss_per_parked_b : it->second.rss_per_parked_b);
  };
  const std::string t0 = o.transports.empty() ? "unix" : o.transports[0];
  std::printf(
      "\nmemory per parked poll (1 ch, %s): gateway %s B, bare responder %s B; nginx worker: "
      "nchan %s B, comet %s B\n",
      t0.c_str(), rss("comet-" + t0, false).c_str(), rss("bare-" + t0, false).c_str(),
      rss("nchan", true).c_str(), rss("comet-" + t0, true).c_str());
  long reconnects = 0;
  for (auto& r : rows)
    for (auto& [sys, f] : r.by) reconnects += f.reconnects;
  std::printf("client reconnects (server closed a keep-alive connection): %ld\n", reconnects);
  return 0;
}

// ---------------------------------------------------------------------------
// Steady rate: channels x subscribers following their positions while a
// publisher thread publishes at a fixed rate; latency from the timestamp in
// the payload ("t=<steady ns>;c=<channel>;s=<seq>").

struct RateResult {
  int rate = 0;
  long published = 0, publish_failed = 0;
  double publish_rate = 0;  // achieved
  long expected = 0, delivered = 0, lost = 0, duplicated = 0, gaps = 0, errors = 0;
  double delivered_per_s = 0, p50 = NAN, p99 = NAN, max = NAN;  // ms
  double other_cpu = 0;  // % of one CPU used by other processes meanwhile
};

RateResult run_rate(System sys, Stack& st, int rate, double seconds, int channels,
                    int per_channel) {
  const int port = st.nginx_port();
  RateResult res;
  res.rate = rate;
  const std::string tag = "r" + std::to_string(rate);
  std::vector<std::string> names;
  for (int c = 0; c < channels; ++c) names.push_back(tag + "-" + std::to_string(c));
  const long parked0 = std::max(0L, parked_now(sys, port));
  HttpLoop loop(port, sys == System::nchan);
  const int subs_n = channels * per_channel;
  std::vector<SubState> subs(static_cast<std::size_t>(subs_n));
  for (int i = 0; i < subs_n; ++i) {
    subs[static_cast<std::size_t>(i)].channel = i % channels;
    loop.add();
    loop.send(i, poll_request(sys, names[static_cast<std::size_t>(i % channels)],
                              subs[static_cast<std::size_t>(i)]));
  }
  wait_for(
      "subscribers to park", [&] { return parked_now(sys, port) >= parked0 + subs_n; }, 30s);
  std::this_thread::sleep_for(200ms);
  wait_quiet();

  const long total = static_cast<long>(std::llround(rate * seconds));
  std::atomic<bool> publishing{true};
  std::atomic<long> published{0};
  double publish_secs = 0;
  long publish_failed = 0;
  const int publish_port = sys == System::comet ? st.redis_port() : port;
  const OtherCpu other(st.own_pids());
  const auto t_start = Clock::now();
  std::thread publisher([&] {
    // Redis: one pipelined connection; nchan: 4 keep-alive connections with
    // pipelined POSTs (one nginx worker serves them in turn).
    Publisher pub(sys, publish_port, sys == System::comet ? 1 : 4);
    long k = 0;
    while (k < total) {
      const double el = std::chrono::duration<double>(Clock::now() - t_start).count();
      const long target = std::min(total, static_cast<long>(el * rate) + 1);
      const std::int64_t t = now_ns();
      for (; k < target; ++k) {
        const long ch = k % channels, seq = k / channels;
        pub.add(
            names[static_cast<std::size_t>(ch)],
            "t=" + std::to_string(t) + ";c=" + std::to_string(ch) + ";s=" + std::to_string(seq));
      }
      pub.send();
      published = k;
      std::this_thread::sleep_until(
          t_start + std::chrono::microseconds(static_cast<long>((k + 1) * 1e6 / rate)));
    }
    publish_secs = std::chrono::duration<double>(Clock::now() - t_start).count();
    pub.wait_replies(10s);
    publish_failed = pub.failed();
    publishing = false;
  });

  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(total) * static_cast<std::size_t>(per_channel));
  std::vector<std::string_view> payloads;
  auto last_delivery = t_start;
  const long per_channel_msgs_max = (total + channels - 1) / channels;
  auto expected_on = [&](int ch) { return total / channels + (ch < total % channels ? 1 : 0); };
  long complete = 0;  // subscribers that have everything
  std::vector<char> is_complete(static_cast<std::size_t>(subs_n), 0);
  (void)per_channel_msgs_max;
  Clock::time_point drain_deadline = Clock::time_point::max();
  loop.run(
      [&](int i, const HttpResponse& r) {
        auto& s = subs[static_cast<std::size_t>(i)];
        if (r.status != 200 && r.status != 304 && r.status != 408) ++res.errors;
        take_payloads(sys, r, s, payloads, res.gaps);
        const std::int64_t now = now_ns();
        for (auto p : payloads) {
          if (p.size() < 2 || p[0] != 't') continue;
          const std::int64_t t = std::atoll(p.data() + 2);
          const auto sp = p.find(";s=");
          const long seq = std::atol(p.data() + sp + 3);
          if (seq < s.next_seq) {
            ++res.duplicated;
            continue;
          }
          res.lost += seq - s.next_seq;
          s.next_seq = seq + 1;
          ++res.delivered;
          lat.push_back(static_cast<double>(now - t) / 1e6);
          last_delivery = Clock::now();
        }
        if (!is_complete[static_cast<std::size_t>(i)] && !publishing &&
            s.next_seq >= expected_on(s.channel)) {
          is_complete[static_cast<std::size_t>(i)] = 1;
          ++complete;
        }
        loop.send(i, poll_request(sys, names[static_cast<std::size_t>(s.channel)], s));
      },
      [&] {
        if (publishing) return false;
        if (drain_deadline == Clock::time_point::max()) {
          drain_deadline = Clock::now() + 5s;
          // Subscribers that were already complete when publishing ended.
          for (int i = 0; i < subs_n; ++i) {
            auto& s = subs[static_cast<std::size_t>(i)];
            if (!is_complete[static_cast<std::size_t>(i)] && s.next_seq >= expected_on(s.channel)) {
              is_complete[static_cast<std::size_t>(i)] = 1;
              ++complete;
            }
          }
        }
        return complete >= subs_n || Clock::now() > drain_deadline;
      },
      t_start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(seconds * 3 + 30)),
      10);
  publisher.join();
  res.other_cpu = other.percent();
  // What never arrived by the end of the drain counts as lost.
  for (int i = 0; i < subs_n; ++i) {
    auto& s = subs[static_cast<std::size_t>(i)];
    res.lost += std::max(0L, expected_on(s.channel) - s.next_seq);
  }
  res.published = total;
  res.publish_failed = publish_failed;
  res.publish_rate = publish_secs > 0 ? total / publish_secs : 0;
  res.expected = total * per_channel;
  const double span = std::chrono::duration<double>(last_delivery - t_start).count();
  res.delivered_per_s = span > 0 ? res.delivered / span : 0;
  std::sort(lat.begin(), lat.end());
  res.p50 = percentile(lat, 50);
  res.p99 = percentile(lat, 99);
  res.max = lat.empty() ? NAN : lat.back();
  return res;
}

int scenario_rate(const Options& o) {
  Stack st(o);
  st.start_redis();
  std::printf(
      "steady rate: %d channels x %d subscribers, %.0f s per rate, nginx worker_processes %d\n",
      o.channels, o.subscribers, o.seconds, o.workers);
  std::map<std::string, std::vector<RateResult>> by;
  auto run_all = [&](System sys, const std::string& key) {
    for (int rate : o.rates) {
      auto r = run_rate(sys, st, rate, o.seconds, o.channels, o.subscribers);
      std::printf(
          "  %-14s %6d msg/s: delivered %ld/%ld (%.0f/s) p50 %.1f p99 %.1f max %.1f ms, lost %ld, "
          "dup %ld, gaps %ld, errors %ld, publish %.0f/s; other processes' CPU %.0f%%\n",
          key.c_str(), rate, r.delivered, r.expected, r.delivered_per_s, r.p50, r.p99, r.max,
          r.lost, r.duplicated, r.gaps, r.errors, r.publish_rate, r.other_cpu);
      std::fflush(stdout);
      by[key].push_back(r);
    }
  };
  st.start_nginx_nchan();
  run_all(System::nchan, "nchan");
  st.stop_nginx();
  const std::string t = o.transports.front();
  st.start_nginx_comet(st.start_gateway(t));
  wait_for("gateway health", [&] {
    return http_get(st.nginx_port(), "/comet/health").find("up") != std::string::npos;
  });
  run_all(System::comet, "comet-" + t);
  st.stop_nginx();
  st.stop_gateway();

  fs::create_directories(o.out);
  std::ofstream dat(o.out / "rate.dat");
  dat << "# rate nchan_p99_ms comet_p99_ms nchan_p50_ms comet_p50_ms nchan_delivered_per_s "
         "comet_delivered_per_s\n";
  std::vector<std::vector<std::string>> table;
  const auto& n = by["nchan"];
  const auto& c = by["comet-" + t];
  for (std::size_t i = 0; i < o.rates.size(); ++i) {
    dat << o.rates[i] << " " << n[i].p99 << " " << c[i].p99 << " " << n[i].p50 << " " << c[i].p50
        << " " << n[i].delivered_per_s << " " << c[i].delivered_per_s << "\n";
    for (const auto* r : {&n[i], &c[i]}) {
      const bool is_n = r == &n[i];
      table.push_back({std::to_string(o.rates[i]), is_n ? "nchan" : "comet-" + t,
                       fmt("%.0f", r->delivered_per_s),
                       std::to_string(r->delivered) + "/" + std::to_string(r->expected),
                       fmt("%.1f", r->p50), fmt("%.1f", r->p99), fmt("%.1f", r->max),
                       std::to_string(r->lost), std::to_string(r->duplicated),
                       std::to_string(r->gaps), fmt("%.0f", r->publish_rate),
                       is_n ? "" : fmt("%.2f", r->p99 / n[i].p99), fmt("%.0f", r->other_cpu)});
    }
  }
  std::printf("\n");
  print_table({"msg/s", "system", "delivered/s", "delivered", "p50 ms", "p99 ms", "max ms", "lost",
               "dup", "gap resp", "publish/s", "p99 ratio", "other CPU %"},
              table);
  return 0;
}

// ---------------------------------------------------------------------------
// The gateway alone: parked requests over multiplexed FastCGI connections.

void fcgi_header(std::string& out, std::uint8_t type, std::uint16_t id, std::uint16_t len) {
  const char h[8] = {1,
                     static_cast<char>(type),
                     static_cast<char>(id >> 8),
                     static_cast<char>(id & 0xff),
                     static_cast<char>(len >> 8),
                     static_cast<char>(len & 0xff),
                     0,
                     0};
  out.append(h, 8);
}

void fcgi_nv(std::string& out, const std::string& n, const std::string& v) {
  out += static_cast<char>(n.size());  // all < 128 here
  out += static_cast<char>(v.size());
  out += n;
  out += v;
}

// BEGIN_REQUEST (responder, keep-conn), PARAMS, empty PARAMS, empty STDIN.
void fcgi_request(std::string& out, std::uint16_t id, const std::string& uri,
                  const std::string& query) {
  fcgi_header(out, 1, id, 8);
  const char begin[8] = {0, 1, 1, 0, 0, 0, 0, 0};
  out.append(begin, 8);
  std::string p;
  fcgi_nv(p, "REQUEST_METHOD", "GET");
  fcgi_nv(p, "DOCUMENT_URI", uri);
  fcgi_nv(p, "QUERY_STRING", query);
  fcgi_header(out, 4, id, static_cast<std::uint16_t>(p.size()));
  out += p;
  fcgi_header(out, 4, id, 0);
  fcgi_header(out, 5, id, 0);
}

// One request on its own connection; returns the STDOUT stream.
std::string fcgi_get(const std::string& sock, const std::string& uri) {
  const int fd = unix_connect(sock);
  if (fd < 0) return {};
  std::string req;
  fcgi_request(req, 1, uri, "");
  write_all(fd, req);
  std::string in, out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
    std::size_t p = 0;
    bool ended = false;
    while (in.size() - p >= 8) {
      const auto* h = reinterpret_cast<const unsigned char*>(in.data() + p);
      const std::size_t len = (h[4] << 8) | h[5], pad = h[6];
      if (in.size() - p < 8 + len + pad) break;
      if (h[1] == 6) out.append(in, p + 8, len);
      if (h[1] == 3) ended = true;
      p += 8 + len + pad;
    }
    in.erase(0, p);
    if (ended) break;
  }
  ::close(fd);
  return out;
}

struct GatewayAloneResult {
  long parked = 0;
  double park_secs = 0;
  long rss_idle_kib = 0, rss_parked_kib = 0;
  double rss_per_parked_b = 0;
  double idle_cpu_pct = 0;
  double fanout_ms = 0, first_ms = 0;
  long answered = 0, with_message = 0;
  double gateway_cpu_ms = 0;  // CPU the gateway spent in the fan-out
  std::vector<double> rounds_ms;
  int connections = 0;
};

GatewayAloneResult run_gateway_alone(const Options& o, long n) {
  Stack st(o);
  st.start_redis();
  st.start_gateway("unix", {"--max-requests-per-connection", "65535", "--max-parked",
                            std::to_string(n + 1000), "--max-timeout", "600"});
  const pid_t gw = st.gateway_pid();
  const std::string sock = st.gateway_socket();
  wait_for("gateway health",
           [&] { return fcgi_get(sock, "/comet/health").find("\"up\"") != std::string::npos; });
  GatewayAloneResult res;
  res.parked = n;
  std::this_thread::sleep_for(200ms);
  res.rss_idle_kib = rss_kib(gw);
  const int per = o.per_connection;
  const int conns = static_cast<int>((n + per - 1) / per);
  res.connections = conns;
  std::vector<int> fds;
  std::vector<std::string> requests;
  long left = n;
  for (int c = 0; c < conns; ++c) {
    const int fd = unix_connect(sock);
    if (fd < 0) die("connect to gateway failed");
    fds.push_back(fd);
    const int here = static_cast<int>(std::min<long>(left, per));
    left -= here;
    std::string out;
    out.reserve(static_cast<std::size_t>(here) * 110);
    for (int i = 1; i <= here; ++i)
      fcgi_request(out, static_cast<std::uint16_t>(i), "/comet/poll", "channel=solo&timeout=590");
    requests.push_back(std::move(out));
  }
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int c = 0; c < conns; ++c) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(c);
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[static_cast<std::size_t>(c)], &ev);
  }
  std::vector<std::string> in(static_cast<std::size_t>(conns));
  const int rfd = tcp_connect(st.redis_port(), false);
  std::vector<epoll_event> events(64);
  std::vector<char> buf(1 << 20);
  std::vector<double> fanout, first, cpu;
  // Rounds on the same connections: park n, publish one message, read
  // every answer; request ids are free again once answered.
  for (int round = 0; round < o.rounds; ++round) {
    const auto t0 = Clock::now();
    for (int c = 0; c < conns; ++c)
      write_all(fds[static_cast<std::size_t>(c)], requests[static_cast<std::size_t>(c)]);
    wait_for(
        "requests to park",
        [&] { return metric(fcgi_get(sock, "/comet/stats"), "comet_parked_requests") >= n; }, 300s);
    if (round == 0) {
      res.park_secs = std::chrono::duration<double>(Clock::now() - t0).count();
      std::this_thread::sleep_for(500ms);
      res.rss_parked_kib = rss_kib(gw);
      res.rss_per_parked_b = (res.rss_parked_kib - res.rss_idle_kib) * 1024.0 / n;
      wait_quiet();
      // Idle CPU with everything parked.
      const long ticks0 = cpu_ticks(gw);
      std::this_thread::sleep_for(std::chrono::duration<double>(o.idle_seconds));
      const long ticks1 = cpu_ticks(gw);
      res.idle_cpu_pct = 100.0 * (ticks1 - ticks0) / (sysconf(_SC_CLK_TCK) * o.idle_seconds);
      for (int fd : fds) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    } else {
      std::this_thread::sleep_for(200ms);
      wait_quiet();
    }
    std::optional<PerfRecord> perf;
    if (round == o.rounds - 1 && !g_perf_prefix.empty())
      perf.emplace(g_perf_prefix, "gateway-alone-" + std::to_string(n));
    const long cpu0 = cpu_ticks(gw);
    const std::string marker = "fanout-solo-" + std::to_string(round);
    long answered = 0, with_message = 0;
    double first_ms = NAN;
    const auto tp = Clock::now();
    write_all(rfd, resp_publish("comet:solo", "{\"bench\":\"" + marker + "\"}"));
    while (answered < n && since_ms(tp) < 120000) {
      const int k = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
      for (int e = 0; e < k; ++e) {
        const auto c = events[static_cast<std::size_t>(e)].data.u32;
        std::string& b = in[c];
        for (;;) {
          const ssize_t r = ::read(fds[c], buf.data(), buf.size());
          if (r <= 0) break;
          b.append(buf.data(), static_cast<std::size_t>(r));
          if (static_cast<std::size_t>(r) < buf.size()) break;
        }
        std::size_t p = 0;
        while (b.size() - p >= 8) {
          const auto* h = reinterpret_cast<const unsigned char*>(b.data() + p);
          const std::size_t len = (h[4] << 8) | h[5], pad = h[6];
          if (b.size() - p < 8 + len + pad) break;
          if (h[1] == 6 && len > 0 &&
              std::string_view(b.data() + p + 8, len).find(marker) != std::string_view::npos)
            ++with_message;
          if (h[1] == 3) {
            if (answered == 0) first_ms = since_ms(tp);
            ++answered;
          }
          p += 8 + len + pad;
        }
        b.erase(0, p);
      }
    }
    const double ms = since_ms(tp);
    perf.reset();
    std::this_thread::sleep_for(100ms);
    fanout.push_back(ms);
    first.push_back(first_ms);
    cpu.push_back((cpu_ticks(gw) - cpu0) * 1000.0 / sysconf(_SC_CLK_TCK));
    res.answered += answered;
    res.with_message += with_message;
    char drain[64];
    while (::recv(rfd, drain, sizeof drain, MSG_DONTWAIT) > 0) {
    }
  }
  res.fanout_ms = median(fanout);
  res.first_ms = median(first);
  res.gateway_cpu_ms = median(cpu);
  res.rounds_ms = fanout;
  ::close(rfd);
  ::close(ep);
  for (int fd : fds) ::close(fd);
  return res;
}

int scenario_gateway(const Options& o) {
  std::printf(
      "gateway alone: parked requests over multiplexed FastCGI (unix socket), %d per connection\n",
      o.per_connection);
  std::vector<std::vector<std::string>> table;
  fs::create_directories(o.out);
  std::ofstream csv(o.out / "gateway.csv");
  csv << "parked,connections,park_s,rss_idle_kib,rss_parked_kib,rss_per_parked_b,idle_cpu_pct,"
         "fanout_ms,first_ms,answered,with_message,gateway_cpu_ms\n";
  for (long n : o.parked) {
    const auto r = run_gateway_alone(o, n);
    std::printf(
        "  %ld parked on %d connections in %.1f s; RSS %ld -> %ld KiB; idle CPU %.2f%%; fan-out "
        "%.0f ms (median; rounds %s; first answer %.1f ms), %ld answered, %ld with the message, "
        "gateway CPU %.0f ms\n",
        n, r.connections, r.park_secs, r.rss_idle_kib, r.rss_parked_kib, r.idle_cpu_pct,
        r.fanout_ms, join_ms(r.rounds_ms).c_str(), r.first_ms, r.answered, r.with_message,
        r.gateway_cpu_ms);
    std::fflush(stdout);
    csv << n << "," << r.connections << "," << r.park_secs << "," << r.rss_idle_kib << ","
        << r.rss_parked_kib << "," << r.rss_per_parked_b << "," << r.idle_cpu_pct << ","
        << r.fanout_ms << "," << r.first_ms << "," << r.answered << "," << r.with_message << ","
        << r.gateway_cpu_ms << "\n";
    table.push_back({std::to_string(n), std::to_string(r.connections),
                     fmt("%.0f", r.rss_per_parked_b), fmt("%.1f", r.fanout_ms),
                     fmt("%.2f", r.idle_cpu_pct),
                     std::to_string(r.answered) + "/" + std::to_string(r.with_message),
                     fmt("%.0f", r.gateway_cpu_ms), fmt("%.1f", r.park_secs)});
  }
  std::printf("\n");
  print_table({"parked", "fcgi conns", "RSS B/parked", "fan-out ms (median)", "idle CPU %",
               "answered/with msg", "gw CPU ms in fan-out", "park s"},
              table);
  return 0;
}

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 2)
    die("usage: comet_bench fanout|rate|gateway|all [options] (see the header of "
        "bench/comet_bench.cpp)");
  o.mode = argv[1];
  const fs::path self = fs::canonical("/proc/self/exe");
  o.build = self.parent_path().parent_path();
  o.root = fs::path(__FILE__).parent_path().parent_path();
  for (int i = 2; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--keep") {
      o.keep = true;
      continue;
    }
    if (i + 1 >= argc) die("missing value for " + k);
    const std::string v = argv[++i];
    if (k == "--count")
      o.count = std::stoi(v);
    else if (k == "--rounds")
      o.rounds = std::stoi(v);
    else if (k == "--workers")
      o.workers = std::stoi(v);
    else if (k == "--transports")
      o.transports = split(v, ',');
    else if (k == "--systems")
      o.systems = split(v, ',');
    else if (k == "--rates") {
      o.rates.clear();
      for (const auto& s : split(v, ',')) o.rates.push_back(std::stoi(s));
    } else if (k == "--seconds")
      o.seconds = std::stod(v);
    else if (k == "--channels")
      o.channels = std::stoi(v);
    else if (k == "--subscribers")
      o.subscribers = std::stoi(v);
    else if (k == "--parked") {
      o.parked.clear();
      for (const auto& s : split(v, ',')) o.parked.push_back(std::stol(s));
    } else if (k == "--idle-seconds")
      o.idle_seconds = std::stod(v);
    else if (k == "--per-connection")
      o.per_connection = std::min(65535, std::stoi(v));
    else if (k == "--build")
      o.build = v;
    else if (k == "--root")
      o.root = v;
    else if (k == "--out")
      o.out = v;
    else if (k == "--perf")
      o.perf = v;
    else
      die("unknown option " + k);
  }
  if (o.out.empty()) o.out = o.build / "bench-results";
  if (!fs::exists(o.build / "comet-gateway"))
    die("no comet-gateway in " + o.build.string() + " (--build DIR)");
  if (!fs::exists(o.root / "nginx.conf.example"))
    die("no nginx.conf.example in " + o.root.string() + " (--root DIR)");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, kill_children_on_signal);
  signal(SIGTERM, kill_children_on_signal);
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  try {
    const Options o = parse(argc, argv);
    g_perf_prefix = o.perf;
    if (o.mode == "fanout") return scenario_fanout(o);
    if (o.mode == "rate") return scenario_rate(o);
    if (o.mode == "gateway") return scenario_gateway(o);
    if (o.mode == "all") {
      int rc = scenario_fanout(o);
      rc |= scenario_rate(o);
      rc |= scenario_gateway(o);
      return rc;
    }
    die("unknown scenario " + o.mode);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "comet_bench: %s\n", e.what());
    return 1;
  }
}
