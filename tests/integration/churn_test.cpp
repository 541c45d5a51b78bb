// 100,000 requests parked and aborted (as browsers closing tabs do), over
// multiplexed FastCGI connections: afterwards the gateway holds nothing for
// them (no parked request, no client share, no channel), and it exits
// cleanly on SIGTERM. Built with AddressSanitizer (the README's test
// command runs this tier so first), LeakSanitizer checks that exit for
// anything the churn left allocated.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/stack.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {
namespace {

using namespace std::chrono_literals;

TEST(Churn, HundredThousandParkedAndAbortedRequestsLeaveNothingBehind) {
  StackOptions o = StackOptions::without_nginx();
  o.gateway_args = {"--max-parked-per-client", "100000", "--max-channels-per-client", "1000000"};
  Stack stack(o);
  constexpr int kRounds = 50;
  constexpr int kPerRound = 2000;  // on one connection, multiplexed
  auto conn = stack.gateway().connect();
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kPerRound; ++i) {
      const auto id = static_cast<std::uint16_t>(i + 1);
      // Half on a shared channel, half on a channel of their own; every
      // tenth answered at once instead of parking.
      std::string q = i % 2 ? "channel=shared" : "channel=own" + std::to_string(round * kPerRound + i);
      q += i % 10 == 0 ? "&timeout=0" : "&timeout=50";
      fcgi::Params p = fcgi::request_params("GET", "/comet/poll", q);
      for (auto& [name, value] : p) {
        if (name == "REMOTE_ADDR") value = "10.0." + std::to_string(i % 200) + ".1";
      }
      conn.send_request(id, p, true);
    }
    ASSERT_TRUE(stack.wait_parked(kPerRound - kPerRound / 10, 30s)) << "round " << round;
    for (int i = 0; i < kPerRound; ++i) {
      if (i % 10 != 0) conn.abort_request(static_cast<std::uint16_t>(i + 1));
    }
    for (int i = 0; i < kPerRound; ++i) {
      ASSERT_TRUE(conn.wait_end(static_cast<std::uint16_t>(i + 1), 30s)) << round << " " << i;
    }
  }
  ASSERT_TRUE(stack.wait_parked(0)) << stack.logs();
  EXPECT_EQ(stack.metric("comet_clients_parked"), 0.0);
  // Channels without waiters or messages are forgotten at the next expiry
  // pass (at most a tick away).
  EXPECT_TRUE(wait_until([&] { return stack.metric("comet_channels") == 0.0; }, 10s))
      << stack.metric("comet_channels").value_or(-1);
  const auto status = stack.stop_gateway(0);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << "exit status (LeakSanitizer exits non-zero on a leak)\n"
                        << stack.logs();
}

}  // namespace
}  // namespace comet::test
