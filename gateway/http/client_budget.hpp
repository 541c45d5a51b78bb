// Each client's share of what the gateway holds for parked requests (polls
// and SSE streams): how many it has parked, and how many channel names they
// name together. A client is the web server's REMOTE_ADDR: an IPv4
// address, or an IPv6 /64 (what one host or one home is given, so a client
// cannot multiply its share by cycling through its own addresses). Over
// its share, a request is refused with 429 while everyone else is served;
// the totals (--max-parked, the Hub's channel budget) answer 503.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gateway/core/hub.hpp"
#include "gateway/http/http_error.hpp"

namespace comet {

struct ClientLimits {
  std::size_t max_parked = 1000;           // --max-parked-per-client
  std::size_t max_channel_refs = 8192;     // --max-channels-per-client
};

class ClientBudget {
 public:
  // One client's holdings; stable while the client holds anything.
  struct Share {
    std::string key;
    std::size_t parked = 0;
    std::size_t channel_refs = 0;
  };
  enum class Refusal { none, parked, channels };

  explicit ClientBudget(ClientLimits limits = {}) : limits_(limits) {}

  // The client's key: "203.0.113.7", "2001:db8:1:2::/64"; the text itself
  // when it is not an address (a Unix-socket peer that sends none: "").
  static std::string client_key(std::string_view remote_addr);

  // What parking one more request naming `channels` would pass, if any.
  Refusal refusal(const std::string& key, std::size_t channels) const;
  // Charges one parked request naming `channels` to the client `key`
  // (whether it fits is refusal()'s to say): its share.
  Share* charge(const std::string& key, std::size_t channels);
  // Gives back what charge() took.
  void release(Share* share, std::size_t channels);

  const ClientLimits& limits() const { return limits_; }
  std::size_t clients() const { return shares_.size(); }

 private:
  ClientLimits limits_;
  std::unordered_map<std::string, Share> shares_;  // node-based: Share* stays valid
};

// Why a request that would park is refused now, if it is: the parked total
// (503), then the client's share (429); `reason` then names the budget for
// /stats. The Hub refuses what only it can see (new channels past its
// total) when the request parks.
const HttpError* parking_refusal(const Hub& hub, const ClientBudget& clients,
                                 const std::string& client, std::size_t channels,
                                 std::string_view& reason);

}  // namespace comet
