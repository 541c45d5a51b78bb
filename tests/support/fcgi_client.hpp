// A raw FastCGI client (the web-server side of the protocol) for tests,
// with its own minimal record encoder: begin/params/stdin/abort records,
// several request ids in flight on one connection, and a reader that
// collects STDOUT/STDERR per id until END_REQUEST.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/http_client.hpp"

namespace comet::test::fcgi {

enum RecordType : std::uint8_t {
  kBeginRequest = 1,
  kAbortRequest = 2,
  kEndRequest = 3,
  kParams = 4,
  kStdin = 5,
  kStdout = 6,
  kStderr = 7,
  kData = 8,
  kGetValues = 9,
  kGetValuesResult = 10,
  kUnknownType = 11,
};
constexpr std::uint16_t kResponder = 1;
constexpr std::uint8_t kKeepConn = 1;
constexpr std::uint8_t kRequestComplete = 0;

using Params = std::vector<std::pair<std::string, std::string>>;

// One record: 8-byte header, content, zero padding to a multiple of 8.
// content must be at most 65535 bytes.
std::string encode_record(std::uint8_t type, std::uint16_t id, const std::string& content);
// Name-value pair with 1-byte lengths below 128, else 4-byte (high bit set).
std::string encode_name_value(const std::string& name, const std::string& value);
// A stream (PARAMS/STDIN) split into records of at most 65535 bytes; does
// not include the empty record that ends the stream.
std::string encode_stream(std::uint8_t type, std::uint16_t id, const std::string& data);
// Decodes name-value pairs (as in FCGI_GET_VALUES_RESULT); throws on
// truncated input.
Params decode_name_values(const std::string& data);
std::string encode_begin_request(std::uint16_t id, bool keep_conn, std::uint16_t role = kResponder);

struct Result {
  std::string out;  // STDOUT stream
  std::string err;  // STDERR stream
  std::uint32_t app_status = 0;
  std::uint8_t protocol_status = 0;
};

// The CGI response in STDOUT ("Status:" defaults to 200) as an HttpResponse.
HttpResponse parse_cgi_response(const std::string& stdout_text);

// The params nginx's fastcgi_params would send for GET <uri>?<query>.
Params request_params(const std::string& method, const std::string& document_uri,
                      const std::string& query, const std::string& body = {});

class Connection {
 public:
  static Connection tcp(int port, const std::string& host = "127.0.0.1");
  static Connection unix_socket(const std::string& path);
  ~Connection();
  Connection(Connection&& o) noexcept;
  Connection& operator=(Connection&&) = delete;
  Connection(const Connection&) = delete;

  void write_raw(const std::string& bytes);
  void begin_request(std::uint16_t id, bool keep_conn);
  void params(std::uint16_t id, const Params& params);  // non-empty PARAMS records
  void end_params(std::uint16_t id);                    // the empty PARAMS record
  void stdin_data(std::uint16_t id, const std::string& data);
  void end_stdin(std::uint16_t id);
  void abort_request(std::uint16_t id);
  // begin_request + params + empty params + stdin + empty stdin, in one write.
  void send_request(std::uint16_t id, const Params& params, bool keep_conn,
                    const std::string& body = {});

  // Reads records (buffering those of other ids) until END_REQUEST for id
  // arrives; nullopt on timeout. Throws if the connection closes first.
  std::optional<Result> wait_end(std::uint16_t id, std::chrono::milliseconds timeout);
  // True if END_REQUEST for id has arrived (reads what is available, no wait).
  bool ended(std::uint16_t id);
  // True once the peer closed the connection (reads what is available).
  bool peer_closed();
  // Waits for the next management record (request id 0, e.g.
  // FCGI_GET_VALUES_RESULT or FCGI_UNKNOWN_TYPE); nullopt on timeout.
  std::optional<std::pair<std::uint8_t, std::string>> wait_management(
      std::chrono::milliseconds timeout);
  // Management records received (FCGI_GET_VALUES_RESULT, FCGI_UNKNOWN_TYPE).
  std::vector<std::pair<std::uint8_t, std::string>> management_records() const {
    return management_;
  }
  void close();

 private:
  explicit Connection(int fd) : fd_(fd) {}
  // Reads once (waiting up to timeout) and decodes complete records.
  // Returns false on timeout.
  bool pump(std::chrono::milliseconds timeout);

  int fd_ = -1;
  std::string in_;
  bool eof_ = false;
  std::map<std::uint16_t, Result> partial_;
  std::map<std::uint16_t, Result> done_;
  std::vector<std::pair<std::uint8_t, std::string>> management_;
};

// Convenience: one request on a fresh connection (keep_conn off).
Result request(Connection conn, const Params& params, std::chrono::milliseconds timeout,
               const std::string& body = {});

}  // namespace comet::test::fcgi
