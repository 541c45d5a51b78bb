// GET .../channels[?prefix=P]: the channels that have clients, summed over
// every gateway sharing the Redis (occupancy reports), with their members
// for presence channels; for the site's back end, admitted like publish.
//   {"channels":{"lobby.1":{"clients":3,"users":2},"news":{"clients":5}}}
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fcgi/request.hpp"
#include "gateway/http/delivery.hpp"
#include "gateway/http/publish_access.hpp"
#include "gateway/http/query.hpp"

namespace comet {

struct ChannelCount {
  std::string channel;
  std::uint64_t clients = 0;
  std::optional<std::uint64_t> users;  // presence channels only
};

// The counts, from Redis: what the endpoint sees of the application.
class ChannelCounts {
 public:
  // Channels whose name starts with `prefix`, sorted by name. `done` runs
  // once, from a fresh stack, nullopt when Redis did not answer; false (and
  // `done` never runs) when Redis cannot be asked now.
  virtual bool channel_counts(
      std::string_view prefix,
      std::function<void(std::optional<std::vector<ChannelCount>>)> done) = 0;

 protected:
  ~ChannelCounts() = default;
};

class ChannelsEndpoint {
 public:
  ChannelsEndpoint(Delivery& delivery, const PublishAccess& access, ChannelCounts& counts,
                   std::string prefix);

  void handle(const fcgi::RequestPtr& request, const Query& query);
  // The answer's body.
  static std::string body(const std::vector<ChannelCount>& channels);

 private:
  Delivery& delivery_;
  const PublishAccess& access_;
  ChannelCounts& counts_;
  std::string prefix_;
};

}  // namespace comet
