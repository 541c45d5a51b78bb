#include "gateway/redis/commands.hpp"

namespace comet {

std::vector<std::string> auth_command(std::string_view username, std::string_view password) {
  if (username.empty() && password.empty()) return {};
  if (!username.empty()) return {"AUTH", std::string(username), std::string(password)};
  return {"AUTH", std::string(password)};
}

std::vector<std::string> sentinel_auth_command(const RedisUrl& url) {
  if (url.sentinel_password.empty()) return {};
  return auth_command(url.sentinel_username, url.sentinel_password);
}

std::vector<std::string> function_load_command(std::string_view library) {
  return {"FUNCTION", "LOAD", std::string(library)};
}

}  // namespace comet
