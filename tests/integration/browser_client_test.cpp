// The browser client (clients/js) in headless Chromium: each case of
// tests/browser/client_test.js against its own redis-server, gateway and
// nginx (rendered from nginx.conf.example, plus the test pages under /test/).
#include <gtest/gtest.h>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

const std::string kSource = COMET_SOURCE_DIR;

// The test pages, the client's two files and Debian's jQuery, in the
// example's server; `extra` goes there too.
std::string test_locations(const std::string& extra = "") {
  return "        location /test/ { alias " + kSource + "/tests/browser/pages/; }\n" +
         "        location = /test/comet.js { alias " + kSource + "/clients/js/comet.js; }\n" +
         "        location = /test/comet.mjs { alias " + kSource + "/clients/js/comet.mjs; }\n" +
         "        location = /test/jquery.js { alias /usr/share/javascript/jquery/jquery.js; }\n" +
         extra;
}

// The gateway's endpoints under /buffered/, with nginx buffering every
// answer, SSE included: fastcgi_buffering on, and the gateway's
// X-Accel-Buffering: no ignored (as a proxy that does not know it would).
const std::string kBufferedLocation = R"(        location /buffered/ {
            fastcgi_pass comet;
            fastcgi_buffering on;
            fastcgi_ignore_headers X-Accel-Buffering;
            fastcgi_read_timeout 75s;
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param DOCUMENT_URI $document_uri;
            fastcgi_param REMOTE_ADDR $remote_addr;
        }
)";

void run_case(Stack& stack, const std::string& name, const std::string& other = "") {
  const std::string base = "http://127.0.0.1:" + std::to_string(stack.http_port()) + "/";
  std::vector<std::string> argv = {"node", kSource + "/tests/browser/client_test.js", name, base};
  if (!other.empty()) argv.push_back(other);
  auto r = run(argv, stack.dir().path(), std::chrono::seconds(90));
  EXPECT_EQ(r.status, 0) << r.out << r.err << stack.logs() << "--- nginx access.log ---\n"
                         << read_file(stack.dir().path() + "/nginx/logs/access.log");
  EXPECT_NE(r.out.find("ok: " + name), std::string::npos) << r.out << r.err;
}

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

// A presence channel's list kept from the entries of an answer: a 'here'
// replaces it, a repeated join or leave calls nothing, members() is a copy.
TEST(BrowserClient, PresenceListRules) {
  run_static("presence-lists");
}

// comet.mjs exports the class comet.js defines (named and default).
TEST(BrowserClient, ModuleExportsTheScriptsClass) {
  run_static("module");
}

// No channels, a bad channel name, a bad transport: a TypeError at once.
TEST(BrowserClient, BadUseThrows) {
  run_static("bad-use");
}

StackOptions browser_stack(std::vector<std::string> gateway_args = {}) {
  StackOptions o;
  o.gateway_args = {"--publish-allow", "127.0.0.1"};
  o.gateway_args.insert(o.gateway_args.end(), gateway_args.begin(), gateway_args.end());
  o.nginx_locations = test_locations();
  return o;
}

// SSE through nginx delivers; the stream ends (--sse-lifetime 2) and the
// next one never answers: the client long-polls from the last event's
// cursor, and what was published meanwhile arrives once.
TEST(BrowserClient, SseCursorCarriesToLongPoll) {
  Stack stack(browser_stack({"--sse-lifetime", "2"}));
  run_case(stack, "sse-to-longpoll");
}

// nginx buffers the stream: the client falls back to long-poll and still
// receives everything.
TEST(BrowserClient, BufferedSseFallsBackToLongPoll) {
  auto o = browser_stack();
  o.nginx_locations = test_locations(kBufferedLocation);
  Stack stack(o);
  run_case(stack, "buffered");
}

// A page served by another origin (a second nginx server): JSONP delivers
// where XHR is refused (no --cors-origin).
TEST(BrowserClient, JsonpFromAnotherOrigin) {
  const int other_port = free_tcp_port();
  auto o = browser_stack();
  o.nginx_servers = "    server {\n        listen 127.0.0.1:" + std::to_string(other_port) + ";\n" +
                    test_locations() + "    }\n";
  Stack stack(o);
  run_case(stack, "jsonp", "http://127.0.0.1:" + std::to_string(other_port) + "/");
}

// An old-style jQuery page in a browser without fetch, Promise, EventSource
// and AbortController: two tabs chat through the demo's PHP.
TEST(BrowserClient, LegacyJqueryPage) {
  auto o = browser_stack();
  o.demo = true;
  Stack stack(o);
  run_case(stack, "legacy");
}

// subscribe/unsubscribe through comet.mjs keep the cursor: no loss, no
// repeat, over SSE and over long-poll.
TEST(BrowserClient, SubscribeKeepsCursorSse) {
  Stack stack(browser_stack());
  run_case(stack, "subscribe-sse");
}

TEST(BrowserClient, SubscribeKeepsCursorLongPoll) {
  Stack stack(browser_stack());
  run_case(stack, "subscribe-longpoll");
}

// pauseWhenHidden: no request while hidden, then on from the cursor.
TEST(BrowserClient, PauseWhenHiddenResumesFromTheCursor) {
  Stack stack(browser_stack());
  run_case(stack, "pause-when-hidden");
}

// Retry-After: 5 of a 429 holds the client back at least 5 s per retry.
TEST(BrowserClient, RetryAfterBoundsTheBackoff) {
  Stack stack(browser_stack({"--max-parked-per-client", "1"}));
  run_case(stack, "retry-after");
}

// shared: true: three tabs hold one parked poll; the leader tab closed
// while a message is on its way, another leads on: no loss, no repeat. With
// Web Locks and BroadcastChannel, and without (localStorage lease, storage
// events).
TEST(BrowserClient, SharedTabsHoldOnePollWebLocks) {
  Stack stack(browser_stack());
  run_case(stack, "shared-locks");
}

TEST(BrowserClient, SharedTabsHoldOnePollLease) {
  Stack stack(browser_stack());
  run_case(stack, "shared-lease");
}

// Presence callbacks: the presence channels p.*, a token per user (made by
// the site's PHP, Comet::token with a user and a name) handed to the pages.
constexpr const char* kSecret = "a-browser-test-secret-of-some-length";

StackOptions presence_stack() {
  return browser_stack({"--token-secret", kSecret, "--presence", "p.*", "--presence-grace", "2"});
}

// {"ann": token, ...}, each user with info {"name": "Ann"} and so on.
std::string presence_tokens(Stack& stack) {
  const std::string code =
      "require '" + kSource + "/clients/php/Comet.php'; $t = []; " +
      "foreach (['ann', 'bob', 'carl', 'dave'] as $u) $t[$u] = Comet::token('" + kSecret +
      "', ['p.*'], 600, ['user' => $u, 'info' => ['name' => " +
      "ucfirst($u)]]); echo json_encode($t);";
  auto r = run({"php", "-r", code}, stack.dir().path(), std::chrono::seconds(30));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  return r.out;
}

// onHere, onJoin, onLeave and members() in tabs of two users, one of them
// with two tabs: his second tab is no join (and starting from the earliest,
// the list it gets already has the joins that follow it: no onJoin), his
// first tab's end no leave, his last tab's end one leave.
TEST(BrowserClient, PresenceCallbacks) {
  Stack stack(presence_stack());
  run_case(stack, "presence", presence_tokens(stack));
}

// shared: a tab that follows another's connection gets the leader's lists
// (onHere with the members who came before it), then the same joins and
// leaves as the leader; leading after it, it keeps its lists.
TEST(BrowserClient, PresenceInASharedFollowerWebLocks) {
  Stack stack(presence_stack());
  run_case(stack, "presence-shared-locks", presence_tokens(stack));
}

TEST(BrowserClient, PresenceInASharedFollowerLease) {
  Stack stack(presence_stack());
  run_case(stack, "presence-shared-lease", presence_tokens(stack));
}

}  // namespace
}  // namespace comet::test
