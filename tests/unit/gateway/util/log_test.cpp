#include "gateway/util/log.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace comet {
namespace {

struct Lines {
  std::vector<std::string> got;
  Logger logger(LogLevel level) {
    return Logger(level, [this](std::string_view l) { got.emplace_back(l); });
  }
};

TEST(Logger, OneLinePerEventWithLevelAndComponent) {
  Lines lines;
  Logger log = lines.logger(LogLevel::info);
  log.log(LogLevel::warn, "redis", "subscription lost (reset)");
  ASSERT_EQ(lines.got.size(), 1u);
  const std::string& l = lines.got[0];
  // 2026-12-01T08:00:00.123Z warn redis: subscription lost (reset)\n
  ASSERT_GT(l.size(), 25u);
  EXPECT_EQ(l[4], '-');
  EXPECT_EQ(l[10], 'T');
  EXPECT_EQ(l.substr(23, 2), "Z ");
  EXPECT_EQ(l.substr(25), "warn redis: subscription lost (reset)\n");
}

TEST(Logger, BelowTheLevelNothingAndTheLevelChangesAtRunTime) {
  Lines lines;
  Logger log = lines.logger(LogLevel::warn);
  log.log(LogLevel::info, "main", "quiet");
  EXPECT_TRUE(lines.got.empty());
  EXPECT_FALSE(log.enabled(LogLevel::info));
  log.set_level(LogLevel::debug);
  log.log(LogLevel::debug, "main", "now");
  EXPECT_EQ(lines.got.size(), 1u);
}

TEST(Logger, ControlCharactersNeverSplitALine) {
  Lines lines;
  Logger log = lines.logger(LogLevel::debug);
  log.log(LogLevel::error, "redis", std::string("ERR bad\r\ninjected: line\x7f\x01", 26));
  ASSERT_EQ(lines.got.size(), 1u);
  const std::string& l = lines.got[0];
  EXPECT_EQ(l.find('\n'), l.size() - 1);
  EXPECT_EQ(l.find('\r'), std::string::npos);
  EXPECT_NE(l.find("ERR bad  injected: line  "), std::string::npos) << l;
}

TEST(Logger, LevelNames) {
  EXPECT_EQ(parse_log_level("warning"), LogLevel::warn);
  EXPECT_STREQ(log_level_name(parse_log_level("debug")), "debug");
  EXPECT_THROW(parse_log_level("loud"), std::invalid_argument);
}

}  // namespace
}  // namespace comet
