#include "gateway/http/publish_access.hpp"

#include <openssl/crypto.h>

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <stdexcept>

namespace comet {
namespace {

// The 16 bytes of an IPv6 address, or 4 of an IPv4 one (an IPv4-mapped IPv6
// address counts as IPv4).
std::optional<std::pair<bool, std::array<std::uint8_t, 16>>> address_bytes(std::string_view text) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  std::array<std::uint8_t, 16> out{};
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  if (address.is_v4()) {
    const auto b = address.to_v4().to_bytes();
    for (std::size_t i = 0; i < b.size(); ++i) out[i] = b[i];
    return std::make_pair(true, out);
  }
  const auto b = address.to_v6().to_bytes();
  for (std::size_t i = 0; i < b.size(); ++i) out[i] = b[i];
  return std::make_pair(false, out);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::optional<AddressRange> AddressRange::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto bytes = address_bytes(text.substr(0, slash));
  if (!bytes) return std::nullopt;
  AddressRange out;
  out.v4_ = bytes->first;
  out.bytes_ = bytes->second;
  const int bits = out.v4_ ? 32 : 128;
  out.prefix_ = bits;
  if (slash != std::string_view::npos) {
    const auto p = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix < 0 ||
        prefix > bits) {
      return std::nullopt;
    }
    out.prefix_ = prefix;
  }
  return out;
}

bool AddressRange::contains(std::string_view address) const {
  auto bytes = address_bytes(address);
  if (!bytes || bytes->first != v4_) return false;
  int left = prefix_;
  for (std::size_t i = 0; left > 0; ++i, left -= 8) {
    const std::uint8_t mask = left >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - left));
    if ((bytes->second[i] & mask) != (bytes_[i] & mask)) return false;
  }
  return true;
}

PublishAccess::PublishAccess(std::vector<std::string> secrets,
                             const std::vector<std::string>& allow)
    : secrets_(std::move(secrets)) {
  for (const auto& s : secrets_) {
    if (s.size() < 16)
      throw std::invalid_argument("a publish secret must be at least 16 characters");
  }
  for (const auto& a : allow) {
    auto range = AddressRange::parse(a);
    if (!range) {
      throw std::invalid_argument("\"" + a +
                                  "\" is not an IP address or CIDR block (e.g. 10.0.0.0/8, ::1)");
    }
    allow_.push_back(*range);
  }
}

PublishAccess::Verdict PublishAccess::check(std::string_view authorization,
                                            std::string_view remote_addr) const {
  if (!enabled()) return Verdict::disabled;
  for (const auto& range : allow_) {
    if (range.contains(remote_addr)) return Verdict::allowed;
  }
  // "Bearer <secret>": the scheme is case-insensitive (RFC 9110).
  const auto space = authorization.find(' ');
  if (space == std::string_view::npos || !iequals(authorization.substr(0, space), "bearer")) {
    return Verdict::denied;
  }
  std::string_view given = authorization.substr(space + 1);
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  bool match = false;
  for (const auto& secret : secrets_) {
    // Every secret is compared, each in constant time for its length.
    if (secret.size() == given.size() &&
        CRYPTO_memcmp(secret.data(), given.data(), given.size()) == 0) {
      match = true;
    }
  }
  return match ? Verdict::allowed : Verdict::denied;
}

}  // namespace comet
