// The gateway alone: parked requests over multiplexed FastCGI connections
// straight to its Unix socket, no nginx in front: how many it holds, what a
// parked request costs in memory and idle CPU, how fast one message reaches
// them all.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/comet_bench/publish.hpp"
#include "bench/comet_bench/scenarios.hpp"
#include "bench/comet_bench/stack.hpp"
#include "bench/common/clock.hpp"
#include "bench/common/die.hpp"
#include "bench/common/fcgi_client.hpp"
#include "bench/common/fcgi_codec.hpp"
#include "bench/common/machine_load.hpp"
#include "bench/common/perf_record.hpp"
#include "bench/common/proc.hpp"
#include "bench/common/sockets.hpp"
#include "bench/common/stats.hpp"
#include "bench/common/table.hpp"
#include "bench/common/text.hpp"

namespace bench {

namespace {

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
        while (b.size() - p >= fcgi::kHeaderLen) {
          const fcgi::Header h = fcgi::decode_header(b.data() + p);
          if (b.size() - p < h.record_len()) break;
          if (h.type == FCGI_STDOUT && h.content_length > 0 &&
              std::string_view(b.data() + p + fcgi::kHeaderLen, h.content_length).find(marker) !=
                  std::string_view::npos)
            ++with_message;
          if (h.type == FCGI_END_REQUEST) {
            if (answered == 0) first_ms = since_ms(tp);
            ++answered;
          }
          p += h.record_len();
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

}  // namespace

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

}  // namespace bench
