#include "gateway/redis/switch_master_watch.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gateway/redis/resp.hpp"

namespace comet {
namespace {

using Type = SwitchMasterWatch::Event::Type;

test::Reply push(const std::string& kind, const std::string& channel, const std::string& text) {
  return test::resp("*3\r\n" + test::bulk(kind) + test::bulk(channel) + test::bulk(text));
}

TEST(SwitchMasterWatch, OurMastersFailover) {
  SwitchMasterWatch w("mymaster");
  auto ev =
      w.on_reply(*push("message", "+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380"));
  EXPECT_EQ(ev.type, Type::failover);
  EXPECT_EQ(ev.text, "mymaster 127.0.0.1 6379 127.0.0.1 6380");
}

TEST(SwitchMasterWatch, OtherMastersAndTheConfirmationAreNothing) {
  SwitchMasterWatch w("mymaster");
  EXPECT_EQ(w.on_reply(*push("message", "+switch-master", "mymaster2 a 1 b 2")).type, Type::none);
  EXPECT_EQ(w.on_reply(*push("message", "+switch-master", "my a 1 b 2")).type, Type::none);
  EXPECT_EQ(w.on_reply(*test::resp("*3\r\n" + test::bulk("subscribe") +
                                   test::bulk("+switch-master") + ":1\r\n"))
                .type,
            Type::none);
  EXPECT_EQ(w.on_reply(*test::integer(1)).type, Type::none);
}

TEST(SwitchMasterWatch, AnErrorLosesTheWatch) {
  SwitchMasterWatch w("m");
  auto ev = w.on_reply(*test::error("NOAUTH Authentication required."));
  EXPECT_EQ(ev.type, Type::lost);
  EXPECT_EQ(ev.text, "NOAUTH Authentication required.");
}

}  // namespace
}  // namespace comet
