// The gateway as a FastCGI responder, without nginx: driven by cgi-fcgi
// (libfcgi's own client, an independent peer) and by the raw test client
// (several requests multiplexed on one FCGI_KEEP_CONN connection, streams
// split over many records, routing the way Apache and lighttpd send it,
// FCGI_GET_VALUES).
#include <gtest/gtest.h>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

class FcgiTest : public ::testing::Test {
 protected:
  FcgiTest() : stack_(StackOptions::without_nginx()) {}
  void TearDown() override {
    if (HasFailure()) std::cerr << stack_.logs();
  }

  std::unique_ptr<Process> cgi_fcgi(const std::string& query) {
    ProcessOptions opt;
    opt.log_dir = stack_.dir().path();
    opt.name = "cgi-fcgi";
    opt.env = {"REQUEST_METHOD=GET",
               "DOCUMENT_URI=/comet/poll",
               "SCRIPT_NAME=/comet/poll",
               "REQUEST_URI=/comet/poll?" + query,
               "QUERY_STRING=" + query,
               "SERVER_PROTOCOL=HTTP/1.1",
               "GATEWAY_INTERFACE=CGI/1.1",
               "REMOTE_ADDR=127.0.0.1",
               "CONTENT_LENGTH="};
    return std::make_unique<Process>(
        std::vector<std::string>{"cgi-fcgi", "-bind", "-connect",
                                 "127.0.0.1:" + std::to_string(stack_.gateway().tcp_port())},
        opt);
  }

  Stack stack_;
};

fcgi::Params poll_params(const std::string& query) {
  return fcgi::request_params("GET", "/comet/poll", query);
}

json poll_json(const fcgi::Result& r) {
  EXPECT_EQ(r.protocol_status, fcgi::kRequestComplete);
  return expect_poll_response(fcgi::parse_cgi_response(r.out));
}

TEST_F(FcgiTest, CgiFcgiTimeoutZero) {
  auto p = cgi_fcgi("channel=x&timeout=0");
  ASSERT_EQ(p->wait_exit(std::chrono::seconds(10)), 0) << p->output();
  json j = expect_poll_response(fcgi::parse_cgi_response(p->stdout_text()));
  EXPECT_TRUE(j["messages"].empty());
}

TEST_F(FcgiTest, CgiFcgiParkedPollReleasedByPublish) {
  auto p = cgi_fcgi("channel=x&timeout=20");
  ASSERT_TRUE(stack_.wait_parked(1)) << p->output();
  stack_.publish("x", "via cgi-fcgi");
  ASSERT_EQ(p->wait_exit(std::chrono::seconds(10)), 0) << p->output();
  json j = expect_poll_response(fcgi::parse_cgi_response(p->stdout_text()));
  ASSERT_EQ(j["messages"].size(), 1u) << p->stdout_text();
  EXPECT_EQ(message_bytes(j["messages"][0]), "via cgi-fcgi");
}

TEST_F(FcgiTest, ThreeRequestsMultiplexedOnOneConnection) {
  auto conn = stack_.gateway().connect();
  conn.send_request(1, poll_params("channel=mux&timeout=20"), /*keep_conn=*/true);
  conn.send_request(2, poll_params("channel=mux&timeout=20"), true);
  ASSERT_TRUE(stack_.wait_parked(2)) << "parked: " << stack_.parked();

  // A third request on the same connection is answered at once while the
  // other two stay parked.
  conn.send_request(3, poll_params("channel=other&timeout=0"), true);
  auto third = conn.wait_end(3, std::chrono::seconds(5));
  ASSERT_TRUE(third.has_value()) << "timeout=0 request not answered while others are parked";
  EXPECT_TRUE(poll_json(*third)["messages"].empty());
  EXPECT_FALSE(conn.ended(1));
  EXPECT_FALSE(conn.ended(2));

  stack_.publish("mux", "both");
  for (std::uint16_t id : {1, 2}) {
    auto r = conn.wait_end(id, std::chrono::seconds(10));
    ASSERT_TRUE(r.has_value()) << "request " << id << " not released";
    json j = poll_json(*r);
    ASSERT_EQ(j["messages"].size(), 1u) << r->out;
    EXPECT_EQ(message_bytes(j["messages"][0]), "both");
  }

  // FCGI_KEEP_CONN: the connection stays open for the next request, and a
  // request id may be reused once its request ended.
  EXPECT_FALSE(conn.peer_closed());
  conn.send_request(1, poll_params("channel=mux&timeout=0"), true);
  auto again = conn.wait_end(1, std::chrono::seconds(5));
  ASSERT_TRUE(again.has_value());
  poll_json(*again);
}

TEST_F(FcgiTest, WithoutKeepConnTheGatewayCloses) {
  auto conn = stack_.gateway().connect();
  conn.send_request(1, poll_params("channel=k&timeout=0"), /*keep_conn=*/false);
  auto r = conn.wait_end(1, std::chrono::seconds(5));
  ASSERT_TRUE(r.has_value());
  poll_json(*r);
  EXPECT_TRUE(wait_until([&] { return conn.peer_closed(); }, std::chrono::seconds(5)));
}

TEST_F(FcgiTest, StreamsSplitOverManyRecords) {
  auto conn = fcgi::Connection::unix_socket(stack_.gateway().socket_path());
  conn.begin_request(7, true);
  for (const auto& param : poll_params("channel=split&timeout=0")) {
    // Name and value split between two records.
    std::string nv = fcgi::encode_name_value(param.first, param.second);
    std::size_t half = nv.size() / 2;
    conn.write_raw(fcgi::encode_record(fcgi::kParams, 7, nv.substr(0, half)));
    conn.write_raw(fcgi::encode_record(fcgi::kParams, 7, nv.substr(half)));
  }
  conn.end_params(7);
  conn.end_stdin(7);
  auto r = conn.wait_end(7, std::chrono::seconds(5));
  ASSERT_TRUE(r.has_value());
  poll_json(*r);
}

TEST_F(FcgiTest, RoutesFromScriptNameAndPathInfo) {
  // Apache's mod_proxy_fcgi and lighttpd: no DOCUMENT_URI.
  fcgi::Params params{{"REQUEST_METHOD", "GET"},
                      {"SCRIPT_NAME", "/comet"},
                      {"PATH_INFO", "/poll"},
                      {"REQUEST_URI", "/comet/poll?channel=ap&timeout=0"},
                      {"QUERY_STRING", "channel=ap&timeout=0"},
                      {"SERVER_PROTOCOL", "HTTP/1.1"}};
  poll_json(fcgi::request(stack_.gateway().connect(), params, std::chrono::seconds(5)));

  fcgi::Params only_uri{{"REQUEST_METHOD", "GET"},
                        {"DOCUMENT_URI", ""},
                        {"REQUEST_URI", "/deep/mount/comet/poll?channel=ap&timeout=0"},
                        {"QUERY_STRING", "channel=ap&timeout=0"}};
  poll_json(fcgi::request(stack_.gateway().connect(), only_uri, std::chrono::seconds(5)));
}

TEST_F(FcgiTest, GetValues) {
  auto conn = stack_.gateway().connect();
  std::string names = fcgi::encode_name_value("FCGI_MAX_CONNS", "") +
                      fcgi::encode_name_value("FCGI_MAX_REQS", "") +
                      fcgi::encode_name_value("FCGI_MPXS_CONNS", "");
  conn.write_raw(fcgi::encode_record(fcgi::kGetValues, 0, names));
  auto rec = conn.wait_management(std::chrono::seconds(5));
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->first, fcgi::kGetValuesResult);
  std::map<std::string, std::string> values;
  for (auto& [n, v] : fcgi::decode_name_values(rec->second)) values[n] = v;
  EXPECT_EQ(values["FCGI_MPXS_CONNS"], "1");
  EXPECT_FALSE(values["FCGI_MAX_REQS"].empty());
  EXPECT_FALSE(values["FCGI_MAX_CONNS"].empty());
}

// fcgi/ refuses input over the limits before any endpoint sees it; the
// gateway words the answer in the API's JSON error form, byte for byte.
TEST(FcgiLimits, ParamsAndBodyOverTheLimitsAreAnsweredInTheApiErrorForm) {
  StackOptions o = StackOptions::without_nginx();
  o.gateway_args = {"--max-params-bytes", "2000", "--max-body-bytes", "16"};
  Stack stack(o);
  const std::string head =
      "Status: 413 Payload Too Large\r\nContent-Type: application/json\r\n"
      "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ";
  auto params = poll_params("channel=big&timeout=0");
  params.emplace_back("HTTP_X_FILLER", std::string(3000, 'f'));
  const auto big = fcgi::request(stack.gateway().connect(), params, std::chrono::seconds(5));
  const std::string params_body =
      R"({"error":"params_too_large","message":"request params exceed 2000 bytes"})";
  EXPECT_EQ(big.out, head + std::to_string(params_body.size()) + "\r\n\r\n" + params_body);
  EXPECT_EQ(big.protocol_status, fcgi::kRequestComplete);

  const std::string body(17, 'x');
  const auto long_body = fcgi::request(
      stack.gateway().connect(), fcgi::request_params("POST", "/comet/publish", "channel=b", body),
      std::chrono::seconds(5), body);
  const std::string body_body =
      R"({"error":"body_too_large","message":"request body exceeds 16 bytes"})";
  EXPECT_EQ(long_body.out, head + std::to_string(body_body.size()) + "\r\n\r\n" + body_body);
  if (HasFailure()) std::cerr << stack.logs();
}

}  // namespace
}  // namespace comet::test
