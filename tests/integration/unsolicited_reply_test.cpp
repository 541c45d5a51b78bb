// A Redis that sends what no command asked for (a buggy server, a proxy in
// between, a push of a newer protocol) costs the gateway that one
// connection, not the process: hiredis 0.14's async dispatch asserted on
// such replies, aborting the gateway and every parked client with it. Here
// a fake Redis (tests/support/fake_redis) sends them; the gateway logs
// what arrived, reconnects, and its parked poll is still there to get the
// next message.
#include <gtest/gtest.h>

#include <optional>

#include "tests/support/fake_redis.hpp"
#include "tests/support/gateway.hpp"
#include "tests/support/stack.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {
namespace {

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A gateway on a fake Redis, both links up, one poll parked on "news".
class UnsolicitedReply : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayOptions o;
    o.dir = dir_.path();
    o.redis_url = redis_.url();
    gw_.emplace(o);
    ASSERT_TRUE(gw_->wait_healthy(std::chrono::seconds(10))) << gw_->log();
    ASSERT_TRUE(
        wait_until([&] { return redis_.commands("PUBLISH") >= 1; }, std::chrono::seconds(10)))
        << "the heartbeat: the command connection is up\n"
        << gw_->log();
    poll_.emplace(gw_->connect());
    poll_->send_request(1, fcgi::request_params("GET", "/comet/poll", "channel=news&timeout=50"),
                        false);
    ASSERT_TRUE(wait_until([&] { return parked() == 1; }, std::chrono::seconds(10))) << gw_->log();
  }

  double parked() {
    try {
      auto r = gw_->request("GET", "stats", "", {}, std::chrono::seconds(5));
      return r.status == 200 ? parse_metric(r.body, "comet_parked_requests").value_or(-1) : -1;
    } catch (const std::exception&) {
      return -1;
    }
  }

  // Until `done` or the gateway's exit, bounded.
  bool wait_alive(const std::function<bool()>& done) {
    return wait_until([&] { return done() || !gw_->process().running(); },
                      std::chrono::seconds(10)) &&
           gw_->process().running();
  }

  // The poll is still parked, never answered, and the next message reaches it.
  void expect_poll_survived() {
    EXPECT_EQ(gw_->log().find("secret"), std::string::npos)
        << "what arrived is described, not quoted";
    EXPECT_FALSE(poll_->ended(1));
    EXPECT_EQ(parked(), 1);
    ASSERT_TRUE(gw_->wait_healthy(std::chrono::seconds(10))) << gw_->log();
    EXPECT_EQ(redis_.publish("comet:news", "after the loss"), 1u);
    auto r = poll_->wait_end(1, std::chrono::seconds(10));
    ASSERT_TRUE(r) << gw_->log();
    json j = expect_poll_response(fcgi::parse_cgi_response(r->out));
    ASSERT_EQ(j["messages"].size(), 1u) << r->out;
    EXPECT_EQ(message_bytes(j["messages"][0]), "after the loss");
    EXPECT_TRUE(gw_->process().running());
  }

  std::string closing() const {
    return "closing the connection to 127.0.0.1:" + std::to_string(redis_.port()) + ": ";
  }

  TempDir dir_;
  FakeRedis redis_;
  std::optional<Gateway> gw_;
  std::optional<fcgi::Connection> poll_;
};

TEST_F(UnsolicitedReply, OnTheSubscriberTheGatewayResubscribesAndKeepsItsParkedPolls) {
  // A pub/sub array of one element: hiredis asserted that there are two.
  ASSERT_EQ(redis_.send_to_subscribers("*1\r\n$6\r\nsecret\r\n"), 1u);
  ASSERT_TRUE(wait_alive([&] { return redis_.commands("PSUBSCRIBE") == 2; })) << gw_->log();
  EXPECT_EQ(
      count(gw_->log(), closing() + "an unexpected reply on a subscribed connection (a pub/sub "
                                    "frame of an unknown kind, an array of 1 element)"),
      1)
      << gw_->log();
  expect_poll_survived();
}

TEST_F(UnsolicitedReply, OnTheCommandConnectionTheGatewayReconnectsAndKeepsItsParkedPolls) {
  // A reply with no command waiting: hiredis asserted that the connection
  // was subscribed. A heartbeat may be in flight: then its own answer is
  // the one left over.
  const std::size_t accepted = redis_.connections_accepted();
  ASSERT_EQ(redis_.send_to_command_connections("+secret\r\n"), 1u);
  ASSERT_TRUE(wait_alive([&] {
    return count(gw_->log(), closing() + "a reply with no command waiting (") == 1 &&
           redis_.connections_accepted() > accepted;
  })) << gw_->log();
  expect_poll_survived();
}

TEST_F(UnsolicitedReply, AResp3PushEndsTheSubscriptionAsAProtocolError) {
  ASSERT_EQ(redis_.send_to_subscribers(">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$6\r\nsecret\r\n"),
            1u);
  ASSERT_TRUE(wait_alive([&] { return redis_.commands("PSUBSCRIBE") == 2; })) << gw_->log();
  EXPECT_EQ(count(gw_->log(), closing() + "Protocol error"), 1) << gw_->log();
  expect_poll_survived();
}

}  // namespace
}  // namespace comet::test
