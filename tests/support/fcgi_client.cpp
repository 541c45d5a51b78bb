#include "tests/support/fcgi_client.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "tests/support/wait.hpp"

namespace comet::test::fcgi {

namespace {

void put16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

void put_length(std::string& out, std::size_t len) {
  if (len < 128) {
    out += static_cast<char>(len);
  } else {
    if (len > 0x7fffffff) throw std::invalid_argument("name-value too long");
    out += static_cast<char>(((len >> 24) & 0x7f) | 0x80);
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>((len >> 8) & 0xff);
    out += static_cast<char>(len & 0xff);
  }
}

std::uint16_t get16(const std::string& s, std::size_t pos) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(s[pos]) << 8) |
                                    static_cast<unsigned char>(s[pos + 1]));
}

}  // namespace

std::string encode_record(std::uint8_t type, std::uint16_t id, const std::string& content) {
  if (content.size() > 65535) throw std::invalid_argument("record content > 65535 bytes");
  std::size_t padding = (8 - content.size() % 8) % 8;
  std::string out;
  out.reserve(8 + content.size() + padding);
  out += static_cast<char>(1);  // FCGI_VERSION_1
  out += static_cast<char>(type);
  put16(out, id);
  put16(out, static_cast<std::uint16_t>(content.size()));
  out += static_cast<char>(padding);
  out += '\0';
  out += content;
  out.append(padding, '\0');
  return out;
}

std::string encode_name_value(const std::string& name, const std::string& value) {
  std::string out;
  put_length(out, name.size());
  put_length(out, value.size());
  out += name;
  out += value;
  return out;
}

std::string encode_stream(std::uint8_t type, std::uint16_t id, const std::string& data) {
  std::string out;
  for (std::size_t off = 0; off < data.size(); off += 65535) {
    out += encode_record(type, id, data.substr(off, 65535));
  }
  return out;
}

Params decode_name_values(const std::string& data) {
  Params out;
  std::size_t pos = 0;
  auto length = [&]() -> std::size_t {
    if (pos >= data.size()) throw std::runtime_error("fcgi: truncated name-value length");
    auto b = static_cast<unsigned char>(data[pos]);
    if (b < 128) {
      ++pos;
      return b;
    }
    if (pos + 4 > data.size()) throw std::runtime_error("fcgi: truncated name-value length");
    std::size_t len = (static_cast<std::size_t>(b & 0x7f) << 24) |
                      (static_cast<std::size_t>(static_cast<unsigned char>(data[pos + 1])) << 16) |
                      (static_cast<std::size_t>(static_cast<unsigned char>(data[pos + 2])) << 8) |
                      static_cast<unsigned char>(data[pos + 3]);
    pos += 4;
    return len;
  };
  while (pos < data.size()) {
    std::size_t nl = length();
    std::size_t vl = length();
    if (pos + nl + vl > data.size()) throw std::runtime_error("fcgi: truncated name-value");
    out.emplace_back(data.substr(pos, nl), data.substr(pos + nl, vl));
    pos += nl + vl;
  }
  return out;
}

std::string encode_begin_request(std::uint16_t id, bool keep_conn, std::uint16_t role) {
  std::string body;
  put16(body, role);
  body += static_cast<char>(keep_conn ? kKeepConn : 0);
  body.append(5, '\0');
  return encode_record(kBeginRequest, id, body);
}

HttpResponse parse_cgi_response(const std::string& text) {
  HttpResponse resp;
  resp.status = 200;
  std::size_t sep = text.find("\r\n\r\n");
  std::size_t body_start;
  if (sep != std::string::npos) {
    body_start = sep + 4;
  } else if ((sep = text.find("\n\n")) != std::string::npos) {
    body_start = sep + 2;
  } else {
    throw std::runtime_error("CGI response without end of headers: " + text.substr(0, 200));
  }
  std::size_t pos = 0;
  while (pos < sep) {
    auto e = text.find('\n', pos);
    if (e == std::string::npos || e > sep) e = sep;
    std::string line = text.substr(pos, e - pos);
    pos = e + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "status") resp.status = std::stoi(value.substr(0, 3));
    auto [it, inserted] = resp.headers.emplace(name, value);
    if (!inserted) it->second += ", " + value;
  }
  resp.body = text.substr(body_start);
  return resp;
}

Params request_params(const std::string& method, const std::string& document_uri,
                      const std::string& query, const std::string& body) {
  std::string request_uri = document_uri + (query.empty() ? "" : "?" + query);
  return {
      {"QUERY_STRING", query},
      {"REQUEST_METHOD", method},
      {"CONTENT_TYPE", body.empty() ? "" : "application/octet-stream"},
      {"CONTENT_LENGTH", body.empty() ? "" : std::to_string(body.size())},
      {"SCRIPT_NAME", document_uri},
      {"REQUEST_URI", request_uri},
      {"DOCUMENT_URI", document_uri},
      {"DOCUMENT_ROOT", "/var/www/html"},
      {"SERVER_PROTOCOL", "HTTP/1.1"},
      {"GATEWAY_INTERFACE", "CGI/1.1"},
      {"SERVER_SOFTWARE", "comet-itest"},
      {"REMOTE_ADDR", "127.0.0.1"},
      {"REMOTE_PORT", "40000"},
      {"SERVER_ADDR", "127.0.0.1"},
      {"SERVER_PORT", "80"},
      {"SERVER_NAME", "localhost"},
      {"HTTP_HOST", "localhost"},
  };
}

Connection Connection::tcp(int port, const std::string& host) {
  return Connection(connect_tcp(port, host));
}

Connection Connection::unix_socket(const std::string& path) {
  return Connection(connect_unix(path));
}

Connection::~Connection() {
  close();
}

Connection::Connection(Connection&& o) noexcept
    : fd_(o.fd_),
      in_(std::move(o.in_)),
      eof_(o.eof_),
      partial_(std::move(o.partial_)),
      done_(std::move(o.done_)),
      management_(std::move(o.management_)) {
  o.fd_ = -1;
}

void Connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Connection::write_raw(const std::string& bytes) {
  send_all(fd_, bytes);
}

void Connection::begin_request(std::uint16_t id, bool keep_conn) {
  write_raw(encode_begin_request(id, keep_conn));
}

void Connection::params(std::uint16_t id, const Params& params) {
  std::string data;
  for (const auto& [n, v] : params) data += encode_name_value(n, v);
  write_raw(encode_stream(kParams, id, data));
}

void Connection::end_params(std::uint16_t id) {
  write_raw(encode_record(kParams, id, {}));
}

void Connection::stdin_data(std::uint16_t id, const std::string& data) {
  write_raw(encode_stream(kStdin, id, data));
}

void Connection::end_stdin(std::uint16_t id) {
  write_raw(encode_record(kStdin, id, {}));
}

void Connection::abort_request(std::uint16_t id) {
  write_raw(encode_record(kAbortRequest, id, {}));
}

void Connection::send_request(std::uint16_t id, const Params& params, bool keep_conn,
                              const std::string& body) {
  std::string data;
  for (const auto& [n, v] : params) data += encode_name_value(n, v);
  std::string out = encode_begin_request(id, keep_conn);
  out += encode_stream(kParams, id, data);
  out += encode_record(kParams, id, {});
  out += encode_stream(kStdin, id, body);
  out += encode_record(kStdin, id, {});
  write_raw(out);
}

bool Connection::pump(std::chrono::milliseconds timeout) {
  if (fd_ < 0) throw std::runtime_error("fcgi::Connection: closed");
  if (eof_) return false;
  if (!wait_readable(fd_, timeout)) return false;
  char buf[65536];
  ssize_t n;
  do {
    n = ::recv(fd_, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != ECONNRESET) throw std::system_error(errno, std::generic_category(), "recv");
    n = 0;
  }
  if (n == 0) {
    eof_ = true;
    return true;
  }
  in_.append(buf, static_cast<std::size_t>(n));
  // Decode every complete record.
  for (;;) {
    if (in_.size() < 8) break;
    if (static_cast<unsigned char>(in_[0]) != 1) {
      throw std::runtime_error("fcgi: bad record version from server");
    }
    auto type = static_cast<std::uint8_t>(in_[1]);
    std::uint16_t id = get16(in_, 2);
    std::uint16_t len = get16(in_, 4);
    auto pad = static_cast<unsigned char>(in_[6]);
    if (in_.size() < 8u + len + pad) break;
    std::string content = in_.substr(8, len);
    in_.erase(0, 8u + len + pad);
    switch (type) {
      case kStdout:
        partial_[id].out += content;
        break;
      case kStderr:
        partial_[id].err += content;
        break;
      case kEndRequest: {
        if (content.size() < 8) throw std::runtime_error("fcgi: short END_REQUEST body");
        Result r = std::move(partial_[id]);
        partial_.erase(id);
        r.app_status = (static_cast<std::uint32_t>(static_cast<unsigned char>(content[0])) << 24) |
                       (static_cast<std::uint32_t>(static_cast<unsigned char>(content[1])) << 16) |
                       (static_cast<std::uint32_t>(static_cast<unsigned char>(content[2])) << 8) |
                       static_cast<unsigned char>(content[3]);
        r.protocol_status = static_cast<std::uint8_t>(content[4]);
        if (done_.count(id)) throw std::runtime_error("fcgi: second END_REQUEST for one id");
        done_[id] = std::move(r);
        break;
      }
      default:
        management_.emplace_back(type, content);
        break;
    }
  }
  return true;
}

bool Connection::ended(std::uint16_t id) {
  while (!done_.count(id) && !eof_ && fd_ >= 0 && pump(std::chrono::milliseconds(0))) {
  }
  return done_.count(id) > 0;
}

bool Connection::peer_closed() {
  while (!eof_ && fd_ >= 0 && pump(std::chrono::milliseconds(0))) {
  }
  return eof_;
}

std::optional<Result> Connection::wait_end(std::uint16_t id, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done_.count(id)) {
    if (eof_) {
      throw std::runtime_error("fcgi: connection closed before END_REQUEST for id " +
                               std::to_string(id) +
                               " (stdout so far: " + partial_[id].out.substr(0, 300) + ")");
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    pump(left);
  }
  Result r = std::move(done_[id]);
  done_.erase(id);
  return r;
}

std::optional<std::pair<std::uint8_t, std::string>> Connection::wait_management(
    std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (management_.empty()) {
    if (eof_) throw std::runtime_error("fcgi: connection closed before a management record");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    pump(left);
  }
  auto r = management_.front();
  management_.erase(management_.begin());
  return r;
}

Result request(Connection conn, const Params& params, std::chrono::milliseconds timeout,
               const std::string& body) {
  conn.send_request(1, params, false, body);
  auto r = conn.wait_end(1, timeout);
  if (!r) throw std::runtime_error("fcgi: no END_REQUEST in time");
  return *r;
}

}  // namespace comet::test::fcgi
