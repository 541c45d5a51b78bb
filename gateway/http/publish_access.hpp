// Who may publish over HTTP (POST .../publish): nobody, unless the gateway
// is given publish secrets (the request then carries one as
// "Authorization: Bearer SECRET") or an allow-list of client addresses
// (REMOTE_ADDR, as the web server passes it). Either one admits a request.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace comet {

// An address or a CIDR block, IPv4 or IPv6: "127.0.0.1", "10.0.0.0/8",
// "::1", "fd00::/8". IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match the
// IPv4 forms.
class AddressRange {
 public:
  // nullopt when `text` is not one.
  static std::optional<AddressRange> parse(std::string_view text);
  bool contains(std::string_view address) const;

 private:
  bool v4_ = true;
  std::array<std::uint8_t, 16> bytes_{};
  int prefix_ = 0;  // bits that must match
};

class PublishAccess {
 public:
  // Throws std::invalid_argument naming a bad allow-list entry or a secret
  // shorter than 16 characters.
  PublishAccess(std::vector<std::string> secrets, const std::vector<std::string>& allow);

  bool enabled() const { return !secrets_.empty() || !allow_.empty(); }

  enum class Verdict { disabled, allowed, denied };
  // `authorization`: the Authorization header (HTTP_AUTHORIZATION), empty
  // when absent; `remote_addr`: REMOTE_ADDR. Secrets are compared in
  // constant time.
  Verdict check(std::string_view authorization, std::string_view remote_addr) const;

 private:
  std::vector<std::string> secrets_;
  std::vector<AddressRange> allow_;
};

}  // namespace comet
