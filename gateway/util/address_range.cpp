#include "gateway/util/address_range.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace comet {
namespace {

struct Address {
  bool v4;
  std::array<std::uint8_t, 16> bytes;  // 4 used for IPv4
};

// Only the numeric forms inet_pton takes: no names, no zone ids.
std::optional<Address> address_bytes(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  // inet_pton reads a C string: a NUL byte (which a FastCGI param may hold)
  // would end the text early and let what follows it go unread.
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  const std::string s(text);
  Address out{true, {}};
  if (::inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) return out;
  if (::inet_pton(AF_INET6, s.c_str(), out.bytes.data()) != 1) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out.bytes.data(), kMapped, sizeof kMapped) == 0) {
    std::memmove(out.bytes.data(), out.bytes.data() + 12, 4);
    std::memset(out.bytes.data() + 4, 0, 12);
    return out;
  }
  out.v4 = false;
  return out;
}

}  // namespace

std::optional<AddressRange> AddressRange::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto address = address_bytes(text.substr(0, slash));
  if (!address) return std::nullopt;
  AddressRange out;
  out.v4_ = address->v4;
  out.bytes_ = address->bytes;
  const int bits = out.v4_ ? 32 : 128;
  out.prefix_ = bits;
  if (slash != std::string_view::npos) {
    const auto p = text.substr(slash + 1);
    // Digits only: from_chars takes a sign, and "-0" would be /0.
    if (p.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
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

bool AddressRange::contains(std::string_view text) const {
  auto address = address_bytes(text);
  if (!address || address->v4 != v4_) return false;
  int left = prefix_;
  for (std::size_t i = 0; left > 0; ++i, left -= 8) {
    const std::uint8_t mask = left >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - left));
    if ((address->bytes[i] & mask) != (bytes_[i] & mask)) return false;
  }
  return true;
}

}  // namespace comet
