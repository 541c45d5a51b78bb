// Redis Cluster: three masters, the gateway on a redis-cluster:// URL, PHP
// publishing through phpredis' RedisCluster. Plain PUBLISHes sent to any
// master reach the gateway's one subscription; each durable channel's
// stream lives on the master of its slot, where the gateway reads it (and
// follows the slot when it moves).
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

std::string poll_path(const std::vector<std::string>& channels, const std::string& cursor,
                      int timeout) {
  std::string list;
  for (const auto& c : channels) list += (list.empty() ? "" : ",") + c;
  std::string p = "/comet/poll?channel=" + list + "&timeout=" + std::to_string(timeout);
  if (!cursor.empty()) p += "&since=" + url_encode(cursor);
  return p;
}

std::string stream_key(const std::string& channel) {
  return "comet:{" + channel + "}:stream";
}

// One channel name per master: names whose stream key's slot that master
// serves.
std::vector<std::string> one_channel_per_master(RedisCluster& cluster) {
  std::map<int, std::string> by_master;
  for (int i = 0; by_master.size() < cluster.size() && i < 1000; ++i) {
    const std::string name = "d" + std::to_string(i);
    by_master.try_emplace(cluster.master_port_of_slot(cluster.key_slot(stream_key(name))), name);
  }
  std::vector<std::string> out;
  for (auto& [port, name] : by_master) out.push_back(name);
  return out;
}

bool library_loaded(int port) {
  try {
    RespClient c(port);
    auto r = c.command({"FUNCTION", "LIST", "LIBRARYNAME", "comet_v1"}, std::chrono::seconds(1));
    return r.type == RespValue::Type::array && !r.elements.empty();
  } catch (const std::exception&) {
    return false;
  }
}

struct Received {
  std::string cursor;
  std::vector<std::pair<std::string, std::string>> messages;  // (channel, payload)
  std::map<std::string, std::string> ids;                     // payload -> id
  int gaps = 0;
};

// Polls `channels` from `cursor` through nginx until `want` messages have
// arrived (bounded), following the cursor.
Received follow(Stack& stack, const std::vector<std::string>& channels, std::string cursor,
                std::size_t want) {
  Received out;
  out.cursor = std::move(cursor);
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (out.messages.size() < want && Clock::now() < deadline) {
    auto r = stack.get(poll_path(channels, out.cursor, 5));
    json j = expect_poll_response(r);
    if (!j.contains("cursor")) break;
    out.cursor = j["cursor"].get<std::string>();
    if (j.contains("gaps")) out.gaps += static_cast<int>(j["gaps"].size());
    for (const auto& m : j["messages"]) {
      const std::string payload = message_bytes(m);
      out.messages.emplace_back(m["channel"].get<std::string>(), payload);
      if (m.contains("id")) out.ids[payload] = m["id"].get<std::string>();
    }
  }
  return out;
}

TEST(RedisCluster, PublishesOnEveryMasterReachTheGateway) {
  StackOptions o;
  o.cluster_masters = 3;
  Stack stack(o);
  auto& cluster = stack.cluster();
  // The gateway loaded the functions on every master by itself.
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    EXPECT_TRUE(wait_until([&] { return library_loaded(cluster.node(i).port()); },
                           std::chrono::seconds(10)))
        << "no comet_v1 on node " << i << "\n"
        << stack.logs();
  }
  auto durable = one_channel_per_master(cluster);
  ASSERT_EQ(durable.size(), 3u);
  std::vector<std::string> channels = durable;
  channels.push_back("plain");

  auto poll = stack.start_get(poll_path(channels, "", 20));
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  std::map<std::string, std::string> sent_ids;
  for (const auto& ch : durable) sent_ids["to " + ch] = stack.publish_durable(ch, "to " + ch);
  stack.publish("plain", "to plain");

  auto first = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(first) << stack.logs();
  json j = expect_poll_response(*first);
  Received got;
  for (const auto& m : j["messages"]) {
    const std::string payload = message_bytes(m);
    got.messages.emplace_back(m["channel"].get<std::string>(), payload);
    if (m.contains("id")) got.ids[payload] = m["id"].get<std::string>();
  }
  ASSERT_LE(got.messages.size(), 4u) << first->body;
  Received rest = follow(stack, channels, j["cursor"].get<std::string>(), 4 - got.messages.size());
  got.messages.insert(got.messages.end(), rest.messages.begin(), rest.messages.end());
  got.ids.insert(rest.ids.begin(), rest.ids.end());

  std::set<std::string> payloads;
  for (auto& [ch, payload] : got.messages) {
    EXPECT_EQ(payload, "to " + ch);
    payloads.insert(payload);
  }
  EXPECT_EQ(payloads.size(), 4u) << stack.logs();
  EXPECT_EQ(got.messages.size(), 4u);
  EXPECT_EQ(rest.gaps, 0);
  // Durable messages carry the stream ids PHP was given.
  for (auto& [payload, id] : sent_ids) EXPECT_EQ(got.ids[payload], id) << payload;
}

TEST(RedisCluster, RefillsEachChannelFromTheMasterThatHoldsIt) {
  StackOptions o;
  o.cluster_masters = 3;
  Stack stack(o);
  auto durable = one_channel_per_master(stack.cluster());
  ASSERT_EQ(durable.size(), 3u);

  // A cursor that has seen message 1 of each channel.
  auto poll = stack.start_get(poll_path(durable, "", 20));
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  for (const auto& ch : durable) stack.publish_durable(ch, ch + " 1");
  auto r = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  json j = expect_poll_response(*r);
  ASSERT_LE(j["messages"].size(), 3u) << r->body;
  Received seen = follow(stack, durable, j["cursor"].get<std::string>(), 3 - j["messages"].size());
  ASSERT_EQ(j["messages"].size() + seen.messages.size(), 3u) << stack.logs();

  // Messages 2 and 3 are published while the gateway is down: only the
  // streams, one on each master, have them.
  ASSERT_EQ(stack.stop_gateway(0), 0);
  for (int n = 2; n <= 3; ++n) {
    for (const auto& ch : durable) stack.publish_durable(ch, ch + " " + std::to_string(n));
  }
  stack.start_gateway(0);

  Received got = follow(stack, durable, seen.cursor, 6);
  EXPECT_EQ(got.gaps, 0) << stack.logs();
  ASSERT_EQ(got.messages.size(), 6u) << stack.logs();
  std::map<std::string, int> next;
  for (const auto& ch : durable) next[ch] = 2;
  for (auto& [ch, payload] : got.messages) {
    EXPECT_EQ(payload, ch + " " + std::to_string(next[ch]++)) << "out of order or repeated";
  }
  EXPECT_GE(stack.metric("comet_stream_reads_total").value_or(0), 1);
  EXPECT_EQ(stack.metric("comet_stream_read_failures_total").value_or(-1), 0) << stack.logs();
}

TEST(RedisCluster, FollowsADurableChannelsSlotToAnotherMaster) {
  StackOptions o;
  o.cluster_masters = 3;
  // One message in memory per channel: anything older is read from the
  // stream.
  o.gateway_args = {"--buffer-messages", "1"};
  Stack stack(o);
  auto& cluster = stack.cluster();
  const std::string ch = "moving";
  const int slot = cluster.key_slot(stream_key(ch));
  const int from = cluster.master_port_of_slot(slot);

  auto poll = stack.start_get(poll_path({ch}, "", 20));
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  stack.publish_durable(ch, "one");
  auto r = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  json j = expect_poll_response(*r);
  ASSERT_EQ(j["messages"].size(), 1u);
  const std::string cursor = j["cursor"].get<std::string>();

  // The slot moves, stream and all, to another master; the gateway's slot
  // map still names the old one.
  const int to = cluster.node(0).port() != from ? cluster.node(0).port() : cluster.node(1).port();
  cluster.move_slot(slot, to);
  stack.publish_durable(ch, "two");
  stack.publish_durable(ch, "three");
  ASSERT_TRUE(
      wait_until([&] { return stack.metric("comet_messages_received_total").value_or(0) >= 3; },
                 std::chrono::seconds(10)))
      << stack.logs();

  // "two" is no longer in memory: read from the stream, on the new master.
  Received got = follow(stack, {ch}, cursor, 2);
  EXPECT_EQ(got.gaps, 0) << stack.logs();
  ASSERT_EQ(got.messages.size(), 2u) << stack.logs();
  EXPECT_EQ(got.messages[0].second, "two");
  EXPECT_EQ(got.messages[1].second, "three");
  EXPECT_GE(stack.metric("comet_stream_reads_total").value_or(0), 1);
  // The read went to the old master first, which redirected it.
  EXPECT_NE(stack.gateway(0).log().find("moved to 127.0.0.1:" + std::to_string(to) + " (MOVED)"),
            std::string::npos)
      << stack.logs();
}

// Two gateways behind nginx's round-robin: every poll lands on the other
// gateway. Subscribed on one node, they hear one stream and place each
// other's stream positions; on two nodes (messages from different masters
// then come in different orders), a cursor from the other is placed after
// its subscription barrier (a marker published on every master) with a gap
// on plain channels, so that plain messages are never repeated.
void hop_between_two_gateways(bool same_node) {
  StackOptions o;
  o.cluster_masters = 3;
  o.gateways = 2;
  // Each gateway names the nodes from another one first, so each
  // subscribes on another node.
  o.cluster_seeds_rotated = !same_node;
  Stack stack(o);
  const std::vector<std::string> channels{"d", "p"};
  auto first = stack.start_get(poll_path(channels, "", 20));
  ASSERT_TRUE(wait_until(
      [&] {
        double sum = 0;
        for (std::size_t i = 0; i < 2; ++i) {
          auto r = stack.gateway(i).request("GET", "stats", "", {}, std::chrono::seconds(5));
          sum += parse_metric(r.body, "comet_parked_requests").value_or(0);
        }
        return sum == 1;
      },
      std::chrono::seconds(10)))
      << stack.logs();
  stack.publish_durable("d", "1");
  auto r = first->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  std::string cursor = expect_poll_response(*r)["cursor"].get<std::string>();

  std::vector<std::string> durable{"1"}, plain;
  int plain_gaps = 0;
  for (int n = 2; n <= 8; ++n) {
    stack.publish("p", std::to_string(n));
    stack.publish_durable("d", std::to_string(n));
    while (durable.back() != std::to_string(n)) {
      const auto t0 = Clock::now();
      auto resp = stack.get(poll_path(channels, cursor, 5));
      const auto took = Clock::now() - t0;
      json j = expect_poll_response(resp);
      ASSERT_TRUE(j.contains("cursor")) << stack.logs();
      // Something was waiting: the answer is immediate unless the barrier
      // hangs (it gives up after 3 s).
      EXPECT_LT(took, std::chrono::seconds(2)) << resp.body;
      cursor = j["cursor"].get<std::string>();
      if (j.contains("gaps")) {
        for (const auto& g : j["gaps"]) {
          EXPECT_EQ(g, "p") << "a durable channel with a gap: " << resp.body;
          ++plain_gaps;
        }
      }
      for (const auto& m : j["messages"]) {
        (m["channel"] == "d" ? durable : plain).push_back(message_bytes(m));
      }
    }
  }
  EXPECT_EQ(durable, (std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7", "8"}));
  std::set<std::string> unique(plain.begin(), plain.end());
  EXPECT_EQ(unique.size(), plain.size()) << "a plain message was repeated";
  if (same_node) {
    // Both subscribed on one node hear one stream: each places the other's
    // stream positions exactly.
    EXPECT_EQ(plain_gaps, 0);
    EXPECT_EQ(plain, (std::vector<std::string>{"2", "3", "4", "5", "6", "7", "8"}));
  } else {
    // On two nodes, two orders: the other's positions are not placed, and
    // the plain messages not delivered were named by a gap.
    EXPECT_GE(plain_gaps, 1);
    EXPECT_LE(plain.size(), 7u);
  }
}

TEST(RedisCluster, PollsHoppingBetweenTwoGateways) {
  hop_between_two_gateways(true);
}

TEST(RedisCluster, PollsHoppingBetweenGatewaysSubscribedOnTwoNodes) {
  hop_between_two_gateways(false);
}

// HTTP publish (POST .../publish?durable=1) stores each channel's message on
// the master of its slot.
TEST(RedisCluster, HttpDurablePublishGoesToTheChannelsMaster) {
  StackOptions o;
  o.cluster_masters = 3;
  o.gateway_args = {"--publish-allow", "127.0.0.1"};
  Stack stack(o);
  auto& cluster = stack.cluster();
  for (const auto& ch : one_channel_per_master(cluster)) {
    auto r = http_request(stack.http_port(), "POST", "/comet/publish?durable=1&channel=" + ch, {},
                          "to " + ch);
    ASSERT_EQ(r.status, 202) << r.body << stack.logs();
    const int master = cluster.master_port_of_slot(cluster.key_slot(stream_key(ch)));
    RespClient c(master);
    auto len = c.command({"XLEN", stream_key(ch)});
    EXPECT_EQ(len.integer, 1) << ch << " on " << master;
  }
}

// A master that dies (with no replica to take over) publishes nothing more:
// the barrier of a poll that moves to the other gateway does not wait for
// its marker.
TEST(RedisCluster, BarrierDoesNotWaitForADeadMaster) {
  StackOptions o;
  o.cluster_masters = 3;
  o.gateways = 2;
  Stack stack(o);
  auto& cluster = stack.cluster();
  // The gateways subscribe on the first node they are given; node 2 only
  // serves stream reads and barrier markers.
  ASSERT_TRUE(wait_until([&] { return pubsub_numpat(cluster.node(0).port()) == 1; },
                         std::chrono::seconds(10)))
      << stack.logs();
  ASSERT_EQ(pubsub_numpat(cluster.node(2).port()), 0);
  auto first = stack.get("/comet/poll?channel=p&timeout=0");
  std::string cursor = expect_poll_response(first)["cursor"].get<std::string>();

  const std::string dead = "127.0.0.1:" + std::to_string(cluster.node(2).port());
  cluster.node(2).kill9();
  ASSERT_TRUE(wait_until(
      [&] {
        return stack.gateway(0).log().find("connection to " + dead + " lost") !=
                   std::string::npos &&
               stack.gateway(1).log().find("connection to " + dead + " lost") != std::string::npos;
      },
      std::chrono::seconds(10)))
      << stack.logs();
  RespClient publisher(cluster.node(0).port());
  for (int n = 1; n <= 6; ++n) {
    publisher.command({"PUBLISH", "comet:p", std::to_string(n)});
    const auto t0 = Clock::now();
    auto r = stack.get("/comet/poll?channel=p&timeout=0&since=" + url_encode(cursor));
    const auto took = Clock::now() - t0;
    json j = expect_poll_response(r);
    ASSERT_TRUE(j.contains("cursor")) << r.body;
    cursor = j["cursor"].get<std::string>();
    // The barrier gives up after 3 s when a marker never comes back.
    EXPECT_LT(took, std::chrono::seconds(2)) << "poll " << n << "\n" << stack.logs();
  }
}

// The master the gateway is subscribed on (its first node) dies for good;
// its replica takes over its slots. The subscription moves to another node,
// the durable channel on the dead master goes on from the promoted replica
// with nothing lost or repeated, plain channels go on with a gap.
TEST(RedisCluster, MasterKill9ReplicaPromoted) {
  StackOptions o;
  o.cluster_masters = 3;
  o.cluster_replicas = 1;
  Stack stack(o);
  auto& cluster = stack.cluster();
  ASSERT_TRUE(cluster.is_master(0)) << "redis-cli made node 0 a replica";
  ASSERT_TRUE(wait_until([&] { return pubsub_numpat(cluster.node(0).port()) == 1; },
                         std::chrono::seconds(10)))
      << "the gateway is not subscribed on its first node\n"
      << stack.logs();
  // A durable channel whose stream node 0 holds.
  std::string ch;
  for (int i = 0; ch.empty() && i < 1000; ++i) {
    const std::string name = "f" + std::to_string(i);
    if (cluster.master_port_of_slot(cluster.key_slot(stream_key(name))) == cluster.node(0).port()) {
      ch = name;
    }
  }
  ASSERT_FALSE(ch.empty());
  const int slot = cluster.key_slot(stream_key(ch));
  const std::vector<std::string> channels{ch, "plain"};

  auto poll = stack.start_get(poll_path(channels, "", 20));
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  stack.publish_durable(ch, "before");
  auto r = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  json j = expect_poll_response(*r);
  ASSERT_EQ(j["messages"].size(), 1u) << r->body;
  const std::string cursor = j["cursor"].get<std::string>();
  // On the replica before the master dies (a publisher would WAIT 1).
  {
    RespClient c(cluster.node(0).port());
    c.command({"WAIT", "1", "5000"});
  }

  const auto t0 = Clock::now();
  cluster.node(0).kill9();
  // Another node holds the subscription, and the replica serves the slot.
  ASSERT_TRUE(wait_until(
      [&] {
        for (std::size_t i = 1; i < cluster.size(); ++i) {
          if (pubsub_numpat(cluster.node(i).port()) == 1) return true;
        }
        return false;
      },
      std::chrono::seconds(20)))
      << stack.logs();
  ASSERT_TRUE(wait_until(
      [&] {
        // Every live node knows (PHP asks a random one for the slot map).
        for (std::size_t i = 1; i < cluster.size(); ++i) {
          const int port = cluster.master_port_of_slot(slot, i);
          if (port == 0 || port == cluster.node(0).port()) return false;
        }
        return true;
      },
      std::chrono::seconds(30)))
      << "no replica was promoted\n"
      << stack.logs();
  ASSERT_TRUE(stack.gateway(0).wait_healthy(std::chrono::seconds(20))) << stack.logs();

  auto next = stack.start_get(poll_path(channels, cursor, 20));
  stack.publish_durable(ch, "after");
  stack.publish("plain", "plain after");
  r = next->read_response(std::chrono::seconds(20));
  ASSERT_TRUE(r) << stack.logs();
  const auto resumed =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  j = expect_poll_response(*r);
  std::vector<std::string> durable, plain;
  for (const auto& m : j["messages"]) {
    (m["channel"] == ch ? durable : plain).push_back(message_bytes(m));
  }
  ASSERT_LE(durable.size() + plain.size(), 2u) << r->body;
  Received rest =
      follow(stack, channels, j["cursor"].get<std::string>(), 2 - durable.size() - plain.size());
  for (auto& [c, payload] : rest.messages) (c == ch ? durable : plain).push_back(payload);
  EXPECT_EQ(durable, (std::vector<std::string>{"after"})) << stack.logs();
  EXPECT_EQ(plain, (std::vector<std::string>{"plain after"}));
  if (j.contains("gaps")) {
    for (const auto& g : j["gaps"]) EXPECT_EQ(g, "plain") << r->body;
  }
  std::cout << "CLUSTER | master kill -9: the next durable message delivered " << resumed
            << " ms after the kill" << std::endl;
}

}  // namespace
}  // namespace comet::test
