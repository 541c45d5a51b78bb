// Mount-agnostic routing: the endpoint is the last segment of the request
// path, whatever prefix the web server mounted the gateway under.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace comet {

enum class Endpoint { poll, sse, publish, channels, stats, health, unknown };

// docs/API.md: DOCUMENT_URI when non-empty (nginx), else SCRIPT_NAME + PATH_INFO
// (Apache, lighttpd, Caddy), else the path of REQUEST_URI.
std::string request_path(const std::function<std::string_view(std::string_view)>& param);

Endpoint endpoint_for_path(std::string_view path);
std::string_view endpoint_name(Endpoint e);

}  // namespace comet
