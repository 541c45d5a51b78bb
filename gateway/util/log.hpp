// Logs: stderr, one line per event, "<UTC time> <level> <component>: <text>".
// Callers never pass secrets.
#pragma once

#include <string_view>

namespace comet {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
// Throws std::invalid_argument for an unknown name.
LogLevel parse_log_level(std::string_view name);
bool log_enabled(LogLevel level);
void log(LogLevel level, std::string_view component, std::string_view text);

}  // namespace comet
