#include "gateway/redis/sync_barrier.hpp"

#include <string>
#include <utility>

namespace comet {

bool SyncBarrier::add(Waiter waiter) {
  next_.push_back(std::move(waiter));
  return out_.empty();
}

std::uint64_t SyncBarrier::start_marker() {
  out_ = std::move(next_);
  next_.clear();
  copies_left_ = 0;
  return ++marker_;
}

std::vector<SyncBarrier::Waiter> SyncBarrier::on_marker(std::string_view payload) {
  if (out_.empty() || payload != std::to_string(marker_)) return {};
  return copy_came();
}

std::vector<SyncBarrier::Waiter> SyncBarrier::on_copy_lost(std::uint64_t marker) {
  if (out_.empty() || marker != marker_) return {};
  return copy_came();
}

std::vector<SyncBarrier::Waiter> SyncBarrier::copy_came() {
  if (copies_left_ == 0 || --copies_left_ > 0) return {};
  auto done = std::move(out_);
  out_.clear();
  return done;
}

std::vector<SyncBarrier::Waiter> SyncBarrier::take_all() {
  auto all = std::move(out_);
  out_.clear();
  for (auto& w : next_) all.push_back(std::move(w));
  next_.clear();
  copies_left_ = 0;
  return all;
}

}  // namespace comet
