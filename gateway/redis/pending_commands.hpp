// The commands in flight on one connection, sans-IO: ids, per-command
// deadlines (times passed in), and the rules of the link. Redis answers
// in order, so the oldest command is the first that can be late, and one
// command late means the link is taken down (it may be half-open): every
// command still in flight then fails.
//
// `Entry` is what the driver keeps per command (its completion); the
// table never calls it, so nothing runs inside the table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "gateway/core/clock.hpp"

namespace comet {

template <class Entry>
class PendingCommands {
 public:
  // A new command, answered by `deadline`. Ids are never reused.
  std::uint64_t add(Entry entry, Clock::time_point deadline) {
    const std::uint64_t id = ++next_id_;
    table_.emplace(id, Slot{std::move(entry), deadline});
    return id;
  }

  // Its reply came (or it was never sent after all): the entry, once;
  // nullopt for an id already taken or failed.
  std::optional<Entry> take(std::uint64_t id) {
    auto it = table_.find(id);
    if (it == table_.end()) return std::nullopt;
    Entry entry = std::move(it->second.entry);
    table_.erase(it);
    return entry;
  }

  // The entry of a command still in flight, to update it; nullptr when
  // it is not (answered or failed meanwhile).
  Entry* find(std::uint64_t id) {
    auto it = table_.find(id);
    return it == table_.end() ? nullptr : &it->second.entry;
  }

  // The oldest command in flight (the first that can be late).
  std::optional<std::uint64_t> oldest() const {
    if (table_.empty()) return std::nullopt;
    return table_.begin()->first;
  }

  // The ids of the commands whose entry matches, oldest first: a list, as
  // failing or re-routing them may change the table.
  template <class Pred>
  std::vector<std::uint64_t> ids_where(Pred pred) const {
    std::vector<std::uint64_t> out;
    for (const auto& [id, slot] : table_) {
      if (pred(slot.entry)) out.push_back(id);
    }
    return out;
  }

  // The link is lost: every entry, oldest first, and the table is empty
  // (so a completion that sends a new command finds a clean table).
  std::vector<Entry> take_all() {
    std::vector<Entry> out;
    out.reserve(table_.size());
    for (auto& [id, slot] : table_) out.push_back(std::move(slot.entry));
    table_.clear();
    return out;
  }

  // When the oldest command is due; nullopt with nothing in flight (no
  // timer needed).
  std::optional<Clock::time_point> next_deadline() const {
    if (table_.empty()) return std::nullopt;
    return table_.begin()->second.deadline;
  }

  // The oldest command is past its deadline at `now`: take the link down.
  bool timed_out(Clock::time_point now) const {
    return !table_.empty() && table_.begin()->second.deadline <= now;
  }

  void clear() { table_.clear(); }
  bool empty() const { return table_.empty(); }
  std::size_t size() const { return table_.size(); }

 private:
  struct Slot {
    Entry entry;
    Clock::time_point deadline;
  };
  // Ordered by id, so by the order sent.
  std::map<std::uint64_t, Slot> table_;
  std::uint64_t next_id_ = 0;
};

}  // namespace comet
