// The browser client (clients/js): the checks of
// tests/browser/static_checks.js, through node.
#include <gtest/gtest.h>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace comet::test {
namespace {

const std::string kSource = COMET_SOURCE_DIR;

// A check of tests/browser/static_checks.js: no browser, no server.
void run_static(const std::string& name) {
  TempDir dir;
  auto r = run({"node", kSource + "/tests/browser/static_checks.js", name}, dir.path(),
               std::chrono::seconds(60));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok: " + name), std::string::npos) << r.out << r.err;
}

// comet.js parses as ES5 (acorn, ecmaVersion 5) and names no later built-in.
TEST(BrowserClient, ScriptIsEs5) {
  run_static("es5");
}

// comet.d.ts / comet.d.mts type-check (tsc, strict) with a typed page, and
// declare the methods comet.js has.
TEST(BrowserClient, TypesMatchTheScript) {
  run_static("types");
}

// comet.mjs exports the class comet.js defines (named and default).
TEST(BrowserClient, ModuleExportsTheScriptsClass) {
  run_static("module");
}

// No channels, a bad channel name, a bad transport: a TypeError at once.
TEST(BrowserClient, BadUseThrows) {
  run_static("bad-use");
}

}  // namespace
}  // namespace comet::test
