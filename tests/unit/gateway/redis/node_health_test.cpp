#include "gateway/redis/node_health.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

using namespace std::chrono_literals;

const Clock::time_point t0 = Clock::time_point() + 1000s;

TEST(NodeHealth, AFailedNodeRestsDoublingPerFailure) {
  NodeHealth h;
  EXPECT_FALSE(h.down("a:1"));
  EXPECT_TRUE(h.failed("a:1", t0));  // the first: worth a log line
  EXPECT_TRUE(h.down("a:1"));
  EXPECT_TRUE(h.resting("a:1", t0 + 249ms));
  EXPECT_FALSE(h.resting("a:1", t0 + 250ms));
  EXPECT_FALSE(h.failed("a:1", t0 + 300ms));
  EXPECT_TRUE(h.resting("a:1", t0 + 300ms + 499ms));
  EXPECT_FALSE(h.resting("a:1", t0 + 300ms + 500ms));
  // Up to kMaxRest.
  for (int i = 0; i < 10; ++i) h.failed("a:1", t0);
  EXPECT_TRUE(h.resting("a:1", t0 + NodeHealth::kMaxRest - 1ms));
  EXPECT_FALSE(h.resting("a:1", t0 + NodeHealth::kMaxRest));
  // Down but rested: still down until it answers.
  EXPECT_TRUE(h.down("a:1"));
}

TEST(NodeHealth, RecoveredCountsTheFailuresAndStartsAfresh) {
  NodeHealth h;
  EXPECT_FALSE(h.recovered("a:1"));
  h.failed("a:1", t0);
  h.failed("a:1", t0);
  h.failed("a:1", t0);
  EXPECT_EQ(h.recovered("a:1"), 3);
  EXPECT_FALSE(h.down("a:1"));
  EXPECT_TRUE(h.failed("a:1", t0));
  EXPECT_FALSE(h.resting("a:1", t0 + NodeHealth::kMinRest));
}

TEST(NodeHealth, NodesThatLeftTheMapAreForgotten) {
  NodeHealth h;
  h.failed("a:1", t0);
  h.failed("b:2", t0);
  h.keep_only([](const std::string& n) { return n == "b:2"; });
  EXPECT_FALSE(h.down("a:1"));
  EXPECT_TRUE(h.down("b:2"));
  h.clear();
  EXPECT_FALSE(h.down("b:2"));
}

}  // namespace
}  // namespace comet
