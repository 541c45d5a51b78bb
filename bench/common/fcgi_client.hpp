// The FastCGI client side of the bench: requests as nginx would send them,
// written straight to the gateway's socket (the gateway-alone scenario
// leaves nginx out).
#pragma once

#include <cstdint>
#include <string>

namespace bench {

// Appends a GET as BEGIN_REQUEST (responder, keep-conn), PARAMS
// (REQUEST_METHOD, DOCUMENT_URI, QUERY_STRING), the empty PARAMS and the
// empty STDIN.
void fcgi_request(std::string& out, std::uint16_t id, const std::string& uri,
                  const std::string& query);

// One request on its own connection to `address`: a Unix socket's path, or
// an address as nginx is given it (unix:PATH or 127.0.0.1:PORT); returns the
// STDOUT stream ("" when the connection is refused).
std::string fcgi_get(const std::string& address, const std::string& uri);

}  // namespace bench
