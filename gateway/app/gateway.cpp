#include "gateway/app/gateway.hpp"

#include <cstdio>
#include <random>
#include <stdexcept>

#include "gateway/core/channel_name.hpp"
#include "gateway/http/http_response.hpp"
#include "gateway/util/address_range.hpp"
#include "gateway/util/log.hpp"
#include "gateway/util/wall_clock.hpp"

namespace comet {
namespace {

std::uint64_t random_epoch() {
  std::random_device rd;
  std::uint64_t e = 0;
  while (e == 0) e = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return e;
}

// A gateway's id among those sharing a Redis (its occupancy reports).
std::string random_id() {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(random_epoch()));
  return hex;
}

HubOptions seeded(HubOptions o) {
  o.seed = random_epoch();
  return o;
}

RedisClientOptions redis_options(const Config& c) {
  RedisClientOptions o;
  o.url = c.redis;
  o.prefix = c.prefix;
  o.heartbeat_interval = c.heartbeat_interval;
  return o;
}

}  // namespace

Gateway::Gateway(boost::asio::io_context& io, Config config, Logger& log)
    : io_(io),
      log_(log),
      config_(std::move(config)),
      hub_(seeded(config_.hub), random_epoch(), encoder_),
      access_(config_.token_secrets, config_.public_channels),
      publish_access_(config_.publish_secrets, config_.publish_allow),
      responder_(stats_, config_.cors_origins, log_),
      redis_(io, redis_options(config_),
             RedisClientCallbacks{
                 [this](std::string_view ch, std::string_view payload, const StreamId* id) {
                   on_redis_message(ch, payload, id);
                 },
                 [this] {
                   hub_.flush(Clock::now());
                   schedule_wakeup();
                 },
                 [this](bool resumed) { on_subscribed(resumed); },
                 [this] {
                   hub_.link_down();
                   presence_.link_lost();
                 },
                 [this] { placement_.resync(); }, [this](std::uint64_t id) { hub_.mark(id); },
                 [this](std::string_view ch, const PresenceEvent& e) { on_presence(ch, e); }},
             log_),
      placement_(io, *this, redis_, config_.stream_reads, config_.max_reads_per_poll),
      presence_(
          io,
          PresenceConfig{config_.presence_channels, config_.presence_grace, config_.webhook.delay},
          redis_, hub_, log_),
      occupancy_(io, random_id(), hub_, redis_),
      clients_(config_.clients),
      poll_(*this, placement_, access_, clients_, presence_, config_.poll),
      sse_(*this, placement_, access_, clients_, presence_, config_.poll, config_.sse_lifetime),
      publish_(*this, publish_access_, *this, config_.prefix, log_),
      channels_(*this, publish_access_, *this, config_.prefix),
      stats_endpoint_(*this, stats_, *this),
      router_(responder_, poll_, sse_, publish_, channels_, stats_endpoint_),
      server_(io, router_, config_.fcgi),
      wakeup_timer_(io),
      signals_(io) {
  if (!config_.webhook.urls.empty()) {
    webhooks_ = std::make_unique<WebhookSender>(io, config_.webhook, log_);
    // Each change is returned by Redis to the one gateway that caused it.
    presence_.set_change_sink(
        [this](const std::string& channel, const PresenceOutcome::Change& change) {
          using Kind = WebhookEvent::Kind;
          Kind kind;
          if (change.name == "channel_occupied") {
            kind = Kind::channel_occupied;
          } else if (change.name == "channel_vacated") {
            kind = Kind::channel_vacated;
          } else if (change.name == "member_added") {
            kind = Kind::member_added;
          } else if (change.name == "member_removed") {
            kind = Kind::member_removed;
          } else {
            return;
          }
          webhook(WebhookEvent{kind, channel, change.user});
        });
  }
}

Gateway::~Gateway() = default;

void Gateway::start() {
  // The signals first: a SIGTERM that comes once the socket accepts (a
  // service manager stopping it at once) is a clean shutdown, not the
  // default action's death.
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  // Connections the FastCGI server closes on its own (protocol errors,
  // timeouts, limits) are worth a line each.
  server_.set_log_sink([this](std::string_view text) { log_.log(LogLevel::warn, "fcgi", text); });
  // Requests fcgi/ answers itself (413, 503) count among the responses too.
  server_.set_reject_sink([this](int status) { stats_.count_response(status); });
  // fcgi/ words nothing itself: its 413s and 503s take the API's JSON error form.
  server_.set_reject_writer([this](const fcgi::Reject& r) { return responder_.reject(r); });
  fcgi::ListenOptions who;
  who.unix_mode = config_.listen_mode;
  who.unix_group = config_.listen_group;
  std::vector<AddressRange> peers;
  for (const auto& a : config_.listen_allow) peers.push_back(*AddressRange::parse(a));
  who.admit_peer = [peers = std::move(peers)](std::string_view address) {
    for (const auto& range : peers) {
      if (range.contains(address)) return true;
    }
    return false;
  };
  for (const auto& addr : config_.listen) {
    server_.listen(addr, who);
  }
  for (std::size_t i = 0; i < config_.listen.size(); ++i) {
    log_.log(LogLevel::info, "fcgi", "listening on " + server_.local_endpoint(i));
  }
  for (const auto& url : config_.webhook.urls) {
    log_.log(LogLevel::info, "webhook", "sending webhooks to " + url.text);
  }
  log_.log(LogLevel::info, "redis",
           "subscribing to " + config_.prefix + "* at " + config_.redis.redacted());
  redis_.start();
  occupancy_.start();
  wait_signal();
}

void Gateway::wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
      wait_signal();
      return;
    }
    log_.log(LogLevel::info, "main",
             std::string(sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": shutting down");
    shutdown();
  });
}

void Gateway::reload() {
  // Only the log level changes without a restart; parked requests are kept.
  try {
    std::vector<const char*> argv;
    for (const auto& a : config_.args) argv.push_back(a.c_str());
    const auto cl = parse_command_line(static_cast<int>(argv.size()), argv.data());
    log_.set_level(cl.config.log_level);
    config_.log_level = cl.config.log_level;
    log_.log(LogLevel::info, "main",
             "SIGHUP: configuration read again; log level applied, other settings apply at the "
             "next start");
  } catch (const std::exception& e) {
    log_.log(LogLevel::error, "main",
             std::string("SIGHUP: configuration not reloaded: ") + e.what());
  }
}

void Gateway::shutdown() {
  if (draining_) return;
  draining_ = true;
  const auto parked = hub_.parked();
  // Every parked poll gets a valid, empty answer with its cursor, so its
  // client resumes elsewhere (or after the restart) without loss.
  hub_.release_all();
  // Polls still reading their streams: answered unchanged.
  placement_.stop();
  redis_.cancel_syncs();  // polls waiting on a barrier: answered unchanged
  log_.log(LogLevel::info, "main", "answered " + std::to_string(parked) + " parked requests");
  wakeup_timer_.cancel();
  // The connections drain and the queued webhooks go out side by side,
  // each within the grace; the process stops when both are done.
  stopping_ = webhooks_ ? 2 : 1;
  const auto step_done = [this] {
    if (--stopping_ > 0) return;
    presence_.stop();
    occupancy_.stop();
    redis_.stop();
    signals_.cancel();
    log_.log(LogLevel::info, "main", "stopped");
    io_.stop();
  };
  server_.shutdown(config_.shutdown_grace, step_done);
  if (webhooks_) webhooks_->drain(config_.shutdown_grace, step_done);
}

void Gateway::on_redis_message(std::string_view channel, std::string_view payload,
                               const StreamId* id) {
  if (!is_valid_channel_name(channel)) {
    // Published by something else under our prefix: no client can name it.
    if (invalid_channel_messages_++ % 1000 == 0) {
      log_.log(LogLevel::warn, "redis",
               "ignoring a message on a channel name clients cannot use (1 in 1000 logged)");
    }
    return;
  }
  hub_.receive(channel, payload, Clock::now(), id);
}

void Gateway::on_presence(std::string_view channel, const PresenceEvent& event) {
  if (!is_valid_channel_name(channel)) {
    if (invalid_presence_events_++ % 1000 == 0) {
      log_.log(LogLevel::warn, "redis",
               "ignoring a presence event on a channel name clients cannot use (1 in 1000 "
               "logged)");
    }
    return;
  }
  presence_.heard(channel, event);
}

void Gateway::on_subscribed(bool resumed) {
  // Whatever was published before this subscription was confirmed is
  // unseen: plain channels name a gap to every cursor issued so far (the
  // first time too, for polls that came in before Redis answered), parked
  // ones in their next answer; durable ones read their streams from where
  // they were.
  if (resumed || hub_.parked() > 0) {
    log_.log(LogLevel::warn, "hub",
             "subscription (re)established: plain channels report a gap to cursors issued "
             "before it (" +
                 std::to_string(hub_.parked()) + " parked requests, in their next answer)");
  }
  hub_.link_up();
  hub_.gap_all(Clock::now());
  placement_.resync();
  schedule_wakeup();
}

void Gateway::schedule_wakeup() {
  const auto next = hub_.next_wakeup();
  if (!next || draining_) return;
  if (wakeup_at_ && *wakeup_at_ <= *next) return;
  wakeup_at_ = *next;
  wakeup_timer_.expires_at(*next);
  wakeup_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    wakeup_at_.reset();
    hub_.expire(Clock::now());
    schedule_wakeup();
  });
}

bool Gateway::publish(std::string_view channel, std::string_view payload, bool durable,
                      std::function<void(PublishResult)> done) {
  return redis_.publish(channel, payload, durable, std::move(done));
}

bool Gateway::channel_counts(std::string_view prefix,
                             std::function<void(std::optional<std::vector<ChannelCount>>)> done) {
  const auto wall = wall_ms();
  return redis_.occupancy_read(
      prefix, wall,
      [this, done = std::move(done)](std::optional<std::map<std::string, std::uint64_t>> sums) {
        if (!sums) {
          done(std::nullopt);
          return;
        }
        auto out = std::make_shared<std::vector<ChannelCount>>();
        std::vector<std::string> presence;
        for (const auto& [channel, clients] : *sums) {
          out->push_back({channel, clients, std::nullopt});
          if (presence_.is_presence(channel)) presence.push_back(channel);
        }
        if (presence.empty()) {
          done(std::move(*out));
          return;
        }
        redis_.presence_sizes(presence, [out, presence, done](auto sizes) {
          if (!sizes) {
            done(std::nullopt);
            return;
          }
          std::size_t j = 0;
          for (auto& c : *out) {
            if (j < presence.size() && c.channel == presence[j]) c.users = (*sizes)[j++];
          }
          done(std::move(*out));
        });
      });
}

Gauges Gateway::gauges() const {
  Gauges g;
  g.parked = hub_.parked();
  g.fcgi_connections = server_.connections();
  g.fcgi_refused_peers = server_.refused_peers();
  g.buffered_bytes = hub_.buffered_bytes();
  g.clients = clients_.clients();
  g.channels = hub_.channels();
  g.redis_up = redis_.up();
  g.stream_marks = hub_.stream_marks();
  g.presence_users = presence_.users_held();
  g.presence_lists = presence_.lists();
  g.redis_reconnects = redis_.reconnects();
  g.stream_reads = redis_.reads();
  g.stream_read_failures = redis_.read_failures();
  g.stream_reads_pending = placement_.reads_pending();
  g.stream_read_bytes = placement_.read_bytes();
  g.positions_refused = placement_.counters().refused;
  g.positions_unmatched = placement_.counters().unmatched;
  if (webhooks_) {
    const auto c = webhooks_->counters();
    g.webhook_events_sent = c.events_sent;
    g.webhook_batches_sent = c.batches_sent;
    g.webhook_failures = c.failures;
    g.webhook_events_dropped = c.dropped_queue_full + c.dropped_expired;
    g.webhook_events_queued = webhooks_->queued();
  }
  return g;
}

void Gateway::webhook(WebhookEvent e) {
  if (webhooks_) webhooks_->webhook(std::move(e));
}

}  // namespace comet
