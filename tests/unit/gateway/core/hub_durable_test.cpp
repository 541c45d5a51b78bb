// Durable channels in the Hub: stream ids as message ids, positions in
// cursors, stream reads placing positions from a restart, another gateway
// or an eviction, deduplication by stream id, and resyncs after a loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "gateway/core/hub.hpp"
#include "gateway/http/poll_json.hpp"

namespace comet {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kEpoch = 0x1111222233334444ULL;
// The wire format the gateway answers with: the tests read its bodies.
const PollJson kJson;
constexpr std::uint64_t kOtherEpoch = 0x5555666677778888ULL;
const Clock::time_point kT0 = Clock::time_point(std::chrono::hours(10) + 3ms);

class FakeWaiter : public Waiter {
 public:
  std::vector<BatchPtr> got;
  const Batch& last() const { return *got.back(); }

 protected:
  void on_release(const BatchPtr& b) override { got.push_back(b); }
};

HubOptions options() {
  HubOptions o;
  o.timeout_jitter = 0;
  return o;
}

StreamId sid(std::uint64_t ms, std::uint64_t seq = 0) {
  return StreamId{ms, seq};
}

std::vector<std::string> chans(std::initializer_list<const char*> names) {
  return std::vector<std::string>(names.begin(), names.end());
}

Since at(const Cursor& c) {
  return Since{Since::Kind::cursor, c};
}

// A cursor of another gateway (or of this one before a restart) with one
// durable position.
Cursor foreign(std::string_view channel, StreamId p) {
  return Cursor{kOtherEpoch, 7, {Position{channel_hash(channel), p}}};
}

std::optional<StreamId> position(const Cursor& c, std::string_view channel) {
  for (const Position& p : c.positions) {
    if (p.hash == channel_hash(channel)) return p.id;
  }
  return std::nullopt;
}

std::vector<StreamId> ids(const Batch& b) {
  std::vector<StreamId> out;
  for (const auto& m : b.messages) out.push_back(m->id);
  return out;
}

StreamRead read_ok(StreamId from, std::vector<std::pair<StreamId, std::string>> entries,
                   bool complete = true) {
  StreamRead r;
  r.status = StreamRead::Status::ok;
  r.from = r.base = from;
  for (auto& [id, payload] : entries) r.entries.push_back(StreamEntry{id, payload});
  r.complete = complete;
  return r;
}

ReadToken live_token(const Hub& hub, std::string_view channel) {
  return hub.read_token(channel);
}

// The windows that wait for a resync read, left queued.
std::vector<ReadNeed> resyncs(Hub& hub) {
  std::vector<ReadNeed> out;
  while (auto need = hub.next_resync()) out.push_back(*need);
  for (const ReadNeed& n : out) hub.resync_later(n.channel);
  return out;
}

void publish(Hub& hub, std::string_view channel, StreamId id, std::string_view payload = "x") {
  hub.receive(channel, payload, kT0, &id);
}

TEST(HubDurableTest, DurableMessageIdIsTheStreamIdAndTheCursorCarriesIt) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  const StreamId id = sid(1700000000000, 3);
  auto m = hub.receive("d", "hi", kT0, &id);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->durable);
  EXPECT_EQ(m->encoded, "{\"channel\":\"d\",\"id\":\"1700000000000-3\",\"data\":\"hi\"}");
  FakeWaiter w;
  auto b = hub.poll(w, chans({"d"}), Since{Since::Kind::earliest, {}}, 0s, kT0).batch;
  ASSERT_EQ(b->messages.size(), 1u);
  EXPECT_EQ(position(b->cursor, "d"), id);
  EXPECT_EQ(format_cursor(b->cursor).substr(0, 2), "2.");
  // The text round-trips.
  EXPECT_EQ(parse_cursor(format_cursor(b->cursor)), b->cursor);
}

TEST(HubDurableTest, PlainChannelsKeepV1Cursors) {
  Hub hub(options(), kEpoch, kJson);
  hub.receive("p", "x", kT0);
  FakeWaiter w;
  auto b = hub.poll(w, chans({"p"}), Since{Since::Kind::earliest, {}}, 0s, kT0).batch;
  EXPECT_TRUE(b->cursor.positions.empty());
  EXPECT_EQ(format_cursor(b->cursor).substr(0, 2), "1.");
}

TEST(HubDurableTest, PositionInWindowGetsOnlyLaterMessages) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  for (std::uint64_t i = 1; i <= 5; ++i) publish(hub, "d", sid(100 + i));
  FakeWaiter w;
  // Another gateway's cursor with a position here: placed by stream id.
  auto b = hub.poll(w, chans({"d"}), at(foreign("d", sid(103))), 10s, kT0).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(ids(*b), (std::vector<StreamId>{sid(104), sid(105)}));
  EXPECT_TRUE(b->gaps.empty());
  EXPECT_EQ(position(b->cursor, "d"), sid(105));
  EXPECT_TRUE(hub.reads_needed(chans({"d"}), at(foreign("d", sid(103)))).reads.empty());
}

TEST(HubDurableTest, UpToDatePositionParksAndIsReleasedWithoutRepeats) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  publish(hub, "d", sid(101));
  FakeWaiter w;
  EXPECT_EQ(hub.poll(w, chans({"d"}), at(foreign("d", sid(101))), 10s, kT0).status,
            PollStatus::parked);
  publish(hub, "d", sid(102));
  hub.flush(kT0);
  ASSERT_EQ(w.got.size(), 1u);
  EXPECT_EQ(ids(w.last()), (std::vector<StreamId>{sid(102)}));
  EXPECT_EQ(position(w.last().cursor, "d"), sid(102));
}

TEST(HubDurableTest, RestartReadsTheStreamFromThePosition) {
  Hub hub(options(), kEpoch, kJson);  // a fresh gateway: knows nothing
  hub.link_up();
  const Since since = at(foreign("d", sid(200)));
  auto needs = hub.reads_needed(chans({"d"}), since).reads;
  ASSERT_EQ(needs, (std::vector<ReadNeed>{{"d", sid(200)}}));
  const ReadToken token = live_token(hub, "d");
  StreamRead r = read_ok(sid(200), {{sid(201), "a"}, {sid(202), "b"}});
  hub.apply_read("d", sid(200), r, token, kT0);
  PollReads reads{{{"d", r}}, {}};
  FakeWaiter w;
  auto b = hub.poll(w, chans({"d"}), since, 10s, kT0, &reads).batch;
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->gaps.empty());
  EXPECT_EQ(ids(*b), (std::vector<StreamId>{sid(201), sid(202)}));
  EXPECT_EQ(position(b->cursor, "d"), sid(202));
  // The window is synced: the live copy of 202 is a duplicate, 203 is new.
  EXPECT_EQ(hub.receive("d", "b", kT0, &needs[0].from), nullptr);
  const StreamId again = sid(202);
  EXPECT_EQ(hub.receive("d", "b", kT0, &again), nullptr);
  EXPECT_EQ(hub.counters().durable_duplicates, 2u);
  publish(hub, "d", sid(203));
  FakeWaiter w2;
  auto b2 = hub.poll(w2, chans({"d"}), at(b->cursor), 10s, kT0).batch;
  ASSERT_TRUE(b2);
  EXPECT_EQ(ids(*b2), (std::vector<StreamId>{sid(203)}));
}

TEST(HubDurableTest, TrimmedStreamIsAGapWithWhatRemains) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  const Since since = at(foreign("d", sid(200)));
  StreamRead r;
  r.status = StreamRead::Status::gap;
  r.from = sid(200);
  r.base = sid(250);
  r.entries = {StreamEntry{sid(251), "x"}};
  hub.apply_read("d", sid(200), r, live_token(hub, "d"), kT0);
  PollReads reads{{{"d", r}}, {}};
  FakeWaiter w;
  auto b = hub.poll(w, chans({"d"}), since, 10s, kT0, &reads).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->gaps, (std::vector<std::string>{"d"}));
  EXPECT_EQ(ids(*b), (std::vector<StreamId>{sid(251)}));
  EXPECT_EQ(position(b->cursor, "d"), sid(251));
}

TEST(HubDurableTest, MissingStreamIsAGap) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  const Since since = at(foreign("d", sid(200)));
  StreamRead r;
  r.status = StreamRead::Status::none;
  r.from = r.base = sid(200);
  hub.apply_read("d", sid(200), r, live_token(hub, "d"), kT0);
  PollReads reads{{{"d", r}}, {}};
  FakeWaiter w;
  auto b = hub.poll(w, chans({"d"}), since, 10s, kT0, &reads).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->gaps, (std::vector<std::string>{"d"}));
}

TEST(HubDurableTest, FailedReadIsAGapNotAHang) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  FakeWaiter w;
  PollReads none;
  auto b = hub.poll(w, chans({"d", "p"}), at(foreign("d", sid(200))), 10s, kT0, &none).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->gaps, (std::vector<std::string>{"d", "p"}));
}

TEST(HubDurableTest, PositionBehindTheWindowIsAnsweredFromItsRead) {
  HubOptions o = options();
  o.buffer_max_messages = 3;
  Hub hub(o, kEpoch, kJson);
  hub.link_up();
  for (std::uint64_t i = 1; i <= 6; ++i) publish(hub, "d", sid(100 + i));  // 101..103 evicted
  const Since since = at(foreign("d", sid(101)));
  ASSERT_EQ(hub.reads_needed(chans({"d"}), since).reads, (std::vector<ReadNeed>{{"d", sid(101)}}));
  StreamRead r = read_ok(
      sid(101), {{sid(102), ""}, {sid(103), ""}, {sid(104), ""}, {sid(105), ""}, {sid(106), ""}});
  hub.apply_read("d", sid(101), r, live_token(hub, "d"), kT0);
  PollReads reads{{{"d", r}}, {}};
  FakeWaiter w;
  auto b = hub.poll(w, chans({"d"}), since, 10s, kT0, &reads).batch;
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->gaps.empty());
  EXPECT_EQ(ids(*b), (std::vector<StreamId>{sid(102), sid(103), sid(104), sid(105), sid(106)}));
  EXPECT_EQ(position(b->cursor, "d"), sid(106));
  // Continues from memory.
  FakeWaiter w2;
  EXPECT_EQ(hub.poll(w2, chans({"d"}), at(b->cursor), 10s, kT0).status, PollStatus::parked);
}

TEST(HubDurableTest, PositionAheadOfTheWindowReadsUpToIt) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  publish(hub, "d", sid(101));
  // Another gateway already heard 102 and 103; this one has not yet.
  const Since since = at(foreign("d", sid(103)));
  ASSERT_EQ(hub.reads_needed(chans({"d"}), since).reads, (std::vector<ReadNeed>{{"d", sid(101)}}));
  StreamRead r = read_ok(sid(101), {{sid(102), ""}, {sid(103), ""}});
  hub.apply_read("d", sid(101), r, live_token(hub, "d"), kT0);
  FakeWaiter w;
  PollReads reads{{{"d", r}}, {}};
  EXPECT_EQ(hub.poll(w, chans({"d"}), since, 10s, kT0, &reads).status,
            PollStatus::parked);  // nothing new: parks
  // 102 and 103 arrive live late: not repeated.
  publish(hub, "d", sid(102));
  publish(hub, "d", sid(103));
  hub.flush(kT0);
  EXPECT_TRUE(w.got.empty());
  publish(hub, "d", sid(104));
  hub.flush(kT0);
  ASSERT_EQ(w.got.size(), 1u);
  EXPECT_EQ(ids(w.last()), (std::vector<StreamId>{sid(104)}));
}

TEST(HubDurableTest, ResyncAfterALossDeliversWhatWasMissedOnceWithoutAGap) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  publish(hub, "d", sid(101));
  hub.receive("p", "plain", kT0);
  FakeWaiter w;
  auto first = hub.poll(w, chans({"d", "p"}), Since{Since::Kind::earliest, {}}, 0s, kT0).batch;
  const Cursor c = first->cursor;

  hub.link_down();
  hub.link_up();
  hub.gap_all(kT0);
  ASSERT_EQ(resyncs(hub), (std::vector<ReadNeed>{{"d", sid(101)}}));
  // Live messages before the resync read returns wait.
  const ReadToken token = hub.read_token("d");
  const StreamId late = sid(104);
  EXPECT_EQ(hub.receive("d", "late", kT0, &late), nullptr);
  hub.apply_read("d", sid(101), read_ok(sid(101), {{sid(102), ""}, {sid(103), ""}}), token, kT0);
  EXPECT_TRUE(resyncs(hub).empty());

  FakeWaiter w2;
  auto b = hub.poll(w2, chans({"d", "p"}), at(c), 10s, kT0).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->gaps, (std::vector<std::string>{"p"}));  // plain: lost for real
  EXPECT_EQ(ids(*b), (std::vector<StreamId>{sid(102), sid(103), sid(104)}));
}

TEST(HubDurableTest, ReadSentBeforeALossDoesNotSync) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  publish(hub, "d", sid(101));
  hub.link_down();
  const ReadToken stale = hub.read_token("d");  // sent while down
  hub.link_up();
  hub.apply_read("d", sid(101), read_ok(sid(101), {{sid(102), ""}}), stale, kT0);
  // What it read is kept (it is the stream), but the window still waits.
  EXPECT_EQ(resyncs(hub), (std::vector<ReadNeed>{{"d", sid(102)}}));
}

TEST(HubDurableTest, ParkedDurableWaiterStaysParkedThroughALossAndTheResyncAnswersIt) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  publish(hub, "d", sid(101));
  FakeWaiter w;
  ASSERT_EQ(hub.poll(w, chans({"d"}), at(foreign("d", sid(101))), 10s, kT0).status,
            PollStatus::parked);
  hub.link_down();
  hub.link_up();
  hub.gap_all(kT0);  // nothing lost on d: it stays parked
  EXPECT_TRUE(w.got.empty());
  EXPECT_EQ(hub.parked(), 1u);
  hub.apply_read("d", sid(101), read_ok(sid(101), {{sid(102), "m"}}), hub.read_token("d"), kT0);
  hub.flush(kT0);
  ASSERT_EQ(w.got.size(), 1u);
  EXPECT_EQ(ids(w.last()), (std::vector<StreamId>{sid(102)}));
  EXPECT_TRUE(w.last().gaps.empty());
}

TEST(HubDurableTest, TrimmedWhileAwayRestartsTheWindowAndReportsTheGap) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  publish(hub, "d", sid(101));
  hub.link_down();
  hub.link_up();
  StreamRead r;
  r.status = StreamRead::Status::gap;
  r.from = sid(101);
  r.base = sid(150);
  r.entries = {StreamEntry{sid(151), ""}};
  hub.apply_read("d", sid(101), r, hub.read_token("d"), kT0);
  EXPECT_TRUE(resyncs(hub).empty());
  // A client at 101 now reads the stream itself and is told.
  const Since since = at(foreign("d", sid(101)));
  ASSERT_EQ(hub.reads_needed(chans({"d"}), since).reads, (std::vector<ReadNeed>{{"d", sid(101)}}));
  PollReads reads{{{"d", r}}, {}};
  FakeWaiter w;
  auto b = hub.poll(w, chans({"d"}), since, 10s, kT0, &reads).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->gaps, (std::vector<std::string>{"d"}));
  EXPECT_EQ(ids(*b), (std::vector<StreamId>{sid(151)}));
}

TEST(HubDurableTest, PendingOverflowNeedsAReadSentAfterIt) {
  HubOptions o = options();
  o.buffer_max_messages = 2;
  Hub hub(o, kEpoch, kJson);
  hub.link_up();
  publish(hub, "d", sid(100));
  hub.link_down();
  hub.link_up();
  const ReadToken before = hub.read_token("d");
  for (std::uint64_t i = 1; i <= 3; ++i) publish(hub, "d", sid(100 + i));  // overflows
  hub.apply_read("d", sid(100), read_ok(sid(100), {}), before, kT0);
  EXPECT_FALSE(resyncs(hub).empty());
  hub.apply_read("d", sid(100), read_ok(sid(100), {{sid(101), ""}, {sid(102), ""}, {sid(103), ""}}),
                 hub.read_token("d"), kT0);
  EXPECT_TRUE(resyncs(hub).empty());
}

TEST(HubDurableTest, SeqCursorOnTheIssuingGatewayStillWorks) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  publish(hub, "d", sid(101));
  FakeWaiter w;
  auto b = hub.poll(w, chans({"d"}), Since{Since::Kind::earliest, {}}, 0s, kT0).batch;
  // A v1 cursor of this gateway (positions dropped by an old client).
  Cursor v1{b->cursor.epoch, b->cursor.seq};
  publish(hub, "d", sid(102));
  FakeWaiter w2;
  auto b2 = hub.poll(w2, chans({"d"}), at(v1), 10s, kT0).batch;
  ASSERT_TRUE(b2);
  EXPECT_EQ(ids(*b2), (std::vector<StreamId>{sid(102)}));
}

TEST(HubDurableTest, PlainMessageOnADurableChannelEndsItsWindow) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  publish(hub, "d", sid(101));
  hub.receive("d", "plain", kT0);
  EXPECT_EQ(hub.counters().durable_windows_dropped, 1u);
  // A position there cannot be placed without the stream.
  EXPECT_FALSE(hub.reads_needed(chans({"d"}), at(foreign("d", sid(101)))).reads.empty());
}

TEST(HubDurableTest, CutBatchKeepsEveryChannelsProgress) {
  HubOptions o = options();
  o.batch_max_messages = 2;
  Hub hub(o, kEpoch, kJson);
  hub.link_up();
  publish(hub, "a", sid(100));
  publish(hub, "b", sid(200));
  publish(hub, "a", sid(101));
  publish(hub, "b", sid(201));
  publish(hub, "a", sid(102));
  publish(hub, "b", sid(202));
  Cursor c{kOtherEpoch,
           1,
           {Position{channel_hash("a"), sid(100)}, Position{channel_hash("b"), sid(200)}}};
  std::sort(c.positions.begin(), c.positions.end(),
            [](const Position& x, const Position& y) { return x.hash < y.hash; });
  std::vector<StreamId> all;
  for (int i = 0; i < 4; ++i) {
    FakeWaiter w;
    auto b = hub.poll(w, chans({"a", "b"}), at(c), 0s, kT0).batch;
    ASSERT_TRUE(b);
    for (auto id : ids(*b)) all.push_back(id);
    c = b->cursor;
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<StreamId>{sid(101), sid(102), sid(201), sid(202)}));
}

TEST(HubDurableTest, EmptyAnswersCarryTheirOwnChannelsPositions) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  publish(hub, "a", sid(101));
  publish(hub, "b", sid(201));
  FakeWaiter wa, wb;
  ASSERT_EQ(hub.poll(wa, chans({"a"}), at(foreign("a", sid(101))), 10s, kT0).status,
            PollStatus::parked);
  ASSERT_EQ(hub.poll(wb, chans({"b"}), at(foreign("b", sid(201))), 10s, kT0).status,
            PollStatus::parked);
  hub.release_all();  // shutdown: nothing new for either
  ASSERT_EQ(wa.got.size(), 1u);
  ASSERT_EQ(wb.got.size(), 1u);
  EXPECT_EQ(position(wa.last().cursor, "a"), sid(101));
  EXPECT_EQ(position(wb.last().cursor, "b"), sid(201));
  EXPECT_FALSE(position(wa.last().cursor, "b"));
}

TEST(HubDurableTest, AReadFromAnotherPositionDoesNotAnswerThisOne) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  const Since since = at(foreign("d", sid(150)));
  PollReads reads{{{"d", read_ok(sid(100), {{sid(160), ""}})}}, {}};
  FakeWaiter w;
  auto b = hub.poll(w, chans({"d"}), since, 10s, kT0, &reads).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->gaps, (std::vector<std::string>{"d"}));  // not placed: said so
  EXPECT_TRUE(b->messages.empty());
}

// ---- Forged positions (docs/API.md, "Cursor") -------------------------------

constexpr std::uint64_t kWallMs = 1'700'000'000'000;  // the injected wall clock

// A cursor with `p` on each of `channels`.
Cursor positions_on(std::uint64_t epoch, const std::vector<std::string>& channels,
                    std::function<StreamId(std::size_t)> p) {
  Cursor c{epoch, 0, {}};
  for (std::size_t i = 0; i < channels.size(); ++i)
    c.positions.push_back(Position{channel_hash(channels[i]), p(i)});
  std::sort(c.positions.begin(), c.positions.end(),
            [](const Position& a, const Position& b) { return a.hash < b.hash; });
  return c;
}

std::vector<std::string> many(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back("x" + std::to_string(i));
  return out;
}

std::size_t refused(const ReadPlan& plan, PositionRefusal why) {
  return static_cast<std::size_t>(std::count_if(plan.refused.begin(), plan.refused.end(),
                                                [&](const auto& r) { return r.second == why; }));
}

ReadLimits limits(std::size_t max_reads, bool caught_up) {
  ReadLimits l;
  l.max_reads = max_reads;
  l.wall_ms = kWallMs;
  l.caught_up = caught_up;
  return l;
}

TEST(HubDurableTest, SixtyFourForgedPositionsNeedAtMostTheCapOfReads) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  const auto channels = many(64);
  // Any ids: varying them defeats no bound here.
  for (std::uint64_t round = 0; round < 100; ++round) {
    const Cursor c =
        positions_on(kOtherEpoch, channels, [&](std::size_t i) { return sid(1 + round, i); });
    const ReadPlan plan = hub.reads_needed(channels, at(c), limits(4, true));
    ASSERT_EQ(plan.reads.size(), 4u);
    EXPECT_EQ(refused(plan, PositionRefusal::per_poll), 60u);
    // The refused ones are answered with a gap, without a read.
    PollReads reads;
    for (const auto& [name, why] : plan.refused) reads.gaps.insert(name);
    FakeWaiter w;
    auto b = hub.poll(w, channels, at(c), 10s, kT0, &reads).batch;
    ASSERT_TRUE(b);
    EXPECT_EQ(b->gaps.size(), 64u);  // the 4 unread ones too: their reads are missing
  }
}

TEST(HubDurableTest, PositionsFromTheFutureAreRefusedWithoutARead) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  const std::uint64_t skew = 60'000;  // HubOptions::position_skew
  const Cursor c = positions_on(kOtherEpoch, chans({"a", "b", "c"}), [&](std::size_t i) {
    return sid(kWallMs + skew + i);  // a: at the edge; b, c: past it
  });
  const ReadPlan plan = hub.reads_needed(chans({"a", "b", "c"}), at(c), limits(4, true));
  EXPECT_EQ(plan.reads, (std::vector<ReadNeed>{{"a", sid(kWallMs + skew)}}));
  EXPECT_EQ(plan.refused, (std::vector<std::pair<std::string, PositionRefusal>>{
                              {"b", PositionRefusal::future}, {"c", PositionRefusal::future}}));
  // Without a clock (none injected), nothing is refused for its time.
  EXPECT_EQ(hub.reads_needed(chans({"a", "b", "c"}), at(c)).reads.size(), 3u);
}

TEST(HubDurableTest, PositionAheadOfACaughtUpWindowIsAGapWithoutARead) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  publish(hub, "d", sid(101));
  publish(hub, "d", sid(102));
  const Since since = at(foreign("d", sid(150)));
  // The subscription has caught up (a barrier, or this instance's cursor):
  // every message a gateway delivered is here, so 150 was never issued.
  const ReadPlan plan = hub.reads_needed(chans({"d"}), since, limits(4, true));
  EXPECT_TRUE(plan.reads.empty());
  EXPECT_EQ(plan.refused,
            (std::vector<std::pair<std::string, PositionRefusal>>{{"d", PositionRefusal::ahead}}));
  // Not caught up (the barrier timed out): it may be on its way, so read.
  EXPECT_EQ(hub.reads_needed(chans({"d"}), since, limits(4, false)).reads,
            (std::vector<ReadNeed>{{"d", sid(102)}}));
  // Nor while the window waits for a resync.
  hub.link_down();
  hub.link_up();
  EXPECT_EQ(hub.reads_needed(chans({"d"}), since, limits(4, true)).reads,
            (std::vector<ReadNeed>{{"d", sid(102)}}));

  PollReads reads;
  reads.gaps.insert("d");
  FakeWaiter w;
  auto b = hub.poll(w, chans({"d"}), since, 10s, kT0, &reads).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->gaps, (std::vector<std::string>{"d"}));
  EXPECT_TRUE(b->messages.empty());
  EXPECT_EQ(position(b->cursor, "d"), sid(102));  // back to what is held
}

TEST(HubDurableTest, PositionsNamingNoChannelOfThePollAreIgnored) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  // 8 positions, 2 of them for channels of this poll.
  const Cursor c = positions_on(kOtherEpoch, many(8), [](std::size_t i) { return sid(100 + i); });
  const ReadPlan plan = hub.reads_needed(chans({"x0", "x1", "y"}), at(c), limits(4, true));
  EXPECT_EQ(plan.reads, (std::vector<ReadNeed>{{"x0", sid(100)}, {"x1", sid(101)}}));
  EXPECT_TRUE(plan.refused.empty());
  EXPECT_EQ(plan.unmatched, 6u);
}

TEST(HubDurableTest, ASecondRoundSkipsWhatWasReadAndKeepsWithinTheCap) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  const Cursor c =
      positions_on(kOtherEpoch, chans({"a", "b", "c"}), [](std::size_t i) { return sid(100 + i); });
  PollReads done;
  done.reads.emplace("a", read_ok(sid(100), {}));
  // One read left for this poll: "b" gets it, "c" is refused.
  const ReadPlan plan = hub.reads_needed(chans({"a", "b", "c"}), at(c), limits(1, true), &done);
  EXPECT_EQ(plan.reads, (std::vector<ReadNeed>{{"b", sid(101)}}));
  EXPECT_EQ(
      plan.refused,
      (std::vector<std::pair<std::string, PositionRefusal>>{{"c", PositionRefusal::per_poll}}));
}

TEST(HubDurableTest, ResyncsAreQueuedOnceAndACompletedReadQueuesOnlyItsChannel) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  for (const auto& name : many(100)) publish(hub, name, sid(100));
  hub.link_down();
  hub.link_up();  // a second loss queues nothing twice
  EXPECT_EQ(hub.resyncs_waiting(), 100u);
  std::vector<ReadNeed> taken;
  while (auto need = hub.next_resync()) taken.push_back(*need);
  EXPECT_EQ(taken.size(), 100u);
  EXPECT_EQ(hub.resyncs_waiting(), 0u);
  // A read that reaches the stream's end syncs its window: nothing queued.
  hub.apply_read("x0", sid(100), read_ok(sid(100), {}), hub.read_token("x0"), kT0);
  EXPECT_EQ(hub.resyncs_waiting(), 0u);
  // One that stops short (1000 entries, more to come) queues that window
  // alone, for its next part.
  hub.apply_read("x1", sid(100), read_ok(sid(100), {{sid(101), ""}}, false), hub.read_token("x1"),
                 kT0);
  EXPECT_EQ(hub.resyncs_waiting(), 1u);
  EXPECT_EQ(hub.next_resync(), (ReadNeed{"x1", sid(101)}));
  // A failed read: queued again by whoever sent it.
  hub.resync_later("x2");
  hub.resync_later("x2");
  EXPECT_EQ(hub.next_resync(), (ReadNeed{"x2", sid(100)}));
  EXPECT_FALSE(hub.next_resync());
}

TEST(HubDurableTest, AReadForAForgottenWindowStartsNothing) {
  Hub hub(options(), kEpoch, kJson);
  hub.link_up();
  // A window read from a position, nothing buffered, nobody waiting.
  StreamRead none;
  none.status = StreamRead::Status::none;
  none.from = none.base = sid(100);
  hub.apply_read("x", sid(100), none, hub.read_token("x"), kT0);
  ASSERT_EQ(hub.channels(), 0u);               // idle until expire() forgets it
  const ReadToken sent = hub.read_token("x");  // another read, sent while held
  ASSERT_TRUE(sent.window_gen);
  hub.expire(kT0 + 1s);  // forgotten
  // Its answer comes back: no window again, no resync queued for it.
  hub.apply_read("x", sid(200), none, sent, kT0 + 1s);
  EXPECT_EQ(hub.resyncs_waiting(), 0u);
  EXPECT_FALSE(hub.next_resync());
}

}  // namespace
}  // namespace comet
