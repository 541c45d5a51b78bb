#include "tests/support/http_client.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "tests/support/wait.hpp"

namespace comet::test {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Decodes a chunked body starting at raw[pos]; nullopt if incomplete.
std::optional<std::string> decode_chunked(const std::string& raw, std::size_t pos) {
  std::string out;
  for (;;) {
    auto eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) return std::nullopt;
    std::string size_line = raw.substr(pos, eol - pos);
    auto semi = size_line.find(';');
    if (semi != std::string::npos) size_line.resize(semi);
    std::size_t size = std::stoul(trim(size_line), nullptr, 16);
    pos = eol + 2;
    if (size == 0) {
      // Trailers end with an empty line.
      for (;;) {
        auto e = raw.find("\r\n", pos);
        if (e == std::string::npos) return std::nullopt;
        if (e == pos) return out;
        pos = e + 2;
      }
    }
    if (raw.size() < pos + size + 2) return std::nullopt;
    out.append(raw, pos, size);
    pos += size + 2;
  }
}

}  // namespace

std::optional<HttpResponse> parse_http_response(const std::string& raw, bool eof) {
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    if (eof) throw std::runtime_error("connection closed before response headers: " + raw);
    return std::nullopt;
  }
  HttpResponse resp;
  std::size_t pos = 0;
  auto eol = raw.find("\r\n");
  std::string status_line = raw.substr(0, eol);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    throw std::runtime_error("bad status line: " + status_line);
  }
  resp.status = std::stoi(status_line.substr(9, 3));
  pos = eol + 2;
  while (pos < head_end) {
    auto e = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, e - pos);
    pos = e + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = lower(trim(line.substr(0, colon)));
    std::string value = trim(line.substr(colon + 1));
    auto [it, inserted] = resp.headers.emplace(name, value);
    if (!inserted) it->second += ", " + value;
  }
  std::size_t body_start = head_end + 4;
  if (lower(resp.header("transfer-encoding")).find("chunked") != std::string::npos) {
    auto body = decode_chunked(raw, body_start);
    if (!body) {
      if (eof) throw std::runtime_error("connection closed inside a chunked body");
      return std::nullopt;
    }
    resp.body = std::move(*body);
  } else if (!resp.header("content-length").empty()) {
    std::size_t len = std::stoul(resp.header("content-length"));
    if (raw.size() < body_start + len) {
      if (eof) throw std::runtime_error("connection closed before Content-Length bytes");
      return std::nullopt;
    }
    resp.body = raw.substr(body_start, len);
  } else if (resp.status == 204 || resp.status == 304 || resp.status / 100 == 1) {
    // no body
  } else {
    if (!eof) return std::nullopt;
    resp.body = raw.substr(body_start);
  }
  return resp;
}

PendingRequest::PendingRequest(int port, const std::string& method, const std::string& path,
                               const Headers& headers, const std::string& body,
                               const std::string& source) {
  fd_ = connect_tcp(port, "127.0.0.1", source);
  std::string req = method + " " + path + " HTTP/1.1\r\n";
  Headers h = headers;
  if (!h.count("Host")) h["Host"] = "127.0.0.1:" + std::to_string(port);
  h["Connection"] = "close";
  if (!body.empty() || method == "POST" || method == "PUT") {
    h["Content-Length"] = std::to_string(body.size());
  }
  for (const auto& [k, v] : h) req += k + ": " + v + "\r\n";
  req += "\r\n";
  req += body;
  send_all(fd_, req);
}

PendingRequest::~PendingRequest() {
  close();
}

bool PendingRequest::has_data() {
  if (!raw_.empty() || eof_) return true;
  return fd_ >= 0 && wait_readable(fd_, std::chrono::milliseconds(0));
}

std::optional<HttpResponse> PendingRequest::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto r = parse_http_response(raw_, eof_)) return r;
    if (fd_ < 0) throw std::runtime_error("PendingRequest: socket already closed");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !wait_readable(fd_, left)) return std::nullopt;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) {
        eof_ = true;
        continue;
      }
      throw std::system_error(errno, std::generic_category(), "recv");
    }
    if (n == 0) {
      eof_ = true;
    } else {
      raw_.append(buf, static_cast<std::size_t>(n));
    }
  }
}

bool PendingRequest::read_until(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (raw_.find(needle) == std::string::npos) {
    if (eof_ || fd_ < 0) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !wait_readable(fd_, left)) return false;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      eof_ = true;
    } else if (n == 0) {
      eof_ = true;
    } else {
      raw_.append(buf, static_cast<std::size_t>(n));
    }
  }
  return true;
}

void PendingRequest::close(bool hard) {
  if (fd_ < 0) return;
  if (hard) {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  ::close(fd_);
  fd_ = -1;
}

HttpResponse http_request(int port, const std::string& method, const std::string& path,
                          const Headers& headers, const std::string& body,
                          std::chrono::milliseconds timeout, const std::string& source) {
  PendingRequest req(port, method, path, headers, body, source);
  auto resp = req.read_response(timeout);
  if (!resp) {
    throw std::runtime_error("no HTTP response within " + std::to_string(timeout.count()) +
                             " ms for " + method + " " + path);
  }
  return *resp;
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace comet::test
