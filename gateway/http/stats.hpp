// Counters and the delivery-latency histogram, rendered in the Prometheus
// text exposition format (docs/API.md fixes the metric names).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "gateway/core/hub.hpp"

namespace comet {

class LatencyHistogram {
 public:
  // Upper bounds in seconds; the +Inf bucket is implied.
  static constexpr std::array<double, 12> bounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,   0.25,   0.5,   1.0,  2.5,   10.0};
  // `weight` observations of the same value (sampled deliveries).
  void observe(double seconds, std::uint64_t weight = 1);
  void render(std::string& out, const char* name, const char* help) const;
  std::uint64_t count() const { return count_; }

 private:
  std::array<std::uint64_t, bounds.size()> buckets_{};  // non-cumulative
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

// What the Stats do not count themselves: read from their owners at render.
struct Gauges {
  std::size_t parked = 0;
  std::size_t fcgi_connections = 0;
  std::uint64_t fcgi_refused_peers = 0;  // TCP peers outside --listen-allow
  std::size_t buffered_bytes = 0;        // Hub::buffered_bytes
  std::size_t clients = 0;               // ClientBudget::clients
  std::size_t channels = 0;
  bool redis_up = false;
  std::size_t stream_marks = 0;
  std::size_t presence_users = 0;  // users held on presence channels
  std::size_t presence_lists = 0;  // member lists kept
  std::uint64_t redis_reconnects = 0;
  std::uint64_t stream_reads = 0;  // durable channels' stream reads sent
  std::uint64_t stream_read_failures = 0;
  std::size_t stream_reads_pending = 0;  // in flight and queued
  std::size_t stream_read_bytes = 0;     // reserved by them, and answers held
  // Durable positions answered with a gap and no read, by PositionRefusal;
  // and those naming no channel of their poll.
  std::array<std::uint64_t, kPositionRefusals> positions_refused{};
  std::uint64_t positions_unmatched = 0;
  // Webhooks (WebhookSender), summed over the URLs; 0 without --webhook.
  std::uint64_t webhook_events_sent = 0;  // in acknowledged batches
  std::uint64_t webhook_batches_sent = 0;
  std::uint64_t webhook_failures = 0;        // failed POST attempts
  std::uint64_t webhook_events_dropped = 0;  // queue full, retry-for passed, shutdown
  std::size_t webhook_events_queued = 0;
};

class Stats {
 public:
  void count_response(int status) { ++responses_[status]; }
  // Returns how many refusals for `reason` there have been, this one included.
  std::uint64_t count_refusal(std::string_view reason) {
    auto it = refusals_.find(reason);
    if (it == refusals_.end()) it = refusals_.emplace(std::string(reason), 0).first;
    return ++it->second;
  }
  LatencyHistogram& delivery_latency() { return delivery_latency_; }
  std::string render(const Gauges& gauges, const HubCounters& hub) const;

 private:
  std::map<int, std::uint64_t> responses_;
  std::map<std::string, std::uint64_t, std::less<>> refusals_;  // by budget
  LatencyHistogram delivery_latency_;
};

}  // namespace comet
