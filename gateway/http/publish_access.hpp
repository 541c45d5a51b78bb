// Who may publish over HTTP (POST .../publish): nobody, unless the gateway
// is given publish secrets (the request then carries one as
// "Authorization: Bearer SECRET") or an allow-list of client addresses
// (REMOTE_ADDR, as the web server passes it). Either one admits a request.
// REMOTE_ADDR is whatever the FastCGI peer says: an address list is only as
// strong as the listener (its socket mode, --listen-allow), since whoever
// can connect to it can name any address.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gateway/util/address_range.hpp"

namespace comet {

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
