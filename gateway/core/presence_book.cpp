#include "gateway/core/presence_book.hpp"

#include <algorithm>

namespace comet {

PresenceBook::PresenceBook(PresenceOptions options) : options_(options) {}

void PresenceBook::begin(std::string_view channel, std::string_view user, std::string_view info,
                         WallMs now) {
  auto c = held_.find(channel);
  if (c == held_.end()) c = held_.emplace(std::string(channel), Channel{}).first;
  auto u = c->second.users.find(user);
  if (u == c->second.users.end()) {
    u = c->second.users.emplace(std::string(user), Hold{}).first;
    // A user new here is refreshed at once: its join should not wait.
    c->second.next_refresh = now;
  }
  ++u->second.active;
  u->second.info.assign(info);
}

void PresenceBook::end(std::string_view channel, std::string_view user, WallMs now) {
  auto c = held_.find(channel);
  if (c == held_.end()) return;
  auto u = c->second.users.find(user);
  if (u == c->second.users.end() || u->second.active == 0) return;
  if (--u->second.active == 0) u->second.last_end = now;
}

std::vector<PresenceRefresh> PresenceBook::refreshes_due(WallMs now) {
  std::vector<PresenceRefresh> out;
  const WallMs interval = std::max<WallMs>(1, options_.grace_ms / 3);
  for (auto c = held_.begin(); c != held_.end();) {
    Channel& ch = c->second;
    if (ch.next_refresh > now) {
      ++c;
      continue;
    }
    PresenceRefresh loud{c->first, false, {}};
    PresenceRefresh quiet{c->first, true, {}};
    for (auto u = ch.users.begin(); u != ch.users.end();) {
      Hold& h = u->second;
      const WallMs expiry = h.active > 0 ? now + options_.grace_ms : h.last_end + options_.grace_ms;
      if (h.active == 0 && expiry <= now) {
        // Its last refresh (within a third of the grace after its end)
        // carried this expiry already: Redis lets it go from here.
        u = ch.users.erase(u);
        continue;
      }
      (h.quiet ? quiet : loud).entries.push_back({u->first, expiry, h.info});
      ++u;
    }
    if (!quiet.entries.empty()) out.push_back(std::move(quiet));
    if (!loud.entries.empty()) out.push_back(std::move(loud));
    if (ch.users.empty()) {
      c = held_.erase(c);
      continue;
    }
    ch.next_refresh = now + interval;
    ++c;
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
  WallMs next = -1;
  for (const auto& [name, c] : held_) {
    if (next < 0 || c.next_refresh < next) next = c.next_refresh;
  }
  return next;
}

std::size_t PresenceBook::users_held() const {
  std::size_t n = 0;
  for (const auto& [name, c] : held_) n += c.users.size();
  return n;
}

void PresenceBook::sweep_due(std::string_view channel, WallMs due) {
  auto it = sweeps_.find(channel);
  if (due < 0) {
    if (it != sweeps_.end()) sweeps_.erase(it);
    return;
  }
  if (it != sweeps_.end()) {
    it->second = due;
  } else if (sweeps_.size() < options_.max_sweeps) {
    sweeps_.emplace(std::string(channel), due);
  }
}

void PresenceBook::heard_of(std::string_view channel, WallMs now) {
  const WallMs latest = now + options_.grace_ms;
  auto it = sweeps_.find(channel);
  if (it != sweeps_.end()) {
    it->second = std::min(it->second, latest);
  } else if (sweeps_.size() < options_.max_sweeps) {
    sweeps_.emplace(std::string(channel), latest);
  }
}

std::vector<std::string> PresenceBook::sweeps_due(WallMs now) {
  std::vector<std::string> out;
  for (auto it = sweeps_.begin(); it != sweeps_.end();) {
    if (it->second <= now) {
      out.push_back(it->first);
      it = sweeps_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

WallMs PresenceBook::next_sweep() const {
  WallMs next = -1;
  for (const auto& [name, due] : sweeps_) {
    if (next < 0 || due < next) next = due;
  }
  return next;
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
