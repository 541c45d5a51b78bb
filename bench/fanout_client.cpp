// Fan-out benchmark client: parks N long-polls through an HTTP server (nginx
// in front of the gateway), waits until the gateway reports them parked,
// PUBLISHes one message to Redis and measures the time until every poll has
// it. Its own epoll loop, so the client is not the bottleneck.
//
//   fanout_client --http 127.0.0.1:8080 --path '/comet/poll?channel=b&timeout=50'
//                 --stats /comet/stats --redis 127.0.0.1:6379 --publish comet:b
//                 --count 8000 [--gateway-pid PID]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Endpoint {
  std::string host;
  int port = 0;
};

Endpoint parse_endpoint(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("want HOST:PORT, got " + s);
  return {s.substr(0, colon), std::atoi(s.c_str() + colon + 1)};
}

int connect_to(const Endpoint& ep, bool nonblocking) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(ep.port));
  inet_pton(AF_INET, ep.host.c_str(), &sa.sin_addr);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 && errno != EINPROGRESS) {
    ::close(fd);
    throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  }
  return fd;
}

// One blocking request/response with Connection: close.
std::string http_get(const Endpoint& ep, const std::string& path) {
  const int fd = connect_to(ep, false);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return {};
  }
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

long metric(const std::string& text, const std::string& name) {
  const auto pos = text.find("\n" + name + " ");
  if (pos == std::string::npos) return -1;
  return std::atol(text.c_str() + pos + name.size() + 2);
}

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

void redis_publish(const Endpoint& ep, const std::string& channel, const std::string& payload) {
  const int fd = connect_to(ep, false);
  std::string cmd = "*3\r\n$7\r\nPUBLISH\r\n$" + std::to_string(channel.size()) + "\r\n" + channel +
                    "\r\n$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
  if (::write(fd, cmd.data(), cmd.size()) != static_cast<ssize_t>(cmd.size()))
    throw std::runtime_error("publish write failed");
  char buf[64];
  if (::read(fd, buf, sizeof buf) <= 0) throw std::runtime_error("publish: no reply from Redis");
  ::close(fd);
}

struct Conn {
  int fd = -1;
  std::string in;
  bool done = false;
};

}  // namespace

int main(int argc, char** argv) {
  Endpoint http{"127.0.0.1", 8080}, redis{"127.0.0.1", 6379};
  std::string path = "/comet/poll?channel=bench&timeout=50", stats = "/comet/stats",
              channel = "comet:bench";
  int count = 8000, gateway_pid = 0;
  double wait_s = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--http")
      http = parse_endpoint(v);
    else if (k == "--redis")
      redis = parse_endpoint(v);
    else if (k == "--path")
      path = v;
    else if (k == "--stats")
      stats = v;
    else if (k == "--publish")
      channel = v;
    else if (k == "--count")
      count = std::atoi(v.c_str());
    else if (k == "--gateway-pid")
      gateway_pid = std::atoi(v.c_str());
    else if (k == "--wait")
      wait_s = std::atof(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  const long parked_before = metric(http_get(http, stats), "comet_parked_requests");
  const long rss_before = gateway_pid ? rss_kib(gateway_pid) : -1;

  const int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(count));
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
  for (int i = 0; i < count; ++i) {
    // Blocking connect keeps the listen backlog from overflowing; the
    // request is then written at once.
    Conn& c = conns[static_cast<size_t>(i)];
    c.fd = connect_to(http, false);
    if (::write(c.fd, req.data(), req.size()) != static_cast<ssize_t>(req.size()))
      throw std::runtime_error("request write failed");
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  }
  // Parked means the gateway holds them all: the event to wait for.
  const auto park_deadline = Clock::now() + std::chrono::duration<double>(wait_s);
  long parked = 0;
  while ((parked = metric(http_get(http, stats), "comet_parked_requests")) <
         parked_before + count) {
    if (Clock::now() > park_deadline) {
      std::fprintf(stderr, "only %ld of %d polls parked\n", parked - parked_before, count);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const long rss_parked = gateway_pid ? rss_kib(gateway_pid) : -1;

  const std::string payload = "{\"bench\":\"fanout\"}";
  const auto t0 = Clock::now();
  redis_publish(redis, channel, payload);
  int finished = 0, wrong = 0;
  std::vector<epoll_event> events(1024);
  char buf[65536];
  const auto deadline = t0 + std::chrono::duration<double>(wait_s);
  while (finished < count && Clock::now() < deadline) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    for (int e = 0; e < n; ++e) {
      Conn& c = conns[events[static_cast<size_t>(e)].data.u32];
      for (;;) {
        const ssize_t r = ::read(c.fd, buf, sizeof buf);
        if (r > 0) {
          c.in.append(buf, static_cast<size_t>(r));
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          if (!c.done) {
            c.done = true;
            ++finished;
            if (c.in.find("\"bench\"") == std::string::npos) ++wrong;
          }
          epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          ::close(c.fd);
        }
        break;
      }
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("parked            %d\n", count);
  std::printf("delivered         %d (without the message: %d)\n", finished, wrong);
  std::printf("publish_to_all_ms %.1f\n", secs * 1000);
  if (gateway_pid) {
    std::printf("gateway_rss_kib   idle %ld, parked %ld\n", rss_before, rss_parked);
    std::printf("rss_per_parked_b  %.0f\n",
                static_cast<double>(rss_parked - rss_before) * 1024.0 / count);
  }
  return finished == count && wrong == 0 ? 0 : 1;
}
