// Access control for poll and sse: with a secret configured, every channel a
// request names must be covered by a token the site's PHP issued
// (Comet::token): payload "." signature, both base64url, where payload is
// {"ch":[names or prefixes ending in "*"],"exp":unix seconds} and signature
// is HMAC-SHA256(secret, payload text). Pure: the time is passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/http_error.hpp"

namespace comet {

struct TokenClaims {
  std::vector<std::string> channels;  // exact names, "prefix*", or "*"
  std::int64_t expires = 0;           // unix seconds
};

// Decodes the JSON payload of a token; nullopt for anything else.
std::optional<TokenClaims> parse_token_claims(std::string_view json);
bool token_covers(const TokenClaims& claims, std::string_view channel);

class AccessControl {
 public:
  // Several secrets let a site rotate: tokens signed with any are accepted.
  explicit AccessControl(std::vector<std::string> secrets = {});

  bool enabled() const { return !secrets_.empty(); }
  // nullopt when allowed (then `*expires`, if given, is the token's expiry
  // in unix seconds); otherwise the 403 to answer.
  std::optional<HttpError> check(std::string_view token, std::span<const std::string> channels,
                                 std::int64_t now_unix, std::int64_t* expires = nullptr) const;
  // The same at the system clock's now; nullopt also when access control
  // is off (and `*expires` untouched).
  std::optional<HttpError> refusal(std::string_view token, std::span<const std::string> channels,
                                   std::int64_t* expires = nullptr) const;

 private:
  std::vector<std::string> secrets_;
};

}  // namespace comet
