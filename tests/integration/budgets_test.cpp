// What one client, or many hostile ones, can make the gateway hold: each
// client (REMOTE_ADDR; an IPv6 /64 as one) gets 429 past its share while the
// others are served, and the totals answer 503. Spoken over FastCGI directly,
// as the web server would, so that each request names its own REMOTE_ADDR.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <thread>

#include "tests/support/stack.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {
namespace {

using namespace std::chrono_literals;

fcgi::Params poll_from(const std::string& remote, const std::string& query) {
  fcgi::Params p = fcgi::request_params("GET", "/comet/poll", query);
  for (auto& [name, value] : p) {
    if (name == "REMOTE_ADDR") value = remote;
  }
  return p;
}

std::string channels_query(const std::vector<std::string>& names) {
  std::string q;
  for (const auto& n : names) q += "channel=" + n + "&";
  return q;
}

// The gateway's resident memory (VmRSS), in KB.
long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST(Budgets, AClientOverItsShareGets429WhileOthersAreServed) {
  StackOptions o = StackOptions::without_nginx();
  o.gateway_args = {"--max-parked-per-client", "5", "--max-channels-per-client", "64"};
  Stack stack(o);
  auto conn = stack.gateway().connect();
  std::uint16_t id = 0;
  auto park = [&](const std::string& remote, const std::string& query) {
    conn.send_request(++id, poll_from(remote, query + "timeout=20"), true);
    return id;
  };
  auto refusal = [&](std::uint16_t rid) {
    auto r = conn.wait_end(rid, 10s);
    if (!r) return HttpResponse{};
    return fcgi::parse_cgi_response(r->out);
  };

  std::vector<std::uint16_t> first;
  for (int i = 0; i < 5; ++i) first.push_back(park("203.0.113.5", "channel=a&"));
  ASSERT_TRUE(stack.wait_parked(5)) << stack.logs();
  const HttpResponse over = refusal(park("203.0.113.5", "channel=a&"));
  EXPECT_EQ(over.status, 429) << over.body;
  EXPECT_EQ(over.header("retry-after"), "5");
  EXPECT_NE(over.body.find("\"too_many_requests\""), std::string::npos) << over.body;

  // Another client is served; one IPv6 /64 is one client, another /64 is not.
  park("198.51.100.7", "channel=a&");
  for (int i = 0; i < 5; ++i) park("2001:db8:1:2::" + std::to_string(i + 1), "channel=a&");
  EXPECT_EQ(refusal(park("2001:db8:1:2:ffff::1", "channel=a&")).status, 429);
  park("2001:db8:1:3::1", "channel=a&");
  ASSERT_TRUE(stack.wait_parked(12)) << stack.logs();

  // Channel names count too: 30 + 30 fit in 64, a third 30 does not.
  std::vector<std::string> thirty;
  for (int i = 0; i < 30; ++i) thirty.push_back("c" + std::to_string(i));
  park("192.0.2.9", channels_query(thirty));
  park("192.0.2.9", channels_query(thirty));
  ASSERT_TRUE(stack.wait_parked(14)) << stack.logs();
  EXPECT_EQ(refusal(park("192.0.2.9", channels_query(thirty))).status, 429);

  // A client whose poll ends gets its share back.
  conn.abort_request(first[0]);
  ASSERT_TRUE(stack.wait_parked(13)) << stack.logs();
  park("203.0.113.5", "channel=a&");
  ASSERT_TRUE(stack.wait_parked(14)) << stack.logs();

  EXPECT_EQ(stack.metric("comet_refusals_total{reason=\"client_parked\"}"), 2.0);
  EXPECT_EQ(stack.metric("comet_refusals_total{reason=\"client_channels\"}"), 1.0);
  // The log says so: the first refusal of each reason, with its client
  // (the second of a reason is not logged; the 10th would be).
  const std::string log = stack.gateway().log();
  EXPECT_NE(
      log.find("refused a request (client_parked) from client 203.0.113.5: refusal number 1 "),
      std::string::npos)
      << log;
  EXPECT_EQ(log.find("refused a request (client_parked) from client 2001:db8:1:2::/64"),
            std::string::npos)
      << log;
  EXPECT_NE(
      log.find("refused a request (client_channels) from client 192.0.2.9: refusal number 1 "),
      std::string::npos)
      << log;
  EXPECT_EQ(stack.metric("comet_clients_parked"), 5.0);
}

// 4,000 hostile polls, each naming 64 fresh 120-character channels, from
// 40 addresses (as many as a small botnet): the channel total stops them
// short of the machine, and a legitimate follower meanwhile loses nothing.
TEST(Budgets, HostilePollsOnFreshChannelsAreBoundedAndAFollowerLosesNothing) {
  StackOptions o = StackOptions::without_nginx();
  Stack stack(o);
  const pid_t pid = stack.gateway().process().pid();

  // The follower: long-polls "legit" over its own connection, following
  // its cursors, and notes when each message arrives.
  constexpr int kMessages = 200;
  std::vector<Clock::time_point> sent(kMessages), got(kMessages);
  std::vector<int> seen(kMessages, 0);
  std::atomic<bool> stop{false};
  std::atomic<int> gaps{0};
  std::thread follower([&] {
    auto c = stack.gateway().connect();
    std::string cursor;
    std::uint16_t rid = 0;
    while (!stop) {
      std::string q = "channel=legit&timeout=5";
      if (!cursor.empty()) q += "&since=" + url_encode(cursor);
      c.send_request(++rid, fcgi::request_params("GET", "/comet/poll", q), true);
      auto r = c.wait_end(rid, 20s);
      if (!r) break;
      const auto now = Clock::now();
      const json j = json::parse(fcgi::parse_cgi_response(r->out).body, nullptr, false);
      if (j.is_discarded() || !j.contains("cursor")) continue;
      cursor = j["cursor"];
      if (j.contains("gaps")) ++gaps;
      for (const auto& m : j["messages"]) {
        const int n = std::stoi(message_bytes(m));
        if (n >= 0 && n < kMessages && seen[n]++ == 0) got[n] = now;
      }
    }
  });
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  const long rss_before = rss_kb(pid);

  std::mt19937_64 rng(7);
  auto fresh_name = [&] {
    static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s(120, 'x');
    for (auto& ch : s) ch = kAlphabet[rng() % 36];
    return s;
  };
  constexpr int kHostile = 4000;
  auto hostile = stack.gateway().connect();
  for (int i = 0; i < kHostile; ++i) {
    std::string q;
    for (int k = 0; k < 64; ++k) q += "channel=" + fresh_name() + "&";
    q += "timeout=50";
    hostile.send_request(static_cast<std::uint16_t>(i + 1),
                         poll_from("198.18.0." + std::to_string(i % 40 + 1), q), true);
  }
  // Every hostile poll parked or was refused for the channel total.
  double refused = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        refused = stack.metric("comet_refusals_total{reason=\"channels_total\"}").value_or(0);
        return stack.parked() + refused >= kHostile + 1;
      },
      60s))
      << stack.parked() << " parked, " << refused << " refused\n"
      << stack.logs();
  const long rss_hostile = rss_kb(pid);
  const double parked_hostile = stack.parked() - 1;

  // Meanwhile the site publishes; the follower must get every message.
  RespClient redis(stack.redis().port());
  for (int n = 0; n < kMessages; ++n) {
    sent[n] = Clock::now();
    redis.command({"PUBLISH", "comet:legit", std::to_string(n)});
    std::this_thread::sleep_for(5ms);  // a steady rate, not a synchronisation
  }
  ASSERT_TRUE(wait_until(
      [&] { return std::all_of(seen.begin(), seen.end(), [](int s) { return s > 0; }); }, 20s));
  stop = true;
  redis.command({"PUBLISH", "comet:legit", "-1"});  // ends the follower's last poll
  follower.join();

  std::vector<double> latency_ms;
  int lost = 0, repeated = 0;
  for (int n = 0; n < kMessages; ++n) {
    if (seen[n] == 0) ++lost;
    if (seen[n] > 1) ++repeated;
    if (seen[n] > 0)
      latency_ms.push_back(std::chrono::duration<double, std::milli>(got[n] - sent[n]).count());
  }
  std::sort(latency_ms.begin(), latency_ms.end());
  const auto pct = [&](double q) {
    return latency_ms.empty() ? -1.0
                              : latency_ms[static_cast<std::size_t>(q * (latency_ms.size() - 1))];
  };
  std::cout << "[ figures  ] " << kHostile
            << " hostile polls x 64 fresh channels: " << parked_hostile << " parked, " << refused
            << " refused (channels_total); RSS " << rss_before / 1024 << " -> "
            << rss_hostile / 1024 << " MB ("
            << (parked_hostile > 0 ? (rss_hostile - rss_before) / parked_hostile : 0)
            << " KB per parked hostile poll); follower: " << lost << " lost, " << repeated
            << " repeated, " << gaps << " gaps, p50 " << pct(0.5) << " ms, p99 " << pct(0.99)
            << " ms\n";
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(repeated, 0);
  EXPECT_EQ(gaps, 0);
  EXPECT_GT(refused, 0) << "the channel total should have stopped some";
#ifndef COMET_SANITIZED
  // Before the budgets and lazy buffers: 70 KB per poll, 274 MB for 4,000.
  EXPECT_LT(rss_hostile - rss_before, 120 * 1024);
#endif
}

}  // namespace
}  // namespace comet::test
