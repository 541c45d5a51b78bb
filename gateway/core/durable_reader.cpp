#include "gateway/core/durable_reader.hpp"

namespace comet {

DurableReader::DurableReader(DurableReaderOptions options, Send send)
    : options_(options), send_(std::move(send)) {
  if (options_.max_in_flight == 0) options_.max_in_flight = 1;
  if (options_.count == 0) options_.count = 1;
  if (options_.max_reads == 0) options_.max_reads = 1;
}

bool DurableReader::has_room() const {
  return entries_.size() < options_.max_reads &&
         bytes() + reserve() <= std::max(options_.max_bytes, reserve());
}

bool DurableReader::pending(const ReadNeed& need) const {
  return entries_.count(Key{need.channel, need.from}) > 0;
}

bool DurableReader::read(const ReadNeed& need, Done done, Clock::time_point now) {
  Key key{need.channel, need.from};
  if (auto it = entries_.find(key); it != entries_.end()) {
    it->second.waiters.push_back(std::move(done));
    return true;
  }
  if (!has_room()) return false;
  entries_.emplace(key, Entry{++next_id_, {std::move(done)}, false, now + options_.wait_for_redis});
  queue_.push_back(std::move(key));
  // In order: a read asked for now does not overtake one that waits.
  if (queue_.size() == 1) pump();
  return true;
}

bool DurableReader::send(const Key& key) {
  Entry& e = entries_.at(key);
  const std::uint64_t id = e.id;
  bool ok = send_(ReadNeed{key.first, key.second}, options_.count,
                  [this, key, id](Result result) { complete(key, id, result); });
  if (!ok) return false;
  // Looked up again: a Send that answered at once would be a contract
  // breach, but must not leave a dangling reference behind.
  if (auto it = entries_.find(key); it != entries_.end() && it->second.id == id) {
    it->second.sent = true;
    ++in_flight_;
  }
  return true;
}

void DurableReader::complete(const Key& key, std::uint64_t id, const Result& result) {
  auto it = entries_.find(key);
  // Failed by fail_all() (and maybe asked again since: that is another read).
  if (it == entries_.end() || it->second.id != id) return;
  std::vector<Done> waiters = std::move(it->second.waiters);
  if (it->second.sent) --in_flight_;
  entries_.erase(it);
  pump();  // before the waiters: they may ask for more
  for (Done& d : waiters) d(result);
}

void DurableReader::pump() {
  while (in_flight_ < options_.max_in_flight && !queue_.empty()) {
    auto it = entries_.find(queue_.front());
    if (it == entries_.end() || it->second.sent) {
      queue_.pop_front();
      continue;
    }
    // Refused: Redis cannot take reads now; everything waits (resume()).
    if (!send(queue_.front())) return;
    queue_.pop_front();
  }
}

void DurableReader::resume() {
  pump();
}

void DurableReader::fail(std::map<Key, Entry>::iterator it) {
  std::vector<Done> waiters = std::move(it->second.waiters);
  entries_.erase(it);
  for (Done& d : waiters) d(std::nullopt);
}

void DurableReader::expire(Clock::time_point now) {
  pump();
  while (!queue_.empty()) {
    auto it = entries_.find(queue_.front());
    if (it != entries_.end() && !it->second.sent && it->second.deadline > now) break;
    queue_.pop_front();
    if (it != entries_.end() && !it->second.sent) fail(it);
  }
}

std::optional<Clock::time_point> DurableReader::next_expiry() const {
  for (const Key& k : queue_) {
    auto it = entries_.find(k);
    if (it != entries_.end() && !it->second.sent) return it->second.deadline;
  }
  return std::nullopt;
}

void DurableReader::fail_all() {
  auto entries = std::move(entries_);
  entries_.clear();
  queue_.clear();
  in_flight_ = 0;
  for (auto& [key, e] : entries) {
    for (Done& d : e.waiters) d(std::nullopt);
  }
}

}  // namespace comet
