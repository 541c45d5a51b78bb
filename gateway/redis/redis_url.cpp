#include "gateway/redis/redis_url.hpp"

#include "gateway/redis/host_port.hpp"

#include <charconv>
#include <stdexcept>
#include <string>

namespace comet {
namespace {

// sun_path is 108 bytes on Linux, including the terminating NUL.
constexpr std::size_t kMaxUnixPath = 107;

[[noreturn]] void fail(std::string_view what) {
  throw std::invalid_argument("invalid Redis URL: " + std::string(what));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Passwords often hold characters that are special in a URL (@ : / %), so
// the userinfo is percent-decoded; a malformed escape is refused rather than
// passed on literally, which would make AUTH fail with no hint why.
std::string percent_decode(std::string_view in, std::string_view what) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) fail(std::string(what) + " has a malformed %-escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Only the 20% of RFC 3986 that a log reader needs: keeps a username with
// odd bytes (it was percent-decoded) from breaking the one-line log format.
std::string percent_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

int parse_int(std::string_view text, int min, int max, std::string_view what) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    fail(std::string(what) + " must be a number from " + std::to_string(min) + " to " +
         std::to_string(max) + ", not \"" + std::string(text) + "\"");
  }
  return value;
}

// "[user]:password" (the colon is required: a lone word would be ambiguous,
// some clients read it as a user and others as a password).
void parse_userinfo(std::string_view info, RedisUrl& url) {
  auto colon = info.find(':');
  if (colon == std::string_view::npos) {
    fail("credentials need a ':' (write redis://:PASSWORD@host or redis://USER:PASSWORD@host)");
  }
  url.username = percent_decode(info.substr(0, colon), "the username");
  url.password = percent_decode(info.substr(colon + 1), "the password");
}

bool is_host_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

void parse_host_port(std::string_view hp, RedisUrl& url) {
  std::string_view port;
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == std::string_view::npos) fail("IPv6 address lacks its closing ']'");
    url.host = std::string(hp.substr(1, close - 1));
    if (url.host.empty()) fail("empty IPv6 address");
    for (char c : url.host) {
      if (hex_value(c) < 0 && c != ':' && c != '.') fail("bad character in IPv6 address");
    }
    auto rest = hp.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') fail("expected ':port' after the IPv6 address");
      port = rest.substr(1);
      if (port.empty()) fail("empty port");
    }
  } else {
    auto colon = hp.find(':');
    url.host = std::string(hp.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = hp.substr(colon + 1);
      if (port.empty()) fail("empty port");
      if (port.find(':') != std::string_view::npos) {
        fail("an IPv6 address must be written in brackets, e.g. redis://[::1]:6379");
      }
    }
    if (url.host.empty()) fail("missing host");
    for (char c : url.host) {
      if (!is_host_char(c)) fail("bad character in host \"" + url.host + "\"");
    }
  }
  if (!port.empty()) url.port = parse_int(port, 1, 65535, "the port");
}

// Calls f(key, value) for each "key=value" of a URL query; an item without
// '=' is refused with `expected` in the message (no parameter here is a
// bare flag).
template <class F>
void for_each_query_item(std::string_view query, std::string_view expected, F f) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      fail("unknown query parameter \"" + std::string(item) + "\" (" + std::string(expected) + ")");
    }
    f(item.substr(0, eq), item.substr(eq + 1));
  }
}

// Query of a unix: URL; only db=N is understood, anything else is refused so
// that a typo is not silently ignored.
void parse_unix_query(std::string_view query, RedisUrl& url) {
  constexpr std::string_view kExpected = "only db=N is supported";
  for_each_query_item(query, kExpected, [&](std::string_view key, std::string_view value) {
    if (key != "db") {
      fail("unknown query parameter \"" + std::string(key) + "\" (" + std::string(kExpected) + ")");
    }
    url.db = parse_int(value, 0, 1'000'000, "db");
  });
}

void parse_unix(std::string_view rest, RedisUrl& url) {
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    auto slash = rest.find('/');
    if (slash == std::string_view::npos)
      fail("unix:// needs an absolute path, e.g. unix:///run/redis.sock");
    auto authority = rest.substr(0, slash);
    if (!authority.empty()) {
      if (authority.back() != '@') {
        fail("unix:// takes no host; write unix:///path/to.sock or unix://:PASSWORD@/path/to.sock");
      }
      authority.remove_suffix(1);
      parse_userinfo(authority, url);
    }
    rest = rest.substr(slash);
  }
  auto q = rest.find('?');
  url.unix_path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) parse_unix_query(rest.substr(q + 1), url);
  if (url.unix_path.empty() || url.unix_path.front() != '/') {
    fail("the socket path must be absolute, e.g. unix:/run/redis/redis.sock");
  }
  if (url.unix_path.size() > kMaxUnixPath) {
    fail("the socket path is longer than " + std::to_string(kMaxUnixPath) + " bytes");
  }
}

void parse_tcp(std::string_view rest, RedisUrl& url) {
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (authority.find_first_of("?#") != std::string_view::npos ||
      path.find_first_of("?#") != std::string_view::npos) {
    fail("redis:// URLs take no query or fragment (the database goes in the path: /N)");
  }
  // The last '@' ends the credentials: a host never holds one, a raw one in
  // a password is then still understood.
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    parse_userinfo(authority.substr(0, at), url);
    authority = authority.substr(at + 1);
  }
  parse_host_port(authority, url);
  if (!path.empty()) url.db = parse_int(path, 0, 1'000'000, "the database");
}

// Master names are what sentinel.conf's "sentinel monitor" takes; refusing
// anything odd keeps them printable in logs.
bool is_name_char(char c) {
  return is_host_char(c) || c == ':' || c == '@' || c == '+' || c == '=';
}

// "[credentials@]host[:port][,host[:port]...]": the credentials go to `url`.
std::vector<RedisHostPort> parse_host_list(std::string_view authority, int default_port,
                                           RedisUrl& url) {
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    parse_userinfo(authority.substr(0, at), url);
    authority = authority.substr(at + 1);
  }
  std::vector<RedisHostPort> out;
  while (true) {
    auto comma = authority.find(',');
    RedisUrl one;
    one.port = default_port;
    parse_host_port(authority.substr(0, comma), one);
    out.push_back(RedisHostPort{one.host, one.port});
    if (comma == std::string_view::npos) break;
    authority = authority.substr(comma + 1);
  }
  return out;
}

// "sentinel_password=P&sentinel_username=U": anything else is refused so
// that a typo is not silently ignored.
void parse_sentinel_query(std::string_view query, RedisUrl& url) {
  constexpr std::string_view kExpected =
      "redis-sentinel:// takes sentinel_password=... and sentinel_username=...";
  for_each_query_item(query, kExpected, [&](std::string_view key, std::string_view value) {
    if (key == "sentinel_password") {
      url.sentinel_password = percent_decode(value, "sentinel_password");
    } else if (key == "sentinel_username") {
      url.sentinel_username = percent_decode(value, "sentinel_username");
    } else {
      fail("unknown query parameter \"" + std::string(key) + "\" (" + std::string(kExpected) + ")");
    }
  });
}

void parse_sentinel(std::string_view rest, RedisUrl& url) {
  if (rest.find('#') != std::string_view::npos) fail("redis-sentinel:// URLs take no fragment");
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    parse_sentinel_query(rest.substr(q + 1), url);
    rest = rest.substr(0, q);
  }
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    fail("redis-sentinel:// needs the master's name: redis-sentinel://host:port/MASTER_NAME");
  }
  auto authority = rest.substr(0, slash);
  auto path = rest.substr(slash + 1);
  url.sentinels = parse_host_list(authority, 26379, url);
  auto db_slash = path.find('/');
  url.master_name = std::string(path.substr(0, db_slash));
  if (url.master_name.empty()) fail("empty master name");
  for (char c : url.master_name) {
    if (!is_name_char(c)) fail("bad character in master name \"" + url.master_name + "\"");
  }
  if (db_slash != std::string_view::npos) {
    url.db = parse_int(path.substr(db_slash + 1), 0, 1'000'000, "the database");
  }
}

void parse_cluster(std::string_view rest, RedisUrl& url) {
  if (rest.find_first_of("?#") != std::string_view::npos) {
    fail("redis-cluster:// URLs take no query or fragment");
  }
  auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    auto db = rest.substr(slash + 1);
    if (!db.empty() && db != "0") {
      fail("a Redis Cluster has database 0 only: redis-cluster://host:port[,host:port...]");
    }
  }
  url.cluster_nodes = parse_host_list(rest.substr(0, slash), 6379, url);
  url.host = url.cluster_nodes.front().host;
  url.port = url.cluster_nodes.front().port;
}

}  // namespace

std::string RedisUrl::redacted() const {
  std::string credentials;
  if (!username.empty() || !password.empty()) {
    credentials = percent_encode(username) + ":" + (password.empty() ? "" : "***") + "@";
  }
  if (cluster()) {
    std::string out = "redis-cluster://" + credentials;
    for (std::size_t i = 0; i < cluster_nodes.size(); ++i) {
      if (i > 0) out += ",";
      out += host_port(cluster_nodes[i].host, cluster_nodes[i].port);
    }
    return out;
  }
  if (sentinel()) {
    std::string out = "redis-sentinel://" + credentials;
    for (std::size_t i = 0; i < sentinels.size(); ++i) {
      if (i > 0) out += ",";
      out += host_port(sentinels[i].host, sentinels[i].port);
    }
    out += "/" + master_name;
    if (db != 0) out += "/" + std::to_string(db);
    if (!sentinel_password.empty()) {
      out += "?sentinel_password=***";
      if (!sentinel_username.empty())
        out += "&sentinel_username=" + percent_encode(sentinel_username);
    }
    return out;
  }
  if (!unix_path.empty()) {
    std::string out = credentials.empty() ? "unix:" : "unix://" + credentials;
    out += unix_path;
    if (db != 0) out += "?db=" + std::to_string(db);
    return out;
  }
  std::string out = "redis://" + credentials;
  out += host_port(host, port);
  if (db != 0) out += "/" + std::to_string(db);
  return out;
}

RedisUrl parse_redis_url(std::string_view text) {
  RedisUrl url;
  if (text.empty()) fail("empty");
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      fail("contains a space or control character (percent-encode it)");
    }
  }
  if (text.starts_with("redis-sentinel://")) {
    parse_sentinel(text.substr(17), url);
  } else if (text.starts_with("redis-cluster://")) {
    parse_cluster(text.substr(16), url);
  } else if (text.starts_with("redis://")) {
    parse_tcp(text.substr(8), url);
  } else if (text.starts_with("unix:")) {
    parse_unix(text.substr(5), url);
  } else if (text.starts_with("rediss://")) {
    fail("TLS (rediss://) is not supported; use redis:// or unix:");
  } else {
    fail(
        "expected redis://[[user]:password@]host[:port][/db], unix:/path/to.sock[?db=N] or "
        "redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/MASTER_NAME[/db]"
        "[?sentinel_password=P] or "
        "redis-cluster://[[user]:password@]host[:port][,host[:port]...]");
  }
  return url;
}

}  // namespace comet
