// What a pmessage on the subscription to "<prefix>*" is, sans-IO: fed the
// channel and payload of each message in the order they arrive, it says
// whether to pass the message on (with the stream id of a durable one),
// or that it is one of the gateway's own internal messages.
//
// Internal channels live under "<prefix>#...": '#' is not allowed in a user
// channel name (docs/API.md), so these can never collide with one:
// - "<prefix>#heartbeat": proves the subscription alive; its payload
//   "<16 hex>.<run_id>" is a stream mark (core/stream_marks.hpp) when the
//   publishing gateway was subscribed to the server this one is (its
//   run_id): the two then hear one stream, in one order. Another server's
//   marks (a cluster's other nodes) and empty payloads are liveness only;
// - "<prefix>#sync:<instance>": sync() markers, a counter as the payload;
//   an instance acts on its own only;
// - "<prefix>#durable:<channel>": comet_publish_v1 PUBLISHes the entry id
//   here, then the payload on "<prefix><channel>". The next message on that
//   channel is the durable one. With one server it is the very next
//   message (a function runs atomically); in a cluster the notice and the
//   payload come from the channel's master in order, but messages relayed
//   from other masters may come between them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/stream_id.hpp"

namespace comet {

class SubscriptionDemux {
 public:
  enum class Kind {
    ignored,         // not under the prefix (cannot match the pattern; be safe)
    heartbeat,       // liveness only
    mark,            // a heartbeat that marks this server's stream: `mark` is its id
    own_sync,        // a marker of this instance's: `payload` is its number
    foreign_sync,    // another instance's marker
    durable_notice,  // noted; its message follows
    presence,        // a join or leave: `channel` is the presence channel
    internal,        // some other "#..." channel: liveness only
    message,         // a user message: `channel` without the prefix, `id` if durable
  };
  struct Event {
    Kind kind = Kind::ignored;
    std::string_view channel;  // without the prefix (for notices: the user channel)
    std::string_view payload;
    std::optional<StreamId> id;  // a durable message's stream id
    std::uint64_t mark = 0;      // a mark's id
    // A notice was dropped without its message (for a 1-in-N log line).
    bool notice_dropped = false;
  };

  // The internal channels, after the prefix (described above).
  static constexpr std::string_view kHeartbeat = "#heartbeat";
  static constexpr std::string_view kSyncPrefix = "#sync:";
  static constexpr std::string_view kDurableNotice = "#durable:";
  static constexpr std::string_view kPresence = "#presence:";

  // More channels with a notice out than any cluster interleaves means
  // the notices were not comet_publish_v1's: they are all dropped.
  static constexpr std::size_t kMaxNotices = 256;

  // `instance`: this instance's sync channel suffix ("#sync:<random>").
  SubscriptionDemux(std::string prefix, std::string instance);

  // One pmessage. The views of the result point into `channel`/`payload`.
  Event on_message(std::string_view channel, std::string_view payload);
  // The subscription was lost: notices waiting for their message are
  // forgotten (their messages are in the gap), and so is the server.
  void reset() {
    notices_.clear();
    server_.clear();
  }
  // The server subscribed to now (its run_id; empty: none, so no marks).
  void set_server(std::string run_id) { server_ = std::move(run_id); }
  // A heartbeat's payload that marks this server's stream with `id`.
  std::string mark_payload(std::uint64_t id) const;

  std::size_t notices_waiting() const { return notices_.size(); }
  std::uint64_t notices_dropped() const { return dropped_; }

 private:
  struct Notice {
    std::string channel;
    std::optional<StreamId> id;
  };
  bool add_notice(std::string_view channel, std::optional<StreamId> id);
  bool mark_of(std::string_view payload, std::uint64_t& id) const;
  std::optional<StreamId> take_notice(std::string_view channel);

  const std::string prefix_;
  const std::string instance_;
  std::string server_;
  std::vector<Notice> notices_;
  std::uint64_t dropped_ = 0;
};

}  // namespace comet
