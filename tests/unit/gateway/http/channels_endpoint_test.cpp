#include "gateway/http/channels_endpoint.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

TEST(ChannelsEndpoint, BodyListsClientsAndUsersOfPresenceChannels) {
  EXPECT_EQ(ChannelsEndpoint::body({}), R"({"channels":{}})");
  EXPECT_EQ(ChannelsEndpoint::body({{"lobby.1", 3, 2}, {"news", 5, std::nullopt}}),
            R"({"channels":{"lobby.1":{"clients":3,"users":2},"news":{"clients":5}}})");
}

}  // namespace
}  // namespace comet
