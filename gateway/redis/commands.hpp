// Commands that more than one connection sends, built in one place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gateway/redis/redis_url.hpp"

namespace comet {

// AUTH with the ACL user when one is given (Redis 6+), else the legacy
// one-argument form; empty when there are no credentials (send nothing).
std::vector<std::string> auth_command(std::string_view username, std::string_view password);

// AUTH to a sentinel: the sentinels' own credentials
// (?sentinel_password=...&sentinel_username=...), which count only with a
// password; empty when there is none.
std::vector<std::string> sentinel_auth_command(const RedisUrl& url);

// FUNCTION LOAD of a library's source (deploy/redis/comet.lua).
std::vector<std::string> function_load_command(std::string_view library);

}  // namespace comet
