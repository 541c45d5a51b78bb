#include "gateway/core/presence_book.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

PresenceEvent join(std::uint64_t v, std::string user, std::string info = "") {
  return {v, PresenceEvent::Kind::join, std::move(user), std::move(info)};
}
PresenceEvent leave(std::uint64_t v, std::string user) {
  return {v, PresenceEvent::Kind::leave, std::move(user), {}};
}

TEST(PresenceBook, ANewUserIsRefreshedAtOnceThenEveryThirdOfTheGrace) {
  PresenceBook b(PresenceOptions{3000});
  b.begin("c", "ann", "{\"n\":1}", 1000);
  EXPECT_EQ(b.next_refresh(), 1000);
  auto r = b.refreshes_due(1000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].channel, "c");
  EXPECT_FALSE(r[0].quiet);
  ASSERT_EQ(r[0].entries.size(), 1u);
  EXPECT_EQ(r[0].entries[0].user, "ann");
  EXPECT_EQ(r[0].entries[0].expiry, 4000);
  EXPECT_EQ(r[0].entries[0].info, "{\"n\":1}");
  EXPECT_TRUE(b.refreshes_due(1999).empty());
  EXPECT_EQ(b.next_refresh(), 2000);
  // A second client of the same user is not a new user: no early refresh.
  b.begin("c", "ann", "{\"n\":1}", 1500);
  EXPECT_EQ(b.next_refresh(), 2000);
  EXPECT_EQ(b.refreshes_due(2000).at(0).entries.at(0).expiry, 5000);
}

TEST(PresenceBook, AUserEndsAGraceAfterItsLastClientAndIsThenForgotten) {
  PresenceBook b(PresenceOptions{3000});
  b.begin("c", "ann", "", 0);
  b.begin("c", "ann", "", 0);
  b.refreshes_due(0);
  b.end("c", "ann", 500);  // one client left: still active
  b.end("c", "ann", 800);  // the last one
  auto r = b.refreshes_due(1000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].entries.at(0).expiry, 3800);  // last end + grace, not now + grace
  EXPECT_EQ(b.users_held(), 1u);
  b.refreshes_due(2000);
  b.refreshes_due(3000);
  EXPECT_EQ(b.users_held(), 1u);
  EXPECT_TRUE(b.refreshes_due(4000).empty());  // its expiry passed: Redis has it
  EXPECT_EQ(b.users_held(), 0u);
  EXPECT_EQ(b.next_refresh(), -1);
}

TEST(PresenceBook, AJoinRefreshesTheNewUsersAloneNotTheChannel) {
  PresenceBook b(PresenceOptions{3000});
  for (int i = 0; i < 100; ++i) b.begin("c", "u" + std::to_string(i), "", 0);
  EXPECT_EQ(b.refreshes_due(0).at(0).entries.size(), 100u);  // one refresh for the burst
  b.begin("c", "new", "", 500);
  EXPECT_EQ(b.next_refresh(), 500);
  auto r = b.refreshes_due(500);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].entries.size(), 1u);
  EXPECT_EQ(r[0].entries[0].user, "new");
  EXPECT_EQ(r[0].entries[0].expiry, 3500);
  // Every user, on the schedule.
  EXPECT_EQ(b.next_refresh(), 1000);
  EXPECT_EQ(b.refreshes_due(1000).at(0).entries.size(), 101u);
}

TEST(PresenceBook, AUserBackWithinTheGraceStaysHeld) {
  PresenceBook b(PresenceOptions{3000});
  b.begin("c", "ann", "", 0);
  b.end("c", "ann", 100);
  b.begin("c", "ann", "", 150);  // the next poll
  auto r = b.refreshes_due(1000);
  EXPECT_EQ(r.at(0).entries.at(0).expiry, 4000);
}

TEST(PresenceBook, UsersHeldAcrossALostLinkAreRefreshedQuietlyUntilAnswered) {
  PresenceBook b(PresenceOptions{3000});
  b.begin("c", "ann", "", 0);
  b.refreshes_due(0);
  b.link_lost();
  b.begin("c", "bob", "", 10);  // new since: not quiet, and refreshed alone
  auto r = b.refreshes_due(10);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].quiet);
  EXPECT_EQ(r[0].entries.size(), 1u);
  EXPECT_EQ(r[0].entries.at(0).user, "bob");
  r = b.refreshes_due(1000);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].quiet);
  EXPECT_EQ(r[0].entries.at(0).user, "ann");
  EXPECT_FALSE(r[1].quiet);
  EXPECT_EQ(r[1].entries.at(0).user, "bob");
  // Not answered (Redis still away): quiet again next time.
  r = b.refreshes_due(2000);
  ASSERT_EQ(r.size(), 2u);
  b.refreshed(r[0]);
  r = b.refreshes_due(3000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].quiet);
  EXPECT_EQ(r[0].entries.size(), 2u);
}

TEST(PresenceBook, AListReadIsBroughtUpToDateByTheEventsAfterItsVersion) {
  PresenceBook b;
  const auto ticket = b.want_members("c");
  ASSERT_NE(ticket, 0u);
  EXPECT_EQ(b.want_members("c"), 0u);  // being read
  EXPECT_EQ(b.members("c"), nullptr);
  // Heard before the read's answer: one already in it (v5), one after (v6).
  b.apply("c", join(5, "bob"), 0);
  b.apply("c", leave(6, "ann"), 0);
  PresenceSnapshot s{5, {{"ann", "{}"}, {"bob", ""}}};
  ASSERT_TRUE(b.members_read("c", ticket, &s));
  ASSERT_NE(b.members("c"), nullptr);
  EXPECT_EQ(*b.members("c"), (PresenceMembers{{"bob", ""}}));
  b.apply("c", join(7, "cat", "{\"a\":1}"), 0);
  b.apply("c", join(7, "dup"), 0);  // not newer: ignored
  EXPECT_EQ(*b.members("c"), (PresenceMembers{{"bob", ""}, {"cat", "{\"a\":1}"}}));
}

TEST(PresenceBook, AReadFromBeforeALostLinkIsNotUsed) {
  PresenceBook b;
  const auto old = b.want_members("c");
  b.link_lost();
  const auto fresh = b.want_members("c");
  ASSERT_NE(fresh, 0u);
  PresenceSnapshot s{1, {{"ann", ""}}};
  EXPECT_FALSE(b.members_read("c", old, &s));
  EXPECT_EQ(b.members("c"), nullptr);
  EXPECT_TRUE(b.members_read("c", fresh, &s));
  // A failed read forgets the list: the next asks again.
  b.link_lost();
  const auto t = b.want_members("c");
  EXPECT_FALSE(b.members_read("c", t, nullptr));
  EXPECT_NE(b.want_members("c"), 0u);
}

TEST(PresenceBook, TooManyEventsDuringARead) {
  PresenceBook b(PresenceOptions{3000, 2});
  const auto t = b.want_members("c");
  for (std::uint64_t v = 1; v <= 3; ++v) b.apply("c", join(v, "u" + std::to_string(v)), 0);
  PresenceSnapshot s;
  EXPECT_FALSE(b.members_read("c", t, &s));
  EXPECT_NE(b.want_members("c"), 0u);
}

TEST(PresenceBook, SweepsAreDueWhenRedisSaysOrAGraceAfterAnEvent) {
  PresenceBook b(PresenceOptions{3000});
  EXPECT_EQ(b.next_sweep(), -1);
  b.apply("c", join(1, "ann"), 100);  // heard of: due at the latest a grace on
  EXPECT_EQ(b.next_sweep(), 3100);
  b.sweep_due("c", 2500);
  b.sweep_due("d", 9000);
  EXPECT_EQ(b.next_sweep(), 2500);
  EXPECT_TRUE(b.sweeps_due(2499).empty());
  EXPECT_EQ(b.sweeps_due(2500), (std::vector<std::string>{"c"}));
  EXPECT_EQ(b.next_sweep(), 9000);
  b.sweep_due("d", -1);  // nothing left there
  EXPECT_EQ(b.next_sweep(), -1);
}

}  // namespace
}  // namespace comet

namespace comet {
namespace {

TEST(PresenceBook, HoldsAreBoundedInAllAndPerUser) {
  PresenceOptions o{3000};
  o.max_holds = 3;
  o.max_channels_per_user = 2;
  PresenceBook b(o);
  const std::vector<std::string> ab{"a", "b"}, abc{"a", "b", "c"}, c{"c"}, d{"d"};
  EXPECT_EQ(b.admits(abc, "ann"), PresenceBook::Refusal::user_full);
  ASSERT_EQ(b.admits(ab, "ann"), PresenceBook::Refusal::none);
  b.begin("a", "ann", "", 0);
  b.begin("b", "ann", "", 0);
  EXPECT_EQ(b.admits(ab, "ann"), PresenceBook::Refusal::none);  // held already
  EXPECT_EQ(b.admits(c, "ann"), PresenceBook::Refusal::user_full);
  b.begin("c", "bob", "", 0);
  EXPECT_EQ(b.users_held(), 3u);
  EXPECT_EQ(b.admits(d, "cat"), PresenceBook::Refusal::full);
  // Once ann's grace has passed (after her last refresh), room again.
  b.end("a", "ann", 0);
  b.refreshes_due(0);
  b.refreshes_due(3000);
  EXPECT_EQ(b.users_held(), 2u);
  EXPECT_EQ(b.admits(d, "cat"), PresenceBook::Refusal::none);
  EXPECT_EQ(b.admits(c, "ann"), PresenceBook::Refusal::none);
}

}  // namespace
}  // namespace comet
