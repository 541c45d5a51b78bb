// SIGTERM: every parked poll, through nginx and over direct FastCGI, gets a
// valid empty answer with a cursor (so clients resume without loss), then
// the gateway exits 0.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

TEST(Sigterm, AnswersEveryParkedPollThenExitsZero) {
  Stack stack;
  std::vector<std::unique_ptr<PendingRequest>> http;
  for (const char* ch : {"t1", "t2", "t1"}) {
    http.push_back(stack.start_get(std::string("/comet/poll?timeout=30&channel=") + ch));
  }
  auto mux = stack.gateway().connect();
  mux.send_request(1, fcgi::request_params("GET", "/comet/poll", "channel=t1&timeout=30"), true);
  mux.send_request(2, fcgi::request_params("GET", "/comet/poll", "channel=t3&timeout=30"), true);
  auto single = fcgi::Connection::unix_socket(stack.gateway().socket_path());
  single.send_request(1, fcgi::request_params("GET", "/comet/poll", "channel=t4&timeout=30"),
                      false);
  ASSERT_TRUE(stack.wait_parked(6)) << "parked: " << stack.parked() << "\n" << stack.logs();

  stack.gateway().process().signal(SIGTERM);

  for (auto& p : http) {
    auto r = p->read_response(std::chrono::seconds(10));
    ASSERT_TRUE(r) << "parked poll (nginx) not answered on SIGTERM\n" << stack.logs();
    json j = expect_poll_response(*r);
    EXPECT_TRUE(j["messages"].empty()) << r->body;
    EXPECT_FALSE(j["cursor"].get<std::string>().empty());
  }
  std::vector<fcgi::Result> direct;
  for (std::uint16_t id : {1, 2}) {
    auto r = mux.wait_end(id, std::chrono::seconds(10));
    ASSERT_TRUE(r) << "multiplexed request " << id << " not answered on SIGTERM";
    direct.push_back(*r);
  }
  auto r = single.wait_end(1, std::chrono::seconds(10));
  ASSERT_TRUE(r) << "request on the Unix socket not answered on SIGTERM";
  direct.push_back(*r);
  for (const auto& d : direct) {
    auto resp = fcgi::parse_cgi_response(d.out);
    json j = expect_poll_response(resp);
    EXPECT_TRUE(j["messages"].empty()) << d.out;
    EXPECT_FALSE(j["cursor"].get<std::string>().empty());
  }

  auto status = stack.gateway().process().wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value()) << "gateway still running 10 s after SIGTERM";
  EXPECT_EQ(*status, 0) << stack.gateway().log();
}

}  // namespace
}  // namespace comet::test
