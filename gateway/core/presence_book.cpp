#include "gateway/core/presence_book.hpp"

#include <algorithm>

namespace comet {

PresenceBook::PresenceBook(PresenceOptions options) : options_(options) {}

void PresenceBook::begin(std::string_view channel, std::string_view user, std::string_view info,
                         WallMs now) {
  auto c = held_.find(channel);
  if (c == held_.end()) {
    c = held_.emplace(std::string(channel), Channel{}).first;
    c->second.next_refresh = now + std::max<WallMs>(1, options_.grace_ms / 3);
    refresh_due_.emplace(c->second.next_refresh, c->first);
  }
  auto u = c->second.users.find(user);
  if (u == c->second.users.end()) {
    u = c->second.users.emplace(std::string(user), Hold{}).first;
    ++holds_;
    auto pu = per_user_.find(user);
    if (pu == per_user_.end()) pu = per_user_.emplace(std::string(user), 0).first;
    ++pu->second;
    // A user new here is refreshed at once: its join should not wait.
    Channel& ch = c->second;
    ch.fresh.emplace_back(user);
    if (!ch.fresh_at) {
      ch.fresh_at = now;
      fresh_due_.emplace(now, c->first);
    }
  }
  ++u->second.active;
  u->second.info.assign(info);
}

PresenceBook::Refusal PresenceBook::admits(std::span<const std::string> channels,
                                           std::string_view user) const {
  std::size_t added = 0;
  for (const auto& channel : channels) {
    auto c = held_.find(channel);
    if (c == held_.end() || c->second.users.find(user) == c->second.users.end()) ++added;
  }
  if (added == 0) return Refusal::none;
  auto pu = per_user_.find(user);
  const std::size_t mine = pu == per_user_.end() ? 0 : pu->second;
  if (mine + added > options_.max_channels_per_user) return Refusal::user_full;
  if (holds_ + added > options_.max_holds) return Refusal::full;
  return Refusal::none;
}

void PresenceBook::end(std::string_view channel, std::string_view user, WallMs now) {
  auto c = held_.find(channel);
  if (c == held_.end()) return;
  auto u = c->second.users.find(user);
  if (u == c->second.users.end() || u->second.active == 0) return;
  if (--u->second.active == 0) u->second.last_end = now;
}

void PresenceBook::refresh_users(const std::string& name, Channel& ch,
                                 const std::vector<std::string>* users, WallMs now,
                                 std::vector<PresenceRefresh>& out) {
  PresenceRefresh loud{name, false, {}};
  PresenceRefresh quiet{name, true, {}};
  auto add = [&](const std::string& user, const Hold& h) {
    const WallMs expiry = h.active > 0 ? now + options_.grace_ms : h.last_end + options_.grace_ms;
    (h.quiet ? quiet : loud).entries.push_back({user, expiry, h.info});
  };
  if (users != nullptr) {
    for (const auto& user : *users) {
      auto u = ch.users.find(user);
      if (u != ch.users.end()) add(u->first, u->second);
    }
  } else {
    for (auto u = ch.users.begin(); u != ch.users.end();) {
      const Hold& h = u->second;
      if (h.active == 0 && h.last_end + options_.grace_ms <= now) {
        // Its last refresh (within a third of the grace after its end)
        // carried this expiry already: Redis lets it go from here.
        --holds_;
        auto pu = per_user_.find(u->first);
        if (--pu->second == 0) per_user_.erase(pu);
        u = ch.users.erase(u);
        continue;
      }
      add(u->first, h);
      ++u;
    }
  }
  if (!quiet.entries.empty()) out.push_back(std::move(quiet));
  if (!loud.entries.empty()) out.push_back(std::move(loud));
}

std::vector<PresenceRefresh> PresenceBook::refreshes_due(WallMs now) {
  std::vector<PresenceRefresh> out;
  const WallMs interval = std::max<WallMs>(1, options_.grace_ms / 3);
  while (!refresh_due_.empty() && refresh_due_.begin()->first <= now) {
    const std::string name = refresh_due_.begin()->second;
    refresh_due_.erase(refresh_due_.begin());
    auto c = held_.find(name);
    Channel& ch = c->second;
    // Every user: the fresh ones with them.
    if (ch.fresh_at) fresh_due_.erase({*ch.fresh_at, name});
    ch.fresh.clear();
    ch.fresh_at.reset();
    refresh_users(name, ch, nullptr, now, out);
    if (ch.users.empty()) {
      held_.erase(c);
      continue;
    }
    ch.next_refresh = now + interval;
    refresh_due_.emplace(ch.next_refresh, name);
  }
  while (!fresh_due_.empty() && fresh_due_.begin()->first <= now) {
    const std::string name = fresh_due_.begin()->second;
    fresh_due_.erase(fresh_due_.begin());
    Channel& ch = held_.find(name)->second;
    refresh_users(name, ch, &ch.fresh, now, out);
    ch.fresh.clear();
    ch.fresh_at.reset();
  }
  return out;
}

void PresenceBook::refreshed(const PresenceRefresh& r) {
  if (!r.quiet) return;
  auto c = held_.find(r.channel);
  if (c == held_.end()) return;
  for (const auto& e : r.entries) {
    auto u = c->second.users.find(e.user);
    if (u != c->second.users.end()) u->second.quiet = false;
  }
}

WallMs PresenceBook::next_refresh() const {
  WallMs next = refresh_due_.empty() ? -1 : refresh_due_.begin()->first;
  if (!fresh_due_.empty() && (next < 0 || fresh_due_.begin()->first < next)) {
    next = fresh_due_.begin()->first;
  }
  return next;
}

std::size_t PresenceBook::users_held() const {
  return holds_;
}

void PresenceBook::sweep_due(std::string_view channel, WallMs due) {
  auto it = sweeps_.find(channel);
  if (it != sweeps_.end()) {
    sweep_due_.erase({it->second, it->first});
    if (due < 0) {
      sweeps_.erase(it);
      return;
    }
    it->second = due;
    sweep_due_.emplace(due, it->first);
  } else if (due >= 0 && sweeps_.size() < options_.max_sweeps) {
    sweeps_.emplace(std::string(channel), due);
    sweep_due_.emplace(due, std::string(channel));
  }
}

void PresenceBook::heard_of(std::string_view channel, WallMs now) {
  const WallMs latest = now + options_.grace_ms;
  auto it = sweeps_.find(channel);
  if (it == sweeps_.end() || it->second > latest) sweep_due(channel, latest);
}

std::vector<std::string> PresenceBook::sweeps_due(WallMs now) {
  std::vector<std::string> out;
  while (!sweep_due_.empty() && sweep_due_.begin()->first <= now) {
    out.push_back(sweep_due_.begin()->second);
    sweep_due_.erase(sweep_due_.begin());
    sweeps_.erase(sweeps_.find(out.back()));
  }
  return out;
}

WallMs PresenceBook::next_sweep() const {
  return sweep_due_.empty() ? -1 : sweep_due_.begin()->first;
}

std::uint64_t PresenceBook::want_members(std::string_view channel) {
  if (lists_.find(channel) != lists_.end()) return 0;
  List l;
  l.ticket = ++tickets_;
  lists_.emplace(std::string(channel), std::move(l));
  return tickets_;
}

bool PresenceBook::members_read(std::string_view channel, std::uint64_t ticket,
                                const PresenceSnapshot* snapshot) {
  auto it = lists_.find(channel);
  if (it == lists_.end() || it->second.ready || it->second.ticket != ticket) return false;
  List& l = it->second;
  if (snapshot == nullptr || l.overflow) {
    lists_.erase(it);
    return false;
  }
  l.members = snapshot->members;
  l.version = snapshot->version;
  // Events that came before the read's answer: those after its version
  // are newer than the list read.
  auto pending = std::move(l.pending);
  l.pending.clear();
  for (const auto& e : pending) apply_to(l, e);
  l.ready = true;
  return true;
}

void PresenceBook::apply_to(List& l, const PresenceEvent& e) {
  if (e.version <= l.version) return;
  l.version = e.version;
  if (e.kind == PresenceEvent::Kind::join) {
    l.members[e.user] = e.info;
  } else {
    auto m = l.members.find(e.user);
    if (m != l.members.end()) l.members.erase(m);
  }
}

void PresenceBook::apply(std::string_view channel, const PresenceEvent& e, WallMs now) {
  heard_of(channel, now);
  auto it = lists_.find(channel);
  if (it == lists_.end()) return;
  List& l = it->second;
  if (l.ready) {
    apply_to(l, e);
  } else if (l.pending.size() < options_.max_pending_events) {
    l.pending.push_back(e);
  } else {
    l.overflow = true;
  }
}

const PresenceMembers* PresenceBook::members(std::string_view channel) const {
  auto it = lists_.find(channel);
  if (it == lists_.end() || !it->second.ready) return nullptr;
  return &it->second.members;
}

void PresenceBook::link_lost() {
  lists_.clear();
  for (auto& [name, c] : held_) {
    for (auto& [user, h] : c.users) h.quiet = true;
  }
}

}  // namespace comet
