// A client that goes away while parked frees its waiter at once: the gauge
// comet_parked_requests returns to 0 within a second, through nginx (which
// closes its FastCGI connection) and for a direct FastCGI client.
#include <gtest/gtest.h>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

constexpr auto kUnpark = std::chrono::seconds(1);

TEST(Disconnect, BrowserClosingThroughNginxUnparks) {
  Stack stack;
  auto poll = stack.start_get("/comet/poll?channel=gone&timeout=30");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  poll->close();
  EXPECT_TRUE(stack.wait_parked(0, kUnpark)) << "still parked: " << stack.parked() << "\n"
                                             << stack.logs();
}

TEST(Disconnect, BrowserResetThroughNginxUnparks) {
  Stack stack;
  auto poll = stack.start_get("/comet/poll?channel=gone&timeout=30");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  poll->close(/*hard=*/true);
  EXPECT_TRUE(stack.wait_parked(0, kUnpark)) << "still parked: " << stack.parked();
}

TEST(Disconnect, ManyClientsCloseOthersStayParked) {
  Stack stack;
  std::vector<std::unique_ptr<PendingRequest>> polls;
  for (int i = 0; i < 10; ++i) {
    polls.push_back(stack.start_get("/comet/poll?channel=many&timeout=30"));
  }
  ASSERT_TRUE(stack.wait_parked(10)) << "parked: " << stack.parked();
  for (int i = 0; i < 7; ++i) polls[i]->close();
  EXPECT_TRUE(stack.wait_parked(3, kUnpark)) << "parked: " << stack.parked();
  // The rest are still served.
  stack.publish("many", "still here");
  for (int i = 7; i < 10; ++i) {
    auto r = polls[i]->read_response(std::chrono::seconds(10));
    ASSERT_TRUE(r);
    json j = expect_poll_response(*r);
    ASSERT_EQ(j["messages"].size(), 1u);
    EXPECT_EQ(message_bytes(j["messages"][0]), "still here");
  }
}

TEST(Disconnect, FastCgiConnectionClosedUnparks) {
  Stack stack(StackOptions::without_nginx());
  auto conn = stack.gateway().connect();
  conn.send_request(1, fcgi::request_params("GET", "/comet/poll", "channel=gone&timeout=30"),
                    /*keep_conn=*/true);
  ASSERT_TRUE(stack.wait_parked(1));
  conn.close();
  EXPECT_TRUE(stack.wait_parked(0, kUnpark)) << "still parked: " << stack.parked();
}

TEST(Disconnect, FastCgiAbortRequestUnparks) {
  Stack stack(StackOptions::without_nginx());
  auto conn = stack.gateway().connect();
  conn.send_request(1, fcgi::request_params("GET", "/comet/poll", "channel=gone&timeout=30"),
                    /*keep_conn=*/true);
  ASSERT_TRUE(stack.wait_parked(1));
  conn.abort_request(1);
  // The request ends with END_REQUEST; the connection stays usable.
  auto ended = conn.wait_end(1, std::chrono::seconds(5));
  ASSERT_TRUE(ended.has_value()) << "no END_REQUEST after FCGI_ABORT_REQUEST";
  EXPECT_TRUE(stack.wait_parked(0, kUnpark));
  conn.send_request(2, fcgi::request_params("GET", "/comet/poll", "channel=x&timeout=0"), true);
  auto r = conn.wait_end(2, std::chrono::seconds(5));
  ASSERT_TRUE(r.has_value());
  expect_poll_response(fcgi::parse_cgi_response(r->out));
}

}  // namespace
}  // namespace comet::test
