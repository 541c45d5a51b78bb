// Access control for poll and sse: with a secret configured, every channel a
// request names must be covered by a token the site's PHP issued
// (Comet::token), unless it is a public channel (--public-channel): payload
// "." signature, both base64url, where payload is
// {"ch":[names or prefixes ending in "*"],"exp":unix seconds} and, when the
// site names the user, "user":"<id>" and "info":{...}, and signature is
// HMAC-SHA256(secret, payload text). Pure: the time is passed in.
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
  // Who the site says holds the token (Comet::token's 'user'): 1 to 128
  // bytes; and what it says of them ('info'): a JSON object of at most
  // kMaxInfoBytes, kept as its text.
  std::optional<std::string> user;
  std::optional<std::string> info;
};
inline constexpr std::size_t kMaxUserBytes = 128;
inline constexpr std::size_t kMaxInfoBytes = 1024;

// Decodes the JSON payload of a token; nullopt for anything else.
std::optional<TokenClaims> parse_token_claims(std::string_view json);
bool token_covers(const TokenClaims& claims, std::string_view channel);
// Whether `channel` is an exact name of `patterns` or starts with the part
// before the "*" of one (a lone "*" matches all).
bool matches_pattern(std::span<const std::string> patterns, std::string_view channel);

class AccessControl {
 public:
  // Several secrets let a site rotate: tokens signed with any are accepted.
  // Channels matching `public_channels` (exact names or "prefix*") need no
  // token while access control is on.
  explicit AccessControl(std::vector<std::string> secrets = {},
                         std::vector<std::string> public_channels = {});

  bool enabled() const { return !secrets_.empty(); }
  // nullopt when allowed (then `*claims`, if given, holds the token's
  // claims: its expiry, its user; left empty when access control is off
  // or every channel is public, since no token is looked at then);
  // otherwise the 403 to answer.
  std::optional<HttpError> check(std::string_view token, std::span<const std::string> channels,
                                 std::int64_t now_unix,
                                 std::optional<TokenClaims>* claims = nullptr) const;
  // The same at the system clock's now.
  std::optional<HttpError> refusal(std::string_view token, std::span<const std::string> channels,
                                   std::optional<TokenClaims>* claims = nullptr) const;

 private:
  std::vector<std::string> secrets_;
  std::vector<std::string> public_;
};

}  // namespace comet
