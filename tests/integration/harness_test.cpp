// The test harness itself, and the parts of the stack that do not need the
// gateway: processes, redis-server, PHP publishing through Comet.php, nginx
// rendered from nginx.conf.example serving the demo and its PHP endpoint.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "tests/support/fcgi_client.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/php.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/stack.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {
namespace {

// Subscribes to `comet:<channel>` and waits for the confirmation.
std::unique_ptr<RespClient> subscribe(int port, const std::string& channel) {
  auto c = std::make_unique<RespClient>(port);
  auto r = c->command({"SUBSCRIBE", "comet:" + channel});
  EXPECT_EQ(r.type, RespValue::Type::array);
  return c;
}

std::string next_message(RespClient& c) {
  auto v = c.read(std::chrono::seconds(10));
  if (!v) {
    ADD_FAILURE() << "no message from Redis";
    return {};
  }
  EXPECT_EQ(v->type, RespValue::Type::array);
  EXPECT_EQ(v->elements.size(), 3u);
  if (v->elements.size() != 3) return {};
  EXPECT_EQ(v->elements[0].str, "message");
  return v->elements[2].str;
}

TEST(Harness, ProcessCapturesOutputAndExitStatus) {
  TempDir dir;
  auto r = run({"sh", "-c", "printf 'out'; printf 'err' >&2; exit 3"}, dir.path(),
               std::chrono::seconds(10));
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.out, "out");
  EXPECT_EQ(r.err, "err");
}

TEST(Harness, ProcessIsStoppedByPidWithinBound) {
  TempDir dir;
  ProcessOptions opt;
  opt.log_dir = dir.path();
  opt.stop_timeout = std::chrono::milliseconds(500);
  // Ignores SIGTERM: the stop must fall back to SIGKILL.
  Process p({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"}, opt);
  ASSERT_TRUE(wait_until([&] { return p.stdout_text() == "ready\n"; }, std::chrono::seconds(5)));
  auto start = Clock::now();
  auto status = p.stop();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 128 + SIGKILL);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

TEST(Harness, MissingProgramExits127) {
  TempDir dir;
  auto r = run({"comet-no-such-program"}, dir.path(), std::chrono::seconds(10));
  EXPECT_EQ(r.status, 127);
}

TEST(Harness, RedisKillAndRestartOnSamePort) {
  TempDir dir;
  RedisServer redis(dir.path());
  int port = redis.port();
  redis.kill9();
  EXPECT_FALSE(tcp_accepts(port));
  redis.restart();
  EXPECT_EQ(redis.port(), port);
  RespClient c(port);
  EXPECT_EQ(c.command({"PING"}).str, "PONG");
}

TEST(Harness, PhpPublishIsByteExact) {
  TempDir dir;
  RedisServer redis(dir.path());
  auto sub = subscribe(redis.port(), "bytes");

  const std::string utf8 = "h\xC3\xA9llo \"q\" back\\slash\nline \xF0\x9F\x98\x80\t";
  std::string binary(
      "\xff\xfe\x00\x01"
      "abc\x80\x00",
      9);
  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);

  for (const auto& payload : {utf8, binary, big, std::string()}) {
    php_publish(dir.path(), redis.port(), "bytes", payload);
    EXPECT_EQ(next_message(*sub), payload);
  }
}

TEST(Harness, PhpBurstPublishesInOrder) {
  TempDir dir;
  RedisServer redis(dir.path());
  auto sub = subscribe(redis.port(), "burst");
  auto php = php_publish_burst(dir.path(), redis.port(), "burst", 1000);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(next_message(*sub), "{\"seq\":" + std::to_string(i) + "}");
  }
  EXPECT_EQ(php->wait_exit(std::chrono::seconds(30)), 0) << php->output();
}

TEST(Harness, CometPhpHelper) {
  TempDir dir;
  const std::string script = R"php(
require getenv('COMET_PHP');
$t = Comet::token('s3cret', ['chat.42', 'user.7.*'], 60);
[$payload, $sig] = explode('.', $t);
$b64 = function ($s) { return rtrim(strtr(base64_encode($s), '+/', '-_'), '='); };
$claims = json_decode(base64_decode(strtr($payload, '-_', '+/')), true);
$checks = [
  'sig' => hash_equals($b64(hash_hmac('sha256', $payload, 's3cret', true)), $sig),
  'ch' => $claims['ch'] === ['chat.42', 'user.7.*'],
  'exp' => abs($claims['exp'] - (time() + 60)) <= 2,
  'valid' => Comet::isValidChannel('a-Z_0.9:@x') && !Comet::isValidChannel('a/b')
      && !Comet::isValidChannel("a\n") && !Comet::isValidChannel(str_repeat('a', 129))
      && Comet::isValidChannel(str_repeat('a', 128)),
];
foreach (['publish' => fn() => Comet::publish(new Redis(), 'bad name', 'x'),
          'durable' => fn() => Comet::publishDurable(new Redis(), 'bad name', 'x')] as $k => $f) {
  try { $f(); $checks[$k] = false; } catch (InvalidArgumentException | LogicException $e) { $checks[$k] = true; }
}
echo json_encode($checks);
)php";
  auto r = run({"php", "-r", script}, dir.path(), std::chrono::seconds(20),
               {std::string("COMET_PHP=") + COMET_SOURCE_DIR + "/clients/php/Comet.php"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  for (auto& [k, v] : j.items()) EXPECT_TRUE(v.get<bool>()) << k << " in " << r.out;
}

TEST(Harness, NginxConfigHasNoUnknownPlaceholders) {
  std::string text = read_file(std::string(COMET_SOURCE_DIR) + "/nginx.conf.example");
  NginxOptions o;
  o.dir = "/tmp/x";
  o.gateway = "unix:/tmp/x/gw.sock";
  o.demo_php = "127.0.0.1:1";
  std::string out = render_template(text, nginx_test_values(o, 8080));
  EXPECT_EQ(out.find('@' + std::string("GATEWAY@")), std::string::npos);
  EXPECT_NE(out.find("server unix:/tmp/x/gw.sock;"), std::string::npos);
  EXPECT_NE(out.find("fastcgi_next_upstream error;"), std::string::npos);
  EXPECT_NE(out.find("fastcgi_keep_conn on;"), std::string::npos);
}

TEST(Harness, NginxServesDemoAndPublishesThroughPhp) {
  TempDir dir;
  RedisServer redis(dir.subdir("redis"));
  PhpDemoServer php(dir.path(), redis.port());
  NginxOptions o;
  o.dir = dir.subdir("nginx");
  o.gateway = "unix:" + dir.file("gw.sock");  // nothing listens: /comet/ gives 502
  o.demo_php = php.address();
  Nginx nginx(o);

  auto root = http_get(nginx.port(), "/");
  EXPECT_EQ(root.status, 302);
  EXPECT_NE(root.header("location").find("/demo/"), std::string::npos);

  auto page = http_get(nginx.port(), "/demo/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("/comet/poll"), std::string::npos);

  auto js = http_get(nginx.port(), "/demo/comet.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_NE(js.header("content-type").find("javascript"), std::string::npos);
  EXPECT_NE(js.body.find("function CometClient("), std::string::npos);

  // PHP sources are never served as files.
  EXPECT_EQ(http_get(nginx.port(), "/demo/other.php").status, 404);

  auto sub = subscribe(redis.port(), "demo.chat");
  const std::string body = R"({"name":"Zo\u00eb","text":"hi \"there\" \ud83d\ude00"})";
  auto sent = http_request(nginx.port(), "POST", "/demo/send.php",
                           {{"Content-Type", "application/json"}}, body);
  EXPECT_EQ(sent.status, 202) << sent.body << php.process().output();
  auto msg = nlohmann::json::parse(next_message(*sub));
  EXPECT_EQ(msg["name"], "Zo\xC3\xAB");
  EXPECT_EQ(msg["text"], "hi \"there\" \xF0\x9F\x98\x80");

  auto bad = http_request(nginx.port(), "POST", "/demo/send.php",
                          {{"Content-Type", "application/json"}}, R"({"name":"","text":"x"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(http_get(nginx.port(), "/demo/send.php").status, 405);

  // The gateway is not running: nginx answers 502 for /comet/, and stats is
  // refused to nobody from loopback (it is allowed there).
  EXPECT_EQ(http_get(nginx.port(), "/comet/poll?channel=a").status, 502);
}

TEST(Harness, FcgiNameValueEncoding) {
  using namespace fcgi;
  EXPECT_EQ(encode_name_value("A", "bc"), std::string("\x01\x02"
                                                      "Abc",
                                                      5));
  std::string long_value(200, 'v');
  std::string enc = encode_name_value("N", long_value);
  EXPECT_EQ(enc.substr(0, 5), std::string("\x01\x80\x00\x00\xc8", 5));
  EXPECT_EQ(enc.size(), 5u + 1u + 200u);
  std::string rec = encode_record(kStdin, 0x0102, "abc");
  EXPECT_EQ(rec, std::string("\x01\x05\x01\x02\x00\x03\x05\x00"
                             "abc\0\0\0\0\0",
                             16));
  // Long streams are split into records of at most 65535 bytes.
  std::string stream = encode_stream(kParams, 1, std::string(70000, 'p'));
  EXPECT_EQ(stream.size(), (8u + 65535u + 1u) + (8u + 4465u + 7u));
}

TEST(Harness, CgiFcgiIsInstalled) {
  TempDir dir;
  // Without arguments cgi-fcgi prints its usage and exits non-zero; what
  // matters is that it exists (exec failure is 127).
  auto r = run({"cgi-fcgi"}, dir.path(), std::chrono::seconds(10));
  EXPECT_NE(r.status, 127) << r.err;
}

}  // namespace
}  // namespace comet::test
