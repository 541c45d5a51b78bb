#include "gateway/redis/redis_client.hpp"

#include <hiredis/hiredis.h>

#include "gateway/redis/commands.hpp"
#include "gateway/redis/detail/redis_client_impl.hpp"
#include "gateway/redis/host_port.hpp"
#include "gateway/redis/keys.hpp"
#include "gateway/redis/presence_wire.hpp"
#include "gateway/redis/redis_library.hpp"
#include "gateway/redis/reply.hpp"

namespace comet {

RedisClient::Impl::Impl(boost::asio::io_context& io, RedisClientOptions options,
                        RedisClientCallbacks callbacks, const Logger& log)
    : io_(io),
      log_(log),
      opt_(std::move(options)),
      cb_(std::move(callbacks)),
      url_text_(opt_.url.redacted()),
      pattern_(subscription_pattern(opt_.prefix)),
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
    for (const auto lib : kRedisLibraries) co.libraries.emplace_back(lib);
    cluster_ = std::make_unique<ClusterCommands>(io_, std::move(co), log_);
  }
  if (opt_.url.sentinel()) {
    sub_lookup_.sentinel =
        std::make_unique<detail::SentinelLookup>(io_, opt_.url, opt_.connect_timeout, log_);
    cmd_lookup_.sentinel =
        std::make_unique<detail::SentinelLookup>(io_, opt_.url, opt_.connect_timeout, log_);
    // The next sentinel after a pause: the watch is a shortcut (the
    // heartbeat and ROLE catch a stale master too), so no hurry.
    watch_ = std::make_unique<detail::FailoverWatch>(
        io_, opt_.url, opt_.connect_timeout, opt_.backoff_max,
        [this](const std::string& text) { on_failover(text); }, log_);
  }
}

LinkHandshake RedisClient::Impl::handshake(int db) const {
  LinkHandshake::Options o;
  o.auth = auth_command(opt_.url.username, opt_.url.password);
  // An address from the sentinels must still be the master's.
  o.require_master = opt_.url.sentinel();
  o.db = db;
  return LinkHandshake(std::move(o));
}

Backoff::Random RedisClient::Impl::random_source() {
  return [this](std::uint64_t bound) {
    return std::uniform_int_distribution<std::uint64_t>(0, bound)(rng_);
  };
}

void RedisClient::Impl::start() {
  if (running_) return;
  running_ = true;
  if (cluster_) cluster_->start();
  connect_sub();
  connect_cmd();
  if (watch_) watch_->start();
}

void RedisClient::Impl::resolve(Lookup& lk, std::function<void(const RedisUrl&)> found,
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

void RedisClient::Impl::stop_lookup(Lookup& lk) {
  if (lk.sentinel) lk.sentinel->stop();
}

void RedisClient::Impl::on_failover(const std::string& text) {
  log_line(LogLevel::warn, "sentinel: failover of master " + opt_.url.master_name + " (" + text +
                               "); reconnecting to the new master");
  // Connections still on the old master are moved; one already
  // resolving or waiting will ask the sentinels afresh anyway.
  if (cmd_) cmd_retry("failover announced by a sentinel");
  if (sub_ && state_ != State::waiting) sub_retry("failover announced by a sentinel");
}

void RedisClient::Impl::halt() {
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

void RedisClient::Impl::stop() {
  bool was_running = running_;
  halt();
  if (was_running) log_line(LogLevel::info, "stopped");
}

void RedisClient::Impl::connect_sub() {
  state_ = State::connecting;
  resolve(
      sub_lookup_, [this](const RedisUrl& url) { connect_sub_to(url); },
      [this](const std::string& why) { sub_retry(why); });
}

void RedisClient::Impl::connect_sub_to(const RedisUrl& url) {
  sub_addr_ = url.unix_path.empty() ? host_port(url.host, url.port) : url.unix_path;
  detail::HiredisAsio::Events ev;
  ev.on_connected = [this] { sub_handshake(); };
  ev.on_connect_failed = [this](const std::string& why) {
    sub_retry("connect to " + url_text_ + " (" + sub_addr_ + ") failed (" + why + ")");
  };
  ev.on_disconnected = [this](const std::string& why) { sub_retry(why); };
  ev.on_read_done = [this] { sub_read_done(); };
  sub_ = std::make_unique<detail::HiredisAsio>(io_, std::move(ev), log_);
  sub_->connect(url, opt_.connect_timeout);
}

void RedisClient::Impl::sub_handshake() {
  state_ = State::handshaking;
  // The watchdog covers the handshake too: a server that accepts the TCP
  // connection but never answers is as dead as a silent subscription.
  liveness_.heard(Clock::now());
  arm_watchdog();
  // No SELECT here: pub/sub channels are shared by all databases, so the
  // db of the URL does not matter to the subscription.
  LinkHandshake hs = handshake(0);
  // Its run_id: marks of gateways subscribed to the same server place
  // each other's cursors (subscription_demux.hpp).
  hs.identify();
  sub_handshake_.emplace(std::move(hs));
  run_handshake(
      *sub_, *sub_handshake_, sub_handshake_->start(),
      [this] {
        demux_.set_server(sub_handshake_->server_id());
        send_psubscribe();
      },
      [this](const std::string& why) { sub_retry(why); });
}

void RedisClient::Impl::send_psubscribe() {
  bool sent =
      sub_->command({"PSUBSCRIBE", pattern_}, [this](const redisReply& r) { on_sub_reply(r); });
  if (!sent) sub_retry("cannot send PSUBSCRIBE");
}

void RedisClient::Impl::on_sub_reply(const redisReply& r) {
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
      case SubscriptionDemux::Kind::mark:
        if (cb_.on_mark) cb_.on_mark(ev.mark);
        return;
      case SubscriptionDemux::Kind::presence:
        if (auto e = parse_presence_event(ev.payload)) {
          ++burst_;
          if (cb_.on_presence) cb_.on_presence(ev.channel, *e);
        } else if (bad_presence_events_++ % 1000 == 0) {
          log_line(LogLevel::warn, "ignoring a malformed presence event (1 in 1000 logged)");
        }
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

bool RedisClient::Impl::sync(std::function<void(bool)> done) {
  if (state_ != State::up || !cmd_ready_ || !cmd_) return false;
  if (syncs_.add(std::move(done))) send_sync_marker();
  return true;
}

void RedisClient::Impl::send_sync_marker() {
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

void RedisClient::Impl::finish(std::vector<SyncBarrier::Waiter> done) {
  if (done.empty()) return;
  cancel(sync_timer_);
  for (auto& d : done) post_bool(std::move(d), true);
  if (syncs_.next_waiting()) send_sync_marker();
}

void RedisClient::Impl::finish_syncs(bool ok) {
  cancel(sync_timer_);
  for (auto& d : syncs_.take_all()) post_bool(std::move(d), ok);
}

void RedisClient::Impl::post_bool(std::function<void(bool)> done, bool ok) {
  boost::asio::post(io_, [life = life_.watch(), done = std::move(done), ok] {
    if (life.alive()) done(ok);
  });
}

void RedisClient::Impl::unpaired_notice() {
  if ((demux_.notices_dropped() - 1) % 1000 == 0) {
    log_line(LogLevel::warn, "a durable notice without its message (1 in 1000 logged)");
  }
}

void RedisClient::Impl::on_subscribed() {
  bool resumed = ever_up_;
  state_ = State::up;
  ever_up_ = true;
  sub_backoff_.up(Clock::now());
  if (resumed) {
    ++reconnects_;
    auto down = std::chrono::duration_cast<milliseconds>(Clock::now() - down_since_);
    log_line(LogLevel::info, "subscription to " + pattern_ + " on " + url_text_ + " (" + sub_addr_ +
                                 ") resumed after " + std::to_string(down.count()) + " ms down");
  } else {
    log_line(LogLevel::info,
             "subscribed to " + pattern_ + " on " + url_text_ + " (" + sub_addr_ + ")");
  }
  if (sub_handshake_ && sub_handshake_->server_id().empty() && !unnamed_server_logged_) {
    unnamed_server_logged_ = true;
    log_line(LogLevel::warn,
             "INFO server was refused or named no run_id: this gateway marks no stream "
             "positions, so its cursors are placed by itself only");
  }
  if (cb_.on_subscribed) cb_.on_subscribed(resumed);
  // A mark at once, so that cursors are stream positions from the start.
  publish_mark();
}

void RedisClient::Impl::publish_mark() {
  const std::string payload = demux_.mark_payload(rng_());
  if (payload.empty() || !cmd_ready_ || !cmd_) return;
  cmd_->command({"PUBLISH", heartbeat_channel_, payload}, [](const redisReply&) {});
}

void RedisClient::Impl::sub_read_done() {
  liveness_.heard(Clock::now());
  if (burst_ == 0) return;
  burst_ = 0;
  if (cb_.on_burst_end) cb_.on_burst_end();
}

void RedisClient::Impl::arm_watchdog() {
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

void RedisClient::Impl::sub_retry(const std::string& why) {
  bool was_up = state_ == State::up;
  sub_.reset();
  stop_lookup(sub_lookup_);
  cancel(watchdog_);
  burst_ = 0;
  demux_.reset();
  finish_syncs(false);
  state_ = State::waiting;
  if (was_up) sub_backoff_.lost(Clock::now(), opt_.stable_link);
  milliseconds delay = sub_backoff_.next();
  std::string in = "; reconnecting in " + std::to_string(delay.count()) + " ms";
  if (was_up) {
    down_since_ = Clock::now();
    log_line(LogLevel::warn, "subscription lost (" + why + ")" + in);
  } else {
    log_line(LogLevel::warn, why + in);
  }
  arm(sub_retry_, delay, [this] { connect_sub(); });
  // Last: the owner may call stop() from here.
  if (was_up && cb_.on_down) cb_.on_down();
}

RedisClient::RedisClient(boost::asio::io_context& io, RedisClientOptions options,
                         RedisClientCallbacks callbacks, const Logger& log)
    : impl_(std::make_unique<Impl>(io, std::move(options), std::move(callbacks), log)) {}

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
bool RedisClient::presence_refresh(const PresenceRefresh& refresh, WallMs now, WallMs delay_ms,
                                   std::function<void(std::optional<PresenceOutcome>)> done) {
  // Durations, not times: Redis keeps its own clock (TIME), so the
  // gateways' clocks need not agree.
  std::vector<std::string> args{std::to_string(delay_ms), refresh.quiet ? "1" : "0"};
  args.reserve(2 + 3 * refresh.entries.size());
  for (const auto& e : refresh.entries) {
    args.push_back(e.user);
    args.push_back(std::to_string(std::max<WallMs>(0, e.expiry - now)));
    args.push_back(e.info);
  }
  return impl_->presence_call<PresenceOutcome>("comet_presence_refresh_v1", refresh.channel,
                                               std::move(args), &parse_presence_outcome,
                                               std::move(done));
}
bool RedisClient::presence_sweep(std::string_view channel, WallMs delay_ms,
                                 std::function<void(std::optional<PresenceOutcome>)> done) {
  return impl_->presence_call<PresenceOutcome>("comet_presence_sweep_v1", channel,
                                               {std::to_string(delay_ms)}, &parse_presence_outcome,
                                               std::move(done));
}
bool RedisClient::presence_members(std::string_view channel,
                                   std::function<void(std::optional<PresenceSnapshot>)> done) {
  return impl_->presence_call<PresenceSnapshot>("comet_presence_members_v1", channel, {},
                                                &parse_presence_members, std::move(done));
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
