#include "gateway/app/webhook_options.hpp"

#include <charconv>
#include <optional>
#include <stdexcept>

namespace comet {

WebhookUrl parse_webhook_url(std::string_view text) {
  WebhookUrl u;
  u.text = std::string(text);
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument("\"" + u.text + "\": " + why);
  };
  constexpr std::string_view scheme = "http://";
  if (text.starts_with("https://")) {
    throw bad(
        "https:// is not supported; send to http:// (a TLS proxy on the same host can "
        "forward it)");
  }
  if (!text.starts_with(scheme)) throw bad("must start with http://");
  std::string_view rest = text.substr(scheme.size());
  const auto path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view target = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  if (const auto hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  if (authority.find('@') != std::string_view::npos) {
    throw bad("credentials in the URL are not supported (the signature authenticates)");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw bad("spaces or control characters");
  }
  u.host_header = std::string(authority);
  std::string_view host = authority;
  std::optional<std::string_view> port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw bad("unclosed [ in the host");
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') throw bad("unexpected text after ]");
      port = after.substr(1);
    }
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    if (authority.find(':', colon + 1) != std::string_view::npos)
      throw bad("an IPv6 address must be in brackets: http://[::1]:8080/");
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) throw bad("no host");
  u.host = std::string(host);
  if (port) {
    int n = 0;
    const auto [end, ec] = std::from_chars(port->data(), port->data() + port->size(), n);
    if (port->empty() || ec != std::errc() || end != port->data() + port->size() || n < 1 ||
        n > 65535) {
      throw bad("the port must be 1 to 65535");
    }
    u.port = std::to_string(n);
  }
  if (target.empty()) {
    u.target = "/";
  } else if (target[0] == '?') {
    u.target = "/" + std::string(target);
  } else {
    u.target = std::string(target);
  }
  return u;
}

}  // namespace comet
