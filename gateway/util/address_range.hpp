// An IP address or a CIDR block, IPv4 or IPv6: "127.0.0.1", "10.0.0.0/8",
// "::1", "fd00::/8". The one form of address lists in the gateway: who may
// publish over HTTP (--publish-allow) and which peers a TCP listener
// accepts (--listen-allow).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace comet {

class AddressRange {
 public:
  // nullopt when `text` is not one.
  static std::optional<AddressRange> parse(std::string_view text);
  // IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match the IPv4 forms;
  // anything that is not an address matches nothing.
  bool contains(std::string_view address) const;

 private:
  bool v4_ = true;
  std::array<std::uint8_t, 16> bytes_{};
  int prefix_ = 0;  // bits that must match
};

}  // namespace comet
