// A minimal blocking HTTP/1.1 client for tests: one request per connection
// (Connection: close), Content-Length and chunked bodies, bounded waits.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace comet::test {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased; repeats joined with ", "
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

using Headers = std::map<std::string, std::string>;

// Parses a complete HTTP/1.x response (status line, headers, body framed by
// Content-Length, chunked, or the end of the connection). nullopt when the
// bytes are not a complete response yet.
std::optional<HttpResponse> parse_http_response(const std::string& raw, bool eof);

// A request sent at construction and read later: for parked polls, and for
// clients that go away early (close()).
class PendingRequest {
 public:
  // `source`: the local address to connect from (connect_tcp); empty for
  // any.
  PendingRequest(int port, const std::string& method, const std::string& path,
                 const Headers& headers = {}, const std::string& body = {},
                 const std::string& source = {});
  ~PendingRequest();
  PendingRequest(const PendingRequest&) = delete;
  PendingRequest& operator=(const PendingRequest&) = delete;

  // Reads until a complete response arrived or timeout; nullopt on timeout
  // (the request stays open and can be read again).
  std::optional<HttpResponse> read_response(std::chrono::milliseconds timeout);
  // Streams (SSE): reads until the raw bytes received so far contain
  // `needle` or timeout; returns whether they do.
  bool read_until(const std::string& needle, std::chrono::milliseconds timeout);
  // Everything received so far, unparsed (status line, headers, chunks).
  const std::string& raw() const { return raw_; }
  bool eof() const { return eof_; }
  // True when a byte of the response has arrived (no blocking).
  bool has_data();
  // Closes the socket (abortive when hard: RST instead of FIN).
  void close(bool hard = false);

 private:
  int fd_ = -1;
  std::string raw_;
  bool eof_ = false;
};

// Blocking request; throws std::runtime_error on timeout.
HttpResponse http_request(int port, const std::string& method, const std::string& path,
                          const Headers& headers = {}, const std::string& body = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30),
                          const std::string& source = {});
inline HttpResponse http_get(int port, const std::string& path, const Headers& headers = {},
                             std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  return http_request(port, "GET", path, headers, {}, timeout);
}

// Percent-encodes everything but unreserved characters (RFC 3986).
std::string url_encode(const std::string& s);

}  // namespace comet::test
