// Laravel Broadcasting and laravel-echo through the gateway: the test app of
// tests/laravel (Debian's php-laravel-framework with the glue of
// clients/php/laravel) on a private php-fpm pool behind nginx (rendered from
// nginx.conf.example, the app's locations added as a Laravel site has them),
// Redis and a gateway with access control on; pages using laravel-echo from
// npm and clients/js/comet-echo.js in headless Chromium
// (tests/browser/laravel_test.js), and the connector against canned gateway
// answers in node (tests/browser/echo_connector_test.js).
#include <gtest/gtest.h>

#include "tests/support/php_fpm.hpp"
#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

const std::string kSource = COMET_SOURCE_DIR;
const std::string kApp = kSource + "/tests/laravel";
const std::string kSecret = "laravel-test-secret-0123456789";

// The app's site: its public/ with index.php as the front controller (as
// Laravel's own nginx example has it), the scripts the page loads, and the
// gateway's /comet/ of nginx.conf.example beside them.
std::string laravel_locations(int fpm_port) {
  return "        location /js/ { alias " + kSource + "/clients/js/; }\n" +
         "        location /js/laravel-echo/ { alias " + kSource +
         "/tests/browser/node_modules/laravel-echo/dist/; }\n" + "        location / {\n" +
         "            root " + kApp + "/public;\n" +
         "            try_files $uri /index.php?$query_string;\n" + "        }\n" +
         "        location = /index.php {\n" + "            root " + kApp + "/public;\n" +
         "            include /etc/nginx/fastcgi_params;\n" +
         "            fastcgi_param SCRIPT_FILENAME $document_root/index.php;\n" +
         "            fastcgi_pass 127.0.0.1:" + std::to_string(fpm_port) + ";\n" + "        }\n";
}

// A case of tests/browser/echo_connector_test.js: no browser, no server.
void run_connector_case(const std::string& name) {
  TempDir dir;
  auto r = run({"node", kSource + "/tests/browser/echo_connector_test.js", name}, dir.path(),
               std::chrono::seconds(60));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok: " + name), std::string::npos) << r.out << r.err;
}

// Echo.join(c).here/joining/leaving from the gateway's presence entries:
// here with the members' info, once and again after a gap; a join of a user
// already there and a leave of one never there call nothing.
TEST(LaravelEcho, PresenceEntriesMapToHereJoiningLeaving) {
  run_connector_case("presence");
}

// The page's own user (the auth answer's channel_data) is in each list
// here() gets, also before its own join has come; its own joins and leaves
// call nothing.
TEST(LaravelEcho, PresenceListsIncludeThePagesOwnUser) {
  run_connector_case("presence-own-user");
}

// Laravel's event names (namespaced, '.'-prefixed, listenToAll), an event
// carrying this page's socket id dropped, stopListening, leave.
TEST(LaravelEcho, EventNamesToOthersAndLeave) {
  run_connector_case("events");
}

// One token for the page's guarded channels: each auth names the others
// held; a refused channel gets its error() and stays out of the polls; a
// gateway 403 fetches a new token for all, leaving out what the app now
// refuses.
TEST(LaravelEcho, OneTokenForTheGuardedChannels) {
  run_connector_case("tokens");
}

class Laravel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (php_fpm_binary().empty()) GTEST_SKIP() << "php-fpm is not installed";
    const int fpm_port = free_tcp_port();
    StackOptions o;
    // Laravel's redis connection prefix; access control on, the app's public
    // channels open, its presence channels with a short grace.
    o.gateway_args = {"--prefix",         "laravel_database_",
                      "--token-secret",   kSecret,
                      "--public-channel", "orders",
                      "--public-channel", "news",
                      "--presence",       "presence-*",
                      "--presence-grace", "1"};
    o.nginx_locations = laravel_locations(fpm_port);
    stack_ = std::make_unique<Stack>(o);
    const std::string dir = stack_->dir().subdir("fpm");
    fpm_ = std::make_unique<PhpFpm>(
        dir,
        std::vector<std::string>{"REDIS_PORT=" + std::to_string(stack_->redis().port()),
                                 "COMET_TOKEN_SECRET=" + kSecret,
                                 "COMET_CLIENTS_PHP=" + kSource + "/clients/php",
                                 // Laravel's caches, out of the source tree.
                                 "APP_PACKAGES_CACHE=" + dir + "/packages.php",
                                 "APP_SERVICES_CACHE=" + dir + "/services.php"},
        fpm_port);
  }

  void run_case(const std::string& name) {
    const std::string base = "http://127.0.0.1:" + std::to_string(stack_->http_port()) + "/";
    auto r = run({"node", kSource + "/tests/browser/laravel_test.js", name, base},
                 stack_->dir().path(), std::chrono::seconds(90));
    EXPECT_EQ(r.status, 0) << r.out << r.err << stack_->logs() << "--- php-fpm ---\n"
                           << fpm_->log() << "--- nginx access.log ---\n"
                           << read_file(stack_->dir().path() + "/nginx/logs/access.log");
    EXPECT_NE(r.out.find("ok: " + name), std::string::npos) << r.out << r.err;
  }

  std::unique_ptr<Stack> stack_;
  std::unique_ptr<PhpFpm> fpm_;
};

// Echo.channel(c).listen('OrderShipped') gets App\Events\OrderShipped,
// .listen('.invoice.paid') the broadcastAs name, and nothing else; no token
// on public channels.
TEST_F(Laravel, PublicChannelEventsByNameAndBroadcastAs) {
  run_case("public");
}

// Echo.private(c): the user the channel callback allows receives; the one
// it refuses gets 403 from /broadcasting/auth, is refused by the gateway,
// and receives nothing.
TEST_F(Laravel, PrivateChannelOnlyForTheUserTheCallbackAllows) {
  run_case("private");
}

// broadcast(...)->toOthers(): the sending page (its X-Socket-ID) does not
// receive its own event, on public and private channels; another page does.
TEST_F(Laravel, ToOthersSkipsTheSendingPage) {
  run_case("to-others");
}

// Echo.join(c) on a presence channel of the app: here() lists who is
// there, the page's own user included; joining() once per user, however
// many tabs; leaving() once the user's last tab has closed, after the
// grace; members as the presence callback returned them; a user the
// callback refuses gets 403 and never appears; listen() gets the app's
// events broadcast on a PresenceChannel.
TEST_F(Laravel, PresenceChannelHereJoiningLeaving) {
  run_case("presence");
}

// The same with long polls (the pages above use SSE): a closed tab's
// parked poll ends the user's request there as a stream's end does.
TEST_F(Laravel, PresenceChannelHereJoiningLeavingLongPoll) {
  run_case("presence-longpoll");
}

// Echo.leave(c) stops delivery on c; the other channel goes on.
TEST_F(Laravel, LeaveStopsDelivery) {
  run_case("leave");
}

}  // namespace
}  // namespace comet::test
