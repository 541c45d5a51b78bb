// The requests of one connection by id. Web servers never multiplex (nginx
// always uses id 1, one request per connection at a time), so the first
// request is kept inline, in the connection itself; only a multiplexing
// peer's further requests go to a hash map. A connection parked by nginx
// then costs no map node and no bucket array.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>

namespace fcgi::detail {

template <class Slot>
class RequestTable {
 public:
  Slot* find(std::uint16_t id) {
    if (first_ && first_id_ == id) return &*first_;
    if (rest_.empty()) return nullptr;
    auto it = rest_.find(id);
    return it == rest_.end() ? nullptr : &it->second;
  }
  bool contains(std::uint16_t id) { return find(id) != nullptr; }

  // Adds `id`, which must not be present. References to the other slots
  // stay valid (so do they across erase of another id).
  Slot& insert(std::uint16_t id, Slot&& slot) {
    if (!first_) {
      first_id_ = id;
      return first_.emplace(std::move(slot));
    }
    return rest_.emplace(id, std::move(slot)).first->second;
  }
  // False when `id` was not present.
  bool erase(std::uint16_t id) {
    if (first_ && first_id_ == id) {
      first_.reset();
      return true;
    }
    return rest_.erase(id) != 0;
  }

  std::size_t size() const { return (first_ ? 1 : 0) + rest_.size(); }
  bool empty() const { return !first_ && rest_.empty(); }

  // f(id, slot) for every request; f must not insert or erase.
  template <class F>
  void for_each(F&& f) {
    if (first_) f(first_id_, *first_);
    for (auto& [id, slot] : rest_) f(id, slot);
  }
  void clear() {
    first_.reset();
    rest_.clear();
  }

 private:
  std::optional<Slot> first_;
  std::uint16_t first_id_ = 0;
  std::unordered_map<std::uint16_t, Slot> rest_;
};

}  // namespace fcgi::detail
