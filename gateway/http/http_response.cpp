#include "gateway/http/http_response.hpp"

#include "gateway/http/json.hpp"

namespace comet {

std::string_view status_text(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::string response_head(int status, std::string_view content_type, std::size_t content_length) {
  std::string h;
  h.reserve(160);
  h += "Status: ";
  h += std::to_string(status);
  h += ' ';
  h += status_text(status);
  h += "\r\nContent-Type: ";
  h += content_type;
  h += "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ";
  h += std::to_string(content_length);
  h += "\r\n";
  return h;
}

std::string error_body(const HttpError& e) {
  std::string b = "{\"error\":";
  append_json_string(b, e.code);
  b += ",\"message\":";
  append_json_string(b, e.message);
  b += "}";
  return b;
}

fcgi::Response reject_response(const fcgi::Reject& r, std::string_view extra_headers) {
  const std::string body = error_body({r.status, std::string(r.code), r.message});
  fcgi::Response out;
  out.head = response_head(r.status, "application/json", body.size());
  out.head += r.extra_headers;
  out.head += extra_headers;
  out.head += "\r\n" + body;
  return out;
}

}  // namespace comet
