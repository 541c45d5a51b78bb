// Access tokens as Comet::token() makes them (docs/API.md "Access control"):
// base64url(claims) "." base64url(HMAC-SHA256(secret, payload)). The bench
// signs its own, one per simulated user, so that it needs no PHP.
#pragma once

#include <string>
#include <string_view>

namespace bench {

// RFC 4648 section 5, without padding.
std::string base64url(std::string_view bytes);

// A token for `claims_json` (the claims object's exact text) under `secret`.
std::string sign_token(std::string_view secret, std::string_view claims_json);

}  // namespace bench
