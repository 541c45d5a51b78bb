// Commands that more than one connection sends, built in one place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace comet {

// AUTH with the ACL user when one is given (Redis 6+), else the legacy
// one-argument form; empty when there are no credentials (send nothing).
std::vector<std::string> auth_command(std::string_view username, std::string_view password);

// FUNCTION LOAD of a library's source (deploy/redis/comet.lua).
std::vector<std::string> function_load_command(std::string_view library);

}  // namespace comet
