#include "gateway/redis/presence_wire.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

TEST(PresenceWire, JoinsAndLeaves) {
  auto j = parse_presence_event("1796143370540001:j:3:ann{\"name\":\"Ann\"}");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->version, 1796143370540001u);
  EXPECT_EQ(j->kind, PresenceEvent::Kind::join);
  EXPECT_EQ(j->user, "ann");
  EXPECT_EQ(j->info, "{\"name\":\"Ann\"}");
  // A user may hold any byte, ':' included: its length says where it ends.
  auto l = parse_presence_event("7:l:4:a:b:");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->kind, PresenceEvent::Kind::leave);
  EXPECT_EQ(l->user, "a:b:");
  EXPECT_TRUE(l->info.empty());
}

TEST(PresenceWire, AnythingElseIsRefused) {
  for (const char* bad : {"", "x:j:1:a", "1:x:1:a", "1:j:0:", "1:j:5:abc", "1:j:1", "1:l:1:ab",
                          "1j:1:a", "-1:j:1:a", "1:j:-1:a"}) {
    EXPECT_FALSE(parse_presence_event(bad)) << bad;
  }
}

}  // namespace
}  // namespace comet
