// Faults under load. A PHP process publishes a steady load over 20
// channels, half durable (Comet::publishDurable), half plain; 200 long-poll
// subscribers follow their cursors through nginx (100 on one channel, 100 on
// a durable and a plain one together). Meanwhile one fault is injected:
//   RedisKill9        redis-server killed with SIGKILL, started again on its
//                     port (append-only file, fsync always: what a durable
//                     deployment runs, deploy/redis/README.md)
//   GatewayKill9      one of two gateways behind nginx killed, started again
//   NginxReload       nginx SIGHUP
//   GatewaySigterm    one of two gateways stopped (SIGTERM) and started again
//   SentinelMasterKill9
//                     a master with two replicas and a redis-sentinel; the
//                     gateway on a redis-sentinel:// URL, the publisher
//                     asking the sentinel too (and WAITing for the replica
//                     on durable publishes); the master killed with SIGKILL
//                     for good: the sentinel promotes a replica
//   ClusterMasterKill9
//                     a Redis Cluster of three masters with two replicas each;
//                     the gateway on a redis-cluster:// URL, subscribed on
//                     its first node, a master; PHP publishing through
//                     RedisCluster (WAITing for the replica on durable
//                     publishes); that master killed with SIGKILL for good:
//                     one of its replicas takes over its slots
// Then every subscriber's record is checked against what PHP was told was
// published: durable channels lose and repeat nothing; plain channels repeat
// nothing and every message a subscriber missed lies inside a gap it was
// given on that channel. A table row per fault is printed.
//
// Scaled to the 2-core test machine: 100 messages/s (not 200) for 10 s.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "tests/support/poll_swarm.hpp"
#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

constexpr int kRate = 200;  // messages a second, all channels together
constexpr double kSeconds = 10;
constexpr int kChannels = 20;
constexpr int kSubscribers = 200;

struct Row {
  std::string fault;
  long published_durable = 0, published_plain = 0;
  long lost_durable = 0, dup_durable = 0, gaps_durable = 0;
  long missed_plain_in_gap = 0, lost_plain_silently = 0, dup_plain = 0, gaps_plain = 0;
  long poll_errors = 0;
  double resumed_ms = 0;  // fault start to the worst subscriber's next message
};

std::vector<std::string> channel_names() {
  std::vector<std::string> out;
  for (int i = 0; i < kChannels / 2; ++i) out.push_back("d" + std::to_string(i));
  for (int i = 0; i < kChannels / 2; ++i) out.push_back("p" + std::to_string(i));
  return out;
}

bool durable(const std::string& ch) {
  return ch[0] == 'd';
}

// What PHP was told: channel -> k published ok (and their ids).
std::map<std::string, std::set<long>> read_publish_log(const std::string& text, Row& row) {
  std::map<std::string, std::set<long>> ok;
  std::istringstream in(text);
  std::string ch, status, id;
  long k = 0;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    if (!(l >> ch >> k >> status)) continue;
    if (status != "ok") continue;
    ok[ch].insert(k);
    (durable(ch) ? row.published_durable : row.published_plain)++;
  }
  return ok;
}

class Faults : public ::testing::Test {
 protected:
  enum class Redis { single, sentinel, cluster };
  Row run(const std::string& name, int gateways, const std::function<void(Stack&)>& fault,
          Redis redis_kind = Redis::single) {
    StackOptions o;
    o.gateways = gateways;
    o.redis_args = RedisServer::persistent();
    o.sentinel = redis_kind == Redis::sentinel;
    if (redis_kind == Redis::cluster) {
      o.cluster_masters = 3;
      o.cluster_replicas = 2;  // after a failover the master still has one to WAIT for
    }
    const bool sentinel = o.sentinel;
    Stack stack(o);
    Row row;
    row.fault = name;
    const auto channels = channel_names();

    // One durable message per durable channel first (n = 0, not counted),
    // heard by every gateway: a subscriber's first cursor then has its
    // durable channel's position, wherever its next poll lands.
    for (const auto& ch : channels) {
      if (!durable(ch)) continue;
      stack.publish_durable(ch, "{\"n\":0}");
    }
    for (std::size_t g = 0; g < stack.gateways(); ++g) {
      EXPECT_TRUE(wait_until(
          [&] {
            auto r = stack.gateway(g).request("GET", "stats", "", {}, std::chrono::seconds(5));
            return parse_metric(r.body, "comet_messages_received_total").value_or(0) >=
                   kChannels / 2;
          },
          std::chrono::seconds(10)));
    }

    PollSwarmOptions so;
    so.port = stack.http_port();
    for (int i = 0; i < kSubscribers; ++i) {
      if (i < kSubscribers / 2) {
        so.subscribers.push_back({channels[static_cast<std::size_t>(i % kChannels)]});
      } else {
        const int c = i % (kChannels / 2);
        so.subscribers.push_back({"d" + std::to_string(c), "p" + std::to_string(c)});
      }
    }
    PollSwarm swarm(so);
    EXPECT_TRUE(swarm.start(std::chrono::seconds(20))) << stack.logs();

    auto load = php_publish_load(stack.dir().path(),
                                 redis_kind == Redis::cluster ? 0 : stack.redis().port(), channels,
                                 kRate, kSeconds, sentinel ? stack.sentinel().port() : 0,
                                 redis_kind == Redis::cluster ? stack.cluster().seeds() : "");
    // A third of the way in: about (rate / channels) messages a second per
    // channel, to each of its subscribers.
    const double per_second = static_cast<double>(kRate) / kChannels * (kSubscribers * 1.5);
    EXPECT_TRUE(wait_until([&] { return swarm.delivered() >= per_second * kSeconds / 3; },
                           std::chrono::seconds(30)))
        << stack.logs();
    const auto fault_at = Clock::now();
    fault(stack);

    EXPECT_EQ(load->wait_exit(std::chrono::seconds(60)), 0) << load->output();
    auto expected = read_publish_log(load->stdout_text(), row);

    // Drained: every subscriber has the last published message of each of
    // its channels (or, on a plain channel, a gap after its last message).
    auto drained = [&] {
      for (const auto& rec : swarm.records()) {
        for (const auto& ch : rec.channels) {
          const long last = expected[ch].empty() ? 0 : *expected[ch].rbegin();
          bool done = false;
          for (const auto& e : rec.events) {
            if (e.channel == ch && e.kind == SwarmEvent::Kind::message && e.n == last) done = true;
          }
          if (!done && !durable(ch) && !rec.events.empty() &&
              rec.events.back().kind == SwarmEvent::Kind::gap) {
            done = true;
          }
          if (!done) return false;
        }
      }
      return true;
    };
    // The records are written by the swarm's thread: read them once it
    // is stopped, when delivery has gone quiet (bounded).
    swarm.wait_quiet(std::chrono::seconds(2), std::chrono::seconds(30));
    swarm.stop();
    EXPECT_TRUE(drained()) << "not drained in time\n" << stack.logs();

    double worst = 0;
    for (const auto& rec : swarm.records()) {
      row.poll_errors += rec.errors;
      for (const auto& e : rec.events) {
        if (e.kind == SwarmEvent::Kind::message && e.at > fault_at) {
          worst =
              std::max(worst, std::chrono::duration<double, std::milli>(e.at - fault_at).count());
          break;
        }
      }
      for (const auto& ch : rec.channels) {
        std::map<long, int> got;
        std::vector<const SwarmEvent*> seq;  // this channel's events in order
        for (const auto& e : rec.events) {
          if (e.channel != ch) continue;
          seq.push_back(&e);
          if (e.kind == SwarmEvent::Kind::gap) {
            (durable(ch) ? row.gaps_durable : row.gaps_plain)++;
            if (durable(ch) && row.gaps_durable <= 3) {
              std::cout
                  << "durable gap on " << ch << " at +"
                  << std::chrono::duration_cast<std::chrono::milliseconds>(e.at - fault_at).count()
                  << " ms, polled with " << e.since << std::endl;
            }
          } else if (e.n > 0) {
            ++got[e.n];
          }
        }
        for (auto& [n, count] : got) {
          if (count > 1) {
            (durable(ch) ? row.dup_durable : row.dup_plain) += count - 1;
            if (row.dup_durable + row.dup_plain <= 3) {
              std::cout << "repeated " << ch << " n=" << n << " to a subscriber of "
                        << rec.channels.size() << " channel(s):";
              for (const auto* e : seq) {
                if (e->kind == SwarmEvent::Kind::message && e->n == n) {
                  std::cout << "\n  at +"
                            << std::chrono::duration_cast<std::chrono::milliseconds>(e->at -
                                                                                     fault_at)
                                   .count()
                            << " ms, polled with " << e->since;
                }
              }
              std::cout << std::endl;
            }
          }
        }
        for (long n : expected[ch]) {
          if (got.count(n)) continue;
          if (durable(ch)) {
            ++row.lost_durable;
            continue;
          }
          // Inside a gap: the last message before some gap is older and the
          // first one after it is newer (or there is none).
          bool covered = false;
          long before = 0;
          for (std::size_t i = 0; i < seq.size() && !covered; ++i) {
            if (seq[i]->kind == SwarmEvent::Kind::message) {
              before = std::max(before, seq[i]->n);
              continue;
            }
            long after = -1;
            for (std::size_t k = i + 1; k < seq.size(); ++k) {
              if (seq[k]->kind == SwarmEvent::Kind::message) {
                after = seq[k]->n;
                break;
              }
            }
            covered = before < n && (after < 0 || n < after);
          }
          (covered ? row.missed_plain_in_gap : row.lost_plain_silently)++;
        }
      }
    }
    row.resumed_ms = worst;
    print(row);
    return row;
  }

  static void print(const Row& r) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "FAULT-TABLE | %-15s | durable: published %5ld lost %ld dup %ld gaps %ld | "
                  "plain: published %5ld missed-in-gap %ld silent-loss %ld dup %ld gaps %ld | "
                  "poll errors %ld | delivery resumed %.0f ms",
                  r.fault.c_str(), r.published_durable, r.lost_durable, r.dup_durable,
                  r.gaps_durable, r.published_plain, r.missed_plain_in_gap, r.lost_plain_silently,
                  r.dup_plain, r.gaps_plain, r.poll_errors, r.resumed_ms);
    std::cout << line << std::endl;
  }

  static void check(const Row& r) {
    EXPECT_GT(r.published_durable, 0);
    EXPECT_GT(r.published_plain, 0);
    EXPECT_EQ(r.lost_durable, 0);
    EXPECT_EQ(r.dup_durable, 0);
    EXPECT_EQ(r.gaps_durable, 0);
    EXPECT_EQ(r.dup_plain, 0);
    EXPECT_EQ(r.lost_plain_silently, 0);
  }
};

TEST_F(Faults, RedisKill9) {
  check(run("redis kill -9", 1, [](Stack& s) {
    s.redis().kill9();
    s.redis().restart();
  }));
}

TEST_F(Faults, GatewayKill9) {
  check(run("gateway kill -9", 2, [](Stack& s) {
    s.kill9_gateway(1);
    s.start_gateway(1);
  }));
}

TEST_F(Faults, NginxReload) {
  check(run("nginx reload", 1, [](Stack& s) { s.nginx().reload(); }));
}

TEST_F(Faults, GatewaySigterm) {
  check(run("gateway SIGTERM", 2, [](Stack& s) {
    EXPECT_EQ(s.stop_gateway(0), 0);
    s.start_gateway(0);
  }));
}

TEST_F(Faults, SentinelMasterKill9) {
  int promoted = 0;
  check(run(
      "sentinel: master kill -9", 1,
      [&](Stack& s) {
        const int old_port = s.redis().port();
        s.redis().kill9();
        // The replica is promoted by the sentinel; the gateway finds it.
        EXPECT_TRUE(
            wait_until([&] { return s.sentinel().master_port().value_or(old_port) != old_port; },
                       std::chrono::seconds(20)))
            << s.logs();
        promoted = s.sentinel().master_port().value_or(0);
        EXPECT_TRUE(promoted == s.replica(0).port() || promoted == s.replica(1).port());
        EXPECT_TRUE(s.gateway(0).wait_healthy(std::chrono::seconds(20))) << s.logs();
      },
      Redis::sentinel));
  EXPECT_EQ(promoted != 0, true);
}

TEST_F(Faults, ClusterMasterKill9) {
  check(run(
      "cluster: master kill -9", 1,
      [&](Stack& s) {
        auto& cluster = s.cluster();
        ASSERT_TRUE(cluster.is_master(0));
        const int dead = cluster.node(0).port();
        cluster.node(0).kill9();
        // A replica takes over its slots (cluster-node-timeout 2 s).
        EXPECT_TRUE(wait_until(
            [&] {
              // Node 0 served slot 0 (redis-cli gives the first master the
              // first slots).
              const int port = cluster.master_port_of_slot(0, 1);
              return port != 0 && port != dead;
            },
            std::chrono::seconds(30)))
            << s.logs();
        EXPECT_TRUE(s.gateway(0).wait_healthy(std::chrono::seconds(20))) << s.logs();
      },
      Redis::cluster));
}

}  // namespace
}  // namespace comet::test
