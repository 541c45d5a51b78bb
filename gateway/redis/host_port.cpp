#include "gateway/redis/host_port.hpp"

namespace comet {

std::string host_port(std::string_view host, int port) {
  std::string out;
  if (host.find(':') == std::string_view::npos) {
    out = host;
  } else {
    out.append("[").append(host).append("]");
  }
  return out + ":" + std::to_string(port);
}

std::string host_of(std::string_view text) {
  const auto colon = text.rfind(':');
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::string(host);
}

}  // namespace comet
