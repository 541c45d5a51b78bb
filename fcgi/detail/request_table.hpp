// The requests of one connection by id. Web servers never multiplex (nginx
// always uses id 1, one request per connection at a time), so the first
// request is kept inline, in the connection itself; only a multiplexing
// peer's further requests go to a hash map. A connection parked by nginx
// then costs no map node and no bucket array.
//
// Slot must be default-constructible and move-assignable: the inline slot is
// always constructed, and holds a default Slot while unused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>

namespace fcgi::detail {

template <class Slot>
class RequestTable {
 public:
  Slot* find(std::uint16_t id) {
    if (has_first_ && first_id_ == id) return &first_;
    if (rest_.empty()) return nullptr;
    auto it = rest_.find(id);
    return it == rest_.end() ? nullptr : &it->second;
  }
  bool contains(std::uint16_t id) { return find(id) != nullptr; }

  // Adds `id`, which must not be present. References to the other slots
  // stay valid (so do they across erase of another id).
  Slot& insert(std::uint16_t id, Slot&& slot) {
    if (!has_first_) {
      first_id_ = id;
      has_first_ = true;
      first_ = std::move(slot);
      return first_;
    }
    return rest_.emplace(id, std::move(slot)).first->second;
  }
  // Adds `id`, which must not be present, with a default Slot: the inline
  // slot already holds one, so nothing is built or moved.
  Slot& emplace(std::uint16_t id) {
    if (!has_first_) {
      first_id_ = id;
      has_first_ = true;
      return first_;
    }
    return rest_.try_emplace(id).first->second;
  }
  // False when `id` was not present.
  bool erase(std::uint16_t id) {
    if (has_first_ && first_id_ == id) {
      reset_first();
      return true;
    }
    return rest_.erase(id) != 0;
  }

  std::size_t size() const { return (has_first_ ? 1 : 0) + rest_.size(); }
  bool empty() const { return !has_first_ && rest_.empty(); }

  // f(id, slot) for every request; f must not insert or erase.
  template <class F>
  void for_each(F&& f) {
    if (has_first_) f(first_id_, first_);
    for (auto& [id, slot] : rest_) f(id, slot);
  }
  void clear() {
    if (has_first_) reset_first();
    rest_.clear();
  }

 private:
  void reset_first() {
    // What the slot owns goes now, as the request ends.
    first_ = Slot();
    has_first_ = false;
  }

  // Not a std::optional: its flag would take a word of its own after the
  // slot. Here the id and the flag go in the slot's tail padding, if it has
  // some (a connection's slot does: it ends in flags).
  [[no_unique_address]] Slot first_{};
  std::uint16_t first_id_ = 0;
  bool has_first_ = false;
  std::unordered_map<std::uint16_t, Slot> rest_;
};

}  // namespace fcgi::detail
