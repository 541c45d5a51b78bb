// Occupancy end to end: each gateway reports its clients per channel to
// Redis every 2 s; Comet::occupancy() in PHP and GET .../channels (for the
// back end, admitted like publish) sum the reports of the gateways alive. A
// gateway killed with kill -9 stops reporting, and its clients lapse.
#include <gtest/gtest.h>

#include "tests/support/fcgi_client.hpp"
#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

constexpr const char* kSecret = "an-example-secret-of-some-length";

std::string php(Stack& stack, const std::string& code) {
  auto r = run({"php", "-r",
                "require '" + std::string(COMET_SOURCE_DIR) + "/clients/php/Comet.php'; " + code},
               stack.dir().path(), 30s);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  return r.out;
}

json occupancy(Stack& stack) {
  return json::parse(php(stack, "$r = new Redis(); $r->connect('127.0.0.1', " +
                                    std::to_string(stack.redis().port()) +
                                    "); echo json_encode(Comet::occupancy($r, ['news', "
                                    "'lobby.1', 'nobody']));"));
}

// A poll parked straight on gateway `g` (its FastCGI socket), held open.
fcgi::Connection park(Gateway& g, const std::string& query) {
  auto c = fcgi::Connection::unix_socket(g.socket_path());
  c.send_request(1, fcgi::request_params("GET", "/comet/poll", query), false);
  return c;
}

TEST(Occupancy, SumsTheGatewaysClientsAndADeadGatewaysLapse) {
  StackOptions o;
  o.gateways = 2;
  o.gateway_args = {"--token-secret",   kSecret, "--presence",      "lobby.*",
                    "--public-channel", "news",  "--publish-allow", "127.0.0.1"};
  Stack stack(o);
  const std::string token = url_encode(php(stack, "echo Comet::token('" + std::string(kSecret) +
                                                      "', ['lobby.*'], 600, ['user' => 'ann']);"));
  // A cursor for the presence channel: its first answer is the members,
  // the next one ann's own join.
  auto first = stack.gateway(1).request("GET", "poll", "channel=lobby.1&timeout=0&token=" + token);
  ASSERT_EQ(first.status, 200) << first.body;
  auto joined = stack.gateway(1).request(
      "GET", "poll",
      "channel=lobby.1&timeout=10&token=" + token +
          "&since=" + url_encode(json::parse(first.body)["cursor"].get<std::string>()));
  ASSERT_NE(joined.body.find("\"presence\":\"join\""), std::string::npos) << joined.body;
  const std::string cursor = url_encode(json::parse(joined.body)["cursor"]);

  std::vector<fcgi::Connection> polls;
  polls.push_back(park(stack.gateway(0), "channel=news&timeout=60"));
  polls.push_back(park(stack.gateway(0), "channel=news&timeout=60"));
  polls.push_back(park(stack.gateway(1), "channel=news&timeout=60"));
  polls.push_back(park(stack.gateway(1), "channel=lobby.1&channel=news&timeout=60&token=" + token +
                                             "&since=" + cursor));
  ASSERT_TRUE(wait_until(
      [&] {
        auto n = occupancy(stack);
        return n["news"] == 4 && n["lobby.1"] == 1 && n["nobody"] == 0;
      },
      15s))
      << occupancy(stack).dump() << stack.logs();

  auto all = stack.get("/comet/channels");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(
      json::parse(all.body),
      json::parse(R"({"channels":{"lobby.1":{"clients":1,"users":1},"news":{"clients":4}}})"));
  auto some = stack.get("/comet/channels?prefix=lob");
  EXPECT_EQ(json::parse(some.body),
            json::parse(R"({"channels":{"lobby.1":{"clients":1,"users":1}}})"));
  EXPECT_EQ(stack.get("/comet/channels?prefix=a%20b").status, 400);
  // Not for the public: another address is refused by nginx, and by the
  // gateway itself (--publish-allow), as publish is.
  auto outside =
      http_request(stack.http_port(), "GET", "/comet/channels", {}, {}, 10s, "127.0.0.2");
  EXPECT_EQ(outside.status, 403);
  auto params = fcgi::request_params("GET", "/comet/channels", "");
  for (auto& [name, value] : params) {
    if (name == "REMOTE_ADDR") value = "10.1.2.3";
  }
  auto direct =
      fcgi::request(fcgi::Connection::unix_socket(stack.gateway(0).socket_path()), params, 10s);
  auto refused = fcgi::parse_cgi_response(direct.out);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["error"], "forbidden");

  // Gateway 1 dies: its two clients lapse with its report (10 s).
  stack.kill9_gateway(1);
  ASSERT_TRUE(wait_until(
      [&] {
        auto n = occupancy(stack);
        return n["news"] == 2 && n["lobby.1"] == 0;
      },
      20s, 100ms))
      << occupancy(stack).dump() << stack.logs();
}

}  // namespace
}  // namespace comet::test
