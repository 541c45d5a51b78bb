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

  enum class Verdict { disabled, allowed, denied, cross_site };
  // `authorization`: the Authorization header (HTTP_AUTHORIZATION), empty
  // when absent; `remote_addr`: REMOTE_ADDR; `foreign_page`: the request
  // comes from a browser page of an origin the gateway does not allow (an
  // Origin header not on --cors-origin). Such a page may not publish by
  // address: any site can make a visitor's browser send a simple POST
  // without a preflight (CSRF), but not with an Authorization header.
  // Secrets are compared in constant time. cross_site: only the address
  // would have admitted it.
  Verdict check(std::string_view authorization, std::string_view remote_addr,
                bool foreign_page = false) const;

 private:
  std::vector<std::string> secrets_;
  std::vector<AddressRange> allow_;
};

}  // namespace comet
