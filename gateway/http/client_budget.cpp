#include "gateway/http/client_budget.hpp"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>

namespace comet {

std::string ClientBudget::client_key(std::string_view remote_addr) {
  if (remote_addr.size() > INET6_ADDRSTRLEN) return std::string(remote_addr);
  const std::string text(remote_addr);
  std::uint8_t b[16];
  if (::inet_pton(AF_INET, text.c_str(), b) == 1) return text;
  if (::inet_pton(AF_INET6, text.c_str(), b) != 1) return text;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[INET6_ADDRSTRLEN + 4];
  if (std::memcmp(b, kMapped, sizeof kMapped) == 0) {
    ::inet_ntop(AF_INET, b + 12, out, sizeof out);  // ::ffff:a.b.c.d is a.b.c.d
    return out;
  }
  std::memset(b + 8, 0, 8);
  ::inet_ntop(AF_INET6, b, out, sizeof out);
  return std::string(out) + "/64";
}

ClientBudget::Refusal ClientBudget::refusal(const std::string& key, std::size_t channels) const {
  const auto it = shares_.find(key);
  const std::size_t parked = it == shares_.end() ? 0 : it->second.parked;
  const std::size_t refs = it == shares_.end() ? 0 : it->second.channel_refs;
  if (parked + 1 > limits_.max_parked) return Refusal::parked;
  if (refs + channels > limits_.max_channel_refs) return Refusal::channels;
  return Refusal::none;
}

ClientBudget::Share* ClientBudget::charge(const std::string& key, std::size_t channels) {
  auto [it, fresh] = shares_.try_emplace(key);
  Share& s = it->second;
  if (fresh) s.key = key;
  ++s.parked;
  s.channel_refs += channels;
  return &s;
}

void ClientBudget::release(Share* share, std::size_t channels) {
  if (share == nullptr) return;
  --share->parked;
  share->channel_refs -= channels;
  if (share->parked == 0) {
    const std::string key = std::move(share->key);
    shares_.erase(key);
  }
}

const HttpError* parking_refusal(const Hub& hub, const ClientBudget& clients,
                                 const std::string& client, std::size_t channels,
                                 std::string_view& reason) {
  if (!hub.can_park()) {
    reason = "parked_total";
    return &errors::overloaded;
  }
  switch (clients.refusal(client, channels)) {
    case ClientBudget::Refusal::parked:
      reason = "client_parked";
      return &errors::client_parked;
    case ClientBudget::Refusal::channels:
      reason = "client_channels";
      return &errors::client_channels;
    case ClientBudget::Refusal::none:
      break;
  }
  return nullptr;
}

}  // namespace comet
