// 1,000 messages published by one PHP process in a loop while a client keeps
// re-polling with the cursors it is given: every message arrives, in order,
// exactly once.
#include <gtest/gtest.h>

#include <set>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

TEST(Burst, ThousandMessagesInOrderNoneTwice) {
  constexpr int kCount = 1000;
  Stack stack;

  // The first poll carries no cursor: it sees what is published after it
  // arrived, so it must be parked before PHP starts.
  auto first = stack.start_get("/comet/poll?channel=burst&timeout=20");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  auto php = php_publish_burst(stack.dir().path(), stack.redis().port(), "burst", kCount);

  std::vector<int> seen;
  int polls = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  auto r = first->read_response(std::chrono::seconds(20));
  for (;;) {
    ASSERT_TRUE(r.has_value()) << "a poll was not answered in time after " << seen.size()
                               << " messages\n"
                               << stack.logs();
    ++polls;
    json j = expect_poll_response(*r);
    ASSERT_FALSE(j.contains("gaps")) << "gap after " << seen.size() << " messages: " << r->body;
    for (const auto& m : j["messages"]) {
      EXPECT_EQ(m["channel"], "burst");
      json payload = json::parse(message_bytes(m), nullptr, false);
      ASSERT_TRUE(payload.is_object()) << m.dump();
      seen.push_back(payload["seq"].get<int>());
    }
    if (static_cast<int>(seen.size()) >= kCount) break;
    ASSERT_LT(Clock::now(), deadline) << "only " << seen.size() << " of " << kCount;
    const std::string cursor = j["cursor"];
    r = stack.get("/comet/poll?channel=burst&timeout=20&since=" + url_encode(cursor), {},
                  std::chrono::seconds(25));
  }

  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(seen[i], i) << "out of order or duplicate at " << i;
  EXPECT_EQ(php->wait_exit(std::chrono::seconds(30)), 0) << php->output();

  // Nothing more is pending after the last cursor.
  std::cout << "1000 messages in " << polls << " polls\n";
}

}  // namespace
}  // namespace comet::test
