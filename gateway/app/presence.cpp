#include "gateway/app/presence.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <memory>

#include "gateway/http/access_control.hpp"
#include "gateway/util/wall_clock.hpp"

namespace comet {

Presence::Presence(boost::asio::io_context& io, PresenceConfig config, RedisClient& redis, Hub& hub,
                   const Logger& log)
    : io_(io),
      config_(std::move(config)),
      redis_(redis),
      hub_(hub),
      log_(log),
      book_(PresenceOptions{config_.grace.count()}),
      timer_(io) {}

Presence::~Presence() = default;

bool Presence::is_presence(std::string_view channel) const {
  return !config_.channels.empty() && matches_pattern(config_.channels, channel);
}

const HttpError* Presence::hold_refusal(std::span<const std::string> channels,
                                        std::string_view user) const {
  switch (book_.admits(channels, user)) {
    case PresenceBook::Refusal::none:
      return nullptr;
    case PresenceBook::Refusal::full:
      return &errors::presence_full;
    case PresenceBook::Refusal::user_full:
      return &errors::user_presence_full;
  }
  return nullptr;
}

void Presence::prepare(std::span<const std::string> channels, std::function<void(bool)> ready) {
  Waiting w;
  bool ok = true;
  for (const auto& c : channels) {
    if (!is_presence(c) || book_.members(c) != nullptr) continue;
    // A list read while the subscription is down would miss what follows.
    if (!redis_.up() || !read_list(c)) {
      ok = false;
      break;
    }
    w.channels.push_back(c);
  }
  if (!ok || w.channels.empty()) {
    boost::asio::post(io_, [life = life_.watch(), ready = std::move(ready), ok] {
      if (life.alive()) ready(ok);
    });
    return;
  }
  w.ready = std::move(ready);
  waiting_.push_back(std::move(w));
}

bool Presence::read_list(const std::string& channel) {
  const std::uint64_t ticket = book_.want_members(channel);
  if (ticket == 0) return true;  // being read
  const bool sent = redis_.presence_members(
      channel, [this, life = life_.watch(), channel, ticket](std::optional<PresenceSnapshot> s) {
        if (life.alive()) list_read(channel, ticket, std::move(s));
      });
  if (!sent) book_.members_read(channel, ticket, nullptr);
  return sent;
}

void Presence::list_read(const std::string& channel, std::uint64_t ticket,
                         std::optional<PresenceSnapshot> snapshot) {
  if (book_.members_read(channel, ticket, snapshot ? &*snapshot : nullptr) ||
      book_.members(channel) != nullptr) {
    settle();
    return;
  }
  // Not usable: a failed read fails those waiting for it; a read that
  // predates a loss of the subscription (or too many events) is sent again.
  if (!snapshot || !redis_.up() || !read_list(channel)) settle(channel);
}

void Presence::settle(const std::string& failed) {
  std::vector<std::function<void(bool)>> done_ok, done_failed;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    auto& chs = it->channels;
    if (!failed.empty() && std::find(chs.begin(), chs.end(), failed) != chs.end()) {
      done_failed.push_back(std::move(it->ready));
      it = waiting_.erase(it);
      continue;
    }
    std::erase_if(chs, [this](const std::string& c) { return book_.members(c) != nullptr; });
    if (chs.empty()) {
      done_ok.push_back(std::move(it->ready));
      it = waiting_.erase(it);
      continue;
    }
    ++it;
  }
  // From this stack (a Redis reply, already posted): each runs its poll.
  for (auto& f : done_ok) f(true);
  for (auto& f : done_failed) f(false);
}

void Presence::hold(std::string_view channel, std::string_view user, std::string_view info) {
  book_.begin(channel, user, info, wall_ms());
  schedule();
}

void Presence::release(std::string_view channel, std::string_view user) {
  book_.end(channel, user, wall_ms());
}

const PresenceMembers* Presence::members(std::string_view channel) const {
  return book_.members(channel);
}

void Presence::heard(std::string_view channel, const PresenceEvent& event) {
  // Every gateway numbers the stream alike: the event is a message of its
  // channel whether or not this gateway calls it a presence channel.
  hub_.receive_presence(channel, event, Clock::now());
  book_.apply(channel, event, wall_ms());
  schedule();
}

void Presence::link_lost() {
  book_.link_lost();
  // Reads in flight come back stale and are sent again (or fail).
}

void Presence::stop() {
  stopped_ = true;
  timer_.cancel();
  life_.renew();
  waiting_.clear();
}

void Presence::schedule() {
  if (stopped_) return;
  WallMs next = book_.next_refresh();
  const WallMs sweep = book_.next_sweep();
  if (next < 0 || (sweep >= 0 && sweep < next)) next = sweep;
  if (next < 0) return;
  if (timer_at_ && *timer_at_ <= next) return;
  timer_at_ = next;
  const auto delay = std::chrono::milliseconds(std::max<WallMs>(0, next - wall_ms()));
  timer_.expires_after(delay);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    timer_at_.reset();
    tick();
  });
}

void Presence::tick() {
  const WallMs now = wall_ms();
  const WallMs delay = config_.webhook_delay.count();
  const WallMs retry_at = now + config_.grace.count();
  for (auto& r : book_.refreshes_due(now)) {
    auto sent = std::make_shared<PresenceRefresh>(std::move(r));
    redis_.presence_refresh(*sent, now, delay,
                            [this, life = life_.watch(), sent, retry_at](auto o) {
                              if (!life.alive()) return;
                              if (o) book_.refreshed(*sent);
                              outcome(sent->channel, std::move(o), retry_at);
                            });
  }
  for (auto& channel : book_.sweeps_due(now)) {
    const bool sent = redis_.presence_sweep(
        channel, delay, [this, life = life_.watch(), channel, retry_at](auto o) {
          if (life.alive()) outcome(channel, std::move(o), retry_at);
        });
    if (!sent) book_.sweep_due(channel, retry_at);
  }
  schedule();
}

void Presence::outcome(const std::string& channel, std::optional<PresenceOutcome> o,
                       WallMs retry_at) {
  if (!o) {
    // Redis did not answer: sweep again later (a refresh is due again anyway).
    book_.heard_of(channel, retry_at - config_.grace.count());
    if (failures_++ % 100 == 0) {
      log_.log(LogLevel::warn, "presence",
               "a presence refresh or sweep of " + channel + " failed (1 in 100 logged)");
    }
    schedule();
    return;
  }
  book_.sweep_due(channel, o->due_in < 0 ? -1 : wall_ms() + o->due_in);
  for (const auto& change : o->changes) {
    log_.log(LogLevel::debug, "presence",
             change.name + " " + channel + (change.user.empty() ? "" : " " + change.user));
    if (sink_) sink_(channel, change);
  }
  schedule();
}

}  // namespace comet
