// Fan-out through nginx: `count` polls on `channels` channels, one message
// per channel, time until every poll has it; `rounds` rounds on the same
// keep-alive connections, each poll following its cursor. With `runs` above
// one, the systems' sequence runs again, forwards and backwards in turn,
// each time on freshly started servers, so that a machine getting faster or
// slower during the run weighs on every system alike; the rounds are pooled
// and each run's own ratios are printed as well.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/comet_bench/publish.hpp"
#include "bench/comet_bench/scenarios.hpp"
#include "bench/comet_bench/stack.hpp"
#include "bench/comet_bench/systems.hpp"
#include "bench/common/clock.hpp"
#include "bench/common/die.hpp"
#include "bench/common/http_client.hpp"
#include "bench/common/machine_load.hpp"
#include "bench/common/perf_record.hpp"
#include "bench/common/proc.hpp"
#include "bench/common/stats.hpp"
#include "bench/common/table.hpp"
#include "bench/common/text.hpp"

namespace bench {

namespace {

struct FanoutResult {
  std::vector<double> ms;              // per round: publish -> all delivered
  std::vector<double> run_ms;          // per run: the median of its rounds
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

// The responders' together (several gateways: all of them).
long responders_rss(const Stack& st) {
  long sum = 0;
  for (pid_t p : st.gateway_pids()) sum += std::max(0L, rss_kib(p));
  return sum;
}

double responders_cpu_ns(const Stack& st) {
  double sum = 0;
  for (pid_t p : st.gateway_pids()) sum += cpu_ns(p);
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
  const long parked0 = std::max(0L, parked_now(sys, st));
  const long gw_rss0 = sys != System::nchan ? responders_rss(st) : 0;
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
    while (parked_now(sys, st) < parked0 + count) {
      if (Clock::now() > park_deadline)
        die(std::string(name_of(sys)) + ": round " + std::to_string(round) + ": only " +
            std::to_string(parked_now(sys, st) - parked0) + " of " + std::to_string(count) +
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
        res.rss_per_parked_b = (responders_rss(st) - gw_rss0) * 1024.0 / count;
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
    const double resp0 = sys != System::nchan ? responders_cpu_ns(st) : 0;
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
    if (sys != System::nchan) res.responder_cpu_ms.push_back((responders_cpu_ns(st) - resp0) / 1e6);
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
      res.fcgi_connections.push_back(st.gateway_metric("comet_fcgi_connections"));
  }
  res.reconnects = loop.reconnects();
  return res;
}

// One more run's rounds into the pooled result of a system.
void absorb(FanoutResult& into, FanoutResult&& r) {
  const double run = median(r.ms);
  if (into.ms.empty()) {
    into = std::move(r);
    into.run_ms = {run};
    return;
  }
  const auto append = [](std::vector<double>& a, const std::vector<double>& b) {
    a.insert(a.end(), b.begin(), b.end());
  };
  append(into.ms, r.ms);
  append(into.p50_ms, r.p50_ms);
  append(into.nginx_cpu_ms, r.nginx_cpu_ms);
  append(into.responder_cpu_ms, r.responder_cpu_ms);
  into.fcgi_connections.insert(into.fcgi_connections.end(), r.fcgi_connections.begin(),
                               r.fcgi_connections.end());
  into.run_ms.push_back(run);
  into.reconnects += r.reconnects;
  into.wrong += r.wrong;
  into.other_cpu = std::max(into.other_cpu, r.other_cpu);
  into.steal_ms = std::max(into.steal_ms, r.steal_ms);
}

}  // namespace

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
  std::printf("fan-out: %d parked polls, %d rounds, nginx worker_processes %d, %d gateway(s)\n",
              o.count, o.rounds, o.workers, o.gateways.front());
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
  // nchan, then per transport the bare responder (the floor of the FastCGI
  // hop) and comet-gateway behind the same nginx config; each system has the
  // machine to itself while it runs.
  struct Unit {
    System sys;
    std::string transport, key;
  };
  std::vector<Unit> units;
  if (wanted("nchan")) units.push_back({System::nchan, "", "nchan"});
  for (const auto& t : o.transports) {
    for (const System sys : {System::bare, System::comet}) {
      const std::string name = sys == System::bare ? "bare" : "comet";
      if (wanted(name)) units.push_back({sys, t, name + "-" + t});
    }
  }
  const auto run_unit = [&](const Unit& u) {
    if (u.sys == System::nchan) {
      st.start_nginx_nchan();
    } else {
      if (u.sys == System::bare)
        st.start_bare(u.transport);
      else
        st.start_gateways(u.transport, o.gateways.front());
      st.start_nginx_comet();
      wait_for("responder health", [&] {
        return http_get(st.nginx_port(), "/comet/health").find("up") != std::string::npos;
      });
    }
    const std::string label =
        u.sys == System::nchan ? "nchan" : std::string(name_of(u.sys)) + " (" + u.transport + ")";
    for (auto& r : rows) {
      auto res = run_fanout(u.sys, st, o.count, r.channels, o.rounds, ++base);
      report(label, r.channels, res);
      absorb(r.by[u.key], std::move(res));
    }
    st.stop_nginx();
    if (u.sys != System::nchan) st.stop_gateway();
  };
  for (int run = 0; run < o.runs; ++run) {
    if (o.runs > 1) std::printf("run %d of %d\n", run + 1, o.runs);
    if (run % 2 == 0) {
      for (const Unit& u : units) run_unit(u);
    } else {
      for (auto it = units.rbegin(); it != units.rend(); ++it) run_unit(*it);
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
         "parked_b,other_cpu,nginx_cpu_ms,responder_cpu_ms,runs_ms\n";
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
        // Consecutive equal counts as one `count x rounds` (a run's rounds
        // keep their connections; each run starts its servers afresh).
        std::string cs;
        const auto& fc = it->second.fcgi_connections;
        for (std::size_t a = 0, b = 0; a < fc.size(); a = b) {
          while (b < fc.size() && fc[b] == fc[a]) ++b;
          cs += (cs.empty() ? "" : "/") + std::to_string(fc[a]) + "x" + std::to_string(b - a);
        }
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
                           " ch (median of " + std::to_string(o.rounds * o.runs) + ")",
                       t, ms(n), ms(b), ms(c), ratio(c, n), ratio(b, n), ratio(c, b), ngx_cpu,
                       fmt("%.0f", other), conns});
    }
    for (auto& [sys, f] : r.by) {
      csv << r.channels << "," << sys << "," << median(f.ms) << ",\"" << join_ms(f.ms) << "\","
          << median(f.p50_ms) << "," << f.reconnects << "," << f.rss_per_parked_b << ","
          << f.nginx_rss_per_parked_b << "," << f.other_cpu << ",\"" << join_ms(f.nginx_cpu_ms)
          << "\",\"" << join_ms(f.responder_cpu_ms) << "\",\"" << join_ms(f.run_ms) << "\"\n";
    }
  }
  std::printf("\n");
  print_table(head, table);
  std::printf("\nrounds (ms):\n");
  for (auto& r : rows)
    for (auto& [sys, f] : r.by)
      std::printf("  %3d ch %-10s %s\n", r.channels, sys.c_str(), join_ms(f.ms).c_str());
  if (o.runs > 1) {
    // Each run's own ratios (median of its rounds against the median of the
    // same run's rounds of the other system): how far one run says apart.
    std::printf("\nper run (ratio of the run's medians):\n");
    for (auto& r : rows) {
      for (const auto& t : o.transports) {
        const auto runs_of = [&](const std::string& k) {
          auto it = r.by.find(k);
          return it == r.by.end() ? std::vector<double>{} : it->second.run_ms;
        };
        const auto c = runs_of("comet-" + t), b = runs_of("bare-" + t), n = runs_of("nchan");
        struct Pair {
          const char* what;
          const std::vector<double>&num, &den;
        };
        for (const Pair& p :
             {Pair{"comet/nchan", c, n}, Pair{"comet/bare", c, b}, Pair{"bare/nchan", b, n}}) {
          if (p.num.empty() || p.den.size() != p.num.size()) continue;
          std::vector<double> q;
          for (std::size_t i = 0; i < p.num.size(); ++i) q.push_back(p.num[i] / p.den[i]);
          std::string all;
          for (double x : q) all += (all.empty() ? "" : " ") + fmt("%.2f", x);
          std::printf("  %3d ch %-4s %-11s %s (median %.2f, %zu of %zu runs at or below 1.00)\n",
                      r.channels, t.c_str(), p.what, all.c_str(), median(q),
                      static_cast<std::size_t>(
                          std::count_if(q.begin(), q.end(), [](double x) { return x <= 1.0; })),
                      q.size());
        }
      }
    }
  }
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

}  // namespace bench
