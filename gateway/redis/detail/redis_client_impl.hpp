// RedisClient's state and the steps of its two links, shared by
// redis_client.cpp (lifecycle, Sentinel and Cluster addressing, the
// subscription, sync barriers) and redis_client_commands.cpp (the command
// link: handshake, heartbeat, stream reads, publishes, the pending table).
// The decisions are the sans-IO machines' (link_handshake, liveness,
// subscription_demux, pending_commands, sync_barrier, sentinel_resolve);
// this drives them with connections (detail/hiredis_asio) and Asio timers.
#pragma once

#include <hiredis/hiredis.h>
#include <cstddef>
#include <utility>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/backoff.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/redis/cluster_commands.hpp"
#include "gateway/redis/detail/failover_watch.hpp"
#include "gateway/redis/detail/guarded_timer.hpp"
#include "gateway/redis/detail/hiredis_asio.hpp"
#include "gateway/redis/detail/sentinel_lookup.hpp"
#include "gateway/redis/link_handshake.hpp"
#include "gateway/redis/liveness.hpp"
#include "gateway/redis/pending_commands.hpp"
#include "gateway/redis/redis_client.hpp"
#include "gateway/redis/subscription_demux.hpp"
#include "gateway/redis/sync_barrier.hpp"
#include "gateway/util/lifetime.hpp"
#include "gateway/util/log.hpp"

namespace comet {

struct RedisClient::Impl {
  using milliseconds = std::chrono::milliseconds;
  // The internal channels (subscription_demux.hpp says what each is for).
  static constexpr std::string_view kHeartbeatSuffix = SubscriptionDemux::kHeartbeat;
  static constexpr std::string_view kDurableNotice = SubscriptionDemux::kDurableNotice;
  static constexpr std::string_view kSyncPrefix = SubscriptionDemux::kSyncPrefix;

  void log_line(LogLevel level, std::string_view text) const { log_.log(level, "redis", text); }

  using Timer = detail::GuardedTimer;

  enum class State { idle, connecting, handshaking, up, waiting };

  Impl(boost::asio::io_context& io, RedisClientOptions options, RedisClientCallbacks callbacks,
       const Logger& log);

  ~Impl() { halt(); }

  boost::asio::io_context& io_;
  const Logger& log_;
  RedisClientOptions opt_;
  RedisClientCallbacks cb_;
  const std::string url_text_;  // redacted: the only form that is logged
  const std::string pattern_;
  const std::string heartbeat_channel_;
  // Timer handlers hold a weak_ptr to this: they may be queued after the
  // Impl is gone (a cancel cannot recall a completion already queued).
  Lifetime life_;
  std::mt19937_64 rng_;
  const std::string sync_suffix_;   // "#sync:<random>": this instance's barriers
  const std::string sync_channel_;  // with the prefix
  bool running_ = false;

  // The subscription.
  std::unique_ptr<detail::HiredisAsio> sub_;
  State state_ = State::idle;
  Backoff sub_backoff_;
  Timer sub_retry_, watchdog_;
  Liveness liveness_;
  std::optional<LinkHandshake> sub_handshake_;
  Clock::time_point down_since_{};
  bool ever_up_ = false;
  std::uint64_t reconnects_ = 0;
  std::size_t burst_ = 0;  // messages delivered in the current read burst
  // What each message is, and the durable notices waiting for theirs.
  SubscriptionDemux demux_;

  // The command connection (heartbeat publisher).
  std::unique_ptr<detail::HiredisAsio> cmd_;
  std::optional<LinkHandshake> cmd_handshake_;
  bool cmd_ready_ = false;
  bool cmd_publish_refused_logged_ = false;
  int heartbeats_unanswered_ = 0;
  Backoff cmd_backoff_;
  Timer cmd_retry_, heartbeat_;

  // Commands in flight on the command connection (stream reads,
  // publishes). Each entry gets the reply, or nullptr when there is none (a
  // timeout, the connection lost); it runs inside a reply handler or
  // from fail_commands, so it only takes what it needs and posts the rest.
  using OnReply = std::function<void(const redisReply*)>;
  PendingCommands<OnReply> commands_;
  SyncBarrier syncs_;  // sync()'s waiters and their marker
  Timer sync_timer_;
  std::uint64_t reads_total_ = 0;
  std::uint64_t read_failures_ = 0;
  std::uint64_t bad_presence_events_ = 0;
  std::uint64_t presence_failures_ = 0;
  Timer command_timer_;

  // ---- Redis Cluster (redis-cluster:// URLs) -------------------------------
  // The subscription and the command connection each use one node, tried
  // in turn (a PUBLISH reaches every node); stream reads go to the master
  // of their key's slot through this.
  std::unique_ptr<ClusterCommands> cluster_;

  // ---- Sentinel (redis-sentinel:// URLs) ---------------------------------
  // Before each connect the sentinels are asked in turn where the master
  // is; one lookup per connection. In a cluster, `next_node` picks the node
  // of each attempt instead.
  struct Lookup {
    std::unique_ptr<detail::SentinelLookup> sentinel;
    std::size_t next_node = 0;
  };
  Lookup sub_lookup_, cmd_lookup_;
  // A subscription to +switch-master on one sentinel: a master demoted by a
  // failover may keep its clients, so the announcement is what moves us.
  std::unique_ptr<detail::FailoverWatch> watch_;
  std::string sub_addr_, cmd_addr_;  // "host:port" connected to, for logs

  template <class F>
  void arm(Timer& timer, milliseconds after, F f) {
    timer.arm(after, life_.watch(), std::move(f));
  }
  static void cancel(Timer& timer) { timer.cancel(); }

  bool unnamed_server_logged_ = false;
  // A mark of the stream on the heartbeat channel (when subscribed to a
  // server that named itself).
  void publish_mark();

  // Each connection's handshake; `db`: SELECT it (0: none).
  LinkHandshake handshake(int db) const;

  // Runs `hs` on `conn` to its end: `ready()` or `failed(why)`. The reply
  // handlers die with `conn`, so `hs` (which lives as long) is never stale.
  template <class Ready, class Failed>
  void run_handshake(detail::HiredisAsio& conn, LinkHandshake& hs, LinkHandshake::Action a,
                     Ready ready, Failed failed) {
    switch (a.type) {
      case LinkHandshake::Action::Type::send: {
        bool sent = conn.command(a.command, [this, &conn, &hs, ready, failed](const redisReply& r) {
          run_handshake(conn, hs, hs.on_reply(r), ready, failed);
        });
        if (!sent) run_handshake(conn, hs, hs.on_send_failed(), ready, failed);
        return;
      }
      case LinkHandshake::Action::Type::ready:
        ready();
        return;
      case LinkHandshake::Action::Type::failed:
        failed(a.why);
        return;
    }
  }

  // The jitter of both backoffs: a uniform draw from this instance's rng.
  Backoff::Random random_source();

  void start();

  // Calls `found` with the URL to connect to: the --redis one, or for a
  // sentinel URL the master that a sentinel names now; `failed` when no
  // sentinel could name it. Either runs from a fresh stack (or, for a plain
  // URL, right away).
  void resolve(Lookup& lk, std::function<void(const RedisUrl&)> found,
               std::function<void(const std::string&)> failed);

  static void stop_lookup(Lookup& lk);

  // "+switch-master <name> <old ip> <old port> <new ip> <new port>"
  void on_failover(const std::string& text);

  // Tears everything down without a word to the owner.
  void halt();

  void stop();

  // ---- subscription ----------------------------------------------------

  void connect_sub();

  void connect_sub_to(const RedisUrl& url);

  void sub_handshake();

  void send_psubscribe();

  void on_sub_reply(const redisReply& r);

  bool sync(std::function<void(bool)> done);

  void send_sync_marker();

  void on_sync_marker(std::string_view payload) { finish(syncs_.on_marker(payload)); }

  // Barriers whose marker came back (all copies of it).
  void finish(std::vector<SyncBarrier::Waiter> done);

  void finish_syncs(bool ok);

  void post_bool(std::function<void(bool)> done, bool ok);

  void unpaired_notice();

  void on_subscribed();

  // Any bytes read count as liveness, even a part of a large message.
  void sub_read_done();

  // Rather than re-arming a timer per message, the timer fires at the
  // earliest moment the silence could be long enough and checks.
  void arm_watchdog();

  // The subscription (or the attempt at one) is over: drop it and schedule
  // the next attempt. Safe from any of the connection's own handlers.
  void sub_retry(const std::string& why);

  // ---- commands and heartbeat --------------------------------------------

  void connect_cmd();

  void connect_cmd_to(const RedisUrl& url);

  // The command connection does select the db: durable reads will use it.
  void cmd_handshake();

  void cmd_up();

  // FUNCTION LOAD of deploy/redis/comet.lua when missing: the library name
  // carries its version, so "already exists" means it is there as needed.
  void load_library();

  bool read_stream(std::string_view channel, StreamId after, std::size_t count,
                   std::function<void(std::optional<StreamRead>)> done);

  // PUBLISH, or with `durable` comet_publish_v1 (as Comet::publishDurable).
  // One comet_presence_v1 call on presence channel `channel` (its keys
  // first, then `args`); `done` from a fresh stack, nullopt on any failure.
  template <typename Result>
  bool presence_call(std::string_view function, std::string_view channel,
                     std::vector<std::string> args,
                     std::optional<Result> (*parse)(const redisReply&),
                     std::function<void(std::optional<Result>)> done);
  bool publish(std::string_view channel, std::string_view payload, bool durable,
               std::function<void(PublishResult)> done);

  // Sends a command on the command connection, or in a cluster with a
  // `route` key to the master of its slot. False (and `on_reply` never
  // runs) when the command connection is not ready.
  bool send_command(std::string_view route, std::vector<std::string> args,
                    std::function<void(const redisReply*)> on_reply);

  void on_command_reply(std::uint64_t id, const redisReply& r);

  // `r`: the reply that was not a read's answer, nullptr for none at all.
  void note_read_failure(const redisReply* r);

  // From a fresh stack: the caller may be inside a reply handler, and
  // `done` may do anything (answer requests, send more reads).
  void finish_read(std::function<void(std::optional<StreamRead>)> done,
                   std::optional<StreamRead> result);

  void fail_commands();

  // Replies come in order: the oldest read is the first to be late.
  void arm_command_timer();

  void send_heartbeat();

  void cmd_retry(const std::string& why);
};

}  // namespace comet
