// Redis replies, as hiredis's reader makes them of any RESP bytes, given
// to every part that reads them: reply_text and the error tests,
// parse_stream_read, parse_publish, ClusterSlots::from_reply, the sentinel,
// handshake and +switch-master machines, and (for pmessage-shaped arrays)
// SubscriptionDemux. Checked: a stream read keeps its promises (a gap has
// entries, complete means fewer than asked), a slot map serves each slot
// by the last range that names it. With the first byte's top bit set, the
// input describes a comet_read_v1 reply instead: encoded as RESP, it must
// parse back to exactly what was encoded.
#include <fuzzer/FuzzedDataProvider.h>
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <memory>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "gateway/redis/cluster_slots.hpp"
#include "gateway/redis/command_replies.hpp"
#include "gateway/redis/link_handshake.hpp"
#include "gateway/redis/reply.hpp"
#include "gateway/redis/sentinel_resolve.hpp"
#include "gateway/redis/subscription_demux.hpp"
#include "gateway/redis/switch_master_watch.hpp"

namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

std::vector<ReplyPtr> read_replies(std::string_view bytes) {
  std::vector<ReplyPtr> out;
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, bytes.data(), bytes.size());
  for (;;) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader, &reply) != REDIS_OK || reply == nullptr) break;
    out.emplace_back(static_cast<redisReply*>(reply));
  }
  redisReaderFree(reader);
  return out;
}

void check_stream_read(const redisReply& r, comet::StreamId after, std::size_t count) {
  const auto read = comet::parse_stream_read(r, after, count);
  if (!read) return;
  FUZZ_CHECK(read->from == after);
  FUZZ_CHECK(read->complete == (read->entries.size() < count));
  FUZZ_CHECK(r.elements == 2 + 2 * read->entries.size());
  if (read->status == comet::StreamRead::Status::gap) {
    FUZZ_CHECK(!read->entries.empty());
  } else {
    FUZZ_CHECK(read->base == after);
  }
}

void check_slots(const redisReply& r) {
  const auto slots = comet::ClusterSlots::from_reply(r, "10.0.0.1");
  if (!slots) return;
  // What each slot should be, range by range.
  std::vector<const comet::RedisHostPort*> owner(comet::kClusterSlots, nullptr);
  std::vector<comet::RedisHostPort> named;
  named.reserve(r.elements);
  for (std::size_t i = 0; i < r.elements; ++i) {
    const redisReply& range = *r.element[i];
    const redisReply& master = *range.element[2];
    std::string host(comet::reply_text(*master.element[0]));
    if (host.empty() || host == "?") host = "10.0.0.1";
    named.push_back({host, static_cast<int>(master.element[1]->integer)});
    for (long long s = range.element[0]->integer; s <= range.element[1]->integer; ++s) {
      owner[static_cast<std::size_t>(s)] = &named.back();
    }
  }
  std::size_t served = 0;
  for (std::uint16_t s = 0; s < comet::kClusterSlots; ++s) {
    const comet::RedisHostPort* got = slots->master_of(s);
    FUZZ_CHECK((got == nullptr) == (owner[s] == nullptr));
    if (got != nullptr) {
      FUZZ_CHECK(*got == *owner[s]);
      ++served;
    }
  }
  FUZZ_CHECK(slots->slots_served() == served);
}

void any_replies(std::string_view bytes) {
  if (!comet::fuzz::resp_sizes_are_small(bytes)) return;
  comet::SubscriptionDemux demux("comet:", "#sync:me");
  // The handshake takes the replies in turn, a new one after each ends.
  auto handshake = std::make_unique<comet::LinkHandshake>(
      comet::LinkHandshake::Options{{"AUTH", "pw"}, true, 3});
  handshake->start();
  const comet::SwitchMasterWatch watch("mymaster");
  for (const auto& reply : read_replies(bytes)) {
    const redisReply& r = *reply;
    const std::string_view text = comet::reply_text(r);
    FUZZ_CHECK(comet::reply_is_error(r) == (r.type == REDIS_REPLY_ERROR));
    (void)comet::function_missing(text);
    (void)comet::library_already_loaded(text);
    check_stream_read(r, {5, 1}, 3);
    check_stream_read(r, {}, 100);
    for (bool durable : {false, true}) {
      const auto published = comet::parse_publish(&r, durable);
      FUZZ_CHECK(published.answered && published.ok == published.error.empty());
    }
    check_slots(r);
    const auto event = watch.on_reply(r);
    if (event.type == comet::SwitchMasterWatch::Event::Type::failover) {
      FUZZ_CHECK(!event.text.empty());
    }
    handshake->on_reply(r);
    if (handshake->done()) {
      handshake = std::make_unique<comet::LinkHandshake>(
          comet::LinkHandshake::Options{{"AUTH", "pw"}, true, 3});
      handshake->start();
    }
    // A sentinel answering this to its AUTH, then to SENTINEL
    // get-master-addr-by-name.
    comet::SentinelResolve sentinel({{"10.0.0.1", 26379}, {"10.0.0.2", 26379}}, "mymaster",
                                    {"AUTH", "pw"});
    sentinel.start();
    sentinel.on_connected();
    if (sentinel.on_auth_reply(r).type == comet::SentinelResolve::Action::Type::send) {
      const auto action = sentinel.on_reply(r);
      if (action.type == comet::SentinelResolve::Action::Type::found) {
        FUZZ_CHECK(!action.master.host.empty());
        FUZZ_CHECK(action.master.port > 0 && action.master.port <= 65535);
      }
    }
    if (r.type == REDIS_REPLY_ARRAY && r.elements == 4 &&
        r.element[2]->type == REDIS_REPLY_STRING && r.element[3]->type == REDIS_REPLY_STRING) {
      const auto e =
          demux.on_message(comet::reply_text(*r.element[2]), comet::reply_text(*r.element[3]));
      FUZZ_CHECK(demux.notices_waiting() <= comet::SubscriptionDemux::kMaxNotices);
      if (e.kind == comet::SubscriptionDemux::Kind::message) {
        FUZZ_CHECK(e.channel.find('#') != 0);
      }
    }
  }
}

void append_bulk(std::string& out, std::string_view s) {
  out += "$" + std::to_string(s.size()) + "\r\n";
  out += s;
  out += "\r\n";
}

void encoded_stream_read(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const int status = in.ConsumeIntegralInRange<int>(0, 2);
  const comet::StreamId after{in.ConsumeIntegral<std::uint64_t>(),
                              in.ConsumeIntegral<std::uint64_t>()};
  const comet::StreamId base{in.ConsumeIntegral<std::uint64_t>(),
                             in.ConsumeIntegral<std::uint64_t>()};
  const std::size_t count = in.ConsumeIntegralInRange<std::size_t>(1, 20);
  std::vector<comet::StreamEntry> entries(in.ConsumeIntegralInRange<std::size_t>(0, 20));
  for (auto& e : entries) {
    e.id = {in.ConsumeIntegral<std::uint64_t>(), in.ConsumeIntegral<std::uint64_t>()};
    e.payload = in.ConsumeRandomLengthString(100);
  }
  static const char* names[] = {"ok", "none", "gap"};
  std::string resp = "*" + std::to_string(2 + 2 * entries.size()) + "\r\n";
  append_bulk(resp, names[status]);
  append_bulk(resp, base.text());
  for (const auto& e : entries) {
    append_bulk(resp, e.id.text());
    append_bulk(resp, e.payload);
  }
  const auto replies = read_replies(resp);
  FUZZ_CHECK(replies.size() == 1);
  const auto read = comet::parse_stream_read(*replies.front(), after, count);
  if (status == 2 && entries.empty()) {
    FUZZ_CHECK(!read);  // a gap names where it starts: its first entry
    return;
  }
  FUZZ_CHECK(read && read->entries.size() == entries.size());
  FUZZ_CHECK(static_cast<int>(read->status) ==
             static_cast<int>(status == 0   ? comet::StreamRead::Status::ok
                              : status == 1 ? comet::StreamRead::Status::none
                                            : comet::StreamRead::Status::gap));
  FUZZ_CHECK(read->from == after && read->base == (status == 2 ? base : after));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    FUZZ_CHECK(read->entries[i].id == entries[i].id &&
               read->entries[i].payload == entries[i].payload);
  }
  FUZZ_CHECK(read->complete == (entries.size() < count));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 0 && (data[0] & 0x80) != 0) {
    encoded_stream_read(data + 1, size - 1);
  } else {
    any_replies(std::string_view(reinterpret_cast<const char*>(data), size));
  }
  return 0;
}
