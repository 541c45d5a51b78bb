// Steady rate: channels x subscribers following their positions while a
// publisher thread publishes at a fixed rate; latency from the timestamp in
// the payload ("t=<steady ns>;c=<channel>;s=<seq>").
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/comet_bench/publish.hpp"
#include "bench/comet_bench/scenarios.hpp"
#include "bench/comet_bench/stack.hpp"
#include "bench/comet_bench/systems.hpp"
#include "bench/common/clock.hpp"
#include "bench/common/http_client.hpp"
#include "bench/common/machine_load.hpp"
#include "bench/common/stats.hpp"
#include "bench/common/table.hpp"
#include "bench/common/text.hpp"

namespace bench {

namespace {

// The payload's stamp, "t=<steady ns>;c=<channel>;s=<seq>", in one pass:
// this runs for every message the bench receives (1.6 million a second at
// the top rate), on the machine it measures, so it neither searches twice
// nor goes through strtoll's locale handling.
bool parse_stamp(std::string_view p, std::int64_t& t, long& seq) {
  if (p.size() < 2 || p[0] != 't' || p[1] != '=') return false;
  std::size_t i = 2;
  const auto digits = [&](std::int64_t& v) {
    const std::size_t from = i;
    v = 0;
    for (; i < p.size() && p[i] >= '0' && p[i] <= '9'; ++i) v = v * 10 + (p[i] - '0');
    return i > from;
  };
  if (!digits(t)) return false;
  for (; i + 3 <= p.size(); ++i) {
    if (p[i] == ';' && p[i + 1] == 's' && p[i + 2] == '=') {
      i += 3;
      std::int64_t s = 0;
      if (!digits(s)) return false;
      seq = static_cast<long>(s);
      return true;
    }
  }
  return false;
}

struct RateResult {
  int rate = 0;
  int gateways = 0;  // comet: how many behind nginx
  long published = 0, publish_failed = 0;
  double publish_rate = 0;  // achieved
  long expected = 0, delivered = 0, lost = 0, duplicated = 0, gaps = 0, errors = 0;
  double delivered_per_s = 0, p50 = NAN, p99 = NAN, max = NAN;  // ms
  double other_cpu = 0;  // % of one CPU used by other processes meanwhile
  // comet: messages each gateway delivered (comet_messages_delivered_total),
  // to show that the polls hop between them.
  std::vector<long> by_gateway;
};

RateResult run_rate(System sys, Stack& st, int rate, double seconds, int channels,
                    int per_channel) {
  const int port = st.nginx_port();
  RateResult res;
  res.rate = rate;
  const std::string tag = "r" + std::to_string(rate);
  std::vector<std::string> names;
  for (int c = 0; c < channels; ++c) names.push_back(tag + "-" + std::to_string(c));
  // The previous rate's subscribers each left a poll parked when their
  // connections closed; nginx ends those polls, which takes a moment on a
  // busy machine. A baseline taken before they are gone would wait for
  // polls that never come.
  for (const auto settle = Clock::now() + 30s; parked_now(sys, st) > 0 && Clock::now() < settle;)
    std::this_thread::sleep_for(10ms);
  const long parked0 = std::max(0L, parked_now(sys, st));
  const auto delivered_by = [&] {
    return sys == System::comet ? st.gateway_metrics("comet_messages_delivered_total")
                                : std::vector<long>{};
  };
  const auto by_gateway0 = delivered_by();
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
      "subscribers to park (" + std::to_string(subs_n) + " over " + std::to_string(parked0) + ")",
      [&] { return parked_now(sys, st) >= parked0 + subs_n; }, 30s);
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
        const auto delivered_before = res.delivered;
        for (auto p : payloads) {
          std::int64_t t = 0;
          long seq = 0;
          if (!parse_stamp(p, t, seq)) continue;
          if (seq < s.next_seq) {
            ++res.duplicated;
            continue;
          }
          res.lost += seq - s.next_seq;
          s.next_seq = seq + 1;
          ++res.delivered;
          lat.push_back(static_cast<double>(now - t) / 1e6);
        }
        if (delivered_before != res.delivered) last_delivery = Clock::now();
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
  res.by_gateway = delivered_by();
  for (std::size_t g = 0; g < res.by_gateway.size() && g < by_gateway0.size(); ++g)
    res.by_gateway[g] -= by_gateway0[g];
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

// Several gateways place each other's plain cursors by the marks they
// publish into the pub/sub stream: before the load, every gateway is to
// have heard a mark published after the last one subscribed (else the
// first cursors name a mark some gateway never heard, and their polls get
// gaps there). A gateway without the stats line is older than the marks:
// nothing to wait for.
void wait_for_shared_marks(const Stack& st) {
  if (st.gateway_count() < 2) return;
  const auto marks = [&] { return st.gateway_metrics("comet_stream_marks"); };
  if (std::ranges::any_of(marks(), [](long m) { return m < 0; })) {
    std::printf("  (a gateway reports no comet_stream_marks: plain cursors stay per gateway)\n");
    return;
  }
  wait_for(
      "every gateway to hear a mark",
      [&] { return std::ranges::all_of(marks(), [](long m) { return m >= 1; }); }, 30s);
  const auto before = marks();
  wait_for(
      "every gateway to hear a mark published after all subscribed",
      [&] {
        const auto now = marks();
        for (std::size_t i = 0; i < now.size(); ++i)
          if (now[i] <= before[i]) return false;
        return true;
      },
      30s);
}

}  // namespace

int scenario_rate(const Options& o) {
  Stack st(o);
  st.start_redis();
  std::string counts;
  for (int g : o.gateways) counts += (counts.empty() ? "" : ",") + std::to_string(g);
  std::printf(
      "steady rate: %d channels x %d subscribers, %.0f s per rate, nginx worker_processes %d, "
      "gateways %s\n",
      o.channels, o.subscribers, o.seconds, o.workers, counts.c_str());
  const std::string t = o.transports.front();
  std::vector<RateResult> nchan;
  std::map<int, std::vector<RateResult>> comet;  // by gateway count
  auto run_all = [&](System sys, int gateways, std::vector<RateResult>& into) {
    const std::string key =
        sys == System::nchan ? "nchan" : "comet-" + t + " x" + std::to_string(gateways);
    for (int rate : o.rates) {
      auto r = run_rate(sys, st, rate, o.seconds, o.channels, o.subscribers);
      r.gateways = gateways;
      std::string split_by;
      for (long d : r.by_gateway) split_by += (split_by.empty() ? "" : "/") + std::to_string(d);
      std::printf(
          "  %-14s %6d msg/s: delivered %ld/%ld (%.0f/s) p50 %.1f p99 %.1f max %.1f ms, lost %ld, "
          "dup %ld, gaps %ld, errors %ld, publish %.0f/s; other processes' CPU %.0f%%%s%s\n",
          key.c_str(), rate, r.delivered, r.expected, r.delivered_per_s, r.p50, r.p99, r.max,
          r.lost, r.duplicated, r.gaps, r.errors, r.publish_rate, r.other_cpu,
          split_by.empty() ? "" : "; delivered by each gateway ", split_by.c_str());
      std::fflush(stdout);
      into.push_back(r);
    }
  };
  // --systems comet leaves nchan out (the rows then have no ratio).
  const bool with_nchan = std::find(o.systems.begin(), o.systems.end(), "nchan") != o.systems.end();
  if (with_nchan) {
    st.start_nginx_nchan();
    run_all(System::nchan, 0, nchan);
    st.stop_nginx();
  } else {
    nchan.resize(o.rates.size());
    for (std::size_t i = 0; i < o.rates.size(); ++i) nchan[i].rate = o.rates[i];
  }
  for (int g : o.gateways) {
    st.start_gateways(t, g);
    st.start_nginx_comet();
    wait_for("gateway health", [&] {
      return http_get(st.nginx_port(), "/comet/health").find("up") != std::string::npos;
    });
    wait_for_shared_marks(st);
    run_all(System::comet, g, comet[g]);
    st.stop_nginx();
    st.stop_gateway();
  }

  // rate.dat: the first gateway count in the columns bench/p99.gp plots,
  // the further counts' columns after them.
  fs::create_directories(o.out);
  std::ofstream dat(o.out / "rate.dat");
  dat << "# rate nchan_p99_ms comet_p99_ms nchan_p50_ms comet_p50_ms nchan_delivered_per_s "
         "comet_delivered_per_s";
  for (std::size_t k = 1; k < o.gateways.size(); ++k) {
    const std::string g = std::to_string(o.gateways[k]);
    dat << " comet" << g << "_p99_ms comet" << g << "_p50_ms comet" << g << "_delivered_per_s";
  }
  dat << "\n";
  std::vector<std::vector<std::string>> table;
  const auto row = [&](const RateResult& r, const RateResult& n) {
    const bool is_n = &r == &n;
    table.push_back({std::to_string(r.rate), is_n ? "nchan" : "comet-" + t,
                     is_n ? "" : std::to_string(r.gateways), fmt("%.0f", r.delivered_per_s),
                     std::to_string(r.delivered) + "/" + std::to_string(r.expected),
                     fmt("%.1f", r.p50), fmt("%.1f", r.p99), fmt("%.1f", r.max),
                     std::to_string(r.lost), std::to_string(r.duplicated), std::to_string(r.gaps),
                     fmt("%.0f", r.publish_rate), is_n ? "" : fmt("%.2f", r.p99 / n.p99),
                     fmt("%.0f", r.other_cpu)});
  };
  for (std::size_t i = 0; i < o.rates.size(); ++i) {
    const auto& n = nchan[i];
    const auto& c = comet[o.gateways.front()][i];
    dat << o.rates[i] << " " << n.p99 << " " << c.p99 << " " << n.p50 << " " << c.p50 << " "
        << n.delivered_per_s << " " << c.delivered_per_s;
    for (std::size_t k = 1; k < o.gateways.size(); ++k) {
      const auto& ck = comet[o.gateways[k]][i];
      dat << " " << ck.p99 << " " << ck.p50 << " " << ck.delivered_per_s;
    }
    dat << "\n";
    if (with_nchan) row(n, n);
    for (int g : o.gateways) row(comet[g][i], n);
  }
  std::printf("\n");
  print_table({"msg/s", "system", "gateways", "delivered/s", "delivered", "p50 ms", "p99 ms",
               "max ms", "lost", "dup", "gap resp", "publish/s", "p99 ratio", "other CPU %"},
              table);
  return 0;
}

}  // namespace bench
