// A request the server answers on its own, the application never seeing it:
// params or a body over the limits (413), or load shed (503). fcgi/ says what
// and why; the application words the response (Server::set_reject_writer).
#pragma once

#include <string>
#include <string_view>

#include "fcgi/request.hpp"

namespace fcgi {

// The string_views name static text of fcgi/.
struct Reject {
  // HTTP status and its reason phrase: 413 "Payload Too Large".
  int status = 0;
  std::string_view reason;
  // Stable, for programs: "params_too_large", "body_too_large", "overloaded".
  std::string_view code;
  // For people: "request body exceeds 1048576 bytes".
  std::string message;
  // Whole header lines to add, each ending in "\r\n": "Retry-After: 1\r\n".
  std::string_view extra_headers;
  // The request's HTTP_ORIGIN when its params were complete (a body over
  // the limit, load shed after the params), so that the application can
  // add its CORS headers; empty otherwise.
  std::string origin;

  friend bool operator==(const Reject&, const Reject&) = default;
};

// The response of a server without a reject writer: the status, the extra
// headers and the message as plain text.
Response plain_text_reject(const Reject& r);

}  // namespace fcgi
