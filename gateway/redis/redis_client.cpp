#include "gateway/redis/redis_client.hpp"

#include "gateway/redis/backoff.hpp"
#include "gateway/redis/command_replies.hpp"
#include "gateway/redis/commands.hpp"
#include "gateway/redis/host_port.hpp"
#include "gateway/redis/keys.hpp"
#include "gateway/redis/link_handshake.hpp"
#include "gateway/redis/liveness.hpp"
#include "gateway/redis/pending_commands.hpp"
#include "gateway/redis/reply.hpp"
#include "gateway/redis/subscription_demux.hpp"
#include "gateway/redis/sync_barrier.hpp"

#include "gateway/util/log.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <ctime>
#include <random>

#include "gateway/core/clock.hpp"
#include "gateway/redis/cluster_commands.hpp"
#include "gateway/redis/detail/failover_watch.hpp"
#include "gateway/redis/detail/guarded_timer.hpp"
#include "gateway/redis/detail/hiredis_asio.hpp"
#include "gateway/redis/detail/sentinel_lookup.hpp"
#include "gateway/redis/redis_library.hpp"

namespace comet {
namespace {

using std::chrono::milliseconds;

// The internal channels (subscription_demux.hpp says what each is for).
constexpr std::string_view kHeartbeatSuffix = SubscriptionDemux::kHeartbeat;
constexpr std::string_view kDurableNotice = SubscriptionDemux::kDurableNotice;
constexpr std::string_view kSyncPrefix = SubscriptionDemux::kSyncPrefix;

void log_line(const char* level, std::string_view text) {
  log(parse_log_level(level), "redis", text);
}

}  // namespace

struct RedisClient::Impl {
  using Timer = detail::GuardedTimer;

  enum class State { idle, connecting, handshaking, up, waiting };

  Impl(boost::asio::io_context& io, RedisClientOptions options, RedisClientCallbacks callbacks)
      : io_(io),
        opt_(std::move(options)),
        cb_(std::move(callbacks)),
        url_text_(opt_.url.redacted()),
        pattern_(opt_.prefix + "*"),
        heartbeat_channel_(opt_.prefix + std::string(kHeartbeatSuffix)),
        rng_(std::random_device{}()),
        sync_suffix_(std::string(kSyncPrefix) + std::to_string(rng_())),
        sync_channel_(opt_.prefix + sync_suffix_),
        sub_backoff_(opt_.backoff_min, opt_.backoff_max, Backoff::Jitter::full, random_source()),
        sub_retry_(io),
        watchdog_(io),
        liveness_(opt_.heartbeat_interval),
        demux_(opt_.prefix, sync_suffix_),
        cmd_backoff_(opt_.backoff_min, opt_.backoff_max, Backoff::Jitter::full, random_source()),
        cmd_retry_(io),
        heartbeat_(io),
        sync_timer_(io),
        command_timer_(io) {
    if (opt_.heartbeat_interval <= milliseconds(0)) opt_.heartbeat_interval = milliseconds(1000);
    liveness_ = Liveness(opt_.heartbeat_interval);
    if (opt_.url.cluster()) {
      ClusterCommandsOptions co;
      co.seeds = opt_.url.cluster_nodes;
      co.username = opt_.url.username;
      co.password = opt_.url.password;
      co.connect_timeout = opt_.connect_timeout;
      co.timeout = opt_.read_timeout;
      co.library = std::string(kRedisLibrary);
      cluster_ = std::make_unique<ClusterCommands>(io_, std::move(co));
    }
    if (opt_.url.sentinel()) {
      sub_lookup_.sentinel =
          std::make_unique<detail::SentinelLookup>(io_, opt_.url, opt_.connect_timeout);
      cmd_lookup_.sentinel =
          std::make_unique<detail::SentinelLookup>(io_, opt_.url, opt_.connect_timeout);
      // The next sentinel after a pause: the watch is a shortcut (the
      // heartbeat and ROLE catch a stale master too), so no hurry.
      watch_ = std::make_unique<detail::FailoverWatch>(
          io_, opt_.url, opt_.connect_timeout, opt_.backoff_max,
          [this](const std::string& text) { on_failover(text); });
    }
  }

  ~Impl() { halt(); }

  boost::asio::io_context& io_;
  RedisClientOptions opt_;
  RedisClientCallbacks cb_;
  const std::string url_text_;  // redacted: the only form that is logged
  const std::string pattern_;
  const std::string heartbeat_channel_;
  // Timer handlers hold a weak_ptr to this: they may be queued after the
  // Impl is gone (a cancel cannot recall a completion already queued).
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
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
  // timeout, the connection lost); it runs inside a hiredis callback or
  // from fail_commands, so it only takes what it needs and posts the rest.
  using OnReply = std::function<void(const redisReply*)>;
  PendingCommands<OnReply> commands_;
  SyncBarrier syncs_;  // sync()'s waiters and their marker
  Timer sync_timer_;
  std::uint64_t reads_total_ = 0;
  std::uint64_t read_failures_ = 0;
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
    timer.arm(after, life_, std::move(f));
  }
  static void cancel(Timer& timer) { timer.cancel(); }

  // Each connection's handshake; `db`: SELECT it (0: none).
  LinkHandshake handshake(int db) const {
    LinkHandshake::Options o;
    o.auth = auth_command(opt_.url.username, opt_.url.password);
    // An address from the sentinels must still be the master's.
    o.require_master = opt_.url.sentinel();
    o.db = db;
    return LinkHandshake(std::move(o));
  }

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
  Backoff::Random random_source() {
    return [this](std::uint64_t bound) {
      return std::uniform_int_distribution<std::uint64_t>(0, bound)(rng_);
    };
  }

  void start() {
    if (running_) return;
    running_ = true;
    if (cluster_) cluster_->start();
    connect_sub();
    connect_cmd();
    if (watch_) watch_->start();
  }

  // Calls `found` with the URL to connect to: the --redis one, or for a
  // sentinel URL the master that a sentinel names now; `failed` when no
  // sentinel could name it. Either runs from a fresh stack (or, for a plain
  // URL, right away).
  void resolve(Lookup& lk, std::function<void(const RedisUrl&)> found,
               std::function<void(const std::string&)> failed) {
    if (opt_.url.cluster()) {
      // Each attempt the next node: one that is down is passed over. The
      // nodes of the URL, then the masters the slot map names.
      std::vector<RedisHostPort> nodes = opt_.url.cluster_nodes;
      for (const auto& m : cluster_->master_nodes()) {
        if (std::find(nodes.begin(), nodes.end(), m) == nodes.end()) nodes.push_back(m);
      }
      const RedisHostPort at = nodes[lk.next_node++ % nodes.size()];
      RedisUrl url = opt_.url;
      url.host = at.host;
      url.port = at.port;
      found(url);
      return;
    }
    if (!opt_.url.sentinel()) {
      found(opt_.url);
      return;
    }
    lk.sentinel->resolve(std::move(found), std::move(failed));
  }

  static void stop_lookup(Lookup& lk) {
    if (lk.sentinel) lk.sentinel->stop();
  }

  // "+switch-master <name> <old ip> <old port> <new ip> <new port>"
  void on_failover(const std::string& text) {
    log_line("warn", "sentinel: failover of master " + opt_.url.master_name + " (" + text +
                         "); reconnecting to the new master");
    // Connections still on the old master are moved; one already
    // resolving or waiting will ask the sentinels afresh anyway.
    if (cmd_) cmd_retry("failover announced by a sentinel");
    if (sub_ && state_ != State::waiting) sub_retry("failover announced by a sentinel");
  }

  // Tears everything down without a word to the owner.
  void halt() {
    running_ = false;
    cancel(sub_retry_);
    cancel(watchdog_);
    cancel(cmd_retry_);
    cancel(heartbeat_);
    cancel(command_timer_);
    stop_lookup(sub_lookup_);
    stop_lookup(cmd_lookup_);
    // Stopped, not destroyed: halt() may run inside one of its handlers.
    if (watch_) watch_->stop();
    if (cluster_) cluster_->stop();
    sub_.reset();  // frees the context: its handlers and events are dropped
    cmd_.reset();
    cmd_ready_ = false;
    state_ = State::idle;
    burst_ = 0;
    demux_.reset();
    commands_.clear();  // stop(): nothing runs afterwards
    cancel(sync_timer_);
    syncs_.take_all();
  }

  void stop() {
    bool was_running = running_;
    halt();
    if (was_running) log_line("info", "stopped");
  }

  // ---- subscription ----------------------------------------------------

  void connect_sub() {
    state_ = State::connecting;
    resolve(
        sub_lookup_, [this](const RedisUrl& url) { connect_sub_to(url); },
        [this](const std::string& why) { sub_retry(why); });
  }

  void connect_sub_to(const RedisUrl& url) {
    sub_addr_ = url.unix_path.empty() ? host_port(url.host, url.port) : url.unix_path;
    detail::HiredisAsio::Events ev;
    ev.on_connected = [this] { sub_handshake(); };
    ev.on_connect_failed = [this](const std::string& why) {
      sub_retry("connect to " + url_text_ + " (" + sub_addr_ + ") failed (" + why + ")");
    };
    ev.on_disconnected = [this](const std::string& why) { sub_retry(why); };
    ev.on_read_done = [this] { sub_read_done(); };
    sub_ = std::make_unique<detail::HiredisAsio>(io_, std::move(ev));
    sub_->connect(url, opt_.connect_timeout);
  }

  void sub_handshake() {
    state_ = State::handshaking;
    // The watchdog covers the handshake too: a server that accepts the TCP
    // connection but never answers is as dead as a silent subscription.
    liveness_.heard(Clock::now());
    arm_watchdog();
    // No SELECT here: pub/sub channels are shared by all databases, so the
    // db of the URL does not matter to the subscription.
    sub_handshake_.emplace(handshake(0));
    run_handshake(
        *sub_, *sub_handshake_, sub_handshake_->start(), [this] { send_psubscribe(); },
        [this](const std::string& why) { sub_retry(why); });
  }

  void send_psubscribe() {
    bool sent =
        sub_->command({"PSUBSCRIBE", pattern_}, [this](const redisReply& r) { on_sub_reply(r); });
    if (!sent) sub_retry("cannot send PSUBSCRIBE");
  }

  void on_sub_reply(const redisReply& r) {
    if (r.type == REDIS_REPLY_ERROR) {  // e.g. an ACL without &<pattern> rights
      sub_retry("PSUBSCRIBE refused (" + std::string(reply_text(r)) + ")");
      return;
    }
    if (r.type != REDIS_REPLY_ARRAY || r.elements < 3) return;
    std::string_view kind = reply_text(*r.element[0]);
    if (kind == "pmessage" && r.elements >= 4) {
      const auto ev = demux_.on_message(reply_text(*r.element[2]), reply_text(*r.element[3]));
      switch (ev.kind) {
        case SubscriptionDemux::Kind::own_sync:
          on_sync_marker(ev.payload);
          return;
        case SubscriptionDemux::Kind::durable_notice:
          if (ev.notice_dropped) unpaired_notice();
          return;
        case SubscriptionDemux::Kind::message:
          ++burst_;
          if (cb_.on_message) cb_.on_message(ev.channel, ev.payload, ev.id ? &*ev.id : nullptr);
          return;
        default:
          // Heartbeats (and any internal "#..." channel) only prove
          // liveness, which sub_read_done has already noted.
          return;
      }
    } else if (kind == "psubscribe") {
      on_subscribed();
    }
  }

  bool sync(std::function<void(bool)> done) {
    if (state_ != State::up || !cmd_ready_ || !cmd_) return false;
    if (syncs_.add(std::move(done))) send_sync_marker();
    return true;
  }

  void send_sync_marker() {
    const std::uint64_t marker = syncs_.start_marker();
    const std::string n = std::to_string(marker);
    std::size_t copies =
        cluster_ ? cluster_->broadcast({"PUBLISH", sync_channel_, n},
                                       [this, marker] { finish(syncs_.on_copy_lost(marker)); })
                 : 0;
    if (copies == 0 && cmd_ && cmd_ready_ &&  // one server (or a cluster not mapped yet)
        cmd_->command({"PUBLISH", sync_channel_, n}, [](const redisReply&) {})) {
      copies = 1;
    }
    if (copies == 0) {
      finish_syncs(false);
      return;
    }
    syncs_.expect(copies);
    arm(sync_timer_, opt_.read_timeout, [this] { finish_syncs(false); });
  }

  void on_sync_marker(std::string_view payload) { finish(syncs_.on_marker(payload)); }

  // Barriers whose marker came back (all copies of it).
  void finish(std::vector<SyncBarrier::Waiter> done) {
    if (done.empty()) return;
    cancel(sync_timer_);
    for (auto& d : done) post_bool(std::move(d), true);
    if (syncs_.next_waiting()) send_sync_marker();
  }

  void finish_syncs(bool ok) {
    cancel(sync_timer_);
    for (auto& d : syncs_.take_all()) post_bool(std::move(d), ok);
  }

  void post_bool(std::function<void(bool)> done, bool ok) {
    boost::asio::post(io_, [life = std::weak_ptr<int>(life_), done = std::move(done), ok] {
      if (!life.expired()) done(ok);
    });
  }

  void unpaired_notice() {
    if ((demux_.notices_dropped() - 1) % 1000 == 0) {
      log_line("warn", "a durable notice without its message (1 in 1000 logged)");
    }
  }

  void on_subscribed() {
    bool resumed = ever_up_;
    state_ = State::up;
    ever_up_ = true;
    sub_backoff_.reset();
    if (resumed) {
      ++reconnects_;
      auto down = std::chrono::duration_cast<milliseconds>(Clock::now() - down_since_);
      log_line("info", "subscription to " + pattern_ + " on " + url_text_ + " (" + sub_addr_ +
                           ") resumed after " + std::to_string(down.count()) + " ms down");
    } else {
      log_line("info", "subscribed to " + pattern_ + " on " + url_text_ + " (" + sub_addr_ + ")");
    }
    if (cb_.on_subscribed) cb_.on_subscribed(resumed);
  }

  // Any bytes read count as liveness, even a part of a large message.
  void sub_read_done() {
    liveness_.heard(Clock::now());
    if (burst_ == 0) return;
    burst_ = 0;
    if (cb_.on_burst_end) cb_.on_burst_end();
  }

  // Rather than re-arming a timer per message, the timer fires at the
  // earliest moment the silence could be long enough and checks.
  void arm_watchdog() {
    auto due = liveness_.deadline() - Clock::now();
    arm(watchdog_, std::max(milliseconds(1), std::chrono::ceil<milliseconds>(due)), [this] {
      auto silent = liveness_.dead(Clock::now());
      if (!silent) {
        arm_watchdog();
        return;
      }
      sub_retry("nothing heard for " +
                std::to_string(std::chrono::duration_cast<milliseconds>(*silent).count()) +
                " ms, not even a heartbeat");
    });
  }

  // The subscription (or the attempt at one) is over: drop it and schedule
  // the next attempt. Safe from any of the connection's own handlers.
  void sub_retry(const std::string& why) {
    bool was_up = state_ == State::up;
    sub_.reset();
    stop_lookup(sub_lookup_);
    cancel(watchdog_);
    burst_ = 0;
    demux_.reset();
    finish_syncs(false);
    state_ = State::waiting;
    milliseconds delay = sub_backoff_.next();
    std::string in = "; reconnecting in " + std::to_string(delay.count()) + " ms";
    if (was_up) {
      down_since_ = Clock::now();
      log_line("warn", "subscription lost (" + why + ")" + in);
    } else {
      log_line("warn", why + in);
    }
    arm(sub_retry_, delay, [this] { connect_sub(); });
    // Last: the owner may call stop() from here.
    if (was_up && cb_.on_down) cb_.on_down();
  }

  // ---- commands and heartbeat --------------------------------------------

  void connect_cmd() {
    cmd_ready_ = false;
    resolve(
        cmd_lookup_, [this](const RedisUrl& url) { connect_cmd_to(url); },
        [this](const std::string& why) { cmd_retry("command connection: " + why); });
  }

  void connect_cmd_to(const RedisUrl& url) {
    cmd_addr_ = url.unix_path.empty() ? host_port(url.host, url.port) : url.unix_path;
    detail::HiredisAsio::Events ev;
    ev.on_connected = [this] { cmd_handshake(); };
    ev.on_connect_failed = [this](const std::string& why) {
      cmd_retry("command connection to " + url_text_ + " (" + cmd_addr_ + ") failed (" + why + ")");
    };
    ev.on_disconnected = [this](const std::string& why) {
      cmd_retry("command connection lost (" + why + ")");
    };
    cmd_ = std::make_unique<detail::HiredisAsio>(io_, std::move(ev));
    cmd_->connect(url, opt_.connect_timeout);
  }

  // The command connection does select the db: durable reads will use it.
  void cmd_handshake() {
    cmd_handshake_.emplace(handshake(opt_.url.db));
    run_handshake(
        *cmd_, *cmd_handshake_, cmd_handshake_->start(), [this] { cmd_up(); },
        [this](const std::string& why) { cmd_retry("command connection: " + why); });
  }

  void cmd_up() {
    cmd_ready_ = true;
    cmd_backoff_.reset();
    heartbeats_unanswered_ = 0;
    // Before any read: commands run in order, so reads sent from here on
    // find the functions (unless the load fails: Redis before 7). In a
    // cluster this node may be a replica; the functions are loaded on
    // every master by cluster_.
    if (!cluster_) load_library();
    send_heartbeat();
    if (cb_.on_command_ready) cb_.on_command_ready();
  }

  // FUNCTION LOAD of deploy/redis/comet.lua when missing: the library name
  // carries its version, so "already exists" means it is there as needed.
  void load_library() {
    if (!cmd_ready_) return;
    cmd_->command(function_load_command(kRedisLibrary), [this](const redisReply& r) {
      if (r.type != REDIS_REPLY_ERROR) {
        log_line("info",
                 "loaded the durable-channel functions (" + std::string(reply_text(r)) + ")");
      } else if (!library_already_loaded(reply_text(r))) {
        log_line("error", "cannot load the durable-channel functions (" +
                              std::string(reply_text(r)) +
                              "): durable channels need Redis 7; their gaps are reported");
      }
    });
  }

  bool read_stream(std::string_view channel, StreamId after, std::size_t count,
                   std::function<void(std::optional<StreamRead>)> done) {
    const std::string key = stream_key(opt_.prefix, channel);
    const std::string from = after.text();
    const std::string n = std::to_string(count);
    bool sent =
        send_command(key, {"FCALL_RO", "comet_read_v1", "1", key, from, n},
                     [this, after, count, done = std::move(done)](const redisReply* r) mutable {
                       std::optional<StreamRead> result;
                       if (r != nullptr) result = parse_stream_read(*r, after, count);
                       if (!result) {
                         note_read_failure(r);
                         // A Redis that restarted without persistence lost the functions
                         // (in a cluster, ClusterCommands loads them again itself).
                         if (!cluster_ && r != nullptr && r->type == REDIS_REPLY_ERROR &&
                             function_missing(reply_text(*r))) {
                           load_library();
                         }
                       }
                       finish_read(std::move(done), std::move(result));
                     });
    if (sent) ++reads_total_;
    return sent;
  }

  // PUBLISH, or with `durable` comet_publish_v1 (as Comet::publishDurable).
  bool publish(std::string_view channel, std::string_view payload, bool durable,
               std::function<void(PublishResult)> done) {
    const std::string key = opt_.prefix + std::string(channel);
    std::vector<std::string> args;
    std::string route;  // the key that picks a cluster node (none: any node)
    if (durable) {
      route = stream_key(opt_.prefix, channel);
      args = {"FCALL",
              "comet_publish_v1",
              "1",
              route,
              key,
              opt_.prefix + std::string(kDurableNotice) + std::string(channel),
              std::string(payload),
              std::to_string(opt_.stream_max_len),
              std::to_string(opt_.stream_ttl_seconds)};
    } else {
      args = {"PUBLISH", key, std::string(payload)};
    }
    return send_command(
        route, std::move(args), [this, durable, done = std::move(done)](const redisReply* r) {
          PublishResult result = parse_publish(r, durable);
          if (!cluster_ && r != nullptr && r->type == REDIS_REPLY_ERROR &&
              function_missing(result.error)) {
            load_library();
          }
          boost::asio::post(io_, [life = std::weak_ptr<int>(life_), done = std::move(done),
                                  result = std::move(result)]() mutable {
            if (!life.expired()) done(std::move(result));
          });
        });
  }

  // Sends a command on the command connection, or in a cluster with a
  // `route` key to the master of its slot. False (and `on_reply` never
  // runs) when the command connection is not ready.
  bool send_command(std::string_view route, std::vector<std::string> args,
                    std::function<void(const redisReply*)> on_reply) {
    if (!cmd_ready_ || !cmd_) return false;
    if (cluster_ && !route.empty()) {
      cluster_->send(route, std::move(args), std::move(on_reply));
      return true;
    }
    const std::uint64_t id = commands_.add(std::move(on_reply), Clock::now() + opt_.read_timeout);
    bool sent = cmd_->command(args, [this, id](const redisReply& r) { on_command_reply(id, r); });
    if (!sent) {
      commands_.take(id);  // never sent: its `on_reply` must not run
      return false;
    }
    if (commands_.size() == 1) arm_command_timer();
    return true;
  }

  void on_command_reply(std::uint64_t id, const redisReply& r) {
    auto on_reply = commands_.take(id);
    if (!on_reply) return;
    (*on_reply)(&r);
    arm_command_timer();
  }

  // `r`: the reply that was not a read's answer, nullptr for none at all.
  void note_read_failure(const redisReply* r) {
    if (read_failures_++ % 100 != 0) return;
    std::string why = r == nullptr                   ? "no answer"
                      : r->type == REDIS_REPLY_ERROR ? std::string(reply_text(*r))
                                                     : "unexpected reply";
    log_line("warn", "stream read failed (" + why + "; 1 in 100 logged)");
  }

  // From a fresh stack: the caller may be inside a hiredis callback, and
  // `done` may do anything (answer requests, send more reads).
  void finish_read(std::function<void(std::optional<StreamRead>)> done,
                   std::optional<StreamRead> result) {
    boost::asio::post(io_, [life = std::weak_ptr<int>(life_), done = std::move(done),
                            result = std::move(result)]() mutable {
      if (!life.expired()) done(std::move(result));
    });
  }

  void fail_commands() {
    auto pending = commands_.take_all();
    cancel(command_timer_);
    for (auto& on_reply : pending) on_reply(nullptr);
  }

  // Replies come in order: the oldest read is the first to be late.
  void arm_command_timer() {
    const auto deadline = commands_.next_deadline();
    if (!deadline) {
      cancel(command_timer_);
      return;
    }
    auto due = *deadline - Clock::now();
    arm(command_timer_, std::max(milliseconds(1), std::chrono::ceil<milliseconds>(due)), [this] {
      if (commands_.empty()) return;
      if (!commands_.timed_out(Clock::now())) {
        arm_command_timer();
        return;
      }
      cmd_retry("a command went unanswered for " + std::to_string(opt_.read_timeout.count()) +
                " ms");
    });
  }

  void send_heartbeat() {
    if (!cmd_ready_) return;
    // The command connection can go half-open too; its heartbeats going
    // unanswered is how that shows.
    if (heartbeats_unanswered_ >= Liveness::kSilentIntervals) {
      cmd_retry("command connection silent: " + std::to_string(heartbeats_unanswered_) +
                " heartbeats unanswered");
      return;
    }
    ++heartbeats_unanswered_;
    bool sent = cmd_->command({"PUBLISH", heartbeat_channel_, ""}, [this](const redisReply& r) {
      heartbeats_unanswered_ = 0;
      if (r.type == REDIS_REPLY_ERROR && !cmd_publish_refused_logged_) {
        cmd_publish_refused_logged_ = true;
        log_line("error", "heartbeat PUBLISH refused (" + std::string(reply_text(r)) +
                              "); the subscription will be taken for dead");
      }
    });
    if (!sent) {
      cmd_retry("command connection: cannot send PUBLISH");
      return;
    }
    arm(heartbeat_, opt_.heartbeat_interval, [this] { send_heartbeat(); });
  }

  void cmd_retry(const std::string& why) {
    cmd_.reset();
    stop_lookup(cmd_lookup_);
    cmd_ready_ = false;
    cancel(heartbeat_);
    fail_commands();
    finish_syncs(false);
    milliseconds delay = cmd_backoff_.next();
    log_line("warn", why + "; reconnecting in " + std::to_string(delay.count()) + " ms");
    arm(cmd_retry_, delay, [this] { connect_cmd(); });
  }
};

RedisClient::RedisClient(boost::asio::io_context& io, RedisClientOptions options,
                         RedisClientCallbacks callbacks)
    : impl_(std::make_unique<Impl>(io, std::move(options), std::move(callbacks))) {}

RedisClient::~RedisClient() = default;

void RedisClient::start() {
  impl_->start();
}
void RedisClient::stop() {
  impl_->stop();
}
bool RedisClient::up() const {
  return impl_->state_ == Impl::State::up;
}
std::uint64_t RedisClient::reconnects() const {
  return impl_->reconnects_;
}
bool RedisClient::read_stream(std::string_view channel, StreamId after, std::size_t count,
                              std::function<void(std::optional<StreamRead>)> done) {
  return impl_->read_stream(channel, after, count, std::move(done));
}
bool RedisClient::publish(std::string_view channel, std::string_view payload, bool durable,
                          std::function<void(PublishResult)> done) {
  return impl_->publish(channel, payload, durable, std::move(done));
}
bool RedisClient::sync(std::function<void(bool)> done) {
  return impl_->sync(std::move(done));
}
void RedisClient::cancel_syncs() {
  impl_->finish_syncs(false);
}
std::uint64_t RedisClient::reads() const {
  return impl_->reads_total_;
}
std::uint64_t RedisClient::read_failures() const {
  return impl_->read_failures_;
}

}  // namespace comet
