// The Redis side: one connection subscribed to `<prefix>*`,
// and one for commands (the heartbeat PUBLISH, loading the durable-channel
// function library, reading durable channels' streams), both driven by Asio
// through detail/hiredis_asio. Reconnects by itself with
// exponential backoff and jitter; a subscription that hears nothing (not even
// its own heartbeat) for three heartbeat intervals is taken as dead.
//
// With a redis-sentinel:// URL each (re)connect of either connection first
// asks the sentinels in turn where the master is, and the server must say
// ROLE master; a third connection subscribes to +switch-master on one
// sentinel and moves both connections when our master is failed over.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/presence_book.hpp"
#include "gateway/core/presence_event.hpp"
#include "gateway/core/publish_result.hpp"
#include "gateway/core/stream_id.hpp"
#include "gateway/core/stream_read.hpp"
#include "gateway/redis/presence_wire.hpp"
#include "gateway/redis/redis_url.hpp"
#include "gateway/util/log.hpp"

namespace comet {

struct RedisClientOptions {
  RedisUrl url;
  std::string prefix = "comet:";
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  // The subscription's reconnect waits start from backoff_min again only
  // after it has stayed up this long (Backoff::lost).
  std::chrono::milliseconds stable_link{10000};
  std::chrono::milliseconds heartbeat_interval{5000};
  // A stream read (or an HTTP publish) not answered in this time takes the
  // command connection down (and fails every command in flight): a poll
  // waits for it.
  std::chrono::milliseconds read_timeout{3000};
  // For durable publishes over HTTP: what Comet::publishDurable passes.
  long stream_max_len = 10000;
  long stream_ttl_seconds = 86400;
};

struct RedisClientCallbacks {
  // A message on `<prefix><channel>`; `channel` has the prefix removed.
  // Heartbeats are not passed on. Called for each message of a read burst.
  // `id` is the stream id of a durable message (published by
  // comet_publish_v1: its notice on "<prefix>#durable:<channel>" came just
  // before it), nullptr for a plain one.
  std::function<void(std::string_view channel, std::string_view payload, const StreamId* id)>
      on_message;
  // The end of a read burst that delivered at least one message: the place
  // to flush waiters once for the whole burst.
  std::function<void()> on_burst_end;
  // The subscription is confirmed (first time and after every reconnect).
  // `resumed` is false the first time, true after a loss.
  std::function<void(bool resumed)> on_subscribed;
  // The subscription was lost; messages published from now until the next
  // on_subscribed are not seen.
  std::function<void()> on_down;
  // The command connection is (again) ready for stream reads.
  std::function<void()> on_command_ready;
  // A mark of the pub/sub stream (a heartbeat of a gateway subscribed to the
  // same server), in order with on_message: core/stream_marks.hpp.
  std::function<void(std::uint64_t id)> on_mark;
  // A join or leave of a presence channel ("<prefix>#presence:<channel>"),
  // in order with on_message; part of a read burst like a message.
  std::function<void(std::string_view channel, const PresenceEvent& event)> on_presence;
};

class RedisClient {
 public:
  // `log` outlives the client.
  RedisClient(boost::asio::io_context& io, RedisClientOptions options,
              RedisClientCallbacks callbacks, const Logger& log);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  void start();
  // Disconnects both connections; no callback runs afterwards.
  void stop();

  bool up() const;  // subscribed now
  std::uint64_t reconnects() const;

  // Reads `channel`'s stream (stream_key in keys.hpp) after `after` (comet_read_v1, at most `count`
  // entries) on the command connection. `done` runs exactly once, from a
  // fresh stack, with nullopt on any failure (an error reply, a timeout, the
  // connection lost); false (and `done` never runs) when the command
  // connection is not ready. Nothing runs after stop().
  bool read_stream(std::string_view channel, StreamId after, std::size_t count,
                   std::function<void(std::optional<StreamRead>)> done);
  // PUBLISH `payload` on `<prefix><channel>`, or with `durable` append it
  // to the channel's stream and publish it (comet_publish_v1, as
  // Comet::publishDurable does). `done` runs exactly once, from a fresh
  // stack; false (and `done` never runs) when the command connection is not
  // ready. Nothing runs after stop().
  bool publish(std::string_view channel, std::string_view payload, bool durable,
               std::function<void(PublishResult)> done);
  // Presence channels (deploy/redis/comet_presence.lua), on the command
  // connection; `done` runs exactly once, from a fresh stack, with nullopt
  // on any failure; false (and `done` never runs) when the command
  // connection is not ready. `delay_ms` is how long a member that left
  // stays "gone" before member_removed.
  // Keeps `refresh`'s users members until their expiry (wall clock ms,
  // sent as durations from `now`: Redis counts on its own clock).
  bool presence_refresh(const PresenceRefresh& refresh, WallMs now, WallMs delay_ms,
                        std::function<void(std::optional<PresenceOutcome>)> done);
  // Lets the members whose expiry has passed (on Redis's clock) leave.
  bool presence_sweep(std::string_view channel, WallMs delay_ms,
                      std::function<void(std::optional<PresenceOutcome>)> done);
  // The member list, with its version.
  bool presence_members(std::string_view channel,
                        std::function<void(std::optional<PresenceSnapshot>)> done);
  // Occupancy (keys.hpp): writes gateway `id`'s clients per channel:
  // `counts` set (with `replace`, the whole hash is replaced by them), `gone`
  // removed; the hash and the registry entry hold until now + `ttl`.
  // done(true) when Redis took it all and still had the hash (false: send
  // everything again next time).
  bool occupancy_report(std::string_view id,
                        const std::vector<std::pair<std::string, std::size_t>>& counts,
                        const std::vector<std::string>& gone, bool replace, WallMs now,
                        WallMs ttl_ms, std::function<void(bool)> done);
  // The clients of every channel whose name starts with `prefix`, summed
  // over the gateways whose reports hold at `now`; nullopt on any failure.
  bool occupancy_read(
      std::string_view prefix, WallMs now,
      std::function<void(std::optional<std::map<std::string, std::uint64_t>>)> done);
  // The member count of each of `channels` (presence channels), in order.
  bool presence_sizes(std::vector<std::string> channels,
                      std::function<void(std::optional<std::vector<std::uint64_t>>)> done);
  // A barrier on the subscription: publishes a marker of this instance's
  // own and runs `done(true)` once it has come back on the subscription, so
  // every message published before the call has been received by then.
  // done(false) on a timeout or a loss. False (and `done` never runs) when
  // not subscribed or the command connection is not ready. Barriers asked
  // for together share one marker. `done` runs from a fresh stack.
  bool sync(std::function<void(bool)> done);
  // Every sync() waiting now hears false (shutdown).
  void cancel_syncs();
  std::uint64_t reads() const;
  std::uint64_t read_failures() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace comet
