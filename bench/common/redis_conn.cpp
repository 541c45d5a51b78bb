#include "bench/common/redis_conn.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "bench/common/die.hpp"
#include "bench/common/sockets.hpp"
#include "bench/common/text.hpp"

namespace bench {

RedisConn::RedisConn(int port) : fd_(tcp_connect(port, false)) {
  if (fd_ < 0) die("connect to redis failed");
}

RedisConn::~RedisConn() {
  if (fd_ >= 0) ::close(fd_);
}

void RedisConn::fill() {
  char buf[65536];
  const ssize_t n = ::read(fd_, buf, sizeof buf);
  if (n <= 0) die("redis closed the connection");
  in_.append(buf, static_cast<std::size_t>(n));
  bytes_in_ += n;
}

std::string RedisConn::line() {
  std::size_t end;
  while ((end = in_.find("\r\n")) == std::string::npos) fill();
  std::string l = in_.substr(0, end);
  in_.erase(0, end + 2);
  return l;
}

RedisReply RedisConn::command(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  write_all(fd_, out);
  bytes_out_ += static_cast<long long>(out.size());
  std::string name = args.front();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  ++sent_[name];
  RedisReply r;
  const std::string head = line();
  if (head.empty()) die("empty reply from redis");
  switch (head[0]) {
    case ':':
      r.integer = std::atoll(head.c_str() + 1);
      break;
    case '+':
      r.text = head.substr(1);
      break;
    case '-':
      r.text = head;
      break;
    case '$': {
      const long long len = std::atoll(head.c_str() + 1);
      if (len < 0) break;
      while (in_.size() < static_cast<std::size_t>(len) + 2) fill();
      r.text = in_.substr(0, static_cast<std::size_t>(len));
      in_.erase(0, static_cast<std::size_t>(len) + 2);
      break;
    }
    default:
      die("unexpected redis reply: " + head);
  }
  return r;
}

RedisInfo parse_info(const std::string& text) {
  RedisInfo info;
  for (const auto& l : split(text, '\n')) {
    std::string s = l;
    if (!s.empty() && s.back() == '\r') s.pop_back();
    const auto colon = s.find(':');
    if (s.empty() || s[0] == '#' || colon == std::string::npos) continue;
    const std::string key = s.substr(0, colon), value = s.substr(colon + 1);
    if (key.starts_with("cmdstat_")) {
      const std::string name = key.substr(8);
      for (const auto& kv : split(value, ',')) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) continue;
        if (kv.compare(0, eq, "calls") == 0) info.calls[name] = std::atoll(kv.c_str() + eq + 1);
        if (kv.compare(0, eq, "usec") == 0) info.usec[name] = std::atoll(kv.c_str() + eq + 1);
      }
      continue;
    }
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end != value.c_str() && *end == '\0') info.values[key] = v;
  }
  return info;
}

}  // namespace bench
