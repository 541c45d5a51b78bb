#include "gateway/http/publish_access.hpp"

#include <openssl/crypto.h>

#include <stdexcept>

namespace comet {
namespace {

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
                                            std::string_view remote_addr,
                                            bool foreign_page) const {
  if (!enabled()) return Verdict::disabled;
  bool by_address = false;
  for (const auto& range : allow_) {
    if (range.contains(remote_addr)) by_address = true;
  }
  if (by_address && !foreign_page) return Verdict::allowed;
  const Verdict otherwise = by_address ? Verdict::cross_site : Verdict::denied;
  // "Bearer <secret>": the scheme is case-insensitive (RFC 9110).
  const auto space = authorization.find(' ');
  if (space == std::string_view::npos || !iequals(authorization.substr(0, space), "bearer")) {
    return otherwise;
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
  return match ? Verdict::allowed : otherwise;
}

}  // namespace comet
