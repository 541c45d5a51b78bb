// Presence channels (--presence), the application's side: the PresenceBook
// (core/presence_book.hpp) driven by one timer and the Redis client's
// presence calls (deploy/redis/comet_presence.lua), the joins and leaves
// heard on the subscription fed to the Hub (as messages of their channel)
// and to the member lists, and what the endpoints see of it (PresenceDesk).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/hub.hpp"
#include "gateway/core/presence_book.hpp"
#include "gateway/http/presence_desk.hpp"
#include "gateway/redis/redis_client.hpp"
#include "gateway/util/lifetime.hpp"
#include "gateway/util/log.hpp"

namespace comet {

struct PresenceConfig {
  std::vector<std::string> channels;  // patterns: names, "prefix*"
  std::chrono::milliseconds grace{5000};
  // How long a member that left stays gone before member_removed (and the
  // channel before channel_vacated): a user back within it causes neither.
  std::chrono::milliseconds webhook_delay{3000};
};

class Presence final : public PresenceDesk {
 public:
  // What a refresh or sweep changed, for the application (webhooks):
  // `change.name` is channel_occupied, member_added, member_removed or
  // channel_vacated.
  using ChangeSink =
      std::function<void(const std::string& channel, const PresenceOutcome::Change& change)>;

  // `redis`, `hub` and `log` outlive it.
  Presence(boost::asio::io_context& io, PresenceConfig config, RedisClient& redis, Hub& hub,
           const Logger& log);
  ~Presence();

  void set_change_sink(ChangeSink sink) { sink_ = std::move(sink); }

  // PresenceDesk
  bool is_presence(std::string_view channel) const override;
  const HttpError* hold_refusal(std::span<const std::string> channels,
                                std::string_view user) const override;
  void prepare(std::span<const std::string> channels, std::function<void(bool ok)> ready) override;
  void hold(std::string_view channel, std::string_view user, std::string_view info) override;
  void release(std::string_view channel, std::string_view user) override;
  const PresenceMembers* members(std::string_view channel) const override;

  // A join or leave heard on the subscription, in order with the messages.
  void heard(std::string_view channel, const PresenceEvent& event);
  // The subscription was lost (the lists are forgotten).
  void link_lost();
  void stop();

  std::size_t users_held() const { return book_.users_held(); }
  std::size_t lists() const { return book_.lists(); }

 private:
  struct Waiting {
    std::vector<std::string> channels;  // lists not held yet
    std::function<void(bool)> ready;
  };
  // Sends the read of `channel`'s list if none is out; false if it cannot.
  bool read_list(const std::string& channel);
  void list_read(const std::string& channel, std::uint64_t ticket,
                 std::optional<PresenceSnapshot> snapshot);
  // Answers the waiting prepare()s that can be answered.
  void settle(const std::string& failed = {});
  void schedule();
  void tick();
  void outcome(const std::string& channel, std::optional<PresenceOutcome> o, WallMs retry_at);

  boost::asio::io_context& io_;
  PresenceConfig config_;
  RedisClient& redis_;
  Hub& hub_;
  const Logger& log_;
  PresenceBook book_;
  ChangeSink sink_;
  std::vector<Waiting> waiting_;
  boost::asio::steady_timer timer_;
  std::optional<WallMs> timer_at_;
  bool stopped_ = false;
  std::uint64_t failures_ = 0;
  Lifetime life_;  // Redis replies may come after it is gone
};

}  // namespace comet
