#include "gateway/http/route.hpp"

namespace comet {

std::string request_path(const std::function<std::string_view(std::string_view)>& param) {
  if (auto doc = param("DOCUMENT_URI"); !doc.empty()) return std::string(doc);
  std::string path(param("SCRIPT_NAME"));
  path.append(param("PATH_INFO"));
  if (!path.empty()) return path;
  std::string_view uri = param("REQUEST_URI");
  return std::string(uri.substr(0, uri.find('?')));
}

Endpoint endpoint_for_path(std::string_view path) {
  const auto slash = path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (last == "poll") return Endpoint::poll;
  if (last == "sse") return Endpoint::sse;
  if (last == "publish") return Endpoint::publish;
  if (last == "channels") return Endpoint::channels;
  if (last == "stats") return Endpoint::stats;
  if (last == "health") return Endpoint::health;
  return Endpoint::unknown;
}

std::string_view endpoint_name(Endpoint e) {
  switch (e) {
    case Endpoint::poll:
      return "poll";
    case Endpoint::sse:
      return "sse";
    case Endpoint::publish:
      return "publish";
    case Endpoint::channels:
      return "channels";
    case Endpoint::stats:
      return "stats";
    case Endpoint::health:
      return "health";
    case Endpoint::unknown:
      break;
  }
  return "unknown";
}

}  // namespace comet
