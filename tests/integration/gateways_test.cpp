// Plain channels across gateways: two or three gateways behind one nginx
// upstream (round robin, so a subscriber's polls land on a different
// gateway almost every time), PHP publishing plain messages (Comet::publish)
// at a steady rate, subscribers following their cursors. Every gateway
// numbers the one pub/sub stream of the Redis server identically (stream
// marks), so each places the others' cursors exactly: every subscriber
// gets every message, once, and no gap. With one gateway killed (kill -9)
// mid-stream, its subscribers' polls go on at the others from the same
// cursors, and still nothing is lost.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <sstream>

#include "tests/support/poll_swarm.hpp"
#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

constexpr int kRate = 200;  // messages a second, all channels together
constexpr double kSeconds = 6;
constexpr int kChannels = 10;
constexpr int kSubscribers = 60;

struct Tally {
  long published = 0, lost = 0, repeated = 0, gaps = 0, errors = 0;
};

// A gateway's cursors are stream positions ("3.") once it has heard a mark.
bool marked(Gateway& g) {
  auto r = g.request("GET", "poll", "channel=probe&timeout=0", {}, std::chrono::seconds(5));
  return r.status == 200 && r.body.find("\"cursor\":\"3.") != std::string::npos;
}

Tally run(int gateways, bool kill_one) {
  StackOptions o;
  o.gateways = gateways;
  Stack stack(o);
  for (std::size_t g = 0; g < stack.gateways(); ++g) {
    EXPECT_TRUE(wait_until([&] { return marked(stack.gateway(g)); }, std::chrono::seconds(10)))
        << stack.logs();
  }
  std::vector<std::string> channels;
  for (int i = 0; i < kChannels; ++i) channels.push_back("p" + std::to_string(i));
  PollSwarmOptions so;
  so.port = stack.http_port();
  for (int i = 0; i < kSubscribers; ++i) {
    const auto& a = channels[static_cast<std::size_t>(i % kChannels)];
    const auto& b = channels[static_cast<std::size_t>((i + 1) % kChannels)];
    if (i % 2) {
      so.subscribers.push_back({a});
    } else {
      so.subscribers.push_back({a, b});
    }
  }
  PollSwarm swarm(so);
  EXPECT_TRUE(swarm.start(std::chrono::seconds(20))) << stack.logs();
  auto load = php_publish_load(stack.dir().path(), stack.redis().port(), channels, kRate, kSeconds);
  if (kill_one) {
    // A third of the way in.
    const double third = kRate * kSeconds / kChannels * (kSubscribers * 1.5 / kChannels) / 3;
    EXPECT_TRUE(wait_until([&] { return swarm.delivered() >= third; }, std::chrono::seconds(30)));
    stack.kill9_gateway(stack.gateways() - 1);
  }
  EXPECT_EQ(load->wait_exit(std::chrono::seconds(60)), 0) << load->output();

  Tally t;
  std::map<std::string, long> last;  // channel -> the last k published
  std::istringstream in(load->stdout_text());
  std::string ch, status;
  long k = 0;
  while (in >> ch >> k >> status) {
    std::string rest;
    std::getline(in, rest);
    EXPECT_EQ(status, "ok") << ch << " " << k;
    last[ch] = std::max(last[ch], k);
    ++t.published;
  }
  // Drained: every subscriber has the last message of each of its channels.
  auto drained = [&] {
    for (const auto& rec : swarm.records()) {
      for (const auto& c : rec.channels) {
        bool seen = false;
        for (const auto& e : rec.events) seen = seen || (e.channel == c && e.n == last[c]);
        if (!seen) return false;
      }
    }
    return true;
  };
  // The records are the swarm thread's until it stops: wait for delivery
  // to go quiet, then stop it and read them.
  swarm.wait_quiet(std::chrono::seconds(2), std::chrono::seconds(30));
  swarm.stop();
  EXPECT_TRUE(drained()) << stack.logs();
  for (const auto& rec : swarm.records()) {
    t.errors += rec.errors;
    for (const auto& c : rec.channels) {
      std::map<long, int> got;
      for (const auto& e : rec.events) {
        if (e.channel != c) continue;
        if (e.kind == SwarmEvent::Kind::gap) {
          ++t.gaps;
        } else {
          ++got[e.n];
        }
      }
      for (long n = 1; n <= last[c]; ++n) {
        auto it = got.find(n);
        if (it == got.end()) {
          ++t.lost;
        } else {
          t.repeated += it->second - 1;
        }
      }
    }
  }
  std::cout << "GATEWAYS | " << gateways << " gateways" << (kill_one ? ", one killed" : "")
            << " | published " << t.published << " | lost " << t.lost << " | repeated "
            << t.repeated << " | gaps " << t.gaps << " | poll errors " << t.errors << std::endl;
  return t;
}

void expect_exact(const Tally& t) {
  EXPECT_GT(t.published, kRate * kSeconds / 2);
  EXPECT_EQ(t.lost, 0);
  EXPECT_EQ(t.repeated, 0);
  EXPECT_EQ(t.gaps, 0);
}

TEST(Gateways, TwoBehindRoundRobinLoseRepeatAndGapNothing) {
  expect_exact(run(2, false));
}

TEST(Gateways, ThreeBehindRoundRobinLoseRepeatAndGapNothing) {
  expect_exact(run(3, false));
}

TEST(Gateways, OneOfThreeKilledLosesNothing) {
  expect_exact(run(3, true));
}

}  // namespace
}  // namespace comet::test
