#include "gateway/http/client_budget.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

TEST(ClientBudget, AClientIsAnAddressOrAnIpv6Slash64) {
  EXPECT_EQ(ClientBudget::client_key("203.0.113.5"), "203.0.113.5");
  EXPECT_EQ(ClientBudget::client_key("::ffff:203.0.113.5"), "203.0.113.5");
  EXPECT_EQ(ClientBudget::client_key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientBudget::client_key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientBudget::client_key("2001:db8:1:3::1"), "2001:db8:1:3::/64");
  EXPECT_EQ(ClientBudget::client_key(""), "");
  EXPECT_EQ(ClientBudget::client_key("not an address"), "not an address");
}

TEST(ClientBudget, ParkedRequestsAndChannelsAreBoundedPerClient) {
  ClientBudget b({/*max_parked=*/2, /*max_channel_refs=*/10});
  using R = ClientBudget::Refusal;
  EXPECT_EQ(b.refusal("a", 4), R::none);
  auto* first = b.charge("a", 4);
  auto* second = b.charge("a", 4);
  EXPECT_EQ(first, second);  // one share per client
  EXPECT_EQ(b.refusal("a", 1), R::parked);
  EXPECT_EQ(b.refusal("b", 11), R::channels);
  EXPECT_EQ(b.refusal("b", 10), R::none);
  EXPECT_EQ(b.clients(), 1u);
  b.release(first, 4);
  EXPECT_EQ(b.refusal("a", 6), R::none);      // 1 parked, 4 channels
  EXPECT_EQ(b.refusal("a", 7), R::channels);  // 4 + 7 > 10
  b.release(second, 4);
  EXPECT_EQ(b.clients(), 0u);  // nothing held: forgotten
  b.release(nullptr, 3);       // a request that was never charged
  EXPECT_EQ(b.clients(), 0u);
}

}  // namespace
}  // namespace comet
