// The demo chat in a real browser: headless Chromium (driven by
// tests/browser/demo_chat.js) opens two tabs through nginx; a message typed
// in one goes PHP -> Redis PUBLISH -> gateway -> the other tab, both ways.
#include <gtest/gtest.h>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

TEST(DemoBrowser, TwoTabsChat) {
  StackOptions options;
  options.demo = true;
  Stack stack(options);
  const std::string url = "http://127.0.0.1:" + std::to_string(stack.http_port()) + "/demo/";
  auto r = run({"node", std::string(COMET_SOURCE_DIR) + "/tests/browser/demo_chat.js", url,
                stack.dir().path() + "/demo.png"},
               stack.dir().path(), std::chrono::seconds(60));
  EXPECT_EQ(r.status, 0) << r.out << r.err << stack.logs();
  EXPECT_NE(r.out.find("ok: both tabs saw both messages"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace comet::test
