#include "fcgi/reject.hpp"

namespace fcgi {

Response plain_text_reject(const Reject& r) {
  std::string body = r.message;
  body += '\n';
  Response out;
  out.head = "Status: " + std::to_string(r.status) + ' ';
  out.head += r.reason;
  out.head += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  out.head += std::to_string(body.size());
  out.head += "\r\n";
  out.head += r.extra_headers;
  out.head += "\r\n";
  out.head += body;
  return out;
}

}  // namespace fcgi
