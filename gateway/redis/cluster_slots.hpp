// Redis Cluster's arithmetic, pure: the hash slot of a key, the slot map
// (CLUSTER SLOTS) and the redirect errors (MOVED / ASK).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/redis/redis_url.hpp"

struct redisReply;

namespace comet {

constexpr std::uint16_t kClusterSlots = 16384;

// The hash slot of `key`: CRC16 (XMODEM) mod 16384 of the whole key, or of
// the part between the first '{' and the first '}' after it when that part
// is not empty (a hash tag: "comet:{news}:stream" hashes "news").
std::uint16_t cluster_key_slot(std::string_view key);

// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381" (an error reply's
// text); nullopt for any other error. The host is empty for "MOVED 3999
// :6381" (the node that answered, by another port).
struct ClusterRedirect {
  bool ask = false;  // ASK: this one command only, preceded by ASKING
  std::uint16_t slot = 0;
  RedisHostPort node;
};
std::optional<ClusterRedirect> parse_cluster_redirect(std::string_view error);

// Which master serves which slot.
class ClusterSlots {
 public:
  // From a CLUSTER SLOTS reply; a master announced with an empty address
  // is at `asked_host` (the node that answered). nullopt when the reply is
  // not one.
  static std::optional<ClusterSlots> from_reply(const redisReply& reply,
                                                const std::string& asked_host);
  // nullptr when no master serves the slot.
  const RedisHostPort* master_of(std::uint16_t slot) const;
  const std::vector<RedisHostPort>& masters() const { return masters_; }
  std::size_t slots_served() const;
  // A MOVED says so: `slot` is now served by `node`.
  void move(std::uint16_t slot, const RedisHostPort& node);

 private:
  std::size_t index_of(const RedisHostPort& node);
  std::vector<RedisHostPort> masters_;
  std::vector<std::int32_t> owner_ = std::vector<std::int32_t>(kClusterSlots, -1);
};

}  // namespace comet
