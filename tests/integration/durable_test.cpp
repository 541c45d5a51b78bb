// Durable channels end to end: PHP's Comet::publishDurable through Redis
// (the gateway's own function library) to polls through nginx, across a
// gateway restart, a trimmed stream, a lost subscription and two gateways
// taking turns.
#include <gtest/gtest.h>

#include <set>

#include "gateway/core/stream_id.hpp"
#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

const std::string kPrefix = "comet:";

std::string poll_path(const std::string& channels, const std::string& cursor, int timeout) {
  std::string p = "/comet/poll?channel=" + channels + "&timeout=" + std::to_string(timeout);
  if (!cursor.empty()) p += "&since=" + url_encode(cursor);
  return p;
}

std::vector<std::string> payloads(const json& j) {
  std::vector<std::string> out;
  for (const auto& m : j["messages"]) out.push_back(message_bytes(m));
  return out;
}

// A cursor that has d's position: poll until the first message arrives.
json first_message(Stack& stack, const std::string& channel, const std::string& payload) {
  auto poll = stack.start_get(poll_path(channel, "", 20));
  EXPECT_TRUE(stack.wait_parked(1)) << stack.logs();
  stack.publish_durable(channel, payload);
  auto r = poll->read_response(std::chrono::seconds(10));
  if (!r) {
    ADD_FAILURE() << "no answer\n" << stack.logs();
    return json::object();
  }
  return expect_poll_response(*r);
}

TEST(Durable, PublishDurableArrivesWithItsStreamIdAndPlainSubscribersSeeThePayload) {
  Stack stack;
  RespClient sub(stack.redis().port());
  sub.send({"SUBSCRIBE", kPrefix + "d.a"});
  ASSERT_TRUE(sub.read(std::chrono::seconds(5)));  // the confirmation

  auto poll = stack.start_get(poll_path("d.a", "", 20));
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  const std::string id = stack.publish_durable("d.a", "hello \xc3\xa9");
  ASSERT_TRUE(StreamId::parse(id)) << id;

  auto r = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  json j = expect_poll_response(*r);
  ASSERT_EQ(j["messages"].size(), 1u) << r->body;
  EXPECT_EQ(j["messages"][0]["id"], id);
  EXPECT_EQ(j["messages"][0]["channel"], "d.a");
  EXPECT_EQ(message_bytes(j["messages"][0]), "hello \xc3\xa9");
  EXPECT_EQ(j["cursor"].get<std::string>().substr(0, 2), "3.") << r->body;

  // A plain subscriber of comet:d.a got the raw payload, as from PUBLISH.
  auto m = sub.read(std::chrono::seconds(5));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->elements.size(), 3u);
  EXPECT_EQ(m->elements[1].str, kPrefix + "d.a");
  EXPECT_EQ(m->elements[2].str, "hello \xc3\xa9");

  // The stream holds it under the documented key.
  RespClient c(stack.redis().port());
  auto x = c.command({"XRANGE", kPrefix + "{d.a}:stream", "-", "+"});
  ASSERT_EQ(x.elements.size(), 1u);
  EXPECT_EQ(x.elements[0].elements[0].str, id);
}

TEST(Durable, GatewayRestartRefillsExactlyWhatWasPublishedMeanwhile) {
  Stack stack;
  json j0 = first_message(stack, "d.r", "m0");
  const std::string cursor = j0["cursor"];

  ASSERT_EQ(stack.stop_gateway(0), 0);
  std::vector<std::string> ids;
  for (int i = 1; i <= 3; ++i) ids.push_back(stack.publish_durable("d.r", "m" + std::to_string(i)));
  stack.start_gateway(0);

  auto r = stack.get(poll_path("d.r", cursor, 5));
  json j = expect_poll_response(r);
  EXPECT_FALSE(j.contains("gaps")) << r.body;
  EXPECT_EQ(payloads(j), (std::vector<std::string>{"m1", "m2", "m3"})) << r.body;
  ASSERT_EQ(j["messages"].size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(j["messages"][i]["id"], ids[i]);

  // And nothing twice: the next poll waits.
  auto r2 = stack.get(poll_path("d.r", j["cursor"], 1));
  json j2 = expect_poll_response(r2);
  EXPECT_TRUE(j2["messages"].empty()) << r2.body;
  EXPECT_FALSE(j2.contains("gaps")) << r2.body;
}

TEST(Durable, TrimmedStreamIsAGapWithWhatRemains) {
  Stack stack;
  json j0 = first_message(stack, "d.t", "m0");
  const std::string cursor = j0["cursor"];
  ASSERT_EQ(stack.stop_gateway(0), 0);
  for (int i = 1; i <= 5; ++i) stack.publish_durable("d.t", "m" + std::to_string(i));
  RespClient c(stack.redis().port());
  c.command({"XTRIM", kPrefix + "{d.t}:stream", "MAXLEN", "2"});
  stack.start_gateway(0);

  auto r = stack.get(poll_path("d.t", cursor, 5));
  json j = expect_poll_response(r);
  ASSERT_TRUE(j.contains("gaps")) << r.body;
  EXPECT_EQ(j["gaps"], json::array({"d.t"}));
  EXPECT_EQ(payloads(j), (std::vector<std::string>{"m4", "m5"})) << r.body;
}

TEST(Durable, LostSubscriptionIsRefilledWithoutAGap) {
  Stack stack;
  json j0 = first_message(stack, "d.s", "m0");
  std::string cursor = j0["cursor"];

  // The subscription drops and a durable message is published before it is
  // back (one transaction: deterministic).
  RespClient c(stack.redis().port());
  c.command({"MULTI"});
  c.command({"CLIENT", "KILL", "TYPE", "pubsub"});
  c.command({"FCALL", "comet_publish_v1", "1", kPrefix + "{d.s}:stream", kPrefix + "d.s",
             kPrefix + "#durable:d.s", "m1", "100", "0"});
  auto exec = c.command({"EXEC"});
  ASSERT_EQ(exec.type, RespValue::Type::array) << exec.str;

  std::vector<std::string> got;
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (got.empty() && Clock::now() < deadline) {
    auto r = stack.get(poll_path("d.s", cursor, 2));
    json j = expect_poll_response(r);
    EXPECT_FALSE(j.contains("gaps")) << r.body;
    for (auto& p : payloads(j)) got.push_back(p);
    cursor = j["cursor"];
  }
  EXPECT_EQ(got, (std::vector<std::string>{"m1"})) << stack.logs();
  auto r = stack.get(poll_path("d.s", cursor, 1));
  EXPECT_TRUE(expect_poll_response(r)["messages"].empty()) << r.body;
}

TEST(Durable, TwoGatewaysTakingTurnsNeitherRepeatNorLose) {
  StackOptions o;
  o.gateways = 2;
  Stack stack(o);
  stack.publish_durable("d.2", "m0");
  // Each poll lands on the other gateway (nginx round-robin).
  std::string cursor;
  {
    auto r = stack.get("/comet/poll?channel=d.2&timeout=0&since=earliest");
    json j = expect_poll_response(r);
    cursor = j["cursor"];
    if (j["messages"].empty()) {  // that gateway had not heard m0 yet
      r = stack.get("/comet/poll?channel=d.2&timeout=0&since=earliest");
      cursor = expect_poll_response(r)["cursor"];
    }
  }
  std::vector<std::string> expected, got;
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 2; ++i) {
      std::string p = "m" + std::to_string(round * 2 + i + 1);
      stack.publish_durable("d.2", p);
      expected.push_back(p);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (got.size() < expected.size() && Clock::now() < deadline) {
      auto r = stack.get(poll_path("d.2", cursor, 2));
      json j = expect_poll_response(r);
      EXPECT_FALSE(j.contains("gaps")) << r.body;
      for (auto& p : payloads(j)) got.push_back(p);
      cursor = j["cursor"];
    }
  }
  EXPECT_EQ(got, expected) << stack.logs();
}

TEST(Durable, GatewayLoadsTheFunctionLibraryAndPhpCarriesTheSameText) {
  Stack stack(StackOptions::without_nginx());
  RespClient c(stack.redis().port());
  EXPECT_TRUE(wait_until(
      [&] {
        auto r = c.command({"FUNCTION", "LIST", "LIBRARYNAME", "comet_v1"});
        return r.type == RespValue::Type::array && !r.elements.empty();
      },
      std::chrono::seconds(10)))
      << stack.logs();
  const std::string script = R"php(
require getenv('COMET_PHP');
echo (new ReflectionClassConstant('Comet', 'LIBRARY'))->getValue();
)php";
  auto r = run({"php", "-r", script}, stack.dir().path(), std::chrono::seconds(20),
               {std::string("COMET_PHP=") + COMET_SOURCE_DIR + "/clients/php/Comet.php"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string lua = read_file(std::string(COMET_SOURCE_DIR) + "/deploy/redis/comet.lua");
  while (!lua.empty() && lua.back() == '\n') lua.pop_back();
  EXPECT_EQ(r.out, lua) << "clients/php/Comet.php's LIBRARY differs from deploy/redis/comet.lua";
}

TEST(Durable, NoticeIsPairedOnlyWithItsOwnChannelsNextMessage) {
  Stack stack;
  auto poll = stack.start_get(poll_path("x,y", "", 20));
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  RespClient c(stack.redis().port());
  // Back to back in one transaction, as the function sends them.
  c.command({"MULTI"});
  c.command({"PUBLISH", kPrefix + "#durable:y", "5-5"});
  c.command({"PUBLISH", kPrefix + "x", "plain"});  // not y's: stays plain
  c.command({"PUBLISH", kPrefix + "#durable:x", "7-1"});
  c.command({"PUBLISH", kPrefix + "x", "durable"});
  c.command({"EXEC"});
  std::vector<json> got;
  std::string cursor;
  auto r = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r);
  json j = expect_poll_response(*r);
  for (auto& m : j["messages"]) got.push_back(m);
  cursor = j["cursor"];
  if (got.size() < 2) {
    json j2 = expect_poll_response(stack.get(poll_path("x,y", cursor, 5)));
    for (auto& m : j2["messages"]) got.push_back(m);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(message_bytes(got[0]), "plain");
  EXPECT_NE(got[0]["id"], "5-5");
  EXPECT_EQ(message_bytes(got[1]), "durable");
  EXPECT_EQ(got[1]["id"], "7-1");
}

}  // namespace
}  // namespace comet::test
