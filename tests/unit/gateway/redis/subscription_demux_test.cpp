#include "gateway/redis/subscription_demux.hpp"

#include <gtest/gtest.h>

#include <string>

namespace comet {
namespace {

using Kind = SubscriptionDemux::Kind;

SubscriptionDemux demux() {
  return SubscriptionDemux("comet:", "#sync:42");
}

TEST(SubscriptionDemux, PlainMessageLosesThePrefix) {
  auto d = demux();
  auto ev = d.on_message("comet:chat.1", "hello");
  EXPECT_EQ(ev.kind, Kind::message);
  EXPECT_EQ(ev.channel, "chat.1");
  EXPECT_EQ(ev.payload, "hello");
  EXPECT_FALSE(ev.id);
}

TEST(SubscriptionDemux, OutsideThePrefixIsIgnored) {
  auto d = demux();
  EXPECT_EQ(d.on_message("other:chat", "x").kind, Kind::ignored);
  EXPECT_EQ(d.on_message("comet", "x").kind, Kind::ignored);
}

TEST(SubscriptionDemux, InternalChannels) {
  auto d = demux();
  EXPECT_EQ(d.on_message("comet:#heartbeat", "").kind, Kind::heartbeat);
  auto own = d.on_message("comet:#sync:42", "7");
  EXPECT_EQ(own.kind, Kind::own_sync);
  EXPECT_EQ(own.payload, "7");
  EXPECT_EQ(d.on_message("comet:#sync:43", "7").kind, Kind::foreign_sync);
  EXPECT_EQ(d.on_message("comet:#sync:4", "7").kind, Kind::foreign_sync);
  EXPECT_EQ(d.on_message("comet:#whatever", "x").kind, Kind::internal);
}

TEST(SubscriptionDemux, HeartbeatsOfTheSameServerAreMarks) {
  auto d = demux();
  const std::string run_id(40, 'a');
  // No server named yet: no mark made, none taken.
  EXPECT_EQ(d.mark_payload(1), "");
  EXPECT_EQ(d.on_message("comet:#heartbeat", "00000000000000ff." + run_id).kind, Kind::heartbeat);
  d.set_server(run_id);
  const std::string p = d.mark_payload(0xff);
  EXPECT_EQ(p, "00000000000000ff." + run_id);
  auto ev = d.on_message("comet:#heartbeat", p);
  EXPECT_EQ(ev.kind, Kind::mark);
  EXPECT_EQ(ev.mark, 0xffu);
  auto big = d.on_message("comet:#heartbeat", d.mark_payload(0xfedcba9876543210ULL));
  EXPECT_EQ(big.kind, Kind::mark);
  EXPECT_EQ(big.mark, 0xfedcba9876543210ULL);
  // Another server's (a cluster's other node), malformed, or empty: liveness only.
  const char* others[] = {"",
                          "00000000000000ff",
                          "00000000000000FF.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                          "0000000000000ff.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                          "00000000000000ff.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                          "00000000000000ff-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                          "00000000000000ff.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
  for (const char* o : others) {
    EXPECT_EQ(d.on_message("comet:#heartbeat", o).kind, Kind::heartbeat) << o;
  }
  // A lost subscription forgets the server.
  d.reset();
  EXPECT_EQ(d.on_message("comet:#heartbeat", p).kind, Kind::heartbeat);
}

TEST(SubscriptionDemux, DurableNoticeThenItsMessage) {
  auto d = demux();
  auto notice = d.on_message("comet:#durable:news", "1700000000000-3");
  EXPECT_EQ(notice.kind, Kind::durable_notice);
  EXPECT_EQ(notice.channel, "news");
  EXPECT_FALSE(notice.notice_dropped);
  EXPECT_EQ(d.notices_waiting(), 1u);
  auto msg = d.on_message("comet:news", "payload");
  EXPECT_EQ(msg.kind, Kind::message);
  ASSERT_TRUE(msg.id);
  EXPECT_EQ(msg.id->text(), "1700000000000-3");
  EXPECT_EQ(d.notices_waiting(), 0u);
  // The next message on the channel is plain again.
  EXPECT_FALSE(d.on_message("comet:news", "plain").id);
}

// In a cluster, messages relayed from other masters may come between a
// notice and its message: the pairing is per channel.
TEST(SubscriptionDemux, ClusterInterleavingPairsByChannel) {
  auto d = demux();
  d.on_message("comet:#durable:a", "1-1");
  auto other = d.on_message("comet:b", "from another master");
  EXPECT_FALSE(other.id);
  d.on_message("comet:#durable:c", "5-0");
  EXPECT_EQ(d.on_message("comet:#heartbeat", "").kind, Kind::heartbeat);
  auto c = d.on_message("comet:c", "c's");
  ASSERT_TRUE(c.id);
  EXPECT_EQ(c.id->text(), "5-0");
  auto a = d.on_message("comet:a", "a's");
  ASSERT_TRUE(a.id);
  EXPECT_EQ(a.id->text(), "1-1");
}

TEST(SubscriptionDemux, ASecondNoticeBeforeTheMessageDropsTheFirst) {
  auto d = demux();
  d.on_message("comet:#durable:a", "1-1");
  auto second = d.on_message("comet:#durable:a", "2-0");
  EXPECT_TRUE(second.notice_dropped);
  EXPECT_EQ(d.notices_dropped(), 1u);
  auto a = d.on_message("comet:a", "x");
  ASSERT_TRUE(a.id);
  EXPECT_EQ(a.id->text(), "2-0");
}

TEST(SubscriptionDemux, TooManyNoticesOutAreAllDropped) {
  auto d = demux();
  for (std::size_t i = 0; i < SubscriptionDemux::kMaxNotices; ++i) {
    EXPECT_FALSE(d.on_message("comet:#durable:c" + std::to_string(i), "1-0").notice_dropped);
  }
  EXPECT_TRUE(d.on_message("comet:#durable:last", "9-9").notice_dropped);
  EXPECT_EQ(d.notices_waiting(), 1u);
  EXPECT_FALSE(d.on_message("comet:c0", "x").id);
  EXPECT_TRUE(d.on_message("comet:last", "x").id);
}

TEST(SubscriptionDemux, AMalformedIdStillPairsButCarriesNoId) {
  auto d = demux();
  d.on_message("comet:#durable:a", "not-an-id");
  EXPECT_EQ(d.notices_waiting(), 1u);
  EXPECT_FALSE(d.on_message("comet:a", "x").id);
  EXPECT_EQ(d.notices_waiting(), 0u);
}

TEST(SubscriptionDemux, ResetForgetsNoticesOfTheLostSubscription) {
  auto d = demux();
  d.on_message("comet:#durable:a", "1-1");
  d.reset();
  EXPECT_FALSE(d.on_message("comet:a", "x").id);
}

}  // namespace
}  // namespace comet
