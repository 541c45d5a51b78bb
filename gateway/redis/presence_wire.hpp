// comet_presence_v1's words (deploy/redis/comet_presence.lua), pure: the
// joins and leaves it PUBLISHes on "<prefix>#presence:<channel>", and the
// replies of its refresh, sweep and members functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/presence_book.hpp"
#include "gateway/core/presence_event.hpp"

struct redisReply;

namespace comet {

// "<version>:j:<user length>:<user><info>" or "<version>:l:<user length>:<user>".
std::optional<PresenceEvent> parse_presence_event(std::string_view payload);

// What a refresh or a sweep changed that the application hears of by
// webhook (channel_occupied, member_added, member_removed,
// channel_vacated; `user` empty for a channel's), and in how many ms the
// channel is next due a sweep (-1: nothing left to sweep).
struct PresenceOutcome {
  struct Change {
    std::string name;
    std::string user;
  };
  WallMs due_in = -1;
  std::vector<Change> changes;
};
std::optional<PresenceOutcome> parse_presence_outcome(const redisReply& reply);

// comet_presence_members_v1's reply: { version, user, info, ... }.
std::optional<PresenceSnapshot> parse_presence_members(const redisReply& reply);

}  // namespace comet
