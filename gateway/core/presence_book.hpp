// Presence, this gateway's side of it, sans-IO (time is passed in, as
// milliseconds of the wall clock, which Redis's expiries are in):
// - the users it holds on each presence channel (a request there now, or
//   one that ended less than the grace ago), and the refreshes that keep
//   them members in Redis, batched per channel every grace / 3;
// - when each channel it knows of is next due a sweep (the Redis side
//   says, in every refresh and sweep reply);
// - the member list of each channel its clients asked for, read once from
//   Redis and kept up to date by the joins and leaves heard in the stream.
// Membership itself lives in Redis (deploy/redis/comet_presence.lua), so
// that every gateway sees the same members.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/presence_event.hpp"

namespace comet {

using WallMs = std::int64_t;

struct PresenceOptions {
  // A user stays a member this long after its last request ended.
  WallMs grace_ms = 5000;
  // Joins and leaves kept for a list still being read, per channel; past it
  // the list is read again.
  std::size_t max_pending_events = 10000;
  // Channels whose sweeps are scheduled, at most.
  std::size_t max_sweeps = 100000;
  // (channel, user) pairs held, in all and per user: each costs Redis a
  // member and a refresh, and a request answered at once holds its user
  // for a grace without being parked, so parking limits do not bound them.
  std::size_t max_holds = 100000;
  std::size_t max_channels_per_user = 64;
};

// The members of one channel: user -> info (a JSON object's text, or empty).
using PresenceMembers = std::map<std::string, std::string, std::less<>>;

// One refresh to send: these users of `channel` are members until at least
// their expiry. `quiet`: they were held before Redis was lost, so their
// joins (if Redis forgot them) are not new to the application.
struct PresenceRefresh {
  struct Entry {
    std::string user;
    WallMs expiry = 0;
    std::string info;
  };
  std::string channel;
  bool quiet = false;
  std::vector<Entry> entries;
};

// A member list read from Redis: the members and the version of the last
// join or leave they include.
struct PresenceSnapshot {
  std::uint64_t version = 0;
  PresenceMembers members;
};

class PresenceBook {
 public:
  explicit PresenceBook(PresenceOptions options = {});

  // ---- Users held here ----
  // Why `user` may not begin on `channels` now, if it may not.
  enum class Refusal { none, full, user_full };
  Refusal admits(std::span<const std::string> channels, std::string_view user) const;
  // A request of `user` on `channel` began / ended.
  void begin(std::string_view channel, std::string_view user, std::string_view info, WallMs now);
  void end(std::string_view channel, std::string_view user, WallMs now);
  // The refreshes due at `now`: every user of a channel every third of the
  // grace, and a channel's new users at once (on their own), and forgets
  // users whose grace has passed.
  std::vector<PresenceRefresh> refreshes_due(WallMs now);
  // Redis answered `r`: its users are no longer quiet (a quiet refresh that
  // fails is sent quiet again).
  void refreshed(const PresenceRefresh& r);
  // The earliest time refreshes_due() has something to do, or -1.
  WallMs next_refresh() const;
  std::size_t users_held() const;

  // ---- Sweeps ----
  // Redis said `channel` has nothing to sweep before `due` (-1: nothing at
  // all, so no sweep until something is heard of it again).
  void sweep_due(std::string_view channel, WallMs due);
  // A join or leave was heard on `channel`: its sweep is due at the latest
  // a grace from now.
  void heard_of(std::string_view channel, WallMs now);
  // Channels due a sweep at `now`, taken off the schedule (the sweep's reply
  // puts them back with sweep_due).
  std::vector<std::string> sweeps_due(WallMs now);
  WallMs next_sweep() const;

  // ---- Member lists ----
  // Whether the list of `channel` must be read now: a ticket for the read
  // the first time (the list is then being read), 0 while it is read or
  // once it is.
  std::uint64_t want_members(std::string_view channel);
  // The read of `ticket` answered (nullptr: it failed, so the list is
  // forgotten and want_members() gives a ticket again). False when the
  // list is not usable: the read failed, too many events came meanwhile,
  // or the list was forgotten since (link_lost: the read may predate a hole).
  bool members_read(std::string_view channel, std::uint64_t ticket,
                    const PresenceSnapshot* snapshot);
  // A join or leave heard in the stream (in order). Applied to the list if
  // it is held, kept for it if it is being read; otherwise only noted.
  void apply(std::string_view channel, const PresenceEvent& e, WallMs now);
  // The list of `channel`, when it has been read; nullptr otherwise.
  const PresenceMembers* members(std::string_view channel) const;
  // The subscription was lost: joins and leaves went unheard, so every list
  // is forgotten (read again when asked for); the users held are marked
  // quiet for their next refresh.
  void link_lost();
  std::size_t lists() const { return lists_.size(); }

 private:
  struct Hold {
    unsigned active = 0;
    WallMs last_end = 0;
    std::string info;
    bool quiet = false;
  };
  struct Channel {
    std::map<std::string, Hold, std::less<>> users;
    WallMs next_refresh = 0;  // every user's
    // Users new since the last refresh, refreshed on their own at once (a
    // join costs Redis the new users, not the channel's every member).
    std::vector<std::string> fresh;
    std::optional<WallMs> fresh_at;  // when they are due (in fresh_due_)
  };
  // The refresh of `users` of `ch` at `now` (split into quiet and loud),
  // appended to `out`; with `users` null, of every user, forgetting those
  // whose grace has passed.
  void refresh_users(const std::string& name, Channel& ch, const std::vector<std::string>* users,
                     WallMs now, std::vector<PresenceRefresh>& out);
  // (time, channel): what is due first is found without a scan.
  using Due = std::set<std::pair<WallMs, std::string>, std::less<>>;
  struct List {
    bool ready = false;
    bool overflow = false;
    std::uint64_t ticket = 0;
    std::uint64_t version = 0;
    PresenceMembers members;
    std::vector<PresenceEvent> pending;  // while being read
  };
  static void apply_to(List& l, const PresenceEvent& e);

  PresenceOptions options_;
  std::map<std::string, Channel, std::less<>> held_;
  std::size_t holds_ = 0;                                     // pairs in held_
  std::map<std::string, std::size_t, std::less<>> per_user_;  // user -> channels held
  Due refresh_due_;  // (next_refresh, channel) of every held_ channel
  Due fresh_due_;    // (fresh_at, channel) of channels with fresh users
  std::map<std::string, WallMs, std::less<>> sweeps_;
  Due sweep_due_;  // (due, channel) of every sweeps_ entry
  std::map<std::string, List, std::less<>> lists_;
  std::uint64_t tickets_ = 0;
};

}  // namespace comet
