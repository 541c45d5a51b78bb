// The gateway's log: one line per event on stderr,
//   2026-12-01T08:00:00.123Z warn redis: subscription lost (...)
// with a level, a component and text whose control characters are
// flattened, so that an event never spans lines. A Logger is made once (by
// main) and handed by reference to every part that logs; its level may
// change while it runs (SIGHUP).
#pragma once

#include <functional>
#include <string_view>

namespace comet {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

// "debug", "info", "warn" (or "warning"), "error"; throws
// std::invalid_argument otherwise (startup and config only).
LogLevel parse_log_level(std::string_view name);
const char* log_level_name(LogLevel level);

class Logger {
 public:
  // Receives each whole line, newline included.
  using Sink = std::function<void(std::string_view line)>;

  // Without a sink, lines go to stderr, one write(2) each, so that lines
  // from a crash or a signal do not interleave.
  explicit Logger(LogLevel level = LogLevel::info, Sink sink = {});

  void set_level(LogLevel level) { level_ = level; }
  LogLevel level() const { return level_; }
  bool enabled(LogLevel level) const { return level >= level_; }
  void log(LogLevel level, std::string_view component, std::string_view text) const;

 private:
  LogLevel level_;
  Sink sink_;
};

}  // namespace comet
